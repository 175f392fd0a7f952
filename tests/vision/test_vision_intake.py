"""Image intake: formats, sources, downscaling, orientation and the file's facts."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from studio.vision.intake import DEFAULT_MAX_SIDE, load_image
from vision_helpers import encode

GRADIENT = np.dstack(
    np.broadcast_arrays(
        np.linspace(0, 255, 90)[None, :], np.linspace(255, 0, 60)[:, None], np.full((60, 90), 90.0)
    )
).astype(np.uint8)

FACT_KEYS = {
    "filename", "format", "file_size_bytes", "original_size", "size", "mode", "animated",
    "orientation", "exif_datetime", "keywords", "description", "title", "alt_text",
}  # fmt: skip


@pytest.mark.parametrize(
    "fmt,kw,tol",
    [("JPEG", {"quality": 95}, 12), ("PNG", {}, 0), ("WEBP", {"lossless": True}, 0), ("GIF", {}, 40),
     ("BMP", {}, 0), ("TIFF", {}, 0), ("AVIF", {"quality": 95}, 20)],
)  # fmt: skip
def test_each_allowed_format_gives_the_same_rgb_picture(tmp_path: Path, fmt: str, kw: dict, tol: int):
    path = tmp_path / f"gradient.{fmt.lower()}"
    path.write_bytes(encode(GRADIENT, fmt, **kw))
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (90, 60)
    diff = np.abs(np.asarray(img, np.int16) - GRADIENT.astype(np.int16))
    assert float(diff.mean()) <= tol
    facts = img.info["studio"]
    assert set(facts) == FACT_KEYS
    assert facts["format"] == fmt and facts["filename"] == path.name
    assert facts["file_size_bytes"] == path.stat().st_size


def test_path_bytes_and_stream_sources_agree(tmp_path: Path):
    data = encode(GRADIENT, "PNG")
    path = tmp_path / "scene.png"
    path.write_bytes(data)
    from_path = load_image(str(path))
    from_bytes = load_image(data, filename="upload.png")
    with open(path, "rb") as stream:
        from_stream = load_image(stream)
    assert np.array_equal(np.asarray(from_path), np.asarray(from_bytes))
    assert np.array_equal(np.asarray(from_path), np.asarray(from_stream))
    assert from_bytes.info["studio"]["filename"] == "upload.png"
    assert from_stream.info["studio"]["filename"] == "scene.png"
    assert load_image(data).info["studio"]["filename"] is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_images_are_downscaled_keeping_aspect(fmt: str):
    big = np.zeros((1500, 2400, 3), np.uint8)
    big[:, :1200] = (200, 40, 40)
    big[:, 1200:] = (40, 40, 200)
    img = load_image(encode(big, fmt))
    assert img.size == (DEFAULT_MAX_SIDE, 480)
    assert img.info["studio"]["original_size"] == [2400, 1500]
    assert img.info["studio"]["size"] == [DEFAULT_MAX_SIDE, 480]
    arr = np.asarray(img, np.int16)
    assert np.abs(arr[240, 100] - (200, 40, 40)).max() <= 10  # colours survive the reduction
    assert np.abs(arr[240, 700] - (40, 40, 200)).max() <= 10
    small = load_image(encode(big, fmt), max_side=300)
    assert max(small.size) == 300
    tiny = load_image(encode(big[:40, :50], fmt))
    assert tiny.size == (50, 40)  # never enlarged


def test_exif_orientation_and_original_size_are_upright():
    arr = np.zeros((30, 60, 3), np.uint8)
    arr[:, :30] = (255, 0, 0)
    for orientation, size, red_at in ((1, (60, 30), (5, 15)), (3, (60, 30), (55, 15)), (6, (30, 60), (15, 5)), (8, (30, 60), (15, 55))):
        exif = Image.Exif()
        exif[0x0112] = orientation
        img = load_image(encode(arr, "PNG", exif=exif.tobytes()))
        assert img.size == size, orientation
        assert img.info["studio"]["original_size"] == list(size)
        assert img.info["studio"]["orientation"] == orientation
        assert img.getpixel(red_at)[0] > 200 and img.getpixel(red_at)[2] < 50, orientation


def test_max_side_must_be_sensible():
    from studio.errors import ImageError

    with pytest.raises(ImageError, match="max_side must be at least 8 px"):
        load_image(encode(GRADIENT, "PNG"), max_side=4)


# --------------------------------------------------------------------------- metadata

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


def _with_iptc(jpeg: bytes, keywords: list[str], caption: str) -> bytes:
    """Insert a Photoshop APP13 segment holding IPTC keywords (2:25) and caption (2:120)."""
    iim = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(k)) + k.encode() for k in keywords)
    iim += b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption.encode()
    if len(iim) % 2:
        iim += b"\x00"
    irb = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    payload = b"Photoshop 3.0\x00" + irb
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_exif_datetime_and_description():
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2023:06:01 21:30:05"}
    exif[0x010E] = "Evening by the lake"
    facts = load_image(encode(GRADIENT, "JPEG", exif=exif.tobytes())).info["studio"]
    assert facts["exif_datetime"] == "2023-06-01T21:30:05"
    assert facts["description"] == "Evening by the lake"


def test_invalid_exif_date_is_ignored():
    exif = Image.Exif()
    exif[0x0132] = "0000:00:00 00:00:00"
    assert load_image(encode(GRADIENT, "JPEG", exif=exif.tobytes())).info["studio"]["exif_datetime"] is None


def test_xmp_keywords_description_alt_text_and_date():
    facts = load_image(encode(GRADIENT, "JPEG", xmp=XMP)).info["studio"]
    assert facts["keywords"] == ["harbour", "seagulls"]
    assert facts["description"] == "Boats at the quay"
    assert facts["alt_text"] == "Fishing boats moored in a calm harbour"
    assert facts["exif_datetime"] == "2022-12-24T06:15:00"


def test_xmp_in_png_and_png_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Title", "Quay at dawn")
    buf = io.BytesIO()
    Image.fromarray(GRADIENT).save(buf, "PNG", pnginfo=info)
    facts = load_image(buf.getvalue()).info["studio"]
    assert facts["keywords"] == ["harbour", "seagulls"]
    assert facts["alt_text"] == "Fishing boats moored in a calm harbour"
    assert facts["title"] == "Quay at dawn"


def test_iptc_keywords_and_caption():
    data = _with_iptc(encode(GRADIENT, "JPEG"), ["Forest", "Rain"], "Rain in the pines")
    facts = load_image(data).info["studio"]
    assert facts["keywords"] == ["forest", "rain"]
    assert facts["description"] == "Rain in the pines"


def test_xmp_with_entities_is_not_parsed():
    evil = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + XMP
    facts = load_image(encode(GRADIENT, "JPEG", xmp=evil)).info["studio"]
    assert facts["keywords"] == [] and facts["alt_text"] is None


def test_srgb_tagged_and_cmyk_profile_images_convert():
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = load_image(encode(GRADIENT, "PNG", icc_profile=srgb))
    assert np.array_equal(np.asarray(tagged), GRADIENT)  # already sRGB: untouched
    broken = load_image(encode(GRADIENT, "PNG", icc_profile=b"not a profile"))
    assert np.array_equal(np.asarray(broken), GRADIENT)  # a broken profile is ignored


def test_multipage_tiff_is_not_called_animated():
    pages = [Image.new("RGB", (24, 24), c) for c in ((0, 255, 0), (255, 0, 0))]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    facts = load_image(buf.getvalue()).info["studio"]
    assert facts["format"] == "TIFF" and facts["animated"] is False


def test_damaged_exif_is_ignored_quietly():
    import warnings

    exif = Image.Exif()
    exif[0x010E] = "A long description that will be cut off in the middle"
    exif[0x0112] = 6
    damaged = exif.tobytes()[:-20]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = load_image(encode(GRADIENT, "JPEG", exif=damaged))
    assert img.mode == "RGB"
    assert [str(w.message) for w in caught] == []
