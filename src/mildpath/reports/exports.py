"""Files for exports: FHIR Bulk Data NDJSON (one file per resource type) and tables as CSV or Parquet.

pyarrow is imported only when Parquet is written. Nothing here knows about the database: callers pass resources
and rows (``services.outcomes_export``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import BaseModel

TABLE_FORMATS = ("csv", "parquet")


def write_ndjson(resources: Iterable[Mapping[str, Any]], out_dir: Path) -> dict[str, int]:
    """Write each resource as one line of ``out_dir/<resourceType>.ndjson`` (FHIR Bulk Data layout, UTF-8, ``\\n``
    line ends); returns the count per type. Each file is written under a temporary name and takes its own name
    only once every resource is written, so an export that fails or is killed leaves the old files whole."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handles: dict[str, IO[bytes]] = {}
    counts: dict[str, int] = {}
    done = False
    try:
        for resource in resources:
            kind = str(resource["resourceType"])
            if not kind.isalnum():
                raise ValueError(f"not a resource type: {kind!r}")
            if kind not in handles:
                handles[kind] = _part(out_dir / f"{kind}.ndjson").open("wb")
            handles[kind].write(orjson.dumps(resource) + b"\n")
            counts[kind] = counts.get(kind, 0) + 1
        done = True
    finally:
        for handle in handles.values():
            handle.close()
        for kind in handles:
            _finish(out_dir / f"{kind}.ndjson", keep=done)
    return dict(sorted(counts.items()))


def _part(path: Path) -> Path:
    """The temporary name a file is written under, in the same folder (so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.part")


def _finish(path: Path, *, keep: bool) -> None:
    if keep:
        os.replace(_part(path), path)
    else:
        _part(path).unlink(missing_ok=True)


def write_table(
    rows: Sequence[Mapping[str, Any] | BaseModel], columns: Sequence[str], path: Path, fmt: str
) -> int:
    """Write ``rows`` (mappings, or typed rows: their fields) with exactly ``columns`` (in that order) as CSV (empty
    cell for ``None``) or Parquet; returns the number of rows. Written under a temporary name and renamed at the
    end, like :func:`write_ndjson`."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"format must be one of {TABLE_FORMATS}")
    records = [row.model_dump() if isinstance(row, BaseModel) else row for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    done = False
    try:
        if fmt == "csv":
            with _part(path).open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="raise")
                writer.writeheader()
                for row in records:
                    writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({c: [row.get(c) for row in records] for c in columns})
            pq.write_table(table, _part(path))
        done = True
    finally:
        _finish(path, keep=done)
    return len(rows)
