"""From a closure to per-file rewrite plans: what each call, parameter and function becomes.

Plans name calls by their index in the function body (the collector's numbering),
so the rewrite needs no positions and no second analysis.

Which call and parameter becomes what is each rewrite's own choice (`phase2/rewrites/`);
this module offers them the calls in order and plans what spans a function or a file:
twins, renames, eager loads, refreshes, parallel classes, the imports added and dropped.

Over 500 lines: one planner whose steps fill the same file plans (renames, imports, twins)
and must agree on the names they write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from async_migrate.codemods import facts, session_work, twin_names
from async_migrate.codemods.phase2 import both_protocols, holders, tx_dependency, unit_of_work
from async_migrate.codemods.phase2.closure import Closure
from async_migrate.codemods.phase2.dependencies import class_dependency
from async_migrate.codemods.phase2.derived import derived_names
from async_migrate.codemods.phase2.rewrites import CALL_REWRITES, PARAM_REWRITES, CallAction, ParamAction
from async_migrate.codemods.phase2.rewrites.base import CallKind, FunctionSite, re_export_chain
from async_migrate.codemods.phase2.rewrites.base import imported_as as _imported_as
from async_migrate.codemods.phase2.rewrites.base import unused as _unused
from async_migrate.codemods.phase2.rewrites.session_params import ParamKind, ParamSite
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.vocabulary import SYNC_SESSION_TYPES
from async_migrate.codemods.vocabulary.fastapi import CALL_MAPPINGS

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes


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
    # query's form (`facts.Load.form`), the options as code, and for a `get` the local name of
    # `sqlalchemy.select` and the primary key attribute the `select` replacing it filters on.
    eager: dict[int, tuple[str, tuple[str, ...], tuple[str, str, str, bool] | None]] = field(default_factory=dict)
    # Names replaced everywhere in the function (parameters, return annotation, body): a class
    # holding the Session by its parallel async class. Local name -> new name.
    renames: dict[str, str] = field(default_factory=dict)
    # `await session.refresh(obj)` after the statement holding a commit (expired_reads.Refresh)
    refreshes: list = field(default_factory=list)
    # A function that stays synchronous but receives only the parallel async class: its
    # annotations name that class, nothing else changes.
    retype_only: bool = False
    # The return annotation written anew (a transaction dependency's twin yields the AsyncSession).
    returns: str | None = None
    # A generator dependency's twin, an async generator: `Iterator[X]` returns `AsyncIterator[X]`.
    async_generator: bool = False
    # A `@contextmanager` opener's twin (phase2/scope_openers.py): `@asynccontextmanager` instead.
    context_manager: bool = False
    # ... opening its Session as `name = maker()` and never closing it: the twin closes it on leaving
    closes: str | None = None
    # The one item of a `with` statement entering an object whose class becomes an asynchronous
    # context manager (`with uow:`), as written: that statement becomes `async with`.
    async_with: set[str] = field(default_factory=set)
    # `__enter__`/`__exit__` of such a class: defined as `__aenter__`/`__aexit__`.
    rename: str | None = None
    # Parameter defaults replaced: a unit of work's `session_factory=SessionLocal` -> the async
    # sessionmaker (`HolderClass.opened`). Parameter -> the new default's local name.
    defaults: dict[str, str] = field(default_factory=dict)
    # ... and their annotations (`session_factory: sessionmaker` -> `async_sessionmaker`), as written
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StackNames:
    """Local names the rewritten code uses for the async stack, and where they come from."""

    alias_module: str | None  # module defining the async Annotated alias
    alias: str
    engine_module: str | None  # module defining the async sessionmaker
    sessionmaker: str
    dependency_module: str | None  # module defining the async dependency
    dependency: str
    # Methods the Session class behind the async sessions adds (StackPlan.session_methods)
    session_methods: frozenset[str] = frozenset()
    # The async sessions are SQLModel's AsyncSession (StackPlan.sqlmodel): a select of objects
    # the rewrite writes runs on `exec()` with SQLModel's `select`
    sqlmodel: bool = False

    @property
    def async_session(self) -> tuple[str, str]:
        """The import of the AsyncSession class the async sessionmaker makes: a twin's annotation
        naming the other class would bind `AsyncSession` twice in a module importing both."""
        return ("sqlmodel.ext.asyncio.session", "AsyncSession") if self.sqlmodel else ("sqlalchemy.ext.asyncio", "AsyncSession")


@dataclass(slots=True)
class FilePlan:
    functions: dict[str, FunctionPlan] = field(default_factory=dict)
    # The loader options written here that name a relationship a backref adds to its class
    # (`Order.lines`): it exists once the mappers are configured.
    backref_options: list[str] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)
    # `from module import name as local`: a class an eager load names, whose own name the
    # module or the function binds to something else.
    aliased_imports: set[tuple[str, str, str]] = field(default_factory=set)
    maybe_unused: set[tuple[str, str, str | None]] = field(default_factory=set)  # module, name, as
    # A helper that gets a twin, in its own module or one re-exporting it: (the name the module
    # exports, the twin), which joins the original in its literal `__all__`.
    exports: set[tuple[str, str]] = field(default_factory=set)
    # `alias = Annotated[T, Depends(dep)]` -> `alias_twin = Annotated[T, Depends(dep_twin)]` after it:
    # (alias, twin alias, renames inside it).
    alias_twins: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # role -> local name to write
    # Parallel async classes added after a class: class qualname -> (new name, method key -> plan).
    parallel: dict[str, tuple[str, dict[str, FunctionPlan]]] = field(default_factory=dict)
    # Methods a parallel class's copy leaves out (they cannot move): class qualname -> method keys.
    parallel_omitted: dict[str, set[str]] = field(default_factory=dict)
    # A class's own `__aenter__`/`__aexit__` doing what the `__enter__`/`__exit__` turned into it
    # does, removed from the class moving in place (`both_protocols`): method keys.
    superseded: set[str] = field(default_factory=set)
    # Methods added to a parallel class an earlier run wrote below its class: class qualname ->
    # (the copy's name, method key -> plan).
    parallel_additions: dict[str, tuple[str, dict[str, FunctionPlan]]] = field(default_factory=dict)
    # `router = APIRouter(dependencies=[Depends(dep)])`: router name -> renames inside that list.
    router_redepend: dict[str, dict[str, str]] = field(default_factory=dict)
    # `include_router(router, dependencies=[Depends(dep)])`: the include's line -> renames inside that list.
    include_redepend: dict[int, dict[str, str]] = field(default_factory=dict)
    # Names in a parallel class's copy that become other parallel classes (its project bases).
    parallel_renames: dict[str, dict[str, str]] = field(default_factory=dict)
    # Local names of the synchronous Session type a class moving to AsyncSession binds a generic
    # base to (`class TaskRepository(Repository[Session])`): `AsyncSession` in its bases, those of
    # the class itself when it moves in place, else of its parallel copy.
    parallel_base_sessions: dict[str, set[str]] = field(default_factory=dict)
    # A class holding the Session that moves to AsyncSession (in place, or in its parallel copy):
    # class qualname -> {local name of the synchronous Session type: (module it is imported from,
    # name there)}; its `session: Session` and `self.session: Session = ...` annotations name
    # AsyncSession, imported from `async_session_home`.
    session_fields: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    async_session_home: str = "sqlalchemy.ext.asyncio"
    # Every name this module has for a class with a parallel async class: local name -> (the
    # parallel class, the module to import it from, or None when it is defined here). Applied
    # to each rewritten function (annotations in strings, local annotations, casts too); an
    # import is added only where a name was renamed.
    class_renames: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def build(project: Project, closure: Closure, stack: StackNames) -> dict[str, FilePlan]:
    plans: dict[str, FilePlan] = {}
    if not closure.migrated_routes:
        # Twins, parallel classes and eager loads serve migrating routes: with none, the copies
        # would be dead code (and a class named *Async whose methods never moved).
        return plans
    twins = {fid: d.twin for fid, d in closure.helpers.items() if d.action == "twin" and d.twin}
    migrated = set(closure.migrated_routes) | {
        fid for fid, d in closure.helpers.items() if d.action in ("migrate", "twin")
    }
    mappings = {**CALL_MAPPINGS, **project.config.call_mappings}
    parallel = closure.parallel_classes
    dependency_twins = {d for chain in closure.dependency_twins.values() for d in chain}
    # A class dependency's twin is its parallel class: named through `renames`, not `redepend`.
    function_twins = {d: twins[d] for d in dependency_twins if d in twins and not class_dependency(project, d)}
    in_place = {fid for fid in migrated if fid not in twins}
    aliases, pending_aliases = _alias_twins(project, function_twins, parallel, stack, in_place)
    used_aliases: set[str] = set()
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
            if fid not in closure.parallel_additions.get(holder.ref, ()):
                continue  # its parallel class is written already
            # A method written in the class after an earlier run made the copy: added to that copy.
            fplan = FunctionPlan(function.key, refreshes=list(closure.refreshes.get(fid, ())))
            owner = function.qualname.rpartition(".")[0]
            plan.parallel_additions.setdefault(owner, (parallel[holder.ref], {}))[1][function.key] = fplan
        elif holder is not None and holder.ref in parallel:
            # A method of a parallel class: rewritten in the class's async copy, under its own name.
            fplan = FunctionPlan(function.key, refreshes=list(closure.refreshes.get(fid, ())))
            owner = function.qualname.rpartition(".")[0]
            plan.parallel.setdefault(owner, (parallel[holder.ref], {}))[1][function.key] = fplan
        else:
            fplan = FunctionPlan(function.key, twin=twins.get(fid), refreshes=list(closure.refreshes.get(fid, ())))
            plan.functions[function.key] = fplan
        _plan_renames(project, fid, fplan, plan, parallel)
        _plan_calls(
            project, fid, fplan, plan, migrated, call_twins, mappings, stack, closure.inline.get(fid, {}), plans
        )
        is_dependency = fid in dependency_twins or fid in closure.in_place_dependencies
        _plan_params(project, fid, fplan, plan, is_route=fid in closure.migrated_routes or is_dependency, stack=stack)
        if (fid in closure.migrated_routes or is_dependency) and function.pragma is not None:
            fplan.drop_pragma = True
        if fid in closure.migrated_routes or is_dependency or _view_init(project, fid, closure):
            _plan_redepend(project, fid, fplan, plan, function_twins, aliases, used_aliases, plans)
        if fid in dependency_twins and fid in tx_dependency.wrappers(project) and function.returns:
            fplan.returns = "AsyncIterator[AsyncSession]"
            plan.imports.update({("collections.abc", "AsyncIterator"), stack.async_session})
        if fid in closure.generator_twins and _iterator_returns(project, function):
            fplan.async_generator = True
        if fid in project.handed_twins:
            # its body is only the lifecycle of the Session it is handed, which it yields
            fplan.context_manager = True
            if function.returns:
                fplan.returns = "AsyncIterator[AsyncSession]"
                plan.imports.update({("collections.abc", "AsyncIterator"), stack.async_session})
        if fid in project.opener_twins:
            fplan.context_manager = True
            fplan.closes = next((o.name for o in project.opens_directly(fid) if o.index < 0 and o.name), None)
            if function.returns:
                fplan.returns = "AsyncIterator[AsyncSession]"
                plan.imports.update({("collections.abc", "AsyncIterator"), stack.async_session})
        fplan.async_with = unit_of_work.entered_async(project, fid, migrated)
        entered = fplan.async_with or any(action.kind is CallKind.ENTER for action in fplan.calls.values())
        if is_dependency and not function.is_async and not project.session_names(fid) and not entered and not any(
            action.add_await for action in fplan.calls.values()
        ):
            # `valid_item(repo=Depends(get_repo))` awaits what the repository's copy returns; one
            # entering a unit of work (`async with UnitOfWork() as uow: yield uow`) is a coroutine
            fplan.keep_sync = True
        if function.name in unit_of_work.ASYNC_NAMES and holders.holder_of(project, fid) is not None:
            fplan.rename = unit_of_work.ASYNC_NAMES[function.name]
        _plan_eager(project, fid, fplan, plan, closure, stack)
        holder = holders.holder_of(project, fid)
        if holder is not None and fid == holder.init:
            fplan.keep_sync = True  # stores the AsyncSession; Python calls it without `await`
        if session_work.builds_only(project, fid):
            fplan.keep_sync = True  # `return cls(db)`: its callers do not await it (rewrites/project_calls.py)
        if fid not in closure.migrated_routes and not is_dependency and session_work.no_io_only(project, fid):
            fplan.keep_sync = True  # a helper only doing `db.add(obj)`: plain on AsyncSession too, called as it is
        if holder is not None and holder.opened is not None and fid == holder.opened[0] and stack.engine_module:
            # `session_factory=SessionLocal`: the copy's `__aenter__` opens from the async sessionmaker
            fplan.defaults[holder.opened[1]] = stack.sessionmaker
            annotation = unit_of_work.factory_annotation(project, fid)
            if annotation.text is not None:  # `sessionmaker` -> `async_sessionmaker`, as the default is
                fplan.annotations[holder.opened[1]] = annotation.text
                plan.imports.update(annotation.imports)
            if module.name != stack.engine_module:
                plan.imports.add((stack.engine_module, stack.sessionmaker))
    for fid in sorted(closure.protocol_methods):
        # A Protocol's declaration of a method that moved: `async def`, its body of `...` kept.
        module, function = project.functions[fid]
        plans.setdefault(module.path, FilePlan()).functions.setdefault(function.key, FunctionPlan(function.key))
    # An earlier run's twin the migrated code calls, lacking an eager load a route needs: the
    # option goes into that twin's query, nothing else of it changes (it is async already).
    for fid in sorted({fix.fid for fixes in closure.eager_fixes.values() for fix in fixes} - migrated):
        module, function = project.functions[fid]
        plan = plans.setdefault(module.path, FilePlan())
        if function.key not in plan.functions:
            fplan = plan.functions[function.key] = FunctionPlan(function.key)
            _plan_eager(project, fid, fplan, plan, closure, stack)
    _plan_router_redepend(project, closure, plans, function_twins, aliases, used_aliases)
    _plan_include_redepend(project, closure, plans, function_twins, aliases, used_aliases)
    _write_alias_twins(plans, pending_aliases, used_aliases)
    _plan_parallel_family(project, plans, parallel, closure.existing_parallel)
    _plan_in_place_bases(project, plans, parallel)
    _plan_superseded(project, plans, migrated - existing, parallel, closure.existing_parallel)
    for fid in sorted([*closure.left_out, *closure.unused_copies]):
        held_by = project.flow.classes.owner(fid)
        if held_by is not None and held_by in parallel and held_by not in closure.existing_parallel:
            kept_out, function = project.functions[fid]
            omitted = plans.setdefault(kept_out.path, FilePlan()).parallel_omitted
            omitted.setdefault(function.qualname.rpartition(".")[0], set()).add(function.key)
    if parallel:
        _plan_retyped(project, closure, plans, migrated - existing, twins)
        by_path = {module.path: module for module in project.modules.values()}
        for path, plan in plans.items():
            if (plan.functions or plan.parallel or plan.parallel_additions) and path in by_path:
                _plan_class_renames(project, by_path[path], plan, parallel)
    return plans


def _plan_superseded(
    project: Project, plans: dict[str, FilePlan], moving: set[FunctionId], parallel: dict[str, str], existing: set[str]
) -> None:
    """A class's own `__aenter__`/`__aexit__` beside the `__enter__`/`__exit__` that becomes it,
    doing the same (`both_protocols.superseded`): left out of the parallel copy, or removed from
    the class moving in place, so the class defines the method once."""
    for own, sync in sorted(both_protocols.superseded(project).items()):
        holder = holders.holder_of(project, sync)
        if sync not in moving or holder is None or holder.ref in existing:
            continue
        module, function = project.functions[own]
        plan = plans.setdefault(module.path, FilePlan())
        if holder.ref in parallel:
            plan.parallel_omitted.setdefault(function.qualname.rpartition(".")[0], set()).add(function.key)
        else:
            plan.superseded.add(function.key)
            plan.functions.pop(function.key, None)


def _iterator_returns(project: Project, function: facts.Function) -> bool:
    """The function's return annotation is the standard library's `Iterator`, `Iterable` or
    `Generator`, under any spelling (`t.Iterator` for `import typing as t`): a class of the same
    name from elsewhere has no async counterpart to write."""
    canonical = project.canonical(function.returns[0]) if function.returns else None
    home, _, name = (canonical or "").rpartition(".")
    return home in ("typing", "collections.abc", "typing_extensions") and name in ("Iterator", "Iterable", "Generator")


def uses_alias(plans: dict[str, FilePlan]) -> bool:
    """Whether a planned parameter is written with the async Annotated alias."""
    return any(
        action.kind is ParamKind.ALIAS
        for plan in plans.values()
        for fplan in [
            *plan.functions.values(),
            *(f for copies in (plan.parallel, plan.parallel_additions) for _, methods in copies.values() for f in methods.values()),
        ]
        for action in fplan.params.values()
    )


def _plan_class_renames(project: Project, module: facts.Module, plan: FilePlan, parallel: dict[str, str]) -> None:
    """The module's names for the classes that get a parallel async class."""
    classes = project.flow.classes
    for ref, new in sorted(parallel.items()):
        home, found = classes.by_ref[ref]
        if home.name == module.name:
            plan.class_renames.setdefault(found.qualname, (new, None))
            continue
        for local, imported in module.imports.items():
            # An `Annotated[Cls, Depends(...)]` alias resolves to the class too, but is not it:
            # renamed to the class, a route's `svc: ServiceDep` would lose its `Depends(...)`.
            if classes.resolve(imported) == ref and not _annotated_alias(project, imported):
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
        # `Repository[Session]`: the copy holds an AsyncSession, `RepositoryAsync[AsyncSession]`
        _bind_async_session(project, module, found, plan)
        _retype_session_fields(project, module, found, plan)
        # Its bases, and the classes its class-level annotations name (`items: AbstractRepository`
        # on a unit of work's base): the copy's attribute holds the parallel class's instance.
        annotated = (ref for refs in found.annotations.values() for ref in refs)
        for base in dict.fromkeys((*found.bases, *annotated)):
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


def _bind_async_session(project: Project, module: facts.Module, found: facts.ClassFacts, plan: FilePlan) -> None:
    """A class moving to AsyncSession that binds a generic base to the synchronous Session type
    (`class UserRepo(Repository[Session])`, `SessionT = TypeVar("SessionT", Session, AsyncSession)`)
    binds it to `AsyncSession` instead, in place or in its parallel copy: it holds one now."""
    bound = {arg for args in found.base_args.values() for arg in args if project.is_sync_session_type(arg)}
    if not bound:
        return
    plan.parallel_base_sessions[found.qualname] = {local for local, imported in module.imports.items() if imported in bound}
    sqlmodel = any((project.canonical(arg) or "").startswith("sqlmodel") for arg in bound)
    plan.imports.add(
        ("sqlmodel.ext.asyncio.session", "AsyncSession") if sqlmodel else ("sqlalchemy.ext.asyncio", "AsyncSession")
    )


def _retype_session_fields(project: Project, module: facts.Module, found: facts.ClassFacts, plan: FilePlan) -> None:
    """The synchronous Session type's spellings in the module, for the annotations of the fields
    of a class that holds an AsyncSession from now on (`_SessionFields` in to_async): the names
    imported (`Session`: its import goes when nothing else names it) and the names read through
    an imported module (`orm.Session`, `sa.orm.Session`: home ""), written plain or as a string."""
    names: dict[str, tuple[str, str]] = {}
    types: list[str] = []
    known = (*SYNC_SESSION_TYPES, *project.config.session_types)
    for local, imported in module.imports.items():
        if "." in imported and project.is_sync_session_type(imported):
            names[local] = (imported.rpartition(".")[0], imported.rpartition(".")[2])
            types.append(imported)
            continue
        for ref in known:
            if ref.startswith(imported + "."):
                names[local + ref[len(imported):]] = ("", "")
                types.append(ref)
    if not names:
        return
    plan.session_fields[found.qualname] = names
    if any((project.canonical(ref) or "").startswith("sqlmodel") for ref in types):
        plan.async_session_home = "sqlmodel.ext.asyncio.session"


def _plan_in_place_bases(project: Project, plans: dict[str, FilePlan], parallel: dict[str, str]) -> None:
    """`_bind_async_session` for the classes whose methods move in place (no parallel copy)."""
    by_path = {module.path: module for module in project.modules.values()}
    for path, plan in plans.items():
        module = by_path.get(path)
        if module is None:
            continue
        owners = {
            key.partition("#")[0].rpartition(".")[0] for key, fplan in plan.functions.items()
            if fplan.twin is None and not fplan.retype_only and not fplan.keep_sync
        }
        for found in module.classes:
            if found.qualname in owners and f"{module.name}.{found.qualname}" not in parallel:
                _bind_async_session(project, module, found, plan)
                if f"{module.name}.{found.qualname}" in holders.holder_classes(project):
                    _retype_session_fields(project, module, found, plan)


def _plan_eager(
    project: Project, fid, fplan: FunctionPlan, plan: FilePlan, closure: Closure, stack: StackNames
) -> None:
    """The loader options the migrated routes need on this function's queries."""
    from async_migrate.codemods.phase2.eager_flow import option, query_of

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
    classes = project.flow.classes
    # Relationships the function's own loader options name (`joinedload(User.items)`): a path
    # through them keeps their strategy.
    named = {(classes.resolve(owner), attribute) for owner, attribute in function.eager if owner}

    def given(path: tuple[tuple[str, str], ...]) -> int:
        count = 0
        for step in path[:-1]:
            if step not in named:
                break
            count += 1
        return count

    loader = undefer = default = ""
    if any(
        not given(path) and (len(path) > 1 or (number, path) not in deferred)
        for number, found in paths.items() for path in found
    ):
        loader = _loader_name(module, plan, "selectinload", shadowed)
    if deferred:
        undefer = _loader_name(module, plan, "undefer", shadowed)
    if any(given(path) for found in paths.values() for path in found):
        default = _loader_name(module, plan, "defaultload", shadowed)
    # A statement kept in a name and run by several queries (`first = s.exec(stmt).first()`, then
    # `s.exec(stmt).all()`) is one select with a load each: its options are those every one of
    # them needs, or the last would replace the others'.
    merged: dict[int, tuple[int, list[tuple[tuple[str, str], ...]]]] = {}
    for number, found in sorted(paths.items()):
        first, joined = merged.setdefault(query_of(function, number).index, (number, []))
        joined.extend(path for path in found if path not in joined)
        deferred.update((first, path) for path in found if (number, path) in deferred)
    for number, found in (merged[index] for index in sorted(merged)):
        load = query_of(function, number)
        local = {}
        for path in found:
            for owner, _ in path:
                if owner not in local:
                    local[owner] = _class_name(project, module, plan, owner, load, shadowed)
        # a path another one extends is loaded by that one already
        kept = [p for p in found if not any(len(o) > len(p) and o[: len(p)] == p for o in found)]
        options = tuple(
            option(p, local, loader, (number, p) in deferred, undefer, given(p), default) for p in sorted(kept)
        )
        for path in kept:
            for owner, attribute in path:
                named_option = f"{classes.short(owner)}.{attribute}"
                if _backref_on(classes, owner, attribute) and named_option not in plan.backref_options:
                    plan.backref_options.append(named_option)
        # `get()` hands back an object the Session holds already (a dependency sharing it may
        # have loaded it) and then ignores `options=`: the relationship would load lazily, a
        # MissingGreenlet. A `select` applies its loader options to such an object's unloaded
        # attributes and, unlike `populate_existing=True`, leaves its loaded ones (changes not
        # yet flushed, under `autoflush=False`) as they are. lazy_loads blocks a get without
        # one known primary key column.
        key = classes.primary_key(load.model) if load.form == "get" else None
        select = None
        if key is not None:
            # SQLModel's `exec()` returns the objects of its own `select` of one entity
            home, method = ("sqlmodel", "exec") if stack.sqlmodel else ("sqlalchemy", "scalars")
            select_name = _imported_as(module, home, "select")
            if select_name is None or select_name in shadowed:
                select_name = _import_free(module, plan, home, "select", shadowed)
            select = (select_name, key, method, _joins_rows(project, load.model))
        fplan.eager[load.index] = (load.form, options, select)


def _backref_on(classes: Classes, owner: str, attribute: str) -> bool:
    """Whether relationship `attribute` of class `owner` is one a backref adds (no class of its
    order declares it), which the class has only once the mappers are configured."""
    from async_migrate.codemods.backrefs import project_backrefs

    if owner not in classes.by_ref:
        return False
    order = classes.mro(owner)
    if any(attribute in classes.by_ref[ancestor][1].relationships for ancestor in order):
        return False
    found = project_backrefs(classes)
    return any(attribute in found.on(ancestor) for ancestor in order) or attribute in found.unplaced


# Loader strategies that never join a relationship's rows into its owner's query.
_UNJOINED = frozenset({
    "select", "selectin", "subquery", "immediate", "raise", "raise_on_sql", "noload", "write_only", "dynamic",
})


def _joins_rows(project: Project, model: str | None) -> bool:
    """Whether a select of `model` may hand one object back in several rows, which a 2.0 result
    refuses without `.unique()` (InvalidRequestError for a joined eager collection): a
    relationship of the class, a base or a subclass loading `lazy="joined"` (or by a strategy
    not read), a backref declared so anywhere (where one lands is not recorded), a base outside
    PATH that may declare one, or a class the analysis does not read. The options phase two adds
    are `selectinload`s, which join nothing."""
    from async_migrate.codemods.phase2.model_members import members

    classes = project.flow.classes
    ref = classes.resolve(model) if model else None
    if ref is None:
        return True
    found = members(project, classes)
    for cls in (ref, *classes.subclasses(ref)):
        if found.outside(cls) is not None:
            return True
        if any(s not in _UNJOINED for a in classes.mro(cls) for s in classes.by_ref[a][1].relationships.values()):
            return True
    return any(s not in _UNJOINED for _, declared in classes.by_ref.values() for s in declared.backrefs.values())


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
    # A class is known by its home (`app.models.user.Post`) also where a package re-exports it
    # (`from app.models import Post`): `canonical` resolves functions and values, not classes.
    classes = project.flow.classes

    def names(imported: str | None) -> bool:
        return project.canonical(imported) == ref or classes.resolve(imported) == ref

    if names(load.model):
        return load.entity
    for local, imported in module.imports.items():
        if names(imported) and local not in shadowed:
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
    # An `Annotated[Cls, Depends(...)]` alias is not the class: its twin (`_alias_twins`) names
    # the parallel class, and importing that here as well would leave it unused.
    refs = [r for r in refs if not _annotated_alias(project, r)]
    mentioned = {found for r in refs if (found := classes.resolve(r)) in parallel}
    for ref in sorted(mentioned):
        home, cls = classes.by_ref[ref]
        new = parallel[ref]
        if home.name == module.name:
            fplan.renames[cls.qualname] = new
            continue
        # An `Annotated[Cls, Depends(...)]` alias resolves to the class too, but is not it: renamed
        # to the class, a route's `svc: ServiceDep` would lose its `Depends(...)`.
        via = _imported(module, home.name, cls.qualname, _class_not_alias(project, ref))
        if via is not None:
            local, imported = via
            fplan.renames[local] = new
            plan.imports.add((home.name, new))
            _unused(plan, module, imported)
        else:  # `repos.ProjectRepo`: the attribute is renamed
            fplan.renames[cls.qualname] = new


def _class_not_alias(project: Project, wanted: str) -> Callable[[str], bool]:
    """Whether an imported name is the class `wanted` itself, not an `Annotated` alias of it."""
    return lambda name: project.flow.classes.resolve(name) == wanted and not _annotated_alias(project, name)


def _annotated_alias(project: Project, ref: str) -> bool:
    canonical = project.canonical(ref) or ref
    home, _, name = canonical.rpartition(".")
    module = project.modules.get(home)
    value = module.values.get(name) if module is not None else None
    return value is not None and value.kind == "annotated"


def _alias_twins(
    project: Project, twins: dict, parallel: dict[str, str], stack: StackNames, in_place: set | frozenset = frozenset()
) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, tuple[str, str, dict[str, str]], set[tuple[str, str]]]]]:
    """Annotated aliases of twinned dependencies get twins of their own: alias ref -> (module, twin name).
    An alias of a class dependency with a parallel async class (`Annotated[Repo, Depends()]`)
    gets one naming that class, and so does an alias of a dependency twin returning it
    (`Annotated[Repo, Depends(get_repo)]`: `get_repo_async` returns `RepoAsync`), and so does an
    alias of a dependency moving in place that builds the class (`Annotated[UserService,
    Depends(UserServiceProvider())]`, its `__call__` now returning `UserServiceAsync`). Second: per
    alias ref, its module's path, the `FilePlan.alias_twins` entry and the imports it needs,
    written only where a migrated route or dependency uses the alias (`_write_alias_twins`)."""
    from async_migrate.codemods.phase2.dependencies import dependency_function
    from async_migrate.codemods.phase2.twins import module_names

    classes = project.flow.classes
    found: dict[str, tuple[str, str]] = {}
    pending: dict[str, tuple[str, tuple[str, str, dict[str, str]], set[tuple[str, str]]]] = {}

    def rename(module: facts.Module, ref: str, name: str, twin: str, cls_ref: str) -> None:
        """The alias `name` written as `twin`, its class `cls_ref` replaced by the parallel class."""
        home, cls = classes.by_ref[cls_ref]
        local = cls.qualname if home.name == module.name else _imported_as(module, home.name, cls.qualname)
        if local is None:
            return  # named through a module attribute: the routes using it stay blocked by the self-check
        needs = {(home.name, parallel[cls_ref])} if home.name != module.name else set()
        pending[ref] = (module.path, (name, twin, {local: parallel[cls_ref]}), needs)
        found[ref] = (module.name, twin)

    for module in project.modules.values():
        taken = module_names(module)
        for name, value in sorted(module.values.items()):
            if value.kind != "annotated" and value.kind != "depends":
                continue
            # `CurrentUser = Depends(get_current_user)` (or `Security(...)`) twins as an alias does:
            # `CurrentUserAsync = Depends(get_current_user_async)`, for the parameters it is the default of.
            depends = value.depends if value.kind == "annotated" else value.ref
            ref = f"{module.name}.{name}"
            target = dependency_function(project, depends)
            holder = holders.holder_of(project, target) if target is not None else None
            # The class FastAPI builds: the one named, which may inherit its `__init__` from the
            # holder (`Annotated[ItemRepo, Depends()]`, `ItemRepo(BaseRepo[Item])`).
            built = (classes.resolve(depends) if depends else None) or (holder.ref if holder else None)
            if holder is not None and holder.init == target and built in parallel:
                assert built is not None
                home = classes.by_ref[built][0]
                reused = _existing_alias_twin(
                    project, module, name, None, parallel, f"{home.name}.{parallel[built]}"
                )
                if reused is not None:
                    found[ref] = (module.name, reused)
                    continue
                rename(module, ref, name, _free_alias(project, name, taken), built)
                continue
            annotated = classes.resolve(value.ref) if value.kind == "annotated" else None
            if target is not None and target in in_place and annotated is not None and annotated in parallel:
                # The dependency moves in place and now builds the parallel class: an alias naming
                # the synchronous class would have the routes read it as that class.
                # Only the routes moving with it inject it (phase two blocks them otherwise): the alias
                # is rewritten in place, as the dependency is (its own name as its "twin").
                rename(module, ref, name, name, annotated)
                continue
            if target is None or target not in twins:
                continue
            dep_module, dep = project.functions[target]
            reused = _existing_alias_twin(project, module, name, (dep_module.name, twins[target]), parallel)
            if reused is not None:
                found[ref] = (module.name, reused)
                continue
            twin = _free_alias(project, name, taken)
            renames = {dep.name: twins[target]}
            needs = set()
            local = _imported_as(module, dep_module.name, dep.name)
            if dep_module.name != module.name and local is not None:
                needs.add((dep_module.name, twins[target]))
                renames[local] = twins[target]
            if target in tx_dependency.wrappers(project):
                # `Annotated[Session, Depends(get_tx_db)]`: the twin yields the AsyncSession
                for ref_in in value.annotation:
                    if project.is_sync_session_type(ref_in):
                        spelled = _imported_as(module, *ref_in.rsplit(".", 1)) or ref_in.rsplit(".", 1)[-1]
                        renames[spelled] = "AsyncSession"
                        needs.add(stack.async_session)
            # the class annotated, also parametrised (`Annotated[Repo[Hero], Depends(get_repo)]`)
            for annotated in dict.fromkeys(
                classes.resolve(ref_in) for ref_in in (value.ref if value.kind == "annotated" else None, *value.annotation)
                if ref_in is not None
            ):
                if annotated is None or annotated not in parallel:
                    continue
                home, cls = classes.by_ref[annotated]
                named = cls.qualname if home.name == module.name else _imported_as(module, home.name, cls.qualname)
                if named is not None:
                    renames[named] = parallel[annotated]
                    if home.name != module.name:
                        needs.add((home.name, parallel[annotated]))
            pending[ref] = (module.path, (name, twin, renames), needs)
            found[ref] = (module.name, twin)
    return found, pending


def _write_alias_twins(plans: dict[str, FilePlan], pending: dict, used: set[str]) -> None:
    for ref in sorted(used & set(pending)):
        path, entry, needs = pending[ref]
        plan = plans.setdefault(path, FilePlan())
        plan.alias_twins.append(entry)
        plan.imports.update(needs)
        plan.exports.add((entry[0], entry[1]))  # beside the alias in a literal `__all__`


def _free_alias(project: Project, name: str, taken: set[str]) -> str:
    twin, number = name + project.config.twin_suffix, 1
    while twin in taken:
        number += 1
        twin = f"{name}{project.config.twin_suffix}_{number}"
    taken.add(twin)
    return twin


def _existing_alias_twin(
    project: Project, module: facts.Module, alias: str, twin: tuple[str, str] | None,
    parallel: dict[str, str], built: str | None = None,
) -> str | None:
    """An alias an earlier run (for another subsystem) left beside `alias`: annotated with the
    same type, or with the parallel async class of the one it names, and depending the same way
    on the dependency's twin `twin` (module, name), or for a class dependency on its parallel
    class `built`. Its name, or None."""

    classes = project.flow.classes
    value = module.values[alias]
    if value.kind == "depends":
        # `CurrentUser = Security(get_user, scopes=[...])`: what else the call says is not in the
        # facts, so only the twin an earlier run named after it is its twin.
        suffix = alias + project.config.twin_suffix
        for name, other in sorted(module.values.items()):
            if other.kind != "depends" or not (name == suffix or name.startswith(suffix + "_")):
                continue
            if _names_twin(project, other.ref, twin, built):
                return name
        return None
    asynchronous = []
    for ref in value.annotation:
        resolved = classes.resolve(ref)
        if resolved is not None and resolved in parallel:
            ref = f"{classes.by_ref[resolved][0].name}.{parallel[resolved]}"
        asynchronous.append(ref)
    for name, other in sorted(module.values.items()):
        if other is value or other.kind != "annotated" or other.depends_options != value.depends_options:
            continue
        if other.annotation != value.annotation and list(other.annotation) != asynchronous:
            continue
        if _names_twin(project, other.depends, twin, built):
            return name
    return None


def _names_twin(project: Project, ref: str | None, twin: tuple[str, str] | None, built: str | None) -> bool:
    """Whether a dependency reference names the twin (module name, qualname) an earlier run
    wrote, or, with no twin function, the parallel class `built`."""
    from async_migrate.codemods.phase2.dependencies import dependency_function

    if not ref:
        return False
    if twin is None:
        return project.flow.classes.resolve(ref) == built
    found = dependency_function(project, ref)
    return found is not None and found[0] == twin[0] and project.functions[found][1].qualname == twin[1]


def _plan_redepend(project, fid, fplan, plan, twins, aliases, used: set[str], plans) -> None:
    """Point a route's (or dependency twin's) parameters and decorator at the dependency twins."""
    module, function = project.functions[fid]
    refs = [r for p in function.params for r in (p.depends, *p.annotation) if r]
    # `user: User = CurrentUser` with `CurrentUser = Depends(get_current_user)`: its twin's alias
    refs += [p.default_ref for p in function.params if p.depends is None and _depends_value(project, p.default_ref)]
    refs += [r for d in function.decorators for r in d.depends]
    _redepend(project, module, refs, fplan.redepend, plan, twins, aliases, used, plans)


def _view_init(project: Project, fid: FunctionId, closure: Closure) -> bool:
    """The `__init__` of a class-based view (written, or the one `@cbv` writes from the class
    attributes) whose migrated routes FastAPI builds it for: its parameters' dependencies are the
    routes' own, pointed at their async twins as a route's parameters are."""
    holder = holders.holder_of(project, fid)
    return holder is not None and holder.init == fid and any(
        route in holder.methods for route in closure.migrated_routes
    )


def _depends_value(project: Project, ref: str | None) -> bool:
    target = project.resolve(ref) if ref else None
    return target is not None and target.value is not None and target.value.kind == "depends"


def _plan_router_redepend(
    project: Project, closure: Closure, plans: dict[str, FilePlan], twins, aliases, used: set[str]
) -> None:
    """Point `APIRouter(dependencies=[Depends(f)])` at the twins of the routers whose routes all migrate."""
    from async_migrate.codemods.phase2.dependencies import router_dependency_refs

    routers: dict[str, set] = {}
    for route in closure.migrated_routes:
        for router, named in closure.router_twins.get(route, {}).items():
            routers.setdefault(router, set()).update(named)
    for router, listed in sorted(routers.items()):
        target = project.resolve(router)
        if target is None or target.module is None:
            continue
        plan = plans.setdefault(target.module.path, FilePlan())
        renames = plan.router_redepend.setdefault(router.rsplit(".", 1)[-1], {})
        chosen = {fid: twin for fid, twin in twins.items() if fid in listed}
        _redepend(
            project, target.module, router_dependency_refs(project, router), renames, plan, chosen, aliases, used, plans
        )


def _plan_include_redepend(
    project: Project, closure: Closure, plans: dict[str, FilePlan], twins, aliases, used: set[str]
) -> None:
    """Point `include_router(router, dependencies=[Depends(f)])` at the twins of the includes
    whose routes all migrate."""
    from async_migrate.codemods.phase2.dependencies import guarded_include_lists

    wanted: dict[tuple[str, int], set] = {}
    for route in closure.migrated_routes:
        for place, named in closure.include_twins.get(route, {}).items():
            wanted.setdefault(place, set()).update(named)
    for include in guarded_include_lists(project):
        listed = wanted.get((include.path, include.line))
        module = project.modules.get(include.module) if listed else None
        if listed is None or module is None:
            continue
        plan = plans.setdefault(include.path, FilePlan())
        renames = plan.include_redepend.setdefault(include.line, {})
        chosen = {fid: twin for fid, twin in twins.items() if fid in listed}
        _redepend(project, module, list(include.refs), renames, plan, chosen, aliases, used, plans)


def _imported(
    module: facts.Module, home: str, name: str, same: Callable[[str], bool]
) -> tuple[str, str] | None:
    """How `module` imports `home.name`: from its home, or through a package re-exporting it
    (`from repos import ItemRepo`); (local name, the reference imported) or None."""
    local = _imported_as(module, home, name)
    if local is not None:
        return local, f"{home}.{name}"
    for local, imported in module.imports.items():
        if local != "*" and "." in imported and same(imported):
            return local, imported
    return None


def _function_id(project: Project, ref: str) -> tuple[str, str] | None:
    found = project.function(ref)
    return None if found is None else (found[0].name, found[1].key)


def _resolves_to(resolve: Callable[[str], object], wanted: object) -> Callable[[str], bool]:
    return lambda name: resolve(name) == wanted


def _redepend(project, module, refs, renames: dict[str, str], plan, twins, aliases, used: set[str], plans) -> None:
    """The renames that point `refs` (dependency references written in `module`) at the twins."""
    from async_migrate.codemods.phase2.dependencies import dependency_function

    for ref in refs:
        target = dependency_function(project, ref)
        if target in twins:
            home, dep = project.functions[target]
            renames[ref.rsplit(".", 1)[-1]] = twins[target]
            if "." in dep.qualname:
                continue  # a bound method (`container.get_service`): its twin is reached through the instance
            via = _imported(module, home.name, dep.name, _resolves_to(partial(_function_id, project), target))
            if via is not None:
                renamed, imported = via
                renames[renamed] = twins[target]
                plan.imports.add((home.name, twins[target]))
                plans.setdefault(home.path, FilePlan()).exports.add((dep.name, twins[target]))
                _unused(plan, module, imported)
            else:  # `Depends(deps.get_user)` through a package re-exporting it: it re-exports the twin
                _re_export_twin(project, plans, ref, home.name, dep.name, twins[target])
                _unused(plan, module, ref)
            continue
        alias = aliases.get(project.canonical(ref) or "")
        if alias is not None:
            used.add(project.canonical(ref) or "")
            home_name, twin = alias
            alias_name = (project.canonical(ref) or "").rsplit(".", 1)[-1]
            renames[ref.rsplit(".", 1)[-1]] = twin
            reached = _imported(module, home_name, alias_name, _resolves_to(project.canonical, project.canonical(ref)))
            if reached is not None and home_name != module.name:
                renames[reached[0]] = twin
                plan.imports.add((home_name, twin))
                _unused(plan, module, reached[1])
            elif home_name != module.name:
                _re_export_twin(project, plans, ref, home_name, alias_name, twin)
                _unused(plan, module, ref)  # `from . import deps` for `Depends(deps.get_db)`


def _re_export_twin(project: Project, plans: dict[str, FilePlan], ref: str, home: str, name: str, twin: str) -> None:
    """`ref` written through modules re-exporting `home.name` (`api.CurrentUser` with `from
    app.api.deps import CurrentUser` in `app/api/__init__.py`): each imports the twin as well,
    so the renamed reference finds it."""
    via, _, written = ref.rpartition(".")
    if home in project.modules:
        # `__all__ = ["get_user", ...]` in its module: the twin is exported beside it (star imports)
        plans.setdefault(project.modules[home].path, FilePlan()).exports.add((name, twin))
    module, local = project.modules.get(via), written
    for path, source in (re_export_chain(project, via, written, home, name) if via and via != home else None) or []:
        plans.setdefault(path, FilePlan()).imports.add((source, twin))
        if module is not None:
            plans[path].exports.add((local, twin))
            local = module.imports.get(local, "").rpartition(".")[2]
            module = project.modules.get(source)


def _plan_calls(project, fid, fplan, plan, migrated, twins, mappings, stack, inline, plans) -> None:
    """Each call of the function, offered to the call rewrites in their order (`rewrites/`)."""
    module, function = project.functions[fid]
    names = project.session_names(fid)
    edges: dict[int, Edge] = {}
    for edge in project.all_calls_from[fid]:
        # A call that may run several methods: they move together (one twin name), so any
        # migrated one stands for all.
        if edge.call.index not in edges or edge.callee in migrated:
            edges[edge.call.index] = edge
    site = FunctionSite(
        project, fid, module, function, plan, stack, names,
        derived=derived_names(function, names, lambda func: holders.held_call(project, fid, func)),
        edges=edges,
        opened={o.line: o for o in project.opens_directly(fid)},
        migrated=migrated,
        twins=twins,
        mappings=mappings,
        inline=inline,
        files=plans,
    )
    for call in function.calls:
        for unit in CALL_REWRITES:
            action = unit.plan(call, site)
            if action is None:
                continue
            if isinstance(action, CallAction):
                fplan.calls[call.index if action.at is None else action.at] = action
            break


def _plan_params(project, fid, fplan, plan, is_route, stack) -> None:
    """Each parameter that receives the Session, offered to the parameter rewrites in order."""
    module, function = project.functions[fid]
    declared = project.session_params[fid]
    for param in function.params:
        if param.name not in declared:
            continue
        site = ParamSite(project, module, param, plan, stack, is_route)
        for unit in PARAM_REWRITES:
            action = unit.plan(site)
            if action is not None:
                fplan.params[param.name] = action
                break
