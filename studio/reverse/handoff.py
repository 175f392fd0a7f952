"""The hook from Sound to Image to the Studio: "use my recording as the bed".

``bed_request(path, result)`` builds what the Sound to Image page puts into Streamlit's session
state under ``BED_KEY`` before switching to the Studio page, which reads it to start a new
soundscape: ``path`` (the recording, to be the bed), ``caption`` (from the tags, to plan the
other layers), ``tags`` and ``layer_types`` (catalogue types the tags name, best first).
Plain data: no Streamlit here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BED_KEY = "studio.from_recording"


def bed_request(path: str | Path, result: Any) -> dict[str, Any]:
    """``result``: a :class:`studio.reverse.pipeline.TagResult`."""
    from studio.sounds.labels import layer_type_for_label

    types = [t for t in (layer_type_for_label(label) for label, _ in result.tags) if t]
    return {
        "path": str(Path(path).resolve()),
        "caption": result.caption(),
        "tags": [[label, score] for label, score in result.tags],
        "layer_types": list(dict.fromkeys(types)),
    }
