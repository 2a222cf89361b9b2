"""ASGI entry point for servers: ``uvicorn mildpath.web.asgi:app`` (settings from the environment)."""

from mildpath.web.app import create_app

app = create_app()
