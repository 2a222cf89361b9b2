"""The web app and API (FastAPI, Jinja2 + HTMX). ``create_app`` is the factory."""
