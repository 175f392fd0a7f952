"""Export a rendered soundscape: the mix, one stem per layer, the manifest, optionally a zip.

Layout written under ``out_dir`` (created if missing)::

    mix.<ext>                       48 kHz stereo, mastered (wav/flac/ogg/mp3)
    mix-loop.<ext>                  with loop_ready=True: gapless on repeat (see docs/mixing.md)
    stems/NN-<role>-<name>.<ext>    NN = 1-based layer index; stereo, the mix's exact length,
                                    after the layer's gain/pan/width/mute/solo, before the master
    manifest.json                   the given manifest plus "outputs", "export" (and "master" if absent)
    CREDITS.txt                     the recordings used, with author, licence and link (studio.credits)
    <zip_name>                      with zip_name: all of the above in one zip

Everything is streamed: one pass renders each chunk of every stem once, writes it, sums it and
masters the sum, so memory stays bounded for 60-minute tracks. Every file (audio, manifest, zip)
is written to a hidden temp file in its final folder and fsynced; only when all of them are
complete are they renamed into place, so a failure (disk full, unwritable folder, Ctrl-C) never
leaves a partial or mismatched set: the temp files and anything this call created are removed,
and files of an earlier export stay as they were. Output bytes are a pure
function of the soundscape (no timestamps), so a re-export is byte-identical in every format
(OGG after pinning the random stream serial libsndfile picks, see studio/mixing/ogg.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

import numpy as np

from studio.atomic import AtomicFile, fsync_dir
from studio.credits import CREDITS_NAME, credits_text
from studio.errors import ExportError, StudioError
from studio.types import Progress, Soundscape, no_progress

# format -> (libsndfile major format, allowed subtypes, default subtype)
MIX_FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "wav": ("WAV", ("PCM_24", "PCM_16", "FLOAT"), "PCM_24"),
    "flac": ("FLAC", ("PCM_24", "PCM_16"), "PCM_24"),
    "ogg": ("OGG", ("VORBIS",), "VORBIS"),
    "mp3": ("MP3", ("MPEG_LAYER_III",), "MPEG_LAYER_III"),
}
STEM_FORMATS = ("wav", "flac")
LOSSY_FORMATS = frozenset({"ogg", "mp3"})  # kept under the ceiling after decoding (studio.mixing.lossy)
# libsndfile's compression_level (0 best .. 1 smallest) for publishing-quality lossy files: MP3
# 0.0 is LAME's best VBR (~250 kb/s), OGG 0.2 is Vorbis ~q8 (~260 kb/s). libsndfile's defaults
# (~150 kb/s MP3) overshoot the ceiling by more once decoded and sound duller.
LOSSY_COMPRESSION_LEVEL = {"mp3": 0.0, "ogg": 0.2}
# Stems are pre-master: with a negative master gain they can exceed full scale, so WAV stems
# default to 32-bit float (no clipping, and their sum through the master gain is exact).
STEM_DEFAULT_SUBTYPE = {"wav": "FLOAT", "flac": "PCM_24"}
SOFTWARE = "Soundscape Studio"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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


class _ErrorRecordingFile:
    """The file object handed to libsndfile: it keeps the first OSError of a write (disk full,
    I/O error) instead of raising it inside libsndfile's C callback, where it would be printed
    and turned into an unclear failure; the sink raises it afterwards."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.error: Optional[OSError] = None

    def write(self, data: Any) -> int:
        if self.error is not None:
            return 0
        try:
            written = self.fh.write(data)
        except OSError as exc:
            self.error = exc
            return 0
        return len(memoryview(data).cast("B")) if written is None else written

    def read(self, n: int = -1) -> bytes:
        return self.fh.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def flush(self) -> None:
        self.fh.flush()


class _Encoder:
    """Streams float32 ``(2, n)`` chunks into one audio format on an open binary file (a temp
    file of an export, or a BytesIO for a download): our WAV writer, or libsndfile for the
    rest, with the tags of ``info`` and the OGG stream serial pinned."""

    def __init__(self, fh: Any, name: str, fmt: str, major: str, subtype: str, sample_rate: int, frames: int,
                 info: Mapping[str, str], dither_seed: int) -> None:
        self.fh, self.name, self.fmt = fh, name, fmt
        self.finished = False
        self.wav = None
        self.sf = None
        if fmt == "wav":
            from studio.mixing.wav import WavWriter

            self.wav = WavWriter(fh, sample_rate, 2, frames, subtype, info, dither_seed)
            return
        import soundfile as sf

        self.io = _ErrorRecordingFile(fh)
        try:
            self.sf = sf.SoundFile(self.io, "w", samplerate=sample_rate, channels=2, format=major, subtype=subtype,
                                   compression_level=LOSSY_COMPRESSION_LEVEL.get(fmt))
        except Exception as exc:  # noqa: BLE001 - libsndfile says "Format not recognised" and the like
            if self.io.error is not None:
                raise self.io.error from None
            raise ExportError(f"this machine's libsndfile cannot write {name} as {fmt} ({exc}); "
                              "choose another format") from None
        for key in ("title", "comment", "software", "artist", "genre"):
            if info.get(key):
                try:
                    setattr(self.sf, key, str(info[key]))
                except Exception:  # noqa: BLE001 - formats without that tag simply skip it
                    pass

    def _call(self, call: Callable[[], Any]) -> None:
        """Run a libsndfile call; a write error it swallowed is raised as the OSError it was."""
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - libsndfile reports short writes in many ways
            if self.io.error is not None:
                raise self.io.error from None
            raise ExportError(f"could not encode {self.name} as {self.fmt}: {exc}") from None
        if self.io.error is not None:
            raise self.io.error

    def write(self, x: np.ndarray) -> None:
        if self.wav is not None:
            self.wav.write(x)
        else:
            self._call(lambda: self.sf.write(np.ascontiguousarray(x.T)))

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.wav is not None:
            self.wav.close()
            return
        self._call(self.sf.close)
        if self.fmt == "ogg":
            # libsndfile picks a random Ogg serial; pin it so re-exports are byte-identical.
            from studio.mixing.ogg import fix_serial

            self.fh.flush()
            self.fh.seek(0)
            data = fix_serial(self.fh.read())
            self.fh.seek(0)
            self.fh.write(data)
            self.fh.truncate()
        self.fh.flush()

    def abort(self) -> None:
        if self.sf is not None and not self.sf.closed:
            try:
                self.sf.close()
            except Exception:  # noqa: BLE001 - already failing; the output is thrown away
                pass


class _AudioSink:
    """One output audio file: an :class:`_Encoder` on a temp file, renamed on commit."""

    def __init__(self, path: Path, fmt: str, major: str, subtype: str, sample_rate: int, frames: int,
                 info: Mapping[str, str], dither_seed: int) -> None:
        self.path = path
        self.atomic = AtomicFile(path)
        self.encoder: Optional[_Encoder] = None
        try:
            self.encoder = _Encoder(self.atomic.fh, path.name, fmt, major, subtype, sample_rate, frames, info, dither_seed)
        except BaseException:
            self.discard()  # no temp file outlives a sink that could not be opened
            raise

    def write(self, x: np.ndarray) -> None:
        self.encoder.write(x)

    def finish(self) -> None:
        self.encoder.finish()

    def commit(self) -> Path:
        return self.atomic.commit()

    def discard(self) -> None:
        if self.encoder is not None:
            self.encoder.abort()
        self.atomic.discard()


class ExportResult(dict):
    """What :func:`export_soundscape` wrote: output paths by key, and ``manifest``, the
    manifest dict as written (so callers need not read the file back)."""

    manifest: dict[str, Any]


class _RawMix:
    """Mastered float32 frames in an anonymous temp file (gone when closed or on a crash)."""

    BLOCK_FRAMES = 1 << 18

    def __init__(self, folder: Path) -> None:
        import tempfile

        self.fh = tempfile.TemporaryFile(dir=str(folder), prefix=".mix-", suffix=".f32")

    def write(self, x: np.ndarray) -> None:
        self.fh.write(np.ascontiguousarray(x.T, dtype=np.float32).tobytes())

    def chunks(self) -> Iterator[np.ndarray]:
        self.fh.flush()
        self.fh.seek(0)
        while True:
            data = self.fh.read(self.BLOCK_FRAMES * 8)
            if not data:
                return
            yield np.frombuffer(data, np.float32).reshape(-1, 2).T.copy()

    def close(self) -> None:
        self.fh.close()


def _encode_lossy(soundscape: Soundscape, path: Path, fmt: str, major: str, subtype: str, seed: int,
                  chunks: Callable[[], Iterable[np.ndarray]], frames: int, info: Mapping[str, str],
                  start_headroom_db: Optional[float] = None):
    """Encode a mastered stream (``chunks()`` gives it afresh for each try) as OGG/MP3 whose
    decoded true peak stays under the master's ceiling (studio.mixing.lossy). Returns the kept,
    finished sink and the report; discarded tries leave nothing."""
    from studio.mixing.lossy import START_HEADROOM_DB, encode_within_ceiling, limited, measure_decoded

    sr, ceiling = soundscape.sample_rate, float(soundscape.plan.master.ceiling_dbtp)

    def encode(headroom_db: float, makeup_db: float) -> _AudioSink:
        sink = _AudioSink(path, fmt, major, subtype, sr, frames, info, seed)
        try:
            for chunk in limited(chunks(), ceiling, headroom_db, sr, makeup_db):
                sink.write(chunk)
            sink.finish()
        except BaseException:
            sink.discard()
            raise
        return sink

    def measure(sink: _AudioSink):
        try:
            return measure_decoded(sink.atomic.tmp)
        except BaseException:
            sink.discard()
            raise

    start = START_HEADROOM_DB if start_headroom_db is None else start_headroom_db
    return encode_within_ceiling(encode, measure, ceiling, _reference_lufs(soundscape), start, discard=_AudioSink.discard)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return obj.as_posix()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Deterministic JSON (sorted keys, 2-space indent, UTF-8, trailing newline)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n").encode("utf-8")


def stem_filename(index: int, role: str, name: str, ext: str) -> str:
    return f"{index + 1:02d}-{role}-{name}.{ext}"


def _info(soundscape: Soundscape, title: Optional[str], layer: Optional[str] = None) -> dict[str, str]:
    plan = soundscape.plan
    name = title or f"Soundscape ({plan.style})"
    if layer:
        name = f"{name} - {layer}"
    return {
        "title": name,
        "comment": f"style={plan.style}; seed={plan.seed}; duration_s={plan.duration_s:g}",
        "software": SOFTWARE,
        "genre": "Ambient",
    }


def export_soundscape(
    soundscape: Soundscape,
    out_dir: os.PathLike | str,
    *,
    manifest: Mapping[str, Any],
    mix_format: str = "wav",
    mix_subtype: Optional[str] = None,
    stem_format: str = "wav",
    stem_subtype: Optional[str] = None,
    zip_name: Optional[str] = None,
    loop_ready: bool = False,
    title: Optional[str] = None,
    progress: Optional[Progress] = None,
) -> "ExportResult":
    """Write the mix, stems, manifest (and optionally a loop-ready mix and a zip) atomically.

    Returns paths keyed ``"mix"``, ``"stem:NN"`` (one per layer, NN 1-based), ``"manifest"``,
    and ``"mix_loop"``/``"zip"`` when asked, with the manifest as written in ``.manifest``
    (its ``export`` entry holds the lossy report, see studio.mixing.lossy). ``mix_subtype`` defaults to PCM_24 for WAV/FLAC.
    Stems default to WAV 32-bit float (``stem_subtype`` PCM_24/PCM_16 for integer WAV) or FLAC
    PCM_24. Raises :class:`ExportError` for bad formats or when
    writing fails; nothing this call created is left behind on failure.
    """
    progress = progress or no_progress
    mix_fmt, mix_major, mix_sub = _check_format(mix_format, mix_subtype, MIX_FORMATS, "mix")
    stem_key = str(stem_format).lower().lstrip(".")
    stem_fmt, stem_major, stem_sub = _check_format(
        stem_format, stem_subtype or STEM_DEFAULT_SUBTYPE.get(stem_key), STEM_FORMATS, "stem"
    )
    if zip_name is not None:
        zip_name = str(zip_name)
        if not zip_name or "/" in zip_name or "\\" in zip_name or zip_name.startswith("."):
            raise ExportError(f"zip_name must be a plain file name like 'soundscape.zip'; got {zip_name!r}")
        if not zip_name.lower().endswith(".zip"):
            zip_name += ".zip"

    out = Path(out_dir)
    sr, frames = soundscape.sample_rate, soundscape.frames
    stems_dir = out / "stems"
    mix_path = out / f"mix.{mix_fmt}"
    stem_paths = [stems_dir / stem_filename(i, stem.spec.role, stem.spec.name, stem_fmt)
                  for i, stem in enumerate(soundscape.stems)]
    loop_path = out / f"mix-loop.{mix_fmt}" if loop_ready else None
    manifest_path = out / "manifest.json"
    credits_path = out / CREDITS_NAME
    zip_path = out / zip_name if zip_name else None

    outputs: dict[str, Any] = {"mix": mix_path.name, "stems": [f"stems/{p.name}" for p in stem_paths],
                               "credits": CREDITS_NAME}
    if loop_path is not None:
        outputs["mix_loop"] = loop_path.name
    if zip_name:
        outputs["zip"] = zip_name
    full = dict(manifest)
    full["outputs"] = outputs
    full.setdefault("master", dict(soundscape.master))
    full["export"] = {
        "mix_format": mix_fmt,
        "mix_subtype": mix_sub,
        "stem_format": stem_fmt,
        "stem_subtype": stem_sub,
        "sample_rate": sr,
        "channels": 2,
        "frames": frames,
        "duration_s": frames / sr,
        "loop_ready": bool(loop_ready),
    }
    try:
        # Before anything is written: a manifest that cannot be saved must not cost the export.
        manifest_data = manifest_bytes(full)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"the manifest cannot be written as JSON ({exc}); nothing was exported") from None

    created: list[Path] = []  # files and folders this call created, removed on failure
    pending: list[AtomicFile] = []  # complete temp files, renamed into place at the very end
    sinks: list[_AudioSink] = []
    cleanup: list[Callable[[], None]] = []
    try:
        _make_dirs(out, created)
        _make_dirs(stems_dir, created)
        seed = int(soundscape.plan.seed)
        mix_info = _info(soundscape, title)
        stem_sinks: list[_AudioSink] = []
        for i, (stem, p) in enumerate(zip(soundscape.stems, stem_paths)):
            sink = _AudioSink(p, stem_fmt, stem_major, stem_sub, sr, frames, _info(soundscape, title, stem.spec.name), seed + i + 1)
            sinks.append(sink)  # at once: a failure opening the next one discards this one
            stem_sinks.append(sink)
        lossy = mix_fmt in LOSSY_FORMATS
        if lossy:
            # The mastered mix goes to an anonymous temp file first: the lossy encode may run more
            # than once (studio.mixing.lossy) and must not re-render every layer to do so.
            raw = _RawMix(out)
            cleanup.append(raw.close)
            mix_writer = raw.write
        else:
            mix_sink = _AudioSink(mix_path, mix_fmt, mix_major, mix_sub, sr, frames, mix_info, seed)
            sinks.append(mix_sink)
            mix_writer = mix_sink.write
        done = 0
        for mix, stems in soundscape.iter_mix(with_stems=True):
            mix_writer(mix)
            for sink, chunk in zip(stem_sinks, stems):
                sink.write(chunk)
            done += mix.shape[1]
            progress(0.9 * done / max(1, frames), "writing mix and stems")
        if lossy:
            progress(0.9, f"encoding {mix_fmt} under the ceiling")
            mix_sink, report = _encode_lossy(soundscape, mix_path, mix_fmt, mix_major, mix_sub, seed, raw.chunks, frames, mix_info)
            sinks.append(mix_sink)
            full["export"]["mix_lossy"] = report.as_dict()
        loop_sink: Optional[_AudioSink] = None
        if loop_path is not None:
            from studio.mixing.loop_ready import iter_loop_mix, loop_frames

            loop_info = _info(soundscape, title and f"{title} (loop)")
            if lossy:
                loop_sink, loop_report = _encode_lossy(soundscape, loop_path, mix_fmt, mix_major, mix_sub, seed,
                                                       lambda: iter_loop_mix(soundscape), loop_frames(soundscape),
                                                       loop_info, report.headroom_db)
                full["export"]["mix_loop_lossy"] = loop_report.as_dict()
                sinks.append(loop_sink)
            else:
                loop_sink = _AudioSink(loop_path, mix_fmt, mix_major, mix_sub, sr, loop_frames(soundscape), loop_info, seed)
                sinks.append(loop_sink)
                for chunk in iter_loop_mix(soundscape):
                    loop_sink.write(chunk)
            progress(0.95, "writing loop")
        if lossy:
            manifest_data = manifest_bytes(full)  # now with the lossy reports
        for sink in sinks:
            sink.finish()
        ordered = [mix_sink, *stem_sinks, *([loop_sink] if loop_sink is not None else [])]  # the zip's member order
        pending.extend(sink.atomic for sink in ordered)
        manifest_file = AtomicFile(manifest_path)
        pending.append(manifest_file)
        manifest_file.fh.write(manifest_data)
        credits_file = AtomicFile(credits_path)
        pending.append(credits_file)
        credits_file.fh.write(credits_text(full.get("credits") or [], title=title or "").encode("utf-8"))
        for af in pending:
            af.fh.flush()
        if zip_path is not None:
            members = [(a.final.relative_to(out).as_posix(), a.tmp) for a in pending]
            zip_file = AtomicFile(zip_path)
            pending.append(zip_file)
            _write_zip(zip_file, members)
        progress(0.99, "saving")
        # Everything is complete on disk: now put it in place.
        for af in pending:
            existed = af.final.exists()
            af.commit()
            if not existed:
                created.append(af.final)
        fsync_dir(out)
        fsync_dir(stems_dir)

        result = ExportResult({"mix": mix_path, "manifest": manifest_path, "credits": credits_path})
        result.manifest = full
        for i, p in enumerate(stem_paths):
            result[f"stem:{i + 1:02d}"] = p
        if loop_path is not None:
            result["mix_loop"] = loop_path
        if zip_path is not None:
            result["zip"] = zip_path
        progress(1.0, "exported")
        return result
    except BaseException as exc:
        for sink in sinks:
            sink.discard()
        for af in pending:
            af.discard()
        _remove_created(created)
        if isinstance(exc, StudioError) or not isinstance(exc, OSError):
            raise
        raise ExportError(_write_error_message(out, exc)) from None
    finally:
        for close in cleanup:
            close()


def _write_error_message(out: Path, exc: OSError) -> str:
    import errno

    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "free some disk space or choose another folder",
        errno.EDQUOT: "free some disk space or choose another folder",
        errno.EACCES: "choose a folder you can write to",
        errno.EPERM: "choose a folder you can write to",
        errno.EROFS: "choose a folder you can write to",
    }.get(exc.errno or -1, "check the folder and try again")
    return f"could not write the export to {out}: {reason}; {hint} (no partial file was left there)"


def _make_dirs(path: Path, created: list[Path]) -> None:
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        raise ExportError(f"{p} exists and is not a folder; choose another output folder")
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def _remove_created(created: list[Path]) -> None:
    for p in reversed(created):
        try:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink()
        except OSError:
            pass


def _write_zip(af: AtomicFile, members: list[tuple[str, Path]]) -> None:
    """Write a zip of ``members`` (archive name, file to read) into the open temp file ``af``."""
    with zipfile.ZipFile(af.fh, "w") as zf:
        for name, path in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            # Audio does not deflate usefully; store it and compress only the manifest.
            info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            with open(path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def export_mix_bytes(soundscape: Soundscape, fmt: str = "wav", subtype: Optional[str] = None) -> bytes:
    """The mastered mix encoded in memory (for players and download buttons).

    ``fmt`` is wav (PCM_24 by default), flac, ogg or mp3. Deterministic like the file export.
    OGG and MP3 are kept under the master's true-peak ceiling after decoding
    (:mod:`studio.mixing.lossy`)."""
    fmt, major, sub = _check_format(fmt, subtype, MIX_FORMATS, "mix")
    info = _info(soundscape, None)
    sr = soundscape.sample_rate

    def encode(chunks: Iterable[np.ndarray]) -> bytes:
        return _encode_bytes(chunks, fmt, major, sub, sr, soundscape.frames, info, int(soundscape.plan.seed))

    if fmt not in LOSSY_FORMATS:
        return encode(soundscape.iter_mix())
    from studio.mixing.lossy import encode_within_ceiling, limited, measure_decoded

    ceiling = float(soundscape.plan.master.ceiling_dbtp)
    data, _ = encode_within_ceiling(
        lambda headroom, makeup: encode(limited(soundscape.iter_mix(), ceiling, headroom, sr, makeup)),
        measure_decoded, ceiling, _reference_lufs(soundscape),
    )
    return data


def _reference_lufs(soundscape: Soundscape) -> Optional[float]:
    """The lossless mix's loudness, which a lossy encode keeps (None when unknown)."""
    value = soundscape.master.get("integrated_lufs")
    return None if value is None else float(value)


def _encode_bytes(chunks: Iterable[np.ndarray], fmt: str, major: str, sub: str, sample_rate: int, frames: int,
                  info: Mapping[str, str], dither_seed: int) -> bytes:
    buf = io.BytesIO()
    encoder = _Encoder(buf, f"mix.{fmt}", fmt, major, sub, sample_rate, frames, info, dither_seed)
    for chunk in chunks:
        encoder.write(chunk)
    encoder.finish()
    return buf.getvalue()


ProgressFn = Callable[[float, str], None]
