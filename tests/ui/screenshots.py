"""Fresh screenshots of every page for docs/ui.md: ``python tests/ui/screenshots.py``.

Starts ``streamlit run`` on a free port with a private data folder, drives headless Debian
Chromium (Playwright, ``executable_path``; no browser download) through the Studio (upload, a
30-second track, downloads prepared), Compare (two 15-second variants), the Library and the
Models page, and writes small palette PNGs to ``docs/img/ui-<page>.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
OUT = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
WIDTH_PX = 1000  # docs images are shrunk to this width and 128 colours


def _shrink(path: Path) -> None:
    from PIL import Image

    img = Image.open(path).convert("RGB")
    img = img.resize((WIDTH_PX, round(img.height * WIDTH_PX / img.width)), Image.LANCZOS)
    img.quantize(colors=128).save(path, optimize=True)


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from ui_test_helpers import png_bytes

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STUDIO_DATA_DIR": tempfile.mkdtemp(prefix="studio-shots-"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    image = Path(tempfile.mkdtemp()) / "forest_path.png"
    image.write_bytes((ROOT / "examples" / "images" / "forest_path.jpg").read_bytes() if (ROOT / "examples/images/forest_path.jpg").exists() else png_bytes(320, 240))
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        expect.set_options(timeout=600_000)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(url)
            page.get_by_role("combobox", name="Length", exact=True).click()
            page.get_by_role("option", name="custom", exact=True).click()
            seconds = page.get_by_label("Custom length (seconds)")
            seconds.fill("30")
            seconds.press("Enter")
            expect(seconds).to_have_value("30.00")
            page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(image))
            expect(page.get_by_text("Caption by the offline image analyser")).to_be_visible()
            page.get_by_role("button", name="Generate").click()
            expect(page.get_by_text("Generated 0.5 min")).to_be_visible()
            page.get_by_role("button", name="Prepare downloads (WAV)").click()
            expect(page.get_by_role("link", name="Mix (WAV)")).to_be_visible()
            shots = {}
            page.set_viewport_size({"width": 1400, "height": 2600})
            page.wait_for_timeout(1000)
            shots["studio"] = page.screenshot()

            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(url + "/compare")
            expect(page.get_by_role("button", name="Render variants")).to_be_visible()
            page.get_by_role("button", name="Render variants").click()
            expect(page.get_by_role("button", name="Keep this one").first).to_be_visible()
            page.set_viewport_size({"width": 1400, "height": 2000})
            page.wait_for_timeout(1000)
            shots["compare"] = page.screenshot()

            for name, heading in (("library", "Library"), ("models", "Models")):
                page.set_viewport_size({"width": 1400, "height": 1000})
                page.goto(f"{url}/{name}")
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
                page.wait_for_timeout(1500)
                shots[name] = page.screenshot()
            browser.close()
        for name, data in shots.items():
            path = OUT / f"ui-{name}.png"
            path.write_bytes(data)
            _shrink(path)
            print(path.relative_to(ROOT), path.stat().st_size)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
