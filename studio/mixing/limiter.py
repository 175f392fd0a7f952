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
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

import numpy as np

from studio.mixing.loudness import TP_CONTEXT, true_peak_bound_factor, true_peak_envelope, true_peak_phases

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


def _running_max(mag: np.ndarray, width: int) -> np.ndarray:
    """``out[i] = max(mag[i : i + width])`` for ``i`` in ``0..len-width``, by doubling."""
    cover, m = 1, mag
    while cover * 2 <= width:
        m = np.maximum(m[:-cover], m[cover:])
        cover *= 2
    if cover < width:
        rest = width - cover
        m = np.maximum(m[:-rest], m[rest:])
    return m


def gated_envelope(buf: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """True-peak envelope of ``buf`` (``(2, n + 2*TP_CONTEXT)``) computed only at frames whose
    bound (worst-phase interpolator gain x the largest |sample| among the 21 the interpolator
    reads) reaches ``threshold``; zeros elsewhere. Returns ``(env (n,), computed (n,) bool)``.

    The bound is rigorous, so frames left out cannot exceed ``threshold``; for program material
    only a few percent of frames need the oversampler.
    """
    n = buf.shape[1] - 2 * TP_CONTEXT
    taps = 2 * TP_CONTEXT + 1
    mag = np.maximum(np.abs(buf[0]), np.abs(buf[1]))
    near = _running_max(mag, 2 * TP_CONTEXT + 1)
    assert near.shape[0] == n
    need = near >= np.float32(threshold / true_peak_bound_factor())
    idx = np.flatnonzero(need)
    env = np.zeros(n, np.float32)
    if idx.size == 0:
        return env, need
    if idx.size * 4 > n:
        # Dense: oversample every frame (cheaper than gathering).
        full = true_peak_envelope(buf)
        env[idx] = full[idx]
        return env, need
    # Sparse: gather each needed frame's 21 neighbours tap-major, (21, 2k), then interpolate.
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
    env[idx] = peak.reshape(2, -1).max(axis=0)
    return env, need


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

    def _buffers(self, chunks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(buf, cur)`` per input chunk: the chunk with its context before and after."""
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
            after = np.concatenate(ahead, axis=1)[:, : self.after] if ahead else np.zeros((2, 0), np.float32)
            if after.shape[1] < self.after:
                after = np.pad(after, ((0, 0), (0, self.after - after.shape[1])))
            yield np.concatenate([tail, cur, after], axis=1), cur
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
        if not self.measure_peak:
            if gain is not None:
                st.min_gain = min(st.min_gain, float(gain.min()))
            return
        if gain is not None:
            st.min_gain = min(st.min_gain, float(gain.min()))
            st.limited_frames += int((gain < 1.0).sum())
            tp = env * gain
        else:
            tp = env
        if computed.any():
            st.true_peak = max(st.true_peak, float(tp[computed].max()))
        # Frames not oversampled here: measure exactly where they could beat the running peak
        # (the true peak is at least the sample peak, so that is a safe floor).
        # Once the measured peak has reached the threshold (to 0.001 dB), no frame left out of the
        # oversampler can beat it: their rigorous bound is below the threshold.
        rest = ~computed
        if st.true_peak >= self.threshold * (1.0 - 1e-4):
            return
        if rest.any():
            masked = np.where(rest[None, :], out, np.float32(0.0))
            floor = max(st.true_peak, float(np.abs(masked).max(initial=0.0)), 1e-9)
            padded = np.pad(masked, ((0, 0), (TP_CONTEXT, TP_CONTEXT)))
            env2, comp2 = gated_envelope(padded, floor)
            if comp2.any():
                st.true_peak = max(st.true_peak, float(env2[comp2].max(initial=0.0)))
