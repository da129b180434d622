"""Model code a migrated route runs on an ORM object: properties, methods, `__str__`.

A route that reads `book.author_name` (a property reading `self.author.name`), calls
`book.describe()`, formats `f"{author}"` or returns a book under a response model with an
`author_name` field runs the model's own code, and a relationship that code reads loads
lazily: MissingGreenlet under AsyncSession. Each shape is migrated with `phase2 --apply` and
then served over HTTP (TestClient) on the generated async stack (aiosqlite): the eager loads
phase two added make the reads work. Where no eager load can be added (an object from a
dependency, a read named at run time, a base class outside PATH) the route is blocked with
the property and the relationship named, and a property that reads only columns migrates
without any option.
"""

from __future__ import annotations

import json
import os

import pytest
import sample
from phase2_kit import KINDS, run_app
from test_phase2_rules import RUNTIME_ENGINE, apply, dedent, function, handler, read, run_python
from test_phase2_soundness import SQLMODEL_DB as SQLMODEL_STACKS

SUBSYSTEM = "api/items.py"

MODELS = '''
from functools import cached_property

from sqlalchemy import ForeignKey
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Labelled:
    """A mixin: its property reads a relationship of the class it is mixed into."""

    @property
    def label(self) -> str:
        return f"{self.title} by {self.author.name}"


class Publisher(Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("publishers.id"))
    publisher: Mapped[Publisher | None] = relationship()
    books: Mapped[list["Book"]] = relationship(back_populates="author")

    @property
    def publisher_name(self) -> str:
        return self.publisher.name if self.publisher else "-"

    def __str__(self) -> str:
        return f"{self.name} ({self.publisher_name})"


class Book(Labelled, Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")

    @property
    def author_name(self) -> str:
        return self.author.name

    @cached_property
    def shout(self) -> str:
        return self.author_name.upper()

    @hybrid_property
    def author_upper(self) -> str:
        return self.author.name.upper()

    def describe(self) -> str:
        return f"{self.title}: {self.author.publisher_name}"

    @property
    def title_upper(self) -> str:
        return self.title.upper()
'''

SCHEMAS = '''
from pydantic import BaseModel, ConfigDict


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_name: str


class BookTitle(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title_upper: str
'''

HEAD = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from db.engine import get_db_session
from models import Author, Book
from schemas import BookOut, BookTitle

router = APIRouter()
"""


def router(*parts: str) -> str:
    return dedent(HEAD) + "\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


SEED = """
from models import Publisher
with database_sessionmaker() as s:
    s.add(Publisher(id=1, name="Pan"))
    s.flush()
    s.get(Author, 1).publisher_id = 1
    s.commit()
"""


def serve(root, script: str) -> object:  # type: ignore[no-untyped-def]
    """The migrated router served over HTTP on the async stack; `client` in scope."""
    return run_python(root, SEED + dedent(
        """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
        """
    ) + "\n" + "\n".join("    " + line for line in dedent(script).splitlines()) + "\n")


@pytest.fixture
def models_app(project, app_files):  # type: ignore[no-untyped-def]
    def build(*parts: str, models: str = MODELS, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return project({**app_files, "api/__init__.py": "",
            "db/engine.py": RUNTIME_ENGINE, "models.py": models, "schemas.py": SCHEMAS,
            SUBSYSTEM: router(*parts), **(extra or {}),
        })

    return build


ROUTES = (
    """
    @router.get("/books/{book_id}", response_model=BookOut)
    def book_out(book_id: int, session: session_dependency):
        return session.get(Book, book_id)
    """,
    """
    @router.get("/books/{book_id}/describe")
    def describe(book_id: int, session: session_dependency):
        book = session.scalars(select(Book).where(Book.id == book_id)).one()
        return {"text": book.describe()}
    """,
    """
    @router.get("/books/{book_id}/label")
    def label(book_id: int, session: session_dependency):
        book = session.scalars(select(Book).where(Book.id == book_id)).one()
        return {"label": book.label, "shout": book.shout, "upper": book.author_upper}
    """,
    """
    @router.get("/authors/{author_id}")
    def author_text(author_id: int, session: session_dependency):
        author = session.get(Author, author_id)
        return {"text": f"{author}"}
    """,
    """
    @router.get("/titles/{book_id}", response_model=BookTitle)
    def title(book_id: int, session: session_dependency):
        return session.get(Book, book_id)
    """,
)


def test_model_code_reading_relationships_gets_eager_loads_and_runs_on_the_async_stack(cli, models_app):
    root = models_app(*ROUTES)
    document = apply(cli, root)
    for name in ("book_out", "describe", "label", "author_text", "title"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    reasons = " ".join(handler(document, "book_out")["reasons"])
    assert "adds the eager load of Book.author" in reasons and "through Book.author_name" in reasons
    assert function(root, SUBSYSTEM, "book_out") == dedent(
        """
        async def book_out(book_id: int, session: async_session_dependency):
            return (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))).one_or_none()
        """
    )
    text = read(root, SUBSYSTEM)
    # a method reading a property of a related object: the path Book.author -> Author.publisher
    assert ".options(selectinload(Book.author).selectinload(Author.publisher))" in function(root, SUBSYSTEM, "describe")
    assert "selectinload(Book.author)" in function(root, SUBSYSTEM, "label")
    assert ".options(selectinload(Author.publisher))" in function(root, SUBSYSTEM, "author_text")
    # the near miss: a property reading only columns needs no option
    assert function(root, SUBSYSTEM, "title") == dedent(
        """
        async def title(book_id: int, session: async_session_dependency):
            return await session.get(Book, book_id)
        """
    )
    assert "AM246" not in handler(document, "title")["codes"]
    assert any(line.startswith("from sqlalchemy.orm import") and "selectinload" in line for line in text.splitlines())
    result = serve(root, """
        out = {
            "book": client.get("/books/1").json(),
            "describe": client.get("/books/2/describe").json(),
            "label": client.get("/books/1/label").json(),
            "author": client.get("/authors/1").json(),
            "title": client.get("/titles/2").json(),
        }
        print(json.dumps(out))
    """)
    assert result == {
        "book": {"id": 1, "author_name": "Ann"},
        "describe": {"text": "Beta: Pan"},
        "label": {"label": "Alpha by Ann", "shout": "ANN", "upper": "ANN"},
        "author": {"text": "Ann (Pan)"},
        "title": {"id": 2, "title_upper": "BETA"},
    }


def test_a_property_on_an_object_from_a_dependency_gets_its_eager_load_in_the_twin(cli, models_app):
    root = models_app(
        """
        def first_book(session: session_dependency) -> Book:
            return session.get(Book, 1)
        """,
        """
        @router.get("/first")
        def first(book: Book = Depends(first_book), session: Session = Depends(get_db_session)):
            return {"name": book.author_name, "count": len(session.scalars(select(Book)).all())}
        """,
        """
        @router.get("/first/title")
        def first_title(book: Book = Depends(first_book), session: Session = Depends(get_db_session)):
            return {"title": book.title_upper, "count": len(session.scalars(select(Book)).all())}
        """,
    )
    document = apply(cli, root)
    found = handler(document, "first")
    # The dependency's query moves with the route into its async twin, so the eager load the
    # property needs goes there (it blocked as AM250 before twins took eager loads).
    assert (found["action"], found["codes"]) == ("migrate", ["AM201", "AM226", "AM246"]), found
    reason = " ".join(found["reasons"])
    assert "adds the eager load of Book.author to the query in api.items.first_book" in reason
    assert "through Book.author_name" in reason
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "first_book_async")
    assert "Depends(first_book_async)" in function(root, SUBSYSTEM, "first")
    # the near miss: the same dependency, a property reading only columns
    assert handler(document, "first_title")["action"] == "migrate"
    result = serve(root, """
        print(json.dumps({"first": client.get("/first").json(), "title": client.get("/first/title").json()}))
    """)
    assert result == {"first": {"name": "Ann", "count": 2}, "title": {"title": "ALPHA", "count": 2}}


UNSEEN = (
    """
    @router.get("/field/{name}")
    def field(name: str, session: session_dependency):
        book = session.get(Book, 1)
        return {"value": str(getattr(book, name))}
    """,
    """
    @router.get("/picked")
    def picked(session: session_dependency):
        books = {b.id: b for b in session.scalars(select(Book)).all()}
        return {"name": books[1].author_name}
    """,
    """
    @router.get("/picked/title")
    def picked_title(session: session_dependency):
        books = {b.id: b for b in session.scalars(select(Book)).all()}
        return {"title": books[1].title_upper}
    """,
)


def test_model_code_the_tool_cannot_see_is_never_migrated_silently(cli, models_app):
    root = models_app(*UNSEEN)
    document = apply(cli, root)
    found = handler(document, "field")
    # `str()` of whatever the attribute holds may run a related object's `__str__` as well
    assert found["action"] == "blocked" and found["codes"][0] == "AM247", found
    assert "names at run time: the analysis cannot see which attribute that is" in found["reasons"][0]
    found = handler(document, "picked")
    assert (found["action"], found["codes"]) == ("blocked", ["AM250"]), found
    assert "may run property Book.author_name" in found["reasons"][0]
    assert "reads relationship Book.author" in found["reasons"][0]
    assert handler(document, "picked_title")["action"] == "migrate"


OUTSIDE_MODELS = MODELS.replace(
    "class Book(Labelled, Base):", "from shared_mixins import Audited\n\n\nclass Book(Audited, Labelled, Base):"
)
OUTSIDE_ROUTES = (
    """
    @router.get("/audit")
    def audit(session: session_dependency):
        return {"by": session.get(Book, 1).audit_trail}
    """,
    """
    @router.get("/plain")
    def plain(session: session_dependency):
        return {"title": session.get(Book, 1).title}
    """,
)


def test_an_attribute_a_base_outside_path_may_define_is_unverified(cli, models_app):
    root = models_app(*OUTSIDE_ROUTES, models=OUTSIDE_MODELS)
    document = apply(cli, root)
    found = handler(document, "audit")
    assert (found["action"], found["codes"]) == ("blocked", ["AM247"]), found
    assert "its base `shared_mixins.Audited` is outside PATH" in found["reasons"][0]
    assert handler(document, "plain")["action"] == "migrate"


HANDED_OFF = MODELS.replace(
    "    @property\n    def title_upper(self) -> str:\n        return self.title.upper()\n",
    "    @property\n    def title_upper(self) -> str:\n        return render(self)\n",
).replace("class Base(DeclarativeBase):", "def render(book) -> str:\n    return book.author.name\n\n\nclass Base(DeclarativeBase):")


HANDED_OUTSIDE = MODELS.replace(
    "    @property\n    def title_upper(self) -> str:\n        return self.title.upper()\n",
    "    @property\n    def title_upper(self) -> str:\n        return pprint.pformat(self)\n",
).replace("class Base(DeclarativeBase):", "import pprint\n\n\nclass Base(DeclarativeBase):")


def test_a_property_handing_self_to_a_project_function_gets_the_eager_load_it_reads(cli, models_app):
    # `render(self)` reads `book.author`: judged as the property's own read, not left unverified
    root = models_app(ROUTES[4], models=HANDED_OFF)
    document = apply(cli, root)
    found = handler(document, "title")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "title")


@pytest.mark.parametrize("kind", KINDS)
def test_the_migrated_property_handing_self_on_runs_on_each_database(cli, models_app, kind):
    # MariaDB needs a length for each VARCHAR
    sized = HANDED_OFF.replace(
        "class Base(DeclarativeBase):\n    pass", "class Base(DeclarativeBase):\n    type_annotation_map = {str: String(100)}"
    ).replace("from sqlalchemy import ForeignKey", "from sqlalchemy import ForeignKey, String")
    root = models_app(ROUTES[4], models=sized)
    apply(cli, root)
    script = dedent(
        """
        import asyncio
        import json

        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router
        from db.engine import async_engine, database_sessionmaker, engine
        from models import Author, Base, Book

        Base.metadata.create_all(engine)
        with database_sessionmaker() as s:
            s.add(Author(id=1, name="Ann"))
            s.add(Book(id=1, title="Alpha", author_id=1))
            s.commit()
        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            out = client.get("/titles/1").json()
        asyncio.run(async_engine.dispose())
        print(json.dumps(out))
        """
    )
    assert run_app(root, kind, script) == {"id": 1, "title_upper": "Ann"}


def test_near_miss_a_property_handing_self_to_code_outside_the_project_is_unverified(cli, models_app):
    root = models_app(ROUTES[4], models=HANDED_OUTSIDE)
    document = apply(cli, root)
    found = handler(document, "title")
    assert (found["action"], found["codes"]) == ("blocked", ["AM247"]), found
    assert "runs property Book.title_upper" in found["reasons"][0]
    assert "`self` is handed to `pprint.pformat(...)`" in found["reasons"][0]


def test_the_eager_load_is_what_makes_the_property_work(cli, models_app):
    """The control: the migrated route without the option phase two added fails as the issue says."""
    root = models_app(ROUTES[0])
    apply(cli, root)
    path = root / SUBSYSTEM
    path.write_text(read(root, SUBSYSTEM).replace(".options(selectinload(Book.author))", ""))
    result = serve(root, """
        try:
            out = client.get("/books/1").json()
        except Exception as error:
            out = f"{type(error).__name__}: {error}"
        print(json.dumps(out))
    """)
    # FastAPI reports the property's failure while serialising as a validation error
    assert isinstance(result, str) and "greenlet_spawn has not been called" in result, result


# The SQLModel stack of the soundness tests: a sessionmaker of sqlmodel Sessions.
SQLMODEL_DB = SQLMODEL_STACKS["sessionmaker"]
SQLMODEL_MODELS = """
from pydantic import computed_field
from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    team_id: int | None = Field(default=None, foreign_key="team.id")
    team: Team | None = Relationship()

    @computed_field
    @property
    def team_name(self) -> str:
        return self.team.name if self.team else "-"
"""
SQLMODEL_ROUTES = """
from fastapi import APIRouter

from db import SessionDep
from models import Hero

router = APIRouter()


@router.get("/heroes/{hero_id}", response_model=Hero)
def hero(hero_id: int, session: SessionDep):
    return session.get(Hero, hero_id)
"""


def test_a_sqlmodel_computed_field_reading_a_relationship_gets_its_eager_load(cli, project):
    root = project({"db.py": SQLMODEL_DB, "models.py": SQLMODEL_MODELS, "api/__init__.py": "", "api/heroes.py": SQLMODEL_ROUTES})
    document = apply(cli, root, subsystem="api/heroes.py")
    found = handler(document, "hero")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert "await session.exec(select(Hero).where(Hero.id == hero_id).options(selectinload(Hero.team)))" in function(root, "api/heroes.py", "hero")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel

        import db
        from api.heroes import router
        from models import Hero, Team

        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            s.add(Team(id=1, name="Reds"))
            s.add(Hero(id=1, name="Ann", team_id=1))
            s.commit()
        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            out = client.get("/heroes/1").json()
        asyncio.run(db.async_engine.dispose())
        print(json.dumps(out))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = sample.run_python(script, cwd=root, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"id": 1, "name": "Ann", "team_id": 1, "team_name": "Reds"}


FORMATTED = (
    """
    @router.get("/logged/{author_id}")
    def logged(author_id: int, session: session_dependency):
        author = session.get(Author, author_id)
        logger.info("read %s", author)
        return {"id": author.id}
    """,
    """
    @router.get("/got/{book_id}")
    def got(book_id: int, session: session_dependency):
        book = session.get(Book, book_id)
        return {"name": getattr(book, "author_name")}
    """,
)


def test_a_logged_object_and_a_getattr_by_constant_name_run_model_code_and_get_their_eager_loads(cli, models_app):
    root = models_app("import logging\n\nlogger = logging.getLogger(__name__)", *FORMATTED)
    document = apply(cli, root)
    assert handler(document, "logged")["action"] == handler(document, "got")["action"] == "migrate"
    assert ".options(selectinload(Author.publisher))" in function(root, SUBSYSTEM, "logged")
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "got")
    result = serve(root, """
        import logging
        logging.basicConfig(level=logging.INFO)
        print(json.dumps({"logged": client.get("/logged/1").json(), "got": client.get("/got/1").json()}))
    """)
    assert result == {"logged": {"id": 1}, "got": {"name": "Ann"}}


DESCRIPTOR_MODELS = MODELS.replace(
    "from sqlalchemy.ext.hybrid import hybrid_property",
    "from sqlalchemy.ext.associationproxy import association_proxy\nfrom sqlalchemy.ext.hybrid import hybrid_property",
).replace(
    "    author: Mapped[Author] = relationship(back_populates=\"books\")\n",
    "    author: Mapped[Author] = relationship(back_populates=\"books\")\n"
    "    author_label = association_proxy(\"author\", \"name\")\n"
    "    legacy = property(lambda self: self.author.name)\n",
)
DESCRIPTOR_ROUTES = (
    """
    @router.get("/proxy/{book_id}")
    def proxy(book_id: int, session: session_dependency):
        book = session.scalars(select(Book).where(Book.id == book_id)).one()
        return {"label": book.author_label}
    """,
    """
    @router.get("/legacy/{book_id}")
    def legacy(book_id: int, session: session_dependency):
        return {"name": session.get(Book, book_id).legacy}
    """,
)


def test_an_association_proxy_gets_its_eager_load_and_a_property_built_by_a_call_is_unverified(cli, models_app):
    root = models_app(*DESCRIPTOR_ROUTES, models=DESCRIPTOR_MODELS)
    document = apply(cli, root)
    assert handler(document, "proxy")["action"] == "migrate"
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "proxy")
    found = handler(document, "legacy")
    assert (found["action"], found["codes"]) == ("blocked", ["AM247"]), found
    assert "`legacy` is built by `property(...)`" in found["reasons"][0]
    assert serve(root, 'print(json.dumps(client.get("/proxy/1").json()))') == {"label": "Ann"}


DEFERRED_MODELS = MODELS.replace(
    "    title: Mapped[str]\n",
    "    title: Mapped[str]\n    blurb: Mapped[str] = mapped_column(deferred=True, default=\"\")\n",
).replace(
    "    def title_upper(self) -> str:\n        return self.title.upper()\n",
    "    def title_upper(self) -> str:\n        return self.title.upper()\n\n"
    "    @property\n    def blurb_upper(self) -> str:\n        return self.blurb.upper()\n",
)
DEFERRED_ROUTES = (
    """
    @router.get("/blurb/{book_id}")
    def blurb(book_id: int, session: session_dependency):
        return {"blurb": session.get(Book, book_id).blurb_upper}
    """,
    """
    @router.get("/undeferred/{book_id}")
    def undeferred(book_id: int, session: session_dependency):
        return {"blurb": session.get(Book, book_id, options=[undefer(Book.blurb)]).blurb_upper}
    """,
)


def test_a_property_reading_a_deferred_column_gets_the_query_an_undefer_option(cli, models_app):
    root = models_app("from sqlalchemy.orm import undefer", *DEFERRED_ROUTES, models=DEFERRED_MODELS)
    document = apply(cli, root)
    found = handler(document, "blurb")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert any("adds the `undefer` of Book.blurb" in reason and "through Book.blurb_upper" in reason
               for reason in found["reasons"]), found["reasons"]
    assert "await session.scalars(select(Book).where(Book.id == book_id).options(undefer(Book.blurb)))" in function(root, SUBSYSTEM, "blurb")
    assert handler(document, "undeferred")["action"] == "migrate"
    result = serve(root, """
        print(json.dumps({"blurb": client.get("/blurb/1").json(), "undeferred": client.get("/undeferred/1").json()}))
    """)
    assert result == {"blurb": {"blurb": ""}, "undeferred": {"blurb": ""}}


CHAINED_MODELS = DESCRIPTOR_MODELS.replace(
    "    books: Mapped[list[\"Book\"]] = relationship(back_populates=\"author\")\n",
    "    books: Mapped[list[\"Book\"]] = relationship(back_populates=\"author\")\n"
    "    publisher_label = association_proxy(\"publisher\", \"name\")\n",
) + '''

# Assigned after the class statement, as the mapper allows: a proxy of a proxy, and one of a property.
Book.publisher_via_author = association_proxy("author", "publisher_label")
Book.author_publisher = association_proxy("author", "publisher_name")
'''
CHAINED_ROUTES = (
    """
    @router.get("/chained/{book_id}")
    def chained(book_id: int, session: session_dependency):
        book = session.scalars(select(Book).where(Book.id == book_id)).one()
        return {"proxy": book.publisher_via_author, "property": book.author_publisher}
    """,
)


def test_a_proxy_of_a_proxy_or_of_a_property_gets_the_eager_load_of_the_whole_path(cli, models_app):
    # Each object of the proxied relationship runs the inner proxy (or property), which loads
    # Author.publisher: the eager load of Book.author alone left that read a lazy load.
    root = models_app(*CHAINED_ROUTES, models=CHAINED_MODELS)
    document = apply(cli, root)
    found = handler(document, "chained")
    assert found["action"] == "migrate", found
    assert any("Book.publisher_via_author -> Author.publisher_label" in r for r in found["reasons"]), found["reasons"]
    assert ".options(selectinload(Book.author).selectinload(Author.publisher))" in function(root, SUBSYSTEM, "chained")
    assert serve(root, 'print(json.dumps(client.get("/chained/1").json()))') == {"proxy": "Pan", "property": "Pan"}


POLYMORPHIC_MODELS = MODELS + '''

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    kind: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "item"}

    @property
    def size(self) -> int:
        return self.grams if self.kind == "parcel" else 0


class Parcel(Item):
    __tablename__ = "parcels"
    id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    grams: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "parcel"}

    @hybrid_property
    def kilos(self) -> float:
        return self.grams / 1000
'''
POLYMORPHIC_ROUTES = (
    "from sqlalchemy.orm import selectin_polymorphic\n\nfrom models import Item, Parcel",
    """
    @router.get("/kilos")
    def kilos(session: session_dependency):
        return {i.name: i.kilos for i in session.scalars(select(Item)).all() if isinstance(i, Parcel)}
    """,
    """
    @router.get("/sizes")
    def sizes(session: session_dependency):
        return [i.size for i in session.scalars(select(Item)).all()]
    """,
    """
    @router.get("/loaded")
    def loaded(session: session_dependency):
        query = select(Item).options(selectin_polymorphic(Item, [Parcel])).order_by(Item.id)
        return {i.name: (i.kilos if isinstance(i, Parcel) else None, i.size) for i in session.scalars(query).all()}
    """,
)


def test_model_code_reading_a_subclass_column_on_an_object_of_a_base_query_blocks(cli, models_app):
    # A hybrid only the subclass defines, and a base property reading the subclass column, run
    # on rows of a query of the base: the subclass's own table was never loaded, so the read is
    # a lazy load. Both migrated and raised MissingGreenlet.
    root = models_app(*POLYMORPHIC_ROUTES, models=POLYMORPHIC_MODELS)
    document = apply(cli, root)
    for name, member in (("kilos", "Parcel.kilos"), ("sizes", "Item.size")):
        found = handler(document, name)
        assert (found["action"], found["codes"]) == ("blocked", ["AM260"]), found
        assert f"(through {member}) reads Parcel.grams, declared only by subclass Parcel" in found["reasons"][0]
    assert handler(document, "loaded")["action"] == "migrate"
    result = serve(root, """
        from models import Item, Parcel
        with database_sessionmaker() as s:
            s.add_all([Item(id=1, name="box", kind="item"), Parcel(id=2, name="bag", grams=1500)])
            s.commit()
        print(json.dumps(client.get("/loaded").json()))
    """)
    assert result == {"box": [None, 0], "bag": [1.5, 1500]}


VALIDATED_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates",
).replace(
    "    @property\n    def title_upper(self) -> str:\n",
    "    @validates(\"title\")\n    def _signed(self, key, value):\n        return f\"{value} ({self.author.name if self.author else '-'})\"\n\n"
    "    @validates(\"author_id\")\n    def _positive(self, key, value):\n        assert value > 0\n        return value\n\n"
    "    @property\n    def title_upper(self) -> str:\n",
)
VALIDATED_ROUTES = (
    """
    @router.post("/books/{book_id}/title")
    def retitle(book_id: int, title: str, session: session_dependency):
        book = session.get(Book, book_id)
        book.title = title
        session.commit()
        return {"title": book.title}
    """,
    """
    @router.post("/books/{book_id}/author")
    def reassign(book_id: int, author_id: int, session: session_dependency):
        book = session.get(Book, book_id)
        book.author_id = author_id
        session.commit()
        return {"author_id": book.author_id}
    """,
)


def test_an_attribute_write_runs_its_validator_whose_relationship_reads_get_the_eager_load(cli, models_app):
    # `book.title = title` runs `@validates("title")` in the route; it read `self.author`, a lazy
    # load: migrated, the write raised MissingGreenlet and the title was never saved.
    root = models_app(*VALIDATED_ROUTES, models=VALIDATED_MODELS)
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "migrate" and any("through Book._signed" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    # near miss: a validator reading no relationship adds nothing
    assert handler(document, "reassign")["action"] == "migrate"
    assert "selectinload" not in function(root, SUBSYSTEM, "reassign")
    result = serve(root, """
        client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"saved": s.get(Book, 1).title}))
    """)
    assert result == {"saved": "Gamma (Ann)"}


@pytest.mark.parametrize("write", [
    'setattr(book, "title", title)',
    # the PATCH loop: a name given at run time may be any validated attribute
    'for key, value in {"title": title}.items():\n            setattr(book, key, value)',
])
def test_a_setattr_is_the_attribute_write(cli, models_app, write):
    # `setattr(book, "title", title)` runs `@validates("title")` as `book.title = title` does (and
    # replacing a collection so loads the one replaced): taken for no write, the migrated route
    # raised MissingGreenlet on every request.
    routes = (VALIDATED_ROUTES[0].replace("book.title = title", write),)
    root = models_app(*routes, models=VALIDATED_MODELS)
    document = apply(cli, root)
    found = handler(document, "retitle")
    result = serve(root, """
        response = client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"status": response.status_code, "saved": s.get(Book, 1).title}))
    """)
    assert result == {"status": 200, "saved": "Gamma (Ann)"}
    assert found["action"] == "migrate" and any("through Book._signed" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")


SETTER_MODELS = MODELS.replace(
    "    @property\n    def title_upper(self) -> str:\n        return self.title.upper()\n",
    "    @hybrid_property\n    def title_upper(self) -> str:\n        return self.title.upper()\n\n"
    "    @title_upper.setter\n    def title_upper(self, value: str) -> None:\n"
    "        self.title = f\"{value.upper()} BY {self.author.name.upper()}\"\n",
)
SETTER_ROUTES = (
    """
    @router.post("/books/{book_id}/shout")
    def shout_title(book_id: int, title: str, session: session_dependency):
        book = session.get(Book, book_id)
        book.title_upper = title
        session.commit()
        return {"ok": True}
    """,
)


def test_an_attribute_write_runs_its_setter_whose_relationship_reads_get_the_eager_load(cli, models_app):
    # The getter reads no relationship; the setter reads `self.author`, run by the write.
    root = models_app(*SETTER_ROUTES, models=SETTER_MODELS)
    document = apply(cli, root)
    found = handler(document, "shout_title")
    assert found["action"] == "migrate" and any("for the relationship" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "shout_title")
    result = serve(root, """
        client.post("/books/1/shout", params={"title": "gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"saved": s.get(Book, 1).title}))
    """)
    assert result == {"saved": "GAMMA BY ANN"}


LISTENED_MODELS = MODELS.replace(
    "from sqlalchemy import ForeignKey\n", "from sqlalchemy import ForeignKey, event\n"
) + '''

@event.listens_for(Book.title, "set")
def sign(target, value, oldvalue, initiator):
    if target.author is not None:
        target.author.name = target.author.name.upper()
'''
LISTENED_ROUTES = (
    """
    @router.post("/books/{book_id}/title")
    def retitle(book_id: int, title: str, session: session_dependency):
        book = session.get(Book, book_id)
        book.title = title
        session.commit()
        return {"title": book.title}
    """,
    """
    @router.post("/authors/{author_id}/name")
    def rename(author_id: int, name: str, session: session_dependency):
        author = session.get(Author, author_id)
        author.name = name
        session.commit()
        return {"name": author.name}
    """,
)


def test_an_attribute_write_runs_its_set_listener_whose_relationship_reads_get_the_eager_load(cli, models_app):
    root = models_app(*LISTENED_ROUTES, models=LISTENED_MODELS)
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "migrate" and any("through models.sign" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    # near miss: no listener on Author.name
    assert "selectinload" not in function(root, SUBSYSTEM, "rename")
    result = serve(root, """
        client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"title": s.get(Book, 1).title, "author": s.get(Author, 1).name}))
    """)
    assert result == {"title": "Gamma", "author": "ANN"}


COLLECTION_MODELS = VALIDATED_MODELS.replace(
    "    @property\n    def publisher_name(self) -> str:\n",
    "    @validates(\"books\")\n    def _stamp(self, key, book):\n"
    "        book.title = f\"{book.title} / {self.publisher.name if self.publisher else '-'}\"\n        return book\n\n"
    "    @property\n    def publisher_name(self) -> str:\n",
)
COLLECTION_ROUTES = (
    """
    @router.post("/authors/{author_id}/books")
    def add_book(author_id: int, title: str, session: session_dependency):
        author = session.get(Author, author_id)
        author.books.append(Book(title=title))
        session.commit()
        return {"ok": True}
    """,
)


def test_a_collection_append_runs_its_validator_whose_relationship_reads_get_the_eager_load(cli, models_app):
    root = models_app(*COLLECTION_ROUTES, models=COLLECTION_MODELS)
    document = apply(cli, root)
    found = handler(document, "add_book")
    assert found["action"] == "migrate" and any("through Author._stamp" in r for r in found["reasons"]), found
    assert "selectinload(Author.publisher)" in function(root, SUBSYSTEM, "add_book")
    result = serve(root, """
        client.post("/authors/1/books", params={"title": "Delta"})
        with database_sessionmaker() as s:
            print(json.dumps({"titles": sorted(b.title for b in s.get(Author, 1).books)}))
    """)
    assert result == {"titles": ["Alpha (-)", "Beta (-)", "Delta (-) / Pan (-)"]}


CHAINED_WRITE_MODELS = VALIDATED_MODELS.replace(
    "from sqlalchemy import ForeignKey\n", "from sqlalchemy import ForeignKey, event\n"
) + '''

@event.listens_for(Book.author_id, "set")
def retitle_on_move(target, value, oldvalue, initiator):
    target.title = target.title.split(" (")[0]
'''


def test_a_listener_writing_a_validated_attribute_runs_that_validator_too(cli, models_app):
    # `book.author_id = x` runs the listener, whose `target.title = ...` runs `@validates("title")`,
    # which reads `self.author`: two writes deep, the same lazy load.
    root = models_app(*VALIDATED_ROUTES, models=CHAINED_WRITE_MODELS)
    document = apply(cli, root)
    assert handler(document, "reassign")["action"] == "migrate"
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "reassign")
    result = serve(root, """
        client.post("/books/1/author", params={"author_id": 1})
        with database_sessionmaker() as s:
            print(json.dumps({"saved": s.get(Book, 1).title}))
    """)
    assert result == {"saved": "Alpha (Ann)"}


def test_a_subclass_loaded_inline_with_its_base_migrates_and_its_columns_read_without_io(cli, models_app):
    models = POLYMORPHIC_MODELS.replace(
        '{"polymorphic_identity": "parcel"}', '{"polymorphic_identity": "parcel", "polymorphic_load": "inline"}'
    )
    root = models_app(*POLYMORPHIC_ROUTES, models=models)
    document = apply(cli, root)
    assert handler(document, "kilos")["action"] == handler(document, "sizes")["action"] == "migrate"
    result = serve(root, """
        from models import Item, Parcel
        with database_sessionmaker() as s:
            s.add_all([Item(id=1, name="box", kind="item"), Parcel(id=2, name="bag", grams=1500)])
            s.commit()
        print(json.dumps({"kilos": client.get("/kilos").json(), "sizes": client.get("/sizes").json()}))
    """)
    assert result == {"kilos": {"bag": 1.5}, "sizes": [0, 1500]}


UNTRACED_WRITES = (
    "BOOKS: dict = {}",
    """
    @router.post("/first/title")
    def first_title(title: str, session: session_dependency):
        book = BOOKS[title]
        book.title = title
        session.commit()
        return {"ok": True}
    """,
    """
    @router.post("/first/author")
    def first_author(author_id: int, session: session_dependency):
        book = BOOKS[author_id]
        book.author_id = author_id
        session.commit()
        return {"ok": True}
    """,
)


def test_a_write_on_an_object_the_flow_cannot_trace_blocks_only_when_its_validator_reads_a_relationship(
    cli, models_app
):
    root = models_app(*UNTRACED_WRITES, models=VALIDATED_MODELS)
    document = apply(cli, root)
    found = handler(document, "first_title")
    assert found["action"] == "blocked", found
    assert "a change of `book.title` may run validator Book._signed" in " ".join(found["reasons"]), found
    assert handler(document, "first_author")["action"] == "migrate"


INPLACE_MODELS = SETTER_MODELS.replace(
    "    @title_upper.setter\n    def title_upper(self, value: str) -> None:\n",
    "    @title_upper.inplace.setter\n    def _title_upper_setter(self, value: str) -> None:\n",
)


def test_an_inplace_setter_of_another_name_is_the_attribute_setter(cli, models_app):
    # SQLAlchemy 2.0's typed form names the setter method differently from the attribute.
    assert "_title_upper_setter" in INPLACE_MODELS
    root = models_app(*SETTER_ROUTES, models=INPLACE_MODELS)
    document = apply(cli, root)
    assert handler(document, "shout_title")["action"] == "migrate"
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "shout_title")
    result = serve(root, """
        client.post("/books/1/shout", params={"title": "gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"saved": s.get(Book, 1).title}))
    """)
    assert result == {"saved": "GAMMA BY ANN"}


FUNCTION_LISTENED_MODELS = MODELS.replace(
    "from sqlalchemy import ForeignKey\n", "from sqlalchemy import ForeignKey\nfrom sqlalchemy import event as sa_event\n"
) + '''

def sign(target, value, oldvalue, initiator):
    if target.author is not None:
        target.author.name = target.author.name.upper()
    return value


def check_publisher(target, value, oldvalue, initiator):
    assert target.publisher is None or value is not None
    return value


def touched(target, initiator):
    print(target.publisher.name)


sa_event.listen(Book.title, "set", sign, retval=True)
sa_event.listen(Author.publisher_id, "set", check_publisher, retval=True)
sa_event.listen(Author.name, "modified", touched)
'''


def test_a_set_listener_registered_by_event_listen_gets_the_eager_load_as_the_decorator_form(cli, models_app):
    root = models_app(*LISTENED_ROUTES, models=FUNCTION_LISTENED_MODELS)
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "migrate" and any("through models.sign" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    # near misses: Author.name has a "modified" listener (flag_modified, not a write) and another
    # attribute of Author a "set" one; writing the name runs neither
    assert handler(document, "rename")["action"] == "migrate"
    assert "selectinload" not in function(root, SUBSYSTEM, "rename")
    result = serve(root, """
        client.post("/books/1/title", params={"title": "Gamma"})
        client.post("/authors/1/name", params={"name": "Bea"})
        with database_sessionmaker() as s:
            print(json.dumps({"title": s.get(Book, 1).title, "author": s.get(Author, 1).name}))
    """)
    assert result == {"title": "Gamma", "author": "Bea"}


COLLECTION_LISTENED_MODELS = MODELS.replace(
    "from sqlalchemy import ForeignKey\n", "import sqlalchemy\nfrom sqlalchemy import ForeignKey\n\nfrom hooks import stamp\n"
) + '''

sqlalchemy.event.listen(Author.books, "append", stamp)
'''
HOOKS = '''
def stamp(target, value, initiator):
    value.title = f"{value.title} / {target.publisher.name if target.publisher else '-'}"
'''


def test_an_imported_append_listener_registered_by_event_listen_gets_the_eager_load(cli, models_app):
    root = models_app(*COLLECTION_ROUTES, models=COLLECTION_LISTENED_MODELS, extra={"hooks.py": HOOKS})
    document = apply(cli, root)
    found = handler(document, "add_book")
    assert found["action"] == "migrate" and any("through hooks.stamp" in r for r in found["reasons"]), found
    assert "selectinload(Author.publisher)" in function(root, SUBSYSTEM, "add_book")
    result = serve(root, """
        client.post("/authors/1/books", params={"title": "Delta"})
        with database_sessionmaker() as s:
            print(json.dumps({"new": [b.title for b in s.get(Author, 1).books if b.title.startswith("Delta")]}))
    """)
    assert result == {"new": ["Delta / Pan"]}


def test_a_write_listener_the_tool_cannot_read_leaves_the_write_unverified(cli, models_app):
    models = MODELS.replace("from sqlalchemy import ForeignKey\n", "from sqlalchemy import ForeignKey, event\n") + (
        '\n\nevent.listen(Book.title, "set", lambda target, value, old, initiator: target.author.name, retval=True)\n'
    )
    root = models_app(*LISTENED_ROUTES, models=models)
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "blocked" and any("listener on `models.Book.title` is not read" in r for r in found["reasons"])
    assert handler(document, "rename")["action"] == "migrate"


# `to_dict()` on an object the route builds: the flow knows its class (`publisher =
# Publisher(...)`), so the method run is Publisher.to_dict, reading columns only; Book's
# `to_dict`, reading Book.author, is no concern of it. A Book the route builds still blocks.
TO_DICT_MODELS = MODELS.replace(
    '''    name: Mapped[str]


class Author(Base):''', '''    name: Mapped[str]

    def to_dict(self) -> dict:
        return {"name": self.name}


class Author(Base):''').replace(
    '''    @property
    def title_upper(self) -> str:''', '''    def to_dict(self) -> dict:
        return {"title": self.title, "author": self.author.name}

    @property
    def title_upper(self) -> str:''')
assert TO_DICT_MODELS.count("def to_dict") == 2
BUILT_ROUTES = (
    """
    from models import Publisher


    @router.post("/publishers", status_code=201)
    def add_publisher(name: str, session: session_dependency):
        publisher = Publisher(name=name)
        session.add(publisher)
        session.commit()
        return publisher.to_dict()
    """,
    """
    @router.post("/books", status_code=201)
    def add_book(title: str, session: session_dependency):
        book = Book(title=title, author_id=1)
        session.add(book)
        session.commit()
        return book.to_dict()
    """,
)


def test_a_method_of_a_built_object_is_its_own_class_method_not_any_of_that_name(cli, models_app):
    root = models_app(*BUILT_ROUTES, models=TO_DICT_MODELS)
    document = apply(cli, root)
    assert handler(document, "add_publisher")["action"] == "migrate", handler(document, "add_publisher")
    blocked = handler(document, "add_book")
    assert blocked["action"] == "blocked" and "Book.to_dict" in " ".join(blocked["reasons"]), blocked
    assert "async def add_publisher" in read(root, SUBSYSTEM)
    result = serve(root, """
        out = {"posted": client.post("/publishers", params={"name": "Orbit"}).json()}
        with database_sessionmaker() as s:
            out["names"] = sorted(p.name for p in s.query(Publisher))
        client.portal.call(async_engine.dispose)
        print(json.dumps(out))
    """)
    assert result == {"posted": {"name": "Orbit"}, "names": ["Orbit", "Pan"]}, result
