"""Master fades: fade in, fade out and the optional sleep fade, as per-frame gains."""

from __future__ import annotations

from typing import Optional

import numpy as np

from studio.types import MasterSpec


def _fade_curve(t: np.ndarray) -> np.ndarray:
    """Raised-cosine 0..1 for ``t`` in 0..1 (smooth at both ends)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(t, 0.0, 1.0))


def fade_lengths(spec: MasterSpec, frames: int, sample_rate: int) -> tuple[int, int, int]:
    """(fade_in, fade_out, sleep_fade) in frames; in and out shrink together to fit the track."""
    fi = int(round(spec.fade_in_s * sample_rate))
    fo = int(round(spec.fade_out_s * sample_rate))
    if fi + fo > frames:
        scale = frames / float(fi + fo)
        fi, fo = int(fi * scale), int(fo * scale)
    sf = int(round((spec.sleep_fade_s or 0.0) * sample_rate))
    return fi, fo, min(sf, frames)


def fade_envelope(spec: MasterSpec, frames: int, sample_rate: int, start: int, n: int) -> Optional[np.ndarray]:
    """Float32 ``(n,)`` master fade gains for frames ``start..start+n`` (None when all 1).

    Fade in/out are raised-cosine; the sleep fade is a long fade to silence over the last
    ``sleep_fade_s`` (raised-cosine in amplitude, cubed so it spends its time quiet, as a listener
    falling asleep wants)."""
    fi, fo, sf = fade_lengths(spec, frames, sample_rate)
    stop = start + n
    g: Optional[np.ndarray] = None
    pos = None

    def positions() -> np.ndarray:
        nonlocal pos
        if pos is None:
            pos = np.arange(start, stop, dtype=np.float64) + 0.5
        return pos

    if fi and start < fi:
        g = _fade_curve(positions() / fi)
    if fo and stop > frames - fo:
        out = _fade_curve((frames - positions()) / fo)
        g = out if g is None else g * out
    if sf and stop > frames - sf:
        out = _fade_curve((frames - positions()) / sf) ** 3
        g = out if g is None else g * out
    return None if g is None else g.astype(np.float32)
