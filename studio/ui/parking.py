"""Layer takes parked on disk, so a session's undo point holds file references, not arrays.

When a project becomes the undo point its layer sources are *parked*: every take (the
backend's clip, at the backend's rate) is written once to ``<work_dir>/takes/<id>.npy`` and the
parked :class:`~studio.types.LayerSource` reads it back through a read-only memory map, so its
memory is zero until a mixer touches it. A fresh bed's :class:`~studio.types.TakeChain` has no
clips (its material is already spooled to a temp file by :mod:`studio.mixing.fresh`) and is
kept as it is. The undo point's soundscape (arranged material, master state) is dropped and
rebuilt from the parked takes when the user undoes.

Parking the same source twice writes nothing the second time; a parked source parked again
gets fresh maps of the same files, so pages a mixer touched through the old maps are given
back when that mixer is freed. :meth:`TakeStore.prune` deletes the files no kept source uses.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import numpy as np

from studio.types import AudioClip, LayerSource


def _mapped_clip(path: Path, sample_rate: int) -> AudioClip:
    """An AudioClip over a memory-mapped ``.npy`` written from an already validated clip.
    AudioClip's checks (finite samples) would read every page, so they are not run again."""
    clip = object.__new__(AudioClip)
    object.__setattr__(clip, "samples", np.load(path, mmap_mode="r", allow_pickle=False))
    object.__setattr__(clip, "sample_rate", int(sample_rate))
    return clip


class TakeStore:
    """The session's parked takes (one folder, one ``.npy`` per take)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._parked: "weakref.WeakKeyDictionary[LayerSource, LayerSource]" = weakref.WeakKeyDictionary()
        self._files: "weakref.WeakKeyDictionary[LayerSource, tuple[tuple[Path, int], ...]]" = weakref.WeakKeyDictionary()

    def park(self, source: LayerSource) -> LayerSource:
        """``source`` with its takes on disk (memory-mapped, nothing read yet)."""
        files = self._files.get(source)
        if files is None:
            hit = self._parked.get(source)
            if hit is not None:
                files = self._files[hit]
                source = hit
        if files is None:
            if not source.clips:
                return source  # a fresh bed's chain, or no audio: nothing held in memory
            self.folder.mkdir(parents=True, exist_ok=True)
            written = []
            for clip in source.clips:
                path = self.folder / f"{uuid.uuid4().hex}.npy"
                np.save(path, np.ascontiguousarray(clip.samples, dtype=np.float32), allow_pickle=False)
                written.append((path, clip.sample_rate))
            files = tuple(written)
            original = source
        else:
            original = None
        parked = replace(source, clips=tuple(_mapped_clip(p, sr) for p, sr in files))
        self._files[parked] = files
        if original is not None:
            self._parked[original] = parked
        return parked

    def park_all(self, sources: dict[str, LayerSource]) -> dict[str, LayerSource]:
        return {name: self.park(src) for name, src in sources.items()}

    def prune(self, keep: Iterable[LayerSource]) -> None:
        """Delete every parked take file that none of ``keep`` reads (maps still open on a
        deleted file stay valid until they are freed)."""
        wanted = set()
        for src in keep:
            files = self._files.get(src)
            if files is None and src in self._parked:  # an in-memory source parked before
                files = self._files.get(self._parked[src])
            wanted.update(p for p, _ in files or ())
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.npy"):
            if path not in wanted:
                path.unlink(missing_ok=True)

    def is_parked(self, source: LayerSource) -> bool:
        return source in self._files
