"""Where the resources come from: one NDJSON file or a FHIR Bulk Data export folder.

A Bulk export writes one or more files per resource type (``Patient.ndjson``, ``Condition.000.ndjson``,
``Observation_2.ndjson.gz``) and often an exporter log (``log.ndjson``) that holds events, not resources. The
Bulk Data specification has each file hold one resource type, so a file whose name contains a resource type
(a name token such as ``Condition`` in ``Condition.000``) is read only when a view needs that type; files
whose names name no type (``log.ndjson``, ``export.ndjson``) are always read and filtered line by line.
A SOURCE given as a single file is always read, whatever its name.

The fast path hands the files to DuckDB as text lines. When that fails (a corrupt line, a truncated gzip,
a byte order mark), :func:`sanitize` streams the same files in Python, keeps every complete JSON line,
records the others with file and line number, and writes the kept lines to a temporary NDJSON file that the
fast path reads instead: memory stays flat and a bad line never stops the run.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from mildpath.population.views import schema
from mildpath.population.views.errors import SourceError
from mildpath.population.views.sql import quote

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
MAX_LINE_BYTES = 1_000_000_000
_BAD_LINES_KEPT = 20


@dataclass(frozen=True)
class SourceFile:
    """One input file; ``resource_type`` is the type its name declares (None when it names none)."""

    path: Path
    resource_type: str | None
    size: int

    @property
    def gzipped(self) -> bool:
        return self.path.name.endswith(".gz")


@dataclass
class SourceStats:
    """What reading skipped: lines that are not resources, and lines (or file tails) that are not JSON."""

    files_read: int = 0
    bytes_read: int = 0
    files_skipped: int = 0
    non_resource_lines: int = 0
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)

    def note_bad(self, where: str, count: int = 1) -> None:
        """Count ``count`` unreadable lines at ``where`` (file:line), keeping the first places as examples."""
        self.bad_lines += count
        if len(self.bad_examples) < _BAD_LINES_KEPT:
            self.bad_examples.append(where)

    def summary(self) -> str | None:
        """One line for stderr, or None when nothing was skipped."""
        parts = []
        if self.non_resource_lines:
            parts.append(f"skipped {self.non_resource_lines} non-resource line(s)")
        if self.bad_lines:
            shown = ", ".join(self.bad_examples[:5])
            parts.append(f"skipped {self.bad_lines} unreadable line(s) ({shown})")
        return "; ".join(parts) if parts else None


def type_from_name(name: str) -> str | None:
    """The resource type a Bulk export file name declares, e.g. ``Condition.000.ndjson`` -> Condition."""
    stem = name
    for suffix in (".gz", ".ndjson", ".jsonl", ".json"):
        stem = stem.removesuffix(suffix)
    types = schema.resource_types()
    for token in re.split(r"[^A-Za-z0-9]+", stem):
        if token in types:
            return token
    return None


def discover(source: Path | str) -> list[SourceFile]:
    """The NDJSON files of ``source`` (a file, or a folder searched recursively), in name order."""
    path = Path(source)
    if path.is_file():
        return [SourceFile(path, None, path.stat().st_size)]
    if not path.exists():
        raise SourceError("no such file or folder", path=str(path))
    if not path.is_dir():
        raise SourceError("not a file or folder", path=str(path))
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(NDJSON_SUFFIXES))
    if not files:
        raise SourceError(f"no NDJSON files ({', '.join(NDJSON_SUFFIXES)}) in this folder", path=str(path))
    return [SourceFile(p, type_from_name(p.name), p.stat().st_size) for p in files]


def select_files(files: list[SourceFile], resource_types: set[str]) -> list[SourceFile]:
    """The files that may hold ``resource_types``: those named after one of them and those named after none."""
    return [f for f in files if f.resource_type is None or f.resource_type in resource_types]


def text_relation(paths: list[Path], column: str = "resource") -> str:
    """DuckDB SQL of a relation with one VARCHAR column: each line of ``paths`` as text, not parsed.

    Delimiter 0x01 and no quote or escape character make every line one field: valid JSON text never contains a
    raw control character. Blank lines come out as NULL and fail every resource test.
    """
    files = "[" + ", ".join(quote(str(p)) for p in paths) + "]"
    return (
        f"read_csv({files}, columns={{{quote(column)}: 'VARCHAR'}}, header=false, delim=chr(1), quote='', "
        f"escape='', auto_detect=false, strict_mode=false, max_line_size={MAX_LINE_BYTES})"
    )


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _lines(source: SourceFile, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of a file; a truncated or corrupt gzip ends the file with one bad entry."""
    number = 0
    try:
        with _open(source.path) as handle:
            for number, line in enumerate(handle, start=1):  # noqa: B007 - number is used after the loop
                yield number, line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        if number == 0:
            raise SourceError(f"cannot read: {exc}", path=str(source.path)) from exc
        stats.note_bad(f"{source.path.name}:{number + 1} (compressed data ends early: {exc})")


def sanitize(files: list[SourceFile], resource_types: set[str], out: Path, stats: SourceStats) -> None:
    """Write the complete JSON lines of ``files`` that may hold ``resource_types`` to ``out``; count the rest."""
    import orjson

    needles = [b'"' + t.encode() + b'"' for t in resource_types]
    with out.open("wb") as sink:
        for source in files:
            bad_before, objects = stats.bad_lines, 0
            for number, raw in _lines(source, stats):
                line = raw.strip().removeprefix(b"\xef\xbb\xbf")
                if not line:
                    continue
                wanted = any(n in line for n in needles)
                if not wanted and b'"resourceType"' in line:
                    continue  # another resource type: not needed, not parsed
                try:
                    document = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    stats.note_bad(f"{source.path.name}:{number} ({str(exc).split(':')[0]})")
                    continue
                if not isinstance(document, dict):
                    stats.note_bad(f"{source.path.name}:{number} (not a JSON object)")
                    continue
                objects += 1
                if "resourceType" not in document:
                    stats.non_resource_lines += 1
                elif wanted:
                    sink.write(line)
                    sink.write(b"\n")
            if objects == 0 and stats.bad_lines > bad_before:
                raise SourceError("not NDJSON: no line is a complete JSON object", path=str(source.path))
