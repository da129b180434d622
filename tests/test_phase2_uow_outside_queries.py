"""Session work on the Session a unit of work holds, written outside its class.

`with uow: uow.session.add(item); uow.session.commit()` and
`uow.session.query(Item).filter_by(name=name).first()` in a route or a helper it hands the
unit of work: the class moves to an asynchronous context manager, so `uow.session` is then an
AsyncSession. The Session methods were awaited, but the legacy chain stayed as written and
raised "'AsyncSession' object has no attribute 'query'" at run time. It is now a `select()`,
awaited on `uow.session`, as a chain on `self.session` in the class is, and RUN on SQLite,
PostgreSQL and MariaDB: the rows are read back. A chain that has no `select()` form, or that
needs `await` where none can stand (a lambda), blocks the route naming it; and were the
rewrite to leave one, the self-check refuses the route.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve
from test_phase2_uow_opening import UOW

from async_migrate.codemods.phase2 import closure as closures
from async_migrate.codemods.phase2.rewrites import query_chains

service = test_phase2_soundness.service

HELPER = """

def add_direct(name, uow) -> int:
    with uow:
        uow.session.add(Item(name=name, owner_id=1))
        uow.session.commit()
        return uow.session.query(Item).filter_by(name=name).first().id
"""
HEAD = "from uow import SqlAlchemyUnitOfWork, get_uow\n"
HELPED_HEAD = "from uow import SqlAlchemyUnitOfWork, add_direct, get_uow\n"
IN_ROUTE = """
@router.post("/items")
def create_item(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
    with uow:
        uow.session.add(Item(name=name, owner_id=1))
        uow.session.commit()
        return {"id": uow.session.query(Item).filter_by(name=name).first().id}
"""
IN_HELPER = """
@router.post("/helped")
def create_helped(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
    return {"id": add_direct(name, uow)}
"""
RUN = """
    created = client.post("/items", params={"name": "pen"}).json()
    helped = client.post("/helped", params={"name": "ink"}).json()
    with Sync() as s:
        stored = {i.name: i.id for i in s.scalars(select(Item))}
    print(json.dumps([created, helped, stored]))
"""
EXPECTED = [{"id": 1}, {"id": 2}, {"pen": 1, "ink": 2}]


@pytest.mark.parametrize("kind", KINDS)
def test_a_legacy_chain_on_a_unit_of_works_session_outside_the_class_migrates_and_runs(cli, service, kind):
    root = service({SUBSYSTEM: routes(HELPED_HEAD, IN_ROUTE, IN_HELPER), "uow.py": UOW + HELPER})
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("create_item", "create_helped"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    chain = "(await uow.session.scalars(select(Item).filter_by(name=name).limit(1))).first().id"
    assert f'return {{"id": {chain}}}' in read(root, SUBSYSTEM), read(root, SUBSYSTEM)
    assert f"        await uow.session.commit()\n        return {chain}\n" in read(root, "uow.py"), read(root, "uow.py")
    assert ".query(" not in read(root, SUBSYSTEM) + read(root, "uow.py").split("def add_direct")[-1]
    assert serve(root, kind, RUN) == EXPECTED


STREAMED = """
@router.get("/names")
def names(uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
    with uow:
        return [i.name for i in uow.session.query(Item).order_by(Item.id).yield_per(10)]
"""


def test_near_miss_a_chain_with_no_select_form_blocks_the_route_naming_it(cli, service):
    root = service({SUBSYSTEM: routes(HEAD, IN_ROUTE, STREAMED), "uow.py": UOW})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "names")
    assert found["action"] == "blocked", found
    assert "AM213" in found["codes"], found
    assert any(
        reason.startswith("api/items.py:26: names runs the legacy Query "
                          "`uow.session.query(Item).order_by(Item.id).yield_per(10)`")
        for reason in found["reasons"]
    ), found["reasons"]
    assert handler(document, "create_item")["action"] == "migrate"
    assert "yield_per(10)" in read(root, SUBSYSTEM) and read(root, SUBSYSTEM) != before
    assert serve(root, "sqlite", """
        client.post("/items", params={"name": "pen"})
        print(json.dumps(client.get("/names").json()))
    """) == ["pen"]


IN_LAMBDA = """
@router.get("/ranked")
def ranked(uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
    with uow:
        return sorted(["pen", "ink"], key=lambda n: uow.session.query(Item).filter_by(name=n).count())
"""


def test_near_miss_a_chain_in_a_lambda_blocks_the_route(cli, service):
    root = service({SUBSYSTEM: routes(HEAD, IN_ROUTE, IN_LAMBDA), "uow.py": UOW})
    found = handler(apply(cli, root), "ranked")
    assert found["action"] == "blocked", found
    assert any(
        reason.startswith("api/items.py:26: `uow.session.query()` runs on the Session SqlAlchemyUnitOfWork holds "
                          "inside a nested function or lambda")
        for reason in found["reasons"]
    ), found["reasons"]
    assert "key=lambda n: uow.session.query(Item).filter_by(name=n).count()" in read(root, SUBSYSTEM)


def test_the_self_check_refuses_a_chain_the_rewrite_leaves_on_the_async_session(cli, service, monkeypatch):
    # The rewrite "forgets" chains outside the class, and the closure does not block them.
    monkeypatch.setattr(query_chains, "held_query_root", lambda project, fid, call: None)
    monkeypatch.setattr(closures, "_outside_held_problems", lambda project, fid: [])
    root = service({SUBSYSTEM: routes(HEAD, IN_ROUTE), "uow.py": UOW})
    before = read(root, SUBSYSTEM)
    found = handler(run(cli, root, "--apply", "--allow-dirty", "--jobs", "1"), "create_item")
    assert found["action"] == "blocked", found
    assert any(
        "self-check:" in reason and "`uow.session.query()` does not exist on AsyncSession" in reason
        for reason in found["reasons"]
    ), found["reasons"]
    assert read(root, SUBSYSTEM) == before


WITH_BUILT = """
@router.post("/built")
def create_built(name: str):
    with SqlAlchemyUnitOfWork() as uow:
        uow.session.add(Item(name=name, owner_id=1))
        uow.session.commit()
    return {"ok": True}
"""


def test_a_unit_of_work_built_in_the_with_statement_moves_to_async_with(cli, service):
    # `with SqlAlchemyUnitOfWork() as uow:` becomes `async with SqlAlchemyUnitOfWorkAsync() as uow:`,
    # the construction not awaited, never left as a synchronous `with` around an AsyncSession.
    root = service({SUBSYSTEM: routes(HEAD, WITH_BUILT), "uow.py": UOW})
    found = handler(apply(cli, root), "create_built")
    assert found["action"] == "migrate", found
    written = read(root, SUBSYSTEM)
    assert "    async with SqlAlchemyUnitOfWorkAsync() as uow:\n        uow.session.add(" in written, written
    assert "await SqlAlchemyUnitOfWorkAsync" not in written, written
    assert serve(root, "sqlite", """
        status = client.post("/built", params={"name": "pen"}).status_code
        with Sync() as s:
            print(json.dumps([status, [i.name for i in s.scalars(select(Item))]]))
    """) == [200, ["pen"]]
