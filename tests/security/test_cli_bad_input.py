"""Issue 21, item 11: every command that takes a file or values refuses bad input the same way (contracts §2):
exit 2, nothing on stdout, one line on stderr naming the file, option or field and what is wrong, and no
traceback. The commands run as a user runs them (``python -m mildpath``), so usage errors Typer raises
(an option out of its range, an unknown command) are held to the same one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = {
    "notjson.json": "not json\n",
    "empty.json": "{}",
    "diary.json": '{"nprs": 14}',
    "binary.json": b"\x00\xff\xfe",
    "view.json": '{"resourceType": "ViewDefinition"}',
}

# (arguments, words the one line must hold); {tmp} is the test's folder.
CASES = [
    (["screen", "{tmp}/notjson.json", "--json"], "not valid JSON"),
    (["screen", "{tmp}/binary.json", "--json"], "not UTF-8"),
    (["screen", "{tmp}/missing.json", "--json"], "no such file"),
    (["screen", "{tmp}/empty.json", "--as-of", "2026-13-01", "--json"], "--as-of"),
    (["triage", "{tmp}/diary.json", "--json"], "nprs"),
    (["triage", "{tmp}/empty.json", "--json"], "no answer"),
    (["score", "odi", "1,2,3,4,5,9,1,2,3,4", "--json"], "odi-6"),
    (["score", "odi", "1,2,3", "--json"], "10 answers"),
    (["score", "nprs", "--back", "14", "--json"], "0-10"),
    (["education", "search", "back\x01pain", "--json"], "control character"),
    (["education", "search", "x" * 201, "--json"], "200 characters"),
    (["education", "search", "pain", "--lang", "xx", "--json"], "unknown language"),
    (["population", "screen", "{tmp}/nowhere", "--out", "{tmp}/o.csv"], "no such file"),
    (["population", "screen", "{tmp}", "--out", "{tmp}/o.txt"], ".csv or .parquet"),
    (["synth", "population", "--patients", "-5", "--out", "{tmp}/s", "--seed", "1"], "--patients"),
    (["synth", "population", "--patients", "3", "--out", "{tmp}/s", "--seed", "1", "--as-of", "nope"], "--as-of"),
    (["view", "run", "{tmp}/view.json", "{tmp}/empty.json", "--format", "json"], "resource"),
    (["view", "run", "{tmp}/notjson.json", "{tmp}/empty.json", "--format", "json"], "not valid JSON"),
    (["user", "add", "not-an-email", "--role", "clinician", "--password", "long-enough-password-1"], "email"),
    (["user", "add", "a@b.org", "--role", "wizard", "--password", "long-enough-password-1"], "role"),
    (["user", "add", "a@b.org", "--role", "admin", "--password", "short"], "12 characters"),
    (["token", "create", "nobody@example.org"], "no account"),
    (["report", "outcomes", "--since", "0", "--json"], "since"),
    (["report", "outcomes", "--level", "L9-L10", "--json"], "level"),
    (["export", "fhir", "--out", "/dev/null/x"], "Not a directory"),
    (["reminders", "send", "--limit", "-1"], "--limit"),
    (["no-such-command"], "No such command"),
]


def _environment(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MILDPATH_DATA_DIR": str(folder / "var"),
        "MILDPATH_DATABASE_URL": f"sqlite:///{folder / 'cli.db'}",
        "MILDPATH_SECRET_KEY": "cli-bad-input-secret-key-0123456789abcdef",
    }
    env.pop("MILDPATH_NEW_PASSWORD", None)
    return env


def _mildpath(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mildpath", *argv], capture_output=True, text=True, cwd=ROOT,
                          env=_environment(folder), stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("cli-bad-input")
    for name, content in FILES.items():
        path = tmp / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    assert _mildpath(tmp, ["db", "upgrade"]).returncode == 0  # the account commands need the tables
    return tmp


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a[:2]) + f" ({w})" for a, w in CASES])
def test_bad_input_exits_2_with_one_line_naming_the_problem(folder, args, words):
    argv = [a.replace("{tmp}", str(folder)) for a in args]
    p = _mildpath(folder, argv)
    assert p.returncode == 2, (argv, p.returncode, p.stdout[-500:], p.stderr[-2000:])
    assert p.stdout == "", p.stdout
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    assert words in p.stderr, p.stderr
