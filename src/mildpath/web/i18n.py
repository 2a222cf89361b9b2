"""Translation of the web pages: gettext catalogues (Babel) for the interface, one helper for content strings.

Catalogues live in ``src/mildpath/locale/`` (``messages.pot``; ``<lang>/LC_MESSAGES/messages.po``), extracted
with ``make i18n`` (``babel.cfg``). The ``.po`` files are read once per process at start-up and compiled in
memory, so a fresh clone needs no build step and no ``.mo`` file is committed or generated.

Language of a page (:func:`negotiate`), first that applies:
1. ``?lang=`` on the URL (a link that names its language);
2. the signed-in patient's stored preference (``Patient.preferred_language``; the switch on every page updates it);
3. the ``mp_lang`` cookie the switch sets for anyone else;
4. the browser's ``Accept-Language``;
5. English.

Templates use Jinja2's i18n extension (``{% trans %}`` and ``_()``); Python code marks module-level strings
with :func:`N_` and translates them when it renders (:func:`gettext` reads the language of the current render).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LANG_COOKIE = "mp_lang"  # shared with the education library's language form
LANG_COOKIE_AGE = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("mildpath_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language``, compiled in memory from its ``.po`` (English is the source language)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark only")
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def from_accept_language(header: str) -> str | None:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (quality values honoured)."""
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, i, tag.strip()))
    for _q, _i, tag in sorted(wanted):
        try:
            language = Locale.parse(tag.replace("-", "_")).language if tag != "*" else DEFAULT_LANGUAGE
        except (ValueError, UnknownLocaleError):
            continue
        if language in LANGUAGES:
            return language
    return None


def negotiate(request: Request) -> str:
    """The language of this request's page (order in the module docstring)."""
    chosen = request.query_params.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    preferred = getattr(request.state, "preferred_language", None)
    if preferred in LANGUAGES:
        return str(preferred)
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE


def localized(value: Any, language: str | None = None) -> Any:
    """A content string in the page's language, whatever shape the content gives it.

    ``{"en": ..., "es": ...}`` gives the entry for the language (English when it is missing); a mapping with
    ``text`` and ``text_es`` (``_es`` siblings) gives the sibling; anything else is returned as it is.
    """
    language = language or _current.get()
    if isinstance(value, Mapping):
        if language in value or DEFAULT_LANGUAGE in value:
            return value.get(language) or value.get(DEFAULT_LANGUAGE)
        return value
    return value


def localized_field(record: Any, name: str, language: str | None = None) -> Any:
    """``record.<name>_<lang>`` (or the key of a mapping) when it exists and is not empty, else ``<name>``."""
    language = language or _current.get()
    get = record.get if isinstance(record, Mapping) else lambda key, default=None: getattr(record, key, default)
    if language != DEFAULT_LANGUAGE:
        sibling = get(f"{name}_{language}", None)
        if sibling:
            return localized(sibling, language)
    return localized(get(name, None), language)


def long_date(value: date) -> str:
    """"Saturday, August 29, 2026" / "sábado, 29 de agosto de 2026"."""
    return format_date(value, "full", locale=_current.get())


def short_date(value: date) -> str:
    """"Aug 29, 2026" / "29 ago 2026"."""
    return format_date(value, "medium", locale=_current.get())
