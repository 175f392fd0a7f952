"""The offline captioner: a description built from what the pixels and the file honestly say.

It never pretends to recognise objects. It measures colour regions (a blue band at the top
is called sky, green areas vegetation, blue below the horizon water, bright white ground
snow, sand-coloured ground sand, bright orange on dark fire), rain streaks on a pane
(``studio.vision.rain``), overall light (day, dusk, night), warmth, saturation and texture, and reads the file's metadata (EXIF time of day,
IPTC/XMP keywords, description and alt text) and file-name words. The text says it is an
analysis; ``Caption.cues`` lists every finding as a short token for the rule planner.

All thresholds below were set on synthetic scenes and the example images; they work on an
``ANALYSIS_SIDE_PX`` thumbnail so the cost is a few milliseconds whatever the input size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

import numpy as np

from studio.types import Caption
from studio.vision.pixels import luma as luma_of, reduced_rgb
from studio.vision.rain import measure_rain

ANALYSIS_SIDE_PX = 128
# "Indoors under warm artificial light" (set on the cafe example and synthetic frames): no
# outdoor region at all, mean R-B at least INDOOR_MIN_WARMTH, warm hues over at least
# INDOOR_MIN_WARM_SHARE of the frame, lit (luma >= INDOOR_MIN_LUMA) and not a flat wash.
INDOOR_MIN_WARMTH = 0.2
INDOOR_MIN_WARM_SHARE = 0.5
INDOOR_MIN_LUMA = 0.16
INDOOR_MIN_TEXTURE = 0.02
# Rain is only looked for behind glass: the 128-px thumbnail of a rainy pane stays smooth (the
# background is out of focus); soft lights are saturated, lit pixels over LIGHTS_MIN_SHARE of
# a dim frame. See docs/vision.md for how both were set.
WINDOW_MAX_TEXTURE = 0.03
LIGHTS_MIN_SHARE = 0.02
MAX_FILENAME_WORDS = 6
MAX_KEYWORD_CUES = 8

_FILENAME_STOPWORDS = frozenset(
    """img image images dsc dscn dscf pxl photo photos pic picture pictures jpg jpeg png webp gif bmp
    tif tiff heic avif mpo copy final edit edited scaled small large thumb thumbnail screenshot
    whatsapp signal telegram and the with of at in on an to from for by my new untitled export
    exported version orig original resized crop cropped file download downloaded upload uploaded
    camera mvimg burst pano panorama portrait""".split()
)


@dataclass
class Analysis:
    """The measurements behind an analysis caption (all fractions are of thumbnail pixels)."""

    colours: list[tuple[str, float]]  # dominant colour names and their share of the frame
    luminance: float  # mean Rec.709 luma of the sRGB values, 0..1
    light: str  # "day", "dusk" or "night"
    warmth: float  # mean(R) - mean(B), -1..1
    saturation: float  # mean HSV saturation of non-black pixels, 0..1
    texture: float  # mean absolute luma step between neighbouring pixels
    regions: list[tuple[str, str, float]] = field(default_factory=list)  # (cue, phrase, centre_y)
    extra_cues: list[str] = field(default_factory=list)
    indoor_light: bool = False  # no sky, land or water, lit warm and not dark: lamplight indoors
    rain: bool = False  # streaks over the whole frame and a blurred background (studio.vision.rain)
    window: bool = False  # the rain is on a pane (always with rain: it is only looked for there)
    blurred_lights: bool = False  # soft coloured lights in a dark frame

    @property
    def looks_indoor(self) -> bool:
        return self.indoor_light

    @property
    def region_cues(self) -> list[str]:
        return [cue for cue, _, _ in self.regions]


class AnalysisCaptioner:
    """Offline captioner (registry name ``analysis``): no model, always available."""

    name = "analysis"

    def __init__(self, *, thumbnail_px: int = ANALYSIS_SIDE_PX) -> None:
        self.thumbnail_px = int(thumbnail_px)

    @classmethod
    def create(cls, **opts: Any) -> "AnalysisCaptioner":
        return cls(**opts)

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        return True, "offline image analysis; needs no model"

    def caption(self, image: Any) -> Caption:
        """A :class:`Caption` with ``source="analysis"``, ``model=None``, the findings as ``cues``."""
        facts = dict(getattr(image, "info", {}).get("studio") or {})
        if not facts.get("filename"):
            facts["filename"] = getattr(image, "filename", None) or None
        analysis = analyse_pixels(image, thumbnail_px=self.thumbnail_px)
        text, cues = describe(analysis, facts)
        return Caption(text=text, source="analysis", model=None, cues=tuple(cues))


# --------------------------------------------------------------------------- pixels


def analyse_pixels(image: Any, *, thumbnail_px: int = ANALYSIS_SIDE_PX) -> Analysis:
    """Measure colour regions, light, warmth, saturation and texture of an RGB image."""
    rgb = reduced_rgb(image, thumbnail_px)
    h_deg, sat, val = _hsv(rgb)
    luma = luma_of(rgb)
    rows = np.broadcast_to(np.linspace(0.0, 1.0, rgb.shape[0], dtype=np.float32)[:, None], luma.shape)

    names = _colour_names(h_deg, sat, val)
    labels, counts = np.unique(names, return_counts=True)
    shares = sorted(((str(n), c / names.size) for n, c in zip(labels, counts)), key=lambda x: -x[1])
    colours = [(n, round(float(s), 3)) for n, s in shares if s >= 0.12][:3] or [
        (shares[0][0], round(float(shares[0][1]), 3))
    ]

    lum = float(luma.mean())
    coloured = val > 0.16
    saturation = float(sat[coloured].mean()) if coloured.any() else 0.0
    warmth = float(rgb[..., 0].mean() - rgb[..., 2].mean())
    texture = float(
        (np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean()) / 2.0
        if min(luma.shape) > 1
        else 0.0
    )

    top = rows < 1 / 3
    upper = rows < 0.5
    lower = ~upper
    blue = (h_deg >= 185) & (h_deg < 255) & (sat >= 0.18) & (val >= 0.30)
    watery = (h_deg >= 170) & (h_deg < 255) & (sat >= 0.15) & (val >= 0.15)
    green = (h_deg >= 65) & (h_deg < 170) & (sat >= 0.20) & (val >= 0.12)
    white = (sat <= 0.12) & (val >= 0.78)
    sandy = (h_deg >= 20) & (h_deg < 55) & (sat >= 0.15) & (sat <= 0.60) & (val >= 0.50)
    warm_px = ((h_deg < 50) | (h_deg >= 330)) & (sat >= 0.35) & (val >= 0.35)
    flame = (h_deg >= 5) & (h_deg < 55) & (sat >= 0.5) & (val >= 0.8)
    dark = val < 0.2

    regions: list[tuple[str, str, float]] = []
    extra: list[str] = []

    def share(mask: np.ndarray, where: np.ndarray) -> float:
        return float((mask & where).sum() / max(1, where.sum()))

    def centre(mask: np.ndarray) -> float:
        return float(rows[mask].mean()) if mask.any() else 0.5

    # Skies are smooth: warm or pale regions at the top only count as sky when the top third
    # has little texture (wood grain, walls with detail and foliage do not pass).
    top_luma = luma[: max(2, luma.shape[0] // 3)]
    top_texture = float(
        (np.abs(np.diff(top_luma, axis=0)).mean() + np.abs(np.diff(top_luma, axis=1)).mean()) / 2.0
        if min(top_luma.shape) > 1
        else 0.0
    )
    smooth_top = top_texture < 0.03
    sunset = smooth_top and share(warm_px, upper) >= 0.35 and 0.12 <= lum <= 0.8
    sky_blue = share(blue, top) >= 0.4
    sky_deep = not sky_blue and smooth_top and share(watery, top) >= 0.4  # dusk or night blue
    overcast = (
        not sky_blue
        and smooth_top
        and share(white | ((sat <= 0.15) & (val >= 0.65)), top) >= 0.6
        and float(luma[lower].mean()) < float(luma[top].mean()) - 0.15
    )
    if sky_blue:
        regions.append(("sky", "blue sky", centre(blue & upper)))
    elif sunset:
        regions.append(("sky", "a glowing orange sky", centre(warm_px & upper)))
        extra.append("sunset")
    elif sky_deep:
        regions.append(("sky", "a deep blue sky", centre(watery & upper)))
    elif overcast:
        regions.append(("sky", "a pale overcast sky", centre(top)))
        extra.append("overcast")

    sky_px = (blue if sky_blue else watery) & top
    low_blue = watery & lower
    if share(watery, lower) >= 0.3:
        # Blue above and below is one sky unless a horizon (a sharp change between rows)
        # separates them; gradients of a dusk sky change slowly.
        distinct_from_sky = share(sky_px, top) < 0.4 or _has_horizon(rgb)
        if distinct_from_sky:
            regions.append(("water", "water", centre(low_blue)))
    if float(green.mean()) >= 0.15:
        regions.append(("vegetation", "green vegetation", centre(green)))
    # White ground under something else is snow-like; a blank white frame (a page, a
    # graphic's background) is not.
    blank_white = share(white, top) >= 0.9 and texture < 0.01
    if share(white, lower) >= 0.35 and not blank_white:
        regions.append(("snow", "snow-white ground", centre(white & lower)))
    if share(sandy, lower) >= 0.3 and not sunset:
        regions.append(("sand", "sand", centre(sandy & lower)))
    flame_share = float(flame.mean())
    if 0.01 <= flame_share <= 0.45 and float(dark.mean()) >= 0.35:
        regions.append(("fire", "bright orange firelight in the dark", centre(flame)))
    regions.sort(key=lambda r: r[2])

    # No sky, water, vegetation, snow, sand or fire, yet lit and clearly warm with surfaces of
    # some texture: what a photo under lamps or bulbs looks like (a cafe table, a living room).
    # Daylight outdoors is neutral or cool unless the sun is low, and a low sun shows a sky.
    # It says where the light comes from, not what is in the room.
    indoor_light = (
        not regions
        and lum >= INDOOR_MIN_LUMA
        and warmth >= INDOOR_MIN_WARMTH
        and texture >= INDOOR_MIN_TEXTURE
        and share(warm_px | (h_deg < 50) & (sat >= 0.25) & (val >= 0.16), rows >= 0) >= INDOOR_MIN_WARM_SHARE
    )
    if indoor_light:
        extra.append("indoor")

    # Rain streaks (studio.vision.rain), only over an out-of-focus background: behind a pane
    # the thumbnail (where streaks shrink to a fraction of a pixel) has little texture. Sharp
    # scenes are not measured: a city's lit windows make rain-like lines, and streaks over a
    # sharp scene were never validated. This also skips the measurement for most photos.
    rain = texture < WINDOW_MAX_TEXTURE and measure_rain(image).is_rain
    window = rain
    glow = (sat >= 0.25) & (val >= 0.3)
    blurred_lights = rain and lum < 0.35 and LIGHTS_MIN_SHARE <= float(glow.mean()) <= 0.5
    if rain:
        extra.extend(("rain", "window"))
    if blurred_lights:
        extra.append("blurred lights")

    if lum < 0.16:
        light = "night"
    elif lum < 0.35 or (sunset and lum < 0.55):
        light = "dusk"
    else:
        light = "day"
    return Analysis(
        colours, lum, light, warmth, saturation, texture, regions, extra, indoor_light, rain, window, blurred_lights
    )


def _has_horizon(rgb: np.ndarray) -> bool:
    """A sharp change of mean row colour between 20% and 80% of the height."""
    rows = rgb.mean(axis=1)
    if rows.shape[0] < 8:
        return False
    steps = np.abs(rows[2:] - rows[:-2]).sum(axis=1)
    lo, hi = int(rows.shape[0] * 0.2), int(rows.shape[0] * 0.8)
    return bool(steps[lo:hi].max() >= 0.12) if hi > lo else False


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees 0..360, saturation and value 0..1, shaped like the image."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    hue = np.where(
        mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)
    )
    hue = np.where(delta > 0, hue * 60.0, 0.0)
    sat = np.where(mx > 0, delta / np.where(mx > 0, mx, 1.0), 0.0)
    return hue.astype(np.float32), sat.astype(np.float32), mx.astype(np.float32)


def _colour_names(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    names = np.full(h.shape, "grey", dtype=object)
    chroma = (s >= 0.15) & (v >= 0.16)
    bands = (
        ((h < 15) | (h >= 345), "red"),
        ((h >= 15) & (h < 45), "orange"),
        ((h >= 45) & (h < 70), "yellow"),
        ((h >= 70) & (h < 165), "green"),
        ((h >= 165) & (h < 200), "teal"),
        ((h >= 200) & (h < 255), "blue"),
        ((h >= 255) & (h < 290), "purple"),
        ((h >= 290) & (h < 345), "pink"),
    )
    for mask, name in bands:
        names[chroma & mask] = name
    browns = chroma & (h >= 10) & (h < 50) & (v < 0.55)
    names[browns] = "brown"
    beige = chroma & (h >= 20) & (h < 55) & (s < 0.45) & (v >= 0.6)
    names[beige] = "beige"
    names[(~chroma) & (v >= 0.85)] = "white"
    names[v < 0.16] = "black"
    return names


# --------------------------------------------------------------------------- words


LIGHT_WORDS = {"day": "daylight", "dusk": "dusk light", "night": "the dark of night"}
# With no region to name, the sentence starts from the light alone (never "an open scene":
# nothing says the place is open).
NO_REGION = {"day": "a scene", "dusk": "a scene", "night": "a dark scene"}


def describe(analysis: Analysis, facts: dict[str, Any]) -> tuple[str, list[str]]:
    """The caption text and cue list for an :class:`Analysis` and the file's facts.

    The text is one short sentence a person would write, built from the strongest cues
    ("Blue sky above green vegetation in warm daylight, taken in the evening; the file is
    called "quiet lake dusk"."). Everything measured (regions, light, warmth, colours,
    texture, date, keywords, file-name words) is in ``cues``, which the studio lists beneath
    the caption."""
    cues: list[str] = list(analysis.region_cues) + list(analysis.extra_cues)
    scene = " above ".join(phrase for _, phrase, _ in analysis.regions) if analysis.regions else NO_REGION[analysis.light]

    tone = ""
    if analysis.looks_indoor:
        cues.append("artificial light")
    else:
        cues.append(analysis.light)
    if analysis.warmth > 0.08:
        cues.append("warm")
        tone = "warm "
    elif analysis.warmth < -0.08:
        cues.append("cool")
        tone = "cool "
    if analysis.saturation < 0.1:
        cues.append("monochrome")
    elif analysis.saturation < 0.3:
        cues.append("muted")
    elif analysis.saturation > 0.55:
        cues.append("vivid")
    if analysis.texture < 0.02:
        cues.append("calm")
        mood = "calm and still"
    elif analysis.texture < 0.07:
        cues.append("textured")
        mood = ""
    else:
        cues.append("busy")
        mood = "busy with detail"
    light = LIGHT_WORDS[analysis.light]
    if analysis.looks_indoor:
        detail = {"": "textured surfaces", "busy with detail": "many details, a cluttered view"}.get(mood, "textured surfaces")
        sentence = f"probably indoors, in warm artificial light, with {detail}"
    else:
        if analysis.rain:
            sentence = _rain_sentence(analysis, tone, light)
            mood = ""  # streaks make a frame look busy or, behind glass, calm: neither is the scene
        elif not analysis.regions and analysis.light == "night":
            sentence = "a dark scene at night"
        else:
            sentence = f"{scene} in {tone}{light}" if not light.startswith("the ") else f"{scene} in {light}"
        if mood:
            sentence += f", {mood}"

    colour_names = [name for name, _ in analysis.colours]
    cues.extend(colour_names)

    when = facts.get("exif_datetime")
    part_of_day = time_of_day(when)
    if part_of_day:
        cues.append(part_of_day)
        sentence += f", taken {'at' if part_of_day in ('dawn', 'midday', 'night') else 'in the'} {part_of_day}"

    extra: list[str] = []
    keywords = [str(k).lower() for k in (facts.get("keywords") or [])][:MAX_KEYWORD_CUES]
    if keywords:
        cues.extend(keywords)
        extra.append("tagged " + _and_list(keywords))
    for key, label in (("title", "titled"), ("description", "described as"), ("alt_text", "alt text")):
        value = facts.get(key)
        if value:
            extra.append(f'{label} "{value}"')
    words = filename_words(facts.get("filename"))
    if words:
        cues.extend(words)
        extra.append(f'the file is called "{" ".join(words)}"')

    text = sentence[:1].upper() + sentence[1:]
    if extra:
        text += "; " + "; ".join(extra)
    text += "."
    if len(text) > 2000:
        text = text[:1997].rstrip() + "..."
    return text, _dedupe(cues)


def _rain_sentence(analysis: Analysis, tone: str, light: str) -> str:
    """``Rain on a window at night, with blurred lights``; ``Rain on a window in cool daylight``.

    Behind the glass everything is out of focus: its colours stay cues, not named places."""
    when = "at night" if analysis.light == "night" else f"in {tone}{light}"
    sentence = f"rain on a window {when}"
    if analysis.blurred_lights:
        sentence += ", with blurred lights"
    return sentence


def time_of_day(iso: Optional[str]) -> Optional[str]:
    """``"2023-06-01T19:42:00"`` -> ``"evening"`` (dawn, morning, midday, afternoon, evening, night)."""
    if not iso:
        return None
    try:
        hour = datetime.fromisoformat(iso).hour
    except ValueError:
        return None
    if 5 <= hour < 7:
        return "dawn"
    if 7 <= hour < 11:
        return "morning"
    if 11 <= hour < 14:
        return "midday"
    if 14 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def filename_words(filename: Optional[str]) -> list[str]:
    """Meaningful words of a file name: ``"IMG_2041_Lake-at-Dusk.jpg"`` -> ``["lake", "dusk"]``.

    Camera prefixes, extensions, numbers, hex-like hashes, stop words and words under three
    letters are dropped.
    """
    if not filename:
        return []
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", str(filename).replace("\\", "/").rsplit("/", 1)[-1])
    words: list[str] = []
    for token in re.findall(r"[A-Za-z]+", _CAMEL.sub(" ", stem)):
        word = token.lower()
        if len(word) < 3 or word in _FILENAME_STOPWORDS:
            continue
        if len(word) >= 8 and re.fullmatch(r"[a-f]+", word):
            continue
        if word not in words:
            words.append(word)
    return words[:MAX_FILENAME_WORDS]


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
