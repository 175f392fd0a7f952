"""Procedural surf breaks every 6-15 s, as real breakers do (docs/procedural.md, "Surf
timing"): the median interval between major surges (peaks of the 1-s smoothed 0.25-s RMS
envelope standing 6 dB out, at least 2 s apart) of 90-s looped beds, over 8 seeds, follows
the recipe's period (13 s at density 0 .. 8 s at density 1, 10.5 s by default)."""

from __future__ import annotations

import numpy as np
import pytest
from procedural_helpers import SR, render
from scipy.signal import find_peaks

FRAME_S = 0.25


def surge_interval_s(x: np.ndarray, prominence_db: float = 6.0) -> float:
    mono = x.mean(axis=0).astype(np.float64)
    hop = int(FRAME_S * SR)
    k = len(mono) // hop
    e = 10 * np.log10(np.mean(mono[: k * hop].reshape(k, hop) ** 2, axis=1) + 1e-18)
    e = np.convolve(e, np.ones(4) / 4, "same")
    peaks, _ = find_peaks(e, prominence=prominence_db, distance=int(2.0 / FRAME_S))
    return float(np.median(np.diff(peaks)) * FRAME_S)


@pytest.mark.parametrize("density, lo_s, hi_s", [(0.5, 8.5, 12.5), (0.0, 10.5, 15.5), (1.0, 6.0, 10.0)])
def test_surf_breaks_every_six_to_fifteen_seconds(density, lo_s, hi_s):
    seeds = range(8) if density == 0.5 else range(3)
    intervals = [surge_interval_s(render("ocean_surf", 90.0, seed=s, loop=True, density=density)) for s in seeds]
    assert all(lo_s <= v <= hi_s for v in intervals), (density, intervals)
