"""UI benchmark on the offline defaults, through Streamlit's AppTest (the same script runs a
browser session runs):

- ``generate_10min_s``: from clicking Generate (length "10 min") to the run that shows a
  playable mix (mix and stem players, plots and downloads drawn);
- ``remix_s``: one live re-mix (a gain edit in the plan table) of that 10-minute result.

Prints one JSON object. Run: ``python bench/ui.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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
    os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
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
    if at.exception or sess.soundscape is None or len(at.get("audio")) == 0:
        raise SystemExit(f"generation failed: {[e.value for e in at.error]} {at.exception}")
    assert abs(sess.soundscape.duration_s - 600.0) < 1e-6

    first = sess.soundscape.plan.layers[0]
    version = sess.version
    at.session_state[f"studio.plan_editor.{sess.plan_serial}"] = {
        "edited_rows": {0: {"gain_db": first.gain_db - 6.0}}, "added_rows": [], "deleted_rows": []}
    t0 = time.perf_counter()
    at.run()
    remix_s = time.perf_counter() - t0
    if sess.version != version + 1:
        raise SystemExit(f"re-mix did not happen: {[e.value for e in at.error]} {at.exception}")
    return {"generate_10min_s": round(generate_s, 2), "remix_s": round(remix_s, 2)}


if __name__ == "__main__":
    print(json.dumps(main()))
