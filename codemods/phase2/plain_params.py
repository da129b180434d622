"""Parameters every call hands plain data: formatting one runs no model code.

`log_key("api", "page_size")` calling `print(f"{section}")`: AM250 took `section` for any object
whose class defines `__repr__`, a model's among them reading a relationship, and blocked the route.
When every call a route's closure makes of the function hands that parameter a literal, a display
of literals, or a name that is plain data in the caller (`text_values.is_plain`, through the
caller's own parameters in turn), and a call leaving it out gets a literal default, the parameter
holds plain data whenever the route runs the function.

Sound, not clever: only a module-level function (no method: a subclass may run another, a bound
method may be handed anywhere) that no module uses as a value (`facts.Module.escapes`: handed to
`map`, a task queue, a table), that no decorator but `staticmethod`/`classmethod`/`contextmanager`
wraps, that is no handler (FastAPI calls routes and dependencies with anything), called by its own
name (not through a table) without `*`/`**` unpacking, by at least one member of the closure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, cast

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.text_values import is_plain
from async_migrate.codemods.vocabulary.python import CONTEXT_MANAGER_DECORATORS

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 4  # callers followed through their own parameters
# decorators handing the function what its caller passed, unchanged
_PASSING = CONTEXT_MANAGER_DECORATORS | {"staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod"}


def plain_param(
    project: Project, members: Collection[FunctionId], fid: FunctionId, name: str,
    defined: Callable[[str], bool], depth: int = 0,
) -> bool:
    """Whether every call from `members` (a route's closure) of `fid` hands its parameter `name`
    plain data; `defined(name)`: whether a project class defines a member `name`."""
    if depth > _DEPTH:
        return False
    module, function = project.functions[fid]
    param = next((p for p in function.params if p.name == name), None)
    if param is None or param.variadic or param.depends or param.provide or name in function.holds:
        return False
    if function.key != function.qualname or "." in function.qualname or fid in project.handlers_by_id:
        return False
    if any(d.callee is None or project.canonical(d.callee) not in _PASSING for d in function.decorators):
        return False
    if f"{module.name}.{function.qualname}" in _escaped(project):
        return False
    found = False
    for edge in project.all_calls_to.get(fid, ()):
        if edge.caller not in members:
            continue
        call = edge.call
        written = call.callee or call.func or ""
        if written.rpartition(".")[2] != function.name or call.dispatch or call.literals is None or call.splatted:
            return False  # a table's value, a function handed on (`map(f, xs)`), `f(*args)`
        given = next((a for a in call.args if facts.parameter_of(function, a) == name), None)
        if given is None:
            if not param.plain_default:
                return False
        elif given.data != () and not (given.name is not None and _plain_in(project, members, edge.caller, given.name, defined, depth)):
            return False
        found = True
    return found


def _plain_in(
    project: Project, members: Collection[FunctionId], fid: FunctionId, name: str, defined: Callable[[str], bool],
    depth: int,
) -> bool:
    """Whether the local `name` of the caller `fid` is plain data there."""
    _, function = project.functions[fid]
    return is_plain(
        function, ("name", name), defined,
        lambda param: plain_param(project, members, fid, param, defined, depth + 1),
    )


def _escaped(project: Project) -> frozenset[str]:
    """Every project function some module uses as a value, by its home reference."""
    found = project.derived.get("plain_params_escaped")
    if found is None:
        refs = {ref for module in project.modules.values() for ref, _, _ in module.escapes}
        found = project.derived["plain_params_escaped"] = frozenset(
            refs | {c for c in map(project.canonical, refs) if c is not None}
        )
    return cast("frozenset[str]", found)
