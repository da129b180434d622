"""AM248 expired-after-commit: with a reused async sessionmaker that expires on commit, an object
the route did not load itself and reads after the commit blocks it; one it loaded is refreshed."""

from __future__ import annotations

from textwrap import dedent

EXPIRING = dedent(
    """
    from collections.abc import AsyncIterator, Iterator

    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
    from sqlalchemy.orm import Session, sessionmaker

    engine = create_engine("sqlite://")
    database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


    def get_db_session() -> Iterator[Session]:
        with database_sessionmaker() as session:
            yield session

    async_engine = create_async_engine("sqlite+aiosqlite://")
    AsyncSessionLocal = async_sessionmaker(async_engine)


    async def get_async_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSessionLocal() as session:
            yield session
    """
) + "\n"


def test_an_object_from_a_helper_read_after_commit_blocks_with_am248(phase2, entry):
    found = entry(phase2(
        """
        def find(session: Session, book_id: int) -> Book:
            return session.get(Book, book_id) or Book(title="?")


        @router.put("/books/{book_id}")
        def rename(book_id: int, title: str, session: session_dependency):
            book = find(session, book_id)
            book.title = title
            session.commit()
            return {"title": book.title}
        """,
        {"db/engine.py": EXPIRING},
    ), "rename")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM248")]
    assert "`book.title` is read after `session.commit()`" in reason and "expire_on_commit=True" in reason, reason
    assert "db/engine.py:" in reason, reason


def test_near_miss_an_object_the_route_loads_itself_is_refreshed(phase2, entry):
    found = entry(phase2(
        """
        @router.put("/books/{book_id}")
        def rename(book_id: int, title: str, session: session_dependency):
            book = session.get(Book, book_id)
            book.title = title
            session.commit()
            return {"title": book.title}
        """,
        {"db/engine.py": EXPIRING},
    ), "rename")
    assert found["action"] == "migrate" and "AM248" not in found["codes"], found


def test_a_reused_maker_whose_expiry_cannot_be_read_counts_as_expiring_and_says_so(phase2, entry):
    unread = EXPIRING.replace("async_sessionmaker(async_engine)", "async_sessionmaker(async_engine, **OPTIONS)")
    found = entry(phase2(
        """
        def find(session: Session, book_id: int) -> Book:
            return session.get(Book, book_id) or Book(title="?")


        @router.put("/books/{book_id}")
        def rename(book_id: int, title: str, session: session_dependency):
            book = find(session, book_id)
            book.title = title
            session.commit()
            return {"title": book.title}
        """,
        {"db/engine.py": unread.replace("async_engine = ", 'OPTIONS = {"autoflush": False}\nasync_engine = ')},
    ), "rename")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM248")]
    assert "`**OPTIONS`: phase two cannot read its expire_on_commit, so it counts as True" in reason, reason


def test_near_miss_a_reused_maker_that_says_false_blocks_nothing(phase2, entry):
    keeps = EXPIRING.replace("async_sessionmaker(async_engine)", "async_sessionmaker(async_engine, expire_on_commit=False)")
    found = entry(phase2(
        """
        def find(session: Session, book_id: int) -> Book:
            return session.get(Book, book_id) or Book(title="?")


        @router.put("/books/{book_id}")
        def rename(book_id: int, title: str, session: session_dependency):
            book = find(session, book_id)
            book.title = title
            session.commit()
            return {"title": book.title}
        """,
        {"db/engine.py": keeps},
    ), "rename")
    assert found["action"] == "migrate", found


def test_near_miss_an_object_a_helper_finds_on_the_routes_session_is_refreshed(phase2, entry):
    document = phase2(
        """
        def find(session: Session, book_id: int) -> Book | None:
            return session.get(Book, book_id)


        @router.put("/books/{book_id}")
        def rename(book_id: int, title: str, session: session_dependency):
            book = find(session, book_id)
            book.title = title
            session.commit()
            return {"title": book.title}
        """,
        {"db/engine.py": EXPIRING},
    )
    found = entry(document, "rename")
    assert found["action"] == "migrate" and "AM248" not in found["codes"], found
    assert "+    if book is not None:\n+        await session.refresh(book)\n" in document["diff"], document["diff"]
