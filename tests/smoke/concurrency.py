#!/usr/bin/env python3
"""Concurrency smoke check on the sample service: a thin example of `async-migrate smoke`.

This is a script, not a pytest module (nothing in tests/smoke/ is named test_*.py).

1. copy testdata/bookshop to a scratch folder and commit it in a scratch git repository
   (the original is never touched): that commit is the "before" side;
2. run ``async-migrate phase1 COPY --apply``: the working tree is the "after" side;
3. run ``async-migrate smoke COPY --app main:app --heavy "GET /reports/slow?size=N"
   --light "GET /health" --format json``, which serves each side on uvicorn (one worker,
   127.0.0.1, a free port) and measures the light request while the heavy ones run;
4. print the before/after table and a verdict.

Exit status (usable as a check):
  0  PASS: after phase one the loaded light p95 is below --max-ratio x the before p95
     and below --max-p95-ms;
  1  FAIL: it is not;
  2  INCONCLUSIVE or setup error: the tool failed, a request failed, or the before run shows
     no stall to remove (the heavy endpoint is too fast or does not block the event loop).

Databases: SQLite by default (a file in the scratch folder). With
``--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test`` a scratch database is
created next to the one named (loopback only), handed to the service through
BOOKSHOP_DATABASE_URL (its own configuration), and dropped at the end.

Example:
  .venv/bin/python tests/smoke/concurrency.py
  .venv/bin/python tests/smoke/concurrency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
  .venv/bin/python tests/smoke/concurrency.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO / "testdata" / "bookshop"
HEAVY_PATH = "/reports/slow"
LIGHT_PATH = "/health"
EXIT_PASS, EXIT_FAIL, EXIT_INCONCLUSIVE = 0, 1, 2

# Runs under --python (the service's interpreter), so the script itself stays on the standard library.
_PG_ADMIN = r"""
import json, sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

action, raw, name = sys.argv[1], sys.argv[2], sys.argv[3]
url = make_url(raw).set(drivername="postgresql+psycopg")
host = url.host or ""
if host and not host.startswith("/") and host not in ("localhost", "::1") and not host.startswith("127."):
    sys.exit(f"refusing a non-loopback database host: {host}")
engine = create_engine(url, isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    if action == "create":
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(json.dumps({"url": url.set(database=name).render_as_string(hide_password=False)}))
    else:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
engine.dispose()
"""


class SmokeError(Exception):
    """Setup or measurement failure: exit 2 with this message."""


def log(message: str) -> None:
    print(f"[concurrency] {message}", file=sys.stderr, flush=True)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, **kwargs)


def pg_admin(python: str, action: str, url: str, name: str) -> dict[str, str]:
    proc = run([python, "-c", _PG_ADMIN, action, url, name], timeout=60)
    if proc.returncode != 0:
        raise SmokeError(f"could not {action} the scratch database {name}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout) if action == "create" else {}


def find_tool(explicit: str | None, python: str) -> str:
    if explicit:
        return explicit
    beside = Path(python).parent / "async-migrate"
    found = str(beside) if beside.exists() else shutil.which("async-migrate")
    if not found:
        raise SmokeError("async-migrate not found: install the project (pip install -e .) or pass --tool")
    return found


def prepare(source: Path, copy: Path, tool: str, env: dict[str, str]) -> None:
    """The sample committed as it is (before), phase one applied in the working tree (after)."""
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.db", "storage", ".pytest_cache"))
    (copy / ".gitignore").write_text("*.db\n__pycache__/\nstorage/\n", encoding="utf-8")
    git = ["git", "-C", str(copy), "-c", "user.name=smoke", "-c", "user.email=smoke@localhost",
           "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sample service before phase one"]):
        proc = run(git + command)
        if proc.returncode != 0:
            raise SmokeError(f"git {command[0]} failed: {proc.stderr.strip()}")
    proc = run([tool, "phase1", str(copy), "--apply", "--format", "json"], timeout=300, env=env)
    if proc.returncode != 0:
        raise SmokeError(f"async-migrate phase1 exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    converted = sum(1 for h in json.loads(proc.stdout)["handlers"] if h["action"] == "convert")
    log(f"phase1: {converted} handlers converted")


def verdict(document: dict[str, Any], args: argparse.Namespace) -> tuple[int, str]:
    before, after = document["before"], document["after"]
    for label, side in (("before", before), ("after", after)):
        if side["heavy_errors"] or side["light_errors"]:
            return EXIT_INCONCLUSIVE, f"INCONCLUSIVE: {label}: requests failed {side['notes']}"
        if side["light"]["count"] < 3 or not side["measurable"]:
            return EXIT_INCONCLUSIVE, f"INCONCLUSIVE: {label}: {'; '.join(side['notes'])}"
    b, a = before["light"]["p95_ms"], after["light"]["p95_ms"]
    if b < args.max_p95_ms or b < 3 * before["idle"]["p95_ms"]:
        return EXIT_INCONCLUSIVE, (
            f"INCONCLUSIVE: before phase one the light p95 under load was only {b:.1f} ms, so there is "
            f"no stall to remove; one heavy request took {before['heavy_solo_ms']:.0f} ms: raise --size"
        )
    ok = a < args.max_ratio * b and a < args.max_p95_ms
    return (EXIT_PASS if ok else EXIT_FAIL), (
        f"{'PASS' if ok else 'FAIL'}: light {LIGHT_PATH} p95 under {args.concurrency} concurrent {HEAVY_PATH} "
        f"requests {b:.1f} ms -> {a:.1f} ms ({a / b:.0%} of before; needs < {args.max_ratio:.0%} and "
        f"< {args.max_p95_ms:g} ms); {document['verdict']}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="concurrency.py",
        description="Run `async-migrate smoke` on the sample service before and after phase one; exit 0 "
        "when phase one clearly removes the stall, 1 when it does not, 2 when nothing can be concluded.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="sample service to copy")
    parser.add_argument("--database-url", help="loopback PostgreSQL server to create a scratch database on "
                        "(default: a SQLite file in the scratch folder)")
    parser.add_argument("--concurrency", "-k", type=int, default=8, help="concurrent heavy requests")
    parser.add_argument("--size", type=int, default=1_500_000, help=f"rows for {HEAVY_PATH}?size=N")
    parser.add_argument("--interval", type=float, default=0.025, help="seconds between light requests")
    parser.add_argument("--max-ratio", type=float, default=0.5, help="after p95 must be below this x before p95")
    parser.add_argument("--max-p95-ms", type=float, default=100.0, help="after p95 must be below this (ms)")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs the service")
    parser.add_argument("--tool", help="async-migrate executable (default: the one beside --python, then PATH)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (and print its path)")
    parser.add_argument("--json", action="store_true", help="print smoke's JSON document and the verdict")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="async-migrate-smoke-"))
    copy = scratch / "bookshop"
    scratch_db: str | None = None
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKSHOP_")}
    env["BOOKSHOP_STORAGE_DIR"] = str(scratch / "storage")
    try:
        tool = find_tool(args.tool, args.python)
        if args.database_url:
            name = f"async_migrate_smoke_{os.getpid()}_{secrets.token_hex(3)}"
            env["BOOKSHOP_DATABASE_URL"] = pg_admin(args.python, "create", args.database_url, name)["url"]
            scratch_db = name  # from here on, dropped in the finally clause
        else:
            env["BOOKSHOP_SQLITE_PATH"] = str(scratch / "bookshop.db")
        prepare(args.source.resolve(), copy, tool, env)
        command = [
            tool, "smoke", str(copy), "--app", "main:app", "--python", args.python,
            "--heavy", f"GET {HEAVY_PATH}?size={args.size}", "--light", f"GET {LIGHT_PATH}",
            "--concurrency", str(args.concurrency), "--interval", f"{args.interval * 1000:g}",
            "--report", str(scratch / "report.md"),
        ]
        log("running: " + " ".join(command))
        proc = run([*command, "--format", "json"], timeout=900, env=env)
        if proc.returncode != 0:
            raise SmokeError(f"async-migrate smoke exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        document = json.loads(proc.stdout)
        code, line = verdict(document, args)
        if args.json:
            print(json.dumps({**document, "exit_code": code, "check": line}, indent=2))
        else:
            print((scratch / "report.md").read_text(encoding="utf-8"))
            print(line)
        return code
    except (SmokeError, subprocess.TimeoutExpired, OSError, json.JSONDecodeError) as error:
        log(f"error: {error}")
        return EXIT_INCONCLUSIVE
    finally:
        if scratch_db is not None:
            try:
                pg_admin(args.python, "drop", args.database_url, scratch_db)
            except (SmokeError, subprocess.TimeoutExpired) as error:
                log(f"warning: {error}")
        if args.keep:
            log(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
