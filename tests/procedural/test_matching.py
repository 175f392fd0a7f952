"""Prompt → generator by MiniLM similarity, prompt-word hints, weak-match reporting."""

from __future__ import annotations

import pytest

from studio.generation.procedural.matching import WEAK_MATCH_THRESHOLD

CASES = [
    ("soft rain on leaves, far away", "rain_light"),
    ("ocean waves crashing on a sandy beach", "ocean_surf"),
    ("crackling fireplace in a log cabin", "campfire"),
    ("an owl hooting in the dark forest", "owl"),
    ("crickets on a warm summer night", "crickets"),
    ("tibetan singing bowl", "singing_bowl"),
    ("deep brown noise for sleep", "brown_noise"),
    ("thunder rumbling far away", "thunder"),
    ("people chatting in a busy coffee shop", "cafe_murmur"),
    ("a tall waterfall", "waterfall"),
    ("seagulls at the harbour", "seagulls"),
    ("rain pattering on a tin roof", "rain_on_roof"),
    ("birds singing in the garden", "songbirds"),
    ("water dripping in a cave", "cave_drips"),
    ("bees buzzing around flowers", "insect_hum"),
    ("ticking clock", "clock_ticking"),
]


@pytest.mark.parametrize("prompt, expected", CASES)
def test_prompt_picks_the_right_generator(backend, prompt, expected):
    meta = backend.metadata(prompt)
    assert meta["generator"] == expected, meta
    assert isinstance(meta["similarity"], float)
    assert not meta["weak_match"]


def test_metadata_records_choice_and_resolved_params(backend):
    meta = backend.metadata("soft rain on leaves, far away", duration_s=30.0, negative_prompt="music")
    assert meta["generator"] == "rain_light"
    assert meta["similarity"] >= WEAK_MATCH_THRESHOLD
    assert meta["params"]["intensity"] == 0.25  # "soft"
    assert meta["params"]["distance"] == 0.8  # "far away"
    assert meta["match_threshold"] == WEAK_MATCH_THRESHOLD


def test_explicit_type_has_no_similarity(backend):
    meta = backend.metadata("whatever", type="owl")
    assert meta == {**meta, "generator": "owl", "similarity": None, "weak_match": False}


@pytest.mark.parametrize("prompt", ["quarterly tax spreadsheet with invoice totals", "a javascript compiler error"])
def test_weak_match_is_flagged_not_silent(backend, prompt):
    meta = backend.metadata(prompt)
    assert meta["weak_match"] is True
    assert meta["similarity"] < WEAK_MATCH_THRESHOLD
    assert "weak match" in meta["warning"] and "params.type" in meta["warning"]


def test_explicit_params_beat_prompt_hints(backend):
    p = backend.metadata("heavy close rain", type="rain_heavy", intensity=0.1, distance=0.9)["params"]
    assert (p["intensity"], p["distance"]) == (0.1, 0.9)
    p = backend.metadata("heavy close rain", type="rain_heavy")["params"]
    assert p["intensity"] == 0.85 and p["distance"] == 0.05


def test_prompt_selection_drives_generation(backend):
    import numpy as np

    a = backend.generate("crickets chirping at night", duration_s=1.0, seed=1).samples
    b = backend.generate("x", duration_s=1.0, seed=1, type="crickets").samples
    assert np.array_equal(a, b)


def test_empty_prompt_without_type_is_an_input_error(backend):
    from studio.errors import InputError

    with pytest.raises(InputError, match="give a prompt"):
        backend.generate("  ", duration_s=1.0, seed=0)


def test_weak_match_and_notes_reach_the_stem_metadata():
    """Through the pipeline: a free-text procedural layer records the chosen generator and
    its similarity, and a weak match carries a warning in ``notes`` (which the UI's layer
    facts and the manifest show)."""
    from studio.pipeline import SoundscapePipeline
    from studio.types import LayerSpec, ScenePlan

    layers = (
        LayerSpec(name="taxes", prompt="quarterly tax spreadsheet with invoice totals"),
        LayerSpec(name="rain", prompt="soft rain on leaves, far away"),
    )
    plan = ScenePlan(style="sleep", duration_s=5.0, seed=1, layers=layers)
    pipe = SoundscapePipeline()
    weak = pipe.generate_layer(layers[0], plan).metadata
    assert weak["weak_match"] is True and weak["similarity"] < WEAK_MATCH_THRESHOLD
    assert any("weak match" in note for note in weak["notes"])
    good = pipe.generate_layer(layers[1], plan).metadata
    assert good["generator"] == "rain_light" and good["similarity"] >= WEAK_MATCH_THRESHOLD
    assert good["weak_match"] is False and "notes" not in good
