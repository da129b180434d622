"""A response model field nesting a schema under a value that is no ORM object.

`ReviewOut.reviewed_by: PersonOut` read from a hybrid property annotated to return a TypedDict
(or a plain property returning a plain class) validates the nested schema from that value: its
`name` field reads a key of a dict, no model code. Matched by name alone, it was taken for the
property `AssetEvent.name` of an unrelated mapped class, which reads a relationship, and the
route was blocked. The nested value is followed as what the attribute holds: a mapped class
where model code is annotated to return one, unverified where the annotation says nothing, and
nothing to load otherwise; a real relationship read on the loaded object still blocks, or gets
its eager load where the flow traces the object to its query.
"""

from __future__ import annotations

from test_phase2_rules import MODELS, RUNTIME_ENGINE, apply, dedent, function, handler, run_python

SUBSYSTEM = "api/items.py"

EXTRA_MODELS = '''

from typing import TypedDict

from sqlalchemy import JSON
from sqlalchemy.ext.hybrid import hybrid_property


class Person(TypedDict):
    id: str
    name: str


class Holder:
    def __init__(self, name: str) -> None:
        self.name = name


class Asset(Base):
    __tablename__ = "assets"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]


class AssetEvent(Base):
    __tablename__ = "asset_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    asset: Mapped[Asset] = relationship()

    @property
    def name(self) -> str:
        return self.asset.label


class ReviewMixin:
    reviewer: dict | None

    @hybrid_property
    def reviewed_by(self) -> Person | None:
        if self.reviewer is None:
            return None
        return Person(id=self.reviewer["id"], name=self.reviewer["name"])


class Review(Base, ReviewMixin):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    reviewer: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    book: Mapped[Book] = relationship()

    @property
    def holder(self) -> Holder:
        return Holder(self.reviewer["name"] if self.reviewer else "")

    @property
    def reviewed_book(self) -> Book:
        return self.book

    @property
    def anything(self):
        return self.book
'''

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class PersonOut(BaseModel):
    id: str
    name: str


class HolderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    author: AuthorOut


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reviewed_by: PersonOut | None = None
    holder: HolderOut


class ReviewWithBook(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    book: BookOut


class ReviewedBook(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reviewed_book: BookOut


class ReviewedAnything(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    anything: BookOut
"""

# `review` is loaded or built: the flow cannot trace it to one query, so the names decide, on the
# class the helper is annotated to return when there is one
LOAD_REVIEW = """
def load_review(session: session_dependency, review_id: int) -> Review:
    review = session.scalar(select(Review).where(Review.id == review_id))
    if not review:
        review = Review(id=review_id, book_id=1, reviewer=None)
        session.add(review)
    return review
"""

ANNOTATED = """
@router.post("/{path}/{{review_id}}", response_model={model})
def {name}(session: session_dependency, review_id: int):
    return load_review(session, review_id)
"""

UPSERT = """
@router.post("/upsert/{review_id}")
def upsert(session: session_dependency, review_id: int) -> ReviewOut:
    review = session.scalar(select(Review).where(Review.id == review_id))
    if not review:
        review = Review(id=review_id, book_id=1, reviewer=None)
        session.add(review)
    return ReviewOut.model_validate(review)
"""

TRACED = """
@router.get("/traced/{review_id}")
def traced(session: session_dependency, review_id: int) -> ReviewWithBook:
    review = session.scalars(select(Review).where(Review.id == review_id)).one()
    return ReviewWithBook.model_validate(review)
"""


def build(project, app_files, *routes: str):  # type: ignore[no-untyped-def]
    router = dedent(
        """
        from fastapi import APIRouter
        from sqlalchemy import select

        from core.dependencies import session_dependency
        from models import Review
        from schemas import ReviewedAnything, ReviewedBook, ReviewOut, ReviewWithBook

        router = APIRouter()
        """
    ) + "\n\n\n" + "\n\n".join(dedent(r) for r in (LOAD_REVIEW, *routes)) + "\n"
    return project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": dedent(MODELS) + EXTRA_MODELS,
        "schemas.py": SCHEMAS, "api/__init__.py": "", SUBSYSTEM: router,
    })


def annotated(name: str, model: str) -> str:
    return ANNOTATED.format(path=name, name=name, model=model)


def served(root, calls: str) -> object:  # type: ignore[no-untyped-def]
    return run_python(root, """
        from api.items import *  # noqa: F403
        from models import Review
        from schemas import ReviewOut

        with database_sessionmaker() as s:
            s.add(Review(id=1, book_id=1, reviewer={"id": "u1", "name": "Una"}))
            s.commit()

        async def main():
            async with async_database_sessionmaker() as session:
                out = """ + calls + """
                await session.commit()
            await async_engine.dispose()
            return out

        out = asyncio.run(main())
        with database_sessionmaker() as s:  # what the migrated route wrote, read back
            out["stored"] = [[r.id, r.book_id] for r in s.query(Review).order_by(Review.id)]
        print(json.dumps(out))
    """)


def test_a_nested_schema_under_a_typed_dict_or_plain_value_is_no_lazy_load(cli, project, app_files):
    root = build(project, app_files, annotated("loaded", "ReviewOut"))
    document = apply(cli, root)
    assert handler(document, "loaded")["action"] == "migrate", handler(document, "loaded")
    assert function(root, SUBSYSTEM, "loaded").startswith("async def loaded(")
    result = served(root, '{"old": ReviewOut.model_validate(await loaded(session, 1)).model_dump(), '
                          '"new": ReviewOut.model_validate(await loaded(session, 7)).model_dump()}')
    assert result == {
        "old": {"id": 1, "reviewed_by": {"id": "u1", "name": "Una"}, "holder": {"name": "Una"}},
        "new": {"id": 7, "reviewed_by": None, "holder": {"name": ""}},
        "stored": [[1, 1], [7, 1]],
    }


def test_on_an_object_of_no_known_class_the_value_is_unverified_not_a_name_match(cli, project, app_files):
    root = build(project, app_files, UPSERT)
    upsert = handler(apply(cli, root), "upsert")
    assert upsert["action"] == "blocked"
    text = str(upsert)
    assert "ReviewOut.reviewed_by is validated from `reviewed_by` of an object the tool cannot trace" in text, text
    assert "unverified" in text and "AssetEvent" not in text


def test_a_relationship_read_on_the_untraced_object_still_blocks(cli, project, app_files):
    root = build(project, app_files, annotated("related", "ReviewWithBook"), annotated("typed", "ReviewedBook"),
                 annotated("unannotated", "ReviewedAnything"))
    document = apply(cli, root)
    related = handler(document, "related")
    assert related["action"] == "blocked"
    assert "ReviewWithBook.book" in str(related), related
    # a property annotated to return a mapped class hands the nested schema an ORM object
    typed = handler(document, "typed")
    assert typed["action"] == "blocked"
    assert "ReviewedBook.reviewed_book.author" in str(typed) and "Book.author" in str(typed), typed
    # no annotation: whether the value is an ORM object is unverified, never an all-clear
    unannotated = handler(document, "unannotated")
    assert unannotated["action"] == "blocked"
    assert "ReviewedAnything.anything" in str(unannotated) and "unverified" in str(unannotated), unannotated


def test_a_relationship_read_on_a_traced_object_is_eager_loaded_and_runs(cli, project, app_files):
    root = build(project, app_files, TRACED, annotated("loaded", "ReviewOut"))
    document = apply(cli, root)
    assert handler(document, "traced")["action"] == handler(document, "loaded")["action"] == "migrate"
    assert "selectinload(Review.book).selectinload(Book.author)" in function(root, SUBSYSTEM, "traced")
    result = served(root, '{"traced": (await traced(session, 1)).model_dump(), '
                          '"loaded": ReviewOut.model_validate(await loaded(session, 1)).model_dump()}')
    assert result == {
        "traced": {"id": 1, "book": {"title": "Alpha", "author": {"name": "Ann"}}},
        "loaded": {"id": 1, "reviewed_by": {"id": "u1", "name": "Una"}, "holder": {"name": "Una"}},
        "stored": [[1, 1]],
    }
