"""Several takes of one layer, ranked by CLAP text-audio similarity when CLAP is present.

A neural backend makes all takes in one batched model call (``generate_batch``:
``num_waveforms_per_prompt`` for the diffusers models, a prompt batch for MusicGen and
AudioGen); other backends are called once per take.

- Per-take seeds (diffusers backends, the procedural engine, samples): take ``i`` uses seed
  ``(seed + i) mod 2**32``, so take 0 is what a single generation with ``seed`` gives and any
  take can be re-rendered alone from its recorded seed.
- One RNG per batch (MusicGen, AudioGen sample all takes together): every take records the
  batch's ``seed`` and ``batch_size``; the batch is re-rendered from those, take ``index`` of it.

With a scorer the takes come back best first (ties keep generation order); without one they
keep generation order with ``score=None``, for the user to choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from studio.errors import InputError
from studio.types import MAX_SEED, AudioClip, Progress, scaled_progress

MAX_TAKES = 16


@dataclass(frozen=True, eq=False)
class Take:
    """One generated take: its audio, the seed that made it, its CLAP score (None when
    unranked), its position in generation order and ``batch_size``: 1 when ``seed`` alone
    re-renders it, else the size of the batch that ``seed`` re-renders (take ``index`` of it)."""

    clip: AudioClip
    seed: int
    score: Optional[float] = None
    index: int = 0
    batch_size: int = 1


def take_seed(seed: int, index: int) -> int:
    return (int(seed) + int(index)) % (MAX_SEED + 1)


def generate_takes(
    backend: Any,
    prompt: str,
    *,
    n: int,
    duration_s: float,
    seed: int,
    scorer: Any = None,
    progress: Optional[Progress] = None,
    **params: Any,
) -> list[Take]:
    """``n`` takes of ``prompt`` from ``backend`` (1..16), best first when scored.

    ``scorer``: an object with ``score(text, clips) -> array`` (e.g.
    :class:`studio.evaluation.clap.ClapScorer`); None uses the default CLAP model when it is
    in the local cache (never downloads); False never ranks. ``params`` go to
    ``backend.generate``. Progress: generation takes 0..0.9 (0..1 without a scorer), scoring
    the rest.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_TAKES:
        raise InputError(f"number of takes must be an integer in 1..{MAX_TAKES}; got {n!r}")
    if scorer is None:
        from studio.evaluation.clap import ClapScorer

        scorer = ClapScorer.if_available()
    elif scorer is False:
        scorer = None
    gen_share = 0.9 if scorer is not None else 1.0
    takes: list[Take] = []
    batch = getattr(backend, "generate_batch", None)
    if callable(batch):
        clips = batch(prompt, n=n, duration_s=duration_s, seed=seed,
                      progress=scaled_progress(progress, 0.0, gen_share), **params)
        per_take = bool(getattr(backend, "per_take_seeds", True)) or n == 1
        for i, clip in enumerate(clips):
            if per_take:
                takes.append(Take(clip=clip, seed=take_seed(seed, i), index=i))
            else:
                takes.append(Take(clip=clip, seed=int(seed), index=i, batch_size=n))
    else:
        for i in range(n):
            sub = scaled_progress(progress, gen_share * i / n, gen_share * (i + 1) / n)
            s = take_seed(seed, i)
            clip = backend.generate(prompt, duration_s=duration_s, seed=s, progress=sub, **params)
            takes.append(Take(clip=clip, seed=s, index=i))
    if scorer is None:
        if progress:
            progress(1.0, f"{n} takes, unranked (CLAP not available)")
        return takes
    if progress:
        progress(gen_share, "ranking takes with CLAP")
    scores = [float(x) for x in scorer.score(prompt, [t.clip for t in takes])]
    ranked = [Take(clip=t.clip, seed=t.seed, score=sc, index=t.index, batch_size=t.batch_size)
              for t, sc in zip(takes, scores)]
    ranked.sort(key=lambda t: (-t.score, t.index))
    if progress:
        progress(1.0, f"{n} takes ranked by CLAP")
    return ranked
