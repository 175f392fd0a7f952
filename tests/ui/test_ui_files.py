"""The studio's file route (studio.ui.files) and the library's titles, sizes and clean-up."""

from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.library import Library, human_size
from ui_test_helpers import make_manifest, make_plan


def _client():
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from studio.ui import files

    return TestClient(Starlette(routes=files.routes()))


def test_offered_files_stream_with_ranges_and_withdrawn_ones_are_gone(tmp_path):
    from studio.ui import files

    path = tmp_path / "mix.flac"
    path.write_bytes(bytes(range(256)) * 4000)
    url = files.offer(path, "forest-path-10min-meditation.flac")
    client = _client()
    whole = client.get(files.download_url(url))
    assert whole.status_code == 200 and whole.content == path.read_bytes()
    assert whole.headers["content-type"] == "audio/flac"
    assert 'attachment; filename="forest-path-10min-meditation.flac"' == whole.headers["content-disposition"]
    part = client.get(url, headers={"Range": "bytes=256-511"})
    assert part.status_code == 206 and part.content == bytes(range(256))
    files.withdraw([url])
    gone = client.get(url)
    assert gone.status_code == 410 and "newer render" in gone.text
    assert client.get("/studio-files/not-a-token/x.wav").status_code == 404


def test_library_renames_sizes_and_cleans_up(tmp_path):
    lib = Library(tmp_path)
    manifest = make_manifest(make_plan())
    entries = [lib.add(manifest, title=f"Forest path {i}", mix_bytes=b"x" * 1000 * (i + 1)) for i in range(3)]
    renamed = lib.rename(entries[0].id, "  Morning   walk ")
    assert renamed.title == "Morning walk" and lib.get(entries[0].id).title == "Morning walk"
    with pytest.raises(InputError, match="cannot be empty"):
        lib.rename(entries[0].id, "   ")
    sizes = [e.size_bytes() for e in entries]
    assert all(s > 1000 * (i + 1) for i, s in enumerate(sizes))
    assert lib.total_bytes() == sum(sizes)
    assert human_size(1_234_567) == "1.2 MB" and human_size(999) == "999 bytes"
    gone = lib.clean_up(keep_newest=1)
    assert len(gone) == 2 and [e.id for e in lib.entries()] == [entries[-1].id]
    assert not entries[0].folder.exists()


def test_library_copies_a_mix_file_instead_of_reading_it(tmp_path):
    lib = Library(tmp_path / "lib")
    mix = tmp_path / "mix.flac"
    mix.write_bytes(b"fLaC" + b"\0" * 5000)
    entry = lib.add(make_manifest(make_plan()), title="Lake", mix_file=mix)
    assert entry.mix_path.read_bytes() == mix.read_bytes() and entry.mix_path != mix
