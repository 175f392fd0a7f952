"""Library side of "use my recording as the bed": the samples backend on one user file, and the
plan made from a bed request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.errors import InputError
from studio.generation.samples import SamplesBackend
from studio.mixing.loudness import integrated_lufs
from studio.reverse.handoff import BED_LAYER, plan_from_recording

SR = 44_100


def _noise_file(path: Path, seconds: float, level: float = 0.05, channels: int = 2) -> Path:
    rng = np.random.default_rng(0)
    sf.write(path, (level * rng.standard_normal((int(seconds * SR), channels))).astype(np.float32), SR)
    return path


def test_samples_backend_plays_the_users_file_levelled_and_at_most_its_length(tmp_path):
    path = _noise_file(tmp_path / "field.wav", 6.0)
    backend = SamplesBackend()
    clip = backend.generate("x", duration_s=20.0, seed=1, file=str(path))
    assert clip.sample_rate == 48_000 and clip.samples.shape == (2, 6 * 48_000)  # never chained to itself
    assert abs(integrated_lufs(clip.samples, 48_000) - (-16.0)) < 0.5  # levelled like the pack
    short = backend.generate("x", duration_s=2.0, seed=1, file=str(path))
    assert short.samples.shape == (2, 2 * 48_000)
    np.testing.assert_allclose(short.samples[:, 1000:90_000], clip.samples[:, 1000:90_000] * (short.samples[0, 5000] / clip.samples[0, 5000]), rtol=1e-3, atol=1e-5)
    meta = backend.metadata("x", file=str(path))
    assert meta["chosen"][0]["source"] == "user file" and "matches" not in meta and "credits" not in meta


def test_plan_from_recording_puts_the_file_first_and_keeps_the_tags_layers(tmp_path):
    from studio.pipeline import SoundscapePipeline

    path = _noise_file(tmp_path / "fire.wav", 3.0)
    request = {"path": str(path), "caption": "a field recording of campfire with crickets and wind in leaves",
               "tags": [["campfire", 0.6], ["crickets", 0.2], ["wind in leaves", 0.1]],
               "layer_types": ["campfire", "crickets", "wind_leaves"]}
    plan = plan_from_recording(SoundscapePipeline(), request, style="meditation", duration_s=30.0, seed=7)
    bed = plan.layers[0]
    assert (bed.name, bed.role, bed.backend, bed.params) == (BED_LAYER, "background", "samples", {"file": str(path.resolve())})
    types = [l.params.get("type") for l in plan.layers[1:]]
    assert "campfire" not in types and "crickets" in types  # the recording replaces the campfire bed
    assert plan.caption.source == "recording" and plan.caption.tags[0] == ("campfire", 0.6)
    assert any("is the bed in place of 'campfire'" in n for n in plan.notes)
    assert plan == plan_from_recording(SoundscapePipeline(), request, style="meditation", duration_s=30.0, seed=7)


def test_plan_from_a_vanished_recording_is_one_clear_error(tmp_path):
    from studio.pipeline import SoundscapePipeline

    with pytest.raises(InputError, match="no longer there"):
        plan_from_recording(SoundscapePipeline(), {"path": str(tmp_path / "gone.wav"), "caption": "rain"},
                            style="meditation", duration_s=30.0, seed=1)
