"""The render library: every render the studio makes, kept on disk.

Layout under the data directory (``$STUDIO_DATA_DIR``, default ``~/.soundscape-studio``)::

    library.sqlite3                 index: one row per entry (WAL mode, safe for many sessions)
    renders/<entry id>/
        manifest.json               the manifest (re-renders the result exactly)
        thumbnail.png               <= 256 px preview of the source image (when there was one)
        mix.<fmt>                   the mastered mix (flac by default; bytes given by the caller)

Concurrency: every call opens its own short SQLite connection (``busy_timeout`` 10 s, WAL) so
several Streamlit sessions or processes can add, list and delete at once. Files are written to
a hidden temp folder and renamed into place *before* the row is inserted; a delete removes the
row first, then the folder. A reader therefore never sees a row whose files are half-written.

This module imports neither streamlit nor torch: it is tested on its own.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Optional

from studio.errors import InputError, StudioError
from studio.types import ScenePlan

DATA_DIR_ENV = "STUDIO_DATA_DIR"
THUMBNAIL_PX = 256
MIX_FORMATS = ("flac", "wav", "mp3", "ogg")
# What to do about an entry whose saved mix is gone or damaged (see LibraryEntry.mix_problem).
MIX_REMEDY = "Re-render makes a new entry with a fresh mix from this entry's manifest; then delete this one"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id          TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    title       TEXT NOT NULL,
    caption     TEXT NOT NULL,
    style       TEXT NOT NULL,
    duration_s  REAL NOT NULL,
    seed        INTEGER NOT NULL,
    planner     TEXT NOT NULL,
    mix_file    TEXT,
    thumb_file  TEXT,
    extra       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS entries_created ON entries(created_at);
"""


class LibraryError(StudioError):
    """The library could not be read or written (unknown entry, disk full, bad data dir)."""


def default_data_dir() -> Path:
    """``$STUDIO_DATA_DIR`` when set, else ``~/.soundscape-studio``."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".soundscape-studio"


@dataclass(frozen=True)
class LibraryEntry:
    """One saved render. Paths are absolute; ``mix_path``/``thumbnail_path`` may be None."""

    id: str
    created_at: datetime  # UTC
    title: str
    caption: str
    style: str
    duration_s: float
    seed: int
    planner: str
    folder: Path
    mix_path: Optional[Path]
    thumbnail_path: Optional[Path]
    extra: Mapping[str, Any]

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    # The manifest file is read, parsed and its plan validated at most once per entry object
    # (the library page makes new entries on every run, so a file changed on disk is seen on
    # the next run). A failure is kept too, and raised again on each call.

    @cached_property
    def _stored_manifest(self) -> tuple[bytes, dict[str, Any]] | LibraryError:
        if not self.manifest_path.is_file():
            return LibraryError(
                f"the files of library entry “{self.title}” are gone ({self.folder} has no manifest.json; "
                "it was moved or deleted outside the studio); delete the entry"
            )
        try:
            raw = self.manifest_path.read_bytes()
            data = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            return LibraryError(f"the manifest of library entry “{self.title}” is damaged ({exc}); delete the entry")
        if not isinstance(data, dict):
            return LibraryError(f"the manifest of library entry “{self.title}” is not a JSON object; delete the entry")
        return raw, data

    @cached_property
    def _stored_plan(self) -> ScenePlan | StudioError:
        from studio.manifest import plan_from_manifest

        try:
            return plan_from_manifest(self.manifest())
        except StudioError as exc:
            return exc

    def manifest_bytes(self) -> bytes:
        """The manifest file's bytes as stored (LibraryError as for :meth:`manifest`)."""
        stored = self._stored_manifest
        if isinstance(stored, StudioError):
            raise stored
        return stored[0]

    def manifest(self) -> dict[str, Any]:
        """The stored manifest dict (LibraryError when the file is missing or unreadable).
        The same dict on every call: do not change it."""
        stored = self._stored_manifest
        if isinstance(stored, StudioError):
            raise stored
        return stored[1]

    def plan(self) -> ScenePlan:
        """The entry's resolved plan, ready to re-render exactly."""
        stored = self._stored_plan
        if isinstance(stored, StudioError):
            raise stored
        return stored

    def problem(self) -> Optional[str]:
        """Why this entry cannot be reopened or re-rendered, or None when it can.

        The manifest must be readable and hold a valid plan; otherwise the entry can only be
        deleted. Files can go missing or be damaged outside the studio (a disk clean-up, a
        copy interrupted half-way), and one bad entry must not hide the others.
        """
        stored = self._stored_plan
        return str(stored) if isinstance(stored, StudioError) else None

    def mix_problem(self) -> Optional[str]:
        """Why the saved mix cannot be played (missing, truncated), or None when it can
        (or when the entry has no saved mix).

        Nothing repairs an entry in place: Re-render renders the manifest (still readable, or
        :meth:`problem` would say so) into a *new* entry with a fresh mix, and the damaged one
        is deleted by hand. The message says exactly that."""
        if self.mix_path is None:
            return None
        if not self.mix_path.is_file():
            return f"the saved mix of “{self.title}” is missing; {MIX_REMEDY}"
        try:
            import soundfile as sf

            with sf.SoundFile(str(self.mix_path)) as f:
                # The header alone survives a truncated copy: read the last second too.
                tail = min(f.frames, f.samplerate)
                if f.frames <= 0:
                    raise ValueError("no audio frames")
                f.seek(f.frames - tail)
                if len(f.read(tail)) < tail:
                    raise ValueError("the file ends early")
        except Exception as exc:  # noqa: BLE001 - libsndfile raises several kinds
            return f"the saved mix of “{self.title}” is missing or unreadable ({exc}); {MIX_REMEDY}"
        return None

    def thumbnail(self) -> Optional[bytes]:
        """The thumbnail's PNG bytes, or None when there is none or it does not decode
        (checked once per entry object)."""
        return self._stored_thumbnail

    @cached_property
    def _stored_thumbnail(self) -> Optional[bytes]:
        if self.thumbnail_path is None:
            return None
        from PIL import Image, UnidentifiedImageError

        try:
            data = self.thumbnail_path.read_bytes()
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
            return None
        return data

    def size_bytes(self) -> int:
        """Bytes this entry's files take on disk (0 when its folder is gone)."""
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    @property
    def length_label(self) -> str:
        """``"10:00"`` style length (minutes:seconds)."""
        total = int(round(self.duration_s))
        return f"{total // 60}:{total % 60:02d}"


class Library:
    """The SQLite index plus files under ``root`` (default :func:`default_data_dir`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_data_dir()
        try:
            self.renders_dir.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as con:
                con.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LibraryError(
                f"cannot use {str(self.root)!r} as the studio data directory ({exc}); "
                f"set {DATA_DIR_ENV} to a writable folder"
            ) from None

    @property
    def renders_dir(self) -> Path:
        return self.root / "renders"

    @property
    def db_path(self) -> Path:
        return self.root / "library.sqlite3"

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.db_path, timeout=10.0, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=10000")
        return con

    # ------------------------------------------------------------------ writing

    def add(
        self,
        manifest: Mapping[str, Any],
        *,
        title: Optional[str] = None,
        mix_bytes: Optional[bytes] = None,
        mix_file: Optional[str | Path] = None,
        mix_format: str = "flac",
        image: Any = None,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> LibraryEntry:
        """Save a render and return its entry.

        ``manifest`` is the dict from :func:`studio.manifest.build_manifest` (its plan is
        validated here, so a bad manifest never enters the library). ``mix_bytes`` is the
        encoded mix in ``mix_format``, or ``mix_file`` a file holding it (copied, never read
        into memory: a 60-minute mix is hundreds of MB); ``image`` a PIL image or encoded image bytes for the
        thumbnail. ``extra`` holds small JSON facts (notes, loudness) shown with the entry.
        """
        from studio.manifest import plan_from_manifest

        plan = plan_from_manifest(manifest)
        if mix_format not in MIX_FORMATS:
            raise InputError(f"library mix format {mix_format!r} is not supported; choose one of: {', '.join(MIX_FORMATS)}")
        entry_id = uuid.uuid4().hex[:16]
        created = datetime.now(timezone.utc).replace(microsecond=0)
        caption = plan.caption.text if plan.caption is not None else ""
        title = " ".join((title or caption or plan.style).split())
        title = (title[:117].rstrip() + "…") if len(title) > 120 else (title or plan.style)
        thumbnail = make_thumbnail(image) if image is not None else None
        tmp = self.renders_dir / f".tmp-{entry_id}"
        final = self.renders_dir / entry_id
        try:
            tmp.mkdir(parents=True)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            stored_mix = None
            if mix_bytes or mix_file is not None:
                stored_mix = f"mix.{mix_format}"
                if mix_file is not None:
                    shutil.copyfile(mix_file, tmp / stored_mix)
                else:
                    (tmp / stored_mix).write_bytes(mix_bytes)
            thumb_file = None
            if thumbnail is not None:
                thumb_file = "thumbnail.png"
                (tmp / thumb_file).write_bytes(thumbnail)
            os.replace(tmp, final)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise LibraryError(f"could not save the render to the library at {str(self.root)!r}: {exc}") from None
        row = {
            "id": entry_id,
            "created_at": created.isoformat(),
            "title": title,
            "caption": caption,
            "style": plan.style,
            "duration_s": float(plan.duration_s),
            "seed": int(plan.seed),
            "planner": plan.planner,
            "mix_file": stored_mix,
            "thumb_file": thumb_file,
            "extra": json.dumps(dict(extra or {}), default=str),
        }
        try:
            with closing(self._connect()) as con:
                con.execute(
                    "INSERT INTO entries (id, created_at, title, caption, style, duration_s, seed, planner,"
                    " mix_file, thumb_file, extra) VALUES (:id, :created_at, :title, :caption, :style,"
                    " :duration_s, :seed, :planner, :mix_file, :thumb_file, :extra)",
                    row,
                )
        except sqlite3.Error as exc:
            shutil.rmtree(final, ignore_errors=True)
            raise LibraryError(f"could not index the render in the library: {exc}") from None
        return self._entry(row)

    def delete(self, entry_id: str) -> None:
        """Remove an entry and its files (LibraryError when it does not exist)."""
        self._check_id(entry_id)
        with closing(self._connect()) as con:
            cur = con.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
        if cur.rowcount == 0:
            raise LibraryError(f"no library entry {entry_id!r}; it may have been deleted already")
        shutil.rmtree(self.renders_dir / entry_id, ignore_errors=True)

    def rename(self, entry_id: str, title: str) -> LibraryEntry:
        """Give an entry a new title (1-120 characters after collapsing spaces)."""
        self._check_id(entry_id)
        title = " ".join(str(title or "").split())
        if not title:
            raise InputError("a title cannot be empty; type a few words")
        if len(title) > 120:
            raise InputError(f"a title is at most 120 characters; this one has {len(title)}")
        with closing(self._connect()) as con:
            cur = con.execute("UPDATE entries SET title = ? WHERE id = ?", (title, entry_id))
        if cur.rowcount == 0:
            raise LibraryError(f"no library entry {entry_id!r}; it may have been deleted")
        return self.get(entry_id)

    def total_bytes(self) -> int:
        """Bytes all entries' files take on disk."""
        return sum(e.size_bytes() for e in self.entries())

    def clean_up(self, keep_newest: int) -> list[str]:
        """Delete every entry but the ``keep_newest`` newest; returns the deleted ids."""
        if keep_newest < 0:
            raise InputError(f"keep_newest must be 0 or more; got {keep_newest}")
        gone = [e.id for e in self.entries()[keep_newest:]]
        for entry_id in gone:
            self.delete(entry_id)
        return gone

    # ------------------------------------------------------------------ reading

    def entries(self, *, limit: Optional[int] = None, search: str = "") -> list[LibraryEntry]:
        """Entries, newest first; ``search`` filters by caption, title or style (case-insensitive)."""
        sql = "SELECT * FROM entries"
        args: list[Any] = []
        if search.strip():
            sql += " WHERE lower(caption) LIKE ? OR lower(title) LIKE ? OR lower(style) LIKE ?"
            like = f"%{search.strip().lower()}%"
            args += [like, like, like]
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with closing(self._connect()) as con:
            rows = con.execute(sql, args).fetchall()
        return [self._entry(dict(r)) for r in rows]

    def get(self, entry_id: str) -> LibraryEntry:
        self._check_id(entry_id)
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise LibraryError(f"no library entry {entry_id!r}; it may have been deleted")
        return self._entry(dict(row))

    def __len__(self) -> int:
        with closing(self._connect()) as con:
            return int(con.execute("SELECT count(*) FROM entries").fetchone()[0])

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _check_id(entry_id: str) -> None:
        if not isinstance(entry_id, str) or not entry_id.isalnum():
            raise LibraryError(f"library entry ids are letters and digits; got {entry_id!r}")

    def _entry(self, row: Mapping[str, Any]) -> LibraryEntry:
        folder = self.renders_dir / row["id"]
        try:
            extra = json.loads(row.get("extra") or "{}")
        except ValueError:
            extra = {}
        return LibraryEntry(
            id=row["id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            title=row["title"],
            caption=row["caption"],
            style=row["style"],
            duration_s=float(row["duration_s"]),
            seed=int(row["seed"]),
            planner=row["planner"],
            folder=folder,
            mix_path=folder / row["mix_file"] if row.get("mix_file") else None,
            thumbnail_path=folder / row["thumb_file"] if row.get("thumb_file") else None,
            extra=extra,
        )


def human_size(n_bytes: int) -> str:
    """``"12.3 MB"`` style size (decimal units, as file managers show)."""
    size = float(n_bytes)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def make_thumbnail(image: Any, max_px: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of ``image`` (PIL image or encoded bytes) fitted within ``max_px`` square."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(image)) if isinstance(image, (bytes, bytearray)) else image.copy()
        img.thumbnail((max_px, max_px))
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, format="PNG")
    except (UnidentifiedImageError, OSError, AttributeError) as exc:
        raise LibraryError(f"could not make a thumbnail: {exc}") from None
    return out.getvalue()


__all__ = [
    "DATA_DIR_ENV",
    "Library",
    "LibraryEntry",
    "LibraryError",
    "default_data_dir",
    "human_size",
    "make_thumbnail",
]
