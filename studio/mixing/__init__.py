"""The mixer: loop beds, place events, mix layers and master to a loudness target.

Public API (see docs/mixing.md):

- :func:`resolve_events` (plan -> plan with event times, pans and takes filled in)
- :func:`render_soundscape` (plan + layer sources -> lazy, mastered :class:`~studio.types.Soundscape`)
- :func:`remix` (new mix/master settings without regenerating audio)
- :data:`MASTER_PRESETS`, :func:`apply_preset`
- :func:`integrated_lufs`, :func:`true_peak_dbtp` (meters used by the master and the tests)
- :func:`fade_envelope` (the master fades, to relate stems to the mix)
"""

from __future__ import annotations

from studio.mixing.loudness import integrated_lufs, true_peak_dbtp
from studio.mixing.master import fade_envelope
from studio.mixing.presets import MASTER_PRESETS, apply_preset
from studio.mixing.remix import remix
from studio.mixing.render import render_soundscape
from studio.mixing.schedule import resolve_events

__all__ = [
    "MASTER_PRESETS",
    "apply_preset",
    "fade_envelope",
    "integrated_lufs",
    "remix",
    "render_soundscape",
    "resolve_events",
    "true_peak_dbtp",
]
