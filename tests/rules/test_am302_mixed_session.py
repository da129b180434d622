"""AM302 mixed-session: an `async def` handler on an AsyncSession that calls a helper opening a
synchronous Session still blocks the event loop."""

from __future__ import annotations

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import database_sessionmaker


def load() -> list:
    with database_sessionmaker() as sync:
        return list(sync.scalars(select(1)))


def shape(rows: list) -> list:
    return sorted(rows)


@router.get("/mixed")
async def mixed(session: AsyncSession):
    return load()


@router.get("/clean")
async def clean(session: AsyncSession):
    return shape(list(await session.scalars(select(1))))
"""


def test_an_async_session_route_calling_a_sync_session_helper_is_am302(app, findings):
    (finding,) = findings(app(ROUTES), "mixed")
    assert finding["code"] == "AM302"
    assert "takes an AsyncSession" in finding["message"]


def test_near_miss_an_async_session_route_calling_a_plain_helper(app, findings):
    assert findings(app(ROUTES), "clean") == []


# The AsyncSession itself handed to synchronous code: not blocking work (AM301), but Session calls
# nobody awaits there. Each shape the handoff takes.
HANDOFF = """
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


@dataclass
class Counter:
    session: Session

    def count(self) -> int:
        return self.session.execute(select(1)).scalar_one()


class Totals:
    def __init__(self, session: Session) -> None:
        self.session = session

    def total(self) -> int:
        return self.session.execute(select(2)).scalar_one()


def tally(session: Session) -> int:
    return session.execute(select(3)).scalar_one()


@router.get("/chained")
async def chained(db: AsyncSession):
    Counter(db).count()
    with database_sessionmaker() as s:
        s.execute(select(1))
    return (await db.scalars(select(1))).all()


@router.get("/bound")
async def bound(db: AsyncSession):
    totals = Totals(db)
    value = totals.total()
    return {"value": value, "rows": (await db.scalars(select(1))).all()}


@router.get("/passed")
async def passed(db: AsyncSession):
    return {"value": tally(db), "rows": (await db.scalars(select(1))).all()}
"""


import pytest  # noqa: E402


@pytest.mark.parametrize(
    ("function", "line", "call"),
    [
        ("chained", 39, "api.items.Counter.count(...)"),
        ("bound", 48, "api.items.Totals.total(...)"),
        ("passed", 54, "api.items.tally(...)"),
    ],
)
def test_an_async_session_handed_to_sync_code_is_am302_not_blocking_work(app, findings, function, line, call):
    found = {f["code"]: f for f in findings(app(HANDOFF), function)}
    mixed = found["AM302"]
    assert (line, call) in [(b["line"], b["call"]) for b in mixed["blocking"]]
    assert "hands its AsyncSession" in mixed["message"]
    assert "not awaited" in mixed["message"]
    for finding in found.values():
        if finding["code"] != "AM302":
            assert line not in [b["line"] for b in finding["blocking"]], finding
            assert f"line {line}" not in finding["message"], finding


def test_near_miss_the_sync_session_the_route_opens_itself_stays_am301(app, findings):
    found = {f["code"]: f for f in findings(app(HANDOFF), "chained")}
    assert [b["line"] for b in found["AM301"]["blocking"]] == [40, 41]
    assert [b["line"] for b in found["AM302"]["blocking"]] == [39]


# `await session.run_sync(fn)`: SQLAlchemy hands `fn` a synchronous Session on a worker greenlet
# whose IO the event loop awaits; that is the AsyncSession's own door to synchronous code.
RUN_SYNC = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def count(session: Session) -> int:
    return session.execute(select(1)).scalar_one()


@router.get("/lambda")
async def through_lambda(session: AsyncSession):
    return await session.run_sync(lambda sync: count(sync))


@router.get("/nested")
async def through_nested(session: AsyncSession):
    def work(sync: Session) -> int:
        return count(sync) + count(sync)

    return await session.run_sync(work)


@router.get("/direct")
async def direct(session: AsyncSession):
    return await session.run_sync(count)


@router.get("/bare")
async def bare(session: AsyncSession):
    def work(sync: Session) -> int:
        return count(sync)

    return work(session)
"""


def test_a_sync_helper_run_through_run_sync_is_not_am302(app, findings):
    root = app(RUN_SYNC)
    for route in ("through_lambda", "through_nested", "direct"):
        assert findings(root, route) == [], route


def test_near_miss_the_same_nested_function_called_on_the_loop_is_am302(app, findings):
    assert [f["code"] for f in findings(app(RUN_SYNC), "bare")] == ["AM302"]


# A route reading on an AsyncSession (a replica's, migrated) and writing on the synchronous
# Session of another dependency (the primary's): the fix must not hand the helper the AsyncSession.
TWO_SESSIONS = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def save(db: Session, value: int) -> None:
    db.execute(select(value))
    db.commit()


@router.post("/orders")
async def place(read_db: AsyncSession, write_db: session_dependency):
    value = (await read_db.scalars(select(1))).one()
    save(write_db, value)
    return {"ok": True}
"""


def test_a_helper_given_the_routes_other_synchronous_session_is_am302_naming_that_session(app, findings):
    (finding,) = findings(app(TWO_SESSIONS), "place")
    assert finding["code"] == "AM302", finding
    message = finding["message"]
    assert "on its synchronous Session `write_db`" in message and "never hand them the AsyncSession" in message
    assert "migrate them to AsyncSession" not in message, message


# A Flask-SQLAlchemy habit after phase two: the object the AsyncSession loaded is saved through a
# mixin committing the `scoped_session` global. The call graph does not reach a method of what a
# query returned; the model-member analysis does.
MIXIN_MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)


class Base(DeclarativeBase):
    pass


class CRUDMixin:
    def persist(self):
        ScopedSession.commit()
        return self

    def label(self):
        return f"#{self.id}"


class Note(CRUDMixin, Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]
"""

MIXIN_ROUTE = """
from sqlalchemy.ext.asyncio import AsyncSession

from mixin_models import Note


@router.post("/notes/{note_id}")
async def touch_note(note_id: int, session: AsyncSession):
    note = await session.get(Note, note_id)
    note.text = note.text.strip()
    {call}
    return {"id": note.id}
"""


def test_an_async_session_route_running_model_code_on_a_scoped_session_is_am302(app, findings):
    root = app(MIXIN_ROUTE.replace("{call}", "note.persist()"), {"mixin_models.py": MIXIN_MODELS})
    (finding,) = findings(root, "touch_note")
    assert finding["code"] == "AM302"
    assert "note.persist(...), which does synchronous Session work at mixin_models.py:14 (`ScopedSession.commit()`)" in (
        finding["message"]
    ), finding["message"]


def test_near_miss_an_async_session_route_running_model_code_without_session_work(app, findings):
    root = app(MIXIN_ROUTE.replace("{call}", "note.label()\n    await session.commit()"), {"mixin_models.py": MIXIN_MODELS})
    # `note.id` after the commit of a Session no dependency says the sessionmaker of is AM314's,
    # unverified (test_am314_unread_sessionmaker.py): not this rule's
    assert [f for f in findings(root, "touch_note") if f["code"] != "AM314"] == []


def test_a_def_route_handing_its_async_session_to_synchronous_code_is_am302(app, findings):
    # Its dependency was moved to AsyncSession by hand and the route was not: phase one leaves a
    # `def` route alone, so only check can say that each Session call there is a coroutine nobody runs.
    source = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


async def get_async_db() -> AsyncSession: ...


def tally(db: Session) -> int:
    return db.scalar(text("select 1"))


@router.get("/tally")
def by_def(db: AsyncSession = Depends(get_async_db)):
    return {"n": tally(db)}


@router.get("/offloaded")
def near_miss(db: AsyncSession = Depends(get_async_db)):
    return {"n": 1}
"""
    root = app(source)
    found = findings(root, "by_def")
    assert [f["code"] for f in found] == ["AM302"], found
    assert found[0]["message"].startswith("def route takes an AsyncSession"), found
    assert "line 23 (api.items.tally(...))" in found[0]["message"], found
    assert findings(root, "near_miss") == []


# The AsyncSession handed to a plain def background task: Starlette runs the task after the
# response, in the threadpool, where the outbox it publishes is never marked (no call awaited).
BACKGROUND = """
from fastapi import BackgroundTasks
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from models import Book


def publish(db: Session) -> None:
    db.execute(update(Book).values(title="x"))
    db.commit()


async def publish_async(db: AsyncSession) -> None:
    await db.execute(update(Book).values(title="x"))
    await db.commit()


def notify(label: str, db: Session | None = None) -> None:
    print(label)


@router.post("/added")
async def added(db: AsyncSession, tasks: BackgroundTasks):
    tasks.add_task(publish, db)
    return {"ok": True}


@router.post("/response")
async def response(db: AsyncSession):
    return JSONResponse({"ok": True}, background=BackgroundTask(publish, db=db))


@router.post("/awaited")
async def awaited(db: AsyncSession, tasks: BackgroundTasks):
    tasks.add_task(publish_async, db)
    tasks.add_task(notify, "placed", db)
    return {"ok": True}
"""


@pytest.mark.parametrize(("function", "line"), [("added", 34), ("response", 40)])
def test_an_async_session_handed_to_a_sync_background_task_is_am302(app, findings, function, line):
    (finding,) = findings(app(BACKGROUND), function)
    assert finding["code"] == "AM302", finding
    assert [(b["line"], b["call"]) for b in finding["blocking"]] == [
        (line, "api.items.publish(...), a background task")
    ]
    assert "let it open its own Session" in finding["message"]


def test_near_miss_a_coroutine_task_or_one_doing_no_session_work_with_it(app, findings):
    assert findings(app(BACKGROUND), "awaited") == []


# A hand migration keeps the helpers it did not touch; written without annotations, the Session
# fixpoint (synchronous Sessions only) never marks their parameter, yet the AsyncSession arrives.
UNANNOTATED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession


def names(db) -> list:
    return [row.name for row in db.query(Customer).all()]


def latest(db, limit=1):
    return db.execute(select(1).limit(limit)).first()


def stage(db, obj) -> None:
    db.add(obj)


@router.get("/names")
async def list_names(session: AsyncSession):
    return names(session)


@router.get("/latest")
async def show_latest(session: AsyncSession):
    return {"row": latest(limit=2, db=session)}


@router.post("/stage")
async def stage_one(session: AsyncSession):
    stage(session, object())
    await session.commit()
    return {}
"""


@pytest.mark.parametrize(("route", "call"), [("list_names", "api.items.names(...)"), ("show_latest", "api.items.latest(...)")])
def test_an_unannotated_sync_helper_doing_session_io_on_the_async_session_is_am302(app, findings, route, call):
    (finding,) = findings(app(UNANNOTATED), route)
    assert finding["code"] == "AM302", finding
    assert call in [b["call"] for b in finding["blocking"]]


def test_near_miss_an_unannotated_helper_only_adding_to_the_async_session(app, findings):
    assert findings(app(UNANNOTATED), "stage_one") == []


# A container's async form (written by hand, or by an older phase two) building a member as the
# synchronous service around a repository's async form: the service's `self.users.get()` gives a
# coroutine, never None, so a missing user reads as found. Not blocking work (AM301, whose fix,
# converting the route to `def`, would leave it as wrong).
CONTAINER = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models import User


async def get_async_db() -> AsyncSession: ...


class UserRepo:
    def __init__(self, session: Session):
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)


class UserRepoAsync:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)


class UserService:
    def __init__(self, users: UserRepo):
        self.users = users

    def exists(self, user_id: int) -> bool:
        return self.users.get(user_id) is not None

    def label(self) -> str:
        return "users"


class ContainerAsync:
    def __init__(self, session: AsyncSession):
        self.users = UserRepoAsync(session)
        self.user_service = UserService(self.users)


async def get_container_async(session: AsyncSession = Depends(get_async_db)) -> ContainerAsync:
    return ContainerAsync(session)


@router.get("/users/{user_id}/exists")
async def exists(user_id: int, c: ContainerAsync = Depends(get_container_async)):
    return {"exists": c.user_service.exists(user_id)}


@router.get("/users/label")
async def near_miss(c: ContainerAsync = Depends(get_container_async)):
    return {"label": c.user_service.label()}
"""


def test_a_sync_member_a_containers_async_form_builds_around_an_async_repository_is_am302(app, findings):
    root = app(CONTAINER)
    found = findings(root, "exists")
    assert [f["code"] for f in found] == ["AM302"], found
    assert found[0]["message"].startswith(
        "async def route uses `c.user_service`, which its object builds as the synchronous `UserService` around "
        "async objects (its parameter `users` handed `self.users` (`UserRepoAsync`))"
    ), found
    assert "line 57 (api.items.UserService.exists(...))" in found[0]["message"], found
    assert "phase1" not in found[0]["message"], found
    # near miss: a method of the member doing nothing with what it holds
    assert findings(root, "near_miss") == []
