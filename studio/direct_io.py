"""Sequential file writes that bypass the page cache (``O_DIRECT``), for the export's big WAVs.

Why: a 60-minute export with float stems writes about 12 GB (``bench/mix.py``). Through the
page cache every byte is copied into kernel pages, which are tracked dirty, written back by the
kernel's flusher threads and dropped again (:meth:`studio.atomic.AtomicFile.pace`). Measured on
the 2-core machine (2026-12-03, two threads writing nine files, 12.4 GB, fsynced): 5.3-5.5 s of
system CPU through the page cache against 2.5-2.9 s of user + system CPU with ``O_DIRECT``, at
the same ~1 GB/s of the disk; on two cores that CPU is taken from rendering the next chunks.

``O_DIRECT`` needs every write to start at a file offset, a memory address and a length that
are multiples of the block size. :class:`DirectWriter` keeps a page-aligned staging buffer
(anonymous ``mmap``) that callers append to (:meth:`DirectWriter.write`, or
:meth:`DirectWriter.staging` + :meth:`DirectWriter.advance` to encode straight into it, with no
copy); every time it holds :data:`DIRECT_BLOCK_BYTES` the aligned part goes to the disk and the
unaligned rest (under 4 kB) moves to the front. :meth:`DirectWriter.flush` writes the tail with
``O_DIRECT`` switched off (a plain buffered write, fsynced with the rest by the caller); after
that the file is written through the page cache. The bytes on disk are exactly those written,
in order: the same file as a plain ``write``.

Where the file system refuses ``O_DIRECT`` (tmpfs, some network file systems),
:meth:`DirectWriter.open` returns None and the caller writes through the page cache as before.
"""

from __future__ import annotations

import errno
import mmap
import os
from typing import Any, Optional

import numpy as np

DIRECT_ALIGN = 4096  # a multiple of every logical block size Linux file systems use
DIRECT_BLOCK_BYTES = 4 << 20  # at least this much per write to the disk (~4 ms at 1 GB/s)
DIRECT_MIN_BYTES = 64 << 20  # smaller files go through the page cache (a 6-minute 24-bit WAV is ~100 MB)


def _direct_flag() -> int:
    return getattr(os, "O_DIRECT", 0)


def _close_map(buf: mmap.mmap) -> None:
    try:
        buf.close()
    except BufferError:  # a caller still holds a staging view: the map goes with the last one
        pass


class DirectWriter:
    """A write-only, append-only file object over ``fd`` (already in ``O_DIRECT`` mode, see
    :meth:`open`) with the calls the export uses: ``write``, ``tell``, ``flush``, ``fileno``,
    ``close``."""

    def __init__(self, fd: int, block_bytes: int = DIRECT_BLOCK_BYTES) -> None:
        self.fd = fd
        self.block = max(DIRECT_ALIGN, block_bytes // DIRECT_ALIGN * DIRECT_ALIGN)
        self._buf: Optional[mmap.mmap] = None
        self._view = np.zeros(0, np.uint8)
        self._ensure(self.block + DIRECT_ALIGN)
        self.fill = 0  # bytes staged in the buffer, not yet on the file
        self.pos = 0  # bytes accepted so far (the file's length once flushed)
        self.direct = True
        self.closed = False

    @classmethod
    def open(cls, fd: int, block_bytes: int = DIRECT_BLOCK_BYTES) -> Optional["DirectWriter"]:
        """Switch ``fd`` (an empty file opened for writing, at offset 0) to ``O_DIRECT`` and wrap
        it; None (and ``fd`` unchanged) where the platform or the file system has no direct I/O."""
        flag = _direct_flag()
        if not flag:
            return None
        try:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | flag)
        except (ImportError, OSError):
            return None
        return cls(fd, block_bytes)

    # ------------------------------------------------------------------ buffer

    def _ensure(self, size: int) -> None:
        """Room for ``size`` staged bytes (the buffer only grows, page-aligned by ``mmap``)."""
        if self._buf is not None and len(self._buf) >= size:
            return
        size = -(-size // DIRECT_ALIGN) * DIRECT_ALIGN
        buf = mmap.mmap(-1, size)
        view = np.frombuffer(buf, np.uint8)
        if self._buf is not None:
            view[: self.fill] = self._view[: self.fill]
            old = self._buf
            self._view = view  # drop the old view before closing its map
            self._buf = buf
            _close_map(old)
        else:
            self._view, self._buf = view, buf

    def staging(self, nbytes: int) -> np.ndarray:
        """A writable uint8 view of the next ``nbytes`` bytes of the file: fill it, then call
        :meth:`advance` (encoders write into it directly instead of into a new array)."""
        if self.closed:
            raise ValueError("write to a closed file")
        self._ensure(self.fill + nbytes)
        return self._view[self.fill : self.fill + nbytes]

    def advance(self, nbytes: int) -> None:
        """The ``nbytes`` bytes of the last :meth:`staging` view are filled: take them."""
        self.fill += nbytes
        self.pos += nbytes
        if self.fill >= self.block:
            self._drain(final=False)

    def write(self, data: Any) -> int:
        src = np.frombuffer(memoryview(data).cast("B"), np.uint8)
        n = src.size
        off = 0
        while off < n:  # in pieces of at most a block, so the buffer stays small
            take = min(n - off, max(self.block - self.fill, DIRECT_ALIGN))
            self.staging(take)[:] = src[off : off + take]
            self.advance(take)
            off += take
        return n

    # ------------------------------------------------------------------ disk

    def _write_all(self, view: memoryview) -> None:
        done = 0
        while done < len(view):
            try:
                done += os.write(self.fd, view[done:])
            except OSError as exc:
                if exc.errno != errno.EINVAL or not self.direct:
                    raise
                # The kernel refused this direct write (an odd device or a short write left an
                # unaligned offset): the rest goes through the page cache, same bytes.
                self._buffered()

    def _buffered(self) -> None:
        if self.direct:
            import fcntl

            fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~_direct_flag())
            self.direct = False

    def _drain(self, final: bool) -> None:
        """Write the staged bytes: the aligned part directly; with ``final`` the rest too."""
        aligned = self.fill // DIRECT_ALIGN * DIRECT_ALIGN if self.direct else self.fill
        mv = memoryview(self._buf)
        if aligned:
            self._write_all(mv[:aligned])
        rest = self.fill - aligned
        if rest and final:
            self._buffered()
            self._write_all(mv[aligned : self.fill])
            rest = 0
        elif rest:
            self._view[:rest] = self._view[aligned : self.fill]  # under 4 kB to the front
        self.fill = rest
        mv.release()

    def flush(self) -> None:
        """Everything written so far to the file (the last, unaligned piece through the page
        cache; later writes then go that way too)."""
        if not self.closed and self.fill:
            self._drain(final=True)

    def tell(self) -> int:
        return self.pos

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        """Flush and close the descriptor (and free the buffer). Idempotent."""
        if self.closed:
            return
        try:
            self.flush()
        finally:
            self.closed = True
            self._view = np.zeros(0, np.uint8)
            if self._buf is not None:
                _close_map(self._buf)
                self._buf = None
            os.close(self.fd)

    def abandon(self) -> None:
        """Close without writing what is staged (the file is being thrown away)."""
        if self.closed:
            return
        self.fill = 0
        self.close()
