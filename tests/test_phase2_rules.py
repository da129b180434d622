"""Phase two, one rewrite rule or decision per test: golden before/after on tiny apps.

Every test builds a small application (the shared engine module with
`database_sessionmaker`, `core/dependencies.py` with `session_dependency`, a few
models, and the modules under test), runs `async-migrate phase2 ROOT --subsystem
api/items.py --format json` (with `--apply` where file contents are compared),
and checks the exact rewritten helper/route text, the JSON decision, and that every
rewritten file still parses with libcst and with `ast` (and compiles).

A few tests also run the migrated code on a temp-file SQLite database through
aiosqlite, in a subprocess importing the rewritten modules, to show that what the
tool writes works at runtime.

"""

from __future__ import annotations

import ast
import json
import os
import textwrap
from pathlib import Path

import libcst as cst
import pytest
import sample

SUBSYSTEM = "api/items.py"

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()
"""

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    author: AuthorOut
"""

# For the runtime tests: the same sync stack, on a database file both stacks can see.
RUNTIME_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


# ----------------------------------------------------------------- helpers


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    """app({"api/items.py": "..."}) -> root, with engine, dependencies and models."""

    def build(files: dict[str, str]) -> Path:
        return project({**app_files, "api/__init__.py": "", "models.py": MODELS, **files})

    return build


def assert_parses(root: Path, paths: list[str]) -> None:
    """libcst and ast parse it, and it compiles (`ast.parse` alone accepts `await` in a lambda)."""
    for path in paths:
        text = (root / path).read_text(encoding="utf-8")
        cst.parse_module(text)
        ast.parse(text, filename=path)
        compile(text, path, "exec")


def run(cli, root: Path, *args: str, subsystem: str = SUBSYSTEM) -> dict:  # type: ignore[no-untyped-def]
    """A dry run: JSON out, nothing written."""
    document = cli.json("phase2", root, "--subsystem", subsystem, *args)
    assert document["command"] == "phase2"
    assert document["errors"] == [], document["errors"]
    return document


def apply(cli, root: Path, *args: str, subsystem: str = SUBSYSTEM) -> dict:  # type: ignore[no-untyped-def]
    """`--apply`, then every file the run changed must parse for libcst and ast."""
    document = run(cli, root, "--apply", "--allow-dirty", *args, subsystem=subsystem)
    assert_parses(root, document["files_changed"])
    return document


def read(root: Path, path: str) -> str:
    return (root / path).read_text(encoding="utf-8")


def function(root: Path, path: str, name: str) -> str:
    """The exact text of a top-level function (from `def`/`async def`, decorators excluded)."""
    text = read(root, path)
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            segment = ast.get_source_segment(text, node)
            assert segment is not None
            return segment
    raise AssertionError(f"no function {name} in {path}:\n{text}")


def imports(root: Path, path: str) -> list[str]:
    """The module's import statements, as written."""
    text = read(root, path)
    return [
        ast.get_source_segment(text, node) or ""
        for node in ast.parse(text).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def line_of(root: Path, path: str, fragment: str) -> int:
    """The 1-based line of the only line of the file containing fragment."""
    return line_in(read(root, path), fragment)


def line_in(text: str, fragment: str) -> int:
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


def app_root(document: dict) -> Path:
    return Path(document["root"])


def handler(document: dict, name: str) -> dict:
    found = [h for h in document["handlers"] if h["function"] == name]
    assert len(found) == 1, (name, document["handlers"])
    return found[0]


def helper(document: dict, name: str) -> dict:
    found = [h for h in document["subsystem"]["helpers"] if h["function"] == name]
    assert len(found) == 1, (name, document["subsystem"]["helpers"])
    return found[0]


def route_module(*parts: str, head: str = "") -> str:
    """A router module: the usual imports (plus `head`), then the given definitions."""
    base = dedent(
        """
        from fastapi import APIRouter
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from core.dependencies import session_dependency
        from models import Book
        """
    )
    if head:
        base += "\n" + dedent(head)
    return base + "\n\nrouter = APIRouter()\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


def run_python(root: Path, script: str) -> object:
    """Run `script` with the app root importable and a temp-file SQLite database; its last
    stdout line is JSON."""
    database = root / "app.db"
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{database}"}
    prelude = dedent(
        """
        import asyncio
        import json

        from db.engine import async_database_sessionmaker, async_engine, database_sessionmaker, engine
        from models import Author, Base, Book

        Base.metadata.create_all(engine)
        with database_sessionmaker() as s:
            s.add(Author(id=1, name="Ann"))
            s.add_all([Book(id=1, title="Alpha", author_id=1), Book(id=2, title="Beta", author_id=1)])
            s.commit()
        """
    )
    result = sample.run_python(prelude + "\n" + dedent(script), cwd=root, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------- precedence

PRECEDENCE = [
    ("session.scalars(q).all()", "(await session.scalars(q)).all()"),
    ("session.execute(q).scalars().first()", "(await session.execute(q)).scalars().first()"),
    ("first_book(session).title", "(await first_book(session)).title"),
    ("session.execute(q).all()[0]", "(await session.execute(q)).all()[0]"),
    ("len(session.scalars(q).all())", "len((await session.scalars(q)).all())"),
    ("str(first_book(session))", "str(await first_book(session))"),
    ("dict(book=first_book(session))", "dict(book=await first_book(session))"),
    ("not first_book(session)", "not await first_book(session)"),
    (
        "session.scalar(select(func.count()).select_from(Book)) + 1",
        "await session.scalar(select(func.count()).select_from(Book)) + 1",
    ),
]


@pytest.mark.parametrize(("before", "after"), PRECEDENCE, ids=[b for b, _ in PRECEDENCE])
def test_await_is_parenthesized_where_precedence_needs_it(cli, app, before, after):
    root = app({
        SUBSYSTEM: route_module(
            """
            def first_book(session: Session) -> Book:
                return session.scalars(select(Book)).first()
            """,
            f"""
            @router.get("/items")
            def read_items(session: session_dependency):
                q = select(Book)
                result = {before}
                return result
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "read_items")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "read_items") == dedent(
        f"""
        async def read_items(session: async_session_dependency):
            q = select(Book)
            result = {after}
            return result
        """
    )


# ------------------------------------------------ session methods: sync or awaited


def test_sync_methods_stay_sync_and_coroutine_methods_are_awaited(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.post("/items")
            def write_items(session: session_dependency):
                book = Book(title="x", author_id=1)
                session.add(book)
                session.add_all([book])
                session.expunge(book)
                session.flush()
                session.refresh(book)
                other = session.get(Book, 1)
                merged = session.merge(book)
                session.delete(other)
                session.commit()
                return merged.id
            """
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "write_items") == dedent(
        """
        async def write_items(session: async_session_dependency):
            book = Book(title="x", author_id=1)
            session.add(book)
            session.add_all([book])
            session.expunge(book)
            await session.flush()
            await session.refresh(book)
            other = await session.get(Book, 1)
            merged = await session.merge(book)
            await session.delete(other)
            await session.commit()
            return merged.id
        """
    )


def test_an_already_awaited_call_is_not_awaited_twice(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.post("/items")
            async def write_items(session: session_dependency):
                await asyncio.sleep(0)
                await session.flush()
                session.commit()
            """,
            head="import asyncio",
        )
    })
    document = apply(cli, root)
    found = handler(document, "write_items")
    assert (found["before"], found["after"], found["action"]) == ("async", "async", "migrate")
    assert function(root, SUBSYSTEM, "write_items") == dedent(
        """
        async def write_items(session: async_session_dependency):
            await asyncio.sleep(0)
            await session.flush()
            await session.commit()
        """
    )


# -------------------------------------------------------------- context managers


def test_begin_and_begin_nested_become_async_with(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.post("/items")
            def write_items(session: session_dependency):
                with session.begin():
                    session.add(Book(title="a", author_id=1))
                with session.begin_nested():
                    session.add(Book(title="b", author_id=1))
            """
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "write_items") == dedent(
        """
        async def write_items(session: async_session_dependency):
            async with session.begin():
                session.add(Book(title="a", author_id=1))
            async with session.begin_nested():
                session.add(Book(title="b", author_id=1))
        """
    )


def test_a_helper_opening_its_own_session_uses_the_async_sessionmaker(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            def count_books() -> int:
                with database_sessionmaker() as s:
                    return len(s.scalars(select(Book)).all())
            """,
            """
            @router.get("/count")
            def count(session: session_dependency):
                session.commit()
                return count_books()
            """,
            head="from db.engine import database_sessionmaker",
        )
    })
    document = apply(cli, root)
    assert helper(document, "count_books")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "count_books") == dedent(
        """
        async def count_books() -> int:
            async with async_database_sessionmaker() as s:
                return len((await s.scalars(select(Book))).all())
        """
    )
    assert function(root, SUBSYSTEM, "count") == dedent(
        """
        async def count(session: async_session_dependency):
            await session.commit()
            return await count_books()
        """
    )
    assert "from db.engine import async_database_sessionmaker" in imports(root, SUBSYSTEM)
    assert "database_sessionmaker()" not in read(root, SUBSYSTEM).replace("async_database_sessionmaker()", "")


# -------------------------------------------------------- comprehensions, loops


def test_a_helper_called_in_a_list_comprehension_is_awaited_per_item(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            def title_of(session: Session, book_id: int) -> str:
                return session.scalar(select(Book.title).where(Book.id == book_id))
            """,
            """
            @router.get("/titles")
            def titles(session: session_dependency, ids: list[int]):
                return [title_of(session, x) for x in ids]
            """,
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "titles") == dedent(
        """
        async def titles(session: async_session_dependency, ids: list[int]):
            return [await title_of(session, x) for x in ids]
        """
    )


def test_iterating_an_execute_result_awaits_the_execute(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/rows")
            def rows(session: session_dependency):
                found = []
                for row in session.execute(select(Book.id)):
                    found.append(row.id)
                return found
            """
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "rows") == dedent(
        """
        async def rows(session: async_session_dependency):
            found = []
            for row in await session.execute(select(Book.id)):
                found.append(row.id)
            return found
        """
    )


# ---------------------------------------------------------------- call chains

SERVICES_A = """
from sqlalchemy.orm import Session

from services import b


def titles(session: Session) -> list[str]:
    return b.load_titles(session)
"""
SERVICES_B = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


def load_titles(session: Session) -> list[str]:
    return [book.title for book in session.scalars(select(Book)).all()]


def count(session: Session) -> int:
    return len(load_titles(session))
"""


def test_helpers_across_modules_are_awaited_up_the_call_chain(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/a.py": SERVICES_A,
        "services/b.py": SERVICES_B,
        SUBSYSTEM: route_module(
            """
            @router.get("/items")
            def list_items(session: session_dependency):
                return {"titles": titles(session), "n": b.count(session)}
            """,
            head="from services.a import titles\nfrom services import b",
        ),
    })
    document = apply(cli, root)
    assert sorted(document["files_changed"]) == [
        SUBSYSTEM, "core/dependencies.py", "db/engine.py", "services/a.py", "services/b.py",
    ]
    assert {(h["file"], h["function"], h["action"]) for h in document["subsystem"]["helpers"]} == {
        ("services/a.py", "titles", "migrate"),
        ("services/b.py", "load_titles", "migrate"),
        ("services/b.py", "count", "migrate"),
    }
    # route -> a (imported by name) and route -> b (module attribute)
    assert function(root, SUBSYSTEM, "list_items") == dedent(
        """
        async def list_items(session: async_session_dependency):
            return {"titles": await titles(session), "n": await b.count(session)}
        """
    )
    # a -> b -> the Session
    assert function(root, "services/a.py", "titles") == dedent(
        """
        async def titles(session: AsyncSession) -> list[str]:
            return await b.load_titles(session)
        """
    )
    assert function(root, "services/b.py", "load_titles") == dedent(
        """
        async def load_titles(session: AsyncSession) -> list[str]:
            return [book.title for book in (await session.scalars(select(Book))).all()]
        """
    )
    assert function(root, "services/b.py", "count") == dedent(
        """
        async def count(session: AsyncSession) -> int:
            return len(await load_titles(session))
        """
    )
    for path in ("services/a.py", "services/b.py"):
        assert "from sqlalchemy.ext.asyncio import AsyncSession" in imports(root, path)
        assert "from sqlalchemy.orm import Session" not in imports(root, path)


# ----------------------------------------------------------------------- twins

SHARED_BOOKS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


def base_titles(session: Session) -> list[str]:
    return list(session.scalars(select(Book.title)).all())


def book_titles(session: Session) -> list[str]:
    return base_titles(session)


def book_count(session: Session) -> int:
    return len(session.scalars(select(Book)).all())
"""
OTHER_ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.books import book_count, book_titles

router = APIRouter()


@router.get("/other")
def other(session: session_dependency):
    return {"titles": book_titles(session), "n": book_count(session)}
"""
SHARING_ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.books import book_titles
from services import books

router = APIRouter()


@router.get("/items")
def list_items(session: session_dependency):
    return {"titles": book_titles(session), "n": books.book_count(session)}
"""


@pytest.fixture
def shared_app(app):  # type: ignore[no-untyped-def]
    return app({
        "services/__init__.py": "",
        "services/books.py": SHARED_BOOKS,
        "api/other.py": OTHER_ROUTER,
        SUBSYSTEM: SHARING_ROUTER,
    })


def test_a_shared_helper_gets_an_async_twin_right_after_the_untouched_original(cli, shared_app):
    root = shared_app
    before = read(root, "services/books.py")
    document = apply(cli, root)
    decisions = {h["function"]: h for h in document["subsystem"]["helpers"]}
    assert {name: h["action"] for name, h in decisions.items()} == {
        "base_titles": "twin", "book_titles": "twin", "book_count": "twin",
    }
    assert decisions["book_titles"]["reasons"] == [
        "also called by api.other.other: an async twin is added, the sync original stays"
    ]
    # helpers called by a twin's sync original are twinned too
    assert decisions["base_titles"]["reasons"] == [
        "also called by services.books.book_titles: an async twin is added, the sync original stays"
    ]
    # the originals are byte-identical, each twin follows its original
    original_tree, after_tree = ast.parse(before), ast.parse(read(root, "services/books.py"))
    names = [n.name for n in after_tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert names == [
        "base_titles", "base_titles_async", "book_titles", "book_titles_async", "book_count", "book_count_async",
    ]
    for node in original_tree.body:
        if isinstance(node, ast.FunctionDef):
            assert function(root, "services/books.py", node.name) == ast.get_source_segment(before, node)
    assert function(root, "services/books.py", "book_titles_async") == dedent(
        """
        async def book_titles_async(session: AsyncSession) -> list[str]:
            return await base_titles_async(session)
        """
    )
    assert function(root, "services/books.py", "base_titles_async") == dedent(
        """
        async def base_titles_async(session: AsyncSession) -> list[str]:
            return list((await session.scalars(select(Book.title))).all())
        """
    )
    assert function(root, "services/books.py", "book_count_async") == dedent(
        """
        async def book_count_async(session: AsyncSession) -> int:
            return len((await session.scalars(select(Book))).all())
        """
    )
    # still used by the sync originals
    assert "from sqlalchemy.orm import Session" in imports(root, "services/books.py")
    # callers in the subsystem use the twins; by-name imports follow, module attributes are renamed
    assert function(root, SUBSYSTEM, "list_items") == dedent(
        """
        async def list_items(session: async_session_dependency):
            return {"titles": await book_titles_async(session), "n": await books.book_count_async(session)}
        """
    )
    assert "from services.books import book_titles_async" in imports(root, SUBSYSTEM)
    assert "from services.books import book_titles" not in imports(root, SUBSYSTEM)
    # the other router is not part of the subsystem
    assert "api/other.py" not in document["files_changed"]


def test_shared_block_blocks_the_route_and_names_the_other_caller(cli, shared_app):
    root = shared_app
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply(cli, root, "--shared", "block")
    found = handler(document, "list_items")
    assert (found["action"], found["after"]) == ("blocked", "def")
    assert found["reasons"] == [
        "needs services.books.book_count, which is shared with api.other.other (--shared block)",
        "needs services.books.book_titles, which is shared with api.other.other (--shared block)",
    ]
    assert {h["action"] for h in document["subsystem"]["helpers"]} == {"blocked"}
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_a_twin_imported_under_an_alias_is_called_under_its_own_name(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/books.py": SHARED_BOOKS,
        "api/other.py": OTHER_ROUTER,
        SUBSYSTEM: route_module(
            """
            @router.get("/items")
            def list_items(session: session_dependency):
                return bt(session)
            """,
            head="from services.books import book_titles as bt",
        ),
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "list_items") == dedent(
        """
        async def list_items(session: async_session_dependency):
            return await book_titles_async(session)
        """
    )
    assert any("book_titles_async" in line for line in imports(root, SUBSYSTEM))


def test_an_aliased_import_left_unused_by_a_twin_is_removed(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/books.py": SHARED_BOOKS,
        "api/other.py": OTHER_ROUTER,
        SUBSYSTEM: route_module(
            """
            @router.get("/items")
            def list_items(session: session_dependency):
                return bt(session)
            """,
            head="from services.books import book_titles as bt",
        ),
    })
    apply(cli, root)
    assert "bt" not in {alias.asname for node in ast.parse(read(root, SUBSYSTEM)).body
                        if isinstance(node, ast.ImportFrom) for alias in node.names}


# ------------------------------------------------------------ run_in_threadpool

OFFLOADING_ROUTER = route_module(
    """
    def load(session: Session, book_id: int):
        return session.scalars(select(Book).where(Book.id == book_id)).first()
    """,
    """
    @router.get("/offload")
    async def offload(session: session_dependency, book_id: int):
        return await run_in_threadpool(load, session, book_id)
    """,
    head="from fastapi.concurrency import run_in_threadpool",
)


def test_run_in_threadpool_of_a_migrated_helper_becomes_a_direct_await(cli, app):
    root = app({SUBSYSTEM: OFFLOADING_ROUTER})
    document = apply(cli, root)
    assert handler(document, "offload")["action"] == "migrate"
    assert helper(document, "load")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "offload") == dedent(
        """
        async def offload(session: async_session_dependency, book_id: int):
            return await load(session, book_id)
        """
    )
    assert function(root, SUBSYSTEM, "load") == dedent(
        """
        async def load(session: AsyncSession, book_id: int):
            return (await session.scalars(select(Book).where(Book.id == book_id))).first()
        """
    )


def test_run_in_threadpool_import_is_removed_once_unused(cli, app):
    root = app({SUBSYSTEM: OFFLOADING_ROUTER})
    apply(cli, root)
    assert "from fastapi.concurrency import run_in_threadpool" not in imports(root, SUBSYSTEM)


# ------------------------------------------------------------------ legacy Query


def test_legacy_query_chains_are_rewritten_to_select(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/legacy")
            def legacy(session: session_dependency, book_id: int):
                books = session.query(Book).filter(Book.title == "x").all()
                one = session.query(Book).get(book_id)
                n = session.query(Book).filter(Book.id > 1).count()
                return {"books": len(books), "one": one.title, "n": n}
            """
        )
    })
    document = apply(cli, root)
    assert handler(document, "legacy")["action"] == "migrate"
    # `.unique()`: legacy Query de-duplicates entity rows, a 2.0 result does not
    assert function(root, SUBSYSTEM, "legacy") == dedent(
        """
        async def legacy(session: async_session_dependency, book_id: int):
            books = (await session.scalars(select(Book).where(Book.title == "x"))).unique().all()
            one = (await session.get(Book, book_id))
            n = (await session.scalar(select(func.count()).select_from(Book).where(Book.id > 1)))
            return {"books": len(books), "one": one.title, "n": n}
        """
    )


def test_a_legacy_query_without_a_select_form_blocks_the_route(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/entities")
            def entities(session: session_dependency):
                return session.query(Book).with_entities(Book.id).all()
            """
        )
    })
    before = read(root, SUBSYSTEM)
    document = run(cli, root)
    message = (
        "`.with_entities()` has no exact 2.0 `select()` counterpart here: "
        "rewrite by hand or keep the route on the sync path"
    )
    line = line_of(root, SUBSYSTEM, ".with_entities(")
    found = handler(document, "entities")
    assert (found["action"], found["after"]) == ("blocked", "def")
    assert found["reasons"] == [f"api/items.py:{line}: {message}"]
    assert found["codes"] == ["AM213"]
    assert document["subsystem"]["blockers"] == [
        {"file": SUBSYSTEM, "line": line, "message": message, "code": "AM213"}
    ]
    assert document["files_changed"] == []
    assert read(root, SUBSYSTEM) == before


# -------------------------------------------------------- third-party call mappings


def test_fastapi_pagination_paginate_becomes_awaited_apaginate(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/page")
            def page(session: session_dependency):
                return paginate(session, select(Book))
            """,
            head="from fastapi_pagination.ext.sqlalchemy import paginate",
        )
    })
    document = apply(cli, root)
    assert handler(document, "page")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "page") == dedent(
        """
        async def page(session: async_session_dependency):
            return await apaginate(session, select(Book))
        """
    )
    assert "from fastapi_pagination.ext.sqlalchemy import apaginate" in imports(root, SUBSYSTEM)
    assert "from fastapi_pagination.ext.sqlalchemy import paginate" not in imports(root, SUBSYSTEM)


def test_a_legacy_query_handed_to_paginate_names_the_select_to_hand_it_instead(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/page")
            def page(session: session_dependency):
                return paginate(session.query(Book).order_by(Book.id))


            @router.get("/kept")
            def kept(session: session_dependency):
                return list_of(session.query(Book).order_by(Book.id))
            """,
            head="from fastapi_pagination.ext.sqlalchemy import paginate\nfrom pager import list_of",
        )
    })
    document = apply(cli, root)
    found = handler(document, "page")
    assert (found["action"], found["codes"]) == ("blocked", ["AM213"])
    assert "write `paginate(session, select(Book).order_by(Book.id))`" in found["reasons"][0]
    assert "makes it `await apaginate(session, ...)`" in found["reasons"][0]
    # A Query handed to a call without an async form keeps the general advice.
    assert "the Query object itself is used" in handler(document, "kept")["reasons"][0]


def test_a_configured_call_mapping_is_awaited_under_its_async_name(cli, app):
    root = app({
        "pyproject.toml": """
            [tool.async-migrate]
            call-mappings = { "reporting.render_report" = "reporting.render_report_async" }
            """,
        SUBSYSTEM: route_module(
            """
            @router.get("/report")
            def report(session: session_dependency):
                return render_report(session, 3)
            """,
            head="from reporting import render_report",
        ),
    })
    document = apply(cli, root)
    assert handler(document, "report")["action"] == "migrate"
    assert document["subsystem"]["blockers"] == []
    assert function(root, SUBSYSTEM, "report") == dedent(
        """
        async def report(session: async_session_dependency):
            return await render_report_async(session, 3)
        """
    )
    assert "from reporting import render_report_async" in imports(root, SUBSYSTEM)
    assert "from reporting import render_report" not in imports(root, SUBSYSTEM)


# ------------------------------------------------------------- route parameters


def test_the_session_alias_parameter_becomes_the_async_alias(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.post("/a")
            def a(session: session_dependency):
                session.commit()
            """
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "a") == dedent(
        """
        async def a(session: async_session_dependency):
            await session.commit()
        """
    )
    assert "from core.dependencies import async_session_dependency" in imports(root, SUBSYSTEM)
    # now unused: the sync alias
    assert not any(line.endswith("import session_dependency") for line in imports(root, SUBSYSTEM))


def test_a_module_attribute_alias_parameter_keeps_its_module(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.post("/a")
            def a(session: deps.session_dependency):
                session.commit()
            """,
            head="from core import dependencies as deps",
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "a") == dedent(
        """
        async def a(session: deps.async_session_dependency):
            await session.commit()
        """
    )
    assert "from core import dependencies as deps" in imports(root, SUBSYSTEM)
    assert "from core.dependencies import async_session_dependency" not in imports(root, SUBSYSTEM)


DEPENDS_ROUTER = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

router = APIRouter()


@router.post("/b")
def b(session: Session = Depends(get_db_session)):
    session.commit()
"""


def test_a_depends_default_becomes_async_session_with_the_async_dependency(cli, app):
    root = app({SUBSYSTEM: DEPENDS_ROUTER})
    apply(cli, root)
    assert function(root, SUBSYSTEM, "b") == dedent(
        """
        async def b(session: AsyncSession = Depends(get_async_db_session)):
            await session.commit()
        """
    )
    found = imports(root, SUBSYSTEM)
    assert "from sqlalchemy.ext.asyncio import AsyncSession" in found
    assert any(line.startswith("from db.engine import") and "get_async_db_session" in line for line in found)
    assert "from sqlalchemy.orm import Session" not in found


def test_the_replaced_sync_dependency_import_is_removed_once_unused(cli, app):
    root = app({SUBSYSTEM: DEPENDS_ROUTER})
    apply(cli, root)
    assert "from db.engine import get_async_db_session" in imports(root, SUBSYSTEM)


def test_a_helper_session_annotation_becomes_async_session(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            def count(session: Session, limit: int = 10) -> int:
                return len(session.scalars(select(Book).limit(limit)).all())
            """,
            """
            @router.get("/count")
            def read_count(session: session_dependency):
                return count(session)
            """,
        )
    })
    apply(cli, root)
    assert function(root, SUBSYSTEM, "count") == dedent(
        """
        async def count(session: AsyncSession, limit: int = 10) -> int:
            return len((await session.scalars(select(Book).limit(limit))).all())
        """
    )
    assert "from sqlalchemy.ext.asyncio import AsyncSession" in imports(root, SUBSYSTEM)
    assert "from sqlalchemy.orm import Session" not in imports(root, SUBSYSTEM)


def test_imports_still_used_by_code_left_on_the_sync_path_are_kept(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            def legacy_count(session: Session) -> int:
                return len(session.scalars(select(Book)).all())
            """,
            """
            @router.post("/bulk")
            def bulk(session: session_dependency):
                list(map(lambda b: session.bulk_save_objects([b]), [Book(title="x", author_id=1)]))
                return legacy_count(session)
            """,
            """
            @router.post("/a")
            def a(session: session_dependency):
                session.commit()
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "bulk")["action"] == "blocked"
    assert handler(document, "a")["action"] == "migrate"
    found = imports(root, SUBSYSTEM)
    assert "from core.dependencies import async_session_dependency, session_dependency" in found
    assert "from sqlalchemy.orm import Session" in found
    assert function(root, SUBSYSTEM, "legacy_count").startswith("def legacy_count(session: Session)")


# ----------------------------------------------------------------- lazy loads

LAZY_ROUTER = route_module(
    """
    def author_name(session: Session, book_id: int) -> str:
        book = session.get(Book, book_id)
        return book.author.name
    """,
    """
    def author_name_eager(session: Session, book_id: int) -> str:
        book = session.scalars(select(Book).options(selectinload(Book.author)).where(Book.id == book_id)).one()
        return book.author.name
    """,
    """
    @router.get("/lazy")
    def lazy(session: session_dependency, book_id: int):
        return author_name(session, book_id)
    """,
    """
    @router.get("/eager")
    def eager(session: session_dependency, book_id: int):
        return author_name_eager(session, book_id)
    """,
    """
    @router.get("/model", response_model=BookOut)
    def model(session: session_dependency, book_id: int):
        return session.scalars(select(Book).where(Book.id == book_id)).one()
    """,
    """
    @router.get("/model-eager", response_model=BookOut)
    def model_eager(session: session_dependency, book_id: int):
        return session.scalars(select(Book).options(selectinload(Book.author)).where(Book.id == book_id)).one()
    """,
    head="from sqlalchemy.orm import selectinload\nfrom schemas import BookOut",
)


@pytest.fixture
def lazy_app(app):  # type: ignore[no-untyped-def]
    return app({"schemas.py": SCHEMAS, SUBSYSTEM: LAZY_ROUTER})


def test_a_lazy_relationship_read_in_a_helper_gets_the_eager_load_on_its_query(cli, lazy_app):
    document = apply(cli, lazy_app)
    found = handler(document, "lazy")
    assert (found["action"], found["after"]) == ("migrate", "async")
    line = line_in(LAZY_ROUTER, "book = session.get(Book, book_id)")
    assert f"{SUBSYSTEM}:{line}: adds the eager load of Book.author to the query in api.items.author_name" in " ".join(
        found["reasons"]
    )
    assert found["codes"].count("AM246") == 1
    assert helper(document, "author_name")["action"] == "migrate"
    assert function(lazy_app, SUBSYSTEM, "author_name") == dedent(
        """
        async def author_name(session: AsyncSession, book_id: int) -> str:
            book = (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))).one_or_none()
            return book.author.name
        """
    )


def test_a_lazy_read_the_data_flow_cannot_follow_blocks_its_route_with_line_and_fix(cli, app):
    router = route_module(
        """
        def author_name(session: Session, book_id: int) -> str:
            books = {b.id: b for b in session.scalars(select(Book)).all()}
            book = books[book_id]
            return book.author.name
        """,
        """
        @router.get("/lazy")
        def lazy(session: session_dependency, book_id: int):
            return author_name(session, book_id)
        """,
    )
    root = app({SUBSYSTEM: router})
    document = apply(cli, root)
    found = handler(document, "lazy")
    assert (found["action"], found["after"]) == ("blocked", "def")
    assert found["codes"] == ["AM220"]
    reason = found["reasons"][0]
    line = line_in(router, "return book.author.name")
    assert reason.startswith(f"api/items.py:{line}: `book.author` reads relationship Book.author")
    assert "MissingGreenlet" in reason
    assert "fix: add `selectinload(Book.author)` to the query that loads `book`" in reason
    assert helper(document, "author_name")["action"] == "blocked"
    blocker = {"file": SUBSYSTEM, "line": line, "message": reason.removeprefix(f"api/items.py:{line}: ")}
    assert {**blocker, "code": "AM220"} in document["subsystem"]["blockers"]
    assert function(root, SUBSYSTEM, "author_name").startswith("def author_name(session: Session,")


def test_an_eager_loaded_relationship_read_migrates(cli, lazy_app):
    document = apply(cli, lazy_app)
    assert handler(document, "eager")["action"] == "migrate"
    assert helper(document, "author_name_eager")["action"] == "migrate"
    assert function(lazy_app, SUBSYSTEM, "author_name_eager") == dedent(
        """
        async def author_name_eager(session: AsyncSession, book_id: int) -> str:
            book = (await session.scalars(select(Book).options(selectinload(Book.author)).where(Book.id == book_id))).one()
            return book.author.name
        """
    )


def test_a_response_model_relationship_gets_the_eager_load_on_the_returned_query(cli, lazy_app):
    document = apply(cli, lazy_app)
    found = handler(document, "model")
    assert found["action"] == "migrate"
    assert "AM246" in found["codes"]
    assert function(lazy_app, SUBSYSTEM, "model") == dedent(
        """
        async def model(session: async_session_dependency, book_id: int):
            return (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))).one()
        """
    )
    # the same response model with the relationship eager-loaded migrates unchanged
    assert handler(document, "model_eager")["action"] == "migrate"
    assert "AM246" not in handler(document, "model_eager")["codes"]
    assert function(lazy_app, SUBSYSTEM, "model_eager") == dedent(
        """
        async def model_eager(session: async_session_dependency, book_id: int):
            return (await session.scalars(select(Book).options(selectinload(Book.author)).where(Book.id == book_id))).one()
        """
    )


def test_a_response_model_on_an_object_the_flow_cannot_follow_blocks_the_route(cli, app):
    router = route_module(
        """
        @router.get("/model", response_model=BookOut)
        def model(session: session_dependency, book_id: int):
            books = {b.id: b for b in session.scalars(select(Book)).all()}
            return books[book_id]
        """,
        head="from schemas import BookOut",
    )
    root = app({"schemas.py": SCHEMAS, SUBSYSTEM: router})
    document = apply(cli, root)
    found = handler(document, "model")
    assert found["action"] == "blocked"
    assert found["codes"] == ["AM222"]
    line = line_in(router, '@router.get("/model", response_model=BookOut)')
    assert found["reasons"][0].startswith(
        f"api/items.py:{line}: response model BookOut.author reads relationship Book.author, "
        "not eager-loaded in the route's queries"
    )
    assert "fix: add `selectinload(Book.author)`" in found["reasons"][0]
    assert function(root, SUBSYSTEM, "model").startswith("def model(session: session_dependency,")


# -------------------------------------------------------------------- blockers


def blocked_alone(cli, app, route: str, head: str = "", extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    root = app({SUBSYSTEM: route_module(route, head=head), **(extra or {})})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = run(cli, root)
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    return document


def test_the_session_handed_to_a_class_picked_out_of_a_table_names_the_table_not_call_mappings(cli, app):
    """`PROVIDERS[kind](db)` in a hand-written container was told to add it to call-mappings,
    which name a library's async form: the table is the project's own."""
    document = blocked_alone(
        cli, app,
        """
        class BaseRepo:
            def __init__(self, db: Session) -> None:
                self.db = db


        class BookRepo(BaseRepo):
            def count(self) -> int:
                return self.db.scalar(select(func.count(Book.id)))


        PROVIDERS = {"books": BookRepo}


        class Container:
            def __init__(self) -> None:
                self.providers = PROVIDERS

            def by_self(self, kind: str, db: Session) -> BookRepo:
                return self.providers[kind](db)


        container = Container()


        @router.get("/count/{kind}")
        def count(kind: str, session: session_dependency):
            return PROVIDERS[kind](session).count()


        @router.get("/held/{kind}")
        def held(kind: str, session: session_dependency):
            return container.by_self(kind, session).count()
        """,
    )
    for name, spelled, table in (("count", "PROVIDERS[kind]", "PROVIDERS"), ("held", "self.providers[kind]", "providers")):
        reasons = " ".join(handler(document, name)["reasons"])
        assert f"passes the Session to `{spelled}()`, a class or function picked at run time out of `{table}`" in reasons
        assert "call-mappings" not in reasons, reasons


def test_bulk_save_objects_where_no_await_can_stand_blocks_the_route(cli, app):
    document = blocked_alone(
        cli, app,
        """
        @router.post("/bulk")
        def bulk(session: session_dependency):
            list(map(lambda b: session.bulk_save_objects([b]), [Book(title="x", author_id=1)]))
            session.commit()
        """,
    )
    message = (
        "`session.bulk_save_objects()` does not exist on AsyncSession: "
        "use `insert()` statements or `await session.run_sync(...)`"
    )
    line = line_of(app_root(document), SUBSYSTEM, "session.bulk_save_objects(")
    found = handler(document, "bulk")
    assert (found["action"], found["reasons"]) == ("blocked", [f"api/items.py:{line}: {message}"])
    assert found["codes"] == ["AM214"]
    assert document["subsystem"]["blockers"] == [
        {"file": SUBSYSTEM, "line": line, "message": message, "code": "AM214"}
    ]


def test_the_session_passed_to_an_unknown_third_party_function_blocks_the_route(cli, app):
    document = blocked_alone(
        cli, app,
        """
        @router.get("/export")
        def export(session: session_dependency):
            return export_rows(session)
        """,
        head="from thirdparty import export_rows",
    )
    message = (
        "passes the Session to `thirdparty.export_rows()`, which the tool cannot migrate "
        "(add it to [tool.async-migrate] call-mappings if it has an async form)"
    )
    line = line_of(app_root(document), SUBSYSTEM, "return export_rows(session)")
    found = handler(document, "export")
    assert (found["action"], found["reasons"]) == ("blocked", [f"api/items.py:{line}: {message}"])
    assert found["codes"] == ["AM215"]
    assert document["subsystem"]["blockers"] == [
        {"file": SUBSYSTEM, "line": line, "message": message, "code": "AM215"}
    ]


@pytest.mark.parametrize(
    "body",
    [
        "f = lambda n: count(session, n)\nreturn [f(n) for n in ns]",
        "def inner(n):\n    return count(session, n)\nreturn [inner(n) for n in ns]",
    ],
    ids=["lambda", "nested-def"],
)
def test_a_migrated_helper_called_from_a_lambda_or_nested_def_blocks_the_route(cli, app, body):
    route = "@router.get('/n')\ndef nested(session: session_dependency, ns: list[int]):\n" + textwrap.indent(body, "    ")
    root = app({SUBSYSTEM: route_module(
        """
        def count(session: Session, n: int) -> int:
            return len(session.scalars(select(Book).limit(n)).all())
        """,
        route,
    )})
    document = run(cli, root)
    assert document["files_changed"] == []
    found = handler(document, "nested")
    assert found["action"] == "blocked"
    assert len(found["reasons"]) == 1
    assert found["reasons"][0].endswith(
        "needs `await` inside a nested function or lambda, where it cannot stand"
    )
    assert helper(document, "count")["action"] == "blocked"


@pytest.mark.parametrize(
    "body",
    [
        "f = lambda n: session.get(Book, n)\nreturn [f(n).title for n in ns]",
        "def inner(n):\n    return session.get(Book, n)\nreturn [inner(n).title for n in ns]",
    ],
    ids=["lambda", "nested-def"],
)
def test_a_session_method_called_from_a_lambda_or_nested_def_blocks_the_route(cli, app, body):
    route = "@router.get('/n')\ndef nested(session: session_dependency, ns: list[int]):\n" + textwrap.indent(body, "    ")
    root = app({SUBSYSTEM: route_module(route)})
    document = apply(cli, root)  # every rewritten file must parse and compile
    assert handler(document, "nested")["action"] == "blocked"


def _await_in_generator_expression(text: str) -> bool:
    return any(
        isinstance(node, ast.GeneratorExp) and any(isinstance(n, ast.Await) for n in ast.walk(node))
        for node in ast.walk(ast.parse(text))
    )


@pytest.mark.parametrize(
    "expression",
    ["sum(count(session, n) for n in ns)", "any(session.scalar(select(Book.id).where(Book.id == n)) for n in ns)"],
    ids=["helper", "session-method"],
)
def test_a_generator_expression_needing_await_blocks_the_route(cli, app, expression):
    root = app({
        SUBSYSTEM: route_module(
            """
            def count(session: Session, n: int) -> int:
                return len(session.scalars(select(Book).limit(n)).all())
            """,
            f"""
            @router.get("/gen")
            def gen(session: session_dependency, ns: list[int]):
                return {expression}
            """,
        )
    })
    document = apply(cli, root)
    assert not _await_in_generator_expression(read(root, SUBSYSTEM)), function(root, SUBSYSTEM, "gen")
    assert handler(document, "gen")["action"] == "blocked"


def test_calls_through_a_rebound_session_name_are_awaited_or_block(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            @router.get("/alias")
            def alias(session: session_dependency):
                session.commit()
                s2 = session
                return s2.scalar(select(Book.id))
            """
        )
    })
    document = apply(cli, root)
    if handler(document, "alias")["action"] == "migrate":
        assert "return await s2.scalar(select(Book.id))" in function(root, SUBSYSTEM, "alias")
    else:
        assert handler(document, "alias")["action"] == "blocked"


# --------------------------------------------------------------- the async stack

SIMPLE_ROUTER = route_module(
    """
    def count_books() -> int:
        with database_sessionmaker() as s:
            return len(s.scalars(select(Book)).all())
    """,
    """
    @router.get("/a")
    def a(session: session_dependency):
        session.commit()
        return count_books()
    """,
    """
    @router.post("/b")
    def b(session: Session = Depends(get_db_session)):
        session.commit()
    """,
    head="from fastapi import Depends\nfrom db.engine import database_sessionmaker, get_db_session",
)


def test_the_async_stack_is_generated_once_and_a_second_run_is_a_no_op(cli, app):
    root = app({SUBSYSTEM: SIMPLE_ROUTER})
    document = apply(cli, root)
    assert sorted(document["files_changed"]) == [SUBSYSTEM, "core/dependencies.py", "db/engine.py"]
    engine = read(root, "db/engine.py")
    assert engine.count("async_database_sessionmaker = async_sessionmaker(") == 1
    assert engine.count("async def get_async_db_session(") == 1
    dependencies = read(root, "core/dependencies.py")
    assert dependencies.count(
        "async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]"
    ) == 1
    after = {p: p.read_bytes() for p in root.rglob("*.py")}

    assert cli("phase2", root, "--subsystem", SUBSYSTEM, "--check").exit_code == 0
    again = apply(cli, root)
    assert again["files_changed"] == [] and again["diff"] == ""
    assert {(h["function"], h["action"]) for h in again["handlers"]} == {("a", "unchanged"), ("b", "unchanged")}
    assert all(h["reasons"] == ["already uses an AsyncSession"] for h in again["handlers"])
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == after


EXISTING_ASYNC_ENGINE = """
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///app.db")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

async_engine = create_async_engine("sqlite+aiosqlite:///app.db")
my_async_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_my_async_session() -> AsyncIterator[AsyncSession]:
    async with my_async_sessionmaker() as session:
        yield session
"""
EXISTING_ASYNC_DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_db_session, get_my_async_session

session_dependency = Annotated[Session, Depends(get_db_session)]
my_async_session = Annotated[AsyncSession, Depends(get_my_async_session)]
"""


def test_an_existing_async_stack_is_reused_not_duplicated(cli, app):
    root = app({
        "db/engine.py": EXISTING_ASYNC_ENGINE,
        "core/dependencies.py": EXISTING_ASYNC_DEPENDENCIES,
        SUBSYSTEM: SIMPLE_ROUTER,
    })
    document = apply(cli, root)
    assert document["files_changed"] == [SUBSYSTEM]
    assert read(root, "db/engine.py") == dedent(EXISTING_ASYNC_ENGINE) + "\n"
    assert read(root, "core/dependencies.py") == dedent(EXISTING_ASYNC_DEPENDENCIES) + "\n"
    assert function(root, SUBSYSTEM, "count_books") == dedent(
        """
        async def count_books() -> int:
            async with my_async_sessionmaker() as s:
                return len((await s.scalars(select(Book))).all())
        """
    )
    assert function(root, SUBSYSTEM, "a") == dedent(
        """
        async def a(session: my_async_session):
            await session.commit()
            return await count_books()
        """
    )
    assert function(root, SUBSYSTEM, "b") == dedent(
        """
        async def b(session: AsyncSession = Depends(get_my_async_session)):
            await session.commit()
        """
    )
    assert "from core.dependencies import my_async_session" in imports(root, SUBSYSTEM)
    assert "async_database_sessionmaker" not in read(root, SUBSYSTEM)


# ---------------------------------------------------------------- JSON contract


def test_json_contract_and_a_dry_run_writes_nothing(cli, app):
    root = app({
        SUBSYSTEM: route_module(
            """
            def count(session: Session) -> int:
                return len(session.scalars(select(Book)).all())
            """,
            """
            def bulk_insert(session: Session) -> None:
                list(map(lambda b: session.bulk_save_objects([b]), [Book(title="x", author_id=1)]))
            """,
            """
            @router.get("/count")
            def read_count(session: session_dependency):
                return count(session)
            """,
            """
            @router.post("/bulk")
            def bulk(session: session_dependency):
                bulk_insert(session)
            """,
            """
            @router.get("/ping")
            def ping():
                return "pong"
            """,
        )
    })
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = cli("phase2", root, "--subsystem", SUBSYSTEM, "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)  # exactly one JSON document
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before

    assert {"command", "root", "handlers", "files_changed", "errors", "diff", "subsystem"} <= set(document)
    assert document["root"] == str(root)
    assert sorted(document["files_changed"]) == [SUBSYSTEM, "core/dependencies.py", "db/engine.py"]
    assert sorted(line[len("+++ b/"):] for line in document["diff"].splitlines() if line.startswith("+++ b/")) == (
        sorted(document["files_changed"])
    )

    for h in document["handlers"]:
        assert {"file", "function", "line", "kind", "methods", "path", "before", "after", "action", "reasons"} <= set(h)
        assert h["reasons"] and all(isinstance(r, str) for r in h["reasons"])
        assert len(h["codes"]) == len(h["reasons"]) and all(code.startswith("AM2") for code in h["codes"])
    by_name = {h["function"]: h for h in document["handlers"]}
    assert {n: (h["action"], h["before"], h["after"]) for n, h in by_name.items()} == {
        "read_count": ("migrate", "def", "async"),
        "bulk": ("blocked", "def", "def"),
        "ping": ("unchanged", "def", "def"),
    }
    assert by_name["read_count"]["reasons"] == [
        "moves to AsyncSession: awaits its Session calls",
        "awaits the migrated helpers api.items.count",
    ]
    line = line_of(root, SUBSYSTEM, "session.bulk_save_objects(")
    assert by_name["bulk"]["reasons"] == [
        f"api/items.py:{line}: `session.bulk_save_objects()` does not exist on AsyncSession: "
        "use `insert()` statements or `await session.run_sync(...)`"
    ]
    assert by_name["ping"]["reasons"] == ["does no synchronous Session work"]
    assert [by_name[n]["codes"] for n in ("read_count", "bulk", "ping")] == [["AM201", "AM202"], ["AM214"], ["AM205"]]
    assert (by_name["read_count"]["kind"], by_name["read_count"]["methods"], by_name["read_count"]["path"]) == (
        "route", ["GET"], "/count",
    )

    subsystem = document["subsystem"]
    assert subsystem["name"] == SUBSYSTEM
    for h in subsystem["helpers"]:
        assert {"file", "function", "action", "reasons"} <= set(h)
        assert h["action"] in ("migrate", "twin", "blocked") and h["reasons"]
    assert [(h["file"], h["function"], h["action"]) for h in subsystem["helpers"]] == [
        (SUBSYSTEM, "bulk_insert", "blocked"),
        (SUBSYSTEM, "count", "migrate"),
    ]
    assert helper(document, "count")["reasons"] == ["only called within the subsystem"]
    assert helper(document, "count")["codes"] == ["AM206"]
    assert helper(document, "bulk_insert")["reasons"] == [by_name["bulk"]["reasons"][0]]
    assert subsystem["blockers"] == [{
        "file": SUBSYSTEM,
        "line": line,
        "message": "`session.bulk_save_objects()` does not exist on AsyncSession: "
        "use `insert()` statements or `await session.run_sync(...)`",
        "code": "AM214",
    }]


# --------------------------------------------------------------------- runtime


def test_runtime_migrated_route_and_helpers_run_on_aiosqlite(cli, app):
    """Precedence, comprehensions, iteration, begin(), an own session and a legacy Query
    rewrite, executed on the generated async stack."""
    root = app({
        "db/engine.py": RUNTIME_ENGINE,
        SUBSYSTEM: route_module(
            """
            def title_of(session: Session, book_id: int) -> str:
                return session.get(Book, book_id).title
            """,
            """
            def count_books() -> int:
                with database_sessionmaker() as s:
                    return len(s.scalars(select(Book)).all())
            """,
            """
            @router.post("/items")
            def summary(session: session_dependency, ids: list[int]):
                with session.begin():
                    session.add(Book(id=3, title="Gamma", author_id=1))
                titles = [title_of(session, x) for x in ids]
                first = session.execute(select(Book).order_by(Book.id)).scalars().first().title
                rows = [row.id for row in session.execute(select(Book.id).order_by(Book.id))]
                legacy = session.query(Book).filter(Book.id > 1).count()
                return {
                    "titles": titles,
                    "first": first,
                    "rows": rows,
                    "legacy": legacy,
                    "own": count_books(),
                    "upper": title_of(session, 2).upper(),
                }
            """,
            head="from db.engine import database_sessionmaker",
        ),
    })
    document = apply(cli, root)
    assert handler(document, "summary")["action"] == "migrate"
    result = run_python(
        root,
        """
        from api.items import count_books, summary

        async def main():
            async with async_database_sessionmaker() as session:
                out = await summary(session, [2, 1])
            out["again"] = await count_books()
            await async_engine.dispose()
            return out

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {
        "titles": ["Beta", "Alpha"],
        "first": "Alpha",
        "rows": [1, 2, 3],
        "legacy": 2,
        "own": 3,
        "upper": "BETA",
        "again": 3,
    }


def test_a_migrated_route_loses_its_pragma_and_check_stays_clean(cli, app):
    """The pragma acknowledged synchronous Session work the migration removed: left in place,
    `check` would report it as unused (AM305) on phase two's own output."""
    root = app({SUBSYSTEM: route_module(
        """
        # async-migrate: ignore[blocking-session] @timed needs a coroutine function
        @router.get("/count")
        async def count(session: session_dependency):
            return session.scalar(select(func.count()).select_from(Book))
        """,
        """
        @router.get("/other")
        async def other(session: session_dependency):  # async-migrate: ignore[AM301] kept for now
            return session.scalar(select(func.count()).select_from(Book))
        """,
    )})
    document = apply(cli, root)
    assert handler(document, "count")["action"] == handler(document, "other")["action"] == "migrate"
    text = (root / SUBSYSTEM).read_text()
    assert "async-migrate:" not in text
    assert '\n\n@router.get("/count")\nasync def count(session: async_session_dependency):\n' in text
    assert 'async def other(session: async_session_dependency):\n' in text
    assert cli.json("check", root)["findings"] == []


def test_runtime_added_eager_loads_serve_the_reads_on_aiosqlite(cli, app):
    """The relationship reads of a helper and of a response model, served by the options phase
    two added: without them each read raises MissingGreenlet on the async stack."""
    root = app({"db/engine.py": RUNTIME_ENGINE, "schemas.py": SCHEMAS, SUBSYSTEM: LAZY_ROUTER})
    document = apply(cli, root)
    assert handler(document, "lazy")["action"] == handler(document, "model")["action"] == "migrate"
    result = run_python(
        root,
        """
        from api.items import lazy, model
        from schemas import BookOut

        async def main():
            async with async_database_sessionmaker() as session:
                name = await lazy(session, 2)
                out = BookOut.model_validate(await model(session, 1)).model_dump()
            await async_engine.dispose()
            return {"name": name, "model": out}

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {"name": "Ann", "model": {"id": 1, "title": "Alpha", "author": {"name": "Ann"}}}


CHAINED_MODELS = MODELS.replace(
    "    name: Mapped[str]\n", '    name: Mapped[str]\n    books: Mapped[list["Book"]] = relationship(back_populates="author")\n'
).replace("author: Mapped[Author] = relationship()", 'author: Mapped[Author] = relationship(back_populates="books")')


def test_runtime_chained_and_legacy_query_eager_loads_on_aiosqlite(cli, app):
    """`b.author.books` gets `selectinload(Book.author).selectinload(Author.books)` on the statement
    bound to a name; a legacy Query gets its option before the rewrite to select()."""
    root = app({
        "db/engine.py": RUNTIME_ENGINE,
        "models.py": CHAINED_MODELS,
        SUBSYSTEM: route_module(
            """
            @router.get("/legacy")
            def legacy(session: session_dependency, book_id: int):
                book = session.query(Book).filter(Book.id == book_id).first()
                return {"author": book.author.name}
            """,
            """
            @router.get("/chain")
            def chain(session: session_dependency, book_id: int):
                stmt = select(Book).where(Book.id == book_id)
                return [other.title for b in session.scalars(stmt).all() for other in b.author.books]
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "legacy")["action"] == handler(document, "chain")["action"] == "migrate"
    text = (root / SUBSYSTEM).read_text()
    assert "select(Book).options(selectinload(Book.author)).where(Book.id == book_id)" in text
    assert "stmt = select(Book).where(Book.id == book_id).options(selectinload(Book.author).selectinload(Author.books))" in text
    result = run_python(
        root,
        """
        from api.items import chain, legacy

        async def main():
            async with async_database_sessionmaker() as session:
                out = {"legacy": await legacy(session, 1), "chain": await chain(session, 2)}
            await async_engine.dispose()
            return out

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {"legacy": {"author": "Ann"}, "chain": ["Alpha", "Beta"]}


def test_runtime_a_path_through_a_relationship_the_query_already_loads_keeps_its_strategy(cli, app):
    """`joinedload(Book.author)` is the query's own: reaching `Author.books` through it adds
    `defaultload(Book.author).selectinload(Author.books)`, never a second strategy for
    `Book.author` (`selectinload(Book.author)` beside it raises at run time)."""
    root = app({
        "db/engine.py": RUNTIME_ENGINE,
        "models.py": CHAINED_MODELS,
        SUBSYSTEM: route_module(
            """
            @router.get("/chain")
            def chain(session: session_dependency, book_id: int):
                stmt = select(Book).options(joinedload(Book.author)).where(Book.id == book_id)
                return [other.title for b in session.scalars(stmt).unique().all() for other in b.author.books]
            """,
            head="from sqlalchemy.orm import joinedload",
        ),
    })
    document = apply(cli, root)
    assert handler(document, "chain")["action"] == "migrate", handler(document, "chain")
    text = (root / SUBSYSTEM).read_text()
    assert "defaultload(Book.author).selectinload(Author.books)" in text
    assert "selectinload(Book.author)" not in text
    result = run_python(
        root,
        """
        from api.items import chain

        async def main():
            async with async_database_sessionmaker() as session:
                out = await chain(session, 2)
            await async_engine.dispose()
            return out

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == ["Alpha", "Beta"]


def test_runtime_twin_and_sync_original_both_work(cli, app):
    root = app({
        "db/engine.py": RUNTIME_ENGINE,
        "services/__init__.py": "",
        "services/books.py": SHARED_BOOKS,
        "api/other.py": OTHER_ROUTER,
        SUBSYSTEM: SHARING_ROUTER,
    })
    apply(cli, root)
    result = run_python(
        root,
        """
        from api.items import list_items
        from api.other import other
        from services.books import book_titles, book_titles_async

        async def main():
            async with async_database_sessionmaker() as session:
                migrated = await list_items(session)
                twin = await book_titles_async(session)
            await async_engine.dispose()
            return migrated, twin

        migrated, twin = asyncio.run(main())
        with database_sessionmaker() as s:
            sync = other(s)
            original = book_titles(s)
        print(json.dumps({"migrated": migrated, "twin": twin, "sync": sync, "original": original}))
        """,
    )
    assert result == {
        "migrated": {"titles": ["Alpha", "Beta"], "n": 2},
        "twin": ["Alpha", "Beta"],
        "sync": {"titles": ["Alpha", "Beta"], "n": 2},
        "original": ["Alpha", "Beta"],
    }


def test_runtime_http_requests_through_the_async_dependency(cli, app):
    """The migrated routes served by FastAPI through real requests: the async alias, the
    Depends() default, an eager-loaded response model and a legacy `.count()` rewrite."""
    root = app({
        "db/engine.py": RUNTIME_ENGINE,
        "schemas.py": SCHEMAS,
        "main.py": """
            from fastapi import FastAPI

            from api.items import router

            app = FastAPI()
            app.include_router(router)
            """,
        SUBSYSTEM: route_module(
            """
            def load_book(session: Session, book_id: int) -> Book:
                return session.scalars(select(Book).options(selectinload(Book.author)).where(Book.id == book_id)).one()
            """,
            """
            @router.get("/books/{book_id}", response_model=BookOut)
            def read_book(session: session_dependency, book_id: int):
                return load_book(session, book_id)
            """,
            """
            @router.post("/books")
            def create_book(title: str, session: Session = Depends(get_db_session)):
                book = Book(title=title, author_id=1)
                session.add(book)
                session.commit()
                session.refresh(book)
                return {"id": book.id, "count": session.query(Book).count()}
            """,
            head="from fastapi import Depends\nfrom sqlalchemy.orm import selectinload\n"
            "from db.engine import get_db_session\nfrom schemas import BookOut",
        ),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "read_book": "migrate", "create_book": "migrate",
    }
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        with TestClient(app) as client:
            created = client.post("/books", params={"title": "Gamma"}).json()
            book = client.get("/books/1").json()
        asyncio.run(async_engine.dispose())
        print(json.dumps({"created": created, "book": book}))
        """,
    )
    assert result == {
        "created": {"id": 3, "count": 3},
        "book": {"id": 1, "title": "Alpha", "author": {"name": "Ann"}},
    }


# ------------------------------ a response model's relationship on an object the route builds

BUILT_SCHEMAS = SCHEMAS + """

class BookIn(BaseModel):
    title: str
    author_id: int
"""
BUILT_ROUTES = (
    """
    @router.post("/books", response_model=BookOut)
    async def create_book(payload: BookIn, db: Session = Depends(get_db_session)):
        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        db.refresh(book)
        return book
    """,
    """
    def store_book(db: Session, payload: BookIn) -> Book:
        stored = Book(title=payload.title.upper(), author_id=payload.author_id)
        db.add(stored)
        db.commit()
        return stored
    """,
    """
    @router.post("/stored", response_model=BookOut)
    def create_stored(payload: BookIn, db: session_dependency):
        return store_book(db, payload)
    """,
)
BUILT_HEAD = "from fastapi import Depends\nfrom db.engine import get_db_session\nfrom schemas import BookIn, BookOut"
BUILT_MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""


@pytest.mark.parametrize("expires", [False, True], ids=["kept-on-commit", "expired-on-commit"])
def test_runtime_a_built_object_returned_through_a_nested_response_model_is_refreshed(cli, app, expires):
    """`Book(...)` added and committed, returned through `BookOut.author`: no query loads it, so
    phase two refreshes its `author` after the last statement using the Session (AM280) and the
    route answers 200 with the author, the row in the database. A sessionmaker expiring on commit
    gets its plain refresh first: one after the named refresh would expire `author` again."""
    engine = RUNTIME_ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)") \
        if expires else RUNTIME_ENGINE
    root = app({
        "db/engine.py": engine, "schemas.py": BUILT_SCHEMAS, "main.py": BUILT_MAIN,
        SUBSYSTEM: route_module(*BUILT_ROUTES, head=BUILT_HEAD),
    })
    document = apply(cli, root)
    for name in ("create_book", "create_stored"):
        found = handler(document, name)
        assert found["action"] == "migrate" and "AM280" in found["codes"], found
    assert "adds `await db.refresh(book, attribute_names=[\"author\"])`" in " ".join(handler(document, "create_book")["reasons"])
    assert function(root, SUBSYSTEM, "create_book").endswith(
        "    await db.commit()\n    await db.refresh(book)\n"
        "    await db.refresh(book, attribute_names=[\"author\"])\n    return book"
    )
    plain = "    await db.refresh(stored)\n" if expires else ""
    assert function(root, SUBSYSTEM, "store_book").endswith(
        f"    await db.commit()\n{plain}    await db.refresh(stored, attribute_names=[\"author\"])\n    return stored"
    )
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        with TestClient(app) as client:
            created = client.post("/books", json={"title": "Gamma", "author_id": 1})
            stored = client.post("/stored", json={"title": "Delta", "author_id": 1})
        asyncio.run(async_engine.dispose())
        with database_sessionmaker() as s:
            rows = [(b.id, b.title, b.author.name) for b in s.query(Book).order_by(Book.id)]
        print(json.dumps({"created": [created.status_code, created.json()], "stored": [stored.status_code, stored.json()],
                          "rows": rows}))
        """,
    )
    assert result == {
        "created": [200, {"id": 3, "title": "Gamma", "author": {"name": "Ann"}}],
        "stored": [200, {"id": 4, "title": "DELTA", "author": {"name": "Ann"}}],
        "rows": [[1, "Alpha", "Ann"], [2, "Beta", "Ann"], [3, "Gamma", "Ann"], [4, "DELTA", "Ann"]],
    }


PUBLISHED_MODELS = MODELS.replace(
    'class Author(Base):',
    'class Publisher(Base):\n    __tablename__ = "publishers"\n    id: Mapped[int] = mapped_column(primary_key=True)\n'
    '    name: Mapped[str]\n\n\nclass Author(Base):',
).replace(
    "    name: Mapped[str]\n\n\nclass Book",
    '    name: Mapped[str]\n    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("publishers.id"))\n'
    '    publisher: Mapped[Publisher | None] = relationship()\n\n\nclass Book',
)
PUBLISHED_SCHEMAS = BUILT_SCHEMAS.replace(
    "class AuthorOut(BaseModel):\n    model_config = ConfigDict(from_attributes=True)\n    name: str\n",
    "class PublisherOut(BaseModel):\n    name: str\n\n\nclass AuthorOut(BaseModel):\n"
    "    model_config = ConfigDict(from_attributes=True)\n    name: str\n    publisher: PublisherOut | None\n",
)


def test_near_miss_a_relationship_two_levels_down_still_blocks_with_am222(cli, app):
    """`BookOut.author.publisher`: a refresh of `author` leaves `author.publisher` lazy, so the
    route stays blocked by AM222 with its message, and nothing is written."""
    root = app({
        "db/engine.py": RUNTIME_ENGINE, "models.py": PUBLISHED_MODELS, "schemas.py": PUBLISHED_SCHEMAS,
        "main.py": BUILT_MAIN, SUBSYSTEM: route_module(BUILT_ROUTES[0], head=BUILT_HEAD),
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_book")
    assert found["action"] == "blocked" and set(found["codes"]) == {"AM222"}, found
    assert any(
        r.startswith("api/items.py:") and "response model BookOut.author.publisher reads relationship "
        "Author.publisher, not eager-loaded in the route's queries" in r for r in found["reasons"]
    ), found
    assert read(root, SUBSYSTEM) == before



# A response field the model's own code computes from a relationship, on an object the route builds.
PROPERTY_MODELS = PUBLISHED_MODELS.replace(
    "from sqlalchemy.orm import", "from sqlalchemy.ext.hybrid import hybrid_property\nfrom sqlalchemy.orm import"
) + """
    @hybrid_property
    def author_name(self) -> str:
        return self.author.name

    @property
    def byline(self) -> str:
        return f"{self.title} by {self.author.name}"

    @property
    def publisher_name(self) -> str | None:
        return self.author.publisher.name if self.author.publisher else None
"""
PROPERTY_SCHEMAS = BUILT_SCHEMAS + """

class BookNamed(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_name: str


class BookByline(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    byline: str


class BookPublished(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    publisher_name: str | None
"""
PROPERTY_ROUTES = (
    """
    @router.post("/named", response_model=BookNamed)
    def create_named(payload: BookIn, db: session_dependency):
        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        db.refresh(book)
        return book
    """,
    """
    @router.post("/byline", response_model=BookByline)
    def create_byline(payload: BookIn, db: session_dependency):
        book = Book(**payload.model_dump())
        db.add(book)
        db.flush()
        db.commit()
        return book
    """,
)
PROPERTY_HEAD = "from schemas import BookByline, BookIn, BookNamed, BookPublished"


@pytest.mark.parametrize("expires", [False, True], ids=["kept-on-commit", "expired-on-commit"])
def test_runtime_a_built_object_whose_response_property_reads_a_relationship_is_refreshed(cli, app, expires):
    """A response field that is a hybrid property (`Book.author_name`) or a plain property
    (`Book.byline`) reading `self.author`, on a `Book(...)` the route adds and commits: no query
    loads it, so phase two refreshes `author` after the last statement using the Session (AM280),
    and the route answers 200 with the author's name, which it reads outside the greenlet."""
    engine = RUNTIME_ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)") \
        if expires else RUNTIME_ENGINE
    root = app({
        "db/engine.py": engine, "models.py": PROPERTY_MODELS, "schemas.py": PROPERTY_SCHEMAS, "main.py": BUILT_MAIN,
        SUBSYSTEM: route_module(*PROPERTY_ROUTES, head=PROPERTY_HEAD),
    })
    document = apply(cli, root)
    for name, field in (("create_named", "BookNamed.author_name"), ("create_byline", "BookByline.byline")):
        found = handler(document, name)
        assert found["action"] == "migrate" and found["codes"] == ["AM201", "AM280"], found
        assert f"({field} through Book.author)" in found["reasons"][1], found
    assert function(root, SUBSYSTEM, "create_named").endswith(
        "    await db.commit()\n    await db.refresh(book)\n"
        "    await db.refresh(book, attribute_names=[\"author\"])\n    return book"
    )
    # a Session expiring on commit gets the plain refresh of the expired columns first
    plain = "    await db.refresh(book)\n" if expires else ""
    assert function(root, SUBSYSTEM, "create_byline").endswith(
        f"    await db.commit()\n{plain}    await db.refresh(book, attribute_names=[\"author\"])\n    return book"
    )
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        with TestClient(app) as client:
            named = client.post("/named", json={"title": "Gamma", "author_id": 1})
            byline = client.post("/byline", json={"title": "Delta", "author_id": 1})
        asyncio.run(async_engine.dispose())
        print(json.dumps({"named": [named.status_code, named.json()], "byline": [byline.status_code, byline.json()]}))
        """,
    )
    assert result == {
        "named": [200, {"id": 3, "author_name": "Ann"}],
        "byline": [200, {"id": 4, "byline": "Delta by Ann"}],
    }


def test_near_miss_a_response_property_reading_two_relationships_down_still_blocks(cli, app):
    """`Book.publisher_name` reads `self.author.publisher`: a refresh of `author` would leave
    `publisher` lazy, so the route stays blocked (AM250) and nothing is written."""
    route = """
    @router.post("/published", response_model=BookPublished)
    def create_published(payload: BookIn, db: session_dependency):
        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        return book
    """
    root = app({
        "db/engine.py": RUNTIME_ENGINE, "models.py": PROPERTY_MODELS, "schemas.py": PROPERTY_SCHEMAS,
        "main.py": BUILT_MAIN, SUBSYSTEM: route_module(route, head=PROPERTY_HEAD),
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_published")
    assert found["action"] == "blocked" and "AM250" in found["codes"] and "AM280" not in found["codes"], found
    # the reason says where the object comes from (the route builds it) and what to add by hand
    assert any(
        "runs property Book.publisher_name" in r and "relationship Book.author.publisher" in r
        and "the object is `book`, a Book built in api.items.create_published (no query loads it)" in r
        and "add `await session.refresh(book, attribute_names=[...])` by hand" in r for r in found["reasons"]
    ), found
    assert not any("cannot trace the object" in r for r in found["reasons"]), found
    assert read(root, SUBSYSTEM) == before


# ------------------------------------------ a pydantic model validated from an ORM object in code

VALIDATING_SCHEMAS = (SCHEMAS + '''

class BookAliased(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    writer: AuthorOut = Field(alias="author")


class BookPath(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    author_name: str = Field(validation_alias=AliasPath("author", "name"))


class BookFlat(BaseModel):
    title: str
    author: str

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, obj):
        return {"title": obj.title, "author": obj.author.name}
''').replace("from pydantic import BaseModel, ConfigDict", "from pydantic import AliasPath, BaseModel, ConfigDict, Field, model_validator")

VALIDATING_ROUTER = route_module(
    """
    @router.get("/validated")
    def validated(session: session_dependency, book_id: int):
        book = session.get(Book, book_id)
        return BookOut.model_validate(book).model_dump()
    """,
    """
    @router.get("/aliased")
    def aliased(session: session_dependency, book_id: int):
        return BookAliased.model_validate(session.get(Book, book_id)).model_dump()
    """,
    """
    @router.get("/path", response_model=BookPath)
    def path(session: session_dependency, book_id: int):
        return session.get(Book, book_id)
    """,
    """
    @router.get("/flat", response_model=BookFlat)
    def flat(session: session_dependency, book_id: int):
        return session.get(Book, book_id)
    """,
    head="from schemas import BookAliased, BookFlat, BookOut, BookPath",
)


def test_model_validate_in_code_gets_the_eager_load_and_runs_on_aiosqlite(cli, app):
    root = app({"db/engine.py": RUNTIME_ENGINE, "schemas.py": VALIDATING_SCHEMAS, SUBSYSTEM: VALIDATING_ROUTER})
    document = apply(cli, root)
    assert handler(document, "validated")["action"] == "migrate", handler(document, "validated")
    assert "await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))" in (
        function(root, SUBSYSTEM, "validated")
    )
    result = run_python(
        root,
        """
        from api.items import validated

        async def main():
            async with async_database_sessionmaker() as session:
                out = await validated(session, 1)
            await async_engine.dispose()
            return out

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {"id": 1, "title": "Alpha", "author": {"name": "Ann"}}


RETURNED_VALIDATED_ROUTER = route_module(
    """
    @router.get("/returned")
    def returned(session: session_dependency, book_id: int) -> BookOut:
        book = session.get(Book, book_id)
        return BookOut.model_validate(book)
    """,
    head="from schemas import BookOut",
)


def test_a_returned_schema_validated_in_code_is_served_without_orm_reads_on_aiosqlite(cli, app):
    """`return BookOut.model_validate(book)` under `-> BookOut`: the schema copied what it read where
    the route validated it, which gets the eager load; FastAPI serialises the copy, no ORM object."""
    root = app({"db/engine.py": RUNTIME_ENGINE, "schemas.py": VALIDATING_SCHEMAS, SUBSYSTEM: RETURNED_VALIDATED_ROUTER})
    document = apply(cli, root)
    assert handler(document, "returned")["action"] == "migrate", handler(document, "returned")
    assert "options(selectinload(Book.author))" in function(root, SUBSYSTEM, "returned")
    result = run_python(
        root,
        """
        from api.items import returned

        async def main():
            async with async_database_sessionmaker() as session:
                out = await returned(session, 1)
            await async_engine.dispose()
            return out.model_dump()

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {"id": 1, "title": "Alpha", "author": {"name": "Ann"}}


def test_a_string_alias_is_read_under_its_name_and_a_model_validator_is_read(cli, app):
    root = app({"schemas.py": VALIDATING_SCHEMAS, SUBSYSTEM: VALIDATING_ROUTER})
    document = run(cli, root)
    aliased = handler(document, "aliased")
    # `writer` is read as `author`: a relationship (the object is no name the flow follows, so
    # it is judged by name, and blocks)
    assert aliased["action"] == "blocked", aliased
    assert "BookAliased.author reads relationship Book.author" in " ".join(aliased["reasons"]), aliased
    # the model validator given the Book reads `obj.author.name`: the query gets the option
    # (tests/test_phase2_pydantic_validation.py runs the shape)
    found = handler(document, "flat")
    assert found["action"] == "migrate", found
    assert "Book.author" in " ".join(found["reasons"]) and "BookFlat._from_orm" in " ".join(found["reasons"]), found


INDEXED_PATH = VALIDATING_SCHEMAS + '''

class BookIndexed(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    first: str = Field(validation_alias=AliasPath("author", 0))
'''


def test_an_alias_path_of_names_gets_the_eager_load_of_its_relationships_on_aiosqlite(cli, app):
    """`AliasPath("author", "name")` on a Book the flow traces reads `book.author.name`: the
    relationship gets its option as a nested field's would; an index in the path stays unverified."""
    indexed = route_module(
        """
        @router.get("/indexed", response_model=BookIndexed)
        def indexed(session: session_dependency, book_id: int):
            return session.get(Book, book_id)
        """,
        head="from schemas import BookIndexed",
    )
    root = app({"schemas.py": INDEXED_PATH, SUBSYSTEM: indexed})
    found = handler(run(cli, root), "indexed")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found
    assert "validated through an alias path" in " ".join(found["reasons"]), found["reasons"]

    root = app({"db/engine.py": RUNTIME_ENGINE, "schemas.py": VALIDATING_SCHEMAS, SUBSYSTEM: VALIDATING_ROUTER})
    document = apply(cli, root)
    assert handler(document, "path")["action"] == "migrate", handler(document, "path")
    assert "options(selectinload(Book.author))" in function(root, SUBSYSTEM, "path")
    result = run_python(
        root,
        """
        from api.items import path
        from schemas import BookPath

        async def main():
            async with async_database_sessionmaker() as session:
                book = await path(session, 1)
            out = BookPath.model_validate(book).model_dump()  # outside the greenlet, as FastAPI does
            await async_engine.dispose()
            return out

        print(json.dumps(asyncio.run(main())))
        """,
    )
    assert result == {"title": "Alpha", "author_name": "Ann"}


GET_OPTIONS_ROUTER = route_module(
    """
    @router.get("/literal")
    def literal(session: session_dependency, book_id: int):
        book = session.get(Book, book_id, options=[joinedload(Book.author)])
        return {"author": book.author.name}
    """,
    """
    @router.get("/named")
    def named(session: session_dependency, book_id: int):
        book = session.get(Book, book_id, options=BOOK_LOAD)
        return {"author": book.author.name}
    """,
    head="from sqlalchemy.orm import joinedload\n\nBOOK_LOAD = [joinedload(Book.author)]",
)


def test_a_get_whose_own_options_name_the_relationship_blocks_as_get_ignores_them_for_a_held_object(cli, app):
    # `get()` hands back an object the Session holds already, as loaded, without running its
    # options: migrated, `book.author` would load lazily whenever something loaded the book first.
    root = app({"db/engine.py": RUNTIME_ENGINE, SUBSYSTEM: GET_OPTIONS_ROUTER})
    document = apply(cli, root)
    for name in ("literal", "named"):
        found = handler(document, name)
        assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
        assert "passes `options=`, which `get()` ignores for an object the Session holds already" in (
            " ".join(found["reasons"])
        )
    assert "book = session.get(Book, book_id, options=[joinedload(Book.author)])" in function(root, SUBSYSTEM, "literal")


def test_near_miss_a_model_validated_from_a_request_model_reads_no_relationship(cli, app):
    schemas = VALIDATING_SCHEMAS + "\n\nclass BookIn(BaseModel):\n    id: int\n    title: str\n    author: AuthorOut\n"
    router = route_module(
        """
        @router.post("/books")
        def echo_book(book_in: BookIn, session: session_dependency):
            count = session.scalar(select(func.count(Book.id)))
            return {"book": BookOut.model_validate(book_in).model_dump(), "count": count}
        """,
        head="from schemas import BookIn, BookOut",
    )
    document = run(cli, app({"schemas.py": schemas, SUBSYSTEM: router}))
    assert handler(document, "echo_book")["action"] == "migrate", handler(document, "echo_book")
