"""A dependency handing its route what code outside PATH makes: `def get_db(): yield from
sm.get_db()` on a library's session maker (fastapi-utils' `FastAPISessionMaker`), `db =
vendor.new_session(); yield db`. A Session method called on what it gives, on a parameter no
annotation types, may be a synchronous Session's: unverified, never "no Session work".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import _DISTINCT_SESSION_METHODS, _session_named, split
from async_migrate.codemods.vocabulary.clients import NON_SESSION_CLASSES
from async_migrate.codemods.vocabulary.sqlalchemy import SESSION_IO_METHODS

if TYPE_CHECKING:
    from async_migrate.codemods.flow import Flow
    from async_migrate.codemods.project import FunctionId, Project


def _session_method(call: facts.Call) -> tuple[str, str] | None:
    """(local, method) of `db.execute()`, a Session method not awaited on a bare local; else None."""
    if call.awaited or call.func is None or not call.func.startswith("$"):
        return None
    head, steps = split(call.func)
    if len(steps) != 1 or steps[0][1:] not in SESSION_IO_METHODS:
        return None
    return head[1:], steps[0][1:]


def untyped_provided(
    flow: Flow, fid: FunctionId, function: facts.Function, call: facts.Call, memo: dict[str, str | None]
) -> str | None:
    """`db.execute()` on `db=Depends(get_db)` where `get_db` hands on a value made outside PATH:
    the reason the call is unverified, else None. `memo` caches each dependency's answer."""
    called = _session_method(call)
    if called is None:
        return None
    name, method = called
    param = next((p for p in function.params if p.name == name), None)
    if param is None or param.depends is None or param.annotation or flow.env(fid).get(name):
        return None
    if method not in _DISTINCT_SESSION_METHODS and not _session_named(name) and not _session_named(
        param.depends.rpartition(".")[2]
    ):
        return None
    if param.depends not in memo:
        memo[param.depends] = _outside_gift(flow.project, param.depends)
    made = memo[param.depends]
    if made is None:
        return None
    return (
        f"`{name}.{method}()` is called on `{name}`, which `Depends("
        f"{param.depends.rpartition('.')[2]})` gives from `{flow.project.written(made)}`, code outside PATH "
        "the analysis cannot see: it may be a synchronous Session"
    )


def untyped_outside_entered(flow: Flow, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
    """`db.execute()` in `with sm.context_session() as db:`, entered from what code outside PATH
    makes: the reason the call is unverified, else None."""
    called = _session_method(call)
    if called is None:
        return None
    name, method = called
    bound = [b for b in function.bindings if b.name == name]
    if not bound or not all(b.entered and not b.asynchronous for b in bound) or flow.env(fid).get(name):
        return None
    if any(p.name == name for p in function.params):
        return None
    if method not in _DISTINCT_SESSION_METHODS and not _session_named(name):
        return None
    if not all(b.expr != facts.UNSPELLED and _made_outside(flow.project, b.expr) for b in bound):
        return None
    return (
        f"`{name}.{method}()` is called on `{name}`, entered from "
        f"`{flow.project.written(bound[0].expr)}` (line {bound[0].line}), code outside PATH the analysis "
        "cannot see: it may be a synchronous Session"
    )


def _outside_gift(project: Project, ref: str) -> str | None:
    """What the plain `def` dependency `ref` yields or returns, as written, when it is made by
    code outside PATH (directly, or through a local bound once); else None."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.function is None or target.module is None:
        return None
    function = target.function
    if function.is_async:
        return None
    given = (*function.yielded, *function.yielded_from, *function.returned)
    for expression in given:
        for made in _origins(function, expression):
            if _made_outside(project, made):
                return made
    return None


def _origins(function: facts.Function, expression: str) -> list[str]:
    """`expression`, or for a bare local the expressions bound to it (not through `with`)."""
    if not expression.startswith("$") or "." in expression or "(" in expression:
        return [expression]
    name = expression[1:]
    return [b.expr for b in function.bindings if b.name == name and not b.entered and b.expr != facts.UNSPELLED]


def _made_outside(project: Project, expression: str) -> bool:
    """A call of something outside PATH (`vendor.new_session()`), or of an attribute of a
    module-level value code outside PATH built (`sm.get_db()` on `sm = FastAPISessionMaker(url)`)."""
    head, steps = split(expression)
    if head.startswith(("$", "super()")) or not steps or steps[-1] != "()" or "()" in steps[:-1]:
        return False
    ref = head + "".join(steps[:-1])
    owner = ref
    while owner:
        target = project.resolve(owner)
        if target is not None:
            if target.kind == "external":
                # a known client class (`redis.Redis()`, `requests.Session()`) makes no Session
                return _library(owner) and not (owner == ref and project.canonical(ref) in NON_SESSION_CLASSES)
            if owner != ref and target.kind == "value" and target.value is not None and target.value.kind == "call":
                built = project.resolve(target.value.ref)
                return (
                    built is not None and built.kind == "external" and _library(target.value.ref or "")
                    and project.canonical(target.value.ref) not in NON_SESSION_CLASSES  # `client.pipeline()`
                )
            return False
        owner = owner.rpartition(".")[0]
    return False


def _library(ref: str) -> bool:
    """Not SQLAlchemy's, FastAPI's or the standard library's own: those the flow types, or they
    make no Session."""
    top = ref.partition(".")[0]
    return top not in ("sqlalchemy", "sqlmodel", "fastapi", "starlette", "contextlib", "functools", "builtins")
