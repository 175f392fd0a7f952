"""Issue 16, third round: the third development table (captions_dev3.toml, used for tuning),
scoring that tells a style's own layer from the same sound named by the caption, and the
general mechanisms tuned on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.planning.scoring import Row, evaluate, load_table, plan_layer_types, score_row
from studio.types import Caption

from picture_checks import STYLES, assert_every_style_keeps_the_picture, types_of

HERE = Path(__file__).parent
DEV3 = load_table(HERE / "captions_dev3.toml")


@pytest.fixture(scope="module", autouse=True)
def warm(rules):
    rules.warm([r.caption() for r in DEV3])


def test_dev3_table_is_well_formed_and_separate():
    from studio.planning.styles import style_names
    from studio.sounds.catalogue import BY_NAME

    assert len(DEV3) >= 50
    header = (HERE / "captions_dev3.toml").read_text(encoding="utf-8").splitlines()[0]
    assert "DEVELOPMENT" in header and "TUNING" in header
    others = {r.text.lower() for name in ("captions.toml", "captions_blip_tuned.toml", "captions_dev2.toml", "captions_unseen.toml")
              for r in load_table(HERE / name)}
    overlap = sorted({r.text.lower() for r in DEV3} & others)
    assert not overlap, overlap  # only dev3 captions can be printed here
    for r in DEV3:
        expected = {t for e in r.expect for t in e.split("|")}
        assert r.expect and r.contradict, r.text
        assert expected | set(r.ok) | set(r.contradict) <= set(BY_NAME), r.text
        assert not expected & set(r.contradict), r.text
        assert r.style in style_names()


def test_dev3_table_meets_the_goals(rules, styles):
    def plan_types(row):
        return plan_layer_types(rules.plan(row.caption(), style=styles[row.style], duration_s=60, seed=0))

    summary = evaluate(plan_types, DEV3)
    assert summary.recall >= 0.9 and summary.contradiction_rate <= 0.05, summary.as_dict()


@pytest.mark.parametrize("row", DEV3, ids=[r.text[:40] for r in DEV3])
def test_every_style_keeps_the_named_subject(rules, styles, row):
    assert_every_style_keeps_the_picture(rules, styles, row)


def test_a_sound_the_caption_names_counts_even_when_the_style_has_it_too(rules, styles):
    """Meditation adds a singing bowl of its own; a bowl the caption names is a scene layer
    and satisfies the row, while the style's drone (named by nobody) still does not."""
    style = styles["meditation"]
    plan = rules.plan(Caption(text="a singing bowl on a wooden floor"), style=style, duration_s=60, seed=0)
    types, own = plan_layer_types(plan)
    bowl = [l for l in plan.layers if l.params["type"] == "singing_bowl"]
    assert len(bowl) == 1 and bowl[0].params.get("added_by") != "style"
    assert "singing_bowl" not in own and style.tonal_type in own
    row = Row(text="x", expect=("singing_bowl", f"{style.tonal_type}|room_tone"))
    assert score_row(row, types, own).missing == (f"{style.tonal_type}|room_tone",)
    # Without the caption naming one, the style's own bowl is there and does not count.
    assert "singing_bowl" in style.signature_types
    plain = rules.plan(Caption(text="a quiet lake at noon"), style=style, duration_s=60, seed=0)
    types, own = plan_layer_types(plain)
    assert "singing_bowl" in own, (types, plain.notes)
    assert score_row(Row(text="y", expect=("singing_bowl",)), types, own).missing == ("singing_bowl",)
