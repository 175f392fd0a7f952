"""The packaged MiniLM model: normalised, meaningful embeddings (torch-free and hub checks:
test_minilm.py)."""

from __future__ import annotations

import numpy as np


def test_embeddings_are_normalised_and_meaningful():
    from studio.text_embed import embed

    vecs = embed(["heavy rain on a roof", "a downpour drumming on the roof", "a crackling campfire"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
