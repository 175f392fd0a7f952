import json

import numpy as np
import pytest

from studio.errors import AudioError, PlanError
from studio.types import AudioClip, Caption, EventSpec, LayerSpec, ScenePlan, slugify


def test_audioclip_converts_to_float32_channels_first():
    clip = AudioClip(np.zeros(480, dtype=np.int16), 48000)
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == (1, 480)
    assert clip.to_stereo().samples.shape == (2, 480)
    assert clip.duration_s == pytest.approx(0.01)


@pytest.mark.parametrize(
    "samples, message",
    [
        (np.full((2, 10), np.nan), "NaN"),
        (np.zeros((1000, 2)), "(frames, channels)"),
        (np.zeros((2, 2, 2)), "(channels, frames)"),
    ],
)
def test_audioclip_rejects_bad_audio(samples, message):
    with pytest.raises(AudioError, match=message if message != "(frames, channels)" else r"\(frames, channels\)"):
        AudioClip(samples, 48000)


def test_slugify_is_file_safe():
    assert slugify("Rain on the Roof!!") == "rain-on-the-roof"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("   ") == "layer"
    assert LayerSpec(name="Distant Thunder/..", prompt="x").name == "distant-thunder"


def _plan(**kw):
    layers = [
        LayerSpec(name="rain", prompt="light rain", params={"type": "rain_light"}, seed=3),
        LayerSpec(
            name="thunder",
            role="foreground",
            prompt="distant thunder",
            events=EventSpec(mean_interval_s=20, times_s=(1.0, 30.0), pans=(-0.2, 0.3), take_indices=(0, 1)),
        ),
    ]
    return ScenePlan(style="meditation", duration_s=60, seed=1, layers=layers, caption=Caption(text="rain"), **kw)


def test_plan_round_trips_through_json():
    plan = _plan()
    again = ScenePlan.from_json(plan.to_json())
    assert again == plan
    assert json.loads(again.to_json())["layers"][1]["events"]["times_s"] == [1.0, 30.0]


def test_plan_validation_errors_are_plan_errors():
    data = json.loads(_plan().to_json())
    data["layers"][0]["pan"] = 3
    with pytest.raises(PlanError, match="pan"):
        ScenePlan.from_json(json.dumps(data))
    data = json.loads(_plan().to_json())
    data["duration_s"] = 1e9
    with pytest.raises(PlanError, match="duration_s"):
        ScenePlan.from_json(json.dumps(data))


def test_foreground_needs_events_and_names_are_unique():
    with pytest.raises(ValueError, match="events"):
        LayerSpec(name="x", role="foreground", prompt="owl")
    with pytest.raises(ValueError, match="unique"):
        ScenePlan(style="s", duration_s=10, seed=0, layers=[LayerSpec(name="a", prompt="p")] * 2)


def test_event_spec_resolved_lengths_must_match():
    with pytest.raises(ValueError, match="one entry per event"):
        EventSpec(times_s=(1.0, 2.0), pans=(0.0,), take_indices=(0, 0))


def test_replace_layer_validates_and_names_missing():
    plan = _plan()
    louder = plan.replace_layer("rain", gain_db=-3.0)
    assert louder.layers[0].gain_db == -3.0 and plan.layers[0].gain_db == 0.0
    with pytest.raises(PlanError, match="no layer named 'snow'"):
        plan.replace_layer("snow", gain_db=1)
