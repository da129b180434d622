"""Calls run in a worker thread on Sessions phase two never moves: left synchronous, not followed.

An awaitable facade handing each call of a synchronous client to a thread (`await
asyncio.to_thread(lambda: self.sync.delete(ids))`), the client holding a Session it makes itself
(`self.session = scoped_session(SessionLocal)`), never meets the request's Session and never runs
on the event loop: phase two leaves that work synchronous and migrates the route around it.
Following such a call instead blocked the route on the client's class (it cannot move) and on
the other backends the call may run.

The call qualifies only when nothing of the caller's Session reaches the thread (no Session
argument, no instance holding one, no receiver that may be one) and every implementation it
may run, with everything that runs synchronously below it, either does no Session work or
works only on the Session its own class makes for itself (a thread-scoped `scoped_session`,
its own sessionmaker): such a class cannot move (`holders`), so phase two never turns those
methods into coroutines under the thread's feet.
"""

from __future__ import annotations

import re
from typing import cast

from async_migrate.codemods.flow import CLASS, FACTORY, INSTANCE, REGISTRY, SESSION, THREAD
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.project import Edge, FunctionId, Project

# What an attribute may hold for the class to have made its Session itself.
_MADE = frozenset({SESSION, FACTORY, REGISTRY})


def runs_own_session_in_thread(project: Project, edge: Edge) -> bool:
    """Whether `edge` is such a call (every implementation of its call judged together)."""
    if not edge.call.offloaded:
        return False
    kept = cast("dict[tuple[FunctionId, int], bool]", project.derived.setdefault("phase2.thread_own", {}))
    key = (edge.caller, edge.call.index)
    found = kept.get(key)
    if found is None:
        found = kept[key] = _judge(project, edge)
    return found


def only_in_threads(project: Project, fid: FunctionId) -> bool:
    """A coroutine function whose Session work all runs in such calls (`AsyncIndex.delete`):
    nothing of it moves, so it is no helper of the route."""
    kept = cast("dict[FunctionId, bool]", project.derived.setdefault("phase2.only_in_threads", {}))
    found = kept.get(fid)
    if found is None:
        found = kept[fid] = _only_in_threads(project, fid, frozenset())
    return found


def _only_in_threads(project: Project, fid: FunctionId, seen: frozenset[FunctionId]) -> bool:
    _, function = project.functions[fid]
    if not function.is_async or fid in seen or project.own_work(fid) or project.session_params.get(fid):
        return False
    if project.opens_session(fid) or project.opens_directly(fid):
        return False
    seen = seen | {fid}
    return all(
        runs_own_session_in_thread(project, e) or e.callee not in project.work_chains
        or _only_in_threads(project, e.callee, seen)
        for e in project.all_calls_from.get(fid, ())
    )


def _judge(project: Project, edge: Edge) -> bool:
    same = [e for e in project.all_calls_from[edge.caller] if e.call.index == edge.call.index]
    if any(e.session_args or holders.passes_held(project, e) for e in same):
        return False
    if holders.held_through_instance(project, edge.caller, edge.call.args) is not None:
        return False
    if edge.via is not None and not _plain_receiver(project, edge):
        return False
    kept = cast("dict[FunctionId, bool]", project.derived.setdefault("phase2.own_below", {}))
    for e in same:
        if e.callee not in kept:
            kept[e.callee] = _own_below(project, e.callee)
    return all(kept[e.callee] for e in same)


def _plain_receiver(project: Project, edge: Edge) -> bool:
    """The object the method is called on holds no Session that may be the request's."""
    receiver = (edge.via or "").rpartition(".")[0]
    if not receiver:
        return True
    table = holders.holder_classes(project)
    for value in project.flow.evaluate(edge.caller, f"${receiver}"):
        if value.kind == INSTANCE:
            holder = table.get(str(value.target))
            if holder is not None and not _self_made(project, holder):
                return False
        elif value.kind != CLASS:
            # a Session, something built from one the analysis cannot see, an unknown kind
            return False
    return True


def _own_below(project: Project, start: FunctionId) -> bool:
    """`start` and every synchronous function below it do Session work only on what their own
    class makes (or none at all)."""
    seen: set[FunctionId] = set()
    stack = [start]
    while stack:
        fid = stack.pop()
        if fid in seen:
            continue
        seen.add(fid)
        _, function = project.functions[fid]
        if function.is_async:
            return False  # a coroutine made in the thread: not this shape
        if project.session_params.get(fid) or project.opens_session(fid) or project.opens_directly(fid):
            return False
        work = project.own_work(fid)
        if work and not _on_own_attribute(project, fid, work):
            return False
        stack.extend(e.callee for e in project.all_calls_from.get(fid, ()))
    return True


def _on_own_attribute(project: Project, fid: FunctionId, work: list[tuple[int, str]]) -> bool:
    holder = holders.holder_of(project, fid)
    _, function = project.functions[fid]
    if holder is None or not function.params or not _self_made(project, holder):
        return False
    own = function.params[0].name
    prefixes = tuple(f"{own}.{attribute}." for attribute in holder.attributes)
    return all(text.startswith(prefixes) for _, text in work)


def _self_made(project: Project, holder: holders.HolderClass) -> bool:
    """Every Session attribute of the class's family is assigned, in the class, something it
    makes itself: never a parameter (whoever builds it could hand the request's Session), never
    a registry scoped otherwise than per thread (a request-scoped one is the request's own)."""
    if holder.opened is not None:
        return False
    assigned = project.flow.classes.assigned
    flow = project.flow
    for ref in holder.family or (holder.ref,):
        for attribute in holder.attributes:
            for fid, expression in assigned.get((ref, attribute), ()):
                params = [p.name for p in project.functions[fid][1].params[1:]]
                if any(re.search(rf"\${re.escape(name)}\b", expression) for name in params):
                    return False
                values = flow.evaluate(fid, expression)
                if not values or any(
                    v.kind not in _MADE or (v.kind == REGISTRY and not (isinstance(v.target, tuple) and v.target[0] == THREAD))
                    for v in values
                ):
                    return False
    # A declared attribute nothing in the family assigns (a dataclass field) is filled by the caller.
    return all(
        any(assigned.get((ref, attribute)) for ref in holder.family or (holder.ref,))
        for attribute in holder.attributes
    )
