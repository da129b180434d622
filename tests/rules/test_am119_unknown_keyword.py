"""AM119 unknown-keyword: the Session passed under a keyword the callee does not have is flagged."""

from __future__ import annotations

HELPERS = """
def load(item_id, session=None):
    return item_id
"""


def test_a_session_keyword_the_callee_lacks_is_am119(app, reported):
    root = app(
        """
        from services.helpers import load


        @router.get("/items/{item_id}")
        async def read(item_id: int, session: session_dependency):
            session.execute("select 1")
            return load(item_id, db=session)
        """,
        {"services/__init__.py": "", "services/helpers.py": HELPERS},
    )
    entry = reported(root, "read", "phase1")
    assert entry["codes"] == ["AM101", "AM119"]
    assert "passes `db=` to services.helpers.load, which has no parameter `db`" in entry["reasons"][1]


def test_near_miss_the_real_keyword_is_not_flagged(app, reported):
    root = app(
        """
        from services.helpers import load


        @router.get("/items/{item_id}")
        async def read(item_id: int, session: session_dependency):
            session.execute("select 1")
            return load(item_id, session=session)
        """,
        {"services/__init__.py": "", "services/helpers.py": HELPERS},
    )
    assert "AM119" not in reported(root, "read", "phase1")["codes"]
