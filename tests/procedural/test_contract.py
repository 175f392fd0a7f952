"""The backend contract the pipeline relies on: attributes, exact length, stereo float32,
parameter validation, determinism, progress and cancellation, long renders in chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.errors import CancelledError, InputError, StudioError
from studio.sounds.catalogue import BY_NAME, CATALOGUE
from studio.types import AudioClip

from procedural_helpers import SR, envelope, render

ALL_TYPES = [t.name for t in CATALOGUE]
BEDS = [t.name for t in CATALOGUE if t.default_role == "background"]


def test_attributes_and_registry():
    from studio.generation import BACKENDS

    backend = BACKENDS.create("procedural")
    assert backend.name == "procedural"
    assert backend.sample_rate == 48_000
    assert backend.max_clip_s >= 3600.0
    assert BACKENDS.availability("procedural")[0]


def test_every_catalogue_type_has_a_generator():
    from studio.generation.procedural.generators import GENERATORS

    assert set(GENERATORS) == set(BY_NAME)
    assert len(GENERATORS) == 40


@pytest.mark.parametrize("seconds", [0.37, 1.0, 2.34567, 61.3])
def test_exact_length_stereo_float32(backend, seconds):
    clip = backend.generate("pink", duration_s=seconds, seed=3, type="pink_noise")
    assert isinstance(clip, AudioClip)
    assert clip.sample_rate == 48_000
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == (2, round(seconds * 48_000))


@pytest.mark.parametrize("name", ALL_TYPES)
def test_any_duration_down_to_the_minimum(backend, name):
    """The shortest clips (10 ms, 50 ms) work for every type as a bed, a loop and an event."""
    for seconds in (0.01, 0.05):
        for mode in ({}, {"loop": True}, {"as_event": True}):
            x = backend.generate("x", duration_s=seconds, seed=1, type=name, **mode).samples
            assert x.shape == (2, round(seconds * SR)) and x.dtype == np.float32, (seconds, mode)
            assert np.isfinite(x).all() and np.abs(x).max() < 1.0, (seconds, mode)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_each_type_is_clean_stereo_at_a_sensible_level(name):
    x = render(name)
    assert x.shape == (2, 6 * SR) and x.dtype == np.float32
    assert np.isfinite(x).all()
    peak = float(np.abs(x).max())
    assert peak < 1.0
    # no DC offset
    assert np.abs(x.astype(np.float64).mean(axis=1)).max() < 1e-3
    rms_db = 20 * math.log10(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))))
    assert -32.0 < rms_db < -14.0, f"{name}: RMS {rms_db:.1f} dBFS"
    # a real stereo image, never duplicated mono
    corr = float(np.corrcoef(x[0], x[1])[0, 1])
    assert corr < 0.9, f"{name}: inter-channel correlation {corr:.2f}"
    # no click at the start or end: the clip fades in from and out to silence
    ramp = np.linspace(0.0, 1.0, 480) * peak + 1e-6
    assert np.all(np.abs(x[:, :480]) <= ramp)
    assert np.abs(x[:, -1]).max() < 1e-3


@pytest.mark.parametrize("name", ALL_TYPES)
def test_same_seed_same_output_different_seed_different(backend, name):
    a = backend.generate("x", duration_s=2.0, seed=11, type=name).samples
    b = backend.generate("x", duration_s=2.0, seed=11, type=name).samples
    c = backend.generate("x", duration_s=2.0, seed=12, type=name).samples
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_unknown_params_are_ignored(backend):
    a = backend.generate("rain", duration_s=1.0, seed=5, type="rain_light").samples
    b = backend.generate("rain", duration_s=1.0, seed=5, type="rain_light", negative_prompt="music", guidance=3.0).samples
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"intensity": 1.5}, "intensity must be between 0 and 1"),
        ({"distance": "far"}, "distance must be a number"),
        ({"density": True}, "density must be a number"),
        ({"events_per_min": 0}, "events_per_min must be between"),
        ({"key": "H"}, "key must be a note name"),
        ({"mode": "blues"}, "mode must be one of"),
        ({"band": "gamma"}, "band must be one of"),
        ({"beat_hz": 90}, "beat_hz must be between"),
        ({"carrier_hz": 10}, "carrier_hz must be between"),
        ({"fundamental_hz": -3}, "fundamental_hz must be between"),
        ({"breaths_per_min": 100}, "breaths_per_min must be between"),
        ({"loop": "maybe"}, "loop must be true or false"),
        ({"type": "bagpipes"}, "unknown procedural type 'bagpipes'"),
    ],
)
def test_bad_values_of_known_params_raise_input_error(backend, params, fragment):
    params = {"type": "pink_noise", **params}
    with pytest.raises(InputError, match=fragment):
        backend.generate("x", duration_s=1.0, seed=0, **params)
    with pytest.raises(InputError, match=fragment):
        backend.metadata("x", **params)


@pytest.mark.parametrize("duration", [0, -1, float("nan"), float("inf"), 3601, "ten"])
def test_bad_duration(backend, duration):
    with pytest.raises(InputError, match="duration_s must be"):
        backend.generate("x", duration_s=duration, seed=0, type="pink_noise")


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", True])
def test_bad_seed(backend, seed):
    with pytest.raises(InputError, match="seed must be an integer"):
        backend.generate("x", duration_s=1.0, seed=seed, type="pink_noise")


def test_as_event_wins_over_loop_with_a_note(backend):
    meta = backend.metadata("x", type="owl", loop=True, as_event=True)
    assert meta["params"]["loop"] is False and "loop ignored" in meta["params"]["note"]
    a = backend.generate("x", duration_s=2.0, seed=1, type="owl", loop=True, as_event=True).samples
    b = backend.generate("x", duration_s=2.0, seed=1, type="owl", as_event=True).samples
    assert np.array_equal(a, b)


def test_numeric_strings_and_flags_are_accepted(backend):
    a = backend.generate("x", duration_s=1.0, seed=1, type="stream", intensity="0.7", loop="true").samples
    b = backend.generate("x", duration_s=1.0, seed=1, type="stream", intensity=0.7, loop=True).samples
    assert np.array_equal(a, b)


def test_errors_are_studio_errors():
    assert issubclass(InputError, StudioError)


def test_progress_is_reported_and_cancellation_propagates(backend, monkeypatch):
    from studio.generation.procedural import engine

    monkeypatch.setattr(engine, "CHUNK_S", 2.0)
    seen: list[tuple[float, str]] = []
    backend.generate("x", duration_s=7.0, seed=0, type="river", progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert len(seen) >= 4 and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions) and fractions == sorted(fractions)

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.3:
            raise CancelledError("cancelled by the user")

    with pytest.raises(CancelledError):
        backend.generate("x", duration_s=7.0, seed=0, type="river", progress=cancel)


@pytest.mark.parametrize("name", ["pink_noise", "drone_pad", "binaural_beats", "crickets"])
def test_long_renders_are_chunked_without_seams(backend, monkeypatch, name):
    """Chunks are cross-faded: around every chunk boundary the sample-to-sample steps and
    the short-term level stay like the rest of the signal."""
    from studio.generation.procedural import engine

    monkeypatch.setattr(engine, "CHUNK_S", 2.0)
    monkeypatch.setattr(engine, "CHUNK_XFADE_S", 0.25)
    x = backend.generate("x", duration_s=9.0, seed=2, type=name).samples.astype(np.float64)
    assert x.shape == (2, 9 * SR)
    step = np.abs(np.diff(x, axis=1))
    typical = np.percentile(step, 99.9)
    for k in range(1, 4):
        b = k * 2 * SR
        assert step[:, b - 2400 : b + 14400].max() <= 1.5 * typical
    frame = envelope(x, 0.05)
    # no dip or bump in level at the cross-fades beyond the texture's own variation
    assert frame[10:-10].min() > 0.2 * np.median(frame)

