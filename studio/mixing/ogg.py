"""Make libsndfile's OGG output deterministic.

libsndfile gives every Ogg stream a random serial number, so two encodings of the same audio
differ in each page's serial and checksum (and nothing else). :func:`fix_serial` rewrites the
serial to a fixed value and recomputes the page CRCs, so a re-export is byte-identical.

The Ogg page CRC is CRC-32 with polynomial 0x04C11DB7, initial value 0, no reflection and no
final XOR. It is computed here with ``zlib.crc32`` (the reflected variant) on bit-reversed bytes,
which is the same checksum at C speed.
"""

from __future__ import annotations

import struct
import zlib

_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _rev32(x: int) -> int:
    return int(f"{x:032b}"[::-1], 2)


def ogg_crc(page: bytes) -> int:
    """Ogg CRC-32 of ``page`` (with its CRC field zeroed by the caller)."""
    data = page.translate(_REV8)
    # zlib.crc32 = raw(init=0xFFFFFFFF) ^ 0xFFFFFFFF; raw(init=0) follows from CRC linearity.
    with_ones = zlib.crc32(data) ^ 0xFFFFFFFF
    zeros = zlib.crc32(bytes(len(data))) ^ 0xFFFFFFFF
    return _rev32(with_ones ^ zeros)


def fix_serial(data: bytes, serial: int = 0x53545544) -> bytes:
    """``data`` (a whole Ogg file) with every page's stream serial set to ``serial``."""
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out):
        if out[pos : pos + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {pos}")
        nseg = out[pos + 26]
        size = 27 + nseg + sum(out[pos + 27 : pos + 27 + nseg])
        out[pos + 14 : pos + 18] = struct.pack("<I", serial)
        out[pos + 22 : pos + 26] = b"\0\0\0\0"
        out[pos + 22 : pos + 26] = struct.pack("<I", ogg_crc(bytes(out[pos : pos + size])))
        pos += size
    return bytes(out)
