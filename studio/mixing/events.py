"""Foreground events placed on the timeline at their resolved times, pans and takes.

Level model (the signal-to-noise model of soundscape synthesis tools): each event's loudness is
set to ``bed_lufs + level_db + min(gain_db, 0)`` where ``bed_lufs`` is the loudness of the summed
background layers after their own gain, pan and width (mute and solo ignored, so muting a bed to
audition does not move the events). A foreground layer's ``gain_db`` can lower its events but
never lift them above ``bed + level_db``, and ``level_db`` itself is capped at the style's
``event_ceiling_db`` (sleep -6 dB, meditation -2 dB, ...): the planner already keeps to it, and
the cap holds for hand-edited plans and manifests too. An event's loudness is BS.1770 over the take as placed (gated, or as one block when
shorter than 400 ms). With no background, events are set against :data:`NO_BED_REFERENCE_LUFS`.

Each event gets raised-cosine fades of ``fade_s`` at both edges (at most half its length), a
constant-power pan at its own pan plus the layer pan (clamped to -1..1) and the layer width.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from studio.errors import AudioError
from studio.mixing.loudness import measure
from studio.mixing.pan import apply_matrix, stereo_matrix
from studio.types import LayerSpec

NO_BED_REFERENCE_LUFS = -30.0
SILENCE_LUFS = -70.0


@dataclass(frozen=True)
class PlacedEvent:
    dst_start: int
    take: int
    length: int
    fade: int
    matrix: np.ndarray  # 2x2: width, pan and level gain

    @property
    def dst_end(self) -> int:
        return self.dst_start + self.length


def take_loudness(take: np.ndarray, length: int, width: float, sample_rate: int) -> float:
    """Loudness (LUFS) of the first ``length`` frames of a take after the layer width."""
    x = apply_matrix(stereo_matrix(0.0, 0.0, width), take[:, :length])
    return measure(x, sample_rate).integrated_lufs


class EventTrack:
    """A foreground layer's takes at project rate, with their loudness measured once.

    :meth:`place` turns a (resolved) layer spec into an immutable :class:`EventPlacement`; the
    track itself is shared by re-mixes and never changes."""

    def __init__(self, spec: LayerSpec, takes: Sequence[np.ndarray], frames: int, sample_rate: int) -> None:
        if not takes:
            raise AudioError(f"foreground layer {spec.name!r} has no event takes")
        self.takes = [np.ascontiguousarray(t, np.float32) for t in takes]
        self.frames = int(frames)
        self.sample_rate = int(sample_rate)
        self._lufs: dict[tuple[float, int], list[float]] = {}

    def take_lufs(self, width: float, event_frames: int) -> list[float]:
        key = (float(width), int(event_frames))
        if key not in self._lufs:
            self._lufs[key] = [
                take_loudness(t, min(t.shape[1], event_frames), width, self.sample_rate) for t in self.takes
            ]
        return self._lufs[key]

    def place(self, spec: LayerSpec, bed_lufs: float | None, ceiling_db: float | None = None) -> "EventPlacement":
        """Events of ``spec`` (resolved) with their gains set against ``bed_lufs``; ``level_db``
        is capped at ``ceiling_db`` (dB over the bed) when given."""
        ev = spec.events
        if ev is None or not ev.resolved:
            raise AudioError(f"foreground layer {spec.name!r} has unresolved events; call resolve_events first")
        assert ev.times_s is not None and ev.pans is not None and ev.take_indices is not None
        event_frames = max(1, int(round(ev.event_s * self.sample_rate)))
        lufs_by_take = self.take_lufs(spec.width, event_frames)
        reference = NO_BED_REFERENCE_LUFS if bed_lufs is None or not math.isfinite(bed_lufs) else bed_lufs
        level_db = ev.level_db if ceiling_db is None else min(ev.level_db, float(ceiling_db))
        target = reference + level_db + min(spec.gain_db, 0.0)
        events = []
        for t_s, pan, k in zip(ev.times_s, ev.pans, ev.take_indices):
            take = int(k) % len(self.takes)
            start = int(round(t_s * self.sample_rate))
            length = min(self.takes[take].shape[1], event_frames, self.frames - start)
            if length <= 0:
                continue
            lufs = lufs_by_take[take]
            gain_db = 0.0 if not math.isfinite(lufs) or lufs < SILENCE_LUFS else target - lufs
            fade = min(int(round(ev.fade_s * self.sample_rate)), length // 2)
            pan_total = max(-1.0, min(1.0, pan + spec.pan))
            events.append(PlacedEvent(start, take, length, fade, stereo_matrix(gain_db, pan_total, spec.width)))
        events.sort(key=lambda e: e.dst_start)
        return EventPlacement(self, tuple(events), target, level_db)


class EventPlacement:
    """Placed events of one layer; ``render(start, n)`` gives float32 ``(2, n)``."""

    def __init__(self, track: EventTrack, events: tuple[PlacedEvent, ...], target_lufs: float,
                 level_db: float = 0.0) -> None:
        self.track = track
        self.events = events
        self.target_lufs = target_lufs
        self.level_db = level_db  # the level over the bed actually used (after the style cap)
        # Running maximum of the event ends: sorted even when a hand-written plan has events that
        # overlap, so a window finds every event that reaches into it.
        ends = np.maximum.accumulate([e.dst_end for e in events]) if events else np.zeros(0, np.int64)
        self._reach = [int(v) for v in ends]

    def _overlapping(self, start: int, stop: int) -> list[PlacedEvent]:
        k = bisect.bisect_right(self._reach, start)
        found = []
        while k < len(self.events) and self.events[k].dst_start < stop:
            e = self.events[k]
            if e.dst_end > start:
                found.append(e)
            k += 1
        return found

    def render_span(self, start: int, n: int) -> tuple[int, int, np.ndarray | None]:
        """``(lo, hi, part)``: the events in frames ``start..start+n`` as float32 ``(2, hi-lo)``
        covering window offsets ``lo..hi`` (the stem is zero outside), or ``(0, 0, None)``."""
        stop = start + n
        events = self._overlapping(start, stop)
        if not events:
            return 0, 0, None
        lo = max(start, min(e.dst_start for e in events))
        hi = min(stop, max(e.dst_end for e in events))
        part = np.zeros((2, hi - lo), np.float32)
        self._render_events(events, lo, part)
        return lo - start, hi - start, part

    def render(self, start: int, n: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.zeros((2, n), np.float32)
        self._render_events(self._overlapping(start, start + n), start, out)
        return out

    def _render_events(self, events: list[PlacedEvent], start: int, out: np.ndarray) -> None:
        """Add ``events`` into ``out``, whose frame 0 is track frame ``start``."""
        stop = start + out.shape[1]
        takes = self.track.takes
        for e in events:
            lo, hi = max(start, e.dst_start), min(stop, e.dst_end)
            if hi <= lo:
                continue
            a, b = lo - e.dst_start, hi - e.dst_start
            x = takes[e.take][:, a:b]
            if e.fade:
                env = np.ones(b - a, np.float64)
                pos = np.arange(a, b, dtype=np.float64)
                rise = pos < e.fade
                env[rise] = 0.5 - 0.5 * np.cos(math.pi * (pos[rise] + 0.5) / e.fade)
                fall = pos >= e.length - e.fade
                env[fall] = 0.5 - 0.5 * np.cos(math.pi * (e.length - pos[fall] - 0.5) / e.fade)
                x = x * env.astype(np.float32)
            apply_matrix(e.matrix, x, out=out[:, lo - start : hi - start], add=True)
