"""Seamless beds: extend short takes to any length with equal-power crossfade loops.

A bed is a list of :class:`Segment` excerpts from the takes, laid end to end with crossfades of
``xfade`` frames. Everything is chosen once, deterministically from the layer seed:

- *variation*: each segment uses the next take of a shuffled round (alternating takes when there
  are several), starts at a random offset and runs a random length (a quarter to all of a take),
  so a 30-minute bed built from one 90-second take never repeats on a fixed period;
- *loop points where the signal differs least*: for each seam, 16 candidate end points of the
  outgoing excerpt and 16 start points of the incoming one are scored by the difference of their
  short-time level and brightness envelopes over the crossfade window; the best pair wins, and the
  incoming start is nudged by up to +-5 ms to the lag of highest waveform correlation;
- *equal-power crossfade, correlation compensated*: gains ``cos``/``sin`` of a quarter turn,
  divided by ``sqrt(1 + 2 r cos sin)`` where ``r`` (clamped to 0..0.95) is the correlation of the
  two overlapping excerpts. For uncorrelated noise beds (``r ~ 0``) this is the plain
  equal-power law; for correlated (tonal) material it avoids the +3 dB bump in the middle.

Rendering a window ``(start, n)`` touches only the segments that overlap it, so memory is the
takes themselves plus one chunk.

Very short takes for a long track (say 0.1 s of material for an hour) would need tens of thousands
of seams, each searched for its best loop point. When a bed would need more than
:data:`MAX_SEAMS` seams, the takes are first arranged, the same way, into longer varied takes
(:data:`EXTEND_FACTOR` times longer per level, seeds derived from the layer seed), so the work
stays bounded whatever the take length. Takes under :data:`SELF_LOOP_BELOW_S` are too short to
excerpt (a texture or a tone, not a passage): they are first looped on themselves at their best
loop point (:func:`self_loop`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from studio.errors import AudioError
from studio.mixing.pan import apply_matrix
from studio.mixing.schedule import STREAM_BED, layer_rng

XFADE_S = 1.5
CANDIDATES = 16
FEATURE_HOP = 1024
LAG_SEARCH_S = 0.005
MIN_TAKE_FRAMES = 64
MAX_SEAMS = 512  # beyond this, short takes are first arranged into longer ones
EXTEND_FACTOR = 8
STREAM_BED_EXTEND = 0xBED6
# Takes shorter than this are first looped on themselves (they are a texture, not a passage).
SELF_LOOP_BELOW_S = 0.5
SELF_LOOP_TO_S = 2.0
# Non-periodic texture: no stretch of a take is heard again within NO_REPEAT_S of its last use
# (when the takes hold enough material; otherwise the least recently used stretch is taken and
# the shortest gap is reported), seams last XFADE_MIN_S..XFADE_S+XFADE_SPREAD_S, and each
# segment gets a level within +-LEVEL_VARIATION_DB and a tone tilt within +-TILT_VARIATION
# (about +-1 dB at the top of the spectrum). Takes shorter than VARY_MIN_S (tones, grains) are
# not varied: they are a steady sound, not a passage.
NO_REPEAT_S = 60.0
XFADE_MIN_S = 1.0
XFADE_SPREAD_S = 1.5
LEVEL_VARIATION_DB = 1.0
TILT_VARIATION = 0.06
VARY_MIN_S = 2.0
SEGMENT_MIN_S = 8.0  # varied segments run 8..25 s (a quarter of a short take at the least)
SEGMENT_MAX_S = 25.0
STREAM_BED_VARY = 0xBED7


@dataclass(frozen=True)
class Segment:
    """``length`` frames of take ``take`` from ``src_start``, placed at ``dst_start``.

    ``fade_in``/``fade_out`` are the crossfade lengths at each end (0 at the track edges) and
    ``corr_in``/``corr_out`` the correlation used by the compensated equal-power law."""

    take: int
    src_start: int
    dst_start: int
    length: int
    fade_in: int = 0
    fade_out: int = 0
    corr_in: float = 0.0
    corr_out: float = 0.0
    gain: float = 1.0  # level variation (linear)
    tilt: float = 0.0  # tone variation: y[n] = x[n] + tilt * (x[n] - x[n-1])

    @property
    def dst_end(self) -> int:
        return self.dst_start + self.length


@lru_cache(maxsize=16)
def _base_curves(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """cos and sin of a quarter turn over an ``n``-frame seam: float64 and float32 copies.

    The sine is the cosine reversed (``sin(pi/2 t) = cos(pi/2 (1 - t))`` and the frame centres
    are symmetric): one trigonometric pass instead of two, the costliest part of rendering a
    looped bed's seams. It can differ from ``np.sin`` by 1 ulp in float64; the float32 copies
    came out identical on every seam length tried (1 to 144,000 frames)."""
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    a = np.cos(0.5 * math.pi * t)
    b = np.ascontiguousarray(a[::-1])
    out = (a, b, a.astype(np.float32), b.astype(np.float32))
    for arr in out:
        arr.flags.writeable = False
    return out


@lru_cache(maxsize=32)
def _seam_curves(n: int, corr: float) -> tuple[np.ndarray, np.ndarray]:
    """Whole (fade_out, fade_in) float32 curves of one seam (read-only; chunks come in order,
    so a small cache, at most 18 MB, computes each seam once per pass)."""
    a, b, a32, b32 = _base_curves(n)
    if corr == 0.0:
        return a32, b32
    norm = 1.0 / np.sqrt(1.0 + 2.0 * corr * a * b)
    out, inn = (a * norm).astype(np.float32), (b * norm).astype(np.float32)
    out.flags.writeable = False
    inn.flags.writeable = False
    return out, inn


def crossfade_gains(n: int, corr: float, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) float32 gains for positions ``start..stop`` of an ``n``-frame seam:
    ``cos``/``sin`` of a quarter turn divided by ``sqrt(1 + 2 corr cos sin)``."""
    out, inn = _seam_curves(int(n), float(corr))
    return out[start:stop], inn[start:stop]


def _features(take: np.ndarray) -> np.ndarray:
    """Per-hop (level dB, brightness dB) of a take's mono mixdown: ``(hops, 2)`` float64."""
    mono = take[0] + take[1]
    hops = max(1, mono.size // FEATURE_HOP)
    body = mono[: hops * FEATURE_HOP]
    if body.size < FEATURE_HOP:
        body = np.pad(mono, (0, FEATURE_HOP - mono.size))
    frames = body.reshape(hops, -1)
    level = 10 * np.log10(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / FEATURE_HOP + 1e-12)
    slope = frames[:, 1:] - frames[:, :-1]
    bright = 10 * np.log10(np.einsum("ij,ij->i", slope, slope, dtype=np.float64) / FEATURE_HOP + 1e-12) - level
    return np.stack([level, bright], axis=1)


def _windows(feat: np.ndarray, starts: np.ndarray, hops: int) -> np.ndarray:
    """Feature windows ``(len(starts), hops, 2)`` beginning at frame positions ``starts``."""
    first = np.minimum(starts // FEATURE_HOP, max(0, len(feat) - hops))
    idx = first[:, None] + np.arange(hops)[None, :]
    return feat[np.minimum(idx, len(feat) - 1)]


def seam_costs(feat_out: np.ndarray, ends: np.ndarray, feat_in: np.ndarray, starts: np.ndarray, xfade: int) -> np.ndarray:
    """Cost ``(len(ends), len(starts))`` of joining the outgoing excerpt ending at each end to
    the incoming one starting at each start: mean squared difference of their level (and, a
    quarter as much, brightness) envelopes over the crossfade window, hop by hop."""
    hops = max(1, min(xfade // FEATURE_HOP, len(feat_out), len(feat_in)))
    a = _windows(feat_out, np.maximum(ends - xfade, 0), hops)
    b = _windows(feat_in, starts, hops)
    d = a[:, None, :, :] - b[None, :, :, :]
    return np.mean(d[..., 0] ** 2, axis=-1) + 0.25 * np.mean(d[..., 1] ** 2, axis=-1)


def _best_lag(out_tail: np.ndarray, take_in: np.ndarray, start: int, xfade: int, max_lag: int) -> int:
    """Lag in ``-max_lag..max_lag`` (kept inside the take) maximising waveform correlation."""
    if max_lag <= 0:
        return 0
    probe = min(xfade, 4096)
    off = (xfade - probe) // 2
    ref = out_tail[:, off : off + probe].mean(axis=0, dtype=np.float64)
    lo = max(-max_lag, -(start + off))
    hi = min(max_lag, take_in.shape[1] - (start + off + probe) - (xfade - off - probe))
    if hi <= lo:
        return 0
    seg = take_in[:, start + off + lo : start + off + hi + probe].mean(axis=0, dtype=np.float64)
    from scipy.signal import correlate

    scores = correlate(seg, ref, mode="valid", method="fft")
    return int(lo + int(np.argmax(np.round(scores, 9))))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation coefficient (clamped 0..0.95) of two overlapping excerpts, estimated on a
    centred probe of at most 16384 frames."""
    n = a.shape[1]
    probe = min(n, 16384)
    off = (n - probe) // 2
    x = a[:, off : off + probe].astype(np.float64).ravel()
    y = b[:, off : off + probe].astype(np.float64).ravel()
    # Element-wise sums, not BLAS dot: deterministic and free of BLAS thread start-up.
    den = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
    if den <= 0:
        return 0.0
    return float(min(0.95, max(0.0, round(float(np.sum(x * y)) / den, 6))))


def _xfade_frames(lengths: Sequence[int], sample_rate: int) -> int:
    return int(min(round(XFADE_S * sample_rate), min(lengths) // 4))


def expected_seams(lengths: Sequence[int], frames: int, sample_rate: int) -> float:
    """About how many seams :class:`BedArrangement` makes for ``frames`` from takes of these
    lengths (a segment averages a quarter of a take plus three quarters of its minimum length)."""
    xfade = _xfade_frames(lengths, sample_rate)
    mean = float(np.mean(lengths))
    if frames <= min(lengths):
        return 0.0
    advance = mean / 4 + 0.75 * max(2 * xfade + 1, mean / 4) - xfade
    return frames / max(1.0, advance)


def self_loop(take: np.ndarray, frames: int) -> np.ndarray:
    """A very short take repeated seamlessly to ``frames`` frames: float32 ``(2, frames)``.

    The loop length ``P`` (half to three quarters of the take) is where the take's continuation
    best matches its start (highest normalised correlation of ``take[P:P+X]`` with
    ``take[:X]``, ``X`` a quarter of the take); the first ``X`` frames of each cycle crossfade
    from ``take[P:P+X]`` into ``take[:X]`` with the compensated equal-power law, so every cycle
    ends exactly where the next begins. A pure tone comes out as a clean, steady tone."""
    from scipy.signal import correlate

    n = take.shape[1]
    xf = max(1, n // 4)
    lo, hi = n // 2, n - xf
    mono = take.mean(axis=0, dtype=np.float64)
    head = mono[:xf]
    seg = mono[lo : hi + xf]
    dots = correlate(seg, head, mode="valid", method="direct")
    energy = np.convolve(seg * seg, np.ones(xf), mode="valid")
    norm = np.sqrt(np.maximum(energy, 1e-30) * max(float(head @ head), 1e-30))
    scores = np.round(dots / norm, 9)
    k = int(np.argmax(scores))
    period = lo + k
    corr = float(min(0.95, max(0.0, round(float(scores[k]), 6))))
    fade_out, fade_in = crossfade_gains(xf, corr)
    cycle = np.array(take[:, :period], np.float32)
    cycle[:, :xf] = take[:, :xf] * fade_in + take[:, period : period + xf] * fade_out
    reps = -(-frames // period)
    return np.ascontiguousarray(np.tile(cycle, (1, reps))[:, :frames])


def _extended_takes(takes: list[np.ndarray], frames: int, seed: int, sample_rate: int) -> list[np.ndarray]:
    """``takes``, or (when they are so short that the bed would need more than
    :data:`MAX_SEAMS` seams) as many longer takes arranged from them, level by level; takes
    under :data:`SELF_LOOP_BELOW_S` are first looped on themselves (:func:`self_loop`)."""
    if expected_seams([t.shape[1] for t in takes], frames, sample_rate) > MAX_SEAMS:
        target = int(min(frames, round(SELF_LOOP_TO_S * sample_rate)))
        takes = [self_loop(t, target) if t.shape[1] < SELF_LOOP_BELOW_S * sample_rate and t.shape[1] < target
                 else t for t in takes]
    level = 0
    while expected_seams([t.shape[1] for t in takes], frames, sample_rate) > MAX_SEAMS:
        target = int(min(frames, EXTEND_FACTOR * max(t.shape[1] for t in takes)))
        longer = []
        for k in range(len(takes)):
            sub_seed = int(np.random.SeedSequence([int(seed), STREAM_BED_EXTEND, level, k]).generate_state(1, np.uint64)[0])
            bed = BedArrangement(takes, target, sub_seed, sample_rate, extend=False)
            longer.append(np.array(bed.render(0, target), np.float32, order="C"))
        takes = longer
        level += 1
    return takes


class BedArrangement:
    """A bed of ``frames`` frames built from ``takes`` (float32 ``(2, n)`` each, project rate).

    With ``extend`` (the default) very short takes are first arranged into longer ones (see the
    module docstring); :attr:`takes` are then those longer takes."""

    def __init__(self, takes: Sequence[np.ndarray], frames: int, seed: int, sample_rate: int,
                 extend: bool = True) -> None:
        if not takes:
            raise AudioError("a background layer needs at least one take of bed material")
        for t in takes:
            if t.shape[1] < MIN_TAKE_FRAMES:
                raise AudioError(
                    f"bed material of {t.shape[1]} frames is too short to loop; "
                    f"takes need at least {MIN_TAKE_FRAMES} frames"
                )
        self.frames = int(frames)
        self.sample_rate = int(sample_rate)
        self.takes = [np.ascontiguousarray(t, np.float32) for t in takes]
        self.vary = extend and min(t.shape[1] for t in self.takes) >= VARY_MIN_S * self.sample_rate
        self.min_repeat_gap_s: float | None = None  # shortest time before a stretch came back
        if extend:
            self.takes = _extended_takes(self.takes, self.frames, int(seed), self.sample_rate)
        self.segments = self._arrange(int(seed))
        self._ends = [s.dst_end for s in self.segments]

    # ------------------------------------------------------------------ planning

    def _arrange(self, seed: int) -> list[Segment]:
        rng = layer_rng(seed, STREAM_BED)
        vary_rng = layer_rng(seed, STREAM_BED_VARY)
        sr = self.sample_rate
        lengths = [t.shape[1] for t in self.takes]
        xfade_max = _xfade_frames(lengths, sr)
        # a seam's length of margin: uses are tracked by segment ends, which include fades
        window = int((NO_REPEAT_S + XFADE_S + XFADE_SPREAD_S) * sr)
        feats = [_features(t) for t in self.takes]
        # (take, src_lo, src_hi, offset) of every segment placed, for the no-repeat rule: source
        # frame p of a segment is heard at p + offset, so two segments sharing source frames
        # repeat them at a lag of exactly |offset difference|; the rule keeps that >= window.
        used: list[tuple[int, int, int, int]] = []

        def seg_min(take: int) -> int:
            """Shortest segment: a quarter of the take (at most SEGMENT_MIN_S when varied, so
            the stretches left free by the no-repeat rule can hold one)."""
            quarter = lengths[take] // 4
            if self.vary:
                quarter = min(quarter, int(SEGMENT_MIN_S * sr))
            return max(2 * xfade_max + 1, quarter)

        def seg_max(take: int) -> int:
            return max(seg_min(take), int(SEGMENT_MAX_S * sr)) if self.vary else lengths[take]

        def variation() -> tuple[float, float]:
            if not self.vary:
                return 1.0, 0.0
            level = float(vary_rng.uniform(-LEVEL_VARIATION_DB, LEVEL_VARIATION_DB))
            return 10.0 ** (level / 20.0), float(vary_rng.uniform(-TILT_VARIATION, TILT_VARIATION))

        def next_xfade() -> int:
            if not self.vary:
                return xfade_max
            lo = min(xfade_max, int(XFADE_MIN_S * sr))
            return int(rng.integers(lo, max(lo, min(xfade_max, int((XFADE_S + XFADE_SPREAD_S) * sr))) + 1))

        def clashes(take: int, lo: int, hi: int, off: int, extra=()) -> list[tuple[int, int, int, int]]:
            """Uses of ``take[lo:hi]`` that would be heard again within the window if placed at
            ``offset`` (none when the bed is not varied)."""
            if not self.vary:
                return []
            return [u for u in list(used) + list(extra)
                    if u[0] == take and u[1] < hi and lo < u[2] and abs(off - u[3]) < window]

        def allowed(cand: int, starts: np.ndarray, ends: np.ndarray, need: int, dst_of: int,
                    outgoing: tuple[int, int, int]) -> np.ndarray:
            """``ok[i, j]``: ``need`` frames of ``cand`` from ``starts[j]``, placed after a seam
            ending the outgoing segment ``(take, src, off)`` at ``ends[i]``, repeat nothing within
            the window: :func:`clashes` for every (end, start) pair, in one array pass."""
            ok = np.ones((len(ends), len(starts)), bool)
            if not self.vary:
                return ok
            b = np.asarray(starts, np.int64)[None, :]
            e = np.asarray(ends, np.int64)[:, None]
            lag = dst_of + e - b  # the incoming segment's offset, (ends, starts)
            rows = np.array([u[1:] for u in used if u[0] == cand], np.int64).reshape(-1, 3)
            if rows.size:
                lo, hi, at = rows[:, 0], rows[:, 1], rows[:, 2]
                overlap = (lo[None, :] < b.T + need) & (b.T < hi[None, :])  # (starts, uses)
                near = np.abs(lag[:, :, None] - at[None, None, :]) < window  # (ends, starts, uses)
                ok &= ~(overlap[None, :, :] & near).any(axis=2)
            take, src, off = outgoing
            if take == cand:  # the outgoing segment itself, which runs to the seam's end
                ok &= ~((src < b + need) & (b < e) & (np.abs(lag - off) < window))
            return ok

        def free_starts(take: int, need: int, dst_lo: int, dst_hi: int) -> np.ndarray | None:
            """CANDIDATES starts drawn evenly from where ``need`` frames of ``take`` placed at
            ``dst_lo..dst_hi`` repeat nothing within the window (None when there is no such place)."""
            bad = []
            for t, lo, hi, off in used:
                if t == take and self.vary:
                    a, b = max(lo - need + 1, dst_lo - off - window + 1), min(hi, dst_hi - off + window)
                    if b > a:
                        bad.append((a, b))  # starts a..b-1 clash
            ranges, cursor, last_ok = [], 0, lengths[take] - need
            for a, b in sorted(bad) + [(last_ok + 1, last_ok + 1)]:
                if a - 1 >= cursor and cursor <= last_ok:
                    ranges.append((cursor, min(a - 1, last_ok)))
                cursor = max(cursor, b)
            if not ranges:
                return None
            sizes = np.array([b - a + 1 for a, b in ranges], np.float64)
            picks = rng.choice(len(ranges), size=CANDIDATES, p=sizes / sizes.sum())
            return np.array([ranges[k][0] + int(rng.integers(0, ranges[k][1] - ranges[k][0] + 1)) for k in picks])

        last: list[int | None] = [None]
        order: list[int] = []

        def next_take() -> int:
            if not order:
                perm = [int(i) for i in rng.permutation(len(self.takes))]
                if last[0] is not None and len(perm) > 1 and perm[0] == last[0]:
                    perm[0], perm[-1] = perm[-1], perm[0]
                order.extend(perm)
            last[0] = order.pop(0)
            return last[0]

        take = next_take()
        total = lengths[take]
        if self.frames <= total:
            src = int(rng.integers(0, total - self.frames + 1))
            return [Segment(take, src, 0, self.frames)]
        xfade = next_xfade()
        min_len = seg_min(take)
        src = int(rng.integers(0, max(1, lengths[take] - min_len) + 1))
        segments: list[Segment] = []
        pos = 0
        fade_in, corr_in = 0, 0.0
        gain, tilt = variation()
        min_gap = math.inf
        while True:
            avail = lengths[take] - src
            off = pos - src
            # The segment runs no further than the next stretch of its take it would repeat
            # within the window.
            limit = min([max(lo, src) for _, lo, hi, _ in clashes(take, src, lengths[take], off) if hi > src]
                        + [lengths[take]])
            room = limit - src >= 2 * xfade_max + 1  # else the clash cannot be avoided here
            if self.frames - pos <= avail and (self.frames - pos <= limit - src or not room):
                segments.append(Segment(take, src, pos, self.frames - pos, fade_in, 0, corr_in, 0.0, gain, tilt))
                used.append((take, src, src + self.frames - pos, off))
                break
            min_len = seg_min(take)
            if not room:
                limit = lengths[take]  # no room before the clash: the seam needs it (reported)
            # the seam stays inside the track (the last segment then runs to its end)
            limit = min(limit, src + seg_max(take), lengths[take], src + self.frames - pos - 1)
            lo_end = src + min(min_len, avail, limit - src)
            ends = rng.integers(lo_end, max(lo_end, limit) + 1, size=CANDIDATES)
            # The incoming segment: from any take, at a start that repeats nothing within the
            # window wherever the seam falls (checked exactly per (end, start) pair below).
            dst_of = pos - src - xfade  # + end = where the incoming segment starts
            seam_lo, seam_hi = dst_of + int(np.min(ends)), dst_of + int(np.max(ends))
            choice = None  # (take, starts, mask of allowed (end, start) pairs)
            for cand in [next_take()] + [t for t in rng.permutation(len(self.takes)).tolist() if t != take]:
                need = seg_min(cand)
                st = free_starts(cand, need, seam_lo, seam_hi)
                if st is None:
                    st = free_starts(cand, need, seam_lo, seam_lo)
                if st is None:
                    st = rng.integers(0, max(0, lengths[cand] - need) + 1, size=CANDIDATES)
                ok = allowed(cand, st, ends, need, dst_of, (take, src, off))
                if choice is None or ok.any():
                    choice = (cand, st, ok)
                if ok.any():
                    break
            nxt, starts, ok = choice
            last[0] = nxt
            costs = seam_costs(feats[take], ends, feats[nxt], starts, xfade)
            if ok.any():
                costs = np.where(ok, costs, np.inf)
            i, j = np.unravel_index(int(np.argmin(np.round(costs, 9))), costs.shape)
            end, start = int(ends[i]), int(starts[j])
            tail = self.takes[take][:, end - xfade : end]
            min_len_next = seg_min(nxt)
            max_lag = int(min(round(LAG_SEARCH_S * sr), xfade // 4))
            chosen = start
            start += _best_lag(tail, self.takes[nxt], start, xfade, max_lag)
            start = int(min(max(0, start), lengths[nxt] - min(min_len_next, lengths[nxt])))
            if ok.any() and clashes(nxt, start, start + min_len_next, dst_of + end - start, [(take, src, end, off)]):
                start = chosen  # the waveform nudge may not break the no-repeat rule
            corr = _correlation(tail, self.takes[nxt][:, start : start + xfade])
            length = end - src
            segments.append(Segment(take, src, pos, length, fade_in, xfade, corr_in, corr, gain, tilt))
            used.append((take, src, end, off))
            pos += length - xfade
            take, src, fade_in, corr_in = nxt, start, xfade, corr
            gain, tilt = variation()
            xfade = next_xfade()
        if self.vary:
            for x, u in enumerate(used):
                for v in used[x + 1 :]:
                    if u[0] == v[0] and u[1] < v[2] and v[1] < u[2]:
                        min_gap = min(min_gap, abs(u[3] - v[3]) / sr)
        self.min_repeat_gap_s = None if math.isinf(min_gap) else round(min_gap, 3)
        return segments

    # ------------------------------------------------------------------ rendering

    def render(self, start: int, n: int, out: np.ndarray | None = None, *,
               matrix: np.ndarray | None = None, takes: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Float32 ``(2, n)`` of the bed from frame ``start`` (added into ``out`` if given).

        With ``matrix`` (a layer's 2x2 gain/pan/width, :func:`~studio.mixing.pan.stereo_matrix`)
        every excerpt goes through it before the crossfade gains. ``takes`` may give the takes
        already multiplied by that matrix: the result is the same, bit for bit (the matrix acts
        frame by frame), without the per-chunk multiply.

        Without ``out``, a window inside one segment and clear of its crossfades is returned as
        a read-only view of the (matrixed) take when there is nothing to compute."""
        if takes is not None:
            matrix = None
        else:
            takes = self.takes

        def piece(seg: Segment, a: int, b: int) -> np.ndarray:
            take = takes[seg.take]
            lo, hi = seg.src_start + a, seg.src_start + b
            if seg.tilt == 0.0 and seg.gain == 1.0:
                x = take[:, lo:hi]
                return x if matrix is None else apply_matrix(matrix, x)
            # Tone and level variation after the matrix (so matrixed takes give the same bits):
            # g ((1 + t) x[n] - t x[n-1]).
            x = take[:, max(0, lo - 1) : hi]
            if matrix is not None:
                x = apply_matrix(matrix, x)
            cur, prev = (x[:, 1:], x[:, :-1]) if lo > 0 else (x, np.concatenate([x[:, :1], x[:, :-1]], axis=1))
            # cur * g1 - prev * g2, with one temporary instead of three (the same float32 bits)
            y = np.multiply(cur, np.float32(seg.gain * (1.0 + seg.tilt)))
            own = matrix is not None or lo == 0  # prev is then a scratch array of ours
            y -= np.multiply(prev, np.float32(seg.gain * seg.tilt), out=prev if own else None)
            return y

        if out is None:
            k = bisect.bisect_right(self._ends, start)
            if k < len(self.segments):
                seg = self.segments[k]
                a = start - seg.dst_start
                if a >= seg.fade_in and a + n <= seg.length - seg.fade_out and a >= 0:
                    view = piece(seg, a, a + n)
                    if matrix is None and seg.gain == 1.0 and seg.tilt == 0.0:
                        view = view.view()
                        view.flags.writeable = False
                    return view
        fresh = out is None
        if out is None:
            out = np.empty((2, n), np.float32)
        filled = 0  # with a fresh ``out``, offsets below this already hold samples
        stop = start + n
        k = bisect.bisect_right(self._ends, start)
        while k < len(self.segments) and self.segments[k].dst_start < stop:
            seg = self.segments[k]
            lo = max(start, seg.dst_start)
            hi = min(stop, seg.dst_end)
            src = piece(seg, lo - seg.dst_start, hi - seg.dst_start)
            gain = self._envelope(seg, lo - seg.dst_start, hi - seg.dst_start)
            val = src if gain is None else src * gain
            a, b = lo - start, hi - start
            if not fresh:
                out[:, a:b] += val
            else:
                # Segments overlap only in their crossfades: add there, copy elsewhere.
                if a > filled:
                    out[:, filled:a] = 0.0
                split = min(max(a, filled), b)
                if split > a:
                    out[:, a:split] += val[:, : split - a]
                if b > split:
                    out[:, split:b] = val[:, split - a :]
                filled = max(filled, b)
            k += 1
        if fresh and filled < n:
            out[:, filled:] = 0.0
        return out

    @staticmethod
    def _envelope(seg: Segment, a: int, b: int) -> np.ndarray | None:
        """Gains for positions ``a..b`` within the segment, or None where all are 1."""
        in_end = seg.fade_in
        out_start = seg.length - seg.fade_out
        if a >= in_end and b <= out_start:
            return None
        g = np.ones(b - a, np.float32)
        if a < in_end:
            hi = min(b, in_end)
            g[: hi - a] = crossfade_gains(seg.fade_in, seg.corr_in, a, hi)[1]
        if b > out_start:
            lo = max(a, out_start)
            g[lo - a :] *= crossfade_gains(seg.fade_out, seg.corr_out, lo - out_start, b - out_start)[0]
        return g

    def seams(self) -> list[int]:
        """Frame positions of the centres of all crossfades (for tests and reports)."""
        return [s.dst_start + s.fade_in // 2 for s in self.segments if s.fade_in]
