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

from studio import defaults
from studio.errors import InputError
from studio.types import (
    MAX_CAPTION_CHARS,
    MAX_DURATION_S,
    MAX_SEED,
    MIN_DURATION_S,
    Caption,
    LayerSource,
    LayerSpec,
    Progress,
    ScenePlan,
    Soundscape,
    TakeChain,
    no_progress,
    scaled_progress,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from studio.planning.styles import Style

DEFAULT_STYLE = defaults.STYLE
DEFAULT_CAPTIONER = defaults.CAPTIONER
DEFAULT_PLANNER = defaults.PLANNER
LIGHT_BACKENDS = frozenset({"procedural", "samples"})  # no model to make room for
STAGE_KINDS = frozenset({"captioner", "sound tagger", "planner"})  # registry kinds freed by release_stages
BED_SOURCE_MAX_S = 90.0  # bed material generated per take when it is looped (not fresh)
# Looped beds (recordings, neural takes) get takes totalling at least this much material, so
# the mixer can keep any stretch from coming back within studio.mixing.beds.NO_REPEAT_S.
BED_MATERIAL_S = 150.0
MAX_BED_TAKES = 6
# Backends cheap enough to render a whole bed fresh (a chain of distinct takes, no recycling).
FRESH_BACKENDS = frozenset({"procedural"})
# Steady tones are periodic by nature; they are looped from takes like recorded material.
STEADY_TONES = frozenset({"drone_pad", "binaural_beats"})


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
    """A seed within 0 .. 2**32-1 (InputError otherwise); None is the default seed (studio.defaults)."""
    if seed is None:
        return defaults.SEED
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}; got {seed!r}")
    return seed


def user_caption(text: str, cues: tuple[str, ...] = ()) -> Caption:
    """Typed caption text as a ``user`` Caption. The one rule for every command and page: empty
    or longer than MAX_CAPTION_CHARS (2000) is an InputError, never silently cut."""
    text = str(text or "").strip()
    if not text:
        raise InputError("the caption is empty; describe the scene in a few words")
    if len(text) > MAX_CAPTION_CHARS:
        raise InputError(f"the caption is {len(text)} characters; at most {MAX_CAPTION_CHARS} are allowed, shorten it")
    return Caption(text=text, source="user", cues=tuple(cues))


def derive_seed(seed: int, *parts: Any) -> int:
    """A stable 32-bit seed from a base seed and labels (same in every process)."""
    import hashlib

    text = ":".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def bed_take_count(want_s: float, max_clip_s: float) -> int:
    """Takes for a looped bed: enough to hold :data:`BED_MATERIAL_S` of material (at least
    two, at most :data:`MAX_BED_TAKES`)."""
    clip_s = max(1e-3, min(want_s, max_clip_s))
    return int(min(MAX_BED_TAKES, max(2, math.ceil(BED_MATERIAL_S / clip_s))))


def _model_of(options: dict[str, Any]) -> Optional[str]:
    return options.get("model_id") or options.get("model") or None


def _fallback_reason(spec: LayerSpec, backend_name: str) -> str:
    return f"{spec.backend} unavailable; rendered with {backend_name}"


def _likely_fresh(spec: LayerSpec) -> bool:
    """Whether ``spec`` will probably become a fresh bed (a cheap TakeChain to generate)."""
    return spec.role == "background" and spec.backend in FRESH_BACKENDS and spec.loop_s is None


def _prefetch_fresh(plan: ScenePlan, sources: Sequence[LayerSource]):
    from studio.mixing.fresh import prefetch_chains

    frames = int(round(plan.duration_s * plan.sample_rate))
    return prefetch_chains([s.chain for s in sources if s.chain is not None], frames, plan.sample_rate)


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
    model is present (scores in the layer's metadata as ``take_scores``). With ``recordings``
    (default) :meth:`plan` lets each bed use a bundled real recording, or a file from the
    samples folder in ``backend_options["samples"]["folder"]``, where one fits
    (:mod:`studio.generation.sources`).
    """

    captioner: str = DEFAULT_CAPTIONER
    planner: str = DEFAULT_PLANNER
    tagger: Optional[str] = None
    captioner_options: dict[str, Any] = field(default_factory=dict)
    planner_options: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    fallback: bool = True
    rank_takes: bool = True
    recordings: bool = True
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
        seed: Optional[int] = None,
    ) -> ScenePlan:
        """A resolved plan (event times included); ``caption`` may be plain text (see
        :func:`user_caption`). ``duration_s``/``seed`` default to studio.defaults (10 min, seed 7)."""
        from studio.mixing import resolve_events
        from studio.planning import PLANNERS
        from studio.planning.styles import load_style

        style_obj = load_style(style) if isinstance(style, str) else style
        if isinstance(caption, str):
            caption = user_caption(caption)
        duration = validate_duration(defaults.DURATION_S if duration_s is None else duration_s)
        name = self._usable(PLANNERS, self.planner, DEFAULT_PLANNER, _model_of(self.planner_options))
        opts = self.planner_options if name == self.planner else {}
        plan = self._component(PLANNERS, name, opts).plan(
            caption, style=style_obj, duration_s=duration, seed=validate_seed(seed)
        )
        if name != self.planner:
            why = [n for n in self.notes if n.startswith(f"{PLANNERS.kind} {self.planner!r}")]
            plan = plan.model_copy(update={"notes": (*plan.notes, *why)})
        if self.recordings:
            plan = self.choose_sources(plan)
        return resolve_events(plan)

    def choose_sources(self, plan: ScenePlan) -> ScenePlan:
        """Each procedural bed switched to a real recording where one fits, with the reason in
        its params and the plan's notes (see :mod:`studio.generation.sources`)."""
        from studio.generation import BACKENDS
        from studio.generation.sources import choose_sources

        folder_index = None
        if self.backend_options.get("samples", {}).get("folder"):
            samples = self._component(BACKENDS, "samples", dict(self.backend_options["samples"]))
            folder_index = samples.index
            for note in samples.metadata().get("notes", ()):
                self._note(note)
        return choose_sources(plan, folder_index=folder_index)

    def _layer_backend(self, spec: LayerSpec) -> tuple[str, Any, dict[str, Any]]:
        """The backend that renders ``spec`` here (its name, the instance) and its parameters."""
        from studio.generation import BACKENDS

        backend_name = self._usable(BACKENDS, spec.backend, "procedural", spec.model, strict=bool(spec.model))
        opts = dict(self.backend_options.get(backend_name, {}))
        if spec.model and backend_name == spec.backend:
            opts["model_id"] = spec.model
        backend = self._component(BACKENDS, backend_name, opts)
        params = dict(spec.params)
        if spec.negative_prompt:
            params["negative_prompt"] = spec.negative_prompt
        return backend_name, backend, params

    def _fresh_layer(self, spec: LayerSpec, plan: ScenePlan) -> Optional[LayerSource]:
        """``spec`` as a fresh bed (its takes named, none rendered) when it becomes one, else None."""
        if spec.role != "background":
            return None
        return self._fresh_chain(spec, plan, *self._layer_backend(spec))

    def generate_layer(self, spec: LayerSpec, plan: ScenePlan, progress: Optional[Progress] = None) -> LayerSource:
        """The backend's takes for one layer (bed material or event takes)."""
        backend_name, backend, params = self._layer_backend(spec)
        if spec.role == "background":
            chain = self._fresh_chain(spec, plan, backend_name, backend, params)
            if chain is not None:
                return chain
            want_s = spec.loop_s or min(plan.duration_s, BED_SOURCE_MAX_S)
            takes = 1 if want_s >= plan.duration_s else bed_take_count(want_s, float(backend.max_clip_s))
            if backend_name == "samples":
                # Takes of one recording would be crops overlapping each other: ask for one
                # take holding all the material instead (the backend chains recordings).
                want_s, takes = (want_s if spec.loop_s else min(plan.duration_s, BED_MATERIAL_S)), 1
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
            meta["fallback"] = _fallback_reason(spec, backend_name)
        self._layer_notes(spec, meta)
        model = meta.get("model") or getattr(backend, "model_id", None)
        return LayerSource(spec=spec, clips=tuple(clips), backend=backend_name, model=model, metadata=meta)

    def _fresh_chain(self, spec: LayerSpec, plan: ScenePlan, backend_name: str, backend: Any,
                     params: dict[str, Any]) -> Optional[LayerSource]:
        """A bed rendered fresh for the whole track (a :class:`TakeChain`), when the backend is
        cheap enough and the layer is not a steady tone or a user-set loop (``loop_s``). A layer
        that fell back to such a backend is rendered the same way, exactly as the rewritten plan
        in its manifest (``backend`` = the one used) renders it again."""
        if backend_name not in FRESH_BACKENDS or spec.loop_s is not None:
            return None
        from studio.mixing.fresh import FRESH_TAKE_S, chain_geometry, fresh_take_count

        meta = dict(backend.metadata(spec.prompt, **params))
        generator = meta.get("generator")
        if generator in STEADY_TONES:
            return None
        take, xfade = chain_geometry(plan.sample_rate)
        frames = int(round(plan.duration_s * plan.sample_rate))
        count = fresh_take_count(frames, take, xfade)
        seeds = tuple(spec.seed if k == 0 else derive_seed(spec.seed, "take", k) for k in range(count))
        chain_params = {**params, "loop": False}
        if generator:
            chain_params["type"] = generator  # resolved once here, not again in every worker
        chain = TakeChain(backend=backend, prompt=spec.prompt, params=chain_params, seeds=seeds, take_s=FRESH_TAKE_S)
        meta.update({"takes": count, "take_s": FRESH_TAKE_S, "fresh": True})
        if backend_name != spec.backend:
            meta["fallback"] = _fallback_reason(spec, backend_name)
        self._layer_notes(spec, meta)
        return LayerSource(spec=spec, clips=(), backend=backend_name, model=None, metadata=meta, chain=chain)

    def render(self, plan: ScenePlan, *, progress: Optional[Progress] = None) -> Soundscape:
        """Generate every layer, then arrange, mix and master (generation takes 0..0.7)."""
        from studio.mixing import resolve_events

        plan = resolve_events(plan)
        cb = progress or no_progress
        if any(spec.backend not in LIGHT_BACKENDS for spec in plan.layers):
            self.release_stages()
        n = len(plan.layers)
        # Fresh beds first: one only names its takes (nothing is rendered), and the takes start
        # rendering in worker processes at once, while this thread generates the other layers
        # (docs/architecture.md, "Fresh beds start early"); the mixer then finds them spooled.
        sources: list[Optional[LayerSource]] = [self._fresh_layer(spec, plan) if _likely_fresh(spec) else None
                                                for spec in plan.layers]
        named = [s for s in sources if s is not None]
        prefetch = _prefetch_fresh(plan, named) if named else None
        try:
            todo = [i for i in range(n) if sources[i] is None]
            for step, i in enumerate(todo):
                spec = plan.layers[i]
                done = n - len(todo) + step
                cb(0.7 * done / n, f"generating {spec.name} ({spec.backend})")
                sources[i] = self.generate_layer(spec, plan, scaled_progress(cb, 0.7 * done / n, 0.7 * (done + 1) / n))
            self._layer_notes_in_plan_order(plan)
            plan, sources = _record_fallbacks(plan, sources)
            return self.mix(plan, sources, progress=scaled_progress(cb, 0.7, 1.0))
        finally:
            if prefetch is not None:
                prefetch.cancel()  # done by now unless the render failed or was cancelled

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
        seed: Optional[int] = None,
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
            from studio.devices import release_memory

            release_memory()  # gc, then torch.cuda.empty_cache() when CUDA is in use

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

    def _layer_notes(self, spec: LayerSpec, meta: dict[str, Any]) -> None:
        # This layer's notes describe its latest take only: a re-generated layer drops the old ones.
        prefix = f"layer {spec.name!r}: "
        self.notes[:] = [n for n in self.notes if not n.startswith(prefix)]
        for note in meta.get("notes", ()):  # e.g. a weak procedural match: never silent
            self._note(prefix + note)

    def _layer_notes_in_plan_order(self, plan: ScenePlan) -> None:
        """The notes of ``plan``'s layers in its layer order (layers are not generated in that
        order, see :meth:`render`); every other note keeps its place. Each layer has only its
        latest notes (:meth:`_layer_notes`), so this is the whole list, not just this render's."""
        rank = {f"layer {spec.name!r}: ": i for i, spec in enumerate(plan.layers)}

        def layer_of(note: str) -> Optional[int]:
            return next((i for prefix, i in rank.items() if note.startswith(prefix)), None)

        slots = [k for k, note in enumerate(self.notes) if layer_of(note) is not None]
        ordered = sorted((self.notes[k] for k in slots), key=layer_of)
        for k, note in zip(slots, ordered):
            self.notes[k] = note

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _component(self, registry: Any, name: str, opts: dict[str, Any]) -> Any:
        key = (registry.kind, name, tuple(sorted((k, repr(v)) for k, v in opts.items())))
        if key not in self._cache:
            self._cache[key] = registry.create(name, **opts)
        return self._cache[key]
