""""Use my recording as the bed": from the Sound to Image page's button to a Studio project whose
bed is the uploaded recording and whose other layers follow its tags (AppTest, offline tagger)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_pages import SESSION, _app, _generate, _no_errors, _set_length

from studio.reverse.handoff import BED_KEY, BED_LAYER
from studio.sounds.catalogue import BY_NAME
from studio.sounds.labels import layer_type_for_label

PACK = Path(__file__).resolve().parents[2] / "studio" / "sounds" / "pack"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))  # no neural model: offline tagger
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))


def test_uploaded_recording_becomes_the_bed_of_a_new_studio_project(data_dir, offline):
    at = _app()
    _set_length(at, 12)
    at.switch_page("pages/sound_to_image.py").run()
    at.file_uploader(key="s2i.upload").set_value(("my-fireside.ogg", (PACK / "fireplace.ogg").read_bytes(), "audio/ogg")).run()
    at.button(key="s2i.go").click().run()
    _no_errors(at)
    uploaded, result = at.session_state["s2i.result"]
    tags = [label for label, _ in result.tags.tags]

    at.button(key="s2i.to_studio").click().run()
    _no_errors(at)
    assert BED_KEY not in at.session_state  # taken once
    assert at.title[0].value == "Studio"
    sess = at.session_state[SESSION]
    plan = sess.plan
    bed = plan.layers[0]
    assert bed.name == BED_LAYER and bed.role == "background" and bed.backend == "samples"
    assert Path(bed.params["file"]) == Path(uploaded).resolve() and Path(uploaded).name == "my-fireside.ogg"
    assert plan.duration_s == 12.0 and sess.caption.source == "recording" and sess.image is None
    assert tuple(label for label, _ in sess.caption.tags) == tuple(tags)
    # the other layers follow the tags: they are what the planner makes of the tags' caption,
    # minus the bed the recording replaces (the top tag's sound is in the recording itself)
    planned = sess.pipeline.plan(sess.caption, style=plan.style, duration_s=plan.duration_s, seed=plan.seed)
    assert [l.name for l in plan.layers[1:]] == [l.name for l in planned.layers if l.params.get("type") != layer_type_for_label(tags[0])]
    tag_kinds = {BY_NAME[t].category for t in (layer_type_for_label(t) for t in tags) if t}
    scene = [l for l in plan.layers[1:] if l.params.get("added_by") != "style"]
    assert scene and {BY_NAME[l.params["type"]].category for l in scene} & tag_kinds
    assert any(s.value.startswith("New project from your recording") for s in at.info)

    # AppTest reruns the page it was last pointed at; the browser is on the Studio after
    # st.switch_page, so point it there too: the plan is kept (not planned again)
    at.switch_page("pages/studio.py").run()
    _no_errors(at)
    assert sess.plan == plan
    _generate(at)  # the recording is rendered as the bed: its own audio, arranged over the track
    stem = next(s for s in sess.soundscape.stems if s.spec.name == BED_LAYER)
    assert stem.metadata["chosen"][0]["source"] == "user file"
    assert sess.soundscape.frames == 12 * 48_000
