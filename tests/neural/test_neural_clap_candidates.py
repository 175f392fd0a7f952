"""The CLAP scorer (tiny random CLAP through the real from_pretrained path) and ranked takes."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import InputError
from studio.evaluation.clap import ClapScorer, resample
from studio.generation import BACKENDS
from studio.generation.candidates import Take, generate_takes, take_seed
from studio.types import AudioClip


@pytest.fixture(scope="module")
def scorer(clap_dir):
    return ClapScorer.from_pretrained(str(clap_dir), device="cpu")


def noise(seconds: float, rate: int, seed: int, channels: int = 1) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip(0.2 * rng.standard_normal((channels, int(seconds * rate))).astype(np.float32), rate)


def test_resample_keeps_pitch_and_length():
    rate_in, rate_out = 16000, 48000
    t = np.arange(rate_in) / rate_in
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    y = resample(x, rate_in, rate_out)
    assert y.shape == (rate_out,) and y.dtype == np.float32
    spec = np.abs(np.fft.rfft(y))
    assert abs(np.fft.rfftfreq(len(y), 1 / rate_out)[np.argmax(spec)] - 1000) < 2


def test_embeddings_are_normalised_and_scores_are_cosines(scorer):
    text = scorer.embed_text(["rain", "a dog"])
    clips = [noise(1.0, 16000, 1), noise(0.5, 44100, 2, channels=2)]
    audio = scorer.embed_audio(clips)
    assert text.shape == (2, 16) and audio.shape == (2, 16)
    assert np.allclose(np.linalg.norm(text, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(audio, axis=1), 1, atol=1e-5)
    scores = scorer.score("rain", clips)
    assert np.allclose(scores, audio @ text[0], atol=1e-5)
    assert np.all(np.abs(scores) <= 1 + 1e-6)
    assert np.allclose(scorer.similarity_matrix(["rain", "a dog"], clips), text @ audio.T, atol=1e-5)


def test_scores_are_reproducible_for_clips_longer_than_the_window(scorer):
    long_clip = noise(scorer.max_length_s * 2.5, 16000, 3)  # several windows, no random crop
    a = scorer.score("rain", [long_clip])
    b = scorer.score("rain", [long_clip])
    assert np.array_equal(a, b)
    with pytest.raises(InputError, match="empty audio"):
        scorer.score("rain", [AudioClip(np.zeros((1, 0), np.float32), 16000)])


def test_clap_missing_offline_is_reported(hf_cache, offline):
    ok, reason = ClapScorer.availability()
    assert not ok and "python -m studio models download laion/clap-htsat-unfused" in reason
    assert ClapScorer.if_available() is None
    from studio.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="laion/clap-htsat-unfused"):
        ClapScorer.from_pretrained()


@pytest.fixture(scope="module")
def backend(stable_audio_dir):
    return BACKENDS.create("stable-audio", model_id=str(stable_audio_dir))


def test_takes_ranked_by_clap(backend, scorer):
    seen = []
    takes = generate_takes(backend, "soft rain", n=3, duration_s=0.25, seed=40, scorer=scorer, steps=2,
                           progress=lambda f, m: seen.append((f, m)))
    # one batched pipeline call (num_waveforms_per_prompt=3): 2 denoising steps, not 3 x 2
    assert len([m for _, m in seen if "step" in m]) == 2
    assert [isinstance(t, Take) for t in takes] == [True] * 3
    assert sorted(t.seed for t in takes) == [40, 41, 42]
    scores = [t.score for t in takes]
    assert scores == sorted(scores, reverse=True)
    # each score is the scorer's own similarity for that take, and each take re-renders alone
    # from its seed (one generator per take; batched matmuls differ only in float rounding)
    for t in takes:
        assert t.score == pytest.approx(float(scorer.score("soft rain", [t.clip])[0]), abs=1e-5)
        assert t.batch_size == 1
        alone = backend.generate("soft rain", duration_s=0.25, seed=t.seed, steps=2)
        np.testing.assert_allclose(alone.samples, t.clip.samples, atol=1e-5)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_takes_without_scorer_keep_generation_order(backend, hf_cache, offline):
    # scorer=None: CLAP is not in the (empty) cache, so the takes stay unranked
    takes = generate_takes(backend, "soft rain", n=2, duration_s=0.25, seed=2**32 - 1, steps=2)
    assert [t.index for t in takes] == [0, 1]
    assert [t.seed for t in takes] == [2**32 - 1, 0]  # seeds wrap within 0..2**32-1
    assert all(t.score is None for t in takes)
    assert not np.allclose(takes[0].clip.samples, takes[1].clip.samples)
    unranked = generate_takes(backend, "soft rain", n=1, duration_s=0.25, seed=5, scorer=False, steps=2)
    assert unranked[0].score is None and take_seed(5, 0) == 5


def test_take_count_is_validated(backend):
    for bad in (0, 17, 2.5, True):
        with pytest.raises(InputError, match="number of takes must be an integer in 1..16"):
            generate_takes(backend, "rain", n=bad, duration_s=0.2, seed=0, scorer=False)
