"""The offline analyser on synthetic scenes whose content is known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.types import Caption
from studio.vision import CAPTIONERS
from studio.vision.analysis import AnalysisCaptioner, filename_words, time_of_day
from studio.vision.intake import load_image
from vision_helpers import XMP, encode, scene, with_iptc

SKY = (90, 150, 230)
GRASS = (40, 140, 60)


def caption_of(arr: np.ndarray, name: str = "frame.png", **save_kw) -> Caption:
    return AnalysisCaptioner().caption(load_image(encode(arr, "PNG", **save_kw), filename=name))


def test_blue_over_green_is_sky_above_vegetation_in_daylight():
    cap = caption_of(scene(SKY, GRASS))
    assert cap.source == "analysis" and cap.model is None
    assert {"sky", "vegetation", "day"} <= set(cap.cues)
    assert "water" not in cap.cues and "night" not in cap.cues
    assert cap.text.startswith("Blue sky above green vegetation in ") and "daylight" in cap.text


def test_green_over_blue_puts_vegetation_above_water():
    cap = caption_of(scene(GRASS, (30, 90, 160)))
    assert {"vegetation", "water"} <= set(cap.cues) and "sky" not in cap.cues
    assert "green vegetation above water" in cap.text.lower()


def test_dark_frame_is_night():
    rng = np.random.default_rng(3)
    dark = (rng.random((100, 140, 3)) * 25).astype(np.uint8)
    cap = caption_of(dark)
    assert "night" in cap.cues and "day" not in cap.cues
    assert cap.text.startswith("A dark scene at night") and "open scene" not in cap.text


@pytest.mark.parametrize("orange", [(240, 130, 30), (230, 110, 20), (255, 150, 50)])
def test_orange_dominant_frame_is_warm_with_sunset_or_fire(orange):
    arr = scene(orange, tuple(int(c * 0.7) for c in orange))
    cap = caption_of(arr)
    assert "warm" in cap.cues
    assert {"sunset", "fire"} & set(cap.cues)
    assert "orange" in cap.cues


def test_bright_orange_on_dark_is_fire_at_night():
    arr = np.full((120, 160, 3), 12, np.uint8)
    arr[60:100, 60:100] = (255, 150, 30)
    cap = caption_of(arr)
    assert {"fire", "night"} <= set(cap.cues)
    assert "firelight" in cap.text


def test_beach_is_sky_above_water_above_sand():
    arr = np.zeros((150, 200, 3), np.uint8)
    arr[:60] = (120, 170, 230)
    arr[60:100] = (20, 80, 140)
    arr[100:] = (220, 200, 150)
    cap = caption_of(arr, "beach_day.png")
    assert {"sky", "water", "sand", "beach"} <= set(cap.cues)
    assert "blue sky above water above sand" in cap.text.lower()


def test_snow_field_and_overcast_sky():
    cap = caption_of(scene((200, 215, 235), (250, 250, 252)))
    assert "snow" in cap.cues
    assert "snow" not in caption_of(np.full((80, 80, 3), 255, np.uint8)).cues  # a blank page
    overcast = caption_of(scene((215, 218, 222), (70, 60, 50)))
    assert {"sky", "overcast"} <= set(overcast.cues)


def test_saturation_and_texture_cues():
    flat_grey = caption_of(np.full((80, 80, 3), 128, np.uint8))
    assert {"monochrome", "calm"} <= set(flat_grey.cues)
    noise = (np.random.default_rng(0).random((80, 80, 3)) * 255).astype(np.uint8)
    assert "busy" in caption_of(noise).cues


def test_file_name_words_are_cues_and_text():
    cap = caption_of(scene(SKY, GRASS), "IMG_2041_Quiet-Lake_at_dusk (copy).png")
    assert cap.cues[-3:] == ("quiet", "lake", "dusk")
    assert cap.text.endswith("the file is called \"quiet lake dusk\".")


def test_filename_words_rules():
    assert filename_words("PXL_20230601_194205123.jpg") == []
    assert filename_words("rainyNightWindow.webp") == ["rainy", "night", "window"]
    assert filename_words("/x/y/Forest_Stream-v2_final.JPG") == ["forest", "stream"]
    assert filename_words(None) == []


def test_metadata_becomes_cues_and_text():
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2023:06:01 21:30:05"}
    exif[0x010E] = "Tents by the river"
    cap = caption_of(scene(SKY, GRASS), exif=exif.tobytes())
    assert "night" in cap.cues  # from the EXIF time, although the pixels are daylight
    assert "taken at night" in cap.text
    assert 'described as "Tents by the river"' in cap.text


def test_xmp_and_iptc_keywords_description_and_alt_text_reach_the_caption():
    cap = caption_of_bytes(encode(scene(SKY, GRASS), "JPEG", xmp=XMP), "upload.jpg")
    assert {"harbour", "seagulls", "dawn"} <= set(cap.cues)  # keywords; 06:15 from photoshop:DateCreated
    assert "tagged harbour and seagulls" in cap.text
    assert 'described as "Boats at the quay"' in cap.text
    assert 'alt text "Fishing boats moored in a calm harbour"' in cap.text
    iptc = with_iptc(encode(scene(SKY, GRASS), "JPEG"), ["Forest", "Rain"], "Rain in the pines")
    cap = caption_of_bytes(iptc, "upload.jpg")
    assert {"forest", "rain"} <= set(cap.cues) and 'described as "Rain in the pines"' in cap.text


def caption_of_bytes(data: bytes, name: str) -> Caption:
    return AnalysisCaptioner().caption(load_image(data, filename=name))


@pytest.mark.parametrize(
    "iso,part",
    [("2023-01-01T05:30:00", "dawn"), ("2023-01-01T09:00:00", "morning"), ("2023-01-01T12:00:00", "midday"),
     ("2023-01-01T15:00:00", "afternoon"), ("2023-01-01T19:00:00", "evening"), ("2023-01-01T23:59:00", "night"),
     (None, None), ("garbage", None)],
)  # fmt: skip
def test_time_of_day(iso, part):
    assert time_of_day(iso) == part


def test_analysis_is_deterministic_and_size_independent():
    arr = scene(SKY, GRASS, size=(600, 800))
    big = caption_of(arr)
    small = caption_of(np.asarray(Image.fromarray(arr).resize((200, 150))))
    assert big == caption_of(arr)
    assert big.cues == small.cues


def test_works_on_plain_pil_images_without_intake_facts():
    img = Image.fromarray(scene(SKY, GRASS)).convert("RGBA")
    cap = AnalysisCaptioner().caption(img)
    assert {"sky", "vegetation"} <= set(cap.cues)


def test_registered_and_always_available(scene_image: Path):
    assert CAPTIONERS.availability("analysis")[0] is True
    captioner = CAPTIONERS.create("analysis")
    cap = captioner.caption(load_image(scene_image))
    assert {"sky", "vegetation", "quiet", "lake", "forest"} <= set(cap.cues)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/images not present")
def test_example_images_give_their_expected_cues():
    expected = {
        "lake_at_dusk": {"water", "dusk"},
        "forest_path": {"vegetation"},
        "beach_sea_and_sky": {"sky", "water", "sand"},
        "rainy_night_window": {"night"},
        "snowy_field": {"snow"},
        "desert_at_sunset": {"warm", "sunset"},
        "espresso_cup_in_a_cafe": {"warm", "cafe"},
        "rocket_on_launch_pad_at_dusk": {"sky", "dusk"},
    }
    wrong = {"espresso_cup_in_a_cafe": {"sky", "sunset"}, "rocket_on_launch_pad_at_dusk": {"water"}}
    found = {p.stem: p for p in EXAMPLES.glob("*.jpg")}
    for stem, cues in expected.items():
        assert stem in found, stem
        cap = AnalysisCaptioner().caption(load_image(found[stem]))
        assert cues <= set(cap.cues), (stem, cap.cues)
        assert not wrong.get(stem, set()) & set(cap.cues), (stem, cap.cues)
    assert all(p.stat().st_size < 300_000 for p in EXAMPLES.glob("*.jpg"))


def _lamplit_room(seed: int = 5) -> np.ndarray:
    """Warm browns and oranges with grain everywhere, nothing sky-, plant- or water-coloured."""
    rng = np.random.default_rng(seed)
    base = np.array([150, 85, 40], np.float32)
    arr = base + rng.normal(0, 25, (120, 160, 3)) * np.array([1.0, 0.7, 0.4])
    arr[40:90, 50:110] = (200, 120, 60)  # a lit object in the middle
    return np.clip(arr, 0, 255).astype(np.uint8)


def test_warm_textured_frame_without_outdoor_regions_reads_as_indoor_lamplight():
    cap = caption_of(_lamplit_room(), "img.png")
    assert {"indoor", "artificial light", "warm"} <= set(cap.cues)
    assert "day" not in cap.cues and "daylight" not in cap.text and "open scene" not in cap.text
    assert cap.text.startswith("Probably indoors, in warm artificial light")


def test_outdoor_and_cool_frames_are_never_called_indoors():
    sunset = scene((240, 130, 30), (168, 91, 21))  # warm but with a smooth sky on top
    grey_room = np.clip(np.random.default_rng(1).normal(128, 20, (100, 140, 3)), 0, 255).astype(np.uint8)
    for arr in (scene(SKY, GRASS), sunset, grey_room, np.full((80, 80, 3), (150, 85, 40), np.uint8)):
        cap = caption_of(arr, "img.png")
        assert "indoor" not in cap.cues and "indoors" not in cap.text, cap.text


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/images not present")
def test_cafe_photo_with_a_neutral_file_name_gets_a_useful_caption(tmp_path):
    """Issue 16: without "cafe" in the file name the analyser used to say "An open scene in
    warm daylight". It can still tell lamplight indoors from the pixels, and nothing more."""
    import shutil

    neutral = tmp_path / "img.jpg"
    shutil.copy(EXAMPLES / "espresso_cup_in_a_cafe.jpg", neutral)
    cap = AnalysisCaptioner().caption(load_image(neutral))
    assert "cafe" not in cap.cues and "open scene" not in cap.text and "daylight" not in cap.text
    assert {"indoor", "artificial light"} <= set(cap.cues)
    for stem in ("beach_sea_and_sky", "forest_path", "lake_at_dusk", "snowy_field", "desert_at_sunset"):
        (tmp_path / stem).mkdir()
        other = tmp_path / stem / "img.jpg"
        shutil.copy(EXAMPLES / f"{stem}.jpg", other)
        assert "indoor" not in AnalysisCaptioner().caption(load_image(other)).cues, stem
