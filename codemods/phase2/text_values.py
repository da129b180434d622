"""Whether a formatted expression is text by its own shape, so formatting it runs no model code.

`f"{section.upper()}"`, `f"{type(x).__name__}"`, `f"{cls.__module__}"`, `f"{'a' + b}"`: what is
formatted is a `str` (or a class, whose `repr` is `type`'s) whatever the receiver was, so no
model's `__repr__`/`__str__` runs there. Judged on the expression as written (`ast`); a project
class defining a method of the same name (`upper`) keeps the call in doubt.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods import facts

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


# methods of a `dict`, `list` or `set` handing back one of its items (or a default), or a copy
_ITEM_METHODS = frozenset({"get", "pop", "setdefault", "copy", "values", "keys", "items"})


# builtins whose result is a number, a bool or text, whatever they are given (a name the module
# binds itself resolves to its own reference, never to one of these)
_PLAIN_BUILTINS = frozenset({
    "len", "int", "float", "bool", "str", "repr", "ascii", "format", "hash", "id", "ord", "chr", "bin", "oct", "hex",
})
# methods of a `dict` taking a default as their second argument, handed back when the key is missing
_DEFAULTED = frozenset({"get", "pop", "setdefault"})

Param = Callable[[str], bool]  # whether every call hands the function's parameter plain data


def is_plain(
    function: facts.Function, term: tuple, defined: Callable[[str], bool], param: Param | None = None
) -> bool:
    """Whether every value the object term `term` (`astcollect/objects.py`) of `function` may
    hold is plain data: a literal, a display of such (no `**x`), a str method's result on any
    receiver, or an item of such a value (`table.get(key, default)` with a plain default too). A
    parameter is when `param` says every call hands it plain data (`phase2/plain_params.py`) and
    the function binds it nowhere; a global and any other call are not known: they may hold a model."""
    return _plain(function, term, defined, frozenset(), param)


def _plain(
    function: facts.Function, term: tuple, defined: Callable[[str], bool], seen: frozenset[str], param: Param | None,
) -> bool:
    tag = term[0]
    if tag == "none":
        return True
    if tag in ("item", "iter", "key"):
        return _plain(function, term[1], defined, seen, param)
    if tag in ("tuple", "any"):
        return all(_plain(function, t, defined, seen, param) for t in term[1])
    if tag == "dict":
        return term[2] is False and all(_plain(function, t, defined, seen, param) for _, t in term[1])
    if tag == "name":
        name = term[1]
        if name in seen:
            return False
        if any(p.name == name for p in function.params):
            return param is not None and name not in function.holds and param(name)
        held = function.holds.get(name)
        if not held:
            return False
        return all(_plain(function, t, defined, seen | {name}, param) for t in held)
    if tag == "attr":
        return term[2] in _TEXT_ATTRIBUTES  # `cls.__module__`, `type(x).__name__`: text
    if tag == "call":
        call = next((c for c in function.calls if c.index == term[1]), None)
        if call is None:
            return False
        if call.method is None:
            return call.callee in _PLAIN_BUILTINS  # `len(plugins)`: an int, whatever `plugins` holds
        if call.method in _TEXT_METHODS and not defined(call.method):
            return True  # `path.rsplit(".", 1)`: text, or a list of text, whatever `path` holds
        if call.method in _ITEM_METHODS and call.receiver is not None and len(call.args) <= 1:
            # `labels.get(key)` on a local literal table: one of its values, or None
            return _plain(function, ("name", call.receiver), defined, seen, param)
        if call.method in _DEFAULTED and call.receiver is not None and len(call.args) == 2:
            # `options.get(key, 10)`: one of the table's values, or the default
            default = call.args[1]
            return (
                default.keyword is None
                and (default.data == () or (default.name is not None and _plain(
                    function, ("name", default.name), defined, seen, param)))
                and _plain(function, ("name", call.receiver), defined, seen, param)
            )
    return False
