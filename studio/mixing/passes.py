"""Helpers for the master's verification passes: the pre-master cache and the output meter."""

from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from studio.mixing.loudness import LoudnessMeter, LoudnessResult, blocks_from_hops, gated_loudness

# In memory up to 2 minutes (46 MB); longer tracks spill. A 10-minute track in memory was 230 MB
# at the peak of every render in the studio's server process (issue 21); the temp file costs
# one sequential write and read per pass.
CACHE_LIMIT_FRAMES = 48_000 * 60 * 2


class PreCache:
    """The measured ``pre`` chunks, kept for the verification passes: in memory for tracks up
    to :data:`CACHE_LIMIT_FRAMES`, else spilled to an unnamed temp file (float32, exact), so the
    passes after the first do not re-render every stem and memory stays bounded."""

    def __init__(self, frames: int) -> None:
        self.chunks: list[np.ndarray] = []
        self.sizes: list[int] = []
        self.file = None
        if frames > CACHE_LIMIT_FRAMES:
            import tempfile

            self.file = tempfile.TemporaryFile(prefix="studio-mix-")

    def add(self, x: np.ndarray) -> None:
        if self.file is None:
            self.chunks.append(x)
        else:
            # the array's own buffer: ``tobytes`` copied every 1.5 MB chunk once more
            self.file.write(memoryview(np.ascontiguousarray(x, np.float32)).cast("B"))
            self.sizes.append(x.shape[1])

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.file is None:
            yield from self.chunks
            return
        self.file.seek(0)
        for n in self.sizes:
            yield np.frombuffer(self.file.read(8 * n), np.float32).reshape(2, n)

    def close(self) -> None:
        self.chunks = []
        if self.file is not None:
            self.file.close()
            self.file = None


class OutputMeter:
    """Meters the mastered output of a verification pass cheaply and exactly.

    Where the limiter left a chunk alone the output is the measured pre-master signal times the
    master gain, so its K-weighted hop energies are the first pass's times ``gain^2`` (K-weighting
    is linear). Only chunks the limiter touched are filtered again, from half a second of the
    previous output (the K filter forgets its state within milliseconds, so this is exact to
    float precision). Falls back to a full meter when the shortcut does not apply."""

    WARMUP_S = 0.5

    def __init__(self, sr: int, chunk: int, pre: Optional[LoudnessResult], gain: float) -> None:
        self.sr = sr
        self.meter = LoudnessMeter(sr)
        self.hop = self.meter.hop_frames
        usable = pre is not None and chunk % self.hop == 0 and pre.hop_energy.shape[1] >= 40
        self.pre = pre if usable else None
        self.gain2 = float(gain) ** 2
        self.hops: list[np.ndarray] = []
        self.prev = np.zeros((2, int(self.WARMUP_S * sr)), np.float32)
        self.pos = 0

    def feed(self, y: np.ndarray, changed: bool) -> None:
        if self.pre is None:
            self.meter.feed(y)
            return
        n = y.shape[1]
        h0, h1 = self.pos // self.hop, (self.pos + n) // self.hop
        if not changed:
            self.hops.append(self.pre.hop_energy[:, h0:h1] * self.gain2)
        else:
            m = LoudnessMeter(self.sr)
            m.feed(np.concatenate([self.prev, y], axis=1))
            e = m.result().hop_energy
            skip = self.prev.shape[1] // self.hop
            self.hops.append(e[:, skip : skip + (h1 - h0)])
        keep = self.prev.shape[1]
        if n >= keep:
            self.prev = y[:, n - keep :]
        else:
            self.prev = np.concatenate([self.prev, y], axis=1)[:, -keep:]
        self.pos += n

    def result(self) -> LoudnessResult:
        if self.pre is None:
            return self.meter.result()
        hops = np.concatenate(self.hops, axis=1)
        stereo = gated_loudness(blocks_from_hops(hops[0] + hops[1], self.hop))
        mono = gated_loudness(blocks_from_hops(hops[2], self.hop))
        return LoudnessResult(stereo, mono, hops, self.hop)
