"""AM214 unavailable-on-async-session: a Session method AsyncSession lacks blocks the route where
phase two cannot run it through `await session.run_sync(...)`."""

from __future__ import annotations


def test_bulk_save_objects_in_a_lambda_blocks_the_route_with_am214(phase2, entry):
    document = phase2(
        """
        @router.post("/bulk")
        def bulk(session: session_dependency):
            list(map(lambda b: session.bulk_save_objects([b]), [Book(title="x", author_id=1)]))
            session.commit()
        """
    )
    found = entry(document, "bulk")
    assert (found["action"], found["codes"]) == ("blocked", ["AM214"])
    assert "`session.bulk_save_objects()` does not exist on AsyncSession" in found["reasons"][0]


def test_near_miss_a_direct_bulk_call_runs_through_run_sync(phase2, entry):
    document = phase2(
        """
        @router.post("/bulk")
        def bulk(session: session_dependency):
            session.bulk_save_objects([Book(title="x", author_id=1)])
            session.commit()
        """
    )
    found = entry(document, "bulk")
    assert found["action"] == "migrate" and "AM214" not in found["codes"], found
    assert "await session.run_sync(lambda sync_session: sync_session.bulk_save_objects(" in document["diff"]


def test_near_miss_add_all_exists_on_async_session(phase2, entry):
    document = phase2(
        """
        @router.post("/bulk")
        def bulk(session: session_dependency):
            session.add_all([Book(title="x", author_id=1)])
            session.commit()
        """
    )
    found = entry(document, "bulk")
    assert found["action"] == "migrate" and "AM214" not in found["codes"], found


def test_enable_relationship_loading_blocks_the_route_with_am214(phase2, entry):
    # AsyncSession has no enable_relationship_loading; run on the Session behind it, the lazy loads
    # it enables would still run on the event loop.
    document = phase2(
        """
        @router.post("/draft")
        def draft(session: session_dependency):
            book = Book(title="x", author_id=1)
            session.enable_relationship_loading(book)
            return {"author": book.author.name}
        """
    )
    found = entry(document, "draft")
    assert found["action"] == "blocked" and "AM214" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM214")]
    assert "`session.enable_relationship_loading()` does not exist on AsyncSession" in reason
    assert "run_sync" not in document["diff"]


def test_prepare_blocks_the_route_with_am214(phase2, entry):
    document = phase2(
        """
        @router.post("/two-phase")
        def two_phase(session: session_dependency):
            session.add(Book(title="x", author_id=1))
            session.prepare()
            session.commit()
        """
    )
    found = entry(document, "two_phase")
    assert (found["action"], found["codes"]) == ("blocked", ["AM214"]), found
    assert "two-phase commit" in found["reasons"][0]
