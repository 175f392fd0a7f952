"""Stable Audio Open (diffusers ``StableAudioPipeline``), default
``stabilityai/stable-audio-open-1.0``.

The weights are gated: accept the Stability AI Community License on the model page, then
``hf auth login`` (or set ``HF_TOKEN``) and run
``python -m studio models download stabilityai/stable-audio-open-1.0`` (see docs/models.md).

- Rate: the VAE's (44.1 kHz), stereo. Longest clip per call: ``sample_size x VAE hop /
  rate`` (47.55 s for the released model).
- Seed: one ``torch.Generator`` per take passed to the pipeline, so take ``i`` of a batch
  (``num_waveforms_per_prompt``) is the take a single call with its seed makes. Progress: the
  pipeline's step callback.
- Longer requests are clamped; long beds are built by the mixer from several independent takes.
- dtype: fp16 on CUDA (the model card's diffusers example), fp32 on CPU; ``cpu_offload``
  keeps sub-models off the GPU until used.
- ``negative_prompt``, ``steps`` (default 100) and ``guidance_scale`` (default 7) apply.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from studio.generation.neural_base import NeuralBackend, diffusers_step_kwargs, load_diffusers_pipeline

DEFAULT_STEPS = 100
DEFAULT_GUIDANCE = 7.0


class StableAudioBackend(NeuralBackend):
    name = "stable-audio"
    label = "Stable Audio"
    default_model_id = "stabilityai/stable-audio-open-1.0"
    # torchsde: without it diffusers swaps the SDE scheduler for a dummy that raises
    required_modules = ("torch", "transformers", "diffusers", "torchsde")
    load_hint = (
        "the weights are gated: accept the licence at https://huggingface.co/stabilityai/stable-audio-open-1.0 "
        "and log in with `hf auth login` (or set HF_TOKEN) first"
    )
    supports_negative_prompt = True
    supports_steps = True
    per_take_seeds = True
    supports_cpu_offload = True

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any, **options: Any) -> Any:
        return load_diffusers_pipeline(path, "StableAudioPipeline", device, dtype, **options)

    def _describe(self, pipe: Any) -> dict[str, Any]:
        rate = int(pipe.vae.sampling_rate)
        max_s = pipe.transformer.config.sample_size * pipe.vae.hop_length / rate
        return {"sample_rate": rate, "channels": int(pipe.vae.config.audio_channels), "max_clip_s": max_s}

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return opts["steps"] or DEFAULT_STEPS

    def _run(self, pipe: Any, prompt: str, *, duration_s: float, n: int, seeds: list[int],
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[list, tuple[str, ...]]:
        import torch

        from studio.devices import torch_generator

        guidance = opts["guidance_scale"] if opts["guidance_scale"] is not None else DEFAULT_GUIDANCE
        with torch.inference_mode(), warnings.catch_warnings():
            # torchsde's Brownian interval warns about float rounding at the interval ends on
            # every call ("Should have tb>=t0"); harmless, and noise on the user's console
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torchsde\.")
            out = pipe(
                prompt,
                negative_prompt=opts["negative_prompt"],
                num_inference_steps=opts["steps"] or DEFAULT_STEPS,
                guidance_scale=guidance,
                audio_start_in_s=0.0,
                audio_end_in_s=min(duration_s, self.max_clip_s),
                num_waveforms_per_prompt=n,
                generator=[torch_generator(self.device, s) for s in seeds],
                output_type="pt",
                **diffusers_step_kwargs(pipe, step),
            )
        return list(out.audios), ()
