"""Style limits every plan is held to, whoever proposed its layers (rules or an LLM).

:func:`enforce_style` takes proposed :class:`LayerChoice` objects in priority order and
returns the ones the style allows, with a note for each change:

- the picture comes first: a type the style bans (by name or category) is *softened* when the
  picture or caption gave it (sources in :data:`FROM_PICTURE`): kept distant, low, dark and
  sparse, with a note. Only layers nobody named (``similar``) are swapped for a gentler type
  (rain_heavy -> rain_light) or dropped;
- sudden types (thunder, gulls) in a style without sudden sounds are *tamed* (distant, quiet,
  rare) when the picture gave them, dropped otherwise;
- duplicates keep the first and are dropped with one note counting them, whether the first
  was kept or dropped (a banned type listed four times gets one note, not four);
  conflicting types (light and heavy rain) keep the first;
- bed and event counts are cut to the style's maxima; the style's own layers (tonal drone,
  binaural beats, signature layers) are added; ``max_layers`` counts all of them together,
  and the style's own layers give way first.

Every note is a plain sentence; its technical detail goes to ``notes.details`` when ``notes``
is a :class:`studio.planning.notes.PlanNotes`.

Numbers (gain, pan, width, event interval and level, intensity, distance) are clamped when
the plan is assembled (:mod:`studio.planning.assemble`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional

from studio.sounds.catalogue import BY_NAME
from studio.planning.lexicon import CONFLICTS, DEFAULT_DISTANCE, GENTLER
from studio.planning.notes import say, sentence, sound_name

# How a style softens a sound it would not choose itself (issue 16: soften, never delete).
SOFT_DISTANCE = 0.8
SOFT_INTENSITY = 0.3
SOFT_GAIN_DB = -6.0
SOFT_BRIGHTNESS = 0.3
SOFT_INTERVAL_FACTOR = 2.0
TAMED_LEVEL_DB = -6.0  # a tamed sudden event sits this much further below the bed
TAMED_INTERVAL_FACTOR = 2.0

if TYPE_CHECKING:  # pragma: no cover
    from studio.planning.styles import Style


@dataclass(frozen=True)
class LayerChoice:
    """A proposed layer before assembly. ``None`` means "use the planner's default".

    ``source`` says why it is there: ``explicit`` (the caption names the sound), ``implied``
    (the scene implies it), ``fallback`` (an unknown caption phrase matched by MiniLM),
    ``tag`` (an image sound tag), ``llm`` (the LLM planner), ``event`` (the scene's natural
    foreground events, e.g. bird calls in a forest), ``similar`` (sentence similarity to the
    whole clause) or ``style`` (the style adds it). ``softened`` marks a layer the style keeps
    but softens (distant, low, dark, sparse) instead of removing; ``tamed`` a sudden sound kept
    distant, quiet and rare.
    """

    type: str
    role: str
    score: float = 1.0
    source: str = "explicit"
    intensity: float = 0.5
    distance: float = DEFAULT_DISTANCE
    interval_factor: float = 1.0
    tamed: bool = False
    softened: bool = False
    name: Optional[str] = None
    sound: Optional[str] = None
    gain_db: Optional[float] = None
    pan: Optional[float] = None
    width: Optional[float] = None
    mean_interval_s: Optional[float] = None
    level_db: Optional[float] = None
    backend: Optional[str] = None
    params: dict[str, Any] = field(default_factory=dict)


# Sources that come from the picture or its caption: a style softens them, never removes them.
FROM_PICTURE = ("explicit", "implied", "fallback", "tag", "llm", "event")


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
    choices: list[LayerChoice],
    style: "Style",
    notes: list,
    *,
    add_style_layers: bool = True,
    excluded: frozenset[str] | set[str] = frozenset(),
) -> list[LayerChoice]:
    """The layers the style keeps, in order beds, events, then the style's own layers (see
    the module doc). ``excluded``: types the scene rules out (the style does not add them)."""
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
            say(notes, "Left out a sound the planner does not know.", f"dropped unknown layer type {choice.type!r}")
            continue
        label = sound_name(choice.type)
        rival = _conflicts_with(choice.type, kept_types)
        if rival:
            # A stronger layer of the same family is already in (light rain after rain on a
            # roof): say so only when the caption itself asked for the weaker one.
            if choice.source in ("explicit", "llm"):
                say(notes, sentence(f"{label} is covered by {sound_name(rival)}, so it is not a separate layer."),
                    f"dropped {choice.type}: conflicts with {rival}")
            continue
        reason = banned_reason(choice.type, style)
        if reason and choice.source in FROM_PICTURE:
            # The picture comes first: the style shapes how the sound is heard, not whether.
            say(notes, sentence(f"{label} kept soft and distant for {style.name}."),
                f"{choice.type}: {reason}; softened (distance >= {SOFT_DISTANCE}, intensity <= {SOFT_INTENSITY}, "
                f"{SOFT_GAIN_DB:+g} dB, brightness {SOFT_BRIGHTNESS}, events {SOFT_INTERVAL_FACTOR:g}x sparser)")
            choice = replace(choice, softened=True)
        elif reason:
            gentler = GENTLER.get(choice.type)
            if gentler and banned_reason(gentler, style) is None and gentler not in kept_types and not _conflicts_with(gentler, kept_types):
                say(notes, sentence(f"{label} became {sound_name(gentler)} to suit {style.name}."),
                    f"{choice.type} {reason}; using {gentler} instead")
                choice = replace(choice, type=gentler, role=BY_NAME[gentler].default_role, name=None)
            else:
                say(notes, sentence(f"{label} left out: {style.name} avoids it and the picture does not name it."),
                    f"dropped {choice.type} (source {choice.source}): {reason}")
                continue
        if BY_NAME[choice.type].sudden and not style.allow_sudden and not choice.tamed:
            if choice.source in FROM_PICTURE:
                say(notes, sentence(f"{label} kept far away and rare, so it never startles ({style.name})."),
                    f"{choice.type}: sudden type in style {style.name!r} (allow_sudden false); tamed "
                    f"(distance >= 0.85, level {TAMED_LEVEL_DB:+g} dB, interval x{TAMED_INTERVAL_FACTOR:g})")
                choice = replace(choice, tamed=True, role="foreground")  # rare events, never a bed
            else:
                say(notes, sentence(f"{label} left out: {style.name} avoids sudden sounds the picture does not name."),
                    f"dropped {choice.type} (source {choice.source}): style {style.name!r} allows no sudden sounds")
                continue
        kept.append(choice)
        kept_types.add(choice.type)
    if repeats:
        say(notes, "Sounds listed twice are used once.", f"dropped {repeats} repeated layer(s) of a type listed before")

    style_layers: list[LayerChoice] = []
    if add_style_layers:
        style_layers = _style_layers(style, kept_types, set(excluded), notes)
        style_types = {c.type for c in style_layers}
        kept = [c for c in kept if c.type not in style_types or c.source != "style"]
        style_layers = [c for c in style_layers if c.type not in kept_types]
    beds = [c for c in kept if c.role == "background"]
    events = [c for c in kept if c.role == "foreground"]
    cut = beds[style.max_beds:] + events[style.max_events:]
    beds, events = beds[: style.max_beds], events[: style.max_events]
    # max_layers counts beds, events and the style's own layers together. The picture's
    # layers come first: the style's own layers give way, then extras the picture did not name.
    while len(beds) + len(events) + len(style_layers) > style.max_layers:
        if style_layers and (len(beds) + len(events) >= 1):
            dropped = style_layers.pop()  # signature, then binaural, then tonal
            say(notes, sentence(f"No room for the style's {sound_name(dropped.type)}: the picture's sounds come first."),
                f"style layer {dropped.type} dropped: max_layers {style.max_layers}")
            continue
        pool = events if events and (len(events) >= len(beds) or not beds[1:]) else beds
        cut.append(pool.pop())
    if cut:
        names = ", ".join(sound_name(c.type) for c in cut)
        say(notes, sentence(f"{style.name} keeps at most {style.max_layers} layers, so {names} had to go."),
            f"cut to max_beds {style.max_beds}, max_events {style.max_events}, max_layers {style.max_layers}: "
            f"dropped {', '.join(c.type for c in cut)}")
    return beds + events + style_layers


def _style_layers(style: "Style", present: set[str], excluded: set[str], notes: list) -> list[LayerChoice]:
    """The style's own layers: its tonal bed (drone in the style's key and mode), binaural
    bed and signature layers (focus's masking noise, meditation's bowl ...), in the order they
    are given up when room runs out last-first: tonal, binaural, signature."""
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
    taken = set(present) | {c.type for c in out}
    for type_name in style.signature_types:
        if type_name in taken or type_name in excluded or _conflicts_with(type_name, taken):
            continue
        kind = BY_NAME[type_name]
        out.append(LayerChoice(type_name, kind.default_role, source="style", intensity=0.35, distance=0.6,
                               gain_db=style.signature_gain_db))
        taken.add(type_name)
        say(notes, sentence(f"{sound_name(type_name)} added: {style.name} likes it."), f"style signature layer {type_name}")
    return out


def limit_violations(plan, style: "Style") -> list[str]:
    """Every way ``plan`` breaks ``style``'s limits (empty when it keeps them all).

    Checked: layer count, bed and event counts (the style's own layers aside), banned types
    and categories (allowed only softened), sudden types (allowed only tamed), gains, pans,
    event levels and intervals, slug names, per-layer seeds and the master settings.
    """
    import re

    from studio.planning.assemble import layer_seed

    problems: list[str] = []
    style_types = {style.tonal_type} if style.tonal else set()
    if style.binaural_band:
        style_types.add("binaural_beats")
    style_types |= {l.params.get("type") for l in plan.layers if l.params.get("added_by") == "style"}
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
        if reason and not (layer.params.get("softened") is True and float(layer.params.get("distance", 0)) >= SOFT_DISTANCE):
            problems.append(f"{where}: {type_name} {reason} and not softened")
        if BY_NAME[type_name].sudden and not style.allow_sudden:
            if layer.events is None or layer.params.get("density") != 0.2:
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
