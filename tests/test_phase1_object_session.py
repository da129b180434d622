"""Session work through the Session an ORM object belongs to, and through a model property.

`object_session(user).scalars(...)` runs on the Session that loaded `user`; an active-record
model hides it in a property (`user.item_count`). An `async def` route reading either, on an
object a `def` dependency loaded, blocks the event loop: `check` reports it, phase one converts
it, and the converted application is RUN with TestClient. A property doing no Session work
(the near miss) leaves its route as it is.
"""

from __future__ import annotations

import json

from test_phase2_rules import dedent, function, handler
from test_phase2_soundness import MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

PROPERTIES = """

    @property
    def item_count(self) -> int:
        return len(object_session(self).scalars(select(Item).where(Item.owner_id == self.id)).all())

    @property
    def shout(self) -> str:
        return self.name.upper()
"""
ROUTES = """
def current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/mine")
async def mine(user: User = Depends(current_user)):
    return {"n": user.item_count}


@router.get("/direct")
async def direct(user: User = Depends(current_user)):
    return {"n": len(object_session(user).scalars(select(Item)).all())}


@router.get("/shout")
async def shout(user: User = Depends(current_user)):
    return {"name": user.shout}
"""


def _models() -> str:
    source = dedent(MODELS).replace("from sqlalchemy import ForeignKey, String", "from sqlalchemy import ForeignKey, String, select")
    source = source.replace(
        "from sqlalchemy.orm import DeclarativeBase", "from sqlalchemy.orm import DeclarativeBase, object_session"
    )
    user, rest = source.split("\n\n\nclass Item(Base):")
    return user + PROPERTIES.rstrip() + "\n\n\nclass Item(Base):" + rest + "\n"


def test_session_work_through_object_session_or_a_model_property_is_found_and_converted(cli, service):
    root = service({
        "models.py": _models(),
        SUBSYSTEM: "from sqlalchemy.orm import object_session\n" + routes(ROUTES),
    })
    checked = cli("check", root, "--format", "json")
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == {"mine": "AM301", "direct": "AM301"}, checked.stdout
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    for name in ("mine", "direct"):
        assert handler(document, name)["action"] == "convert", handler(document, name)
        assert function(root, SUBSYSTEM, name).startswith(f"def {name}("), function(root, SUBSYSTEM, name)
    assert "item_count" in " ".join(handler(document, "mine")["reasons"]), handler(document, "mine")
    # near miss: a property reading only the object's own columns
    assert handler(document, "shout")["action"] == "keep"
    assert function(root, SUBSYSTEM, "shout").startswith("async def shout(")
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
            s.commit()
        print(json.dumps([client.get("/mine").json(), client.get("/direct").json(), client.get("/shout").json()]))
    """)
    assert result == [{"n": 1}, {"n": 2}, {"name": "ANN"}]
