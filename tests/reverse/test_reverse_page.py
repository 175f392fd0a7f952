"""The Sound to Image page through Streamlit's AppTest, on the offline tagger and painting."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.reverse.handoff import BED_KEY

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def page(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # no neural model: offline choices
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/sound_to_image.py").run()
    assert not at.exception, at.exception
    return at


def test_pack_recording_to_tags_prompt_and_painting(page):
    at = page
    at.radio(key="s2i.source").set_value("From the bundled pack").run()
    at.selectbox(key="s2i.pack").set_value("fireplace").run()
    at.selectbox(key="s2i.style").set_value("ink").run()
    at.button(key="s2i.go").click().run()
    assert not at.exception and [e.value for e in at.error] == []
    tags = at.dataframe[0].value
    assert list(tags.columns) == ["label", "score"] and tags["label"].iloc[0] == "campfire"
    prompt = at.code[0].value
    assert "campfire" in prompt and "ink drawing" in prompt
    assert any("not available" in i.value for i in at.info)  # says it fell back to the offline choices
    _, result = at.session_state["s2i.result"]
    assert "visualisation" in result.label and result.image.size == (768, 512)
    assert at.get("download_button")  # the image can be downloaded

    at.button(key="s2i.to_studio").click().run()
    assert not at.exception and BED_KEY not in at.session_state  # the Studio page took the request
    plan = at.session_state["studio.session"].plan  # tests/ui/test_ui_recording_bed.py has the rest
    assert plan.layers[0].params["file"].endswith("fireplace.ogg") and "campfire" in plan.caption.text
    assert "campfire" not in [l.params.get("type") for l in plan.layers[1:]]  # the recording is that bed


def test_bad_upload_is_one_clear_message(page):
    at = page
    at.file_uploader(key="s2i.upload").set_value(("notes.mp3", b"just some text, not audio", "audio/mpeg")).run()
    at.button(key="s2i.go").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["'notes.mp3' is a text file; expected WAV, FLAC, OGG or MP3 audio"]
