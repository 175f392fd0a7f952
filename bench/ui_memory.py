"""Where a Studio session's memory goes: drives ``StudioSession`` (the engine the Studio page
uses) through several generations in this process and prints, after each, the process RSS,
its peak so far (polled every 0.1 s) and the numpy/bytes buffers reachable from the session
(current project, undo point; memory-mapped takes counted apart). No Streamlit, no browser:
for the server's own figure run ``bench/ui.py``.

Run: ``python bench/ui_memory.py [--generations 5] [--seconds 600]`` (about 1-2 minutes per
10-minute generation on 2 cores). Prints one JSON object per generation.
"""

from __future__ import annotations

import argparse
import gc
import json
import mmap
import os
import sys
import threading
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.scratch import scratch_dir  # noqa: E402  (light: a temp folder removed at exit)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reachable_mb(root) -> tuple[float, float]:
    """``(in_memory_mb, mapped_mb)``: distinct numpy/bytes buffers reachable from ``root``
    (closures followed, module globals not)."""
    import numpy as np

    seen, stack, owned, mapped = set(), [root], {}, {}
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
            continue
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            target = mapped if isinstance(base, np.memmap) or isinstance(base.base, mmap.mmap) else owned
            target[id(base)] = base.nbytes
            continue
        if isinstance(obj, (bytes, bytearray)):
            owned[id(obj)] = len(obj)
            continue
        if isinstance(obj, (str, int, float)):
            continue
        stack.extend(gc.get_referents(obj))
    return sum(owned.values()) / 2**20, sum(mapped.values()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--style", default="meditation")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("STUDIO_DATA_DIR", str(scratch_dir("studio-bench-mem-")))
    from bench.ui import _png
    from studio.ui.engine import StudioSession
    from studio.ui.memory import tune_allocator
    from studio.ui.settings import master_overrides

    tune_allocator()  # as streamlit_app.py does in the server
    peak = [0.0]

    def poll() -> None:
        while True:
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.1)

    threading.Thread(target=poll, daemon=True).start()
    sess = StudioSession()
    sess.use_image(sess.open_image(_png(), "quiet_lake_forest.png"))
    for i in range(args.generations):
        t0 = time.perf_counter()
        plan = sess.make_plan(style=args.style, duration_s=args.seconds, seed=100 + i,
                              master=master_overrides("style default", args.style))
        sess.generate(plan)
        sess.plot_pngs()
        wall = time.perf_counter() - t0
        gc.collect()
        project, project_mapped = reachable_mb(sess.project)
        undo, undo_mapped = reachable_mb(sess.undo_point) if sess.undo_point else (0.0, 0.0)
        print(json.dumps({
            "generation": i + 1, "wall_s": round(wall, 1), "rss_mb": round(_rss_mb(), 1), "peak_rss_mb": round(peak[0], 1),
            "project_mb": round(project, 1), "undo_mb": round(undo, 1), "undo_mapped_mb": round(undo_mapped, 1),
            "session_mb": round(reachable_mb(sess)[0], 1), "torch_loaded": "torch" in sys.modules,
        }), flush=True)


if __name__ == "__main__":
    main()
