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
from typing import Literal

from pydantic import Field, StrictFloat, StrictInt, field_validator, model_validator

from mildpath.content.loader import ContentModel, Text, VerifiedCited, load_content, unique_ids
from mildpath.content.sources import CONTENT_DIR
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


class ComparatorModel(ContentModel):
    kind: Literal["change", "relative_change", "event_rate", "cumulative_incidence"]
    measure: str | None = None
    timepoint: Text | None = None
    type: str | None = None
    endpoint: str | None = None
    days: int | None = None

    @model_validator(mode="after")
    def _what_each_kind_needs(self) -> ComparatorModel:
        if self.kind in ("change", "relative_change") and (self.measure not in MEASURES or not self.timepoint):
            raise ValueError(f"a {self.kind} comparison needs a measure of {MEASURES} and a timepoint")
        if self.kind == "event_rate" and not self.type:
            raise ValueError("an event_rate comparison needs a type")
        if self.kind == "cumulative_incidence" and (self.endpoint not in ENDPOINTS or not self.days or self.days < 1):
            raise ValueError("a cumulative_incidence comparison needs endpoint and days")
        return self


class BenchmarkModel(ContentModel):
    id: Text
    metric: str
    study: str
    time: str
    value: StrictInt | StrictFloat
    unit: Literal["points", "percent", "percent_change"]
    approximate: bool = False
    label: Literal["", "news report", "partial"] | None = ""
    verified: bool = True
    sources: VerifiedCited
    comparability: str | None = ""
    compare: tuple[ComparatorModel, ...] = Field(min_length=1)

    @field_validator("verified")
    @classmethod
    def _only_verified(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("only figures the reference marks verified may be benchmarks")
        return value


class BenchmarksFile(ContentModel):
    """``benchmarks.yaml``: which later operations count as surgery, and the published figures."""

    surgical_reintervention_types: tuple[str, ...] = Field(min_length=1)
    surgical_reintervention_note: str = ""
    benchmarks: tuple[BenchmarkModel, ...]

    @field_validator("benchmarks")
    @classmethod
    def _unique_ids(cls, value: tuple[BenchmarkModel, ...]) -> tuple[BenchmarkModel, ...]:
        unique_ids(value, "benchmark ids")
        return value


def _benchmark(raw: BenchmarkModel) -> Benchmark:
    return Benchmark(
        id=raw.id,
        metric=raw.metric,
        study=raw.study,
        time=raw.time,
        value=float(raw.value),
        unit=raw.unit,
        written=str(raw.value),
        approximate=raw.approximate,
        label=raw.label or "",
        sources=raw.sources,
        comparability=raw.comparability or "",
        compare=tuple(Comparator(**c.model_dump()) for c in raw.compare),
    )


def load_benchmarks(path: Path | str = BENCHMARKS_FILE) -> BenchmarkSet:
    """Read and check a benchmarks file (the shipped one by default); a problem raises :class:`ContentError`."""
    data = load_content(Path(path), BenchmarksFile)
    return BenchmarkSet(
        tuple(_benchmark(b) for b in data.benchmarks),
        data.surgical_reintervention_types,
        data.surgical_reintervention_note.strip(),
    )


@lru_cache(maxsize=1)
def benchmark_set() -> BenchmarkSet:
    """The shipped benchmarks (cached)."""
    return load_benchmarks()


def benchmarks() -> tuple[Benchmark, ...]:
    return benchmark_set().benchmarks
