"""Phase two refreshes, after the route's commit, what a dependency sharing the route's Session
loaded: the current user a route renames and returns, a repository's result.

FastAPI hands `get_current_user(db = Depends(get_db_session))` the route's own Session, and
phase two moves both to the async dependency together, so the object is one of the Session that
commits. The synchronous sessionmaker expired it on commit and the read reloaded the row; on the
generated async sessionmaker (`expire_on_commit=False`) the read answers what the object held
before the commit (stale after a raw UPDATE), and on a reused one that expires it raises
MissingGreenlet. `await db.refresh(user)` after the commit fixes both: each route is migrated and
RUN on aiosqlite, PostgreSQL and MariaDB. Near misses: a dependency on a Session of its own
(`use_cache=False`) or one whose value phase two cannot show it loaded still blocks, saying why.
"""

from __future__ import annotations

import pytest
from test_phase2_expired_reads import EXPIRING_ENGINE
from test_phase2_expired_reads import SCHEMAS as ITEM_SCHEMAS
from test_phase2_rules import apply, dedent, function, handler, run
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service
from test_phase2_soundness_stack import existing_async

__all__ = ["service"]  # the fixture, used by name

# `UserOut`: the id and name of a User, read from its attributes
SCHEMAS = ITEM_SCHEMAS.replace("class ItemOut(", "class UserOut(")
CURRENT_USER = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


def require_active(user: User = Depends(get_current_user)) -> User:
    return user


class UserRepo:
    def __init__(self, db: Session):
        self.db = db

    def get(self, user_id: int) -> User | None:
        return self.db.get(User, user_id)


def get_repo(db: Session = Depends(get_db_session)) -> UserRepo:
    return UserRepo(db)
"""
ROUTES = """
@router.put("/me", response_model=UserOut)
def rename_me(name: str, user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return user
""", """
@router.put("/me/raw")
def rename_raw(name: str, user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
    db.execute(text("UPDATE users SET name = :n WHERE id = :i"), {"n": name, "i": user.id})
    db.commit()
    return {"name": user.name}
""", """
@router.put("/me/active")
def rename_active(name: str, user: User = Depends(require_active), db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return {"name": user.name}
""", """
@router.put("/users/{user_id}", response_model=UserOut)
def rename_user(user_id: int, name: str, repo: UserRepo = Depends(get_repo), db: Session = Depends(get_db_session)):
    user = repo.get(user_id)
    user.name = name
    db.commit()
    return user
"""
# The synchronous sessionmaker expires on commit (its default); the async one is generated
# (keeps objects) or the project's own, expiring.
STACKS = {
    "generated": dedent(ENGINE).replace(*EXPIRING_ENGINE),
    "reused-expiring": existing_async(
        "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)"
    ).replace(*EXPIRING_ENGINE),
}


def _app(service, stack: str, *parts: str):  # type: ignore[no-untyped-def]
    source = routes(CURRENT_USER, *parts).replace(
        "from sqlalchemy import func, select", "from sqlalchemy import func, select, text"
    ).replace("from models import", "from schemas import UserOut\nfrom models import").replace(
        "from fastapi import APIRouter, Depends", "from fastapi import APIRouter, Depends, Security"
    )
    return service({"db/engine.py": STACKS[stack], "schemas.py": dedent(SCHEMAS), SUBSYSTEM: source})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_what_a_dependency_sharing_the_session_loaded_is_refreshed_and_the_response_carries_the_new_value(
    cli, service, stack, kind
):
    root = _app(service, stack, *ROUTES)
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(
        ("rename_me", "rename_raw", "rename_active", "rename_user"), "migrate"
    ), document["handlers"]
    refreshed = "    await db.commit()\n    if user is not None:\n        await db.refresh(user)\n"
    for name in ("rename_me", "rename_raw", "rename_active", "rename_user"):
        assert refreshed in function(root, SUBSYSTEM, name), function(root, SUBSYSTEM, name)
    result = serve(root, kind, """
        answers = [
            client.put("/me", params={"name": "Zoe"}),
            client.put("/me/raw", params={"name": "Max"}),
            client.put("/me/active", params={"name": "Eve"}),
            client.put("/users/2", params={"name": "Kim"}),
        ]
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"answers": [[a.status_code, a.json()] for a in answers], "names": names}))
    """)
    # Without the refresh: the raw UPDATE's name answered as "Zoe" on the generated stack, and
    # every route a 500 (MissingGreenlet) on the expiring one.
    assert result == {
        "answers": [
            [200, {"id": 1, "name": "Zoe"}], [200, {"name": "Max"}], [200, {"name": "Eve"}],
            [200, {"id": 2, "name": "Kim"}],
        ],
        "names": ["Eve", "Kim"],
    }


# Near misses: the object is not shown to be one of the Session that commits. Each route reads
# it after a raw UPDATE and the commit; each near miss gives the dependency (if one of its own)
# and how the route's parameter is filled.
NEAR_MISS = """
@router.put("/me/{route}")
def {route}(name: str, user: User = {filled}, db: Session = Depends(get_db_session)):
    db.execute(text("UPDATE users SET name = :n WHERE id = 1"), {{"n": name}})
    db.commit()
    return {{"name": user.name}}
"""
NEAR_MISSES = {
    "rename_own": ("""
def get_own_user(db: Session = Depends(get_db_session, use_cache=False)) -> User:
    return db.get(User, 1)
""", "Depends(get_own_user)"),
    "rename_detached": ("""
def get_detached_user(db: Session = Depends(get_db_session)) -> User:
    user = db.get(User, 1)
    db.expunge(user)
    return user
""", "Depends(get_detached_user)"),
    "rename_scoped": ("", 'Security(get_current_user, scopes=["me"])'),
}


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize(("route", "why"), [
    ("rename_own", "filled by `get_own_user` (api/items.py:33), whose Session (parameter `db`) is not the route's "
                   "(`use_cache=`, `scope=`, or another session dependency)"),
    ("rename_detached", "filled by `get_detached_user` (api/items.py:33), which phase two cannot show returns one "
                        "object its Session loaded"),
    # older FastAPI releases key `get_db_session` below these scopes apart from the route's own
    ("rename_scoped", "filled by `get_current_user` (api/items.py:13) through a `Depends()` whose keywords "
                      "(`use_cache=`, `scope=`, `scopes=`) may give it another Session than the route's"),
])
def test_near_miss_an_object_not_shown_of_the_committing_session_still_blocks_saying_why(
    cli, service, stack, route, why
):
    dependency, filled = NEAR_MISSES[route]
    root = _app(service, stack, dependency, NEAR_MISS.format(route=route, filled=filled))
    found = handler(run(cli, root), route)
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert f"`user` is a parameter, {why}" in reason, reason
    if stack == "generated":
        # keeps objects: the read answers what the object held, stale after the raw UPDATE
        assert found["codes"] == ["AM259"] and "would return stale data" in reason, found
    else:
        assert found["codes"] == ["AM248"], found
        assert "expires every object on commit (expire_on_commit=True), so the read is implicit IO and raises " \
               "MissingGreenlet" in reason, reason
