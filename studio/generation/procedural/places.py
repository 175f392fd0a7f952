"""People and places: distant city traffic, café murmur, children playing, clock ticking,
footsteps on gravel.

- Traffic: a low rumble bed plus car passes, each a noise swell (engine band + tyre hiss) that
  travels across the stereo field as it rises and falls (a pass-by envelope).
- Café: babble of 6-14 formant-filtered glottal voices (men and women) talking in phrases of
  4-5 syllables a second at three tables, the odd cup clink, in a room reverb over the
  room's own low air.
- Children playing: a few high voices (250-420 Hz, shorter vocal tracts), excited pitch
  swings and bursts of play, far off in a park.
- Clock: alternating tick and tock, each a few damped metallic modes, very regular, in a
  small room (the reverb's two independent tails give the stereo image).
- Gravel: a walker's gait (90-120 steps a minute in bouts, with stride jitter, a slight limp
  and pauses); each footfall's heel-to-toe force curve sets when stones shift, each shift a
  stone tick (two small modes and a click), plus the heel's low thump.
- Voices (café, children at play): formant-filtered glottal babble, see :mod:`.voices`.
"""

from __future__ import annotations

import numpy as np

from studio.generation.procedural import dsp, voices
from studio.generation.procedural.base import Ctx, generator


@generator("city_traffic", params=("events_per_min",))
def city_traffic(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    m = dsp.ctrl_len(n, sr)
    tc = dsp.ctrl_time(m)
    env_engine = np.zeros((2, m))
    env_tyre = np.zeros((2, m))
    joints: list[tuple[float, float, np.ndarray]] = []
    rate = ctx.p.get("events_per_min") or (10 + 25 * d)
    for t in dsp.jittered_times(rng, ctx.duration_s + 8.0, rate, jitter=0.9, start_s=-4.0):
        dur = rng.uniform(3.0, 7.0)
        u = (tc - t) / dur
        shape = np.exp(-0.5 * ((u - 0.5) / 0.17) ** 2)  # pass-by swell
        direction = rng.choice([-1.0, 1.0])
        pan = np.clip(direction * (u - 0.5) * 1.6, -0.95, 0.95)
        g = dsp.pan_gains(pan) * rng.uniform(0.3, 1.0)
        env_engine += shape * g
        env_tyre += shape**2 * g
        if rng.random() < JOINT_SHARE:  # over a joint near the listener, at the swell's peak
            joints.append((t + 0.5 * dur, rng.uniform(0.17, 0.37), dsp.pan_gains(rng.uniform(-0.3, 0.3)) * rng.uniform(0.3, 1.0)))
    # Voiced against the city recording (docs/procedural.md): a street heard from a window
    # peaks at 250 Hz (engine and exhaust, reflected off the buildings), lies 6-10 dB down at
    # 63 Hz and 1 kHz and falls fast above 2 kHz (tyres are far; the high end is absorbed).
    engine = dsp.spectral_noise(rng, n, dsp.band_mag(130, 900, 0.8), shared=0.2)
    tyre = dsp.spectral_noise(rng, n, dsp.band_mag(600, 2400, 0.8), shared=0.1)
    rumble = dsp.spectral_noise(rng, n, dsp.band_mag(45, 350, 1.0), shared=0.3)
    drift = dsp.upsample(np.exp(0.3 * dsp.smooth_random(rng, m, 0.05, 2)), n, sr)
    # the road under the tyres: patched asphalt, joints and covers at 1-5 m go by at 8-15 m/s,
    # so the tyre and engine noise flutter at 2-10 Hz (the city recording's level moves
    # 15-25 dB more at 1-16 Hz than the smooth swells did), and some cars thump over a joint
    # with both axles, wheelbase / speed (0.17-0.37 s) apart
    road = np.exp(ROAD_FLUTTER_DB / 8.7 * dsp.smooth_random(rng, m, ROAD_FLUTTER_HZ, 2))
    road /= np.sqrt(np.mean(road**2, axis=1, keepdims=True))  # flutter, not a louder road
    thumps = _joint_thumps(ctx, tc, joints)
    # the far traffic of the whole city: a steady hiss over the top (the recording's 4-10 kHz
    # bands hold within 2.5-4 dB from frame to frame, where the lone pass-bys swung 10 dB)
    far = dsp.spectral_noise(rng, n, dsp.band_mag(*FAR_HISS_BAND), shared=0.3)
    return ((0.6 + 0.4 * i) * engine * dsp.upsample(env_engine * road**0.5, n, sr) + 0.55 * tyre * dsp.upsample(env_tyre * road, n, sr)
            + 0.5 * rumble * drift + THUMP_GAIN * thumps + FAR_HISS * far * drift)


FAR_HISS = 0.15  # the far traffic's hiss (RMS against the engine noise)
FAR_HISS_BAND = (1000.0, 10000.0, 3.0)
ROAD_FLUTTER_HZ = 8.0  # how often the road surface changes under the tyres
ROAD_FLUTTER_DB = 5.0  # std of the road-surface flutter of the tyre noise (dB)
THUMP_GAIN = 0.2  # joint thumps' RMS against the engine noise
JOINT_SHARE = 0.3  # share of pass-bys that cross a joint or cover near the listener


def _joint_thumps(ctx: Ctx, tc: np.ndarray, joints: list[tuple[float, float, np.ndarray]]) -> np.ndarray:
    """Two thumps per car crossing a joint (front and rear axle): short low-mid noise bursts
    (80-1500 Hz, 15-40 ms) from a bank of 16. Unit RMS ``(2, ctx.n)`` (zeros if none)."""
    n, sr, rng = ctx.n, ctx.sr, ctx.rng
    bank = dsp.burst_bank(ctx.fixed_rng("thumps"), 16, int(0.15 * sr), (80.0, 160.0), (900.0, 1500.0), (0.015, 0.04), sr)
    on, gains = [], []
    for t, gap, g in joints:
        for k, level in ((0, 1.0), (1, rng.uniform(0.6, 0.9))):
            on.append(int((t + k * gap) * sr))
            gains.append(g * level)
    if not on:
        return np.zeros((2, n), np.float32)
    out = dsp.overlap_add_bank(n, np.array(on), bank, rng.integers(0, len(bank), len(on)), np.array(gains).T)
    return dsp.normalise_rms(out, 1.0)


def _talkers(rng, count: int, buses: int, f0_range: tuple[float, float], syll: float, scale: float, excitement: float) -> list:
    """``count`` talkers spread over ``buses`` with their own pitch, pace and level (a fixed
    stream, so each keeps its voice for the whole track)."""
    out = []
    for v in range(count):
        f0 = float(np.exp(rng.uniform(*np.log(f0_range))))
        out.append((voices.Talker(f0, 10 ** (-rng.uniform(0, 9) / 20), syll * rng.uniform(0.8, 1.2), scale, excitement), v % buses))
    return out


@generator("cafe_murmur")
def cafe_murmur(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    count = 6 + int(round(8 * d))
    # men and women at tables left, centre and right; raised voices talk more and higher
    frng = ctx.fixed_rng("talkers")
    people = _talkers(frng, count // 2, 3, (95, 140), 4.5, 1.0, 0.2 * i) + _talkers(frng, count - count // 2, 3, (170, 240), 4.5, 1.1, 0.2 * i)
    buses = voices.babble(rng, people, n, 3, sr, talk_share=0.45 + 0.3 * i, breath=0.25 - 0.15 * i)
    g = dsp.pan_gains(np.array([-0.7, 0.0, 0.7]))
    out = dsp.normalise_rms(np.einsum("cb,bn->cn", g.astype(np.float32), buses), 1.0)
    clinks = np.stack([dsp.modal(int(0.6 * sr), ctx.fixed_rng("cups", k).uniform(2000, 6000, 3), np.array([1, 0.6, 0.4]), np.array([0.3, 0.2, 0.1])) for k in range(6)])
    on = dsp.poisson_times(rng, n, 0.5 + 1.0 * d, sr)  # the recording: ~2 onsets/s
    out += 0.35 * dsp.overlap_add_bank(n, on, clinks, rng.integers(0, 6, len(on)), dsp.pan_gains(rng.uniform(-0.8, 0.8, len(on))) * rng.uniform(0.2, 0.7, len(on)))
    out = dsp.stereo_reverb(out, ctx.fixed_rng("room"), rt60_s=0.9, wet=0.6, damping_hz=4000.0)
    # the room itself: ventilation and the street outside, under the talk
    # and its top: cutlery, the espresso machine's hiss, chairs; the coffee-shop recording
    # keeps 2-8 kHz octaves 20-23 dB under the total where voices alone fall to -50 dB.
    # One noise for both (RMS gains 0.45 and 0.13): a second FFT noise cost 5 % of the render.
    room = dsp.spectral_noise(rng, n, dsp.mix_mag((0.45, dsp.band_mag(50, 900, 1.5)), (0.13, dsp.band_mag(4500, 11000, 0.5))), shared=0.3)
    return out + float(np.hypot(0.45, 0.13)) * room


@generator("children_playing")
def children_playing(ctx: Ctx):
    """Children at play across a park or yard: high, excited voices calling and laughing in
    bursts, at a distance, with the open air under them."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    i, d = ctx.u("intensity"), ctx.u("density")
    count = 3 + int(round(5 * d))
    kids = _talkers(ctx.fixed_rng("kids"), count, 3, (250, 420), 5.0, 1.25, 0.5 + 0.5 * i)
    buses = voices.babble(rng, kids, n, 3, sr, talk_share=0.35 + 0.3 * i, breath=0.2)
    g = dsp.pan_gains(np.array([-0.8, 0.1, 0.75]))
    out = dsp.normalise_rms(np.einsum("cb,bn->cn", g.astype(np.float32), buses), 1.0)
    out = dsp.stereo_reverb(dsp.lowpass(out, 6000, 1), ctx.fixed_rng("park"), rt60_s=1.2, wet=0.5, damping_hz=3500.0)
    air = dsp.spectral_noise(rng, n, dsp.band_mag(40, 2500, 1.5), shared=0.25)
    return out + (0.3 - 0.2 * i) * air


def _tick(rng, sr: int, base: float, hard: float) -> np.ndarray:
    """One tick: four damped metallic modes and an escapement click; a ``hard`` (0..1)
    tick rings the upper modes more and clicks louder."""
    length = int(0.06 * sr)
    amps = np.array([1.0, 0.7, 0.5, 0.3]) * (0.4 + 1.2 * hard) ** np.arange(4)
    x = dsp.modal(length, base * np.array([1.0, 1.63, 2.41, 3.9]), amps, np.array([0.02, 0.015, 0.01, 0.006]), rng.uniform(0, 6.28, 4))
    click = 0.05 + 0.5 * hard
    noise = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.0004 * sr))
    return (x + click * noise).astype(np.float32)


@generator("clock_ticking", impulsive=True, events_per_min=60.0, params=("events_per_min",))
def clock_ticking(ctx: Ctx):
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    frng = ctx.fixed_rng("clock")
    base = frng.uniform(2200, 3200) * (0.8 + 0.4 * ctx.u("brightness"))
    hard = ctx.u("intensity")  # a heavier escapement ticks harder
    bank = np.stack([_tick(frng, sr, base, hard), _tick(frng, sr, base * 0.84, hard)])  # tick, tock
    step = 60.0 / ctx.p["events_per_min"]
    first = (0.5 * step - ctx.t0_s) % step  # the same beat grid across chunks, off the loop seam
    times = np.arange(first, ctx.duration_s, step) + rng.normal(0, 0.0015, int(np.ceil((ctx.duration_s - first) / step)))
    beat = np.round((times + ctx.t0_s) / step).astype(np.int64)
    onsets = (times * sr).astype(np.int64)
    pan = frng.uniform(-0.3, 0.3)
    gains = np.repeat(dsp.pan_gains(pan)[:, None], len(onsets), axis=1) * rng.uniform(0.9, 1.0, len(onsets))
    dry = dsp.overlap_add_bank(n, onsets, bank, beat % 2, gains)
    room = dsp.spectral_noise(rng, n, dsp.band_mag(40, 2000, 1.5), shared=0.0)
    return dsp.stereo_reverb(dry, frng, rt60_s=0.5, wet=1.2, damping_hz=6000.0) + 0.004 * room


def gait(rng: np.random.Generator, duration_s: float, per_min: float, pauses: bool = True, start_s: float = 0.0) -> np.ndarray:
    """Step onsets (s) of a walker at a cadence of ``per_min`` steps a minute while walking.

    Walking comes in bouts of 6-30 steps, each at its own pace (x0.93-1.07), with 2.5 %
    stride-to-stride jitter and a slight limp between the two feet (+-1.5 %, alternating);
    with ``pauses`` the walker stops for 1.5-5 s between bouts (looks around, waits)."""
    base = 60.0 / per_min
    times = []
    t = start_s + rng.uniform(0.05, 0.5) * base
    while t < start_s + duration_s:
        pace = base * rng.uniform(0.93, 1.07)
        steps = int(rng.integers(6, 31)) if pauses else 10**9
        for k in range(steps):
            if t >= start_s + duration_s:
                break
            times.append(t)
            t += pace * (1.0 + 0.015 * (-1) ** k + 0.025 * rng.standard_normal())
        t += rng.uniform(1.5, 5.0)
    return np.array(times)


STEP_S = 0.45  # one footfall's force curve, heel strike to toe-off


def step_force(rng: np.random.Generator, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """One footfall at control rate over :data:`STEP_S`: the ground force (heel strike peak
    at 12-20 ms, the roll onto the toe peaking at 140-220 ms, off by ~0.35 s) and the rate
    at which stones shift under it (proportional to the force's growth plus a share of the
    force itself: gravel crunches as the load moves). Both ``(STEP_S*1000,)``, peak 1."""
    t = dsp.ctrl_time(int(STEP_S * dsp.CTRL_HZ))
    th = rng.uniform(0.012, 0.02)
    heel = (t / th) * np.exp(1.0 - t / th)
    tt = rng.uniform(0.14, 0.22)
    toe = rng.uniform(0.6, 0.9) * np.exp(-0.5 * ((t - tt) / rng.uniform(0.035, 0.055)) ** 2)
    force = heel + toe
    force /= force.max()
    shift = np.clip(np.gradient(force) * dsp.CTRL_HZ, 0.0, None) / 40.0 + 0.25 * force * weight
    return force, shift / shift.max()


def _stone_ticks(rng: np.random.Generator, k: int, sr: int) -> np.ndarray:
    """``k`` stone ticks ``(k, L)``: two small stone modes (1.5-9 kHz, ringing 0.5-3 ms) and the click of contact."""
    length = int(0.01 * sr)
    t = np.arange(length) / sr
    out = np.empty((k, length), np.float32)
    for j in range(k):
        f = np.exp(rng.uniform(np.log(1500), np.log(9000), 2))
        x = dsp.modal(length, f, rng.uniform(0.4, 1.0, 2), rng.uniform(0.0015, 0.008, 2), rng.uniform(0, 6.28, 2))
        x += 0.4 * rng.standard_normal(length) * np.exp(-t / 0.0003)
        out[j] = x / (np.max(np.abs(x)) + 1e-9)
    return out


def _steps(ctx: Ctx, times: np.ndarray, pans: np.ndarray) -> np.ndarray:
    """Footfalls at ``times``: grains of gravel (stone ticks) born along each step's force
    curve, and the heel's low thump on the ground."""
    rng, sr, n = ctx.rng, ctx.sr, ctx.n
    ticks = _stone_ticks(ctx.fixed_rng("gravel"), 32, sr)
    frng = ctx.fixed_rng("thump")
    tl = int(0.12 * sr)
    thump = dsp.modal(tl, frng.uniform(70, 110) * np.array([1.0, 1.6]), np.array([1.0, 0.4]), np.array([0.05, 0.03]), np.zeros(2))
    thump += 0.5 * dsp.lowpass(frng.standard_normal((1, tl)) * np.exp(-np.arange(tl) / (0.012 * sr)), 400, 2)[0]
    thump = (thump * np.minimum(1.0, np.arange(tl) / (0.004 * sr))).astype(np.float32)  # a soft heel, not a click
    weight = 0.6 + 0.8 * ctx.u("intensity")
    onsets, amps, ps = [], [], []
    for t, pan in zip(times, pans):
        _, shift = step_force(rng, weight)
        cdf = np.cumsum(shift)
        k = int(110 * weight * rng.uniform(0.8, 1.2))
        at = np.searchsorted(cdf, rng.random(k) * cdf[-1]) / dsp.CTRL_HZ + rng.random(k) / dsp.CTRL_HZ
        onsets.append(((t + at) * sr).astype(np.int64))
        amps.append(rng.lognormal(0, 0.6, k) * (0.5 + shift[np.minimum((at * dsp.CTRL_HZ).astype(int), len(shift) - 1)]))
        ps.append(np.full(k, pan) + rng.normal(0, 0.05, k))
    if not onsets:
        return np.zeros((2, n), np.float32)
    on = np.concatenate(onsets)
    out = dsp.overlap_add_bank(n, on, ticks, rng.integers(0, len(ticks), len(on)), dsp.pan_gains(np.concatenate(ps)) * np.concatenate(amps))
    out = dsp.normalise_rms(out, 1.0) if np.any(out) else out
    heel_on = (np.asarray(times) * sr).astype(np.int64)
    heel_g = dsp.pan_gains(pans) * (0.5 + 0.6 * weight) * rng.uniform(0.8, 1.0, len(times))
    return out + 1.5 * dsp.overlap_add_bank(n, heel_on, thump[None, :], np.zeros(len(times), np.int64), heel_g)


def footsteps_event(ctx: Ctx):
    """A short walk (no pauses): steps start at once, and the last has settled before the end."""
    times = gait(ctx.rng, max(ctx.duration_s - STEP_S, 0.3), ctx.p["events_per_min"], pauses=False)
    times = times - times[0] + 0.01 if len(times) else np.array([0.01])
    pans = np.linspace(-0.4, 0.4, len(times)) * ctx.rng.choice([-1, 1])
    out = _steps(ctx, times, pans)
    return dsp.stereo_reverb(out, ctx.fixed_rng("yard"), rt60_s=0.4, wet=0.3, damping_hz=5000.0)


@generator("footsteps_gravel", impulsive=True, event=footsteps_event, events_per_min=105.0, params=("events_per_min",))
def footsteps_gravel(ctx: Ctx):
    rng = ctx.rng
    times = gait(rng, ctx.duration_s, ctx.p["events_per_min"], pauses=True)
    m = dsp.ctrl_len(ctx.n, ctx.sr)
    path = np.tanh(1.2 * dsp.smooth_random(rng, m, 0.05)[0])  # the walker wanders across
    ci = np.minimum((times * dsp.CTRL_HZ).astype(np.int64), m - 1)
    out = _steps(ctx, times, path[ci] + 0.08 * (np.arange(len(times)) % 2 - 0.5))
    out = dsp.stereo_reverb(out, ctx.fixed_rng("yard"), rt60_s=0.5, wet=0.5, damping_hz=5000.0)
    air = dsp.spectral_noise(rng, ctx.n, dsp.band_mag(60, 1500, 1.5), shared=0.2)
    return out + 0.01 * air
