"""Execution options that may stream rows from a server-side cursor, read from a call as written.

`yield_per` and `stream_results` (and `max_row_buffer`, which only a streamed result reads) reach
a statement in more ways than `stmt.execution_options(yield_per=100)`: as a dict given to
`session.execute(stmt, execution_options={...})` or `session.connection(execution_options=...)`,
or unpacked from a module-level dict, `stmt.execution_options(**STREAM)`. AsyncSession and
AsyncConnection refuse each of them in `execute()`, so each must be seen; options the reader
cannot read (a parameter, an imported name, a call) may stream too.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from async_migrate.codemods.astcollect.syntax import dotted, string

# In the order a reason names them.
STREAMING = ("yield_per", "stream_results", "max_row_buffer")

# A module-level name's one assigned value, or None when it has none or several.
Constants = Callable[[str], "ast.expr | None"]


def _keys(value: ast.expr, constants: Constants, seen: frozenset[str] = frozenset()) -> set[str] | None:
    """The option names a dict expression holds, or None when they cannot all be read."""
    if type(value) is ast.Dict:
        found: set[str] = set()
        for key, item in zip(value.keys, value.values):
            if key is None:  # `{**BASE, ...}`
                inner = _keys(item, constants, seen)
                if inner is None:
                    return None
                found |= inner
                continue
            written = string(key)
            if written is None:
                return None
            found.add(written)
        return found
    if type(value) is ast.Call and dotted(value.func) == "dict" and not value.args:
        return _keyword_keys(value.keywords, constants, seen)
    if type(value) is ast.Name and value.id not in seen:
        held = constants(value.id)
        if held is not None:
            return _keys(held, constants, seen | {value.id})
    return None


def _keyword_keys(keywords: list[ast.keyword], constants: Constants, seen: frozenset[str] = frozenset()) -> set[str] | None:
    found: set[str] = set()
    for item in keywords:
        if item.arg is not None:
            found.add(item.arg)
            continue
        inner = _keys(item.value, constants, seen)
        if inner is None:
            return None
        found |= inner
    return found


def _streaming(keys: set[str]) -> str | None:
    return next((key for key in STREAMING if key in keys), None)


def streamed_option(
    node: ast.Call, constant: Constants, local: AbstractSet[str] = frozenset()
) -> tuple[str, str | None] | None:
    """The execution options of this call as written and the one that streams, or None for the
    one when the options cannot be read (they may stream); None when no option streams. A name in
    `local` is the function's own, never the module-level `constant` it spells.
    `x.execution_options(yield_per=...)` spelled out is read from the call's keywords instead."""
    def constants(name: str) -> ast.expr | None:
        return None if name in local else constant(name)

    func = node.func
    if type(func) is ast.Attribute and func.attr == "execution_options":
        starred = [item for item in node.keywords if item.arg is None]
        if not starred:
            return None
        keys = _keyword_keys(starred, constants)
        written = "execution_options({})".format(", ".join(f"**{dotted(item.value) or '...'}" for item in starred))
        if keys is None:
            return written, None
        streaming = _streaming(keys)
        return (written, streaming) if streaming else None
    for item in node.keywords:
        if item.arg != "execution_options":
            continue
        keys = _keys(item.value, constants)
        written = f"execution_options={dotted(item.value) or '{...}'}"
        if keys is None:
            return written, None
        streaming = _streaming(keys)
        if streaming:
            return written, streaming
    return None
