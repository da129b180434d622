"""Phase two's soundness: collections whose loader strategy only their annotation names.

`notes: WriteOnlyMapped[Note] = relationship()` is lazy="write_only" and
`items: DynamicMapped[Item] = relationship()` is lazy="dynamic", though neither call says
`lazy=`: SQLAlchemy takes the strategy from the annotation. Read as the default lazy="select",
a write-only collection the route touches (`user.notes.add(...)`, `user.notes.select()`) got a
`selectinload` on the query loading its owner, which raises InvalidRequestError on every
request ("does not support object population - eager loading cannot be applied"), and a
dynamic one got the same instead of blocking the route (AM221). The migrated routes are RUN.
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
@router.post("/users/{user_id}/notes")
def add_note(user_id: int, text: str, db: session_dependency):
    user = db.get(User, user_id)
    user.notes.add(Note(text=text))
    db.commit()
    return [n.text for n in db.scalars(user.notes.select().order_by(Note.id))]
""", """
@router.get("/users/{user_id}/items")
def count_items(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    return {"count": user.items.count()}
"""


def models() -> str:
    # the collections live in User's body, typed only by their annotation
    text = dedent(MODELS).replace(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
        "from sqlalchemy.orm import DeclarativeBase, DynamicMapped, Mapped, WriteOnlyMapped, mapped_column, relationship",
    )
    text = text.replace(
        '    name: Mapped[str] = mapped_column(String(100))\n\n\nclass Item',
        '    name: Mapped[str] = mapped_column(String(100))\n'
        '    notes: WriteOnlyMapped["Note"] = relationship()\n'
        '    items: DynamicMapped["Item"] = relationship()\n\n\nclass Item',
        1,
    )
    return text + "\n\n\n" + dedent("""
        class Note(Base):
            __tablename__ = "notes"
            id: Mapped[int] = mapped_column(primary_key=True)
            text: Mapped[str] = mapped_column(String(100))
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        """)


def test_a_collection_typed_write_only_or_dynamic_by_its_annotation_gets_no_eager_load(cli, service):
    source = routes(*ROUTES).replace("from models import Item, User", "from models import Item, Note, User")
    root = service({"models.py": models(), SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "add_note")["action"] == "migrate", handler(document, "add_note")
    assert "selectinload" not in function(root, SUBSYSTEM, "add_note")
    blocked = handler(document, "count_items")
    assert blocked["action"] == "blocked" and "AM221" in blocked["codes"], blocked
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=1)])
            s.commit()
        answers = [
            client.post("/users/1/notes", params={"text": "a"}).json(),
            client.post("/users/1/notes", params={"text": "b"}).json(),
            client.get("/users/1/items").json(),
        ]
        print(json.dumps(answers))
    """)
    assert result == [["a"], ["a", "b"], {"count": 2}]
