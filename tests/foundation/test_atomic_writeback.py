"""Large atomic writes start their writeback as they go, so the final fsync waits for little."""

from __future__ import annotations

import os

import numpy as np

from studio import atomic
from studio.atomic import WRITEBACK_BYTES, AtomicFile


def test_pace_starts_writeback_every_32_mb_and_the_file_is_intact(tmp_path, monkeypatch):
    calls = []
    real = atomic.start_writeback
    monkeypatch.setattr(atomic, "start_writeback", lambda fd: (calls.append(os.lseek(fd, 0, os.SEEK_CUR)), real(fd)))
    data = np.random.default_rng(0).integers(0, 256, 5 * WRITEBACK_BYTES // 2, dtype=np.uint8).tobytes()
    af = AtomicFile(tmp_path / "big.bin")
    for i in range(0, len(data), 1 << 20):
        af.fh.write(data[i:i + (1 << 20)])
        af.pace()
    af.commit()
    # 80 MB written in 1 MB blocks: the disk was started at 32 MB and at 64 MB, each time on
    # everything written so far (the buffer was flushed first).
    assert calls == [WRITEBACK_BYTES, 2 * WRITEBACK_BYTES]
    assert (tmp_path / "big.bin").read_bytes() == data
    assert not list(tmp_path.glob(".*.part"))


def test_writeback_is_only_a_hint(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "posix_fadvise", raising=False)
    af = AtomicFile(tmp_path / "a.bin")
    af.fh.write(b"x" * (WRITEBACK_BYTES + 1))
    af.pace()
    af.commit()
    assert (tmp_path / "a.bin").stat().st_size == WRITEBACK_BYTES + 1
    atomic.start_writeback(-1)  # a bad descriptor is ignored, not raised


def test_small_writes_never_start_writeback(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(atomic, "start_writeback", calls.append)
    af = AtomicFile(tmp_path / "small.bin")
    for _ in range(100):
        af.fh.write(b"y" * 1000)
        af.pace()
    af.commit()
    assert calls == []
