"""The evaluation report: ``report.html`` and ``summary.md`` over a folder run's records
(``studio.batch``), with plots in ``plots/``.

Per image variant: thumbnail, caption, plan, players for the mix and every stem, spectrograms,
scores (model scores and offline measures, each labelled with what measured it), notes.
Across the set: score distributions grouped by backend (per-layer scores), planner and style,
as tables and box plots; time and memory per stage; the files that failed, one line each.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from studio.evaluation.scores import OVERALL_FORMULA, score_rows

THUMB_NAME = "thumb.png"
SPECTROGRAM_DIR = "spectrograms"


# ---------------------------------------------------------------------------- per item media


def write_item_media(folder: Path, image: Any, scape: Any) -> None:
    """``thumb.png`` and one spectrogram PNG for the mix and for each stem under ``folder``."""
    from studio.atomic import write_bytes_atomic
    from studio.library import make_thumbnail
    from studio.ui.plots import figure_png, spectrogram_figure

    write_bytes_atomic(folder / THUMB_NAME, make_thumbnail(image))
    spec_dir = folder / SPECTROGRAM_DIR
    spec_dir.mkdir(parents=True, exist_ok=True)
    mix = scape.mix_clip()
    write_bytes_atomic(spec_dir / "mix.png", figure_png(spectrogram_figure(mix.samples, mix.sample_rate, title="mix", height_in=2.0)))
    for i, stem in enumerate(scape.stems, start=1):
        clip = stem.clip()
        fig = spectrogram_figure(clip.samples, clip.sample_rate, title=f"stem {stem.spec.name}", height_in=1.6)
        write_bytes_atomic(spec_dir / f"stem-{i:02d}.png", figure_png(fig))


# ---------------------------------------------------------------------------- metrics over the set

# (label, kind, per-record values). Per-layer metrics yield (backend, value) pairs.
ItemMetric = tuple[str, str, Callable[[dict], Optional[float]]]
LayerMetric = tuple[str, str, Callable[[dict], list[tuple[str, float]]]]


def _get(path: Sequence[str]) -> Callable[[dict], Optional[float]]:
    def read(record: dict) -> Optional[float]:
        value: Any = record.get("scores") or {}
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    return read


def _per_layer(path: Sequence[str]) -> Callable[[dict], list[tuple[str, float]]]:
    def read(record: dict) -> list[tuple[str, float]]:
        values: Any = record.get("scores") or {}
        for key in path:
            values = values.get(key) if isinstance(values, dict) else None
        backends = {layer["name"]: layer["backend"] for layer in record.get("layers", [])}
        if not isinstance(values, dict):
            return []
        return [(backends.get(name, "?"), float(v)) for name, v in values.items() if isinstance(v, (int, float))]

    return read


ITEM_METRICS: list[ItemMetric] = [
    ("overall", "CLIP+CLAP", _get(["overall", "value"])),
    ("image ↔ caption", "CLIP", _get(["clip", "image_caption"])),
    ("caption ↔ mix", "CLAP", _get(["clap", "caption_mix"])),
    ("caption ↔ plan (mean)", "MiniLM, offline", _get(["offline", "caption_plan_minilm", "mean"])),
    ("loudness range (LU)", "meter, offline", _get(["offline", "loudness", "lra_lu"])),
    ("integrated loudness (LUFS)", "meter, offline", _get(["offline", "loudness", "integrated_lufs"])),
]
LAYER_METRICS: list[LayerMetric] = [
    ("prompt ↔ stem", "CLAP", _per_layer(["clap", "layers"])),
    ("caption ↔ layer prompt", "MiniLM, offline", _per_layer(["offline", "caption_plan_minilm", "layers"])),
    ("realism probability", "realism classifier, offline", _per_layer(["offline", "realism"])),
]


def grouped(records: Sequence[dict]) -> list[dict[str, Any]]:
    """Distributions: for each metric with values, ``{"metric", "kind", "by", "groups": {name: [values]}}``
    grouped by style and planner (item metrics) or by backend (layer metrics)."""
    out = []
    for label, kind, read in ITEM_METRICS:
        for by in ("style", "planner"):
            groups: dict[str, list[float]] = defaultdict(list)
            for r in records:
                value = read(r)
                if value is not None:
                    groups[str(r.get(by))].append(value)
            if groups:
                out.append({"metric": label, "kind": kind, "by": by, "groups": dict(sorted(groups.items()))})
    for label, kind, read_layers in LAYER_METRICS:
        groups = defaultdict(list)
        for r in records:
            for backend, value in read_layers(r):
                groups[backend].append(value)
        if groups:
            out.append({"metric": label, "kind": kind, "by": "backend", "groups": dict(sorted(groups.items()))})
    return out


def stage_table(records: Sequence[dict]) -> list[dict[str, Any]]:
    """Per stage: items, mean and max seconds, mean RSS after it and the largest peak RSS (MB)."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        for s in r.get("stages", []):
            rows[s["stage"]].append(s)
    table = []
    for stage, items in rows.items():
        secs = [s["seconds"] for s in items]
        table.append({
            "stage": stage, "items": len(items), "mean_s": round(float(np.mean(secs)), 3), "max_s": round(max(secs), 3),
            "mean_rss_mb": round(float(np.mean([s["rss_mb"] for s in items])), 1),
            "peak_rss_mb": round(max(s["peak_rss_mb"] for s in items), 1),
        })
    return table


def _stats(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, float)
    return {"n": arr.size, "mean": round(float(arr.mean()), 3), "median": round(float(np.median(arr)), 3),
            "min": round(float(arr.min()), 3), "max": round(float(arr.max()), 3)}


def _boxplot_png(dist: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    from studio.ui.plots import figure_png

    names = list(dist["groups"])
    fig = Figure(figsize=(6, 2.6), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.boxplot([dist["groups"][n] for n in names], tick_labels=names, showmeans=True)
    ax.set_title(f"{dist['metric']} ({dist['kind']}) by {dist['by']}", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return figure_png(fig)


# ---------------------------------------------------------------------------- writing


def write_report(out: Path, records: Sequence[dict], *, problems: Iterable[str] = (), title: str = "Soundscape evaluation") -> dict[str, Path]:
    """Write ``report.html``, ``summary.md`` and ``plots/*.png`` under ``out``; their paths."""
    from studio.atomic import write_bytes_atomic

    out = Path(out)
    ok = [r for r in records if r.get("status") == "ok"]
    failed = [r for r in records if r.get("status") != "ok"]
    problems = [*problems, *(f"{Path(r['image']).name} ({r['style']}, seed {r['seed']}): {r['error']}" for r in failed)]
    dists = grouped(ok)
    plots_dir = out / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    for i, dist in enumerate(dists):
        dist["plot"] = f"plots/dist-{i:02d}.png"
        write_bytes_atomic(out / dist["plot"], _boxplot_png(dist))
    stages = stage_table(ok)
    html_text = _html(title, ok, problems, dists, stages)
    md_text = _markdown(title, ok, problems, dists, stages)
    paths = {"html": out / "report.html", "markdown": out / "summary.md"}
    write_bytes_atomic(paths["html"], html_text.encode())
    write_bytes_atomic(paths["markdown"], md_text.encode())
    return paths


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(rows: Sequence[dict[str, Any]], cls: str = "") -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{_e(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;font-size:.85rem;text-align:left}
.item{border-top:2px solid #ddd;padding-top:1rem;margin-top:1.5rem}.thumb{float:right;margin-left:1rem;max-width:256px}
.spec{max-width:100%;display:block}.err{color:#a00}audio{width:100%;max-width:480px;display:block}.kind{color:#666}"""


def _html(title: str, ok: Sequence[dict], problems: Sequence[str], dists: Sequence[dict], stages: Sequence[dict]) -> str:
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>",
             f"<style>{CSS}</style></head><body>", f"<h1>{_e(title)}</h1>",
             f"<p>{len(ok)} rendered variant(s); {len(problems)} problem(s). Overall score: {_e(OVERALL_FORMULA)}. "
             "Offline measures are labelled as such; CLIP and CLAP scores appear only where their models were present. "
             "See docs/evaluation.md for what each score means and its limits.</p>"]
    if problems:
        parts.append('<h2>Problems</h2><ul class="err">' + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul>")
    parts.append("<h2>Across the set</h2>")
    for dist in dists:
        rows = [{"group": g, **_stats(v)} for g, v in dist["groups"].items()]
        parts.append(f"<h3>{_e(dist['metric'])} <span class=\"kind\">({_e(dist['kind'])})</span> by {_e(dist['by'])}</h3>")
        parts.append(_table(rows) + f'<img src="{_e(dist["plot"])}" alt="{_e(dist["metric"])} by {_e(dist["by"])}">')
    parts.append("<h2>Time and memory per stage</h2>" + _table(stages))
    missing = sorted({m for r in ok for m in (r.get("scores") or {}).get("missing", [])})
    if missing:
        parts.append("<h3>Absent scores</h3><ul>" + "".join(f"<li>{_e(m)}</li>" for m in missing) + "</ul>")
    parts.append("<h2>Images</h2>")
    for r in ok:
        folder = r["folder"]
        parts.append(f'<section class="item" id="{_e(r["key"])}">')
        parts.append(f'<img class="thumb" src="{_e(folder)}/{THUMB_NAME}" alt="{_e(Path(r["image"]).name)}">')
        parts.append(f"<h3>{_e(Path(r['image']).name)} · {_e(r['style'])} · seed {_e(r['seed'])}</h3>")
        parts.append(f"<p><strong>Caption</strong> ({_e(r.get('captioner'))}): {_e(r.get('caption'))}</p>")
        parts.append(f"<p>Planner {_e(r.get('planner'))}; {_e(r.get('duration_s'))} s; rendered in {_e(r.get('seconds'))} s.</p>")
        parts.append(_table([{k: layer.get(k) for k in ("name", "role", "backend", "prompt", "gain_db")} for layer in r.get("layers", [])]))
        files = r.get("files", {})
        parts.append(f"<p>Mix</p><audio controls preload=\"none\" src=\"{_e(folder)}/{_e(files.get('mix', 'mix.wav'))}\"></audio>")
        parts.append(f'<img class="spec" src="{_e(folder)}/{SPECTROGRAM_DIR}/mix.png" alt="mix spectrogram">')
        for i, layer in enumerate(r.get("layers", []), start=1):
            src = files.get(f"stem:{i:02d}")
            parts.append(f"<p>Stem {_e(layer['name'])}</p><audio controls preload=\"none\" src=\"{_e(folder)}/{_e(src)}\"></audio>")
            parts.append(f'<img class="spec" src="{_e(folder)}/{SPECTROGRAM_DIR}/stem-{i:02d}.png" alt="{_e(layer["name"])} spectrogram">')
        parts.append("<h4>Scores</h4>" + _table(score_rows(r.get("scores") or {})))
        cues = ((r.get("scores") or {}).get("offline") or {}).get("analyser_cues") or []
        if cues:
            parts.append(f"<p><strong>Analyser cues</strong> (offline): {_e(', '.join(cues))}</p>")
        if r.get("notes"):
            parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in r["notes"]) + "</ul>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _md_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "_none_\n"
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(v).replace("|", "/") for v in row.values()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _markdown(title: str, ok: Sequence[dict], problems: Sequence[str], dists: Sequence[dict], stages: Sequence[dict]) -> str:
    from studio.batch import summary_row

    lines = [f"# {title}", "", f"{len(ok)} rendered variant(s); {len(problems)} problem(s).", "",
             f"Overall score: {OVERALL_FORMULA}.", ""]
    if problems:
        lines += ["## Problems", "", *(f"- {p}" for p in problems), ""]
    keep = ("image", "style", "seed", "overall", "clip_image_caption", "clap_caption_mix", "caption_plan_minilm",
            "integrated_lufs", "lra_lu", "true_peak_dbtp", "mono_loudness_drop_db", "seconds")
    rows = [{k: ("" if v is None else (round(v, 3) if isinstance(v, float) else v)) for k, v in summary_row(r).items() if k in keep} for r in ok]
    lines += ["## Items", "", _md_table(rows), "## Distributions", ""]
    for dist in dists:
        lines += [f"### {dist['metric']} ({dist['kind']}) by {dist['by']}", "",
                  _md_table([{"group": g, **_stats(v)} for g, v in dist["groups"].items()])]
    lines += ["## Time and memory per stage", "", _md_table(stages)]
    return "\n".join(lines)
