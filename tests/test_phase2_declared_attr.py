"""Phase two on models whose mixins map attributes through `@declared_attr` methods (a timestamp
mixin, an owner mixin): what the method returns is the class's column or relationship, as in the
class body. The migrated routes are RUN with TestClient and answer with the right data, where
they raised MissingGreenlet (a column the database computes, a relationship read lazily)."""

from __future__ import annotations

import pytest
from test_phase2_expired_reads import rename_refreshes_the_computed_revision
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name


MODELS = """
from sqlalchemy import ForeignKey, String, literal_column
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class RevisionMixin:
    @declared_attr
    def revision(cls) -> Mapped[int]:
        return mapped_column(server_default="0", onupdate=literal_column("revision") + 1)


class OwnedMixin:
    @declared_attr
    def owner_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr.cascading
    def owner(cls) -> Mapped["User"]:
        return relationship("User")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Item(RevisionMixin, OwnedMixin, Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_generated_column_a_mixin_declares_is_refreshed_after_the_commit(cli, service, kind):
    rename_refreshes_the_computed_revision(cli, service, kind, MODELS)


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_relationship_a_mixin_declares_gets_its_eager_load(cli, service, kind):
    root = service({
        "models.py": dedent(MODELS),
        SUBSYSTEM: routes(
            """
            @router.get("/items/{item_id}/owner")
            def item_owner(item_id: int, db: session_dependency):
                item = db.scalars(select(Item).where(Item.id == item_id)).one()
                return {"item": item.name, "owner": item.owner.name}
            """,
        ),
    })
    document = apply(cli, root)
    found = handler(document, "item_owner")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert "Item.owner" in function(root, SUBSYSTEM, "item_owner")
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=2))
            s.commit()
        print(json.dumps(client.get("/items/1/owner").json()))
    """)
    assert result == {"item": "pen", "owner": "Bob"}


def test_near_miss_a_mixin_column_the_flush_writes_needs_no_refresh(cli, service):
    # `owner_id` from a `@declared_attr` is a plain column, and a `.directive` maps no attribute:
    # nothing the database computes, so the commit is not followed by a refresh
    models = dedent(MODELS)
    mixin = models[models.index("class RevisionMixin:"):models.index("class OwnedMixin:")]
    models = models.replace(mixin, "").replace("class Item(RevisionMixin, OwnedMixin, Base):", "class Item(OwnedMixin, Base):")
    models = models.replace(
        '    __tablename__ = "items"\n',
        '    @declared_attr.directive\n    def __tablename__(cls) -> str:\n        return "items"\n',
    )
    assert "RevisionMixin" not in models and "directive" in models
    root = service({
        "models.py": models,
        SUBSYSTEM: routes(
            """
            @router.put("/items/{item_id}")
            def rename_item(item_id: int, name: str, db: session_dependency):
                item = db.scalars(select(Item).where(Item.id == item_id)).one()
                item.name = name
                db.commit()
                return {"name": item.name, "owner": item.owner_id}
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_item")["action"] == "migrate"
    assert "refresh" not in function(root, SUBSYSTEM, "rename_item")
