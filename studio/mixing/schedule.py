"""Foreground event scheduling: turn an :class:`EventSpec` request into times, pans and takes.

Everything random here is drawn from the layer's own ``seed`` (a separate stream per purpose),
so a layer's schedule depends on nothing else and the manifest reproduces it exactly.

Definitions (also in docs/mixing.md):

- an event occupies ``[t, t + event_s)``; every event ends at least :data:`END_MARGIN_S`
  before the track ends;
- ``min_gap_s`` is the silence between the end of one event and the start of the next, so
  ``t[i+1] - t[i] >= event_s + min_gap_s``;
- with ``count`` the layer gets exactly ``count`` events (a :class:`PlanError` says how many fit
  when they cannot); onsets are spread evenly and then randomised by ``jitter`` (0 = a regular
  grid, 1 = uniformly random subject to the gap);
- without ``count`` onsets follow intervals ``mean_interval_s * (1 + jitter * u)``, ``u`` uniform
  in -1..1, never closer than the gap; the first onset falls in the first interval;
- pans are uniform within ``pan_range``; takes cycle through shuffled rounds of all takes, never
  repeating a take back to back when more than one exists.

Times are kept in whole milliseconds so they survive JSON exactly and the spacing checks are exact.
"""

from __future__ import annotations

import math

import numpy as np

from studio.errors import PlanError
from studio.types import EventSpec, LayerSpec, ScenePlan

END_MARGIN_S = 0.01

# Stream ids mixed into a layer seed, one per purpose, so adding a draw to one purpose never
# changes another's numbers.
STREAM_TIMES = 0x7E11
STREAM_PANS = 0x9A45
STREAM_TAKES = 0x7A6E
STREAM_BED = 0xBED5


def layer_rng(seed: int, stream: int) -> np.random.Generator:
    """A generator for one purpose of one layer: ``SeedSequence([seed, stream])``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream)]))


def _ms(x: float) -> int:
    return int(math.ceil(round(x * 1000.0, 6)))


def schedule_times(spec: EventSpec, duration_s: float, seed: int, layer: str = "layer") -> tuple[float, ...]:
    """Event onsets in seconds for one layer (see module docstring for the rules)."""
    rng = layer_rng(seed, STREAM_TIMES)
    event_ms = _ms(spec.event_s)
    step_ms = event_ms + _ms(spec.min_gap_s)
    latest_ms = int(math.floor((duration_s - spec.event_s - END_MARGIN_S) * 1000.0))
    if spec.count is not None:
        n = int(spec.count)
        if n == 0:
            return ()
        fits = 0 if latest_ms < 0 else 1 + latest_ms // step_ms
        if n > fits:
            raise PlanError(
                f"layer {layer!r}: {n} events of {spec.event_s:g} s with a {spec.min_gap_s:g} s gap "
                f"do not fit in {duration_s:g} s; at most {fits} fit (lower count, event_s or min_gap_s)"
            )
        slack = latest_ms - (n - 1) * step_ms
        grid = (np.arange(n) + 0.5) * slack / n
        random = np.sort(rng.uniform(0.0, slack, size=n))
        # A convex blend of two sorted sequences in [0, slack] is sorted and stays in range.
        base = np.floor((1.0 - spec.jitter) * grid + spec.jitter * random).astype(np.int64)
        base = np.clip(base, 0, slack)
        onsets = base + np.arange(n) * step_ms
        return tuple(float(t) / 1000.0 for t in onsets)
    if latest_ms < 0:
        return ()
    mean_ms = spec.mean_interval_s * 1000.0
    onsets: list[int] = []
    t = int(math.floor(rng.uniform(0.0, 1.0) * mean_ms))
    while t <= latest_ms:
        onsets.append(t)
        interval = mean_ms * (1.0 + spec.jitter * rng.uniform(-1.0, 1.0))
        t = max(t + step_ms, t + int(math.floor(interval)))
    return tuple(float(v) / 1000.0 for v in onsets)


def schedule_pans(spec: EventSpec, n: int, seed: int) -> tuple[float, ...]:
    lo, hi = spec.pan_range
    rng = layer_rng(seed, STREAM_PANS)
    return tuple(float(round(p, 3)) for p in rng.uniform(lo, hi, size=n))


def schedule_takes(takes: int, n: int, seed: int) -> tuple[int, ...]:
    """Shuffled rounds of ``range(takes)``; no take twice in a row when ``takes > 1``."""
    rng = layer_rng(seed, STREAM_TAKES)
    out: list[int] = []
    while len(out) < n:
        order = [int(i) for i in rng.permutation(takes)]
        if out and takes > 1 and order[0] == out[-1]:
            order[0], order[-1] = order[-1], order[0]
        out.extend(order)
    return tuple(out[:n])


def resolve_layer(layer: LayerSpec, duration_s: float) -> LayerSpec:
    """The layer with its event spec resolved (background layers are returned as they are)."""
    spec = layer.events
    if layer.role != "foreground" or spec is None or spec.resolved:
        return layer
    times = spec.times_s
    if times is None:
        times = schedule_times(spec, duration_s, layer.seed, layer.name)
    pans = spec.pans if spec.pans is not None else schedule_pans(spec, len(times), layer.seed)
    takes = (
        spec.take_indices
        if spec.take_indices is not None
        else schedule_takes(spec.takes, len(times), layer.seed)
    )
    events = EventSpec.model_validate(
        {**spec.model_dump(), "times_s": tuple(times), "pans": tuple(pans), "take_indices": tuple(takes)}
    )
    return layer.model_copy(update={"events": events})


def resolve_events(plan: ScenePlan) -> ScenePlan:
    """A copy of ``plan`` whose foreground layers all have ``times_s``, ``pans`` and
    ``take_indices`` filled (deterministically from each layer's seed). Resolved specs, and
    the parts of a partly resolved spec that are given, are kept as they are."""
    layers = tuple(resolve_layer(layer, plan.duration_s) for layer in plan.layers)
    if all(a is b for a, b in zip(layers, plan.layers)):
        return plan
    return plan.model_copy(update={"layers": layers})
