"""The players' files of a re-mix (studio/ui/players.py): the mix is written before the result
is shown, the stems in the background; a re-mix equals a fresh render of the edited plan; a
stem player never gets a partial or stale file."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from studio.mixing.render import render_soundscape
from studio.ui import files
from studio.ui.engine import StudioSession
from studio.ui.players import stem_chunks
from ui_test_helpers import png_bytes

SECONDS = 64.0  # past one 60-s take: fresh beds cross-fade two takes


@pytest.fixture(scope="module")
def session():
    sess = StudioSession()
    sess.use_image(sess.open_image(png_bytes(320, 240), "quiet_lake_forest.png"))
    sess.generate(sess.make_plan(style="meditation", duration_s=SECONDS, seed=7))
    assert sess.wait_for_players(300)
    return sess


def _read(path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="float64", always_2d=True)
    return data.T


def _gain_edit(sess: StudioSession, db: float):
    plan = sess.soundscape.plan
    first = plan.layers[0]
    return plan.replace_layer(first.name, gain_db=first.gain_db + db)


def test_stem_chunks_are_the_mix_streams_stems_bit_for_bit(session):
    scape = session.soundscape
    kinds = {l.role for l in scape.plan.layers}
    assert kinds == {"background", "foreground"} and any(s.metadata.get("fresh_takes") == 2 for s in scape.stems)
    chunk = 1 << 16  # not a divisor of the track: a short last chunk too
    ours = list(stem_chunks(scape, chunk))
    theirs = [stems for _, stems in scape.iter_mix(chunk, with_stems=True)]
    assert len(ours) == len(theirs) == -(-scape.frames // chunk)
    for a, b in zip(ours, theirs):
        assert len(a) == len(b) == len(scape.stems)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(np.abs(np.concatenate([c[i] for c in ours], axis=1)).max() > 1e-3 for i in range(len(scape.stems)))


def test_the_players_mix_replays_the_limiter_bit_for_bit(session):
    """write_mix streams in the master's chunks (its recorded limiter gains are replayed); any
    other chunk size limits again: the samples are the same."""
    scape = session.soundscape
    replayed = np.concatenate(list(scape.iter_mix()), axis=1)
    limited = np.concatenate(list(scape.iter_mix(1 << 18)), axis=1)
    assert np.array_equal(replayed, limited) and replayed.shape == (2, scape.frames)


def test_a_remix_equals_a_fresh_render_of_the_edited_plan(session):
    """A gain edit reuses the arranged material and the beds' rendered takes from disk; the
    players' mix and every stem file are what rendering the edited plan from scratch gives."""
    sources = [session.sources[l.name] for l in session.soundscape.plan.layers]
    plan = _gain_edit(session, -7.0)
    assert session.apply_plan(plan) == "remix"
    assert session.wait_for_players(300)
    fresh = render_soundscape(plan, sources)
    assert fresh.master["gain_db"] == session.soundscape.master["gain_db"]
    mix = session.read_mix()
    assert np.max(np.abs(mix - fresh.mix_clip().samples)) <= 2.0**-23 + 1e-7  # 24-bit FLAC of the same mix
    listening = session.listening()
    fresh_stems = [np.concatenate(c, axis=1) for c in zip(*(s for _, s in fresh.iter_mix(with_stems=True)))]
    for stem, expected in zip(session.soundscape.stems, fresh_stems):
        got = _read(listening.stems[stem.spec.name])
        assert got.shape == expected.shape
        assert np.max(np.abs(got - np.clip(expected, -1.0, 1.0))) <= 2.0**-15 + 1e-7  # 16-bit FLAC


def test_a_newer_remix_withdraws_unfinished_stems_and_undo_writes_them_again(session, monkeypatch):
    from studio.ui import players

    real = players.stem_chunks

    def slow(scape, chunk_frames=players.CHUNK_FRAMES):
        for i, chunk in enumerate(real(scape, chunk_frames)):
            if i:
                time.sleep(1.0)  # the writer is still busy when the next edit comes
            yield chunk

    monkeypatch.setattr(players, "stem_chunks", slow)
    session.apply_plan(_gain_edit(session, -2.0))
    first = session.listening()
    old_urls = dict(first.stem_urls)
    old_version = session.version
    assert first.writer.running
    monkeypatch.setattr(players, "stem_chunks", real)
    session.apply_plan(_gain_edit(session, -2.0))
    assert session.version == old_version + 1
    assert all(files.wait_ready(url, 0) == "gone" for url in old_urls.values())  # a newer render replaced them
    assert first.writer.ready.is_set() and not first.writer.complete  # cancelled before the new result showed
    assert not any(p.exists() for p in first.stems.values())  # no partial file left
    assert session.wait_for_players(300)
    session.undo()
    assert session.version == old_version
    again = session.listening()
    assert session.wait_for_players(300)
    for name, path in again.stems.items():
        found = files.wait_ready(again.stem_urls[name])
        assert isinstance(found, files.Offer) and found.path == path
        assert sf.info(str(path)).frames == session.soundscape.frames


class _Request:
    def __init__(self, url: str) -> None:
        self.path_params = {"token": files.token_of(url)}
        self.query_params = {}


def _serve(url: str):
    return asyncio.run(files.serve(_Request(url)))


def test_the_route_waits_for_a_file_being_written_and_answers_410_once_withdrawn(tmp_path):
    path = tmp_path / "stem.flac"
    ready = threading.Event()
    url = files.offer(path, ready=ready)

    def finish() -> None:
        time.sleep(0.3)
        sf.write(str(path), np.zeros((4800, 2), np.float32), 48_000, format="FLAC")
        ready.set()

    threading.Thread(target=finish).start()
    t0 = time.perf_counter()
    response = _serve(url)
    assert response.status_code == 200 and time.perf_counter() - t0 >= 0.25
    assert str(response.path) == str(path)

    waiting = files.offer(tmp_path / "never.flac", ready=threading.Event())
    threading.Timer(0.2, files.withdraw, args=([waiting],)).start()
    gone = _serve(waiting)
    assert gone.status_code == 410 and files.GONE_MESSAGE in gone.body.decode()
