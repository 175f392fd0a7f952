"""Fresh screenshots of every page for docs/ui.md: ``python tests/ui/screenshots.py``.

Starts ``streamlit run`` on a free port with a private data folder and drives headless Debian
Chromium (Playwright, ``executable_path``; no browser download) through one browser session:
the Studio (the forest-path example, a 30-second track, downloads prepared; its songbirds bed
is a bundled recording, so the credits show), then every other page reached by clicking its
link in the sidebar navigation (a ``page.goto`` would start a new session with no caption):
Compare (two 15-second variants of the same caption), the Library (holding the Studio's
render), Sound to Image (the pack's rain recording imagined offline) and Models. Each page is
captured whole (the viewport is grown to the main area's height) and written as a small
palette PNG to ``docs/img/ui-<page>.png``. Any error box or exception on a page fails the run.
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


def _nav(page, title: str) -> None:
    """Go to a page by clicking its link in the sidebar navigation (same browser session)."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def _whole(page) -> bytes:
    """The page as a screenshot of its whole main area: Streamlit scrolls inside ``stMain``,
    so the viewport is made as tall as that content (at most 5000 px) before the shot."""
    from playwright.sync_api import expect

    page.mouse.move(1390, 990)  # off the sidebar: no hover-only collapse button in the shot
    page.wait_for_timeout(1500)  # let images, plots and the sidebar settle
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    height = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight); }""")
    page.set_viewport_size({"width": 1400, "height": int(min(max(height + 40, 1000), 5000))})
    page.wait_for_timeout(1000)
    return page.screenshot()


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from ui_test_helpers import png_bytes

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile("w+", prefix="studio-shots-", suffix=".log", delete=False)
    env = {**os.environ, "STUDIO_DATA_DIR": tempfile.mkdtemp(prefix="studio-shots-"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    example = ROOT / "examples" / "images" / "forest_path.jpg"
    image = example if example.exists() else Path(tempfile.mkdtemp()) / "forest_path.png"
    if not example.exists():
        image.write_bytes(png_bytes(320, 240))
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
            expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
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
            expect(page.get_by_text("Credits", exact=True)).to_be_visible()  # the songbirds recording
            shots = {"studio": _whole(page)}

            _nav(page, "Compare")
            page.get_by_role("combobox", name="Length", exact=True).click()
            page.get_by_role("option", name="15 s", exact=True).click()
            page.get_by_role("button", name="Render variants").click()
            expect(page.get_by_role("button", name="Keep this one")).to_have_count(2)
            shots["compare"] = _whole(page)

            _nav(page, "Library")
            expect(page.get_by_role("button", name="Open in Studio").first).to_be_visible()  # the Studio's render was saved
            shots["library"] = _whole(page)

            _nav(page, "Sound to Image")
            page.get_by_text("From the bundled pack", exact=True).click()
            page.get_by_role("combobox", name="Pack recording").click()
            page.get_by_role("option", name="rain", exact=True).click()
            page.get_by_role("button", name="Imagine").click()
            expect(page.get_by_role("heading", name="Prompt", exact=True)).to_be_visible()
            shots["sound-to-image"] = _whole(page)

            _nav(page, "Models")
            expect(page.get_by_text("Installed packages").first).to_be_visible()
            shots["models"] = _whole(page)
            browser.close()
        for name, data in shots.items():
            path = OUT / f"ui-{name}.png"
            path.write_bytes(data)
            _shrink(path)
            print(path.relative_to(ROOT), path.stat().st_size)
    except Exception:
        print(f"server log: {log.name}", file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
