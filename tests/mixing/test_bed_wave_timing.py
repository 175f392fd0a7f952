"""Surf timing through the bed arranger (docs/mixing.md, "Surf timing").

A 10-minute beach track surged every 2-3 s. The arranger (random segment order, 8-25 s
segments, 1-3 s crossfades) is not what makes it: arranged beds keep the timing of their
take, whether the take's waves come every ~9 s (a synthetic take) or every 2-3 s (the pack's
waves recording, whose own envelope has that period). The wave period is measured as the
dominant period (highest autocorrelation peak, 2-20 s) of the 0.25-s RMS envelope (dB), and
as the median interval between major surges (peaks of the 1-s smoothed envelope standing
6 dB out of their surroundings, at least 2 s apart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import find_peaks, resample_poly

from studio.mixing.beds import NO_REPEAT_S, BedArrangement

SR = 48_000
FRAME_S = 0.25
SEEDS = range(8)
PACK = Path(__file__).resolve().parents[2] / "studio" / "sounds" / "pack"


def envelope_db(x: np.ndarray) -> np.ndarray:
    mono = x.mean(axis=0).astype(np.float64)
    hop = int(FRAME_S * SR)
    k = len(mono) // hop
    return 10 * np.log10(np.mean(mono[: k * hop].reshape(k, hop) ** 2, axis=1) + 1e-18)


def dominant_period_s(x: np.ndarray, lo_s: float = 2.0, hi_s: float = 20.0) -> float:
    e = envelope_db(x)
    e = e - e.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1 :]
    peaks, _ = find_peaks(ac[: int(hi_s / FRAME_S) + 2])
    peaks = peaks[(peaks * FRAME_S >= lo_s) & (peaks * FRAME_S <= hi_s)]
    return float(peaks[np.argmax(ac[peaks])] * FRAME_S)


def surge_interval_s(x: np.ndarray, prominence_db: float = 6.0) -> float:
    k = int(1.0 / FRAME_S)
    e = np.convolve(envelope_db(x), np.ones(k) / k, "same")
    peaks, _ = find_peaks(e, prominence=prominence_db, distance=int(2.0 / FRAME_S))
    return float(np.median(np.diff(peaks)) * FRAME_S)


def waves_take(seconds: float = 120.0, seed: int = 0) -> np.ndarray:
    """Noise under waves every 7-11 s: a 1.5 s rise and a 2.5 s decay each."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    env = np.full(t.size, 0.1)
    start = 1.0
    while start < seconds:
        u = t - start
        env += np.where(u < 0, 0.0, np.where(u < 1.5, (u / 1.5) ** 2, np.exp(-(u - 1.5) / 2.5)))
        start += rng.uniform(7.0, 11.0)
    return (rng.standard_normal((2, t.size)) * env).astype(np.float32)


def test_the_measures_read_a_known_wave_period():
    take = waves_take()
    assert 9.0 <= dominant_period_s(take) <= 10.5
    assert 8.5 <= surge_interval_s(take) <= 10.5


@pytest.mark.parametrize("seed", SEEDS)
def test_arranged_bed_keeps_slow_waves_slow(seed):
    """A 5-minute bed from a 2-minute take of ~9 s waves: same period, no extra surges at the
    seams, and still no stretch of the take back within 60 s."""
    take = waves_take()
    bed = BedArrangement([take], 300 * SR, seed, SR)
    y = bed.render(0, 300 * SR)
    assert abs(dominant_period_s(y) - dominant_period_s(take)) <= 1.0
    assert abs(surge_interval_s(y) - surge_interval_s(take)) <= 1.0
    assert bed.min_repeat_gap_s is None or bed.min_repeat_gap_s >= NO_REPEAT_S


def test_the_waves_recording_surges_every_two_to_three_seconds_and_its_beds_too():
    """The fast surges of the beach track are the recording's own (its swash), not the
    arrangement's: the recording and 8 arranged 5-minute beds all have a 2-3 s period and
    major surges every 4-5.5 s."""
    import soundfile as sf

    x, sr = sf.read(PACK / "waves.ogg", always_2d=True, dtype="float32")
    take = resample_poly(x.T, SR // 300, sr // 300, axis=1).astype(np.float32)  # 44.1 -> 48 kHz
    assert 2.0 <= dominant_period_s(take) <= 3.0
    assert 4.0 <= surge_interval_s(take) <= 5.5
    for seed in SEEDS:
        bed = BedArrangement([take], 300 * SR, seed, SR)
        y = bed.render(0, 300 * SR)
        assert abs(dominant_period_s(y) - dominant_period_s(take)) <= 0.5, seed
        assert abs(surge_interval_s(y) - surge_interval_s(take)) <= 1.0, seed
        assert bed.min_repeat_gap_s >= NO_REPEAT_S, seed
