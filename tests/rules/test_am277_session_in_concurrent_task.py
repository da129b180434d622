"""AM277 session-in-concurrent-task: a coroutine given the request's Session and scheduled beside
the request's own work blocks its route."""

from __future__ import annotations

import pytest

HELPER = """
import asyncio


async def count(session: Session) -> int:
    return session.scalar(select(func.count(Book.id)))


async def remote() -> int:
    return 1
"""


def test_a_session_coroutine_in_gather_blocks_the_route_with_am277(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
async def both(session: session_dependency):
    n, m = await asyncio.gather(count(session), remote())
    return n + m
"""
    )
    found = entry(document, "both")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "hands `api.items.count()`, given the Session `session`, to `asyncio.gather()`" in found["reasons"][0]
    assert document["files_changed"] == []


def test_session_coroutines_unpacked_into_names_then_gathered_block_the_route_with_am277(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
async def both(session: session_dependency):
    a, b = count(session), remote()
    n, m = await asyncio.gather(a, b)
    return n + m
"""
    )
    found = entry(document, "both")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "to `asyncio.gather()` (through `a`)" in found["reasons"][0], found["reasons"]


def test_near_miss_gather_of_coroutines_without_the_session_migrates(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
async def both(session: session_dependency):
    n = await count(session)
    m, k = await asyncio.gather(remote(), remote())
    return n + m + k
"""
    )
    found = entry(document, "both")
    assert found["action"] == "migrate" and "AM277" not in found["codes"], (found["codes"], found["reasons"])


SERVICE = """


class Counts:
    def __init__(self, session: Session):
        self.session = session

    async def books(self) -> int:
        return self.session.scalar(select(func.count(Book.id)))

    async def again(self) -> int:
        return self.session.scalar(select(func.count(Book.id)))
"""

# Other spellings of handing `count(session)` to a scheduler that runs it beside the route: the
# scheduler each reason names, and the line as written in the route.
SPELLINGS = {
    "starred-list": ("asyncio.gather()", "await asyncio.gather(*[count(session) for _ in range(2)])"),
    "starred-generator": ("asyncio.gather()", "await asyncio.gather(*(count(session) for _ in range(2)))"),
    "local-list": ("asyncio.gather()` (through `coros`", "coros = [count(session) for _ in range(2)]\n"
                   "    await asyncio.gather(*coros)"),
    "local-append": ("asyncio.gather()` (through `coros`", "coros = []\n    coros.append(count(session))\n"
                     "    await asyncio.gather(*coros, remote())"),
    "local-coroutine": ("asyncio.gather()` (through `c`", "c = count(session)\n    await asyncio.gather(c, remote())"),
    "wait": ("asyncio.wait()", "await asyncio.wait([count(session), remote()])"),
    "as-completed": ("asyncio.as_completed()", "for done in asyncio.as_completed([count(session), remote()]):\n"
                     "        await done"),
    "ensure-future": ("asyncio.ensure_future()", "task = asyncio.ensure_future(count(session))\n    await task"),
    "loop-create-task": ("loop.create_task()", "loop = asyncio.get_running_loop()\n"
                         "    await loop.create_task(count(session))"),
    "task-group": ("tg.create_task()", "async with asyncio.TaskGroup() as tg:\n        tg.create_task(count(session))"),
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_every_spelling_of_a_concurrent_session_coroutine_blocks_the_route_with_am277(phase2, entry, spelling):
    scheduler, line = SPELLINGS[spelling]
    document = phase2(HELPER + f"""

@router.get("/n")
async def both(session: session_dependency):
    {line}
    return 1
""")
    found = entry(document, "both")
    assert (found["action"], set(found["codes"])) == ("blocked", {"AM277"}), found
    assert f"hands `api.items.count()`, given the Session `session`, to `{scheduler}" in found["reasons"][0], found
    assert document["files_changed"] == []


def test_an_object_holding_the_session_blocks_the_route_when_its_coroutines_are_gathered(phase2, entry):
    document = phase2(HELPER + SERVICE + """

@router.get("/n")
async def both(session: session_dependency):
    counts = Counts(session)
    n, m = await asyncio.gather(counts.books(), counts.again())
    return n + m
""")
    found = entry(document, "both")
    assert (found["action"], set(found["codes"])) == ("blocked", {"AM277"}), found
    assert "hands `api.items.Counts.books()`, on an object holding the Session, to `asyncio.gather()`" in (
        found["reasons"][0]
    )


def test_a_starred_argument_the_analysis_cannot_read_blocks_with_am277(phase2, entry):
    document = phase2(HELPER + """


async def fan_out(session: Session, jobs: list) -> int:
    await asyncio.gather(*jobs)
    return session.scalar(select(func.count(Book.id)))


@router.get("/n")
async def both(session: session_dependency):
    return await fan_out(session, [remote()])
""")
    found = entry(document, "both")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "hands `*jobs` to `asyncio.gather()`, whose coroutines the analysis cannot tell apart" in (
        found["reasons"][0]
    )


NEAR_MISSES = {
    "wait-for": "n = await asyncio.wait_for(count(session), 5)",
    "object-awaited-in-sequence": "counts = Counts(session)\n    n = await counts.books()\n    n += await counts.again()",
}


@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_miss_session_work_awaited_in_place_migrates(phase2, entry, shape):
    document = phase2(HELPER + SERVICE + f"""

@router.get("/n")
async def both(session: session_dependency):
    {NEAR_MISSES[shape]}
    return n
""")
    found = entry(document, "both")
    assert found["action"] == "migrate" and "AM277" not in found["codes"], (found["codes"], found["reasons"])


HELD = """
import anyio
from fastapi import Depends


class Jobs:
    def __init__(self, session: Session):
        self.session = session

    async def refresh_all(self) -> None:
        self.session.scalar(select(func.count(Book.id)))

    async def sync(self, n: int) -> None:
        self.session.scalar(select(func.count(Book.id)))

    async def ping(self) -> None:
        pass


def get_jobs(session: session_dependency) -> Jobs:
    return Jobs(session)
"""

# A method of an object holding the Session, handed uncalled to a task group: nothing calls it
# in the route, so only the scheduler's arguments show the Session work.
UNCALLED = {
    "built-in-the-route": ("svc.refresh_all", "tg.start_soon()", """
@router.get("/n")
async def both(session: session_dependency):
    svc = Jobs(session)
    async with anyio.create_task_group() as tg:
        tg.start_soon(svc.refresh_all)
    return 1
"""),
    "built-by-a-dependency": ("repo.sync", "tg.start_soon()", """
@router.get("/n")
async def both(repo: Jobs = Depends(get_jobs)):
    async with anyio.create_task_group() as tg:
        tg.start_soon(repo.sync, 3)
    return 1
"""),
    "through-a-name": ("job", "tg.start_soon()", """
@router.get("/n")
async def both(session: session_dependency):
    job = Jobs(session).refresh_all
    async with anyio.create_task_group() as tg:
        tg.start_soon(job)
    return 1
"""),
    "in-partial": ("svc.sync", "tg.start_soon()", """
from functools import partial


@router.get("/n")
async def both(session: session_dependency):
    svc = Jobs(session)
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(svc.sync, 3))
    return 1
"""),
    "self-in-a-method": ("self.refresh_all", "tg.start_soon()", """
class Runner(Jobs):
    async def run(self) -> int:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.refresh_all)
        return self.session.scalar(select(func.count(Book.id)))


@router.get("/n")
async def both(session: session_dependency):
    return await Runner(session).run()
"""),
}


@pytest.mark.parametrize("shape", sorted(UNCALLED))
def test_a_held_session_method_handed_uncalled_to_a_task_group_blocks_with_am277(phase2, entry, shape):
    written, scheduler, route = UNCALLED[shape]
    document = phase2(HELD + "\n\n" + route)
    found = entry(document, "both")
    assert (found["action"], set(found["codes"])) == ("blocked", {"AM277"}), found
    assert f"hands `{written}` (`api.items." in found["reasons"][0], found
    assert f"on an object holding the Session) uncalled to `{scheduler}`" in found["reasons"][0], found
    assert document["files_changed"] == []


def test_near_miss_a_held_method_without_session_work_handed_to_a_task_group_migrates(phase2, entry):
    document = phase2(HELD + """

@router.get("/n")
async def both(session: session_dependency):
    svc = Jobs(session)
    async with anyio.create_task_group() as tg:
        tg.start_soon(svc.ping)
    await svc.sync(1)
    return 1
""")
    found = entry(document, "both")
    assert found["action"] == "migrate" and "AM277" not in found["codes"], (found["codes"], found["reasons"])
