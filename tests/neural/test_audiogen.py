"""AudioGen through audiocraft, where audiocraft imports (an optional extra: see
docs/models.md). audiocraft's own ``debug`` model is tiny and random, like our other tiny
models."""

from __future__ import annotations

import numpy as np
import pytest

audiocraft = pytest.importorskip(
    "audiocraft",
    reason="audiocraft is an optional extra that does not install beside torch 2.13 (see docs/models.md)",
)


def test_audiogen_debug_model_generates_deterministically():
    from studio.generation import BACKENDS

    backend = BACKENDS.create("audiogen", model_id="debug")
    seen = []
    a = backend.generate("dog barking", duration_s=0.5, seed=1, progress=lambda f, m: seen.append(f))
    b = backend.generate("dog barking", duration_s=0.5, seed=1)
    c = backend.generate("dog barking", duration_s=0.5, seed=2)
    assert a.sample_rate == backend.sample_rate
    assert a.samples.shape == (backend.channels, int(round(0.5 * backend.sample_rate)))
    assert np.array_equal(a.samples, b.samples) and not np.allclose(a.samples, c.samples)
    assert seen[-1] == 1.0
    long = backend.generate("dog barking", duration_s=backend.max_clip_s + 5, seed=1)
    assert long.frames == int(round(backend.max_clip_s * backend.sample_rate))
    assert backend.metadata("dog")["clamped_from_s"] == pytest.approx(backend.max_clip_s + 5)
