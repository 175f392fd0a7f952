"""Argument helpers shared by commands, so flags have one name and one meaning everywhere."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from studio.errors import InputError


def add_duration_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    from studio.defaults import DURATION_S

    group.add_argument("--seconds", type=float, metavar="S", help=f"track length in seconds (5..3600; default {DURATION_S:g})")
    group.add_argument("--minutes", type=float, metavar="M", help=f"track length in minutes (5 s .. 60 min; default {DURATION_S / 60:g})")


def duration_from_args(args: argparse.Namespace) -> float | None:
    """``--seconds``/``--minutes`` as seconds, or None for the default (studio.defaults; validated later)."""
    if getattr(args, "seconds", None) is not None:
        return float(args.seconds)
    if getattr(args, "minutes", None) is not None:
        return float(args.minutes) * 60.0
    return None


def add_seed_arg(parser: argparse.ArgumentParser) -> None:
    from studio.defaults import SEED

    parser.add_argument("--seed", type=int, default=None, metavar="N", help=f"random seed (0..4294967295); default {SEED}")


def add_style_arg(parser: argparse.ArgumentParser) -> None:
    from studio.defaults import STYLE

    parser.add_argument("--style", default=None, metavar="NAME", help=f"style preset (default: {STYLE})")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def parse_key_value(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"expected KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out
