"""Benchmark: preparing a 12-megapixel photo for a vision model, excluding its forward pass.

    python bench/vision.py [--runs N]

Builds a 4000x3000 JPEG (quality 90) from the example rocket photograph, upscaled with
added sensor-like noise so it compresses like a phone photo (about 3-4 MB), then times, per
run, the whole path a caption request takes before the model: ``load_image`` from the
file's bytes (header checks, reduced-scale JPEG decode, orientation, RGB, downscale to 768
px) and the model's own image processor (resize, rescale, normalise to a tensor), built
from the real checkpoints' preprocessing settings (BLIP-large 384 px, BLIP-2 and CLIP-L 224
px). Prints one JSON object; ``prep_12mp_ms`` is the median wall time of the default
neural captioner's path (BLIP-2, 224 px), ``*_cpu_ms`` the same in process CPU time (which
other processes on a shared machine inflate less), with the other models' paths and the
1-minute load average alongside. Target: under 50 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def make_photo() -> bytes:
    from PIL import Image

    src = Image.open(ROOT / "examples" / "images" / "rocket_on_launch_pad_at_dusk.jpg").convert("RGB")
    big = np.asarray(src.resize((4000, 3000), Image.Resampling.BICUBIC), np.float32)
    noise = np.random.default_rng(0).normal(0.0, 4.0, big.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(big + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def processors() -> dict[str, object]:
    from transformers import BlipImageProcessor, CLIPImageProcessor

    common = {"image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD, "do_convert_rgb": True}
    return {
        "blip_large_384": BlipImageProcessor(size={"height": 384, "width": 384}, **common),
        "blip2_224": BlipImageProcessor(size={"height": 224, "width": 224}, **common),
        "clip_l_224": CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, **common),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import torch  # noqa: F401 - imported up front so it is not timed

    from studio.vision.intake import load_image

    data = make_photo()
    procs = processors()
    for proc in procs.values():  # warm-up
        proc(images=load_image(data), return_tensors="pt")

    load_ms: list[float] = []
    load_cpu_ms: list[float] = []
    per_model: dict[str, list[float]] = {name: [] for name in procs}
    per_model_cpu: dict[str, list[float]] = {name: [] for name in procs}
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        image = load_image(data, filename="photo_12mp.jpg")
        t1, c1 = time.perf_counter(), time.process_time()
        load_ms.append((t1 - t0) * 1000)
        load_cpu_ms.append((c1 - c0) * 1000)
        for name, proc in procs.items():
            t2, c2 = time.perf_counter(), time.process_time()
            pixel_values = proc(images=image, return_tensors="pt")["pixel_values"]
            per_model[name].append((t1 - t0 + time.perf_counter() - t2) * 1000)
            per_model_cpu[name].append((c1 - c0 + time.process_time() - c2) * 1000)
            assert pixel_values.shape[0] == 1

    result = {
        "prep_12mp_ms": round(statistics.median(per_model["blip2_224"]), 1),
        "prep_12mp_cpu_ms": round(statistics.median(per_model_cpu["blip2_224"]), 1),
        "load_image_ms": round(statistics.median(load_ms), 1),
        "load_image_cpu_ms": round(statistics.median(load_cpu_ms), 1),
        "prep_ms_by_model": {name: round(statistics.median(v), 1) for name, v in per_model.items()},
        "prep_cpu_ms_by_model": {name: round(statistics.median(v), 1) for name, v in per_model_cpu.items()},
        "photo_px": [4000, 3000],
        "photo_mb": round(len(data) / 1e6, 2),
        "prepared_px": list(image.size),
        "runs": args.runs,
        "target_ms": 50,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
