"""The studio's working state for one browser session, free of Streamlit.

:class:`StudioSession` holds the session's :class:`Project` (image, caption, plan, each layer's
takes, the current soundscape, title and the Studio's settings) and the operations the page
offers: caption, plan, generate, re-mix, regenerate one layer, change the length (re-arranging
the kept takes), keep a Compare variant, undo the last change, prepare downloads, save to the
library. Pages only read widgets and call these methods, so everything here is tested without
a browser and reused by ``bench/ui.py``.

Audio never sits in the session: each result is written once, streamed chunk by chunk, to the
session's folder (``v<version>/listen/``: the mix as 24-bit FLAC, before the result is shown,
and every stem as 16-bit FLAC, whole length, in the background just after: :mod:`studio.ui.players`)
and offered to the browser by URL (:mod:`studio.ui.files`). Downloads are
exported to disk on request (``v<version>/export-…/``) by ``studio.export`` with progress.
Only the current result's and the undo snapshot's folders are kept.

Re-mix rules (what an edit of the plan table costs):

- gain, pan, mute, solo, master, event timing, width -> ``studio.mixing.remix`` over the kept
  sources (no regeneration, seconds);
- prompt, role, backend, model, params, seed, event length/takes -> that layer is
  regenerated (only that one), then mixed.
"""

from __future__ import annotations

import io
import logging
import secrets
import shutil
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence

import numpy as np

from studio.errors import InputError, StudioError
from studio.mixing.remix import MIX_FIELDS, REGENERATE_EVENT_FIELDS, REGENERATE_FIELDS
from studio.types import MAX_SEED, Caption, LayerSource, LayerSpec, ScenePlan, Soundscape, slugify
from studio.ui import files
from studio.ui.memory import release_free_memory
from studio.ui.players import CHUNK_FRAMES  # noqa: F401  (compare.py streams in the same chunks)

log = logging.getLogger(__name__)

SAVING, SAVED = "saving", "saved"
DOWNLOAD_FORMATS = ("wav", "flac", "mp3", "ogg")
STEM_FORMATS = ("flac", "wav")
# Stem metadata shown in "Which models made what" (licence and fallbacks above all).
FACT_KEYS = ("licence", "device", "fallback", "generator", "matched", "type", "similarity", "clamped_from_s", "notes")


class Reporter(Protocol):
    """Where generation progress goes: the whole job, and the layer being generated."""

    def overall(self, fraction: float, message: str) -> None: ...

    def layer(self, index: int, count: int, name: str, fraction: float, message: str) -> None: ...


class NullReporter:
    def overall(self, fraction: float, message: str) -> None:  # noqa: ARG002
        return None

    def layer(self, index: int, count: int, name: str, fraction: float, message: str) -> None:  # noqa: ARG002
        return None


@dataclass
class ImageInput:
    """An image the session works from: the loaded PIL image, its encoded bytes (for the
    library thumbnail) and the intake's file facts (``image.info["studio"]``)."""

    image: Any
    data: bytes
    filename: str
    info: dict[str, Any]


def new_seed() -> int:
    """A fresh random seed (recorded in the plan, so the take still reproduces)."""
    return secrets.randbelow(MAX_SEED + 1)


def change_kind(old: ScenePlan, new: ScenePlan) -> tuple[str, list[str]]:
    """What it takes to go from ``old``'s soundscape to ``new``.

    Returns ``(kind, layers)`` where kind is ``"none"``, ``"remix"`` (gains, pans, width,
    mutes, solo, master only), ``"arrange"`` (event timing or the length changed: arrange the
    kept takes again) or ``"regenerate"`` (``layers`` lists the layers whose audio must be made
    again). A change of layer set or order is ``"regenerate"`` of every layer.
    """
    if [l.name for l in old.layers] != [l.name for l in new.layers]:
        return "regenerate", [l.name for l in new.layers]
    # The field lists are the mixer's (studio.mixing.remix): one source for what a re-mix may change.
    regen: list[str] = []
    arrange = remix = False
    for a, b in zip(old.layers, new.layers):
        if any(getattr(a, f) != getattr(b, f) for f in REGENERATE_FIELDS):
            regen.append(b.name)
            continue
        ea, eb = a.events, b.events
        if (ea is None) != (eb is None) or (
            ea is not None and any(getattr(ea, f) != getattr(eb, f) for f in REGENERATE_EVENT_FIELDS)
        ):
            regen.append(b.name)
            continue
        if ea != eb:
            arrange = True
        if any(getattr(a, f) != getattr(b, f) for f in MIX_FIELDS):
            remix = True
    if regen:
        return "regenerate", regen
    if arrange or old.duration_s != new.duration_s:
        return "arrange", []
    if remix or old.master != new.master:
        return "remix", []
    return "none", []


def with_length(plan: ScenePlan, duration_s: float) -> ScenePlan:
    """``plan`` at another length with the same layers, takes, seeds and mix settings. Event
    times are placed again over the new length (deterministically from each layer's seed);
    the takes themselves are kept."""
    from studio.mixing import resolve_events

    if float(duration_s) == float(plan.duration_s):
        return plan
    layers = tuple(
        l if l.events is None else l.model_copy(update={"events": l.events.model_copy(update={"times_s": None, "pans": None, "take_indices": None})})
        for l in plan.layers
    )
    return resolve_events(plan.model_copy(update={"duration_s": float(duration_s), "layers": layers}))


def length_label(duration_s: float) -> str:
    """``10min`` for whole minutes, else ``45s`` (for file names)."""
    total = int(round(duration_s))
    return f"{total // 60}min" if total % 60 == 0 else f"{total}s"


def loudness_match_gain_db(integrated_lufs: Sequence[Optional[float]]) -> list[float]:
    """Gains (dB, never positive) that bring each variant down to the quietest one's loudness,
    so a comparison is not won by whichever is louder. Unknown loudness gets 0 dB."""
    known = [v for v in integrated_lufs if v is not None and np.isfinite(v)]
    if not known:
        return [0.0 for _ in integrated_lufs]
    ref = min(known)
    return [0.0 if v is None or not np.isfinite(v) else float(ref - v) for v in integrated_lufs]


@dataclass
class Project:
    """What the user is working on: the image, the caption, the plan, each layer's takes
    (``sources``), the rendered soundscape, its title and the Studio's settings (style,
    length, loudness, format, fades: the page's widget values, restored by undo).

    ``version`` names the rendered result (its files live under ``v<version>/``)."""

    image: Optional[ImageInput] = None
    caption: Optional[Caption] = None
    plan: Optional[ScenePlan] = None  # the plan the table edits start from
    sources: dict[str, LayerSource] = field(default_factory=dict)
    soundscape: Optional[Soundscape] = None
    title: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    # An undo point's soundscape is dropped (its takes are parked on disk, its audio files stay
    # under v<version>/): this is the plan it had, to mix it again when the user undoes.
    parked_plan: Optional[ScenePlan] = None

    def has_result(self) -> bool:
        return self.soundscape is not None or self.parked_plan is not None


def _project_field(name: str) -> property:
    return property(lambda self: getattr(self.project, name), lambda self, value: setattr(self.project, name, value))


@dataclass
class Listening:
    """A result's audio on disk and the URLs the browser plays it from."""

    folder: Path
    mix: Path
    stems: dict[str, Path]
    mix_url: str
    stem_urls: dict[str, str]
    writer: Any = None  # players.StemWriter of the stems (running, or finished)


@dataclass
class StudioSession:
    """One browser session's studio. ``work_dir`` is private to the session (a temp folder
    removed when the session object is garbage-collected)."""

    pipeline: Any = None
    work_dir: Path = field(default=None)  # type: ignore[assignment]
    project: Project = field(default_factory=Project)
    undo_point: Optional[tuple[str, Project]] = None  # (what changed, the project before it)
    version: int = 0  # the current result's version (changes whenever ``soundscape`` does)
    last_version: int = 0  # the newest version ever made (versions are never reused)
    plan_serial: int = 0  # bumped whenever ``plan`` is replaced (the table restarts from it)
    busy: bool = False  # a render is under way: downloads are withdrawn until it ends
    ui: dict[str, Any] = field(default_factory=dict)  # the page's bookkeeping (input token, plan key)
    saves: dict[int, str] = field(default_factory=dict)  # version -> "saving", "saved" or the error
    _listening: dict[int, Listening] = field(default_factory=dict, repr=False)
    _exports: dict[tuple, dict[str, Path]] = field(default_factory=dict, repr=False)
    _offers: list[str] = field(default_factory=list, repr=False)  # download URLs on offer
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _takes: Any = field(default=None, repr=False)  # the undo point's parked takes (parking.TakeStore)

    image = _project_field("image")
    caption = _project_field("caption")
    plan = _project_field("plan")
    sources = _project_field("sources")

    @property
    def soundscape(self) -> Optional[Soundscape]:
        """The current result; a parked one (see :meth:`generate`) is mixed again on first use."""
        if self.project.soundscape is None and self.project.parked_plan is not None:
            self.project = self._unparked(self.project)
        return self.project.soundscape

    @soundscape.setter
    def soundscape(self, value: Optional[Soundscape]) -> None:
        self.project = replace(self.project, soundscape=value, parked_plan=None)

    def __post_init__(self) -> None:
        if self.pipeline is None:
            from studio.pipeline import SoundscapePipeline

            self.pipeline = SoundscapePipeline()
        if self.work_dir is None:
            from studio.scratch import scratch_dir

            self.work_dir = scratch_dir("studio-session-", owner=self)
        from studio.ui.parking import TakeStore

        self._takes = TakeStore(self.work_dir / "takes")

    # ------------------------------------------------------------------ input

    def open_image(self, data: bytes, filename: str) -> ImageInput:
        """Validate and decode uploaded bytes (ImageError for bad files). Changes nothing."""
        image = self.pipeline.load_image(io.BytesIO(data), filename=filename)
        info = dict(image.info.get("studio", {}) or {})
        info.setdefault("filename", filename)
        return ImageInput(image=image, data=bytes(data), filename=filename, info=info)

    def use_image(self, loaded: ImageInput) -> Caption:
        """Caption ``loaded`` and make it the session's image. Image and caption change
        together, and only when captioning succeeds: a captioner that fails (BackendError
        from BLIP inference, a model that is missing with fallback off) leaves the previous
        image, caption and plan exactly as they were."""
        caption = self.pipeline.caption(loaded.image)
        self._checkpoint(f"new image {loaded.filename}")
        self.image, self.caption = loaded, caption
        return caption

    def set_caption_text(self, text: str) -> Caption:
        """Keep the captioner's caption when the text is unchanged; a typed edit becomes a
        ``user`` caption (so the manifest says the words were the user's)."""
        text = (text or "").strip()
        if not text:
            raise InputError("the caption is empty; describe the scene in a few words")
        if self.caption is None or self.caption.text != text:
            cues = self.caption.cues if self.caption else ()
            self.caption = Caption(text=text[:2000], source="user", cues=cues)
        return self.caption

    def make_plan(self, *, style: str, duration_s: float, seed: int, master: Optional[Mapping[str, Any]] = None) -> ScenePlan:
        """Plan from the current caption; ``master`` overrides MasterSpec fields (a preset)."""
        if self.caption is None:
            raise InputError("add an image or type a caption first")
        plan = self.pipeline.plan(self.caption, style=style, duration_s=duration_s, seed=seed)
        if master:
            plan = plan.model_copy(update={"master": plan.master.model_copy(update=dict(master))})
        self.plan = plan
        self.plan_serial += 1
        return plan

    @property
    def title(self) -> str:
        """The project's title (downloads and the library use it); the image's or caption's
        words until the user types one."""
        return self.project.title or self.default_title()

    @title.setter
    def title(self, value: str) -> None:
        self.project.title = " ".join((value or "").split())[:120]

    # ------------------------------------------------------------------ rendering

    def generate(self, plan: ScenePlan, reporter: Optional[Reporter] = None) -> Soundscape:
        """Generate every layer of ``plan``, then mix. State changes only on success, so a
        cancelled run leaves the previous result in place."""
        from studio.mixing import resolve_events

        rep = reporter or NullReporter()
        plan = resolve_events(plan)
        self._stop_stems(wait=True)
        # Nothing of the current result is used by a new generation: park it (takes to disk,
        # soundscape dropped) so the two are never in memory together. Its files still play;
        # should this run fail, the first use of ``soundscape`` mixes it again.
        self.project = self._parked(self.project, settings=self.project.settings)
        release_free_memory()
        sources = self._generate_layers(plan, [l.name for l in plan.layers], {}, rep)
        scape = self._mix(plan, sources, rep)
        self._commit(plan, sources, scape, rep, "generate")
        return scape

    def apply_plan(self, plan: ScenePlan, reporter: Optional[Reporter] = None, what: Optional[str] = None) -> str:
        """Bring the soundscape in line with an edited plan at the least cost; returns the
        kind of work done (see :func:`change_kind`)."""
        if self.soundscape is None:
            raise InputError("generate a soundscape first")
        from studio.mixing import remix, resolve_events

        rep = reporter or NullReporter()
        plan = resolve_events(plan)
        kind, layers = change_kind(self.soundscape.plan, plan)
        if kind == "none":
            return kind
        self._stop_stems(wait=False)  # the result being replaced needs no stem files now
        if kind in ("remix", "arrange"):
            # The mixer keeps the takes: only arrangement, levels and master are redone.
            rep.overall(0.0, "re-mixing")
            scape = remix(self.soundscape, plan, progress=lambda f, m: rep.overall(0.9 * f, m))
            self._commit(plan, dict(self.sources), scape, rep, what or "re-mix")
            return kind
        sources = self._generate_layers(plan, layers, self.sources, rep)
        scape = self._mix(plan, sources, rep)
        self._commit(plan, sources, scape, rep, what or f"new audio for {', '.join(layers)}")
        return kind

    def set_length(self, duration_s: float, reporter: Optional[Reporter] = None) -> ScenePlan:
        """Change the track's length keeping every take (a new take of a layer included):
        the kept takes are arranged again over the new length. Returns the new plan."""
        if self.plan is None:
            raise InputError("add an image or type a caption first")
        plan = with_length(self.soundscape.plan if self.soundscape is not None else self.plan, duration_s)
        if self.soundscape is not None:
            self.apply_plan(plan, reporter, what=f"length {length_label(self.soundscape.duration_s)} to {length_label(duration_s)}")
        else:
            self.plan = plan
            self.plan_serial += 1
        return self.plan

    def regenerate_layer(self, plan: ScenePlan, name: str, seed: Optional[int] = None, reporter: Optional[Reporter] = None) -> int:
        """A new take of one layer (new seed) in ``plan``; every other layer keeps its audio.
        Returns the seed used."""
        seed = new_seed() if seed is None else seed
        new_plan = plan.replace_layer(name, seed=seed)
        if self.soundscape is None:
            self.generate(new_plan, reporter)
        else:
            self.apply_plan(new_plan, reporter, what=f"new take of {name}")
        return seed

    def keep_variant(self, plan: ScenePlan, soundscape: Soundscape, reporter: Optional[Reporter] = None) -> ScenePlan:
        """Bring back a Compare variant's plan and takes, and only those: the Studio's length
        and master (loudness, ceiling, fades) stay as they are, and the variant's takes are
        arranged over the Studio's length."""
        from studio.mixing import remix

        rep = reporter or NullReporter()
        self._stop_stems(wait=False)
        current = self.soundscape.plan if self.soundscape is not None else self.plan
        new_plan = plan
        if current is not None:
            new_plan = with_length(plan.model_copy(update={"master": current.master}), current.duration_s)
        rep.overall(0.0, "arranging the variant's takes")
        scape = remix(soundscape, new_plan, progress=lambda f, m: rep.overall(0.9 * f, m))
        self._commit(new_plan, {s.spec.name: s for s in soundscape.sources}, scape, rep, "kept a Compare variant")
        if plan.caption is not None:
            self.caption = plan.caption
        return self.plan

    def _generate_layers(self, plan: ScenePlan, names: Sequence[str], keep: Mapping[str, LayerSource], rep: Reporter) -> dict[str, LayerSource]:
        todo = [l for l in plan.layers if l.name in set(names)]
        sources: dict[str, LayerSource] = {}
        for spec in plan.layers:
            if spec.name not in set(names) and spec.name in keep:
                sources[spec.name] = keep[spec.name]
        count = len(todo)
        for i, spec in enumerate(todo):
            start, end = 0.7 * i / max(count, 1), 0.7 * (i + 1) / max(count, 1)
            rep.overall(start, f"generating layer {i + 1}/{count}: {spec.name} ({spec.backend})")

            def on_layer(fraction: float, message: str, i: int = i, spec: LayerSpec = spec, start: float = start, end: float = end) -> None:
                rep.layer(i, count, spec.name, fraction, message)
                rep.overall(start + (end - start) * min(1.0, max(0.0, fraction)), f"generating {spec.name}")

            sources[spec.name] = self.pipeline.generate_layer(spec, plan, on_layer)
            rep.layer(i, count, spec.name, 1.0, f"{spec.name} done")
        return sources

    def _mix(self, plan: ScenePlan, sources: Mapping[str, LayerSource], rep: Reporter) -> Soundscape:
        from studio.types import scaled_progress

        rep.overall(0.7, "arranging, mixing and mastering")
        ordered = [sources[l.name] for l in plan.layers]
        return self.pipeline.mix(plan, ordered, progress=scaled_progress(rep.overall, 0.7, 0.9))

    def _commit(self, plan: ScenePlan, sources: dict[str, LayerSource], scape: Soundscape, rep: Reporter, what: str) -> None:
        """Write the result's audio to disk (0.9..1.0 of the progress), then make it current.
        Nothing changes when writing fails or is cancelled."""
        version = self.last_version + 1
        listening = self._write_listening(version, scape, rep)
        self._checkpoint(what)
        self.project = replace(self.project, plan=scape.plan if scape.plan is not None else plan,
                               sources=sources, soundscape=scape, version=version)
        self._listening[version] = listening
        self.plan_serial += 1
        self.version = self.last_version = version
        self._cache = {k: v for k, v in self._cache.items() if k[0] == version}
        self._prune()
        self._start_stems(version, scape)
        release_free_memory()
        rep.overall(1.0, "done")

    def adopt(self, plan: ScenePlan, sources: Sequence[LayerSource], scape: Soundscape) -> None:
        """Make an already rendered result (a library entry) the session's current one."""
        self._stop_stems(wait=False)
        self._commit(plan, {s.spec.name: s for s in sources}, scape, NullReporter(), "opened from the library")
        if plan.caption is not None:
            self.caption = plan.caption

    # ------------------------------------------------------------------ undo

    def checkpoint(self, what: str) -> None:
        """Public: make the project as it is now the undo point (for pages that replace it)."""
        self._checkpoint(what)

    def _checkpoint(self, what: str) -> None:
        """Remember the project as it is now, so :meth:`undo` can bring it back (one step)."""
        if self.project.caption is None and not self.project.has_result():
            return  # nothing worth undoing yet
        self.undo_point = (what, self._parked(self.project))

    def _parked(self, project: Project, settings: Optional[dict[str, Any]] = None) -> Project:
        """``project`` with its takes on disk (memory-mapped) and no soundscape (only the plan
        to mix it again), with ``settings`` (default: the page's settings of now, as an undo
        point keeps them)."""
        return replace(project, sources=self._takes.park_all(project.sources), soundscape=None,
                       parked_plan=project.soundscape.plan if project.soundscape is not None else project.parked_plan,
                       settings=dict(self.ui.get("settings", {}) if settings is None else settings))

    def _unparked(self, project: Project) -> Project:
        """A parked project with its soundscape mixed again from the parked takes (the same
        samples as before: mixing is deterministic; its audio files were kept on disk)."""
        if project.parked_plan is None:
            return project
        plan = project.parked_plan
        scape = self.pipeline.mix(plan, [project.sources[l.name] for l in plan.layers])
        return replace(project, soundscape=scape, parked_plan=None)

    def undo(self) -> Project:
        """Undo the last change (a generation, re-mix, new take, length change, kept variant or
        new image). Returns the restored project; its ``settings`` are the page's widget values
        from before the change. An undo can itself be undone."""
        if self.undo_point is None:
            raise InputError("there is nothing to undo")
        what, before = self.undo_point
        self._stop_stems(wait=False)
        before = self._unparked(before)
        self.undo_point = ("undo", self._parked(self.project))
        self.project = before
        self.version = before.version if before.soundscape is not None else self.version
        self.plan_serial += 1
        self.ui.pop("failed_remix", None)
        self._cache = {k: v for k, v in self._cache.items() if k[0] == self.version}
        self._takes.prune([*self.project.sources.values(), *self.undo_point[1].sources.values()])
        return before

    def undo_label(self) -> Optional[str]:
        return None if self.undo_point is None else self.undo_point[0]

    # ------------------------------------------------------------------ listening

    def _write_listening(self, version: int, scape: Soundscape, rep: Reporter) -> Listening:
        """The result's players: the mix written now (24-bit FLAC: player, library, FLAC
        reference; 0.9..1.0 of the progress), the stems (16-bit FLAC, whole length) named and
        offered now but written by :meth:`_start_stems` once the result is committed
        (:mod:`studio.ui.players`). Memory: a chunk or two."""
        from studio.ui.players import write_mix

        folder = self.work_dir / f"v{version}" / "listen"
        shutil.rmtree(folder.parent, ignore_errors=True)
        folder.mkdir(parents=True)
        mix_path = folder / "mix.flac"
        stem_paths = {s.spec.name: folder / f"{i + 1:02d}-{s.spec.name}.flac" for i, s in enumerate(scape.stems)}
        try:
            write_mix(mix_path, scape, lambda f: rep.overall(0.9 + 0.1 * f, "writing the mix for the player"))
        except BaseException as exc:
            shutil.rmtree(folder.parent, ignore_errors=True)
            if isinstance(exc, OSError):
                from studio.errors import ExportError

                raise ExportError(f"could not write the result's audio under {folder} ({exc}); free some disk space and try again") from None
            raise
        return Listening(folder=folder, mix=mix_path, stems=stem_paths, mix_url=files.offer(mix_path, "mix.flac"), stem_urls={})

    def _start_stems(self, version: int, scape: Soundscape) -> None:
        """Write ``version``'s stem files in the background, offering their URLs at once (a
        player's request waits for its file, :mod:`studio.ui.files`)."""
        from studio.ui.players import StemWriter

        listening = self._listening[version]
        ready = threading.Event()
        listening.stem_urls = {name: files.offer(path, ready=ready) for name, path in listening.stems.items()}
        listening.writer = StemWriter(scape, list(listening.stems.values()), ready).start()

    def _stop_stems(self, wait: bool) -> None:
        """Before new work: stem writers still running are cancelled (their URLs withdrawn;
        the stems are written again if that result becomes current again) or, with ``wait``,
        finished (a generation: the old result's players stay on the page while it runs)."""
        for listening in self._listening.values():
            writer = listening.writer
            if writer is None or not writer.running:
                continue
            if wait:
                writer.wait()
                continue
            files.withdraw(listening.stem_urls.values())  # first: no request may see a deleted file
            writer.cancel()
            if writer.complete:  # it finished just before the cancel: its files stay on offer
                listening.stem_urls = {name: files.offer(path) for name, path in listening.stems.items()}

    def wait_for_players(self, timeout: Optional[float] = None) -> bool:
        """Wait until the current result's stem files are written; True when they are."""
        writer = self.listening().writer
        return writer is not None and writer.wait(timeout)

    def _prune(self) -> None:
        """Keep the files of the current result and of the undo snapshot only."""
        keep = {self.version}
        kept_sources = list(self.project.sources.values())
        if self.undo_point is not None:
            kept_sources += self.undo_point[1].sources.values()
            if self.undo_point[1].has_result():
                keep.add(self.undo_point[1].version)
        self._takes.prune(kept_sources)
        for version in [v for v in self._listening if v not in keep]:
            gone = self._listening.pop(version)
            files.withdraw([gone.mix_url, *gone.stem_urls.values()])
            if gone.writer is not None:
                gone.writer.cancel()
            shutil.rmtree(self.work_dir / f"v{version}", ignore_errors=True)
        for key in [k for k in self._exports if k[0] not in keep]:
            del self._exports[key]

    def listening(self) -> Listening:
        """The current result's audio files and player URLs. Its stems are written (again) in
        the background when they are not complete nor being written (a result that became
        current again after a newer render cancelled its writer). A write that failed (disk
        full) is not retried on every page run: its players answer 404."""
        scape = self._require()
        listening = self._listening[self.version]
        writer = listening.writer
        if writer is None or (not writer.running and not writer.complete and writer.error is None):
            files.withdraw(listening.stem_urls.values())
            self._start_stems(self.version, scape)
        return listening

    def mix_path(self) -> Path:
        return self.listening().mix

    def read_mix(self) -> np.ndarray:
        """The current mix read back from its file, float32 (2, frames). For tests and short
        tracks only: the page never holds a whole mix."""
        import soundfile as sf

        data, _ = sf.read(str(self.mix_path()), dtype="float32", always_2d=True)
        return data.T

    def plot_pngs(self) -> tuple[bytes, bytes]:
        """Waveform and spectrogram PNGs of the mix, drawn from its file (once per result)."""
        from studio.ui import plots

        path = self.mix_path()
        return self._cached("plots", lambda: plots.file_pngs(path, title="mix"))

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        k = (self.version, key)
        if k not in self._cache:
            self._cache[k] = make()
        return self._cache[k]

    def _require(self) -> Soundscape:
        if self.soundscape is None:
            raise InputError("generate a soundscape first")
        return self.soundscape

    # ------------------------------------------------------------------ downloads

    def manifest(self) -> dict[str, Any]:
        from studio.manifest import build_manifest

        scape = self._require()
        return self._cached("manifest", lambda: build_manifest(scape, image_info=self.image.info if self.image else None))

    def file_stem(self) -> str:
        """The download name stem ``<title>-<length>-<style>``, e.g. ``forest-path-10min-meditation``."""
        scape = self._require()
        return f"{slugify(self.title, 60) or 'soundscape'}-{length_label(scape.duration_s)}-{slugify(scape.plan.style)}"

    def begin_render(self) -> None:
        """A newer render starts: every download link drawn so far stops serving (410) until
        the new result's downloads are prepared."""
        self.busy = True
        files.withdraw(self._offers)
        self._offers.clear()

    def end_render(self) -> None:
        self.busy = False

    def prepared(self, fmt: str, stem_format: str = "flac", loop: bool = False) -> bool:
        return (self.version, fmt, stem_format, bool(loop)) in self._exports

    def prepare_downloads(self, fmt: str = "wav", stem_format: str = "flac", loop: bool = False, reporter: Optional[Reporter] = None) -> dict[str, Path]:
        """Export the current result to the session's folder with ``studio.export``: the mix
        in ``fmt``, the stems in ``stem_format``, the manifest, a seamless-loop mix when
        ``loop``, and the stems zip. Streamed (bounded memory), with progress. Returns paths
        keyed ``mix``, ``zip``, ``manifest`` (and ``mix_loop``)."""
        from studio.export import export_soundscape

        scape = self._require()
        if fmt not in DOWNLOAD_FORMATS:
            raise InputError(f"unknown mix format {fmt!r}; choose one of: {', '.join(DOWNLOAD_FORMATS)}")
        if stem_format not in STEM_FORMATS:
            raise InputError(f"unknown stem format {stem_format!r}; choose one of: {', '.join(STEM_FORMATS)}")
        key = (self.version, fmt, stem_format, bool(loop))
        if key not in self._exports:
            rep = reporter or NullReporter()
            out = self.work_dir / f"v{self.version}" / f"export-{fmt}-{stem_format}{'-loop' if loop else ''}"
            paths = export_soundscape(scape, out, manifest=self.manifest(), mix_format=fmt, stem_format=stem_format,
                                      zip_name="stems.zip", loop_ready=bool(loop), progress=rep.overall)
            self._exports[key] = {k: Path(v) for k, v in paths.items() if k in ("mix", "zip", "manifest", "mix_loop")}
        return self._exports[key]

    def download_links(self, fmt: str = "wav", stem_format: str = "flac", loop: bool = False) -> Optional[dict[str, tuple[str, str]]]:
        """``{kind: (url, file name)}`` for the prepared downloads of the current result, named
        ``<title>-<length>-<style>.*``; None while a render is under way or before
        :meth:`prepare_downloads`."""
        if self.busy or not self.prepared(fmt, stem_format, loop):
            return None
        paths = self._exports[(self.version, fmt, stem_format, bool(loop))]
        stem = self.file_stem()
        names = {"mix": f"{stem}.{fmt}", "zip": f"{stem}-stems.zip", "manifest": f"{stem}-manifest.json", "mix_loop": f"{stem}-loop.{fmt}"}
        key = ("links", stem, fmt, stem_format, bool(loop))
        links = self._cache.get((self.version, key))
        if links is None or any(files.lookup(files.token_of(url)) in ("gone", "unknown") for url, _ in links.values()):
            links = {kind: (files.download_url(files.offer(path, names[kind])), names[kind]) for kind, path in paths.items()}
            self._offers.extend(url.split("?")[0] for url, _ in links.values())
            self._cache[(self.version, key)] = links
        return links

    # ------------------------------------------------------------------ library

    def default_title(self) -> str:
        """A short library title: the image's name (``Lake at dusk``) or the caption's start."""
        if self.image is not None and self.image.filename:
            stem = Path(self.image.filename).stem.replace("_", " ").replace("-", " ").strip()
            if stem:
                return stem[:1].upper() + stem[1:]
        text = " ".join((self.caption.text if self.caption else "").split())
        return text if len(text) <= 60 else text[:57].rstrip() + "…"

    def save_to_library(self, library: Any, *, title: Optional[str] = None, background: bool = False) -> Any:
        """Save the current result (manifest, FLAC mix, thumbnail) under the project's title.
        With ``background`` the copy runs in a thread and the thread is returned; else the entry.

        Either way :meth:`save_state` follows it, so a save that fails in the background
        (disk full, data folder gone) is reported on the next run instead of being lost."""
        scape = self._require()
        version = self.version
        manifest = self.manifest()
        mix_path = self.mix_path()  # the 24-bit FLAC already on disk: copied, never re-encoded
        title = title or self.title
        image = self.image.data if self.image else None
        extra = {
            "integrated_lufs": scape.master.get("integrated_lufs"),
            "true_peak_dbtp": scape.master.get("true_peak_dbtp"),
            "notes": scape.notes(self.pipeline.notes),
        }

        def save() -> Any:
            entry = library.add(manifest, title=title, mix_file=mix_path, mix_format="flac", image=image, extra=extra)
            self.saves[version] = SAVED
            return entry

        self.saves[version] = SAVING
        if not background:
            try:
                return save()
            except BaseException:
                self.saves.pop(version, None)
                raise

        def run() -> None:
            try:
                save()
            except StudioError as exc:
                self.saves[version] = str(exc)
            except Exception:  # noqa: BLE001 - a failed background save is logged, never shown as a traceback
                log.exception("saving the render to the library failed")
                self.saves[version] = "an unexpected error (it has been logged)"

        thread = threading.Thread(target=run, name="studio-library-save", daemon=True)
        thread.start()
        return thread

    def mark_saved(self) -> None:
        """The current result is in the library already (opened from it)."""
        self.saves[self.version] = SAVED

    def save_state(self) -> tuple[str, Optional[str]]:
        """``(state, error)`` of the current result: state is ``"unsaved"``, ``"saving"``,
        ``"saved"`` or ``"failed"`` (then ``error`` says why)."""
        status = self.saves.get(self.version)
        if status is None:
            return "unsaved", None
        if status in (SAVING, SAVED):
            return status, None
        return "failed", status

    # ------------------------------------------------------------------ facts

    def layer_facts(self) -> list[dict[str, Any]]:
        """Per layer: which backend and model made it, and its metadata (fallbacks, scores)."""
        if self.soundscape is None:
            return []
        rows = []
        for stem in self.soundscape.stems:
            meta = dict(stem.metadata)
            row = {"layer": stem.spec.name, "backend": stem.backend, "model": stem.model or "—"}
            if stem.model and "licence" not in meta:
                from studio.models import licence_for

                meta["licence"] = licence_for(stem.model)
            row.update({k: meta[k] for k in FACT_KEYS if meta.get(k) is not None})
            rows.append({k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in row.items()})
        return rows

    def notes(self) -> list[str]:
        """Fallback notes (which neural model was missing and what was used instead), the plan's
        notes and the master's (a missed loudness target, a loudness range over the style's
        ceiling, masked binaural beats)."""
        if self.soundscape is not None:
            return self.soundscape.notes(self.pipeline.notes)
        return list(dict.fromkeys([*(self.plan.notes if self.plan else ()), *self.pipeline.notes]))
