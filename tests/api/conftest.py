"""A TestClient on a fresh data folder; jobs are real (short) renders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"
TOKEN = "correct-horse-battery-staple"


def make_app(data_dir: Path, **settings):
    from studio.api.app import ApiSettings, create_app

    return create_app(ApiSettings(data_dir=data_dir, **settings))


def make_client(data_dir: Path, **settings):
    from fastapi.testclient import TestClient

    return TestClient(make_app(data_dir, **settings))


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "data") as c:
        yield c


def wait_for(client, job_id: str, *, until=("succeeded", "failed", "cancelled"), timeout_s: float = 180.0, headers=None) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers or {}).json()
        if job["status"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s} s")
