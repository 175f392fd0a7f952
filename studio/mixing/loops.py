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
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from studio.errors import AudioError
from studio.mixing.schedule import STREAM_BED, layer_rng

XFADE_S = 1.5
CANDIDATES = 16
FEATURE_HOP = 1024
LAG_SEARCH_S = 0.005
MIN_TAKE_FRAMES = 64


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

    @property
    def dst_end(self) -> int:
        return self.dst_start + self.length


@lru_cache(maxsize=64)
def _seam_curves(n: int, corr: float) -> tuple[np.ndarray, np.ndarray]:
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    a = np.cos(0.5 * math.pi * t)
    b = np.sin(0.5 * math.pi * t)
    norm = 1.0 / np.sqrt(1.0 + 2.0 * corr * a * b)
    out, inn = (a * norm).astype(np.float32), (b * norm).astype(np.float32)
    out.flags.writeable = False
    inn.flags.writeable = False
    return out, inn


def crossfade_gains(n: int, corr: float, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) float32 gains for positions ``start..stop`` of an ``n``-frame seam.

    Cached per seam (chunks arrive in order, so a small LRU cache covers every seam)."""
    stop = n if stop is None else stop
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


class BedArrangement:
    """A bed of ``frames`` frames built from ``takes`` (float32 ``(2, n)`` each, project rate)."""

    def __init__(self, takes: Sequence[np.ndarray], frames: int, seed: int, sample_rate: int) -> None:
        if not takes:
            raise AudioError("a background layer needs at least one take of bed material")
        for t in takes:
            if t.shape[1] < MIN_TAKE_FRAMES:
                raise AudioError(
                    f"bed material of {t.shape[1]} frames is too short to loop; "
                    f"takes need at least {MIN_TAKE_FRAMES} frames"
                )
        self.takes = [np.ascontiguousarray(t, np.float32) for t in takes]
        self.frames = int(frames)
        self.sample_rate = int(sample_rate)
        self.segments = self._arrange(int(seed))
        self._ends = [s.dst_end for s in self.segments]

    # ------------------------------------------------------------------ planning

    def _arrange(self, seed: int) -> list[Segment]:
        rng = layer_rng(seed, STREAM_BED)
        lengths = [t.shape[1] for t in self.takes]
        xfade = int(min(round(XFADE_S * self.sample_rate), min(lengths) // 4))
        max_lag = int(min(round(LAG_SEARCH_S * self.sample_rate), xfade // 4))
        feats = [_features(t) for t in self.takes]
        order: list[int] = []

        def next_take() -> int:
            if not order:
                perm = [int(i) for i in rng.permutation(len(self.takes))]
                if last[0] is not None and len(perm) > 1 and perm[0] == last[0]:
                    perm[0], perm[-1] = perm[-1], perm[0]
                order.extend(perm)
            last[0] = order.pop(0)
            return last[0]

        last: list[int | None] = [None]
        take = next_take()
        total = lengths[take]
        if self.frames <= total:
            src = int(rng.integers(0, total - self.frames + 1))
            return [Segment(take, src, 0, self.frames)]
        min_len = max(2 * xfade + 1, lengths[take] // 4)
        src = int(rng.integers(0, max(1, lengths[take] - min_len) + 1))
        segments: list[Segment] = []
        pos = 0
        fade_in, corr_in = 0, 0.0
        while True:
            avail = lengths[take] - src
            if self.frames - pos <= avail:
                segments.append(Segment(take, src, pos, self.frames - pos, fade_in, 0, corr_in, 0.0))
                return segments
            nxt = next_take()
            min_len = max(2 * xfade + 1, lengths[take] // 4)
            min_len_next = max(2 * xfade + 1, lengths[nxt] // 4)
            lo_end = src + min(min_len, avail)
            ends = rng.integers(lo_end, lengths[take] + 1, size=CANDIDATES)
            starts = rng.integers(0, max(0, lengths[nxt] - min_len_next) + 1, size=CANDIDATES)
            costs = seam_costs(feats[take], ends, feats[nxt], starts, xfade)
            i, j = np.unravel_index(int(np.argmin(np.round(costs, 9))), costs.shape)
            end, start = int(ends[i]), int(starts[j])
            tail = self.takes[take][:, end - xfade : end]
            start += _best_lag(tail, self.takes[nxt], start, xfade, max_lag)
            start = int(min(max(0, start), lengths[nxt] - min(min_len_next, lengths[nxt])))
            corr = _correlation(tail, self.takes[nxt][:, start : start + xfade])
            length = end - src
            segments.append(Segment(take, src, pos, length, fade_in, xfade, corr_in, corr))
            pos += length - xfade
            take, src, fade_in, corr_in = nxt, start, xfade, corr

    # ------------------------------------------------------------------ rendering

    def render(self, start: int, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """Float32 ``(2, n)`` of the bed from frame ``start`` (added into ``out`` if given).

        Without ``out``, a window inside one segment and clear of its crossfades is returned as
        a read-only view of the take (no copy)."""
        if out is None:
            k = bisect.bisect_right(self._ends, start)
            if k < len(self.segments):
                seg = self.segments[k]
                a = start - seg.dst_start
                if a >= seg.fade_in and a + n <= seg.length - seg.fade_out and a >= 0:
                    view = self.takes[seg.take][:, seg.src_start + a : seg.src_start + a + n]
                    view = view.view()
                    view.flags.writeable = False
                    return view
        if out is None:
            out = np.zeros((2, n), np.float32)
        stop = start + n
        k = bisect.bisect_right(self._ends, start)
        while k < len(self.segments) and self.segments[k].dst_start < stop:
            seg = self.segments[k]
            lo = max(start, seg.dst_start)
            hi = min(stop, seg.dst_end)
            src = self.takes[seg.take][:, seg.src_start + lo - seg.dst_start : seg.src_start + hi - seg.dst_start]
            gain = self._envelope(seg, lo - seg.dst_start, hi - seg.dst_start)
            if gain is None:
                out[:, lo - start : hi - start] += src
            else:
                out[:, lo - start : hi - start] += src * gain
            k += 1
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
