"""The render library: SQLite index + files, safe for concurrent sessions."""

from __future__ import annotations

import json
import threading

import pytest
from PIL import Image

from studio.errors import PlanError, StudioError
from studio.library import Library, LibraryError, default_data_dir
from ui_test_helpers import make_manifest, make_plan, png_bytes


def test_default_data_dir_follows_env(data_dir):
    assert default_data_dir() == data_dir
    lib = Library()
    assert lib.root == data_dir and lib.db_path.is_file()


def test_add_list_get_and_files(tmp_path):
    lib = Library(tmp_path)
    plan = make_plan(duration_s=75.0, seed=9)
    entry = lib.add(make_manifest(plan), mix_bytes=b"fLaC-bytes", image=png_bytes(800, 600), extra={"integrated_lufs": -18.0})
    assert entry.caption == "a quiet lake at dusk" and entry.style == "meditation"
    assert entry.duration_s == 75.0 and entry.seed == 9 and entry.length_label == "1:15"
    assert entry.mix_path.read_bytes() == b"fLaC-bytes"
    thumb = Image.open(entry.thumbnail_path)
    assert max(thumb.size) == 256 and thumb.size == (256, 192)
    again = lib.get(entry.id)
    assert again.plan() == plan
    assert again.extra["integrated_lufs"] == -18.0
    assert json.loads(again.manifest_path.read_text())["plan"]["seed"] == 9
    assert [e.id for e in lib.entries()] == [entry.id]


def test_entries_newest_first_and_search(tmp_path):
    lib = Library(tmp_path)
    a = lib.add(make_manifest(make_plan(caption="rain on a tin roof")))
    b = lib.add(make_manifest(make_plan(caption="waves on a beach")))
    assert [e.id for e in lib.entries()] == [b.id, a.id]
    assert [e.id for e in lib.entries(search="RAIN")] == [a.id]
    assert lib.entries(search="meditation", limit=1)[0].id == b.id
    assert len(lib) == 2


def test_delete_removes_row_and_files(tmp_path):
    lib = Library(tmp_path)
    entry = lib.add(make_manifest(make_plan()), mix_bytes=b"x")
    assert entry.folder.is_dir()
    lib.delete(entry.id)
    assert not entry.folder.exists() and len(lib) == 0
    with pytest.raises(LibraryError, match="no library entry"):
        lib.delete(entry.id)
    with pytest.raises(LibraryError, match="letters and digits"):
        lib.get("../etc")


def test_bad_manifest_never_enters(tmp_path):
    lib = Library(tmp_path)
    with pytest.raises(PlanError, match="not a Soundscape Studio manifest"):
        lib.add({"plan": {}})
    bad = make_manifest(make_plan())
    bad["plan"]["duration_s"] = 1.0
    with pytest.raises(PlanError, match="duration_s"):
        lib.add(bad)
    assert len(lib) == 0 and list(lib.renders_dir.iterdir()) == []


def test_bad_image_and_unwritable_root(tmp_path):
    lib = Library(tmp_path)
    with pytest.raises(LibraryError, match="thumbnail"):
        lib.add(make_manifest(make_plan()), image=b"not an image")
    assert len(lib) == 0 and list(lib.renders_dir.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StudioError, match="STUDIO_DATA_DIR"):
        Library(blocker / "sub")


def test_concurrent_sessions_add_and_delete(tmp_path):
    """Two handles (as two sessions/processes would have) writing at once lose nothing."""
    libs = [Library(tmp_path), Library(tmp_path)]
    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            for i in range(10):
                e = libs[k % 2].add(make_manifest(make_plan(seed=k * 100 + i)), mix_bytes=b"m")
                with lock:
                    ids.append(e.id)
                if i % 3 == 0:
                    libs[(k + 1) % 2].delete(e.id)
                    with lock:
                        ids.remove(e.id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    listed = {e.id for e in Library(tmp_path).entries()}
    assert listed == set(ids) and len(listed) == 4 * 6
    assert sorted(p.name for p in (tmp_path / "renders").iterdir()) == sorted(listed)


def test_long_titles_are_shortened_without_stray_spaces(tmp_path):
    lib = Library(tmp_path)
    long_caption = "Image analysis: " + "blue sky above calm water, " * 10
    entry = lib.add(make_manifest(make_plan(caption=long_caption)))
    assert len(entry.title) <= 118 and entry.title.endswith("…") and not entry.title[:-1].endswith(" ")
    assert "  " not in entry.title and entry.title.startswith("Image analysis: blue sky")
    assert entry.caption == long_caption


def test_mix_problems_promise_only_what_re_render_does(tmp_path):
    """Re-render makes a new entry (it never repairs one in place): the messages say so."""
    import io

    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.zeros((48_000 * 2, 2), np.float32), 48_000, format="FLAC")
    lib = Library(tmp_path)
    fine = lib.add(make_manifest(make_plan()), title="Fine", mix_bytes=buf.getvalue())
    gone = lib.add(make_manifest(make_plan()), title="Gone", mix_bytes=buf.getvalue())
    cut = lib.add(make_manifest(make_plan()), title="Cut", mix_bytes=buf.getvalue()[: len(buf.getvalue()) // 2])
    none = lib.add(make_manifest(make_plan()), title="No mix")
    gone.mix_path.unlink()
    remedy = "Re-render makes a new entry with a fresh mix from this entry's manifest; then delete this one"
    assert fine.mix_problem() is None and none.mix_problem() is None
    assert gone.mix_problem() == f"the saved mix of “Gone” is missing; {remedy}"
    problem = cut.mix_problem()
    assert problem.startswith("the saved mix of “Cut” is missing or unreadable (") and problem.endswith(f"); {remedy}")
    assert all("again" not in p for p in (gone.mix_problem(), problem))
    # The remedy is available: the manifest of each is intact, so Re-render is offered.
    assert gone.problem() is None and cut.problem() is None


def test_an_entry_reads_its_files_once(tmp_path, monkeypatch):
    """A library card asks for the problem, plan, manifest bytes and thumbnail on every run:
    each file is read once per entry object, and a damaged one is reported the same each time."""
    from pathlib import Path

    lib = Library(tmp_path)
    plan = make_plan(seed=4)
    lib.add(make_manifest(plan), image=png_bytes())
    bad = lib.add(make_manifest(make_plan()), title="Bad")
    bad.manifest_path.write_text("{", encoding="utf-8")
    entry, damaged = lib.get(lib.entries()[1].id), lib.get(bad.id)
    reads: list[str] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self.name), real(self))[1])
    for _ in range(3):
        assert entry.problem() is None and entry.plan() == plan
        assert entry.manifest() == json.loads(entry.manifest_bytes()) and entry.thumbnail() is not None
        assert "“Bad” is damaged" in damaged.problem()
        with pytest.raises(LibraryError, match="“Bad” is damaged"):
            damaged.manifest_bytes()
    assert entry.manifest_bytes() == real(entry.manifest_path)
    assert sorted(reads) == ["manifest.json", "manifest.json", "thumbnail.png"]
