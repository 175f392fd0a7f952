"""The compact plan schema the LLM writes, its strict check, and its mapping onto layers.

The model writes only what needs judgement: which catalogue types, in which role, described
how, and roughly how loud, where and how often. Everything else (names, seeds, event
requests, master settings, backend phrasing) is filled in and clamped by the planner
(:mod:`studio.planning.assemble`), so the model cannot put anything outside the style's
limits into a plan.

Strict means: a wrong type (a string where a number belongs, an unknown layer type, a role
other than background/foreground, no layers) is an error that triggers the repair round.
Out-of-range numbers are not errors: they are clamped to the style's limits.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from studio.sounds.catalogue import BY_NAME
from studio.planning.guardrails import LayerChoice
from studio.planning.lexicon import DEFAULT_DISTANCE
from studio.planning.prompts import clean_text

MAX_LLM_LAYERS = 64  # only this many proposed layers are read; the style then cuts further
MAX_TEXT = 300

_ALIASES = {"prompt": "sound", "description": "sound", "text": "sound", "layer_type": "type", "kind": "type",
            "gain": "gain_db", "volume_db": "gain_db", "level": "level_db"}


def _number(value: Any, field: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        return None
    return number


class LLMLayer(BaseModel):
    """One layer as the model writes it. Only ``type`` is required."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = Field(description="a catalogue layer type, e.g. rain_light")
    role: Optional[Literal["background", "foreground"]] = Field(
        default=None, description="background = continuous bed; foreground = separate events"
    )
    name: Optional[str] = Field(default=None, max_length=80, description="short name")
    sound: Optional[str] = Field(default=None, max_length=MAX_TEXT, description="short concrete sound description")
    gain_db: Optional[float] = Field(default=None, description="layer gain in dB, 0 loudest bed, negative quieter")
    pan: Optional[float] = Field(default=None, description="-1 left .. 1 right")
    width: Optional[float] = Field(default=None, description="stereo width 0..2")
    intensity: Optional[float] = Field(default=None, description="0 soft .. 1 strong")
    distance: Optional[float] = Field(default=None, description="0 close .. 1 far")
    events_per_minute: Optional[float] = Field(default=None, description="foreground only: how often events occur")
    level_db: Optional[float] = Field(default=None, description="foreground only: event level relative to the beds")

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("each layer must be a JSON object")
        out = dict(data)
        for alias, real in _ALIASES.items():
            if alias in out and real not in out:
                out[real] = out.pop(alias)
        return out

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("type must be a string naming a catalogue layer type")
        name = value.strip().lower().replace("-", "_").replace(" ", "_")
        if name not in BY_NAME:
            raise ValueError(f"unknown layer type {value[:40]!r}; use one of the catalogue names")
        return name

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("name", "sound", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return clean_text(value, MAX_TEXT)

    @field_validator("gain_db", "pan", "width", "intensity", "distance", "events_per_minute", "level_db", mode="before")
    @classmethod
    def _numbers(cls, value: Any, info) -> Optional[float]:
        return _number(value, info.field_name)


class LLMPlan(BaseModel):
    """The model's whole answer: ``{"layers": [...], "notes": "..."}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    layers: list[LLMLayer] = Field(min_length=1)
    notes: Optional[str] = Field(default=None, description="one short sentence on the choices")

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> Optional[str]:
        return clean_text(value, MAX_TEXT) if isinstance(value, str) else None


@lru_cache(maxsize=1)
def compact_schema() -> str:
    """The JSON schema of :class:`LLMPlan`, minified, for the system prompt."""
    return json.dumps(LLMPlan.model_json_schema(), separators=(",", ":"))


def normalise(value: Any) -> Any:
    """Accept the shapes small models produce: a bare list of layers, one layer object, or a
    plan nested under ``plan``/``scene``."""
    if isinstance(value, list):
        return normalise({"layers": value})
    if isinstance(value, dict):
        for key in ("plan", "scene", "scene_plan", "result"):
            if isinstance(value.get(key), (dict, list)) and "layers" not in value:
                return normalise(value[key])
        if "layers" not in value and "type" in value:
            return {"layers": [value]}
        if isinstance(value.get("layers"), list) and len(value["layers"]) > MAX_LLM_LAYERS:
            return {**value, "layers": value["layers"][:MAX_LLM_LAYERS]}
    return value


def validate_plan(value: Any) -> LLMPlan:
    """Strict check; raises ``ValueError`` with a one-line reason."""
    from studio.types import validation_message

    try:
        return LLMPlan.model_validate(normalise(value))
    except ValidationError as exc:
        raise ValueError(validation_message(exc)) from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def to_choices(plan: LLMPlan, explicit_types: set[str]) -> list[LayerChoice]:
    """Layer choices in the model's order; a type the caption itself names counts as explicit
    (so a style may keep it tamed), any other comes from the model."""
    out = []
    for layer in plan.layers:
        interval = None
        if layer.events_per_minute is not None and layer.events_per_minute > 0:
            interval = 60.0 / layer.events_per_minute
        out.append(
            LayerChoice(
                layer.type,
                layer.role or BY_NAME[layer.type].default_role,
                source="explicit" if layer.type in explicit_types else "llm",
                intensity=0.5 if layer.intensity is None else layer.intensity,
                distance=DEFAULT_DISTANCE if layer.distance is None else layer.distance,
                name=layer.name or None,
                sound=layer.sound or None,
                gain_db=layer.gain_db,
                pan=layer.pan,
                width=layer.width,
                mean_interval_s=interval,
                level_db=layer.level_db,
            )
        )
    return out
