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


def assert_tuning_table_is_well_formed(path, rows, others: tuple[str, ...], min_rows: int) -> None:
    """A development table: labelled as used for tuning in its first line, at least
    ``min_rows`` captions of its own (none copied from the tables named in ``others``, so
    only its own captions are ever printed), every type a catalogue type (a typo would be a
    silent miss), expected and contradicting sounds disjoint, and a known style per row."""
    from studio.planning.scoring import load_table
    from studio.planning.styles import style_names
    from studio.sounds.catalogue import BY_NAME

    assert len(rows) >= min_rows
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert "DEVELOPMENT" in header and "TUNING" in header
    known = {r.text.lower() for name in others for r in load_table(path.parent / name)}
    overlap = sorted({r.text.lower() for r in rows} & known)
    assert not overlap, overlap
    for r in rows:
        expected = {t for e in r.expect for t in e.split("|")}
        assert r.expect and r.contradict, r.text
        assert expected | set(r.ok) | set(r.contradict) <= set(BY_NAME), r.text
        assert not expected & set(r.contradict), r.text
        assert r.style in style_names()
