"""Style presets, stored as TOML under ``prompt_templates/styles/<name>.toml``.

A style sets the loudness target and default length, how many beds and events a plan has and
how dense the events are, which layer types are welcome or banned, which catalogue categories
are allowed (``allowed_categories``, empty = all) or banned, whether a tonal layer is
added (and in which key and mode), and how far an event may rise above the bed. The planners
(rules and LLM) clamp every plan to these limits; see :mod:`studio.planning.guardrails`.

Field units: ``*_lufs`` LUFS (ITU-R BS.1770), ``*_dbtp`` dB true peak, ``*_db`` dB,
``*_s`` seconds, ``max_pan`` 0..1 (absolute pan limit), ``tempo_bpm`` beats per minute.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Optional

from studio.errors import InputError, PlanError

STYLES_DIR = Path(__file__).resolve().parents[2] / "prompt_templates" / "styles"

BINAURAL_BANDS = ("delta", "theta", "alpha", "beta")  # the procedural engine's presets


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    target_lufs: float = -18.0
    ceiling_dbtp: float = -1.0
    default_duration_s: float = 600.0
    min_beds: int = 1
    max_beds: int = 3
    min_events: int = 0
    max_events: int = 2
    event_interval_s: float = 30.0  # mean time between events of one foreground layer
    event_ceiling_db: float = 0.0  # no event louder than the bed by more than this
    allow_sudden: bool = False
    preferred_types: tuple[str, ...] = ()
    banned_types: tuple[str, ...] = ()
    banned_categories: tuple[str, ...] = ()
    allowed_categories: tuple[str, ...] = ()  # when set, only these catalogue categories (empty = all)
    tonal: bool = False
    tonal_type: str = "drone_pad"
    key: str = "D"
    mode: str = "dorian"
    binaural_band: Optional[str] = None
    fade_in_s: float = 5.0
    fade_out_s: float = 10.0
    max_gain_db: float = 0.0
    extra: dict = field(default_factory=dict)
    # --- added for the planners (all optional in the TOML files) ---
    min_gain_db: float = -30.0  # quietest layer a planner may set
    max_layers: int = 6  # beds + events + tonal + binaural, never above types.MAX_LAYERS
    min_event_interval_s: float = 8.0  # densest event rate a plan may ask for
    max_event_interval_s: float = 600.0
    event_level_db: float = -4.0  # default event level relative to the bed (then clamped)
    max_pan: float = 0.8  # |pan| limit for layers and event pan ranges
    tonal_gain_db: float = -12.0
    binaural_gain_db: float = -20.0
    mood: str = "calm"  # words for musical prompts (MusicGen, Stable Audio)
    tempo_bpm: int = 60
    sleep_fade_s: Optional[float] = None
    # --- character (issue 21): how the style chooses and treats layers ---
    signature_types: tuple[str, ...] = ()  # layers the style brings itself (focus: masking noise)
    signature_gain_db: float = -8.0
    scene_events: int = 1  # how many of the scene's natural foreground events to add
    bed_width: float = 1.2  # stereo width of scene beds (0 mono .. 2 wide)
    brightness: float = 0.5  # spectral tilt of scene layers, 0 dark .. 1 bright
    event_distance: float = 0.0  # scene events sit at least this far (0 near .. 1 far)


def style_names() -> list[str]:
    return sorted(p.stem for p in STYLES_DIR.glob("*.toml"))


def _check(name: str, style: Style) -> None:
    """Refuse a preset file that would let a plan break its own contract."""
    from studio.sounds.catalogue import BY_NAME
    from studio.types import MAX_LAYERS

    problems: list[str] = []
    for listed in (style.preferred_types, style.banned_types):
        problems += [f"unknown layer type {t!r}" for t in listed if t not in BY_NAME]
    categories = {t.category for t in BY_NAME.values()}
    for listed in (style.banned_categories, style.allowed_categories):
        problems += [f"unknown category {c!r} (known: {', '.join(sorted(categories))})" for c in listed if c not in categories]
    if style.tonal and style.tonal_type not in BY_NAME:
        problems.append(f"unknown tonal_type {style.tonal_type!r}")
    if style.binaural_band is not None and style.binaural_band not in BINAURAL_BANDS:
        problems.append(f"binaural_band must be one of {', '.join(BINAURAL_BANDS)}")
    problems += [f"unknown signature type {t!r}" for t in style.signature_types if t not in BY_NAME]
    if not 0 <= style.min_beds <= style.max_beds or style.max_beds < 1:
        problems.append("need 0 <= min_beds <= max_beds and max_beds >= 1")
    if not 0 <= style.min_events <= style.max_events:
        problems.append("need 0 <= min_events <= max_events")
    if not 1 <= style.max_layers <= MAX_LAYERS:
        problems.append(f"max_layers must be 1..{MAX_LAYERS}")
    if not style.min_gain_db <= style.max_gain_db <= 12.0 or style.min_gain_db < -60.0:
        problems.append("need -60 <= min_gain_db <= max_gain_db <= 12")
    if not 0.0 <= style.max_pan <= 1.0:
        problems.append("max_pan must be within 0..1")
    if not 0.25 < style.min_event_interval_s <= style.event_interval_s <= style.max_event_interval_s:
        problems.append("need 0.25 < min_event_interval_s <= event_interval_s <= max_event_interval_s")
    if not -40.0 <= style.event_ceiling_db <= 12.0:
        problems.append("event_ceiling_db must be within -40..12")
    for attr in ("target_lufs", "ceiling_dbtp", "default_duration_s", "fade_in_s", "fade_out_s"):
        if not math.isfinite(float(getattr(style, attr))):
            problems.append(f"{attr} must be a finite number")
    if problems:
        raise PlanError(f"style preset {name!r} is invalid: {'; '.join(problems)}")


@lru_cache(maxsize=None)
def load_style(name: str) -> Style:
    """The named preset; :class:`InputError` listing the choices for an unknown name."""
    path = STYLES_DIR / f"{name}.toml"
    if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise InputError(f"unknown style {name!r}; choose one of: {', '.join(style_names())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"style preset {name!r} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(Style)} - {"extra", "name"}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
    try:
        style = Style(name=name, **{"description": "", **values}, extra={k: v for k, v in data.items() if k not in known and k != "name"})
    except TypeError as exc:
        raise PlanError(f"style preset {name!r} is invalid: {exc}") from None
    _check(name, style)
    return style
