"""StudioSession without Streamlit: generation, partial regeneration, caching, library save."""

from __future__ import annotations


import numpy as np
import pytest
import soundfile as sf

from studio.errors import CancelledError, InputError
from studio.library import Library
from studio.ui.engine import StudioSession
from ui_test_helpers import png_bytes


class Reporter:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.fractions: list[float] = []
        self.layer_calls: list[tuple[int, int, str, float]] = []
        self.cancel_after = cancel_after

    def overall(self, fraction: float, message: str) -> None:
        self.fractions.append(fraction)
        if self.cancel_after is not None and len(self.fractions) > self.cancel_after:
            raise CancelledError("generation cancelled")

    def layer(self, index: int, count: int, name: str, fraction: float, message: str) -> None:
        self.layer_calls.append((index, count, name, fraction))


@pytest.fixture(scope="module")
def session():
    sess = StudioSession()
    sess.use_image(sess.open_image(png_bytes(320, 240), "misty_lake_at_dawn.png"))
    plan = sess.make_plan(style="meditation", duration_s=6.0, seed=5)
    rep = Reporter()
    sess.generate(plan, rep)
    sess.test_reporter = rep
    return sess


def test_generate_reports_progress_per_stage_and_layer(session):
    rep = session.test_reporter
    names = [l.name for l in session.soundscape.plan.layers]
    assert rep.fractions == sorted(rep.fractions) and rep.fractions[-1] == 1.0
    done = list(dict.fromkeys(n for i, c, n, f in rep.layer_calls if f == 1.0))
    assert done == names and all(c == len(names) for _, c, _, _ in rep.layer_calls)
    assert session.soundscape.frames == 6 * 48_000 and session.version == 1


def test_players_are_files_on_disk_at_the_mastered_level(session):
    from studio.ui import files

    listening = session.listening()
    mix = session.read_mix()
    assert mix.shape == (2, 6 * 48_000)
    # Not peak-normalised: the peak stays where the master left it (below the ceiling).
    assert np.max(np.abs(mix)) < 10 ** (session.soundscape.plan.master.ceiling_dbtp / 20) + 1e-3
    reference = session.soundscape.mix_clip().samples
    assert np.max(np.abs(mix - reference)) <= 1.0 / 2**23 + 1e-7  # 24-bit FLAC of the mastered mix
    for name, url in listening.stem_urls.items():
        found = files.wait_ready(url)  # stems are written in the background
        assert found.path == listening.stems[name] and sf.info(str(found.path)).frames == 6 * 48_000


def test_cancel_leaves_the_previous_result(session):
    scape, version = session.soundscape, session.version
    with pytest.raises(CancelledError):
        session.regenerate_layer(session.soundscape.plan, session.soundscape.plan.layers[0].name, seed=1, reporter=Reporter(cancel_after=0))
    assert session.soundscape is scape and session.version == version


def test_library_save_in_background(session, tmp_path):
    lib = Library(tmp_path)
    thread = session.save_to_library(lib, background=True)
    thread.join(timeout=60)
    [entry] = lib.entries()
    assert entry.title == "Misty lake at dawn" and entry.plan() == session.soundscape.plan
    data, sr = sf.read(str(entry.mix_path), always_2d=True)
    assert sr == 48_000 and data.shape == (6 * 48_000, 2)
    assert entry.thumbnail_path.is_file()


def test_errors_before_there_is_a_result():
    sess = StudioSession()
    with pytest.raises(InputError, match="add an image or type a caption"):
        sess.make_plan(style="meditation", duration_s=10.0, seed=1)
    with pytest.raises(InputError, match="generate a soundscape first"):
        sess.listening()
    with pytest.raises(InputError, match="nothing to undo"):
        sess.undo()
    with pytest.raises(InputError, match="caption is empty"):
        sess.set_caption_text("   ")


def test_layer_facts_say_which_backend_made_each_layer(session):
    facts = session.layer_facts()
    assert [f["layer"] for f in facts] == [l.name for l in session.soundscape.plan.layers]
    assert all(f["backend"] == "procedural" and f["model"] == "—" for f in facts)
    # The procedural engine records the generator it used for each layer.
    assert all(f.get("generator") == l.params.get("type") for f, l in zip(facts, session.soundscape.plan.layers) if l.params.get("type"))


def test_downloads_in_every_offered_format_named_after_the_title(session):
    from studio.ui import files

    session.title = "Misty lake at dawn"
    for fmt in ("wav", "flac", "mp3", "ogg"):
        assert session.download_links(fmt) is None  # not prepared yet
        paths = session.prepare_downloads(fmt)
        info = sf.info(str(paths["mix"]))
        assert info.samplerate == 48_000 and info.channels == 2
        assert abs(info.duration - 6.0) < 0.06, (fmt, info.duration)
        links = session.download_links(fmt)
        assert links["mix"][1] == f"misty-lake-at-dawn-6s-meditation.{fmt}"
        assert links["zip"][1] == "misty-lake-at-dawn-6s-meditation-stems.zip"
        assert files.lookup(files.token_of(links["mix"][0].split("?")[0])).path == paths["mix"]


def test_a_render_withdraws_the_download_links_until_it_ends(session):
    from studio.ui import files

    session.prepare_downloads("flac")
    old = session.download_links("flac")
    session.begin_render()
    assert session.download_links("flac") is None
    assert all(files.lookup(files.token_of(url.split("?")[0])) == "gone" for url, _ in old.values())
    session.end_render()
    again = session.download_links("flac")
    assert again is not None and again["mix"][0] != old["mix"][0]


def test_each_session_has_its_own_folder_removed_with_it():
    import gc

    a, b = StudioSession(), StudioSession()
    folder_a, folder_b = a.work_dir, b.work_dir
    assert folder_a != folder_b and folder_a.is_dir() and folder_b.is_dir()
    del a
    gc.collect()
    assert not folder_a.exists() and folder_b.is_dir()


def test_layer_facts_leave_out_empty_metadata(session):
    for row in session.layer_facts():
        assert all(v is not None for v in row.values()), row


def test_save_state_follows_a_synchronous_save(session, tmp_path):
    from studio.library import LibraryError

    class Broken:
        def add(self, *args, **kwargs):
            raise LibraryError("the data folder is read-only")

    session.saves.clear()
    assert session.save_state() == ("unsaved", None)
    with pytest.raises(LibraryError):
        session.save_to_library(Broken())
    assert session.save_state() == ("unsaved", None)  # the page shows the error itself
    thread = session.save_to_library(Broken(), background=True)
    thread.join(timeout=60)
    assert session.save_state() == ("failed", "the data folder is read-only")
    session.save_to_library(Library(tmp_path))
    assert session.save_state() == ("saved", None)


def test_compare_players_are_matched_in_loudness_and_scores_are_clap_only():
    from studio.mixing.loudness import integrated_lufs
    from studio.types import Caption, LayerSource
    from studio.ui.compare import VariantConfig, matched_previews, render_variant, take_scores

    caption = Caption(text="rain on a tin roof at night", source="user")
    quiet = render_variant(caption, VariantConfig(style="sleep", seed=1, duration_s=8.0), master={"target_lufs": -24.0})
    loud = render_variant(caption, VariantConfig(style="sleep", seed=2, duration_s=8.0), master={"target_lufs": -16.0})
    assert loud.integrated_lufs - quiet.integrated_lufs == pytest.approx(8.0, abs=0.5)
    previews, gains = matched_previews([quiet, loud])
    assert gains[0] == 0.0 and gains[1] == pytest.approx(quiet.integrated_lufs - loud.integrated_lufs)
    played = [integrated_lufs(sf.read(str(p), dtype="float32", always_2d=True)[0].T, 48_000) for p in previews]
    assert played[1] == pytest.approx(played[0], abs=0.2)

    # CLAP take scores (what the pipeline records for ranked neural takes) are shown; a
    # procedural MiniLM "similarity" is not a CLAP score.
    assert take_scores(quiet) == []
    first = quiet.sources[0]
    scored = LayerSource(spec=first.spec, clips=first.clips, backend="musicgen", model="facebook/musicgen-small",
                         metadata={"take_scores": [0.41, 0.3333], "similarity": 0.8, "clap_model": "laion/clap"})
    quiet.sources = (scored, *quiet.sources[1:])
    assert take_scores(quiet) == [{"layer": first.spec.name, "score": "take_scores", "value": "0.410, 0.333"}]


def test_a_failed_captioner_leaves_image_caption_and_plan_as_they_were():
    """Image and caption change together, only when captioning succeeds."""
    from studio.errors import BackendError
    from studio.pipeline import SoundscapePipeline

    class FlakyCaptioner(SoundscapePipeline):
        fail = False

        def caption(self, image):
            if self.fail:
                raise BackendError("BLIP inference failed: CUDA out of memory")
            return super().caption(image)

    sess = StudioSession(pipeline=FlakyCaptioner())
    sess.use_image(sess.open_image(png_bytes(), "lake.png"))
    plan = sess.make_plan(style="meditation", duration_s=10.0, seed=1)
    image, caption = sess.image, sess.caption
    sess.pipeline.fail = True
    with pytest.raises(BackendError, match="CUDA out of memory"):
        sess.use_image(sess.open_image(png_bytes(300, 200), "forest.png"))
    assert sess.image is image and sess.caption is caption and sess.plan is plan
    # The decoded file can be captioned again later without reading it again.
    loaded = sess.open_image(png_bytes(300, 200), "forest.png")
    assert sess.image is image and loaded.filename == "forest.png"
    with pytest.raises(BackendError):
        sess.use_image(loaded)
    assert sess.image is image and sess.caption is caption
    sess.pipeline.fail = False
    new_caption = sess.use_image(loaded)
    assert sess.image is loaded and sess.caption is new_caption and new_caption is not caption


def test_the_masters_notes_reach_the_studio_notes():
    """A loudness target the master cannot reach under its ceiling is said on the page, in the
    master's own words, not only as ``target_reached: false`` in the manifest."""
    sess = StudioSession()
    sess.use_image(sess.open_image(png_bytes(320, 240), "misty_lake_at_dawn.png"))
    plan = sess.make_plan(style="meditation", duration_s=6.0, seed=5)
    master = plan.master.model_copy(update={"target_lufs": -5.0, "ceiling_dbtp": -6.0, "preset": None})
    sess.generate(plan.model_copy(update={"master": master}), Reporter())
    assert sess.soundscape.master["target_reached"] is False
    missed = [n for n in sess.notes() if "short of the -5 LUFS target" in n]
    assert missed and missed[0] in sess.soundscape.master["notes"]
