"""Device and dtype choice for neural models: cuda, then mps, then cpu; half precision only
on CUDA (fp16 on CPU is several times slower than fp32)."""

from __future__ import annotations

from typing import Optional

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


def pick_dtype(device: str, *, prefer_bf16: bool = False):
    """fp16 (or bf16 when supported and preferred) on CUDA, fp32 everywhere else."""
    import torch

    if device.startswith("cuda"):
        if prefer_bf16 and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    return torch.float32


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


def release_memory(device: str) -> None:
    """Return cached accelerator memory to the system after a model is dropped."""
    import gc

    gc.collect()
    try:
        import torch

        if device.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()
        elif device.startswith("mps") and hasattr(torch, "mps"):
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001 - freeing memory is best effort
        pass
