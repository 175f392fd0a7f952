"""The page list. Adding a page (for example Sound to Image, once the reverse direction is
built) is one more :class:`PageDef` here and a thin script under ``pages/``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageDef:
    script: str  # relative to the repository root
    title: str
    icon: str
    url_path: str
    default: bool = False


PAGES: list[PageDef] = [
    PageDef("pages/studio.py", "Studio", ":material/graphic_eq:", "studio", default=True),
    PageDef("pages/compare.py", "Compare", ":material/compare:", "compare"),
    PageDef("pages/library.py", "Library", ":material/library_music:", "library"),
    PageDef("pages/sound_to_image.py", "Sound to Image", ":material/image:", "sound-to-image"),
    PageDef("pages/models.py", "Models", ":material/memory:", "models"),
]


def page_path(url_path: str) -> str:
    """The script path of a page, for ``st.switch_page``."""
    for page in PAGES:
        if page.url_path == url_path:
            return page.script
    raise KeyError(url_path)


_RUN = threading.local()  # set while run_app runs a page (script runs are one thread each)
_FIX_KEY = "studio.nav_fixed"


def run_app() -> None:
    """Configure the page and run the selected page (called by ``streamlit_app.py``)."""
    import streamlit as st

    st.set_page_config(page_title="Soundscape Studio", page_icon=":material/graphic_eq:", layout="wide")
    pages = [
        st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
        for p in PAGES
    ]
    selected = st.navigation(pages)
    _RUN.active = True
    try:
        selected.run()
    finally:
        _RUN.active = False


def ensure_app() -> None:
    """Make a page script that was started on its own go through :func:`run_app`.

    Because a ``pages/`` folder exists, a fresh server runs in Streamlit's old multipage mode
    until some session has called ``st.navigation``: a first visit straight to ``/library``
    would run ``pages/library.py`` alone, with the raw file names as navigation and without
    the wide layout. The page then switches the server to ``st.navigation`` mode and reruns;
    the rerun goes through ``streamlit_app.py`` to the same page (page ids are the url paths).
    Once per session at most, so a Streamlit without that switch can never loop.
    """
    if getattr(_RUN, "active", False):
        return
    import streamlit as st

    if st.session_state.get(_FIX_KEY):
        return
    st.session_state[_FIX_KEY] = True
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    PagesManager.uses_pages_directory = False
    st.rerun()
