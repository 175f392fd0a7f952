"""Audio taggers: what a recording sounds like, as ``[(label, score), ...]`` best first.

Registered in ``AUDIO_TAGGERS`` (``studio.reverse``):

- ``features`` (offline default): the softmax classifier over audio features shipped in
  ``studio/reverse/data/tagger.npz`` (rebuilt by ``python -m studio.reverse.train``); scores are
  its class probabilities averaged over up to 24 five-second windows spread over the file.
- ``clap``: CLAP zero-shot (``laion/clap-htsat-unfused``) against the sound vocabulary
  (``studio.sounds.labels``: catalogue types and ESC-50 classes; a type's text also averages the
  descriptions of the pack recordings that stand for it); scores are the softmax of CLAP's
  scaled cosine similarities.
- ``ast``: the AudioSet classifier ``MIT/ast-finetuned-audioset-10-10-0.4593``
  (``ASTForAudioClassification`` + ``ASTFeatureExtractor``); scores are its sigmoid outputs
  (527 AudioSet labels, multi-label), averaged over 10 s windows.

Every tagger has ``tags(excerpts, top_k=5)`` taking a list of :class:`AudioClip` excerpts of one
recording (``studio.reverse.intake.load_excerpts``) and a ``name``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Optional, Sequence

import numpy as np

from studio.errors import InputError, ModelUnavailableError
from studio.types import AudioClip


def _check_top_k(top_k: Any) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50:
        raise InputError(f"top_k must be an integer 1..50; got {top_k!r}")
    return top_k


def _top(labels: Sequence[str], scores: np.ndarray, top_k: int) -> list[tuple[str, float]]:
    order = np.argsort(-scores, kind="stable")[:top_k]
    return [(labels[i], round(float(scores[i]), 4)) for i in order]


class FeatureTagger:
    """Offline tagger: the shipped softmax classifier over ``studio.reverse.features``."""

    name = "features"

    def __init__(self, weights_path: str | Path | None = None) -> None:
        from studio.reverse.classifier import SoftmaxClassifier
        from studio.reverse.train import WEIGHTS_PATH

        path = Path(weights_path or WEIGHTS_PATH)
        if not path.is_file():
            raise ModelUnavailableError(f"tagger weights {str(path)!r} are missing; rebuild them with `python -m studio.reverse.train`")
        self.model = SoftmaxClassifier.load(path)
        self.model_id = f"built-in feature classifier ({path.name})"

    @classmethod
    def create(cls, **opts: Any) -> "FeatureTagger":
        return cls(opts.get("weights_path"))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        from studio.reverse.train import WEIGHTS_PATH

        return (True, "ready (built in)") if WEIGHTS_PATH.is_file() else (False, "weights missing: run `python -m studio.reverse.train`")

    def tags(self, excerpts: Sequence[AudioClip], *, top_k: int = 5) -> list[tuple[str, float]]:
        from studio.reverse.features import N_FEATURES, clip_features

        top_k = _check_top_k(top_k)
        texture = self.model.weights.shape[0] > N_FEATURES  # the tagger's vector (studio.reverse.texture)
        X = np.concatenate([clip_features(c, texture=texture) for c in excerpts])
        return _top(self.model.classes, self.model.predict_proba(X).mean(axis=0), top_k)


def clap_vocabulary() -> tuple[list[str], list[list[str]]]:
    """Labels and, per label, the texts whose CLAP embeddings are averaged for it."""
    from studio.sounds.labels import vocabulary
    from studio.sounds.recordings import RECORDINGS

    labels, texts = [], []
    for entry in vocabulary():
        group = [f"the sound of {entry.label}"]
        group += [r.description for r in RECORDINGS
                  if (entry.layer_type and entry.layer_type in r.layer_types) or (not r.layer_types and r.name == entry.label)]
        labels.append(entry.label)
        texts.append(group)
    return labels, texts


class ClapTagger:
    """CLAP zero-shot tags over the sound vocabulary; takes a loaded ``ClapScorer``."""

    name = "clap"
    default_model_id: ClassVar[str] = "laion/clap-htsat-unfused"

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.model_id = scorer.model_id
        self.labels, groups = clap_vocabulary()
        flat = [t for g in groups for t in g]
        emb = scorer.embed_text(flat)
        owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        pooled = np.stack([emb[owner == i].mean(axis=0) for i in range(len(groups))])
        self.text_embeds = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        scale = getattr(scorer.model, "logit_scale_a", None)
        self.logit_scale = float(scale.exp().item()) if scale is not None else 100.0

    @classmethod
    def create(cls, **opts: Any) -> "ClapTagger":
        return cls.from_pretrained(opts.get("model_id") or cls.default_model_id, device=opts.get("device", "auto"))

    @classmethod
    def from_pretrained(cls, model_id: str = default_model_id, *, device: str = "auto") -> "ClapTagger":
        from studio.evaluation.clap import ClapScorer

        return cls(ClapScorer.from_pretrained(model_id, device=device))

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        from studio.evaluation.clap import ClapScorer

        return ClapScorer.availability(model_id or cls.default_model_id)

    def tags(self, excerpts: Sequence[AudioClip], *, top_k: int = 5) -> list[tuple[str, float]]:
        top_k = _check_top_k(top_k)
        audio = self.scorer.embed_audio(list(excerpts)).mean(axis=0)
        audio = audio / max(float(np.linalg.norm(audio)), 1e-12)
        logits = self.logit_scale * (self.text_embeds @ audio)
        p = np.exp(logits - logits.max())
        return _top(self.labels, p / p.sum(), top_k)


class AstTagger:
    """AudioSet tags from an Audio Spectrogram Transformer classifier."""

    name = "ast"
    default_model_id: ClassVar[str] = "MIT/ast-finetuned-audioset-10-10-0.4593"
    window_s: ClassVar[float] = 10.0

    def __init__(self, model: Any, feature_extractor: Any, *, model_id: str = default_model_id, device: str = "cpu") -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.model_id = model_id
        self.device = device
        self.sample_rate = int(feature_extractor.sampling_rate)
        id2label = model.config.id2label
        self.labels = [str(id2label[i]) for i in range(len(id2label))]

    @classmethod
    def create(cls, **opts: Any) -> "AstTagger":
        return cls.from_pretrained(opts.get("model_id") or cls.default_model_id, device=opts.get("device", "auto"))

    @classmethod
    def from_pretrained(cls, model_id: str = default_model_id, *, device: str = "auto") -> "AstTagger":
        from studio.hf import load_model_and_processor

        model, fe, resolved = load_model_and_processor("ASTForAudioClassification", "ASTFeatureExtractor", model_id,
                                                       what="AST audio tagger", device=device, needs="the AST tagger")
        return cls(model, fe, model_id=model_id, device=resolved)

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        from studio.hf import local_model_path

        mid = model_id or cls.default_model_id
        if local_model_path(mid) is None:
            return False, f"{mid!r} is not in the local cache; run `python -m studio models download {mid}`"
        return True, f"ready ({mid})"

    def tags(self, excerpts: Sequence[AudioClip], *, top_k: int = 5) -> list[tuple[str, float]]:
        import torch

        from studio.evaluation.clap import resample

        top_k = _check_top_k(top_k)
        win = int(self.window_s * self.sample_rate)
        waves = []
        for clip in excerpts:
            mono = resample(clip.samples.mean(axis=0), clip.sample_rate, self.sample_rate)
            waves += [mono[s:s + win] for s in range(0, max(1, mono.size - win // 2), win)]
        inputs = self.feature_extractor(waves, sampling_rate=self.sample_rate, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            logits = self.model(**inputs).logits.float().cpu().numpy()
        return _top(self.labels, (1.0 / (1.0 + np.exp(-logits))).mean(axis=0), top_k)
