"""Loading as users load: hub ids through the local Hugging Face cache, offline mode, missing
models, the wrong kind of folder, the one-resident-model rule and explicit unload."""

from __future__ import annotations

import numpy as np
import pytest

from neural_tiny_models import put_in_cache
from studio.errors import ModelUnavailableError
from studio.generation import BACKENDS
from studio.generation.neural_base import RESIDENT, unload_all


@pytest.mark.parametrize("name, model_id", [
    ("musicgen", "facebook/musicgen-small"),
    ("stable-audio", "stabilityai/stable-audio-open-1.0"),
    ("audioldm2", "cvssp/audioldm2"),
])
def test_missing_model_offline_names_the_model_and_how_to_get_it(name, model_id, hf_cache, offline):
    ok, reason = BACKENDS.availability(name)
    assert not ok
    assert model_id in reason and f"python -m studio models download {model_id}" in reason
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create(name)
    msg = str(err.value)
    assert model_id in msg
    assert f"python -m studio models download {model_id}" in msg
    assert "offline" in msg


def test_missing_local_folder_is_named(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        BACKENDS.create("musicgen", model_id=str(missing))


def test_wrong_kind_of_folder_is_a_model_error(stable_audio_dir, musicgen_mono, no_resident_model):
    # a MusicGen folder given to the Stable Audio backend, and the reverse
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("stable-audio", model_id=str(musicgen_mono))
    assert str(musicgen_mono) in str(err.value) and "python -m studio models download" in str(err.value)
    with pytest.raises(ModelUnavailableError):
        BACKENDS.create("musicgen", model_id=str(stable_audio_dir))


def test_gated_hint_in_stable_audio_load_error(musicgen_mono):
    with pytest.raises(ModelUnavailableError, match="hf auth login"):
        BACKENDS.create("stable-audio", model_id=str(musicgen_mono))


def test_hub_id_loads_from_the_local_cache_offline(musicgen_mono, hf_cache, offline, no_resident_model):
    put_in_cache(hf_cache, "facebook/musicgen-small", musicgen_mono)
    ok, reason = BACKENDS.availability("musicgen")
    assert ok, reason
    backend = BACKENDS.create("musicgen")  # the default id, resolved in the cache
    assert backend.model_id == "facebook/musicgen-small"
    meta = backend.metadata("rain")
    assert meta["licence"].startswith("CC-BY-NC-4.0")
    clip = backend.generate("rain", duration_s=0.1, seed=0)
    assert clip.samples.shape == (1, 3200)


def test_one_resident_model_and_unload(musicgen_mono, stable_audio_dir, no_resident_model):
    mg = BACKENDS.create("musicgen", model_id=str(musicgen_mono))
    first = mg.generate("rain", duration_s=0.1, seed=3)
    assert mg.loaded
    sa = BACKENDS.create("stable-audio", model_id=str(stable_audio_dir))
    # loading Stable Audio dropped MusicGen: only one model is resident
    assert sa.loaded and not mg.loaded
    assert RESIDENT.key[0] == "StableAudioBackend"
    # MusicGen reloads on demand and gives the same audio for the same seed
    again = mg.generate("rain", duration_s=0.1, seed=3)
    assert np.array_equal(first.samples, again.samples)
    assert mg.loaded and not sa.loaded
    assert mg.unload() is True
    assert not mg.loaded and RESIDENT.key is None
    assert mg.unload() is False
    assert unload_all() is False


def test_audiogen_unavailable_without_audiocraft():
    import importlib.util

    if importlib.util.find_spec("audiocraft") is not None:
        pytest.skip("audiocraft is installed here; test_neural_audiogen covers it")
    ok, reason = BACKENDS.availability("audiogen")
    assert not ok
    assert "audiocraft" in reason and "docs/models.md" in reason
    with pytest.raises(ModelUnavailableError, match="audiocraft"):
        BACKENDS.create("audiogen")
