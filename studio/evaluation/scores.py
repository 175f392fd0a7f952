"""Coherence scores of a rendered soundscape (docs/evaluation.md explains each one).

Model scores, present only when the model is on this machine (never invented):

- ``clip.image_caption``: CLIP cosine of the image and its caption (``studio.evaluation.clip``);
- ``clap.layers[name]``: CLAP cosine of each layer's prompt and its stem;
- ``clap.caption_mix``: CLAP cosine of the caption and the mastered mix;
- ``overall``: ``OVERALL_WEIGHTS``-weighted mean of CLIP(image, caption), CLAP(caption, mix) and the
  mean of the layers' CLAP scores. It needs CLAP, and CLIP too when an image was involved; for a
  typed caption (no image) the CLIP weight is dropped and the rest renormalised.

Offline measures, labelled as what they are:

- ``offline.caption_plan_minilm``: MiniLM cosine of the caption and each layer prompt;
- ``offline.analyser_cues``: the image analyser's cues (from the caption);
- ``offline.loudness``: integrated LUFS, LRA, true peak and mono loudness drop of the mix;
- ``offline.realism``: per layer, the probability that the stem is a real recording, from the
  realism classifier in ``studio.reverse.realism`` when that module provides
  ``realism_probability(clip) -> float``; None (with the reason in ``missing``) otherwise.

Audio reaches CLAP as up to ``max_windows`` evenly spaced windows of CLAP's input length
(10 s), read from the stems lazily and from one streamed pass over the mix, so a 60-minute
track costs three windows per stem, not the whole stem in memory.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from studio.types import AudioClip, Soundscape

SCORES_VERSION = 1
OVERALL_WEIGHTS = {"clip_image_caption": 0.25, "clap_caption_mix": 0.5, "clap_layers_mean": 0.25}
OVERALL_FORMULA = (
    "overall = 0.25·CLIP(image, caption) + 0.5·CLAP(caption, mix) + 0.25·mean over layers CLAP(prompt, stem); "
    "without an image the CLIP term is dropped and the weights renormalised"
)
REALISM_HOOK = "studio.reverse.realism.realism_probability"


def window_starts(frames: int, window_frames: int, max_windows: int) -> list[int]:
    """Evenly spaced window starts covering a ``frames``-long signal (one window when it fits)."""
    if frames <= window_frames:
        return [0]
    return sorted({int(s) for s in np.linspace(0, frames - window_frames, max(1, max_windows))})


def _mix_pass(scape: Soundscape, starts: Sequence[int], window_frames: int) -> tuple[list[np.ndarray], Optional[float]]:
    """One streamed pass over the mastered mix: the CLAP windows at ``starts`` and the LRA."""
    from studio.evaluation.measures import loudness_range_lu
    from studio.mixing.loudness import LoudnessMeter

    meter = LoudnessMeter(scape.sample_rate)
    windows = [np.zeros((2, 0), np.float32) for _ in starts]
    pos = 0
    for chunk in scape.iter_mix():
        meter.feed(chunk)
        n = chunk.shape[1]
        for i, s in enumerate(starts):
            lo, hi = max(s, pos), min(s + window_frames, pos + n)
            if lo < hi:
                windows[i] = np.concatenate([windows[i], chunk[:, lo - pos:hi - pos]], axis=1)
        pos += n
    result = meter.result()
    return windows, loudness_range_lu(result.hop_energy, result.hop_frames, scape.sample_rate)


def _clap_embed_windows(clap: Any, windows: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
    """Mean of the windows' CLAP embeddings, renormalised: one ``(dim,)`` vector."""
    emb = clap.embed_audio([AudioClip(np.ascontiguousarray(w, np.float32), sample_rate) for w in windows])
    mean = emb.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.clip(float(a @ b), -1.0, 1.0))


def _realism_function():
    import importlib

    module_name, _, attr = REALISM_HOOK.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    fn = getattr(module, attr, None)
    return fn if callable(fn) else None


def overall_score(clip_image_caption: Optional[float], clap_caption_mix: Optional[float],
                  clap_layers: Sequence[float], *, has_image: bool) -> Optional[float]:
    """The documented weighted mean (``OVERALL_FORMULA``), or None when a needed term is missing."""
    if clap_caption_mix is None or not clap_layers or (has_image and clip_image_caption is None):
        return None
    terms = {"clap_caption_mix": clap_caption_mix, "clap_layers_mean": float(np.mean(clap_layers))}
    if has_image:
        terms["clip_image_caption"] = clip_image_caption
    weight = sum(OVERALL_WEIGHTS[k] for k in terms)
    return float(sum(OVERALL_WEIGHTS[k] * v for k, v in terms.items()) / weight)


def coherence_scores(scape: Soundscape, *, image: Any = None, clip: Any = None, clap: Any = None,
                     missing: Sequence[str] = ()) -> dict[str, Any]:
    """Every score and measure for ``scape`` (JSON-ready). ``clip``/``clap`` are loaded
    scorers or None; ``missing`` carries why a scorer is absent into the record."""
    from studio.evaluation.measures import caption_plan_agreement

    plan = scape.plan
    missing = list(missing)
    caption = plan.caption.text if plan.caption else None
    layer_names = [stem.spec.name for stem in scape.stems]

    win = int((clap.max_length_s if clap is not None else 10.0) * scape.sample_rate)
    max_windows = clap.max_windows if clap is not None else 3
    starts = window_starts(scape.frames, win, max_windows)
    mix_windows, lra = _mix_pass(scape, starts, win)

    clip_part = None
    if clip is not None and image is not None and caption:
        clip_part = {"model": clip.model_id, "image_caption": clip.similarity(image, caption)}
    elif image is not None and clip is None:
        missing.append("CLIP image-caption score absent: no CLIP model on this machine")

    clap_part = None
    if clap is not None:
        texts = [stem.spec.prompt for stem in scape.stems] + ([caption] if caption else [])
        text_emb = clap.embed_text(texts)
        layer_scores = {}
        for i, stem in enumerate(scape.stems):
            windows = [stem.render(s, win) for s in starts]
            layer_scores[stem.spec.name] = _cos(text_emb[i], _clap_embed_windows(clap, windows, scape.sample_rate))
        caption_mix = _cos(text_emb[-1], _clap_embed_windows(clap, mix_windows, scape.sample_rate)) if caption else None
        clap_part = {"model": clap.model_id, "caption_mix": caption_mix, "layers": layer_scores}
    else:
        missing.append("CLAP scores absent: no CLAP model on this machine")

    overall = overall_score(
        clip_part["image_caption"] if clip_part else None,
        clap_part["caption_mix"] if clap_part else None,
        list(clap_part["layers"].values()) if clap_part else [],
        has_image=image is not None,
    )

    realism = None
    realism_fn = _realism_function()
    if realism_fn is None:
        missing.append(f"realism probabilities absent: {REALISM_HOOK} is not available")
    else:
        realism = {stem.spec.name: float(realism_fn(AudioClip(stem.render(starts[0], win), scape.sample_rate)))
                   for stem in scape.stems}

    agreement = caption_plan_agreement(caption, [s.spec.prompt for s in scape.stems]) if caption else None
    master = dict(scape.master)
    return {
        "version": SCORES_VERSION,
        "clip": clip_part,
        "clap": clap_part,
        "overall": None if overall is None else {"value": overall, "formula": OVERALL_FORMULA},
        "offline": {
            "caption_plan_minilm": None if agreement is None else {
                "layers": dict(zip(layer_names, agreement["layers"])), "mean": agreement["mean"]},
            "analyser_cues": list(plan.caption.cues) if plan.caption else [],
            "loudness": {
                "integrated_lufs": _num(master.get("integrated_lufs")),
                "lra_lu": _num(lra),
                "true_peak_dbtp": _num(master.get("true_peak_dbtp")),
                "mono_loudness_drop_db": _num(master.get("mono_loudness_drop_db")),
            },
            "realism": realism,
        },
        "missing": missing,
    }


def _num(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return round(float(value), 3)
    return None


def score_rows(scores: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat ``{"score", "value", "kind"}`` rows for tables (UI, report); kind says what measured it."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, kind: str) -> None:
        if isinstance(value, (int, float)):
            rows.append({"score": name, "value": round(float(value), 3), "kind": kind})

    if scores.get("overall"):
        add("overall", scores["overall"]["value"], "CLIP+CLAP (weighted)")
    if scores.get("clip"):
        add("image ↔ caption", scores["clip"]["image_caption"], "CLIP")
    if scores.get("clap"):
        add("caption ↔ mix", scores["clap"]["caption_mix"], "CLAP")
        for name, value in scores["clap"]["layers"].items():
            add(f"prompt ↔ stem: {name}", value, "CLAP")
    offline = scores.get("offline") or {}
    agreement = offline.get("caption_plan_minilm") or {}
    add("caption ↔ plan (mean)", agreement.get("mean"), "MiniLM text agreement (offline)")
    for name, value in (offline.get("realism") or {}).items():
        add(f"realism: {name}", value, "realism classifier (offline)")
    loud = offline.get("loudness") or {}
    for key, label in (("integrated_lufs", "loudness (LUFS)"), ("lra_lu", "loudness range (LU)"),
                       ("true_peak_dbtp", "true peak (dBTP)"), ("mono_loudness_drop_db", "mono drop (dB)")):
        add(label, loud.get(key), "meter (offline)")
    return rows
