"""Look-ahead true-peak limiter, streaming over chunks.

Detection is on the 4x-oversampled signal (:func:`~studio.mixing.loudness.true_peak_envelope`).
For each frame the required gain is ``min(1, threshold / true_peak)``; the applied gain is that
requirement *held* for :data:`HOLD_S` after and looked ahead :data:`LOOKAHEAD_S` before each peak
(a sliding minimum), then smoothed by a :data:`LOOKAHEAD_S` moving average, so the gain ramps
down linearly over 5 ms before a peak, stays down through dense peaks, and ramps back up over
5 ms. Because every frame inside the averaging window of a peak carries that peak's requirement,
the smoothed gain never exceeds the requirement at the peak: the output true peak stays at or
below the threshold (to within float rounding and the tiny change gain ramps make to the
interpolation, which the master's 0.1 dB margin covers).

The limiter reads ahead by carrying one chunk of delay internally, so each output sample depends
only on the input around it: the output is identical whatever the chunk size, and chunks come out
in step with the input (no latency in the result). Only blocks whose worst-case interpolated
value could exceed the threshold are oversampled, so quiet material costs almost nothing.

That gate is a rigorous bound, split in three tiers so it stays tight on program material: an
interpolated value between frames ``n`` and ``n+1`` is at most ``c1 * max|x[n..n+1]| +
c2 * max|x[n-1..n+2]| + c3 * max|x[n-10..n+10]|``, ``c1..c3`` the largest absolute tap sums
of the interpolator over those rings (:func:`tier_coefficients`). On a mastered mix it passes
about a quarter of the frames the single-tier bound (``L1 norm * max|x[n-10..n+10]|``) passes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Optional

import numpy as np

from studio.mixing.loudness import TP_CONTEXT, true_peak_envelope, true_peak_phases

LOOKAHEAD_S = 0.005
HOLD_S = 0.030
GAIN_GRID = float(2**24)


@dataclass
class LimiterStats:
    """What the limiter did: smallest gain applied and the output true peak (linear)."""

    min_gain: float = 1.0
    true_peak: float = 0.0
    limited_frames: int = 0
    _report_floor: float = field(default=0.0, repr=False)

    @property
    def max_reduction_db(self) -> float:
        return float(-20.0 * np.log10(self.min_gain)) if self.min_gain > 0 else float("inf")

    @property
    def true_peak_dbtp(self) -> Optional[float]:
        return float(20.0 * np.log10(self.true_peak)) if self.true_peak > 0 else None


# Rounding head-room for the gate: the float32 envelope may exceed the exact value by a few ulps.
GATE_MARGIN = 1.0 + 1e-4


@lru_cache(maxsize=1)
def tier_coefficients() -> tuple[float, float, float]:
    """``(c1, c2, c3)``: over the interpolator's phases, the largest sum of |taps| reading
    ``x[n], x[n+1]`` (c1, at least 1 for the sample itself), ``x[n-1], x[n+2]`` (c2) and the other
    17 frames of ``x[n-10..n+10]`` (c3). Scaled by :data:`GATE_MARGIN`."""
    taps = np.abs(true_peak_phases().astype(np.float64))
    d = np.arange(-TP_CONTEXT, TP_CONTEXT + 1)
    inner = (d == 0) | (d == 1)
    ring = (d == -1) | (d == 2)
    c1 = max(1.0, float(taps[:, inner].sum(axis=1).max()))
    c2 = float(taps[:, ring].sum(axis=1).max())
    c3 = float(taps[:, ~(inner | ring)].sum(axis=1).max())
    return c1 * GATE_MARGIN, c2 * GATE_MARGIN, c3 * GATE_MARGIN


def peak_bound(buf: np.ndarray) -> np.ndarray:
    """Float32 ``(n,)`` upper bound of the true-peak envelope of ``buf`` (``(2, n + 2*TP_CONTEXT)``)
    at each of its ``n`` inner frames (see the module docstring)."""
    c = TP_CONTEXT
    n = buf.shape[1] - 2 * c
    mag = np.abs(buf[0])
    np.maximum(mag, np.abs(buf[1]), out=mag)
    c1, c2, c3 = tier_coefficients()
    # The running maximum by doubling passes through the two inner windows on its way:
    # m2[i] = max(mag[i], mag[i+1]) and m4[i] = max(mag[i..i+3]).
    m2 = np.maximum(mag[:-1], mag[1:])
    m4 = np.maximum(m2[:-2], m2[2:])
    m8 = np.maximum(m4[:-4], m4[4:])
    m16 = np.maximum(m8[:-8], m8[8:])
    m21 = np.maximum(m16[:-5], m16[5:])  # max(mag[i..i+20]), inner frame i
    assert m21.shape[0] == n
    bound = m2[c : c + n] * np.float32(c1 / c3)  # frame i reads x[i], x[i+1] ...
    bound += m4[c - 1 : c - 1 + n] * np.float32(c2 / c3)  # ... and x[i-1..i+2]
    bound += m21
    bound *= np.float32(c3)
    return bound


def envelope_at(buf: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """True-peak envelope of ``buf`` (``(2, n + 2*TP_CONTEXT)``) at inner frames ``idx`` only:
    float32 ``(len(idx),)``, equal to :func:`true_peak_envelope` there."""
    taps = 2 * TP_CONTEXT + 1
    # Gather each frame's 21 neighbours tap-major, (21, 2k), then interpolate.
    window = np.empty((taps, 2, idx.size), np.float32)
    for j in range(taps):
        np.take(buf, idx + j, axis=1, out=window[j])
    window = window.reshape(taps, -1)
    peak = np.abs(window[TP_CONTEXT])
    acc = np.empty_like(peak)
    tmp = np.empty_like(peak)
    for phase in true_peak_phases():
        np.multiply(window[0], phase[0], out=acc)
        for j in range(1, taps):
            if phase[j] != 0.0:
                np.multiply(window[j], phase[j], out=tmp)
                acc += tmp
        np.abs(acc, out=acc)
        np.maximum(peak, acc, out=peak)
    return peak.reshape(2, -1).max(axis=0)


def gated_envelope(buf: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """True-peak envelope of ``buf`` (``(2, n + 2*TP_CONTEXT)``) computed only at frames whose
    :func:`peak_bound` reaches ``threshold``; zeros elsewhere. Returns ``(env (n,), computed (n,)
    bool)``.

    The bound is rigorous, so frames left out cannot exceed ``threshold``; for program material
    only a few percent of frames need the oversampler.
    """
    n = buf.shape[1] - 2 * TP_CONTEXT
    need = peak_bound(buf) >= np.float32(threshold)
    idx = np.flatnonzero(need)
    env = np.zeros(n, np.float32)
    if idx.size == 0:
        return env, need
    if idx.size * 4 > n:
        # Dense: oversample every frame (cheaper than gathering).
        full = true_peak_envelope(buf)
        env[idx] = full[idx]
        return env, need
    env[idx] = envelope_at(buf, idx)
    return env, need


def peak_above(buf: np.ndarray, floor: float, only: Optional[np.ndarray] = None) -> float:
    """The largest true-peak envelope value of ``buf``'s inner frames (those in the bool mask
    ``only``) if it exceeds ``floor``, else ``floor``. Exact, and cheap: frames are oversampled in
    batches in order of decreasing :func:`peak_bound`, stopping once no bound is left above the
    peak found so far."""
    bound = peak_bound(buf)
    keep = bound > np.float32(floor)
    if only is not None:
        keep &= only
    cand = np.flatnonzero(keep)
    if cand.size == 0:
        return floor
    order = cand[np.argsort(-bound[cand], kind="stable")]
    peak, i, batch = floor, 0, 512
    while i < order.size and bound[order[i]] > peak:
        sel = order[i : i + batch]
        peak = max(peak, float(envelope_at(buf, sel).max()))
        i += batch
        batch *= 4
    return peak


def apply_recorded(chunks: Iterable[np.ndarray], recorded: dict[int, tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
    """Replay a recorded limiter on the same input: bit-identical to running it again."""
    pos = 0
    for cur in chunks:
        rec = recorded.get(pos)
        if rec is None:
            yield cur
        else:
            idx, vals = rec
            out = cur.copy()
            out[:, idx] = cur[:, idx] * vals
            yield out
        pos += cur.shape[1]


class TruePeakLimiter:
    """Limit a stream of float32 ``(2, n)`` chunks to ``threshold`` (linear, true peak)."""

    def __init__(self, threshold: float, sample_rate: int, measure_peak: bool = True,
                 record_limit: int = 0) -> None:
        self.threshold = float(threshold)
        self.measure_peak = measure_peak
        # With record_limit > 0 the gains below 1 are kept (frame index -> gain, sparse, up to
        # record_limit frames) so a later pass over the same input can skip detection.
        self.record_limit = int(record_limit)
        self.recorded: Optional[dict[int, tuple[np.ndarray, np.ndarray]]] = {} if record_limit > 0 else None
        self._recorded_frames = 0
        self._pos = 0
        self.last_changed = False  # whether the chunk just yielded had any gain below 1
        self.lookahead = max(1, int(round(LOOKAHEAD_S * sample_rate)))
        self.hold = int(round(HOLD_S * sample_rate))
        self.before = self.hold + self.lookahead + TP_CONTEXT
        self.after = self.lookahead + TP_CONTEXT
        self.stats = LimiterStats()
        # Output chunk awaiting its exact peak measurement, and the output frames before it.
        self._pending: Optional[tuple[np.ndarray, np.ndarray]] = None
        self._left = np.zeros((2, TP_CONTEXT), np.float32)

    def _buffers(self, chunks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(buf, cur)`` per input chunk: the chunk with its context before and after.

        Only the context frames are copied from the neighbouring chunks (not whole chunks)."""
        it = iter(chunks)
        tail = np.zeros((2, self.before), np.float32)
        cur = next(it, None)
        ahead: list[np.ndarray] = []
        while cur is not None:
            # Collect enough look-ahead (usually just the next chunk).
            have = sum(a.shape[1] for a in ahead)
            while have < self.after:
                nxt = next(it, None)
                if nxt is None:
                    break
                ahead.append(nxt)
                have += nxt.shape[1]
            parts = [tail, cur]
            need = self.after
            for a in ahead:
                if need <= 0:
                    break
                parts.append(a[:, :need])
                need -= min(need, a.shape[1])
            if need > 0:
                parts.append(np.zeros((2, need), np.float32))
            yield np.concatenate(parts, axis=1), cur
            if cur.shape[1] >= self.before:
                tail = cur[:, cur.shape[1] - self.before :]
            else:
                tail = np.concatenate([tail, cur], axis=1)[:, -self.before :]
            cur = ahead.pop(0) if ahead else None

    def process(self, chunks: Iterable[np.ndarray], workers: int = 2) -> Iterator[np.ndarray]:
        """Yield limited chunks, one per input chunk, same shapes, in order.

        Each chunk's gain depends only on its buffer, so up to ``workers`` chunks are computed at
        once on threads (numpy and scipy release the GIL); bookkeeping and the peak report run in
        order on the caller's thread, so results and reports do not depend on the threading."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="studio-limiter") as pool:
            pending: deque = deque()
            for buf, cur in self._buffers(chunks):
                pending.append((cur, pool.submit(self._compute, buf, cur.shape[1])))
                if len(pending) > workers:
                    yield self._finish(*pending.popleft())
            while pending:
                yield self._finish(*pending.popleft())
        if self.measure_peak:
            self._measure_pending(None)

    def _compute(self, buf: np.ndarray, n: int):
        """Pure: (env, computed, gain32 or None) for the chunk inside ``buf``."""
        env, computed = gated_envelope(buf, self.threshold)
        cur_env = env[self.hold + self.lookahead : self.hold + self.lookahead + n]
        cur_computed = computed[self.hold + self.lookahead : self.hold + self.lookahead + n]
        if not (env > self.threshold).any():
            return cur_env, cur_computed, None, None
        need = np.ones(env.shape, np.float64)
        over = env > self.threshold
        need[over] = self.threshold / env[over].astype(np.float64)
        from scipy.ndimage import minimum_filter1d

        width = self.hold + self.lookahead
        held = minimum_filter1d(need, width, mode="constant", cval=1.0)
        # held[j - hold + width // 2] = min(need[j - hold : j + lookahead]); see docstring.
        shift = width // 2 - self.hold
        # Smoothed gain for frame m of cur: mean of held-min over the lookahead frames ending at m.
        # Gains are floored to a 2^-24 grid and summed as integers, so each mean is exact and
        # independent of where the buffer starts: the output is bit-identical for any chunking.
        held_q = np.floor(held * GAIN_GRID).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(held_q)])
        m = np.arange(n) + self.hold + self.lookahead  # env index of each cur frame
        hi = m + shift + 1
        lo = hi - self.lookahead
        gain = np.minimum((csum[hi] - csum[lo]) / (self.lookahead * GAIN_GRID), 1.0)
        return cur_env, cur_computed, gain, gain.astype(np.float32)

    def _finish(self, cur: np.ndarray, future) -> np.ndarray:
        cur_env, cur_computed, gain, gain32 = future.result()
        if gain is None:
            self.last_changed = False
            self._report(cur, cur_env, cur_computed, None)
            out = cur
        else:
            self.last_changed = bool((gain32 < 1.0).any())
            out = (cur * gain32).astype(np.float32)
            if self.recorded is not None:
                idx = np.flatnonzero(gain32 < 1.0).astype(np.int32)
                self._recorded_frames += idx.size
                if self._recorded_frames > self.record_limit:
                    self.recorded = None  # too much limiting to keep; later passes re-detect
                elif idx.size:
                    self.recorded[self._pos] = (idx, gain32[idx])
            self._report(out, cur_env, cur_computed, gain)
        self._pos += cur.shape[1]
        return out

    def _report(self, out: np.ndarray, env: np.ndarray, computed: np.ndarray, gain: Optional[np.ndarray]) -> None:
        st = self.stats
        if gain is not None:
            st.min_gain = min(st.min_gain, float(gain.min()))
        if not self.measure_peak:
            return
        if gain is not None:
            st.limited_frames += int((gain < 1.0).sum())
            tp = env * gain
        else:
            tp = env
        if computed.any():
            st.true_peak = max(st.true_peak, float(tp[computed].max()))
        self._measure_pending((out, ~computed))

    def _measure_pending(self, nxt: Optional[tuple[np.ndarray, np.ndarray]]) -> None:
        """Measure the frames the gate left out of the previous output chunk, now that the
        chunk after it (``nxt``; None at the end, where the signal is silent) gives the
        interpolator its right-hand context. Exact: the output as written, with its real
        neighbours, zeros only outside the stream."""
        c = TP_CONTEXT
        pending, self._pending = self._pending, nxt
        if pending is None:
            return
        out, rest = pending
        left = self._left
        self._left = out[:, -c:] if out.shape[1] >= c else np.concatenate([left, out], axis=1)[:, -c:]
        st = self.stats
        # Once the measured peak has reached the threshold (to 0.001 dB), no frame left out of the
        # oversampler can beat it: their rigorous bound is below the threshold.
        if st.true_peak >= self.threshold * (1.0 - 1e-4) or not rest.any():
            return
        right = nxt[0][:, :c] if nxt is not None else np.zeros((2, 0), np.float32)
        if right.shape[1] < c:
            right = np.concatenate([right, np.zeros((2, c - right.shape[1]), np.float32)], axis=1)
        buf = np.concatenate([left, out, right], axis=1)
        # Only frames whose bound exceeds the running peak can raise it.
        st.true_peak = peak_above(buf, st.true_peak, only=rest)
