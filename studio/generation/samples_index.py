"""A searchable index of a folder of the user's own recordings.

Each audio file (WAV, FLAC, OGG, MP3; any folder layout) gets a description built from
- its category in a dataset CSV: ESC-50's ``meta/esc50.csv`` (``filename,fold,target,category,...``)
  or any ``*.csv`` at the root or in ``meta/`` with ``filename``/``slice_file_name`` and
  ``category``/``class``/``label`` columns;
- a sidecar text file with the same stem (``rain.wav`` + ``rain.txt``);
- the folder names under the root and the words of its file name (codes like ``1-100032-A-0``
  carry no words and are dropped).

Each file's header is read when it is indexed (frames, rate, channels): a file that cannot be
read (damaged, empty, not really audio, no permission) is listed in :attr:`SampleIndex.skipped`
with the reason and is never offered by :meth:`SampleIndex.search`; a folder with no readable
file at all is an error that names the files and why.

Descriptions are embedded with the packaged MiniLM (:func:`studio.text_embed.embed`). The index
is cached as ``.studio-index.json`` + ``.studio-index.npy`` in the folder (or, when the folder
is read-only, under ``~/.cache/soundscape-studio/samples/``) and refreshed when files are
added, removed or changed (size or modification time): unchanged descriptions are not re-embedded,
and unreadable files are checked again on every load (a permission fix changes no mtime). A
running backend does the same: :meth:`SampleIndex.is_stale` (stat calls) and
:meth:`SampleIndex.has_recovered_files` (the headers of the skipped files only) tell it when to
reload.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from studio.errors import AudioError, InputError, first_line
from studio.text_embed import EMBED_DIM

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")
# other audio/video containers people keep recordings in: named in the "no audio files" error
_OTHER_AUDIO_EXTS = (".m4a", ".aac", ".aif", ".aiff", ".wma", ".opus", ".mp4", ".mov", ".webm", ".caf", ".amr")
INDEX_VERSION = 2
INDEX_NAME = ".studio-index"
_FILE_COLS = ("filename", "slice_file_name", "file", "fname")
_CAT_COLS = ("category", "class", "label", "labels")
_WORD_RE = re.compile(r"[a-z]+")
_STOP = {"wav", "flac", "ogg", "mp3", "audio", "sound", "sounds", "sample", "samples", "take", "mix", "final"}


@dataclass(frozen=True)
class SampleEntry:
    path: str  # relative to the root, "/"-separated
    size: int
    mtime_ns: int
    text: str
    sidecar_mtime_ns: int = 0  # 0: no sidecar .txt
    frames: int = 0  # from the file header, at its own rate
    sample_rate: int = 0
    channels: int = 0
    error: str = ""  # why the file cannot be read ("" when it can)

    @property
    def readable(self) -> bool:
        return not self.error


def _words(text: str) -> list[str]:
    # camelCase and snake_case to words; single letters and codes dropped
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()
    return [w for w in _WORD_RE.findall(text) if len(w) > 1 and w not in _STOP]


def _dataset_csvs(root: Path) -> list[Path]:
    return sorted(root.glob("*.csv")) + sorted((root / "meta").glob("*.csv"))


def _csv_stamp(root: Path) -> list[list]:
    """(name, size, mtime) of the dataset CSVs: a change re-describes every file."""
    stamp = []
    for p in _dataset_csvs(root):
        try:
            st = p.stat()
            stamp.append([p.relative_to(root).as_posix(), int(st.st_size), int(st.st_mtime_ns)])
        except OSError:
            continue
    return stamp


def _with_ext(base: Path, ext: str) -> Path:
    return base.parent / (base.name + ext)


def _sidecar_mtime(path: Path) -> int:
    try:
        return int(path.with_suffix(".txt").stat().st_mtime_ns)
    except OSError:
        return 0


def _dataset_categories(root: Path) -> dict[str, str]:
    """Base file name -> category from dataset CSVs (ESC-50 and alike)."""
    out: dict[str, str] = {}
    for csv_path in _dataset_csvs(root):
        try:
            with csv_path.open(newline="", encoding="utf-8", errors="replace") as fh:
                reader = csv.DictReader(fh)
                cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
                fcol = next((cols[c] for c in _FILE_COLS if c in cols), None)
                ccol = next((cols[c] for c in _CAT_COLS if c in cols), None)
                if fcol is None or ccol is None:
                    continue
                for row in reader:
                    name = (row.get(fcol) or "").strip()
                    cat = (row.get(ccol) or "").strip()
                    if name and cat:
                        out[Path(name).name] = cat.replace("_", " ")
        except (OSError, csv.Error):
            continue
    return out


def describe(root: Path, path: Path, categories: dict[str, str]) -> str:
    """The text a file is matched by (see the module docstring)."""
    parts: list[str] = []
    if path.name in categories:
        parts.append(categories[path.name])
    sidecar = path.with_suffix(".txt")
    if sidecar.is_file():
        try:
            parts.append(sidecar.read_text(encoding="utf-8", errors="replace").strip()[:500])
        except OSError:
            pass
    rel = path.relative_to(root)
    folder_words = [w for part in rel.parts[:-1] for w in _words(part)]
    name_words = _words(path.stem)
    if name_words:
        parts.append(" ".join(name_words))
    if folder_words:
        parts.append(" ".join(folder_words))
    text = "; ".join(p for p in parts if p)
    return text or path.stem


def scan(root: Path, problems: Optional[dict] = None) -> list[tuple[Path, os.stat_result]]:
    """Audio files under ``root`` (hidden folders skipped), sorted by relative path.

    ``problems`` (optional dict) receives ``"unreadable_dirs"`` (folders that could not be
    listed) and ``"other_formats"`` (suffixes of recordings in formats this backend does not
    read), for error messages."""
    found = []
    bad_dirs: list[str] = []
    other: set[str] = set()

    def _onerror(err: OSError) -> None:
        bad_dirs.append(f"{err.filename} ({err.strerror or type(err).__name__})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=_onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            lower = name.lower()
            if lower.endswith(AUDIO_EXTS):
                p = Path(dirpath) / name
                try:
                    st = p.stat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):  # a folder called "x.wav" is not a recording
                    found.append((p, st))
            elif lower.endswith(_OTHER_AUDIO_EXTS):
                other.add(Path(lower).suffix)
    found.sort(key=lambda item: item[0].relative_to(root).as_posix())
    if problems is not None:
        problems["unreadable_dirs"] = bad_dirs
        problems["other_formats"] = sorted(other)
    return found


def probe(path: Path) -> tuple[int, int, int, str]:
    """``(frames, sample_rate, channels, error)`` from the file's header; ``error`` is "" when
    the file can be read and says why not otherwise."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # noqa: BLE001 - libsndfile raises several types
        return 0, 0, 0, _reason(exc)
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        return 0, 0, 0, "no audio frames"
    return int(info.frames), int(info.samplerate), int(info.channels), ""


def _reason(exc: BaseException) -> str:
    text = first_line(exc, None)
    if isinstance(exc, PermissionError) or "ermission denied" in text:
        return "permission denied"
    # libsndfile: "Error opening '<path>': Format not recognised." -> the part after the path
    text = text.split("': ", 1)[-1] if "': " in text else text
    return text.strip().rstrip(".")[:120] or type(exc).__name__


class SampleIndex:
    """Entries plus an L2-normalised embedding matrix ``(n, 384)``."""

    def __init__(self, root: Path, entries: list[SampleEntry], vectors: np.ndarray,
                 signature: Optional[list] = None) -> None:
        self.root = root
        self.entries = entries
        self.vectors = vectors.astype(np.float32)
        self.refreshed = True  # whether the last load_or_build rewrote the cache
        self.embedded = len(entries)  # distinct descriptions embedded by the last load_or_build
        self.signature = signature  # what the folder looked like when indexed (see is_stale)

    def __len__(self) -> int:
        """The number of readable recordings (those :meth:`search` can offer)."""
        return sum(1 for e in self.entries if e.readable)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """``(relative path, reason)`` of the audio files that cannot be read."""
        return [(e.path, e.error) for e in self.entries if not e.readable]

    def is_stale(self) -> bool:
        """Whether files, sidecars or dataset CSVs changed since this index was built (stat
        calls only: cheap enough to check before every use)."""
        return self.signature != _signature(self.root, scan(self.root))

    def has_recovered_files(self) -> bool:
        """Whether a skipped (unreadable) file reads now. Fixing a permission, or replacing a
        file in place with the same size and mtime, changes nothing :meth:`is_stale` sees, so
        the headers of the skipped files (and only those) are read again."""
        return any(not probe(self.absolute(e))[3] for e in self.entries if not e.readable)

    # -- building and caching ------------------------------------------------------------

    @classmethod
    def load_or_build(cls, folder: str | Path, *, cache_dir: Optional[str | Path] = None) -> "SampleIndex":
        """The index of ``folder``, from the cache when nothing changed, refreshed otherwise.

        Raises InputError when the folder does not exist or holds no audio files.
        """
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise InputError(f"sample folder {str(root)!r} does not exist or is not a folder")
        root = root.resolve()
        problems: dict = {}
        files = scan(root, problems)
        if not files:
            notes = ""
            if problems["other_formats"]:
                notes += f"; it has {', '.join(problems['other_formats'])} files, which are not read: convert them"
            if problems["unreadable_dirs"]:
                notes += f"; folders that could not be listed: {', '.join(problems['unreadable_dirs'][:3])}"
            raise InputError(
                f"sample folder {str(root)!r} has no audio files; add WAV, FLAC, OGG or MP3 recordings "
                f"(any sub-folders){notes}"
            )
        cache_base = cls._cache_base(root, cache_dir)
        stamp = _csv_stamp(root)
        cached_entries, cached_vectors, cached_stamp = cls._read_cache(cache_base)
        by_key = {}
        if cached_stamp == stamp:
            by_key = {(e.path, e.size, e.mtime_ns, e.sidecar_mtime_ns): i for i, e in enumerate(cached_entries)}
        by_text = {e.text: i for i, e in enumerate(cached_entries)}
        categories = None
        entries: list[SampleEntry] = []
        vectors: list[Optional[np.ndarray]] = []
        to_embed: list[int] = []
        for path, st in files:
            rel = path.relative_to(root).as_posix()
            sidecar_ns = _sidecar_mtime(path)
            hit = by_key.get((rel, st.st_size, st.st_mtime_ns, sidecar_ns))
            if hit is not None and cached_entries[hit].readable:
                entries.append(cached_entries[hit])
                vectors.append(cached_vectors[hit])
                continue
            if categories is None:
                categories = _dataset_categories(root)
            text = describe(root, path, categories)
            frames, rate, channels, error = probe(path)
            entries.append(SampleEntry(rel, int(st.st_size), int(st.st_mtime_ns), text, sidecar_ns,
                                       frames, rate, channels, error))
            if error:  # never offered by search: no embedding needed
                vectors.append(np.zeros(EMBED_DIM, np.float32))
            elif text in by_text and cached_entries[by_text[text]].readable:
                vectors.append(cached_vectors[by_text[text]])
            else:
                vectors.append(None)
                to_embed.append(len(entries) - 1)
        if not any(e.readable for e in entries):
            listed = ", ".join(f"{e.path} ({e.error})" for e in entries[:5])
            more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            raise AudioError(
                f"sample folder {str(root)!r} has no readable recordings: {listed}{more}; "
                f"add WAV, FLAC, OGG or MP3 files that play"
            )
        unique_texts = list(dict.fromkeys(entries[i].text for i in to_embed))
        if unique_texts:
            from studio.text_embed import embed

            # datasets repeat descriptions (ESC-50: 40 files per category): embed each once
            fresh = dict(zip(unique_texts, embed(unique_texts)))
            for i in to_embed:
                vectors[i] = fresh[entries[i].text]
        matrix = np.stack(vectors).astype(np.float32)
        index = cls(root, entries, matrix, signature=_signature(root, files))
        index.refreshed = entries != cached_entries or stamp != cached_stamp
        index.embedded = len(unique_texts)
        if index.refreshed:
            index._write_cache(cache_base, stamp)
        return index

    @staticmethod
    def _cache_base(root: Path, cache_dir: Optional[str | Path]) -> Path:
        if cache_dir is not None:
            base = Path(cache_dir).expanduser()
            digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
            return base / f"{digest}{INDEX_NAME}"
        if os.access(root, os.W_OK):
            return root / INDEX_NAME
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
        return Path.home() / ".cache" / "soundscape-studio" / "samples" / f"{digest}{INDEX_NAME}"

    @staticmethod
    def _read_cache(base: Path) -> tuple[list[SampleEntry], np.ndarray, Optional[list]]:
        json_path, npy_path = _with_ext(base, ".json"), _with_ext(base, ".npy")
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
            if meta.get("version") != INDEX_VERSION:
                raise ValueError("old index")
            entries = [SampleEntry(**e) for e in meta["entries"]]
            vectors = np.load(npy_path)
            if vectors.shape != (len(entries), vectors.shape[1] if vectors.ndim == 2 else -1):
                raise ValueError("index shape mismatch")
            return entries, vectors, meta.get("csv_stamp")
        except (OSError, ValueError, KeyError, TypeError):
            return [], np.zeros((0, EMBED_DIM), np.float32), None

    def _write_cache(self, base: Path, stamp: list) -> None:
        """Atomic writes (temp file, then rename); a read-only place just skips caching."""
        try:
            base.parent.mkdir(parents=True, exist_ok=True)
            meta = {"version": INDEX_VERSION, "root": str(self.root), "csv_stamp": stamp,
                    "entries": [e.__dict__ for e in self.entries]}
            for suffix, write in ((".npy", lambda fh: np.save(fh, self.vectors)),
                                  (".json", lambda fh: fh.write(json.dumps(meta).encode()))):
                fd, tmp = tempfile.mkstemp(dir=base.parent, prefix=".tmp-index-")
                with os.fdopen(fd, "wb") as fh:
                    write(fh)
                os.replace(tmp, _with_ext(base, suffix))
        except OSError:
            pass

    # -- search --------------------------------------------------------------------------

    def search(self, prompt: str, top_k: int = 5, *, exclude: frozenset[str] = frozenset()) -> list[tuple[SampleEntry, float]]:
        """The ``top_k`` readable entries most similar to ``prompt`` (cosine, best first; ties
        by path), leaving out the relative paths in ``exclude``. May be empty."""
        from studio.text_embed import embed

        query = embed([prompt])[0]
        sims = self.vectors @ query
        usable = [i for i, e in enumerate(self.entries) if e.readable and e.path not in exclude]
        order = sorted(usable, key=lambda i: (-float(sims[i]), self.entries[i].path))
        return [(self.entries[i], float(sims[i])) for i in order[: max(1, int(top_k))]]

    def absolute(self, entry: SampleEntry) -> Path:
        return self.root / entry.path


def read_audio(path: Path, start: int = 0, frames: int = -1) -> tuple[np.ndarray, int]:
    """float32 ``(channels, frames)`` and its rate, or AudioError naming the file.

    ``start``/``frames`` read only that part (in the file's own frames; -1: to the end), so a
    long field recording is never loaded whole for a short crop."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), frames=frames, start=start, dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - libsndfile raises several types
        raise AudioError(f"cannot read sample {str(path)!r}: {_reason(exc)}") from None
    if data.shape[0] == 0:
        raise AudioError(f"sample {str(path)!r} is empty")
    if not np.isfinite(data).all():  # float files can hold NaN/inf; they would poison the mix
        raise AudioError(f"sample {str(path)!r} contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(rate)


def _signature(root: Path, files: list[tuple[Path, os.stat_result]]) -> list:
    return [_csv_stamp(root)] + [
        [p.relative_to(root).as_posix(), int(st.st_size), int(st.st_mtime_ns), _sidecar_mtime(p)] for p, st in files
    ]
