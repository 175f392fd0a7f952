"""A field recording's stereo image for synthesised beds.

Real ambience recordings are made with a coincident or near-spaced pair, so their channels are
far more alike than two independent noises: in ``../shared/reference-sounds/`` the
inter-channel correlation is 0.66-0.92 (birds 0.66, waves 0.69, coffee shop 0.72, train 0.77,
storm 0.86, city 0.90, wind 0.92), highest in the bass (wind 0.95 below 120 Hz, city 0.96) and
lowest at the top (wind 0.44 above 2 kHz, storm 0.40), because low wavelengths are longer than
the pair's spacing. The recipes build their stereo from independent noises with a small
shared part, which gave 0.05-0.3 at every frequency: wide, hollow and with a wandering bass.

:func:`image` narrows a bed in mid/side to a target correlation, separately below and above a
crossover (a 2nd-order split of the side signal), so each type gets the reference's
low/high shape and a mono-compatible bass. The side gain comes from the chunk's own mid and
side powers, so the result hits the target whatever the recipe's own correlation was, at the
cost of one float32 2nd-order low-pass of two rows (about 0.1 s of CPU per minute of audio; estimating
the powers from a few short windows instead was half the cost but let thunder's few loud
rolls push a seed to 0.91).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from studio.generation.procedural import dsp

# type -> (correlation below CROSSOVER_HZ, correlation above it); from the nearest recording's
# band correlations (bass/low vs mid/high, see docs/procedural.md "Stereo image"). Kept under
# 0.9 (the contract: no bed is a duplicated mono signal).
IMAGE: dict[str, tuple[float, float]] = {
    "breeze": (0.88, 0.7),  # wind: 0.95 / 0.89 / 0.60 / 0.44
    "wind_gusty": (0.88, 0.65),
    "wind_leaves": (0.88, 0.55),
    "thunder": (0.85, 0.6),  # storm: 0.92 / 0.84 / 0.67 / 0.40
    "city_traffic": (0.86, 0.72),  # city: 0.96 / 0.93 / 0.79 / 0.61
    "ocean_surf": (0.75, 0.68),  # waves: 0.61 / 0.68 / 0.72 / 0.67
    "lake_lapping": (0.75, 0.68),
    "cafe_murmur": (0.75, 0.72),  # coffee shop: 0.58 / 0.72 / 0.74 / 0.68
    "children_playing": (0.75, 0.7),
    "songbirds": (0.7, 0.62),  # birds: 0.36 / 0.43 / 0.74 / 0.67 (its bass is wind on the mics)
    "dawn_chorus": (0.7, 0.62),
    "train": (0.8, 0.76),  # train: 0.58 / 0.80 / 0.78 / 0.75
    "campfire": (0.85, 0.7),  # fireplace: a mono recording; a close pair hears one fire
    "stream": (0.8, 0.6),
    "river": (0.8, 0.6),
    "waterfall": (0.8, 0.6),
}
CROSSOVER_HZ = 300.0


def side_gain(mid_power: float, side_power: float, corr: float) -> float:
    """Gain on the side signal that makes L/R correlation ``corr`` for the given mid/side
    powers: corr = (Pm - g²Ps) / (Pm + g²Ps). Never widens (at most 1)."""
    if side_power <= 1e-20:
        return 1.0
    g2 = mid_power * (1.0 - corr) / (side_power * (1.0 + corr))
    return float(min(1.0, np.sqrt(max(g2, 0.0))))


@lru_cache(maxsize=4)
def _crossover(sr: int) -> np.ndarray:
    return dsp._sos("lowpass", (CROSSOVER_HZ,), 2, sr).astype(np.float32)


def image(x: np.ndarray, type_name: str, sr: int) -> np.ndarray:
    """``x`` (2, n) float32 with the stereo image of ``IMAGE[type_name]``; unchanged if absent."""
    target = IMAGE.get(type_name)
    if target is None or x.shape[0] != 2 or x.shape[1] < 16:
        return x
    ms = np.stack([0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])])
    # mid and side below the crossover in one float32 call (a 2nd-order section is stable in
    # float32 at 300 Hz; it saves the float64 pass and the copy back)
    low = signal.sosfilt(_crossover(sr), ms, axis=-1)
    step = max(1, x.shape[1] // 200_000)
    p_low = np.mean(np.square(low[:, ::step], dtype=np.float64), axis=1)
    p_high = np.mean(np.square(ms[:, ::step] - low[:, ::step], dtype=np.float64), axis=1)
    g_low = side_gain(float(p_low[0]), float(p_low[1]), target[0])
    g_high = side_gain(float(p_high[0]), float(p_high[1]), target[1])
    # side' = g_high * side + (g_low - g_high) * side_low
    mid, side = ms[0], ms[1]
    side *= np.float32(g_high)
    side += np.float32(g_low - g_high) * low[1]
    return np.stack([mid + side, mid - side])
