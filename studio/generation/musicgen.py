"""MusicGen (transformers ``MusicgenForConditionalGeneration``), default
``facebook/musicgen-small``; medium, large, melody and stereo variants load the same way
(melody variants are used text-only: no melody conditioning).

- Rate: the EnCodec rate (32 kHz); channels: 1, or 2 for the ``-stereo-`` variants.
- Window: 30 s per model call (what the models were trained on), less when the decoder's
  position table is shorter. Longer requests (up to 60 min) are made by continuation
  (:mod:`studio.generation.long_form`): each next window is prompted with the last 40 % of
  the audio so far through MusicGen's audio conditioning (``input_values``, as
  ``processor(audio=...)`` makes it), adds 60 % of a window of new audio, and is cross-faded
  in on a bar line when a tempo is detectable. The stem metadata records window, stride,
  overlap, the seams and the tempo found.
- Takes: ``generate_batch`` runs ``n`` copies of the prompt as one batch (one RNG for the
  batch: the batch is reproduced by its seed and size).
- dtype: fp16 on CUDA (the transformers model card runs it in fp16), fp32 on CPU.
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
    continues = True

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any, **options: Any) -> Any:
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

    def _plan(self, duration_s: float):
        from studio.generation.long_form import plan_windows

        return plan_windows(duration_s, self.max_clip_s, self._frame_rate)

    def long_form(self, duration_s: float) -> dict[str, Any]:
        from studio.generation.long_form import MAX_DURATION_S

        if not self.max_clip_s < duration_s <= MAX_DURATION_S:  # one call, or refused by generate
            return {}
        return self._plan(duration_s).describe()

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        """Decoding steps: one per token frame plus the codebook delay, per window."""
        if duration_s <= self.max_clip_s:
            return self._new_tokens(duration_s)
        plan = self._plan(duration_s)
        return plan.total_frames + plan.windows * self._delay

    def _run(self, components: Any, prompt: str, *, duration_s: float, n: int, seeds: list[int],
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[list, tuple[str, ...]]:
        import numpy as np
        import torch
        from transformers import LogitsProcessor, LogitsProcessorList

        from studio.devices import seeded_torch_rng
        from studio.generation.long_form import continue_windows

        model, processor = components["model"], components["processor"]

        class _CountSteps(LogitsProcessor):
            """Called once per decoding step; one instance counts across all windows."""

            def __init__(self) -> None:
                self.done = 0

            def __call__(self, input_ids, scores):  # noqa: ANN001
                self.done += 1
                step(self.done)
                return scores

        text = processor(text=[prompt] * n, padding=True, return_tensors="pt").to(self.device)
        notes = []
        if opts["negative_prompt"]:
            notes.append("negative_prompt ignored: MusicGen has no negative prompt")
        if opts["steps"]:
            notes.append("steps ignored: MusicGen decodes one token frame per step")
        sampling = dict(
            do_sample=True,
            guidance_scale=opts["guidance_scale"] if opts["guidance_scale"] is not None else 3.0,
            temperature=opts["temperature"] if opts["temperature"] is not None else 1.0,
            top_k=opts["top_k"] if opts["top_k"] is not None else 250,
        )
        counter = _CountSteps()  # one counter across windows; a fresh list per call, since
        # generate() adds its guidance processor to the list it is given

        def first(frames: int) -> np.ndarray:
            audio = model.generate(**text, max_new_tokens=frames + self._delay,
                                   logits_processor=LogitsProcessorList([counter]), **sampling)
            return audio.float().cpu().numpy()

        def extend(audio_prompt: np.ndarray, new_frames: int) -> np.ndarray:
            # MusicGen's audio conditioning: EnCodec codes of the prompt become the first
            # decoder tokens; the output decodes prompt + continuation
            values = torch.from_numpy(audio_prompt).to(self.device, model.dtype)
            mask = torch.ones(values.shape[0], values.shape[-1], dtype=torch.long, device=self.device)
            audio = model.generate(**text, input_values=values, padding_mask=mask,
                                   max_new_tokens=new_frames + self._delay,
                                   logits_processor=LogitsProcessorList([counter]), **sampling)
            return audio.float().cpu().numpy()

        frames = int(round(duration_s * self.sample_rate))
        with torch.inference_mode(), seeded_torch_rng(self.device, seeds[0]):
            if duration_s <= self.max_clip_s:
                return list(first(int(math.ceil(duration_s * self._frame_rate)))), tuple(notes)
            hop = int(round(self.sample_rate / self._frame_rate))
            audio, info = continue_windows(self._plan(duration_s), hop=hop, sample_rate=self.sample_rate,
                                           total_samples=frames, first=first, extend=extend)
        self._last_long = info
        return list(audio), tuple(notes)
