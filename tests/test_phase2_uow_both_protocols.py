"""Phase two and a unit of work defining both protocols, `__enter__`/`__exit__` and
`__aenter__`/`__aexit__`, holding the route's Session: the async twin phase two wrote turned
`__enter__` into `__aenter__` while keeping the class's own `__aenter__`, so it defined
`__aenter__` twice and the later one (calling `self.__enter__()`, which the twin lacks) silently
won (a new-user trial); moved in place, the class did the same. Now the class's own method is
left out where it does what the converted one does (forwards to it, or has the same body), and
each is defined once, its Session calls awaited: RUN on SQLite, PostgreSQL and MariaDB, the row
written and a failed body rolled back. Where the two do different work, the routes entering the
class block (AM297) naming both definitions. Near miss: one protocol moves in place as before."""

from __future__ import annotations

import ast

import pytest
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

UNIT_OF_WORK = """
from sqlalchemy.orm import Session


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> "UnitOfWork":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.session.commit()
        else:
            self.session.rollback()

    async def __aenter__(self) -> "UnitOfWork":
        return self.__enter__()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        self.__exit__(exc_type, exc, tb)
"""
ROUTES = """
from unit_of_work import UnitOfWork


@router.post("/items")
def create(name: str, db: session_dependency):
    with UnitOfWork(db) as uow:
        uow.session.add(Item(name=name, owner_id=1))
    return {"ok": True}


@router.post("/failing")
def failing(name: str, db: session_dependency):
    try:
        with UnitOfWork(db) as uow:
            uow.session.add(Item(name=name, owner_id=1))
            uow.session.flush()
            raise ValueError(name)
    except ValueError:
        pass
    return {"ok": False}
"""
RUN = """
answers = [client.post("/items", params={"name": "pen"}).json(), client.post("/failing", params={"name": "ink"}).json()]
with Sync() as s:
    stored = list(s.scalars(select(Item.name)))
print(json.dumps([answers, stored]))
"""


def _methods(source: str, cls: str) -> list[str]:
    tree = ast.parse(source)
    found = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls)
    return [node.name for node in found.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


BASE = """
from sqlalchemy.orm import Session


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> "UnitOfWork":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.session.commit()
        else:
            self.session.rollback()
"""
# Only `__aenter__` of its own, the same as `__enter__` but for its docstring: the class moves in place.
ONLY_AENTER = BASE + """
    async def __aenter__(self) -> "UnitOfWork":
        \"\"\"Entered.\"\"\"
        return self
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("source", "twin"), [(UNIT_OF_WORK, "UnitOfWorkAsync"), (ONLY_AENTER, "UnitOfWork")],
                         ids=["forwarding-copy", "same-body-in-place"])
def test_a_unit_of_work_with_both_protocols_defines_each_async_method_once(cli, service, kind, source, twin):
    root = service({"unit_of_work.py": source, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("create", "failing"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    written = read(root, "unit_of_work.py")
    methods = _methods(written, twin)
    assert methods.count("__aenter__") == 1 and methods.count("__aexit__") == 1, written
    assert "__enter__" not in methods and "__exit__" not in methods, written
    assert "await self.session.commit()" in written and "await self.session.rollback()" in written, written
    assert f"async with {twin}(db) as uow" in function(root, SUBSYSTEM, "create")
    if twin != "UnitOfWork":
        assert _methods(written, "UnitOfWork").count("__aenter__") == 1  # the original stays as it was
    assert serve(root, kind, RUN) == [[{"ok": True}, {"ok": False}], ["pen"]]


@pytest.mark.parametrize(("own", "method"), [
    # does nothing where `__exit__` commits or rolls back
    ('    async def __aenter__(self) -> "UnitOfWork":\n        return self\n\n'
     "    async def __aexit__(self, exc_type, exc, tb) -> None:\n        pass\n", "__aexit__"),
    # forwards, but drops what `__enter__` returns
    ('    async def __aenter__(self) -> "UnitOfWork":\n        self.__enter__()\n\n'
     "    async def __aexit__(self, exc_type, exc, tb) -> None:\n        return self.__exit__(exc_type, exc, tb)\n",
     "__aenter__"),
])
def test_two_definitions_doing_different_work_block_the_routes_naming_both(cli, service, own, method):
    root = service({"unit_of_work.py": BASE + "\n" + own, SUBSYSTEM: routes(ROUTES)})
    before = read(root, "unit_of_work.py")
    document = apply(cli, root)
    sync = {"__aenter__": "__enter__", "__aexit__": "__exit__"}[method]
    for name in ("create", "failing"):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM297" in found["codes"], found
        reason = next(r for r in found["reasons"] if "defines both" in r)
        assert f"`UnitOfWork`, which defines both `{sync}` (unit_of_work.py:" in reason, reason
        assert f"its own `{method}` (unit_of_work.py:" in reason and "doing different work" in reason, reason
        assert function(root, SUBSYSTEM, name).startswith("def "), name
    assert read(root, "unit_of_work.py") == before


def test_near_miss_a_unit_of_work_with_one_protocol_moves_as_before(cli, service):
    root = service({"unit_of_work.py": BASE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate"
    written = read(root, "unit_of_work.py")
    assert _methods(written, "UnitOfWork") == ["__init__", "__aenter__", "__aexit__"], written
    assert "class UnitOfWorkAsync" not in written
