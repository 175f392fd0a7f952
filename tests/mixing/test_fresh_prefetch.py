"""Fresh beds spooled ahead (studio.mixing.fresh.prefetch_chains): same audio, reused, cancellable."""

from __future__ import annotations

import numpy as np

from studio.types import PROJECT_SAMPLE_RATE as SR
from studio.types import TakeChain

TAKE_S = 4.0


def _chain(seed: int, count: int) -> TakeChain:
    from studio.generation.procedural import ProceduralBackend

    return TakeChain(ProceduralBackend(), "rain", {"type": "rain_light", "loop": False},
                     tuple(seed + k for k in range(count)), TAKE_S)


def _frames(count: int) -> int:
    from studio.mixing.fresh import chain_geometry

    take, xfade = chain_geometry(SR, TAKE_S)
    return take + (count - 1) * (take - xfade)


def _audio(spool) -> np.ndarray:
    from studio.mixing.fresh import FreshBed

    return FreshBed(spool).render(0, spool.frames)


def test_a_prefetched_bed_is_reused_and_equals_one_spooled_in_place(monkeypatch):
    from studio.mixing import fresh

    monkeypatch.setattr(fresh, "POOL_MIN_TAKES", 10_000)  # takes in this process: quick
    calls = {"n": 0}
    real = fresh.project_take

    def counted(chain, k, sr):
        calls["n"] += 1
        return real(chain, k, sr)

    monkeypatch.setattr(fresh, "project_take", counted)
    frames = _frames(3)
    ahead = _chain(11, 3)
    prefetch = fresh.prefetch_chains([ahead], frames, SR)
    assert prefetch is not None
    (spool,) = fresh.spool_chains([ahead], frames, SR)
    assert calls["n"] == 3  # rendered once, by the prefetch; spool_chains waited and reused it
    assert fresh.prefetch_chains([ahead], frames, SR) is None  # already spooled: nothing to start
    (plain,) = fresh.spool_chains([_chain(11, 3)], frames, SR)
    assert calls["n"] == 6
    assert _audio(spool).tobytes() == _audio(plain).tobytes()


def test_a_cancelled_prefetch_stops_and_registers_nothing(monkeypatch):
    import threading

    from studio.mixing import fresh

    monkeypatch.setattr(fresh, "POOL_MIN_TAKES", 10_000)
    started, release = threading.Event(), threading.Event()
    real = fresh.project_take
    rendered = []

    def slow(chain, k, sr):
        started.set()
        release.wait(30)
        rendered.append(k)
        return real(chain, k, sr)

    monkeypatch.setattr(fresh, "project_take", slow)
    chain, frames = _chain(23, 4), _frames(4)
    prefetch = fresh.prefetch_chains([chain], frames, SR)
    assert started.wait(30)
    prefetch.cancelled.set()
    release.set()
    prefetch.cancel()
    assert rendered == [0]  # stopped after the take in progress
    assert (frames, SR) not in fresh._SPOOLS.get(chain, {})
    assert prefetch not in fresh._PREFETCH
