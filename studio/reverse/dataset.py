"""Training material for the offline tagger and the realism bench: feature windows of the
bundled real recordings (``studio.sounds.recordings``) and of procedural renders.

Procedural renders are made as the pipeline makes a bed (``loop=True``), so the classifier and
the bench judge what a user hears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    copy: np.ndarray = field(default=None)  # (n,) int: 0 the window itself, k > 0 its k-th augmented copy

    def __post_init__(self) -> None:
        if self.copy is None:
            object.__setattr__(self, "copy", np.zeros(len(self.X), np.int64))

    @staticmethod
    def concat(parts: list["Windows"]) -> "Windows":
        return Windows(np.concatenate([p.X for p in parts]), np.concatenate([p.source for p in parts]),
                       np.concatenate([p.origin for p in parts]), np.concatenate([p.copy for p in parts]))

    def rows(self, keep: np.ndarray) -> "Windows":
        return Windows(self.X[keep], self.source[keep], self.origin[keep], self.copy[keep])


def recording_clip(name: str) -> AudioClip:
    """The whole bundled recording ``name`` as an AudioClip."""
    from studio.reverse.intake import load_audio
    from studio.sounds.recordings import recording

    return load_audio(recording(name).path)


def augmented_windows(clip: AudioClip, source: str, origin: str, *, hop_s: float, key: object,
                      augment: bool, texture: bool = False) -> Windows:
    """The clip's ``WINDOW_S`` windows every ``hop_s`` (``copy`` 0) and, with ``augment``, one
    copy of each per kind of ``studio.reverse.augment.KINDS`` (``copy`` 1, 2, ...), seeded per
    window from ``(source, key, window index, kind)``. The copies keep the window's stereo
    statistics (the augmentations are applied to the mono analysis signal)."""
    from studio.reverse.augment import KINDS, window_seed
    from studio.reverse.augment import augment as make_copy
    from studio.reverse.features import (
        ANALYSIS_RATE,
        analysis_signal,
        window_features,
        window_starts,
    )

    mono, stereo = analysis_signal(clip)
    win = round(WINDOW_S * ANALYSIS_RATE)
    ratio = clip.sample_rate / ANALYSIS_RATE
    rows, copies = [], []
    for i, s in enumerate(window_starts(mono.size, win, round(hop_s * ANALYSIS_RATE))):
        part, st = mono[s:s + win], stereo[:, int(s * ratio):int((s + win) * ratio)]
        rows.append(window_features(part, st, texture=texture))
        copies.append(0)
        for k, kind in enumerate(KINDS if augment else ()):
            rows.append(window_features(make_copy(part, kind, window_seed(source, key, i, kind)), st, texture=texture))
            copies.append(k + 1)
    n = len(rows)
    return Windows(np.stack(rows), np.array([source] * n), np.array([origin] * n), np.array(copies))


def recording_windows(names: list[str] | None = None, *, hop_s: float = WINDOW_S / 2,
                      augment: bool = False, texture: bool = False) -> Windows:
    """Windows of the pack's recordings (all of them by default), ``WINDOW_S`` long every ``hop_s``
    (with ``augment``, plus their augmented copies: :func:`augmented_windows`)."""
    from studio.sounds.recordings import RECORDINGS

    parts = []
    for rec in RECORDINGS:
        if names is not None and rec.name not in names:
            continue
        if augment:
            parts.append(augmented_windows(recording_clip(rec.name), rec.name, "real", hop_s=hop_s, key="rec",
                                           augment=True, texture=texture))
            continue
        X = clip_features(recording_clip(rec.name), hop_s=hop_s, texture=texture)
        parts.append(Windows(X, np.array([rec.name] * len(X)), np.array(["real"] * len(X))))
    return Windows.concat(parts)


def procedural_clip(type_name: str, *, seed: int, duration_s: float) -> AudioClip:
    from studio.generation.procedural import ProceduralBackend

    return ProceduralBackend().generate("", duration_s=duration_s, seed=seed, type=type_name, loop=True)


def _render_windows(clip: AudioClip, source: str, origin: str, seed: int, augment: bool, texture: bool) -> Windows:
    """The non-overlapping windows of one synthetic render labelled ``source`` (with
    ``augment``, plus their augmented copies: :func:`augmented_windows`)."""
    if augment:
        return augmented_windows(clip, source, origin, hop_s=WINDOW_S, key=seed, augment=True, texture=texture)
    X = clip_features(clip, texture=texture)
    return Windows(X, np.array([source] * len(X)), np.array([origin] * len(X)))


def procedural_windows(types: list[str], *, seeds: range | list[int] = range(2), duration_s: float = 20.0,
                       augment: bool = False, keep: dict | None = None, texture: bool = False) -> Windows:
    """Windows of ``duration_s``-second looped renders of each procedural type for each seed
    (non-overlapping; with ``augment``, plus their augmented copies: :func:`augmented_windows`).
    ``keep``: a dict whose keys name ``(type, seed)`` renders to keep; each such key is given
    the render, resampled to ``ANALYSIS_RATE`` (stereo), for :func:`mixture_windows`."""
    from studio.evaluation.clap import resample
    from studio.reverse.features import ANALYSIS_RATE

    parts = []
    for t in types:
        for seed in seeds:
            clip = procedural_clip(t, seed=seed, duration_s=duration_s)
            if keep is not None and (t, seed) in keep:
                keep[(t, seed)] = AudioClip(resample(clip.to_stereo().samples, clip.sample_rate, ANALYSIS_RATE),
                                            ANALYSIS_RATE)
            parts.append(_render_windows(clip, t, "procedural", seed, augment, texture))
    return Windows.concat(parts)


def mixture_windows(clips: dict, *, seeds: range | list[int], augment: bool = False,
                    texture: bool = False) -> Windows:
    """Windows of every scene of ``studio.reverse.mixtures.RECIPES`` for each seed, mixed from
    ``clips`` (``(type, render seed) -> clip``, as :func:`procedural_windows` keeps them); origin
    ``"mixture"``, source ``"mix:NAME:SEED"`` (with ``augment``, plus augmented copies)."""
    from studio.reverse.mixtures import RECIPES, mix, source_name

    parts = []
    for recipe in RECIPES:
        for seed in seeds:
            clip = mix(recipe, seed, clips, len(seeds))
            name = source_name(recipe, seed)
            parts.append(_render_windows(clip, name, "mixture", seed, augment, texture))
    return Windows.concat(parts)
