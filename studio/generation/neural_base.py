"""What every neural audio backend shares: loading, the resident model, seeds, duration
clamping, parameter names, progress and the conversion of model output to an AudioClip.

A subclass says how to load its components (``_load``), how to read its native rate and
per-call maximum from them (``_describe``) and how to run one generation (``_run``); this
base does the rest the same way for every model:

- ``from_pretrained(model_id, device="auto", dtype=None)`` resolves the model through the
  local Hugging Face cache (:func:`studio.hf.require_model`), picks the device (cuda, mps,
  cpu) and dtype (the model card's on CUDA, :attr:`NeuralBackend.card_dtype`; fp32 on CPU;
  ``dtype=`` or ``STUDIO_DTYPE`` override it) and turns loading failures into a
  :class:`~studio.errors.ModelUnavailableError` that names the model and how to get it.
- Only one neural model is resident at a time, across all backends (:data:`RESIDENT`): loading
  another model drops the previous one; a backend whose model was dropped reloads it on its
  next ``generate``. ``unload()`` frees it explicitly.
- ``generate`` returns exactly ``round(duration_s * sample_rate)`` frames, float32
  ``(channels, frames)`` at the model's own rate (the mixer resamples). Past ``max_clip_s`` a
  backend that can continue its own audio (:attr:`NeuralBackend.continues`: MusicGen,
  AudioGen) generates overlapping windows (:mod:`studio.generation.long_form`); the others
  clamp to ``max_clip_s`` (``metadata()["clamped_from_s"]`` records the request) and long beds
  are built by the mixer from several independent takes.
- ``generate_batch`` makes ``n`` takes in one model call (``num_waveforms_per_prompt`` for
  diffusers, a prompt batch for MusicGen/AudioGen).
- Any exception from a model call becomes a :class:`~studio.errors.BackendError` naming the
  model and the cause, so no raw traceback reaches the CLI or the UI.
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading
from typing import Any, Callable, ClassVar, Mapping, Optional

import numpy as np

from studio.errors import BackendError, InputError, ModelUnavailableError, StudioError, first_line
from studio.types import MAX_SEED, AudioClip, Progress, no_progress

# ----------------------------------------------------------------------------- resident model


class ResidentModel:
    """Holds at most one loaded model (any backend) so two multi-GB models never sit in memory
    together. Backends keep only the key; the components live here."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._key: Optional[tuple] = None
        self._components: Any = None
        self._device: str = "cpu"

    @property
    def key(self) -> Optional[tuple]:
        return self._key

    def get(self, key: tuple) -> Any:
        """The components for ``key`` if they are the resident ones, else None."""
        with self._lock:
            return self._components if self._key == key else None

    def put(self, key: tuple, components: Any, device: str) -> None:
        """Make ``components`` the resident model, dropping whatever was resident before."""
        with self._lock:
            if self._key != key:
                self.unload()
            self._key, self._components, self._device = key, components, device

    def load(self, key: tuple, loader: Callable[[], Any], device: str) -> Any:
        """The resident components for ``key``, loading them (after dropping the previous
        model, so peak memory holds one model) when they are not resident."""
        with self._lock:
            if self._key == key:
                return self._components
            self.unload()
            components = loader()
            self._key, self._components, self._device = key, components, device
            return components

    def unload(self, key: Optional[tuple] = None) -> bool:
        """Drop the resident model (only if it is ``key``, when given). True if one was dropped."""
        from studio.devices import release_memory

        with self._lock:
            if self._key is None or (key is not None and key != self._key):
                return False
            device = self._device
            self._key, self._components = None, None
        release_memory(device)
        return True


RESIDENT = ResidentModel()
CPU_OFFLOAD_ENV = "STUDIO_CPU_OFFLOAD"


def unload_all() -> bool:
    """Free the resident neural model, whichever backend loaded it."""
    return RESIDENT.unload()


# ----------------------------------------------------------------------------- parameters

_STEP_KEYS = ("num_inference_steps", "steps")
_GUIDANCE_KEYS = ("guidance_scale", "guidance", "cfg_scale")


def _number(params: Mapping[str, Any], keys: tuple[str, ...], lo: float, hi: float, kind=float):
    for key in keys:
        if key in params and params[key] is not None and params[key] != "":
            try:
                value = kind(params[key])
            except (TypeError, ValueError):
                raise InputError(f"{key} must be a number in {lo:g}..{hi:g}; got {params[key]!r}") from None
            if not lo <= value <= hi:
                raise InputError(f"{key} must be within {lo:g}..{hi:g}; got {value:g}")
            return value
    return None


def common_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The generation settings every backend understands, validated, with None for "model
    default". Unknown keys (e.g. the procedural engine's ``type``) are ignored.

    - ``negative_prompt`` (str), ``steps``/``num_inference_steps`` (1..1000),
      ``guidance_scale``/``guidance``/``cfg_scale`` (0..30), ``temperature`` (0.01..5),
      ``top_k`` (0..5000).
    """
    negative = params.get("negative_prompt")
    return {
        "negative_prompt": str(negative).strip() if negative else None,
        "steps": _number(params, _STEP_KEYS, 1, 1000, int),
        "guidance_scale": _number(params, _GUIDANCE_KEYS, 0.0, 30.0),
        "temperature": _number(params, ("temperature",), 0.01, 5.0),
        "top_k": _number(params, ("top_k",), 0, 5000, int),
    }


def check_request(prompt: str, duration_s: float, seed: int) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("prompt must be non-empty text")
    try:
        duration_s = float(duration_s)
    except (TypeError, ValueError):
        raise InputError(f"duration_s must be a number of seconds; got {duration_s!r}") from None
    if not (duration_s > 0 and math.isfinite(duration_s)):
        raise InputError(f"duration_s must be a positive number of seconds; got {duration_s!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"seed must be an integer in 0..{MAX_SEED}; got {seed!r}")


# ----------------------------------------------------------------------------- output


def to_channels_frames(audio: Any) -> np.ndarray:
    """Model output (torch tensor or numpy, shaped (frames,), (channels, frames) or
    (1, channels, frames)) as float32 numpy ``(channels, frames)``."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    arr = np.asarray(audio, dtype=np.float32)
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise BackendError(f"model returned audio shaped {arr.shape}; expected (channels, frames)")
    return arr


def fit_frames(samples: np.ndarray, frames: int) -> np.ndarray:
    """Crop or zero-pad ``(channels, n)`` to exactly ``frames``."""
    have = samples.shape[1]
    if have >= frames:
        return np.ascontiguousarray(samples[:, :frames])
    return np.pad(samples, ((0, 0), (0, frames - have)))


def step_progress(progress: Optional[Progress], total: int, label: str) -> Callable[[int], None]:
    """A ``done_steps -> None`` callback that reports ``done/total`` as a fraction."""
    cb = progress or no_progress
    total = max(1, int(total))

    def _step(done: int) -> None:
        cb(min(1.0, done / total), f"{label}: step {min(done, total)}/{total}")

    return _step


def modules_present(*names: str) -> Optional[str]:
    """The first of ``names`` that is not importable, or None (without importing them)."""
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None


def _memory_message(label: str, model_id: str, device: str) -> str:
    from studio.models import known_model

    entry = known_model(model_id)
    size = f" (about {entry.size_gb:g} GB of weights)" if entry is not None else ""
    return (
        f"not enough memory on {device} to load {label} model {model_id!r}{size}; close other models or apps, "
        f"or choose a smaller variant (`python -m studio models` lists them)"
    )


def _first_sentence(exc: BaseException) -> str:
    """:func:`~studio.errors.first_line`, stopped at its first full stop (transformers' "X
    requires the Y library but it was not found in your environment. Check out the
    instructions on the")."""
    line = first_line(exc)
    head, sep, _ = line.partition(". ")
    return head if sep else line.rstrip(".")


def _import_error_message(label: str, model_id: str, exc: ImportError, install_hint: str) -> str:
    """One line for an ImportError raised while loading: a missing package (named when Python
    knows it, else the library's own first sentence) or a version mismatch between installed
    libraries ("cannot import name X from Y", or a missing submodule of an installed package)."""
    text = first_line(exc)
    name = exc.name
    submodule_missing = (
        isinstance(exc, ModuleNotFoundError) and name is not None and "." in name
        and modules_present(name.split(".")[0]) is None
    )
    if text.startswith("cannot import name") or submodule_missing:
        text = re.sub(r" \((?:/|[A-Za-z]:\\|unknown location)[^()]*\)$", "", text)  # the module's file path
        extra = "" if "requirements-neural.txt" in install_hint else f"; {install_hint}"
        return (
            f"{label} model {model_id!r} could not be loaded: a library version mismatch ({text}); "
            f"the installed packages do not match each other: install matching versions "
            f"(`pip install -r requirements-neural.txt`){extra}"
        )
    if isinstance(exc, ModuleNotFoundError) and name:
        return f"{label} model {model_id!r} needs the {name.split('.')[0]!r} package to load; {install_hint}"
    return f"{label} model {model_id!r} needs a package that is not installed ({_first_sentence(exc)}); {install_hint}"


# Errors from the loaders that mean the files are missing, partial, gated, damaged or of
# another kind of model: OSError (missing files, no network, gated; huggingface_hub's HTTP
# errors), ValueError/KeyError (another kind of model, bad config), EOFError and
# UnpicklingError (truncated .bin), SafetensorError (damaged .safetensors).
_LOAD_FAILURES = (OSError, ValueError, KeyError, EOFError)
_LOAD_FAILURE_NAMES = frozenset({"SafetensorError", "UnpicklingError"})
# RuntimeError counts only when it is about the checkpoint (size mismatch, unreadable archive)
_CHECKPOINT_WORDS = ("state_dict", "size mismatch", "checkpoint", "zip archive", "deserializ")


def _is_load_failure(exc: BaseException) -> bool:
    if isinstance(exc, _LOAD_FAILURES):
        return True
    if any(t.__name__ in _LOAD_FAILURE_NAMES for t in type(exc).__mro__):
        return True
    return isinstance(exc, RuntimeError) and any(w in str(exc).lower() for w in _CHECKPOINT_WORDS)


# ----------------------------------------------------------------------------- base class


class NeuralBackend:
    """Base of the neural adapters. Subclasses set the class attributes and implement
    ``_load``, ``_describe`` and ``_run``."""

    name: ClassVar[str] = "neural"
    label: ClassVar[str] = "audio"  # used in messages: "<label> model 'x' ..."
    default_model_id: ClassVar[str] = ""
    required_modules: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    install_hint: ClassVar[str] = "install the neural extras: `pip install -r requirements-neural.txt`"
    load_hint: ClassVar[str] = ""  # extra step named in load errors (licence, token)
    supports_negative_prompt: ClassVar[bool] = False
    supports_steps: ClassVar[bool] = False
    # dtype on CUDA from the model card (fp32 on CPU/MPS; see studio.devices.pick_dtype)
    card_dtype: ClassVar[str] = "float16"
    # True: past max_clip_s, generate continues its own audio window by window (no clamping)
    continues: ClassVar[bool] = False
    # True: take i of a batch is what a single generation with seed take_seed(seed, i) gives
    # (a generator per take); False: one RNG draws the whole batch from ``seed``
    per_take_seeds: ClassVar[bool] = False
    # True: a diffusers pipeline that can use enable_model_cpu_offload
    supports_cpu_offload: ClassVar[bool] = False

    def __init__(
        self,
        components: Any,
        *,
        model_id: str,
        device: str = "cpu",
        dtype: Any = None,
        loader: Optional[Callable[[], Any]] = None,
        max_clip_s: Optional[float] = None,
    ) -> None:
        """``components``: what ``_load`` returns (model + processor, or a pipeline).
        ``loader`` reloads them if another backend's model displaced them (None: cannot reload).
        ``max_clip_s`` overrides the per-call maximum read from the model config."""
        self.model_id = model_id
        self.device = device
        self.dtype = dtype
        self._loader = loader
        self._key = (type(self).__name__, model_id, device, str(dtype), id(self))
        info = self._describe(components)
        self.sample_rate: int = int(info["sample_rate"])
        self.channels: int = int(info["channels"])
        native_max = float(info["max_clip_s"])
        self.max_clip_s: float = float(min(native_max, max_clip_s) if max_clip_s else native_max)
        if self.max_clip_s <= 0:
            raise BackendError(f"{self.label} model {model_id!r} reports no usable clip length")
        self._last_clamped_from_s: Optional[float] = None
        self._last_notes: tuple[str, ...] = ()
        self._last_long: dict[str, Any] = {}
        self._last_batch: dict[str, Any] = {}
        self.placement: str = "device"  # or "cpu-offload" (diffusers, CUDA only)
        RESIDENT.put(self._key, components, device)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls,
        model_id: Optional[str] = None,
        *,
        device: str = "auto",
        dtype: Any = None,
        max_clip_s: Optional[float] = None,
        cpu_offload: bool = False,
    ) -> "NeuralBackend":
        """Load ``model_id`` (hub id or local folder; default :attr:`default_model_id`) on
        ``device`` (``auto``: cuda, then mps, then cpu). ``dtype`` None/``"auto"``: the model
        card's dtype on CUDA (:attr:`card_dtype`), fp32 elsewhere, unless ``STUDIO_DTYPE`` is
        set. ``cpu_offload`` (diffusers backends, CUDA only): keep each sub-model in CPU memory
        until the pipeline needs it (``enable_model_cpu_offload``), for small GPUs."""
        from studio.devices import pick_device, resolve_dtype
        from studio.hf import load_error

        model_id = model_id or cls.default_model_id
        missing = modules_present(*cls.required_modules)
        if missing:
            raise ModelUnavailableError(
                f"the {cls.name} backend (model {model_id!r}) needs the {missing!r} package; {cls.install_hint}"
            )
        if cpu_offload and not cls.supports_cpu_offload:
            raise InputError(f"cpu_offload is only for the diffusers backends (stable-audio, audioldm2), not {cls.name}")
        resolved_device = pick_device(device)
        resolved_dtype = resolve_dtype(resolved_device, dtype, card=cls.card_dtype)
        load_options = {"cpu_offload": True} if cpu_offload else {}
        # Free the resident model first so the new one never shares memory with it.
        RESIDENT.unload()
        path = cls._resolve(model_id)

        def loader() -> Any:
            import torch

            try:
                # weight init before loading draws from the global RNG; keep callers' state
                with torch.random.fork_rng(devices=[]):
                    return cls._load(path, resolved_device, resolved_dtype, **load_options)
            except StudioError:
                raise  # already a complete message (e.g. a bad option found while loading)
            except ImportError as exc:
                # e.g. a tokenizer or scheduler that needs a package the extras did not bring
                raise ModelUnavailableError(
                    _import_error_message(cls.label, model_id, exc, cls.install_hint)
                ) from None
            except MemoryError:
                raise ModelUnavailableError(_memory_message(cls.label, model_id, resolved_device)) from None
            except Exception as exc:  # noqa: BLE001
                if "out of memory" in str(exc).lower():  # torch.OutOfMemoryError and alike
                    raise ModelUnavailableError(_memory_message(cls.label, model_id, resolved_device)) from None
                if _is_load_failure(exc):
                    # missing / partial / gated files, another kind of model, damaged weights:
                    # what a (re)download or the right folder fixes
                    raise load_error(model_id, what=cls.label, exc=exc, hint=cls.load_hint) from None
                # anything else (TypeError, AttributeError...) is a bug or a library mismatch:
                # a download would not help, so do not suggest one; keep the cause chained
                raise ModelUnavailableError(
                    f"{cls.label} model {model_id!r} could not be loaded "
                    f"({type(exc).__name__}: {first_line(exc)}); an unexpected error, not missing or damaged "
                    f"model files (likely a library version mismatch or a bug): install the "
                    f"tested versions (`pip install -r requirements-neural.txt`) or report it"
                ) from exc

        components = loader()
        backend = cls(components, model_id=model_id, device=resolved_device, dtype=resolved_dtype,
                      loader=loader, max_clip_s=max_clip_s)
        if cpu_offload:
            backend.placement = offload_placement(resolved_device)
        return backend

    @classmethod
    def create(cls, **opts: Any) -> "NeuralBackend":
        """Registry factory. ``opts``: ``model_id`` (or ``model``), ``device``, ``dtype``,
        ``max_clip_s``, ``cpu_offload`` (default: ``STUDIO_CPU_OFFLOAD=1`` in the environment,
        for the diffusers backends); other keys are ignored."""
        import os

        model_id = opts.get("model_id") or opts.get("model") or None
        offload = opts.get("cpu_offload")
        if offload is None:
            offload = cls.supports_cpu_offload and os.environ.get(CPU_OFFLOAD_ENV, "").strip() in ("1", "true", "yes")
        return cls.from_pretrained(model_id, device=opts.get("device") or "auto", dtype=opts.get("dtype"),
                                   max_clip_s=opts.get("max_clip_s"), cpu_offload=bool(offload))

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        """Cheap check, loading nothing: packages importable and ``model_id`` (default: the
        backend's default model) in the local Hugging Face cache."""
        model_id = model_id or cls.default_model_id
        missing = modules_present(*cls.required_modules)
        if missing:
            return False, f"needs the {missing!r} package; {cls.install_hint}"
        from studio.hf import how_to_get, local_model_path

        if local_model_path(model_id) is None:
            return False, (
                f"model {model_id!r} is not in the local Hugging Face cache; {how_to_get(model_id, cls.load_hint)}"
            )
        return True, f"ready ({model_id})"

    # -- subclass hooks -------------------------------------------------------------------

    @classmethod
    def _resolve(cls, model_id: str) -> str:
        """A folder or id the loader can open now (default: the local HF cache, else the hub
        unless offline), or ModelUnavailableError naming the model and how to get it."""
        from studio.hf import require_model

        return require_model(model_id, what=cls.label, hint=cls.load_hint)

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any, **options: Any) -> Any:  # pragma: no cover - abstract
        """The components; ``options``: ``cpu_offload`` for the diffusers backends."""
        raise NotImplementedError

    def _describe(self, components: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        """``{"sample_rate": int, "channels": int, "max_clip_s": float}`` from the components."""
        raise NotImplementedError

    def _run(self, components: Any, prompt: str, *, duration_s: float, n: int, seeds: list[int],
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[list, tuple[str, ...]]:  # pragma: no cover
        """One model call for ``n`` takes: ``(audios, notes)``, one audio per take in any shape
        :func:`to_channels_frames` takes. ``seeds``: one per take when :attr:`per_take_seeds`,
        else ``[seed]`` for the whole batch. A backend that :attr:`continues`
        gets the full ``duration_s`` (it may exceed ``max_clip_s``) and records its windows in
        ``self._last_long``."""
        raise NotImplementedError

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return int(opts.get("steps") or 1)

    def long_form(self, duration_s: float) -> dict[str, Any]:
        """How a request of ``duration_s`` past :attr:`max_clip_s` is made (empty when it fits
        one call or the backend clamps): window, stride and overlap in seconds, window count."""
        return {}

    def licence(self) -> str:
        from studio.models import licence_for

        return licence_for(self.model_id)

    # -- public API -----------------------------------------------------------------------

    def components(self) -> Any:
        """The loaded model components, reloading them if another model displaced them."""
        comps = RESIDENT.get(self._key)
        if comps is not None:
            return comps
        if self._loader is None:
            raise BackendError(f"{self.label} model {self.model_id!r} was unloaded; create the backend again")
        return RESIDENT.load(self._key, self._loader, self.device)

    @property
    def loaded(self) -> bool:
        return RESIDENT.get(self._key) is not None

    def unload(self) -> bool:
        """Free this backend's model (it reloads on the next ``generate``). True if freed."""
        return RESIDENT.unload(self._key)

    def clamp(self, duration_s: float) -> tuple[float, Optional[float]]:
        """``(duration to generate, requested duration if it was clamped else None)``."""
        duration_s = float(duration_s)
        if duration_s > self.max_clip_s:
            return self.max_clip_s, duration_s
        return duration_s, None

    def generate(
        self,
        prompt: str,
        *,
        duration_s: float,
        seed: int,
        progress: Optional[Progress] = None,
        **params: Any,
    ) -> AudioClip:
        """``duration_s`` of audio for ``prompt``, float32 ``(channels, frames)`` at
        :attr:`sample_rate`, exactly ``round(duration_s * sample_rate)`` frames, the same for
        the same seed. Past :attr:`max_clip_s` it continues its own audio when the backend
        :attr:`continues`, else it is clamped to :attr:`max_clip_s`.

        ``params``: ``negative_prompt``, ``steps``/``num_inference_steps``,
        ``guidance_scale``, ``temperature``, ``top_k`` (where the model has them); unknown
        keys are ignored.
        """
        return self.generate_batch(prompt, n=1, duration_s=duration_s, seed=seed, progress=progress, **params)[0]

    def generate_batch(
        self,
        prompt: str,
        *,
        n: int,
        duration_s: float,
        seed: int,
        progress: Optional[Progress] = None,
        **params: Any,
    ) -> list[AudioClip]:
        """``n`` takes of ``prompt`` (1..16) in one model call, in generation order, each as
        :meth:`generate` returns it. With :attr:`per_take_seeds` take ``i`` equals
        ``generate(seed=take_seed(seed, i))``; otherwise the batch is reproduced by the same
        ``(seed, n)``. ``metadata()["take_seeds"]`` / ``["batch"]`` record which."""
        from studio.generation.candidates import MAX_TAKES, take_seed

        check_request(prompt, duration_s, seed)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_TAKES:
            raise InputError(f"number of takes must be an integer in 1..{MAX_TAKES}; got {n!r}")
        opts = common_params(params)
        if self.continues:
            gen_s, clamped_from = float(duration_s), None
        else:
            gen_s, clamped_from = self.clamp(duration_s)
        frames = max(1, int(round(gen_s * self.sample_rate)))
        seeds = [take_seed(seed, i) for i in range(n)] if self.per_take_seeds else [int(seed)]
        step = step_progress(progress, self._total_steps(gen_s, opts), self.name)
        comps = self.components()
        self._last_long = {}
        try:
            audios, notes = self._run(comps, prompt.strip(), duration_s=gen_s, n=n, seeds=seeds, step=step, opts=opts)
        except StudioError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure inside the model call, named
            if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():  # incl. torch.OutOfMemoryError
                raise BackendError(f"{self.name} ran out of memory on {self.model_id!r} ({self.device}); "
                                   f"ask for a shorter clip or fewer takes, or use a smaller model") from exc
            raise BackendError(
                f"{self.name} model {self.model_id!r} failed while generating "
                f"({type(exc).__name__}: {first_line(exc)})"
            ) from exc
        clips = []
        for audio in audios:
            samples = to_channels_frames(audio)
            if not np.isfinite(samples).all():
                raise BackendError(
                    f"{self.name} model {self.model_id!r} produced NaN/inf audio; try dtype float32 or device 'cpu'"
                )
            clips.append(AudioClip(fit_frames(samples, frames), self.sample_rate))
        if len(clips) != n:
            raise BackendError(f"{self.name} model {self.model_id!r} returned {len(clips)} takes; {n} were asked for")
        self._last_clamped_from_s = clamped_from
        self._last_notes = tuple(notes)
        self._last_batch = ({"take_seeds": seeds} if self.per_take_seeds and n > 1
                            else {"batch": {"seed": int(seed), "n": n}} if n > 1 else {})
        (progress or no_progress)(1.0, f"{self.name}: done")
        return clips

    def metadata(self, prompt: str = "", **params: Any) -> dict[str, Any]:
        """What to record with the stem (cheap, loads nothing): model id, licence, device,
        native rate, per-call maximum and ``clamped_from_s`` (from ``duration_s`` in
        ``params`` when given, else from the last ``generate``)."""
        if "duration_s" in params and params["duration_s"] is not None:
            clamped_from = None if self.continues else self.clamp(float(params["duration_s"]))[1]
        else:
            clamped_from = self._last_clamped_from_s
        meta: dict[str, Any] = {
            "backend": self.name,
            "model": self.model_id,
            "licence": self.licence(),
            "device": self.device,
            "dtype": str(self.dtype).replace("torch.", ""),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "max_clip_s": round(self.max_clip_s, 3),
        }
        if self.placement != "device":
            meta["placement"] = self.placement
        if clamped_from is not None:
            meta["clamped_from_s"] = round(clamped_from, 3)
            meta["clamped_to_s"] = round(self.max_clip_s, 3)
        if "duration_s" in params and params["duration_s"] is not None:
            meta.update(self.long_form(float(params["duration_s"])))
        else:
            meta.update(self._last_long)
            meta.update(self._last_batch)
        if params.get("negative_prompt") and not self.supports_negative_prompt:
            meta["negative_prompt_ignored"] = True
        if self._last_notes:
            meta["notes"] = list(self._last_notes)
        return meta

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, device={self.device!r})"


# ----------------------------------------------------------------------------- diffusers helpers


def offload_placement(device: str) -> str:
    """Where a diffusers pipeline asked for CPU offload lives: ``"cpu-offload"`` on CUDA; on
    CPU/MPS there is no separate GPU memory to save, so the pipeline stays on the device
    (``"device (cpu_offload needs CUDA)"``)."""
    return "cpu-offload" if device.startswith("cuda") else "device (cpu_offload needs CUDA)"


def place_pipeline(pipe: Any, device: str, cpu_offload: bool = False) -> Any:
    """Put a diffusers pipeline on ``device``; with ``cpu_offload`` on CUDA, keep each
    sub-model in CPU memory and move it to the GPU only while it runs
    (``enable_model_cpu_offload``: peak GPU memory about the largest sub-model instead of the sum)."""
    if cpu_offload and offload_placement(device) == "cpu-offload":
        pipe.enable_model_cpu_offload(device=device)
        return pipe
    return pipe.to(device)


def load_diffusers_pipeline(path: str, expected: str, device: str, dtype: Any, *, cpu_offload: bool = False,
                            **components: Any) -> Any:
    """``DiffusionPipeline.from_pretrained`` checked to be the ``expected`` class name, placed
    by :func:`place_pipeline`, with its own progress bar off (we report progress ourselves).
    ``components`` replace sub-models named in model_index.json (already loaded)."""
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(path, dtype=dtype, **components)
    if type(pipe).__name__ != expected:
        raise ValueError(f"folder holds a {type(pipe).__name__}, not a {expected}")
    pipe = place_pipeline(pipe, device, cpu_offload)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def diffusers_step_kwargs(pipe: Any, step: Callable[[int], None]) -> dict[str, Any]:
    """Keyword arguments that make a diffusers pipeline report each denoising step.

    Newer pipelines take ``callback_on_step_end(pipe, i, t, kwargs)``; the audio pipelines in
    diffusers 0.3x-0.4x still take ``callback(i, t, latents)`` with ``callback_steps``.
    """
    import inspect

    params = inspect.signature(pipe.__call__).parameters
    if "callback_on_step_end" in params:
        def _on_step_end(_pipe, i, _t, kwargs):  # noqa: ANN001
            step(i + 1)
            return kwargs

        return {"callback_on_step_end": _on_step_end}
    if "callback" in params:
        return {"callback": lambda i, _t, _latents: step(i + 1), "callback_steps": 1}
    return {}
