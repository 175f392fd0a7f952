"""Fixtures for the planning tests: styles, a shared rules planner, scripted fake LLMs and a
tiny random Qwen2 chat model built offline."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

import pytest


class ScriptedLLM:
    """A fake chat model: returns the canned replies in order (the last one repeats) and
    records every message list it was given."""

    def __init__(self, replies: Iterable[str] | str | Callable[[Sequence[dict], int], str]):
        self._fn = replies if callable(replies) else None
        self.replies = [] if callable(replies) else ([replies] if isinstance(replies, str) else list(replies))
        self.calls: list[list[dict]] = []

    def __call__(self, messages, *, seed: int) -> str:
        self.calls.append([dict(m) for m in messages])
        if self._fn is not None:
            return self._fn(messages, seed)
        return self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]


@pytest.fixture(scope="session")
def styles():
    from studio.planning.styles import load_style, style_names

    return {name: load_style(name) for name in style_names()}


@pytest.fixture(scope="session")
def rules():
    from studio.planning.rules import RulePlanner

    return RulePlanner()


@pytest.fixture
def scripted():
    return ScriptedLLM


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Qwen2 causal LM with a ChatML template, saved with
    ``save_pretrained`` so it loads through the planner's real ``from_pretrained`` path."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from studio.planning.llm import build_messages
    from studio.planning.styles import load_style
    from studio.types import Caption

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    corpus = [m["content"] for m in build_messages(Caption(text="a lake at dusk"), load_style("meditation"), duration_s=60)]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus * 4,
        trainers.BpeTrainer(vocab_size=1200, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
    )
    import torch

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny-qwen2")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
