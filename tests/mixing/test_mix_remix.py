"""remix: new mix settings without regeneration; regeneration-only changes are refused."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from mixing_helpers import simple_plan, simple_sources
from studio.errors import PlanError
from studio.mixing import remix, render_soundscape
from studio.mixing.presets import apply_preset

SR = 48_000


@pytest.fixture(scope="module")
def base():
    plan = simple_plan(duration_s=12.0)
    return render_soundscape(plan, simple_sources(plan))


def test_gain_change_remasters_to_target(base):
    new = remix(base, base.plan.replace_layer("rain", gain_db=-12.0))
    mix = new.mix_clip().samples
    assert abs(pyloudnorm.Meter(SR).integrated_loudness(mix.T.astype(np.float64)) - new.plan.master.target_lufs) <= 0.3
    # Without the counterweight (which re-centres the beds after any bed change) the rain stem
    # is the old one scaled by exactly -12 dB and the wind stem is unchanged (the owl's events
    # follow the bed, which got quieter).
    plain = base.plan.model_copy(update={"master": base.plan.master.model_copy(update={"centre_balance": False})})
    base = remix(base, plain)
    new = remix(base, plain.replace_layer("rain", gain_db=-12.0))
    old_rain = base.stems[0].clip().samples
    new_rain = new.stems[0].clip().samples
    assert np.allclose(new_rain, old_rain * 10 ** (-12 / 20), atol=1e-6)
    assert np.array_equal(new.stems[1].clip().samples, base.stems[1].clip().samples)
    # Sources are reused, not regenerated.
    assert new.sources is base.sources or all(a is b for a, b in zip(new.sources, base.sources))


def test_same_plan_remix_is_identical(base):
    again = remix(base, base.plan)
    assert again.mix_clip().samples.tobytes() == base.mix_clip().samples.tobytes()


def test_master_preset_change(base):
    plan = base.plan.model_copy(update={"master": apply_preset(base.plan.master, "apple-podcasts")})
    new = remix(base, plan)
    assert new.master["target_lufs"] == -16.0 and abs(new.master["integrated_lufs"] + 16.0) <= 0.3


def test_pan_width_mute_solo(base):
    plan = base.plan.replace_layer("wind", pan=-1.0, width=0.0).replace_layer("owl", mute=True)
    new = remix(base, plan)
    wind = new.stems[1].clip().samples
    assert np.abs(wind[1]).max() < 1e-6 < np.abs(wind[0]).max()  # hard left
    assert not new.stems[2].clip().samples.any()


@pytest.mark.parametrize("field, value", [("prompt", "thunder"), ("seed", 4242), ("backend", "musicgen"),
                                          ("params", {"type": "rain_heavy"})])
def test_regeneration_changes_are_refused(base, field, value):
    with pytest.raises(PlanError, match=f"changed {field}; that needs a new render"):
        remix(base, base.plan.replace_layer("rain", **{field: value}))


def test_layer_count_change_is_refused(base):
    plan = base.plan.model_copy(update={"layers": base.plan.layers[:2]})
    with pytest.raises(PlanError, match="adding or removing layers needs a new render"):
        remix(base, plan)


def test_remix_is_exactly_a_fresh_render_of_the_new_plan(base):
    """What a re-mix plays is what ``render --manifest`` of its plan reproduces, byte for byte."""
    plan = base.plan.replace_layer("rain", gain_db=-9.0).replace_layer("wind", pan=0.6, width=0.5)
    remixed = remix(base, plan)
    fresh = render_soundscape(plan, list(base.sources))
    assert remixed.mix_clip().samples.tobytes() == fresh.mix_clip().samples.tobytes()
    assert remixed.master == fresh.master


def test_remix_without_the_matrixed_take_cache_is_identical(base, monkeypatch):
    """Beds past the memory budget are multiplied chunk by chunk: same bytes."""
    import studio.mixing.arrange as arrange

    plan = base.plan.replace_layer("rain", gain_db=-9.0)
    cached = remix(base, plan).mix_clip().samples
    monkeypatch.setattr(arrange, "MATRIXED_TAKES_BYTES", 0)
    uncached = render_soundscape(plan, list(base.sources)).mix_clip().samples
    assert cached.tobytes() == uncached.tobytes()


def test_remix_to_a_new_duration_rearranges_to_the_exact_length(base):
    plan = base.plan.model_copy(update={"duration_s": 17.25})
    new = remix(base, plan)
    mix = new.mix_clip().samples
    assert mix.shape == (2, round(17.25 * SR)) and new.frames == mix.shape[1]
    assert all(s.clip().samples.shape == mix.shape for s in new.stems)
    assert abs(pyloudnorm.Meter(SR).integrated_loudness(mix.T.astype(np.float64)) - plan.master.target_lufs) <= 0.3
