"""AM240 commit-on-exit-differs: reusing an async dependency that does not commit where the sync
one does blocks the route; one that commits the same way is reused."""

from __future__ import annotations

from textwrap import dedent

from test_phase2_commit_on_exit import COMMITTING_ENGINE, EXISTING_ASYNC

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    book = Book(title=title, author_id=1)
    session.add(book)
    session.flush()
    return {"id": book.id}
"""


def test_an_async_dependency_that_does_not_commit_blocks_with_am240(phase2, entry):
    engine = dedent(COMMITTING_ENGINE) + "\n" + EXISTING_ASYNC
    found = entry(phase2(ROUTE, {"db/engine.py": engine}), "create_book")
    assert found["action"] == "blocked" and "AM240" in found["codes"], found
    assert "get_async_db_session" in " ".join(found["reasons"])


def test_near_miss_an_async_dependency_that_commits_too_is_reused(phase2, entry):
    committing = EXISTING_ASYNC.replace("        yield session\n", "        yield session\n        await session.commit()\n")
    assert committing != EXISTING_ASYNC
    found = entry(phase2(ROUTE, {"db/engine.py": dedent(COMMITTING_ENGINE) + "\n" + committing}), "create_book")
    assert found["action"] == "migrate" and "AM240" not in found["codes"], found
