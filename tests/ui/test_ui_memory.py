"""The server's allocator settings: freed audio chunks go back to the system."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# In a fresh interpreter: free one 16 MB block (glibc then raises its mmap threshold to 16 MB,
# as after any render), allocate 64 master-sized chunks (98 MB) and a small block after them,
# free the chunks, and print how much of them is still resident (MB).
SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    from studio.ui.memory import tune_allocator

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    if sys.argv[1] == "tuned":
        assert tune_allocator() and tune_allocator()
    big = np.ones(4 * 2**20, np.float32); del big
    before = rss()
    chunks = [np.ones((2, 192_000), np.float32) for _ in range(64)]
    pin = np.ones(256)
    held = rss()
    del chunks
    print(round(held - before), round(rss() - before))
""")


def _resident_after_free(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True, timeout=120)
    held, left = map(int, out.stdout.split())
    return held, left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator settings")
def test_freed_audio_chunks_are_given_back_once_the_allocator_is_tuned():
    held, left = _resident_after_free("tuned")
    assert held > 80 and left < 8
    held, kept = _resident_after_free("default")  # what the server did before: tens of MB kept
    assert held > 80 and kept > 16
