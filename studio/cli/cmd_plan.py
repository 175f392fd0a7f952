"""``python -m studio plan``: print the scene plan for an image or a caption as JSON.

    python -m studio plan (IMAGE | --caption TEXT) [--planner llm|rules] [--style NAME]
                          [--model ID] [--backend NAME] [--seconds S | --minutes M] [--seed N]

An image is captioned by the offline ``analysis`` captioner. Event times are left for the
mixer to resolve at render time (``studio.mixing.resolve_events``); everything else in the
plan (layers, prompts, seeds, levels) is final.
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.common import add_duration_args, add_seed_arg, add_style_arg, duration_from_args
from studio.errors import InputError

DEFAULT_STYLE = "meditation"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan", help="print the scene plan (JSON) for an image or a caption")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image file to caption and plan")
    p.add_argument("--caption", metavar="TEXT", help="plan from this text instead of an image")
    p.add_argument("--planner", default="rules", metavar="NAME", help="planner: rules (default) or llm")
    p.add_argument("--model", metavar="ID", help="chat model for --planner llm (default Qwen/Qwen2.5-1.5B-Instruct)")
    p.add_argument("--backend", default="procedural", metavar="NAME", help="audio backend the prompts are phrased for")
    add_style_arg(p)
    add_duration_args(p)
    add_seed_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.planning import PLANNERS
    from studio.planning.styles import load_style
    from studio.types import MAX_DURATION_S, MAX_SEED, MIN_DURATION_S, Caption

    if bool(args.image) == bool(args.caption):
        raise InputError("give either an IMAGE or --caption TEXT (exactly one)")
    style = load_style(args.style or DEFAULT_STYLE)
    duration_s = duration_from_args(args)
    if duration_s is None:
        duration_s = style.default_duration_s
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise InputError(
            f"duration must be between {MIN_DURATION_S:g} s and {MAX_DURATION_S / 60:g} min; got {duration_s:g} s"
        )
    seed = 0 if args.seed is None else args.seed
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}; got {seed}")
    if args.planner not in PLANNERS:
        raise InputError(f"unknown planner {args.planner!r}; choose one of: {', '.join(PLANNERS.names())}")
    from studio.generation import BACKENDS

    if args.backend not in BACKENDS:
        raise InputError(f"unknown backend {args.backend!r}; choose one of: {', '.join(BACKENDS.names())}")
    options: dict = {"backend": args.backend}
    if args.model:
        if args.planner != "llm":
            raise InputError("--model only applies to --planner llm")
        options["model_id"] = args.model

    if args.caption is not None:
        text = args.caption.strip()
        if not text or len(text) > 2000:
            raise InputError("--caption must be 1 to 2000 characters of text")
        caption = Caption(text=text, source="user")
    else:
        from studio.vision import CAPTIONERS
        from studio.vision.intake import load_image

        caption = CAPTIONERS.create("analysis").caption(load_image(args.image))

    planner = PLANNERS.create(args.planner, **options)
    plan = planner.plan(caption, style=style, duration_s=float(duration_s), seed=seed)
    sys.stdout.write(plan.to_json() + "\n")
    return 0
