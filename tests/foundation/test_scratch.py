"""Scratch folders never outlive their process: a killed server's GB of takes and downloads
are swept by the next one, and nothing this module did not make is touched."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from studio import scratch


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _child(root: Path, code: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(root)}
    prog = f"import sys, time; from studio.scratch import scratch_dir; p = scratch_dir('studio-session-'); (p / 'take.npy').write_bytes(b'x' * 1000); print(p, flush=True); {code}"
    return subprocess.Popen([sys.executable, "-c", prog], env=env, stdout=subprocess.PIPE, text=True)


def test_a_folder_goes_with_its_owner(temp_root):
    class Owner:
        pass

    owner = Owner()
    path = scratch.scratch_dir("studio-session-", owner=owner)
    assert path.parent == temp_root and path.is_dir()
    pid, start = (path / scratch.OWNER_FILE).read_text().split()
    assert int(pid) == os.getpid() and start == scratch._start_time(os.getpid())
    del owner
    gc.collect()
    assert not path.exists()


def test_a_killed_process_leaves_nothing_after_the_next_sweep(temp_root):
    child = _child(temp_root, "time.sleep(60)")
    left = Path(child.stdout.readline().strip())
    assert (left / "take.npy").exists()
    # While its owner lives, a sweep keeps it.
    assert scratch.sweep_stale() == [] and left.exists()
    os.kill(child.pid, signal.SIGKILL)  # no finaliser and no atexit run
    child.wait(timeout=30)
    assert left.exists()
    fresh = scratch.scratch_dir("studio-session-")
    assert not left.exists() and fresh.is_dir()


def test_a_normal_exit_removes_the_folder(temp_root):
    child = _child(temp_root, "")
    left = Path(child.stdout.readline().strip())
    assert child.wait(timeout=30) == 0
    assert not left.exists()


def test_only_folders_with_a_dead_owner_are_swept(temp_root):
    foreign = temp_root / "studio-session-not-ours"  # no owner file: never touched
    foreign.mkdir()
    other = temp_root / "someone-else"
    other.mkdir()
    (other / scratch.OWNER_FILE).write_text("999999999 1\n")
    reused = temp_root / "studio-session-reused-pid"  # a live pid, another start time
    reused.mkdir()
    (reused / scratch.OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    garbled = temp_root / "studio-session-garbled"
    garbled.mkdir()
    (garbled / scratch.OWNER_FILE).write_text("not a pid\n")
    removed = scratch.sweep_stale()
    assert removed == [reused]
    assert foreign.is_dir() and other.is_dir() and garbled.is_dir()


def test_a_forked_worker_never_removes_its_parents_folder(temp_root):
    class Owner:
        pass

    owner = Owner()
    path = scratch.scratch_dir("studio-session-", owner=owner)
    pid = os.fork()
    if pid == 0:  # the child's copy of the owner is collected: its finaliser runs there
        try:
            del owner
            gc.collect()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert path.is_dir()
    del owner
    gc.collect()
    assert not path.exists()


def test_prefixes_are_checked():
    with pytest.raises(ValueError, match="start with 'studio-'"):
        scratch.scratch_dir("tmp-")
