"""Pydantic validation that reads ORM relationships beyond a response model's plain fields:
`TypeAdapter(list[Out]).validate_python(rows)` (module-level, local and in place) and
`parse_obj_as(list[Out], rows)` in a route's code, and a field validator in `before` mode that
receives the related object and reads further relationships on it, a generic `Page[Out]`
response model returned as a dict or built (`Page[Out](items=rows)`), and a schema's `@computed_field` reading the ORM objects a
field typed `Any` holds (also on an instance the route validates and returns), a
`@model_validator(mode="before")` given the ORM object. Each route is migrated and
RUN through FastAPI's TestClient on the generated async stack (MissingGreenlet otherwise)."""

from __future__ import annotations

import sys

import pytest
from test_phase2_expired_related_eager import MODELS as EAGER_MODELS
from test_phase2_rules import apply, function, handler, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

# Teams, users and items, every relationship lazy (`Item.owner`, `User.team`).
MODELS = EAGER_MODELS.replace(', lazy="joined"', "")
SCHEMAS = """
from typing import Any, Generic, TypeVar

from pydantic import AliasPath, BaseModel, ConfigDict, Field, TypeAdapter, computed_field, field_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class ItemCard(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: Any = Field(exclude=True)

    @computed_field
    @property
    def owner_team(self) -> str | None:
        return self.owner.team.name if self.owner.team else None


class ItemBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner_name: str = Field(validation_alias=AliasPath("owner", "name"))


class ItemLabelled(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: str

    @field_validator("owner", mode="before")
    @classmethod
    def owner_label(cls, value: Any) -> str:
        if isinstance(value, str):
            return value
        return f"{value.name} ({value.team.name if value.team else '-'})"


BRIEFS = TypeAdapter(list[ItemBrief])
"""
SEED = """
with Sync() as s:
    s.add(stack_team := __import__("models").Team(id=1, name="Red"))
    s.get(User, 1).team_id = 1
    s.add_all([Item(id=1, name="pen", owner_id=1), Item(id=2, name="ink", owner_id=2)])
    s.commit()
"""
ADAPTED = routes(
    """
    @router.get("/module-level")
    def module_level(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return {"items": BRIEFS.validate_python(rows)}
    """,
    """
    @router.get("/in-place")
    def in_place(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return TypeAdapter(list[ItemBrief]).validate_python(rows)
    """,
    """
    @router.get("/local/{item_id}")
    def local(item_id: int, db: Session = Depends(get_db_session)):
        adapter = TypeAdapter(ItemBrief)
        item = db.get(Item, item_id)
        return adapter.validate_python(item).model_dump()
    """,
    """
    @router.get("/parsed")
    def parsed(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return {"items": parse_obj_as(list[ItemBrief], rows)}
    """,
).replace("router = APIRouter()", "from pydantic import TypeAdapter, parse_obj_as\n\nfrom schemas import BRIEFS, ItemBrief\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_type_adapter_validating_rows_in_the_route_gets_the_eager_loads_and_runs(cli, service, kind):
    root = service({"models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: ADAPTED})
    document = apply(cli, root)
    for name in ("module_level", "in_place", "local", "parsed"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
        assert "selectinload(Item.owner)" in function(root, SUBSYSTEM, name), function(root, SUBSYSTEM, name)
    result = serve(root, kind, SEED + """
briefs = [{"name": "pen", "owner_name": "Ann"}, {"name": "ink", "owner_name": "Bob"}]
print(json.dumps([
    client.get("/module-level").json() == {"items": briefs},
    client.get("/in-place").json() == briefs,
    client.get("/local/2").json() == briefs[1],
    client.get("/parsed").json() == {"items": briefs},
]))
""")
    assert result == [True, True, True, True]


LABELLED = routes(
    """
    @router.get("/labelled", response_model=list[ItemLabelled])
    def labelled(db: Session = Depends(get_db_session)):
        return db.scalars(select(Item).order_by(Item.id)).all()
    """,
).replace("router = APIRouter()", "from schemas import ItemLabelled\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_before_field_validator_reading_the_related_object_further_gets_its_load_and_runs(cli, service, kind):
    root = service({"models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: LABELLED})
    document = apply(cli, root)
    found = handler(document, "labelled")
    assert found["action"] == "migrate", found
    assert "selectinload(Item.owner).selectinload(User.team)" in function(root, SUBSYSTEM, "labelled")
    result = serve(root, kind, SEED + """
print(json.dumps(client.get("/labelled").json()))
""")
    assert result == [{"name": "pen", "owner": "Ann (Red)"}, {"name": "ink", "owner": "Bob (-)"}]


def test_a_before_field_validator_on_an_object_from_a_dependency_is_unverified(cli, service):
    """Near miss: the object comes from a dependency opening a Session of its own, whose query phase
    two cannot amend (its option credits `Item.owner` by name); what the validator reads on the
    related object blocks, naming the validator."""
    root = service({"models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: routes(
        """
        def first_item() -> Item:
            with database_sessionmaker() as s:
                return s.scalars(select(Item).options(selectinload(Item.owner))).first()
        """,
        """
        @router.get("/first", response_model=ItemLabelled)
        def first(item: Item = Depends(first_item), db: Session = Depends(get_db_session)):
            db.scalar(select(func.count(Item.id)))
            return item
        """,
    ).replace("router = APIRouter()", "from sqlalchemy.orm import selectinload\n\nfrom db.engine import database_sessionmaker\nfrom schemas import ItemLabelled\n\nrouter = APIRouter()")})
    found = handler(run(cli, root), "first")
    assert found["action"] != "migrate", found
    assert "ItemLabelled.owner_label" in " ".join(found["reasons"]), found["reasons"]
    assert "AM247" in found["codes"], found


HELD = routes(
    """
    @router.get("/page", response_model=Page[ItemBrief])
    def page(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return {"items": rows, "total": len(rows)}
    """,
    """
    @router.get("/built", response_model=Page[ItemBrief])
    def built(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return Page[ItemBrief](items=rows, total=len(rows))
    """,
    """
    @router.get("/cards", response_model=list[ItemCard])
    def cards(db: Session = Depends(get_db_session)):
        return db.scalars(select(Item).order_by(Item.id)).all()
    """,
    """
    @router.get("/cards/{item_id}")
    def card(item_id: int, db: Session = Depends(get_db_session)) -> ItemCard:
        item = db.get(Item, item_id)
        return ItemCard.model_validate(item)
    """,
).replace("router = APIRouter()", "from schemas import ItemBrief, ItemCard, Page\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_generic_page_and_a_computed_field_reading_held_objects_get_their_loads_and_run(cli, service, kind):
    root = service({"models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: HELD})
    document = apply(cli, root)
    # `card` returns the validated instance: FastAPI serialises it by `model_dump()`, which runs
    # the computed field again on the objects it holds, loaded where the route validated it
    for name in ("page", "built", "cards", "card"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    assert "selectinload(Item.owner)" in function(root, SUBSYSTEM, "page")
    assert "selectinload(Item.owner)" in function(root, SUBSYSTEM, "built")
    assert "selectinload(Item.owner).selectinload(User.team)" in function(root, SUBSYSTEM, "cards")
    assert "selectinload(Item.owner).selectinload(User.team)" in function(root, SUBSYSTEM, "card")
    result = serve(root, kind, SEED + """
print(json.dumps([client.get("/page").json(), client.get("/cards").json(), client.get("/cards/1").json(),
                  client.get("/built").json()]))
""")
    page = {"items": [{"name": "pen", "owner_name": "Ann"}, {"name": "ink", "owner_name": "Bob"}], "total": 2}
    assert result == [
        page,
        [{"name": "pen", "owner_team": "Red"}, {"name": "ink", "owner_team": None}],
        {"name": "pen", "owner_team": "Red"},
        page,
    ]


VALIDATED_MODELS = MODELS.rstrip() + '\n    reviews: Mapped[list["Review"]] = relationship()  # noqa: F821\n'
REVIEWS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import Base, User


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    author: Mapped[User] = relationship()
"""
VALIDATED_SCHEMAS = (SCHEMAS + '''

class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    team: TeamOut | None


class ItemFlat(BaseModel):
    name: str
    holder: OwnerOut
    stars: int
    critics: list[str]

    @model_validator(mode="before")
    @classmethod
    def flatten(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return {
            "name": data.name,
            "holder": data.owner,
            "stars": sum(r.stars for r in data.reviews),
            "critics": [r.author.name for r in data.reviews],
        }


class ItemOpaque(BaseModel):
    name: str

    @model_validator(mode="before")
    @classmethod
    def convert(cls, data: Any) -> Any:
        return dict(vars(data))
''').replace("computed_field, field_validator", "computed_field, field_validator, model_validator")
VALIDATED = routes(
    """
    @router.get("/flat", response_model=list[ItemFlat])
    def flat(db: Session = Depends(get_db_session)):
        return db.scalars(select(Item).order_by(Item.id)).all()
    """,
    """
    @router.get("/flat/{item_id}")
    def one(item_id: int, db: Session = Depends(get_db_session)) -> ItemFlat:
        item = db.get(Item, item_id)
        return ItemFlat.model_validate(item)
    """,
).replace("router = APIRouter()", "import reviews\nfrom schemas import ItemFlat\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_before_model_validator_reading_the_object_gets_the_loads_of_what_it_reads_and_returns(cli, service, kind):
    """`@model_validator(mode="before")` given the ORM object: its reads (`data.reviews`, each
    review's author, through `Mapped[list["Review"]]` naming a class of a module models.py does not
    import) and the fields validated from the dict it returns (`"holder": data.owner` into
    `OwnerOut.team`) get their loads."""
    root = service({"models.py": VALIDATED_MODELS, "reviews.py": REVIEWS, "schemas.py": VALIDATED_SCHEMAS,
                    SUBSYSTEM: VALIDATED})
    document = apply(cli, root)
    for name in ("flat", "one"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
        text = function(root, SUBSYSTEM, name)
        assert "selectinload(Item.owner).selectinload(User.team)" in text, text
        assert "selectinload(Item.reviews).selectinload(Review.author)" in text, text
    result = serve(root, kind, SEED + """
from reviews import Review
with Sync() as s:
    s.add_all([Review(item_id=1, author_id=2, stars=4), Review(item_id=1, author_id=1, stars=5)])
    s.commit()
print(json.dumps([client.get("/flat").json(), client.get("/flat/2").json()]))
""")
    assert result == [
        [
            {"name": "pen", "holder": {"name": "Ann", "team": {"name": "Red"}}, "stars": 9, "critics": ["Bob", "Ann"]},
            {"name": "ink", "holder": {"name": "Bob", "team": None}, "stars": 0, "critics": []},
        ],
        {"name": "ink", "holder": {"name": "Bob", "team": None}, "stars": 0, "critics": []},
    ]


def test_a_before_model_validator_returning_what_the_tool_cannot_follow_blocks(cli, service):
    root = service({"models.py": VALIDATED_MODELS, "reviews.py": REVIEWS, "schemas.py": VALIDATED_SCHEMAS,
                    SUBSYSTEM: routes(
                        """
                        @router.get("/opaque", response_model=list[ItemOpaque])
                        def opaque(db: Session = Depends(get_db_session)):
                            return db.scalars(select(Item).order_by(Item.id)).all()
                        """,
                    ).replace("router = APIRouter()", "from schemas import ItemOpaque\n\nrouter = APIRouter()")})
    found = handler(run(cli, root), "opaque")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found
    assert "ItemOpaque.convert" in " ".join(found["reasons"]), found["reasons"]


BUILT_SCHEMAS = SCHEMAS + '''

class Receipt(BaseModel):
    item: ItemBrief
    note: str
'''
BUILT = routes(
    """
    @router.get("/receipt/{item_id}")
    def receipt(item_id: int, db: Session = Depends(get_db_session)):
        item = db.get(Item, item_id)
        built = Receipt(item=item, note="ok")
        return {"receipt": built.model_dump()}
    """,
    """
    @router.get("/dumped")
    def dumped(db: Session = Depends(get_db_session)):
        rows = db.scalars(select(Item).order_by(Item.id)).all()
        return {"page": Page[ItemBrief](items=rows, total=len(rows)).model_dump()}
    """,
).replace("router = APIRouter()", "from schemas import ItemBrief, Page, Receipt\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_schema_built_in_the_route_from_an_orm_object_gets_the_loads_its_nested_model_reads(cli, service, kind):
    """`Receipt(item=item)` validates `ItemBrief` from the Item where it runs, not where FastAPI
    serialises: the route returns a dict, and no response model names the schema."""
    root = service({"models.py": MODELS, "schemas.py": BUILT_SCHEMAS, SUBSYSTEM: BUILT})
    document = apply(cli, root)
    for name in ("receipt", "dumped"):  # `Page[ItemBrief](...)`: its items read as ItemBrief
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
        assert "selectinload(Item.owner)" in function(root, SUBSYSTEM, name)
    result = serve(root, kind, SEED + """
print(json.dumps([client.get("/receipt/2").json(), client.get("/dumped").json()]))
""")
    assert result == [
        {"receipt": {"item": {"name": "ink", "owner_name": "Bob"}, "note": "ok"}},
        {"page": {"items": [{"name": "pen", "owner_name": "Ann"}, {"name": "ink", "owner_name": "Bob"}], "total": 2}},
    ]


# `Page` generic by Python 3.12's type parameters (PEP 695): Python 3.11 reads the module through
# libcst, a newer one through its own `ast`; either way `T` stands for every type argument seen,
# also where another class of the module declares a `T` of its own otherwise (`Envelope`).
SCHEMAS_PEP695 = SCHEMAS.replace("from typing import Any, Generic, TypeVar\n", "from typing import Any\n").replace(
    'T = TypeVar("T")\n', ""
).replace("class Page(BaseModel, Generic[T]):", "class Page[T](BaseModel):") + """

class Envelope[T: BaseModel](BaseModel):
    data: T
"""
assert "TypeVar" not in SCHEMAS_PEP695 and "class Page[T](BaseModel):" in SCHEMAS_PEP695


def test_a_generic_page_by_type_parameters_gets_the_loads_of_its_items_and_runs(cli, service):
    root = service({"models.py": MODELS, "schemas.py": SCHEMAS_PEP695, SUBSYSTEM: HELD})
    document = apply(cli, root)
    for name in ("page", "built"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
        assert "selectinload(Item.owner)" in function(root, SUBSYSTEM, name), name
    if sys.version_info < (3, 12):
        return  # the service itself needs Python 3.12 to run
    result = serve(root, "sqlite", SEED + """
print(json.dumps([client.get("/page").json(), client.get("/built").json()]))
""")
    page = {"items": [{"name": "pen", "owner_name": "Ann"}, {"name": "ink", "owner_name": "Bob"}], "total": 2}
    assert result == [page, page]
