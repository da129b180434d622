"""A dependency given through `functools.partial`: `Depends(partial(load_names, "!"))`.

FastAPI calls `load_names` itself (looking through the partial to tell whether it is a
coroutine function), so an `async def load_names` doing synchronous Session work blocks the
event loop like any other dependency. It is listed as a dependency, `check` reports it,
phase one converts it, and the converted application is RUN with TestClient. A partial of
an `async def` without Session work (the near miss) stays as it is, no finding.
"""

from __future__ import annotations

import json

from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
def _suffix(marker: str) -> str:
    return marker


async def load_names(marker: str, db: Session = Depends(get_db_session)) -> list[str]:
    return [u.name + marker for u in db.scalars(select(User).order_by(User.id)).all()]


async def page_size(default: int, limit: int = 100) -> int:
    return min(limit, default)


@router.get("/names")
async def names(found: list[str] = Depends(partial(load_names, "!")), size: int = Depends(functools.partial(page_size, 1))):
    return {"names": found[:size]}
"""
HEAD = """
import functools
from functools import partial
"""


def test_an_async_dependency_given_through_partial_is_reported_and_converted(cli, service):
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(ROUTES)})
    checked = cli("check", root, "--format", "json")
    assert checked.exit_code == 1, checked.stdout
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == {"load_names": "AM301"}, findings
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    assert handler(document, "load_names")["kind"] == "dependency"
    assert handler(document, "load_names")["action"] == "convert"
    assert function(root, SUBSYSTEM, "load_names").startswith("def load_names(")
    # near miss: a partial of a coroutine without Session work stays a coroutine
    assert handler(document, "page_size")["action"] == "keep"
    assert function(root, SUBSYSTEM, "page_size").startswith("async def page_size(")
    assert cli("check", root, "--format", "json").exit_code == 0
    result = serve(root, "sqlite", """
        print(json.dumps(client.get("/names").json()))
    """)
    assert result == {"names": ["Ann!"]}


WRITES = """
def load_names(marker: str, db: Session = Depends(get_db_session)) -> list[str]:
    return [u.name + marker for u in db.scalars(select(User).order_by(User.id)).all()]


@router.post("/items")
def add_item(found: list[str] = Depends(partial(load_names, "!")), db: Session = Depends(get_db_session)):
    item = Item(name=",".join(found), owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}
"""


def test_phase_two_moves_a_partial_dependency_sharing_the_session_with_its_route(cli, service):
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(WRITES)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    # one Session per request: the route's partial names the dependency's async twin
    assert 'Depends(partial(load_names_async, "!"))' in function(root, SUBSYSTEM, "add_item")
    result = serve(root, "sqlite", """
        answer = client.post("/items").json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"answer": answer, "names": names}))
    """)
    assert result == {"answer": {"id": 1}, "names": ["Ann!,Bob!"]}


ALIASED = """
async def load_names(marker: str, db: Session = Depends(get_db_session)) -> list[str]:
    return [u.name + marker for u in db.scalars(select(User).order_by(User.id)).all()]


async def page_size(default: int, limit: int = 100) -> int:
    return min(limit, default)


loud_names = partial(load_names, "!")
small_page = functools.partial(page_size, 1)


@router.get("/names")
async def names(found: list[str] = Depends(loud_names), size: int = Depends(small_page)):
    return {"names": found[:size]}
"""


def test_a_dependency_given_through_a_module_level_partial_is_reported_and_converted(cli, service):
    # `loud_names = partial(load_names, "!")`, `Depends(loud_names)`: FastAPI calls load_names.
    # It was neither listed nor reported, and `check` passed with the event loop blocked.
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(ALIASED)})
    checked = cli("check", root, "--format", "json")
    assert checked.exit_code == 1, checked.stdout
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == {"load_names": "AM301"}, findings
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    # the partial's argument is no value handed to unknown code: what uses the alias is read
    assert handler(document, "load_names")["action"] == "convert", handler(document, "load_names")
    assert function(root, SUBSYSTEM, "load_names").startswith("def load_names(")
    assert handler(document, "page_size")["action"] == "keep"
    assert cli("check", root, "--format", "json").exit_code == 0
    result = serve(root, "sqlite", """
        print(json.dumps(client.get("/names").json()))
    """)
    assert result == {"names": ["Ann!"]}


def test_near_miss_a_module_level_partial_awaited_by_code_keeps_its_function_async(cli, service):
    awaited = ALIASED + """

@router.get("/first")
async def first(db: Session = Depends(get_db_session)):
    return {"names": await loud_names(db=db)}
"""
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(awaited)})
    document = json.loads(cli("phase1", root, "--format", "json").stdout)
    found = handler(document, "load_names")
    assert found["action"] == "keep" and "AM113" in found["codes"], found


UNTYPED_FACTORY = """
class NameRepo:
    def __init__(self, db) -> None:
        self.db = db

    def names(self) -> list[str]:
        return [u.name for u in self.db.scalars(select(User).order_by(User.id)).all()]


def get_repository(repo_cls, db: Session = Depends(get_db_session)):
    return repo_cls(db)


get_names_repo = partial(get_repository, NameRepo)


@router.get("/names")
async def names(repo=Depends(get_names_repo)):
    return {"names": repo.names()}
"""


def test_an_untyped_object_from_a_module_level_partial_dependency_is_unverified_not_clear(cli, service):
    # The route works on what `get_repository` builds from the Session, the class a parameter the
    # partial binds: `check` passed it, and scan said 'does no synchronous Session work'.
    root = service({SUBSYSTEM: dedent(HEAD) + "\n" + routes(UNTYPED_FACTORY)})
    checked = cli("check", root, "--format", "json")
    assert checked.exit_code == 1, checked.stdout
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == {"names": "AM304"}, findings
    document = json.loads(cli("scan", root, "--format", "json").stdout)
    found = handler(document, "names")
    assert "Depends(get_names_repo)" in " ".join(found["reasons"]), found
