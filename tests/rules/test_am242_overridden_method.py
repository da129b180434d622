"""AM242 overridden-method: a method that would move while a subclass's override does not
blocks the route; when the override moves too, both do."""

from __future__ import annotations

CRUD = """
from sqlalchemy.orm import Session

from models import Book


class Base:
    def __init__(self, model):
        self.model = model

    def create(self, session: Session, title: str):
        obj = self.model(title=title)
        session.add(obj)
        session.commit()
        return obj


class Books(Base):
    def create(self, session: Session, title: str):
        return super().create(session, title.strip())


base = Base(Book)
books = Books(Book)
"""


def test_an_override_that_does_not_move_blocks_with_am242(phase2, entry):
    document = phase2(
        """
        import crud


        @router.post("/raw")
        def add_raw(title: str, session: session_dependency):
            return {"id": crud.base.create(session, title).id}
        """,
        {"crud.py": CRUD},
    )
    found = entry(document, "add_raw")
    assert (found["action"], found["codes"]) == ("blocked", ["AM242"])
    assert "crud.Base.create is overridden by crud.Books.create (crud.py:" in found["reasons"][0]


def test_near_miss_the_override_moves_with_the_base_method(phase2, entry):
    document = phase2(
        """
        import crud


        @router.post("/books")
        def add_book(title: str, session: session_dependency):
            return {"id": crud.books.create(session, title).id}
        """,
        {"crud.py": CRUD},
    )
    assert entry(document, "add_book")["action"] == "migrate"
    assert {entry(document, "Base.create", "helpers")["action"], entry(document, "Books.create", "helpers")["action"]} == {"migrate"}


# The override's async twin as an earlier run (for a subsystem reaching `Books.create`) wrote it.
OVERRIDE_TWIN = """

    async def create_async(self, session: AsyncSession, title: str):
        return await super().create_async(session, title.strip())
"""


def test_an_override_whose_twin_an_earlier_run_wrote_no_longer_blocks(phase2, entry):
    crud = "from sqlalchemy.ext.asyncio import AsyncSession\n" + CRUD.replace(
        "\n\nbase = Base(Book)", OVERRIDE_TWIN + "\n\nbase = Base(Book)"
    )
    document = phase2(
        """
        import crud


        @router.post("/raw")
        def add_raw(title: str, session: session_dependency):
            return {"id": crud.base.create(session, title).id}
        """,
        {"crud.py": crud},
    )
    found = entry(document, "add_raw")
    assert found["action"] == "migrate", found["reasons"]
    base = entry(document, "Base.create", "helpers")
    assert (base["action"], base["twin"], base["twin_exists"]) == ("twin", "create_async", False)
    assert "overridden by crud.Books.create, whose async twin an earlier run added" in " ".join(base["reasons"])
