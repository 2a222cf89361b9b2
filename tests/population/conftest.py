"""Fixtures of the population suite: synthetic and messy exports, the engines, and the single-patient oracle.

Every engine (``duckdb``, ``spark``) screens the same exports once per session; tests compare what it wrote with
what ``mildpath.domain.screening.screen`` answers for each patient read on its own (conventions §10). Spark
starts once for the whole suite (its start-up is slow) and is skipped, with the reason, where PySpark or Java
is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.util
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mildpath.content.criteria import load_criteria_set
from mildpath.domain.criteria import CriteriaSet
from mildpath.domain.screening import ScreeningResult, screen
from mildpath.fhir.read import _ref_id, facts_from_resources
from mildpath.population.engine import Summary, run
from mildpath.population.synth import generate

AS_OF = dt.date(2025, 6, 30)
ROOT = Path(__file__).resolve().parents[2]
REAL_EXPORT = ROOT.parent / "shared" / "data" / "synthea-bulk-10"
HAND = Path(__file__).resolve().parent / "data" / "hand.ndjson"

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="session")
def criteria_set() -> CriteriaSet:
    return load_criteria_set()


# --------------------------------------------------------------------------------------------- exports


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain synthetic export of a few hundred patients."""
    folder = tmp_path_factory.mktemp("synthetic")
    generate(folder, patients=300, seed=3, as_of=AS_OF)
    return folder


def _gzip(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as source, gzip.GzipFile(filename="", mode="wb", fileobj=target.open("wb"), mtime=0) as sink:
        shutil.copyfileobj(source, sink)
    path.unlink()
    return target


@dataclass(frozen=True)
class Messy:
    """A synthetic export made the way real ones are: see :func:`messy`."""

    folder: Path
    truncated: str
    corrupt: str
    not_utf8: str
    damaged_patient: str = "Patient.000.ndjson:6"


@pytest.fixture(scope="session")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Messy:
    """Synthetic patients plus the real Synthea sample, with what real exports carry: gzip files (one cut
    short), a corrupt line, a line that is not UTF-8, a byte order mark, blank lines, an extra resource type, a
    mixed file that names no type, urn:uuid references and dates with and without zones (hand-written ones)."""
    folder = tmp_path_factory.mktemp("messy")
    generate(folder, patients=250, seed=5, as_of=AS_OF)
    for name in ("Condition.000.ndjson", "Procedure.000.ndjson"):
        _gzip(folder / name)
    requests = _gzip(folder / "MedicationRequest.000.ndjson")
    data = requests.read_bytes()
    requests.write_bytes(data[: int(len(data) * 0.6)])  # the exporter died mid-file
    observations = folder / "Observation.000.ndjson"
    with observations.open("ab") as handle:
        handle.write(b'{"resourceType":"Observation","id":"cut","status":"final","code":{"coding":[{"system":"http:/\n')
        handle.write(b"\n\n")
    bad_line = sum(1 for _ in observations.open("rb")) - 2
    encounters = folder / "Encounter.000.ndjson"
    with encounters.open("ab") as handle:  # an extra type nobody reads; a broken line there changes nothing
        handle.write(b"not json at all\n")
    patients = folder / "Patient.000.ndjson"
    lines = patients.read_bytes().splitlines(keepends=True)
    lines.insert(5, b'{"resourceType":"Patient","id":"damaged" "birthDate":"1950-01-01"}\n')  # looks like an object
    patients.write_bytes(b"\xef\xbb\xbf" + b"".join(lines))
    services = folder / "ServiceRequest.000.ndjson"
    with services.open("ab") as handle:
        handle.write(b'{"resourceType":"ServiceRequest","id":"latin1","note":[{"text":"caf\xe9 "}],"code":"62323"}\n')
    not_utf8 = sum(1 for _ in services.open("rb"))
    if REAL_EXPORT.is_dir():
        for path in REAL_EXPORT.glob("*.ndjson"):
            if path.name != "log.ndjson":
                shutil.copy(path, folder / path.name.replace(".000.", ".real."))
    (folder / "Claim.000.ndjson").write_text('{"resourceType":"Claim","id":"c1","status":"active"}\n')
    shutil.copy(HAND, folder / "export.ndjson")
    return Messy(
        folder=folder,
        truncated="MedicationRequest.000.ndjson.gz",
        corrupt=f"Observation.000.ndjson:{bad_line}",
        not_utf8=f"ServiceRequest.000.ndjson:{not_utf8}",
    )


# --------------------------------------------------------------------------------------------- the oracle


def _readable_lines(path: Path) -> Iterator[bytes]:
    """The lines an engine can use: a gzip that ends early ends the file, as the engines read it."""
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            lines = list(handle)
    except EOFError:
        with opener(path, "rb") as handle:
            lines = []
            try:
                for line in handle:
                    lines.append(line)
            except EOFError:
                pass
        if lines and not lines[-1].endswith(b"\n"):
            lines.pop()
    yield from lines


def split_by_patient(export: Path) -> dict[str, list[dict[str, Any]]]:
    """Each Patient's resources (the Patient line and the lines whose subject points at it), plus the export's
    Medication resources, read line by line the way ``mildpath screen`` reads one patient's NDJSON."""
    by: dict[str, list[dict[str, Any]]] = {}
    medications: list[dict[str, Any]] = []
    for path in sorted(export.iterdir()):
        if not path.name.endswith((".ndjson", ".ndjson.gz")):
            continue
        for raw in _readable_lines(path):
            try:
                res = json.loads(raw.decode("utf-8").lstrip("\ufeff"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if not isinstance(res, dict) or "resourceType" not in res:
                continue
            if res["resourceType"] == "Medication":
                medications.append(res)
                continue
            if res["resourceType"] == "Patient":
                pid = res.get("id")
            else:
                pid = _ref_id((res.get("subject") or res.get("patient") or {}).get("reference"))
            if pid:
                by.setdefault(pid, []).append(res)
    return {
        pid: resources + medications
        for pid, resources in by.items()
        if any(r["resourceType"] == "Patient" for r in resources)
    }


_ORACLE: dict[tuple[Path, dt.date], dict[str, ScreeningResult]] = {}


def oracle(export: Path, criteria_set: CriteriaSet, as_of: dt.date = AS_OF) -> dict[str, ScreeningResult]:
    """The single-patient engine's answer for every patient of ``export``."""
    key = (export, as_of)
    if key not in _ORACLE:
        _ORACLE[key] = {
            pid: screen(criteria_set, facts_from_resources(resources).facts, as_of)
            for pid, resources in split_by_patient(export).items()
        }
    return _ORACLE[key]


def _comparable(items: list[tuple[Any, Any, Any]]) -> list[tuple[Any, ...]]:
    """Evidence as sorted (date, record, value), the value left out where it is a code: when two codings of one
    record tie (same record, same date), the single-patient engine names the first coding written and the SQL
    engines the one whose code sorts first (they do not see the order of codings); the answer is the same."""
    out = {(day, record, None if isinstance(value, str) else json.dumps(value)) for day, record, value in items}
    return sorted(out, key=lambda t: (t[0] or "", t[1], t[2] or ""))


def evidence_of(result: ScreeningResult) -> dict[str, list[tuple[Any, ...]]]:
    """A result's evidence per criterion (see :func:`_comparable`)."""
    return {
        f.criterion.id: _comparable([(e.date.isoformat() if e.date else None, e.record, e.value) for e in f.evidence])
        for f in result.findings
        if f.evidence
    }


def row_evidence(row: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """A written row's evidence per criterion (see :func:`_comparable`)."""
    found = json.loads(row["evidence"])
    return {cid: _comparable([(e["date"], e["record"], e["value"]) for e in items]) for cid, items in found.items()}


# --------------------------------------------------------------------------------------------- engines


def _spark_available() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed"
    if shutil.which("java") is None:
        return "no Java runtime for Spark"
    return None


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    reason = _spark_available()
    if reason:
        pytest.skip(reason)
    from mildpath.population.spark import start_session

    session = start_session("local[2]")
    yield session
    session.stop()


@dataclass(frozen=True)
class Screened:
    """What one engine wrote for one export: the rows by patient, the file and the summary."""

    rows: dict[str, dict[str, str]]
    out: Path
    summary: Summary


_SCREENED: dict[tuple[str, Path], Screened] = {}


@pytest.fixture(scope="session")
def screen_with(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, criteria_set: CriteriaSet
) -> Callable[[str, Path], Screened]:
    """``screen_with(engine, export)``: screen once per session, then reuse."""

    def do(engine: str, export: Path) -> Screened:
        key = (engine, export)
        if key not in _SCREENED:
            machine: Any = engine
            if engine == "spark":
                from mildpath.population.spark import SparkEngine

                machine = SparkEngine(session=request.getfixturevalue("spark_session"))
            out = tmp_path_factory.mktemp(f"{engine}-{export.name}") / "candidates.csv"
            summary = run(export, criteria_set, AS_OF, out=out, engine=machine)
            rows = {r["patient_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
            _SCREENED[key] = Screened(rows, out, summary)
        return _SCREENED[key]

    return do


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
