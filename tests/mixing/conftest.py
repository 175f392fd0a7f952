"""Fixtures for the mixer tests: synthetic layer sources made with numpy (no backend)."""

from __future__ import annotations

import pytest

from mixing_helpers import simple_plan, simple_sources


@pytest.fixture(scope="session")
def rendered():
    """One 20 s soundscape shared by read-only tests (rendering is the expensive part)."""
    from studio.mixing import render_soundscape

    plan = simple_plan()
    sources = simple_sources(plan)
    sc = render_soundscape(plan, sources)
    return sc, sc.mix_clip().samples
