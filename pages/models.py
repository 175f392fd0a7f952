"""Models page (logic in studio.ui.page_models)."""

from studio.ui.page_models import render

render()
