"""Shared checks of the planning tests: the picture comes first (issue 16)."""

from __future__ import annotations

from studio.planning.guardrails import FROM_PICTURE
from studio.planning.lexicon import CONFLICTS

STYLES = ("cinematic", "focus", "meditation", "nature-walk", "sleep")


def types_of(plan) -> set[str]:
    return {l.params["type"] for l in plan.layers}


def assert_every_style_keeps_the_picture(rules, styles, row) -> tuple[object, dict]:
    """What the caption gave (source in FROM_PICTURE: named, implied, heard by the fallback; a
    mere resemblance of the whole clause may go) is in the plan in every style. Only a stronger
    sound of the same family (light rain under heavy rain) or the style's layer count may take
    one out, and then a note says which. Returns the analysis and the plan of each style."""
    analysis = rules.analyse(row.caption())
    wanted = {t for t, c in analysis.candidates.items() if c.source in FROM_PICTURE}
    plans = {}
    for name in STYLES:
        plan = plans[name] = rules.plan(row.caption(), style=styles[name], duration_s=60, seed=0)
        planned = types_of(plan)
        for type_name in wanted - planned:
            covered = any(type_name in g and (set(g) - {type_name}) & planned for g in CONFLICTS)
            cut = any("max_" in d and type_name in d for d in plan.note_details)
            assert covered or cut, (name, type_name, sorted(planned), plan.note_details)
    return analysis, plans
