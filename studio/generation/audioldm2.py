"""AudioLDM2 (diffusers ``AudioLDM2Pipeline``), default ``cvssp/audioldm2``.

- Rate: the vocoder's (16 kHz), mono. Longest clip per call: the UNet's native length
  (``sample_size x VAE scale x vocoder hop / rate``: 10.24 s for the released model).
  Shortest: the pipeline refuses less than ``VAE scale x vocoder hop / rate`` (40 ms for the
  released model), so shorter requests generate that much and are cropped.
- The released ``model_index.json`` names ``transformers.GPT2Model`` as the language model,
  but the pipeline generates with it (``_update_model_kwargs_for_generation``, which only
  ``GPT2LMHeadModel`` has): the language model is loaded as ``GPT2LMHeadModel`` (same
  weights; its LM head is tied to the embeddings) and handed to the pipeline.
- Seed: one ``torch.Generator`` per take passed to the pipeline, so take ``i`` of a batch
  (``num_waveforms_per_prompt``) is the take a single call with its seed makes. Progress: the
  pipeline's step callback.
- Longer requests are clamped; long beds are built by the mixer from several independent takes.
- dtype: fp16 on CUDA (the model card's example), fp32 on CPU; ``cpu_offload`` keeps
  sub-models off the GPU until used.
- ``negative_prompt``, ``steps`` (default 200, as the model card) and ``guidance_scale``
  (default 3.5) apply.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from studio.generation.neural_base import NeuralBackend, diffusers_step_kwargs, load_diffusers_pipeline

DEFAULT_STEPS = 200
DEFAULT_GUIDANCE = 3.5


class AudioLDM2Backend(NeuralBackend):
    name = "audioldm2"
    label = "AudioLDM2"
    default_model_id = "cvssp/audioldm2"
    required_modules = ("torch", "transformers", "diffusers")
    supports_negative_prompt = True
    supports_steps = True
    per_take_seeds = True
    supports_cpu_offload = True

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any, **options: Any) -> Any:
        language_model = cls._language_model(path, dtype)
        extra = {"language_model": language_model} if language_model is not None else {}
        return load_diffusers_pipeline(path, "AudioLDM2Pipeline", device, dtype, **options, **extra)

    @staticmethod
    def _language_model(path: str, dtype: Any) -> Any:
        """The ``language_model`` sub-model as ``GPT2LMHeadModel`` when model_index.json names
        a GPT-2 class (the released checkpoints say ``GPT2Model``); None for anything else."""
        import json
        from pathlib import Path

        from studio.hf import model_file

        index_file = model_file(path, "model_index.json")
        if index_file is None:
            return None
        index = json.loads(Path(index_file).read_text(encoding="utf-8"))
        library, class_name = (index.get("language_model") or [None, None])[:2]
        if index.get("_class_name") != "AudioLDM2Pipeline" or library != "transformers" or not str(class_name).startswith("GPT2"):
            return None
        from transformers import GPT2LMHeadModel

        return GPT2LMHeadModel.from_pretrained(path, subfolder="language_model", dtype=dtype)

    def _describe(self, pipe: Any) -> dict[str, Any]:
        vocoder = pipe.vocoder.config
        rate = int(vocoder.sampling_rate)
        hop = math.prod(vocoder.upsample_rates)
        max_s = pipe.unet.config.sample_size * pipe.vae_scale_factor * hop / rate
        self._min_s = (hop / rate) * pipe.vae_scale_factor  # same arithmetic as the pipeline's own check
        return {"sample_rate": rate, "channels": 1, "max_clip_s": max_s}

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return opts["steps"] or DEFAULT_STEPS

    def _run(self, pipe: Any, prompt: str, *, duration_s: float, n: int, seeds: list[int],
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[list, tuple[str, ...]]:
        import torch

        from studio.devices import torch_generator

        guidance = opts["guidance_scale"] if opts["guidance_scale"] is not None else DEFAULT_GUIDANCE
        with torch.inference_mode():
            out = pipe(
                prompt,
                negative_prompt=opts["negative_prompt"],
                num_inference_steps=opts["steps"] or DEFAULT_STEPS,
                guidance_scale=guidance,
                # the base class crops the output to the requested frames
                audio_length_in_s=max(duration_s, self._min_s),
                num_waveforms_per_prompt=n,
                generator=[torch_generator(self.device, s) for s in seeds],
                output_type="np",
                **diffusers_step_kwargs(pipe, step),
            )
        return list(out.audios), ()
