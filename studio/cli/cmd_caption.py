"""``python -m studio caption IMAGE``: print what a captioner (and optionally the CLIP sound
tagger) says about an image, as JSON.

Output keys: ``text``, ``source``, ``model``, ``cues``, ``tags`` (only with ``--tags``) and
``image`` (the intake facts: file name, format, sizes, EXIF date, keywords, ...).
"""

from __future__ import annotations

import argparse
from typing import Any

from studio.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "caption",
        help="describe an image (offline analysis, BLIP-2 or BLIP) and print JSON",
        description="Describe an image and print JSON with the text, its source and model.",
    )
    parser.add_argument("image", metavar="IMAGE", help="JPEG, PNG, WEBP, GIF, BMP or TIFF file")
    parser.add_argument(
        "--captioner", default="analysis", metavar="NAME",
        help="analysis (offline, default), blip2 or blip",
    )  # fmt: skip
    parser.add_argument("--prompt", default=None, metavar="TEXT", help="conditional prompt for blip2/blip, e.g. 'a photograph of'")
    parser.add_argument("--model", default=None, metavar="ID", help="model id or folder for blip2/blip (default: the captioner's)")
    parser.add_argument("--tags", action="store_true", help="add CLIP sound tags (needs the CLIP model)")
    parser.add_argument("--tag-model", default=None, metavar="ID", help="CLIP model id or folder (default openai/clip-vit-large-patch14)")
    parser.add_argument("--top-k", type=int, default=5, metavar="K", help="how many sound tags (default 5)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"), help="device for neural models")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.cli.common import print_json
    from studio.vision import CAPTIONERS, TAGGERS
    from studio.vision.clip_tags import tag_caption
    from studio.vision.intake import load_image

    if args.captioner not in CAPTIONERS:
        raise InputError(f"unknown captioner {args.captioner!r}; choose one of: {', '.join(CAPTIONERS.names())}")
    opts: dict[str, Any] = {}
    if args.captioner == "analysis":
        for flag, value in (("--prompt", args.prompt), ("--model", args.model)):
            if value is not None:
                raise InputError(f"{flag} applies to the neural captioners (blip2, blip), not to 'analysis'")
    else:
        opts["device"] = args.device
        if args.model:
            opts["model_id"] = args.model
        if args.prompt is not None:
            opts["prompt"] = args.prompt
    if not args.tags and (args.tag_model is not None):
        raise InputError("--tag-model needs --tags")

    # Read the image first: a bad file should fail before any model loads.
    image = load_image(args.image)
    caption = CAPTIONERS.create(args.captioner, **opts).caption(image)
    if args.tags:
        tag_opts: dict[str, Any] = {"device": args.device}
        if args.tag_model:
            tag_opts["model_id"] = args.tag_model
        tagger = TAGGERS.create("clip", **tag_opts)
        caption = tag_caption(caption, tagger.tags(image, top_k=args.top_k))

    out: dict[str, Any] = {
        "text": caption.text,
        "source": caption.source,
        "model": caption.model,
        "cues": list(caption.cues),
    }
    if args.tags:
        out["tags"] = [{"label": label, "score": score} for label, score in caption.tags]
    out["image"] = image.info.get("studio", {})
    print_json(out)
    return 0
