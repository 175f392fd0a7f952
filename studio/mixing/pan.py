"""Per-layer stereo placement: gain, width (mid/side) and constant-power pan as one 2x2 matrix.

For a stereo input ``(L, R)``:

- width ``w`` scales the side signal: ``M = (L+R)/2``, ``S = w (L-R)/2``, ``L' = M+S``,
  ``R' = M-S`` (0 = mono, 1 = as is, 2 = twice as wide);
- pan ``p`` in -1..1 is a constant-power balance: ``theta = (p+1) pi/4``,
  ``gL = sqrt(2) cos theta``, ``gR = sqrt(2) sin theta`` (both 1 at centre, so a centred layer
  is untouched; ``gL^2 + gR^2 = 2`` keeps the power of uncorrelated channels constant);
- gain ``g = 10^(gain_db/20)``.
"""

from __future__ import annotations

import math

import numpy as np


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power (left, right) gains for ``pan`` in -1..1 (centre = (1, 1))."""
    theta = (float(pan) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def stereo_matrix(gain_db: float = 0.0, pan: float = 0.0, width: float = 1.0) -> np.ndarray:
    """The 2x2 float64 matrix ``out = A @ (L, R)`` for gain, width then pan."""
    half_sum = 0.5 * np.array([[1.0, 1.0], [1.0, 1.0]])
    half_diff = 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    widen = half_sum + float(width) * half_diff
    gl, gr = pan_gains(pan)
    return (10.0 ** (float(gain_db) / 20.0)) * (np.diag([gl, gr]) @ widen)


def apply_matrix(matrix: np.ndarray, x: np.ndarray, out: np.ndarray | None = None, add: bool = False) -> np.ndarray:
    """``matrix @ x`` for float32 ``(2, n)`` ``x``: a new array, or written into / added to
    ``out``. Zero entries are skipped (a centred, unit-width layer costs two multiplies).

    Element-wise float32 arithmetic only (no BLAS), so results are bit-identical across runs.
    """
    a = matrix.astype(np.float32)
    n = x.shape[1]
    if out is None:
        out = np.empty((2, n), np.float32)
        add = False
    tmp = np.empty(n, np.float32) if (add or (a[:, 1] != 0).any()) else None
    for row in range(2):
        first = True
        for col in range(2):
            c = a[row, col]
            if c == 0.0:
                continue
            if first and not add:
                np.multiply(x[col], c, out=out[row])
            else:
                np.multiply(x[col], c, out=tmp)
                out[row] += tmp
            first = False
        if first and not add:
            out[row].fill(0.0)
    return out
