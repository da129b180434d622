"""Phase two on a class-based view whose other dependencies receive the request's Session.

`@cbv(router)` turns the class attributes (or its `__init__` parameters) into every route's
dependencies: `user: User = Depends(get_current_user)` beside `db: Session = Depends(get_db)`,
`get_current_user` taking the Session too. FastAPI caches a dependency per request, so both
share one Session. Phase two blocked such a view ("phase two gives a class-based view's other
dependencies no async twins"); it now gives those dependencies async twins, as it does for a
function route's, and points the view's declarations at them: one AsyncSession a request. The
view moves as a whole, so a route that cannot move keeps every route, and the twins, away.
Each migrated case is RUN on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import pytest
import test_phase2_cbv
import test_phase2_soundness
from conftest import TASKBOARD, Cli
from sample import STRICT, assert_all_passed, copy_service, database, defined_tests, run_service_tests
from test_phase2_rules import apply, function, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2 import plan

CURRENT_USER = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)
"""
# The route changes the user its dependency loaded and commits on its own Session: the change is
# saved only when both are the request's one Session (with two, `add` raises "already attached").
VIEWS = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
{members}

    @router.post("/items")
    async def create_item(self, name: str):
        self.user.name = self.user.name + "!"
        self.db.add(self.user)
        item = Item(name=name, owner_id=self.user.id)
        self.db.add(item)
        self.db.commit()
        return {{"id": item.id}}

    @router.get("/items/{{item_id}}")
    async def read_item(self, item_id: int):
        return {{"name": self._get(item_id).name, "by": self.user.name}}

    def _get(self, item_id: int) -> Item:
        item = self.db.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return item
"""
DEPENDS = "db: Session = Depends(get_db_session)"
MEMBERS = {
    "class": f"    {DEPENDS}\n    user: User = Depends(get_current_user)\n",
    "init": f"    def __init__(self, {DEPENDS}, user: User = Depends(get_current_user)):\n"
            "        self.db = db\n        self.user = user\n",
}
# Every Session the application begins a transaction on during the POST, by identity.
SCRIPT = """
from sqlalchemy import event
from sqlalchemy.orm import Session as AnySession

began = set()


def note(session, transaction, connection):
    began.add(id(session))


event.listen(AnySession, "after_begin", note)
created = client.post("/items", params={"name": "kept"})
event.remove(AnySession, "after_begin", note)
found = client.get(f"/items/{created.json()['id']}")
missing = client.get("/items/999")
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
    renamed = s.get(User, 1).name
print(json.dumps({"created": created.status_code, "sessions": len(began), "found": found.json(),
                  "missing": missing.status_code, "saved": saved, "renamed": renamed}))
"""
EXPECTED = {
    "created": 200, "sessions": 1, "found": {"name": "kept", "by": "Ann!"}, "missing": 404, "saved": 1,
    "renamed": "Ann!",
}
service = test_phase2_soundness.service


@pytest.mark.parametrize("members", MEMBERS.values(), ids=MEMBERS.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_a_views_dependency_sharing_the_session_gets_an_async_twin(cli, service, kind, members):
    # Blocked before (AM219, "no async twins"); now the view and its twin share one AsyncSession.
    root = service({SUBSYSTEM: routes(CURRENT_USER, VIEWS.format(members=members))})
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        found = handler(document, name)
        assert found["action"] == "migrate", found
        assert "depends on the async twins of api.items.get_current_user, which share its Session" in (
            " ".join(found["reasons"])
        ), found
    text = read(root, SUBSYSTEM)
    assert "user: User = Depends(get_current_user_async)" in text, text
    assert "db: AsyncSession = Depends(get_async_db_session)" in text, text
    assert function(root, SUBSYSTEM, "get_current_user_async") == (
        "async def get_current_user_async(db: AsyncSession = Depends(get_async_db_session)) -> User:\n"
        "    return await db.get(User, 1)"
    )
    # the original stays for whatever else depends on it
    assert "def get_current_user(db: Session = Depends(get_db_session)) -> User:" in text
    assert serve(root, kind, SCRIPT) == EXPECTED
    assert run(cli, root)["files_changed"] == []  # a second run has nothing left to change


def test_a_view_left_on_the_synchronous_dependency_is_refused_by_the_self_check(cli, service, monkeypatch):
    # The rewrite "forgets" to point the view's declaration at the twin: `db` an AsyncSession,
    # `user` still from the dependency opening a synchronous Session.
    monkeypatch.setattr(plan, "_view_init", lambda project, fid, closure: False)
    root = service({SUBSYSTEM: routes(CURRENT_USER, VIEWS.format(members=MEMBERS["class"]))})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root, "--jobs", "1")
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked", found
    assert "self-check: ItemViews.create_item: dependency api.items.get_current_user receives the synchronous " \
        "Session (parameter `db`), through ItemViews.__init__ besides the AsyncSession" in " ".join(found["reasons"])
    assert read(root, SUBSYSTEM) == before


NO_SESSION_USER = """
def get_current_user() -> User:
    return User(id=1, name="Ann")
"""
READ_ONLY_VIEWS = """
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
    db: Session = Depends(get_db_session)
    user: User = Depends(get_current_user)

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=self.user.id)
        self.db.add(item)
        self.db.commit()
        return {"id": item.id}
"""
READ_ONLY_SCRIPT = """
created = client.post("/items", params={"name": "kept"})
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"created": created.status_code, "saved": saved}))
"""


def test_near_miss_a_views_dependency_without_the_session_gets_no_twin(cli, service):
    root = service({SUBSYSTEM: routes(NO_SESSION_USER, READ_ONLY_VIEWS)})
    document = apply(cli, root)
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "migrate", found
    assert "async twins of" not in " ".join(found["reasons"]), found
    text = read(root, SUBSYSTEM)
    assert "user: User = Depends(get_current_user)\n" in text and "get_current_user_async" not in text, text
    assert serve(root, "sqlite", READ_ONLY_SCRIPT) == {"created": 200, "saved": 1}


FACTORY_USER = """
def current_user(user_id: int):
    def load(db: Session = Depends(get_db_session)) -> User:
        return db.get(User, user_id)

    return load
"""


def test_near_miss_a_views_dependency_that_can_have_no_twin_keeps_the_view_blocked(cli, service):
    # Built by a factory's call: phase two gives it no twin, so the view keeps its Session.
    views = VIEWS.format(members=MEMBERS["class"]).replace("Depends(get_current_user)", "Depends(current_user(1))")
    root = service({SUBSYSTEM: routes(FACTORY_USER, views)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM219" in found["codes"], found
        reasons = " ".join(found["reasons"])
        assert "dependency api.items.current_user.<locals>.load receives the synchronous Session" in reasons, found
        assert "through ItemViews.__init__, which FastAPI calls for the route, and it can have no async twin" in (
            reasons
        ), found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


# A third route whose response model reads a relationship lazily through a property, left lazy
# by its own query option: it cannot move, and the view's twin cannot serve the others alone.
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


@pytest.mark.parametrize("members", MEMBERS.values(), ids=MEMBERS.keys())
def test_near_miss_a_blocked_route_keeps_the_view_and_its_twin_away(cli, service, members):
    views = VIEWS.format(members=members) + CARDS
    root = service({"models.py": OWNED_MODELS, SUBSYSTEM: routes(CURRENT_USER, CARD_MODEL, views)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    assert handler(document, "ItemViews.cards")["action"] == "blocked"
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM253" in found["codes"], found
        reasons = " ".join(found["reasons"])
        assert "api.items.ItemViews.cards is blocked (see there)" in reasons, found
        assert (
            "nor depend on the async twin of api.items.get_current_user (through ItemViews.__init__) for some "
            "routes and the synchronous original for others: phase two blocks the whole view rather than write a "
            "parallel class" in reasons
        ), found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


def test_the_view_twins_are_named_only_for_the_views_own_dependencies(cli, service):
    # No view dependency moving: the AM253 reason says nothing of twins.
    views = test_phase2_cbv.VIEWS.format(members=test_phase2_cbv.MEMBERS["class-depends"]) + CARDS
    root = service({"models.py": OWNED_MODELS, SUBSYSTEM: routes(CARD_MODEL, views)})
    document = apply(cli, root)
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert "async twin" not in " ".join(found["reasons"]), found


# ------------------------------------------------------------ the taskboard's CommentViews

COMMENTS = "api/comments.py"


def test_taskboard_comment_views_block_on_the_lazy_load_alone(cli, tmp_path):
    # `user: User = Depends(get_current_user)` beside `db` gets its twin; what still blocks is
    # add_comment's response model reading Comment.author lazily on the comment it builds, and
    # with it the view's other routes, which share its class attributes.
    root = copy_service(TASKBOARD, tmp_path / "taskboard")
    document = run(cli, root, subsystem=COMMENTS)
    found = {h["function"]: h for h in document["handlers"]}
    assert {name: h["action"] for name, h in found.items()} == dict.fromkeys(
        ("CommentViews.list_comments", "CommentViews.add_comment", "CommentViews.delete_comment"), "blocked"
    )
    assert "no async twins" not in str(document), document
    added = " ".join(found["CommentViews.add_comment"]["reasons"])
    assert "response model field CommentOut.author_name runs property Comment.author_name" in added, added
    assert "get_current_user" not in added, added
    for name in ("CommentViews.list_comments", "CommentViews.delete_comment"):
        assert found[name]["codes"] == ["AM253"], found[name]
        reasons = " ".join(found[name]["reasons"])
        assert "its route api.comments.CommentViews.add_comment is blocked (see there)" in reasons, reasons
        assert "nor depend on the async twin of api.deps.get_current_user (through CommentViews.__init__)" in reasons


@pytest.fixture(scope="module")
def selectin_comments(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The taskboard with Comment.author loaded with its comments (`lazy="selectin"`), after phase
    two on its comments router: then nothing blocks the view."""
    root = copy_service(TASKBOARD, tmp_path_factory.mktemp("cbv") / "taskboard")
    model = root / "models" / "comment.py"
    text = model.read_text(encoding="utf-8")
    assert 'author: Mapped["User"] = relationship()' in text
    model.write_text(text.replace(
        'author: Mapped["User"] = relationship()', 'author: Mapped["User"] = relationship(lazy="selectin")'
    ), encoding="utf-8")
    return root, apply(Cli(), root, subsystem=COMMENTS)


@pytest.mark.parametrize("kind", KINDS)
def test_taskboard_comment_views_migrate_with_the_current_user_twin_and_its_tests_pass(selectin_comments, kind):
    root, document = selectin_comments
    for found in document["handlers"]:
        assert found["action"] == "migrate", found
        assert "depends on the async twins of api.deps.get_current_user, which share its Session" in (
            " ".join(found["reasons"])
        ), found
    text = read(root, COMMENTS)
    assert "    user: User = Depends(get_current_user_async)\n" in text, text
    assert "async def get_current_user_async(" in read(root, "api/deps.py")
    # the sample's own API tests (comments written and deleted, read back on a sync Session)
    with database(kind, "taskboard") as url:
        result = run_service_tests(root, url, prefix="TASKBOARD", pytest_args=STRICT)
    assert_all_passed(result, defined_tests(root))
