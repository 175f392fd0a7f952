"""``python -m studio imagine AUDIO --out image.png [--style NAME]``: tags → image prompt → image.

Prints JSON with the tags, the prompt, how the image was made and where it was written. The
offline image is a "sound painting" (a visualisation of the audio's features) and says so.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from studio.cli.cmd_tag import add_audio_args
    from studio.reverse.prompt import DEFAULT_STYLE, STYLES

    parser = subparsers.add_parser("imagine", help="make an image from a recording (cover art)",
                                   description="Tag a recording, write an image prompt and make the image.")
    add_audio_args(parser)
    parser.add_argument("--out", required=True, metavar="PNG", help="image file to write (.png)")
    parser.add_argument("--style", default=DEFAULT_STYLE, metavar="NAME", help=f"visual style: {', '.join(STYLES)} (default {DEFAULT_STYLE})")
    parser.add_argument("--image-maker", default=None, choices=("painting", "diffusion"),
                        help="painting (offline) or diffusion; default: diffusion when its model is here")
    parser.add_argument("--image-model", default=None, metavar="ID", help="diffusers model id or folder (default stabilityai/sd-turbo)")
    parser.add_argument("--width", type=int, default=768, help="pixels, multiple of 8 (default 768)")
    parser.add_argument("--height", type=int, default=512, help="pixels, multiple of 8 (default 512)")
    parser.add_argument("--refine", action="store_true", help="let the LLM planner's model rewrite the prompt when it is here")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="image seed (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studio.cli.common import print_json
    from studio.errors import ExportError
    from studio.reverse.pipeline import imagine, save_image

    out = Path(args.out)
    if out.suffix.lower() != ".png":  # before any work
        raise ExportError(f"--out must name a .png file; got {args.out!r}")
    result = imagine(args.audio, style=args.style, tagger=args.tagger, tag_model=args.tag_model, image_maker=args.image_maker,
                     model_id=args.image_model, width=args.width, height=args.height, seed=args.seed,
                     refine=args.refine, device=args.device)
    save_image(result, out)
    report = {
        "tags": result.tags.to_json()["tags"],
        "tagger": result.tags.tagger,
        "prompt": result.prompt.text,
        "style": result.prompt.style,
        **({"refined": result.prompt.refined} if result.prompt.refined else {}),
        "image_maker": result.image_maker,
        "model": result.model,
        "out": str(out),
        "size": list(result.image.size),
    }
    if result.label:
        report["label"] = result.label
    if result.notes:
        report["notes"] = result.notes
    print_json(report)
    return 0
