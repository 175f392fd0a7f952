"""Audio intake for the reverse direction: WAV, FLAC, OGG (Vorbis/Opus) and MP3, any sample rate
(4–384 kHz) and channel count (1–32), 1 second to 60 minutes.

``probe_audio(path)`` checks a file without decoding it all; ``load_audio(path)`` returns the
whole file as an :class:`AudioClip`; ``load_excerpts(path, ...)`` reads evenly spread windows of
a long file, so tagging a 60-minute recording never holds it in memory. Every problem a user can
cause (missing, empty, not audio, another format, truncated, absurd header, too short or long,
NaN samples) is an :class:`AudioError` with a one-line message naming the file and what is allowed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from studio.errors import AudioError, first_line
from studio.types import AudioClip

FORMATS = ("WAV", "FLAC", "OGG", "MP3")
ALLOWED = "WAV, FLAC, OGG or MP3"
MIN_DURATION_S = 1.0
MAX_DURATION_S = 3600.0
MIN_RATE, MAX_RATE = 4_000, 384_000
MAX_CHANNELS = 32

# What other common files look like, to say what a refused file is (first bytes -> description).
_OTHER_MAGIC = (
    (b"\x89PNG", "a PNG image, not audio"), (b"\xff\xd8\xff", "a JPEG image, not audio"),
    (b"GIF8", "a GIF image, not audio"), (b"%PDF", "a PDF document, not audio"),
    (b"PK\x03\x04", "a ZIP archive, not audio"), (b"FORM", "an AIFF file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM file"), (b"caff", "a CAF file"), (b".snd", "an AU file"),
)  # fmt: skip


@dataclass(frozen=True)
class AudioInfo:
    """What a readable audio file holds: ``format`` (one of ``FORMATS``), ``sample_rate`` Hz,
    ``channels``, ``frames`` and ``duration_s``."""

    path: Path
    format: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def _name(path: Path) -> str:
    return repr(path.name or str(path))


def _sniff(path: Path, head: bytes) -> str:
    """The container named by the file's first bytes, or an AudioError saying what it is."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    what = next((label for magic, label in _OTHER_MAGIC if head.startswith(magic)), None)
    if what is None:
        printable = all(32 <= b < 127 or b in (9, 10, 13) for b in head)
        what = "a text file" if printable else "not an audio file"
    raise AudioError(f"{_name(path)} is {what}; expected {ALLOWED} audio")


def probe_audio(path: str | Path) -> AudioInfo:
    """Check ``path`` (exists, a file, not empty, one of the four formats, a sane header, a
    1 s–60 min duration) and return its facts. Reads the header only."""
    import soundfile as sf

    p = Path(path).expanduser()
    if not p.exists():
        raise AudioError(f"audio file {str(p)!r} does not exist")
    if not p.is_file():
        raise AudioError(f"{str(p)!r} is not a file; give a {ALLOWED} file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise AudioError(f"cannot open {_name(p)}: {first_line(exc.strerror or exc)}") from None
    if not head:
        raise AudioError(f"{_name(p)} is empty (0 bytes); expected {ALLOWED} audio")
    fmt = _sniff(p, head)
    try:
        with _quiet_decoder(fmt):
            info = sf.info(str(p))
    except Exception as exc:  # noqa: BLE001 - libsndfile raises several types
        raise AudioError(f"{_name(p)} looks like {fmt} but cannot be read ({_reason(exc)}): damaged or truncated") from None
    rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{_name(p)} has an implausible sample rate {rate} Hz; allowed {MIN_RATE}..{MAX_RATE} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"{_name(p)} has an implausible channel count {channels}; allowed 1..{MAX_CHANNELS}")
    if fmt == "WAV":
        _check_wav_header(p, info)
    if frames <= 0:
        raise AudioError(f"{_name(p)} holds no audio (0 frames); give at least {MIN_DURATION_S:g} s")
    duration = frames / rate
    if duration < MIN_DURATION_S:
        raise AudioError(f"{_name(p)} is {duration:.2f} s long; audio must be {MIN_DURATION_S:g} s to {MAX_DURATION_S / 60:g} min")
    if duration > MAX_DURATION_S:
        raise AudioError(f"{_name(p)} is {duration / 60:.1f} min long; audio must be {MIN_DURATION_S:g} s to {MAX_DURATION_S / 60:g} min")
    return AudioInfo(p, fmt, rate, channels, frames)


def _check_wav_header(p: Path, info) -> None:
    """What libsndfile lets through in a WAV header: odd sample widths, a block size that does
    not match the channels, a data chunk cut short."""
    import struct

    with open(p, "rb") as fh:
        data = fh.read(1 << 16)
    size = p.stat().st_size
    pos = 12
    while pos + 8 <= len(data):
        cid, clen = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"fmt " and pos + 24 <= len(data):
            tag, channels, _rate, _bps, align, bits = struct.unpack_from("<HHIIHH", data, pos + 8)
            if tag in (1, 3) and (bits not in (8, 16, 24, 32, 64) or align != channels * bits // 8):
                raise AudioError(f"{_name(p)} has an absurd WAV header ({bits}-bit samples, {align}-byte frames "
                                 f"for {channels} channels); allowed 8/16/24/32/64-bit PCM or float")
        if cid == b"data" and clen != 0xFFFFFFFF and pos + 8 + clen > size + 1:
            raise AudioError(f"{_name(p)} is a truncated WAV (its header promises {clen} bytes of audio, "
                             f"the file holds {size - pos - 8})")
        if cid == b"data":
            return
        pos += 8 + clen + (clen & 1)


@contextlib.contextmanager
def _quiet_decoder(fmt: str) -> Iterator[None]:
    """libmpg123 prints warnings straight to file descriptor 2, which would add lines to the
    CLI's one-line errors; silence that descriptor while an MP3 is opened or read."""
    if fmt != "MP3":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _reason(exc: BaseException) -> str:
    text = first_line(exc, 160)
    for prefix in ("Error opening ", "Internal psf_fseek() failed."):
        if text.startswith(prefix) and ":" in text:
            text = text.split(":", 1)[1].strip() or text
    return text


def _read(info: AudioInfo, start: int, frames: int) -> np.ndarray:
    import soundfile as sf

    try:
        with _quiet_decoder(info.format):
            data, _ = sf.read(str(info.path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - decoding errors surface here for truncated streams
        raise AudioError(f"{_name(info.path)} cannot be decoded ({_reason(exc)}): damaged or truncated {info.format}") from None
    if not np.isfinite(data).all():
        raise AudioError(f"{_name(info.path)} contains NaN or infinite samples")
    return np.ascontiguousarray(data.T)


def load_audio(path: str | Path, *, info: Optional[AudioInfo] = None) -> AudioClip:
    """The whole file as float32 ``(channels, frames)`` at its own rate (checked by ``probe_audio``).
    A file that decodes to much less than its header says is refused as truncated."""
    info = info or probe_audio(path)
    samples = _read(info, 0, -1)
    _check_complete(info, samples.shape[1], info.frames)
    return AudioClip(samples, info.sample_rate)


def load_excerpts(path: str | Path, *, window_s: float = 5.0, max_windows: int = 24,
                  info: Optional[AudioInfo] = None) -> list[AudioClip]:
    """Up to ``max_windows`` evenly spread ``window_s`` excerpts (the whole file when it is
    shorter than that many windows), each an AudioClip at the file's rate."""
    info = info or probe_audio(path)
    win = int(round(window_s * info.sample_rate))
    if info.frames <= win * max_windows:
        clip = load_audio(path, info=info)
        return [AudioClip(clip.samples[:, s:s + win], clip.sample_rate)
                for s in range(0, max(1, clip.frames - win + 1), win)] if clip.frames >= win else [clip]
    starts = np.linspace(0, info.frames - win, max_windows).round().astype(int)
    out = []
    for s in starts:
        samples = _read(info, int(s), win)
        _check_complete(info, samples.shape[1], win)
        out.append(AudioClip(samples, info.sample_rate))
    return out


def _check_complete(info: AudioInfo, got: int, wanted: int) -> None:
    # Compressed streams cut short decode fewer frames than the header promised.
    if got < 0.9 * wanted and wanted - got > info.sample_rate // 10:
        raise AudioError(
            f"{_name(info.path)} is truncated: it decodes to {got / info.sample_rate:.2f} s of the "
            f"{wanted / info.sample_rate:.2f} s its header promises"
        )
