"""Helpers for the procedural engine tests: one backend per process and a render cache, so
each (type, duration, seed, params) is synthesised once however many tests look at it."""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import ProceduralBackend

SR = 48_000
BACKEND = ProceduralBackend()
_CACHE: dict = {}


def render(type_name: str, seconds: float = 6.0, seed: int = 0, **params) -> np.ndarray:
    """float32 (2, frames) for one type, cached per argument set (treat as read-only)."""
    key = (type_name, seconds, seed, tuple(sorted(params.items())))
    if key not in _CACHE:
        clip = BACKEND.generate(type_name, duration_s=seconds, seed=seed, type=type_name, **params)
        clip.samples.setflags(write=False)
        _CACHE[key] = clip.samples
    return _CACHE[key]


def band_energy(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    spec = np.abs(np.fft.rfft(x.mean(axis=0) if x.ndim == 2 else x)) ** 2
    f = np.fft.rfftfreq(x.shape[-1], 1 / sr)
    return float(spec[(f >= lo) & (f < hi)].sum())


def envelope(x: np.ndarray, frame_s: float, sr: int = SR) -> np.ndarray:
    """RMS per frame of the channel sum."""
    mono = x.mean(axis=0) if x.ndim == 2 else x
    hop = int(frame_s * sr)
    k = len(mono) // hop
    return np.sqrt(np.mean(mono[: k * hop].reshape(k, hop).astype(np.float64) ** 2, axis=1))


def count_onsets(env: np.ndarray, frame_s: float, threshold: float, min_gap_s: float) -> int:
    """Events in a frame envelope: peaks above ``threshold`` (relative to the maximum) at
    least ``min_gap_s`` apart, after smoothing over ~50 ms so one event's inner ripples (a
    step's heel and toe, a thunder roll's sub-peaks) do not count twice."""
    from scipy.signal import find_peaks

    k = max(1, int(round(0.05 / frame_s)))
    smooth = np.convolve(env, np.ones(k) / k, mode="same") if k > 1 else env
    level = smooth / (smooth.max() + 1e-12)
    peaks, _ = find_peaks(level, height=threshold, distance=max(1, int(round(min_gap_s / frame_s))))
    return len(peaks)
