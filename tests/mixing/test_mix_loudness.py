"""The vectorised BS.1770 meter against pyloudnorm, and the 4x true-peak meter."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from studio.mixing.loudness import LoudnessMeter, integrated_lufs, measure, true_peak_dbtp


@pytest.mark.parametrize("seconds, channels, quiet_part", [(3.3, 2, False), (12.0, 2, True), (7.77, 1, True)])
def test_meter_matches_pyloudnorm(rng, seconds, channels, quiet_part):
    n = int(seconds * 48_000)
    x = (rng.standard_normal((channels, n)) * 0.1).astype(np.float32)
    x[:, : n // 2] *= np.linspace(0.01, 1.0, n // 2, dtype=np.float32)
    if quiet_part:
        x[:, n // 3 : n // 2] *= 0.003  # below the relative gate
    ours = integrated_lufs(x, 48_000)
    ref = pyloudnorm.Meter(48_000).integrated_loudness(x.T.astype(np.float64) if channels > 1 else x[0].astype(np.float64))
    assert abs(ours - ref) <= 0.05


def test_meter_is_chunk_invariant(rng):
    x = (rng.standard_normal((2, 48_000 * 5 + 17)) * 0.2).astype(np.float32)
    whole = measure(x, 48_000).integrated_lufs
    meter = LoudnessMeter(48_000)
    for start in range(0, x.shape[1], 12_345):
        meter.feed(x[:, start : start + 12_345])
    assert meter.result().integrated_lufs == pytest.approx(whole, abs=1e-9)


def test_silence_is_minus_infinity():
    assert integrated_lufs(np.zeros((2, 48_000), np.float32), 48_000) == float("-inf")


def test_mono_sum_drop_of_anti_phase_is_huge_and_of_mono_is_negative(rng):
    s = (rng.standard_normal(48_000 * 3) * 0.1).astype(np.float32)
    anti = measure(np.stack([s, -s]), 48_000)
    same = measure(np.stack([s, s]), 48_000)
    assert anti.mono_loudness_drop_db == float("inf")
    # L+R of identical channels is 6 dB hotter in one channel vs 2 x 0 dB in stereo: -3 dB "drop".
    assert same.mono_loudness_drop_db == pytest.approx(-10 * np.log10(2), abs=1e-6)


def test_true_peak_finds_intersample_overs_like_a_4x_resampler():
    t = np.arange(48_000) / 48_000
    # fs/4 sine at 45 degrees: every sample is at 0.707 of the true peak (+3 dB over).
    x = (0.5 * np.sin(2 * np.pi * 12_000 * t + np.pi / 4)).astype(np.float32)[None]
    sample_peak = 20 * np.log10(np.abs(x).max())
    tp = true_peak_dbtp(x)
    ref = 20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=-1)).max())
    assert tp - sample_peak > 2.5
    assert abs(tp - ref) < 1e-3


def test_true_peak_of_noise_close_to_resampler(rng):
    x = (rng.standard_normal((2, 48_000)) * 0.2).astype(np.float32)
    ref = 20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=-1)).max())
    assert abs(true_peak_dbtp(x) - ref) < 1e-3
