"""The bad-image corpus: every file a user might upload, generated here, either becomes a
valid upright RGB image or raises an ImageError whose one-line message names the file and
says what is wrong."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from vision_helpers import encode, jpeg_declaring
from studio.errors import ImageError, StudioError
from studio.vision.intake import load_image

RNG = np.random.default_rng(7)
NOISE = (RNG.random((64, 64, 3)) * 255).astype(np.uint8)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose IHDR (valid CRC) declares width x height, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def bmp_declaring(width: int, height: int) -> bytes:
    """A BMP header declaring width x height at 24 bpp, with almost no pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 14 + 40)
    return header + info + b"\x00" * 16


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_rgb48(rgb16: tuple[int, int, int], size: int = 16) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write these, so it is built by hand)."""
    row = b"\x00" + struct.pack(">HHH", *rgb16) * size
    ihdr = struct.pack(">IIBBBBB", size, size, 16, 2, 0, 0, 0)
    idat = zlib.compress(row * size)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def exif_rotated() -> bytes:
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)  # left half red
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    return encode(arr, "JPEG", exif=exif.tobytes(), quality=95)


def palette_with_alpha() -> bytes:
    img = Image.new("P", (32, 32), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    img.paste(1, (16, 0, 32, 32))  # right half blue, left half index 0 (transparent red)
    return _save(img, "PNG", transparency=0)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (24, 24), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def multipage_tiff() -> bytes:
    pages = [Image.new("RGB", (24, 24), c) for c in ((0, 255, 0), (255, 0, 0))]
    return _save(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def panorama() -> bytes:
    """A 12000x1000 phone panorama (12 MP, 12:1): reduced at decode, then to 768 px."""
    return encode(np.full((1000, 12000, 3), (200, 120, 40), np.uint8), "JPEG", quality=90)


def heic_converted_p3() -> bytes:
    """What an iPhone photo becomes after HEIC -> JPEG: a Display P3 profile embedded."""
    from vision_helpers import rgb_icc_profile

    arr = np.full((32, 32, 3), (128, 200, 100), np.uint8)
    return encode(arr, "JPEG", quality=100, subsampling=0, icc_profile=rgb_icc_profile("Display P3"))


def _mid_corrupt_jpeg() -> bytes:
    data = bytearray(encode(NOISE, "JPEG"))
    mid = len(data) // 2
    data[mid : mid + 200] = b"\x00" * 200
    return bytes(data)


def _rgb(img: Image.Image, xy=(2, 2)) -> tuple[int, int, int]:
    return img.getpixel(xy)


def near(a, b, tol=12) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


Ok = Callable[[Image.Image], bool]

# (file name, bytes builder, either a check on the loaded image or a regex the error matches)
CORPUS: list[tuple[str, Callable[[], bytes], "Ok | str"]] = [
    ("zero_byte.jpg", lambda: b"", r"is empty \(0 bytes\)"),
    ("notes_named_as.jpg", lambda: b"Shopping list:\n- milk\n- bread\n" * 5, r"contains text, not image data"),
    ("random_bytes.png", lambda: RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes(), r"not an image"),
    ("truncated_half.jpg", lambda: encode(NOISE, "JPEG")[: len(encode(NOISE, "JPEG")) // 2], r"truncated or corrupt"),
    ("truncated_header.jpg", lambda: encode(NOISE, "JPEG")[:20], r"starts like a JPEG file but its header is truncated"),
    ("truncated.png", lambda: encode(NOISE, "PNG")[: len(encode(NOISE, "PNG")) // 2], r"truncated or corrupt"),
    ("corrupt_idat.png", lambda: (lambda d: d[:100] + b"\x00" * 40 + d[140:])(encode(NOISE, "PNG")), r"truncated or corrupt"),
    ("gigapixel_header.png", lambda: png_declaring(100_000, 100_000), r"decompression bomb"),
    ("declared_20000x20000.png", lambda: png_declaring(20_000, 20_000), r"decompression bomb"),
    ("declared_20000x20000.jpg", lambda: jpeg_declaring(20_000, 20_000, NOISE), r"decompression bomb"),
    ("declared_20000x20000.bmp", lambda: bmp_declaring(20_000, 20_000), r"decompression bomb"),
    ("declared_12000x10000.png", lambda: png_declaring(12_000, 10_000), r"120 megapixels\), more than the 80-megapixel limit"),
    ("declared_9000x9000.png", lambda: png_declaring(9_000, 9_000), r"81 megapixels\), more than the 80-megapixel limit"),
    ("one_by_one.png", lambda: encode(np.zeros((1, 1, 3), np.uint8), "PNG"), r"only 1x1 px; images must be at least 8 px"),
    ("sliver_2000x10.png", lambda: encode(np.zeros((10, 2000, 3), np.uint8), "PNG"), r"aspect ratio beyond 30:1"),
    ("photo.heic", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, r"HEIC/HEIF, which is not supported"),
    ("scan.pdf.png", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + b"\x00" * 64, r"is PDF, which is not supported"),
    ("vector.svg.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', r"SVG/XML"),
    ("icon.ppm", lambda: _save(Image.fromarray(NOISE), "PPM"), r"not an image this app can read; choose a JPEG, PNG"),
    # Valid but awkward inputs: each must come out as a correct RGB image.
    ("cmyk.jpg", lambda: _save(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG"), lambda im: near(_rgb(im), (0, 255, 255), 20)),
    ("rgb48.png", lambda: png_rgb48((65535, 32896, 0)), lambda im: near(_rgb(im), (255, 128, 0), 1)),
    ("cmyk.tif", lambda: _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "TIFF"), lambda im: near(_rgb(im), (255, 0, 0), 20)),
    ("grey16.png", lambda: encode(np.full((32, 32), 32896, np.uint16), "PNG"), lambda im: near(_rgb(im), (128, 128, 128), 1)),
    ("grey16_white.tif", lambda: encode(np.full((32, 32), 65535, np.uint16), "TIFF"), lambda im: near(_rgb(im), (255, 255, 255), 0)),
    ("float32.tif", lambda: encode(np.full((32, 32), 0.25, np.float32), "TIFF"), lambda im: near(_rgb(im), (64, 64, 64), 1)),
    ("palette_alpha.png", palette_with_alpha, lambda im: near(_rgb(im, (4, 4)), (255, 255, 255), 0) and near(_rgb(im, (28, 4)), (0, 0, 255), 0)),
    ("grey_alpha_la.png", lambda: _save(Image.new("LA", (32, 32), (0, 0)), "PNG"), lambda im: near(_rgb(im), (255, 255, 255), 0)),
    ("half_transparent.webp", lambda: _save(Image.new("RGBA", (32, 32), (0, 0, 0, 128)), "WEBP", lossless=True), lambda im: near(_rgb(im), (127, 127, 127), 2)),
    ("bilevel.bmp", lambda: _save(Image.new("1", (32, 32), 1), "BMP"), lambda im: near(_rgb(im), (255, 255, 255), 0)),
    ("animated.gif", animated_gif, lambda im: near(_rgb(im), (255, 0, 0), 2) and im.info["studio"]["animated"]),
    ("gif_cut_after_first_frame.gif", lambda: animated_gif()[: len(animated_gif()) // 2], lambda im: near(_rgb(im), (255, 0, 0), 2)),
    ("multipage.tif", multipage_tiff, lambda im: near(_rgb(im), (0, 255, 0), 0)),
    ("exif_rotated.jpg", exif_rotated, lambda im: im.size == (20, 40) and near(_rgb(im, (10, 5)), (255, 0, 0), 40) and near(_rgb(im, (10, 35)), (0, 0, 255), 40)),
    ("corrupt_scan_data.jpg", _mid_corrupt_jpeg, lambda im: im.size == (64, 64)),
    ("missing_iend.png", lambda: encode(NOISE, "PNG")[:-12], lambda im: np.array_equal(np.asarray(im), NOISE)),
    ("png_named_as.jpg", lambda: encode(NOISE, "PNG"), lambda im: np.array_equal(np.asarray(im), NOISE) and im.info["studio"]["format"] == "PNG"),
    ("trailing_garbage.jpg", lambda: encode(np.full((32, 32, 3), (10, 200, 30), np.uint8), "JPEG", quality=95) + b"\x00junk" * 50, lambda im: near(_rgb(im), (10, 200, 30), 6)),
    ("panorama_12000x1000.jpg", panorama, lambda im: im.size == (768, 64) and im.info["studio"]["original_size"] == [12000, 1000] and near(_rgb(im, (10, 32)), (200, 120, 40), 12)),
    ("from_heic_display_p3.jpg", heic_converted_p3, lambda im: near(_rgb(im), (103, 202, 85), 3)),
]

# Every refusal tells the user what to do or what is allowed, not only what went wrong.
GUIDANCE = re.compile(r"choose a|re-export|re-download|the limit is|resize it|crop it|convert it|must be at least")


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 20
    assert sum(isinstance(e, str) for _, _, e in CORPUS) >= 12


@pytest.mark.parametrize("name,build,expect", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_image_corpus(tmp_path: Path, name: str, build, expect):
    path = tmp_path / name
    path.write_bytes(build())
    if isinstance(expect, str):
        with pytest.raises(ImageError) as info:
            load_image(path)
        message = str(info.value)
        assert isinstance(info.value, StudioError)
        assert re.search(expect, message), message
        assert name in message  # the user can tell which file
        assert "\n" not in message and len(message) < 300
        assert GUIDANCE.search(message), message
    else:
        img = load_image(path)
        assert img.mode == "RGB"
        assert img.info["studio"]["filename"] == name
        assert 8 <= min(img.size) and max(img.size) <= 768 and img.info["studio"]["size"] == list(img.size)
        assert expect(img), (name, img.size, img.getpixel((2, 2)))


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(ImageError, match=r"image file not found: .*nope\.jpg"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match=r"is a folder, not an image file"):
        load_image(tmp_path)


def test_byte_limit_is_checked_before_reading(tmp_path: Path):
    path = tmp_path / "big.png"
    path.write_bytes(encode(NOISE, "PNG"))
    with pytest.raises(ImageError, match=r"'big.png' is 0 MB; the limit is 0 MB"):
        load_image(path, max_bytes=1000)


def test_unsupported_source_type():
    with pytest.raises(ImageError, match=r"give a file path, bytes or a binary file"):
        load_image(12345)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match=r"binary mode"):
        load_image(io.StringIO("not bytes"))


# --------------------------------------------------------------------------- fuzzing

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SEEDS = {
    fmt: encode(NOISE[:24, :24], fmt)
    for fmt in ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
}


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(_SEEDS)),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6),
)
def test_mutated_files_never_escape_as_other_errors(fmt, cut, flips):
    """Truncated and byte-flipped files give an RGB image or an ImageError, nothing else."""
    data = bytearray(_SEEDS[fmt])
    for where, value in flips:
        data[min(len(data) - 1, int(where * len(data)))] = value
    data = bytes(data[: max(0, int(cut * len(data)) if cut < 0.98 else len(data))])
    try:
        img = load_image(data, filename=f"fuzz.{fmt.lower()}")
    except ImageError as exc:
        assert "\n" not in str(exc) and "fuzz." in str(exc)
    else:
        assert img.mode == "RGB" and min(img.size) >= 8
