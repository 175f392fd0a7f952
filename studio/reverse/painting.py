"""The offline image maker: a generative "sound painting" drawn from the audio's features.

It is a visualisation of the sound, not a picture of its source, and is labelled so
(``LABEL``, also written into the PNG's text chunk by ``studio.reverse.imagine``):

- **palette** from the spectrum: warmth (energy below 500 Hz) turns the hues toward amber and
  rust, brightness (spectral centroid) toward cyan and pale blue; flat, noisy sounds are less
  saturated than tonal ones;
- **horizon bands**: one soft band per analysed window, left to right in time, whose height
  follows that window's loudness spread;
- **forms**: one round mark per detected onset (onset rate × window length), sized by the
  window's energy range and placed by a generator seeded from the features, so the same audio
  always paints the same picture.
"""

from __future__ import annotations

import colorsys
import hashlib
from typing import Any, Sequence

import numpy as np

from studio.types import AudioClip

LABEL = "sound painting: a visualisation of the audio's features (not a generated picture)"
MAX_MARKS = 400


class SoundPainter:
    name = "painting"
    model_id = "sound-painting"

    @classmethod
    def create(cls, **opts: Any) -> "SoundPainter":
        return cls()

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        return True, "ready (built in)"

    def paint(self, excerpts: Sequence[AudioClip], *, width: int = 768, height: int = 512):
        """A PIL RGB image ``width`` × ``height`` drawn from the excerpts' features."""
        from PIL import Image, ImageDraw, ImageFilter

        from studio.reverse.features import FEATURE_NAMES, clip_features, summary

        col = {n: i for i, n in enumerate(FEATURE_NAMES)}
        feats = np.concatenate([clip_features(c) for c in excerpts])
        joined = AudioClip(np.concatenate([c.to_stereo().samples for c in excerpts], axis=1), excerpts[0].sample_rate)
        s = summary(joined)
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(np.round(feats, 3).tobytes()).digest()[:8], "little"))

        base_hue = 0.07 + 0.5 * s["brightness"] * (1.0 - s["warmth"])  # amber (warm) .. cyan (bright)
        saturation = float(np.clip(0.75 - (s["flatness_db"] + 30.0) / 60.0, 0.2, 0.8))
        palette = [_rgb((base_hue + d) % 1.0, saturation * f, v)
                   for d, f, v in ((0.0, 1.0, 0.92), (0.05, 0.8, 0.75), (-0.06, 0.9, 0.55), (0.5, 0.5, 0.35), (0.1, 0.4, 0.98))]

        sky = np.linspace(0, 1, height)[:, None, None]
        top, bottom = np.array(palette[4], float), np.array(palette[2], float)
        canvas = (top * (1 - sky) + bottom * sky) * np.ones((1, width, 1))
        img = Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(img, "RGBA")

        n = len(feats)
        col_w = width / n
        for i, row in enumerate(feats):  # horizon bands: time left to right, height from loudness spread
            spread = float(np.clip(row[col["energy_std"]] / 12.0, 0.05, 1.0))
            y = height * (0.55 - 0.3 * spread)
            colour = palette[i % 3] + (140,)
            draw.rectangle([i * col_w, y, (i + 1) * col_w + 1, height], fill=colour)

        img = img.filter(ImageFilter.GaussianBlur(radius=max(2, width // 80)))
        draw = ImageDraw.Draw(img, "RGBA")
        for i, row in enumerate(feats):  # forms: one mark per onset
            count = int(min(MAX_MARKS // n + 1, round(row[col["onset_rate_hz"]] * 5.0)))
            size = float(np.clip(row[col["energy_range"]] / 30.0, 0.05, 1.0)) * height * 0.08 + 2
            for _ in range(count):
                x = (i + rng.random()) * col_w
                y = height * (0.15 + 0.7 * rng.random())
                r = size * (0.4 + rng.random())
                colour = palette[int(rng.integers(0, 5))] + (int(90 + 120 * rng.random()),)
                draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        return img


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1)))
    return int(r * 255), int(g * 255), int(b * 255)
