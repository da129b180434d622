"""Project classes a library base keeps a Session for: `BaseModel.set_session(session)` (the
ActiveRecord mixins of sqlalchemy-mixins and their like), `BaseModel.session = session`.

A method such a class inherits from outside PATH (`User.find(1)`, `User.create(...)`,
`user.save()`) may run on that Session. The analysis cannot see into it, so a call of one is
unverified, never "no Session work".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import (
    CLASS,
    CONNECTION,
    ENGINE,
    FACTORY,
    INSTANCE,
    MAKER,
    REGISTRY,
    SCOPED_MAKER,
    SESSION,
)

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

# What a library base may run queries on once handed it.
_SESSION_LIKE = frozenset({SESSION, FACTORY, MAKER, SCOPED_MAKER, REGISTRY, ENGINE, CONNECTION})
# SQLAlchemy's own class-level calls given an engine once, at start-up (`Base.prepare(engine)` of
# automap and DeferredReflection): they map the classes and keep no Session for their methods.
_MAPPING_CALLS = frozenset({"prepare", "reflect", "create_all", "drop_all"})


@dataclass(frozen=True, slots=True)
class Handoff:
    """Where a Session-like value was handed to a project class's library base: `written` is
    `BaseModel.set_session(...)` or `BaseModel.session = ...`, at `path`:`line`."""

    owner: str
    name: str
    written: str
    path: str
    line: int


def library_bound(project: Project) -> dict[str, Handoff]:
    """Project classes (resolved references) handed a Session, an engine or a sessionmaker
    through an attribute they do not declare (so a library base does), module-level or in a
    function: class -> the first handoff seen."""
    flow = project.flow
    classes = flow.classes
    found: dict[str, Handoff] = {}

    def session_like(values: frozenset) -> bool:
        return any(v.kind in _SESSION_LIKE for v in values)

    for module in project.modules.values():
        for owner, form, refs, line in module.class_handoffs:
            name = form.lstrip("=")
            if owner in found or owner not in classes.by_ref or name in _MAPPING_CALLS or flow.knows_attribute(owner, name):
                continue
            if any(session_like(flow.ref(ref)) for ref in refs):
                shown = f"{classes.short(owner)}.{name} = ..." if form[0] == "=" else f"{classes.short(owner)}.{name}(...)"
                found[owner] = Handoff(owner, name, shown, module.path, line)
    for fid, (module, function) in project.functions.items():
        for call in function.calls:
            if not call.args or call.callee is None or call.awaited:
                continue
            owner, dot, name = call.callee.rpartition(".")
            if not dot or owner in found or owner not in classes.by_ref or name in _MAPPING_CALLS \
                    or flow.knows_attribute(owner, name):
                continue
            handed = [a.expr or a.ref or (f"${a.name}" if a.name else None) for a in call.args]
            # an argument that is a call itself (`set_session(SessionLocal())`) is a call of its own
            handed += [f"{c.callee}()" for c in function.calls if c.argument_of == call.index and c.callee]
            if any(session_like(flow.evaluate(fid, h)) for h in handed if h):
                found[owner] = Handoff(owner, name, f"{classes.short(owner)}.{name}(...)", module.path, call.line)
    return found


def library_call(
    project: Project, bound: dict[str, Handoff], fid: FunctionId, call: facts.Call, receiver: str
) -> str | None:
    """`User.find(1)`, `user.save()`: a method the receiver's class does not declare, on a class
    whose library base was handed a Session: the reason it is unverified, else None."""
    name = (call.func or call.callee or "").rpartition(".")[2]
    if not name or name.startswith("__") or call.awaited:
        return None
    flow = project.flow
    classes = flow.classes
    for value in flow.evaluate(fid, receiver):
        cls = value.target
        if value.kind not in (CLASS, INSTANCE) or not isinstance(cls, str) or cls not in classes.by_ref:
            continue
        handoff = next((bound[a] for a in classes.mro(cls) if a in bound), None)
        if handoff is None or name == handoff.name or flow.knows_attribute(cls, name):
            continue
        return (
            f"`{project.written(call.func or call.callee or name)}()` is no method of {classes.short(cls)} "
            f"the project defines: it comes from a base outside PATH, which was handed a synchronous "
            f"Session (`{handoff.written}`, {handoff.path}:{handoff.line}) and may run queries on it"
        )
    return None
