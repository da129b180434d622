"""`async-migrate check`: the CI guard against `async def` routes that block the event loop."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import BOOKSHOP, REPO
from sample import copy_service, strip_pragmas

from async_migrate.cli.check_render import _command

ROUTES = """
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi_pagination.ext.sqlalchemy import paginate
from sqlalchemy import select

from core.dependencies import session_dependency
from services import items

router = APIRouter(prefix="/items")


@router.get("")
async def read_items(session: session_dependency):
    return session.execute(select(1)).all()


@router.get("/helper")
async def via_helper(session: session_dependency):
    return items.load(session)


@router.get("/page")
async def paged(session: session_dependency):
    return paginate(session, select(1))


@router.get("/offloaded")
async def offloaded(session: session_dependency):
    return await run_in_threadpool(items.load, session)


@router.get("/half")
async def half_offloaded(session: session_dependency):
    rows = await run_in_threadpool(items.load, session)
    session.commit()
    return rows


@router.get("/sync")
def already_sync(session: session_dependency):
    return items.load(session)


@router.get("/unused")
async def unused(session: session_dependency):
    return []


@router.get("/plain")
async def plain():
    return {"ok": True}
"""

ITEMS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


def load(session: Session):
    return session.scalars(select(1)).all()


def inventory():
    with database_sessionmaker() as session:
        return session.scalar(select(1))


def shape(rows):
    return list(rows)
"""

ASYNC_ENGINE = """
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""

ASYNC_ROUTES = """
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_async_db_session
from services import items

router = APIRouter(prefix="/v2")
async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]


async def fetch(session: AsyncSession):
    return (await session.execute(select(1))).all()


@router.get("/mixed")
async def mixed(session: async_session_dependency):
    rows = items.load(session)
    stats = items.inventory()
    shaped = items.shape(rows)
    more = await fetch(session)
    return shaped, stats, more


@router.get("/clean")
async def clean(session: AsyncSession = Depends(get_async_db_session)):
    return await fetch(session)


@router.get("/by-dependency")
async def by_dependency(session=Depends(get_async_db_session)):
    return items.inventory()
"""


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    return project(
        {**app_files, "api/__init__.py": "", "api/items.py": ROUTES, "services/__init__.py": "", "services/items.py": ITEMS}
    )


def findings(cli, root: Path, *extra: str) -> dict[str, list[dict]]:
    document = cli.json("check", root, *extra)
    assert document["command"] == "check"
    by_function: dict[str, list[dict]] = {}
    for finding in document["findings"]:
        by_function.setdefault(finding["function"], []).append(finding)
    return by_function


# ------------------------------------------------------------ blocking-session


def test_each_blocking_async_handler_is_one_finding_naming_its_blocking_lines(cli, app):
    found = findings(cli, app)
    items = app / "api/items.py"
    assert sorted(found) == ["half_offloaded", "paged", "read_items", "via_helper"]
    assert all(len(entries) == 1 and entries[0]["code"] == "AM301" for entries in found.values())

    read = found["read_items"][0]
    assert read["file"] == "api/items.py"
    assert read["line"] == line_of(items, "async def read_items")
    assert read["kind"] == "route" and read["methods"] == ["GET"] and read["phase1"] == "convert"
    execute = line_of(items, "return session.execute(select(1)).all()")
    assert read["blocking"] == [{"line": execute, "call": "session.execute()", "offloaded": False}]
    assert f"line {execute} (session.execute())" in read["message"]
    assert "converts it to def" in read["message"]

    helper = found["via_helper"][0]
    assert [b["call"] for b in helper["blocking"]] == ["services.items.load(...)"]
    # The Session handed to a library runs its queries there: the line is named.
    paged = found["paged"][0]
    assert paged["blocking"] == [
        {
            "line": line_of(items, "return paginate(session"),
            "call": "fastapi_pagination.ext.sqlalchemy.paginate(...)",
            "offloaded": False,
        }
    ]


def test_offloaded_helper_calls_do_not_block_but_a_direct_session_call_next_to_them_does(cli, app):
    found = findings(cli, app)
    assert "offloaded" not in found
    half = found["half_offloaded"][0]
    commit = line_of(app / "api/items.py", "    session.commit()")
    assert [b for b in half["blocking"] if not b["offloaded"]] == [
        {"line": commit, "call": "session.commit()", "offloaded": False}
    ]
    assert half["phase1"] == "keep"
    assert "mixed: awaits" in half["message"]
    assert f"the blocking calls at line {commit} are not offloaded automatically" in half["message"]


def test_def_routes_unused_sessions_and_sessionless_routes_are_clean(cli, project, app_files):
    root = project(
        {
            **app_files,
            "api/__init__.py": "",
            "api/ok.py": """
                from fastapi import APIRouter

                from core.dependencies import session_dependency

                router = APIRouter()


                @router.get("/a")
                def a(session: session_dependency):
                    return session.get(int, 1)


                @router.get("/b")
                async def b(session: session_dependency):
                    return []


                @router.get("/c")
                async def c():
                    return {}
            """,
        }
    )
    result = cli("check", root)
    assert result.exit_code == 0, result.output
    assert "no findings" in result.stdout
    assert cli.json("check", root)["findings"] == []


def test_an_async_dependency_doing_session_work_is_a_finding(cli, project, app_files):
    root = project(
        {
            **app_files,
            "core/users.py": """
                from typing import Annotated

                from fastapi import Depends
                from sqlalchemy import select

                from core.dependencies import session_dependency


                async def current_user(session: session_dependency):
                    return session.scalar(select(1))


                user_dependency = Annotated[int, Depends(current_user)]
            """,
            "api/users.py": """
                from fastapi import APIRouter

                from core.users import user_dependency

                router = APIRouter()


                @router.get("/me")
                def me(user: user_dependency):
                    return user
            """,
        }
    )
    (finding,) = cli.json("check", root)["findings"]
    assert (finding["code"], finding["function"], finding["kind"]) == ("AM301", "current_user", "dependency")
    assert finding["message"].startswith("async def dependency does synchronous Session work")


def test_the_check_reports_what_phase_one_keeps_with_the_reason_and_the_fix(cli, project, app_files):
    root = project(
        {
            **app_files,
            "api/__init__.py": "",
            "api/live.py": """
                from fastapi import APIRouter, WebSocket

                from core.dependencies import session_dependency
                from services.items import load

                router = APIRouter()


                @router.websocket("/ws")
                async def feed(websocket: WebSocket, session: session_dependency):
                    await websocket.accept()
                    rows = load(session)
                    await websocket.send_json(rows)
            """,
            "services/__init__.py": "",
            "services/items.py": ITEMS,
        }
    )
    (finding,) = cli.json("check", root)["findings"]
    load = line_of(root / "api/live.py", "rows = load(session)")
    assert finding["kind"] == "websocket" and finding["phase1"] == "keep"
    assert finding["blocking"] == [{"line": load, "call": "services.items.load(...)", "offloaded": False}]
    assert "websocket: it stays async def; move Session work to run_in_threadpool" in finding["message"]
    assert f"--offload-mixed` wraps the helper calls at line {load}" in finding["message"]


# --------------------------------------------------------------- mixed-session


@pytest.fixture
def async_app(project, app_files):  # type: ignore[no-untyped-def]
    return project(
        {
            **app_files,
            "db/async_engine.py": ASYNC_ENGINE,
            "api/__init__.py": "",
            "api/v2.py": ASYNC_ROUTES,
            "services/__init__.py": "",
            "services/items.py": ITEMS,
        }
    )


PAGED_V2 = """
from fastapi import APIRouter, Depends
from fastapi_pagination.ext.sqlalchemy import apaginate, paginate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_async_db_session

router = APIRouter(prefix="/v3")


@router.get("/sync-form")
async def sync_form(session: AsyncSession = Depends(get_async_db_session)):
    return paginate(session, select(1))


@router.get("/sync-form-on-connection")
async def sync_form_on_connection(session: AsyncSession = Depends(get_async_db_session)):
    return paginate(await session.connection(), select(1))


@router.get("/async-form")
async def async_form(session: AsyncSession = Depends(get_async_db_session)):
    return await apaginate(session, select(1))


@router.get("/async-form-on-connection")
async def async_form_on_connection(session: AsyncSession = Depends(get_async_db_session)):
    return await apaginate(await session.connection(), select(1))
"""


def test_the_sync_form_of_a_mapped_call_handed_the_async_session_is_a_mixed_finding(cli, project, app_files):
    # `paginate(async_session, q)` fails when it runs (it does not await the AsyncSession's
    # queries); `check` named nothing, a false all-clear for a half-finished hand migration.
    root = project({**app_files, "db/async_engine.py": ASYNC_ENGINE, "api/__init__.py": "", "api/v3.py": PAGED_V2})
    found = findings(cli, root)
    assert sorted(found) == ["sync_form", "sync_form_on_connection"]
    assert found["sync_form_on_connection"][0]["blocking"][0]["call"].startswith("paginate(...), ")
    (finding,) = found["sync_form"]
    assert finding["code"] == "AM302"
    assert finding["blocking"] == [{
        "line": line_of(root / "api/v3.py", "return paginate(session"),
        "call": "paginate(...), the synchronous form of `await fastapi_pagination.ext.sqlalchemy.apaginate(...)`",
        "offloaded": False,
    }]


PAGED_THROUGH = """
from functools import partial

from fastapi import APIRouter, Depends
from fastapi_pagination.ext.sqlalchemy import apaginate, paginate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_async_db_session

router = APIRouter(prefix="/v4")


def run_page(db, stmt):
    return paginate(db, stmt)


def page_of(db, stmt):
    return run_page(db, stmt)


async def run_apage(db, stmt):
    return await apaginate(db, stmt)


@router.get("/helper")
async def through_helper(session: AsyncSession = Depends(get_async_db_session)):
    return page_of(session, select(1))


@router.get("/partial")
async def through_partial(session: AsyncSession = Depends(get_async_db_session)):
    pager = partial(paginate, session)
    return pager(select(1))


@router.get("/async-helper")
async def through_async_helper(session: AsyncSession = Depends(get_async_db_session)):
    return await run_apage(session, select(1))


@router.get("/async-partial")
async def through_async_partial(session: AsyncSession = Depends(get_async_db_session)):
    pager = partial(apaginate, session)
    return await pager(select(1))
"""


def test_the_sync_form_of_a_mapped_call_reached_through_a_helper_or_a_partial_is_a_mixed_finding(
    cli, project, app_files
):
    # An unannotated helper (two deep) handing the AsyncSession to `paginate`, or a
    # `partial(paginate, session)` called later, fails as the direct call does: `check` said nothing.
    root = project(
        {**app_files, "db/async_engine.py": ASYNC_ENGINE, "api/__init__.py": "", "api/v4.py": PAGED_THROUGH}
    )
    found = findings(cli, root)
    assert sorted(found) == ["through_helper", "through_partial"], found
    (helper,) = found["through_helper"]
    assert helper["code"] == "AM302"
    assert helper["blocking"][0]["call"] == "api.v4.page_of(...)"
    (bound,) = found["through_partial"]
    assert bound["code"] == "AM302"
    assert bound["blocking"] == [{
        "line": line_of(root / "api/v4.py", "pager = partial(paginate, session)"),
        "call": "paginate(...), the synchronous form of `await fastapi_pagination.ext.sqlalchemy.apaginate(...)`",
        "offloaded": False,
    }]


CONNECTION_HELPERS = """
from fastapi import APIRouter, Depends
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_async_db_session

router = APIRouter(prefix="/v4")


def count_rows(connection: Connection) -> int:
    return len(connection.execute(select(1)).all())


@router.get("/direct")
async def direct(session: AsyncSession = Depends(get_async_db_session)):
    return count_rows(await session.connection())


@router.get("/named")
async def named(session: AsyncSession = Depends(get_async_db_session)):
    conn = await session.connection()
    return count_rows(conn)


@router.get("/run-sync")
async def run_sync(session: AsyncSession = Depends(get_async_db_session)):
    conn = await session.connection()
    return await conn.run_sync(count_rows)
"""


def test_the_async_connection_handed_to_synchronous_project_code_is_a_mixed_finding(cli, project, app_files):
    # count_rows(await session.connection()): its `execute()` on the AsyncConnection is a coroutine
    # never awaited (`.all()` on it raises AttributeError); `check` named nothing.
    root = project({**app_files, "db/async_engine.py": ASYNC_ENGINE, "api/__init__.py": "",
                    "api/v4.py": CONNECTION_HELPERS})
    found = findings(cli, root)
    assert sorted(found) == ["direct", "named"]
    for function, written in (("direct", "return count_rows(await"), ("named", "return count_rows(conn)")):
        (finding,) = found[function]
        assert finding["code"] == "AM302"
        assert finding["blocking"] == [{
            "line": line_of(root / "api/v4.py", written),
            "call": "api.v4.count_rows(...) given the AsyncConnection, whose `execute()` it does not await: "
                    "`await connection.run_sync(count_rows)` runs it as written",
            "offloaded": False,
        }]


def test_an_async_session_route_calling_synchronous_session_helpers_is_a_mixed_finding(cli, async_app):
    found = findings(cli, async_app)
    v2 = async_app / "api/v2.py"
    assert sorted(found) == ["by_dependency", "mixed"]
    (mixed,) = found["mixed"]  # one finding: the helper that opens its own Session is not reported twice
    assert mixed["code"] == "AM302"
    assert mixed["line"] == line_of(v2, "async def mixed")
    assert mixed["blocking"] == [
        {"line": line_of(v2, "rows = items.load(session)"), "call": "services.items.load(...)", "offloaded": False},
        {"line": line_of(v2, "stats = items.inventory()"), "call": "services.items.inventory(...)", "offloaded": False},
    ]
    assert "takes an AsyncSession (`session: async_session_dependency`)" in mixed["message"]
    assert "shape" not in mixed["message"]  # a helper without Session work is fine
    # Through a dependency annotated to yield an AsyncSession, with no annotation on the parameter.
    (by_dependency,) = found["by_dependency"]
    assert by_dependency["code"] == "AM302"
    assert "`session = Depends(get_async_db_session)`" in by_dependency["message"]


ASYNC_HELPERS = """
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.async_engine import get_async_db_session

router = APIRouter(prefix="/v3")


async def store(db: Session, name: str) -> None:
    db.add(name)
    db.commit()


async def outer(session: AsyncSession, name: str) -> None:
    await store(session, name)


async def fine(session: AsyncSession) -> None:
    await session.commit()


@router.post("/through")
async def through(name: str, session: AsyncSession = Depends(get_async_db_session)):
    await outer(session, name)


@router.post("/clean")
async def clean_v3(session: AsyncSession = Depends(get_async_db_session)):
    await fine(session)
"""


def test_sync_session_work_reached_through_async_helpers_is_a_mixed_finding(cli, project, app_files):
    root = project({**app_files, "db/async_engine.py": ASYNC_ENGINE, "api/__init__.py": "", "api/v3.py": ASYNC_HELPERS})
    found = findings(cli, root)
    assert sorted(found) == ["through"]
    (through,) = found["through"]
    assert through["code"] == "AM302"
    assert through["blocking"] == [{
        "line": line_of(root / "api/v3.py", "await outer(session, name)"),
        "call": "api.v3.outer(...), which reaches api.v3.store",
        "offloaded": False,
    }]


def test_a_pragma_for_one_kind_does_not_silence_the_other(cli, async_app):
    v2 = async_app / "api/v2.py"
    v2.write_text(
        v2.read_text().replace(
            "async def mixed(session: async_session_dependency):",
            "async def mixed(session: async_session_dependency):  # async-migrate: ignore[blocking-session] nope",
        )
    )
    # the pragma for the other kind silences nothing, so it is reported as unused too
    assert [f["code"] for f in findings(cli, async_app)["mixed"]] == ["AM302", "AM305"]
    v2.write_text(v2.read_text().replace("ignore[blocking-session] nope", "ignore[mixed-session] legacy stats"))
    document = cli.json("check", async_app)
    assert "mixed" not in {f["function"] for f in document["findings"]}
    assert {"code": "AM302", "name": "mixed-session", "function": "mixed", "reason": "legacy stats"}.items() <= next(
        s for s in document["silenced"] if s["function"] == "mixed"
    ).items()


# --------------------------------------------------------------------- pragmas


def _with_pragma(root: Path, old: str, new: str) -> None:
    path = root / "api/items.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_pragma_with_a_reason_on_the_def_line_silences_the_handler(cli, app):
    _with_pragma(
        app,
        "async def read_items(session: session_dependency):",
        "async def read_items(session: session_dependency):  # async-migrate: ignore[blocking-session] tiny table",
    )
    document = cli.json("check", app)
    assert "read_items" not in {f["function"] for f in document["findings"]}
    assert document["silenced"] == [
        {
            "code": "AM301",
            "name": "blocking-session",
            "file": "api/items.py",
            "line": line_of(app / "api/items.py", "async def read_items"),
            "function": "read_items",
            "pragma": "ignore[blocking-session] tiny table",
            "reason": "tiny table",
        }
    ]


def test_a_pragma_above_the_decorators_silences_the_handler(cli, app):
    _with_pragma(
        app,
        '@router.get("")\nasync def read_items',
        '# async-migrate: ignore[blocking-session] -- measured: 0.2 ms\n@router.get("")\nasync def read_items',
    )
    document = cli.json("check", app)
    assert "read_items" not in {f["function"] for f in document["findings"]}
    assert [(s["function"], s["reason"]) for s in document["silenced"]] == [("read_items", "measured: 0.2 ms")]


def test_a_pragma_on_the_line_above_an_undecorated_def_silences_it(cli, project, app_files):
    root = project(
        {
            **app_files,
            "core/users.py": """
                from typing import Annotated

                from fastapi import Depends

                from core.dependencies import session_dependency


                # async-migrate: ignore[blocking-session] cached after the first request
                async def current_user(session: session_dependency):
                    return session.get(int, 1)


                user_dependency = Annotated[int, Depends(current_user)]
            """,
            "api/users.py": """
                from fastapi import APIRouter

                from core.users import user_dependency

                router = APIRouter()


                @router.get("/me")
                def me(user: user_dependency):
                    return user
            """,
        }
    )
    result = cli("check", root)
    assert result.exit_code == 0, result.output
    assert "1 silenced by pragma" in result.stdout


def test_a_pragma_between_the_decorator_and_the_def_silences_the_handler(cli, app):
    _with_pragma(
        app,
        '@router.get("")\nasync def read_items',
        '@router.get("")\n# async-migrate: ignore[blocking-session] tiny table\nasync def read_items',
    )
    assert "read_items" not in findings(cli, app)


def test_a_pragma_without_a_reason_is_a_finding_itself(cli, app):
    _with_pragma(
        app,
        "async def read_items(session: session_dependency):",
        "async def read_items(session: session_dependency):  # async-migrate: ignore[blocking-session]",
    )
    result = cli("check", app)
    assert result.exit_code == 1
    (finding,) = findings(cli, app)["read_items"]  # the pragma finding replaces the one it silences
    assert finding["code"] == "AM303"
    assert finding["line"] == line_of(app / "api/items.py", "async def read_items")
    assert "gives no reason" in finding["message"]
    assert re.search(r"api/items\.py:\d+: AM303 bad-pragma read_items: pragma", result.stdout)


def test_a_pragma_naming_an_unknown_code_is_a_finding_and_silences_nothing(cli, app):
    _with_pragma(
        app,
        "async def read_items(session: session_dependency):",
        "async def read_items(session: session_dependency):  # async-migrate: ignore[blocking-sesion] typo",
    )
    codes = sorted(f["code"] for f in findings(cli, app)["read_items"])
    assert codes == ["AM301", "AM303"]
    (bad,) = [f for f in findings(cli, app)["read_items"] if f["code"] == "AM303"]
    assert "unknown code `blocking-sesion`" in bad["message"]


def test_a_bare_ignore_pragma_with_a_reason_silences_every_kind(cli, async_app):
    v2 = async_app / "api/v2.py"
    v2.write_text(
        v2.read_text().replace(
            "async def mixed(session: async_session_dependency):",
            "async def mixed(session: async_session_dependency):  # async-migrate: ignore until stats move",
        )
    )
    assert "mixed" not in findings(cli, async_app)


def test_a_pragma_without_a_reason_on_a_helper_is_a_finding_too(cli, app):
    path = app / "services/items.py"
    path.write_text(path.read_text().replace("def shape(rows):", "def shape(rows):  # async-migrate: ignore"))
    (finding,) = findings(cli, app)["shape"]
    assert finding["code"] == "AM303" and finding["file"] == "services/items.py" and finding["kind"] is None


# --------------------------------------------------------------------- formats


def test_text_format_prints_path_as_given_line_code_and_message(cli, app, monkeypatch):
    monkeypatch.chdir(app.parent)
    result = cli("check", "app")
    assert result.exit_code == 1
    line = line_of(app / "api/items.py", "async def read_items")
    assert f"app/api/items.py:{line}: AM301 blocking-session read_items: async def route does synchronous" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "4 findings (checked 7 async def handlers in 8 files)"


def test_text_format_with_dot_as_path_prints_paths_relative_to_it(cli, app, monkeypatch):
    monkeypatch.chdir(app)
    result = cli("check", ".")
    assert result.exit_code == 1
    assert re.search(r"^api/items\.py:\d+: AM301 blocking-session read_items", result.stdout, re.M)


def test_json_format_is_exactly_one_document(cli, app):
    result = cli("check", app, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["root"] == str(app.resolve())
    assert set(document) >= {"command", "root", "findings", "silenced", "errors"}
    assert {f["function"] for f in document["findings"]} == {"read_items", "via_helper", "paged", "half_offloaded"}
    assert set(document["findings"][0]) >= {"code", "file", "line", "function", "kind", "message", "blocking"}


def test_github_format_prints_one_error_command_per_finding(cli, app, monkeypatch):
    monkeypatch.chdir(app.parent)
    result = cli("check", str(app), "--format", "github")  # an absolute PATH inside the working directory
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(text_line.startswith("::error file=app/") for text_line in lines)
    line = line_of(app / "api/items.py", "async def read_items")
    assert (
        f"::error file=app/api/items.py,line={line},title=async-migrate::[AM301 blocking-session] read_items: "
        "async def route does synchronous Session work on the event loop at line"
    ) in result.stdout
    assert "4 findings" in result.stderr


@pytest.mark.parametrize("run_from", ["app", "app/api", "outside"])
def test_github_and_sarif_paths_are_relative_to_the_repository_top(cli, app, monkeypatch, tmp_path, run_from):
    # A monorepo job with `working-directory: services/app` runs `check .`: GitHub resolves the
    # annotation against the repository root, so the path must start there, from wherever it ran.
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / "services").mkdir()
    root = app.rename(repository / "services" / "app")
    where = {"app": root, "app/api": root / "api", "outside": tmp_path}[run_from]
    monkeypatch.chdir(where)
    given = {"app": ".", "app/api": "..", "outside": str(root)}[run_from]
    result = cli("check", given, "--format", "github")
    assert result.exit_code == 1
    files = {re.match(r"::error file=([^,]+),", text).group(1) for text in result.stdout.splitlines()}
    assert files == {"services/app/api/items.py"}, result.stdout
    sarif = json.loads(cli("check", given, "--format", "sarif").stdout)
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for finding in sarif["runs"][0]["results"]
        for location in finding["locations"]
    }
    assert uris == {"services/app/api/items.py"}, uris
    if run_from != "outside":  # the terminal keeps paths as the reader gave them
        assert cli("check", given).stdout.startswith(f"{Path(given, 'api/items.py').as_posix()}:")


def test_files_a_message_cites_are_shown_as_the_findings_own_file_is(cli, project, app_files, monkeypatch):
    # `check app`: the location starts with PATH as given, and so does the file the message cites
    from rules.test_am129_lazy_load_on_loop import MODELS
    from rules.test_am307_blocking_lazy_load import RESPONSE

    router = "from fastapi import APIRouter\n\nfrom core.dependencies import session_dependency\n\nrouter = APIRouter()\n"
    root = project({**app_files, "models.py": MODELS, "api/__init__.py": "",
                    "api/items.py": router + RESPONSE.replace("{options}", "")})
    monkeypatch.chdir(root.parent)
    served = line_of(root / "api/items.py", "    return current_user")
    text = cli("check", root.name).stdout
    assert f"`UserOut.posts` ({root.name}/api/items.py:{served})" in text, text
    github = cli("check", root.name, "--format", "github").stdout
    assert f"`UserOut.posts` ({root.name}/api/items.py:{served})" in github, github
    # from the root itself, both are relative to it
    monkeypatch.chdir(root)
    assert f"`UserOut.posts` (api/items.py:{served})" in cli("check", ".").stdout


def test_github_format_escapes_what_workflow_commands_reserve(cli, app, monkeypatch, tmp_path):
    odd = app.rename(tmp_path / "my,app:1")
    monkeypatch.chdir(tmp_path)
    result = cli("check", "my,app:1", "--format", "github")
    assert result.stdout.startswith("::error file=my%2Capp%3A1/api/items.py,line=")
    assert _command("a,b:c.py", 3, "50% done\nnext") == "::error file=a%2Cb%3Ac.py,line=3,title=async-migrate::50%25 done%0Anext"
    assert odd.exists()


# ------------------------------------------------------------------ exit codes


def test_exit_codes_usage_and_parse_errors(cli, app, tmp_path):
    assert cli("check", tmp_path / "missing").exit_code == 2
    assert cli("check", app, "--config", tmp_path / "missing.toml").exit_code == 2
    assert cli("check", app, "--format", "xml").exit_code == 2

    (app / "api/broken.py").write_text("async def (:\n")
    result = cli("check", app)
    assert result.exit_code == 3
    assert "api/broken.py" in result.stderr
    assert "read_items" in result.stdout  # the other files were checked
    document = cli.json("check", app)
    assert [e["file"] for e in document["errors"]] == ["api/broken.py"]
    github = cli("check", app, "--format", "github")
    assert github.exit_code == 3
    assert "/api/broken.py,line=1,title=async-migrate::cannot check: syntax error" in github.stdout


def test_only_exclude_and_jobs_restrict_the_files_like_the_other_commands(cli, app):
    assert cli("check", app, "--exclude", "api/items.py").exit_code == 0
    support = ("--only", "core/**", "--only", "db/**", "--only", "services/**")
    assert cli.json("check", app, *support)["findings"] == []
    assert len(cli.json("check", app, *support, "--only", "api/*.py")["findings"]) == 4
    assert cli("check", app, "--jobs", "2").exit_code == 1


# --------------------------------------------------------------- pre-commit


def test_the_pre_commit_hook_runs_check_on_the_root(cli, app, monkeypatch):
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "async-migrate-check"
    assert hook["entry"] == "async-migrate check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["args"] == ["."]
    monkeypatch.chdir(app)
    assert cli(*hook["entry"].split()[1:], *hook["args"]).exit_code == 1


# --------------------------------------------------------- the sample service

# The handlers phase one deliberately keeps `async def` in the sample service; the
# sample documents each with a pragma, which is what lets `check` pass after phase one.
KEEPERS = {
    ("api/live.py", "books_feed"): "websocket handler: stays async def until the feed moves to AsyncSession",
    ("api/orders.py", "create_order"): "awaits the order notification; place_order and commit move to AsyncSession",
    ("api/reports.py", "top_rated"): "times itself on the event loop and starts the notification task",
    ("api/books.py", "similar_books"): "@timed awaits the handler, so it must stay a coroutine function",
}


def test_check_on_the_sample_flags_what_blocks_and_after_phase1_exactly_what_phase1_keeps(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    strip_pragmas(root)
    plan = cli.json("scan", root)["handlers"]
    # A lifecycle handler's blocking work delays start-up, not a request: check leaves it to scan (AM133).
    blocking_now = {
        (h["file"], h["function"])
        for h in plan
        if h["before"] == "async" and h["kind"] != "lifecycle"
        and (h["action"] == "convert" or any(not b["offloaded"] for b in h.get("blocking", [])))
    }
    assert set(KEEPERS) <= blocking_now
    before = cli("check", root)
    assert before.exit_code == 1
    assert {(f["file"], f["function"]) for f in cli.json("check", root)["findings"]} == blocking_now

    assert cli("phase1", root, "--apply").exit_code == 0
    after = cli("check", root)
    assert after.exit_code == 1, after.output
    remaining = cli.json("check", root)["findings"]
    assert {(f["file"], f["function"]) for f in remaining} == set(KEEPERS)
    for finding in remaining:
        assert finding["code"] == "AM301" and finding["phase1"] == "keep"
        assert finding["blocking"]
        for blocking in finding["blocking"]:
            assert f"line {blocking['line']} ({blocking['call']})" in finding["message"]
        assert "fix: " in finding["message"]


def test_check_on_the_sample_exits_1_before_phase1_and_0_after(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    before = cli("check", root)
    assert before.exit_code == 1
    assert "32 findings" in before.stdout and "4 silenced by pragma" in before.stdout

    assert cli("phase1", root, "--apply").exit_code == 0
    result = cli("check", root)
    assert result.exit_code == 0, result.output
    silenced = cli.json("check", root)["silenced"]
    assert {(s["file"], s["function"]): s["reason"] for s in silenced} == KEEPERS
    assert all(s["code"] == "AM301" for s in silenced)


def test_a_pragma_keeps_the_real_reasons_and_the_blocking_calls_in_phase1(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    documented = {(h["file"], h["function"]): h for h in cli.json("phase1", root)["handlers"]}
    strip_pragmas(root)
    bare = {(h["file"], h["function"]): h for h in cli.json("phase1", root)["handlers"]}
    for key, reason in KEEPERS.items():
        with_pragma, without = documented[key], bare[key]
        assert with_pragma["action"] == without["action"] == "keep"
        unlined = lambda reasons: [re.sub(r"line \d+", "line N", r) for r in reasons]  # noqa: E731
        assert unlined(without["reasons"])[:-1] == unlined(with_pragma["reasons"])[:-2]  # why it stays
        assert f"acknowledged by pragma: {reason}" in with_pragma["reasons"]
        calls = [b["call"] for b in with_pragma["blocking"]]
        assert calls and calls == [b["call"] for b in without["blocking"]]  # still reported as blocking


def test_check_after_offload_mixed_flags_only_what_stays_on_the_event_loop(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    strip_pragmas(root)
    planned = cli.json("phase1", root, "--offload-mixed")["handlers"]
    still = {  # a lifecycle handler's blocking delays start-up only: check leaves it to scan (AM133)
        (h["file"], h["function"])
        for h in planned
        if h["action"] == "keep" and h["kind"] != "lifecycle" and any(not b["offloaded"] for b in h.get("blocking", []))
    }
    assert still < set(KEEPERS)  # offloading fixes some keepers, not all
    assert cli("phase1", root, "--apply", "--offload-mixed").exit_code == 0
    assert {(f["file"], f["function"]) for f in cli.json("check", root)["findings"]} == still
