"""The undo point keeps its takes on disk (memory-mapped), not in memory, and undo mixes the
same audio again from them."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from studio.types import AudioClip, LayerSource
from studio.ui.engine import StudioSession
from studio.ui.parking import TakeStore
from ui_test_helpers import png_bytes


def _quick(spec, plan, progress):  # noqa: ARG001 - the pipeline's generate_layer signature
    rng = np.random.default_rng(spec.seed)
    takes = spec.events.takes if spec.events is not None else 2
    clips = tuple(AudioClip((0.05 * rng.standard_normal((2, 48_000))).astype(np.float32), 48_000) for _ in range(takes))
    return LayerSource(spec=spec, clips=clips, backend="procedural")


def _in_memory_bytes(root) -> int:
    """Bytes of ordinary (not memory-mapped) numpy buffers reachable from ``root``."""
    seen, stack, total = set(), [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            if not isinstance(base, np.memmap) and not isinstance(base.base, __import__("mmap").mmap):
                total += obj.nbytes
            continue
        if isinstance(obj, (str, bytes, int, float)):
            continue
        stack.extend(gc.get_referents(obj))
    return total


def _session(seconds: float = 8.0) -> StudioSession:
    sess = StudioSession()
    sess.pipeline.generate_layer = _quick
    sess.use_image(sess.open_image(png_bytes(320, 240), "misty_lake_at_dawn.png"))
    sess.generate(sess.make_plan(style="meditation", duration_s=seconds, seed=3))
    return sess


def test_the_undo_point_holds_its_takes_on_disk_and_undo_mixes_the_same_audio():
    sess = _session()
    first_mix = sess.read_mix()
    first_version = sess.version
    sess.generate(sess.make_plan(style="meditation", duration_s=8.0, seed=4))
    what, before = sess.undo_point
    assert what == "generate" and before.soundscape is None and before.parked_plan is not None
    assert _in_memory_bytes(before.sources) < 64_000  # takes are 2 x 48k x 4 B = 384 kB each: on disk
    takes = sorted(p.name for p in (sess.work_dir / "takes").glob("*.npy"))
    assert len(takes) == sum(len(s.clips) for s in before.sources.values())

    restored = sess.undo()
    assert sess.version == first_version and restored.soundscape is not None
    again = np.concatenate([c for c in restored.soundscape.iter_mix()], axis=1)
    assert np.max(np.abs(again - first_mix)) <= 1.0 / 2**23 + 1e-7  # the 24-bit file of the same mix
    # The undone generation is now the undo point, parked in its turn; the files of takes no
    # kept project reads are gone.
    assert sess.undo_point[1].soundscape is None
    kept = {p for p in (sess.work_dir / "takes").glob("*.npy")}
    assert len(kept) == sum(len(s.clips) for s in sess.undo_point[1].sources.values()) + len(takes)
    sess.undo()  # redo: the second generation again
    assert sess.version == first_version + 1


def test_parking_twice_writes_nothing_and_prune_deletes_only_unread_files(tmp_path):
    store = TakeStore(tmp_path / "takes")
    spec_src = _session(6.0).sources
    src = next(iter(spec_src.values()))
    parked = store.park(src)
    files = sorted((tmp_path / "takes").iterdir())
    assert all(isinstance(c.samples, np.memmap) for c in parked.clips)
    assert [np.array_equal(a.samples, b.samples) for a, b in zip(parked.clips, src.clips)] == [True] * len(src.clips)
    again, twice = store.park(src), store.park(parked)
    assert sorted((tmp_path / "takes").iterdir()) == files  # nothing written again
    assert again.clips[0].samples is not parked.clips[0].samples  # fresh maps
    store.prune([twice])
    assert sorted((tmp_path / "takes").iterdir()) == files
    store.prune([])
    assert list((tmp_path / "takes").iterdir()) == []


def test_a_new_generation_parks_the_current_result_and_a_cancelled_one_brings_it_back():
    from studio.errors import CancelledError

    sess = _session()
    version, plan, mix = sess.version, sess.soundscape.plan, sess.read_mix()
    seen = []
    real = sess.pipeline.generate_layer

    def watching(spec, plan_, progress):
        seen.append(sess.project.soundscape)  # what the session holds while a layer renders
        if len(seen) == 2:
            raise CancelledError("generation cancelled")
        return real(spec, plan_, progress)

    sess.pipeline.generate_layer = watching
    with pytest.raises(CancelledError):
        sess.generate(sess.make_plan(style="meditation", duration_s=8.0, seed=9))
    assert seen == [None, None]  # the current result was parked, not held, during the run
    assert _in_memory_bytes(sess.project.sources) < 64_000
    scape = sess.soundscape  # mixed again on first use
    assert sess.version == version and scape.plan == plan and sess.listening().mix.is_file()
    again = np.concatenate(list(scape.iter_mix()), axis=1)
    assert np.max(np.abs(again - mix)) <= 1.0 / 2**23 + 1e-7
