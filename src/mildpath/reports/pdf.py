"""HTML to PDF with WeasyPrint, for every printed document (handouts, procedure notes, the registry report).

WeasyPrint is imported inside :func:`html_to_pdf` only: it loads Pango and fonts, and it is an optional part
(``mildpath[pdf]``); without it the call raises ``ModuleNotFoundError``, which the web app answers with 501.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

P = ParamSpec("P")


def printer() -> Any:
    """WeasyPrint's ``HTML`` (imported here: conventions, dependency rule 5). Called before a document is built,
    so that a site without ``mildpath[pdf]`` is told so at once, not after the work (and the charts) of the HTML."""
    from weasyprint import HTML

    return HTML


def html_to_pdf(document: str, *, base_url: Path | None = None) -> bytes:
    """Print an HTML document to PDF bytes; ``base_url``: the folder its relative links (styles, images) are in."""
    pdf = printer()(string=document, base_url=None if base_url is None else str(base_url)).write_pdf()
    if pdf is None:  # write_pdf returns bytes when no target is given; keep mypy and readers sure of it
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)


def printed(render: Callable[P, str], *, base_url: Path | None = None) -> Callable[P, bytes]:
    """The PDF twin of an HTML renderer: the same arguments, the document printed (see :func:`html_to_pdf`)."""

    @functools.wraps(render)
    def pdf(*args: P.args, **kwargs: P.kwargs) -> bytes:
        printer()
        return html_to_pdf(render(*args, **kwargs), base_url=base_url)

    pdf.__name__ = pdf.__qualname__ = render.__name__.removesuffix("_html") + "_pdf"
    pdf.__signature__ = inspect.signature(render).replace(return_annotation="bytes")  # type: ignore[attr-defined]
    pdf.__doc__ = f"As :func:`{render.__name__}`, printed to PDF bytes."
    return pdf
