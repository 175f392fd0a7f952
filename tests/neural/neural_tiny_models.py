"""Tiny randomly initialised audio models, built from configs with no download and saved with
``save_pretrained`` so the backends load them through their real ``from_pretrained`` path.

Sizes follow /work/shared/TINY-MODELS.md:
- MusicGen keeps EnCodec's real hop (``upsampling_ratios=[8, 5, 4, 4]`` at 32 kHz: 50 frames/s)
  and ``target_bandwidths=[2.2]`` (4 codebooks); stereo uses 8 decoder codebooks and
  ``audio_channels=2``. ``max_position_embeddings`` is small so clamping is reachable.
- Stable Audio: 8 kHz, VAE hop 32, ``sample_size=256`` -> 1.024 s per call.
- AudioLDM2: vocoder hop 64 at 16 kHz, UNet ``sample_size=64`` x VAE scale 2 -> 0.512 s per call;
  the language model is a ``GPT2LMHeadModel``.
- CLAP: ``spec_size=128`` (smaller fails in the audio encoder).

Tokenizers are built in code: T5 from a word list, RoBERTa from a vocab dict and merge tuples.
"""

from __future__ import annotations

from pathlib import Path

WORDS = "rain wind forest bird birds ocean waves calm the a soft night fire crackling stream water dog".split()


def t5_tokenizer(model_max_length: int = 32):
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("\u2581" + w, -1.0) for w in WORDS]
    vocab += [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz\u2581"]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


def roberta_tokenizer(model_max_length: int = 32):
    from transformers import RobertaTokenizer

    letters = list("abcdefghijklmnopqrstuvwxyz")
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "\u0120"] + letters + ["\u0120" + c for c in letters]
    merges = [("r", "a"), ("i", "n"), ("ra", "in"), ("\u0120", "rain")]
    tokens += ["ra", "in", "rain", "\u0120rain"]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    return RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def build_musicgen(out_dir: Path, *, stereo: bool = False, melody: bool = False, max_positions: int = 160,
                   seed: int = 0) -> Path:
    """A tiny MusicGen at 32 kHz; ``(max_positions - delay - 1) / 50`` s per call (3 s at 160).

    ``melody``: a MusicGen-Melody (``musicgen_melody`` config), saved with its tokenizer only:
    its chroma feature extractor needs torchaudio, and text-only generation does not use it.
    """
    import torch
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    tok = t5_tokenizer()
    codebook_size = 2048  # the real one: 11 bits x 50 frames/s = 550 b/s per codebook, so 2.2 kb/s = 4 codebooks when encoding
    text = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=2)
    encodec = EncodecConfig(
        sampling_rate=32000, audio_channels=1, num_filters=4, hidden_size=16,
        upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2], codebook_size=codebook_size,
        codebook_dim=16, num_lstm_layers=1, normalize=False,
    )
    decoder_kwargs = dict(
        vocab_size=codebook_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, ffn_dim=64,
        num_codebooks=8 if stereo else 4, audio_channels=2 if stereo else 1,
        max_position_embeddings=max_positions, pad_token_id=codebook_size, bos_token_id=codebook_size,
    )
    parts = dict(text_encoder=text.to_dict(), audio_encoder=encodec.to_dict(),
                 decoder_start_token_id=codebook_size, pad_token_id=codebook_size)
    torch.manual_seed(seed)
    if melody:
        from transformers import MusicgenMelodyConfig, MusicgenMelodyDecoderConfig, MusicgenMelodyForConditionalGeneration

        config = MusicgenMelodyConfig(decoder=MusicgenMelodyDecoderConfig(**decoder_kwargs).to_dict(),
                                      num_chroma=12, chroma_length=50, **parts)
        model = MusicgenMelodyForConditionalGeneration(config)
    else:
        config = MusicgenConfig(decoder=MusicgenDecoderConfig(**decoder_kwargs).to_dict(), **parts)
        model = MusicgenForConditionalGeneration(config)
    # EnCodec's codebooks start as zeros (the real ones come from k-means); give them random
    # entries so different codes decode to different audio.
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_(0.0, 1.0)
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    if melody:
        tok.save_pretrained(out_dir)
    else:
        processor = MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(feature_size=1, sampling_rate=32000),
                                      tokenizer=tok)
        processor.save_pretrained(out_dir)
    return out_dir


def build_stable_audio(out_dir: Path, *, seed: int = 0) -> Path:
    """A tiny StableAudioPipeline: stereo 8 kHz, 1.024 s per call."""
    import torch
    from diffusers import AutoencoderOobleck, CosineDPMSolverMultistepScheduler, StableAudioDiTModel, StableAudioPipeline
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    tok = t5_tokenizer(16)
    transformer = StableAudioDiTModel(
        sample_size=256, in_channels=4, num_layers=1, attention_head_dim=4, num_attention_heads=2,
        num_key_value_attention_heads=1, out_channels=4, cross_attention_dim=8, time_proj_dim=8,
        global_states_input_dim=16, cross_attention_input_dim=8,
    )
    scheduler = CosineDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0, sigma_schedule="exponential"
    )
    vae = AutoencoderOobleck(
        encoder_hidden_size=4, downsampling_ratios=[4, 8], decoder_channels=4, decoder_input_channels=4,
        audio_channels=2, channel_multiples=[1, 2], sampling_rate=8000,
    )
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tok), d_model=8, d_kv=4, d_ff=16, num_layers=1, num_heads=2))
    projection = StableAudioProjectionModel(text_encoder_dim=8, conditioning_dim=8, min_value=0, max_value=64)
    pipe = StableAudioPipeline(transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=text_encoder,
                               tokenizer=tok, projection_model=projection)
    pipe.save_pretrained(out_dir)
    return out_dir


def build_audioldm2(out_dir: Path, *, seed: int = 0) -> Path:
    """A tiny AudioLDM2Pipeline: mono 16 kHz, 0.512 s per call."""
    import torch
    from diffusers import AudioLDM2Pipeline, AudioLDM2UNet2DConditionModel, AutoencoderKL, DDIMScheduler
    from diffusers.pipelines.audioldm2 import AudioLDM2ProjectionModel
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    torch.manual_seed(seed)
    tok, tok2 = roberta_tokenizer(16), t5_tokenizer(16)
    unet = AudioLDM2UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, sample_size=64, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=([None, 16, 32], [None, 16, 32]),
        attention_head_dim=4,
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False)
    vae = AutoencoderKL(block_out_channels=[8, 16], norm_num_groups=4, in_channels=1, out_channels=1,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4)
    text_cfg = ClapTextConfig(bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=32,
                              num_attention_heads=2, num_hidden_layers=1, vocab_size=len(tok), projection_dim=16,
                              max_position_embeddings=40)
    audio_cfg = ClapAudioConfig(spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=32, depths=[1, 1],
                                num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=16, projection_dim=16,
                                patch_size=2, patch_stride=2, patch_embed_input_channels=4)
    clap = ClapModel(ClapConfig(text_config=text_cfg.to_dict(), audio_config=audio_cfg.to_dict(), projection_dim=16))
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=len(tok2), d_model=32, d_ff=32, d_kv=8, num_heads=2, num_layers=1))
    language_model = GPT2LMHeadModel(GPT2Config(n_embd=16, n_head=2, n_layer=1, vocab_size=50, n_ctx=99, n_positions=99,
                                                bos_token_id=0, eos_token_id=1))
    language_model.config.max_new_tokens = 8
    projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16)
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 8],
        upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        normalize_before=False,
    ))
    pipe = AudioLDM2Pipeline(
        unet=unet, scheduler=scheduler, vae=vae, text_encoder=clap, text_encoder_2=text_encoder_2, tokenizer=tok,
        tokenizer_2=tok2, feature_extractor=ClapFeatureExtractor(feature_size=64, hop_length=7900),
        language_model=language_model, projection_model=projection, vocoder=vocoder,
    )
    pipe.save_pretrained(out_dir)
    return out_dir


def build_clap(out_dir: Path, *, seed: int = 0) -> Path:
    """A tiny ClapModel + ClapProcessor (48 kHz feature extractor, spec_size 128)."""
    import torch
    from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor, ClapTextConfig

    torch.manual_seed(seed)
    tok = roberta_tokenizer(32)
    text_cfg = ClapTextConfig(bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=32,
                              num_attention_heads=2, num_hidden_layers=1, vocab_size=len(tok), projection_dim=16,
                              max_position_embeddings=40)
    audio_cfg = ClapAudioConfig(spec_size=128, window_size=4, num_mel_bins=64, intermediate_size=32, depths=[1, 1],
                                num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=16, projection_dim=16,
                                patch_size=4, patch_stride=4, patch_embed_input_channels=1, patch_embeds_hidden_size=8,
                                enable_fusion=False)
    model = ClapModel(ClapConfig(text_config=text_cfg.to_dict(), audio_config=audio_cfg.to_dict(), projection_dim=16))
    fe = ClapFeatureExtractor(feature_size=64, sampling_rate=48000, max_length_s=2, truncation="rand_trunc")
    processor = ClapProcessor(feature_extractor=fe, tokenizer=tok)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


def put_in_cache(cache: Path, repo_id: str, folder: Path) -> Path:
    """Lay ``folder`` out as the cached snapshot of ``repo_id`` (what a download leaves)."""
    import shutil

    commit = "0" * 40
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snap = repo / "snapshots" / commit
    shutil.copytree(folder, snap)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snap
