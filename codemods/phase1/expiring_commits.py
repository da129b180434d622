"""Commits that expire objects a handler reads on the event loop, where the Session is not a
parameter: a unit of work's or service's method committing the Session its instance holds, and
a mapped class's method committing the Session it is handed or its object belongs to. Read by
`expired_deps` (AM307) beside the commits of a Session parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods.phase2.expired_reads import commits
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import FunctionId, Project

def model_method_commits(project: Project, function: facts.Function, sessions: set[str]) -> set[int]:
    """Lines where a method of a mapped class commits, called on an object one of the function's
    queries loaded (`hero = session.get(Hero, i)` then `hero.mark_seen(session)`, `mark_seen`
    committing what it is handed, or the Session the object belongs to): the value flow types such
    an object as a query's result, so the call graph has no edge for it."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    found: set[int] = set()
    for call in function.calls:
        if call.nested or call.receiver is None or call.method is None or call.receiver in sessions:
            continue
        models = {
            function.loads[term[1]].model for term in function.holds.get(call.receiver, ())
            if term[0] == "load" and term[1] < len(function.loads) and function.loads[term[1]].session in sessions
        }
        for model in models:
            owner = classes.resolve(model) if model else None
            methods = classes.method(owner, call.method)[0] if owner in classes.by_ref else []
            if any(commits(project, method) or _commits_a_session(project, method) for method in methods):
                found.add(call.line)
    return found


def holder_params(project: Project, fid: FunctionId, function: facts.Function, sessions: set[str]) -> set[str]:
    """The handler's parameters holding a synchronous Session in an object (a unit of work, a
    service or repository a dependency builds on it: `dynamic_holders.holder`)."""
    from async_migrate.codemods.dynamic_holders import holder

    flow = project.flow
    return {
        p.name for p in function.params
        if p.name not in sessions and p.name != "self" and holder(flow, flow.evaluate(fid, f"${p.name}")) is not None
    }


def holder_commits(project: Project, fid: FunctionId) -> bool:
    """Whether a method of a class whose instances hold a synchronous Session commits one
    (`self.session.commit()`, `self.uow.commit()`): `_commits_a_session`."""
    from async_migrate.codemods.dynamic_holders import holder
    from async_migrate.codemods.flow import INSTANCE, Abstract

    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    flow = project.flow
    if not owner or holder(flow, frozenset({Abstract(INSTANCE, f"{module.name}.{owner}")})) is None:
        return False
    return _commits_a_session(project, fid)


def _commits_a_session(project: Project, fid: FunctionId, depth: int = 0) -> bool:
    """Whether a function commits a synchronous Session it does not open itself: `x.commit()` on
    any expression the value flow reads as a Session (`self.session`, `object_session(self)`
    bound to a name), or through project functions it calls, at most four deep."""
    if project.opens_directly(fid):
        return False
    _, function = project.functions[fid]
    flow = project.flow
    for call in function.calls:
        receiver, dot, method = (call.func or "").rpartition(".")
        if dot and method == "commit" and receiver.startswith("$") and flow.holds(fid, receiver) is not None:
            return True
    return depth < 4 and any(
        edge.callee != fid and not edge.call.offloaded and _commits_a_session(project, edge.callee, depth + 1)
        for edge in project.all_calls_from[fid]
    )


def makers_expire(project: Project) -> bool:
    """Whether a synchronous Session the project opens may expire on commit: False only when every
    module-level `sessionmaker(...)` of the project is written with `expire_on_commit=False`."""
    makers = [
        value for module in project.modules.values() for value in module.values.values()
        if value.kind == "call" and project.canonical(value.ref) in PLAIN_SESSIONMAKERS
    ]
    return not makers or any(expires_on_commit(maker) for maker in makers)


def expires_on_commit(maker: facts.Value) -> bool:
    """Whether the Sessions a module-level `sessionmaker(...)` makes expire on commit: unless it is
    written with a literal `expire_on_commit=False`."""
    return not any(a.keyword == "expire_on_commit" and a.text == "False" for a in maker.args)
