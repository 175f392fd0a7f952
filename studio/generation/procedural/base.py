"""The generator contract shared by every family module.

A generator is a function ``bed(ctx) -> float32 (2, ctx.n)`` that renders a stretch of its
texture, and optionally ``event(ctx) -> float32 (2, ctx.n)`` that renders ONE event (a
thunder roll, an owl call, a bowl strike) starting near t=0 and decaying by the end. Family
modules register them with :func:`generator`; the engine adds chunking, looping, distance,
brightness, the breathing swell and the final level/DC/fade clean-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from studio.generation.procedural.dsp import SR, make_rng


@dataclass
class Ctx:
    """What a generator gets.

    - ``n``: frames to render at ``sr`` (48 kHz);
    - ``p``: resolved parameters (see :mod:`.params`);
    - ``rng``: the random stream for this chunk (chunks of long renders get their own);
    - ``fixed_rng(*keys)``: a stream that is the same in every chunk of one render, for
      choices that must not change mid-track (a chord voicing, a bird's voice, a bowl's pitch);
    - ``t0_s``: absolute start time of this chunk, for phase-continuous tones.
    """

    n: int
    p: dict[str, Any]
    seed: int
    type_name: str
    rng: np.random.Generator
    t0_s: float = 0.0
    sr: int = SR
    loop_n: Optional[int] = None  # when looping: the clip length, for generators that can be exactly periodic
    total_n: int = 0  # frames in the whole render (all chunks), for generators that tile a period

    @property
    def duration_s(self) -> float:
        return self.n / self.sr

    def fixed_rng(self, *keys: int | str) -> np.random.Generator:
        return make_rng(self.seed, self.type_name, "fixed", *keys)

    def u(self, name: str) -> float:
        """A 0..1 unit parameter (intensity, distance, brightness, density)."""
        return float(self.p[name])


Render = Callable[[Ctx], np.ndarray]


@dataclass(frozen=True)
class Generator:
    name: str
    bed: Render
    event: Optional[Render] = None
    events_per_min: Optional[float] = None  # natural rate of internal events, if any
    coherent: bool = False  # a pure function of absolute time: chunk seams cross-fade linearly
    colour: bool = True  # apply generic distance / brightness shaping
    params: tuple[str, ...] = field(default_factory=tuple)  # type-specific params it reads
    impulsive: bool = False  # sparse clicks/taps: transient peaks are softly limited, see engine
    # the 0..1 parameters that shape this type (docs/procedural.md says how, per type); the
    # noise colours and binaural beats are defined by their spectra and take none of them
    units: tuple[str, ...] = ("intensity", "distance", "brightness", "density")


GENERATORS: dict[str, Generator] = {}


def generator(name: str, **opts: Any) -> Callable[[Render], Render]:
    """Register ``fn`` as the bed renderer of ``name``; ``event=`` adds a one-shot renderer."""

    def deco(fn: Render) -> Render:
        GENERATORS[name] = Generator(name=name, bed=fn, **opts)
        return fn

    return deco
