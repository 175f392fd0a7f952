"""The hook from Sound to Image to the Studio: "use my recording as the bed".

``bed_request(path, result)`` builds what the Sound to Image page puts into Streamlit's session
state under ``BED_KEY`` before switching to the Studio page, which reads it to start a new
soundscape: ``path`` (the recording, to be the bed), ``caption`` (from the tags, to plan the
other layers), ``tags`` and ``layer_types`` (catalogue types the tags name, best first).
Plain data: no Streamlit here. :func:`plan_from_recording` turns such a request into the
Studio's new plan (``studio.ui.recording_bed`` calls it when the Studio page opens).
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


BED_LAYER = "your-recording"


def plan_from_recording(pipeline: Any, request: dict[str, Any], *, style: str, duration_s: float, seed: int) -> Any:
    """A new Studio plan from a :func:`bed_request`: planned from its ``caption`` (the tags),
    with the recording itself as the bed (layer ``your-recording``: the ``samples`` backend on
    that file, arranged by the mixer as a non-periodic texture like any recording).

    The recording replaces the first planned bed that stands for one of its own tags (that
    sound is already in the recording); every other planned layer stays, so the layers around
    the bed follow the other tags. ``pipeline``: a :class:`studio.pipeline.SoundscapePipeline`."""
    from studio.errors import InputError
    from studio.mixing import resolve_events
    from studio.types import MAX_LAYERS, Caption, LayerSpec

    path = Path(str(request.get("path") or ""))
    if not path.is_file():
        raise InputError(f"the recording {str(path)!r} is no longer there; upload it again on the Sound to Image page")
    tags = tuple((str(label), float(score)) for label, score in request.get("tags", ()))
    caption = Caption(text=str(request.get("caption") or f"a field recording, {path.stem}"), source="recording", tags=tags)
    plan = pipeline.plan(caption, style=style, duration_s=duration_s, seed=seed)
    own = set(request.get("layer_types", ()))
    layers = list(plan.layers)
    replaced = next((i for i, l in enumerate(layers) if l.role == "background" and _layer_types(l) & own), None)
    base = layers.pop(replaced) if replaced is not None else None
    bed = LayerSpec(
        name=BED_LAYER, role="background", prompt=f"your recording {path.name}", backend="samples",
        params={"file": str(path.resolve())}, seed=base.seed if base else plan.seed,
        gain_db=base.gain_db if base else 0.0, pan=0.0, width=1.0,
    )
    note = (f"your recording {path.name} is the bed" + (f" in place of {base.name!r}" if base else "")
            + "; the other layers follow its tags")
    plan = plan.model_copy(update={"layers": (bed, *layers[: MAX_LAYERS - 1]), "caption": caption, "notes": (*plan.notes, note)})
    return resolve_events(plan)


def _layer_types(layer: Any) -> set[str]:
    """The catalogue types a planned layer stands for (its procedural ``type``, or the types
    of the pack recording it uses)."""
    from studio.sounds.recordings import BY_NAME

    params = layer.params
    out = {str(params["type"])} if params.get("type") else set()
    rec = BY_NAME.get(str(params.get("recording") or ""))
    return out | set(rec.layer_types if rec else ())
