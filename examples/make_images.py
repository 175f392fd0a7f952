"""Render the synthetic example scenes in examples/images/ (released as CC0 by the project).

    python examples/make_images.py            # rewrites the six *.jpg scenes

Each scene is painted with numpy and Pillow from a fixed seed, so the files are
reproducible. They are simple, stylised pictures (gradients, shapes, blurred noise) meant
to exercise the studio offline; the two photographs beside them come from scikit-image
(see SOURCES.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 960, 640
OUT = Path(__file__).resolve().parent / "images"


def vertical_gradient(stops: list[tuple[float, tuple[int, int, int]]], height: int = HEIGHT) -> np.ndarray:
    """(height, WIDTH, 3) float image interpolating colour stops at fractions of the height."""
    ys = np.linspace(0.0, 1.0, height)
    pos = np.array([p for p, _ in stops])
    cols = np.array([c for _, c in stops], np.float64)
    rgb = np.stack([np.interp(ys, pos, cols[:, k]) for k in range(3)], axis=1)
    return np.repeat(rgb[:, None, :], WIDTH, axis=1)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: int, blur: float = 2.0) -> np.ndarray:
    """Blurred value noise in -1..1, features about ``scale`` px across."""
    small = rng.random((max(2, shape[0] // scale), max(2, shape[1] // scale)))
    img = Image.fromarray((small * 255).astype(np.uint8)).resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(img, np.float64) / 127.5 - 1.0


def to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def lake_at_dusk(rng: np.random.Generator) -> Image.Image:
    horizon = int(HEIGHT * 0.48)
    sky = vertical_gradient([(0.0, (28, 34, 82)), (0.55, (92, 70, 130)), (0.85, (225, 120, 90)), (1.0, (250, 170, 100))], horizon)
    lake = vertical_gradient([(0.0, (70, 70, 120)), (0.25, (40, 55, 105)), (1.0, (14, 24, 58))], HEIGHT - horizon)
    ripples = smooth_noise(rng, lake.shape[:2], 6, 1.0)[..., None] * np.array([10, 12, 18])
    arr = np.concatenate([sky, lake + ripples], axis=0)
    img = to_image(arr)
    draw = ImageDraw.Draw(img)
    # A dark tree line on the far shore and the last light reflected as a band on the water.
    xs = np.arange(0, WIDTH + 8, 8)
    tops = horizon - 18 - (smooth_noise(rng, (1, len(xs)), 1, 0)[0] + 1) * 22
    draw.polygon([(0, horizon + 4)] + [(int(x), int(t)) for x, t in zip(xs, tops)] + [(WIDTH, horizon + 4)], fill=(16, 18, 30))
    for i in range(10):
        y = horizon + 10 + i * 11
        half = 120 - i * 10 + int(rng.integers(-12, 12))
        fade = 1.0 - i / 12
        colour = (int(60 + 140 * fade), int(60 + 60 * fade), int(100 - 10 * fade))
        draw.line([(WIDTH * 0.62 - half, y), (WIDTH * 0.62 + half, y)], fill=colour, width=2)
    return img.filter(ImageFilter.GaussianBlur(0.8))


def forest_path(rng: np.random.Generator) -> Image.Image:
    arr = vertical_gradient([(0.0, (150, 190, 215)), (0.25, (120, 160, 120)), (1.0, (60, 90, 40))])
    img = to_image(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(70):  # trunks and crowns, far ones first (lighter, smaller)
        depth = rng.random()
        x = rng.integers(0, WIDTH)
        top = int(40 + depth * 140)
        width = int(6 + (1 - depth) * 22)
        draw.rectangle([x, top + 60, x + width, HEIGHT], fill=(int(60 + depth * 40), int(45 + depth * 35), 30))
        r = int(40 + (1 - depth) * 70)
        green = (int(40 + depth * 50), int(110 + depth * 60), int(35 + depth * 30))
        draw.ellipse([x - r, top - r // 2, x + width + r, top + r], fill=green)
    path = [(WIDTH * 0.44, HEIGHT * 0.55), (WIDTH * 0.56, HEIGHT * 0.55), (WIDTH * 0.9, HEIGHT), (WIDTH * 0.1, HEIGHT)]
    draw.polygon(path, fill=(150, 120, 85))
    leaves = smooth_noise(rng, (HEIGHT, WIDTH), 4, 0.6)[..., None] * np.array([14, 22, 10])
    return to_image(np.asarray(img, np.float64) + leaves).filter(ImageFilter.GaussianBlur(0.7))


def beach_sea_and_sky(rng: np.random.Generator) -> Image.Image:
    sky_end, sea_end = int(HEIGHT * 0.42), int(HEIGHT * 0.66)
    sky = vertical_gradient([(0.0, (70, 130, 215)), (1.0, (170, 205, 235))], sky_end)
    sea = vertical_gradient([(0.0, (25, 80, 140)), (1.0, (40, 120, 160))], sea_end - sky_end)
    sea += smooth_noise(rng, sea.shape[:2], 5, 0.8)[..., None] * np.array([8, 14, 18])
    sand = vertical_gradient([(0.0, (215, 195, 150)), (1.0, (200, 175, 125))], HEIGHT - sea_end)
    sand += smooth_noise(rng, sand.shape[:2], 3, 0.5)[..., None] * 10
    img = to_image(np.concatenate([sky, sea, sand], axis=0))
    draw = ImageDraw.Draw(img)
    for i in range(5):  # clouds
        cx, cy = rng.integers(60, WIDTH - 60), rng.integers(30, sky_end - 60)
        for _ in range(6):
            dx, dy, r = rng.integers(-50, 50), rng.integers(-12, 12), rng.integers(18, 34)
            draw.ellipse([cx + dx - r, cy + dy - r // 2, cx + dx + r, cy + dy + r // 2], fill=(245, 248, 252))
    xs = np.arange(0, WIDTH + 6, 6)
    foam = sea_end + 4 + 6 * np.sin(xs / 37.0) + 3 * np.sin(xs / 11.0)
    draw.line([(int(x), int(y)) for x, y in zip(xs, foam)], fill=(240, 245, 245), width=7)
    return img.filter(ImageFilter.GaussianBlur(0.8))


def rainy_night_window(rng: np.random.Generator) -> Image.Image:
    arr = vertical_gradient([(0.0, (8, 10, 22)), (1.0, (18, 16, 28))])
    glow = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(glow)
    for _ in range(40):  # out-of-focus street lights behind the glass
        x, y = rng.integers(0, WIDTH), rng.integers(int(HEIGHT * 0.35), HEIGHT)
        r = int(rng.integers(10, 34))
        colour = [(255, 190, 90), (255, 140, 60), (120, 170, 255), (255, 230, 170)][rng.integers(0, 4)]
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c * 0.55) for c in colour))
    glow = glow.filter(ImageFilter.GaussianBlur(9))
    arr = arr + np.asarray(glow, np.float64)
    img = to_image(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(260):  # raindrops and streaks on the pane
        x, y = rng.integers(0, WIDTH), rng.integers(0, HEIGHT)
        length = int(rng.integers(2, 26))
        shade = int(rng.integers(60, 140))
        draw.line([(x, y), (x + 1, y + length)], fill=(shade, shade, shade + 20), width=int(rng.integers(1, 3)))
    draw.rectangle([WIDTH // 2 - 7, 0, WIDTH // 2 + 7, HEIGHT], fill=(20, 16, 14))  # window frame
    draw.rectangle([0, HEIGHT // 2 - 7, WIDTH, HEIGHT // 2 + 7], fill=(20, 16, 14))
    return img.filter(ImageFilter.GaussianBlur(0.6))


def snowy_field(rng: np.random.Generator) -> Image.Image:
    horizon = int(HEIGHT * 0.4)
    sky = vertical_gradient([(0.0, (170, 182, 198)), (1.0, (214, 220, 228))], horizon)
    snow = vertical_gradient([(0.0, (232, 236, 242)), (1.0, (250, 251, 253))], HEIGHT - horizon)
    snow += smooth_noise(rng, snow.shape[:2], 24, 4.0)[..., None] * np.array([6, 6, 4])
    img = to_image(np.concatenate([sky, snow], axis=0))
    draw = ImageDraw.Draw(img)
    for _ in range(26):  # a far line of dark conifers
        x = int(rng.integers(0, WIDTH))
        h = int(rng.integers(25, 70))
        w = h // 3
        draw.polygon([(x, horizon - h), (x - w, horizon + 4), (x + w, horizon + 4)], fill=(48, 60, 58))
    for _ in range(500):  # falling flakes
        x, y, r = rng.integers(0, WIDTH), rng.integers(0, HEIGHT), rng.integers(1, 3)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(252, 252, 255))
    return img.filter(ImageFilter.GaussianBlur(0.7))


def desert_at_sunset(rng: np.random.Generator) -> Image.Image:
    horizon = int(HEIGHT * 0.5)
    sky = vertical_gradient([(0.0, (120, 50, 60)), (0.5, (225, 105, 50)), (1.0, (250, 175, 80))], horizon)
    far_dunes = np.broadcast_to(np.array([205.0, 115.0, 60.0]), (HEIGHT - horizon, WIDTH, 3))
    img = to_image(np.concatenate([sky, far_dunes], axis=0))
    draw = ImageDraw.Draw(img)
    draw.ellipse([WIDTH * 0.58, horizon - 70, WIDTH * 0.58 + 110, horizon + 40], fill=(255, 215, 130))
    xs = np.arange(0, WIDTH + 4, 4)
    for k, (base, colour) in enumerate([(0.52, (190, 95, 45)), (0.62, (170, 80, 38)), (0.78, (140, 62, 30))]):
        ys = HEIGHT * base - 26 * np.sin(xs / (90 + 40 * k) + k) - 12 * np.sin(xs / 37 + 2 * k)
        draw.polygon([(0, HEIGHT)] + [(int(x), int(y)) for x, y in zip(xs, ys)] + [(WIDTH, HEIGHT)], fill=colour)
    ripples = smooth_noise(rng, (HEIGHT, WIDTH), 3, 0.5)[..., None] * np.array([10, 6, 3])
    ripples[:horizon] = 0
    return to_image(np.asarray(img, np.float64) + ripples).filter(ImageFilter.GaussianBlur(0.8))


SCENES: dict[str, Callable[[np.random.Generator], Image.Image]] = {
    "lake_at_dusk": lake_at_dusk,
    "forest_path": forest_path,
    "beach_sea_and_sky": beach_sea_and_sky,
    "rainy_night_window": rainy_night_window,
    "snowy_field": snowy_field,
    "desert_at_sunset": desert_at_sunset,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, (name, paint) in enumerate(SCENES.items()):
        path = OUT / f"{name}.jpg"
        paint(np.random.default_rng(1000 + seed)).save(path, "JPEG", quality=85, optimize=True)
        print(f"{path.relative_to(OUT.parent.parent)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
