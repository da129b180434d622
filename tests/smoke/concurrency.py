#!/usr/bin/env python3
"""Concurrency smoke check: does phase one stop DB-heavy requests from stalling light ones?

This is a script, not a pytest module (nothing in tests/smoke/ is named test_*.py).
It measures the effect that ADR2 promises for phase one, on the sample service in
testdata/bookshop:

1. copy the sample service to a scratch folder (the original is never touched);
2. start it under uvicorn (one worker, 127.0.0.1, a free port) and wait for /health;
3. measure, on the untouched copy ("before"):
   - idle: light ``GET /health`` requests, one every --interval, on a quiet server;
   - loaded: K concurrent DB-heavy ``GET /reports/slow?size=N`` requests (a recursive
     CTE on SQLite, generate_series on PostgreSQL, through the synchronous Session)
     while a light ``GET /health`` is fired every --interval (open loop: a stalled
     request does not delay the next one) until the heavy ones are all done;
   and report p50/p95/max of the light latency and the heavy requests' wall time;
4. stop the server, run ``async-migrate phase1 COPY --apply``, restart and measure again
   ("after");
5. print a before/after table and a verdict line.

Exit status (usable as a check):
  0  PASS: after phase one the loaded light p95 is below --max-ratio x the before p95
     and below --max-p95-ms;
  1  FAIL: it is not;
  2  INCONCLUSIVE or setup error: the server did not start, the tool failed, a request
     failed, or the before run shows no stall to remove (heavy endpoint too fast or not
     blocking the event loop), so nothing can be concluded.

Databases: SQLite by default (a file in the scratch folder). With
``--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test`` the script
connects to that (loopback-only) server, creates a scratch database next to the one
named, points the service at it through BOOKSHOP_DATABASE_URL, and drops it at the end.

Only loopback traffic; every loop is bounded in count and time, every request has a
timeout. The script itself needs only httpx and the standard library; the service runs
under --python (default: this interpreter), which needs fastapi, uvicorn, sqlalchemy,
fastapi-pagination (and psycopg for PostgreSQL).

Example:
  .venv/bin/python tests/smoke/concurrency.py
  .venv/bin/python tests/smoke/concurrency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
  .venv/bin/python tests/smoke/concurrency.py --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO / "testdata" / "bookshop"
HEAVY_PATH = "/reports/slow"
LIGHT_PATH = "/health"

EXIT_PASS, EXIT_FAIL, EXIT_INCONCLUSIVE = 0, 1, 2

COPY_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.py[cod]", ".pytest_cache", "*.db", "*.db-journal", "*.db-wal", "*.db-shm",
    "storage", ".venv", ".git",
)

# Runs under --python (the service's interpreter), so the script itself stays on httpx + stdlib.
_PG_ADMIN = r"""
import json, sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

action, raw, name = sys.argv[1], sys.argv[2], sys.argv[3]
if raw.startswith("postgres://"):
    raw = "postgresql://" + raw.removeprefix("postgres://")
url = make_url(raw)
if url.get_backend_name() != "postgresql":
    sys.exit(f"not a PostgreSQL URL: {url.render_as_string()}")
url = url.set(drivername="postgresql+psycopg")
host = url.host or url.query.get("host") or ""
if isinstance(host, tuple):
    host = host[0]
loopback = host in ("localhost", "::1") or host.startswith("127.")
if host and not host.startswith("/") and not loopback:
    sys.exit(f"refusing a non-loopback database host: {host}")
engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
with engine.connect() as conn:
    if action == "create":
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(json.dumps({"url": url.set(database=name).render_as_string(hide_password=False),
                          "shown": url.set(database=name).render_as_string(hide_password=True)}))
    else:
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
engine.dispose()
"""


class SmokeError(Exception):
    """Setup or measurement failure: exit 2 with this message."""


def log(message: str) -> None:
    print(f"[concurrency] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default); q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(len(ms), percentile(ms, 50), percentile(ms, 95), max(ms) if ms else math.nan)


@dataclass
class PhaseResult:
    label: str
    idle: Latency
    loaded: Latency
    light_errors: int
    heavy_count: int
    heavy_errors: int
    heavy_wall_s: float
    heavy_latency: Latency
    heavy_solo_ms: float
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the service


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One uvicorn process serving main:app from the copy; started and stopped by us only."""

    def __init__(self, python: str, cwd: Path, env: dict[str, str], log_path: Path) -> None:
        self.python, self.cwd, self.env, self.log_path = python, cwd, env, log_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, startup_timeout: float) -> None:
        self.port = free_port()
        command = [
            self.python, "-m", "uvicorn", "main:app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--log-level", "warning", "--no-access-log",
        ]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + startup_timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise SmokeError(f"uvicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(self.base_url + LIGHT_PATH).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise SmokeError(f"/health did not answer within {startup_timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- measurement


async def _timed_get(client: httpx.AsyncClient, url: str, timeout: float, **params: Any) -> tuple[float, int]:
    started = time.perf_counter()
    response = await client.get(url, params=params or None, timeout=timeout)
    await response.aread()
    return time.perf_counter() - started, response.status_code


async def measure(base: str, args: argparse.Namespace, label: str) -> PhaseResult:
    limits = httpx.Limits(max_connections=args.concurrency + args.max_light + 4, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, trust_env=False, limits=limits) as client:
        heavy_timeout = args.timeout
        light_timeout = args.timeout

        # Warm-up: first requests pay for imports, pool connections, compiled queries.
        for _ in range(3):
            await _timed_get(client, LIGHT_PATH, light_timeout)
        seconds, status = await _timed_get(client, HEAVY_PATH, heavy_timeout, size=min(args.size, 1000))
        if status != 200:
            raise SmokeError(f"{label}: GET {HEAVY_PATH} answered {status}")

        # Solo heavy request: how long the DB work takes with nothing else going on.
        solo = []
        for _ in range(2):
            seconds, status = await _timed_get(client, HEAVY_PATH, heavy_timeout, size=args.size)
            if status != 200:
                raise SmokeError(f"{label}: GET {HEAVY_PATH}?size={args.size} answered {status}")
            solo.append(seconds)

        # Idle baseline: closed loop, one light request per interval.
        idle: list[float] = []
        for _ in range(args.idle_samples):
            seconds, status = await _timed_get(client, LIGHT_PATH, light_timeout)
            if status != 200:
                raise SmokeError(f"{label}: idle GET {LIGHT_PATH} answered {status}")
            idle.append(seconds)
            await asyncio.sleep(args.interval)

        # Loaded: K heavy requests at once, light requests fired on a fixed schedule meanwhile.
        heavy_done = asyncio.Event()

        async def heavy_all() -> tuple[list[Any], float]:
            started = time.perf_counter()
            try:
                results = await asyncio.gather(
                    *(
                        _timed_get(client, HEAVY_PATH, heavy_timeout, size=args.size)
                        for _ in range(args.concurrency)
                    ),
                    return_exceptions=True,
                )
            finally:
                heavy_done.set()
            return results, time.perf_counter() - started

        async def light_sampler() -> list[Any]:
            tasks: list[asyncio.Task[tuple[float, int]]] = []
            # Let the heavy requests reach the server first.
            await asyncio.sleep(min(args.interval, 0.02))
            next_at = time.perf_counter()
            while not heavy_done.is_set() and len(tasks) < args.max_light:
                tasks.append(asyncio.create_task(_timed_get(client, LIGHT_PATH, light_timeout)))
                next_at += args.interval
                delay = next_at - time.perf_counter()
                if delay > 0:
                    try:
                        await asyncio.wait_for(heavy_done.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
            return list(await asyncio.gather(*tasks, return_exceptions=True))

        try:
            (heavy_results, wall), light_results = await asyncio.wait_for(
                asyncio.gather(heavy_all(), light_sampler()), timeout=args.timeout + 30
            )
        except asyncio.TimeoutError:
            limit = args.timeout + 30
            raise SmokeError(f"{label}: the loaded measurement did not finish within {limit:.0f} s") from None

    heavy_ok = [r[0] for r in heavy_results if not isinstance(r, BaseException) and r[1] == 200]
    light_ok = [r[0] for r in light_results if not isinstance(r, BaseException) and r[1] == 200]
    result = PhaseResult(
        label=label,
        idle=Latency.of(idle),
        loaded=Latency.of(light_ok),
        light_errors=len(light_results) - len(light_ok),
        heavy_count=args.concurrency,
        heavy_errors=args.concurrency - len(heavy_ok),
        heavy_wall_s=wall,
        heavy_latency=Latency.of(heavy_ok),
        heavy_solo_ms=min(solo) * 1000,
    )
    for r in list(heavy_results) + list(light_results):
        if isinstance(r, BaseException):
            result.notes.append(f"{type(r).__name__}: {r}")
            break
    return result


# ---------------------------------------------------------------- database and tool


def pg_admin(python: str, action: str, url: str, name: str) -> dict[str, str]:
    proc = subprocess.run(
        [python, "-c", _PG_ADMIN, action, url, name],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise SmokeError(f"could not {action} the scratch database {name}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout) if action == "create" else {}


def find_tool(explicit: str | None, python: str) -> str:
    if explicit:
        return explicit
    beside = Path(python).parent / "async-migrate"
    if beside.exists():
        return str(beside)
    found = shutil.which("async-migrate")
    if not found:
        raise SmokeError("async-migrate not found: install the project (pip install -e .) or pass --tool")
    return found


def run_phase1(tool: str, copy: Path) -> dict[str, Any]:
    command = [tool, "phase1", str(copy), "--apply", "--allow-dirty", "--format", "json"]
    log("running: " + " ".join(command))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SmokeError(f"async-migrate phase1 exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    try:
        document = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise SmokeError(
            f"async-migrate phase1 --format json printed no JSON document:\n{proc.stdout[-2000:]}"
        ) from None
    heavy = [h for h in document.get("handlers", []) if h.get("kind") == "route"
             and (h.get("function") == "slow_report" or str(h.get("path", "")).endswith("/slow"))]
    return {
        "exit_code": proc.returncode,
        "files_changed": document.get("files_changed", []),
        "converted": sum(1 for h in document.get("handlers", []) if h.get("action") == "convert"),
        "heavy_route_action": heavy[0]["action"] if heavy else None,
        "heavy_route_reasons": heavy[0].get("reasons", []) if heavy else [],
    }


# ---------------------------------------------------------------- report


def verdict(before: PhaseResult, after: PhaseResult, args: argparse.Namespace) -> tuple[int, str]:
    for phase in (before, after):
        if phase.heavy_errors or phase.light_errors:
            return EXIT_INCONCLUSIVE, (
                f"INCONCLUSIVE: {phase.label}: {phase.heavy_errors} heavy and {phase.light_errors} light "
                f"requests failed {phase.notes}"
            )
        if phase.loaded.count < 3:
            return EXIT_INCONCLUSIVE, (
                f"INCONCLUSIVE: {phase.label}: only {phase.loaded.count} light samples under load: the "
                f"{phase.heavy_count} heavy requests were done in {phase.heavy_wall_s * 1000:.0f} ms "
                f"(one alone: {phase.heavy_solo_ms:.0f} ms); raise --size or lower --interval"
            )
    b, a = before.loaded.p95_ms, after.loaded.p95_ms
    if b < args.max_p95_ms or b < 3 * before.idle.p95_ms:
        return EXIT_INCONCLUSIVE, (
            f"INCONCLUSIVE: before phase one the light p95 under load was only {b:.1f} ms "
            f"(idle {before.idle.p95_ms:.1f} ms), so there is no stall to remove; one heavy request "
            f"took {before.heavy_solo_ms:.0f} ms: raise --size or check that {HEAVY_PATH} is DB-bound"
        )
    ok = a < args.max_ratio * b and a < args.max_p95_ms
    word = "PASS" if ok else "FAIL"
    return (EXIT_PASS if ok else EXIT_FAIL), (
        f"{word}: light {LIGHT_PATH} p95 under {args.concurrency} concurrent {HEAVY_PATH} requests "
        f"{b:.1f} ms -> {a:.1f} ms ({a / b:.0%} of before; "
        f"needs < {args.max_ratio:.0%} and < {args.max_p95_ms:g} ms)"
    )


def table(before: PhaseResult, after: PhaseResult) -> str:
    rows = [
        ("idle /health p50 (ms)", lambda p: f"{p.idle.p50_ms:.1f}"),
        ("idle /health p95 (ms)", lambda p: f"{p.idle.p95_ms:.1f}"),
        ("loaded /health p50 (ms)", lambda p: f"{p.loaded.p50_ms:.1f}"),
        ("loaded /health p95 (ms)", lambda p: f"{p.loaded.p95_ms:.1f}"),
        ("loaded /health max (ms)", lambda p: f"{p.loaded.max_ms:.1f}"),
        ("loaded /health samples", lambda p: str(p.loaded.count)),
        ("heavy wall time (s)", lambda p: f"{p.heavy_wall_s:.2f}"),
        ("heavy request p50 (ms)", lambda p: f"{p.heavy_latency.p50_ms:.0f}"),
        ("heavy request alone (ms)", lambda p: f"{p.heavy_solo_ms:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':<{width}}  {'before':>10}  {'after':>10}"]
    lines += [f"{name:<{width}}  {fmt(before):>10}  {fmt(after):>10}" for name, fmt in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="concurrency.py",
        description=(
            "Measure light-request latency while DB-heavy requests run on the sample service, "
            "before and after `async-migrate phase1 --apply`; exit 0 when phase one clearly "
            "removes the stall, 1 when it does not, 2 when nothing can be concluded."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="sample service to copy")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server (loopback only) to run against, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test: a scratch database is created there "
        "and dropped at the end (default: a SQLite file in the scratch folder)",
    )
    parser.add_argument("--concurrency", "-k", type=int, default=8, help="concurrent heavy requests")
    parser.add_argument("--size", type=int, default=1_500_000, help=f"rows for {HEAVY_PATH}?size=N")
    parser.add_argument("--interval", type=float, default=0.025, help="seconds between light requests")
    parser.add_argument("--idle-samples", type=int, default=40, help="light requests on the idle server")
    parser.add_argument("--max-light", type=int, default=400, help="cap on light requests under load")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    parser.add_argument("--startup-timeout", type=float, default=30.0, help="seconds to wait for /health")
    parser.add_argument(
        "--max-ratio", type=float, default=0.5, help="after p95 must be below this x before p95"
    )
    parser.add_argument("--max-p95-ms", type=float, default=100.0, help="after p95 must be below this (ms)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter that runs uvicorn and the service"
    )
    parser.add_argument(
        "--tool", help="async-migrate executable (default: the one beside --python, then PATH)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (and print its path)")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON document")
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= 64:
        parser.error("--concurrency must be within 1..64")
    if not 1 <= args.size <= 10_000_000:
        parser.error("--size must be within 1..10000000 (the route's own bound)")
    if not 0.001 <= args.interval <= 5:
        parser.error("--interval must be within 0.001..5 s")
    if not 1 <= args.idle_samples <= 1000 or not 1 <= args.max_light <= 5000:
        parser.error("--idle-samples must be within 1..1000 and --max-light within 1..5000")
    if not 0 < args.timeout <= 600:
        parser.error("--timeout must be within 0..600 s")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source = args.source.resolve()
    if not (source / "main.py").is_file():
        log(f"{source}: no main.py, not a service to copy")
        return EXIT_INCONCLUSIVE
    scratch = Path(tempfile.mkdtemp(prefix="async-migrate-smoke-"))
    copy = scratch / source.name
    scratch_db: str | None = None
    server: Server | None = None
    report: dict[str, Any] = {"concurrency": args.concurrency, "size": args.size, "interval_s": args.interval}
    try:
        tool = find_tool(args.tool, args.python)
        shutil.copytree(source, copy, ignore=COPY_IGNORE)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKSHOP_")}
        env.update(
            PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", BOOKSHOP_STORAGE_DIR=str(scratch / "storage")
        )
        if args.database_url:
            name = f"async_migrate_smoke_{os.getpid()}_{secrets.token_hex(3)}"
            created = pg_admin(args.python, "create", args.database_url, name)
            scratch_db = name  # from here on, dropped in the finally clause
            env["BOOKSHOP_DATABASE_URL"] = created["url"]
            report["database"] = created["shown"]
        else:
            sqlite_path = scratch / "bookshop.db"
            env["BOOKSHOP_SQLITE_PATH"] = str(sqlite_path)
            env["BOOKSHOP_DATABASE_URL"] = "sqlite:///" + str(sqlite_path)
            report["database"] = env["BOOKSHOP_DATABASE_URL"]
        log(f"service copy: {copy}; database: {report['database']}")

        phases: dict[str, PhaseResult] = {}
        for label in ("before", "after"):
            if label == "after":
                report["phase1"] = run_phase1(tool, copy)
                log(f"phase1: {report['phase1']}")
            server = Server(args.python, copy, env, scratch / f"uvicorn-{label}.log")
            server.start(args.startup_timeout)
            log(
                f"{label}: uvicorn on {server.base_url}, measuring ({args.concurrency} x "
                f"{HEAVY_PATH}?size={args.size}, {LIGHT_PATH} every {args.interval * 1000:g} ms)"
            )
            phases[label] = asyncio.run(measure(server.base_url, args, label))
            server.stop()
            server = None

        code, line = verdict(phases["before"], phases["after"], args)
        report.update(
            before=asdict(phases["before"]), after=asdict(phases["after"]), verdict=line, exit_code=code
        )
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            db = "PostgreSQL" if args.database_url else "SQLite"
            print(f"async-migrate phase1 concurrency smoke ({db}; {args.concurrency} x {HEAVY_PATH}"
                  f"?size={args.size}; {LIGHT_PATH} every {args.interval * 1000:g} ms)")
            print(table(phases["before"], phases["after"]))
            tool_run = report["phase1"]
            print(
                f"phase1 on {HEAVY_PATH}: {tool_run['heavy_route_action']}; {tool_run['converted']} "
                f"handlers converted in {len(tool_run['files_changed'])} files"
            )
            print(line)
        return code
    except Exception as error:  # any failure here means nothing can be concluded: exit 2, not 1
        if not isinstance(error, SmokeError):
            log("unexpected failure:\n" + "".join(traceback.format_exception(error)).rstrip())
        log(f"error: {error}")
        if args.json:
            report.update(error=str(error), exit_code=EXIT_INCONCLUSIVE)
            print(json.dumps(report, indent=2))
        return EXIT_INCONCLUSIVE
    finally:
        if server is not None:
            server.stop()
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
