"""Audio features measure what their names say, on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from studio.reverse.classifier import SoftmaxClassifier
from studio.reverse.features import FEATURE_NAMES, N_FEATURES, clip_features, summary
from studio.types import AudioClip

SR = 48_000
COL = {n: i for i, n in enumerate(FEATURE_NAMES)}


def _noise(seconds=5.0, seed=0, sr=SR):
    return np.random.default_rng(seed).standard_normal(int(seconds * sr)).astype(np.float32) * 0.1


def _feat(x, sr=SR):
    f = clip_features(AudioClip(x, sr))
    assert f.shape == (1, N_FEATURES) and np.isfinite(f).all()
    return f[0]


@pytest.mark.parametrize("rate_hz", [2.0, 4.0, 8.0])
@pytest.mark.parametrize("seed", range(4))
def test_onset_rate_counts_clicks(rate_hz, seed):
    x = _noise(seed=seed) * 0.01
    period = int(SR / rate_hz)
    offset = np.random.default_rng(seed).integers(0, period)
    for s in range(offset, x.size - 2000, period):
        x[s:s + 400] += np.random.default_rng(s).standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 80)
    measured = _feat(x)[COL["onset_rate_hz"]]
    assert abs(measured - rate_hz) <= 0.25 * rate_hz + 0.2, measured


def test_centroid_follows_a_tone():
    t = np.arange(5 * SR) / SR
    for freq in (300.0, 1000.0, 4000.0):
        centroid = 2.0 ** _feat(np.sin(2 * np.pi * freq * t).astype(np.float32))[COL["centroid_mean"]] - 1
        assert abs(np.log2(centroid / freq)) < 0.15, (freq, centroid)


def test_features_ignore_level_and_sample_rate():
    x = _noise(seed=3)
    a = _feat(x)
    assert np.allclose(a, _feat(x * 0.01), atol=1e-3)
    from scipy.signal import resample_poly

    b = _feat(resample_poly(x, 441, 480).astype(np.float32), 44_100)
    spectral = [COL[f"mel_mean_{i}"] for i in range(40)]
    assert np.max(np.abs(a[spectral] - b[spectral])) < 1.0  # dB


def test_modulation_spectrum_finds_the_tremolo_rate():
    t = np.arange(5 * SR) / SR
    slow = _noise() * (1 + 0.9 * np.sin(2 * np.pi * 0.6 * t)).astype(np.float32)
    fast = _noise() * (1 + 0.9 * np.sin(2 * np.pi * 6.0 * t)).astype(np.float32)
    fs, ff = _feat(slow), _feat(fast)
    for r in range(5):
        assert fs[COL[f"mod_r{r}_0.25-1hz"]] > ff[COL[f"mod_r{r}_0.25-1hz"]] + 6
        assert ff[COL[f"mod_r{r}_4-8hz"]] > fs[COL[f"mod_r{r}_4-8hz"]] + 6


def test_flatness_and_stereo_stats():
    t = np.arange(5 * SR) / SR
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    assert _feat(_noise())[COL["flatness_mean"]] > _feat(tone)[COL["flatness_mean"]] + 20
    mono = _feat(np.stack([tone, tone]))
    anti = _feat(np.stack([tone, -tone]))
    wide = _feat(np.stack([_noise(seed=1), _noise(seed=2)]))
    assert mono[COL["stereo_corr"]] == pytest.approx(1.0, abs=1e-4)
    assert anti[COL["stereo_corr"]] == pytest.approx(-1.0, abs=1e-4)
    assert abs(wide[COL["stereo_corr"]]) < 0.05
    assert mono[COL["side_mid_db"]] < -50 and abs(wide[COL["side_mid_db"]]) < 1


def test_windows_and_summary():
    clip = AudioClip(np.stack([_noise(12.0), _noise(12.0, 1)]), SR)
    assert clip_features(clip).shape == (2, N_FEATURES)
    assert clip_features(clip, hop_s=1.0).shape == (8, N_FEATURES)
    short = clip_features(AudioClip(_noise(1.0), SR))
    assert short.shape == (1, N_FEATURES)
    low = np.cumsum(_noise(10.0)).astype(np.float32)  # brown: warm
    s_low, s_white = summary(AudioClip(low, SR)), summary(AudioClip(_noise(10.0), SR))
    assert s_low["warmth"] > 0.5 > s_white["warmth"]
    assert s_low["centroid_hz"] < s_white["centroid_hz"] and s_low["brightness"] < s_white["brightness"]


def test_softmax_classifier_learns_separable_classes_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 6)) * 3
    y = np.repeat(np.arange(3), 40)
    X = centres[y] + rng.standard_normal((120, 6))
    model = SoftmaxClassifier.fit(X, y, ["a", "b", "c"])
    p = model.predict_proba(X)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p.argmax(axis=1) == y).mean() > 0.95
    model.save(tmp_path / "m.npz")
    again = SoftmaxClassifier.load(tmp_path / "m.npz")
    assert again.classes == ("a", "b", "c")
    assert np.allclose(again.predict_proba(X), p, atol=1e-5)
    # soft targets: a row split between two classes learns to sit between them
    soft = np.eye(3)[y]
    soft[:40] = [0.5, 0.5, 0.0]
    p_soft = SoftmaxClassifier.fit(X, soft, ["a", "b", "c"], l2=1e-3).predict_proba(X[:40]).mean(axis=0)
    assert p_soft[0] > 0.25 and p_soft[1] > 0.25 and p_soft[2] < 0.1
