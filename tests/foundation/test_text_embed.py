"""The packaged MiniLM model: normalised embeddings, and no lasting offline switch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def test_embeddings_are_normalised_and_meaningful():
    from studio.text_embed import embed

    vecs = embed(["heavy rain on a roof", "a downpour drumming on the roof", "a crackling campfire"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2


def test_loading_the_sentence_model_does_not_leave_the_hub_offline():
    code = (
        "import os; os.environ.pop('HF_HUB_OFFLINE', None)\n"
        "from studio.text_embed import embed; embed(['a lake'])\n"
        "print(os.environ.get('HF_HUB_OFFLINE'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"
