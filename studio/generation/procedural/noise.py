"""Noise colours: white (flat), pink (-3 dB/octave), brown (-6 dB/octave).

Shaped exactly in the FFT domain, so the slopes are what their names say over the whole
band (rolled off below 20 Hz to keep DC and sub-sonic drift out). Channels share 30 % of
their power: wide, but not two unrelated hisses.
"""

from __future__ import annotations

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator

_SHARED = 0.3


def _colour_noise(ctx: Ctx, exponent: float):
    return dsp.spectral_noise(ctx.rng, ctx.n, dsp.colour_mag(exponent, low_hz=20.0), shared=_SHARED)


@generator("white_noise", colour=False, units=())
def white_noise(ctx: Ctx):
    return _colour_noise(ctx, 0.0)


@generator("pink_noise", colour=False, units=())
def pink_noise(ctx: Ctx):
    return _colour_noise(ctx, 1.0)


@generator("brown_noise", colour=False, units=())
def brown_noise(ctx: Ctx):
    return _colour_noise(ctx, 2.0)
