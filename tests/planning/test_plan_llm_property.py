"""Property: whatever the model says (500 random replies), the plan is valid and within the
style's limits."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.generation.catalogue import CATALOGUE
from studio.planning.guardrails import limit_violations
from studio.planning.llm import LLMPlanner
from studio.types import Caption, ScenePlan

TYPES = [t.name for t in CATALOGUE] + ["loons", "", "RAIN LIGHT", "rain-light"]
numbers = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.text(max_size=5), st.booleans())
layer = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={
        "role": st.sampled_from(["background", "foreground", "bed", None, 3]),
        "name": st.text(max_size=60),
        "sound": st.text(max_size=80),
        "gain_db": numbers, "pan": numbers, "width": numbers, "intensity": numbers, "distance": numbers,
        "events_per_minute": numbers, "level_db": numbers,
    },
)
structured = st.builds(
    lambda layers, wrap: wrap(json.dumps({"layers": layers}, allow_nan=True)),
    st.lists(layer, max_size=30),
    st.sampled_from([lambda s: s, lambda s: f"```json\n{s}\n```", lambda s: "Plan: " + s.replace('"', "'"), lambda s: s[: len(s) // 2]]),
)
replies = st.one_of(st.text(max_size=300), structured)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(reply=replies, style_name=st.sampled_from(["meditation", "sleep", "focus", "nature-walk", "cinematic"]))
def test_random_replies_always_give_valid_plans(reply, style_name):
    from studio.planning.styles import load_style

    style = load_style(style_name)
    planner = LLMPlanner(lambda messages, seed: reply)
    plan = planner.plan(Caption(text="a wooden cabin by a lake at dusk"), style=style, duration_s=90, seed=5)
    assert ScenePlan.model_validate_json(plan.to_json()) == plan
    assert plan.planner in ("llm", "llm->rules")
    assert limit_violations(plan, style) == []
