"""Text-to-image with diffusers: default ``stabilityai/sd-turbo`` (one step, no guidance),
with SD 1.5 and SDXL-class models as choices.

``DiffusionImager.from_pretrained(model_id)`` loads through ``AutoPipelineForText2Image``
(the class named in the folder's ``model_index.json``: ``StableDiffusionPipeline`` for sd-turbo
and SD 1.5, ``StableDiffusionXLPipeline`` for SDXL), from the local Hugging Face cache or a
folder; a missing model is a ModelUnavailableError that says how to get it. Turbo models run
``TURBO_STEPS`` steps at guidance 0 (how they were distilled); others ``STEPS`` at ``GUIDANCE``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from studio.errors import BackendError, InputError, ModelUnavailableError, first_line

MODEL_IDS = (
    "stabilityai/sd-turbo",
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "stabilityai/sdxl-turbo",
    "stabilityai/stable-diffusion-xl-base-1.0",
)
TURBO_STEPS, STEPS, GUIDANCE = 1, 25, 7.5
MIN_SIDE, MAX_SIDE = 64, 2048


def check_size(width: Any, height: Any) -> tuple[int, int]:
    """Image sides in pixels: integers, multiples of 8, ``MIN_SIDE``..``MAX_SIDE``."""
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_SIDE <= v <= MAX_SIDE or v % 8:
            raise InputError(f"{name} must be a multiple of 8 between {MIN_SIDE} and {MAX_SIDE} pixels; got {v!r}")
    return int(width), int(height)


class DiffusionImager:
    name = "diffusion"
    default_model_id: ClassVar[str] = MODEL_IDS[0]

    def __init__(self, pipe: Any, *, model_id: str = default_model_id, device: str = "cpu") -> None:
        self.pipe = pipe
        self.model_id = model_id
        self.device = device
        self.turbo = "turbo" in model_id.lower() or "turbo" in str(getattr(pipe, "name_or_path", "")).lower()

    @classmethod
    def create(cls, **opts: Any) -> "DiffusionImager":
        return cls.from_pretrained(opts.get("model_id") or cls.default_model_id, device=opts.get("device", "auto"),
                                   turbo=opts.get("turbo"))

    @classmethod
    def from_pretrained(cls, model_id: str = default_model_id, *, device: str = "auto",
                        turbo: Optional[bool] = None) -> "DiffusionImager":
        """Load ``model_id``; ``turbo`` (default: "turbo" in the id) picks the one-step schedule."""
        from studio.devices import pick_device
        from studio.hf import load_error, require_model

        try:
            import torch
            from diffusers import AutoPipelineForText2Image
        except ImportError as exc:
            raise ModelUnavailableError(f"text-to-image needs {exc.name}; run `pip install -r requirements-neural.txt`") from None
        resolved = pick_device(device)
        path = require_model(model_id, what="text-to-image")
        dtype = torch.float16 if resolved == "cuda" else torch.float32
        try:
            pipe = AutoPipelineForText2Image.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise load_error(model_id, what="text-to-image", exc=exc) from None
        pipe = pipe.to(resolved)
        pipe.set_progress_bar_config(disable=True)
        imager = cls(pipe, model_id=model_id, device=resolved)
        if turbo is not None:
            imager.turbo = bool(turbo)
        return imager

    @classmethod
    def availability(cls, model_id: Optional[str] = None) -> tuple[bool, str]:
        import importlib.util

        from studio.hf import local_model_path

        if importlib.util.find_spec("diffusers") is None:
            return False, "needs diffusers; run `pip install -r requirements-neural.txt`"
        mid = model_id or cls.default_model_id
        if local_model_path(mid) is None:
            return False, f"{mid!r} is not in the local cache; run `python -m studio models download {mid}`"
        return True, f"ready ({mid})"

    def generate(self, prompt: str, *, negative_prompt: str = "", width: int = 512, height: int = 512, seed: int = 0):
        """One PIL image of exactly ``width`` × ``height`` for ``prompt``."""
        import torch

        width, height = check_size(width, height)
        steps, guidance = (TURBO_STEPS, 0.0) if self.turbo else (STEPS, GUIDANCE)
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        kwargs: dict[str, Any] = {}
        if guidance > 0 and negative_prompt:
            kwargs["negative_prompt"] = negative_prompt
        try:
            out = self.pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, width=width, height=height,
                            generator=generator, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"text-to-image with {self.model_id!r} failed: {first_line(exc)}") from None
        return out.images[0].convert("RGB")
