"""People and places: distant city traffic, café murmur, clock ticking, footsteps on gravel.

- Traffic: a low rumble bed plus car passes, each a noise swell (engine band + tyre hiss) that
  travels across the stereo field as it rises and falls (a pass-by envelope).
- Café: babble, the sum of several "voices", each a glottal sawtooth with wandering pitch and
  breath noise, through a speech-band filter and gated by syllable-rate (4-5 Hz) envelopes
  and phrase pauses, plus the odd cup clink, in a room reverb.
- Clock: alternating tick and tock, each a few damped metallic modes, very regular, in a
  small room (the reverb's two independent tails give the stereo image).
- Gravel: each step a cluster of tiny grain impacts (heel then toe) as a walker moves across.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


@generator("city_traffic", params=("events_per_min",))
def city_traffic(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m)
    env_engine = np.zeros((2, m))
    env_tyre = np.zeros((2, m))
    rate = ctx.p.get("events_per_min") or (10 + 25 * d)
    for t in dsp.jittered_times(rng, ctx.duration_s + 8.0, rate, jitter=0.9, start_s=-4.0):
        dur = rng.uniform(3.0, 7.0)
        u = (tc - t) / dur
        shape = np.exp(-0.5 * ((u - 0.5) / 0.17) ** 2)  # pass-by swell
        direction = rng.choice([-1.0, 1.0])
        pan = np.clip(direction * (u - 0.5) * 1.6, -0.95, 0.95)
        g = dsp.pan_gains(pan) * rng.uniform(0.3, 1.0)
        env_engine += shape * g
        env_tyre += shape**2 * g
    engine = dsp.spectral_noise(rng, n, dsp.band_mag(50, 1200, 1.5), shared=0.2)
    tyre = dsp.spectral_noise(rng, n, dsp.band_mag(800, 6000, 0.5), shared=0.1)
    rumble = dsp.spectral_noise(rng, n, dsp.band_mag(25, 400, 2.0), shared=0.3)
    drift = dsp.upsample(np.exp(0.3 * dsp.smooth_random(rng, m, 0.05, 2)), n, sr)
    return (0.6 + 0.4 * i) * engine * dsp.upsample(env_engine, n, sr) + 0.35 * tyre * dsp.upsample(env_tyre, n, sr) + 0.6 * rumble * drift


@generator("cafe_murmur")
def cafe_murmur(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    voices = 6 + int(round(8 * d))
    m = dsp.ctrl_len(n, sr)
    # talkers sit at three places (left, centre, right tables); each place's envelope is the
    # sum of its talkers' syllable (~4-5 Hz) and phrase (talking vs listening) envelopes
    env = np.zeros((3, m))
    for v in range(voices):
        syll = np.clip(dsp.smooth_random(rng, m, 9.0)[0], 0, None) ** 1.5
        phrase = np.clip(dsp.smooth_random(rng, m, 0.4)[0] + 0.4, 0, 1)
        env[v % 3] += syll * phrase * 10 ** (-ctx.fixed_rng("voice", v).uniform(0, 10) / 20)
    breath = dsp.spectral_noise(rng, n, dsp.mix_mag((1.0, dsp.band_mag(250, 1200, 0.5)), (0.6, dsp.band_mag(1500, 3500, 1.0))), channels=3)
    env_up = dsp.upsample(env, n, sr)
    buses = breath * env_up * np.float32(0.5)
    for b in range(3):  # the voiced buzz: a glottal sawtooth whose pitch wanders like intonation
        f0 = (110.0, 200.0, 150.0)[b] * ctx.fixed_rng("pitch", b).uniform(0.9, 1.1)
        freq = f0 * (1 + 0.15 * dsp.smooth_random(rng, m, 3.0)[0])
        cyc = dsp.upsample_cycles(np.cumsum(freq) / dsp.CTRL_HZ, n, sr)
        buses[b] += (cyc - np.float32(0.5)) * env_up[b] * np.float32(0.5 + i)  # louder talk: more voice, less breath
    g = dsp.pan_gains(np.array([-0.7, 0.0, 0.7]))
    out = np.einsum("cb,bn->cn", g.astype(np.float32), buses)
    out = dsp.bandpass(out, 200, 2400 + 1600 * i, 2)  # speech band, through the room; raised voices are brighter
    out = dsp.normalise_rms(out, 1.0)
    frng = ctx.fixed_rng("cups")
    clinks = np.stack([dsp.modal(int(0.6 * sr), frng.uniform(2000, 6000, 3), np.array([1, 0.6, 0.4]), np.array([0.3, 0.2, 0.1])) for _ in range(6)])
    on = dsp.poisson_times(rng, n, 0.25 + 0.5 * d, sr)
    out += 0.5 * dsp.overlap_add_bank(n, on, clinks, rng.integers(0, 6, len(on)), dsp.pan_gains(rng.uniform(-0.8, 0.8, len(on))) * rng.uniform(0.2, 0.7, len(on)))
    return dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=0.9, wet=0.5, damping_hz=5000.0)


def _tick(rng, sr: int, base: float, hard: float) -> np.ndarray:
    """One tick: four damped metallic modes and an escapement click; a ``hard`` (0..1)
    tick rings the upper modes more and clicks louder."""
    length = int(0.06 * sr)
    amps = np.array([1.0, 0.7, 0.5, 0.3]) * (0.4 + 1.2 * hard) ** np.arange(4)
    x = dsp.modal(length, base * np.array([1.0, 1.63, 2.41, 3.9]), amps, np.array([0.02, 0.015, 0.01, 0.006]), rng.uniform(0, 6.28, 4))
    click = 0.05 + 0.5 * hard
    noise = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.0004 * sr))
    return (x + click * noise).astype(np.float32)


@generator("clock_ticking", impulsive=True, events_per_min=60.0, params=("events_per_min",))
def clock_ticking(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    frng = ctx.fixed_rng("clock")
    base = frng.uniform(2200, 3200) * (0.8 + 0.4 * ctx.u("brightness"))
    hard = ctx.u("intensity")  # a heavier escapement ticks harder
    bank = np.stack([_tick(frng, sr, base, hard), _tick(frng, sr, base * 0.84, hard)])  # tick, tock
    step = 60.0 / ctx.p["events_per_min"]
    first = (0.5 * step - ctx.t0_s) % step  # the same beat grid across chunks, off the loop seam
    times = np.arange(first, ctx.duration_s, step) + rng.normal(0, 0.0015, int(np.ceil((ctx.duration_s - first) / step)))
    beat = np.round((times + ctx.t0_s) / step).astype(np.int64)
    onsets = (times * sr).astype(np.int64)
    pan = frng.uniform(-0.3, 0.3)
    gains = np.repeat(dsp.pan_gains(pan)[:, None], len(onsets), axis=1) * rng.uniform(0.9, 1.0, len(onsets))
    dry = dsp.overlap_add_bank(n, onsets, bank, beat % 2, gains)
    room = dsp.spectral_noise(rng, n, dsp.band_mag(40, 2000, 1.5), shared=0.0)
    return dsp.stereo_reverb(dry, frng, rt60_s=0.5, wet=1.2, damping_hz=6000.0) + 0.004 * room


def _step_times(rng, duration_s: float, per_min: float, start_s: float = 0.0) -> np.ndarray:
    return dsp.jittered_times(rng, duration_s, per_min, jitter=0.12, start_s=start_s)


def _steps(ctx: Ctx, times: np.ndarray, pans: np.ndarray) -> np.ndarray:
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    grains = dsp.burst_bank(ctx.fixed_rng("gravel"), 24, int(0.008 * sr), (600, 1500), (5000, 11000), (0.0005, 0.002), sr)
    onsets, amps, ps = [], [], []
    weight = 0.6 + 0.8 * ctx.u("intensity")
    for t, pan in zip(times, pans):
        for part, (delay, spread, count) in enumerate(((0.0, 0.03, 60), (0.09, 0.06, 80))):  # heel, then toe roll
            k = int(count * weight * rng.uniform(0.8, 1.2))
            onsets.append(((t + delay + rng.exponential(spread, k)) * sr).astype(np.int64))
            amps.append(rng.lognormal(0, 0.6, k) * (1.0 if part == 0 else 0.7))
            ps.append(np.full(k, pan) + rng.normal(0, 0.05, k))
    if not onsets:
        return np.zeros((2, n), np.float32)
    on = np.concatenate(onsets)
    gains = dsp.pan_gains(np.concatenate(ps)) * np.concatenate(amps)
    return dsp.overlap_add_bank(n, on, grains, rng.integers(0, len(grains), len(on)), gains)


def footsteps_event(ctx: Ctx):
    """A short walk: steps start at once, and the last has settled before the end."""
    per_min = ctx.p["events_per_min"]
    times = _step_times(ctx.rng, max(ctx.duration_s - 0.5, 0.3), per_min)
    times = times - times[0] + 0.01 if len(times) else np.array([0.01])
    pans = np.linspace(-0.4, 0.4, len(times)) * ctx.rng.choice([-1, 1])
    out = _steps(ctx, times, pans)
    return dsp.stereo_reverb(out, ctx.fixed_rng("yard"), rt60_s=0.4, wet=0.3, damping_hz=5000.0)


@generator("footsteps_gravel", impulsive=True, event=footsteps_event, events_per_min=100.0, params=("events_per_min",))
def footsteps_gravel(ctx: Ctx):
    rng = ctx.rng
    times = _step_times(rng, ctx.duration_s, ctx.p["events_per_min"])
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    path = np.tanh(1.2 * dsp.smooth_random(rng, m, 0.05)[0])  # the walker wanders across
    ci = np.minimum((times * dsp.CTRL_HZ).astype(np.int64), m - 1)
    out = _steps(ctx, times, path[ci] + 0.08 * (np.arange(len(times)) % 2 - 0.5))
    out = dsp.stereo_reverb(out, ctx.fixed_rng("yard"), rt60_s=0.5, wet=0.5, damping_hz=5000.0)
    air = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(60, 1500, 1.5), shared=0.2)
    return out + 0.01 * air
