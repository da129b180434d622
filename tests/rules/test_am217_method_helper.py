"""AM217 method-helper: a method the route reaches that cannot become `async def` blocks it,
naming the line; a plain method taking the Session migrates."""

from __future__ import annotations


def test_a_property_reached_with_the_session_blocks_its_route_with_am217(phase2, entry):
    document = phase2(
        """
        class Catalogue:
            def __init__(self, session: Session):
                self.session = session

            @property
            def titles(self):
                return list(self.session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return Catalogue(session).titles
        """
    )
    found = entry(document, "read_titles")
    assert found["action"] == "blocked"
    assert "AM217" in found["codes"]
    assert any("is a property (`@property`)" in reason and "api/items.py:" in reason for reason in found["reasons"]), found["reasons"]


def test_a_method_opening_its_own_session_moves_as_a_function_does(phase2, entry):
    # It opened "a Session of its own inside a method" (AM217): its twin opens an AsyncSession
    # from the async sessionmaker instead, a Session apart from the request's as before.
    document = phase2(
        """
        from db.engine import database_sessionmaker


        class Titles:
            @staticmethod
            def load(session: Session):
                with database_sessionmaker() as other:
                    return list(other.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return Titles.load(session)
        """
    )
    found = entry(document, "read_titles")
    assert found["action"] == "migrate", found
    assert entry(document, "Titles.load", "helpers")["action"] == "migrate"


def test_near_miss_a_method_opening_its_session_with_arguments_blocks_as_a_function_does(phase2, entry):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        class Titles:
            @staticmethod
            def load(session: Session):
                with database_sessionmaker(autoflush=False) as other:
                    return list(other.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return Titles.load(session)
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM262"]), found
    assert "with arguments" in found["reasons"][0] and "inside a method" not in found["reasons"][0]


def test_near_miss_a_static_method_taking_the_session_migrates(phase2, entry):
    document = phase2(
        """
        class Repo:
            @staticmethod
            def titles(session: Session):
                return list(session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return Repo.titles(session)
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"
    assert entry(document, "Repo.titles", "helpers")["action"] == "migrate"


TRANSLATE = """
import functools

from fastapi import HTTPException
from sqlalchemy.exc import IntegrityError


def translate_integrity(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except IntegrityError as exc:
            raise HTTPException(status_code=409, detail="duplicate") from exc

    return wrapper
"""


def test_a_decorated_function_helper_blocks_with_am217(phase2, entry):
    # As a coroutine, the IntegrityError would surface where the route awaits it, outside the
    # wrapper's try: a 500 instead of the 409 the decorator gave.
    document = phase2(
        """
        from errors import translate_integrity


        @translate_integrity
        def add_book(session: Session, title: str) -> None:
            session.add(Book(title=title, author_id=1))
            session.commit()


        @router.post("/books")
        def create_book(session: session_dependency):
            add_book(session, "x")
            return {"ok": True}
        """,
        {"errors.py": TRANSLATE},
    )
    found = entry(document, "create_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM217"]), found
    assert "`add_book` is decorated with `@translate_integrity`: as a coroutine its decorator's synchronous wrapper" in found["reasons"][0]
    assert document["files_changed"] == []


def test_near_miss_an_undecorated_function_helper_migrates(phase2, entry):
    document = phase2(
        """
        def add_book(session: Session, title: str) -> None:
            session.add(Book(title=title, author_id=1))
            session.commit()


        @router.post("/books")
        def create_book(session: session_dependency):
            add_book(session, "x")
            return {"ok": True}
        """,
    )
    assert entry(document, "create_book")["action"] == "migrate"


# A command bus: `@bus.handles(Kind)` stores the function itself in the bus's table and returns
# it, no wrapper around it; `bus.dispatch(message, session)` calls it as a plain function.
BUS = """
HANDLERS = {}


class Bus:
    def handles(self, kind):
        def register(fn):
            HANDLERS[kind] = fn
            return fn
        return register

    def dispatch(self, message, session):
        return HANDLERS[type(message)](message, session)


bus = Bus()
"""


def test_a_helper_a_registering_decorator_hands_on_blocks_naming_the_registry(phase2, entry):
    # Made `async def`, the bus would call it and get a coroutine back: no wrapper is involved,
    # and the reason says so, with where the decorator is and what to do instead.
    document = phase2(
        """
        from bus import bus


        @bus.handles(str)
        def add_book(title: str, session: Session) -> None:
            session.add(Book(title=title, author_id=1))
            session.commit()


        @router.post("/books")
        def create_book(session: session_dependency):
            add_book("x", session)
            return {"ok": True}
        """,
        {"bus.py": BUS},
    )
    found = entry(document, "create_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM217"]), found
    assert (
        "`add_book` is decorated with `@bus.handles(str)`, which hands on the function itself (bus.py:5: a "
        "registry or marker)"
    ) in found["reasons"][0], found["reasons"]
    assert "wrapper" not in found["reasons"][0]
    assert document["files_changed"] == []
