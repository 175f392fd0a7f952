"""The master stage: loudness to target, fades, mono guard and a true-peak limiter.

Signal chain for every frame ``n`` (float32 throughout)::

    sum      = sum of the stems (each after its own gain, pan, width, mute, solo; beds also
               after the counterweight that centres them, see arrange.py)
               (+ the reverb send's wet signal when ``reverb_send_db`` is set)
    mono_bass= ``sum`` with its side signal high-passed at 120 Hz (:mod:`studio.mixing.bass`)
    sided    = mid + side_gain * side of ``mono_bass`` (mono guard; side_gain is 1 unless needed)
    pre      = sided * fade(n)                      (fade in, fade out, optional sleep fade)
    mix      = limiter(pre * ride(n) * 10^(gain_db / 20))  (true-peak limiter at ceiling - 0.1 dB)

``ride(n)`` is the slow bed-keyed gain riding that keeps the style's loudness-range ceiling
(:mod:`studio.mixing.ride`; 1 when the track is already under it or the style has none). It is
planned from the first pass's hop energies, before ``gain_db`` is set.

``gain_db`` is found by measuring the BS.1770 loudness of ``pre`` in one chunked pass, then
checked by a second pass that measures the limited output; if the limiter pulled the loudness
away from the target by more than :data:`TOLERANCE_LU` the gain is corrected (secant steps, as
loudness grows more slowly than gain once the limiter works hard) and the pass repeated (at most
:data:`MAX_PASSES` passes; only heavily limited masters need more than one). The make-up gain
is capped at :data:`MAX_EXTRA_GAIN_DB` and stops when the limiter saturates: a target that
cannot be reached under the ceiling without gross distortion (say -12 LUFS at -3 dBTP for one
hard-panned noise layer) is missed and reported as ``target_reached: False``.

The passes after the first read ``pre`` from a cache (memory up to 20 minutes, an unnamed temp
file beyond, see :mod:`studio.mixing.passes`) and re-meter only chunks the limiter touched; the
final pass's limiter gains are kept so the export replays them.

Mono guard: if summing L+R would lose more than :data:`MONO_DROP_LIMIT_DB` of loudness
(strong out-of-phase content, very wide layers), the side channel is scaled down until the drop is
:data:`MONO_GUARD_TARGET_DB`. The factor is reported as ``mono_side_gain``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import numpy as np

from studio.errors import AudioError
from studio.mixing.ahead import rendered_ahead
from studio.mixing.arrange import Arrangement
from studio.mixing.bass import BASS_MONO_HZ, BassMono
from studio.mixing.fades import fade_envelope
from studio.mixing.limiter import TruePeakLimiter, apply_recorded
from studio.mixing.loudness import LoudnessMeter, LoudnessResult
from studio.mixing.passes import OutputMeter, PreCache
from studio.mixing.ride import Ride, body_hops, plan_ride, ride_report
from studio.types import MasterSpec, Progress, no_progress

CHUNK_FRAMES = 192_000  # 4 s at 48 kHz, a whole number of 100 ms loudness hops
LIMITER_MARGIN_DB = 0.1
TOLERANCE_LU = 0.05
REPORT_TOLERANCE_LU = 0.3  # beyond this the report says target_reached = False
MAX_PASSES = 8
MIN_SLOPE = 0.1  # LU of loudness per dB of gain below which the limiter counts as saturated
MAX_EXTRA_GAIN_DB = 6.0  # most gain added over the unlimited estimate to make up for limiting
MONO_DROP_LIMIT_DB = 3.0
MONO_GUARD_TARGET_DB = 2.5
GAIN_RECORD_FRAMES = 16_000_000  # limited frames whose gains are kept for the export (128 MB)


@dataclass(frozen=True)
class MasterSettings:
    """Everything the master applies, fixed before the final pass."""

    gain_db: float
    side_gain: float
    threshold_dbtp: float
    spec: MasterSpec
    ride: Optional[Ride] = None  # compared by identity

    @property
    def gain(self) -> np.float32:
        return np.float32(10.0 ** (self.gain_db / 20.0))

    @property
    def threshold(self) -> float:
        return 10.0 ** (self.threshold_dbtp / 20.0)


def _side_scale(x: np.ndarray, side_gain: float) -> np.ndarray:
    if side_gain == 1.0:
        return x
    mid = (x[0] + x[1]) * np.float32(0.5)
    side = (x[0] - x[1]) * np.float32(0.5 * side_gain)
    return np.stack([mid + side, mid - side])


class MasterRun:
    """Runs the master passes over an arrangement and builds the mix stream."""

    def __init__(self, arrangement: Arrangement, spec: MasterSpec, chunk_frames: int = CHUNK_FRAMES) -> None:
        self.arr = arrangement
        self.spec = spec
        self.chunk = int(chunk_frames)
        self.frames = arrangement.frames
        self.sr = arrangement.sample_rate
        self.recorded: Optional[tuple[MasterSettings, dict]] = None
        self.ride_info: dict[str, Any] = {}
        self.reverb = None
        if spec.reverb_send_db is not None:
            from studio.mixing.reverb import ReverbSend

            self.reverb = ReverbSend(arrangement.mix, self.sr, spec.reverb_send_db, arrangement.plan.seed)

    def dry_wet(self, start: int, n: int, stems: Optional[list] = None) -> np.ndarray:
        """Sum of stems (plus the reverb send's wet signal when on) for a frame window."""
        x = self.arr.mix(start, n, stems)
        if self.reverb is not None:
            x = x + self.reverb.wet(start, n)
        return x

    # ------------------------------------------------------------------ streams

    def pre_chunks(self, side_gain: float, stems_out: Optional[deque] = None) -> Iterator[np.ndarray]:
        """``sided * fade`` chunks (before master gain), in order."""
        bass = BassMono(self.sr)
        windows = [(start, min(self.chunk, self.frames - start)) for start in range(0, self.frames, self.chunk)]

        def dry(window: tuple[int, int]) -> tuple[np.ndarray, Optional[list]]:
            stems: Optional[list] = [] if stems_out is not None else None
            return self.dry_wet(*window, stems), stems

        # The windows render ahead on worker threads (a pure function of the window); the mono
        # bass, fades and everything downstream see them in order (studio/mixing/ahead.py).
        for k, (dry_sum, stems) in enumerate(rendered_ahead(dry, windows)):
            start, n = windows[k]
            x = _side_scale(bass.process(dry_sum), side_gain)
            fade = fade_envelope(self.spec, self.frames, self.sr, start, n)
            if fade is not None:
                x = x * fade
            if stems_out is not None:
                stems_out.append(stems)
            yield x

    @staticmethod
    def _gained(source: Iterator[np.ndarray], settings: MasterSettings) -> Iterator[np.ndarray]:
        """``pre * ride * gain`` chunk by chunk (the ride's gains depend on the frame index only)."""
        gain = settings.gain
        ride = settings.ride
        if ride is None:
            yield from (c * gain for c in source)
            return
        pos = 0
        for c in source:
            n = c.shape[1]
            yield c * (ride.gain(pos, n) * gain)
            pos += n

    def mastered(self, settings: MasterSettings, pre: Optional[Iterator[np.ndarray]] = None,
                 limiter: Optional[TruePeakLimiter] = None) -> Iterator[np.ndarray]:
        source = pre if pre is not None else self.pre_chunks(settings.side_gain)
        if limiter is None and self.recorded is not None and self.recorded[0] == settings:
            # Replay the final mastering pass's limiter gains instead of detecting peaks again.
            return apply_recorded(self._gained(source, settings), self.recorded[1])
        # Export passes only need the samples; the true peak was measured when mastering.
        limiter = limiter or TruePeakLimiter(settings.threshold, self.sr, measure_peak=False)
        return limiter.process(self._gained(source, settings))

    def iter_mix(self, settings: MasterSettings, chunk_frames: Optional[int] = None,
                 with_stems: bool = False) -> Iterator[Any]:
        """Mastered float32 ``(2, n)`` chunks; with ``with_stems`` yields ``(mix, [stem, ...])``, the
        stems at mix level (``Stem.render`` times the master gain)."""
        run = self if chunk_frames in (None, self.chunk) else MasterRun(self.arr, self.spec, int(chunk_frames))
        if not with_stems:
            yield from run.mastered(settings)
            return
        queue: deque = deque()
        ride, gain, pos = settings.ride, np.float32(settings.gain), 0
        for out in run.mastered(settings, pre=run.pre_chunks(settings.side_gain, queue)):
            stems = queue.popleft()
            if stems:
                # Stems are printed at the level they play in the mix: the slow ride (a fader
                # automation) and the master gain, before bass mono and the limiter. They sum to the
                # mix, and an integer stem only clips where the mix itself would.
                n = stems[0].shape[1]
                g = gain if ride is None else ride.gain(pos, n) * gain
                # In place where the chunk is a fresh array of the arrangement's (a read-only view
                # of a take is copied): a new 1.5 MB array per stem and chunk cost more in page
                # faults than the multiply itself (about 1 ms each, 5 s per hour of five stems).
                stems = [np.multiply(s, g, out=s) if s.flags.writeable and s.flags.owndata else s * g
                         for s in stems]
                pos += n
            yield out, stems

    # ------------------------------------------------------------------ passes

    def run(self, progress: Optional[Progress] = None) -> tuple[MasterSettings, dict[str, Any]]:
        """Measure, set the gain, verify on the limited output; returns settings and the report."""
        progress = progress or no_progress
        cache: Optional[PreCache] = PreCache(self.frames)
        try:
            return self._run(progress, cache)
        finally:
            if cache is not None:
                cache.close()

    def _run(self, progress: Progress, cache: Optional["PreCache"]) -> tuple[MasterSettings, dict[str, Any]]:
        n_chunks = max(1, -(-self.frames // self.chunk))

        meter = LoudnessMeter(self.sr)
        # The K-weighting filter (scipy) and numpy release the GIL: meter chunk k on a worker
        # thread while chunk k+1 is rendered. One worker keeps the feeds in order, so the result
        # is the same as metering inline.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-meter") as pool:
            pending: deque = deque()
            for k, x in enumerate(self.pre_chunks(1.0)):
                pending.append(pool.submit(meter.feed, x))
                if len(pending) > 2:
                    pending.popleft().result()
                if cache is not None:
                    cache.add(x)
                progress(0.5 * (k + 1) / n_chunks, "measuring loudness")
            while pending:
                pending.popleft().result()
        pre = meter.result()
        if not math.isfinite(pre.integrated_lufs):
            raise AudioError(
                "the mix is silent (every layer muted, soloed away or silent); unmute at least one "
                "audible layer so it can be mastered"
            )
        ride, self.ride_info = plan_ride(pre, self.arr, self.spec, self.sr, self.frames)
        if ride is not None:
            # What the ride does to the hop energies: the gain, the mono guard and the output
            # meter's shortcut all start from the ridden pre-master.
            from studio.mixing.loudness import LoudnessResult, blocks_from_hops, gated_loudness

            hops = pre.hop_energy * ride.hop_gain2(pre.hop_energy.shape[1])
            pre = LoudnessResult(gated_loudness(blocks_from_hops(hops[0] + hops[1], pre.hop_frames)),
                                 gated_loudness(blocks_from_hops(hops[2], pre.hop_frames)), hops, pre.hop_frames)
        side_gain = self._mono_guard(pre)
        if side_gain != 1.0:
            # The cached chunks were faded before the side scaling; re-render in chain order so
            # every pass (and the export) computes bit-identical samples.
            cache.close()
            cache = None
        pre_lufs = pre.loudness_with_side_gain(side_gain)[0]
        gain_db = float(round(self.spec.target_lufs - pre_lufs, 4))
        threshold_dbtp = self.spec.ceiling_dbtp - LIMITER_MARGIN_DB

        passes = 0
        first_gain_db = gain_db
        history: list[tuple[float, float]] = []
        while True:
            passes += 1
            settings = MasterSettings(gain_db, side_gain, threshold_dbtp, self.spec, ride)
            limiter = TruePeakLimiter(settings.threshold, self.sr, record_limit=GAIN_RECORD_FRAMES)
            out_meter = OutputMeter(self.sr, self.chunk, pre if side_gain == 1.0 else None, settings.gain)
            source = iter(cache) if cache is not None else self.pre_chunks(side_gain)
            for k, y in enumerate(self.mastered(settings, pre=source, limiter=limiter)):
                out_meter.feed(y, limiter.last_changed)
                frac = 0.5 + 0.5 * (passes - 1 + (k + 1) / n_chunks) / MAX_PASSES
                progress(min(frac, 0.99), "mastering")
            result = out_meter.result()
            error = self.spec.target_lufs - result.integrated_lufs
            if abs(error) <= TOLERANCE_LU or passes >= MAX_PASSES or not math.isfinite(error):
                break
            # Secant step: under heavy limiting loudness rises by less than the gain added, so
            # estimate that slope from the previous pass (clamped to 0.1..1 for stability).
            slope = 1.0
            if history:
                (g0, l0) = history[-1]
                if gain_db != g0:
                    slope = (result.integrated_lufs - l0) / (gain_db - g0)
                    if slope < MIN_SLOPE:
                        # The limiter is saturated: more gain would only add distortion.
                        break
                    slope = min(1.0, slope)
            history.append((gain_db, result.integrated_lufs))
            step = min(error / slope, first_gain_db + MAX_EXTRA_GAIN_DB - gain_db)
            if step <= 0 and error > 0:
                break
            gain_db = float(round(gain_db + step, 4))
        if limiter.recorded is not None:
            self.recorded = (settings, limiter.recorded)
        progress(1.0, "mastered")
        return settings, self._report(settings, pre, pre_lufs, result, limiter, passes)

    def _mono_guard(self, pre: LoudnessResult) -> float:
        stereo, mono = pre.loudness_with_side_gain(1.0)
        if math.isfinite(mono) and stereo - mono <= MONO_DROP_LIMIT_DB:
            return 1.0
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            s, m = pre.loudness_with_side_gain(mid)
            if math.isfinite(m) and s - m <= MONO_GUARD_TARGET_DB:
                lo = mid
            else:
                hi = mid
        return round(lo, 6)

    def _body_lra(self, out: LoudnessResult) -> float:
        """Loudness range between the fades (the deliberate fade-in, fade-out and sleep fade
        would otherwise count as swings): what the style's ``lra_max_lu`` limits."""
        from studio.mixing.loudness import loudness_range

        a, b = body_hops(self.spec, self.sr, out.hop_frames, out.hop_energy.shape[1])
        if b - a < 30:
            return out.loudness_range_lu
        return loudness_range(out.hop_energy[0, a:b] + out.hop_energy[1, a:b], out.hop_frames)

    def _notes(self, out: LoudnessResult) -> list[str]:
        """Plain-worded warnings for the UI and the manifest."""
        notes = []
        lra, ceiling = self._body_lra(out), self.arr.style.lra_max_lu
        if ceiling is not None and lra > ceiling + 0.05:
            from studio.mixing.ride import ride_shortfall

            notes.append(f"loudness range {lra:.1f} LU is over the {self.arr.plan.style} style's {ceiling:g} LU "
                         f"ceiling: {ride_shortfall(self.ride_info, ceiling)}")
        if self.arr.binaural is not None and self.arr.binaural["masked"]:
            notes.append(self.arr.binaural["note"])
        if not self._reached(out):
            spec = self.spec
            notes.append(f"loudness {out.integrated_lufs:.1f} LUFS, short of the {spec.target_lufs:g} LUFS target: "
                         f"more gain under the {spec.ceiling_dbtp:g} dBTP ceiling would only distort the peaks "
                         f"(choose a lower target or a higher ceiling)")
        return notes

    def _reached(self, out: LoudnessResult) -> bool:
        """Whether the integrated loudness is within :data:`REPORT_TOLERANCE_LU` of the target."""
        lufs = out.integrated_lufs
        return bool(lufs is not None and math.isfinite(lufs)
                    and abs(lufs - self.spec.target_lufs) <= REPORT_TOLERANCE_LU)

    def _report(self, settings: MasterSettings, pre: LoudnessResult, pre_lufs: float,
                out: LoudnessResult, limiter: TruePeakLimiter, passes: int) -> dict[str, Any]:
        spec = self.spec
        st = limiter.stats

        def num(v: Optional[float], nd: int = 3) -> Optional[float]:
            return None if v is None or not math.isfinite(v) else round(float(v), nd)

        return {
            "preset": spec.preset,
            "target_lufs": spec.target_lufs,
            "ceiling_dbtp": spec.ceiling_dbtp,
            "gain_db": settings.gain_db,
            "integrated_lufs": num(out.integrated_lufs),
            "true_peak_dbtp": num(st.true_peak_dbtp),
            "limiter_threshold_dbtp": settings.threshold_dbtp,
            "limiter_max_reduction_db": num(st.max_reduction_db),
            "limited_fraction": round(st.limited_frames / max(1, self.frames), 6),
            "premaster_lufs": num(pre_lufs),
            "bed_reference_lufs": num(self.arr.bed_lufs),
            "mono_lufs": num(out.mono_lufs),
            "mono_loudness_drop_db": num(out.mono_loudness_drop_db),
            "mono_compatible": bool(out.mono_loudness_drop_db <= MONO_DROP_LIMIT_DB),
            "mono_side_gain": settings.side_gain,
            "bass_mono_hz": BASS_MONO_HZ,
            "balance_db": num(out.balance_db),
            "bed_balance_db": num(self.arr.bed_balance_db),
            "counterweight_db": num(20 * math.log10(self.arr.balance_gains[0] / self.arr.balance_gains[1])),
            "loudness_range_lu": num(out.loudness_range_lu, 2),
            "loudness_range_body_lu": num(self._body_lra(out), 2),
            "lra_max_lu": self.arr.style.lra_max_lu,
            "bed_ride_db_max": round(settings.ride.db_max, 2) if settings.ride is not None else 0.0,
            "bed_ride": ride_report(settings.ride, self.ride_info),
            "binaural": None if self.arr.binaural is None else {
                k: v for k, v in self.arr.binaural.items() if k != "layer_index"},
            "notes": self._notes(out),
            "fade_in_s": spec.fade_in_s,
            "fade_out_s": spec.fade_out_s,
            "sleep_fade_s": spec.sleep_fade_s,
            "reverb_send_db": spec.reverb_send_db,
            "passes": passes,
            "target_reached": self._reached(out),
            "sample_rate": self.sr,
            "frames": self.frames,
            "duration_s": self.frames / self.sr,
        }
