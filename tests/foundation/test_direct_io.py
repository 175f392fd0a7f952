"""Writes around the page cache (O_DIRECT): the file holds exactly the bytes written, in order,
whatever the write sizes, and every refusal falls back to ordinary writes."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from studio import direct_io
from studio.atomic import AtomicFile
from studio.direct_io import DIRECT_ALIGN, DirectWriter


def _payload(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def _direct_file(tmp_path, name="d.bin", block=3 * DIRECT_ALIGN) -> tuple[AtomicFile, DirectWriter]:
    af = AtomicFile(tmp_path / name)  # a plain temp file; its descriptor switched to O_DIRECT here
    fd = os.dup(af.fh.fileno())
    writer = DirectWriter.open(fd, block)
    if writer is None:
        os.close(fd)
        af.discard()
        pytest.skip("this file system has no O_DIRECT")
    return af, writer


@pytest.mark.parametrize("seed", range(8))
def test_random_write_sizes_give_exactly_the_bytes_written(tmp_path, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5 * DIRECT_ALIGN, 40)  # odd sizes, some over the 12 kB block
    data = _payload(int(sizes.sum()), seed)
    af, w = _direct_file(tmp_path)
    pos = 0
    for k, n in enumerate(sizes):
        piece = data[pos : pos + n]
        if k % 3 == 0:  # encoders fill the staging buffer in place
            w.staging(len(piece))[:] = np.frombuffer(piece, np.uint8)
            w.advance(len(piece))
        else:
            assert w.write(piece) == len(piece)
        pos += n
        assert w.tell() == pos
    assert w.direct  # every write so far went to the disk directly
    w.close()
    af.commit()
    assert (tmp_path / "d.bin").read_bytes() == data


def test_a_big_write_goes_out_in_aligned_blocks(tmp_path, monkeypatch):
    offsets = []
    real = os.write

    def spy(fd, data):
        offsets.append((os.lseek(fd, 0, os.SEEK_CUR), len(data)))
        return real(fd, data)

    data = _payload(10 * DIRECT_ALIGN + 77)
    af, w = _direct_file(tmp_path)
    monkeypatch.setattr(direct_io.os, "write", spy)
    w.write(data)
    w.close()
    af.commit()
    *body, tail = offsets
    assert all(off % DIRECT_ALIGN == 0 and n % DIRECT_ALIGN == 0 for off, n in body)
    assert tail == (10 * DIRECT_ALIGN, 77)  # only the last piece is unaligned (page cache)
    assert (tmp_path / "d.bin").read_bytes() == data


def test_a_refused_direct_write_continues_through_the_page_cache(tmp_path, monkeypatch):
    real = os.write
    calls = {"n": 0}

    def refuse_second(fd, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data)

    data = _payload(20 * DIRECT_ALIGN + 5, 1)
    af, w = _direct_file(tmp_path)
    monkeypatch.setattr(direct_io.os, "write", refuse_second)
    for i in range(0, len(data), 5000):
        w.write(data[i : i + 5000])
    assert not w.direct
    w.close()
    af.commit()
    assert (tmp_path / "d.bin").read_bytes() == data


def test_a_full_disk_is_raised_not_swallowed(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    af, w = _direct_file(tmp_path)
    monkeypatch.setattr(direct_io.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        w.write(_payload(4 * DIRECT_ALIGN))
    w.abandon()
    af.discard()
    assert not list(tmp_path.iterdir())


def test_atomic_direct_file_commits_and_discards_like_a_plain_one(tmp_path):
    data = _payload(5 * DIRECT_ALIGN + 3, 2)
    af = AtomicFile(tmp_path / "a.bin", direct=True)
    af.fh.write(data)
    af.pace()  # nothing to start: there is no page cache to write back
    af.commit()
    assert (tmp_path / "a.bin").read_bytes() == data
    af = AtomicFile(tmp_path / "b.bin", direct=True)
    af.fh.write(data)
    af.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_without_o_direct_the_atomic_file_is_an_ordinary_one(tmp_path, monkeypatch):
    monkeypatch.setattr(direct_io, "_direct_flag", lambda: 0)
    af = AtomicFile(tmp_path / "c.bin", direct=True)
    assert af.direct is None
    af.fh.write(b"abc")
    af.fh.seek(0)
    assert af.fh.read() == b"abc"  # readable and seekable, as before
    af.commit()
    assert (tmp_path / "c.bin").read_bytes() == b"abc"
