"""An export that fails or is killed with SIGKILL leaves the files of the last finished export whole (issue 21,
"Background work"): files are written under a temporary name and renamed only at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mildpath.reports.exports import write_ndjson, write_table

from .server import ROOT

OLD = b'{"resourceType":"Patient","id":"old"}\n'

# Writes two Patients and one Observation, says so, then waits forever in the middle of the export.
STALLED_EXPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mildpath.reports.exports import write_ndjson

    def resources():
        yield {"resourceType": "Patient", "id": "new-1"}
        yield {"resourceType": "Patient", "id": "new-2"}
        yield {"resourceType": "Observation", "id": "o-1"}
        print("written", flush=True)
        while True:
            time.sleep(1)

    write_ndjson(resources(), Path(sys.argv[1]))
    """
)


def test_an_export_killed_mid_stream_leaves_the_last_files_whole(tmp_path: Path):
    (tmp_path / "Patient.ndjson").write_bytes(OLD)
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLED_EXPORT, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    assert (tmp_path / "Patient.ndjson").read_bytes() == OLD
    assert not (tmp_path / "Observation.ndjson").exists()


def test_an_export_that_fails_leaves_the_old_files_and_no_temporary_ones(tmp_path: Path):
    (tmp_path / "Patient.ndjson").write_bytes(OLD)

    def resources():
        yield {"resourceType": "Patient", "id": "new"}
        yield {"resourceType": "Observation", "id": "o"}
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        write_ndjson(resources(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Patient.ndjson"]
    assert (tmp_path / "Patient.ndjson").read_bytes() == OLD
    with pytest.raises(AttributeError):  # the second row is not a row: the table fails half-way
        write_table([{"a": 1}, None], ["a"], tmp_path / "t.csv", "csv")  # type: ignore[list-item]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Patient.ndjson"]


def test_a_finished_export_replaces_the_files(tmp_path: Path):
    (tmp_path / "Patient.ndjson").write_bytes(OLD)
    assert write_ndjson([{"resourceType": "Patient", "id": "new"}], tmp_path) == {"Patient": 1}
    assert (tmp_path / "Patient.ndjson").read_bytes() == b'{"resourceType":"Patient","id":"new"}\n'
    assert write_table([{"a": None}], ["a"], tmp_path / "t.csv", "csv") == 1
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines() == ["a", '""']
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Patient.ndjson", "t.csv"]
