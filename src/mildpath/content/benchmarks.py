"""Published results to show beside the clinic's own (``content/benchmarks.yaml``), loaded and checked once.

Every benchmark cites its sources (``content/sources/*.yaml``) and carries the label the clinical reference gives
it (§6): none, ``"news report"`` or ``"partial"``. A figure the reference marks UNVERIFIED has no place here: the
loader refuses ``verified: false`` and any source whose bibliography entry is unverified, so that such a figure can
never be shown as a benchmark by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mildpath.content.sources import CONTENT_DIR, ContentError, bibliography, check_cited
from mildpath.domain.outcomes import MEASURES

BENCHMARKS_FILE = CONTENT_DIR / "benchmarks.yaml"
LABELS = ("", "news report", "partial")
UNITS = {"points": "points", "percent": "%", "percent_change": "% change"}
KINDS = ("change", "relative_change", "event_rate", "cumulative_incidence")
ENDPOINTS = ("surgery", "any")


@dataclass(frozen=True)
class Comparator:
    """Which clinic figure to show beside a benchmark (see ``benchmarks.yaml`` for the kinds)."""

    kind: str
    measure: str | None = None
    timepoint: str | None = None
    type: str | None = None
    endpoint: str | None = None
    days: int | None = None


@dataclass(frozen=True)
class Benchmark:
    """One published figure: ``value`` signed as a change, or a percentage of patients."""

    id: str
    metric: str
    study: str
    time: str
    value: float
    unit: str
    written: str  # the figure as the file writes it (keeps "-3.0" rather than "-3")
    approximate: bool
    label: str
    sources: tuple[str, ...]
    comparability: str
    compare: tuple[Comparator, ...]

    @property
    def verified(self) -> bool:
        """Always true: the loader admits verified figures only (a label may still qualify them)."""
        return True

    @property
    def display(self) -> str:
        """The figure as the reference states it: ``-22.7 points``, ``about -16 points``, ``1.3 %``.

        >>> Benchmark("x", "m", "s", "t", -16, "points", "-16", True, "", ("s",), "", ()).display
        'about −16 points'
        """
        number = self.written.replace("-", "\u2212")
        if self.unit == "percent_change":
            number = f"+{number}" if self.value > 0 else number
        text = f"{number} {UNITS[self.unit]}" if self.unit != "percent" else f"{number} %"
        return f"about {text}" if self.approximate else text


@dataclass(frozen=True)
class BenchmarkSet:
    benchmarks: tuple[Benchmark, ...]
    surgical_reintervention_types: tuple[str, ...]
    surgical_reintervention_note: str


def _comparator(raw: Any, where: str) -> Comparator:
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise ContentError(f"{where}: compare entries need kind, one of {', '.join(KINDS)}")
    unknown = set(raw) - {"kind", "measure", "timepoint", "type", "endpoint", "days"}
    if unknown:
        raise ContentError(f"{where}: unknown compare keys {sorted(unknown)}")
    comp = Comparator(
        kind=str(raw["kind"]),
        measure=raw.get("measure"),
        timepoint=str(raw["timepoint"]) if raw.get("timepoint") is not None else None,
        type=raw.get("type"),
        endpoint=raw.get("endpoint"),
        days=int(raw["days"]) if raw.get("days") is not None else None,
    )
    if comp.kind in ("change", "relative_change") and (comp.measure not in MEASURES or not comp.timepoint):
        raise ContentError(f"{where}: a {comp.kind} comparison needs a measure of {MEASURES} and a timepoint")
    if comp.kind == "event_rate" and not comp.type:
        raise ContentError(f"{where}: an event_rate comparison needs a type")
    if comp.kind == "cumulative_incidence" and (
        comp.endpoint not in ENDPOINTS or not comp.days or comp.days < 1
    ):
        raise ContentError(f"{where}: a cumulative_incidence comparison needs endpoint and days")
    return comp


def _benchmark(raw: Any, index: int) -> Benchmark:
    where = f"content/benchmarks.yaml: benchmarks[{index}]"
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: must be a mapping")
    where = f"content/benchmarks.yaml: {raw.get('id', index)}"
    try:
        sources = tuple(raw.get("sources") or ())
        check_cited(sources, where)
        if raw.get("verified", True) is not True:
            raise ContentError(f"{where}: only figures the reference marks verified may be benchmarks")
        unverified = [s for s in sources if not bibliography()[s].verified]
        if unverified:
            raise ContentError(f"{where}: cites unverified source(s) {unverified}; not a benchmark")
        label = str(raw.get("label", "") or "")
        if label not in LABELS:
            raise ContentError(f"{where}: label must be one of {LABELS}")
        unit = str(raw["unit"])
        if unit not in UNITS:
            raise ContentError(f"{where}: unit must be one of {', '.join(UNITS)}")
        compare = tuple(_comparator(c, where) for c in raw.get("compare") or ())
        if not compare:
            raise ContentError(f"{where}: needs at least one compare entry")
        return Benchmark(
            id=str(raw["id"]),
            metric=str(raw["metric"]),
            study=str(raw["study"]),
            time=str(raw["time"]),
            value=float(raw["value"]),
            unit=unit,
            written=str(raw["value"]),
            approximate=bool(raw.get("approximate", False)),
            label=label,
            sources=sources,
            comparability=str(raw.get("comparability", "") or ""),
            compare=compare,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ContentError(f"{where}: needs id, metric, study, time, value, unit, sources ({exc!r})") from exc


def load_benchmarks(path: Path | str = BENCHMARKS_FILE) -> BenchmarkSet:
    """Read and check a benchmarks file (the shipped one by default); a problem raises :class:`ContentError`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path.name}: cannot be read ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ContentError(f"{path.name}: needs a list of benchmarks")
    items = tuple(_benchmark(raw, i) for i, raw in enumerate(data["benchmarks"]))
    ids = [b.id for b in items]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{path.name}: benchmark ids must be unique")
    surgical = tuple(str(t) for t in data.get("surgical_reintervention_types") or ())
    if not surgical:
        raise ContentError(f"{path.name}: needs surgical_reintervention_types")
    return BenchmarkSet(items, surgical, str(data.get("surgical_reintervention_note", "")).strip())


@lru_cache(maxsize=1)
def benchmark_set() -> BenchmarkSet:
    """The shipped benchmarks (cached)."""
    return load_benchmarks()


def benchmarks() -> tuple[Benchmark, ...]:
    return benchmark_set().benchmarks
