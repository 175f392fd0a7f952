"""The plan as an editable table, and the table's edits back into a validated plan.

Columns: ``name`` (read-only), ``role``, ``prompt``, ``backend``, ``gain_db``, ``pan``,
``density``, ``mute``, ``solo``, ``seed`` (read-only; "New take" changes it).

``density`` means, per role:
- foreground: events per minute (``60 / events.mean_interval_s``); an edit clears the
  resolved event times so they are placed again at the new rate;
- background: the procedural texture density 0..1 (``params["density"]``, or the engine's
  own choice when unset: the prompt's hint, else 0.5), empty when the layer's backend does
  not use one.

No Streamlit here: the page passes ``st.data_editor``'s edited DataFrame to :func:`apply_rows`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from studio.errors import PlanError
from studio.types import LayerSpec, ScenePlan, validation_message

COLUMNS = ("name", "role", "prompt", "backend", "gain_db", "pan", "density", "mute", "solo", "seed")
EDITABLE = ("role", "prompt", "backend", "gain_db", "pan", "density", "mute", "solo")


def layer_density(layer: LayerSpec) -> float | None:
    """The density the layer renders with: events per minute for a foreground layer; for a
    bed its ``params["density"]``, or for a procedural bed without one the value the engine
    will use (the prompt's hint such as "sparse" -> 0.2, else 0.5). None when the layer's
    backend has no density (neural backends)."""
    if layer.role == "foreground" and layer.events is not None:
        return round(60.0 / layer.events.mean_interval_s, 3)
    value = layer.params.get("density")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if layer.backend == "procedural":
        from studio.generation.procedural.params import UNIT_DEFAULTS, prompt_hints

        return float(prompt_hints(layer.prompt).get("density", UNIT_DEFAULTS["density"]))
    return None


def plan_rows(plan: ScenePlan) -> list[dict[str, Any]]:
    """One dict per layer with :data:`COLUMNS` keys."""
    return [
        {
            "name": l.name,
            "role": l.role,
            "prompt": l.prompt,
            "backend": l.backend,
            "gain_db": float(l.gain_db),
            "pan": float(l.pan),
            "density": layer_density(l),
            "mute": bool(l.mute),
            "solo": bool(l.solo),
            "seed": int(l.seed),
        }
        for l in plan.layers
    ]


def plan_frame(plan: ScenePlan):
    """:func:`plan_rows` as a pandas DataFrame (the data editor's input)."""
    import pandas as pd

    return pd.DataFrame(plan_rows(plan), columns=list(COLUMNS))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _row_changes(layer: LayerSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("role", "prompt", "backend"):
        value = row.get(key)
        if not _blank(value) and str(value).strip() != getattr(layer, key):
            changes[key] = str(value).strip()
    for key in ("gain_db", "pan"):
        value = row.get(key)
        if not _blank(value) and float(value) != getattr(layer, key):
            changes[key] = float(value)
    for key in ("mute", "solo"):
        value = row.get(key)
        if not _blank(value) and bool(value) != getattr(layer, key):
            changes[key] = bool(value)
    density = row.get("density")
    old = layer_density(layer)
    role = changes.get("role", layer.role)
    if not _blank(density) and (old is None or abs(float(density) - old) > 1e-9):
        density = float(density)
        if role == "foreground" and layer.events is not None:
            if not 0 < density <= 60:
                raise PlanError(f"layer {layer.name!r}: density for events is events per minute, from above 0 up to 60; got {density:g}")
            # A new rate: drop the resolved times so the planner's resolver places them again.
            changes["events"] = {
                **layer.events.model_dump(),
                "mean_interval_s": 60.0 / density,
                "count": None,
                "times_s": None,
                "pans": None,
                "take_indices": None,
            }
        else:
            if not 0 <= density <= 1:
                raise PlanError(f"layer {layer.name!r}: density for a bed is 0..1; got {density:g}")
            changes["params"] = {**layer.params, "density": density}
    if "prompt" in changes and "type" in layer.params:
        # The planner's catalogue pick followed the old prompt: drop it so the procedural
        # engine matches the new prompt (and records the new match in the stem's metadata).
        changes["params"] = {k: v for k, v in changes.get("params", layer.params).items() if k != "type"}
    if changes.get("role") == "foreground" and layer.events is None and "events" not in changes:
        # A bed turned into events needs an events spec; the defaults place one every 20 s.
        changes["events"] = {}
    return changes


def apply_rows(plan: ScenePlan, rows: Iterable[Mapping[str, Any]]) -> ScenePlan:
    """``plan`` with the table's values applied (rows matched by ``name``, in plan order).
    Raises PlanError naming the layer and field when an edit is not allowed."""
    from pydantic import ValidationError

    by_name = {str(r.get("name")): r for r in rows}
    new_plan = plan
    for layer in plan.layers:
        row = by_name.get(layer.name)
        if row is None:
            continue
        changes = _row_changes(layer, row)
        if not changes:
            continue
        try:
            new_plan = new_plan.replace_layer(layer.name, **changes)
        except ValidationError as exc:
            raise PlanError(f"layer {layer.name!r}: {validation_message(exc)}") from None
    return new_plan


def frame_records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame (or list of dicts) as a list of row dicts."""
    if hasattr(frame, "to_dict"):
        return [dict(r) for r in frame.to_dict(orient="records")]
    return [dict(r) for r in frame]
