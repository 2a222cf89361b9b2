"""Spark for real (issue 17 goal 4): the screen on a standalone Spark cluster (a master and two workers started
here from the installed PySpark, torn down after), writing what the DuckDB engine writes on the same export."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.population.conftest import AS_OF, _spark_available

pytestmark = pytest.mark.spark


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _wait_for(predicate, what: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 240) -> None:
    """Poll until ``predicate()`` (a generous bound for a loaded machine; not a timed assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-2000:]}")
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:<port>``: a standalone master and two one-core workers (a free port rather than 7077:
    other sessions on this machine may hold it)."""
    reason = _spark_available()
    if reason:
        pytest.skip(reason)
    home = _spark_home()
    work = tmp_path_factory.mktemp("spark-cluster")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(work), "SPARK_WORKER_DIR": str(work)}
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = work / f"{name}.log"
        handle = log.open("wb")
        proc = subprocess.Popen([spark_class, *args], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=work)
        procs.append(proc)
        return proc, log

    try:
        master, mlog = start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(_free_port()),
        )
        _wait_for(lambda: "I have been elected leader" in mlog.read_text(errors="replace"), "master", master, mlog)
        for i in (1, 2):
            worker, wlog = start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                url,
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(_free_port()),
                "--work-dir",
                str(work / f"w{i}"),
            )
        _wait_for(
            lambda: mlog.read_text(errors="replace").count("Registering worker") >= 2, "two workers", master, mlog
        )
        yield url
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_the_screen_on_a_standalone_cluster_writes_the_duckdb_engines_file(
    spark_cluster: str, screen_with, synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "candidates.csv"
    env = {**os.environ, "MILDPATH_SPARK_MASTER": spark_cluster}  # the one setting a site points at its cluster
    proc = subprocess.run(
        [sys.executable, "-m", "mildpath", "population", "screen", str(synthetic), "--out", str(out)]
        + ["--engine", "spark", "--as-of", AS_OF.isoformat()],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.read_bytes() == screen_with("duckdb", synthetic).out.read_bytes()
