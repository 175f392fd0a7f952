"""Coherence scores through the real scoring path with tiny random CLIP and CLAP models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from studio.evaluation.scores import OVERALL_WEIGHTS, coherence_scores, overall_score, score_rows, window_starts


def _model_scores(scores):
    out = [scores["clip"]["image_caption"], scores["clap"]["caption_mix"], scores["overall"]["value"]]
    return out + list(scores["clap"]["layers"].values())


def test_tiny_models_give_finite_bounded_deterministic_scores(lake, clip_scorer, clap_scorer):
    image, scape = lake
    first = coherence_scores(scape, image=image, clip=clip_scorer, clap=clap_scorer)
    second = coherence_scores(scape, image=image, clip=clip_scorer, clap=clap_scorer)
    values = _model_scores(first)
    assert len(first["clap"]["layers"]) == len(scape.stems)
    assert all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in values)
    assert values == _model_scores(second)  # deterministic: no random crop, fixed windows
    clap = first["clap"]
    expected = overall_score(first["clip"]["image_caption"], clap["caption_mix"], list(clap["layers"].values()), has_image=True)
    assert first["overall"]["value"] == pytest.approx(expected)
    json.dumps(first)  # JSON-ready for the manifest


def test_clap_layer_score_is_cosine_of_prompt_and_stem_windows(lake, clap_scorer):
    """A layer's score is the cosine of CLAP's prompt embedding and the normalised mean of its
    stem windows' embeddings (evenly spaced windows of CLAP's input length)."""
    from studio.types import AudioClip

    _, scape = lake
    scores = coherence_scores(scape, clap=clap_scorer)
    win = int(clap_scorer.max_length_s * scape.sample_rate)
    starts = window_starts(scape.frames, win, clap_scorer.max_windows)
    assert len(starts) == clap_scorer.max_windows  # the 8 s track is longer than the tiny model's 2 s input
    for stem in scape.stems:
        emb = clap_scorer.embed_audio([AudioClip(stem.render(s, win), scape.sample_rate) for s in starts])
        mean = emb.mean(axis=0) / np.linalg.norm(emb.mean(axis=0))
        text = clap_scorer.embed_text([stem.spec.prompt])[0]
        assert scores["clap"]["layers"][stem.spec.name] == pytest.approx(float(text @ mean), abs=1e-5)


def test_scores_absent_never_invented_without_models(lake):
    image, scape = lake
    scores = coherence_scores(scape, image=image)
    assert scores["clip"] is None and scores["clap"] is None and scores["overall"] is None
    assert any("CLIP" in m for m in scores["missing"]) and any("CLAP" in m for m in scores["missing"])
    kinds = {row["kind"] for row in score_rows(scores)}
    assert not any("CLIP" in k or "CLAP" in k for k in kinds)  # offline rows never labelled as model scores
    agreement = scores["offline"]["caption_plan_minilm"]
    assert set(agreement["layers"]) == {s.spec.name for s in scape.stems}
    assert -1.0 <= agreement["mean"] <= 1.0
    loud = scores["offline"]["loudness"]
    assert loud["integrated_lufs"] == pytest.approx(scape.master["integrated_lufs"], abs=0.01)
    assert loud["lra_lu"] is not None and 0.0 <= loud["lra_lu"] < 20.0


def test_overall_formula_and_missing_terms():
    assert overall_score(0.2, 0.4, [0.1, 0.3], has_image=True) == pytest.approx(0.25 * 0.2 + 0.5 * 0.4 + 0.25 * 0.2)
    w = OVERALL_WEIGHTS["clap_caption_mix"] + OVERALL_WEIGHTS["clap_layers_mean"]
    assert overall_score(None, 0.4, [0.2], has_image=False) == pytest.approx((0.5 * 0.4 + 0.25 * 0.2) / w)
    assert overall_score(None, 0.4, [0.2], has_image=True) is None  # an image without CLIP: no overall
    assert overall_score(0.3, None, [], has_image=True) is None


def test_window_starts_cover_long_signals():
    assert window_starts(100, 200, 3) == [0]
    starts = window_starts(1000, 100, 3)
    assert starts == [0, 450, 900]


def test_lra_of_steps_matches_level_difference():
    """Two halves 10 dB apart (each longer than the 3 s block) give an LRA close to 10 LU."""
    from studio.evaluation.measures import loudness_range_lu
    from studio.mixing.loudness import LoudnessMeter

    sr = 48000
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2, 20 * sr)).astype(np.float32) * 0.05
    noise[:, 10 * sr:] *= 10 ** (-10 / 20)
    meter = LoudnessMeter(sr)
    meter.feed(noise)
    res = meter.result()
    assert loudness_range_lu(res.hop_energy, res.hop_frames, sr) == pytest.approx(10.0, abs=0.6)
    steady = LoudnessMeter(sr)
    steady.feed(rng.standard_normal((2, 20 * sr)).astype(np.float32) * 0.05)
    r2 = steady.result()
    assert loudness_range_lu(r2.hop_energy, r2.hop_frames, sr) < 0.5


def test_pipeline_records_scores_in_manifest(lake, clip_scorer, clap_scorer, tmp_path):
    from studio.pipeline import SoundscapePipeline

    image, scape = lake
    pipe = SoundscapePipeline()
    pipe._cache[("scorer", "clip")] = clip_scorer
    pipe._cache[("scorer", "clap")] = clap_scorer
    result = pipe.export(scape, tmp_path / "out", image=image)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["scores"]["clap"]["model"] == clap_scorer.model_id
    assert manifest["scores"]["overall"]["value"] == pytest.approx(result.manifest["scores"]["overall"]["value"])
    bare = SoundscapePipeline()
    bare._cache[("scorer", "clip")] = bare._cache[("scorer", "clap")] = None
    bare.export(scape, tmp_path / "bare")
    assert "scores" not in json.loads((tmp_path / "bare" / "manifest.json").read_text())
