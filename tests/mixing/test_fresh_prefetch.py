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


def test_the_pipeline_starts_every_fresh_bed_before_generating_any_other_layer(monkeypatch):
    """A fresh bed late in the plan (after an event layer and a steady drone) is handed to the
    prefetch before anything else is generated; the layers' notes still come in plan order."""
    import studio.pipeline as pipeline
    from studio.pipeline import SoundscapePipeline
    from studio.types import EventSpec, LayerSpec, MasterSpec, ScenePlan

    events: list = []
    real_generate = SoundscapePipeline.generate_layer

    def generate(self, spec, plan, progress=None):
        events.append(("generate", spec.name))
        return real_generate(self, spec, plan, progress)

    def prefetch(plan, sources):
        events.append(("prefetch", tuple(s.spec.name for s in sources)))
        return None  # the mixer spools them itself

    monkeypatch.setattr(SoundscapePipeline, "generate_layer", generate)
    monkeypatch.setattr(pipeline, "_prefetch_fresh", prefetch)
    ev = EventSpec(mean_interval_s=4.0, event_s=1.5, min_gap_s=1.0, level_db=-3.0, takes=2)
    layers = (LayerSpec(name="odd-event", role="foreground", prompt="quantum paperwork shuffling xylograph", seed=3,
                        events=ev, backend="procedural"),
              LayerSpec(name="drone", role="background", prompt="warm ambient drone pad, sustained calm chord", seed=4,
                        backend="procedural"),
              LayerSpec(name="odd-bed", role="background", prompt="zqxv plorf wubbly grintle", seed=5, backend="procedural"))
    plan = ScenePlan(style="meditation", duration_s=30, seed=5, layers=layers, master=MasterSpec(target_lufs=-18, ceiling_dbtp=-1))
    pipe = SoundscapePipeline()
    sc = pipe.render(plan)
    assert events == [("prefetch", ("odd-bed",)), ("generate", "odd-event"), ("generate", "drone")]
    assert [s.spec.name for s in sc.stems] == ["odd-event", "drone", "odd-bed"]
    assert [bool(s.metadata.get("fresh")) for s in sc.stems] == [False, False, True]
    layer_notes = [n.split(":")[0] for n in pipe.notes if n.startswith("layer ")]
    assert layer_notes == ["layer 'odd-event'", "layer 'odd-bed'"]
