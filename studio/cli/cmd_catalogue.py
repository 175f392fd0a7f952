"""``python -m studio catalogue --out DIR``: audition every procedural layer type.

Writes ``DIR/<type>.wav`` (10 s by default), ``DIR/<type>.png`` (spectrogram) and
``DIR/index.html`` with an ``<audio>`` player per type; prints the index path as JSON.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "catalogue",
        help="render every procedural layer type with a spectrogram and an HTML player page",
        description="Render a clip of every procedural layer type, a spectrogram PNG each, and index.html.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--seconds", type=float, default=10.0, metavar="S", help="clip length per type (default 10)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    parser.add_argument("--types", default=None, metavar="A,B", help="comma-separated subset of types (default: all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.cli.common import print_json
    from studio.errors import InputError
    from studio.generation.procedural.audition import write_catalogue

    if args.seed is not None and not 0 <= args.seed <= 2**32 - 1:
        raise InputError(f"--seed must be 0..4294967295; got {args.seed}")
    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else None

    def progress(fraction: float, message: str) -> None:
        sys.stderr.write(f"[{fraction * 100:5.1f}%] {message}\n")

    result = write_catalogue(args.out, types=types, seconds=args.seconds, seed=args.seed, progress=progress)
    print_json({"index": str(result["index"]), "types": len(result["types"])})
    return 0
