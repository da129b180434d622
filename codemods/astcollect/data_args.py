"""Whether an argument is plain data by its shape, and which attributes' values it holds.

`ModelMeta.model_validate(deepcopy(current.meta or {}))` validates a dict copied from a column:
no ORM object, so nothing the validation reads can load lazily. The shape alone says the argument
holds literals and the values of the attributes it reads (`meta`); whether one of those attributes
is a relationship (an ORM object after all) is for the analysis, which knows the mapped classes.
"""

from __future__ import annotations

import ast

# calls returning a copy or a container of what they are given (the builtins, `copy`'s)
_COPIES = frozenset({"deepcopy", "copy", "dict", "list", "tuple", "set", "frozenset", "sorted"})


def data_reads(node: ast.expr) -> tuple[str, ...] | None:
    """The attribute names whose values `node` holds (`("meta",)` for `deepcopy(current.meta or
    {})`, `()` for a literal or a display of literals), or None when its shape may hold anything
    else (a bare name, a subscript, a call of anything but a copy)."""
    kind = type(node)
    if kind is ast.Constant or kind is ast.JoinedStr:
        return ()
    if kind is ast.Attribute:
        return (node.attr,)  # type: ignore[attr-defined]
    if kind is ast.Dict:
        parts: list[ast.expr] = [k for k in node.keys if k is not None] + list(node.values)  # type: ignore[attr-defined]
        if any(k is None for k in node.keys):  # type: ignore[attr-defined]
            return None  # `{**other}`: what the unpacked mapping holds is unknown
        return _all(parts)
    if kind in (ast.List, ast.Tuple, ast.Set):
        return _all(node.elts)  # type: ignore[attr-defined]
    if kind is ast.BoolOp:
        return _all(node.values)  # type: ignore[attr-defined]
    if kind is ast.IfExp:
        return _all([node.body, node.orelse])  # type: ignore[attr-defined]
    if kind is ast.Call:
        func = node.func  # type: ignore[attr-defined]
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        if name in _COPIES and not node.keywords and all(type(a) is not ast.Starred for a in node.args):  # type: ignore[attr-defined]
            return _all(node.args)  # type: ignore[attr-defined]
    return None


def _all(parts: list[ast.expr]) -> tuple[str, ...] | None:
    found: list[str] = []
    for part in parts:
        reads = data_reads(part)
        if reads is None:
            return None
        found.extend(reads)
    return tuple(dict.fromkeys(found))
