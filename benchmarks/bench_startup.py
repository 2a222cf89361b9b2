"""Start-up benchmark (issue 17 goal 2): CPU time of short commands against a bare Typer CLI, and the cost of
importing the web app against importing its frameworks bare, each measured in the same run and environment.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs 15]``

- ``mildpath score odi 1,2,3,4,5,0,1,2,3,4 --json`` and ``mildpath --help`` against an anchor: a one-file Typer
  CLI (written to a temporary folder) whose ``odi`` command prints the same JSON computed with the standard
  library, and its ``--help``. Goal: mildpath <= 1.3x the anchor's CPU time.
- ``python -c "import mildpath.web.app"`` against ``python -c "import fastapi, sqlalchemy.orm, jinja2, pydantic"``.
  Goal: <= 2x.

CPU time is user + system of the child process (``resource.getrusage(RUSAGE_CHILDREN)``), the median of
``--runs`` runs, interleaved (anchor, mildpath, anchor, ...) so a change of load hits both. Bytecode is used
as installed (``make install`` compiles it). Writes ``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANSWERS = "1,2,3,4,5,0,1,2,3,4"
GOALS = {"score": 1.3, "help": 1.3, "web_import": 2.0}

ANCHOR = '''
"""A bare Typer CLI: the anchor of bench_startup (prints the same JSON as mildpath score odi)."""
import json
import sys

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.callback()
def root() -> None:
    """A bare CLI."""


@app.command()
def odi(answers: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """ODI percent score and band."""
    values = [int(a) for a in answers.split(",") if a.strip()]
    score = round(sum(values) / (5 * len(values)) * 100, 2)
    band = next(b for limit, b in ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippling"),
                                   (101, "bed_bound")) if score <= limit)
    sys.stdout.write(json.dumps({"score": score, "band": band, "answered": len(values), "missing": []}) + "\\n")


@app.command()
def other() -> None:
    """Another command."""


if __name__ == "__main__":
    app()
'''


def cpu_seconds(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def compare(name: str, anchor: list[str], mine: list[str], runs: int, env: dict[str, str]) -> dict[str, object]:
    a_times, m_times = [], []
    a_out = m_out = ""
    cpu_seconds(anchor, env)  # warm the page cache
    cpu_seconds(mine, env)
    for _ in range(runs):
        t, a_out = cpu_seconds(anchor, env)
        a_times.append(t)
        t, m_out = cpu_seconds(mine, env)
        m_times.append(t)
    a, m = statistics.median(a_times), statistics.median(m_times)
    return {
        "anchor_command": " ".join(anchor),
        "mildpath_command": " ".join(mine),
        "anchor_cpu_s_median": round(a, 4),
        "mildpath_cpu_s_median": round(m, 4),
        "anchor_cpu_s_all": [round(x, 4) for x in a_times],
        "mildpath_cpu_s_all": [round(x, 4) for x in m_times],
        "ratio": round(m / a, 3),
        "goal_ratio": GOALS[name],
        "meets_goal": m / a <= GOALS[name],
        "same_output": a_out.strip() == m_out.strip() if name == "score" else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "startup.json")
    args = parser.parse_args(argv)
    py = sys.executable
    env = {**os.environ, "COLUMNS": "100"}
    with tempfile.TemporaryDirectory(prefix="mp-startup-") as tmp:
        anchor = Path(tmp) / "anchor_cli.py"
        anchor.write_text(ANCHOR)
        results = {
            "score": compare(
                "score", [py, str(anchor), "odi", ANSWERS, "--json"], [py, "-m", "mildpath", "score", "odi", ANSWERS,
                                                                        "--json"], args.runs, env
            ),
            "help": compare("help", [py, str(anchor), "--help"], [py, "-m", "mildpath", "--help"], args.runs, env),
            "web_import": compare(
                "web_import",
                [py, "-c", "import fastapi, sqlalchemy.orm, jinja2, pydantic"],
                [py, "-c", "import mildpath.web.app"],
                args.runs,
                env,
            ),
        }
    report = {
        "benchmark": "bench_startup",
        "command": "python benchmarks/bench_startup.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, r in results.items():
        print(f"{name}: anchor {r['anchor_cpu_s_median']} s, mildpath {r['mildpath_cpu_s_median']} s, "
              f"ratio {r['ratio']} (goal <= {r['goal_ratio']})", file=sys.stderr)
    print(f"written {args.out}", file=sys.stderr)
    return 0 if all(r["meets_goal"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
