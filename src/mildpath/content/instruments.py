"""Questionnaire wording, responder thresholds and a site's licensed wording, loaded and checked once.

Shipped files (``content/``):

- ``instruments/{odi,zcq,nprs,walking}.yaml``: title, instructions, and for each item its id and a short neutral
  label with answer option labels. ODI v2.1a and ZCQ wording is licensed or of unclear permission (contracts §4,
  clinical reference §7), so these labels are mildpath's own paraphrases; the NPRS and walking wording is ours.
  Each file must list exactly the items, in order, and the answer values of the scoring structure in
  :mod:`mildpath.domain.instruments` (checked at load).
- ``responders.yaml``: the one responder definition (contracts §4), each threshold with its sources.

Site wording file
-----------------
A site that holds the licence for an instrument's official wording loads it with :func:`load_site_wording` and
passes it to :func:`instrument_form`. The file is YAML (JSON is valid YAML), UTF-8, one instrument per file::

    instrument: odi                  # required: odi, zcq, nprs or walking
    version: "2.1a"                  # required: must equal the version mildpath scores (odi 2.1a, ...)
    licence: "Mapi Research Trust, licence ref. 12345"   # required for ODI and ZCQ: who granted the right
    language: en                     # optional, default en
    title: "Oswestry Disability Index"                    # optional: replaces the shipped title
    instructions: "Please answer every section ..."       # optional: replaces the shipped instructions
    items:                           # required: EVERY item of the instrument, by item id
      odi-1:
        text: "Section 1 - Pain intensity"                # required: the item's text
        options:                     # required for choice items: EVERY answer value, by value
          0: "first statement, exactly as licensed"
          1: "..."
          5: "last statement"

Rules, checked at load (a broken file raises :class:`~mildpath.domain.errors.InvalidInput` naming the file and
the place): every item is present (a form never mixes official and paraphrased wording); option keys are exactly
the item's answer values (0-5 for ODI; 1/3/5 for the ZCQ balance item ``zcq-7``); NPRS items may give labels
for some of 0-10 (the end points, say) and the walking item takes no options; unknown keys are errors. The
wording changes what people read, never how answers are scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, Field, StrictInt

from mildpath.content.loader import Cited, ContentModel, Text, Words, load_content
from mildpath.content.loader import where as load_where
from mildpath.content.sources import CONTENT_DIR, ContentError
from mildpath.domain.catalog import by_id
from mildpath.domain.errors import InvalidInput
from mildpath.domain.instruments import INSTRUMENTS, Instrument, Item, ResponderThresholds

INSTRUMENTS_DIR = CONTENT_DIR / "instruments"
RESPONDERS_FILE = CONTENT_DIR / "responders.yaml"


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class FormItem:
    """One item as a form shows it: structure from the domain, wording from content or the site's file."""

    id: str
    number: int
    label: str
    kind: str
    subscale: str
    options: tuple[Option, ...]
    unit: str | None = None


@dataclass(frozen=True)
class InstrumentForm:
    """An instrument ready to display. ``wording`` is ``"mildpath"`` (our labels) or ``"site"`` (licensed text)."""

    id: str
    title: str
    short_title: str
    version: str
    instructions: str
    items: tuple[FormItem, ...]
    sources: tuple[str, ...]
    licensed: bool
    subscale_labels: tuple[tuple[str, str], ...] = ()
    wording: str = "mildpath"
    licence: str | None = None
    language: str = "en"
    #: The instrument's own name, used only over a site's licensed wording (``title`` otherwise says the labels
    #: are neutral, so that a form never passes for the validated instrument).
    licensed_title: str = ""

    @property
    def stored_wording(self) -> str:
        """What a response collected through this form records: ``licensed`` (the site's licensed text) or
        ``neutral`` (mildpath's own labels)."""
        return "licensed" if self.wording == "site" else "neutral"

    def item(self, item_id: str) -> FormItem:
        return by_id(self.items, item_id)


@dataclass(frozen=True)
class SiteWording:
    """A site's licensed wording for one instrument (see the module docstring for the file format)."""

    instrument: str
    version: str
    licence: str | None
    language: str
    title: str | None
    instructions: str | None
    items: tuple[tuple[str, str, tuple[Option, ...]], ...]  # (item id, text, options)
    path: str


@dataclass(frozen=True)
class ThresholdInfo:
    """One responder threshold as content states it, for explanations and the registry's method notes."""

    name: str
    value: Fraction
    sources: tuple[str, ...]
    note: str
    headline: bool
    verified: bool


# ---------------------------------------------------------------------------------------------------------------
# Shipped instrument wording


class OptionIn(ContentModel):
    value: StrictInt
    label: Text


class ItemIn(ContentModel):
    id: str
    label: Words
    options: tuple[OptionIn, ...] | None = None  # none: the file's shared options
    unit: str | None = None


class SpanishIn(ContentModel):
    """The ``es:`` section: every title, item label and option label in Spanish (issue 15 §3)."""

    title: Words
    instructions: str = ""
    language: str = "es"
    option_labels: dict[Text, str] = {}
    subscales: dict[str, str] = {}
    items: dict[str, str]


class InstrumentFile(ContentModel):
    """``instruments/<id>.yaml``: the neutral wording of one instrument, in English and Spanish."""

    id: str
    title: str
    licensed_title: str | None = None
    short_title: str | None = None
    version: Text
    sources: Cited
    licensed: bool = False
    instructions: str = ""
    subscales: dict[str, str] = {}
    options: tuple[OptionIn, ...] | None = None
    #: YAML anchors the items' options refer to (read through the items)
    option_sets: dict[str, Any] = {}
    items: tuple[ItemIn, ...]
    es: SpanishIn


def _check_options(item: Item, options: tuple[Option, ...], where: str) -> None:
    values = tuple(o.value for o in options)
    if item.kind == "choice" and values != item.allowed:
        raise ContentError(f"{where}: option values {values} must be exactly {item.allowed}")
    if item.kind == "integer" and (not set(values) <= set(item.allowed) or list(values) != sorted(values)):
        raise ContentError(f"{where}: option values {values} must be ascending within {item.describe_allowed()}")
    if item.kind == "decimal" and options:
        raise ContentError(f"{where}: a {item.kind} item takes no options")


def _form_items(instrument: Instrument, data: InstrumentFile, where: str) -> tuple[FormItem, ...]:
    ids = [entry.id for entry in data.items]
    want = [item.id for item in instrument.items]
    if ids != want:
        raise ContentError(f"{where}: items must be {want} in this order, got {ids}")
    out = []
    for i, (item, entry) in enumerate(zip(instrument.items, data.items, strict=True)):
        raw = entry.options if entry.options is not None else (data.options if item.kind != "decimal" else ())
        options = tuple(Option(o.value, o.label) for o in raw or ())
        _check_options(item, options, f"{where}: items[{i}] ({item.id})")
        out.append(FormItem(item.id, item.number, entry.label, item.kind, item.subscale, options, entry.unit))
    return tuple(out)


def _load_form(instrument_id: str) -> tuple[InstrumentForm, InstrumentForm]:
    path = INSTRUMENTS_DIR / f"{instrument_id}.yaml"
    data = load_content(path, InstrumentFile)
    where = f"content/{load_where(path)}"
    if data.id != instrument_id:
        raise ContentError(f"{where}: id: must be {instrument_id}")
    instrument = INSTRUMENTS[instrument_id]
    if data.version != instrument.version:
        raise ContentError(f"{where}: version {data.version!r} must be {instrument.version!r}")
    if instrument.source not in data.sources:
        raise ContentError(f"{where}: sources: must cite the scoring source {instrument.source!r}")
    form = InstrumentForm(
        id=instrument_id,
        title=data.title,
        short_title=data.short_title or instrument_id.upper(),
        version=instrument.version,
        instructions=data.instructions.strip(),
        items=_form_items(instrument, data, where),
        sources=data.sources,
        licensed=data.licensed,
        subscale_labels=tuple(data.subscales.items()),
        licensed_title=data.licensed_title or data.title,
    )
    return form, _translated(form, data.es, f"{where}: es")


def _translated(form: InstrumentForm, data: SpanishIn, where: str) -> InstrumentForm:
    """The form in another language: every title, item label and option label must be translated (a form
    half in English is refused). The licensed title stays the instrument's own name."""
    if set(data.items) != {item.id for item in form.items}:
        raise ContentError(f"{where}.items: must translate exactly {[i.id for i in form.items]}")
    shown = {o.label for item in form.items for o in item.options if not o.label.isdigit()}
    if shown - set(data.option_labels):
        raise ContentError(f"{where}.option_labels: misses {sorted(shown - set(data.option_labels))}")
    if set(data.subscales) != {k for k, _ in form.subscale_labels}:
        raise ContentError(f"{where}.subscales: must translate {[k for k, _ in form.subscale_labels]}")
    labels = data.option_labels
    return replace(
        form,
        title=data.title,
        instructions=data.instructions.strip(),
        items=tuple(
            replace(
                item,
                label=data.items[item.id],
                options=tuple(replace(o, label=labels.get(o.label, o.label)) for o in item.options),
            )
            for item in form.items
        ),
        subscale_labels=tuple((k, data.subscales[k]) for k, _ in form.subscale_labels),
        language=data.language,
    )


@lru_cache(maxsize=8)
def _shipped_forms(instrument_id: str) -> tuple[InstrumentForm, InstrumentForm]:
    """The shipped form in English and in Spanish."""
    return _load_form(instrument_id)


def _shipped_form(instrument_id: str, language: str = "en") -> InstrumentForm:
    english, spanish = _shipped_forms(instrument_id)
    return spanish if language == "es" else english


def instrument_form(
    instrument_id: str, site_wording: SiteWording | None = None, language: str = "en"
) -> InstrumentForm:
    """The form of one instrument: mildpath's neutral labels (in ``language``: ``en`` or ``es``), or the site's
    licensed wording laid over them (in the language of the site's file, whatever ``language`` asks).

    Raises ``KeyError`` for an unknown instrument id and :class:`ContentError` for a broken shipped file.
    """
    if instrument_id not in INSTRUMENTS:
        raise KeyError(instrument_id)
    form = _shipped_form(instrument_id, language if site_wording is None else "en")
    if site_wording is None:
        return form
    if site_wording.instrument != instrument_id:
        raise InvalidInput(
            f"{site_wording.path}: wording is for {site_wording.instrument}, not {instrument_id}",
            field=site_wording.path,
        )
    texts = {item_id: (text, options) for item_id, text, options in site_wording.items}
    items = tuple(
        replace(item, label=texts[item.id][0], options=texts[item.id][1] or item.options) for item in form.items
    )
    return replace(
        form,
        title=site_wording.title or form.licensed_title,
        instructions=site_wording.instructions or form.instructions,
        items=items,
        wording="site",
        licence=site_wording.licence,
        language=site_wording.language,
    )


def titled_form(instrument_id: str, wording: str, language: str = "en") -> InstrumentForm:
    """The shipped form titled for a stored response's ``wording`` (``licensed`` or ``neutral``)."""
    form = instrument_form(instrument_id, language=language)
    return replace(form, title=form.licensed_title) if wording == "licensed" else form


def instrument_forms(site_wordings: Mapping[str, SiteWording] | None = None) -> dict[str, InstrumentForm]:
    """Every instrument's form, in display order (ODI, ZCQ, NPRS, walking)."""
    wordings = site_wordings or {}
    return {iid: instrument_form(iid, wordings.get(iid)) for iid in INSTRUMENTS}


# ---------------------------------------------------------------------------------------------------------------
# A site's licensed wording

_SITE_KEYS = {"instrument", "version", "licence", "language", "title", "instructions", "items"}


def _site_error(path: Path, where: str, message: str) -> InvalidInput:
    place = f"{path}: {where}" if where else str(path)
    return InvalidInput(f"{place}: {message}", field=f"{path}:{where}" if where else str(path))


def _site_options(path: Path, item: Item, raw: Any) -> tuple[Option, ...]:
    where = f"items.{item.id}.options"
    if raw is None:
        if item.kind == "choice":
            raise _site_error(path, where, f"needs a text for every answer value {item.describe_allowed()}")
        return ()
    if item.kind == "decimal":
        raise _site_error(path, where, "this item takes no options")
    if not isinstance(raw, dict):
        raise _site_error(path, where, "must map each answer value to its text")
    options: dict[int, str] = {}
    for key, text in raw.items():
        try:
            value = int(key)
        except (TypeError, ValueError):
            raise _site_error(path, where, f"{key!r} is not an answer value") from None
        if value not in item.allowed:
            raise _site_error(path, where, f"answer value {value} is not one of {item.describe_allowed()}")
        if not isinstance(text, str) or not text.strip():
            raise _site_error(path, f"{where}.{value}", "needs a text")
        options[value] = text.strip()
    if item.kind == "choice" and set(options) != set(item.allowed):
        lacking = sorted(set(item.allowed) - set(options))
        raise _site_error(path, where, f"lacks a text for answer value(s) {lacking}")
    return tuple(Option(v, options[v]) for v in sorted(options))


def load_site_wording(path: Path | str) -> SiteWording:
    """Read and check a site's wording file (format in the module docstring and ``docs/questionnaires.md``).

    Raises :class:`~mildpath.domain.errors.InvalidInput` naming the file and the place for any problem.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _site_error(path, "", f"cannot be read ({' '.join(str(exc).split())})") from exc
    if not isinstance(data, dict):
        raise _site_error(path, "", "must be a mapping (instrument, version, licence, items)")
    unknown = sorted(set(map(str, data)) - _SITE_KEYS)
    if unknown:
        raise _site_error(path, unknown[0], f"unknown key; allowed: {', '.join(sorted(_SITE_KEYS))}")
    instrument = INSTRUMENTS.get(str(data.get("instrument")))
    if instrument is None:
        raise _site_error(path, "instrument", f"must be one of {', '.join(INSTRUMENTS)}")
    if str(data.get("version")) != instrument.version:
        raise _site_error(path, "version", f"must be {instrument.version!r} (the version mildpath scores)")
    licence = data.get("licence")
    if _shipped_form(instrument.id).licensed and (not isinstance(licence, str) or not licence.strip()):
        raise _site_error(path, "licence", f"{instrument.name} wording is licensed: say who granted the licence")
    raw_items = data.get("items")
    if not isinstance(raw_items, dict):
        raise _site_error(path, "items", "must map every item id to its text and options")
    known = {item.id for item in instrument.items}
    for key in raw_items:
        if key not in known:
            raise _site_error(path, f"items.{key}", f"not an item of {instrument.id}")
    items = []
    for item in instrument.items:
        entry = raw_items.get(item.id)
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
            raise _site_error(path, f"items.{item.id}.text", "every item needs its text")
        extra = sorted(set(map(str, entry)) - {"text", "options"})
        if extra:
            raise _site_error(path, f"items.{item.id}.{extra[0]}", "unknown key; allowed: text, options")
        items.append((item.id, entry["text"].strip(), _site_options(path, item, entry.get("options"))))
    return SiteWording(
        instrument=instrument.id,
        version=instrument.version,
        licence=licence.strip() if isinstance(licence, str) else None,
        language=str(data.get("language", "en")),
        title=str(data["title"]).strip() if data.get("title") else None,
        instructions=str(data["instructions"]).strip() if data.get("instructions") else None,
        items=tuple(items),
        path=str(path),
    )


# ---------------------------------------------------------------------------------------------------------------
# Responder thresholds

_THRESHOLDS = (
    "odi_points",
    "odi_relative",
    "nprs_points",
    "nprs_relative",
    "zcq_severity_points",
    "zcq_function_points",
    "zcq_satisfaction_max",
)


def _decimal(value: Any) -> Any:
    """A threshold as an exact fraction of its decimal text (``0.3`` is 3/10, not the nearest float)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a decimal number")
    try:
        return Fraction(Decimal(str(value)))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"must be a decimal number ({exc})") from exc


class ResponderIn(ContentModel):
    value: Annotated[Fraction, BeforeValidator(_decimal), Field(gt=0)]
    sources: Cited
    note: str = ""
    headline: bool = False
    verified: bool = True


class RespondersFile(ContentModel):
    """``responders.yaml``: exactly the thresholds of the one responder definition (contracts §4)."""

    odi_points: ResponderIn
    odi_relative: ResponderIn
    nprs_points: ResponderIn
    nprs_relative: ResponderIn
    zcq_severity_points: ResponderIn
    zcq_function_points: ResponderIn
    zcq_satisfaction_max: ResponderIn


@lru_cache(maxsize=1)
def responder_content() -> dict[str, ThresholdInfo]:
    """Every threshold of ``responders.yaml`` with its value, sources, note and verification status."""
    data = load_content(RESPONDERS_FILE, RespondersFile)
    out: dict[str, ThresholdInfo] = {}
    for name in _THRESHOLDS:
        entry: ResponderIn = getattr(data, name)
        out[name] = ThresholdInfo(name, entry.value, entry.sources, entry.note, entry.headline, entry.verified)
    return out


@lru_cache(maxsize=1)
def responder_thresholds() -> ResponderThresholds:
    """The responder thresholds every part of mildpath uses (contracts §4), from ``responders.yaml``."""
    info = responder_content()
    return ResponderThresholds(
        odi_points=info["odi_points"].value,
        odi_relative=info["odi_relative"].value,
        nprs_points=info["nprs_points"].value,
        nprs_relative=info["nprs_relative"].value,
        zcq_severity_points=info["zcq_severity_points"].value,
        zcq_function_points=info["zcq_function_points"].value,
        zcq_satisfaction_max=info["zcq_satisfaction_max"].value,
        sources=tuple((name, info[name].sources) for name in _THRESHOLDS),
    )
