"""Compare page (logic in studio.ui.page_compare)."""

from studio.ui.page_compare import render

render()
