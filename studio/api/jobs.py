"""Jobs and images of the HTTP API, persisted in SQLite (WAL), and the thread that runs jobs.

Everything lives under one data folder::

    api.sqlite            images and jobs (WAL journal: readers never block the runner)
    images/<id>.<fmt>     uploaded images; <id> is a random 32-hex id, <fmt> the decoded format
    results/<id>/         a finished job's mix.wav, stems/, manifest.json (and stems.zip once asked)

No user string ever becomes a path: file names are made only of ids this module generated and
of format names from a fixed list. On start, jobs left ``queued`` or ``running`` by a previous
process are marked ``failed`` with the reason; finished jobs and their files are kept.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from studio.errors import CancelledError, StudioError, first_line

ID_PATTERN = r"^[0-9a-f]{32}$"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINAL = frozenset({"succeeded", "failed", "cancelled"})
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tif", "MPO": "jpg"}
INTERRUPTED = "interrupted: the server stopped before this job finished; submit it again"
SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, ext TEXT NOT NULL, width INTEGER, height INTEGER,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
    error TEXT, request TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, finished REAL);
"""


def new_id() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    progress: float
    message: str
    error: Optional[str]
    request: dict[str, Any]
    created: float
    updated: float
    finished: Optional[float]


class Store:
    """The SQLite database and the files beside it. Thread-safe: one connection per call."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        for sub in ("images", "results"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "api.sqlite"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        self.mark_interrupted()

    def mark_interrupted(self) -> None:
        """Jobs a stopped server left queued or running become failed, with the reason."""
        now = time.time()
        with self._connect() as db:
            db.execute("UPDATE jobs SET status='failed', error=?, updated=?, finished=? WHERE status IN ('queued','running')",
                       (INTERRUPTED, now, now))
        for leftover in (self.root / "results").glob("*.staging"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        return db

    # -- images
    def image_path(self, image_id: str, ext: str) -> Path:
        return self.root / "images" / f"{image_id}.{ext}"

    def add_image(self, data: bytes, *, filename: str, fmt: str, size: tuple[int, int], image_id: Optional[str] = None) -> str:
        """Store encoded image bytes; ``image_id`` (a fixed id) makes the call idempotent."""
        from studio.atomic import write_bytes_atomic

        image_id = image_id or new_id()
        ext = IMAGE_FORMATS.get(fmt.upper(), "img")
        path = self.image_path(image_id, ext)
        if not path.exists():
            write_bytes_atomic(path, data)
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO images VALUES (?,?,?,?,?,?)",
                       (image_id, filename[:200], ext, int(size[0]), int(size[1]), time.time()))
        return image_id

    def image(self, image_id: str) -> Optional[dict[str, Any]]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM images WHERE id=?", (image_id,)).fetchone()
        if row is None:
            return None
        info = dict(row)
        info["path"] = self.image_path(row["id"], row["ext"])
        return info

    # -- jobs
    def add_job(self, request: dict[str, Any]) -> Job:
        now = time.time()
        job_id = new_id()
        with self._connect() as db:
            db.execute("INSERT INTO jobs (id,status,request,created,updated) VALUES (?,?,?,?,?)",
                       (job_id, "queued", json.dumps(request), now, now))
        return self.job(job_id)  # type: ignore[return-value]

    def job(self, job_id: str) -> Optional[Job]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            return None
        return Job(**{**dict(row), "request": json.loads(row["request"])})

    def update(self, job_id: str, **fields: Any) -> None:
        fields["updated"] = time.time()
        if fields.get("status") in FINAL:
            fields["finished"] = fields["updated"]
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE id=?", (*fields.values(), job_id))  # noqa: S608 - fixed column names

    def finish_if(self, job_id: str, from_statuses: tuple[str, ...], **fields: Any) -> bool:
        """Set ``fields`` only while the job is in one of ``from_statuses`` (atomic)."""
        fields["updated"] = time.time()
        if fields.get("status") in FINAL:
            fields["finished"] = fields["updated"]
        cols = ", ".join(f"{k}=?" for k in fields)
        marks = ",".join("?" * len(from_statuses))
        with self._connect() as db:
            cur = db.execute(f"UPDATE jobs SET {cols} WHERE id=? AND status IN ({marks})",  # noqa: S608
                             (*fields.values(), job_id, *from_statuses))
        return cur.rowcount == 1

    def result_dir(self, job_id: str) -> Path:
        return self.root / "results" / job_id


class Runner:
    """Runs jobs one at a time on a background thread (one pipeline; neural models are large).

    ``DELETE`` sets a job's cancel event; the pipeline's progress callback raises
    :class:`CancelledError` at its next report. ``shutdown`` cancels everything still running and
    marks it failed as interrupted."""

    def __init__(self, store: Store, *, workers: int = 1) -> None:
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studio-job")
        self.cancel_events: dict[str, threading.Event] = {}
        self._pipelines: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def submit(self, request: dict[str, Any]) -> Job:
        job = self.store.add_job(request)
        self.cancel_events[job.id] = threading.Event()
        self.pool.submit(self._run, job.id, request)
        return job

    def cancel(self, job_id: str) -> bool:
        """True when the job was queued or running and is now cancelled (or about to be)."""
        if self.store.finish_if(job_id, ("queued",), status="cancelled", message="cancelled before it started"):
            return True
        event = self.cancel_events.get(job_id)
        job = self.store.job(job_id)
        if event is None or job is None or job.status != "running":
            return False
        event.set()
        return True

    def shutdown(self) -> None:
        for event in self.cancel_events.values():
            event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.store.mark_interrupted()

    def _pipeline(self, captioner: str, planner: str) -> Any:
        from studio.pipeline import SoundscapePipeline

        key = (captioner, planner)
        with self._lock:
            if key not in self._pipelines:
                self._pipelines[key] = SoundscapePipeline(captioner=captioner, planner=planner)
            return self._pipelines[key]

    def _run(self, job_id: str, request: dict[str, Any]) -> None:
        event = self.cancel_events.setdefault(job_id, threading.Event())
        if event.is_set() or not self.store.finish_if(job_id, ("queued",), status="running", message="starting"):
            self.store.finish_if(job_id, ("queued",), status="cancelled", message="cancelled before it started")
            return
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            if event.is_set():
                raise CancelledError("the job was cancelled")
            now = time.monotonic()
            if now - last[0] > 0.25:  # do not write the database on every small step
                last[0] = now
                self.store.update(job_id, progress=round(min(1.0, max(0.0, fraction)), 4), message=message[:200])

        staging = self.store.result_dir(job_id).with_suffix(".staging")
        try:
            self._render(request, staging, progress)
            os.replace(staging, self.store.result_dir(job_id))
            self.store.update(job_id, status="succeeded", progress=1.0, message="done")
        except CancelledError:
            self.store.update(job_id, status="cancelled", message="cancelled while running")
        except StudioError as exc:
            self.store.update(job_id, status="failed", error=first_line(exc, None), message="failed")
        except Exception as exc:  # noqa: BLE001 - a job must never take the server down
            self.store.update(job_id, status="failed", error=f"internal error: {type(exc).__name__}: {first_line(exc)}",
                              message="failed")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self.cancel_events.pop(job_id, None)

    def _render(self, request: dict[str, Any], out: Path, progress: Any) -> None:
        from studio.types import scaled_progress

        pipe = self._pipeline(request["captioner"], request["planner"])
        with self._lock:  # one render at a time per pipeline: its caches are not thread-safe
            pipe.notes.clear()
            image, image_info, caption = None, None, request.get("caption")
            if request.get("image_id"):
                info = self.store.image(request["image_id"])
                if info is None:
                    raise StudioError("the image of this job no longer exists")
                image = pipe.load_image(info["path"].read_bytes(), filename=info["filename"])
                image_info = dict(image.info.get("studio", {}))
                if caption is None:
                    progress(0.0, "captioning")
                    caption = pipe.caption(image)
            progress(0.05, "planning")
            plan = pipe.plan(caption, style=request["style"], duration_s=request["duration_s"], seed=request["seed"])
            scape = pipe.render(plan, progress=scaled_progress(progress, 0.1, 0.9))
            progress(0.9, "exporting")
            pipe.export(scape, out, image_info=image_info, image=image)
