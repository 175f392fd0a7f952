"""Plan table <-> plan, and what each edit costs (re-mix, re-arrange, regenerate)."""

from __future__ import annotations

import math

import pytest

from studio.errors import PlanError
from studio.ui.engine import change_kind, loudness_match_gain_db
from studio.ui.plan_table import COLUMNS, apply_rows, plan_frame, plan_rows


def _edit(plan, name, **values):
    rows = plan_rows(plan)
    for r in rows:
        if r["name"] == name:
            r.update(values)
    return apply_rows(plan, rows)


def test_rows_show_every_column_and_density_per_role(plan):
    rows = plan_rows(plan)
    assert [list(r) for r in rows] == [list(COLUMNS)] * 2
    lake, bowl = rows
    assert lake["density"] == 0.4  # bed: procedural texture density
    assert bowl["density"] == 6.0  # events: per minute (one every 10 s)
    frame = plan_frame(plan)
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2


def test_unchanged_rows_give_the_same_plan(plan):
    assert apply_rows(plan, plan_frame(plan).to_dict(orient="records")) == plan


def test_mix_edits_are_remix_only(plan):
    new = _edit(plan, "lake", gain_db=-6.0, pan=0.25, mute=True)
    lake = new.layers[0]
    assert (lake.gain_db, lake.pan, lake.mute) == (-6.0, 0.25, True)
    assert change_kind(plan, new) == ("remix", [])
    solo = _edit(plan, "bowl", solo=True)
    assert change_kind(plan, solo) == ("remix", [])
    louder = plan.model_copy(update={"master": plan.master.model_copy(update={"target_lufs": -14.0})})
    assert change_kind(plan, louder) == ("remix", [])
    assert change_kind(plan, plan) == ("none", [])


def test_event_density_rearranges_and_clears_times(plan):
    new = _edit(plan, "bowl", density=2.0)
    ev = new.layers[1].events
    assert math.isclose(ev.mean_interval_s, 30.0) and ev.times_s is None and ev.count is None
    assert change_kind(plan, new) == ("arrange", [])


def test_prompt_backend_seed_and_bed_density_regenerate_only_that_layer(plan):
    assert change_kind(plan, _edit(plan, "lake", prompt="a lake at night")) == ("regenerate", ["lake"])
    assert change_kind(plan, _edit(plan, "bowl", backend="musicgen")) == ("regenerate", ["bowl"])
    assert change_kind(plan, _edit(plan, "lake", density=0.9)) == ("regenerate", ["lake"])
    assert change_kind(plan, plan.replace_layer("bowl", seed=99)) == ("regenerate", ["bowl"])
    longer = plan.model_copy(update={"duration_s": 60.0})
    assert change_kind(plan, longer) == ("arrange", [])  # a new length re-arranges the kept takes


def test_prompt_edit_drops_the_planners_procedural_type_so_the_engine_rematches(plan):
    assert plan.layers[0].params["type"] == "lake_lapping"
    new = _edit(plan, "lake", prompt="crackling campfire", density=0.7)
    assert new.layers[0].params == {"density": 0.7}
    assert _edit(plan, "lake", gain_db=-3.0).layers[0].params["type"] == "lake_lapping"  # a mix edit keeps it
    from studio.generation.procedural.backend import ProceduralBackend

    gen, _, sim = ProceduralBackend()._resolve(new.layers[0].prompt, dict(new.layers[0].params))
    assert gen.name == "campfire" and sim is not None


def test_role_change_to_foreground_gets_events(plan):
    new = _edit(plan, "lake", role="foreground")
    assert new.layers[0].role == "foreground" and new.layers[0].events is not None


def test_bad_edits_name_the_layer_and_the_range(plan):
    with pytest.raises(PlanError, match=r"layer 'lake'.*gain_db"):
        _edit(plan, "lake", gain_db=40.0)
    with pytest.raises(PlanError, match=r"'bowl'.*events per minute"):
        _edit(plan, "bowl", density=0.0)
    with pytest.raises(PlanError, match=r"'lake'.*0\.\.1"):
        _edit(plan, "lake", density=3.0)
    with pytest.raises(PlanError, match=r"'lake'.*prompt"):
        _edit(plan, "lake", prompt="x" * 1001)


def test_loudness_match_brings_variants_down_to_the_quietest():
    assert loudness_match_gain_db([-14.0, -18.0, None, -16.5]) == [-4.0, 0.0, 0.0, -1.5]
    assert loudness_match_gain_db([None, None]) == [0.0, 0.0]


def test_procedural_bed_without_density_shows_what_the_engine_uses(plan):
    from studio.types import LayerSpec

    bed = LayerSpec(name="rain", prompt="sparse rain drops on leaves", params={"type": "rain_light"}, seed=1)
    plain = LayerSpec(name="pad", prompt="warm drone pad", params={"type": "drone_pad"}, seed=2)
    neural = LayerSpec(name="n", prompt="rain", backend="musicgen", seed=3)
    p = plan.model_copy(update={"layers": (bed, plain, neural)})
    rows = {r["name"]: r["density"] for r in plan_rows(p)}
    assert rows == {"rain": 0.2, "pad": 0.5, "n": None}  # "sparse" hints 0.2; default 0.5
    assert apply_rows(p, plan_rows(p)) == p  # showing it is not an edit
    edited = _edit(p, "pad", density=0.9)
    assert edited.layers[1].params["density"] == 0.9 and change_kind(p, edited) == ("regenerate", ["pad"])


def test_length_choices_and_loudness_presets():
    from studio.errors import InputError
    from studio.planning.styles import load_style
    from studio.ui.settings import LENGTH_CHOICES, length_seconds, loudness_presets, master_overrides

    assert [length_seconds(c, None) for c in LENGTH_CHOICES if c != "custom"] == [300.0, 600.0, 1200.0, 1800.0, 3600.0]
    assert length_seconds("custom", 45.0) == 45.0
    with pytest.raises(InputError):
        length_seconds("custom", 2.0)  # below the 5-second minimum
    with pytest.raises(InputError, match="unknown length"):
        length_seconds("90 min", None)
    assert loudness_presets()[0] == "style default" and "spotify" in loudness_presets()
    style = load_style("sleep")
    assert master_overrides("style default", "sleep")["target_lufs"] == float(style.target_lufs)
    assert master_overrides("spotify", "sleep")["target_lufs"] == -14.0
    assert master_overrides("custom", "sleep", custom_lufs=-20.0, custom_ceiling_dbtp=-2.0) == {
        "target_lufs": -20.0, "ceiling_dbtp": -2.0, "preset": "custom"}
    with pytest.raises(InputError, match="unknown loudness preset"):
        master_overrides("broadcast", "sleep")
