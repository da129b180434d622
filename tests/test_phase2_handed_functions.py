"""Phase two and a function doing synchronous Session work on a Session of its own, handed as a
value to a project function that calls it (`apply(count_items)` with `def apply(fn): return fn()`,
`retry(counter.count)`). Phase two migrated such a route to `async def` and left the call as it
was: the handed function then ran its synchronous Session work on the event loop, which `check`
did not report either. The route now stays synchronous, blocked with the reason naming the
function, the helper and where it calls it (AM272); a route handing a function that does no Session
work still migrates. RUN on SQLite, PostgreSQL and MariaDB: every row is written and counted."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
from db.engine import database_sessionmaker


def count_items() -> int:
    with database_sessionmaker() as s:
        return s.scalar(select(func.count(Item.id)))


class Counter:
    def count(self) -> int:
        with database_sessionmaker() as s:
            return s.scalar(select(func.count(Item.id)))


def apply(fn, *args):
    return fn(*args)


def retry(fn):
    return apply(fn)


def label(name: str) -> str:
    return name.upper()


@router.post("/applied")
def applied(db: session_dependency):
    db.add(Item(name="applied", owner_id=1))
    db.commit()
    return {"n": apply(count_items)}


@router.post("/bound")
def bound(db: session_dependency):
    db.add(Item(name="bound", owner_id=1))
    db.commit()
    counter = Counter()
    return {"n": retry(counter.count)}


@router.post("/plain")
def plain(db: session_dependency):
    db.add(Item(name=apply(label, "plain"), owner_id=1))
    db.commit()
    return {"n": 0}
"""
RUN = """
answers = [client.post(path).json()["n"] for path in ("/applied", "/bound", "/plain")]
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps([answers, names]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_function_working_on_its_own_session_handed_to_a_helper_blocks_the_route(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name, handed, to in (("applied", "count_items", "apply()"), ("bound", "Counter.count", "retry()")):
        found = handler(document, name)
        assert found["action"] == "blocked", found
        assert any(f"hands {handed} to `{to}`, which calls it" in r for r in found["reasons"]), found["reasons"]
        assert function(root, SUBSYSTEM, name).startswith("def "), name
    assert handler(document, "plain")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "plain").startswith("async def ")
    assert serve(root, kind, RUN) == [[1, 2, 0], ["PLAIN", "applied", "bound"]]
