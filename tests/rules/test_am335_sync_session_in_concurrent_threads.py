"""AM335 sync-session-in-concurrent-threads: `check` flags calls run in worker threads on the
handler's one synchronous Session that may run at the same time (gather, tasks, a task group),
and leaves offloads awaited one after another and offloads each on a Session of its own. Each
near miss sits beside a handler that is flagged in the same application, so it fails without
the rule too. AM301's advice for `async def` helpers gathered on one Session no longer says to
wrap each in `run_in_threadpool`, and `--offload-mixed` offloads nothing beside such a task."""

from __future__ import annotations

HELPERS = """
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


def order_count(db: Session, customer_id: int) -> int:
    return db.scalar(text("select count(*) from orders"))


def order_total(db: Session, customer_id: int) -> int:
    return db.scalar(text("select sum(total) from orders"))


def count_own(customer_id: int) -> int:
    with database_sessionmaker() as session:
        return session.scalar(text("select count(*) from orders"))


def touch(db: Session) -> None:
    db.commit()
"""
HEAD = """
import asyncio

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from db.engine import database_sessionmaker
from services.helpers import count_own, order_count, order_total, touch
"""
FILES = {"services/__init__.py": ""}

# The rule's Before and After (its docstring's example, in this application's names).
BEFORE = """
@router.get("/c/{customer_id}/summary")
async def before(customer_id: int, db: session_dependency):
    count, total = await asyncio.gather(
        run_in_threadpool(order_count, db, customer_id), run_in_threadpool(order_total, db, customer_id)
    )
    return {"count": count, "total": total}
"""
AFTER = """
def _summary(db, customer_id: int) -> tuple[int, int]:
    return order_count(db, customer_id), order_total(db, customer_id)


@router.get("/c/{customer_id}/after")
async def after(customer_id: int, db: session_dependency):
    count, total = await run_in_threadpool(_summary, db, customer_id)
    return {"count": count, "total": total}
"""


def _found(app, cli, routes: str) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    root = app(HEAD + routes, {**FILES, "services/helpers.py": HELPERS})
    document = cli.json("check", root)
    found: dict[str, list[dict]] = {}
    for finding in document["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    return found


def _am335(found: dict[str, list[dict]], function: str) -> list[dict]:
    return [f for f in found.get(function, []) if f["code"] == "AM335"]


def _flagged(found: dict[str, list[dict]], function: str, *words: str) -> str:
    hits = _am335(found, function)
    assert len(hits) == 1, (function, found.get(function))
    message = hits[0]["message"]
    assert "may run at the same time" in message and "not thread-safe" in message, message
    for word in words:
        assert word in message, (word, message)
    return message


def _clean_beside(found: dict[str, list[dict]], clean: str, off_the_loop: bool = True) -> None:
    """A near miss is clean while the Before handler beside it, in the same application, is flagged;
    `off_the_loop`: no other finding either, the Session work all runs in worker threads."""
    _flagged(found, "before")
    assert _am335(found, clean) == [], found.get(clean)
    if off_the_loop:
        assert found.get(clean, []) == [], found.get(clean)


def test_two_offloads_on_one_session_in_one_gather_are_am335(app, cli):
    found = _found(app, cli, BEFORE)
    _flagged(found, "before", "2 calls running in worker threads on the Session `db`",
             "`services.helpers.order_count()` given `db`", "`services.helpers.order_total()` given `db`",
             "`asyncio.gather()` at line")


def test_scan_says_the_offloads_of_a_gather_share_one_session(app, reported):
    # "nothing blocks the event loop" alone would be an all-clear for a thread-safety bug
    root = app(HEAD + BEFORE, {**FILES, "services/helpers.py": HELPERS})
    (reason,) = [r for r in reported(root, "before")["reasons"] if "worker thread" in r]
    assert "nothing blocks the event loop; but those threads may use one Session at the same time" in reason, reason
    assert "(check's AM335)" in reason, reason


def test_the_after_is_a_near_miss(app, cli):
    _clean_beside(_found(app, cli, BEFORE + AFTER), "after")


def test_near_miss_offloads_awaited_one_after_another(app, cli):
    routes = BEFORE + """
@router.get("/c/{customer_id}/seq")
async def in_turn(customer_id: int, db: session_dependency):
    count = await run_in_threadpool(order_count, db, customer_id)
    total = await asyncio.to_thread(order_total, db, customer_id)
    return {"count": count, "total": total}
"""
    _clean_beside(_found(app, cli, routes), "in_turn")


def test_near_miss_offloads_each_on_a_session_of_its_own(app, cli):
    routes = BEFORE + """
@router.get("/c/{customer_id}/own")
async def own_sessions(customer_id: int):
    with database_sessionmaker() as a, database_sessionmaker() as b:
        count, total = await asyncio.gather(
            run_in_threadpool(order_count, a, customer_id), run_in_threadpool(order_total, b, customer_id)
        )
    return {"count": count, "total": total}


@router.get("/c/{customer_id}/opening")
async def opening(customer_id: int, db: session_dependency):
    first, second = await asyncio.gather(
        run_in_threadpool(count_own, customer_id), run_in_threadpool(count_own, customer_id + 1)
    )
    one = await run_in_threadpool(order_count, db, customer_id)
    return {"n": first + second + one}
"""
    found = _found(app, cli, routes)
    _clean_beside(found, "own_sessions", off_the_loop=False)  # its `with` opens and closes them on the loop
    _clean_beside(found, "opening")


def test_a_task_group_a_task_and_an_executor_are_am335(app, cli):
    routes = """
@router.get("/c/{customer_id}/group")
async def grouped(customer_id: int, db: session_dependency):
    async with asyncio.TaskGroup() as tg:
        count = tg.create_task(run_in_threadpool(order_count, db, customer_id))
        total = tg.create_task(asyncio.to_thread(order_total, db, customer_id))
    return {"count": count.result(), "total": total.result()}


@router.get("/c/{customer_id}/task")
async def tasked(customer_id: int, db: session_dependency):
    task = asyncio.create_task(run_in_threadpool(order_count, db, customer_id))
    total = await run_in_threadpool(order_total, db, customer_id)
    return {"count": await task, "total": total}


@router.get("/c/{customer_id}/executor")
async def executor(customer_id: int, db: session_dependency):
    loop = asyncio.get_running_loop()
    return await asyncio.gather(
        loop.run_in_executor(None, order_count, db, customer_id), asyncio.to_thread(db.scalar, text("select 1"))
    )


@router.get("/c/{customer_id}/each")
async def each(customer_id: int, db: session_dependency):
    return await asyncio.gather(*[run_in_threadpool(order_count, db, i) for i in range(customer_id)])
"""
    found = _found(app, cli, routes)
    _flagged(found, "grouped", "while that task runs, `tg.create_task()` at line", "runs more work on the Session `db`")
    _flagged(found, "tasked", "while that task runs", "`services.helpers.order_total()` given `db` runs in a worker thread")
    _flagged(found, "executor", "2 calls", "`db.scalar()`")
    _flagged(found, "each", "made once per round of a loop or comprehension")


GATHERED_COROUTINES = """
async def _count(db, customer_id: int) -> int:
    return order_count(db, customer_id)


async def _total(db, customer_id: int) -> int:
    return order_total(db, customer_id)


@router.get("/c/{customer_id}/coroutines")
async def coroutines(customer_id: int, db: session_dependency):
    count, total = await asyncio.gather(_count(db, customer_id), _total(db, customer_id))
    return {"count": count, "total": total}
"""


def test_am301_advice_for_gathered_helpers_on_one_session_is_one_offloaded_helper(app, cli):
    # Wrapping each `async def` helper in `run_in_threadpool` inside the gather is AM335's shape.
    found = _found(app, cli, GATHERED_COROUTINES)
    (hit,) = [f for f in found["coroutines"] if f["code"] == "AM301"]
    message = hit["message"]
    assert "call it as `await run_in_threadpool(_count" not in message, message
    assert "call it with `await run_in_threadpool(_count" not in message, message
    assert "into one plain def helper running them one after another" in message, message
    assert "`asyncio.gather()` at line" in message, message


def test_near_miss_offload_mixed_leaves_a_call_beside_a_running_offload(app, cli):
    routes = """
@router.get("/c/{customer_id}/beside")
async def beside(customer_id: int, db: session_dependency):
    task = asyncio.create_task(run_in_threadpool(order_count, db, customer_id))
    touch(db)
    return {"count": await task}


async def refresh(db) -> None:
    order_count(db, 1)


@router.get("/c/{customer_id}/coroutine")
async def beside_coroutine(customer_id: int, db: session_dependency):
    task = asyncio.create_task(refresh(db))
    touch(db)
    await task


@router.get("/c/{customer_id}/alone")
async def alone(customer_id: int, db: session_dependency):
    await asyncio.sleep(0)
    touch(db)
    return {"count": 1}
"""
    root = app(HEAD + routes, {**FILES, "services/helpers.py": HELPERS})
    document = cli.json("phase1", root, "--offload-mixed")
    handlers = {h["function"]: h for h in document["handlers"]}
    for kept in ("beside", "beside_coroutine"):  # the task works on `db` while touch(db) would, in a thread
        assert not any("offloaded the blocking helper calls" in r for r in handlers[kept]["reasons"]), handlers[kept]
    assert any("offloaded the blocking helper calls" in r for r in handlers["alone"]["reasons"]), handlers["alone"]
    found = _found(app, cli, routes)
    _flagged(found, "beside", "while that task runs", "`services.helpers.touch()`, given `db`, runs at line")
    for kept in ("beside", "beside_coroutine"):  # and check's fix does not offer it either
        (hit,) = [f for f in found[kept] if f["code"] == "AM301"]
        assert "--offload-mixed` wraps" not in hit["message"], hit["message"]
        assert "run while a task given the same Session still runs" in hit["message"], hit["message"]


# Offloads on one Session running at once without `gather` or a task made of a coroutine: a
# future `run_in_executor` started at once and awaited later, a task group given the offloading
# function itself, lambdas run in threads, and bound methods of one object holding the Session.
UNSCHEDULED = """
@router.get("/c/{customer_id}/future")
async def future(customer_id: int, db: session_dependency):
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(None, order_count, db, customer_id)
    total = await loop.run_in_executor(None, order_total, db, customer_id)
    return {"count": await pending, "total": total}


@router.get("/c/{customer_id}/started")
async def started(customer_id: int, db: session_dependency):
    async with anyio.create_task_group() as tg:
        tg.start_soon(to_thread.run_sync, order_count, db, customer_id)
        tg.start_soon(run_in_threadpool, order_total, db, customer_id)
    return {}


@router.get("/c/{customer_id}/lambdas")
async def lambdas(customer_id: int, db: session_dependency):
    return await asyncio.gather(
        asyncio.to_thread(lambda: helpers.order_count(db, customer_id)), run_in_threadpool(order_total, db, customer_id)
    )


@router.get("/c/{customer_id}/methods")
async def methods(customer_id: int, db: session_dependency):
    ledger = Ledger(db)
    return await asyncio.gather(to_thread.run_sync(ledger.count, customer_id), asyncio.to_thread(ledger.total, 1))
"""
LEDGER = '''
class Ledger:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self, customer_id: int) -> int:
        return self.db.scalar(text("select count(*) from orders"))

    def total(self, customer_id: int) -> int:
        return self.db.scalar(text("select sum(total) from orders"))
'''
UNSCHEDULED_HEAD = """
import anyio
from anyio import to_thread

from services import helpers
from services.helpers import Ledger
"""


def test_offloads_running_at_once_without_a_gathered_coroutine_are_am335(app, cli):
    root = app(HEAD + UNSCHEDULED_HEAD + UNSCHEDULED, {**FILES, "services/helpers.py": HELPERS + LEDGER})
    found: dict[str, list[dict]] = {}
    for finding in cli.json("check", root)["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    _flagged(found, "future", "to `loop.run_in_executor()` at line", "while that task runs",
             "`services.helpers.order_total()` given `db` runs in a worker thread")
    assert [f["code"] for f in found["future"]] == ["AM335"], found["future"]
    _flagged(found, "started", "to `tg.start_soon()` at line", "runs more work on the Session `db`")
    assert [f["code"] for f in found["started"]] == ["AM335"], found["started"]  # no longer "on the event loop"
    _flagged(found, "lambdas", "2 calls", "`services.helpers.order_count()` given `db`")
    _flagged(found, "methods", "the Session `ledger` holds", "`services.helpers.Ledger.count()` on `ledger`")


def test_near_miss_futures_tasks_and_methods_one_at_a_time(app, cli):
    routes = BEFORE + UNSCHEDULED_HEAD + """
@router.get("/c/{customer_id}/joined")
async def joined(customer_id: int, db: session_dependency):
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(None, order_count, db, customer_id)
    count = await pending
    total = await loop.run_in_executor(None, order_total, db, customer_id)
    return {"count": count, "total": total}


@router.get("/c/{customer_id}/own-groups")
async def own_groups(customer_id: int):
    with database_sessionmaker() as a, database_sessionmaker() as b:
        async with anyio.create_task_group() as tg:
            tg.start_soon(to_thread.run_sync, order_count, a, customer_id)
            tg.start_soon(to_thread.run_sync, order_total, b, customer_id)
    return {}


@router.get("/c/{customer_id}/two-ledgers")
async def two_ledgers(customer_id: int):
    with database_sessionmaker() as a, database_sessionmaker() as b:
        first, second = Ledger(a), Ledger(b)
        return await asyncio.gather(to_thread.run_sync(first.count, 1), to_thread.run_sync(second.count, 2))


@router.get("/c/{customer_id}/ledger-in-turn")
async def ledger_in_turn(customer_id: int, db: session_dependency):
    ledger = Ledger(db)
    count = await to_thread.run_sync(ledger.count, customer_id)
    return {"count": count, "total": await asyncio.to_thread(lambda: helpers.order_total(db, customer_id))}
"""
    root = app(HEAD + routes, {**FILES, "services/helpers.py": HELPERS + LEDGER})
    found: dict[str, list[dict]] = {}
    for finding in cli.json("check", root)["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    for name in ("joined", "own_groups", "two_ledgers"):
        _clean_beside(found, name, off_the_loop=False)
    _clean_beside(found, "ledger_in_turn")
