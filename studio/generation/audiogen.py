"""AudioGen (audiocraft), default ``facebook/audiogen-medium``: an optional extra.

audiocraft pins torch 2.1 and does not install beside this project's torch; docs/models.md
gives the recipe that works. When ``audiocraft`` is not importable the backend reports itself
unavailable (``availability()``) and loading raises a ModelUnavailableError saying so.

- Rate: 16 kHz mono. Window: the model's ``max_duration`` (10 s). Longer requests (up to
  60 min) use audiocraft's own continuation: ``set_generation_params(duration=D,
  extend_stride=0.6 x window)`` makes audiocraft prompt each next window with the last 40 %
  of the tokens so far. The continuation happens on the token stream, which is decoded once,
  so there is no audio seam to cross-fade. The metadata records window, stride and overlap.
- Takes: ``generate_batch`` passes ``n`` copies of the prompt as one batch.
- Seed: audiocraft samples with the global torch RNG, so generation runs inside a forked RNG
  seeded with the layer's seed (:func:`studio.devices.seeded_torch_rng`).
- Progress: audiocraft's custom progress callback (generated / total tokens). audiocraft only
  calls it when ``generate(..., progress=True)``, so that is what we pass.
- ``guidance_scale`` maps to audiocraft's ``cfg_coef`` (default 3), ``temperature`` and
  ``top_k`` (default 250) apply; AudioGen has no negative prompt and no steps.
"""

from __future__ import annotations

from typing import Any, Callable

from studio.generation.long_form import DEFAULT_OVERLAP
from studio.generation.neural_base import NeuralBackend

INSTALL_HINT = "AudioGen is an optional extra: install audiocraft as described in docs/models.md"
TEXT_ENCODER_ID = "t5-large"  # what audiocraft's T5 conditioner loads through transformers


class AudioGenBackend(NeuralBackend):
    name = "audiogen"
    label = "AudioGen"
    default_model_id = "facebook/audiogen-medium"
    required_modules = ("torch", "audiocraft")
    install_hint = INSTALL_HINT
    continues = True
    load_hint = (
        f"its text encoder {TEXT_ENCODER_ID!r} must be in the cache too "
        f"(`python -m studio models download {TEXT_ENCODER_ID}`)"
    )

    @classmethod
    def availability(cls, model_id: str | None = None) -> tuple[bool, str]:
        """As every backend, and the T5 text encoder audiocraft loads must be cached too."""
        ok, reason = super().availability(model_id)
        if not ok or (model_id or cls.default_model_id) == "debug":
            return ok, reason
        from studio.hf import local_model_path

        if local_model_path(TEXT_ENCODER_ID) is None:
            return False, (
                f"AudioGen's text encoder {TEXT_ENCODER_ID!r} is not in the local Hugging Face cache; "
                f"run `python -m studio models download {TEXT_ENCODER_ID}`"
            )
        return ok, reason

    @classmethod
    def _resolve(cls, model_id: str) -> str:
        if model_id == "debug":  # audiocraft's built-in tiny random model, for tests
            return model_id
        return super()._resolve(model_id)

    @classmethod
    def _load(cls, path: str, device: str, dtype: Any, **options: Any) -> Any:
        import os

        from audiocraft.models import AudioGen

        # audiocraft's checkpoints are full pickles, which torch >= 2.6 refuses by default
        # (weights_only=True). Allow them only for Meta's official checkpoints (and the
        # built-in debug model); any other checkpoint needs the user's own opt-in
        # (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1), because unpickling can run code.
        trusted = path == "debug" or path.startswith("facebook/") or "/models--facebook--" in path
        previous = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
        if trusted:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
        try:
            model = AudioGen.get_pretrained(path, device=device)
        finally:
            if trusted:
                if previous is None:
                    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
                else:
                    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = previous
        return {"model": model}

    def _describe(self, components: Any) -> dict[str, Any]:
        model = components["model"]
        self._frame_rate = float(model.frame_rate)
        return {
            "sample_rate": int(model.sample_rate),
            "channels": int(getattr(model, "audio_channels", 1)),
            "max_clip_s": float(model.max_duration),
        }

    def _extend_stride_s(self) -> float:
        return round(self.max_clip_s * (1 - DEFAULT_OVERLAP), 3)

    def long_form(self, duration_s: float) -> dict[str, Any]:
        import math

        if duration_s <= self.max_clip_s:
            return {}
        stride = self._extend_stride_s()
        return {
            "long_form": "continuation (audiocraft extend_stride)",
            "window_s": round(self.max_clip_s, 3),
            "stride_s": stride,
            "overlap_s": round(self.max_clip_s - stride, 3),
            "windows": 1 + int(math.ceil((duration_s - self.max_clip_s) / stride - 1e-9)),
        }

    def _total_steps(self, duration_s: float, opts: dict[str, Any]) -> int:
        return max(1, int(round(duration_s * self._frame_rate)))

    def _run(self, components: Any, prompt: str, *, duration_s: float, n: int, seeds: list[int],
             step: Callable[[int], None], opts: dict[str, Any]) -> tuple[list, tuple[str, ...]]:
        import torch

        from studio.devices import seeded_torch_rng
        from studio.generation.long_form import MAX_DURATION_S

        if duration_s > MAX_DURATION_S:
            from studio.errors import InputError

            raise InputError(f"duration_s must be at most {MAX_DURATION_S:g} s for AudioGen; got {duration_s:g}")
        model = components["model"]
        params = dict(
            duration=duration_s,
            use_sampling=True,
            top_k=opts["top_k"] if opts["top_k"] is not None else 250,
            temperature=opts["temperature"] if opts["temperature"] is not None else 1.0,
            cfg_coef=opts["guidance_scale"] if opts["guidance_scale"] is not None else 3.0,
        )
        if duration_s > self.max_clip_s:
            params["extend_stride"] = self._extend_stride_s()
        model.set_generation_params(**params)
        total = self._total_steps(duration_s, opts)
        # audiocraft calls back once per generated token frame; when extending, its
        # ``generated`` restarts within each window, so count the calls instead (the windows'
        # new tokens add up to duration x frame rate)
        done = [0]

        def _on_token(_generated: int, _to_generate: int) -> None:
            done[0] += 1
            step(min(done[0], total))

        model.set_custom_progress_callback(_on_token)
        notes = []
        if opts["negative_prompt"]:
            notes.append("negative_prompt ignored: AudioGen has no negative prompt")
        with torch.inference_mode(), seeded_torch_rng(self.device, seeds[0]):
            # audiocraft calls the progress callback only with progress=True
            wav = model.generate([prompt] * n, progress=True)
        self._last_long = self.long_form(duration_s)
        return list(wav), tuple(notes)
