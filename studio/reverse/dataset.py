"""Training material for the offline tagger and the realism bench: feature windows of the
bundled real recordings (``studio.sounds.recordings``) and of procedural renders.

Procedural renders are made as the pipeline makes a bed (``loop=True``), so the classifier and
the bench judge what a user hears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.reverse.features import WINDOW_S, clip_features
from studio.types import AudioClip


@dataclass(frozen=True)
class Windows:
    """Feature windows ``X`` ``(n, N_FEATURES)`` with the source name of each row (``source``:
    a recording name or a procedural type) and ``origin`` ("real" or "procedural")."""

    X: np.ndarray
    source: np.ndarray  # (n,) str
    origin: np.ndarray  # (n,) str

    @staticmethod
    def concat(parts: list["Windows"]) -> "Windows":
        return Windows(np.concatenate([p.X for p in parts]), np.concatenate([p.source for p in parts]),
                       np.concatenate([p.origin for p in parts]))


def recording_clip(name: str) -> AudioClip:
    """The whole bundled recording ``name`` as an AudioClip."""
    from studio.reverse.intake import load_audio
    from studio.sounds.recordings import recording

    return load_audio(recording(name).path)


def recording_windows(names: list[str] | None = None, *, hop_s: float = WINDOW_S / 2) -> Windows:
    """Windows of the pack's recordings (all of them by default), ``WINDOW_S`` long every ``hop_s``."""
    from studio.sounds.recordings import RECORDINGS

    parts = []
    for rec in RECORDINGS:
        if names is not None and rec.name not in names:
            continue
        X = clip_features(recording_clip(rec.name), hop_s=hop_s)
        parts.append(Windows(X, np.array([rec.name] * len(X)), np.array(["real"] * len(X))))
    return Windows.concat(parts)


def procedural_clip(type_name: str, *, seed: int, duration_s: float) -> AudioClip:
    from studio.generation.procedural import ProceduralBackend

    return ProceduralBackend().generate("", duration_s=duration_s, seed=seed, type=type_name, loop=True)


def procedural_windows(types: list[str], *, seeds: range | list[int] = range(2), duration_s: float = 20.0) -> Windows:
    """Windows of ``duration_s``-second looped renders of each procedural type for each seed."""
    parts = []
    for t in types:
        for seed in seeds:
            X = clip_features(procedural_clip(t, seed=seed, duration_s=duration_s))
            parts.append(Windows(X, np.array([t] * len(X)), np.array(["procedural"] * len(X))))
    return Windows.concat(parts)
