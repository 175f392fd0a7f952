"""Air and weather: breeze, gusty wind, wind through leaves, distant thunder.

- Wind is turbulence: pink/brown noise whose level follows a slow random gust envelope.
  Whistle and howl are narrow noise bands whose weights move with the gust level, so the
  perceived pitch rises as the wind strengthens (a cheap, vectorised stand-in for a swept
  resonant filter).
- Leaves are a Poisson field of tiny band-passed noise grains whose rate follows the gusts.
- Thunder (after Few, and Farnell's recipe): the N-waves of a tortuous lightning channel's
  few hundred segments, arriving over seconds as their distances differ (the roll), repeated
  off the ground, hills and clouds (2-4 duller reflections), over a low rumble following the
  arrivals, and a crack first for a close strike.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from studio.generation.procedural import dsp
from studio.generation.procedural.base import Ctx, generator


def _gusts(ctx: Ctx, rate_hz: float, depth: float, rows: int = 2) -> np.ndarray:
    """Control-rate gust level per channel, >= 0, mean about 1; the sides share most of it."""
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    common = dsp.smooth_random(ctx.rng, m, rate_hz)[0]
    own = dsp.smooth_random(ctx.rng, m, rate_hz * 2, rows)
    g = np.exp(depth * (0.8 * common + 0.35 * own))
    return g / g.mean()


def _howl(ctx: Ctx, level: np.ndarray, lo_hz: float, hi_hz: float, bandwidth_hz: float, voices: int = 2) -> np.ndarray:
    """Whistling/howling: narrow noise bands whose centre rises from ``lo_hz`` to ``hi_hz``
    with the gust ``level`` (control-rate, 0..1, per channel), one band per channel and voice."""
    out = np.zeros((2, ctx.n), np.float32)
    for v in range(voices):
        ratio = 1.0 + 0.37 * v  # a second, higher resonance (another gap the wind blows across)
        for c in range(2):
            centre = (lo_hz + (hi_hz - lo_hz) * level[c]) * ratio
            out[c] += dsp.swept_band(ctx.rng, ctx.n, centre, bandwidth_hz * ratio, ctx.sr) / (1 + v)
    return out


@generator("breeze")
def breeze(ctx: Ctx):
    i = ctx.u("intensity")
    g = _gusts(ctx, 0.06 + 0.12 * ctx.u("density"), 0.35 + 0.4 * i)
    # The wind recording (docs/procedural.md): a low rumble, flat in octaves 63-250 Hz and
    # falling ~8 dB an octave above, -40 dB at 8 kHz; intensity opens the top a little.
    # A faint hiss (11 % of the power, -7.5 dB/octave) is the air over the mics' windshield.
    # brightness opens the body's top edge too (x0.5..x1.5): the generic tilt acts above 2-3
    # kHz, where this low wind has almost nothing
    body = dsp.band_mag(35, (260 + 200 * i) * (0.5 + ctx.u("brightness")), 1.0)
    air = dsp.spectral_noise(ctx.rng, ctx.n, dsp.mix_mag((1.0, body), (0.12, dsp.band_mag(400, 12000, 2.5))), shared=0.25)
    lvl = np.clip((g - 0.5) / 1.5, 0, 1)
    whistle = _howl(ctx, lvl, 450, 900, 60.0, voices=1)
    # the recording's level also flutters at 0.5-2 Hz (eddies), not only in slow gusts; a
    # busier (denser) wind flutters faster and deeper
    d = ctx.u("density")
    flutter = np.exp((0.1 + 0.25 * d) * dsp.smooth_random(ctx.rng, g.shape[1], 0.8 + 0.8 * d, 2))
    g_up = dsp.upsample(g * flutter, ctx.n, ctx.sr)
    return air * g_up + 0.1 * whistle * g_up


@generator("wind_gusty")
def wind_gusty(ctx: Ctx):
    i = ctx.u("intensity")
    g = _gusts(ctx, 0.125 + 0.25 * ctx.u("density"), 0.5 + 0.4 * i)
    lvl = np.clip((g - 0.3) / 2.5, 0, 1)
    # the wind recording falls ~8 dB an octave above 250 Hz (2-8 kHz at -29..-40 dB): the
    # body rolls off from 350 Hz (x0.5..1.5 by brightness) and the hiss over it is 4 % of the power (was 25 %: 2-8 kHz
    # sat at -14 dB, a hiss rather than a wind)
    body = dsp.spectral_noise(ctx.rng, ctx.n, dsp.mix_mag((1.0, dsp.band_mag(30, 350 * (0.5 + ctx.u("brightness")), 1.0)), (0.04, dsp.band_mag(800, 10000, 2.0))), shared=0.3)
    howl = _howl(ctx, lvl, 200, 700, 40.0, voices=2)  # lower and fainter (the recording: 500 Hz-1 kHz at -16..-23 dB)
    g_up = dsp.upsample(g, ctx.n, ctx.sr)
    return body * g_up + (0.12 + 0.2 * i) * howl * g_up


@generator("wind_leaves")
def wind_leaves(ctx: Ctx):
    i, d = ctx.u("intensity"), ctx.u("density")
    g = _gusts(ctx, 0.15, 0.5 + 0.4 * i)
    rate = (600 + 1400 * d) * (g.mean(axis=0) ** 1.5)  # more leaves move in a gust
    onsets = dsp.poisson_times(ctx.rng, ctx.n, rate, ctx.sr)
    rustle = dsp.burst_train(ctx.rng, ctx.n, onsets, ctx.rng.lognormal(0, 0.5, len(onsets)), ctx.rng.uniform(-0.95, 0.95, len(onsets)), (0.001, 0.002, 0.004), ctx.sr)
    rustle = dsp.normalise_rms(dsp.bandpass(rustle, 1200, 7000, 2), 1.0)
    # the wind's own low rumble under the leaves (the wind recording), leaves 10 dB under it
    air = dsp.spectral_noise(ctx.rng, ctx.n, dsp.band_mag(35, 300, 1.0), shared=0.25)
    # the rumble follows the gusts only part-way (g^0.5): the leaves carry the gusts, and a
    # rumble swelling fully with them pushed a forest mix's loudness range over its style's
    return 0.18 * rustle + air * dsp.upsample(np.sqrt(g), ctx.n, ctx.sr)


SOUND_M_S = 343.0


def channel_arrivals(rng: np.random.Generator, distance_m: float, segments: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival times (s, first = 0), amplitudes and N-wave lengths (s) of the shock waves
    from a tortuous lightning channel, after Few's model of thunder (used by Farnell):
    the channel climbs from a ground point ``distance_m`` away to ~4 km up as a random walk
    of short segments; each segment's N-wave arrives after ``r / 343`` s, louder when the
    segment lies across the line of sight (its cylinder wave is aimed at us) and weaker
    with distance; long segments make long, low N-waves."""
    step = rng.uniform(20, 60, segments)
    direction = rng.standard_normal((segments, 3))
    direction[:, 2] = np.abs(direction[:, 2]) + 0.8  # mostly upward
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    pos = np.cumsum(direction * step[:, None], axis=0) + np.array([distance_m, 0.0, 0.0])
    r = np.linalg.norm(pos, axis=1)
    sight = pos / r[:, None]
    across = np.sqrt(np.clip(1.0 - np.sum(direction * sight, axis=1) ** 2, 0.0, 1.0))
    amp = step * (0.1 + across**4) / r * rng.lognormal(0.0, 0.4, segments)
    t = (r - r.min()) / SOUND_M_S
    return t, amp / amp.max(), 0.003 + 0.00025 * step


def _n_waves(n: int, times_s: np.ndarray, amps: np.ndarray, lengths_s: np.ndarray, pans: np.ndarray, sr: int) -> np.ndarray:
    """Sum N-waves (a linear swing from +1 to -1 over their length) at ``times_s``, grouped
    into three lengths so each group is one impulse train convolved with one N-wave."""
    out = np.zeros((2, n), np.float32)
    bins = np.quantile(lengths_s, [0.0, 1 / 3, 2 / 3, 1.0])
    g = dsp.pan_gains(pans) * amps
    for k in range(3):
        sel = (lengths_s >= bins[k]) & ((lengths_s < bins[k + 1]) if k < 2 else True)
        if not np.any(sel):
            continue
        L = max(8, int(np.mean(lengths_s[sel]) * sr))
        nwave = np.linspace(1.0, -1.0, L, dtype=np.float32) * np.hanning(L + 2)[1:-1].astype(np.float32) ** 0.3
        imp = np.zeros((2, n), np.float32)
        idx = (times_s[sel] * sr).astype(np.int64)
        ok = idx < n
        for c in range(2):
            np.add.at(imp[c], idx[ok], g[c, sel][ok].astype(np.float32))
        out += signal.oaconvolve(imp, nwave[None, :], axes=-1)[:, :n].astype(np.float32)
    return out


def _thunder(rng, n: int, sr: int, distance: float, intensity: float, brightness: float) -> np.ndarray:
    """One roll, stereo ``(2, n)``: starts at frame 0 and has decayed by ``n``.

    The shock waves of every channel segment arrive over several seconds (the roll), and
    each comes again off the ground, hills and cloud base (2-4 reflections, 0.3-3 s later,
    weaker and duller), with a low rumble (brown noise following the arrivals' smoothed
    envelope) beneath. Air absorbs the highs with distance: the strike is always at least
    half-way distant (the type is distant thunder: ``distance`` 0..1 maps to 0.5..1, 2-10
    km). Only a close (``distance`` < 0.15), strong (``intensity`` > 0.6) strike cracks
    first. ``intensity`` brightens the rumble and adds segments; ``brightness`` opens the
    rumble's low-pass."""
    far = 0.5 + 0.5 * distance
    dur = n / sr
    km = 2.0 + 8.0 * (far - 0.5) / 0.5
    t, amp, length = channel_arrivals(rng, km * 1000.0, int(250 + 300 * intensity))
    # a short clip hears the roll squeezed into its first ~85 %
    t = t * min(1.0, 0.6 * dur / max(t.max() + 3.0, 1e-3)) + 0.02
    pans = np.clip(rng.uniform(-0.5, 0.5) + 0.3 * rng.standard_normal(len(t)), -0.9, 0.9)
    x = _n_waves(n, t, amp, length, pans, sr)
    for _ in range(int(rng.integers(2, 5))):  # reflections, each later one weaker and duller
        delay = int(rng.uniform(0.3, 3.0) * min(1.0, dur / 12.0) * sr)
        if delay < n:
            echo = dsp.lowpass(x[::-1] if rng.random() < 0.5 else x, rng.uniform(250, 700), 1)[:, : n - delay]
            x[:, delay:] += rng.uniform(0.25, 0.55) * echo
    cutoff = (900 - 750 * far) * (0.75 + 0.5 * intensity) * (0.4 + 1.2 * brightness)
    # voiced against the storm recording (docs/procedural.md): its octaves fall only ~5.5 dB
    # an octave from 250 Hz to 2 kHz; the old -7 dB/octave rumble sounded like a far sub-woofer
    x = dsp.lowpass(x, max(cutoff * 6.0, 150.0), 2)
    # the rumble: low noise following the rolling arrivals, slower to fade
    m = dsp.ctrl_len(n, sr)
    hits = np.zeros(m)
    np.add.at(hits, np.minimum((t * dsp.CTRL_HZ).astype(np.int64), m - 1), amp)
    tail = np.exp(-np.arange(int(1.2 * dsp.CTRL_HZ)) / (0.35 * dsp.CTRL_HZ))
    env = np.clip(signal.oaconvolve(hits, tail)[:m], 0.0, None)
    rumble = dsp.spectral_noise(rng, n, dsp.band_mag(40, 2.5 * cutoff, 1.3), shared=0.3) * dsp.upsample(np.sqrt(env / (env.max() + 1e-12)), n, sr)
    x = dsp.normalise_rms(x, 1.0) + (0.6 - 0.3 * intensity) * dsp.normalise_rms(rumble, 1.0)
    if distance < 0.15 and intensity > 0.6:  # a close, strong strike cracks first
        crack_len = min(n, int(0.4 * sr))
        tt = np.arange(crack_len) / sr
        crack = dsp.highpass(rng.standard_normal((2, crack_len)), 300, 2) * np.exp(-tt / 0.08) * (0.6 + intensity)
        s0 = int(0.05 * sr)
        fit = max(0, min(crack_len, n - s0))
        x[:, s0 : s0 + fit] += 2.0 * crack[:, :fit]
    return x


def thunder_event(ctx: Ctx):
    return _thunder(ctx.rng, ctx.n, ctx.sr, ctx.u("distance"), ctx.u("intensity"), ctx.u("brightness"))


@generator("thunder", event=thunder_event, events_per_min=1.5, params=("events_per_min",))
def thunder(ctx: Ctx):
    rng = ctx.rng
    times = dsp.jittered_times(rng, ctx.duration_s, ctx.p["events_per_min"], jitter=0.5)
    out = np.zeros((2, ctx.n), np.float32)
    for t in times:
        s = int(t * ctx.sr)
        length = min(ctx.n - s, int(12 * ctx.sr))
        if length > int(0.5 * ctx.sr):
            out[:, s : s + length] += rng.uniform(0.5, 1.0) * _thunder(rng, length, ctx.sr, ctx.u("distance"), ctx.u("intensity"), ctx.u("brightness"))
    # faint storm air between rolls, so the bed is never digital silence
    # and the storm's distant grumble between rolls: the storm recording never drops more
    # than ~15 dB under its loud moments (level std 5.5 dB; the rolls alone gave 10 dB)
    air = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(40, 1500, 1.2), shared=0.2)
    grumble = dsp.upsample(np.exp(0.5 * dsp.smooth_random(rng, dsp.ctrl_len(ctx.n, ctx.sr), 0.3)), ctx.n, ctx.sr)
    return out + 0.06 * air * grumble
