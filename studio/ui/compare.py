"""Variants for the Compare page, free of Streamlit.

A variant is the session's caption rendered with its own seed, style, planner and (optionally)
one backend for every layer, mastered with the Studio's loudness and fades. Its mix is written
to the session's folder (no audio kept in memory) and played from there; players are matched in
loudness (each brought down to the quietest variant's integrated LUFS) so the louder take does
not win by being louder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from studio.types import Caption, LayerSource, ScenePlan, Soundscape
from studio.ui.engine import CHUNK_FRAMES, NullReporter, Reporter, loudness_match_gain_db

AS_PLANNED = "as planned"
MIN_VARIANTS, MAX_VARIANTS = 2, 4


@dataclass(frozen=True)
class VariantConfig:
    """What differs between variants. ``backend`` None keeps each layer's planned backend."""

    style: str
    seed: int
    planner: str = "rules"
    backend: Optional[str] = None
    duration_s: float = 30.0

    @property
    def label(self) -> str:
        parts = [self.style, f"seed {self.seed}", self.planner]
        if self.backend:
            parts.append(self.backend)
        return " · ".join(parts)


@dataclass
class Variant:
    config: VariantConfig
    plan: ScenePlan
    sources: tuple[LayerSource, ...]
    soundscape: Soundscape
    mix_path: Path  # the mastered mix, 24-bit FLAC in the session's folder
    notes: list[str] = field(default_factory=list)

    def samples(self) -> np.ndarray:
        """The mix read back from its file, float32 (2, frames) (variants are minutes long)."""
        import soundfile as sf

        data, _ = sf.read(str(self.mix_path), dtype="float32", always_2d=True)
        return data.T

    @property
    def integrated_lufs(self) -> Optional[float]:
        value = self.soundscape.master.get("integrated_lufs")
        return float(value) if isinstance(value, (int, float)) else None


def render_variant(
    caption: Caption,
    config: VariantConfig,
    *,
    captioner: str = "analysis",
    master: Optional[Mapping[str, Any]] = None,
    reporter: Optional[Reporter] = None,
    folder: Optional[Path] = None,
) -> Variant:
    """Plan and render one variant with its own pipeline (so its fallback notes are its own).
    ``master`` overrides MasterSpec fields: the Studio's loudness and fades. The mix is written
    under ``folder`` (a temp folder when None)."""
    from studio.mixing import resolve_events
    from studio.pipeline import SoundscapePipeline
    from studio.ui.engine import StudioSession

    pipe = SoundscapePipeline(captioner=captioner, planner=config.planner)
    plan = pipe.plan(caption, style=config.style, duration_s=config.duration_s, seed=config.seed)
    if config.backend:
        layers = tuple(l.model_copy(update={"backend": config.backend, "model": None}) for l in plan.layers)
        plan = plan.model_copy(update={"layers": layers})
    if master:
        plan = plan.model_copy(update={"master": plan.master.model_copy(update=dict(master))})
    plan = resolve_events(plan)
    # One throwaway session does the per-layer generation and mix with progress.
    scratch = None
    if folder is None:  # not the throwaway session's own temp folder: the variant holds the mix
        from studio.scratch import scratch_dir

        folder = scratch = scratch_dir("studio-variant-")
    work = StudioSession(pipeline=pipe, work_dir=folder)
    work.caption = caption
    scape = work.generate(plan, reporter or NullReporter())
    sources = tuple(work.sources[l.name] for l in scape.plan.layers)
    notes = scape.notes(pipe.notes)
    variant = Variant(config=config, plan=scape.plan, sources=sources, soundscape=scape, mix_path=work.mix_path(), notes=notes)
    if scratch is not None:
        from studio.scratch import remove_with

        remove_with(variant, scratch)
    return variant


def matched_previews(variants: list[Variant]) -> tuple[list[Path], list[float]]:
    """A FLAC file per variant at matched loudness (next to its mix, written once, streamed),
    and the gain (dB, <= 0) applied to each."""
    import soundfile as sf

    gains = loudness_match_gain_db([v.integrated_lufs for v in variants])
    previews = []
    for v, g in zip(variants, gains):
        path = v.mix_path.with_name(f"preview{g:+.2f}dB.flac")
        if not path.exists():
            scale = np.float32(10 ** (g / 20))
            with sf.SoundFile(str(v.mix_path)) as src, sf.SoundFile(str(path), "w", src.samplerate, src.channels, "PCM_24", format="FLAC") as dst:
                for block in src.blocks(blocksize=CHUNK_FRAMES, dtype="float32", always_2d=True):
                    dst.write(block * scale)
        previews.append(path)
    return previews, gains


# Metadata keys that hold CLAP scores: the pipeline's ``take_scores`` (CLAP text-audio
# similarity of each take, best first) and any ``clap*`` key a backend records. Other scores
# (a procedural or sample-folder ``similarity`` is a MiniLM text match) are not CLAP's.
SCORE_KEYS = ("take_scores",)
SCORE_PREFIX = "clap"


def take_scores(variant: Variant) -> list[dict[str, Any]]:
    """CLAP take scores the pipeline/backends recorded in each layer's metadata: one row per
    layer and key, ``value`` the scores formatted to 3 decimals (best take first)."""
    rows = []
    for source in variant.sources:
        for key, value in dict(source.metadata).items():
            if (key in SCORE_KEYS or key.lower().startswith(SCORE_PREFIX)) and _scalarish(value):
                rows.append({"layer": source.spec.name, "score": key, "value": _fmt(value)})
    return rows


def _scalarish(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value) and 0 < len(value) <= 16


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(f"{float(v):.3f}" for v in value)
    return f"{float(value):.3f}"
