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

from studio import defaults
from studio.cli.common import add_duration_args, add_seed_arg, add_style_arg, duration_from_args
from studio.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan", help="print the scene plan (JSON) for an image or a caption")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image file to caption and plan")
    p.add_argument("--caption", metavar="TEXT", help="plan from this text instead of an image")
    p.add_argument("--planner", default=defaults.PLANNER, metavar="NAME", help=f"planner: rules or llm (default {defaults.PLANNER})")
    p.add_argument("--model", metavar="ID", help="chat model for --planner llm (default Qwen/Qwen2.5-1.5B-Instruct)")
    p.add_argument("--backend", default="procedural", metavar="NAME", help="audio backend the prompts are phrased for")
    add_style_arg(p)
    add_duration_args(p)
    add_seed_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.pipeline import user_caption, validate_duration, validate_seed
    from studio.planning import PLANNERS
    from studio.planning.styles import load_style

    if bool(args.image) == bool(args.caption):
        raise InputError("give either an IMAGE or --caption TEXT (exactly one)")
    style = load_style(args.style or defaults.STYLE)
    duration_s = duration_from_args(args)
    duration_s = validate_duration(defaults.DURATION_S if duration_s is None else duration_s)
    seed = validate_seed(defaults.SEED if args.seed is None else args.seed)
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
        caption = user_caption(args.caption)
    else:
        from studio.vision import CAPTIONERS
        from studio.vision.intake import load_image

        caption = CAPTIONERS.create("analysis").caption(load_image(args.image))

    planner = PLANNERS.create(args.planner, **options)
    plan = planner.plan(caption, style=style, duration_s=float(duration_s), seed=seed)
    sys.stdout.write(plan.to_json() + "\n")
    return 0
