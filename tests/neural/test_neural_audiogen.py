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
    """audiocraft.models.AudioGen's API surface and its generation loop (audiocraft 1.3
    ``_generate_tokens``): the progress callback is wired only with ``progress=True``; past
    ``max_duration`` it generates windows of ``max_duration`` prompted with the tokens after
    the first ``extend_stride`` seconds of the previous window. Each "token" is noise from the
    global torch RNG plus a copy of the prompt's last token, so continuation is visible."""

    loads: list = []

    def __init__(self, name: str, device: str) -> None:
        self.name, self.device = name, device
        self.sample_rate, self.audio_channels, self.frame_rate, self.max_duration = 16000, 1, 50, 10.0
        self.params: dict = {}
        self.windows: list = []
        self._callback = None

    @classmethod
    def get_pretrained(cls, name: str = "facebook/audiogen-medium", device=None):
        cls.loads.append((name, os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")))
        return cls(name, device)

    def set_generation_params(self, *, duration=10.0, extend_stride=2.0, **params) -> None:
        assert extend_stride < self.max_duration, "Cannot stride by more than max generation duration."
        self.params = dict(params, duration=duration, extend_stride=extend_stride)

    def set_custom_progress_callback(self, callback) -> None:
        self._callback = callback

    def _lm_generate(self, prompt, batch: int, max_gen_len: int, callback):
        import torch

        start = 0 if prompt is None else prompt.shape[-1]
        tokens = [] if prompt is None else [prompt]
        for offset in range(start, max_gen_len):
            tokens.append(torch.randn(batch, 1, 1))
            if callback is not None:
                callback(1 + offset - start, max_gen_len - start)
        return torch.cat(tokens, dim=-1)

    def generate(self, descriptions, progress: bool = False):
        import torch

        duration, stride_s = self.params["duration"], self.params["extend_stride"]
        total_gen_len = int(duration * self.frame_rate)
        offset = 0

        def _progress(generated, to_generate):
            if self._callback is not None:
                self._callback(generated + offset, to_generate)

        callback = _progress if progress else None
        batch = len(descriptions)
        if duration <= self.max_duration:
            self.windows.append(total_gen_len)
            tokens = self._lm_generate(None, batch, total_gen_len, callback)
        else:
            all_tokens, prompt, prompt_len = [], None, 0
            stride = int(self.frame_rate * stride_s)
            while offset + prompt_len < total_gen_len:
                chunk = min(duration - offset / self.frame_rate, self.max_duration)
                gen = self._lm_generate(prompt, batch, int(chunk * self.frame_rate), callback)
                self.windows.append(gen.shape[-1])
                all_tokens.append(gen if prompt is None else gen[:, :, prompt.shape[-1]:])
                prompt = gen[:, :, stride:]
                prompt_len = prompt.shape[-1]
                offset += stride
            tokens = torch.cat(all_tokens, dim=-1)
        hop = self.sample_rate // self.frame_rate
        return (tokens.repeat_interleave(hop, dim=-1) * 0.1).float()


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
    # 25 token frames reported: audiocraft wires the callback only when asked for progress
    assert len([f for f in seen if f < 1.0]) == 24 and seen[-1] == 1.0

    model = backend.components()["model"]
    assert model.params["cfg_coef"] == 3.0 and model.params["top_k"] == 250  # defaults on the last call
    backend.generate("dog barking", duration_s=0.5, seed=1, guidance_scale=4.5, top_k=50)
    assert model.params["cfg_coef"] == 4.5 and model.params["top_k"] == 50 and model.params["use_sampling"]

    meta = backend.metadata("dog barking", negative_prompt="cat")
    assert meta["negative_prompt_ignored"] is True and "clamped_from_s" not in meta
    assert meta["licence"] == "unknown: see the model card"  # "debug" is not a catalogue model


def test_audiogen_long_clip_continues_with_extend_stride_and_reports_progress(standin_audiocraft, no_resident_model):
    backend = BACKENDS.create("audiogen", model_id="debug")
    seen = []
    clip = backend.generate("rain on leaves", duration_s=25.0, seed=4, progress=lambda f, m: seen.append((f, m)))
    model = backend.components()["model"]
    # audiocraft's own continuation: 10 s windows, each prompted with the previous 4 s
    assert model.params["duration"] == 25.0 and model.params["extend_stride"] == 6.0
    assert model.windows == [500, 500, 500, 350]  # windows of 10 s (the last 7 s): +10, +6, +6, +3 s new
    assert clip.samples.shape == (1, 25 * 16000)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len([m for _, m in seen if "step" in m]) == 25 * 50  # one per new token frame, all windows
    meta = backend.metadata("rain on leaves")
    assert "clamped_from_s" not in meta
    assert (meta["window_s"], meta["stride_s"], meta["overlap_s"], meta["windows"]) == (10.0, 6.0, 4.0, 4)
    assert backend.metadata("rain", duration_s=25.0)["windows"] == 4  # planned without generating
    assert backend.metadata("rain", duration_s=8.0).get("windows") is None  # one call: no windows


def test_audiogen_batch_of_takes_is_one_call(standin_audiocraft, no_resident_model):
    from studio.generation.candidates import generate_takes

    backend = BACKENDS.create("audiogen", model_id="debug")
    takes = generate_takes(backend, "wind", n=3, duration_s=0.4, seed=8, scorer=False)
    model = backend.components()["model"]
    assert model.windows == [20]  # one model call made all three takes
    assert [t.index for t in takes] == [0, 1, 2] and {(t.seed, t.batch_size) for t in takes} == {(8, 3)}
    assert not np.allclose(takes[0].clip.samples, takes[1].clip.samples)
    again = backend.generate_batch("wind", n=3, duration_s=0.4, seed=8)
    assert all(np.array_equal(a.samples, t.clip.samples) for a, t in zip(again, takes))


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
