"""Export writers: one audio file streamed into a temp file (:class:`_AudioSink` around an
:class:`_Encoder`: our WAV writer, or libsndfile for FLAC/OGG/MP3), the raw float mix kept for
lossy encodes (:class:`_RawMix`), and how files are shared out over the encoding threads
(:func:`_balanced_groups`).

FLAC into a plain file is written by libsndfile straight to the file descriptor
(:func:`_plain_fd`). Handed a Python file object instead, libsndfile calls back into Python
for every FLAC frame it writes and every position it asks for, and each call waits for the GIL:
with two encoding threads and the renderer sharing it, the threads stood idle about a quarter
of the time (measured 2026-12-03: two threads encoding an hour of FLAC each, 1.81 s wall through
the callbacks against 1.27 s to the descriptor, the same CPU). Writing to a descriptor,
libsndfile reports a failed write only as an encoder error, and one while closing not at all
(libFLAC then skips the final header rewrite), so :class:`_Encoder` finds the OS error itself
(:func:`_os_write_error`) and checks every finished FLAC file's header (:func:`_flac_complete`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from studio.atomic import AtomicFile
from studio.errors import ExportError
from studio.frames import interleaved

# libsndfile's compression_level (0 best .. 1 smallest) for publishing-quality lossy files: MP3
# 0.0 is LAME's best VBR (~250 kb/s), OGG 0.2 is Vorbis ~q8 (~260 kb/s). libsndfile's defaults
# (~150 kb/s MP3) overshoot the ceiling by more once decoded and sound duller.
LOSSY_COMPRESSION_LEVEL = {"mp3": 0.0, "ogg": 0.2}
# libsndfile's compression_level for FLAC (0..1 maps to FLAC levels 0..8; its default is level 5).
# 0.5 is level 4: on the reference recordings the files came out within 0.1 % of level 5's size
# while encoding took 25-35 % less CPU (docs/mixing.md, "Export speed"). The decoded samples are
# the same at every level (FLAC is lossless).
FLAC_COMPRESSION_LEVEL = 0.5


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


def _plain_fd(fh: Any) -> Optional[int]:
    """The descriptor of ``fh`` when it is a plain buffered file at its start with nothing
    buffered (an export's fresh temp file), so libsndfile can write to the descriptor itself;
    None for anything else (a BytesIO, a direct writer, a wrapper)."""
    if type(fh) is not io.BufferedRandom:
        return None
    try:
        return fh.fileno() if fh.tell() == 0 else None
    except (OSError, ValueError):
        return None


def _flac_complete(fd: int, frames: int) -> bool:
    """Whether the FLAC file on ``fd`` was finished: its STREAMINFO holds the total sample count
    ``frames`` and an MD5 signature. libFLAC rewrites that block only after its last frame was
    written without error; a write that failed while closing leaves the count at 0."""
    head = os.pread(fd, 42, 0)
    if len(head) < 42 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return False
    info = head[8:42]
    total = int.from_bytes(info[10:18], "big") & ((1 << 36) - 1)
    return total == frames and any(info[18:34])


def _os_write_error(fd: int) -> Optional[OSError]:
    """The OSError a write at the end of ``fd`` meets now (full disk, quota, file size limit,
    I/O error), or None if a write succeeds: libsndfile reports a failed write to a descriptor
    without its cause, so the cause is found by writing once more. The file is thrown away."""
    try:
        os.pwrite(fd, bytes(1 << 16), os.fstat(fd).st_size)
    except OSError as exc:
        return exc
    return None


class _Encoder:
    """Streams float32 ``(2, n)`` chunks into one audio format on an open binary file (a temp
    file of an export, or a BytesIO for a download): our WAV writer, or libsndfile for the
    rest, with the tags of ``info`` and the OGG stream serial pinned. FLAC goes to a plain
    file's descriptor (see the module's docstring)."""

    def __init__(self, fh: Any, name: str, fmt: str, major: str, subtype: str, sample_rate: int, frames: int,
                 info: Mapping[str, str], dither_seed: int) -> None:
        self.fh, self.name, self.fmt, self.subtype = fh, name, fmt, subtype
        self.finished = False
        self.wav = None
        self.sf = None
        self.integer = subtype in ("PCM_24", "PCM_16")
        self.clipped_samples = 0  # integer samples that were beyond full scale
        self.written = 0
        self.dither_seed = dither_seed
        if fmt == "wav":
            from studio.mixing.wav import WavWriter

            self.wav = WavWriter(fh, sample_rate, 2, frames, subtype, info, dither_seed)
            return
        import soundfile as sf

        self.io = _ErrorRecordingFile(fh)
        # Only FLAC goes to the descriptor: its failures can be found (the encoder errors, and
        # the header check in finish); libsndfile's OGG writer ignores a failed write there.
        self.fd = _plain_fd(fh) if fmt == "flac" else None
        try:
            self.sf = sf.SoundFile(self.io if self.fd is None else self.fd, "w", samplerate=sample_rate, channels=2,
                                   format=major, subtype=subtype, closefd=False,
                                   compression_level=LOSSY_COMPRESSION_LEVEL.get(fmt, FLAC_COMPRESSION_LEVEL if fmt == "flac" else None))
        except Exception as exc:  # noqa: BLE001 - libsndfile says "Format not recognised" and the like
            self._raise_write_error()
            raise ExportError(f"this machine's libsndfile cannot write {name} as {fmt} ({exc}); "
                              "choose another format") from None
        for key in ("title", "comment", "software", "artist", "genre"):
            if info.get(key):
                try:
                    setattr(self.sf, key, str(info[key]))
                except Exception:  # noqa: BLE001 - formats without that tag simply skip it
                    pass

    def _raise_write_error(self) -> None:
        """Raise the OSError behind a failed libsndfile call, if a write failed."""
        if self.io.error is not None:
            raise self.io.error from None
        if self.fd is not None:
            error = _os_write_error(self.fd)
            if error is not None:
                raise error from None

    def _call(self, call: Callable[[], Any]) -> None:
        """Run a libsndfile call; a write error it swallowed is raised as the OSError it was."""
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - libsndfile reports short writes in many ways
            self._raise_write_error()
            raise ExportError(f"could not encode {self.name} as {self.fmt}: {exc}") from None
        if self.io.error is not None:
            raise self.io.error

    def write(self, x: np.ndarray) -> None:
        if self.integer:
            self.clipped_samples += int(np.count_nonzero(np.abs(x) > 1.0))
        if self.wav is not None:
            self.wav.write(x)
        elif self.integer:
            # Quantised by the WAV writer's rule, so FLAC decodes to exactly the WAV's samples;
            # libsndfile takes 24-bit samples as the top bits of int32.
            from studio.mixing.wav import quantise

            q = quantise(x, self.subtype, self.written, self.dither_seed).reshape(-1, x.shape[0])
            if self.subtype == "PCM_24":
                q <<= 8  # in place: q is ours
            self._call(lambda: self.sf.write(q))
        else:
            self._call(lambda: self.sf.write(interleaved(x)))
        self.written += x.shape[1]

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.wav is not None:
            self.wav.close()
            return
        self._call(self.sf.close)
        if self.fd is not None and not _flac_complete(self.fd, self.written):
            self._raise_write_error()
            raise ExportError(f"could not finish {self.name}: the FLAC encoder stopped before its last frame")
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


def _direct_worthy(fmt: str, subtype: str, frames: int) -> bool:
    """Whether a file is written around the page cache (studio.direct_io): our WAV writer
    (front to back, no seeking) for a file of at least DIRECT_MIN_BYTES."""
    if fmt != "wav":
        return False
    from studio.direct_io import DIRECT_MIN_BYTES
    from studio.mixing.wav import WAV_SUBTYPES

    bits = WAV_SUBTYPES.get(subtype, (0, 0))[1]
    return frames * 2 * bits // 8 >= DIRECT_MIN_BYTES


class _AudioSink:
    """One output audio file: an :class:`_Encoder` on a temp file, renamed on commit."""

    def __init__(self, path: Path, fmt: str, major: str, subtype: str, sample_rate: int, frames: int,
                 info: Mapping[str, str], dither_seed: int) -> None:
        self.path = path
        self.atomic = AtomicFile(path, direct=_direct_worthy(fmt, subtype, frames))
        self.encoder: Optional[_Encoder] = None
        try:
            self.encoder = _Encoder(self.atomic.fh, path.name, fmt, major, subtype, sample_rate, frames, info, dither_seed)
        except BaseException:
            self.discard()  # no temp file outlives a sink that could not be opened
            raise

    def write(self, x: np.ndarray) -> None:
        self.encoder.write(x)
        self.atomic.pace()

    @property
    def clipped_samples(self) -> int:
        return self.encoder.clipped_samples

    def finish(self) -> None:
        self.encoder.finish()

    def commit(self) -> Path:
        return self.atomic.commit()

    def discard(self) -> None:
        if self.encoder is not None:
            self.encoder.abort()
        self.atomic.discard()


class _RawMix:
    """Mastered float32 frames in an anonymous temp file (gone when closed or on a crash)."""

    BLOCK_FRAMES = 1 << 18

    def __init__(self, folder: Path) -> None:
        import tempfile

        self.fh = tempfile.TemporaryFile(dir=str(folder), prefix=".mix-", suffix=".f32")

    def write(self, x: np.ndarray) -> None:
        self.fh.write(interleaved(x).tobytes())

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


def _encode_cost(spec: tuple[str, str, str]) -> float:
    """Rough CPU cost of encoding one file of this (format, major, subtype), relative to a WAV:
    libFLAC takes about 7 s per hour of stereo, our WAV writer about 1 s."""
    return 6.0 if spec[0] == "flac" else 1.0


def _balanced_groups(costs: Sequence[float], threads: int) -> list[list[int]]:
    """Indices of ``costs`` split over at most ``threads`` groups of about equal total cost
    (longest first onto the lightest group; ties keep the original order), each group in index
    order. Deterministic; every file stays on one thread, so its bytes do not depend on it."""
    groups: list[list[int]] = [[] for _ in range(max(1, threads))]
    load = [0.0] * len(groups)
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        g = min(range(len(groups)), key=lambda j: (load[j], j))
        groups[g].append(index)
        load[g] += costs[index]
    return [sorted(g) for g in groups if g]

