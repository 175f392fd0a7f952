"""Air and weather: breeze, gusty wind, wind through leaves, distant thunder.

- Wind is turbulence: pink/brown noise whose level follows a slow random gust envelope.
  Whistle and howl are narrow noise bands whose weights move with the gust level, so the
  perceived pitch rises as the wind strengthens (a cheap, vectorised stand-in for a swept
  resonant filter).
- Leaves are a Poisson field of tiny band-passed noise grains whose rate follows the gusts.
- Thunder is a crack (for a close strike) and a long rumble of low-passed brown noise with a
  few random sub-peaks (echoes off terrain and cloud), falling away exponentially.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


def _gusts(ctx: Ctx, rate_hz: float, depth: float, rows: int = 2) -> np.ndarray:
    """Control-rate gust level per channel, >= 0, mean about 1; the sides share most of it."""
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    common = dsp.smooth_random(ctx.rng, m, rate_hz)[0]
    own = dsp.smooth_random(ctx.rng, m, rate_hz * 2, rows)
    g = np.exp(depth * (0.8 * common + 0.35 * own))
    return g / g.mean()


def _howl(ctx: Ctx, level: np.ndarray, lo_hz: float, hi_hz: float, bandwidth_hz: float, voices: int = 2) -> np.ndarray:
    """Whistling/howling: narrow noise bands whose centre rises from ``lo_hz`` to ``hi_hz``
    with the gust ``level`` (control-rate, 0..1, per channel), one band per channel and voice."""
    out = np.zeros((2, ctx.n), np.float32)
    for v in range(voices):
        ratio = 1.0 + 0.37 * v  # a second, higher resonance (another gap the wind blows across)
        for c in range(2):
            centre = (lo_hz + (hi_hz - lo_hz) * level[c]) * ratio
            out[c] += dsp.swept_band(ctx.rng, ctx.n, centre, bandwidth_hz * ratio, ctx.sr) / (1 + v)
    return out


@generator("breeze")
def breeze(ctx: Ctx):
    i = ctx.u("intensity")
    g = _gusts(ctx, 0.06 + 0.12 * ctx.u("density"), 0.35 + 0.4 * i)
    air = dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(60, 1800 + 2500 * i, 1.4), shared=0.25)
    lvl = np.clip((g - 0.5) / 1.5, 0, 1)
    whistle = _howl(ctx, lvl, 450, 900, 60.0, voices=1)
    g_up = dsp.upsample(g, ctx.n, ctx.sr)
    return air * g_up + 0.1 * whistle * g_up


@generator("wind_gusty")
def wind_gusty(ctx: Ctx):
    i = ctx.u("intensity")
    g = _gusts(ctx, 0.125 + 0.25 * ctx.u("density"), 0.5 + 0.4 * i)
    lvl = np.clip((g - 0.3) / 2.5, 0, 1)
    body = dsp.spectral_noise(ctx.rng, ctx.n, dsp.mix_mag((1.0, dsp.band_mag(30, 5000, 1.6)), (0.25, dsp.band_mag(2500, 12000, 0.0))), shared=0.3)
    howl = _howl(ctx, lvl, 260, 950, 45.0, voices=2)
    g_up = dsp.upsample(g, ctx.n, ctx.sr)
    return body * g_up + (0.3 + 0.3 * i) * howl * g_up


@generator("wind_leaves")
def wind_leaves(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    g = _gusts(ctx, 0.15, 0.5 + 0.4 * i)
    rate = (600 + 1400 * d) * (g.mean(axis=0) ** 1.5)  # more leaves move in a gust
    onsets = dsp.poisson_times(ctx.rng, ctx.n, rate, ctx.sr)
    rustle = dsp.burst_train(ctx.rng, ctx.n, onsets, ctx.rng.lognormal(0, 0.5, len(onsets)), ctx.rng.uniform(-0.95, 0.95, len(onsets)), (0.001, 0.002, 0.004), ctx.sr)
    rustle = dsp.normalise_rms(dsp.bandpass(rustle, 1800, 10000, 2), 1.0)
    air = dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(50, 1500, 1.5), shared=0.25)
    return rustle + 0.5 * air * dsp.upsample(g, ctx.n, ctx.sr)


def _thunder(rng, n: int, sr: int, distance: float, intensity: float, brightness: float) -> np.ndarray:
    """One roll, stereo ``(2, n)``: starts at frame 0 and has decayed by ``n``.

    The rumble is always at least half-way distant (the type is distant thunder): ``distance``
    0..1 maps to 0.5..1 for its muffling and slow rise. Only a close (``distance`` < 0.15),
    strong (``intensity`` > 0.6) strike cracks first. ``intensity`` also brightens the rumble
    and adds sub-peaks; ``brightness`` opens the rumble's low-pass."""
    far = 0.5 + 0.5 * distance
    dur = n / sr
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m)
    env = np.zeros((2, m))
    total = min(dur * 0.85, rng.uniform(5.0, 9.0))
    # a few sub-peaks: the stroke's segments and their echoes arrive at different times
    for k in range(int(rng.integers(2 + int(2 * intensity), 5 + int(3 * intensity)))):
        at = 0.05 + (0.0 if k == 0 else rng.uniform(0.1, 0.55) * total)
        rise = rng.uniform(0.05, 0.4) * (1 + 2 * far)
        if k == 0:  # the roll is heard at once, even in a short clip
            rise = min(rise, 0.08 * dur)
        tail = rng.uniform(0.5, 0.8) * total
        t = tc - at
        shape = np.where(t < 0, 0, np.where(t < rise, (t / rise) ** 2, np.exp(-(t - rise) / (tail / 4))))
        env += rng.uniform(0.4, 1.0) * shape * dsp.pan_gains(rng.uniform(-0.7, 0.7))[:, None]
    cutoff = (900 - 750 * far) * (0.75 + 0.5 * intensity) * (0.6 + 0.8 * brightness)
    rumble = dsp.spectral_noise(rng, n, dsp.band_mag(25, cutoff, 2.0), shared=0.3)
    x = rumble * dsp.upsample(env, n, sr)
    if distance < 0.15 and intensity > 0.6:  # a close, strong strike cracks first
        crack_len = min(n, int(0.4 * sr))
        t = np.arange(crack_len) / sr
        crack = dsp.highpass(rng.standard_normal((2, crack_len)), 300, 2) * np.exp(-t / 0.08) * (0.6 + intensity)
        s0 = int(0.05 * sr)
        fit = max(0, min(crack_len, n - s0))
        x[:, s0 : s0 + fit] += crack[:, :fit]
    return x


def thunder_event(ctx: Ctx):
    return _thunder(ctx.rng, ctx.n, ctx.sr, ctx.u("distance"), ctx.u("intensity"), ctx.u("brightness"))


@generator("thunder", event=thunder_event, events_per_min=1.5, params=("events_per_min",))
def thunder(ctx: Ctx):
    rng = ctx.rng
    times = dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.5)
    out = np.zeros((2, ctx.n), np.float32)
    for t in times:
        s = int(t * ctx.sr)
        length = min(ctx.n - s, int(12 * ctx.sr))
        if length > int(0.5 * ctx.sr):
            out[:, s : s + length] += rng.uniform(0.5, 1.0) * _thunder(rng, length, ctx.sr, ctx.u("distance"), ctx.u("intensity"), ctx.u("brightness"))
    # faint storm air between rolls, so the bed is never digital silence
    air = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(30, 600, 2.0), shared=0.2)
    return out + 0.01 * air
