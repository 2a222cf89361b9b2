"""What every command shares: JSON on stdout, one-line errors on stderr, the exit codes of the contract.

Exit codes (contracts §2): 0 the command did its job whatever the clinical answer; 2 bad input or usage,
with one line on stderr naming the file, line or field; 1 an unexpected failure. No traceback for bad input.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from mildpath.domain.errors import InvalidInput, MildpathError

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from sqlalchemy.orm import Session, sessionmaker

    from mildpath.domain.criteria import CriteriaSet
    from mildpath.settings import Settings

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


def load_settings() -> Settings:
    """The deployment's settings (bad ones stop with exit code 2, naming the setting); the site's content folder
    is named once, as the web app does at start-up."""
    from mildpath.content.procedure import use_site_content
    from mildpath.settings import Settings, UnsafeSettings

    try:
        settings = Settings()
    except (UnsafeSettings, ValueError) as exc:
        bad_input(f"settings: {exc}")
    use_site_content(settings.content_dir)
    return settings


def session_factory(settings: Settings, *, migrate: bool = False) -> sessionmaker[Session]:
    """Sessions on the settings' database; ``migrate`` brings its schema up to date first (a fresh machine then
    answers with empty results rather than a crash). The CLI's one way to the store (the session factory)."""
    from mildpath.store.db import make_engine, make_session_factory

    engine = make_engine(settings)
    if migrate:
        from mildpath.store.migrate import upgrade

        upgrade(settings, engine)
    return make_session_factory(engine)


def unit_of_work(settings: Settings, *, migrate: bool = False) -> AbstractContextManager[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    return transaction(session_factory(settings, migrate=migrate))


def transaction(factory: sessionmaker[Session]) -> AbstractContextManager[Session]:
    """One transaction on sessions of ``factory`` (a command that also hands the factory to a job)."""
    from mildpath.store.db import transaction as unit

    return unit(factory)


def as_of_date(text: str | None) -> dt.date:
    """``--as-of``: the day given (YYYY-MM-DD), or today by the services' clock."""
    import datetime as dt

    from mildpath.services.clock import today

    if text is None:
        return today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        bad_input(f"--as-of: {text!r} is not a date (YYYY-MM-DD)")


def criteria_rules(criteria_set: str, content_dir: Path | None) -> CriteriaSet:
    """``--criteria-set`` (and ``--content-dir``): the validated criteria set, or exit 2 saying what is wrong."""
    from mildpath.content.criteria import load_criteria_set
    from mildpath.content.sources import ContentError

    try:
        return load_criteria_set(criteria_set, content_dir if content_dir and str(content_dir) else None)
    except ContentError as exc:
        bad_input(f"--criteria-set {criteria_set}: {exc}")
