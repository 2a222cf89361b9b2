"""The Jinja2 environment every printable report renders with (``reports/templates/<report>/``)."""

from __future__ import annotations

from pathlib import Path

import jinja2


def template_env(folder: Path, **names: object) -> jinja2.Environment:
    """Templates of ``folder``: autoescaped (names and free text are data), strict about undefined names, blocks
    trimmed; ``names`` are the helpers the templates call (globals)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals |= names
    return env
