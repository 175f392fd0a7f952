"""Types re-voiced against the reference field recordings (docs/procedural.md, "Re-voiced
against the recordings"): each claim is measured over 8 seeds of looped beds (as the pipeline
renders them) against the recording's figures, stored here as constants (measured once from
``../shared/reference-sounds/``, which tests do not read).

- stereo: inter-channel correlation of the whole bed near the recording's (a coincident or
  near-spaced pair, 0.66-0.92, not two independent noises at 0.05-0.3), the bass (20-120 Hz)
  at least 0.5 (the mix rule: a mono-compatible low end) and, where the recording's is (wind,
  storm, city), clearly more correlated than the top (2-10 kHz)
- spectrum: octave-band shares (dB of the total, Welch, channel mean) within a tolerance of
  the recording's in the octaves that carry the sound
"""

from __future__ import annotations

import numpy as np
import pytest
from procedural_helpers import SR, render
from scipy import signal

from studio.generation.procedural import stereo

SEEDS = range(8)
SECONDS = 8.0
OCTAVES_HZ = (63, 125, 250, 500, 1000, 2000, 4000, 8000)

# octave shares (dB of the total), 63 Hz .. 8 kHz, of the reference recordings
REFERENCE_OCTAVES_DB = {
    "birds": (-18.4, -16.1, -21.0, -23.4, -21.6, -3.8, -3.3, -12.1),
    "waves": (-22.3, -17.1, -10.4, -6.9, -5.5, -7.4, -8.4, -12.5),
    "wind": (-3.8, -6.2, -5.2, -16.0, -22.8, -28.6, -32.8, -40.3),
    "coffee-shop": (-18.4, -7.0, -3.1, -6.2, -13.9, -20.3, -22.2, -23.4),
    "storm": (-5.0, -5.5, -7.0, -8.1, -13.8, -23.8, -34.7, -46.9),
    "city": (-7.6, -7.0, -4.2, -9.3, -10.7, -14.1, -23.2, -28.5),
}
# inter-channel correlation of the whole recording, and of its 20-120 Hz and 2-10 kHz bands
REFERENCE_CORR = {"birds": 0.663, "waves": 0.685, "wind": 0.916, "coffee-shop": 0.718, "storm": 0.856, "city": 0.899}
REFERENCE_BASS_TOP_CORR = {"birds": (0.36, 0.67), "waves": (0.61, 0.67), "wind": (0.95, 0.44), "coffee-shop": (0.58, 0.68), "storm": (0.92, 0.40), "city": (0.96, 0.61)}

# type -> (recording, octaves checked (Hz), tolerance dB, allowed correlation band)
CASES = {
    "songbirds": ("birds", (63, 125, 250, 500, 1000, 2000, 4000, 8000), 10.0, (0.55, 0.8)),
    "ocean_surf": ("waves", (125, 250, 500, 1000, 2000, 4000, 8000), 6.0, (0.6, 0.8)),
    "lake_lapping": ("waves", (250, 500, 1000, 2000, 4000, 8000), 6.0, (0.6, 0.8)),
    "breeze": ("wind", OCTAVES_HZ, 7.0, (0.75, 0.9)),
    "wind_gusty": ("wind", OCTAVES_HZ, 7.0, (0.7, 0.9)),
    "wind_leaves": ("wind", (63, 125, 250, 500), 7.0, (0.65, 0.9)),
    "cafe_murmur": ("coffee-shop", OCTAVES_HZ, 6.0, (0.65, 0.8)),
    "thunder": ("storm", (63, 125, 250, 500, 1000, 2000, 4000), 8.0, (0.7, 0.9)),
    "city_traffic": ("city", OCTAVES_HZ, 5.0, (0.7, 0.9)),
}


def octave_shares_db(x: np.ndarray) -> np.ndarray:
    f, p = signal.welch(x.mean(axis=0), SR, nperseg=8192)
    total = p[(f >= 44) & (f < 22000)].sum()
    return np.array([10 * np.log10(p[(f >= c / np.sqrt(2)) & (f < c * np.sqrt(2))].sum() / total + 1e-12) for c in OCTAVES_HZ])


def corr(x: np.ndarray) -> float:
    a, b = x.astype(np.float64)
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


def band_corr(x: np.ndarray, lo: float, hi: float) -> float:
    return corr(signal.sosfilt(signal.butter(4, [lo, hi], "bandpass", fs=SR, output="sos"), x.astype(np.float64), axis=-1))


LONGER = {"thunder": 20.0}  # 1.5 rolls a minute: an 8 s bed is mostly the air between rolls


def beds(name: str) -> list[np.ndarray]:
    return [render(name, LONGER.get(name, SECONDS), seed=s, loop=True) for s in SEEDS]


@pytest.mark.parametrize("name", sorted(CASES))
def test_stereo_image_is_a_recording_pair_with_a_mono_bass(name):
    rec, _, _, (lo, hi) = CASES[name]
    xs = beds(name)
    c = np.array([corr(x) for x in xs])
    assert lo <= c.mean() <= hi, f"{name}: correlation {c.mean():.2f} (seeds {c.min():.2f}..{c.max():.2f}), {rec} recording {REFERENCE_CORR[rec]}"
    assert c.max() < 0.9, f"{name}: a seed at {c.max():.2f} is nearly a duplicated mono bed"
    bass = np.array([band_corr(x, 20, 120) for x in xs])
    top = np.array([band_corr(x, 2000, 10000) for x in xs])
    assert bass.min() >= 0.5, f"{name}: 20-120 Hz correlation {bass.min():.2f} < 0.5 (mix rule)"
    ref_bass, ref_top = REFERENCE_BASS_TOP_CORR[rec]
    if ref_bass - ref_top > 0.2:  # wind, storm, city: long low wavelengths reach both mics alike
        assert bass.mean() > top.mean() + 0.1, f"{name}: bass {bass.mean():.2f} vs top {top.mean():.2f}; {rec} {ref_bass} vs {ref_top}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_octave_balance_is_near_the_recording(name):
    rec, octaves, tol, _ = CASES[name]
    shares = np.mean([octave_shares_db(x) for x in beds(name)], axis=0)
    ref = np.array(REFERENCE_OCTAVES_DB[rec])
    for k, c in enumerate(OCTAVES_HZ):
        if c in octaves:
            assert abs(shares[k] - ref[k]) <= tol, f"{name}: {c} Hz octave {shares[k]:.1f} dB vs {rec} {ref[k]:.1f} dB (±{tol})"


def test_side_gain_hits_the_asked_correlation():
    """The mid/side narrowing's gain formula, on independent noises of unequal mid/side mix."""
    rng = np.random.default_rng(0)
    for shared in (0.0, 0.3, 0.6):
        common = rng.standard_normal(200_000)
        x = np.stack([np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.standard_normal(200_000) for _ in range(2)])
        mid, side = 0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])
        for target in (0.5, 0.75, 0.88):
            g = stereo.side_gain(float(np.mean(mid**2)), float(np.mean(side**2)), target)
            y = np.stack([mid + g * side, mid - g * side])
            assert abs(corr(y) - max(target, corr(x))) < 0.02


def test_image_leaves_unlisted_types_alone():
    x = np.random.default_rng(1).standard_normal((2, 48_000)).astype(np.float32)
    assert stereo.image(x, "white_noise", SR) is x
