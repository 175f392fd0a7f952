"""The project model through AppTest: length changes keep takes, Compare masters like the
Studio, "Keep this one" leaves the Studio's settings alone, titled downloads, no stale
downloads while a newer render runs, undo, and no audio held in the session."""

from __future__ import annotations

import numpy as np
import pytest

from studio.types import AudioClip, LayerSource
from test_ui_pages import SESSION, _app, _generate, _links, _no_errors, _prepare, _served, _set_length, _upload
from ui_test_helpers import largest_track_objects


def _studio(seconds: float = 10) -> tuple:
    at = _app()
    _set_length(at, seconds)
    _upload(at)
    _generate(at)
    return at, at.session_state[SESSION]


def test_a_length_change_keeps_a_new_take_and_undo_brings_the_old_length_back(data_dir):
    at, sess = _studio(10)
    target = sess.plan.layers[-1].name
    at.selectbox(key="studio.take_layer").set_value(target).run()
    at.button(key="studio.new_take").click().run()
    _no_errors(at)
    take_seed = sess.soundscape.plan.layers[-1].seed
    sources = dict(sess.sources)

    at.number_input(key="studio.custom_s").set_value(16.0).run()
    _no_errors(at)
    assert sess.soundscape.frames == 16 * 48_000
    assert sess.soundscape.plan.layers[-1].seed == take_seed  # the new take is still there
    assert all(sess.sources[n] is src for n, src in sources.items())  # nothing regenerated
    assert any("every take kept" in s.value for s in at.success)

    at.button(key="studio.undo").click().run()
    _no_errors(at)
    assert sess.soundscape.frames == 10 * 48_000 and at.session_state["studio.custom_s"] == 10.0
    assert sess.soundscape.plan.layers[-1].seed == take_seed


def test_compare_uses_the_studios_loudness_and_keep_leaves_studio_settings_alone(data_dir):
    from studio.mixing.loudness import integrated_lufs

    at, sess = _studio(12)
    at.selectbox(key="studio.preset").set_value("custom").run()
    at.number_input(key="studio.custom_lufs").set_value(-26.0).run()
    at.selectbox(key="studio.mix_format").set_value("mp3").run()
    _no_errors(at)
    assert sess.soundscape.plan.master.target_lufs == -26.0  # the Studio re-mixed live
    settings = {k: at.session_state[k] for k in ("studio.length", "studio.custom_s", "studio.preset", "studio.custom_lufs", "studio.mix_format")}

    at.switch_page("pages/compare.py").run()
    at.radio(key="compare.count").set_value(2).run()
    at.selectbox(key="compare.length").set_value("15 s").run()
    at.button(key="compare.render").click().run()
    _no_errors(at)
    variants = at.session_state["compare.results"]
    for v in variants:
        assert v.plan.master.target_lufs == -26.0
        assert integrated_lufs(v.samples(), 48_000) == pytest.approx(-26.0, abs=1.0)

    at.button(key="compare.keep.0").click().run()
    _no_errors(at)
    assert at.title[0].value == "Studio"
    for key, value in settings.items():
        assert at.session_state[key] == value, key
    kept = sess.soundscape
    assert kept.duration_s == 12.0 and kept.plan.master.target_lufs == -26.0
    assert kept.plan.seed == variants[0].plan.seed
    assert [sess.sources[l.name] for l in kept.plan.layers] == list(variants[0].sources)


def test_the_title_names_the_downloads(data_dir):
    at, sess = _studio(10)
    [title_key] = [w.key for w in at.text_input if w.key.startswith("studio.title")]
    at.text_input(key=title_key).set_value("Forest path, morning").run()
    links = _prepare(at, "flac")
    assert {name for _, name in links.values()} == {
        "forest-path-morning-10s-meditation.flac", "forest-path-morning-10s-meditation-stems.zip",
        "forest-path-morning-10s-meditation-manifest.json"}


def test_no_stale_download_while_a_newer_render_runs(data_dir):
    from studio.ui import files

    at, sess = _studio(10)
    old = _prepare(at, "wav")
    seen = []
    original = sess.pipeline.generate_layer

    def watching(spec, plan, progress):
        seen.append([files.lookup(files.token_of(url.split("?")[0])) for url, _ in old.values()])
        seen.append(sess.download_links("wav"))
        return original(spec, plan, progress)

    sess.pipeline.generate_layer = watching
    at.number_input(key="studio.seed").set_value(8).run()
    _generate(at)
    assert seen and all(states == ["gone"] * len(old) for states in seen[0::2])  # withdrawn during the run
    assert all(links is None for links in seen[1::2])
    assert _links(at) == {}  # the new result's downloads are prepared anew
    new = _prepare(at, "wav")
    assert _served(new["Mix (WAV)"][0]) != _served_path_of(old["Mix (WAV)"][0], default=None)


def _served_path_of(url, default):
    from studio.ui import files

    found = files.lookup(files.token_of(url.split("?")[0]))
    return found.path if isinstance(found, files.Offer) else default


def test_memory_after_five_ten_minute_generations(data_dir):
    """Five 10-minute generations in one session: no whole-track audio is reachable from
    session state (players and downloads are files), and only the current and the undo
    results' files stay on disk. Layer generation is replaced by 2-second takes so the test
    measures the studio, not the synthesis."""
    at = _app()
    _upload(at)  # default length: 10 min
    sess = at.session_state[SESSION]

    def quick(spec, plan, progress):
        rng = np.random.default_rng(spec.seed)
        takes = spec.events.takes if spec.events is not None else 1
        clips = tuple(AudioClip((0.05 * rng.standard_normal((2, 96_000))).astype(np.float32), 48_000) for _ in range(takes))
        return LayerSource(spec=spec, clips=clips, backend="procedural")

    sess.pipeline.generate_layer = quick
    for seed in range(5):
        at.number_input(key="studio.seed").set_value(seed).run()
        _generate(at)
        assert sess.soundscape.duration_s == 600.0
    frames = sess.soundscape.frames
    state = {k: at.session_state[k] for k in at.session_state}
    assert largest_track_objects(state, frames) == []
    versions = sorted(p.name for p in sess.work_dir.iterdir() if p.name.startswith("v"))
    assert versions == [f"v{sess.version - 1}", f"v{sess.version}"]  # current + undo only
