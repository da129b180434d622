"""Whether a formatted expression is text by its own shape, so formatting it runs no model code.

`f"{section.upper()}"`, `f"{type(x).__name__}"`, `f"{cls.__module__}"`, `f"{'a' + b}"`: what is
formatted is a `str` (or a class, whose `repr` is `type`'s) whatever the receiver was, so no
model's `__repr__`/`__str__` runs there. Judged on the expression as written (`ast`); a project
class defining a method of the same name (`upper`) keeps the call in doubt.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

# methods of `str` (and `bytes`) returning text, or a list of text
_TEXT_METHODS = frozenset({
    "upper", "lower", "strip", "lstrip", "rstrip", "title", "capitalize", "casefold", "swapcase",
    "replace", "format", "format_map", "join", "zfill", "center", "ljust", "rjust", "removeprefix",
    "removesuffix", "expandtabs", "encode", "decode", "split", "rsplit", "splitlines", "hex", "isoformat",
})
# attributes every object or class has, holding text
_TEXT_ATTRIBUTES = frozenset({"__name__", "__qualname__", "__module__", "__doc__"})


def is_text(written: str, defined: Callable[[str], bool]) -> bool:
    """Whether `written` (an expression's source) is text or a class by its shape; `defined(name)`:
    whether a project class defines a member `name` (then `x.name()` may run it)."""
    try:
        node = ast.parse(written, mode="eval").body
    except SyntaxError:
        return False
    return _text(node, defined)


def _text(node: ast.expr, defined: Callable[[str], bool]) -> bool:
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        return True
    if isinstance(node, ast.Attribute):
        return node.attr in _TEXT_ATTRIBUTES
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        # `"a" + b`, `"%s" % b`: text when its left side is (a str's `+` or `%` makes a str)
        return _text(node.left, defined)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in ("type", "str", "repr")
        if isinstance(func, ast.Attribute):
            return func.attr in _TEXT_METHODS and not defined(func.attr)
    return False
