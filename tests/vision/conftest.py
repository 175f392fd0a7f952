"""Vision test fixtures: tiny neural checkpoints (built once per session) and image helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tiny_models lives beside the tests


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    """Folders holding save_pretrained'd tiny BLIP-2 (OPT and T5), BLIP and CLIP checkpoints."""
    import torch

    from tiny_models import build_tiny_blip, build_tiny_blip2, build_tiny_blip2_t5, build_tiny_clip

    torch.set_num_threads(1)  # see _one_torch_thread

    root = tmp_path_factory.mktemp("tiny-vision")
    return {
        "blip2": build_tiny_blip2(root / "blip2"),
        "blip2_t5": build_tiny_blip2_t5(root / "blip2_t5"),
        "blip": build_tiny_blip(root / "blip"),
        "clip": build_tiny_clip(root / "clip"),
    }


@pytest.fixture(autouse=True)
def _empty_model_cache():
    """Each test starts and ends with no vision model cached (cache behaviour is tested)."""
    from studio.vision import model_cache

    model_cache.unload_all()
    yield
    model_cache.unload_all()


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run ~15x faster on one intra-op thread on a shared 2-core machine (no
    OpenMP spin-waiting against other processes); restored afterwards."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
