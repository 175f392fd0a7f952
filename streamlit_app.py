"""Soundscape Studio's web app: ``streamlit run streamlit_app.py``. Navigation only; the
pages live in ``pages/`` and their logic in ``studio/ui``."""

from studio.ui.navigation import run_app

run_app()
