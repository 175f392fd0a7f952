"""Chunks rendered ahead on worker threads come out in order and bit-identical to inline."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from studio.mixing import ahead
from studio.mixing.ahead import rendered_ahead


def test_results_come_in_item_order_whatever_finishes_first():
    def slow_then_fast(k):
        time.sleep(0.02 if k % 3 == 0 else 0.0)  # early items finish last
        return k * k

    assert list(rendered_ahead(slow_then_fast, range(20), threads=2, ahead=4)) == [k * k for k in range(20)]
    assert list(rendered_ahead(slow_then_fast, range(5), threads=1)) == [k * k for k in range(5)]


def test_an_error_is_raised_at_its_item_and_later_items_are_not_started():
    started = []
    lock = threading.Lock()

    def fn(k):
        with lock:
            started.append(k)
        if k == 3:
            raise ValueError("bad chunk 3")
        return k

    got = []
    with pytest.raises(ValueError, match="bad chunk 3"):
        for v in rendered_ahead(fn, range(100), threads=2, ahead=4):
            got.append(v)
    assert got == [0, 1, 2]
    assert max(started) < 3 + 4 + 2  # at most `ahead` chunks past the failing one were submitted


def test_closing_early_stops_submitting():
    calls = []
    gen = rendered_ahead(calls.append, range(1000), threads=2, ahead=3)
    next(gen)
    gen.close()
    assert len(calls) <= 6


def test_mix_and_stems_are_bit_identical_with_and_without_worker_threads(monkeypatch):
    from mixing_helpers import simple_plan, simple_sources

    from studio.mixing import render_soundscape

    plan = simple_plan()
    sources = simple_sources(plan)

    def chunks():
        sc = render_soundscape(plan, sources)
        out = [(m.copy(), [s.copy() for s in st]) for m, st in sc.iter_mix(chunk_frames=48_000 * 3, with_stems=True)]
        return sc.master, out

    monkeypatch.setattr(ahead, "RENDER_THREADS", 1)
    master_inline, inline = chunks()
    monkeypatch.setattr(ahead, "RENDER_THREADS", 3)
    master_threaded, threaded = chunks()
    assert master_threaded == master_inline
    assert len(threaded) == len(inline) > 3
    for (m1, s1), (m2, s2) in zip(inline, threaded):
        assert m1.tobytes() == m2.tobytes()
        assert [s.tobytes() for s in s1] == [s.tobytes() for s in s2]
    assert np.isfinite(inline[0][0]).all()
