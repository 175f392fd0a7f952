"""Soundscape Studio's web app: ``streamlit run streamlit_app.py``.

``streamlit run`` imports this module and finds ``app`` (an ``st.App``): the Streamlit server
plus one route of our own, ``/studio-files/...``, which streams players and downloads from
disk (see ``studio.ui.files``). Each session then runs this same file as its script
(``__name__ == "__main__"``), which only draws the navigation; the pages live in ``pages/``
and their logic in ``studio/ui``."""

import streamlit as st

if __name__ == "__main__":
    from studio.ui.navigation import run_app

    run_app()
else:
    from studio.ui.files import routes
    from studio.ui.memory import tune_allocator

    tune_allocator()  # the server's heap gives freed audio back (docs/ui.md, "Memory")
    app = st.App(__file__, routes=routes())
