"""Turn a registered generator into a finished clip.

Order of work for a bed: render in chunks (each chunk: generator → distance/brightness →
breathing swell), cross-fade chunk seams, fold the tail into the head when ``loop`` is set,
then remove DC, fade the ends (unless looping) and set the level. An ``as_event`` render
calls the generator's one-shot renderer (or shapes a stretch of bed into a swell) and makes
sure it reaches silence by the last frame.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from studio.generation.procedural import dsp, stereo
from studio.generation.procedural.base import Ctx, Generator
from studio.types import Progress

CHUNK_S = 60.0  # longer renders are made of independent chunks (bounded memory, progress ticks)
CHUNK_XFADE_S = 1.0  # seam between chunks
LOOP_XFADE_S = 2.0  # tail folded into the head for a seamless loop (at most a quarter of the clip)
BED_RMS = 0.1  # -20 dBFS; the mixer normalises loudness per layer anyway
EVENT_RMS = 0.2  # loudest 400 ms of an event at about -14 dBFS
PEAK_MAX = 0.89  # about -1 dBFS


def loop_xfade_frames(n: int, sr: int) -> int:
    return int(min(LOOP_XFADE_S * sr, n // 4))


def render(gen: Generator, p: dict[str, Any], *, n: int, seed: int, sr: int, progress: Optional[Progress]) -> np.ndarray:
    """The finished float32 ``(2, n)`` clip for generator ``gen`` with resolved params ``p``."""
    cb = progress or (lambda f, m: None)
    cb(0.0, f"{gen.name}: rendering")
    if p["as_event"]:
        x = _event(gen, p, n=n, seed=seed, sr=sr)
        x = _finish_event(x, sr)
    else:
        extra = loop_xfade_frames(n, sr) if p["loop"] else 0
        x = _chunks(gen, p, total=n + extra, loop_n=n if p["loop"] else None, seed=seed, sr=sr, cb=cb)
        if extra:
            x = _fold_loop(x, n, extra, gen.coherent)
        x = _finish_bed(x, sr, loop=p["loop"], impulsive=gen.impulsive)
    cb(1.0, f"{gen.name}: done")
    return x


def _ctx(gen: Generator, p: dict, n: int, seed: int, sr: int, chunk: int, t0_s: float, loop_n: Optional[int] = None, total_n: int = 0) -> Ctx:
    rng = dsp.make_rng(seed, gen.name, "chunk", chunk)
    return Ctx(n=n, p=p, seed=seed, type_name=gen.name, rng=rng, t0_s=t0_s, sr=sr, loop_n=loop_n, total_n=total_n or n)


def _chunk_bounds(total: int, sr: int) -> list[tuple[int, int]]:
    """(start, length) of each chunk; every chunk but the last overlaps the next by the seam."""
    step = int(CHUNK_S * sr)
    xf = int(CHUNK_XFADE_S * sr)
    starts = list(range(0, total, step))
    if len(starts) > 1 and total - starts[-1] < 2 * xf:
        starts.pop()  # a sliver at the end joins the previous chunk
    bounds = []
    for i, s in enumerate(starts):
        end = starts[i + 1] + xf if i + 1 < len(starts) else total
        bounds.append((s, end - s))
    return bounds


def _chunks(gen: Generator, p: dict, *, total: int, loop_n: Optional[int], seed: int, sr: int, cb) -> np.ndarray:
    bounds = _chunk_bounds(total, sr)
    xf = int(CHUNK_XFADE_S * sr)
    fade_in, fade_out = dsp.linear_fades(xf) if gen.coherent else dsp.equal_power(xf)
    out = None if len(bounds) == 1 else np.zeros((2, total), np.float32)
    for k, (start, length) in enumerate(bounds):
        cb(k / len(bounds), f"{gen.name}: part {k + 1}/{len(bounds)}")
        ctx = _ctx(gen, p, length, seed, sr, k, start / sr, loop_n, total)
        seg = np.asarray(gen.bed(ctx), dtype=np.float32)
        assert seg.shape == (2, length), (gen.name, seg.shape, length)
        seg = _colour(seg, ctx) if gen.colour else seg
        seg = stereo.image(seg, gen.name, sr)  # a field recording's pair, not two noises
        seg = _breath(seg, p, start, sr, loop_n)
        if out is None:
            return seg
        if k > 0:
            seg[:, :xf] *= fade_in
            out[:, start : start + xf] *= fade_out
            out[:, start : start + length] += seg
        else:
            out[:, :length] = seg
    return out


def _colour(x: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Brightness as a gentle tilt; distance as air absorption (low-pass) plus a wetter tail."""
    b = ctx.u("brightness") - 0.5
    if b > 0.02:
        x = x + (2.0 * b) * dsp.highpass(x, 3000.0, 1)
    elif b < -0.02:
        x = dsp.lowpass(x, 18000.0 * 2.0 ** (6.0 * b), 1)
    d = ctx.u("distance")
    if d > 0.32:
        far = (d - 0.3) / 0.7
        x = dsp.lowpass(x, 16000.0 * 2.0 ** (-3.5 * far), 2)
        x = dsp.stereo_reverb(x, ctx.fixed_rng("distance-verb"), rt60_s=0.6 + 1.4 * far, wet=0.8 * far, damping_hz=3000.0)
    return x


def _breath(x: np.ndarray, p: dict, start: int, sr: int, loop_n: Optional[int]) -> np.ndarray:
    """Breathing-pace swell: gain dips by ``breath_depth`` and rises back once per breath.
    When looping, the rate is nudged so a whole number of breaths fits the loop."""
    bpm = p.get("breaths_per_min")
    if not bpm:
        return x
    f = bpm / 60.0
    if loop_n:
        dur = loop_n / sr
        f = max(1, round(f * dur)) / dur
    t = (start + np.arange(x.shape[1])) / sr
    g = 1.0 - p["breath_depth"] * 0.5 * (1.0 + np.cos(2 * np.pi * f * t))
    return (x * g.astype(np.float32)).astype(np.float32)


def _fold_loop(x: np.ndarray, n: int, extra: int, coherent: bool) -> np.ndarray:
    """Cross-fade the ``extra`` frames rendered past the end into the head, so frame n-1
    flows into frame 0 exactly as it flowed into frame n. Returns a C-contiguous ``(2, n)``
    made in place (the second row slides left), so long clips are not copied whole."""
    fade_in, fade_out = dsp.linear_fades(extra) if coherent else dsp.equal_power(extra)
    x[:, :extra] = x[:, :extra] * fade_in + x[:, n : n + extra] * fade_out
    if not x.flags.c_contiguous:
        return np.ascontiguousarray(x[:, :n])
    flat = x.reshape(-1)
    total = x.shape[1]
    flat[n : 2 * n] = flat[total : total + n]
    return flat[: 2 * n].reshape(2, n)


def _event(gen: Generator, p: dict, *, n: int, seed: int, sr: int) -> np.ndarray:
    ctx = _ctx(gen, p, n, seed, sr, 0, 0.0)
    if gen.event is not None:
        x = np.asarray(gen.event(ctx), np.float32)
    else:
        # A bed with no natural event becomes a swell: fast rise, exponential fall.
        x = np.asarray(gen.bed(ctx), np.float32)
        t = np.arange(n) / sr
        dur = n / sr
        rise = np.clip(t / max(0.08 * dur, 0.01), 0.0, 1.0)
        x = x * (rise * np.exp(-6.9 * t / (0.9 * dur))).astype(np.float32)
    if gen.colour:
        x = _colour(x, ctx)
    return x


def _finish_bed(x: np.ndarray, sr: int, *, loop: bool, impulsive: bool = False) -> np.ndarray:
    x -= x.mean(axis=1, keepdims=True)
    if impulsive:
        # Crackles, taps and ticks have crest factors of 30 dB or more; scaling the whole bed
        # under the peak ceiling would leave it near silence. Instead the rare tops of the
        # transients (above 12 dB over the RMS) are rounded off by a memoryless soft knee,
        # which on sub-millisecond noise clicks is inaudible.
        x = _level(x, BED_RMS, ceiling=False)
        _soft_knee(x, 4.0 * BED_RMS, PEAK_MAX)
    x = _level(x, BED_RMS)
    if not loop:  # last, so nothing after it can lift the first samples off zero
        n = x.shape[1]  # very short clips: the fades share the clip instead of overrunning it
        _fade_ends(x, min(int(0.01 * sr), n // 4), min(int(0.05 * sr), n // 2))
    return x


def _soft_knee(x: np.ndarray, knee: float, ceiling: float) -> None:
    over = (x > knee) | (x < -knee)  # boolean masks only: no full-size float copy
    if not np.any(over):
        return
    v = x[over]
    room = ceiling - knee
    x[over] = np.sign(v) * (knee + room * np.tanh((np.abs(v) - knee) / room))


def _finish_event(x: np.ndarray, sr: int) -> np.ndarray:
    n = x.shape[1]
    x -= x.mean(axis=1, keepdims=True)
    _decay_tail(x, sr)
    _fade_ends(x, min(int(0.002 * sr), n // 10), max(1, n // 20))
    # loudness of the loudest 400 ms, so short and long events sit at similar levels
    win = max(1, min(n, int(0.4 * sr)))
    csum = np.concatenate([[0.0], np.cumsum((x.astype(np.float64) ** 2).mean(axis=0))])
    power = (csum[win:] - csum[:-win]) / win  # moving mean over the window
    loud = float(np.sqrt(power.max())) if power.size else 0.0
    if loud > 1e-9:
        x *= np.float32(EVENT_RMS / loud)
    return _level(x, None)


def _decay_tail(x: np.ndarray, sr: int) -> None:
    """An event asked to be shorter than it naturally lasts (a 1 s thunder roll) is still
    sounding at the end: then its last quarter decays as ``(1 - u)**3`` (-60 dB one tenth
    before the end), so every event reaches silence rather than being cut off. An event
    whose last 2 % is already under -40 dB of its loudest 10 ms is left alone."""
    n = x.shape[1]
    q = n // 4
    frame = max(1, min(int(0.01 * sr), n // 20))
    k = n // frame
    if q < 2 or k < 2:
        return
    power = np.square(x[:, : k * frame], dtype=np.float64).mean(axis=0).reshape(k, frame).mean(axis=1)
    if power[-max(2, k // 50) :].max() <= 1e-4 * power.max():
        return
    u = np.linspace(0.0, 1.0, q)
    x[:, -q:] *= ((1.0 - u) ** 3).astype(np.float32)


def _fade_ends(x: np.ndarray, fin: int, fout: int) -> None:
    if fin > 0:
        x[:, :fin] *= np.linspace(0.0, 1.0, fin, dtype=np.float32)
    if fout > 0:
        x[:, -fout:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fout))).astype(np.float32)


def _level(x: np.ndarray, rms_target: Optional[float], ceiling: bool = True) -> np.ndarray:
    if rms_target is not None:
        flat = x.reshape(-1)
        rms = float(np.sqrt(max(float(np.dot(flat, flat)), 0.0) / max(flat.size, 1)))
        if rms > 1e-12:
            x *= np.float32(rms_target / rms)
    peak = max(float(x.max()), -float(x.min())) if x.size and ceiling else 0.0  # no |x| copy
    if peak > PEAK_MAX:
        x *= np.float32(PEAK_MAX / peak)
    return x.astype(np.float32, copy=False)
