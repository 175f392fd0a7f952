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
    # the sleep style is the quiet one, bans sudden sounds outright and never tames them
    assert styles["sleep"].target_lufs < styles["meditation"].target_lufs < styles["focus"].target_lufs
    assert "thunder" in styles["sleep"].banned_types and styles["sleep"].sudden_when_asked == "drop"
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
