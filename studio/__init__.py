"""Soundscape Studio: images to layered stereo soundscapes, and sounds back to images.

``import studio`` stays light: numpy and the standard library only. Torch, transformers,
diffusers and streamlit are imported inside the adapters that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from studio.errors import StudioError  # noqa: E402

__all__ = ["StudioError", "__version__"]
