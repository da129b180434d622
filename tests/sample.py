"""Running a sample service's own API tests against a copy, on SQLite or PostgreSQL.

Each sample reads its database from ``<PREFIX>_DATABASE_URL`` and, without it, uses the
SQLite file ``<PREFIX>_SQLITE_PATH``: ``BOOKSHOP`` for testdata/bookshop, ``TASKBOARD``
for testdata/taskboard.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The one setting for the PostgreSQL server every test uses (an admin URL: databases are
# created beside its database).
POSTGRES_ADMIN_URL = os.environ.get(
    "ASYNC_MIGRATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
# CI runs both servers: there a server that does not answer fails the test instead of skipping it.
REQUIRE_SERVERS = os.environ.get("ASYNC_MIGRATE_REQUIRE_SERVERS", "").strip().lower() not in ("", "0", "false", "no")
# A coroutine that is never awaited warns (RuntimeWarning) when it is collected, which pytest
# reports as an unraisable-exception warning: both fail a sample service's own test run.
STRICT = ("-W", "error::RuntimeWarning", "-W", "error::pytest.PytestUnraisableExceptionWarning")


def unavailable(reason: str):  # type: ignore[no-untyped-def]
    """A database server a test needs does not answer: skip, or fail under
    ASYNC_MIGRATE_REQUIRE_SERVERS (set in .ci/run), where a skip would hide a lost test."""
    import pytest

    if REQUIRE_SERVERS:
        pytest.fail(f"{reason} (ASYNC_MIGRATE_REQUIRE_SERVERS is set: the servers must answer)")
    pytest.skip(reason)


def postgres_url(database: str, driver: str = "postgresql+psycopg") -> str:
    """The URL of a database on the configured PostgreSQL server, with a SQLAlchemy driver."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{driver}://{base.split('://', 1)[1]}/{database}"


def defined_tests(root: Path) -> int:
    """How many test functions a sample service's suite defines (none is parametrized)."""
    import ast

    count = 0
    for path in sorted((root / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count += sum(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
            for node in tree.body
        )
    return count
# MariaDB/MySQL: host, port and user of a server where the tests may create databases.
MARIADB_HOST = os.environ.get("ASYNC_MIGRATE_TEST_MARIADB", "root@127.0.0.1:3306")


# A memory-backed folder for the samples' SQLite files where the machine has one: their tests
# rebuild the schema before each test, and on a busy disk every rebuild waits on its syncs.
MEMORY_FOLDER = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def copy_service(source: Path, target: Path) -> Path:
    shutil.copytree(
        source,
        target,
        # `.async_migrate_cache`: the README's first command leaves one in the bundled sample,
        # and a copy must start cold (tests assert what a run writes there).
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".async_migrate_cache", "*.db", "storage"),
    )
    return target


def _service_env(root: Path, database_url: str | None, prefix: str, scratch: str) -> dict[str, str]:
    """The environment of one run of a sample's suite: its database, its SQLite file and its
    storage under `scratch`, and no variable of the pytest running this one."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env[f"{prefix}_STORAGE_DIR"] = str(root / "storage-test")
    env[f"{prefix}_SQLITE_PATH"] = str(Path(scratch) / f"{prefix.lower()}-test.db")
    if database_url is not None:
        env[f"{prefix}_DATABASE_URL"] = database_url
    else:
        env.pop(f"{prefix}_DATABASE_URL", None)
    return env


def run_service_tests(
    root: Path, database_url: str | None, *, prefix: str = "BOOKSHOP", pytest_args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the pytest suite in ``root/tests`` in a child process; ``prefix`` names the
    sample's environment variables, ``pytest_args`` go before the test folder."""
    with tempfile.TemporaryDirectory(prefix="am-sqlite-", dir=MEMORY_FOLDER) as scratch:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args, "tests"],
            cwd=root,
            env=_service_env(root, database_url, prefix, scratch),
            capture_output=True,
            text=True,
            timeout=600,
        )


def run_service_tests_together(
    runs: list[tuple[Path, str | None]], *, prefix: str = "BOOKSHOP", pytest_args: tuple[str, ...] = ()
) -> list[subprocess.CompletedProcess[str]]:
    """`run_service_tests` on each (root, database URL) at the same time, each run a process of
    its own forked after the libraries they share were imported once (tests/forked_pytest.py)."""
    args = ["-q", "-p", "no:cacheprovider", *pytest_args, "tests"]
    with tempfile.TemporaryDirectory(prefix="am-runs-", dir=MEMORY_FOLDER) as scratch:
        specs = []
        for index, (root, url) in enumerate(runs):
            folder = Path(scratch) / str(index)
            folder.mkdir()
            specs.append({
                "cwd": str(root), "env": _service_env(root, url, prefix, str(folder)), "args": args,
                "stdout": str(folder / "stdout"), "stderr": str(folder / "stderr"),
            })
        runner = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("forked_pytest.py"))],
            input=json.dumps(specs),
            env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert runner.returncode == 0, runner.stdout[-2000:] + runner.stderr[-4000:]
        codes = json.loads(runner.stdout)
        return [
            subprocess.CompletedProcess(
                [sys.executable, "-m", "pytest", *args],
                code,
                Path(spec["stdout"]).read_text(encoding="utf-8", errors="replace"),
                Path(spec["stderr"]).read_text(encoding="utf-8", errors="replace"),
            )
            for spec, code in zip(specs, codes)
        ]


class _ForkedPython:
    """The one `tests/forked_python.py` process of this test session, started on first use."""

    process: subprocess.Popen[str] | None = None

    @classmethod
    def run(cls, request: dict[str, object]) -> int | None:
        """The run's exit code, or None when the process is gone (then it is started anew next time)."""
        if cls.process is None or cls.process.poll() is not None:
            cls.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("forked_python.py"))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
                text=True,
            )
            atexit.register(cls.stop, cls.process)
        assert cls.process.stdin is not None and cls.process.stdout is not None
        try:
            cls.process.stdin.write(json.dumps(request) + "\n")
            cls.process.stdin.flush()
            answer = cls.process.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        if not answer:
            cls.process = None
            return None
        return int(json.loads(answer)["returncode"])

    @staticmethod
    def stop(process: subprocess.Popen[str]) -> None:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=30)


def run_python(
    code: str, *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 180, warnings: tuple[str, ...] = (),
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """What `python -W w... -c code args...` (a `-W` for each of `warnings`) run in cwd with env (default:
    this process's) gives, the process forked from one that imported SQLAlchemy, FastAPI and the
    drivers once (tests/forked_python.py), which saves about a second and a half a run; a fresh
    interpreter when that process cannot run it."""
    env = dict(os.environ) if env is None else env
    command = [sys.executable, *(arg for option in warnings for arg in ("-W", option)), "-c", code, *args]
    with tempfile.TemporaryDirectory(prefix="am-python-", dir=MEMORY_FOLDER) as scratch:
        stdout, stderr = Path(scratch) / "stdout", Path(scratch) / "stderr"
        request = {
            "code": code, "cwd": str(cwd), "env": env, "stdout": str(stdout), "stderr": str(stderr),
            "timeout": timeout, "warnings": list(warnings), "args": list(args),
        }
        returncode = _ForkedPython.run(request)
        if returncode is None:
            return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return subprocess.CompletedProcess(
            command,
            returncode,
            stdout.read_text(encoding="utf-8", errors="replace"),
            stderr.read_text(encoding="utf-8", errors="replace"),
        )


def run_json(code: str, *, cwd: Path, **options: Any) -> Any:
    """The JSON document the last line of `code`'s output holds, run as `run_python(code, cwd=cwd,
    **options)` does (env, timeout, warnings). A failing run fails the test with its output."""
    result = run_python(code, cwd=cwd, **options)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def load_module(folder: Path, name: str, text: str):  # type: ignore[no-untyped-def]
    """`text` (dedented) written to `folder/name.py` and imported as module `name` (registered in
    sys.modules, so its classes resolve one another): what a test runs the code under study with."""
    import importlib.util
    import textwrap

    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def imported(folder: Path, modules: dict[str, str]):  # type: ignore[no-untyped-def]
    """The `modules` (name -> source) written to `folder` and imported in order, `folder` on
    sys.path meanwhile: a test's premise runs them. Modules of those names imported before are
    put back after."""
    saved = {name: sys.modules.pop(name, None) for name in modules}
    sys.path.insert(0, str(folder))
    try:
        yield [load_module(folder, name, text) for name, text in modules.items()]
    finally:
        sys.path.remove(str(folder))
        for name, module in saved.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module


@contextmanager
def statements_on_this_thread(engine: Any) -> Iterator[list[str]]:
    """The first word of each statement `engine` runs on the calling thread while inside (`SELECT`):
    entered in a coroutine, the event loop's thread. How a premise test shows that a read on the
    loop queried (a refresh of an expired object) while work handed to the threadpool did not count."""
    import threading

    from sqlalchemy import event

    thread = threading.get_ident()
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if threading.get_ident() == thread:
            seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def async_routes(  # type: ignore[no-untyped-def]
    folder: Path, modules: dict[str, str], routes: str, seed, raise_server_exceptions: bool = False
):
    """A TestClient of `routes` (a router module's definitions, each taking `db: AsyncSession`) on
    an aiosqlite database in `folder`, the `modules` (name -> source; the first one's `Base` maps
    the tables) importable, and the rows `seed(first module)` returns stored first: how a test
    runs the code a `check` finding is about. Modules of those names imported before are put back."""
    import asyncio

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    saved = {name: sys.modules.pop(name, None) for name in modules}
    try:
        loaded = [load_module(folder, name, text) for name, text in modules.items()]
        engine = create_async_engine(f"sqlite+aiosqlite:///{folder / 'routes.db'}")
        maker = async_sessionmaker(engine, expire_on_commit=False)

        async def prepare() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(loaded[0].Base.metadata.create_all)
            async with maker() as session:
                session.add_all(seed(loaded[0]))
                await session.commit()

        async def get_db():  # type: ignore[no-untyped-def]
            async with maker() as session:
                yield session

        asyncio.run(prepare())
        namespace: dict = {"get_db": get_db}
        head = "from fastapi import APIRouter, Depends\nrouter = APIRouter()\n"
        exec(head + routes.replace("db: AsyncSession", "db: AsyncSession = Depends(get_db)"), namespace)  # noqa: S102
        application = FastAPI()
        application.include_router(namespace["router"])
        with TestClient(application, raise_server_exceptions=raise_server_exceptions) as client:
            yield client
            client.portal.call(engine.dispose)
    finally:
        for name, module in saved.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module


def raised(client, path: str) -> str:  # type: ignore[no-untyped-def]
    """What GET `path` raised through a TestClient that raises server errors: "MissingGreenlet"
    when that is what it says (pydantic reports the attribute it could not read as a validation
    error naming it), else its text; "" when it answered."""
    try:
        client.get(path)
    except Exception as error:  # noqa: BLE001 - what it says is what the test reads
        said = f"{error} {getattr(error, 'errors', list)()}"
        return "MissingGreenlet" if "MissingGreenlet" in said else said
    return ""


def strip_pragmas(root: Path) -> None:
    """Remove every `# async-migrate:` comment under root (whole-line and trailing)."""
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        lines = [text_line for text_line in text.splitlines(keepends=True) if not text_line.lstrip().startswith("# async-migrate:")]
        stripped = "".join(re.sub(r"\s*# async-migrate:.*$", "", text_line.rstrip("\n")) + "\n" for text_line in lines)
        if stripped != text:
            path.write_text(stripped, encoding="utf-8")


def outcome_counts(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The counts on pytest's closing line, e.g. {"passed": 47, "failed": 1}; {} when there is none."""
    lines = [line for line in result.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    if not lines:
        return {}
    return {word: int(count) for count, word in re.findall(r"(\d+) (\w+)", lines[-1])}


def warnings_summary(result: subprocess.CompletedProcess[str]) -> str:
    """The "warnings summary" section of a pytest run's output; "" when it has none."""
    match = re.search(r"=+ warnings summary =+\n(.*?)(?:\n-- Docs:|\n=+ )", result.stdout, re.S)
    return match.group(1) if match else ""


def assert_all_passed(result: subprocess.CompletedProcess[str], expected: int) -> None:
    """A sample's suite ran `expected` tests and all passed: none failed, errored or was skipped.

    Under STRICT a coroutine never awaited during a test already fails it; one collected
    after the last test only reaches the warnings summary, so a warning naming a coroutine
    fails here too. Other warnings (a library's deprecation, a connection the garbage
    collector closed at exit) say nothing about the migrated code and are shown, not counted.
    """
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    counts = {word: n for word, n in outcome_counts(result).items() if word not in ("warning", "warnings")}
    assert counts == {"passed": expected}, output
    summary = warnings_summary(result)
    assert not re.search(r"never awaited|coroutine", summary), summary


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}"


def database(kind: str, prefix: str = "bookshop"):  # type: ignore[no-untyped-def]
    """The database URL for one run: None (SQLite, the service's default) or a scratch
    PostgreSQL (`postgres`) or MariaDB (`mariadb`) database; skips the test when that
    server does not answer (a failure under ASYNC_MIGRATE_REQUIRE_SERVERS)."""
    import contextlib

    if kind == "sqlite":
        return contextlib.nullcontext(None)
    if kind == "mariadb":
        reason = mariadb_available()
        if reason is not None:
            unavailable(reason)
        return scratch_mariadb_database()
    reason = postgres_available()
    if reason is not None:
        unavailable(reason)
    return scratch_database(prefix)


def _mariadb_connect(database: str | None = None):  # type: ignore[no-untyped-def]
    import pymysql

    user, _, address = MARIADB_HOST.rpartition("@")
    host, _, port = address.partition(":")
    return pymysql.connect(
        host=host, port=int(port or 3306), user=user or "root", database=database, connect_timeout=3,
        autocommit=True,
    )


def mariadb_available() -> str | None:
    """None when the MariaDB/MySQL server answers (through pymysql), else why not."""
    try:
        import aiomysql  # noqa: F401
        import pymysql
    except ImportError as error:
        return f"the MariaDB drivers are not installed: {error}"
    try:
        _mariadb_connect().close()
        return None
    except pymysql.Error as error:
        return f"MariaDB at {MARIADB_HOST} is not reachable: {error}"


# As for PostgreSQL below: emptying a MariaDB database costs less than dropping it and making another.
_IDLE_MARIADB: list[str] = []


def _mariadb_emptied(name: str) -> bool:
    """MariaDB database `name` holds no table, view, sequence, routine or event; False when a
    connection to it is still open or emptying fails (then it is dropped)."""
    import pymysql

    try:
        connection = _mariadb_connect(name)
    except pymysql.Error:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()", (name,)
            )
            if cursor.fetchone()[0]:
                return False
            cursor.execute("SET SESSION lock_wait_timeout = 5, FOREIGN_KEY_CHECKS = 0")
            cursor.execute("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s", (name,))
            for table, kind in cursor.fetchall():
                what = {"VIEW": "VIEW", "SEQUENCE": "SEQUENCE"}.get(kind, "TABLE")
                cursor.execute(f"DROP {what} IF EXISTS `{table}`")
            cursor.execute("SELECT routine_name, routine_type FROM information_schema.routines WHERE routine_schema = %s", (name,))
            for routine, kind in cursor.fetchall():
                cursor.execute(f"DROP {kind} IF EXISTS `{routine}`")
            cursor.execute("SELECT event_name FROM information_schema.events WHERE event_schema = %s", (name,))
            for (event,) in cursor.fetchall():
                cursor.execute(f"DROP EVENT IF EXISTS `{event}`")
            left = 0
            for table in ("tables", "routines", "events"):
                column = {"tables": "table_schema", "routines": "routine_schema", "events": "event_schema"}[table]
                cursor.execute(f"SELECT count(*) FROM information_schema.{table} WHERE {column} = %s", (name,))
                left += cursor.fetchone()[0]
            return left == 0
    except pymysql.Error:
        return False
    finally:
        connection.close()


@contextmanager
def scratch_mariadb_database() -> Iterator[str]:
    """A fresh (or emptied) MariaDB database for one run; its SQLAlchemy URL (sync pymysql driver)."""
    if _IDLE_MARIADB:
        name = _IDLE_MARIADB.pop()
    else:
        name = f"am_{uuid.uuid4().hex[:12]}"
        connection = _mariadb_connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            connection.close()
    try:
        yield f"mysql+pymysql://{MARIADB_HOST}/{name}?charset=utf8mb4"
    finally:
        if _mariadb_emptied(name):
            _IDLE_MARIADB.append(name)
        else:
            _drop_mariadb(name)


def _drop_mariadb(name: str) -> None:
    connection = _mariadb_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


# CREATE DATABASE copies the template and waits for the disk, about a second a run on a busy
# machine; emptying a database costs a fifth of that. A test process keeps the scratch databases
# its runs are done with and hands them out again, emptied (`_emptied`); the session's end drops
# them (conftest.py's pytest_sessionfinish, and atexit for any other process).
_IDLE_POSTGRES: dict[str, list[str]] = {}


def _emptied(admin, name: str) -> bool:  # type: ignore[no-untyped-def]
    """Database `name` holds nothing a run left: every schema but the server's own dropped, a
    fresh `public` made as the server makes it. False when a connection to it is still open (a
    run left an engine undisposed: only dropping the database ends it) or emptying fails."""
    import psycopg

    others = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
    ).fetchone()
    if others is None or others[0]:
        return False
    try:
        with psycopg.connect(postgres_url(name, "postgresql"), autocommit=True, connect_timeout=3) as connection:
            connection.execute("SET lock_timeout = '5s'")
            schemas = [row[0] for row in connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'"
            )]
            with connection.transaction():
                for schema in schemas:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
                connection.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
                connection.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
                connection.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
            left = connection.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
            ).fetchone()
            return left is not None and left[0] == 0
    except psycopg.Error:
        return False


# The SQLite files of the applications the tests run (phase2_kit.run_app), in the memory folder:
# a run rebuilds the schema and commits a few rows, and on a busy disk each commit waits on its syncs.
_SQLITE_FOLDER: list[str] = []


def sqlite_file(root: Path) -> Path:
    """The SQLite file runs of the application at `root` share in this process: in a folder of its own in the memory
    folder where the machine has one, else root/app.db."""
    if MEMORY_FOLDER is None:
        return root / "app.db"
    if not _SQLITE_FOLDER:
        _SQLITE_FOLDER.append(tempfile.mkdtemp(prefix="am-apps-", dir=MEMORY_FOLDER))
    # a folder per root: an application may keep more files beside its database (one per tenant)
    folder = Path(_SQLITE_FOLDER[0]) / hashlib.sha256(str(root).encode()).hexdigest()[:16]
    folder.mkdir(exist_ok=True)
    return folder / "app.db"


def drop_idle_databases() -> None:
    """Drop the scratch databases this process kept for reuse, and remove its SQLite files."""
    while _SQLITE_FOLDER:
        shutil.rmtree(_SQLITE_FOLDER.pop(), ignore_errors=True)
    while _IDLE_MARIADB:
        _drop_mariadb(_IDLE_MARIADB.pop())
    if not any(_IDLE_POSTGRES.values()):
        return
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        for names in _IDLE_POSTGRES.values():
            while names:
                connection.execute(f'DROP DATABASE IF EXISTS "{names.pop()}" WITH (FORCE)')


atexit.register(drop_idle_databases)


@contextmanager
def scratch_database(prefix: str = "bookshop") -> Iterator[str]:
    """A fresh (or emptied) PostgreSQL database for one run; its SQLAlchemy URL (sync psycopg driver)."""
    import psycopg

    idle = _IDLE_POSTGRES.setdefault(prefix, [])
    if idle:
        name = idle.pop()
    else:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
            # A scratch database never outlives a crash: commits need not wait for the disk (what
            # other sessions see is unchanged), and the samples commit schema rebuilds per test.
            connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            if _emptied(connection, name):
                idle.append(name)
            else:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
