"""Fire: a campfire or fireplace.

Three parts, as in Farnell's fire patch: crackles (a clustered Poisson field of very short,
bright noise clicks, the resin and moisture popping), occasional louder and lower pops, a
flickering hiss, and the low "lapping" roar of the flames (low-passed brown noise whose level
flickers a few times a second). Events sit within a narrower stereo field than weather: a
fire is one place in the scene.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


@generator("campfire", impulsive=True)
def campfire(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    frng = ctx.fixed_rng("fire")
    m = dsp.ctrl_len(n, sr)
    # crackles come in bursts: a fast random rate with occasional flare-ups
    burst = np.exp(1.0 * dsp.smooth_random(rng, m, 3.0)[0])
    rate = (15 + 45 * d) * (0.6 + 0.8 * i) * burst / burst.mean()
    # wood crackles are sharp clicks: most of their energy above 3 kHz (the fireplace recording
    # dips 15-20 dB from 250 Hz to 1 kHz under its roar and its 8 kHz crackle band)
    crackles = dsp.burst_bank(frng, 24, int(0.006 * sr), (2500, 5000), (10000, 16000), (0.0003, 0.0015), sr)
    onsets = dsp.poisson_times(rng, n, rate, sr)
    gains = dsp.pan_gains(rng.uniform(-0.5, 0.5, len(onsets))) * rng.lognormal(0, 0.7, len(onsets))
    crackle = dsp.overlap_add_bank(n, onsets, crackles, rng.integers(0, 24, len(onsets)), gains)
    pops = dsp.burst_bank(frng, 8, int(0.04 * sr), (250, 700), (1500, 4000), (0.004, 0.012), sr)
    p_on = dsp.poisson_times(rng, n, (1.0 + 2.0 * d) * (0.5 + i), sr)
    p_gain = dsp.pan_gains(rng.uniform(-0.4, 0.4, len(p_on))) * rng.uniform(1.5, 3.0, len(p_on))
    pop = dsp.overlap_add_bank(n, p_on, pops, rng.integers(0, 8, len(p_on)), p_gain)
    flicker = dsp.upsample(np.exp(0.5 * dsp.smooth_random(rng, m, 4.0, 2)), n, sr)
    hiss = dsp.spectral_noise(rng, n, dsp.band_mag(2500, 11000, 0.5), shared=0.3) * flicker
    roar = dsp.spectral_noise(rng, n, dsp.band_mag(30, 350, 2.0), shared=0.4)
    roar *= dsp.upsample(np.exp(0.6 * dsp.smooth_random(rng, m, 1.5, 2)), n, sr)
    crackle = dsp.normalise_rms(crackle, 1.0)
    return crackle + 0.25 * dsp.normalise_rms(pop, 1.0) + 0.12 * hiss + (0.5 + 0.4 * i) * roar
