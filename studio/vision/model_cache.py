"""A per-process cache of loaded vision models, so each (kind, model, device, dtype) is
loaded once however many captioner or tagger objects the app creates.

Streamlit reruns scripts in threads, so loading is guarded by a lock: two sessions asking
for the same model at once load it once.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable

_LOCK = threading.RLock()
_MODELS: dict[tuple[str, str, str, str], Any] = {}


def cache_key(kind: str, model_id: str, device: str, dtype: Any) -> tuple[str, str, str, str]:
    return (kind, str(model_id), str(device), str(dtype).replace("torch.", ""))


def get_or_load(key: tuple[str, str, str, str], loader: Callable[[], Any]) -> Any:
    """The cached value for ``key``, calling ``loader()`` once when absent."""
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = loader()
        return _MODELS[key]


def is_loaded(key: tuple[str, str, str, str]) -> bool:
    with _LOCK:
        return key in _MODELS


def loaded_keys() -> list[tuple[str, str, str, str]]:
    with _LOCK:
        return list(_MODELS)


def unload(key: tuple[str, str, str, str]) -> bool:
    """Drop one model from the cache (and CUDA memory); True when it was loaded."""
    with _LOCK:
        found = _MODELS.pop(key, None) is not None
    if found:
        _release_memory(key[2])
    return found


def unload_all() -> int:
    """Drop every cached vision model; returns how many were dropped."""
    with _LOCK:
        keys = list(_MODELS)
        _MODELS.clear()
    for device in {k[2] for k in keys}:
        _release_memory(device)
    return len(keys)


def _release_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
