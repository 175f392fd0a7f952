"""Benchmark: a 10-minute render of an example image on the offline defaults
(analysis captioner, rules planner, procedural backend, mixer, export).

Prints one JSON object: {"duration_s": 600, "wall_s": ..., "peak_rss_mb": ..., ...}.
Run: python bench/render_offline.py [--seconds 600] [--image PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--image", default=None)
    args = parser.parse_args()
    images = sorted((ROOT / "examples" / "images").glob("*.[jp][pn]g"))
    image_path = Path(args.image) if args.image else images[0]

    from studio.pipeline import SoundscapePipeline

    pipe = SoundscapePipeline()
    t0 = time.perf_counter()
    image = pipe.load_image(image_path)
    caption = pipe.caption(image)
    t_caption = time.perf_counter()
    plan = pipe.plan(caption, style="meditation", duration_s=args.seconds, seed=1)
    t_plan = time.perf_counter()
    scape = pipe.render(plan)
    with tempfile.TemporaryDirectory() as out:
        pipe.export(scape, out, image_info=image.info.get("studio"))
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "duration_s": args.seconds,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "caption_s": round(t_caption - t0, 2),
                "plan_s": round(t_plan - t_caption, 2),
                "render_and_export_s": round(wall - (t_plan - t0), 2),
                "layers": len(plan.layers),
                "image": image_path.name,
            }
        )
    )


if __name__ == "__main__":
    main()
