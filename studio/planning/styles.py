"""Style presets, stored as TOML under ``prompt_templates/styles/<name>.toml``.

A style sets the loudness target and default length, how many beds and events a plan has and
how dense the events are, which layer types are welcome or banned, whether a tonal layer is
added (and in which key and mode), and how far an event may rise above the bed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from studio.errors import InputError

STYLES_DIR = Path(__file__).resolve().parents[2] / "prompt_templates" / "styles"


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
    event_interval_s: float = 30.0
    event_ceiling_db: float = 0.0  # no event louder than the bed by more than this
    allow_sudden: bool = False
    preferred_types: tuple[str, ...] = ()
    banned_types: tuple[str, ...] = ()
    banned_categories: tuple[str, ...] = ()
    tonal: bool = False
    tonal_type: str = "drone_pad"
    key: str = "D"
    mode: str = "dorian"
    binaural_band: Optional[str] = None
    fade_in_s: float = 5.0
    fade_out_s: float = 10.0
    max_gain_db: float = 0.0
    extra: dict = field(default_factory=dict)


def style_names() -> list[str]:
    return sorted(p.stem for p in STYLES_DIR.glob("*.toml"))


@lru_cache(maxsize=None)
def load_style(name: str) -> Style:
    """The named preset; :class:`InputError` listing the choices for an unknown name."""
    path = STYLES_DIR / f"{name}.toml"
    if not name or "/" in name or "\\" in name or not path.is_file():
        raise InputError(f"unknown style {name!r}; choose one of: {', '.join(style_names())}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = set(Style.__dataclass_fields__) - {"extra"}
    fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
    fields["name"] = name
    return Style(**fields, extra={k: v for k, v in data.items() if k not in known})
