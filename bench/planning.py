"""Rules planner vs a plain nearest-neighbour baseline on the caption table.

Prints one JSON object:
``{"captions": N, "recall": ..., "precision": ..., "contradictions": ..., "baseline": {...}, "model_load_s": ..., "plan_ms_mean": ...}``

The baseline embeds the whole caption with the same MiniLM model and takes the
``BASELINE_K`` nearest catalogue descriptions: no negation, no scene rules, no threshold.
Goals (issue 6): recall >= 0.9 and contradictions <= 0.05.

Run: ``python bench/planning.py [--table tests/planning/captions.toml]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE_K = 3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", default=str(ROOT / "tests" / "planning" / "captions.toml"))
    parser.add_argument("--verbose", action="store_true", help="also print each row's misses to stderr")
    args = parser.parse_args()

    import numpy as np

    from studio.generation.catalogue import CATALOGUE
    from studio.planning.rules import RulePlanner, catalogue_matrix, caption_text, embed_texts
    from studio.planning.scoring import evaluate, load_table, style_layer_types
    from studio.planning.styles import load_style

    rows = load_table(args.table)
    planner = RulePlanner()
    start = time.perf_counter()
    catalogue_matrix()  # loads MiniLM once; timed separately from planning
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    planner.warm([row.caption() for row in rows])
    warm_s = time.perf_counter() - start
    start = time.perf_counter()

    def rules(row):
        style = load_style(row.style)
        plan = planner.plan(row.caption(), style=style, duration_s=60.0, seed=0)
        return [layer.params["type"] for layer in plan.layers], style_layer_types(style)

    def baseline(row):
        text, extra = caption_text(row.caption())
        vec = embed_texts([" ; ".join([text, *extra])])[0]
        order = np.argsort(-(catalogue_matrix() @ vec))[:BASELINE_K]
        return [CATALOGUE[i].name for i in order], []

    summary = evaluate(rules, rows)
    wall_s = time.perf_counter() - start
    base = evaluate(baseline, rows)
    if args.verbose:
        for r in summary.rows:
            if r.missing or r.extras or r.contradicting:
                print(f"{r.row.text!r}: planned={r.planned} missing={r.missing} extras={r.extras} contra={r.contradicting}", file=sys.stderr)
    out = summary.as_dict()
    out["baseline"] = {**base.as_dict(), "method": f"top-{BASELINE_K} MiniLM nearest neighbours"}
    out["model_load_s"] = round(load_s, 2)
    out["batch_embed_s"] = round(warm_s, 2)
    out["plan_ms_mean"] = round(1000 * wall_s / max(1, len(rows)), 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
