"""Load benchmark (issue 10): many simulated patients submitting diary entries and viewing pages against the
real server, on loopback only, bounded in time and in request count.

Run: ``.venv/bin/python benchmarks/bench_load.py [--db sqlite|postgres|both] [--seconds 60] [--rate 300]``

For each database it:

1. prepares a fresh database (SQLite file in a temporary folder; PostgreSQL: a schema ``mp_bench`` inside the
   database of ``--postgres-url``, default ``$MILDPATH_BENCH_POSTGRES_URL`` or ``$MILDPATH_TEST_POSTGRES_URL``)
   with one clinic and ``--patients`` patients, each with a login, an API token and a web session;
2. starts ``mildpath serve --workers N`` (default 2) and runs the **sustained** test: diary submissions
   (``POST /api/v1/patients/{id}/diary`` with the patient's bearer token and an ``Idempotency-Key``) arriving
   at ``--rate`` per second (open loop: requests are sent on schedule whether or not earlier ones finished, and
   latency is measured from the scheduled time, so a server that falls behind shows it), plus page views
   (the patient's diary page, with the session cookie) at a tenth of that rate, for ``--seconds`` after a
   3-second warm-up;
3. measures **capacity** (closed loop: ``--concurrency`` clients sending back to back for ``--capacity-seconds``)
   of the same diary endpoint, and of a **bare ASGI endpoint** (a minimal Starlette app in this file doing the
   same INSERT into ``diary_entries``, served by uvicorn with the same workers): the ratio shows what the
   framework, authentication, access checks, triage, audit row and idempotency key cost per submission.

Target (issue 10): >= 300 acknowledged diary submissions/s sustained for 60 s, p99 < 200 ms, zero errors.
Writes ``benchmarks/results/load.json``. The load generator is a small asyncio HTTP/1.1 keep-alive client
(a general-purpose client would spend as much CPU as the server on this 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECRET = "bench-secret-key-long-enough-0123456789abcdef"
SCHEMA = "mp_bench"
MAX_REQUESTS = 500_000  # a hard bound on what one run may send, whatever the rate and duration
TARGET = {"diary_per_s": 300, "seconds": 60, "p99_ms": 200, "errors": 0, "page_p99_ms": 300, "share_of_bare": 0.5}


# ------------------------------------------------------------------------------------------ the bare endpoint


def make_bare_app() -> Any:
    """The baseline: Starlette, one route, the same INSERT into ``diary_entries`` through the bare driver
    (sqlite3 in WAL mode, or psycopg with one connection per thread) and nothing else: no ORM, no auth, no
    validation, no triage, no audit, no idempotency key."""
    import threading
    from datetime import UTC, datetime

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    url = os.environ["MILDPATH_DATABASE_URL"]
    local = threading.local()
    sqlite = url.startswith("sqlite")

    def connection() -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            if sqlite:
                import sqlite3

                conn = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            else:
                import psycopg

                conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            local.conn = conn
        return conn

    cols = "patient_id, entered_at, answers, level, reasons, advice, rules_version"

    def insert(patient_id: int, answers: str) -> int:
        conn = connection()
        now = datetime.now(UTC)
        if sqlite:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                f"INSERT INTO diary_entries ({cols}) VALUES (?, ?, ?, 'expected', '[]', '', '')",
                (patient_id, now.strftime("%Y-%m-%d %H:%M:%S.%f"), answers),
            )
            conn.execute("COMMIT")
            return int(cur.lastrowid)
        row = conn.execute(
            f"INSERT INTO diary_entries ({cols}) VALUES (%s, %s, %s::jsonb, 'expected', '[]', '', '') RETURNING id",
            (patient_id, now, answers),
        ).fetchone()
        return int(row[0])

    async def diary(request: Request) -> JSONResponse:
        patient_id = int(request.path_params["patient_id"])
        answers = json.dumps(await request.json())
        return JSONResponse({"id": await run_in_threadpool(insert, patient_id, answers)}, status_code=201)

    return Starlette(routes=[Route("/bare/patients/{patient_id:int}/diary", diary, methods=["POST"])])


# ------------------------------------------------------------------------------------------ preparation


@dataclass(frozen=True)
class SimPatient:
    patient_id: int
    token: str
    cookie: str


def prepare(url: str, data_dir: Path, patients: int) -> list[SimPatient]:
    """Migrate and create the clinic, its patients, their logins, tokens and sessions (no password hashing:
    the simulated patients never type a password)."""
    from datetime import date

    from sqlalchemy.orm import Session

    from mildpath.services.auth import digest, start_session
    from mildpath.settings import Settings
    from mildpath.store.base import utcnow
    from mildpath.store.db import make_engine
    from mildpath.store.migrate import upgrade
    from mildpath.store.models import ApiToken, Clinic, Patient, User

    settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(data_dir))
    upgrade(settings)
    engine = make_engine(settings)
    out = []
    rng = random.Random(20261126)
    with Session(engine) as s, s.begin():
        clinic = Clinic(name="Benchmark Clinic")
        s.add(clinic)
        s.flush()
        for i in range(patients):
            p = Patient(
                clinic_id=clinic.id,
                mrn=f"B-{i:05d}",
                given_name=f"Bench{i}",
                family_name="Patient",
                birth_date=date(1940 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                sex="female" if i % 2 else "male",
            )
            s.add(p)
            s.flush()
            user = User(email=f"bench{i}@example.org", role="patient", clinic_id=clinic.id, patient_id=p.id)
            s.add(user)
            s.flush()
            token = f"mp_bench_{i}_{rng.getrandbits(128):032x}"
            s.add(ApiToken(user_id=user.id, digest=digest(token), name="bench"))
            cookie = start_session(s, user, utcnow())
            out.append(SimPatient(p.id, token, cookie))
    engine.dispose()
    return out


@contextlib.contextmanager
def database(backend: str, tmp: Path, postgres_url: str) -> Any:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        sep = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{sep}options={quote(f'-csearch_path={SCHEMA}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        engine.dispose()


# ------------------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(env: dict[str, str], workers: int, log: Path, bare: bool = False) -> Any:
    port = free_port()
    if bare:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.bench_load:make_bare_app",
            "--factory",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        probe = None
    else:
        cmd = [
            sys.executable,
            "-m",
            "mildpath",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--no-migrate",
        ]
        probe = "/healthz"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-1500:]}")
            try:
                if probe:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2)
                else:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(1.0 if workers > 1 else 0.2)  # let every worker finish starting
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------------------------------ the client


class Connection:
    """One HTTP/1.1 keep-alive connection: write a request, read one response (Content-Length bodies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def diary_request(prefix: str, p: SimPatient, i: int, rng: random.Random) -> bytes:
    body = json.dumps(
        {"pain_back": rng.randrange(0, 4), "pain_leg": rng.randrange(0, 3), "new_numbness": False}
    ).encode()
    return (
        f"POST {prefix}/patients/{p.patient_id}/diary HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {p.token}\r\nIdempotency-Key: bench-{i}-{rng.getrandbits(48):x}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def page_request(p: SimPatient) -> bytes:
    return (
        f"GET /patients/{p.patient_id}/diary HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: mp_session={p.cookie}\r\n\r\n"
    ).encode()


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"diary": [], "page": []})
    ok: dict[str, int] = field(default_factory=lambda: {"diary": 0, "page": 0})
    errors: dict[str, int] = field(default_factory=lambda: {"diary": 0, "page": 0})
    error_kinds: dict[str, int] = field(default_factory=dict)

    def note(self, kind: str, status: int | None, latency: float, expected: int) -> None:
        if status == expected:
            self.ok[kind] += 1
            self.latencies[kind].append(latency)
        else:
            self.errors[kind] += 1
            label = f"{kind}:{'connection' if status is None else 'unanswered' if status == -1 else status}"
            self.error_kinds[label] = self.error_kinds.get(label, 0) + 1


def generator_share(cpu_s: float, wall_s: float, load_before: tuple[float, float, float]) -> dict[str, Any]:
    """What the load generator itself cost: its CPU seconds, and that as a share of the machine's CPU time."""
    return {
        "generator_cpu_s": round(cpu_s, 2),
        "generator_cpu_share_of_machine": round(cpu_s / (wall_s * (os.cpu_count() or 1)), 3),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


async def _send(pool: asyncio.Queue[Connection], raw: bytes) -> int | None:
    conn = await pool.get()
    try:
        status, _ = await conn.request(raw)
        return status
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return None
    finally:
        pool.put_nowait(conn)


async def open_loop(
    port: int,
    patients: list[SimPatient],
    rate: float,
    page_rate: float,
    seconds: float,
    warmup: float,
    connections: int,
) -> dict[str, Any]:
    """Requests on a fixed schedule; latency from the scheduled instant (no coordinated omission)."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(port))
    rng = random.Random(7)
    tally, warm = Tally(), Tally()
    tasks: set[asyncio.Task[None]] = set()
    total = rate + page_rate
    n = min(int(total * (seconds + warmup)), MAX_REQUESTS)
    start = time.perf_counter() + 0.2
    loop = asyncio.get_running_loop()
    cpu0, load0 = time.process_time(), os.getloadavg()

    async def one(at: float, kind: str, raw: bytes) -> None:
        status = await _send(pool, raw)
        done = time.perf_counter()
        (warm if at < start + warmup else tally).note(kind, status, done - at, 201 if kind == "diary" else 200)

    for i in range(n):
        at = start + i / total
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        p = patients[rng.randrange(len(patients))]
        is_page = rng.random() < page_rate / total
        raw = page_request(p) if is_page else diary_request("/api/v1", p, i, rng)
        task = loop.create_task(one(at, "page" if is_page else "diary", raw))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    sent_until = time.perf_counter()
    cpu_sent = time.process_time() - cpu0
    if tasks:
        _, unfinished = await asyncio.wait(tasks, timeout=60)
        # No answer a minute after the last request was sent: errors, counted as "unanswered" (queued in this
        # client for one of its connections, or in flight), apart from refused or dropped connections.
        for task in unfinished:
            task.cancel()
            tally.note("diary", -1, float("inf"), 201)
    elapsed = max(sent_until - (start + warmup), 1e-9)
    while not pool.empty():
        pool.get_nowait().close()
    return {
        "mode": "open loop",
        **generator_share(cpu_sent, max(sent_until - start, 1e-9), load0),
        "rate_target_per_s": rate,
        "page_rate_target_per_s": page_rate,
        "seconds": round(elapsed, 1),
        "warmup_seconds": warmup,
        "connections": connections,
        "diary_acknowledged": tally.ok["diary"],
        "diary_per_s": round(tally.ok["diary"] / elapsed, 1),
        "diary_latency": summary(tally.latencies["diary"]),
        "page_views": tally.ok["page"],
        "page_latency": summary(tally.latencies["page"]),
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.error_kinds,
    }


async def closed_loop(
    port: int, patients: list[SimPatient], seconds: float, concurrency: int, prefix: str
) -> dict[str, Any]:
    """``concurrency`` clients sending diary entries back to back: the most the endpoint can take."""
    tally = Tally()
    stop = time.perf_counter() + seconds
    counter = iter(range(MAX_REQUESTS))

    async def client(k: int) -> None:
        conn = Connection(port)
        rng = random.Random(k)
        for i in counter:
            if time.perf_counter() >= stop:
                break
            raw = diary_request(prefix, patients[rng.randrange(len(patients))], i, rng)
            t0 = time.perf_counter()
            try:
                status, _ = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = None
            tally.note("diary", status, time.perf_counter() - t0, 201)
        conn.close()

    t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {
        "mode": "closed loop",
        **generator_share(time.process_time() - cpu0, elapsed, load0),
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "diary_acknowledged": tally.ok["diary"],
        "diary_per_s": round(tally.ok["diary"] / elapsed, 1),
        "diary_latency": summary(tally.latencies["diary"]),
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.error_kinds,
    }


# ------------------------------------------------------------------------------------------ main


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="mp-bench-") as tmp_name,
        database(backend, Path(tmp_name), args.postgres_url) as url,
    ):
        tmp = Path(tmp_name)
        print(f"[{backend}] preparing {args.patients} simulated patients", file=sys.stderr)
        patients = prepare(url, tmp, args.patients)
        env = {
            **os.environ,
            "MILDPATH_DATABASE_URL": url,
            "MILDPATH_DATA_DIR": str(tmp),
            "MILDPATH_SECRET_KEY": SECRET,
            "MILDPATH_ENV": "production",
        }
        result: dict[str, Any] = {"workers": args.workers, "patients": args.patients}
        with server(env, args.workers, tmp / "server.log") as port:
            # Capacity first: the sustained run may leave a backlog behind if the server cannot keep up.
            print(
                f"[{backend}] capacity: closed loop x{args.concurrency} for {args.capacity_seconds} s", file=sys.stderr
            )
            result["capacity"] = asyncio.run(
                closed_loop(port, patients, args.capacity_seconds, args.concurrency, "/api/v1")
            )
            print(
                f"[{backend}] sustained: {args.rate}/s diary + {args.rate / 10:g}/s pages for {args.seconds} s",
                file=sys.stderr,
            )
            result["sustained"] = asyncio.run(
                open_loop(port, patients, args.rate, args.rate / 10, args.seconds, 3.0, args.connections)
            )
        with server(env, args.workers, tmp / "bare.log", bare=True) as port:
            print(f"[{backend}] bare ASGI capacity for {args.capacity_seconds} s", file=sys.stderr)
            result["bare_capacity"] = asyncio.run(
                closed_loop(port, patients, args.capacity_seconds, args.concurrency, "/bare")
            )
    sustained = result["sustained"]
    result["bare_to_mildpath_capacity_ratio"] = round(
        result["bare_capacity"]["diary_per_s"] / max(result["capacity"]["diary_per_s"], 1e-9), 2
    )
    p99 = sustained["diary_latency"]["p99_ms"]
    page_p99 = sustained["page_latency"]["p99_ms"]
    share = result["capacity"]["diary_per_s"] / max(result["bare_capacity"]["diary_per_s"], 1e-9)
    result["mildpath_share_of_bare_capacity"] = round(share, 3)
    result["meets_capacity_goal"] = share >= TARGET["share_of_bare"]
    result["meets_target"] = bool(
        page_p99 is not None
        and page_p99 < TARGET["page_p99_ms"]
        and sustained["diary_per_s"] >= TARGET["diary_per_s"] * 0.98  # the schedule's own jitter, not the server
        and args.seconds >= TARGET["seconds"]
        and p99 is not None
        and p99 < TARGET["p99_ms"]
        and sustained["errors"] == TARGET["errors"]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=60, help="sustained run length (after a 3 s warm-up)")
    parser.add_argument("--rate", type=float, default=300, help="diary submissions per second (pages: a tenth)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections of the open loop")
    parser.add_argument("--concurrency", type=int, default=16, help="clients of the closed-loop capacity runs")
    parser.add_argument("--capacity-seconds", type=float, default=15)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MILDPATH_BENCH_POSTGRES_URL") or os.environ.get("MILDPATH_TEST_POSTGRES_URL", ""),
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "load.json")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in backends and not args.postgres_url:
        if args.db == "postgres":
            parser.error("--postgres-url (or MILDPATH_BENCH_POSTGRES_URL) is needed for PostgreSQL")
        print("no PostgreSQL URL: SQLite only", file=sys.stderr)
        backends = ["sqlite"]
    results: dict[str, Any] = {}
    if args.out.exists():
        with contextlib.suppress(ValueError):
            results = json.loads(args.out.read_text()).get("backends", {})
    for backend in backends:
        results[backend] = bench_backend(backend, args)
        print(json.dumps({backend: results[backend]}, indent=1), file=sys.stderr)
    report = {
        "benchmark": "bench_load",
        "command": "python benchmarks/bench_load.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "target": TARGET,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "backends": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.out}", file=sys.stderr)
    return 0 if all(r.get("meets_target") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
