"""``python -m studio render``: image (or caption, or manifest) to mix + stems + manifest.

    python -m studio render IMAGE --out DIR [--seconds S | --minutes M] [--style NAME] [--seed N]
                            [--caption TEXT] [--captioner NAME] [--planner NAME]
                            [--preset spotify|youtube|apple-podcasts | --lufs L --ceiling C]
                            [--fade-in-s S] [--fade-out-s S] [--loop-ready] [--samples DIR] [--no-recordings]
                            [--mix-format wav|flac|ogg|mp3] [--stem-format flac|wav] [--zip]
    python -m studio render --manifest FILE --out DIR

Defaults are the app's (``studio.defaults``): meditation, 10 minutes, seed 7, the style's own
loudness, WAV mix, FLAC 24-bit stems. The output folder and the export settings are checked
before any work (an unwritable ``--out`` fails in milliseconds); everything is generated before
anything is written, and each output file is written atomically, so a failure leaves nothing
half-written under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio import defaults
from studio.cli.common import add_duration_args, add_seed_arg, add_style_arg, duration_from_args, print_json
from studio.errors import InputError

# Flags that change what is rendered: a manifest re-renders exactly, so they do not combine with it.
PLAN_FLAGS = ("image", "caption", "style", "seed", "seconds", "minutes", "preset", "target_lufs", "ceiling_dbtp",
              "fade_in_s", "fade_out_s")


def register(subparsers: argparse._SubParsersAction) -> None:
    from studio.export import MIX_FORMATS, STEM_FORMATS
    from studio.mixing.presets import MASTER_PRESETS

    platforms = [name for name, p in MASTER_PRESETS.items() if p.target_lufs is not None]
    p = subparsers.add_parser("render", help="render a soundscape from an image, a caption or a manifest")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image file (JPEG, PNG, WEBP, GIF, BMP, TIFF)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--manifest", metavar="FILE", help="re-render this manifest.json exactly")
    p.add_argument("--caption", metavar="TEXT", help="use this caption instead of captioning the image (at most 2000 characters)")
    add_duration_args(p)
    add_style_arg(p)
    add_seed_arg(p)
    p.add_argument("--captioner", default=defaults.CAPTIONER, metavar="NAME", help=f"captioner (analysis, blip2, blip); default {defaults.CAPTIONER}")
    p.add_argument("--planner", default=defaults.PLANNER, metavar="NAME", help=f"planner (rules, llm); default {defaults.PLANNER}")
    p.add_argument("--tagger", default=None, metavar="NAME", help="sound tagger whose tags guide the planner (clip)")
    loud = p.add_argument_group("loudness (default: the style's own target and ceiling)")
    loud.add_argument("--preset", choices=platforms, default=defaults.LOUDNESS_PRESET,
                      help="platform loudness: " + "; ".join(MASTER_PRESETS[n].description for n in platforms))
    loud.add_argument("--lufs", "--target-lufs", dest="target_lufs", type=float, metavar="LUFS",
                      help="your own integrated loudness target (-40..-5 LUFS)")
    loud.add_argument("--ceiling", "--ceiling-dbtp", dest="ceiling_dbtp", type=float, metavar="DBTP",
                      help="your own true-peak ceiling (-12..0 dBTP)")
    src = p.add_argument_group("sources")
    src.add_argument("--samples", metavar="DIR", default=None,
                     help="your own folder of recordings (WAV/FLAC/OGG/MP3, any layout), used beside the bundled ones")
    src.add_argument("--no-recordings", dest="recordings", action="store_false",
                     help="synthesise every layer instead of using real recordings where they fit")
    exp = p.add_argument_group("export")
    exp.add_argument("--fade-in-s", type=float, metavar="S", help="fade-in length in seconds (default: the style's)")
    exp.add_argument("--fade-out-s", type=float, metavar="S", help="fade-out length in seconds (default: the style's)")
    exp.add_argument("--loop-ready", action="store_true",
                     help="also write DIR/mix-loop.<ext>: no fades, plays gaplessly on repeat")
    exp.add_argument("--mix-format", default=defaults.MIX_FORMAT, choices=list(MIX_FORMATS),
                     help=f"mix file format (default {defaults.MIX_FORMAT})")
    exp.add_argument("--stem-format", default=defaults.STEM_FORMAT, choices=list(STEM_FORMATS),
                     help="stem format: flac (24-bit, default) or wav (32-bit float)")
    exp.add_argument("--zip", action="store_true", help="also write DIR/soundscape.zip with everything")
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


def _export_options(args: argparse.Namespace) -> dict:
    options = {"mix_format": args.mix_format, "stem_format": args.stem_format, "loop_ready": args.loop_ready}
    if args.zip:
        options["zip_name"] = "soundscape.zip"
    return options


def preflight(args: argparse.Namespace) -> Path:
    """Everything that can be checked before any work: the output folder (writable, not holding
    a render unless --overwrite), the export settings, and flags that do not combine."""
    from studio.export import check_export_options, check_output_folder

    out = Path(args.out)
    check_output_folder(out)
    if _holds_a_render(out) and not args.overwrite:
        raise InputError(f"--out {str(out)!r} already holds a render; choose a new folder or pass --overwrite")
    options = _export_options(args)
    options.pop("loop_ready")
    check_export_options(**options)
    if args.manifest:
        given = [f"--{name.replace('_', '-')}" if name != "image" else "IMAGE" for name in PLAN_FLAGS
                 if getattr(args, name, None) not in (None, False)]
        if given:
            raise InputError(f"--manifest re-renders exactly; do not combine it with {', '.join(given)}")
    elif not args.image and args.caption is None:
        raise InputError("give an IMAGE, --caption TEXT or --manifest FILE")
    if args.preset and (args.target_lufs is not None or args.ceiling_dbtp is not None):
        raise InputError(f"--preset {args.preset} sets the loudness and ceiling itself; "
                         "give either --preset or your own --lufs/--ceiling")
    return out


def master_settings(args: argparse.Namespace, style) -> dict:
    """MasterSpec fields from --preset / --lufs / --ceiling / --fade-*-s (empty: the style's)."""
    from studio.mixing.presets import MASTER_PRESETS

    update: dict = {}
    if args.preset:
        p = MASTER_PRESETS[args.preset]
        update = {"preset": p.name, "target_lufs": p.target_lufs, "ceiling_dbtp": p.ceiling_dbtp}
    elif args.target_lufs is not None or args.ceiling_dbtp is not None:
        update = {"preset": "custom",
                  "target_lufs": style.target_lufs if args.target_lufs is None else args.target_lufs,
                  "ceiling_dbtp": style.ceiling_dbtp if args.ceiling_dbtp is None else args.ceiling_dbtp}
    for name in ("fade_in_s", "fade_out_s"):
        if getattr(args, name) is not None:
            update[name] = getattr(args, name)
    return update


def _with_master(plan, update: dict):
    """``plan`` with its master fields updated (validated); ``plan=None`` only validates."""
    from pydantic import ValidationError

    from studio.types import MasterSpec, validation_message

    if not update:
        return plan
    base = MasterSpec() if plan is None else plan.master
    try:
        master = MasterSpec.model_validate({**base.model_dump(), **update})
    except ValidationError as exc:
        raise InputError(f"invalid loudness or fade setting: {validation_message(exc)}") from None
    return None if plan is None else plan.model_copy(update={"master": master})


def run(args: argparse.Namespace) -> int:
    from studio.credits import credit_line
    from studio.manifest import plan_from_manifest, read_manifest
    from studio.pipeline import SoundscapePipeline, user_caption, validate_duration, validate_seed
    from studio.planning.styles import load_style

    out = preflight(args)
    backend_options = {}
    if args.samples is not None:
        folder = Path(args.samples).expanduser()
        if not folder.is_dir():
            raise InputError(f"--samples {args.samples!r} is not a folder; give a folder of WAV, FLAC, OGG or MP3 files")
        backend_options["samples"] = {"folder": str(folder)}
    pipe = SoundscapePipeline(captioner=args.captioner, planner=args.planner, tagger=args.tagger,
                              backend_options=backend_options, recordings=args.recordings)
    progress = _progress(args.quiet or not sys.stderr.isatty())
    image_info = image = None

    if args.manifest:
        data = read_manifest(args.manifest)
        plan = plan_from_manifest(data)
        image_info = data.get("image") or None  # the image facts travel with the re-render
    else:
        style = load_style(args.style or defaults.STYLE)
        duration = duration_from_args(args)
        duration = validate_duration(defaults.DURATION_S if duration is None else duration)
        seed = validate_seed(defaults.SEED if args.seed is None else args.seed)
        caption = None if args.caption is None else user_caption(args.caption)
        update = master_settings(args, style)
        _with_master(None, update)  # bad values fail here, before any work
        if args.image:
            image = pipe.load_image(args.image)
            image_info = dict(image.info.get("studio", {}))
            if caption is None:
                progress(0.0, "captioning")
                caption = pipe.caption(image)
        plan = _with_master(pipe.plan(caption, style=style, duration_s=duration, seed=seed), update)

    scape = pipe.render(plan, progress=progress)
    paths = pipe.export(scape, out, image_info=image_info, image=image, **_export_options(args))
    _remove_stale_stems(out, paths)
    if not (args.quiet or not sys.stderr.isatty()):
        sys.stderr.write("\n")
    summary = {
        "out": str(out),
        "files": {k: str(v) for k, v in paths.items()},
        "duration_s": scape.duration_s,
        "integrated_lufs": scape.master.get("integrated_lufs"),
        "true_peak_dbtp": scape.master.get("true_peak_dbtp"),
        "target_lufs": scape.plan.master.target_lufs,
        "ceiling_dbtp": scape.plan.master.ceiling_dbtp,
        "preset": scape.plan.master.preset,
        "layers": [layer.name for layer in plan.layers],
        "notes": list(dict.fromkeys([*plan.notes, *scape.notes(pipe.notes)])),
        "credits": [credit_line(c) for c in paths.manifest.get("credits", [])],
    }
    export = paths.manifest["export"]
    lossy = export.get("mix_lossy")
    if lossy:
        # What the OGG/MP3 file itself measures once decoded (see docs/mixing.md).
        summary["decoded_mix"] = {k: lossy[k] for k in ("decoded_lufs", "decoded_true_peak_dbtp", "headroom_db", "makeup_db")}
        if lossy["note"]:
            summary["notes"].append(f"{paths['mix'].name}: {lossy['note']}")
    if export.get("stems_clipped"):
        summary["notes"].append(f"stems louder than full scale were clipped: {', '.join(export['stems_clipped'])}; "
                                "use --stem-format wav (32-bit float) to keep them whole")
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
