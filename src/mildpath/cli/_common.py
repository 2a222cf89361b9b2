"""What every command shares: JSON on stdout, one-line errors on stderr, the exit codes of the contract.

Exit codes (contracts §2): 0 the command did its job whatever the clinical answer; 2 bad input or usage,
with one line on stderr naming the file, line or field; 1 an unexpected failure. No traceback for bad input.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from mildpath.domain.errors import InvalidInput, MildpathError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout (and nothing else goes to stdout)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def bad_input(message: str) -> NoReturn:
    """Stop with exit code 2 and one line on stderr."""
    sys.stderr.write(f"error: {' '.join(str(message).split())}\n")
    raise typer.Exit(EXIT_BAD_INPUT)


def handles_errors(func: F) -> F:
    """Map mildpath errors to the contract's exit codes: bad input → 2, anything else raised on purpose → 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidInput as exc:
            bad_input(exc.message)
        except (
            FileNotFoundError,
            IsADirectoryError,
            NotADirectoryError,
            FileExistsError,
            PermissionError,
            UnicodeDecodeError,
        ) as exc:
            bad_input(f"{getattr(exc, 'filename', '') or ''} {exc}".strip())
        except MildpathError as exc:
            sys.stderr.write(f"error: {exc.message}\n")
            raise typer.Exit(EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]
