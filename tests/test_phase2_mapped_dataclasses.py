"""Objects of classes mapped as dataclasses (`MappedAsDataclass`) are read field by field by
`dataclasses.asdict`: FastAPI's `jsonable_encoder` does so for a route returning one with no
response model, and so does a route calling either itself. Every relationship field loads
lazily there, which raises MissingGreenlet under AsyncSession: such routes block (AM245) and
keep working as they are; a dataclass without relationships migrates and runs. Run as in
test_phase2_soundness."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_models import user_item_models
from test_phase2_rules import apply, handler
from test_phase2_soundness import SUBSYSTEM, dedent, routes, serve

service = test_phase2_soundness.service

MODELS = user_item_models(user='items: Mapped[list["Item"]] = relationship(default_factory=list)', orm='MappedAsDataclass, relationship', base='MappedAsDataclass, DeclarativeBase')


def test_a_mapped_dataclass_serialised_whole_blocks_and_one_without_relationships_migrates(cli, service):
    root = service({
        "models.py": dedent(MODELS),
        SUBSYSTEM: "import dataclasses\n" + routes(
            """
            @router.get("/users/{user_id}")
            def raw_user(user_id: int, db: session_dependency):
                return db.get(User, user_id)
            """,
            """
            @router.get("/users/{user_id}/dict")
            def user_dict(user_id: int, db: session_dependency):
                user = db.get(User, user_id)
                return dataclasses.asdict(user)
            """,
            """
            @router.get("/items/{item_id}")
            def raw_item(item_id: int, db: session_dependency):
                return db.get(Item, item_id)
            """,
        ),
    })
    document = apply(cli, root)
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        print(json.dumps([client.get(p).json() for p in ("/users/1", "/users/1/dict", "/items/1")]))
    """)
    user = {"id": 1, "name": "Ann", "items": [{"id": 1, "name": "pen", "owner_id": 1}]}
    assert result == [user, user, {"id": 1, "name": "pen", "owner_id": 1}]
    for name, shown in (("raw_user", "with no response model"), ("user_dict", "`dataclasses.asdict(user)`")):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM245" in found["codes"], found
        assert shown in found["reasons"][found["codes"].index("AM245")] and "User.items" in found["reasons"][0]
    assert handler(document, "raw_item")["action"] == "migrate", handler(document, "raw_item")


# The same classes mapped as dataclasses by a decorator instead of a base: the registry's
# method (`@reg.mapped_as_dataclass`) or the function given the registry (`@mapped_as_dataclass(reg)`).
DECORATED = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_as_dataclass, mapped_column, registry, relationship

reg = registry()
Base = reg.generate_base()


@{decorator}
class User:
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    items: Mapped[list["Item"]] = relationship(default_factory=list)


@{decorator}
class Item:
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""


@pytest.mark.parametrize("decorator", ["reg.mapped_as_dataclass", "mapped_as_dataclass(reg)"])
def test_a_class_mapped_as_a_dataclass_by_decorator_blocks_as_by_base(cli, service, decorator):
    root = service({
        "models.py": dedent(DECORATED.format(decorator=decorator)),
        SUBSYSTEM: routes(
            """
            @router.get("/users/{user_id}")
            def raw_user(user_id: int, db: session_dependency):
                return db.get(User, user_id)
            """,
            """
            @router.get("/items/{item_id}")
            def raw_item(item_id: int, db: session_dependency):
                return db.get(Item, item_id)
            """,
        ),
    })
    document = apply(cli, root)
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        print(json.dumps([client.get(p).json() for p in ("/users/1", "/items/1")]))
    """)
    assert result == [
        {"id": 1, "name": "Ann", "items": [{"id": 1, "name": "pen", "owner_id": 1}]},
        {"id": 1, "name": "pen", "owner_id": 1},
    ]
    found = handler(document, "raw_user")
    assert found["action"] == "blocked" and "AM245" in found["codes"], found
    assert handler(document, "raw_item")["action"] == "migrate", handler(document, "raw_item")
