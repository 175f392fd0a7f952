"""Render a folder of images unattended: the one folder-runner behind ``python -m studio batch``
and ``python -m studio evaluate`` (docs/api.md, docs/evaluation.md).

Layout under ``out``::

    items/<key>/                 one finished item: mix.wav, stems/, manifest.json, record.json
                                 (+ thumb.png and spectrogram PNGs for an evaluation)
    failed/<key>.json            the last failure of an item that is not finished
    summary.csv                  one row per item (finished or failed), rebuilt from the above
    .staging/                    items being rendered; cleared on the next run

An item is one (image, style, seed). Its ``key`` is a slug of the file name plus a hash of the
name, style and seed, so a re-run finds it again. An item is rendered into ``.staging/`` and
renamed into ``items/`` only when every file, ``record.json`` last, is written: a killed run
leaves nothing half-finished under ``items/``, and the next run skips exactly the items there
(resumable, no duplicates). A bad image is one ``error:`` line and a ``failed/`` record; it does
not stop the run, and the next run tries it again.

Execution: ``workers=1`` renders in this process; ``workers=N`` uses N spawned processes, each
keeping its own pipeline (models load once per process); ``ray="auto"|ADDRESS`` submits one Ray
task per item. A Ray task gets the image bytes and returns the item's files as bytes, so cluster
nodes need neither the images folder nor the output folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, TextIO

from studio.errors import InputError, StudioError, first_line
from studio.types import slugify

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
MAX_WORKERS = 32
SUMMARY_FIELDS = (
    "key", "image", "style", "seed", "status", "error", "duration_s", "layers", "backends", "planner",
    "integrated_lufs", "lra_lu", "true_peak_dbtp", "mono_loudness_drop_db", "caption_plan_minilm",
    "clip_image_caption", "clap_caption_mix", "overall", "seconds", "folder",
)


@dataclass(frozen=True)
class Item:
    """One render: an image file with a style and a seed. ``key`` names its folder."""

    key: str
    image: str
    style: str
    seed: int


@dataclass(frozen=True)
class RenderOptions:
    """What every item shares. ``duration_s`` None uses each style's default; ``report_media``
    adds the thumbnail and spectrograms an evaluation report shows."""

    duration_s: Optional[float] = None
    captioner: str = "analysis"
    planner: str = "rules"
    mix_format: str = "wav"
    report_media: bool = False


@dataclass
class RunResult:
    """Records of every item (finished ones from ``items/``, failures from ``failed/``)."""

    out: Path
    records: list[dict[str, Any]]
    rendered: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def finished(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok"]


# ---------------------------------------------------------------------------- planning a run


def find_images(folder: str | Path) -> tuple[list[Path], list[str]]:
    """Image files in ``folder`` (not recursive, sorted by name) and one line per other file.
    InputError when the folder is missing or holds no image file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"images folder {str(folder)!r} does not exist or is not a folder")
    images, problems = [], []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            images.append(path)
        else:
            problems.append(f"skipped {path.name}: not an image file (allowed: {', '.join(IMAGE_SUFFIXES)})")
    if not images:
        raise InputError(f"images folder {str(folder)!r} holds no image files (allowed: {', '.join(IMAGE_SUFFIXES)})")
    return images, problems


def item_key(image: str | Path, style: str, seed: int) -> str:
    name = Path(image).name
    digest = hashlib.sha256(f"{name}\0{style}\0{seed}".encode()).hexdigest()[:8]
    return f"{slugify(Path(name).stem, 32) or 'image'}-{style}-s{seed}-{digest}"


def plan_items(images: Iterable[str | Path], styles: Sequence[str], seeds: Sequence[int]) -> list[Item]:
    """Every (image, style, seed) combination, in image order."""
    return [Item(item_key(img, style, seed), str(img), style, seed) for img in images for style in styles for seed in seeds]


# ---------------------------------------------------------------------------- one item (runs in a worker)

_PIPELINES: dict[tuple, Any] = {}


def _pipeline(options: RenderOptions) -> Any:
    """One pipeline per worker process and options, so models load once per process."""
    from studio.pipeline import SoundscapePipeline

    key = (options.captioner, options.planner)
    if key not in _PIPELINES:
        _PIPELINES[key] = SoundscapePipeline(captioner=options.captioner, planner=options.planner)
    return _PIPELINES[key]


def _memory_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    import resource

    import psutil

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return psutil.Process().memory_info().rss / 2**20, peak_kb / 1024


class _Stages:
    """Wall time and memory of each stage of one item."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._t = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        rss, peak = _memory_mb()
        self.rows.append({"stage": stage, "seconds": round(now - self._t, 3), "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1)})
        self._t = now


def render_item(item: Item, options: RenderOptions, folder: Path, image_bytes: Optional[bytes] = None) -> dict[str, Any]:
    """Render ``item`` into ``folder``: mix, stems, a manifest with scores, report media and
    ``record.json`` (written last). Returns the record. StudioError for a bad image or input."""
    pipe = _pipeline(options)
    pipe.notes.clear()
    stages = _Stages()
    started = time.perf_counter()
    source = image_bytes if image_bytes is not None else item.image
    image = pipe.load_image(source, filename=Path(item.image).name)
    stages.done("load image")
    caption = pipe.caption(image)
    stages.done("caption")
    plan = pipe.plan(caption, style=item.style, duration_s=options.duration_s, seed=item.seed)
    stages.done("plan")
    scape = pipe.render(plan)
    stages.done("render")
    scores = pipe.score(scape, image=image)
    stages.done("score")
    image_info = dict(image.info.get("studio", {})) or {"filename": Path(item.image).name}
    result = pipe.export(scape, folder, image_info=image_info, scores=scores, mix_format=options.mix_format)
    stages.done("export")
    if options.report_media:
        from studio.evaluation.report import write_item_media

        write_item_media(folder, image, scape)
        stages.done("report media")
    files = {key: str(Path(path).relative_to(folder)) for key, path in result.items()}
    record = {
        **asdict(item),
        "status": "ok",
        "error": None,
        "caption": caption.text,
        "captioner": caption.source,
        "planner": scape.plan.planner,
        "duration_s": scape.duration_s,
        "layers": [
            {"name": s.spec.name, "role": s.spec.role, "prompt": s.spec.prompt, "backend": s.backend, "model": s.model,
             "gain_db": s.spec.gain_db}
            for s in scape.stems
        ],
        "master": {k: scape.master.get(k) for k in ("integrated_lufs", "true_peak_dbtp", "mono_loudness_drop_db")},
        "scores": scores,
        "files": files,
        "notes": scape.notes(pipe.notes),
        "stages": stages.rows,
        "seconds": round(time.perf_counter() - started, 3),
        "worker_pid": os.getpid(),
    }
    _write_json(folder / "record.json", record)
    return record


def _write_json(path: Path, data: Any) -> None:
    from studio.atomic import write_bytes_atomic

    write_bytes_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode())


def _failure(item: Item, exc: BaseException) -> dict[str, Any]:
    message = str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {first_line(exc)}"
    return {**asdict(item), "status": "failed", "error": first_line(message, None)}


def _work_local(item: Item, options: RenderOptions, staging: str) -> dict[str, Any]:
    """Process-pool entry: render into ``staging`` (a folder of the output's file system)."""
    try:
        return render_item(item, options, Path(staging))
    except Exception as exc:  # noqa: BLE001 - one bad item must not stop the batch
        return _failure(item, exc)


def _work_remote(item: Item, options: RenderOptions, image_bytes: bytes) -> dict[str, Any]:
    """Ray task body: render in a node-local temp folder; the files travel back as bytes."""
    with tempfile.TemporaryDirectory(prefix="studio-item-") as tmp:
        try:
            record = render_item(item, options, Path(tmp), image_bytes=image_bytes)
        except Exception as exc:  # noqa: BLE001
            return _failure(item, exc)
        record["_payload"] = {str(p.relative_to(tmp)): p.read_bytes() for p in Path(tmp).rglob("*") if p.is_file()}
        return record


# ---------------------------------------------------------------------------- the run


class _ProgressBar:
    """``[#####-----] 3/8 name`` on a terminal; one plain line per item otherwise."""

    def __init__(self, total: int, stream: Optional[TextIO], done: int = 0) -> None:
        self.total, self.done, self.stream = total, done, stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def step(self, label: str) -> None:
        self.done += 1
        if self.stream is None:
            return
        width = 24
        filled = int(width * self.done / max(1, self.total))
        line = f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} {label}"
        self.stream.write(f"\r{line[:100]:<100}" if self.tty else line + "\n")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(("\n" if self.tty else "") + text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.stream is not None:
            self.stream.write("\n")


class FolderRun:
    """Render ``items`` under ``out`` with ``workers`` local processes or on Ray.

    ``progress`` is the stream for the bar and the per-item error lines (None: silent);
    ``on_record(record)`` is called in this process as each item ends.
    """

    def __init__(self, out: str | Path, items: Sequence[Item], options: RenderOptions, *, workers: int = 1,
                 ray: Optional[str] = None, progress: Optional[TextIO] = sys.stderr,
                 on_record: Optional[Callable[[dict[str, Any]], None]] = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
            raise InputError(f"workers must be a whole number from 1 to {MAX_WORKERS}; got {workers!r}")
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"--out {str(self.out)!r} exists and is not a folder")
        self.items = list(items)
        self.options = options
        self.workers = workers
        self.ray = ray
        self.progress = progress
        self.on_record = on_record

    @property
    def items_dir(self) -> Path:
        return self.out / "items"

    @property
    def failed_dir(self) -> Path:
        return self.out / "failed"

    @property
    def staging_dir(self) -> Path:
        return self.out / ".staging"

    def is_finished(self, item: Item) -> bool:
        return (self.items_dir / item.key / "record.json").is_file()

    def run(self) -> RunResult:
        for d in (self.items_dir, self.failed_dir):
            d.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging_dir, ignore_errors=True)  # leftovers of a killed run
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        pending = [item for item in self.items if not self.is_finished(item)]
        result = RunResult(self.out, [], skipped=len(self.items) - len(pending))
        bar = _ProgressBar(len(self.items), self.progress, done=result.skipped)
        if result.skipped:
            bar.line(f"{result.skipped} of {len(self.items)} items already finished; skipping them")

        def finish(record: dict[str, Any]) -> None:
            item = Item(record["key"], record["image"], record["style"], record["seed"])
            if record["status"] == "ok":
                result.rendered += 1
                (self.failed_dir / f"{item.key}.json").unlink(missing_ok=True)
            else:
                result.failed += 1
                _write_json(self.failed_dir / f"{item.key}.json", record)
                bar.line(f"error: {Path(item.image).name}: {record['error']}")
            bar.step(Path(item.image).name)
            if self.on_record is not None:
                self.on_record(record)

        try:
            if self.ray:
                self._run_ray(pending, finish)
            elif self.workers == 1:
                for item in pending:
                    record = _work_local(item, self.options, str(self._stage(item)))
                    finish(self._commit(item, record))
            else:
                self._run_pool(pending, finish)
        finally:
            bar.close()
            shutil.rmtree(self.staging_dir, ignore_errors=True)
        result.records = self.collect()
        write_summary_csv(self.out / "summary.csv", result.records)
        return result

    def _stage(self, item: Item) -> Path:
        folder = self.staging_dir / f"{item.key}.{os.getpid()}.{time.monotonic_ns()}"
        folder.mkdir(parents=True)
        return folder

    def _commit(self, item: Item, record: dict[str, Any], staged: Optional[Path] = None) -> dict[str, Any]:
        """Move a finished item's staging folder into ``items/`` (one rename); a failed one's goes."""
        staged = staged or self._staged_folder(item)
        if record.get("status") == "ok" and staged is not None:
            final = self.items_dir / item.key
            if final.exists():  # finished by another run meanwhile: keep that one, no duplicate
                shutil.rmtree(staged, ignore_errors=True)
            else:
                os.replace(staged, final)
        elif staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        return record

    def _staged_folder(self, item: Item) -> Optional[Path]:
        found = sorted(self.staging_dir.glob(f"{item.key}.*"))
        return found[-1] if found else None

    def _run_pool(self, pending: list[Item], finish: Callable[[dict[str, Any]], None]) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn: a forked child of a process that loaded torch can deadlock in its thread pools.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, max(1, len(pending))), mp_context=ctx) as pool:
            futures = {pool.submit(_work_local, item, self.options, str(self._stage(item))): item for item in pending}
            for future in as_completed(futures):
                item = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker is that item's failure
                    record = _failure(item, exc)
                finish(self._commit(item, record))

    def _run_ray(self, pending: list[Item], finish: Callable[[dict[str, Any]], None]) -> None:
        ray = _ray_init(self.ray)
        remote = ray.remote(num_cpus=1, max_retries=1)(_work_remote)
        refs = {}
        for item in pending:
            try:
                data = Path(item.image).read_bytes()
            except OSError as exc:
                finish(_failure(item, InputError(f"cannot read {Path(item.image).name}: {exc.strerror or exc}")))
                continue
            refs[remote.remote(item, self.options, data)] = item
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            item = refs.pop(ready[0])
            try:
                record = ray.get(ready[0])
            except Exception as exc:  # noqa: BLE001 - a lost task is that item's failure
                record = _failure(item, exc)
            payload = record.pop("_payload", None)
            staged = None
            if payload is not None:
                staged = self._stage(item)
                for rel, data in payload.items():
                    (staged / rel).parent.mkdir(parents=True, exist_ok=True)
                    (staged / rel).write_bytes(data)
            finish(self._commit(item, record, staged))

    def collect(self) -> list[dict[str, Any]]:
        """The record of every item of this run: finished, else its last failure."""
        records = []
        for item in self.items:
            for path in (self.items_dir / item.key / "record.json", self.failed_dir / f"{item.key}.json"):
                if path.is_file():
                    record = json.loads(path.read_text(encoding="utf-8"))
                    if path.parent.name != "failed":
                        record["folder"] = str(path.parent.relative_to(self.out))
                    records.append(record)
                    break
        return records


def _ray_init(address: str) -> Any:
    """Connect to Ray: ``auto`` joins a running cluster or starts a local one; anything else is
    a cluster address (``ray://host:10001`` or ``host:6379``)."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs the ray package; run `pip install -r requirements-ray.txt`") from None
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError:
            if address != "auto":
                raise InputError(f"cannot connect to Ray at {address!r}; check the address and that the cluster is up") from None
            # No running cluster: start a local one whose workers import this same studio.
            here = str(Path(__file__).resolve().parents[1])
            path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
            ray.init(runtime_env={"env_vars": {"PYTHONPATH": path}}, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise InputError(f"cannot connect to Ray at {address!r}: {first_line(exc)}") from None
    return ray


def write_summary_csv(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """One row per item (``SUMMARY_FIELDS``), written atomically."""
    from studio.atomic import write_bytes_atomic

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow(summary_row(r))
    write_bytes_atomic(path, buf.getvalue().encode())


def summary_row(r: dict[str, Any]) -> dict[str, Any]:
    scores = r.get("scores") or {}
    offline = scores.get("offline") or {}
    loud = offline.get("loudness") or {}
    layers = r.get("layers") or []
    return {
        "key": r["key"], "image": Path(r["image"]).name, "style": r["style"], "seed": r["seed"],
        "status": r["status"], "error": r.get("error") or "", "duration_s": r.get("duration_s"),
        "layers": " ".join(layer["name"] for layer in layers),
        "backends": " ".join(sorted({layer["backend"] for layer in layers})),
        "planner": r.get("planner"),
        "integrated_lufs": loud.get("integrated_lufs"), "lra_lu": loud.get("lra_lu"),
        "true_peak_dbtp": loud.get("true_peak_dbtp"), "mono_loudness_drop_db": loud.get("mono_loudness_drop_db"),
        "caption_plan_minilm": (offline.get("caption_plan_minilm") or {}).get("mean"),
        "clip_image_caption": (scores.get("clip") or {}).get("image_caption"),
        "clap_caption_mix": (scores.get("clap") or {}).get("caption_mix"),
        "overall": (scores.get("overall") or {}).get("value"),
        "seconds": r.get("seconds"), "folder": r.get("folder", ""),
    }
