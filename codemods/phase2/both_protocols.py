"""A unit of work defining both protocols: `__enter__`/`__exit__` beside `__aenter__`/`__aexit__`.

A class holding the Session moves as an asynchronous context manager by turning `__enter__`
and `__exit__` into `__aenter__` and `__aexit__` (`unit_of_work.ASYNC_NAMES`). Where the class
defines its own `__aenter__` (or `__aexit__`) too, what phase two wrote defined that method
twice, in place or in the parallel async class, and the later definition silently replaced the
converted one (the class's own, still calling `self.__enter__()`, or doing nothing where the
converted one committed). Where the class's own asynchronous method does what the synchronous
one does (it forwards to it, `return self.__enter__()`, `self.__exit__(exc_type, exc, tb)`, or
has the same body and parameters), it is left out of what phase two writes and the converted one
stands alone (`superseded`, read by `plan.build`). Otherwise the code entering the class blocks
(AM297, `blockers`), naming both definitions: phase two cannot tell which the code meant.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import cast

from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.project import FunctionId, Project

_PAIRS = {"__enter__": "__aenter__", "__exit__": "__aexit__"}
_KEY = "phase2.both_protocols"


def pairs(project: Project, read: Callable[[str], str] | None = None) -> dict[FunctionId, tuple[FunctionId, bool]]:
    """Each `__enter__`/`__exit__` moving with its class holding the Session (`HolderClass.methods`)
    whose class also defines the asynchronous method it becomes -> (that method, whether the two
    agree). Decided once per project, the first call (phase two's closure, given `read`) deciding;
    without the source nothing can be compared, and nothing agrees."""
    found = project.derived.get(_KEY)
    if found is None:
        found = project.derived[_KEY] = _find(project, read)
    return cast("dict[FunctionId, tuple[FunctionId, bool]]", found)


def superseded(project: Project) -> dict[FunctionId, FunctionId]:
    """The class's own `__aenter__`/`__aexit__` agreeing with the `__enter__`/`__exit__` phase two
    turns into it -> that synchronous method: left out of what phase two writes for the class."""
    return {own: sync for sync, (own, agrees) in pairs(project).items() if agrees}


def blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, why) for each place `fid` runs an `__enter__`/`__exit__` (a `with` statement, a
    call) whose class defines the asynchronous method it would become doing other work."""
    found = pairs(project)
    reasons: list[tuple[int, str]] = []
    for edge in project.all_calls_from.get(fid, ()):
        pair = found.get(edge.callee)
        if pair is None or pair[1]:
            continue
        module, function = project.functions[edge.callee]
        other = project.functions[pair[0]][1]
        cls = function.qualname.rpartition(".")[0]
        forward = "return self.__enter__()" if function.name == "__enter__" else "return self.__exit__(exc_type, exc, tb)"
        why = (
            f"enters `{cls}`, which defines both `{function.name}` ({module.path}:{function.line}) and its own "
            f"`{other.name}` ({module.path}:{other.line}) doing different work: phase two turns `{function.name}` "
            f"into `{other.name}` for the class's asynchronous form, which would then define `{other.name}` twice, "
            f"the later silently replacing the other; make `{other.name}` forward to `{function.name}` "
            f"(`{forward}`) or give both the same body, or keep one of the two"
        )
        if (edge.call.line, why) not in reasons:
            reasons.append((edge.call.line, why))
    return reasons


def _find(project: Project, read: Callable[[str], str] | None) -> dict[FunctionId, tuple[FunctionId, bool]]:
    classes = project.flow.classes
    found: dict[FunctionId, tuple[FunctionId, bool]] = {}
    trees: dict[str, ast.Module | None] = {}
    for holder in holders.holder_classes(project).values():
        for fid in sorted(holder.methods):
            module, function = project.functions[fid]
            wanted = _PAIRS.get(function.name)
            owner = classes.owner(fid)
            own = classes.methods.get(owner, {}).get(wanted) if wanted is not None and owner is not None else None
            if own is None or own == fid or fid in found:
                continue
            if read is not None and module.path not in trees:
                try:
                    trees[module.path] = ast.parse(read(module.path))
                except (OSError, SyntaxError, ValueError):
                    trees[module.path] = None
            tree = trees.get(module.path)
            sync = function_node(tree, function)
            other = function_node(tree, project.functions[own][1])
            found[fid] = (own, sync is not None and other is not None and _agree(sync, other))
    return found


def _agree(sync: ast.FunctionDef | ast.AsyncFunctionDef, other: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the asynchronous method `other` does what `sync` does: it forwards its parameters
    to it (`return self.__exit__(exc_type, exc, tb)`; without `return` only where `sync` returns
    nothing), or both have the same parameters and body."""
    if other.decorator_list or sync.decorator_list:
        return False
    body = _body(other)
    if _names(sync.args) == _names(other.args) and [ast.dump(s) for s in _body(sync)] == [ast.dump(s) for s in body]:
        return True
    if len(body) != 1 or not isinstance(body[0], (ast.Return, ast.Expr)) or not other.args.args:
        return False
    call = body[0].value
    own = other.args
    func = call.func if isinstance(call, ast.Call) else None
    if not (
        isinstance(call, ast.Call) and isinstance(func, ast.Attribute) and func.attr == sync.name
        and isinstance(func.value, ast.Name) and func.value.id == own.args[0].arg and not call.keywords
    ):
        return False
    handed = [a.id if isinstance(a, ast.Name) else "*" + a.value.id if isinstance(a, ast.Starred) and isinstance(
        a.value, ast.Name) else None for a in call.args]
    given = [a.arg for a in own.args[1:]] + ([f"*{own.vararg.arg}"] if own.vararg is not None else [])
    if handed != given or own.kwonlyargs or own.kwarg is not None or own.posonlyargs:
        return False
    return isinstance(body[0], ast.Return) or not _returns_value(sync)


def _body(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The body without its docstring."""
    body = node.body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _names(args: ast.arguments) -> list[str]:
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)] + [
        f"*{args.vararg.arg}" if args.vararg else "", f"**{args.kwarg.arg}" if args.kwarg else "",
    ]


def _returns_value(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function's own body returns something other than None."""
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(current, ast.Return) and current.value is not None and not (
            isinstance(current.value, ast.Constant) and current.value.value is None
        ):
            return True
        stack.extend(ast.iter_child_nodes(current))
    return False
