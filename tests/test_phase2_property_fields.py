"""A response model field named after a property of a traced ORM object, nesting a schema.

`ReviewedBook.reviewed_book: BookOut` is read from the property `Review.reviewed_book`, which
returns `self.book` and is annotated to return `Book`: serialising the response runs the
property (reading `Review.book`) and then validates `BookOut` from the `Book` it returns, reading
`Book.author`. Both load lazily unless the query loading the review loads them along the path the
property walks: `selectinload(Review.book).selectinload(Book.author)`. Only the property's own
reads were credited, so the route migrated with `selectinload(Review.book)` and raised
MissingGreenlet when FastAPI serialised the response.
"""

from __future__ import annotations

from test_phase2_rules import apply, function, handler
from test_phase2_value_fields import SUBSYSTEM, build, served

TRACED_PROPERTY = """
@router.get("/shelf/{review_id}", response_model=ReviewedBook)
def shelf(session: session_dependency, review_id: int):
    return session.scalars(select(Review).where(Review.id == review_id)).one()
"""

TRACED_UNANNOTATED = """
@router.get("/anything/{review_id}", response_model=ReviewedAnything)
def anything(session: session_dependency, review_id: int):
    return session.scalars(select(Review).where(Review.id == review_id)).one()
"""


def test_what_a_traced_property_returns_is_eager_loaded_along_its_path_and_runs(cli, project, app_files):
    root = build(project, app_files, TRACED_PROPERTY)
    document = apply(cli, root)
    assert handler(document, "shelf")["action"] == "migrate", handler(document, "shelf")
    assert "selectinload(Review.book).selectinload(Book.author)" in function(root, SUBSYSTEM, "shelf")
    result = served(root, '{"shelf": ReviewedBook.model_validate(await shelf(session, 1)).model_dump()}')
    assert result == {
        "shelf": {"id": 1, "reviewed_book": {"title": "Alpha", "author": {"name": "Ann"}}},
        "stored": [[1, 1]],
    }


def test_an_unannotated_traced_property_nesting_a_schema_is_unverified(cli, project, app_files):
    root = build(project, app_files, TRACED_UNANNOTATED)
    anything = handler(apply(cli, root), "anything")
    assert anything["action"] == "blocked", anything
    assert "ReviewedAnything.anything" in str(anything) and "unverified" in str(anything), anything
