"""The text-generation interface the LLM planner uses, and its transformers implementation.

A *chat generator* is any callable ``generate(messages, *, seed) -> str`` where ``messages``
is a list of ``{"role": "system"|"user"|"assistant", "content": str}``. Tests pass a
scripted fake (canned strings); users get :class:`HFChatGenerator`, which runs a causal LM
with the model's own chat template.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol, Sequence

from studio.errors import ModelUnavailableError, PlanError

Message = Mapping[str, str]


class ChatGenerator(Protocol):
    def __call__(self, messages: Sequence[Message], *, seed: int) -> str: ...


CARD_DTYPE = "bfloat16"  # Qwen2.5 / SmolLM2 instruct: trained and released in bf16


class HFChatGenerator:
    """A transformers causal LM (``AutoModelForCausalLM``) behind the chat-generator interface.

    Sampling is seeded per call (``torch.manual_seed(seed)``), so a plan's seed reproduces the
    model's answer on the same machine. ``temperature=0`` decodes greedily.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        device: str = "cpu",
        model_id: str = "",
        max_new_tokens: int = 768,
        temperature: float = 0.2,
        top_p: float = 0.9,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.model_id = model_id
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.top_p = float(top_p)

    @classmethod
    def from_pretrained(
        cls,
        model_id: str,
        *,
        device: str = "auto",
        dtype: Any = None,
        max_new_tokens: int = 768,
        temperature: float = 0.2,
        top_p: float = 0.9,
    ) -> "HFChatGenerator":
        """Load ``model_id`` (a hub id in the local cache, or a ``save_pretrained`` folder).

        ``dtype`` None/``"auto"``: bf16 on CUDA GPUs that have it, as the Qwen2.5 and SmolLM2
        cards ship the weights (in fp16 these models overflow and emit garbage, and the planner
        would silently fall back to rules), else fp32; fp32 on CPU/MPS. ``STUDIO_DTYPE`` or an
        explicit ``dtype`` override it."""
        from studio.devices import pick_device, resolve_dtype
        from studio.hf import require_model

        path = require_model(model_id, what="planner LLM")
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelUnavailableError(f"the LLM planner needs transformers ({exc.name}); run `pip install -r requirements.txt`") from None
        dev = pick_device(device)
        torch_dtype = resolve_dtype(dev, dtype, card=CARD_DTYPE)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(f"planner LLM {model_id!r} could not be loaded: {str(exc).splitlines()[0]}") from None
        if not getattr(tokenizer, "chat_template", None):
            raise ModelUnavailableError(
                f"planner LLM {model_id!r} has no chat template; use an instruct/chat model such as Qwen/Qwen2.5-0.5B-Instruct"
            )
        model.to(dev).eval()
        return cls(model, tokenizer, device=dev, model_id=model_id, max_new_tokens=max_new_tokens,
                   temperature=temperature, top_p=top_p)

    def __call__(self, messages: Sequence[Message], *, seed: int) -> str:
        import torch

        inputs = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], add_generation_prompt=True, return_dict=True, return_tensors="pt"
        ).to(self.device)
        n_prompt = int(inputs["input_ids"].shape[1])
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and n_prompt + self.max_new_tokens > limit:
            raise PlanError(
                f"the planner prompt ({n_prompt} tokens) plus {self.max_new_tokens} new tokens exceeds "
                f"the model's context of {limit} tokens"
            )
        torch.manual_seed(int(seed))
        sampling: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, pad_token_id=pad, **sampling)
        return self.tokenizer.decode(out[0, n_prompt:], skip_special_tokens=True)


def model_in_cache(model_id: str) -> Optional[str]:
    """The local folder of ``model_id`` or None, without loading anything."""
    from studio.hf import local_model_path

    path = local_model_path(model_id)
    return str(path) if path is not None else None
