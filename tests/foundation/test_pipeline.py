"""The pipeline wires stages by name, falls back to offline defaults with a note, reports
progress and can be cancelled."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import CancelledError, InputError, ModelUnavailableError
from studio.pipeline import SoundscapePipeline, derive_seed, validate_duration, validate_seed


@pytest.fixture(scope="module")
def pipe():
    return SoundscapePipeline()


def test_validation_messages():
    with pytest.raises(InputError, match=r"between 5 s and 60 min; got 0 s"):
        validate_duration(0)
    with pytest.raises(InputError, match="got 3601 s"):
        validate_duration(3601)
    assert validate_duration("90") == 90.0
    with pytest.raises(InputError, match="seed must be a whole number"):
        validate_seed(-1)
    assert derive_seed(5, "take", 1) == derive_seed(5, "take", 1) != derive_seed(5, "take", 2)


def test_missing_captioner_model_falls_back_to_analysis_with_a_note(scene_image):
    pipe = SoundscapePipeline(captioner="blip2", captioner_options={"model_id": "Salesforce/blip2-opt-2.7b"})
    caption = pipe.caption(pipe.load_image(scene_image))
    assert caption.source == "analysis"
    assert any("blip2" in note and "analysis" in note for note in pipe.notes)


def test_missing_llm_falls_back_to_rules_with_the_reason_in_the_plan():
    pipe = SoundscapePipeline(planner="llm", planner_options={"model_id": "Qwen/Qwen2.5-0.5B-Instruct"})
    plan = pipe.plan("waves on a beach", style="meditation", duration_s=30, seed=1)
    assert plan.planner.startswith("rules") or "rules" in plan.planner
    assert any("llm" in note for note in plan.notes)


def test_fallback_off_raises_a_clear_error():
    pipe = SoundscapePipeline(captioner="blip2", fallback=False)
    with pytest.raises(ModelUnavailableError, match="blip2"):
        pipe._usable(__import__("studio.vision", fromlist=["CAPTIONERS"]).CAPTIONERS, "blip2", "analysis")


def test_unavailable_backend_renders_procedurally_and_says_so(pipe):
    plan = pipe.plan("gentle stream in a forest", style="focus", duration_s=6, seed=2)
    layer = plan.layers[0]
    neural = plan.replace_layer(layer.name, backend="musicgen")
    source = pipe.generate_layer(neural.layers[0], neural)
    assert source.backend == "procedural"
    assert "musicgen unavailable" in source.metadata["fallback"]
    # a background fallback to procedural is a fresh bed (a chain of takes rendered at mix time)
    clip = source.clips[0] if source.clips else source.chain.take(0)
    assert clip.channels == 2 and clip.duration_s > 0


def test_a_weak_procedural_match_reaches_the_pipeline_notes():
    pipe = SoundscapePipeline()
    plan = pipe.plan("gentle stream in a forest", style="focus", duration_s=6, seed=2)
    odd = plan.replace_layer(plan.layers[0].name, prompt="quarterly tax spreadsheet", params={})
    source = pipe.generate_layer(odd.layers[0], odd)
    assert source.metadata["weak_match"] is True
    weak = [n for n in pipe.notes if n.startswith(f"layer {plan.layers[0].name!r}: weak match")]
    assert len(weak) == 1 and "set params.type" in weak[0]
    pipe.generate_layer(odd.layers[0], odd)
    assert len([n for n in pipe.notes if "weak match" in n]) == 1  # not repeated
    fixed = odd.replace_layer(plan.layers[0].name, prompt="soft rain on leaves")
    assert pipe.generate_layer(fixed.layers[0], fixed).metadata["weak_match"] is False
    assert not [n for n in pipe.notes if "weak match" in n]  # the note left with the weak take


def test_a_named_missing_model_is_an_error_not_a_silent_fallback(pipe):
    plan = pipe.plan("gentle stream", style="focus", duration_s=6, seed=2)
    strict = plan.replace_layer(plan.layers[0].name, backend="musicgen", model="facebook/musicgen-small")
    with pytest.raises(ModelUnavailableError, match="musicgen-small"):
        pipe.generate_layer(strict.layers[0], strict)


def test_progress_is_monotonic_and_reaches_one(pipe):
    seen: list[float] = []
    scape = pipe.run(caption="rain on a window at night", style="sleep", duration_s=6, seed=4,
                     progress=lambda f, m: seen.append(f))
    assert seen[0] <= 0.1 and seen[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:]))
    assert scape.frames == 6 * 48000
    assert np.isfinite(scape.mix_clip().samples).all()


def test_cancel_from_progress_stops_the_render(pipe):
    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.2:
            raise CancelledError("cancelled by the user")

    with pytest.raises(CancelledError):
        pipe.run(caption="ocean waves", style="meditation", duration_s=6, seed=1, progress=cancel)


def test_caption_text_must_not_be_empty(pipe):
    with pytest.raises(InputError, match="the caption is empty"):
        pipe.plan("   ")
    with pytest.raises(InputError, match="give an image or a caption"):
        pipe.run()


class _ToneBackend:
    """A fake neural backend: a 16 kHz mono tone whose level depends on the seed."""

    name = "tone-test"
    sample_rate = 16000
    max_clip_s = 4.0

    def generate(self, prompt, *, duration_s, seed, progress=None, **params):
        from studio.types import AudioClip

        t = np.arange(int(duration_s * self.sample_rate)) / self.sample_rate
        level = 0.05 + (seed % 97) / 200
        return AudioClip((level * np.sin(2 * np.pi * 220 * t)).astype(np.float32), self.sample_rate)


class _RmsScorer:
    def score(self, text, clips):
        return np.array([float(np.sqrt(np.mean(c.samples**2))) for c in clips])


def test_neural_takes_are_ranked_best_first_and_clamped(monkeypatch):
    from studio.generation import BACKENDS
    from studio.types import EventSpec, LayerSpec, ScenePlan

    monkeypatch.setitem(BACKENDS._targets, "tone-test", _ToneBackend)
    pipe = SoundscapePipeline()
    pipe._cache[("scorer", "clap")] = _RmsScorer()
    layer = LayerSpec(name="bell", role="foreground", prompt="a bell", backend="tone-test", seed=9,
                      events=EventSpec(event_s=6.0, takes=3))
    plan = ScenePlan(style="meditation", duration_s=30, seed=1, layers=[layer])
    source = pipe.generate_layer(plan.layers[0], plan)
    scores = source.metadata["take_scores"]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3
    rms = [float(np.sqrt(np.mean(c.samples**2))) for c in source.clips]
    assert rms == pytest.approx(scores, rel=1e-6)
    assert all(c.duration_s == pytest.approx(4.0) for c in source.clips)  # clamped to max_clip_s
    assert source.metadata["clamped_from_s"] == 6.0


def test_a_fallback_layer_is_recorded_in_the_plan_so_the_manifest_re_renders_it(pipe):
    from studio.manifest import build_manifest, plan_from_manifest

    plan = pipe.plan("gentle stream in a forest", style="focus", duration_s=6, seed=2)
    asked = plan.replace_layer(plan.layers[0].name, backend="musicgen")
    scape = pipe.render(asked)
    used = scape.plan.layers[0]
    assert used.backend == "procedural" and used.model is None
    assert any(used.name in n and "musicgen unavailable" in n for n in scape.plan.notes)
    again = SoundscapePipeline().render(plan_from_manifest(build_manifest(scape)))
    assert np.array_equal(again.stems[0].clip().samples, scape.stems[0].clip().samples)


def test_captioner_and_planner_are_released_before_a_neural_backend_loads(monkeypatch):
    import gc
    import weakref

    from studio.generation import BACKENDS

    class Held:
        unloaded = 0

        def unload(self):
            Held.unloaded += 1

    pipe = SoundscapePipeline()
    captioner, planner = Held(), Held()
    refs = [weakref.ref(captioner), weakref.ref(planner)]
    pipe._cache[("captioner", "blip2", ())] = captioner
    pipe._cache[("planner", "llm", ())] = planner
    del captioner, planner
    plan = pipe.plan("gentle stream in a forest", style="focus", duration_s=6, seed=2)

    pipe.render(plan)  # procedural only: nothing to make room for
    assert Held.unloaded == 0 and all(r() is not None for r in refs)

    monkeypatch.setattr(BACKENDS, "availability", lambda name, model_id=None: (name == "procedural", "test"))
    pipe.render(plan.replace_layer(plan.layers[0].name, backend="musicgen"))
    gc.collect()
    assert Held.unloaded == 2 and all(r() is None for r in refs)
