"""Choices offered by the Studio's settings: lengths, loudness presets, model names.
No Streamlit here."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from studio.errors import InputError

LENGTH_CHOICES: dict[str, Optional[float]] = {
    "5 min": 300.0,
    "10 min": 600.0,
    "20 min": 1200.0,
    "30 min": 1800.0,
    "60 min": 3600.0,
    "custom": None,
}
STYLE_DEFAULT = "style default"
CUSTOM = "custom"


def length_seconds(choice: str, custom_s: Optional[float]) -> float:
    """Seconds for a length choice; ``custom`` takes ``custom_s`` (validated by the pipeline)."""
    from studio.pipeline import validate_duration

    if choice not in LENGTH_CHOICES:
        raise InputError(f"unknown length {choice!r}; choose one of: {', '.join(LENGTH_CHOICES)}")
    value = LENGTH_CHOICES[choice]
    return validate_duration(custom_s if value is None else value)


def _field(preset: Any, name: str) -> Any:
    if isinstance(preset, Mapping):
        return preset.get(name)
    return getattr(preset, name, None)


def loudness_presets() -> list[str]:
    """``style default`` first, then the mixer's master presets (spotify, youtube, ...)."""
    from studio.mixing.presets import MASTER_PRESETS

    names = [n for n in MASTER_PRESETS if n != CUSTOM]
    return [STYLE_DEFAULT, *names, CUSTOM]


def master_overrides(preset: str, style: str, *, custom_lufs: float = -18.0, custom_ceiling_dbtp: float = -1.0) -> dict[str, Any]:
    """MasterSpec fields for a loudness choice: the style's own target, a named delivery
    preset, or ``custom`` values."""
    from studio.planning.styles import load_style

    if preset == STYLE_DEFAULT:
        s = load_style(style)
        return {"target_lufs": float(s.target_lufs), "ceiling_dbtp": float(s.ceiling_dbtp), "preset": "custom"}
    if preset == CUSTOM:
        return {"target_lufs": float(custom_lufs), "ceiling_dbtp": float(custom_ceiling_dbtp), "preset": CUSTOM}
    from studio.mixing.presets import MASTER_PRESETS

    if preset not in MASTER_PRESETS:
        raise InputError(f"unknown loudness preset {preset!r}; choose one of: {', '.join(loudness_presets())}")
    p = MASTER_PRESETS[preset]
    out: dict[str, Any] = {"preset": preset}
    for name in ("target_lufs", "ceiling_dbtp"):
        value = _field(p, name)
        if value is not None:
            out[name] = float(value)
    return out


def availability(kind: str) -> list[tuple[str, bool, str]]:
    """``(name, ok, reason)`` for every registered captioner/planner/backend/tagger."""
    from importlib import import_module

    where = {
        "captioner": ("studio.vision", "CAPTIONERS"),
        "tagger": ("studio.vision", "TAGGERS"),
        "planner": ("studio.planning", "PLANNERS"),
        "backend": ("studio.generation", "BACKENDS"),
    }
    module, attr = where[kind]
    registry = getattr(import_module(module), attr)
    out = []
    for name in registry.names():
        try:
            ok, reason = registry.availability(name)
        except Exception as exc:  # noqa: BLE001 - a broken optional adapter must not break the page
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        out.append((name, ok, reason))
    return out
