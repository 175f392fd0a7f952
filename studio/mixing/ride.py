"""Slow, bed-keyed gain riding: how the mixer keeps a style's loudness-range ceiling.

EBU Tech 3342 loudness range (LRA) is the spread (10th to 95th percentile) of the 3-s
short-term loudness. The styles' ceilings (``lra_max_lu``: sleep 5, focus 6, meditation 8 LU)
are mostly broken by *beds* that swing slowly: a dawn-chorus recording that is quiet for twenty
seconds and then full, breeze gusts. An engineer rides the bed fader slowly against those swings
(EBU R128 s1/s2 practice: loudness control by slow level changes, not by fast compression that
pumps). :func:`plan_ride` does the same, offline, from the first master pass's K-weighted 100 ms
hop energies (no extra metering pass, so it is nearly free):

1. *Detector*: the beds' short-term loudness, a centred 3-s mean of the hop energies at control
   points every :data:`CONTROL_HOPS` hops (0.5 s). Hops under an event (plus a margin) are left
   out and bridged, so the detector hears the beds only and the ride never ducks for an event.
2. *Gain*: the detector is held within a window of ``W`` LU around its median: each control
   point is pushed back inside by what it is outside, the curve clamped to +-:data:`RIDE_MAX_DB`
   and slew-limited to :data:`RIDE_MAX_DB_PER_S` (forward, then backward: no lag, and the bound
   holds exactly, also inside the amplitude-linear ramps); repeated
   :data:`RIDE_ITERATIONS` times, as the bounds leave part of each push undone.
3. *Just enough*: ``W`` is the widest (bisection) for which the LRA predicted from the hop
   energies times the ride's mean square gain is under ``ceiling - LRA_MARGIN_LU``; tracks
   already under that are not ridden at all. When no window gets there, the one that comes
   closest is used and the master's note says why.

The gain is applied to the whole pre-master sum (beds and events alike), so events keep their
level over the bed they sit on (the event caps of :mod:`studio.mixing.arrange` still hold). It is
linear in amplitude between control points, computed from the absolute frame index only, in
float32, so every pass and the export (whatever their chunk sizes) apply bit-identical gains.
Memory is the control points (7,200 per hour) and one hop table (36,000 per hour).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from studio.mixing.loudness import SHORT_TERM_HOPS, LoudnessResult, loudness_range

RIDE_MAX_DB = 6.0  # most the ride lifts or lowers the beds
RIDE_MAX_DB_PER_S = 2.0  # fastest gain change: a slow leveller (a 6 dB move takes 3 s), not a pumping compressor
CONTROL_HOPS = 5  # one control point every 5 hops (0.5 s)
SMOOTH_POINTS = 1  # moving mean over this many control points (1 = none: rounding the corners cost range)
LRA_MARGIN_LU = 0.3  # aim this far under the ceiling (the limiter and fades move LRA a little)
EVENT_MARGIN_S = 0.5
EVENT_MASK_MAX_S = 4.0  # hops this close to an event are not beds-only
BISECT_STEPS = 10
RIDE_ITERATIONS = 4
MIN_BODY_HOPS = 2 * SHORT_TERM_HOPS


def body_hops(spec, sample_rate: int, hop_frames: int, hops: int) -> tuple[int, int]:
    """Hop range ``[a, b)`` between the fades (the fade-in, fade-out and sleep fade are deliberate
    swings the style's loudness range does not limit)."""
    hop_s = hop_frames / sample_rate
    tail_s = max(spec.fade_out_s, spec.sleep_fade_s or 0.0)
    return int(math.ceil(spec.fade_in_s / hop_s)), hops - int(math.ceil(tail_s / hop_s))


class Ride:
    """A gain curve: ``gains_db`` at control points every ``control`` frames, linear in amplitude
    in between. Compares by identity (it is part of the frozen master settings)."""

    def __init__(self, gains_db: np.ndarray, control: int, hop: int, sample_rate: int,
                 info: dict[str, Any]) -> None:
        self.control = int(control)
        self.sample_rate = int(sample_rate)
        self.hop = int(hop)
        self.gains_db = np.asarray(gains_db, np.float64)
        g = (10.0 ** (self.gains_db / 20.0)).astype(np.float32)
        self._g = g
        self._d = np.append(np.diff(g), np.float32(0.0)).astype(np.float32)
        self._ramp = (np.arange(self.control, dtype=np.float32) / np.float32(self.control)).astype(np.float32)
        self.info = info

    @property
    def db_max(self) -> float:
        return float(np.abs(self.gains_db).max()) if self.gains_db.size else 0.0

    @property
    def max_slope_db_per_s(self) -> float:
        if self.gains_db.size < 2:
            return 0.0
        # steepest point of each amplitude-linear ramp: its low end
        g = 10.0 ** (self.gains_db / 20.0)
        rel = np.abs(np.diff(g)) / np.minimum(g[1:], g[:-1])
        return float(rel.max()) * 20.0 / math.log(10.0) * self.sample_rate / self.control

    def gain(self, start: int, n: int) -> np.ndarray:
        """float32 ``(n,)`` gains for frames ``start..start+n``."""
        c = self.control
        j0 = start // c
        j1 = min(self._g.size, (start + n - 1) // c + 1)
        block = (self._g[j0:j1, None] + self._d[j0:j1, None] * self._ramp[None, :]).ravel()
        off = start - j0 * c
        out = block[off : off + n]
        if out.size < n:  # past the last control point: hold it
            out = np.concatenate([out, np.full(n - out.size, self._g[-1], np.float32)])
        return out

    def hop_gain2(self, hops: int) -> np.ndarray:
        """Mean square gain of each 100 ms hop (``(hops,)`` float64): what the ride does to the
        K-weighted hop energies (the gain is linear over a hop, so the mean of its square is
        ``(a^2 + ab + b^2) / 3`` of its ends)."""
        return hop_gain2(self.gains_db, hops)


def hop_gain2(gains_db: np.ndarray, hops: int) -> np.ndarray:
    g = 10.0 ** (np.asarray(gains_db, np.float64) / 20.0)
    pos = np.arange(hops + 1, dtype=np.float64) / CONTROL_HOPS  # hop edges in control units
    edges = np.interp(pos, np.arange(g.size, dtype=np.float64), g)
    a, b = edges[:-1], edges[1:]
    return (a * a + a * b + b * b) / 3.0


def _event_mask(arr, hops: int, hop: int, sample_rate: int) -> np.ndarray:
    """True for hops where an active event layer plays (with :data:`EVENT_MARGIN_S` around)."""
    mask = np.zeros(hops, bool)
    pad = int(math.ceil(EVENT_MARGIN_S * sample_rate / hop))
    for i, placement in enumerate(arr.placements):
        if placement is None or not arr.active[i]:
            continue
        for e in placement.events:
            if e.length > EVENT_MASK_MAX_S * sample_rate:
                continue  # a long event (a walk, a passing train) is program: ride it too
            lo = max(0, e.dst_start // hop - pad)
            hi = min(hops, (e.dst_end - 1) // hop + 1 + pad)
            mask[lo:hi] = True
    return mask


def _slew(x: np.ndarray, step: float) -> np.ndarray:
    """``x`` with neighbours at most ``step`` apart: forward, then backward (no lag)."""
    y = x.tolist()
    for i in range(1, len(y)):
        p = y[i - 1]
        y[i] = min(max(y[i], p - step), p + step)
    for i in range(len(y) - 2, -1, -1):
        p = y[i + 1]
        y[i] = min(max(y[i], p - step), p + step)
    return np.asarray(y)


def _smooth(x: np.ndarray, points: int) -> np.ndarray:
    if points <= 1 or x.size < points:
        return x
    pad = np.concatenate([np.full(points // 2, x[0]), x, np.full(points - 1 - points // 2, x[-1])])
    c = np.concatenate([[0.0], np.cumsum(pad)])
    return (c[points:] - c[:-points]) / points


def _detector(e: np.ndarray, beds: np.ndarray, a: int, b: int, points: np.ndarray) -> np.ndarray:
    """Beds' short-term loudness (dB, arbitrary offset) at control hops ``points`` (inside
    ``[a, b)``): mean energy of the beds-only hops of a centred 3-s window, bridged over
    windows that are mostly events."""
    w = np.where(beds, e, 0.0)
    ce = np.concatenate([[0.0], np.cumsum(w)])
    cn = np.concatenate([[0], np.cumsum(beds.astype(np.int64))])
    lo = np.clip(points - SHORT_TERM_HOPS // 2, a, b)
    hi = np.clip(points + SHORT_TERM_HOPS // 2, a, b)
    n = cn[hi] - cn[lo]
    ok = n >= SHORT_TERM_HOPS // 3
    with np.errstate(divide="ignore", invalid="ignore"):
        level = 10.0 * np.log10(np.where(ok, (ce[hi] - ce[lo]) / np.maximum(n, 1), np.nan))
    good = ok & np.isfinite(level)
    if not good.any():
        return np.zeros(points.size)
    return np.interp(np.arange(points.size), np.flatnonzero(good), level[good])


def plan_ride(pre: LoudnessResult, arr, spec, sample_rate: int, frames: int) -> tuple[Optional[Ride], dict[str, Any]]:
    """The gentlest ride that brings the body LRA of ``pre`` (the first pass's hop energies)
    under the style's ceiling; ``(None, info)`` when no ride is needed or possible."""
    ceiling = arr.style.lra_max_lu
    hop = pre.hop_frames
    e = np.asarray(pre.hop_energy[0] + pre.hop_energy[1], np.float64)
    hops = e.size
    a, b = body_hops(spec, sample_rate, hop, hops)
    info: dict[str, Any] = {}
    if ceiling is None or b - a < MIN_BODY_HOPS:
        return None, info
    before = loudness_range(e[a:b], hop)
    info["body_lra_before_lu"] = round(before, 2)
    target = ceiling - LRA_MARGIN_LU
    if before <= target:
        return None, info
    mask = _event_mask(arr, hops, hop, sample_rate)
    beds = ~mask
    if beds[a:b].sum() < SHORT_TERM_HOPS:
        beds = np.ones(hops, bool)  # events everywhere: the detector hears the whole mix
    n_ctrl = (frames - 1) // (CONTROL_HOPS * hop) + 2
    points = np.arange(n_ctrl) * CONTROL_HOPS
    inside = (points >= a) & (points < b)
    if inside.sum() < 4:
        return None, info
    pts = points[inside]
    # Largest step between control points whose amplitude-linear ramp never changes faster
    # than RIDE_MAX_DB_PER_S (the dB slope of a linear ramp is steepest at its low end).
    control_s = CONTROL_HOPS * hop / sample_rate
    step = 20.0 * math.log10(1.0 + RIDE_MAX_DB_PER_S * control_s * math.log(10.0) / 20.0)
    first, last = np.flatnonzero(inside)[[0, -1]]

    def expand(g: np.ndarray) -> np.ndarray:
        out = np.empty(n_ctrl)
        out[first : last + 1] = g
        out[:first] = g[0]
        out[last + 1 :] = g[-1]
        return out

    def curve(window: float) -> np.ndarray:
        """Hold the beds' short-term loudness within ``window`` LU around its median: push each
        control point back inside by what it is outside, then bound, slew-limit and round the
        curve; repeated, as the bounds leave part of each push undone."""
        g = np.zeros(pts.size)
        for _ in range(RIDE_ITERATIONS):
            level = _detector(e * hop_gain2(expand(g), hops), beds, a, b, pts)
            mid = float(np.median(level))
            push = np.clip(level, mid - window / 2, mid + window / 2) - level
            g = _smooth(_slew(np.clip(g + push, -RIDE_MAX_DB, RIDE_MAX_DB), step), SMOOTH_POINTS)
        return expand(g)

    def predict(g: np.ndarray) -> float:
        return loudness_range(e[a:b] * hop_gain2(g, hops)[a:b], hop)

    # The widest window (the least riding) that brings the LRA under the target.
    lo, hi = 0.0, before
    best = curve(lo)
    reached = predict(best)
    if reached > target:
        # The ceiling is out of reach: take the window that comes closest.
        for w in np.linspace(0.1, 0.9, 9) * before:
            g = curve(float(w))
            lra = predict(g)
            if lra < reached - 0.01:
                lo, best, reached = float(w), g, lra
        if reached >= before:
            return None, {**info, "body_lra_predicted_lu": round(before, 2), "limited": True}
        info["limited"] = True
    else:
        for _ in range(BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            g = curve(mid)
            lra = predict(g)
            if lra <= target:
                lo, best, reached = mid, g, lra
            else:
                hi = mid
    info.update({"window_lu": round(lo, 2), "body_lra_predicted_lu": round(reached, 2)})
    # Would the beds alone meet the ceiling? (Tells a note whether beds or events are in the way.)
    bed_hops = beds[a:b]
    if bed_hops.sum() >= SHORT_TERM_HOPS and bed_hops.sum() < b - a:
        info["beds_only_lra_lu"] = round(loudness_range((e * hop_gain2(best, hops))[a:b][bed_hops], hop), 2)
    ride = Ride(best, CONTROL_HOPS * hop, hop, sample_rate, info)
    return ride, info


def ride_report(ride: Optional[Ride], info: dict[str, Any]) -> dict[str, Any]:
    """The master report's ``bed_ride`` block: what the ride did (zeros when it did nothing)."""
    out: dict[str, Any] = {"window_lu": info.get("window_lu"), "gain_db_min": 0.0, "gain_db_max": 0.0,
                           "max_slope_db_per_s": 0.0, "limit_db": RIDE_MAX_DB,
                           "limit_db_per_s": RIDE_MAX_DB_PER_S}
    if ride is not None:
        out.update({"gain_db_min": round(float(ride.gains_db.min()), 2),
                    "gain_db_max": round(float(ride.gains_db.max()), 2),
                    "max_slope_db_per_s": round(ride.max_slope_db_per_s, 3)})
    for key in ("body_lra_before_lu", "body_lra_predicted_lu", "beds_only_lra_lu"):
        if key in info:
            out[key] = info[key]
    return out


def ride_shortfall(info: dict[str, Any], ceiling: float) -> str:
    """Why the ride could not meet ``ceiling``, in plain words, with what the user can do."""
    if "body_lra_before_lu" not in info:
        return ("the track is too short between its fades for slow levelling; make it longer, or lower "
                "the event levels")
    beds_only = info.get("beds_only_lra_lu")
    if beds_only is not None and beds_only <= ceiling:
        return ("the beds were levelled, but the events still lift the loudness above it; lower the "
                "event levels or space the events further apart")
    if info.get("limited"):
        return (f"the beds swing more than slow levelling can hold (at most +-{RIDE_MAX_DB:g} dB, changing "
                f"at most {RIDE_MAX_DB_PER_S:g} dB/s so it does not pump); use fewer or steadier beds, "
                "or lower the event levels")
    return ("the limiter moved the loudness range after the levelling; lower the loudness target or the "
            "event levels")
