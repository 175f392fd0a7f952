"""``interleaved`` is exactly the transposed copy the writers need, only faster."""

import numpy as np
import pytest

from studio.frames import interleaved


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_interleaved_equals_the_transposed_copy(channels):
    x = np.random.default_rng(channels).standard_normal((channels, 10_001)).astype(np.float32) * 2
    out = interleaved(x)
    assert out.flags.c_contiguous and out.dtype == np.float32 and out.shape == (10_001, channels)
    np.testing.assert_array_equal(out, np.ascontiguousarray(x.T))
    clipped = interleaved(x, clip=True)
    np.testing.assert_array_equal(clipped, np.clip(x, -1.0, 1.0).T)
    assert np.abs(clipped).max() == 1.0


def test_interleaved_reads_views_and_casts():
    x = np.arange(24, dtype=np.float64).reshape(2, 12)[:, ::2]  # a strided view
    out = interleaved(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x.T.astype(np.float32))


def test_interleaved_refuses_other_shapes():
    with pytest.raises(ValueError, match="channels, frames"):
        interleaved(np.zeros(10, np.float32))
