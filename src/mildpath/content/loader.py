"""The one content loader: a YAML file read once, validated by its pydantic model, every citation checked.

Each content file has a model (:class:`ContentModel`: frozen, unknown keys refused). :func:`load_content` reads the
file, validates it and turns a pydantic :class:`~pydantic.ValidationError` into a
:class:`~mildpath.content.sources.ContentError` that names the file, the place in it and the problem::

    criteria/default.yaml: criteria[3].rule.all[1].present.diagnosis: unknown value set 'x'

Citations are part of the models: a field typed :data:`SourceId` (one id) or :data:`Cited` (one id or more) only
accepts ids of ``content/sources/*.yaml``, so an unknown id is refused at the place that names it. The shipped
files are read and validated once (``lru_cache``); a site's file (outside the package) is read each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from mildpath.content.sources import CONTENT_DIR, ContentError, bibliography, check_cited
from mildpath.domain.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: How many problems one error message lists (the first ones, in the file's order).
MAX_PROBLEMS = 5


class ContentModel(BaseModel):
    """The base of every content model: frozen, and a key the model does not name is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _known_source(sid: str) -> str:
    if sid not in bibliography():
        raise ValueError(f"unknown source id {sid!r}: add it to content/sources/")
    return sid


def _verified_source(sid: str) -> str:
    if not bibliography()[sid].verified:
        raise ValueError(f"cites unverified source {sid!r}; an UNVERIFIED figure is not shown here")
    return sid


def _as_text(value: Any) -> Any:
    """YAML reads ``version: 2025.1`` or ``code: 123`` as a number; such a value is text here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


#: A source id of ``content/sources/*.yaml``.
SourceId = Annotated[str, AfterValidator(_known_source)]
#: A source id whose bibliography entry is verified (benchmarks may cite nothing else).
VerifiedSourceId = Annotated[SourceId, AfterValidator(_verified_source)]


def _cites_something(ids: tuple[str, ...]) -> tuple[str, ...]:
    if not ids:
        raise ValueError("cites no source")
    return ids


#: One source id or more (a fact must cite something).
Cited = Annotated[tuple[SourceId, ...], AfterValidator(_cites_something)]
#: One verified source id or more.
VerifiedCited = Annotated[tuple[VerifiedSourceId, ...], AfterValidator(_cites_something)]
#: Text that YAML may have read as a number.
Text = Annotated[str, BeforeValidator(_as_text)]


def _not_blank(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("is empty: needs text")
    return text


#: Text that says something (stripped; empty or blank is an error).
Words = Annotated[str, AfterValidator(_not_blank)]
#: Text with its runs of white space made one space (YAML folded blocks keep line breaks).
Prose = Annotated[str, AfterValidator(lambda text: " ".join(text.split()))]


def unique_ids(items: Sequence[Any], what: str = "ids") -> None:
    """Refuse a list in which two items have the same ``id`` (a model validator calls it)."""
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{what} must be unique, got {ids}")


def where(path: Path) -> str:
    """How a message names a file: its place under ``content/`` when shipped, else its name."""
    try:
        return path.resolve().relative_to(CONTENT_DIR).as_posix()
    except ValueError:
        return path.name


def place(loc: Sequence[int | str]) -> str:
    """A pydantic location as a path into the file: ``('rules', 3, 'when', 'all', 1)`` -> ``rules[3].when.all[1]``.
    A tagged union repeats the tag before the field of the same name (``rule.all.all``); that is said once."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, str) and _union_member(part):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != previous:
            out += f".{part}" if out else str(part)
        previous = part
    return out


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict", "tuple"}


def _union_member(part: str) -> bool:
    """Whether a location part is pydantic's name of a union member (``literal['current']``, ``str``,
    ``function-after[...]``, a model's class name) rather than a key of the file."""
    return "[" in part or part in _TYPE_NAMES or part in _model_names()


def _model_names() -> set[str]:
    names: set[str] = set()
    todo: list[type[BaseModel]] = [ContentModel]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def problem(error: Any) -> tuple[str, str]:
    """One pydantic error as words: the place, and what is wrong there."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden" and loc:
        return place(loc[:-1]), f"unknown keys [{loc[-1]!r}]"
    message = str(error.get("msg", "is wrong")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing":
        message = "missing (a required key)"
    return place(loc), message


_SHOULD = "Input should be "


def refusal(name: str, exc: ValidationError) -> ContentError:
    """A :class:`ContentError` naming the file, then each place and its problem (the first few places; the
    members of a union a value fits none of are said in one sentence)."""
    problems: dict[str, list[str]] = {}
    for error in exc.errors():
        at, message = problem(error)
        if message not in problems.setdefault(at, []):
            problems[at].append(message)
    said = []
    for at, messages in problems.items():
        if len(messages) > 1 and all(m.startswith(_SHOULD) for m in messages):
            messages = [_SHOULD + " or ".join(m.removeprefix(_SHOULD) for m in messages)]
        text = "; ".join(messages)
        parent, _, last = at.rpartition(".")
        if at and text.startswith(f"{last} "):  # the problem names its key: "levels must list ..."
            said.append(f"{parent}.{text}" if parent else text)
        else:
            said.append(f"{at}: {text}" if at else text)
    more = f" (and {len(said) - MAX_PROBLEMS} more)" if len(said) > MAX_PROBLEMS else ""
    return ContentError(f"{name}: {'; '.join(said[:MAX_PROBLEMS])}{more}")


def read_yaml(path: Path, *, mapping: bool = True) -> Any:
    """The data of one YAML file; unreadable, not YAML, or (``mapping``) not a mapping is a ContentError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{where(path)}: not valid YAML ({' '.join(str(exc).split())})") from exc
    except OSError as exc:
        raise ContentError(f"{path}: cannot be read ({exc.strerror})") from exc
    if mapping and not isinstance(data, dict):
        raise ContentError(f"{where(path)}: must hold a mapping")
    return data


def validate(data: Any, model: type[M], name: str) -> M:
    """``data`` validated by ``model``; a refusal is a ContentError naming ``name`` and the place."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(name, exc) from exc


def load_content(path: Path | str, model: type[M]) -> M:
    """One content file validated by ``model`` (cached when it is a shipped file)."""
    path = Path(path)
    if path.resolve().is_relative_to(CONTENT_DIR):
        return cast(M, _shipped(path.resolve(), model))
    return validate(read_yaml(path), model, where(path))


@lru_cache(maxsize=64)
def _shipped(path: Path, model: type[M]) -> M:
    return validate(read_yaml(path), model, where(path))


def load_built(
    path: Path | str | None,
    build: Callable[[Mapping[str, Any]], T],
    citations: Callable[[T], Iterable[tuple[str, Sequence[str]]]],
    *,
    shipped: Path,
) -> T:
    """A content file whose domain object a ``make_*`` builder of :mod:`mildpath.domain` validates (triage,
    milestones, symptoms): the ``shipped`` file when ``path`` is ``None`` (read once), else a site's own file.

    The same reading as :func:`load_content`, the builder's :class:`InvalidInput` (which names the place) made a
    ContentError naming the file, then every ``(place, source ids)`` of ``citations`` checked against the
    bibliography."""
    if path is None:
        return cast(T, _built_once(shipped, build, citations))
    return _build(Path(path), build, citations)


def _build(
    path: Path,
    build: Callable[[Mapping[str, Any]], T],
    citations: Callable[[T], Iterable[tuple[str, Sequence[str]]]],
) -> T:
    name = where(path)
    data = read_yaml(path)
    try:
        built = build(data)
    except InvalidInput as exc:
        raise ContentError(f"{name}: {exc.message}") from exc
    for at, ids in citations(built):
        check_cited(tuple(ids), f"{name}: {at}")
    return built


_built_once = lru_cache(maxsize=16)(_build)  # the shipped files, read once per process
