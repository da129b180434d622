"""AM304 unverified-session: a route awaiting a registry's method that hands the Session to
coroutines it takes from a table filled at run time (`await hooks.fire(db, id)`, `fire` running
`await hook(db, id)` for each registered hook). check reported definite synchronous Session work
(AM301, "uses the Session `db`") with the fix "move the awaited call out", though the analysis
cannot tell what runs there: unverified. Near misses: the route also calling the Session itself,
and a registry method doing Session work of its own, stay AM301."""

from __future__ import annotations

HOOKS = """
from sqlalchemy import select
from sqlalchemy.orm import Session


class HookRegistry:
    def __init__(self):
        self._hooks = []

    def register(self, fn):
        self._hooks.append(fn)
        return fn

    async def fire(self, db: Session, item_id: int) -> int:
        for hook in self._hooks:
            await hook(db, item_id)
        return len(self._hooks)

    async def fire_and_commit(self, db: Session, item_id: int) -> int:
        for hook in self._hooks:
            await hook(db, item_id)
        db.commit()
        return len(self._hooks)


hooks = HookRegistry()


@hooks.register
async def touch(db: Session, item_id: int) -> None:
    db.execute(select(item_id))
"""

ROUTES = """
from sqlalchemy import select

from hooks import hooks


@router.post("/{item_id}/fire")
async def fire_hooks(item_id: int, db: session_dependency):
    n = await hooks.fire(db, item_id)
    return {"hooks": n}


@router.post("/{item_id}/fire-count")
async def fire_and_count(item_id: int, db: session_dependency):
    n = await hooks.fire(db, item_id)
    return {"hooks": n, "count": db.scalar(select(1))}


@router.post("/{item_id}/fire-commit")
async def fire_committing(item_id: int, db: session_dependency):
    n = await hooks.fire_and_commit(db, item_id)
    return {"hooks": n}
"""


def _root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"hooks.py": HOOKS})


def test_registry_coroutines_handed_the_session_are_unverified(app, findings):
    root = _root(app)
    found = findings(root, "fire_hooks")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "HookRegistry.fire -> " in found[0]["message"] and "`hook`" in found[0]["message"], found
    assert "uses the Session" not in found[0]["message"]


def test_near_miss_own_session_call_beside_it_is_definite(app, findings):
    found = findings(_root(app), "fire_and_count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "db.scalar()" in found[0]["message"]


def test_near_miss_registry_method_committing_is_definite(app, findings):
    found = findings(_root(app), "fire_committing")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "HookRegistry.fire_and_commit" in found[0]["message"]
