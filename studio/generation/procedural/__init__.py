"""The procedural synthesis engine: 40 layer types made from noise shaping, stochastic event
generators, FM chirps and modal resonators, all vectorised with numpy/scipy.

``ProceduralBackend`` is the audio backend registered as ``procedural``; the generators live
in family modules (``water``, ``air``, ``fire``, ``creatures``, ``insects``, ``places``,
``tonal``, ``noise``) with shared helpers in ``dsp``. See ``docs/procedural.md``.
"""

from studio.generation.procedural.backend import ProceduralBackend

__all__ = ["ProceduralBackend"]
