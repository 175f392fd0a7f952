"""Offline measures of a rendered soundscape: no CLIP or CLAP involved, and never labelled as
such (docs/evaluation.md).

- ``loudness_range_lu``: EBU Tech 3342 loudness range (LRA) from the K-weighted 100 ms hop
  energies of :class:`studio.mixing.loudness.LoudnessMeter`: 3 s short-term blocks sliding by
  100 ms, absolute gate -70 LUFS, relative gate -20 LU, spread between the 10th and 95th
  percentiles.
- ``caption_plan_agreement``: MiniLM cosine between the caption and each layer's prompt
  (the packaged sentence model, studio.text_embed), and their mean.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

LRA_BLOCK_S = 3.0
LRA_RELATIVE_GATE_LU = -20.0
LRA_LOW_PCT, LRA_HIGH_PCT = 10.0, 95.0


def loudness_range_lu(hop_energy: np.ndarray, hop_frames: int, sample_rate: int) -> Optional[float]:
    """LRA in LU from ``(3, hops)`` hop energies (L², R², (L+R)²); None when the signal is
    shorter than one 3 s block or entirely below the absolute gate."""
    from studio.mixing.loudness import ABSOLUTE_GATE_LUFS, HOP_S, blocks_from_hops

    stereo = np.asarray(hop_energy, np.float64)[0] + np.asarray(hop_energy, np.float64)[1]
    hops_per_block = int(round(LRA_BLOCK_S / HOP_S))
    if stereo.shape[-1] < hops_per_block:
        return None
    power = blocks_from_hops(stereo, hop_frames, hops_per_block)
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10.0 * np.log10(power)
    lufs = lufs[lufs >= ABSOLUTE_GATE_LUFS]
    if lufs.size == 0:
        return None
    relative = -0.691 + 10.0 * np.log10(np.mean(10.0 ** ((lufs + 0.691) / 10.0))) + LRA_RELATIVE_GATE_LU
    kept = lufs[lufs >= relative]
    low, high = np.percentile(kept, [LRA_LOW_PCT, LRA_HIGH_PCT])
    return float(high - low)


def caption_plan_agreement(caption: str, prompts: Sequence[str]) -> dict[str, Any]:
    """MiniLM cosine (-1..1) between ``caption`` and each prompt: ``{"layers": [...], "mean": x}``."""
    from studio.text_embed import embed

    vecs = embed([caption, *prompts])
    sims = [float(np.clip(v @ vecs[0], -1.0, 1.0)) for v in vecs[1:]]
    return {"layers": sims, "mean": float(np.mean(sims)) if sims else None}
