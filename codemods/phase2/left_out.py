"""Methods of a class holding the Session that cannot move, left out of its parallel async class.

A service holding the Session (`Publisher(db)`) with one method that cannot become `async def`
(`def lines(self): for row in self.db.scalars(q): yield ...`, a generator a `StreamingResponse`
iterates in the threadpool; a property; a decorated method; any method with a blocker of its
own) need not keep the routes that only call its other methods (`publish`) on the synchronous
Session. Moved in place, the class would hold an AsyncSession that the method left synchronous
then works on, so the class gets a parallel async class without that method: the routes reaching
only the rest use the copy, and the synchronous class stays whole for the routes calling the
method, which stay blocked naming it. A method of the class calling one left out (through `self`)
or sharing its name in the hierarchy is left out with it: the copy has nothing for it to call.

Only a class whose `__init__` receives the Session and whose methods are no routes (a class-based
view moves with its routes as one).

The copy also leaves out the methods no migrating code runs (`running`): a repository shared
with a synchronous report keeps `count()` for it alone, and the copy holds what the routes call.

Sources: `holders.holder_classes` (each family's moving methods), the caller's per-method blockers.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import cast

from async_migrate.codemods.phase2 import holders, methods
from async_migrate.codemods.project import FunctionId, Project


def left_out(
    project: Project, blocked: Callable[[FunctionId], bool], read: Callable[[str], str] | None = None
) -> dict[FunctionId, FunctionId]:
    """Every method left out of its class's async copy -> the method whose own blocker is the
    cause (itself, or the one it calls). `blocked(fid)` says whether a method has a blocker of
    its own, not one of its whole class. Kept per project: the first call (phase two's closure,
    given `read`) decides; without the source a method named as a value cannot be ruled out."""
    found = project.derived.get("phase2.left_out")
    if found is None:
        # Nothing is left out while this is decided (a blocker read on the way may ask again).
        project.derived["phase2.left_out"] = {}
        found = project.derived["phase2.left_out"] = _find(project, blocked, read)
    return cast("dict[FunctionId, FunctionId]", found)


def _find(
    project: Project, blocked: Callable[[FunctionId], bool], read: Callable[[str], str] | None
) -> dict[FunctionId, FunctionId]:
    routed = {handler.id for handler in project.handlers}
    found: dict[FunctionId, FunctionId] = {}
    seen: set[str] = set()
    for holder in holders.holder_classes(project).values():
        family = holder.family or (holder.ref,)
        if family[0] in seen:
            continue
        seen.add(family[0])
        if holder.init is None or holder.methods & routed:
            continue
        cause = {fid: fid for fid in sorted(holder.methods) if blocked(fid)}
        changed = bool(cause)
        while changed:
            changed = False
            names = {project.functions[fid][1].name: why for fid, why in cause.items()}
            for fid in sorted(holder.methods - set(cause)):
                name = project.functions[fid][1].name
                through = next((cause[e.callee] for e in project.all_calls_from[fid] if e.callee in cause), None)
                why = names.get(name, through)
                if why is not None:
                    cause[fid] = why
                    changed = True
        # Called where the analysis cannot tell on what (`x.lines()`), or named as a value
        # (`callbacks = [feed.lines]`): that code might run it on the copy, which lacks it.
        if any(methods.unresolved_callers(project, fid) or _unresolved_uses(project, fid, read) for fid in cause):
            continue
        found.update(cause)
    return found


def _unresolved_uses(project: Project, fid: FunctionId, read: Callable[[str], str] | None) -> list[str]:
    """Where the method is named uncalled (`feed.lines` handed on, a property read) on a line with
    no read or call the analysis resolved to it (`Catalogue(db).titles` is not)."""
    resolved = {f"{project.functions[e.caller][0].path}:{e.call.line}" for e in project.all_calls_to[fid]}
    return [place for place in methods.value_uses(read, project, project.functions[fid][1].name) if place not in resolved]


def describe(project: Project, fid: FunctionId, cause: FunctionId) -> str:
    """`Publisher.lines` (`api/items.py:24`), or `Publisher.csv` (`...`), which calls `Publisher.lines` (...)."""
    def named(method: FunctionId) -> str:
        module, function = project.functions[method]
        return f"`{function.qualname}` ({module.path}:{function.line})"

    return named(fid) if fid == cause else f"{named(fid)}, which calls {named(cause)}"


def running(
    project: Project, copied: set[FunctionId], users: set[FunctionId], read: Callable[[str], str] | None
) -> set[FunctionId]:
    """What migrating code runs: `users` (routes, their dependencies' twins, what moves in
    place), every function they reach through calls, and the methods of `copied` (those going to
    parallel async classes) among them. The other methods of `copied` are left out of the copy,
    whose class keeps them for the code that stays synchronous, and what only those call keeps
    its synchronous form. A method runs when a function that runs calls it, or calls a method of
    its name (`super().names()`, an override one call may dispatch to, a call the analysis did
    not resolve). Kept whatever calls them: special methods (`__init__`, `__aenter__`), decorated
    ones (a property is read, not called), those named uncalled or looked up by name
    (`callbacks = [repo.names]`, `getattr(repo, "names")`; anywhere, or without the source), those
    a base declares too (an `@abstractmethod` stub the copy must implement, a name code of the
    base may call), and every method of a class with a base neither the project's nor the
    standard library's (what it declares or calls is not read)."""
    classes = project.flow.classes
    by_name: dict[str, list[FunctionId]] = {}
    for fid in copied:
        by_name.setdefault(project.functions[fid][1].name, []).append(fid)
    queue = sorted(users)
    for fid in sorted(copied):
        function = project.functions[fid][1]
        owner = classes.owner(fid)
        if (
            function.name.startswith("__") or function.decorators or owner is None
            or any(function.name in classes.methods.get(base, {}) for base in classes.mro(owner)[1:])
            or any(_unread_base(project, base) for ref in classes.mro(owner) for base in classes.by_ref[ref][1].bases)
            or methods.value_uses(read, project, function.name)
        ):
            queue.append(fid)
    seen: set[FunctionId] = set()
    while queue:
        fid = queue.pop()
        if fid in seen:
            continue
        seen.add(fid)
        # Whatever migrating code calls may be handed the copy (`partial(add_item, name, UnitOfWork(db))`):
        # every function it reaches counts, not the copied methods alone.
        queue.extend(e.callee for e in project.all_calls_from.get(fid, ()))
        for call in project.functions[fid][1].calls:
            written = call.method or (call.func or call.callee or "").rpartition(".")[2]
            queue.extend(by_name.get(written, ()))
    return seen


def _unread_base(project: Project, base: str) -> bool:
    """A base class neither the project's (read) nor the standard library's or a builtin."""
    if project.flow.classes.resolve(base) is not None:
        return False
    canonical = project.canonical(base) or base
    top = canonical.partition(".")[0]
    return top not in sys.stdlib_module_names and not (
        "." not in canonical and isinstance(getattr(builtins, canonical, None), type)
    )
