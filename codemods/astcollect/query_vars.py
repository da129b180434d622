"""Legacy Queries kept in a local name and extended before they run, read on `ast`.

    q = db.query(User)
    if name:
        q = q.filter(User.name == name)
    return q.offset(skip).limit(limit).all()

Phase two writes such a name as a 2.0 `select()` (the head and every extension) and runs it
where a terminal method ran the Query. That is only right when the name never holds anything
else and never leaves the function: one head assignment, first in the text; every other
assignment extends the name with the carried Query methods; every other read is the root of
a chain ending in a terminal method that returns rows or a count. Anything else (the name
passed, returned, iterated, read in a nested scope, a generator expression, an annotation on
it, `get()`/`delete()`/`update()` on it) records nothing, and the chain stays blocked as a
Query kept whole (AM213).
"""

from __future__ import annotations

import ast
from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import Source
from async_migrate.codemods.vocabulary.sqlalchemy import QUERY_CARRIED, QUERY_ROW_TERMINALS

# What a kept Query may be run by: rows or a count, never a Query again.
RUNS = QUERY_ROW_TERMINALS | {"scalar", "count"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.GeneratorExp)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp)


def read(
    source: Source, node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function, indexes: dict[int, int]
) -> dict[int, tuple[facts.QueryVar, ast.Call]]:
    """Record in `function.query_vars` every local name holding a legacy Query as above; return
    each run's call index -> (its name's record, the head's `X.query(...)` call), for the
    objects a run loads (`objects.py`).

    `indexes`: id of the called expression of an `ast.Call` in the body -> its `facts.Call.index`."""
    heads = {
        call.index: call for call in function.calls
        if call.query_chain is not None and call.receiver is not None and not call.query_iterated
    }
    runs: dict[int, tuple[facts.QueryVar, ast.Call]] = {}
    if not heads:
        return runs
    declared = {p.name for p in function.params}
    uses: dict[str, list[tuple[ast.Name, ast.AST | None, bool]]] = {}
    for name, parent, enclosed in _names(node.body):
        uses.setdefault(name.id, []).append((name, parent, enclosed))
    outermost: dict[int, ast.Call] | None = None
    for statement in ast.walk(node):
        if type(statement) is not ast.Assign or len(statement.targets) != 1:
            continue
        target, value = statement.targets[0], statement.value
        if type(target) is not ast.Name or type(value) is not ast.Call or target.id in declared:
            continue
        root = _root(value)
        if root is None or indexes.get(id(root.func)) not in heads:
            continue
        if outermost is None:
            outermost = _outermost(node)
        kept = _kept(source, target.id, statement, value, root, uses.get(target.id, []), outermost, indexes)
        if kept is not None:
            kept.session = heads[indexes[id(root.func)]].receiver or ""
            function.query_vars.append(kept)
            runs.update((run, (kept, root)) for run in kept.runs)
    return runs


def _names(body: list[ast.stmt]) -> list[tuple[ast.Name, ast.AST | None, bool]]:
    """Every `Name` in the body: (node, its parent, whether it sits in a nested scope or a
    comprehension's later parts, where an `await` or the local name would not be the same)."""
    found: list[tuple[ast.Name, ast.AST | None, bool]] = []
    stack: list[tuple[ast.AST, ast.AST | None, bool]] = [(s, None, False) for s in reversed(body)]
    while stack:
        current, parent, enclosed = stack.pop()
        if type(current) is ast.Name:
            found.append((current, parent, enclosed))
            continue
        if isinstance(current, (ast.Global, ast.Nonlocal)):
            for name in current.names:
                found.append((ast.Name(id=name, ctx=ast.Del()), current, True))
            continue
        inner = enclosed or isinstance(current, _SCOPES)
        children = list(ast.iter_child_nodes(current))
        if isinstance(current, _COMPREHENSIONS):
            # Only the first iterable runs in the enclosing scope.
            first = current.generators[0]
            rest = [n for n in children if n is not first] + [first.target, *first.ifs]
            stack.extend((n, current, True) for n in rest)
            stack.append((first.iter, first, inner))
            continue
        stack.extend((child, current, inner) for child in reversed(children))
    return found


def _root(value: ast.expr) -> ast.Call | None:
    """The `X.query(...)` call at the bottom of a chain with no terminal method, else None."""
    current: ast.expr = value
    while type(current) is ast.Call and type(current.func) is ast.Attribute:
        attribute = current.func
        if attribute.attr == "query" and type(attribute.value) is ast.Name:
            return current
        if attribute.attr not in QUERY_CARRIED:
            return None
        current = attribute.value
    return None


def _links(outer: ast.expr, name: str) -> tuple[list[str], ast.Name] | None:
    """The method names of a call chain rooted at the bare name `name`, innermost first."""
    links: list[str] = []
    current = outer
    while type(current) is ast.Call and type(current.func) is ast.Attribute:
        links.append(current.func.attr)
        current = current.func.value
    if type(current) is not ast.Name or current.id != name:
        return None
    return links[::-1], current


def _outermost(node: ast.AST) -> dict[int, ast.Call]:
    """id of a `Name` -> the outermost call of the method chain rooted at it (`q.a().b()`)."""
    found: dict[int, tuple[int, ast.Call]] = {}
    for call in ast.walk(node):
        if type(call) is not ast.Call:
            continue
        depth, current = 0, cast(ast.expr, call)
        while type(current) is ast.Call and type(current.func) is ast.Attribute:
            depth, current = depth + 1, current.func.value
        if type(current) is ast.Name and depth > found.get(id(current), (0, call))[0]:
            found[id(current)] = (depth, call)
    return {key: call for key, (_, call) in found.items()}


def _kept(
    source: Source, name: str, head: ast.Assign, value: ast.Call, root: ast.Call,
    uses: list[tuple[ast.Name, ast.AST | None, bool]], outermost: dict[int, ast.Call], indexes: dict[int, int],
) -> facts.QueryVar | None:
    target = head.targets[0]
    position = (target.lineno, target.col_offset)
    extended: list[tuple[ast.Call, str]] = []
    reads: list[ast.Name] = []
    for node, parent, enclosed in uses:
        if node is target:
            continue
        if enclosed or (node.lineno, node.col_offset) <= position:
            return None
        if type(node.ctx) is ast.Load:
            reads.append(node)
            continue
        if type(node.ctx) is not ast.Store or type(parent) is not ast.Assign or len(parent.targets) != 1:
            return None
        found = _links(parent.value, name)
        if found is None or not found[0] or any(link not in QUERY_CARRIED for link in found[0]):
            return None
        extended.append((parent.value, source.raw(parent.value)[len(name):]))  # type: ignore[arg-type]
    growing = {id(call) for call, _ in extended}
    ran: list[tuple[ast.Call, str]] = []
    for node in reads:
        outer = outermost.get(id(node))
        if outer is None:
            return None
        if id(outer) in growing:
            continue
        links = _links(outer, name)
        assert links is not None
        *carried, last = links[0]
        if last not in RUNS or any(link not in QUERY_CARRIED for link in carried):
            return None
        ran.append((outer, source.raw(outer)[len(name):]))
    if not ran or any(indexes.get(id(call.func)) is None for call, _ in extended + ran):
        return None
    methods = {link for call, _ in extended + ran for link in (_links(call, name) or ([], None))[0]}
    if "filter_by" in methods and methods & {"join", "outerjoin"}:
        return None  # which comes first may change from path to path (a loop), and it matters
    grown = "".join(text for _, text in extended)
    head_text = source.raw(value)
    return facts.QueryVar(
        name=name,
        session="",
        line=source.line_of(head),
        head=indexes[id(value.func)],
        root=indexes[id(root.func)],
        query=source.raw(root),
        extensions=tuple(indexes[id(call.func)] for call, _ in extended),
        runs=tuple(indexes[id(call.func)] for call, _ in ran),
        # Every extension, in the order written, before each run's own methods: a superset of
        # what any path runs, so a chain the tool can map here maps on every path (the order
        # of these methods matters only for `filter_by` after a join, left out above).
        chains=tuple(f"{head_text}{grown}{text}" for _, text in ran),
    )
