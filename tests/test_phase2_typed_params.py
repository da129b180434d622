"""Relationship reads on the parameters of helpers: methods followed through their callers,
a parameter typed with a base class judged over its subclasses too.

A read the data flow cannot follow is judged by name; a parameter annotated with a project
class narrows the candidates to that class, and an instance of any subclass may arrive
there, so the subclasses' relationships count. A helper method's parameters are followed to
what its callers pass (the receiver takes `self`), so the read gets its eager load instead of
a block.
"""

from __future__ import annotations

from test_phase2_model_code import MODELS, SCHEMAS, router, serve
from test_phase2_rules import RUNTIME_ENGINE, apply, function, handler


def build(project, app_files, *parts: str):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS,
        "schemas.py": SCHEMAS, "api/items.py": router(*parts).replace("from models import", "from models import Labelled,"),
    })


BASE_TYPED = (
    """
    def owner_name(thing: Labelled) -> str:
        return thing.author.name
    """,
    """
    def owner_title(thing: Labelled) -> str:
        return thing.title
    """,
    """
    @router.get("/owner")
    def owner(session: session_dependency):
        books = {b.id: b for b in session.scalars(select(Book)).all()}
        return {"name": owner_name(books[1])}
    """,
    """
    @router.get("/title")
    def title(session: session_dependency):
        books = {b.id: b for b in session.scalars(select(Book)).all()}
        return {"title": owner_title(books[1])}
    """,
)


def test_a_parameter_typed_with_a_base_class_counts_its_subclasses_relationships(cli, project, app_files):
    root = build(project, app_files, *BASE_TYPED)
    document = apply(cli, root)
    found = handler(document, "owner")
    assert (found["action"], found["codes"]) == ("blocked", ["AM220"]), found
    assert "`thing.author` reads relationship Book.author" in found["reasons"][0]
    assert handler(document, "title")["action"] == "migrate"


METHOD = (
    """
    class Describer:
        def author_of(self, book: Book) -> str:
            return book.author.name
    """,
    """
    @router.get("/described/{book_id}")
    def described(book_id: int, session: session_dependency):
        book = session.get(Book, book_id)
        describer = Describer()
        return {"author": describer.author_of(book)}
    """,
)


def test_a_method_parameter_is_followed_to_the_query_its_caller_ran(cli, project, app_files):
    root = build(project, app_files, *METHOD)
    document = apply(cli, root)
    found = handler(document, "described")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert ".options(selectinload(Book.author))" in function(root, "api/items.py", "described")
    assert serve(root, 'print(json.dumps(client.get("/described/2").json()))') == {"author": "Ann"}
