"""Rebuild the offline tagger's weights: ``python -m studio.reverse.train [--out PATH] [--no-lofo]``.

Training material (``studio.reverse.dataset``):

- every bundled real recording cut into 5 s windows every 1.25 s, labelled with the catalogue
  types it stands for (``Recording.layer_types``, split evenly when it stands for several; the
  train recording, which stands for none, is the ESC-50 label "train");
- looped procedural renders of every catalogue type (20 s for seeds 0-3), labelled with that type;
- procedural scenes (``studio.reverse.mixtures``): the renders of several types mixed as a field
  recording mixes them (a thunderstorm: heavy rain, thunder, gusty wind), at levels drawn per
  seed, each type's soft target its share of the mixture's power;
- of every window, two augmented copies (``studio.reverse.augment``: recording chain, room).

Each domain (real, procedural) is standardised by its own statistics before fitting (see
:func:`fit`): without that, the classifier learns "real or synthetic" first and sends every
unseen real recording to a class that had real training audio.

The classes are the tag labels of ``studio.sounds.labels`` for all catalogue types, plus
"train". Each class weighs the same; within a class, the real windows together weigh
``REAL_SHARE`` of it, so a class with a recording learns mostly from real audio.

Whether to use the scenes, whether to use the augmented copies, and the L2 penalty, are chosen by
``studio.reverse.nested`` (a grid fixed in advance, chosen by leave-one-out over the training
recordings; the reported leave-one-file-out figure is nested, so no file helps choose the
settings it is scored with).

It writes ``studio/reverse/data/tagger.npz`` (the weights, no pickle) and
``studio/reverse/data/tagger.json`` (what it was trained on and the nested leave-one-file-out
accuracy: for each recording, a model trained without any window of that file, scored on
that file's windows; a file counts as a top-3 hit when one of its labels is among the three
most probable tags of its averaged windows; ``rank`` is where the best of its labels came
among all classes, 1 = first). Deterministic: the same code gives the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHTS_PATH = DATA_DIR / "tagger.npz"
REPORT_PATH = DATA_DIR / "tagger.json"
REAL_HOP_S = 1.25
PROCEDURAL_SEEDS = (0, 1, 2, 3)
PROCEDURAL_S = 20.0
REAL_SHARE = 0.5
L2 = 0.05
DEFAULT_VARIANT = 2  # index in studio.reverse.nested.GRID that --no-lofo fits when no full run has chosen one


def shipped_variant() -> int:
    """Index in ``GRID`` of the variant the last full run chose (``tagger.json``'s settings), so
    ``--no-lofo`` refits it with no constant to keep in step; ``DEFAULT_VARIANT`` without a report."""
    from studio.reverse.nested import GRID, variant_name

    try:
        name = json.loads(REPORT_PATH.read_text())["settings"]["variant"]
        return [variant_name(v) for v in GRID].index(name)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_VARIANT


def class_labels() -> list[str]:
    """The tagger's classes: one tag label per catalogue type, then recordings with no type."""
    from studio.sounds.catalogue import CATALOGUE
    from studio.sounds.recordings import RECORDINGS

    out = [type_label(t.name) for t in CATALOGUE]
    out += [r.name for r in RECORDINGS if not r.layer_types and r.name not in out]
    return out


def type_label(layer_type: str) -> str:
    from studio.sounds.labels import vocabulary

    for entry in vocabulary():
        if entry.layer_type == layer_type:
            return entry.label
    return layer_type.replace("_", " ")


def recording_labels(name: str) -> list[str]:
    """The tag labels a bundled recording is an example of."""
    from studio.sounds.recordings import recording

    rec = recording(name)
    return [type_label(t) for t in rec.layer_types] or [rec.name]


def build_dataset(augment: bool = True):
    """``(windows, Y soft targets, classes)`` for all training windows, ``N_TAGGER_FEATURES``
    columns (with ``augment``, the augmented copies too: ``windows.copy > 0``)."""
    from studio.reverse.dataset import Windows, procedural_windows, recording_windows
    from studio.sounds.catalogue import CATALOGUE

    from studio.reverse.dataset import mixture_windows
    from studio.reverse.mixtures import recipe_types

    classes = class_labels()
    real = recording_windows(hop_s=REAL_HOP_S, augment=augment, texture=True)
    keep = {(t, s): None for t in recipe_types() for s in PROCEDURAL_SEEDS}
    proc = procedural_windows([t.name for t in CATALOGUE], seeds=PROCEDURAL_SEEDS, duration_s=PROCEDURAL_S,
                              augment=augment, keep=keep, texture=True)
    mixed = mixture_windows(keep, seeds=PROCEDURAL_SEEDS, augment=augment, texture=True)
    data = Windows.concat([real, proc, mixed])
    return data, targets(data, classes), classes


def cached_dataset(path: Optional[str]):
    """:func:`build_dataset` (augmented), saved to / loaded from ``path`` when given."""
    from studio.reverse.dataset import Windows

    from studio.reverse.features import N_TAGGER_FEATURES

    if path and Path(path).is_file():
        with np.load(path, allow_pickle=False) as z:
            data = Windows(z["X"], z["source"], z["origin"], z["copy"])
        if data.X.shape[1] == N_TAGGER_FEATURES:
            classes = class_labels()
            return data, targets(data, classes), classes
    data, Y, classes = build_dataset(augment=True)
    if path:
        np.savez(path, X=data.X, source=data.source, origin=data.origin, copy=data.copy)
    return data, Y, classes


def targets(data, classes: list[str]) -> np.ndarray:
    Y = np.zeros((len(data.X), len(classes)))
    from studio.reverse.mixtures import parse_source, type_shares

    for i, (src, origin) in enumerate(zip(data.source, data.origin)):
        if origin == "mixture":
            for t, share in type_shares(*parse_source(str(src))).items():
                Y[i, classes.index(type_label(t))] += share
            continue
        labels = recording_labels(str(src)) if origin == "real" else [type_label(str(src))]
        for label in labels:
            Y[i, classes.index(label)] = 1.0 / len(labels)
    return Y


def sample_weights(Y: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Each class weighs 1; within it, real windows share ``REAL_SHARE`` when both kinds exist."""
    w = np.zeros(len(Y))
    for k in range(Y.shape[1]):
        rows = Y[:, k] > 0
        real = rows & (origin == "real")
        synth = rows & (origin != "real")
        share_real = REAL_SHARE if real.any() and synth.any() else float(real.any())
        if real.any():
            w[real] += share_real * Y[real, k] / Y[real, k].sum()
        if synth.any():
            w[synth] += (1 - share_real) * Y[synth, k] / Y[synth, k].sum()
    return w


def fit(X, Y, classes, weights, origin, l2: float = L2):
    """Fit with each domain (real, procedural) standardised by its own mean and spread, so
    the classifier cannot use "sounds synthetic" as a cue; the real domain's standardisation is
    folded into the saved model, since what users tag is real audio."""
    from studio.reverse.classifier import SoftmaxClassifier

    X = np.asarray(X, np.float64).copy()
    real = origin == "real"
    stats = {}
    for name, rows in (("real", real), ("procedural", ~real)):
        mean, scale = X[rows].mean(axis=0), X[rows].std(axis=0) + 1e-6
        X[rows] = (X[rows] - mean) / scale
        stats[name] = (mean, scale)
    model = SoftmaxClassifier.fit(X, Y, classes, l2=l2, sample_weight=weights)
    real_mean, real_scale = stats["real"]
    # ((x - real_mean) / real_scale - m) / s == (x - (real_mean + m * real_scale)) / (real_scale * s)
    return SoftmaxClassifier(classes, real_mean + model.mean * real_scale, real_scale * model.scale,
                             model.weights, model.bias)


def main(argv: Optional[list[str]] = None) -> int:
    from threadpoolctl import threadpool_limits

    # synthesis, features and fits all multiply small matrices: one BLAS thread is much faster
    # than a thread pool on 2 shared cores
    with threadpool_limits(limits=1, user_api="blas"):
        return _main(argv)


def _main(argv: Optional[list[str]]) -> int:
    from studio.reverse.nested import GRID, fit_variant, nested_lofo, variant_name

    parser = argparse.ArgumentParser(prog="python -m studio.reverse.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(WEIGHTS_PATH), help="weights file (.npz); a .json report goes beside it")
    parser.add_argument("--windows-cache", metavar="NPZ",
                        help="reuse the feature windows saved in this file (made on first use): for development only, "
                             "it is not invalidated when the synthesis or the features change")
    parser.add_argument("--no-lofo", action="store_true",
                        help=f"skip the nested leave-one-file-out evaluation and the choice of settings; "
                             f"fit the last chosen variant ({variant_name(GRID[shipped_variant()])})")
    args = parser.parse_args(argv)
    data, Y, classes = cached_dataset(args.windows_cache)
    report = {
        "classes": classes,
        "real_windows": int(((data.origin == "real") & (data.copy == 0)).sum()),
        "procedural_windows": int(((data.origin != "real") & (data.copy == 0)).sum()),
        "augmented_copies": int((data.copy > 0).sum()),
        "settings": {"real_hop_s": REAL_HOP_S, "procedural_seeds": list(PROCEDURAL_SEEDS),
                     "procedural_s": PROCEDURAL_S, "real_share": REAL_SHARE},
    }
    chosen = shipped_variant()
    if not args.no_lofo:
        lofo = nested_lofo(data, Y, classes, recording_labels)
        chosen = lofo.pop("chosen")
        report["leave_one_file_out"] = lofo
    report["settings"] |= GRID[chosen] | {"variant": variant_name(GRID[chosen])}
    model = fit_variant(data, Y, classes, GRID[chosen], np.ones(len(Y), bool))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    from studio.atomic import write_bytes_atomic

    write_bytes_atomic(out.with_suffix(".json"), (json.dumps(report, indent=2) + "\n").encode())
    summary = {k: v for k, v in report.get("leave_one_file_out", {}).items() if k not in ("files", "variants")}
    sys.stdout.write(json.dumps(summary | {"variant": variant_name(GRID[chosen]), "weights": str(out)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
