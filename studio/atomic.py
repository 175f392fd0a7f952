"""Atomic file writes: a temp file in the destination folder, fsync, then ``os.replace``.

Large files start their writeback while they are being written (:meth:`AtomicFile.pace`):
with 24 GB of RAM the kernel would otherwise keep GBs of an export dirty until the final
fsync, which then waited seconds for the disk with nothing else to do (2 GB: 4.3 s of fsync,
0.6 s with the writeback started every 32 MB; the writing itself took the same time).

Files of known large size can be written around the page cache instead (``direct=True``, see
:mod:`studio.direct_io`): the export's big WAVs, where the copy into kernel pages and their
writeback cost more CPU than encoding them; :meth:`AtomicFile.pace` has nothing to do for them.

An interrupted write leaves, at worst, a hidden ``.<name>.*.part`` temp file that is removed
on the way out; never a truncated file under the final name. Files end up with the mode a plain
``open()`` would give them (0666 less the user's umask), not the 0600 of ``mkstemp``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process's umask (from /proc where it can be read without changing it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it straight back
    os.umask(mask)
    return mask


def probe_writable(folder: Path) -> None:
    """Raise the OSError a new file in ``folder`` would meet (permission, read-only disk);
    creates and removes one empty hidden temp file."""
    fd, tmp = tempfile.mkstemp(dir=str(folder), prefix=".write-check-", suffix=".part")
    os.close(fd)
    os.unlink(tmp)


WRITEBACK_BYTES = 32 << 20  # start the disk on what is written every 32 MB


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing ``fd``'s dirty pages to disk now, without waiting for
    it (Linux's POSIX_FADV_DONTNEED starts asynchronous writeback, then drops pages that are
    already clean). Only a hint: where it is missing or refused, nothing changes."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    with contextlib.suppress(OSError):
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


class AtomicFile:
    """A temp file beside ``final``; :meth:`commit` fsyncs and renames it, :meth:`discard`
    deletes it. ``fh`` is the open binary handle: with ``direct`` (a large file written once,
    front to back) a write-only :class:`~studio.direct_io.DirectWriter` where the file system
    allows ``O_DIRECT``, else (and by default) a buffered, readable and seekable file."""

    def __init__(self, final: Path, direct: bool = False) -> None:
        self.final = Path(final)
        fd, tmp = tempfile.mkstemp(dir=str(self.final.parent), prefix=f".{self.final.name}.", suffix=".part")
        self.tmp = Path(tmp)
        try:
            os.fchmod(fd, 0o666 & ~current_umask())
        except OSError:  # a file system without modes keeps its own
            pass
        self.direct = None
        if direct:
            from studio.direct_io import DirectWriter

            self.direct = DirectWriter.open(fd)
        self.fh: BinaryIO = self.direct or os.fdopen(fd, "w+b")  # readable too: the OGG serial is pinned in place
        self.done = False
        self._next_writeback = WRITEBACK_BYTES

    def pace(self) -> None:
        """Call after writes: every :data:`WRITEBACK_BYTES` the disk starts on what is written,
        so :meth:`commit`'s fsync finds little left to do. Nothing to do for a direct file."""
        if self.direct is not None:
            return
        position = self.fh.tell()
        if position >= self._next_writeback:
            self.fh.flush()
            start_writeback(self.fh.fileno())
            self._next_writeback = position + WRITEBACK_BYTES

    def commit(self) -> Path:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.final)
        self.done = True
        return self.final

    def discard(self) -> None:
        if self.done:
            return
        with contextlib.suppress(OSError):
            if self.direct is not None:
                self.direct.abandon()
            else:
                self.fh.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()
        self.done = True


@contextlib.contextmanager
def atomic_open(final: Path) -> Iterator[BinaryIO]:
    """``with atomic_open(path) as fh: fh.write(...)``: committed only if the block succeeds."""
    af = AtomicFile(final)
    try:
        yield af.fh
    except BaseException:
        af.discard()
        raise
    af.commit()
    fsync_dir(af.final.parent)


def write_bytes_atomic(final: Path, data: bytes) -> Path:
    with atomic_open(final) as fh:
        fh.write(data)
    return Path(final)
