"""The offline tagger's training helpers: augmentation and the nested choice of settings."""

from __future__ import annotations

import io

import numpy as np
import pytest

from studio.reverse.features import ANALYSIS_RATE

SR = ANALYSIS_RATE


def _noise(seed: int = 0, seconds: float = 5.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1).astype(np.float32)


def _centroid_hz(x: np.ndarray) -> float:
    p = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return float((p * f).sum() / p.sum())


@pytest.mark.parametrize("kind", ["chain", "room"])
def test_augmented_copy_is_seeded_same_length_and_level(kind):
    from studio.reverse.augment import augment, window_seed

    x = _noise()
    a = augment(x, kind, window_seed("rain", 0, 3, kind))
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, augment(x, kind, window_seed("rain", 0, 3, kind)))
    assert not np.array_equal(a, augment(x, kind, window_seed("rain", 0, 4, kind)))
    assert np.sqrt(np.mean(a.astype(np.float64) ** 2)) == pytest.approx(np.sqrt(np.mean(x.astype(np.float64) ** 2)), rel=1e-3)
    assert not np.allclose(a, x)


def test_window_seed_is_stable_across_processes():
    from studio.reverse.augment import window_seed

    # a CRC, not Python's per-process string hash: this value never changes
    assert window_seed("rain", 0, 3, "chain") == window_seed("rain", 0, 3, "chain") == 360_078_058


def test_chain_tilt_moves_the_centroid_both_ways_and_room_changes_pitch():
    from studio.reverse.augment import augment

    x = _noise(1)
    centroids = [_centroid_hz(augment(x, "chain", s)) for s in range(12)]
    assert min(centroids) < _centroid_hz(x) * 0.9 < _centroid_hz(x) * 1.1 < max(centroids)
    tone = (0.1 * np.sin(2 * np.pi * 1000 * np.arange(5 * SR) / SR)).astype(np.float32)
    peaks = set()
    for s in range(6):
        y = augment(tone, "room", s)
        peaks.add(round(np.argmax(np.abs(np.fft.rfft(y))) * SR / y.size / 10))
    assert len(peaks) >= 3 and all(85 <= p <= 115 for p in peaks)  # 900-1100 Hz: pitch moved by the speed change


def test_unknown_augmentation_is_refused():
    from studio.reverse.augment import augment

    with pytest.raises(ValueError, match="unknown augmentation"):
        augment(_noise(), "tape", 0)


def test_augmented_windows_keep_the_plain_windows_and_add_one_copy_per_kind():
    from studio.reverse.augment import KINDS
    from studio.reverse.dataset import augmented_windows
    from studio.reverse.features import clip_features
    from studio.types import AudioClip

    rng = np.random.default_rng(2)
    clip = AudioClip((rng.standard_normal((2, 48_000 * 12)) * 0.1).astype(np.float32), 48_000)
    plain = clip_features(clip, hop_s=2.5)
    w = augmented_windows(clip, "x", "real", hop_s=2.5, key="k", augment=True)
    assert len(w.X) == len(plain) * (1 + len(KINDS))
    np.testing.assert_allclose(w.X[w.copy == 0], plain, rtol=1e-5, atol=1e-5)
    assert sorted(set(w.copy.tolist())) == list(range(1 + len(KINDS)))
    assert set(w.source) == {"x"} and set(w.origin) == {"real"}


def test_choose_counts_hits_then_mean_rank_then_order():
    from studio.reverse.nested import choose

    assert choose([[4, 4, 1], [1, 2, 30]]) == 1  # more top-3 hits wins
    assert choose([[1, 5, 9], [2, 3, 4]]) == 1  # same hits: lower mean rank
    assert choose([[1, 5], [5, 1]]) == 0  # full tie: the earlier (simpler) variant


def _toy(seed: int, shift_f: float = 0.0):
    """Three 'real' files and four procedural classes in a 5-D feature space."""
    from studio.reverse.dataset import Windows

    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    centres = {c: rng.standard_normal(5) * 2 for c in classes}
    src, org, rows = [], [], []
    for f, c in (("fa", "a"), ("fb", "b"), ("fc", "c")):
        for _ in range(6):
            rows.append(centres[c] + rng.standard_normal(5) + (shift_f if f == "fa" else 0.0))
            src.append(f)
            org.append("real")
    for c in classes:
        for _ in range(6):
            rows.append(centres[c] + rng.standard_normal(5))
            src.append(c)
            org.append("procedural")
    copy = np.array([0, 1] * (len(rows) // 2))
    data = Windows(np.array(rows), np.array(src), np.array(org), copy)
    labels = {"fa": ["a"], "fb": ["b"], "fc": ["c"]}
    Y = np.zeros((len(rows), 4))
    for i, (s, o) in enumerate(zip(src, org)):
        Y[i, classes.index(labels[s][0] if o == "real" else s)] = 1.0
    return data, Y, classes, labels


def test_nested_choice_for_a_file_never_looks_at_that_file():
    from studio.reverse.nested import nested_lofo

    data, Y, classes, labels = _toy(0)
    base = nested_lofo(data, Y, classes, labels.__getitem__, log=io.StringIO())
    moved = nested_lofo(*_toy(0, shift_f=25.0)[:3], labels.__getitem__, log=io.StringIO())
    # file fa's own windows moved far away: the variant chosen *for fa* (inner loop over fb, fc,
    # trained without fa) is the same; only fa's own score may change
    assert moved["files"]["fa"]["variant"] == base["files"]["fa"]["variant"]
    for f in base["files"].values():
        assert f["hit"] == (f["rank"] <= 3) and f["top1"] == (f["rank"] == 1)
    assert base["top3_accuracy"] == round(sum(f["hit"] for f in base["files"].values()) / 3, 3)
    from studio.reverse.nested import GRID

    assert 0 <= base["chosen"] < len(GRID) and len(base["variants"]) == len(GRID)


def test_shipped_report_records_a_nested_table_and_the_variant_no_lofo_refits():
    import json

    from studio.reverse.nested import GRID, variant_name
    from studio.reverse.train import REPORT_PATH, shipped_variant

    report = json.loads(REPORT_PATH.read_text())
    names = {variant_name(v) for v in GRID}
    assert report["settings"]["variant"] == variant_name(GRID[shipped_variant()])  # what --no-lofo refits
    lofo = report["leave_one_file_out"]
    assert lofo["method"].startswith("nested")
    assert all(f["variant"] in names for f in lofo["files"].values())
    assert [v["variant"] for v in lofo["variants"]] == [variant_name(v) for v in GRID]
    for v in lofo["variants"]:
        assert set(v["ranks"]) == set(lofo["files"]) and v["top3_hits"] == sum(r <= 3 for r in v["ranks"].values())


def test_every_scene_mixes_catalogue_types_its_first_layer_the_loudest():
    from studio.reverse.mixtures import RECIPES, type_shares
    from studio.sounds.catalogue import CATALOGUE

    names = {t.name for t in CATALOGUE}
    for recipe in RECIPES:
        assert len(recipe.layers) >= 2 and recipe.layers[0][1:] == (0, 0)
        assert all(t in names and lo <= hi <= 0 for t, lo, hi in recipe.layers)
        for seed in range(8):
            shares = type_shares(recipe, seed)
            assert sum(shares.values()) == pytest.approx(1.0)
            assert shares == type_shares(recipe, seed)  # seeded: the same every time
            assert max(shares.values()) == shares[recipe.layers[0][0]]


def test_a_mixture_has_each_layer_at_its_drawn_level_and_its_target_is_the_power_share():
    """Each layer is a tone of its own frequency: the mix's power at each frequency, relative to
    the first layer's, is the layer's drawn gain (8 seeds), and the training target of a mixed
    window is each type's share of that power."""
    from studio.reverse.dataset import Windows
    from studio.reverse.mixtures import BY_NAME, layer_gains_db, layer_seed, mix, source_name, type_shares
    from studio.reverse.train import class_labels, targets, type_label
    from studio.types import AudioClip

    recipe = BY_NAME["thunderstorm"]
    freqs = {t: f for (t, _, _), f in zip(recipe.layers, (300.0, 1100.0, 2900.0))}
    t_s = np.arange(SR * 4) / SR
    clips = {(t, s): AudioClip(np.tile((0.2 * (s + 1) * np.sin(2 * np.pi * f * t_s)).astype(np.float32), (2, 1)), SR)
             for t, f in freqs.items() for s in range(4)}
    classes = class_labels()
    for seed in range(8):
        assert [layer_seed(seed, i, 4) for i in range(3)] == [(seed + i) % 4 for i in range(3)]
        x = mix(recipe, seed, clips, 4).samples[0].astype(np.float64)
        spec = np.abs(np.fft.rfft(x)) ** 2
        power = [spec[int(round(f * x.size / SR))] for f in freqs.values()]
        measured = [10 * np.log10(p / power[0]) for p in power]
        np.testing.assert_allclose(measured, layer_gains_db(recipe, seed), atol=0.05)
        row = Windows(np.zeros((1, 3)), np.array([source_name(recipe, seed)]), np.array(["mixture"]))
        y = targets(row, classes)[0]
        for t, share in type_shares(recipe, seed).items():
            assert y[classes.index(type_label(t))] == pytest.approx(share)
        assert y.sum() == pytest.approx(1.0)


def test_texture_counts_onsets_and_finds_the_period_of_click_trains():
    from studio.reverse.features import N_FEATURES, window_features
    from studio.reverse.texture import TEXTURE_NAMES

    col = {n: N_FEATURES + i for i, n in enumerate(TEXTURE_NAMES)}
    for rate_hz in (1.0, 2.0):
        for seed in range(8):
            x = _noise(seed) * 0.05
            x[(np.arange(0.1, 5.0, 1.0 / rate_hz) * SR).astype(int)] += 3.0
            f = window_features(x, texture=True)
            assert f[col["period_s"]] == pytest.approx(1.0 / rate_hz, abs=0.05)
            assert f[col["period_strength"]] > 0.8 and f[col["comodulation"]] > 0.8
            # regions 2-4 count the clicks; the two lowest also count some jitter of the noise
            # floor (few FFT bins per band there: docs/reverse.md)
            assert all(abs(f[col[f"onsets_r{r}"]] - rate_hz) <= 0.4 for r in range(2, 5))

    for seed in range(8):  # 0.3 s bursts 20 dB over the floor, every second: they stand out in every region
        x = _noise(seed)
        for start_s in np.arange(0.2, 5.0, 1.0):
            x[int(start_s * SR):int((start_s + 0.3) * SR)] *= 10.0
        f, steady = window_features(x, texture=True), window_features(_noise(seed), texture=True)
        assert all(f[col[f"burst_r{r}"]] > 15.0 > 2.0 > steady[col[f"burst_r{r}"]] for r in range(5))


def test_texture_ignores_level_and_steady_noise_is_not_comodulated():
    from studio.reverse.features import N_FEATURES, window_features
    from studio.reverse.texture import TEXTURE_NAMES

    col = {n: N_FEATURES + i for i, n in enumerate(TEXTURE_NAMES)}
    for seed in range(8):
        x = _noise(seed)
        a, b = window_features(x, texture=True), window_features(x * 20.0, texture=True)
        np.testing.assert_allclose(a[N_FEATURES:], b[N_FEATURES:], atol=0.05)
        assert abs(a[col["comodulation"]]) < 0.3 and a[col["period_strength"]] < 0.5


def test_no_lofo_refits_the_variant_named_in_the_report_or_the_default(tmp_path, monkeypatch):
    import json

    from studio.reverse import train
    from studio.reverse.nested import GRID, variant_name

    report = tmp_path / "tagger.json"
    monkeypatch.setattr(train, "REPORT_PATH", report)
    assert train.shipped_variant() == train.DEFAULT_VARIANT  # no report yet
    for i in (0, 5, len(GRID) - 1):
        report.write_text(json.dumps({"settings": {"variant": variant_name(GRID[i])}}))
        assert train.shipped_variant() == i
    report.write_text(json.dumps({"settings": {"variant": "a variant from an older grid"}}))
    assert train.shipped_variant() == train.DEFAULT_VARIANT
