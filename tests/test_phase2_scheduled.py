"""Coroutines handed to a scheduler (`gather`, `create_task`, `wait_for`, a task group), migrated
and RUN: phase two never awaits them in place, and blocks (AM277) a route whose scheduled
coroutine would share the request's AsyncSession with the rest of the request."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the same small application on the sync stack

COUNT = """
import asyncio


async def count_users(db: Session) -> int:
    return db.scalar(select(func.count(User.id)))


async def remote() -> int:
    await asyncio.sleep(0)
    return 10
"""


@pytest.mark.parametrize(
    ("call", "scheduler"),
    [
        ("sum(await asyncio.gather(count_users(db), remote()))", "asyncio.gather"),
        ("await asyncio.create_task(count_users(db)) + await remote()", "asyncio.create_task"),
    ],
)
def test_a_coroutine_given_the_session_and_scheduled_concurrently_blocks_and_the_code_still_runs(
    cli, service, call, scheduler
):
    root = service({
        SUBSYSTEM: routes(
            COUNT,
            f"""
            @router.get("/n")
            async def total(db: session_dependency):
                return {{"n": {call}}}
            """,
        )
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "total")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert f"hands `api.items.count_users()`, given the Session `db`, to `{scheduler}()`" in found["reasons"][0]
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", """
        print(json.dumps(client.get("/n").json()))
    """) == {"n": 12}


def test_the_session_handed_to_a_task_group_with_the_function_blocks(cli, service):
    root = service({
        SUBSYSTEM: routes(
            COUNT,
            """
            @router.get("/n")
            async def total(db: session_dependency):
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(remote())
                    tg.create_task(count_users(db))
                return {"ok": True}
            """,
        )
    })
    found = handler(apply(cli, root), "total")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "to `tg.create_task()`" in found["reasons"][0]


def test_near_miss_a_coroutine_awaited_through_wait_for_migrates_unawaited_and_runs(cli, service):
    # `wait_for` runs the coroutine in place of the caller: no concurrent use, and the
    # coroutine must reach it unawaited.
    root = service({
        SUBSYSTEM: routes(
            COUNT,
            """
            @router.get("/n")
            async def total(db: session_dependency):
                n = await asyncio.wait_for(count_users(db), 5)
                rest = await asyncio.gather(remote(), remote())
                return {"n": n + sum(rest)}
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "total")["action"] == "migrate", handler(document, "total")
    assert "await asyncio.wait_for(count_users(db), 5)" in function(root, SUBSYSTEM, "total")
    assert function(root, SUBSYSTEM, "count_users") == dedent(
        """
        async def count_users(db: AsyncSession) -> int:
            return await db.scalar(select(func.count(User.id)))
        """
    )
    assert serve(root, "sqlite", """
        print(json.dumps(client.get("/n").json()))
    """) == {"n": 22}


def test_a_held_session_method_handed_uncalled_to_a_task_group_blocks_and_the_code_still_runs(cli, service):
    # Nothing calls `svc.refresh` in the route: the task group does, beside the route's own
    # work. Migrated, the two would share one AsyncSession.
    root = service({
        SUBSYSTEM: routes(
            """
            import anyio


            class Counts:
                def __init__(self, db: Session):
                    self.db = db
                    self.n = 0

                async def refresh(self) -> None:
                    self.n = db_count(self.db)


            def db_count(db: Session) -> int:
                return db.scalar(select(func.count(User.id)))
            """,
            """
            @router.get("/n")
            async def total(db: session_dependency):
                svc = Counts(db)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(svc.refresh)
                return {"n": svc.n}
            """,
        )
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "total")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "hands `svc.refresh` (`api.items.Counts.refresh()`, on an object holding the Session) uncalled to " \
        "`tg.start_soon()`" in found["reasons"][0], found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", """
        print(json.dumps(client.get("/n").json()))
    """) == {"n": 2}


CRUD = """
from sqlalchemy.orm import Session

from models import Item


def create_task(db: Session, name: str) -> int:
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item.id


class Jobs:
    def start(self, db: Session, name: str) -> int:
        return create_task(db, name)


jobs = Jobs()
"""


def test_near_miss_project_functions_named_like_schedulers_are_awaited_in_place_and_write(cli, service):
    # `crud.create_task(...)` and `jobs.start(...)` share only their names with
    # `asyncio.create_task` and a task group's `start`: they run in place, so nothing shares
    # the AsyncSession concurrently, and the route migrates with both awaited.
    root = service({
        "crud.py": CRUD,
        SUBSYSTEM: routes(
            """
            import crud


            @router.post("/items")
            async def add(name: str, db: session_dependency):
                first = crud.create_task(db, name)
                second = crud.jobs.start(db, name + "2")
                return {"ids": [first, second]}
            """,
        )
    })
    document = apply(cli, root)
    found = handler(document, "add")
    assert found["action"] == "migrate", found
    body = function(root, SUBSYSTEM, "add")
    assert "first = await crud.create_task(db, name)" in body
    assert "second = await crud.jobs.start(db, name + \"2\")" in body
    assert serve(root, "sqlite", """
        ids = client.post("/items", params={"name": "pen"}).json()["ids"]
        with Sync() as s:
            names = [s.get(Item, i).name for i in ids]
        print(json.dumps(names))
    """) == ["pen", "pen2"]


ADD = """
import asyncio


async def add_user(db: Session, name: str) -> None:
    db.add(User(name=name))
    db.commit()
"""


@pytest.mark.parametrize(
    ("call", "scheduler"),
    [
        ("asyncio.run_coroutine_threadsafe(add_user(db, name), asyncio.get_running_loop())",
         "asyncio.run_coroutine_threadsafe"),
        ("asyncio.shield(add_user(db, name))", "asyncio.shield"),
    ],
)
def test_a_coroutine_given_the_session_and_left_running_after_the_route_blocks(cli, service, call, scheduler):
    # Neither is awaited: the coroutine runs as a task of its own after the route returned,
    # which on an AsyncSession is work on the request's Session after the dependency closed it.
    root = service({
        SUBSYSTEM: routes(
            ADD,
            f"""
            @router.post("/users")
            async def add(name: str, db: session_dependency):
                {call}
                return {{"ok": True}}
            """,
        )
    })
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "add")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert f"hands `api.items.add_user()`, given the Session `db`, to `{scheduler}()`" in found["reasons"][0], found
    assert read(root, SUBSYSTEM) == before


def test_near_miss_an_awaited_shield_runs_in_place_migrates_and_writes(cli, service):
    root = service({
        SUBSYSTEM: routes(
            ADD,
            """
            @router.post("/users")
            async def add(name: str, db: session_dependency):
                await asyncio.shield(add_user(db, name))
                return {"ok": True}
            """,
        )
    })
    found = handler(apply(cli, root), "add")
    assert found["action"] == "migrate", found
    assert "await asyncio.shield(add_user(db, name))" in function(root, SUBSYSTEM, "add")
    assert serve(root, "sqlite", """
        client.post("/users", params={"name": "ann"})
        with Sync() as s:
            print(json.dumps(s.scalars(select(User.name).where(User.name == "ann")).all()))
    """) == ["ann"]


@pytest.mark.parametrize(
    "runs",
    [
        "asyncio.run(notify())",
        "asyncio.new_event_loop().run_until_complete(notify())",
        "anyio.run(notify)",
    ],
)
def test_a_def_route_running_an_event_loop_of_its_own_blocks_and_the_code_still_runs(cli, service, runs):
    # In the threadpool the route may start a loop of its own; made `async def` it would run on
    # the application's loop, where starting another raises RuntimeError on every request.
    root = service({
        SUBSYSTEM: routes(
            """
            import asyncio

            import anyio


            async def notify() -> None:
                await asyncio.sleep(0)


            def add_user(db: Session, name: str) -> None:
                db.add(User(name=name))
                db.commit()
            """,
            f"""
            @router.post("/users")
            def add(name: str, db: session_dependency):
                add_user(db, name)
                {runs}
                return {{"ok": True}}
            """,
        )
    })
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "add")
    assert (found["action"], found["codes"]) == ("blocked", ["AM284"]), found
    assert "starts an event loop of its own" in found["reasons"][0], found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", """
        assert client.post("/users", params={"name": "ann"}).json() == {"ok": True}
        with Sync() as s:
            print(json.dumps(s.scalars(select(User.name).where(User.name == "ann")).all()))
    """) == ["ann"]


def test_a_coroutine_given_the_session_and_handed_to_a_project_wrapper_blocks_naming_the_wrapper(cli, service):
    # `fire` schedules it: the coroutine runs after the route returned. Its body is not followed,
    # so the route blocks, and the reason must not say that nothing runs it.
    root = service({
        SUBSYSTEM: routes(
            ADD,
            """
            def fire(c):
                return asyncio.ensure_future(c)


            @router.post("/users")
            async def add(name: str, db: session_dependency):
                fire(add_user(db, name))
                return {"ok": True}
            """,
        )
    })
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "add")
    assert (found["action"], found["codes"]) == ("blocked", ["AM223"]), found
    assert "hands the coroutine to `api.items.fire()`, which the analysis does not follow" in found["reasons"][0]
    assert "nothing in it runs" not in found["reasons"][0]
    assert read(root, SUBSYSTEM) == before
