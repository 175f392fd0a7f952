"""Export validation: formats and names checked, and the output folder probed, before any work
(:func:`check_export_options`, :func:`check_output_folder`; the CLI runs both first)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional

from studio.atomic import probe_writable
from studio.defaults import MIX_FORMAT as DEFAULT_MIX_FORMAT
from studio.defaults import STEM_FORMAT as DEFAULT_STEM_FORMAT
from studio.errors import ExportError

# The one list of mix formats (CLI choices, the app's and the library's formats read it):
# format -> (libsndfile major format, allowed subtypes, default subtype)
MIX_FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "wav": ("WAV", ("PCM_24", "PCM_16", "FLOAT"), "PCM_24"),
    "flac": ("FLAC", ("PCM_24", "PCM_16"), "PCM_24"),
    "ogg": ("OGG", ("VORBIS",), "VORBIS"),
    "mp3": ("MP3", ("MPEG_LAYER_III",), "MPEG_LAYER_III"),
}
STEM_FORMATS = ("wav", "flac")
LOSSY_FORMATS = frozenset({"ogg", "mp3"})  # kept under the ceiling after decoding (studio.mixing.lossy)
# Stems default to FLAC 24-bit (lossless, a third of float WAV's size). Stems are printed at mix level
# (after the slow ride and the master gain, before bass mono and the limiter), so they sum to the mix
# and an integer stem clips only where the mix itself would (reported in the manifest); WAV stems
# default to 32-bit float, which never clips.
STEM_DEFAULT_SUBTYPE = {"wav": "FLOAT", "flac": "PCM_24"}
RESERVED_NAMES = frozenset({"manifest.json", "stems"})


def _check_format(fmt: str, subtype: Optional[str], allowed: Iterable[str], what: str) -> tuple[str, str, str]:
    fmt = str(fmt).lower().lstrip(".")
    allowed = tuple(allowed)
    if fmt not in allowed:
        raise ExportError(f"unsupported {what} format {fmt!r}; choose one of: {', '.join(allowed)}")
    major, subtypes, default = MIX_FORMATS[fmt]
    sub = (subtype or default).upper()
    if sub not in subtypes:
        raise ExportError(f"unsupported {fmt} subtype {subtype!r}; choose one of: {', '.join(subtypes)}")
    return fmt, major, sub


@dataclass(frozen=True)
class ExportOptions:
    """Checked export settings (see :func:`check_export_options`)."""

    mix: tuple[str, str, str]  # (format, libsndfile major format, subtype)
    stem: tuple[str, str, str]
    zip_name: Optional[str]
    extra_files: tuple[tuple[str, bytes], ...]


def check_export_options(
    *,
    mix_format: str = DEFAULT_MIX_FORMAT,
    mix_subtype: Optional[str] = None,
    stem_format: str = DEFAULT_STEM_FORMAT,
    stem_subtype: Optional[str] = None,
    zip_name: Optional[str] = None,
    extra_files: Optional[Mapping[str, str | bytes]] = None,
) -> ExportOptions:
    """Validate formats, the zip name and extra file names (ExportError when one is not allowed).
    Cheap: callers run it before any work, as the CLI does."""
    mix = _check_format(mix_format, mix_subtype, MIX_FORMATS, "mix")
    stem_key = str(stem_format).lower().lstrip(".")
    stem = _check_format(stem_format, stem_subtype or STEM_DEFAULT_SUBTYPE.get(stem_key), STEM_FORMATS, "stem")
    if zip_name is not None:
        zip_name = _plain_name(str(zip_name), "zip_name", "soundscape.zip")
        if not zip_name.lower().endswith(".zip"):
            zip_name += ".zip"
    extras = []
    for name, data in (extra_files or {}).items():
        name = _plain_name(str(name), "an extra file", "CREDITS.txt")
        if name in RESERVED_NAMES or name == zip_name or name.startswith("mix.") or name.startswith("mix-loop."):
            raise ExportError(f"extra file {name!r} would replace one of the export's own files; choose another name")
        extras.append((name, data.encode("utf-8") if isinstance(data, str) else bytes(data)))
    return ExportOptions(mix, stem, zip_name, tuple(extras))


def _plain_name(name: str, what: str, example: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ExportError(f"{what} must be a plain file name like {example!r}; got {name!r}")
    return name


def check_output_folder(out: Path) -> None:
    """Pre-flight: ``out`` (or, when it does not exist yet, its nearest existing parent) is a
    folder this process can create files in. Creates nothing; ExportError otherwise. Milliseconds,
    so commands run it before any work."""
    p = Path(out)
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    if not p.is_dir():
        raise ExportError(f"{p} exists and is not a folder; choose another output folder")
    stems = Path(out) / "stems"
    folders = [p] + ([stems] if p == Path(out) and stems.exists() else [])
    for folder in folders:
        if not folder.is_dir():
            raise ExportError(f"{folder} exists and is not a folder; choose another output folder")
        try:
            probe_writable(folder)
        except OSError as exc:
            raise ExportError(_write_error_message(Path(out), exc, written=False)) from None


def _write_error_message(out: Path, exc: OSError, written: bool = True) -> str:
    import errno

    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "free some disk space or choose another folder",
        errno.EDQUOT: "free some disk space or choose another folder",
        errno.EACCES: "choose a folder you can write to",
        errno.EPERM: "choose a folder you can write to",
        errno.EROFS: "choose a folder you can write to",
    }.get(exc.errno or -1, "check the folder and try again")
    if not written:
        return f"cannot write to {out}: {reason}; {hint} (checked before any work)"
    return f"could not write the export to {out}: {reason}; {hint} (no partial file was left there)"

