"""Image intake: formats, sources, downscaling, orientation and the file's facts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from studio.vision.intake import DEFAULT_MAX_SIDE, load_image
from vision_helpers import XMP, encode, jpeg_declaring, photo_like, with_iptc

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


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_large_images_are_downscaled_keeping_aspect(fmt: str):
    """PNG is resized to max_side; a JPEG is decoded at 1/2 scale (1200x750: at 1/4 its short
    side would be 375 px, under 448) and then resized to the same size."""
    big = np.zeros((1500, 2400, 3), np.uint8)
    big[:, :1200] = (200, 40, 40)
    big[:, 1200:] = (40, 40, 200)
    img = load_image(encode(big, fmt))
    size = (DEFAULT_MAX_SIDE, 480)
    assert img.size == size
    assert img.info["studio"]["original_size"] == [2400, 1500]
    assert img.info["studio"]["size"] == list(size)
    arr = np.asarray(img, np.int16)
    w = size[0]
    assert np.abs(arr[size[1] // 2, w // 8] - (200, 40, 40)).max() <= 10  # colours survive the reduction
    assert np.abs(arr[size[1] // 2, w - w // 8] - (40, 40, 200)).max() <= 10
    small = load_image(encode(big, fmt), max_side=300)
    assert small.size == (300, 188)
    tiny = load_image(encode(big[:40, :50], fmt))
    assert tiny.size == (50, 40)  # never enlarged


def _side_floors(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(long, short) side a DCT-scaled decode must keep: the decode floor, or for the short
    side what the plain resize to max_side leaves it when that is less."""
    from studio.vision.intake import MIN_SIDE_PX, decode_floor

    longest, shortest = max(width, height), min(width, height)
    floor = decode_floor(max_side)
    return floor, max(MIN_SIDE_PX, min(floor, round(shortest * max_side / longest)))


@pytest.mark.parametrize(
    "width,height,max_side,denominator",
    [(4000, 3000, 768, 4), (4032, 3024, 768, 4), (6000, 4000, 768, 8), (8000, 6000, 768, 8),
     (3264, 2448, 768, 4), (2400, 1500, 768, 2), (1000, 750, 768, 1), (800, 600, 768, 1),
     (2400, 1500, 300, 8), (4000, 3000, 2000, 2), (12000, 400, 768, 8), (3000, 60, 768, 4),
     (1920, 1080, 768, 2), (3840, 2160, 768, 4), (2160, 3840, 768, 4), (7680, 4320, 768, 8),
     (4000, 1600, 768, 4), (1600, 4000, 768, 4), (4000, 1600, 1536, 2)],
)  # fmt: skip
def test_jpeg_dct_scale_keeps_both_sides_above_the_floor(width, height, max_side, denominator):
    from studio.vision.intake import _decode_floors, decode_floor

    assert decode_floor(DEFAULT_MAX_SIDE) == 448 and decode_floor(300) == 175 and decode_floor(2000) == 1167
    long_floor, short_floor = _side_floors(width, height, max_side)
    floors = _decode_floors(width, height, max_side)
    assert floors == ((long_floor, short_floor) if width >= height else (short_floor, long_floor))
    with Image.open(io.BytesIO(jpeg_declaring(width, height))) as img:  # the header only
        img.draft(None, floors)  # as load_image asks: Pillow picks the scale
        # libjpeg's scaled decode is ceil(side / denominator)
        assert img.size == (-(-width // denominator), -(-height // denominator))
    longest, shortest = max(width, height), min(width, height)
    # libjpeg's scaled decode is ceil(side / denominator)
    assert -(-longest // denominator) >= long_floor and -(-shortest // denominator) >= short_floor
    if denominator < 8:  # the next reduction would have gone too far
        half = denominator * 2
        assert -(-longest // half) < long_floor or -(-shortest // half) < short_floor


@pytest.mark.parametrize(
    "width,height,max_side",
    [(1920, 1080, 768), (3840, 2160, 768), (4000, 1600, 768), (1600, 4000, 768), (2160, 3840, 768),
     (4000, 3000, 768), (4000, 1600, 1536)],
)  # fmt: skip
def test_wide_and_tall_jpegs_decode_with_the_short_side_above_the_floor(monkeypatch, width, height, max_side):
    """16:9, 5:2 and 2:5 photos: the DCT-scaled decode keeps the short side at or above the
    448 px floor (or, for a panorama whose short side max_side itself brings lower, at or
    above that), so the result is the same size as a full decode resized, and CLIP (shortest
    edge 224) and BLIP (224 or 384 square) still downsample whenever max_side allows it."""
    import studio.vision.intake as intake

    decoded: list[tuple[int, int]] = []
    to_rgb = intake._to_rgb
    monkeypatch.setattr(intake, "_to_rgb", lambda img: decoded.append(img.size) or to_rgb(img))
    arr = photo_like(width, height)
    img = load_image(encode(arr, "JPEG", quality=85), max_side=max_side)

    (dw, dh), = decoded
    assert (dw, dh) != (width, height)  # it was DCT-scaled
    long_floor, short_floor = _side_floors(width, height, max_side)
    assert max(dw, dh) >= long_floor and min(dw, dh) >= short_floor
    plain = load_image(encode(arr, "PNG"), max_side=max_side)
    assert img.size == plain.size  # the decode never ends up smaller than a full one resized
    if round(min(width, height) * max_side / max(width, height)) >= 448:
        assert min(dw, dh) >= 448
    if max_side == DEFAULT_MAX_SIDE and max(width, height) / min(width, height) <= 2:
        assert min(img.size) >= 384  # above BLIP-large's 384 px square: no model upsamples
    diff = np.abs(np.asarray(img, np.int16) - np.asarray(plain, np.int16))
    assert float(diff.mean()) < 2.0  # the same picture


def test_12_megapixel_jpeg_is_decoded_at_one_quarter_and_matches_a_full_decode():
    """4000x3000 comes out of the decoder at 1000x750 (no decode at full size; at 1/8 its
    short side would be 375 px, below BLIP-large's 384), is resized to 768x576, and shows the
    same picture as a full decode downscaled."""
    arr = photo_like(4000, 3000)
    data = encode(arr, "JPEG", quality=90)
    img = load_image(data, filename="phone.jpg")
    assert img.size == (768, 576) and img.mode == "RGB"
    assert img.info["studio"]["original_size"] == [4000, 3000]
    reference = Image.open(io.BytesIO(data)).convert("RGB").resize((768, 576), Image.Resampling.BOX)
    diff = np.abs(np.asarray(img, np.int16) - np.asarray(reference, np.int16))
    assert float(diff.mean()) < 1.5 and int(np.percentile(diff, 99)) <= 6


def test_rotated_phone_jpeg_is_reduced_then_turned_upright():
    arr = np.zeros((3024, 4032, 3), np.uint8)
    arr[:, :2016] = (220, 30, 30)  # stored sideways: left half red
    arr[:, 2016:] = (30, 30, 220)
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise: red ends up on top
    img = load_image(encode(arr, "JPEG", quality=85, exif=exif.tobytes()))
    assert img.size == (576, 768)
    assert img.info["studio"]["original_size"] == [3024, 4032]
    assert img.getpixel((288, 80))[0] > 180 and img.getpixel((288, 690))[2] > 180


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
    data = with_iptc(encode(GRADIENT, "JPEG"), ["Forest", "Rain"], "Rain in the pines")
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


# --------------------------------------------------------------------------- colour profiles


def _p3_to_srgb(rgb) -> np.ndarray:
    """The reference: Display P3 -> sRGB through linear light (both D65, same tone curve)."""
    def eotf(v):
        return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)

    def oetf(v):
        v = np.clip(v, 0.0, 1.0)
        return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)

    p3_to_srgb = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])
    return np.round(oetf(p3_to_srgb @ eotf(np.asarray(rgb, np.float64) / 255.0)) * 255.0)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_display_p3_images_are_converted_to_srgb(fmt: str):
    """What iPhones write: the same numbers mean more saturated colours in P3, so a P3
    green must come out greener in sRGB, and a neutral grey stays grey."""
    from vision_helpers import rgb_icc_profile

    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :30] = (128, 200, 100)
    arr[:, 30:] = (128, 128, 128)
    kw = {"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}
    img = load_image(encode(arr, fmt, icc_profile=rgb_icc_profile(), **kw))
    green = np.asarray(img.getpixel((10, 20)))
    assert np.abs(green - _p3_to_srgb((128, 200, 100))).max() <= 2, green  # (103, 202, 85)
    assert np.abs(green - (128, 200, 100)).max() >= 20  # really converted
    grey = np.asarray(img.getpixel((50, 20)), np.int16)
    assert grey.max() - grey.min() <= 1 and abs(int(grey[0]) - 128) <= 2


def test_colour_transforms_are_built_once_and_safe_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    from studio.vision import intake
    from vision_helpers import rgb_icc_profile

    icc = rgb_icc_profile("Display P3 (threads)")
    rng = np.random.default_rng(2)
    arrays = [(rng.random((48, 64, 3)) * 255).astype(np.uint8) for _ in range(8)]
    files = [encode(a, "PNG", icc_profile=icc) for a in arrays]
    intake._build_srgb_transform.cache_clear()
    serial = [np.asarray(load_image(f)) for f in files]
    assert intake._build_srgb_transform.cache_info().misses == 1  # one profile, one transform
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda f: np.asarray(load_image(f)), files * 4))
    for k, got in enumerate(parallel):
        assert np.array_equal(got, serial[k % len(files)])
    assert intake._build_srgb_transform.cache_info().misses == 1
    assert not np.array_equal(serial[0], arrays[0])  # converted, not passed through


def test_16_bit_grey_maps_every_level_like_dividing_by_257():
    ramp = np.arange(65536, dtype=np.uint32).reshape(256, 256).astype(np.uint16)
    img = load_image(encode(ramp, "PNG"), max_side=256)
    assert img.size == (256, 256)
    got = np.asarray(img)[..., 0].astype(np.int64)
    assert np.array_equal(got, np.round(ramp.astype(np.float64) / 257.0).astype(np.int64))
    assert np.array_equal(np.asarray(img)[..., 0], np.asarray(img)[..., 2])  # grey stays grey
