"""AM216 generator-helper: a helper that yields cannot move to AsyncSession, so its route is blocked."""

from __future__ import annotations


def test_a_generator_helper_blocks_its_route_with_am216(phase2, entry):
    document = phase2(
        """
        def iter_titles(session: Session):
            yield from session.scalars(select(Book.title))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(iter_titles(session))
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM216"])
    assert entry(document, "iter_titles", "helpers")["codes"] == ["AM216"]


def test_near_miss_a_helper_returning_a_list_migrates(phase2, entry):
    document = phase2(
        """
        def list_titles(session: Session):
            return list(session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list_titles(session)
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"


def test_a_contextmanager_session_helper_is_named_as_one_with_what_to_do(phase2, entry):
    # It does more than its Session's lifecycle (the audit line), which its twin would have to do too.
    document = phase2(
        """
        from contextlib import contextmanager

        from db.engine import database_sessionmaker


        @contextmanager
        def session_scope():
            session = database_sessionmaker()
            try:
                yield session
                session.commit()
                audit("committed")
            finally:
                session.close()


        def record(session: Session):
            with session_scope() as own:
                own.add(Book(title="x"))


        @router.post("/titles")
        def add_title(session: session_dependency):
            record(session)
        """
    )
    found = entry(document, "add_title")
    assert found["action"] == "blocked"
    text = next(r for c, r in zip(found["codes"], found["reasons"]) if c == "AM216")
    assert "is a `@contextmanager` Session helper" in text
    assert "its body does more than open, yield, commit, roll back and close its Session (line " in text, text
    assert "`audit('committed')`" in text and "write the twin by hand" in text and "pass in the Session" in text
    assert "its callers iterate it synchronously" not in text


def test_near_miss_a_contextmanager_opener_doing_only_its_sessions_lifecycle_gets_an_async_twin(phase2, entry):
    document = phase2(
        """
        from contextlib import contextmanager

        from db.engine import database_sessionmaker


        @contextmanager
        def session_scope():
            session = database_sessionmaker()
            try:
                yield session
                session.commit()
            finally:
                session.close()


        def record(session: Session):
            with session_scope() as own:
                own.add(Book(title="x"))


        @router.post("/titles")
        def add_title(session: session_dependency):
            record(session)
        """
    )
    assert entry(document, "add_title")["action"] == "migrate"
    assert entry(document, "session_scope", "helpers")["action"] == "twin"


def test_the_session_dependency_called_like_a_function_says_to_take_it_as_a_parameter(phase2, entry):
    document = phase2(
        """
        from db.engine import get_db_session


        @router.get("/titles")
        def read_titles():
            session = next(get_db_session())
            return list(session.scalars(select(Book.title)))
        """
    )
    found = entry(document, "read_titles")
    assert found["action"] == "blocked" and "AM216" in found["codes"], found
    # the blocker sits on the dependency's line: the reason names the call to change
    assert "is the session dependency `get_db_session`, which the code calls like a function at api/items.py:" in " ".join(
        found["reasons"]
    ), found["reasons"]


def test_an_async_generator_helper_is_named_as_one_with_what_to_write(phase2, entry):
    # `order_ticker(db)` streamed by server-sent events: "its callers iterate it synchronously" was
    # false of it, and the route's reason said nothing of what to change.
    document = phase2(
        """
        import asyncio

        from fastapi.responses import StreamingResponse


        async def ticker(session: Session):
            for title in session.scalars(select(Book.title)).all():
                yield f"data: {title}\\n\\n"
                await asyncio.sleep(0)


        @router.get("/events")
        async def events(session: session_dependency):
            return StreamingResponse(ticker(session), media_type="text/event-stream")
        """
    )
    found = entry(document, "events")
    text = next(r for c, r in zip(found["codes"], found["reasons"]) if c == "AM216")
    assert "is an async generator, which phase two does not rewrite" in text, text
    assert "await its Session calls by hand" in text and "synchronously" not in text, text


def test_a_streamed_sync_generator_helper_says_what_to_write(phase2, entry):
    document = phase2(
        """
        from fastapi.responses import StreamingResponse


        def lines(session: Session):
            for title in session.scalars(select(Book.title)):
                yield title + "\\n"


        @router.get("/titles.txt")
        def titles(session: session_dependency):
            return StreamingResponse(lines(session))
        """
    )
    text = next(r for c, r in zip(entry(document, "titles")["codes"], entry(document, "titles")["reasons"]) if c == "AM216")
    assert "its callers iterate it synchronously" in text and "async generator twin" in text, text


def test_a_generator_route_is_named_as_one_with_what_to_do(phase2, entry):
    # FastAPI streams a route that yields (Server-Sent Events, JSON Lines): no caller iterates it.
    document = phase2(
        """
        from fastapi.sse import EventSourceResponse


        @router.get("/titles", response_class=EventSourceResponse)
        def stream_titles(session: session_dependency):
            for title in session.scalars(select(Book.title)):
                yield {"title": title}
        """
    )
    found = entry(document, "stream_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM216"]), found
    assert "is a generator route (def), whose body FastAPI iterates while it streams" in found["reasons"][0]
    assert "callers iterate it" not in found["reasons"][0]


HANDED_TRANSACTION = """
from contextlib import contextmanager


@contextmanager
def transaction(session: Session):
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise


@router.post("/titles")
def add_title(title: str, session: session_dependency):
    {block}
    return {{"id": book.id}}
"""


def test_a_transaction_helper_handed_the_session_doing_more_says_the_shape_phase_two_migrates(phase2, entry):
    # `with transaction(session):` already hands it the route's Session: the reason must not ask for that.
    block = "with transaction(session):\n        book = Book(title=title)\n        session.add(book)"
    logged = HANDED_TRANSACTION.replace("        session.commit()\n", "        session.commit()\n        print(session)\n")
    found = entry(phase2(logged.format(block=block)), "add_title")
    assert found["action"] == "blocked" and "AM216" in found["codes"], found
    text = found["reasons"][found["codes"].index("AM216")]
    assert text.startswith(
        "api/items.py:15: `transaction` is a `@contextmanager` Session helper handed the caller's Session "
        "(`session`) and entered with a synchronous `with`"
    ), text
    assert "but its body does more than yield the Session it is handed" in text and "`print(session)`" in text, text
    assert (
        "`with transaction(session):` becomes `try:` over the block ending in `session.commit()`, and "
        "`except Exception:` with `session.rollback()` and `raise`"
    ) in text, text
    assert "pass in the Session" not in text, text


def test_near_miss_the_helper_written_in_the_caller_as_the_reason_says_migrates(phase2, entry):
    block = (
        "try:\n        book = Book(title=title)\n        session.add(book)\n        session.commit()\n"
        "    except Exception:\n        session.rollback()\n        raise"
    )
    found = entry(phase2(HANDED_TRANSACTION.format(block=block)), "add_title")
    assert found["action"] == "migrate" and "AM216" not in found["codes"], found


def test_near_miss_a_transaction_helper_doing_only_its_sessions_lifecycle_is_entered_on_its_twin(phase2, entry):
    block = "with transaction(session):\n        book = Book(title=title)\n        session.add(book)"
    found = entry(phase2(HANDED_TRANSACTION.format(block=block)), "add_title")
    assert found["action"] == "migrate" and "AM216" not in found["codes"], found
    assert any("twins of the helpers handed its Session" in r for r in found["reasons"]), found
