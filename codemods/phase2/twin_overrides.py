"""The tests' overrides of dependencies the migrated routes now reach through async twins.

A dependency sharing a migrated route's Session (`get_current_user(db: Session = Depends(get_db))`,
a router's `dependencies=[Depends(require_admin)]`, a class dependency holding the Session) keeps
its synchronous original and the route is pointed at its twin (`get_current_user_async`) or
parallel class (`RepoAsync`). FastAPI looks overrides up by the callable a route names, so
`app.dependency_overrides[get_current_user] = lambda: user` in the tests no longer reaches those
routes: they run the real dependency (the token check the tests skipped, a user the tests never
inserted, a repository on a Session the tests did not hand it).

Each such override is a follow-up naming the twin to override as well: with the same stand-in,
unless the dependency's value holds the Session (`yield SQLAlchemyUserDatabase(session)`, a class
dependency holding it), whose stand-in would hand the migrated code synchronous methods it awaits;
that one names the parallel async class the twin's stand-in yields instead. When the tests override
no session dependency at all (neither the synchronous one nor the async one), the overridden
dependency was the tests' only stand-in for the Session work behind it: its twin would open a
Session on the application's own database, so the override is a gap phase two refuses to write
past (`override_follow_ups`), as it does for the session dependency itself.

Migrated code opening the async sessionmaker itself (a `@contextmanager` opener's twin, a helper
or method opening its own Session) reaches no dependency at all: tests that point the synchronous
sessionmaker or engine at their database and override the async dependency, but leave the async
sessionmaker alone, let it reach the application's database, a gap too (`opener_redirect_gaps`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import stack_extras
from async_migrate.codemods.phase2.holders import holder_of
from async_migrate.codemods.phase2.rewrites.base import CallKind
from async_migrate.codemods.project import Project
from async_migrate.codemods.sources import is_test_path


@dataclass(frozen=True, slots=True)
class Twinned:
    original: str  # canonical reference of the dependency the tests may override
    twin: str  # the name the migrated routes depend on instead, in the same module
    module: str  # that module's path
    routes: tuple[str, ...]  # the migrated routes reaching it, by name
    method: bool = False  # a bound method (`container.get_service`): its twin is a method of the same class
    # The value carries the Session: (the class it builds, its parallel async class), as in
    # `yield SQLAlchemyUserDatabase(session)` or a class dependency holding the Session.
    carries: tuple[str, str] | None = None


def twinned(project: Project, closure) -> list[Twinned]:
    """The dependencies (functions and classes) migrated routes reach through a twin or parallel class."""
    found: dict[str, tuple[str, str, list[str]]] = {}
    methods: set[str] = set()
    carried: dict[str, tuple[str, str]] = {}
    for route in sorted(closure.migrated_routes):
        route_name = project.functions[route][1].qualname
        for fid in closure.dependency_twins.get(route, ()):
            module, function = project.functions[fid]
            holder = holder_of(project, fid)
            if holder is not None and holder.init == fid and holder.ref in closure.parallel_classes:
                original, twin = holder.ref, closure.parallel_classes[holder.ref]
                built: tuple[str, str] | None = (holder.ref, twin)
            else:
                decision = closure.helpers.get(fid)
                if decision is None or not decision.twin:
                    continue
                original, twin = f"{module.name}.{function.qualname}", decision.twin
                built = _builds_parallel(project, function, closure.parallel_classes)
            ref = project.canonical(original) or original
            if built is not None:
                carried[ref] = built
            if holder is None and "." in function.qualname:
                methods.add(ref)
            entry = found.setdefault(ref, (twin, module.path, []))
            if route_name not in entry[2]:
                entry[2].append(route_name)
    return [
        Twinned(ref, twin, path, tuple(routes), ref in methods, carried.get(ref))
        for ref, (twin, path, routes) in sorted(found.items())
    ]


def _builds_parallel(project: Project, function: facts.Function, parallel: dict[str, str]) -> tuple[str, str] | None:
    """The class holding the Session that the dependency builds (`yield SQLAlchemyUserDatabase(session)`),
    with its parallel async class: a stand-in for the dependency hands the routes such an object."""
    for call in function.calls:
        callee = project.canonical(call.callee) if call.callee else None
        if callee in parallel:
            return callee, parallel[callee]
    return None


def notes(
    project: Project, closure, read: Callable[[str], str] | None, session_overridden: bool,
    tests: Sequence[facts.Module] = (),
) -> tuple[list[str], list[str]]:
    """(gaps, follow-ups): one line per override of a twinned dependency that does not reach the
    migrated routes. `session_overridden`: the tests override a session dependency somewhere.
    `tests`: the test modules above PATH (`outside_tests.py`), read besides the project's."""
    return _notes(project, read, twinned(project, closure), session_overridden, tests)


def _notes(
    project: Project, read: Callable[[str], str] | None, deps: list[Twinned], session_overridden: bool,
    tests: Sequence[facts.Module] = (),
) -> tuple[list[str], list[str]]:
    if not deps:
        return [], []
    texts = stack_extras.Texts(read)
    modules = [*project.modules.values(), *tests]
    gaps: list[str] = []
    follow_ups: list[str] = []
    for dep in deps:
        owner = dep.original.rpartition(".")[0]
        twin_ref = project.canonical(f"{owner}.{dep.twin}") or f"{owner}.{dep.twin}"
        # An override of the twin covers one of the original made in the same place (the same
        # fixture), or everywhere when made at module level, on the same application.
        covering = list(stack_extras.overrides(project, texts, modules, {twin_ref}))
        for o in stack_extras.overrides(project, texts, modules, {dep.original}):
            if stack_extras.covered(o, covering):
                continue
            # A bound method's twin is reached through the same instance: `container.get_service_async`.
            twin = f"{o.provider.rpartition('.')[0]}.{dep.twin}" if dep.method and "." in o.provider else dep.twin
            shown = ", ".join(dep.routes[:3]) + (f" and {len(dep.routes) - 3} more" if len(dep.routes) > 3 else "")
            if not is_test_path(o.path):
                # the application's own override: the migrated routes would bypass it when served
                follow_ups.append(
                    f"{o.path}:{o.line}: `{o.written}` overrides `{o.provider}` in the application; the migrated "
                    f"routes ({shown}) depend on its async twin `{dep.twin}` ({dep.module}) instead, which it does "
                    f"not reach, so they run the real `{dep.twin}` when served: override `{dep.twin}` there too with "
                    "an async counterpart of the override"
                )
                continue
            note = (
                f"{o.path}:{o.line}: `{o.written}` overrides `{o.provider}`; the migrated routes ({shown}) depend "
                f"on its async twin `{dep.twin}` ({dep.module}) instead, and FastAPI looks an override up by the "
                "dependency a route names, so this one no longer reaches them: they run the real "
                f"`{dep.twin}` in the tests. "
            )
            if dep.carries is None:
                note += (
                    f"Override `{twin}` as well, with the same stand-in (`{o.owner or 'app'}.dependency_overrides"
                    f"[{twin}] = {o.owner or 'app'}.dependency_overrides[{o.provider}]` after this line)"
                )
            else:
                # The stand-in's object holds the synchronous Session, whose methods return values where
                # the migrated code awaits them: copied over, the routes fail with "can't be used in
                # 'await' expression".
                cls, parallel = (name.rpartition(".")[2] for name in dep.carries)
                note += (
                    f"Its stand-in hands them a `{cls}`, on the synchronous Session, whose methods the migrated "
                    f"code awaits, so it is no stand-in for `{twin}`: override `{twin}` with one yielding a "
                    f"`{parallel}` on the AsyncSession the tests give the migrated routes, or leave `{twin}` "
                    "to build its own from the async session dependency, once the tests override that"
                )
            if session_overridden:
                follow_ups.append(note)
            else:
                gaps.append(
                    note + "; the tests override no session dependency, so the Session work of the real "
                    f"`{dep.twin}` would reach the application's own database"
                )
    return gaps, follow_ups


def after_gaps(
    project: Project, read: Callable[[str], str] | None, twin_suffix: str, session_overridden: bool,
    tests: Sequence[facts.Module] = (),
) -> list[str]:
    """After phase two (for `verify`): the tests override a dependency whose async twin or parallel
    class the application's routes depend on instead, and override no session dependency, so the
    tests ran the twin's Session work on the application's own database."""
    from async_migrate.codemods import twin_names
    from async_migrate.codemods.phase2.dependencies import (
        dependency_function,
        route_dependencies,
    )

    if session_overridden:
        return []
    # twin reference -> the routes reaching it
    reached: dict[str, list[str]] = {}
    for handler in project.handlers:
        if handler.kind == "dependency" or is_test_path(handler.module.path):
            continue
        queue = [project.param_dependency(p) for p in handler.function.params] + route_dependencies(project, handler)
        seen: set[str] = set()
        while queue:
            ref = project.canonical(queue.pop())
            if ref is None or ref in seen:
                continue
            seen.add(ref)
            routes = reached.setdefault(ref, [])
            if handler.function.qualname not in routes:
                routes.append(handler.function.qualname)
            fid = dependency_function(project, ref)
            if fid is not None:
                queue += [project.param_dependency(p) for p in project.functions[fid][1].params]
    deps: list[Twinned] = []
    for ref, routes in sorted(reached.items()):
        fid = dependency_function(project, ref)
        if fid is not None and "." in project.functions[fid][1].qualname:
            deps.extend(_method_originals(project, fid, twin_suffix, routes))
            continue
        owner, _, name = ref.rpartition(".")
        module = project.modules.get(owner)
        if module is None:
            continue
        names = [f.qualname for f in module.functions if "." not in f.qualname and f.qualname != name]
        originals = [o for o in names if twin_names.is_twin(o, name, twin_suffix)]
        originals += [
            c.qualname for c in module.classes
            if "." not in c.qualname and twin_names.is_parallel_class(c.qualname, name)
        ]
        deps.extend(
            Twinned(project.canonical(f"{owner}.{o}") or f"{owner}.{o}", name, module.path, tuple(routes))
            for o in originals
        )
    return _notes(project, read, deps, False, tests)[0]


def _method_originals(project: Project, fid, twin_suffix: str, routes: list[str]) -> list[Twinned]:
    """A bound-method dependency the routes reach (`container.get_service_async`): the methods of
    its class it is the async twin of, each a dependency the tests may still override."""
    from async_migrate.codemods import twin_names

    owner = project.flow.classes.owner(fid)
    if owner is None or holder_of(project, fid) is not None:
        return []
    module, function = project.functions[fid]
    cls, _, name = function.qualname.rpartition(".")
    return [
        Twinned(f"{module.name}.{cls}.{o}", name, module.path, tuple(routes), True)
        for o in sorted(project.flow.classes.methods.get(owner, {}))
        if o != name and twin_names.is_twin(o, name, twin_suffix)
    ]


def opener_redirect_gaps(project: Project, stack, file_plans: dict) -> list[str]:
    """Gaps: the tests point the synchronous sessionmaker or engine at their database and override
    the async dependency, but not the async sessionmaker or engine, while migrated code (a
    `@contextmanager` opener's twin, a helper or method opening its own Session) opens the async
    sessionmaker itself: the override never reaches it, so it writes to the application's database."""
    maker = stack.async_sessionmaker
    if not stack.sync_redirects or maker is None or stack.async_dependency is None:
        return []
    by_path = {module.path: module for module in project.modules.values()}
    openers = []
    for path, file_plan in sorted(file_plans.items()):
        for key, plan in file_plan.functions.items():
            opens = any(a.kind in (CallKind.OPEN, CallKind.OPEN_ON_ENGINE) for a in plan.calls.values())
            if not opens and not plan.defaults:
                continue
            module = by_path.get(path)
            original = f"{module.name}.{key}" if module is not None else f"{path}:{key}"
            openers.append(f"`{plan.twin}` (the twin of {original})" if plan.twin else f"`{original}`")
    if not openers:
        return []
    verb = "opens its AsyncSession" if len(openers) == 1 else "open their AsyncSession"
    engine = f" (or `{stack.async_engine.name}`)" if stack.async_engine is not None else ""
    return [
        f"{path}:{line}: `{written}` points the synchronous `{target}` at the tests' database, and the tests "
        f"override `{stack.async_dependency.name}`, but the migrated {', '.join(openers)} {verb} "
        f"from `{maker.name}` directly, which neither changes, so under the tests that code reaches the "
        "application's own database; "
        f"redirect `{maker.name}`{engine} the same way in the tests"
        for path, line, written, target in stack.sync_redirects
    ]
