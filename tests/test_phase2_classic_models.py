"""Classic declarative models: `Column(...)` attributes and `relationship("Author")` without a
`Mapped[...]` annotation, the target named by a string, a dotted path or a lambda.

Each relationship's target class resolves as the mapper registry resolves it, so reads
through it are analysed like those of annotated models: an eager load is added where the
route reads a lazy relationship, a relationship eager by its `lazy=` or by the query's own
option needs nothing. The migrated router is served over HTTP (TestClient, aiosqlite). The
near miss: a string naming no class under PATH still blocks the route.
"""

from __future__ import annotations

from test_phase2_model_code import SUBSYSTEM, serve
from test_phase2_rules import RUNTIME_ENGINE, apply, dedent, function, handler

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Publisher(Base):
    __tablename__ = "publishers"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    publisher_id = Column(Integer, ForeignKey("publishers.id"))
    publisher = relationship(lambda: Publisher, uselist=False)
    books = relationship("Book", back_populates="author", lazy="selectin")


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))
    author_id = Column(Integer, ForeignKey("authors.id"))
    author = relationship("models.Author", back_populates="books")

    @property
    def author_name(self) -> str:
        return self.author.name
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
    title: str


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    books: list[BookTitle]
'''

HEAD = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.dependencies import session_dependency
from db.engine import get_db_session
from models import Author, Book
from schemas import AuthorOut, BookOut

router = APIRouter()
"""

ROUTES = (
    """
    @router.get("/books/{book_id}", response_model=BookOut)
    def book_out(book_id: int, session: session_dependency):
        return session.get(Book, book_id)
    """,
    """
    @router.get("/authors/{author_id}", response_model=AuthorOut)
    def author_out(author_id: int, session: session_dependency):
        return session.scalars(select(Author).where(Author.id == author_id)).one()
    """,
    """
    @router.get("/authors/{author_id}/publisher")
    def publisher(author_id: int, session: session_dependency):
        author = session.scalars(select(Author).where(Author.id == author_id)).one()
        return {"publisher": author.publisher.name}
    """,
    """
    @router.get("/books/{book_id}/joined")
    def joined(book_id: int, session: session_dependency):
        book = session.scalars(select(Book).options(joinedload(Book.author)).where(Book.id == book_id)).one()
        return {"author": book.author.name}
    """,
)

NEAR_MISS = """
@router.get("/books/{book_id}/editor")
def editor(book_id: int, session: session_dependency):
    book = session.scalars(select(Book).where(Book.id == book_id)).one()
    return {"editor": book.editor.id}
"""


def router(*parts: str) -> str:
    return dedent(HEAD) + "\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


def build(project, app_files, *parts: str, models: str = MODELS):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": models, "schemas.py": SCHEMAS, SUBSYSTEM: router(*parts)})


def test_classic_relationships_resolve_get_eager_loads_and_run_on_the_async_stack(cli, project, app_files):
    root = build(project, app_files, *ROUTES)
    document = apply(cli, root)
    for name in ("book_out", "author_out", "publisher", "joined"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    # a string naming a class by its module path; the property reads it
    assert "selectinload(Book.author)" in function(root, SUBSYSTEM, "book_out")
    # `lazy="selectin"` loads Author.books with the author: nothing to add
    assert "selectinload" not in function(root, SUBSYSTEM, "author_out")
    # `lambda: Publisher`
    assert "selectinload(Author.publisher)" in function(root, SUBSYSTEM, "publisher")
    # the query's own joinedload already loads it
    assert "selectinload" not in function(root, SUBSYSTEM, "joined")
    result = serve(root, """
        out = {
            "book": client.get("/books/1").json(),
            "author": client.get("/authors/1").json(),
            "publisher": client.get("/authors/1/publisher").json(),
            "joined": client.get("/books/2/joined").json(),
        }
        print(json.dumps(out))
    """)
    assert result == {
        "book": {"id": 1, "author_name": "Ann"},
        "author": {"id": 1, "books": [{"id": 1, "title": "Alpha"}, {"id": 2, "title": "Beta"}]},
        "publisher": {"publisher": "Pan"},
        "joined": {"author": "Ann"},
    }


def test_near_miss_a_string_naming_no_class_under_path_still_blocks(cli, project, app_files):
    # no class of that name under PATH
    models = MODELS.replace(
        '    author = relationship("models.Author", back_populates="books")\n',
        '    author = relationship("models.Author", back_populates="books")\n    editor = relationship("Nowhere")\n',
    )
    assert "Nowhere" in models
    root = build(project, app_files, NEAR_MISS, models=models)
    document = apply(cli, root)
    found = handler(document, "editor")
    assert found["action"] == "blocked", found
    assert "target class the tool cannot resolve" in " ".join(found["reasons"])


def _target(files: dict[str, str]) -> str | None:
    from async_migrate.codemods.astcollect import collect
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.eager_flow import Flow
    from async_migrate.codemods.project import Project

    project = Project([collect(path, dedent(text)) for path, text in files.items()])
    return Flow(project, project_classes(project), set()).target("models.user.User", "items")


USER = """
from sqlalchemy import Column, Integer
from sqlalchemy.orm import relationship

from db import Base


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    items = relationship("Item", back_populates="owner")
"""

ITEM = """
from sqlalchemy import Column, Integer
from sqlalchemy.orm import relationship

from db import Base


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    owner = relationship("User", back_populates="items")
"""

SCHEMA = """
from pydantic import BaseModel


class Item(BaseModel):
    id: int
"""


def test_a_string_target_in_another_module_resolves_to_the_mapped_class_of_that_name():
    # "Item" is never imported into models/user.py; a pydantic `Item` is no mapped class
    assert _target({"models/user.py": USER, "models/item.py": ITEM, "schemas.py": SCHEMA}) == "models.item.Item"


def test_near_miss_two_mapped_classes_of_that_name_leave_the_target_unresolved():
    assert _target({"models/user.py": USER, "models/item.py": ITEM, "legacy/item.py": ITEM}) is None


STAFF = MODELS + '''

class Employee(Base):
    __tablename__ = "employees"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    type = Column(String(20))
    __mapper_args__ = {"polymorphic_on": type, "polymorphic_identity": "employee"}


class Manager(Employee):
    __tablename__ = "managers"
    id = Column(Integer, ForeignKey("employees.id"), primary_key=True)
    budget = Column(Integer)
    __mapper_args__ = {"polymorphic_identity": "manager"}
'''

BUDGETS = """
@router.get("/budgets")
def budgets(session: session_dependency):
    from sqlalchemy.orm import selectin_polymorphic

    from models import Employee, Manager

    rows = session.scalars(select(Employee){options}.order_by(Employee.id)).all()
    return {{e.name: e.budget for e in rows if e.type == "manager"}}
"""


def test_a_query_loading_the_subclass_columns_migrates_and_runs(cli, project, app_files):
    root = build(project, app_files, BUDGETS.format(
        options=".options(selectin_polymorphic(Employee, [Manager]))"), models=STAFF)
    document = apply(cli, root)
    assert handler(document, "budgets")["action"] == "migrate", handler(document, "budgets")
    result = serve(root, """
        from models import Employee, Manager
        with database_sessionmaker() as s:
            s.add_all([Employee(id=10, name="e"), Manager(id=11, name="m", budget=7)])
            s.commit()
        print(json.dumps(client.get("/budgets").json()))
    """)
    assert result == {"m": 7}


def test_near_miss_without_it_the_subclass_column_read_blocks(cli, project, app_files):
    root = build(project, app_files, BUDGETS.format(options=""), models=STAFF)
    found = handler(apply(cli, root), "budgets")
    assert found["action"] == "blocked" and "AM260" in found["codes"], found


PUBLISHER = """
@router.get("/publishers/{{pid}}")
def pub(pid: int, session: session_dependency):
    from models import Publisher

    p = session.get(Publisher, pid)
    return {{"names": {read}}}
"""
BACKREF = MODELS.replace(
    "relationship(lambda: Publisher, uselist=False)", 'relationship(lambda: Publisher, backref="authors")'
)


def test_a_backref_points_to_its_declaring_class_gets_its_eager_load_and_runs(cli, project, app_files):
    assert 'backref="authors"' in BACKREF
    root = build(project, app_files, PUBLISHER.format(read="sorted(a.name for a in p.authors)"), models=BACKREF)
    assert handler(apply(cli, root), "pub")["action"] == "migrate"
    assert ".options(selectinload(Publisher.authors)))).one_or_none()" in function(root, SUBSYSTEM, "pub")
    assert serve(root, 'print(json.dumps(client.get("/publishers/1").json()))') == {"names": ["Ann"]}


def test_near_miss_a_column_of_the_backref_class_needs_no_option(cli, project, app_files):
    root = build(project, app_files, PUBLISHER.format(read="[p.name]"), models=BACKREF)
    assert handler(apply(cli, root), "pub")["action"] == "migrate"
    assert "selectinload" not in function(root, SUBSYSTEM, "pub")
