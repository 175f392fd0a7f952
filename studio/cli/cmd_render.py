"""``python -m studio render``: image (or caption, or manifest) to mix + stems + manifest.

    python -m studio render IMAGE --out DIR [--seconds S | --minutes M] [--style NAME]
                            [--seed N] [--caption TEXT] [--captioner NAME] [--planner NAME]
    python -m studio render --manifest FILE --out DIR

Everything is validated and generated before anything is written; each output file is
written atomically, so a failure leaves nothing half-written under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.common import add_duration_args, add_seed_arg, add_style_arg, duration_from_args, print_json
from studio.errors import InputError

MIX_FORMATS = ("wav", "flac", "ogg", "mp3")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("render", help="render a soundscape from an image, a caption or a manifest")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image file (JPEG, PNG, WEBP, GIF, BMP, TIFF)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--manifest", metavar="FILE", help="re-render this manifest.json exactly")
    p.add_argument("--caption", metavar="TEXT", help="use this caption instead of captioning the image")
    add_duration_args(p)
    add_style_arg(p)
    add_seed_arg(p)
    p.add_argument("--captioner", default="analysis", metavar="NAME", help="captioner (analysis, blip2, blip)")
    p.add_argument("--planner", default="rules", metavar="NAME", help="planner (rules, llm)")
    p.add_argument("--tagger", default=None, metavar="NAME", help="sound tagger whose tags guide the planner (clip)")
    p.add_argument("--mix-format", default="wav", choices=MIX_FORMATS, help="mix file format (default wav)")
    p.add_argument("--zip", action="store_true", help="also write DIR/soundscape.zip with everything")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a render already in --out (its old stems are removed)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _progress(quiet: bool):
    last = [-1]

    def report(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if not quiet and pct != last[0]:
            last[0] = pct
            sys.stderr.write(f"\r{pct:3d}% {message[:60]:<60}")
            sys.stderr.flush()

    return report


def run(args: argparse.Namespace) -> int:
    from studio.manifest import load_manifest
    from studio.pipeline import DEFAULT_STYLE, SoundscapePipeline, validate_duration, validate_seed
    from studio.planning.styles import load_style

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    if _holds_a_render(out) and not args.overwrite:
        raise InputError(f"--out {str(out)!r} already holds a render; choose a new folder or pass --overwrite")
    pipe = SoundscapePipeline(captioner=args.captioner, planner=args.planner, tagger=args.tagger)
    progress = _progress(args.quiet or not sys.stderr.isatty())
    image_info = image = None

    if args.manifest:
        if args.image or args.caption is not None or args.style or args.seed is not None or duration_from_args(args):
            raise InputError("--manifest re-renders exactly; do not combine it with IMAGE, --caption, --style, --seed or a duration")
        plan = load_manifest(args.manifest)
    else:
        if not args.image and args.caption is None:
            raise InputError("give an IMAGE, --caption TEXT or --manifest FILE")
        style = load_style(args.style or DEFAULT_STYLE)
        duration = duration_from_args(args)
        validate_duration(style.default_duration_s if duration is None else duration)
        seed = validate_seed(args.seed)
        caption = args.caption
        if args.image:
            image = pipe.load_image(args.image)
            image_info = dict(image.info.get("studio", {}))
            if caption is None:
                progress(0.0, "captioning")
                caption = pipe.caption(image)
        plan = pipe.plan(caption, style=style, duration_s=duration, seed=seed)

    scape = pipe.render(plan, progress=progress)
    options = {"mix_format": args.mix_format}
    if args.zip:
        options["zip_name"] = "soundscape.zip"
    paths = pipe.export(scape, out, image_info=image_info, image=image, **options)
    _remove_stale_stems(out, paths)
    if not (args.quiet or not sys.stderr.isatty()):
        sys.stderr.write("\n")
    summary = {
        "out": str(out),
        "files": {k: str(v) for k, v in paths.items()},
        "duration_s": scape.duration_s,
        "integrated_lufs": scape.master.get("integrated_lufs"),
        "true_peak_dbtp": scape.master.get("true_peak_dbtp"),
        "layers": [layer.name for layer in plan.layers],
        "notes": list(dict.fromkeys([*plan.notes, *pipe.notes])),
    }
    lossy = paths.manifest["export"].get("mix_lossy")
    if lossy:
        # What the OGG/MP3 file itself measures once decoded (see docs/mixing.md).
        summary["decoded_mix"] = {k: lossy[k] for k in ("decoded_lufs", "decoded_true_peak_dbtp", "headroom_db", "makeup_db")}
        if lossy["note"]:
            summary["notes"].append(f"{paths['mix'].name}: {lossy['note']}")
    print_json(summary)
    return 0


def _holds_a_render(out: Path) -> bool:
    return out.is_dir() and ((out / "manifest.json").exists() or any((out / "stems").glob("*.*")))


def _remove_stale_stems(out: Path, paths: dict[str, Path]) -> None:
    """After a successful --overwrite, stems of the old render that the new one lacks go."""
    keep = {Path(p).resolve() for key, p in paths.items() if key.startswith("stem:")}
    for old in (out / "stems").glob("*.*"):
        if old.resolve() not in keep and old.is_file():
            old.unlink()
