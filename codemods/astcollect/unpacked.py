"""Keyword arguments a call receives through a `**` unpacking the analysis can read.

A decorator handing its Session to the function it wraps often fills the keywords dict
rather than writing the keyword (`kwargs["session"] = session; return func(*args, **kwargs)`,
`kwargs.setdefault("db", db)`, `kwargs.update(session=s)`), and a caller may spell the
keywords as a display (`helper(**{"db": db})`, `helper(**dict(db=db))`). Each such
string-keyed entry is an argument of the call under that keyword, as if written out: the
Session it carries reaches the parameter of that name. Fills anywhere in the scope of the
call count (before it or not): reading one too many hands the Session on, never one too few.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import FUNCTIONS, dotted, name_of, own_nodes, walk_fields


def read(node: ast.FunctionDef | ast.AsyncFunctionDef, raw_calls: list[tuple[facts.Call, ast.expr]]) -> None:
    """Add to each call of `raw_calls` that unpacks `**` the string-keyed entries read for it."""
    by_func = {id(func): call for call, func in raw_calls}
    for scope in _scopes(node):
        own = own_nodes(scope.body if isinstance(scope, FUNCTIONS) else [scope.body])  # type: ignore[attr-defined]
        calls = [n for n in own if type(n) is ast.Call and id(n.func) in by_func and _unpacks(n)]
        if not calls:
            continue
        fills = _fills(own)
        for call in calls:
            fact = by_func[id(call.func)]
            present = {arg.keyword for arg in fact.args if arg.keyword is not None}
            for keyword in call.keywords:
                if keyword.arg is not None:
                    continue
                for key, value in _entries(keyword.value, fills):
                    if key not in present:
                        present.add(key)
                        fact.args.append(facts.Arg(None, key, name_of(value), dotted(value)))


def _unpacks(call: ast.Call) -> bool:
    return any(keyword.arg is None for keyword in call.keywords)


def _scopes(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    for inner in walk_fields(node):
        if inner is not node and (isinstance(inner, FUNCTIONS) or type(inner) is ast.Lambda):
            yield inner


def _key(node: ast.AST) -> str | None:
    return node.value if type(node) is ast.Constant and type(node.value) is str else None


def _display(value: ast.AST) -> list[tuple[str, ast.expr]]:
    """The string-keyed entries of `{"k": v}` or `dict(k=v)`."""
    if type(value) is ast.Dict:
        return [(key, item) for k, item in zip(value.keys, value.values) if k is not None and (key := _key(k))]
    if type(value) is ast.Call and name_of(value.func) == "dict":
        return [(k.arg, k.value) for k in value.keywords if k.arg is not None]
    return []


def _fills(own: list[ast.AST]) -> dict[str, list[tuple[str, ast.expr]]]:
    """Local name -> the string-keyed entries its scope puts in it."""
    found: dict[str, list[tuple[str, ast.expr]]] = {}
    for node in own:
        kind = type(node)
        if kind is ast.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                if type(target) is ast.Subscript and type(target.value) is ast.Name:
                    key = _key(target.slice)
                    if key is not None:
                        found.setdefault(target.value.id, []).append((key, node.value))  # type: ignore[attr-defined]
                elif type(target) is ast.Name:
                    found.setdefault(target.id, []).extend(_display(node.value))  # type: ignore[attr-defined]
        elif kind is ast.AugAssign and type(node.target) is ast.Name:  # type: ignore[attr-defined]
            found.setdefault(node.target.id, []).extend(_display(node.value))  # type: ignore[attr-defined]
        elif kind is ast.Call and type(node.func) is ast.Attribute and type(node.func.value) is ast.Name:  # type: ignore[attr-defined]
            name, method = node.func.value.id, node.func.attr  # type: ignore[attr-defined]
            args = node.args  # type: ignore[attr-defined]
            if method == "setdefault" and len(args) == 2 and _key(args[0]) is not None:
                found.setdefault(name, []).append((_key(args[0]), args[1]))  # type: ignore[arg-type]
            elif method == "update":
                entries = [(k.arg, k.value) for k in node.keywords if k.arg is not None]  # type: ignore[attr-defined]
                for arg in args:
                    entries.extend(_display(arg))
                found.setdefault(name, []).extend(entries)
    return found


def _entries(value: ast.expr, fills: dict[str, list[tuple[str, ast.expr]]]) -> list[tuple[str, ast.expr]]:
    """The string-keyed entries a `**value` unpacking passes."""
    if type(value) is ast.Name:
        return fills.get(value.id, [])
    return _display(value)
