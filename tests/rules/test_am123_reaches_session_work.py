"""AM123 reaches-session-work: Session work reached through an object converts the handler."""

from __future__ import annotations

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
