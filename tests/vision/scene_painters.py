"""Painted scenes with known content for the analyser's rain and indoor cues.

Every painter takes a seed and draws its parameters (size, counts, lengths, tilt, colours,
blur, JPEG quality) from it, so seeds 0-9 (the development set the thresholds were set on)
and seeds 100-109 (the check set) are different renderings, not copies. Each returns an
RGB uint8 array after a JPEG round trip, as an upload would arrive.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

DEV_SEEDS = tuple(range(10))
CHECK_SEEDS = tuple(range(100, 110))
SIZES = ((960, 640), (1024, 768), (800, 600), (640, 960), (1200, 800))


def _size(rng):
    return SIZES[int(rng.integers(0, len(SIZES)))]


def _gradient(w, h, top, bottom):
    ys = np.linspace(0.0, 1.0, h)[:, None, None]
    arr = np.asarray(top, np.float64) * (1 - ys) + np.asarray(bottom, np.float64) * ys
    return np.repeat(arr, w, axis=1)


def _jpeg(img: Image.Image, rng) -> np.ndarray:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(75, 93)))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _to_img(arr):
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _bokeh(w, h, rng, count, lo_y=0.0, strength=0.55):
    glow = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(glow)
    palette = [(255, 190, 90), (255, 140, 60), (120, 170, 255), (255, 230, 170), (255, 90, 80), (150, 255, 170)]
    for _ in range(count):
        x, y = rng.integers(0, w), rng.integers(int(h * lo_y), h)
        r = int(rng.integers(8, 40))
        c = palette[int(rng.integers(0, len(palette)))]
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v * strength) for v in c))
    return np.asarray(glow.filter(ImageFilter.GaussianBlur(float(rng.uniform(6, 14)))), np.float64)


def rain_window(seed: int, *, daytime: bool | None = None) -> np.ndarray:
    """Rain streaks on a pane over a blurred background (night street lights by default,
    a grey daylight street for about a third of the seeds)."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    day = bool(rng.random() < 0.3) if daytime is None else daytime
    if day:
        arr = _gradient(w, h, rng.uniform(120, 170, 3), rng.uniform(70, 120, 3))
        arr += _bokeh(w, h, rng, int(rng.integers(5, 20)), 0.3, 0.3) * 0.5
    else:
        arr = _gradient(w, h, rng.uniform(4, 25, 3), rng.uniform(10, 35, 3))
        arr += _bokeh(w, h, rng, int(rng.integers(10, 60)), float(rng.uniform(0.0, 0.5)))
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    tilt = float(rng.uniform(-0.2, 0.2))  # dx per dy: up to about 11 degrees off vertical
    scale = w / 960
    for _ in range(int(rng.integers(150, 450) * (w * h) / (960 * 640))):
        x, y = rng.integers(0, w), rng.integers(0, h)
        length = int(rng.integers(4, 40) * scale)
        base = arr[min(y, h - 1), min(x, w - 1)]
        lift = float(rng.uniform(40, 130))
        shade = tuple(int(min(255, v + lift)) for v in base)
        if rng.random() < 0.2:  # a dark trail behind a drop
            shade = tuple(int(v * 0.4) for v in base)
        draw.line([(x, y), (x + tilt * length, y + length)], fill=shade, width=int(rng.integers(1, 3)))
    if rng.random() < 0.5:  # a window frame
        col = tuple(int(v) for v in rng.uniform(10, 40, 3))
        fx = int(w * rng.uniform(0.3, 0.7))
        draw.rectangle([fx - 7, 0, fx + 7, h], fill=col)
        draw.rectangle([0, h // 2 - 7, w, h // 2 + 7], fill=col)
    return _jpeg(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 0.9)))), rng)


def starry_sky(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    arr = _gradient(w, h, rng.uniform(2, 15, 3) + [0, 0, 10], rng.uniform(15, 50, 3) + [0, 0, 20])
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(200, 1500))):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = float(rng.choice([0.5, 1, 1, 1.5, 2]))
        v = int(rng.integers(120, 256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(v, v, min(255, v + 10)))
    if rng.random() < 0.6:  # a tree line or hills
        xs = np.arange(0, w + 8, 8)
        tops = h * rng.uniform(0.75, 0.9) - rng.random(len(xs)) * 40
        draw.polygon([(0, h)] + [(int(x), int(t)) for x, t in zip(xs, tops)] + [(w, h)], fill=(5, 6, 8))
    return _jpeg(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8)))), rng)


def snowfall(seed: int) -> np.ndarray:
    """Falling flakes, some slightly drawn out by the shutter, by day or at night."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    if rng.random() < 0.5:
        arr = _gradient(w, h, rng.uniform(150, 210, 3), rng.uniform(215, 250, 3))
    else:
        arr = _gradient(w, h, rng.uniform(5, 30, 3), rng.uniform(20, 50, 3)) + _bokeh(w, h, rng, 15, 0.4)
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(300, 1500))):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = float(rng.uniform(1, 4))
        stretch = r * float(rng.uniform(1.0, 1.6))
        draw.ellipse([x - r, y - stretch, x + r, y + stretch], fill=(252, 252, 255))
    return _jpeg(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.2)))), rng)


def city_night(seed: int, *, white_windows: bool = False) -> np.ndarray:
    """Dark buildings with grids of lit windows (warm, or white: grey-white lines like rain),
    street lights and a few blurred lights."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    arr = _gradient(w, h, rng.uniform(5, 30, 3), rng.uniform(20, 60, 3))
    arr += _bokeh(w, h, rng, int(rng.integers(0, 20)), 0.6) * 0.6
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    x = 0
    while x < w:
        bw, top = int(rng.integers(60, 200)), int(h * rng.uniform(0.1, 0.6))
        draw.rectangle([x, top, x + bw, h], fill=tuple(int(v) for v in rng.uniform(10, 35, 3)))
        ww, wh = int(rng.integers(3, 10)), int(rng.integers(6, 18))
        for wy in range(top + 8, h - 10, wh + int(rng.integers(4, 12))):
            for wx in range(x + 5, x + bw - ww, ww + int(rng.integers(4, 10))):
                if rng.random() < 0.45:
                    v = rng.uniform(150, 255)
                    lit = (int(v), int(v), int(v)) if white_windows else (int(v), int(v * 0.85), int(v * 0.55))
                    draw.rectangle([wx, wy, wx + ww, wy + wh], fill=lit)
        x += bw + int(rng.integers(0, 20))
    return _jpeg(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.0)))), rng)


def trunks_forest(seed: int) -> np.ndarray:
    """Many thin vertical trunks (birch-white or dark) over green and brown."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    arr = _gradient(w, h, rng.uniform(60, 120, 3) * [0.7, 1.0, 0.6], rng.uniform(40, 90, 3) * [0.9, 1.0, 0.5])
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    pale = rng.random() < 0.5
    for _ in range(int(rng.integers(30, 120))):
        x = int(rng.integers(0, w))
        tw = int(rng.integers(2, 14))
        lean = int(rng.integers(-15, 16))
        top = int(rng.uniform(0, 0.3) * h)
        v = rng.uniform(190, 240) if pale else rng.uniform(20, 60)
        draw.polygon([(x, top), (x + tw, top), (x + tw + lean, h), (x + lean, h)], fill=(int(v), int(v), int(v * 0.95)))
    noise = rng.normal(0, 6, (h, w, 1))
    return _jpeg(_to_img(np.asarray(img, np.float64) + noise).filter(ImageFilter.GaussianBlur(0.6)), rng)


def grass(seed: int) -> np.ndarray:
    """Close-up grass: thin near-vertical blades over most of the frame, sky or not."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    horizon = float(rng.uniform(0.0, 0.4))
    arr = _gradient(w, h, (120, 170, 230), (60, 110, 40))
    arr[int(h * horizon):] = (40, 90, 30)
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(800, 2500))):
        x, y = int(rng.integers(0, w)), int(rng.uniform(horizon, 1.0) * h)
        length = int(rng.integers(15, 80))
        lean = float(rng.uniform(-0.3, 0.3)) * length
        g = rng.uniform(90, 200)
        draw.line([(x, y + length), (x + lean, y)], fill=(int(g * 0.5), int(g), int(g * 0.3)), width=int(rng.integers(1, 3)))
    return _jpeg(img.filter(ImageFilter.GaussianBlur(0.5)), rng)


def cool_room(seed: int) -> np.ndarray:
    """A room in cool daylight or fluorescent light: pale walls, a ceiling line, a window,
    a door, shelves and furniture drawn as rectangles."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    wall = rng.uniform(170, 225) * np.array([0.95, 0.98, 1.03]) * rng.uniform(0.97, 1.03, 3)
    arr = _gradient(w, h, wall * 1.02, wall * 0.9)
    floor_y = int(h * rng.uniform(0.65, 0.8))
    arr[floor_y:] = rng.uniform(90, 150) * np.array([0.95, 0.97, 1.0])
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    ceil_y = int(h * rng.uniform(0.05, 0.2))
    draw.rectangle([0, 0, w, ceil_y], fill=tuple(int(v * 1.05) for v in wall.clip(0, 242)))
    draw.line([(0, ceil_y), (w, ceil_y)], fill=tuple(int(v * 0.8) for v in wall), width=2)
    for _ in range(int(rng.integers(3, 7))):  # window, door, shelves, cabinets, desk
        x0, y0 = int(rng.uniform(0, 0.8) * w), int(rng.uniform(0.15, 0.7) * h)
        x1, y1 = x0 + int(rng.uniform(0.08, 0.3) * w), y0 + int(rng.uniform(0.1, 0.4) * h)
        v = rng.uniform(60, 230)
        draw.rectangle([x0, y0, x1, y1], fill=(int(v * 0.95), int(v * 0.98), int(v)), outline=(50, 50, 55), width=3)
    noise = rng.normal(0, 3, (h, w, 1))
    return _jpeg(_to_img(np.asarray(img, np.float64) + noise).filter(ImageFilter.GaussianBlur(0.6)), rng)


NEGATIVE_PAINTERS = {"starry_sky": starry_sky, "snowfall": snowfall, "city_night": city_night,
                     "trunks_forest": trunks_forest, "grass": grass, "cool_room": cool_room}  # fmt: skip


def overcast_street(seed: int) -> np.ndarray:
    """Outdoors and rectilinear: a pale overcast sky above buildings with window grids."""
    rng = np.random.default_rng(seed)
    w, h = _size(rng)
    arr = _gradient(w, h, rng.uniform(195, 225, 3), rng.uniform(205, 235, 3))
    img = _to_img(arr)
    draw = ImageDraw.Draw(img)
    x = int(rng.integers(-40, 0))
    while x < w:
        bw, top = int(rng.integers(80, 260)), int(h * rng.uniform(0.3, 0.55))
        v = rng.uniform(70, 160)
        draw.rectangle([x, top, x + bw, h], fill=(int(v), int(v * 0.97), int(v * 0.95)))
        ww, wh = int(rng.integers(10, 24)), int(rng.integers(14, 30))
        for wy in range(top + 12, int(h * 0.85), wh + int(rng.integers(10, 20))):
            for wx in range(x + 8, x + bw - ww, ww + int(rng.integers(8, 16))):
                draw.rectangle([wx, wy, wx + ww, wy + wh], fill=(int(v * 0.5), int(v * 0.55), int(v * 0.6)))
        x += bw + int(rng.integers(0, 30))
    draw.rectangle([0, int(h * 0.85), w, h], fill=(90, 90, 92))  # the street
    noise = rng.normal(0, 3, (h, w, 1))
    return _jpeg(_to_img(np.asarray(img, np.float64) + noise).filter(ImageFilter.GaussianBlur(0.6)), rng)


def city_night_white(seed: int) -> np.ndarray:
    return city_night(seed, white_windows=True)


NEGATIVE_PAINTERS["overcast_street"] = overcast_street
NEGATIVE_PAINTERS["city_night_white"] = city_night_white
