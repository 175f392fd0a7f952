"""The CLIP tag vocabulary: the procedural catalogue plus ESC-50, readable and unique."""

from __future__ import annotations

from studio.sounds.catalogue import CATALOGUE
from studio.sounds.labels import (
    ESC50_CLASSES,
    ESC50_TO_LAYER,
    labels,
    layer_type_for_label,
    vocabulary,
)


def test_esc50_has_its_50_classes():
    assert len(ESC50_CLASSES) == 50 == len(set(ESC50_CLASSES))
    assert {"dog", "rain", "sea_waves", "crackling_fire", "church_bells", "hand_saw"} <= set(ESC50_CLASSES)


def test_vocabulary_covers_every_catalogue_type_and_esc50_class():
    entries = vocabulary()
    assert {e.layer_type for e in entries if e.layer_type} == {t.name for t in CATALOGUE}
    assert {e.esc50 for e in entries if e.esc50} == set(ESC50_CLASSES)
    assert len(entries) == len(CATALOGUE) + 50 - len(ESC50_TO_LAYER)
    assert all(ESC50_TO_LAYER[e.esc50] == e.layer_type for e in entries if e.esc50 and e.layer_type)


def test_labels_are_unique_readable_and_prompts_are_photos():
    names = labels()
    assert len(names) == len(set(names))
    assert all("_" not in label and label == label.strip() for label in names)
    assert all(e.prompt.startswith("a photo of ") for e in vocabulary())


def test_labels_map_back_to_layer_types():
    assert layer_type_for_label("rain on a roof") == "rain_on_roof"
    assert layer_type_for_label("crickets") == "crickets"
    assert layer_type_for_label("church bells") is None
    assert layer_type_for_label("not a label") is None
