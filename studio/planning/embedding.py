"""MiniLM sentence embeddings for the planners, memoised per process.

``embed_texts`` batches every text not seen before into one forward pass; ``catalogue_matrix``
is the procedural catalogue's descriptions, embedded once per catalogue content (so a type
added to ``studio/sounds/catalogue.py`` is picked up without a code change).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

_EMBED_CACHE: "OrderedDict[str, np.ndarray]" = OrderedDict()
_EMBED_CACHE_SIZE = 4096


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """MiniLM embeddings ``(len(texts), 384)``, L2-normalised, memoised per process; the texts
    not seen before are embedded in one batch (one forward pass, not one per text)."""
    from studio.text_embed import embed

    missing = list(dict.fromkeys(t for t in texts if t not in _EMBED_CACHE))
    if missing:
        for text, vec in zip(missing, embed(missing)):
            _EMBED_CACHE[text] = vec
        while len(_EMBED_CACHE) > _EMBED_CACHE_SIZE:
            _EMBED_CACHE.popitem(last=False)
    return np.stack([_EMBED_CACHE[t] for t in texts])


_MATRICES: dict[tuple[str, ...], np.ndarray] = {}


def text_matrix(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of a fixed vocabulary ``(len(texts), 384)``, kept for the process (outside
    the per-text cache, so a long session never re-embeds its vocabularies)."""
    key = tuple(texts)
    if key not in _MATRICES:
        _MATRICES[key] = embed_texts(key)
    return _MATRICES[key]


def catalogue_matrix() -> np.ndarray:
    """MiniLM embeddings of the catalogue descriptions, ``(len(CATALOGUE), 384)``, normalised."""
    from studio.sounds.catalogue import CATALOGUE

    return text_matrix([t.description for t in CATALOGUE])
