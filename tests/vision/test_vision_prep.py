"""The fast path to model inputs gives exactly what the transformers processor gives."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.vision.intake import load_image
from studio.vision.prep import fit_for_processor, processor_inputs, processor_target_size
from vision_helpers import encode, photo_like

OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# (height, width): landscape and portrait intake results, an image smaller than the model
# input (upscaled), odd sizes, an extreme aspect, already at the model size.
SHAPES = [(375, 500), (504, 378), (100, 130), (577, 769), (27, 700), (224, 224)]


def _image(shape, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((*shape, 3)) * 255).astype(np.uint8))


def _real_config_processors() -> dict[str, object]:
    """Image processors with the real checkpoints' preprocessing settings."""
    from transformers.utils import logging

    logging.set_verbosity_error()  # "requires torchvision; falling back to the PIL backend"
    from transformers import BlipImageProcessor, CLIPImageProcessor

    common = {"image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD, "do_convert_rgb": True}
    return {
        "blip_large_384": BlipImageProcessor(size={"height": 384, "width": 384}, **common),
        "blip2_224": BlipImageProcessor(size={"height": 224, "width": 224}, **common),
        "clip_l_224": CLIPImageProcessor(
            size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, **common
        ),
    }


@pytest.fixture(scope="module")
def real_processors():
    return _real_config_processors()


@pytest.mark.parametrize("name", ["blip_large_384", "blip2_224", "clip_l_224"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[1]}x{s[0]}")
def test_pixel_values_are_bit_identical_to_the_processor(real_processors, name, shape):
    import torch

    proc = real_processors[name]
    image = _image(shape)
    want = proc(images=image, return_tensors="pt")["pixel_values"]
    got = processor_inputs(proc, image)["pixel_values"]
    assert got.dtype == torch.float32 and got.is_contiguous()
    assert tuple(got.shape) == tuple(want.shape) == (1, 3, *((384, 384) if "384" in name else (224, 224)))
    assert torch.equal(got, want)
    # What "normalised" means here: ((x / 255) - mean) / std per channel.
    expected = fit_for_processor(image, proc)
    if name == "clip_l_224":
        w, h = expected.size
        left, top = (w - 224) // 2, (h - 224) // 2
        expected = expected.crop((left, top, left + 224, top + 224))
    raw = np.asarray(expected, np.float64).transpose(2, 0, 1) / 255.0
    manual = (raw - np.array(OPENAI_CLIP_MEAN)[:, None, None]) / np.array(OPENAI_CLIP_STD)[:, None, None]
    assert np.allclose(got[0].numpy(), manual, atol=1e-5)


def test_target_sizes_follow_the_processor(real_processors):
    blip, clip = real_processors["blip2_224"], real_processors["clip_l_224"]
    assert processor_target_size(blip, 500, 375) == (224, 224)
    assert processor_target_size(clip, 500, 375) == (298, 224)  # shortest edge 224, then a crop
    assert processor_target_size(clip, 378, 504) == (224, 298)
    assert fit_for_processor(_image((375, 500)), clip).size == (298, 224)
    at_size = _image((224, 224))
    assert fit_for_processor(at_size, blip) is at_size  # nothing to do


def test_the_intake_image_of_a_photo_gives_the_processor_result(real_processors):
    """The whole captioning prep: a JPEG through load_image, then the fast path."""
    import torch

    image = load_image(encode(photo_like(1600, 1200), "JPEG", quality=90))
    assert image.size == (768, 576)  # decoded at 1/2 (800 px), then resized to max_side
    for proc in real_processors.values():
        assert torch.equal(
            processor_inputs(proc, image)["pixel_values"], proc(images=image, return_tensors="pt")["pixel_values"]
        )


@pytest.mark.parametrize(
    "override",
    [{"do_resize": False}, {"do_normalize": False}, {"do_rescale": False},
     {"size": {"shortest_edge": 200, "longest_edge": 300}}, {"image_mean": 0.5, "image_std": 0.5}],
)  # fmt: skip
def test_settings_it_does_not_reproduce_are_left_to_the_processor(override):
    import torch
    from transformers import BlipImageProcessor

    settings = {"size": {"height": 64, "width": 64}, "image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD}
    proc = BlipImageProcessor(**(settings | override))
    image = _image((90, 120), seed=3)
    if "size" in override or override.get("do_resize") is False:
        assert fit_for_processor(image, proc) is image
    want = proc(images=image, return_tensors="pt")["pixel_values"]
    got = processor_inputs(proc, image)["pixel_values"]
    assert got.dtype == want.dtype and torch.equal(got, want)


@pytest.mark.parametrize("kind", ["blip", "clip"])
@pytest.mark.parametrize(
    "pad", [{"height": 96, "width": 96}, None], ids=["pad_size", "pad_to_batch"]
)  # fmt: skip
def test_padding_processors_keep_their_own_resize_and_normalisation(kind, pad):
    """A processor with do_pad=True pads after normalising (zeros in normalised space): its
    resize is not taken over, and the padded border stays 0, not (0 - mean) / std."""
    import torch
    from transformers import BlipImageProcessor, CLIPImageProcessor

    common = {"image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD, "do_pad": True}
    if pad:
        common["pad_size"] = pad
    if kind == "blip":
        proc = BlipImageProcessor(size={"height": 64, "width": 64}, **common)
    else:
        proc = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}, **common)
    assert proc.do_pad and processor_target_size(proc, 120, 90) is None
    unpadded = type(proc)(**{**proc.to_dict(), "do_pad": False})
    assert processor_target_size(unpadded, 120, 90) is not None  # only the padding decides
    image = _image((90, 120), seed=5)
    assert fit_for_processor(image, proc) is image
    want = proc(images=image, return_tensors="pt")["pixel_values"]
    got = processor_inputs(proc, image)["pixel_values"]
    assert got.dtype == want.dtype and torch.equal(got, want)
    if pad:
        assert tuple(got.shape) == (1, 3, 96, 96)
        assert torch.count_nonzero(got[..., 64:, :]) == 0 and torch.count_nonzero(got[..., :, 64:]) == 0


def test_other_modes_are_converted_to_rgb_first(real_processors):
    import torch

    proc = real_processors["blip2_224"]
    grey = _image((120, 160)).convert("L")
    got = processor_inputs(proc, grey)["pixel_values"]
    assert torch.equal(got, proc(images=grey.convert("RGB"), return_tensors="pt")["pixel_values"])


@pytest.mark.parametrize("kind", ["blip2", "blip", "clip"])
@pytest.mark.parametrize("text", [None, "a photograph of"])
def test_tiny_checkpoint_processors_with_text(tiny_dirs, kind, text):
    """Through the saved processors the captioners use: text, image tokens and pixels all
    equal the processor's own output."""
    import torch
    import transformers

    cls = {"blip2": "Blip2Processor", "blip": "BlipProcessor", "clip": "CLIPProcessor"}[kind]
    processor = getattr(transformers, cls).from_pretrained(tiny_dirs[kind])
    image = _image((375, 500), seed=4)
    kwargs = {"text": text} if text else {}
    want = processor(images=image, return_tensors="pt", **kwargs)
    got = processor_inputs(processor, image, text=text)
    assert set(got.keys()) == set(want.keys())
    for key in want:
        assert torch.equal(got[key], want[key]), key
