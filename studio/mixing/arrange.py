"""Arranged layers: beds and event tracks at project rate, rendered lazily chunk by chunk.

:class:`Arrangement` holds, per layer, either a :class:`~studio.mixing.loops.BedArrangement` or
an :class:`~studio.mixing.events.EventTrack` built from the layer's takes (resampled once), plus
the mix settings (gain, pan, width, mute, solo). :meth:`Arrangement.with_plan` returns a new
arrangement for a plan that differs only in mix settings, sharing the arranged material: that is
what makes a re-mix cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from studio.errors import AudioError, PlanError
from studio.mixing.events import EventPlacement, EventTrack
from studio.mixing.loops import BedArrangement
from studio.mixing.loudness import LoudnessMeter, blocks_from_hops, gated_loudness
from studio.mixing.pan import apply_matrix, stereo_matrix
from studio.mixing.resample import to_project
from studio.types import LayerSource, LayerSpec, ScenePlan

BED_EXCERPTS = 8
BED_EXCERPT_S = 10.0


@dataclass
class ArrangedLayer:
    """One layer's arranged material (shared between re-mixes)."""

    role: str
    bed: Optional[BedArrangement] = None
    events: Optional[EventTrack] = None


def arrange_layer(spec: LayerSpec, source: LayerSource, frames: int, sample_rate: int) -> ArrangedLayer:
    takes = [to_project(c, sample_rate) for c in source.clips]
    if not takes:
        raise AudioError(f"layer {spec.name!r}: the backend returned no audio")
    if spec.role == "background":
        return ArrangedLayer("background", bed=BedArrangement(takes, frames, spec.seed, sample_rate))
    return ArrangedLayer("foreground", events=EventTrack(spec, takes, frames, sample_rate))


class Arrangement:
    """All layers of a plan, ready to render stems and their sum for any frame window."""

    def __init__(self, plan: ScenePlan, layers: Sequence[ArrangedLayer], sample_rate: int, frames: int) -> None:
        self.plan = plan
        self.layers = list(layers)
        self.sample_rate = sample_rate
        self.frames = frames
        specs = plan.layers
        any_solo = any(s.solo for s in specs)
        self.active = [(not s.mute) and (s.solo or not any_solo) for s in specs]
        self.matrices = [stereo_matrix(s.gain_db, s.pan, s.width) for s in specs]
        self.bed_lufs = self._bed_reference()
        self.placements: list[Optional[EventPlacement]] = [
            layer.events.place(spec, self.bed_lufs) if layer.events is not None else None
            for spec, layer in zip(specs, self.layers)
        ]

    @classmethod
    def build(cls, plan: ScenePlan, sources: Sequence[LayerSource]) -> "Arrangement":
        sr = plan.sample_rate
        frames = int(round(plan.duration_s * sr))
        if len(sources) != len(plan.layers):
            raise PlanError(f"got {len(sources)} layer sources for {len(plan.layers)} plan layers; they must match")
        for i, (spec, src) in enumerate(zip(plan.layers, sources)):
            if src.spec.name != spec.name or src.spec.role != spec.role:
                raise PlanError(
                    f"layer source {i + 1} is {src.spec.name!r} ({src.spec.role}) but the plan's layer "
                    f"{i + 1} is {spec.name!r} ({spec.role}); sources must follow plan order"
                )
        layers = [arrange_layer(spec, src, frames, sr) for spec, src in zip(plan.layers, sources)]
        return cls(plan, layers, sr, frames)

    def with_plan(self, plan: ScenePlan) -> "Arrangement":
        """Same material, new mix settings (the caller has checked the plans are compatible)."""
        return Arrangement(plan, self.layers, self.sample_rate, self.frames)

    # ------------------------------------------------------------------ levels

    def _bed_reference(self) -> Optional[float]:
        """Loudness (LUFS) of the summed beds after their gain/pan/width, mute and solo ignored.

        Measured on up to 8 excerpts of 10 s spread over the track (beds are stationary by
        design), so it costs the same for a 5-minute and a 60-minute track."""
        beds = [i for i, layer in enumerate(self.layers) if layer.bed is not None]
        if not beds:
            return None
        excerpt = int(BED_EXCERPT_S * self.sample_rate)
        if self.frames <= excerpt * BED_EXCERPTS:
            windows = [(0, self.frames)]
        else:
            step = (self.frames - excerpt) / (BED_EXCERPTS - 1)
            windows = [(int(k * step), excerpt) for k in range(BED_EXCERPTS)]
        blocks = []
        for start, n in windows:
            acc = np.zeros((2, n), np.float32)
            for i in beds:
                x = self.layers[i].bed.render(start, n)
                apply_matrix(self.matrices[i], x, out=acc, add=True)
            meter = LoudnessMeter(self.sample_rate)
            meter.feed(acc)
            hops = meter.result().hop_energy
            blocks.append(blocks_from_hops(hops[0] + hops[1], meter.hop_frames))
        return gated_loudness(np.concatenate(blocks))

    # ------------------------------------------------------------------ rendering

    def stem(self, index: int, start: int, n: int) -> np.ndarray:
        """Layer ``index`` as heard in the mix: float32 ``(2, n)`` after its gain, pan, width,
        mute and solo, before the master."""
        if not self.active[index]:
            return np.zeros((2, n), np.float32)
        layer = self.layers[index]
        if layer.bed is not None:
            return apply_matrix(self.matrices[index], layer.bed.render(start, n))
        return self.placements[index].render(start, n)

    def mix(self, start: int, n: int, stems: Optional[list[np.ndarray]] = None) -> np.ndarray:
        """Sum of the active layers (pre-master) for frames ``start..start+n``.

        When ``stems`` is a list, each layer's stem chunk is appended to it too (so an export
        renders each stem once)."""
        # Always sum finished stems, so the mix is bit-identical whether or not stems are kept.
        out: Optional[np.ndarray] = None
        for i in range(len(self.layers)):
            if not self.active[i]:
                if stems is not None:
                    stems.append(np.zeros((2, n), np.float32))
                continue
            s = self.stem(i, start, n)
            if stems is not None:
                stems.append(s)
            if out is None:
                out = s.copy()
            else:
                out += s
        return out if out is not None else np.zeros((2, n), np.float32)
