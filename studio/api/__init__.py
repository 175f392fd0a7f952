"""The HTTP API (FastAPI): ``app.py`` builds the application, ``jobs.py`` keeps images and jobs
in SQLite and runs jobs. Started by ``python -m studio serve`` (docs/api.md). Nothing heavy is
imported here."""
