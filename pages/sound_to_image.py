"""Sound to Image page (logic in studio.reverse, UI in studio.ui.page_sound_to_image)."""

from studio.ui.page_sound_to_image import render

render()
