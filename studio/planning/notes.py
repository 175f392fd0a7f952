"""Plan notes in plain words, with the technical detail kept apart.

A plan's ``notes`` are sentences for people ("Footsteps kept soft and distant for
meditation"); its ``note_details`` are the same decisions in technical terms (types,
categories, similarities, numbers) for an expander in the UI and for debugging. Planners
collect both in a :class:`PlanNotes`, which is a list of the plain sentences (so code that
only reads notes keeps working) with a ``details`` list beside it.
"""

from __future__ import annotations

from typing import Iterable, Optional


class PlanNotes(list):
    """Plain-worded notes (the list itself, no duplicates) and ``details`` (technical lines)."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__()
        self.details: list[str] = []
        for item in items:
            self.add(item)

    def add(self, text: str, detail: Optional[str] = None) -> None:
        if text and text not in self:
            self.append(text)
        if detail and detail not in self.details:
            self.details.append(detail)


def say(notes: list, text: str, detail: Optional[str] = None) -> None:
    """Add a plain sentence (and its technical detail, when ``notes`` keeps details)."""
    if isinstance(notes, PlanNotes):
        notes.add(text, detail)
    elif text not in notes:
        notes.append(text)


def sound_name(type_name: str) -> str:
    """How a catalogue type is called in a note: ``footsteps_gravel`` -> "footsteps on gravel"."""
    from studio.sounds.labels import CATALOGUE_LABELS

    return CATALOGUE_LABELS.get(type_name, type_name.replace("_", " "))


def sentence(text: str) -> str:
    """``text`` with a capital first letter."""
    return text[:1].upper() + text[1:] if text else text
