"""AsyncSessions an `async def` handler shares with every request of the process (check's AM338).

`db = SessionLocal()` at module level, and `crud = CRUD(SessionLocal())` whose `__init__` keeps
the AsyncSession as `self.db`, are made once, at import: each request's awaited work on them
overlaps the others' at every `await`, on one Session and one transaction. Read off the
handler's own awaited calls: on a module-level AsyncSession (`held_commits.module_sessions`), on
methods of a module-level object whose class holds an AsyncSession and works on it
(`held_commits`), and `async with` such an object. Unverified where that class sets the
attribute outside its `__init__` (a Session per use, on one shared object).
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.cached_sessions import NO_SESSION, cached_opener, cached_sessions, made_at
from async_migrate.codemods.held_commits import (
    _NO_SESSION,
    _assignment,
    _expiring_cached,
    _held_attribute,
    _module_session,
    _spelled,
    module_sessions,
)
from async_migrate.codemods.project import FunctionId, Project


@dataclass(frozen=True, slots=True)
class SharedAsyncUse:
    """One awaited use of a process-wide AsyncSession: the handler's line, the call as written,
    where the shared object is made, and whether the analysis cannot tell it is one Session."""

    line: int
    call: str
    made: str  # where: `at import at path:line` of the module-level assignment, or the cached opener
    unverified: bool


def shared_async_uses(project: Project, fid: FunctionId) -> list[SharedAsyncUse]:
    """The handler's awaited calls on AsyncSessions made at import, or on objects made at import
    that hold one and work on it, in line order (one per line)."""
    from async_migrate.codemods.classes import project_classes

    module, function = project.functions[fid]
    found: dict[int, SharedAsyncUse] = {}
    sessions = module_sessions(project, fid)
    cached = cached_sessions(project, fid)
    for call in function.calls:
        if not call.awaited or call.nested:
            continue
        use = _cached_use(project, module, call, cached)
        if use is None and call.receiver in sessions and call.callee:
            made = _made(project, call.callee.rpartition(".")[0])
            use = SharedAsyncUse(call.line, f"{call.receiver}.{call.method}()", made, False) if made is not None else None
        elif use is None and call.receiver is None and call.func is None and call.callee:
            # `await db_module.SESSION.get(...)`: the module-level AsyncSession through its module
            shared = call.callee.rpartition(".")[0]
            made = _made(project, shared) if _module_session(project, shared) is not _NO_SESSION else None
            use = SharedAsyncUse(call.line, f"{_spelled(module, call.callee)}()", made, False) if made is not None else None
        if use is not None:
            found.setdefault(call.line, use)
    classes = project_classes(project)
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        called = call.func if call.index == -1 else call.callee
        if not call.awaited or call.nested or not called or called.startswith("$") or (call.index != -1 and call.func is not None):
            continue
        receiver = called.rpartition(".")[0]
        made = _made(project, receiver) if receiver and not receiver.endswith(")") else None
        attribute = _held_attribute(project, edge.callee) if made is not None else None
        if made is None or attribute is None or not _expiring_cached(project, edge.callee, attribute, None):
            continue
        cls = classes.owner(edge.callee)
        stored = _assignment(project, cls, attribute) if cls is not None else None
        head, _, method = _spelled(module, called).rpartition(".")
        written = f"async with {head}: ({method})" if call.index == -1 else f"{head}.{method}()"
        found.setdefault(call.line, SharedAsyncUse(call.line, written, made, stored is None))
    return [found[line] for line in sorted(found)]


def _cached_use(
    project: Project, module: facts.Module, call: facts.Call, cached: dict[str, tuple[str, bool | None]],
) -> SharedAsyncUse | None:
    """An awaited call on the Session a cached function's first call opened: through the local
    bound to it (`db = get_session()`), or on the call itself (`await get_session().get(...)`)."""
    if call.receiver in cached:
        return SharedAsyncUse(call.line, f"{call.receiver}.{call.method}()", made_at(project, cached[call.receiver][0]), False)
    func = call.func or ""
    opener, _, method = func.partition("().")
    if func.startswith("$") or func.count("().") != 1 or "." in method or cached_opener(project, opener) is NO_SESSION:
        return None
    spelled = next((name for name, target in module.imports.items() if target == opener), None)
    return SharedAsyncUse(call.line, f"{spelled or _spelled(module, opener)}().{method}()", made_at(project, opener), False)


def _made(project: Project, ref: str) -> str | None:
    """`at import at path:line` of the module-level assignment of a call's result `ref` names, or None."""
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if target is None or target.module is None or value is None or value.kind != "call":
        return None
    return f"at import at {target.module.path}:{value.line}"
