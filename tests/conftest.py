"""Shared test fixtures. Tests build everything they need in process: synthetic images,
signals, tiny models and fake backends. No network, no downloaded weights."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Never reach a model hub from tests: loading code must work from local folders only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Vocabulary embeddings cached on disk go to a folder of this run, not the user's cache.
# It is removed when the run ends (or, if the run is killed, by the next run's sweep).
if "STUDIO_CACHE_DIR" not in os.environ:
    from studio.scratch import scratch_dir

    os.environ["STUDIO_CACHE_DIR"] = str(scratch_dir("studio-test-cache-"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def scene_image(tmp_path):
    """A 320x240 PNG: blue sky over green vegetation, with a file name that says 'lake'."""
    from PIL import Image

    arr = np.zeros((240, 320, 3), np.uint8)
    arr[:120] = (90, 150, 230)
    arr[120:] = (40, 140, 60)
    path = tmp_path / "quiet_lake_forest.png"
    Image.fromarray(arr).save(path)
    return path
