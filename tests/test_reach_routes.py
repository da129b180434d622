"""Issue 10, routes and coroutine context: shapes the analysis must follow, each with a near miss.

Every test builds a tiny application (the shared engine and session dependency
from `app_files`, plus the modules under test) and runs the CLI: `phase1` and
`scan` with `--format json`, `check` with `--format json`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

HEAD = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()
"""


def source(*parts: str) -> str:
    """Dedented fragments, two blank lines apart (HEAD's 5 lines: the next part starts at line 8)."""
    return "\n\n\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str | bytes]) -> Path:
        return project({**app_files, "api/__init__.py": "", "services/__init__.py": "", **files})

    return build


def handler(document: dict, function: str) -> dict:
    found = [h for h in document["handlers"] if h["function"] == function]
    assert len(found) == 1, f"{function}: {document['handlers']}"
    return found[0]


def outcome(document: dict, function: str, action: str, fragment: str = "") -> dict:
    found = handler(document, function)
    assert found["action"] == action, found
    assert any(fragment in reason for reason in found["reasons"]), found["reasons"]
    return found


def check(cli, root: Path, *args: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    result = cli("check", root, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def findings(document: dict, function: str) -> list[dict]:
    return [f for f in document["findings"] if f["function"] == function]


# ------------------------------------------- 9. decorators above the route decorator

TIMED = """
import functools


def timed(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)

    return wrapper
"""


def test_a_coroutine_decorator_above_the_route_decorator_does_not_keep_the_route(cli, app):
    root = app({
        "core/timing.py": TIMED,
        "api/items.py": source(HEAD, """
            from core.timing import timed


            @timed
            @router.get("/items")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert "+def list_items(session: session_dependency):" in document["diff"]
    code, report = check(cli, root)
    assert code == 1
    assert findings(report, "list_items")[0]["phase1"] == "convert"


def test_a_coroutine_decorator_below_the_route_decorator_keeps_the_route(cli, app):
    root = app({
        "core/timing.py": TIMED,
        "api/items.py": source(HEAD, """
            from core.timing import timed


            @router.get("/items")
            @timed
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "decorator @timed (core/timing.py:4) awaits the function it wraps")
    assert document["diff"] == ""


def test_a_coroutine_decorator_between_two_route_decorators_keeps_the_route(cli, app):
    root = app({
        "core/timing.py": TIMED,
        "api/items.py": source(HEAD, """
            from core.timing import timed


            @router.get("/items")
            @timed
            @router.get("/items/all")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "decorator @timed")


# ------------------------------------------------------ 10. offloads that already work

OFFLOADED = {
    "asyncio.to_thread": ("import asyncio", "await asyncio.to_thread(load, session)"),
    "anyio.to_thread.run_sync": ("import anyio", "await anyio.to_thread.run_sync(load, session)"),
    "anyio to_thread imported": ("from anyio import to_thread", "await to_thread.run_sync(load, session)"),
    "run_in_executor": (
        "import asyncio",
        "await asyncio.get_running_loop().run_in_executor(None, load, session)",
    ),
    "partial in run_in_executor": (
        "import asyncio\nimport functools",
        "await asyncio.get_running_loop().run_in_executor(None, functools.partial(load, session))",
    ),
    "partial in to_thread": (
        "import asyncio\nfrom functools import partial",
        "await asyncio.to_thread(partial(load, session=session))",
    ),
}
HELPER = """
from sqlalchemy.orm import Session


def load(session: Session):
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("form", sorted(OFFLOADED))
def test_an_offloaded_helper_call_is_no_finding_and_no_blocking_line(cli, app, form):
    imports, call = OFFLOADED[form]
    root = app({
        "services/items.py": HELPER,
        "api/items.py": source(HEAD, imports + "\n\nfrom services.items import load", f"""
            @router.get("/items")
            async def list_items(session: session_dependency):
                return {call}
            """),
    })
    code, report = check(cli, root)
    assert (code, report["findings"]) == (0, []), report
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "keep")
    assert all(b["offloaded"] for b in found.get("blocking", [])), found
    assert not any("still blocks" in reason for reason in found["reasons"]), found["reasons"]
    assert document["diff"] == ""


def test_an_unknown_executor_method_is_not_an_offload(cli, app):
    root = app({
        "services/items.py": HELPER,
        "api/items.py": source(HEAD, "from services.items import load\nfrom core.jobs import queue", """
            @router.get("/items")
            async def list_items(session: session_dependency):
                return await queue.submit(load, session)
            """),
        "core/jobs.py": "queue = object()\n",
    })
    code, report = check(cli, root)
    assert code == 1
    assert findings(report, "list_items"), report


def test_the_helper_passed_to_to_thread_but_also_called_directly_still_blocks(cli, app):
    root = app({
        "services/items.py": HELPER,
        "api/items.py": source(HEAD, "import asyncio\n\nfrom services.items import load", """
            @router.get("/items")
            async def list_items(session: session_dependency):
                first = await asyncio.to_thread(load, session)
                return first + load(session)
            """),
    })
    code, report = check(cli, root)
    assert code == 1
    [finding] = findings(report, "list_items")
    assert [(b["line"], b["call"]) for b in finding["blocking"]] == [(16, "services.items.load(...)")]


# ------------------------------------------- never a silent all-clear: --only / --exclude


@pytest.fixture
def bookshop(tmp_path: Path) -> Path:
    from conftest import BOOKSHOP
    from sample import copy_service

    return copy_service(BOOKSHOP, tmp_path / "bookshop")


def _authors(document: dict) -> set[str]:
    return {h["function"] for h in document["handlers"] if h["file"] == "api/authors.py"}


def test_only_narrows_what_check_reports_not_what_it_understands(cli, bookshop):
    code, whole = check(cli, bookshop)
    expected = [f for f in whole["findings"] if f["file"] == "api/authors.py"]
    assert code == 1 and len(expected) == 7
    code, narrowed = check(cli, bookshop, "--only", "api/authors.py")
    assert code == 1
    assert narrowed["findings"] == expected
    assert narrowed["files"] == 1


def test_exclude_drops_the_excluded_files_findings_only(cli, bookshop):
    _, whole = check(cli, bookshop)
    code, narrowed = check(cli, bookshop, "--exclude", "api/authors.py")
    assert code == 1
    assert narrowed["findings"] == [f for f in whole["findings"] if f["file"] != "api/authors.py"]


@pytest.mark.parametrize("command", ["scan", "phase1"])
def test_only_narrows_what_scan_and_phase1_report_and_write(cli, bookshop, command):
    whole = cli.json(command, bookshop)
    narrowed = cli.json(command, bookshop, "--only", "api/authors.py")
    assert {h["file"] for h in narrowed["handlers"]} == {"api/authors.py"}
    assert narrowed["handlers"] == [h for h in whole["handlers"] if h["file"] == "api/authors.py"]
    assert _authors(narrowed) and all(h["action"] == "convert" for h in narrowed["handlers"] if h["before"] == "async")
    if command == "phase1":
        assert narrowed["files_changed"] == ["api/authors.py"]
        assert "api/books.py" in whole["files_changed"]


def test_only_on_phase1_apply_writes_only_the_selected_file(cli, bookshop):
    books = (bookshop / "api" / "books.py").read_bytes()
    result = cli("phase1", bookshop, "--only", "api/authors.py", "--apply")
    assert result.exit_code == 0, result.output
    assert (bookshop / "api" / "books.py").read_bytes() == books
    assert "\ndef list_authors(" in (bookshop / "api" / "authors.py").read_text()


# ------------------------------------------------ never a silent all-clear: nothing found


def test_check_on_a_folder_without_python_files_warns_and_exits_2(cli, tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("no code here\n")
    # the cache in its default place, beside the code: nothing analysed, nothing left behind
    monkeypatch.delenv("ASYNC_MIGRATE_CACHE_DIR")
    result = cli("check", tmp_path)
    assert result.exit_code == 2, result.output
    assert "no Python files under PATH" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_check_on_code_without_routes_warns_and_exits_2(cli, project, app_files):
    root = project({**app_files, "services/__init__.py": "", "services/load.py": "def load():\n    return 1\n"})
    result = cli("check", root)
    assert result.exit_code == 2, result.output
    assert "no FastAPI routes under PATH" in result.output
    document = json.loads(cli("check", root, "--format", "json").stdout)
    assert document["routes"] == 0 and document.get("warnings", [])


@pytest.mark.parametrize(
    "command", [("check",), ("phase1",), ("scan",), ("phase2", "--subsystem", "api/items.py")]
)
def test_only_selecting_no_file_warns_and_exits_2_in_every_command(cli, app, command):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    result = cli(command[0], root, *command[1:], "--only", "nomatch/*")
    assert result.exit_code == 2, result.output
    assert (
        "async-migrate: warning: no Python files under PATH (or none that --only/--exclude select): "
        "nothing was checked"
    ) in result.output
    as_json = cli(command[0], root, *command[1:], "--only", "nomatch/*", "--format", "json")
    document = json.loads(as_json.stdout)
    assert any("none that --only/--exclude select" in w for w in document["warnings"]), document
    # Exit 2 says why on standard error in every format: a script reading only the status and
    # standard error must not be left with an empty message.
    assert as_json.exit_code == 2
    assert "async-migrate: warning: no Python files under PATH" in as_json.stderr


@pytest.mark.parametrize("command", [("phase1",), ("scan",), ("phase2", "--subsystem", "api/items.py")])
def test_near_miss_only_selecting_a_file_exits_0(cli, app, command):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    result = cli(command[0], root, *command[1:], "--only", "*.py")
    assert result.exit_code == 0, result.output
    assert "no Python files" not in result.output


def test_check_on_an_application_with_only_def_routes_is_clean(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    result = cli("check", root)
    assert result.exit_code == 0, result.output


# ------------------------------------------------- 6. event-loop needs through helpers

JOBS = """
import asyncio


def schedule(item_id):
    return _spawn(item_id)


def _spawn(item_id):
    return asyncio.create_task(asyncio.sleep(0))


def later(item_id):
    asyncio.get_running_loop().call_soon(print, item_id)


def with_loop(loop, item_id):
    loop.call_soon(print, item_id)


def deferred(item_id):
    def callback():
        asyncio.get_running_loop()

    return callback
"""


def jobs_route(call: str) -> dict[str, str]:
    return {
        "services/jobs.py": JOBS,
        "api/items.py": source(HEAD, "import asyncio\n\nfrom services import jobs", f"""
            @router.post("/items/{{item_id}}")
            async def touch(item_id: int, session: session_dependency):
                session.execute("update items set n = n + 1")
                {call}
            """),
    }


def test_a_helper_chain_reaching_create_task_keeps_the_route_and_names_the_chain(cli, app):
    root = app(jobs_route("jobs.schedule(item_id)"))
    document = cli.json("phase1", root)
    outcome(
        document, "touch", "keep",
        "calls services.jobs.schedule (line 16) -> services.jobs._spawn, at services/jobs.py:9, "
        "which uses asyncio.create_task: it needs the running event loop",
    )
    assert document["diff"] == ""
    code, report = check(cli, root)
    assert code == 1
    [finding] = findings(report, "touch")
    assert finding["phase1"] == "keep"
    assert "services.jobs.schedule (line 16) -> services.jobs._spawn" in finding["message"]


@pytest.mark.parametrize("call, api", [
    ("jobs.later(item_id)", "asyncio.get_running_loop"),
    ("jobs.with_loop(asyncio.get_running_loop(), item_id)", "asyncio.get_running_loop"),
])
def test_a_helper_using_the_running_loop_keeps_the_route(cli, app, call, api):
    document = cli.json("phase1", app(jobs_route(call)))
    outcome(document, "touch", "keep", api)


def test_a_helper_calling_loop_call_soon_on_a_loop_parameter_keeps_the_route(cli, app):
    files = jobs_route("jobs.with_loop(loop, item_id)")
    files["api/items.py"] = files["api/items.py"].replace("from services import jobs", "from services import jobs\nfrom core.loops import loop")
    files["core/loops.py"] = "import asyncio\n\nloop = asyncio.new_event_loop()\n"
    document = cli.json("phase1", app(files))
    outcome(document, "touch", "keep", "services.jobs.with_loop (line 17), at services/jobs.py:17, which uses loop.call_soon")


@pytest.mark.parametrize("call", [
    "jobs.deferred(item_id)",  # the loop is only needed by a callback it returns
    "await asyncio.to_thread(jobs.schedule, item_id)",  # offloaded: then it fails anyway, but not by phase one
])
def test_a_helper_that_does_not_need_the_loop_when_called_does_not_keep_the_route(cli, app, call):
    document = cli.json("phase1", app(jobs_route(call)))
    found = handler(document, "touch")
    assert not any("needs the event loop" in reason for reason in found["reasons"]), found["reasons"]
    if not call.startswith("await"):
        assert found["action"] == "convert"


# ------------------------------------------------ 11. awaited Session methods are not sync

ASYNC_DB = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_session = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_db():
    async with async_session() as s:
        yield s
"""


def test_an_awaited_session_annotated_as_session_is_no_blocking_work(cli, app):
    root = app({
        "db/async_engine.py": ASYNC_DB,
        "api/items.py": source(HEAD, """
            from fastapi import Depends
            from sqlalchemy.orm import Session

            from db.async_engine import get_db
            """, """
            @router.get("/items")
            async def list_items(db: Session = Depends(get_db)):
                rows = await db.execute("select 1")
                db.add(object())
                await db.commit()
                return rows.all()
            """),
    })
    document = cli.json("phase1", root)
    outcome(
        document, "list_items", "keep",
        "awaits `db.execute()` at line 16: `db` is an AsyncSession whose annotation says Session",
    )
    assert "blocking" not in handler(document, "list_items")
    code, report = check(cli, root)
    assert (code, report["findings"]) == (0, []), report


def test_a_session_with_one_unawaited_query_still_blocks(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from fastapi import Depends
        from sqlalchemy.orm import Session

        from db.engine import get_db_session
        """, """
        @router.get("/items")
        async def list_items(db: Session = Depends(get_db_session)):
            await audit()
            return db.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "keep", "mixed: awaits at line 16")
    assert found["blocking"] == [{"line": 17, "call": "db.execute()", "offloaded": False}]
    code, report = check(cli, root)
    assert code == 1 and findings(report, "list_items")


# ---------------------------------------------------- 13. calls with invented parameters

USERS = """
from typing import Annotated

from fastapi import Depends


async def current_user(token: str = ""):
    return token


user_dependency = Annotated[str, Depends(current_user)]
"""


def invented(call: str) -> dict[str, str]:
    return {
        "core/users.py": USERS,
        "api/items.py": source(HEAD, "from core.users import current_user, user_dependency", f"""
            @router.get("/items")
            async def list_items(user: user_dependency, session: session_dependency):
                rows = session.execute("select 1").all()
                {call}
                return rows
            """),
    }


def test_a_session_passed_under_a_keyword_the_callee_lacks_is_flagged_not_unused(cli, app):
    root = app(invented('current_user("t", db=session)'))
    document = cli.json("phase1", root)
    outcome(document, "current_user", "keep", "does no synchronous Session work")
    assert not any("never used" in r for r in handler(document, "current_user")["reasons"])
    outcome(
        document, "list_items", "convert",
        "suspicious call at line 14: passes `db=` to core.users.current_user, which has no parameter `db`",
    )
    _, report = check(cli, root)
    found = {f["code"]: f for f in findings(report, "list_items")}
    assert "suspicious call at line 14: passes `db=`" in found["AM301"]["message"]
    assert set(found) == {"AM301", "AM311"}  # the coroutine function is called without `await`, too


def test_a_session_passed_under_a_real_keyword_is_not_flagged(cli, app):
    files = invented('current_user("t", token=session)')
    document = cli.json("phase1", app(files))
    # the call is not awaited: as `def` it would run the body the coroutine never runs (AM130)
    outcome(document, "current_user", "keep", "called by api.items.list_items")
    assert "AM130" in handler(document, "current_user")["codes"]
    assert not any("suspicious" in r for r in handler(document, "list_items")["reasons"])


def test_a_session_passed_into_kwargs_is_not_flagged(cli, app):
    files = invented('current_user("t", db=session)')
    files["core/users.py"] = USERS.replace('token: str = ""', 'token: str = "", **options')
    document = cli.json("phase1", app(files))
    assert not any("suspicious" in r for r in handler(document, "list_items")["reasons"])


# ---------------------------------------- 7. nested coroutines and async generators

MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def streaming(generator: str) -> dict[str, str]:
    return {
        "db/models.py": MODELS,
        "api/export.py": source(HEAD, "from fastapi.responses import StreamingResponse\n\nfrom db.models import User", f"""
            @router.get("/export")
            async def export(session: session_dependency):
                {generator} rows():
                    for user in session.query(User).yield_per(100):
                        yield f"{{user.id}}\\n"

                return StreamingResponse(rows())
            """),
    }


def test_session_work_inside_a_nested_async_generator_keeps_the_route_and_check_reports_it(cli, app):
    root = app(streaming("async def"))
    document = cli.json("phase1", root)
    found = outcome(
        document, "export", "keep",
        "does synchronous Session work at line 16 (session.query()) inside the nested coroutine `rows`",
    )
    assert found["blocking"] == [{"line": 16, "call": "session.query()", "offloaded": False}]
    assert document["diff"] == ""
    code, report = check(cli, root)
    [finding] = findings(report, "export")
    assert code == 1 and finding["phase1"] == "keep"
    assert "make the nested `rows` a plain def" in finding["message"]
    assert "run_in_threadpool" not in finding["message"]
    scan = cli.json("scan", root)
    outcome(scan, "export", "keep", "inside the nested coroutine `rows`")


def test_session_work_inside_a_nested_sync_generator_converts(cli, app):
    document = cli.json("phase1", app(streaming("def")))
    outcome(document, "export", "convert", "takes a synchronous Session")
    assert "+def export(session: session_dependency):" in document["diff"]


# ------------------------------------------ 8. blocking inside an awaited coroutine helper

AUDIT = """
from sqlalchemy.orm import Session


async def save_and_audit(item_id: int, db: Session):
    db.execute("update items set n = n + 1")
    db.commit()
    return item_id
"""


def test_an_awaited_async_helper_doing_sync_session_work_reports_its_lines_and_a_fix_that_works(cli, app):
    root = app({
        "services/audit.py": AUDIT,
        "api/items.py": source(HEAD, "from services.audit import save_and_audit", """
            @router.post("/items/{item_id}")
            async def save(item_id: int, session: session_dependency):
                return await save_and_audit(item_id, session)
            """),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    found = outcome(
        document, "save", "keep",
        "calls the coroutine helper services.audit.save_and_audit at line 13, which blocks the event loop "
        "at services/audit.py:5 (db.execute()), services/audit.py:6 (db.commit())",
    )
    assert found["blocking"] == [{"line": 13, "call": "services.audit.save_and_audit(...)", "offloaded": False}]
    assert document["diff"] == ""
    code, report = check(cli, root)
    [finding] = findings(report, "save")
    assert code == 1
    assert "make it a plain def and call it as `await run_in_threadpool(save_and_audit, ...)`" in finding["message"]
    assert "move them into a helper" not in finding["message"]
    assert "move the awaited call out" not in finding["message"]


ASYNC_AUDIT = """
from sqlalchemy.ext.asyncio import AsyncSession


async def save_and_audit(item_id: int, db: AsyncSession):
    await db.execute("update items set n = n + 1")
    await db.commit()
    return item_id
"""
ASYNC_DEPENDENCY = """
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_session = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db() -> AsyncSession:
    async with async_session() as s:
        yield s
"""


def test_an_awaited_async_helper_on_an_async_session_is_no_finding(cli, app):
    root = app({
        "db/async_engine.py": ASYNC_DEPENDENCY,
        "services/audit.py": ASYNC_AUDIT,
        "api/items.py": source(HEAD, "from fastapi import Depends\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n"
                               "from db.async_engine import get_async_db\nfrom services.audit import save_and_audit", """
            @router.post("/items/{item_id}")
            async def save(item_id: int, session: AsyncSession = Depends(get_async_db)):
                return await save_and_audit(item_id, session)
            """),
    })
    code, report = check(cli, root)
    assert (code, report["findings"]) == (0, []), report
    document = cli.json("phase1", root)
    outcome(document, "save", "keep", "already uses an AsyncSession")


# ------------------------------------------------------ 5. routes the tool never listed

INFERRING = """
from fastapi_utils.inferring_router import InferringRouter

from core.dependencies import session_dependency

router = InferringRouter()


@router.get("/items")
async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_a_route_on_an_unrecognised_router_class_is_listed_kept_and_reported(cli, app):
    root = app({"api/items.py": INFERRING})
    document = cli.json("phase1", root)
    found = outcome(
        document, "list_items", "keep",
        "router class fastapi_utils.inferring_router.InferringRouter is not recognised",
    )
    assert (found["kind"], found["methods"], found["path"]) == ("route", ["GET"], "/items")
    assert document["diff"] == ""
    code, report = check(cli, root)
    [finding] = findings(report, "list_items")
    assert code == 1 and "list it under router-types" in finding["message"]


def test_a_configured_router_class_converts(cli, app):
    root = app({
        "api/items.py": INFERRING,
        "pyproject.toml": '[tool.async-migrate]\nrouter-types = ["fastapi_utils.inferring_router.InferringRouter"]\n',
    })
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_get_on_a_third_party_object_not_named_like_a_router_is_still_not_a_route(cli, app):
    root = app({"api/items.py": INFERRING.replace(
        "from fastapi_utils.inferring_router import InferringRouter", "from cachetools import TTLCache"
    ).replace("InferringRouter()", "TTLCache(maxsize=10, ttl=60)")})
    document = cli.json("phase1", root)
    assert "list_items" not in {h["function"] for h in document["handlers"]}
    code, _ = check(cli, root)
    assert code == 2  # no routes under PATH: never a silent all-clear


SUBCLASSED = """
from fastapi import APIRouter

from core.dependencies import session_dependency


class BaseRouter(APIRouter):
    pass


class AppRouter(BaseRouter):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)


router = AppRouter(prefix="/items")


@router.get("")
async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_a_project_subclass_of_apirouter_is_a_router_even_for_an_empty_path(cli, app):
    root = app({"api/items.py": SUBCLASSED})
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert (found["methods"], found["path"]) == (["GET"], "/items")


def test_a_project_class_that_is_no_router_subclass_is_not_recognised(cli, app):
    root = app({"api/items.py": SUBCLASSED.replace("(APIRouter)", "").replace(
        "super().__init__(**kwargs)", "self.kwargs = kwargs"
    ).replace('@router.get("")', '@router.get("/")')})
    document = cli.json("phase1", root)
    assert "list_items" not in {h["action"] == "convert" and h["function"] for h in document["handlers"]}


FACTORY = """
from fastapi import APIRouter

from core.dependencies import session_dependency


def make_routes(model: str) -> APIRouter:
    r = APIRouter(prefix=f"/{model}")

    def helper():
        return model

    @r.get("/")
    async def list_all(session: session_dependency):
        return session.execute(f"select * from {model}").all()

    @r.get("/ping")
    async def ping():
        return {"model": helper()}

    return r


items = make_routes("items")
"""


def test_routes_defined_inside_a_router_factory_are_listed_and_converted(cli, app):
    root = app({"api/factory.py": FACTORY})
    document = cli.json("phase1", root)
    found = outcome(document, "make_routes.<locals>.list_all", "convert", "takes a synchronous Session")
    # the factory's prefix is an f-string of its parameter, which its one call gives the literal "items"
    assert (found["path"], found["line"]) == ("/items/", 13) and "path_incomplete" not in found
    varied = FACTORY.replace('make_routes("items")', 'make_routes(os.environ["M"])')
    near = app({"api/factory.py": "import os\n" + varied})
    found = outcome(cli.json("phase1", near), "make_routes.<locals>.list_all", "convert", "takes a synchronous Session")
    assert (found["path"], found["path_incomplete"]) == ("[unknown prefix]/", True)
    outcome(document, "make_routes.<locals>.ping", "keep", "does no synchronous Session work")
    assert "-    async def list_all(session: session_dependency):\n+    def list_all(session: session_dependency):\n" in document["diff"]
    assert "async def ping" not in "".join(text_line for text_line in document["diff"].splitlines(True) if text_line[:1] in "+-")
    code, report = check(cli, root)
    assert code == 1 and [f["function"] for f in report["findings"]] == ["make_routes.<locals>.list_all"]
    assert cli("phase1", root, "--apply").exit_code == 0
    compile((root / "api/factory.py").read_text(), "factory.py", "exec")
    code, report = check(cli, root)
    assert (code, report["findings"]) == (0, [])


def test_a_nested_function_without_route_decorators_is_not_a_route(cli, app):
    root = app({"api/factory.py": FACTORY.replace('@r.get("/")\n    ', "").replace('@r.get("/ping")\n    ', "")})
    document = cli.json("phase1", root)
    assert not any("<locals>" in h["function"] for h in document["handlers"])


FACTORY_DEPENDENCY = """\
from fastapi import APIRouter, Depends
from sqlalchemy import text

from db.engine import get_db_session


def by_default(prefix: str, session_dep=Depends(get_db_session)) -> APIRouter:
    r = APIRouter(prefix=prefix)

    @r.get("/a")
    async def read_a(db=session_dep):
        return db.execute(text("select 1")).all()

    return r


def by_function(prefix: str, get_session=get_db_session) -> APIRouter:
    r = APIRouter(prefix=prefix)
    page = 20

    async def read_b(db=Depends(get_session), limit=page):
        return db.execute(text("select 1")).all()[:limit]

    r.add_api_route("/b", read_b, methods=["GET"])
    return r


def by_local(prefix: str) -> APIRouter:
    r = APIRouter(prefix=prefix)
    dep = Depends(get_db_session)

    @r.get("/c")
    async def read_c(db=dep):
        return db.scalars(text("select 1")).all()

    return r


def from_caller(prefix: str, get_session) -> APIRouter:
    r = APIRouter(prefix=prefix)

    @r.get("/d")
    async def read_d(session=Depends(get_session)):
        return session.scalars(text("select 1")).all()

    @r.get("/e")
    async def read_e(size=Depends(get_session)):
        return {"size": size}

    return r


routers = [by_default("/x"), by_function("/y"), by_local("/z"), from_caller("/w", get_db_session)]
"""


def test_a_factory_route_whose_default_names_the_factorys_dependency_is_followed(cli, app):
    # The default is evaluated in the factory: `session_dep` is its parameter, never a module name.
    root = app({"api/factory.py": FACTORY_DEPENDENCY})
    document = cli.json("phase1", root)
    found = outcome(document, "by_default.<locals>.read_a", "convert", "`db=session_dep` (it calls get_db_session")
    outcome(document, "by_function.<locals>.read_b", "convert", "`db=Depends(get_session)` (it calls get_db_session")
    outcome(document, "by_local.<locals>.read_c", "convert", "`db=dep` (it calls get_db_session")
    # a dependency only the factory's caller names: unverified, never "no Session work"
    outcome(document, "from_caller.<locals>.read_d", "keep", "`session` comes from `Depends(get_session)`")
    assert found["codes"] == ["AM101"]
    # near miss: the same unread dependency, not used as a Session
    outcome(document, "from_caller.<locals>.read_e", "keep", "does no synchronous Session work")
    code, report = check(cli, root)
    assert code == 1
    assert {(f["function"], f["code"]) for f in report["findings"]} == {
        ("by_default.<locals>.read_a", "AM301"), ("by_function.<locals>.read_b", "AM301"),
        ("by_local.<locals>.read_c", "AM301"), ("from_caller.<locals>.read_d", "AM304"),
    }


HANDLER_FACTORIES = """\
from fastapi import APIRouter
from sqlalchemy import text

from core.dependencies import session_dependency

router = APIRouter()


def make_list(table: str):
    async def endpoint(session: session_dependency):
        return session.execute(text(f"select * from {table}")).all()

    return endpoint


def make_either(table: str, flat: bool):
    async def rows(session: session_dependency):
        return session.execute(text(f"select * from {table}")).all()

    async def first(session: session_dependency):
        return session.execute(text(f"select * from {table}")).first()

    if flat:
        return rows
    return first


class Lister:
    def __init__(self, table: str):
        self.table = table

    async def __call__(self, session: session_dependency):
        return session.execute(text(f"select * from {self.table}")).all()


class Resource(APIRouter):
    def __init__(self, table: str):
        super().__init__(prefix="/" + table)
        self.table = table
        self.add_api_route("/all", self._get_all(), methods=["GET"])

    def _get_all(self):
        async def route(session: session_dependency):
            return session.execute(text(f"select * from {self.table}")).all()

        return route


def logged(fn):
    def wrapper(session: session_dependency):
        return fn(session)

    return wrapper


def count_notes(session):
    return session.execute(text("select count(*) from notes")).scalar()


list_users = make_list("users")
router.add_api_route("/count", logged(count_notes), methods=["GET"])
router.add_api_route("/items", make_list("items"), methods=["GET"])
router.add_api_route("/users", list_users, methods=["GET"])
router.add_api_route("/tags", Lister("tags"), methods=["GET"])
router.add_api_route("/either", make_either("notes", True), methods=["GET"])
notes = Resource("notes")
"""


def test_a_handler_factorys_returned_coroutine_is_the_route(cli, app):
    # `add_api_route("/items", make_list("items"))` serves the function make_list returns: read,
    # converted in place and checked, where it was an unverified route (AM310).
    root = app({"api/handlers.py": HANDLER_FACTORIES})
    document = cli.json("phase1", root)
    found = outcome(document, "make_list.<locals>.endpoint", "convert", "takes a synchronous Session")
    assert found["path"] in ("/items", "/users")
    outcome(document, "Lister.__call__", "convert", "takes a synchronous Session")
    outcome(document, "Resource._get_all.<locals>.route", "convert", "takes a synchronous Session")
    assert "-    async def endpoint(session: session_dependency):\n+    def endpoint(session: session_dependency):\n" in document["diff"]
    code, report = check(cli, root)
    assert code == 1
    # near miss: a factory returning one of two functions is not read, and says so
    assert {(f["function"], f["code"]) for f in report["findings"]} == {
        ("make_list.<locals>.endpoint", "AM301"), ("Lister.__call__", "AM301"),
        ("Resource._get_all.<locals>.route", "AM301"), ('make_either("notes", True)', "AM310"),
        ("logged(count_notes)", "AM310"),  # a decorator's wrapper, calling what it was given: not read
    }
    assert cli("phase1", root, "--apply").exit_code == 0
    code, report = check(cli, root)
    assert [(f["function"], f["code"]) for f in report["findings"]] == [
        ("logged(count_notes)", "AM310"), ('make_either("notes", True)', "AM310"),
    ]


# ------------------------------------ never a silent all-clear: PATH is not the import root

ROUTE = source(HEAD.replace("from core.dependencies", "from app.core.dependencies"), """
    @router.get("/items")
    async def list_items(session: session_dependency):
        return session.execute("select 1").all()
    """)


def nested_app(project, app_files, where: str) -> Path:  # type: ignore[no-untyped-def]
    """The usual application as the package `app`, placed at `where` (e.g. "backend/app")."""
    files = {f"{where}/{path}": text.replace("from db.engine", "from app.db.engine") for path, text in app_files.items()}
    files.update({f"{where}/__init__.py": "", f"{where}/api/__init__.py": "", f"{where}/api/items.py": ROUTE})
    return project(files)


def test_a_monorepo_path_finds_the_backend_import_root(cli, project, app_files):
    root = nested_app(project, app_files, "backend/app")
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session `session: session_dependency`")
    assert document.get("warnings", []) == [
        "read `backend/` as the import root (from the imports); set src in [tool.async-migrate] to say so explicitly"
    ]
    code, report = check(cli, root)
    assert code == 1 and findings(report, "list_items")


def test_two_services_each_with_their_own_app_package_are_no_clean_check(cli, project, app_files):
    # A monorepo root holding services/a/app and services/b/app: one import root was chosen for
    # `app`, so a's route calling its own blocking helper resolved to b's harmless one. check
    # passed it (exit 0 with nothing else to report), where run on a it is a finding.
    helper = "from app.db.engine import database_sessionmaker\n\n\ndef count():\n    with database_sessionmaker() as s:\n        return s.execute('select 1').scalar()\n"
    route = source(HEAD.replace("from core.dependencies", "from app.core.dependencies"), """
        from app.helpers import count


        @router.get("/count")
        async def count_route():
            return count()
        """)
    files = {}
    for name, body in (("a", helper), ("b", "def count():\n    return 0\n")):
        where = f"services/{name}/app"
        files.update({f"{where}/{p}": t.replace("from db.engine", "from app.db.engine") for p, t in app_files.items()})
        files.update({f"{where}/__init__.py": "", f"{where}/api/__init__.py": "", f"{where}/api/items.py": route,
                      f"{where}/helpers.py": body})
    root = project(files)
    code, report = check(cli, root / "services" / "a")
    assert code == 1 and findings(report, "count_route")
    for _ in range(2):  # the second run is the warm one, taken whole from the cache
        code, report = check(cli, root)
        assert code == 2, report
        (clash,) = [w for w in report["warnings"] if "each hold the package" in w]
        assert clash.startswith("`services/a/` and `services/b/` each hold the package `app`"), clash


def test_a_path_one_level_too_deep_is_read_as_its_package(cli, project, app_files):
    root = nested_app(project, app_files, "backend/app") / "backend" / "app"
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert document.get("warnings", [])[0].startswith(
        "read PATH as the package `app`, with its parent folder as the import root (from the imports)"
    ), document.get("warnings")
    code, report = check(cli, root)
    assert code == 1 and findings(report, "list_items")


@pytest.mark.parametrize("imported", ["app.api.items", "billing.api"])
def test_tests_beside_a_path_read_as_its_package_are_named_with_the_fix(cli, project, app_files, imported):
    root = nested_app(project, app_files, "backend/app")
    tests = root / "backend" / "tests"
    tests.mkdir()
    (tests / "test_items.py").write_text(
        f"import asyncio\nfrom {imported} import list_items\n\n\ndef test_direct():\n"
        "    asyncio.run(list_items(session=None))\n"
    )
    warnings = cli.json("phase1", root / "backend" / "app").get("warnings", [])
    named = [w for w in warnings if w.startswith("tests outside PATH")]
    if imported == "billing.api":  # near miss: tests of another package are none of this run's
        assert named == []
        return
    assert named == [
        "tests outside PATH import `app` (../tests/test_items.py): they are not read, so a test calling a handler "
        "directly is not seen (one awaiting a handler phase one makes `def`, or calling one phase two makes "
        "`async def`, would fail); run on `..` with `--only app` to read them"
    ]


def test_a_configured_src_root_is_used_without_guessing(cli, project, app_files):
    root = nested_app(project, app_files, "backend/app")
    (root / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["backend"]\n')
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert document.get("warnings", []) == []


def test_imports_that_stay_unresolved_are_counted_with_examples_and_the_fix(cli, project, app_files):
    root = nested_app(project, app_files, "backend/app")
    (root / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["."]\n')  # wrong on purpose
    document = cli.json("scan", root)
    [warning] = document["warnings"]
    assert warning.startswith("2 project imports could not be resolved (e.g. `app.core.dependencies.session_dependency` in backend/app/api/items.py")
    assert 'src = ["backend"]' in warning
    result = cli("check", root)
    assert "project imports could not be resolved" in result.output


@pytest.mark.parametrize("near_miss", [False, True])
def test_alembic_beside_its_migrations_folder_is_not_an_unresolved_project_import(cli, project, app_files, near_miss):
    # `backend/alembic/` (env.py, versions/) has no __init__.py: Python imports the installed
    # alembic before it, and it holds neither `op` nor `context`. Near miss: a folder without
    # __init__.py holding what the imports name (`app/core/`) is the project's namespace package,
    # and its imports that resolve nowhere (src wrong on purpose) are still counted.
    root = nested_app(project, app_files, "backend/app")
    (root / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["backend"]\n')
    (root / "backend/alembic/versions").mkdir(parents=True)
    (root / "backend/alembic/env.py").write_text("from alembic import context\n\ncontext.configure()\n")
    (root / "backend/alembic/versions/0001_init.py").write_text("from alembic import op\n\nop.get_bind()\n")
    if near_miss:
        (root / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["."]\n')
        for init in (root / "backend/app").rglob("__init__.py"):
            init.unlink()
    document = cli.json("scan", root)
    if near_miss:
        [warning] = document["warnings"]
        assert warning.startswith("2 project imports could not be resolved (e.g. `app.core."), warning
        assert "alembic" not in warning
    else:
        assert document.get("warnings", []) == []


def test_an_application_at_its_root_reads_no_other_root(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """), "fastapi/__init__.py": ""})
    document = cli.json("phase1", root)
    assert document.get("warnings", []) == []
    outcome(document, "list_items", "convert", "takes a synchronous Session")


MCP_CLIENT = """\
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def connect(url):
    async with streamable_http_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
"""

COUNT = """\
from app.db.engine import database_sessionmaker


def count():
    with database_sessionmaker() as s:
        return s.execute("select 1").scalar()
"""

COUNT_ROUTE = """\
from fastapi import APIRouter

from app.utils.helpers import count

router = APIRouter()


@router.get("/count")
async def count_route():
    return count()
"""


@pytest.mark.parametrize("reached", [True, False])
def test_a_folder_in_a_package_the_imports_name_is_no_root_for_a_library_sharing_a_name_in_it(
    cli, project, app_files, reached
):
    # `app/utils/mcp/client.py` (no __init__.py) beside the installed `mcp` library's imports:
    # `app/utils/` was taken for an import root, which renamed `app.utils.helpers` to `helpers`,
    # so the route's `from app.utils.helpers import count` resolved nowhere and check passed its
    # blocking call with exit 0. Near miss: nothing imports `app.utils...` (the route imports
    # `from helpers import count`), so `app/utils/` is still the folder those imports start from.
    root = nested_app(project, app_files, "app")
    (root / "app/utils/mcp").mkdir(parents=True)
    (root / "app/utils/mcp/client.py").write_text(MCP_CLIENT)
    (root / "app/utils/helpers.py").write_text(COUNT)
    route = COUNT_ROUTE if reached else COUNT_ROUTE.replace("from app.utils.helpers", "from helpers")
    (root / "app/api/count.py").write_text(route)
    document = cli.json("scan", root)
    warnings = document.get("warnings", [])
    if reached:
        assert warnings == [], warnings  # neither a root nor an unresolved project import: a library
    else:
        assert warnings and warnings[0].startswith("read `app/utils/` as the import root"), warnings
    code, report = check(cli, root)
    assert code == 1 and [f["code"] for f in findings(report, "count_route")] == ["AM301"], report


def test_a_configured_src_above_a_too_deep_path_names_path_as_its_package(cli, project, app_files):
    top = nested_app(project, app_files, "backend/app")
    (top / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["backend"]\n')
    document = cli.json("phase1", top / "backend" / "app")
    outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert document.get("warnings", []) == []


def far_away(monkeypatch, top: Path) -> None:  # type: ignore[no-untyped-def]
    """Run from a folder three levels from the project: the folders the messages name are then
    written absolute, wherever the checkout running the tests is (a folder within two levels of
    the working directory is written relative to it)."""
    away = top.parent / "elsewhere" / "a" / "b"
    away.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(away)


def test_a_path_inside_the_package_its_imports_name_is_not_an_all_clear(cli, project, app_files, monkeypatch):
    # PATH `backend/app/api`: the route's Session alias lives in `app.core`, beside PATH, unseen
    top = nested_app(project, app_files, "backend/app")
    root = top / "backend" / "app" / "api"
    far_away(monkeypatch, top)
    code, report = check(cli, root)
    assert code == 2, report
    [warning] = report["warnings"]
    assert warning.startswith("PATH is inside the package `app`, and 1 import names its modules outside PATH (`app.core`")
    assert "`app.core.dependencies.session_dependency` in items.py" in warning
    assert f"pass `{top / 'backend'}`" in warning and "`--only app/api`" in warning
    # the route's Session alias is unseen: unverified, never an all-clear
    assert [(f["function"], f["code"]) for f in report["findings"]] == [("list_items", "AM304")]
    assert "calls `session.execute()` on `session: session_dependency`, a type from `app.core`" in report["findings"][0]["message"]
    text = cli("check", root)
    assert "AM304" in text.output and text.exit_code == 2
    document = cli.json("scan", root)
    assert document["warnings"] == [warning]
    # passed as the warning says, the route's Session work is found
    code, report = check(cli, top / "backend", "--only", "app/api")
    assert code == 1 and findings(report, "list_items")


def test_near_miss_a_parent_folder_named_like_an_imported_package_is_not_outside(cli, project, app_files):
    top = project({
        **{f"fastapi/service/{path}": text for path, text in app_files.items()},
        "fastapi/service/api/__init__.py": "",
        "fastapi/service/api/items.py": source(HEAD, """
            @router.get("/items")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    code, report = check(cli, top / "fastapi" / "service")
    assert code == 1 and findings(report, "list_items")
    assert report["warnings"] == []


COUNT_SERVICE = """
from sqlalchemy import text

from db.engine import database_sessionmaker


def count_items() -> int:
    with database_sessionmaker() as session:
        return session.scalar(text("select count(*) from items"))
"""

BESIDE_ROUTES = source(HEAD, """
    import asyncio

    from api import shared
    from services.items import count_items
    """, """
    @router.get("/count")
    async def count():
        await asyncio.sleep(0)
        return {"count": count_items(), "shared": shared.NAME}


    @router.get("/items")
    async def list_items(session: session_dependency):
        return session.execute("select 1").all()
    """)


def beside_app(project, app_files, **extra: str) -> Path:  # type: ignore[no-untyped-def]
    """The usual application at its root (with its pyproject.toml); its routes in api/, which
    imports `core`, `db` and `services` from beside it."""
    return project({
        **app_files,
        "pyproject.toml": '[project]\nname = "svc"\n',
        "services/__init__.py": "",
        "services/items.py": COUNT_SERVICE,
        "api/__init__.py": "",
        "api/shared.py": 'NAME = "items"\n',
        "api/items.py": BESIDE_ROUTES,
        **extra,
    })


def test_a_path_one_level_below_the_modules_its_imports_name_is_not_an_all_clear(cli, project, app_files, monkeypatch):
    # PATH `api/`: `from services.items import ...` and `from core.dependencies import ...` name
    # modules beside it, which the analysis never reads
    top = beside_app(project, app_files)
    root = top / "api"
    far_away(monkeypatch, top)
    code, report = check(cli, root)
    assert code == 2, report
    [warning] = [w for w in report["warnings"] if "too deep" in w]
    assert warning.startswith(
        "PATH may be too deep: `core` imported by api/items.py is at ../core/; `services` imported by "
        "api/items.py is at ../services/ (2 imports name 2 project modules outside PATH: `core`, `services`)"
    ), warning
    assert f"run on `{top}`" in warning and "`--only api`" in warning
    # a route whose calls lead there is unverified, never "no Session work"
    assert {f["function"]: f["code"] for f in report["findings"]} == {"count": "AM304", "list_items": "AM304"}
    assert "calls `services.items.count_items()` in `services`" in findings(report, "count")[0]["message"]
    document = cli.json("scan", root)
    assert warning in document["warnings"]
    found = outcome(document, "count", "keep", "unverified: calls `services.items.count_items()` in `services`, project code outside PATH")
    assert not any("does no synchronous Session work" in reason for reason in found["reasons"])
    text = cli("phase1", root)
    assert "PATH may be too deep" in text.stderr
    # run as the warning says, the work is found
    code, report = check(cli, top, "--only", "api")
    assert code == 1 and report["warnings"] == []
    assert {f["function"]: f["code"] for f in report["findings"]} == {"count": "AM301", "list_items": "AM301"}


BESIDE_SHAPES = {
    "an object from a dependency there": ("from core.dependencies import current_user", """
        @router.get("/me")
        async def me(user=Depends(current_user)):
            return user.items
        """, "takes `user` from the dependency `core.dependencies.current_user` in `core`"),
    "a dependency under PATH on one there": ("from api.auth import active_user", """
        @router.get("/me")
        async def me(user=Depends(active_user)):
            return user.items
        """, "takes `user` from the dependency `api.auth.active_user`, which takes `user` from the dependency "
             "`core.dependencies.current_user` in `core`"),
    "an awaited helper calling there": ("from services.items import count_items", """
        async def _count():
            return count_items()


        @router.get("/me")
        async def me():
            return await _count()
        """, "_count -> calls `services.items.count_items()` in `services`"),
    "a module-level object built there": ("from services.items import Counter", """
        counter = Counter()


        @router.get("/me")
        async def me():
            return counter.count()
        """, "calls `counter.count()` in `services`"),
}


@pytest.mark.parametrize("shape", sorted(BESIDE_SHAPES))
def test_work_beside_path_is_unverified_through_each_shape(cli, project, app_files, shape):
    imports, route, reason = BESIDE_SHAPES[shape]
    top = beside_app(project, app_files, **{
        "core/dependencies.py": app_files["core/dependencies.py"] + CURRENT_USER,
        "services/items.py": COUNT_SERVICE + "\n\nclass Counter:\n    def count(self):\n        return count_items()\n",
        "api/me.py": source("from fastapi import APIRouter, Depends", imports, "router = APIRouter()", route),
        "api/auth.py": source("from fastapi import Depends\n\nfrom core.dependencies import current_user", """
            def active_user(user=Depends(current_user)):
                return user
            """),
    })
    document = cli.json("scan", top / "api", "--only", "me.py")
    outcome(document, "me", "keep", reason)
    code, report = check(cli, top / "api", "--only", "me.py")
    assert code == 2 and [f["code"] for f in findings(report, "me")] == ["AM304"]


CURRENT_USER = """

def current_user(session: Session = Depends(get_db_session)):
    return session.get(object, 1)
"""


def test_near_miss_a_folder_named_like_a_library_is_not_beside(cli, project, app_files):
    # `alembic/` beside PATH holds the project's migrations, not the library `from alembic import op` names
    route = source(HEAD, "from alembic import op", """
        @router.get("/items")
        async def list_items(session: session_dependency):
            op.f("x")
            return session.execute("select 1").all()
        """)
    top = project({
        "pyproject.toml": '[project]\nname = "svc"\n',
        "alembic/env.py": "from alembic import context\n",
        **{f"app/{path}": text for path, text in app_files.items()},
        "app/api/__init__.py": "",
        "app/api/items.py": route,
    })
    code, report = check(cli, top / "app")
    assert code == 1 and report["warnings"] == []
    assert [f["code"] for f in findings(report, "list_items")] == ["AM301"]


def test_near_miss_folders_above_the_project_holding_pyproject_are_not_looked_at(cli, project, app_files):
    top = beside_app(project, app_files)
    (top / "api" / "pyproject.toml").write_text('[project]\nname = "api"\n')
    code, report = check(cli, top / "api")
    assert not any("too deep" in w for w in report["warnings"])


# ------------------------------------------ the same decisions in scan, phase1 and --offload-mixed

SHAPES = {
    "decorator above the route": lambda: {"core/timing.py": TIMED, "api/items.py": source(HEAD, "from core.timing import timed", """
        @timed
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)},
    "offloaded through to_thread": lambda: {"services/items.py": HELPER, "api/items.py": source(HEAD, "import asyncio\n\nfrom services.items import load", """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return await asyncio.to_thread(load, session)
        """)},
    "helper needs the loop": lambda: jobs_route("jobs.schedule(item_id)"),
    "nested async generator": lambda: streaming("async def"),
    "awaited coroutine helper": lambda: {"services/audit.py": AUDIT, "api/items.py": source(HEAD, "from services.audit import save_and_audit", """
        @router.post("/items/{item_id}")
        async def save(item_id: int, session: session_dependency):
            return await save_and_audit(item_id, session)
        """)},
    "unrecognised router": lambda: {"api/items.py": INFERRING},
    "router factory": lambda: {"api/factory.py": FACTORY},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_scan_phase1_and_offload_mixed_decide_each_shape_alike(cli, app, shape):
    root = app(SHAPES[shape]())
    decisions = {}
    for args in (("phase1",), ("scan",), ("phase1", "--offload-mixed")):
        document = cli.json(*args, root)
        decisions[args] = {
            (h["file"], h["function"]): (h["action"], [r for r in h["reasons"] if "offloaded the blocking" not in r])
            for h in document["handlers"]
        }
        if args[-1] == "--offload-mixed":
            compile_all = [p for p in root.rglob("*.py")]
            assert all(compile(p.read_text(), str(p), "exec") for p in compile_all)
            offloaded = [text_line for text_line in document["diff"].splitlines() if text_line.startswith("+") and "run_in_threadpool" in text_line]
            assert not offloaded, offloaded  # none of these shapes has a helper call that is safe to offload
    assert decisions[("phase1",)] == decisions[("scan",)] == decisions[("phase1", "--offload-mixed")]


SAVE_AND_NOTIFY = """
import asyncio

from sqlalchemy.orm import Session


def save_and_notify(session: Session, item_id: int):
    session.execute("update items set n = n + 1")
    asyncio.get_running_loop().call_soon(print, item_id)


def save(session: Session, item_id: int):
    session.execute("update items set n = n + 1")
"""


@pytest.mark.parametrize("helper, offloaded", [("save_and_notify", False), ("save", True)])
def test_offload_mixed_never_moves_a_helper_that_needs_the_loop_into_the_threadpool(cli, app, helper, offloaded):
    root = app({
        "services/jobs.py": SAVE_AND_NOTIFY,
        "api/items.py": source(HEAD, f"from fastapi import Request\n\nfrom services.jobs import {helper}", f"""
            @router.post("/items/{{item_id}}")
            async def touch(item_id: int, request: Request, session: session_dependency):
                await request.body()
                {helper}(session, item_id)
            """),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    assert (f"await run_in_threadpool({helper}, session, item_id)" in document["diff"]) is offloaded


def test_add_api_route_on_an_unrecognised_router_class_is_listed_and_kept(cli, app):
    root = app({"api/items.py": INFERRING.replace('@router.get("/items")\n', "") + '\n\nrouter.add_api_route("/items", list_items)\n'})
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "keep", "router class fastapi_utils.inferring_router.InferringRouter is not recognised")
    assert found["path"] == "/items"
    assert document["diff"] == ""


def test_phase_two_leaves_a_router_factory_route_on_the_synchronous_path_and_says_why(cli, app):
    root = app({"api/factory.py": FACTORY})
    document = cli.json("phase2", root, "--subsystem", "api/factory.py")
    found = outcome(document, "make_routes.<locals>.list_all", "blocked", "is a route defined inside `make_routes`")
    assert found["after"] == "async" and document["diff"] == ""


# ------------------------------------- routes added by route objects and application factories

ROUTE_OBJECTS = """
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.routing import Route

from db.engine import database_sessionmaker as SessionLocal
from core.dependencies import session_dependency


async def home(request):
    with SessionLocal() as session:
        session.execute(text("select 1"))
    return None


async def list_items(session: session_dependency):
    return session.execute(text("select 1")).all()


async def added_in_factory(session: session_dependency):
    return session.execute(text("select 2")).all()


routes = [Route("/home", home), APIRoute("/items", list_items, methods=["GET"])]


def create_app() -> FastAPI:
    app = FastAPI(routes=routes)
    app.router.add_api_route("/factory", added_in_factory)
    return app
"""


def test_route_objects_and_factory_registrations_are_routes_check_flags_and_phase_one_converts(cli, app):
    root = app({"api/main.py": ROUTE_OBJECTS})
    _, document = check(cli, root)
    flagged = sorted(f["function"] for f in document["findings"] if f["code"] == "AM301")
    assert flagged == ["added_in_factory", "home", "list_items"]
    document = cli.json("phase1", root)
    assert outcome(document, "home", "convert")["path"] == "/home"
    assert outcome(document, "list_items", "convert")["path"] == "/items"
    # added on `app.router` of the application the factory builds, which the prefix walk does not name
    assert outcome(document, "added_in_factory", "convert")["path"] == "[unknown prefix]/factory"
    assert document["diff"].count("-async def") == 3


def test_near_miss_add_route_on_a_local_that_is_no_router_adds_no_route(cli, app):
    graph = ROUTE_OBJECTS.replace(
        'app.router.add_api_route("/factory", added_in_factory)',
        'graph = Graph()\n    graph.add_route("/factory", added_in_factory)',
    ) + "\n\nclass Graph:\n    def add_route(self, path, handler):\n        pass\n"
    root = app({"api/main.py": graph})
    document = cli.json("phase1", root)
    assert all(h["function"] != "added_in_factory" for h in document["handlers"])
    assert "-async def added_in_factory" not in document["diff"]


DECORATED = """
import functools

from sqlalchemy import text

from db.engine import database_sessionmaker


def with_session(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with database_sessionmaker() as session:
            return fn(session, *args, **kwargs)

    return wrapper


@with_session
def count_rows(session, table):
    return session.execute(text("select 1")).scalar_one()


def plain(table):
    return table


@router.get("/count")
async def count():
    return {"n": count_rows("items")}


@router.get("/plain")
async def plain_route():
    return {"n": plain("items")}
"""


def test_a_helper_whose_session_a_project_decorator_opens_is_session_work(cli, app):
    root = app({"api/items.py": source(HEAD, DECORATED)})
    _, document = check(cli, root)
    assert [f["function"] for f in document["findings"]] == ["count"]
    outcome(cli.json("phase1", root), "count", "convert", "opens its own synchronous Session")


@pytest.mark.parametrize(("opening", "reason"), [
    # through a project context manager
    ("with session_scope() as session:", "which opens its own synchronous Session"),
    # through a helper only returning `database_sessionmaker()`: an opening like the inline one
    ("with open_session() as session:", "which opens its own synchronous Session"),
])
def test_a_decorator_that_opens_its_session_through_a_helper_is_session_work(cli, app, opening, reason):
    helpers = """

        @contextmanager
        def session_scope():
            with database_sessionmaker() as session:
                yield session
                session.commit()


        def open_session():
            return database_sessionmaker()
        """
    decorated = DECORATED.replace("with database_sessionmaker() as session:", opening).replace(
        "import functools", "import functools\nfrom contextlib import contextmanager"
    )
    root = app({"api/items.py": source(HEAD, decorated, helpers)})
    _, document = check(cli, root)
    assert [f["function"] for f in document["findings"]] == ["count"]
    outcome(cli.json("phase1", root), "count", "convert", reason)
    outcome(cli.json("phase1", root), "plain_route", "keep", "does no synchronous Session work")


def test_a_generator_dependency_made_def_is_annotated_with_the_synchronous_iterator(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from collections.abc import AsyncIterator

        from sqlalchemy.orm import Session

        from db.engine import database_sessionmaker


        async def get_session() -> AsyncIterator[Session]:
            with database_sessionmaker() as session:
                yield session
        """, """
        @router.get("/items")
        def list_items(session: Session = Depends(get_session)):
            return []
        """).replace("from fastapi import APIRouter", "from fastapi import APIRouter, Depends")})
    document = cli.json("phase1", root)
    outcome(document, "get_session", "convert")
    assert "+def get_session() -> Iterator[Session]:" in document["diff"]
    assert "+from collections.abc import Iterator" in document["diff"]


def test_the_warnings_do_not_depend_on_the_order_the_workers_answer(cli, project, app_files, monkeypatch):
    # Modules came back in the order the pool (or the cache) answered, and the first read chose
    # the blind spot's examples: the same tree warned differently from run to run.
    from async_migrate.codemods.workers import Pool

    extra = {
        "api/alpha.py": "from fastapi import APIRouter\nfrom services.items import count_items\n\nCOUNT = count_items\n",
        "api/omega.py": "from fastapi import APIRouter\nfrom core import config\n\nSETTINGS = config\n",
        "api/zulu.py": "from fastapi import APIRouter\nfrom services import items\n\nITEMS = items\n",
    }
    root = beside_app(project, app_files, **extra) / "api"
    _, asked = check(cli, root, "--no-cache")
    collect = Pool.collect

    def backwards(self, paths, *args, **kwargs):  # type: ignore[no-untyped-def]
        return reversed(list(collect(self, paths, *args, **kwargs)))

    monkeypatch.setattr(Pool, "collect", backwards)
    _, answered = check(cli, root, "--no-cache")
    assert [w for w in asked["warnings"] if "too deep" in w], asked["warnings"]
    assert answered == asked


PYDANTIC_ROUTE = """\
from fastapi import APIRouter
from pydantic import BaseModel

from app.utils.helpers import count
from app.utils.pydantic import compat

router = APIRouter()


class Out(BaseModel):
    n: int = compat.ZERO


@router.get("/count")
async def count_route():
    return Out(n=count())
"""


def test_a_package_in_a_package_the_imports_name_is_no_root_for_a_library_sharing_its_name(cli, project, app_files):
    # `app/utils/pydantic/__init__.py` (Prefect's `prefect/_internal/pydantic`) is
    # `app.utils.pydantic`, never `pydantic`: every `from pydantic import ...` was counted a project
    # import that could not be resolved, and phase one warned the analysis may miss Session work.
    root = nested_app(project, app_files, "app")
    (root / "app/utils/pydantic").mkdir(parents=True)
    (root / "app/utils/pydantic/__init__.py").write_text("")
    (root / "app/utils/pydantic/compat.py").write_text("ZERO = 0\n")
    (root / "app/utils/helpers.py").write_text(COUNT)
    (root / "app/api/count.py").write_text(PYDANTIC_ROUTE)
    document = cli.json("scan", root)
    assert document.get("warnings", []) == [], document.get("warnings")
    code, report = check(cli, root)
    assert code == 1 and [f["code"] for f in findings(report, "count_route")] == ["AM301"], report


SNOWFLAKE_UTILS = """\
from snowflake.connector.cursor import SnowflakeCursor


def execute(conn, query) -> SnowflakeCursor:
    return conn.cursor().execute(query)
"""

SNOWFLAKE_ROUTE = COUNT_ROUTE.replace(
    "from app.utils.helpers import count", "from app.utils.helpers import count\nfrom app.infra.%s.snowflake_utils import execute"
)


@pytest.mark.parametrize("folder", ["utils/snowflake", "snowflake"])
def test_a_package_below_a_package_the_imports_name_is_never_the_installed_library(cli, project, app_files, folder):
    # `app/infra/utils/snowflake/` (feast's `feast/infra/utils/snowflake/`) is
    # `app.infra.utils.snowflake`: the installed `snowflake.connector` was counted a project import
    # that could not be resolved, and the analysis warned it may miss Session work. One level
    # deeper than the folders a root is looked for in, it was never checked against the package.
    root = nested_app(project, app_files, "app")
    for package in ("app/infra", f"app/infra/{folder}"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    if "/" in folder:
        (root / "app/infra/utils/__init__.py").write_text("")
    (root / f"app/infra/{folder}/snowflake_utils.py").write_text(SNOWFLAKE_UTILS)
    (root / "app/utils/helpers.py").parent.mkdir(parents=True, exist_ok=True)
    (root / "app/utils/helpers.py").write_text(COUNT)
    (root / "app/api/count.py").write_text(SNOWFLAKE_ROUTE % folder.replace("/", "."))
    for path in (root, root / "app"):  # PATH holding the package, and PATH the package itself
        document = cli.json("scan", path)
        warnings = [w for w in document.get("warnings", []) if "could not be resolved" in w or "import root" in w]
        expected = [] if path == root else [w for w in warnings if w.startswith("read PATH as the package `app`")]
        assert warnings == expected, warnings
    code, report = check(cli, root)
    assert code == 1 and [f["code"] for f in findings(report, "count_route")] == ["AM301"], report



def test_a_folder_holding_a_package_named_like_a_library_without_what_it_imports_is_no_root(cli, project, app_files):
    # feast's `feast/templates/snowflake/` (no module of it imported by its dotted name) beside
    # `from snowflake.connector.cursor import ...`: `feast/templates/` was read as the import root,
    # for a package that holds no `connector`; with it not a root, a bare `import snowflake.connector`
    # still counted the installed one a project import. Near miss in the mcp test above: a folder whose
    # modules the imports do name (`from helpers import count`) is still a root.
    root = nested_app(project, app_files, "app")
    (root / "app/templates/snowflake").mkdir(parents=True)
    (root / "app/templates/snowflake/__init__.py").write_text("")
    (root / "app/templates/snowflake/bootstrap.py").write_text("def bootstrap():\n    return 1\n")
    (root / "app/utils").mkdir(parents=True, exist_ok=True)
    (root / "app/utils/helpers.py").write_text("import snowflake.connector\n" + SNOWFLAKE_UTILS + "\n\n" + COUNT)
    (root / "app/api/count.py").write_text(COUNT_ROUTE)
    document = cli.json("scan", root)
    assert [w for w in document.get("warnings", []) if "import root" in w or "could not be resolved" in w] == []
    code, report = check(cli, root)
    assert code == 1 and [f["code"] for f in findings(report, "count_route")] == ["AM301"], report


def test_check_github_shows_the_import_root_notice_as_a_warning(cli, project, app_files):
    # A platform-team trial: the notice was in check's JSON `warnings` and on standard error, not
    # among the workflow commands the pull request shows.
    root = nested_app(project, app_files, "backend/app")
    result = cli("check", str(root), "--format", "github")
    notice = "read `backend/` as the import root (from the imports); set src in [tool.async-migrate] to say so explicitly"
    assert f"::warning title=async-migrate::{notice}" in result.stdout.splitlines(), result.stdout
    assert result.exit_code == 1  # a notice is no reason to fail the run

    # near miss: test_check.py's github test, on a project read from PATH itself: ::error lines only
