"""Seamless loops, one-shot events, the breathing swell."""

from __future__ import annotations

import numpy as np
import pytest

from studio.sounds.catalogue import CATALOGUE

from procedural_helpers import SR, envelope, render

BEDS = [t.name for t in CATALOGUE if t.default_role == "background"]
EVENT_TYPES = [t.name for t in CATALOGUE if t.default_role == "foreground"] + ["cave_drips", "songbirds", "wind_chimes", "rain_light"]


@pytest.mark.parametrize("name", ["drone_pad", "binaural_beats"])
def test_tonal_loops_are_exactly_periodic(name):
    """Tonal beds pick whole cycles per loop: tiling the clip continues every partial."""
    x = render(name, 5.0, seed=1, loop=True).astype(np.float64)
    tiled = np.concatenate([x, x], axis=1)
    d2 = np.abs(np.diff(tiled, 2, axis=1))
    seam = d2[:, x.shape[1] - 3 : x.shape[1] + 1].max()
    assert seam <= np.percentile(d2, 99.9) + 1e-9


@pytest.mark.parametrize("name, seconds", [(n, None) for n in EVENT_TYPES] + [(t.name, 1.0) for t in CATALOGUE])
def test_as_event_starts_at_once_and_decays_to_silence(name, seconds):
    """At its natural length, and squeezed into 1 s (the event then decays early instead of
    being cut off)."""
    from studio.sounds.catalogue import BY_NAME

    seconds = seconds or BY_NAME[name].event_s or 4.0
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


SMOOTH = ["singing_bowl", "kalimba", "wind_chimes", "drone_pad", "binaural_beats", "owl", "songbirds", "seagulls", "crickets", "insect_hum", "frogs", "breeze"]


@pytest.mark.parametrize("name", SMOOTH)
def test_tonal_and_smooth_types_have_no_clicks(name):
    """No sample-to-sample jump far above the signal's own largest steps (a click is a step
    several times bigger than anything the sound does): strikes and plucks have soft onsets."""
    from studio.sounds.catalogue import BY_NAME

    for x in (render(name, 8.0, seed=5), render(name, BY_NAME[name].event_s or 4.0, seed=5, as_event=True)):
        steps = np.abs(np.diff(x.astype(np.float64), axis=1)).max(axis=0)
        ratio = steps.max() / np.percentile(steps, 99.9)
        assert ratio < 2.5, f"{name}: largest step {ratio:.1f}x the 99.9th percentile"


@pytest.mark.parametrize("seconds, band, beat", [(7.3, "theta", 6.0), (9.1, "delta", 2.0), (5.0, "beta", 18.0)])
def test_looped_binaural_beats_keep_the_beat_within_a_tenth_of_a_hertz(seconds, band, beat):
    """Loops nudge the beat to whole cycles per loop: for loops of 5 s or more that is at
    most 0.1 Hz off the preset."""
    from studio.generation.procedural.tonal import binaural_freqs

    x = render("binaural_beats", seconds, seed=1, loop=True, band=band).astype(np.float64)
    left, right = binaural_freqs({"beat_hz": beat, "carrier_hz": 200.0}, x.shape[1], SR)
    assert abs((right - left) - beat) <= 0.1
    # and the audio has those frequencies: each channel is one pure tone at its frequency
    for ch, want in zip(x, (left, right)):
        spec = np.abs(np.fft.rfft(ch * np.hanning(len(ch))))
        got = np.argmax(spec) * SR / len(ch)
        assert abs(got - want) <= SR / len(ch)


def test_the_prompt_can_ask_for_the_breathing_swell():
    """"... 4 breaths a minute" in a prompt (the plan table's prompt column, the CLI's plan
    JSON) turns the swell on at that pace; an explicit ``breaths_per_min`` wins."""
    from studio.errors import InputError
    from studio.generation.procedural.backend import ProceduralBackend

    backend = ProceduralBackend()
    x = backend.generate("pink noise, 4 breaths a minute", duration_s=30.0, seed=0, breath_depth=0.8).samples
    env = envelope(x, 0.1)
    spec = np.abs(np.fft.rfft(env - env.mean()))
    assert abs(np.fft.rfftfreq(len(env), 0.1)[np.argmax(spec)] - 4 / 60) < 0.02
    meta = backend.metadata("pink noise with a breathing swell", type="pink_noise")
    assert meta["params"]["breaths_per_min"] == 6.0
    assert backend.metadata("brown noise, 9 breaths per minute", breaths_per_min=5)["params"]["breaths_per_min"] == 5
    assert "breaths_per_min" not in backend.metadata("a person breathing calmly", type="pink_noise")["params"]
    # a number in the words is a hint: out of range, the swell stays off and the note says why
    meta = backend.metadata("river, 90 breaths a minute", type="river")
    assert "breaths_per_min" not in meta["params"]
    assert meta["notes"] == ["breathing swell off: the prompt asks for 90 breaths a minute; the swell takes 2 to 30"]
    assert backend.generate("river, 1 breath a minute", duration_s=2.0, seed=0, type="river").samples.shape == (2, 2 * SR)
    with pytest.raises(InputError, match="breaths_per_min must be between 2 and 30; got 90"):
        backend.generate("pink noise", duration_s=2.0, seed=0, breaths_per_min=90)  # an explicit setting is checked
