"""``SoundscapePipeline``: caption -> plan -> render -> mix, with progress callbacks.

Every stage is looked up by its registry name, so the same names are used by the library,
the CLI (``--captioner``, ``--planner``) and the UI. Progress is reported as
``progress(fraction 0..1, message)``; a callback may raise :class:`CancelledError` to stop.

Example::

    pipe = SoundscapePipeline()                       # offline defaults
    image = pipe.load_image("examples/images/lake_at_dusk.jpg")
    scape = pipe.run(image, style="meditation", duration_s=60, seed=7)
    pipe.export(scape, "out/")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from studio.errors import InputError
from studio.types import (
    MAX_DURATION_S,
    MAX_SEED,
    MIN_DURATION_S,
    Caption,
    LayerSource,
    LayerSpec,
    Progress,
    ScenePlan,
    Soundscape,
    no_progress,
    scaled_progress,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from studio.planning.styles import Style

DEFAULT_STYLE = "meditation"
DEFAULT_CAPTIONER = "analysis"
DEFAULT_PLANNER = "rules"
LIGHT_BACKENDS = frozenset({"procedural", "samples"})  # no model to make room for
STAGE_KINDS = frozenset({"captioner", "sound tagger", "planner"})  # registry kinds freed by release_stages
BED_SOURCE_MAX_S = 90.0  # bed material generated per take; the mixer loops and varies it


def validate_duration(duration_s: float) -> float:
    """Track length in seconds, within 5 s .. 60 min (InputError otherwise)."""
    try:
        value = float(duration_s)
    except (TypeError, ValueError):
        raise InputError(f"duration must be a number of seconds; got {duration_s!r}") from None
    if not math.isfinite(value) or not MIN_DURATION_S <= value <= MAX_DURATION_S:
        raise InputError(
            f"duration must be between {MIN_DURATION_S:g} s and {MAX_DURATION_S / 60:g} min; got {value:g} s"
        )
    return value


def validate_seed(seed: Optional[int]) -> int:
    if seed is None:
        return 0
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}; got {seed!r}")
    return seed


def derive_seed(seed: int, *parts: Any) -> int:
    """A stable 32-bit seed from a base seed and labels (same in every process)."""
    import hashlib

    text = ":".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _model_of(options: dict[str, Any]) -> Optional[str]:
    return options.get("model_id") or options.get("model") or None


def _record_fallbacks(plan: ScenePlan, sources: list[LayerSource]) -> tuple[ScenePlan, list[LayerSource]]:
    """Write the backend each layer really used into the plan, so the manifest re-renders
    what was heard (not what was asked for) and says why."""
    from dataclasses import replace

    out = []
    for source in sources:
        spec = source.spec
        if source.backend != spec.backend:
            plan = plan.replace_layer(spec.name, backend=source.backend, model=None)
            note = f"layer {spec.name!r}: {source.metadata.get('fallback', f'rendered with {source.backend}')}"
            plan = plan.model_copy(update={"notes": (*plan.notes, note)})
            source = replace(source, spec=next(layer for layer in plan.layers if layer.name == spec.name))
        out.append(source)
    return plan, out


@dataclass
class SoundscapePipeline:
    """The four stages wired together. Components are created lazily and reused.

    ``backend_options`` maps a backend name to the options for its ``create`` (for
    example ``{"samples": {"folder": "~/recordings"}}``). With ``fallback`` (default) a stage
    whose model is missing runs on its offline default and a note is added to ``notes``.
    With ``rank_takes`` a neural layer's takes are ordered best-first by CLAP when the CLAP
    model is present (scores in the layer's metadata as ``take_scores``).
    """

    captioner: str = DEFAULT_CAPTIONER
    planner: str = DEFAULT_PLANNER
    tagger: Optional[str] = None
    captioner_options: dict[str, Any] = field(default_factory=dict)
    planner_options: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    fallback: bool = True
    rank_takes: bool = True
    notes: list[str] = field(default_factory=list)
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ stages

    @staticmethod
    def load_image(source: Any, *, filename: Optional[str] = None) -> "Image.Image":
        from studio.vision.intake import load_image

        return load_image(source, filename=filename)

    def caption(self, image: "Image.Image") -> Caption:
        from studio.vision import CAPTIONERS, TAGGERS

        name = self._usable(CAPTIONERS, self.captioner, DEFAULT_CAPTIONER, _model_of(self.captioner_options))
        opts = self.captioner_options if name == self.captioner else {}
        caption = self._component(CAPTIONERS, name, opts).caption(image)
        if self.tagger and self._usable(TAGGERS, self.tagger, None):
            tagger = self._component(TAGGERS, self.tagger, {})
            caption = caption.model_copy(update={"tags": tuple(tagger.tags(image))})
        return caption

    def plan(
        self,
        caption: Caption | str,
        *,
        style: "str | Style" = DEFAULT_STYLE,
        duration_s: Optional[float] = None,
        seed: Optional[int] = 0,
    ) -> ScenePlan:
        """A resolved plan (event times included); ``caption`` may be plain text."""
        from studio.mixing import resolve_events
        from studio.planning import PLANNERS
        from studio.planning.styles import load_style

        style_obj = load_style(style) if isinstance(style, str) else style
        if isinstance(caption, str):
            text = caption.strip()
            if not text:
                raise InputError("caption text is empty; describe the scene in a few words")
            caption = Caption(text=text[:2000], source="user")
        duration = validate_duration(style_obj.default_duration_s if duration_s is None else duration_s)
        name = self._usable(PLANNERS, self.planner, DEFAULT_PLANNER, _model_of(self.planner_options))
        opts = self.planner_options if name == self.planner else {}
        plan = self._component(PLANNERS, name, opts).plan(
            caption, style=style_obj, duration_s=duration, seed=validate_seed(seed)
        )
        if name != self.planner:
            why = [n for n in self.notes if n.startswith(f"{PLANNERS.kind} {self.planner!r}")]
            plan = plan.model_copy(update={"notes": (*plan.notes, *why)})
        return resolve_events(plan)

    def generate_layer(self, spec: LayerSpec, plan: ScenePlan, progress: Optional[Progress] = None) -> LayerSource:
        """The backend's takes for one layer (bed material or event takes)."""
        from studio.generation import BACKENDS

        backend_name = self._usable(BACKENDS, spec.backend, "procedural", spec.model, strict=bool(spec.model))
        opts = dict(self.backend_options.get(backend_name, {}))
        if spec.model and backend_name == spec.backend:
            opts["model_id"] = spec.model
        backend = self._component(BACKENDS, backend_name, opts)
        params = dict(spec.params)
        if spec.negative_prompt:
            params["negative_prompt"] = spec.negative_prompt
        if spec.role == "background":
            want_s = spec.loop_s or min(plan.duration_s, BED_SOURCE_MAX_S)
            takes = 1 if want_s >= plan.duration_s else 2
            params.setdefault("loop", True)
        else:
            assert spec.events is not None
            want_s = spec.events.event_s
            takes = spec.events.takes
            params["as_event"] = True
        clip_s = min(want_s, float(backend.max_clip_s))
        cb = progress or no_progress
        clips = []
        for k in range(takes):
            sub = scaled_progress(cb, k / takes, (k + 1) / takes)
            seed = spec.seed if k == 0 else derive_seed(spec.seed, "take", k)
            clips.append(backend.generate(spec.prompt, duration_s=clip_s, seed=seed, progress=sub, **params))
            sub(1.0, f"{spec.name}: take {k + 1}/{takes}")
        meta: dict[str, Any] = {}
        if len(clips) > 1 and backend_name != "procedural":
            clips, meta["take_scores"] = self._rank_takes(spec.prompt, clips)
        describe = getattr(backend, "metadata", None)
        if callable(describe):
            meta.update(describe(spec.prompt, duration_s=clip_s, **params))
        if clip_s < want_s:
            meta.setdefault("clamped_from_s", want_s)
        meta.update({"takes": takes, "take_s": clip_s})
        if backend_name != spec.backend:
            meta["fallback"] = f"{spec.backend} unavailable; rendered with {backend_name}"
        # This layer's notes describe its latest take only: a re-generated layer drops the old ones.
        prefix = f"layer {spec.name!r}: "
        self.notes[:] = [n for n in self.notes if not n.startswith(prefix)]
        for note in meta.get("notes", ()):  # e.g. a weak procedural match: never silent
            self._note(prefix + note)
        model = meta.get("model") or getattr(backend, "model_id", None)
        return LayerSource(spec=spec, clips=tuple(clips), backend=backend_name, model=model, metadata=meta)

    def render(self, plan: ScenePlan, *, progress: Optional[Progress] = None) -> Soundscape:
        """Generate every layer, then arrange, mix and master (generation takes 0..0.7)."""
        from studio.mixing import resolve_events

        plan = resolve_events(plan)
        cb = progress or no_progress
        if any(spec.backend not in LIGHT_BACKENDS for spec in plan.layers):
            self.release_stages()
        sources = []
        n = len(plan.layers)
        for i, spec in enumerate(plan.layers):
            cb(0.7 * i / n, f"generating {spec.name} ({spec.backend})")
            sources.append(self.generate_layer(spec, plan, scaled_progress(cb, 0.7 * i / n, 0.7 * (i + 1) / n)))
        plan, sources = _record_fallbacks(plan, sources)
        return self.mix(plan, sources, progress=scaled_progress(cb, 0.7, 1.0))

    def mix(self, plan: ScenePlan, sources: Sequence[LayerSource], *, progress: Optional[Progress] = None) -> Soundscape:
        from studio.mixing import render_soundscape

        cb = progress or no_progress
        scape = render_soundscape(plan, sources, progress=cb)
        cb(1.0, "mixed and mastered")
        return scape

    def run(
        self,
        image: "Image.Image | None" = None,
        *,
        caption: Caption | str | None = None,
        style: str = DEFAULT_STYLE,
        duration_s: Optional[float] = None,
        seed: Optional[int] = 0,
        progress: Optional[Progress] = None,
    ) -> Soundscape:
        """Image (or caption text) to soundscape. A given ``caption`` skips the captioner."""
        cb = progress or no_progress
        if caption is None:
            if image is None:
                raise InputError("give an image or a caption")
            cb(0.0, "captioning")
            caption = self.caption(image)
        cb(0.05, "planning")
        plan = self.plan(caption, style=style, duration_s=duration_s, seed=seed)
        return self.render(plan, progress=scaled_progress(cb, 0.1, 1.0))

    def export(self, soundscape: Soundscape, out_dir: str | Path, *, image_info: Optional[dict] = None,
               image: "Image.Image | None" = None, scores: Optional[dict] = None, **options: Any):
        """Write mix, stems and manifest under ``out_dir``; an ``ExportResult`` (see ``studio.export``).
        The manifest's ``scores`` are ``scores`` when given, else :meth:`score` when a CLIP or
        CLAP model is on this machine (nothing is recorded, and nothing costs time, otherwise)."""
        from studio.export import export_soundscape
        from studio.manifest import build_manifest

        if scores is None and (self._scorer("clip") or self._scorer("clap")):
            scores = self.score(soundscape, image=image)
        manifest = build_manifest(soundscape, image_info=image_info, scores=scores)
        return export_soundscape(soundscape, Path(out_dir), manifest=manifest, **options)

    def score(self, soundscape: Soundscape, *, image: "Image.Image | None" = None) -> dict[str, Any]:
        """Coherence scores and offline measures (``studio.evaluation.scores``): CLIP and CLAP
        when their models are on this machine, absent with the reason otherwise."""
        from studio.evaluation.scores import coherence_scores

        return coherence_scores(soundscape, image=image, clip=self._scorer("clip"), clap=self._scorer("clap"))

    def unload(self) -> None:
        """Drop every cached component (and the models they hold)."""
        self._drop(lambda key: True)

    def release_stages(self) -> None:
        """Free the captioner, tagger and planner and their models. ``render`` calls this before
        a neural audio backend loads, so a 15 GB captioner and an LLM are not resident beside it
        (the audio backends keep one resident model among themselves)."""
        self._drop(lambda key: key[0] in STAGE_KINDS)

    def _drop(self, which: Callable[[tuple], bool]) -> None:
        keys = [key for key in self._cache if which(key)]
        for key in keys:
            unload = getattr(self._cache.pop(key), "unload", None)
            if callable(unload):
                unload()
        if keys:
            import gc

            gc.collect()

    # ------------------------------------------------------------------ helpers

    def _rank_takes(self, prompt: str, clips: list) -> tuple[list, Optional[list[float]]]:
        """Best take first by CLAP text-audio similarity when the CLAP model is present here;
        otherwise generation order and no scores (the user chooses)."""
        scorer = self._scorer("clap") if self.rank_takes else None
        if scorer is None:
            return clips, None
        scores = [float(s) for s in scorer.score(prompt, clips)]
        order = sorted(range(len(clips)), key=lambda i: -scores[i])
        return [clips[i] for i in order], [scores[i] for i in order]

    def _scorer(self, kind: str) -> Any:
        """The CLIP or CLAP scorer when its model is on this machine, else None (loaded once)."""
        key = ("scorer", kind)
        if key not in self._cache:
            if kind == "clap":
                from studio.evaluation.clap import ClapScorer as scorer_cls
            else:
                from studio.evaluation.clip import ClipScorer as scorer_cls
            self._cache[key] = scorer_cls.if_available()
        return self._cache[key]

    def _usable(
        self, registry: Any, name: str, fallback: Optional[str], model_id: Optional[str] = None, *, strict: bool = False
    ) -> Optional[str]:
        """``name`` when it can run here (with ``model_id``); otherwise the offline
        ``fallback`` with a note (or an error when fallback is off, ``strict`` or there is none)."""
        ok, reason = registry.availability(name, model_id)
        if ok:
            return name
        if not self.fallback or strict or fallback is None:
            if fallback is None and self.fallback and not strict:
                self.notes.append(f"{registry.kind} {name!r} skipped: {reason}")
                return None
            from studio.errors import ModelUnavailableError

            raise ModelUnavailableError(f"{registry.kind} {name!r} cannot run: {reason}")
        self._note(f"{registry.kind} {name!r} unavailable ({reason}); used {fallback!r} instead")
        return fallback

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _component(self, registry: Any, name: str, opts: dict[str, Any]) -> Any:
        key = (registry.kind, name, tuple(sorted((k, repr(v)) for k, v in opts.items())))
        if key not in self._cache:
            self._cache[key] = registry.create(name, **opts)
        return self._cache[key]
