"""What every neural audio backend shares: loading, the resident model, seeds, duration
clamping, parameter names, progress and the conversion of model output to an AudioClip.

A subclass says how to load its components (``_load``), how to read its native rate and
per-call maximum from them (``_describe``) and how to run one generation (``_run``); this
base does the rest the same way for every model:

- ``from_pretrained(model_id, device="auto", dtype=None)`` resolves the model through the
  local Hugging Face cache (:func:`studio.hf.require_model`), picks the device (cuda, mps,
  cpu) and dtype (fp16 only on CUDA) and turns loading failures into a
  :class:`~studio.errors.ModelUnavailableError` that names the model and how to get it.
- Only one neural model is resident at a time, across all backends (:data:`RESIDENT`): loading
  another model drops the previous one; a backend whose model was dropped reloads it on its
  next ``generate``. ``unload()`` frees it explicitly.
- ``generate`` clamps ``duration_s`` to ``max_clip_s`` (``metadata()["clamped_from_s"]`` records
  the request), returns exactly ``round(duration_s * sample_rate)`` frames, float32
  ``(channels, frames)`` at the model's own rate (the mixer resamples).
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


_DTYPES = ("float32", "float16", "bfloat16")


def _torch_dtype(dtype: Any) -> Any:
    """A torch dtype from a torch dtype or its name (``"float16"``, ``"fp16"``...)."""
    if not isinstance(dtype, str):
        return dtype
    import torch

    name = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}.get(dtype.lower(), dtype.lower())
    if name not in _DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; choose one of: {', '.join(_DTYPES)}")
    return getattr(torch, name)


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
    ) -> "NeuralBackend":
        """Load ``model_id`` (hub id or local folder; default :attr:`default_model_id`) on
        ``device`` (``auto``: cuda, then mps, then cpu). ``dtype`` None means fp16 on CUDA
        and fp32 elsewhere."""
        from studio.devices import pick_device, pick_dtype
        from studio.hf import load_error

        model_id = model_id or cls.default_model_id
        missing = modules_present(*cls.required_modules)
        if missing:
            raise ModelUnavailableError(
                f"the {cls.name} backend (model {model_id!r}) needs the {missing!r} package; {cls.install_hint}"
            )
        resolved_device = pick_device(device)
        resolved_dtype = _torch_dtype(dtype) if dtype is not None else pick_dtype(resolved_device)
        # Free the resident model first so the new one never shares memory with it.
        RESIDENT.unload()
        path = cls._resolve(model_id)

        def loader() -> Any:
            import torch

            try:
                # weight init before loading draws from the global RNG; keep callers' state
                with torch.random.fork_rng(devices=[]):
                    return cls._load(path, resolved_device, resolved_dtype)
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
        return cls(components, model_id=model_id, device=resolved_device, dtype=resolved_dtype,
                   loader=loader, max_clip_s=max_clip_s)

    @classmethod
    def create(cls, **opts: Any) -> "NeuralBackend":
        """Registry factory. ``opts``: ``model_id`` (or ``model``), ``device``, ``dtype``,
        ``max_clip_s``; other keys are ignored."""
        model_id = opts.get("model_id") or opts.get("model") or None
        return cls.from_pretrained(model_id, device=opts.get("device") or "auto", dtype=opts.get("dtype"),
                                   max_clip_s=opts.get("max_clip_s"))

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
    def _load(cls, path: str, device: str, dtype: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _describe(self, components: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        """``{"sample_rate": int, "channels": int, "max_clip_s": float}`` from the components."""
        raise NotImplementedError

    def _run(self, components: Any, prompt: str, *, duration_s: float, seed: int,
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:  # pragma: no cover
        """One generation: ``(audio, notes)``; audio in any shape :func:`to_channels_frames` takes."""
        raise NotImplementedError

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return int(opts.get("steps") or 1)

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
        """``duration_s`` of audio for ``prompt`` (clamped to :attr:`max_clip_s`), float32
        ``(channels, frames)`` at :attr:`sample_rate`, the same for the same seed.

        ``params``: ``negative_prompt``, ``steps``/``num_inference_steps``,
        ``guidance_scale``, ``temperature``, ``top_k`` (where the model has them); unknown
        keys are ignored.
        """
        check_request(prompt, duration_s, seed)
        opts = common_params(params)
        clamped_s, clamped_from = self.clamp(duration_s)
        frames = max(1, int(round(clamped_s * self.sample_rate)))
        comps = self.components()
        step = step_progress(progress, self._total_steps(clamped_s, opts), self.name)
        try:
            audio, notes = self._run(comps, prompt.strip(), duration_s=clamped_s, seed=int(seed), step=step, opts=opts)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise BackendError(f"{self.name} failed on {self.model_id!r}: {first_line(exc)}") from exc
        samples = to_channels_frames(audio)
        if not np.isfinite(samples).all():
            raise BackendError(
                f"{self.name} model {self.model_id!r} produced NaN/inf audio; try dtype float32 or device 'cpu'"
            )
        self._last_clamped_from_s = clamped_from
        self._last_notes = tuple(notes)
        (progress or no_progress)(1.0, f"{self.name}: done")
        return AudioClip(fit_frames(samples, frames), self.sample_rate)

    def metadata(self, prompt: str = "", **params: Any) -> dict[str, Any]:
        """What to record with the stem (cheap, loads nothing): model id, licence, device,
        native rate, per-call maximum and ``clamped_from_s`` (from ``duration_s`` in
        ``params`` when given, else from the last ``generate``)."""
        if "duration_s" in params and params["duration_s"] is not None:
            clamped_from = self.clamp(float(params["duration_s"]))[1]
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
        if clamped_from is not None:
            meta["clamped_from_s"] = round(clamped_from, 3)
            meta["clamped_to_s"] = round(self.max_clip_s, 3)
        if params.get("negative_prompt") and not self.supports_negative_prompt:
            meta["negative_prompt_ignored"] = True
        if self._last_notes:
            meta["notes"] = list(self._last_notes)
        return meta

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, device={self.device!r})"


# ----------------------------------------------------------------------------- diffusers helpers


def load_diffusers_pipeline(path: str, expected: str, device: str, dtype: Any) -> Any:
    """``DiffusionPipeline.from_pretrained`` checked to be the ``expected`` class name, on
    ``device`` with its own progress bar off (we report progress ourselves)."""
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(path, dtype=dtype)
    if type(pipe).__name__ != expected:
        raise ValueError(f"folder holds a {type(pipe).__name__}, not a {expected}")
    pipe = pipe.to(device)
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
