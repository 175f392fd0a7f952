"""The neural paths with tiny random models saved in the real layouts and loaded through the
real ``from_pretrained`` code: sd-turbo text-to-image, CLAP zero-shot tags, AST AudioSet tags."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.errors import InputError, ModelUnavailableError
from studio.types import AudioClip

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "neural"))

import neural_tiny_models  # noqa: E402
from tests.reverse.tiny_reverse_models import AST_LABELS, build_ast, build_sd_turbo  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("reverse-tiny")
    return {
        "sd": build_sd_turbo(root / "sd-turbo"),
        "ast": build_ast(root / "ast"),
        "clap": neural_tiny_models.build_clap(root / "clap"),
    }


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def recording(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "field.wav"
    sf.write(path, (rng.standard_normal((48_000 * 6, 2)) * 0.1).astype(np.float32), 48_000)
    return path


def test_sd_turbo_layout_matches_the_real_model_index(tiny):
    index = json.loads((tiny["sd"] / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert index["scheduler"] == ["diffusers", "EulerDiscreteScheduler"]
    assert index["text_encoder"] == ["transformers", "CLIPTextModel"]
    assert index["tokenizer"] == ["transformers", "CLIPTokenizer"]
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    assert index["vae"] == ["diffusers", "AutoencoderKL"]
    assert index["safety_checker"] == [None, None] and index["requires_safety_checker"] is False


@pytest.mark.parametrize("width,height", [(64, 64), (96, 64), (64, 128)])
def test_sd_turbo_runs_the_real_path_at_the_requested_size(tiny, hf_cache, width, height):
    from studio.reverse.diffusion import DiffusionImager

    neural_tiny_models.put_in_cache(hf_cache, "stabilityai/sd-turbo", tiny["sd"])
    imager = DiffusionImager.from_pretrained("stabilityai/sd-turbo", device="cpu")
    assert imager.turbo and type(imager.pipe).__name__ == "StableDiffusionPipeline"
    a = imager.generate("a scene of rain, watercolour", width=width, height=height, seed=3)
    b = imager.generate("a scene of rain, watercolour", width=width, height=height, seed=3)
    assert a.size == (width, height) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))  # seeded
    assert np.asarray(a).std() > 0
    with pytest.raises(InputError, match="multiple of 8"):
        imager.generate("x", width=100, height=64)


def test_imagine_cli_uses_the_cached_diffusion_model(tiny, hf_cache, recording, tmp_path, capsys):
    from PIL import Image

    from studio.cli import main

    neural_tiny_models.put_in_cache(hf_cache, "stabilityai/sd-turbo", tiny["sd"])
    out = tmp_path / "cover.png"
    rc = main(["imagine", str(recording), "--out", str(out), "--style", "photograph", "--width", "64", "--height", "96",
               "--tagger", "features"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["image_maker"] == "diffusion" and report["model"] == "stabilityai/sd-turbo"
    assert "photograph" in report["prompt"] and "label" not in report
    img = Image.open(out)
    assert img.size == (64, 96) and img.text["prompt"] == report["prompt"]


def test_missing_diffusion_model_is_a_clear_error(hf_cache):
    from studio.reverse.diffusion import DiffusionImager

    with pytest.raises(ModelUnavailableError, match="sd-turbo.*models download"):
        DiffusionImager.from_pretrained("stabilityai/sd-turbo", device="cpu")


def test_clap_tagger_scores_the_whole_vocabulary(tiny, recording):
    from studio.evaluation.clap import ClapScorer
    from studio.reverse.intake import load_excerpts
    from studio.reverse.taggers import ClapTagger, clap_vocabulary
    from studio.sounds.labels import labels

    tagger = ClapTagger(ClapScorer.from_pretrained(str(tiny["clap"]), device="cpu"))
    vocab, texts = clap_vocabulary()
    assert vocab == labels()
    assert any("steady rain falling on leaves" in t for t in texts[vocab.index("light rain")])
    assert any("railway" in t for t in texts[vocab.index("train")])
    tags = tagger.tags(load_excerpts(recording), top_k=5)
    assert len(tags) == 5 and all(label in vocab for label, _ in tags)
    scores = [s for _, s in tags]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001
    assert tagger.tags(load_excerpts(recording), top_k=50)[:5] == tags  # a longer list extends, never reorders


def test_ast_tagger_returns_audioset_labels(tiny, hf_cache, recording, capsys):
    from studio.cli import main

    neural_tiny_models.put_in_cache(hf_cache, "MIT/ast-finetuned-audioset-10-10-0.4593", tiny["ast"])
    rc = main(["tag", str(recording), "--tagger", "ast", "--top", "3"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["tagger"] == "ast" and out["model"] == "MIT/ast-finetuned-audioset-10-10-0.4593"
    assert len(out["tags"]) == 3 and {t["label"] for t in out["tags"]} <= set(AST_LABELS)
    assert all(0 < t["score"] < 1 for t in out["tags"])  # sigmoid, multi-label


def test_ast_tagger_is_deterministic_over_windows(tiny):
    from studio.reverse.taggers import AstTagger

    tagger = AstTagger.from_pretrained(str(tiny["ast"]), device="cpu")
    clip = AudioClip(np.random.default_rng(1).standard_normal((1, 16_000 * 25)).astype(np.float32) * 0.1, 16_000)
    assert tagger.tags([clip], top_k=5) == tagger.tags([clip], top_k=5)
