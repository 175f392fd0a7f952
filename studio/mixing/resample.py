"""Bring backend audio to the project format: float32 stereo ``(2, n)`` at 48 kHz."""

from __future__ import annotations

from math import gcd

import numpy as np

from studio.errors import AudioError
from studio.types import AudioClip


SUBSONIC_HZ = 20.0


def remove_subsonic(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Zero-phase 20 Hz high-pass (2nd-order Butterworth run forwards and backwards).

    DC and sub-sonic drift are inaudible and invisible to the loudness meter (K-weighting cuts
    them) but they eat peak headroom: left in, the limiter would squash the audible program to
    make room for them and the mix would miss its loudness target."""
    from scipy.signal import butter, sosfiltfilt

    if x.shape[1] < 64:
        return (x - x.mean(axis=1, keepdims=True)).astype(np.float32)
    sos = butter(2, SUBSONIC_HZ, "highpass", fs=sample_rate, output="sos")
    return np.ascontiguousarray(sosfiltfilt(sos, x, axis=-1, padtype="even"), dtype=np.float32)


def to_project(clip: AudioClip, sample_rate: int) -> np.ndarray:
    """``clip`` as float32 ``(2, frames)`` at ``sample_rate`` Hz, sub-sonics removed.

    Mono is duplicated, more channels are folded by :meth:`AudioClip.to_stereo`; a different
    rate is converted with ``scipy.signal.resample_poly`` (polyphase, Kaiser window), which is
    exact-ratio and deterministic. The output has ``round(frames * sample_rate / clip_rate)``
    frames. Then :func:`remove_subsonic`.
    """
    if clip.frames == 0:
        raise AudioError("a backend returned an empty clip; every take needs at least one frame")
    stereo = clip.to_stereo().samples
    if clip.sample_rate == sample_rate:
        return remove_subsonic(stereo, sample_rate)
    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), int(clip.sample_rate))
    up, down = int(sample_rate) // g, int(clip.sample_rate) // g
    out = resample_poly(stereo, up, down, axis=-1)
    want = int(round(clip.frames * sample_rate / clip.sample_rate))
    out = out[:, :want]
    if out.shape[1] < want:
        out = np.pad(out, ((0, 0), (0, want - out.shape[1])))
    return remove_subsonic(out, sample_rate)
