"""Birds: songbirds, dawn chorus, seagulls, owl.

- Songbird syllables are FM whistles (sweeps up or down, arches, level whistles with
  vibrato, trills of fast sinusoidal FM, short chips) between 2 and 8 kHz, fundamental
  dominant (2nd harmonic ~-30 dB, as a syrinx whistle). Each bird has its own repertoire (a
  bank drawn from the fixed stream, so it keeps its voice for the whole track) with an intro
  note and a terminal flourish, a position and a distance; a song is intro, 2-4 motifs (a
  syllable repeated at an accelerating pace) and the terminal note, with rests between songs.
- The dawn chorus is the same machinery with many more birds, some far away, in a forest
  reverb, over a faint continuous twitter.
- A gull call is a harmonic tone whose pitch leaps up then falls ("kee-ow"), with a nasal
  formant, made harsh by jitter, a subharmonic and a 40-110 Hz flutter (roughness) with breath
  noise; calls come in series.
- An owl call is a few soft low hoots with a slight downward bend; the last one quavers.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator

SYL_MAX_S = 0.25
SYLLABLE_KINDS = ("up", "down", "arch", "whistle", "trill", "chip")
HARMONICS = (1.0, 0.03, 0.006)  # a syrinx whistle: the 2nd harmonic ~-30 dB, the 3rd ~-45 dB


def syllable(rng: np.random.Generator, sr: int, lo: float, hi: float, kind: str | None = None) -> np.ndarray:
    """One FM whistle ``(SYL_MAX_S*sr,)``: a smooth pitch contour between ``lo`` and ``hi``
    (rising, falling, arched or level with a slight vibrato), or a trill (fast sinusoidal FM,
    20-60 Hz), or a short chip; loudness follows pitch a little (a bird sings its high notes
    harder), and the spectrum is the fundamental with faint 2nd and 3rd harmonics."""
    kind = kind or str(rng.choice(SYLLABLE_KINDS))
    dur = {"chip": rng.uniform(0.02, 0.05), "trill": rng.uniform(0.12, 0.22)}.get(kind, rng.uniform(0.06, 0.18))
    length = int(dur * sr)
    u = np.linspace(0.0, 1.0, length)
    a, b = np.sort(rng.uniform(lo, hi, 2))
    if kind == "up":
        f = a + (b - a + 300) * u**1.5
    elif kind == "down":
        f = b + 300 - (b - a + 300) * u**0.7
    elif kind == "arch":
        f = a + (b - a + 300) * np.sin(np.pi * u)
    elif kind == "trill":
        f = 0.5 * (a + b) + rng.uniform(300, 1200) * np.sin(2 * np.pi * rng.uniform(20, 60) * u * dur + rng.uniform(0, 6.28))
    elif kind == "chip":
        f = b + 800 - 1600 * u
    else:  # a level whistle with a slight vibrato
        f = a * (1 + 0.015 * np.sin(2 * np.pi * rng.uniform(6, 12) * u * dur))
    cycles = np.cumsum(f) / sr + rng.random()
    rise = rng.uniform(0.1, 0.3)  # quicker onset than release, as in real song
    env = np.where(u < rise, np.sin(0.5 * np.pi * u / rise) ** 2, np.clip(np.cos(0.5 * np.pi * (u - rise) / (1 - rise)), 0.0, None) ** 1.5)
    env *= (f / f.max()) ** 0.5
    x = sum(h_amp * dsp.sine_cycles((h + 1) * cycles) for h, h_amp in enumerate(HARMONICS) if (h + 1) * f.max() < 0.45 * sr)
    out = np.zeros(int(SYL_MAX_S * sr), np.float32)
    out[:length] = (x * env)[: len(out)]
    return out


def _bird_bank(rng, sr: int, k: int) -> np.ndarray:
    """A bird's repertoire: ``k`` syllables in its own range (2-7.5 kHz); the first is its
    intro note (a chip or a whistle), the last its terminal flourish (a down-sweep or arch)."""
    lo = rng.uniform(900, 2300)  # the birds recording: as much song at 1.4-2.8 kHz as at 2.8-5.6
    hi = min(lo + rng.uniform(2000, 5500), 8500)
    kinds = [str(rng.choice(["chip", "whistle"]))] + [None] * (k - 2) + [str(rng.choice(["down", "arch"]))]
    return np.stack([syllable(rng, sr, lo, hi, kind) for kind in kinds])


def song_plan(rng: np.random.Generator, bank_size: int, vigour: float) -> list[tuple[float, int]]:
    """One song as ``[(offset_s, syllable_index)]``: an intro (1-2 of syllable 0), 2-4 motifs
    (each a middle syllable repeated 2-6 times at its own pace, speeding up a little, like a
    trill), then the terminal syllable (the last). ``vigour`` 0..1 sings more motifs."""
    plan = []
    pos = 0.0
    for _ in range(int(rng.integers(1, 3))):
        plan.append((pos, 0))
        pos += rng.uniform(0.12, 0.25)
    syl = 0
    for _ in range(int(rng.integers(2, 4 + int(vigour > 0.5)))):
        syl = int(rng.choice([s for s in range(1, bank_size - 1) if s != syl]))  # a new motif
        step = rng.uniform(0.08, 0.2)
        for _ in range(int(rng.integers(2, 7))):
            plan.append((pos, syl))
            pos += step
            step *= rng.uniform(0.9, 1.0)
        pos += rng.uniform(0.06, 0.2)
    plan.append((pos, bank_size - 1))
    return plan


def _songs(ctx: Ctx, birds: int, phrases_per_min: float, distance_spread: float, key: str = "birds") -> np.ndarray:
    """All birds' songs, stereo ``(2, n)``; each bird sings ``phrases_per_min`` (x0.6..1.4)
    songs a minute, and ``intensity`` (singing vigour) makes the songs longer."""
    rng, sr = ctx.rng, ctx.sr
    banks, onsets, idx, gains = [], [], [], []
    pans = np.linspace(-0.85, 0.85, birds) + ctx.fixed_rng(key, "pans").uniform(-0.1, 0.1, birds)
    k = 6
    for b in range(birds):
        frng = ctx.fixed_rng(key, b)
        bank = _bird_bank(frng, sr, k)
        level = 10 ** (-frng.uniform(0, 18 * distance_spread) / 20)
        rate = phrases_per_min * frng.uniform(0.6, 1.4)
        for t in dsp.jittered_times(rng, ctx.duration_s, rate, jitter=0.8):
            for off, syl in song_plan(rng, k, ctx.u("intensity")):
                onsets.append(int((t + off) * sr))
                idx.append(b * k + syl)
                gains.append(level * rng.uniform(0.7, 1.0) * dsp.pan_gains(pans[b]))
        banks.append(bank)
    if not onsets:
        return np.zeros((2, ctx.n), np.float32)
    return dsp.overlap_add_bank(ctx.n, np.array(onsets), np.concatenate(banks), np.array(idx), np.array(gains).T)


def _one_phrase(ctx: Ctx) -> np.ndarray:
    """One bird's song (cut to fit a short clip)."""
    sr = ctx.sr
    bank = _bird_bank(ctx.rng, sr, 6)
    end = max(0.05, ctx.duration_s - SYL_MAX_S - 0.05)
    plan = [(off + 0.01, syl) for off, syl in song_plan(ctx.rng, 6, ctx.u("intensity")) if off + 0.01 < end]
    plan = plan or [(0.01, 0)]
    gains = np.repeat(dsp.pan_gains(ctx.rng.uniform(-0.4, 0.4))[:, None], len(plan), axis=1)
    out = dsp.overlap_add_bank(ctx.n, np.array([int(o * sr) for o, _ in plan]), bank, np.array([s for _, s in plan]), gains)
    return dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=0.8, wet=0.25, damping_hz=7000.0)


FOREST_AIR_BAND = (60.0, 1200.0, 1.5)


def _forest_air(ctx: Ctx) -> np.ndarray:
    return dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(*FOREST_AIR_BAND), shared=0.2)


@generator("songbirds", event=_one_phrase, params=("events_per_min",))
def songbirds(ctx: Ctx):
    d = ctx.u("density")
    birds = 2 + int(round(3 * d))
    songs = _songs(ctx, birds, ctx.p.get("events_per_min") or (3 + 5 * d), 0.5)  # recording: ~1.4 onsets/s
    songs = dsp.stereo_reverb(songs, ctx.fixed_rng("room"), rt60_s=0.9, wet=0.25, damping_hz=7000.0)
    # the forest under the song (leaves, distant wind): the birds recording's octaves
    # 63 Hz-1 kHz sit 16-23 dB under its total, never silent between songs
    # and the canopy above it: leaves and far birds keep 4-11 kHz alive between songs (the
    # recording's 5-10 kHz level moves 5.8 dB (std, 23 ms frames); over silence the songs
    # alone swung 16-21 dB)
    # (one noise of the two parts' summed power: as cheap as the air alone)
    air = 0.45 - 0.2 * ctx.u("intensity")
    spec = dsp.mix_mag((air, dsp.band_mag(*FOREST_AIR_BAND)), (CANOPY, dsp.band_mag(*CANOPY_BAND)))
    return dsp.normalise_rms(songs, 1.0) + float(np.hypot(air, CANOPY)) * dsp.spectral_noise(ctx.rng, ctx.n, spec, shared=0.2)


CANOPY = 0.1  # the canopy's RMS against the songs'
CANOPY_BAND = (4000.0, 11000.0, 1.0)


@generator("dawn_chorus", event=_one_phrase, params=("events_per_min",))
def dawn_chorus(ctx: Ctx):
    d = ctx.u("density")
    birds = 8 + int(round(10 * d))
    songs = _songs(ctx, birds, ctx.p.get("events_per_min") or (8 + 8 * d), 1.0)
    far = _songs(ctx, 6, 20.0, 0.2, key="far")  # a faint continuous twitter behind
    mix = dsp.normalise_rms(songs, 1.0) + 0.3 * dsp.normalise_rms(dsp.lowpass(far, 5000, 2), 1.0)
    mix = dsp.stereo_reverb(mix, ctx.fixed_rng("forest"), rt60_s=1.5, wet=0.35, damping_hz=6000.0)
    return mix + (0.075 - 0.05 * ctx.u("intensity")) * _forest_air(ctx)


# --------------------------------------------------------------------------- gulls


def gull_call(rng, sr: int, f0: float, short: bool) -> np.ndarray:
    """One call ``(L,)``: a harmonic tone whose pitch leaps up then falls ("kee-ow"), through
    a nasal formant near 2.2 kHz, made harsh the way a gull's syrinx is: the pitch jitters
    (3 %, fast), the loud part breaks into a subharmonic (period doubling, f0/2), the level
    flutters at 40-110 Hz (roughness), and breath noise rides on the voice."""
    dur = rng.uniform(0.12, 0.18) if short else rng.uniform(0.35, 0.55)
    length = int(dur * sr)
    u = np.linspace(0, 1, length)
    peak = 0.25 if not short else 0.4
    contour = np.where(u < peak, 1.0 + 0.45 * (u / peak), 1.45 - 0.6 * ((u - peak) / (1 - peak)))
    m = dsp.ctrl_len(length, sr)
    jitter = dsp.upsample(dsp.smooth_random(rng, m, 150.0)[0], length, sr)
    f = f0 * contour * (1 + 0.03 * jitter)
    cycles = np.cumsum(f) / sr
    x = np.zeros(length, np.float32)
    for h in range(1, 9):
        fh = h * f0 * 1.2
        a = np.exp(-0.5 * ((fh - 2200) / 900) ** 2) + 0.3 / h
        x += a * dsp.sine_cycles(h * cycles)
    loud = np.sin(np.pi * np.clip((u - 0.1) / 0.6, 0, 1))  # the strained middle of the call
    x += (0.5 * loud * dsp.sine_cycles(0.5 * cycles) * dsp.sine_cycles(2.0 * cycles)).astype(np.float32)  # 1.5 f0 and 2.5 f0: the f0/2 series
    flutter_hz = rng.uniform(40, 110)
    x *= (1.0 - 0.55 * (0.5 + 0.5 * dsp.sine_cycles(flutter_hz * u * dur + rng.uniform(0, 1)))).astype(np.float32)
    breath = dsp.bandpass(rng.standard_normal((1, length)), 1200, 5000, 2)[0]
    x += 0.35 * breath * np.abs(x).max() / (np.abs(breath).max() + 1e-9) * loud
    env = np.minimum(1, u / 0.08) * np.minimum(1, (1 - u) / 0.25)
    return (x * env).astype(np.float32)


def _gull_series(rng, sr: int, f0: float, excitement: float) -> np.ndarray:
    """A series of calls; ``excitement`` (0..1, the layer's intensity) favours the short,
    quick "kek" calls of an agitated gull over the long "kee-ow"."""
    short = rng.random() < 0.2 + 0.4 * excitement
    k = int(rng.integers(2, 6 if short else 4))
    gap = rng.uniform(0.2, 0.3) if short else rng.uniform(0.45, 0.7)
    out = np.zeros(int((k * gap + 0.6) * sr) + 1, np.float32)
    for j in range(k):
        call = gull_call(rng, sr, f0 * rng.uniform(0.97, 1.03), short) * (1 - 0.12 * j)
        s = int(j * gap * sr)
        out[s : s + len(call)] += call
    return out


def seagulls_event(ctx: Ctx):
    series = _gull_series(ctx.rng, ctx.sr, ctx.rng.uniform(800, 1100), ctx.u("intensity"))
    out = np.zeros((2, ctx.n), np.float32)
    s = int(0.01 * ctx.sr)
    fit = min(len(series), ctx.n - s)
    out[:, s : s + fit] = dsp.pan_gains(ctx.rng.uniform(-0.5, 0.5))[:, None] * series[:fit]
    return dsp.stereo_reverb(out, ctx.fixed_rng("harbour"), rt60_s=min(1.0, 0.3 * ctx.duration_s), wet=0.3, damping_hz=6000.0)


@generator("seagulls", event=seagulls_event, events_per_min=6.0, params=("events_per_min",))
def seagulls(ctx: Ctx):
    rng, sr = ctx.rng, ctx.sr
    gulls = [(ctx.fixed_rng("gull", g).uniform(750, 1150), ctx.fixed_rng("gull", g, "pan").uniform(-0.9, 0.9)) for g in range(4)]
    out = np.zeros((2, ctx.n), np.float32)
    for t in dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.6):
        f0, pan = gulls[int(rng.integers(len(gulls)))]
        series = _gull_series(rng, sr, f0, ctx.u("intensity")) * rng.uniform(0.4, 1.0)
        s = int(t * sr)
        fit = min(len(series), ctx.n - s)
        if fit > 0:
            out[:, s : s + fit] += dsp.pan_gains(pan)[:, None] * series[:fit]
    out = dsp.stereo_reverb(out, ctx.fixed_rng("harbour"), rt60_s=1.0, wet=0.3, damping_hz=6000.0)
    sea = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(80, 3000, 1.5), shared=0.2)
    return out + (0.03 - 0.02 * ctx.u("intensity")) * sea


# --------------------------------------------------------------------------- owl


def _owl_call(rng, sr: int, f0: float, vigour: float, bright: float) -> np.ndarray:
    """A long hoot, then 1-2 more at ``vigour`` 0 (up to 4 at 1): short ones, the last of
    them long and quavering (a call may also end early on a quaver); ``bright`` adds overtone."""
    hoots = [(0.0, rng.uniform(0.45, 0.7), False)]
    pos = hoots[0][1] + rng.uniform(0.25, 0.45)
    count = int(rng.integers(1, 3 + int(2 * vigour)))
    for j in range(count):
        last = j == count - 1 or rng.random() < 0.3
        d = rng.uniform(0.5, 0.8) if last else rng.uniform(0.18, 0.3)
        hoots.append((pos, d, last))
        pos += d + rng.uniform(0.12, 0.25)
        if last:
            break
    out = np.zeros(int((pos + 0.2) * sr), np.float32)
    for start, dur, quaver in hoots:
        length = int(dur * sr)
        u = np.linspace(0, 1, length)
        f = f0 * (1.02 - 0.06 * u)
        phase = 2 * np.pi * np.cumsum(f) / sr
        env = np.minimum(1, u / 0.15) * np.minimum(1, (1 - u) / 0.3) ** 1.5
        if quaver:
            env *= 0.75 + 0.25 * np.cos(2 * np.pi * 9.0 * u * dur)
        s = int(start * sr)
        out[s : s + length] += ((np.sin(phase) + (0.02 + 0.12 * bright) * np.sin(2 * phase)) * env).astype(np.float32)
    return out


def owl_event(ctx: Ctx):
    call = _owl_call(ctx.rng, ctx.sr, ctx.rng.uniform(330, 450), ctx.u("intensity"), ctx.u("brightness"))
    out = np.zeros((2, ctx.n), np.float32)
    s = int(0.01 * ctx.sr)
    fit = max(0, min(len(call), ctx.n - s))
    out[:, s : s + fit] = dsp.pan_gains(ctx.rng.uniform(-0.4, 0.4))[:, None] * call[:fit]
    return dsp.stereo_reverb(out, ctx.fixed_rng("woods"), rt60_s=min(1.8, 0.4 * ctx.duration_s), wet=0.4, damping_hz=3000.0)


@generator("owl", event=owl_event, events_per_min=3.0, params=("events_per_min",))
def owl(ctx: Ctx):
    rng, sr = ctx.rng, ctx.sr
    owls = [(ctx.fixed_rng("owl", k).uniform(330, 450), ctx.fixed_rng("owl", k, "pan").uniform(-0.7, 0.7)) for k in range(2)]
    out = np.zeros((2, ctx.n), np.float32)
    for t in dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.4):
        f0, pan = owls[int(rng.random() < 0.3)]
        call = _owl_call(rng, sr, f0, ctx.u("intensity"), ctx.u("brightness")) * rng.uniform(0.6, 1.0)
        s = int(t * sr)
        fit = min(len(call), ctx.n - s)
        if fit > 0:
            out[:, s : s + fit] += dsp.pan_gains(pan)[:, None] * call[:fit]
    out = dsp.stereo_reverb(out, ctx.fixed_rng("woods"), rt60_s=1.8, wet=0.4, damping_hz=3000.0)
    night = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(40, 900, 1.8), shared=0.2)
    return out + (0.015 - 0.01 * ctx.u("intensity")) * night
