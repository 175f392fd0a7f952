"""Procedural *scenes* for the offline tagger: catalogue types mixed as a field recording mixes them.

A real recording of a place is rarely one source: a thunderstorm is heavy rain, thunder and gusty
wind at once; a street is traffic with voices and steps; a boat at a shore is lapping water with
the knocks of wood in it. A tagger that learned each type only alone has never heard the mixture.
Each recipe below is a scene written from what such a place sounds like (and, where the rules
planner has one, from its scene words, ``studio.planning.lexicon``: "storm" → heavy rain, thunder,
gusty wind; "harbour" → seagulls, surf; "forest" → wind in leaves, songbirds; "meadow" → insects,
breeze). They were fixed before any evaluation with them was run (docs/reverse.md), and they cover
scenes of many kinds, not only the kinds of the bundled recordings.

A recipe's first layer is the scene's main sound at 0 dB; every other layer is drawn, per render
seed, uniformly in its level range (dB relative to the main one). Each layer is a looped procedural
render (``studio.reverse.dataset.procedural_clip``) normalised to the same RMS before its gain, so
the levels are what a listener hears. The mixture's soft training target gives each type its share
of the mixture's power (the tagger names what is loud in it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.types import AudioClip


@dataclass(frozen=True)
class Recipe:
    """``layers``: ``(type, lowest dB, highest dB)`` relative to the first layer (which is ``0, 0``)."""

    name: str
    layers: tuple[tuple[str, float, float], ...]


RECIPES: tuple[Recipe, ...] = (
    Recipe("thunderstorm", (("rain_heavy", 0, 0), ("thunder", -6, 0), ("wind_gusty", -12, -3))),
    Recipe("rain-in-trees", (("rain_light", 0, 0), ("wind_leaves", -15, -6))),
    Recipe("storm-on-a-roof", (("rain_on_roof", 0, 0), ("thunder", -9, -3))),
    Recipe("city-street", (("city_traffic", 0, 0), ("cafe_murmur", -15, -6), ("footsteps_gravel", -18, -9))),
    Recipe("busy-cafe", (("cafe_murmur", 0, 0), ("city_traffic", -18, -9))),
    Recipe("boat-at-a-shore", (("lake_lapping", 0, 0), ("rowing_oars", -12, -3), ("breeze", -18, -9))),
    Recipe("harbour", (("ocean_surf", 0, 0), ("seagulls", -12, -3))),
    Recipe("windy-beach", (("ocean_surf", 0, 0), ("wind_gusty", -15, -6))),
    Recipe("forest-by-day", (("songbirds", 0, 0), ("wind_leaves", -12, -3))),
    Recipe("dawn-by-a-stream", (("dawn_chorus", 0, 0), ("stream", -15, -6))),
    Recipe("summer-night", (("crickets", 0, 0), ("frogs", -15, -6), ("owl", -18, -9))),
    Recipe("meadow", (("insect_hum", 0, 0), ("breeze", -12, -3))),
    Recipe("campfire-at-night", (("campfire", 0, 0), ("crickets", -15, -6), ("breeze", -18, -9))),
    Recipe("train-journey", (("train", 0, 0), ("brown_noise", -12, -6))),
    Recipe("windy-day", (("wind_gusty", 0, 0), ("wind_leaves", -9, 0))),
    Recipe("river-in-a-forest", (("river", 0, 0), ("songbirds", -15, -6))),
    Recipe("jungle", (("cicadas", 0, 0), ("insect_hum", -9, -3), ("rain_light", -15, -6))),
    Recipe("playground", (("children_playing", 0, 0), ("city_traffic", -15, -6))),
)

BY_NAME: dict[str, Recipe] = {r.name: r for r in RECIPES}


def recipe_types() -> list[str]:
    """Every catalogue type some recipe uses (sorted)."""
    return sorted({t for r in RECIPES for t, _, _ in r.layers})


def source_name(recipe: Recipe, seed: int) -> str:
    """The ``Windows.source`` of a mixture's windows: ``"mix:NAME:SEED"`` (its gains follow from it)."""
    return f"mix:{recipe.name}:{seed}"


def parse_source(source: str) -> tuple[Recipe, int]:
    _, name, seed = source.split(":")
    return BY_NAME[name], int(seed)


def layer_gains_db(recipe: Recipe, seed: int) -> list[float]:
    """Each layer's gain in dB for render seed ``seed`` (deterministic across processes)."""
    from studio.reverse.augment import window_seed

    rng = np.random.default_rng(window_seed("mix", recipe.name, seed))
    return [0.0] + [float(rng.uniform(lo, hi)) for _, lo, hi in recipe.layers[1:]]


def type_shares(recipe: Recipe, seed: int) -> dict[str, float]:
    """``{type: share of the mixture's power}`` (summing to 1): the soft training target."""
    power = [10.0 ** (g / 10.0) for g in layer_gains_db(recipe, seed)]
    total = sum(power)
    out: dict[str, float] = {}
    for (t, _, _), p in zip(recipe.layers, power):
        out[t] = out.get(t, 0.0) + p / total
    return out


def layer_seed(seed: int, layer: int, n_seeds: int) -> int:
    """Which render seed layer ``layer`` of mixture ``seed`` uses: a different render for each
    layer, so two mixtures never share all their layers."""
    return (seed + layer) % n_seeds


def mix(recipe: Recipe, seed: int, clips: dict[tuple[str, int], AudioClip], n_seeds: int) -> AudioClip:
    """The mixture for ``seed`` from ``clips`` (``(type, render seed) -> clip``, all the same rate
    and length): each layer RMS-normalised, scaled by its gain, summed, then scaled to peak ≤ 1."""
    gains = layer_gains_db(recipe, seed)
    total = None
    rate = None
    for i, ((t, _, _), g) in enumerate(zip(recipe.layers, gains)):
        clip = clips.get((t, layer_seed(seed, i, n_seeds)))
        if clip is None:
            raise KeyError(f"scene {recipe.name!r} needs a render of {t!r} seed {layer_seed(seed, i, n_seeds)}")
        x = clip.to_stereo().samples.astype(np.float64)
        rms = float(np.sqrt(np.mean(x**2)))
        x = x * (10.0 ** (g / 20.0) / rms if rms > 1e-9 else 0.0)
        total = x if total is None else total[:, : x.shape[1]] + x[:, : total.shape[1]]
        rate = clip.sample_rate
    peak = float(np.max(np.abs(total)))
    return AudioClip((total / max(peak, 1.0)).astype(np.float32), rate)
