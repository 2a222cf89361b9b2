"""Logging for ``mildpath serve``: one stderr handler whose formatter never prints an exception's message.

Why: an exception's message can quote the data that caused it (a pydantic error quotes the input value, a
database error its parameters, a ``KeyError`` the key), and so patient data. The server's logs keep the
exception's type and the stack (files, lines, functions), which is what an operator needs to find the bug;
the message is withheld. Our own log lines name record ids and kinds, never names or clinical values
(tests/security/test_no_phi_in_logs.py checks a whole demo run at DEBUG).

SQLAlchemy's loggers stay at WARNING whatever the level asked for: at INFO and below they print every
statement's parameters and every row read, which is patient data by design. (Engines are also created with
``hide_parameters=True``, so database errors do not quote parameters either.) uvicorn's access log is off: its
lines carry query strings such as a patient search.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType
from typing import Any

LEVELS = ("critical", "error", "warning", "info", "debug")
WITHHELD = "(message withheld: it may quote patient data)"
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and of the exceptions it was raised from, each with its type but no message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for i, item in enumerate(reversed(chain)):
        if i:
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{_name(item)}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


class RedactingFormatter(logging.Formatter):
    """A formatter that prints exceptions without their messages (see the module docstring)."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (the logging API's name)
        exc = ei[1] if ei and len(ei) > 1 else None
        return redacted_traceback(exc) if isinstance(exc, BaseException) else ""

    def format(self, record: logging.LogRecord) -> str:
        # Another formatter may have cached the full text on the record: always render it our way.
        record.exc_text = None
        return super().format(record)


def logging_config(level: str = "warning") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for uvicorn's ``log_config`` (applied in every worker)."""
    name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"redacting": {"()": f"{__name__}.RedactingFormatter", "fmt": FORMAT}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "redacting", "stream": "ext://sys.stderr"}
        },
        "root": {"level": name, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": name, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": name, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "sqlalchemy": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
