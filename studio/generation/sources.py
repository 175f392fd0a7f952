"""Per layer, a real recording or synthesis: chosen by fit, recorded with its reason.

After a planner has picked layer types, each bed that the procedural engine would make is
offered to the real recordings that can stand in for its type (the pack's
``Recording.layer_types``) and, when the user gave one, to their own samples folder. The layer
prompt is matched by MiniLM against each source's description:

- ``synthesis_fit``: the prompt against the procedural type's catalogue description;
- ``source_fit``: the prompt against the best recording's description.

A recording is chosen when it fits at least :data:`MIN_FIT` and no more than
:data:`PREFER_MARGIN` below synthesis: real recordings sound like the real thing, so a close
call goes to them. The layer then renders with the ``samples`` backend
(``params["recording"]`` names the pack recording; a folder match leaves the choice among the
folder's best matches to the backend's seeded pick). Every layer that had a candidate records
``params["source"]`` (``"recording"``, ``"folder"`` or ``"synthesis"``) and both fits, and the
plan gets one plain note saying what was chosen and why, so the manifest carries the choice and
re-renders it without choosing again.

Foreground events stay synthesised: the pack holds continuous beds, not isolated events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from studio.sounds.catalogue import BY_NAME
from studio.sounds.recordings import Recording, for_layer_type

if TYPE_CHECKING:  # pragma: no cover
    from studio.generation.samples_index import SampleIndex
    from studio.types import LayerSpec, ScenePlan

MIN_FIT = 0.5  # cosine similarity: below this a recording is about something else
PREFER_MARGIN = 0.15  # how far below synthesis a recording may fit and still be chosen
FOLDER_MIN_FIT = 0.6  # the user's files are described by their names: ask for a clearer match


def choose_sources(plan: "ScenePlan", *, folder_index: Optional["SampleIndex"] = None) -> "ScenePlan":
    """``plan`` with each procedural bed switched to a recording where one fits (see the
    module docstring); layers that already name another backend are left as they are."""
    from studio.text_embed import embed

    layers, notes = [], list(plan.notes)
    for layer in plan.layers:
        kind = BY_NAME.get(str(layer.params.get("type", "")))
        recs = for_layer_type(kind.name) if kind else ()
        if layer.backend != "procedural" or layer.role != "background" or kind is None or not (recs or folder_index):
            layers.append(layer)
            continue
        vectors = embed([layer.prompt, kind.description, *(r.description for r in recs)])
        synthesis_fit = float(vectors[0] @ vectors[1])
        best: Optional[Recording] = None
        source_fit = -1.0
        for rec, vec in zip(recs, vectors[2:]):
            if float(vectors[0] @ vec) > source_fit:
                best, source_fit = rec, float(vectors[0] @ vec)
        folder_fit = -1.0
        if folder_index is not None and len(folder_index):
            top = folder_index.search(layer.prompt, top_k=1)
            folder_fit = top[0][1] if top else -1.0
        layer, note = _decide(layer, kind.name, synthesis_fit, best, source_fit, folder_fit)
        layers.append(layer)
        notes.append(note)
    return plan.model_copy(update={"layers": tuple(layers), "notes": tuple(dict.fromkeys(notes))})


def _decide(layer: "LayerSpec", type_name: str, synthesis_fit: float, best: Optional[Recording],
            source_fit: float, folder_fit: float) -> tuple["LayerSpec", str]:
    from studio.sounds.labels import CATALOGUE_LABELS

    label = CATALOGUE_LABELS.get(type_name, type_name.replace("_", " "))
    fits = {"synthesis_fit": round(synthesis_fit, 3)}
    if folder_fit >= FOLDER_MIN_FIT and folder_fit >= synthesis_fit - PREFER_MARGIN and folder_fit > source_fit:
        params = {**layer.params, "source": "folder", "source_fit": round(folder_fit, 3), **fits}
        note = f"{label.capitalize()} comes from your own recordings (they match the scene best)."
        return layer.model_copy(update={"backend": "samples", "model": None, "params": params}), note
    if best is not None and source_fit >= MIN_FIT and source_fit >= synthesis_fit - PREFER_MARGIN:
        params = {**layer.params, "source": "recording", "recording": best.name, "source_fit": round(source_fit, 3), **fits}
        note = f"{label.capitalize()} is a real recording: \"{best.name}\" by {best.author} ({best.licence})."
        return layer.model_copy(update={"backend": "samples", "model": None, "params": params}), note
    params = {**layer.params, "source": "synthesis", **fits}
    if best is not None:
        params["source_fit"] = round(source_fit, 3)
        if source_fit < MIN_FIT:
            note = (f"{label.capitalize()} is synthesised: the bundled recording {best.name!r} matches the scene "
                    f"too loosely (fit {source_fit:.2f}; a recording needs {MIN_FIT:.2f}).")
        else:
            note = (f"{label.capitalize()} is synthesised: the bundled recording {best.name!r} is a different "
                    f"sound from what the scene asks for (fit {source_fit:.2f} against {synthesis_fit:.2f}).")
    else:
        note = f"{label.capitalize()} is synthesised: nothing in your samples folder matches it closely."
    return layer.model_copy(update={"params": params}), note
