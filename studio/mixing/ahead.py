"""Render chunks ahead on worker threads and hand them over in order.

The master's passes and the export walk the track chunk by chunk: each chunk's stems are
rendered and summed (a pure function of the frame window: takes, seams, matrices, events), then
the sum goes through stages that carry state from chunk to chunk (mono bass filter, meter,
limiter, file writers) and so must see the chunks in order. Until 2026-12-03 the calling
thread did both, so on a 2-core machine the second core waited for most of a pass. Rendering
runs here on :data:`RENDER_THREADS` worker threads, up to :data:`AHEAD_CHUNKS` chunks ahead of
the caller; numpy and scipy release the GIL for their array loops, so the windows really
render in parallel. Every chunk is computed by the same code from the same inputs, whichever
thread runs it, so the output is bit-identical to rendering inline.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")
R = TypeVar("R")

RENDER_THREADS = 2
AHEAD_CHUNKS = 4  # chunks in flight: about 4 x 13.5 MB with the stems of an 8-layer export


def rendered_ahead(fn: Callable[[T], R], items: Iterable[T], threads: Optional[int] = None,
                   ahead: int = AHEAD_CHUNKS) -> Iterator[R]:
    """``fn(item)`` for every item, in order, computed up to ``ahead`` items ahead on
    ``threads`` worker threads (default :data:`RENDER_THREADS`; inline with ``threads <= 1``). ``fn`` must not depend on the
    order calls run in. An exception in ``fn`` is raised here, at its item; closing the
    iterator early cancels the chunks not started and waits for the running ones."""
    threads = RENDER_THREADS if threads is None else threads
    if threads <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="studio-render") as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= max(1, ahead):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
