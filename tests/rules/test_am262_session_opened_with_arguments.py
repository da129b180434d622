"""AM262 session-opened-with-arguments: a Session opened on the engine with keywords phase two
cannot map, or a Session a decorator opens and passes in, blocks the routes reaching it;
`with Session(engine) as s:` on the stack's engine and `SessionLocal()` do not."""

from __future__ import annotations

OPENED = """
import functools

from sqlalchemy.orm import Session
from db.engine import database_sessionmaker, engine


def with_session(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with database_sessionmaker() as session:
            return fn(session, *args, **kwargs)

    return wrapper


{helper}


@router.get("/count")
async def count():
    return {{"n": count_books()}}
"""


def test_a_session_opened_with_a_keyword_phase_two_cannot_map_blocks_the_route(phase2, entry):
    helper = (
        "def count_books():\n    with Session(engine, twophase=True) as session:\n"
        "        return session.scalar(select(func.count(Book.id)))"
    )
    found = entry(phase2(OPENED.format(helper=helper)), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM262"], found
    assert "opens its Session as `Session(...)` with `twophase=`" in found["reasons"][0]


def test_a_session_a_decorator_opens_blocks_the_route(phase2, entry):
    helper = (
        "@with_session\ndef count_books(session):\n    return session.scalar(select(func.count(Book.id)))"
    )
    found = entry(phase2(OPENED.format(helper=helper).replace("count_books()", "count_books()")), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM262"], found
    assert "gets its Session `session` from decorator @with_session, which opens a synchronous one" in found["reasons"][0]


def test_near_miss_a_session_from_the_maker_without_arguments_migrates(phase2, entry):
    helper = (
        "def count_books():\n    with database_sessionmaker() as session:\n"
        "        return session.scalar(select(func.count(Book.id)))"
    )
    document = phase2(OPENED.format(helper=helper))
    assert entry(document, "count")["action"] == "migrate"
    assert "async with async_database_sessionmaker() as session:" in document["diff"]


def test_near_miss_a_session_on_the_stacks_engine_in_a_with_block_migrates(phase2, entry):
    helper = "def count_books():\n    with Session(engine) as session:\n        return session.scalar(select(func.count(Book.id)))"
    document = phase2(OPENED.format(helper=helper))
    assert entry(document, "count")["action"] == "migrate"
    assert "+    async with AsyncSession(async_engine) as session:" in document["diff"]
    assert "+        return await session.scalar(select(func.count(Book.id)))" in document["diff"]
