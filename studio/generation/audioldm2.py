"""AudioLDM2 (diffusers ``AudioLDM2Pipeline``), default ``cvssp/audioldm2``.

- Rate: the vocoder's (16 kHz), mono. Longest clip per call: the UNet's native length
  (``sample_size x VAE scale x vocoder hop / rate``: 10.24 s for the released model).
  Shortest: the pipeline refuses less than ``VAE scale x vocoder hop / rate`` (40 ms for the
  released model), so shorter requests generate that much and are cropped.
- Seed: a ``torch.Generator`` passed to the pipeline. Progress: the pipeline's step callback.
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

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any) -> Any:
        return load_diffusers_pipeline(path, "AudioLDM2Pipeline", device, dtype)

    def _describe(self, pipe: Any) -> dict[str, Any]:
        vocoder = pipe.vocoder.config
        rate = int(vocoder.sampling_rate)
        hop = math.prod(vocoder.upsample_rates)
        max_s = pipe.unet.config.sample_size * pipe.vae_scale_factor * hop / rate
        self._min_s = (hop / rate) * pipe.vae_scale_factor  # same arithmetic as the pipeline's own check
        return {"sample_rate": rate, "channels": 1, "max_clip_s": max_s}

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return opts["steps"] or DEFAULT_STEPS

    def _run(self, pipe: Any, prompt: str, *, duration_s: float, seed: int,
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
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
                num_waveforms_per_prompt=1,
                generator=torch_generator(self.device, seed),
                output_type="np",
                **diffusers_step_kwargs(pipe, step),
            )
        return out.audios[0], ()
