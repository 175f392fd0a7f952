"""``python -m studio batch``: resumable after a kill (no duplicates, nothing lost), a bad image
reported and skipped, a manifest per item and a summary CSV; the same run on a local Ray."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def _images(folder: Path, names) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def _rows(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _finished(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (out / "items").glob("*/record.json")}


def test_kill_mid_run_then_resume_loses_nothing_and_duplicates_nothing(tmp_path):
    names = sorted(p.name for p in EXAMPLES.glob("*.jpg"))[:5]
    images = _images(tmp_path / "imgs", names)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "studio", "batch", str(images), "--out", str(out), "--seconds", "5"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(_finished(out)) < 2:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    first = _finished(out)
    assert 1 <= len(first) < len(names), "the kill should land mid-run"
    assert not any(p.is_dir() and p.name not in first for p in (out / "items").iterdir())  # nothing half-finished
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["skipped"] == len(first) and summary["rendered"] == len(names) - len(first)
    second = _finished(out)
    assert sorted(Path(r["image"]).name for r in second.values()) == names  # every image once
    for key, record in first.items():  # finished items were not rendered again
        assert second[key]["worker_pid"] == record["worker_pid"] and second[key]["seconds"] == record["seconds"]
    rows = _rows(out)
    assert sorted(r["image"] for r in rows) == names and all(r["status"] == "ok" for r in rows)
    for key in second:
        manifest = json.loads((out / "items" / key / "manifest.json").read_text())
        assert manifest["format"] == "soundscape-studio.manifest" and "scores" in manifest
    assert not (out / ".staging").exists()


def test_bad_image_is_reported_and_skipped(tmp_path, capsys):
    from studio.cli import main

    images = _images(tmp_path / "imgs", ["lake_at_dusk.jpg"])
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    assert main(["batch", str(images), "--out", str(tmp_path / "out"), "--seconds", "5", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("error: ") == 1 and "broken.png" in captured.err
    summary = json.loads(captured.out)
    assert summary["rendered"] == 1 and [f["image"].endswith("broken.png") for f in summary["failed"]] == [True]
    rows = {r["image"]: r for r in _rows(tmp_path / "out")}
    assert rows["lake_at_dusk.jpg"]["status"] == "ok" and rows["broken.png"]["status"] == "failed"
    assert rows["broken.png"]["error"]


def test_two_local_workers_render_every_image_once(tmp_path):
    from studio.batch import FolderRun, RenderOptions, find_images, plan_items

    images, _ = find_images(_images(tmp_path / "imgs", ["lake_at_dusk.jpg", "snowy_field.jpg", "forest_path.jpg"]))
    result = FolderRun(tmp_path / "out", plan_items(images, ["meditation"], [0]), RenderOptions(duration_s=5.0),
                       workers=2, progress=None).run()
    assert result.rendered == 3 and result.failed == 0
    pids = {r["worker_pid"] for r in result.records}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    ray.shutdown()


def test_ray_local_cluster_one_task_per_image(tmp_path, local_ray):
    from studio.batch import FolderRun, RenderOptions, find_images, plan_items

    images = _images(tmp_path / "imgs", ["lake_at_dusk.jpg", "desert_at_sunset.jpg"])
    (images / "bad.jpg").write_text("not an image")
    found, _ = find_images(images)
    items = plan_items(found, ["meditation"], [0])
    result = FolderRun(tmp_path / "out", items, RenderOptions(duration_s=5.0), ray="auto", progress=None).run()
    assert result.rendered == 2 and result.failed == 1
    pids = {r["worker_pid"] for r in result.finished}
    assert os.getpid() not in pids  # rendered in Ray worker processes
    for r in result.finished:  # files came back from the tasks and were committed
        assert (tmp_path / "out" / r["folder"] / "mix.wav").is_file()
        assert len(list((tmp_path / "out" / r["folder"] / "stems").glob("*.flac"))) == len(r["layers"])
    again = FolderRun(tmp_path / "out", items, RenderOptions(duration_s=5.0), ray="auto", progress=None).run()
    assert again.skipped == 2 and again.rendered == 0
