"""Roof rain against the rain field recording (docs/procedural.md, "Roof rain against the rain
recording"), over 8 seeds of looped beds as the pipeline renders them.

The recording (``../shared/reference-sounds/rain.ogg``, which tests do not read: its figures
are constants here) is nearly flat in octave shares from 63 Hz to 16 kHz, with the 8 kHz octave
the loudest, and its long-term spectrum is smooth (spectral flatness 0.79 over 0.5-10 kHz).
The panel-only roof drops of the old recipe left 8 kHz 9 dB short, bumped 1-4 kHz and had a
flatness of 0.31.
"""

from __future__ import annotations

import numpy as np
import pytest
from procedural_helpers import SR, render
from scipy import signal

SEEDS = range(8)
SECONDS = 12.0
OCTAVES_HZ = (250, 500, 1000, 2000, 4000, 8000)
# octave shares (dB of the 44 Hz-22 kHz total; Welch, channel mean) of rain.ogg
RAIN_OCTAVES_DB = (-11.8, -10.1, -8.4, -9.2, -9.9, -6.7)
RAIN_FLATNESS = 0.79


def octave_shares_db(x: np.ndarray) -> np.ndarray:
    f, p = signal.welch(x.mean(axis=0), SR, nperseg=8192)
    total = p[(f >= 44) & (f < 22000)].sum()
    return np.array([10 * np.log10(p[(f >= c / np.sqrt(2)) & (f < c * np.sqrt(2))].sum() / total) for c in OCTAVES_HZ])


def flatness(x: np.ndarray, lo_hz: float = 500.0, hi_hz: float = 10000.0) -> float:
    """Geometric over arithmetic mean of the Welch spectrum: 1 for white noise, near 0 for lines."""
    f, p = signal.welch(x.mean(axis=0), SR, nperseg=8192)
    s = p[(f >= lo_hz) & (f <= hi_hz)]
    return float(np.exp(np.mean(np.log(s))) / np.mean(s))


@pytest.fixture(scope="module")
def roof_beds() -> list[np.ndarray]:
    return [render("rain_on_roof", SECONDS, seed=s, loop=True) for s in SEEDS]


def test_roof_rain_octave_shares_match_the_rain_recording(roof_beds):
    shares = np.array([octave_shares_db(x) for x in roof_beds])
    ref = np.array(RAIN_OCTAVES_DB)
    mean_err = shares.mean(axis=0) - ref
    assert np.abs(mean_err).max() <= 3.0, dict(zip(OCTAVES_HZ, mean_err.round(1)))
    worst = np.abs(shares - ref).max(axis=0)  # no single seed strays far either
    assert worst.max() <= 4.5, dict(zip(OCTAVES_HZ, worst.round(1)))
    # the top the old recipe lacked (8 kHz ~10 dB under its loudest octave; the recording's 8 kHz
    # octave is its loudest): at every seed within 2 dB of the loudest octave below it
    assert (shares[:, -1] >= shares[:, :-1].max(axis=1) - 2.0).all(), shares.round(1)


def test_roof_rain_is_a_smooth_broadband_spectrum(roof_beds):
    """No tonal ring: flatness near the recording's at every seed (the old recipe: 0.31)."""
    values = [flatness(x) for x in roof_beds]
    assert min(values) >= 0.55, np.round(values, 3)
    assert abs(np.mean(values) - RAIN_FLATNESS) <= 0.15, np.round(values, 3)


def test_the_flatness_measure_sees_a_ring():
    rng = np.random.default_rng(0)
    t = np.arange(4 * SR) / SR
    noise = rng.standard_normal((2, t.size))
    assert flatness(noise) > 0.9
    # a decaying 2.2 kHz mode struck 40 times a second on top of the noise
    ring = np.sin(2 * np.pi * 2200 * t) * np.exp(-(t % 0.025) / 0.008)
    assert flatness(noise + 4 * ring) < 0.6


def test_roof_rain_brightness_still_moves_the_panel(roof_beds):
    """Shingle -> tin: brightness 0 keeps the top well under brightness 1 (the character)."""
    dark = np.mean([octave_shares_db(render("rain_on_roof", SECONDS, seed=s, loop=True, brightness=0.0)) for s in range(3)], axis=0)
    bright = np.mean([octave_shares_db(render("rain_on_roof", SECONDS, seed=s, loop=True, brightness=1.0)) for s in range(3)], axis=0)
    assert bright[-2:].mean() > dark[-2:].mean() + 6.0


def dense_peak_over_loudness_db(x: np.ndarray, percentile: float = 99.9) -> float:
    """The level the 0.1 % loudest samples (4x oversampled) reach above the integrated
    loudness (BS.1770, pyloudnorm), in dB: how much a true-peak limiter must work on the many
    drops, not on one rare peak."""
    import pyloudnorm

    lufs = pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64))
    up = np.abs(signal.resample_poly(x, 4, 1, axis=1)).max(axis=0)
    return float(20 * np.log10(np.percentile(up, percentile)) - lufs)


def test_gentle_roof_rain_leaves_the_master_room_to_reach_a_platform_target():
    """Every drop's splash lasts 2-6 ms, as a drop's spray does. With sub-millisecond clicks
    (first version of 2026-12-03) every drop of gentle roof rain (intensity 0.3) peaked so far
    over its loudness that a -14 LUFS / -1 dBTP master (12.9 dB of room) saturated its
    limiter at -14.8 LUFS with 11 dB of reduction; those clicks gave 13.1-13.4 dB here, the
    2-6 ms splashes 11.7-12.0 dB over the same 8 seeds, with the same octave shares."""
    values = [dense_peak_over_loudness_db(render("rain_on_roof", SECONDS, seed=s, loop=True, intensity=0.3))
              for s in SEEDS]
    assert max(values) <= 12.5, np.round(values, 1)
