"""Re-mix without regeneration: new gain, pan, width, mute, solo, event levels or master.

The layer sources (the backends' takes) are reused. When only mix settings change, the
arranged material (resampled takes, loop plans, measured take loudness) is reused too, so a
re-mix costs the master passes only. Changes to what a layer *is* need new audio and raise
:class:`~studio.errors.PlanError`.
"""

from __future__ import annotations

from typing import Optional

from studio.errors import PlanError
from studio.mixing.arrange import Arrangement
from studio.mixing.render import mix_state, soundscape_from
from studio.mixing.schedule import resolve_events
from studio.types import LayerSpec, Progress, ScenePlan, Soundscape, scaled_progress

# Fields whose change needs new audio from the backend.
REGENERATE_FIELDS = ("name", "role", "prompt", "backend", "model", "negative_prompt", "params", "seed", "loop_s")
REGENERATE_EVENT_FIELDS = ("event_s", "takes")
# Fields a re-mix may change without re-arranging anything.
MIX_FIELDS = ("gain_db", "pan", "width", "mute", "solo")


def _needs_regeneration(old: LayerSpec, new: LayerSpec) -> Optional[str]:
    for f in REGENERATE_FIELDS:
        if getattr(old, f) != getattr(new, f):
            return f
    if (old.events is None) != (new.events is None):
        return "events"
    if old.events is not None and new.events is not None:
        for f in REGENERATE_EVENT_FIELDS:
            if getattr(old.events, f) != getattr(new.events, f):
                return f"events.{f}"
    return None


def check_remixable(old: ScenePlan, new: ScenePlan) -> None:
    """Raise :class:`PlanError` if ``new`` needs regeneration rather than a re-mix."""
    if len(old.layers) != len(new.layers):
        raise PlanError(
            f"the plan has {len(new.layers)} layers but the soundscape has {len(old.layers)}; "
            "adding or removing layers needs a new render (a re-mix can change gain, pan, width, "
            "mute, solo, event level and master settings)"
        )
    for i, (a, b) in enumerate(zip(old.layers, new.layers)):
        field = _needs_regeneration(a, b)
        if field is not None:
            raise PlanError(
                f"layer {i + 1} ({a.name!r}) changed {field}; that needs a new render. A re-mix "
                "can change gain_db, pan, width, mute, solo, event level/timing and the master"
            )


def _only_mix_changes(old: ScenePlan, new: ScenePlan) -> bool:
    if old.duration_s != new.duration_s or old.sample_rate != new.sample_rate:
        return False
    for a, b in zip(old.layers, new.layers):
        if a.events is not None and b.events is not None:
            ea = a.events.model_dump(exclude={"level_db"})
            eb = b.events.model_dump(exclude={"level_db"})
            if ea != eb:
                return False
    return True


def remix(soundscape: Soundscape, plan: ScenePlan, *, progress: Optional[Progress] = None) -> Soundscape:
    """Re-mix ``soundscape`` with ``plan``'s mix and master settings, reusing its sources.

    Allowed changes: per-layer ``gain_db``, ``pan``, ``width``, ``mute``, ``solo``, event
    ``level_db`` (and event timing, pans and fades, which re-place events), the track duration
    and everything in ``plan.master``. Anything that changes a layer's audio (layers added or
    removed, prompt, params, seed, backend, model, loop length, event length or take count)
    raises :class:`PlanError`.
    """
    new_plan = resolve_events(plan)
    check_remixable(soundscape.plan, new_plan)
    sources = [src for src in soundscape.sources]
    if len(sources) != len(new_plan.layers):
        raise PlanError("this soundscape has no layer sources to re-mix; render it again instead")
    state = mix_state(soundscape)
    prog = scaled_progress(progress, 0.0, 0.05)
    prog(0.0, "re-arranging")
    if state is not None and _only_mix_changes(soundscape.plan, new_plan):
        arr = state.arrangement.with_plan(new_plan)
    else:
        arr = Arrangement.build(new_plan, sources)
    return soundscape_from(arr, sources, scaled_progress(progress, 0.05, 1.0))
