"""Finding Hugging Face models locally, as users' machines do.

A ``model_id`` may be a local folder (``save_pretrained`` output) or a hub id. Hub ids are
looked up in the local Hugging Face cache first; when the model is absent and the hub cannot
be reached (offline mode, or no network: checked with one short request instead of letting the
loader retry for half a minute) the error names the model and how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from studio.errors import ModelUnavailableError, first_line


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
    # "owner/name", or a legacy single name such as "t5-large"
    if is_local_path(model_id) or not model_id.strip():
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not in the cache"
        return None


def is_local_path(model_id: str) -> bool:
    """Whether ``model_id`` names a folder on disk rather than a hub id."""
    return Path(model_id).expanduser().exists() or model_id.startswith((".", "/", "~")) or model_id.count("/") > 1


def hub_unreachable(timeout_s: float = 3.0) -> Optional[str]:
    """None when the Hugging Face hub answers (any HTTP status), else why it cannot be reached.

    One HEAD request through huggingface_hub's own HTTP session (so ``HF_ENDPOINT`` and proxy
    settings apply), with no retries: without a network the loaders would otherwise retry for
    about 30 s before failing."""
    try:
        from huggingface_hub import constants
        from huggingface_hub.utils import get_session
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        return None
    endpoint = constants.ENDPOINT
    try:
        get_session().head(endpoint, timeout=timeout_s, follow_redirects=False)
    except Exception as exc:  # noqa: BLE001 - connection, DNS, TLS and timeout errors alike
        return f"{endpoint} cannot be reached ({first_line(exc, 160)})"
    return None


def how_to_get(model_id: str, hint: str = "") -> str:
    """The steps that put ``model_id`` on this machine, for error messages."""
    how = f"on a machine with internet run `python -m studio models download {model_id}`"
    return how + (f"; {hint}" if hint else "")


def require_model(model_id: str, *, what: str, hint: str = "") -> str:
    """A path or id that ``from_pretrained`` can load now, or a ModelUnavailableError that
    names the model and how to get it (``hint``: a model-specific step such as accepting a
    gated licence and logging in).

    A hub id missing from the local cache is returned as is (the loader downloads it) only
    when offline mode is off and the hub answers."""
    local = local_model_path(model_id)
    if local is not None:
        return str(local)
    if is_local_path(model_id):
        raise ModelUnavailableError(f"{what} model folder {model_id!r} does not exist or is not a folder")
    if is_offline():
        raise ModelUnavailableError(
            f"{what} model {model_id!r} is not in the local Hugging Face cache and offline mode is on "
            f"(HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE); {how_to_get(model_id, hint)}"
        )
    unreachable = hub_unreachable()
    if unreachable:
        raise ModelUnavailableError(
            f"{what} model {model_id!r} is not in the local Hugging Face cache and {unreachable}; "
            f"{how_to_get(model_id, hint)}"
        )
    return model_id


def load_error(model_id: str, *, what: str, exc: BaseException, hint: str = "") -> ModelUnavailableError:
    """Turn an exception from ``from_pretrained`` (usually OSError: missing files, no network,
    a gated repo without a token) into a ModelUnavailableError naming the model and how to get it.

    ``hint`` adds a model-specific step (e.g. accepting a licence and logging in).
    """
    reason = first_line(exc)
    if is_local_path(model_id):
        # a folder the user pointed at: downloading its path would make no sense
        return ModelUnavailableError(
            f"{what} model folder {model_id!r} could not be loaded ({reason}); it is incomplete, damaged or "
            f"holds another kind of model: save or copy the whole model folder again, or pass a hub id"
        )
    how = how_to_get(model_id)
    if is_offline():
        how += " (offline mode is on: HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)"
    extra = f"; {hint}" if hint else ""
    return ModelUnavailableError(f"{what} model {model_id!r} could not be loaded ({reason}); {how}{extra}")


def load_model_and_processor(model_class: str, processor_class: str, model_id: str, *, what: str,
                             device: str = "auto", needs: str = "") -> tuple[Any, Any, str]:
    """``(model, processor, device)`` for a transformers model class and its processor (or
    feature extractor) class, named as strings so nothing is imported until a model is asked
    for: the model in eval mode on the picked device (fp32), loaded from the local cache, a
    folder, or the hub when online. A missing library, a missing model and a broken folder each
    give a ModelUnavailableError that names ``what`` and how to get it."""
    from studio.devices import pick_device

    try:
        import transformers

        model_cls, processor_cls = getattr(transformers, model_class), getattr(transformers, processor_class)
    except (ImportError, AttributeError) as exc:
        missing = getattr(exc, "name", None) or "transformers"
        raise ModelUnavailableError(f"{needs or what} needs {missing}; run `pip install -r requirements.txt`") from None
    resolved = pick_device(device)
    path = require_model(model_id, what=what)
    try:
        model = model_cls.from_pretrained(path).to(resolved).eval()
        processor = processor_cls.from_pretrained(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise load_error(model_id, what=what, exc=exc) from None
    return model, processor, resolved


def model_file(path: str, filename: str) -> Optional[Path]:
    """``filename`` of a model given as :func:`require_model` returns it: read from the local
    folder, or fetched from the hub (a small file, e.g. ``model_index.json``) when
    ``path`` is a hub id being downloaded. None when the model has no such file."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        candidate = folder / filename
        return candidate if candidate.is_file() else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import EntryNotFoundError

    try:
        return Path(hf_hub_download(path, filename))
    except EntryNotFoundError:
        return None
