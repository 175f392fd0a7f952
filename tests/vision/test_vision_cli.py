"""``python -m studio caption``: JSON on stdout, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from vision_helpers import encode, scene

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["caption", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_analysis_caption_json(capsys, scene_image: Path):
    code, out, err = run_cli(capsys, str(scene_image))
    assert code == 0 and err == ""
    assert out["source"] == "analysis" and out["model"] is None
    assert out["text"].startswith("Blue sky above green vegetation")
    assert {"sky", "vegetation", "lake"} <= set(out["cues"])
    assert "tags" not in out
    assert out["image"]["filename"] == scene_image.name and out["image"]["original_size"] == [320, 240]


@pytest.mark.parametrize(
    "name,data,message",
    [("empty.jpg", b"", "is empty (0 bytes)"),
     ("notes.jpg", b"hello, this is not a picture\n" * 4, "contains text, not image data"),
     ("cut.jpg", encode(scene((1, 2, 3), (200, 100, 50)), "JPEG")[:300], "truncated or corrupt")],
)  # fmt: skip
def test_bad_images_give_one_line_and_exit_2(capsys, tmp_path: Path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = run_cli(capsys, str(path))
    assert code == 2 and out is None
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_file_and_unknown_captioner(capsys, tmp_path: Path, scene_image: Path):
    code, _, err = run_cli(capsys, str(tmp_path / "nope.png"))
    assert code == 2 and "image file not found" in err
    code, _, err = run_cli(capsys, str(scene_image), "--captioner", "gpt")
    assert code == 2 and "unknown captioner 'gpt'; choose one of: analysis, blip2, blip" in err
    code, _, err = run_cli(capsys, str(scene_image), "--prompt", "a photo of")
    assert code == 2 and "--prompt applies to the neural captioners" in err


def test_neural_caption_with_tags(capsys, tiny_dirs, scene_image: Path):
    code, out, err = run_cli(
        capsys, str(scene_image), "--captioner", "blip", "--model", str(tiny_dirs["blip"]),
        "--prompt", "a photograph of", "--tags", "--tag-model", str(tiny_dirs["clip"]),
        "--top-k", "3", "--device", "cpu",
    )  # fmt: skip
    assert code == 0, err
    assert out["source"] == "blip" and out["model"] == str(tiny_dirs["blip"])
    assert out["text"].startswith("a photograph of ")
    assert out["cues"] == []
    assert len(out["tags"]) == 3
    scores = [t["score"] for t in out["tags"]]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0


def test_missing_neural_model_is_a_clear_error(capsys, scene_image: Path):
    code, out, err = run_cli(capsys, str(scene_image), "--captioner", "blip2", "--model", "Salesforce/absent-model")
    assert code == 2 and out is None
    assert "'Salesforce/absent-model'" in err and "models download" in err and "Traceback" not in err


def test_module_entry_point_runs_offline(scene_image: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "caption", str(scene_image)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["source"] == "analysis"
    assert "torch" not in proc.stderr
