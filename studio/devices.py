"""Device and dtype choice for neural models: cuda, then mps, then cpu.

dtype follows each model card on CUDA (each loader passes its card's dtype): bf16 where the model was trained
and released in bf16 (Qwen2.5: in fp16 it overflows and emits garbage), fp16 where the card
shows fp16 inference (MusicGen, Stable Audio Open, AudioLDM2, BLIP-2), fp32 for small models.
Everything runs fp32 on CPU and MPS (fp16 on CPU is several times slower than fp32, and bf16
matmuls on CPU are slow without AMX). ``STUDIO_DTYPE`` (float32, float16, bfloat16 or auto)
overrides the automatic choice for every model; an explicit ``dtype=`` option wins over both.
"""

from __future__ import annotations

from typing import Any, Optional

from studio.errors import InputError

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(device: Optional[str] = None) -> str:
    """Resolve ``"auto"``/None to the best available device; validate explicit names."""
    import torch

    if device in (None, "", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    base = device.split(":")[0]
    if base not in DEVICES:
        raise InputError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    if base == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if base == "mps" and not _mps_available():
        raise InputError("device 'mps' was asked for but Apple's Metal backend is not available; use 'auto' or 'cpu'")
    return device


def _mps_available() -> bool:
    """Whether Apple's Metal backend is usable (torch builds without it have no ``backends.mps``)."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


DTYPE_ENV = "STUDIO_DTYPE"
DTYPE_NAMES = ("float32", "float16", "bfloat16")
_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}


def dtype_name(dtype: Any) -> str:
    """``"float16"`` for ``torch.float16``, ``"fp16"``, ``"half"``...; InputError otherwise."""
    text = str(dtype).lower().replace("torch.", "")
    name = _ALIASES.get(text, text)
    if name not in DTYPE_NAMES:
        raise InputError(f"unknown dtype {dtype!r}; choose auto or one of: {', '.join(DTYPE_NAMES)}")
    return name


def pick_dtype(device: str, *, card: str = "float16", prefer_bf16: bool = False):
    """The automatic dtype on ``device`` for a model whose card says ``card``.

    ``STUDIO_DTYPE`` (when set and not ``auto``) wins. Otherwise: fp32 off CUDA; on CUDA the
    card's dtype, except that bf16 falls back to fp32 (never fp16: a bf16-trained model
    overflows in fp16) on GPUs without bf16. ``prefer_bf16`` asks for bf16 where supported.
    """
    import os

    import torch

    forced = os.environ.get(DTYPE_ENV, "").strip()
    if forced and forced.lower() != "auto":
        return getattr(torch, dtype_name(forced))
    if not device.startswith("cuda"):
        return torch.float32
    name = dtype_name(card)
    if name == "bfloat16" or (prefer_bf16 and name == "float16"):
        if _bf16_supported():
            return torch.bfloat16
        return torch.float32 if name == "bfloat16" else torch.float16
    return getattr(torch, name)


def _bf16_supported() -> bool:
    import torch

    try:
        return bool(torch.cuda.is_bf16_supported())
    except Exception:  # noqa: BLE001 - no CUDA runtime: no bf16 either
        return False


def resolve_dtype(device: str, dtype: Any = None, *, card: str = "float16"):
    """An explicit ``dtype`` (torch dtype or name) as a torch dtype; None/``"auto"`` picks
    the automatic one (:func:`pick_dtype`)."""
    import torch

    if dtype is None or (isinstance(dtype, str) and dtype.strip().lower() in ("", "auto")):
        return pick_dtype(device, card=card)
    if isinstance(dtype, torch.dtype):
        return dtype
    return getattr(torch, dtype_name(dtype))


def torch_generator(device: str, seed: int):
    """A seeded ``torch.Generator`` on the device (CPU generator for mps, which lacks one)."""
    import torch

    gen_device = "cpu" if device.startswith("mps") else device
    return torch.Generator(device=gen_device).manual_seed(int(seed))


def seeded_torch_rng(device: str, seed: int):
    """Context manager: the global torch RNG (CPU and the device's) seeded with ``seed`` inside,
    restored on exit. For libraries whose sampling takes no ``generator`` argument
    (transformers' ``generate``, audiocraft), so a seed still fixes the result without
    disturbing anyone else's random state."""
    import contextlib

    import torch

    @contextlib.contextmanager
    def _scope():
        devices = []
        if device.startswith("cuda") and torch.cuda.is_available():
            idx = torch.device(device).index
            devices = [idx if idx is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices, device_type="cuda" if devices else "cpu"):
            torch.manual_seed(int(seed))
            yield

    return _scope()


def release_memory(device: Optional[str] = None) -> None:
    """Return cached accelerator memory to the system after a model or stage is dropped:
    ``gc.collect()``, then ``torch.cuda.empty_cache()`` whenever CUDA is in use (whatever
    ``device`` says: a stage may have put its model on the GPU), and the MPS cache for
    ``mps``. Does nothing heavy when torch was never imported."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is None:  # no model was ever loaded in this process
        return
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
        if (device or "").startswith("mps") and hasattr(torch, "mps"):
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001 - freeing memory is best effort
        pass
