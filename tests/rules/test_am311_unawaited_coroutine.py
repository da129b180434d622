"""AM311 unawaited-coroutine: a handler calling a project coroutine function without `await`."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

from rules.conftest import GENERIC_REPOSITORIES, GENERIC_REPOSITORIES_PEP695

HELPERS = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def count_rows(db: AsyncSession) -> int:
    return await db.scalar(text("select 1"))
"""
ROUTES = """
import asyncio

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_db_session
from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


@router.get("/forgot")
async def forgot(db: AsyncSession = Depends(get_async_db)):
    return {"n": count_rows(db)}


@router.get("/sync")
def from_def(db: Session = Depends(get_db_session)):
    return {"n": count_rows(db)}


@router.get("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    task = asyncio.create_task(count_rows(db))
    return {"n": await count_rows(db), "t": await task}


@router.get("/held")
async def held(db: AsyncSession = Depends(get_async_db)):
    pending = count_rows(db)
    task = asyncio.get_running_loop().create_task(pending)
    return {"t": await task}
"""
FILES = {"services/__init__.py": "", "services/rows.py": HELPERS}


def test_an_unawaited_coroutine_call_is_am311_in_async_and_def_handlers(app, findings):
    root = app(ROUTES, FILES)
    for function, fix in (("forgot", "await it"), ("from_def", "a `def` route cannot await")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM311"], found
        assert "without `await` at line" in found[0]["message"] and fix in found[0]["message"], found


def test_near_miss_awaited_or_handed_to_create_task_and_the_helper_stays_an_async_session_helper(app, findings):
    # The def route handing the helper a synchronous Session does not make the helper's
    # AsyncSession parameter a synchronous one (no AM302 on the correct routes).
    root = app(ROUTES, FILES)
    assert findings(root, "fine") == []
    assert findings(root, "held") == []  # the coroutine a local name holds, handed to create_task


def test_near_miss_an_async_generator_is_iterated_not_awaited(app, findings):
    # `await` on an async generator raises TypeError: AM311's fix would break the route.
    source = """
from sqlalchemy.ext.asyncio import AsyncSession
from fastapi import Depends


async def get_async_db() -> AsyncSession: ...


async def lines(db: AsyncSession):
    for n in (await db.scalars("select 1")).all():
        yield str(n)


@router.get("/lines")
async def all_lines(db: AsyncSession = Depends(get_async_db)):
    return [line async for line in lines(db)]
"""
    assert findings(app(source), "all_lines") == []


LATER = """
import asyncio

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


@router.get("/later")
async def later(db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)
    try:
        n = 1
    finally:
        pass
    return await c + n


@router.get("/gathered")
async def gathered(db: AsyncSession = Depends(get_async_db)):
    coros = []
    for _ in range(2):
        coros.append(count_rows(db))
    inline = asyncio.gather(*[count_rows(db) for _ in range(2)])
    return [*await asyncio.gather(*coros), *await inline]


@router.get("/unpacked")
async def unpacked(db: AsyncSession = Depends(get_async_db)):
    a, b = count_rows(db), count_rows(db)
    (c, d) = [count_rows(db), count_rows(db)]
    return await asyncio.gather(a, b) + [await c, await d]


@router.get("/timed")
async def timed(db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)
    return await asyncio.wait_for(c, 5)


@router.get("/each")
async def each(db: AsyncSession = Depends(get_async_db)):
    coros = [count_rows(db) for _ in range(2)]
    return [await c for c in coros]


@router.get("/branch")
async def branch(flag: bool, db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)  # lost
    if flag:
        return await c
    return {}


@router.get("/raised")
async def raised(flag: bool, db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)  # lost
    if flag:
        raise ValueError(flag)
    return await c


@router.get("/rebound")
async def rebound(db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)  # lost
    for _ in range(2):
        c = count_rows(db)  # lost
    return await c


@router.get("/unawaited_wait_for")
async def unawaited_wait_for(flag: bool, db: AsyncSession = Depends(get_async_db)):
    c = count_rows(db)  # lost
    asyncio.wait_for(c, 5)
    pending = count_rows(db)  # lost
    if flag:
        await asyncio.gather(pending)
    return {}


@router.get("/half_unpacked")
async def half_unpacked(db: AsyncSession = Depends(get_async_db)):
    a, b = count_rows(db), count_rows(db)  # lost
    return await a


@router.get("/broken_off")
async def broken_off(db: AsyncSession = Depends(get_async_db)):
    coros = [count_rows(db) for _ in range(2)]  # lost
    for c in coros:
        await c
        break
"""


def test_a_coroutine_a_local_name_holds_and_runs_on_every_path_after_is_no_am311(app, findings):
    root = app(LATER, FILES)
    for function in ("later", "timed", "each"):
        assert findings(root, function) == [], function
    # run, but gathered on one AsyncSession: that is AM325's finding, not a lost coroutine
    for function in ("gathered", "unpacked"):
        assert [f["code"] for f in findings(root, function)] == ["AM325"], function


def test_near_miss_a_held_coroutine_some_path_never_runs_is_still_am311(app, findings):
    # A branch or a `raise` leaving it, the name bound again first (a loop's earlier ones), a
    # `wait_for` nobody awaits, a `gather` on one branch only, a loop that breaks off.
    root = app(LATER, FILES)
    written = (root / "api/items.py").read_text().splitlines()
    lost = [number for number, line in enumerate(written, 1) if line.endswith("# lost")]
    reported = []
    for function in ("branch", "raised", "rebound", "unawaited_wait_for", "half_unpacked", "broken_off"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM311"], (function, found)
        reported += [b["line"] for b in found[0]["blocking"]]
    assert sorted(reported) == lost  # the last `c` of the loop is awaited, its earlier ones are not


WRAPPED = """
import asyncio
from asyncio import wait_for

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


@router.get("/dropped")
async def dropped(db: AsyncSession = Depends(get_async_db)):
    asyncio.wait_for(count_rows(db), 5)  # lost
    return {}


@router.get("/imported")
async def imported(db: AsyncSession = Depends(get_async_db)):
    wait_for(count_rows(db), timeout=5)  # lost
    return {}


@router.get("/timed")
async def timed(db: AsyncSession = Depends(get_async_db)):
    return {"n": await asyncio.wait_for(count_rows(db), 5)}


@router.get("/timed_later")
async def timed_later(db: AsyncSession = Depends(get_async_db)):
    pending = asyncio.wait_for(count_rows(db), 5)
    return {"n": await pending}


@router.get("/scheduled")
async def scheduled(db: AsyncSession = Depends(get_async_db)):
    task = asyncio.create_task(asyncio.wait_for(count_rows(db), 5))
    return {"n": await task}
"""


def test_a_coroutine_handed_to_a_wait_for_nothing_awaits_is_am311(app, findings):
    root = app(WRAPPED, FILES)
    written = (root / "api/items.py").read_text().splitlines()
    lost = [number for number, line in enumerate(written, 1) if line.endswith("# lost")]
    reported = []
    for function in ("dropped", "imported"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM311"], (function, found)
        assert "wait_for(services.rows.count_rows(...))" in found[0]["message"], found
        reported += [b["line"] for b in found[0]["blocking"]]
    assert reported == lost


def test_near_miss_a_wait_for_awaited_held_and_awaited_or_scheduled_is_no_am311(app, findings):
    root = app(WRAPPED, FILES)
    for function in ("timed", "timed_later", "scheduled"):
        assert findings(root, function) == [], function


# Code moved to AsyncSession by hand, with a call still written for the synchronous Session.
BY_HAND = """
import asyncio

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.writes import save, save_awaited


async def get_async_db() -> AsyncSession: ...


@router.post("/own")
async def own(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    db.commit()


@router.post("/deep")
async def deep(db: AsyncSession = Depends(get_async_db)):
    await save(db)


@router.post("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    c = db.flush()
    await c
    await asyncio.wait_for(db.commit(), 5)
    rows = (await db.scalars(text("select 1"))).all()
    await db.run_sync(lambda s: s.execute(text("select 1")))
    await save_awaited(db)
    return rows
"""
WRITES = """
from sqlalchemy.ext.asyncio import AsyncSession


async def save(session: AsyncSession) -> None:
    session.add(object())
    session.commit()


async def save_awaited(session: AsyncSession) -> None:
    await session.commit()
"""


def test_an_async_session_method_called_without_await_is_am311_in_the_handler_and_its_callees(app, findings):
    root = app(BY_HAND, {"services/__init__.py": "", "services/writes.py": WRITES})
    found = findings(root, "own")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "line 23 (db.commit())" in found[0]["message"], found
    found = findings(root, "deep")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "services/writes.py:6 (session.commit() in services.writes.save)" in found[0]["message"], found


def test_near_miss_awaited_held_or_handed_async_session_calls_are_no_am311(app, findings):
    root = app(BY_HAND, {"services/__init__.py": "", "services/writes.py": WRITES})
    assert findings(root, "fine") == []


# A repository holding the AsyncSession its `__init__` declares: its methods call it through
# `self.session`, never a bare name.
REPOSITORY = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def get_async_db() -> AsyncSession: ...


class Orders:
    def __init__(self, session: AsyncSession, other) -> None:
        self.session = session
        self.other = other

    async def count(self):
        result = self.session.execute(text("select 1"))
        return result

    async def save(self) -> None:
        self.session.add(object())
        await self.session.commit()
        self.other.commit()


@router.get("/count")
async def count(db: AsyncSession = Depends(get_async_db)):
    return {"n": await Orders(db, None).count()}


@router.post("/save")
async def save(db: AsyncSession = Depends(get_async_db)):
    await Orders(db, None).save()
"""


def test_an_unawaited_call_on_the_async_session_a_repository_holds_is_am311(app, findings):
    found = findings(app(REPOSITORY), "count")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "(self.session.execute() in api.items.Orders.count)" in found[0]["message"], found


def test_near_miss_awaited_calls_on_the_held_session_and_an_undeclared_attribute(app, findings):
    assert findings(app(REPOSITORY), "save") == []


def test_scan_says_the_unawaited_call_beside_the_async_session(app, reported):
    entry = reported(app(REPOSITORY), "count")
    assert "without `await` at" in entry["reasons"][0] and "(AM311)" in entry["reasons"][0], entry
    assert "but" not in reported(app(REPOSITORY), "save")["reasons"][0]


@pytest.mark.parametrize(("function", "where"), [
    ("generic_save", "AsyncBooks.save"), ("inherited_save", "InheritedBooks.save"),
])
def test_an_unawaited_call_on_the_async_session_an_inherited_init_keeps_is_am311(
    generic_repositories, findings, function, where
):
    found = findings(generic_repositories, function)
    assert [f["code"] for f in found] == ["AM311"], found
    assert f"(self.session.commit() in api.items.{where})" in found[0]["message"], found


def test_near_miss_the_generic_repository_awaits_its_commit(generic_repositories, findings):
    assert findings(generic_repositories, "awaited_save") == []


# Each repository built by a dependency, as a route's parameter.
BUILT_BY_DEPENDENCIES = """


async def async_books(db: AsyncSession = Depends(get_async_db)) -> AsyncBooks:
    return AsyncBooks(db)


def sync_books(db: Session = Depends(get_db_session)) -> SyncBooks:
    return SyncBooks(db)


@router.post("/depended")
async def depended_save(books: AsyncBooks = Depends(async_books)):
    await books.save(Book(title="x", author_id=1))


@router.get("/depended")
async def depended_count(books: SyncBooks = Depends(sync_books)):
    return {"n": books.count()}
"""


@pytest.mark.parametrize("function", [
    "sync_count", "async_count", "generic_author", "eager_author", "leaf_author", "generic_save", "awaited_save",
    "depended_save", "depended_count",
])
def test_a_repository_generic_over_the_session_by_type_parameters_reads_as_by_typevars(app, findings, function):
    # Python 3.11 reads `class Repository[SessionT: (Session, AsyncSession)]` through libcst,
    # which dropped the parameters: each subclass's `self.session` was the join of what every
    # subclass is built with, a synchronous Session, and an unawaited commit was AM301.
    typevars = app(GENERIC_REPOSITORIES + BUILT_BY_DEPENDENCIES, {"models.py": MODELS})
    codes = [f["code"] for f in findings(typevars, function)]
    parameters = app(GENERIC_REPOSITORIES_PEP695 + BUILT_BY_DEPENDENCIES, {"models.py": MODELS})
    assert [f["code"] for f in findings(parameters, function)] == codes, function
    if function == "depended_save":
        assert codes == ["AM311"], codes


# Handed to a builtin that takes the coroutine as any other object: nothing of it runs.
IDLE = """
import asyncio

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


@router.get("/printed")
async def printed(db: AsyncSession = Depends(get_async_db)):
    print(count_rows(db))
    return {}


@router.get("/tested")
async def tested(db: AsyncSession = Depends(get_async_db)):
    return {"ok": bool(count_rows(db))}


@router.get("/committed")
async def committed(db: AsyncSession = Depends(get_async_db)):
    print(db.commit())
    return {}


@router.get("/shielded")
async def shielded(db: AsyncSession = Depends(get_async_db)):
    return {"n": await asyncio.shield(count_rows(db)), "c": await asyncio.shield(db.commit())}
"""


@pytest.mark.parametrize(("function", "text"), [
    ("printed", "services.rows.count_rows(...)"), ("tested", "services.rows.count_rows(...)"),
    ("committed", "db.commit()"),
])
def test_a_coroutine_handed_to_a_builtin_that_never_runs_it_is_am311(app, findings, function, text):
    found = findings(app(IDLE, FILES), function)
    assert [f["code"] for f in found] == ["AM311"], found
    assert "without `await` at line" in found[0]["message"] and f"({text})" in found[0]["message"], found


def test_near_miss_a_coroutine_handed_to_what_runs_it_is_no_am311(app, findings):
    assert findings(app(IDLE, FILES), "shielded") == []


def test_near_miss_a_function_looked_up_by_name_that_may_be_synchronous_is_no_am311(app, findings):
    # crud holds a coroutine function beside the synchronous one the `def` route means to run
    crud = (
        "from sqlalchemy import text\nfrom sqlalchemy.ext.asyncio import AsyncSession\nfrom sqlalchemy.orm import Session\n\n\n"
        "def count(db: Session) -> int:\n    return db.scalar(text('select 1'))\n\n\n"
        "async def count_async(db: AsyncSession) -> int:\n    return await db.scalar(text('select 1'))\n"
    )
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy.orm import Session

        import crud
        from db.engine import get_db_session


        @router.get("/run/{name}")
        def run(name: str, db: Session = Depends(get_db_session)):
            return {"value": getattr(crud, name)(db)}
        """,
        {"crud.py": crud},
    )
    assert [f["code"] for f in findings(root, "run")] == []


DECORATED = """
import asyncio
import functools

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from vendor_sdk import dual_mode


def sync_compatible(async_fn):
    # runs the coroutine when called outside an event loop, as Prefect's does
    @functools.wraps(async_fn)
    def coroutine_wrapper(*args, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(async_fn(*args, **kwargs))
        return async_fn(*args, **kwargs)

    wrapper = coroutine_wrapper
    return wrapper


def run_sync(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return asyncio.run(func(*args, **kwargs))

    return wrapper


def timed(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)

    return wrapper


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@run_sync
async def reset(db: AsyncSession) -> None:
    await db.execute(text("update runners set stopped = 0"))


@logged
async def touch(db: AsyncSession) -> None:
    await db.execute(text("update runners set seen = 1"))


@sync_compatible
async def stop(db: AsyncSession) -> None:
    await db.execute(text("update runners set stopped = 1"))


@dual_mode
async def pause(db: AsyncSession) -> None:
    await db.execute(text("update runners set paused = 1"))


@timed
async def count(db: AsyncSession) -> int:
    return await db.scalar(text("select count(*) from runners"))
"""
DECORATED_ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from services.runners import count, pause, reset, stop, touch


@router.post("/stop")
def stop_all(db: Session = Depends(get_db_session)):
    stop(db)
    pause(db)
    reset(db)
    return {}


@router.post("/touch")
def touch_all(db: Session = Depends(get_db_session)):
    touch(db)
    return {}


@router.get("/count")
def count_all(db: Session = Depends(get_db_session)):
    return {"n": count(db)}


@router.get("/refresh")
async def refresh(db: Session = Depends(get_db_session)):
    return {"n": 0}


@router.post("/warm")
def warm(db: Session = Depends(get_db_session)):
    refresh(db)
    return {}
"""


def test_a_decorator_not_known_to_keep_a_coroutine_function_is_no_am311(app, findings):
    # `@sync_compatible` returns a plain wrapper that may run the coroutine, `@run_sync` one that
    # runs it, `@dual_mode` comes from outside PATH: what calling each gives is not known to be a
    # coroutine
    root = app(DECORATED_ROUTES, {"services/__init__.py": "", "services/runners.py": DECORATED})
    assert findings(root, "stop_all") == []


@pytest.mark.parametrize("function", ["count_all", "warm", "touch_all"])
def test_near_miss_a_decorator_keeping_a_coroutine_function_still_is_am311(app, findings, function):
    # an `async def` wrapper awaiting it, a route decorator registering it, a plain wrapper
    # returning `func(...)`: still a coroutine
    root = app(DECORATED_ROUTES, {"services/__init__.py": "", "services/runners.py": DECORATED})
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM311"], found


THREADED = """
import asyncio
import functools

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.ext.asyncio import AsyncSession

from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


class RowsAsync:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def count(self) -> int:
        return await count_rows(self.db)


@router.get("/lambda")
async def in_lambda(db: AsyncSession = Depends(get_async_db)):
    repo = RowsAsync(db)
    return {"n": await run_in_threadpool(lambda: repo.count())}


@router.get("/session-lambda")
async def session_in_lambda(db: AsyncSession = Depends(get_async_db)):
    return {"n": await asyncio.to_thread(lambda: db.scalar("select 1"))}


@router.get("/nested")
async def in_nested_def(db: AsyncSession = Depends(get_async_db)):
    def load():
        return count_rows(db)

    loop = asyncio.get_running_loop()
    return {"n": await loop.run_in_executor(None, load)}


@router.get("/handed")
async def handed(db: AsyncSession = Depends(get_async_db)):
    return {"n": await run_in_threadpool(functools.partial(count_rows, db))}


@router.get("/in-place")
async def in_place(db: AsyncSession = Depends(get_async_db)):
    repo = RowsAsync(db)
    return {"n": await repo.count(), "m": await run_in_threadpool(lambda: asyncio.run(count_rows(db)))}
"""


def test_a_coroutine_called_in_a_function_run_in_a_worker_thread_is_am311(app, findings):
    # The thread hands back the coroutine: nothing awaits it, nothing in it runs (a 200, no rows).
    root = app(THREADED, FILES)
    for function, shown in (
        ("in_lambda", "line 32 (api.items.RowsAsync.count(...) in a function run in a worker thread)"),
        ("session_in_lambda", "line 37 (db.scalar() in a function run in a worker thread)"),
        ("in_nested_def", "line 43 (services.rows.count_rows(...) in a function run in a worker thread)"),
        ("handed", "line 51 (services.rows.count_rows(...) in a function run in a worker thread)"),
    ):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM311"], found
        assert f"without `await` at {shown}" in found[0]["message"], found


def test_near_miss_a_coroutine_awaited_on_the_loop_or_run_by_the_thread_is_no_am311(app, findings):
    # `asyncio.run(...)` in the thread runs the coroutine on a loop of its own.
    assert findings(app(THREADED, FILES), "in_place") == []
