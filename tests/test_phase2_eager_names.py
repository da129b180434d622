"""The names an added eager load writes: a class it imports never takes a name the module or
the function already binds to something else.

`selectinload(Book.author).selectinload(Author.books)` names `Author`; when the router imports
a pydantic schema called `Author`, or the function binds `Author` itself, importing the mapped
class as `Author` would hand the option the wrong object. Phase two imports it under a free
name instead, and the migrated route runs.
"""

from __future__ import annotations

from test_phase2_rules import (
    CHAINED_MODELS,
    RUNTIME_ENGINE,
    apply,
    dedent,
    function,
    handler,
    imports,
    run_python,
)

SUBSYSTEM = "api/items.py"

SCHEMAS = """
from pydantic import BaseModel


class Author(BaseModel):
    name: str
"""


def router(head: str, body: str) -> str:
    return dedent(
        """
        from fastapi import APIRouter
        from sqlalchemy import select

        from core.dependencies import session_dependency
        """
    ) + "\n" + dedent(head) + "\n\nrouter = APIRouter()\n\n\n" + dedent(body) + "\n"


CHAIN = """
@router.get("/chain")
def chain(session: session_dependency, book_id: int):
    {local}book = session.scalars(select(Book).where(Book.id == book_id)).one()
    return {{"titles": [other.title for other in book.author.books]{extra}}}
"""


def build(project, app_files, head: str, local: str = "", extra: str = ""):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": CHAINED_MODELS, "schemas.py": SCHEMAS,
        "api/__init__.py": "", SUBSYSTEM: router(head, CHAIN.format(local=local, extra=extra)),
    })


def served(root) -> object:  # type: ignore[no-untyped-def]
    return run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps(client.get("/chain", params={"book_id": 1}).json()))
    """)


def test_a_related_class_whose_name_the_module_uses_is_imported_under_a_free_name(cli, project, app_files):
    root = build(project, app_files, "from models import Book\nfrom schemas import Author", extra=', "schema": Author(name="x").name')
    document = apply(cli, root)
    assert handler(document, "chain")["action"] == "migrate"
    assert imports(root, SUBSYSTEM)[-2:] == ["from models import Author as Author_2, Book", "from schemas import Author"]
    assert ".options(selectinload(Book.author).selectinload(Author_2.books))" in function(root, SUBSYSTEM, "chain")
    assert served(root) == {"titles": ["Alpha", "Beta"], "schema": "x"}


def test_a_class_the_function_shadows_is_imported_under_a_free_name(cli, project, app_files):
    root = build(project, app_files, "from models import Author, Book", local='Author = "shadowed"\n    ',
                 extra=', "local": Author')
    document = apply(cli, root)
    assert handler(document, "chain")["action"] == "migrate"
    assert "from models import Author as Author_2, Author, Book" in imports(root, SUBSYSTEM)
    assert "selectinload(Author_2.books)" in function(root, SUBSYSTEM, "chain")
    assert served(root) == {"titles": ["Alpha", "Beta"], "local": "shadowed"}


def test_near_miss_a_free_class_name_is_imported_as_it_is(cli, project, app_files):
    root = build(project, app_files, "from models import Book")
    apply(cli, root)
    assert "from models import Author, Book" in imports(root, SUBSYSTEM)
    assert ".options(selectinload(Book.author).selectinload(Author.books))" in function(root, SUBSYSTEM, "chain")
    assert served(root) == {"titles": ["Alpha", "Beta"]}
