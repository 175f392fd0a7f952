"""Bells: a church or temple bell tolling.

A cast bronze bell's partials are inharmonic (Rayleigh; Hibbert's measurements of tuned
church bells). Relative to the *prime* (strike note) ``p``: hum 0.5p, prime p, tierce 1.19p
(a minor third: the bell's plaintive colour), quint 1.5p, nominal 2p, then the upper
partials 2.5p, 2.67p, 3.01p, 4p and 5.04p. The lower the partial, the longer it rings: the
hum hangs for half a minute after the nominal's clang has gone. Every partial is a doublet
(the bell is not perfectly round), beating slowly and panned apart; the clapper's strike
adds a short metallic clang.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator

BELL_RATIOS = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.5, 2.67, 3.01, 4.0, 5.04])
BELL_AMPS = np.array([0.6, 0.5, 0.7, 0.25, 1.0, 0.4, 0.35, 0.25, 0.2, 0.12])
HUM_T60_S = 30.0  # the hum's ring; partial k rings HUM_T60_S / (2 * ratio) ** 0.9


def bell_strike(rng: np.random.Generator, length: int, prime_hz: float, hardness: float, bright: float, sr: int = dsp.SR) -> np.ndarray:
    """One strike, stereo ``(2, length)``: the doublet partials, each decaying at its own
    rate, and the clang of the clapper (``hardness`` 0..1 louder clang and upper partials;
    ``bright`` 0..1 more of the partials above the nominal)."""
    freqs, amps, t60s, phases, sides = [], [], [], [], []
    for r, a in zip(BELL_RATIOS, BELL_AMPS):
        a = a * ((0.4 + 1.2 * bright) if r > 2 else 1.0) * ((0.6 + 0.8 * hardness) if r >= 2 else 1.0)
        split = rng.uniform(0.05, 0.3) * r  # a slow beat, faster in the upper partials
        for s, share in ((-0.5, 1.0), (0.5, 0.5)):  # unequal halves: the warble dips, never nulls
            freqs.append(prime_hz * r + s * split)
            amps.append(a * share)
            t60s.append(HUM_T60_S / (2 * r) ** 0.9)
            phases.append(rng.uniform(0, 2 * np.pi))
            sides.append([0.7 + 0.3 * np.sign(s), 0.7 - 0.3 * np.sign(s)])
    out = dsp.modal(length, np.array(freqs), np.array(amps), np.array(t60s), np.array(phases), sr, stereo_amps=np.array(sides).T)
    clang_len = min(length, int(0.08 * sr))
    t = np.arange(clang_len) / sr
    clang = dsp.bandpass(rng.standard_normal((1, clang_len)), 1500, 7000, 2)[0] * np.exp(-t / 0.012)
    out[:, :clang_len] += (0.1 + 0.4 * hardness) * clang
    attack = min(length, int(0.0015 * sr))  # metal on bronze: fast, but not a one-sample step
    out[:, :attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
    return out


def _prime_hz(ctx: Ctx) -> float:
    """Each render's bell: a prime of 140-320 Hz (a hum of 70-160 Hz), the same for every strike."""
    return float(np.exp(ctx.fixed_rng("bell").uniform(np.log(140), np.log(320))))


def temple_bell_event(ctx: Ctx):
    out = np.zeros((2, ctx.n), np.float32)
    s = int(0.005 * ctx.sr)
    out[:, s:] = bell_strike(ctx.rng, ctx.n - s, _prime_hz(ctx), ctx.u("intensity"), ctx.u("brightness"), ctx.sr)
    return dsp.stereo_reverb(out, ctx.fixed_rng("tower"), rt60_s=min(2.5, 0.3 * ctx.duration_s), wet=0.35, damping_hz=4000.0)


@generator("temple_bell", event=temple_bell_event, events_per_min=3.0, params=("events_per_min",))
def temple_bell(ctx: Ctx):
    """A bell tolled ``events_per_min`` (3) times a minute, each strike ringing on under the next."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    prime = _prime_hz(ctx)
    out = np.zeros((2, n), np.float32)
    # strikes in this stretch (at least one), and those of the 20 s before, still ringing into it
    rate = ctx.p["events_per_min"]
    before = dsp.jittered_times(rng, 20.0, rate, jitter=0.1, start_s=-20.0) if rate * 20.0 / 60.0 >= 0.5 else np.zeros(0)
    for t in np.concatenate([before, dsp.jittered_times(rng, ctx.duration_s, rate, jitter=0.1)]):
        s = int(t * sr)
        length = min(n - max(s, 0), int(HUM_T60_S * 0.7 * sr) + min(s, 0))
        if length <= 0 or s + int(HUM_T60_S * 0.7 * sr) <= 0:
            continue
        x = bell_strike(rng, int(HUM_T60_S * 0.7 * sr), prime, ctx.u("intensity"), ctx.u("brightness"), sr) * rng.uniform(0.8, 1.0)
        a = max(s, 0)
        out[:, a : a + length] += x[:, a - s : a - s + length]
    out = dsp.stereo_reverb(out, ctx.fixed_rng("tower"), rt60_s=2.5, wet=0.35, damping_hz=4000.0)
    air = dsp.spectral_noise(rng, n, dsp.band_mag(40, 1500, 1.5), shared=0.2)
    return out + (0.02 + 0.03 * ctx.u("density")) * air
