"""Imperatively mapped models: plain domain classes, `Table` objects, and
`registry.map_imperatively(Book, books, properties={"author": relationship(author_mapper)})` in
an orm module's `start_mappers()` (the cosmicpython layout).

The relationships the mapping declares are the classes' own, as if written in a declarative
body: a migrated route reading one gets its eager load (the `Table`'s primary key column
makes `session.get` a `select`), where it used to migrate without one and raise
MissingGreenlet on the async stack. A relationship mapped `lazy="selectin"` needs nothing.
A `super().__init__()` in the route's own class runs no model's `__init__`. The migrated
router is served over HTTP (TestClient, aiosqlite).
"""

from __future__ import annotations

import pytest
from test_phase2_classic_models import SCHEMAS, router
from test_phase2_model_code import serve
from test_phase2_rules import RUNTIME_ENGINE, SUBSYSTEM, apply, function, handler

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

metadata = MetaData()
mapper_registry = registry(metadata=metadata)


class Base:
    metadata = metadata

    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)


class Publisher(Base):
    pass


class Author(Base):
    pass


class Book(Base):
    def __init__(self, **values):
        super().__init__(**values)
        self.shelf = self.author.name if self.author is not None else ""


publishers = Table("publishers", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("publisher_id", ForeignKey("publishers.id")),
)
books = Table(
    "books",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(50)),
    Column("author_id", ForeignKey("authors.id")),
)


def start_mappers():
    publisher_mapper = mapper_registry.map_imperatively(Publisher, publishers)
    author_mapper = mapper_registry.map_imperatively(
        Author, authors, properties={"publisher": relationship(publisher_mapper, lazy="selectin")}
    )
    mapper_registry.map_imperatively(Book, books, properties={"author": relationship(author_mapper)})


start_mappers()
'''

ROUTE = """
class Listing(list):
    def __init__(self, rows):
        super().__init__(rows)


@router.get("/titles")
def titles(session: session_dependency):
    return Listing(session.scalars(select(Book.title).order_by(Book.id)).all())


@router.get("/books/{book_id}/author")
def author_of(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    return {"title": book.title, "author": book.author.name, "publisher": book.author.publisher.name}
"""


def test_a_relationship_mapped_imperatively_gets_its_eager_load_and_runs_on_the_async_stack(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: router(ROUTE)})
    document = apply(cli, root)
    assert handler(document, "author_of")["action"] == "migrate", handler(document, "author_of")
    migrated = function(root, SUBSYSTEM, "author_of")
    assert "select(Book).where(Book.id == book_id).options(selectinload(Book.author))" in migrated, migrated
    # `lazy="selectin"` in the mapping loads Author.publisher with the author
    assert "Author.publisher" not in migrated, migrated
    # `super().__init__(rows)` runs `list.__init__`, not the `__init__` of every model defining one
    assert handler(document, "titles")["action"] == "migrate", handler(document, "titles")
    result = serve(root, """
        print(json.dumps([client.get("/books/1/author").json(), client.get("/titles").json()]))
    """)
    assert result == [{"title": "Alpha", "author": "Ann", "publisher": "Pan"}, ["Alpha", "Beta"]]


# The mapping's other properties: a deferred column property (loaded by its first read, IO the
# AsyncSession refuses), a column property of an expression (loaded with the row), in the
# `dict(...)` form. Neither maps a column of the Table under another name, so the primary key
# is still the Table's and `get` still becomes a `select` taking the loader options.
DEFERRED_MODELS = MODELS.replace(
    'mapper_registry.map_imperatively(Book, books, properties={"author": relationship(author_mapper)})',
    """mapper_registry.map_imperatively(Book, books, properties=dict(
        author=relationship(author_mapper),
        shout=column_property(func.upper(books.c.title), deferred=True),
        size=column_property(func.length(books.c.title)),
    ))""",
).replace("from sqlalchemy import Column,", "from sqlalchemy import func, Column,").replace(
    "import registry, relationship", "import column_property, registry, relationship"
)

DEFERRED_ROUTE = """
@router.get("/books/{book_id}/shout")
def shout(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    return {"shout": book.shout, "size": book.size, "author": book.author.name}
"""


def test_a_deferred_column_property_mapped_imperatively_is_undeferred_on_the_async_stack(cli, project, app_files):
    assert "shout=column_property" in DEFERRED_MODELS and "import func" in DEFERRED_MODELS
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": DEFERRED_MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: router(DEFERRED_ROUTE)})
    document = apply(cli, root)
    assert handler(document, "shout")["action"] == "migrate", handler(document, "shout")
    migrated = function(root, SUBSYSTEM, "shout")
    assert "undefer(Book.shout)" in migrated and "selectinload(Book.author)" in migrated, migrated
    assert "Book.size" not in migrated, migrated
    result = serve(root, """
        print(json.dumps(client.get("/books/1/shout").json()))
    """)
    assert result == {"shout": "ALPHA", "size": 5, "author": "Ann"}


def test_a_mapping_property_renaming_the_key_column_keeps_get_unrewritten(cli, project, app_files):
    """Near miss: `book_id=books.c.id` maps the key column under another name, so `Book.id` is
    no attribute and the `select` phase two would write is not known: the route blocks."""
    models = DEFERRED_MODELS.replace("author=relationship(author_mapper),",
                                     "author=relationship(author_mapper), book_id=books.c.id,")
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": models, "schemas.py": SCHEMAS, SUBSYSTEM: router(DEFERRED_ROUTE)})
    document = apply(cli, root)
    assert handler(document, "shout")["action"] == "blocked", handler(document, "shout")
    assert "primary key" in str(handler(document, "shout")), handler(document, "shout")


# `properties=` named: a local or module-level name bound once to a display is read as the
# display; one built by a call (or changed after it is built) is not read, so a read of any
# attribute that is no column of the Table may be a relationship: unverified (AM247), where
# phase two migrated `book.author` without its eager load.
LOCAL_MODELS = MODELS.replace(
    'mapper_registry.map_imperatively(Book, books, properties={"author": relationship(author_mapper)})',
    'book_properties = {"author": relationship(author_mapper)}\n'
    "    mapper_registry.map_imperatively(Book, books, properties=book_properties)",
)
BUILT_MODELS = MODELS.replace(
    'mapper_registry.map_imperatively(Book, books, properties={"author": relationship(author_mapper)})',
    "mapper_registry.map_imperatively(Book, books, properties=book_properties(author_mapper))",
) + '''

def book_properties(author_mapper):
    return {"author": relationship(author_mapper)}
'''
CHANGED_MODELS = LOCAL_MODELS.replace(
    "    mapper_registry.map_imperatively(Book, books, properties=book_properties)",
    '    book_properties["writer"] = relationship(author_mapper, viewonly=True)\n'
    "    mapper_registry.map_imperatively(Book, books, properties=book_properties)",
)


def test_a_local_name_bound_to_the_mapping_properties_is_read_and_runs_on_the_async_stack(cli, project, app_files):
    assert "properties=book_properties)" in LOCAL_MODELS
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": LOCAL_MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: router(ROUTE)})
    document = apply(cli, root)
    assert handler(document, "author_of")["action"] == "migrate", handler(document, "author_of")
    assert "selectinload(Book.author)" in function(root, SUBSYSTEM, "author_of")
    result = serve(root, """
        print(json.dumps(client.get("/books/1/author").json()))
    """)
    assert result == {"title": "Alpha", "author": "Ann", "publisher": "Pan"}


TITLE_ROUTE = """
@router.get("/books/{book_id}/title")
def title_of(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    return {"id": book.id, "title": book.title}
"""


@pytest.mark.parametrize("models", [BUILT_MODELS, CHANGED_MODELS], ids=["built", "changed"])
def test_mapping_properties_the_tool_cannot_read_leave_a_relationship_read_unverified(cli, project, app_files, models):
    assert "book_properties" in models
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": models, "schemas.py": SCHEMAS, SUBSYSTEM: router(ROUTE, TITLE_ROUTE)})
    document = apply(cli, root)
    found = handler(document, "author_of")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found
    assert "`book.author` is no column the tool finds on Book" in str(found), found
    # near miss: reading a column the Table declares needs nothing
    assert handler(document, "title_of")["action"] == "migrate", handler(document, "title_of")


# An object of a class mapped imperatively, built and added by the route, changed by a Core
# statement after its flush: the synchronous sessionmaker expired it on commit and its read
# reloaded the row; the async one keeps it, so phase two refreshes it as it does a declarative
# model's. It took the class for no model and returned what the Core statement overwrote.
BUILT_ROUTE = """
from sqlalchemy import update

from models import Publisher, publishers


@router.post("/publishers")
def add_publisher(session: session_dependency):
    publisher = Publisher(name="Draft")
    session.add(publisher)
    session.flush()
    session.execute(update(publishers).where(publishers.c.id == publisher.id).values(name="Final"))
    session.commit()
    return {"id": publisher.id, "name": publisher.name}
"""


def test_an_object_of_a_class_mapped_imperatively_is_refreshed_after_commit(cli, project, app_files):
    engine = RUNTIME_ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")
    assert engine != RUNTIME_ENGINE
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": engine,
                    "models.py": MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: router(BUILT_ROUTE)})
    document = apply(cli, root)
    assert handler(document, "add_publisher")["action"] == "migrate", handler(document, "add_publisher")
    assert "    await session.commit()\n    await session.refresh(publisher)\n" in function(
        root, SUBSYSTEM, "add_publisher"
    )
    result = serve(root, """
        print(json.dumps(client.post("/publishers").json()))
    """)
    assert result == {"id": 2, "name": "Final"}


# Model code on a class mapped imperatively with no relationship of its own: a property reading a
# deferred column property is followed as on a declarative model (the read gets its `undefer`).
PROPERTY_MODELS = MODELS.replace(
    "class Publisher(Base):\n    pass",
    "class Publisher(Base):\n    @property\n    def label(self):\n        return self.shout.lower()",
).replace(
    "mapper_registry.map_imperatively(Publisher, publishers)",
    'mapper_registry.map_imperatively(Publisher, publishers, properties={\n'
    '        "shout": column_property(func.upper(publishers.c.name), deferred=True)})',
).replace("from sqlalchemy import Column,", "from sqlalchemy import func, Column,").replace(
    "import registry, relationship", "import column_property, registry, relationship"
)
PROPERTY_ROUTE = """
from models import Publisher


@router.get("/publishers/{publisher_id}")
def publisher_label(publisher_id: int, session: session_dependency):
    publisher = session.get(Publisher, publisher_id)
    return {"label": publisher.label}
"""


def test_a_property_of_a_class_mapped_imperatively_reading_a_deferred_column_gets_its_undefer(cli, project, app_files):
    assert "def label(self)" in PROPERTY_MODELS and "deferred=True" in PROPERTY_MODELS
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": PROPERTY_MODELS, "schemas.py": SCHEMAS, SUBSYSTEM: router(PROPERTY_ROUTE)})
    document = apply(cli, root)
    assert handler(document, "publisher_label")["action"] == "migrate", handler(document, "publisher_label")
    assert "undefer(Publisher.shout)" in function(root, SUBSYSTEM, "publisher_label")
    result = serve(root, """
        print(json.dumps(client.get("/publishers/1").json()))
    """)
    assert result == {"label": "pan"}


def test_model_code_reading_what_unread_mapping_properties_may_map_is_unverified(cli, project, app_files):
    """A property of the class reading such an attribute (`self.author`) is the same read, run
    when the route reads the property."""
    models = BUILT_MODELS.replace(
        "class Book(Base):\n",
        "class Book(Base):\n    @property\n    def writer(self):\n        return self.author.name\n\n",
    )
    assert "def writer(self)" in models
    route = """
    @router.get("/books/{book_id}/writer")
    def writer_of(book_id: int, session: session_dependency):
        book = session.get(Book, book_id)
        return {"writer": book.writer}
    """
    root = project({**app_files, "api/__init__.py": "", "db/engine.py": RUNTIME_ENGINE,
                    "models.py": models, "schemas.py": SCHEMAS, SUBSYSTEM: router(route)})
    document = apply(cli, root)
    found = handler(document, "writer_of")
    assert found["action"] == "blocked", found
    assert "`self.author` may be a relationship or deferred column the mapping of Book declares" in str(found), found
