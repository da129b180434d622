"""The string a router's prefix expression makes, read statically.

A router factory's `APIRouter(prefix=f"/{name}")` is served, for its call `make_router("books")`,
at "/books": the expression as written (`Function.router_prefixes`) read with the string literal
each call hands each parameter. Only literals, parameters, f-strings, `+` and `"...".format(...)`
are read; anything else is not known (None), and `routes.py` marks the path incomplete.
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts


def prefix_text(function: facts.Function, line: int) -> str | None:
    """The `prefix=` expression of the call on `line` ('""' when it has none); None where the
    function touches a prefix in a way the text does not show (`r.prefix = ...`, a name the
    expression reads bound again) or gives several on that line."""
    if any(not text for _, text in function.router_prefixes):
        return None
    given = [text for at, text in function.router_prefixes if at == line]
    return '""' if not given else given[0] if len(given) == 1 else None


def evaluate(text: str, call: facts.Value, params: list[facts.Param]) -> str | None:
    """The string a prefix expression of a function makes for one call of it: literals, the
    function's parameters (the call's string literal for each, or its string default),
    f-strings, `+` and `"...".format(...)` of those; None for anything else."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    names = {p.name: p for p in params}

    def value(node: ast.expr) -> str | None:
        if type(node) is ast.Constant:
            return node.value if isinstance(node.value, str) else None
        if type(node) is ast.Name:
            param = names.get(node.id)
            return argument(call, params, node.id) if param is not None and not param.variadic else None
        if type(node) is ast.JoinedStr:
            parts = [value(part) for part in node.values]
            return None if None in parts else "".join(p for p in parts if p is not None)
        if type(node) is ast.FormattedValue:
            plain = node.conversion in (-1, ord("s")) and node.format_spec is None
            return value(node.value) if plain else None
        if type(node) is ast.BinOp and type(node.op) is ast.Add:
            left, right = value(node.left), value(node.right)
            return left + right if left is not None and right is not None else None
        if (
            type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "format"
            and type(node.func.value) is ast.Constant and isinstance(node.func.value.value, str)
            and all(type(a) is not ast.Starred for a in node.args) and all(k.arg for k in node.keywords)
        ):
            args = [value(a) for a in node.args]
            keywords = {k.arg: value(k.value) for k in node.keywords if k.arg is not None}
            if None in args or None in keywords.values():
                return None
            try:
                return node.func.value.value.format(*args, **keywords)
            except (IndexError, KeyError, ValueError):
                return None
        return None

    return value(tree)


def argument(call: facts.Value, params: list[facts.Param], parameter: str) -> str | None:
    """The string literal a call gives the parameter `parameter` (of a function whose
    parameters are `params`), by keyword or position, or its string default when the call
    gives it none; None when it is not one."""
    if any(a.text.startswith("*") for a in call.args):
        return None
    positional = [a for a in call.args if a.keyword is None]
    given = [a for a in call.args if a.keyword == parameter]
    index = [p.name for p in params].index(parameter)
    found = given[0] if given else positional[index] if index < len(positional) else None
    if found is None:
        return params[index].literal
    try:
        value = ast.literal_eval(found.text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def literal(text: str) -> str | None:
    """The string a literal as written holds; None for any other expression."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None
