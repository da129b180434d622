"""Where a function gives or changes a router's `prefix`, for the paths `routes.py` composes.

A router factory (`def make_router(name): r = APIRouter(prefix=f"/{name}"); return r`) serves its
routes under what the expression makes of each call's arguments; an `APIRouter` subclass whose
`__init__` (or any method) touches the prefix (`kw["prefix"] = "/v1" + kw.get("prefix", "")`)
serves them under something its construction does not spell. Read here: each `prefix=` keyword
of a call, as written, and every other place the word is used as a name, an attribute or a string
(those, and a keyword whose expression reads a name the function binds again, as "": unknown).
"""

from __future__ import annotations

import ast

_PREFIX = "prefix"


def read(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[int, str], ...]:
    """(line, the expression as written, or "" where it cannot stand for what reaches the router)
    for each `prefix=` keyword of a call in the function (nested ones included: a router a nested
    def builds is still the function's business), then (line, "") for each other use of the word
    and each `**` handed to an `__init__` other than the function's own `**kwargs`."""
    own = node.args.kwarg.arg if node.args.kwarg is not None else None
    stored = {
        sub.id for sub in ast.walk(node) if type(sub) is ast.Name and type(sub.ctx) is not ast.Load
    }
    found: list[tuple[int, str]] = []
    for sub in ast.walk(node):
        if type(sub) is not ast.Call:
            continue
        for keyword in sub.keywords:
            if keyword.arg == _PREFIX:
                read_names = {n.id for n in ast.walk(keyword.value) if type(n) is ast.Name}
                text = "" if read_names & stored else ast.unparse(keyword.value)
                found.append((sub.lineno, text))
            elif keyword.arg is None and _init_call(sub) and not (
                type(keyword.value) is ast.Name and keyword.value.id == own and own not in stored
            ):
                found.append((keyword.value.lineno, ""))
    for sub in ast.walk(node):
        if type(sub) is ast.Attribute and sub.attr == _PREFIX:
            found.append((sub.lineno, ""))
        elif type(sub) is ast.Constant and sub.value == _PREFIX:
            found.append((sub.lineno, ""))
        elif type(sub) is ast.Name and sub.id == _PREFIX and type(sub.ctx) is not ast.Load:
            found.append((sub.lineno, ""))
    return tuple(sorted(set(found)))


def _init_call(call: ast.Call) -> bool:
    """`super().__init__(...)`, `APIRouter.__init__(self, ...)`."""
    return type(call.func) is ast.Attribute and call.func.attr == "__init__"
