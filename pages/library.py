"""Library page (logic in studio.ui.page_library)."""

from studio.ui.page_library import render

render()
