"""Where an object bound to the event loop may be kept, in shapes the value-flow notation cannot
spell: a method called through subscripts (`hub.ROOMS[name].changed.set()`), a local bound
through them (`inner = hub.OUTERS[k].inner`), what a field
specifier's factory builds (`changed = attr.ib(factory=asyncio.Event)`), both ends of a memory
object stream unpacked from the call making them (`send, recv = anyio.create_memory_object_stream()`).
Read by phase one's AM138 (`codemods/loop_chains.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.vocabulary.python import LOOP_BOUND_PAIRS

# The keywords of a field specifier (`attr.ib`, `attrs.field`, `dataclasses.field`, pydantic's
# `Field`) naming what builds each instance's value.
_FACTORY_KEYWORDS = frozenset({"factory", "default_factory"})

Spell = Callable[[ast.AST], "str | None"]
Ref = Callable[[ast.AST], "str | None"]


def subscripted(func: ast.expr, spell: Spell) -> tuple[str, ...]:
    """`hub.ROOMS[name].changed.set` -> ("hub.ROOMS" as `spell` writes it, "changed.set"): the
    expression before the first subscript, then the attribute path after each subscript ("" between
    two). Empty where that expression cannot be spelled, or `func` has no subscript."""
    attributes: list[str] = []
    node = func
    while type(node) is ast.Attribute:
        attributes.append(node.attr)
        node = node.value
    if type(node) is not ast.Subscript:
        return ()
    path = ".".join(reversed(attributes))
    head = spell(node.value)
    if head is not None:
        return (head, path)
    inner = subscripted(node.value, spell)
    return (*inner, path) if inner else ()


def subscripted_value(value: ast.expr, spell: Spell) -> tuple[str, ...]:
    """`hub.OUTERS[k].inner` -> ("hub.OUTERS", "inner"), `hub.ROOMS[a][b]` -> ("hub.ROOMS", "", ""):
    a value read through subscripts, in `subscripted`'s shape (every path whole: no method at its
    end). Empty where it has no subscript or its first expression cannot be spelled."""
    if type(value) is ast.Subscript:
        head = spell(value.value)
        if head is not None:
            return (head, "")
        inner = subscripted_value(value.value, spell)
        return (*inner, "") if inner else ()
    return subscripted(value, spell)


def factory(call: ast.Call, ref: Ref) -> str | None:
    """What a field specifier's factory calls (`attr.ib(factory=asyncio.Event)`,
    `field(default_factory=lambda: asyncio.Queue(10))`, `attr.ib(default=attr.Factory(Room))`), or
    None."""
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg in _FACTORY_KEYWORDS:
            if type(value) is ast.Lambda:
                value = value.body.func if type(value.body) is ast.Call else value.body
            return ref(value)
        if keyword.arg == "default" and type(value) is ast.Call and value.args:
            callee = ref(value.func) or ""
            if callee.rpartition(".")[2] == "Factory":  # attrs' `Factory(asyncio.Queue)`
                return ref(value.args[0])
    return None


def pair_made(value: ast.expr | None, ref: Ref) -> ast.Call | None:
    """`anyio.create_memory_object_stream[str](10)` unpacked into its two ends: the call, with no
    subscript and no arguments, that each end is read as built by (both ends are bound to the
    loop); None for any other value."""
    if type(value) is not ast.Call:
        return None
    func = value.func.value if type(value.func) is ast.Subscript else value.func
    if ref(func) not in LOOP_BOUND_PAIRS:
        return None
    return ast.copy_location(ast.Call(func=func, args=[], keywords=[]), value)


def displayed(value: ast.expr, spell: Spell) -> tuple[str, ...]:
    """A dict display's values, or a list, tuple or set display's elements, each as `spell`
    writes it (`m.Room()`), "?" where it cannot."""
    held = value.values if type(value) is ast.Dict else getattr(value, "elts", [])
    return tuple(spell(node) or "?" for node in held)
