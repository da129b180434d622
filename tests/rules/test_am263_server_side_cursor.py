"""AM263 server-side-cursor: a statement with yield_per / stream_results blocks the route."""

from __future__ import annotations

import pytest

ROUTER = """
@router.get("/titles")
def titles(session: session_dependency):
    return [book.title for book in session.scalars(select(Book).order_by(Book.id){options})]
"""


def test_yield_per_blocks_the_route(phase2, entry):
    found = entry(phase2(ROUTER.format(options=".execution_options(yield_per=2)")), "titles")
    assert found["action"] == "blocked" and found["codes"] == ["AM263"], found
    assert "`execution_options(yield_per=...)` streams rows from a server-side cursor" in found["reasons"][0]


def test_near_miss_other_execution_options_migrate(phase2, entry):
    found = entry(phase2(ROUTER.format(options=".execution_options(populate_existing=True)")), "titles")
    assert found["action"] == "migrate", found


# The options given to `execute()` as a dict, or unpacked from a module-level one.
OPTIONS = """
STREAM = {{"stream_results": True, "max_row_buffer": 50}}
PLAIN = {{"populate_existing": True}}


def titles_of(session: Session, opts: dict) -> list[str]:
    return [title for (title,) in session.execute(select(Book.title).order_by(Book.id){options})]


@router.get("/titles")
def titles(session: session_dependency):
    return titles_of(session, {{}})
"""


def test_options_given_as_a_dict_or_unpacked_block_the_route(phase2, entry):
    for options, written, option in (
        (', execution_options={"yield_per": 2}', "execution_options={...}", "yield_per"),
        (", execution_options=dict(stream_results=True)", "execution_options={...}", "stream_results"),
        (", execution_options=STREAM", "execution_options=STREAM", "stream_results"),
        (", execution_options={**PLAIN, **STREAM}", "execution_options={...}", "stream_results"),
    ):
        found = entry(phase2(OPTIONS.format(options=options)), "titles")
        assert found["action"] == "blocked" and found["codes"] == ["AM263"], (options, found)
        assert f"`{written}` sets `{option}`: it streams rows from a server-side cursor" in found["reasons"][0]
    found = entry(phase2(OPTIONS.format(options=").execution_options(**STREAM")), "titles")
    assert found["action"] == "blocked", found
    assert "`execution_options(**STREAM)` sets `stream_results`" in found["reasons"][0]


def test_options_the_analysis_cannot_read_block_as_unverified(phase2, entry):
    for options, written in ((", execution_options=opts", "execution_options=opts"),
                             (").execution_options(**opts", "execution_options(**opts)")):
        found = entry(phase2(OPTIONS.format(options=options)), "titles")
        assert found["action"] == "blocked" and found["codes"] == ["AM263"], (options, found)
        assert f"`{written}`: options the analysis cannot read" in found["reasons"][0]
        assert "unverified" in found["reasons"][0]


def test_options_from_a_module_level_dict_changed_in_place_are_unverified(phase2, entry):
    # `PLAIN = {...}` then `PLAIN["stream_results"] = True`: its display is not what it holds
    for change in ('PLAIN["stream_results"] = True', 'PLAIN.update(stream_results=True)'):
        source = OPTIONS.replace('PLAIN = {{"populate_existing": True}}\n',
                                 'PLAIN = {{"populate_existing": True}}\n' + change + "\n")
        found = entry(phase2(source.format(options=").execution_options(**PLAIN")), "titles")
        assert found["action"] == "blocked" and found["codes"] == ["AM263"], (change, found)
        assert "`execution_options(**PLAIN)`: options the analysis cannot read" in found["reasons"][0]


def test_near_miss_options_that_do_not_stream_migrate(phase2, entry):
    for options in (', execution_options={"populate_existing": True}', ", execution_options=PLAIN",
                    ").execution_options(**PLAIN"):
        found = entry(phase2(OPTIONS.format(options=options)), "titles")
        assert found["action"] == "migrate", (options, found)


def test_async_session_refuses_streaming_options_in_execute(tmp_path):
    """Why the shapes above block: `AsyncSession.execute()` raises on each of them."""
    import asyncio

    from sqlalchemy import Column, Integer, MetaData, Table, select
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.ext.asyncio.exc import AsyncMethodRequired

    rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True))

    async def run() -> list[str]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db")
        async with engine.begin() as conn:
            await conn.run_sync(rows.metadata.create_all)
        refused = []
        async with AsyncSession(engine) as session:
            for options in ({"yield_per": 2}, {"stream_results": True}):
                try:
                    await session.execute(select(rows.c.id), execution_options=options)
                except AsyncMethodRequired:
                    refused.append(next(iter(options)))
            await session.execute(select(rows.c.id), execution_options={"populate_existing": True})
        await engine.dispose()
        return refused

    assert asyncio.run(run()) == ["yield_per", "stream_results"]


@pytest.mark.parametrize(("chunked", "action"), [
    # chunking a Result the Session call already ran: buffered on AsyncSession, chunked the same
    ("session.scalars(select(Book.id).order_by(Book.id)).yield_per(2).partitions()", "migrate"),
    ("session.execute(select(Book.id).order_by(Book.id)).scalars().yield_per(2).partitions()", "migrate"),
    # a legacy Query's yield_per streams
    ("session.query(Book.id).yield_per(2)", "blocked"),
])
def test_yield_per_on_a_result_the_session_ran_migrates(phase2, entry, chunked, action):
    found = entry(phase2(f"""
        @router.get("/chunks")
        def chunks(session: session_dependency):
            return [list(part) for part in {chunked}]
        """), "chunks")
    assert found["action"] == action, found
    if action == "blocked":
        assert "AM263" in found["codes"], found


# The statement built by a project function that takes no Session.
BUILT = """
def _streamed(stmt):
    return stmt{options}


def titles_stmt():
    return _streamed(select(Book).order_by(Book.id))


@router.get("/titles")
def titles(session: session_dependency):
    return [book.title for book in session.scalars(titles_stmt())]
"""


def test_a_statement_a_helper_builds_with_yield_per_blocks_the_route(phase2, entry):
    found = entry(phase2(BUILT.format(options=".execution_options(yield_per=2)")), "titles")
    assert found["action"] == "blocked" and found["codes"] == ["AM263"], found
    assert found["reasons"][0].startswith(
        "api/items.py:21: calls `api.items.titles_stmt`, where `execution_options(yield_per=...)` streams rows"
    ), found


def test_near_miss_a_helper_building_a_plain_statement_migrates(phase2, entry):
    found = entry(phase2(BUILT.format(options=".execution_options(populate_existing=True)")), "titles")
    assert found["action"] == "migrate", found
