"""Indoors: pages turning, room tone.

- A page turn (after Farnell's "paper" and crumpling recipes): the lift (a faint rustle as
  the fingers take the page), the flip (a swish of moving air and paper whose band rises
  then falls as the page sweeps over, sprinkled with crinkle grains as the sheet flexes) and
  the landing (a soft low flap), in a small quiet room.
- Room tone: what a quiet room sounds like with nothing happening: ventilation air (a
  spectrum falling at about -5 dB/octave with a broad hump from the duct), a faint mains
  hum (50 or 60 Hz and harmonics), and now and then a very faint far-off swell (traffic, the
  building); very steady.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


def _crinkle_bank(rng: np.random.Generator, k: int, sr: int) -> np.ndarray:
    return dsp.burst_bank(rng, k, int(0.004 * sr), (1500, 3000), (7000, 12000), (0.0002, 0.0008), sr)


def _page_turn(ctx: Ctx, rng: np.random.Generator, length: int) -> np.ndarray:
    """One page turn, mono ``(length,)``; lasts 0.5-1.0 s of ``length``."""
    sr = ctx.sr
    i = ctx.u("intensity")  # a brisk turn: louder swish, more crinkle, a firmer landing
    lift, flip = rng.uniform(0.08, 0.25), rng.uniform(0.2, 0.45)
    t = np.arange(length) / sr
    m = dsp.ctrl_len(length, sr)
    tc = dsp.ctrl_time(m)
    u = np.clip((tc - lift) / flip, 0.0, 1.0)
    swish = np.where((tc >= lift) & (tc < lift + flip), np.sin(np.pi * u) ** 1.5, 0.0)
    rustle = 0.15 * np.clip(tc / max(lift, 1e-3), 0, 1) * (tc < lift)
    centre = 700 + 2500 * np.sin(np.pi * u)  # the band rises then falls as the page sweeps over
    air = dsp.swept_band(rng, length, centre, 1500.0, sr) * dsp.upsample(swish * (0.6 + 0.8 * i), length, sr)
    rus = dsp.spectral_noise(rng, length, dsp.band_mag(1500, 8000, 0.5), channels=1)[0] * dsp.upsample(rustle, length, sr)
    # crinkles: grains while the sheet flexes, most at the start and end of the flip
    bank = _crinkle_bank(ctx.fixed_rng("crinkle"), 16, sr)
    rate = (150 + 400 * i) * (swish + 0.3) * (tc < lift + flip)
    on = dsp.poisson_times(rng, length, rate, sr)
    crinkle = dsp.overlap_add_bank(length, on, bank, rng.integers(0, 16, len(on)), rng.lognormal(0, 0.6, (1, len(on))))[0]
    land_at = int((lift + flip) * sr)
    flap_len = min(int(0.08 * sr), max(0, length - land_at))
    flap = np.zeros(length, np.float32)
    if flap_len > 0:
        tf = np.arange(flap_len) / sr
        thud = dsp.lowpass(rng.standard_normal((1, flap_len)), 500, 2)[0] * np.exp(-tf / 0.015) * np.minimum(1, tf / 0.003)
        flap[land_at : land_at + flap_len] = (0.5 + 0.8 * i) * thud / (np.abs(thud).max() + 1e-9)
    out = air + 0.8 * rus + 0.35 * crinkle + flap
    return (out * np.minimum(1.0, t / 0.01)).astype(np.float32)


def _room(ctx: Ctx, n: int) -> np.ndarray:
    return dsp.spectral_noise(ctx.rng, n, dsp.band_mag(40, 6000, 1.6), shared=0.2)


def page_turns_event(ctx: Ctx):
    x = _page_turn(ctx, ctx.rng, ctx.n)
    out = dsp.pan_gains(ctx.rng.uniform(-0.3, 0.3))[:, None].astype(np.float32) * x
    return dsp.stereo_reverb(out, ctx.fixed_rng("study"), rt60_s=min(0.5, 0.3 * ctx.duration_s), wet=0.35, damping_hz=6000.0)


@generator("page_turns", event=page_turns_event, events_per_min=3.0, params=("events_per_min",))
def page_turns(ctx: Ctx):
    """A reader turning pages at ``events_per_min`` (3) in a quiet room."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    out = np.zeros((2, n), np.float32)
    pan = ctx.fixed_rng("reader").uniform(-0.3, 0.3)
    length = int(1.0 * sr)
    for t in dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.6):
        s = int(t * sr)
        fit = min(length, n - s)
        if fit > 0:
            x = _page_turn(ctx, rng, length)[:fit] * rng.uniform(0.6, 1.0)
            out[:, s : s + fit] += dsp.pan_gains(pan + rng.uniform(-0.1, 0.1))[:, None].astype(np.float32) * x
    out = dsp.stereo_reverb(out, ctx.fixed_rng("study"), rt60_s=0.5, wet=0.35, damping_hz=6000.0)
    return out + 0.006 * _room(ctx, n)


@generator("room_tone")
def room_tone(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    frng = ctx.fixed_rng("room")
    # ventilation: intensity is how hard the air handling runs (more duct hump, more hum)
    air = dsp.spectral_noise(rng, n, dsp.mix_mag((1.0, dsp.band_mag(30, 8000, 1.7)), (1.0 + 1.0 * i, dsp.band_mag(90, 350, 0.0))), shared=0.3)
    mains = 50.0 if frng.random() < 0.5 else 60.0
    t0 = int(round(ctx.t0_s * sr))
    t = (t0 + np.arange(n)) / sr  # absolute time: the hum is continuous across chunks
    hum = sum(a * dsp.sine_cycles(h * mains * t + frng.random()) for h, a in ((1, 0.5), (2, 1.0), (3, 0.35), (4, 0.2)))
    hum = (0.06 + 0.12 * i) * hum.astype(np.float32)
    # density: the faint life of the building and the street beyond, swelling now and then
    m = dsp.ctrl_len(n, sr)
    far = (0.3 + np.clip(dsp.smooth_random(rng, m, 0.1)[0], 0.0, None) ** 2) * d
    life = dsp.spectral_noise(rng, n, dsp.band_mag(40, 1500, 1.5), shared=0.5) * dsp.upsample(far, n, sr)
    return air + hum[None, :] * np.float32(0.9) + 1.2 * life  # (0.6 before the mix_mag fix made the air a slope like it)
