"""Benchmark: batch throughput over the example images with 1 and 2 local worker processes
and on a local Ray instance (``ray.init(num_cpus=2)``), each into a fresh output folder.

Each figure is images rendered per minute of wall time for the whole run (model loading in the
workers included, as a user sees it); starting the local Ray instance is timed separately
(``ray_init_s``), since a real cluster is already up. Tracks are ``--seconds`` long (default 10).
Prints one JSON object:
{"images_per_minute": {"workers_1": ..., "workers_2": ..., "ray": ...}, "images": 8, ...}
Run: python bench/batch.py [--seconds 10] [--repeat-images 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat-images", type=int, default=1, help="seeds per image (more items)")
    args = parser.parse_args()

    from studio.batch import FolderRun, RenderOptions, find_images, plan_items

    images, _ = find_images(ROOT / "examples" / "images")
    items = plan_items(images, ["meditation"], list(range(args.repeat_images)))
    options = RenderOptions(duration_s=args.seconds)
    rates: dict[str, float] = {}
    extra: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        def timed(name: str, **kw) -> None:
            start = time.perf_counter()
            result = FolderRun(Path(tmp) / name, items, options, progress=None, **kw).run()
            wall = time.perf_counter() - start
            if result.failed:
                raise SystemExit(f"{name}: {result.failed} items failed")
            rates[name] = round(len(items) / wall * 60.0, 2)

        timed("workers_1", workers=1)
        timed("workers_2", workers=2)
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        extra["ray_init_s"] = round(time.perf_counter() - start, 2)
        try:
            timed("ray", ray="auto")
        finally:
            ray.shutdown()
    print(json.dumps({"images_per_minute": rates, "images": len(items), "track_s": args.seconds,
                      "cpu_count": os.cpu_count(), **extra}))


if __name__ == "__main__":
    main()
