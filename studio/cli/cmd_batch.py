"""``python -m studio batch``: render every image of a folder, resumably.

    python -m studio batch IMAGES_DIR --out DIR [--workers N | --ray auto|ADDRESS]
                           [--style NAME] [--seed N] [--seconds S | --minutes M]
                           [--captioner NAME] [--planner NAME]

Writes ``DIR/items/<key>/`` (mix, stems, manifest.json, record.json) per image and
``DIR/summary.csv``; re-running skips finished images. A bad image prints one ``error:`` line and
the batch goes on; the exit code is 1 when any image failed (see docs/api.md).
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.common import add_duration_args, add_seed_arg, add_style_arg, duration_from_args, print_json


def add_runner_args(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``batch`` and ``evaluate`` (one folder-runner, studio.batch)."""
    add_duration_args(p)
    p.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                   help="run one Ray task per image: 'auto' (a running cluster, else a local one) or a cluster address")
    p.add_argument("--captioner", default="analysis", metavar="NAME", help="captioner (analysis, blip2, blip)")
    p.add_argument("--planner", default="rules", metavar="NAME", help="planner (rules, llm)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (error lines are still printed)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("batch", help="render every image in a folder (resumable; local workers or Ray)")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of images (not recursive)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    add_style_arg(p)
    add_seed_arg(p)
    p.add_argument("--mix-format", default="wav", choices=("wav", "flac", "ogg", "mp3"), help="mix file format")
    add_runner_args(p)
    p.set_defaults(func=run)


def start_run(args: argparse.Namespace, styles: list[str], seeds: list[int], *, report_media: bool, mix_format: str = "wav"):
    """Validate the shared flags, print skipped files, and run the folder."""
    from studio.batch import FolderRun, RenderOptions, find_images, plan_items
    from studio.pipeline import validate_duration, validate_seed
    from studio.planning.styles import load_style

    for style in styles:
        load_style(style)  # an unknown style fails before anything runs
    for seed in seeds:
        validate_seed(seed)
    duration = duration_from_args(args)
    if duration is not None:
        validate_duration(duration)
    images, problems = find_images(args.images)
    for line in problems:
        sys.stderr.write(line + "\n")
    options = RenderOptions(duration_s=duration, captioner=args.captioner, planner=args.planner,
                            mix_format=mix_format, report_media=report_media)
    runner = FolderRun(args.out, plan_items(images, styles, seeds), options, workers=args.workers, ray=args.ray,
                       progress=None if args.quiet else sys.stderr)
    result = runner.run()
    if args.quiet:  # error lines are never silenced
        for record in result.records:
            if record["status"] != "ok":
                sys.stderr.write(f"error: {record['image']}: {record['error']}\n")
    return result, problems


def run(args: argparse.Namespace) -> int:
    from studio.pipeline import DEFAULT_STYLE

    result, problems = start_run(args, [args.style or DEFAULT_STYLE], [args.seed or 0], report_media=False,
                                 mix_format=args.mix_format)
    print_json({
        "out": str(result.out),
        "summary_csv": str(result.out / "summary.csv"),
        "items": len(result.records),
        "rendered": result.rendered,
        "skipped": result.skipped,
        "failed": [{"image": r["image"], "error": r["error"]} for r in result.records if r["status"] != "ok"],
        "not_images": problems,
    })
    return 1 if result.failed else 0
