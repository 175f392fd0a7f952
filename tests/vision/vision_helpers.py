"""Image builders shared by the vision tests."""

from __future__ import annotations

import io

import numpy as np


def encode(arr: np.ndarray, fmt: str, **save_kw) -> bytes:
    """An RGB/other numpy image encoded in ``fmt`` by Pillow."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **save_kw)
    return buf.getvalue()


def scene(top_rgb, bottom_rgb, *, size=(120, 160), split=0.5) -> np.ndarray:
    """A (height, width, 3) uint8 frame: one colour above ``split``, another below."""
    h, w = size
    arr = np.zeros((h, w, 3), np.uint8)
    cut = int(h * split)
    arr[:cut] = top_rgb
    arr[cut:] = bottom_rgb
    return arr
