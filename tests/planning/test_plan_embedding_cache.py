"""The vocabulary embeddings kept on disk between processes (studio.planning.embedding)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.planning import embedding


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(embedding, "_MATRICES", {})
    return tmp_path / "embeddings"


def test_a_vocabulary_is_embedded_once_then_read_from_disk(fresh_cache, monkeypatch):
    texts = ["gentle rain on leaves", "a crackling campfire", "birds at dawn"]
    first = embedding.text_matrix(texts)
    files = list(fresh_cache.glob("*.npy"))
    assert len(files) == 1 and first.shape == (3, 384) and first.dtype == np.float32

    # A new process (no in-memory matrices) reads the file and never calls the model.
    monkeypatch.setattr(embedding, "_MATRICES", {})
    monkeypatch.setattr(embedding, "embed_texts", lambda _t: pytest.fail("re-embedded a cached vocabulary"))
    assert np.array_equal(embedding.text_matrix(texts), first)


def test_changed_texts_get_their_own_file_and_a_damaged_file_is_ignored(fresh_cache, monkeypatch):
    a = embedding.text_matrix(["rain", "wind"])
    b = embedding.text_matrix(["rain", "waves"])
    assert len(list(fresh_cache.glob("*.npy"))) == 2 and not np.array_equal(a, b)
    for path in fresh_cache.glob("*.npy"):
        path.write_bytes(b"not an array")
    monkeypatch.setattr(embedding, "_MATRICES", {})
    again = embedding.text_matrix(["rain", "wind"])  # re-embedded, the file rewritten
    assert np.allclose(again, a, atol=1e-6)
    assert embedding._read_matrix(embedding._disk_path(("rain", "wind")), 2) is not None


def test_an_unwritable_cache_only_costs_the_re_embedding(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(blocker))
    monkeypatch.setattr(embedding, "_MATRICES", {})
    assert embedding.text_matrix(["owl at night"]).shape == (1, 384)
