"""``python -m studio models``: the models the studio knows, and downloading them.

    python -m studio models [--json]          id, kind, size, licence, default use, cached?
    python -m studio models download ID       fetch into the Hugging Face cache (progress bar)

Downloading honours offline mode (``HF_HUB_OFFLINE=1``): it then fails with a message that
says so instead of trying the network.
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.common import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list known models and whether they are cached; download one")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    d = sub.add_parser("download", help="download a model into the local Hugging Face cache")
    d.add_argument("model_id", metavar="ID", help="hub id, e.g. facebook/musicgen-small")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=run)
    p.set_defaults(func=run)


def _table(rows: list[dict]) -> str:
    headers = ("id", "kind", "size", "cached", "default for", "licence")
    lines = [
        (
            r["id"],
            r["kind"],
            f"~{r['size_gb']:.1f} GB" if r["size_gb"] >= 0.1 else f"~{r['size_gb'] * 1000:.0f} MB",
            "yes" if r["cached"] else "no",
            ", ".join(r["default_for"]) or "-",
            r["licence"] + (" [gated]" if r["gated"] else ""),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from studio import models

    if getattr(args, "models_command", None) == "download":
        entry = models.known_model(args.model_id)
        if entry is not None and entry.packaged:
            sys.stdout.write(f"{args.model_id} ships inside a Python package; nothing to download\n")
            return 0
        if entry is not None:
            sys.stderr.write(f"{args.model_id}: ~{entry.size_gb:.1f} GB, licence: {entry.licence}\n")
            if entry.gated:
                sys.stderr.write(f"note: {entry.note}\n")
        else:
            sys.stderr.write(f"{args.model_id} is not in the studio's catalogue; check its licence on the model card\n")
        path = models.download(args.model_id, progress=not args.quiet)
        sys.stdout.write(f"{args.model_id} downloaded to {path}\n")
        return 0
    rows = models.model_rows()
    if args.json:
        print_json({"models": rows})
    else:
        sys.stdout.write(_table(rows) + "\n")
    return 0
