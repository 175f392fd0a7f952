"""Tiny randomly initialised BLIP-2, BLIP and CLIP checkpoints, built offline in code.

Each builder trains a small byte-level BPE tokenizer with the ``tokenizers`` library, wraps
it the way the real checkpoint's tokenizer behaves (OPT prepends ``</s>``; BERT-style BLIP
wraps text in ``[CLS] ... [SEP]`` and decodes from ``[DEC]``; CLIP wraps text in
start/end-of-text), builds the model from a tiny config with a fixed torch seed, and
``save_pretrained``s model and processor to a folder so tests load them through the same
``from_pretrained`` path users run. Kept out of the library on purpose.
"""

from __future__ import annotations

from pathlib import Path

IMAGE_SIDE_PX = 32
PATCH_PX = 8

_CORPUS = [
    "a photograph of a calm lake at dusk with trees and a pink sky",
    "a forest path with tall green trees and sunlight",
    "waves breaking on a sandy beach under a blue sky",
    "rain on a window at night with city lights",
    "a snowy field with a small wooden cabin",
    "a desert at sunset with orange dunes",
    "a campfire burning in the dark woods",
    "birds singing in a garden in the morning",
    "question what can you hear in this picture answer wind water birds",
    "a dog a cat a train a helicopter church bells fireworks",
]

_VISION = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "image_size": IMAGE_SIDE_PX,
    "patch_size": PATCH_PX,
}


def _bpe(special_tokens: list[str], vocab_size: int = 300):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    # Metaspace over the corpus alphabet: every token decodes to printable text, as a real
    # captioner's vocabulary mostly does (a byte-level alphabet makes random models emit
    # control bytes).
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer)
    return tok


def _image_processor(cls_name: str, **kw):
    import transformers

    cls = getattr(transformers, cls_name)
    return cls(do_resize=True, size={"height": IMAGE_SIDE_PX, "width": IMAGE_SIDE_PX}, **kw)


def build_tiny_blip2(folder: Path, *, num_query_tokens: int = 4, seed: int = 0) -> Path:
    """A tiny ``Blip2ForConditionalGeneration`` (OPT decoder) + ``Blip2Processor`` in ``folder``."""
    import torch
    from tokenizers import processors
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor, PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"]
    tok = _bpe(specials)
    eos = tok.token_to_id("</s>")
    # OPT's tokenizer prepends </s> (its BOS) to every text.
    tok.post_processor = processors.TemplateProcessing(single="</s> $A", special_tokens=[("</s>", eos)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="</s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    processor = Blip2Processor(
        image_processor=_image_processor("BlipImageProcessor"),
        tokenizer=tokenizer,
        num_query_tokens=num_query_tokens,
    )
    # The processor adds the <image> token; the model must know its id and the grown vocab.
    image_token_id = processor.tokenizer.convert_tokens_to_ids("<image>")
    config = Blip2Config(
        vision_config=dict(_VISION),
        qformer_config={
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "intermediate_size": 37,
            "encoder_hidden_size": 32,
            "cross_attention_frequency": 1,
            "max_position_embeddings": 64,
        },
        text_config={
            "model_type": "opt",
            "vocab_size": len(processor.tokenizer),
            "hidden_size": 32,
            "word_embed_proj_dim": 32,
            "ffn_dim": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "max_position_embeddings": 128,
            "bos_token_id": eos,
            "eos_token_id": eos,
            "pad_token_id": tok.token_to_id("<pad>"),
        },
        num_query_tokens=num_query_tokens,
        image_token_index=image_token_id,
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config).eval()
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_blip(folder: Path, *, seed: int = 0) -> Path:
    """A tiny ``BlipForConditionalGeneration`` + ``BlipProcessor`` in ``folder``."""
    import torch
    from tokenizers import processors
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipProcessor, PreTrainedTokenizerFast

    specials = ["[PAD]", "[CLS]", "[SEP]", "[DEC]", "[MASK]", "<unk>"]
    tok = _bpe(specials)
    ids = {s: tok.token_to_id(s) for s in specials}
    # BERT-style: [CLS] text [SEP], as the real BLIP tokenizer does.
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        bos_token="[DEC]",
        eos_token="[SEP]",
        mask_token="[MASK]",
        unk_token="<unk>",
    )
    processor = BlipProcessor(image_processor=_image_processor("BlipImageProcessor"), tokenizer=tokenizer)
    config = BlipConfig(
        vision_config=dict(_VISION),
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "encoder_hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "max_position_embeddings": 64,
            "bos_token_id": ids["[DEC]"],
            "eos_token_id": ids["[SEP]"],
            "sep_token_id": ids["[SEP]"],
            "pad_token_id": ids["[PAD]"],
        },
        projection_dim=32,
    )
    torch.manual_seed(seed)
    model = BlipForConditionalGeneration(config).eval()
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_clip(folder: Path, *, seed: int = 0) -> Path:
    """A tiny ``CLIPModel`` + ``CLIPProcessor`` in ``folder``."""
    import torch
    from tokenizers import processors
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, PreTrainedTokenizerFast

    specials = ["<|startoftext|>", "<|endoftext|>", "<unk>"]
    tok = _bpe(specials)
    sot, eot = tok.token_to_id("<|startoftext|>"), tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", sot), ("<|endoftext|>", eot)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token="<unk>",
        model_max_length=77,
    )
    image_processor = _image_processor("CLIPImageProcessor", do_center_crop=False)
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "bos_token_id": sot,
            "eos_token_id": eot,
            "pad_token_id": eot,
        },
        vision_config=dict(_VISION),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_blip2_t5(folder: Path, *, num_query_tokens: int = 4, seed: int = 0) -> Path:
    """A tiny BLIP-2 with a T5 (encoder-decoder) language model, like blip2-flan-t5-xl."""
    import torch
    from tokenizers import processors
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor, PreTrainedTokenizerFast

    tok = _bpe(["<pad>", "</s>", "<unk>"])
    pad, eos = tok.token_to_id("<pad>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", eos)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    processor = Blip2Processor(
        image_processor=_image_processor("BlipImageProcessor"), tokenizer=tokenizer, num_query_tokens=num_query_tokens
    )
    config = Blip2Config(
        vision_config=dict(_VISION),
        qformer_config={
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "intermediate_size": 37,
            "encoder_hidden_size": 32,
            "cross_attention_frequency": 1,
            "max_position_embeddings": 64,
        },
        text_config={
            "model_type": "t5",
            "vocab_size": len(processor.tokenizer),
            "d_model": 32,
            "d_kv": 8,
            "d_ff": 37,
            "num_layers": 1,
            "num_decoder_layers": 1,
            "num_heads": 4,
            "decoder_start_token_id": pad,
            "eos_token_id": eos,
            "pad_token_id": pad,
        },
        num_query_tokens=num_query_tokens,
        image_token_index=processor.tokenizer.convert_tokens_to_ids("<image>"),
    )
    torch.manual_seed(seed)
    model = Blip2ForConditionalGeneration(config).eval()
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
