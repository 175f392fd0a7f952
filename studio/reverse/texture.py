"""Texture statistics for the offline tagger that a recording chain leaves alone.

A microphone, a room and an edit tilt a spectrum, add a noise floor and smear it; they do not move
the *events* of a sound against its own background, its rhythm or how its frequency regions move
together. Each number here is a difference or a ratio within one band or one envelope, so an EQ
tilt and the level cancel out. 23 numbers per window (``TEXTURE_NAMES``):

- ``burst_r*`` / ``floor_r*``: in each of five frequency regions, how far the loud moments stand
  above the typical level (90th − 50th percentile of the region's frame level, dB) and how far the
  quiet moments fall below it (50th − 10th): thunder over rain, clacks over a rumble, cups over
  voices (robust pooling: percentiles, not mean and spread);
- ``contrast_r*``: spectral contrast, the mean over frames of the region's peak minus valley bin
  (top and bottom fifth, dB): tonal or resonant against noisy;
- ``onsets_r*``: onsets per second in each region (the same peak picking as ``onset_rate_hz``,
  on that region's own rise): where in the spectrum the events are (the two lowest regions have
  few FFT bins per band, so they also count some jitter of steady noise: about 1–2 per second);
- ``period_strength`` / ``period_s``: the highest normalised autocorrelation of the broadband level
  contour at lags 0.25–2.5 s and its lag (the shortest lag whose peak is within 20 % of the
  highest: the period, not a multiple of it) (wheels over rail joints, waves, chirps in a pulse);
- ``comodulation``: the mean correlation between the five regions' level contours (one broadband
  source, such as a wave or a gust, moves them together; a mixture of unrelated sources does not).

Used only by the tagger (``window_features(..., texture=True)``), not by the realism bench, so its
figures are unchanged.
"""

from __future__ import annotations

import numpy as np

REGIONS = 5
TEXTURE_NAMES: tuple[str, ...] = tuple(
    [f"burst_r{r}" for r in range(REGIONS)] + [f"floor_r{r}" for r in range(REGIONS)]
    + [f"contrast_r{r}" for r in range(REGIONS)] + [f"onsets_r{r}" for r in range(REGIONS)]
    + ["period_strength", "period_s", "comodulation"]
)
N_TEXTURE = len(TEXTURE_NAMES)
_EPS = 1e-10


def texture_features(power: np.ndarray, mel: np.ndarray, frame_rate: float, duration_s: float) -> np.ndarray:
    """The ``N_TEXTURE`` numbers of one window from its power spectrogram ``(T, F)`` and mel
    energies ``(T, N_MELS)`` (as ``studio.reverse.features.window_features`` computes them)."""
    from studio.reverse.features import _onset_rate

    regions = np.array_split(np.arange(mel.shape[1]), REGIONS)
    level = np.stack([10.0 * np.log10(mel[:, r].sum(axis=1) + _EPS) for r in regions], axis=1)  # (T, R)
    p10, p50, p90 = np.percentile(level, [10, 50, 90], axis=0)
    out = [p90 - p50, p50 - p10]

    bins = np.array_split(np.arange(1, power.shape[1]), REGIONS)
    contrast = []
    for b in bins:
        part = np.sort(10.0 * np.log10(power[:, b] + _EPS), axis=1)
        k = max(1, part.shape[1] // 5)
        contrast.append(float((part[:, -k:].mean(axis=1) - part[:, :k].mean(axis=1)).mean()))
    out.append(np.array(contrast))

    logmel = 10.0 * np.log10(mel + _EPS)
    onsets = []
    for r in regions:
        flux = np.maximum(np.diff(logmel[:, r], axis=0), 0.0).mean(axis=1) if logmel.shape[0] > 1 else np.zeros(1)
        onsets.append(_onset_rate(flux, frame_rate, duration_s))
    out.append(np.array(onsets))

    broad = 10.0 * np.log10(mel.sum(axis=1) + _EPS)
    out.append(np.array(_periodicity(broad, frame_rate)))
    out.append(np.array([_comodulation(level)]))
    vec = np.concatenate([np.asarray(o, np.float64).ravel() for o in out])
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0)


def _periodicity(env: np.ndarray, frame_rate: float) -> tuple[float, float]:
    """``(strength, period_s)``: the highest normalised autocorrelation of ``env`` at lags
    0.25–2.5 s (a local maximum), 0 and 0 s when there is none."""
    # smoothed over ~0.1 s, so an event split across two frames correlates with the next one
    x = np.convolve(env - env.mean(), np.hanning(7)[1:-1] / np.hanning(7)[1:-1].sum(), mode="same")
    lo, hi = int(round(0.25 * frame_rate)), int(round(2.5 * frame_rate))
    if x.size < 2 * hi or float(np.dot(x, x)) < 1e-9:
        hi = min(hi, x.size // 2)
    if hi <= lo + 1 or float(np.dot(x, x)) < 1e-9:
        return 0.0, 0.0
    n = x.size
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:n]
    ac = ac / ac[0] * n / (n - np.arange(n))  # unbiased, 1 at lag 0
    seg = ac[lo:hi + 1]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if peaks.size == 0:
        return 0.0, 0.0
    top = float(seg[peaks].max())
    best = peaks[np.flatnonzero(seg[peaks] >= top - 0.2 * abs(top))[0]]  # the period, not a multiple
    return float(np.clip(seg[best], -1.0, 1.0)), float((lo + best) / frame_rate)


def _comodulation(level: np.ndarray) -> float:
    z = level - level.mean(axis=0)
    sd = z.std(axis=0)
    ok = sd > 1e-6
    if ok.sum() < 2:
        return 0.0
    c = np.corrcoef(z[:, ok].T)
    iu = np.triu_indices(c.shape[0], 1)
    return float(np.mean(c[iu]))
