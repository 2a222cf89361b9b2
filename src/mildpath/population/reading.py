"""What every population engine shares for reading an export, below both engines and the run that drives them:
which files to read (:func:`export_files`), progress reports, read counts and bad-line examples
(:class:`ReadStats`), the recovery from a truncated gzip (:func:`repair_gzip`), and a scratch folder."""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mildpath.population.views.source import SourceFile, SourceStats, discover

_BAD_EXAMPLES_KEPT = 20


# --------------------------------------------------------------------------------------------- progress


class Progress(Protocol):
    """What a run reports while it works (a terminal bar, or nothing)."""

    def start(self, total_bytes: int) -> None: ...

    def update(self, done_bytes: int, patients: int | None = None) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """Reports nothing (not a terminal, tests)."""

    def start(self, total_bytes: int) -> None:
        return None

    def update(self, done_bytes: int, patients: int | None = None) -> None:
        return None

    def stop(self) -> None:
        return None


# --------------------------------------------------------------------------------------------- input


@dataclass
class ReadStats(SourceStats):
    """What reading the export found: its sizes and the types read, with what reading skipped (the files read
    and skipped, bad and non-resource lines: file:line, as a view run counts them)."""

    files: int = 0
    export_bytes: int = 0
    resource_types_read: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "files_read": self.files_read,
            "files_skipped": self.files_skipped,
            "bytes": self.export_bytes,
            "bytes_read": self.bytes_read,
            "resource_types_read": self.resource_types_read,
            "bad_lines": self.bad_lines,
            "bad_line_examples": self.bad_examples,
            "non_resource_lines": self.non_resource_lines,
        }


@dataclass(frozen=True)
class ExportFiles:
    """The export's NDJSON files: those named after each type the screen reads, those naming no type (read for
    every type: an exporter's ``log.ndjson`` or a mixed file), and the rest (never opened)."""

    root: Path
    typed: Mapping[str, tuple[SourceFile, ...]]
    untyped: tuple[SourceFile, ...]
    skipped: tuple[SourceFile, ...]

    @property
    def read(self) -> tuple[SourceFile, ...]:
        return tuple(f for files in self.typed.values() for f in files) + self.untyped

    @property
    def bytes_to_read(self) -> int:
        return sum(f.size for f in self.read)


def export_files(export_dir: Path | str, resource_types: Iterable[str]) -> ExportFiles:
    """Sort the export's files for ``resource_types`` (raises SourceError, exit 2, when there is no NDJSON)."""
    wanted = list(resource_types)
    files = discover(export_dir)
    typed = {t: tuple(f for f in files if f.resource_type == t) for t in wanted}
    untyped = tuple(f for f in files if f.resource_type is None)
    skipped = tuple(f for f in files if f.resource_type is not None and f.resource_type not in wanted)
    return ExportFiles(Path(export_dir), typed, untyped, skipped)


def repair_gzip(path: Path, folder: Path) -> tuple[Path | None, str | None]:
    """The complete lines of a gzip file whose data ends early (or goes bad), as a plain NDJSON file in
    ``folder``; with what happened, as ``name:line (why)``. ``(None, note)`` when no line can be read.
    ``(path, None)`` when the file reads to its end: nothing to repair.

    Decompression is incremental, so every byte before the damage is kept; the last, cut, line is dropped (it is
    the bad line). Files of several gzip members (concatenated) are read member after member.
    """
    target = folder / f"{path.name.removesuffix('.gz')}.{len(list(folder.iterdir()))}.repaired"
    lines = 0
    problem: str | None = None
    pending = b""
    with path.open("rb") as source, target.open("wb") as sink:
        inflater = zlib.decompressobj(wbits=31)
        ended = False  # the last member read to its end
        try:
            while chunk := source.read(1 << 16):
                while chunk:
                    if ended:  # another member follows
                        inflater, ended = zlib.decompressobj(wbits=31), False
                    data = pending + inflater.decompress(chunk)
                    cut = data.rfind(b"\n") + 1
                    sink.write(data[:cut])
                    lines += data.count(b"\n", 0, cut)
                    pending = data[cut:]
                    chunk = b""
                    if inflater.eof:
                        ended, chunk = True, inflater.unused_data
            if not ended:
                problem = "compressed data ends early"
        except zlib.error as exc:
            problem = f"compressed data is damaged: {exc}"
        if problem is None:
            sink.write(pending)
    if problem is None:
        target.unlink(missing_ok=True)
        return path, None
    if lines == 0:
        target.unlink(missing_ok=True)
        return None, f"{path.name}: unreadable ({problem})"
    return target, f"{path.name}:{lines + 1} ({problem})"


def locate_lines(path: Path, texts: Iterable[str], limit: int = _BAD_EXAMPLES_KEPT) -> list[int]:
    """Line numbers (1-based) of lines of ``path`` equal to one of ``texts`` (at most ``limit``), for reporting
    bad lines an engine found by content. Only called for files that hold bad lines."""
    wanted = {t.encode("utf-8", "surrogateescape").strip() for t in texts}
    found: list[int] = []
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip() in wanted:
                    found.append(number)
                    if len(found) >= limit:
                        break
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
        pass
    return found


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for repaired files and engine spill, under ``$MILDPATH_TMP`` or the system's."""
    return tempfile.TemporaryDirectory(prefix="mildpath-population-", dir=os.environ.get("MILDPATH_TMP") or None)
