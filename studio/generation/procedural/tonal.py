"""Meditative and tonal layers: drone pad, singing bowl, wind chimes, kalimba, binaural beats.

- drone_pad: a chord built from ``key``/``mode`` (root, fifth, octave, the mode's third and a
  ninth), every partial a narrow band of random-phase lines synthesised in one inverse FFT, so
  the pad shimmers slowly, costs the same for any number of partials and is exactly periodic
  (seamless when tiled). The root's fundamental is the strongest line.
- singing_bowl: modal synthesis with the inharmonic ratios of hand-hammered bowls; each mode
  is a split doublet whose members sit at different pans, so the beating differs per ear.
- wind_chimes: free-free bar modes tuned to a pentatonic scale of the key, struck in gusts.
- kalimba: plucked tine modes on a slow melodic random walk through the mode's scale.
- binaural_beats: a pure carrier per ear, the right ear ``beat_hz`` above the left.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator
from studio.generation.procedural.params import BANDS, MODES, root_hz, scale_hz

DRONE_PERIOD_S = 60.0


# --------------------------------------------------------------------------- drone


def _line_spectrum(rng, m: int, partials, sr: int, shared: float = 0.4) -> np.ndarray:
    """Periodic (period ``m``) stereo signal from ``(freq_hz, amp, bandwidth_hz)`` partials.
    Each partial's power is spread over a Gaussian of bins with unit-modulus random phases."""
    k = m // 2 + 1
    df = sr / m
    spec_mag = np.zeros(k)
    for f, a, bw in partials:
        sigma = max(bw, 0.5 * df)
        lo = max(1, int((f - 4 * sigma) / df))
        hi = min(k, int((f + 4 * sigma) / df) + 2)
        if lo >= hi:
            continue
        g = np.exp(-0.5 * ((np.arange(lo, hi) * df - f) / sigma) ** 2)
        if g.sum() <= 0:
            continue
        spec_mag[lo:hi] += a * g / np.sqrt(np.sum(g**2))
    live = np.flatnonzero(spec_mag)  # only the bins that carry partials need phases
    mag = spec_mag[live].astype(np.float32)
    common = rng.random(len(live), dtype=np.float32)
    out = np.empty((2, m), np.float32)
    for c in range(2):
        own = rng.random(len(live), dtype=np.float32)
        # blend phases: the shared part keeps a centre image, the own part decorrelates
        ph = np.where(rng.random(len(live)) < shared, common, own) * np.float32(2 * np.pi)
        spec = np.zeros(k, np.complex64)
        spec[live] = mag * (np.cos(ph) + 1j * np.sin(ph))
        out[c] = sfft.irfft(spec, n=m, workers=1)
    return out


def _chord(p, brightness: float, density: float, intensity: float) -> list[tuple[float, float, float]]:
    """``(freq_hz, amp, bandwidth_hz)`` partials of the pad's chord. ``density`` sets how
    full the chord is (root and fifth at 0; all six voices from 0.5; two high voices fade in
    above), ``intensity`` how fast the partials shimmer; the root is always the strongest."""
    root = root_hz(p, 2)
    steps = MODES[p["mode"]]
    third = steps[2] if len(steps) >= 7 else steps[1]
    ninth = 12 + steps[1]
    voices = [(0, 1.0), (7, 0.5), (12, 0.45), (12 + third, 0.3), (7 + 12, 0.25), (ninth + 12, 0.12)]
    voices = voices[: 2 + int(round(8 * min(density, 0.5)))]
    if density > 0.5:
        lift = 2.0 * density - 1.0
        voices += [(24, 0.15 * lift), (24 + third, 0.1 * lift)]
    rolloff = 2.2 - 1.4 * brightness  # partial k has amplitude k**-rolloff
    shimmer = 0.5 + intensity
    partials = []
    for semis, va in voices:
        f0 = root * 2 ** (semis / 12)
        for h in range(1, 9):
            f = f0 * h
            if f > 12000:
                break
            bw = (0.06 + 0.004 * f) * shimmer  # higher partials shimmer faster
            partials.append((f, va * h**-rolloff, bw))
    return partials


@generator("drone_pad", coherent=True, params=("key", "mode", "fundamental_hz"))
def drone_pad(ctx: Ctx):
    # one period, tiled: the loop itself when looping (exact seam), else up to a minute
    period = ctx.loop_n if ctx.loop_n and ctx.loop_n <= int(120 * ctx.sr) else min(ctx.total_n, int(DRONE_PERIOD_S * ctx.sr))
    period = max(period, int(0.5 * ctx.sr))
    chord = _chord(ctx.p, ctx.u("brightness"), ctx.u("density"), ctx.u("intensity"))
    loop = _line_spectrum(ctx.fixed_rng("drone"), period, chord, ctx.sr)
    # slow breathing of the whole pad (periodic with the loop, so tiling stays seamless)
    cycles = max(1, round(period / ctx.sr / 20.0))
    depth = np.float32(0.05 + 0.2 * ctx.u("intensity"))
    loop *= np.float32(1.0) + depth * dsp.sine_cycles(np.arange(period) * (cycles / period))
    return loop[:, dsp.periodic_index(ctx.t0_s, ctx.n, period, ctx.sr)]


# --------------------------------------------------------------------------- bowls

BOWL_RATIOS = np.array([1.0, 2.71, 5.08, 7.95, 11.3])
BOWL_AMPS = np.array([1.0, 0.55, 0.3, 0.14, 0.07])


def _bowl_strike(rng, length: int, f0: float, t60_s: float, brightness: float, intensity: float, sr: int) -> np.ndarray:
    """One strike, stereo ``(2, length)``: split-mode doublets panned apart plus a soft mallet
    knock. A harder strike (``intensity``) excites the upper modes more and knocks louder; the
    felt mallet's 2 ms contact is the attack, so the onset is not a click."""
    freqs, amps, t60s, phases, sides = [], [], [], [], []
    for r, a in zip(BOWL_RATIOS, BOWL_AMPS):
        split = rng.uniform(0.4, 1.8) * (r**0.5)
        a = a * (0.6 + 0.8 * brightness) ** (r > 3) * (0.5 + intensity) ** (r > 2)
        for s in (-0.5, 0.5):
            freqs.append(f0 * r + s * split)
            amps.append(a)
            t60s.append(t60_s / r**0.75)
            phases.append(rng.uniform(0, 2 * np.pi))
            # the doublet members lean to opposite ears, so each ear hears different beating
            sides.append([0.75 + 0.25 * np.sign(s), 0.75 - 0.25 * np.sign(s)])
    out = dsp.modal(length, np.array(freqs), np.array(amps), np.array(t60s), np.array(phases), sr, stereo_amps=np.array(sides).T)
    knock_len = min(length, int(0.03 * sr))
    knock = rng.standard_normal(knock_len) * np.exp(-np.arange(knock_len) / (0.004 * sr))
    out[:, :knock_len] += (0.05 + 0.2 * intensity) * dsp.lowpass(knock[None, :], 2500.0, 2)[0]
    contact = min(length, int(0.002 * sr))
    out[:, :contact] *= (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, contact))).astype(np.float32)
    return out


def _bowl_pitches(ctx: Ctx) -> list[float]:
    root = root_hz(ctx.p, 3)
    return scale_hz(root, ctx.p["mode"], [0, 4, 7]) if ctx.p.get("fundamental_hz") is None else [root]


def singing_bowl_event(ctx: Ctx):
    rng = ctx.rng
    f0 = _bowl_pitches(ctx)[0]
    t60 = min(16.0, 0.85 * ctx.duration_s)
    start = int(0.005 * ctx.sr)
    out = np.zeros((2, ctx.n), np.float32)
    out[:, start:] = _bowl_strike(rng, ctx.n - start, f0, t60, ctx.u("brightness"), ctx.u("intensity"), ctx.sr)
    return out


@generator("singing_bowl", event=singing_bowl_event, events_per_min=2.0, params=("key", "mode", "fundamental_hz", "events_per_min"))
def singing_bowl(ctx: Ctx):
    rng = ctx.rng
    pitches = _bowl_pitches(ctx)
    times = dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.3)
    out = np.zeros((2, ctx.n), np.float32)
    for t in times:
        s = int(t * ctx.sr)
        length = min(ctx.n - s, int(20 * ctx.sr))
        if length <= 0:
            continue
        f0 = pitches[int(rng.integers(len(pitches)))]
        gain = 10 ** (rng.uniform(-4, 0) / 20)
        out[:, s : s + length] += gain * _bowl_strike(rng, length, f0, rng.uniform(11, 17), ctx.u("brightness"), ctx.u("intensity"), ctx.sr)
    # a faint room so the bed is never dead silent between strikes
    return dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=2.5, wet=0.3, damping_hz=4000.0)


# --------------------------------------------------------------------------- chimes

CHIME_RATIOS = np.array([1.0, 2.756, 5.404])
CHIME_AMPS = np.array([1.0, 0.45, 0.2])


def _chime_notes(ctx: Ctx) -> tuple[list[float], np.ndarray]:
    root = root_hz(ctx.p, 5)
    notes = scale_hz(root, "pentatonic" if len(MODES[ctx.p["mode"]]) >= 7 else ctx.p["mode"], range(6))
    pans = np.linspace(-0.8, 0.8, len(notes))
    ctx.fixed_rng("chime-pans").shuffle(pans)
    return notes, pans


def _chime_events(ctx: Ctx, onsets: np.ndarray, rng) -> np.ndarray:
    notes, pans = _chime_notes(ctx)
    length = int(4.5 * ctx.sr)
    idx = rng.integers(0, len(notes), len(onsets))
    bright = ctx.u("brightness")
    bank = np.stack([
        dsp.modal(length, notes[i] * CHIME_RATIOS, CHIME_AMPS * np.array([1, 0.5 + bright, 0.3 + 1.5 * bright]), np.array([4.0, 2.0, 0.9]))
        for i in range(len(notes))
    ])
    # the wind's strength (intensity) sets how hard the softest strikes are
    gains = dsp.pan_gains(pans[idx]) * rng.uniform(0.1 + 0.4 * ctx.u("intensity"), 1.0, len(onsets))
    dry = dsp.overlap_add_bank(ctx.n, onsets, bank, idx, gains)
    # the porch or garden around them: a short diffuse tail, different in each ear
    return dsp.stereo_reverb(dry, ctx.fixed_rng("garden"), rt60_s=1.2, wet=0.5, damping_hz=7000.0)


def wind_chimes_event(ctx: Ctx):
    rng = ctx.rng
    k = int(rng.integers(3, 7))
    span = min(1.5, 0.3 * ctx.duration_s)
    onsets = np.sort((0.01 + rng.random(k) * span) * ctx.sr).astype(np.int64)
    onsets[0] = int(0.01 * ctx.sr)
    return _chime_events(ctx, onsets, rng)


@generator("wind_chimes", event=wind_chimes_event, events_per_min=24.0, params=("key", "mode", "fundamental_hz", "events_per_min"))
def wind_chimes(ctx: Ctx):
    rng = ctx.rng
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    gust = np.clip(dsp.smooth_random(rng, m, 0.15)[0] + 0.6, 0.05, None) ** 2  # strikes cluster in gusts
    # exactly round(rate * duration) strikes (at least one), placed where the gusts blow:
    # inverse-CDF sampling of the gust level
    count = max(1, int(round(ctx.p["events_per_min"] * ctx.duration_s / 60.0)))
    cdf = np.cumsum(gust)
    at = np.interp(np.sort(rng.random(count)), cdf / cdf[-1], np.arange(m) / dsp.CTRL_HZ)
    onsets = np.minimum((at * ctx.sr).astype(np.int64), ctx.n - 1)
    out = _chime_events(ctx, onsets, rng)
    # a whisper of the breeze that moves them
    air = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(200, 2500, 1.0), shared=0.2)
    return out + 0.02 * ctx.u("intensity") * air * dsp.upsample(0.3 + gust / (gust.max() + 1e-9), ctx.n, ctx.sr)


# --------------------------------------------------------------------------- kalimba


def _kalimba_note(rng, length: int, f0: float, bright: float, pluck: float, sr: int) -> np.ndarray:
    """One tine: its modes (``bright`` lifts the upper ones); a firmer ``pluck`` (0..1)
    rings the first overtone more and has a quicker attack."""
    ratios = np.array([1.0, 2.0, 5.4, 11.7])
    amps = np.array([1.0, 0.06, (0.12 + 0.2 * bright) * (0.5 + pluck), 0.04 * bright])
    t60 = np.array([2.4, 1.4, 0.35, 0.12]) * rng.uniform(0.85, 1.15)
    note = dsp.modal(length, f0 * ratios, amps, t60, rng.uniform(0, 2 * np.pi, 4), sr)
    a = min(length, int((0.0045 - 0.003 * pluck) * sr))  # soft thumb attack, no click
    note[:a] *= np.linspace(0, 1, a)
    return note


def _kalimba_scale(ctx: Ctx) -> list[float]:
    return scale_hz(root_hz(ctx.p, 4), ctx.p["mode"], range(0, 10))


def kalimba_event(ctx: Ctx):
    f0 = _kalimba_scale(ctx)[int(ctx.rng.integers(0, 5))]
    out = np.zeros((2, ctx.n), np.float32)
    s = int(0.005 * ctx.sr)
    note = _kalimba_note(ctx.rng, ctx.n - s, f0, ctx.u("brightness"), ctx.u("intensity"), ctx.sr)
    out[:, s:] = dsp.pan_gains(ctx.rng.uniform(-0.3, 0.3))[:, None] * note
    return dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=1.2, wet=0.35, damping_hz=5000.0)


@generator("kalimba", event=kalimba_event, events_per_min=24.0, params=("key", "mode", "fundamental_hz", "events_per_min"))
def kalimba(ctx: Ctx):
    rng = ctx.rng
    scale = _kalimba_scale(ctx)
    times = dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.25)
    # melodic random walk: small steps, reflected at the ends of the range
    steps = rng.choice([-2, -1, -1, 1, 1, 2, 0], len(times))
    degree = np.abs((4 + np.cumsum(steps)) % 18 - 9)
    length = int(3.0 * ctx.sr)
    bright = ctx.u("brightness")
    events = np.stack([_kalimba_note(rng, length, scale[d], bright, ctx.u("intensity"), ctx.sr) for d in degree]) if len(times) else np.zeros((0, length))
    pans = (degree / 9.0 - 0.5) * 0.9  # low notes left, high notes right, like the instrument
    gains = dsp.pan_gains(pans) * rng.uniform(0.5, 1.0, len(times))
    out = dsp.overlap_add_bank(ctx.n, (times * ctx.sr).astype(np.int64), events, np.arange(len(times)), gains)
    return dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=1.4, wet=0.4, damping_hz=5000.0)


# --------------------------------------------------------------------------- binaural


def binaural_freqs(p, loop_n: int | None, sr: int) -> tuple[float, float]:
    """(left_hz, right_hz). When looping, both are nudged to whole cycles per loop (the beat
    by at most half a cycle per loop), so the seam is exact."""
    beat = float(p["beat_hz"])
    left = float(p["carrier_hz"]) - beat / 2.0
    if loop_n:
        dur = loop_n / sr
        left = round(left * dur) / dur
        beat = max(1, round(beat * dur)) / dur
    return left, left + beat


@generator("binaural_beats", coherent=True, colour=False, units=(), params=("band", "beat_hz", "carrier_hz"))
def binaural_beats(ctx: Ctx):
    left, right = binaural_freqs(ctx.p, ctx.loop_n, ctx.sr)
    t = ctx.t0_s + np.arange(ctx.n) / ctx.sr
    ph = ctx.fixed_rng("phase").random(2)  # the seed sets the starting phases (and so the beat's)
    return np.stack([dsp.sine_cycles(left * t + ph[0]), dsp.sine_cycles(right * t + ph[1])])


assert set(BANDS) == {"delta", "theta", "alpha", "beta"}
