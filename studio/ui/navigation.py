"""The page list. Adding a page (for example Sound to Image, once the reverse direction is
built) is one more :class:`PageDef` here and a thin script under ``pages/``."""

from __future__ import annotations

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
    PageDef("pages/models.py", "Models", ":material/memory:", "models"),
]


def page_path(url_path: str) -> str:
    """The script path of a page, for ``st.switch_page``."""
    for page in PAGES:
        if page.url_path == url_path:
            return page.script
    raise KeyError(url_path)


def run_app() -> None:
    """Configure the page and run the selected page (called by ``streamlit_app.py``)."""
    import streamlit as st

    st.set_page_config(page_title="Soundscape Studio", page_icon=":material/graphic_eq:", layout="wide")
    pages = [
        st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
        for p in PAGES
    ]
    st.navigation(pages).run()
