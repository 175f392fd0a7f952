"""Seamless loops, one-shot events, the breathing swell."""

from __future__ import annotations

import numpy as np
import pytest

from studio.generation.catalogue import CATALOGUE

from procedural_helpers import SR, envelope, render

BEDS = [t.name for t in CATALOGUE if t.default_role == "background"]
EVENT_TYPES = [t.name for t in CATALOGUE if t.default_role == "foreground"] + ["cave_drips", "songbirds", "wind_chimes", "rain_light"]


@pytest.mark.parametrize("name", [t.name for t in CATALOGUE])
def test_loop_seam_is_no_bigger_than_a_typical_step(name):
    x = render(name, 4.0, seed=4, loop=True).astype(np.float64)
    assert x.shape == (2, 4 * SR)
    steps = np.abs(np.diff(x, axis=1))
    seam = np.abs(x[:, 0] - x[:, -1])
    typical = np.percentile(steps, 99.9, axis=1)
    assert np.all(seam <= typical + 1e-6), f"{name}: seam {seam} vs typical step {typical}"
    # and the level carries on across the seam: no dip or swell at the wrap
    wrapped = np.concatenate([x[:, -SR:], x[:, :SR]], axis=1)
    env = envelope(wrapped, 0.25)
    whole = envelope(x, 0.25)
    assert env.max() <= 2.0 * whole.max() + 1e-6


@pytest.mark.parametrize("name", ["drone_pad", "binaural_beats"])
def test_tonal_loops_are_exactly_periodic(name):
    """Tonal beds pick whole cycles per loop: tiling the clip continues every partial."""
    x = render(name, 5.0, seed=1, loop=True).astype(np.float64)
    tiled = np.concatenate([x, x], axis=1)
    d2 = np.abs(np.diff(tiled, 2, axis=1))
    seam = d2[:, x.shape[1] - 3 : x.shape[1] + 1].max()
    assert seam <= np.percentile(d2, 99.9) + 1e-9


@pytest.mark.parametrize("name", EVENT_TYPES)
def test_as_event_starts_at_once_and_decays_to_silence(name):
    from studio.generation.catalogue import BY_NAME

    seconds = BY_NAME[name].event_s or 4.0
    x = render(name, seconds, seed=2, as_event=True)
    assert x.shape == (2, round(seconds * SR))
    env = envelope(x, 0.01)
    peak = env.max()
    assert peak > 0.01
    first = np.flatnonzero(env > 0.1 * peak)[0] * 0.01
    assert first < 0.15 * seconds, f"{name}: event starts at {first:.2f} s"
    tail = env[-max(2, len(env) // 50) :]
    assert tail.max() < 0.01 * peak, f"{name}: tail at {20 * np.log10(tail.max() / peak):.0f} dB"
    assert np.abs(x[:, -1]).max() < 1e-4


def test_breathing_swell_follows_the_requested_pace():
    bpm = 6.0
    x = render("pink_noise", 30.0, seed=0, breaths_per_min=bpm, breath_depth=0.8)
    env = envelope(x, 0.1)
    spec = np.abs(np.fft.rfft(env - env.mean()))
    freqs = np.fft.rfftfreq(len(env), 0.1)
    assert abs(freqs[np.argmax(spec)] - bpm / 60) < 0.02
    assert env.max() / env.min() > 3.0  # a deep swell, as asked


def test_breathing_swell_fits_whole_breaths_into_a_loop():
    x = render("brown_noise", 25.0, seed=0, breaths_per_min=7.0, breath_depth=0.9, loop=True)
    env = envelope(x, 0.25)
    # 25 s at 7/min is 2.9 breaths: nudged to 3, so start and end of the loop match in level
    assert abs(env[:4].mean() - env[-4:].mean()) < 0.35 * env.mean()
