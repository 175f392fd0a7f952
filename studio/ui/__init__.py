"""The Streamlit studio's logic. The only package (with ``streamlit_app.py`` and ``pages/``)
that imports streamlit; :mod:`studio.ui.engine`, :mod:`studio.ui.plan_table` and
:mod:`studio.ui.plots` do not, so they are usable and tested without it."""
