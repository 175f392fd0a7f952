"""Minnaert bubble populations, after van den Doel ("Physically based models for liquid
sounds", ACM TAP 2005).

A bubble of radius ``r`` (m) born in water rings at the Minnaert frequency ``f0 = 3.26 / r``
Hz (1 mm -> 3.26 kHz), damped by ``d = 0.043 f0 + 0.0014 f0**1.5`` per second (viscous,
radiative and thermal losses), its pitch rising as it nears the surface:
``f(t) = f0 (1 + xi d t)``. A moving body of water is a population of such bubbles whose
radii follow a power law ``p(r) ∝ r**-gamma`` between ``r_min`` and ``r_max``: small bubbles
are many, large ones few. Louder bubbles are the larger ones (``a ∝ r``, so a
population's spectrum falls with frequency like real streams).
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp

MINNAERT_HZ_M = 3.26  # f0 * r for air bubbles in water near the surface


def minnaert_hz(radius_m: np.ndarray) -> np.ndarray:
    return MINNAERT_HZ_M / np.asarray(radius_m)


def damping(f0_hz: np.ndarray) -> np.ndarray:
    """van den Doel's damping constant (1/s) of a bubble ringing at ``f0_hz``."""
    f0 = np.asarray(f0_hz, np.float64)
    return 0.043 * f0 + 0.0014 * f0**1.5


def radii(rng: np.random.Generator, k: int, r_min_mm: float, r_max_mm: float, gamma: float) -> np.ndarray:
    """``k`` radii (m) from ``p(r) ∝ r**-gamma`` on ``[r_min, r_max]`` by inverse-CDF sampling."""
    a, b = r_min_mm * 1e-3, r_max_mm * 1e-3
    u = rng.random(k)
    if abs(gamma - 1.0) < 1e-9:
        return a * (b / a) ** u
    e = 1.0 - gamma
    return (a**e + u * (b**e - a**e)) ** (1.0 / e)


def bank(rng: np.random.Generator, r: np.ndarray, sr: int = dsp.SR, xi: float = 0.1, classes: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bubble waveforms for radii ``r``, grouped by how long they ring (short banks for the
    many small bubbles keep the overlap-add cheap). Returns ``[(bank (k_c, L_c), members)]``
    where ``members`` indexes ``r``; every waveform is ``a(r) sin(2π∫f) e^{-dt}`` to -40 dB."""
    f0 = minnaert_hz(r)
    d = damping(f0)
    ring = 4.6 / d  # seconds to -40 dB
    order = np.argsort(ring)
    out = []
    for members in np.array_split(order, min(classes, len(r))):
        if not len(members):
            continue
        length = max(16, int(ring[members].max() * sr))
        t = np.arange(length) / sr
        f, dm = f0[members][:, None], d[members][:, None]
        cycles = f * (t + 0.5 * xi * dm * t**2)  # f(t) = f0 (1 + xi d t), about +46 % by -40 dB
        amp = (r[members] / 1e-3)[:, None]
        onset = np.minimum(1.0, t / 0.0003)  # the bubble forms in ~0.3 ms: no step
        phase0 = rng.uniform(0, 1, (len(members), 1))
        wave = amp * np.exp(-dm * t) * onset * dsp.sine_cycles(cycles + phase0)
        out.append((wave.astype(np.float32), members))
    return out


def field(rng: np.random.Generator, n: int, rate_hz, banks: list[tuple[np.ndarray, np.ndarray]], k: int, spread: float = 0.85, sigma: float = 0.5, sr: int = dsp.SR) -> np.ndarray:
    """A stereo ``(2, n)`` bubble field: Poisson births at ``rate_hz`` (a number or a
    control-rate array), each a bubble drawn uniformly from the ``k`` in ``banks`` (so the
    radii follow the population they were drawn from), at a random pan and loudness."""
    onsets = dsp.poisson_times(rng, n, rate_hz, sr)
    which = rng.integers(0, k, len(onsets))
    gains = dsp.pan_gains(rng.uniform(-spread, spread, len(onsets))) * rng.lognormal(0.0, sigma, len(onsets))
    out = np.zeros((2, n), np.float32)
    for wave, members in banks:
        local = np.full(k, -1)
        local[members] = np.arange(len(members))
        sel = local[which] >= 0
        if np.any(sel):
            out += dsp.overlap_add_bank(n, onsets[sel], wave, local[which[sel]], gains[:, sel])
    return out
