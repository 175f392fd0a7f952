"""FLAC written by libsndfile straight to an export temp file's descriptor (studio.export_writers).

The descriptor path exists for speed (no Python callback per FLAC frame, so the encoding
threads do not queue for the GIL); these tests hold it to the callback path's bytes and to its
error handling: a full disk while writing, and a write that fails while the file is closed (which
libsndfile does not report at all), both surface as the OSError that caused them.
"""

from __future__ import annotations

import errno
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from studio.atomic import AtomicFile
from studio.errors import ExportError
from studio.export import export_soundscape
from studio.export_writers import _Encoder, _flac_complete, _plain_fd

ROOT = Path(__file__).resolve().parents[2]


def _signal(frames: int = 150_000) -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, frames)).astype(np.float32) * 0.1
    x[:, 40_000:90_000] = 0.0  # a silent stretch, as in an event stem
    return x


def _encode(fh, x: np.ndarray, chunk: int = 48_000) -> _Encoder:
    enc = _Encoder(fh, "s.flac", "flac", "FLAC", "PCM_24", 48000, x.shape[1], {"title": "t"}, 1)
    for k in range(0, x.shape[1], chunk):
        enc.write(x[:, k : k + chunk])
    enc.finish()
    return enc


def test_an_export_temp_file_is_written_through_its_descriptor_and_a_bytesio_is_not(tmp_path):
    af = AtomicFile(tmp_path / "a.flac")
    try:
        assert _plain_fd(af.fh) == af.fh.fileno()
        assert _Encoder(af.fh, "a.flac", "flac", "FLAC", "PCM_24", 48000, 10, {}, 1).fd == af.fh.fileno()
    finally:
        af.discard()
    assert _plain_fd(io.BytesIO()) is None
    # OGG stays on the callback path: libsndfile's Vorbis writer ignores a failed write to a descriptor
    af = AtomicFile(tmp_path / "a.ogg")
    try:
        assert _Encoder(af.fh, "a.ogg", "ogg", "OGG", "VORBIS", 48000, 10, {}, 1).fd is None
    finally:
        af.discard()


def test_the_descriptor_path_writes_the_same_bytes_as_the_callback_path(tmp_path):
    x = _signal()
    buf = io.BytesIO()
    assert _encode(buf, x).fd is None
    af = AtomicFile(tmp_path / "s.flac")
    enc = _encode(af.fh, x)
    assert enc.fd is not None
    af.commit()
    data = (tmp_path / "s.flac").read_bytes()
    assert data == buf.getvalue()
    with open(tmp_path / "s.flac", "rb") as fh:
        assert _flac_complete(fh.fileno(), x.shape[1])
        assert not _flac_complete(fh.fileno(), x.shape[1] + 1)


def test_a_full_disk_on_the_descriptor_path_raises_the_os_error():
    x = _signal()
    with open("/dev/full", "w+b") as fh:
        assert _plain_fd(fh) is not None
        with pytest.raises(OSError) as info:
            _encode(fh, x)
    assert info.value.errno == errno.ENOSPC


def _snapshot(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_a_full_disk_while_exporting_flac_stems_is_a_clear_error_and_keeps_the_previous_export(rendered, tmp_path, monkeypatch):
    """The export's real path: temp files whose descriptors lead to a full disk."""
    import studio.atomic as atomic

    sc, _ = rendered
    out = tmp_path / "out"
    export_soundscape(sc, out, manifest={"n": 1})
    before = _snapshot(out)
    real = atomic.AtomicFile.__init__

    def init(self, final, **kw):
        real(self, final, **kw)
        if str(final).endswith(".flac"):
            self.fh.close()
            self.fh = open("/dev/full", "w+b")  # a plain file object, as the export opens

    monkeypatch.setattr(atomic.AtomicFile, "__init__", init)
    with pytest.raises(ExportError, match="No space left on device; free some disk space"):
        export_soundscape(sc, out, manifest={"n": 2})
    assert _snapshot(out) == before


def test_a_write_that_fails_while_closing_is_not_a_silent_truncation(tmp_path):
    """libsndfile ignores a failed write in its close (the last FLAC frame, the header rewrite);
    the finished file's header check finds it. Run in a child: it lowers the file size limit."""
    code = textwrap.dedent(f"""
        import errno, os, resource, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        from studio.atomic import AtomicFile
        from studio.export_writers import _Encoder
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG instead
        x = (np.random.default_rng(1).standard_normal((2, 100_000)) * 0.1).astype(np.float32)
        af = AtomicFile(__import__("pathlib").Path({str(tmp_path / "c.flac")!r}))
        enc = _Encoder(af.fh, "c.flac", "flac", "FLAC", "PCM_24", 48000, x.shape[1], {{}}, 1)
        assert enc.fd is not None
        enc.write(x[:, :99_000])
        enc.write(x[:, 99_000:])  # under one FLAC block: it is written when the file closes
        size = os.fstat(enc.fd).st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
        try:
            enc.finish()
        except OSError as exc:
            print("raised", errno.errorcode[exc.errno])
        else:
            print("finished silently")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "raised EFBIG"
