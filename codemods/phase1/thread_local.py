"""Thread-local state a handler uses (AM141), in its own body or through the plain helpers it calls.

A module-level `threading.local()` object (or an instance of a project class subclassing it)
holds one value per thread: the event loop's thread sees what the code on the loop set, a worker
thread of the threadpool its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.python import THREAD_LOCALS


@dataclass(frozen=True, slots=True)
class ThreadLocalUse:
    """The thread-local object used (as written resolved, `app.context._local`), and the helpers a
    handler calls to reach it (empty for its own body), with the line of the first call."""

    subject: str
    helpers: tuple[FunctionId, ...] = ()
    call_line: int = 0


def thread_local_objects(project: Project) -> frozenset[str]:
    """Module-level names bound to a `threading.local()` (or a project subclass's instance)."""
    cached = project.derived.get("phase1.thread_locals")
    if cached is None:
        classes = project_classes(project)
        found: set[str] = set()
        for module in project.modules.values():
            for name, value in module.values.items():
                if value.kind != "call" or value.ref is None:
                    continue
                if project.canonical(value.ref) in THREAD_LOCALS:
                    found.add(f"{module.name}.{name}")
                    continue
                cls = classes.resolve(value.ref)
                if cls is not None and any(
                    project.canonical(base) in THREAD_LOCALS
                    for ancestor in classes.mro(cls) for base in classes.by_ref[ancestor][1].bases
                ):
                    found.add(f"{module.name}.{name}")
        cached = project.derived["phase1.thread_locals"] = frozenset(found)
    return cached  # type: ignore[return-value]


def own_use(project: Project, fid: FunctionId) -> str | None:
    """The first thread-local object the function's own body uses (`_local.tenant`, `getattr(_local, ...)`)."""
    objects = thread_local_objects(project)
    if not objects:
        return None
    for ref in project.functions[fid][1].module_reads:
        parts = ref.split(".")
        # `app.ctx._local.tenant`: the object is some prefix, re-exported names followed
        for end in range(len(parts), 0, -1):
            if project.canonical(".".join(parts[:end])) in objects:
                return ".".join(parts[:end])
    return None


def reached_use(project: Project, fid: FunctionId) -> ThreadLocalUse | None:
    """The first thread-local use of a plain `def` helper the function calls in place, followed
    through the call graph as the event-loop needs are (not nested, offloaded or awaited calls,
    no `async def` helper)."""
    if not thread_local_objects(project):
        return None
    seen = {fid}
    pending: list[tuple[FunctionId, tuple[FunctionId, ...], int]] = [(fid, (), 0)]
    while pending:
        current, chain, first_line = pending.pop(0)
        for edge in sorted(project.all_calls_from[current], key=lambda e: e.call.line):
            call = edge.call
            if call.nested or call.offloaded or call.awaited or edge.callee in seen:
                continue
            if project.functions[edge.callee][1].is_async:
                continue
            seen.add(edge.callee)
            line = first_line or call.line
            used = own_use(project, edge.callee)
            if used is not None:
                return ThreadLocalUse(used, (*chain, edge.callee), line)
            pending.append((edge.callee, (*chain, edge.callee), line))
    return None
