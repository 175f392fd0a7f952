"""The ``procedural`` audio backend: offline synthesis of the 40 catalogue layer types."""

from __future__ import annotations

import math
from typing import Any, Optional

from studio.errors import InputError
from studio.sounds.catalogue import BY_NAME
from studio.types import AudioClip, MAX_SEED, Progress

MAX_CLIP_S = 3600.0
MIN_CLIP_S = 0.01


class ProceduralBackend:
    """Procedural synthesis; no model, no network, any length.

    ``generate(prompt, duration_s=, seed=, progress=None, **params)`` returns a float32 stereo
    :class:`AudioClip` of exactly ``round(duration_s * 48000)`` frames. ``params`` are listed
    in :mod:`studio.generation.procedural.params`; ``type`` picks the generator, otherwise
    the prompt is matched to the catalogue by MiniLM similarity. Unknown keys are ignored.
    """

    name = "procedural"
    sample_rate = 48_000
    max_clip_s = MAX_CLIP_S

    @classmethod
    def create(cls, **opts: Any) -> "ProceduralBackend":
        return cls()

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        return True, "ready (built in, no model needed)"

    # ------------------------------------------------------------------ public

    def generate(self, prompt: str, *, duration_s: float, seed: int, progress: Optional[Progress] = None, **params: Any) -> AudioClip:
        from studio.generation.procedural import engine

        n = self._frames(duration_s)
        seed = self._seed(seed)
        gen, p, _sim = self._resolve(prompt, params)
        samples = engine.render(gen, p, n=n, seed=seed, sr=self.sample_rate, progress=progress)
        return AudioClip(samples, self.sample_rate)

    def metadata(self, prompt: str, **params: Any) -> dict[str, Any]:
        """What ``generate`` would do with these arguments, without synthesising anything:
        ``generator``, ``similarity`` (None when ``type`` was given), ``weak_match``,
        ``match_threshold``, ``description``, the resolved ``params`` and, when there is
        something to tell the user (a weak match, an ignored ``loop``), ``notes`` (a list;
        a weak match also sets ``warning``)."""
        from studio.generation.procedural.matching import WEAK_MATCH_THRESHOLD

        gen, p, sim = self._resolve(prompt, params)
        weak = sim is not None and sim < WEAK_MATCH_THRESHOLD
        meta: dict[str, Any] = {
            "generator": gen.name,
            "similarity": None if sim is None else round(sim, 4),
            "weak_match": weak,
            "match_threshold": WEAK_MATCH_THRESHOLD,
            "description": BY_NAME[gen.name].description,
            "params": p,
        }
        if weak:
            meta["warning"] = (
                f"weak match: {prompt!r} is not close to any procedural layer type "
                f"(best {gen.name!r} at similarity {sim:.2f} < {WEAK_MATCH_THRESHOLD}); "
                "set params.type to choose one"
            )
        notes = [m for m in (meta.get("warning"), p.get("note")) if m]
        if notes:
            meta["notes"] = notes  # the UI's layer facts show stem metadata "notes"
        return meta

    # ------------------------------------------------------------------ helpers

    def _frames(self, duration_s: Any) -> int:
        if isinstance(duration_s, bool):
            raise InputError(f"duration_s must be a number of seconds; got {duration_s!r}")
        try:
            d = float(duration_s)
        except (TypeError, ValueError):
            raise InputError(f"duration_s must be a number of seconds; got {duration_s!r}") from None
        if not math.isfinite(d) or not MIN_CLIP_S <= d <= MAX_CLIP_S:
            raise InputError(f"duration_s must be between {MIN_CLIP_S:g} and {MAX_CLIP_S:g} seconds; got {duration_s!r}")
        return int(round(d * self.sample_rate))

    @staticmethod
    def _seed(seed: Any) -> int:
        if isinstance(seed, bool) or not hasattr(seed, "__index__"):
            raise InputError(f"seed must be an integer 0..{MAX_SEED}; got {seed!r}")
        s = int(seed)
        if not 0 <= s <= MAX_SEED:
            raise InputError(f"seed must be an integer 0..{MAX_SEED}; got {seed!r}")
        return s

    def _resolve(self, prompt: str, params: dict[str, Any]):
        from studio.generation.procedural.generators import GENERATORS
        from studio.generation.procedural.params import UNIT_PARAMS, resolve_params

        type_name = params.get("type")
        sim: Optional[float] = None
        if type_name is None or (isinstance(type_name, str) and not type_name.strip()):
            if not str(prompt or "").strip():
                raise InputError("give a prompt describing the sound, or params.type naming a procedural layer type")
            from studio.generation.procedural.matching import best_match

            type_name, sim = best_match(str(prompt))
        type_name = str(type_name).strip()
        if type_name not in GENERATORS:
            raise InputError(f"unknown procedural type {type_name!r}; choose one of: {', '.join(BY_NAME)}")
        gen = GENERATORS[type_name]
        p = resolve_params(str(prompt or ""), params, type_name=type_name, default_events_per_min=gen.events_per_min)
        # keep what this generator uses (every key was validated), so metadata stays readable
        tonal_keys = {"key", "mode", "fundamental_hz", "band", "beat_hz", "carrier_hz"}
        p = {k: v for k, v in p.items() if k not in tonal_keys or k in gen.params}
        p = {k: v for k, v in p.items() if k not in UNIT_PARAMS or k in gen.units}
        if "breaths_per_min" not in p:
            p.pop("breath_depth", None)
        return gen, p, sim
