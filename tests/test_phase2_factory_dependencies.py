"""A dependency a factory call builds (`Depends(action_logging())`, airflow's audit log) that
receives the route's Session: phase two gives it no async twin, so the route stays blocked, and
the reason says what it is (a function defined inside the factory) and what to change, not "is a
method dependency"."""

from __future__ import annotations

from test_phase2_rules import handler, run
from test_phase2_soundness import SUBSYSTEM, routes, service

__all__ = ["service"]  # the fixture, used by name

LOGGED = """
def action_logging(event: str = ""):
    def log_action(db: Session = Depends(get_db_session)) -> None:
        db.add(Item(name=event or "logged", owner_id=1))

    return log_action


@router.delete("/items/{item_id}", dependencies=[Depends(action_logging())])
def delete_item(item_id: int, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    if item is not None:
        db.delete(item)
    db.commit()
    return {"ok": True}
"""


def test_a_dependency_a_factory_builds_blocks_naming_the_factory(cli, service):
    root = service({SUBSYSTEM: routes(LOGGED)})
    blocked = handler(run(cli, root), "delete_item")
    assert blocked["action"] == "blocked"
    reason = next(r for r, code in zip(blocked["reasons"], blocked["codes"]) if code == "AM219")
    assert "is a function defined inside `action_logging()`, a factory whose call builds the dependency" in reason
    assert "define it at module level" in reason
    assert "method dependency" not in reason
