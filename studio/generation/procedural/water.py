"""Water: rain (light, heavy, on a roof), surf, lake lapping, stream, river, waterfall, cave drips.

Recipes (after Farnell, *Designing Sound*, and van den Doel's liquid-sound work):
- rain = a Poisson field of drop impacts (short band-passed noise bursts, some with a
  Minnaert bubble chirp) at random pans over a pink-ish wash; heavier rain = more drops,
  more wash, a low body;
- roof rain = the same impacts exciting a few damped roof/window modes;
- surf = wave envelopes (slow rise, crash, long wash) on a low roar, a mid crash band and a
  fizzing foam band, each wave breaking at its own place in the stereo field;
- lapping = short soft laps of low-passed noise with low bubbly plops;
- stream = a dense, babbling field of bubble chirps over a light wash; river and waterfall
  are mostly broadband turbulence with fewer, lower bubbles;
- cave drips = sparse rising "plinks" in a long stereo reverb over faint cave air.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


def _drops(ctx: Ctx, rate_hz, bank: np.ndarray, spread: float = 0.9, sigma: float = 0.6) -> np.ndarray:
    rng = ctx.rng
    onsets = dsp.poisson_times(rng, ctx.n, rate_hz, ctx.sr)
    amps = rng.lognormal(0.0, sigma, len(onsets))
    idx = rng.integers(0, len(bank), len(onsets))
    gains = dsp.pan_gains(rng.uniform(-spread, spread, len(onsets))) * amps
    return dsp.overlap_add_bank(ctx.n, onsets, bank, idx, gains)


def _rain_bank(rng, k: int, sr: int, bright: float) -> np.ndarray:
    length = int(0.02 * sr)
    bursts = dsp.burst_bank(rng, k, length, (1200 + 1500 * bright, 3000 + 2000 * bright), (7000, 14000), (0.0015, 0.005), sr)
    bubbles = dsp.chirp_bank(rng, k, length, 1800, 4500, (0.1, 0.5), (0.002, 0.006), sr)
    mix = rng.random(k)[:, None] < 0.35  # about a third of drops ring a bubble
    return bursts + mix * 0.6 * bubbles


def _wash(ctx: Ctx, lo: float, hi: float, exponent: float = 1.0, shared: float = 0.2) -> np.ndarray:
    return dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(lo, hi, exponent), shared=shared)


@generator("rain_light", impulsive=True)
def rain_light(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    bank = _rain_bank(ctx.fixed_rng("bank"), 16, ctx.sr, ctx.u("brightness"))
    drops = dsp.normalise_rms(_drops(ctx, (60 + 240 * d) * (0.6 + 0.8 * i), bank), 1.0)
    wash = _wash(ctx, 500, 12000, 0.8)
    return drops + (0.25 + 0.35 * i) * wash


@generator("rain_heavy", impulsive=True)
def rain_heavy(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    bank = _rain_bank(ctx.fixed_rng("bank"), 16, ctx.sr, ctx.u("brightness"))
    rng = ctx.rng
    # too many drops to place one by one: envelopes from an impulse train gate fresh noise
    onsets = dsp.poisson_times(rng, ctx.n, (500 + 1000 * d) * (0.7 + 0.6 * i), ctx.sr)
    field = dsp.burst_train(rng, ctx.n, onsets, rng.lognormal(0, 0.8, len(onsets)), rng.uniform(-0.95, 0.95, len(onsets)), (0.002, 0.005), ctx.sr)
    field = dsp.highpass(field, 1500 * 4.0 ** (2 * ctx.u("brightness") - 1), 4)  # 375 Hz .. 6 kHz, 1.5 kHz at 0.5
    drops = dsp.normalise_rms(field, 1.0) + 0.5 * dsp.normalise_rms(_drops(ctx, 60.0, bank, sigma=0.8), 1.0)
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    swell = dsp.upsample(10 ** (2.5 * dsp.smooth_random(ctx.rng, m, 0.08)[0] / 20), ctx.n, ctx.sr)
    # the wash of countless drops and the low body of the downpour, swelling together
    spec = dsp.mix_mag((0.9 + 0.4 * i, dsp.band_mag(250, 14000, 0.9)), (0.3 + 0.3 * i, dsp.band_mag(40, 350, 2.0)))
    wash = dsp.spectral_noise(rng, ctx.n, spec, shared=0.25) * swell
    return 0.7 * drops + wash


@generator("rain_on_roof", impulsive=True)
def rain_on_roof(ctx: Ctx):
    i, d, b = ctx.u("intensity"), ctx.u("density"), ctx.u("brightness")
    frng = ctx.fixed_rng("roof")
    # drops tap the surface; the surface rings: its few modes are a fixed filter on the taps
    # (bright = tin or glass, dark = shingle), a different panel on each side
    ticks = dsp.burst_bank(frng, 12, int(0.008 * ctx.sr), (400, 1200), (6000, 12000), (0.0008, 0.003), ctx.sr)
    taps = _drops(ctx, (120 + 300 * d) * (0.6 + 0.8 * i), ticks, spread=0.95, sigma=0.5)
    for c in range(2):
        f = frng.uniform(500 + 1500 * b, 1800 + 3500 * b, 4)
        sos = dsp.resonator_sos(f, frng.uniform(4, 8, 4), frng.uniform(2.5, 5, 4), ctx.sr)
        taps[c] = signal.sosfilt(sos, taps[c]).astype(np.float32)
    taps = dsp.normalise_rms(taps, 1.0)
    drum = _wash(ctx, 150, 6000, 1.2)  # the rain mass on the surface, muffled by it
    return taps + (0.3 + 0.3 * i) * drum


@generator("ocean_surf")
def ocean_surf(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(n, sr)
    period = 13.0 - 5.0 * d
    starts = dsp.jittered_times(rng, ctx.duration_s + 20.0, 60.0 / period, 0.5, start_s=-12.0)
    tc = dsp.ctrl_time(m)
    env_lo = np.zeros((2, m))
    env_hi = np.zeros((2, m))
    for s in starts:
        rise = rng.uniform(1.5, 3.0)
        decay = rng.uniform(3.0, 6.0) * (0.8 + 0.5 * i)
        size = rng.uniform(0.5, 1.0)
        t = tc - s
        body = np.where(t < 0, 0.0, np.where(t < rise, (t / rise) ** 2, np.exp(-(t - rise) / decay)))
        # the crash builds over the last ~1.2 s of the rise (the lip curling over), then fades
        onset = np.sin(0.5 * np.pi * np.clip((t - rise + 1.2) / 1.2, 0.0, 1.0)) ** 2
        crash = np.where(t < rise, onset, np.exp(-(t - rise) / (0.45 * decay)))
        pan = np.clip(rng.uniform(-0.7, 0.7) + np.clip(t, 0, 8) * rng.uniform(-0.05, 0.05), -1, 1)
        g = dsp.pan_gains(pan)
        env_lo += size * body * g
        env_hi += size * crash * g
    roar = _wash(ctx, 30, 700, 2.0, shared=0.3)
    # the crash and the fizzing foam after it: one noise, its level flickering with bubbles
    crash = dsp.spectral_noise(rng, n, dsp.mix_mag((0.5 + 0.4 * i, dsp.band_mag(300, 9000, 1.0)), (0.35, dsp.band_mag(2000, 14000, 0.3))), shared=0.1)
    fizz = np.float32(0.6) + np.float32(0.4) * dsp.upsample(np.abs(dsp.smooth_random(rng, m, 40.0, 2)), n, sr)
    lo = dsp.upsample(env_lo + 0.08, n, sr)
    hi = dsp.upsample(env_hi + 0.06, n, sr)  # some foam fizz is always there
    return (1.2 - 0.6 * i) * roar * lo + crash * hi * fizz  # bigger waves: more crash over the roar


@generator("lake_lapping", impulsive=True)
def lake_lapping(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    frng = ctx.fixed_rng("lap")
    length = int(1.2 * sr)
    t = np.arange(length) / sr
    # a lap runs along the shore: the same swell of water, but different noise in each ear
    sides = np.zeros((2, 10, length), np.float32)
    for j in range(10):
        a, dec = frng.uniform(0.04, 0.15), frng.uniform(0.15, 0.45)
        env = np.minimum(1.0, t / a) * np.exp(-np.maximum(t - a, 0) / dec)
        x = dsp.lowpass(dsp.bandpass(frng.standard_normal((2, length)), 120, frng.uniform(600, 1400), 2, sr), 2500, 2, sr) * env
        sides[:, j] = x / (np.max(np.abs(x)) + 1e-9)
    lap_rate = (20 + 30 * d) / 60.0
    onsets = dsp.poisson_times(rng, n, lap_rate * (0.7 + 0.6 * i), sr)
    gains = dsp.pan_gains(rng.uniform(-0.6, 0.6, len(onsets))) * rng.lognormal(0.0, 0.35, len(onsets))
    which = rng.integers(0, 10, len(onsets))
    laps_out = np.stack([dsp.overlap_add_bank(n, onsets, sides[c], which, gains[c : c + 1])[0] for c in range(2)])
    plops = dsp.chirp_bank(frng, 12, int(0.08 * sr), 180, 700, (0.2, 0.8), (0.01, 0.03), sr)
    plop_out = _drops(ctx, lap_rate * 3.0, plops, spread=0.8, sigma=0.5)
    still = _wash(ctx, 40, 500, 1.5, shared=0.2)
    still_gain = 0.2 - 0.16 * i  # stronger laps stand further out of the still water
    return dsp.normalise_rms(laps_out, 1.0) + 0.35 * dsp.normalise_rms(plop_out, 1.0) + still_gain * still


def _bubbles(ctx: Ctx, rate_hz: float, lo: float, hi: float, wobble: float) -> np.ndarray:
    frng = ctx.fixed_rng("bubbles")
    bank = dsp.chirp_bank(frng, 48, int(0.03 * ctx.sr), lo, hi, (0.1, 0.9), (0.003, 0.012), ctx.sr)
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    # babbling: the bubble rate surges and relaxes every second or so
    rate = rate_hz * np.exp(wobble * dsp.smooth_random(ctx.rng, m, 1.5)[0])
    return dsp.normalise_rms(_drops(ctx, rate, bank, spread=0.85, sigma=0.5), 1.0)


@generator("stream")
def stream(ctx: Ctx):
    i, d, b = ctx.u("intensity"), ctx.u("density"), ctx.u("brightness")
    bub = _bubbles(ctx, (120 + 200 * d) * (0.7 + 0.6 * i), 350 + 300 * b, 1800 + 1500 * b, 0.6)
    return bub + (0.5 + 0.4 * i) * _wash(ctx, 200, 7000, 1.0)


@generator("river")
def river(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    surge = dsp.upsample(10 ** ((0.5 + 2.0 * i) * dsp.smooth_random(ctx.rng, m, 0.2, 2) / 20), ctx.n, ctx.sr)
    # the rush and the low body of the water in one noise (their powers add), surging together;
    # a stronger river has more body under the rush
    spec = dsp.mix_mag((1.0, dsp.band_mag(80, 5000, 1.1)), (0.55 * 4.0 ** (2 * i - 1), dsp.band_mag(30, 250, 2.0)))
    rush = dsp.spectral_noise(ctx.rng, ctx.n, spec, shared=0.3) * surge
    bub = _bubbles(ctx, 40 + 40 * d, 200, 900, 0.4)
    return rush + (0.1 + 0.4 * d) * bub


@generator("waterfall")
def waterfall(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    # density: how broken the falling water is (faster surges, more spray); intensity: the
    # power of the fall (deeper surges, a heavier low thunder under a whiter roar)
    surge = dsp.upsample(10 ** ((0.3 + 1.4 * i) * dsp.smooth_random(ctx.rng, m, 0.25 + 0.5 * d, 2) / 20), ctx.n, ctx.sr)
    spec = dsp.mix_mag(
        (1.0, dsp.band_mag(60, 12000, round(0.9 - 0.6 * i, 3))),
        (0.75 * 4.0 ** (2 * i - 1), dsp.band_mag(20, 160, 2.0)),
        (0.4 * d, dsp.band_mag(4000, 16000, 0.0)),
    )
    return dsp.spectral_noise(ctx.rng, ctx.n, spec, shared=0.2) * surge


def _drip_bank(ctx: Ctx) -> np.ndarray:
    frng = ctx.fixed_rng("drips")
    b = ctx.u("brightness")
    length = int(0.25 * ctx.sr)
    plinks = dsp.chirp_bank(frng, 10, length, 700 + 400 * b, 1800 + 1500 * b, (0.2, 0.6), (0.03, 0.07), ctx.sr)
    clicks = dsp.burst_bank(frng, 10, length, (1500, 3000), (8000, 12000), (0.0005, 0.0012), ctx.sr)
    return plinks + (0.05 + 0.5 * ctx.u("intensity")) * clicks  # heavier drops hit with more click


def cave_drips_event(ctx: Ctx):
    bank = _drip_bank(ctx)
    out = dsp.overlap_add_bank(ctx.n, np.array([int(0.005 * ctx.sr)]), bank, np.array([int(ctx.rng.integers(len(bank)))]), dsp.pan_gains(np.array([ctx.rng.uniform(-0.6, 0.6)])))
    return dsp.stereo_reverb(out, ctx.fixed_rng("cave"), rt60_s=min(2.5, 0.8 * ctx.duration_s), wet=0.5, damping_hz=5000.0)


@generator("cave_drips", event=cave_drips_event, events_per_min=20.0, params=("events_per_min",))
def cave_drips(ctx: Ctx):
    rng = ctx.rng
    bank = _drip_bank(ctx)
    times = dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.5)
    onsets = (times * ctx.sr).astype(np.int64)
    amps = rng.uniform(0.45, 1.0, len(onsets))
    gains = dsp.pan_gains(rng.uniform(-0.8, 0.8, len(onsets))) * amps
    dry = dsp.overlap_add_bank(ctx.n, onsets, bank, rng.integers(0, len(bank), len(onsets)), gains)
    wet = dsp.stereo_reverb(dry, ctx.fixed_rng("cave"), rt60_s=2.8, wet=0.45, damping_hz=5000.0)
    air = _wash(ctx, 25, 400, 2.0, shared=0.2)
    return wet + (0.009 - 0.006 * ctx.u("intensity")) * air
