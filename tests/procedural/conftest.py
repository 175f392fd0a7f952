"""Fixtures for the procedural engine tests (helpers live in procedural_helpers.py)."""

from __future__ import annotations

import pytest
from procedural_helpers import BACKEND

from studio.generation.procedural import ProceduralBackend


@pytest.fixture(scope="session")
def backend() -> ProceduralBackend:
    return BACKEND
