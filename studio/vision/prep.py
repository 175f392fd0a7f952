"""Preparing an intake image for a vision model's processor, cheaply.

A transformers image processor (BLIP, BLIP-2, CLIP) resizes, crops, rescales and
normalises. With the PIL backend it first copies the whole image into numpy, then back into
PIL for the resize, and rescales in float64: on a 768 px image that is most of its cost.
:func:`fit_for_processor` does the processor's own resize (same target size, same PIL
filter) on the PIL image directly, so the processor then meets an image already at its
size: its resize is a copy and its numpy work covers 224 or 384 px instead of the full
image. :func:`processor_inputs` then also does the rescale and normalisation itself, in
numpy, in the processor's order and precision. The pixel values are bit-identical to the
processor's own on the unfitted image (tests/vision/test_vision_prep.py checks that).

Only configurations whose result is known are fitted: the PIL backend (what transformers
uses without torchvision), ``size`` as height x width, or a shortest edge alone (CLIP,
followed by the processor's centre crop), no padding. Anything else (the torchvision
backend included, which resizes with its own antialiasing) is passed through unchanged and
the processor does all the work; a padding processor also keeps its rescale and
normalisation, since it pads after them.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np


def processor_target_size(image_processor: Any, width: int, height: int) -> Optional[tuple[int, int]]:
    """(width, height) the processor resizes a ``width`` x ``height`` image to, or None
    when it does not resize or its settings are not ones this module reproduces."""
    if not getattr(image_processor, "do_resize", False) or getattr(image_processor, "do_pad", False):
        return None
    size = getattr(image_processor, "size", None)
    if size is None:
        return None
    get = size.get if isinstance(size, dict) else (lambda key, default=None: getattr(size, key, default))
    h, w = get("height"), get("width")
    shortest, longest = get("shortest_edge"), get("longest_edge")
    if get("max_height") or get("max_width") or longest:
        return None
    if h and w and not shortest:
        return int(w), int(h)
    if shortest and not (h or w):
        # transformers' get_resize_output_image_size(default_to_square=False): the short
        # side becomes `shortest`, the long side int(shortest * long / short).
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = int(shortest), int(int(shortest) * long / short)
        return (new_short, new_long) if width <= height else (new_long, new_short)
    return None


def fit_for_processor(image: Any, processor: Any) -> Any:
    """``image`` (RGB PIL) resized as ``processor`` (a Processor or its image processor)
    would resize it, so its own resize is a no-op; unchanged when that cannot be reproduced."""
    image_processor = getattr(processor, "image_processor", processor)
    if not _pil_backend(image_processor) or getattr(image, "mode", None) != "RGB":
        return image  # torchvision resizes differently; other modes are converted first
    resample = getattr(image_processor, "resample", None)
    if resample is None or not isinstance(resample, int):
        return image
    target = processor_target_size(image_processor, *image.size)
    if target is None or target == image.size:
        return image
    # reducing_gap=None as in transformers' resize: the same pixels, not an approximation.
    return image.resize(target, resample=int(resample))


def _pil_backend(image_processor: Any) -> bool:
    """True for processors that resize with PIL (transformers 5 ``*Pil``, and the slow
    processors of transformers 4), whose result :func:`fit_for_processor` reproduces exactly."""
    backend = getattr(image_processor, "backend", None)
    if backend is not None:
        return backend == "pil"
    return not type(image_processor).__name__.endswith("Fast")


def processor_inputs(processor: Any, image: Any, *, text: Optional[str] = None, **kwargs: Any) -> Any:
    """``processor(images=..., text=..., return_tensors="pt")`` for an RGB PIL ``image``:
    the model inputs (``pixel_values`` float32 (1, 3, H, W), plus ``input_ids`` and
    ``attention_mask`` when ``text`` is given), equal to the processor's output on
    ``image`` itself but several times cheaper.

    The image is resized to the processor's input first (:func:`fit_for_processor`). With
    the PIL backend, rescaling and normalisation are then done here on the small uint8
    tensor with the processor's own factor, mean and std, in the same order and precision
    (its numpy version transposes, broadcasts on strided views and copies through float64,
    about 3 ms for one 224 px image); text, image tokens and cropping stay the processor's.
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    image_processor = getattr(processor, "image_processor", processor)
    fitted = fit_for_processor(rgb, processor)
    norm = _normalisation(image_processor) if _pil_backend(image_processor) else None
    if norm is not None:
        kwargs = {**kwargs, "do_rescale": False, "do_normalize": False}
    if text is not None:
        inputs = processor(images=fitted, text=text, return_tensors="pt", **kwargs)
    else:
        inputs = processor(images=fitted, return_tensors="pt", **kwargs)
    if norm is not None:
        import torch

        factor, mean, std = norm
        raw = inputs["pixel_values"]
        pixels = raw.numpy() if isinstance(raw, torch.Tensor) else np.asarray(raw)
        # As transformers does: rescale in float64, store float32, then (x - mean) / std in
        # float32, so the values are bit-identical. numpy, not torch: torch would spread
        # these small element-wise ops over OpenMP threads that spin on a busy machine.
        pixels = (pixels.astype(np.float64) * factor).astype(np.float32)
        shape = (1, -1, 1, 1) if pixels.ndim == 4 else (-1, 1, 1)
        pixels -= np.asarray(mean, np.float32).reshape(shape)
        pixels /= np.asarray(std, np.float32).reshape(shape)
        inputs["pixel_values"] = torch.from_numpy(pixels)
    return inputs


def _normalisation(image_processor: Any) -> Optional[tuple[float, tuple[float, ...], tuple[float, ...]]]:
    """(rescale factor, mean, std) when the processor both rescales and normalises RGB with
    plain numbers and does not pad; None otherwise (then the processor keeps doing it).

    A padding processor pads after normalising, with zeros in normalised space: taking the
    normalisation over would turn its padding into (0 * factor - mean) / std."""
    if getattr(image_processor, "do_pad", False):
        return None
    if not (getattr(image_processor, "do_rescale", False) and getattr(image_processor, "do_normalize", False)):
        return None
    try:
        factor = float(image_processor.rescale_factor)
        mean = _three(image_processor.image_mean)
        std = _three(image_processor.image_std)
    except (AttributeError, TypeError, ValueError):
        return None
    if mean is None or std is None or not all(v > 0 for v in std):
        return None
    return factor, mean, std


def _three(value: Any) -> Optional[tuple[float, ...]]:
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    values = tuple(float(v) for v in value)
    return values if len(values) == 3 else None
