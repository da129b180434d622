"""Connections from an engine the analysis cannot read: `with make_engine().connect() as conn:
conn.execute(...)` where `make_engine` comes from a library outside the tool's vocabulary or
project code outside PATH, `settings.engine.begin()` on a module-level object built by such a
call, `engine = make_engine()` then `engine.connect()`. Nothing types the engine, so nothing
says whether its connection is a synchronous one; a statement on it is unverified (AM125, check
AM304) rather than no work.

Not such an engine: anything the value flow types (a synchronous engine is engine work, found in
`engine_work.py`), SQLAlchemy's and the other libraries the tool knows (an `AsyncEngine` from
`create_async_engine`, HTTP and key-value clients, `codemods/vocabulary/clients.py`), the
standard library, a parameter (FastAPI fills it), and `async with` / awaited statements. An
engine a class keeps from a plain parameter (`def __init__(self, engine): self.engine = engine`,
then `with self.engine.connect() as c:`) is one only where nothing types that attribute: no caller
the analysis sees hands it a value it reads (`Service(request.app.state.engine)`).
"""

from __future__ import annotations

import sys

from async_migrate.codemods import facts
from async_migrate.codemods.flow import split
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.clients import BLOCKING_FUNCTIONS, NON_SESSION_CLASSES
from async_migrate.codemods.vocabulary.sqlalchemy import CONNECTION_IO_METHODS

_OPENERS = (".connect()", ".begin()")
# Libraries the tool reads (their values are typed where it can, or are no engine at all), and
# the packages of the clients it knows are no database engine.
_KNOWN = frozenset({
    "sqlalchemy", "sqlmodel", "fastapi", "starlette", "pydantic", "pydantic_settings", "fastapi_sqla",
    "fastapi_sqlalchemy", "dependency_injector", "alembic",
    *(ref.partition(".")[0] for ref in NON_SESSION_CLASSES | BLOCKING_FUNCTIONS),
})
_DEPTH = 6


def unread_connection(project: Project, fid: FunctionId, expression: str, awaited: bool) -> tuple[facts.Binding, str] | None:
    """For `$conn.execute` (a Connection statement, not awaited) where every binding of the local
    `conn` opens a connection (`.connect()`, `.begin()`, entered or assigned, not `async with`) on
    an engine the analysis cannot read: the first binding and the engine as written, else None."""
    method = expression.rpartition(".")[2]
    if awaited or method not in CONNECTION_IO_METHODS or not expression.startswith("$"):
        return None
    head, steps = split(expression)
    if len(steps) != 1:
        return None
    return unread_local(project, fid, head[1:])


def unread_local(project: Project, fid: FunctionId, name: str) -> tuple[facts.Binding, str] | None:
    """For a local every binding of which opens a connection on an engine the analysis cannot
    read: the first binding and the engine as written, else None."""
    _, function = project.functions[fid]
    bound = [b for b in function.bindings if b.name == name]
    if not bound or any(p.name == name for p in function.params) or project.flow.env(fid).get(name):
        return None
    origins = []
    for binding in bound:
        if binding.asynchronous or binding.expr == facts.UNSPELLED or not binding.expr.endswith(_OPENERS):
            return None
        origin = binding.expr[: binding.expr.rindex(".")]
        if not _unreadable(project, fid, origin, 0):
            return None
        origins.append(origin)
    return bound[0], origins[0]


def handed_unread(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """Why a call handing such a connection on (`count(conn)`, `pd.read_sql(q, conn)`) is
    unverified: the callee's statements on it are as unreadable as the handler's own; else None."""
    for arg in call.args:
        if arg.name is None:
            continue
        opened = unread_local(project, fid, arg.name)
        if opened is None:
            continue
        binding, origin = opened
        callee = project.written(call.func or call.callee or "")
        return (
            f"hands `{arg.name}`, a connection from `{project.written(origin)}` (line {binding.line}), which the analysis "
            f"cannot read, to `{callee}()`: it may be a synchronous engine's connection"
        )
    return None


def _unreadable(project: Project, fid: FunctionId, expression: str, depth: int) -> bool:
    """Whether the expression's value is one the analysis cannot read: the result of a call into
    a library it does not know or project code it cannot see, or an attribute of one."""
    if depth > _DEPTH or expression == facts.UNSPELLED or project.flow.evaluate(fid, expression):
        return False
    head, steps = split(expression)
    if head.startswith("$"):
        name = head[1:]
        _, function = project.functions[fid]
        param = next((p for p in function.params if p.name == name), None)
        if param is not None and function.params[0] is param and steps[:1] and steps[0].startswith("."):
            # `self.engine` in a method: what the class keeps there, when nothing types it
            return _held_unread(project, fid, steps[0][1:], depth) and not any(step != "()" for step in steps[1:2])
        if param is not None:
            # `engine = Depends(get_engine)`: what the dependency returns; any other parameter is FastAPI's
            rest = "".join(steps)
            return param.depends is not None and _unreadable(project, fid, f"{param.depends}(){rest}", depth + 1)
        bound = [b for b in function.bindings if b.name == name]
        rest = "".join(steps)
        return bool(bound) and all(
            not b.entered and _unreadable(project, fid, b.expr + rest, depth + 1) for b in bound
        )
    if head.startswith("super()") or not head:
        return False
    parts = head.split(".")
    for end in range(len(parts), 0, -1):
        target = project.resolve(".".join(parts[:end]))
        if target is not None:
            break
    else:
        return False
    attributes = parts[end:]
    if target.kind == "external":
        if project._unseen(target.ref) is not None:
            return True  # project code outside PATH, or a module that could not be read
        top = target.ref.partition(".")[0]
        if top in _KNOWN or top in sys.stdlib_module_names or target.ref in NON_SESSION_CLASSES | BLOCKING_FUNCTIONS:
            return False
        return True
    if target.kind == "function" and target.module is not None and target.function is not None:
        function = target.function
        if attributes or steps[:1] != ("()",) or function.returns or not function.returned or function.is_async:
            return False
        # a project function's result, its return not annotated: unreadable where every value it returns is
        callee = (target.module.name, function.key)
        if callee not in project.functions:
            return False
        after = "".join(steps[1:])
        return all(
            _unreadable(project, callee, r + after, depth + 1) for r in function.returned
        )
    if target.kind == "value" and target.value is not None and target.value.kind == "call" and target.value.ref:
        # `settings = load_settings()` at module level, read as `settings.engine`
        return _unreadable(project, fid, target.value.ref + "()" + "".join(f".{p}" for p in attributes) + "".join(steps), depth + 1)
    return False


def _held_unread(project: Project, fid: FunctionId, attribute: str, depth: int) -> bool:
    """Whether the attribute the class of method `fid` keeps (`self.engine`) holds a value the
    analysis cannot read: nothing types it, and every assignment of it (`self.engine = engine` in
    `__init__`) is of a plain parameter (no annotation, no `Depends`) no caller the analysis sees
    hands a value it reads (`Service(request.app.state.engine)`, a class only code it cannot see
    builds), or of a value it cannot read."""
    classes = project.flow.classes
    cls = classes.owner(fid)
    if cls is None or depth > _DEPTH:
        return False
    assigned = [found for ancestor in classes.mro(cls) for found in classes.assigned.get((ancestor, attribute), ())]
    if not assigned or project.flow.attribute(cls, attribute):
        return False
    for setter, expression in assigned:
        _, method = project.functions[setter]
        param = next((p for p in method.params[1:] if f"${p.name}" == expression), None)
        if param is None:
            if not _unreadable(project, setter, expression, depth + 1):
                return False
        elif param.annotation or param.text or param.depends or param.default_ref or param.opaque_depends or (
            param.variadic
        ):
            return False
    return True


def reason(project: Project, expression: str, name: str, binding: facts.Binding, origin: str) -> str:
    """Why a statement on such a connection is unverified."""
    how = f"entered from `{project.written(binding.expr)}` (`with ... as {name}`" if binding.entered else (
        f"bound to `{project.written(binding.expr)}` (`{name} = ...`"
    )
    return (
        f"`{project.written(expression)}()` is called on `{name}`, {how}, line {binding.line}), a connection "
        f"from `{project.written(origin)}`, which the analysis cannot read: it may be a synchronous engine's connection"
    )
