"""BLIP-2, BLIP and CLIP through the real from_pretrained path, on tiny random checkpoints
built offline (tests/vision/tiny_models.py)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

from studio.errors import BackendError, InputError, ModelUnavailableError
from studio.types import Caption
from studio.vision import CAPTIONERS, TAGGERS, model_cache
from studio.vision.blip import Blip2Captioner, BlipCaptioner
from studio.vision.clip_tags import ClipTagger, tag_caption
from studio.vision.intake import load_image
from studio.sounds.labels import labels
from vision_helpers import encode, scene

CAPTIONER_CLASSES = {"blip2": Blip2Captioner, "blip": BlipCaptioner}


@pytest.fixture(scope="module")
def photo():
    return load_image(encode(scene((90, 150, 230), (40, 140, 60), size=(300, 400)), "JPEG"), filename="lake.jpg")


@pytest.fixture(scope="module")
def other_photo():
    rng = np.random.default_rng(5)
    return load_image(encode((rng.random((200, 200, 3)) * 255).astype(np.uint8), "PNG"))


def _reference_text(kind: str, folder: Path, image, prompt=None, max_new_tokens=8) -> str:
    """Greedy generation straight through transformers, decoded with special tokens skipped."""
    import torch
    import transformers

    model_cls = {"blip2": "Blip2ForConditionalGeneration", "blip": "BlipForConditionalGeneration"}[kind]
    proc_cls = {"blip2": "Blip2Processor", "blip": "BlipProcessor"}[kind]
    model = getattr(transformers, model_cls).from_pretrained(folder).eval()
    processor = getattr(transformers, proc_cls).from_pretrained(folder)
    kwargs = {"text": prompt} if prompt else {}
    inputs = processor(images=image, return_tensors="pt", **kwargs)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)
    return processor.tokenizer.decode(out[0], skip_special_tokens=True)


@pytest.mark.parametrize("kind", ["blip2", "blip"])
@pytest.mark.parametrize("prompt", [None, "a photograph of"])
def test_caption_is_the_decoded_generation(tiny_dirs, photo, kind, prompt):
    cls = CAPTIONER_CLASSES[kind]
    captioner = cls.from_pretrained(str(tiny_dirs[kind]), device="cpu", prompt=prompt, num_beams=1, max_new_tokens=8)
    cap = captioner.caption(photo)
    assert isinstance(cap, Caption)
    assert cap.source == kind and cap.model == str(tiny_dirs[kind])
    assert isinstance(cap.text, str) and cap.text.strip() == cap.text and cap.text
    reference = _reference_text(kind, tiny_dirs[kind], photo, prompt)
    # Same tokens; the adapter only re-joins a prefix prompt with a space.
    assert cap.text.replace(" ", "") == reference.replace(" ", "")
    if prompt:
        assert cap.text.startswith(prompt + " ")


@pytest.mark.parametrize("prompt", [None, "a photograph of"])
def test_blip2_with_an_encoder_decoder_t5_language_model(tiny_dirs, photo, prompt):
    """Flan-T5 variants return only new tokens: nothing may be sliced off."""
    import torch

    folder = tiny_dirs["blip2_t5"]
    captioner = Blip2Captioner.from_pretrained(str(folder), device="cpu", prompt=prompt, num_beams=1, max_new_tokens=6)
    assert captioner.model.config.use_decoder_only_language_model is False
    cap = captioner.caption(photo)
    inputs = captioner.processor(images=photo, text=prompt or "", return_tensors="pt")
    with torch.inference_mode():
        out = captioner.model.generate(**inputs, max_new_tokens=6, num_beams=1)
    answer = captioner.processor.tokenizer.decode(out[0], skip_special_tokens=True).strip()
    assert answer and cap.text == (f"{prompt} {answer}" if prompt else answer)


@pytest.mark.parametrize("kind", ["blip2", "blip"])
def test_question_prompt_returns_only_the_answer(tiny_dirs, photo, kind):
    question = "question what can you hear? answer:"
    cap = CAPTIONER_CLASSES[kind].from_pretrained(str(tiny_dirs[kind]), device="cpu", prompt=question).caption(photo)
    assert "question" not in cap.text.split()[:2] and not cap.text.startswith(question)


@pytest.mark.parametrize("kind", ["blip2", "blip"])
def test_deterministic_without_sampling_and_seeded_with_it(tiny_dirs, photo, other_photo, kind):
    folder = str(tiny_dirs[kind])
    cls = CAPTIONER_CLASSES[kind]
    beam = cls.from_pretrained(folder, device="cpu", num_beams=3, max_new_tokens=10)
    assert beam.caption(photo) == beam.caption(photo)
    sampled = [cls.from_pretrained(folder, device="cpu", do_sample=True, seed=s, max_new_tokens=10) for s in (1, 1, 2, 3)]
    texts = [c.caption(photo).text for c in sampled]
    assert texts[0] == texts[1]  # same seed, same caption
    assert len(set(texts[1:])) > 1  # different seeds explore


@pytest.mark.parametrize("kind", ["blip2", "blip"])
def test_the_image_reaches_the_vision_encoder(tiny_dirs, photo, other_photo, kind):
    captioner = CAPTIONER_CLASSES[kind].from_pretrained(str(tiny_dirs[kind]), device="cpu", num_beams=1)
    seen = []
    hook = captioner.model.vision_model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs.get("pixel_values", args[0] if args else None)),
        with_kwargs=True,
    )
    try:
        for image in (photo, other_photo):
            captioner.caption(image)
    finally:
        hook.remove()
    expected = [captioner.processor(images=im, return_tensors="pt")["pixel_values"] for im in (photo, other_photo)]
    assert len(seen) == 2
    for got, want in zip(seen, expected):
        assert tuple(got.shape) == (1, 3, 32, 32)
        assert np.allclose(got.numpy(), want.numpy(), atol=1e-6)


def test_model_is_loaded_once_per_process_and_unload_frees_it(tiny_dirs, photo):
    folder = str(tiny_dirs["blip"])
    a = BlipCaptioner.from_pretrained(folder, device="cpu")
    b = CAPTIONERS.create("blip", model_id=folder, device="cpu", prompt="a photograph of")
    assert a.model is b.model and a.processor is b.processor
    assert model_cache.loaded_keys() == [("blip", folder, "cpu", "float32")]
    assert a.loaded and a.dtype.is_floating_point and next(a.model.parameters()).dtype == a.dtype
    ref = weakref.ref(a.model)
    a.unload()
    assert model_cache.loaded_keys() == [] and not b.loaded
    b.unload()
    gc.collect()
    assert ref() is None  # no hidden reference keeps the weights alive
    with pytest.raises(BackendError, match="was unloaded"):
        a.caption(photo)
    c = BlipCaptioner.from_pretrained(folder, device="cpu")
    assert c.loaded and c.caption(photo).text


def test_explicit_dtype_is_a_separate_cache_entry(tiny_dirs):
    import torch

    folder = str(tiny_dirs["blip2"])
    half = Blip2Captioner.from_pretrained(folder, device="cpu", dtype="bfloat16")
    full = Blip2Captioner.from_pretrained(folder, device="cpu")
    assert next(half.model.parameters()).dtype == torch.bfloat16
    assert next(full.model.parameters()).dtype == torch.float32
    assert len(model_cache.loaded_keys()) == 2


def test_default_models_are_the_ones_named_in_the_brief():
    assert Blip2Captioner.default_model_id == "Salesforce/blip2-opt-2.7b"
    assert BlipCaptioner.default_model_id == "Salesforce/blip-image-captioning-large"
    assert "Salesforce/blip-image-captioning-base" in BlipCaptioner.MODEL_IDS
    assert ClipTagger.default_model_id == "openai/clip-vit-large-patch14"
    assert "openai/clip-vit-base-patch32" in ClipTagger.MODEL_IDS
    assert CAPTIONERS.get("blip2") is Blip2Captioner and CAPTIONERS.get("blip") is BlipCaptioner
    assert TAGGERS.get("clip") is ClipTagger


@pytest.mark.parametrize(
    "device,dtype,expected",
    [("cuda", None, "float16"), ("cuda", "auto", "float16"), ("cuda", "bf16", "bfloat16"),
     ("cpu", None, "float32"), ("mps", None, "float32"), ("cpu", "half", "float16")],
)  # fmt: skip
def test_auto_dtype_is_half_precision_on_cuda_and_fp32_elsewhere(monkeypatch, device, dtype, expected):
    """No GPU here: the device choice is stubbed, the dtype rule is the real one."""
    import torch

    import studio.devices
    from studio.vision.neural import resolve_device_dtype

    monkeypatch.setattr(studio.devices, "pick_device", lambda requested: device)
    assert resolve_device_dtype("auto", dtype) == (device, getattr(torch, expected))


@pytest.mark.parametrize(
    "opts,match",
    [({"num_beams": 0}, "num_beams must be a whole number from 1 to 16"),
     ({"max_new_tokens": 1000}, "max_new_tokens must be"),
     ({"dtype": "int8"}, "unknown dtype 'int8'"),
     ({"device": "tpu"}, "unknown device 'tpu'"),
     ({"prompt": "x" * 400}, "keep it under 300")],
)  # fmt: skip
def test_bad_options_fail_before_loading(tiny_dirs, opts, match):
    with pytest.raises(InputError, match=match):
        Blip2Captioner.from_pretrained(str(tiny_dirs["blip2"]), **({"device": "cpu"} | opts))
    assert model_cache.loaded_keys() == []


@pytest.mark.parametrize("cls", [Blip2Captioner, BlipCaptioner, ClipTagger])
def test_missing_model_errors_name_the_model(tmp_path, cls):
    with pytest.raises(ModelUnavailableError) as info:
        cls.from_pretrained("Salesforce/no-such-vision-model", device="cpu")
    message = str(info.value)
    assert "'Salesforce/no-such-vision-model'" in message and "python -m studio models download" in message
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        cls.from_pretrained(str(tmp_path / "missing"), device="cpu")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match=r"could not be loaded .*complete"):
        cls.from_pretrained(str(empty), device="cpu")


@pytest.mark.parametrize("name,registry", [("blip2", CAPTIONERS), ("blip", CAPTIONERS), ("clip", TAGGERS)])
def test_availability_checks_the_local_cache_without_loading(monkeypatch, tmp_path, name, registry):
    import studio.hf

    monkeypatch.setattr(studio.hf, "local_model_path", lambda model_id: None)
    ok, reason = registry.availability(name)
    default = registry.get(name).default_model_id
    assert not ok and repr(default) in reason and "not in the local Hugging Face cache" in reason
    monkeypatch.setattr(studio.hf, "local_model_path", lambda model_id: tmp_path)
    ok, reason = registry.availability(name)
    assert ok and str(tmp_path) in reason
    assert model_cache.loaded_keys() == []


# --------------------------------------------------------------------------- CLIP


def test_clip_tags_are_sorted_probabilities_over_the_vocabulary(tiny_dirs, photo):
    tagger = ClipTagger.from_pretrained(str(tiny_dirs["clip"]), device="cpu")
    assert tagger.labels == labels()
    scores = tagger.scores(photo)
    assert len(scores) == len(labels())
    assert abs(sum(s for _, s in scores) - 1.0) < 1e-5
    tags = tagger.tags(photo, top_k=5)
    assert len(tags) == 5
    values = [s for _, s in tags]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values) and sum(values) <= 1.0 + 1e-6
    assert tags == [(label, round(score, 6)) for label, score in sorted(scores, key=lambda x: -x[1])[:5]]
    assert tagger.tags(photo, top_k=5) == tags  # deterministic
    assert tagger.tags(photo, top_k=1)[0] == tags[0]


def test_clip_scores_match_the_full_model_forward(tiny_dirs, photo):
    """The cached text embeddings give the same probabilities as CLIPModel's own logits."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    from studio.sounds.labels import vocabulary

    tagger = ClipTagger.from_pretrained(str(tiny_dirs["clip"]), device="cpu")
    model = CLIPModel.from_pretrained(tiny_dirs["clip"]).eval()
    processor = CLIPProcessor.from_pretrained(tiny_dirs["clip"])
    inputs = processor(text=[e.prompt for e in vocabulary()], images=photo, return_tensors="pt", padding=True)
    with torch.inference_mode():
        expected = model(**inputs).logits_per_image.softmax(dim=-1)[0].tolist()
    got = [s for _, s in tagger.scores(photo)]
    assert np.allclose(got, expected, atol=1e-5)


def test_clip_top_k_is_validated_and_tag_caption_copies(tiny_dirs, photo):
    tagger = TAGGERS.create("clip", model_id=str(tiny_dirs["clip"]), device="cpu")
    with pytest.raises(InputError, match="top_k must be a whole number from 1 to"):
        tagger.tags(photo, top_k=0)
    base = Caption(text="a lake", source="user")
    tagged = tag_caption(base, tagger.tags(photo, top_k=3))
    assert base.tags == () and len(tagged.tags) == 3 and tagged.text == "a lake"
    assert all(isinstance(label, str) and isinstance(score, float) for label, score in tagged.tags)
    tagger.unload()
    assert model_cache.loaded_keys() == []
    with pytest.raises(BackendError, match="was unloaded"):
        tagger.tags(photo)
