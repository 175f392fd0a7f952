"""Finding Hugging Face models locally, as users' machines do.

A ``model_id`` may be a local folder (``save_pretrained`` output) or a hub id. Hub ids are
looked up in the local Hugging Face cache first; when the model is absent and the hub cannot
be reached (offline mode or no network) the error names the model and how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from studio.errors import ModelUnavailableError


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes") or os.environ.get(
        "TRANSFORMERS_OFFLINE", "0"
    ).lower() in ("1", "true", "yes")


def local_model_path(model_id: str) -> Optional[Path]:
    """The folder holding ``model_id`` on this machine, or None.

    A path to an existing folder is returned as is; a hub id is resolved in the local cache
    without touching the network.
    """
    path = Path(model_id).expanduser()
    if path.is_dir():
        return path
    if model_id.count("/") != 1 or model_id.startswith((".", "/")):
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not in the cache"
        return None


def require_model(model_id: str, *, what: str) -> str:
    """A path or id that ``from_pretrained`` can load now, or a ModelUnavailableError that
    names the model and how to get it."""
    local = local_model_path(model_id)
    if local is not None:
        return str(local)
    if Path(model_id).expanduser().exists() or model_id.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"{what} model folder {model_id!r} does not exist or is not a folder")
    if is_offline():
        raise ModelUnavailableError(
            f"{what} model {model_id!r} is not in the local Hugging Face cache and offline mode is on; "
            f"on a machine with internet run `python -m studio models download {model_id}`"
        )
    return model_id


def load_error(model_id: str, *, what: str, exc: BaseException, hint: str = "") -> ModelUnavailableError:
    """Turn an exception from ``from_pretrained`` (usually OSError: missing files, no network,
    a gated repo without a token) into a ModelUnavailableError naming the model and how to get it.

    ``hint`` adds a model-specific step (e.g. accepting a licence and logging in).
    """
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    how = f"on a machine with internet run `python -m studio models download {model_id}`"
    if is_offline():
        how += " (offline mode is on: HF_HUB_OFFLINE=1)"
    extra = f"; {hint}" if hint else ""
    return ModelUnavailableError(f"{what} model {model_id!r} could not be loaded ({first_line}); {how}{extra}")
