"""AM280 on an object a helper gets by key from the route's Session (`fetched_refresh`): the route
gets `await db.refresh(obj, attribute_names=[...])`, guarded against None, and migrates; where
something could have changed the object, or its class is not pinned down, AM222 keeps blocking."""

from __future__ import annotations

import pytest
from test_phase2_rules import (  # noqa: F401  (`app` is a fixture)
    BUILT_MAIN,
    BUILT_SCHEMAS,
    RUNTIME_ENGINE,
    SUBSYSTEM,
    app,
    apply,
    function,
    handler,
    route_module,
    run,
    run_python,
)

CRUD = """
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from models import Base, Book

ModelT = TypeVar("ModelT", bound=Base)


class CRUDBase(Generic[ModelT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    def get(self, db: Session, id: int) -> ModelT | None:
        return db.get(self.model, id)


class CRUDBook(CRUDBase[Book]):
    pass


book = CRUDBook(Book)
"""
HEAD = (
    "from fastapi import Depends, HTTPException\nimport crud\n"
    "from db.engine import get_db_session\nfrom schemas import BookIn, BookOut"
)
READ = """
@router.get("/books/{book_id}", response_model=BookOut)
async def read_book(book_id: int, db: Session = Depends(get_db_session)):
    book = crud.book.get(db, id=book_id)
{between}    return book
"""
CHECKED = "    if book is None:\n        raise HTTPException(404, \"no such book\")\n"
ROUTES = (
    READ.replace("{between}", CHECKED),
    """
    @router.post("/books", response_model=BookOut)
    def create_book(payload: BookIn, db: session_dependency):
        made = Book(**payload.model_dump())
        db.add(made)
        db.commit()
        return made
    """,
)


def test_runtime_a_fetched_object_gets_its_response_relationship_refreshed(cli, app):  # noqa: F811
    root = app({
        "db/engine.py": RUNTIME_ENGINE, "schemas.py": BUILT_SCHEMAS, "main.py": BUILT_MAIN, "crud.py": CRUD,
        SUBSYSTEM: route_module(*ROUTES, head=HEAD),
    })
    document = apply(cli, root)
    for name in ("read_book", "create_book"):
        found = handler(document, name)
        assert found["action"] == "migrate" and "AM280" in found["codes"] and "AM222" not in found["codes"], found
    assert any(
        r.endswith(
            'adds `await db.refresh(book, attribute_names=["author"])` after this line in api.items.read_book, '
            "for the relationships its response model reads (BookOut.author) on the Book "
            "crud.CRUDBase.get gets from the route's Session"
        ) for r in handler(document, "read_book")["reasons"]
    ), handler(document, "read_book")
    assert function(root, SUBSYSTEM, "read_book") == (
        "async def read_book(book_id: int, db: AsyncSession = Depends(get_async_db_session)):\n"
        "    book = await crud.book.get(db, id=book_id)\n"
        "    if book is not None:\n"
        '        await db.refresh(book, attribute_names=["author"])\n'
        "    if book is None:\n"
        '        raise HTTPException(404, "no such book")\n'
        "    return book"
    )
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        with TestClient(app) as client:
            created = client.post("/books", json={"title": "Gamma", "author_id": 1})
            read = client.get("/books/3")
            missing = client.get("/books/99")
        asyncio.run(async_engine.dispose())
        with database_sessionmaker() as s:
            rows = [(b.id, b.title, b.author.name) for b in s.query(Book).order_by(Book.id)]
        print(json.dumps({"created": [created.status_code, created.json()], "read": [read.status_code, read.json()],
                          "missing": [missing.status_code, missing.json()],
                          "rows": rows}))
        """,
    )
    assert result == {
        "created": [200, {"id": 3, "title": "Gamma", "author": {"name": "Ann"}}],
        "read": [200, {"id": 3, "title": "Gamma", "author": {"name": "Ann"}}],
        "missing": [404, {"detail": "no such book"}],
        "rows": [[1, "Alpha", "Ann"], [2, "Beta", "Ann"], [3, "Gamma", "Ann"]],
    }


def _crud(text: str) -> str:
    return CRUD.replace("book = CRUDBook(Book)\n", text)


NEAR_MISSES = {
    # an unflushed change before the return: the refresh expires first, so a change to the
    # relationship would be lost; any statement between the call and the return keeps the block
    "a change before the return": (READ.replace("{between}", "    book.title = book.title.upper()\n"), CRUD),
    # (after a commit the refresh follows it: `committed_refresh`)
    "a flush before the return": (READ.replace("{between}", "    db.flush()\n"), CRUD),
    # the instance's class comes from a call the analysis does not evaluate
    "instance of an unknown class": (READ.replace("{between}", CHECKED), _crud(
        "def pick() -> type[Book]:\n    return Book\n\n\nbook = CRUDBook(pick())\n"
    )),
    # `self.model` stored twice: which class the instance holds depends on what ran
    "attribute stored twice": (READ.replace("{between}", CHECKED), _crud(
        "book = CRUDBook(Book)\n\n\ndef switch(model: type) -> None:\n    book.use(model)\n"
    ).replace(
        "        return db.get(self.model, id)\n",
        "        return db.get(self.model, id)\n\n    def use(self, model: type) -> None:\n        self.model = model\n",
    )),
    # the helper runs more than a `get`: it may change the object
    "a helper that writes": (READ.replace("{between}", CHECKED), CRUD.replace(
        "        return db.get(self.model, id)\n",
        "        found = db.get(self.model, id)\n        db.flush()\n        return found\n",
    )),
    # a dependency sharing the Session may have changed the object before the route
    "a dependency sharing the Session": ("""
def current_user(db: Session = Depends(get_db_session)) -> int:
    return 1


@router.get("/books/{book_id}", response_model=BookOut)
async def read_book(book_id: int, db: Session = Depends(get_db_session), user: int = Depends(current_user)):
    book = crud.book.get(db, id=book_id)
    return book
""", CRUD),
}


@pytest.mark.parametrize(("router", "crud"), NEAR_MISSES.values(), ids=NEAR_MISSES)
def test_near_miss_a_fetched_object_the_refresh_cannot_vouch_for_keeps_the_am222_block(cli, app, router, crud):  # noqa: F811
    root = app({"schemas.py": BUILT_SCHEMAS, "crud.py": crud, SUBSYSTEM: route_module(router, head=HEAD)})
    found = handler(run(cli, root), "read_book")
    assert found["action"] == "blocked" and "AM222" in found["codes"] and "AM280" not in found["codes"], found
    assert any("response model BookOut.author reads relationship Book.author" in r for r in found["reasons"]), found
