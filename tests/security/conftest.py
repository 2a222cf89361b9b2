"""Fixtures for the security suite: an app built with adjusted settings, sharing the test's rolled-back
transaction like the ``app`` fixture does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client_with(world, session_factory) -> Iterator[Callable[..., TestClient]]:  # type: ignore[no-untyped-def]
    """``client_with(base_url=..., **setting_overrides)``: a TestClient for an app built with changed settings."""
    from mildpath.web.app import create_app

    opened: list[TestClient] = []

    def make(base_url: str = "http://testserver", **overrides: Any) -> TestClient:
        application = create_app(world.settings.model_copy(update=overrides))
        application.state.session_factory = session_factory
        c = TestClient(application, base_url=base_url, follow_redirects=False)
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)
