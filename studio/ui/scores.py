"""Coherence scores on the Compare and Studio pages (docs/evaluation.md).

``show_scores(soundscape, image=..., pipeline=...)`` draws one table: model scores (CLIP, CLAP,
overall) when their models are on this machine, offline measures labelled as such, and a line
for each score that is absent and why. Scores are computed once per soundscape (kept beside
it in a weak map) and automatically only for tracks up to ``AUTO_SCORE_MAX_S``: longer ones
wait for a click, since scoring streams the whole mix once.
"""

from __future__ import annotations

import weakref
from typing import Any

import streamlit as st

from studio.errors import StudioError

AUTO_SCORE_MAX_S = 180.0
_SCORES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def scores_for(soundscape: Any, *, image: Any = None, pipeline: Any = None) -> dict:
    """The soundscape's scores, computed with ``pipeline``'s scorers on first call."""
    if soundscape not in _SCORES:
        from studio.pipeline import SoundscapePipeline

        _SCORES[soundscape] = (pipeline or SoundscapePipeline()).score(soundscape, image=image)
    return _SCORES[soundscape]


def show_scores(soundscape: Any, *, image: Any = None, pipeline: Any = None, key: str = "scores") -> None:
    """The scores table for ``soundscape`` (``image``: the PIL image it came from, if any)."""
    from studio.evaluation.scores import score_rows

    st.markdown("Coherence")
    if soundscape not in _SCORES and soundscape.duration_s > AUTO_SCORE_MAX_S:
        if not st.button("Score this soundscape", key=key, icon=":material/analytics:"):
            st.caption("Scoring streams the whole mix once; click to compute it.")
            return
    try:
        scores = scores_for(soundscape, image=image, pipeline=pipeline)
    except StudioError as exc:
        st.caption(f"Scores could not be computed: {exc}")
        return
    st.dataframe(score_rows(scores), hide_index=True, width="stretch")
    for reason in scores.get("missing", []):
        st.caption(reason)
