"""MusicGen (transformers ``MusicgenForConditionalGeneration``), default
``facebook/musicgen-small``; medium, large, melody and stereo variants load the same way
(melody variants are used text-only: no melody conditioning).

- Rate: the EnCodec rate (32 kHz); channels: 1, or 2 for the ``-stereo-`` variants.
- Longest clip per call: 30 s (what the models were trained on), less when the decoder's
  position table is shorter.
- Seed: transformers' ``generate`` takes no ``torch.Generator``, so sampling runs inside a
  forked global RNG seeded with the layer's seed (:func:`studio.devices.seeded_torch_rng`):
  the same seed gives the same audio and nobody else's random state changes.
- Progress: a logits processor counts decoding steps (one call per generated token frame).
- MusicGen has no negative prompt and no diffusion steps: ``negative_prompt``/``steps`` are
  ignored and the stem metadata says so. ``guidance_scale`` (default 3), ``temperature``
  (default 1) and ``top_k`` (default 250) apply.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from studio.generation.neural_base import NeuralBackend

TRAINED_MAX_S = 30.0


class MusicGenBackend(NeuralBackend):
    name = "musicgen"
    label = "MusicGen"
    default_model_id = "facebook/musicgen-small"
    required_modules = ("torch", "transformers")

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any) -> Any:
        from transformers import AutoConfig, AutoProcessor

        config = AutoConfig.from_pretrained(path)
        if getattr(config, "model_type", "") == "musicgen_melody":
            from transformers import AutoTokenizer
            from transformers import MusicgenMelodyForConditionalGeneration as Model

            # Text-only generation needs only the tokenizer; the melody processor's chroma
            # feature extractor would require torchaudio, which has no build for our torch.
            processor = AutoTokenizer.from_pretrained(path)
        else:
            from transformers import MusicgenForConditionalGeneration as Model

            processor = AutoProcessor.from_pretrained(path)
        model = Model.from_pretrained(path, dtype=dtype).to(device).eval()
        return {"model": model, "processor": processor}

    def _describe(self, components: Any) -> dict[str, Any]:
        config = components["model"].config
        frame_rate = float(config.audio_encoder.frame_rate)
        channels = int(getattr(config.decoder, "audio_channels", 1))
        self._frame_rate = frame_rate
        self._delay = self._delay_frames(config)
        positions = int(getattr(config.decoder, "max_position_embeddings", 2048))
        # generate() needs prompt BOS + frames + delay positions
        max_by_positions = (positions - self._delay - 1) / frame_rate
        return {
            "sample_rate": int(config.audio_encoder.sampling_rate),
            "channels": channels,
            "max_clip_s": min(TRAINED_MAX_S, max_by_positions),
        }

    @staticmethod
    def _delay_frames(config: Any) -> int:
        """MusicGen's codebook delay pattern costs ``codebooks_per_channel - 1`` frames."""
        codebooks = int(config.decoder.num_codebooks)
        channels = int(getattr(config.decoder, "audio_channels", 1))
        return max(0, codebooks // max(1, channels) - 1)

    def _new_tokens(self, duration_s: float) -> int:
        return int(math.ceil(duration_s * self._frame_rate)) + self._delay

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return self._new_tokens(duration_s)

    def _run(self, components: Any, prompt: str, *, duration_s: float, seed: int,
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        import torch
        from transformers import LogitsProcessor, LogitsProcessorList

        from studio.devices import seeded_torch_rng

        model, processor = components["model"], components["processor"]

        class _CountSteps(LogitsProcessor):
            """Called once per decoding step; reports progress and leaves scores alone."""

            def __init__(self) -> None:
                self.done = 0

            def __call__(self, input_ids, scores):  # noqa: ANN001
                self.done += 1
                step(self.done)
                return scores

        inputs = processor(text=[prompt], padding=True, return_tensors="pt").to(self.device)
        notes = []
        if opts["negative_prompt"]:
            notes.append("negative_prompt ignored: MusicGen has no negative prompt")
        if opts["steps"]:
            notes.append("steps ignored: MusicGen decodes one token frame per step")
        top_k = opts["top_k"] if opts["top_k"] is not None else 250
        with torch.inference_mode(), seeded_torch_rng(self.device, seed):
            audio = model.generate(
                **inputs,
                do_sample=True,
                guidance_scale=opts["guidance_scale"] if opts["guidance_scale"] is not None else 3.0,
                temperature=opts["temperature"] if opts["temperature"] is not None else 1.0,
                top_k=top_k,
                max_new_tokens=self._new_tokens(duration_s),
                logits_processor=LogitsProcessorList([_CountSteps()]),
            )
        return audio[0], tuple(notes)
