"""Benchmark the procedural engine: a 60 s, 48 kHz stereo render of every catalogue type on
one core, with ``loop=True`` as the pipeline renders beds (so the 2 s loop tail is counted). Prints one JSON object:

    {"duration_s": 60, "types": {"<name>": {"realtime_factor": ..., "wall_s": ...}, ...},
     "median_realtime_factor": ..., "min_realtime_factor": ..., "slowest": "<name>"}

realtime_factor = seconds of audio per second of compute: the process's CPU time on its one
pinned core (best of ``--repeat`` runs), so other work on a shared machine does not count;
``wall_realtime_factor`` is the same against wall-clock time, and ``load_avg`` says how busy
the machine was.
Goal (issue 3): >= 20 for every type and a median >= 100.

Usage: python bench/procedural.py [--seconds 60] [--repeat 1] [--types a,b]
"""

from __future__ import annotations

import os

# One core: pin BLAS/FFT pools before numpy is imported, and the process to one CPU.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--types", default="", help="comma-separated subset (default: all)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from studio.sounds.catalogue import CATALOGUE
    from studio.generation.procedural import ProceduralBackend

    backend = ProceduralBackend()
    names = [t for t in args.types.split(",") if t] or [t.name for t in CATALOGUE]
    backend.generate("warm up", duration_s=1.0, seed=0, type="pink_noise")
    results: dict[str, dict[str, float]] = {}
    for name in names:
        best_cpu = best_wall = float("inf")
        for r in range(max(1, args.repeat)):
            c0, w0 = time.process_time(), time.perf_counter()
            backend.generate(name, duration_s=args.seconds, seed=r, type=name, loop=True)  # as the pipeline renders beds
            best_cpu = min(best_cpu, time.process_time() - c0)
            best_wall = min(best_wall, time.perf_counter() - w0)
        results[name] = {
            "realtime_factor": round(args.seconds / max(best_cpu, 1e-9), 1),
            "cpu_s": round(best_cpu, 3),
            "wall_s": round(best_wall, 3),
            "wall_realtime_factor": round(args.seconds / max(best_wall, 1e-9), 1),
        }
    factors = [r["realtime_factor"] for r in results.values()]
    slowest = min(results, key=lambda k: results[k]["realtime_factor"])
    print(json.dumps({
        "duration_s": args.seconds,
        "sample_rate": backend.sample_rate,
        "types": results,
        "median_realtime_factor": round(statistics.median(factors), 1),
        "min_realtime_factor": min(factors),
        "slowest": slowest,
        "load_avg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
