"""AM259 stale-after-commit: with a synchronous sessionmaker that expired on commit, an object
phase two cannot refresh (a parameter from a dependency) read after the commit blocks the
route; one it loaded itself gets a refresh (run in tests/test_phase2_expired_reads.py)."""

from __future__ import annotations


def expiring(app_files: dict[str, str]) -> dict[str, str]:
    engine = app_files["db/engine.py"]
    assert "sessionmaker(engine, expire_on_commit=False)" in engine
    return {"db/engine.py": engine.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")}


def test_an_object_from_a_dependency_read_after_commit_blocks_the_route_with_am259(phase2, entry, app_files):
    document = phase2(
        """
        from fastapi import Depends


        def current_book(session: session_dependency) -> Book:
            return session.get(Book, 1)


        @router.post("/books/bump")
        def bump(session: session_dependency, book: Book = Depends(current_book)):
            session.execute(select(Book.id))
            session.commit()
            return {"title": book.title}
        """,
        expiring(app_files),
    )
    found = entry(document, "bump")
    assert found["action"] == "blocked", found
    assert "AM259" in found["codes"], found


def test_near_miss_an_object_loaded_in_the_route_is_refreshed(phase2, entry, app_files):
    document = phase2(
        """
        @router.post("/books/bump")
        def bump(session: session_dependency):
            book = session.get(Book, 1)
            session.commit()
            return {"title": book.title}
        """,
        expiring(app_files),
    )
    found = entry(document, "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]
