"""Studio page (logic in studio.ui.page_studio)."""

from studio.ui.page_studio import render

render()
