"""CLAP text-audio similarity (transformers ``ClapModel`` + ``ClapProcessor``), default
``laion/clap-htsat-unfused``. Used to rank generated takes and reusable by a coherence report.

- Audio is mixed to mono and resampled to the processor's rate (48 kHz) with
  ``scipy.signal.resample_poly``.
- CLAP sees at most ``max_length_s`` (10 s) at once; longer clips are cut into up to
  ``max_windows`` evenly spaced windows whose embeddings are averaged, so a score never depends
  on the feature extractor's random crop (which would make rankings irreproducible).
- Scores are cosine similarities in -1..1 between L2-normalised embeddings
  (``.pooler_output`` of ``get_text_features``/``get_audio_features`` in transformers 5).

The scorer is not held by the backends' one-resident-model manager: it is small (about
0.6 GB) and is used between generations, where evicting the audio model would cost a reload
per layer.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np

from studio.errors import InputError, ModelUnavailableError
from studio.types import AudioClip

DEFAULT_MODEL_ID = "laion/clap-htsat-unfused"


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling of the last axis (float32 in, float32 out)."""
    if rate_in == rate_out:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    frac = Fraction(int(rate_out), int(rate_in)).limit_denominator(10_000)
    return resample_poly(samples, frac.numerator, frac.denominator, axis=-1).astype(np.float32)


class LocalModelScorer:
    """Availability and never-downloading loading shared by the CLAP and CLIP scorers;
    subclasses set ``default_model_id`` and define ``from_pretrained(model_id, device=)``."""

    default_model_id: str = ""

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        """Cheap: transformers importable and the model on this machine (cache or folder)."""
        import importlib.util

        model_id = model_id or cls.default_model_id
        if importlib.util.find_spec("transformers") is None:
            return False, "needs transformers; run `pip install -r requirements.txt`"
        from studio.hf import local_model_path

        if local_model_path(model_id) is None:
            return False, f"{model_id!r} is not in the local cache; run `python -m studio models download {model_id}`"
        return True, f"ready ({model_id})"

    @classmethod
    def if_available(cls, model_id: Optional[str] = None, *, device: str = "auto") -> Any:
        """The scorer when its model is on this machine, else None (never downloads)."""
        model_id = model_id or cls.default_model_id
        if not cls.availability(model_id)[0]:
            return None
        try:
            return cls.from_pretrained(model_id, device=device)  # type: ignore[attr-defined]
        except ModelUnavailableError:
            return None


class ClapScorer(LocalModelScorer):
    """Text and audio embeddings in CLAP's joint space, and their cosine similarity."""

    default_model_id = DEFAULT_MODEL_ID

    def __init__(self, model: Any, processor: Any, *, model_id: str = DEFAULT_MODEL_ID, device: str = "cpu",
                 max_windows: int = 3) -> None:
        self.model = model
        self.processor = processor
        self.model_id = model_id
        self.device = device
        self.max_windows = max(1, int(max_windows))
        fe = processor.feature_extractor
        self.sample_rate = int(fe.sampling_rate)
        self.max_length_s = float(getattr(fe, "nb_max_samples", 10 * self.sample_rate)) / self.sample_rate

    @classmethod
    def from_pretrained(cls, model_id: str = DEFAULT_MODEL_ID, *, device: str = "auto") -> "ClapScorer":
        """Load from the local HF cache or a folder (or the hub when online). fp32 on every
        device: the model is small and scores should not depend on the device's precision."""
        from studio.hf import load_model_and_processor

        model, processor, resolved = load_model_and_processor("ClapModel", "ClapProcessor", model_id, what="CLAP",
                                                              device=device, needs="CLAP scoring")
        return cls(model, processor, model_id=model_id, device=resolved)

    # -- embeddings ----------------------------------------------------------------------

    @staticmethod
    def _pooled(output: Any):
        return getattr(output, "pooler_output", output)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 ``(len(texts), dim)``."""
        import torch

        texts = [str(t) for t in texts]
        if not texts:
            raise InputError("embed_text needs at least one text")
        inputs = self.processor(text=texts, padding=True, truncation=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            feats = self._pooled(self.model.get_text_features(**inputs))
        return _normalise(feats.float().cpu().numpy())

    def _windows(self, clip: AudioClip) -> list[np.ndarray]:
        mono = resample(clip.samples.mean(axis=0), clip.sample_rate, self.sample_rate)
        win = int(self.max_length_s * self.sample_rate)
        if mono.shape[0] <= win:
            return [mono]
        starts = np.linspace(0, mono.shape[0] - win, self.max_windows).astype(int)
        return [mono[s:s + win] for s in np.unique(starts)]

    def embed_audio(self, clips: Sequence[AudioClip]) -> np.ndarray:
        """L2-normalised float32 ``(len(clips), dim)``; long clips average their windows."""
        import torch

        if not clips:
            raise InputError("embed_audio needs at least one clip")
        windows, owner = [], []
        for i, clip in enumerate(clips):
            if clip.frames == 0:
                raise InputError("cannot score an empty audio clip")
            for w in self._windows(clip):
                windows.append(w)
                owner.append(i)
        inputs = self.processor(audio=windows, sampling_rate=self.sample_rate, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            feats = self._pooled(self.model.get_audio_features(**inputs))
        feats = _normalise(feats.float().cpu().numpy())
        owner_arr = np.asarray(owner)
        pooled = np.stack([feats[owner_arr == i].mean(axis=0) for i in range(len(clips))])
        return _normalise(pooled)

    def score(self, text: str, clips: Sequence[AudioClip]) -> np.ndarray:
        """Cosine similarity of ``text`` with each clip, float32 ``(len(clips),)`` in -1..1."""
        return (self.embed_audio(clips) @ self.embed_text([text])[0]).astype(np.float32)

    def similarity_matrix(self, texts: Sequence[str], clips: Sequence[AudioClip]) -> np.ndarray:
        """``(len(texts), len(clips))`` cosine similarities, for coherence reports."""
        return (self.embed_text(texts) @ self.embed_audio(clips).T).astype(np.float32)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
