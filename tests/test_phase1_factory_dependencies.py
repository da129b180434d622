"""A dependency a project factory returns: `Depends(counter(User))`, `Depends(repo_for(Item))`.

FastAPI runs the nested function the factory returns (under `@lru_cache` or not), so an
`async def` one doing synchronous Session work blocks the event loop like any other
dependency: it is listed as a dependency, `check` reports it, phase one converts it in place,
and the converted application is RUN with TestClient. Phase two does not move a route whose
Session work goes through what such a dependency hands it: migrated alone, the route awaited
methods of the synchronous object the dependency still built.
"""

from __future__ import annotations

import json

from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

HEAD = """
from functools import lru_cache
"""
ROUTES = """
class Repo:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item


@lru_cache
def counter(model):
    async def count(db: Session = Depends(get_db_session)) -> int:
        return len(db.scalars(select(model)).all())

    return count


def repo_for(model):
    async def build(db: Session = Depends(get_db_session)) -> Repo:
        return Repo(db)

    return build


def page(size):
    async def sized() -> int:
        return size

    return sized


@router.get("/users/count")
async def count_users(n: int = Depends(counter(User)), size: int = Depends(page(10))):
    return {"n": n, "size": size}


@router.post("/items")
async def add_item(repo: Repo = Depends(repo_for(Item))):
    return {"id": repo.add("x").id}
"""

# An item written through the factory's repository, read back; the users the count dependency counts.
SCRIPT = """
    with Sync() as s:
        s.add(User(name="Ann"))
        s.commit()
    answer = client.post("/items").json()
    with Sync() as s:
        names = list(s.scalars(select(Item.name)).all())
        users = s.scalar(select(func.count()).select_from(User))
    print(json.dumps({"count": client.get("/users/count").json(), "users": users, "answer": answer, "names": names}))
"""


def test_an_async_dependency_a_factory_returns_is_reported_and_converted(cli, service):
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(ROUTES)})
    checked = cli("check", root, "--format", "json")
    findings = {(f["function"], f["code"]) for f in json.loads(checked.stdout)["findings"]}
    assert ("counter.<locals>.count", "AM301") in findings, findings
    assert not any(name == "page.<locals>.sized" for name, _ in findings), findings
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    assert handler(document, "counter.<locals>.count")["kind"] == "dependency"
    assert handler(document, "counter.<locals>.count")["action"] == "convert"
    text = (root / SUBSYSTEM).read_text()
    assert "    def count(db: Session" in text and "    async def sized()" in text
    assert cli("check", root, "--format", "json").exit_code == 0
    result = serve(root, "sqlite", SCRIPT)
    assert result["count"] == {"n": result["users"], "size": 10}, result
    assert (result["answer"], result["names"]) == ({"id": 1}, ["x"]), result


def test_phase_two_blocks_a_route_working_through_what_a_factory_dependency_hands_it(cli, service):
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(ROUTES)})
    before = (root / SUBSYSTEM).read_text()
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "blocked", handler(document, "add_item")
    assert "repo_for.<locals>.build" in " ".join(handler(document, "add_item")["reasons"])
    assert "async def add_item(repo: Repo = Depends(repo_for(Item)))" in (root / SUBSYSTEM).read_text()
    assert "repo.add(" in before
    result = serve(root, "sqlite", SCRIPT)
    assert (result["answer"], result["names"]) == ({"id": 1}, ["x"]), result
