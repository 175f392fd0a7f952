"""Insects and frogs: crickets, cicadas, frogs, insect hum.

- A cricket is a pure carrier (3.8-5.2 kHz, the file-and-scraper resonance) gated into pulses
  (25-45 per second) grouped into chirps. One chirp period is synthesised and tiled, with the
  carrier nudged to whole cycles per period, so it is exactly periodic, click-free and cheap
  (in a loop, the period is stretched so whole periods fit the loop);
  each cricket drifts in level and now and then pauses.
- Cicadas are a 4-8 kHz noise band buzzed by the tymbals (150-250 Hz amplitude modulation)
  inside long swells.
- A frog croak is a harmonic buzz (pulse rate 90-250 Hz) through two formants, pulsed at
  15-30 Hz ("ribbit"), sung in runs by several frogs at their own places.
- Bees: wingbeat pulses (180-250 Hz, a skewed sin^3 stroke, amplitude varying beat to beat)
  whose pitch follows the bee's manoeuvres (+-7 %) and glides at take-off and landing; each
  bee flies for a few seconds, lands, takes off again, and drifts across the field.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


def _cricket_period(rng, sr: int) -> tuple[np.ndarray, float]:
    pulse_hz = rng.uniform(25, 45)
    trill = rng.random() < 0.35  # tree crickets trill continuously; field crickets chirp
    chirp_hz = pulse_hz / (rng.integers(4, 7) if not trill else 1)
    pulses_on = int(round(pulse_hz / chirp_hz)) if trill else int(rng.integers(3, 5))
    period = int(round(sr / chirp_hz))
    pulse_len = period / round(pulse_hz / chirp_hz)
    carrier = rng.uniform(3800, 5200)
    carrier = round(carrier * period / sr) * sr / period  # whole cycles per period
    i = np.arange(period)
    k = np.floor(i / pulse_len)
    frac = i / pulse_len - k
    duty = 0.55
    env = np.where((k < pulses_on) & (frac < duty), np.sin(np.pi * np.minimum(frac / duty, 1.0)) ** 2, 0.0)
    wave = env * (np.sin(2 * np.pi * carrier * i / sr) + 0.05 * np.sin(4 * np.pi * carrier * i / sr))
    return wave.astype(np.float32), pulse_hz


def _tile(wave: np.ndarray, start: int, n: int, loop_n: int | None) -> np.ndarray:
    """Frames ``start .. start+n`` of ``wave`` repeated forever. In a loop the period is
    stretched (by at most half a period per loop) so a whole number of periods fits
    ``loop_n``: the song is then exactly periodic in the loop, and the loop fold joins two
    identical stretches (a song tiled at its own period would be folded onto a shifted copy
    of itself, smearing the chirp rhythm and dipping the level by up to 7 dB where the
    carriers cancel)."""
    period = len(wave)
    if not loop_n:
        return wave[(start + np.arange(n)) % period]
    whole = max(1, round(loop_n / period))
    pos = (np.arange(start, start + n, dtype=np.float64) % loop_n) * (whole * period / loop_n) % period
    return np.interp(pos, np.arange(period + 1), np.append(wave, wave[0])).astype(np.float32)


@generator("crickets", coherent=True)
def crickets(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    d = ctx.u("density")
    count = 2 + int(round(5 * d))
    pans = np.linspace(-0.85, 0.85, count)
    ctx.fixed_rng("pans").shuffle(pans)
    m = dsp.ctrl_len(n, sr)
    out = np.zeros((2, n), np.float32)
    start = int(round(ctx.t0_s * sr))
    for c in range(count):
        frng = ctx.fixed_rng("cricket", c)
        wave, _ = _cricket_period(frng, sr)
        x = _tile(wave, start + int(frng.integers(0, len(wave))), n, ctx.loop_n)
        # level drift and the odd pause (a cricket stops when something moves nearby)
        # intensity: how steadily they sing (low = more and longer pauses)
        lvl = np.clip(0.9 + 0.6 * ctx.u("intensity") + dsp.smooth_random(rng, m, 0.05)[0], 0.0, 1.5)
        lvl *= 10 ** (-frng.uniform(0, 12) / 20)
        x *= dsp.upsample(lvl, n, sr)
        out += dsp.pan_gains(pans[c])[:, None] * x
    night = dsp.spectral_noise(rng, n, dsp.band_mag(40, 800, 1.8), shared=0.2)
    return out + (0.015 - 0.01 * ctx.u("intensity")) * night


@generator("cicadas")
def cicadas(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    count = 2 + int(round(3 * d))
    band = dsp.spectral_noise(rng, n, dsp.band_mag(3800, round(6000 + 3000 * i), 0.0, 3), shared=0.0)  # strident: wider
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m)
    t = (np.arange(n) / sr).astype(np.float32)
    out = np.zeros((2, n), np.float32)
    pans = np.linspace(-0.8, 0.8, count)
    for c in range(count):
        frng = ctx.fixed_rng("cicada", c)
        rate = frng.uniform(150, 250)
        buzz = (0.5 + 0.5 * np.cos(np.float32(2 * np.pi * rate) * t + np.float32(frng.uniform(0, 6.28)))) ** 3
        # a swell: rise over seconds, sustain, fall, at the cicada's own pace
        cycle = frng.uniform(12, 25)
        ph = (tc + ctx.t0_s + frng.uniform(0, cycle)) / cycle % 1.0
        swell = np.clip(np.sin(np.pi * ph) * 1.6, 0, 1) ** 2 + (0.2 - 0.18 * i)  # weak song: shallow swells
        # many species pulse their song a few times a second on top of the long swell
        pulse_hz = frng.uniform(0.7, 2.5)
        swell = swell * (0.6 + 0.4 * np.cos(2 * np.pi * pulse_hz * (tc + ctx.t0_s) + frng.uniform(0, 6.28)))
        src = np.roll(band, int(frng.integers(0, n)), axis=1).mean(axis=0) if c else band[0]
        out += dsp.pan_gains(pans[c] + frng.uniform(-0.1, 0.1))[:, None] * (src * buzz * dsp.upsample(swell, n, sr))
    return out + (0.06 - 0.05 * i) * band


def _croak_bank(rng, sr: int, f0: float, k: int) -> np.ndarray:
    length = int(0.4 * sr)
    bank = np.zeros((k, length), np.float32)
    f1, f2 = rng.uniform(450, 900), rng.uniform(1200, 2100)
    for j in range(k):
        dur = rng.uniform(0.12, 0.35)
        ln = int(dur * sr)
        u = np.linspace(0, 1, ln)
        f = f0 * (1 + 0.08 * u) * rng.uniform(0.95, 1.05)
        phase = 2 * np.pi * np.cumsum(f) / sr
        x = np.zeros(ln)
        for h in range(1, 16):
            fh = h * f0
            a = np.exp(-0.5 * ((fh - f1) / 200) ** 2) + 0.6 * np.exp(-0.5 * ((fh - f2) / 300) ** 2) + 0.05 / h
            x += a * np.sin(h * phase)
        pulse = (0.5 + 0.5 * np.cos(2 * np.pi * rng.uniform(15, 30) * u * dur)) ** 2
        env = np.minimum(1, u / 0.1) * np.minimum(1, (1 - u) / 0.2)
        bank[j, :ln] = x * pulse * env
    return bank


@generator("frogs", params=("events_per_min",))
def frogs(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    count = 3 + int(round(5 * d))
    run_max = 3 + int(2 * i)  # exclusive bound: runs of 1-2 croaks, up to 1-4 for eager frogs
    banks, onsets, idx, gains = [], [], [], []
    for f in range(count):
        frng = ctx.fixed_rng("frog", f)
        bank = _croak_bank(frng, sr, frng.uniform(90, 250), 3)
        level = 10 ** (-frng.uniform(0, 12) / 20)
        pan = frng.uniform(-0.9, 0.9)
        rate = (ctx.p.get("events_per_min") or 25.0) * frng.uniform(0.5, 1.5)
        for t in dsp.jittered_times(rng, ctx.duration_s, rate, jitter=0.9):
            for r in range(int(rng.integers(1, run_max))):  # croaks come in runs
                onsets.append(int((t + r * rng.uniform(0.35, 0.5)) * sr))
                idx.append(f * 3 + int(rng.integers(0, 3)))
                gains.append(level * rng.uniform(0.7, 1.0) * dsp.pan_gains(pan))
        banks.append(bank)
    out = dsp.overlap_add_bank(n, np.array(onsets, np.int64), np.concatenate(banks), np.array(idx, np.int64), np.array(gains).reshape(-1, 2).T)
    out = dsp.stereo_reverb(out, ctx.fixed_rng("marsh"), rt60_s=1.0, wet=0.3, damping_hz=4000.0)
    night = dsp.spectral_noise(rng, n, dsp.band_mag(40, 800, 1.8), shared=0.2)
    return dsp.normalise_rms(out, 1.0) + (0.075 - 0.05 * i) * night


def bee(rng: np.random.Generator, n: int, sr: int, f0: float, t0_s: float = 0.0, sharpness: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """One bee's buzz ``(n,)`` and its control-rate level ``(m,)``.

    The wings beat at ``f0`` (180-250 Hz); each stroke is a pressure pulse (a skewed
    ``sin**sharpness`` shape, rich in harmonics but not a sawtooth; sharper is brighter),
    and no two strokes are alike: the stroke amplitude varies from beat to beat (12 %). The pitch rises when it climbs or speeds up and sags as it hovers
    (+-7 %), glides up at take-off; the bee comes and goes (flies off, lands on a flower,
    takes off again), so its level swings from near silence to close."""
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m) + t0_s
    manoeuvre = dsp.smooth_random(rng, m, 1.2)[0]
    # flights: the bee is airborne for 2-8 s, then lands for 1-4 s (the hum stops)
    airborne = np.zeros(m)
    pos = -rng.uniform(0, 6)
    while pos < tc[-1]:
        fly, rest = rng.uniform(2, 8), rng.uniform(1, 4)
        u = (tc - pos) / fly
        airborne = np.maximum(airborne, np.clip(np.minimum(u * fly / 0.25, (1 - u) * fly / 0.4), 0, 1) * (u >= 0) * (u <= 1))
        pos += fly + rest
    glide = 0.75 + 0.25 * airborne  # wings spin up at take-off and down on landing
    f = f0 * glide * (1 + 0.07 * np.tanh(manoeuvre))
    cycles = np.cumsum(f) / dsp.CTRL_HZ + rng.random()
    frac = dsp.upsample_cycles(cycles, n, sr)
    def stroke(u):  # one wing stroke over a cycle u in 0..1: the downstroke faster than the upstroke
        return np.sin(np.float32(np.pi) * ((u + np.float32(0.15) * np.sin(np.float32(2 * np.pi) * u)) % np.float32(1.0))) ** np.float32(sharpness)

    # without its mean: a DC step at the start would ring through the later high-pass
    pulse = stroke(frac) - np.float32(stroke(np.arange(4096, dtype=np.float32) / np.float32(4096)).mean())
    beats = dsp.upsample(1 + 0.12 * dsp.smooth_random(rng, m, 200.0)[0], n, sr)  # stroke to stroke
    near = np.clip(0.5 + 0.5 * dsp.smooth_random(rng, m, 0.3)[0], 0.05, None) ** 2
    level = airborne * near * (1 + 0.3 * np.tanh(manoeuvre))
    return (pulse * beats).astype(np.float32), level


@generator("insect_hum")
def insect_hum(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    count = 2 + int(round(4 * d))
    m = dsp.ctrl_len(n, sr)
    out = np.zeros((2, n), np.float32)
    for b in range(count):
        frng = ctx.fixed_rng("bee", b)
        buzz, level = bee(rng, n, sr, frng.uniform(180, 250), ctx.t0_s, 2.0 + 4.0 * ctx.u("brightness"))
        home = -0.7 + 1.4 * b / max(count - 1, 1)  # bees spread over the meadow, drifting about
        pan = np.clip(home + 0.4 * np.tanh(dsp.smooth_random(rng, m, 0.4)[0]), -1, 1)
        g = dsp.upsample(dsp.pan_gains(pan) * level, n, sr)
        # the far ear also hears it a fraction of a millisecond later (interaural delay)
        itd = int(round(abs(home) * 0.0006 * sr))
        far = 0 if home > 0 else 1
        out[1 - far] += buzz * g[1 - far]
        out[far, itd:] += buzz[: n - itd] * g[far, itd:]
    out = dsp.lowpass(dsp.highpass(out, 120, 2), 1500 + 1500 * ctx.u("brightness"), 2)
    meadow = dsp.spectral_noise(rng, n, dsp.band_mag(80, 3000, 1.5), shared=0.2)
    return dsp.normalise_rms(out, 1.0) + (0.45 - 0.3 * i) * meadow  # a stronger hum over the meadow
