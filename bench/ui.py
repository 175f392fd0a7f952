"""UI benchmark on the offline defaults, through Streamlit's AppTest (the same script runs a
browser session runs):

- ``generate_10min_s``: from clicking Generate (length "10 min") to the run that shows a
  playable mix (mix and stem players, plots and downloads drawn);
- ``remix_s``: one live re-mix (a gain edit in the plan table) of that 10-minute result, to the
  run that shows the re-mixed mix playable (``remix_cpu_s``: CPU seconds of the process, all
  threads, over the same span);
- ``remix_stems_ready_s`` / ``remix_all_cpu_s``: the same edit until the stem players' files,
  written in the background after the mix (``studio/ui/players.py``), are complete;
- ``session_rss_mb_after_5x10min``: peak RSS (MB) of a real ``streamlit run`` server process,
  polled from outside every 0.2 s with psutil, while one headless-Chromium session generates
  five 10-minute tracks in a row (a new seed each time). Goal: at most 1500 MB.

Prints one JSON object. Run: ``python bench/ui.py`` (``--no-browser`` skips the RSS figure;
the whole bench takes several minutes on 2 cores).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.scratch import scratch_dir  # noqa: E402  (light: a temp folder removed at exit)


def _png() -> bytes:
    import numpy as np
    from PIL import Image

    arr = np.zeros((240, 320, 3), np.uint8)
    arr[:120] = (90, 150, 230)
    arr[120:] = (40, 140, 60)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def main() -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("STUDIO_DATA_DIR", str(scratch_dir("studio-bench-")))
    os.chdir(ROOT)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=900)
    at.run()
    at.selectbox(key="studio.length").set_value("10 min").run()
    at.file_uploader(key="studio.upload").set_value(("quiet_lake_forest.png", _png(), "image/png")).run()
    t0 = time.perf_counter()
    at.button(key="studio.generate").click().run()
    generate_s = time.perf_counter() - t0
    sess = at.session_state["studio.session"]
    sess.wait_for_players()  # the generation's stems, so they do not overlap the re-mix
    if at.exception or sess.soundscape is None or len(at.get("audio")) == 0:
        raise SystemExit(f"generation failed: {[e.value for e in at.error]} {at.exception}")
    assert abs(sess.soundscape.duration_s - 600.0) < 1e-6

    first = sess.soundscape.plan.layers[0]
    version = sess.version
    at.session_state[f"studio.plan_editor.{sess.plan_serial}"] = {
        "edited_rows": {0: {"gain_db": first.gain_db - 6.0}}, "added_rows": [], "deleted_rows": []}
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    remix_s, remix_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    if sess.version != version + 1:
        raise SystemExit(f"re-mix did not happen: {[e.value for e in at.error]} {at.exception}")
    if not sess.wait_for_players():
        raise SystemExit("the re-mix's stem files were not written")
    stems_s, all_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"generate_10min_s": round(generate_s, 2), "remix_s": round(remix_s, 2), "remix_cpu_s": round(remix_cpu_s, 2),
            "remix_stems_ready_s": round(stems_s, 2), "remix_all_cpu_s": round(all_cpu_s, 2),
            "load_average_1min": round(os.getloadavg()[0], 2)}


CHROMIUM = "/usr/bin/chromium"


def session_rss_mb_after_5x10min(generations: int = 5) -> float:
    """Peak RSS of the Streamlit server over ``generations`` 10-minute generations driven by
    Playwright in one browser session (measured from this process, outside the server)."""
    import socket
    import subprocess
    import threading
    import urllib.request

    import psutil
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STUDIO_DATA_DIR": str(scratch_dir("studio-bench-rss-")), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        p = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak[0] = max(peak[0], p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        image = scratch_dir("studio-bench-image-") / "quiet_lake_forest.png"
        image.write_bytes(_png())
        expect.set_options(timeout=1_800_000)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(1_800_000)
            page.goto(url)
            page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(image))
            expect(page.get_by_text("Caption by the offline image analyser")).to_be_visible()
            seed = page.get_by_role("spinbutton", name="Seed")
            for i in range(generations):
                seed.fill(str(100 + i))
                seed.press("Enter")
                expect(seed).to_have_value(str(100 + i))
                if i:  # the previous result's "Generated" message is gone once the new plan shows
                    expect(page.get_by_text("The settings or caption changed since this result")).to_be_visible()
                page.get_by_role("button", name="Generate").click()
                expect(page.get_by_text("Generated 10.0 min")).to_be_visible()
                expect(page.get_by_role("button", name="Generate")).to_be_enabled()
            browser.close()
    finally:
        done.set()
        proc.terminate()
        proc.wait(timeout=30)
    return round(peak[0] / 2**20, 1)


if __name__ == "__main__":
    result = main()
    if "--no-browser" not in sys.argv and Path(CHROMIUM).exists():
        result["session_rss_mb_after_5x10min"] = session_rss_mb_after_5x10min()
    print(json.dumps(result))
