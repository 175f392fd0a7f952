"""Master presets: platform loudness targets and true-peak ceilings.

``spotify`` and ``youtube`` normalise playback to -14 LUFS; ``apple-podcasts`` asks for
-16 LUFS; all three want true peaks at or below -1 dBTP. ``custom`` keeps the plan's own values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from studio.errors import InputError
from studio.types import MasterSpec


@dataclass(frozen=True)
class MasterPreset:
    name: str
    target_lufs: Optional[float]
    ceiling_dbtp: Optional[float]
    description: str


MASTER_PRESETS: dict[str, MasterPreset] = {
    p.name: p
    for p in (
        MasterPreset("spotify", -14.0, -1.0, "Spotify loudness normalisation: -14 LUFS, -1 dBTP"),
        MasterPreset("youtube", -14.0, -1.0, "YouTube loudness normalisation: -14 LUFS, -1 dBTP"),
        MasterPreset("apple-podcasts", -16.0, -1.0, "Apple Podcasts: -16 LUFS, -1 dBTP"),
        MasterPreset("custom", None, None, "your own target and ceiling (the style's by default)"),
    )
}


def apply_preset(master: MasterSpec, name: str, *, target_lufs: Optional[float] = None,
                 ceiling_dbtp: Optional[float] = None) -> MasterSpec:
    """``master`` with the preset's target and ceiling (explicit values win for ``custom``)."""
    if name not in MASTER_PRESETS:
        raise InputError(f"unknown master preset {name!r}; choose one of: {', '.join(MASTER_PRESETS)}")
    preset = MASTER_PRESETS[name]
    update: dict = {"preset": name}
    t = preset.target_lufs if preset.target_lufs is not None else target_lufs
    c = preset.ceiling_dbtp if preset.ceiling_dbtp is not None else ceiling_dbtp
    if t is not None:
        update["target_lufs"] = float(t)
    if c is not None:
        update["ceiling_dbtp"] = float(c)
    from pydantic import ValidationError

    from studio.types import validation_message

    try:
        return MasterSpec.model_validate({**master.model_dump(), **update})
    except ValidationError as exc:
        raise InputError(f"invalid master settings: {validation_message(exc)}") from None
