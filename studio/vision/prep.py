"""Preparing an intake image for a vision model's processor, cheaply.

A transformers image processor (BLIP, BLIP-2, CLIP) resizes, crops, rescales and
normalises. With the PIL backend it first copies the whole image into numpy, then back into
PIL for the resize: on a 768 px image that is most of its cost. :func:`fit_for_processor`
does the processor's own resize (same target size, same PIL filter) on the PIL image
directly, so the processor then meets an image already at its size: its resize is a copy
and its numpy work (rescale, normalisation, crop) covers 224 or 384 px instead of the full
image. The pixel values are bit-identical to the processor's own on the unfitted image
(tests/vision/test_vision_prep.py checks that).

Only configurations whose result is known are fitted: the PIL backend (what transformers
uses without torchvision), ``size`` as height x width, or a shortest edge alone (CLIP,
followed by the processor's centre crop), no padding. Anything else (the torchvision
backend included, which resizes with its own antialiasing) is passed through unchanged and
the processor does all the work.
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
        requested: Any = (int(h), int(w))
    elif shortest and not (h or w):
        requested = int(shortest)
    else:
        return None
    # transformers' own size rule, on a zero-stride stand-in of the image's shape (lazy:
    # transformers is only loaded by then, since there is a processor).
    from transformers.image_transforms import get_resize_output_image_size

    shape = np.broadcast_to(np.uint8(0), (height, width, 3))
    new_h, new_w = get_resize_output_image_size(
        shape, requested, default_to_square=False, input_data_format="channels_last"
    )
    return int(new_w), int(new_h)


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
    ``image`` itself but several times cheaper: the image is resized to the processor's
    input first (:func:`fit_for_processor`); everything else stays the processor's.
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if text is not None:
        kwargs = {**kwargs, "text": text}
    return processor(images=fit_for_processor(rgb, processor), return_tensors="pt", **kwargs)
