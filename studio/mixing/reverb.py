"""Optional reverb send (``MasterSpec.reverb_send_db``): a soft, dark room added to the mix.

The impulse response is synthetic: two decorrelated channels of exponentially decaying noise
(RT60 2.4 s, truncated at 1.6 s, 20 ms pre-delay), darkened by a gentle low-pass, each scaled to
unit energy so that at 0 dB send the wet signal is about as loud as the dry. It is seeded from the
plan seed, so it is part of the reproducible result. Wet = IR * (sum of stems) * send gain,
computed by FFT convolution with 1.6 s of history read from the arrangement, so every chunk is
computed independently of the chunks before it (no hidden state, any chunk order works).

With the send on, the mix is ``limiter(gain * fade * (sum of stems + wet))``: the stems stay dry.
"""

from __future__ import annotations

import numpy as np

from studio.mixing.schedule import layer_rng

IR_S = 1.6
RT60_S = 2.4
PREDELAY_S = 0.02
STREAM_REVERB = 0x4E7B


def impulse_response(sample_rate: int, seed: int) -> np.ndarray:
    """Float32 ``(2, IR_S * sample_rate)`` reverb impulse response, unit energy per channel."""
    from scipy.signal import butter, sosfilt

    rng = layer_rng(seed, STREAM_REVERB)
    n = int(IR_S * sample_rate)
    t = np.arange(n) / sample_rate
    env = 10 ** (-3.0 * t / RT60_S)  # -60 dB at RT60
    env[t < PREDELAY_S] = 0.0
    ir = rng.standard_normal((2, n)) * env
    ir = sosfilt(butter(2, 6000.0, "lowpass", fs=sample_rate, output="sos"), ir, axis=-1)
    ir /= np.sqrt(np.sum(ir**2, axis=1, keepdims=True))
    return ir.astype(np.float32)


class ReverbSend:
    """Wet signal for any frame window of an arrangement's (pre-master) sum."""

    def __init__(self, mix_fn, sample_rate: int, send_db: float, seed: int) -> None:
        self.mix_fn = mix_fn  # (start, n) -> float32 (2, n) dry sum
        self.ir = impulse_response(sample_rate, seed)
        self.gain = np.float32(10 ** (send_db / 20.0))

    def wet(self, start: int, n: int) -> np.ndarray:
        from scipy.signal import oaconvolve

        hist = self.ir.shape[1] - 1
        lo = max(0, start - hist)
        x = self.mix_fn(lo, start + n - lo)
        if lo > start - hist:
            x = np.pad(x, ((0, 0), (lo - (start - hist), 0)))
        y = oaconvolve(x.astype(np.float64), self.ir.astype(np.float64), mode="valid", axes=-1)
        return (y * self.gain).astype(np.float32)
