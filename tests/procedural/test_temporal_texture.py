"""Level movement against the recordings (docs/procedural.md, "Slaps, road flutter and far
traffic"), over 8 seeds of 12-s looped beds; the recordings' figures are constants here.

- lake_lapping: water slapping the stones and a hull, 6 dB jumps of the 1-8 kHz level
  (10-ms frames, over a 0.5-s running median, >= 50 ms apart) at ~2.4 a second as in the boat
  recording (the smooth laps alone: 0.6);
- city_traffic: the road under the tyres makes the 1-4 kHz level move at 1-4 Hz and 4-16 Hz
  (shares of its 0.25-50 Hz modulation power: recording 0.23 and 0.24; the smooth pass-bys
  alone 0.01 and 0.03), while the far traffic keeps the level steady overall (10-ms level std
  2.6 dB in the recording) and few sharp onsets (0.2 a second);
- songbirds: the canopy (leaves, far birds) keeps the 5-10 kHz level within ~6 dB between
  songs, as in the birds recording.
"""

from __future__ import annotations

import numpy as np
import pytest
from procedural_helpers import SR, render
from scipy import signal
from scipy.ndimage import median_filter

SEEDS = range(8)
SECONDS = 12.0


def band_level_db(x: np.ndarray, lo: float, hi: float, frame_s: float = 0.01) -> np.ndarray:
    y = signal.sosfilt(signal.butter(4, [lo, hi], "bandpass", fs=SR, output="sos"), x.mean(axis=0).astype(np.float64))
    hop = int(frame_s * SR)
    k = len(y) // hop
    return 10 * np.log10(np.mean(y[: k * hop].reshape(k, hop) ** 2, axis=1) + 1e-14)


def onsets_per_s(x: np.ndarray, frame_s: float = 0.01) -> float:
    e = band_level_db(x, 1000, 8000, frame_s)
    above = e > median_filter(e, size=int(0.5 / frame_s), mode="nearest") + 6.0
    starts = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    kept = [s for i, s in enumerate(starts) if i == 0 or s - starts[i - 1] >= int(0.05 / frame_s)]
    return len(kept) / (len(e) * frame_s)


def modulation_share(x: np.ndarray, lo_hz: float, hi_hz: float, frame_s: float = 0.01) -> float:
    e = band_level_db(x, 1000, 4000, frame_s)
    e = e - e.mean()
    f = np.fft.rfftfreq(len(e), frame_s)
    p = np.abs(np.fft.rfft(e * np.hanning(len(e)))) ** 2
    return float(p[(f >= lo_hz) & (f < hi_hz)].sum() / p[(f >= 0.25) & (f < 50)].sum())


def test_the_onset_measure_counts_clicks_not_noise():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2, 10 * SR)).astype(np.float32)
    assert onsets_per_s(noise) < 0.2
    clicks = noise.copy()
    for t in np.arange(0.25, 10, 0.5):  # two a second, 20 dB over the noise
        i = int(t * SR)
        clicks[:, i : i + 480] += 10 * rng.standard_normal(480)
    assert 1.7 <= onsets_per_s(clicks) <= 2.3


@pytest.fixture(scope="module")
def lapping():
    return [render("lake_lapping", SECONDS, seed=s, loop=True) for s in SEEDS]


@pytest.fixture(scope="module")
def traffic():
    return [render("city_traffic", SECONDS, seed=s, loop=True) for s in SEEDS]


def test_lake_water_slaps_as_often_as_the_boat_recording(lapping):
    rates = np.array([onsets_per_s(x) for x in lapping])
    assert 1.6 <= rates.mean() <= 3.2, rates.round(2)
    assert rates.min() >= 1.0, rates.round(2)


def test_city_traffic_level_moves_at_road_rates_but_stays_steady_overall(traffic):
    slow = np.array([modulation_share(x, 1.0, 4.0) for x in traffic])
    fast = np.array([modulation_share(x, 4.0, 16.0) for x in traffic])
    assert 0.12 <= slow.mean() <= 0.4, slow.round(3)
    assert 0.12 <= fast.mean() <= 0.4, fast.round(3)
    level_std = np.array([band_level_db(x, 20, 20000).std() for x in traffic])
    assert 1.8 <= level_std.mean() <= 3.6, level_std.round(2)
    assert np.mean([onsets_per_s(x) for x in traffic]) <= 0.8


def test_songbirds_canopy_keeps_the_top_alive_between_songs():
    """The birds recording's 5-10 kHz level (23-ms frames) moves 5.8 dB (std): leaves and far
    birds fill the gaps between songs, where the songs over silence alone swung 16-21 dB."""
    swings = []
    for s in SEEDS:
        x = render("songbirds", SECONDS, seed=s, loop=True)
        swings.append(band_level_db(x, 5000, 10000, frame_s=0.023).std())
    assert np.mean(swings) <= 9.0 and max(swings) <= 12.0, np.round(swings, 1)
