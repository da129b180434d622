"""From a closure to per-file rewrite plans: what each call, parameter and function becomes.

Plans name calls by their index in the function body (the collector's numbering),
so the rewrite needs no positions and no second analysis.

Over 500 lines: one planner per file, whose call kinds (Session methods, helpers, twins,
objects handed out by the Session, eager loads, refreshes) share its state: the names
taken, the imports added and dropped, and which calls are already planned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from async_migrate.codemods import facts, twin_names
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.phase2.closure import Closure
from async_migrate.codemods.phase2.dependencies import class_dependency
from async_migrate.codemods.phase2.derived import derived_names, is_coroutine
from async_migrate.codemods.project import Edge, Project
from async_migrate.codemods.vocabulary import ASYNC_SESSION_TYPES
from async_migrate.codemods.vocabulary.fastapi import CALL_MAPPINGS, THREADPOOL
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS, CONTEXT_METHODS
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_SESSION_TYPES


@dataclass(slots=True)
class CallAction:
    kind: str  # await, helper, map, unwrap, open, begin, query
    rename: str | None = None  # new name for the called function (last segment); query: the session
    add_await: bool = True
    mapped: tuple[str, ...] = ()  # query: dotted names holding a mapped class (`self.model`)


@dataclass(slots=True)
class ParamAction:
    kind: str  # alias: annotation becomes the async alias; depends: AsyncSession = Depends(async dep);
    #            annotation: Session becomes AsyncSession inside the annotation
    old: str = ""  # for annotation: the local name of the sync Session type


@dataclass(slots=True)
class FunctionPlan:
    key: str
    twin: str | None = None  # add an async twin under this name, leave the original alone
    calls: dict[int, CallAction] = field(default_factory=dict)
    params: dict[str, ParamAction] = field(default_factory=dict)
    # Dependencies (and Annotated aliases of them) replaced by their twins, in the parameters
    # and the route decorator: local name -> new name.
    redepend: dict[str, str] = field(default_factory=dict)
    keep_sync: bool = False  # a dependency twin without Session work stays a plain `def`
    # A migrated route's `# async-migrate: ignore[...]` pragma silenced its synchronous Session
    # work, which is gone: left, it would silence nothing (AM305) or the next real finding.
    drop_pragma: bool = False
    # Loader options added to queries (codemods/phase2/eager_flow.py): call index -> the
    # query's form (`facts.Load.form`) and the options as code.
    eager: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # Names replaced everywhere in the function (parameters, return annotation, body): a class
    # holding the Session by its parallel async class. Local name -> new name.
    renames: dict[str, str] = field(default_factory=dict)
    # `await session.refresh(obj)` after the statement holding a commit (expired_reads.Refresh)
    refreshes: list = field(default_factory=list)
    # A function that stays synchronous but receives only the parallel async class: its
    # annotations name that class, nothing else changes.
    retype_only: bool = False


@dataclass(slots=True)
class StackNames:
    """Local names the rewritten code uses for the async stack, and where they come from."""

    alias_module: str | None  # module defining the async Annotated alias
    alias: str
    engine_module: str | None  # module defining the async sessionmaker
    sessionmaker: str
    dependency_module: str | None  # module defining the async dependency
    dependency: str


@dataclass(slots=True)
class FilePlan:
    functions: dict[str, FunctionPlan] = field(default_factory=dict)
    imports: set[tuple[str, str]] = field(default_factory=set)
    # `from module import name as local`: a class an eager load names, whose own name the
    # module or the function binds to something else.
    aliased_imports: set[tuple[str, str, str]] = field(default_factory=set)
    maybe_unused: set[tuple[str, str, str | None]] = field(default_factory=set)  # module, name, as
    # `alias = Annotated[T, Depends(dep)]` -> `alias_twin = Annotated[T, Depends(dep_twin)]` after it:
    # (alias, twin alias, renames inside it).
    alias_twins: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # role -> local name to write
    # Parallel async classes added after a class: class qualname -> (new name, method key -> plan).
    parallel: dict[str, tuple[str, dict[str, FunctionPlan]]] = field(default_factory=dict)
    # Names in a parallel class's copy that become other parallel classes (its project bases).
    parallel_renames: dict[str, dict[str, str]] = field(default_factory=dict)
    # Every name this module has for a class with a parallel async class: local name -> (the
    # parallel class, the module to import it from, or None when it is defined here). Applied
    # to each rewritten function (annotations in strings, local annotations, casts too); an
    # import is added only where a name was renamed.
    class_renames: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def build(project: Project, closure: Closure, stack: StackNames) -> dict[str, FilePlan]:
    plans: dict[str, FilePlan] = {}
    twins = {fid: d.twin for fid, d in closure.helpers.items() if d.action == "twin" and d.twin}
    migrated = set(closure.migrated_routes) | {
        fid for fid, d in closure.helpers.items() if d.action in ("migrate", "twin")
    }
    mappings = {**CALL_MAPPINGS, **project.config.call_mappings}
    parallel = closure.parallel_classes
    dependency_twins = {d for chain in closure.dependency_twins.values() for d in chain}
    # A class dependency's twin is its parallel class: named through `renames`, not `redepend`.
    function_twins = {d: twins[d] for d in dependency_twins if d in twins and not class_dependency(project, d)}
    aliases = _alias_twins(project, function_twins, plans, parallel)
    existing = {fid for fid, d in closure.helpers.items() if d.existing}
    # A method of a class with a parallel async class keeps its name in the copy: calls of it
    # (`self.get_or_404(...)` in the copy, `service.get(...)` on an injected copy) are not renamed.
    copied = set(parallel) | set(closure.existing_parallel)
    call_twins = {
        fid: twin for fid, twin in twins.items()
        if (holder := holders.holder_of(project, fid)) is None or holder.ref not in copied
    }
    for fid in sorted(migrated - existing):
        module, function = project.functions[fid]
        plan = plans.setdefault(module.path, FilePlan())
        holder = holders.holder_of(project, fid)
        if holder is not None and holder.ref in closure.existing_parallel:
            continue  # its parallel class is written already
        if holder is not None and holder.ref in parallel:
            # A method of a parallel class: rewritten in the class's async copy, under its own name.
            fplan = FunctionPlan(function.key, refreshes=list(closure.refreshes.get(fid, ())))
            owner = function.qualname.rpartition(".")[0]
            plan.parallel.setdefault(owner, (parallel[holder.ref], {}))[1][function.key] = fplan
        else:
            fplan = FunctionPlan(function.key, twin=twins.get(fid), refreshes=list(closure.refreshes.get(fid, ())))
            plan.functions[function.key] = fplan
        _plan_renames(project, fid, fplan, plan, parallel)
        _plan_calls(project, fid, fplan, plan, migrated, call_twins, mappings, stack)
        is_dependency = fid in dependency_twins or fid in closure.in_place_dependencies
        _plan_params(project, fid, fplan, plan, is_route=fid in closure.migrated_routes or is_dependency, stack=stack)
        if (fid in closure.migrated_routes or is_dependency) and function.pragma is not None:
            fplan.drop_pragma = True
        if fid in closure.migrated_routes or is_dependency:
            _plan_redepend(project, fid, fplan, plan, function_twins, aliases)
        if is_dependency and not function.is_async and not project.session_names(fid):
            fplan.keep_sync = True
        _plan_eager(project, fid, fplan, plan, closure)
        holder = holders.holder_of(project, fid)
        if holder is not None and fid == holder.init:
            fplan.keep_sync = True  # stores the AsyncSession; Python calls it without `await`
    _plan_parallel_family(project, plans, parallel, closure.existing_parallel)
    if parallel:
        _plan_retyped(project, closure, plans, migrated - existing, twins)
        by_path = {module.path: module for module in project.modules.values()}
        for path, plan in plans.items():
            if (plan.functions or plan.parallel) and path in by_path:
                _plan_class_renames(project, by_path[path], plan, parallel)
    return plans


def _plan_class_renames(project: Project, module: facts.Module, plan: FilePlan, parallel: dict[str, str]) -> None:
    """The module's names for the classes that get a parallel async class."""
    classes = project.flow.classes
    for ref, new in sorted(parallel.items()):
        home, found = classes.by_ref[ref]
        if home.name == module.name:
            plan.class_renames.setdefault(found.qualname, (new, None))
            continue
        for local, imported in module.imports.items():
            if classes.resolve(imported) == ref:
                plan.class_renames.setdefault(local, (new, home.name))
                _unused(plan, module, imported)
            elif imported == home.name:  # `import repos` ... `repos.ItemRepo`
                plan.class_renames.setdefault(found.qualname, (new, None))


def _plan_retyped(
    project: Project, closure: Closure, plans: dict[str, FilePlan], migrated: set, twins: dict
) -> None:
    """Functions outside the migration annotated with a class that has a parallel async class,
    called only by code that moves in place (so they receive the parallel class alone): their
    annotations follow (`def describe(repo: ItemRepoAsync)`)."""
    classes = project.flow.classes
    in_place = migrated - set(twins)
    for fid, (module, function) in project.functions.items():
        if fid in migrated or fid in closure.helpers:
            continue
        refs = [r for p in function.params for r in p.annotation]
        if not any(classes.resolve(r) in closure.parallel_classes for r in refs):
            continue
        callers = {e.caller for e in project.all_calls_to[fid]}
        if not callers or not callers <= in_place or fid in _value_referenced(project):
            continue
        plan = plans.setdefault(module.path, FilePlan())
        plan.functions[function.key] = FunctionPlan(function.key, retype_only=True)


def _value_referenced(project: Project) -> set:
    from async_migrate.codemods.phase2.closure import value_references

    return set(value_references(project))


def _plan_parallel_family(
    project: Project, plans: dict[str, FilePlan], parallel: dict[str, str], existing: set[str]
) -> None:
    """Every class with a parallel class gets its copy, even with no method of its own moving
    (`class UserRepo(BaseRepo): model = User`), and each copy derives from the parallel
    classes of its project bases (`class UserRepoAsync(BaseRepoAsync[User])`)."""
    classes = project.flow.classes
    for ref, new in sorted(parallel.items()):
        if ref in existing:
            continue
        module, found = classes.by_ref[ref]
        plan = plans.setdefault(module.path, FilePlan())
        plan.parallel.setdefault(found.qualname, (new, {}))
        renames = plan.parallel_renames.setdefault(found.qualname, {})
        for base in found.bases:
            resolved = classes.resolve(base)
            if resolved is None or resolved not in parallel:
                continue
            home, base_class = classes.by_ref[resolved]
            if home.name == module.name:
                renames[base_class.qualname] = parallel[resolved]
                continue
            local = _imported_as(module, home.name, base_class.qualname)
            if local is not None:
                renames[local] = parallel[resolved]
                plan.imports.add((home.name, parallel[resolved]))
            else:  # `base.BaseRepo`: the attribute is renamed
                renames[base_class.qualname] = parallel[resolved]


def _plan_eager(project: Project, fid, fplan: FunctionPlan, plan: FilePlan, closure: Closure) -> None:
    """The loader options the migrated routes need on this function's queries."""
    from async_migrate.codemods.phase2.eager_flow import option

    paths: dict[int, list[tuple[tuple[str, str], ...]]] = {}
    deferred: set[tuple[int, tuple[tuple[str, str], ...]]] = set()  # (load, path) ending in a deferred column
    for fixes in closure.eager_fixes.values():
        for fix in fixes:
            if fix.fid == fid and fix.path not in paths.get(fix.load, []):
                paths.setdefault(fix.load, []).append(fix.path)
            if fix.fid == fid and fix.deferred:
                deferred.add((fix.load, fix.path))
    if not paths:
        return
    module, function = project.functions[fid]
    shadowed = _function_names(function)
    loader = undefer = ""
    if any(len(path) > 1 or (number, path) not in deferred for number, found in paths.items() for path in found):
        loader = _loader_name(module, plan, "selectinload", shadowed)
    if deferred:
        undefer = _loader_name(module, plan, "undefer", shadowed)
    for number, found in sorted(paths.items()):
        load = function.loads[number]
        local = {}
        for path in found:
            for owner, _ in path:
                if owner not in local:
                    local[owner] = _class_name(project, module, plan, owner, load, shadowed)
        # a path another one extends is loaded by that one already
        kept = [p for p in found if not any(len(o) > len(p) and o[: len(p)] == p for o in found)]
        options = tuple(option(p, local, loader, (number, p) in deferred, undefer) for p in sorted(kept))
        fplan.eager[load.index] = (load.form, options)


def _loader_name(module: facts.Module, plan: FilePlan, name: str, shadowed: set[str]) -> str:
    """How the function names `sqlalchemy.orm.<name>`: as the module imports it, or imported now."""
    found = _imported_as(module, "sqlalchemy.orm", name)
    if found is None or found in shadowed:
        found = _import_free(module, plan, "sqlalchemy.orm", name, shadowed)
    return found


def _class_name(
    project: Project, module: facts.Module, plan: FilePlan, ref: str, load: facts.Load, shadowed: set[str]
) -> str:
    """How the function can name a mapped class: as the query writes it, as the module imports or
    defines it (unless the function binds that name itself), or imported now under a free name."""
    if project.canonical(load.model) == ref:
        return load.entity
    for local, imported in module.imports.items():
        if project.canonical(imported) == ref and local not in shadowed:
            return local
    home, _, name = ref.rpartition(".")
    if home == module.name and name not in shadowed:
        return name
    return _import_free(module, plan, home, name, shadowed)


def _function_names(function: facts.Function) -> set[str]:
    """Names the function binds itself: an option naming one of them would read the local."""
    return {p.name for p in function.params} | set(function.holds)


def _import_free(module: facts.Module, plan: FilePlan, home: str, name: str, shadowed: set[str]) -> str:
    """`from home import name`, as `name_2` (...) when the module or the function binds `name`
    to something else; the local name."""
    from async_migrate.codemods.phase2.twins import module_names

    for added_home, added, local in plan.aliased_imports:
        if (added_home, added) == (home, name):
            return local
    taken = module_names(module) | shadowed | {n for h, n in plan.imports if h != home}
    taken |= {local for *_, local in plan.aliased_imports}
    if (home, name) in plan.imports or name not in taken:
        plan.imports.add((home, name))
        return name
    local = twin_names.free(name, taken.__contains__)
    plan.aliased_imports.add((home, name, local))
    return local


def _plan_renames(project: Project, fid, fplan: FunctionPlan, plan: FilePlan, parallel: dict[str, str]) -> None:
    """A migrated function naming a class that gets a parallel async class names that one."""
    if not parallel:
        return
    module, function = project.functions[fid]
    classes = project.flow.classes
    refs = [r for p in function.params for r in (*p.annotation, p.depends) if r] + list(function.returns)
    refs += [c.callee for c in function.calls if c.callee]
    mentioned = {found for r in refs if (found := classes.resolve(r)) in parallel}
    for ref in sorted(mentioned):
        home, cls = classes.by_ref[ref]
        new = parallel[ref]
        if home.name == module.name:
            fplan.renames[cls.qualname] = new
            continue
        local = _imported_as(module, home.name, cls.qualname)
        if local is not None:
            fplan.renames[local] = new
            plan.imports.add((home.name, new))
            _unused(plan, module, f"{home.name}.{cls.qualname}")
        else:  # `repos.ProjectRepo`: the attribute is renamed
            fplan.renames[cls.qualname] = new


def _alias_twins(
    project: Project, twins: dict, plans: dict[str, FilePlan], parallel: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Annotated aliases of twinned dependencies get twins of their own: alias ref -> (module, twin name).
    An alias of a class dependency with a parallel async class (`Annotated[Repo, Depends()]`)
    gets one naming that class."""
    from async_migrate.codemods.phase2.dependencies import dependency_function
    from async_migrate.codemods.phase2.twins import module_names

    found: dict[str, tuple[str, str]] = {}
    for module in project.modules.values():
        taken = module_names(module)
        for name, value in sorted(module.values.items()):
            if value.kind != "annotated":
                continue
            target = dependency_function(project, value.depends)
            holder = holders.holder_of(project, target) if target is not None else None
            if holder is not None and holder.init == target and holder.ref in parallel:
                twin = _free_alias(project, name, taken)
                home, cls = project.flow.classes.by_ref[holder.ref]
                local = cls.qualname if home.name == module.name else _imported_as(module, home.name, cls.qualname)
                if local is None:
                    continue  # named through a module attribute: the routes using it stay blocked by the self-check
                plan = plans.setdefault(module.path, FilePlan())
                plan.alias_twins.append((name, twin, {local: parallel[holder.ref]}))
                if home.name != module.name:
                    plan.imports.add((home.name, parallel[holder.ref]))
                found[f"{module.name}.{name}"] = (module.name, twin)
                continue
            if target is None or target not in twins:
                continue
            dep_module, dep = project.functions[target]
            reused = _existing_alias_twin(project, module, value, (dep_module.name, twins[target]))
            if reused is not None:
                found[f"{module.name}.{name}"] = (module.name, reused)
                continue
            twin = _free_alias(project, name, taken)
            renames = {dep.name: twins[target]}
            plan = plans.setdefault(module.path, FilePlan())
            plan.alias_twins.append((name, twin, renames))
            local = _imported_as(module, dep_module.name, dep.name)
            if dep_module.name != module.name and local is not None:
                plan.imports.add((dep_module.name, twins[target]))
                renames[local] = twins[target]
            found[f"{module.name}.{name}"] = (module.name, twin)
    return found


def _free_alias(project: Project, name: str, taken: set[str]) -> str:
    twin, number = name + project.config.twin_suffix, 1
    while twin in taken:
        number += 1
        twin = f"{name}{project.config.twin_suffix}_{number}"
    taken.add(twin)
    return twin


def _existing_alias_twin(
    project: Project, module: facts.Module, value: facts.Value, twin: tuple[str, str]
) -> str | None:
    """An alias an earlier run (for another subsystem) left beside `value`: annotated with the
    same type and depending on the dependency's twin `twin` (module, name). Its name, or None."""
    from async_migrate.codemods.phase2.dependencies import dependency_function

    for name, other in sorted(module.values.items()):
        if other is value or other.kind != "annotated" or other.annotation != value.annotation:
            continue
        found = dependency_function(project, other.depends)
        if found is not None and found[0] == twin[0] and project.functions[found][1].qualname == twin[1]:
            return name
    return None


def _plan_redepend(project, fid, fplan, plan, twins, aliases) -> None:
    """Point a route's (or dependency twin's) parameters and decorator at the dependency twins."""
    from async_migrate.codemods.phase2.dependencies import dependency_function

    module, function = project.functions[fid]
    refs = [r for p in function.params for r in (p.depends, *p.annotation) if r]
    refs += [r for d in function.decorators for r in d.depends]
    for ref in refs:
        target = dependency_function(project, ref)
        if target in twins:
            home, dep = project.functions[target]
            fplan.redepend[ref.rsplit(".", 1)[-1]] = twins[target]
            local = _imported_as(module, home.name, dep.name)
            if local is not None:
                fplan.redepend[local] = twins[target]
                plan.imports.add((home.name, twins[target]))
                _unused(plan, module, f"{home.name}.{dep.name}")
            continue
        alias = aliases.get(project.canonical(ref) or "")
        if alias is not None:
            home_name, twin = alias
            alias_name = (project.canonical(ref) or "").rsplit(".", 1)[-1]
            fplan.redepend[ref.rsplit(".", 1)[-1]] = twin
            local = _imported_as(module, home_name, alias_name)
            if local is not None and home_name != module.name:
                fplan.redepend[local] = twin
                plan.imports.add((home_name, twin))
                _unused(plan, module, f"{home_name}.{alias_name}")


def _plan_calls(project, fid, fplan, plan, migrated, twins, mappings, stack) -> None:
    module, function = project.functions[fid]
    names = project.session_names(fid)
    edges: dict[int, Edge] = {}
    for edge in project.all_calls_from[fid]:
        # A call that may run several methods: they move together (one twin name), so any
        # migrated one stands for all.
        if edge.call.index not in edges or edge.callee in migrated:
            edges[edge.call.index] = edge
    opened = {o.line: o for o in project.opens_directly(fid)}
    derived = derived_names(function, names, lambda func: holders.held_call(project, fid, func))
    for call in function.calls:
        if call.receiver in derived and call.method is not None:
            if is_coroutine(derived[call.receiver], call.method):
                fplan.calls[call.index] = CallAction("await", add_await=not call.awaited)
            continue
        if call.query_root in names:
            mapped = tuple(sorted(project_classes(project).class_valued(fid)))
            fplan.calls[call.index] = CallAction("query", call.query_root, add_await=False, mapped=mapped)
            continue
        held = holders.held_call(project, fid, call.func)
        if held is not None and not call.nested:
            if held in AWAITED_METHODS:
                fplan.calls[call.index] = CallAction("await", add_await=not call.awaited)
            elif held in CONTEXT_METHODS:
                fplan.calls[call.index] = CallAction("begin", add_await=not call.awaited)
            continue
        if call.receiver in names and call.method is not None:
            if call.method == "query":
                continue  # part of a legacy chain, rewritten whole at its outermost call
            if call.method in AWAITED_METHODS:
                fplan.calls[call.index] = CallAction("await", add_await=not call.awaited)
            elif call.method in CONTEXT_METHODS:
                fplan.calls[call.index] = CallAction("begin", add_await=not call.awaited)
            continue
        edge = edges.get(call.index)
        if edge is not None and project.functions[edge.callee][1].name == "__init__":
            continue  # building an object (`Repo(db)`): never awaited
        if edge is not None and edge.callee in migrated:
            callee_module, callee = project.functions[edge.callee]
            rename = twins.get(edge.callee)
            if call.offloaded:
                # `await run_in_threadpool(helper, s)`: the outer call becomes `helper(s)`;
                # the helper itself is the run_in_threadpool call's first argument.
                fplan.calls[call.index] = CallAction("unwrap", rename, add_await=False)
                for ref in THREADPOOL:
                    _unused(plan, module, ref)
            else:
                fplan.calls[call.index] = CallAction("helper", rename, add_await=not call.awaited)
            if rename is not None and callee.qualname == callee.name:  # a method needs no import
                local = _imported_as(module, callee_module.name, callee.name)
                if local is not None:
                    plan.imports.add((callee_module.name, rename))
                    _unused(plan, module, f"{callee_module.name}.{callee.name}")
            continue
        callee = project.canonical(call.callee)
        if callee in mappings and any(a.name in names for a in call.args):
            target = mappings[callee]
            target_module, _, target_name = target.rpartition(".")
            fplan.calls[call.index] = CallAction("map", target_name, add_await=not call.awaited)
            if _imported_as(module, callee.rpartition(".")[0], callee.rpartition(".")[2]) is not None:
                plan.imports.add((target_module, target_name))
                _unused(plan, module, callee)
            continue
        if call.line in opened and opened[call.line].callee == call.callee and stack.engine_module:
            fplan.calls[call.index] = CallAction("open", stack.sessionmaker, add_await=False)
            if module.name != stack.engine_module:
                plan.imports.add((stack.engine_module, stack.sessionmaker))
            _unused(plan, module, opened[call.line].callee)
            continue
        if callee in THREADPOOL and call.offloaded is False:
            continue


def _plan_params(project, fid, fplan, plan, is_route, stack) -> None:
    module, function = project.functions[fid]
    declared = project.session_params[fid]
    for param in function.params:
        if param.name not in declared:
            continue
        async_session = _async_session_import(project, param)
        if is_route and project.declared_session(param) is not None:
            if param.default:
                fplan.params[param.name] = ParamAction("depends")
                plan.imports.add(async_session)
                if stack.dependency_module and stack.dependency_module != module.name:
                    plan.imports.add((stack.dependency_module, stack.dependency))
            else:
                fplan.params[param.name] = ParamAction("alias")
                if stack.alias_module and stack.alias_module != module.name and "." not in param.text:
                    plan.imports.add((stack.alias_module, stack.alias))
            for ref in (*param.annotation, param.depends):
                if ref is not None:
                    _unused(plan, module, ref)
            continue
        session_type = _sync_type_name(project, module, param)
        if session_type is not None:
            fplan.params[param.name] = ParamAction("annotation", session_type)
            plan.imports.add(async_session)
            ref = module.imports.get(session_type.split(".")[0])
            if ref is not None and "." not in session_type:
                _unused(plan, module, ref)


def _async_session_import(project: Project, param: facts.Param) -> tuple[str, str]:
    """Where `AsyncSession` comes from: SQLModel's for a SQLModel `Session` (its `exec`), else SQLAlchemy's."""
    refs = list(param.annotation)
    for ref in param.annotation:  # through an alias: `SessionDep = Annotated[Session, ...]`
        target = project.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None:
            refs.extend(target.value.annotation)
    if any(project.canonical(ref) in SQLMODEL_SESSION_TYPES for ref in refs):
        return ("sqlmodel.ext.asyncio.session", "AsyncSession")
    return ("sqlalchemy.ext.asyncio", "AsyncSession")


def _sync_type_name(project: Project, module: facts.Module, param: facts.Param) -> str | None:
    """How the annotation spells the sync Session type (`Session`, `orm.Session`) or an alias of
    it (`SessionDep`, `deps.SessionDep`): the one name that becomes `AsyncSession`."""
    for ref in param.annotation:
        if project.canonical(ref) in ASYNC_SESSION_TYPES:
            continue
        if not (project.is_sync_session_type(ref) or _is_sync_alias(project, ref)):
            continue
        for spelled in _spellings(module, ref):
            if _names(param.text, spelled):
                return spelled
    return None


def _is_sync_alias(project: Project, ref: str) -> bool:
    """`SessionDep = Annotated[Session, Depends(get_db)]` (or a configured session alias)."""
    if project.canonical(ref) in project.config.session_aliases:
        return True
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "annotated":
        return False
    value = target.value
    if any(project.canonical(r) in ASYNC_SESSION_TYPES for r in value.annotation):
        return False
    return any(project.is_sync_session_type(r) for r in value.annotation) or (
        value.depends is not None and project.is_session_dependency(value.depends)
    )


def _spellings(module: facts.Module, ref: str) -> list[str]:
    """The local spellings of a reference in a module: `Session`, `orm.Session`, `deps.SessionDep`."""
    found = []
    for local, imported in module.imports.items():
        if imported == ref:
            found.append(local)
        elif ref.startswith(imported + "."):
            found.append(local + ref[len(imported):])
    if ref.startswith(module.name + "."):
        found.append(ref[len(module.name) + 1:])
    found.append(ref.rsplit(".", 1)[-1])
    return found


def _names(text: str, spelled: str) -> bool:
    """`spelled` appears in an annotation as a whole name (`Session` is not in `SessionDep`)."""
    return re.search(rf"(?<![\w.]){re.escape(spelled)}(?![\w])", text) is not None


def _imported_as(module: facts.Module, source: str, name: str) -> str | None:
    for local, ref in module.imports.items():
        if ref == f"{source}.{name}":
            return local
    return None


def _unused(plan: FilePlan, module: facts.Module, ref: str) -> None:
    """Note an import the rewrite may leave unused; it is removed only if it is."""
    for local, imported in module.imports.items():
        if imported == ref:
            source, _, name = ref.rpartition(".")
            if source:
                plan.maybe_unused.add((source, name, None if local == name else local))
