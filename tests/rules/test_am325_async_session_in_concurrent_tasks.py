"""AM325 async-session-in-concurrent-tasks: `check` flags coroutines working on the handler's one
AsyncSession that the event loop may run at the same time (gather, tasks, a task group), and
leaves one such coroutine beside work without the AsyncSession, a task joined before the next
use, and coroutines opening a Session of their own. Each near miss sits beside a handler that
is flagged in the same application, so it fails without the rule too."""

from __future__ import annotations

HELPERS = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

Maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def count(db: AsyncSession, i: int = 0) -> int:
    return (await db.execute(text("select 1"))).scalar_one()


async def count_own(i: int = 0) -> int:
    async with Maker() as s:
        return (await s.execute(text("select 1"))).scalar_one()


async def fetch_weather() -> int:
    return 1


def make_jobs(db: AsyncSession, ids: list[int]) -> list:
    return [count(db, i) for i in ids]


class Repo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def books(self) -> int:
        return (await self.db.execute(text("select 1"))).scalar_one()

    async def authors(self) -> int:
        return (await self.db.execute(text("select 2"))).scalar_one()

    async def both(self) -> list:
        import asyncio

        return await asyncio.gather(self.books(), self.authors())


async def stats(db: AsyncSession) -> list:
    import asyncio

    return await asyncio.gather(count(db), count(db, 1))
"""
HEAD = """
import asyncio

import anyio
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.helpers import Repo, count, count_own, fetch_weather, make_jobs, stats


async def get_async_db() -> AsyncSession: ...


def get_repo(db: AsyncSession = Depends(get_async_db)) -> Repo:
    return Repo(db)
"""
FILES = {"services/__init__.py": ""}


def _codes(app, cli, routes: str) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    root = app(HEAD + routes, {**FILES, "services/helpers.py": HELPERS})
    document = cli.json("check", root)
    found: dict[str, list[dict]] = {}
    for finding in document["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    return found


def _am325(found: dict[str, list[dict]], function: str) -> list[dict]:
    return [f for f in found.get(function, []) if f["code"] == "AM325"]


def _clean_beside(found: dict[str, list[dict]], flagged: str, clean: str) -> None:
    """A near miss is clean while the handler beside it, in the same application, is flagged."""
    _flagged(found, flagged)
    assert _am325(found, clean) == [], found.get(clean)


def _flagged(found: dict[str, list[dict]], function: str, *words: str) -> str:
    hits = _am325(found, function)
    assert len(hits) == 1, (function, found.get(function))
    message = hits[0]["message"]
    assert "may run at the same time" in message and "unverified" not in message, message
    for word in words:
        assert word in message, (word, message)
    return message


GATHERED = """
@router.get("/a")
async def gathered(db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(count(db), count(db, 1))


@router.get("/w")
async def with_weather(db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(count(db), fetch_weather())
"""


def test_two_session_coroutines_in_one_gather_are_am325(app, cli):
    found = _codes(app, cli, GATHERED)
    _flagged(found, "gathered", "2 coroutines", "`services.helpers.count()` given the AsyncSession `db`",
             "`asyncio.gather()`")


def test_near_miss_one_session_coroutine_beside_work_without_it_is_clean(app, cli):
    found = _codes(app, cli, GATHERED)
    _clean_beside(found, "gathered", "with_weather")


def test_a_list_built_first_and_a_comprehension_are_am325(app, cli):
    found = _codes(app, cli, GATHERED + """

@router.get("/l")
async def listed(db: AsyncSession = Depends(get_async_db)):
    coros = [count(db)]
    coros.append(count(db, 2))
    return await asyncio.gather(*coros)


@router.get("/c")
async def comprehended(ids: list[int], db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(*[count(db, i) for i in ids])


@router.get("/p")
async def appended(ids: list[int], db: AsyncSession = Depends(get_async_db)):
    coros = []
    for i in ids:
        coros.append(count(db, i))
    done, _ = await asyncio.wait(coros)
    return len(done)
""")
    _flagged(found, "listed", "2 coroutines")
    _flagged(found, "comprehended", "made once per round")
    _flagged(found, "appended", "made once per round", "`asyncio.wait()`")


def test_near_miss_a_gather_awaited_inside_each_round_is_clean(app, cli):
    found = _codes(app, cli, GATHERED + """

@router.get("/r")
async def rounds(ids: list[int], db: AsyncSession = Depends(get_async_db)):
    for i in ids:
        await asyncio.gather(count(db, i), fetch_weather())
""")
    _clean_beside(found, "gathered", "rounds")


TASKS = """
@router.get("/b")
async def tasked(db: AsyncSession = Depends(get_async_db)):
    t1 = asyncio.create_task(count(db)); t2 = asyncio.create_task(count(db))
    return [await t1, await t2]


@router.get("/e")
async def own_work(db: AsyncSession = Depends(get_async_db)):
    t1 = asyncio.create_task(count(db))
    n = await count(db)
    return [await t1, n]


@router.get("/s")
async def in_sequence(db: AsyncSession = Depends(get_async_db)):
    first = await asyncio.create_task(count(db))
    t = asyncio.create_task(count(db))
    second = await t
    n = await count(db)
    for i in range(3):
        t = asyncio.create_task(count(db, i))
        await t
    return [first, second, n]
"""


def test_two_tasks_on_one_async_session_are_am325(app, cli):
    found = _codes(app, cli, TASKS)
    _flagged(found, "tasked", "`asyncio.create_task()` at line", "schedules more work on the AsyncSession")


def test_a_task_running_while_the_handler_awaits_its_own_session_work_is_am325(app, cli):
    found = _codes(app, cli, TASKS)
    _flagged(found, "own_work", "is awaited at line")


def test_near_miss_tasks_joined_before_the_next_use_are_clean(app, cli):
    found = _codes(app, cli, TASKS)
    _clean_beside(found, "tasked", "in_sequence")


def test_tasks_made_in_a_loop_before_they_are_joined_are_am325(app, cli):
    found = _codes(app, cli, TASKS + """

@router.get("/m")
async def many(ids: list[int], db: AsyncSession = Depends(get_async_db)):
    tasks = []
    for i in ids:
        tasks.append(asyncio.create_task(count(db, i)))
    await asyncio.sleep(0)
    for task in tasks:
        await task
""")
    _flagged(found, "many", "another such task (a loop)")


GROUPS = """
@router.get("/g")
async def grouped(db: AsyncSession = Depends(get_async_db)):
    async with asyncio.TaskGroup() as tg:
        t1 = tg.create_task(count(db)); t2 = tg.create_task(count(db))
    return [t1.result(), t2.result()]


@router.get("/y")
async def soon(db: AsyncSession = Depends(get_async_db)):
    async with anyio.create_task_group() as tg:
        tg.start_soon(count, db)
        tg.start_soon(count, db, 1)


@router.get("/o")
async def one_in_group(db: AsyncSession = Depends(get_async_db)):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(count(db))
        tg.create_task(fetch_weather())
    return await count(db)
"""


def test_a_task_group_running_two_session_coroutines_is_am325(app, cli):
    found = _codes(app, cli, GROUPS)
    _flagged(found, "grouped", "`tg.create_task()`")
    _flagged(found, "soon", "`tg.start_soon()`", "given the AsyncSession `db`")


def test_near_miss_one_session_task_in_a_group_then_the_handler_is_clean(app, cli):
    # the group joins its tasks when its `async with` ends: the handler's await comes after
    found = _codes(app, cli, GROUPS)
    _clean_beside(found, "grouped", "one_in_group")


HELD = """
@router.get("/h")
async def held(db: AsyncSession = Depends(get_async_db)):
    repo = Repo(db)
    return await asyncio.gather(repo.books(), repo.authors())


@router.get("/d")
async def from_dependency(repo: Repo = Depends(get_repo)):
    return await asyncio.gather(repo.books(), repo.authors())


@router.get("/u")
async def uncalled(repo: Repo = Depends(get_repo)):
    async with anyio.create_task_group() as tg:
        tg.start_soon(repo.books)
        tg.start_soon(repo.authors)


@router.get("/x")
async def own_methods(db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(db.execute(text("select 1")), db.scalar(text("select 2")))


@router.get("/n")
async def own_sessions():
    return await asyncio.gather(count_own(), count_own(1))
"""


def test_methods_of_an_object_holding_the_async_session_are_am325(app, cli):
    found = _codes(app, cli, HELD)
    _flagged(found, "held", "`services.helpers.Repo.books()` on `repo`, which holds the AsyncSession")
    _flagged(found, "from_dependency", "`services.helpers.Repo.authors()` on `repo`")
    _flagged(found, "uncalled", "`repo.books` (`services.helpers.Repo.books()`, on an object holding the AsyncSession)")


def test_the_async_sessions_own_methods_gathered_are_am325(app, cli):
    found = _codes(app, cli, HELD)
    _flagged(found, "own_methods", "`db.execute()`", "`db.scalar()`")


def test_near_miss_coroutines_opening_a_session_each_are_clean(app, cli):
    found = _codes(app, cli, HELD)
    _clean_beside(found, "held", "own_sessions")


def test_a_project_coroutine_awaited_with_the_async_session_is_read_too(app, cli):
    found = _codes(app, cli, GATHERED + """

@router.get("/z")
async def reached(db: AsyncSession = Depends(get_async_db)):
    return await stats(db)


@router.get("/v")
async def through_method(repo: Repo = Depends(get_repo)):
    return await repo.both()
""")
    _flagged(found, "reached", "in `services.helpers.stats()`", "`asyncio.gather()`")
    _flagged(found, "through_method", "in `services.helpers.Repo.both()`", "on `self`")


def test_coroutines_the_analysis_cannot_read_are_unverified(app, cli):
    found = _codes(app, cli, GATHERED + """

@router.get("/j")
async def jobs(ids: list[int], db: AsyncSession = Depends(get_async_db)):
    pending = make_jobs(db, ids)
    return await asyncio.gather(*pending)


async def run_all(db: AsyncSession, *jobs) -> list:
    await db.execute(text("select 1"))
    return await asyncio.gather(*jobs)


@router.get("/k")
async def handed_list(db: AsyncSession = Depends(get_async_db)):
    return await run_all(db, count(db), count(db, 1))
""")
    for function, words in (("jobs", "`services.helpers.make_jobs()`, given the AsyncSession `db`"),
                            ("handed_list", "hands `*jobs` to `asyncio.gather()`")):
        hits = _am325(found, function)
        assert len(hits) == 1, (function, found)
        message = hits[0]["message"]
        assert words in message and "unverified" in message and "ignore[AM325]" in message, message
        assert "uses one AsyncSession" not in message, message


def test_a_pragma_silences_am325_and_an_unused_one_is_reported(app, cli):
    root = app(HEAD + """
# async-migrate: ignore[AM325] each count is read-only on a connection of its own in production
@router.get("/a")
async def gathered(db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(count(db), count(db, 1))


# async-migrate: ignore[AM325] left over
@router.get("/w")
async def with_weather(db: AsyncSession = Depends(get_async_db)):
    return await asyncio.gather(count(db), fetch_weather())
""", {**FILES, "services/helpers.py": HELPERS})
    document = cli.json("check", root)
    assert [s["function"] for s in document["silenced"] if s["code"] == "AM325"] == ["gathered"]
    codes = {(f["function"], f["code"]) for f in document["findings"]}
    assert ("gathered", "AM325") not in codes and ("with_weather", "AM305") in codes, codes
