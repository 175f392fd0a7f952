"""Synthetic layer sources and plans for the mixer tests (numpy only, no backend)."""

from __future__ import annotations

import numpy as np

from studio.types import AudioClip, EventSpec, LayerSource, LayerSpec, MasterSpec, ScenePlan


def noise_take(rng: np.random.Generator, seconds: float, sample_rate: int = 48_000, channels: int = 2,
               tilt: float = 1.0, level: float = 0.2) -> AudioClip:
    """Coloured noise (spectral tilt ``tilt``: 0 white, 1 pink, 2 brown) with a slow swell."""
    n = max(64, int(seconds * sample_rate))
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    f[0] = f[1]
    spec *= (f / 1000.0) ** (-tilt / 2.0)
    x = np.fft.irfft(spec, n, axis=-1)
    x /= np.abs(x).max() + 1e-12
    t = np.arange(n) / sample_rate
    x *= 0.75 + 0.25 * np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 6))
    return AudioClip((level * x).astype(np.float32), sample_rate)


def tone_take(seconds: float, freq: float, sample_rate: int = 48_000, decay: float = 3.0) -> AudioClip:
    """A mono decaying tone, like a bell or a call: an event take."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return AudioClip((0.5 * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t)).astype(np.float32), sample_rate)


def simple_plan(duration_s: float = 20.0, target_lufs: float = -18.0, ceiling_dbtp: float = -1.0,
                events: EventSpec | None = None, **master) -> ScenePlan:
    bed = LayerSpec(name="rain", role="background", prompt="rain", seed=11)
    wind = LayerSpec(name="wind", role="background", prompt="wind", seed=12, gain_db=-6.0, pan=0.3, width=1.4)
    owl = LayerSpec(name="owl", role="foreground", prompt="owl", seed=13,
                    events=events or EventSpec(mean_interval_s=4.0, event_s=1.5, min_gap_s=1.0, level_db=-3.0, takes=2))
    return ScenePlan(style="meditation", duration_s=duration_s, seed=5, layers=(bed, wind, owl),
                     master=MasterSpec(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, **master))


def simple_sources(plan: ScenePlan, seed: int = 0) -> list[LayerSource]:
    rng = np.random.default_rng(seed)
    out = []
    for spec in plan.layers:
        if spec.role == "background":
            clips = (noise_take(rng, 6.0, 44_100, 2, 1.0), noise_take(rng, 5.0, 44_100, 2, 1.0))
            if spec.name == "wind":
                clips = (noise_take(rng, 7.0, 32_000, 1, 2.0),)
        else:
            clips = tuple(tone_take(spec.events.event_s, 600.0 + 150 * k, 32_000) for k in range(spec.events.takes))
        out.append(LayerSource(spec, clips, "synthetic"))
    return out
