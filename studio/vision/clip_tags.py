"""CLIP sound tags (registry name ``clip``): zero-shot similarity of an image against the
sound-scene vocabulary (``studio.sounds.labels``: catalogue layer types + ESC-50).

Default ``openai/clip-vit-large-patch14``; ``openai/clip-vit-base-patch32`` is the lighter
choice. Scores are CLIP's softmax over the whole vocabulary (its learned logit scale), so
each is within [0, 1], all of them sum to 1 and any top-k sums to at most 1. The
vocabulary's text embeddings are computed once per loaded model.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from studio.errors import BackendError
from studio.types import Caption
from studio.vision import model_cache
from studio.vision.neural import check_int, load_failure, model_availability, resolve_device_dtype
from studio.vision.prep import processor_inputs
from studio.sounds.labels import SoundLabel, vocabulary


class ClipTagger:
    """Tags an image with sound-scene labels and their CLIP probabilities."""

    kind: ClassVar[str] = "clip"
    what: ClassVar[str] = "CLIP sound tagger"
    default_model_id: ClassVar[str] = "openai/clip-vit-large-patch14"
    MODEL_IDS: ClassVar[tuple[str, ...]] = ("openai/clip-vit-large-patch14", "openai/clip-vit-base-patch32")

    def __init__(
        self,
        model: Any,
        processor: Any,
        text_embeds: Any,
        *,
        model_id: str,
        device: str = "cpu",
        dtype: Any = None,
        entries: tuple[SoundLabel, ...] = (),
    ) -> None:
        """Wrap a loaded CLIP model, its processor and the vocabulary's normalised text
        embeddings ``(len(entries), dim)``; use :meth:`from_pretrained` to build one."""
        self.model = model
        self.processor = processor
        self.text_embeds = text_embeds
        self.model_id = model_id
        self.device = device
        self.dtype = dtype
        self.entries = tuple(entries) or vocabulary()
        self._key = model_cache.cache_key(self.kind, model_id, device, dtype)

    @classmethod
    def from_pretrained(
        cls, model_id: Optional[str] = None, *, device: Optional[str] = "auto", dtype: Any = None
    ) -> "ClipTagger":
        """Load ``model_id`` (hub id in the local cache, or a folder) once per process."""
        from studio.hf import require_model

        model_id = model_id or cls.default_model_id
        dev, torch_dtype = resolve_device_dtype(device, dtype)
        key = model_cache.cache_key(cls.kind, model_id, dev, torch_dtype)
        entries = vocabulary()

        def load() -> tuple[Any, Any, Any]:
            path = require_model(model_id, what=cls.what)
            return cls._load(path, model_id, dev, torch_dtype, entries)

        model, processor, text_embeds = model_cache.get_or_load(key, load)
        return cls(model, processor, text_embeds, model_id=model_id, device=dev, dtype=torch_dtype, entries=entries)

    @classmethod
    def _load(cls, path: str, model_id: str, device: str, dtype: Any, entries: tuple[SoundLabel, ...]):
        import torch
        from transformers import CLIPModel, CLIPProcessor

        try:
            processor = CLIPProcessor.from_pretrained(path)
            model = CLIPModel.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise load_failure(cls.what, model_id, exc) from None
        model.to(device)
        model.eval()
        text = processor(text=[e.prompt for e in entries], return_tensors="pt", padding=True)
        text = text.to(device)
        with torch.inference_mode():
            feats = _features(model.get_text_features(**text))
        return model, processor, torch.nn.functional.normalize(feats.float(), dim=-1)

    @classmethod
    def create(cls, **opts: Any) -> "ClipTagger":
        return cls.from_pretrained(**opts)

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        return model_availability(model_id or cls.default_model_id, cls.what)

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    def unload(self) -> None:
        model_cache.unload(self._key)
        self.model = None
        self.processor = None
        self.text_embeds = None

    def scores(self, image: Any) -> list[tuple[str, float]]:
        """Every label with its probability, in vocabulary order (sums to 1)."""
        import torch

        if self.model is None:
            raise BackendError(f"{self.what} {self.model_id!r} was unloaded; create the tagger again")
        pixels = processor_inputs(self.processor, image)["pixel_values"].to(self.device, self.dtype)
        with torch.inference_mode():
            image_embeds = _features(self.model.get_image_features(pixel_values=pixels)).float()
            image_embeds = torch.nn.functional.normalize(image_embeds, dim=-1)
            scale = self.model.logit_scale.exp().float()
            probs = (scale * image_embeds @ self.text_embeds.T).softmax(dim=-1)[0]
        return [(e.label, float(p)) for e, p in zip(self.entries, probs.cpu().tolist())]

    def tags(self, image: Any, *, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` (1..len(vocabulary)) most likely labels, highest first, as
        (label, probability) pairs; ties keep vocabulary order."""
        top_k = check_int("top_k", top_k, 1, len(self.entries))
        ranked = sorted(self.scores(image), key=lambda item: -item[1])
        return [(label, round(score, 6)) for label, score in ranked[:top_k]]


def tag_caption(caption: Caption, tags: list[tuple[str, float]] | tuple[tuple[str, float], ...]) -> Caption:
    """A copy of ``caption`` with ``tags`` set (validated as (label, score) pairs)."""
    cleaned = tuple((str(label), float(score)) for label, score in tags)
    return Caption.model_validate({**caption.model_dump(), "tags": cleaned})


def _features(output: Any) -> Any:
    # transformers 5 returns an output object whose pooler_output is the projected embedding;
    # older versions returned the tensor itself.
    if hasattr(output, "pooler_output") and not hasattr(output, "shape"):
        return output.pooler_output
    return output
