"""24-bit FLAC stems decode to exactly the 24-bit WAV's samples, also at the quantiser's edges.

Both go through one rounding rule (studio.mixing.wav.quantise: x * 2^23, round half to even,
clipped to 24 bits). This checks the whole FLAC path (quantise, the shift libsndfile expects,
libFLAC, decoding) on the values where an off-by-one would show: exact halves of an LSB, full
scale and beyond, negative zero, tiny values, odd chunk sizes. A FLAC whose decoded samples
differ from the WAV by one LSB anywhere fails here.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from studio.export_writers import _Encoder
from studio.mixing.wav import WavWriter, quantise

LSB = 2.0**-23


def _edge_signal(seed: int, dtype) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 60_000
    ints = rng.integers(-(2**23) - 4, 2**23 + 4, n).astype(np.float64)
    parts = [
        rng.uniform(-1.3, 1.3, n),  # everywhere, with clipping on both sides
        rng.standard_normal(n) * 0.05,  # a quiet program
        (ints + 0.5) * LSB,  # exact halves: round half to even
        (ints + rng.choice([0.25, 0.4999, 0.5001, 0.75], n)) * LSB,
        np.tile([0.0, -0.0, 1.0, -1.0, 1.0 + 1e-7, -1.0 - 1e-7, (2**23 - 1) * LSB, (2**23 - 0.5) * LSB,
                 (2**23 - 1.5) * LSB, -(2**23 - 0.5) * LSB, -(2**23 + 0.5) * LSB, 1e-30, -1e-30, 3.0, -3.0], 400),
        rng.uniform(-3, 3, n) * LSB,  # around zero
    ]
    x = np.concatenate(parts).astype(dtype)
    return x[: x.size // 2 * 2].reshape(-1, 2).T.copy()


def _decoded_flac(x: np.ndarray, chunk: int) -> tuple[np.ndarray, int]:
    buf = io.BytesIO()
    enc = _Encoder(buf, "s.flac", "flac", "FLAC", "PCM_24", 48000, x.shape[1], {}, 1)
    for k in range(0, x.shape[1], chunk):
        enc.write(x[:, k : k + chunk].copy())
    enc.finish()
    buf.seek(0)
    samples, _ = sf.read(buf, dtype="int32")
    return samples.reshape(-1) >> 8, enc.clipped_samples


def _wav_samples(x: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    w = WavWriter(buf, 48000, 2, x.shape[1], "PCM_24")
    w.write(x)
    w.close()
    buf.seek(0)
    samples, _ = sf.read(buf, dtype="int32")
    return samples.reshape(-1) >> 8


@pytest.mark.parametrize("seed", range(8))
def test_flac_24_decodes_to_the_wav_samples_at_every_edge(seed):
    x = _edge_signal(seed, np.float32)
    want = quantise(x.copy(), "PCM_24")
    got, clipped = _decoded_flac(x, 7_919)  # a chunk size that is not a block size
    assert np.array_equal(got, want)
    assert np.array_equal(_wav_samples(x), want)
    assert clipped == int(np.count_nonzero(np.abs(x) > 1.0)) > 0


def test_flac_24_from_float64_chunks_is_the_same():
    x = _edge_signal(11, np.float64)
    got, _ = _decoded_flac(x, 192_000)
    assert np.array_equal(got, quantise(x.copy(), "PCM_24"))  # the WAV rule in float64 too


def test_no_clipping_counted_for_audio_within_full_scale():
    x = (np.random.default_rng(5).uniform(-1.0, 1.0, (2, 50_000))).astype(np.float32)
    got, clipped = _decoded_flac(x, 10_000)
    assert clipped == 0
    assert np.array_equal(got, quantise(x.copy(), "PCM_24"))
