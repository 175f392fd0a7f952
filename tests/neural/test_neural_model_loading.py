"""Loading as users load: hub ids through the local Hugging Face cache, offline mode, no
network, missing packages, missing or damaged models, the wrong kind of folder, device choice,
the one-resident-model rule, explicit unload and memory release."""

from __future__ import annotations

import gc
import shutil
import time
import weakref

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
    if name == "stable-audio":  # gated: the licence and token steps are part of "how to get it"
        for text in (msg, reason):
            assert "accept the licence at https://huggingface.co/stabilityai/stable-audio-open-1.0" in text
            assert "hf auth login" in text


@pytest.mark.parametrize("name, model_id", [
    ("musicgen", "facebook/musicgen-small"),
    ("stable-audio", "stabilityai/stable-audio-open-1.0"),
    ("audioldm2", "cvssp/audioldm2"),
])
def test_missing_model_without_network_fails_fast_and_says_how(name, model_id, no_network):
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create(name)
    # one probe, not the loaders' ~30 s of retries
    assert time.perf_counter() - t0 < 5
    msg = str(err.value)
    assert model_id in msg and "http://127.0.0.1:9 cannot be reached" in msg and "refused" in msg.lower()
    assert f"python -m studio models download {model_id}" in msg
    assert ("hf auth login" in msg) == (name == "stable-audio")
    assert list(no_network.iterdir()) == []  # nothing half-downloaded


def test_hub_probe_sees_a_server_that_answers(monkeypatch):
    import http.server
    import threading

    from huggingface_hub import constants

    from studio.hf import hub_unreachable

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # answers 501
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        assert hub_unreachable() is None  # any HTTP answer means reachable
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    assert "http://127.0.0.1:9 cannot be reached" in hub_unreachable()
    assert "offline mode" not in hub_unreachable()  # refused by the network, not by the client


def test_missing_package_names_it_the_model_and_the_extra(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "torchsde" else real_find_spec(name, *a, **k))
    ok, reason = BACKENDS.availability("stable-audio")
    assert not ok and "'torchsde'" in reason and "requirements-neural.txt" in reason
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("stable-audio")
    msg = str(err.value)
    assert "'torchsde'" in msg and "stabilityai/stable-audio-open-1.0" in msg
    assert "pip install -r requirements-neural.txt" in msg


def test_missing_local_folder_is_named(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        BACKENDS.create("musicgen", model_id=str(missing))


def test_wrong_kind_of_folder_is_a_model_error(stable_audio_dir, musicgen_mono, no_resident_model):
    # a MusicGen folder given to the Stable Audio backend, and the reverse
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("stable-audio", model_id=str(musicgen_mono))
    msg = str(err.value)
    assert str(musicgen_mono) in msg and "holds another kind of model" in msg
    assert "models download" not in msg  # a folder path is not something to download
    with pytest.raises(ModelUnavailableError, match="holds another kind of model"):
        BACKENDS.create("musicgen", model_id=str(stable_audio_dir))


def test_damaged_weights_are_a_model_error(musicgen_mono, tmp_path, no_resident_model):
    damaged = tmp_path / "musicgen-damaged"
    shutil.copytree(musicgen_mono, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # an interrupted copy
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("musicgen", model_id=str(damaged))
    assert str(damaged) in str(err.value) and "damaged" in str(err.value)
    assert RESIDENT.key is None


def test_gated_hint_in_stable_audio_load_error(musicgen_mono, hf_cache, offline):
    # a cached snapshot that does not load (here: the wrong model; in life: a partial download)
    put_in_cache(hf_cache, "stabilityai/stable-audio-open-1.0", musicgen_mono)
    with pytest.raises(ModelUnavailableError) as err:
        BACKENDS.create("stable-audio")
    msg = str(err.value)
    assert "'stabilityai/stable-audio-open-1.0' could not be loaded" in msg
    assert "python -m studio models download stabilityai/stable-audio-open-1.0" in msg
    assert "hf auth login" in msg and "accept the licence" in msg


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


def test_memory_is_released_when_another_model_loads_and_on_unload(musicgen_mono, stable_audio_dir,
                                                                   no_resident_model):
    mg = BACKENDS.create("musicgen", model_id=str(musicgen_mono))
    mg.generate("rain", duration_s=0.05, seed=0)
    model_ref = weakref.ref(mg.components()["model"])
    sa = BACKENDS.create("stable-audio", model_id=str(stable_audio_dir))
    gc.collect()
    assert model_ref() is None  # MusicGen's weights are gone, not just unlisted
    pipe_ref = weakref.ref(sa.components())
    sa.generate("rain", duration_s=0.05, seed=0, steps=1)
    assert sa.unload() is True
    gc.collect()
    assert pipe_ref() is None


def test_device_and_dtype_choice(monkeypatch):
    import torch

    from studio.devices import pick_device, pick_dtype
    from studio.errors import InputError

    mps = torch.backends.mps
    for cuda, has_mps, device, dtype in ((True, True, "cuda", torch.float16), (False, True, "mps", torch.float32),
                                         (False, False, "cpu", torch.float32)):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        monkeypatch.setattr(mps, "is_available", lambda has_mps=has_mps: has_mps)
        assert pick_device("auto") == device and pick_device(None) == device
        assert pick_dtype(pick_device("auto")) == dtype  # half precision only on CUDA
    # nothing available: explicit accelerators are refused with what is allowed
    with pytest.raises(InputError, match="no CUDA GPU is available; use 'auto' or 'cpu'"):
        pick_device("cuda")
    with pytest.raises(InputError, match="'mps' was asked for"):
        pick_device("mps")
    with pytest.raises(InputError, match="choose one of: auto, cpu, cuda, mps"):
        pick_device("tpu")
    assert pick_device("cpu") == "cpu"


def test_licence_of_local_folders(musicgen_mono, tmp_path, hf_cache):
    from studio.models import licence_for

    # a hub id's snapshot in the cache, passed as a folder: the catalogue's licence
    snap = put_in_cache(hf_cache, "facebook/musicgen-small", musicgen_mono)
    assert licence_for(str(snap)).startswith("CC-BY-NC-4.0")
    # a copied folder with its model card: the card's front matter
    folder = tmp_path / "my-musicgen"
    shutil.copytree(musicgen_mono, folder)
    (folder / "README.md").write_text("---\nlicense: other\nlicense_name: my-lab-licence\n---\n# card\n")
    assert licence_for(str(folder)) == "my-lab-licence (from the model card)"
    (folder / "README.md").write_text("---\ntags: [audio]\nlicense: cc-by-nc-4.0\n---\n")
    backend = BACKENDS.create("musicgen", model_id=str(folder))
    assert backend.metadata()["licence"] == "cc-by-nc-4.0 (from the model card)"
    backend.unload()
    # no card: say so
    assert licence_for(str(musicgen_mono)) == "unknown: see the model card"


def test_audiogen_unavailable_without_audiocraft():
    import importlib.util

    if importlib.util.find_spec("audiocraft") is not None:
        pytest.skip("audiocraft is installed here; test_neural_audiogen covers it")
    ok, reason = BACKENDS.availability("audiogen")
    assert not ok
    assert "audiocraft" in reason and "docs/models.md" in reason
    with pytest.raises(ModelUnavailableError, match="audiocraft"):
        BACKENDS.create("audiogen")
