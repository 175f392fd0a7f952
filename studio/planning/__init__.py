"""Style presets, prompt templates and scene planners."""

from studio.registry import Registry

PLANNERS: Registry = Registry("planner")
PLANNERS.register("rules", "studio.planning.rules:RulePlanner")
PLANNERS.register("llm", "studio.planning.llm:LLMPlanner")
