"""Bring backend audio to the project format: float32 stereo ``(2, n)`` at 48 kHz."""

from __future__ import annotations

from math import gcd

import numpy as np

from studio.errors import AudioError
from studio.types import AudioClip


def to_project(clip: AudioClip, sample_rate: int) -> np.ndarray:
    """``clip`` as float32 ``(2, frames)`` at ``sample_rate`` Hz.

    Mono is duplicated, more channels are folded by :meth:`AudioClip.to_stereo`; a different
    rate is converted with ``scipy.signal.resample_poly`` (polyphase, Kaiser window), which is
    exact-ratio and deterministic. The output has ``round(frames * sample_rate / clip_rate)``
    frames.
    """
    if clip.frames == 0:
        raise AudioError("a backend returned an empty clip; every take needs at least one frame")
    stereo = clip.to_stereo().samples
    if clip.sample_rate == sample_rate:
        return np.ascontiguousarray(stereo, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), int(clip.sample_rate))
    up, down = int(sample_rate) // g, int(clip.sample_rate) // g
    out = resample_poly(stereo, up, down, axis=-1)
    want = int(round(clip.frames * sample_rate / clip.sample_rate))
    out = out[:, :want]
    if out.shape[1] < want:
        out = np.pad(out, ((0, 0), (0, want - out.shape[1])))
    return np.ascontiguousarray(out, dtype=np.float32)
