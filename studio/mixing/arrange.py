"""Arranged layers: beds and event tracks at project rate, rendered lazily chunk by chunk.

:class:`Arrangement` holds, per layer, either a :class:`~studio.mixing.beds.BedArrangement` or
an :class:`~studio.mixing.events.EventTrack` built from the layer's takes (resampled once), plus
the mix settings (gain, pan, width, mute, solo). :meth:`Arrangement.with_plan` returns a new
arrangement for a plan that differs only in mix settings, sharing the arranged material: that is
what makes a re-mix cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from studio.errors import AudioError, PlanError
from studio.mixing.ahead import rendered_ahead
from studio.mixing.beds import BedArrangement
from studio.mixing.events import EventPlacement, EventTrack
from studio.mixing.fresh import FreshBed, spool_chains
from studio.mixing.loudness import LoudnessMeter, blocks_from_hops, gated_loudness
from studio.mixing.pan import apply_matrix, stereo_matrix
from studio.mixing.resample import to_project
from studio.types import LayerSource, LayerSpec, Progress, ScenePlan

BED_EXCERPTS = 32
BED_EXCERPT_S = 10.0
# Memory for bed takes pre-multiplied by their layer's gain/pan/width matrix (per arrangement;
# unchanged layers share them with the arrangement they were re-mixed from). Beds with a width
# (a full 2x2 matrix: 6 operations per sample saved) come first, then pan/gain-only ones (2).
# Beds beyond it are multiplied chunk by chunk instead, with bit-identical results.
MATRIXED_TAKES_BYTES = 192 * 2**20
PROJECT_THREADS = 2  # threads converting takes to project format while the layers are arranged
BINAURAL_MARGIN_DB = 3.0  # binaural tone over the rest of the mix in its critical band


@dataclass
class ArrangedLayer:
    """One layer's arranged material (shared between re-mixes)."""

    role: str
    bed: "Optional[BedArrangement | FreshBed]" = None
    events: Optional[EventTrack] = None
    carrier_hz: Optional[float] = None  # binaural beats: the carrier, for the masking check


@dataclass(frozen=True)
class StyleMix:
    """What the mixer reads from the style preset (all None for an unknown style):
    ``event_ceiling_db`` (most an event may rise over the bed), and the mixing block of the
    preset: ``lra_max_lu`` (EBU Tech 3342 ceiling; None = free), ``event_rise_max_db`` (most
    one event may lift the 3-s short-term loudness over the beds) and ``binaural_max_gain_db``
    (most the mixer may lift binaural beats to keep them above the mix in their band)."""

    event_ceiling_db: Optional[float] = None
    lra_max_lu: Optional[float] = None
    event_rise_max_db: Optional[float] = None
    binaural_max_gain_db: Optional[float] = None


def style_mix(style: str) -> StyleMix:
    from studio.errors import StudioError

    try:
        from studio.planning.styles import load_style

        preset = load_style(style)
    except StudioError:
        return StyleMix()

    def opt(key: str) -> Optional[float]:
        value = preset.extra.get(key)
        return None if value is None else float(value)

    return StyleMix(float(preset.event_ceiling_db), opt("lra_max_lu"), opt("event_rise_max_db"),
                    opt("binaural_max_gain_db"))


def event_rise_cap_db(rise_max_db: float, event_s: float) -> float:
    """Highest event ``level_db`` (event loudness over the beds) that lifts the 3-s short-term
    loudness by at most ``rise_max_db``: the event's energy may add ``10^(rise/10) - 1`` of the
    beds' energy over a 3 s window, and an event shorter than 3 s fills only part of it."""
    return 10.0 * math.log10(10.0 ** (rise_max_db / 10.0) - 1.0) - 10.0 * math.log10(min(1.0, event_s / 3.0))


def arrange_layer(spec: LayerSpec, source: LayerSource, frames: int, sample_rate: int,
                  spool=None, takes: Optional[list[np.ndarray]] = None) -> ArrangedLayer:
    """One layer's arranged material; ``takes`` are its clips already at project format
    (:func:`to_project`), converted here when not given."""
    if spool is not None:
        return ArrangedLayer("background", bed=FreshBed(spool))
    if takes is None:
        takes = [to_project(c, sample_rate) for c in source.clips]
    if not takes:
        raise AudioError(f"layer {spec.name!r}: the backend returned no audio")
    if spec.role == "background":
        carrier = None
        if source.metadata.get("generator") == "binaural_beats":
            carrier = (source.metadata.get("params") or {}).get("carrier_hz")
        return ArrangedLayer("background", bed=BedArrangement(takes, frames, spec.seed, sample_rate),
                             carrier_hz=None if carrier is None else float(carrier))
    return ArrangedLayer("foreground", events=EventTrack(spec, takes, frames, sample_rate))


class Arrangement:
    """All layers of a plan, ready to render stems and their sum for any frame window."""

    def __init__(self, plan: ScenePlan, layers: Sequence[ArrangedLayer], sample_rate: int, frames: int,
                 previous: Optional["Arrangement"] = None) -> None:
        self.plan = plan
        self.layers = list(layers)
        self.sample_rate = sample_rate
        self.frames = frames
        specs = plan.layers
        any_solo = any(s.solo for s in specs)
        self.active = [(not s.mute) and (s.solo or not any_solo) for s in specs]
        self.raw_matrices = [stereo_matrix(s.gain_db, s.pan, s.width) for s in specs]
        self.matrices = list(self.raw_matrices)
        self.bed_takes: list = [None] * len(self.layers)
        if previous is not None and self._same_beds(previous):
            # same beds, same matrices, same balance rule: same measurement
            self.bed_lufs, self.bed_balance_db, self.balance_gains = (
                previous.bed_lufs, previous.bed_balance_db, previous.balance_gains)
        else:
            self.bed_lufs, self.bed_balance_db, self.balance_gains = self._bed_reference()
        if self.balance_gains != (1.0, 1.0):
            counter = np.diag(self.balance_gains)
            self.matrices = [counter @ m if layer.bed is not None else m
                             for m, layer in zip(self.raw_matrices, self.layers)]
        self.style = style_mix(plan.style)
        self.binaural = self._binaural_check()
        if self.binaural is not None and self.binaural["lift_db"]:
            i = self.binaural["layer_index"]
            self.matrices[i] = self.matrices[i] * 10.0 ** (self.binaural["lift_db"] / 20.0)
        self.bed_takes = self._matrixed_takes(previous)
        self.event_ceilings = [self._event_ceiling(spec) for spec in specs]
        self.placements: list[Optional[EventPlacement]] = [
            layer.events.place(spec, self.bed_lufs, ceiling) if layer.events is not None else None
            for spec, layer, ceiling in zip(specs, self.layers, self.event_ceilings)
        ]

    def _event_ceiling(self, spec: LayerSpec) -> Optional[float]:
        """The style's event ceiling, lowered so one event keeps within the style's
        ``event_rise_max_db`` of short-term loudness (that keeps the loudness range down)."""
        caps = [self.style.event_ceiling_db]
        if spec.events is not None and self.style.event_rise_max_db is not None:
            caps.append(round(event_rise_cap_db(self.style.event_rise_max_db, spec.events.event_s), 3))
        caps = [c for c in caps if c is not None]
        return min(caps) if caps else None

    @classmethod
    def build(cls, plan: ScenePlan, sources: Sequence[LayerSource],
              progress: Optional[Progress] = None) -> "Arrangement":
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
        fresh = [i for i, (spec, src) in enumerate(zip(plan.layers, sources))
                 if spec.role == "background" and src.chain is not None]
        spools: list = [None] * len(sources)
        for i, spool in zip(fresh, spool_chains([sources[i].chain for i in fresh], frames, sr, progress)):
            spools[i] = spool
        # Takes are brought to project format (resampling, the 20 Hz filter in float64: about
        # 0.15 s CPU per 60 s take, GIL released) on PROJECT_THREADS threads, and the layers are
        # arranged (bed planning: Python with FFT correlations) on as many more, each layer from
        # its own seeded generators: the same arrays and segments as inline, and the first
        # failing layer raises as before. Under load, the 60-minute bench's six beds: build wall
        # 14.1 / 14.3 / 13.7 s -> 9.6 / 13.7 / 12.9 s, interleaved runs.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=PROJECT_THREADS, thread_name_prefix="studio-takes") as pool, \
                ThreadPoolExecutor(max_workers=PROJECT_THREADS, thread_name_prefix="studio-arrange") as planners:
            pending = [None if spools[i] is not None else [pool.submit(to_project, c, sr) for c in src.clips]
                       for i, src in enumerate(sources)]

            def arrange(i: int) -> ArrangedLayer:
                takes = None if pending[i] is None else [f.result() for f in pending[i]]
                return arrange_layer(plan.layers[i], sources[i], frames, sr, spools[i], takes)

            arranging = [planners.submit(arrange, i) for i in range(len(sources))]
            try:
                layers = [f.result() for f in arranging]
            finally:
                for f in arranging:
                    f.cancel()
                for futs in pending:
                    for f in futs or ():
                        f.cancel()
        return cls(plan, layers, sr, frames)

    def with_plan(self, plan: ScenePlan) -> "Arrangement":
        """Same material, new mix settings (the caller has checked the plans are compatible)."""
        return Arrangement(plan, self.layers, self.sample_rate, self.frames, previous=self)

    def _matrixed_takes(self, previous: Optional["Arrangement"]) -> list[Optional[list[np.ndarray]]]:
        """Per layer: a bed's takes times the layer's matrix (the takes themselves at unity),
        reused from ``previous`` where layer and matrix are unchanged; None for event layers and
        for beds past :data:`MATRIXED_TAKES_BYTES`."""
        out: list[Optional[list[np.ndarray]]] = [None] * len(self.layers)
        budget = MATRIXED_TAKES_BYTES
        beds = [i for i, layer in enumerate(self.layers) if isinstance(layer.bed, BedArrangement)]
        # Full matrices first (diagonal ones cost less per chunk), then layer order.
        beds.sort(key=lambda i: (self.matrices[i][0, 1] == 0 and self.matrices[i][1, 0] == 0, i))
        for i in beds:
            bed = self.layers[i].bed
            m = self.matrices[i]
            if np.array_equal(m, np.eye(2)):
                out[i] = bed.takes
                continue
            takes = None
            if (previous is not None and i < len(previous.layers) and previous.layers[i] is self.layers[i]
                    and np.array_equal(previous.matrices[i], m)):
                takes = previous.bed_takes[i]
            size = sum(t.nbytes for t in bed.takes)
            if takes is None and size <= budget:
                takes = [apply_matrix(m, t) for t in bed.takes]
                for t in takes:
                    t.flags.writeable = False
            if takes is not None:
                budget -= size
            out[i] = takes
        return out

    def _same_beds(self, other: "Arrangement") -> bool:
        if (len(other.layers) != len(self.layers) or other.frames != self.frames
                or other.plan.master.centre_balance != self.plan.master.centre_balance):
            return False
        return all(
            a is b and (a.bed is None or np.array_equal(ma, mb))
            for a, b, ma, mb in zip(self.layers, other.layers, self.raw_matrices, other.raw_matrices)
        )

    def _bed(self, index: int, start: int, n: int) -> np.ndarray:
        """Bed layer ``index`` after its matrix, frames ``start..start+n`` (maybe a read-only view)."""
        return self.layers[index].bed.render(start, n, matrix=self.matrices[index], takes=self.bed_takes[index])

    # ------------------------------------------------------------------ levels

    def _bed_reference(self) -> tuple[Optional[float], float, tuple[float, float]]:
        """Loudness (LUFS) of the summed beds after their gain/pan/width (mute and solo
        ignored) and the counterweight, the beds' L/R balance before it (left minus right
        channel loudness, dB), and the counterweight's (left, right) gains.

        The counterweight (``master.centre_balance``, on by default) scales the beds' left and
        right channels by ``10^(-+balance/40)`` so the summed beds sit centred whatever the
        pans: a bed panned left is balanced by the others, as an engineer would rebalance the
        mix. Measured after the master's mono bass (what the listener hears) on up to 32
        excerpts of 10 s spread over the track, so it costs the same for a 6-minute and a
        60-minute track. Eight excerpts were too few for a recording bed whose own balance
        moves over time: a 60-minute beach mix came out 1.03 dB right-heavy; with 32 excerpts
        and the mono bass measured, 0.45 dB."""
        beds = [i for i, layer in enumerate(self.layers) if layer.bed is not None]
        if not beds:
            return None, 0.0, (1.0, 1.0)
        excerpt = int(BED_EXCERPT_S * self.sample_rate)
        # A track up to BED_EXCERPTS excerpts long is measured whole, in excerpt-sized pieces
        # through one meter and one filter (memory of one piece, whatever the length).
        whole = self.frames <= excerpt * BED_EXCERPTS
        if whole:
            windows = [(s, min(excerpt, self.frames - s)) for s in range(0, self.frames, excerpt)]
        else:
            step = (self.frames - excerpt) / (BED_EXCERPTS - 1)
            windows = [(int(k * step), excerpt) for k in range(BED_EXCERPTS)]
        from studio.mixing.bass import BassMono

        def summed(window: tuple[int, int]) -> np.ndarray:
            acc = np.zeros((2, window[1]), np.float32)
            for i in beds:
                acc += self._bed(i, *window)
            return acc

        blocks = []
        meter = bass = None
        # The excerpts' sums render ahead on worker threads; filter and meter take them in order.
        for acc in rendered_ahead(summed, windows):
            # Measured as the listener hears it, after the master's mono bass: a bed panned
            # to one side is louder there in its lows too, which the mono bass re-centres; a
            # counterweight measured before it over-corrected.
            if meter is None or not whole:
                meter, bass = LoudnessMeter(self.sample_rate), BassMono(self.sample_rate)
            meter.feed(bass.process(acc))
            if not whole:
                blocks.append(blocks_from_hops(meter.result().hop_energy[:2], meter.hop_frames))
        if whole:
            blocks.append(blocks_from_hops(meter.result().hop_energy[:2], meter.hop_frames))
        left, right = np.concatenate(blocks, axis=1)
        lufs_l, lufs_r = gated_loudness(left), gated_loudness(right)
        balance = float(round(lufs_l - lufs_r, 4)) if np.isfinite(lufs_l) and np.isfinite(lufs_r) else 0.0
        gains = (1.0, 1.0)
        if self.plan.master.centre_balance and balance != 0.0:
            gains = (10.0 ** (-balance / 40.0), 10.0 ** (balance / 40.0))
        return gated_loudness(gains[0] ** 2 * left + gains[1] ** 2 * right), balance, gains

    def _binaural_check(self) -> Optional[dict]:
        """Whether binaural beats are audible: the tone's power in its own critical band
        (one ERB, Glasberg & Moore: ``24.7 (4.37 f/kHz + 1)`` Hz, centred on the carrier)
        against the other beds' power in that band, on up to 3 excerpts of 10 s. Below
        :data:`BINAURAL_MARGIN_DB` the layer is lifted, at most up to the style's
        ``binaural_max_gain_db``; what is still short is reported as masked (with a note)."""
        found = [i for i, layer in enumerate(self.layers) if layer.carrier_hz is not None]
        if not found:
            return None
        i = found[0]
        carrier = self.layers[i].carrier_hz
        erb = 24.7 * (4.37 * carrier / 1000.0 + 1.0)
        others = [j for j, layer in enumerate(self.layers) if layer.bed is not None and j != i]
        n = min(self.frames, int(BED_EXCERPT_S * self.sample_rate))
        starts = np.linspace(0, self.frames - n, 3 if self.frames >= 3 * n else 1).astype(int)
        f = np.fft.rfftfreq(n, 1.0 / self.sample_rate)
        band = (f >= carrier - erb / 2) & (f <= carrier + erb / 2)
        tone = rest = 0.0
        for start in starts:
            spec = np.fft.rfft(self._bed(i, int(start), n), axis=-1)
            tone += float(np.sum(np.abs(spec[:, band]) ** 2))
            if others:
                acc = np.zeros((2, n), np.float32)
                for j in others:
                    acc += self._bed(j, int(start), n)
                rest += float(np.sum(np.abs(np.fft.rfft(acc, axis=-1)[:, band]) ** 2))
        margin = 99.0 if rest <= 0 else (-99.0 if tone <= 0 else 10.0 * math.log10(tone / rest))
        gain_db = self.plan.layers[i].gain_db
        room = 0.0 if self.style.binaural_max_gain_db is None else max(0.0, self.style.binaural_max_gain_db - gain_db)
        lift = round(min(max(0.0, BINAURAL_MARGIN_DB - margin), room), 2)
        masked = margin + lift < BINAURAL_MARGIN_DB - 0.01
        out = {"layer": self.plan.layers[i].name, "layer_index": i, "carrier_hz": round(carrier, 2),
               "band_hz": [round(carrier - erb / 2, 1), round(carrier + erb / 2, 1)],
               "margin_db": round(margin + lift, 2), "lift_db": lift, "masked": masked}
        if masked:
            out["note"] = (
                f"binaural beats are masked: the tone is {margin + lift:.1f} dB over the rest of the mix in its "
                f"critical band ({out['band_hz'][0]:g}-{out['band_hz'][1]:g} Hz; audible needs "
                f"{BINAURAL_MARGIN_DB:g} dB) and the {self.plan.style} style allows it no louder; lower the "
                "other beds or raise the binaural layer's gain"
            )
        return out

    # ------------------------------------------------------------------ rendering

    def stem(self, index: int, start: int, n: int) -> np.ndarray:
        """Layer ``index`` as heard in the mix: float32 ``(2, n)`` after its gain, pan, width,
        mute and solo, before the master."""
        if not self.active[index]:
            return np.zeros((2, n), np.float32)
        if self.layers[index].bed is not None:
            x = self._bed(index, start, n)
            return x if x.flags.writeable else x.copy()
        return self.placements[index].render(start, n)

    def mix(self, start: int, n: int, stems: Optional[list[np.ndarray]] = None) -> np.ndarray:
        """Sum of the active layers (pre-master) for frames ``start..start+n``: a new float32
        ``(2, n)`` array the caller owns.

        When ``stems`` is a list, each layer's stem chunk is appended to it too (so an export
        renders each stem once). The sum is computed the same way either way (stem by stem, in
        layer order; an event layer only over the span its events cover, where the rest of its
        stem is zero), so the mix is bit-identical whether or not stems are kept."""
        out: Optional[np.ndarray] = None
        for i, layer in enumerate(self.layers):
            if not self.active[i]:
                if stems is not None:
                    stems.append(np.zeros((2, n), np.float32))
                continue
            if layer.bed is not None:
                x = self._bed(i, start, n)
                if stems is not None:
                    stems.append(x)
                if out is None:
                    out = x if stems is None and x.flags.writeable else x.copy()
                else:
                    out += x
                continue
            lo, hi, part = self.placements[i].render_span(start, n)
            if stems is not None:
                s = np.zeros((2, n), np.float32)
                if part is not None:
                    s[:, lo:hi] = part
                stems.append(s)
            if out is None:
                out = np.zeros((2, n), np.float32)
            if part is not None:
                out[:, lo:hi] += part
        return out if out is not None else np.zeros((2, n), np.float32)
