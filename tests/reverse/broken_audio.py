"""A corpus of broken audio files, built in the test (each a different way to be wrong)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np


def _wav_bytes(seconds: float = 2.0, sr: int = 16_000, channels: int = 1, subtype: str = "PCM_16") -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    x = np.random.default_rng(0).standard_normal((int(seconds * sr), channels)).astype(np.float32) * 0.1
    sf.write(buf, x, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def _encoded(fmt: str, seconds: float = 3.0) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    x = np.random.default_rng(1).standard_normal((int(seconds * 44_100), 2)).astype(np.float32) * 0.1
    sf.write(buf, x, 44_100, format=fmt)
    return buf.getvalue()


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def broken_corpus(folder: Path) -> dict[str, Path]:
    """name -> path of a broken file; at least 15 of them."""
    good = _wav_bytes()
    nan = bytearray(_wav_bytes(subtype="FLOAT"))
    struct.pack_into("<f", nan, len(nan) - 400, float("nan"))
    flac, ogg, mp3 = _encoded("FLAC"), _encoded("OGG"), _encoded("MP3")
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    files: dict[str, bytes] = {
        "zero_length.wav": b"",
        "text.wav": b"this is not audio at all, just some words\n" * 5,
        "image.mp3": png,
        "archive.ogg": b"PK\x03\x04" + bytes(300),
        "random.flac": np.random.default_rng(2).integers(0, 256, 4000, dtype=np.uint8).tobytes(),
        "header_only.wav": good[:44],
        "truncated_header.wav": good[:20],
        "rate_zero.wav": _patch(good, 24, "<I", 0),
        "rate_absurd.wav": _patch(good, 24, "<I", 4_000_000_000),
        "rate_one_hz.wav": _patch(_patch(good, 24, "<I", 1), 28, "<I", 2),
        "channels_zero.wav": _patch(good, 22, "<H", 0),
        "channels_1000.wav": _patch(_patch(good, 22, "<H", 1000), 32, "<H", 2000),
        "bits_absurd.wav": _patch(good, 34, "<H", 3),
        "riff_garbage.wav": b"RIFF" + struct.pack("<I", 5000) + b"WAVE" + bytes(range(256)) * 4,
        "flac_truncated.flac": flac[:300],
        "flac_magic_garbage.flac": b"fLaC" + bytes(500),
        "ogg_truncated.ogg": ogg[:400],
        "ogg_magic_garbage.ogg": b"OggS" + bytes(500),
        "mp3_id3_only.mp3": mp3[:10] if mp3.startswith(b"ID3") else b"ID3\x04\x00\x00\x00\x00\x00\x00",
        "data_cut_short.wav": good[: len(good) // 2],
        "too_short.wav": _wav_bytes(seconds=0.5),
        "nan_samples.wav": bytes(nan),
        "aiff.aiff": b"FORM" + bytes(100),
    }
    out = {}
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        out[name] = path
    out["missing.wav"] = folder / "missing.wav"
    (folder / "a_folder.wav").mkdir()
    out["a_folder.wav"] = folder / "a_folder.wav"
    return out
