"""AM297 sync-context-manager-session: a unit of work whose `__enter__` / `__exit__` does Session
work blocks its routes, naming the class and the work; a context manager doing none does not."""

from __future__ import annotations


def test_a_unit_of_work_rolling_back_in_exit_blocks_naming_the_class(phase2, entry):
    document = phase2(
        """
        class UnitOfWork:
            def __init__(self, session: Session):
                self.session = session

            def __enter__(self):
                return self

            def __exit__(self, *args):
                self.session.rollback()

            def commit(self):
                self.session.commit()


        def add_book(title, uow: UnitOfWork):
            with uow:
                uow.session.add(Book(title=title))
                uow.commit()


        @router.post("/books")
        def create(title: str, session: session_dependency):
            add_book(title, UnitOfWork(session))
            return {"ok": True}
        """
    )
    found = entry(document, "create")
    assert found["action"] == "blocked"
    assert "AM297" in found["codes"], found["reasons"]
    reason = found["reasons"][found["codes"].index("AM297")]
    assert "`UnitOfWork.__exit__` does Session work (`self.session.rollback()`" in reason, reason
    assert "asynchronous context manager" in reason
    assert document["files_changed"] == []


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
