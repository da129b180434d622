"""Phase two's and `check`'s soundness: model methods a key function or nested function runs.

`sorted(users, key=lambda u: -u.post_count())` runs `User.post_count` on each object, as
`[u.post_count() for u in users]` does; where that method queries `object_session(self)`, under
AsyncSession it is the synchronous Session inside the route's AsyncSession, and the query raises
MissingGreenlet. Phase two blocked the comprehension but migrated the lambda, a nested `def key`
and a lambda bound to a local (the route then failed with 500), and `check` said nothing of the
same code written async. The calls a body's lambdas and nested functions make are now the body's
own, on what they are handed; a method call on an object the analysis cannot trace is judged by
the method's name. A key function reading only columns still migrates, and runs, and one
reading a relationship path (`len(i.owner.items)`) gets its eager load, as the body would.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models(
    user="""
    items: Mapped[list["Item"]] = relationship(back_populates="owner")

    def item_count(self) -> int:
        return object_session(self).scalar(select(func.count(Item.id)).where(Item.owner_id == self.id))
    """,
    item="""
    owner: Mapped[User] = relationship(back_populates="items")
    """,
    orm="object_session, relationship",
).replace("from sqlalchemy import", "from sqlalchemy import func, select,")
BLOCKED = {
    "by_lambda": """
    @router.get("/by-lambda")
    def by_lambda(db: session_dependency):
        users = db.scalars(select(User).order_by(User.id)).all()
        return [u.name for u in sorted(users, key=lambda u: -u.item_count())]
    """,
    "by_max": """
    @router.get("/by-max")
    def by_max(db: session_dependency):
        users = db.scalars(select(User)).all()
        return max(users, key=lambda u: u.item_count()).name
    """,
    "by_sort": """
    @router.get("/by-sort")
    def by_sort(db: session_dependency):
        users = list(db.scalars(select(User)).all())
        users.sort(key=lambda u: u.item_count())
        return [u.name for u in users]
    """,
    "by_def": """
    @router.get("/by-def")
    def by_def(db: session_dependency):
        users = db.scalars(select(User)).all()

        def busiest(user):
            return user.item_count()

        return [u.name for u in sorted(users, key=busiest)]
    """,
    "by_local": """
    @router.get("/by-local")
    def by_local(db: session_dependency):
        users = db.scalars(select(User)).all()
        count = lambda u: u.item_count()  # noqa: E731
        return [count(u) for u in users]
    """,
    "by_filter": """
    @router.get("/by-filter")
    def by_filter(db: session_dependency):
        users = db.scalars(select(User)).all()
        return [u.name for u in filter(lambda u: u.item_count() > 0, users)]
    """,
}
NAMES = """
@router.get("/by-name")
def by_name(db: session_dependency):
    users = db.scalars(select(User)).all()
    return [u.name for u in sorted(users, key=lambda u: u.name)]
"""
CHAINED = """
@router.get("/by-owner-load")
def by_owner_load(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    return [i.name for i in sorted(items, key=lambda i: (len(i.owner.items), i.id))]
"""
CALLS = """
    with Sync() as s:
        s.add_all([Item(id=1, name="pen", owner_id=2), Item(id=2, name="ink", owner_id=1),
                   Item(id=3, name="cap", owner_id=1)])
        s.commit()
    answers = [client.get(path) for path in ("/by-name", "/by-owner-load")]
    print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""
EXPECTED = [[200, ["Ann", "Bob"]], [200, ["pen", "ink", "cap"]]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_model_method_a_key_function_runs_blocks_the_route_and_a_column_key_migrates_and_runs(
    cli, service, kind,
):
    root = service({"models.py": dedent(MODELS), "api/items.py": routes(*BLOCKED.values(), NAMES, CHAINED)})
    assert serve(root, kind, CALLS) == EXPECTED
    document = apply(cli, root)
    for name in BLOCKED:
        found = handler(document, name)
        assert found["action"] == "blocked", found
        assert any("item_count()" in r and "object_session" in r for r in found["reasons"]), found
    assert handler(document, "by_name")["action"] == "migrate", handler(document, "by_name")
    # a relationship path the key reads is eager-loaded as the same read in the body would be
    assert handler(document, "by_owner_load")["action"] == "migrate", handler(document, "by_owner_load")
    migrated = (root / "api/items.py").read_text(encoding="utf-8")
    assert "selectinload(Item.owner).selectinload(User.items)" in migrated, migrated
    assert serve(root, kind, CALLS) == EXPECTED


ASYNC_ROUTES = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import User

SessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)
router = APIRouter()


async def get_db():
    async with SessionLocal() as db:
        yield db


@router.get("/sorted")
async def by_lambda(db: AsyncSession = Depends(get_db)):
    users = (await db.scalars(select(User))).all()
    return [u.name for u in sorted(users, key=lambda u: u.item_count())]


@router.get("/local")
async def by_local(db: AsyncSession = Depends(get_db)):
    users = (await db.scalars(select(User))).all()
    count = lambda u: u.item_count()  # noqa: E731
    return [count(u) for u in users]


@router.get("/greenlet")
async def in_greenlet(db: AsyncSession = Depends(get_db)):
    return await db.run_sync(lambda s: [u.item_count() for u in s.scalars(select(User))])


@router.get("/names")
async def by_name(db: AsyncSession = Depends(get_db)):
    users = (await db.scalars(select(User))).all()
    return [u.name for u in sorted(users, key=lambda u: u.name)]
"""


def test_check_reports_a_key_function_running_object_session_work_in_an_async_route(cli, project):
    root = project({"models.py": dedent(MODELS), "api/__init__.py": "", "api/users.py": dedent(ASYNC_ROUTES)})
    document = cli.json("check", root)
    found = {(f["function"], f["code"]) for f in document["findings"]}
    assert ("by_lambda", "AM314") in found, document["findings"]
    assert ("by_local", "AM314") in found, document["findings"]
    # the callable `run_sync` runs gets the synchronous Session on its greenlet; columns load nothing
    assert not {f for f in found if f[0] in ("in_greenlet", "by_name")}, document["findings"]
