"""Audio features for the offline tagger and the realism bench (numpy/scipy only).

One feature vector describes one window of audio (default 5 s). Every clip is analysed mono at
``ANALYSIS_RATE`` (22 050 Hz) after RMS normalisation, so the features describe the *sound*,
not its level or the file's sample rate; stereo statistics come from the clip's own channels.

The vector (``FEATURE_NAMES`` gives each column's name, ``N_FEATURES`` long):

- ``mel_mean_*`` / ``mel_std_*``: 40 log-mel bands (40 Hz–10.5 kHz), mean and spread over time
  (dB, mean-removed across bands so only the spectral shape counts);
- ``mod_*``: modulation spectrum, the share of envelope fluctuation in five rate bands
  (0.25–1, 1–2, 2–4, 4–8, 8–16 Hz) for five frequency regions (log share, dB);
- ``centroid``/``bandwidth``/``rolloff``/``flatness``: spectral shape per frame, mean and std
  (frequencies as log2 Hz, flatness in dB);
- ``flux_*`` and ``onset_rate_hz``: spectral flux and onsets per second (peak picking);
- ``energy_*``: the frame-level loudness contour (std, 10–90 % range, skew);
- ``zcr_*``: zero-crossing rate;
- ``stereo_corr`` / ``side_mid_db``: inter-channel correlation and side-to-mid energy.

The offline tagger appends ``studio.reverse.texture``'s 23 statistics (``texture=True``); the
realism bench does not.

About 15–20 ms of CPU per 5 s window after resampling (measured under load).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import numpy as np

from studio.errors import AudioError
from studio.types import AudioClip

ANALYSIS_RATE = 22_050
N_FFT = 1024
HOP = 512
N_MELS = 40
FMIN_HZ, FMAX_HZ = 40.0, 10_500.0
WINDOW_S = 5.0
MOD_BANDS_HZ = ((0.25, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0))
MOD_REGIONS = 5  # mel bands are grouped into this many regions for the modulation spectrum
_EPS = 1e-10


def _names() -> tuple[str, ...]:
    names = [f"mel_mean_{i}" for i in range(N_MELS)] + [f"mel_std_{i}" for i in range(N_MELS)]
    names += [f"mod_r{r}_{lo:g}-{hi:g}hz" for r in range(MOD_REGIONS) for lo, hi in MOD_BANDS_HZ]
    for what in ("centroid", "bandwidth", "rolloff", "flatness"):
        names += [f"{what}_mean", f"{what}_std"]
    names += ["flux_mean", "flux_std", "onset_rate_hz", "energy_std", "energy_range", "energy_skew"]
    names += ["zcr_mean", "zcr_std", "stereo_corr", "side_mid_db"]
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = _names()
N_FEATURES = len(FEATURE_NAMES)
N_TAGGER_FEATURES = N_FEATURES + 23  # + studio.reverse.texture.N_TEXTURE (the offline tagger's vector)


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """Triangular mel filters, float32 ``(N_MELS, N_FFT // 2 + 1)`` (HTK mel scale)."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(FMIN_HZ), mel(FMAX_HZ), N_MELS + 2))
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / ANALYSIS_RATE)
    bank = np.zeros((N_MELS, freqs.size), np.float32)
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        bank[i] = np.maximum(0.0, np.minimum(up, down))
    return bank


def analysis_signal(clip: AudioClip) -> tuple[np.ndarray, np.ndarray]:
    """``(mono at ANALYSIS_RATE, float32 (frames,), RMS 0.1)`` and the clip's stereo pair
    ``(2, frames)`` at its own rate (mono clips give two equal channels)."""
    from studio.evaluation.clap import resample

    if clip.frames == 0:
        raise AudioError("cannot analyse empty audio")
    stereo = clip.to_stereo().samples
    mono = resample(stereo.mean(axis=0), clip.sample_rate, ANALYSIS_RATE)
    rms = float(np.sqrt(np.mean(np.square(mono, dtype=np.float64))))
    if rms > 1e-7:
        mono = mono * np.float32(0.1 / rms)
    return mono.astype(np.float32), stereo


def _frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    if x.size < size:
        x = np.pad(x, (0, size - x.size))
    n = 1 + (x.size - size) // hop
    return np.lib.stride_tricks.as_strided(x, (n, size), (x.strides[0] * hop, x.strides[0]), writeable=False)


def window_features(mono: np.ndarray, stereo: np.ndarray | None = None, *, texture: bool = False) -> np.ndarray:
    """The feature vector (float32 ``(N_FEATURES,)``) of one analysis window; with ``texture``,
    followed by the tagger's ``studio.reverse.texture`` statistics (``N_TAGGER_FEATURES`` long).

    ``mono``: float32 at ``ANALYSIS_RATE`` (any length ≥ one FFT frame; it is padded if
    shorter); ``stereo``: ``(2, frames)`` at any rate for the stereo statistics, or None (then
    they read as mono: correlation 1, side −60 dB)."""
    frames = _frames(mono, N_FFT, HOP) * np.hanning(N_FFT).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (T, F)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / ANALYSIS_RATE)
    mel = power @ mel_filterbank().T  # (T, N_MELS)
    logmel = 10.0 * np.log10(mel + _EPS)
    shape = logmel - logmel.mean(axis=1, keepdims=True)  # level-free spectral shape per frame
    out = [shape.mean(axis=0), logmel.std(axis=0)]

    # modulation spectrum: envelope fluctuation per rate band, per frequency region
    frame_rate = ANALYSIS_RATE / HOP
    regions = np.array_split(np.arange(N_MELS), MOD_REGIONS)
    env = np.stack([10.0 * np.log10(mel[:, r].sum(axis=1) + _EPS) for r in regions], axis=1)  # (T, R)
    env = env - env.mean(axis=0)
    spec = np.abs(np.fft.rfft(env * np.hanning(env.shape[0])[:, None], axis=0)) ** 2
    mfreqs = np.fft.rfftfreq(env.shape[0], 1.0 / frame_rate)
    total = spec[(mfreqs >= MOD_BANDS_HZ[0][0]) & (mfreqs < MOD_BANDS_HZ[-1][1])].sum(axis=0) + _EPS
    mod = np.stack([spec[(mfreqs >= lo) & (mfreqs < hi)].sum(axis=0) / total for lo, hi in MOD_BANDS_HZ], axis=1)
    out.append((10.0 * np.log10(mod + 1e-4)).ravel())  # (R, bands) region-major

    # spectral shape per frame
    p = power + _EPS
    psum = p.sum(axis=1)
    centroid = (p @ freqs) / psum
    bandwidth = np.sqrt(np.maximum((p * (freqs[None, :] - centroid[:, None]) ** 2).sum(axis=1) / psum, 1.0))
    cum = np.cumsum(p, axis=1)
    rolloff = freqs[np.minimum((cum < 0.85 * psum[:, None]).sum(axis=1), freqs.size - 1)]
    flatness = 10.0 * np.log10(np.exp(np.mean(np.log(p), axis=1)) / (psum / p.shape[1]))
    for v in (np.log2(centroid + 1.0), np.log2(bandwidth + 1.0), np.log2(rolloff + 1.0), flatness):
        out.append(np.array([v.mean(), v.std()]))

    # onsets: positive spectral flux (dB), peaks above a local threshold, at least 50 ms apart
    flux = np.maximum(np.diff(logmel, axis=0), 0.0).mean(axis=1) if logmel.shape[0] > 1 else np.zeros(1)
    out.append(np.array([flux.mean(), flux.std(), _onset_rate(flux, frame_rate, mono.size / ANALYSIS_RATE)]))

    energy = 10.0 * np.log10(mel.sum(axis=1) + _EPS)
    e_std = energy.std()
    skew = float(np.mean((energy - energy.mean()) ** 3) / (e_std**3 + 1e-6))
    p10, p90 = np.percentile(energy, [10, 90])
    out.append(np.array([e_std, p90 - p10, np.clip(skew, -10, 10)]))

    zc = _frames(mono, N_FFT, HOP)
    zcr = (np.abs(np.diff(np.signbit(zc), axis=1)).sum(axis=1)) / N_FFT
    out.append(np.array([zcr.mean(), zcr.std()]))
    out.append(_stereo_stats(stereo))
    if texture:
        from studio.reverse.texture import texture_features

        out.append(texture_features(power, mel, frame_rate, mono.size / ANALYSIS_RATE))
    vec = np.concatenate([np.asarray(o, np.float64).ravel() for o in out]).astype(np.float32)
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0)


def _onset_rate(flux: np.ndarray, frame_rate: float, duration_s: float) -> float:
    if flux.size < 3 or duration_s <= 0:
        return 0.0
    k = max(3, int(round(0.25 * frame_rate)))  # local median over ±125 ms
    pad = np.pad(flux, (k, k), mode="edge")
    local = np.median(_frames(pad, 2 * k + 1, 1), axis=1)[: flux.size]
    # an onset stands out from its neighbourhood by at least 2 dB of mean band rise, so the
    # frame-to-frame jitter of steady noise (about 1 dB) is not counted
    thresh = local + max(0.5 * float(flux.std()), 2.0)
    peak = (flux[1:-1] > thresh[1:-1]) & (flux[1:-1] >= flux[:-2]) & (flux[1:-1] > flux[2:])
    idx = np.flatnonzero(peak) + 1
    min_gap = max(1, int(round(0.05 * frame_rate)))
    count, last = 0, -min_gap
    for i in idx:
        if i - last >= min_gap:
            count, last = count + 1, i
    return count / duration_s


def _stereo_stats(stereo: np.ndarray | None) -> np.ndarray:
    if stereo is None or stereo.shape[0] < 2:
        return np.array([1.0, -60.0])
    left, right = stereo[0].astype(np.float64), stereo[1].astype(np.float64)
    denom = np.sqrt(np.sum(left**2) * np.sum(right**2))
    corr = float(np.sum(left * right) / denom) if denom > 0 else 1.0
    mid, side = np.sum((left + right) ** 2), np.sum((left - right) ** 2)
    return np.array([corr, 10.0 * np.log10((side + 1e-12) / (mid + 1e-12)) if mid > 0 else -60.0]).clip(-60, 60)


def window_starts(frames: int, window: int, hop: int) -> list[int]:
    """Start frames of windows of ``window`` frames every ``hop`` frames; a clip shorter than
    one window gives one window at 0 (analysed as it is)."""
    if frames <= window:
        return [0]
    return list(range(0, frames - window + 1, max(1, hop)))


def iter_windows(clip: AudioClip, *, window_s: float = WINDOW_S, hop_s: float | None = None,
                 max_windows: int | None = None, texture: bool = False) -> Iterator[np.ndarray]:
    """Feature vectors of ``window_s``-second windows every ``hop_s`` seconds (default: no
    overlap). ``max_windows`` keeps that many evenly spread windows (long files)."""
    mono, stereo = analysis_signal(clip)
    win = int(round(window_s * ANALYSIS_RATE))
    starts = window_starts(mono.size, win, int(round((hop_s or window_s) * ANALYSIS_RATE)))
    if max_windows is not None and len(starts) > max_windows:
        starts = [starts[i] for i in np.linspace(0, len(starts) - 1, max_windows).round().astype(int)]
    ratio = clip.sample_rate / ANALYSIS_RATE
    for s in starts:
        a, b = int(s * ratio), int((s + win) * ratio)
        yield window_features(mono[s:s + win], stereo[:, a:b], texture=texture)


def clip_features(clip: AudioClip, *, window_s: float = WINDOW_S, hop_s: float | None = None,
                  max_windows: int | None = None, texture: bool = False) -> np.ndarray:
    """All windows' features, float32 ``(n_windows, N_FEATURES)`` (``N_TAGGER_FEATURES`` with ``texture``)."""
    return np.stack(list(iter_windows(clip, window_s=window_s, hop_s=hop_s, max_windows=max_windows,
                                      texture=texture)))


def summary(clip: AudioClip) -> dict[str, float]:
    """Readable whole-clip descriptors for prompts and the sound painting: ``centroid_hz``,
    ``warmth`` (0..1, share of energy below 500 Hz), ``brightness`` (0..1), ``onset_rate_hz``,
    ``energy_std_db``, ``flatness_db``, ``stereo_corr``, ``duration_s``."""
    feats = clip_features(clip, max_windows=24)
    mean = feats.mean(axis=0)
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    mel_shape = mean[: N_MELS]
    weights = 10.0 ** (mel_shape / 10.0)
    low = weights[: _mel_index_below(500.0)].sum() / weights.sum()
    centroid_hz = float(2.0 ** mean[col["centroid_mean"]] - 1.0)
    return {
        "centroid_hz": centroid_hz,
        "warmth": float(np.clip(low, 0.0, 1.0)),
        "brightness": float(np.clip((np.log2(max(centroid_hz, 100.0)) - np.log2(300.0)) / np.log2(6000 / 300), 0, 1)),
        "onset_rate_hz": float(mean[col["onset_rate_hz"]]),
        "energy_std_db": float(mean[col["energy_std"]]),
        "flatness_db": float(mean[col["flatness_mean"]]),
        "stereo_corr": float(mean[col["stereo_corr"]]),
        "duration_s": clip.duration_s,
    }


def _mel_index_below(freq_hz: float) -> int:
    centres = mel_filterbank().argmax(axis=1) * ANALYSIS_RATE / N_FFT
    return max(1, int(np.searchsorted(centres, freq_hz)))
