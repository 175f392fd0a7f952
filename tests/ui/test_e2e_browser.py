"""End to end in a real browser: ``streamlit run`` on a free localhost port, driven by
Playwright with Debian's ``chromium`` (never a downloaded browser).

Opens a page by its URL on the fresh server (the app's navigation must be there), then uploads
an image, sets a 30-second length, clicks Generate, and checks that the mix and stem players
and the three download buttons appear, that the mix and stems downloads deliver real files,
and saves a screenshot under ``test-artifacts/``.
Skipped (with the reason) only when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
import soundfile as sf

from ui_test_helpers import png_bytes

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"streamlit did not become healthy within {timeout_s:.0f} s")


@pytest.fixture
def studio_server(tmp_path):
    port = _free_port()
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log_path = tmp_path / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
def test_upload_generate_listen_download(studio_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, log_path = studio_server
    image = tmp_path / "quiet_lake_forest.png"
    image.write_bytes(png_bytes(320, 240))
    ARTIFACTS.mkdir(exist_ok=True)
    # The first run of the server pays the imports and the planner's sentence model.
    expect.set_options(timeout=120_000)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            # A first visit straight to a page of a fresh server (a bookmark) still gets the
            # app's navigation and wide layout, not Streamlit's file-name page list.
            page.goto(url + "/library")
            expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible(timeout=180_000)
            nav = page.locator('[data-testid="stSidebarNav"]')
            expect(nav.get_by_text("Studio", exact=True)).to_be_visible()
            assert "streamlit app" not in nav.inner_text().lower()
            assert page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"] > 1000

            page.goto(url)
            expect(page.locator('[data-testid="stFileUploader"]')).to_be_visible(timeout=180_000)

            _choose(page, "Length", "custom")
            seconds = page.get_by_label("Custom length (seconds)")
            seconds.fill("30")
            seconds.press("Enter")
            expect(seconds).to_have_value("30.00")

            page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(image))
            expect(page.get_by_text("Caption by the offline image analyser")).to_be_visible()
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()

            page.get_by_role("button", name="Generate").click()
            expect(page.get_by_text("Generated 0.5 min")).to_be_visible(timeout=180_000)

            audio = page.locator("audio")
            expect(audio.first).to_be_attached()
            assert audio.count() >= 2  # the mix and at least one stem
            for label in ("Mix (WAV)", "Stems (zip)", "Manifest (JSON)"):
                expect(page.get_by_role("button", name=label)).to_be_visible()
            assert page.locator('[data-testid="stException"]').count() == 0

            # The deferred downloads really deliver: a 30-second 48 kHz stereo WAV and a zip.
            with page.expect_download() as dl:
                page.get_by_role("button", name="Mix (WAV)").click()
            mix_path = tmp_path / "mix.wav"
            dl.value.save_as(mix_path)
            info = sf.info(str(mix_path))
            assert (info.samplerate, info.channels, info.frames) == (48_000, 2, 30 * 48_000)
            with page.expect_download() as dl:
                page.get_by_role("button", name="Stems (zip)").click()
            zip_path = tmp_path / "stems.zip"
            dl.value.save_as(zip_path)
            with zipfile.ZipFile(zip_path) as zf:
                stems = [n for n in zf.namelist() if n.startswith("stems/")]
            assert len(stems) == audio.count() - 1  # one stem per stem player
            # Streamlit scrolls inside its own container: a tall viewport shows the whole page.
            page.set_viewport_size({"width": 1400, "height": 2800})
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "studio-e2e.png"))
        finally:
            browser.close()
    assert "Traceback" not in log_path.read_text(errors="replace")
