"""Per-session state. Everything a session works on lives in ``st.session_state`` (which
Streamlit keeps per browser session) and in that session's own temp folder, so sessions never
see each other's results or files. Shared things (the library handle) are cached per process;
the library itself is safe for concurrent use."""

from __future__ import annotations

import streamlit as st

from studio.library import Library, default_data_dir
from studio.ui.engine import StudioSession

SESSION_KEY = "studio.session"
FLASH_KEY = "studio.flash"


def session() -> StudioSession:
    """This browser session's :class:`StudioSession` (created on first use)."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = StudioSession()
    return st.session_state[SESSION_KEY]


@st.cache_resource(show_spinner=False)
def _open_library(root: str) -> Library:
    return Library(root)


def library() -> Library:
    """The render library under ``$STUDIO_DATA_DIR`` (or ``~/.soundscape-studio``)."""
    return _open_library(str(default_data_dir()))


def flash(message: str, kind: str = "success") -> None:
    """A message shown once on the next run (after ``st.rerun`` or ``st.switch_page``)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind, st.info)(message)
