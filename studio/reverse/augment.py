"""Training-time variation of the offline tagger's windows: what a recording chain does to a sound.

A real recording reaches the tagger through a microphone, a room and an edit; a procedural render
through none of them. Each augmented copy of a 5 s analysis window (mono, ``ANALYSIS_RATE``,
float32) is one of:

- ``chain``: an EQ tilt (uniform ±6 dB per decade about 1 kHz, as a microphone or a lossy edit
  tilts a spectrum) plus pink noise 15–25 dB below the signal (a recorder's and a room's floor);
- ``room``: a synthetic reverb (exponentially decaying noise, RT60 0.3–1.2 s, wet share 20–60 %)
  then a speed change by a factor 0.9–1.1 (pitch and time together, as a different source of
  the same kind would be).

The ranges are fixed by what they imitate, not tuned on any evaluation (docs/reverse.md).
Every copy is seeded from ``window_seed(key...)``, a CRC of the window's identity, so training is
deterministic across processes (Python's ``hash`` of a string is not).
"""

from __future__ import annotations

import zlib

import numpy as np

from studio.reverse.features import ANALYSIS_RATE

KINDS = ("chain", "room")


def window_seed(*key: object) -> int:
    """A stable 32-bit seed for one window, from its identity (source, render seed, index, ...)."""
    return zlib.crc32("|".join(str(k) for k in key).encode())


def augment(mono: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """One augmented copy of ``mono`` (same length, float32, same RMS)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(mono, np.float64)
    if kind == "chain":
        y = _tilt(x, rng.uniform(-6.0, 6.0))
        y = y + _pink(x.size, rng) * y.std() * 10.0 ** (-rng.uniform(15.0, 25.0) / 20.0)
    elif kind == "room":
        y = _speed(_reverb(x, rng), rng.uniform(0.9, 1.1))
    else:
        raise ValueError(f"unknown augmentation {kind!r}; choose one of {', '.join(KINDS)}")
    rms_in, rms_out = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(y**2))
    return (y * (rms_in / rms_out if rms_out > 1e-12 else 1.0)).astype(np.float32)


def _tilt(x: np.ndarray, db_per_decade: float) -> np.ndarray:
    freqs = np.fft.rfftfreq(x.size, 1.0 / ANALYSIS_RATE)
    gain_db = db_per_decade * np.log10(np.maximum(freqs, 40.0) / 1000.0)
    return np.fft.irfft(np.fft.rfft(x) * 10.0 ** (gain_db / 20.0), n=x.size)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1.0 / ANALYSIS_RATE), 20.0))
    y = np.fft.irfft(spec, n=n)
    return y / (y.std() + 1e-12)


def _reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import fftconvolve

    n = int(rng.uniform(0.3, 1.2) * ANALYSIS_RATE)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at the end
    wet = fftconvolve(x, tail)[: x.size]
    wet *= x.std() / (wet.std() + 1e-12)
    share = rng.uniform(0.2, 0.6)
    return (1.0 - share) * x + share * wet


def _speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (linear interpolation), looped back to its length."""
    pos = np.arange(0.0, x.size - 1, factor)
    y = np.interp(pos, np.arange(x.size), x)
    return np.resize(y, x.size)
