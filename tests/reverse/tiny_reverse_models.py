"""Tiny random models for the reverse direction, saved with ``save_pretrained`` in the real
models' layouts so the loaders run their real ``from_pretrained`` path.

- sd-turbo layout: ``StableDiffusionPipeline`` with ``EulerDiscreteScheduler``, ``CLIPTextModel``,
  ``CLIPTokenizer``, ``UNet2DConditionModel`` and ``AutoencoderKL``; no safety checker or
  feature extractor (``requires_safety_checker: false``), as in stabilityai/sd-turbo.
- AST: ``ASTForAudioClassification`` + ``ASTFeatureExtractor`` (16 kHz, 128 mel bins) with a
  short ``max_length`` and 5 made-up AudioSet labels.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

AST_LABELS = ["Rain", "Wind", "Bird", "Fire", "Speech"]


def clip_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>", "<unk>"]
    tokens += list(string.ascii_lowercase + string.digits + ",.-'") + [c + "</w>" for c in string.ascii_lowercase + string.digits + ",.-'"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token="<unk>",
                         pad_token="<|endoftext|>", model_max_length=77)


def build_sd_turbo(out_dir: Path, *, seed: int = 0) -> Path:
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    tok = clip_tokenizer(out_dir.parent / (out_dir.name + "-tok"))
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                        num_attention_heads=4, max_position_embeddings=77, projection_dim=32,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(16, 32), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=8, sample_size=16)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", prediction_type="epsilon")
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out_dir)
    return out_dir


def build_ast(out_dir: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    torch.manual_seed(seed)
    cfg = ASTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37, max_length=128,
                    num_mel_bins=128, id2label=dict(enumerate(AST_LABELS)), label2id={l: i for i, l in enumerate(AST_LABELS)})
    ASTForAudioClassification(cfg).save_pretrained(out_dir)
    ASTFeatureExtractor(max_length=128, num_mel_bins=128, sampling_rate=16_000).save_pretrained(out_dir)
    return out_dir
