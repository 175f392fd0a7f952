"""Shared signal helpers for the procedural generators.

Everything works on whole arrays (numpy / scipy.signal / scipy.fft), never per sample in
Python. Audio arrays are ``(channels, frames)``; the engine runs at 48 kHz. Helpers return
float32 where the result is audio, float64 where it is a control signal.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Callable

import numpy as np
from scipy import fft as sfft
from scipy import signal

SR = 48_000
CTRL_HZ = 1000  # control-rate for envelopes and modulators, upsampled by linear interpolation


# --------------------------------------------------------------------------- randomness


def make_rng(seed: int, *keys: int | str) -> np.random.Generator:
    """A PCG64 generator for ``seed`` and a path of sub-stream keys (ints or strings).

    String keys are hashed with CRC32 so streams are stable across processes and Python
    versions (``hash()`` is salted per process).
    """
    ints = [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(ints)))


# --------------------------------------------------------------------------- noise


def fast_len(n: int) -> int:
    return int(sfft.next_fast_len(max(int(n), 16), real=True))


def spectral_noise(
    rng: np.random.Generator,
    n: int,
    mag: "Callable[[np.ndarray], np.ndarray] | tuple",
    channels: int = 2,
    shared: float = 0.0,
    sr: int = SR,
) -> np.ndarray:
    """Noise shaped in the FFT domain: ``|X(f)| ∝ mag(f_hz)``.

    ``mag`` is a spec from :func:`colour_mag` / :func:`band_mag` (a hashable tuple, so the
    magnitude array is computed once per length and cached) or a plain callable. Real and
    imaginary parts are uniform (cheaper than Gaussian; the time signal is Gaussian anyway,
    each sample being a sum of a million random-phase components). ``shared`` (0..1) is the
    fraction of power common to all channels, so the expected inter-channel correlation is
    about ``shared``. Returns float32 ``(channels, n)`` with unit RMS per channel; DC is zero.
    """
    m = fast_len(n)
    k = m // 2 + 1
    weights = _mag_array(mag, m, sr) if isinstance(mag, tuple) else _mag_from_fn(mag, m, sr)

    def cnoise(rows: int) -> np.ndarray:
        u = rng.random((rows, 2 * k), dtype=np.float32)
        u -= np.float32(0.5)
        return u.view(np.complex64)

    spec = cnoise(channels)
    if shared > 0.0:
        spec *= np.float32(np.sqrt(1.0 - shared))
        spec += np.float32(np.sqrt(shared)) * cnoise(1)
    spec *= weights
    out = sfft.irfft(spec, n=m, axis=-1, workers=1)[:, :n]
    rms = np.sqrt(np.mean(np.square(out[:, :: max(1, n // 200_000)], dtype=np.float64), axis=-1, keepdims=True)) + 1e-12
    out *= (1.0 / rms).astype(np.float32)
    return out


def _mag_from_fn(fn, m: int, sr: int) -> np.ndarray:
    w = np.asarray(fn(np.fft.rfftfreq(m, 1.0 / sr)), dtype=np.float32)
    w[0] = 0.0
    return w


@lru_cache(maxsize=32)
def _mag_array(spec: tuple, m: int, sr: int) -> np.ndarray:
    """Magnitude for a spec: ``("band", lo, hi, exponent, order)`` or a ``("sum", (gain,
    spec), ...)`` of independent parts (powers add). Read-only float32."""
    if spec[0] == "sum":
        # each part at unit RMS first, so the gains are the parts' RMS ratios as documented (a
        # flat part used to swamp a sloped one: a sloped spec is tiny in absolute terms, so in
        # wind_gusty the 0.25 "hiss" share was 40 dB over the 1.0 body at 63 Hz)
        power = sum(np.float32(g * g) * _unit_power(_mag_array(s, m, sr)) for g, s in spec[1:])
        w = np.sqrt(power)
    else:
        _, lo, hi, exponent, order = spec
        f = np.arange(m // 2 + 1, dtype=np.float32) * np.float32(sr / m)
        f[0] = 1e-3
        w = np.ones_like(f) if exponent == 0 else f ** np.float32(-exponent / 2.0)
        # Butterworth-like edges: 1/sqrt(1 + (lo/f)^(2*order)) and 1/sqrt(1 + (f/hi)^(2*order))
        with np.errstate(over="ignore"):  # far outside the band the edge term overflows to inf: gain 0
            if lo:
                r = np.float32(lo) / f
                w /= np.sqrt(np.float32(1.0) + r ** (2 * order))
            if hi:
                r = f / np.float32(hi)
                w /= np.sqrt(np.float32(1.0) + r ** (2 * order))
    w = np.nan_to_num(w.astype(np.float32), nan=0.0, posinf=0.0)
    w[0] = 0.0
    w.setflags(write=False)
    return w


def _unit_power(w: np.ndarray) -> np.ndarray:
    """``w**2`` scaled to a mean of one over the bins (the part's power at unit RMS)."""
    p = np.square(w.astype(np.float32))
    mean = float(p.mean(dtype=np.float64))
    return p / np.float32(mean) if mean > 0 else p


def colour_mag(exponent: float, low_hz: float = 20.0, high_hz: float | None = None) -> tuple:
    """Spec for power slope ``-3*exponent`` dB/octave, rolled off (2nd order) below ``low_hz``
    and optionally above ``high_hz``."""
    return ("band", float(low_hz), float(high_hz or 0.0), float(exponent), 2)


def band_mag(lo_hz: float, hi_hz: float, exponent: float = 0.0, order: int = 2) -> tuple:
    """Spec for a smooth band-pass (Butterworth-like edges of ``order``) on a colour slope."""
    return ("band", float(lo_hz), float(hi_hz), float(exponent), int(order))


def mix_mag(*parts: tuple[float, tuple]) -> tuple:
    """Spec for independent noises summed with RMS gains: ``mix_mag((1.0, a), (0.3, b))``."""
    return ("sum",) + tuple((float(g), s) for g, s in parts)


# --------------------------------------------------------------------------- filters


@lru_cache(maxsize=256)
def _sos(kind: str, freqs: tuple[float, ...], order: int, sr: int) -> np.ndarray:
    nyq = sr / 2.0
    f = tuple(min(max(x, 5.0), nyq * 0.95) for x in freqs)
    wn = f[0] if len(f) == 1 else list(f)
    return signal.butter(order, wn, btype=kind, fs=sr, output="sos")


def lowpass(x: np.ndarray, fc: float, order: int = 2, sr: int = SR) -> np.ndarray:
    if fc >= sr * 0.45:
        return x
    return signal.sosfilt(_sos("lowpass", (float(fc),), order, sr), x, axis=-1).astype(np.float32)


def highpass(x: np.ndarray, fc: float, order: int = 2, sr: int = SR) -> np.ndarray:
    return signal.sosfilt(_sos("highpass", (float(fc),), order, sr), x, axis=-1).astype(np.float32)


def bandpass(x: np.ndarray, lo: float, hi: float, order: int = 2, sr: int = SR) -> np.ndarray:
    return signal.sosfilt(_sos("bandpass", (float(lo), float(hi)), order, sr), x, axis=-1).astype(np.float32)


# --------------------------------------------------------------------------- control signals


def ctrl_len(n: int, sr: int = SR) -> int:
    return int(np.ceil(n * CTRL_HZ / sr)) + 2


def upsample(ctrl: np.ndarray, n: int, sr: int = SR) -> np.ndarray:
    """Control-rate signal(s) ``(..., m)`` at :data:`CTRL_HZ` to ``(..., n)`` audio rate by
    linear interpolation (float32). ``m`` must cover ``n`` (see :func:`ctrl_len`)."""
    ctrl = np.asarray(ctrl, dtype=np.float32)
    step = sr // CTRL_HZ
    rows = ctrl.reshape(-1, ctrl.shape[-1])
    blocks = -(-n // step)
    ramp = (np.arange(step, dtype=np.float32) / step)[None, :]
    out = np.empty((rows.shape[0], blocks * step), np.float32)
    for r, c in enumerate(rows):
        a = c[:blocks, None]
        out[r] = (a + (c[1 : blocks + 1, None] - a) * ramp).ravel()
    return out[:, :n].reshape(ctrl.shape[:-1] + (n,))


def smooth_random(rng: np.random.Generator, m: int, rate_hz: float, rows: int = 1) -> np.ndarray:
    """A smooth random control signal at :data:`CTRL_HZ`, about unit std, whose changes happen
    at roughly ``rate_hz``. Shape ``(rows, m)`` float64."""
    knots_per_s = max(rate_hz, 1e-3)
    n_knots = int(np.ceil(m / CTRL_HZ * knots_per_s)) + 3
    knots = rng.standard_normal((rows, n_knots))
    pos = np.arange(m) / CTRL_HZ * knots_per_s
    i = np.floor(pos).astype(np.int64)
    frac = pos - i
    w = 0.5 - 0.5 * np.cos(np.pi * frac)  # cosine interpolation: smooth, no overshoot
    return knots[:, i] * (1.0 - w) + knots[:, i + 1] * w


def ctrl_time(m: int) -> np.ndarray:
    return np.arange(m) / CTRL_HZ


# --------------------------------------------------------------------------- stereo


def pan_gains(pan: np.ndarray | float) -> np.ndarray:
    """Constant-power gains for pan -1..1; returns ``(2,)`` or ``(2, len(pan))``."""
    a = (np.clip(np.asarray(pan, dtype=np.float64), -1.0, 1.0) + 1.0) * (np.pi / 4.0)
    return np.stack([np.cos(a), np.sin(a)])


def stereo_reverb(
    x: np.ndarray,
    rng: np.random.Generator,
    rt60_s: float,
    wet: float,
    damping_hz: float = 6000.0,
    predelay_s: float = 0.012,
    sr: int = SR,
) -> np.ndarray:
    """Add a diffuse tail: the mid signal convolved with two independent exponentially decaying
    noise responses (one per side), so the tail decorrelates the channels. ``wet`` is the
    tail's RMS relative to the dry mid signal."""
    # the decay below -36 dB is left out and the end tapered: at the wet levels used here that
    # is 40+ dB under the dry signal, and a shorter response convolves faster
    length = int(max(0.05, 0.6 * rt60_s) * sr)
    t = np.arange(length) / sr
    ir = rng.standard_normal((2, length)) * np.exp(-6.9 * t / rt60_s)
    taper = min(length, int(0.05 * sr))
    ir[:, -taper:] *= np.linspace(1.0, 0.0, taper)
    ir = lowpass(ir, damping_hz, 1)
    pre = int(predelay_s * sr)
    ir[:, :pre] = 0.0
    ir /= np.sqrt(np.sum(ir.astype(np.float64) ** 2, axis=1, keepdims=True)) + 1e-12
    mid = x.mean(axis=0, keepdims=True)
    tail = signal.oaconvolve(mid, ir.astype(np.float32), axes=-1)[:, : x.shape[-1]]
    tail *= np.float32(wet)
    tail += x
    return tail.astype(np.float32, copy=False)


def equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fade-in and fade-out curves of ``n`` samples whose powers sum to one."""
    th = (np.arange(n) + 0.5) / max(n, 1) * (np.pi / 2)
    return np.sin(th).astype(np.float32), np.cos(th).astype(np.float32)


def linear_fades(n: int) -> tuple[np.ndarray, np.ndarray]:
    w = ((np.arange(n) + 0.5) / max(n, 1)).astype(np.float32)
    return w, 1.0 - w


# --------------------------------------------------------------------------- events


def jittered_times(rng: np.random.Generator, duration_s: float, per_min: float, jitter: float = 0.4, start_s: float = 0.0) -> np.ndarray:
    """Event onsets (s) at ``per_min`` per minute: one per slot of ``60/per_min`` seconds,
    placed at the slot centre plus up to ±``jitter``/2 of a slot. The count is deterministic
    (``round(duration*rate)``, at least one), so measured rates match requests."""
    if per_min <= 0 or duration_s <= 0:
        return np.zeros(0)
    step = 60.0 / per_min
    count = int(round(duration_s / step))
    if count <= 0:
        # a clip shorter than one interval still gets its one event (a bed is never empty)
        return np.array([start_s + duration_s * (0.15 + 0.3 * rng.random())])
    centres = start_s + (np.arange(count) + 0.5) * step
    return centres + (rng.random(count) - 0.5) * jitter * step


def poisson_times(rng: np.random.Generator, n: int, rate_hz: float | np.ndarray, sr: int = SR) -> np.ndarray:
    """Sample indices of a Poisson process; ``rate_hz`` may be a control-rate array
    (time-varying rate, thinned). Sorted int64."""
    dur = n / sr
    if np.ndim(rate_hz) == 0:
        count = rng.poisson(max(float(rate_hz), 0.0) * dur)
        return np.sort(rng.integers(0, n, count))
    rate = np.asarray(rate_hz, dtype=np.float64)
    peak = float(rate.max()) if rate.size else 0.0
    if peak <= 0:
        return np.zeros(0, np.int64)
    count = rng.poisson(peak * dur)
    idx = np.sort(rng.integers(0, n, count))
    ci = np.minimum((idx * CTRL_HZ / sr).astype(np.int64), len(rate) - 1)
    keep = rng.random(count) < rate[ci] / peak
    return idx[keep]


def normalise_rms(x: np.ndarray, target: float = 0.1) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    return x if rms < 1e-12 else (x * (target / rms)).astype(np.float32)


def modal(length: int, freqs: np.ndarray, amps: np.ndarray, t60s: np.ndarray, phases: np.ndarray | None = None, sr: int = SR, stereo_amps: np.ndarray | None = None) -> np.ndarray:
    """Sum of exponentially decaying sinusoids (a modal resonator's impulse response),
    ``(length,)`` float32, or ``(2, length)`` when ``stereo_amps`` ``(2, modes)`` gives each
    mode's gain per channel (each mode is computed once). ``freqs``/``amps``/``t60s`` are per
    mode; modes above 0.45*sr are dropped. Each mode is evaluated until it reaches -60 dB.
    Phases are wrapped in float64 before a float32 sine (fast and accurate)."""
    out = np.zeros((2, length) if stereo_amps is not None else (1, length), np.float32)
    phases = np.zeros(len(freqs)) if phases is None else phases
    for j, (f, a, d, ph) in enumerate(zip(freqs, amps, t60s, phases)):
        if f >= 0.45 * sr or a == 0:
            continue
        m = min(length, int(d * sr) + 1)
        wave = np.exp(np.arange(m, dtype=np.float32) * np.float32(-6.9 / (d * sr))) * sine_cycles(f / sr * np.arange(m) + ph / (2 * np.pi))
        if stereo_amps is None:
            out[0, :m] += np.float32(a) * wave
        else:
            for c in range(2):
                out[c, :m] += np.float32(a * stereo_amps[c, j]) * wave
    return out if stereo_amps is not None else out[0]


def sine_cycles(cycles: np.ndarray) -> np.ndarray:
    """``sin(2*pi*cycles)`` as float32, wrapping the (float64) cycle count first."""
    frac = (np.asarray(cycles) % 1.0).astype(np.float32)
    return np.sin(frac * np.float32(2 * np.pi))


def periodic_index(t0_s: float, n: int, period: int, sr: int = SR) -> np.ndarray:
    """Indices into a ``period``-frame loop for frames ``t0_s*sr .. +n`` of the timeline."""
    start = int(round(t0_s * sr))
    return (start + np.arange(n)) % period


def overlap_add_bank(n: int, onsets: np.ndarray, bank: np.ndarray, idx: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Sum events into a ``(channels, n)`` float32 buffer; event ``e`` is ``bank[idx[e]]``
    (``bank`` ``(K, L)`` mono waveforms) starting at sample ``onsets[e]`` (may be negative or
    run past the end: the overhang is dropped), scaled per channel by ``gains[:, e]``.

    One slice-add per event: for the event counts used here (up to tens of thousands) this
    beats scattering every event sample with ``np.bincount`` by 10-50x, because each add is a
    contiguous vector operation. Very dense textures use :func:`burst_train` instead.
    """
    channels = gains.shape[0]
    out = np.zeros((channels, n), np.float32)
    bank = np.asarray(bank, np.float32)
    length = bank.shape[1]
    g = np.asarray(gains, np.float32)
    for e, (on, k) in enumerate(zip(np.asarray(onsets, np.int64).tolist(), np.asarray(idx).tolist())):
        a, b = max(on, 0), min(on + length, n)
        if b <= a:
            continue
        out[:, a:b] += g[:, e : e + 1] * bank[k, a - on : b - on]
    return out


def burst_train(rng: np.random.Generator, n: int, onsets: np.ndarray, amps: np.ndarray, pans: np.ndarray, taus_s: tuple[float, ...], sr: int = SR) -> np.ndarray:
    """A dense field of noise bursts (rain drops, leaf grains, gravel): per channel, an impulse
    train through one-pole decays (one per time constant in ``taus_s``, events spread evenly
    over them) gives the burst envelopes, which then gate fresh white noise. Cost is a few
    passes over the clip whatever the event count. Returns ``(2, n)`` float32, unfiltered."""
    g = pan_gains(pans) * amps
    cls = np.arange(len(onsets)) % len(taus_s)
    env = np.zeros((2, n), np.float32)
    for k, tau in enumerate(taus_s):
        sel = cls == k
        if not np.any(sel):
            continue
        pole = np.float32(np.exp(-1.0 / (tau * sr)))
        imp = np.zeros((2, n), np.float32)
        for c in range(2):
            np.add.at(imp[c], onsets[sel], g[c, sel].astype(np.float32))
        env += signal.lfilter(np.ones(1, np.float32), np.array([1.0, -pole], np.float32), imp, axis=-1)
    noise = rng.random((2, n), dtype=np.float32)
    noise -= np.float32(0.5)
    return env * noise


def chirp_bank(rng: np.random.Generator, k: int, length: int, f0_lo: float, f0_hi: float, rise: tuple[float, float], tau_s: tuple[float, float], sr: int = SR) -> np.ndarray:
    """``k`` bubble-like chirps ``(k, length)``: a sine starting at log-uniform f0 whose pitch
    rises by ``rise`` (fraction over the event) and decays with time constant ``tau_s``."""
    t = np.arange(length) / sr
    f0 = np.exp(rng.uniform(np.log(f0_lo), np.log(f0_hi), k))[:, None]
    r = rng.uniform(*rise, k)[:, None]
    tau = rng.uniform(*tau_s, k)[:, None]
    dur = length / sr
    phase = 2 * np.pi * f0 * (t + 0.5 * r * t**2 / dur)
    env = np.exp(-t / tau) * np.minimum(1.0, t / 0.0008)
    return (np.sin(phase) * env).astype(np.float32)


def burst_bank(rng: np.random.Generator, k: int, length: int, lo_hz: tuple[float, float], hi_hz: tuple[float, float], tau_s: tuple[float, float], sr: int = SR) -> np.ndarray:
    """``k`` short band-passed noise bursts ``(k, length)`` with exponential decay."""
    t = np.arange(length) / sr
    out = np.empty((k, length), np.float32)
    for i in range(k):
        lo = rng.uniform(*lo_hz)
        hi = max(lo * 1.5, rng.uniform(*hi_hz))
        x = rng.standard_normal(length) * np.exp(-t / rng.uniform(*tau_s))
        out[i] = bandpass(x[None, :], lo, hi, 2, sr)[0]
        out[i] /= np.max(np.abs(out[i])) + 1e-9
    return out


def upsample_cycles(cycles: np.ndarray, n: int, sr: int = SR) -> np.ndarray:
    """Control-rate cumulative cycle counts (float64, can be huge) to audio-rate *fractional*
    cycles (float32, small), interpolating linearly within each control step."""
    step = sr // CTRL_HZ
    blocks = -(-n // step)
    base = (cycles[:blocks] % 1.0).astype(np.float32)
    inc = np.diff(cycles[: blocks + 1]).astype(np.float32)
    ramp = (np.arange(step, dtype=np.float32) / step)[None, :]
    return (base[:, None] + inc[:, None] * ramp).ravel()[:n]


def swept_band(rng: np.random.Generator, n: int, centre_hz: np.ndarray, bandwidth_hz: float, sr: int = SR) -> np.ndarray:
    """Narrow-band noise whose centre frequency follows ``centre_hz`` (a control-rate array):
    a slowly varying complex baseband noise heterodyned up to the centre. Costs a handful of
    float32 passes instead of a swept resonant filter. Returns ``(n,)`` float32, unit RMS."""
    m = len(centre_hz)
    z = rng.standard_normal((2, m))
    z = lowpass(z, max(bandwidth_hz / 2.0, 1.0), 2, CTRL_HZ)
    z /= np.sqrt(np.mean(z.astype(np.float64) ** 2)) + 1e-12
    zr, zi = upsample(z, n, sr)
    cyc = upsample_cycles(np.cumsum(np.asarray(centre_hz, np.float64)) / CTRL_HZ, n, sr)
    ph = cyc * np.float32(2 * np.pi)
    return (zr * np.cos(ph) - zi * np.sin(ph)) * np.float32(np.sqrt(0.5))
