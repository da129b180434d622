"""AM297 sync-context-manager-session: a unit of work whose `__enter__` / `__exit__` does Session
work blocks its routes where phase two cannot make it an asynchronous context manager (built in
a `with` statement beside another context manager), naming the class; entered by name it moves, and a context manager doing no
Session work is no AM297."""

from __future__ import annotations

import textwrap

UNIT_OF_WORK = """
class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.session.rollback()

    def commit(self):
        self.session.commit()
"""


def test_a_unit_of_work_built_beside_another_context_manager_blocks_naming_the_class(phase2, entry):
    document = phase2(
        UNIT_OF_WORK + textwrap.dedent("""

        @router.post("/books")
        def create(title: str, session: session_dependency):
            with UnitOfWork(session) as uow, open(__file__):
                uow.session.add(Book(title=title))
                uow.commit()
            return {"ok": True}
        """)
    )
    found = entry(document, "create")
    assert found["action"] == "blocked"
    assert "AM297" in found["codes"], found["reasons"]
    reason = found["reasons"][found["codes"].index("AM297")]
    assert "enters the `UnitOfWork` it builds in a `with` statement" in reason, reason
    assert "beside other context managers" in reason and "give it one of its own" in reason, reason
    assert document["files_changed"] == []


def test_near_miss_the_unit_of_work_entered_by_name_moves_as_an_async_context_manager(phase2, entry):
    document = phase2(
        UNIT_OF_WORK + textwrap.dedent("""

        def add_book(title, uow: UnitOfWork):
            with uow:
                uow.session.add(Book(title=title))
                uow.commit()


        @router.post("/books")
        def create(title: str, session: session_dependency):
            add_book(title, UnitOfWork(session))
            return {"ok": True}
        """)
    )
    found = entry(document, "create")
    assert "AM297" not in found["codes"], found["reasons"]
    assert found["action"] == "migrate", found["reasons"]


def test_near_miss_a_context_manager_doing_no_session_work_is_not_am297(phase2, entry):
    document = phase2(
        """
        import time


        class Timer:
            def __enter__(self):
                self.start = time.monotonic()
                return self

            def __exit__(self, *args):
                self.elapsed = time.monotonic() - self.start


        @router.get("/count")
        def count(session: session_dependency):
            with Timer():
                return {"n": session.scalar(select(func.count(Book.id)))}
        """
    )
    found = entry(document, "count")
    assert "AM297" not in found["codes"], found["reasons"]
    assert found["action"] == "migrate", found["reasons"]


def test_near_miss_a_unit_of_work_that_cannot_move_is_blocked_by_why_not_by_how_it_is_entered(phase2, entry):
    # `__enter__` opens the Session itself (`self.session = SessionLocal()`): no way of entering it
    # lets the class move, so binding it first (AM297's advice) would only lead to AM253
    document = phase2(
        textwrap.dedent("""
        from sqlalchemy.orm import sessionmaker

        SessionLocal = sessionmaker()


        class UnitOfWork:
            def __enter__(self):
                self.session = SessionLocal()
                return self

            def __exit__(self, *args):
                self.session.rollback()
                self.session.close()

            def commit(self):
                self.session.commit()


        @router.post("/books")
        def create(title: str, session: session_dependency):
            with UnitOfWork() as uow:
                uow.session.add(Book(title=title))
                uow.commit()
            return {"ok": True}
        """)
    )
    found = entry(document, "create")
    assert found["action"] == "blocked", found
    assert "AM297" not in found["codes"], found["reasons"]
    assert "AM253" in found["codes"], found["reasons"]
