"""Neural captioners: BLIP-2 (registry name ``blip2``) and BLIP (``blip``), via transformers.

Both load with ``from_pretrained(model_id, device=..., dtype=...)`` from a local folder or
the Hugging Face cache (``studio.hf.require_model``), choose fp16 on CUDA and fp32 on CPU,
and keep the loaded model in a per-process cache keyed by (kind, model, device, dtype) so
creating another captioner object costs nothing. ``unload()`` releases it.

``prompt`` conditions the caption. A prefix prompt such as ``"a photograph of"`` is kept in
the text (``"a photograph of a lake at dusk"``); a question prompt ending in ``?`` or ``:``
(``"Question: what can you hear here? Answer:"``) returns only the answer.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Optional

from studio.errors import BackendError
from studio.types import Caption
from studio.vision import model_cache
from studio.vision.neural import (
    check_float,
    check_int,
    clean_prompt,
    load_failure,
    model_availability,
    resolve_device_dtype,
)
from studio.vision.prep import processor_inputs

# BLIP-large's best-known quirk: made-up words at the start of captions ("arafed man").
_BLIP_ARTIFACTS = re.compile(r"\b(?:arafed|araffe|arafe|araf)\b\s*", re.IGNORECASE)


class _HFCaptioner:
    """Shared BLIP/BLIP-2 behaviour; subclasses name the transformers classes."""

    kind: ClassVar[str]
    what: ClassVar[str]
    default_model_id: ClassVar[str]
    model_class: ClassVar[str]
    processor_class: ClassVar[str]

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        model_id: str,
        device: str = "cpu",
        dtype: Any = None,
        prompt: Optional[str] = None,
        num_beams: int = 3,
        do_sample: bool = False,
        max_new_tokens: int = 30,
        temperature: float = 1.0,
        top_p: float = 0.9,
        repetition_penalty: float = 1.0,
        seed: int = 0,
    ) -> None:
        """Wrap a loaded model and processor (use :meth:`from_pretrained` to load).

        ``num_beams`` 1..16 (beam search when > 1 and not sampling), ``do_sample`` for
        nucleus sampling with ``temperature`` and ``top_p`` (reproducible with ``seed``),
        ``max_new_tokens`` 1..200 caption tokens.
        """
        self.model = model
        self.processor = processor
        self.model_id = model_id
        self.device = device
        self.dtype = dtype if dtype is not None else getattr(model, "dtype", None)
        self.prompt = clean_prompt(prompt)
        self.num_beams = check_int("num_beams", num_beams, 1, 16)
        self.do_sample = bool(do_sample)
        self.max_new_tokens = check_int("max_new_tokens", max_new_tokens, 1, 200)
        self.temperature = check_float("temperature", temperature, 0.0, 5.0, lo_open=True)
        self.top_p = check_float("top_p", top_p, 0.0, 1.0, lo_open=True)
        self.repetition_penalty = check_float("repetition_penalty", repetition_penalty, 1.0, 3.0)
        self.seed = check_int("seed", seed, 0, 2**32 - 1)
        self._key = model_cache.cache_key(self.kind, model_id, device, self.dtype)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pretrained(
        cls,
        model_id: Optional[str] = None,
        *,
        device: Optional[str] = "auto",
        dtype: Any = None,
        prompt: Optional[str] = None,
        num_beams: int = 3,
        do_sample: bool = False,
        max_new_tokens: int = 30,
        temperature: float = 1.0,
        top_p: float = 0.9,
        repetition_penalty: float = 1.0,
        seed: int = 0,
        load_in_8bit: bool = False,
    ):
        """Load (once per process) and wrap ``model_id``: a hub id found in the local HF
        cache (downloaded when online) or a ``save_pretrained`` folder.

        ``load_in_8bit`` (BLIP-2 only, on CUDA, with ``bitsandbytes`` installed): 8-bit
        weights, about half the GPU memory of fp16 (roughly 4 GB for blip2-opt-2.7b).

        Raises :class:`ModelUnavailableError` naming the model and how to get it when it is
        not present, and :class:`InputError` for a bad option.
        """
        from studio.hf import require_model

        model_id = model_id or cls.default_model_id
        # Options are checked before anything heavy is loaded.
        clean_prompt(prompt)
        check_int("num_beams", num_beams, 1, 16)
        check_int("max_new_tokens", max_new_tokens, 1, 200)
        dev, torch_dtype = resolve_device_dtype(device, dtype)
        quantized = cls._quantization(dev, load_in_8bit)
        key = model_cache.cache_key(cls.kind + ("-8bit" if quantized else ""), model_id, dev, torch_dtype)

        def load() -> tuple[Any, Any]:
            path = require_model(model_id, what=cls.what)
            return cls._load(path, model_id, dev, torch_dtype, **quantized)

        model, processor = model_cache.get_or_load(key, load)
        return cls(
            model,
            processor,
            model_id=model_id,
            device=dev,
            dtype=torch_dtype,
            prompt=prompt,
            num_beams=num_beams,
            do_sample=do_sample,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
            seed=seed,
        )

    @classmethod
    def _quantization(cls, device: str, load_in_8bit: bool) -> dict[str, Any]:
        """``from_pretrained`` keywords for 8-bit weights ({} when not asked for)."""
        if not load_in_8bit:
            return {}
        from studio.errors import InputError, ModelUnavailableError
        from studio.generation.neural_base import modules_present

        if cls.kind != "blip2":
            raise InputError(f"load_in_8bit is offered for BLIP-2 only, not the {cls.what}")
        if not device.startswith("cuda"):
            raise InputError(f"load_in_8bit needs a CUDA GPU (device is {device!r}); leave it off on CPU")
        if modules_present("bitsandbytes"):
            raise ModelUnavailableError("8-bit BLIP-2 needs the 'bitsandbytes' package: `pip install bitsandbytes`")
        from transformers import BitsAndBytesConfig

        return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True), "device_map": {"": device}}

    @classmethod
    def _load(cls, path: str, model_id: str, device: str, dtype: Any, **quantized: Any) -> tuple[Any, Any]:
        import transformers

        model_cls = getattr(transformers, cls.model_class)
        processor_cls = getattr(transformers, cls.processor_class)
        try:
            processor = processor_cls.from_pretrained(path)
            model = model_cls.from_pretrained(path, dtype=dtype, **quantized)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise load_failure(cls.what, model_id, exc) from None
        if not quantized:  # a quantized model is placed by device_map and cannot be moved
            model.to(device)
        model.eval()
        return model, processor

    @classmethod
    def create(cls, **opts: Any):
        """Registry factory: ``from_pretrained`` with the defaults (``model_id`` optional)."""
        return cls.from_pretrained(**opts)

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        """(ok, reason): transformers importable and ``model_id`` (default: the class
        default) in the local cache."""
        return model_availability(model_id or cls.default_model_id, cls.what)

    @property
    def loaded(self) -> bool:
        return model_cache.is_loaded(self._key)

    def unload(self) -> None:
        """Drop the model from the process cache and from this object (frees its memory
        once no other captioner holds it). Captioning afterwards raises BackendError."""
        model_cache.unload(self._key)
        self.model = None
        self.processor = None

    # ------------------------------------------------------------------ captioning

    def caption(self, image: Any) -> Caption:
        """Caption an RGB PIL image (from :func:`studio.vision.intake.load_image`)."""
        import torch

        if self.model is None:
            raise BackendError(f"{self.what} {self.model_id!r} was unloaded; create the captioner again")
        # Resized to the processor's input first (same pixels, a fraction of the cost).
        inputs = processor_inputs(self.processor, image, text=self._processor_text())
        inputs = inputs.to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample}
        if self.do_sample:
            gen.update(temperature=self.temperature, top_p=self.top_p, num_beams=1)
        else:
            gen.update(num_beams=self.num_beams)
        if self.repetition_penalty != 1.0:
            gen["repetition_penalty"] = self.repetition_penalty
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            with torch.inference_mode():
                out = self.model.generate(**inputs, **gen)
        ids = out[0, self._prefix_len(inputs) :]
        answer = self.processor.tokenizer.decode(ids, skip_special_tokens=True)
        text = self._compose(_tidy(answer))
        if not text:
            raise BackendError(
                f"{self.what} {self.model_id!r} produced an empty caption; "
                f"try another prompt or the 'analysis' captioner"
            )
        return Caption(text=text[:2000], source=self.kind, model=self.model_id)

    def _prefix_len(self, inputs: Any) -> int:
        raise NotImplementedError

    def _processor_text(self) -> Optional[str]:
        return self.prompt

    def _compose(self, answer: str) -> str:
        prompt = self.prompt
        if not prompt or prompt.rstrip().endswith(("?", ":")):
            return answer
        if not answer:
            return ""
        return f"{prompt} {answer}"


class Blip2Captioner(_HFCaptioner):
    """BLIP-2 (``Blip2ForConditionalGeneration`` + ``Blip2Processor``), default
    ``Salesforce/blip2-opt-2.7b`` (about 15 GB in fp32, 7.7 GB in fp16)."""

    kind = "blip2"
    what = "BLIP-2 captioner"
    default_model_id = "Salesforce/blip2-opt-2.7b"
    MODEL_IDS: ClassVar[tuple[str, ...]] = ("Salesforce/blip2-opt-2.7b", "Salesforce/blip2-flan-t5-xl")
    model_class = "Blip2ForConditionalGeneration"
    processor_class = "Blip2Processor"

    def _prefix_len(self, inputs: Any) -> int:
        # A decoder-only language model (OPT) returns its input ids (image tokens, BOS,
        # prompt) before the new tokens; without text the model builds image tokens + BOS
        # itself. Flan-T5 variants are encoder-decoders and return only new tokens.
        if not getattr(self.model.config, "use_decoder_only_language_model", True):
            return 0
        if "input_ids" in inputs:
            return int(inputs["input_ids"].shape[1])
        return int(self.model.config.num_query_tokens) + 1

    def _processor_text(self) -> Optional[str]:
        # Without text, BLIP-2's generate builds its start tokens from the text config's
        # bos_token_id, which T5 configs lack; an empty text gives the processor's image
        # tokens + EOS instead, the encoder input Flan-T5 variants expect.
        if self.prompt is None and not getattr(self.model.config, "use_decoder_only_language_model", True):
            return ""
        return self.prompt


class BlipCaptioner(_HFCaptioner):
    """BLIP (``BlipForConditionalGeneration`` + ``BlipProcessor``), default
    ``Salesforce/blip-image-captioning-large``; ``Salesforce/blip-image-captioning-base``
    is the lighter choice."""

    kind = "blip"
    what = "BLIP captioner"
    default_model_id = "Salesforce/blip-image-captioning-large"
    model_class = "BlipForConditionalGeneration"
    processor_class = "BlipProcessor"
    MODEL_IDS: ClassVar[tuple[str, ...]] = (
        "Salesforce/blip-image-captioning-large",
        "Salesforce/blip-image-captioning-base",
    )

    def _prefix_len(self, inputs: Any) -> int:
        # BLIP swaps [CLS] for its [DEC] BOS, drops the trailing [SEP] and returns that
        # prefix before the new tokens; without text the prefix is the BOS alone.
        if "input_ids" in inputs:
            return int(inputs["input_ids"].shape[1]) - 1
        return 1


def _tidy(text: str) -> str:
    text = _BLIP_ARTIFACTS.sub("", text)
    # Control characters and U+FFFD (a token cut mid-character) never belong in a caption.
    text = "".join(ch for ch in text if ch == " " or (ch.isprintable() and ch != "\ufffd"))
    return " ".join(text.split())
