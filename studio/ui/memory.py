"""Keep the Streamlit server's heap from holding on to freed audio (glibc only; a no-op elsewhere).

The server renders in long-lived threads (one script thread per browser session, the master's
metering thread, the library's save thread). With glibc's defaults each thread may get its own
malloc arena (up to 8 per core), and the mmap threshold grows to the size of the largest block
ever freed (up to 32 MB): after one render every later ~1.5 MB audio chunk comes from an arena
instead of its own mapping, and the arenas keep the pages after the chunks are freed. Measured
in issue 21, this kept hundreds of MB resident between renders.

:func:`tune_allocator` (called once when the server starts) caps the arenas at 2 and fixes the
mmap threshold at 256 kB, so audio-sized blocks are mapped and given back to the system when
freed; :func:`release_free_memory` (after each render) returns the arenas' free pages
(``malloc_trim``). Both are plain ``mallopt``/``malloc_trim`` calls: no environment variable has
to be set before Python starts, and the CLI (short-lived processes) is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Optional

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENA_MAX = 2
MMAP_THRESHOLD_BYTES = 256 * 1024
TRIM_THRESHOLD_BYTES = 4 * 1024 * 1024

_libc: Optional[ctypes.CDLL] = None
_tuned = False


def _glibc() -> Optional[ctypes.CDLL]:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            lib.mallopt  # noqa: B018 - glibc (and not musl) has mallopt and malloc_trim
            lib.malloc_trim  # noqa: B018
            _libc = lib
        except (OSError, AttributeError):
            return None
    return _libc


def tune_allocator() -> bool:
    """Cap malloc arenas and fix the mmap threshold (once per process). True when applied."""
    global _tuned
    lib = _glibc()
    if lib is None:
        return False
    if not _tuned:
        ok = all(lib.mallopt(opt, value) == 1 for opt, value in (
            (M_ARENA_MAX, ARENA_MAX), (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)))
        _tuned = ok
    return _tuned


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (cheap: a few ms)."""
    lib = _glibc()
    if lib is not None:
        lib.malloc_trim(0)
