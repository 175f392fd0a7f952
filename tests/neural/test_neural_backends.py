"""The real from_pretrained -> generate path of each neural backend, on tiny random models:
shape, rate, channels, determinism by seed, duration clamping, progress, parameters and
metadata. Calls are few and short: each tiny-model generation costs real CPU time."""

from __future__ import annotations

import numpy as np
import pytest

from studio.generation import BACKENDS
from studio.protocols import AudioBackend

# name, fixture, rate, channels, max_clip_s, short request (s), params
CASES = {
    "musicgen-mono": ("musicgen", "musicgen_mono", 32000, 1, 0.88, 0.2, {}),
    "musicgen-stereo": ("musicgen", "musicgen_stereo", 32000, 2, 0.88, 0.2, {}),
    "musicgen-melody": ("musicgen", "musicgen_melody", 32000, 1, 0.88, 0.2, {}),
    "stable-audio": ("stable-audio", "stable_audio_dir", 8000, 2, 1.024, 0.5, {"steps": 3}),
    "audioldm2": ("audioldm2", "audioldm2_dir", 16000, 1, 0.512, 0.2, {"steps": 2}),
}


@pytest.fixture(params=list(CASES), scope="module")
def case(request):
    name, fixture, rate, channels, max_s, short_s, params = CASES[request.param]
    folder = request.getfixturevalue(fixture)
    backend = BACKENDS.create(name, model_id=str(folder), device="auto")
    return backend, rate, channels, max_s, short_s, params


def test_contract_shape_rate_channels_progress(case):
    import torch

    backend, rate, channels, max_s, short_s, params = case
    assert isinstance(backend, AudioBackend)
    assert backend.sample_rate == rate and backend.channels == channels
    assert backend.max_clip_s == pytest.approx(max_s)
    seen: list[tuple[float, str]] = []
    torch.manual_seed(123)
    expected_global = torch.rand(3)
    torch.manual_seed(123)
    clip = backend.generate("soft rain in the forest", duration_s=short_s, seed=7,
                            progress=lambda f, m: seen.append((f, m)), **params)
    # shape, rate, dtype: exactly the requested frames at the model's own rate
    assert clip.sample_rate == rate
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == (channels, int(round(short_s * rate)))
    assert np.isfinite(clip.samples).all()
    assert np.abs(clip.samples).max() > 0  # real model output, not silence padding
    if channels == 2:
        assert not np.array_equal(clip.samples[0], clip.samples[1])
    # seeding used a private generator / forked RNG: the caller's global RNG is untouched
    assert torch.equal(torch.rand(3), expected_global)
    # progress: monotonic, ends at 1, one report per model step
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    step_msgs = [m for _, m in seen if "step" in m]
    if "steps" in params:  # diffusion: one report per denoising step
        assert len(step_msgs) == params["steps"]
    else:  # MusicGen: one per decoded token frame (frames + codebook delay of 3)
        assert len(step_msgs) == int(np.ceil(short_s * 50)) + 3
    meta = backend.metadata("soft rain in the forest")
    assert meta["model"] == backend.model_id and meta["licence"]
    assert meta["device"] == "cpu" and meta["dtype"] == "float32"
    assert meta["sample_rate"] == rate and "clamped_from_s" not in meta


def test_seed_determinism_and_parameters(case):
    backend, _, _, _, short_s, params = case
    a = backend.generate("calm ocean waves", duration_s=short_s, seed=11, **params)
    # unknown keys (the procedural engine's) are ignored: same audio
    b = backend.generate("calm ocean waves", duration_s=short_s, seed=11, type="ocean_surf", intensity=0.3, **params)
    c = backend.generate("calm ocean waves", duration_s=short_s, seed=12, **params)
    assert np.array_equal(a.samples, b.samples)
    assert not np.allclose(a.samples, c.samples)

    negative = backend.generate("calm ocean waves", duration_s=short_s, seed=11, negative_prompt="dog", **params)
    if backend.supports_negative_prompt:
        assert not np.allclose(a.samples, negative.samples)
    else:
        assert np.array_equal(a.samples, negative.samples)
        assert backend.metadata("x", negative_prompt="dog")["negative_prompt_ignored"] is True
        assert any("negative_prompt ignored" in n for n in backend.metadata("x")["notes"])

    # MusicGen: top_k (a random tiny decoder's logits over the real 2048-entry codebook are
    # nearly flat, so guidance and temperature barely move them); diffusion: guidance scale
    knob = {"top_k": 2} if backend.name == "musicgen" else {"guidance_scale": 1.5}
    changed = backend.generate("calm ocean waves", duration_s=short_s, seed=11, **knob, **params)
    assert not np.allclose(a.samples, changed.samples)


def test_duration_is_clamped_and_recorded(case):
    backend, rate, channels, max_s, _, params = case
    if backend.continues:  # MusicGen: continued window by window instead (test_neural_long_form)
        meta = backend.metadata("wind", duration_s=100.0)
        assert "clamped_from_s" not in meta and meta["long_form"] == "continuation"
        assert meta["window_s"] == pytest.approx(max_s, abs=0.02)
        return
    clip = backend.generate("wind", duration_s=max_s * 4, seed=1, **params)
    assert clip.samples.shape == (channels, int(round(max_s * rate)))
    meta = backend.metadata("wind", **params)
    assert meta["clamped_from_s"] == pytest.approx(max_s * 4, abs=1e-3)
    assert meta["clamped_to_s"] == pytest.approx(max_s, abs=1e-3)
    # metadata for a given request needs no generation
    assert "clamped_from_s" not in backend.metadata("wind", duration_s=max_s / 2)
    assert backend.metadata("wind", duration_s=100.0)["clamped_from_s"] == 100.0


def test_very_short_request_is_exact(case):
    # shorter than one model frame / than AudioLDM2's minimum length: generated at the
    # minimum and cropped, never an error
    backend, rate, channels, _, _, params = case
    clip = backend.generate("wind", duration_s=0.003, seed=2, **params)
    assert clip.samples.shape == (channels, int(round(0.003 * rate)))
    assert np.isfinite(clip.samples).all() and np.abs(clip.samples).max() > 0


BAD_REQUESTS = [
    ({"duration_s": 0.0, "seed": 1}, "duration_s must be a positive"),
    ({"duration_s": float("nan"), "seed": 1}, "duration_s must be a positive"),
    ({"duration_s": 0.2, "seed": -1}, "seed must be an integer in 0..4294967295"),
    ({"duration_s": 0.2, "seed": 1, "steps": 0}, "steps must be within 1..1000"),
    ({"duration_s": 0.2, "seed": 1, "guidance_scale": "loud"}, "guidance_scale must be a number"),
    ({"duration_s": 0.2, "seed": 1, "temperature": 0}, "temperature must be within 0.01..5"),
]


def test_bad_requests_are_input_errors(stable_audio_dir):
    from studio.errors import InputError

    backend = BACKENDS.create("stable-audio", model_id=str(stable_audio_dir))
    for kwargs, message in BAD_REQUESTS:
        with pytest.raises(InputError, match=message):
            backend.generate("rain", **kwargs)
    with pytest.raises(InputError, match="prompt must be non-empty"):
        backend.generate("  ", duration_s=0.2, seed=1)
