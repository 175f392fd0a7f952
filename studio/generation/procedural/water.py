"""Water: rain (light, heavy, on a roof), surf, lake lapping, stream, river, waterfall, cave
drips, rowing oars.

Recipes (after Farnell, *Designing Sound*, and van den Doel's liquid-sound work):
- rain = a Poisson field of drop impacts (short band-passed noise bursts, a third with a
  bubble chirp of its own pitch) at random pans over a pink-ish wash; heavier rain = more
  drops, more wash, a low body;
- roof rain = every drop a small modal impact (four of a panel's 14 modes, each detuned per
  drop and damped within milliseconds: no fixed ring) and a broadband splash, over a low
  drumming wash and the hiss of the far drops;
- surf = wave envelopes (slow rise, crash, long wash) on a low roar, a mid crash band and a
  fizzing foam band, each wave breaking at its own place in the stereo field;
- lapping = overlapping smooth laps (rise, drain back) swelling low slosh noise, with
  bubbles trickling as each lap drains: no gates, no level steps;
- stream, river, waterfall = Minnaert bubble populations (:mod:`.bubbles`) of their own
  sizes over turbulent bases falling at -3 to -4.5 dB/octave, surging together;
- cave drips = sparse rising "plinks" in a long stereo reverb over faint cave air;
- rowing = strokes of splash, swirl and drips (bubble fields) with oarlock knocks.
"""

from __future__ import annotations

import numpy as np
from studio.generation.procedural import bubbles, dsp
from studio.generation.procedural.base import Ctx, generator


DROP_S = 0.02  # length of one drop's impact (and its bubble)
BUBBLE_SHARE = 0.35  # about a third of drops ring a bubble
BUBBLE_HZ = (1800.0, 4500.0)  # their pitch range (log-uniform, drawn per drop)


def _drops(ctx: Ctx, rate_hz, bank: np.ndarray, spread: float = 0.9, sigma: float = 0.6) -> np.ndarray:
    """Drop impacts at ``rate_hz``: a noise burst from ``bank`` each, and for
    :data:`BUBBLE_SHARE` of them a bubble chirp of its own pitch. The bubbles are made per drop,
    not drawn from a bank: a handful of fixed bubble pitches repeated hundreds of times a
    minute add up to steady spectral lines (the 2.2 kHz whistle of the old recipe)."""
    rng = ctx.rng
    onsets = dsp.poisson_times(rng, ctx.n, rate_hz, ctx.sr)
    amps = rng.lognormal(0.0, sigma, len(onsets))
    idx = rng.integers(0, len(bank), len(onsets))
    gains = dsp.pan_gains(rng.uniform(-spread, spread, len(onsets))) * amps
    out = dsp.overlap_add_bank(ctx.n, onsets, bank, idx, gains)
    ring = np.flatnonzero(rng.random(len(onsets)) < BUBBLE_SHARE)
    for part in np.array_split(ring, max(1, -(-len(ring) // 4096))):  # bounded memory
        if len(part):
            chirps = dsp.chirp_bank(rng, len(part), bank.shape[1], *BUBBLE_HZ, (0.1, 0.5), (0.002, 0.006), ctx.sr)
            out += dsp.overlap_add_bank(ctx.n, onsets[part], chirps, np.arange(len(part)), 0.6 * gains[:, part])
    return out


def _rain_bank(rng, k: int, sr: int, bright: float) -> np.ndarray:
    """``k`` drop impacts: short band-passed noise bursts (broadband, so reusing them adds no line)."""
    length = int(DROP_S * sr)
    return dsp.burst_bank(rng, k, length, (1200 + 1500 * bright, 3000 + 2000 * bright), (7000, 14000), (0.0015, 0.005), sr)


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


ROOF_MODES = 14  # modes of one roof panel (a different panel on each side)
# Roof rain re-voiced against the rain recording (docs/procedural.md, "Roof rain against the
# rain recording"): its octave shares are flat within ~4 dB from 63 Hz to 16 kHz (8 kHz the
# loudest), where the panel-only drops left 8-16 kHz 9 dB short and bumped 1-4 kHz.
ROOF_PANEL_HZ = ((400.0, 400.0), (2000.0, 3000.0))  # panel modes lo, hi: base + slope * brightness
SPRAY_HZ = ((3000.0, 5000.0), (14000.0, 20000.0), (0.002, 0.006))  # splash bursts: lo, hi, decay
SPRAY_GAIN = 1.5  # each drop's splash (RMS) against its panel tap
ROOF_DRUM = ((2.0, (30.0, 600.0, 1.0)), (0.7, (300.0, 18000.0, 0.8)))  # low drumming, far-drop hiss
ROOF_DETUNE = 0.07  # per-drop detuning of each mode (relative std): where and how hard it lands


def roof_drop_bank(rng: np.random.Generator, k: int, lo_hz: float, hi_hz: float, sr: int = dsp.SR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``k`` drop impacts on a panel ``(k, L)``, their mode frequencies ``(k, 4)`` and the
    panel modes each drop detuned ``(k, 4)`` (drawn from the panel's :data:`ROOF_MODES`).

    The panel has :data:`ROOF_MODES` modes spread log-uniformly over ``lo_hz..hi_hz``; each
    drop excites four of them (a drop near an edge or a rib excites different ones), each
    detuned by ~7 % (the local stiffness under the drop) and damped within 3-15 ms, plus a
    sub-millisecond impact tick. Many short, detuned, low-Q rings average to a broad hump,
    never a fixed high-Q ring."""
    panel = np.exp(rng.uniform(np.log(lo_hz), np.log(hi_hz), ROOF_MODES))
    length = int(0.03 * sr)
    t = np.arange(length) / sr
    freqs = np.empty((k, 4))
    base = np.empty((k, 4))
    out = np.empty((k, length), np.float32)
    for j in range(k):
        base[j] = rng.choice(panel, 4, replace=False)
        f = freqs[j] = base[j] * (1.0 + ROOF_DETUNE * rng.standard_normal(4))
        ring = dsp.modal(length, f, rng.uniform(0.3, 1.0, 4), rng.uniform(0.003, 0.015, 4), rng.uniform(0, 2 * np.pi, 4))
        tick = rng.standard_normal(length) * np.exp(-t / 0.0004)
        out[j] = ring + 0.5 * tick
        out[j] /= np.max(np.abs(out[j])) + 1e-9
    return out, freqs, base


@generator("rain_on_roof", impulsive=True)
def rain_on_roof(ctx: Ctx):
    i, d, b = ctx.u("intensity"), ctx.u("density"), ctx.u("brightness")
    n, sr = ctx.n, ctx.sr
    rate = (120 + 300 * d) * (0.6 + 0.8 * i)
    (lo0, lo1), (hi0, hi1) = ROOF_PANEL_HZ
    taps = np.zeros((2, n), np.float32)
    # each side hears its own panel (shingle -> tin as brightness rises), drops land everywhere;
    # every drop also splashes: a broadband spray burst (3-20 kHz, 2-6 ms) from a bank of 32
    # (broadband, so reusing them adds no line), added into the drop's waveform so one
    # overlap-add places both
    for c in range(2):
        bank, _, _ = roof_drop_bank(ctx.fixed_rng("roof", c), 32, lo0 + lo1 * b, hi0 + hi1 * b, sr)
        bursts = dsp.burst_bank(ctx.fixed_rng("spray", c), 32, int(0.03 * sr), *SPRAY_HZ, sr)
        scale = SPRAY_GAIN * np.sqrt(np.mean(np.square(bank, dtype=np.float64)) / np.mean(np.square(bursts, dtype=np.float64)))
        bank[:, : bursts.shape[1]] += np.float32(scale) * bursts[ctx.fixed_rng("spray-pick", c).permutation(32)]
        onsets = dsp.poisson_times(ctx.rng, n, rate / 2, sr)
        g = ctx.rng.lognormal(0.0, 0.5, len(onsets))[None, :]
        taps[c] = dsp.overlap_add_bank(n, onsets, bank, ctx.rng.integers(0, len(bank), len(onsets)), g)[0]
    # the nearer drops are heard on both sides a little (one roof above both ears)
    taps += 0.3 * taps[::-1]
    taps = dsp.normalise_rms(taps, 1.0) * np.float32(np.sqrt(1.0 + SPRAY_GAIN**2))
    # the drumming: countless drops on the whole roof and its cavity, a low wash that swells,
    # and the hiss of the far drops over the whole band
    m = dsp.ctrl_len(n, sr)
    swell = dsp.upsample(np.exp(0.25 * dsp.smooth_random(ctx.rng, m, 0.3, 2)), n, sr)
    spec = dsp.mix_mag(*((g, dsp.band_mag(*band)) for g, band in ROOF_DRUM))
    drum = dsp.spectral_noise(ctx.rng, n, spec, shared=0.4) * swell
    return taps + (0.8 + 0.4 * i) * drum


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
    # the roar of the surf is a low-mid rush (the beach recording peaks at 0.5-1 kHz and is
    # 15-20 dB down at 63-125 Hz, re-voiced over 8 seeds: the old 90 Hz edge left 125 Hz 8 dB
    # too loud): no sub-bass, little low bass
    roar = _wash(ctx, 200, 1100, 1.0, shared=0.3)
    # the crash and the fizzing foam after it: one noise, its level flickering with bubbles
    crash = dsp.spectral_noise(rng, n, dsp.mix_mag((0.5 + 0.4 * i, dsp.band_mag(300, 9000, 1.0)), (0.35, dsp.band_mag(2000, 14000, 0.3))), shared=0.1)
    fizz = np.float32(0.6) + np.float32(0.4) * dsp.upsample(np.abs(dsp.smooth_random(rng, m, 40.0, 2)), n, sr)
    lo = dsp.upsample(env_lo + 0.08, n, sr)
    hi = dsp.upsample(env_hi + 0.06, n, sr)  # some foam fizz is always there
    return (0.8 - 0.4 * i) * roar * lo + crash * hi * fizz  # bigger waves: more crash over the roar


def _lap_envelope(rng: np.random.Generator, m: int, duration_s: float, per_min: float, start_s: float = -3.0) -> np.ndarray:
    """Control-rate ``(2, m)`` swell of laps along the shore: each lap a smooth rise (the
    wavelet running up, 0.3-0.7 s) and a slower fall (draining back, 0.8-1.8 s), overlapping
    the next, at its own place; never a gate, so the level never steps."""
    tc = dsp.ctrl_time(m)
    env = np.zeros((2, m))
    for t0 in dsp.jittered_times(rng, duration_s + 6.0, per_min, jitter=0.8, start_s=start_s):
        rise, fall = rng.uniform(0.3, 0.7), rng.uniform(0.8, 1.8)
        t = tc - t0
        lap = np.where(t < 0, 0.0, np.where(t < rise, np.sin(0.5 * np.pi * t / max(rise, 1e-3)) ** 2, np.exp(-(np.clip(t - rise, 0.0, None) / fall) ** 1.5)))
        env += rng.lognormal(0.0, 0.35) * lap * dsp.pan_gains(rng.uniform(-0.7, 0.7))[:, None]
    return env


@generator("lake_lapping")
def lake_lapping(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(n, sr)
    per_min = (20 + 30 * d) * (0.7 + 0.6 * i)
    env = _lap_envelope(rng, m, ctx.duration_s, per_min)
    # slosh: low water noise swelling with each lap; the draining laps trickle with bubbles
    # Voiced against the waves and boat recordings (docs/procedural.md): shore water is a
    # mid-band wash, 10-20 dB down at 63-125 Hz, with a fizz of breaking film and droplets
    # up to 8 kHz as each lap meets the shore (the old slosh was 90 % below 1 kHz).
    slosh = dsp.spectral_noise(rng, n, dsp.band_mag(100, 2500, 1.1), shared=0.2)
    slosh *= dsp.upsample(env + 0.15, n, sr)
    fizz = dsp.spectral_noise(rng, n, dsp.band_mag(1500, 9000, 1.0), shared=0.2) * dsp.upsample(env**2 + 0.05, n, sr)
    drain = np.clip(-np.gradient(env.mean(axis=0)) * dsp.CTRL_HZ, 0.0, None)  # falling water
    bub = bubbles.bank(ctx.fixed_rng("bubbles"), bubbles.radii(ctx.fixed_rng("radii"), 40, 1.5, 6.0, 1.8), sr)  # >= 540 Hz: under the slosh band no lone big bubble pops out
    trickle = bubbles.field(rng, n, 4.0 + 120.0 * drain / (drain.max() + 1e-9), bub, 40, spread=0.7)
    still = _wash(ctx, 90, 900, 1.5, shared=0.2)
    still_gain = 0.25 - 0.18 * i  # stronger laps stand further out of the still water
    slaps = _slaps(ctx, env.mean(axis=0), i)
    return dsp.normalise_rms(slosh, 1.0) + (0.25 + 0.2 * i) * dsp.normalise_rms(trickle, 1.0) + 0.35 * dsp.normalise_rms(fizz, 1.0) + still_gain * still + SLAP_GAIN * slaps


SLAP_PER_S = 2.5  # slaps a second at intensity 0.5 (the boat recording: 2.4 onsets/s)
SLAP_GAIN = 0.5  # their RMS against the slosh's
SLAP_BAND_HZ = ((120.0, 300.0), (3000.0, 8000.0), (0.006, 0.03))  # lo, hi, decay


def _slaps(ctx: Ctx, lap: np.ndarray, intensity: float) -> np.ndarray:
    """Water slapping the stones and a hull as the laps come in: short broadband splashes
    (a bank of 32: broadband, so reuse adds no line), their rate following the laps so they
    cluster on each lap's crest. Unit RMS ``(2, ctx.n)``."""
    rng, n, sr = ctx.rng, ctx.n, ctx.sr
    rate = SLAP_PER_S * (0.6 + 0.8 * intensity) * lap / (lap.mean() + 1e-9)
    onsets = dsp.poisson_times(rng, n, rate, sr)
    bank = dsp.burst_bank(ctx.fixed_rng("slaps"), 32, int(0.08 * sr), *SLAP_BAND_HZ, sr)
    gains = dsp.pan_gains(rng.uniform(-0.6, 0.6, len(onsets))) * rng.lognormal(0.0, 0.6, len(onsets))
    return dsp.normalise_rms(dsp.overlap_add_bank(n, onsets, bank, rng.integers(0, len(bank), len(onsets)), gains), 1.0)


FLOW_BUBBLES = 1024  # distinct bubbles in a stream's, river's or waterfall's population


def _flow(ctx: Ctx, *, r_mm: tuple[float, float], gamma: float, rate_hz: float, base_exponent: float, base_lo: float, base_hi: float, bubble_gain: float, surge_db: float, surge_hz: float, body: float = 0.0) -> np.ndarray:
    """Moving water: a Minnaert bubble population (radii ``r_mm``, power law ``gamma``,
    ``rate_hz`` births a second, babbling with the surges) over a turbulent base falling at
    ``3 * base_exponent`` dB/octave, both surging together by ``surge_db``."""
    n, sr = ctx.n, ctx.sr
    m = dsp.ctrl_len(n, sr)
    surge = dsp.smooth_random(ctx.rng, m, surge_hz, 2)
    level = 10 ** (surge_db * surge / 20)
    parts = [(1.0, dsp.band_mag(base_lo, base_hi, base_exponent))]
    if body:
        parts.append((body, dsp.band_mag(25, 200, 2.0)))
    base = dsp.spectral_noise(ctx.rng, n, dsp.mix_mag(*parts), shared=0.3) * dsp.upsample(level, n, sr)
    rate = rate_hz * level.mean(axis=0) ** 2  # more bubbles in a surge: the babble
    # a big population: a bank of only ~100 radii repeats its pitches into spectral lines
    k = FLOW_BUBBLES
    r = bubbles.radii(ctx.fixed_rng("radii"), k, *r_mm, gamma)
    banks = bubbles.bank(ctx.fixed_rng("bubbles"), r, sr, classes=8)
    bub = dsp.normalise_rms(bubbles.field(ctx.rng, n, rate, banks, k), 1.0)
    return base + (bubble_gain / np.sqrt(1.0 + body**2)) * bub  # relative to the rush, not its body


@generator("stream")
def stream(ctx: Ctx):
    i, d, b = ctx.u("intensity"), ctx.u("density"), ctx.u("brightness")
    # a brook: small bubbles (1-8 mm, 0.4-3.3 kHz) babbling over a light -3.9 dB/oct wash;
    # brightness shifts the population to smaller bubbles
    return _flow(ctx, r_mm=(1.0 - 0.4 * b, 8.0 - 3.0 * b), gamma=2.0, rate_hz=(150 + 250 * d) * (0.7 + 0.6 * i), base_exponent=1.3, base_lo=150, base_hi=9000, bubble_gain=(0.9 - 0.3 * i) * (0.6 + 0.8 * d), surge_db=3.0, surge_hz=1.5)


@generator("river")
def river(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    # a river: larger bubbles (1-12 mm, 0.27-3.3 kHz) in a deep -4.5 dB/oct rush with a body
    return _flow(ctx, r_mm=(1.0, 12.0), gamma=2.3, rate_hz=200 + 300 * d, base_exponent=1.5, base_lo=40, base_hi=9000, bubble_gain=0.35 + 0.5 * d, surge_db=0.5 + 2.5 * i, surge_hz=0.25, body=0.3 * 4.0 ** (2 * i - 1))


@generator("waterfall")
def waterfall(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    # a fall: a dense population of all sizes (0.6-10 mm) churned over a roar (-4.8 dB/oct for
    # a gentle fall, whiter -3.6 dB/oct for a powerful one) with a low thunder; density breaks the water up (more, smaller bubbles, faster surges)
    return _flow(ctx, r_mm=(0.6, 10.0 - 4.0 * d), gamma=2.4, rate_hz=350 + 500 * d, base_exponent=round(1.6 - 0.4 * i, 3), base_lo=30, base_hi=14000, bubble_gain=0.3, surge_db=0.4 + 1.6 * i, surge_hz=0.25 + 0.5 * d, body=0.5 * 4.0 ** (2 * i - 1))


def rowing_event(ctx: Ctx):
    """One oar stroke: catch, drive and release, with the oarlock's knocks."""
    out = _strokes(ctx, np.array([0.02]))
    return dsp.stereo_reverb(out, ctx.fixed_rng("lake"), rt60_s=min(1.0, 0.3 * ctx.duration_s), wet=0.3, damping_hz=4000.0)


OAR_BUBBLES = 256  # distinct bubbles per population (32 recurred into lines at 0.5-0.8 kHz)


def _strokes(ctx: Ctx, times: np.ndarray) -> np.ndarray:
    """Oar strokes at ``times`` (s), both oars together: the blade's catch (a splash of
    small bubbles and an entry plop), the drive (a gurgling swirl of larger bubbles behind
    the blade), the release (drips falling back) and a wooden knock of the oarlock at the
    catch and at the release."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i = ctx.u("intensity")
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m)
    splash = np.zeros(m)
    swirl = np.zeros(m)
    drips = np.zeros(m)
    knocks, knock_gain = [], []
    for t0 in times:
        drive = rng.uniform(0.7, 1.0)
        t = tc - t0
        splash += np.where((t >= 0) & (t < 0.5), np.exp(-np.clip(t, 0.0, None) / 0.06), 0.0) * (0.6 + 0.8 * i)
        swirl += np.clip(np.sin(np.pi * t / drive), 0, None) * (t < drive)
        rel = t - drive
        drips += np.where((rel >= 0) & (rel < 2.5), np.exp(-np.clip(rel, 0.0, None) / 0.5), 0.0)
        knocks += [t0 - 0.03, t0 + drive]
        knock_gain += [1.0, 0.6]
    k = OAR_BUBBLES
    small = bubbles.radii(ctx.fixed_rng("small"), k, 0.5, 3.0, 2.0)
    large = bubbles.radii(ctx.fixed_rng("large"), k, 2.0, 12.0, 1.8)
    out = bubbles.field(rng, n, 2000.0 * splash, bubbles.bank(ctx.fixed_rng("sb"), small, sr), k, spread=0.5)
    out += 0.8 * bubbles.field(rng, n, 150.0 * swirl, bubbles.bank(ctx.fixed_rng("lb"), large, sr), k, spread=0.6)
    out += 0.6 * bubbles.field(rng, n, 25.0 * drips, bubbles.bank(ctx.fixed_rng("db"), small, sr), k, spread=0.6)
    # the blade entering: a short burst of spray noise
    spray = dsp.spectral_noise(rng, n, dsp.band_mag(600, 9000, 0.5), shared=0.2) * dsp.upsample(splash, n, sr) ** 2
    out += 0.4 * spray
    wood = ctx.fixed_rng("oarlock")
    knock = dsp.modal(int(0.12 * sr), wood.uniform(180, 320) * np.array([1.0, 2.3, 3.9, 5.1]), np.array([1.0, 0.5, 0.3, 0.15]), np.array([0.06, 0.03, 0.02, 0.01]), wood.uniform(0, 6.28, 4))
    on = (np.array(knocks) * sr).astype(np.int64)
    gains = dsp.pan_gains(np.tile([-0.5, 0.5], len(on) // 2 + 1)[: len(on)]) * np.array(knock_gain) * rng.uniform(0.5, 0.9, len(on))
    return out + 0.8 * dsp.overlap_add_bank(n, on, knock[None, :], np.zeros(len(on), np.int64), gains)


@generator("rowing_oars", event=rowing_event, events_per_min=24.0, params=("events_per_min",))
def rowing_oars(ctx: Ctx):
    """A rowing boat: strokes at ``events_per_min`` (24: an easy pace) over lapping water
    against the hull."""
    times = dsp.jittered_times(ctx.rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.08)
    out = dsp.normalise_rms(_strokes(ctx, times), 1.0)
    out = dsp.stereo_reverb(out, ctx.fixed_rng("lake"), rt60_s=1.0, wet=0.3, damping_hz=4000.0)
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    hull = dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(60, 1200, 1.5), shared=0.2)
    hull *= dsp.upsample(_lap_envelope(ctx.rng, m, ctx.duration_s, 30.0) + 0.2, ctx.n, ctx.sr)
    return out + (0.2 - 0.1 * ctx.u("intensity")) * dsp.normalise_rms(hull, 1.0)


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
