"""Style guardrails: a type listed many times is decided once, and its repeats get one note
that counts them, whether the type was kept or dropped."""

from __future__ import annotations

import json

from studio.sounds.catalogue import BY_NAME
from studio.planning.guardrails import LayerChoice, banned_reason, enforce_style, limit_violations
from studio.planning.lexicon import GENTLER
from studio.planning.llm import LLMPlanner
from studio.types import Caption


def _llm(type_name: str, role: str = "foreground") -> LayerChoice:
    return LayerChoice(type_name, role, source="llm")


def test_a_disallowed_type_listed_four_times_gets_one_note_counting_the_repeats(styles):
    style = styles["meditation"]  # footsteps_gravel: category 'places' is not allowed
    notes: list[str] = []
    kept = enforce_style([_llm("footsteps_gravel")] * 4, style, notes, add_style_layers=False)
    assert kept == []
    dropped = [n for n in notes if "footsteps_gravel" in n]
    assert len(dropped) == 1 and "not allowed by style 'meditation'" in dropped[0]
    assert notes == [dropped[0], "dropped 3 repeated layer(s) of a type listed before"]


def test_repeats_of_kept_dropped_and_unknown_types_share_one_count(styles):
    style = styles["meditation"]
    choices = [
        _llm("breeze", "background"), _llm("footsteps_gravel"), _llm("no_such_sound"),
        _llm("breeze", "background"), _llm("footsteps_gravel"), _llm("no_such_sound"),
        _llm("footsteps_gravel"), _llm("breeze", "background"),
    ]  # fmt: skip
    notes: list[str] = []
    kept = enforce_style(choices, style, notes, add_style_layers=False)
    assert [c.type for c in kept] == ["breeze"]
    assert sum("footsteps_gravel" in n for n in notes) == 1
    assert sum("no_such_sound" in n for n in notes) == 1
    assert sum("repeated" in n for n in notes) == 1
    assert "dropped 5 repeated layer(s) of a type listed before" in notes
    assert len(notes) == len(set(notes)) == 3  # no note twice


def test_a_swapped_banned_type_listed_three_times_is_swapped_once(styles):
    """A banned type with a gentler stand-in (rain_heavy -> rain_light): the repeats are
    counted, not swapped again or noted as conflicts."""
    swaps = [
        (style, harsh, gentle)
        for style in styles.values()
        for harsh, gentle in GENTLER.items()
        if banned_reason(harsh, style) and banned_reason(gentle, style) is None
    ]
    assert swaps
    for style, harsh, gentle in swaps:
        notes: list[str] = []
        choice = LayerChoice(harsh, BY_NAME[harsh].default_role, source="llm")
        kept = enforce_style([choice] * 3, style, notes, add_style_layers=False)
        assert [c.type for c in kept] == [gentle]
        assert notes == [notes[0], "dropped 2 repeated layer(s) of a type listed before"]
        assert notes[0].endswith(f"using {gentle} instead")


def test_llm_reply_repeating_a_disallowed_type_gives_one_note(scripted, styles):
    style = styles["meditation"]
    reply = json.dumps({"layers": [{"type": "lake_lapping", "role": "background"}]
                        + [{"type": "footsteps_gravel", "role": "foreground"}] * 4})  # fmt: skip
    planner = LLMPlanner(scripted(reply))
    plan = planner.plan(Caption(text="a lake at dusk"), style=style, duration_s=60, seed=0)
    assert plan.planner == "llm"
    assert [l.params["type"] for l in plan.layers if l.params["type"] != "drone_pad"] == ["lake_lapping"]
    assert sum("footsteps_gravel" in n for n in plan.notes) == 1, plan.notes
    assert "dropped 3 repeated layer(s) of a type listed before" in plan.notes
    assert limit_violations(plan, style) == []
