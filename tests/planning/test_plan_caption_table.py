"""The caption table (50 captions): the foundation's first ten per row, and the issue's goals
over the whole table (recall >= 0.9, contradiction-free plans >= 95 %), ahead of a plain
nearest-neighbour baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.planning.scoring import evaluate, load_table, score_row, style_layer_types

ROWS = load_table(Path(__file__).with_name("captions.toml"))


@pytest.fixture(scope="module", autouse=True)
def warm_table(rules):
    rules.warm([r.caption() for r in ROWS])  # one batched embedding call for the whole table


def test_table_size():
    assert len(ROWS) >= 25
    assert all(r.expect and r.contradict for r in ROWS)


@pytest.mark.parametrize("row", ROWS[:12], ids=[r.text[:40] for r in ROWS[:12]])
def test_first_rows_get_their_expected_layers(rules, styles, row):
    style = styles[row.style]
    plan = rules.plan(row.caption(), style=style, duration_s=60, seed=0)
    score = score_row(row, [l.params["type"] for l in plan.layers], style_layer_types(style))
    assert score.missing == () and score.contradicting == (), (score.planned, plan.notes)


def test_whole_table_meets_the_goals_and_beats_nearest_neighbour(rules, styles):
    import numpy as np

    from studio.generation.catalogue import CATALOGUE
    from studio.planning.rules import caption_text, catalogue_matrix, embed_texts

    def plan_types(row):
        style = styles[row.style]
        plan = rules.plan(row.caption(), style=style, duration_s=60, seed=0)
        return [l.params["type"] for l in plan.layers], style_layer_types(style)

    def nearest(row):
        text, extra = caption_text(row.caption())
        vec = embed_texts([" ; ".join([text, *extra])])[0]
        return [CATALOGUE[i].name for i in np.argsort(-(catalogue_matrix() @ vec))[:3]], []

    ours, base = evaluate(plan_types, ROWS), evaluate(nearest, ROWS)
    assert ours.recall >= 0.9
    assert ours.contradiction_rate <= 0.05
    assert ours.recall > base.recall and ours.contradiction_rate < base.contradiction_rate
    assert ours.precision > base.precision
