"""The server's allocator settings: freed audio chunks go back to the system."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from studio.ui.memory import release_free_memory, tune_allocator


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator settings")
def test_freed_audio_chunks_are_given_back_once_the_allocator_is_tuned():
    assert tune_allocator() and tune_allocator()  # applied, and idempotent
    before = _rss_bytes()
    chunks = [np.ones((2, 192_000), np.float32) for _ in range(64)]  # 64 master chunks: 98 MB
    held = _rss_bytes()
    assert held - before > 80 * 2**20
    del chunks
    release_free_memory()
    assert _rss_bytes() - before < 16 * 2**20
