"""Mono bass: the side signal below about 120 Hz is removed from the summed mix.

Mastering practice (vinyl cutting's elliptical EQ, a "mono maker" on club and broadcast
masters): below ~100-150 Hz the ear hardly localises, while out-of-phase bass cancels on a mono
phone speaker or a summed PA and wastes headroom. Decorrelated noise beds and wide drones
otherwise leave the two channels uncorrelated or inverted there.

``side' = HP(side)`` with a 4th-order Butterworth high-pass at :data:`BASS_MONO_HZ` (-3 dB
there, -24 dB an octave below); ``mid`` is untouched; ``L = mid + side'``, ``R = mid - side'``.
The filter runs with carried state over chunks in order, so the result does not depend on
the chunk size.
"""

from __future__ import annotations

import numpy as np

BASS_MONO_HZ = 120.0


class BassMono:
    """Stateful mono-bass filter for float32 ``(2, n)`` chunks fed in order."""

    def __init__(self, sample_rate: int) -> None:
        from scipy.signal import butter

        self.sos = butter(4, BASS_MONO_HZ, "highpass", fs=sample_rate, output="sos")
        self.zi = np.zeros((self.sos.shape[0], 2))

    def process(self, x: np.ndarray) -> np.ndarray:
        from scipy.signal import sosfilt

        mid = (x[0] + x[1]) * np.float32(0.5)
        side = (x[0] - x[1]) * np.float32(0.5)
        side, self.zi = sosfilt(self.sos, side, zi=self.zi)
        side = side.astype(np.float32)
        return np.stack([mid + side, mid - side])
