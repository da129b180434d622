"""Columns of a mapped class the database computes when a row is updated (`ClassFacts.generated`).

    updated_at: Mapped[datetime] = mapped_column(onupdate=func.now())
    total: Mapped[int] = mapped_column(Computed("price * quantity"))
    version: Mapped[int] = mapped_column(server_onupdate=FetchedValue())

The flush of a change to such a row expires these attributes (their values are in the database
only), whatever `expire_on_commit` says: the next read reloads the row, implicit IO that raises
MissingGreenlet on an AsyncSession. `onupdate=` a Python callable or a literal (`datetime.now`,
`lambda: ...`, `0`) is computed by Python and set on the object by the flush: not one of these.
A `__mapper_args__` with `"eager_defaults": True` fetches them with the flush (`ClassFacts.eager_defaults`).
"""

from __future__ import annotations

import ast

_ON_UPDATE_KEYS = frozenset({"onupdate", "server_onupdate"})


def updated_by_database(value: ast.expr) -> bool:
    """Whether a class-level value maps a column the database computes on UPDATE."""
    if type(value) is not ast.Call:
        return False
    for item in value.args:
        if type(item) is ast.Call and _name(item.func) == "Computed":
            return True
    for keyword in value.keywords:
        if keyword.arg == "server_onupdate":
            return True
        if keyword.arg == "onupdate" and not _python_side(keyword.value):
            return True
        if keyword.arg == "sa_column_kwargs" and type(keyword.value) is ast.Dict:
            for key, held in zip(keyword.value.keys, keyword.value.values):
                if type(key) is ast.Constant and key.value in _ON_UPDATE_KEYS and (
                    key.value == "server_onupdate" or not _python_side(held)
                ):
                    return True
        if keyword.arg == "sa_column" and updated_by_database(keyword.value):
            return True
    return False


def _python_side(value: ast.expr) -> bool:
    """`datetime.now`, `lambda: ...`, a literal: computed by Python and set on the object by the
    flush; a call (`func.now()`, `text(...)`) is a SQL expression the database computes."""
    return type(value) in (ast.Lambda, ast.Constant, ast.Name, ast.Attribute)


def _name(node: ast.expr) -> str:
    return node.attr if type(node) is ast.Attribute else node.id if type(node) is ast.Name else ""
