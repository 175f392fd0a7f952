"""The example gallery: whatever images are under ``examples/images/``."""

from __future__ import annotations

from pathlib import Path

from studio.ui.navigation import ROOT

EXAMPLES_DIR = ROOT / "examples" / "images"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def example_images(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """Image files in ``folder``, sorted by name (empty when the folder is missing)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def label(path: Path) -> str:
    """``lake_at_dusk.jpg`` -> ``Lake at dusk``."""
    text = path.stem.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
