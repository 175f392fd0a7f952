"""Long audio from a model with a short window, by continuation (numpy only).

A model such as MusicGen makes at most ``window`` seconds per call, but it can continue an
audio prompt. A long clip is made window by window: each new window is conditioned on the
last ``overlap`` seconds already made and adds ``stride = window - overlap`` new seconds.
The model's output for a continuation starts with its own re-encoding of the prompt, so the
overlap holds two versions of the same audio; they are cross-faded there (raised cosine,
gains summing to 1, since the two versions are strongly correlated), and the new audio
follows with no seam at all.

Where a tempo is detectable in the audio so far (:func:`detect_tempo`), the cross-fade is
centred on a bar line inside the overlap and lasts one beat, so the change of take falls on
the downbeat rather than mid-phrase; otherwise it covers the last half of the overlap.

- :func:`plan_windows`: window/stride/overlap in model frames for a requested length.
- :func:`continue_windows`: runs the model callbacks and assembles exactly the frames asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

DEFAULT_OVERLAP = 0.4  # share of the window used as the audio prompt (audiocraft: 12 s of 30 s)
MAX_DURATION_S = 3600.0  # one hour: what the studio offers for a track
BEATS_PER_BAR = 4
TEMPO_MIN_S = 4.0  # less audio than this gives no reliable tempo
TEMPO_ANALYSIS_S = 20.0  # the audio before a seam that is analysed
TEMPO_CONFIDENCE = 0.3  # normalised autocorrelation of the onset envelope at the beat lag


@dataclass(frozen=True)
class WindowPlan:
    """Windows in model frames (``frame_rate`` per second): the first window makes
    ``window_frames``; each later one is prompted with ``overlap_frames`` and adds up to
    ``stride_frames``; ``windows`` in total cover ``total_frames``."""

    total_frames: int
    window_frames: int
    overlap_frames: int
    windows: int
    frame_rate: float

    @property
    def stride_frames(self) -> int:
        return self.window_frames - self.overlap_frames

    def describe(self) -> dict:
        """What the stem metadata records (seconds)."""
        fr = self.frame_rate
        return {
            "long_form": "continuation",
            "window_s": round(self.window_frames / fr, 3),
            "stride_s": round(self.stride_frames / fr, 3),
            "overlap_s": round(self.overlap_frames / fr, 3),
            "windows": self.windows,
        }


def plan_windows(duration_s: float, window_s: float, frame_rate: float, *,
                 overlap: float = DEFAULT_OVERLAP) -> WindowPlan:
    """The windows for ``duration_s`` (at most :data:`MAX_DURATION_S`) with a model that makes
    ``window_s`` per call at ``frame_rate`` frames/s; ``overlap`` of each window (0.1..0.9)
    is the prompt taken from the audio before it."""
    from studio.errors import InputError

    if not 0 < duration_s <= MAX_DURATION_S:
        raise InputError(f"duration_s must be in (0, {MAX_DURATION_S:g}] seconds for a continued clip; got {duration_s:g}")
    if not 0.1 <= overlap <= 0.9:
        raise InputError(f"overlap must be within 0.1..0.9 of the window; got {overlap:g}")
    total = int(math.ceil(duration_s * frame_rate))
    window = max(2, int(math.floor(window_s * frame_rate + 1e-9)))
    overlap_frames = min(window - 1, max(1, int(round(window * overlap))))
    stride = window - overlap_frames
    windows = 1 if total <= window else 1 + int(math.ceil((total - window) / stride))
    return WindowPlan(total_frames=total, window_frames=window, overlap_frames=overlap_frames,
                      windows=windows, frame_rate=float(frame_rate))


# ----------------------------------------------------------------------------- tempo


@dataclass(frozen=True)
class Tempo:
    """A beat grid: ``bpm``; ``beat_s``; ``downbeat_s`` (time of one bar line from the start
    of the analysed audio); ``confidence`` (0..1)."""

    bpm: float
    beat_s: float
    downbeat_s: float
    confidence: float

    @property
    def bar_s(self) -> float:
        return self.beat_s * BEATS_PER_BAR


def onset_envelope(mono: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float, float]:
    """Spectral flux of ``mono`` (positive change of log magnitude, summed over bins), with
    its local mean removed: ``(envelope, envelope frames per second, time of envelope frame 0
    in seconds)`` (flux frame ``i`` compares STFT frames ``i`` and ``i + 1``, so it marks an
    onset about one hop plus half a window after frame ``i`` starts)."""
    hop = 256 if sample_rate >= 22050 else 128  # about 8 ms: the beat phase to within a few ms
    n_fft = 4 * hop
    origin_s = (hop + n_fft / 2) / sample_rate
    if mono.size < n_fft * 4:
        return np.zeros(0, dtype=np.float32), sample_rate / hop, origin_s
    frames = np.lib.stride_tricks.sliding_window_view(mono.astype(np.float32), n_fft)[::hop]
    mag = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1))
    logmag = np.log1p(100.0 * mag)
    flux = np.maximum(np.diff(logmag, axis=0), 0.0).sum(axis=1)
    rate = sample_rate / hop
    width = max(1, int(round(0.5 * rate)))
    local_mean = np.convolve(flux, np.ones(width) / width, mode="same")
    return np.maximum(flux - local_mean, 0.0), rate, origin_s


def detect_tempo(mono: np.ndarray, sample_rate: int, *, min_bpm: float = 60.0, max_bpm: float = 180.0) -> Optional[Tempo]:
    """The beat grid of ``mono`` (float ``(frames,)``), or None when it has no clear pulse
    (less than :data:`TEMPO_MIN_S` of audio, or the onset envelope's autocorrelation at the
    best beat lag in ``min_bpm..max_bpm`` is below :data:`TEMPO_CONFIDENCE`).

    The beat lag maximises the autocorrelation weighted by a broad prior centred on 120 BPM
    (one octave standard deviation), which settles the half/double-tempo ambiguity of
    accented music towards the beat a listener taps. The beat phase maximises the onset
    energy on the grid; the downbeat is the beat of four with the most onset energy
    (accented first beats)."""
    if mono.size < TEMPO_MIN_S * sample_rate:
        return None
    env, rate, origin_s = onset_envelope(mono, sample_rate)
    if env.size < 8 or not np.any(env > 0):
        return None
    centred = env - env.mean()
    n = centred.size
    spec = np.fft.rfft(centred, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    if ac[0] <= 0:
        return None
    ac = ac / ac[0]
    lo = max(1, int(math.floor(rate * 60.0 / max_bpm)))
    hi = min(n - 2, int(math.ceil(rate * 60.0 / min_bpm)))
    if hi <= lo:
        return None
    lags = np.arange(lo, hi + 1)
    prior = np.exp(-0.5 * np.log2(rate * 60.0 / lags / 120.0) ** 2)
    lag = int(lags[np.argmax(ac[lo:hi + 1] * prior)])
    confidence = float(ac[lag])
    if confidence < TEMPO_CONFIDENCE:
        return None
    period, phase = _fit_grid(env, float(lag))
    # half-tempo check: onsets halfway between the beats (as strong as a quarter of those on
    # them) mean the pulse is twice as fast
    on, off = _grid_mean(env, period, phase), _grid_mean(env, period, phase + period / 2)
    if period / 2 >= lo and off >= 0.25 * on:
        period, phase = _fit_grid(env, period / 2)
    beats = np.arange(0.0, n, period)
    grid = phase + beats
    grid = grid[np.round(grid) < n]
    downbeat = max(range(BEATS_PER_BAR), key=lambda j: float(env[np.round(grid[j::BEATS_PER_BAR]).astype(int)].sum()))
    beat_s = period / rate
    return Tempo(bpm=60.0 / beat_s, beat_s=beat_s, downbeat_s=float(grid[downbeat]) / rate + origin_s,
                 confidence=confidence)


def _grid_mean(env: np.ndarray, period: float, phase: float) -> float:
    idx = np.round(np.arange(phase, env.size - 0.5, period)).astype(int)
    idx = idx[idx < env.size]
    return float(env[idx].mean()) if idx.size else 0.0


def _fit_grid(env: np.ndarray, period: float) -> tuple[float, float]:
    """The beat period near ``period`` (within one frame, 0.05-frame steps) and phase that
    put the most onset energy on the grid: ``(period, phase)`` in envelope frames. Fitting
    the whole grid pins the tempo far better than the autocorrelation peak's frame."""
    best = (-1.0, period, 0.0)
    for p in np.arange(max(1.0, period - 1.0), period + 1.0001, 0.05):
        phases = np.arange(0.0, p, 0.5)
        idx = np.round(phases[:, None] + np.arange(0.0, env.size - p, p)[None, :]).astype(int)
        scores = env[np.minimum(idx, env.size - 1)].mean(axis=1)
        k = int(np.argmax(scores))
        if scores[k] > best[0]:
            best = (float(scores[k]), float(p), float(phases[k]))
    return best[1], best[2]


# ----------------------------------------------------------------------------- seams


def seam_fade(overlap_start: int, overlap_len: int, sample_rate: int, tempo: Optional[Tempo],
              tempo_origin: int = 0) -> tuple[int, int, bool]:
    """Where to cross-fade inside an overlap of ``overlap_len`` samples starting at sample
    ``overlap_start``: ``(start within the overlap, length, on a bar line)``.

    With a ``tempo`` (its grid counted from sample ``tempo_origin``): one beat long, centred on
    the latest bar line whose fade fits in the overlap (else the latest beat line). Otherwise,
    or when no grid line fits: the last half of the overlap."""
    default = (overlap_len - overlap_len // 2, overlap_len // 2, False)
    if tempo is None or overlap_len < 4:
        return default
    fade = min(int(round(tempo.beat_s * sample_rate)), overlap_len // 2)
    if fade < 2:
        return default
    lo = overlap_start + fade / 2
    hi = overlap_start + overlap_len - fade / 2
    for step_s, on_bar in ((tempo.bar_s, True), (tempo.beat_s, False)):
        step = step_s * sample_rate
        origin = tempo_origin + tempo.downbeat_s * sample_rate
        k = math.floor((hi - origin) / step)
        line = origin + k * step
        if line >= lo:
            start = int(round(line - fade / 2)) - overlap_start
            start = min(max(0, start), overlap_len - fade)
            return start, fade, on_bar
    return default


def crossfade_into(out: np.ndarray, new: np.ndarray, at: int, length: int) -> None:
    """Blend ``new`` (``(..., length)``) into ``out[..., at:at+length]`` in place with a
    raised-cosine fade from ``out`` to ``new`` (the gains sum to 1)."""
    if length <= 0:
        return
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(length, dtype=np.float64) + 0.5) / length)
    ramp = ramp.astype(out.dtype)
    region = out[..., at:at + length]
    out[..., at:at + length] = region * (1 - ramp) + new * ramp


def continue_windows(
    plan: WindowPlan,
    *,
    hop: int,
    sample_rate: int,
    total_samples: int,
    first: Callable[[int], np.ndarray],
    extend: Callable[[np.ndarray, int], np.ndarray],
) -> tuple[np.ndarray, dict]:
    """Assemble ``total_samples`` from windows: ``first(frames)`` makes the first window,
    ``extend(prompt, new_frames)`` continues the audio prompt ``prompt`` (``(batch, channels,
    overlap samples)``) and returns the prompt's re-encoding followed by the new audio.
    Both return ``(batch, channels, samples)`` float arrays at ``hop`` samples per frame.

    Returns ``(audio (batch, channels, total_samples) float32, info)``; ``info`` is
    :meth:`WindowPlan.describe` plus ``seams_s`` (centre of each cross-fade), ``crossfade_s``
    and ``tempo_bpm`` / ``on_bar`` (per seam, for the first take)."""
    head = np.asarray(first(min(plan.window_frames, plan.total_frames)), dtype=np.float32)
    batch, channels = head.shape[:2]
    capacity = max(total_samples, plan.total_frames * hop)
    out = np.zeros((batch, channels, capacity), dtype=np.float32)
    pos = min(head.shape[-1], capacity)
    out[..., :pos] = head[..., :pos]
    made = plan.window_frames
    overlap = plan.overlap_frames * hop
    seams, fades, on_bars, tempos = [], [], [], []
    while made < plan.total_frames:
        new_frames = min(plan.stride_frames, plan.total_frames - made)
        start = pos - overlap
        window = np.asarray(extend(out[..., start:pos].copy(), new_frames), dtype=np.float32)
        want = overlap + new_frames * hop
        if window.shape[-1] < want:
            window = np.pad(window, [(0, 0)] * (window.ndim - 1) + [(0, want - window.shape[-1])])
        for b in range(batch):
            lo = max(0, pos - int(TEMPO_ANALYSIS_S * sample_rate))
            tempo = detect_tempo(out[b, :, lo:pos].mean(axis=0), sample_rate)
            fade_at, fade_len, on_bar = seam_fade(start, overlap, sample_rate, tempo, tempo_origin=lo)
            crossfade_into(out[b, :, start + fade_at:start + fade_at + fade_len],
                           window[b, :, fade_at:fade_at + fade_len], 0, fade_len)
            out[b, :, start + fade_at + fade_len:pos] = window[b, :, fade_at + fade_len:overlap]
            if b == 0:
                seams.append((start + fade_at + fade_len / 2) / sample_rate)
                fades.append(fade_len / sample_rate)
                on_bars.append(on_bar)
                tempos.append(None if tempo is None else round(tempo.bpm, 2))
        end = min(pos + new_frames * hop, capacity)
        out[..., pos:end] = window[..., overlap:overlap + (end - pos)]
        pos = end
        made += new_frames
    info = plan.describe()
    info.update({
        "seams_s": [round(s, 4) for s in seams],
        "crossfade_s": [round(f, 4) for f in fades],
        "on_bar": on_bars,
        "tempo_bpm": tempos,
    })
    return out[..., :total_samples], info
