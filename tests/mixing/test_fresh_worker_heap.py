"""Fresh-bed worker processes keep freed memory for the next take (studio.mixing.fresh._worker_heap).

Measured by page faults in a fresh interpreter: re-allocating and filling a take-sized array
(46 MB, a 60-s stereo take in float64, as the sub-sonic filter holds it) after freeing one must
not fault its pages in again with the worker setting, while glibc's default (an array over its
32 MB mmap ceiling gets its own mapping, unmapped when freed) does.
Pooled and in-process renders being byte-identical is checked in test_mix_publishable.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "worker":
    from studio.mixing.fresh import _worker_heap
    _worker_heap()
n = 2 * 2_880_000
a = np.ones(n); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(n); del b
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt only")
def test_worker_heap_reuses_a_freed_take_without_page_faults():
    # 11,250 pages of 4 kB; the kernel may map larger pages (transparent huge pages, fault-around),
    # so the default's count is ~1000 here and could be ~25 elsewhere: compare, do not count pages
    default, worker = _faults("default"), _faults("worker")
    assert default > 20, default  # the default maps the array anew after each free
    assert worker <= 2, worker  # the worker reuses the same heap pages
