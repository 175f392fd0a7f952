"""Helpers shared by the studio UI tests (plans, manifests, images)."""

from __future__ import annotations

import io
import json

import numpy as np


def make_plan(duration_s: float = 20.0, seed: int = 3, caption: str = "a quiet lake at dusk"):
    from studio.types import Caption, EventSpec, LayerSpec, ScenePlan

    return ScenePlan(
        style="meditation",
        duration_s=duration_s,
        seed=seed,
        caption=Caption(text=caption, source="analysis"),
        layers=(
            LayerSpec(name="lake", prompt="calm lake water lapping", params={"type": "lake_lapping", "density": 0.4}, seed=11),
            LayerSpec(name="bowl", role="foreground", prompt="singing bowl", params={"type": "singing_bowl"}, seed=12,
                      events=EventSpec(mean_interval_s=10.0, event_s=3.0, takes=2)),
        ),
    )


def make_manifest(plan) -> dict:
    from studio.manifest import MANIFEST_FORMAT, MANIFEST_VERSION

    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "plan": json.loads(plan.model_dump_json()),
            "layers": [], "master": {}, "image": None}


def png_bytes(width: int = 160, height: int = 120) -> bytes:
    """Blue sky over green vegetation, as PNG bytes."""
    from PIL import Image

    arr = np.zeros((height, width, 3), np.uint8)
    arr[: height // 2] = (90, 150, 230)
    arr[height // 2 :] = (40, 140, 60)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def largest_track_objects(root, track_frames: int, skip=()) -> list[str]:
    """Arrays or bytes reachable from ``root`` as big as a whole stereo float32 track of
    ``track_frames`` frames / 4 (a 16-bit mono copy would be that large), as descriptions.
    ``skip`` lists objects not to walk into. Audio that lives on disk leaves this empty."""
    import gc
    import types

    limit = track_frames * 2  # bytes of a mono 8-bit copy: anything whole-track is bigger
    seen = {id(o) for o in skip}
    stack = [root]
    found = []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.nbytes >= limit:
                found.append(f"array {obj.shape} {obj.dtype}")
            continue
        if isinstance(obj, (bytes, bytearray, memoryview)):
            if len(obj) >= limit:
                found.append(f"bytes {len(obj)}")
            continue
        if isinstance(obj, (str, int, float)):
            continue
        stack.extend(gc.get_referents(obj))
    return found
