"""Profile the diary-write path (issue 17 goal 1): where a diary submission's server time goes.

Run: ``.venv/bin/python benchmarks/profile_diary.py [--requests 400] [--db sqlite|postgres] [--top 30]``

The real app (every middleware, bearer auth, access check, audit row, idempotency key, triage) is called as an
ASGI callable in this process, one request after another, under cProfile: no HTTP client and no socket, so the
profile holds the server's own work only. cProfile sees one thread, so the work FastAPI sends to its thread
pool (sync handlers and dependencies) runs inline here; the hand-off itself is therefore not in the profile.
It prints the SQL statements per request and the functions with the most cumulative and own time, and writes
``benchmarks/results/profile_diary_<db>.txt``. The load benchmark (``bench_load.py``) measures capacity; this
says why.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_load import SECRET, SimPatient, database, prepare  # noqa: E402


def _scope(p: SimPatient, i: int, rng: random.Random) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"pain_back": rng.randrange(0, 4), "pain_leg": rng.randrange(0, 3), "new_numbness": False})
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {p.token}".encode()),
        (b"idempotency-key", f"profile-{i}-{rng.getrandbits(48):x}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/api/v1/patients/{p.patient_id}/diary",
        "raw_path": f"/api/v1/patients/{p.patient_id}/diary".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000 + i % 20000),
        "server": ("127.0.0.1", 8000),
    }
    return scope, body.encode()


async def _call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, send)
    return status


async def _lifespan(app: Any, queue_in: asyncio.Queue[dict[str, Any]], queue_out: asyncio.Queue[dict[str, Any]]):
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await app(scope, queue_in.get, queue_out.put)


async def _run(app: Any, patients: list[SimPatient], n: int, profile: cProfile.Profile) -> dict[int, int]:
    q_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    q_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    life = asyncio.create_task(_lifespan(app, q_in, q_out))
    await q_in.put({"type": "lifespan.startup"})
    await q_out.get()
    rng = random.Random(17)
    statuses: dict[int, int] = {}
    for i in range(20):  # warm-up: first-request work (imports, caches) is not what a request costs
        await _call(app, *_scope(patients[i % len(patients)], -i - 1, rng))
    profile.enable()
    for i in range(n):
        code = await _call(app, *_scope(patients[i % len(patients)], i, rng))
        statuses[code] = statuses.get(code, 0) + 1
    profile.disable()
    await q_in.put({"type": "lifespan.shutdown"})
    await q_out.get()
    await life
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", type=Path, help="Also write the raw profile here (for pstats or snakeviz)")
    parser.add_argument("--postgres-url", default=os.environ.get("MILDPATH_TEST_POSTGRES_URL", ""))
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="mp-profile-") as tmp_name,
        database(args.db, Path(tmp_name), args.postgres_url) as url,
    ):
        tmp = Path(tmp_name)
        patients = prepare(url, tmp, args.patients)
        os.environ.update(
            {
                "MILDPATH_DATABASE_URL": url,
                "MILDPATH_DATA_DIR": str(tmp),
                "MILDPATH_SECRET_KEY": SECRET,
                "MILDPATH_ENV": "production",
            }
        )
        import anyio.to_thread

        from mildpath.settings import Settings
        from mildpath.web.app import create_app

        async def inline(func: Any, *a: Any, **_: Any) -> Any:
            return func(*a)

        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        from sqlalchemy import event

        app = create_app(Settings())
        statements: dict[str, int] = {}

        @event.listens_for(app.state.engine, "before_cursor_execute")
        def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            key = " ".join(statement.split()[:4])
            statements[key] = statements.get(key, 0) + 1

        profile = cProfile.Profile()
        statuses = asyncio.run(_run(app, patients, args.requests, profile))
        app.state.engine.dispose()
    if args.dump:
        profile.dump_stats(str(args.dump))
    out = io.StringIO()
    out.write(f"# {args.requests} diary writes on {args.db}, statuses {statuses}\n")
    out.write(f"# command: python benchmarks/profile_diary.py {' '.join(argv or sys.argv[1:])}\n")
    n = args.requests + 20
    out.write(f"# SQL statements per request: {sum(statements.values()) / n:.1f}\n")
    for key, times in sorted(statements.items(), key=lambda kv: -kv[1]):
        out.write(f"#   {times / n:5.2f}  {key}\n")
    stats = pstats.Stats(profile, stream=out)
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    per = 1000 * total / args.requests
    out.write(f"# profiled time: {total:.3f} s = {per:.2f} ms/request (with cProfile's own cost)\n")
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    text = out.getvalue()
    print(text)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"profile_diary_{args.db}.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
