"""CLIP image-text similarity (transformers ``CLIPModel`` + ``CLIPProcessor``), for the
coherence score "does the caption describe the image". Default ``openai/clip-vit-large-patch14``,
the same model the CLIP sound tagger uses, so one download serves both.

The score is the cosine similarity in -1..1 of the L2-normalised image and text embeddings
(the ``.pooler_output`` of ``get_image_features``/``get_text_features`` in transformers 5),
without CLIP's learned logit scale: a raw cosine, comparable across captions of one image.
Real CLIP cosines for a matching pair sit around 0.25-0.35, not near 1 (docs/evaluation.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.errors import InputError
from studio.evaluation.clap import ClapScorer, LocalModelScorer, _normalise

DEFAULT_MODEL_ID = "openai/clip-vit-large-patch14"


class ClipScorer(LocalModelScorer):
    """Image and text embeddings in CLIP's joint space, and their cosine similarity."""

    default_model_id = DEFAULT_MODEL_ID

    def __init__(self, model: Any, processor: Any, *, model_id: str = DEFAULT_MODEL_ID, device: str = "cpu") -> None:
        self.model = model
        self.processor = processor
        self.model_id = model_id
        self.device = device

    @classmethod
    def from_pretrained(cls, model_id: str = DEFAULT_MODEL_ID, *, device: str = "auto") -> "ClipScorer":
        """Load from the local HF cache or a folder (or the hub when online), fp32 so a score
        does not depend on the device's precision."""
        from studio.hf import load_model_and_processor

        model, processor, resolved = load_model_and_processor("CLIPModel", "CLIPProcessor", model_id, what="CLIP",
                                                              device=device, needs="CLIP scoring")
        return cls(model, processor, model_id=model_id, device=resolved)

    def embed_image(self, image: Any) -> np.ndarray:
        """L2-normalised float32 ``(dim,)`` for a PIL image."""
        import torch

        from studio.vision.prep import processor_inputs

        pixels = processor_inputs(self.processor, image)["pixel_values"].to(self.device)
        with torch.inference_mode():
            feats = ClapScorer._pooled(self.model.get_image_features(pixel_values=pixels))
        return _normalise(feats.float().cpu().numpy())[0]

    def embed_text(self, text: str) -> np.ndarray:
        """L2-normalised float32 ``(dim,)``; CLIP reads at most its context (77 tokens)."""
        import torch

        text = str(text).strip()
        if not text:
            raise InputError("CLIP needs a non-empty text to score")
        inputs = self.processor(text=[text], padding=True, truncation=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            feats = ClapScorer._pooled(self.model.get_text_features(**inputs))
        return _normalise(feats.float().cpu().numpy())[0]

    def similarity(self, image: Any, text: str) -> float:
        """Cosine similarity of ``image`` and ``text``, in -1..1."""
        return float(np.clip(self.embed_image(image) @ self.embed_text(text), -1.0, 1.0))
