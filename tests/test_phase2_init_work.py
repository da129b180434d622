"""Phase two on a class dependency whose `__init__` does Session work itself.

`class Scope: def __init__(self, db: session_dependency, name: str): self.db = db;
self.owner = db.scalar(...)`, injected as `Annotated[Scope, Depends()]`: on the AsyncSession
that query must be awaited, and Python calls `__init__` without `await`. The rewrite wrote
`self.owner = await db.scalar(...)` into the plain `def __init__`, a module that does not
compile; the routes using the class are now blocked (AM253), and phase two's self-check
blocks any rewrite that puts `await` in a plain function.
"""

from __future__ import annotations

import ast

import test_phase2_soundness
from test_phase2_rules import apply, handler
from test_phase2_soundness import routes, serve

from async_migrate.codemods.phase2 import self_check

service = test_phase2_soundness.service

SCOPE = """
from typing import Annotated


class OwnerScope:
    def __init__(self, db: session_dependency, owner_name: str = "Ann") -> None:
        self.db = db
        self.owner = {load}
        if self.owner is None:
            raise LookupError(owner_name)

    def add(self, name: str) -> int:
        item = Item(name=name, owner_id=self.owner.id)
        self.db.add(item)
        self.db.commit()
        return item.id


def find_owner(db: Session, name: str) -> User | None:
    return db.scalar(select(User).where(User.name == name))
"""
ROUTE = """
@router.post("/items")
def create_item(name: str, scope: Annotated[OwnerScope, Depends()]):
    return {"id": scope.add(name)}
"""


def test_init_doing_session_work_blocks_the_routes_injecting_the_class(cli, service):
    root = service({
        "api/items.py": routes(SCOPE.replace("{load}", "db.scalar(select(User).where(User.name == owner_name))"), ROUTE)
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert "OwnerScope.__init__ does Session work itself (`db.scalar()`), which would be awaited on the " \
        "AsyncSession, and Python calls `__init__` without `await`" in " ".join(found["reasons"])
    assert "api/items.py" not in document["files_changed"]
    ast.parse((root / "api/items.py").read_text())
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


def test_init_calling_a_helper_with_the_session_blocks_too(cli, service):
    root = service({"api/items.py": routes(SCOPE.replace("{load}", "find_owner(db, owner_name)"), ROUTE)})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert "OwnerScope.__init__ calls api.items.find_owner with the Session, which would be awaited" \
        in " ".join(found["reasons"])


def test_near_miss_init_only_storing_the_session_moves_and_runs(cli, service):
    root = service({"api/items.py": routes(SCOPE.replace("{load}", "owner_name"), ROUTE.replace(
        "return {\"id\": scope.add(name)}", "return {\"id\": scope.add(name), \"owner\": scope.owner}"
    )).replace("owner_id=self.owner.id", "owner_id=1")})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    result = serve(root, "sqlite", """
        response = client.post("/items", params={"name": "pen"}).json()
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"response": response, "items": items}))
    """)
    assert result == {"response": {"id": 1, "owner": "Ann"}, "items": ["pen"]}


def test_self_check_names_an_await_the_rewrite_puts_in_a_plain_function():
    before = ast.parse("class A:\n    def __init__(self, db):\n        self.x = db.get(1)\n").body
    after = ast.parse(
        "class A:\n    def __init__(self, db):\n        self.x = await db.get(1)\n\n\n"
        "async def ok(db):\n    return [await db.get(i) for i in range(2)]\n"
    ).body
    found = self_check._await_outside_coroutines([("api.items", "api/items.py", before, after)])
    assert [v.message for v in found] == [
        "the rewrite puts `await` in the plain function `A.__init__` (line 3 of the rewritten module), which "
        "Python calls without awaiting: the module would not compile"
    ]
    assert self_check._await_outside_coroutines([("api.items", "api/items.py", after, after)]) == []
