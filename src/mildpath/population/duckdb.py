"""The default engine: embedded DuckDB over the views, the facts and the criteria (issue 9, issue 12).

How it reads an export, fast and exactly:

- Files named after a resource type the screen does not read are never opened (the run has left them out).
- The lines of each file are read as text, without parsing (``read_csv`` with a delimiter no JSON line holds).
  Of Patient files every line is used. Of the other types, only lines holding one of the compiled screen's
  ``needles`` (a code of a value set the rules use, as a JSON string) are kept, with lines that do not look
  like one JSON object (they are checked and counted); the rest cannot change any answer and are never parsed.
- The kept lines, a small table, are checked (``json_valid``), cleaned of a byte order mark, counted as bad
  (with file and line number) or as non-resource lines (an exporter's log), and run through the views compiled
  by :mod:`mildpath.population.views`.
- Lines that are not UTF-8 are counted as bad with their line numbers (DuckDB's reject tables). A gzip file that
  ends early is decompressed up to its last complete line (:func:`~mildpath.population.reading.repair_gzip`) and
  read from that copy; the cut line is reported.
- Then the compiled facts and criteria SQL run, and the rows stream out in batches. Memory stays flat
  (:func:`default_memory_mb`: 128 MB a thread, at least 256 MB; what is beyond spills to a temporary folder):
  the staged lines and facts grow with the export, DuckDB's memory does not. Should a step need more than
  DuckDB can spill, the screen runs again with twice the memory (before any row is written).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mildpath.population.compile import CompiledScreen, ViewTable
from mildpath.population.reading import (
    ExportFiles,
    Progress,
    ReadStats,
    locate_lines,
    repair_gzip,
    scratch_folder,
)
from mildpath.population.views import compile_view
from mildpath.population.views.errors import SourceError
from mildpath.population.views.source import SourceFile
from mildpath.population.views.sql import quote

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

BATCH_ROWS = 65_536
# The longest line read (a longer one is counted as bad). DuckDB reads with buffers of this size (and 16 times
# it by default, which for a gzip file is allocated whole): 32 MB keeps memory flat and covers any resource
# screening reads.
MAX_LINE_BYTES = 32 * 1024 * 1024
_GZIP_FAILURE = re.compile(r"(gzip|GZIP|compressed|zlib|inflate)")
# What DuckDB says of a line it cannot read as text.
_UNREADABLE_TEXT = re.compile(r"(?i)(unicode|utf-8|utf8|maximum line size|line size)")
# A line that is one JSON object starts with { and ends with } (read_csv drops the \r of \r\n).
_LOOKS_LIKE_OBJECT = "(starts_with(resource, '{') AND ends_with(resource, '}'))"
_MIN_MEMORY_MB = 256
_MEMORY_PER_THREAD_MB = 128
_MAX_MEMORY_MB = 16_000


class DuckDBEngine:
    """:class:`~mildpath.population.engine.ScreeningEngine` on embedded DuckDB (see the module docstring)."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        """``memory_limit`` (``512MB``, ``2GB``): DuckDB's memory to start with (default
        :func:`default_memory_mb`); doubled while a step cannot spill."""
        self.threads = threads
        self.memory_limit = memory_limit

    def close(self) -> None:
        return None

    def screen(
        self, compiled: CompiledScreen, files: ExportFiles, stats: ReadStats, progress: Progress
    ) -> Iterator[pa.RecordBatch]:
        import duckdb

        limit = _megabytes(self.memory_limit) if self.memory_limit else default_memory_mb(self.threads)
        before = _snapshot(stats)
        while True:
            yielded = False
            try:
                for batch in self.screen_within(compiled, files, stats, progress, limit):
                    yielded = True
                    yield batch
                return
            except duckdb.OutOfMemoryException:
                # A step DuckDB could not spill: once, before any row left, the screen runs again with twice
                # the memory (what reading counted is counted again from the start).
                if yielded or limit >= _MAX_MEMORY_MB:
                    raise
                limit *= 2
                _restore(stats, before)

    def screen_within(
        self, compiled: CompiledScreen, files: ExportFiles, stats: ReadStats, progress: Progress, limit_mb: int
    ) -> Iterator[pa.RecordBatch]:
        import duckdb

        with scratch_folder() as tmp:
            con = duckdb.connect(":memory:")
            try:
                _configure(con, Path(tmp), self.threads, f"{limit_mb}MB")
                run = _Run(con, compiled, files, stats, progress, Path(tmp))
                run.load()
                reader = con.sql(compiled.query).to_arrow_reader(BATCH_ROWS)
                yield from reader
            finally:
                con.close()


def default_memory_mb(threads: int | None) -> int:
    """DuckDB's memory for a screen: 128 MB per thread, at least 256 MB. What the steps hold beyond it spills to
    the scratch folder, so memory stays flat as the export grows (the staged lines and the facts grow with it)."""
    import os

    return max(_MIN_MEMORY_MB, _MEMORY_PER_THREAD_MB * (threads or os.cpu_count() or 1))


def _megabytes(text: str) -> int:
    found = re.fullmatch(r"\s*([0-9.]+)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*", text, re.IGNORECASE)
    if not found:
        raise ValueError(f"memory limit {text!r}: write it as 512MB or 2GB")
    factor = {"k": 1 / 1000, "m": 1, "g": 1000, "t": 1_000_000}[(found.group(2) or "MB")[0].lower()]
    return max(1, int(float(found.group(1)) * factor))


def _snapshot(stats: ReadStats) -> tuple[int, list[str], int]:
    return stats.bad_lines, list(stats.bad_examples), stats.non_resource_lines


def _restore(stats: ReadStats, before: tuple[int, list[str], int]) -> None:
    stats.bad_lines, examples, stats.non_resource_lines = before
    stats.bad_examples[:] = examples


def _configure(con: duckdb.DuckDBPyConnection, tmp: Path, threads: int | None, memory_limit: str) -> None:
    con.execute(f"SET memory_limit = {quote(memory_limit)}")
    con.execute(f"SET temp_directory = {quote(str(tmp / 'spill'))}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")


class _Run:
    """One screen on one connection: stage lines, run views, build facts."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        compiled: CompiledScreen,
        files: ExportFiles,
        stats: ReadStats,
        progress: Progress,
        tmp: Path,
    ) -> None:
        self.con = con
        self.compiled = compiled
        self.files = files
        self.stats = stats
        self.progress = progress
        self.tmp = tmp
        self.done = 0
        self.scans = 0
        self.patients = 0
        self.repaired: dict[Path, Path] = {}  # a gzip that ends early -> its complete lines
        self.names: dict[str, Path] = {}  # such a copy -> the file it came from (for reports)
        row = con.execute("SELECT current_setting('threads')").fetchone()
        self.threads = int(row[0]) if row else 1

    # -- the steps --------------------------------------------------------------------------------------
    def load(self) -> None:
        con = self.con
        con.execute("CREATE TABLE mp_vs (name VARCHAR, system VARCHAR, code VARCHAR)")
        if self.compiled.valueset_rows:
            con.executemany("INSERT INTO mp_vs VALUES (?, ?, ?)", list(self.compiled.valueset_rows))
        con.execute("CREATE TABLE mp_raw (rtype VARCHAR, file VARCHAR, resource VARCHAR)")
        views = {v.table: v for v in self.compiled.views}
        patient_view = views["mp_v_patient"]
        self.read_patients(patient_view)
        for rtype in self.compiled.resource_types:
            if rtype != "Patient":
                self.stage(rtype, list(self.files.typed.get(rtype, ())), self.compiled.needles[rtype])
        if self.files.untyped:
            self.stage(None, list(self.files.untyped), self.untyped_needles())
        self.classify()
        for view in self.compiled.views:
            self.run_view(view)
        con.execute("DROP TABLE mp_lines")
        for name, sql in self.compiled.tables:
            con.execute(f"CREATE TABLE {name} AS {sql}")
        for view in self.compiled.views:  # what is left is the facts: memory follows them, not the export
            con.execute(f"DROP TABLE IF EXISTS {view.table}")
        con.execute("DROP TABLE IF EXISTS mp_v_patient_direct")
        self.progress.update(self.done, self.patients)

    def read_patients(self, view: ViewTable) -> None:
        """Every Patient line through the patient view (one parse each); bad lines staged for counting."""
        files = list(self.files.typed.get("Patient", ()))
        compiled = compile_view(view.view)
        create = f"CREATE TABLE {view.table}_direct AS "
        if not files:
            self.con.execute(create + compiled.sql("(SELECT CAST(NULL AS VARCHAR) AS resource WHERE false)"))
            return

        def direct(rel: str, guarded: bool) -> str:
            text = "CASE WHEN json_valid(resource) THEN resource END" if guarded else "resource"
            return create + compiled.sql(f"(SELECT {text} AS resource FROM {rel} WHERE {_LOOKS_LIKE_OBJECT})")

        paths = self.readable(files, lambda rel: self.con.execute(direct(rel, False)), rejects=False)
        if paths is None:  # a line that looks like an object but is not JSON: parse again, guarded
            self.con.execute(f"DROP TABLE IF EXISTS {view.table}_direct")
            paths = self.readable(files, lambda rel: self.con.execute(direct(rel, True)), rejects=False)
            assert paths is not None
            bad = f"resource IS NOT NULL AND resource <> '' AND (NOT {_LOOKS_LIKE_OBJECT} OR NOT json_valid(resource))"
        else:
            bad = f"resource IS NOT NULL AND resource <> '' AND NOT {_LOOKS_LIKE_OBJECT}"
        self.readable(
            files,
            lambda rel: self.con.execute(
                f"INSERT INTO mp_raw SELECT 'Patient', filename, resource FROM {rel} WHERE {bad}"
            ),
        )
        row = self.con.execute(f"SELECT count(*) FROM {view.table}_direct").fetchone()
        self.patients = int(row[0]) if row else 0
        self.advance(files)

    def stage(self, rtype: str | None, files: list[SourceFile], needles: tuple[str, ...] | None) -> None:
        """Keep the lines of ``files`` that hold a needle (all when None) or do not look like one object; of
        files that name no type, also the lines that are not resources (to count them)."""
        if not files:
            return
        label = quote(rtype) if rtype else "CAST(NULL AS VARCHAR)"
        keep = "TRUE" if needles is None else " OR ".join(f"contains(resource, {quote(n)})" for n in needles)
        if rtype is None and needles is not None:
            keep += " OR NOT contains(resource, '\"resourceType\"')"
        where = f"resource IS NOT NULL AND resource <> '' AND (({keep}) OR NOT {_LOOKS_LIKE_OBJECT})"

        def insert(rel: str) -> None:
            self.con.execute(f"INSERT INTO mp_raw SELECT {label}, filename, resource FROM {rel} WHERE {where}")

        for group in self.groups(files):
            self.readable(group, insert)
            self.advance(group)

    def groups(self, files: list[SourceFile]) -> list[list[SourceFile]]:
        """The files to read per query: a plain file alone (DuckDB splits it over its threads; reading several
        at once holds buffers for each), gzip files as many at a time as there are threads (a gzip stream
        cannot be split)."""
        plain = [[f] for f in files if not f.gzipped]
        packed = [f for f in files if f.gzipped]
        width = max(1, self.threads)
        return plain + [packed[i : i + width] for i in range(0, len(packed), width)]

    def untyped_needles(self) -> tuple[str, ...] | None:
        """Files that name no type (a log, a mixed file): every line any type needs, Patient lines, and lines
        without ``"resourceType"`` (counted as non-resource lines)."""
        found: set[str] = {'"Patient"'}
        for needles in self.compiled.needles.values():
            if needles is None:
                continue
            found |= set(needles)
        if any(v is None for t, v in self.compiled.needles.items() if t != "Patient"):
            return None
        return tuple(sorted(found))

    def classify(self) -> None:
        """Clean the staged lines; count bad and non-resource lines (bad ones with file:line)."""
        con = self.con
        con.execute(
            "CREATE TABLE mp_lines AS SELECT rtype, file, text, json_valid(text) AS ok FROM ("
            f"SELECT rtype, file, CASE WHEN {_LOOKS_LIKE_OBJECT} THEN resource ELSE trim(CASE WHEN "
            "starts_with(resource, chr(65279)) THEN substr(resource, 2) ELSE resource END, ' \t\r') END AS text "
            "FROM mp_raw) WHERE text <> ''"
        )
        bad = con.execute("SELECT file, list(text) FROM mp_lines WHERE NOT ok GROUP BY file ORDER BY file").fetchall()
        for file, texts in bad:
            self.note_bad_texts(Path(file), list(texts))
        # A valid line that starts {"resourceType": has one; the others are parsed to tell.
        row = con.execute(
            "SELECT count(*) FROM mp_lines WHERE ok AND NOT starts_with(text, '{\"resourceType\":') "
            "AND (json_type(text) <> 'OBJECT' OR json_extract_string(text, '$.resourceType') IS NULL)"
        ).fetchone()
        self.stats.non_resource_lines += int(row[0]) if row else 0
        con.execute("DROP TABLE mp_raw")

    def run_view(self, view: ViewTable) -> None:
        compiled = compile_view(view.view)
        # A valid line that is not an object gives no row: the view's type test finds no resourceType in it.
        rtype = quote(view.resource_type)
        kept = f"(SELECT text AS resource FROM mp_lines WHERE ok AND (rtype = {rtype} OR rtype IS NULL))"
        sql = compiled.sql(kept)
        if view.table == "mp_v_patient":
            sql = f"SELECT * FROM {view.table}_direct UNION ALL {sql}"
        self.con.execute(f"CREATE TABLE {view.table} AS {sql}")

    # -- reading files ------------------------------------------------------------------------------------
    def readable(
        self,
        files: list[SourceFile],
        action: Callable[[str], Any],
        *,
        rejects: bool = True,
    ) -> list[Path] | None:
        """Run ``action(relation)`` over ``files`` and return the paths it read.

        The fast path reads in parallel and stops at the first line DuckDB cannot read as text (not UTF-8, too
        long); the action then runs again tolerating such lines (one thread), which are counted with their line
        numbers when ``rejects``. A gzip that ends early is repaired and the action run again (the repaired copy
        is kept for later passes). Returns None when the action failed on a line that is not JSON (the caller
        decides what to do).
        """
        import duckdb

        paths = [self.repaired.get(f.path, f.path) for f in files]
        tried: set[Path] = set()
        tolerant = False
        while True:
            table = self.next_rejects() if tolerant else None
            try:
                with _Poller(self.con, self.progress, self.done, sum(f.size for f in files), self.patients):
                    action(_lines(paths, table))
            except duckdb.OutOfMemoryException:
                raise  # the screen runs again with more memory (DuckDBEngine.screen)
            except duckdb.Error as exc:
                message = str(exc)
                if "Malformed JSON" in message or "malformed JSON" in message:
                    return None
                if not tolerant and _UNREADABLE_TEXT.search(message):
                    tolerant = True
                    continue
                broken = self.find_broken_gzip(paths, message, tried)
                if broken is None:
                    raise SourceError(f"cannot read the export: {message.splitlines()[0]}") from None
                tried.add(broken)
                fixed, note = repair_gzip(broken, self.tmp)
                if note:
                    self.stats.note_bad(note)
                if fixed is not None:
                    self.repaired[broken] = fixed
                    self.names[str(fixed)] = broken
                paths = [p for p in paths if p != broken] + ([fixed] if fixed is not None else [])
                if not paths:
                    return paths
                continue
            if table is not None:
                if rejects:
                    self.note_rejects(table)
                else:
                    self.drop_rejects(table)
            return paths

    def find_broken_gzip(self, paths: list[Path], message: str, tried: set[Path]) -> Path | None:
        """The gzip file a read error is about: named in the message, else the first that does not read."""
        if not _GZIP_FAILURE.search(message):
            return None
        for path in paths:
            if path.name.endswith(".gz") and str(path) in message and path not in tried:
                return path
        for path in paths:
            if path.name.endswith(".gz") and path not in tried:
                fixed, note = repair_gzip(path, self.tmp)
                if note is not None:
                    if fixed is not None and fixed != path:
                        fixed.unlink(missing_ok=True)
                    return path
        return None

    def next_rejects(self) -> str:
        self.scans += 1
        return f"mp_rejects_{self.scans}"

    def note_rejects(self, name: str) -> None:
        """Lines DuckDB could not read as text (not UTF-8, too long), with their line numbers."""
        try:
            rows = self.con.execute(
                f"SELECT s.file_path, e.line, e.error_type FROM {name} e JOIN {name}_scan s "
                "ON s.scan_id = e.scan_id AND s.file_id = e.file_id ORDER BY s.file_path, e.line"
            ).fetchall()
        except Exception:  # noqa: BLE001 - no rejects table when the scan read nothing
            return
        for path, line, kind in rows:
            why = "not UTF-8" if "ENCODING" in str(kind) else str(kind).lower().replace("_", " ")
            self.stats.note_bad(f"{self.original(path).name}:{line} ({why})")
        self.drop_rejects(name)

    def drop_rejects(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute(f"DROP TABLE IF EXISTS {name}_scan")

    def original(self, path: str) -> Path:
        return self.names.get(path, Path(path))

    def note_bad_texts(self, path: Path, texts: list[str]) -> None:
        """Bad lines found by content: their line numbers come from one pass over that file."""
        numbers = locate_lines(path, texts)
        name = self.original(str(path)).name
        for i, _ in enumerate(texts):
            where = f"{name}:{numbers[i]}" if i < len(numbers) else name
            self.stats.note_bad(f"{where} (not valid JSON)")

    def advance(self, files: list[SourceFile]) -> None:
        self.done += sum(f.size for f in files)
        self.progress.update(self.done, self.patients or None)


def _lines(paths: list[Path], rejects: str | None) -> str:
    """The lines of ``paths`` as text (column ``resource``, with ``filename``). With ``rejects``, lines that
    cannot be read as text are skipped and recorded in the tables ``<rejects>`` and ``<rejects>_scan``
    (DuckDB then reads with one thread); without, such a line stops the read."""
    listed = "[" + ", ".join(quote(str(p)) for p in paths) + "]"
    tolerate = (
        f", ignore_errors=true, store_rejects=true, rejects_table={quote(rejects)}, "
        f"rejects_scan={quote(rejects + '_scan')}"
        if rejects
        else ""
    )
    return (
        f"read_csv({listed}, columns={{'resource': 'VARCHAR'}}, header=false, delim=chr(1), quote='', "
        f"escape='', auto_detect=false, strict_mode=false, new_line='\\n', max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={MAX_LINE_BYTES}, filename=true, compression='auto'{tolerate})"
    )


class _Poller:
    """Reports a query's progress while it runs (DuckDB's own estimate, as a share of the files' bytes)."""

    def __init__(self, con: Any, progress: Progress, done: int, size: int, patients: int) -> None:
        self.con = con
        self.progress = progress
        self.done = done
        self.size = size
        self.patients = patients
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self) -> None:
        while not self.stop.wait(0.25):
            try:
                share = float(self.con.query_progress())
            except Exception:  # noqa: BLE001 - progress is best effort
                return
            if share >= 0:
                self.progress.update(self.done + int(self.size * min(share, 100.0) / 100), self.patients or None)

    def __enter__(self) -> _Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
