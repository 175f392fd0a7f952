"""Style presets: the five required ones load with their limits; bad names and bad files fail clearly."""

from __future__ import annotations

import pytest

from studio.errors import InputError, PlanError

REQUIRED = ("meditation", "sleep", "focus", "nature-walk", "cinematic")


def test_required_styles_exist_with_sensible_limits(styles):
    for name in REQUIRED:
        s = styles[name]
        assert s.name == name
        assert -30 <= s.target_lufs <= -10 and s.ceiling_dbtp <= -1.0
        assert 60 <= s.default_duration_s <= 3600
        assert 1 <= s.max_beds and 0 <= s.max_events and s.max_layers <= 16
        assert s.min_event_interval_s <= s.event_interval_s
    # the sleep style is the quiet one and never chooses sudden sounds itself
    assert styles["sleep"].target_lufs < styles["meditation"].target_lufs < styles["focus"].target_lufs
    assert "thunder" in styles["sleep"].banned_types and not styles["sleep"].allow_sudden
    assert styles["meditation"].tonal and (styles["meditation"].key, styles["meditation"].mode) == ("D", "dorian")
    assert styles["cinematic"].tonal and styles["cinematic"].allow_sudden
    assert not styles["nature-walk"].tonal and "noise" in styles["nature-walk"].banned_categories


def test_unknown_style_lists_the_choices():
    from studio.planning.styles import load_style

    with pytest.raises(InputError) as err:
        load_style("lofi")
    for name in REQUIRED:
        assert name in str(err.value)
    with pytest.raises(InputError):
        load_style("../sleep")


def test_a_broken_preset_file_is_refused(tmp_path, monkeypatch):
    from studio.planning import styles as mod

    (tmp_path / "odd.toml").write_text('description = "x"\nbanned_types = ["unicorns"]\nmax_beds = 0\n')
    monkeypatch.setattr(mod, "STYLES_DIR", tmp_path)
    mod.load_style.cache_clear()
    try:
        with pytest.raises(PlanError) as err:
            mod.load_style("odd")
        assert "unicorns" in str(err.value) and "max_beds" in str(err.value)
    finally:
        mod.load_style.cache_clear()


def test_allowed_categories_are_a_whitelist(styles, rules):
    from studio.planning.guardrails import banned_reason, limit_violations
    from studio.planning.llm import build_messages
    from studio.types import Caption

    med = styles["meditation"]
    assert "places" not in med.allowed_categories and {"water", "tonal"} <= set(med.allowed_categories)
    assert banned_reason("footsteps_gravel", med) == "category 'places' not allowed by style 'meditation'"
    assert banned_reason("stream", med) is None
    plan = rules.plan(Caption(text="footsteps on a gravel path beside a stream, a clock ticking"), style=med, duration_s=60, seed=0)
    types = {l.params["type"] for l in plan.layers}
    assert {"stream", "footsteps_gravel", "clock_ticking"} <= types  # named: kept, softened
    assert all(l.params.get("softened") for l in plan.layers if l.params["type"] in ("footsteps_gravel", "clock_ticking"))
    assert "Footsteps on gravel kept soft and distant for meditation." in plan.notes
    assert any("footsteps_gravel" in d and "not allowed" in d for d in plan.note_details)
    assert limit_violations(plan, med) == []
    system = build_messages(Caption(text="a stream"), med, duration_s=60)[0]["content"]
    assert "- footsteps_gravel [" not in system and "- stream [" in system
    # a style without the list allows every category
    assert styles["cinematic"].allowed_categories == () and banned_reason("footsteps_gravel", styles["cinematic"]) is None


def test_a_whitelist_keeps_the_styles_own_drone_and_unknown_categories_are_refused(tmp_path, monkeypatch):
    from studio.planning import styles as mod
    from studio.planning.guardrails import banned_reason

    (tmp_path / "nat.toml").write_text('description = "x"\ntonal = true\nallowed_categories = ["water", "air"]\n')
    (tmp_path / "bad.toml").write_text('description = "x"\nallowed_categories = ["wetness"]\n')
    monkeypatch.setattr(mod, "STYLES_DIR", tmp_path)
    mod.load_style.cache_clear()
    try:
        nat = mod.load_style("nat")
        assert banned_reason("drone_pad", nat) is None and banned_reason("kalimba", nat) is not None
        with pytest.raises(PlanError) as err:
            mod.load_style("bad")
        assert "unknown category 'wetness'" in str(err.value)
    finally:
        mod.load_style.cache_clear()
