"""Style guardrails: a type listed many times is decided once, and its repeats get one note
that counts them, whether the type was kept, softened or dropped; the picture's layers are
softened, never removed; ``max_layers`` counts beds, events and the style's own layers."""

from __future__ import annotations

import json

from studio.sounds.catalogue import BY_NAME
from studio.planning.guardrails import LayerChoice, banned_reason, enforce_style, limit_violations
from studio.planning.lexicon import GENTLER
from studio.planning.llm import LLMPlanner
from studio.planning.notes import PlanNotes
from studio.types import Caption


def _llm(type_name: str, role: str = "foreground") -> LayerChoice:
    return LayerChoice(type_name, role, source="llm")


def _guess(type_name: str, role: str = "foreground") -> LayerChoice:
    """A layer nobody named (clause similarity): the style may still drop it."""
    return LayerChoice(type_name, role, source="similar")


def test_a_named_disallowed_type_listed_four_times_is_softened_once(styles):
    style = styles["meditation"]  # footsteps_gravel: category 'places' is not allowed
    notes = PlanNotes()
    kept = enforce_style([_llm("footsteps_gravel")] * 4, style, notes, add_style_layers=False)
    assert [(c.type, c.softened) for c in kept] == [("footsteps_gravel", True)]
    assert notes == ["Footsteps on gravel kept soft and distant for meditation.", "Sounds listed twice are used once."]
    assert "category 'places' not allowed by style 'meditation'" in notes.details[0]
    assert notes.details[1] == "dropped 3 repeated layer(s) of a type listed before"


def test_an_unnamed_disallowed_type_listed_four_times_is_dropped_with_one_note(styles):
    style = styles["meditation"]
    notes = PlanNotes()
    assert enforce_style([_guess("footsteps_gravel")] * 4, style, notes, add_style_layers=False) == []
    assert len(notes) == 2 and "left out" in notes[0] and "twice" in notes[1]


def test_repeats_of_kept_dropped_and_unknown_types_share_one_count(styles):
    style = styles["meditation"]
    choices = [
        _llm("breeze", "background"), _guess("footsteps_gravel"), _llm("no_such_sound"),
        _llm("breeze", "background"), _guess("footsteps_gravel"), _llm("no_such_sound"),
        _guess("footsteps_gravel"), _llm("breeze", "background"),
    ]  # fmt: skip
    notes = PlanNotes()
    kept = enforce_style(choices, style, notes, add_style_layers=False)
    assert [c.type for c in kept] == ["breeze"]
    assert sum("footsteps_gravel" in n for n in notes.details) == 1
    assert sum("no_such_sound" in n for n in notes.details) == 1
    assert "dropped 5 repeated layer(s) of a type listed before" in notes.details
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
        notes = PlanNotes()
        choice = LayerChoice(harsh, BY_NAME[harsh].default_role, source="similar")
        kept = enforce_style([choice] * 3, style, notes, add_style_layers=False)
        assert [c.type for c in kept] == [gentle]
        assert notes.details == [notes.details[0], "dropped 2 repeated layer(s) of a type listed before"]
        assert notes.details[0].endswith(f"using {gentle} instead")


def test_llm_reply_repeating_a_disallowed_type_gives_one_softened_layer(scripted, styles):
    style = styles["meditation"]
    reply = json.dumps({"layers": [{"type": "lake_lapping", "role": "background"}]
                        + [{"type": "footsteps_gravel", "role": "foreground"}] * 4})  # fmt: skip
    planner = LLMPlanner(scripted(reply))
    plan = planner.plan(Caption(text="a lake at dusk"), style=style, duration_s=60, seed=0)
    assert plan.planner == "llm"
    scene = [l for l in plan.layers if l.params.get("added_by") != "style" and l.params["type"] != "drone_pad"]
    assert [l.params["type"] for l in scene] == ["lake_lapping", "footsteps_gravel"]
    assert scene[1].params["softened"] is True and scene[1].params["distance"] >= 0.8
    assert sum("ootsteps" in n for n in plan.notes) == 1, plan.notes
    assert "dropped 3 repeated layer(s) of a type listed before" in plan.note_details
    assert limit_violations(plan, style) == []


def test_max_layers_counts_beds_events_and_style_layers_together(styles):
    """Issue 20: a style with max_layers=4 never gives more than 4 layers, however many beds,
    events and own layers (drone, binaural, signature) compete; the picture's layers win."""
    from dataclasses import replace

    for base in styles.values():
        style = replace(base, max_layers=4, max_beds=3, max_events=3)
        choices = [LayerChoice(t, "background") for t in ("rain_light", "stream", "breeze")]
        choices += [LayerChoice(t, "foreground", source="event") for t in ("owl", "songbirds", "kalimba")]
        notes = PlanNotes()
        kept = enforce_style(choices, style, notes)
        assert len(kept) == 4, (base.name, [c.type for c in kept])
        assert all(c.source != "style" for c in kept)  # named layers come before the style's own
        assert any("max_layers 4" in d for d in notes.details)
