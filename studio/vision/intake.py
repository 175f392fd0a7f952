"""Safe image intake: whatever a user uploads either becomes a clean RGB image or an
:class:`~studio.errors.ImageError` that says what was wrong and what is allowed.

Rules (also in docs/vision.md):

- formats: JPEG (and MPO), PNG, WEBP, GIF (first frame), BMP, TIFF (first page), AVIF when
  Pillow supports it; anything else, HEIC included, is refused by name;
- files larger than ``max_bytes`` (default 200 MB) are refused before reading;
- the declared size is checked from the header *before* any pixel is decoded: more than
  ``max_pixels`` (default 80 megapixels) is refused as a likely decompression bomb, and so is
  a side under :data:`MIN_SIDE_PX` (8 px) or an aspect ratio beyond :data:`MAX_ASPECT` (30:1);
- EXIF orientation is applied; CMYK (through its ICC profile when present), 16-bit and 32-bit
  grey, float, palette and grey images become RGB; transparency is composited over white
  (what a viewer shows; dropping alpha would expose arbitrary colours under it);
- RGB images with an embedded non-sRGB profile (Display P3, Adobe RGB) are converted to
  sRGB; profile transforms are built once per distinct profile and reused;
- the result is downscaled so no side exceeds ``max_side`` (default :data:`DEFAULT_MAX_SIDE`,
  768 px). A large JPEG is decoded at the smallest DCT scale (1/2, 1/4 or 1/8) whose sides,
  the short one included, are all still at least :data:`DECODE_MIN_SIDE` (448 px: twice the
  224 px input of BLIP-2 and CLIP, above BLIP-large's 384 px; 7/12 of another ``max_side``),
  or at least what the plain resize to ``max_side`` leaves a side when that is less, and
  resized only if it is still over ``max_side``: a 12 MP photo (4000x3000) is decoded at
  1000x750 and resized to 768x576, a 24 MP one (6000x4000) comes out at 750x500 with no
  resize. Other formats are resized to ``max_side``;
- ``image.info["studio"]`` holds the file's facts (see :func:`load_image`).
"""

from __future__ import annotations

import io
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Optional, Union

import numpy as np

from studio.errors import ImageError
from studio.vision.metadata import empty_facts, read_facts

DEFAULT_MAX_SIDE = 768
# A JPEG decoded by DCT scaling may stop short of max_side, but no side, short or long, below
# this (at the default max_side; in proportion for others) unless resizing to max_side would
# make it smaller anyway: twice the 224 px input of BLIP-2 and CLIP (CLIP resizes by the
# shortest edge), above the 384 px square of BLIP-large, so every model still downsamples.
# Decoding a 24 MP photo at 1/8 instead of at 1/4 and then resizing to 768 skips the resize
# and most of the inverse DCT.
DECODE_MIN_SIDE = 448
DEFAULT_MAX_PIXELS = 80_000_000  # covers 61 MP full-frame cameras and phone panoramas
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
MIN_SIDE_PX = 8
MAX_ASPECT = 30.0
BACKGROUND_RGB = (255, 255, 255)

ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
ALLOWED_TEXT = "JPEG, PNG, WEBP, GIF, BMP or TIFF"

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}

# Signatures of formats people upload that Pillow here cannot read, so the error can name them.
_KNOWN_UNSUPPORTED = (
    (4, (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypheim", b"ftypheis", b"ftypmif1", b"ftypmsf1"),
     "HEIC/HEIF"),
    (0, (b"%PDF",), "PDF"),
    (0, (b"8BPS",), "Photoshop PSD"),
    (0, (b"<svg", b"<?xml"), "SVG/XML"),
    (0, (b"PK\x03\x04",), "ZIP archive"),
    (4, (b"ftypisom", b"ftypmp42", b"ftypqt  "), "video (MP4/MOV)"),
    (0, (b"ID3", b"RIFF"), "audio or RIFF container"),
)


def load_image(
    source: ImageSource,
    *,
    filename: Optional[str] = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> "Image.Image":  # noqa: F821 - PIL is imported lazily
    """Read an image safely and return it as an upright RGB ``PIL.Image.Image``.

    ``source``: a path, raw bytes, or a binary file object (a Streamlit upload works).
    ``filename``: the name to record and analyse (defaults to the path's name); its words
    are cues for the analyser, so pass the original upload name.
    ``max_side``: longest side in px of the result (default 768); smaller images are not
    enlarged, and large JPEGs may stop between 448 and 768 px (see the module notes).

    ``image.info["studio"]`` is a dict: ``filename``, ``format``, ``file_size_bytes``,
    ``original_size`` ([width, height] upright, before downscaling), ``size`` (result),
    ``mode`` (the file's colour mode), ``orientation`` (EXIF 1..8), ``animated``,
    ``exif_datetime`` (ISO 8601 or None), ``keywords`` (list), ``description``, ``title``,
    ``alt_text`` (str or None).

    Raises :class:`ImageError` for a missing, empty, oversize, unsupported, truncated or
    corrupt file, a decompression bomb, or an image too small or too elongated to caption.
    """
    if int(max_side) < MIN_SIDE_PX:
        raise ImageError(f"max_side must be at least {MIN_SIDE_PX} px; got {max_side}")
    data, name = _read_bytes(source, filename, max_bytes)
    label = repr(name) if name else "the image"
    if not data:
        raise ImageError(f"{label} is empty (0 bytes); choose a {ALLOWED_TEXT} file")
    from PIL import Image

    with warnings.catch_warnings():
        # Our own max_pixels check runs right after the header is read, so Pillow's bomb
        # warning would only duplicate it (its hard error, over twice its limit, still
        # raises). Pillow's warnings about damaged metadata ("Corrupt EXIF data") would
        # reach the user as noise: the outcome (an image or an ImageError) is what counts.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        img = _open(data, label, int(max_pixels))
        try:
            return _prepare(img, data, name, label, int(max_side), int(max_pixels))
        finally:
            img.close()


# --------------------------------------------------------------------------- reading


def _read_bytes(source: ImageSource, filename: Optional[str], max_bytes: int) -> tuple[bytes, Optional[str]]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        name = filename or path.name
        if not path.exists():
            raise ImageError(f"image file not found: {str(path)!r}")
        if path.is_dir():
            raise ImageError(f"{str(path)!r} is a folder, not an image file")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageError(_too_big(name, size, max_bytes))
            return path.read_bytes(), name
        except PermissionError:
            raise ImageError(f"image file {str(path)!r} cannot be read (permission denied)") from None
        except OSError as exc:
            raise ImageError(f"image file {str(path)!r} cannot be read ({exc.strerror or exc})") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise ImageError(_too_big(filename, len(data), max_bytes))
        return data, filename
    read = getattr(source, "read", None)
    if callable(read):
        name = filename or _stream_name(source)
        try:
            if hasattr(source, "seek"):
                source.seek(0)
            data = read(max_bytes + 1)
        except OSError as exc:
            raise ImageError(f"the uploaded image cannot be read ({exc})") from None
        if not isinstance(data, (bytes, bytearray)):
            raise ImageError("the image stream must be opened in binary mode ('rb')")
        if len(data) > max_bytes:
            raise ImageError(_too_big(name, len(data), max_bytes))
        return bytes(data), name
    raise ImageError(
        f"cannot read an image from a {type(source).__name__}; give a file path, bytes or a binary file"
    )


def _stream_name(stream: Any) -> Optional[str]:
    name = getattr(stream, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else None


def _too_big(name: Optional[str], size: int, max_bytes: int) -> str:
    what = repr(name) if name else "the image"
    return f"{what} is {size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB"


def _open(data: bytes, label: str, max_pixels: int) -> "Image.Image":  # noqa: F821
    from PIL import Image, UnidentifiedImageError

    Image.init()  # registers every plugin, so unsupported ones (AVIF on old Pillow) are filtered out
    formats = [f for f in ALLOWED_FORMATS if f in Image.OPEN]
    try:
        return Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError as exc:
        raise ImageError(_bomb_message(label, str(exc), max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageError(_not_an_image(data, label)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as exc:
        raise ImageError(
            f"{label} is truncated or corrupt: its header cannot be read ({_short(exc)}); "
            f"re-export or re-download it"
        ) from None


# Signatures of the supported formats: a file that starts like one but does not open is
# damaged, which is a more useful message than "not an image".
_SUPPORTED_SIGNATURES = (
    (0, b"\xff\xd8\xff", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (8, b"WEBP", "WEBP"),
)


def _not_an_image(data: bytes, label: str) -> str:
    head = data[:16]
    looks_text = _looks_like_text(data[:512])
    for offset, signature, kind in _SUPPORTED_SIGNATURES:
        if kind == "BMP" and looks_text:  # "BM..." is also how some text starts
            continue
        if head[offset:].startswith(signature) and (kind != "WEBP" or head.startswith(b"RIFF")):
            return (
                f"{label} starts like a {kind} file but its header is truncated or corrupt; "
                f"re-export or re-download it"
            )
    for offset, signatures, kind in _KNOWN_UNSUPPORTED:
        if any(head[offset:].startswith(sig) for sig in signatures):
            return f"{label} is {kind}, which is not supported; convert it to {ALLOWED_TEXT}"
    if looks_text:
        return f"{label} contains text, not image data; choose a {ALLOWED_TEXT} file"
    return f"{label} is not an image this app can read; choose a {ALLOWED_TEXT} file"


def _looks_like_text(sample: bytes) -> bool:
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return bool(text) and printable >= 0.95 * len(text)


def _bomb_message(label: str, detail: str, max_pixels: int) -> str:
    return (
        f"{label} declares too many pixels to decode safely (possible decompression bomb: {detail}); "
        f"the limit is {max_pixels / 1e6:.0f} megapixels"
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# --------------------------------------------------------------------------- preparing


def _prepare(img: Any, data: bytes, name: Optional[str], label: str, max_side: int, max_pixels: int) -> Any:
    from PIL import Image

    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(
            f"{label} declares {width}x{height} px ({width * height / 1e6:.0f} megapixels), more than the "
            f"{max_pixels / 1e6:.0f}-megapixel limit (a possible decompression bomb); resize it first"
        )
    if min(width, height) < MIN_SIDE_PX:
        raise ImageError(
            f"{label} is only {width}x{height} px; images must be at least {MIN_SIDE_PX} px on each side"
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageError(
            f"{label} is {width}x{height} px, an aspect ratio beyond {MAX_ASPECT:.0f}:1; crop it first"
        )
    fmt = img.format
    source_mode = img.mode
    try:
        multi_frame = bool(getattr(img, "is_animated", False))  # peeks at frame 1
        if multi_frame:
            img.seek(0)
    except (OSError, EOFError, ValueError, SyntaxError, IndexError):
        multi_frame = False  # damage after the first frame: the first frame may still decode
        try:
            img.seek(0)
        except (OSError, EOFError, ValueError, SyntaxError, IndexError) as exc:
            raise ImageError(f"{label} is truncated or corrupt ({_short(exc)}); re-export or re-download it") from None
    # MPO (camera stereo/depth pairs) and multi-page TIFF have several frames but are not animations.
    animated = multi_frame and fmt in ("GIF", "PNG", "WEBP", "AVIF")

    longest = max(width, height)
    if longest > max_side and fmt in ("JPEG", "MPO"):
        # Pillow decodes at the largest of 1/8, 1/4, 1/2 that keeps both sides at or above
        # the size asked for (at ceil(side / d); it requires side // d to reach it, so the
        # floors always hold), or at full size.
        img.draft(None, _decode_floors(width, height, max_side))
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageError(_bomb_message(label, str(exc), max_pixels)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as exc:
        raise ImageError(
            f"{label} is truncated or corrupt and cannot be decoded ({_short(exc)}); "
            f"re-export or re-download it"
        ) from None

    try:
        facts = read_facts(img)
    except Exception:  # noqa: BLE001 - metadata is optional; never fail an image for it
        facts = empty_facts()

    try:
        rgb = _to_rgb(img)
        if max(rgb.size) > max_side:
            scale = max_side / longest
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            # Bilinear is antialiased in Pillow and 2.5x cheaper than bicubic; the model's
            # processor resizes again, so the extra sharpness would not survive anyway.
            # reducing_gap first box-reduces by a whole factor when the step is large.
            rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        rgb = _to_srgb(rgb, img.info.get("icc_profile"), source_mode)
        method = _TRANSPOSE.get(facts["orientation"])
        if method:
            rgb = rgb.transpose(getattr(Image.Transpose, method))
        if rgb is img:
            rgb = img.copy()  # detached from the file object, which the caller closes
    except ImageError:
        raise
    except (OSError, ValueError, MemoryError) as exc:
        raise ImageError(f"{label} could not be converted to RGB ({_short(exc)})") from None

    upright = (height, width) if facts["orientation"] in (5, 6, 7, 8) else (width, height)
    rgb.info = {
        "studio": {
            "filename": name,
            "format": fmt,
            "file_size_bytes": len(data),
            "original_size": list(upright),
            "size": list(rgb.size),
            "mode": source_mode,
            "animated": animated,
            **facts,
        }
    }
    return rgb


def decode_floor(max_side: int) -> int:
    """The least side a DCT-scaled JPEG decode may stop at: 448 px for the default 768, in
    proportion for another ``max_side`` (so asking for more detail gets more). It applies to
    both sides, the short one included, unless the plain resize to ``max_side`` would leave
    that side smaller still (see :func:`_decode_floors`)."""
    return max(1, round(max_side * DECODE_MIN_SIDE / DEFAULT_MAX_SIDE))


def _decode_floors(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) a DCT-scaled decode of an image that must end up with its longest
    side at most ``max_side`` has to keep: :func:`decode_floor` on each side, or for the
    short side what the plain resize to ``max_side`` gives it when that is less (a wide
    panorama's), and never under MIN_SIDE_PX.

    The short side matters as much as the long one: CLIP resizes by its shortest edge and
    BLIP squashes to a square, so a 16:9 photo decoded to 480x270 would be upscaled by all of
    them."""
    longest, shortest = max(width, height), min(width, height)
    floor = decode_floor(max_side)
    # The short side after resizing the full image to max_side (as _prepare does).
    resized_short = max(1, round(shortest * max_side / longest))
    short_floor = max(MIN_SIDE_PX, min(floor, resized_short))
    return (floor, short_floor) if width >= height else (short_floor, floor)


def _to_rgb(img: Any) -> Any:
    """Any Pillow mode -> 8-bit RGB, scaling deep images and compositing alpha over white."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_deep_to_uint8(np.asarray(img)), "L").convert("RGB")
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette is not None and img.palette.mode == "RGBA"
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
    if mode == "CMYK":
        return _cmyk_to_rgb(img)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode in ("L", "RGB") and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND_RGB + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _deep_to_uint8(arr: np.ndarray) -> np.ndarray:
    """16/32-bit integer or float grey -> uint8, by the range its type implies.

    Kept in 32-bit arithmetic: a 12 MP 16-bit scan would otherwise make 100 MB int64 and
    float64 copies."""
    if arr.dtype.kind == "f":
        finite = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(finite.min()), float(finite.max())
        if lo >= 0.0 and hi <= 1.0:
            return np.round(finite * np.float32(255.0)).astype(np.uint8)
        span = np.float32(hi - lo or 1.0)
        return np.round((finite - np.float32(lo)) / span * np.float32(255.0)).astype(np.uint8)
    if not arr.size:
        return arr.astype(np.uint8)
    lo, hi = int(arr.min()), int(arr.max())
    if lo >= 0 and hi <= 255:
        return arr.astype(np.uint8)
    if lo >= 0 and hi <= 65535:
        # round(v / 257) exactly: v / 257 is never halfway between integers.
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    scaled = (arr.astype(np.float64) - lo) * (255.0 / max(1, hi - lo))  # 32-bit ints need float64
    return np.round(scaled).astype(np.uint8)


def _cmyk_to_rgb(img: Any) -> Any:
    transform = _srgb_transform(img.info.get("icc_profile"), "CMYK")
    if transform is not None:
        try:
            from PIL import ImageCms

            return ImageCms.applyTransform(img, transform)
        except Exception:  # noqa: BLE001 - a profile that fails on these pixels: plain formula
            pass
    return img.convert("RGB")


def _to_srgb(rgb: Any, icc: Optional[bytes], source_mode: str) -> Any:
    """Convert from an embedded RGB profile (Display P3, Adobe RGB) to sRGB, which models
    and screens assume; sRGB-tagged or untagged images are returned unchanged."""
    if not icc or source_mode not in ("RGB", "RGBA", "P"):
        return rgb
    transform = _srgb_transform(icc, "RGB")
    if transform is None:
        return rgb
    try:
        from PIL import ImageCms

        return ImageCms.applyTransform(rgb, transform)
    except Exception:  # noqa: BLE001 - a profile that fails on these pixels: keep them as they are
        return rgb


def _srgb_transform(icc: Any, mode: str) -> Any:
    """A cached ImageCms transform from the embedded profile ``icc`` (for ``mode`` "RGB" or
    "CMYK" pixels) to sRGB; None when there is no profile, it is broken, of another colour
    space, or already sRGB. Phone photos repeat a handful of profiles (Display P3, sRGB),
    and building a transform costs about as much as applying it to a 768 px image."""
    if not icc or not isinstance(icc, (bytes, bytearray)):
        return None
    return _build_srgb_transform(bytes(icc), mode)


@lru_cache(maxsize=16)
def _build_srgb_transform(icc: bytes, mode: str) -> Any:
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = src.profile.xcolor_space.strip()
        if space != mode:
            return None
        if mode == "RGB" and "srgb" in (ImageCms.getProfileDescription(src) or "").lower():
            return None
        # NOCACHE: lcms's one-pixel cache is per transform and not thread-safe, and Streamlit
        # sessions share this cached transform across threads.
        return ImageCms.buildTransform(
            src, ImageCms.createProfile("sRGB"), mode, "RGB", flags=ImageCms.Flags.NOCACHE
        )
    except Exception:  # noqa: BLE001 - a broken profile: no transform
        return None
