"""Pixel helpers shared by the offline image measurements (``analysis``, ``rain``)."""

from __future__ import annotations

from typing import Any

import numpy as np

LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709


def reduced_rgb(image: Any, side_px: int) -> np.ndarray:
    """An RGB PIL image as float32 ``(h, w, 3)`` in 0..1, box-reduced so its longer side is at
    most ``side_px`` (never enlarged)."""
    from PIL import Image

    small = image if image.mode == "RGB" else image.convert("RGB")
    if max(small.size) > side_px:
        scale = side_px / max(small.size)
        size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
        small = small.resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of float RGB ``(h, w, 3)``."""
    return rgb @ LUMA_WEIGHTS
