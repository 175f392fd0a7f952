"""``render_soundscape``: arrange, mix and master a plan's layer sources into a lazy Soundscape."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import partial
from typing import Any, Optional, Sequence

import numpy as np

from studio.mixing.arrange import Arrangement
from studio.mixing.fresh import FreshBed
from studio.mixing.master import MasterRun, MasterSettings
from studio.mixing.schedule import resolve_events
from studio.types import LayerSource, Progress, ScenePlan, Soundscape, Stem, scaled_progress


@dataclass
class MixState:
    """What a re-mix can reuse: the arranged material and the master run."""

    arrangement: Arrangement
    run: MasterRun
    settings: MasterSettings


# Keyed weakly by the Soundscape so the arranged material lives exactly as long as the result.
_STATE: "weakref.WeakKeyDictionary[Soundscape, MixState]" = weakref.WeakKeyDictionary()


def mix_state(soundscape: Soundscape) -> Optional[MixState]:
    return _STATE.get(soundscape)


def _spec_level(arr: Arrangement, index: int) -> float:
    return float(arr.plan.layers[index].events.level_db)


def _stem_metadata(arr: Arrangement, index: int, source: LayerSource) -> dict[str, Any]:
    # Keep everything the backend reported (match scores, warnings, resolved params): the
    # manifest and the UI show it; only the audio itself stays out.
    meta: dict[str, Any] = {k: v for k, v in dict(source.metadata).items() if not hasattr(v, "shape")}
    layer = arr.layers[index]
    meta["takes"] = len(source.clips) if source.chain is None else len(source.chain.seeds)
    meta["active"] = arr.active[index]
    if isinstance(layer.bed, FreshBed):
        meta["fresh_takes"] = layer.bed.take_count
    elif layer.bed is not None:
        meta["loop_segments"] = len(layer.bed.segments)
    placement = arr.placements[index]
    if placement is not None:
        meta["events_placed"] = len(placement.events)
        meta["event_target_lufs"] = round(placement.target_lufs, 3)
        meta["event_level_db"] = round(placement.level_db, 3)
        ceiling = arr.event_ceilings[index]
        if ceiling is not None and _spec_level(arr, index) > ceiling:
            meta["event_level_capped_from_db"] = _spec_level(arr, index)
    return meta


def _ridden_stem(arr: Arrangement, index: int, ride: Optional[Any], start: int, n: int) -> np.ndarray:
    """``Stem.render``: the layer after its fader and the master's slow ride (if any), so the
    stems sum to the mix before the master gain, bass mono and limiter (exported stems are
    these times the master gain, :meth:`MasterRun.iter_mix`)."""
    x = arr.stem(index, start, n)
    return x if ride is None else x * ride.gain(start, n)


def soundscape_from(arr: Arrangement, sources: Sequence[LayerSource], progress: Optional[Progress] = None) -> Soundscape:
    """Master ``arr`` (two or more chunked passes) and wrap it as a :class:`Soundscape`."""
    plan = arr.plan
    run = MasterRun(arr, plan.master)
    settings, report = run.run(progress)
    report["bed_reference_lufs"] = None if arr.bed_lufs is None else round(float(arr.bed_lufs), 3)
    stems = tuple(
        Stem(
            spec=spec,
            backend=src.backend,
            model=src.model,
            sample_rate=arr.sample_rate,
            frames=arr.frames,
            renderer=partial(_ridden_stem, arr, i, settings.ride),
            metadata=_stem_metadata(arr, i, src),
        )
        for i, (spec, src) in enumerate(zip(plan.layers, sources))
    )

    def iter_mix(chunk_frames: Optional[int] = None, with_stems: bool = False):
        """Mastered float32 ``(2, n)`` chunks in order (``(mix, [stems])`` with ``with_stems``)."""
        return run.iter_mix(settings, chunk_frames, with_stems)

    soundscape = Soundscape(
        plan=plan,
        stems=stems,
        sample_rate=arr.sample_rate,
        frames=arr.frames,
        iter_mix=iter_mix,
        master=report,
        sources=tuple(sources),
    )
    _STATE[soundscape] = MixState(arr, run, settings)
    return soundscape


def render_soundscape(plan: ScenePlan, sources: Sequence[LayerSource], *, progress: Optional[Progress] = None) -> Soundscape:
    """Arrange, mix and master ``sources`` (one per ``plan.layers``, same order) into a
    48 kHz stereo :class:`Soundscape` of exactly ``round(duration_s * sample_rate)`` frames.

    Unresolved event specs are resolved first (:func:`resolve_events`); ``soundscape.plan`` is
    the resolved plan. Stems and the mix are rendered lazily; ``soundscape.master`` reports the
    master stage (see docs/mixing.md for every key). ``progress(fraction, message)`` is called
    as the passes run.
    """
    plan = resolve_events(plan)
    prog = scaled_progress(progress, 0.0, 0.1)
    prog(0.0, "arranging layers")
    arr = Arrangement.build(plan, sources, prog)
    prog(1.0, "arranged")
    return soundscape_from(arr, sources, scaled_progress(progress, 0.1, 1.0))
