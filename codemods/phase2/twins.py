"""Names of async twins: free where the twin is defined and wherever it is imported."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from async_migrate.codemods import facts, sources, twin_names
from async_migrate.codemods.phase2 import methods, scope_openers, shadowed_imports
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am207_helper_twin import RULE as AM207

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.closure import Closure, HelperDecision


def module_names(module: facts.Module, read: Callable[[str], str] | None = None) -> set[str]:
    """Every name a module binds at its top level: definitions, assignments, imports; with
    `read` (path -> text), also what its facts keep no value for (`count_async = "label"`, a
    number, a `global` write in a function), which a twin of that name would replace."""
    names = set(module.values) | {n for n in module.imports if n != "*"}
    names.update(f.qualname for f in module.functions if "." not in f.qualname)
    names.update(c.name for c in module.classes if "." not in c.qualname)
    if read is not None:
        # Scan previews each subsystem on its own, and asks again of the modules they share: a
        # reader keeping what it read (`run._Reads.memo`) keeps the names, the tree is parsed once.
        memo = getattr(read, "memo", None)
        bound: Iterable[str] | None = module.top_bound
        if bound is None and memo is not None:
            bound = memo.get(("module_names", module.path))
        if bound is None:
            try:
                tree = sources.tree_of(read, module.path)
            except (SyntaxError, ValueError, OSError):
                return names  # the facts' names: the file was read for them, so this is rare
            bound = frozenset(b.name for b in shadowed_imports.bindings(tree.body))
            if memo is not None:
                memo["module_names", module.path] = bound
        names.update(bound)
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
        # An earlier run's twin name, where each method of the group has its twin under it or
        # (an override written since) nothing of that name in its class: the new twins join it.
        # An override outside the group (no migrated code reaches it) whose twin an earlier run
        # wrote counts as well: the group's twins take its name, so a subclass instance runs it.
        beneath = [o for fid in twinned for o in methods.overrides(project, fid) if o not in group]
        found = next((
            n for n in _numbered(base)
            if any(existing_twin(project, fid, n) for fid in [*twinned, *beneath])
            and all(existing_twin(project, fid, n) or free_in_class(project, fid, n) for fid in twinned)
        ), None)
        name = found if found is not None else methods.twin_name(project, twinned, read)
        for fid in twinned:
            if found is not None and existing_twin(project, fid, name):
                _reuse(closure.helpers[fid], name)
            else:
                _set_twin(project, closure.helpers[fid], name)
            named.add(fid)
    for fid, decision in sorted(closure.helpers.items()):
        if decision.action != "twin" or fid in named:
            continue
        module, function = project.functions[fid]
        base = scope_openers.entered_name(project, fid) + project.config.twin_suffix
        earlier = earlier_twin(project, fid)
        if earlier is not None:
            _reuse(decision, earlier)
            continue
        homes = {module.name} | {
            edge.caller[0] for edge in project.all_calls_to[fid] if edge.caller in members
        } | {route[0] for route, chain in closure.dependency_twins.items() if fid in chain}
        for home in homes:
            if home not in taken:
                taken[home] = module_names(project.modules[home], read)
        used = set().union(*(taken[home] for home in homes))
        name = twin_names.free(base, used.__contains__)
        for home in homes:
            taken[home].add(name)
        _set_twin(project, decision, name)


def free_in_class(project: Project, fid: FunctionId, name: str) -> bool:
    """Whether the class defining the method `fid` binds nothing called `name`."""
    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    found = next((c for c in module.classes if c.qualname == owner), None)
    return found is not None and name not in found.names and module.function(f"{owner}.{name}") is None


def _set_twin(project: Project, decision: HelperDecision, name: str) -> None:
    decision.twin = name
    base = scope_openers.entered_name(project, decision.fid) + project.config.twin_suffix
    if name != base:
        decision.reasons.append(AM207.reason(f"the twin is named `{name}`: `{base}` is already taken"))


def _reuse(decision: HelperDecision, name: str) -> None:
    decision.twin, decision.existing = name, True
    decision.reasons.append(AM207.reason(f"its async twin `{name}` exists already: the migrated code calls it"))


def _numbered(base: str) -> list[str]:
    """The names `twin_names.free` may have given a twin: `base`, `base_2`, `base_3`, ..."""
    return [base] + [f"{base}_{number}" for number in range(2, _NUMBERED)]


_NUMBERED = 20


def earlier_twin(project: Project, fid: FunctionId) -> str | None:
    """The name of the async twin an earlier run left beside `fid`: `name_async`, or the
    numbered name it got where `name_async` was taken (by a project function that is no twin)."""
    base = scope_openers.entered_name(project, fid) + project.config.twin_suffix
    return next((name for name in _numbered(base) if existing_twin(project, fid, name)), None)


def existing_twin(project: Project, fid: FunctionId, name: str) -> bool:
    """Whether `name` beside `fid` (in its module, or its class for a method) is already its
    async twin: an `async def` with the same parameters, as an earlier run for another
    subsystem leaves it. The self-check reads it like a twin written now."""
    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    found = module.function(f"{owner}.{name}" if owner else name)
    return (
        found is not None
        # A dependency twin with no Session work of its own stays a plain `def`, and so does a
        # twin whose Session work does no I/O (`add()`): its AsyncSession parameter tells it.
        and (found.is_async or not project.session_names(fid) or _takes_async_session(project, fid, found))
        and [(p.name, p.positional, p.variadic) for p in found.params]
        == [(p.name, p.positional, p.variadic) for p in function.params]
        and _same_session_work(project, fid, found)
    )


def _takes_async_session(project: Project, fid: FunctionId, found: facts.Function) -> bool:
    """Whether `found` takes an AsyncSession where the original takes an annotated Session: a
    plain `def` of that name with nothing annotated could be any project function."""
    _, function = project.functions[fid]
    params = {p.name: p for p in found.params}
    return any(
        p.name in params and (p.annotation or p.depends) and project.declared_async_session(params[p.name])
        for p in function.params if p.name in project.session_params.get(fid, {})
    )


def _same_session_work(project: Project, fid: FunctionId, found: facts.Function) -> bool:
    """Whether `found` holds a Session where the original does, as a twin phase two writes
    does: an AsyncSession parameter where the original's Session parameter is annotated, and
    a Session it opens itself where the original opens one. A project function that merely
    bears the name (`send_email_async`, the project's own sender beside `send_email`, which
    records what it sent on a Session it opens) does neither: calling it instead would drop
    the original's Session work."""
    _, function = project.functions[fid]
    params = {p.name: p for p in found.params}
    for name in project.session_params.get(fid, {}):
        original = next((p for p in function.params if p.name == name), None)
        if original is None or not (original.annotation or original.depends):
            continue  # an unannotated Session parameter: its twin's is unannotated too
        if name not in params or project.declared_async_session(params[name]) is None:
            return False
    if any(o.name and project.is_sessionmaker(o.callee) for o in function.opens):
        return project.opens_async_session(found)
    return True
