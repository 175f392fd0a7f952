"""A tiny random Qwen2 chat model, built offline and loaded through the real
``from_pretrained`` path: its output is garbage, so the planner falls back, saying why."""

from __future__ import annotations

from studio.planning.guardrails import limit_violations
from studio.planning.llm import LLMPlanner
from studio.types import Caption


def test_tiny_random_llm_falls_back_with_the_reason(tiny_qwen_dir, styles):
    style = styles["meditation"]
    planner = LLMPlanner.from_pretrained(str(tiny_qwen_dir), device="cpu", max_new_tokens=24, temperature=0.7)
    ok, reason = LLMPlanner.availability(str(tiny_qwen_dir))
    assert ok, reason
    raw = planner._generate([{"role": "user", "content": "hello"}], seed=1)
    assert isinstance(raw, str)
    assert raw == planner._generate([{"role": "user", "content": "hello"}], seed=1)  # seeded sampling
    plan = planner.plan(Caption(text="gentle rain on a tin roof with distant thunder"), style=style, duration_s=60, seed=3)
    assert plan.planner == "llm->rules"
    assert plan.notes[0].startswith("LLM output invalid after one repair round")
    assert any("asked the model to repair" in n for n in plan.notes) is False  # repair note is replaced by the fallback reason
    assert {"rain_on_roof", "thunder"} <= {l.params["type"] for l in plan.layers}
    assert limit_violations(plan, style) == []


def test_registry_create_loads_lazily(tiny_qwen_dir, styles):
    from studio.planning import PLANNERS

    planner = PLANNERS.create("llm", model=str(tiny_qwen_dir), device="cpu", max_new_tokens=8)
    assert planner._generate is None  # nothing loaded yet
    plan = planner.plan(Caption(text="a stream"), style=styles["focus"], duration_s=60, seed=0)
    assert planner._generate is not None and plan.planner == "llm->rules"


def test_the_fallback_reason_is_recorded_in_the_manifest(tiny_qwen_dir, tmp_path):
    """Through the real pipeline and export: the garbage-speaking model's plan is replaced by the
    rules planner's, and manifest.json says so (planner and first note), and re-renders from it."""
    import json

    from studio.manifest import plan_from_manifest
    from studio.pipeline import SoundscapePipeline

    pipe = SoundscapePipeline(
        planner="llm", planner_options={"model": str(tiny_qwen_dir), "device": "cpu", "max_new_tokens": 16}
    )
    scape = pipe.run(caption="gentle rain on a tin roof", style="sleep", duration_s=5, seed=1)
    pipe.export(scape, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["plan"]["planner"] == "llm->rules"
    assert manifest["plan"]["notes"][0].startswith("LLM output invalid after one repair round")
    again = plan_from_manifest(manifest)
    assert again.planner == "llm->rules" and "rain_on_roof" in {l.params["type"] for l in again.layers}
