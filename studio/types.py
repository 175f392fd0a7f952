"""The data passed between stages.

Audio convention (everywhere): :class:`AudioClip` holds ``samples`` as float32 shaped
``(channels, frames)`` and an integer ``sample_rate`` in Hz. Conversions (torch to numpy,
mono to stereo, resampling) happen only inside backend adapters and the mixer.

Plan types (:class:`Caption`, :class:`EventSpec`, :class:`LayerSpec`, :class:`MasterSpec`,
:class:`ScenePlan`) are frozen pydantic models: JSON round-trippable, validated on
construction, and their JSON schema is the one the LLM planner is held to. A plan is fully
resolved: seeds, event times, event pans and take choices are all in it, so the manifest
alone re-renders a result byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROJECT_SAMPLE_RATE = 48_000
PROJECT_CHANNELS = 2
MIN_DURATION_S = 5.0
MAX_DURATION_S = 3600.0
MAX_LAYERS = 16
MAX_SEED = 2**32 - 1
MAX_CAPTION_CHARS = 2000

Role = Literal["background", "foreground"]
ParamValue = float | int | str | bool


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True, eq=False)
class AudioClip:
    """A piece of audio: ``samples`` float32 ``(channels, frames)`` at ``sample_rate`` Hz.

    A 1-D array is accepted and taken as mono. Any other dtype is converted to float32.
    NaN or infinite samples are refused (they would poison loudness measurement).
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        from studio.errors import AudioError

        arr = np.asarray(self.samples)
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        if arr.ndim != 2:
            raise AudioError(f"audio must be (channels, frames); got shape {arr.shape}")
        if arr.shape[0] > 8 and arr.shape[1] <= 8:
            raise AudioError(
                f"audio looks like (frames, channels) {arr.shape}; expected (channels, frames)"
            )
        if arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        if arr.size and not np.isfinite(arr).all():
            raise AudioError("audio contains NaN or infinite samples")
        if int(self.sample_rate) <= 0:
            raise AudioError(f"sample_rate must be positive; got {self.sample_rate}")
        object.__setattr__(self, "samples", arr)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def notes(self, pipeline_notes: Sequence[str] = ()) -> list[str]:
        """Every note about this render, each once: the plan's, then ``pipeline_notes`` (the
        pipeline's: fallbacks, layer matches), then the master's (a missed loudness target, a
        loudness range over the style's ceiling, masked binaural beats). The one merge the CLI,
        the Studio, Compare, the library and batch show."""
        return list(dict.fromkeys([*self.plan.notes, *pipeline_notes, *self.master.get("notes", ())]))

    def to_stereo(self) -> "AudioClip":
        """Mono is duplicated to two channels; more than two are folded to L/R by average."""
        if self.channels == 2:
            return self
        if self.channels == 1:
            return AudioClip(np.repeat(self.samples, 2, axis=0), self.sample_rate)
        left = self.samples[0::2].mean(axis=0)
        right = self.samples[1::2].mean(axis=0)
        return AudioClip(np.stack([left, right]), self.sample_rate)

    @classmethod
    def silence(cls, duration_s: float, sample_rate: int, channels: int = 2) -> "AudioClip":
        return cls(np.zeros((channels, int(round(duration_s * sample_rate))), np.float32), sample_rate)


# --------------------------------------------------------------------------- plan

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 40) -> str:
    """Lower-case ASCII slug safe as a file name: ``"Rain on Roof!"`` -> ``"rain-on-roof"``."""
    slug = _SLUG_RE.sub("-", str(text).lower()).strip("-")[:max_len].strip("-")
    return slug or "layer"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Caption(_Frozen):
    """What the image shows, and who said so.

    ``source`` is the captioner's registry name (``analysis``, ``blip2``, ``blip``) or ``user``
    for typed text; ``model`` the model id (None for the analyser). ``cues`` are the
    analyser's findings; ``tags`` are (label, score) pairs from a sound tagger such as CLIP.
    """

    text: str = Field(min_length=1, max_length=MAX_CAPTION_CHARS)
    source: str = "user"
    model: Optional[str] = None
    cues: tuple[str, ...] = ()
    tags: tuple[tuple[str, float], ...] = ()


class EventSpec(_Frozen):
    """How a foreground layer's events are placed on the timeline.

    The request (``mean_interval_s``, ``jitter``, ``min_gap_s``, ``count``) is resolved by the
    planner/pipeline into ``times_s`` (event onsets in seconds), ``pans`` (-1..1 per event) and
    ``take_indices`` (which generated take each event uses). ``level_db`` is each event's
    loudness relative to the summed background beds (negative = below the bed).
    """

    mean_interval_s: float = Field(default=20.0, gt=0.2, le=3600.0)
    jitter: float = Field(default=0.5, ge=0.0, le=1.0)
    min_gap_s: float = Field(default=2.0, ge=0.0, le=3600.0)
    count: Optional[int] = Field(default=None, ge=0, le=10_000)
    event_s: float = Field(default=4.0, gt=0.05, le=60.0)
    level_db: float = Field(default=-3.0, ge=-40.0, le=12.0)
    pan_range: tuple[float, float] = (-0.6, 0.6)
    takes: int = Field(default=3, ge=1, le=8)
    fade_s: float = Field(default=0.05, ge=0.0, le=5.0)
    times_s: Optional[tuple[float, ...]] = None
    pans: Optional[tuple[float, ...]] = None
    take_indices: Optional[tuple[int, ...]] = None

    @field_validator("pan_range")
    @classmethod
    def _pan_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not (-1.0 <= lo <= hi <= 1.0):
            raise ValueError("pan_range must satisfy -1 <= low <= high <= 1")
        return v

    @model_validator(mode="after")
    def _resolved_lengths(self) -> "EventSpec":
        if self.times_s is not None:
            n = len(self.times_s)
            if self.pans is not None and len(self.pans) != n:
                raise ValueError("pans must have one entry per event time")
            if self.take_indices is not None and len(self.take_indices) != n:
                raise ValueError("take_indices must have one entry per event time")
            if any(t < 0 for t in self.times_s):
                raise ValueError("event times must be >= 0")
            if self.pans is not None and any(not -1.0 <= p <= 1.0 for p in self.pans):
                raise ValueError("event pans must be within -1..1")
            if self.take_indices is not None and any(
                not 0 <= i < self.takes for i in self.take_indices
            ):
                raise ValueError("take_indices must be within 0..takes-1")
        return self

    @property
    def resolved(self) -> bool:
        return self.times_s is not None and self.pans is not None and self.take_indices is not None


class LayerSpec(_Frozen):
    """One layer of the scene.

    - ``role``: ``background`` is a bed that runs the whole track (looped seamlessly);
      ``foreground`` is events placed on the timeline per ``events``.
    - ``prompt``: the text for the backend, phrased for that backend.
    - ``backend``: audio backend registry name (``procedural`` by default).
    - ``params``: backend parameters; for ``procedural`` ``type`` names the catalogue
      generator and ``intensity``/``distance``/``brightness``/``density`` shape it.
    - ``gain_db`` (-60..+12), ``pan`` (-1 left .. 1 right), ``width`` (0 mono .. 1 as is .. 2 wide).
    - ``seed``: resolved per layer; the layer's material depends on nothing else.
    - ``loop_s``: length of source material generated for a bed before looping
      (None = the backend's ``max_clip_s`` or the track, whichever is shorter).
    """

    name: str = Field(min_length=1, max_length=40)
    role: Role = "background"
    prompt: str = Field(min_length=1, max_length=1000)
    backend: str = "procedural"
    model: Optional[str] = None
    negative_prompt: str = ""
    params: dict[str, ParamValue] = Field(default_factory=dict)
    gain_db: float = Field(default=0.0, ge=-60.0, le=12.0)
    pan: float = Field(default=0.0, ge=-1.0, le=1.0)
    width: float = Field(default=1.0, ge=0.0, le=2.0)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    loop_s: Optional[float] = Field(default=None, gt=0.5, le=MAX_DURATION_S)
    events: Optional[EventSpec] = None
    mute: bool = False
    solo: bool = False

    @field_validator("name")
    @classmethod
    def _slug_name(cls, v: str) -> str:
        return slugify(v)

    @model_validator(mode="after")
    def _events_for_foreground(self) -> "LayerSpec":
        if self.role == "foreground" and self.events is None:
            raise ValueError(f"foreground layer {self.name!r} needs an events spec")
        return self


class MasterSpec(_Frozen):
    """Master stage: loudness target (LUFS, ITU-R BS.1770), true-peak ceiling (dBTP), fades."""

    target_lufs: float = Field(default=-18.0, ge=-40.0, le=-5.0)
    ceiling_dbtp: float = Field(default=-1.0, ge=-12.0, le=0.0)
    preset: str = "custom"
    fade_in_s: float = Field(default=3.0, ge=0.0, le=600.0)
    fade_out_s: float = Field(default=5.0, ge=0.0, le=600.0)
    sleep_fade_s: Optional[float] = Field(default=None, gt=0.0, le=MAX_DURATION_S)
    reverb_send_db: Optional[float] = Field(default=None, ge=-60.0, le=0.0)
    # Counterweight: re-centre the summed beds' L/R loudness (off when the image is meant to lean).
    centre_balance: bool = True


class ScenePlan(_Frozen):
    """A fully resolved scene: everything needed to render, nothing random left."""

    style: str
    duration_s: float = Field(ge=MIN_DURATION_S, le=MAX_DURATION_S)
    seed: int = Field(ge=0, le=MAX_SEED)
    sample_rate: int = PROJECT_SAMPLE_RATE
    layers: tuple[LayerSpec, ...] = Field(min_length=1, max_length=MAX_LAYERS)
    master: MasterSpec = Field(default_factory=MasterSpec)
    caption: Optional[Caption] = None
    planner: str = "rules"
    notes: tuple[str, ...] = ()  # plain sentences for people ("Traffic kept soft and distant for meditation")
    note_details: tuple[str, ...] = ()  # the same decisions in technical terms, for an expander

    @model_validator(mode="after")
    def _unique_names(self) -> "ScenePlan":
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique; got {names}")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ScenePlan":
        from pydantic import ValidationError

        from studio.errors import PlanError

        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise PlanError(f"invalid scene plan: {_first_error(exc)}") from None

    def replace_layer(self, name: str, **changes: Any) -> "ScenePlan":
        """A copy with one layer's fields changed (validated)."""
        from studio.errors import PlanError

        layers = []
        found = False
        for layer in self.layers:
            if layer.name == name:
                layer = LayerSpec.model_validate({**layer.model_dump(), **changes})
                found = True
            layers.append(layer)
        if not found:
            raise PlanError(f"no layer named {name!r}; layers are {[l.name for l in self.layers]}")
        return self.model_copy(update={"layers": tuple(layers)})


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", lambda: [])()
    if not errors:
        return str(exc).splitlines()[0]
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "plan"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {err.get('msg', 'invalid')}{more}"


def validation_message(exc: Exception) -> str:
    """One-line summary of a pydantic ValidationError (first error and a count of the rest)."""
    return _first_error(exc)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, eq=False)
class LayerSource:
    """What a backend produced for one layer, before arrangement.

    ``clips`` are the takes at the backend's own rate: for a background layer, bed material
    (one or more alternate takes to loop and vary); for a foreground layer, one clip per event
    take. ``metadata`` records choices and warnings (matched generator, similarity score,
    ``clamped_from_s`` when a request exceeded the model's per-call maximum). A bed may
    instead carry a :class:`TakeChain` (``chain``): fresh material for the whole track,
    rendered when the mixer needs it; ``clips`` is then empty.
    """

    spec: LayerSpec
    clips: tuple[AudioClip, ...]
    backend: str
    model: Optional[str] = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    chain: Optional["TakeChain"] = None


@dataclass(frozen=True, eq=False)
class TakeChain:
    """Fresh bed material for a whole track, rendered on demand instead of held in memory.

    Take ``k`` is ``backend.generate(prompt, duration_s=take_s, seed=seeds[k], **params)``
    (float32, any rate and channel count); the mixer renders the takes (in worker processes
    when there are several, so ``backend`` must be picklable), spools them to a temp file and
    cross-fades take ``k`` into take ``k + 1``, so no stretch of the bed is heard twice.
    Used for backends cheap enough to render a whole track (``procedural``)."""

    backend: Any
    prompt: str
    params: Mapping[str, Any]
    seeds: tuple[int, ...]
    take_s: float

    def take(self, k: int) -> AudioClip:
        return self.backend.generate(self.prompt, duration_s=self.take_s, seed=self.seeds[k], **dict(self.params))


ChunkRenderer = Callable[[int, int], np.ndarray]


@dataclass(frozen=True, eq=False)
class Stem:
    """A rendered layer at project rate and full track length, after its own gain, pan and
    width and before the master stage.

    Stems are lazy so long tracks fit in memory: ``render(start_frame, n_frames)`` returns
    float32 ``(2, n_frames)``; ``clip()`` materialises the whole stem.
    """

    spec: LayerSpec
    backend: str
    model: Optional[str]
    sample_rate: int
    frames: int
    renderer: ChunkRenderer
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def render(self, start_frame: int = 0, n_frames: Optional[int] = None) -> np.ndarray:
        if n_frames is None:
            n_frames = self.frames - start_frame
        n_frames = max(0, min(n_frames, self.frames - start_frame))
        return self.renderer(start_frame, n_frames)

    def clip(self) -> AudioClip:
        return AudioClip(self.render(0, self.frames), self.sample_rate)


@dataclass(frozen=True, eq=False)
class Soundscape:
    """The result of rendering a plan.

    ``render_mix(start_frame, n_frames)`` gives mastered float32 ``(2, n)`` chunks; chunks must be
    requested in order from 0 when a stateful limiter is involved, so use :meth:`iter_mix`.
    ``master`` reports what the master stage did (``gain_db``, measured ``integrated_lufs``,
    ``true_peak_dbtp`` and others).
    """

    plan: ScenePlan
    stems: tuple[Stem, ...]
    sample_rate: int
    frames: int
    iter_mix: Callable[..., Any]
    master: Mapping[str, Any]
    sources: tuple[LayerSource, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def notes(self, pipeline_notes: Sequence[str] = ()) -> list[str]:
        """Every note about this render, each once: the plan's, then ``pipeline_notes`` (the
        pipeline's: fallbacks, layer matches), then the master's (a missed loudness target, a
        loudness range over the style's ceiling, masked binaural beats). The one merge the CLI,
        the Studio, Compare, the library and batch show."""
        return list(dict.fromkeys([*self.plan.notes, *pipeline_notes, *self.master.get("notes", ())]))

    def mix_clip(self) -> AudioClip:
        """The whole mastered mix in memory (fine up to tens of minutes)."""
        chunks = list(self.iter_mix())
        data = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), np.float32)
        return AudioClip(data, self.sample_rate)


Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:  # noqa: ARG001
    """Default progress callback: does nothing."""


def scaled_progress(progress: Optional[Progress], start: float, end: float) -> Progress:
    """Map a sub-task's 0..1 progress into ``start..end`` of the parent's progress."""
    cb = progress or no_progress

    def _inner(fraction: float, message: str) -> None:
        cb(start + (end - start) * min(1.0, max(0.0, float(fraction))), message)

    return _inner
