"""The scores table the Compare and Studio pages show (studio/ui/scores.py), in AppTest."""

from __future__ import annotations


def _app():
    from studio.pipeline import SoundscapePipeline
    from studio.ui.scores import show_scores

    pipe = SoundscapePipeline()
    pipe._cache[("scorer", "clip")] = pipe._cache[("scorer", "clap")] = None  # this machine: no CLIP/CLAP
    scape = pipe.render(pipe.plan("waves on a sandy beach", duration_s=5.0, seed=1))
    show_scores(scape, pipeline=pipe)


def test_scores_table_labels_offline_measures_and_says_what_is_absent():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_app, default_timeout=120).run()
    assert not at.exception
    table = at.dataframe[0].value
    kinds = set(table["kind"])
    assert "MiniLM text agreement (offline)" in kinds and "meter (offline)" in kinds
    assert not any("CLIP" in k or "CLAP" in k for k in kinds)
    assert set(table["score"]) >= {"caption ↔ plan (mean)", "loudness range (LU)", "true peak (dBTP)", "mono drop (dB)"}
    captions = " ".join(c.value for c in at.caption)
    assert "CLAP scores absent: no CLAP model on this machine" in captions
