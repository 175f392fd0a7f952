"""The page boundary: no traceback ever reaches the browser.

A :class:`~studio.errors.StudioError` is shown as ``st.error`` with its one-line message (it
already says what was wrong and what is allowed). Anything else is logged with its traceback
and shown as a short apology. Streamlit's own control flow (rerun, stop, page switch) derives
from BaseException and passes through untouched.
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from studio.errors import StudioError

log = logging.getLogger("studio.ui")
F = TypeVar("F", bound=Callable[..., object])

CURRENT_PAGE, PREVIOUS_PAGE = "nav.current_page", "nav.previous_page"
UNEXPECTED_MESSAGE = "Something went wrong on our side ({kind}). It has been logged; please try again."


def show_error(exc: BaseException) -> None:
    import streamlit as st

    if isinstance(exc, StudioError):
        st.error(str(exc), icon=":material/error:")
    else:
        log.error("unexpected error in the studio UI", exc_info=exc)
        st.error(UNEXPECTED_MESSAGE.format(kind=type(exc).__name__), icon=":material/error:")


@contextmanager
def guarded() -> Iterator[None]:
    """``with guarded(): ...`` shows any Exception as a message instead of a traceback."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the page boundary: every error becomes a message
        show_error(exc)


def page(fn: F) -> F:
    """Decorator for a page's ``render`` function: the whole page is guarded, and always
    runs inside the app's navigation (see :func:`studio.ui.navigation.ensure_app`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from studio.ui.navigation import ensure_app

        ensure_app()  # a page opened on its own (deep link on a fresh server) reruns via the app
        import streamlit as st

        # Which page the previous run drew: the Studio puts its settings back after another page.
        st.session_state[PREVIOUS_PAGE] = st.session_state.get(CURRENT_PAGE)
        st.session_state[CURRENT_PAGE] = fn.__module__
        with guarded():
            return fn(*args, **kwargs)
        return None

    return wrapper  # type: ignore[return-value]
