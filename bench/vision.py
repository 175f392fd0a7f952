"""Benchmark: preparing a 12-megapixel photo for a vision model, excluding its forward pass.

    python bench/vision.py [--runs N]

Builds a 4000x3000 JPEG (quality 90) from the example rocket photograph, upscaled with
added sensor-like noise so it compresses like a phone photo (about 2 MB), then times, per
run, the whole path a caption request takes before the model: ``load_image`` from the
file's bytes (header checks, JPEG decode at 1/4 scale to 1000x750, which keeps the short
side above the 448 px decode floor, resize to 768x576, orientation, RGB) and
``studio.vision.prep.processor_inputs`` (the processor's resize done on the PIL image, then
the processor's rescale and normalise to a float32 tensor), with image processors built
from the real checkpoints' preprocessing settings (BLIP-large 384 px, BLIP-2 and CLIP-L
224 px; PIL backend, as transformers uses without torchvision).

Prints one JSON object. ``prep_12mp_ms`` is the median wall time of the default neural
captioner's path (BLIP-2, 224 px); ``prep_12mp_min_ms`` the fastest run (what a quiet
machine gives); ``*_cpu_ms`` the same in process CPU time (less inflated by other
processes on a shared machine). Alongside: the stages (``load_image_ms``, ``processor_ms``),
the other models' paths, the same photo tagged with a Display P3 profile (what iPhones
write; converted to sRGB), the path as it was before fitting (``processor_unfitted_ms``:
the processor on the intake image), and the 1-minute load average. Target: under 50 ms.
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


def make_photo(icc_profile: bytes | None = None) -> bytes:
    from PIL import Image

    src = Image.open(ROOT / "examples" / "images" / "rocket_on_launch_pad_at_dusk.jpg").convert("RGB")
    big = np.asarray(src.resize((4000, 3000), Image.Resampling.BICUBIC), np.float32)
    noise = np.random.default_rng(0).normal(0.0, 4.0, big.shape).astype(np.float32)
    buf = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    Image.fromarray(np.clip(big + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90, **extra)
    return buf.getvalue()


def display_p3_profile() -> bytes:
    sys.path.insert(0, str(ROOT / "tests" / "vision"))
    from vision_helpers import rgb_icc_profile  # a hand-built Display P3 profile (no ICC files offline)

    return rgb_icc_profile("Display P3")


def processors() -> dict[str, object]:
    from transformers.utils import logging

    logging.set_verbosity_error()  # "requires torchvision; falling back to the PIL backend" notes
    from transformers import BlipImageProcessor, CLIPImageProcessor
    common = {"image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD, "do_convert_rgb": True}
    return {
        "blip2_224": BlipImageProcessor(size={"height": 224, "width": 224}, **common),
        "blip_large_384": BlipImageProcessor(size={"height": 384, "width": 384}, **common),
        "clip_l_224": CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, **common),
    }


def _ms(values: list[float], how=statistics.median) -> float:
    return round(how(values) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import torch  # noqa: F401 - imported up front so it is not timed

    from studio.vision.intake import load_image
    from studio.vision.prep import processor_inputs

    photos = {"plain": make_photo(), "p3": make_photo(display_p3_profile())}
    procs = processors()
    for data in photos.values():  # warm-up (and the cached colour transform)
        for proc in procs.values():
            processor_inputs(proc, load_image(data))

    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def add(key: str, t: float, c: float) -> None:
        wall.setdefault(key, []).append(t)
        cpu.setdefault(key, []).append(c)

    for _ in range(args.runs):
        for photo, data in photos.items():
            t0, c0 = time.perf_counter(), time.process_time()
            image = load_image(data, filename="photo_12mp.jpg")
            t_load, c_load = time.perf_counter() - t0, time.process_time() - c0
            add(f"load_{photo}", t_load, c_load)
            for name, proc in procs.items():
                if photo == "p3" and name != "blip2_224":
                    continue
                t1, c1 = time.perf_counter(), time.process_time()
                pixel_values = processor_inputs(proc, image)["pixel_values"]
                t_proc, c_proc = time.perf_counter() - t1, time.process_time() - c1
                assert pixel_values.dtype == torch.float32 and pixel_values.shape[0] == 1
                add(f"{name}_{photo}", t_load + t_proc, c_load + c_proc)
                add(f"proc_{name}_{photo}", t_proc, c_proc)
            if photo == "plain":
                t2, c2 = time.perf_counter(), time.process_time()
                procs["blip2_224"](images=image, return_tensors="pt")
                add("unfitted", time.perf_counter() - t2, time.process_time() - c2)

    result = {
        "prep_12mp_ms": _ms(wall["blip2_224_plain"]),
        "prep_12mp_min_ms": _ms(wall["blip2_224_plain"], min),
        "prep_12mp_cpu_ms": _ms(cpu["blip2_224_plain"]),
        "load_image_ms": _ms(wall["load_plain"]),
        "load_image_cpu_ms": _ms(cpu["load_plain"]),
        "processor_ms": _ms(wall["proc_blip2_224_plain"]),
        "processor_cpu_ms": _ms(cpu["proc_blip2_224_plain"]),
        "processor_unfitted_ms": _ms(wall["unfitted"]),
        "processor_unfitted_cpu_ms": _ms(cpu["unfitted"]),
        "prep_ms_by_model": {name: _ms(wall[f"{name}_plain"]) for name in procs},
        "prep_min_ms_by_model": {name: _ms(wall[f"{name}_plain"], min) for name in procs},
        "prep_12mp_p3_ms": _ms(wall["blip2_224_p3"]),
        "prep_12mp_p3_min_ms": _ms(wall["blip2_224_p3"], min),
        "photo_px": [4000, 3000],
        "photo_mb": round(len(photos["plain"]) / 1e6, 2),
        "prepared_px": list(image.size),
        "runs": args.runs,
        "target_ms": 50,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
