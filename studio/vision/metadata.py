"""What an image file says about itself: EXIF date/time and orientation, IPTC and XMP
keywords, description, title and alt text, PNG text chunks.

Everything here is best effort: metadata is optional and often malformed, so a field that
cannot be parsed is left out rather than failing the image. Values are plain JSON types so
``image.info["studio"]`` can be printed by the CLI and stored in a manifest.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

# EXIF tag numbers (TIFF/EXIF 2.32).
_ORIENTATION = 0x0112
_IMAGE_DESCRIPTION = 0x010E
_DATETIME = 0x0132
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004
_XP_TITLE = 0x9C9B
_XP_COMMENT = 0x9C9C
_XP_KEYWORDS = 0x9C9E
_XP_SUBJECT = 0x9C9F

# IPTC IIM (record 2) datasets.
_IPTC_OBJECT_NAME = (2, 5)
_IPTC_KEYWORDS = (2, 25)
_IPTC_DATE_CREATED = (2, 55)
_IPTC_TIME_CREATED = (2, 60)
_IPTC_HEADLINE = (2, 105)
_IPTC_CAPTION = (2, 120)

# Longest free text kept per field: a caption is built from these, and the Caption text
# itself is capped at 2000 characters.
MAX_TEXT_CHARS = 300
MAX_KEYWORDS = 20
# XMP packets beyond this are ignored rather than parsed (nobody writes 1 MB of keywords).
MAX_XMP_BYTES = 1_000_000

_EXIF_DT_RE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")


def empty_facts() -> dict[str, Any]:
    """The metadata keys with their 'unknown' values (always all present)."""
    return {
        "orientation": 1,
        "exif_datetime": None,
        "keywords": [],
        "description": None,
        "title": None,
        "alt_text": None,
    }


def read_facts(image: Any) -> dict[str, Any]:
    """Metadata of an opened PIL image (call after ``load()`` so PNG text chunks are read)."""
    facts = empty_facts()
    keywords: list[str] = []
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF must not fail the image
        exif = None
    if exif:
        _read_exif(exif, facts, keywords)
    _read_iptc(image, facts, keywords)
    _read_xmp(image.info.get("xmp"), facts, keywords)
    _read_png_text(image.info, facts, keywords)
    facts["keywords"] = _dedupe(keywords)[:MAX_KEYWORDS]
    return facts


# --------------------------------------------------------------------------- EXIF


def _read_exif(exif: Any, facts: dict[str, Any], keywords: list[str]) -> None:
    try:
        orientation = int(exif.get(_ORIENTATION, 1) or 1)
    except (TypeError, ValueError):
        orientation = 1
    facts["orientation"] = orientation if 1 <= orientation <= 8 else 1
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001
        sub = {}
    for raw in (sub.get(_DATETIME_ORIGINAL), sub.get(_DATETIME_DIGITIZED), exif.get(_DATETIME)):
        when = parse_exif_datetime(raw)
        if when:
            facts["exif_datetime"] = when
            break
    desc = _clean_text(exif.get(_IMAGE_DESCRIPTION))
    if desc and not _is_camera_boilerplate(desc):
        facts["description"] = desc
    title = _xp_text(exif.get(_XP_TITLE))
    if title:
        facts["title"] = title
    if not facts["description"]:
        facts["description"] = _xp_text(exif.get(_XP_COMMENT)) or _xp_text(exif.get(_XP_SUBJECT))
    xp_keywords = _xp_text(exif.get(_XP_KEYWORDS))
    if xp_keywords:
        keywords.extend(k for k in re.split(r"[;,]", xp_keywords))


def parse_exif_datetime(raw: Any) -> Optional[str]:
    """``"2023:06:01 19:42:05"`` -> ``"2023-06-01T19:42:05"``; None when absent or invalid."""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "ignore")
    if not isinstance(raw, str):
        return None
    m = _EXIF_DT_RE.match(raw)
    if not m:
        return None
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    second = int(m.group(6) or 0)
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:  # "0000:00:00 00:00:00" is common in cameras with no clock set
        return None


def _xp_text(raw: Any) -> Optional[str]:
    """Windows XP* tags are UTF-16LE bytes (or a tuple of byte values)."""
    if raw is None:
        return None
    if isinstance(raw, tuple):
        try:
            raw = bytes(raw)
        except (TypeError, ValueError):
            return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-16-le", "ignore")
    return _clean_text(raw)


def _is_camera_boilerplate(text: str) -> bool:
    # Many cameras fill ImageDescription with their own name or placeholders.
    low = text.lower()
    return low in {"", "default", "image", "picture", "photo"} or low.startswith(
        ("olympus digital camera", "sony dsc", "digital camera", "samsung", "image description")
    )


# --------------------------------------------------------------------------- IPTC


def _read_iptc(image: Any, facts: dict[str, Any], keywords: list[str]) -> None:
    try:
        from PIL import IptcImagePlugin

        iptc = IptcImagePlugin.getiptcinfo(image) or {}
    except Exception:  # noqa: BLE001
        return
    for value in _as_list(iptc.get(_IPTC_KEYWORDS)):
        keywords.append(_decode(value))
    caption = _clean_text(_decode_first(iptc.get(_IPTC_CAPTION)))
    if caption and not facts["description"]:
        facts["description"] = caption
    title = _clean_text(_decode_first(iptc.get(_IPTC_OBJECT_NAME)) or _decode_first(iptc.get(_IPTC_HEADLINE)))
    if title and not facts["title"]:
        facts["title"] = title
    if not facts["exif_datetime"]:
        date = _decode_first(iptc.get(_IPTC_DATE_CREATED))  # CCYYMMDD
        time = _decode_first(iptc.get(_IPTC_TIME_CREATED))  # HHMMSS+HHMM
        if date and time and len(date) >= 8 and len(time) >= 4:
            facts["exif_datetime"] = parse_exif_datetime(
                f"{date[:4]}:{date[4:6]}:{date[6:8]} {time[:2]}:{time[2:4]}:{time[4:6] or '00'}"
            )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return str(value)


def _decode_first(value: Any) -> Optional[str]:
    items = _as_list(value)
    return _decode(items[0]) if items else None


# --------------------------------------------------------------------------- XMP

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
}


def _read_xmp(raw: Any, facts: dict[str, Any], keywords: list[str]) -> None:
    if not raw:
        return
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "ignore")
    if not isinstance(raw, (bytes, bytearray)) or len(raw) > MAX_XMP_BYTES:
        return
    # The DOCTYPE guard keeps entity expansion out of the parser entirely.
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        return
    import xml.etree.ElementTree as ET

    start = raw.find(b"<x:xmpmeta")
    if start < 0:
        start = raw.find(b"<rdf:RDF")
    if start < 0:
        return
    end_tag = b"</x:xmpmeta>" if raw[start:].startswith(b"<x:xmpmeta") else b"</rdf:RDF>"
    end = raw.find(end_tag, start)
    if end < 0:
        return
    try:
        root = ET.fromstring(bytes(raw[start : end + len(end_tag)]))
    except ET.ParseError:
        return

    def values(tag: str) -> list[str]:
        prefix, _, local = tag.partition(":")
        qname = f"{{{_NS[prefix]}}}{local}"
        out: list[str] = []
        for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
            attr = desc.get(qname)
            if attr:
                out.append(attr)
            for el in desc.iter(qname):
                items = el.findall(f".//{{{_NS['rdf']}}}li")
                if items:
                    out.extend((li.text or "") for li in items)
                elif el.text and el.text.strip():
                    out.append(el.text)
        return [v for v in (_clean_text(v) for v in out) if v]

    keywords.extend(values("dc:subject"))
    for hierarchical in values("lr:hierarchicalSubject"):
        keywords.append(hierarchical.split("|")[-1])
    alt = values("Iptc4xmpCore:AltTextAccessibility")
    if alt:
        facts["alt_text"] = alt[0]
    desc = values("dc:description")
    if desc and not facts["description"]:
        facts["description"] = desc[0]
    title = values("dc:title") or values("photoshop:Headline")
    if title and not facts["title"]:
        facts["title"] = title[0]
    if not facts["exif_datetime"]:
        for tag in ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate"):
            for value in values(tag):
                when = parse_exif_datetime(value)
                if when:
                    facts["exif_datetime"] = when
                    return


# --------------------------------------------------------------------------- PNG text


def _read_png_text(info: dict[str, Any], facts: dict[str, Any], keywords: list[str]) -> None:
    # PNG tEXt/iTXt chunks land in image.info under their keyword (Pillow).
    lowered = {str(k).lower(): v for k, v in info.items() if isinstance(v, str)}
    if not facts["description"]:
        facts["description"] = _clean_text(lowered.get("description") or lowered.get("comment"))
    if not facts["title"]:
        facts["title"] = _clean_text(lowered.get("title"))
    if lowered.get("keywords"):
        keywords.extend(re.split(r"[;,]", lowered["keywords"]))
    if not facts["alt_text"]:
        facts["alt_text"] = _clean_text(lowered.get("alt") or lowered.get("alt text"))


# --------------------------------------------------------------------------- helpers


def _clean_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = _decode(value)
    text = " ".join(str(value).replace("\x00", " ").split())
    if not text:
        return None
    return text[:MAX_TEXT_CHARS]


def _dedupe(words: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        cleaned = _clean_text(word)
        if cleaned:
            key = cleaned.lower()[:60]
            if key not in seen:
                seen[key] = None
    return list(seen)
