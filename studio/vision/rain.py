"""Rain streaks: many short, thin, near-vertical lines spread over the whole frame.

The measurement works on the grey image at ``RAIN_SIDE_PX`` (long side) and counts *line
pixels*: a pixel at least ``LINE_MIN_CONTRAST`` brighter (or darker) than both its left and
right neighbours is on a thin vertical line; it counts as a *vertical-line pixel* when the
rows just above and below also have a line pixel within one column (so tilts up to 45
degrees still count, isolated dots do not). Horizontal-line pixels are the same with rows
and columns swapped. Rain is called when:

- vertical-line pixels cover at least ``MIN_DENSITY`` of the frame (streaks are there),
- they outnumber horizontal-line pixels ``MIN_ANISOTROPY`` times (one dominant direction:
  stars, snowflakes and room edges are round or go both ways),
- at most ``MAX_LONG_SHARE`` of them continue 12 rows up and down (streaks are short; tree
  trunks, posts and window bars run on),
- the median saturation under them is at most ``MAX_SATURATION`` (rain is grey-white; grass
  blades are green, lit windows of a city are orange),
- they reach at least ``MIN_SPREAD`` of a 4 x 4 grid of cells (rain falls everywhere).

The thresholds were set on painted development scenes (``tests/vision/scene_painters.py``,
seeds 0-9) and checked on seeds 100-109; docs/vision.md has the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.vision.pixels import luma as luma_of, reduced_rgb

RAIN_SIDE_PX = 384
LINE_MIN_CONTRAST = 0.04  # luma step, 0..1
MIN_DENSITY = 0.0025
MIN_ANISOTROPY = 30.0
MAX_LONG_SHARE = 0.1
MAX_SATURATION = 0.35
MIN_SPREAD = 0.75
LONG_STEP_ROWS = 6  # a line is long when it is found 6 and 12 rows above and below too
_MIN_HORIZONTAL = 1e-4  # horizontal density floor, so a frame with none still has a ratio


@dataclass(frozen=True)
class RainMeasure:
    density: float  # vertical-line pixels, share of the frame
    anisotropy: float  # vertical / horizontal line pixels
    long_share: float  # share of vertical-line pixels on lines that run 12+ rows each way
    saturation: float  # median HSV saturation under the vertical-line pixels
    spread: float  # share of 4 x 4 cells holding at least a quarter of the mean density

    @property
    def is_rain(self) -> bool:
        return (
            self.density >= MIN_DENSITY
            and self.anisotropy >= MIN_ANISOTROPY
            and self.long_share <= MAX_LONG_SHARE
            and self.saturation <= MAX_SATURATION
            and self.spread >= MIN_SPREAD
        )


def measure_rain(image: Any, *, side_px: int = RAIN_SIDE_PX) -> RainMeasure:
    """Measure streaks in an RGB PIL image (any size; reduced to ``side_px`` first)."""
    rgb = reduced_rgb(image, side_px)
    if min(rgb.shape[:2]) < 8 * LONG_STEP_ROWS:
        return RainMeasure(0.0, 0.0, 0.0, 0.0, 0.0)
    luma = luma_of(rgb)
    vertical = _coherent(_thin_line(luma) > LINE_MIN_CONTRAST)
    horizontal = _coherent(_thin_line(luma.T) > LINE_MIN_CONTRAST).T
    count = int(vertical.sum())
    if count == 0:
        return RainMeasure(0.0, 0.0, 0.0, 0.0, 0.0)
    density = count / vertical.size
    anisotropy = density / max(float(horizontal.mean()), _MIN_HORIZONTAL)

    k = LONG_STEP_ROWS
    near = _widen(vertical, 2)
    core = vertical[2 * k : -2 * k]
    long_lines = core & near[k:-3 * k] & near[: -4 * k] & near[3 * k : -k] & near[4 * k :]
    long_share = float(long_lines.sum() / max(1, core.sum()))

    under = rgb[1:-1, 1:-1][vertical]  # (count, 3): only the line pixels (a full-frame max is slow)
    top, bottom = under.max(axis=1), under.min(axis=1)
    saturation = float(np.median((top - bottom) / np.maximum(top, 1e-6)))

    h, w = vertical.shape
    cells = np.array([vertical[i * h // 4 : (i + 1) * h // 4, j * w // 4 : (j + 1) * w // 4].mean()
                      for i in range(4) for j in range(4)])  # fmt: skip
    spread = float((cells >= density / 4).mean())
    return RainMeasure(density, float(anisotropy), long_share, saturation, spread)


def _thin_line(luma: np.ndarray) -> np.ndarray:
    """How much each inner pixel stands out from both horizontal neighbours (bright or dark
    line one pixel wide), shape (h - 2, w - 2) after trimming the top and bottom rows."""
    c, left, right = luma[1:-1, 1:-1], luma[1:-1, :-2], luma[1:-1, 2:]
    return np.maximum(c - np.maximum(left, right), np.minimum(left, right) - c)


def _coherent(lines: np.ndarray) -> np.ndarray:
    """Line pixels with a line pixel within one column in the rows above and below."""
    near = _widen(lines, 1)
    out = np.zeros_like(lines)
    out[1:-1] = lines[1:-1] & near[:-2] & near[2:]
    return out


def _widen(mask: np.ndarray, cols: int) -> np.ndarray:
    out = mask.copy()
    for d in range(1, cols + 1):
        out[:, d:] |= mask[:, :-d]
        out[:, :-d] |= mask[:, d:]
    return out
