"""The manifest: everything needed to re-render a result exactly, plus what made it.

Layout (``manifest.json``)::

    {
      "format": "soundscape-studio.manifest",
      "version": 1,
      "studio_version": "0.1.0",
      "plan": {... ScenePlan, fully resolved: seeds, event times, pans, take choices ...},
      "layers": [{"name", "role", "backend", "model", "metadata"}],   # what each stem used
      "master": {"gain_db", "integrated_lufs", "true_peak_dbtp", ...},  # what the master did
      "image": {"filename", "format", "original_size"} | null,
      "credits": [{"recording", "author", "licence", "licence_url", "source_url", ...}],  # recordings used
      "scores": {"clip", "clap", "overall", "offline", "missing"},      # when scored (docs/evaluation.md)
      "outputs": {...}                                                  # added by the exporter
    }

Only ``plan`` is read back when re-rendering; the rest documents the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional

from studio import __version__
from studio.errors import PlanError
from studio.types import ScenePlan, Soundscape

MANIFEST_FORMAT = "soundscape-studio.manifest"
MANIFEST_VERSION = 1


def _jsonable(value: Any) -> Any:
    """Numpy scalars/arrays and tuples to plain JSON types."""
    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def build_manifest(soundscape: Soundscape, *, image_info: Optional[Mapping[str, Any]] = None,
                   scores: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The manifest dict for a rendered soundscape (JSON-ready); ``scores`` are the coherence
    scores of ``studio.evaluation.scores`` when they were computed (docs/evaluation.md)."""
    from studio.credits import collect_credits

    layers = []
    for stem in soundscape.stems:
        layers.append(
            {
                "name": stem.spec.name,
                "role": stem.spec.role,
                "backend": stem.backend,
                "model": stem.model,
                "metadata": _jsonable(dict(stem.metadata)),
            }
        )
    image = None
    if image_info:
        keep = ("filename", "format", "original_size", "datetime")
        image = {k: _jsonable(image_info[k]) for k in keep if k in image_info}
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "studio_version": __version__,
        "plan": json.loads(soundscape.plan.model_dump_json()),
        "layers": layers,
        "master": _jsonable(dict(soundscape.master)),
        "image": image,
        "credits": collect_credits(stem.metadata for stem in soundscape.stems),
    }
    if scores is not None:
        manifest["scores"] = _jsonable(dict(scores))
    return manifest


def plan_from_manifest(data: Mapping[str, Any]) -> ScenePlan:
    """The plan stored in a manifest dict (PlanError when it is not one)."""
    if not isinstance(data, Mapping) or data.get("format") != MANIFEST_FORMAT:
        raise PlanError("not a Soundscape Studio manifest (missing \"format\": \"soundscape-studio.manifest\")")
    version = data.get("version")
    if version != MANIFEST_VERSION:
        raise PlanError(f"manifest version {version!r} is not supported; this studio reads version {MANIFEST_VERSION}")
    if "plan" not in data:
        raise PlanError("manifest has no \"plan\"")
    return ScenePlan.from_json(json.dumps(data["plan"]))


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The whole manifest dict of ``manifest.json`` (its plan checked); clear errors for missing
    or bad files. ``render --manifest`` keeps its ``image`` facts this way."""
    path = Path(path)
    if not path.is_file():
        raise PlanError(f"manifest {str(path)!r} does not exist or is not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"manifest {str(path)!r} is not valid JSON: {exc}") from None
    plan_from_manifest(data)
    return data


def load_manifest(path: str | Path) -> ScenePlan:
    """Read ``manifest.json`` and return its plan; clear errors for missing or bad files."""
    return plan_from_manifest(read_manifest(path))
