"""Turn the layer choices a planner made into a validated :class:`ScenePlan`.

Shared by the rules and LLM planners so both give the same schema and obey the same limits.
Here every number is clamped to the style (gain to ``min_gain_db..max_gain_db``, pan to
``±max_pan``, event interval to ``min_event_interval_s..max_event_interval_s``, event level
to at most ``event_ceiling_db``), names are slugged and made unique, prompts are phrased for
the backend, and each layer gets its own seed derived from the plan seed and its name.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Optional, Sequence

from studio.sounds.catalogue import BY_NAME
from studio.planning.guardrails import (
    SOFT_BRIGHTNESS,
    SOFT_DISTANCE,
    SOFT_GAIN_DB,
    SOFT_INTENSITY,
    SOFT_INTERVAL_FACTOR,
    TAMED_INTERVAL_FACTOR,
    TAMED_LEVEL_DB,
    LayerChoice,
    clamp,
)
from studio.planning.lexicon import DEFAULT_DISTANCE
from studio.planning.prompts import layer_prompt
from studio.types import MAX_SEED, Caption, EventSpec, LayerSpec, MasterSpec, ScenePlan, slugify

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style

BED_STEP_DB = -3.0  # each further bed sits this much below the previous one
FAR_BED_DB = -4.0  # a distant bed is this much quieter
DEFAULT_BINAURAL_BAND = "alpha"
MAX_NOTES = 40


def layer_seed(plan_seed: int, name: str) -> int:
    """A 32-bit seed from the plan seed and the layer name, identical in every process
    (sha256, not Python's salted ``hash()``)."""
    digest = hashlib.sha256(f"{int(plan_seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & MAX_SEED


def unique_name(wanted: str, taken: set[str]) -> str:
    base = slugify(wanted, max_len=36)
    name, n = base, 2
    while name in taken:
        name = f"{base}-{n}"
        n += 1
    taken.add(name)
    return name


def _bed_pan(index: int, max_pan: float) -> float:
    # Spread secondary beds a little left and right so they do not pile up in the centre.
    offsets = (0.0, -0.25, 0.25, -0.4, 0.4)
    return clamp(offsets[index % len(offsets)], -max_pan, max_pan, 0.0)


def _events(choice: LayerChoice, style: "Style") -> EventSpec:
    kind = BY_NAME[choice.type]
    event_s = kind.event_s or 4.0
    interval = choice.mean_interval_s
    if interval is None:
        interval = style.event_interval_s * choice.interval_factor
    level = choice.level_db
    if level is None:
        level = style.event_level_db - 6.0 * max(0.0, choice.distance - 0.5)
    if choice.tamed:  # sparse whatever was asked: at least twice the style's usual spacing
        interval = max(interval, style.event_interval_s) * TAMED_INTERVAL_FACTOR
        level = min(level, style.event_level_db + TAMED_LEVEL_DB)
    if choice.softened:
        interval = max(interval, style.event_interval_s) * SOFT_INTERVAL_FACTOR
        level = min(level, style.event_level_db + SOFT_GAIN_DB)
    interval = clamp(interval, style.min_event_interval_s, style.max_event_interval_s, style.event_interval_s)
    interval = max(interval, event_s * 1.5)  # events of one layer should not overlap much
    level = clamp(level, -40.0, style.event_ceiling_db, min(style.event_level_db, style.event_ceiling_db))
    spread = min(style.max_pan, 0.7)
    return EventSpec(
        mean_interval_s=round(interval, 3),
        jitter=0.5,
        min_gap_s=round(min(max(event_s, 0.25 * interval), interval), 3),
        event_s=event_s,
        level_db=round(level, 2),
        pan_range=(-spread, spread),
        takes=3,
    )


def assemble_plan(
    choices: Sequence[LayerChoice],
    *,
    caption: Caption,
    style: "Style",
    duration_s: float,
    seed: int,
    planner: str,
    notes: Sequence[str] = (),
    backend: str = "procedural",
    tonal_backend: Optional[str] = None,
) -> ScenePlan:
    """A validated plan from ``choices`` (already filtered by
    :func:`studio.planning.guardrails.enforce_style`)."""
    taken: set[str] = set()
    layers: list[LayerSpec] = []
    bed_index = 0
    for choice in choices:
        kind = BY_NAME[choice.type]
        own = choice.source == "style"  # the style's own layers keep their own settings
        role = choice.role if choice.role in ("background", "foreground") else kind.default_role
        intensity = clamp(choice.intensity, 0.0, 1.0, 0.5)
        distance = clamp(choice.distance, 0.0, 1.0, DEFAULT_DISTANCE)
        if role == "foreground" and not own:
            distance = max(distance, style.event_distance)  # sleep keeps its events far away
        if choice.tamed:
            intensity, distance = min(intensity, 0.3), max(distance, 0.85)
        if choice.softened:
            intensity, distance = min(intensity, SOFT_INTENSITY), max(distance, SOFT_DISTANCE)
        name = unique_name(choice.name or choice.type.replace("_", "-"), taken)
        params: dict[str, Any] = {"type": choice.type, "intensity": round(intensity, 3), "distance": round(distance, 3)}
        if kind.category not in ("tonal", "noise"):
            params["brightness"] = SOFT_BRIGHTNESS if choice.softened else style.brightness
        if choice.softened:
            params["softened"] = True
        if own:
            params["added_by"] = "style"
        for key, value in choice.params.items():
            if isinstance(value, (str, int, float, bool)) and key != "type":
                params[key] = value
        if choice.type == "binaural_beats":
            params.setdefault("band", DEFAULT_BINAURAL_BAND)
        if kind.category == "tonal" and choice.type != "binaural_beats":
            # Every tuned layer shares the style's key and mode, so bowls and chimes agree with the drone.
            params.setdefault("key", style.key)
            params.setdefault("mode", style.mode)
        if choice.tamed:
            params["density"] = 0.2
        layer_backend = tonal_backend if (tonal_backend and kind.category == "tonal") else (choice.backend or backend)
        prompt, negative = layer_prompt(
            choice.type, layer_backend, style, sound=choice.sound, intensity=intensity, distance=distance, params=params
        )
        if role == "background":
            default_gain = BED_STEP_DB * bed_index + (FAR_BED_DB if distance >= 0.75 else 0.0)
            default_gain += SOFT_GAIN_DB if choice.softened else 0.0
            default_pan = _bed_pan(bed_index, style.max_pan)
            default_width = style.bed_width
            bed_index += 1
            events = None
        else:
            default_gain, default_pan, default_width = 0.0, 0.0, 1.0
            events = _events(replace(choice, distance=distance), style)
        gain = choice.gain_db if choice.gain_db is not None else default_gain
        layers.append(
            LayerSpec(
                name=name,
                role=role,
                prompt=prompt,
                backend=layer_backend,
                negative_prompt=negative,
                params=params,
                gain_db=round(clamp(gain, style.min_gain_db, style.max_gain_db, default_gain), 2),
                pan=round(clamp(choice.pan if choice.pan is not None else default_pan, -style.max_pan, style.max_pan, 0.0), 3),
                width=round(clamp(choice.width if choice.width is not None else default_width, 0.0, 2.0, 1.0), 3),
                seed=layer_seed(seed, name),
                events=events,
            )
        )
    master = MasterSpec(
        target_lufs=style.target_lufs,
        ceiling_dbtp=style.ceiling_dbtp,
        preset="custom",
        # A short track cannot spend most of itself fading: fades take at most a quarter each.
        fade_in_s=min(style.fade_in_s, duration_s / 4.0),
        fade_out_s=min(style.fade_out_s, duration_s / 4.0),
        sleep_fade_s=style.sleep_fade_s,
    )
    return ScenePlan(
        style=style.name,
        duration_s=duration_s,
        seed=seed,
        layers=tuple(layers),
        master=master,
        caption=caption,
        planner=planner,
        notes=tuple(dict.fromkeys(notes))[:MAX_NOTES],
        note_details=tuple(dict.fromkeys(getattr(notes, "details", ())))[:MAX_NOTES],
    )
