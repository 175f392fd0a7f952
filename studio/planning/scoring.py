"""Scoring planners against a caption table (expected and contradicting layer types).

Used by ``tests/planning`` and ``bench/planning.py``. A table row has ``text``, ``expect``
(entries ``"a|b"`` are satisfied by either type), optional ``ok`` (reasonable extras),
``contradict``, ``style`` (default ``cinematic``), ``source`` and ``cues``.

- recall: satisfied expected entries / all expected entries (over the whole table); only
  scene layers satisfy an entry, not the layers the style added itself (its drone, binaural
  bed and signature layers);
- precision: planned scene types that are expected or ok / all planned scene types (the
  layers the style added itself are not counted);

Which layers the style added is read from the plan (``params["added_by"] == "style"``, see
:func:`plan_layer_types`), not from the style's type list: a singing bowl the caption names in
the meditation style is a scene layer and counts, although meditation would add one anyway.
- contradictions: the fraction of plans with at least one contradicting type.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from studio.types import Caption

@dataclass(frozen=True)
class Row:
    text: str
    expect: tuple[str, ...]
    ok: tuple[str, ...] = ()
    contradict: tuple[str, ...] = ()
    style: str = "cinematic"
    source: str = "user"
    cues: tuple[str, ...] = ()

    def caption(self) -> Caption:
        return Caption(text=self.text, source=self.source, cues=self.cues)


@dataclass
class RowScore:
    row: Row
    planned: tuple[str, ...]
    missing: tuple[str, ...]
    extras: tuple[str, ...]
    contradicting: tuple[str, ...]


@dataclass
class Summary:
    rows: list[RowScore] = field(default_factory=list)

    @property
    def recall(self) -> float:
        total = sum(len(r.row.expect) for r in self.rows)
        return 1.0 - sum(len(r.missing) for r in self.rows) / max(1, total)

    @property
    def precision(self) -> float:
        scene = sum(len(r.planned) for r in self.rows)
        return 1.0 - sum(len(r.extras) for r in self.rows) / max(1, scene)

    @property
    def contradiction_rate(self) -> float:
        return sum(bool(r.contradicting) for r in self.rows) / max(1, len(self.rows))

    def as_dict(self) -> dict:
        return {
            "captions": len(self.rows),
            "recall": round(self.recall, 3),
            "precision": round(self.precision, 3),
            "contradictions": round(self.contradiction_rate, 3),
        }


def load_table(path: Path | str) -> list[Row]:
    """Rows of a caption table TOML file (``[[caption]]`` entries)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return [
        Row(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.items()})
        for entry in data["caption"]
    ]


def score_row(row: Row, types: Iterable[str], style_types: Sequence[str] = ()) -> RowScore:
    """Score the layer types one plan chose; ``style_types`` are added by the style, not the scene."""
    types = list(dict.fromkeys(types))
    scene = tuple(t for t in types if t not in style_types)
    # Only scene layers satisfy an expectation: the style's own drone is there whatever the
    # caption says, so it must not count as understanding a spaceship or a temple.
    missing = tuple(e for e in row.expect if not set(e.split("|")) & set(scene))
    allowed = {t for e in row.expect for t in e.split("|")} | set(row.ok)
    extras = tuple(t for t in scene if t not in allowed)
    contradicting = tuple(t for t in types if t in row.contradict)
    return RowScore(row, scene, missing, extras, contradicting)


def evaluate(plan_types: Callable[[Row], tuple[list[str], list[str]]], rows: Sequence[Row]) -> Summary:
    """``plan_types(row) -> (types, style_types)`` for each row, scored into a summary."""
    summary = Summary()
    for row in rows:
        types, style_types = plan_types(row)
        summary.rows.append(score_row(row, types, style_types))
    return summary


def plan_layer_types(plan) -> tuple[list[str], list[str]]:
    """``(types, style_types)`` of a :class:`~studio.types.ScenePlan` for :func:`score_row`:
    every layer's type, and the types of the layers the style added itself (marked
    ``added_by = "style"`` by the assembler). A layer the caption asked for keeps its type even
    when the style would add the same type: the planner adds the style's layer only when the
    scene has none of that type."""
    types = [layer.params["type"] for layer in plan.layers]
    own = [layer.params["type"] for layer in plan.layers if layer.params.get("added_by") == "style"]
    return types, own


def style_layer_types(style) -> list[str]:
    """The types a style may add itself (tonal drone, binaural beats, signature layers).
    For scoring a plan use :func:`plan_layer_types`, which tells a style's layer from a scene
    layer of the same type; this list is for a planner whose plan does not mark them."""
    out = []
    if style.tonal:
        out.append(style.tonal_type)
    if style.binaural_band:
        out.append("binaural_beats")
    return out + [t for t in style.signature_types if t not in out]
