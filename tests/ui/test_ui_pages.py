"""Every page through Streamlit's AppTest, on the offline defaults (analysis captioner, rules
planner, procedural backend). Tracks are 10-30 s to keep the suite quick."""

from __future__ import annotations

import html
import io
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from studio.library import Library
from studio.manifest import plan_from_manifest
from ui_test_helpers import make_manifest, make_plan, png_bytes

TIMEOUT_S = 180
APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
SESSION = "studio.session"


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception
    return at


def _no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []


def _set_length(at: AppTest, seconds: float) -> None:
    at.selectbox(key="studio.length").set_value("custom").run()
    at.number_input(key="studio.custom_s").set_value(float(seconds)).run()


def _upload(at: AppTest, name: str = "quiet_lake_forest.png", data: bytes | None = None) -> None:
    content = data if data is not None else png_bytes(320, 240)
    at.file_uploader(key="studio.upload").set_value((name, content, "image/png")).run()


def _generate(at: AppTest) -> None:
    at.button(key="studio.generate").click().run()
    _no_errors(at)


def _generated_app() -> AppTest:
    """The studio after a 10 s track was generated from an uploaded image."""
    at = _app()
    _set_length(at, 10)
    _upload(at)
    _generate(at)
    return at


def _wait_library(root, count: int, timeout_s: float = 30.0) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entries = Library(root).entries()
        if len(entries) >= count:
            return entries
        time.sleep(0.1)
    return Library(root).entries()


LINK = re.compile(r'<a href="([^"]+)" download="([^"]+)"[^>]*>↓ ([^<]+)</a>')


def _links(at: AppTest) -> dict[str, tuple[str, str]]:
    """The download links on the page: ``{label: (url, file name)}``."""
    out = {}
    for m in at.markdown:
        for url, name, label in LINK.findall(m.value):
            out[html.unescape(label)] = (html.unescape(url), html.unescape(name))
    return out


def _served(url: str) -> Path:
    """The file the studio's file route serves for ``url``, once complete (the route waits for a
    stem player's file written in the background too); AssertionError when withdrawn."""
    from studio.ui import files

    found = files.wait_ready(url)
    assert isinstance(found, files.Offer), f"{url} is {found}"
    return found.path


def _prepare(at: AppTest, fmt: str = "wav") -> dict[str, tuple[str, str]]:
    at.selectbox(key="studio.mix_format").set_value(fmt).run()
    at.button(key="studio.prepare").click().run()
    _no_errors(at)
    return _links(at)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_studio_generate_remix_download(data_dir):
    at = _app()
    _set_length(at, 10)
    _upload(at)
    _no_errors(at)
    sess = at.session_state[SESSION]
    assert sess.caption.source == "analysis"
    assert any("Caption by the offline image analyser" in c.value for c in at.caption)
    editor = at.data_editor[0].value
    assert list(editor["name"]) == [l.name for l in sess.plan.layers] and len(editor) >= 1

    _generate(at)
    scape = sess.soundscape
    assert scape is not None and scape.frames == 10 * 48_000 and scape.sample_rate == 48_000
    assert any(s.value.startswith("Generated 0.2 min") for s in at.success)
    audio = at.get("audio")
    assert len(audio) == 1 + len(scape.stems)  # the mix and every stem
    assert [b.label for b in at.get("download_button")] == []  # nothing from the in-memory media store
    assert at.button(key="studio.prepare").label == "Prepare downloads (WAV)"
    assert len(at.get("image")) == 1  # only the uploaded image: the plots tab is not open
    at.session_state["studio.result_tab"] = "Waveform & spectrogram"
    at.run()
    _no_errors(at)
    assert len(at.get("audio")) == 1  # the stems tab is closed now: only the mix player
    assert len(at.get("image")) == 3  # the image, the waveform and the spectrogram
    at.session_state["studio.result_tab"] = "Stems"
    at.run()

    # Players stream 24-bit FLAC files from the session's folder, whole length, at the mastered level.
    mix, sr = sf.read(str(_served(audio[0].proto.url)), dtype="float32", always_2d=True)
    assert sr == 48_000 and mix.shape == (10 * 48_000, 2)
    assert np.max(np.abs(mix)) < 10 ** (scape.plan.master.ceiling_dbtp / 20) + 1e-3
    for player in audio[1:]:
        assert sf.info(str(_served(player.proto.url))).frames == 10 * 48_000  # stems: the whole length

    # Every render is saved to the library (in a background thread).
    entries = _wait_library(data_dir, 1)
    assert len(entries) == 1 and entries[0].duration_s == 10.0 and entries[0].plan() == scape.plan

    # Live re-mix: a gain edit re-mixes without regenerating any layer.
    sources_before = dict(sess.sources)
    version = sess.version
    first = scape.plan.layers[0]
    stem_before = scape.stems[0].render(0, scape.frames)
    at.session_state[f"studio.plan_editor.{sess.plan_serial}"] = {
        "edited_rows": {0: {"gain_db": first.gain_db - 12.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _no_errors(at)
    assert sess.version == version + 1
    assert any(s.value == "Re-mixed (no regeneration)" for s in at.success)
    assert sess.soundscape.plan.layers[0].gain_db == pytest.approx(first.gain_db - 12.0)
    assert all(sess.sources[name] is src for name, src in sources_before.items())
    stem_after = sess.soundscape.stems[0].render(0, sess.soundscape.frames)
    # -12 dB of fader; the re-mix also re-centres the beds (the L/R counterweight is measured
    # again, after the mono bass), which moves a bed stem by a few tenths of a dB at most.
    assert 20 * np.log10(_rms(stem_after) / _rms(stem_before)) == pytest.approx(-12.0, abs=0.3)

    # The re-mixed result is saved when asked (Generate saved the first one automatically).
    at.button(key="studio.save").click().run()
    _no_errors(at)
    saved = Library(data_dir).entries()
    assert len(saved) == 2 and saved[0].plan() == sess.soundscape.plan and saved[0].title == "Quiet lake forest"
    assert at.button(key="studio.save").disabled

    # Downloads: prepared on request, then links named <title>-<length>-<style>.* served from disk.
    links = _prepare(at, "flac")
    assert set(links) == {"Mix (FLAC)", "Stems (zip)", "Manifest (JSON)"}
    assert links["Mix (FLAC)"][1] == "quiet-lake-forest-10s-meditation.flac"
    flac, sr = sf.read(str(_served(links["Mix (FLAC)"][0])), always_2d=True)
    assert sr == 48_000 and flac.shape == (10 * 48_000, 2)
    with zipfile.ZipFile(_served(links["Stems (zip)"][0])) as zf:
        names = zf.namelist()
    assert sum(n.endswith(".flac") and n.startswith("stems/") for n in names) == len(sess.soundscape.stems)
    manifest = json.loads(_served(links["Manifest (JSON)"][0]).read_bytes())
    assert plan_from_manifest(manifest) == sess.soundscape.plan
    wav = _prepare(at, "wav")["Mix (WAV)"]
    assert _served(wav[0]).read_bytes()[:4] == b"RIFF" and wav[1].endswith("-10s-meditation.wav")


def test_new_take_regenerates_only_that_layer(data_dir):
    at = _generated_app()
    sess = at.session_state[SESSION]
    names = [l.name for l in sess.plan.layers]
    target = names[-1]
    before = dict(sess.sources)
    seeds = {l.name: l.seed for l in sess.soundscape.plan.layers}
    at.selectbox(key="studio.take_layer").set_value(target).run()
    at.button(key="studio.new_take").click().run()
    _no_errors(at)
    after = {l.name: l.seed for l in sess.soundscape.plan.layers}
    assert after[target] != seeds[target]
    assert {n: s for n, s in after.items() if n != target} == {n: s for n, s in seeds.items() if n != target}
    assert sess.sources[target] is not before[target]
    assert all(sess.sources[n] is before[n] for n in names if n != target)
    assert any(s.value.startswith(f"New take of {target}") for s in at.success)


def test_cancel_keeps_previous_result(data_dir):
    at = _app()
    _set_length(at, 10)
    _upload(at)
    at.session_state["studio.cancel_requested"] = True
    _generate(at)
    sess = at.session_state[SESSION]
    assert sess.soundscape is None
    assert any("cancelled" in w.value for w in at.warning)
    assert at.get("audio") == [] or len(at.get("audio")) == 0


def test_bad_upload_gets_a_message_not_a_traceback(data_dir):
    at = _app()
    _upload(at, "holiday.png", b"this is not an image")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "holiday.png" in errors[0] and "PNG" in errors[0]
    at.run()  # the message stays while the bad file sits in the uploader
    assert [e.value for e in at.error] == errors
    _upload(at, "empty.jpg", b"")
    assert not at.exception
    assert [e.value for e in at.error] == ["'empty.jpg' is empty (0 bytes); choose a JPEG, PNG, WEBP, GIF, BMP or TIFF file"]
    assert at.session_state[SESSION].image is None and at.session_state[SESSION].caption is None


def test_bad_upload_after_a_result_loses_nothing(data_dir):
    at = _generated_app()
    sess = at.session_state[SESSION]
    scape, image, caption, plan = sess.soundscape, sess.image, sess.caption, sess.plan
    players = len(at.get("audio"))
    _upload(at, "notes.png", b"plain text, not a picture")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "'notes.png' contains text" in errors[0] and errors[0].endswith("(still working with quiet_lake_forest.png)")
    assert (sess.soundscape, sess.image, sess.caption, sess.plan) == (scape, image, caption, plan)
    assert len(at.get("audio")) == players and at.data_editor[0].value["name"].tolist() == [l.name for l in plan.layers]
    # A huge image (88 megapixels, a small file) is refused by its header, before decoding.
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (11_000, 8_000), (30, 90, 160)).save(buf, format="PNG")
    _upload(at, "huge.png", buf.getvalue())
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "88 megapixels" in errors[0] and "80-megapixel limit" in errors[0]
    assert sess.soundscape is scape and sess.image is image


def test_typed_caption_plans_without_an_image(data_dir):
    at = _app()
    at.text_area(key="studio.caption.0").set_value("gentle rain on a tin roof at night").run()
    _no_errors(at)
    sess = at.session_state[SESSION]
    assert sess.caption.source == "user" and sess.plan is not None
    assert any("you (typed)" in c.value for c in at.caption)


def test_sessions_are_isolated(data_dir):
    a, b = _app(), _app()
    _set_length(a, 10)
    _upload(a)
    _generate(a)
    sa, sb = a.session_state[SESSION], b.session_state[SESSION]
    assert sa is not sb and sa.work_dir != sb.work_dir
    assert sa.soundscape is not None and sb.soundscape is None and sb.caption is None
    assert len(b.get("audio")) == 0


def test_compare_two_variants_and_keep_one(data_dir):
    at = _app()
    _upload(at)
    at.switch_page("pages/compare.py").run()
    _no_errors(at)
    at.radio(key="compare.count").set_value(2).run()
    at.selectbox(key="compare.length").set_value("15 s").run()
    at.number_input(key="compare.seed.0").set_value(1).run()
    at.number_input(key="compare.seed.1").set_value(2).run()
    at.button(key="compare.render").click().run()
    _no_errors(at)
    variants = at.session_state["compare.results"]
    assert [v.config.seed for v in variants] == [1, 2]
    assert all(v.soundscape.frames == 15 * 48_000 for v in variants)
    assert len(at.get("audio")) == 2
    assert any("Players are matched to" in c.value for c in at.caption)
    assert any("CLAP scores absent" in c.value for c in at.caption)  # no CLAP model here: said, not invented
    assert len(at.get("image")) == 2  # one spectrogram per variant
    plans = [t.value for t in at.dataframe if "name" in t.value.columns][:2]  # scores tables have "score"
    assert [list(p["name"]) for p in plans] == [[l.name for l in v.plan.layers] for v in variants]

    at.button(key="compare.keep.1").click().run()
    _no_errors(at)
    sess = at.session_state[SESSION]
    assert at.title[0].value == "Studio"
    assert any("Kept variant" in s.value for s in at.success)
    # The variant's plan and takes, at the Studio's length (10 min here: nothing was generated).
    assert sess.soundscape.plan.seed == 2 and sess.soundscape.duration_s == 600.0
    assert [sess.sources[l.name] for l in sess.soundscape.plan.layers] == list(variants[1].sources)
    # The kept variant stays the Studio's result (no re-plan on arrival).
    assert sess.plan.seed == 2 and at.session_state["studio.length"] == "10 min"
    assert len(_wait_library(data_dir, 1)) == 1


def test_compare_variant_with_a_missing_backend_falls_back_with_a_note(data_dir):
    at = _app()
    at.text_area(key="studio.caption.0").set_value("waves on a quiet beach at dawn").run()
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="compare.length").set_value("15 s").run()
    at.selectbox(key="compare.backend.1").set_value("musicgen").run()
    at.button(key="compare.render").click().run()
    _no_errors(at)
    a, b = at.session_state["compare.results"]
    assert {s.backend for s in b.sources} == {"procedural"}
    assert all("musicgen" in s.metadata.get("fallback", "") for s in b.sources)
    assert any("musicgen" in n for n in b.notes) and not any("musicgen" in n for n in a.notes)
    assert any("musicgen" in m.value for m in at.markdown)  # the notes, as plain sentences


def test_library_reopen_rerender_delete(data_dir):
    from studio.mixing import resolve_events

    lib = Library(data_dir)
    plan = resolve_events(make_plan(duration_s=10.0, caption="rain on a tin roof"))
    entry = lib.add(make_manifest(plan), image=png_bytes())
    at = _app()
    at.switch_page("pages/library.py").run()
    _no_errors(at)
    assert any(m.value == f"**{entry.title}**" for m in at.markdown)
    assert any("meditation · 0:10" in c.value for c in at.caption)

    at.button(key=f"library.rerender.{entry.id}").click().run()
    _no_errors(at)
    entries = Library(data_dir).entries()
    assert len(entries) == 2 and entries[0].plan() == plan and entries[1].plan() == plan
    assert entries[0].mix_path is not None and sf.info(str(entries[0].mix_path)).frames == 10 * 48_000

    at.button(key=f"library.delete.{entries[0].id}").click().run()
    _no_errors(at)
    assert [e.id for e in Library(data_dir).entries()] == [entry.id]

    at.button(key=f"library.open.{entry.id}").click().run()
    _no_errors(at)
    assert at.title[0].value == "Studio"
    sess = at.session_state[SESSION]
    assert sess.soundscape is not None and sess.soundscape.plan.layers == plan.layers
    assert sess.caption.text == "rain on a tin roof"
    assert len(at.get("audio")) == 1 + len(plan.layers)


def test_models_page_lists_models_and_download_is_explained(data_dir):
    at = _app()
    at.switch_page("pages/models.py").run()
    _no_errors(at)
    assert at.metric[0].value == "cpu"
    table = at.dataframe[0].value
    assert "Salesforce/blip2-opt-2.7b" in set(table["model"]) and "licence" in table.columns
    assert bool(table.set_index("model").loc["sentence-transformers/all-MiniLM-L6-v2", "cached"]) is True
    at.button(key="models.download").click().run()
    assert not at.exception
    assert any("offline mode is on" in e.value for e in at.error)


def test_gallery_and_surprise_load_example_images(data_dir):
    from studio.ui.gallery import example_images, label

    examples = example_images()
    if not examples:
        pytest.skip("examples/images/ has no images")
    at = _app()
    sess = at.session_state[SESSION]
    at.selectbox(key="studio.example").set_value(label(examples[0])).run()
    _no_errors(at)
    assert sess.image.filename == examples[0].name and sess.caption.source == "analysis"
    first_caption = sess.caption.text
    at.button(key="studio.surprise").click().run()
    _no_errors(at)
    assert sess.image.filename in {p.name for p in examples}
    # An upload afterwards wins, and later reruns keep it (no swap back to the example).
    _upload(at)
    at.run()
    assert sess.image.filename == "quiet_lake_forest.png"
    assert first_caption


def test_missing_neural_captioner_falls_back_with_a_note(data_dir):
    at = _app()
    at.selectbox(key="studio.captioner").set_value("blip2").run()
    _upload(at)
    _no_errors(at)
    sess = at.session_state[SESSION]
    assert sess.caption.source == "analysis"  # the offline default made the caption
    notes = [m.value for m in at.markdown]
    assert any("blip2" in n and "analysis" in n for n in notes), notes


def test_unexpected_errors_show_a_short_message_never_a_traceback(data_dir, monkeypatch, caplog):
    from studio.ui.engine import StudioSession

    def boom(self, **kwargs):
        raise RuntimeError("internal detail that must not reach the page")

    monkeypatch.setattr(StudioSession, "make_plan", boom)
    at = _app()
    _upload(at)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == ["Something went wrong on our side (RuntimeError). It has been logged; please try again."]
    assert all("internal detail" not in e for e in errors)
    assert "internal detail that must not reach the page" in caplog.text  # logged with its traceback


def test_library_lists_damaged_entries_and_lets_them_go(data_dir):
    """A deleted folder, a garbled manifest and a truncated mix each get their own message;
    the healthy entries around them stay usable and the damaged ones can be deleted."""
    import shutil

    lib = Library(data_dir)
    flac = io.BytesIO()
    sf.write(flac, np.zeros((48_000 * 2, 2), np.float32), 48_000, format="FLAC")
    good = lib.add(make_manifest(make_plan(caption="good entry")), title="Good", mix_bytes=flac.getvalue(), image=png_bytes())
    gone = lib.add(make_manifest(make_plan(caption="gone entry")), title="Gone", mix_bytes=flac.getvalue())
    garbled = lib.add(make_manifest(make_plan(caption="garbled entry")), title="Garbled")
    cut = lib.add(make_manifest(make_plan(caption="cut entry")), title="Cut", mix_bytes=flac.getvalue()[:200], image=png_bytes())
    shutil.rmtree(gone.folder)
    garbled.manifest_path.write_text('{"format": "soundscape', encoding="utf-8")
    cut.thumbnail_path.write_bytes(b"not a png")

    at = _app()
    at.switch_page("pages/library.py").run()
    _no_errors(at)
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == ["**4 entries · " + titles[0].split(" · ")[1], "**Cut**", "**Garbled**", "**Gone**", "**Good**"]
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert any("“Gone” are gone" in w and "delete the entry" in w for w in warnings)
    assert any("manifest of library entry “Garbled” is damaged" in w for w in warnings)
    for entry in (gone, garbled):
        assert at.button(key=f"library.open.{entry.id}").disabled and at.button(key=f"library.rerender.{entry.id}").disabled
    for entry in (good, cut):
        assert not at.button(key=f"library.open.{entry.id}").disabled
    # The damaged thumbnail shows the placeholder; the good one is an image.
    assert len(at.get("image")) == 1

    at.button(key=f"library.play.{cut.id}").click().run()
    _no_errors(at)
    assert any("saved mix of “Cut” is missing or unreadable" in w.value for w in at.warning)
    at.button(key=f"library.play.{good.id}").click().run()
    assert len(at.get("audio")) == 1

    at.button(key=f"library.delete.{gone.id}").click().run()
    _no_errors(at)
    at.button(key=f"library.delete.{garbled.id}").click().run()
    _no_errors(at)
    assert [e.id for e in Library(data_dir).entries()] == [cut.id, good.id]


def test_a_failed_background_save_is_reported_and_can_be_retried(data_dir, monkeypatch):
    from studio.library import LibraryError

    real_add = Library.add

    def full_disk(self, *args, **kwargs):
        raise LibraryError("could not save the render to the library: No space left on device")

    monkeypatch.setattr(Library, "add", full_disk)
    at = _generated_app()
    sess = at.session_state[SESSION]
    deadline = time.monotonic() + 30
    while sess.save_state()[0] == "saving" and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    _no_errors(at)
    assert sess.save_state() == ("failed", "could not save the render to the library: No space left on device")
    assert any("not in the library" in w.value and "No space left" in w.value for w in at.warning)
    save = at.button(key="studio.save")
    assert save.label == "Save to library" and not save.disabled
    # Space again: the retry saves it and the button says so.
    monkeypatch.setattr(Library, "add", real_add)
    at.button(key="studio.save").click().run()
    _no_errors(at)
    assert [e.plan() for e in Library(data_dir).entries()] == [sess.soundscape.plan]
    assert at.button(key="studio.save").label == "Saved" and at.button(key="studio.save").disabled
    assert not any("not in the library" in w.value for w in at.warning)


def test_loudness_preset_change_remixes_to_the_new_target(data_dir):
    from studio.mixing.loudness import integrated_lufs

    at = _generated_app()
    sess = at.session_state[SESSION]
    sources = dict(sess.sources)
    before = integrated_lufs(sess.read_mix(), 48_000)
    at.selectbox(key="studio.preset").set_value("spotify").run()
    _no_errors(at)
    assert any(s.value == "Re-mixed (no regeneration)" for s in at.success)
    assert all(sess.sources[n] is src for n, src in sources.items())
    assert sess.soundscape.plan.master.target_lufs == -14.0
    after = integrated_lufs(sess.read_mix(), 48_000)
    assert after == pytest.approx(-14.0, abs=0.5) and after - before > 2.0


def test_muting_every_layer_explains_and_keeps_the_last_mix(data_dir, monkeypatch):
    from studio.ui.engine import StudioSession

    at = _generated_app()
    sess = at.session_state[SESSION]
    scape, version = sess.soundscape, sess.version
    calls = []
    real_apply = StudioSession.apply_plan

    def counting_apply(self, plan, reporter=None):
        calls.append(plan)
        return real_apply(self, plan, reporter)

    monkeypatch.setattr(StudioSession, "apply_plan", counting_apply)
    key = f"studio.plan_editor.{sess.plan_serial}"
    at.session_state[key] = {"edited_rows": {i: {"mute": True} for i in range(len(scape.plan.layers))},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "the mix is silent" in errors[0] and "unmute at least one" in errors[0]
    assert sess.soundscape is scape and sess.version == version
    assert len(at.get("audio")) >= 1 and len(calls) == 1
    at.run()  # another rerun shows the message again without re-mixing again
    assert [e.value for e in at.error] == errors and len(calls) == 1
    # Unmuting one layer re-mixes at once.
    at.session_state[key] = {"edited_rows": {i: {"mute": True} for i in range(1, len(scape.plan.layers))},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    _no_errors(at)
    assert len(calls) == 2 and sess.version == version + 1
    assert [l.mute for l in sess.soundscape.plan.layers] == [False] + [True] * (len(scape.plan.layers) - 1)


def _other_png(width: int = 300, height: int = 200) -> bytes:
    """A sunset (orange over sand): captions differently from :func:`png_bytes`."""
    from PIL import Image

    arr = np.zeros((height, width, 3), np.uint8)
    arr[:] = (200, 170, 90)
    arr[height * 3 // 4 :] = (230, 200, 120)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_a_captioner_failure_keeps_the_old_image_and_can_be_retried(data_dir):
    """BLIP failing on a good upload: nothing changes, the message names the image still in
    use, a rerun does not run the captioner again, "Try again" and another captioner do."""
    from studio.errors import BackendError
    from studio.pipeline import SoundscapePipeline

    class FlakyCaptioner(SoundscapePipeline):
        failures = 0
        calls = 0

        def caption(self, image):
            self.calls += 1
            if self.failures > 0:
                self.failures -= 1
                raise BackendError("BLIP inference failed: CUDA out of memory")
            return super().caption(image)

    at = _app()
    sess = at.session_state[SESSION]
    sess.pipeline = pipe = FlakyCaptioner()
    _upload(at, "lake.png")
    _no_errors(at)
    image, caption, plan = sess.image, sess.caption, sess.plan
    assert plan is not None

    pipe.failures = 1
    _upload(at, "forest.png", _other_png())
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "'forest.png' was not loaded" in errors[0] and "CUDA out of memory" in errors[0]
    assert errors[0].endswith("(still working with lake.png)")
    assert sess.image is image and sess.caption is caption and sess.plan is plan
    assert at.text_area(key=f"studio.caption.{sess.ui['caption_serial']}").value == caption.text
    calls = pipe.calls
    at.run()  # a rerun shows the message again without running the captioner again
    assert [e.value for e in at.error] == errors and pipe.calls == calls and sess.image is image

    at.button(key="studio.retry.upload").click().run()
    _no_errors(at)
    assert pipe.calls == calls + 1 and sess.image.filename == "forest.png"
    assert sess.caption is not caption and sess.caption.text != caption.text and sess.plan is not plan
    assert at.text_area(key=f"studio.caption.{sess.ui['caption_serial']}").value == sess.caption.text
    assert "studio.retry.upload" not in [b.key for b in at.button]

    # Choosing another captioner (here BLIP, which falls back to the offline analyser) retries too.
    pipe.failures = 1
    forest, forest_caption = sess.image, sess.caption
    _upload(at, "lake_again.png")
    assert len(at.error) == 1 and sess.image is forest and sess.caption is forest_caption
    at.selectbox(key="studio.captioner").set_value("blip").run()
    _no_errors(at)
    assert sess.image.filename == "lake_again.png" and '"lake again"' in sess.caption.text
    assert any("'blip' unavailable" in m.value for m in at.markdown)


def test_only_the_newest_failed_input_waits_for_a_retry(data_dir):
    """An upload and then an example both failing to caption: one message, one Try again."""
    from studio.errors import BackendError
    from studio.pipeline import SoundscapePipeline
    from studio.ui.gallery import example_images, label

    examples = example_images()
    if not examples:
        pytest.skip("examples/images/ has no images")

    class BrokenCaptioner(SoundscapePipeline):
        def caption(self, image):
            raise BackendError("BLIP inference failed: CUDA out of memory")

    at = _app()
    sess = at.session_state[SESSION]
    sess.pipeline = BrokenCaptioner()
    _upload(at, "lake.png")
    assert not at.exception
    assert [b.key for b in at.button if (b.key or "").startswith("studio.retry")] == ["studio.retry.upload"]
    at.selectbox(key="studio.example").set_value(label(examples[0])).run()
    assert not at.exception
    assert [b.key for b in at.button if (b.key or "").startswith("studio.retry")] == ["studio.retry.example"]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and f"{examples[0].name!r} was not loaded" in errors[0] and sess.image is None


def test_a_missing_saved_mix_says_what_re_render_really_does(data_dir):
    """The message promises a new entry with the mix; pressing Re-render makes exactly that."""
    from studio.mixing import resolve_events

    lib = Library(data_dir)
    plan = resolve_events(make_plan(duration_s=10.0, caption="wind over a ridge"))
    flac = io.BytesIO()
    sf.write(flac, np.zeros((48_000, 2), np.float32), 48_000, format="FLAC")
    entry = lib.add(make_manifest(plan), title="Ridge", mix_bytes=flac.getvalue())
    entry.mix_path.unlink()
    at = _app()
    at.switch_page("pages/library.py").run()
    at.button(key=f"library.play.{entry.id}").click().run()
    _no_errors(at)
    [warning] = [w.value for w in at.warning]
    assert warning == ("the saved mix of “Ridge” is missing; Re-render makes a new entry with a fresh mix "
                       "from this entry's manifest; then delete this one")

    at.button(key=f"library.rerender.{entry.id}").click().run()
    _no_errors(at)
    new, old = Library(data_dir).entries()
    assert old.id == entry.id and old.mix_problem() == warning  # not repaired in place, as it says
    assert new.title == "Ridge (re-render)" and new.plan() == plan and new.mix_problem() is None
    assert sf.info(str(new.mix_path)).frames == 10 * 48_000
    at.button(key=f"library.delete.{entry.id}").click().run()
    _no_errors(at)
    assert [e.id for e in Library(data_dir).entries()] == [new.id]


def _poll_save_fragment(at: AppTest, monkeypatch) -> AppTest:
    """Rerun only the Save button's fragment, as the browser's ``run_every`` timer does
    (AppTest itself only makes full runs): the next run's request names the fragment."""
    import streamlit.testing.v1.local_script_runner as runner
    from studio.ui.page_studio import SAVE_FRAGMENT

    fragment_ids = at._fragment_storage.resolve_target(SAVE_FRAGMENT)
    real = runner.RerunData
    with monkeypatch.context() as m:
        m.setattr(runner, "RerunData", lambda **kw: real(**kw, fragment_id_queue=list(fragment_ids), is_auto_rerun=True))
        return at.run()


def test_saving_updates_by_itself_when_the_background_save_ends(data_dir, monkeypatch):
    """While the save runs, the Save button's fragment polls; once it has ended the page
    reruns by itself (showing "Saved") and stops polling."""
    import threading

    import streamlit as st

    release = threading.Event()
    real_add = Library.add

    def slow_add(self, *args, **kwargs):
        assert release.wait(60)
        return real_add(self, *args, **kwargs)

    polls = []
    real_fragment = st.fragment

    def spy_fragment(func=None, **kwargs):
        if getattr(func, "__name__", "") == "_save_button":
            polls.append(kwargs.get("run_every"))
        return real_fragment(func, **kwargs)

    monkeypatch.setattr(Library, "add", slow_add)
    monkeypatch.setattr(st, "fragment", spy_fragment)
    at = _generated_app()
    sess = at.session_state[SESSION]
    assert sess.save_state() == ("saving", None)
    save = at.button(key="studio.save")
    assert save.label == "Saving…" and save.disabled and polls[-1] == 1.0
    # A poll while it still runs redraws only the button (no title: not a full run).
    _poll_save_fragment(at, monkeypatch)
    assert not at.exception and len(at.title) == 0
    assert at.button(key="studio.save").label == "Saving…" and polls[-1] == 1.0

    release.set()
    deadline = time.monotonic() + 30
    while sess.save_state()[0] == "saving" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sess.save_state() == ("saved", None)
    # The next poll sees it done and reruns the whole page, which stops the polling.
    _poll_save_fragment(at, monkeypatch)
    _no_errors(at)
    assert at.title[0].value == "Studio" and len(at.get("audio")) >= 1
    save = at.button(key="studio.save")
    assert save.label == "Saved" and save.disabled and polls[-1] is None
    assert len(Library(data_dir).entries()) == 1
