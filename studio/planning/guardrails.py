"""Style limits every plan is held to, whoever proposed its layers (rules or an LLM).

:func:`enforce_style` takes proposed :class:`LayerChoice` objects in priority order and
returns the ones the style allows, with a note for each change:

- banned types and categories are dropped (or swapped for a gentler type, rain_heavy ->
  rain_light, when the style bans the harsh one);
- sudden types (thunder, gulls) in a style without sudden sounds are kept distant, quiet and
  sparse when the caption asked for them and the style says ``sudden_when_asked = "tame"``,
  dropped otherwise;
- duplicates keep the first and are dropped with one note counting them, whether the first
  was kept or dropped (a banned type listed four times gets one "dropped" note, not four);
  conflicting types (light and heavy rain) keep the first;
- bed and event counts are cut to the style's maxima, and the style's tonal and binaural
  layers are added, all within ``max_layers``.

Numbers (gain, pan, width, event interval and level, intensity, distance) are clamped when
the plan is assembled (:mod:`studio.planning.assemble`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional

from studio.sounds.catalogue import BY_NAME
from studio.planning.lexicon import CONFLICTS, DEFAULT_DISTANCE, GENTLER

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style


@dataclass(frozen=True)
class LayerChoice:
    """A proposed layer before assembly. ``None`` means "use the planner's default".

    ``source`` says why it is there: ``explicit`` (the caption names the sound), ``implied``
    (the scene implies it), ``similar`` (sentence similarity), ``tag`` (an image sound tag),
    ``style`` (the style adds it) or ``llm``.
    """

    type: str
    role: str
    score: float = 1.0
    source: str = "explicit"
    intensity: float = 0.5
    distance: float = DEFAULT_DISTANCE
    interval_factor: float = 1.0
    tamed: bool = False
    name: Optional[str] = None
    sound: Optional[str] = None
    gain_db: Optional[float] = None
    pan: Optional[float] = None
    width: Optional[float] = None
    mean_interval_s: Optional[float] = None
    level_db: Optional[float] = None
    params: dict[str, Any] = field(default_factory=dict)


def clamp(value: Any, low: float, high: float, default: float) -> float:
    """``value`` as a float within ``low..high``; ``default`` for anything not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if isinstance(value, bool) or not math.isfinite(number):
        return default
    return min(high, max(low, number))


def banned_reason(type_name: str, style: "Style") -> Optional[str]:
    kind = BY_NAME[type_name]
    if type_name in style.banned_types:
        return f"banned by style {style.name!r}"
    if kind.category in style.banned_categories:
        return f"category {kind.category!r} banned by style {style.name!r}"
    if style.allowed_categories and kind.category not in style.allowed_categories and type_name not in _own_layers(style):
        return f"category {kind.category!r} not allowed by style {style.name!r}"
    return None


def _own_layers(style: "Style") -> set[str]:
    """The layer types a style adds itself (its tonal drone, binaural beats): a category
    whitelist does not remove them; only an explicit ban does."""
    own = {style.tonal_type} if style.tonal else set()
    if style.binaural_band:
        own.add("binaural_beats")
    return own


def _conflicts_with(type_name: str, kept: set[str]) -> Optional[str]:
    for group in CONFLICTS:
        if type_name in group:
            for other in group:
                if other != type_name and other in kept:
                    return other
    return None


def enforce_style(
    choices: list[LayerChoice], style: "Style", notes: list[str], *, add_style_layers: bool = True
) -> list[LayerChoice]:
    """The choices the style allows, in order beds, events, tonal, binaural (see module doc)."""
    kept: list[LayerChoice] = []
    kept_types: set[str] = set()
    seen: set[str] = set()  # every type met so far, kept or dropped: each is decided once
    repeats = 0
    for choice in choices:
        if choice.type in seen or choice.type in kept_types:
            # An LLM may list one type many times (up to 64): one layer per type, and a type
            # dropped once (unknown, banned, conflicting, sudden) is not noted again.
            if choice.source != "style":
                repeats += 1
            continue
        seen.add(choice.type)
        if choice.type not in BY_NAME:
            notes.append(f"dropped unknown layer type {choice.type!r}")
            continue
        rival = _conflicts_with(choice.type, kept_types)
        if rival:
            # A stronger layer of the same family is already in (light rain after rain on a
            # roof): say so only when the caption itself asked for the weaker one.
            if choice.source in ("explicit", "llm"):
                notes.append(f"dropped {choice.type}: conflicts with {rival}")
            continue
        reason = banned_reason(choice.type, style)
        if reason:
            gentler = GENTLER.get(choice.type)
            if gentler and banned_reason(gentler, style) is None and gentler not in kept_types and not _conflicts_with(gentler, kept_types):
                notes.append(f"{choice.type} {reason}; using {gentler} instead")
                choice = replace(choice, type=gentler, role=BY_NAME[gentler].default_role, name=None)
            else:
                notes.append(f"dropped {choice.type}: {reason}")
                continue
        if BY_NAME[choice.type].sudden and not style.allow_sudden:
            if choice.source == "explicit" and style.sudden_when_asked == "tame":
                notes.append(f"{choice.type} kept distant, quiet and sparse: style {style.name!r} avoids sudden sounds")
                choice = replace(choice, tamed=True)
            else:
                why = "asked for, but" if choice.source == "explicit" else "not asked for, and"
                notes.append(f"dropped {choice.type}: {why} style {style.name!r} allows no sudden sounds")
                continue
        kept.append(choice)
        kept_types.add(choice.type)
    if repeats:
        notes.append(f"dropped {repeats} repeated layer(s) of a type listed before")

    style_layers: list[LayerChoice] = []
    if add_style_layers:
        style_layers = _style_layers(style, kept_types, notes)
        style_types = {c.type for c in style_layers}
        kept = [c for c in kept if c.type not in style_types]
    beds = [c for c in kept if c.role == "background"]
    events = [c for c in kept if c.role == "foreground"]
    room = style.max_layers - len(style_layers)
    if room < 1:  # a style always keeps at least one scene layer
        style_layers = style_layers[: style.max_layers - 1]
        room = 1
    n_beds = min(len(beds), style.max_beds, room)
    n_events = min(len(events), style.max_events, room - n_beds)
    for cut, kind, limit in ((beds[n_beds:], "bed", n_beds), (events[n_events:], "event", n_events)):
        if cut:
            notes.append(
                f"kept {limit} {kind} layer(s) within style {style.name!r} limits; dropped {', '.join(c.type for c in cut)}"
            )
    return beds[:n_beds] + events[:n_events] + style_layers


def _style_layers(style: "Style", present: set[str], notes: list[str]) -> list[LayerChoice]:
    """The tonal bed (drone in the style's key and mode) and binaural bed the style asks for."""
    out: list[LayerChoice] = []
    if style.tonal and banned_reason(style.tonal_type, style) is None:
        kind = BY_NAME[style.tonal_type]
        params: dict[str, Any] = {"key": style.key, "mode": style.mode}
        out.append(
            LayerChoice(
                style.tonal_type, kind.default_role, source="style", intensity=0.4, params=params,
                gain_db=style.tonal_gain_db, pan=0.0, width=1.5,
            )
        )
    if style.binaural_band and banned_reason("binaural_beats", style) is None:
        out.append(
            LayerChoice(
                "binaural_beats", "background", source="style", intensity=0.4,
                params={"band": style.binaural_band}, gain_db=style.binaural_gain_db, pan=0.0, width=1.0,
            )
        )
    return out


def limit_violations(plan, style: "Style") -> list[str]:
    """Every way ``plan`` breaks ``style``'s limits (empty when it keeps them all).

    Checked: layer count, bed and event counts (the style's own tonal and binaural layers
    aside), banned types and categories, sudden types, gains, pans, event levels and
    intervals, slug names, per-layer seeds and the master settings.
    """
    import re

    from studio.planning.assemble import layer_seed

    problems: list[str] = []
    style_types = {style.tonal_type} if style.tonal else set()
    if style.binaural_band:
        style_types.add("binaural_beats")
    if len(plan.layers) > style.max_layers:
        problems.append(f"{len(plan.layers)} layers > max_layers {style.max_layers}")
    scene = [l for l in plan.layers if l.params.get("type") not in style_types]
    beds = [l for l in scene if l.role == "background"]
    events = [l for l in scene if l.role == "foreground"]
    if len(beds) > style.max_beds:
        problems.append(f"{len(beds)} beds > max_beds {style.max_beds}")
    if len(events) > style.max_events:
        problems.append(f"{len(events)} events > max_events {style.max_events}")
    for layer in plan.layers:
        type_name = layer.params.get("type")
        where = f"layer {layer.name!r}"
        if type_name not in BY_NAME:
            problems.append(f"{where}: unknown type {type_name!r}")
            continue
        reason = banned_reason(type_name, style)
        if reason:
            problems.append(f"{where}: {type_name} {reason}")
        if BY_NAME[type_name].sudden and not style.allow_sudden:
            if style.sudden_when_asked != "tame" or layer.events is None or layer.params.get("density") != 0.2:
                problems.append(f"{where}: sudden type {type_name} not tamed")
        if not style.min_gain_db <= layer.gain_db <= style.max_gain_db:
            problems.append(f"{where}: gain_db {layer.gain_db} outside {style.min_gain_db}..{style.max_gain_db}")
        if abs(layer.pan) > style.max_pan + 1e-9:
            problems.append(f"{where}: pan {layer.pan} beyond ±{style.max_pan}")
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", layer.name):
            problems.append(f"{where}: name is not a slug")
        if layer.seed != layer_seed(plan.seed, layer.name):
            problems.append(f"{where}: seed is not derived from the plan seed")
        ev = layer.events
        if ev is not None:
            if ev.level_db > style.event_ceiling_db + 1e-9:
                problems.append(f"{where}: event level {ev.level_db} dB above ceiling {style.event_ceiling_db}")
            if not style.min_event_interval_s - 1e-9 <= ev.mean_interval_s <= max(style.max_event_interval_s, ev.event_s * 1.5) + 1e-9:
                problems.append(f"{where}: event interval {ev.mean_interval_s} s outside the style's range")
            if max(abs(ev.pan_range[0]), abs(ev.pan_range[1])) > style.max_pan + 1e-9:
                problems.append(f"{where}: event pan range beyond ±{style.max_pan}")
    if plan.master.target_lufs != style.target_lufs or plan.master.ceiling_dbtp != style.ceiling_dbtp:
        problems.append("master loudness target or ceiling differs from the style")
    if plan.style != style.name:
        problems.append(f"plan style {plan.style!r} is not {style.name!r}")
    return problems
