"""Offline tagging, prompts and the sound painting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.errors import InputError
from studio.types import AudioClip


def test_shipped_weights_match_the_training_code():
    from studio.reverse.taggers import FeatureTagger
    from studio.reverse.train import REPORT_PATH, class_labels
    from studio.reverse.features import N_TAGGER_FEATURES
    from studio.sounds.labels import labels

    tagger = FeatureTagger()
    assert list(tagger.model.classes) == class_labels()
    assert set(class_labels()) <= set(labels())  # every tag is a vocabulary label
    assert tagger.model.weights.shape == (N_TAGGER_FEATURES, len(class_labels()))
    report = json.loads(REPORT_PATH.read_text())
    lofo = report["leave_one_file_out"]
    assert len(lofo["files"]) == 11 and 0 <= lofo["top3_accuracy"] <= 1
    assert all(not set(f["labels"]) & set(f["top"]) or f["hit"] for f in lofo["files"].values())
    n_classes = len(class_labels())
    for f in lofo["files"].values():  # rank of the best label: hits are exactly ranks 1..3
        assert 1 <= f["rank"] <= n_classes and f["hit"] == (f["rank"] <= 3) and f["top1"] == (f["rank"] == 1)
    ranks = sorted(f["rank"] for f in lofo["files"].values())
    assert lofo["median_rank"] == ranks[len(ranks) // 2]
    assert lofo["top1_accuracy"] == round(sum(f["top1"] for f in lofo["files"].values()) / 11, 3)


@pytest.mark.parametrize("name", ["fireplace", "rain", "birds", "waves", "summer-night"])
def test_offline_tagger_names_recordings_it_was_trained_on(name):
    """In-sample check (these recordings are in its training set; the held-out figure is in
    tagger.json and docs/reverse.md)."""
    from studio.reverse.intake import load_excerpts
    from studio.reverse.taggers import FeatureTagger
    from studio.reverse.train import recording_labels
    from studio.sounds.recordings import recording

    tags = FeatureTagger().tags(load_excerpts(recording(name).path), top_k=3)
    assert tags[0][0] in recording_labels(name)
    assert [s for _, s in tags] == sorted((s for _, s in tags), reverse=True)


def test_top_k_is_validated():
    from studio.reverse.taggers import FeatureTagger

    clip = AudioClip(np.zeros((1, 48_000), np.float32) + 0.01, 48_000)
    for bad in (0, 51, "3", True):
        with pytest.raises(InputError, match="top_k"):
            FeatureTagger().tags([clip], top_k=bad)


def test_prompt_from_tags_and_styles():
    from studio.reverse.prompt import STYLES, image_prompt, scene_phrase

    tags = [("ocean surf", 0.6), ("seagulls", 0.2), ("gusty wind", 0.1), ("campfire", 0.01)]
    assert scene_phrase(tags) == "ocean surf with seagulls and gusty wind"
    assert scene_phrase([("rain", 0.9), ("owl", 0.05)]) == "rain"  # weak tags are left out
    for style, words in STYLES.items():
        p = image_prompt(tags, style=style)
        assert p.text.startswith("a scene of ocean surf") and words in p.text and p.style == style
    with pytest.raises(InputError, match="watercolour"):
        image_prompt(tags, style="cubism")
    with pytest.raises(InputError):
        image_prompt([], style="ink")


def test_llm_refinement_is_used_only_when_sane():
    from studio.reverse.prompt import image_prompt

    tags = [("light rain", 0.7), ("songbirds", 0.3)]
    seen = []

    def chat(messages, *, seed):
        seen.append((messages, seed))
        return "A mossy forest clearing in soft rain, birds in the branches."

    p = image_prompt(tags, style="photograph", chat=chat, seed=7)
    assert p.scene == "A mossy forest clearing in soft rain, birds in the branches" and p.refined == "refined by the LLM"
    assert seen[0][1] == 7 and "light rain, songbirds" in seen[0][0][1]["content"]
    long = image_prompt(tags, chat=lambda m, seed: "word " * 80)
    assert long.scene == "a scene of light rain with songbirds" and "too long" in long.refined

    def broken(messages, *, seed):
        raise RuntimeError("model exploded\nsecond line")

    p = image_prompt(tags, chat=broken)
    assert p.scene == "a scene of light rain with songbirds" and "model exploded" in p.refined


def _tone_clip(freq, seconds=10.0, sr=22_050, clicks_hz=0.0):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * np.random.default_rng(0).standard_normal(t.size)
    if clicks_hz:
        for s in np.arange(0, t.size - 300, int(sr / clicks_hz)):
            x[s:s + 300] += np.random.default_rng(s).standard_normal(300) * np.exp(-np.arange(300) / 50)
    return AudioClip(x.astype(np.float32), sr)


def test_sound_painting_follows_the_sound():
    from studio.reverse.painting import SoundPainter

    painter = SoundPainter()
    warm = np.asarray(painter.paint([_tone_clip(150)], width=256, height=128), float)
    bright = np.asarray(painter.paint([_tone_clip(5000)], width=256, height=128), float)
    assert warm.shape == (128, 256, 3)
    # warm sounds lean red, bright ones blue
    assert warm[..., 0].mean() - warm[..., 2].mean() > bright[..., 0].mean() - bright[..., 2].mean() + 10
    # the same audio paints the same picture
    again = np.asarray(painter.paint([_tone_clip(150)], width=256, height=128), float)
    assert np.array_equal(warm, again)
    # onsets become forms: a clicky sound has more edges than a steady one
    busy = np.asarray(painter.paint([_tone_clip(150, clicks_hz=6.0)], width=256, height=128), float)

    def edges(img):
        return np.abs(np.diff(img.mean(axis=2), axis=1)).mean()

    assert edges(busy) > edges(warm)


def test_training_weights_and_domain_standardisation():
    """Classes weigh the same, real windows take half a class that has both kinds, and the
    folded real-domain standardisation gives the same probabilities as fitting on
    per-domain standardised features."""
    from studio.reverse.classifier import SoftmaxClassifier
    from studio.reverse.train import L2, fit, sample_weights

    rng = np.random.default_rng(0)
    Y = np.eye(2)[np.array([0] * 6 + [1] * 4 + [0] * 10 + [1] * 2)]
    origin = np.array(["real"] * 10 + ["procedural"] * 12)
    w = sample_weights(Y, origin)
    assert w[(origin == "real") & (Y[:, 0] > 0)].sum() == pytest.approx(0.5)
    assert w[(origin != "real") & (Y[:, 0] > 0)].sum() == pytest.approx(0.5)
    assert w[Y[:, 1] > 0].sum() == pytest.approx(1.0)

    X = rng.standard_normal((22, 4)) + np.where(origin == "real", 5.0, -3.0)[:, None] + Y[:, :1] * 2
    folded = fit(X, Y, ["a", "b"], w, origin)
    Xn = X.copy()
    for rows in (origin == "real", origin != "real"):
        Xn[rows] = (X[rows] - X[rows].mean(axis=0)) / (X[rows].std(axis=0) + 1e-6)
    direct = SoftmaxClassifier.fit(Xn, Y, ["a", "b"], l2=L2, sample_weight=w)
    real = origin == "real"
    assert np.allclose(folded.predict_proba(X[real]), direct.predict_proba(Xn[real]), atol=1e-6)


def test_imagine_cli_offline_paints_and_labels_it(tmp_path, capsys, monkeypatch):
    from PIL import Image

    from studio.cli import main
    from studio.reverse import pipeline
    from studio.sounds.recordings import recording

    monkeypatch.setattr(pipeline, "planner_chat", lambda device="auto": (
        lambda messages, *, seed: "A crackling fire in a dark stone hearth at night", None))
    out = tmp_path / "fire.png"
    rc = main(["imagine", str(recording("fireplace").path), "--out", str(out), "--style", "oil", "--tagger", "features",
               "--image-maker", "painting", "--width", "160", "--height", "96", "--refine"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["image_maker"] == "painting" and "visualisation" in report["label"]
    assert report["prompt"].startswith("A crackling fire in a dark stone hearth at night, oil painting")
    assert report["refined"] == "refined by the LLM" and report["tags"][0]["label"] == "campfire"
    img = Image.open(out)
    assert img.size == (160, 96) and img.text["label"] == report["label"] and img.text["prompt"] == report["prompt"]
    assert main(["imagine", str(recording("fireplace").path), "--out", str(tmp_path / "x.jpg")]) == 2
    assert "must name a .png" in capsys.readouterr().err
