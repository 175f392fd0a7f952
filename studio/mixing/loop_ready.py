"""Loop-ready mix: a version of the track that plays gaplessly when a player repeats it.

Not to be confused with :mod:`studio.mixing.beds`, which loops short takes into a long bed; this
module makes the whole finished track loop. It shares the beds' equal-power crossfade law.

The loop has no fade in or out. Its length is the track's minus a crossfade ``X``
(:data:`LOOP_XFADE_S`, at most a quarter of the track): the last ``X`` frames of the track are
equal-power crossfaded into its first ``X`` frames, so sample ``L-1`` of the loop flows straight
into sample ``0`` (which continues the material that was playing). The master gain is the
track's; the limiter runs with wrapped context (it sees the loop's end before its start and
its start after its end), so even the limiter gain is continuous across the wrap.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from studio.errors import ExportError
from studio.mixing.bass import BassMono
from studio.mixing.beds import crossfade_gains
from studio.mixing.limiter import TruePeakLimiter
from studio.mixing.master import CHUNK_FRAMES, _side_scale
from studio.mixing.render import mix_state
from studio.types import Soundscape

LOOP_XFADE_S = 3.0


def loop_xfade(frames: int, sample_rate: int) -> int:
    return int(min(round(LOOP_XFADE_S * sample_rate), frames // 4))


def loop_frames(soundscape: Soundscape) -> int:
    """Length of the loop-ready mix in frames: track length minus the wrap crossfade."""
    return soundscape.frames - loop_xfade(soundscape.frames, soundscape.sample_rate)


def _pre_loop(soundscape: Soundscape, start: int, n: int) -> np.ndarray:
    """The loop's pre-master sum (before mono bass) for frames ``start..start+n``."""
    run = mix_state(soundscape).run
    x_frames = loop_xfade(soundscape.frames, soundscape.sample_rate)
    length = soundscape.frames - x_frames
    ride = mix_state(soundscape).settings.ride
    x = run.dry_wet(start, n)
    if ride is not None:  # the master's slow gain riding, at the track frames this loop frame plays
        x *= ride.gain(start, n)
    if start < x_frames:
        k = min(n, x_frames - start)
        fade_out, fade_in = crossfade_gains(x_frames, 0.0, start, start + k)
        tail = run.dry_wet(length + start, k)
        if ride is not None:
            tail = tail * ride.gain(length + start, k)
        x[:, :k] = x[:, :k] * fade_in + tail * fade_out
    return x


def iter_loop_mix(soundscape: Soundscape, chunk_frames: int = CHUNK_FRAMES) -> Iterator[np.ndarray]:
    """Mastered float32 ``(2, n)`` chunks of the loop-ready mix, in order."""
    state = mix_state(soundscape)
    if state is None:
        raise ExportError("a loop-ready export needs a soundscape rendered in this session; render it again")
    settings = state.settings
    length = loop_frames(soundscape)
    # The peak report is not needed here (the master measured the track's).
    limiter = TruePeakLimiter(settings.threshold, soundscape.sample_rate, measure_peak=False)
    gain = settings.gain

    # The mono-bass filter runs over the stream in order, warmed up on the loop's end so its
    # state is continuous across the wrap.
    bass = BassMono(soundscape.sample_rate)

    def master(x: np.ndarray) -> np.ndarray:
        return _side_scale(bass.process(x), settings.side_gain) * gain

    def stream() -> Iterator[np.ndarray]:
        before = min(limiter.before, length)
        yield master(_pre_loop(soundscape, length - before, before))
        for start in range(0, length, chunk_frames):
            yield master(_pre_loop(soundscape, start, min(chunk_frames, length - start)))
        yield master(_pre_loop(soundscape, 0, min(limiter.after, length)))

    n_chunks = -(-length // chunk_frames)
    for k, out in enumerate(limiter.process(stream())):
        if 1 <= k <= n_chunks:
            yield out
