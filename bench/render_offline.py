"""Benchmark: a render of an example image on the offline defaults (analysis captioner, rules
planner, procedural backend with fresh beds rendered in worker processes, mixer, export).

Prints one JSON object: {"duration_s": 600, "wall_s": ..., "peak_rss_mb": ..., ...}.
Run: python bench/render_offline.py [--seconds 600] [--image PATH]

The render runs in a child process; ``peak_rss_mb`` is the largest total resident memory of
that child and its bed workers, polled every 50 ms from outside (``ru_maxrss`` would be
inherited across exec and miss the workers). ``cpu_s`` is the user + system CPU time of the
child and every process it waited for (its bed workers), from ``os.wait4``'s resource usage:
on a busy machine it moves much less than ``wall_s``. ``machine_steal_s`` is the CPU time the
hypervisor gave other guests during the run (all cores; Linux only): a run with several seconds
of it is slower for reasons outside this program. Goals for ``--seconds 3600``: wall <= 60 s,
peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def render(seconds: float, image_path: Path) -> dict:
    from studio.pipeline import SoundscapePipeline

    pipe = SoundscapePipeline()
    t0 = time.perf_counter()
    image = pipe.load_image(image_path)
    caption = pipe.caption(image)
    t_caption = time.perf_counter()
    plan = pipe.plan(caption, style="meditation", duration_s=seconds, seed=1)
    t_plan = time.perf_counter()
    scape = pipe.render(plan)
    t_render = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipe.export(scape, out, image_info=image.info.get("studio"))
        # Stopped before the bench deletes its output (about 4 GB for 60 minutes): removing
        # the files is the bench's housekeeping, not part of rendering or exporting.
        wall = time.perf_counter() - t0
    return {
        "duration_s": seconds,
        "wall_s": round(wall, 2),
        "caption_s": round(t_caption - t0, 2),
        "plan_s": round(t_plan - t_caption, 2),
        "render_s": round(t_render - t_plan, 2),
        "export_s": round(wall - (t_render - t0), 2),
        "layers": len(plan.layers),
        "fresh_beds": sum(1 for s in scape.stems if s.metadata.get("fresh")),
        "loudness_range_lu": scape.master.get("loudness_range_lu"),
        "balance_db": scape.master.get("balance_db"),
        "image": image_path.name,
    }


def _stolen_s() -> "float | None":
    """CPU seconds the hypervisor has taken from this virtual machine since boot, over all
    cores (Linux ``/proc/stat``; None elsewhere). The delta over a run says how much of the
    machine other guests had: on the 2-core test machine it was 0.3-0.7 of a core in some
    minutes, which is where most of ``wall_s``'s spread between runs comes from."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--image", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    images = sorted((ROOT / "examples" / "images").glob("*.[jp][pn]g"))
    image_path = Path(args.image) if args.image else images[0]
    if args.child:
        print(json.dumps(render(args.seconds, image_path)))
        return

    import psutil

    steal_before = _stolen_s()
    cmd = [sys.executable, __file__, "--child", "--seconds", str(args.seconds), "--image", str(image_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    import threading

    stdout: list[str] = []
    reader = threading.Thread(target=lambda: stdout.append(proc.stdout.read()), daemon=True)
    reader.start()  # a chatty child must not block on a full pipe while we poll
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    out = "".join(stdout).strip().splitlines()
    if proc.returncode != 0 or not out:
        raise SystemExit(f"the render failed (exit {proc.returncode})")
    result = json.loads(out[-1])
    result["peak_rss_mb"] = round(peak / 2**20, 1)
    result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
    result["cpu_user_s"] = round(usage.ru_utime, 1)
    result["cpu_sys_s"] = round(usage.ru_stime, 1)
    steal_after = _stolen_s()
    if steal_before is not None and steal_after is not None:
        result["machine_steal_s"] = round(steal_after - steal_before, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
