"""Scratch folders that never outlive their process.

A Studio session keeps its takes, listening files and prepared downloads in a temp folder:
several GB for a 60-minute track. The folder is removed when its owner is garbage collected
or the interpreter exits, but a server that is killed (SIGKILL, an OOM kill, a container
stop) runs neither. So every scratch folder carries an owner file (the pid and the process's
start time, which guards against a reused pid), and each new scratch folder first sweeps the
temp directory for ``studio-*`` folders whose owner is gone. Folders without an owner file
are never touched: only what this module made is removed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import weakref
from pathlib import Path

OWNER_FILE = ".studio-owner"
PREFIX = "studio-"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or '-' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "-"
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return start == "-" or _start_time(pid) in (start, "-")


def sweep_stale(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove ``studio-*`` folders in ``root`` (default: the temp directory) whose owner
    process has ended. Returns the folders removed."""
    removed = []
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            pid_text, start = (Path(entry.path) / OWNER_FILE).read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            continue  # not made by this module, or being created right now
        if not _alive(pid, start):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _remove(path: str, pid: int) -> None:
    if os.getpid() == pid:  # never from a forked worker that inherited the owner
        shutil.rmtree(path, ignore_errors=True)


def scratch_dir(prefix: str, owner: object | None = None) -> Path:
    """A new temp folder ``<prefix>XXXX`` (``prefix`` starts with ``studio-``) owned by this
    process. With ``owner``, the folder is removed when ``owner`` is garbage collected;
    in any case at interpreter exit, and by the next sweep if the process is killed."""
    if not prefix.startswith(PREFIX):
        raise ValueError(f"scratch folder prefixes start with {PREFIX!r}, got {prefix!r}")
    sweep_stale()
    path = Path(tempfile.mkdtemp(prefix=prefix))
    pid = os.getpid()
    (path / OWNER_FILE).write_text(f"{pid} {_start_time(pid)}\n")
    if owner is not None:
        remove_with(owner, path)
    else:
        atexit.register(_remove, str(path), pid)
    return path


def remove_with(owner: object, path: str | os.PathLike) -> None:
    """Remove ``path`` when ``owner`` is garbage collected (or at interpreter exit)."""
    weakref.finalize(owner, _remove, str(path), os.getpid())
