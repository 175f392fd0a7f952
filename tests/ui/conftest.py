"""Fixtures for the studio UI tests: a private data directory and example plans/images."""

from __future__ import annotations

import pytest


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """STUDIO_DATA_DIR pointed at a fresh folder (the library lives there)."""
    path = tmp_path / "studio-data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(path))
    return path


@pytest.fixture
def plan():
    from ui_test_helpers import make_plan

    return make_plan()
