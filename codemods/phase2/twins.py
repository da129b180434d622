"""Names of async twins: free where the twin is defined and wherever it is imported."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_migrate.codemods import facts, twin_names
from async_migrate.codemods.phase2 import methods
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am207_helper_twin import RULE as AM207

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.closure import Closure, HelperDecision


def module_names(module: facts.Module) -> set[str]:
    """Every name a module binds at its top level: definitions, assignments, imports."""
    names = set(module.values) | {n for n in module.imports if n != "*"}
    names.update(f.qualname for f in module.functions if "." not in f.qualname)
    names.update(c.name for c in module.classes if "." not in c.qualname)
    return names


def name_twins(
    project: Project,
    closure: Closure,
    members: set[FunctionId],
    groups: list[set[FunctionId]],
    read: Callable[[str], str] | None,
) -> None:
    """`name_async`, or `name_async_2`, ...: the first name no module that will hold or import
    the twin binds already, so a twin never shadows (or is shadowed by) an existing name.
    A method's twin is named once for its dispatch group, free in every class of the
    hierarchies involved, so `super().name_async()` and overrides line up."""
    taken: dict[str, set[str]] = {}
    named: set[FunctionId] = set()
    for group in sorted(groups, key=sorted):
        twinned = sorted(fid for fid in group if closure.helpers[fid].action == "twin")
        if not twinned:
            continue
        base = project.functions[twinned[0]][1].name + project.config.twin_suffix
        reused = all(existing_twin(project, fid, base) for fid in twinned)
        name = base if reused else methods.twin_name(project, twinned, read)
        for fid in twinned:
            if reused:
                _reuse(closure.helpers[fid], name)
            else:
                _set_twin(project, closure.helpers[fid], name)
            named.add(fid)
    for fid, decision in sorted(closure.helpers.items()):
        if decision.action != "twin" or fid in named:
            continue
        module, function = project.functions[fid]
        base = function.name + project.config.twin_suffix
        if existing_twin(project, fid, base):
            _reuse(decision, base)
            continue
        homes = {module.name} | {
            edge.caller[0] for edge in project.all_calls_to[fid] if edge.caller in members
        } | {route[0] for route, chain in closure.dependency_twins.items() if fid in chain}
        for home in homes:
            if home not in taken:
                taken[home] = module_names(project.modules[home])
        used = set().union(*(taken[home] for home in homes))
        name = twin_names.free(base, used.__contains__)
        for home in homes:
            taken[home].add(name)
        _set_twin(project, decision, name)


def _set_twin(project: Project, decision: HelperDecision, name: str) -> None:
    decision.twin = name
    base = project.functions[decision.fid][1].name + project.config.twin_suffix
    if name != base:
        decision.reasons.append(AM207.reason(f"the twin is named `{name}`: `{base}` is already taken"))


def _reuse(decision: HelperDecision, name: str) -> None:
    decision.twin, decision.existing = name, True
    decision.reasons.append(AM207.reason(f"its async twin `{name}` exists already: the migrated code calls it"))


def existing_twin(project: Project, fid: FunctionId, name: str) -> bool:
    """Whether `name` beside `fid` (in its module, or its class for a method) is already its
    async twin: an `async def` with the same parameters, as an earlier run for another
    subsystem leaves it. The self-check reads it like a twin written now."""
    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    found = module.function(f"{owner}.{name}" if owner else name)
    return (
        found is not None
        # A dependency twin with no Session work of its own stays a plain `def`.
        and (found.is_async or not project.session_names(fid))
        and [(p.name, p.positional, p.variadic) for p in found.params]
        == [(p.name, p.positional, p.variadic) for p in function.params]
    )
