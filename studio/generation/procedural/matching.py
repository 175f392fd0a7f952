"""Free text → catalogue generator, by MiniLM similarity to the catalogue descriptions.

The prompt and every ``LayerType.description`` (prefixed with the type's readable name, which
helps short prompts such as "owl") are embedded with the packaged sentence model
(:mod:`studio.text_embed`); the best cosine similarity wins. Below
:data:`WEAK_MATCH_THRESHOLD` the choice is still made (something must play) but it is flagged
as a weak match in the metadata, which the pipeline records and the UI shows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from studio.sounds.catalogue import CATALOGUE

# Cosine similarity under which a match is reported as weak. all-MiniLM-L6-v2 gives ~0.5-0.8
# for a paraphrase of a description and ~0.0-0.2 for unrelated text; 0.35 sits between
# (checked on the prompts in tests/procedural/test_matching.py).
WEAK_MATCH_THRESHOLD = 0.35


def match_text(layer) -> str:
    return f"{layer.name.replace('_', ' ')}: {layer.description}"


@lru_cache(maxsize=1)
def _catalogue_matrix() -> np.ndarray:
    from studio.text_embed import embed

    return embed([match_text(t) for t in CATALOGUE])


def rank(prompt: str) -> list[tuple[str, float]]:
    """All catalogue names with their similarity to ``prompt``, best first."""
    from studio.text_embed import embed

    query = embed([prompt])[0]
    sims = _catalogue_matrix() @ query
    order = np.argsort(-sims, kind="stable")
    return [(CATALOGUE[i].name, float(sims[i])) for i in order]


def best_match(prompt: str) -> tuple[str, float]:
    name, sim = rank(prompt)[0]
    return name, sim
