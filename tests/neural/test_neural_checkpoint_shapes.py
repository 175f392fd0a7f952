"""Every default model's tiny fixture is saved in its real checkpoint's layout (class names in
config.json / model_index.json, processor and tokenizer types: checkpoint_shapes.REAL_LAYOUTS,
also in docs/models.md) and loads and runs through the studio's own loader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from checkpoint_shapes import REAL_LAYOUTS
import checkpoint_shapes as shapes
from studio.generation import BACKENDS


def _config(folder) -> dict:
    return json.loads((folder / "config.json").read_text())


def _check_transformers_layout(folder, layout: dict) -> None:
    from transformers import AutoTokenizer

    config = _config(folder)
    assert config["architectures"] == [layout["architecture"]] and config["model_type"] == layout["model_type"]
    assert type(AutoTokenizer.from_pretrained(folder)).__name__ == layout["tokenizer"]
    if "processor" in layout:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(folder)
        assert type(processor).__name__ == layout["processor"]
        assert type(processor.tokenizer).__name__ == layout["tokenizer"]
        part = getattr(processor, "image_processor", None) or processor.feature_extractor
        # CLIPImageProcessor is CLIPImageProcessorPil where torchvision is not installed
        assert type(part).__name__.startswith(layout.get("image_processor") or layout["feature_extractor"])


@pytest.mark.parametrize("model_id, fixture", [("facebook/musicgen-small", "musicgen_mono"),
                                                ("facebook/musicgen-stereo-small", "musicgen_stereo")])
def test_musicgen_fixtures_have_the_real_layout(model_id, fixture, request):
    folder = request.getfixturevalue(fixture)
    layout = REAL_LAYOUTS[model_id]
    _check_transformers_layout(folder, layout)
    config = _config(folder)
    for key, value in layout["audio_encoder"].items():
        assert config["audio_encoder"][key] == value, key
    assert config["decoder"]["num_codebooks"] == layout["decoder"]["num_codebooks"]
    assert config["decoder"].get("audio_channels", 1) == layout["decoder"]["audio_channels"]


def test_stable_audio_fixture_has_the_real_model_index(stable_audio_dir, no_resident_model):
    index = json.loads((stable_audio_dir / "model_index.json").read_text())
    expected = REAL_LAYOUTS["stabilityai/stable-audio-open-1.0"]["model_index"]
    assert {k: index[k] for k in expected} == expected
    backend = BACKENDS.create("stable-audio", model_id=str(stable_audio_dir))
    assert type(backend.components().tokenizer).__name__ == "T5Tokenizer"  # T5TokenizerFast is its alias in v5
    clip = backend.generate("rain", duration_s=0.3, seed=1, steps=2)
    assert clip.samples.shape == (2, 2400) and np.abs(clip.samples).max() > 0


def test_audioldm2_saved_with_gpt2model_generates_through_the_backend(audioldm2_dir, no_resident_model):
    from diffusers import DiffusionPipeline
    from safetensors.numpy import load_file

    index = json.loads((audioldm2_dir / "model_index.json").read_text())
    assert {k: index[k] for k in index if not k.startswith("_")} == {
        k: v for k, v in REAL_LAYOUTS["cvssp/audioldm2"]["model_index"].items() if not k.startswith("_")}
    assert index["language_model"] == ["transformers", "GPT2Model"]
    assert _config(audioldm2_dir / "language_model")["architectures"] == ["GPT2Model"]

    # as diffusers loads it by itself: a GPT2Model, which the pipeline cannot generate with
    raw = DiffusionPipeline.from_pretrained(audioldm2_dir)
    assert type(raw.language_model).__name__ == "GPT2Model"
    with pytest.raises(AttributeError, match="_update_model_kwargs_for_generation|_get_initial_cache_position"):
        raw("rain", num_inference_steps=1, audio_length_in_s=0.2)

    backend = BACKENDS.create("audioldm2", model_id=str(audioldm2_dir))
    lm = backend.components().language_model
    assert type(lm).__name__ == "GPT2LMHeadModel"
    saved = load_file(str(audioldm2_dir / "language_model" / "model.safetensors"))
    np.testing.assert_array_equal(lm.transformer.wte.weight.detach().numpy(), saved["wte.weight"])
    clip = backend.generate("rain on a roof", duration_s=0.3, seed=3, steps=2)
    assert clip.samples.shape == (1, 4800) and np.isfinite(clip.samples).all() and np.abs(clip.samples).max() > 0


@pytest.fixture(scope="module")
def image():
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def test_blip2_opt_fixture_layout_and_caption(tmp_path, image):
    from studio.vision.blip import Blip2Captioner

    folder = shapes.build_blip2_opt(tmp_path / "blip2")
    _check_transformers_layout(folder, REAL_LAYOUTS["Salesforce/blip2-opt-2.7b"])
    assert _config(folder)["text_config"]["model_type"] == "opt"
    # a prefix prompt goes through the real tokenizer type and back into the caption
    captioner = Blip2Captioner.from_pretrained(str(folder), device="cpu", max_new_tokens=5, num_beams=1,
                                       prompt="a photograph of")
    try:
        caption = captioner.caption(image)
        assert caption.text.startswith("a photograph of") and caption.model == str(folder)
    finally:
        captioner.unload()


def test_blip_fixture_layout_and_caption(tmp_path, image):
    from studio.vision.blip import BlipCaptioner

    folder = shapes.build_blip(tmp_path / "blip")
    _check_transformers_layout(folder, REAL_LAYOUTS["Salesforce/blip-image-captioning-large"])
    # a prefix prompt goes through the real tokenizer type and back into the caption
    captioner = BlipCaptioner.from_pretrained(str(folder), device="cpu", max_new_tokens=5, num_beams=1,
                                       prompt="a photograph of")
    try:
        caption = captioner.caption(image)
        assert caption.text.startswith("a photograph of") and caption.model == str(folder)
    finally:
        captioner.unload()


def test_clip_fixture_layout_and_tags(tmp_path, image):
    from studio.vision.clip_tags import ClipTagger

    folder = shapes.build_clip(tmp_path / "clip")
    _check_transformers_layout(folder, REAL_LAYOUTS["openai/clip-vit-base-patch32"])
    tagger = ClipTagger.from_pretrained(str(folder), device="cpu")
    try:
        scores = tagger.scores(image)
        assert len(scores) == len(tagger.labels) and sum(p for _, p in scores) == pytest.approx(1.0, abs=1e-4)
    finally:
        tagger.unload()


def test_clap_fixture_layout_and_scores(clap_dir):
    from studio.evaluation.clap import ClapScorer
    from studio.types import AudioClip

    _check_transformers_layout(clap_dir, REAL_LAYOUTS["laion/clap-htsat-unfused"])
    scorer = ClapScorer.from_pretrained(str(clap_dir), device="cpu")
    tone = np.sin(2 * np.pi * 440 * np.arange(24000) / 48000).astype(np.float32)[None]
    scores = scorer.score("rain", [AudioClip(tone, 48000), AudioClip(tone * 0.1, 48000)])
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_qwen_fixture_layout_dtype_and_chat(tmp_path):
    import torch

    from studio.planning.chat_model import HFChatGenerator

    folder = shapes.build_qwen(tmp_path / "qwen")
    layout = REAL_LAYOUTS["Qwen/Qwen2.5-1.5B-Instruct"]
    _check_transformers_layout(folder, layout)
    assert _config(folder)["dtype"] == layout["dtype"]  # the weights ship in bf16
    chat = HFChatGenerator.from_pretrained(str(folder), device="cpu", max_new_tokens=4)
    assert chat.model.dtype == torch.float32  # CPU: fp32 whatever the weights
    text = chat([{"role": "user", "content": "a calm lake"}], seed=1)
    assert isinstance(text, str)
    half = HFChatGenerator.from_pretrained(str(folder), device="cpu", dtype="bfloat16", max_new_tokens=4)
    assert half.model.dtype == torch.bfloat16  # an explicit dtype wins
