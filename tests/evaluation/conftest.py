"""Fixtures for coherence scoring: tiny random CLIP and CLAP models built offline once per
session (by the builders the vision and neural tests use) and loaded through the scorers'
real ``from_pretrained``; a short rendered soundscape of an example image."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
EXAMPLES = TESTS.parent / "examples" / "images"
for sub in ("vision", "neural"):
    sys.path.insert(0, str(TESTS / sub))


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    from tiny_models import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="session")
def tiny_clap_dir(tmp_path_factory) -> Path:
    from neural_tiny_models import build_clap

    return build_clap(tmp_path_factory.mktemp("clap"))


@pytest.fixture(scope="session")
def clip_scorer(tiny_clip_dir):
    from studio.evaluation.clip import ClipScorer

    return ClipScorer.from_pretrained(str(tiny_clip_dir), device="cpu")


@pytest.fixture(scope="session")
def clap_scorer(tiny_clap_dir):
    from studio.evaluation.clap import ClapScorer

    return ClapScorer.from_pretrained(str(tiny_clap_dir), device="cpu")


@pytest.fixture(scope="session")
def lake():
    """(image, soundscape): the lake example captioned, planned and rendered for 8 s."""
    from studio.pipeline import SoundscapePipeline

    pipe = SoundscapePipeline()
    image = pipe.load_image(EXAMPLES / "lake_at_dusk.jpg")
    plan = pipe.plan(pipe.caption(image), style="meditation", duration_s=8.0, seed=3)
    return image, pipe.render(plan)
