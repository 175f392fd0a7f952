"""Coherence scores (CLIP image-caption, CLAP text-audio, an overall score), offline measures,
and the evaluation report: ``clip.py``, ``clap.py``, ``measures.py``, ``scores.py``,
``report.py``. See docs/evaluation.md. Nothing heavy is imported here."""
