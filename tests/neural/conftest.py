"""Fixtures for the neural backends: each tiny model is built once per test session and
loaded by the backends through their real ``from_pretrained`` path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import checkpoint_shapes  # noqa: E402
import neural_tiny_models  # noqa: E402


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def musicgen_mono(tiny_dir) -> Path:
    # 48 positions: (48 - 3 delay - 1) / 50 frames per s = 0.88 s per call
    return neural_tiny_models.build_musicgen(tiny_dir / "musicgen-mono", max_positions=48)


@pytest.fixture(scope="session")
def musicgen_stereo(tiny_dir) -> Path:
    return neural_tiny_models.build_musicgen(tiny_dir / "musicgen-stereo", stereo=True, max_positions=48)


@pytest.fixture(scope="session")
def musicgen_melody(tiny_dir) -> Path:
    return neural_tiny_models.build_musicgen(tiny_dir / "musicgen-melody", melody=True, max_positions=48)


@pytest.fixture(scope="session")
def stable_audio_dir(tiny_dir) -> Path:
    """Saved with stabilityai/stable-audio-open-1.0's model_index.json class names."""
    return checkpoint_shapes.build_stable_audio_real_layout(tiny_dir / "stable-audio")


@pytest.fixture(scope="session")
def audioldm2_dir(tiny_dir) -> Path:
    """Saved as cvssp/audioldm2 is: ``language_model = ["transformers", "GPT2Model"]``."""
    return checkpoint_shapes.build_audioldm2_real_layout(tiny_dir / "audioldm2")


@pytest.fixture(scope="session")
def clap_dir(tiny_dir) -> Path:
    return neural_tiny_models.build_clap(tiny_dir / "clap")


@pytest.fixture
def no_resident_model():
    """The test starts and ends with no resident model."""
    from studio.generation.neural_base import unload_all

    unload_all()
    yield
    unload_all()


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def no_network(monkeypatch, hf_cache):
    """Offline mode off, but the hub endpoint refuses connections (as with no network)."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # read from the env at import
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    return hf_cache


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache for this test (hub ids resolve only inside it)."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core machine the
    thread hand-offs cost more than the maths; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
