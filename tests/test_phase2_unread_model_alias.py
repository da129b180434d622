"""Phase two's soundness: a parameter annotated with a class of a project module the tool did not
read (`from core.model_aliases import ItemModel`, that file missing when the tool runs: generated,
outside PATH, unparsable) is no library's type. Read as one, what a helper reads on it
(`item.owner_name`, a property reading a relationship; `item.note`, a deferred column) was taken
for no model's attribute: the routes handing it an Item the flow cannot follow migrated with no
eager load and raised MissingGreenlet. They block as unverified now, naming the module; the
unchanged routes still answer. The routes are RUN (the alias module written for the run).
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(100), deferred=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship()

    @property
    def owner_name(self) -> str:
        return self.owner.name
"""
ROUTES = ("""
def label(item: ItemModel) -> str:
    return item.owner_name


def noted(item: ItemModel) -> str | None:
    return item.note


FORMATS = {"label": label, "note": noted}


@router.get("/a/{item_id}")
def via_table(item_id: int, kind: str, db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == item_id)).one()
    return {"v": FORMATS[kind](item)}


@router.get("/b/{item_id}")
def via_map(item_id: int, db: session_dependency):
    items = db.scalars(select(Item).where(Item.id == item_id)).all()
    return {"v": list(map(label, items))}


@router.get("/c/{item_id}")
def via_held(item_id: int, db: session_dependency):
    held = {"x": db.scalars(select(Item).where(Item.id == item_id)).one()}
    return {"v": label(held["x"]), "n": noted(held["x"])}
""",)
CALLS = '''
with Sync() as s:
    s.add(Item(id=1, name="pen", note="n", owner_id=1))
    s.commit()
answers = [client.get(path) for path in ("/a/1?kind=label", "/a/1?kind=note", "/b/1", "/c/1")]
print(json.dumps([[a.status_code, a.json()] for a in answers]))
'''


EXPECTED = [[200, {"v": "Ann"}], [200, {"v": "n"}], [200, {"v": ["Ann"]}], [200, {"v": "Ann", "n": "n"}]]
UNVERIFIED = "annotated `ItemModel` of `core.model_aliases`, a module of the project the tool did not read"


def test_a_class_of_a_module_not_read_is_unverified_not_a_library_type(cli, service):
    root = service({
        "models.py": dedent(MODELS),
        "api/items.py": routes(*ROUTES).replace("router = APIRouter()", "from core.model_aliases import ItemModel\n\nrouter = APIRouter()"),
    })
    document = apply(cli, root)
    assert handler(document, "via_table")["action"] == "migrate"  # traced: the options go on its query
    for name, reads in (("via_map", ["item.owner_name"]), ("via_held", ["item.owner_name", "item.note"])):
        decision = handler(document, name)
        assert decision["action"] == "blocked", decision
        for read in reads:
            assert any(f"`{read}`" in r and UNVERIFIED in r and "unverified" in r for r in decision["reasons"]), decision
    (root / "core/model_aliases.py").write_text("from models import Item as ItemModel\n")
    assert serve(root, "sqlite", CALLS) == EXPECTED
