"""``python -m studio plan``: JSON on stdout, one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from studio.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_from_caption_prints_the_plan(capsys):
    code, out, err = run(capsys, "plan", "--caption", "gentle rain on a tin roof with distant thunder", "--seconds", "90", "--seed", "4")
    assert code == 0, err
    plan = json.loads(out)
    types = {l["params"]["type"] for l in plan["layers"]}
    assert {"rain_on_roof", "thunder"} <= types
    assert (plan["style"], plan["duration_s"], plan["seed"], plan["planner"]) == ("meditation", 90.0, 4, "rules")
    assert plan["master"]["target_lufs"] == -18.0


def test_plan_from_an_image_uses_the_analysis_captioner(capsys, scene_image):
    code, out, err = run(capsys, "plan", str(scene_image), "--style", "nature-walk", "--minutes", "2")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["caption"]["source"] == "analysis" and plan["duration_s"] == 120.0
    types = {l["params"]["type"] for l in plan["layers"]}
    assert "lake_lapping" in types  # the file is called quiet_lake_forest.png
    assert not types & {"owl", "city_traffic", "ocean_surf"}


def test_llm_planner_without_its_model_falls_back_visibly(capsys, tmp_path):
    code, out, err = run(capsys, "plan", "--caption", "a stream", "--planner", "llm", "--model", str(tmp_path / "missing"), "--seconds", "30")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["planner"] == "llm->rules" and plan["notes"][0].startswith("LLM unavailable")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "--caption", "rain", "--style", "lofi"], "unknown style 'lofi'; choose one of: cinematic, focus, meditation, nature-walk, sleep"),
        (["plan"], "give either an IMAGE or --caption TEXT"),
        (["plan", "x.png", "--caption", "rain"], "give either an IMAGE or --caption TEXT"),
        (["plan", "--caption", "rain", "--seconds", "0"], "duration must be between"),
        (["plan", "--caption", "rain", "--minutes", "90"], "duration must be between"),
        (["plan", "--caption", "rain", "--seed", "-3"], "seed must be"),
        (["plan", "--caption", "rain", "--planner", "magic"], "unknown planner 'magic'"),
        (["plan", "--caption", "rain", "--model", "x/y"], "--model only applies to --planner llm"),
        (["plan", "--caption", "rain", "--backend", "nope"], "unknown backend 'nope'"),
        (["plan", "--caption", "   "], "the caption is empty"),
        (["plan", "no/such/file.jpg"], "no/such/file.jpg"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
