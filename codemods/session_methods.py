"""Methods a project subclass of a synchronous Session adds, called on the Session.

`class DBSession(Session)` with `def get_or_404(self, model, ident)` calling `self.get(...)`,
handed out by `sessionmaker(class_=DBSession)`: a route's `db.get_or_404(Room, room_id)` is no
method of the library's Session, so the Session calls the analysis knows by name miss it, and
the value flow, which knows the route's `db` only as a Session, runs no project method for it.
Yet it does the Session's I/O where it is called, as `db.get(...)` would. This module finds
such calls: the receiver a synchronous Session of the function, the method one a project
Session subclass defines whose body does Session work (on `self`, through its other methods,
or through a helper it hands `self`). A method doing none (`def label(self): return "x"`)
is no work. Phase two already runs these methods through `run_sync` by their names
(`phase2/session_subclass.py`). A Session an object holds (`self.db.get_or_404(...)` in a
repository, `repo.db.get_or_404(...)`) runs them too: `working_names` is what the held-Session
work (`Project.own_work`) takes by name, and `held_expiry` what blocks phase two there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_SESSION_TYPES, SESSION_IO_METHODS

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 6  # helpers handed `self` followed this deep


def subclass_methods(project: Project) -> dict[str, list[FunctionId]]:
    """Methods the project's synchronous Session subclasses define (not special methods, not
    the library's Session I/O methods, which the Session calls cover already): name -> the
    defining methods, each class's own. One answer per project (`project.derived`)."""
    known = project.derived.get("session_subclass_methods")
    if known is None:
        known = project.derived["session_subclass_methods"] = _subclass_methods(project)
    return known  # type: ignore[return-value]


def _subclass_methods(project: Project) -> dict[str, list[FunctionId]]:
    found: dict[str, list[FunctionId]] = {}
    classes = project.flow.classes
    for ref, root in project.session_subclasses.items():
        if root in ASYNC_SESSION_TYPES or ref not in classes.by_ref:
            continue
        for name, fid in classes.methods.get(ref, {}).items():
            if name.startswith("__") or name in SESSION_IO_METHODS:
                continue
            found.setdefault(name, []).append(fid)
    return found


def working_names(project: Project) -> frozenset[str]:
    """The names of the Session subclass methods that do Session work (`method_work`): what a
    call on a Session some object holds (`self.db.get_or_404(...)`) runs by its name."""
    return frozenset(
        name for name, fids in subclass_methods(project).items() if any(method_work(project, f) for f in fids)
    )


# The Session calls that expire what the Session holds: migrated, a read of an object after one
# loads on the event loop (MissingGreenlet), which phase two follows on the route's own Session
# calls but not into a method run through `run_sync`.
EXPIRING = frozenset({"commit", "rollback", "expire", "expire_all"})


def method_work(project: Project, fid: FunctionId) -> str | None:
    """Where the Session subclass method `fid` first does Session work on its `self`, as
    `path:line (text)`; None when it does none. Kept per project."""
    return _kept(project, fid, SESSION_IO_METHODS)


def method_expiry(project: Project, fid: FunctionId) -> str | None:
    """Where the Session subclass method `fid` first commits, rolls back or expires its `self`
    (`EXPIRING`), as `path:line (text)`; None when it does none of these."""
    return _kept(project, fid, EXPIRING)


def held_expiry(project: Project, method: str) -> tuple[FunctionId, str] | None:
    """A Session subclass method named `method` that commits, rolls back or expires, with where
    (`method_expiry`): what `self.db.save(item)` on a held Session may run, by its name. None
    when no such method does."""
    for target in subclass_methods(project).get(method, ()):
        where = method_expiry(project, target)
        if where is not None:
            return target, where
    return None


def expiry_message(project: Project, written: str, name: str, target: FunctionId, where: str) -> str:
    """Why `written.name()`, running the Session subclass method `target` that expires at `where`,
    blocks phase two, and its fix after "; fix: "."""
    owner, method = project.functions[target]
    return (
        f"`{written}.{name}()` runs {method.qualname} ({owner.path}:{method.line}), a method the project's "
        f"Session subclass adds, which phase two runs through `run_sync`; it expires the Session's objects "
        f"at {where}, and whether the code reads one of them after it (a load on the event loop, "
        "MissingGreenlet under AsyncSession) is not followed into the method; fix: "
        f"commit, roll back or expire in the route itself (`{written}.commit()`), not inside `{name}()`, "
        f"then run phase two again; or migrate the route by hand, refreshing what it reads after `{name}()`"
    )


def _kept(project: Project, fid: FunctionId, wanted: frozenset[str]) -> str | None:
    known: dict[tuple[FunctionId, frozenset[str]], str | None] = project.derived.setdefault(  # type: ignore[assignment]
        "session_method_work", {}
    )
    key = (fid, wanted)
    if key not in known:
        known[key] = None  # a cycle guard: methods calling each other
        known[key] = _work_on(project, fid, _self_name(project, fid), 0, wanted)
    return known[key]


def _self_name(project: Project, fid: FunctionId) -> str | None:
    """The name a method's instance goes by; None for a static method or a classmethod."""
    _, function = project.functions[fid]
    if not function.params or project.flow.is_classmethod(fid):
        return None
    if any((d.callee or "").endswith("staticmethod") for d in function.decorators):
        return None
    return function.params[0].name


def _work_on(project: Project, fid: FunctionId, name: str | None, depth: int, wanted: frozenset[str]) -> str | None:
    """Where `fid` calls one of the Session methods `wanted` on the Session its parameter `name`
    holds, directly or through the Session subclass methods it calls on it, or the project
    helpers it hands it to."""
    module, function = project.functions[fid]
    if name is None or function.is_async or depth > _DEPTH:
        return None
    methods = subclass_methods(project)
    for call in function.calls:
        if call.nested or call.offloaded:
            continue  # a nested function may not run; a worker thread's work blocks no caller
        own = call.receiver == name or (call.func or "").startswith("super().")
        if own and call.method in wanted:
            return f"{module.path}:{call.line} ({(call.receiver or 'super()')}.{call.method}())"
        if call.receiver == name and call.method in methods:
            owner = project.flow.classes.owner(fid)
            targets, _ = project.flow.classes.method(owner, call.method) if owner else ([], True)
            if any(_kept(project, target, wanted) is not None for target in targets):
                return f"{module.path}:{call.line} ({name}.{call.method}())"
        if not any(arg.name == name for arg in call.args):
            continue
        for target in project.project_callees.get(id(call), ()):
            callee = project.functions[target][1]
            for arg in call.args:
                param = facts.parameter_of(callee, arg) if arg.name == name else None
                if param is not None and _work_on(project, target, param, depth + 1, wanted) is not None:
                    return f"{module.path}:{call.line} ({project.written(call.callee or call.func or '')}(...))"
    return None


def declared_classes(project: Project, function: facts.Function, name: str) -> set[str]:
    """The project Session subclasses the parameter `name` is declared as (`db: DBSession`, an
    `Annotated[DBSession, Depends(...)]` alias); empty when it is declared as none."""
    param = next((p for p in function.params if p.name == name), None)
    if param is None:
        return set()
    refs = list(param.annotation)
    for ref in param.annotation:
        value = project._module_value(ref)
        if value is not None and value.kind == "annotated":
            refs.extend(value.annotation)
    return {found for ref in refs if (found := project.session_subclass(ref)) is not None}


def targets(project: Project, fid: FunctionId, receiver: str, method: str) -> list[FunctionId]:
    """The Session subclass methods `receiver.method(...)` in `fid` may run, `receiver` one of its
    synchronous Sessions: a receiver declared as a project subclass runs that class's method; one
    the code knows only as a Session, any method of that name a subclass defines (as phase two's
    `run_sync` does by the name). [] for any other receiver or method."""
    methods = subclass_methods(project)
    if method not in methods or receiver not in project.session_names_view(fid):
        return []
    _, function = project.functions[fid]
    declared = declared_classes(project, function, receiver)
    if not declared:
        return methods[method]
    return [t for cls in sorted(declared) for t in project.flow.classes.method(cls, method)[0]]


def session_method_calls(project: Project, fid: FunctionId) -> list[tuple[facts.Call, FunctionId, str]]:
    """The calls in `fid` of a working Session subclass method on one of its synchronous
    Sessions (`db.get_or_404(Room, room_id)`, `targets`): each with the method it runs and where
    that does Session work."""
    if not subclass_methods(project):
        return []
    _, function = project.functions[fid]
    found: list[tuple[facts.Call, FunctionId, str]] = []
    for call in function.calls:
        if call.receiver is None or call.method is None:
            continue
        for target in targets(project, fid, call.receiver, call.method):
            where = method_work(project, target)
            if where is not None:
                found.append((call, target, where))
                break
    return found
