"""``python -m studio tag AUDIO [--top K] [--tagger NAME]``: sound tags of a recording as JSON,
``{"tags": [{"label", "score"}, ...], "tagger", "model", "audio", "notes"?}``."""

from __future__ import annotations

import argparse
from typing import Any


def add_audio_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="WAV, FLAC, OGG or MP3 file, 1 s to 60 min")
    parser.add_argument("--tagger", default=None, choices=("features", "clap", "ast"),
                        help="features (offline), clap or ast; default: clap when its model is here, else features")
    parser.add_argument("--tag-model", default=None, metavar="ID", help="model id or folder for clap/ast")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"), help="device for neural models")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tag", help="tag a recording with sound labels and print JSON",
                                   description="Tag a recording (WAV, FLAC, OGG, MP3) with sound labels; prints JSON.")
    add_audio_args(parser)
    parser.add_argument("--top", type=int, default=5, metavar="K", help="how many tags (1..50, default 5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.cli.common import print_json
    from studio.reverse.pipeline import tag_audio

    result = tag_audio(args.audio, top_k=args.top, tagger=args.tagger, model_id=args.tag_model, device=args.device)
    print_json(result.to_json())
    return 0
