"""Methods called on what a module-level `ContextVar` holds, where the value flow cannot type it.

A unit of work, repository or service kept for the request in a context variable
(`uow_var.set(request.app.state.uow_factory())` in a dependency or a middleware), read back with
`.get()` and its methods called (`uow_var.get().users.list()`, `with uow_var.get() as uow:` then
`uow.users.list()`, a helper returning `uow_var.get()`): the flow types what `get()` gives only
where every `set()` stores the Session (`Flow.context_variable`) or project objects it reads
(`Flow.context_variable_objects`). Otherwise the call graph had no edge there and the handler
read as doing no Session work. Here such a call is unverified (`Project.own_unverified`, AM304)
when a project method of the name called does synchronous Session work, unless the variable is
declared to hold no project class (`ContextVar[str]`, `ContextVar[dict]`: a Session declared is
`flow.declared_context_session`'s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import _context_read, split

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project


def context_object_call(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """Why `call` may do Session work the call graph cannot see: it calls a method on (an attribute
    of) what a module-level ContextVar holds, which the flow cannot type; None otherwise."""
    if call.nested or call.awaited:
        return None
    expression = call.func if call.func is not None else call.callee
    if expression is None:
        return None
    receiver, dot, method = expression.rpartition(".")
    if not dot or method not in project._working_method_names():
        return None
    variable = _variable_read(project, fid, receiver)
    if variable is None:
        return None
    flow = project.flow
    if flow.context_variable(variable) or flow.context_variable_objects(variable):
        return None  # typed: its edges are the call graph's
    target = project.resolve(variable)
    if target is None or target.module is None:
        return None
    short = variable.rpartition(".")[2]
    declared = [project.canonical(r) or r for r in target.module.context_types.get(short, ())]
    if declared and not any(ref in flow.classes.by_ref for ref in declared):
        return None
    sets = project.context_variable_sets.get(variable, ())
    where = ", ".join(dict.fromkeys(f"{project.functions[f][0].path}:{c.line}" for f, c in sets)) if sets else ""
    why = f"set at {where} to a value the analysis cannot type" if where else "which nothing in the project sets"
    working = [
        f for f in project.work_chains
        if project.functions[f][1].name == method and "." in project.functions[f][1].qualname
    ]
    first = project.functions[working[0]][1]
    line = target.value.line if target.value is not None else 0
    return (
        f"`{project.written(expression)}()` runs on what the context variable `{short}` "
        f"({target.module.path}:{line}) holds, {why}; a project `{method}()` does synchronous Session "
        f"work: {first.qualname} ({' -> '.join(project.work_chains[working[0]])})"
    )


def _variable_read(project: Project, fid: FunctionId, receiver: str) -> str | None:
    """The module-level ContextVar whose `.get()` the receiver is, or an attribute of it is
    (`var.get().users`, `$uow.users` with `uow = var.get()` or `with var.get() as uow`)."""
    if not receiver:
        return None
    head, steps = split(receiver)
    for cut in range(len(steps), -1, -1):
        variable = _context_read(project.flow, fid, head + "".join(steps[:cut]), 0)
        if variable is not None:
            return variable
    return None
