"""Image builders shared by the vision tests."""

from __future__ import annotations

import io
import struct

import numpy as np


def encode(arr: np.ndarray, fmt: str, **save_kw) -> bytes:
    """An RGB/other numpy image encoded in ``fmt`` by Pillow."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **save_kw)
    return buf.getvalue()


def jpeg_declaring(width: int, height: int, pixels: np.ndarray | None = None) -> bytes:
    """A small real JPEG (of ``pixels``, default 16x16 grey) with its SOF0 frame size
    rewritten to width x height: Pillow opens it at that size without decoding anything."""
    data = bytearray(encode(np.full((16, 16, 3), 128, np.uint8) if pixels is None else pixels, "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def scene(top_rgb, bottom_rgb, *, size=(120, 160), split=0.5) -> np.ndarray:
    """A (height, width, 3) uint8 frame: one colour above ``split``, another below."""
    h, w = size
    arr = np.zeros((h, w, 3), np.uint8)
    cut = int(h * split)
    arr[:cut] = top_rgb
    arr[cut:] = bottom_rgb
    return arr


# Display P3 as Apple's profile states it: D50-adapted colorants, the sRGB tone curve.
DISPLAY_P3_COLORANTS = (
    (0.515121, 0.241196, -0.001053),
    (0.291977, 0.692245, 0.041885),
    (0.157104, 0.066574, 0.784073),
)


def rgb_icc_profile(description: str = "Display P3 (test)", colorants=DISPLAY_P3_COLORANTS) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile (no profile files exist offline).

    ``colorants`` are the D50-adapted XYZ of the red, green and blue primaries; the tone
    curve is the sRGB one, as in Display P3.
    """
    def s15(v: float) -> bytes:
        return struct.pack(">i", int(round(v * 65536)))

    def xyz(values) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + b"".join(s15(v) for v in values)

    x = np.linspace(0.0, 1.0, 1024)
    curve = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    trc = b"curv\x00\x00\x00\x00" + struct.pack(">I", 1024) + np.round(curve * 65535).astype(">u2").tobytes()
    text = description.encode("ascii") + b"\x00"
    desc = (b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text
            + struct.pack(">II", 0, 0) + b"\x00\x00" + b"\x00" + b"\x00" * 67)  # fmt: skip
    d50 = (0.9642, 1.0, 0.8249)
    tags = [(b"desc", desc), (b"wtpt", xyz(d50)), (b"rXYZ", xyz(colorants[0])), (b"gXYZ", xyz(colorants[1])),
            (b"bXYZ", xyz(colorants[2])), (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc),
            (b"cprt", b"text\x00\x00\x00\x00CC0\x00")]  # fmt: skip
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, payload in tags:
        payload += b"\x00" * (-len(payload) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\x00" * 4 + b"\x00" * 8
              + b"\x00" * 8 + struct.pack(">I", 0) + b"".join(s15(v) for v in d50) + b"\x00" * 4
              + b"\x00" * 16 + b"\x00" * 28)  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def photo_like(width: int, height: int, seed: int = 1) -> np.ndarray:
    """Smooth colour fields plus fine noise: compresses and decodes like a photograph."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    base = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    noise = rng.integers(-6, 7, (height, width, 1), dtype=np.int16)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


# An XMP packet with keywords, description, alt text and a creation date.
XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
  xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:DateCreated="2022-12-24T06:15:00">
 <dc:subject><rdf:Bag><rdf:li>Harbour</rdf:li><rdf:li>Seagulls</rdf:li></rdf:Bag></dc:subject>
 <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Boats at the quay</rdf:li></rdf:Alt></dc:description>
 <Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li xml:lang="x-default">Fishing boats moored in a calm harbour</rdf:li></rdf:Alt></Iptc4xmpCore:AltTextAccessibility>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def with_iptc(jpeg: bytes, keywords: list[str], caption: str) -> bytes:
    """Insert a Photoshop APP13 segment holding IPTC keywords (2:25) and caption (2:120)."""
    iim = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(k)) + k.encode() for k in keywords)
    iim += b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption.encode()
    if len(iim) % 2:
        iim += b"\x00"
    irb = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    payload = b"Photoshop 3.0\x00" + irb
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]
