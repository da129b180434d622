"""Phase two's soundness: a helper typed with the class a backref lands on reads the backref.

`owner = relationship(backref="items")` on Item gives User its `items`. A helper annotated
`user: User` reading `user.items`, on an object the flow cannot follow to its query (picked from a
dict the route builds), was taken for an attribute of User that is no relationship (Item's body
declares it, User's does not): the route migrated, and the request raised MissingGreenlet (a 500).
It blocks now, naming User.items as the backref Item declares, as it does for a relationship
User declares itself; a route in the same module reading a column through such a helper migrates.
The routes are RUN before and after the migration on each database, with the rows written, and
the form the route took before (the premise) is run too: it fails.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('owner: Mapped[User] = relationship(backref="items")')
ROUTES = ("""
def count_items(user: User) -> int:
    return len(user.items)


def label(user: User) -> str:
    return user.name
""", """
@router.get("/count/{user_id}")
def item_count(user_id: int, db: session_dependency):
    found = {u.id: u for u in db.scalars(select(User)).all()}
    return {"count": count_items(found[user_id])}
""", """
@router.post("/add/{user_id}")
def add_item(user_id: int, name: str, db: session_dependency):
    found = {u.id: u for u in db.scalars(select(User)).all()}
    db.add(Item(name=name, owner_id=user_id))
    db.commit()
    return {"owner": label(found[user_id])}
""")
CALLS = """
def call(method, url):
    try:
        answer = getattr(client, method)(url)
    except Exception as error:  # the server's own exception, re-raised by the TestClient
        return [type(error).__name__, str(error)[:200]]
    return [answer.status_code, answer.json()]


answers = [call("post", "/add/1?name=a"), call("post", "/add/1?name=b"), call("get", "/count/1"),
           call("get", "/count/2")]
with Sync() as s:
    written = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
print(json.dumps([answers, written]))
"""
EXPECTED = [
    [[200, {"owner": "Ann"}], [200, {"owner": "Ann"}], [200, {"count": 2}], [200, {"count": 0}]],
    [["a", 1], ["b", 1]],
]
# What phase two wrote for `item_count` before: the read of the backref on the AsyncSession's object.
MIGRATED = '''
@router.get("/count/{user_id}")
async def item_count(user_id: int, db: async_session_dependency):
    found = {u.id: u for u in (await db.scalars(select(User))).all()}
    return {"count": count_items(found[user_id])}
'''


def build(service):  # type: ignore[no-untyped-def]
    return service({"models.py": dedent(MODELS), "api/items.py": routes(*ROUTES)})


def test_a_backref_read_through_a_typed_helper_blocks_the_route(cli, service):
    document = apply(cli, build(service))
    blocked = handler(document, "item_count")
    assert blocked["action"] == "blocked", blocked
    reason = " ".join(blocked["reasons"])
    assert "`user.items` reads relationship User.items (the backref Item declares)" in reason, reason
    assert "selectinload(User.items)" in reason, reason
    # near miss: a column read through the same kind of helper
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")


@pytest.mark.parametrize("kind", KINDS)
def test_the_routes_answer_alike_after_the_migration_and_the_old_migration_failed(cli, service, kind):
    root = build(service)
    assert serve(root, kind, CALLS) == EXPECTED  # the synchronous routes
    apply(cli, root)
    text = (root / "api" / "items.py").read_text()
    assert "async def add_item" in text and "def item_count" in text and "async def item_count" not in text
    assert serve(root, kind, CALLS) == EXPECTED
    # the premise: the route as phase two migrated it before loads `user.items` on the event loop
    start = text.index('@router.get("/count/{user_id}")')
    end = text.index("@router.post", start)
    (root / "api" / "items.py").write_text(text[:start] + MIGRATED.lstrip() + "\n\n" + text[end:])
    answers, written = serve(root, kind, CALLS)  # type: ignore[misc]
    assert answers[:2] == EXPECTED[0][:2] and written == EXPECTED[1]
    assert "MissingGreenlet" in answers[2][1] and "FROM items" in answers[2][1], answers[2]
