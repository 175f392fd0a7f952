"""Transport: a train on jointed rails.

After Farnell (*Designing Sound*, "Vehicles"): the rhythm is geometry. Rails come in 25 m
lengths; at each joint the wheel drops into the gap and clacks. Heard from a carriage, the
two axles of the bogie under the listener (2.5 m apart) and the neighbouring car's bogie
across the coupling (5 m further) cross every joint, so each joint gives the "da-dum ...
da-dum" of four clacks, and joints come every ``25 / v`` seconds (about one a second at
90 km/h). Each clack is a wheel-on-rail impact: a low thump and a short metallic ring of
the rail. Under it, the rumble of the running gear (brown noise with the body's slow
sway) and the roar of the wheels on the rail (a mid band that rises with speed).
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator

RAIL_M = 25.0  # rail length: one joint every 25 m
AXLES_M = (0.0, 2.5, 7.5, 10.0)  # axles crossing a joint, relative to the first (two bogies)


def speed_m_s(intensity: float) -> float:
    """Train speed from ``intensity``: 15 m/s (54 km/h) .. 30 m/s (108 km/h)."""
    return 15.0 + 15.0 * intensity


def clack_times(rng: np.random.Generator, duration_s: float, speed: float, start_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Clack onsets (s) and their axle index (0-3) over ``duration_s``: every joint passes
    under the four axles; joints come every ``RAIL_M / speed`` s, each joint a little
    different (0.5 % spacing jitter, rails are not laid perfectly)."""
    period = RAIL_M / speed
    first = rng.uniform(0.0, period)
    joints = start_s + first + np.arange(int(duration_s / period) + 2) * period
    joints += rng.normal(0.0, 0.005 * period, len(joints))
    offs = np.array(AXLES_M) / speed
    t = (joints[:, None] + offs[None, :]).ravel()
    axle = np.tile(np.arange(len(AXLES_M)), len(joints))
    keep = t < start_s + duration_s
    return t[keep], axle[keep]


def _clack_bank(rng: np.random.Generator, k: int, sr: int) -> np.ndarray:
    """``k`` wheel-on-rail impacts ``(k, L)``: a low thump (wheel and bogie mass) and the
    rail's short metallic ring (three modes at 0.6-3.5 kHz)."""
    length = int(0.12 * sr)
    t = np.arange(length) / sr
    out = np.empty((k, length), np.float32)
    for j in range(k):
        thump = dsp.modal(length, rng.uniform(60, 110) * np.array([1.0, 1.7]), np.array([1.0, 0.5]), rng.uniform(0.04, 0.08, 2), np.zeros(2))
        ring = dsp.modal(length, np.exp(rng.uniform(np.log(600), np.log(3500), 3)), rng.uniform(0.2, 0.5, 3), rng.uniform(0.02, 0.06, 3), rng.uniform(0, 6.28, 3))
        hit = rng.standard_normal(length) * np.exp(-t / 0.002)
        x = (thump + ring + 0.3 * hit) * np.minimum(1.0, t / 0.0015)
        out[j] = x / (np.max(np.abs(x)) + 1e-9)
    return out


@generator("train")
def train(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    v = speed_m_s(i)
    times, axle = clack_times(rng, ctx.duration_s, v)
    bank = _clack_bank(ctx.fixed_rng("clack"), 12, sr)
    # the bogie under the listener is louder than the neighbour's; each clack a little different
    level = np.array([1.0, 0.85, 0.55, 0.5])[axle] * rng.lognormal(0.0, 0.2, len(times))
    pans = np.array([-0.25, -0.15, 0.3, 0.4])[axle]
    clacks = dsp.overlap_add_bank(n, (times * sr).astype(np.int64), bank, rng.integers(0, len(bank), len(times)), dsp.pan_gains(pans) * level)
    clacks = dsp.stereo_reverb(clacks, ctx.fixed_rng("carriage"), rt60_s=0.35, wet=0.5, damping_hz=3000.0)
    m = dsp.ctrl_len(n, sr)
    sway = dsp.upsample(np.exp(0.15 * dsp.smooth_random(rng, m, 0.4, 2)), n, sr)  # the body sways
    rumble = dsp.spectral_noise(rng, n, dsp.mix_mag((1.0, dsp.band_mag(25, 400, 1.5)), ((0.15 + 0.35 * i), dsp.band_mag(250, 2500, 1.0))), shared=0.5) * sway
    # density: how jointed the track sounds, from welded rails (a whisper of clatter) to loud joints
    return (0.3 + 1.2 * d) * dsp.normalise_rms(clacks, 1.0) + rumble
