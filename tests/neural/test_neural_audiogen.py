"""AudioGen through audiocraft.

- Where audiocraft imports (an optional extra: see docs/models.md), its own ``debug`` model,
  tiny and random like our other tiny models, runs through the backend.
- Everywhere, the adapter's own logic (seeding through a forked global RNG, clamping, progress,
  parameter mapping, the trusted-checkpoint switch) runs against a small stand-in that has
  audiocraft's ``AudioGen`` API and, like audiocraft, samples from the global torch RNG.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import types

import numpy as np
import pytest

from studio.generation import BACKENDS

HAVE_AUDIOCRAFT = importlib.util.find_spec("audiocraft") is not None


@pytest.mark.skipif(
    not HAVE_AUDIOCRAFT,
    reason="audiocraft is an optional extra that does not install beside torch 2.13 (see docs/models.md)",
)
def test_audiogen_debug_model_generates_deterministically():

    backend = BACKENDS.create("audiogen", model_id="debug")
    seen = []
    a = backend.generate("dog barking", duration_s=0.5, seed=1, progress=lambda f, m: seen.append(f))
    b = backend.generate("dog barking", duration_s=0.5, seed=1)
    c = backend.generate("dog barking", duration_s=0.5, seed=2)
    assert a.sample_rate == backend.sample_rate
    assert a.samples.shape == (backend.channels, int(round(0.5 * backend.sample_rate)))
    assert np.array_equal(a.samples, b.samples) and not np.allclose(a.samples, c.samples)
    assert seen[-1] == 1.0
    long = backend.generate("dog barking", duration_s=backend.max_clip_s + 5, seed=1)
    assert long.frames == int(round(backend.max_clip_s * backend.sample_rate))
    assert backend.metadata("dog")["clamped_from_s"] == pytest.approx(backend.max_clip_s + 5)


class _StandInAudioGen:
    """audiocraft.models.AudioGen's API surface; noise from the global torch RNG per token."""

    loads: list = []

    def __init__(self, name: str, device: str) -> None:
        self.name, self.device = name, device
        self.sample_rate, self.audio_channels, self.frame_rate, self.max_duration = 16000, 1, 50, 10.0
        self.params: dict = {}
        self._callback = None

    @classmethod
    def get_pretrained(cls, name: str = "facebook/audiogen-medium", device=None):
        cls.loads.append((name, os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")))
        return cls(name, device)

    def set_generation_params(self, **params) -> None:
        self.params = params

    def set_custom_progress_callback(self, callback) -> None:
        self._callback = callback

    def generate(self, descriptions, progress: bool = False):
        import torch

        tokens = int(round(self.params["duration"] * self.frame_rate))
        hop = self.sample_rate // self.frame_rate
        chunks = []
        for i in range(tokens):
            chunks.append(torch.randn(len(descriptions), 1, hop) * 0.1)
            if self._callback:
                self._callback(i + 1, tokens)
        return torch.cat(chunks, dim=-1)


@pytest.fixture
def standin_audiocraft(monkeypatch):
    if HAVE_AUDIOCRAFT:
        pytest.skip("the real audiocraft is installed; the test above covers it")
    pkg = types.ModuleType("audiocraft")
    pkg.__spec__ = importlib.machinery.ModuleSpec("audiocraft", None, is_package=True)
    pkg.__path__ = []
    models = types.ModuleType("audiocraft.models")
    models.__spec__ = importlib.machinery.ModuleSpec("audiocraft.models", None)
    models.AudioGen = _StandInAudioGen
    pkg.models = models
    monkeypatch.setitem(sys.modules, "audiocraft", pkg)
    monkeypatch.setitem(sys.modules, "audiocraft.models", models)
    _StandInAudioGen.loads = []
    return _StandInAudioGen


def test_audiogen_adapter_seeds_clamps_and_reports(standin_audiocraft, no_resident_model):
    import torch

    backend = BACKENDS.create("audiogen", model_id="debug")
    assert (backend.sample_rate, backend.channels, backend.max_clip_s) == (16000, 1, 10.0)
    # audiocraft's checkpoints are pickles: allowed for the built-in/official ones while loading only
    assert standin_audiocraft.loads == [("debug", "1")]
    assert "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" not in os.environ

    seen = []
    torch.manual_seed(9)
    expected_global = torch.rand(2)
    torch.manual_seed(9)
    a = backend.generate("dog barking", duration_s=0.5, seed=1, progress=lambda f, m: seen.append(f),
                         guidance_scale=4.5, top_k=50, negative_prompt="cat")
    assert torch.equal(torch.rand(2), expected_global)
    b = backend.generate("dog barking", duration_s=0.5, seed=1)
    c = backend.generate("dog barking", duration_s=0.5, seed=2)
    assert a.samples.shape == (1, 8000) and a.sample_rate == 16000
    assert np.array_equal(a.samples, b.samples) and not np.allclose(a.samples, c.samples)
    assert len([f for f in seen if f < 1.0]) == 24 and seen[-1] == 1.0  # 25 token frames reported

    model = backend.components()["model"]
    assert model.params["cfg_coef"] == 3.0 and model.params["top_k"] == 250  # defaults on the last call
    backend.generate("dog barking", duration_s=0.5, seed=1, guidance_scale=4.5, top_k=50)
    assert model.params["cfg_coef"] == 4.5 and model.params["top_k"] == 50 and model.params["use_sampling"]

    backend.generate("dog barking", duration_s=30.0, seed=1)
    assert model.params["duration"] == 10.0
    meta = backend.metadata("dog barking", negative_prompt="cat")
    assert meta["clamped_from_s"] == 30.0 and meta["negative_prompt_ignored"] is True
    assert meta["licence"] == "unknown: see the model card"  # "debug" is not a catalogue model


def test_audiogen_untrusted_checkpoint_keeps_torch_safe_loading(standin_audiocraft, tmp_path, no_resident_model):
    folder = tmp_path / "someone-else-audiogen"
    folder.mkdir()
    BACKENDS.create("audiogen", model_id=str(folder))
    assert standin_audiocraft.loads == [(str(folder), None)]


def test_audiogen_availability_needs_the_model_and_its_text_encoder(standin_audiocraft, hf_cache, offline, tmp_path):
    from neural_tiny_models import put_in_cache

    ok, reason = BACKENDS.availability("audiogen")
    assert not ok and "python -m studio models download facebook/audiogen-medium" in reason
    assert "t5-large" in reason  # the extra step is named up front
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "state_dict.bin").write_bytes(b"")
    put_in_cache(hf_cache, "facebook/audiogen-medium", stub)
    ok, reason = BACKENDS.availability("audiogen")
    assert not ok and reason == (
        "AudioGen's text encoder 't5-large' is not in the local Hugging Face cache; "
        "run `python -m studio models download t5-large`"
    )
    put_in_cache(hf_cache, "t5-large", stub)  # a legacy single-name id, as audiocraft loads it
    ok, reason = BACKENDS.availability("audiogen")
    assert ok, reason
