"""Whether a legacy `Session.query()` chain maps onto `select()` with nothing to block it, read on `ast`.

`legacy_query.blocker` answers on libcst, whose import alone costs a run more than the
rest of scan's legacy-query checks: this module answers the same question on Python's
`ast` for the chains it can judge, so a project whose legacy chains all map never imports
libcst for them. It only decides; every message (they quote the chain as written) still
comes from `legacy_query`. The decisions mirror `legacy_query` step by step (`_Chain.check`,
`rewrite_query`, `_Rewriter`): tests/test_legacy_query.py holds both to the same answer on
every chain it knows. Whether an entity is a mapped class or a column is one reading for both
(`classify`).
"""

from __future__ import annotations

import ast
import re
from enum import Enum

from async_migrate.codemods.vocabulary.sqlalchemy import (
    COLUMN_FUNCTIONS,
    COLUMN_METHODS,
    ENTITY_FUNCTIONS,
    QUERY_CARRIED,
    QUERY_STARRED,
    QUERY_STREAMING_OPTIONS,
    QUERY_TERMINALS,
)

_DML_FILTERS = frozenset({"filter", "filter_by"})
_JOINS = frozenset({"join", "outerjoin"})
_CAPWORDS = re.compile(r"_*[A-Z][A-Za-z0-9]*\Z")


class Kind(Enum):
    ENTITY = "mapped class"
    COLUMN = "column expression"
    UNKNOWN = "undecided"


def chain_blocker(chain: str, session: str, iterated: bool, mapped: frozenset[str]) -> str | None:
    """Why a legacy chain as written on `session` (a name, or a path such as `self.db`) cannot
    become a 2.0 `select()` (`legacy_query.blocker`); None when it maps."""
    # A chain that maps needs no libcst (its import costs more than the rest of this check)
    if clear(chain, session, iterated=iterated, mapped=mapped):
        return None
    from async_migrate.codemods.phase2.legacy_query import blocker

    return blocker(chain, session, iterated=iterated, mapped=mapped)


def clear(chain: str, session: str, iterated: bool = True, mapped: frozenset[str] = frozenset()) -> bool:
    """True when `legacy_query.blocker(chain, session, iterated, mapped)` is None: the chain maps.
    False when it blocks, or when this reading cannot tell (then ask `blocker`)."""
    try:
        node = ast.parse(f"({chain})", mode="eval").body
    except (SyntaxError, ValueError):
        return False
    links: list[tuple[str, ast.Call]] = []
    query: ast.Call | None = None
    current: ast.expr = node
    while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
        attribute = current.func
        if attribute.attr == "query" and _dotted(attribute.value) == session:
            query = current
            break
        links.append((attribute.attr, current))
        current = attribute.value
    if query is None:
        return False
    links.reverse()
    if not _plain_arguments(query) or not query.args or query.keywords:
        return False
    for index, (name, call) in enumerate(links):
        if name in QUERY_TERMINALS and index != len(links) - 1:
            return False
        if not _plain_arguments(call, QUERY_STARRED.get(name, frozenset())):
            return False
        if name not in QUERY_TERMINALS and name not in QUERY_CARRIED:
            return False
        if name == "execution_options" and any(k.arg in QUERY_STREAMING_OPTIONS for k in call.keywords):
            return False
    if any(_nested_query(call, session) for call in (query, *(call for _, call in links))):
        return False
    terminal = links[-1] if links and links[-1][0] in QUERY_TERMINALS else None
    methods = links[:-1] if terminal is not None else links
    entities = query.args
    if not _filter_by_maps(methods, entities, mapped):
        return False
    if terminal is None and not iterated:
        return False
    kinds = [classify(entity, "func", mapped) for entity in entities]
    if terminal is None:
        return _shape(kinds)
    name, call = terminal
    if name not in ("get", "delete", "update") and (call.args or call.keywords):
        return False
    if name == "get":
        return _get_maps(call, methods, entities)
    if name in ("delete", "update"):
        return _dml_maps(name, call, methods, entities)
    if name == "count":
        return not any(method in ("with_for_update", "execution_options") for method, _ in methods)
    if name == "first":
        return not (len(kinds) == 1 and kinds[0] is Kind.UNKNOWN)
    return _shape(kinds)  # scalar, and the row terminals


def _plain_arguments(call: ast.Call, stars: frozenset[str] = frozenset()) -> bool:
    """No `*args` / `**kwargs` (libcst's `Arg.star`) beyond the `stars` the method hands on."""
    return ("*" in stars or not any(isinstance(arg, ast.Starred) for arg in call.args)) and (
        "**" in stars or all(keyword.arg is not None for keyword in call.keywords)
    )


def _nested_query(call: ast.Call, session: str) -> bool:
    """A `<session>.query(...)` anywhere in the call's arguments."""
    for argument in (*call.args, *(keyword.value for keyword in call.keywords)):
        for node in ast.walk(argument):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "query"
                and _dotted(node.func.value) == session
            ):
                return True
    return False


def _filter_by_maps(methods: list[tuple[str, ast.Call]], entities: list[ast.expr], mapped: frozenset[str]) -> bool:
    joined = False
    for name, _ in methods:
        if name in _JOINS:
            joined = True
        elif name == "filter_by" and (joined or not _single_root(entities, mapped)):
            return False
    return True


def _single_root(entities: list[ast.expr], mapped: frozenset[str]) -> bool:
    """Whether all queried expressions evidently belong to one entity (`_Chain.single_root`)."""
    if len(entities) == 1:
        only = entities[0]
        if _dotted(only) is not None or classify(only, mapped=mapped) is Kind.ENTITY:
            return True
    roots: set[str | None] = set()
    for entity in entities:
        kind = classify(entity, mapped=mapped)
        if kind is Kind.ENTITY:
            roots.add(_dotted(entity))
        elif kind is Kind.COLUMN and isinstance(entity, ast.Attribute):
            roots.add(_dotted(entity.value))
        else:
            return False
    return len(roots) == 1 and None not in roots


def _shape(kinds: list[Kind]) -> bool:
    """Whether `_Rewriter.shape` decides (a mapped class among the entities, or no undecided one)."""
    return Kind.ENTITY in kinds or Kind.UNKNOWN not in kinds


def _get_maps(call: ast.Call, methods: list[tuple[str, ast.Call]], entities: list[ast.expr]) -> bool:
    options = False
    for name, link in methods:
        if name != "options" or link.keywords or any(isinstance(a, ast.Starred) for a in link.args):
            break
        options = options or bool(link.args)
    else:
        if options:
            return len(entities) == 1 and _binds(call, ("ident",), required="ident")
    if methods or len(entities) != 1:
        return False
    return _binds(call, ("ident",), required="ident")


def _dml_maps(name: str, call: ast.Call, methods: list[tuple[str, ast.Call]], entities: list[ast.expr]) -> bool:
    if any(method not in _DML_FILTERS for method, _ in methods) or len(entities) != 1:
        return False
    if name == "delete":
        params: tuple[str, ...] = ("synchronize_session", "delete_args")
    else:
        params = ("values", "synchronize_session", "update_args")
    bound = _bound(call, params)
    if bound is None or f"{name}_args" in bound:
        return False
    return name != "update" or "values" in bound


def _binds(call: ast.Call, params: tuple[str, ...], required: str) -> bool:
    bound = _bound(call, params)
    return bound is not None and required in bound


def _bound(call: ast.Call, params: tuple[str, ...]) -> set[str] | None:
    """The parameters the call's arguments bind, or None where `legacy_query._bind` finds a problem."""
    if len(call.args) > len(params):
        return None
    bound = set(params[: len(call.args)])
    for keyword in call.keywords:
        if keyword.arg not in params or keyword.arg in bound:
            return None
        bound.add(keyword.arg)
    return bound


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and (node.value is None or node.value is True or node.value is False):
        return str(node.value)  # a Name to libcst, as legacy_query reads it
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def is_class_name(name: str) -> bool:
    """CapWords (`Book`, `M`), not a CONSTANT (`BOOKS`)."""
    return bool(_CAPWORDS.match(name)) and (len(name.strip("_")) == 1 or not name.isupper())


def classify(node: ast.expr, func_name: str = "func", mapped: frozenset[str] = frozenset()) -> Kind:
    """Mapped class or column expression, read from the names (`legacy_query` asks it too).

    Whether an entity of `query(...)` is a mapped class or a column decides the
    result shape, and the tool has no type information here, so it reads the names
    (PEP 8 conventions): `Book`, `models.Book`, `aliased(...)` are mapped classes;
    `Book.title`, `func.count(...)`, `literal(...)`, operators are column expressions;
    `self.model` is a mapped class when the analysis passes it in `mapped` (every
    assignment of the attribute stores a parameter annotated `Type[X]`/`type[X]`);
    anything else (`cls`, a lower-case variable) is undecided, which blocks the forms
    that depend on it. `.count()`, `.get()`, `.delete()`,
    `.update()` and `.first()` on several entities do not depend on it.
    """
    dotted = _dotted(node)
    if dotted is not None and dotted in mapped:
        return Kind.ENTITY
    if dotted is not None:
        *head, last = dotted.split(".")
        if is_class_name(last):
            return Kind.ENTITY if all(part[:1].islower() for part in head) else Kind.UNKNOWN
        if head and isinstance(node, ast.Attribute) and classify(node.value, func_name, mapped) is Kind.ENTITY:
            return Kind.COLUMN  # `Book.title`, `models.Book.title`
        return Kind.UNKNOWN
    if isinstance(node, (ast.BinOp, ast.Compare, ast.UnaryOp, ast.BoolOp)):
        # `Book.price * 2`, `Book.id == 1`, `-Book.price`
        return Kind.COLUMN
    if isinstance(node, ast.Call):
        callee = _dotted(node.func)
        if callee is not None:
            parts = callee.split(".")
            if parts[-1] in ENTITY_FUNCTIONS:
                return Kind.ENTITY
            if "func" in parts[:-1] or callee.startswith(f"{func_name}.") or parts[-1] in COLUMN_FUNCTIONS:
                return Kind.COLUMN
        if isinstance(node.func, ast.Attribute) and node.func.attr in COLUMN_METHODS:
            if classify(node.func.value, func_name, mapped) is Kind.COLUMN:
                return Kind.COLUMN
    return Kind.UNKNOWN
