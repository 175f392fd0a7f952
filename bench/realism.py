"""Issue 14's realism check: does a classifier trained only on real recordings hear each
procedural layer type as what it is named?

1. Cut the 11 bundled real recordings (``studio/sounds/pack``) into 5-second windows (every
   1.25 s) and train the small softmax classifier (``studio.reverse.classifier``) on their audio
   features (``studio.reverse.features``). Its classes are the recordings' sound classes: one
   class per recording (birds, boat, wind, coffee-shop, fireplace, summer-night, rain, storm,
   waves, city, train).
2. Render every procedural type that maps to a class (``TYPE_TO_CLASSES`` below: the pack's own
   ``layer_types`` plus a few same-sound types) as the pipeline renders a bed (``loop=True``),
   20 s for each of seeds 0..2, and average the classifier's probabilities over all windows.
3. A type is ``top1`` when its most probable class is one of its classes; ``p_real`` is the
   probability of its (first) class.

Prints one JSON object: ``{"types": {type: {"class", "p_real", "top1", "predicted"}},
"top1_rate", "n_types", "classes", "unmapped", "real_time_split"}``. ``real_time_split`` checks
the classifier itself: trained on the first 70 % of each recording and tested on the last 30 %
(files too short for that are skipped), its top-1 rate on real audio it did not see.

Usage: ``python bench/realism.py [--seeds N] [--seconds S]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.reverse.classifier import SoftmaxClassifier  # noqa: E402
from studio.reverse.dataset import procedural_windows, recording_clip, recording_windows  # noqa: E402
from studio.reverse.features import clip_features  # noqa: E402
from studio.types import AudioClip  # noqa: E402

HOP_S = 1.25

# Same-sound types the pack's layer_types do not list (the class is what is heard, not a scene).
EXTRA_CLASSES: dict[str, tuple[str, ...]] = {
    "rain_on_roof": ("rain",),
    "wind_leaves": ("wind",),
    "train": ("train",),  # if the catalogue has a train type
}


def type_to_classes() -> dict[str, tuple[str, ...]]:
    """Catalogue type -> acceptable classes (first = the reported class), for types that exist."""
    from studio.sounds.catalogue import BY_NAME
    from studio.sounds.recordings import RECORDINGS

    mapping: dict[str, list[str]] = {}
    for rec in RECORDINGS:
        for t in rec.layer_types:
            mapping.setdefault(t, []).append(rec.name)
    for t, classes in EXTRA_CLASSES.items():
        mapping.setdefault(t, []).extend(c for c in classes if c not in mapping.get(t, []))
    return {t: tuple(c) for t, c in mapping.items() if t in BY_NAME}


def real_time_split(classes: list[str]) -> dict:
    """Train on the first 70 % of each recording, test on the rest (files ≥ 15 s)."""
    train_X, train_y, test = [], [], {}
    for i, name in enumerate(classes):
        clip = recording_clip(name)
        cut = int(clip.frames * 0.7)
        head = clip_features(AudioClip(clip.samples[:, :cut], clip.sample_rate), hop_s=HOP_S)
        train_X.append(head)
        train_y += [i] * len(head)
        if clip.duration_s >= 15.0:
            test[name] = clip_features(AudioClip(clip.samples[:, cut:], clip.sample_rate))
    model = SoftmaxClassifier.fit(np.concatenate(train_X), np.array(train_y), classes)
    hits = {name: bool(classes[int(model.predict_proba(X).mean(axis=0).argmax())] == name) for name, X in test.items()}
    return {"top1_rate": round(sum(hits.values()) / len(hits), 3), "files": hits}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per type (0..N-1), default 3")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds rendered per seed, default 20")
    args = parser.parse_args(argv)
    from studio.sounds.catalogue import BY_NAME
    from studio.sounds.recordings import RECORDINGS

    t0 = time.perf_counter()
    classes = [r.name for r in RECORDINGS]
    real = recording_windows(hop_s=HOP_S)
    y = np.array([classes.index(s) for s in real.source])
    model = SoftmaxClassifier.fit(real.X, y, classes)

    mapping = type_to_classes()
    types: dict[str, dict] = {}
    for t, accepted in mapping.items():
        X = procedural_windows([t], seeds=range(args.seeds), duration_s=args.seconds).X
        p = model.predict_proba(X).mean(axis=0)
        predicted = classes[int(p.argmax())]
        types[t] = {
            "class": accepted[0],
            "p_real": round(float(p[classes.index(accepted[0])]), 3),
            "top1": predicted in accepted,
            "predicted": predicted,
            **({"also_accepted": list(accepted[1:])} if len(accepted) > 1 else {}),
        }
    n_top1 = sum(v["top1"] for v in types.values())
    result = {
        "types": types,
        "top1_rate": round(n_top1 / max(len(types), 1), 3),
        "n_types": len(types),
        "n_top1": n_top1,
        "classes": classes,
        "unmapped": [t for t in BY_NAME if t not in mapping],
        "real_time_split": real_time_split(classes),
        "real_windows": int(len(real.X)),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
