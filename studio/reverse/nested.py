"""Choosing the offline tagger's settings without tuning on the figure that is reported.

``GRID`` (fixed before any evaluation was run, docs/reverse.md) lists the variants: the texture
statistics (``studio.reverse.texture``) in the vector or not, mixed procedural scenes in the
training set or not (``studio.reverse.mixtures``), augmented copies of the windows or not
(``studio.reverse.augment``), and the L2 penalty. For every set ``S``
of one or two recordings, each variant is fitted on everything except ``S``'s windows (and their
copies) and scores each file of ``S`` on its own windows (copy 0, probabilities averaged).

- **Nested leave-one-file-out (the reported figure).** For each recording ``f``: the variant is
  chosen by an inner leave-one-out over the *other* ten files only (fits without ``{f, g}``,
  scored on ``g``), then the model of that variant fitted without ``f`` tags ``f``. ``f`` never
  takes part in choosing the variant it is scored with.
- **The shipped variant** is chosen the same way over all eleven files (plain leave-one-out),
  as nested cross-validation prescribes; its own leave-one-out figure is optimistic and is listed
  only as information (``variants`` in ``tagger.json``).

Choice rule (the same at both levels): most top-3 hits; then the lower mean rank; then the
earlier variant in ``GRID`` (the simpler one: no texture, no scenes, no augmentation, then the
smaller penalty).
"""

from __future__ import annotations

import sys
from itertools import combinations

import numpy as np

GRID: tuple[dict, ...] = tuple(
    {"texture": texture, "mixtures": mixtures, "augment": augment, "l2": l2}
    for texture in (False, True) for mixtures in (False, True) for augment in (False, True) for l2 in (0.05, 0.5)
)


def variant_name(v: dict) -> str:
    return (f"{'texture + ' if v.get('texture') else ''}{'scenes + ' if v.get('mixtures') else ''}"
            f"{'augmented' if v['augment'] else 'plain'}, l2 {v['l2']:g}")


def fit_variant(data, Y, classes, variant: dict, keep: np.ndarray):
    """The model of ``variant`` fitted on the rows ``keep`` (augmented copies dropped when not
    augmenting, mixed scenes (origin ``"mixture"``) dropped when not mixing)."""
    from studio.reverse.train import fit, sample_weights

    from studio.reverse.features import N_FEATURES

    rows = keep & ((data.copy == 0) | variant["augment"]) & ((data.origin != "mixture") | variant["mixtures"])
    width = data.X.shape[1] if variant["texture"] else N_FEATURES
    model = fit(data.X[rows][:, :width], Y[rows], classes, sample_weights(Y[rows], data.origin[rows]),
                data.origin[rows], l2=variant["l2"])
    return widen(model, data.X.shape[1])


def widen(model, n_features: int):
    """``model`` reading ``n_features`` columns, the ones it was not fitted on weighing nothing
    (so every variant's model reads the same vector: the tagger's, ``N_TAGGER_FEATURES``)."""
    from studio.reverse.classifier import SoftmaxClassifier

    extra = n_features - model.weights.shape[0]
    if extra == 0:
        return model
    return SoftmaxClassifier(model.classes, np.concatenate([model.mean, np.zeros(extra)]),
                             np.concatenate([model.scale, np.ones(extra)]),
                             np.vstack([model.weights, np.zeros((extra, model.weights.shape[1]))]), model.bias)


def held_out_probs(data, Y, classes, files: list[str], *, log=sys.stderr) -> dict:
    """``{(variant index, frozenset S): {file g in S: mean class probabilities of g}}`` for every
    held-out set ``S`` of one or two files."""
    real = data.origin == "real"
    sets = [frozenset([f]) for f in files] + [frozenset(p) for p in combinations(files, 2)]
    out = {}
    for vi, variant in enumerate(GRID):
        for n, S in enumerate(sets):
            held = real & np.isin(data.source, list(S))
            model = fit_variant(data, Y, classes, variant, ~held)
            out[(vi, S)] = {g: model.predict_proba(data.X[held & (data.source == g) & (data.copy == 0)]).mean(axis=0)
                            for g in S}
            if log is not None and (n + 1) % 11 == 0:
                log.write(f"  {variant_name(variant)}: {n + 1}/{len(sets)} fits\n")
                log.flush()
    return out


def rank_of(p: np.ndarray, classes: list[str], wanted: list[str]) -> int:
    order = list(np.argsort(-p, kind="stable"))
    return 1 + min(order.index(classes.index(w)) for w in wanted)


def choose(ranks_per_variant: list[list[int]]) -> int:
    """Index of the variant with most ranks ≤ 3, then the lowest mean rank, then the first."""
    keys = [(-sum(r <= 3 for r in ranks), float(np.mean(ranks)), i) for i, ranks in enumerate(ranks_per_variant)]
    return min(keys)[2]


def nested_lofo(data, Y, classes, labels_of, *, top_k: int = 3, log=sys.stderr) -> dict:
    """The nested leave-one-file-out report and the shipped variant's index (``"chosen"``)."""
    files = sorted(str(f) for f in set(data.source[data.origin == "real"]))
    probs = held_out_probs(data, Y, classes, files, log=log)

    def rank(vi: int, S: frozenset, g: str) -> int:
        return rank_of(probs[(vi, S)][g], classes, labels_of(g))

    per_file = {}
    for f in files:
        inner = [[rank(vi, frozenset([f, g]), g) for g in files if g != f] for vi in range(len(GRID))]
        vi = choose(inner)
        p = probs[(vi, frozenset([f]))][f]
        order = np.argsort(-p, kind="stable")
        top = [classes[i] for i in order[:top_k]]
        want = labels_of(f)
        r = rank(vi, frozenset([f]), f)
        per_file[f] = {"labels": want, "top": top, "top1": r == 1, "hit": r <= top_k, "rank": r,
                       "variant": variant_name(GRID[vi]),
                       "trainable": any((Y[data.source != f][:, classes.index(w)] > 0).any() for w in want)}
    plain = [[rank(vi, frozenset([g]), g) for g in files] for vi in range(len(GRID))]
    chosen = choose(plain)
    n = len(files)
    return {
        "method": "nested: each file's variant chosen by leave-one-out over the other files only",
        f"top{top_k}_accuracy": round(sum(f["hit"] for f in per_file.values()) / n, 3),
        "top1_accuracy": round(sum(f["top1"] for f in per_file.values()) / n, 3),
        "median_rank": float(np.median([f["rank"] for f in per_file.values()])),
        "files": per_file,
        "chosen": chosen,
        "variants": [{"variant": variant_name(v), "ranks": dict(zip(files, plain[i])),
                      f"top{top_k}_hits": sum(r <= top_k for r in plain[i])} for i, v in enumerate(GRID)],
    }
