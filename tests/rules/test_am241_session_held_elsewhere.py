"""AM241 session-held-elsewhere: Session work on a Session the function does not receive as a
parameter (an instance's `self.db`, a scoped_session global) blocks the route, naming the line."""

from __future__ import annotations

SCOPED = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)
"""


def test_a_scoped_session_global_blocks_the_route_with_am241(phase2, entry):
    document = phase2(
        """
        from scoped import ScopedSession


        @router.get("/titles")
        def read_titles():
            return list(ScopedSession.scalars(select(Book.title)))
        """,
        {"scoped.py": SCOPED},
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"])
    assert found["reasons"][0].startswith("api/items.py:16: does Session work on `ScopedSession.scalars()`")


def test_a_repository_session_read_from_outside_the_class_blocks_the_route(phase2, entry):
    document = phase2(
        """
        from fastapi import Depends


        class Repo:
            def __init__(self, session: Session) -> None:
                self.session = session

            def titles(self):
                return list(self.session.scalars(select(Book.title)))


        def get_repo(session: session_dependency) -> Repo:
            return Repo(session)


        @router.get("/titles")
        def read_titles(repo: Repo = Depends(get_repo)):
            return list(repo.session.scalars(select(Book.title)))
        """
    )
    # The route reads the Session through the instance and calls none of the class's methods: the
    # call is not awaited on a class that moves with the route, so it blocks naming the call.
    found = entry(document, "read_titles")
    assert found["action"] == "blocked"
    assert any(
        r.startswith("api/items.py:28: calls `repo.session.scalars()` on the Session Repo holds, from outside the class")
        for r in found["reasons"]
    ), found["reasons"]


def test_near_miss_the_session_as_a_parameter_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(session.scalars(select(Book.title)))
        """,
        {"scoped.py": SCOPED},
    )
    found = entry(document, "read_titles")
    assert found["action"] == "migrate"
    assert "AM241" not in found["codes"]


def test_a_route_reaching_a_scoped_session_through_a_helper_is_blocked_naming_it(phase2, entry):
    # The route receives no Session: its helper works on the global. Never "does no Session work".
    document = phase2(
        """
        from scoped import ScopedSession


        def count_titles():
            return ScopedSession.scalar(select(func.count(Book.id)))


        @router.get("/count")
        def read_count():
            return {"n": count_titles()}


        @router.get("/ping")
        def ping():
            return {"ok": True}
        """,
        {"scoped.py": SCOPED},
    )
    found = entry(document, "read_count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"])
    assert "calls api.items.count_titles, which does Session work on `ScopedSession.scalar()`" in found["reasons"][0]
    assert "the module-level `scoped_session` `ScopedSession` (scoped.py:" in found["reasons"][0]
    assert (entry(document, "ping")["action"], entry(document, "ping")["codes"]) == ("unchanged", ["AM205"])


def test_the_request_state_session_is_named_with_where_it_is_opened(phase2, entry):
    from rules.test_am124_holds_sync_session import STATE_MAIN

    document = phase2(
        """
        from fastapi import Request


        @router.get("/books/{book_id}")
        def read_book(book_id: int, request: Request):
            return request.state.db.get(Book, book_id)
        """,
        {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")},
    )
    found = entry(document, "read_book")
    assert found["action"] == "blocked" and found["codes"] == ["AM241"], found
    line = next(n for n, t in enumerate(STATE_MAIN.strip().splitlines(), 1) if "request.state.db =" in t)
    assert f"the Session opened on `request.state.db` for each request (main.py:{line})" in found["reasons"][0], found


def test_the_request_state_session_commit_says_what_phase_two_replaces_once(phase2, entry):
    from rules.test_am124_holds_sync_session import STATE_MAIN

    document = phase2(
        """
        from fastapi import Request


        @router.post("/books/{book_id}")
        def touch(book_id: int, request: Request):
            request.state.db.commit()
            return {}
        """,
        {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")},
    )
    reason = entry(document, "touch")["reasons"][0]
    assert reason.count("phase two replaces only") == 1, reason
    assert (
        "for each request (main.py:10), not one it receives as a parameter: phase two replaces only the Session a "
        "route receives from its dependency" in reason
    ), reason


def test_a_module_global_session_is_named_with_where_it_is_created(phase2, entry):
    # The single-module app's `db = SessionLocal()` beside routes whose `db` parameter is the
    # request's own: the reason names the global and its line, and that it is the process's one.
    document = phase2(
        """
        from db.engine import database_sessionmaker

        db = database_sessionmaker()


        @router.get("/titles")
        async def read_titles():
            return list(db.scalars(select(Book.title)))


        @router.get("/count")
        def count(db: session_dependency):
            return db.scalar(select(func.count(Book.id)))
        """,
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"])
    assert "`db`, created once at import time (api/items.py:13), one Session the whole process shares" in (
        found["reasons"][0]
    ), found["reasons"]
    assert "held by an instance or a module-level global" not in found["reasons"][0]
    assert entry(document, "count")["action"] == "migrate"


UNIT_OF_WORK = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


def titles(uow: UnitOfWork):
    with uow:
        return list(uow.session.scalars(select(Book.title)))
"""


def test_a_unit_of_work_opening_its_own_session_is_one_reason_naming_each_use(phase2, entry):
    document = phase2(
        """
        from uow import UnitOfWork, titles


        @router.get("/titles")
        def read_titles():
            return titles(UnitOfWork())
        """,
        {"uow.py": UNIT_OF_WORK},
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), found
    reason = found["reasons"][0]
    assert (
        "the Session `UnitOfWork.__enter__` opens itself into `self.session` of `UnitOfWork` (uow.py:7), not one "
        "the route receives"
    ) in reason, reason
    assert reason.endswith("; the same at uow.py:13"), reason  # `__exit__`, which the `with` runs


# Flask-SQLAlchemy habits: a mixin committing through the `scoped_session` global.
MIXIN_MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scoped import ScopedSession


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
from mixin_models import Note


@router.post("/notes/{note_id}")
def touch_note(note_id: int, session: session_dependency):
    note = session.get(Note, note_id)
    note.text = note.text.strip()
    {call}
    return {"id": note.id}
"""


def _mixin(phase2, call: str):  # type: ignore[no-untyped-def]
    files = {"scoped.py": SCOPED, "mixin_models.py": MIXIN_MODELS}
    return phase2(MIXIN_ROUTE.replace("{call}", call), files)


def test_a_model_method_committing_a_scoped_session_global_blocks_the_route_with_am241(phase2, entry):
    # Migrated, the route changed the object its AsyncSession loaded and `persist()` committed
    # the global Session instead, on the event loop: the change was never saved.
    found = entry(_mixin(phase2, "note.persist()"), "touch_note")
    assert found["action"] == "blocked" and "AM241" in found["codes"], found
    [reason] = [r for r, c in zip(found["reasons"], found["codes"], strict=True) if c == "AM241"]
    assert "`note.persist()` runs method CRUDMixin.persist" in reason
    assert "(`ScopedSession.commit()`)" in reason


def test_near_miss_a_model_method_doing_no_session_work_migrates(phase2, entry):
    found = entry(_mixin(phase2, "note.label()\n    session.commit()"), "touch_note")
    assert found["action"] == "migrate", found



OWN_SESSION_MODELS = """
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]

    def siblings(self):
        return object_session(self).scalar(select(func.count()).select_from(Note))
"""


def test_a_model_method_on_the_objects_own_session_is_named_as_that_session(phase2, entry):
    # object_session(note) is the route's own Session once migrated: the synchronous one inside
    # its AsyncSession, whose I/O outside a greenlet raises MissingGreenlet, not "another Session".
    route = MIXIN_ROUTE.replace("from mixin_models import Note", "from own_models import Note")
    found = entry(phase2(route.replace("{call}", "note.siblings()"), {"own_models.py": OWN_SESSION_MODELS}), "touch_note")
    assert found["action"] == "blocked" and "AM241" in found["codes"], found
    [reason] = [r for r, c in zip(found["reasons"], found["codes"], strict=True) if c == "AM241"]
    assert "on the Session the object belongs to (`object_session(...)`)" in reason
    assert "raises MissingGreenlet" in reason and "another Session" not in reason

CONTEXT = """
from contextvars import ContextVar

from sqlalchemy.orm import Session

_session: ContextVar[Session | None] = ContextVar("_session", default=None)


class _Proxy:
    @property
    def session(self) -> Session:
        return _session.get()


db = _Proxy()
"""
BIND = """
import context
from db.engine import database_sessionmaker


async def bind_session(request, call_next):
    session = database_sessionmaker()
    token = context._session.set(session)
    try:
        return await call_next(request)
    finally:
        context._session.reset(token)
        session.close()
"""


def test_a_proxy_reading_the_requests_context_variable_blocks_naming_it(phase2, entry):
    # fastapi-sqlalchemy's `db.session`: the reason names the variable and where it is set
    document = phase2(
        """
        from context import db


        @router.get("/titles")
        def read_titles():
            return list(db.session.scalars(select(Book.title)))
        """,
        {"context.py": CONTEXT, "bind.py": BIND},
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"])
    assert found["reasons"][0].startswith(
        "api/items.py:16: does Session work on `db.session.scalars()`, the Session the context variable `_session` "
        "holds for each request (set at "
    ), found["reasons"]
    assert "set at bind.py:7)" in found["reasons"][0], found["reasons"]


SERVICE = """
from fastapi import Depends


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self):
        return list(self.session.scalars(select(Book.title)))


class Catalog:
    def __init__(self, books: Repo{param}) -> None:
        self.books = books{kept}

    def count(self):
        return len(self.books.titles()) + {session}.scalar(select(func.count(Book.id)))


def get_catalog(session: session_dependency) -> Catalog:
    return Catalog(Repo(session){argument})


@router.get("/count")
def read_count(catalog: Catalog = Depends(get_catalog)):
    return {{"n": catalog.count()}}
"""


def test_a_session_reached_through_a_held_repository_blocks_with_the_fix_to_hold_it(phase2, entry):
    # `Catalog(Repo(session))`: the service reaches the Session through the repository it holds.
    # The reason says what to write, not only what is wrong.
    document = phase2(SERVICE.format(param="", kept="", session="self.books.session", argument=""))
    found = entry(document, "read_count")
    assert found["action"] == "blocked" and "AM241" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM241")]
    assert reason.startswith("api/items.py:27: `Catalog.count` does Session work on `self.books.session.scalar()`"), reason
    assert reason.endswith(
        ": phase two moves a class holding the request's Session itself (`self.session`, stored from "
        "a parameter of its `__init__`), not one reached through another object it holds: add a Session "
        "parameter to `__init__`, keep it as `self.session`, have the dependency building the class hand it the "
        "request's Session, and use `self.session` here in place of `self.books.session`"
    ), reason


def test_near_miss_the_fix_followed_the_service_moves(phase2, entry):
    document = phase2(SERVICE.format(
        param=", session: Session", kept="\n        self.session = session", session="self.session", argument=", session"
    ))
    found = entry(document, "read_count")
    assert found["action"] == "migrate" and "AM241" not in found["codes"], found["reasons"]


def test_a_module_global_session_reason_ends_with_the_fix(phase2, entry):
    document = phase2(
        """
        from scoped import ScopedSession


        class Titles:
            def all(self):
                return list(ScopedSession.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles():
            return Titles().all()
        """,
        {"scoped.py": SCOPED},
    )
    found = entry(document, "read_titles")
    assert found["action"] == "blocked" and "AM241" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM241")]
    assert reason.endswith(
        ": phase two replaces only the Session a route receives from its dependency and hands down as a "
        "parameter (or to a class it builds): hand that Session in here instead, or keep the route synchronous"
    ), reason
