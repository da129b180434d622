"""Legacy `Session.query()` chains rewritten for `AsyncSession` (codemods/phase2/legacy_query.py).

Three layers: the generated code for each mapping, the blocker message for each
unmappable form, and a real equivalence check that runs each legacy query on a
synchronous `Session` and its rewrite on an `AsyncSession` (aiosqlite) over the same
in-memory data, comparing results, raised exceptions and the session's identity map.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import warnings
from typing import Any

import libcst as cst
import pytest
from sqlalchemy import ForeignKey, create_engine, delete, event, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Result, Row
from sqlalchemy.engine.result import ScalarResult
from sqlalchemy.exc import LegacyAPIWarning
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Query,
    Session,
    aliased,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    with_loader_criteria,
)
from sqlalchemy.pool import StaticPool

from async_migrate.codemods.phase2 import legacy_query
from async_migrate.codemods.phase2.legacy_query import QueryRewrite, is_query_chain, rewrite_query
from async_migrate.codemods.vocabulary.sqlalchemy import QUERY_TERMINALS


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def assert_parses_in_async_def(expression: str) -> None:
    """The expression is valid Python as part of an `async def` (for both ast and libcst)."""
    source = f"async def _f(session):\n    return {expression}\n"
    ast.parse(source)
    cst.parse_module(source)


def rewritten(source: str, session: str = "session", names: dict[str, str] | None = None) -> QueryRewrite:
    node = cst.parse_expression(source)
    assert isinstance(node, cst.Call)
    result = rewrite_query(node, session, names)
    assert isinstance(result, QueryRewrite), result
    assert_parses_in_async_def(code(result.expression))
    return result


def blocked(source: str, session: str = "session") -> str:
    node = cst.parse_expression(source)
    assert isinstance(node, cst.Call)
    result = rewrite_query(node, session)
    assert isinstance(result, str), code(result.expression)
    return result


SELECT = frozenset({("sqlalchemy", "select")})
COUNT = frozenset({("sqlalchemy", "select"), ("sqlalchemy", "func")})

# (id, legacy source, expected rewrite, expected imports)
MAPPINGS = [
    (
        "all-one-entity",
        "session.query(Book).filter(Book.price > 10).all()",
        "(await session.scalars(select(Book).where(Book.price > 10))).unique().all()",
        SELECT,
    ),
    (
        "all-several-columns",
        "session.query(Book.title, Book.price).all()",
        "(await session.execute(select(Book.title, Book.price))).all()",
        SELECT,
    ),
    (
        "all-one-column-gives-rows",
        "session.query(Book.title).all()",
        "(await session.execute(select(Book.title))).all()",
        SELECT,
    ),
    (
        "all-entity-and-column",
        "session.query(Author, Book.title).join(Author.books).all()",
        "(await session.execute(select(Author, Book.title).join(Author.books))).unique().all()",
        SELECT,
    ),
    (
        "carried-methods-in-order",
        "session.query(Book).filter(Book.price > 1, Book.id < 9).filter_by(author_id=1)"
        ".order_by(Book.title).limit(5).offset(1).distinct().options(joinedload(Book.author)).all()",
        "(await session.scalars(select(Book).where(Book.price > 1, Book.id < 9).filter_by(author_id=1)"
        ".order_by(Book.title).limit(5).offset(1).distinct().options(joinedload(Book.author))))"
        ".unique().all()",
        SELECT,
    ),
    (
        "joins-group-having",
        "session.query(Author.name, func.count(Book.id)).join(Author.books).outerjoin(Book.author)"
        ".group_by(Author.name).having(func.count(Book.id) > 1).all()",
        "(await session.execute(select(Author.name, func.count(Book.id)).join(Author.books)"
        ".outerjoin(Book.author)"
        ".group_by(Author.name).having(func.count(Book.id) > 1))).all()",
        SELECT,
    ),
    (
        "with-for-update",
        "session.query(Book).filter(Book.id == 1).with_for_update(nowait=True).one()",
        "(await session.scalars(select(Book).where(Book.id == 1).with_for_update(nowait=True)))"
        ".unique().one()",
        SELECT,
    ),
    (
        "first-entity-limits-to-one",
        "session.query(Book).filter_by(title='Dune').first()",
        "(await session.scalars(select(Book).filter_by(title='Dune').limit(1))).first()",
        SELECT,
    ),
    (
        "first-several",
        "session.query(Book.id, Book.title).order_by(Book.id).first()",
        "(await session.execute(select(Book.id, Book.title).order_by(Book.id).limit(1))).first()",
        SELECT,
    ),
    (
        "first-undecided-entities-when-several",
        "session.query(self.model, other).first()",
        "(await session.execute(select(self.model, other).limit(1))).first()",
        SELECT,
    ),
    (
        "one",
        "session.query(models.Book).filter(models.Book.id == 1).one()",
        "(await session.scalars(select(models.Book).where(models.Book.id == 1))).unique().one()",
        SELECT,
    ),
    (
        "one-or-none-column",
        "session.query(Book.title).filter(Book.id == 1).one_or_none()",
        "(await session.execute(select(Book.title).where(Book.id == 1))).one_or_none()",
        SELECT,
    ),
    (
        "one-or-none-aliased",
        "session.query(aliased(Book)).one_or_none()",
        "(await session.scalars(select(aliased(Book)))).unique().one_or_none()",
        SELECT,
    ),
    (
        "scalar-column",
        "session.query(func.count(Book.id)).filter(Book.price > 10).scalar()",
        "(await session.execute(select(func.count(Book.id)).where(Book.price > 10))).scalar_one_or_none()",
        SELECT,
    ),
    (
        "scalar-entity",
        "session.query(Book).filter(Book.id == 1).scalar()",
        "(await session.execute(select(Book).where(Book.id == 1))).unique().scalar_one_or_none()",
        SELECT,
    ),
    (
        "count-direct",
        "session.query(Book).filter(Book.price > 10).filter_by(author_id=1).count()",
        "(await session.scalar(select(func.count()).select_from(Book).where(Book.price > 10)"
        ".filter_by(author_id=1)))",
        COUNT,
    ),
    (
        "count-direct-with-join",
        "session.query(Author).join(Author.books).count()",
        "(await session.scalar(select(func.count()).select_from(Author).join(Author.books)))",
        COUNT,
    ),
    (
        "count-subquery-limit",
        "session.query(Book).order_by(Book.id).limit(2).count()",
        "(await session.scalar(select(func.count())"
        ".select_from(select(Book).order_by(Book.id).limit(2).subquery())))",
        COUNT,
    ),
    (
        "count-subquery-distinct-columns",
        "session.query(Book.author_id).distinct().count()",
        "(await session.scalar(select(func.count())"
        ".select_from(select(Book.author_id).distinct().subquery())))",
        COUNT,
    ),
    (
        "count-subquery-group-by",
        "session.query(Book).group_by(Book.author_id).count()",
        "(await session.scalar(select(func.count())"
        ".select_from(select(Book).group_by(Book.author_id).subquery())))",
        COUNT,
    ),
    (
        "filter-by-on-columns-of-one-class",
        "session.query(Book.id, Book.title).filter_by(author_id=1).all()",
        "(await session.execute(select(Book.id, Book.title).filter_by(author_id=1))).all()",
        SELECT,
    ),
    (
        "filter-by-on-one-undecided-entity",
        "session.query(self.model).filter_by(id=1).count()",
        "(await session.scalar(select(func.count())"
        ".select_from(select(self.model).filter_by(id=1).subquery())))",
        COUNT,
    ),
    (
        "count-undecided-entity-uses-subquery",
        "session.query(self.model).filter(self.model.id > 1).count()",
        "(await session.scalar(select(func.count())"
        ".select_from(select(self.model).where(self.model.id > 1).subquery())))",
        COUNT,
    ),
    ("get", "session.query(Book).get(book_id)", "(await session.get(Book, book_id))", frozenset()),
    (
        # the options a `do_orm_execute` listener reads (a soft-delete filter's opt-out) stay on the statement
        "execution-options",
        "session.query(Book).execution_options(include_deleted=True).filter(Book.id == book_id).first()",
        "(await session.scalars(select(Book).execution_options(include_deleted=True)"
        ".where(Book.id == book_id).limit(1))).first()",
        SELECT,
    ),
    (
        # loader options (an eager load phase two adds) go in get()'s options=
        "get-options",
        "session.query(Book).options(selectinload(Book.author), joinedload(Book.author)).get(book_id)",
        "(await session.get(Book, book_id, options=[selectinload(Book.author), joinedload(Book.author)]))",
        frozenset(),
    ),
    (
        "get-keyword",
        "session.query(Book).get(ident=(1,))",
        "(await session.get(Book, ident=(1,)))",
        frozenset(),
    ),
    (
        "iterated-entity",
        "session.query(Book).filter(Book.price > 10)",
        "(await session.scalars(select(Book).where(Book.price > 10))).unique()",
        SELECT,
    ),
    (
        "iterated-columns",
        "session.query(Book.id, Book.title)",
        "(await session.execute(select(Book.id, Book.title)))",
        SELECT,
    ),
    (
        "session-attribute",
        "self.db.query(Book).all()",
        "(await self.db.scalars(select(Book))).unique().all()",
        SELECT,
    ),
    (
        # a helper's criteria built at run time: handed on as written
        "starred-criteria",
        "session.query(Book).filter(*conditions).filter_by(**keys).order_by(*order).first()",
        "(await session.scalars(select(Book).where(*conditions).filter_by(**keys).order_by(*order).limit(1))).first()",
        SELECT,
    ),
]


@pytest.mark.parametrize(
    ("name", "source", "expected", "imports"), MAPPINGS, ids=[case[0] for case in MAPPINGS]
)
def test_mapping(name: str, source: str, expected: str, imports: frozenset[tuple[str, str]]) -> None:
    assert_parses_in_async_def(expected)
    result = rewritten(source, "self.db" if source.startswith("self.db") else "session")
    assert code(result.expression) == expected
    assert result.imports == imports
    if name.startswith("iterated"):
        assert result.note is not None and result.note.startswith("iterated directly")
    else:
        assert result.note is None


def test_rewrite_query_docstring_example() -> None:
    doc = inspect.getdoc(legacy_query.rewrite_query) or ""
    before = doc.split("Before::")[1].split("After::")[0].strip().splitlines()
    after = doc.split("After::")[1].split("\n\n")[1].strip().splitlines()
    assert len(before) == len(after) == 4
    for legacy, expected in zip(before, after):
        target, source = (part.strip() for part in legacy.split(" = ", 1))
        assert code(rewritten(source).expression) == expected.strip().split(" = ", 1)[1]
        assert expected.strip().startswith(f"{target} = ")


def test_delete() -> None:
    result = rewritten("session.query(Book).filter(Book.price < 10).filter_by(author_id=1).delete()")
    assert code(result.expression) == (
        "(await session.execute(delete(Book).where(Book.price < 10).filter_by(author_id=1))).rowcount"
    )
    assert result.imports == {("sqlalchemy", "delete")}
    assert result.note is not None
    assert 'defaults to synchronize_session="auto"' in result.note
    assert '"evaluate"' in result.note
    assert "after_bulk_delete" in result.note


def test_delete_keeps_synchronize_session() -> None:
    result = rewritten("session.query(Book).filter(Book.id == 1).delete(synchronize_session='fetch')")
    assert code(result.expression) == (
        "(await session.execute(delete(Book).where(Book.id == 1)"
        ".execution_options(synchronize_session='fetch'))).rowcount"
    )
    assert result.note is not None
    assert "kept through `.execution_options(synchronize_session=...)`" in result.note


def test_delete_positional_synchronize_session() -> None:
    result = rewritten("session.query(Book).delete(False)")
    assert code(result.expression) == (
        "(await session.execute(delete(Book).execution_options(synchronize_session=False))).rowcount"
    )


def test_update() -> None:
    result = rewritten("session.query(Book).filter(Book.author_id == 1).update({Book.price: Book.price + 1})")
    assert code(result.expression) == (
        "(await session.execute(update(Book).where(Book.author_id == 1)"
        ".values({Book.price: Book.price + 1}))).rowcount"
    )
    assert result.imports == {("sqlalchemy", "update")}
    assert result.note is not None and "after_bulk_update" in result.note


def test_update_keeps_synchronize_session() -> None:
    result = rewritten(
        "session.query(Book).filter_by(id=2).update(values={'title': t}, synchronize_session=False)"
    )
    assert code(result.expression) == (
        "(await session.execute(update(Book).filter_by(id=2).values({'title': t})"
        ".execution_options(synchronize_session=False))).rowcount"
    )


def test_local_names_are_used_and_not_imported() -> None:
    result = rewritten(
        "session.query(Book).filter(Book.price > 1).count()", names={"select": "sa.select", "func": "sa.func"}
    )
    assert code(result.expression) == (
        "(await session.scalar(sa.select(sa.func.count()).select_from(Book).where(Book.price > 1)))"
    )
    assert result.imports == frozenset()


def test_local_func_name_marks_a_column() -> None:
    result = rewritten("session.query(F.max(Book.price)).scalar()", names={"func": "F"})
    assert code(result.expression) == (
        "(await session.execute(select(F.max(Book.price)))).scalar_one_or_none()"
    )
    assert result.imports == SELECT


def test_comments_and_layout_inside_arguments_are_kept() -> None:
    source = """(
    session.query(Book)  # every book
    .filter(
        Book.price > 10,  # the expensive ones
    )
    .order_by(Book.title)
    .all()
)"""
    result = rewritten(source)
    assert code(result.expression) == """(
    (await session.scalars(select(Book)  # every book
    .where(
        Book.price > 10,  # the expensive ones
    )
    .order_by(Book.title))).unique()
    .all()
)"""


def test_parenthesized_await_keeps_the_original_parentheses() -> None:
    result = rewritten("(\n    session.query(Book).get(1)\n)")
    assert code(result.expression) == "(\n    await session.get(Book, 1)\n)"


def test_is_query_chain() -> None:
    assert is_query_chain(cst.parse_expression("session.query(Book).filter(x).all()"), "session")
    assert is_query_chain(cst.parse_expression("session.query(Book)"), "session")
    assert is_query_chain(cst.parse_expression("self.db.query(Book).first()"), "self.db")
    assert is_query_chain(cst.parse_expression("(session).query(Book).all()"), "session")
    assert not is_query_chain(cst.parse_expression("other.query(Book).all()"), "session")
    assert not is_query_chain(cst.parse_expression("session.execute(stmt).all()"), "session")
    assert not is_query_chain(cst.parse_expression("session.query"), "session")
    assert not is_query_chain(cst.parse_expression("session.query(Book)[0]"), "session")


# -- blockers -------------------------------------------------------------------------

MANUAL = "rewrite by hand or keep the route on the sync path"

# (id, legacy source, expected message)
BLOCKERS = [
    (
        "with-entities",
        "session.query(Book).with_entities(Book.id).all()",
        f"`.with_entities()` has no exact 2.0 `select()` counterpart here: {MANUAL}",
    ),
    (
        "from-self",
        "session.query(Book).from_self().all()",
        "`.from_self()` has no exact 2.0 `select()` counterpart here (it wraps the query in a subquery and "
        "adapts every entity to it (2.0 spells that with `aliased(M, subquery)`)): " + MANUAL,
    ),
    (
        "yield-per",
        "session.query(Book).yield_per(100)",
        "`.yield_per()` has no exact 2.0 `select()` counterpart here (streaming under AsyncSession needs "
        "`await session.stream_scalars()` and an `async for` loop): " + MANUAL,
    ),
    (
        "populate-existing",
        "session.query(Book).populate_existing().all()",
        f"`.populate_existing()` has no exact 2.0 `select()` counterpart here: {MANUAL}",
    ),
    (
        "slice",
        "session.query(Book).slice(1, 3).all()",
        f"`.slice()` has no exact 2.0 `select()` counterpart here: {MANUAL}",
    ),
    (
        "exists",
        "session.query(Book).exists()",
        f"`.exists()` has no exact 2.0 `select()` counterpart here: {MANUAL}",
    ),
    (
        "union",
        "session.query(Book).union(session.query(Book)).all()",
        f"`.union()` has no exact 2.0 `select()` counterpart here: {MANUAL}",
    ),
    (
        "values",
        "session.query(Book).values(Book.id)",
        "`.values()` has no exact 2.0 `select()` counterpart here (`Query.values()` was removed in "
        f"SQLAlchemy 2.0): {MANUAL}",
    ),
    (
        "paginate",
        "session.query(Book).paginate(page=1)",
        "`.paginate()` has no exact 2.0 `select()` counterpart here (`.paginate()` is Flask-SQLAlchemy's, "
        f"not SQLAlchemy's): {MANUAL}",
    ),
    (
        "unknown-method",
        "session.query(Book).frobnicate().all()",
        "`.frobnicate()` is not a legacy Query method this codemod maps (it maps the methods `filter`, "
        "`filter_by`, `order_by`, `limit`, `offset`, `distinct`, `options`, `join`, `outerjoin`, `group_by`, "
        "`having`, `with_for_update`, `execution_options` and the terminals `all`, `first`, `one`, "
        f"`one_or_none`, `scalar`, `count`, `get`, `delete`, `update`): {MANUAL}",
    ),
    (
        "execution-options-streaming",
        "session.query(Book).execution_options(yield_per=10).all()",
        "`.execution_options(yield_per=...)`: AsyncSession buffers the whole result of `execute()`/`scalars()` "
        "(streaming needs `await session.stream(...)` and `async for`), and takes no isolation level on an "
        f"ORM statement; {MANUAL}",
    ),
    (
        "count-after-execution-options",
        "session.query(Book).execution_options(include_deleted=True).filter(Book.price > 1).count()",
        "`.count()` after `.execution_options()`: the options must stay on the counting statement "
        f"(`select(func.count()).select_from(...).execution_options(...)`), not on a subquery; {MANUAL}",
    ),
    (
        "get-after-execution-options",
        "session.query(Book).execution_options(include_deleted=True).get(1)",
        "`.get()` maps to `AsyncSession.get()` only directly on `query(M)`; here it follows "
        f"`.execution_options()`: {MANUAL}",
    ),
    (
        # `Query.join(*props)` took several targets before 2.0; `Select.join()` takes one
        "star-args-in-join",
        "session.query(Book).join(*targets).all()",
        f"`*args`/`**kwargs` in `.join()`: the arguments cannot be checked statically; {MANUAL}",
    ),
    (
        "double-star-in-filter",
        "session.query(Book).filter(**criteria).all()",
        f"`*args`/`**kwargs` in `.filter()`: the arguments cannot be checked statically; {MANUAL}",
    ),
    (
        "star-in-filter-by",
        "session.query(Book).filter_by(*fields).first()",
        f"`*args`/`**kwargs` in `.filter_by()`: the arguments cannot be checked statically; {MANUAL}",
    ),
    (
        "star-args-in-query",
        "session.query(*entities).all()",
        "`*args`/`**kwargs` in `session.query(*entities)`: the queried entities cannot be read "
        f"statically; {MANUAL}",
    ),
    (
        "query-without-entities",
        "session.query().all()",
        f"`session.query()` selects no entities: there is no `select()` to build from it; {MANUAL}",
    ),
    (
        "query-keyword",
        "session.query(Book, x=1).all()",
        f"keyword arguments to `session.query(Book, x=1)` have no `select()` counterpart; {MANUAL}",
    ),
    (
        "method-after-terminal",
        "session.query(Book).all().count(book)",
        "`.count()` is called on the result of `.all()`, which is not a Query: pass the `.all()` call "
        "itself to be rewritten",
    ),
    (
        "undecided-entity",
        "session.query(self.model).filter(self.model.id == 1).first()",
        "cannot tell whether `self.model` in `session.query(self.model)` is a mapped class or a column "
        "expression, and `.first()` depends on it (legacy Query returns objects for one mapped class but "
        f"Row tuples for columns, and de-duplicates rows holding mapped objects): {MANUAL}",
    ),
    (
        "undecided-entity-iterated",
        "session.query(model)",
        "cannot tell whether `model` in `session.query(model)` is a mapped class or a column expression, "
        "and iterating it depends on it (legacy Query returns objects for one mapped class but Row tuples "
        f"for columns, and de-duplicates rows holding mapped objects): {MANUAL}",
    ),
    (
        "filter-by-after-join",
        "session.query(Author).join(Author.books).filter_by(title='Dune').all()",
        "`.filter_by()` after `.join()`: `Query.filter_by()` reads the keywords on the last joined entity, "
        "SQLAlchemy 2.1's `Select.filter_by()` on every FROM entity (raising AmbiguousColumnError for shared "
        "names): write `.filter(Entity.attr == value)` instead, or keep the route on the sync path",
    ),
    (
        "filter-by-several-entities",
        "session.query(Author, Book).filter_by(id=1).all()",
        "`.filter_by()` on `session.query(Author, Book)`: `Query.filter_by()` reads the keywords on the "
        "first queried entity, SQLAlchemy 2.1's `Select.filter_by()` on every FROM entity, and these are "
        "not evidently the same class: write `.filter(Entity.attr == value)` instead, or keep the route on "
        "the sync path",
    ),
    (
        "filter-by-on-a-function",
        "session.query(func.max(Book.price)).filter_by(author_id=1).scalar()",
        "`.filter_by()` on `session.query(func.max(Book.price))`: `Query.filter_by()` reads the keywords on "
        "the first queried entity, SQLAlchemy 2.1's `Select.filter_by()` on every FROM entity, and these "
        "are not evidently the same class: write `.filter(Entity.attr == value)` instead, or keep the route "
        "on the sync path",
    ),
    (
        "count-after-with-for-update",
        "session.query(Book).with_for_update().count()",
        "`.count()` after `.with_for_update()`: `Query.count()` puts FOR UPDATE on both the counted "
        "subquery and the outer `SELECT count(*)` (which PostgreSQL rejects with an aggregate); no "
        f"`select()` form is the same statement; {MANUAL}",
    ),
    (
        "get-after-filter",
        "session.query(Book).filter(Book.id > 1).get(2)",
        "`.get()` maps to `AsyncSession.get()` only directly on `query(M)`; here it follows "
        f"`.filter()`: {MANUAL}",
    ),
    (
        "get-several-entities",
        "session.query(Book, Author).get(1)",
        f"`.get()` on `session.query(Book, Author)`: `AsyncSession.get()` takes one mapped class; {MANUAL}",
    ),
    (
        "get-without-key",
        "session.query(Book).get()",
        f"`.get()` takes exactly one primary key argument (`ident`); {MANUAL}",
    ),
    (
        "terminal-with-arguments",
        "session.query(Book).all(5)",
        f"`.all()` takes no arguments here; {MANUAL}",
    ),
    (
        "delete-after-join",
        "session.query(Book).join(Book.author).filter(Author.name == 'ann').delete()",
        "`.delete()` after `.join()`: only `.filter()` / `.filter_by()` criteria map onto a 2.0 `delete()` "
        f"statement; {MANUAL}",
    ),
    (
        "delete-after-limit",
        "session.query(Book).limit(1).delete()",
        "`.delete()` after `.limit()`: only `.filter()` / `.filter_by()` criteria map onto a 2.0 `delete()` "
        f"statement; {MANUAL}",
    ),
    (
        "delete-args",
        "session.query(Book).delete(delete_args={'mysql_limit': 1})",
        "`.delete(delete_args=...)` passes dialect arguments (and `preserve_parameter_order`) that need "
        f"`with_dialect_options()` / `ordered_values()` on the statement; {MANUAL}",
    ),
    (
        "update-args",
        "session.query(Book).update([(Book.title, 'x')], update_args={'preserve_parameter_order': True})",
        "`.update(update_args=...)` passes dialect arguments (and `preserve_parameter_order`) that need "
        f"`with_dialect_options()` / `ordered_values()` on the statement; {MANUAL}",
    ),
    (
        "update-without-values",
        "session.query(Book).update(synchronize_session=False)",
        f"`.update()` without values; {MANUAL}",
    ),
    (
        "update-unknown-keyword",
        "session.query(Book).update({'title': 'x'}, fetch=True)",
        f"`.update()` has no parameter `fetch`; {MANUAL}",
    ),
    (
        "delete-several-entities",
        "session.query(Book, Author).delete()",
        "`.delete()` on `session.query(Book, Author)`: a 2.0 `delete()` statement takes one mapped "
        f"class; {MANUAL}",
    ),
    (
        "nested-query-in-arguments",
        "session.query(Book).filter(Book.author_id.in_(session.query(Author.id))).count()",
        "a legacy `session.query(Author.id)` is nested in the arguments of `.filter()`: AsyncSession has no "
        f"`query()`, and a Query used as a subquery or value maps to a plain `select()`; {MANUAL}",
    ),
    (
        "not-a-query-chain",
        "session.execute(stmt).all()",
        "not a call chain rooted at `session.query(...)`",
    ),
]


@pytest.mark.parametrize(("source", "message"), [case[1:] for case in BLOCKERS], ids=[c[0] for c in BLOCKERS])
def test_blocker(source: str, message: str) -> None:
    assert blocked(source) == message


# -- precedence: the rewrite dropped where the call stood -------------------------------------


class _ReplaceChain(cst.CSTTransformer):
    """Rewrites legacy chains as a caller would: at the terminal call, or at the outermost call of a
    chain without terminal."""

    def __init__(self) -> None:
        self.depth = 0

    def visit_Call(self, node: cst.Call) -> None:
        if is_query_chain(node, "session"):
            self.depth += 1

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not is_query_chain(original, "session"):
            return updated
        self.depth -= 1
        assert isinstance(original.func, cst.Attribute)
        if original.func.attr.value not in QUERY_TERMINALS and (self.depth or not updated.deep_equals(original)):
            return updated
        result = rewrite_query(original, "session")
        assert isinstance(result, QueryRewrite), result
        return result.expression


def _rewrite_function(source: str) -> str:
    module = cst.parse_module(source).visit(_ReplaceChain())
    return module.code.replace("def ", "async def ", 1)


# (id, body of `def f(session)` using the legacy query, expected async body)
CONTEXTS = [
    (
        "after-not",
        "return not session.query(Book).filter(Book.id == 9).first()",
        "return not (await session.scalars(select(Book).where(Book.id == 9).limit(1))).first()",
    ),
    (
        "binary-operand",
        "return 1 + session.query(Book).count() * 2",
        "return 1 + (await session.scalar(select(func.count()).select_from(Book))) * 2",
    ),
    (
        "power",
        "return session.query(Book).count() ** 2",
        "return (await session.scalar(select(func.count()).select_from(Book))) ** 2",
    ),
    (
        "attribute-of-result",
        "return session.query(Book).get(1).title",
        "return (await session.get(Book, 1)).title",
    ),
    (
        "method-of-result",
        "return session.query(Book).filter(Book.id > 0).count().bit_length()",
        "return (await session.scalar(select(func.count()).select_from(Book).where(Book.id > 0)))"
        ".bit_length()",
    ),
    (
        "subscript-of-result",
        "return session.query(Book.title).order_by(Book.id).all()[1]",
        "return (await session.execute(select(Book.title).order_by(Book.id))).all()[1]",
    ),
    (
        "argument",
        "return sorted(session.query(Book.price).all(), reverse=True)",
        "return sorted((await session.execute(select(Book.price))).all(), reverse=True)",
    ),
    (
        "for-loop",
        "titles = []\n    for book in session.query(Book).filter(Book.price > 9):\n"
        "        titles.append(book.title)\n    return titles",
        "titles = []\n    for book in (await session.scalars(select(Book).where(Book.price > 9))).unique():\n"
        "        titles.append(book.title)\n    return titles",
    ),
    (
        "comprehension",
        "return [row.title for row in session.query(Book.title, Book.id)]",
        "return [row.title for row in (await session.execute(select(Book.title, Book.id)))]",
    ),
    (
        "rowcount-in-expression",
        "return session.query(Book).filter(Book.price < 10).delete() == 1",
        "return (await session.execute(delete(Book).where(Book.price < 10))).rowcount == 1",
    ),
]


@pytest.mark.parametrize(("body", "expected"), [case[1:] for case in CONTEXTS], ids=[c[0] for c in CONTEXTS])
def test_rewrite_in_context_is_valid_and_equivalent(body: str, expected: str) -> None:
    legacy = f"def f(session):\n    {body}\n"
    rewritten_source = _rewrite_function(legacy)
    assert rewritten_source == f"async def f(session):\n    {expected}\n"
    ast.parse(rewritten_source)
    legacy_namespace = dict(NAMESPACE)
    exec(legacy, legacy_namespace)
    async_namespace = dict(NAMESPACE)
    exec(rewritten_source, async_namespace)
    before = run_legacy(lambda session: legacy_namespace["f"](session))
    after = run_rewritten(async_namespace["f"])
    assert after == before


# -- real equivalence -------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    price: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


@event.listens_for(Session, "do_orm_execute")
def _min_price(state: Any) -> None:
    # A filter keyed on an execution option, as a soft-delete listener is on `include_deleted`: it
    # applies only while the statement run carries the option, so a rewrite dropping
    # `.execution_options(min_price=...)` returns other rows (the equivalence cases below).
    minimum = state.execution_options.get("min_price")
    if state.is_select and minimum is not None:
        state.statement = state.statement.options(with_loader_criteria(Book, Book.price >= minimum))


AUTHORS = [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}, {"id": 3, "name": "cid"}]
BOOKS = [
    {"id": 1, "title": "Dune", "price": 12, "author_id": 1},
    {"id": 2, "title": "Emma", "price": 8, "author_id": 1},
    {"id": 3, "title": "Faust", "price": 15, "author_id": 2},
    {"id": 4, "title": "Dune", "price": 9, "author_id": 2},
]

NAMESPACE: dict[str, Any] = {
    "Author": Author,
    "Book": Book,
    "select": select,
    "func": func,
    "delete": delete,
    "update": update,
    "joinedload": joinedload,
    "selectinload": selectinload,
    "aliased": aliased,
    # handed on starred (`.filter(*PRICEY)`, `.filter_by(**BY_AUTHOR)`), as a helper building its
    # criteria at run time does
    "PRICEY": [Book.price > 8, Book.id < 4],
    "BY_TITLE": [Book.title.desc(), Book.id],
    "BY_AUTHOR": {"author_id": 1},
    "NO_KEYS": {},
    "EAGER": [selectinload(Author.books)],
}


def _seed(connection: Any) -> None:
    Base.metadata.create_all(connection)
    connection.execute(insert(Author), AUTHORS)
    connection.execute(insert(Book), BOOKS)


def normalize(value: Any) -> Any:
    """A comparable picture of a query result: objects by identity and loaded state, rows as rows."""
    if isinstance(value, (Query, Result, ScalarResult)):
        return ["iterated", *[normalize(item) for item in value]]
    if isinstance(value, Row):
        return ("Row", *[normalize(item) for item in value])
    if isinstance(value, (list, tuple)):
        return [normalize(item) for item in value]
    if hasattr(value, "_sa_instance_state"):
        return _snapshot(value)
    return value


def _snapshot(obj: Any) -> tuple:
    """Identity, the loaded column values and the loaded relationships, read without any IO."""
    state = sa_inspect(obj)
    columns = tuple(
        (attr.key, obj.__dict__.get(attr.key, "<not loaded>")) for attr in state.mapper.column_attrs
    )
    related = []
    for relation in state.mapper.relationships:
        if relation.key in obj.__dict__:
            loaded = obj.__dict__[relation.key]
            if isinstance(loaded, list):
                related.append((relation.key, [sa_inspect(item).identity for item in loaded]))
            else:
                related.append((relation.key, None if loaded is None else sa_inspect(loaded).identity))
    return (type(obj).__name__, state.identity, columns, tuple(related))


class Outcome:
    """What a query did: its value, the session's identity map afterwards, the table afterwards.

    `sql` (the statements it emitted) is kept apart from equality: `.count()` legitimately
    emits different SQL.
    """

    def __init__(self, value: Any, identity_map: list, rows: list, sql: list[tuple[str, Any]]) -> None:
        self.value = value
        self.identity_map = identity_map
        self.rows = rows
        self.sql = sql

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and (self.value, self.identity_map, self.rows) == (
            other.value,
            other.identity_map,
            other.rows,
        )

    def __repr__(self) -> str:
        return f"Outcome({vars(self)!r})"


def _record(engine: Any) -> list[tuple[str, Any]]:
    """The SQL and parameters the engine runs from now on; column labels (`AS books_id`, legacy
    Query's label style, and references to them) are dropped so that statements compare by what
    they select and how."""
    statements: list[tuple[str, Any]] = []

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        statement = re.sub(r" AS \w+", "", statement)
        statement = re.sub(r"\b(anon_\d+)\.(?:authors|books)_(\w+)", r"\1.\2", statement)
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    return statements


TABLE = select(Book.id, Book.title, Book.price, Book.author_id).order_by(Book.id)


def _identity_map(session: Session) -> list:
    return sorted((_snapshot(obj) for obj in session.identity_map.values()), key=repr)


def run_legacy(run: Any, preload: bool = False) -> Outcome:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as connection:
        _seed(connection)
    with Session(engine) as session:
        kept = session.scalars(select(Book)).all() if preload else []  # noqa: F841 (strong references)
        sql = _record(engine)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LegacyAPIWarning)
                value = normalize(run(session))
        except Exception as error:  # the same exception must come out of the rewrite
            value = ("raises", type(error).__name__)
        sql = list(sql)
        outcome = Outcome(value, _identity_map(session), [tuple(row) for row in session.execute(TABLE)], sql)
    engine.dispose()
    return outcome


def run_rewritten(function: Any, preload: bool = False) -> Outcome:
    async def main() -> Outcome:
        engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        async with engine.begin() as connection:
            await connection.run_sync(_seed)
        async with AsyncSession(engine) as session:
            kept = (await session.scalars(select(Book))).all() if preload else []  # noqa: F841
            sql = _record(engine.sync_engine)
            try:
                value = normalize(await function(session))
            except Exception as error:
                value = ("raises", type(error).__name__)
            sql = list(sql)
            rows = [tuple(row) for row in await session.execute(TABLE)]
            outcome = Outcome(value, _identity_map(session.sync_session), rows, sql)
        await engine.dispose()
        return outcome

    return asyncio.run(main())


def compile_rewrite(expression: str) -> Any:
    namespace = dict(NAMESPACE)
    exec(f"async def rewritten(session):\n    return {expression}\n", namespace)
    return namespace["rewritten"]


EQUIVALENCE = [
    # rows
    "session.query(Author).filter(Author.name == 'ann').all()",
    "session.query(Book).filter_by(author_id=1).order_by(Book.title.desc()).all()",
    "session.query(Book).filter(Book.price > 8, Book.id < 4).order_by(Book.id).limit(2).offset(1).all()",
    "session.query(Author).join(Author.books).filter(Book.price > 0).order_by(Author.id).all()",
    "session.query(Author).filter(Author.id == Book.author_id).order_by(Author.id).all()",
    "session.query(Author).outerjoin(Author.books).order_by(Author.id).all()",
    "session.query(Author).options(joinedload(Author.books)).order_by(Author.id).all()",
    "session.query(Author).options(selectinload(Author.books)).order_by(Author.id).all()",
    "session.query(Author).options(selectinload(Author.books)).get(2)",
    "session.query(Book).options(joinedload(Book.author)).order_by(Book.id).all()",
    "session.query(Book.title).order_by(Book.id).all()",
    "session.query(Book.title).filter_by(author_id=2).all()",
    "session.query(Book.id, Book.title).filter_by(author_id=1).order_by(Book.id).all()",
    "session.query(Book.title, Book.price).filter(Book.price > 10).order_by(Book.id).all()",
    "session.query(Author, Book).join(Author.books).order_by(Book.id).all()",
    "session.query(Author, Book.title).join(Author.books).order_by(Book.id).all()",
    "session.query(Author.id).join(Author.books).order_by(Author.id).all()",
    "session.query(Book.title).distinct().order_by(Book.title).all()",
    "session.query(Book.author_id, func.count(Book.id)).group_by(Book.author_id)"
    ".having(func.count(Book.id) > 1).order_by(Book.author_id).all()",
    "session.query(aliased(Book)).order_by(Book.id).all()",
    "session.query(Book).filter(Book.id == 1).with_for_update().all()",
    "session.query(Book).filter(*PRICEY).order_by(*BY_TITLE).all()",
    "session.query(Book).filter_by(**BY_AUTHOR).order_by(Book.id).all()",
    "session.query(Book).filter_by(**NO_KEYS).order_by(Book.id).all()",
    "session.query(Author).options(*EAGER).order_by(Author.id).all()",
    "session.query(Book.author_id, func.count(Book.id)).group_by(*[Book.author_id]).order_by(Book.author_id).all()",
    "session.query(Book.title).distinct(*[]).order_by(Book.title).all()",
    # first
    "session.query(Book).filter_by(title='Dune').order_by(Book.price).first()",
    "session.query(Book).filter(Book.id > 90).first()",
    "session.query(Book).filter_by(**BY_AUTHOR).order_by(Book.price).first()",
    "session.query(Book.title, Book.id).order_by(Book.id.desc()).first()",
    "session.query(Book.title).order_by(Book.id).first()",
    "session.query(Author).options(joinedload(Author.books)).order_by(Author.id).first()",
    "session.query(Book).order_by(Book.id).limit(3).offset(2).first()",
    # one / one_or_none
    "session.query(Book).filter(Book.id == 2).one()",
    "session.query(Book).filter(Book.id == 99).one()",
    "session.query(Book).filter(Book.title == 'Dune').one()",
    "session.query(Author).join(Author.books).filter(Author.id == 1).one()",
    "session.query(Author).options(joinedload(Author.books)).filter(Author.id == 1).one()",
    "session.query(Book.title).filter(Book.id == 3).one()",
    "session.query(Book).filter(Book.id == 99).one_or_none()",
    "session.query(Book).filter_by(id=4).one_or_none()",
    "session.query(Author.name).join(Author.books).filter(Author.id == 1).one_or_none()",
    # scalar
    "session.query(func.count(Book.id)).scalar()",
    "session.query(Book.title).filter(Book.id == 3).scalar()",
    "session.query(Book.title).scalar()",
    "session.query(Book).filter(Book.id == 99).scalar()",
    "session.query(Book).filter(Book.id == 1).scalar()",
    "session.query(Author).join(Author.books).filter(Author.id == 1).scalar()",
    "session.query(Book.price, Book.title).filter(Book.id == 1).scalar()",
    # count
    "session.query(Book).count()",
    "session.query(Book).filter(Book.price > 10).count()",
    "session.query(Book).filter_by(title='Dune').count()",
    "session.query(Book).filter_by(**BY_AUTHOR).count()",
    "session.query(Book).filter(*PRICEY).count()",
    "session.query(Author).join(Author.books).count()",
    "session.query(Author).outerjoin(Author.books).count()",
    "session.query(Book).order_by(Book.id).limit(2).offset(1).count()",
    "session.query(Book.title).distinct().count()",
    "session.query(Book.author_id).group_by(Book.author_id).having(func.count() > 1).count()",
    "session.query(Author).options(joinedload(Author.books)).count()",
    "session.query(Book.title, Book.price).count()",
    "session.query(aliased(Book)).filter_by(author_id=1).count()",
    # execution options, read by a do_orm_execute listener
    "session.query(Book).execution_options(min_price=10).order_by(Book.id).all()",
    "session.query(Book).filter(Book.author_id == 2).execution_options(min_price=10).order_by(Book.id).first()",
    "session.query(Book.title).execution_options(min_price=13).scalar()",
    "session.query(Book).execution_options(min_price=10).order_by(Book.id)",
    # get
    "session.query(Book).get(2)",
    "session.query(Book).get(99)",
    "session.query(Author).get(ident=1)",
    # iterated directly
    "session.query(Book).filter(Book.price > 9).order_by(Book.id)",
    "session.query(Author).join(Author.books).order_by(Author.id)",
    "session.query(Book.id, Book.title).order_by(Book.id)",
    "session.query(Book.author_id).order_by(Book.author_id)",
]

# Bulk statements run with the books already loaded, so the identity map shows what
# synchronize_session did to them.
DML = [
    "session.query(Book).filter(Book.price < 10).delete()",
    "session.query(Book).filter_by(author_id=1).delete(synchronize_session='fetch')",
    "session.query(Book).filter(Book.id == 1).delete(synchronize_session=False)",
    "session.query(Book).filter(Book.author_id == 1).update({Book.price: Book.price + 1})",
    "session.query(Book).filter(Book.author_id == 2).update({'title': 'X'}, synchronize_session='fetch')",
    "session.query(Book).filter_by(title='Dune').update({Book.price: 0}, synchronize_session=False)",
    "session.query(Book).filter(Book.id > 90).delete()",
    "session.query(Book).filter(*PRICEY).delete(synchronize_session='fetch')",
    "session.query(Book).filter_by(**BY_AUTHOR).update({Book.price: 0})",
]


def _check_equivalent(source: str, preload: bool = False) -> tuple[Outcome, Outcome, QueryRewrite]:
    result = rewritten(source)
    before = run_legacy(lambda session: eval(source, {**NAMESPACE, "session": session}), preload)
    after = run_rewritten(compile_rewrite(code(result.expression)), preload)
    return before, after, result


@pytest.mark.parametrize("source", EQUIVALENCE)
def test_equivalent_results(source: str) -> None:
    before, after, _ = _check_equivalent(source)
    assert after == before
    if not source.endswith(".count()"):
        assert after.sql == before.sql  # the same SELECT, down to `LIMIT 1` for `.first()`


@pytest.mark.parametrize("source", DML)
def test_equivalent_bulk_statements(source: str) -> None:
    before, after, result = _check_equivalent(source, preload=True)
    assert after == before
    assert after.sql == before.sql
    assert isinstance(before.value, int)
    assert result.note is not None


def test_equivalence_cases_exercise_what_they_claim() -> None:
    """Guards the equivalence table against passing vacuously."""
    outcomes = {source: run_legacy(lambda s, src=source: eval(src, {**NAMESPACE, "session": s})).value
                for source in EQUIVALENCE}
    # duplicates that legacy Query removes and a plain select() would keep
    assert [entity[1] for entity in outcomes[EQUIVALENCE[3]]] == [(1,), (2,)]
    # joined eager loading populates the whole collection
    eager_first = "session.query(Author).options(joinedload(Author.books)).order_by(Author.id).first()"
    assert outcomes[eager_first][3] == (("books", [(1,), (2,)]),)
    # a single column comes back as Row tuples, not scalars
    assert outcomes["session.query(Book.title).order_by(Book.id).all()"][0] == ("Row", "Dune")
    # Query.scalar() raises for several rows
    assert outcomes["session.query(Book.title).scalar()"] == ("raises", "MultipleResultsFound")
    assert outcomes["session.query(Book).filter(Book.id == 99).one()"] == ("raises", "NoResultFound")
    assert outcomes["session.query(Author).join(Author.books).count()"] == 4
    # the listener reads the execution option: the books under 10 are left out, Faust alone is over 13
    priced = outcomes["session.query(Book).execution_options(min_price=10).order_by(Book.id).all()"]
    assert [book[1] for book in priced] == [(1,), (3,)]
    assert outcomes["session.query(Book.title).execution_options(min_price=13).scalar()"] == "Faust"


def test_reference_table_short_forms_are_not_exact() -> None:
    """Why the rewrite adds `.unique()`, `.limit(1)`, `execute()` for columns and `scalar_one_or_none()`."""
    joined = "session.query(Author).join(Author.books).order_by(Author.id).all()"
    legacy = run_legacy(lambda session: eval(joined, {**NAMESPACE, "session": session}))
    short = run_rewritten(
        compile_rewrite(
            "(await session.scalars(select(Author).join(Author.books).order_by(Author.id))).all()"
        )
    )
    assert len(short.value) == 4 and len(legacy.value) == 2

    eager = "session.query(Author).options(joinedload(Author.books)).filter(Author.id == 1).one()"
    assert run_legacy(lambda session: eval(eager, {**NAMESPACE, "session": session})).value[0] == "Author"
    short = run_rewritten(
        compile_rewrite(
            "(await session.scalars(select(Author).options(joinedload(Author.books))"
            ".where(Author.id == 1))).one()"
        )
    )
    assert short.value == ("raises", "InvalidRequestError")

    column = run_rewritten(
        compile_rewrite("(await session.scalars(select(Book.title).order_by(Book.id))).all()")
    )
    assert column.value[0] == "Dune"  # a scalar where legacy gives ("Row", "Dune")

    several = run_rewritten(compile_rewrite("await session.scalar(select(Book.title))"))
    assert several.value == "Dune"  # where legacy Query.scalar() raises MultipleResultsFound


# -- the ast reading scan uses to skip libcst for chains that map (codemods/phase2/legacy_clear.py) --

EDGES = [
    "session.query(self.model).all()",
    "session.query(self.model).filter_by(name='x').first()",
    "session.query(None).filter_by(author_id=1).all()",
    "session.query(True).all()",
    "session.query(Book, Author).filter_by(author_id=1).all()",
    "session.query(Book.id, Book.title).filter_by(author_id=1).all()",
    "session.query(Book).join(Book.author).filter_by(name='x').all()",
    "session.query(Book).options(selectinload(Book.author)).get(1)",
    "session.query(Book).options(selectinload(Book.author)).filter(Book.id == 1).get(1)",
    "session.query(Book).options().get(1)",
    "session.query(Book, Author).get(1)",
    "session.query(Book).get(1, ident=2)",
    "session.query(Book).get(ident=1)",
    "session.query(Book).get(key=1)",
    "session.query(Book).get(1, 2)",
    "session.query(Book).update({'title': 'x'}, update_args={})",
    "session.query(Book).update(synchronize_session=False)",
    "session.query(Book).delete('fetch', {})",
    "session.query(Book).order_by(Book.id).delete()",
    "session.query(Book).with_for_update().count()",
    "session.query(Book).count(1)",
    "session.query(cls).all()",
    "session.query(cls).first()",
    "session.query(cls, Book.id).first()",
    "session.query(func.count(Book.id)).scalar()",
    "session.query(Book.title.label('t')).all()",
    "session.query(-Book.price, Book.price * 2, not_(Book.id)).all()",
    "session.query(Book).filter(Book.id.in_([x for x in session.query(Book.id)])).all()",
    "session.query(Book).filter(lambda: session.query(Book)).all()",
    "session.query(*entities).all()",
    "session.query(Book, **options).all()",
    "session.query(Book).filter(**criteria).all()",
    "session.query().all()",
    "session.query(Book).all().count()",
    "session.query(Book).paginate(1, 10)",
    "other.query(Book).all()",
    "session.execute(stmt).all()",
]


def _chains() -> list[tuple[str, str]]:
    sources = [case[1] for case in MAPPINGS] + [case[1] for case in BLOCKERS] + EQUIVALENCE + DML + EDGES
    return [(source, "self.db" if source.startswith("self.db") else "session") for source in sources]


@pytest.mark.parametrize(("source", "session"), _chains())
@pytest.mark.parametrize("iterated", [True, False])
@pytest.mark.parametrize("mapped", [frozenset(), frozenset({"self.model", "cls"})])
def test_the_ast_reading_agrees_with_the_blocker(source: str, session: str, iterated: bool, mapped: frozenset[str]) -> None:
    from async_migrate.codemods.phase2.legacy_clear import clear

    assert clear(source, session, iterated, mapped) is (legacy_query.blocker(source, session, iterated, mapped) is None)


def test_the_ast_reading_clears_the_common_chains() -> None:
    from async_migrate.codemods.phase2.legacy_clear import clear

    assert clear("session.query(Book).filter(Book.title.ilike(p)).order_by(Book.title).all()", "session")
    assert not clear("session.query(Book).with_entities(Book.id).all()", "session")


def test_a_bulk_delete_whose_row_count_is_thrown_away_is_awaited_alone(project, app_files, cli) -> None:
    # A statement: no `(await session.execute(...)).rowcount` read for nothing.
    import textwrap

    from rules.conftest import PHASE2_HEAD
    from test_phase2_rules import MODELS

    route = """
        @router.delete("/cheap")
        def purge(session: session_dependency):
            session.query(Book).filter(Book.price < 10).delete()
            session.commit()
            return {"ok": True}


        @router.delete("/count")
        def purge_count(session: session_dependency):
            removed = session.query(Book).filter(Book.price < 10).delete()
            session.commit()
            return {"removed": removed}
    """
    root = project({
        **app_files, "api/__init__.py": "", "models.py": MODELS, "api/items.py": PHASE2_HEAD + textwrap.dedent(route),
    })
    diff = cli("phase2", root, "--subsystem", "api/items.py").stdout
    assert "+    await session.execute(delete(Book).where(Book.price < 10))\n" in diff, diff
    assert "+    removed = (await session.execute(delete(Book).where(Book.price < 10))).rowcount\n" in diff, diff
