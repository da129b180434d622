"""Phase two's driver: one subsystem's routes and helpers planned, rewritten, re-analysed
from the rewritten code and planned again until no route left migrating misbehaves; then the
outcomes and the subsystem's JSON (helpers, blockers, follow-ups).

The shared steps (collect, the result, the served paths) are `codemods/run.py`'s.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from async_migrate.codemods import session_work
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.config import Config, ConfigError
from async_migrate.codemods.options import Options, Progress, open_pool
from async_migrate.codemods.outcome import Outcome
from async_migrate.codemods.project import ROUTE_KINDS, FunctionId, Handler, Project
from async_migrate.codemods.rules import Reason, codes, texts
from async_migrate.codemods.rules.am201_moves_to_async_session import RULE as AM201
from async_migrate.codemods.rules.am202_awaits_migrated_helpers import RULE as AM202
from async_migrate.codemods.rules.am204_already_async_session import RULE as AM204
from async_migrate.codemods.rules.am223_self_check import RULE as AM223
from async_migrate.codemods.rules.am226_dependency_twin import RULE as AM226
from async_migrate.codemods.rules.am246_eager_load_added import RULE as AM246
from async_migrate.codemods.rules.am280_relationship_refresh_added import RULE as AM280
from async_migrate.codemods.rules.am287_await_splits_row_update import RULE as AM287
from async_migrate.codemods.rules.am298_async_route_sync_dependency import RULE as AM298
from async_migrate.codemods.run import Result, collect_project, compose_paths, unverified_subsystem_routes
from async_migrate.codemods.sources import TreeReader, discover


def phase2(root: Path, config: Config, options: Options, progress: Progress | None = None) -> Result:
    """Phase two for one subsystem: the async stack, and its routes and helpers on AsyncSession."""
    from async_migrate.codemods.phase2 import (
        alias_options,
        async_stack,
        engine_options,
        inline_sessions,
        reused_twins,
        scope_openers,
        self_check,
    )
    from async_migrate.codemods.phase2 import closure as closures
    from async_migrate.codemods.phase2 import plan as plans
    from async_migrate.codemods.phase2 import rewrite as phase2_rewrite

    with open_pool(root, config, options) as pool:
        project, errors, count = collect_project(
            root, config, options, pool, keep=None, progress=progress, route_callers=True
        )
        result = Result("phase2", root, project, errors=errors, files=count)
        openers = scope_openers.twinnable(project)
        if openers:
            project.take_opener_twins(openers)
        project.handed_twins = scope_openers.handed_twinnable(project)
        try:
            name, modules = closures.subsystem_modules(project, options.subsystem or "")
        except closures.SubsystemError:
            # The module asked for is there but could not be read: that, not a mistake in the path.
            asked = (options.subsystem or "").strip("/").removeprefix("./")
            unreadable = next((e["message"] for e in errors if e["file"] == asked), None)
            if unreadable is None:
                raise
            raise closures.SubsystemError(
                f"subsystem {options.subsystem!r} could not be read: {unreadable}; fix it and run phase two again"
            ) from None
        project.notices.extend(unverified_subsystem_routes(project, modules))
        routed = {h.module.path for h in project.handlers if h.kind in ROUTE_KINDS}
        if not routed & set(modules):
            # Nothing to migrate is a mistake in --subsystem, not an all-clear; unless routes are
            # registered where the analysis cannot see which handler they run: then say so.
            unseen = [f"{module.path}:{added.line}" for module, added in project.unresolved_endpoints]
            if unseen:
                raise closures.SubsystemError(
                    f"subsystem {options.subsystem!r} has no routes the analysis can resolve "
                    f"({', '.join(modules)}); routes registered at {', '.join(unseen)} run endpoints "
                    "it cannot resolve (AM310) and may be this subsystem's: register a function or a "
                    "method of a project class so phase two can read them"
                )
            raise closures.SubsystemError(
                f"subsystem {options.subsystem!r} has no routes ({', '.join(modules)}): phase two "
                "starts from a router module's routes and moves the helpers they reach; name a "
                "router module or a configured subsystem of routers" + closures.routed_hint(closures.routed_modules(project))
            )
        problem = engine_options.factory_problem(
            config, lambda path: (root / path).read_text(encoding="utf-8", errors="replace")
        )
        if problem is not None:  # generated code would fail at start-up: a configuration error
            file, line = engine_options.config_location(config, "async-engine-factory")
            raise ConfigError(f"{file}:{line}: {problem}" if line else f"{file}: {problem}")
        stack = async_stack.analyse_for(project, modules, root)
        names = _stack_names(stack, config)

        read = TreeReader(root)
        from async_migrate.codemods.phase2 import expired_reads

        expiry = expired_reads.Expiry(
            stack.expire_on_commit, stack.expiring, expired_reads.Models(project, read), stack.reloaded_on_commit
        )
        # Plan, rewrite, re-analyse the rewritten code; a route whose code would misbehave is
        # blocked and the rest planned again. Each round blocks at least one route, so it ends.
        forced: dict[tuple[str, str], list[Reason]] = {
            route: [blocker.reason()] for route, blocker in stack.kept_routes.items()
        }
        refused: list[self_check.Violation] = []
        failed: dict[str, str] = {}
        while True:
            closure = closures.compute(
                project, name, modules, options.shared, forced, read=read, expiry=expiry,
                engine=inline_sessions.stack_engine(stack), provider=async_provider(project, stack),
            )
            if stack.blockers:
                closure.block_all([b.reason() for b in stack.blockers])
            # A route whose Session alias means something the async alias does not (use_cache,
            # scope) is blocked before any rewrite, and the closure computed without it.
            differing = {r: why for r, why in alias_options.blocked(project, closure, stack).items() if r not in forced}
            if differing:
                forced.update(differing)
                continue
            file_plans = plans.build(project, closure, names) if names is not None else {}
            if stack.alias_edit is not None and not plans.uses_alias(file_plans):
                # Only a parameter written with the synchronous alias is given the async one: with
                # none, a generated alias would be dead code.
                named = async_stack.generic_names_note(stack) if stack.other_makers else None
                stack.alias_edit = stack.async_alias = None
                stack.notes = [note for note in stack.notes if not note.startswith(async_stack.NO_ALIAS_NOTE)]
                if named is not None:  # it named the alias no longer written
                    stack.notes = [
                        async_stack.generic_names_note(stack) if note == named else note for note in stack.notes
                    ]
            edits = stack.edits() if closure.migrated_routes else {}
            unconfigured = _configure_first(edits, file_plans)
            work = {
                path: phase2_rewrite.Plan(edits.get(path), file_plans.get(path), names)
                for path in sorted(set(edits) | set(file_plans))
            }
            outside = [path for path in work if not project.in_scope(path)]
            if outside:
                # Half a migration does not run: write nothing rather than only the selected files.
                for path in outside:
                    result.errors.append({
                        "file": path,
                        "message": "the migration must change this file, but --only/--exclude leave it "
                        "out: nothing was written; widen the selection",
                    })
                result.changes = []
                violations = []
                break
            if progress is not None:
                progress("rewrite", 0, len(work))
            result.changes = pool.rewrite(work, phase2_rewrite.apply, recheck=True)
            if progress is not None:
                progress("rewrite", len(work), len(work))
            # A file whose rewrite failed keeps its synchronous facts: the self-check then blocks its
            # routes, and a later round rewrites nothing of it, so the failure is kept to be named.
            failed.update((c.path, c.error) for c in result.changes if c.error is not None)
            violations = self_check.check(
                project,
                self_check.rewritten_project(project, [c.facts for c in result.changes if c.facts is not None]),
                closure,
                {fid: d.twin for fid, d in closure.helpers.items() if d.action == "twin" and d.twin},
                [(c.facts.name, c.path, c.before, c.after) for c in result.changes if c.facts is not None],
                read,
            )
            # A twin an earlier run wrote, reused: still the twin of the original as it is now.
            violations += reused_twins.check(
                project, closure, names,
                {c.path: c.after.decode("utf-8", "replace") for c in result.changes if c.error is None}, read,
            )
            refused.extend(v for v in violations if v not in refused)
            if not violations or not closure.migrated_routes:
                break
            for route, reasons in self_check.blocked_routes(closure, violations).items():
                forced.setdefault(route, []).extend(r for r in reasons if r not in forced.get(route, []))
        if violations:  # nothing migrates, yet what is left misbehaves: write nothing
            result.changes = []
        if unconfigured and result.changes:
            closure.follow_ups.append(unconfigured)
        erred = {c.path for c in result.changes if c.error is not None}
        for path, error in sorted(failed.items()):
            if path not in erred:
                result.errors.append({"file": path, "message": f"{error} (its routes stay on the synchronous path)"})
        for violation in refused:
            closure.blockers.append(
                closures.Blocker(
                    AM223.code, violation.file, violation.line, f"self-check: {violation.message}", violation.function
                )
            )
    result.outcomes = phase2_outcomes(project, closure)
    compose_paths(project, result.outcomes)
    # The application runs on SQLAlchemy's asyncio extension once routes migrate, or already does.
    on_asyncio = bool(closure.migrated_routes) or any(
        piece is not None and piece.exists
        for piece in (stack.async_engine, stack.async_sessionmaker, stack.async_dependency)
    )
    from async_migrate.codemods.phase2 import patched_helpers, twin_overrides

    twin_gaps, twin_notes = twin_overrides.notes(project, closure, read, stack.session_overridden, stack.test_modules)
    if closure.migrated_routes:
        twin_gaps += twin_overrides.opener_redirect_gaps(project, stack, file_plans)
    parsed = {module.path for module in project.modules.values()}
    twin_notes += patched_helpers.notes(
        project, closure, read, stack.test_modules, (p for p in discover(root) if p not in parsed)
    )
    result.subsystem = _subsystem_json(
        project, closure, stack, stack_notes=on_asyncio,
        # Said of a subsystem that runs on the asyncio extension (routes moving now, or moved by an
        # earlier run): an async stack another subsystem's run wrote is that run's follow-up, and
        # noise beside routes that all stay on the synchronous Session.
        greenlet=(
            bool(closure.migrated_routes)
            or any(reason.code == AM204.code for reason in closure.unchanged_routes.values())
        ) and not _declares_greenlet(root),
        twin_overrides=(twin_gaps, twin_notes),
    )
    for change in result.changes:
        if change.error is not None:
            result.errors.append({"file": change.path, "message": change.error})
    result.errors.sort(key=lambda error: error["file"])
    return result


def _configure_first(edits: dict, file_plans: dict) -> str:
    """Have the generated async session dependency configure the mappers when a written loader
    option names a relationship a backref adds (`selectinload(Order.lines)`, `lines` created by
    OrderLine's `backref=`): the class has it only once they are, and building a `select()` does
    not configure them, so a process whose first ORM work is such a route fails with
    AttributeError. The migrated routes receive the dependency's session before their code runs.
    Without a generated dependency to carry it: the follow-up saying so ("" when none is needed)."""
    import dataclasses

    named = list(dict.fromkeys(option for plan in file_plans.values() for option in plan.backref_options))
    if not named:
        return ""
    carried = False
    for edit in edits.values():
        if edit.engine is not None and edit.engine.add_dependency:
            edit.engine = dataclasses.replace(edit.engine, configure_mappers=True)
            carried = True
        if edit.state is not None and edit.state[1] is not None:
            edit.state = (edit.state[0], dataclasses.replace(edit.state[1], configure_mappers=True))
            carried = True
    if carried:
        return ""
    return (
        f"the migrated queries name {', '.join(f'`{n}`' for n in named)}, which a backref adds to its class "
        "once SQLAlchemy configures the mappers; building a `select()` does not configure them, so a "
        "process whose first ORM work is such a query raises AttributeError: call "
        "`sqlalchemy.orm.configure_mappers()` at start-up, after every model module is imported "
        "(in the lifespan, or in the async session dependency before it yields)"
    )


def async_provider(project: Project, stack) -> FunctionId | None:
    """The async session dependency the stack has already, as a project function (None: phase two
    generates one)."""
    dependency = stack.async_dependency
    if dependency is None or not dependency.exists:
        return None
    found = project.function(f"{dependency.module}.{dependency.name}")
    return (found[0].name, found[1].key) if found is not None else None


def _stack_names(stack, config: Config):
    from async_migrate.codemods.phase2.plan import StackNames

    if stack.async_dependency is None:
        return None
    alias, maker = stack.async_alias, stack.async_sessionmaker
    # An existing stack without an async_sessionmaker (`AsyncSession(engine)` in the dependency)
    # still serves the routes; a helper opening a Session of its own then stays synchronous,
    # and the self-check blocks the routes that reach it.
    return StackNames(
        alias_module=alias.module if alias is not None else None,
        alias=alias.name if alias is not None else config.async_alias,
        engine_module=maker.module if maker is not None else None,
        sessionmaker=maker.name if maker is not None else "",
        dependency_module=stack.async_dependency.module,
        dependency=stack.async_dependency.name,
        session_methods=stack.session_methods,
        sqlmodel=stack.sqlmodel,
    )


def _awaited_helper(project: Project, closure, fid: FunctionId) -> str:
    """A helper a migrated route awaits, as the migrated code calls it: `crud.recent_async` (the
    twin of `crud.recent`) where the original stays for its other callers."""
    module, function = project.functions[fid]
    decision = closure.helpers.get(fid)
    if decision is not None and decision.twin is not None:
        owner = function.qualname.rpartition(".")[0]
        # a method of a class shared with synchronous code lives in its parallel async class
        owner = closure.parallel_classes.get(f"{module.name}.{owner}", owner) if owner else owner
        twin = f"{owner}.{decision.twin}" if owner else decision.twin
        return f"{module.name}.{twin} (the async twin of {function.qualname})"
    return f"{module.name}.{function.qualname}"


def _engine_still_blocks(project: Project, handler: Handler) -> str:
    """A migrated route that was a coroutine already keeps its synchronous engine work on the
    loop (a `def` one is blocked for it, AM279): said, never a plain "migrate"."""
    from async_migrate.codemods.engine_work import engine_summary, engine_work_reached

    engine = engine_work_reached(project, handler.id) if handler.function.is_async else []
    if not engine:
        return ""
    return f"; its synchronous engine work at {engine_summary(engine)} still blocks the event loop (check: AM306)"


def _row_race_notes(project: Project, handler: Handler) -> list[Reason]:
    """An `async def` route updating or claiming a loaded row with no await before its commit (AM287):
    the awaits phase two adds on its Session calls let other requests run in between."""
    from async_migrate.codemods.phase2.row_races import awaits_added, phase2_text

    return [AM287.reason(phase2_text(project, update)) for update in awaits_added(project, handler.id)]


def phase2_outcomes(project: Project, closure) -> list[Outcome]:
    from async_migrate.codemods.phase2.holders import holder_of

    outcomes = []
    for handler in closure.routes:
        before = "async" if handler.function.is_async else "def"
        fid = handler.id
        if fid in closure.migrated_routes:
            dependencies = closure.dependency_twins.get(fid, [])
            # Only what the route's calls lead to: the rest of a class holding the Session moves
            # with it but is not awaited by this route, and neither is a constructor.
            helpers = sorted(
                h for h in set(closure.calls.get(fid, ())) - set(dependencies)
                if project.functions[h][1].name != "__init__"
            )
            own = sorted(project.session_params.get(fid, {})) if fid in closure.mixed_routes else []
            if own and not dependencies:
                # both Sessions in its own parameters: no dependency moves, its own Session does
                asynchronous = ", ".join(f"`{n}`" for n in project.declared_async_session_params(fid))
                reasons = [AM201.reason(
                    "moves to AsyncSession: awaits its Session calls; it takes the synchronous Session ("
                    + ", ".join(f"`{n}`" for n in own) + f") beside the AsyncSession ({asynchronous}), "
                    "which now comes from the same async session dependency, so the request holds one Session"
                    + _engine_still_blocks(project, handler)
                )]
            elif fid in closure.mixed_routes:
                reasons = [AM298.reason(
                    "already uses an AsyncSession, but dependencies in its tree still received the synchronous "
                    "Session (two Sessions a request): they move to async forms on its own async session "
                    "dependency, so the request holds one Session" + _engine_still_blocks(project, handler)
                )]
            else:
                reasons = [AM201.reason(
                    "moves to AsyncSession: awaits its Session calls" + _engine_still_blocks(project, handler)
                )]
            entered = [h for h in helpers if h in project.opener_twins]
            handed = [h for h in helpers if h in project.handed_twins]
            awaited = [h for h in helpers if h not in project.opener_twins and h not in project.handed_twins]
            # `stage(db, note)` doing only `db.add(note)`: called as before, on the AsyncSession
            plain = [h for h in awaited if session_work.no_io_only(project, h)]
            awaited = [h for h in awaited if h not in plain]
            if awaited:
                names = ", ".join(_awaited_helper(project, closure, h) for h in awaited)
                reasons.append(AM202.reason(f"awaits the migrated helpers {names}"))
            if plain:
                names = ", ".join(_awaited_helper(project, closure, h) for h in plain)
                reasons.append(AM202.reason(
                    f"calls {names} plainly, neither awaited nor in a thread: it only uses Session methods that "
                    "do no I/O (`add()`, `expunge()`, ...), plain methods on AsyncSession too"
                ))
            if entered:
                names = ", ".join(f"{project.functions[h][0].name}.{project.functions[h][1].qualname}" for h in entered)
                reasons.append(AM202.reason(f"enters the `@asynccontextmanager` twins of the Session openers {names}"))
            if handed:
                names = ", ".join(_awaited_helper(project, closure, h) for h in handed)
                reasons.append(AM202.reason(f"enters the `@asynccontextmanager` twins of the helpers handed its Session {names}"))
            # A class dependency's twin is its parallel async class, named as such.
            classes = {
                h: closure.parallel_classes[holder.ref] for h in dependencies
                if (holder := holder_of(project, h)) is not None and holder.init == h
                and holder.ref in closure.parallel_classes
            }
            functions = [h for h in dependencies if h not in classes]
            if functions:
                names = ", ".join(
                    f"{project.functions[h][0].name}.{project.functions[h][1].qualname}" for h in functions
                )
                reasons.append(AM226.reason(f"depends on the async twins of {names}, which share its Session"))
            for h, new in classes.items():
                module, function = project.functions[h]
                cls = function.qualname.rpartition(".")[0]
                reasons.append(AM226.reason(
                    f"injects the parallel async class {new} in place of the class dependency {module.name}.{cls}, "
                    "which shares its Session"
                ))
            added: list[str] = []
            for fix in closure.eager_fixes.get(fid, []):
                module, function = project.functions[fix.fid]
                text = (
                    f"{fix.file}:{fix.line}: adds the "
                    + ("`undefer`" if fix.deferred else "eager load")
                    + f" of {fix.describe(project_classes(project))} to the query in {module.name}.{function.qualname}, "
                    f"for the {fix.what} its code or response model reads" + (f" through {fix.via}" if fix.via else "")
                )
                # One query reached twice (`statement = select(...)` in each branch of an `if`, each
                # `session.exec(statement)` traced to both) gets one option: said once.
                if text not in added:
                    added.append(text)
                    reasons.append(AM246.reason(text))
            refreshed = closure.built_refreshes.get(fid)
            if refreshed is not None:
                module, function = project.functions[refreshed.fid]
                reasons.append(AM280.reason(
                    f"{refreshed.file}:{refreshed.line}: adds `{refreshed.text()}` after this line in "
                    f"{module.name}.{function.qualname}, for the relationships its response model reads "
                    f"({', '.join(refreshed.fields)}) on the {refreshed.model} {refreshed.source}"
                ))
            reasons.extend(_row_race_notes(project, handler))
            outcomes.append(Outcome(handler, before, "async", "migrate", reasons))
        elif fid in closure.blocked_routes:
            outcomes.append(Outcome(handler, before, before, "blocked", closure.blocked_routes[fid]))
        else:
            # Every route is a candidate (migrated or blocked) or unchanged with its reason.
            outcomes.append(Outcome(handler, before, before, "unchanged", [closure.unchanged_routes[fid]]))
    return outcomes


def _declares_greenlet(root: Path) -> bool:
    from async_migrate.codemods.phase2 import drivers

    texts = []
    for pattern in drivers.DEPENDENCY_FILES:
        for path in sorted(root.glob(pattern)):
            try:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
    return drivers.declares_greenlet(texts)


_LOCATED = re.compile(r"(?P<file>[^\s:]+\.py):(?P<line>\d+): (?P<message>.*)", re.DOTALL)


def _unlisted_route_blockers(project: Project, closure, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A blocked route's reasons that no blocker lists yet (a helper's chain, a dependency's, a
    reason the route alone gets): scripts read the blockers to learn what to fix, so every reason
    a route is blocked with is one of them, at its place, once."""
    seen = {(b["file"], b["line"], b["code"]) for b in listed}
    found: list[dict[str, Any]] = []
    for fid, reasons in sorted(closure.blocked_routes.items()):
        module, function = project.functions[fid]
        for reason in reasons:
            located = _LOCATED.fullmatch(reason.text)
            if located is not None:
                where = (located["file"], int(located["line"]), reason.code)
                message = located["message"]
            else:
                where, message = (module.path, function.line, reason.code), reason.text
            if where not in seen:
                seen.add(where)
                found.append({"file": where[0], "line": where[1], "message": message, "code": reason.code})
    return found


def _subsystem_json(
    project: Project, closure, stack, greenlet: bool = False, stack_notes: bool = True,
    twin_overrides: tuple[list[str], list[str]] = ([], []),
) -> dict[str, Any]:
    """`greenlet`: name `sqlalchemy[asyncio]` among the packages to add. `stack_notes`: False
    when no route migrates and no async stack exists, so the notes on the stack phase two would
    write (its driver package, where its alias goes, the tests' clients and overrides) are about nothing.
    `twin_overrides`: the tests' overrides of dependencies the migrated routes reach through twins
    (gaps as the session dependency's, and follow-ups), from `phase2/twin_overrides.py`."""
    from async_migrate.codemods.phase2 import drivers

    # the override gap is between the tests and the migrated routes' async dependency: none yet
    overrides = [*stack.overrides, *twin_overrides[0]] if stack_notes else []
    helpers = []
    for fid, decision in sorted(closure.helpers.items()):
        module, function = project.functions[fid]
        helpers.append({
            "file": module.path,
            "function": function.qualname,
            "line": function.line,
            "action": decision.action,
            "reasons": texts(decision.reasons),
            "codes": codes(decision.reasons),
            # a twin: its name, and whether an earlier run wrote it (this one only calls it)
            **({"twin": decision.twin, "twin_exists": decision.existing} if decision.action == "twin" else {}),
        })
    blockers = [b.to_json() for b in closure.blockers]
    blockers.extend(
        {"file": b.file, "line": b.line, "message": b.message, "code": b.code} for b in stack.blockers
    )
    blockers.extend(_unlisted_route_blockers(project, closure, blockers))
    return {
        "name": closure.name,
        "helpers": helpers,
        "blockers": sorted(blockers, key=lambda b: (b["file"], b["line"])),
        # What blocks the whole subsystem (the async stack cannot be built), apart from any route.
        "global_blockers": [str(b) for b in stack.blockers],
        "follow_ups": list(dict.fromkeys([  # each once
            *(stack.notes if stack_notes else ()), *overrides, *twin_overrides[1], *closure.follow_ups,
            *(f"add the async driver package `{p}` to the dependencies" for p in stack.packages if stack_notes),
            *([drivers.GREENLET_FOLLOW_UP] if greenlet else []),
        ])),
        "override_follow_ups": overrides,
    }
