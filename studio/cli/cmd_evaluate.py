"""``python -m studio evaluate``: render every image of a folder, score it, write a report.

    python -m studio evaluate IMAGES_DIR --out REPORT_DIR [--styles a,b] [--seeds N]
                              [--seconds S | --minutes M] [--workers N | --ray auto|ADDRESS]

Each image is rendered once per style and seed (seeds 0..N-1) by the folder-runner of
``python -m studio batch`` (resumable: finished variants are not rendered again), scored
(studio.evaluation.scores) and written up in REPORT_DIR/report.html and summary.md
(docs/evaluation.md). Default length 10 s per variant: enough for the scores, quick to render.
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.cmd_batch import add_runner_args, start_run
from studio.cli.common import print_json
from studio.errors import InputError

DEFAULT_SECONDS = 10.0
MAX_SEEDS = 16


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="render, score and report on a folder of images")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of images (not recursive)")
    p.add_argument("--out", required=True, metavar="REPORT_DIR", help="report folder (created if missing)")
    p.add_argument("--styles", default=None, metavar="A,B", help="comma-separated styles (default: meditation)")
    p.add_argument("--seeds", type=int, default=1, metavar="N", help=f"seeds 0..N-1 per image and style (1..{MAX_SEEDS}; default 1)")
    add_runner_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.evaluation.report import write_report
    from studio.pipeline import DEFAULT_STYLE

    styles = [s.strip() for s in (args.styles or DEFAULT_STYLE).split(",") if s.strip()]
    if not styles:
        raise InputError("--styles needs at least one style name, e.g. --styles meditation,sleep")
    if isinstance(args.seeds, bool) or not 1 <= args.seeds <= MAX_SEEDS:
        raise InputError(f"--seeds must be from 1 to {MAX_SEEDS}; got {args.seeds}")
    if args.seconds is None and args.minutes is None:
        args.seconds = DEFAULT_SECONDS
    result, problems = start_run(args, list(dict.fromkeys(styles)), list(range(args.seeds)), report_media=True)
    paths = write_report(result.out, result.records, problems=problems)
    if not args.quiet:
        sys.stderr.write(f"report: {paths['html']}\n")
    print_json({
        "out": str(result.out),
        "report": str(paths["html"]),
        "summary": str(paths["markdown"]),
        "variants": len(result.records),
        "rendered": result.rendered,
        "skipped": result.skipped,
        "failed": [{"image": r["image"], "style": r["style"], "seed": r["seed"], "error": r["error"]}
                   for r in result.records if r["status"] != "ok"],
        "not_images": problems,
    })
    return 1 if result.failed else 0
