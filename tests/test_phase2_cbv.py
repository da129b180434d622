"""Phase two on fastapi-utils class-based views (`@cbv(router)`): FastAPI builds the class.

`@cbv` turns the class's `__init__` parameters into the routes' dependencies, so nothing in
the project calls that `__init__`: its `Depends(get_db)` is what gives the view its Session.
When the class moves to AsyncSession the dependency moves with the annotation, or every
migrated route would await the methods of a synchronous Session (TypeError, nothing saved).
Each case is migrated and then RUN; a broken rewrite is caught by the self-check.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2.rewrites import session_params

VIEWS = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
{members}

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {{"id": item.id}}

    @router.get("/items/{{item_id}}")
    async def read_item(self, item_id: int):
        return {{"name": self._get(item_id).name}}

    def _get(self, item_id: int) -> Item:
        item = self.db.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return item
"""
INIT = "    def __init__(self, {}):\n        self.db = db\n"
DEPENDS = "db: Session = Depends(get_db_session)"
ALIAS = "db: session_dependency"
# The documented form: class attributes, which @cbv makes keyword-only `__init__` parameters.
MEMBERS = {
    "init-depends": INIT.format(DEPENDS), "init-alias": INIT.format(ALIAS),
    # (fastapi-utils reads class annotations without `Annotated` metadata: no alias there)
    "class-depends": f"    {DEPENDS}\n", "class-with-others": f"    page_size: int = 20\n    {DEPENDS}\n",
}
SCRIPT = """
created = client.post("/items", params={"name": "kept"})
found = client.get(f"/items/{created.json()['id']}")
missing = client.get("/items/999")
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"created": created.status_code, "found": found.json(), "missing": missing.status_code,
                  "saved": saved}))
"""
service = test_phase2_soundness.service  # the same small application on the sync stack
EXPECTED = {"created": 200, "found": {"name": "kept"}, "missing": 404, "saved": 1}


@pytest.mark.parametrize("members", MEMBERS.values(), ids=MEMBERS.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_a_class_based_view_moves_with_its_dependency(cli, service, kind, members):
    root = service({SUBSYSTEM: routes(VIEWS.format(members=members))})
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, SUBSYSTEM)
    assert "await self.db.commit()" in text and "await self._get(item_id)" in text
    declared = text.split("class ItemViews:")[1].split("@router")[0]
    assert "AsyncSession = Depends(get_async_db_session)" in declared or "db: async_session_dependency" in declared
    assert serve(root, kind, SCRIPT) == EXPECTED
    # idempotent: a second run has nothing left to change
    assert run(cli, root)["files_changed"] == []


def test_a_view_with_an_init_of_its_own_and_a_class_level_session_stays_blocked(cli, service):
    # @cbv merges the class attributes into the `__init__` written by hand: phase two does not
    # follow the merge, names the class (AM253), and the unchanged view runs as before.
    members = "    db: Session = Depends(get_db_session)\n\n    def __init__(self, page_size: int = 20):\n" \
        "        self.page_size = page_size\n"
    root = service({SUBSYSTEM: routes(VIEWS.format(members=members))})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


def test_a_dependency_left_synchronous_is_refused_by_the_self_check(cli, service, monkeypatch):
    # The rewrite "forgets" that FastAPI fills the view's `__init__`: AsyncSession annotated,
    # the synchronous dependency kept.
    monkeypatch.setattr(session_params, "_depends_default", lambda project, module, param: False)
    root = service({SUBSYSTEM: routes(VIEWS.format(members=MEMBERS["class-depends"]))})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root, "--jobs", "1")
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked", found
    reasons = " ".join(found["reasons"])
    assert "self-check:" in reasons and "declares `Depends(get_db_session)`" in reasons, reasons
    assert read(root, SUBSYSTEM) == before


# Item gains a relationship read through a property, which a response model reads, and the
# view's query leaves it lazy by its own option: a lazy load under AsyncSession that phase two
# cannot fix where the objects are loaded (an eager option beside that one would conflict).
OWNED_MODELS = test_phase2_soundness.MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + """
    owner: Mapped[User] = relationship()

    @property
    def owner_name(self) -> str:
        return self.owner.name
"""
CARDS = """
    @router.get("/cards", response_model=list[ItemCard])
    async def cards(self):
        return self.db.scalars(select(Item).options(lazyload(Item.owner)).order_by(Item.id)).all()
"""
CARD_MODEL = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import lazyload


class ItemCard(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner_name: str
"""


@pytest.mark.parametrize("members", ["class-depends", "init-depends"])
def test_a_blocked_route_keeps_the_whole_view(cli, service, members):
    # `cards` is blocked by the lazy load its response model makes; the class's other routes
    # are blocked with it: their methods share the one `self.db`, which cannot be an
    # AsyncSession for some routes and a Session for `cards`.
    views = VIEWS.format(members=MEMBERS[members]) + CARDS
    root = service({"models.py": OWNED_MODELS, SUBSYSTEM: routes(CARD_MODEL, views)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    assert handler(document, "ItemViews.cards")["action"] == "blocked"
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM253" in found["codes"], found
        reasons = " ".join(found["reasons"])
        assert "api.items.ItemViews.cards" in reasons and "blocked (see there)" in reasons, found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


OFFLOADED = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv
from starlette.concurrency import run_in_threadpool
import asyncio


def fetch(db: Session, item_id: int) -> Item | None:
    return db.get(Item, item_id)


@cbv(router)
class ItemViews:
    db: Session = Depends(get_db_session)

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {{"id": item.id}}

    @router.get("/items/{{item_id}}")
    async def read_item(self, item_id: int):
        item = await {offload}
        if item is None:
            raise HTTPException(404)
        return {{"name": item.name}}
"""
OFFLOADS = {
    "run_in_threadpool": "run_in_threadpool(fetch, self.db, item_id)",
    "to_thread-keywords": "asyncio.to_thread(fetch, db=self.db, item_id=item_id)",
    "run_in_executor": "asyncio.get_running_loop().run_in_executor(None, fetch, self.db, item_id)",
    "partial": "run_in_threadpool(functools.partial(fetch, self.db), item_id)",
}


@pytest.mark.parametrize("offload", OFFLOADS.values(), ids=OFFLOADS.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_a_view_handing_its_session_to_a_thread_moves_the_helper_with_it(cli, service, kind, offload):
    # `run_in_threadpool(fetch, self.db, i)`: the view's Session goes to a helper in a worker
    # thread. The helper was left synchronous while `self.db` became an AsyncSession: the thread
    # called `db.get` without await and the route answered 500 on its response model. The helper
    # now moves with the view, called in place: `await fetch(self.db, item_id)`.
    # run_in_executor and partial are dropped alike (they blocked with AM224 before).
    root = service({SUBSYSTEM: routes("import functools\n" + OFFLOADED.format(offload=offload))})
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    found = handler(document, "ItemViews.read_item")
    assert found["action"] == "migrate", found
    text = read(root, SUBSYSTEM)
    assert "async def fetch(db: AsyncSession" in text and "to_thread" not in text, text
    assert "        item = await fetch(self.db, item_id)\n" in text or (
        "        item = await fetch(db=self.db, item_id=item_id)\n" in text
    ), text
    assert "run_in_threadpool(" not in text and "run_in_executor" not in text, text
    assert serve(root, kind, SCRIPT) == EXPECTED


TASKED = OFFLOADED.format(offload="run_in_threadpool(fetch, self.db, item_id)").replace(
    "from fastapi import HTTPException", "from fastapi import BackgroundTasks, HTTPException"
).replace("""    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
""", """    async def create_item(self, name: str, tasks: BackgroundTasks):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        tasks.add_task(record, self.db, name)
""").replace("@cbv(router)", '''def record(db: Session, name: str) -> None:
    db.add(Item(name=f"{name}-log", owner_id=1))
    db.commit()


@cbv(router)''')
TASK_SCRIPT = SCRIPT.replace('"saved": saved}', '"saved": saved, "logged": s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept-log"))}')


def test_a_view_handing_its_session_to_a_background_task_stays_blocked(cli, service):
    # `tasks.add_task(record, self.db, name)`: migrated, the task got the AsyncSession and its
    # `db.commit()` was a coroutine never awaited (the log row lost). Blocked as for a Session
    # the route receives.
    root = service({SUBSYSTEM: routes(TASKED)})
    before = read(root, SUBSYSTEM)
    assert serve(root, "sqlite", TASK_SCRIPT) == {**EXPECTED, "logged": 1}
    document = apply(cli, root)
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked", found
    assert "hands the Session to the background task `api.items.record`" in " ".join(found["reasons"]), found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", TASK_SCRIPT) == {**EXPECTED, "logged": 1}


# A getter of the Session a middleware keeps in a context variable, which no route injects: the
# view's routes inject `get_db_session` through the class body, so the async dependency stands for
# that one only. Phase two took the getter for the views' session dependency (it read only the
# routes' parameters) and blocked the whole subsystem naming it (found by a new-user trial).
CONTEXT_GETTER = """
from contextvars import ContextVar

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker

_current: ContextVar[Session | None] = ContextVar("current", default=None)


def current_session() -> Session:
    return _current.get()


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def bind_session(request: Request, call_next):
        token = _current.set(database_sessionmaker())
        try:
            return await call_next(request)
        finally:
            _current.reset(token)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_view_migrates_beside_a_context_variable_getter_no_route_injects(cli, service, kind):
    root = service({SUBSYSTEM: routes(VIEWS.format(members=MEMBERS["class-depends"])), "db/context.py": CONTEXT_GETTER})
    document = apply(cli, root)
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "await self.db.commit()" in read(root, SUBSYSTEM)
    assert serve(root, kind, SCRIPT) == EXPECTED
