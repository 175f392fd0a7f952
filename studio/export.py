"""Export a rendered soundscape: the mix, one stem per layer, the manifest, optionally a zip.

Layout written under ``out_dir`` (created if missing)::

    mix.<ext>                       48 kHz stereo, mastered (wav/flac/ogg/mp3)
    mix-loop.<ext>                  with loop_ready=True: gapless on repeat (see docs/mixing.md)
    stems/NN-<role>-<name>.<ext>    NN = 1-based layer index; stereo, the mix's exact length,
                                    after the layer's gain/pan/width/mute/solo, before the master;
                                    FLAC 24-bit by default (or WAV)
    manifest.json                   the given manifest plus "outputs", "export" (and "master" if absent)
    CREDITS.txt                     always: the recordings the layers used, with author, licence and
                                    links (studio.credits), or a line saying none was used
    <extra files>                   with extra_files: more text files beside the manifest
    <zip_name>                      with zip_name: all of the above in one zip

The work is in three steps: :func:`check_export_options` and :func:`check_output_folder`
(studio/export_checks.py) validate before anything is written; the writers (:class:`_AudioWriter`
here, one :class:`~studio.export_writers._AudioSink` per file, studio/export_writers.py) stream
every audio file into a temp file; :func:`_commit` adds the manifest and extra files, zips, and
renames everything into place. Everything is streamed: one pass renders each chunk of every stem once, writes it, sums it
and masters the sum, so memory stays bounded for 60-minute tracks. Every file is written to a
hidden temp file in its final folder and fsynced; only when all of them are complete are they
renamed into place, so a failure (disk full, unwritable folder, Ctrl-C) never leaves a partial or
mismatched set: the temp files and anything this call created are removed, and files of an
earlier export stay as they were. Output bytes are a pure function of the soundscape (no
timestamps), so a re-export is byte-identical in every format (OGG after pinning the random
stream serial libsndfile picks, see studio/mixing/ogg.py). Files get the user's umask
(studio.atomic).

Integer PCM (WAV and FLAC, 16/24-bit) is quantised by one rule (studio.mixing.wav.quantise), so a
FLAC file decodes to exactly the samples of the WAV file of the same subtype.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

from studio.atomic import AtomicFile, fsync_dir
from studio.credits import CREDITS_NAME, credits_text
from studio.defaults import MIX_FORMAT as DEFAULT_MIX_FORMAT
from studio.defaults import STEM_FORMAT as DEFAULT_STEM_FORMAT
from studio.errors import ExportError, StudioError
from studio.export_checks import (  # noqa: F401 - the public names stay importable from here
    LOSSY_FORMATS,
    MIX_FORMATS,
    RESERVED_NAMES,
    STEM_DEFAULT_SUBTYPE,
    STEM_FORMATS,
    ExportOptions,
    _check_format,
    _write_error_message,
    check_export_options,
    check_output_folder,
)
from studio.export_writers import (  # noqa: F401
    FLAC_COMPRESSION_LEVEL,
    LOSSY_COMPRESSION_LEVEL,
    _AudioSink,
    _balanced_groups,
    _Encoder,
    _encode_cost,
    _RawMix,
)
from studio.types import Progress, Soundscape, no_progress

ENCODE_THREADS = 2  # threads encoding the mix and stems of an export (each file on one)
EXPORT_QUEUE_CHUNKS = 6  # chunks rendered but not yet written by every encoding thread
SOFTWARE = "Soundscape Studio"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ExportResult(dict):
    """What :func:`export_soundscape` wrote: output paths by key, and ``manifest``, the
    manifest dict as written (so callers need not read the file back)."""

    manifest: dict[str, Any]


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


@dataclass(frozen=True)
class _Layout:
    """Where every output goes (final paths)."""

    out: Path
    mix: Path
    stems: tuple[Path, ...]
    loop: Optional[Path]
    manifest: Path
    zip: Optional[Path]
    extras: tuple[Path, ...]

    @property
    def stems_dir(self) -> Path:
        return self.out / "stems"


def _layout(soundscape: Soundscape, out: Path, opts: ExportOptions, loop_ready: bool) -> _Layout:
    mix_fmt, stem_fmt = opts.mix[0], opts.stem[0]
    return _Layout(
        out=out,
        mix=out / f"mix.{mix_fmt}",
        stems=tuple(out / "stems" / stem_filename(i, s.spec.role, s.spec.name, stem_fmt) for i, s in enumerate(soundscape.stems)),
        loop=out / f"mix-loop.{mix_fmt}" if loop_ready else None,
        manifest=out / "manifest.json",
        zip=out / opts.zip_name if opts.zip_name else None,
        extras=tuple(out / name for name, _ in opts.extra_files),
    )


def _full_manifest(soundscape: Soundscape, manifest: Mapping[str, Any], layout: _Layout, opts: ExportOptions,
                   loop_ready: bool) -> dict[str, Any]:
    """The caller's manifest plus what this export writes (``outputs``, ``export``)."""
    outputs: dict[str, Any] = {"mix": layout.mix.name, "stems": [f"stems/{p.name}" for p in layout.stems]}
    if layout.loop is not None:
        outputs["mix_loop"] = layout.loop.name
    if layout.zip is not None:
        outputs["zip"] = layout.zip.name
    if layout.extras:
        outputs["extra"] = [p.name for p in layout.extras]
    full = dict(manifest)
    full["outputs"] = outputs
    full.setdefault("master", dict(soundscape.master))
    full["export"] = {
        "mix_format": opts.mix[0],
        "mix_subtype": opts.mix[2],
        "stem_format": opts.stem[0],
        "stem_subtype": opts.stem[2],
        "sample_rate": soundscape.sample_rate,
        "channels": 2,
        "frames": soundscape.frames,
        "duration_s": soundscape.frames / soundscape.sample_rate,
        "loop_ready": bool(loop_ready),
    }
    return full


def _manifest_data(full: Mapping[str, Any]) -> bytes:
    try:
        return manifest_bytes(full)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"the manifest cannot be written as JSON ({exc}); nothing was exported") from None


def export_soundscape(
    soundscape: Soundscape,
    out_dir: os.PathLike | str,
    *,
    manifest: Mapping[str, Any],
    mix_format: str = DEFAULT_MIX_FORMAT,
    mix_subtype: Optional[str] = None,
    stem_format: str = DEFAULT_STEM_FORMAT,
    stem_subtype: Optional[str] = None,
    zip_name: Optional[str] = None,
    loop_ready: bool = False,
    fade_in_s: Optional[float] = None,
    fade_out_s: Optional[float] = None,
    title: Optional[str] = None,
    extra_files: Optional[Mapping[str, str | bytes]] = None,
    progress: Optional[Progress] = None,
) -> "ExportResult":
    """Write the mix, stems, manifest (and optionally a loop-ready mix, extra files and a zip) atomically.

    Returns paths keyed ``"mix"``, ``"stem:NN"`` (one per layer, NN 1-based), ``"manifest"``,
    ``"extra:<name>"`` per extra file, and ``"mix_loop"``/``"zip"`` when asked, with the manifest
    as written in ``.manifest`` (its ``export`` entry holds the lossy report, see studio.mixing.lossy).

    - ``mix_format`` wav (default) / flac / ogg / mp3; ``mix_subtype`` defaults to PCM_24 for WAV/FLAC.
    - ``stem_format`` flac (default, 24-bit; decodes bit-exactly to the 24-bit WAV) or wav
      (``stem_subtype`` FLOAT by default, or PCM_24/PCM_16). Stems are printed at mix level (the
      ride and master gain applied, before bass mono and the limiter), so they sum to the mix; an
      integer stem over full scale is clipped, and the manifest's ``export.stems_clipped`` names it.
    - ``loop_ready`` adds ``mix-loop.<ext>``, gapless on repeat (no fades, see studio.mixing.loop_ready).
    - ``fade_in_s`` / ``fade_out_s`` (seconds) replace the master's fades first (a re-mix, see
      :func:`with_fades`); the manifest's plan then records them.
    - ``extra_files`` maps plain file names to text or bytes written beside the manifest and
      into the zip (e.g. ``{"CREDITS.txt": ...}``).

    Raises :class:`ExportError` for bad settings or when writing fails; nothing this call
    created is left behind on failure, and the files of an earlier export stay as they were.
    """
    progress = progress or no_progress
    credits = credits_text(manifest.get("credits") or [], title=title or "")
    extra_files = {CREDITS_NAME: credits, **(extra_files or {})}
    opts = check_export_options(mix_format=mix_format, mix_subtype=mix_subtype, stem_format=stem_format,
                                stem_subtype=stem_subtype, zip_name=zip_name, extra_files=extra_files)
    out = Path(out_dir)
    check_output_folder(out)
    if fade_in_s is not None or fade_out_s is not None:
        faded = with_fades(soundscape, fade_in_s=fade_in_s, fade_out_s=fade_out_s)
        if faded is not soundscape:
            soundscape = faded
            manifest = {**manifest, "plan": json.loads(faded.plan.model_dump_json()), "master": dict(faded.master)}
    layout = _layout(soundscape, out, opts, loop_ready)
    full = _full_manifest(soundscape, manifest, layout, opts, loop_ready)
    _manifest_data(full)  # before anything is written: a manifest that cannot be saved must not cost the export

    created: list[Path] = []  # files and folders this call created, removed on failure
    writer = _AudioWriter(soundscape, layout, opts, title, progress)
    try:
        _make_dirs(out, created)
        _make_dirs(layout.stems_dir, created)
        full["export"].update(writer.write())
        ordered = writer.committed_order()
        pending = [sink.atomic for sink in ordered]
        progress(0.99, "saving")
        _commit(layout, pending, _manifest_data(full), opts.extra_files, created)
        result = ExportResult({"mix": layout.mix, "manifest": layout.manifest})
        result.manifest = full
        for i, p in enumerate(layout.stems):
            result[f"stem:{i + 1:02d}"] = p
        for p in layout.extras:
            result[f"extra:{p.name}"] = p
        if layout.loop is not None:
            result["mix_loop"] = layout.loop
        if layout.zip is not None:
            result["zip"] = layout.zip
        progress(1.0, "exported")
        return result
    except BaseException as exc:
        writer.discard()
        _remove_created(created)
        if isinstance(exc, StudioError) or not isinstance(exc, OSError):
            raise
        raise ExportError(_write_error_message(out, exc)) from None
    finally:
        writer.close()


class _AudioWriter:
    """The writers: every audio file of an export, as complete temp files (nothing renamed yet).

    One streamed pass renders each chunk of every stem once, writes it, sums it and masters the
    sum; a lossy mix is encoded afterwards from a raw temp copy (it may take more than one try)."""

    def __init__(self, soundscape: Soundscape, layout: _Layout, opts: ExportOptions, title: Optional[str],
                 progress: Progress) -> None:
        self.sc, self.layout, self.opts, self.title, self.progress = soundscape, layout, opts, title, progress
        self.seed = int(soundscape.plan.seed)
        self.sinks: list[_AudioSink] = []  # every sink opened, discarded on failure
        self.mix_sink: Optional[_AudioSink] = None
        self.stem_sinks: list[_AudioSink] = []
        self.loop_sink: Optional[_AudioSink] = None
        self.raw: Optional[_RawMix] = None

    def _open(self, path: Path, spec: tuple[str, str, str], frames: int, info: Mapping[str, str], seed: int) -> _AudioSink:
        sink = _AudioSink(path, *spec, self.sc.sample_rate, frames, info, seed)
        self.sinks.append(sink)  # at once: a failure opening the next one discards this one
        return sink

    def write(self) -> dict[str, Any]:
        """Write everything; returns the manifest's extra ``export`` entries (lossy reports, clipping)."""
        sc, layout, frames = self.sc, self.layout, self.sc.frames
        report: dict[str, Any] = {}
        for i, (stem, path) in enumerate(zip(sc.stems, layout.stems)):
            self.stem_sinks.append(self._open(path, self.opts.stem, frames, _info(sc, self.title, stem.spec.name), self.seed + i + 1))
        mix_fmt = self.opts.mix[0]
        lossy = mix_fmt in LOSSY_FORMATS
        mix_info = _info(sc, self.title)
        if lossy:
            # The mastered mix goes to an anonymous temp file first: the lossy encode may run more
            # than once (studio.mixing.lossy) and must not re-render every layer to do so.
            self.raw = _RawMix(layout.out)
            mix_write = self.raw.write
        else:
            self.mix_sink = self._open(layout.mix, self.opts.mix, frames, mix_info, self.seed)
            mix_write = self.mix_sink.write
        # Encoding (FLAC stems, quantising, dither) runs on ENCODE_THREADS worker threads
        # while the next chunk is rendered and mastered: libsndfile (cffi) and numpy release
        # the GIL, so on two cores the export takes about the longer of rendering and encoding
        # instead of their sum. Each file belongs to one thread, which writes its chunks in
        # order, so every file is byte-identical to writing inline. Every chunk iter_mix yields
        # is a new array (or a read-only view), so none is overwritten while queued. Up to
        # EXPORT_QUEUE_CHUNKS chunks wait for the slower thread (about 9 MB each with five
        # stems): with three, the faster thread stalled whenever the other's chunk happened
        # to cost more (a 60-minute export, quiet: 1.76 of 2 cores busy with three, 1.85 with
        # seven).
        from concurrent.futures import ThreadPoolExecutor

        writers = [mix_write, *(sink.write for sink in self.stem_sinks)]
        costs = [1.0 if lossy else _encode_cost(self.opts.mix), *(_encode_cost(self.opts.stem) for _ in self.stem_sinks)]
        groups = _balanced_groups(costs, ENCODE_THREADS)  # indices into [mix, *stems]

        def write_group(group: list, chunks: list) -> None:
            for index in group:
                writers[index](chunks[index])

        pools = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-encode") for _ in groups]
        pending: deque = deque()
        done = 0
        try:
            for mix, stems in sc.iter_mix(with_stems=True):
                chunks = [mix, *stems]
                pending.append([pool.submit(write_group, group, chunks) for pool, group in zip(pools, groups)])
                if len(pending) > EXPORT_QUEUE_CHUNKS:
                    for fut in pending.popleft():
                        fut.result()
                done += mix.shape[1]
                self.progress(0.9 * done / max(1, frames), "writing mix and stems")
            while pending:
                for fut in pending.popleft():
                    fut.result()
        finally:
            for futs in pending:
                for fut in futs:
                    fut.cancel()
            for pool in pools:
                pool.shutdown(wait=True)
        if lossy:
            self.progress(0.9, f"encoding {mix_fmt} under the ceiling")
            self.mix_sink, mix_report = _encode_lossy(sc, layout.mix, *self.opts.mix, self.seed, self.raw.chunks, frames, mix_info)
            self.sinks.append(self.mix_sink)
            report["mix_lossy"] = mix_report.as_dict()
        if layout.loop is not None:
            report.update(self._write_loop(mix_report.headroom_db if lossy else None))
            self.progress(0.95, "writing loop")
        for sink in self.sinks:
            sink.finish()
        clipped = [p.name for p, sink in zip(layout.stems, self.stem_sinks) if sink.clipped_samples]
        if clipped:
            report["stems_clipped"] = clipped
        return report

    def _write_loop(self, headroom_db: Optional[float]) -> dict[str, Any]:
        from studio.mixing.loop_ready import iter_loop_mix, loop_frames

        sc, path = self.sc, self.layout.loop
        info = _info(sc, self.title and f"{self.title} (loop)")
        if headroom_db is not None:
            self.loop_sink, loop_report = _encode_lossy(sc, path, *self.opts.mix, self.seed, lambda: iter_loop_mix(sc),
                                                        loop_frames(sc), info, headroom_db)
            self.sinks.append(self.loop_sink)
            return {"mix_loop_lossy": loop_report.as_dict()}
        self.loop_sink = self._open(path, self.opts.mix, loop_frames(sc), info, self.seed)
        for chunk in iter_loop_mix(sc):
            self.loop_sink.write(chunk)
        return {}

    def committed_order(self) -> list[_AudioSink]:
        """The finished sinks in the zip's member order: mix, stems, loop."""
        return [self.mix_sink, *self.stem_sinks, *([self.loop_sink] if self.loop_sink is not None else [])]

    def discard(self) -> None:
        for sink in self.sinks:
            sink.discard()

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()


def _commit(layout: _Layout, audio: list[AtomicFile], manifest_data: bytes,
            extra_files: Sequence[tuple[str, bytes]], created: list[Path]) -> None:
    """The commit step: write the small files (manifest, then any extra text files such as
    CREDITS.txt) as temp files beside the finished audio, zip them all if asked, and only then
    rename everything into place."""
    pending = list(audio)
    try:
        for path, data in [(layout.manifest, manifest_data), *((layout.out / n, d) for n, d in extra_files)]:
            af = AtomicFile(path)
            pending.append(af)
            af.fh.write(data)
        for af in pending:
            af.fh.flush()
        if layout.zip is not None:
            members = [(a.final.relative_to(layout.out).as_posix(), a.tmp) for a in pending]
            zip_file = AtomicFile(layout.zip)
            pending.append(zip_file)
            _write_zip(zip_file, members)
        # Everything is complete on disk: now put it in place.
        for af in pending:
            existed = af.final.exists()
            af.commit()
            if not existed:
                created.append(af.final)
    except BaseException:
        for af in pending:
            af.discard()
        raise
    fsync_dir(layout.out)
    fsync_dir(layout.stems_dir)


def with_fades(soundscape: Soundscape, *, fade_in_s: Optional[float] = None, fade_out_s: Optional[float] = None) -> Soundscape:
    """``soundscape`` with the master's fade in/out (seconds, 0..600) replaced: a re-mix that
    reuses every layer (master passes only). Unchanged values return ``soundscape`` itself."""
    from pydantic import ValidationError

    from studio.types import validation_message

    master = soundscape.plan.master
    update = {k: float(v) for k, v in (("fade_in_s", fade_in_s), ("fade_out_s", fade_out_s)) if v is not None}
    if all(getattr(master, k) == v for k, v in update.items()):
        return soundscape
    try:
        new_master = master.model_validate({**master.model_dump(), **update})
    except ValidationError as exc:
        raise ExportError(f"invalid fades: {validation_message(exc)}") from None
    from studio.mixing import remix
    from studio.mixing.render import mix_state

    if mix_state(soundscape) is None and not soundscape.sources:
        raise ExportError("changing the fades needs a soundscape rendered in this session; render it again")
    return remix(soundscape, soundscape.plan.model_copy(update={"master": new_master}))


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
                while block := src.read(1 << 20):
                    dst.write(block)
                    af.pace()


def export_mix_bytes(soundscape: Soundscape, fmt: str = DEFAULT_MIX_FORMAT, subtype: Optional[str] = None, *,
                     loop_ready: bool = False, fade_in_s: Optional[float] = None,
                     fade_out_s: Optional[float] = None) -> bytes:
    """The mastered mix encoded in memory (for players and download buttons).

    ``fmt`` is wav (PCM_24 by default), flac, ogg or mp3. Deterministic like the file export.
    OGG and MP3 are kept under the master's true-peak ceiling after decoding
    (:mod:`studio.mixing.lossy`). ``loop_ready`` gives the seamless-loop version instead (no
    fades); ``fade_in_s``/``fade_out_s`` replace the master's fades (see :func:`with_fades`)."""
    fmt, major, sub = _check_format(fmt, subtype, MIX_FORMATS, "mix")
    soundscape = with_fades(soundscape, fade_in_s=fade_in_s, fade_out_s=fade_out_s)
    info = _info(soundscape, None)
    sr = soundscape.sample_rate
    if loop_ready:
        from studio.mixing.loop_ready import iter_loop_mix, loop_frames

        frames, chunks = loop_frames(soundscape), lambda: iter_loop_mix(soundscape)
    else:
        frames, chunks = soundscape.frames, soundscape.iter_mix

    def encode(stream: Iterable[np.ndarray]) -> bytes:
        return _encode_bytes(stream, fmt, major, sub, sr, frames, info, int(soundscape.plan.seed))

    if fmt not in LOSSY_FORMATS:
        return encode(chunks())
    from studio.mixing.lossy import encode_within_ceiling, limited, measure_decoded

    ceiling = float(soundscape.plan.master.ceiling_dbtp)
    data, _ = encode_within_ceiling(
        lambda headroom, makeup: encode(limited(chunks(), ceiling, headroom, sr, makeup)),
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

