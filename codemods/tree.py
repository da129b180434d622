"""A fast walk over libcst trees, in source order.

`CSTNode.children` rebuilds the node through a visitor on every call, which costs
more than the parse when a pre-pass walks a whole project. Reading the dataclass
fields directly is several times cheaper; the few node types whose fields are not
declared in source order are listed explicitly, so "the n-th call" means the same
here as in a libcst transformer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_IN_SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.TypeAlias: ("name", "type_parameters", "value"),
}
# Layout, never code: whitespace, comments, parentheses, separators.
_LAYOUT_FIELDS = frozenset(
    {"leading_lines", "lines_after_decorators", "header", "footer", "lpar", "rpar", "comma",
     "semicolon", "dot", "equal", "colon", "indent", "trailing_whitespace", "operator"}
)
_fields: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _fields.get(kind)
    if names is None:
        names = _IN_SOURCE_ORDER.get(kind) or tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace")
        )
        _fields[kind] = names
    return names


_is_node: dict[type, bool] = {}


def is_node(value: object) -> bool:
    """`isinstance(value, cst.CSTNode)`, by exact type: libcst's node classes are ABCs,
    and an ABC instance check on every field of every node costs a third of a walk."""
    kind = type(value)
    known = _is_node.get(kind)
    if known is None:
        known = _is_node[kind] = issubclass(kind, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes that can hold code, in source order."""
    for name in _field_names(type(node)):
        value = getattr(node, name, None)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:  # type: ignore[union-attr]
                if is_node(item):
                    yield item
        elif is_node(value):
            yield value  # type: ignore[misc]


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below and including node, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
