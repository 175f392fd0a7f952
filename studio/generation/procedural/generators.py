"""Imports every family module so that :data:`GENERATORS` holds all catalogue types."""

from studio.generation.procedural import air, bells, creatures, fire, indoors, insects, noise, places, tonal, transport, water  # noqa: F401
from studio.generation.procedural.base import GENERATORS, Generator

__all__ = ["GENERATORS", "Generator"]
