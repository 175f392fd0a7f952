"""The app's Streamlit configuration, the page list, and which modules stay Streamlit-free."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from studio.ui.navigation import PAGES, ROOT, page_path


def test_config_sets_theme_upload_limit_and_privacy():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == 50
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks in the browser
    # No module reloads under a running session (see the comment in config.toml).
    assert config["server"]["fileWatcherType"] == "none"
    theme = config["theme"]
    assert theme["base"] == "dark" and all(theme[k].startswith("#") for k in ("primaryColor", "backgroundColor", "textColor"))


def test_every_page_is_a_thin_script_listed_once():
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
    assert sorted(p.script for p in PAGES) == scripts
    assert len({p.url_path for p in PAGES}) == len(PAGES) and sum(p.default for p in PAGES) == 1
    assert [p.title for p in PAGES] == ["Studio", "Compare", "Library", "Sound to Image", "Models"]  # no placeholder pages
    for page in PAGES:
        code = [line for line in (ROOT / page.script).read_text().splitlines() if line.strip() and not line.startswith(('"""', "#"))]
        assert len(code) <= 3 and code[0].startswith("from studio.ui.page_"), page.script
    assert page_path("library") == "pages/library.py"
    # The entry script both declares the st.App (with the file route) and, run as a session's
    # script, draws the navigation.
    entry = (ROOT / "streamlit_app.py").read_text()
    assert "app = st.App(__file__, routes=routes())" in entry and "run_app()" in entry


def test_ui_logic_modules_do_not_import_streamlit():
    code = (
        "import sys\n"
        "import studio.ui.engine, studio.ui.plan_table, studio.ui.plots, studio.ui.compare, studio.ui.settings, studio.library\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_a_page_script_run_on_its_own_renders_once_without_looping(data_dir):
    """What Streamlit does for a deep link on a fresh server: run the page file alone. The page
    asks for one rerun through the app (see navigation.ensure_app) and never loops."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "library.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Library"]
    assert at.session_state["studio.nav_fixed"] is True
