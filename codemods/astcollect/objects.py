"""Where a function's ORM objects come from: its queries, and what its names hold and it returns.

Phase two adds eager-load options to the query that loaded an object whose relationship is read
(`codemods/phase2/eager_flow.py`); that needs the data flow from the query to the read, or to
the value a route returns. This module records it per function as *terms*, plain tuples the
index follows across calls (the vocabulary: `read`).

Over 500 lines: the term vocabulary and the one walk that records it stay together, since
each term's reader (`eager_flow.py`) relies on how the walk spells it.
"""

from __future__ import annotations

import ast
import builtins
from enum import Enum
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import getters, handed_scopes
from async_migrate.codemods.astcollect.module import Collector
from async_migrate.codemods.astcollect.syntax import (
    dotted,
    last_name,
    may_name,
    own_nodes,
    string,
    walk_fields,
)
from async_migrate.codemods.vocabulary.fastapi import PAGINATORS
from async_migrate.codemods.vocabulary.sqlalchemy import ALIASED, LOADER_NAMES, NARROWING_NAMES, UNDEFER_NAMES

_BUILTINS = frozenset(dir(builtins))


class Term(str, Enum):
    """The tag of an object term (the first item of its tuple; the vocabulary: `read`). The
    facts keep the plain string; a `str`, as `HandlerKind`, compares equal to it."""

    LOAD = "load"
    NAME = "name"
    CALL = "call"
    ATTR = "attr"
    ITER = "iter"
    ITEM = "item"
    KEY = "key"
    TUPLE = "tuple"
    DICT = "dict"
    ANY = "any"
    ROW = "row"
    COLUMN = "column"
    BUILT = "built"
    PAGE = "page"
    NONE = "none"
    UNKNOWN = "?"

    def __str__(self) -> str:
        return self.value


UNKNOWN: tuple = ("?",)
UNKNOWN_NODE = ast.Constant(None)  # a value bound by unpacking, which `_module_aliases` does not read
NONE: tuple = ("none",)

# Result methods after `s.scalars(stmt)` / `s.execute(stmt)` that still yield the entities.
_ENTITY_STEPS = frozenset({"all", "first", "one", "one_or_none", "unique", "scalars", "scalar_one",
                           "scalar_one_or_none", "scalar"})
# Of those, the ones that turn `execute()` rows into entities.
_SCALAR_STEPS = frozenset({"scalars", "scalar_one", "scalar_one_or_none", "scalar"})
# Session methods whose result yields the entities of a one-entity select: SQLModel's
# `session.exec(select(M))` as `scalars`.
_SCALAR_LOADS = frozenset({"scalars", "scalar", "exec", "stream_scalars"})
# Session methods whose awaited result yields rows (`stream`: the same, iterated with `async for`).
_ROW_LOADS = frozenset({"stream", "execute"})
# Result methods that hand back one row, or the rows still (`fetchall`, `unique`).
_ROW_STEPS = {"first": "row", "one": "row", "one_or_none": "row", "fetchone": "row",
              "all": "rows", "fetchall": "rows", "unique": "rows", "tuples": "rows", "mappings": "rows"}
_QUERY_TERMINALS = frozenset({"all", "first", "one", "one_or_none", "get"})
_QUERY_STEPS = frozenset({"filter", "filter_by", "order_by", "limit", "offset", "distinct", "options", "join",
                          "outerjoin"})
_SELECTS = frozenset({"sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select",
                      "sqlalchemy.sql.expression.select", "sqlmodel.select", "sqlmodel.sql.expression.select"})
# Builtins that hand back (the elements of) their argument.
_PASSTHROUGH = frozenset({"list", "tuple", "sorted", "reversed", "set", "iter", "next"})


def read(
    collector: Collector,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    function: facts.Function,
    indexes: dict[int, int],
    local: frozenset[str],
    kept: dict[int, tuple[facts.QueryVar, ast.Call]] | None = None,
    written: dict[int, str] | None = None,
    own: OwnNodes | None = None,
    greenlet: list[ast.AST] | None = None,
) -> None:
    """Fill `function.loads`, `.holds`, `.results` and `.returned_terms`. `indexes`: id of a
    call's `func` -> the call's index (the collector's numbering); `local`: every local name of
    the function; `kept`: the runs of legacy Queries kept in a local name (`query_vars.read`);
    `written`: id of a returned value -> how `function.returned` spells it; `own`: the body's
    walk (`walk_own`), when the caller already made it; `greenlet`: the lambdas and nested
    functions that run on an awaited `run_sync`'s greenlet only (`body.greenlet_scopes`).

    The terms:

        ("load", n)              the n-th query of `facts.Function.loads`
        ("name", x)              a local name or parameter (see `holds`)
        ("call", i)              what the call with index i returns (a project function's `results`);
                                 in a method, the objects of a query on a Session its instance holds
                                 (`self.db.scalars(stmt)`: `facts.Function.held_loads[i]`)
        ("attr", t, a)           attribute `a` of t: `book.author`
        ("iter", t)              an element of t: `for b in books`, `[b for b in books]`
        ("item", t, i)           element i of a tuple t: `books, total = page(...)`
        ("key", t, k)            `t["k"]`
        ("tuple", (t, ...))      a tuple or list display
        ("dict", ((k, t), ...), open)   a dict display with string keys; open: it also has `**x`
                                 (a call's keywords, `Out(a=t, **x)`: x's term for one `**x`)
        ("any", (t, ...))        one of: `a if c else b`
        ("row", t)               a row of an awaited select of one entity t (a load, a held query's
                                 call): `row.Book`, `row[0]`, `row._mapping["Book"]`
                                 and `(book,) = row` are t; the result and its `all()` are
                                 ("tuple", (("row", t),)), its `first()` a row
        ("page", t)              a page of fastapi-pagination's `paginate(db, select(Book))`, whose
                                 `items` are the objects of t, the select's load
        ("built", n)             the n-th query of `facts.Function.built_loads`: its statement
                                 a project function builds (`s.scalars(by_id(pid))`)
        ("row", t0, t1, ...)     a row of a select of several: column k is tk (`("?",)`: no entity;
                                 `("column", i, k)` on a held Session: `Function.held_columns`)
        ("none",)                no object (`None`, a number, a string)
        ("?",)                   anything else: the flow cannot follow it

    Names bound in nested functions, lambdas and classes hold ("?",) as well: the outer
    function cannot tell which binding a read sees; but for the parameters of a nested function
    or lambda whose every value the body shows (`sorted(books, key=lambda b: ...)` holds ("iter",
    books) in `b`, `fmt(book)` holds `book` in `fmt`'s parameter: `handed_scopes.py`).
    """
    _Flow(collector, function, indexes, local, kept or {}, written or {}, greenlet or []).run(node, own)


class OwnNodes:
    """One walk of a function body outside nested scopes (`own_nodes`), with what it noted on
    the way: read by every reader of the function's own code, which would otherwise each walk
    the body again."""

    __slots__ = ("nodes", "stored", "callees", "statements", "writes", "scopes", "jumps", "tries")

    def __init__(self, body: list[ast.stmt]) -> None:
        self.stored: set[str] = set()
        self.callees: set[int] = set()
        self.statements: dict[str, list[ast.expr]] = {}
        # Among `nodes`, in their order, the few kinds some readers look for alone, which spares
        # those readers a pass over every node: the assignments, deletions and method calls (what
        # may write in place), the nested scopes, `break`/`continue`, and `try` statements.
        self.writes: list[Any] = []
        self.scopes: list[Any] = []
        self.jumps: list[Any] = []
        self.tries: list[Any] = []
        kinds: dict[type, list[Any]] = dict.fromkeys(_SCOPES, self.scopes)
        kinds.update(dict.fromkeys(_WRITES, self.writes))
        kinds.update(dict.fromkeys((ast.Break, ast.Continue), self.jumps))
        kinds.update(dict.fromkeys(_TRIES, self.tries))
        self.nodes = own_nodes(body, self.stored, self.callees, self.statements, self.writes, kinds)


class _Flow:
    def __init__(
        self, collector: Collector, function: facts.Function, indexes: dict[int, int], local: frozenset[str],
        kept: dict[int, tuple[facts.QueryVar, ast.Call]], written: dict[int, str], greenlet: list[ast.AST],
    ) -> None:
        self.collector = collector
        self.greenlet = {id(scope) for scope in greenlet}
        self.written = written
        self.function = function
        self.indexes = indexes
        self.local = local
        self.kept = kept
        self.statements: dict[str, list[ast.expr]] = {}  # name -> values assigned to it
        self.holds: dict[str, list[tuple]] = {}
        self.calls: dict[int, tuple] = {}  # id of a call -> its term: a query is recorded once
        self.stored_names: set[str] = set()  # names the body binds (`self` rebound: no instance)
        self._row_loads: dict[int, tuple | None] = {}  # id of an awaited rows query -> its row term
        self.top_level: set[int] = set()  # ids of the values the function body's own statements assign
        self._awaits: dict[int, ast.expr] = {}  # id of an awaited session call -> the `await` of it
        self._awaited: set[int] = set()  # ids of the calls an `await` the flow read awaits
        self._held: str | None = None  # a method's instance parameter, when the body does not rebind it
        self._heads: dict[int, int] = {}  # id of a load on a held Session -> index of the session call
        self._aliases: dict[str, list[ast.expr]] | None = None  # `_module_aliases`

    def run(self, node: ast.FunctionDef | ast.AsyncFunctionDef, own: OwnNodes | None = None) -> None:
        # One walk of the body, which also notes what the pass below needs to know first.
        if own is None:
            own = OwnNodes(node.body)
        stored, callees, nodes = own.stored, own.callees, own.nodes
        self.stored_names = stored
        self.statements = own.statements
        self.top_level = {
            id(st.value) for st in node.body if isinstance(st, (ast.Assign, ast.AnnAssign)) and st.value is not None
        }
        # comprehension variables are local to the comprehension, yet read like locals here
        self.local = self.local | stored
        results: list[tuple] = []
        paired: list[tuple[str, tuple]] = []
        returns: list[ast.Return] = []
        receiver = _receiver(self.function)
        self._held = receiver if receiver is not None and receiver not in stored else None
        rebound = {name for name, values in self.statements.items() if len(values) > 1}
        reads: list[ast.Name] = []  # reads of such a name's attributes
        # the parameters of nested functions and lambdas whose every value the body shows, read once
        # the body's own terms are (a query is recorded in the order the walk meets it)
        scoped = handed_scopes.handed(node, nodes, self.local, own.scopes)
        filled: list[tuple[str, handed_scopes.Handed]] = []
        inside: dict[str, int] = {}  # the UNKNOWN terms a name got as bound in a nested scope
        for item in nodes:
            kind = type(item)
            if kind is ast.Name or kind is ast.Constant:
                continue  # the commonest nodes, and nothing below reads them on their own
            if kind is ast.Attribute:
                if rebound and type(item.value) is ast.Name and item.value.id in rebound:
                    reads.append(item.value)
                if id(item) not in callees:
                    self._chained(item)
                    if receiver is not None and _head(item.value) == receiver:
                        self._use(item.value, item.attr, "read")
                continue
            if kind is ast.Call:
                self._member_call(item, receiver)
                continue
            if kind is ast.FormattedValue:
                self._use(item.value, "__repr__" if item.conversion in (97, 114) else "__str__", "str")
                continue
            if kind not in _BINDS:
                continue  # most of the rest: no kind below
            if kind is ast.Assign:
                for target in item.targets:
                    self._bind(target, self.term(item.value))
            elif kind is ast.AnnAssign and item.value is not None:
                self._bind(item.target, self.term(item.value))
            elif kind is ast.AugAssign or kind is ast.NamedExpr:
                self._bind(item.target, UNKNOWN)
            elif kind is ast.For or kind is ast.AsyncFor:
                self._bind(item.target, ("iter", self.term(item.iter)))
            elif kind is ast.comprehension:
                self._bind(item.target, ("iter", self.term(item.iter)))
            elif kind is ast.With or kind is ast.AsyncWith:
                for with_item in item.items:
                    if with_item.optional_vars is not None:
                        self._bind(with_item.optional_vars, UNKNOWN)
            elif kind is ast.ExceptHandler and item.name:
                self.holds.setdefault(item.name, []).append(UNKNOWN)
            elif kind is ast.Return:
                returns.append(item)
                if item.value is not None:
                    results.append(self.term(item.value))
                    paired.append((self.written.get(id(item.value), ""), results[-1]))
            elif kind in _SCOPES:
                given = scoped.get(id(item), {})
                for name in _bound_inside(item):
                    if name in given:
                        filled.extend((name, value) for value in given[name])
                    else:
                        self.holds.setdefault(name, []).append(UNKNOWN)
                        inside[name] = inside.get(name, 0) + 1
        for name, (how, value) in filled:
            term = self.term(value)
            if how != "iter" and term == ("name", name):
                continue  # `[fmt(u) for u in users]` with `fmt = lambda u: ...`: `u` holds the outer `u`'s values
            self.holds.setdefault(name, []).append(("iter", term) if how == "iter" else term)
        if own.scopes:
            self._nested_uses(own.scopes)
        if reads:
            self._read_terms(reads)
        self._getters(nodes)
        self.function.holds = {name: tuple(dict.fromkeys(terms)) for name, terms in self.holds.items()}
        self.function.scoped_only = tuple(name for name, count in inside.items() if len(self.holds[name]) == count)
        self.function.results = tuple(dict.fromkeys(results))
        self.function.returned_terms = tuple(paired)
        if returns and not self.function.is_generator:
            self.function.returns_select = self._returned_select(returns)

    def _returned_select(self, returns: list[ast.Return]) -> facts.Load | None:
        """The select of one entity every `return` builds (`return select(Project).where(...)
        .options(...)`), with its options as written, or None: a statement builder's, which the
        index hands the queries running what it returns (`facts.Load.builder`)."""
        found: list[facts.Load] = []
        for statement in returns:
            value = statement.value
            if value is None or type(value) is not ast.Call or not self._selects(value):
                return None
            root = _select_root(value)
            if root is None or len(root.args) != 1 or root.keywords or type(root.args[0]) is ast.Starred:
                return None
            load = self._entity(root.args[0], "select", "", -1, value)
            if load is None or load.receiver or load.model is None:
                return None
            load.options = self._chain_options(value)
            found.append(load)
        return found[0] if len({(load.model, load.options) for load in found}) == 1 else None

    def _nested_uses(self, scopes: list[Any]) -> None:
        """Model code the body's lambdas and nested functions run, and the chained reads they make
        (`p.user.posts`), on what they are handed
        (`sorted(users, key=lambda u: u.post_count())`, `def key(u): return u.describe()`): a key
        function runs where the body calls it, on the event loop under an AsyncSession, as the
        same call in the body would. Their parameters hold what `handed_scopes` shows, or what the
        flow cannot follow. The callables an awaited `run_sync` is given are left out where they
        run on its worker greenlet only, where the synchronous Session works."""
        outer = self.local
        try:
            for scope in scopes:
                if type(scope) is ast.ClassDef or id(scope) in self.greenlet:
                    continue
                self.local = outer | frozenset(_bound_inside(scope))
                walked = list(ast.walk(scope))
                callees = {id(item.func) for item in walked if isinstance(item, ast.Call)}
                for item in walked:
                    if isinstance(item, ast.Call):
                        self._member_call(item, None)
                    elif isinstance(item, ast.Attribute) and id(item) not in callees:
                        self._chained(item)  # `key=lambda p: len(p.user.posts)`
                    elif isinstance(item, ast.FormattedValue):
                        self._use(item.value, "__repr__" if item.conversion in (97, 114) else "__str__", "str")
        finally:
            self.local = outer

    def _getters(self, nodes: list[Any]) -> None:
        """`sorted(items, key=attrgetter("warehouse.city"))`: each name a getter reads, in turn, on
        what it is applied to (`getters.py`), as `uses` of `getattr` (`call` for `methodcaller`)."""
        source = self.collector.source
        if not (may_name(source, "attrgetter") or may_name(source, "methodcaller")):
            return  # no getter can be made in a module that never names one: most modules
        for line, written, target, how, use, names in getters.applied(nodes, self.local, self.statements):
            if target is None:
                term, receiver = UNKNOWN, f"{written}(…)"
            elif how == "iter":
                term, receiver = ("iter", self.term(target)), f"{_written(target)}[…]"
            else:
                term, receiver = self.term(target), _written(target)
            for name in names:
                self.function.uses.append((line, receiver, term, name, use))
                if not name:
                    break  # a name computed at run time: what it reads further is unknown too
                term, receiver = ("attr", term, name), f"{receiver}.{name}"

    def _read_terms(self, reads: list[ast.Name]) -> None:
        """`facts.Function.read_terms`: a name bound by plain assignments only (no loop target,
        unpacking, `with ... as`, nor a nested scope's binding, none of which `statements`
        records), and no parameter, read where only some of its bindings reach."""
        params = {p.name for p in self.function.params}
        line_of = self.collector.source.line_of
        found = self.function.read_terms
        for read in reads:
            name = read.id
            values = self.statements[name]
            if name in params or len(self.holds.get(name, ())) != len(values):
                continue
            reaching = self._reaching(values, read)
            if not reaching or len(reaching) == len(values):
                continue
            terms = tuple(dict.fromkeys(self.term(value) for value in reaching))
            term = terms[0] if len(terms) == 1 else ("any", terms)
            key = (line_of(read), name)
            known = found.get(key)
            found[key] = term if known is None or known == term else ("any", (known, term))

    def _chained(self, node: ast.Attribute) -> None:
        """`b.author.books`, `session.get(B, 1).author`, `get_book(s, 1).author`: a read on something
        that is not a bare name."""
        value = node.value
        if type(value) is ast.Name:
            return  # `facts.Function.attributes` has those
        head: ast.expr = value
        called = False  # `get_book(session, 1).author`: a read on what a call returns
        # `(await db.get(Book, 1)).author`: on what an awaited call returns
        while type(head) in (ast.Attribute, ast.Call, ast.Subscript, ast.Await):
            called = called or type(head) is ast.Call
            head = head.func if type(head) is ast.Call else head.value  # type: ignore[attr-defined]
        if type(head) is not ast.Name or head.id in ("self", "cls") or (head.id not in self.local and not called):
            return
        self.function.chains.append((node.lineno, _written(value), self.term(value), node.attr))

    def _use(self, value: ast.expr, member: str, how: str) -> None:
        """A use of `member` on `value` when `value` is rooted at a local name."""
        head = _head(value)
        if head is None or (head not in self.local and not _calls_in(value)):
            return
        line = getattr(value, "lineno", 0)
        self.function.uses.append((line, _written(value), self.term(value), member, how))

    def _member_call(self, node: ast.Call, receiver: str | None) -> None:
        func = node.func
        if type(func) is ast.Attribute:
            self._use(func.value, func.attr, "call")
            if func.attr in _LOG_METHODS:  # `logger.info("%s", book)` formats its arguments
                for argument in node.args[1:]:
                    self._use(argument, "__str__", "str")
                    self._use(argument, "__repr__", "str")
        elif type(func) is ast.Name and func.id not in self.local:
            if func.id in ("str", "format") and node.args:
                self._use(node.args[0], "__str__", "str")
            elif func.id == "repr" and node.args:
                self._use(node.args[0], "__repr__", "str")
            elif func.id == "print":
                for argument in node.args:
                    self._use(argument, "__str__", "str")
            elif func.id in ("getattr", "hasattr") and len(node.args) >= 2:
                self._use(node.args[0], string(node.args[1]) or "", "getattr")
        if receiver is None or (type(func) is ast.Name and func.id in _SAFE_CALLS and func.id not in self.local):
            return
        for argument in (*node.args, *(k.value for k in node.keywords)):
            value = argument.value if type(argument) is ast.Starred else argument
            if _head(value) == receiver and type(value) in (ast.Name, ast.Attribute, ast.Subscript):
                self._use(value, _written(func), "pass")

    def _bind(self, target: ast.expr, term: tuple) -> None:
        kind = type(target)
        if kind is ast.Name:
            self.holds.setdefault(target.id, []).append(term)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            for number, element in enumerate(target.elts):  # type: ignore[attr-defined]
                if type(element) is ast.Starred:
                    self._bind(element.value, UNKNOWN)
                else:
                    self._bind(element, ("item", term, number))
        elif kind is ast.Starred:
            self._bind(target.value, UNKNOWN)  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- terms

    def term(self, node: ast.expr) -> tuple:
        kind = type(node)
        if kind is ast.Await:
            self._awaited.add(id(node.value))  # type: ignore[attr-defined]
            rows = self._rows(node.value, True)  # type: ignore[attr-defined]
            return rows if rows is not None else self.term(node.value)  # type: ignore[attr-defined]
        if kind is ast.Name:
            if node.id not in self.local:  # type: ignore[attr-defined]
                return UNKNOWN
            reaching = self._awaited_results(node.id, node)  # type: ignore[attr-defined]
            if reaching is not None and len(reaching) < len(self.statements.get(node.id, ())):  # type: ignore[attr-defined]
                # a Result local bound again: only the queries whose result may reach this read
                terms = tuple(self.term(self._awaits[id(call)]) for call in reaching)
                return terms[0] if len(terms) == 1 else ("any", terms)
            return ("name", node.id)  # type: ignore[attr-defined]
        if kind is ast.Constant:
            return NONE
        if kind is ast.Attribute:
            return ("attr", self.term(node.value), node.attr)  # type: ignore[attr-defined]
        if kind is ast.Subscript:
            key = string(node.slice)  # type: ignore[attr-defined]
            if key is not None:
                return ("key", self.term(node.value), key)  # type: ignore[attr-defined]
            if type(node.slice) is ast.Constant and type(node.slice.value) is int:  # type: ignore[attr-defined]
                return ("item", self.term(node.value), node.slice.value)  # type: ignore[attr-defined]
            return ("iter", self.term(node.value))  # type: ignore[attr-defined]
        if kind is ast.Tuple or kind is ast.List or kind is ast.Set:
            return ("tuple", tuple(self.term(e) for e in node.elts))  # type: ignore[attr-defined]
        if kind is ast.Dict:
            pairs: list[tuple[str, tuple]] = []
            opened = False
            for key_node, value in zip(node.keys, node.values):  # type: ignore[attr-defined]
                key = string(key_node) if key_node is not None else None
                if key is None:
                    opened = True
                else:
                    pairs.append((key, self.term(value)))
            return ("dict", tuple(pairs), opened)
        if kind is ast.IfExp:
            return ("any", (self.term(node.body), self.term(node.orelse)))  # type: ignore[attr-defined]
        if kind is ast.ListComp or kind is ast.SetComp or kind is ast.GeneratorExp:
            return ("tuple", (self.term(node.elt),))  # type: ignore[attr-defined]
        if kind is ast.Call:
            return self._call(node)  # type: ignore[arg-type]
        return UNKNOWN

    def _paged(self, node: ast.Call) -> tuple | None:
        """`paginate(db, select(Book))` (fastapi-pagination, `PAGINATORS`) on a local Session name:
        ("page", t), t the term of the select's objects, a load of `function.loads` that takes
        loader options like a query's own. None for any other call, and where the page's items
        are not those objects (`transformer=`) or the arguments cannot be read (`**options`)."""
        func = node.func
        written = dotted(func) if type(func) in (ast.Name, ast.Attribute) else None
        if written is None or written.split(".")[0] in self.local:
            return None
        if self.collector.resolve(written, self.local) not in PAGINATORS:
            return None
        keywords = {k.arg: k.value for k in node.keywords}
        if None in keywords or "transformer" in keywords or any(type(a) is ast.Starred for a in node.args):
            return None
        # `conn` is sqlalchemy's first parameter, `session` sqlmodel's
        connection = node.args[0] if node.args else keywords.get("conn", keywords.get("session"))
        statement = node.args[1] if len(node.args) > 1 else keywords.get("query")
        if connection is None or statement is None or len(node.args) > 3:
            return None
        session = self._session_of(connection) if type(connection) is ast.Name else None
        if session is None:
            return None
        load = self._select_load(node, statement, session)
        if not isinstance(load, facts.Load):
            return None
        term = self._load_term(load)
        return None if term is None else (Term.PAGE.value, term)

    def _call(self, node: ast.Call) -> tuple:
        known = self.calls.get(id(node))
        if known is not None:
            return known
        found = self.calls[id(node)] = self._call_term(node)
        return found

    def _call_term(self, node: ast.Call) -> tuple:
        paged = self._paged(node)
        if paged is not None:
            return paged
        load = self._load(node)
        if load is not None:
            # a statement bound in branches (`if admin: stmt = select(X)` / `else: stmt = select(X).where(...)`)
            terms = [
                self._load_term(each, variant)
                for variant, each in enumerate(load if isinstance(load, list) else [load])
            ]
            if all(term is not None for term in terms):
                return terms[0] if len(terms) == 1 else ("any", tuple(terms))  # type: ignore[return-value]
        rows = self._rows(node)
        if rows is not None:
            return rows
        func = node.func
        if type(func) is ast.Name and func.id in _PASSTHROUGH and func.id not in self.local and len(node.args) == 1:
            return ("tuple", (("iter", self.term(node.args[0])),))
        index = self.indexes.get(id(func))
        if index is None:
            return UNKNOWN
        given = self._given_dict(node.args[0]) if node.args else None
        if given is not None:
            self.function.given_dicts[index] = given
        if node.keywords and not node.args:
            # `Report(owner=owner, total=n)`: if the callee is a schema class, what it holds is
            # what it was given (`codemods/phase2/eager_flow.py` decides); `**x` leaves it open
            pairs = tuple((k.arg, self.term(k.value)) for k in node.keywords if k.arg is not None)
            unpacked = [k.value for k in node.keywords if k.arg is None]
            # one `**x`: its term, whose items give the keys the call names not (a JSON column's
            # dict, `Out(**row.full_object)`, holds no ORM object); several: open, unread
            rest = self.term(unpacked[0]) if len(unpacked) == 1 else bool(unpacked)
            self.function.keywords[index] = ("dict", pairs, rest)
        return ("call", index)

    def _given_dict(self, node: ast.expr) -> tuple | None:
        """The dict term of a dict display with string keys (`{"id": a.id, "n": n}`) or a
        `dict(id=a.id, n=n)` call, whose values are all plain (`_plain`); None for anything else.
        Read without `term`, which records the queries of the calls it meets (once per node)."""
        keys: list[str | None]
        if isinstance(node, ast.Dict):
            keys = [string(k) if k is not None else None for k in node.keys]
            values = list(node.values)
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and "dict" not in self.local and not node.args and all(k.arg is not None for k in node.keywords)
        ):
            keys = [k.arg for k in node.keywords]
            values = [k.value for k in node.keywords]
        else:
            return None
        terms = [self._plain(v) for v in values]
        if None in keys or any(t is None for t in terms):
            return None
        return ("dict", tuple(zip(keys, terms)), False)

    def _plain(self, node: ast.expr) -> tuple | None:
        """A literal (no object), a local name, or an attribute chain on one, as its term."""
        kind = type(node)
        if kind is ast.Constant or kind is ast.JoinedStr:
            return NONE
        if kind is ast.Name:
            return ("name", node.id) if node.id in self.local else UNKNOWN  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            inner = self._plain(node.value)  # type: ignore[attr-defined]
            return None if inner is None else ("attr", inner, node.attr)  # type: ignore[attr-defined]
        return None

    # ---------------------------------------------------------------- loads

    def _load_term(self, load: facts.Load, variant: int = 0, position: int = 0) -> tuple | None:
        """The term of a query's objects: a load on a local Session is one of `function.loads`
        (`("load", n)`); one on a Session the instance holds is kept apart, in
        `function.held_loads`, under the index of the session call (`("call", i)`), and past the
        first column, or of another binding of the statement (`variant`), in
        `function.held_columns` (`("column", i, variant, position)`)."""
        if load.builder is not None:
            if "." in load.session or variant or position:
                return None
            self.function.built_loads.append(load)
            return ("built", len(self.function.built_loads) - 1)
        if "." not in load.session:
            self.function.loads.append(load)
            return ("load", len(self.function.loads) - 1)
        index = self._heads.get(id(load))
        if index is None:
            return None
        if variant or position:
            self.function.held_columns[(index, variant, position)] = load
            return ("column", index, variant, position)
        self.function.held_loads[index] = load
        return ("call", index)

    def _session_of(self, node: ast.expr, call: ast.Call | None = None) -> str | None:
        """The Session a query runs on: a local name (`db`), or in a method an attribute of its
        instance (`self.db`, spelled so), which `check` tells an AsyncSession by the class. With
        `call` (the query) awaited, a module-level name too (`await db.get(Book, 1)` on `db =
        SessionLocal()` at import, or imported): an AsyncSession the process shares, whose objects
        `check` follows by the name (`held_commits.module_sessions`); a synchronous one is never
        awaited, so its queries stay unread here as before."""
        if type(node) is ast.Name:
            if node.id in self.local:
                return node.id
            awaited = call is not None and (id(call) in self._awaited or id(call) in self._awaits)
            return node.id if awaited and node.id not in _BUILTINS else None
        held = self._held
        if held is not None and type(node) is ast.Attribute and type(node.value) is ast.Name and node.value.id == held:
            return f"{held}.{node.attr}"
        return None

    def _headed(self, load: Any, head: ast.Call) -> Any:
        """`load` (a Load, a list of them, or None), each noted as run by the session call `head`."""
        index = self.indexes.get(id(head.func))
        for each in load if isinstance(load, list) else [load] if load is not None else []:
            if index is not None:
                self._heads.setdefault(id(each), index)
        return load

    def _load(self, node: ast.Call) -> facts.Load | list[facts.Load] | None:
        """The query `node` runs on a local Session name, or in a method on a Session the
        instance holds as an attribute (`self.db.get(Book, 1)`)."""
        func = node.func
        if type(func) is not ast.Attribute:
            return None
        if self.kept and self.indexes.get(id(func)) in self.kept:
            # `q.offset(n).all()` on a Query kept in `q`: loaded by the head, where options go
            var, root = self.kept[self.indexes[id(func)]]
            if func.attr not in _QUERY_TERMINALS or func.attr == "get" or not root.args:
                return None
            return self._entity_load(node, root.args[0], "query", var.session, root, single=len(root.args) == 1)
        receiver = func.value
        session = self._session_of(receiver, node)
        if session is not None:
            if func.attr in ("get", "get_one") and node.args:
                return self._headed(self._entity_load(node, node.args[0], "get", session, node), node)
            if func.attr == "merge" and node.args and type(node.args[0]) is ast.Call:
                # `s.merge(Book(id=1, title=t))` hands back the persistent Book, loaded by key
                # (its `options=` as a get's) with none of its relationships
                return self._headed(self._entity_load(node, node.args[0].func, "merge", session, node), node)
            if func.attr in _SCALAR_LOADS and node.args:
                return self._headed(self._scalars_load(node, node.args[0], session, node), node)
            if type(receiver) is ast.Name and self._result_calls(receiver.id) is None:
                return None
        return self._chain_load(node, {})

    def _chain_load(self, node: ast.Call, chosen: dict[str, ast.Call]) -> facts.Load | list[facts.Load] | None:
        """`s.scalars(stmt).all()`, `s.execute(stmt).scalars().first()`, `s.query(M)...all()`, and on
        an AsyncSession `(await s.scalars(stmt)).one()`: the await only hands over the same result.
        `chosen`: the binding taken for a Result local bound to more than one awaited query."""
        steps: list[str] = []
        current: ast.expr = node
        while type(current) is ast.Call and type(current.func) is ast.Attribute:
            inner = current.func.value
            if type(inner) is ast.Attribute and self._session_of(inner) is not None:
                break  # `self.db.scalars(stmt)`: the query on a held Session
            if type(inner) is ast.Await:
                inner = inner.value
                self._awaited.add(id(inner))
            if type(inner) is ast.Name:
                # `result = await s.execute(stmt)` then `result.scalar_one()`: the Result the name
                # holds is the query's, consumed a statement later
                awaited = chosen.get(inner.id)
                if awaited is None:
                    bindings = self._result_calls(inner.id, inner)
                    if bindings is None:
                        break
                    if len(bindings) > 1:
                        # bound to several queries: the objects are those of any of them, each
                        # judged on its own (`("any", ...)`), never one taken for all
                        found: list[facts.Load] = []
                        for binding in bindings:
                            each = self._chain_load(node, {**chosen, inner.id: binding})
                            if each is None:
                                return None
                            found.extend(each if isinstance(each, list) else [each])
                        return found
                    awaited = bindings[0]
                inner = awaited
                if id(inner) in self._awaits:
                    self._awaited.add(id(inner))
            steps.append(current.func.attr)
            current = inner
        if type(current) is not ast.Call or type(current.func) is not ast.Attribute:
            return None
        head = current.func
        session = self._session_of(head.value, current)
        if session is None or not current.args:
            return None
        if head.attr == "query":
            if not (steps and steps[0] in _QUERY_TERMINALS and all(s in _QUERY_STEPS for s in steps[1:])):
                return None
            load = self._entity_load(node, current.args[0], "query", session, current, single=len(current.args) == 1)
            if load is not None:
                # the chain's own `.options(...)` say what loads with its objects, as a select's do
                load.options = self._chain_options(node)
            # on a held Session (`self.db.query(Item)...`) kept apart, as a held select is
            return self._headed(load, current) if "." in session else load
        if not all(step in _ENTITY_STEPS for step in steps):
            return None
        executes = head.attr == "execute" or head.attr in _ROW_LOADS
        if executes and not any(step in _SCALAR_STEPS for step in steps):
            return None  # rows, not entities
        if head.attr in _SCALAR_LOADS or executes:
            return self._headed(self._scalars_load(node, current.args[0], session, current), current)
        return None

    def _result_calls(self, name: str, at: ast.expr | None = None) -> list[ast.Call] | None:
        """The session calls whose result a local name holds, as `_awaited_results` finds them,
        or, when it finds none, as the synchronous form binds them (`results = s.exec(stmt)` then
        `results.all()`, SQLModel's tutorial): the objects are the same the query loads, and phase
        two awaits the call where it is bound."""
        awaited = self._awaited_results(name, at)
        return awaited if awaited is not None else self._awaited_results(name, at, synchronous=True)

    def _awaited_results(
        self, name: str, at: ast.expr | None = None, synchronous: bool = False
    ) -> list[ast.Call] | None:
        """The session calls whose awaited result a local name holds (`result = await
        db.execute(stmt)`), one a binding, when every binding is one; None otherwise. With `at`,
        a read of the name: only the bindings that may reach it. Only the awaited form, unless
        `synchronous`: then only the synchronous one (`_result_calls`), which `term` and `_rows`
        never read."""
        values = self.statements.get(name, []) if name in self.local else []
        if not values or name not in self.stored_names:
            return None
        if at is not None and len(values) > 1:
            values = self._reaching(values, at)
            if not values:
                return None  # a read no assignment reaches: of a parameter (`text = text.strip()`)
        calls: list[ast.Call] = []
        for value in values:
            call: ast.expr | None = value if synchronous else value.value if type(value) is ast.Await else None
            if type(call) is not ast.Call or type(call.func) is not ast.Attribute or not call.args:
                return None
            on = call.func.value  # `db` or a Session an instance holds, `self.db`
            on = on.value if type(on) is ast.Attribute else on
            if type(on) is not ast.Name or on.id == name or call.func.attr not in (
                "execute", *_SCALAR_LOADS, *_ROW_LOADS
            ):
                return None
            calls.append(call)
            if not synchronous:
                self._awaits[id(call)] = value
        return calls

    def _reaching(self, values: list[ast.expr], at: ast.expr) -> list[ast.expr]:
        """Of the values a name is assigned, those that may reach the read `at`: from the last
        one the function body assigns in a statement of its own (which every path runs) before
        the read, and any assigned in a nested block (a branch, a loop, whose next turn may
        reach a read above it)."""
        where = (at.lineno, at.col_offset)
        ordered = sorted(values, key=lambda v: (v.lineno, v.col_offset))
        # bound once its value is evaluated: a read inside the value sees the binding before it
        before = [v for v in ordered if (v.end_lineno or v.lineno, v.end_col_offset or 0) <= where]
        tops = [number for number, value in enumerate(before) if id(value) in self.top_level]
        reaching = before[tops[-1]:] if tops else before
        return reaching + [v for v in ordered if v not in before and id(v) not in self.top_level]

    def _rows(self, node: ast.expr, awaited: bool = False) -> tuple | None:
        """The rows term of an awaited select of one entity run for rows (`await db.stream(stmt)`,
        its `first()`, `all()`, a local holding it), or None. Only the awaited form, whose
        objects only an AsyncSession loads."""
        steps: list[str] = []
        current = node
        while type(current) is ast.Call and type(current.func) is ast.Attribute and not current.args \
                and not current.keywords and current.func.attr in _ROW_STEPS:
            steps.append(_ROW_STEPS[current.func.attr])
            current = current.func.value
            awaited = type(current) is ast.Await
            if awaited:
                current = current.value  # type: ignore[attr-defined]
        if type(current) is ast.Name:
            if not steps:
                return None  # the name's own term: what it holds
            heads = self._awaited_results(current.id, current)
            if heads is None or not all(h.func.attr in _ROW_LOADS for h in heads):  # type: ignore[attr-defined]
                return None
        elif type(current) is ast.Call and awaited:
            heads = [current]
        else:
            return None
        terms: list[tuple] = []
        for head in heads:
            func = head.func
            session = self._session_of(func.value, head) if type(func) is ast.Attribute else None
            if type(func) is not ast.Attribute or func.attr not in _ROW_LOADS or not head.args or session is None:
                return None
            if id(head) not in self._row_loads:  # its loads are recorded once
                self._row_loads[id(head)] = self._row_term(head, session)
            known = self._row_loads[id(head)]
            if known is None:
                return None
            terms.append(("tuple", (known,)))
        term = terms[0] if len(terms) == 1 else ("any", tuple(terms))
        # innermost step first: the result's rows, one of them, and nothing past a row
        for number, step in enumerate(reversed(steps)):
            if step == "row":
                if number != len(steps) - 1:
                    return None
                term = ("item", term, 0) if term[0] == "tuple" else ("any", tuple(("item", t, 0) for t in term[1]))
        return term

    def _scalars_load(
        self, node: ast.Call, statement: ast.expr, session: str, head: ast.Call
    ) -> facts.Load | list[facts.Load] | None:
        """The entities `scalars()` yields of the select `head` runs: of one entity, or awaited
        (an AsyncSession's, whose loads only `check` follows) of the first column of several."""
        awaited = id(head) in self._awaited
        load = self._select_load(node, statement, session, aliases=awaited)
        if load is None and awaited and self._width(statement) > 1:
            load = self._select_load(node, statement, session, position=0, aliases=True)
        return load

    def _row_term(self, head: ast.Call, session: str) -> tuple | None:
        """The term of a row of the select `head` runs: `("row", t)` for one entity, `("row", t0,
        t1, ...)` a column each for several (`("?",)` where no entity is named: `func.count(...)`).
        A statement name bound to several selects (`if flag: stmt = select(A, B)` / `else: ...`):
        `("any", (row, ...))`, a row of each, every one judged."""
        variants = self._variants(head.args[0])
        if variants is None:
            return None
        terms: list[tuple] = []
        for variant, (statement, derived) in enumerate(variants):
            term = self._variant_row(head, session, statement, derived, variant)
            if term is None:
                return None
            terms.append(term)
        return terms[0] if len(terms) == 1 else ("any", tuple(terms))

    def _variant_row(
        self, head: ast.Call, session: str, statement: ast.expr, derived: tuple[ast.expr, ...], variant: int
    ) -> tuple | None:
        load = self._headed(self._select_load(head, statement, session, derived, aliases=True), head)
        if isinstance(load, facts.Load):
            term = self._load_term(load, variant)
            return None if term is None else ("row", term)
        width = self._width(statement)
        if width < 2:
            return None
        columns: list[tuple] = []
        for position in range(width):
            each = self._headed(
                self._select_load(head, statement, session, derived, position=position, aliases=True), head
            )
            term = self._load_term(each, variant, position) if isinstance(each, facts.Load) else None
            columns.append(UNKNOWN if term is None else term)
        return ("row", *columns)

    def _variants(self, statement: ast.expr) -> list[tuple[ast.expr, tuple[ast.expr, ...]]] | None:
        """The selects a statement may be, each with the values built on it after (`stmt =
        stmt.where(...)`): itself, or for a local name every select bound to it that may reach
        the read (through what is built on it); None when the name is bound to anything else."""
        if type(statement) is not ast.Name or statement.id not in self.local:
            return [(statement, ())]
        values = self.statements.get(statement.id, [])
        roots = [v for v in values if self._selects(v) or self._builder(v) is not None]
        built = tuple(v for v in values if v not in roots)
        if not roots or not all(_chained_on(v, statement.id) for v in built):
            return None
        reaching = self._reaching_roots(values, statement, set())
        return [(root, built) for root in [r for r in roots if id(r) in reaching] or roots]

    def _reaching_roots(self, values: list[ast.expr], at: ast.expr, seen: set[int]) -> set[int]:
        """The ids of the selects among `values` that may reach the read `at`, directly or
        through a value built on the name (`stmt = stmt.where(...)`, read where it is built)."""
        found: set[int] = set()
        for value in self._reaching(values, at):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if self._selects(value) or self._builder(value) is not None:
                found.add(id(value))
            else:
                found |= self._reaching_roots(values, value, seen)
        return found

    def _select_load(
        self, node: ast.Call, statement: ast.expr, session: str, derived: tuple[ast.expr, ...] = (),
        position: int | None = None, aliases: bool = False, inline: ast.expr | None = None,
    ) -> facts.Load | list[facts.Load] | None:
        """The query of a select of one entity; with `position`, of the entity a select of
        several names in that column (`select(Book, Author)`: Author at 1). A statement name
        bound in branches: a load each (`aliases`: an awaited query, where an `aliased(Model)`
        entity is taken for its class). A statement built on such a name in the query's own
        argument (`s.exec(stmt.offset(n).limit(k))`, `inline`) selects what the name does: the
        options go where the name is bound, and those the chain writes count too."""
        if inline is None and type(statement) is ast.Call:
            name = _built_on_name(statement)
            if name is not None and name.id in self.local:
                inline, statement = statement, name
        if type(statement) is ast.Name and statement.id in self.local:
            variants = self._variants(statement)
            if variants is None:
                return None
            if len(variants) > 1:
                # Bound in branches: the query loads what one of them selects, each its own load
                # (the options go on every one of them).
                found = [
                    self._select_load(node, root, session, built, position, aliases, inline)
                    for root, built in variants
                ]
                loads = [load for load in found if isinstance(load, facts.Load)]
                return loads if len(loads) == len(variants) else None
            statement, derived = variants[0]
        root = _select_root(statement)
        if root is None or type(statement) is not ast.Call:
            return None
        builder = self._builder(statement) if position is None else None
        if builder is None and not self._selects(statement):
            return None
        if builder is None and ((len(root.args) != 1 if position is None else position >= len(root.args)) or root.keywords):
            return None
        index = self.indexes.get(id(statement.func))
        if index is None:
            return None
        if builder is not None:
            load: facts.Load | None = facts.Load(
                line=node.lineno, index=index, form="select", session=session, model=None, entity=f"{builder}()",
                builder=builder,
            )
        else:
            load = self._entity(root.args[position or 0], "select", session, index, node, aliases)
        if load is not None:
            # `stmt = stmt.options(...)` after the select counts where it runs on every path from
            # the select to the query: a statement of the body's own between them. One in a
            # branch may not have run, and one after the query has not.
            start = (statement.lineno, statement.col_offset)
            at = (node.lineno, node.col_offset)
            sure = [
                value for value in derived
                if id(value) in self.top_level and start < (value.lineno, value.col_offset) < at
            ]
            written = (statement, *sure, *(() if inline is None else (inline,)))
            named = [self._chain_options(value) for value in written]
            load.options = None if None in named else tuple(n for names in named for n in names or ())
        return load

    def _width(self, statement: ast.expr) -> int:
        """How many columns a select names (`select(Book, Author)`: 2), 0 when not known."""
        if type(statement) is ast.Name and statement.id in self.local:
            # bound in branches: as wide as every select it may be, when they agree
            widths = {self._width(root) for root in self.statements.get(statement.id, []) if self._selects(root)}
            return widths.pop() if len(widths) == 1 else 0
        root = _select_root(statement) if self._selects(statement) else None
        return len(root.args) if root is not None and not any(type(a) is ast.Starred for a in root.args) else 0

    def _builder(self, node: ast.expr) -> str | None:
        """The reference of the function a statement chain starts with a call of (`by_id(pid)`,
        `queries.active_users().where(...)`), when it is no select and no library's call: a
        statement builder, whose select the index reads off the function. None otherwise."""
        root = _select_root(node)
        written = dotted(root.func) if root is not None else None
        if written is None or written.split(".")[0] in self.local or self._selects(node):
            return None
        ref = self.collector.resolve(written, self.local)
        if ref is None or "." not in ref or ref.split(".")[0] in _LIBRARY_ROOTS:
            return None
        return ref

    def _selects(self, node: ast.expr) -> bool:
        root = _select_root(node)
        return root is not None and self.collector.resolve(dotted(root.func), self.local) in _SELECTS

    def _entity_load(
        self, node: ast.Call, entity: ast.expr, form: str, session: str, call: ast.Call, single: bool = True
    ) -> facts.Load | None:
        index = self.indexes.get(id(call.func))
        if index is None or not single:
            return None
        load = self._entity(entity, form, session, index, node)
        if load is not None and form in ("get", "merge"):
            given = next((k.value for k in call.keywords if k.arg == "options"), None)
            if given is None:
                load.options = () if len(call.args) < 3 and all(k.arg for k in call.keywords) else None
            elif type(given) in (ast.List, ast.Tuple):
                named = [self._option_paths(item) for item in given.elts]  # type: ignore[attr-defined]
                load.options = None if None in named else tuple(n for names in named for n in names or ())
        return load

    def _entity(
        self, entity: ast.expr, form: str, session: str, index: int, node: ast.Call, aliases: bool = False
    ) -> facts.Load | None:
        written = dotted(entity)
        if written is not None and written == _class_receiver(self.function):
            # `select(cls)` in a classmethod: the class the method is defined on (the index
            # treats a class with subclasses, which `cls` may also be, as unverified).
            return facts.Load(
                line=node.lineno, index=index, form=form, session=session,
                model=self.collector.resolve(self.function.qualname.rpartition(".")[0], frozenset()),
                entity=written, receiver=True,
            )
        if written is not None and aliases and (written in self.local or written in self._module_aliases()):
            aliased = self._aliased(written)
            if aliased is not None:
                # `b = aliased(Book)`: Book's objects, loaded with the options written on `b`
                model, name = aliased
                return facts.Load(
                    line=node.lineno, index=index, form=form, session=session, model=model, entity=written, alias=name
                )
        if written is None or written.split(".")[0] in self.local:
            return None
        return facts.Load(
            line=node.lineno,
            index=index,
            form=form,
            session=session,
            model=self.collector.resolve(written, self.local),
            entity=written,
        )

    def _aliased(self, name: str) -> tuple[str | None, str] | None:
        """(the class, the key of its rows' column) of a local name bound once to
        `aliased(Model)` (`""`: none, unless given `name=`)."""
        values = self.statements.get(name, []) if name in self.local else self._module_aliases().get(name, [])
        local = self.local if name in self.local else frozenset()
        value = values[0] if len(values) == 1 else None
        if type(value) is not ast.Call or not value.args or type(value.args[0]) is ast.Starred:
            return None
        if self.collector.resolve(dotted(value.func), local) not in ALIASED:
            return None
        model = dotted(value.args[0])
        if model is None or model.split(".")[0] in local:
            return None
        key = ""
        for keyword in value.keywords:
            if keyword.arg == "name":
                key = string(keyword.value) or ""
                if not key:
                    return None  # a name given at run time: its rows' key is not known
            elif keyword.arg is None:
                return None
        return self.collector.resolve(model, local), key

    def _module_aliases(self) -> dict[str, list[ast.expr]]:
        """The module's own names bound at its top level to a call of `aliased` (`BookAlias =
        aliased(Book)`), each with every value its top level assigns it."""
        if self._aliases is None:
            assigned: dict[str, list[ast.expr]] = {}
            for statement in self.collector.tree.body:
                if type(statement) is ast.Assign:
                    targets, value = statement.targets, statement.value
                elif type(statement) is ast.AnnAssign and statement.value is not None:
                    targets, value = [statement.target], statement.value
                else:
                    continue
                for target in targets:
                    for name in ast.walk(target):
                        if type(name) is ast.Name:
                            assigned.setdefault(name.id, []).append(value if target is name else UNKNOWN_NODE)
            self._aliases = {
                name: values for name, values in assigned.items()
                if any(type(v) is ast.Call and self.collector.resolve(dotted(v.func)) in ALIASED for v in values)
            }
        return self._aliases

    def _chain_options(self, node: ast.expr) -> tuple[tuple[str, str, bool], ...] | None:
        """What the `.options(...)` of a statement chain load (`select(A).where(...)
        .options(selectinload(A.b))`), as `_option_paths` says, or None when one of them is not
        read here."""
        found: list[tuple[tuple[str, str, bool], ...]] = []
        while type(node) is ast.Call and type(node.func) is ast.Attribute:
            if node.func.attr == "options":
                if node.keywords:
                    return None
                written: list[tuple[str, str, bool]] = []
                for item in node.args:
                    paths = self._option_paths(item)
                    if paths is None:
                        return None
                    written.extend(paths)
                found.append(tuple(written))
            node = node.func.value
        # walked from the outermost call in: in the order written, as SQLAlchemy applies them
        return tuple(option for written in reversed(found) for option in written)

    def _option_paths(self, node: ast.expr) -> tuple[tuple[str, str, bool], ...] | None:
        """What one loader option says of the query's own entities: (the entity, the attribute,
        whether it loads with the query) for the first step of its path, the one on an entity of
        the query (`selectinload(A.b).selectinload(B.c)`: A's b), and for each step past it the
        same on the objects the path leads to, the entity written `^A|b` (c along A's b). The
        entity is a class as `Load.model` resolves it, `=` and the name as written for a local
        one (an `aliased()` class), `""` any entity of the query (a wildcard `"*"`, a string
        path). `lazyload`, `raiseload` say it does not load; `defaultload` and the column
        narrowing ones say nothing of it. None for what is not an option written out."""
        steps: list[ast.Call] = []
        while type(node) is ast.Call:
            func = node.func
            name = last_name(func)
            if name not in _LOADING and name not in _PASSING and name not in _NOT_LOADING:
                return None
            steps.append(node)
            if type(func) is not ast.Attribute or type(func.value) is not ast.Call:
                break
            node = func.value
        if type(node) is not ast.Call:
            return None
        steps.reverse()  # from the query's entity outwards
        owner = ""
        first = steps[0]
        if last_name(first.func) == "Load":
            # `Load(Book).selectinload(Book.author)`: Book's, and a wildcard only Book's
            bound = dotted(first.args[0]) if len(first.args) == 1 else None
            if bound is None or len(steps) < 2:
                return None if bound is None else ()
            owner, first = self._owner(bound), steps[1]
        name = last_name(first.func)
        if (name not in _LOADING and name not in _NOT_LOADING and name != "defaultload") or not first.args:
            return ()
        item = _loaded_path(first.args[0])
        text = string(item)
        if text is not None:
            return () if name == "defaultload" else ((owner, text.split(".", 1)[0], name in _LOADING),)
        path = dotted(item)
        if path is None or "." not in path:
            return None
        head, _, attribute = path.rpartition(".")
        owner = self._owner(head)
        found = [] if name == "defaultload" else [(owner, attribute, name in _LOADING)]
        # the steps past it load on the objects the path leads to: `^` the entity, `|` the path
        # from it (`selectinload(Book.author).selectinload(Author.books)`: books along author)
        prefix = [attribute]
        for step in steps[steps.index(first) + 1:]:
            name = last_name(step.func)
            written = dotted(_loaded_path(step.args[0])) if step.args else None
            text = string(step.args[0]) if step.args else None
            attribute = text if text == "*" else written.rpartition(".")[2] if written and "." in written else ""
            if not attribute:
                break
            if name in _LOADING or name in _NOT_LOADING:
                found.append((f"^{owner}|{'/'.join(prefix)}", attribute, name in _LOADING))
            if attribute == "*":
                break
            prefix.append(attribute)
        return tuple(found)

    def _owner(self, written: str) -> str:
        """An option path's entity as `_option_paths` spells it."""
        if written.split(".")[0] in self.local or written.split(".")[0] in self._module_aliases():
            return f"={written}"
        return self.collector.resolve(written, self.local) or f"={written}"


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# Builtins that run no code of a model's own on the object they are given (`str`, `repr`,
# `format` and `getattr` are uses of their own).
_SAFE_CALLS = frozenset({"isinstance", "issubclass", "type", "id", "len", "hasattr", "getattr", "super", "str",
                         "repr", "format", "bool", "callable", "setattr", "vars"})


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _receiver(function: facts.Function) -> str | None:
    """The name of a method's instance parameter (`self`): reads on it are its object's."""
    if "." not in function.qualname or not function.params:
        return None
    if any(d.callee in ("staticmethod", "classmethod") for d in function.decorators):
        return None
    return function.params[0].name


def _class_receiver(function: facts.Function) -> str | None:
    """The class parameter (`cls`) of a classmethod defined directly in a module-level class."""
    owner = function.qualname.rpartition(".")[0]
    if not owner or "." in owner or not function.params:
        return None
    if not any(d.callee == "classmethod" for d in function.decorators):
        return None
    return function.params[0].name


def _head(node: ast.expr) -> str | None:
    """`book` in `book.author.books[0].title`, `book.describe().x`, `(await db.get(B, 1)).describe()`."""
    while type(node) in (ast.Attribute, ast.Call, ast.Subscript, ast.Await):
        node = node.func if type(node) is ast.Call else node.value  # type: ignore[attr-defined]
    return node.id if type(node) is ast.Name else None


def _select_root(node: ast.expr) -> ast.Call | None:
    """The innermost call of a chain: `select(X)` in `select(X).where(...).order_by(...)`."""
    while type(node) is ast.Call:
        func = node.func
        if type(func) is ast.Attribute and type(func.value) is ast.Call:
            node = func.value
            continue
        return node if dotted(func) is not None else None
    return None


# Top-level packages whose calls build no statement of the project's (`text(...)`, `func.now()`).
_LIBRARY_ROOTS = frozenset({"sqlalchemy", "sqlmodel", "builtins"})
# Options naming what loads with the query (`noload`: what never loads, yet never lazily).
_LOADING = LOADER_NAMES | UNDEFER_NAMES | {"noload"}
# Options that leave what they name to load on first read (`raiseload`: that read raises).
_NOT_LOADING = frozenset({"lazyload", "raiseload"})
# Options that load nothing of what they name, or only along a path another option ends.
_PASSING = NARROWING_NAMES | {"defaultload", "Load", "load_only", "defer", "selectin_polymorphic",
                              "with_loader_criteria"}


def _loaded_path(item: ast.expr) -> ast.expr:
    """`A.b` of `A.b.of_type(C)`, `A.b.and_(...)`: what the option loads."""
    while type(item) is ast.Call and type(item.func) is ast.Attribute and item.func.attr in ("of_type", "and_"):
        item = item.func.value
    return item


# Select methods that keep the entities it selects, and so the objects of its rows.
_KEEPING_STEPS = frozenset({
    "where", "filter", "filter_by", "order_by", "offset", "limit", "slice", "fetch", "options", "distinct",
    "join", "outerjoin", "join_from", "outerjoin_from", "group_by", "having", "execution_options",
    "with_for_update", "params",
})


def _built_on_name(node: ast.expr) -> ast.Name | None:
    """The name `stmt.offset(n).limit(k)` is built on, when every step keeps its entities."""
    if type(node) is not ast.Call:
        return None
    while type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _KEEPING_STEPS:
        node = node.func.value
    return node if type(node) is ast.Name else None


def _chained_on(node: ast.expr, name: str) -> bool:
    """`stmt.where(...).order_by(...)`: a statement built on `name`."""
    while type(node) is ast.Call and type(node.func) is ast.Attribute:
        node = node.func.value
    return type(node) is ast.Name and node.id == name


def _calls_in(node: ast.expr) -> bool:
    """Whether a call is written anywhere in node (at once for `name` and `name.attr.attr`,
    most of what `_use` is asked about)."""
    current = node
    while type(current) is ast.Attribute:
        current = current.value
    if type(current) is ast.Name:
        return False
    return any(type(item) is ast.Call for item in walk_fields(node))


def _written(node: ast.expr) -> str:
    """`ast.unparse(node)`, without its cost for the common shapes (`name.attr`, calls of
    those, comparisons and literals as their arguments): most chains are query calls."""
    written = _spelled(node)
    return written if written is not None else ast.unparse(node)


_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
                ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


def _spelled(node: ast.AST, argument: bool = False) -> str | None:
    """What `ast.unparse` spells for names, attributes, calls, and (as call arguments, where
    no parentheses are needed) starred values, comparisons and plain literals; None for the rest."""
    kind = type(node)
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        value = node.value  # type: ignore[attr-defined]
        if type(value) is ast.Constant:  # `1 .real`, `"a".join`: unparse's own spacing rules
            return None
        head = _spelled(value)
        return None if head is None else f"{head}.{node.attr}"  # type: ignore[attr-defined]
    if kind is ast.Call:
        head = _spelled(node.func)  # type: ignore[attr-defined]
        if head is None:
            return None
        parts: list[str] = []
        for item in node.args:  # type: ignore[attr-defined]
            spelled = _spelled(item, True)
            if spelled is None:
                return None
            parts.append(spelled)
        for keyword in node.keywords:  # type: ignore[attr-defined]
            spelled = _spelled(keyword.value, True)
            if spelled is None:
                return None
            parts.append(f"{keyword.arg}={spelled}" if keyword.arg is not None else f"**{spelled}")
        return f"{head}({', '.join(parts)})"
    if not argument:
        return None
    if kind is ast.Starred:
        inner = _spelled(node.value)  # type: ignore[attr-defined]
        return None if inner is None else f"*{inner}"
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if node.kind is None and (  # type: ignore[attr-defined]
            type(value) is int or type(value) is bool or value is None or (type(value) is str and value.isprintable())
        ):
            return repr(value)
        return None
    if kind is ast.Compare and len(node.ops) == 1:  # type: ignore[attr-defined]
        op = _COMPARISONS.get(type(node.ops[0]))  # type: ignore[attr-defined]
        left = _spelled(node.left)  # type: ignore[attr-defined]
        right = node.comparators[0]  # type: ignore[attr-defined]
        # `Book.stock > 0`: a plain literal compared needs no parentheses either
        right = _spelled(right, type(right) is ast.Constant)
        if op is None or left is None or right is None:
            return None
        return f"{left} {op} {right}"
    return None


# The nodes `_Flow.run` binds names or records results at.
_BINDS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.comprehension,
                    ast.With, ast.AsyncWith, ast.ExceptHandler, ast.Return, *_SCOPES})
# What may write a name, an item or an attribute in place, but for calls (`OwnNodes.writes`).
_WRITES = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)
_TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


def _bound_inside(scope: ast.AST) -> list[str]:
    """Names a nested function, lambda or class binds (its parameters included), in the order
    `ast.walk` meets them: a set's order would change with the interpreter's string hashing,
    and with it the order of `Function.holds` from one run to the next."""
    found: dict[str, None] = {}
    for item in ast.walk(scope):
        if isinstance(item, ast.arg):
            found[item.arg] = None
        elif isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
            found[item.id] = None
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        found.pop(scope.name, None)
    return list(found)
