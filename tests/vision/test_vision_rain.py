"""The rain-streak cue: rain on a pane is found over seeds and parameters; stars, snowfall,
city lights, tree trunks, grass and rooms are not rain. Images get neutral file names, so
nothing depends on words like "rainy" in the name."""

from __future__ import annotations

import importlib.util
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import scene_painters as sp
from PIL import Image

from studio.types import Caption
from studio.vision.analysis import AnalysisCaptioner
from studio.vision.intake import load_image
from studio.vision.rain import measure_rain

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _caption(arr: np.ndarray) -> Caption:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return AnalysisCaptioner().caption(load_image(buf.getvalue(), filename="IMG_1.png"))


@pytest.mark.parametrize("seed", sp.DEV_SEEDS[:5] + sp.CHECK_SEEDS[:5])
def test_rain_on_a_window_is_found_and_said(seed):
    cap = _caption(sp.rain_window(seed))
    assert {"rain", "window"} <= set(cap.cues), (seed, cap.cues)
    assert cap.text.startswith("Rain on a window "), cap.text
    assert "calm and still" not in cap.text and "busy with detail" not in cap.text


@pytest.mark.parametrize("seed", [0, 104])
def test_rain_at_night_mentions_the_blurred_lights(seed):
    cap = _caption(sp.rain_window(seed, daytime=False))
    assert {"rain", "night", "blurred lights"} <= set(cap.cues), cap.cues
    assert cap.text == "Rain on a window at night, with blurred lights.", cap.text


@pytest.mark.parametrize("painter", sorted(sp.NEGATIVE_PAINTERS))
def test_look_alikes_are_not_rain(painter):
    for seed in sp.DEV_SEEDS[:2] + sp.CHECK_SEEDS[:2]:
        cap = _caption(sp.NEGATIVE_PAINTERS[painter](seed))
        assert not {"rain", "window", "blurred lights"} & set(cap.cues), (painter, seed, cap.text)
        assert not cap.text.lower().startswith("rain"), (painter, seed, cap.text)


def test_each_measurement_rules_out_its_look_alike():
    """Which condition keeps each look-alike out (the reason documented in rain.py)."""
    rain = measure_rain(Image.fromarray(sp.rain_window(0)))
    assert rain.is_rain and rain.long_share <= 0.1 and rain.anisotropy >= 30
    stars = measure_rain(Image.fromarray(sp.starry_sky(1)))
    assert stars.anisotropy < 3  # dots: as many horizontal as vertical line pixels
    snow = measure_rain(Image.fromarray(sp.snowfall(1)))
    assert snow.anisotropy < 6  # round flakes, even when slightly drawn out
    trunks = measure_rain(Image.fromarray(sp.trunks_forest(1)))
    assert trunks.long_share > 0.2  # trunks run on; streaks are short
    blades = measure_rain(Image.fromarray(sp.grass(1)))
    assert blades.saturation > 0.5  # green blades, not grey streaks


def test_tiny_and_flat_images_measure_nothing():
    assert not measure_rain(Image.new("RGB", (20, 20), (90, 90, 90))).is_rain
    assert measure_rain(Image.new("RGB", (400, 300), (90, 90, 90))).density == 0.0


def _example_painters():
    spec = importlib.util.spec_from_file_location("make_images", EXAMPLES / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (EXAMPLES / "make_images.py").is_file(), reason="examples/ not present")
def test_example_painters_over_other_seeds():
    """The example scenes redrawn with other seeds: the rainy window stays rain, falling snow
    stays snow, forest trunks do not become rain (the other scenes: the test below)."""
    make = _example_painters()
    for seed in (7, 555):
        rainy = _caption(np.asarray(make.rainy_night_window(np.random.default_rng(seed))))
        assert rainy.text.startswith("Rain on a window at night"), rainy.text
        snow = _caption(np.asarray(make.snowy_field(np.random.default_rng(seed))))
        assert "snow" in snow.cues and "rain" not in snow.cues, snow.cues
        forest = _caption(np.asarray(make.forest_path(np.random.default_rng(seed))))
        assert "rain" not in forest.cues, (seed, forest.text)


@pytest.mark.skipif(not (EXAMPLES / "images").is_dir(), reason="examples/images not present")
def test_example_photos_with_neutral_names(tmp_path):
    """Only the rainy window is rain; the rule planner then plans rain, not crickets."""
    from studio.planning.rules import RulePlanner
    from studio.planning.styles import load_style

    for path in sorted((EXAMPLES / "images").glob("*.jpg")):
        folder = tmp_path / path.stem
        folder.mkdir()
        shutil.copy(path, folder / "IMG_1.jpg")
        cap = AnalysisCaptioner().caption(load_image(folder / "IMG_1.jpg"))
        assert ("rain" in cap.cues) == (path.stem == "rainy_night_window"), (path.stem, cap.text)
        if path.stem == "rainy_night_window":
            assert cap.text == "Rain on a window at night, with blurred lights.", cap.text
            plan = RulePlanner().plan(cap, style=load_style("sleep"), duration_s=60.0, seed=1)
            prompts = " | ".join(layer.prompt for layer in plan.layers)
            assert "rain" in prompts and "cricket" not in prompts, prompts
