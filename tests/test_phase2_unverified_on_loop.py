"""Phase two moving a `def` route onto the event loop that reaches a call the analysis cannot
verify (domain events handed to handlers a registry holds, which code elsewhere subscribes),
proved by running.

In the threadpool the handlers could block; on the event loop they block every request, and
`check` reports the migrated route (AM304). Phase two still moves it (its own Session work is
sound) and says so in a follow-up naming the chain, so the report does not read as all-clear.
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]

EVENTS = """
from collections.abc import Callable

_handlers: dict[str, list[Callable[[str], None]]] = {}
published: list[str] = []


def subscribe(kind: str, handler: Callable[[str], None]) -> None:
    _handlers.setdefault(kind, []).append(handler)


def dispatch(kind: str, name: str) -> None:
    published.append(name)
    for handler in _handlers.get(kind, []):
        handler(name)
"""
ROUTES = """
import events


@router.post("/items")
def add_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    events.dispatch("item-added", name)
    return {"id": item.id}


@router.get("/items/count")
def count_items(db: Session = Depends(get_db_session)):
    return db.scalar(select(func.count()).select_from(Item))
"""
CHECK = dedent(
    """
    made = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    count = client.get("/items/count").json()
    import events
    print(json.dumps({"made": made, "count": count, "published": events.published}))
    """
)


def test_a_migrated_route_reaching_an_unverified_call_gets_a_follow_up_and_runs(cli, service):
    root = service({"events.py": EVENTS, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    notes = [n for n in document["subsystem"]["follow_ups"] if "now runs on the event loop" in n]
    assert len(notes) == 1, document["subsystem"]["follow_ups"]
    assert notes[0].startswith(f"{SUBSYSTEM}:"), notes
    assert "add_item now runs on the event loop" in notes[0]
    assert "dispatch -> `handler()` runs a value taken from `_handlers`" in notes[0], notes
    assert "AM304" in notes[0]
    # the route without such a call gets none, and check agrees with the follow-up
    assert not any("count_items" in n for n in document["subsystem"]["follow_ups"])
    checked = cli.json("check", root)["findings"]
    assert [(f["function"], f["code"]) for f in checked] == [("add_item", "AM304")], checked
    assert "make what it runs readable (a module-level table of functions no code changes), or run that call " \
        "with `run_in_threadpool`" in checked[0]["message"], checked
    assert serve(root, "sqlite", CHECK) == {"made": [{"id": 1}, {"id": 2}], "count": 2, "published": ["a", "b"]}
