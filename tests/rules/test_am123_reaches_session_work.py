"""AM123 reaches-session-work: Session work reached through an object converts the handler."""

from __future__ import annotations

import textwrap

TABLE = """
from db.engine import database_sessionmaker


class ItemsTable:
    def get(self, item_id):
        with database_sessionmaker() as db:
            return db.get(dict, item_id)

    def size(self):
        return 0


Items = ItemsTable()
"""


def test_a_module_instance_method_opening_a_session_converts_with_am123(app, reported):
    root = app(
        """
        from models.items import Items


        @router.get("/items/{item_id}")
        async def read(item_id: int):
            return Items.get(item_id)
        """,
        {"models/__init__.py": "", "models/items.py": TABLE},
    )
    entry = reported(root, "read", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"])
    assert entry["reasons"] == [
        (
            "calls models.items.ItemsTable.get (line 13), which does synchronous Session work: "
            "ItemsTable.get -> with database_sessionmaker() as db -> db.get()"
        )
    ]


def test_near_miss_a_method_without_session_work_keeps_with_am105(app, reported):
    root = app(
        """
        from models.items import Items


        @router.get("/size")
        async def size():
            return Items.size()
        """,
        {"models/__init__.py": "", "models/items.py": TABLE},
    )
    assert reported(root, "size", "phase1")["codes"] == ["AM105"]


COUNTS = """
from db.engine import database_sessionmaker


def article_count():
    with database_sessionmaker() as s:
        return s.execute("select count(*) from article").scalar()


def user_count():
    return 0
"""
DISPATCH_HEAD = """
from services.counts import article_count, user_count

COUNTERS = {"articles": article_count, "users": user_count}
HANDLERS = [article_count]
LABELS = {"articles": "Articles"}
"""


def _dispatch(app, route: str):  # type: ignore[no-untyped-def]
    return app(DISPATCH_HEAD + textwrap.dedent(route), {"services/__init__.py": "", "services/counts.py": COUNTS})


def test_a_helper_called_through_a_module_level_dict_converts_with_am123(app, reported):
    root = _dispatch(
        app,
        """
        @router.get("/counter/{kind}")
        async def counter(kind: str):
            return {"value": COUNTERS[kind]()}
        """,
    )
    entry = reported(root, "counter", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"])
    assert entry["reasons"][0].startswith(
        "calls services.counts.article_count (line 16), which does synchronous Session work: article_count -> "
    )


def test_helpers_called_by_looping_over_a_module_level_list_convert_with_am123(app, reported):
    root = _dispatch(
        app,
        """
        @router.get("/all")
        async def all_counts():
            return [fn() for fn in HANDLERS]


        @router.get("/each")
        async def each_count(kind: str):
            for fn in HANDLERS:
                fn()
            handler = COUNTERS.get(kind)
            return handler()
        """,
    )
    assert reported(root, "all_counts", "phase1")["codes"] == ["AM123"]
    # the loop (line 22) and the name bound to `COUNTERS.get(kind)` (line 24) each reach it
    each = reported(root, "each_count", "phase1")
    assert each["codes"] == ["AM123", "AM123"]
    assert [reason.split(")")[0] for reason in each["reasons"]] == [
        "calls services.counts.article_count (line 22", "calls services.counts.article_count (line 24"
    ]


def test_a_comprehension_variable_is_not_the_module_level_function_of_its_name(app, reported):
    root = _dispatch(
        app,
        """
        from sqlalchemy import text

        from db.engine import engine


        def h():
            with engine.connect() as conn:
                conn.execute(text("select 1"))


        @router.get("/probe")
        async def probe():
            return [h() for h in HANDLERS]
        """,
    )
    entry = reported(root, "probe", "phase1")
    assert entry["codes"] == ["AM123"]
    assert "engine" not in " ".join(entry["reasons"]) and "api.items.h" not in " ".join(entry["reasons"])


def test_near_miss_a_dict_of_plain_values_or_of_helpers_without_session_work_keeps_with_am105(app, reported):
    root = _dispatch(
        app,
        """
        QUIET = [user_count]


        @router.get("/label/{kind}")
        async def label(kind: str):
            return {"label": LABELS[kind], "n": [fn() for fn in QUIET]}
        """,
    )
    assert reported(root, "label", "phase1")["codes"] == ["AM105"]
