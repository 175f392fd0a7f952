"""The layout of each default model's real checkpoint, and tiny random models saved in it.

:data:`REAL_LAYOUTS` holds, per default model, what its published files name: the
``model_index.json`` components of a diffusers pipeline, or a transformers checkpoint's
architecture, ``model_type``, processor, tokenizer and image/feature processor classes
(docs/models.md keeps the same facts with their sources). The builders here save tiny random
models with exactly those names, so the studio's loaders meet what users download: e.g.
AudioLDM2's language model is saved as ``GPT2Model``, as in ``cvssp/audioldm2``, and each
tokenizer is the real class (``GPT2Tokenizer`` for BLIP-2's OPT, ``BertTokenizer`` for BLIP,
``CLIPTokenizer``, ``RobertaTokenizer`` for CLAP, ``Qwen2Tokenizer``), not a generic one.
"""

from __future__ import annotations

import json
from pathlib import Path

import neural_tiny_models as tiny

REAL_LAYOUTS: dict[str, dict] = {
    "facebook/musicgen-small": {
        "architecture": "MusicgenForConditionalGeneration", "model_type": "musicgen",
        "processor": "MusicgenProcessor", "tokenizer": "T5Tokenizer", "feature_extractor": "EncodecFeatureExtractor",
        "audio_encoder": {"model_type": "encodec", "sampling_rate": 32000, "upsampling_ratios": [8, 5, 4, 4],
                          "target_bandwidths": [2.2], "codebook_size": 2048},
        "decoder": {"num_codebooks": 4, "audio_channels": 1},
    },
    "facebook/musicgen-stereo-small": {
        "architecture": "MusicgenForConditionalGeneration", "model_type": "musicgen",
        "processor": "MusicgenProcessor", "tokenizer": "T5Tokenizer", "feature_extractor": "EncodecFeatureExtractor",
        "audio_encoder": {"model_type": "encodec", "sampling_rate": 32000, "upsampling_ratios": [8, 5, 4, 4],
                          "target_bandwidths": [2.2], "codebook_size": 2048},
        "decoder": {"num_codebooks": 8, "audio_channels": 2},
    },
    "stabilityai/stable-audio-open-1.0": {
        "model_index": {
            "_class_name": "StableAudioPipeline",
            "projection_model": ["stable_audio", "StableAudioProjectionModel"],
            "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"],
            "text_encoder": ["transformers", "T5EncoderModel"],
            "tokenizer": ["transformers", "T5TokenizerFast"],
            "transformer": ["diffusers", "StableAudioDiTModel"],
            "vae": ["diffusers", "AutoencoderOobleck"],
        },
    },
    "cvssp/audioldm2": {
        "model_index": {
            "_class_name": "AudioLDM2Pipeline",
            "feature_extractor": ["transformers", "ClapFeatureExtractor"],
            "language_model": ["transformers", "GPT2Model"],
            "projection_model": ["audioldm2", "AudioLDM2ProjectionModel"],
            "scheduler": ["diffusers", "DDIMScheduler"],
            "text_encoder": ["transformers", "ClapModel"],
            "text_encoder_2": ["transformers", "T5EncoderModel"],
            "tokenizer": ["transformers", "RobertaTokenizerFast"],
            "tokenizer_2": ["transformers", "T5TokenizerFast"],
            "unet": ["audioldm2", "AudioLDM2UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
            "vocoder": ["transformers", "SpeechT5HifiGan"],
        },
    },
    "Salesforce/blip2-opt-2.7b": {
        "architecture": "Blip2ForConditionalGeneration", "model_type": "blip-2", "text_model_type": "opt",
        "processor": "Blip2Processor", "tokenizer": "GPT2Tokenizer", "image_processor": "BlipImageProcessor",
    },
    "Salesforce/blip-image-captioning-large": {
        "architecture": "BlipForConditionalGeneration", "model_type": "blip",
        "processor": "BlipProcessor", "tokenizer": "BertTokenizer", "image_processor": "BlipImageProcessor",
    },
    "openai/clip-vit-base-patch32": {
        "architecture": "CLIPModel", "model_type": "clip",
        "processor": "CLIPProcessor", "tokenizer": "CLIPTokenizer", "image_processor": "CLIPImageProcessor",
    },
    "laion/clap-htsat-unfused": {
        "architecture": "ClapModel", "model_type": "clap",
        "processor": "ClapProcessor", "tokenizer": "RobertaTokenizer", "feature_extractor": "ClapFeatureExtractor",
    },
    "Qwen/Qwen2.5-1.5B-Instruct": {
        "architecture": "Qwen2ForCausalLM", "model_type": "qwen2", "dtype": "bfloat16",
        "tokenizer": "Qwen2Tokenizer",
    },
}

CORPUS = [
    "a photograph of a calm lake at dusk with trees and a pink sky",
    "a forest path with tall green trees and sunlight",
    "waves breaking on a sandy beach under a blue sky",
    "rain on a window at night with city lights",
    "birds singing in a garden in the morning",
    "soft rain wind forest ocean fire stream water",
]


def rewrite_model_index(folder: Path, entries: dict) -> None:
    """Set ``model_index.json`` entries (component -> [library, class]) as the real one has them."""
    path = Path(folder) / "model_index.json"
    index = json.loads(path.read_text())
    index.update(entries)
    path.write_text(json.dumps(index, indent=2))


def _byte_bpe(specials: list[str], *, suffix: str = "") -> tuple[dict, list]:
    """A byte-level BPE (vocab, merges) trained on :data:`CORPUS`: what GPT-2-style
    tokenizers (GPT2, Qwen2, RoBERTa, CLIP with ``suffix="</w>"``) are built from."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    word_end = {"end_of_word_suffix": suffix} if suffix else {}
    tok = Tokenizer(models.BPE(**word_end))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=alphabet,
                                  show_progress=False, **word_end)
    tok.train_from_iterator(CORPUS * 4, trainer)
    state = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    vocab = dict(state["vocab"])
    if suffix:  # CLIP's vocabulary also has every byte as a word end
        for ch in alphabet:
            vocab.setdefault(ch + suffix, len(vocab))
    return vocab, merges


def _image_processor(cls_name: str, side: int = 32):
    import transformers

    cls = getattr(transformers, cls_name)
    return cls(do_resize=True, size={"height": side, "width": side})


_VISION = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1, "num_attention_heads": 4,
           "image_size": 32, "patch_size": 8}


def build_blip2_opt(folder: Path, *, num_query_tokens: int = 4) -> Path:
    """Tiny ``Blip2ForConditionalGeneration`` (OPT) with ``Blip2Processor``,
    ``BlipImageProcessor`` and OPT's ``GPT2Tokenizer`` (BOS ``</s>`` prepended)."""
    import torch
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor, GPT2Tokenizer

    vocab, merges = _byte_bpe(["<pad>", "</s>", "<unk>"])
    tok = GPT2Tokenizer(vocab=vocab, merges=merges, unk_token="<unk>", bos_token="</s>", eos_token="</s>",
                        pad_token="<pad>", add_bos_token=True)
    processor = Blip2Processor(image_processor=_image_processor("BlipImageProcessor"), tokenizer=tok,
                               num_query_tokens=num_query_tokens)
    eos = processor.tokenizer.convert_tokens_to_ids("</s>")
    config = Blip2Config(
        vision_config=dict(_VISION),
        qformer_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 37,
                        "encoder_hidden_size": 32, "cross_attention_frequency": 1, "max_position_embeddings": 64},
        text_config={"model_type": "opt", "vocab_size": len(processor.tokenizer), "hidden_size": 32,
                     "word_embed_proj_dim": 32, "ffn_dim": 37, "num_hidden_layers": 1, "num_attention_heads": 4,
                     "max_position_embeddings": 128, "bos_token_id": eos, "eos_token_id": eos,
                     "pad_token_id": processor.tokenizer.pad_token_id},
        num_query_tokens=num_query_tokens,
        image_token_index=processor.tokenizer.convert_tokens_to_ids("<image>"),
    )
    torch.manual_seed(0)
    Blip2ForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return Path(folder)


def build_blip(folder: Path) -> Path:
    """Tiny ``BlipForConditionalGeneration`` with ``BlipProcessor`` and a WordPiece ``BertTokenizer``."""
    import torch
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipProcessor

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
    words = sorted({w for line in CORPUS for w in line.split()})
    vocab = {t: i for i, t in enumerate(specials + words)}
    tok = BertTokenizer(vocab=vocab, bos_token="[DEC]")
    processor = BlipProcessor(image_processor=_image_processor("BlipImageProcessor"), tokenizer=tok)
    ids = {s: vocab[s] for s in specials}
    config = BlipConfig(
        vision_config=dict(_VISION),
        text_config={"vocab_size": len(tok), "hidden_size": 32, "encoder_hidden_size": 32, "intermediate_size": 37,
                     "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 64,
                     "bos_token_id": ids["[DEC]"], "eos_token_id": ids["[SEP]"], "sep_token_id": ids["[SEP]"],
                     "pad_token_id": ids["[PAD]"]},
        projection_dim=32,
    )
    torch.manual_seed(0)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return Path(folder)


def build_clip(folder: Path) -> Path:
    """Tiny ``CLIPModel`` with ``CLIPProcessor``, ``CLIPImageProcessor`` and ``CLIPTokenizer``."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab, merges = _byte_bpe(["<|startoftext|>", "<|endoftext|>"], suffix="</w>")
    tok = CLIPTokenizer(vocab=vocab, merges=merges)
    image_processor = _image_processor("CLIPImageProcessor")
    image_processor.do_center_crop = False
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tok)
    sot, eot = tok.convert_tokens_to_ids("<|startoftext|>"), tok.convert_tokens_to_ids("<|endoftext|>")
    config = CLIPConfig(
        text_config={"vocab_size": len(tok), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1,
                     "num_attention_heads": 4, "max_position_embeddings": 77, "bos_token_id": sot,
                     "eos_token_id": eot, "pad_token_id": eot},
        vision_config=dict(_VISION), projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return Path(folder)


def build_qwen(folder: Path) -> Path:
    """Tiny ``Qwen2ForCausalLM`` saved in bf16 (as the card's weights) with ``Qwen2Tokenizer``
    and a ChatML chat template."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    vocab, merges = _byte_bpe(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    tok.save_pretrained(folder)
    return Path(folder)


def build_audioldm2_real_layout(folder: Path) -> Path:
    """The tiny AudioLDM2 saved as ``cvssp/audioldm2`` is: the language model as a bare
    ``GPT2Model`` (no LM head) and model_index.json naming it, with the fast tokenizer names."""
    from transformers import GPT2LMHeadModel

    tiny.build_audioldm2(folder)
    lm = GPT2LMHeadModel.from_pretrained(Path(folder) / "language_model")
    target = Path(folder) / "language_model"
    for f in target.iterdir():
        f.unlink()
    lm.transformer.save_pretrained(target)  # config.json: architectures ["GPT2Model"]
    rewrite_model_index(folder, {k: v for k, v in REAL_LAYOUTS["cvssp/audioldm2"]["model_index"].items()
                                 if k in ("language_model", "tokenizer", "tokenizer_2")})
    return Path(folder)


def build_stable_audio_real_layout(folder: Path) -> Path:
    tiny.build_stable_audio(folder)
    rewrite_model_index(folder, {"tokenizer": ["transformers", "T5TokenizerFast"]})
    return Path(folder)
