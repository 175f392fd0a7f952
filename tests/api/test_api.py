"""The HTTP API through FastAPI's TestClient: upload, random example, jobs, results,
validation, cancellation, authentication, persistence across a restart."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import numpy as np
import pytest
import soundfile as sf

from conftest import EXAMPLES, TOKEN, make_client, wait_for


def _upload(client, name="lake_at_dusk.jpg", headers=None):
    data = (EXAMPLES / name).read_bytes()
    return client.post("/images", files={"file": (name, data, "image/jpeg")}, headers=headers or {})


def test_image_to_soundscape_results(client):
    up = _upload(client)
    assert up.status_code == 201
    image_id = up.json()["image_id"]
    assert len(image_id) == 32 and up.json()["width"] == 960
    job = client.post("/soundscapes", json={"image_id": image_id, "duration_s": 5, "seed": 4})
    assert job.status_code == 202 and job.json()["status"] in ("queued", "running")
    done = wait_for(client, job.json()["job_id"])
    assert done["status"] == "succeeded" and done["progress"] == 1.0, done["error"]
    sid = done["job_id"]
    mix = client.get(done["results"]["mix"])
    assert mix.status_code == 200 and mix.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(mix.content), dtype="float32")
    assert rate == 48000 and audio.shape == (5 * 48000, 2) and np.isfinite(audio).all()
    manifest = client.get(f"/soundscapes/{sid}/manifest").json()
    assert manifest["plan"]["seed"] == 4 and manifest["image"]["filename"] == "lake_at_dusk.jpg"
    zf = zipfile.ZipFile(io.BytesIO(client.get(f"/soundscapes/{sid}/stems.zip").content))
    stems = [n for n in zf.namelist() if n.startswith("stems/")]
    assert len(stems) == len(manifest["layers"]) and "manifest.json" in zf.namelist()
    # the same plan re-renders byte-exactly from the served manifest
    assert json.loads(zf.read("manifest.json"))["plan"] == manifest["plan"]


def test_caption_and_random_image(client):
    rnd = client.get("/images/random")
    assert rnd.status_code == 200
    assert rnd.json()["filename"] in {p.name for p in EXAMPLES.glob("*.jpg")}
    again = client.get("/images/random").json()
    if again["filename"] == rnd.json()["filename"]:
        assert again["image_id"] == rnd.json()["image_id"]  # one id per example, not a new copy each time
    job = client.post("/soundscapes", json={"caption": "rain on a tin roof at night", "style": "sleep", "duration_s": 5})
    done = wait_for(client, job.json()["job_id"])
    assert done["status"] == "succeeded"
    manifest = client.get(done["results"]["manifest"]).json()
    assert manifest["plan"]["caption"]["text"] == "rain on a tin roof at night" and manifest["plan"]["style"] == "sleep"


@pytest.mark.parametrize("body, words", [
    ({}, "give an image_id or a non-blank caption"),
    ({"caption": "   "}, "non-blank caption"),
    ({"caption": "sea", "duration_s": 4}, "greater than or equal to 5"),
    ({"caption": "sea", "duration_s": 601}, "less than or equal to 600"),
    ({"caption": "sea", "seed": -1}, "greater than or equal to 0"),
    ({"caption": "sea", "style": "disco"}, "unknown style 'disco'"),
    ({"caption": "sea", "image_id": "../../etc/passwd"}, "should match pattern"),
    ({"caption": "sea", "extra": 1}, "Extra inputs are not permitted"),
    ({"caption": "sea", "planner": "oracle"}, "rules"),
])
def test_bad_requests_are_422_with_the_reason(client, body, words):
    r = client.post("/soundscapes", json=body)
    assert r.status_code == 422 and words in json.dumps(r.json())


def test_unknown_and_malformed_ids(client):
    assert client.post("/soundscapes", json={"image_id": "0" * 32}).status_code == 404
    assert client.get("/jobs/" + "0" * 32).status_code == 404
    for bad in ("..%2F..%2Fapi.sqlite", "ZZ" * 16, "0" * 31):
        assert client.get(f"/jobs/{bad}").status_code in (404, 422)
        assert client.get(f"/soundscapes/{bad}/mix").status_code in (404, 422)
    assert client.get("/soundscapes/" + "0" * 32 + "/manifest").status_code == 404


def test_bad_uploads(tmp_path):
    with make_client(tmp_path / "d", max_upload_bytes=50_000) as client:
        r = client.post("/images", files={"file": ("notes.jpg", b"just some text here", "image/jpeg")})
        assert r.status_code == 422 and "contains text, not image data" in r.json()["detail"]
        big = _upload(client, "forest_path.jpg")  # 99 kB: over this server's 50 kB limit
        assert big.status_code == 413 and "larger than" in big.json()["detail"]
        r = client.post("/images", files={"file": ("../../evil.png", (EXAMPLES / "forest_path.jpg").read_bytes()[:40_000], "image/png")})
        assert r.status_code == 422  # a truncated JPEG is refused; and its name never becomes a path
    assert not any(p.name.startswith("evil") for p in (tmp_path / "d").rglob("*"))


def test_cancel_running_and_finished_jobs(client):
    job = client.post("/soundscapes", json={"caption": "waves on a beach", "duration_s": 600}).json()
    wait_for(client, job["job_id"], until=("running",))
    r = client.delete(f"/jobs/{job['job_id']}")
    assert r.status_code == 200
    assert wait_for(client, job["job_id"])["status"] == "cancelled"
    assert client.delete(f"/jobs/{job['job_id']}").status_code == 409
    assert client.get(f"/soundscapes/{job['job_id']}/mix").status_code == 409


def test_restart_keeps_finished_and_fails_interrupted(tmp_path):
    data = tmp_path / "data"
    with make_client(data) as client:
        done = client.post("/soundscapes", json={"caption": "a quiet forest", "duration_s": 5}).json()
        wait_for(client, done["job_id"])
    # a job a crashed server left running
    with sqlite3.connect(data / "api.sqlite") as db:
        db.execute("INSERT INTO jobs (id,status,request,created,updated) VALUES (?,?,?,?,?)",
                   ("a" * 32, "running", "{}", 0.0, 0.0))
    with make_client(data) as client:
        assert client.get(f"/jobs/{done['job_id']}").json()["status"] == "succeeded"
        assert client.get(f"/soundscapes/{done['job_id']}/mix").status_code == 200
        lost = client.get("/jobs/" + "a" * 32).json()
        assert lost["status"] == "failed" and lost["error"].startswith("interrupted: the server stopped")


def test_bearer_token(tmp_path):
    with make_client(tmp_path / "d", token=TOKEN) as client:
        assert client.get("/images/random").status_code == 401
        assert client.get("/images/random", headers={"Authorization": "Bearer wrong-token-123456"}).status_code == 401
        assert client.get("/images/random", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert client.get("/openapi.json").status_code == 200  # the schema stays readable


def test_serve_refuses_open_bind_without_token(capsys, monkeypatch):
    from studio.cli import main

    monkeypatch.delenv("STUDIO_API_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to bind to '0.0.0.0' without a token" in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0", "--token", "short"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    from studio.cli.cmd_serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("192.168.1.5")
