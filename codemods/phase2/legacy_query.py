"""Rewrite legacy `Session.query()` chains into 2.0 `select()` statements under `AsyncSession`.

`AsyncSession` has no `query()`. A chain rooted at `<session>.query(...)` maps to a `select()`
statement run by an awaited session method, when the mapping is exact; anything else comes back
as a blocker message naming the method and the reason. The forms, and why they differ from the
short ones in the reference table: `rewrite_query`.

Over 500 lines: one rewrite, whose chain model serves parsing the chain, checking it and
writing its `select()` form.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from async_migrate.codemods.phase2.legacy_clear import Kind as _Kind
from async_migrate.codemods.phase2.legacy_clear import classify
from async_migrate.codemods.vocabulary.sqlalchemy import (
    QUERY_CARRIED,
    QUERY_LEGACY,
    QUERY_STARRED,
    QUERY_STREAMING_OPTIONS,
    QUERY_TERMINALS,
)

DML_FILTERS = frozenset({"filter", "filter_by"})
COUNT_DIRECT = frozenset({"filter", "filter_by", "join", "outerjoin"})
JOINS = frozenset({"join", "outerjoin"})

_MANUAL = "rewrite by hand or keep the route on the sync path"

# Why some well-known legacy methods stay blocked (the default reason is generic).
_REASONS: dict[str, str] = {
    "from_self": "it wraps the query in a subquery and adapts every entity to it (2.0 spells that "
    "with `aliased(M, subquery)`)",
    "yield_per": "streaming under AsyncSession needs `await session.stream_scalars()` and an "
    "`async for` loop",
    "values": "`Query.values()` was removed in SQLAlchemy 2.0",
    "paginate": "`.paginate()` is Flask-SQLAlchemy's, not SQLAlchemy's",
}

_SESSION_METHODS = ", ".join(f"`{name}`" for name in ("all", "first", "one", "one_or_none", "scalar", "count",
                                                     "get", "delete", "update"))


@dataclass(frozen=True)
class QueryRewrite:
    expression: cst.BaseExpression  # the full replacement, already awaited where needed
    imports: frozenset[tuple[str, str]]  # (module, name) to add, e.g. ("sqlalchemy", "select")
    note: str | None = None  # semantics differences worth reporting


def is_query_chain(node: cst.BaseExpression, session: str) -> bool:
    """True when node is a call chain rooted at `<session>.query(...)`."""
    return _Chain.parse(node, session) is not None


@functools.cache
def blocker(chain: str, session: str, iterated: bool = True, mapped: frozenset[str] = frozenset()) -> str | None:
    """Why a legacy chain, as written (`session.query(Book).all()`), cannot become a 2.0
    `select()` under AsyncSession; None when it can. `iterated`: the chain stands where it is
    only iterated (see `facts.Call.query_iterated`)."""
    expression = cst.parse_expression(f"({chain})").with_changes(lpar=(), rpar=())
    result = rewrite_query(expression, session, iterated=iterated, mapped=mapped)  # type: ignore[arg-type]
    return result if isinstance(result, str) else None


@functools.cache
def as_select(chain: str, session: str, mapped: frozenset[str] = frozenset()) -> str | None:
    """The 2.0 `select()` a legacy chain without a terminal method stands for
    (`session.query(Book).order_by(Book.id)` -> `select(Book).order_by(Book.id)`); None when it
    has a terminal method or cannot be mapped."""
    expression = cst.parse_expression(f"({chain})").with_changes(lpar=(), rpar=())
    parsed = _Chain.parse(expression, session)
    if parsed is None or parsed.terminal is not None:
        return None
    if mapped:
        parsed = replace(parsed, mapped=mapped)
    if parsed.check() is not None:
        return None
    return cst.Module([]).code_for_node(_Rewriter(parsed, _Names(None)).select())


def rewrite_query(
    node: cst.Call, session: str, names: Mapping[str, str] | None = None, iterated: bool = True,
    mapped: frozenset[str] = frozenset(), sqlmodel: bool = False,
) -> QueryRewrite | str:
    """Rewrite the OUTERMOST call of a legacy chain rooted at `<session>.query(...)` into its 2.0
    AsyncSession form, or return a blocker message (str) saying precisely what cannot be mapped
    and why.

    `names` maps the canonical names `select`, `func`, `delete`, `update` to the local names
    (possibly dotted, `sa.select`) to use; a canonical name it maps is taken as already
    available, so only unmapped names used by the rewrite appear in `imports`. `mapped`:
    dotted names the analysis knows hold a mapped class (`self.model`). `sqlmodel`: the Session is
    SQLModel's AsyncSession and `names` maps `select` to SQLModel's: objects are read with `exec()`.

    Before::

        book = session.query(Book).filter(Book.id == book_id).first()
        books = session.query(Book).filter_by(author_id=author_id).all()
        total = session.query(Book).filter(Book.price > 10).count()
        titles = session.query(Book.title).all()

    After::

        book = (await session.scalars(select(Book).where(Book.id == book_id).limit(1))).first()
        books = (await session.scalars(select(Book).filter_by(author_id=author_id))).unique().all()
        total = (await session.scalar(select(func.count()).select_from(Book).where(Book.price > 10)))
        titles = (await session.execute(select(Book.title))).all()

    Why the forms differ from the short ones in the reference table (each point is
    checked against a real database in tests/test_legacy_query.py):

    - `Query` de-duplicates rows that hold mapped objects (`Query._iter()` calls
      `.unique()` when the statement selects a mapped entity); a 2.0 result does not. A
      join, a joined eager load (`options(joinedload(...))` or `lazy="joined"` on the
      model) or an extra FROM pulled in by a filter repeats objects, and 2.0 even raises
      for joined eager collections without `.unique()`. So `.all()`, `.one()`,
      `.one_or_none()`, `.scalar()` and direct iteration add `.unique()` whenever a
      mapped entity is selected. `.first()` does not need it: de-duplication never
      changes the first row.
    - `Query.first()` adds `LIMIT 1` to the SQL; so does the rewrite (`.limit(1)`), since
      `AsyncSession` buffers whole results.
    - `query(M.col)` returns `Row` tuples, not scalars: only a single mapped entity is
      read with `scalars()`; columns go through `execute()`.
    - `Query.scalar()` is `one()` then the first column: it raises
      `MultipleResultsFound` for several rows, where `session.scalar()` returns the
      first one. The rewrite is `.scalar_one_or_none()` on the `execute()` result.
    - `Query.delete()` / `.update()` return the matched row count: the rewrite reads
      `.rowcount` of the result.
    - In SQLAlchemy 2.1, `Select.filter_by()` searches every FROM entity while
      `Query.filter_by()` uses the last joined entity (or the first one queried):
      `filter_by()` maps only where both agree: before any join, with every queried
      entity on one class (`query(M)`, `query(M.a, M.b)`).
    - A legacy query nested in the arguments (`.filter(M.id.in_(session.query(N.id)))`)
      blocks: it is not iterated, and `AsyncSession` has no `query()` to run it.
    """
    chain = _Chain.parse(node, session)
    if chain is not None and mapped:
        chain = replace(chain, mapped=mapped)
    if chain is None:
        return f"not a call chain rooted at `{session}.query(...)`"
    problem = chain.check()
    if problem is not None:
        return problem
    if chain.terminal is None and not iterated:
        # A Select is what a 2.0 Session keeps and extends: written that way on the synchronous
        # Session first (where it runs as it is), phase two then awaits where it is run.
        statement = cst.Module([]).code_for_node(_Rewriter(chain, _Names(names)).select())
        shown = f"here `{statement}`, " if len(statement) <= 80 else ""
        return (
            "the Query object itself is used (kept in a variable, passed, returned, sliced or "
            "extended later), not run by a terminal method or iterated where it is built: "
            f"AsyncSession has no Query to keep; build a `select()` instead ({shown}extended with "
            "`.where()` for `.filter()`), run it where it is used "
            f"(`{session}.scalars(stmt).all()` for objects, `{session}.execute(stmt).all()` for rows, "
            f"`.first()` as `.limit(1)` then `.first()`, `.count()` as "
            f"`{session}.scalar(select(func.count()).select_from(stmt.subquery()))`) and run phase two "
            "again; or keep the route on the sync path"
        )
    return _Rewriter(chain, _Names(names, sqlmodel)).rewrite()


def kept_head(
    node: cst.Call, session: str, names: Mapping[str, str] | None = None, mapped: frozenset[str] = frozenset(),
    sqlmodel: bool = False,
) -> QueryRewrite | str:
    """The head of a Query kept in a local name (`facts.QueryVar`): `session.query(Book).filter(x)`
    -> `select(Book).where(x)`, or why it cannot be written so."""
    chain = _Chain.parse(node, session)
    if chain is None:
        return f"not a call chain rooted at `{session}.query(...)`"
    chain = replace(chain, mapped=mapped)
    problem = chain.check()
    if problem is not None or chain.terminal is not None:
        return problem or "the chain has a terminal method"
    rewriter = _Rewriter(chain, _Names(names, sqlmodel))
    return rewriter.done(rewriter.select())


def kept_extension(node: cst.Call) -> cst.Call:
    """`q.filter(x).order_by(y)` on a kept name -> `q.where(x).order_by(y)`."""
    links: list[cst.Call] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        links.append(current)
        current = current.func.value
    rebuilt = current
    for link in reversed(links):
        attribute = link.func
        assert isinstance(attribute, cst.Attribute)
        name = attribute.attr.with_changes(value=QUERY_CARRIED[attribute.attr.value])
        rebuilt = link.with_changes(func=attribute.with_changes(value=rebuilt, attr=name))
    assert isinstance(rebuilt, cst.Call)
    return rebuilt


def kept_run(
    node: cst.Call, query: str, session: str, names: Mapping[str, str] | None = None,
    mapped: frozenset[str] = frozenset(), sqlmodel: bool = False,
) -> QueryRewrite | str:
    """A run of a Query kept in a local name, `q.offset(n).all()` -> `(await
    session.scalars(q.offset(n))).unique().all()`; `query` is the head's `session.query(...)`
    call as written, whose entities decide what the run returns."""
    head = _Chain.parse(cst.parse_expression(query), session)
    if head is None:
        return f"not a call chain rooted at `{session}.query(...)`"
    links: list[_Link] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        links.append(_Link(current.func.attr.value, current))
        current = current.func.value
    chain = _Chain(node, head.session, head.query, tuple(reversed(links)), mapped, base=current)
    problem = chain.check()
    if problem is not None or chain.terminal is None:
        return problem or "the chain has no terminal method"
    return _Rewriter(chain, _Names(names, sqlmodel)).rewrite()


@dataclass(frozen=True)
class _Link:
    name: str
    call: cst.Call


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain (parentheses ignored), else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def _classify(node: cst.BaseExpression, func_name: str = "func", mapped: frozenset[str] = frozenset()) -> _Kind:
    """Mapped class or column expression, read from the names: `legacy_clear.classify` on the
    expression's `ast` (an `await` in it parses; what else does not is undecided)."""
    try:
        tree = compile(
            f"({cst.Module([]).code_for_node(node)})", "<entity>", "eval",
            ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
    except (SyntaxError, ValueError):
        return _Kind.UNKNOWN
    return classify(tree.body, func_name, mapped)


class _Names:
    """Local names for the canonical sqlalchemy names, and the imports the rewrite needs."""

    def __init__(self, names: Mapping[str, str] | None, sqlmodel: bool = False) -> None:
        self.local = dict(names or {})
        self.used: set[str] = set()
        # `select` is SQLModel's, whose statement of one entity SQLModel's `exec()` runs for objects
        self.sqlmodel = sqlmodel

    def ref(self, canonical: str) -> cst.BaseExpression:
        self.used.add(canonical)
        return cst.parse_expression(self.local.get(canonical, canonical))

    def local_name(self, canonical: str) -> str:
        return self.local.get(canonical, canonical)

    def imports(self) -> frozenset[tuple[str, str]]:
        return frozenset(("sqlalchemy", name) for name in self.used if name not in self.local)


@dataclass(frozen=True)
class _Chain:
    """`<session>.query(...)` followed by method calls, innermost first."""

    outer: cst.Call
    session: cst.BaseExpression
    query: cst.Call
    links: tuple[_Link, ...]
    mapped: frozenset[str] = frozenset()  # dotted names known to hold a mapped class
    # A `select()` kept in a local name the links extend (`q` in `q.limit(5).all()`); `query` is
    # then the `session.query(...)` call that name was built from.
    base: cst.BaseExpression | None = None

    @classmethod
    def parse(cls, node: cst.BaseExpression, session: str) -> _Chain | None:
        links: list[_Link] = []
        current = node
        while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            attribute = current.func
            if attribute.attr.value == "query" and _dotted(attribute.value) == session:
                assert isinstance(node, cst.Call)
                return cls(node, attribute.value, current, tuple(reversed(links)))
            links.append(_Link(attribute.attr.value, current))
            current = attribute.value
        return None

    @property
    def session_name(self) -> str:
        return _dotted(self.session) or ""

    @property
    def entities(self) -> Sequence[cst.Arg]:
        return self.query.args

    @property
    def terminal(self) -> _Link | None:
        return self.links[-1] if self.links and self.links[-1].name in QUERY_TERMINALS else None

    @property
    def methods(self) -> tuple[_Link, ...]:
        return self.links[:-1] if self.terminal else self.links

    def described(self) -> str:
        return f"`{cst.Module([]).code_for_node(self.query)}`"

    def check(self) -> str | None:
        """The blocker that holds whatever the terminal, if any."""
        query = self.described()
        if any(arg.star for arg in self.query.args):
            return (
                f"`*args`/`**kwargs` in {query}: the queried entities cannot be read statically; {_MANUAL}"
            )
        if not self.query.args:
            return f"{query} selects no entities: there is no `select()` to build from it; {_MANUAL}"
        if any(arg.keyword is not None for arg in self.query.args):
            return f"keyword arguments to {query} have no `select()` counterpart; {_MANUAL}"
        for index, link in enumerate(self.links):
            if link.name in QUERY_TERMINALS and index != len(self.links) - 1:
                after = self.links[index + 1].name
                return (
                    f"`.{after}()` is called on the result of `.{link.name}()`, which is not a Query: "
                    f"pass the `.{link.name}()` call itself to be rewritten"
                )
            starred = {arg.star for arg in link.call.args if arg.star}
            if starred - QUERY_STARRED.get(link.name, frozenset()):
                return (
                    f"`*args`/`**kwargs` in `.{link.name}()`: the arguments cannot be checked "
                    f"statically; {_MANUAL}"
                )
            if link.name not in QUERY_TERMINALS and link.name not in QUERY_CARRIED:
                return _unsupported(link.name)
            streaming = next(
                (a.keyword.value for a in link.call.args
                 if link.name == "execution_options" and a.keyword is not None
                 and a.keyword.value in QUERY_STREAMING_OPTIONS),
                None,
            )
            if streaming is not None:
                return (
                    f"`.execution_options({streaming}=...)`: AsyncSession buffers the whole result of "
                    "`execute()`/`scalars()` (streaming needs `await session.stream(...)` and `async for`), "
                    f"and takes no isolation level on an ORM statement; {_MANUAL}"
                )
        return self.nested_query() or self.check_filter_by()

    def nested_query(self) -> str | None:
        """A legacy query inside the arguments (`.filter(M.id.in_(session.query(N.id)))`)."""
        for owner, call in (("query", self.query), *((link.name, link.call) for link in self.links)):
            finder = _FindQuery(self.session_name)
            for arg in call.args:
                arg.visit(finder)
            if finder.found is not None:
                inner = cst.Module([]).code_for_node(finder.found)
                return (
                    f"a legacy `{inner}` is nested in the arguments of `.{owner}()`: AsyncSession has no "
                    "`query()`, and a Query used as a subquery or value maps to a plain `select()`; "
                    + _MANUAL
                )
        return None

    def check_filter_by(self) -> str | None:
        joined = None
        for link in self.methods:
            if link.name in JOINS:
                joined = link.name
            elif link.name == "filter_by":
                if joined is not None:
                    return (
                        f"`.filter_by()` after `.{joined}()`: `Query.filter_by()` reads the keywords on the "
                        "last joined entity, SQLAlchemy 2.1's `Select.filter_by()` on every FROM entity "
                        "(raising AmbiguousColumnError for shared names): write "
                        "`.filter(Entity.attr == value)` instead, or keep the route on the sync path"
                    )
                if self.single_root() is None:
                    return (
                        f"`.filter_by()` on {self.described()}: `Query.filter_by()` reads the keywords on "
                        "the first queried entity, SQLAlchemy 2.1's `Select.filter_by()` on every FROM "
                        "entity, and these are not evidently the same class: write "
                        "`.filter(Entity.attr == value)` instead, or keep the route on the sync path"
                    )
        return None

    def single_root(self) -> str | None:
        """The one entity all queried expressions belong to (`M`, `M.a, M.b`, `self.model`,
        `aliased(M)`), if evident."""
        if len(self.entities) == 1:
            only = self.entities[0].value
            if _dotted(only) is not None or _classify(only, mapped=self.mapped) is _Kind.ENTITY:
                return cst.Module([]).code_for_node(only)
        roots = set()
        for arg in self.entities:
            kind = _classify(arg.value, mapped=self.mapped)
            if kind is _Kind.ENTITY:
                roots.add(_dotted(arg.value))
            elif kind is _Kind.COLUMN and isinstance(arg.value, cst.Attribute):
                roots.add(_dotted(arg.value.value))
            else:
                return None
        return roots.pop() if len(roots) == 1 and None not in roots else None


class _FindQuery(cst.CSTVisitor):
    """Finds the first `<session>.query(...)` call in a subtree."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.found: cst.Call | None = None

    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        if (
            self.found is None
            and isinstance(func, cst.Attribute)
            and func.attr.value == "query"
            and _dotted(func.value) == self.session
        ):
            self.found = node
        return self.found is None


def _unsupported(name: str) -> str:
    reason = _REASONS.get(name)
    detail = f" ({reason})" if reason else ""
    if name in QUERY_LEGACY:
        return f"`.{name}()` has no exact 2.0 `select()` counterpart here{detail}: {_MANUAL}"
    return (
        f"`.{name}()` is not a legacy Query method this codemod maps (it maps the methods "
        f"{', '.join(f'`{m}`' for m in QUERY_CARRIED)} and the terminals {_SESSION_METHODS}): {_MANUAL}"
    )


def _method(value: cst.BaseExpression, name: str, args: Sequence[cst.Arg] = ()) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=value, attr=cst.Name(name)), args=list(args))


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    tight = cst.SimpleWhitespace("")
    equal = cst.AssignEqual(whitespace_before=tight, whitespace_after=tight)
    return cst.Arg(value=value, keyword=cst.Name(name), equal=equal)


def _bind(call: cst.Call, params: Sequence[str]) -> dict[str, cst.Arg] | str:
    """Positional and keyword arguments of `call` by parameter name, or what does not fit."""
    bound: dict[str, cst.Arg] = {}
    for index, arg in enumerate(call.args):
        if arg.keyword is None:
            if index >= len(params):
                return f"takes at most {len(params)} positional argument(s)"
            bound[params[index]] = arg
        elif arg.keyword.value not in params:
            return f"has no parameter `{arg.keyword.value}`"
        elif arg.keyword.value in bound:
            return f"gets `{arg.keyword.value}` twice"
        else:
            bound[arg.keyword.value] = arg
    return bound


class _Rewriter:
    def __init__(self, chain: _Chain, names: _Names) -> None:
        self.chain = chain
        self.names = names
        self.kinds = [_classify(arg.value, names.local_name("func"), chain.mapped) for arg in chain.entities]

    def rewrite(self) -> QueryRewrite | str:
        terminal = self.chain.terminal
        if terminal is None:
            return self.iterated()
        if terminal.name not in ("get", "delete", "update") and terminal.call.args:
            return f"`.{terminal.name}()` takes no arguments here; {_MANUAL}"
        if terminal.name == "get":
            return self.get(terminal)
        if terminal.name in ("delete", "update"):
            return self.dml(terminal)
        if terminal.name == "count":
            return self.count()
        if terminal.name == "scalar":
            return self.scalar(terminal)
        if terminal.name == "first":
            return self.first(terminal)
        return self.rows(terminal)

    # -- building blocks ---------------------------------------------------------------

    def statement(self, start: cst.BaseExpression) -> cst.BaseExpression:
        """`start` followed by the carried methods, the user's arguments and layout kept."""
        statement = start
        for link in self.chain.methods:
            attribute = link.call.func
            assert isinstance(attribute, cst.Attribute)
            name = attribute.attr.with_changes(value=QUERY_CARRIED[link.name])
            statement = link.call.with_changes(func=attribute.with_changes(value=statement, attr=name))
        return statement

    def select(self) -> cst.BaseExpression:
        if self.chain.base is not None:
            return self.statement(self.chain.base)
        return self.statement(self.chain.query.with_changes(func=self.names.ref("select")))

    def awaited(self, method: str, *args: cst.BaseExpression | cst.Arg) -> cst.Await:
        if method == "scalars" and self.names.sqlmodel:
            # SQLModel's AsyncSession runs `scalars()` through the `execute()` it deprecates
            method = "exec"
        arguments = [arg if isinstance(arg, cst.Arg) else cst.Arg(value=arg) for arg in args]
        call = _method(self.chain.session, method, arguments)
        return cst.Await(expression=call, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    @staticmethod
    def then(value: cst.BaseExpression, name: str, terminal: _Link) -> cst.Call:
        """`value.name()`, in the layout of the original terminal call (`.all()` -> `.all()`)."""
        attribute = terminal.call.func
        assert isinstance(attribute, cst.Attribute)
        renamed = attribute.with_changes(value=value, attr=attribute.attr.with_changes(value=name))
        return terminal.call.with_changes(func=renamed, lpar=[], rpar=[])

    def done(self, expression: cst.BaseExpression, note: str | None = None) -> QueryRewrite:
        """Put the original call's parentheses (or fresh ones around an await) on the result."""
        outer = self.chain.outer
        if isinstance(expression, cst.Await):
            if outer.lpar:
                expression = expression.with_changes(lpar=outer.lpar, rpar=outer.rpar)
        else:
            expression = expression.with_changes(lpar=outer.lpar, rpar=outer.rpar)
        return QueryRewrite(expression, self.names.imports(), note)

    def undecided(self, terminal: str) -> str:
        unknown = next(arg for arg, kind in zip(self.chain.entities, self.kinds) if kind is _Kind.UNKNOWN)
        code = cst.Module([]).code_for_node(unknown.value)
        return (
            f"cannot tell whether `{code}` in {self.chain.described()} is a mapped class or a column "
            f"expression, and {terminal} depends on it (legacy Query returns objects for one mapped "
            "class but Row tuples for columns, and de-duplicates rows holding mapped objects): "
            f"{_MANUAL}"
        )

    def shape(self) -> tuple[str, bool] | None:
        """(`scalars` or `execute`, whether to de-duplicate), as legacy `Query._iter()` decides."""
        if _Kind.ENTITY in self.kinds:
            return ("scalars" if len(self.kinds) == 1 else "execute"), True
        if _Kind.UNKNOWN in self.kinds:
            return None
        return "execute", False

    # -- terminals --------------------------------------------------------------------

    def rows(self, terminal: _Link) -> QueryRewrite | str:
        shape = self.shape()
        if shape is None:
            return self.undecided(f"`.{terminal.name}()`")
        method, unique = shape
        result: cst.BaseExpression = self.awaited(method, self.select())
        if unique:
            result = _method(result, "unique")
        return self.done(self.then(result, terminal.name, terminal))

    def first(self, terminal: _Link) -> QueryRewrite | str:
        if len(self.kinds) == 1:
            if self.kinds[0] is _Kind.UNKNOWN:
                return self.undecided("`.first()`")
            method = "scalars" if self.kinds[0] is _Kind.ENTITY else "execute"
        else:
            method = "execute"
        limited = _method(self.select(), "limit", [cst.Arg(cst.Integer("1"))])
        return self.done(self.then(self.awaited(method, limited), "first", terminal))

    def scalar(self, terminal: _Link) -> QueryRewrite | str:
        shape = self.shape()
        if shape is None:
            return self.undecided("`.scalar()`")
        result: cst.BaseExpression = self.awaited("execute", self.select())
        if shape[1]:
            result = _method(result, "unique")
        return self.done(self.then(result, "scalar_one_or_none", terminal))

    def count(self) -> QueryRewrite | str:
        if any(link.name == "execution_options" for link in self.chain.methods):
            # `Query.count()` runs its options with the outer `SELECT count(*)`; a `select()` kept in a
            # name and counted through `.subquery()` would leave them inside, where neither the ORM
            # nor a `do_orm_execute` listener (`include_deleted=True`) reads them.
            return (
                "`.count()` after `.execution_options()`: the options must stay on the counting statement "
                "(`select(func.count()).select_from(...).execution_options(...)`), not on a subquery; "
                + _MANUAL
            )
        if any(link.name == "with_for_update" for link in self.chain.methods):
            return (
                "`.count()` after `.with_for_update()`: `Query.count()` puts FOR UPDATE on both the "
                "counted subquery and the outer `SELECT count(*)` (which PostgreSQL rejects with an "
                f"aggregate); no `select()` form is the same statement; {_MANUAL}"
            )
        count = cst.Call(func=cst.Attribute(value=self.names.ref("func"), attr=cst.Name("count")))
        counted = cst.Call(func=self.names.ref("select"), args=[cst.Arg(count)])
        direct = (
            self.chain.base is None  # a kept `select()` is counted whole, as `Query.count()` does
            and len(self.kinds) == 1
            and self.kinds[0] is _Kind.ENTITY
            and all(link.name in COUNT_DIRECT for link in self.chain.methods)
        )
        if direct:
            statement = self.statement(_method(counted, "select_from", [self.chain.entities[0]]))
        else:
            subquery = _method(self.select(), "subquery")
            statement = _method(counted, "select_from", [cst.Arg(subquery)])
        return self.done(self.awaited("scalar", statement))

    def get(self, terminal: _Link) -> QueryRewrite | str:
        # `query(M).options(o).get(pk)` (loader options, as an added eager load writes them)
        # is `get(M, pk, options=[o])`.
        options: list[cst.BaseElement] = []
        for link in self.chain.methods:
            if link.name != "options" or any(a.keyword is not None or a.star for a in link.call.args):
                break
            options += [cst.Element(a.value) for a in link.call.args]
        else:
            if options:
                return self.get_with(terminal, options)
        if self.chain.methods:
            return (
                f"`.get()` maps to `AsyncSession.get()` only directly on `query(M)`; here it follows "
                f"`.{self.chain.methods[-1].name}()`: {_MANUAL}"
            )
        if len(self.chain.entities) != 1:
            return (
                f"`.get()` on {self.chain.described()}: `AsyncSession.get()` takes one mapped class; "
                + _MANUAL
            )
        return self.get_with(terminal, [])

    def get_with(self, terminal: _Link, options: list[cst.BaseElement]) -> QueryRewrite | str:
        if len(self.chain.entities) != 1:
            return (
                f"`.get()` on {self.chain.described()}: `AsyncSession.get()` takes one mapped class; "
                + _MANUAL
            )
        bound = _bind(terminal.call, ("ident",))
        if isinstance(bound, str) or "ident" not in bound:
            return f"`.get()` takes exactly one primary key argument (`ident`); {_MANUAL}"
        entity = self.chain.entities[0]
        if entity.comma is cst.MaybeSentinel.DEFAULT:
            entity = entity.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        arguments: list[cst.BaseExpression | cst.Arg] = [entity, bound["ident"]]
        if options:
            ident = bound["ident"]
            arguments = [entity, ident.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
            arguments.append(cst.Arg(cst.List(_commas(options)), keyword=cst.Name("options"),
                                     equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                           whitespace_after=cst.SimpleWhitespace(""))))
        return self.done(self.awaited("get", *arguments))

    def dml(self, terminal: _Link) -> QueryRewrite | str:
        name = terminal.name
        other = next((link.name for link in self.chain.methods if link.name not in DML_FILTERS), None)
        if other is not None:
            return (
                f"`.{name}()` after `.{other}()`: only `.filter()` / `.filter_by()` criteria map onto a "
                f"2.0 `{name}()` statement; {_MANUAL}"
            )
        if len(self.chain.entities) != 1:
            return (
                f"`.{name}()` on {self.chain.described()}: a 2.0 `{name}()` statement takes one mapped "
                f"class; {_MANUAL}"
            )
        if name == "delete":
            params: tuple[str, ...] = ("synchronize_session", "delete_args")
        else:
            params = ("values", "synchronize_session", "update_args")
        bound = _bind(terminal.call, params)
        if isinstance(bound, str):
            return f"`.{name}()` {bound}; {_MANUAL}"
        extra = f"{name}_args"
        if extra in bound:
            return (
                f"`.{name}({extra}=...)` passes dialect arguments (and `preserve_parameter_order`) that need "
                f"`with_dialect_options()` / `ordered_values()` on the statement; {_MANUAL}"
            )
        statement = self.statement(self.chain.query.with_changes(func=self.names.ref(name)))
        if name == "update":
            if "values" not in bound:
                return f"`.update()` without values; {_MANUAL}"
            values = cst.Arg(value=bound["values"].value)
            statement = _method(statement, "values", [values])
        sync = bound.get("synchronize_session")
        if sync is not None:
            option = _keyword("synchronize_session", sync.value)
            statement = _method(statement, "execution_options", [option])
        rowcount = cst.Attribute(value=self.awaited("execute", statement), attr=cst.Name("rowcount"))
        return self.done(rowcount, self.dml_note(name, sync is not None))

    @staticmethod
    def dml_note(name: str, explicit: bool) -> str:
        events = "update" if name == "update" else "delete"
        if explicit:
            sync = "`synchronize_session` is kept through `.execution_options(synchronize_session=...)`"
        else:
            sync = (
                'ORM-enabled `' + name + '()` defaults to synchronize_session="auto", as `Query.' + name
                + '()` does on SQLAlchemy 2.x; on 1.x the Query default was "evaluate" (criteria it '
                'cannot evaluate in Python now fall back to "fetch" instead of raising)'
            )
        return (
            f"`.{name}()` rewritten as a bulk `{name}()` statement: {sync}; the legacy "
            f"`SessionEvents.after_bulk_{events}` and `QueryEvents.before_compile_{events}` listeners no "
            "longer fire (use `SessionEvents.do_orm_execute`); the value is still the matched row count "
            "(`.rowcount`)"
        )

    def iterated(self) -> QueryRewrite | str:
        shape = self.shape()
        if shape is None:
            return self.undecided("iterating it")
        method, unique = shape
        result: cst.BaseExpression = self.awaited(method, self.select())
        if unique:
            result = _method(result, "unique")
        kind = "objects" if method == "scalars" else "rows"
        note = (
            f"iterated directly: the chain has no terminal method, so it becomes the buffered result "
            f"of `{method}()` (it yields the same {kind}); this is only right where the Query was "
            "iterated (`for`, `list()`, a comprehension), not where the Query object itself is kept, "
            "returned or extended"
        )
        return self.done(result, note)


def _commas(elements: list[cst.BaseElement]) -> list[cst.BaseElement]:
    """`[a, b]`: a comma and a space between the elements, none after the last."""
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [e.with_changes(comma=space if i < len(elements) - 1 else cst.MaybeSentinel.DEFAULT)
            for i, e in enumerate(elements)]
