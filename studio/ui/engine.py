"""The studio's working state for one browser session, free of Streamlit.

:class:`StudioSession` holds what the Studio page works on (image, caption, plan, each layer's
generated source, the current soundscape) and the operations the page offers: caption, plan,
generate, re-mix, regenerate one layer, encode for players and downloads, save to the library.
Pages only read widgets and call these methods, so everything here is tested without a
browser and reused by ``bench/ui.py``.

Re-mix rules (what an edit of the plan table costs):

- gain, pan, mute, solo, master, event timing, width -> ``studio.mixing.remix`` over the kept
  sources (no regeneration, seconds);
- prompt, role, backend, model, params, seed, event length/takes -> that layer is
  regenerated (only that one), then mixed.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence

import numpy as np

from studio.errors import InputError, StudioError
from studio.types import MAX_SEED, Caption, LayerSource, LayerSpec, ScenePlan, Soundscape

log = logging.getLogger(__name__)

# LayerSpec fields whose change means the layer's audio must be generated again.
REGEN_FIELDS = ("role", "prompt", "backend", "model", "negative_prompt", "params", "seed", "loop_s")
EVENT_REGEN_FIELDS = ("event_s", "takes")
# Fields that only re-arrange kept material.
ARRANGE_FIELDS = ("width",)
REMIX_FIELDS = ("gain_db", "pan", "mute", "solo")

STEM_PREVIEW_MAX_S = 120.0  # stem players of longer tracks play the first two minutes only
SAVING, SAVED = "saving", "saved"
PLAYER_FLAC_ABOVE_S = 1200.0  # mix players of longer tracks get lossless FLAC instead of WAV
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

    Returns ``(kind, layers)`` where kind is ``"none"``, ``"remix"`` (gains, pans, mutes,
    solo, master only), ``"arrange"`` (event timing or width changed: mix the kept sources
    again) or ``"regenerate"`` (``layers`` lists the layers whose audio must be made again).
    A change of style, length, layer set or order is ``"regenerate"`` of every layer.
    """
    if old.duration_s != new.duration_s or [l.name for l in old.layers] != [l.name for l in new.layers]:
        return "regenerate", [l.name for l in new.layers]
    regen: list[str] = []
    arrange = remix = False
    for a, b in zip(old.layers, new.layers):
        if any(getattr(a, f) != getattr(b, f) for f in REGEN_FIELDS):
            regen.append(b.name)
            continue
        ea, eb = a.events, b.events
        if (ea is None) != (eb is None) or (
            ea is not None and any(getattr(ea, f) != getattr(eb, f) for f in EVENT_REGEN_FIELDS)
        ):
            regen.append(b.name)
            continue
        if ea != eb or any(getattr(a, f) != getattr(b, f) for f in ARRANGE_FIELDS):
            arrange = True
        if any(getattr(a, f) != getattr(b, f) for f in REMIX_FIELDS):
            remix = True
    if regen:
        return "regenerate", regen
    if arrange:
        return "arrange", []
    if remix or old.master != new.master:
        return "remix", []
    return "none", []


def wav_bytes(samples: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """Encoded WAV of float32 ``(channels, frames)`` audio, for ``st.audio``.

    ``st.audio`` peak-normalises numpy input, which would misrepresent levels; encoded bytes
    play exactly as mastered. 16-bit keeps a 10-minute stereo mix at ~115 MB.
    """
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.ascontiguousarray(np.asarray(samples, np.float32).T), int(sample_rate), format="WAV", subtype=subtype)
    return buf.getvalue()


def flac_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Encoded 16-bit FLAC of float32 ``(channels, frames)`` audio (lossless, like WAV)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.ascontiguousarray(np.asarray(samples, np.float32).T), int(sample_rate), format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def loudness_match_gain_db(integrated_lufs: Sequence[Optional[float]]) -> list[float]:
    """Gains (dB, never positive) that bring each variant down to the quietest one's loudness,
    so a comparison is not won by whichever is louder. Unknown loudness gets 0 dB."""
    known = [v for v in integrated_lufs if v is not None and np.isfinite(v)]
    if not known:
        return [0.0 for _ in integrated_lufs]
    ref = min(known)
    return [0.0 if v is None or not np.isfinite(v) else float(ref - v) for v in integrated_lufs]


def _clean_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class StudioSession:
    """One browser session's studio. ``work_dir`` is private to the session (a temp folder
    removed when the session object is garbage-collected)."""

    pipeline: Any = None
    work_dir: Path = field(default=None)  # type: ignore[assignment]
    image: Optional[ImageInput] = None
    caption: Optional[Caption] = None
    plan: Optional[ScenePlan] = None  # the plan the table edits start from
    soundscape: Optional[Soundscape] = None
    sources: dict[str, LayerSource] = field(default_factory=dict)
    version: int = 0  # bumped whenever ``soundscape`` changes
    plan_serial: int = 0  # bumped whenever ``plan`` is replaced (the table restarts from it)
    ui: dict[str, Any] = field(default_factory=dict)  # the page's bookkeeping (input token, plan key)
    saves: dict[int, str] = field(default_factory=dict)  # version -> "saving", "saved" or the error
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _stem_cache: dict[tuple, tuple[bytes, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.pipeline is None:
            from studio.pipeline import SoundscapePipeline

            self.pipeline = SoundscapePipeline()
        if self.work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="studio-session-"))
            weakref.finalize(self, _clean_dir, str(self.work_dir))

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

    # ------------------------------------------------------------------ rendering

    def generate(self, plan: ScenePlan, reporter: Optional[Reporter] = None) -> Soundscape:
        """Generate every layer of ``plan``, then mix. State changes only on success, so a
        cancelled run leaves the previous result in place."""
        from studio.mixing import resolve_events

        rep = reporter or NullReporter()
        plan = resolve_events(plan)
        sources = self._generate_layers(plan, [l.name for l in plan.layers], {}, rep)
        scape = self._mix(plan, sources, rep)
        self._commit(plan, sources, scape)
        return scape

    def apply_plan(self, plan: ScenePlan, reporter: Optional[Reporter] = None) -> str:
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
        if kind in ("remix", "arrange"):
            # The mixer keeps the arranged takes: only timing/levels/master are redone.
            rep.overall(0.0, "re-mixing")
            scape = remix(self.soundscape, plan, progress=rep.overall)
            rep.overall(1.0, "re-mixed")
            self._commit(plan, dict(self.sources), scape)
            return kind
        sources = self._generate_layers(plan, layers, self.sources, rep)
        scape = self._mix(plan, sources, rep)
        self._commit(plan, sources, scape)
        return kind

    def regenerate_layer(self, plan: ScenePlan, name: str, seed: Optional[int] = None, reporter: Optional[Reporter] = None) -> int:
        """A new take of one layer (new seed) in ``plan``; every other layer keeps its audio.
        Returns the seed used."""
        seed = new_seed() if seed is None else seed
        new_plan = plan.replace_layer(name, seed=seed)
        if self.soundscape is None:
            self.generate(new_plan, reporter)
        else:
            self.apply_plan(new_plan, reporter)
        return seed

    def _generate_layers(self, plan: ScenePlan, names: Sequence[str], keep: Mapping[str, LayerSource], rep: Reporter) -> dict[str, LayerSource]:
        todo = [l for l in plan.layers if l.name in set(names)]
        sources: dict[str, LayerSource] = {}
        for spec in plan.layers:
            if spec.name not in set(names) and spec.name in keep:
                sources[spec.name] = keep[spec.name]
        count = len(todo)
        for i, spec in enumerate(todo):
            start, end = 0.8 * i / max(count, 1), 0.8 * (i + 1) / max(count, 1)
            rep.overall(start, f"generating layer {i + 1}/{count}: {spec.name} ({spec.backend})")

            def on_layer(fraction: float, message: str, i: int = i, spec: LayerSpec = spec, start: float = start, end: float = end) -> None:
                rep.layer(i, count, spec.name, fraction, message)
                rep.overall(start + (end - start) * min(1.0, max(0.0, fraction)), f"generating {spec.name}")

            sources[spec.name] = self.pipeline.generate_layer(spec, plan, on_layer)
            rep.layer(i, count, spec.name, 1.0, f"{spec.name} done")
        return sources

    def _mix(self, plan: ScenePlan, sources: Mapping[str, LayerSource], rep: Reporter) -> Soundscape:
        from studio.types import scaled_progress

        rep.overall(0.8, "arranging, mixing and mastering")
        ordered = [sources[l.name] for l in plan.layers]
        scape = self.pipeline.mix(plan, ordered, progress=scaled_progress(rep.overall, 0.8, 1.0))
        rep.overall(1.0, "done")
        return scape

    def _commit(self, plan: ScenePlan, sources: dict[str, LayerSource], scape: Soundscape) -> None:
        self.plan = scape.plan if scape.plan is not None else plan
        self.plan_serial += 1
        self.sources = sources
        self.soundscape = scape
        self.version += 1
        self._cache = {k: v for k, v in self._cache.items() if k[0] == self.version}

    def adopt(self, plan: ScenePlan, sources: Sequence[LayerSource], scape: Soundscape) -> None:
        """Make an already rendered result (a Compare variant) the session's current one."""
        self._commit(plan, {s.spec.name: s for s in sources}, scape)
        if plan.caption is not None:
            self.caption = plan.caption

    # ------------------------------------------------------------------ listening

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        k = (self.version, key)
        if k not in self._cache:
            self._cache[k] = make()
        return self._cache[k]

    def mix_samples(self) -> np.ndarray:
        """The mastered mix, float32 (2, frames); computed once per version."""
        scape = self._require()
        return self._cached("mix", lambda: scape.mix_clip().samples)

    def mix_wav(self) -> bytes:
        """The whole mix as 16-bit WAV bytes (what the player gets up to 20 minutes)."""
        scape = self._require()
        return self._cached("mix_wav", lambda: wav_bytes(self.mix_samples(), scape.sample_rate))

    def mix_player(self) -> tuple[bytes, str]:
        """``(bytes, mime)`` for the mix player: 16-bit WAV, or 16-bit FLAC (lossless, same
        levels, about half the size) for tracks over :data:`PLAYER_FLAC_ABOVE_S`, so a
        60-minute mix does not hold 690 MB of WAV in the server's memory per session."""
        scape = self._require()
        if scape.duration_s <= PLAYER_FLAC_ABOVE_S:
            return self.mix_wav(), "audio/wav"
        return self._cached("mix_flac", lambda: (flac_bytes(self.mix_samples(), scape.sample_rate), "audio/flac"))

    def stem_wav(self, name: str) -> tuple[bytes, float]:
        """WAV bytes of one stem (the first :data:`STEM_PREVIEW_MAX_S` seconds of long tracks)
        and the seconds it holds. A re-mix that leaves a stem as it was (same source, same
        layer settings, same mute/solo state) reuses its bytes."""
        scape = self._require()
        stem = next((s for s in scape.stems if s.spec.name == name), None)
        if stem is None:
            raise InputError(f"no stem named {name!r}; stems are {[s.spec.name for s in scape.stems]}")
        frames = min(stem.frames, int(STEM_PREVIEW_MAX_S * stem.sample_rate))
        source = self.sources.get(name)
        key = (name, id(source), stem.spec.model_dump_json(), tuple((l.mute, l.solo) for l in scape.plan.layers), frames)
        if key not in self._stem_cache:
            self._stem_cache[key] = (wav_bytes(stem.render(0, frames), stem.sample_rate), frames / stem.sample_rate)
        live = {(n, id(self.sources.get(n))) for n in (s.spec.name for s in scape.stems)}
        for k in [k for k in self._stem_cache if (k[0], k[1]) not in live]:
            del self._stem_cache[k]
        return self._stem_cache[key]

    def _require(self) -> Soundscape:
        if self.soundscape is None:
            raise InputError("generate a soundscape first")
        return self.soundscape

    # ------------------------------------------------------------------ downloads

    def manifest(self) -> dict[str, Any]:
        from studio.manifest import build_manifest

        scape = self._require()
        return self._cached("manifest", lambda: build_manifest(scape, image_info=self.image.info if self.image else None))

    def manifest_bytes(self) -> bytes:
        return json.dumps(self.manifest(), indent=2).encode("utf-8")

    def mix_file_bytes(self, fmt: str) -> bytes:
        """The mix encoded as ``wav``, ``flac`` or ``mp3`` (via ``studio.export``)."""
        from studio.export import export_mix_bytes

        scape = self._require()
        return self._cached(f"mix_file:{fmt}", lambda: export_mix_bytes(scape, fmt=fmt))

    def stems_zip_bytes(self) -> bytes:
        """A zip of the stems, the mix and the manifest, written under the session's folder."""
        from studio.export import export_soundscape

        scape = self._require()

        def make() -> bytes:
            out = self.work_dir / "exports" / f"v{self.version}"
            paths = export_soundscape(scape, out, manifest=self.manifest(), zip_name="soundscape.zip")
            zip_path = paths.get("zip") or next((p for p in paths.values() if str(p).endswith(".zip")), None)
            if zip_path is None:
                raise InputError("the exporter wrote no zip file")
            return Path(zip_path).read_bytes()

        return self._cached("stems_zip", make)

    def file_stem(self) -> str:
        """A download file name stem such as ``soundscape-meditation-seed7``."""
        scape = self._require()
        return f"soundscape-{scape.plan.style}-seed{scape.plan.seed}"

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
        """Save the current result (manifest, FLAC mix, thumbnail). With ``background`` the
        FLAC encoding runs in a thread and the thread is returned; else the entry.

        Either way :meth:`save_state` follows it, so a save that fails in the background
        (disk full, data folder gone) is reported on the next run instead of being lost."""
        scape = self._require()
        version = self.version
        manifest = self.manifest()
        samples = self.mix_samples()
        title = title or self.default_title()
        image = self.image.data if self.image else None
        extra = {
            "integrated_lufs": scape.master.get("integrated_lufs"),
            "true_peak_dbtp": scape.master.get("true_peak_dbtp"),
            "notes": [*scape.plan.notes, *self.pipeline.notes],
        }

        def save() -> Any:
            import soundfile as sf

            buf = io.BytesIO()
            sf.write(buf, np.ascontiguousarray(samples.T), scape.sample_rate, format="FLAC", subtype="PCM_24")
            entry = library.add(manifest, title=title, mix_bytes=buf.getvalue(), mix_format="flac", image=image, extra=extra)
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
        """Fallback notes (which neural model was missing and what was used instead)."""
        seen: list[str] = []
        plan_notes = self.soundscape.plan.notes if self.soundscape else (self.plan.notes if self.plan else ())
        for note in [*self.pipeline.notes, *plan_notes]:
            if note not in seen:
                seen.append(note)
        return seen
