"""Fresh beds: a whole track of distinct material, no stretch heard twice.

A :class:`~studio.types.TakeChain` names ``count`` distinct takes (one seed each) of
:data:`FRESH_TAKE_S` seconds. Take ``k`` is placed at frame ``k * hop`` (``hop = take - X``)
and cross-faded over ``X`` = :data:`FRESH_XFADE_S` into take ``k + 1`` with the equal-power law
of :func:`studio.mixing.beds.crossfade_gains`, compensated by the measured correlation of the
overlap (``r ~ 0`` for independent noise takes: plain equal power).

The takes are rendered once, in up to :data:`POOL_WORKERS` worker processes when there are at
least :data:`POOL_MIN_TAKES` of them (a 60-minute bed is 62 takes: the procedural engine is
single-threaded, so two processes halve the wall time on a 2-core machine), and spooled to an
unnamed temp file (float32, channel-planar): a 60-minute bed is 1.4 GB on disk and one chunk
in memory. A worker writes its take into that file itself (:func:`spool_take`, opening it
through ``/proc/<pid>/fd`` on Linux) and sends back only the take's length and its crossfade
ends: sending 23 MB per take through the pool's pipe, unpickling and writing it kept the
spooling process a third of a core busy, beside two workers on two cores (2026-12-04).
Rendering a window reads only the takes under it (``os.pread``). The spool belongs
to the chain (weakly keyed), so a re-mix or a re-arrangement of the same sources reuses it; the
file itself lives as long as a bed reads it (a stem outlives its LayerSource).
A take renders the same in a worker as in this process (same code, same seed), so the result
does not depend on whether a pool was used. The worker also brings its take to the project
format (:func:`project_take`: resampling and the sub-sonic filter, about 0.13 s of CPU per
take), so that work runs on both cores instead of in the process that spools.
Each worker keeps its freed memory for the next take (:func:`_worker_heap`): a take allocates
the same few hundred MB of arrays every time, and getting them as fresh zeroed pages from the
kernel was about a fifth of a worker's CPU.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from collections import deque
from typing import Optional, Sequence

import numpy as np

from studio.errors import AudioError
from studio.mixing.beds import crossfade_gains
from studio.mixing.pan import apply_matrix
from studio.mixing.resample import to_project
from studio.types import Progress, TakeChain, no_progress

FRESH_TAKE_S = 60.0  # one procedural engine chunk per take
FRESH_XFADE_S = 2.0
POOL_MIN_TAKES = 8  # fewer takes render here: a worker's start-up (~1 s) would eat the gain
POOL_WORKERS = 2
IN_FLIGHT = 4  # takes rendered ahead of the spool writer (bounds memory: ~23 MB each)
_EYE = np.eye(2)


def _worker_heap() -> None:
    """Pool initializer: serve every allocation from glibc's heap (no per-array ``mmap``) and
    never trim it, so the next take reuses the pages the last one freed instead of faulting in
    zeroed ones (0.49-0.61 -> 0.40 s CPU per 60-s breeze take, system time ~1.2 -> ~0.1 s per
    8 takes, max RSS +34 MB). Only in the worker processes, which exit after spooling; the
    Studio server's own allocator settings (studio/ui/memory.py) are untouched. A no-op where
    the C library has no ``mallopt`` (macOS, musl)."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no allocation gets its own mapping
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GB of free heap
    except (OSError, AttributeError):
        pass


def fresh_take_count(frames: int, take_frames: int, xfade: int) -> int:
    """Takes of ``take_frames`` cross-faded by ``xfade`` needed to cover ``frames``."""
    if frames <= take_frames:
        return 1
    return int(math.ceil((frames - xfade) / (take_frames - xfade)))


def chain_geometry(sample_rate: int, take_s: float = FRESH_TAKE_S) -> tuple[int, int]:
    """``(take_frames, xfade_frames)`` of a fresh bed at ``sample_rate``."""
    take = int(round(take_s * sample_rate))
    return take, int(min(round(FRESH_XFADE_S * sample_rate), take // 4))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    den = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
    if den <= 0:
        return 0.0
    return float(min(0.95, max(0.0, round(float(np.sum(x * y)) / den, 6))))


class _Spool:
    """The chain's takes at project rate in one unnamed temp file (float32, channel-planar)."""

    def __init__(self, chain: TakeChain, frames: int, sample_rate: int) -> None:
        import tempfile

        self.take, self.xfade = chain_geometry(sample_rate, chain.take_s)
        self.count = len(chain.seeds)
        self.hop = self.take - self.xfade
        if self.count != fresh_take_count(frames, self.take, self.xfade):
            raise AudioError(
                f"a fresh bed of {self.count} take(s) of {chain.take_s:g} s does not fit a "
                f"{frames / sample_rate:g} s track; render the layer again for this length"
            )
        self.frames = frames
        self.sample_rate = sample_rate
        self.lengths: list[int] = []
        self.corr: list[float] = []  # correlation of take k's fade-out with take k+1's fade-in
        self.file = tempfile.TemporaryFile(prefix="studio-bed-")
        self.fd = self.file.fileno()
        self._tail: Optional[np.ndarray] = None

    def length_of(self, k: int) -> int:
        return min(self.take, self.frames - k * self.hop)

    def add(self, x: np.ndarray) -> None:
        """Spool the next take, already at project format (:func:`project_take`)."""
        k = len(self.lengths)
        n = self.length_of(k)
        self._check(k, x.shape[1])
        _write_planar(self.fd, x, self._offset(k), n)
        self.record(k, x.shape[1], x[:, : self.xfade], x[:, max(0, n - self.xfade) : n])

    def _check(self, k: int, have: int) -> None:
        if have < self.length_of(k):
            raise AudioError(f"fresh bed take {k + 1} has {have} frames; {self.length_of(k)} are needed")

    def record(self, k: int, have: int, head: np.ndarray, tail: np.ndarray) -> None:
        """Take ``k`` is in the file (written here by :meth:`add`, or by a worker process,
        :func:`spool_take`): keep its length and the correlation of the crossfade into it.
        ``head`` / ``tail`` are its first and last :attr:`xfade` frames."""
        if k != len(self.lengths):
            raise AudioError(f"fresh bed take {k + 1} arrived out of order")
        self._check(k, have)
        n = self.length_of(k)
        if k > 0:
            self.corr.append(_correlation(self._tail, head))
        self._tail = np.array(tail, np.float32) if n >= self.xfade else None
        self.lengths.append(n)

    def worker_target(self, k: int) -> Optional[tuple[str, int, int, int]]:
        """Where a worker process writes take ``k`` itself, ``(path, offset, frames, xfade)``,
        so the take's 23 MB do not travel through a pipe and this process (see
        :func:`spool_take`); None where another process cannot open this unnamed file (Linux
        opens it through ``/proc/<pid>/fd``)."""
        path = f"/proc/{os.getpid()}/fd/{self.fd}"
        if not os.path.exists(path):
            return None
        return path, self._offset(k), self.length_of(k), self.xfade

    def _offset(self, k: int) -> int:
        return k * 2 * self.take * 4

    def read(self, k: int, a: int, b: int) -> np.ndarray:
        """Frames ``a..b`` of take ``k``: float32 ``(2, b - a)``."""
        n = self.lengths[k]
        out = np.empty((2, b - a), np.float32)
        for c in range(2):
            raw = os.pread(self.fd, 4 * (b - a), self._offset(k) + 4 * (c * n + a))
            out[c] = np.frombuffer(raw, np.float32)
        return out

    def close(self) -> None:
        self.file.close()


def project_take(chain: TakeChain, k: int, sample_rate: int) -> np.ndarray:
    """Take ``k`` of ``chain`` as float32 ``(2, n)`` at ``sample_rate`` (:func:`to_project`).
    Module-level so a worker process can run it."""
    return to_project(chain.take(k), sample_rate)


def _write_planar(fd: int, x: np.ndarray, offset: int, n: int) -> None:
    """The first ``n`` frames of ``x`` (2, >= n) at ``offset`` of ``fd``, channel after channel."""
    for c in range(2):
        row = np.ascontiguousarray(x[c, :n], np.float32)
        view, at = memoryview(row).cast("B"), offset + 4 * c * n
        while view:
            done = os.pwrite(fd, view, at)
            view, at = view[done:], at + done


def spool_take(chain: TakeChain, k: int, sample_rate: int,
               target: tuple[str, int, int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """In a worker process: render take ``k`` (:func:`project_take`) and write it into the
    spool file at ``target`` (:meth:`_Spool.worker_target`) directly; returns its length and
    its first and last ``xfade`` frames, all the spooling process needs to record it. A take
    shorter than the spool expects is not written (the spooling process raises for it); where
    the spool cannot be opened here the whole take is returned, as :func:`project_take` does."""
    path, offset, n, xfade = target
    x = project_take(chain, k, sample_rate)
    if x.shape[1] >= n:
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError:
            return x  # this process may not open the spool (a hardened /proc): send it back whole
        try:
            _write_planar(fd, x, offset, n)
        finally:
            os.close(fd)
    return x.shape[1], x[:, :xfade].copy(), x[:, max(0, n - xfade) : n].copy()


def fitted_chain(chain: TakeChain, frames: int, sample_rate: int) -> TakeChain:
    """``chain`` with as many takes as a ``frames``-frame track needs. The takes it has are
    kept (same seeds, so the same audio); more are seeded as the pipeline seeds them
    (``derive_seed(seeds[0], "take", k)``), fewer drop the last ones. A track whose length
    changed (the Studio's length control, a kept Compare variant) keeps its bed's takes."""
    take, xfade = chain_geometry(sample_rate, chain.take_s)
    count = fresh_take_count(frames, take, xfade)
    if count == len(chain.seeds):
        return chain
    from studio.pipeline import derive_seed

    seeds = chain.seeds[:count] + tuple(derive_seed(chain.seeds[0], "take", k) for k in range(len(chain.seeds), count))
    return TakeChain(backend=chain.backend, prompt=chain.prompt, params=chain.params, seeds=seeds, take_s=chain.take_s)


_SPOOLS: "weakref.WeakKeyDictionary[TakeChain, dict]" = weakref.WeakKeyDictionary()
_PREFETCH_LOCK = threading.Lock()
_PREFETCH: list["Prefetch"] = []  # started and not yet collected by spool_chains


class Prefetch:
    """Fresh beds being spooled on a background thread (their takes in worker processes) while
    the caller does other work, e.g. the pipeline generating the other layers: on a 2-core
    machine those serial seconds then overlap the parallel bed rendering. :func:`spool_chains`
    waits for a prefetch of its chains and reuses the spools; the result is the same as
    spooling there (same takes, same order). :meth:`cancel` stops it between takes."""

    def __init__(self, chains: Sequence[TakeChain], frames: int, sample_rate: int) -> None:
        self.chains, self.frames, self.sample_rate = list(chains), int(frames), int(sample_rate)
        self.cancelled = threading.Event()
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, name="studio-bed-prefetch", daemon=True)

    def _run(self) -> None:
        try:
            _spool(self.chains, self.frames, self.sample_rate, no_progress, self.cancelled)
        except BaseException as exc:  # noqa: BLE001 - spool_chains renders again and raises it there
            self.error = exc

    def covers(self, chains: Sequence[TakeChain], frames: int, sample_rate: int) -> bool:
        return (frames, sample_rate) == (self.frames, self.sample_rate) and any(
            any(c is d for d in self.chains) for c in chains)

    def wait(self) -> None:
        self.thread.join()

    def cancel(self) -> None:
        self.cancelled.set()
        self.thread.join()
        _forget(self)


def _forget(prefetch: Prefetch) -> None:
    with _PREFETCH_LOCK:
        if prefetch in _PREFETCH:
            _PREFETCH.remove(prefetch)


def prefetch_chains(chains: Sequence[TakeChain], frames: int, sample_rate: int) -> Optional[Prefetch]:
    """Start spooling ``chains`` in the background (None when there is nothing to do or no
    second core to do it on). Call :meth:`Prefetch.cancel` if the render is abandoned."""
    todo = [c for c in chains if (frames, sample_rate) not in _SPOOLS.get(c, {})]
    if not todo or (os.cpu_count() or 1) < 2:
        return None
    prefetch = Prefetch(todo, frames, sample_rate)
    with _PREFETCH_LOCK:
        _PREFETCH.append(prefetch)
    prefetch.thread.start()
    return prefetch


def spool_chains(chains: Sequence[TakeChain], frames: int, sample_rate: int,
                 progress: Optional[Progress] = None) -> list[_Spool]:
    """The spool of every chain (rendered now unless this chain already has one for this
    length), all chains' takes sharing one process pool. A chain made for another length is
    fitted to this one first (:func:`fitted_chain`)."""
    with _PREFETCH_LOCK:
        waiting = [p for p in _PREFETCH if p.covers(chains, frames, sample_rate)]
    for prefetch in waiting:
        prefetch.wait()  # its spools are then in _SPOOLS; a failed one is redone (and raised) below
        _forget(prefetch)
    return _spool(chains, frames, sample_rate, progress or no_progress, None)


def _spool(chains: Sequence[TakeChain], frames: int, sample_rate: int, cb: Progress,
           cancelled: Optional[threading.Event]) -> list[_Spool]:
    keys = list(chains)  # the cache stays keyed by the caller's chains
    chains = [fitted_chain(c, frames, sample_rate) for c in chains]
    spools: list[Optional[_Spool]] = []
    todo: list[tuple[int, int]] = []  # (chain index, take)
    for i, chain in enumerate(chains):
        have = _SPOOLS.get(keys[i], {}).get((frames, sample_rate))
        spools.append(have)
        if have is None:
            spools[i] = _Spool(chain, frames, sample_rate)
            todo += [(i, k) for k in range(len(chain.seeds))]
    if not todo:
        return spools  # type: ignore[return-value]
    total = len(todo)
    done = 0
    if total >= POOL_MIN_TAKES and (os.cpu_count() or 1) > 1:
        done = _spool_in_pool(chains, spools, todo, cb, sample_rate, cancelled)
    for done in range(done, total):  # in this process (few takes, one core, or no pool)
        if cancelled is not None and cancelled.is_set():
            return spools  # type: ignore[return-value] - abandoned: nothing is registered
        i, k = todo[done]
        spools[i].add(project_take(chains[i], k, sample_rate))
        cb((done + 1) / total, f"fresh bed material: take {done + 1}/{total}")
    for i, key in enumerate(keys):
        entry = _SPOOLS.setdefault(key, {})
        if (frames, sample_rate) not in entry:
            # no finalizer on the chain: a rendered stem outlives the LayerSource (and its
            # chain); the spool's file closes when the last FreshBed using it is collected.
            entry[(frames, sample_rate)] = spools[i]
    return spools  # type: ignore[return-value]


def _spool_in_pool(chains, spools, todo, cb, sample_rate: int, cancelled: Optional[threading.Event] = None) -> int:
    """Render ``todo`` in worker processes, in order; returns how many takes were spooled
    (all of them, unless the pool broke: the caller renders the rest itself)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the studio runs threads (Streamlit, tqdm's monitor, the meter) and a
    # forked child could inherit a lock one of them held.
    ctx = multiprocessing.get_context("spawn")
    total = len(todo)
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=min(POOL_WORKERS, os.cpu_count() or 1), mp_context=ctx,
                                 initializer=_worker_heap) as pool:
            pending: deque = deque()
            nxt = 0
            while done < total:
                if cancelled is not None and cancelled.is_set():
                    for fut in pending:
                        fut.cancel()
                    return done
                while nxt < total and len(pending) < IN_FLIGHT:
                    i, k = todo[nxt]
                    target = spools[i].worker_target(k)
                    pending.append(pool.submit(project_take, chains[i], k, sample_rate) if target is None
                                   else pool.submit(spool_take, chains[i], k, sample_rate, target))
                    nxt += 1
                result = pending.popleft().result()
                i, k = todo[done]
                if isinstance(result, tuple):  # the worker wrote it (spool_take)
                    spools[i].record(k, *result)
                else:
                    spools[i].add(result)
                done += 1
                cb(done / total, f"fresh bed material: take {done}/{total}")
    except BrokenProcessPool:
        pass  # e.g. a spawned worker could not import the main script: finish here
    return done


class FreshBed:
    """A bed of ``frames`` frames from a spooled :class:`~studio.types.TakeChain`.

    Same rendering interface as :class:`~studio.mixing.beds.BedArrangement`
    (:meth:`render`, :attr:`takes` is empty so no pre-multiplied copies are kept)."""

    takes: list = []

    def __init__(self, spool: _Spool) -> None:
        self.spool = spool
        self.frames = spool.frames
        self.sample_rate = spool.sample_rate

    @property
    def take_count(self) -> int:
        return self.spool.count

    def seams(self) -> list[int]:
        """Frame positions of the centres of all crossfades."""
        s = self.spool
        return [k * s.hop + s.xfade // 2 for k in range(1, s.count)]

    def render(self, start: int, n: int, out: Optional[np.ndarray] = None, *,
               matrix: Optional[np.ndarray] = None, takes=None) -> np.ndarray:
        """Float32 ``(2, n)`` of the bed from frame ``start`` (added into ``out`` if given),
        through ``matrix`` (the layer's gain/pan/width) when given."""
        s = self.spool
        if out is None:
            out = np.zeros((2, n), np.float32)
        stop = start + n
        k = max(0, (start - s.xfade) // s.hop)
        while k < s.count and k * s.hop < stop:
            t0 = k * s.hop
            lo, hi = max(start, t0), min(stop, t0 + s.lengths[k])
            if hi > lo:
                a, b = lo - t0, hi - t0
                x = s.read(k, a, b)
                if matrix is not None and not np.array_equal(matrix, _EYE):
                    x = apply_matrix(matrix, x)
                if k > 0 and a < s.xfade:
                    e = min(b, s.xfade)
                    x[:, : e - a] *= crossfade_gains(s.xfade, s.corr[k - 1], a, e)[1]
                fade_at = s.lengths[k] - s.xfade
                if k + 1 < s.count and b > fade_at:
                    f = max(a, fade_at)
                    x[:, f - a :] *= crossfade_gains(s.xfade, s.corr[k], f - fade_at, b - fade_at)[0]
                out[:, lo - start : hi - start] += x
            k += 1
        return out
