"""`smoke`: light-request latency while DB-heavy requests run, before and after, on uvicorn.

Each side (the before worktree, the working tree) is served by one uvicorn worker on
127.0.0.1 under the service's interpreter and its own configuration (the environment is
passed through). The load is measured from this process with a small HTTP/1.1 client on
asyncio streams (standard library only): N concurrent heavy requests while a light request
starts every interval (open loop: a stalled probe does not delay the next). Every loop is
bounded in count and time, every request has a timeout, and the server is always stopped.

Numbers per side: light p50/p95/max under load (ms), the same idle, one heavy request
alone (ms), heavy throughput (requests/s) and the loop-blocked ratio: the light max under
load over the heavy request's time alone. A ratio near or above 1 means a light request
waited for a whole heavy one: the event loop was blocked. It means nothing when the heavy
request is about as quick as a light one: a side where it is says so and is not measurable.

Over 500 lines: the server's lifecycle, the HTTP client, the load and the verdict share one
side's settings and timings; apart, each would re-derive them.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods.verify.runner import (
    AppSpec,
    Revision,
    VerifyError,
    before_tree,
    child_env,
    import_app,
    import_env,
    import_origin,
    own_checkouts,
    require_different,
    require_own_code,
    resolve_revision,
)

HOST = "127.0.0.1"
NO_LOG = "(no log)"
# A heavy request shorter than this, or than a few idle light requests, stalls the loop no
# longer than scheduling noise does: the ratio cannot tell a blocked loop from a free one.
MIN_HEAVY_MS = 10.0
IDLE_MULTIPLE = 3.0
# Other processes using more than this share of the machine's CPU while the heavy requests ran:
# the light requests waited for a CPU as well as for the event loop. Two test workers on two
# cores, one of them smoke's, leave the others half of it.
BUSY_SHARE = 0.75
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Endpoint:
    method: str
    target: str  # path and query
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def parse(
        cls, text: str, option: str, headers: tuple[tuple[str, str], ...] = (), body: bytes = b""
    ) -> Endpoint:
        """`"GET /reports/slow?size=100"`; VerifyError (exit 2) otherwise."""
        parts = text.split()
        if len(parts) != 2 or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
            raise VerifyError(f"{option} {text!r}: expected METHOD /path, e.g. \"GET /health\"")
        return cls(parts[0].upper(), parts[1], headers, body)

    def message(self, host: str) -> bytes:
        """The whole HTTP/1.1 request, on a connection it closes."""
        names = {name.lower() for name, _ in self.headers}
        lines = [f"{self.method} {self.target} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in self.headers if name.lower() not in {"host", "connection"}]
        if self.body and "content-type" not in names:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body

    def __str__(self) -> str:
        return f"{self.method} {self.target}"


@dataclass
class Settings:
    root: Path
    app: AppSpec
    python: str
    heavy: Endpoint
    light: Endpoint
    against: str | None = None
    concurrency: int = 8
    interval: float = 0.010  # seconds between light probes
    idle_samples: int = 20
    max_light: int = 2000
    timeout: float = 60.0  # per request, seconds
    startup_timeout: float = 30.0
    port: int | None = None  # None: a free port per side
    folders: tuple[str, ...] = ()  # the service's import folders relative to root (`src`)


def header(text: str) -> tuple[str, str]:
    """`"Authorization: Bearer x"` -> (name, value); VerifyError (exit 2) otherwise."""
    name, colon, value = text.partition(":")
    value = value.strip()
    if not colon or not _TOKEN.fullmatch(name) or any(c in value for c in "\r\n"):
        raise VerifyError(f"--header {text!r}: expected NAME: VALUE, e.g. \"Authorization: Bearer token\"")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise VerifyError(f"--header {text!r}: a header value must be Latin-1 text") from None
    return name, value


def body(text: str) -> bytes:
    """The request body as given, or read from FILE for `@FILE`; VerifyError (exit 2) when unreadable."""
    if not text.startswith("@"):
        return text.encode("utf-8")
    try:
        return Path(text[1:]).read_bytes()
    except OSError as error:
        raise VerifyError(f"--heavy-body {text!r}: {error.strerror or error}") from None


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile; q in [0, 100]; NaN for no values."""
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
class Side:
    label: str
    port: int
    idle: Latency
    light: Latency  # under load
    light_errors: int
    heavy_count: int
    heavy_errors: int
    heavy_wall_s: float
    heavy_solo_ms: float
    heavy_throughput: float  # heavy requests answered per second under load
    loop_blocked_ratio: float  # light max under load / heavy alone
    # Light requests under load that had no answer within --timeout: in `light` at --timeout, a
    # lower bound of how long they waited, so the ratio is one too.
    light_timeouts: int = 0
    measurable: bool = True  # the heavy request is long enough for the ratio to mean something
    # The share (0 to 1) of the machine's CPU that processes other than smoke and the side's server
    # used while the heavy requests ran; None where the system does not tell (no /proc).
    others_cpu: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return _finite(asdict(self))


# A fall of the ratio smaller than this share of it is read as noise: one run per side, on a
# machine whose other load moves a light request's worst latency by about as much.
NOISE = 0.2
# A loop-blocked ratio at or above this: a light request under load waited as long as a whole
# heavy request alone, which a loop that is free between the heavy requests' awaits never makes.
BLOCKED = 1.0
# After phase two nothing synchronous may be left and the ratio still stay high: a coroutine route
# builds its ORM objects and validates and serialises its response on the event loop thread.
CPU_ON_LOOP = (
    "CPU work counts too: an `async def` route builds its ORM objects and validates and serialises its "
    "response on the event loop, so a heavy request returning many rows keeps the ratio high with no "
    "synchronous call left (`verify` tells synchronous Session and driver calls apart)"
)


# A `def` heavy route whose ratio fell to less than this share of the before side's: most of what
# blocked the loop was that route's own work, now in the threadpool; what is left is another cause.
DECISIVE = 0.5


@dataclass(frozen=True)
class Route:
    """The route serving a request on the after side, as the imported application has it."""

    endpoint: str  # module.qualname
    coroutine: bool  # `async def`: FastAPI runs it on the event loop; else in its threadpool


def served_by(document: dict[str, Any], endpoint: Endpoint) -> Route | None:
    """The first route of the application's contract (`introspect.py`) that serves `endpoint`'s
    method and path, in the order Starlette tries them; None when none does or it cannot tell."""
    path = endpoint.target.partition("?")[0]
    for route in document.get("routes") or []:
        if route.get("method") != endpoint.method or route.get("coroutine") is None or not route.get("path"):
            continue
        if _template(route["path"]).fullmatch(path):
            return Route(route.get("endpoint") or "?", bool(route["coroutine"]))
    return None


def _template(path: str) -> re.Pattern[str]:
    """A path template (`/posts/{post_id}`, `/files/{name:path}`) as a pattern."""
    parts = re.split(r"(\{[^}]*\})", path)
    return re.compile("".join(
        (".*" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts
    ))


def _threaded(heavy: Endpoint, route: Route, light: Route | None, concurrency: int) -> str:
    """What a light request still waits for when the heavy route is a plain `def`, and how to tell."""
    light_text = (
        "; the light route is an `async def`, so it waits for no threadpool thread" if light and light.coroutine
        else "; a light route that is a `def`, or uses the database, also waits for one of the threadpool's 40 "
        "threads or one of the pool's connections (pool_size + max_overflow, 5 + 10 by default) the heavy requests "
        "hold: rerun with --concurrency below the pool size, and a ratio that falls below 1 then was the pool"
    )
    return (
        f"{heavy} runs {route.endpoint}, a plain `def` FastAPI runs in its threadpool, so its Session work is off "
        f"the event loop; what a light request still waits for is the GIL, which the {concurrency} worker threads "
        "building ORM objects and their dicts hold in turns with the loop, and the work done on the loop for every "
        "request (FastAPI encodes a `def` route's return value there; an `async def` middleware or dependency runs "
        f"there: `verify` names blocking calls in them){light_text}; to tell them apart, rerun with --concurrency "
        "1: a ratio that falls well below 1 was threads contending for the GIL, one that stays near 1 is work on "
        "the loop"
    )


@dataclass
class SmokeResult:
    settings: Settings
    revision: Revision | None = None
    before: Side | None = None
    after: Side | None = None
    heavy_route: Route | None = None  # what serves --heavy on the after side; None: not known
    light_route: Route | None = None

    def _fell_decisively(self) -> bool:
        """A `def` heavy route whose ratio fell to less than `DECISIVE` of the before side's: the
        light requests no longer wait for the heavy route's own work, which runs in the threadpool."""
        before, after = self.before, self.after
        return bool(
            self.heavy_route is not None and not self.heavy_route.coroutine and before is not None
            and after is not None and before.measurable and not before.light_timeouts
            and after.loop_blocked_ratio < before.loop_blocked_ratio * DECISIVE
        )

    def verdict(self) -> str:
        if self.before is None or self.after is None:
            return "incomplete"
        b, a = self.before.loop_blocked_ratio, self.after.loop_blocked_ratio
        # A side whose light requests timed out has a ratio that is only a lower bound.
        least = "at least " if self.before.light_timeouts else ""
        if self.after.light_timeouts:
            # Blocked whatever else made the side's ratio meaningless: a light request waited --timeout.
            ratios = (
                f" (loop-blocked ratio at least {a:.2f} after, {least}{b:.2f} before)"
                if self.before.measurable and self.after.measurable else ""
            )
            return (
                f"light requests still timed out under load after ({self.after.light_timeouts} had no answer "
                f"within --timeout): the event loop is still blocked{ratios}"
            )
        if self.after.measurable and a >= BLOCKED:
            s = self.settings
            heavy = self.heavy_route
            if heavy is not None and not heavy.coroutine and self._fell_decisively():
                return (
                    f"loop-blocked ratio fell from {b:.2f} to {a:.2f} ({b / a:.1f} times lower), yet a light request "
                    f"under load still waited {a:.2f} times as long as a whole heavy request alone: "
                    + _threaded(s.heavy, heavy, self.light_route, s.concurrency)
                )
            before = f"{least}{b:.2f} before" if self.before.measurable else "not measurable before"
            blocked = (
                f"the event loop is still blocked after: a light request under load waited {a:.2f} times as long "
                f"as a whole heavy request alone (loop-blocked ratio {a:.2f} after, {before}); "
            )
            if heavy is not None and not heavy.coroutine:
                return blocked + _threaded(s.heavy, heavy, self.light_route, s.concurrency)
            if heavy is not None:
                return blocked + f"{s.heavy} runs {heavy.endpoint}, an `async def`: {CPU_ON_LOOP}"
            return blocked + CPU_ON_LOOP
        light = [side.label for side in (self.before, self.after) if not side.measurable]
        if light:
            return f"inconclusive: blocking cannot be measured on the {' and '.join(light)} side (see the notes)"
        if a < b * (1 - NOISE):
            return f"loop-blocked ratio fell from {least}{b:.2f} to {a:.2f}"
        if a < b:
            return (
                f"loop-blocked ratio fell from {b:.2f} to {a:.2f}, by less than {NOISE:.0%}: within what a busy "
                "machine changes from one run to the next, not evidence either way"
            )
        return f"loop-blocked ratio did not fall ({least}{b:.2f} before, {a:.2f} after)"

    def still_blocked(self) -> bool:
        """Whether the after side shows a blocked loop: light requests timed out under load, or
        waited as long as a whole heavy request (a measurable ratio at or above `BLOCKED`)."""
        after = self.after
        return after is not None and bool(
            after.light_timeouts or (
                after.measurable and after.loop_blocked_ratio >= BLOCKED and not self._fell_decisively()
            )
        )

    def session_off_loop(self) -> bool:
        """Whether the loop after is busy (a light request under load waited as long as a whole heavy
        one: a measurable ratio at or above `BLOCKED`) with something else than the heavy route's
        Session work: that route is a plain `def` FastAPI runs in its threadpool, and no light request
        timed out; what holds the loop is then the work done there for every request (encoding the
        response) and the GIL, not a migration that failed. Also when the ratio fell decisively (not
        `still_blocked`): the loop is still busy, and the last line must not read as a pass."""
        after, heavy = self.after, self.heavy_route
        return bool(
            heavy is not None and not heavy.coroutine and after is not None and not after.light_timeouts
            and after.measurable and after.loop_blocked_ratio >= BLOCKED
        )

    def to_json(self) -> dict[str, Any]:
        s = self.settings
        return {
            "command": "smoke",
            "root": str(s.root),
            "app": str(s.app),
            "python": s.python,
            "heavy": str(s.heavy),
            "light": str(s.light),
            "concurrency": s.concurrency,
            "interval_ms": s.interval * 1000,
            "against": {"rev": self.revision.name, "commit": self.revision.commit} if self.revision else None,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json() if self.after else None,
            "heavy_route": asdict(self.heavy_route) if self.heavy_route else None,
            "verdict": self.verdict(),
            "still_blocked": self.still_blocked(),
            "session_off_loop": self.session_off_loop(),
        }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_taken(port: int) -> bool:
    """Whether uvicorn could not bind the port (it sets SO_REUSEADDR, so TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


class Server:
    """One uvicorn process for one side; started and stopped by us only."""

    def __init__(self, settings: Settings, root: Path, log: Path) -> None:
        self.settings, self.root, self.log_path = settings, root, log
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def app_dir(self) -> Path:
        # uvicorn's --app-dir takes one folder: a src layout's is the one its imports start from.
        s = self.settings
        return (self.root / s.folders[0]).resolve() if s.folders else self.root

    @property
    def env(self) -> dict[str, str]:
        s = self.settings
        return child_env(s.python, {"PYTHONDONTWRITEBYTECODE": "1", **import_env(self.root, s.folders)})

    def start(self) -> None:
        s = self.settings
        self.port = s.port if s.port is not None else free_port()
        if s.port is not None and port_taken(s.port):
            raise VerifyError(f"--port {s.port}: the port is taken on {HOST}")
        command = [
            s.python, "-m", "uvicorn", str(s.app), "--app-dir", str(self.app_dir), "--host", HOST,
            "--port", str(self.port), "--workers", "1", "--log-level", "warning", "--no-access-log",
        ]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            command, cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + s.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StartError(f"uvicorn exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                _, status = asyncio.run(request(self.port, s.light, 2.0))
                if status < 500:
                    return
            except (OSError, asyncio.TimeoutError, ValueError):
                pass
            time.sleep(0.1)
        raise StartError(f"{s.light} did not answer within {s.startup_timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
                except BaseException:
                    # Interrupted while it shuts down: it must not outlive us.
                    self.proc.kill()
                    self.proc.wait(timeout=5)
                    raise
        finally:
            self.proc = None
            if self._log is not None:
                self._log.close()
                self._log = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return NO_LOG
        return "\n".join(text.splitlines()[-lines:])


class StartError(Exception):
    """The service did not start on one side."""


# What Starlette answers when no route serves the method and path: the route's own 404 says more.
ROUTING_MISSES = ('{"detail":"Not Found"}', '{"detail":"Method Not Allowed"}')


class Answered(VerifyError):
    """A request of the measurement answered with an error status."""

    def __init__(self, message: str, status: int, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body  # None: not read


class RequestTimeout(VerifyError):
    """A request took longer than --timeout with no load on the server: the options, not the service."""


# ------------------------------------------------------------------ the client


async def request(
    port: int, endpoint: Endpoint, timeout: float, answer: bytearray | None = None
) -> tuple[float, int]:
    """One HTTP/1.1 request on a new connection: (seconds until the whole answer, status).
    `answer` gets the first bytes of the answer after the status line (headers and body)."""

    async def exchange() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(endpoint.message(f"{HOST}:{port}"))
            await writer.drain()
            status_line = await reader.readline()
            parts = status_line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
            while chunk := await reader.read(65536):
                if answer is not None and len(answer) < 4096:
                    answer.extend(chunk[: 4096 - len(answer)])
            return int(parts[1])
        finally:
            writer.close()

    started = time.perf_counter()
    status = await asyncio.wait_for(exchange(), timeout)
    return time.perf_counter() - started, status


async def answered(port: int, endpoint: Endpoint, s: Settings, label: str, when: str) -> float:
    """One request on a server with no other load: its seconds; VerifyError (exit 2) when it
    has no answer within --timeout, no answer at all, or an error status."""
    answer = bytearray()
    try:
        seconds, status = await request(port, endpoint, s.timeout, answer)
    except asyncio.TimeoutError:  # before OSError: TimeoutError is one
        raise RequestTimeout(
            f"{label}: {endpoint} took longer than --timeout {s.timeout:g} s {when}, with no other request "
            "running: give a --timeout well above the time it takes alone (or a lighter request)"
        ) from None
    except (OSError, ValueError) as error:
        raise VerifyError(
            f"{label}: {endpoint} had no answer {when} ({type(error).__name__}: {error}): the server closed "
            "the connection or stopped"
        ) from None
    if status >= 400:
        raise Answered(f"{label}: {endpoint} answered {status}", status, _body(bytes(answer)))
    return seconds


def _body(answer: bytes) -> str:
    """The body of an answer's first bytes, as text (chunk sizes and all)."""
    return answer.partition(b"\r\n\r\n")[2].decode("utf-8", errors="replace").strip()


def _failed(result: Any) -> bool:
    """A request under load with no answer, or an error status."""
    return isinstance(result, BaseException) or result[1] >= 400


def _failure(result: Any) -> str:
    """What went wrong with one request under load (an exception, or an error status)."""
    if isinstance(result, asyncio.TimeoutError):
        return "no answer within --timeout"
    if isinstance(result, BaseException):
        return f"{type(result).__name__}: {result}"
    return f"answered {result[1]}"


def _cpu_seconds(server_pid: int | None) -> tuple[float, float] | None:
    """(the whole machine's busy CPU seconds, smoke's own and the server's), read from /proc on
    Linux; None elsewhere or when it cannot be read."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            ticks = [int(x) for x in handle.readline().split()[1:9]]
        hz = os.sysconf("SC_CLK_TCK")
        ours = sum(os.times()[:2])  # this process: the client, all its threads
        if server_pid is not None:
            with open(f"/proc/{server_pid}/stat", encoding="ascii") as handle:
                # after the command's parenthesised name: utime, stime, cutime, cstime are fields 14-17
                fields = handle.read().rpartition(")")[2].split()
            ours += sum(int(x) for x in fields[11:15]) / hz
    except (OSError, ValueError, IndexError):
        return None
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / hz, ours


def others_share(start: tuple[float, float] | None, end: tuple[float, float] | None, wall: float) -> float | None:
    """The share of the machine's CPU other processes used between two `_cpu_seconds` readings
    `wall` seconds apart, 0 to 1; None when either reading is missing."""
    cores = os.cpu_count() or 1
    if start is None or end is None or wall <= 0:
        return None
    others = (end[0] - start[0]) - (end[1] - start[1])
    return min(1.0, max(0.0, others / (wall * cores)))


async def measure(port: int, s: Settings, label: str, server_pid: int | None = None) -> Side:
    for _ in range(3):  # warm-up: imports, pool connections, compiled queries
        await answered(port, s.light, s, label, "during the warm-up")
    await answered(port, s.heavy, s, label, "during the warm-up")
    solo = [await answered(port, s.heavy, s, label, "alone") for _ in range(2)]
    idle = []
    for _ in range(s.idle_samples):
        idle.append(await answered(port, s.light, s, label, "on the idle server"))
        await asyncio.sleep(s.interval)

    heavy_done = asyncio.Event()

    async def heavy_all() -> tuple[list[Any], float]:
        started = time.perf_counter()
        try:
            results = await asyncio.gather(
                *(request(port, s.heavy, s.timeout) for _ in range(s.concurrency)), return_exceptions=True
            )
        finally:
            heavy_done.set()
        return list(results), time.perf_counter() - started

    async def probe() -> list[Any]:
        tasks: list[asyncio.Task[tuple[float, int]]] = []
        await asyncio.sleep(min(s.interval, 0.02))  # let the heavy requests reach the server first
        next_at = time.perf_counter()
        while not heavy_done.is_set() and len(tasks) < s.max_light:
            tasks.append(asyncio.create_task(request(port, s.light, s.timeout)))
            next_at += s.interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                try:
                    await asyncio.wait_for(heavy_done.wait(), delay)
                except asyncio.TimeoutError:
                    pass
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    # The heavy requests take up to --timeout, and a light one started just before they end as long.
    bound = 2 * s.timeout + 30
    cpu_start = _cpu_seconds(server_pid)
    try:
        (heavy, wall), light = await asyncio.wait_for(asyncio.gather(heavy_all(), probe()), bound)
    except asyncio.TimeoutError:
        raise VerifyError(f"{label}: the loaded measurement did not finish within {bound:.0f} s") from None
    others = others_share(cpu_start, _cpu_seconds(server_pid), wall)
    heavy_ok = [r[0] for r in heavy if not isinstance(r, BaseException) and r[1] < 400]
    light_ok = [r[0] for r in light if not isinstance(r, BaseException) and r[1] < 400]
    # A light request with no answer within --timeout while the heavy ones ran waited at least that
    # long: the strongest sign of a blocked loop, counted at --timeout (a lower bound), not dropped.
    timed_out = [r for r in light if isinstance(r, asyncio.TimeoutError)]
    failed = [r for r in light if _failed(r) and not isinstance(r, asyncio.TimeoutError)]
    loaded = Latency.of(light_ok + [s.timeout] * len(timed_out))
    solo_ms = min(solo) * 1000
    side = Side(
        label=label, port=port, idle=Latency.of(idle), light=loaded,
        light_errors=len(light) - len(light_ok), heavy_count=s.concurrency,
        heavy_errors=s.concurrency - len(heavy_ok), heavy_wall_s=wall, heavy_solo_ms=solo_ms,
        heavy_throughput=len(heavy_ok) / wall if wall > 0 else math.nan,
        loop_blocked_ratio=loaded.max_ms / solo_ms if solo_ms > 0 and loaded.count else math.nan,
        light_timeouts=len(timed_out), others_cpu=others,
    )
    if timed_out:
        side.notes.append(
            f"{len(timed_out)} of {len(light)} light requests had no answer within --timeout {s.timeout:g} s while "
            f"the heavy requests ran: each is counted as taking {s.timeout * 1000:.0f} ms, a lower bound, so the "
            "loop-blocked ratio is one too: the event loop was blocked at least that long"
        )
    if failed:
        side.notes.append(
            f"{len(failed)} of {len(light)} light requests failed under load (first: {_failure(failed[0])})"
            + (": the latencies are those of the others, which do not show how long a failed one waited"
               if label == "after" else "")
        )
    heavy_failed = [r for r in heavy if _failed(r)]
    if heavy_failed:
        side.notes.append(
            f"{len(heavy_failed)} of {s.concurrency} heavy requests failed under load (first: "
            f"{_failure(heavy_failed[0])})"
            + (": the light requests were not measured under the load asked for" if label == "after" else "")
        )
    if label == "after" and (failed or heavy_failed):
        # Measured under less load than asked for, or on the answers that came: a lower ratio here
        # would be no evidence that the loop is free.
        side.measurable = False
    if others is not None and others > BUSY_SHARE:
        side.measurable = False
        side.notes.append(
            f"other processes used {others:.0%} of the machine's CPU while the heavy requests ran: the light "
            "requests waited for a CPU as well as for the event loop, so the loop-blocked ratio means nothing "
            "here (it may be high with a free loop); rerun when the machine is quiet"
        )
    idle_p95 = side.idle.p95_ms
    needed = max(MIN_HEAVY_MS, IDLE_MULTIPLE * idle_p95)
    if not solo_ms >= needed:
        side.measurable = False
        side.notes.append(
            f"{s.heavy} takes {solo_ms:.1f} ms alone, against {idle_p95:.1f} ms for an idle {s.light} (p95): "
            "too light to measure blocking, the loop-blocked ratio means nothing here; make the heavy "
            f"request heavier (more rows, a larger size parameter) until it takes well over {needed:.0f} ms "
            "alone, 100 ms or more"
        )
    idle_p50 = side.idle.p50_ms
    if idle_p50 > s.interval * 1000:
        # Open loop: a new probe every interval whatever happened to the last one.
        side.measurable = False
        side.notes.append(
            f"an idle {s.light} takes {idle_p50:.1f} ms (p50), longer than the {s.interval * 1000:g} ms between "
            "probes: the probes queue up on their own (a busy machine?) and the latencies under load mean "
            f"nothing; use --interval {math.ceil(3 * idle_p50)} or more"
        )
    if loaded.count < 3:
        side.measurable = False
        if failed:  # said above: the light request fails under load, no slower heavy request helps
            side.notes.append(f"only {loaded.count} light requests answered or timed out under load")
        else:
            side.notes.append(
                f"only {loaded.count} light requests under load: the heavy requests took {wall * 1000:.0f} ms in "
                "all; make the heavy request slower or the interval shorter"
            )
    return side


# ------------------------------------------------------------------ the run


def _answered_hint(error: VerifyError, label: str, revision: Revision, server: Server) -> str:
    """A failed request, with what tells why: the server's log, and on the before side where it runs."""
    message = str(error)
    if isinstance(error, Answered) and error.status in (404, 405) and error.body and not (
        error.body in ("Not Found", "Method Not Allowed") or any(miss in error.body for miss in ROUTING_MISSES)
    ):
        # The route is there and answered 404 itself (`HTTPException(404, "product not found")`).
        message += (
            f" from the route itself ({error.body[:200]}), not for want of a route: request something "
            f"the {label} side's database holds (the before side runs in a temporary worktree, on the "
            "database its settings name there), or a path that needs no row"
        )
    elif isinstance(error, Answered) and error.status in (404, 405):
        message += (
            ": no route of the application serves that method and path; give one `async-migrate scan` lists, "
            "its router prefixes included"
        )
    elif label == "before":
        message += (
            f"\nthe before side runs in a temporary git worktree of {revision.name}, with that worktree as its "
            "working directory: a relative path in its settings (sqlite:///./app.db, a .env file) points into "
            "the worktree, not into PATH, and files git does not track are not there; give such paths as "
            "absolute ones (through the environment) so both sides use the same"
        )
    log = server.log_tail()
    if not log.strip() or log == NO_LOG:
        return message
    return f"{message}\nthe end of uvicorn's log:\n{log}"


def smoke(s: Settings, step: Callable[[str], None] = lambda _: None) -> SmokeResult:
    """Measure both sides; VerifyError: 2 for usage, 3 when the service starts on one side only."""
    import shutil

    if s.port is not None and port_taken(s.port):
        raise VerifyError(f"--port {s.port}: the port is taken on {HOST}")
    probe = subprocess.run(
        [s.python, "-c", "import uvicorn"], capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL,
    )
    if probe.returncode != 0:
        raise VerifyError(f"uvicorn is not installed for {s.python}: pip install uvicorn in the service's environment")
    revision = resolve_revision(s.root, s.against)
    require_different(s.root, revision, s.folders, "smoke")
    result = SmokeResult(s, revision)
    scratch = Path(tempfile.mkdtemp(prefix="async-migrate-smoke-"))
    failures: dict[str, str] = {}
    try:
        with before_tree(s.root, revision) as before_root:
            checkouts = own_checkouts(s.root, before_root)
            for label, root in (("before", before_root), ("after", s.root)):
                server = Server(s, root, scratch / f"uvicorn-{label}.log")
                # Each side must run its own checkout's code: a PYTHONPATH naming the working tree
                # makes the before side import it too, and both sides measure the same code.
                origin = import_origin(s.python, root, server.app_dir, s.app.module, server.env)
                if origin is not None:
                    require_own_code(label, revision, s.app.module, origin, checkouts)
                try:
                    step(f"{label}: starting uvicorn for {s.app}")
                    server.start()
                    step(f"{label}: {s.concurrency} x {s.heavy} while {s.light} runs every "
                         f"{s.interval * 1000:g} ms on port {server.port}")
                    try:
                        pid = server.proc.pid if server.proc is not None else None
                        setattr(result, label, asyncio.run(measure(server.port, s, label, pid)))
                    except RequestTimeout:
                        raise  # one line: the server's log and where it runs do not tell why
                    except VerifyError as error:
                        raise VerifyError(_answered_hint(error, label, revision, server), error.code) from None
                except StartError as error:
                    failures[label] = str(error)
                finally:
                    server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if len(failures) == 2:
        raise VerifyError(f"{s.app} does not start on either side:\n{failures['after']}", 2)
    for label, failure in failures.items():
        where = f"at {revision.name} (the before side)" if label == "before" else "in the working tree"
        raise VerifyError(f"{s.app} does not start {where}:\n{failure}", 3)
    if result.after is not None and result.after.measurable and result.after.loop_blocked_ratio >= BLOCKED:
        # What serves the heavy request decides what the verdict can say is left on the loop.
        step("after: importing the application to see what serves the requests")
        imported = import_app(s.python, s.root, s.app, folders=s.folders)
        if imported.document is not None:
            result.heavy_route = served_by(imported.document, s.heavy)
            result.light_route = served_by(imported.document, s.light)
    return result
