"""What the neural vision adapters share: option checks, device/dtype choice, the
availability check and turning loader failures into :class:`ModelUnavailableError`.

Nothing here imports torch or transformers at module level.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Optional

from studio.errors import InputError, ModelUnavailableError

_DTYPE_NAMES = {
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float32": "float32", "fp32": "float32", "float": "float32",
}  # fmt: skip


def resolve_device_dtype(device: Optional[str], dtype: Any) -> tuple[str, Any]:
    """``device`` auto/cpu/cuda/mps and ``dtype`` None/"auto"/name/torch.dtype ->
    (device string, torch dtype). Auto dtype is fp16 on CUDA and fp32 elsewhere."""
    import torch

    from studio.devices import pick_device, pick_dtype

    dev = pick_device(device or "auto")
    if dtype is None or (isinstance(dtype, str) and dtype.lower() == "auto"):
        return dev, pick_dtype(dev)
    if isinstance(dtype, torch.dtype):
        return dev, dtype
    name = _DTYPE_NAMES.get(str(dtype).lower().replace("torch.", ""))
    if name is None:
        raise InputError(f"unknown dtype {dtype!r}; choose auto, float32, float16 or bfloat16")
    return dev, getattr(torch, name)


def check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"{name} must be a whole number from {lo} to {hi}; got {value!r}")
    return value


def check_float(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number; got {value!r}") from None
    low_ok = number > lo if lo_open else number >= lo
    if not (low_ok and number <= hi):
        bracket = "(" if lo_open else "["
        raise InputError(f"{name} must be within {bracket}{lo}, {hi}]; got {value!r}")
    return number


def clean_prompt(prompt: Optional[str]) -> Optional[str]:
    if prompt is None:
        return None
    if not isinstance(prompt, str):
        raise InputError(f"prompt must be text; got {type(prompt).__name__}")
    text = " ".join(prompt.split())
    if len(text) > 300:
        raise InputError(f"prompt is {len(text)} characters; keep it under 300 (for example 'a photograph of')")
    return text or None


def model_availability(model_id: str, what: str) -> tuple[bool, str]:
    """(ok, reason) without importing transformers or loading the model."""
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
        return False, f"{what} needs torch and transformers; install the project's requirements (see README)"
    from studio.hf import local_model_path

    path = local_model_path(model_id)
    if path is None:
        return False, (
            f"{what} model {model_id!r} is not in the local Hugging Face cache; "
            f"run `python -m studio models download {model_id}` on a machine with internet"
        )
    return True, f"{what} model {model_id!r} found at {path}"


def load_failure(what: str, model_id: str, exc: BaseException) -> ModelUnavailableError:
    """A clear error for a folder or cache entry that exists but does not load."""
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ModelUnavailableError(
        f"{what} model {model_id!r} could not be loaded ({detail}); "
        f"check that it is a complete {what} checkpoint or download it again"
    )
