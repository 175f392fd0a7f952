"""The players' audio files of one result: the mix at once, the stems in the background.

A result (a generation, a re-mix, a length change, ...) is played from files in the session's
folder (``v<version>/listen/``): the mastered mix as 24-bit FLAC and every stem, at the level it
plays in the mix, as 16-bit FLAC, whole length. Encoding those six files was most of a re-mix
(about 6 s of CPU of the 8 for 10 minutes on 2026-12-03), while only the mix is needed for the
result to be playable, saved to the library and drawn. So:

- :func:`write_mix` writes the mix before the result is shown (one pass over the mastered mix,
  in the master's chunks so its recorded limiter gains are replayed; chunk ``k`` is encoded on
  a worker thread while chunk ``k + 1`` is mastered);
- :class:`StemWriter` writes the stems afterwards on a background thread (one pass over the
  arranged stems, the files encoded on :data:`LISTEN_THREADS` threads). Their URLs are offered at
  once with a ``ready`` event (:func:`studio.ui.files.offer`): a player's request waits until its
  file is complete, it never gets a partial file. A newer render cancels a writer that is still
  running (its files are withdrawn and deleted); the result's stems are written again, from the
  same deterministic mix, should it become current again (undo).

:func:`stem_chunks` gives exactly the stems ``Soundscape.iter_mix(..., with_stems=True)`` gives
(the same arranged chunks times the same ride and master gain, in float32; tested bit for bit),
without mastering the mix again.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from studio.frames import interleaved
from studio.types import Soundscape

log = logging.getLogger(__name__)

CHUNK_FRAMES = 1 << 18  # ~5.5 s at 48 kHz: what one streamed write holds in memory
LISTEN_THREADS = 2  # threads encoding the stems' FLAC files (one file per job, chunks in order)
LISTEN_FLAC_LEVEL = 0.0  # libsndfile compression_level 0 = FLAC level 0: fastest, for working files


def _write_interleaved(f: Any, x: np.ndarray, clip: bool) -> None:
    """One chunk to one open file, interleaved in the writer's thread (the copy runs beside
    the other work). Integer stems are clipped: libsndfile would wrap them."""
    f.write(interleaved(x, clip=clip))


def _flac(path: Path, sample_rate: int, subtype: str) -> Any:
    import soundfile as sf

    return sf.SoundFile(str(path), "w", sample_rate, 2, subtype, format="FLAC", compression_level=LISTEN_FLAC_LEVEL)


def write_mix(path: Path, scape: Soundscape, progress: Callable[[float], None]) -> None:
    """The mastered mix to ``path`` (FLAC 24-bit), streamed; ``progress(fraction)`` after each
    chunk (it may raise to cancel: the caller removes the partial file)."""
    with _flac(path, scape.sample_rate, "PCM_24") as f, ThreadPoolExecutor(1, thread_name_prefix="studio-mix") as pool:
        pending = None
        done = 0
        # The master's own chunk size: the mastering pass's recorded limiter gains are replayed
        # (bit-identical to limiting again, a third less CPU; tests/ui/test_ui_players.py).
        for mix in scape.iter_mix():
            if pending is not None:
                pending.result()  # the file gets its chunks in order; at most two in memory
            pending = pool.submit(_write_interleaved, f, mix, False)
            done += mix.shape[1]
            progress(done / max(1, scape.frames))
        if pending is not None:
            pending.result()


def stem_chunks(scape: Soundscape, chunk_frames: int = CHUNK_FRAMES) -> Iterator[list[np.ndarray]]:
    """Every stem at mix level (``Stem.render`` times the master gain), chunk by chunk: the
    stems of ``scape.iter_mix(chunk_frames, with_stems=True)`` without the master's limiter
    pass over the mix."""
    from studio.mixing.render import mix_state

    state = mix_state(scape)
    if state is None:  # not made by the mixer: take them from the mix stream
        yield from (stems for _, stems in scape.iter_mix(chunk_frames, with_stems=True))
        return
    arr, settings = state.arrangement, state.settings
    ride, gain = settings.ride, np.float32(settings.gain)
    for pos in range(0, arr.frames, chunk_frames):
        n = min(chunk_frames, arr.frames - pos)
        g = gain if ride is None else ride.gain(pos, n) * gain  # as MasterRun.iter_mix computes it
        stems = [arr.stem(i, pos, n) for i in range(len(arr.layers))]
        yield [np.multiply(s, g, out=s) if s.flags.writeable and s.flags.owndata else s * g for s in stems]


def write_stems(paths: Sequence[Path], scape: Soundscape, cancelled: Optional[threading.Event] = None) -> bool:
    """Every stem to its file (FLAC 16-bit, clipped), in one pass; False when ``cancelled``
    stopped it (the files are then incomplete)."""
    files = []
    try:
        files = [_flac(p, scape.sample_rate, "PCM_16") for p in paths]
        with ThreadPoolExecutor(max_workers=LISTEN_THREADS, thread_name_prefix="studio-stems") as pool:
            for stems in stem_chunks(scape):
                if cancelled is not None and cancelled.is_set():
                    return False
                for future in [pool.submit(_write_interleaved, f, x, True) for f, x in zip(files, stems)]:
                    future.result()  # every file's chunk written before the next chunk
        return True
    finally:
        for f in files:
            f.close()


class StemWriter:
    """Writes a result's stem files on a background thread. ``ready`` is set when it ends
    (complete, cancelled or failed); ``complete`` says whether the files are whole."""

    def __init__(self, scape: Soundscape, paths: Sequence[Path], ready: threading.Event) -> None:
        self.paths = list(paths)
        self.ready = ready
        self.complete = False
        self.error: Optional[str] = None
        self.cancelled = threading.Event()
        self._scape: Optional[Soundscape] = scape
        self.thread = threading.Thread(target=self._run, name="studio-stem-writer", daemon=True)

    def start(self) -> "StemWriter":
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.complete = write_stems(self.paths, self._scape, self.cancelled)
        except Exception as exc:  # noqa: BLE001 - a failed background write is logged; the players say the file is missing
            if not self.cancelled.is_set():
                log.warning("writing the stem players' files failed: %s", exc)
                self.error = str(exc)
        finally:
            self._scape = None  # the result's audio is not kept alive by a finished writer
            if not self.complete:
                for p in self.paths:
                    p.unlink(missing_ok=True)
            self.ready.set()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait for the writer to end; True when the files are complete."""
        self.ready.wait(timeout)
        return self.complete

    def cancel(self) -> None:
        """Stop (between chunks) and wait for the thread; the partial files are deleted."""
        self.cancelled.set()
        if self.thread.is_alive():
            self.thread.join()
