"""Phase two's analysis: a subsystem's routes, the helpers they reach, and what blocks them.

The closure of a subsystem is its routes plus every project function they reach
with the Session (passing it, or calling something that opens one), transitively
and across modules. A helper that something outside the closure also calls is
shared: it gets an async twin (the sync original stays for its other callers), or,
with `shared="block"`, blocks the routes that need it. A route is blocked when
anything it reaches cannot be rewritten exactly; blocking is propagated until the
closure is stable, so every migrated route reaches only migrated helpers.

Over 500 lines: one fixpoint (which routes move, which helpers move or get twins, what blocks
them), whose steps read and narrow the same sets until nothing changes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, KeysView
from dataclasses import dataclass, field, replace
from typing import cast

from async_migrate.codemods import facts, session_methods, session_work, twin_names
from async_migrate.codemods.astcollect.dispatch import BY_NAME, LAMBDA, LOCAL, UNREAD
from async_migrate.codemods.astcollect.syntax import own_nodes
from async_migrate.codemods.containers import module_functions
from async_migrate.codemods.flow import INSTANCE, SESSION, Abstract, Flow, split
from async_migrate.codemods.handed_functions import in_place_argument
from async_migrate.codemods.held_session import session_generic_base
from async_migrate.codemods.outcome import first_few
from async_migrate.codemods.phase1 import shared_store
from async_migrate.codemods.phase1.async_session import still_wrong
from async_migrate.codemods.phase1.shared_session import (
    dependency_handing_out,
    request_context_variable,
    shared_session_uses,
)
from async_migrate.codemods.phase2 import (
    both_protocols,
    built_refresh,
    committed_refresh,
    copied_classes,
    dependencies,
    depends_values,
    derived,
    direct_calls,
    expired_held,
    expired_lists,
    expired_reads,
    fetched_refresh,
    handler_decorators,
    holders,
    inline_sessions,
    left_out,
    legacy_clear,
    loop_io,
    methods,
    optional_session,
    protocols,
    query_class,
    refresh_cascade,
    risk_groups,
    savepoint_reads,
    scheduled,
    scope_openers,
    split_checks,
    templates,
    thread_own,
    tx_dependency,
    unclosed,
    unfollowed_holders,
    untyped_holders,
    wrapper_awaits,
)
from async_migrate.codemods.phase2 import twins as twins_module
from async_migrate.codemods.phase2 import unit_of_work as unit_of_work_module
from async_migrate.codemods.phase2.derived import runs_sync
from async_migrate.codemods.phase2.lazy_loads import EagerFix, LazyLoadRisk, lazy_loads
from async_migrate.codemods.phase2.registry_provider import handed_registry
from async_migrate.codemods.phase2.unit_of_work import entry_blockers, unit_of_work
from async_migrate.codemods.project import Edge, FunctionId, Handler, Project
from async_migrate.codemods.received import argument_values
from async_migrate.codemods.rules import Reason, Rule, by_code
from async_migrate.codemods.rules.am143_session_on_shared_object import RULE as AM143
from async_migrate.codemods.rules.am154_unclosed_inline_session import RULE as AM154
from async_migrate.codemods.rules.am203_websocket_not_migrated import RULE as AM203
from async_migrate.codemods.rules.am204_already_async_session import RULE as AM204
from async_migrate.codemods.rules.am205_no_sync_session_work import RULE as AM205
from async_migrate.codemods.rules.am206_helper_migrates import RULE as AM206
from async_migrate.codemods.rules.am207_helper_twin import RULE as AM207
from async_migrate.codemods.rules.am208_helper_of_blocked_route import RULE as AM208
from async_migrate.codemods.rules.am209_helper_used_as_value import RULE as AM209
from async_migrate.codemods.rules.am210_rebinds_session import RULE as AM210
from async_migrate.codemods.rules.am211_await_in_nested_function import RULE as AM211
from async_migrate.codemods.rules.am212_await_in_generator_expression import RULE as AM212
from async_migrate.codemods.rules.am213_legacy_query_unmapped import RULE as AM213
from async_migrate.codemods.rules.am214_unavailable_on_async_session import RULE as AM214
from async_migrate.codemods.rules.am215_session_passed_to_unknown_call import RULE as AM215
from async_migrate.codemods.rules.am216_generator_helper import RULE as AM216
from async_migrate.codemods.rules.am217_method_helper import RULE as AM217
from async_migrate.codemods.rules.am218_shared_helper_blocked import RULE as AM218
from async_migrate.codemods.rules.am219_dependency_shares_session import RULE as AM219
from async_migrate.codemods.rules.am224_indirect_offload import RULE as AM224
from async_migrate.codemods.rules.am225_nested_function import RULE as AM225
from async_migrate.codemods.rules.am226_dependency_twin import RULE as AM226
from async_migrate.codemods.rules.am227_session_into_variadic import RULE as AM227
from async_migrate.codemods.rules.am228_session_in_container import RULE as AM228
from async_migrate.codemods.rules.am229_held_session_read_outside import RULE as AM229
from async_migrate.codemods.rules.am241_session_held_elsewhere import RULE as AM241
from async_migrate.codemods.rules.am242_overridden_method import RULE as AM242
from async_migrate.codemods.rules.am245_lazy_load_outside_reach import RULE as AM245
from async_migrate.codemods.rules.am247_lazy_load_unverified import RULE as AM247
from async_migrate.codemods.rules.am248_expired_after_commit import RULE as AM248
from async_migrate.codemods.rules.am251_deferred_column_read import RULE as AM251
from async_migrate.codemods.rules.am252_held_session_moves import RULE as AM252
from async_migrate.codemods.rules.am253_held_session_blocked import RULE as AM253
from async_migrate.codemods.rules.am254_held_session_shared import RULE as AM254
from async_migrate.codemods.rules.am255_held_session_parallel import RULE as AM255
from async_migrate.codemods.rules.am256_wrapped_session_dependency import RULE as AM256
from async_migrate.codemods.rules.am257_session_method_as_value import RULE as AM257
from async_migrate.codemods.rules.am258_session_derived_object_escapes import RULE as AM258
from async_migrate.codemods.rules.am262_session_opened_with_arguments import RULE as AM262
from async_migrate.codemods.rules.am263_server_side_cursor import RULE as AM263
from async_migrate.codemods.rules.am267_callable_dependency_moves import RULE as AM267
from async_migrate.codemods.rules.am268_callable_dependency_shared import RULE as AM268
from async_migrate.codemods.rules.am272_unverified_session_work import RULE as AM272
from async_migrate.codemods.rules.am277_session_in_concurrent_task import RULE as AM277
from async_migrate.codemods.rules.am278_other_database import RULE as AM278
from async_migrate.codemods.rules.am279_engine_work_on_loop import RULE as AM279
from async_migrate.codemods.rules.am282_object_handed_to_template import RULE as AM282
from async_migrate.codemods.rules.am284_own_event_loop import RULE as AM284
from async_migrate.codemods.rules.am286_await_splits_check import RULE as AM286
from async_migrate.codemods.rules.am288_sync_engine_from_session import RULE as AM288
from async_migrate.codemods.rules.am289_session_in_shared_with import RULE as AM289
from async_migrate.codemods.rules.am290_session_entered_by_hand import RULE as AM290
from async_migrate.codemods.rules.am292_expired_after_savepoint_rollback import RULE as AM292
from async_migrate.codemods.rules.am293_waits_on_thread import RULE as AM293
from async_migrate.codemods.rules.am294_handler_decorator_wraps import RULE as AM294
from async_migrate.codemods.rules.am297_sync_context_manager_session import RULE as AM297
from async_migrate.codemods.rules.am329_optional_session_fallback import RULE as AM329
from async_migrate.codemods.sources import matches, tree_of
from async_migrate.codemods.thread_waits import awaited_form, thread_wait
from async_migrate.codemods.unread_names import project_names_in_unread
from async_migrate.codemods.vocabulary.fastapi import THREADPOOL
from async_migrate.codemods.vocabulary.fastapi_sqlalchemy import REQUEST_SESSIONS, SCOPES
from async_migrate.codemods.vocabulary.python import CASTS, PARTIALS, TO_THREAD
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ABSENT_METHODS,
    ASYNC_SESSION_ATTRIBUTES,
    AWAITED_METHODS,
    CONTEXT_METHODS,
    QUERY_TERMINALS,
    SCOPED_SESSION_MAKERS,
    SESSION_IO_METHODS,
    SYNC_METHODS,
    UNAVAILABLE_METHODS,
)
from async_migrate.codemods.vocabulary.starlette import BACKGROUND_TASK

# Builtins naming an attribute by a string: `getattr(db, "commit")()` is the Session's commit.
_BY_STRING = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_SESSION_CALLED = SESSION_IO_METHODS | SYNC_METHODS | AWAITED_METHODS
_SESSION_MEMBERS = _SESSION_CALLED | ASYNC_SESSION_ATTRIBUTES


@dataclass(slots=True)
class Blocker:
    code: str
    file: str
    line: int
    message: str
    function: FunctionId | None = None

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message, "code": self.code}


@dataclass(slots=True)
class HelperDecision:
    fid: FunctionId
    action: str  # migrate, twin, blocked
    reasons: list[Reason] = field(default_factory=list)
    twin: str | None = None  # the twin's name, free in every module that will name it
    # The twin exists already (an earlier run's, for another subsystem): callers use it, none is added.
    existing: bool = False


@dataclass
class Closure:
    name: str
    routes: list[Handler]
    migrated_routes: set[FunctionId] = field(default_factory=set)
    blocked_routes: dict[FunctionId, list[Reason]] = field(default_factory=dict)
    unchanged_routes: dict[FunctionId, Reason] = field(default_factory=dict)
    helpers: dict[FunctionId, HelperDecision] = field(default_factory=dict)
    blockers: list[Blocker] = field(default_factory=list)
    reaches: dict[FunctionId, set[FunctionId]] = field(default_factory=dict)  # route -> helpers
    # route -> the helpers its calls lead to (`reaches` without the rest of a class holding the
    # Session, which moves as a whole): what the route's reason says it awaits.
    calls: dict[FunctionId, set[FunctionId]] = field(default_factory=dict)
    # Dependencies that share a migrated route's Session: the route uses their async twins.
    dependency_twins: dict[FunctionId, list[FunctionId]] = field(default_factory=dict)  # route -> deps
    # Of those, the ones a router lists (`APIRouter(dependencies=[Depends(f)])`): route -> router
    # reference -> the dependencies named there, which the router's list points at the twins of.
    router_twins: dict[FunctionId, dict[str, list[FunctionId]]] = field(default_factory=dict)
    # Likewise for `include_router(router, dependencies=[Depends(f)])`: route -> (module path,
    # line) of the include -> the dependencies named there.
    include_twins: dict[FunctionId, dict[tuple[str, int], list[FunctionId]]] = field(default_factory=dict)
    # Loader options the migrated routes' relationship reads need, on queries phase two rewrites.
    eager_fixes: dict[FunctionId, list[EagerFix]] = field(default_factory=dict)  # route -> fixes
    # Dependencies building a class that holds the Session, moving in place with it.
    in_place_dependencies: set[FunctionId] = field(default_factory=set)
    # Generator dependencies (not session providers) that become async generators, as twins or in place.
    generator_twins: set[FunctionId] = field(default_factory=set)
    # Classes holding the Session shared with synchronous code: class reference -> the name
    # of the parallel async class the migrated code uses.
    parallel_classes: dict[str, str] = field(default_factory=dict)
    # Methods of those classes that cannot move, left out of the copy: method -> the one whose
    # blocker is why (`left_out.py`).
    left_out: dict[FunctionId, FunctionId] = field(default_factory=dict)
    # Methods of those classes no migrating code runs, left out of the copy (`left_out.unused`).
    unused_copies: set[FunctionId] = field(default_factory=set)
    # Those whose parallel class an earlier run added: used, not written again.
    existing_parallel: set[str] = field(default_factory=set)
    # Of those, the methods their copy lacks (written in the class since that run): class
    # reference -> the methods added to the existing copy, so no second copy of the class is made.
    parallel_additions: dict[str, set[FunctionId]] = field(default_factory=dict)
    # `await db.refresh(obj)` after a commit, where an object it expired is read afterwards; then
    # `await db.refresh(obj, attribute_names=[...])` for the relationships a response reads on an
    # object the route builds (`built_refresh`).
    refreshes: dict[FunctionId, list[expired_reads.Refresh]] = field(default_factory=dict)
    # route -> that refresh, for its reasons
    built_refreshes: dict[FunctionId, built_refresh.BuiltRefresh] = field(default_factory=dict)
    # `with Session(engine) as s:` that become `async with AsyncSession(async_engine) as s:`.
    inline: dict[FunctionId, dict[int, inline_sessions.Inline]] = field(default_factory=dict)
    # Declarations of a Protocol typing only migrating code that become `async def` with the
    # methods they describe (`protocols.py`), and what is left to do by hand where they cannot.
    protocol_methods: set[FunctionId] = field(default_factory=set)
    follow_ups: list[str] = field(default_factory=list)
    # Routes already on an AsyncSession that migrate only by their dependencies' twins (a service
    # migrated by hand but for a dependency still on the synchronous Session).
    mixed_routes: set[FunctionId] = field(default_factory=set)


    def block_all(self, reasons: list[Reason]) -> None:
        """Nothing migrates: something the whole subsystem needs (the async stack) is blocked."""
        for fid in self.migrated_routes:
            self.blocked_routes[fid] = list(reasons)
        self.migrated_routes = set()
        self.helpers = {}
        # what only migrating code would use: nothing is planned from it
        self.parallel_classes, self.existing_parallel, self.parallel_additions = {}, set(), {}
        self.dependency_twins, self.router_twins, self.in_place_dependencies = {}, {}, set()
        self.include_twins = {}
        self.mixed_routes = set()
        self.eager_fixes, self.refreshes, self.inline = {}, {}, {}
        self.protocol_methods, self.follow_ups = set(), []


class SubsystemError(Exception):
    pass


def subsystem_modules(project: Project, spec: str) -> tuple[str, list[str]]:
    """The subsystem's name and router modules: a module path, or a configured name."""
    paths = sorted(module.path for module in project.modules.values())
    if spec in project.config.subsystems:
        globs = project.config.subsystems[spec]
        chosen = [path for path in paths if matches(path, globs)]
        if not chosen:
            raise SubsystemError(f"subsystem {spec!r}: no module matches {', '.join(globs)}")
        return spec, chosen
    normalized = spec.strip("/").removeprefix("./")
    if normalized in paths:
        return normalized, [normalized]
    # Only what `--subsystem` can take is suggested: phase two refuses a module without routes
    # (`models.py` for `-s models`, beside `api/models.py`), and a configured name matching none.
    routed = routed_modules(project)
    configured = sorted(project.config.subsystems)
    known = ", ".join(n for n in configured if any(matches(p, project.config.subsystems[n]) for p in routed))
    known = known or ("none with routes" if configured else "none configured")
    # Written from another folder (`backend/app/api/x.py` with PATH `backend`), or by name (`x`).
    near = [
        path for path in routed
        if normalized.endswith("/" + path) or path.endswith("/" + normalized)
        or path.rsplit("/", 1)[-1] in (normalized, normalized + ".py")
    ]
    # Written as an import name (`shop.routers.orders`, also the tail of one): the module's path
    dotted = [
        module.path for name, module in sorted(project.modules.items())
        if "." in normalized and module.path in routed and (
            name == normalized or name.endswith("." + normalized) or normalized.endswith("." + name)
        )
    ]
    near = list(dict.fromkeys((*dotted, *near)))
    if near:
        hint = f"; module paths are relative to PATH: did you mean {' or '.join(repr(p) for p in near[:3])}?"
    else:
        # A name that is no router module (`users`, `main.py::create_user`): say what the choices are.
        hint = routed_hint(routed)
    raise SubsystemError(
        f"subsystem {spec!r} is neither a router module under PATH nor a configured subsystem ({known}){hint}"
    )


def routed_modules(project: Project) -> list[str]:
    """The paths of the modules holding routes or websockets: what `--subsystem` can name."""
    return sorted({h.module.path for h in project.handlers if h.kind in ("route", "websocket")})


def routed_hint(routed: list[str]) -> str:
    """`; the modules with routes are ...`, the choices `--subsystem` has. A single-module app
    has one: phase two takes a module's routes together, never one route."""
    listed = ", ".join(routed[:8]) + (", ..." if len(routed) > 8 else "")
    hint = f"; the modules with routes are {listed}" if routed else ""
    if len(routed) == 1:
        hint += f" (every route is there: `--subsystem {routed[0]}` takes them all; one route cannot be chosen)"
    return hint


def compute(
    project: Project,
    name: str,
    modules: Iterable[str],
    shared: str = "twin",
    forced: dict[FunctionId, list[Reason]] | None = None,
    read: Callable[[str], str] | None = None,
    parallel: frozenset[str] = frozenset(),
    expiry: expired_reads.Expiry | None = None,
    engine: inline_sessions.StackEngine | None = None,
    provider: FunctionId | None = None,
    shared_users: dict[str, list[str]] | None = None,
) -> Closure:
    """The subsystem's closure. `forced` blocks routes for reasons found elsewhere (the
    self-check of a previous plan); `read` gives a module's source by path (methods named as
    values are found in the text; without it every moved method gets a twin). `parallel`
    names classes holding the Session that get a parallel async class (found shared). `expiry`
    says what a commit expires on the async stack: reads of expired objects get a refresh, or block.
    `engine`: the engine the async stack stands for, which Sessions opened inline on it move to.
    `provider`: the async session dependency the stack has already (None: one is generated), which
    a route already on an AsyncSession must take for its dependencies' twins to share it.
    `shared_users`: for a class of `parallel`, the code staying synchronous that uses it, found
    by the round that made it shared (named where its copy cannot be made, AM253)."""
    routes = _routes_in(project, set(modules))
    closure = Closure(name, routes)
    # decided once per project, with the source read: a unit of work's own `__aenter__` beside the
    # `__enter__` phase two turns into one (and before the blockers `_left_out` reads)
    both_protocols.pairs(project, read)
    _left_out(project, read, expiry)  # decided once per project, with the source read for methods named as values
    shared_holders = set(parallel) | _copied_earlier(project)
    # Class -> what keeps it synchronous: named where its parallel copy is refused (AM253).
    shared_by = {ref: list(users) for ref, users in (shared_users or {}).items()}
    candidates: dict[FunctionId, Handler] = {}
    held_elsewhere: dict[FunctionId, list[Reason]] = {}
    mixed: dict[FunctionId, list[dependencies.SharedSession]] = {}
    # A websocket left with synchronous Session work on the event loop is blocked, not unchanged:
    # "unchanged" says there is nothing to do, and it still blocks the loop (check: AM301).
    websockets: dict[FunctionId, list[Reason]] = {}
    for handler in routes:
        if handler.kind == "websocket":
            still = _websocket_still_blocks(project, handler)
            if still:
                websockets[handler.id] = [AM203.reason("websocket handlers are not migrated" + still)]
            else:
                closure.unchanged_routes[handler.id] = AM203.reason("websocket handlers are not migrated")
            continue
        if handler.function.is_async and project.declared_async_session_params(handler.id):
            # Migrated by hand but for a dependency still on the synchronous Session: the request
            # holds two Sessions until that dependency's async twin takes the route's one.
            sync_deps = dependencies.session_dependencies_in_tree(project, handler)
            # A route taking both Sessions (`db: Session` beside `audit_db: AsyncSession`) still
            # blocks the loop on its own synchronous one: it moves, as with a dependency's.
            if not sync_deps and not _does_session_work(project, handler.id):
                closure.unchanged_routes[handler.id] = AM204.reason(
                    "already uses an AsyncSession" + still_wrong(project, handler)
                )
                continue
            mixed[handler.id] = sync_deps
            candidates[handler.id] = handler
            continue
        if not _does_session_work(project, handler.id) and not _hands_held_method(project, handler.id):
            elsewhere = _work_on_sessions_held_elsewhere(project, handler.id) or _unverified_work(project, handler.id)
            if elsewhere:
                held_elsewhere[handler.id] = elsewhere
            elif (through := _async_session_dependency(project, handler)) is not None and (
                sync_deps := dependencies.session_dependencies_in_tree(project, handler)
            ):
                # Its AsyncSession comes through a dependency (a repository built on it): whether a
                # twin would share it, and what the route's commits expire, is not followed there.
                held_elsewhere[handler.id] = [AM219.reason(
                    f"already uses an AsyncSession through its dependency {through}, but "
                    f"{dependencies.describe_sync(project, sync_deps[0])}: the request holds two Sessions; "
                    "phase two gives such a dependency an async twin only for a route taking the AsyncSession "
                    "as a parameter (`db: AsyncSession = Depends(...)`): take it so, or write the dependency's "
                    "async form on the same async session dependency by hand"
                )]
            elif through is not None:
                closure.unchanged_routes[handler.id] = AM204.reason(
                    f"already uses an AsyncSession (through its dependency {through})"
                )
            elif (opened := _opens_async_session(project, handler.id)) is not None:
                closure.unchanged_routes[handler.id] = AM204.reason(
                    f"already uses an AsyncSession ({opened})" + still_wrong(project, handler)
                )
            else:
                closure.unchanged_routes[handler.id] = AM205.reason(
                    _no_session_work(project, handler) + _still_blocks(project, handler)
                )
            continue
        untyped = project.untyped_chains.get(handler.id)
        if untyped:
            held_elsewhere[handler.id] = [AM272.reason(
                f"{_where(project, handler.id, handler.function.line)}: "
                # the route's own call is the reason itself; a helper's is named on the way to it
                f"{('calls ' + ' -> '.join(untyped)) if len(untyped) > 1 else untyped[0]}; once the "
                "route's own Session is an AsyncSession, that value "
                "may be it (kept on `request.state` or in a context variable by its async dependency) and the "
                "call would not be awaited: pass the route's Session down as a parameter"
            )]
            continue
        held_work = project.held_work_chains.get(handler.id)
        if held_work and any(_handed_held_methods(project, f) for f in _called_from(project, [handler.id])):
            # a method of a class holding the route's Session handed uncalled (`map(repo.save, names)`):
            # AM215 blocks the route below, naming what migrating would break there
            held_work = None
        if held_work:
            held_elsewhere[handler.id] = [AM272.reason(
                f"{_where(project, handler.id, handler.function.line)}: {' -> '.join(held_work)}; phase two "
                "cannot rewrite a call through what holds the helper, so as a coroutine the route would run that "
                "synchronous Session work on the event loop: call the helper by its name, then rerun phase two"
            )]
            continue
        candidates[handler.id] = handler

    # A dependency sharing the route's Session moves with it: the route gets async twins of
    # the dependencies on the way to it (or is blocked when they cannot have one).
    shared_sessions = {
        fid: mixed[fid] if fid in mixed else dependencies.shared_session_dependencies(project, h)
        for fid, h in candidates.items()
    }
    for fid, handler in candidates.items():
        # A route reaching the Session only through an object a dependency builds
        # (`repo: Repo = Depends(get_repo)`): that dependency, and every other one in the
        # tree receiving the Session, moves with the route.
        if not shared_sessions[fid] and any(holders.holder_of(project, f) for f in _reach(project, [fid])):
            shared_sessions[fid] = dependencies.session_dependencies_in_tree(project, handler)
    models = expiry.models if expiry is not None else None
    trees = _Trees(models.tree if models is not None else None, read, models.read if models is not None else None)
    depends_values.record(project, trees)
    dependency_twins: dict[FunctionId, list[FunctionId]] = {}
    carried_wrappers: set[FunctionId] = set()  # transaction dependencies whose twin keeps what they do
    dependency_blocks: dict[FunctionId, list[tuple[str, int, str]]] = {}
    router_twins: dict[FunctionId, dict[str, list[FunctionId]]] = {}
    router_sharing: dict[FunctionId, dict[str, list[dependencies.SharedSession]]] = {}
    include_twins: dict[FunctionId, dict[tuple[str, int], list[FunctionId]]] = {}
    include_sharing: dict[FunctionId, dict[dependencies.GuardedInclude, list[dependencies.SharedSession]]] = {}

    def carry_or_problem(fid: FunctionId, found: dependencies.SharedSession) -> str | None:
        """Why the dependency sharing route `fid`'s Session can have no async twin; None when it
        can, and then its chain (and the transaction wrapper it goes through) moves with the route."""
        problem = "--shared block" if shared == "block" else dependencies.twin_problem(project, found)
        if problem is None and found.router is not None:
            problem = _router_value_problem(project, found)
        wrapper = _through_wrapper(project, found)
        if found.dependency in tx_dependency.wrappers(project):
            wrapper = found.dependency
        if problem is None and wrapper is not None:
            problem = tx_dependency.problem(project, wrapper, trees)
        if problem is None:
            chain = dependency_twins.setdefault(fid, [])
            chain.extend(d for d in (*found.chain, *filter(None, [wrapper])) if d not in chain)
            if wrapper is not None:
                carried_wrappers.add(wrapper)
        return problem

    for fid, sharing in shared_sessions.items():
        for found in sharing:
            problem = carry_or_problem(fid, found)
            if problem is None:
                if found.router is not None:
                    listed = router_twins.setdefault(fid, {}).setdefault(found.router, [])
                    listed.extend(d for d in found.chain[:1] if d not in listed)
                    router_sharing.setdefault(fid, {}).setdefault(found.router, []).append(found)
                continue
            module, dependency = project.functions[found.dependency]
            shared_block = (module.path, dependency.line, f"{dependencies.describe(project, found)} ({problem})")
            # one the route and its router both reach is found twice, with the same chain
            if shared_block not in dependency_blocks.setdefault(fid, []):
                dependency_blocks[fid].append(shared_block)

    for fid in candidates:
        # A route that is a method of a class FastAPI builds per request (`@cbv(router)`): the
        # class's other dependencies receiving the Session (`user: User = Depends(get_current_user)`
        # beside `db: Session = Depends(get_db)`) get async twins as a function route's do, and the
        # view's `__init__` (its class attributes) depends on them. The view moves as a whole
        # (`_blocked_view_routes`), so every route building it uses the twins, or none does.
        view = holders.holder_of(project, fid)
        if view is None or view.init is None or fid not in view.methods:
            continue
        for found in dependencies.view_session_dependencies(project, view.init):
            problem = carry_or_problem(fid, found)
            if problem is None:
                continue
            module, dependency = project.functions[found.dependency]
            view_block = (
                module.path, dependency.line, f"{dependencies.describe_sync(project, found)}, through "
                f"{view.name(project)}.__init__, which FastAPI calls for the route, and it can have no async "
                f"twin ({problem}): the request would hold two Sessions; keep the view as it is, or have that "
                "dependency take no Session",
            )
            if view_block not in dependency_blocks.setdefault(fid, []):
                dependency_blocks[fid].append(view_block)

    for fid, handler in candidates.items():
        # `uow: SqlAlchemyUnitOfWork = Depends(get_uow)`, `get_uow()` building a unit of work that
        # opens its own Session on entry: its twin builds the parallel class instead.
        for opening in unit_of_work_module.opening_dependencies(project, handler):
            chain = dependency_twins.setdefault(fid, [])
            if opening not in chain:
                chain.append(opening)

    def reach(route: FunctionId) -> set[FunctionId]:
        return _reach(project, [route, *dependency_twins.get(route, ())]) - {route}

    starts = [*candidates, *(d for chain in dependency_twins.values() for d in chain)]
    reached = _reach(project, starts)
    inline = {fid: inline_sessions.judge(project, fid, engine, trees) for fid in reached}
    own_blockers = {
        fid: _query_class_blockers(project, fid, engine, _own_blockers(project, fid))
        + _inline_blockers(inline[fid]) + _other_makers(project, fid, engine)
        for fid in reached
    }
    for fid in reached:
        # `with uow:` on a unit of work whose class becomes an asynchronous context manager
        own_blockers[fid].extend(
            _Own(AM297, line, why)
            for line, why in entry_blockers(project, fid, trees)
        )
        own_blockers[fid].extend(_Own(AM297, line, why) for line, why in both_protocols.blockers(project, fid))
        own_blockers[fid].extend(
            _Own(AM278 if code == AM278.code else by_code(code), line, why)
            for line, why, code in unit_of_work_module.maker_blockers(project, fid, engine)
        )
        own_blockers[fid].extend(
            _Own(AM241, line, why) for line, why in unit_of_work_module.built_with_arguments(project, fid)
        )
        own_blockers[fid].extend(
            _Own(AM241, line, why) for line, why in unit_of_work_module.annotation_blockers(project, fid)
        )
        own_blockers[fid].extend(
            _Own(AM253, line, why) for line, why in unit_of_work_module.unread_subclasses(project, fid, read)
        )
    twinned = {d for chain in dependency_twins.values() for d in chain}
    generator_twins = _generator_twins(project, twinned, trees)
    for fid in carried_wrappers | generator_twins:
        # FastAPI iterates a dependency's generator; its twin is an async generator it iterates the same way.
        own_blockers[fid] = [b for b in own_blockers.get(fid, []) if b.rule is not AM216]
    refreshes: dict[FunctionId, list[expired_reads.Refresh]] = {}
    if expiry is not None:
        receivers = _expiring_receivers(project, inline)
        for fid, (_, where) in receivers.items():
            if fid not in own_blockers:
                continue
            module, function = project.functions[fid]
            sessions = dict.fromkeys(project.session_names(fid), where)
            for line, message in inline_sessions.reads_after_begin(trees(module.path), function, sessions):
                own_blockers[fid].append(_Own(AM248, line, message))
        for fid in own_blockers:
            # A route already on an AsyncSession committed on it before: no read after those
            # commits was reloaded by the synchronous sessionmaker, so none turns stale.
            own = expiry if fid not in mixed or project.session_names(fid) else replace(expiry, reloaded="")
            expired = expired_reads.analyse(
                project, fid, own, inline_sessions.expiring(inline[fid]), receivers.get(fid),
                # A route already on an AsyncSession keeps it; its own synchronous Session
                # parameters move to the same async dependency (`_other_async_provider` blocks
                # any other), so at run time they are one AsyncSession: a commit on either
                # expires what both loaded.
                set(project.declared_async_session_params(fid)) | project.session_names(fid)
                if fid in mixed else None,
                # A dependency whose value no route reads: returning an object is no read of it.
                fid in twinned and dependencies.value_unread(project, fid),
                dependency_twins.get(fid, ()),
            )
            own_blockers[fid].extend(_Own(b.rule, b.line, b.message) for b in expired.blocks)
            if not expired.blocks and own.models is not None:
                # `return cancel_order(db, id)` refreshing an order whose lines it cascades to
                own_blockers[fid].extend(
                    _Own(b.rule, b.line, b.message)
                    for b in refresh_cascade.reads(project, own.models, fid, expired.refreshes)
                )
            module, function = project.functions[fid]
            # Only a `begin_nested()` or `begin()` on a Session rolls back what these find: a
            # module whose text cannot name one is not parsed for them.
            definition = (
                expired_lists.function_node(trees(module.path), function)
                if trees.may_name(module.path, "begin") else None
            )
            own_blockers[fid].extend(
                _Own(AM292, line, message)
                for line, message in savepoint_reads.reads(definition, set(project.session_names(fid)))
            )
            own_blockers[fid].extend(
                _Own(AM292, line, message)
                for line, message in _expired_by_callee(project, fid, module.path, function, definition, trees)
            )
            if expired.refreshes:
                refreshes[fid] = expired.refreshes
    # Relationship reads nothing eager-loads raise MissingGreenlet under asyncio:
    # each such read blocks the routes whose queries leave it lazy.
    # A read the data flow leads back to a query the route's migration rewrites is fixed there
    # (an eager-load option); a query outside what migrates with the route cannot be.
    lazy: dict[FunctionId, list[LazyLoadRisk]] = {}
    fixes: dict[FunctionId, list[EagerFix]] = {}
    built: dict[FunctionId, built_refresh.BuiltRefresh] = {}
    for fid in candidates:
        analysed = lazy_loads(
            project, [fid, *dependency_twins.get(fid, ())], dependency_twins.get(fid, ()), held_queries=True
        )
        lazy[fid] = analysed.risks
        moving = {fid, *reach(fid)}
        # An object the route builds has no query to add an option to: a refresh loads what its
        # response model reads, where that is all the route lacks.
        planned = built_refresh.plan(project, fid, analysed.risks, moving, trees)
        if planned is None:
            # Nor one a helper fetched by key from the route's fresh Session: a refresh on the route.
            planned = fetched_refresh.plan(
                project, fid, analysed.risks, moving, trees, bool(dependency_twins.get(fid))
            )
        if planned is None:
            # Nor one whose last Session work commits (a helper committing it, or committing
            # after the route changed it): a refresh after that commit.
            planned = committed_refresh.plan(
                project, fid, analysed.risks, moving, trees, expiry is None or expiry.on_commit
            )
        if planned is not None:
            built[fid] = planned
            lazy[fid] = []
        else:
            lazy[fid] = built_refresh.explain(project, fid, lazy[fid], moving)
        fixes[fid] = [f for f in analysed.fixes if f.fid in moving and not _twin_lacks(project, f)]
        lazy[fid].extend(_outside_fix(project, f) for f in analysed.fixes if f.fid not in moving)
        for lacking in (f for f in analysed.fixes if f.fid in moving and _twin_lacks(project, f)):
            # The migrated code calls an earlier run's twin: the option goes to that twin's query.
            in_twin = _in_existing_twin(project, lacking)
            if in_twin is not None:
                fixes[fid].append(in_twin)
            else:
                lazy[fid].append(_twin_fix(project, lacking))
    lazy = {fid: risk_groups.merged(risks) for fid, risks in lazy.items()}
    blocked: dict[FunctionId, list[Reason]] = {
        fid: [Reason(r.code, f"{r.file}:{r.line}: {r.message}; fix: {r.fix}") for r in risks]
        for fid, risks in lazy.items()
        if risks
    }
    for fid, why in (forced or {}).items():
        if fid in candidates:
            blocked.setdefault(fid, []).extend(r for r in why if r not in blocked.get(fid, []))
    moving_with = set(candidates) | _reach(project, candidates)
    for fid, handler in candidates.items():
        engine_blocks = _engine_work_on_loop(project, handler)
        if engine_blocks is not None:
            blocked.setdefault(fid, []).append(engine_blocks)
        # A unit test calling the route with a fake service of its own: the migrated route would await it.
        blocked_by_callers = direct_calls.handed_injected(project, fid, moving_with)
        if blocked_by_callers:
            blocked.setdefault(fid, []).extend(blocked_by_callers)
        # Code the route runs that reads a moving class's Session from outside it: the flow does not
        # count that as Session work, so it is looked for along every call, not only Session work's.
        route_reach = _reach(project, [fid, *dependency_twins.get(fid, ())])
        for reached_fid in _called_from(project, [fid, *dependency_twins.get(fid, ())]):
            for line, message in _held_read_outside(project, reached_fid):
                reason = AM229.reason(f"{_where(project, reached_fid, line)}: {message}")
                if reason not in blocked.get(fid, []):
                    blocked.setdefault(fid, []).append(reason)
            for rule, line, message in _outside_held_problems(project, reached_fid):
                reason = rule.reason(f"{_where(project, reached_fid, line)}: {message}")
                if reason not in blocked.get(fid, []):
                    blocked.setdefault(fid, []).append(reason)
            for line, written, held_by in _outside_held_calls(project, reached_fid):
                if _moves_with_route(project, held_by, route_reach):
                    continue
                reason = AM229.reason(
                    f"{_where(project, reached_fid, line)}: {_unmoved_holder_reason(project, held_by, written, route_reach)}"
                )
                if reason not in blocked.get(fid, []):
                    blocked.setdefault(fid, []).append(reason)
            for line, message in _handed_held_methods(project, reached_fid):
                reason = AM215.reason(f"{_where(project, reached_fid, line)}: {message}")
                if reason not in blocked.get(fid, []):
                    blocked.setdefault(fid, []).append(reason)
    for dependency_fid in dependencies.unattributed_session_dependencies(project):
        module, dependency = project.functions[dependency_fid]
        written = ", ".join(dependencies.unattributed_modules(project, dependency_fid))
        via = dependencies.session_route(project, dependency_fid) or ""
        # an instance's `__call__` is written `Depends(AuditTrail(...))`, not by its method
        name = dependency.qualname.removesuffix(".__init__")
        name = f"{name.removesuffix('.__call__')}(...)" if name.endswith(".__call__") else name
        texts = [
            f"`{value} = Depends({name})` ({at}) is used where the tool cannot tell which routes it applies "
            f"to: {', '.join(uses)} (only as a parameter's default or in its `Annotated[...]` is it the "
            "dependency of that function alone)"
            for at, value, uses in dependencies.unattributed_values(project, dependency_fid)
        ]
        overrides = dependencies.unattributed_overrides(project, dependency_fid)
        if overrides:
            texts.append(
                "; ".join(f"`dependency_overrides[{key.rpartition('.')[2]}] = {name}` ({path})" for path, key in overrides)
                + " runs it wherever FastAPI resolves that key, which is itself applied where the tool cannot tell "
                "which routes"
            )
        if written:
            texts.append(
                f"a `Depends({name})` in {written} is written where the "
                "tool cannot tell which routes it applies to (not in a route's signature, a route decorator or "
                "an `APIRouter(...)`: a module-level value such as `X = Depends(...)` used elsewhere than as "
                "a parameter's default, a list given as `dependencies=`, `FastAPI(dependencies=...)`, "
                "`include_router(..., dependencies=...)`, one built inside a function)"
            )
            markers = _handed_markers(project, trees, dependency_fid)
            if markers:
                texts[-1] += (
                    f", among them {'; '.join(markers[:4])}{'; ...' if len(markers) > 4 else ''} (FastAPI resolves no "
                    "marker handed to a call, but the tool does not follow what the callee does with it: hand the "
                    "callee the value itself, `SecurityScopes(scopes=[...])` for a `security_scopes` parameter)"
                )
        text = (
            f"dependency {module.name}.{dependency.qualname} receives the synchronous Session{via}, and "
            f"{'; and '.join(texts)}: it may share this route's Session; write it where the routes name "
            "it (a parameter, an `Annotated` alias, `dependencies=[Depends(...)]` of the route or its "
            "router), or remove it if nothing uses it"
        )
        for fid in candidates:
            dependency_blocks.setdefault(fid, []).append((module.path, dependency.line, text))
    for dependency_fid, handed_by in dependencies.handed_in_routes(project).items():
        # A marker a route's body hands to a call is a plain value there: it concerns the routes
        # running that body, not every route the dependency could share a Session with.
        module, dependency = project.functions[dependency_fid]
        via = dependencies.session_route(project, dependency_fid) or ""
        for fid in candidates:
            running = set(_called_from(project, [fid, *dependency_twins.get(fid, ())]))
            in_route = [(path, line, text) for route, path, line, text in handed_by if route in running]
            if not in_route:
                continue
            text = (
                f"dependency {module.name}.{dependency.qualname} receives the synchronous Session{via}, and "
                f"this route hands its marker to a call: {'; '.join(t for _, _, t in in_route[:4])}"
                f"{'; ...' if len(in_route) > 4 else ''} (FastAPI resolves no marker handed to a call, but the tool "
                "does not follow what the callee does with it: hand the callee the value itself, "
                "`SecurityScopes(scopes=[...])` for a `security_scopes` parameter)"
            )
            dependency_blocks.setdefault(fid, []).append((in_route[0][0], in_route[0][1], text))
    for dependency_fid, keys in dependencies.overridden_keys(project).items():
        # `app.dependency_overrides[key] = f`: FastAPI runs `f` in key's place only for the routes
        # whose dependency tree names key; a route that does not name it never meets `f`.
        module, dependency = project.functions[dependency_fid]
        via = dependencies.session_route(project, dependency_fid) or ""
        name = dependency.qualname.removesuffix(".__init__")
        for fid, handler in candidates.items():
            naming = [(path, key) for path, key in keys if dependencies.reaches_key(project, handler, key)]
            if not naming:
                continue
            written = "; ".join(
                f"`dependency_overrides[{key.rpartition('.')[2]}] = {name}` ({path})" for path, key in naming
            )
            text = (
                f"dependency {module.name}.{dependency.qualname} receives the synchronous Session{via}, and "
                f"{written} runs it in place of a dependency this route names: it would share the route's "
                "Session, and phase two does not move an override; override the route's dependency with an "
                "async form of it by hand, or keep the route as it is"
            )
            dependency_blocks.setdefault(fid, []).append((module.path, dependency.line, text))
    # `include_router(router, dependencies=[Depends(f)])`: `f` runs on the request's Session for
    # every route the include serves. Its twin takes the list's place when all of them migrate
    # (checked in the loop below, `_include_stays`), as a router's own list does.
    moved_includes: set[tuple[str, int]] = set()
    for include in dependencies.guarded_include_lists(project):
        sharing = dependencies.include_session_dependencies(project, include)
        if not sharing:
            continue
        moved_includes.add((include.path, include.line))
        for fid, handler in candidates.items():
            if not any(dependencies.served_under(project, handler, router) for router in include.routers):
                continue
            for found in sharing:
                problem = carry_or_problem(fid, found)
                if problem is None:
                    listed = include_twins.setdefault(fid, {}).setdefault((include.path, include.line), [])
                    listed.extend(d for d in found.chain[:1] if d not in listed)
                    include_sharing.setdefault(fid, {}).setdefault(include, []).append(found)
                    continue
                module, dependency = project.functions[found.dependency]
                shared_block = (
                    module.path, dependency.line,
                    f"{dependencies.describe(project, found)}, and `include_router(..., dependencies=[Depends("
                    f"{_listed(project, found)})])` ({include.path}:{include.line}) applies it to this route "
                    f"({problem})",
                )
                if shared_block not in dependency_blocks.setdefault(fid, []):
                    dependency_blocks[fid].append(shared_block)
    for dependency_fid, includes in dependencies.guarded_includes(project).items():
        module, dependency = project.functions[dependency_fid]
        via = dependencies.session_route(project, dependency_fid) or ""
        name = dependency.qualname.removesuffix(".__init__")
        for fid, handler in candidates.items():
            applying = [
                (path, line, call) for path, line, router, call in includes
                if (path, line) not in moved_includes and dependencies.served_under(project, handler, router)
                # An application's list reaching the route through the routers it is registered on
                # moves as a router's does (`_router_stays`); one the index cannot place under it may run it.
                and not (call == dependencies.APPLICATION_CALL and router in dependencies.handler_routers(project, handler))
            ]
            if not applying:
                continue
            written = ", ".join(f"{path}:{line}" for path, line, _ in applying)
            call = applying[0][2].replace("[...]", f"[Depends({name})]")
            text = (
                f"dependency {module.name}.{dependency.qualname} receives the synchronous Session{via}, and "
                f"`{call}` ({written}) applies it to this route: "
                "it would share the route's Session, which the tool cannot move with the route from there; "
                "write it where the routes name it (a parameter, an `Annotated` alias, `dependencies=[Depends(...)]` "
                "of the route or its router), or keep the route as it is"
            )
            dependency_blocks.setdefault(fid, []).append((module.path, dependency.line, text))
    for endpoint, place, refs in dependencies.registered_depends(project):
        if endpoint not in candidates:
            continue
        for ref in refs:
            registered = dependencies.dependency_function(project, ref)
            if registered is None or (
                project.is_session_dependency(ref) and registered not in tx_dependency.wrappers(project)
            ):
                continue
            carried = dependencies.session_route(project, registered)
            if carried is None:
                continue
            module, dependency = project.functions[registered]
            text = (
                f"dependency {module.name}.{dependency.qualname} receives the synchronous Session{carried}, and "
                f"`add_api_route(..., dependencies=[Depends({ref.rsplit('.', 1)[-1]})])` ({place}) applies it to "
                "this route: it would share the route's Session, which phase two does not move from a "
                "registration call; write it in the route's signature (a parameter, an `Annotated` alias) or in "
                "its router's `dependencies=[...]`, or keep the route as it is"
            )
            dependency_blocks.setdefault(endpoint, []).append((module.path, dependency.line, text))
    for fid, handler in candidates.items():
        for param, ref in dependencies.wrapped_session_params(project, handler):
            wrapper = dependencies.dependency_function(project, ref)
            name = ref.rsplit(".", 1)[-1]
            if wrapper is None:
                # `get_read_db = make_db_dependency(SessionRO)`: a function built at run time, in PATH
                target = project.resolve(ref)
                unread = "a value a call builds at run time" if (
                    target is not None and target.kind == "value"
                ) else "outside PATH"
                text = (
                    f"{handler.module.path}:{param.line}: parameter `{param.name}` gets its Session from "
                    f"`{ref}`, which the analysis cannot read ({unread}): what it does around the "
                    "Session cannot be kept with the async session dependency in its place"
                )
            elif (
                wrapper in tx_dependency.wrappers(project) and shared != "block"
                and tx_dependency.problem(project, wrapper, trees) is None
            ):
                # A transaction around the request's one Session: its async twin serves the
                # migrated route, on the async session dependency.
                chain = dependency_twins.setdefault(fid, [])
                if wrapper not in chain:
                    chain.append(wrapper)
                continue
            elif (handed := dependency_handing_out(project, ref)) is not None:
                # Not a wrapper doing work around the Session: it hands out the process's one Session.
                text = (
                    f"{_gets_from(project, wrapper, param.name, name)}, which hands out {handed}, "
                    "one Session the whole process shares, which phase two cannot replace with a per-request "
                    "AsyncSession: have the route take the session dependency instead, and rerun phase two"
                )
            elif wrapper in tx_dependency.wrappers(project):
                carried = "--shared block" if shared == "block" else tx_dependency.problem(project, wrapper, trees)
                text = (
                    f"{handler.module.path}:{param.line}: parameter `{param.name}` gets its Session from `{name}`, "
                    f"a dependency around the session provider that phase two gives an async twin only when it "
                    f"is a transaction around the Session and nothing more: {carried}; its async twin would drop "
                    "or misplace that"
                )
            elif (registry := handed_registry(project, wrapper)) is not None:
                # `def get_db(): yield db_session`: no provider wrapped, a registry's Session handed out,
                # which the analysis takes for a provider only when the configuration names it
                text = (
                    f"{_gets_from(project, wrapper, param.name, name)}, which hands out the Session of the "
                    f"`scoped_session` `{registry[1]}` ({registry[0]}), not one it opens: phase two does not "
                    "take it for the session dependency; if it is the application's, name it in "
                    f'`session-dependencies = ["{ref}"]` under [tool.async-migrate] and run phase two again, '
                    "which then judges the registry's other users"
                )
            elif (opener := _opener_problem(project, wrapper)) is not None:
                text = (
                    f"{_gets_from(project, wrapper, param.name, name)}, which opens it through another function: "
                    f"{opener}; phase two finds no sessionmaker for the async one: open the Session from a module-level "
                    "`SessionLocal = sessionmaker(...)` (directly or through a function only returning "
                    "`SessionLocal()`), or keep the routes on the sync path"
                )
            else:
                text = (
                    f"{_gets_from(project, wrapper, param.name, name)}, which is not the session provider but "
                    "wraps it (what it does around the Session, such as a commit or a rollback, would be "
                    "lost with the async session dependency in its place)"
                )
            blocked.setdefault(fid, []).append(AM256.reason(text))
    for fid in mixed:
        for line, text in _other_async_provider(project, fid, provider):
            dependency_blocks.setdefault(fid, []).append((project.functions[fid][0].path, line, text))
    for fid, found_blocks in dependency_blocks.items():
        blocked.setdefault(fid, []).extend(AM219.reason(f"{path}:{line}: {text}") for path, line, text in found_blocks)

    def way_to(route: FunctionId, fid: FunctionId) -> str:
        """`api.a.rename -> dependency core.auth.get_current_user -> core.auth.load_user`: how a
        route reaches a function through a dependency FastAPI calls for it; "" when not so."""
        chains = [found.chain for found in shared_sessions.get(route, ())]
        chains += [found.chain for sharing in include_sharing.get(route, {}).values() for found in sharing]
        return _dependency_way(project, route, fid, chains, dependency_twins.get(route, ()))

    # A blocker in a method of a class moving as a whole that the route does not call is the
    # class's: listed in full where the route's own calls reach it, or once (the first route
    # meeting it), and referred to from every other route (`_ClassBlockers`).
    grouped = _ClassBlockers(
        project, candidates, own_blockers,
        lambda route: _reach(project, [route, *dependency_twins.get(route, ())], whole_holders=False),
    )

    def class_grouped(route: FunctionId, reached: Iterable[FunctionId]) -> list[Reason]:
        return grouped.reasons(
            route, reached, lambda fid, blocker: _blocker_reason(project, fid, blocker, route, way_to(route, fid))
        )

    while True:
        active = [fid for fid in candidates if fid not in blocked]
        reaches = {fid: reach(fid) for fid in active}
        helpers = set().union(*reaches.values()) if reaches else set()
        members = set(active) | helpers
        newly_blocked = False
        for route in active:
            reasons = class_grouped(route, reaches[route])
            for fid in sorted({route} | reaches[route]):
                for other in methods.overrides(project, fid):
                    if other not in reaches[route] and not _override_twinned(project, fid, other):
                        reasons.append(AM242.reason(
                            f"{_where(project, fid, project.functions[fid][1].line)}: {_name(project, fid)} "
                            f"is overridden by {_name(project, other)} "
                            f"({_where(project, other, project.functions[other][1].line)}), which does not move "
                            "with it: a call on a subclass instance would mix sync and async (once a run for a "
                            "subsystem reaching the override adds its async twin, this one moves beside it)"
                        ))
                if fid != route and shared == "block" and fid not in dependency_twins.get(route, ()):
                    sharing_with = [_name(project, c) for c in _outside_callers(project, fid, members)]
                    sharing_with += [f"a value reference in {m}" for m in value_references(project).get(fid, [])]
                    sharing_with += [f"module-level code at {m}" for m in module_level_callers(project).get(fid, [])]
                    if sharing_with:
                        reasons.append(
                            AM218.reason(
                                f"needs {_name(project, fid)}, which is shared with "
                                f"{', '.join(sharing_with)} (--shared block)"
                            )
                        )
            reasons.extend(unfollowed_holders.reasons(project, [route, *dependency_twins.get(route, ())]))
            reasons.extend(_injected_class_reasons(project, dependency_twins.get(route, ()), active))
            reasons.extend(_callable_dependency_reasons(project, dependency_twins.get(route, ()), active))
            for router, sharing in sorted(router_sharing.get(route, {}).items()):
                reasons.extend(_router_stays(project, router, sharing, route, active, blocked))
            for include, sharing in include_sharing.get(route, {}).items():
                reasons.extend(_include_stays(project, include, sharing, route, active, blocked))
            reasons.extend(_holder_reasons(
                project, route, reaches[route], members, active, read, None if shared == "block" else shared_holders,
                shared_by,
            ))
            reasons.extend(_blocked_view_routes(
                project, route, blocked, grouped.through_class, dependency_twins.get(route, ())
            ))
            if reasons:
                blocked[route] = list(dict.fromkeys(reasons))  # a class's problem, once per class
                newly_blocked = True
        if not newly_blocked:
            break

    # A route blocked before the loop (a lazy load, a forced reason) was not read for what its
    # helpers do: their own blockers are its reasons too, or the route's real problem (a unit
    # of work holding its own Session) goes unnamed behind a lazy load.
    for route, reasons in blocked.items():
        for reason in class_grouped(route, reach(route)):
            if reason not in reasons:
                reasons.append(reason)
    closure.blocked_routes = {**blocked, **held_elsewhere, **websockets}
    closure.migrated_routes = {fid for fid in candidates if fid not in blocked}
    closure.mixed_routes = set(mixed) & closure.migrated_routes
    closure.reaches = {fid: reach(fid) for fid in closure.migrated_routes}
    closure.calls = {
        fid: _reach(project, [fid, *dependency_twins.get(fid, ())], whole_holders=False)
        - {fid, *dependency_twins.get(fid, ())}  # FastAPI calls the dependencies, the route does not
        for fid in closure.migrated_routes
    }
    # A dependency building a class that holds the Session, used only by migrated routes,
    # moves in place with the class (checked per route above).
    in_place = {
        d for route in closure.migrated_routes for d in dependency_twins.get(route, ())
        if _builds_holder(project, d, shared_holders) or _holder_member(project, d, shared_holders)
        or dependencies.injected_class(project, d) or dependencies.callable_dependency(project, d)
        or _builds_parallel_alone(project, d, closure.migrated_routes)
    }
    # Only FastAPI reads an injected class's `Depends(...)` defaults: code constructing the class
    # itself passes its arguments, so its `__init__` moves in place whoever calls it.
    injected = {d for d in in_place if dependencies.injected_class(project, d)}
    # Only FastAPI runs a callable instance's `__call__` (anything calling it blocked the routes):
    # it moves in place, the instances and the routes' `Depends(...)` as they are.
    called = {d for d in in_place if dependencies.callable_dependency(project, d)}
    injected |= called
    closure.in_place_dependencies = in_place
    closure.generator_twins = generator_twins
    closure.left_out = dict(_left_out(project))
    closure.dependency_twins = {
        fid: [d for d in chain if d not in in_place]
        for fid, chain in dependency_twins.items() if fid in closure.migrated_routes
    }
    closure.router_twins = {fid: found for fid, found in router_twins.items() if fid in closure.migrated_routes}
    closure.include_twins = {fid: found for fid, found in include_twins.items() if fid in closure.migrated_routes}
    closure.eager_fixes = {fid: fixes[fid] for fid in closure.migrated_routes if fixes.get(fid)}
    twinned_dependencies = {d for chain in closure.dependency_twins.values() for d in chain}
    migrated_helpers = set().union(*closure.reaches.values()) if closure.reaches else set()
    members = closure.migrated_routes | migrated_helpers
    closure.refreshes = {fid: list(found) for fid, found in refreshes.items() if fid in members}
    for route in sorted(closure.migrated_routes & set(built)):
        planned = built[route]
        if planned.present:
            continue  # the code's own refresh loads what the response reads: nothing to add
        refreshing = closure.refreshes.setdefault(planned.fid, [])
        if planned.refresh not in refreshing:
            refreshing.append(planned.refresh)  # after the expiry's own refreshes, which reload every attribute
        closure.built_refreshes[route] = planned
    closure.inline = {fid: verdicts.moves for fid, verdicts in inline.items() if fid in members and verdicts.moves}
    # A twin's synchronous original stays, and so must everything it calls: sync
    # callers propagate down the call graph until the set of twins is stable.
    sync_callers = {fid: _outside_callers(project, fid, members) for fid in migrated_helpers}
    # A helper used as a value (`add_task(f, db)`, `to_thread(f, db)`, a callback table) has
    # callers the call graph cannot follow: they keep the synchronous original.
    referenced = value_references(project)
    top_level = module_level_callers(project)
    unseen = methods.unseen_callers(project, migrated_helpers, read)
    # Files the pre-pass never read (a script importing the helper and nothing else) may call
    # it by name: moved in place, their call would build a coroutine nobody awaits.
    named = project_names_in_unread(project, read)
    named_unread = {
        f: named[project.functions[f][1].name] for f in migrated_helpers
        if project.functions[f][1].name in named and not methods.view_init(project, f)
    }
    # `Depends(get_repo)` names an in-place dependency as a value: FastAPI calls it, never code.
    twins = {
        fid for fid, outside in sync_callers.items()
        if fid not in injected and (
            outside or (fid in referenced and fid not in in_place) or fid in unseen or fid in named_unread
            or fid in top_level
        )
    }
    twins |= twinned_dependencies
    # The synchronous original stays for every `with` the migration leaves as it is.
    openers = {fid for fid in migrated_helpers if fid in project.opener_twins or fid in project.handed_twins}
    twins |= openers
    held = {f for f in migrated_helpers if _holder_member(project, f, shared_holders)} | in_place
    # A class shared with code that stays synchronous gets a parallel async class: its
    # methods are twins (their originals, and what those call, stay synchronous).
    # Its other methods go to the copy too (a service's `names()` calling `self.repo.names()` on a
    # repository it builds): the copy's `self.repo` is the repository's copy, so they move with it.
    parallel_members = {
        f for f in migrated_helpers
        if (_holder_member(project, f) or _parallel_method(project, f, shared_holders)) and f not in held
        and f not in in_place
    }
    twins |= parallel_members
    # An earlier run for another subsystem left its twin (a function's, or a method's beside it
    # in its class): moving the original in place as well would leave two async copies, and
    # what the original calls keeps its synchronous form with it.
    earlier = {
        f for f in migrated_helpers - twins - held
        if twins_module.earlier_twin(project, f) is not None
    }
    twins |= earlier
    # An override an earlier run twinned: the base method gets its twin under that name, so a
    # call on a subclass instance runs the override's twin (moved in place, it would run the base).
    beneath = {
        f: [o for o in methods.overrides(project, f) if _override_twinned(project, f, o)]
        for f in migrated_helpers - held
    }
    beneath = {f: found for f, found in beneath.items() if found}
    twins |= set(beneath)
    groups = methods.dispatch_groups(project, (f for f in migrated_helpers if methods.is_method(project, f)))
    changed = True
    while changed:
        changed = False
        for fid in sorted(migrated_helpers - twins - injected):
            kept = sorted({e.caller for e in project.all_calls_to[fid] if e.caller in twins})
            if kept:
                sync_callers[fid] = kept
                twins.add(fid)
                changed = True
        # Methods one call may run, or that override one another, move the same way.
        for group in groups:
            if group & twins and not group <= twins:
                twins |= group
                changed = True
    if twins & held and shared != "block":
        # Something that keeps a synchronous original calls into a class moving in place:
        # the class is shared after all, and gets a parallel async class.
        conflicting = {
            ref for f in twins & held if (h := holders.holder_of(project, f)) is not None for ref in h.family or (h.ref,)
        }
        if conflicting - shared_holders:
            for fid in sorted(twins & held):
                holder = holders.holder_of(project, fid)
                assert holder is not None
                keeping = _kept_synchronous(
                    project, fid, sync_callers.get(fid, ()), unseen.get(fid, ()), named_unread.get(fid, ()),
                    referenced.get(fid, ()), top_level.get(fid, ()),
                )
                for ref in holder.family or (holder.ref,):
                    if ref not in shared_holders:
                        shared_by.setdefault(ref, []).extend(u for u in keeping if u not in shared_by.get(ref, ()))
            return compute(
                project, name, modules, shared, forced, read, frozenset(shared_holders | conflicting), expiry, engine,
                provider, shared_by,
            )
    if twins & held:
        # With `--shared block`, or a dependency building the class: the routes reaching
        # it are blocked, and the closure computed again without them.
        extra: dict[FunctionId, list[Reason]] = {}
        for fid in sorted(twins & held):
            users = sorted({e.caller for e in project.all_calls_to[fid] if e.caller in twins})
            shared_reason = AM254.reason(
                f"{_where(project, fid, project.functions[fid][1].line)}: {_name(project, fid)} moves in place "
                f"with the class holding the Session, but {', '.join(_name(project, u) for u in users) or 'its user'} "
                "keeps a synchronous original that calls it"
            )
            for route, reached in closure.reaches.items():
                if fid in reached:
                    extra.setdefault(route, []).append(shared_reason)
        merged = {k: list(v) for k, v in (forced or {}).items()}
        for route, added in extra.items():
            merged.setdefault(route, []).extend(added)
        return compute(
            project, name, modules, shared, merged, read, frozenset(shared_holders), expiry, engine, provider, shared_by
        )
    copying = _copy_blockers(project, closure, parallel_members, forced or {}, read, shared_by)
    if copying:
        # A parallel copy would run its hierarchy's registrations again (AM253): the routes
        # needing it are blocked, and the closure computed again without them.
        merged = {k: list(v) for k, v in (forced or {}).items()}
        for route, added in copying.items():
            merged.setdefault(route, []).extend(added)
        return compute(
            project, name, modules, shared, merged, read, frozenset(shared_holders), expiry, engine, provider, shared_by
        )
    for fid in sorted(migrated_helpers):
        outside = sync_callers[fid]
        if fid in called or fid in injected:
            module, function = project.functions[fid]
            injecting = ", ".join(_name(project, r) for r in sorted(
                r for r, chain in dependency_twins.items() if fid in chain and r in closure.migrated_routes
            ))
            closure.helpers[fid] = HelperDecision(fid, "migrate", [AM267.reason(
                f"FastAPI runs {module.name}.{function.qualname} for instances injected by {injecting} alone: it moves "
                "in place as `async def __call__` on the async session dependency, so a request keeps one Session"
            ) if fid in called else AM226.reason(
                f"the class {module.name}.{function.qualname.rpartition('.')[0]} is injected by {injecting} alone: its "
                "`__init__` moves in place, its `Depends(...)` defaults pointing at the async twins, so a request "
                "keeps one Session"
            )])
        elif fid in held:
            holder = holders.holder_of(project, fid)
            what = (
                f"moves in place with {holder.name(project)}, which holds the Session on its instances: "
                "only the migrated routes use it"
                if holder is not None else
                "a dependency building a class that holds the Session, used only by the migrated routes: "
                "moves in place, its Session parameter becomes the AsyncSession"
            )
            closure.helpers[fid] = HelperDecision(fid, "migrate", [AM252.reason(what)])
        elif fid in openers and project.functions[fid][1].is_async:
            closure.helpers[fid] = HelperDecision(fid, "twin", [AM207.reason(
                "an `@asynccontextmanager` opener of a synchronous Session: a twin opening from the async "
                "sessionmaker and awaiting its Session's calls is added, which the migrated code enters instead; "
                "the original stays for the code that stays on the synchronous Session"
            )])
        elif fid in openers:
            closure.helpers[fid] = HelperDecision(fid, "twin", [AM207.reason(
                "a `@contextmanager` Session opener: an `@asynccontextmanager` twin opening from the async "
                "sessionmaker is added, which the migrated code enters with `async with`; the sync original stays "
                "for the code that still enters it with `with`"
            )])
        elif fid in twinned_dependencies:
            users = sorted(r for r, chain in closure.dependency_twins.items() if fid in chain)
            closure.helpers[fid] = HelperDecision(fid, "twin", [AM226.reason(
                f"a dependency sharing the Session of {', '.join(_name(project, r) for r in users)}: "
                "the migrated routes use its async twin, so a request keeps one Session; the sync "
                "original stays for the other routes"
            )])
        elif fid in twins:
            reasons = []
            if outside:
                reasons.append(AM207.reason(f"also called by {', '.join(_name(project, c) for c in outside)}: "
                                            "an async twin is added, the sync original stays"))
            if fid in top_level:
                reasons.append(AM207.reason(
                    f"also called outside any function, at {first_few(top_level[fid])} (a script's "
                    "statements, an `if __name__ == \"__main__\":` block, a module-level lambda), which stays "
                    "synchronous: an async twin is added, the sync original stays"
                ))
            if fid in referenced:
                reasons.append(AM209.reason(
                    f"used as a value (not called) in {', '.join(referenced[fid])}, where the "
                    "tool cannot see how it is called: an async twin is added, the sync original stays"
                ))
            if fid in unseen:
                reasons.append(AM209.reason(
                    f"a method whose name is used where the tool cannot tell it is not this method "
                    f"({first_few(unseen[fid])}): an async twin "
                    "method is added to the class, the sync original stays"
                ))
            if fid in named_unread:
                places = named_unread[fid]
                reasons.append(AM207.reason(
                    f"named in {first_few(places)}, code the "
                    "analysis did not read (it names no Session, router or `async def`), which may call it: an "
                    "async twin is added, the sync original stays"
                ))
            if fid in beneath:
                reasons.append(AM207.reason(
                    f"overridden by {', '.join(_name(project, o) for o in beneath[fid])}, whose async twin an "
                    "earlier run added: its twin goes beside it under the same name, the sync original stays"
                ))
            if fid in earlier and not reasons:
                reasons.append(AM207.reason(
                    "only called within the subsystem, but an earlier run added its async twin: the "
                    "sync original stays"
                ))
            if not reasons:
                reasons.append(AM207.reason("overrides, or is overridden by, a method that gets an async twin: "
                                            "the class hierarchy keeps one twin name"))
            closure.helpers[fid] = HelperDecision(fid, "twin", reasons)
        else:
            closure.helpers[fid] = HelperDecision(
                fid, "migrate", [AM206.reason("only called within the subsystem")]
            )
    twins_module.name_twins(project, closure, members, groups, read)
    # A parallel class's copy holds the methods the migrating code runs, not all of its class's;
    # what only the others reach (a function, a method of a class not holding the Session) stays
    # as it is, their originals calling it. A class moving in place moves whole.
    starting = (
        closure.migrated_routes | twinned_dependencies | in_place | held | openers
        | {f for f in migrated_helpers if f in referenced or f in unseen or f in named_unread or f in top_level}
    )
    live = left_out.running(project, parallel_members, starting, read)
    fixed = {f.fid for found in closure.eager_fixes.values() for f in found}
    closure.unused_copies = parallel_members - live
    idle = {
        f for f in migrated_helpers - live - parallel_members - held - in_place
        if f not in fixed and holders.holder_of(project, f) is None
    }
    parallel_members -= closure.unused_copies
    for fid in closure.unused_copies | idle:
        closure.helpers.pop(fid, None)
    _parallel_classes(project, closure, parallel_members, read)
    blocked_helpers = set()
    for route in blocked:
        blocked_helpers |= _reach(project, [route]) - {route}
    for fid in sorted(blocked_helpers - migrated_helpers):
        reasons = [b.reason(_where(project, fid, b.line)) for b in own_blockers.get(fid, [])]
        closure.helpers[fid] = HelperDecision(
            fid, "blocked", reasons or [AM208.reason("only reached by blocked routes")]
        )
    for fid in sorted(own_blockers):
        module, _ = project.functions[fid]
        for blocker in own_blockers[fid]:
            closure.blockers.append(Blocker(blocker.rule.code, module.path, blocker.line, blocker.message, fid))
    seen = set()
    for fid, found_blocks in sorted(dependency_blocks.items()):
        for path, line, message in found_blocks:
            if (path, line, message) not in seen:
                seen.add((path, line, message))
                closure.blockers.append(Blocker(AM219.code, path, line, message, fid))
    for fid, risks in sorted(lazy.items()):
        for risk in risks:
            if (risk.file, risk.line, risk.message) not in seen:
                seen.add((risk.file, risk.line, risk.message))
                closure.blockers.append(
                    Blocker(risk.code, risk.file, risk.line, f"{risk.message}; fix: {risk.fix}", fid)
                )
    if closure.migrated_routes:
        moving = {fid for fid, d in closure.helpers.items() if d.action in ("migrate", "twin")}
        in_place = set(closure.migrated_routes) | {fid for fid, d in closure.helpers.items() if d.action == "migrate"}
        # a Protocol moving with the family implementing it (`holders._interfaces`) is rewritten there
        families = {
            ref for fid in moving if (holder := holders.holder_of(project, fid)) is not None for ref in holder.family
        }
        closure.protocol_methods, closure.follow_ups = protocols.plan(project, moving, in_place, families)
        closure.follow_ups.extend(_unverified_on_the_loop(project, closure.migrated_routes, moving | in_place))
        closure.follow_ups.extend(loop_io.follow_ups(project, closure.migrated_routes))
    return closure


def _other_async_provider(project: Project, fid: FunctionId, provider: FunctionId | None) -> list[tuple[int, str]]:
    """A route already on an AsyncSession whose twinned dependencies would not share it: the
    twins take the stack's async session dependency, so the route's own AsyncSession parameters
    must come from that one (FastAPI caches it per request). (line, why) for each that does not."""
    _, function = project.functions[fid]
    found = []
    for param in function.params:
        if project.declared_async_session(param) is None:
            continue
        ref = project.param_dependency(param)
        if ref is not None and provider is not None and dependencies.dependency_function(project, ref) == provider:
            continue
        taken = f"`{ref.rsplit('.', 1)[-1]}`" if ref is not None else "no `Depends(...)` the analysis can read"
        stack = (
            f"the async session dependency {_name(project, provider)}" if provider is not None
            else "an async session dependency phase two would generate (none was found to reuse)"
        )
        found.append((param.line, (
            f"parameter `{param.name}` takes its AsyncSession from {taken}, while the async twins of the "
            f"dependencies that still receive the synchronous Session would take {stack}: the request "
            "would keep two Sessions; have the route take the stack's async session dependency, or "
            "give the dependencies their async form by hand"
        )))
    return found


def _override_twinned(project: Project, fid: FunctionId, override: FunctionId) -> bool:
    """Whether an earlier run left the override of the method `fid` its async twin under a name
    `fid`'s class leaves free (or binds to `fid`'s own twin), so `fid`'s twin can take it: the
    override then moves already, and a call on a subclass instance awaits its twin."""
    name = twins_module.earlier_twin(project, override)
    return name is not None and (
        twins_module.existing_twin(project, fid, name) or twins_module.free_in_class(project, fid, name)
    )


def reused_twin(project: Project, fid: FunctionId) -> FunctionId | None:
    """The async twin an earlier run left beside a function or method, which the migrated code
    will call: `name_async` beside it, or the method of the same name in the parallel class an
    earlier run added (`TaskRepositoryAsync.for_project`), which the migrated code uses whole."""
    module, function = project.functions[fid]
    name = twins_module.earlier_twin(project, fid)
    owner = function.qualname.rpartition(".")[0]
    if name is not None:
        return (module.name, f"{owner}.{name}" if owner else name)
    return _parallel_twin(project, fid)


def _parallel_twin(project: Project, fid: FunctionId) -> FunctionId | None:
    """The method standing for `fid` in the parallel class an earlier run added beside its class."""
    classes = project.flow.classes
    ref = classes.owner(fid)
    if ref is None or ref not in classes.by_ref:
        return None
    module, written = classes.by_ref[ref]
    name = written.name + twin_names.PARALLEL_SUFFIX
    lacking = _existing_parallel(project, ref, name, {fid})
    if lacking is None or fid in lacking:
        return None
    owner = written.qualname.rpartition(".")[0]
    method = unit_of_work_module.ASYNC_NAMES.get(project.functions[fid][1].name, project.functions[fid][1].name)
    twin = (module.name, f"{owner}.{name}.{method}" if owner else f"{name}.{method}")
    return twin if twin in project.functions else None


def _handed_markers(project: Project, trees: _Trees, fid: FunctionId) -> list[str]:
    """`depends_values.handed_markers` of the dependency `fid` in each module its unattributed
    `Depends(...)` are written in."""
    module, function = project.functions[fid]
    ref = project.canonical(f"{module.name}.{function.qualname}") or f"{module.name}.{function.qualname}"
    paths = set(dependencies.unattributed_modules(project, fid))
    found = []
    for other in project.modules.values():
        tree = trees(other.path) if other.path in paths else None
        if tree is not None:
            found += depends_values.handed_markers(project, other, tree, ref)
    return found


def _gets_from(project: Project, wrapper: FunctionId, param: str, name: str) -> str:
    """Where a route's parameter gets its Session from a dependency wrapping the session
    provider, as AM256's reasons begin: at the wrapper."""
    module, function = project.functions[wrapper]
    return f"{module.path}:{function.line}: parameter `{param}` gets its Session from `{name}`"


def _generator_twins(project: Project, twinned: set[FunctionId], trees: _Trees) -> set[FunctionId]:
    """Generator dependencies sharing the route's Session (not session providers: those are the
    stack's) that only FastAPI runs: their twins are async generators FastAPI iterates alike, as
    is an `async def` one already (`yield UserManager(user_db)`, its Session calls awaited in the
    twin). Not one holding `yield from` or a `return` of a value, nor one annotated
    `Generator[X, S, R]` with a return type R, which an async generator cannot have."""
    found: set[FunctionId] = set()
    for fid in twinned:
        module, function = project.functions[fid]
        if (
            not function.is_generator or fid in project.session_dependencies
            or function.decorators or project.calls_to.get(fid) or project.all_calls_to.get(fid)
        ):
            continue
        node = expired_lists.function_node(trees(module.path), function)
        if node is not None and not _returns_value(node.returns) and not any(
            isinstance(n, ast.YieldFrom) or (isinstance(n, ast.Return) and n.value is not None)
            for n in own_nodes(node.body)
        ):
            found.add(fid)
    return found


def _returns_value(returns: ast.expr | None) -> bool:
    """`Generator[X, S, R]`, however its module is written, with R other than None."""
    if not isinstance(returns, ast.Subscript):
        return False
    head = returns.value
    name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", None)
    elements = returns.slice.elts if isinstance(returns.slice, ast.Tuple) else []
    return name == "Generator" and len(elements) == 3 and not (
        isinstance(elements[2], ast.Constant) and elements[2].value is None
    )


def _twin_lacks(project: Project, fix: EagerFix) -> bool:
    """The query runs, for the migrated code, in an existing twin that does not load the path's
    last relationship: the option would go to the original, which the migrated code no longer calls."""
    from async_migrate.codemods.classes import project_classes

    twin = reused_twin(project, fix.fid)
    if twin is None or twin not in project.functions:
        return False
    classes = project_classes(project)
    owner, attribute = fix.path[-1]
    for named, loaded in project.functions[twin][1].eager:
        if loaded in (attribute, "*") and (not named or classes.resolve(named) in classes.mro(owner)):
            return False
    return True


def _in_existing_twin(project: Project, fix: EagerFix) -> EagerFix | None:
    """The fix moved onto the query of the earlier run's async twin that the migrated code calls
    in place of `fix.fid`: the twin's query of the same form and entity, at the same place among
    those (the twin is the original's copy); None when the twin's queries do not line up so."""
    twin = reused_twin(project, fix.fid)
    if twin is None or twin not in project.functions:
        return None
    original, copy = project.functions[fix.fid][1], project.functions[twin][1]
    # numbered as `eager_flow.query_of` numbers them: the function's own queries, then those on
    # a Session its instance holds (a parallel class's method)
    mine, copied = numbered_loads(original), numbered_loads(copy)
    if not copy.is_async or fix.load >= len(mine):
        return None
    load = mine[fix.load]
    ours = [i for i, other in enumerate(mine) if (other.form, other.model) == (load.form, load.model)]
    theirs = [i for i, other in enumerate(copied) if (other.form, other.model) == (load.form, load.model)]
    if len(ours) != len(theirs):
        return None
    index = theirs[ours.index(fix.load)]
    # the copy's query sits where the original's does, from the `def` line
    line = copy.line + fix.line - original.line
    return replace(fix, fid=twin, load=index, file=project.functions[twin][0].path, line=line)


def numbered_loads(function: facts.Function) -> list[facts.Load]:
    return [*function.loads, *(function.held_loads[key] for key in sorted(function.held_loads))]


def _twin_fix(project: Project, fix: EagerFix) -> LazyLoadRisk:
    found = reused_twin(project, fix.fid)
    twin = found[1] if found is not None else project.functions[fix.fid][1].name + project.config.twin_suffix
    return _unfixable(
        project, fix, f"whose async twin `{twin}` (already there: an earlier run's, or written by hand) the migrated code calls and which "
        "does not load it", f"add the eager load of {{path}} to the query in `{twin}`",
    )


def _outside_fix(project: Project, fix: EagerFix) -> LazyLoadRisk:
    return _unfixable(
        project, fix, "which does not move with the route: no eager load can be added there", AM245.fix
    )


def _unfixable(project: Project, fix: EagerFix, why: str, remedy: str) -> LazyLoadRisk:
    """AM245: an eager load the route needs in a query phase two does not rewrite; `{path}` in
    `remedy` stands for the relationship path."""
    from async_migrate.codemods.classes import project_classes

    module, function = project.functions[fix.fid]
    path = fix.describe(project_classes(project))
    return LazyLoadRisk(
        file=fix.file,
        line=fix.line,
        function=f"{module.name}.{function.qualname}",
        attribute=fix.path[-1][1],
        owner=fix.path[-1][0],
        message=(
            f"{fix.what} {path} is read lazily on objects loaded by the query in {module.name}."
            f"{function.qualname}, {why}"
        ),
        fix=(AM251.fix if fix.deferred else remedy).replace("{path}", path),
        path=path,
        routes=fix.routes,
        code=AM251.code if fix.deferred else AM245.code,
    )


def _blocked_view_routes(
    project: Project, route: FunctionId, blocked: dict[FunctionId, list[Reason]],
    through_class: Callable[[FunctionId, FunctionId, list[Reason]], bool] = lambda route, mate, why: False,
    twinned: Iterable[FunctionId] = (),
) -> list[Reason]:
    """A route that is a method of a class holding the Session (a class-based view) moves with
    every method of the class: it cannot while another route of the class is blocked, whose
    method would be rewritten for an AsyncSession all the same. Not those blocked only for what
    blocks the class, which the route's reasons name already (`through_class`). The view's own
    dependencies among the route's async twins (`twinned`) are named: the class declares them
    once for all its routes, so they cannot be the twins for some routes only either."""
    view = holders.holder_of(project, route)
    if view is None or route not in view.methods:
        return []
    mates = sorted(
        f for f in blocked if f in view.methods and f != route and not through_class(route, f, blocked[f])
    )
    if not mates:
        return []
    return [AM253.reason(
        f"{_where(project, route, project.functions[route][1].line)}: {_name(project, route)} is a route of "
        f"{view.name(project)}, which holds the Session on its instances and moves as a whole, and "
        f"{'its route' if len(mates) == 1 else 'its routes'} {', '.join(_name(project, f) for f in mates)} "
        f"{'is' if len(mates) == 1 else 'are'} blocked (see there): one class cannot hold an AsyncSession "
        "for some routes and a Session for others" + _view_twins(project, view, twinned)
    )]


def _view_twins(project: Project, view: holders.HolderClass, twinned: Iterable[FunctionId]) -> str:
    """`, nor depend on the async twin of api.deps.get_current_user ...`: the dependencies of the
    view's `__init__` (its class attributes under `@cbv`) that would get async twins; "" for none."""
    moving = set(twinned)
    names = list(dict.fromkeys(
        _name(project, found.dependency)
        for found in (dependencies.view_session_dependencies(project, view.init) if view.init is not None else ())
        if moving.issuperset(found.chain)
    ))
    if not names:
        return ""
    return (
        f", nor depend on the async {'twin' if len(names) == 1 else 'twins'} of {', '.join(names)} "
        f"(through {view.name(project)}.__init__) for some routes and the synchronous "
        f"{'original' if len(names) == 1 else 'originals'} for others: phase two blocks the whole view "
        "rather than write a parallel class, whose routes would be registered again on the same paths"
    )


def _kept_synchronous(
    project: Project, fid: FunctionId, callers: Iterable[FunctionId], unseen: Iterable[str],
    unread: Iterable[str], referenced: Iterable[str], top_level: Iterable[str],
) -> list[str]:
    """What keeps a method of a class moving in place synchronous (`user at path:line`), as the
    closure found it: its callers keeping a synchronous original, the places naming it where the
    analysis cannot follow the call, files it never read naming it, value references, module-level calls."""
    method = project.functions[fid][1].qualname
    keeping = set(callers)
    found = [
        f"{_name(project, e.caller)} at {_where(project, e.caller, e.call.line)}"
        for e in project.all_calls_to[fid] if e.caller in keeping
    ]
    found += [f"`{method}` named at {place}, where the tool cannot see how it is called" for place in unseen]
    found += [f"`{method}` named in {place}, a file not analysed" for place in unread]
    found += [f"`{method}` named as a value in {place}" for place in referenced]
    found += [f"module-level code calling `{method}` at {place}" for place in top_level]
    return list(dict.fromkeys(found)) or [f"{_name(project, fid)}, which keeps a synchronous original"]


def _copy_blockers(
    project: Project, closure: Closure, members: set[FunctionId], forced: dict[FunctionId, list[Reason]],
    read: Callable[[str], str] | None, sharing: dict[str, list[str]],
) -> dict[FunctionId, list[Reason]]:
    """The routes reaching a method of a class whose parallel copy would run what defining a
    class of its hierarchy runs (`copied_classes.py`), not blocked for it yet -> the reasons,
    naming the code staying synchronous that made the class shared (`sharing`)."""
    effects: dict[str, list[tuple[str, int, str]]] = {}
    reasons: dict[tuple[str, int, str, str], Reason] = {}
    earlier: set[str] | None = None
    found: dict[FunctionId, list[Reason]] = {}
    for fid in sorted(members):
        holder = holders.holder_of(project, fid)
        if holder is None:
            continue
        family = holder.family or (holder.ref,)
        for ref in family:
            if ref not in effects:
                effects[ref] = copied_classes.creation_effects(project, ref, read)
        users = list(dict.fromkeys(u for ref in family for u in sharing.get(ref, ())))
        if not users:
            if earlier is None:
                earlier = _copied_earlier(project)
            users = ["an earlier run wrote its parallel class"] if holder.ref in earlier else []
        for effect in dict.fromkeys(e for ref in family for e in effects[ref]):
            key = (*effect, holder.ref)
            if key not in reasons:
                path, line, what = effect
                reasons[key] = AM253.reason(
                    f"{path}:{line}: {what} would run again for the parallel async classes of the hierarchy of "
                    f"{holder.name(project)}, which code that stays synchronous uses"
                    f"{f' ({first_few(users, counted=True)})' if users else ''}: what it registers may then "
                    "hand that code a copy, whose methods are coroutine functions; register the classes other "
                    "than on definition, or migrate the hierarchy by hand"
                )
            reason = reasons[key]
            for route, reached in closure.reaches.items():
                if fid in reached and reason not in forced.get(route, ()) and reason not in found.get(route, ()):
                    found.setdefault(route, []).append(reason)
    return found


def _holder_member(project: Project, fid: FunctionId, excluded: set[str] | frozenset[str] = frozenset()) -> bool:
    """A method that moves with its class holding the Session, or the class's `__init__`
    (not of the `excluded` classes)."""
    holder = holders.holder_of(project, fid)
    return holder is not None and holder.ref not in excluded and (fid in holder.methods or fid == holder.init)


def _parallel_method(project: Project, fid: FunctionId, parallel: set[str] | frozenset[str]) -> bool:
    """A method of a class getting a parallel async class that does not read the held Session
    itself: it is written in the copy, under its own name, like the methods that do."""
    holder = holders.holder_of(project, fid)
    return holder is not None and holder.ref in parallel and project.functions[fid][1].name != "__init__"


def _builds_holder(project: Project, fid: FunctionId, parallel: set[str]) -> bool:
    """A function constructing a class that holds the Session and moves in place (`return Repo(db)`)."""
    built = [
        holder for e in project.all_calls_from[fid]
        if project.functions[e.callee][1].name == "__init__" and (holder := holders.holder_of(project, e.callee))
        and e.callee == holder.init
    ]
    return bool(built) and all(holder.ref not in parallel for holder in built)


def _builds_parallel_alone(project: Project, fid: FunctionId, migrated: set[FunctionId]) -> bool:
    """A dependency building a service around a class holding the Session, one it builds
    (`UserService(UserRepo(db))`) or is given by a dependency (`ProjectService(repo)` with
    `repo: ProjectRepo = Depends(get_repo)`), that only migrating routes inject and no code calls:
    it moves in place, building the service around the parallel async class. A twin would leave
    the synchronous original building the service, which moves in place with the routes and
    awaits the repository, around the class's synchronous original. A dependency returning the
    holding class itself (`return UserRepo(db)`) keeps its twin: its original still works."""
    if project.all_calls_to[fid]:
        return False
    classes = project.flow.classes
    inits = [e.callee for e in project.all_calls_from[fid] if project.functions[e.callee][1].name == "__init__"]
    held = [
        f for f in inits if (holder := holders.holder_of(project, f)) is not None and f == holder.init
        and holder.attributes
    ]
    # A service composing the holding classes (`ItemService(repo)`) holds no Session attribute itself.
    services = [f for f in inits if (holder := holders.holder_of(project, f)) is None or not holder.attributes]
    found = holders.holder_classes(project)
    _, function = project.functions[fid]
    given = any(classes.resolve(r) in found for p in function.params if p.depends for r in p.annotation)
    if not services or not (held or given):
        return False
    names = {_name(project, r) for r in migrated}
    users = dependency_users(project, fid)
    return bool(users) and all(u in names or _injected_by_routes(project, u, sorted(migrated)) for u in users)


def _parallel_classes(
    project: Project, closure: Closure, members: set[FunctionId], read: Callable[[str], str] | None
) -> None:
    """Name the parallel async classes (`ProjectRepoAsync`, free in the class's module and in
    every module importing the class) and record their methods' decisions."""
    taken: dict[str, set[str]] = {}
    # Every class of a family gets its parallel class, the subclasses' based on the base's.
    family = sorted({
        ref for fid in members if (holder := holders.holder_of(project, fid)) is not None
        for ref in holder.family or (holder.ref,)
    }, key=lambda ref: (len(project.flow.classes.mro(ref)), ref))
    used = _used_classes(project, closure, members, set(family))
    for fid in sorted(members):
        holder = holders.holder_of(project, fid)
        if holder is not None and holder.ref in family and holder.ref not in used:
            # A class of the family the migrating code never names: no copy, its methods stay.
            members.discard(fid)
            closure.helpers.pop(fid, None)
    for ref in family:
        if ref in closure.parallel_classes or ref not in used:
            continue
        module, found = project.flow.classes.by_ref[ref]
        homes = {module.name} | {
            other.name for other in project.modules.values()
            if any(project.flow.classes.resolve(imported) == ref for imported in other.imports.values())
        }
        for home in homes:
            if home not in taken:
                taken[home] = twins_module.module_names(project.modules[home])
        base = found.name + twin_names.PARALLEL_SUFFIX
        lacking = _existing_parallel(project, ref, base, members)
        if lacking is not None:
            # An earlier run (another subsystem's) added it: the migrated code uses it, with the
            # methods written in the class since then added to it.
            closure.parallel_classes[ref] = base
            closure.existing_parallel.add(ref)
            if lacking:
                closure.parallel_additions[ref] = lacking
            continue
        in_use = [taken[home] for home in homes]
        # noqa: B023 below: free_class calls the lambda right here, within this iteration
        new = twin_names.free_class(found.name, lambda name: any(name in names for names in in_use))  # noqa: B023
        for home in homes:
            taken[home].add(new)
        closure.parallel_classes[ref] = new
    for fid in sorted(members):
        holder = holders.holder_of(project, fid)
        if holder is None:
            continue
        new = closure.parallel_classes[holder.ref]
        cls = holder.name(project)
        users = _synchronous_users(project, closure, holder)
        # The class moves with its hierarchy: code that stays synchronous may use another class of it.
        family_users = [] if users else [
            u for ref in holder.family if ref != holder.ref and (other := holders.holder_classes(project).get(ref))
            for u in _synchronous_users(project, closure, other)
        ]
        # No synchronous user found: the class is shared because its moving methods' names are
        # used where the tool cannot tell which method runs (`client.post(...)` for a method `post`).
        named = [] if users or family_users else holders.value_uses(project, holder, read)
        family_users = list(dict.fromkeys(family_users))
        why = (
            f"is also used by code that stays synchronous ({', '.join(users[:4])}{', ...' if len(users) > 4 else ''})"
            if users else
            f"moves with its class hierarchy, which code that stays synchronous also uses ("
            f"{', '.join(family_users[:4])}{', ...' if len(family_users) > 4 else ''})"
            if family_users else
            f"its methods are named where the tool cannot tell which method runs ({', '.join(named[:3])}"
            f"{', ...' if len(named) > 3 else ''}), so code that stays synchronous may call them"
            if named else "is also used by code that stays synchronous"
        )
        # An interface of the hierarchy (`AbstractRepository`) holds nothing: it declares the methods.
        holds = "holds the Session" if holder.init is not None else "declares the methods of classes holding the Session"
        kept_out = [
            left_out.describe(project, m, closure.left_out[m]) for m in sorted(closure.left_out)
            if project.flow.classes.owner(m) == holder.ref
        ]
        if kept_out and not (users or family_users or named):
            why = f"{first_few(kept_out)} cannot move with it"
        left = (
            f", without {first_few(kept_out)}, which cannot move"
            if kept_out else ""
        )
        # An earlier run (another subsystem's) added the class: its method is reused, unless it was
        # written in the original since then and is added to the copy now.
        reused = holder.ref in closure.existing_parallel and fid not in closure.parallel_additions.get(holder.ref, ())
        made = f"added by an earlier run after {cls}" if holder.ref in closure.existing_parallel else f"added after {cls}"
        decision = HelperDecision(fid, "twin", [AM255.reason(
            f"{cls} {holds} and {why}: the migrated code uses the parallel class {new} ({made}, "
            f"with async methods{left}); {cls} stays as it is"
        )])
        decision.twin = project.functions[fid][1].name
        decision.existing = reused
        closure.helpers[fid] = decision


def _used_classes(project: Project, closure: Closure, members: set[FunctionId], family: set[str]) -> set[str]:
    """The classes of `family` the migrating code names or runs methods of (built, injected,
    annotated, called), with their project bases: those get a parallel class. Methods of a
    used class count too, as its copy carries them."""
    classes = project.flow.classes
    owned = {fid: owner for fid in members if (owner := classes.owner(fid)) in family}
    sources = set(closure.migrated_routes) | {f for f in members if f not in owned}
    # A class moving in place that builds the family's class (`OrderService.__init__` building
    # `ItemService(db)`) names it for the migrating code.
    sources |= {f for f, d in closure.helpers.items() if d.action in ("migrate", "twin") and f not in owned}
    sources |= {d for chain in closure.dependency_twins.values() for d in chain} | closure.in_place_dependencies
    used: set[str] = set()
    seen: set[FunctionId] = set()
    while sources:
        fid = sources.pop()
        if fid in seen or fid not in project.functions:
            continue
        seen.add(fid)
        _, function = project.functions[fid]
        refs = [r for p in function.params for r in (*p.annotation, p.depends) if r] + list(function.returns)
        refs += [c.callee for c in function.calls if c.callee]
        # `UserService.from_session(db)`: a classmethod a base defines, called on the class
        refs += [c.callee.rpartition(".")[0] for c in function.calls if c.callee and "." in c.callee]
        named = {found for r in refs if (found := classes.resolve(r)) in family}
        named |= {owner for e in project.all_calls_from[fid] if (owner := classes.owner(e.callee)) in family}
        for ref in named - used:
            for ancestor in classes.mro(ref):
                if session_generic_base(project, classes, ancestor, set(owned)):
                    continue  # `Repository[AsyncSession]` serves the copy: no `RepositoryAsync`
                if ancestor in family and ancestor not in used:
                    used.add(ancestor)
                    sources |= {f for f, owner in owned.items() if owner == ancestor}
    return used


def _copied_earlier(project: Project) -> set[str]:
    """Classes holding the Session whose parallel async class an earlier run added (and their
    family): shared, whoever uses them now, so the migrated code uses that copy. Moved in place
    (a class dependency only this subsystem injects, AM252), the class would stand beside its
    copy as a second async one."""
    found: set[str] = set()
    for ref, holder in holders.holder_classes(project).items():
        _, written = project.flow.classes.by_ref[ref]
        members = set(holder.methods) | ({holder.init} if holder.init is not None else set())
        if _existing_parallel(project, ref, written.name + twin_names.PARALLEL_SUFFIX, members) is not None:
            found.update(holder.family or (ref,))
    return found


def _existing_parallel(project: Project, ref: str, name: str, members: set[FunctionId]) -> set[FunctionId] | None:
    """Whether the class `name` beside the class `ref` is already its parallel async class: each
    method that moves and is there is an `async def` with the same parameters, and `__init__`
    is there. The methods that move and are not there (written in the class after the run that
    made the copy), which are added to it; None when it is no such copy."""
    classes = project.flow.classes
    module, found = classes.by_ref[ref]
    owner = found.qualname.rpartition(".")[0]
    qualname = f"{owner}.{name}" if owner else name
    copy = classes.by_ref.get(f"{module.name}.{qualname}")
    # Only a copy below the class: the methods added to it are read from the class above.
    if copy is None or copy[1].line < found.line:
        return None
    lacking = set()
    for fid in members:
        if classes.owner(fid) != ref:
            continue
        function = project.functions[fid][1]
        # a unit of work's `__enter__` is the copy's `__aenter__`
        twin = module.function(f"{qualname}.{unit_of_work_module.ASYNC_NAMES.get(function.name, function.name)}")
        if twin is None and function.name != "__init__":
            lacking.add(fid)
            continue
        if twin is None or [(p.name, p.positional, p.variadic) for p in twin.params] != [
            (p.name, p.positional, p.variadic) for p in function.params
        ]:
            return None
        if function.name != "__init__" and not twin.is_async:
            return None
    return lacking


def _synchronous_users(project: Project, closure: Closure, holder: holders.HolderClass) -> list[str]:
    """Where code that stays synchronous builds, injects or calls a class with a parallel async class."""
    moved = closure.migrated_routes | {f for f, d in closure.helpers.items() if d.action == "migrate"}
    found = [
        f"{place} ({_name(project, user)} injects it)"
        for user, place in holders.class_dependency_users(project, holder) if user not in moved
    ]
    moving = sorted({*holder.methods, *holders.family_inits(project, holder)})
    # The family's methods are shared: a call is this class's use when it runs a method of the
    # class (or of a subclass), or when the caller names the class (`UserRepo(db).get(...)`
    # runs the base's `get`, and is UserRepo's use, not its sibling's).
    classes = project.flow.classes
    scope = {holder.ref, *classes.subclasses(holder.ref)}
    found += [
        f"{_where(project, e.caller, e.call.line)} ({_name(project, e.caller)})"
        for m in moving for e in project.all_calls_to[m]
        if e.caller not in moved and not _same_family(project, e.caller, holder)
        and (classes.owner(m) in scope or _names_class(project, e.caller, scope))
    ]
    return list(dict.fromkeys(found))


def _names_class(project: Project, fid: FunctionId, scope: set[str]) -> bool:
    """Whether the function names one of the classes (annotations, calls, Depends)."""
    classes = project.flow.classes
    _, function = project.functions[fid]
    refs = [r for p in function.params for r in (*p.annotation, p.depends) if r] + list(function.returns)
    refs += [c.callee for c in function.calls if c.callee]
    return any(classes.resolve(r) in scope for r in refs)


def _same_family(project: Project, fid: FunctionId, holder: holders.HolderClass) -> bool:
    other = holders.holder_of(project, fid)
    return other is not None and other.ref in (holder.family or (holder.ref,))


def dependency_users(project: Project, dependency: FunctionId) -> list[str]:
    """Where a dependency is injected: `module.qualname` of each function with a parameter
    `Depends()` on it (directly or through an `Annotated` alias), or `path:line` for a
    decorator's or module-level `Depends()` the tool does not attribute to a function."""
    cached = cast("dict[FunctionId, list[str]] | None", project.derived.get("phase2.dependency_users"))
    if cached is None:
        cached = {}
        for fid, (module, function) in project.functions.items():
            for param in function.params:
                target = dependencies.dependency_function(project, project.param_dependency(param))
                if target is not None:
                    cached.setdefault(target, []).append(_name(project, fid))
            for decorator in function.decorators:
                for ref in decorator.depends:
                    target = dependencies.dependency_function(project, ref)
                    if target is not None:
                        cached.setdefault(target, []).append(f"{module.path}:{decorator.line}")
        for _, place, refs in dependencies.registered_depends(project):
            for ref in refs:
                target = dependencies.dependency_function(project, ref)
                if target is not None:
                    cached.setdefault(target, []).append(place)
        for fid in dependencies.unattributed_session_dependencies(project):
            cached.setdefault(fid, []).append("a dependency list the tool cannot attribute")
        project.derived["phase2.dependency_users"] = cached
    return cached.get(dependency, [])


def _injected_by_routes(project: Project, name: str, active: list[FunctionId]) -> bool:
    """Whether `module.qualname` names the `__init__` of a class dependency that only the
    migrating routes inject: it moves in place with them, so what it depends on may too."""
    by_name = cast("dict[str, FunctionId] | None", project.derived.get("phase2.functions_by_name"))
    if by_name is None:
        by_name = {_name(project, fid): fid for fid in project.functions}
        project.derived["phase2.functions_by_name"] = by_name
    fid = by_name.get(name)
    if fid is None or not dependencies.injected_class(project, fid):
        return False
    sites = dependencies.injection_sites(project, {fid})
    return bool(sites) and all(user in active for user, _ in sites)


def _injected_class_reasons(
    project: Project, chain: Iterable[FunctionId], active: list[FunctionId]
) -> list[Reason]:
    """An injected class (`Depends(Checker)`) whose `__init__` would point at async twins, also
    injected where the code stays synchronous: those users would share nothing with their
    route's Session any more."""
    reasons = []
    for fid in chain:
        if not dependencies.injected_class(project, fid):
            continue
        outside = [place for user, place in dependencies.injection_sites(project, {fid}) if user not in active]
        if outside:
            module, function = project.functions[fid]
            cls = function.qualname.rpartition(".")[0]
            reasons.append(AM219.reason(
                f"{module.path}:{function.line}: the class dependency {module.name}.{cls} receives a dependency "
                f"sharing the Session in its `__init__`, and is also injected where the code stays synchronous "
                f"({', '.join(outside[:4])}{', ...' if len(outside) > 4 else ''}): its `__init__` cannot point at "
                "the async twins for the migrated routes alone"
            ))
    return reasons


def _callable_dependency_reasons(
    project: Project, chain: Iterable[FunctionId], active: list[FunctionId]
) -> list[Reason]:
    """A callable instance dependency (AM267) also run where the code stays synchronous: an
    `async def __call__` would serve those routes on the AsyncSession too (AM268)."""
    reasons = []
    for fid in chain:
        if not dependencies.callable_dependency(project, fid) or dependencies.instance_callers(project, fid):
            continue
        outside = sorted({place for user, place in dependencies.callable_dependency_users(project, fid)
                          if user not in active})
        if outside:
            module, function = project.functions[fid]
            reasons.append(AM268.reason(
                f"{module.path}:{function.line}: FastAPI runs {module.name}.{function.qualname}, which receives "
                f"the synchronous Session, for instances also injected where the code stays synchronous "
                f"({', '.join(outside[:4])}{', ...' if len(outside) > 4 else ''}): as `async def` on the "
                "AsyncSession it would serve them too; migrate them together, or give the migrating routes an "
                "instance of a class of their own"
            ))
    return reasons


def _holder_reasons(
    project: Project,
    route: FunctionId,
    reached: set[FunctionId],
    members: set[FunctionId],
    active: list[FunctionId],
    read: Callable[[str], str] | None,
    shared: set[str] | None,
    sharing: dict[str, list[str]] | None = None,
) -> list[Reason]:
    """Why a class holding the Session that the route reaches cannot move in place with it:
    code that stays synchronous calls or builds it, or its methods are named as values. Such
    a class is added to `shared` (it gets a parallel async class), and what uses it to
    `sharing` (class -> `user at path:line`); with `shared` None (`--shared block`) it blocks the route."""
    reasons: list[Reason] = []
    routes = {_name(project, r) for r in active}
    seen: set[str] = set()
    for fid in sorted({route} | reached):
        holder = holders.holder_of(project, fid)
        if holder is None or holder.ref in seen or not _holder_member(project, fid):
            continue
        seen.add(holder.ref)
        if shared is not None and holder.ref in shared:
            continue
        before = len(reasons)
        users: list[str] = []
        cls = holder.name(project)
        # Moved in place, the class would hand its AsyncSession to the methods that stay synchronous.
        kept_out = _left_out(project)
        staying = [left_out.describe(project, m, kept_out[m]) for m in sorted(holder.methods) if m in kept_out]
        if staying:
            users.append(f"{first_few(staying)}, which cannot move with it")
            reasons.append(AM254.reason(
                f"{cls} holds the Session and {first_few(staying)} "
                "cannot move with it (see there): moved in place, the class would hand the AsyncSession to "
                f"{'that method' if len(staying) == 1 else 'those methods'}"
            ))
        # FastAPI builds a class dependency for every route injecting it: moved in place, the
        # class would hand an AsyncSession to the routes that stay synchronous.
        injected = [place for user, place in holders.class_dependency_users(project, holder) if user not in active]
        if injected:
            users += [f"`Depends({cls})` at {place}" for place in injected]
            reasons.append(AM254.reason(
                f"{', '.join(injected)}: {cls} holds the Session and is injected as a class dependency "
                f"(`Depends({cls})`) where the code stays synchronous"
            ))
        moving = sorted({*holder.methods, *holders.family_inits(project, holder)})
        outside = sorted({e.caller for m in moving for e in project.all_calls_to[m] if e.caller not in members})
        if outside:
            users += list(dict.fromkeys(
                f"{_name(project, e.caller)} at {_where(project, e.caller, e.call.line)}"
                for m in moving for e in project.all_calls_to[m] if e.caller in outside
            ))
            reasons.append(AM254.reason(
                f"{_where(project, fid, project.functions[fid][1].line)}: {cls} holds the Session and would move in "
                f"place, but {', '.join(_name(project, c) for c in outside)} also use it and stay synchronous"
            ))
        uses = holders.value_uses(project, holder, read)
        if uses:
            users.append(f"its methods named where the tool cannot see how they are called: {first_few(uses)}")
            reasons.append(AM254.reason(
                f"{cls} holds the Session and its moving methods are named where the tool cannot see how they "
                f"are called ({first_few(uses)})"
            ))
        for edge in holders.constructions(project, holder):
            builder = edge.caller
            if builder not in members or builder in active:
                continue
            if not project.is_dependency(builder):
                continue
            others = [
                u for u in dependency_users(project, builder)
                if u not in routes and not _injected_by_routes(project, u, active)
            ]
            if others or project.all_calls_to[builder]:
                others += [_name(project, e.caller) for e in project.all_calls_to[builder]]
                users.append(f"{_name(project, builder)}, a dependency building it, used by {', '.join(sorted(set(others)))}")
                reasons.append(AM254.reason(
                    f"{_where(project, builder, project.functions[builder][1].line)}: {cls} holds the Session and "
                    f"is built by the dependency {_name(project, builder)}, which {', '.join(sorted(set(others)))} "
                    "also use and which stay synchronous"
                ))
        if shared is not None and len(reasons) > before:
            shared.update(holder.family or (holder.ref,))
            if sharing is not None:
                for ref in holder.family or (holder.ref,):
                    sharing.setdefault(ref, []).extend(u for u in users if u not in sharing.get(ref, ()))
            del reasons[before:]
    return reasons


def _router_stays(
    project: Project,
    router: str,
    sharing: list[dependencies.SharedSession],
    route: FunctionId,
    active: list[FunctionId],
    blocked: dict[FunctionId, list[Reason]],
) -> list[Reason]:
    """A router's dependency moves to its async twin for every route the router serves: the
    route is blocked while another of them keeps a synchronous Session (`_sharers_staying`)."""
    staying = _sharers_staying(project, dependencies.routes_on(project, router), route, active, router)
    if not staying:
        return []
    named = _staying_text(project, staying, blocked, "migrate them together")
    target = project.resolve(router)
    written = (
        f" ({target.module.path}:{target.value.line})"
        if target is not None and target.module is not None and target.value is not None else ""
    )
    return [
        AM219.reason(
            f"{_shared_at(project, found)} (it is a dependency of the router `{router}`{written}, whose list phase "
            f"two points at the async twin for every route the router serves, and {named})"
        )
        for found in sharing
    ]


def _include_stays(
    project: Project,
    include: dependencies.GuardedInclude,
    sharing: list[dependencies.SharedSession],
    route: FunctionId,
    active: list[FunctionId],
    blocked: dict[FunctionId, list[Reason]],
) -> list[Reason]:
    """An include's list moves to the async twins for every route the include serves, in the
    subsystem or not: the route is blocked while another of them keeps a synchronous Session
    (`_sharers_staying`)."""
    served = [
        other for other in project.handlers
        if any(dependencies.served_under(project, other, router) for router in include.routers)
    ]
    staying = _sharers_staying(project, served, route, active, None)
    if not staying:
        return []
    named = _staying_text(
        project, staying, blocked, "migrate them together, or write the dependency where the routes name it"
    )
    return [
        AM219.reason(
            f"{_shared_at(project, found)}, and `include_router(..., dependencies=[Depends({_listed(project, found)})])` "
            f"({include.path}:{include.line}) applies it to every route of {include.shown()}; phase two points "
            f"that list at the async twin only when all of them move, and {named}"
        )
        for found in sharing
    ]


def _shared_at(project: Project, found: dependencies.SharedSession) -> str:
    """`file:line: what the dependency does with the route's Session`, leading its AM219 reason."""
    module, dependency = project.functions[found.dependency]
    return f"{module.path}:{dependency.line}: {dependencies.describe(project, found)}"


def _staying_text(project: Project, staying: list[str], blocked: dict[FunctionId, list[Reason]], advice: str) -> str:
    """`routes.b stays on the synchronous Session: migrate them together`, for the routes
    `_sharers_staying` names; a route this run considered and blocked (one of the subsystem's) is
    named with its own first reason instead: migrating together is what was tried, and that
    reason is what keeps both."""
    reasons = {_name(project, fid): found[0] for fid, found in blocked.items() if found}
    inside = [name for name in staying if name in reasons]
    outside = [name for name in staying if name not in reasons]
    parts = []
    if inside:
        own = "; ".join(f"{name}: {reasons[name].text} ({reasons[name].code})" for name in inside[:2])
        more = f"; and {len(inside) - 2} more" if len(inside) > 2 else ""
        parts.append(
            f"{first_few(inside, 4, counted=True)} {'stays' if len(inside) == 1 else 'stay'} on the synchronous "
            f"Session, blocked by {'its' if len(inside) == 1 else 'their'} own reason ({own}{more}): fix that, "
            "and both move in this run"
        )
    if outside:
        parts.append(f"{first_few(outside, 4, counted=True)} {'stays' if len(outside) == 1 else 'stay'} on the "
                     f"synchronous Session: {advice}")
    return "; and ".join(parts)


def _sharers_staying(
    project: Project, served: Iterable[Handler], route: FunctionId, active: list[FunctionId], router: str | None
) -> list[str]:
    """The routes a dependency list moving to its async twin serves (a router's, `router`, or an
    include's) that keep a synchronous Session, in the subsystem or not: with the twin's
    AsyncSession beside it, such a request would hold two. One rule for both lists: a websocket
    (never migrated); a route not migrating that does Session work, works on a Session held
    elsewhere or unverified, takes a Session parameter, or has a dependency receiving one other
    than those the router's own list gives (which the twin replaces for it too)."""
    staying = []
    for other in served:
        if other.kind not in ("route", "websocket") or other.id == route or other.id in active:
            continue
        if other.kind != "websocket" and not (
            _does_session_work(project, other.id) or _work_on_sessions_held_elsewhere(project, other.id)
            or _unverified_work(project, other.id)
            or any(project.declared_session(p) is not None for p in project.functions[other.id][1].params)
            or any(
                router is None or found.router != router
                for found in dependencies.session_dependencies_in_tree(project, other)
            )
        ):
            continue  # no Session besides the list's: the twin's AsyncSession is its request's only one
        staying.append(_name(project, other.id))
    return staying


def _listed(project: Project, found: dependencies.SharedSession) -> str:
    """The name a list gives the dependency at the top of a chain (`get_current_user`)."""
    return project.functions[found.chain[0]][1].qualname.removesuffix(".__init__")


def _routes_in(project: Project, modules: set[str]) -> list[Handler]:
    """The routes and websockets of these modules, in the project's order. Indexed by module
    once per project: scan computes a closure for every router module."""
    index = cast("dict[str, list[tuple[int, Handler]]] | None", project.derived.get("phase2.routes_by_module"))
    if index is None:
        index = {}
        for position, handler in enumerate(project.handlers):
            if handler.kind in ("route", "websocket"):
                index.setdefault(handler.module.path, []).append((position, handler))
        project.derived["phase2.routes_by_module"] = index
    found = [pair for path in modules for pair in index.get(path, ())]
    return [handler for _, handler in sorted(found, key=lambda pair: pair[0])]


def _reach(project: Project, start: Iterable[FunctionId], whole_holders: bool = True) -> set[FunctionId]:
    """Functions reachable through calls that carry the Session or lead to an opened one (with
    `whole_holders`, every method of a class holding the Session the calls reach, and its
    `__init__`: the class moves as a whole).

    Kept per project and start (the fixpoint asks for each route's reach again on every round):
    the set returned is shared, read it and never change it."""
    key = (tuple(start), whole_holders)
    kept = cast("dict[tuple[tuple[FunctionId, ...], bool], set[FunctionId]]",
                project.derived.setdefault("phase2.reach", {}))
    found = kept.get(key)
    if found is None:
        found = kept[key] = _find_reach(project, key[0], whole_holders)
    return found


def _find_reach(project: Project, start: Iterable[FunctionId], whole_holders: bool) -> set[FunctionId]:
    seen: set[FunctionId] = set()
    stack = list(start)
    kept = cast("dict[tuple[FunctionId, bool], tuple[FunctionId, ...]]",
                project.derived.setdefault("phase2.reach_next", {}))
    while stack:
        fid = stack.pop()
        if fid in seen:
            continue
        seen.add(fid)
        following = kept.get((fid, whole_holders))
        if following is None:
            # Kept per function: the reaches of a project's routes share their helpers.
            following = kept[(fid, whole_holders)] = tuple(_reach_next(project, fid, whole_holders))
        stack.extend(following)
    return seen


def _reach_next(project: Project, fid: FunctionId, whole_holders: bool) -> list[FunctionId]:
    """The functions `_find_reach` goes on to from `fid`."""
    # Async helpers belong here too: `async def store(db: Session)` awaited by a
    # migrated route would otherwise keep `db.commit()` un-awaited on an AsyncSession.
    found = [edge.callee for edge in methods.session_edges(project, fid)]
    # A class holding the Session moves as a whole: its attribute holds one kind of Session.
    holder = holders.holder_of(project, fid) if whole_holders else None
    # `crud.get(svc.db, 1)` from outside the class: the class moves too, or `svc.db` would
    # stay the synchronous Session handed to a helper that now awaits.
    for edge in project.all_calls_from.get(fid, ()) if holder is None and whole_holders else ():
        through = holders.held_through_instance(project, fid, edge.call.args)
        if through is not None and through.init is not None:
            found.append(through.init)
    if holder is not None:
        # A method that cannot move is left out of the class's async copy: reached only by a call.
        kept_out = _left_out(project)
        found.extend(m for m in holder.methods if m not in kept_out)
        if holder.init is not None:
            found.append(holder.init)
    return found


def _left_out(
    project: Project, read: Callable[[str], str] | None = None, expiry: expired_reads.Expiry | None = None
) -> dict[FunctionId, FunctionId]:
    """Methods left out of their class's async copy, each -> the method whose blocker is why."""
    return left_out.left_out(project, lambda fid: _blocked_alone(project, fid, expiry), read)


def _blocked_alone(project: Project, fid: FunctionId, expiry: expired_reads.Expiry | None = None) -> bool:
    """Whether a method cannot move for a blocker of its own, or of a helper it reaches through
    its calls (`bus.publish("placed", self.db, order)`, a bus calling handlers the analysis cannot
    tell): not one of its whole class. With `expiry`, a read after a commit on the held Session
    that phase two cannot refresh (`expired_held`) is one of its own too."""
    reached = _reach(project, [fid], whole_holders=False)
    if any(not b.whole_class for helper in reached for b in _own_blockers(project, helper)):
        return True
    if expiry is None or expiry.models is None:
        return False
    found = expired_reads.Analysis()
    for helper in reached:
        expired_held.analyse(project, helper, expiry, found)
    return bool(found.blocks)


def _does_session_work(project: Project, fid: FunctionId) -> bool:
    _, function = project.functions[fid]
    if any(function.name_uses.get(name) for name in project.session_params[fid]):
        return True
    return (
        bool(project.opens_directly(fid) or project.opens_session(fid)) or methods.object_work(project, fid)
        or _hands_injected_holder(project, fid)
    )


def _awaited_in_generator(project: Project, call: facts.Call, edge: Edge | None) -> str | None:
    """AM212 for a call the rewrite awaits because its callee moves to `async def` (a repository's
    or service's method, a CRUD instance's, a helper handed what holds the Session), standing
    where an `await` turns the generator expression into an async generator: its element, its
    conditions, or an iterable after the first (only the first runs in the enclosing function)."""
    if edge is None or not call.in_generator or call.nested:
        return None
    _, callee = project.functions[edge.callee]
    if callee.is_async or callee.name == "__init__" or session_work.builds_only(project, edge.callee) or (
        session_work.no_io_only(project, edge.callee)
    ):
        return None  # a construction (or `db.add()` alone) is never awaited; a coroutine called bare is the code's own
    if edge.callee not in project.work_chains and not _does_session_work(project, edge.callee):
        return None
    written = f"`{project.written(call.func)}()`" if call.func else f"`{_short_callee(call)}()`"
    module, _ = project.functions[edge.callee]
    return (
        f"{written} calls {module.name}.{callee.qualname}, which moves to `async def` and needs `await` here, "
        "inside a generator expression: the `await` would make it an async generator, which `any()`, `sum()`, "
        "`list()` and their kind cannot iterate; use a list comprehension (inside `any()`/`all()` it makes "
        "the call for every item, not only up to the first that decides)"
    )


def _hands_injected_holder(project: Project, fid: FunctionId) -> bool:
    """`services.add_item(name, uow)` in a route, `uow` a parameter a dependency fills with an
    instance of a class holding the request's Session that can move (`get_uow(db) ->
    UnitOfWork(db)`): Session work, through the dependency that moves with the route."""
    _, function = project.functions[fid]
    params = {p.name for p in function.params}
    table = holders.holder_classes(project)
    for edge in project.all_calls_from[fid]:
        if edge.via is not None or edge.callee not in project.work_chains:
            continue
        for arg in edge.call.args:
            if arg.name in params and arg.expr is None:
                values = project.flow.evaluate(fid, f"${arg.name}")
            elif arg.name is None and arg.ref is None and not (arg.expr or "").startswith("$"):
                # `add_item(name, SqlAlchemyUnitOfWork())`: one opening its own Session on entry
                values = frozenset(
                    v for v in argument_values(project, project.flow, fid, edge.call, arg)
                    if v.kind == INSTANCE and (h := table.get(str(v.target))) is not None and h.opened is not None
                )
            elif arg.name is not None and arg.expr is None and unit_of_work_module.handed_fresh(project, fid, arg.name):
                # `uow = SqlAlchemyUnitOfWork()` then `allocate(cmd, uow)`: the same hand-off, named
                values = frozenset(
                    v for v in project.flow.evaluate(fid, f"${arg.name}")
                    if v.kind == INSTANCE and (h := table.get(str(v.target))) is not None and h.opened is not None
                )
            else:
                continue
            for value in values:
                holder = table.get(str(value.target)) if value.kind == INSTANCE else None
                if holder is not None and holder.init is not None and not holder.problems:
                    return True
    return False


def value_references(project: Project) -> dict[FunctionId, list[str]]:
    """Project functions named as values somewhere (not called): function -> modules naming them
    (as said in reasons).
    A lookup by name on a project module (`getattr(crud, name)`, `vars(crud)[name]`,
    `globals()[name]`...) names each function it holds: which one runs is decided at run time
    (a task dispatching by name), so any may keep a synchronous caller."""
    cached = project.derived.get("phase2.value_references")
    if cached is None:
        found: dict[FunctionId, list[str]] = {}

        def add(target: tuple[facts.Module, facts.Function], user: str) -> None:
            users = found.setdefault((target[0].name, target[1].key), [])
            if user not in users:
                users.append(user)

        for module in project.modules.values():
            for ref in module.references:
                target = project.function(ref)
                if target is not None:
                    add(target, module.name)
            for looked_up, spelled in module.by_name:
                for target in module_functions(project, looked_up) or ():
                    add(target, f"{module.name} (by name: `{spelled}`)")
        cached = project.derived["phase2.value_references"] = found
    return cached  # type: ignore[return-value]


def module_level_callers(project: Project) -> dict[FunctionId, list[str]]:
    """Project functions called by code outside any function (a script's statements, an
    `if __name__ == "__main__":` block, a module-level lambda), methods through a module-level
    instance among them (`crud.item.add(s, ...)`): function -> where (`path:line`).
    The call graph holds calls made by functions only; such code runs synchronously, and a helper
    it calls moved in place would hand it a coroutine nobody awaits (the data never written)."""
    cached = project.derived.get("phase2.module_level_callers")
    if cached is None:
        found: dict[FunctionId, list[str]] = {}
        for module in project.modules.values():
            for ref, line, _ in module.called:
                where = f"{module.path}:{line}"
                for target in project.flow.called_functions(ref):
                    users = found.setdefault(target, [])
                    if where not in users:
                        users.append(where)
        cached = project.derived["phase2.module_level_callers"] = found
    return cached  # type: ignore[return-value]


def _outside_callers(project: Project, fid: FunctionId, members: set[FunctionId]) -> list[FunctionId]:
    return sorted({edge.caller for edge in project.all_calls_to[fid] if edge.caller not in members})


def _work_on_sessions_held_elsewhere(project: Project, route: FunctionId) -> list[Reason]:
    """A route without a Session of its own whose code, or a helper it calls, works on a Session
    phase two does not replace (a module-level `scoped_session`, a `@contextmanager` opener): it
    does Session work, so it is blocked naming that Session, never "does no Session work"."""
    found: list[str] = []
    # One reason per holder of the Session (a unit of work opening its own, say), naming every
    # place the route's code uses it: the same advice once per method reached said nothing more.
    units: dict[str, tuple[int, list[str]]] = {}
    order = [(route, [route])]
    seen = {route}
    for fid, path in order:
        uses = methods.held_elsewhere(project, fid)
        if uses:
            line, what = uses[0]
            via = "" if fid == route else "calls " + " -> ".join(_name(project, f) for f in path[1:]) + ", which "
            more = f" (and {len(uses) - 1} more)" if len(uses) > 1 else ""
            unit = unit_of_work(project, fid, line, route)
            if unit is None:
                held = _held_by(project, fid, line)
                unit = held, (
                    f"{held}: phase two moves only a Session the route receives (a dependency); pass the "
                    "route's Session down instead, or keep the route as it is"
                )
            if unit[0] in units:
                units[unit[0]][1].append(_where(project, fid, line))
            else:
                units[unit[0]] = (len(found), [])
                found.append(f"{_where(project, fid, line)}: {via}does Session work on `{what}`{more}, {unit[1]}")
        if len(path) > 8:
            continue
        for edge in project.all_calls_from.get(fid, ()):
            if edge.callee not in seen and not edge.call.offloaded:
                seen.add(edge.callee)
                order.append((edge.callee, [*path, edge.callee]))
    for index, also in units.values():
        if also:
            found[index] += f"; the same at {', '.join(dict.fromkeys(also))}"
    return [AM241.reason(text) for text in dict.fromkeys(found)]


def _async_session_dependency(project: Project, handler: Handler) -> str | None:
    """The dependency in a route's tree that receives an AsyncSession (`repo: ItemRepoAsync =
    Depends(get_repo_async)` after an earlier run), by name; None when there is none."""
    return next(
        (_name(project, fid) for fid in dependencies.dependency_tree(project, handler)
         if project.declared_async_session_params(fid)),
        None,
    )


def _opens_async_session(project: Project, fid: FunctionId, depth: int = 0) -> str | None:
    """Where a route doing no synchronous Session work opens an AsyncSession of its own: `async
    with AsyncSessionLocal() as db:`, or through what it enters or calls (`async with UnitOfWork()
    as uow:` whose `__aenter__` sets `self.session = AsyncSessionLocal()`), as a clause; None when
    it opens none."""
    module, function = project.functions[fid]
    for binding in function.bindings:
        if binding.asynchronous and project._opened_async(function, binding.name):
            return f"`async with {binding.expr.rpartition('.')[2]} as {binding.name}` at {module.path}:{binding.line}"
    for call in function.calls:
        opener = call.callee or ""
        target = project.resolve(opener) if opener else None
        value = target.value if target is not None and target.kind == "value" else None
        if project.is_async_session_type(opener) or (value is not None and project.makes_async_sessions(value)):
            return f"`{opener.rpartition('.')[2]}()` at {module.path}:{call.line}"
    if depth < 2:
        for edge in project.all_calls_from.get(fid, ()):
            inner = _opens_async_session(project, edge.callee, depth + 1)
            if inner is not None:
                return f"{inner}, in {_name(project, edge.callee)}" if depth == 0 else inner
    return None


# Calls that take an object without running its methods (beyond `__repr__`), for `_hands_holder`.
_READS_ONLY = frozenset({"isinstance", "issubclass", "id", "type", "repr", "str", "print", "hasattr", "callable"})
_LOGGERS = frozenset({"logger", "log", "logging", "LOGGER", "_logger", "_log"})
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _holder_construction(
    project: Project, call: facts.Call, names: set[str], callees: dict[int, Edge]
) -> bool:
    """Whether `call` builds an instance of a class that keeps the Session it is given
    (`UnitOfWork(db)`, `Repo(session=db)`), given this function's Session."""
    edge = callees.get(call.index)
    if edge is None or not any(a.name in names for a in call.args):
        return False
    holder = holders.holder_of(project, edge.callee)
    return holder is not None and holder.init == edge.callee


def _holder_names(
    project: Project, fid: FunctionId, function: facts.Function, names: set[str], callees: dict[int, Edge]
) -> set[str]:
    """Parameters and local names holding an instance of a class that keeps the Session it is
    given (`uow = UnitOfWork(db)`, a class dependency `uow: UnitOfWork = Depends()`, a service's
    `uow` parameter): migrated, each holds the AsyncSession, so handed to code the analysis does
    not follow they carry it there."""
    classes = holders.holder_classes(project)
    if not classes:
        return set()
    found = set()
    candidates = [b.name for b in function.bindings if not b.entered] + [p.name for p in function.params]
    for name in dict.fromkeys(candidates):
        if name in names or name in ("self", "cls"):
            continue
        values = project.flow.evaluate(fid, f"${name}")
        if any(v.kind == INSTANCE and (h := classes.get(str(v.target))) is not None and h.init for v in values):
            found.add(name)
    return found


def _hands_holder(
    project: Project,
    fid: FunctionId,
    call: facts.Call,
    function: facts.Function,
    names: set[str],
    callees: dict[int, Edge],
    kept: set[str],
) -> str | None:
    """The argument of `call`, as written, that is an instance keeping this function's Session:
    built right in the call (`add_task(f, UnitOfWork(db))`, also in a display it is given:
    `Thread(target=f, args=(sku, UnitOfWork(db)))`) or a local name bound to one (`add_task(f,
    uow)`); None when there is none."""
    if project.canonical(call.callee) in _READS_ONLY or (call.receiver in _LOGGERS and call.method in _LOG_METHODS):
        return None  # `isinstance(uow, X)`, `logger.info("%s", uow)`: nothing runs its methods
    for arg in call.args:
        if arg.name is not None and arg.name in kept:
            return f"`{arg.name}`"
    # The function a thread runs (`run_in_executor(None, f, x, Repo(db))`, `partial(f, Repo(db))`)
    # is a call of its own: what is built in the call handing it to the thread is its argument.
    wrappers = {
        other.index for other in function.calls
        if call.offloaded and other is not call and any(a.ref is not None and a.ref == call.callee for a in other.args)
    }
    for nested in function.calls:
        handed = nested.argument_of == call.index or nested.displayed_in == call.index or nested.argument_of in wrappers
        if handed and _holder_construction(project, nested, names, callees):
            return f"`{project.written(nested.callee or '')}(...)`"
    return None


def _held_session(project: Project, fid: FunctionId, arg: facts.Arg) -> bool:
    """An argument that is an attribute path on a local name holding the Session (`self.db` in a
    class-based view, `repo.session`), handed on as a bare name is."""
    expression = arg.expr
    return (
        arg.name is None and expression is not None and expression.startswith("$") and "." in expression
        and not expression.endswith("()") and project.flow.holds(fid, expression) is not None
    )


def _offload_text(project: Project, call: facts.Call, wrapper: facts.Call | None, callee: FunctionId | None) -> str:
    """AM224's reason for a call run in a worker thread that phase two cannot write as `await call`:
    what runs it there, and why dropping that leaves no equivalent call."""
    if callee is not None:
        module, function = project.functions[callee]
        what = f"`{module.name}.{function.qualname}()`, which moves to AsyncSession,"
    else:
        what = f"`{_short_callee(call)}()` on the Session,"
    offloader = f"`{_short_callee(wrapper)}()`" if wrapper is not None else "a thread"
    if call.thread_def is not None:
        where = (f"inside `{call.thread_def}`, a function defined in the route or helper and run in a worker "
                 "thread, which phase two does not rewrite")
    elif call.offloaded_by is not None and call.unwrap:
        where = f"inside a lambda handed to {offloader}, which phase two writes in place only for a project function's call"
    elif call.offloaded_by is not None:
        where = (f"inside a lambda handed to {offloader} that does more than that one call (or takes "
                 "parameters, or is given arguments, or is not awaited in place)")
    else:
        where = (f"through {offloader} not awaited in place, or given keywords of its own (`cancellable=`, "
                 "`limiter=`), which the call cannot take")
    return (f"calls {what} {where}: migrated, it returns a coroutine the thread never awaits; "
            "write `await` and the call in the function itself by hand")


def _short_callee(call: facts.Call) -> str:
    if call.receiver is not None and call.method is not None:
        return f"{call.receiver}.{call.method}"
    return (call.callee or "a call").rsplit(".", 1)[-1] if call.callee else "a call"


def _into_variadic(project: Project, call: facts.Call, edge: Edge | None, names: set[str]) -> str | None:
    """AM227: a Session argument of a project call that lands in the callee's `*args` or
    `**kwargs`, where the session flow (which follows named parameters) loses it."""
    if edge is None:
        return None
    _, callee = project.functions[edge.callee]
    star = any(p.variadic == "*" for p in callee.params)
    stars = any(p.variadic == "**" for p in callee.params)
    if not (star or stars):
        return None
    followed = set(edge.session_args.values())
    positional = [p for p in callee.params if p.positional and p.name not in ("self", "cls")]
    keywords = {p.name for p in callee.params if not p.variadic}
    for arg in call.args:
        if arg.name not in names or arg.name in followed:
            continue
        lands = (
            (star and arg.keyword is None and arg.position is not None and arg.position >= len(positional))
            or (stars and arg.keyword is not None and arg.keyword not in keywords)
        )
        if lands:
            where = "*" + next(p.name for p in callee.params if p.variadic == "*") if arg.keyword is None else (
                "**" + next(p.name for p in callee.params if p.variadic == "**"))
            return (f"passes the Session `{arg.name}` into `{where}` of `{callee.name}()`, which the analysis "
                    "does not follow: what it runs with them would receive an AsyncSession and call it "
                    "without await")
    return None


def _unverified_work(project: Project, route: FunctionId) -> list[Reason]:
    """A route whose only Session work is on values the analysis cannot type (`request.state.db`,
    a value built outside PATH): unverified, never "does no Session work"."""
    own = project.own_unverified(route)
    if own:
        line, text = own[0]
        return [AM272.reason(f"{_where(project, route, line)}: {text}")]
    chain = project.unverified_chains.get(route) or _unverified_below_coroutines(project, route)
    if chain:
        return [AM272.reason(f"{_where(project, route, project.functions[route][1].line)}: calls "
                             f"{' -> '.join(chain)}, where the analysis cannot type the Session")]
    return []


def _unverified_below_coroutines(project: Project, route: FunctionId) -> list[str]:
    """The chain from `route` to a Session-carrying call the analysis cannot type, through the
    `async def` helpers it awaits (`await asyncio.gather(by_name(q), by_sku(q))`), which
    `unverified_chains` does not cross: they run on the event loop as the route does. Empty when
    there is none."""
    order: list[tuple[FunctionId, list[FunctionId]]] = [(route, [])]
    seen = {route}
    for fid, path in order:
        if len(path) > 8:
            continue
        for edge in project.all_calls_from.get(fid, ()):
            callee = edge.callee
            if callee in seen or edge.call.offloaded:
                continue
            seen.add(callee)
            below = project.unverified_chain_of(edge)
            if below:
                return [*(project.functions[f][1].qualname for f in (*path, callee)), *below]
            order.append((callee, [*path, callee]))
    return []


def _bound_registry(project: Project, fid: FunctionId, function: facts.Function, line: int) -> str | None:
    """`s.commit()` at `line` on a local name one of whose bindings is a module-level
    `scoped_session` (`s = db if db is not None else SessionLocal`): the registry, named."""
    module = project.functions[fid][0]
    for call in function.calls:
        if call.line != line or call.func is None or not call.func.startswith("$"):
            continue
        name = call.func[1:].split(".", 1)[0]
        # `db: Session = SessionLocal`: the default a caller passing nothing gets, bound at the def
        defaults = [
            facts.Binding(name, p.default_ref, p.line) for p in function.params if p.name == name and p.default_ref
        ]
        for binding in [*function.bindings, *defaults]:
            if binding.name != name or binding.entered or binding.expr.startswith("$"):
                continue
            where = _scoped_registry(project, binding.expr)
            if where is not None:
                return (
                    f"a name that may hold the module-level `scoped_session` `{binding.expr.rsplit('.', 1)[-1]}` "
                    f"({where}), bound at {module.path}:{binding.line or line}: "
                    "the route's AsyncSession cannot replace it on one branch only"
                )
    return None


def _scoped_registry(project: Project, ref: str) -> str | None:
    """Where the module-level `scoped_session(...)` value `ref` names is assigned (`path:line`), or None."""
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.module is None:
        return None
    if target.value.kind == "call" and project.canonical(target.value.ref) in SCOPED_SESSION_MAKERS:
        return f"{target.module.path}:{target.value.line}"
    return None


_THROUGH_HELD = re.compile(r"\bself(?:\.\w+){2,}(?=\(|\W|$)")


def _held_fix(what: str) -> str:
    """The fix of an AM241 reason on the call `what`: a Session reached through an object the instance
    holds (`self.products.session`) can be held by the instance itself, which phase two moves with its
    class; any other is handed in."""
    found = _THROUGH_HELD.search(what)
    if found is not None:
        held = found.group(0)
        if what[found.end():found.end() + 1] == "(":
            held = held.rpartition(".")[0]  # `self.products.session.commit()`: the Session is the receiver
        if held.count(".") >= 2:
            return (
                "phase two moves a class holding the request's Session itself (`self.session`, stored from a "
                "parameter of its `__init__`), not one reached through another object it holds: add a Session "
                "parameter to `__init__`, keep it as `self.session`, have the dependency building the class hand it "
                f"the request's Session, and use `self.session` here in place of `{held}`"
            )
    return (
        "phase two replaces only the Session a route receives from its dependency and hands down as a parameter "
        "(or to a class it builds): hand that Session in here instead, or keep the route synchronous"
    )


def _held_by(project: Project, fid: FunctionId, line: int) -> str:
    """What holds the Session a call at `line` works on, for a reason."""
    _, function = project.functions[fid]
    for call in function.calls:
        if call.line != line or call.callee is None:
            continue
        parts = call.callee.split(".")
        for end in range(len(parts) - 1, 0, -1):
            where = _scoped_registry(project, ".".join(parts[:end]))
            if where is not None:
                return f"the module-level `scoped_session` `{parts[end - 1]}` ({where})"
    # each names its holder in words (never ""): the first that knows it says it
    return (
        _request_state_origin(project, fid, function, line)
        or _bound_registry(project, fid, function, line)
        or _process_wide_holder(project, fid, line)
        or _context_variable_origin(project, fid, function, line)
        or _context_value_origin(project, fid, function, line)
        or "a Session it does not receive as a parameter (held by an instance or a module-level global, or "
        "opened by an opener phase two does not replace)"
    )


def _context_value_origin(project: Project, fid: FunctionId, function: facts.Function, line: int) -> str | None:
    """`ctx.db.execute()`, `db, uid = task_ctx` then `db.scalar()`, `deps["db"].scalars()`: the Session a
    plain context value carries in a field (a dataclass, NamedTuple or TypedDict holding it beside the
    user), named with the class and field; None for any other holder."""
    flow = project.flow
    for call in function.calls:
        if call.line != line:
            continue
        heads = []
        if call.item is not None and call.item[0].startswith("$"):
            heads.append(split(call.item[0])[0])
        if call.func is not None and call.func.startswith("$"):
            head = split(call.func)[0]
            heads.append(head)
            heads.extend(source for source in function.unpacked.get(head[1:], ()) if source.startswith("$"))
            held = function.items.get(head[1:])
            if held is not None and held.startswith("$"):
                heads.append(held)
        for head in heads:
            values = flow.evaluate(fid, split(head)[0])
            carried = next(
                (v for v in flow.elements(values) | _fields_read(flow, values, call.func or "") if v.origin), None
            )
            if carried is not None:
                return (
                    f"the Session carried in `{carried.origin}`, a field of a context value phase two does not "
                    "retype: it moves only a Session a function receives as a parameter; hand that Session down "
                    "as one"
                )
    return None


def _fields_read(flow: Flow, values: frozenset[Abstract], func: str) -> frozenset[Abstract]:
    """`ctx.db` read on an instance of a class holding no methods of its own that do the work (a
    plain context value): the Session that field holds, named `Class.field`."""
    steps = split(func)[1]
    if not steps or not steps[0].startswith("."):
        return frozenset()
    name = steps[0][1:]
    found = set()
    for value in values:
        if value.kind != INSTANCE or not isinstance(value.target, str) or value.target not in flow.classes.by_ref:
            continue
        if flow.classes.methods.get(value.target) or name not in dict(flow.classes.fields(value.target)):
            continue
        if any(v.kind == SESSION for v in flow.attribute(value.target, name)):
            found.add(Abstract(SESSION, origin=f"{flow.classes.short(value.target)}.{name}"))
    return frozenset(found)


def _context_variable_origin(project: Project, fid: FunctionId, function: facts.Function, line: int) -> str | None:
    """`_session.get().scalars()`, or `db.session.get()` on a proxy reading it: the Session a
    `ContextVar` holds for each request, named with where it is set; None for any other holder."""
    for call in function.calls:
        expression = call.func if call.func is not None else call.callee
        if call.line != line or expression is None:
            continue
        if project.canonical(expression.rpartition(".")[0]) in REQUEST_SESSIONS or project.canonical(expression) in SCOPES:
            # what holds it, only: the reasons go on with what phase two replaces (`_held_fix`)
            return (
                "the Session fastapi-sqlalchemy's `DBSessionMiddleware` (or its `with db():`) opens (`db.session`), "
                "not one it receives as a parameter from a Session dependency"
            )
        # `current_session().scalars()`, the Session handed on inline (`count(current_session())`)
        # or bound to a name there (`s = current_session()`)
        bound = [f"${b.name}" for b in function.bindings if b.line == line]
        variable = next((
            found for receiver in (expression.rpartition(".")[0], *(a.expr for a in call.args if a.expr), *bound)
            if receiver and (found := request_context_variable(project, fid, receiver)) is not None
        ), None)
        if variable is None:
            continue
        where = sorted({
            f"{project.functions[setter][0].path}:{made.line}"
            for setter, made in project.context_variable_sets.get(variable, ())
        })
        return (
            f"the Session the context variable `{variable.rpartition('.')[2]}` holds for each request (set at "
            f"{', '.join(where)}), not one it receives as a parameter: phase two replaces only a dependency's "
            "Session; pass the route's Session down instead, or keep the route as it is"
        )
    return None


def _process_wide_holder(project: Project, fid: FunctionId, line: int) -> str | None:
    """`db.query()` on a module-level `db = SessionLocal()` (or a Session a module-level instance
    opened once): named with where it is created, and what to change. The generic wording leaves a
    reader of a single-module app guessing which `db` is meant, and the route's own `db` parameter
    elsewhere in the file is the same name."""
    module, _ = project.functions[fid]
    for use in shared_session_uses(project, fid):
        if use.path == module.path and use.line == line:
            return (
                f"{use.holder}, {use.shared}, which phase two cannot replace with a per-request AsyncSession: "
                "give the route its own Session (a parameter from the session dependency) and rerun phase two"
            )
    return None


def _request_state_origin(project: Project, fid: FunctionId, function: facts.Function, line: int) -> str | None:
    """`request.state.db.get()` (or a local bound to it): the Session a middleware or dependency
    opened on the request's state, named with where it is opened; None for any other holder."""
    flow = project.flow
    for call in function.calls:
        expression = call.func if call.func is not None else call.callee
        if call.line != line or expression is None:
            continue
        # the receiver (`request.state.db.get()`), or what the call is handed (`count(request.state.db)`,
        # `ItemRepo(db)` after `db = request.state.db`)
        handed = [a.expr or (project.instance_binding(fid, a.name) if a.name else None) for a in call.args]
        origins = [
            held.origin for ref in (expression.rpartition(".")[0], *handed)
            if ref and (held := flow.holds(fid, ref)) is not None and held.origin
        ]
        origin = next((o for o in origins if o.startswith("request.state.")), None)
        if origin is None:
            continue
        attribute = origin.removeprefix("request.state.")
        where = sorted({
            f"{project.functions[opener][0].path}:{at}"
            for opener, _head, _expression, at in flow.state_assignments().get(attribute, [])
        })
        # what holds it, only: the reasons go on with what phase two replaces (`_held_fix`)
        return f"the Session opened on `{origin}` for each request ({', '.join(where)}), not one it receives as a parameter"
    return None


def _name(project: Project, fid: FunctionId) -> str:
    module, function = project.functions[fid]
    return f"{module.name}.{function.qualname}"


def _blocker_reason(project: Project, fid: FunctionId, blocker: _Own, route: FunctionId, way: str = "") -> Reason:
    """The route's reason for a blocker of what it reaches. A generator's or a method's, other than
    the route, names it (`_csv_rows`, `Publisher.lines`): its line alone reads as the route's own.
    One reached through a dependency names the way there (`way`): the line alone, in a module the
    route does not name, leaves a reviewer guessing why the route needs it."""
    where = _where(project, fid, blocker.line)
    qualname = project.functions[fid][1].qualname
    named = blocker.rule in (AM216, AM217) or fid in _left_out(project)
    if fid != route and named and not blocker.whole_class and not blocker.message.startswith("`"):
        reason = Reason(blocker.rule.code, f"{where}: `{qualname}` {blocker.message}")
    else:
        reason = blocker.reason(where)
    if not way:
        return reason
    return Reason(reason.code, f"{reason.text} (the route reaches it through {way})")


def _dependency_way(
    project: Project,
    route: FunctionId,
    fid: FunctionId,
    chains: list[tuple[FunctionId, ...]],
    twinned: Iterable[FunctionId],
) -> str:
    """The shortest way from a route to `fid` through the dependencies FastAPI calls for it
    (`chains`, each from the route's direct dependency down; `twinned`, any other that moves with
    it) and then the calls carrying the Session: the names joined by `->`, the dependencies
    marked; "" when `fid` is the route or reached without a dependency."""
    if fid == route:
        return ""
    edges: dict[FunctionId, list[FunctionId]] = {}
    dependency: set[FunctionId] = set()
    for chain in chains:
        for caller, callee in zip((route, *chain), chain):
            if callee not in edges.setdefault(caller, []):
                edges[caller].append(callee)
            dependency.add(callee)
    for other in twinned:
        if other not in dependency:
            edges.setdefault(route, []).append(other)
            dependency.add(other)
    if not dependency:
        return ""
    kept = cast("dict[tuple[FunctionId, bool], tuple[FunctionId, ...]]",
                project.derived.setdefault("phase2.reach_next", {}))
    came: dict[FunctionId, FunctionId | None] = {route: None}
    queue = [route]
    for current in queue:
        if current == fid:
            break
        following = kept.get((current, True))
        if following is None:
            following = kept[(current, True)] = tuple(_reach_next(project, current, True))
        for step in (*edges.get(current, ()), *(f for f in following if current != route or f not in dependency)):
            if step not in came:
                came[step] = current
                queue.append(step)
    if fid not in came:
        return ""
    way: list[FunctionId] = []
    at: FunctionId | None = fid
    while at is not None:
        way.append(at)
        at = came[at]
    way.reverse()
    if not any(step in dependency for step in way):
        return ""
    return " -> ".join(f"dependency {_name(project, step)}" if step in dependency else _name(project, step) for step in way)


def _router_value_problem(project: Project, found: dependencies.SharedSession) -> str | None:
    """A router's `dependencies=[Audit]` naming a function dependency through a module-level value
    (`Audit = Depends(audit)`): its twin would need a twin of the value, which phase two writes
    for a parameter's default but not for a router's list (a callable instance moves in place)."""
    first = found.chain[0]
    if "." in project.functions[first][1].qualname:
        return None
    for ref, name in dependencies.router_values(project, found.router or "").items():
        if dependencies.dependency_function(project, ref) == first:
            return (
                f"the router's `dependencies=[...]` names it through the module-level value `{name}`, which "
                f"phase two does not point at an async twin there: write `Depends({_name(project, first)})` "
                "in the list"
            )
    return None


def _unverified_on_the_loop(
    project: Project, routes: Iterable[FunctionId], rewritten: set[FunctionId]
) -> list[str]:
    """Routes that ran in the threadpool (`def`) and reach a call the analysis cannot verify (a
    domain event handler taken from a registry, a method of an object built by unseen code): moved
    onto the event loop, that call runs there now, and `check` reports it (AM304). Not a library
    call the rewrite maps to its async form in the functions it rewrites (`rewritten`): `paginate(db,
    q)` becomes `await apaginate(db, q)`, which check does not report."""
    notes = []
    for route in sorted(routes):
        module, function = project.functions[route]
        chain = project.unverified_chains.get(route)
        if function.is_async or not chain:
            continue
        chain = _unverified_left(project, route, rewritten, chain)
        if not chain:
            continue
        notes.append(
            f"{module.path}:{function.line}: {function.qualname} now runs on the event loop, and so does what it "
            f"reaches that the analysis cannot verify: {' -> '.join(chain)}; `check` reports it (AM304) until it "
            "is shown to do no synchronous Session work or blocking I/O (or run it with `run_in_threadpool`)"
        )
    return notes


def _unverified_left(
    project: Project, route: FunctionId, rewritten: set[FunctionId], chain: list[str]
) -> list[str] | None:
    """`chain` (the route's unverified chain), unless the route reaches a library call the rewrite
    maps (`paginate` -> `await apaginate`) in a function it rewrites: then the chain to an unverified
    call left as it was, or None when the mapped calls were all there was. Walks only functions on
    unverified chains, from the route down."""
    mappings = project.call_mappings
    chains = project.unverified_chains
    mapped_any = False
    left: list[str] | None = None
    came: dict[FunctionId, FunctionId | None] = {route: None}
    queue = [route]
    for current in queue:
        _, function = project.functions[current]
        mapped = {
            call.line for call in function.calls if project.canonical(call.callee) in mappings
        } if current in rewritten else set()
        own = project.own_unverified(current)
        mapped_any = mapped_any or any(line in mapped for line, _ in own)
        found = next((text for line, text in own if line not in mapped), None)
        if found is not None and left is None:
            way: list[str] = [found]
            at = came[current]
            step = current
            while at is not None:
                way.insert(0, project.functions[step][1].qualname)
                step, at = at, came[at]
            left = way
        for edge in project.all_calls_from.get(current, ()):
            callee = edge.callee
            if edge.call.offloaded or callee in came or callee not in chains or project.functions[callee][1].is_async:
                continue
            came[callee] = current
            queue.append(callee)
    if not mapped_any or left is None and any(step.startswith("@") for step in chain):
        return chain  # nothing mapped, or a decorator's wrapper on the way, which the walk does not follow
    return left


def _where(project: Project, fid: FunctionId, line: int) -> str:
    module, _ = project.functions[fid]
    return f"{module.path}:{line}"


def _expired_by_callee(
    project: Project,
    fid: FunctionId,
    path: str,
    function: facts.Function,
    definition: ast.FunctionDef | ast.AsyncFunctionDef | None,
    trees: _Trees,
) -> list[tuple[int, str]]:
    """Reads of what the function passed to a project helper that hands it back expired: the
    helper changed it inside a savepoint and caught the rollback (`savepoint_reads`).
    `definition`: the function's, or None where its module was not parsed (`_Trees.may_name`)."""
    sessions = set(project.session_names(fid))
    cache = cast("dict[FunctionId, dict[str, str]]", project.derived.setdefault("phase2.savepoint_params", {}))
    found: list[tuple[int, str]] = []
    for edge in project.all_calls_from[fid]:
        if edge.call.nested or not edge.session_args:
            continue
        if edge.callee not in cache:
            module, callee = project.functions[edge.callee]
            cache[edge.callee] = savepoint_reads.expired_params(
                expired_lists.function_node(trees(module.path), callee), set(project.session_names(edge.callee))
            ) if trees.may_name(module.path, "begin") else {}
        expiring = cache[edge.callee]
        if not expiring:
            continue
        if definition is None:
            definition = expired_lists.function_node(trees(path), function)
        _, callee = project.functions[edge.callee]
        passed = {
            arg.name: expiring[param] for arg in edge.call.args
            if arg.name is not None and arg.name not in sessions
            and (param := facts.parameter_of(callee, arg)) is not None and param in expiring
        }
        if passed:
            found.extend(savepoint_reads.after_call(
                definition, edge.call.line, passed, edge.call.callee or callee.name, sessions
            ))
    return found


class _ClassBlockers:
    """A route's reasons from the blockers of what it reaches, where a class holding the Session
    moves as a whole (its attribute holds one kind of Session for every method): a blocker in a
    method the route's own calls never reach blocks it only through the class. Such a blocker is
    listed in full once, at the routes whose own calls reach its method, or else at the first
    route meeting it, and every other route says plainly that the class blocks it and where the
    reasons are: a class-based view's seven routes no longer each repeat every blocker of the class.

    `own_path(route)`: the functions the route's own calls reach (`_reach` without whole classes)."""

    def __init__(
        self, project: Project, routes: Iterable[FunctionId], own_blockers: dict[FunctionId, list[_Own]],
        own_path: Callable[[FunctionId], set[FunctionId]],
    ) -> None:
        self.project = project
        self.order = list(routes)
        self.own_blockers = own_blockers
        self.own_path = own_path
        self.listed: dict[tuple[str, FunctionId | None, str, int, str], FunctionId] = {}
        self.referred: dict[FunctionId, set[FunctionId | None]] = {}  # route -> the methods it only refers to
        self.references: set[Reason] = set()  # the reasons that refer to another route's

    def reasons(
        self, route: FunctionId, reached: Iterable[FunctionId], reason_of: Callable[[FunctionId, _Own], Reason]
    ) -> list[Reason]:
        project = self.project
        own = self.own_path(route)
        found: list[Reason] = []
        # the class -> the methods whose blockers the route only refers to (None: the class's own) -> where listed
        referred: dict[str, dict[FunctionId | None, list[FunctionId]]] = {}
        for fid in sorted({route, *reached}):
            holder = holders.holder_of(project, fid)
            for blocker in self.own_blockers.get(fid, []):
                origin = blocker.origin if blocker.whole_class else fid
                if holder is None or (origin if blocker.whole_class else fid) in own:
                    found.append(reason_of(fid, blocker))
                    continue
                key = (holder.ref, origin, blocker.rule.code, blocker.line, blocker.message)
                owners = [r for r in self.order if origin is not None and origin in self.own_path(r)]
                if not owners:
                    owners = [self.listed.setdefault(key, route)]
                if route in owners:
                    reason = reason_of(fid, blocker)
                    where, _, text = reason.text.partition(": ")
                    found.append(Reason(reason.code, f"{where}: {self._blocks(route, holder, [origin])}: {text}"))
                else:
                    places = referred.setdefault(holder.ref, {}).setdefault(origin, [])
                    places.extend(r for r in owners if r not in places)
        for ref, origins in referred.items():
            holder = holders.holder_classes(project)[ref]
            places = sorted({place for listed in origins.values() for place in listed})
            reference = AM253.reason(
                f"{_where(project, route, project.functions[route][1].line)}: {self._blocks(route, holder, list(origins))}"
                f"; its reasons are listed at {', '.join(_name(project, place) for place in places)}"
            )
            self.references.add(reference)
            self.referred.setdefault(route, set()).update(origins)
            found.append(reference)
        return list(dict.fromkeys(found))

    def through_class(self, route: FunctionId, mate: FunctionId, why: list[Reason]) -> bool:
        """Whether another route of the route's class is blocked only for what blocks the class,
        which the route's own reasons name: a method the route refers to, or reasons that only
        refer to others (or name blocked routes of the class)."""
        return mate in self.referred.get(route, ()) or all(
            reason in self.references or " is a route of " in reason.text for reason in why
        )

    def _blocks(self, route: FunctionId, holder: holders.HolderClass, origins: list[FunctionId | None]) -> str:
        """`the route uses OrderService, whose method cancel blocks the class (...)`."""
        project = self.project
        names = sorted({project.functions[o][1].name for o in origins if o is not None})
        if names:
            what = (
                f"whose method{'s' if len(names) > 1 else ''} {', '.join(names)} block{'' if len(names) > 1 else 's'} "
                f"the class{', as problems of the class itself do' if None in origins else ''}"
            )
        else:
            what = "which cannot move as a class"
        uses = "is a method of" if route in holder.methods else "uses"
        return (
            f"the route {uses} {holder.name(project)}, {what} (it holds the Session on its instances "
            "and moves as a whole, so a blocker in any of its methods blocks every route using it)"
        )


@dataclass(slots=True)
class _Own:
    rule: Rule
    line: int
    message: str
    # A problem of the method's whole class (`HolderClass.problems`), not of the method itself.
    whole_class: bool = False
    # Of a problem of the whole class: the method of the class it lies in, None for one of the
    # class itself (how its instances get the Session, its bases).
    origin: FunctionId | None = None

    def reason(self, where: str) -> Reason:
        return Reason(self.rule.code, f"{where}: {self.message}")


# `db.scalars(stmt).yield_per(2)`: chunking a Result the Session call already ran, which streams
# only where the statement's options say so (read apart); AsyncSession's Result is buffered and
# chunks the same. `Query.yield_per(n)` does stream.
_BUFFERED_YIELD_PER = re.compile(r"\$[\w.]+\.(?:execute|scalars)\(\)(?:\.scalars\(\))?\.yield_per")


def _streams(call: facts.Call) -> str | None:
    """`execution_options(yield_per=...)`, `execution_options(stream_results=True)` or
    `.yield_per(...)`, as written, or None."""
    name = call.method or call.chained or (call.callee or "").rpartition(".")[2]
    if name == "yield_per" and not _BUFFERED_YIELD_PER.fullmatch(call.func or ""):
        return "yield_per(...)"
    if name == "execution_options":
        for arg in call.args:
            if arg.keyword in ("yield_per", "stream_results", "max_row_buffer"):
                return f"execution_options({arg.keyword}=...)"
    return None


def _streamed_by_callees(project: Project, fid: FunctionId) -> list[tuple[int, str, str]]:
    """The calls of `fid` handing no Session to a project function that builds, itself or through
    the project functions it calls, a statement streaming rows from a server-side cursor
    (`select(...).execution_options(yield_per=5)`): (line of the call, the callee, why)."""
    found: list[tuple[int, str, str]] = []
    for edge in project.all_calls_from[fid]:
        if edge.session_args or edge.callee == fid:
            continue
        streamed = _streams_within(project, edge.callee)
        if streamed is not None:
            module, callee = project.functions[edge.callee]
            found.append((edge.call.line, f"`{module.name}.{callee.qualname}`", streamed))
    return found


def _streams_within(project: Project, start: FunctionId) -> str | None:
    """Why `start`, or a project function it calls, builds a statement that streams; None when none
    does. Kept per project."""
    kept = cast("dict[FunctionId, str | None]", project.derived.setdefault("phase2.streams_within", {}))
    if start in kept:
        return kept[start]
    seen = {start}
    todo = [start]
    why: str | None = None
    while todo and why is None:
        current = todo.pop()
        module, function = project.functions[current]
        for call in function.calls:
            text = _streams_text(call)
            if text is not None:
                why = f"{text} (`{module.path}:{call.line}`)"
                break
        for edge in project.all_calls_from[current]:
            if edge.callee not in seen:
                seen.add(edge.callee)
                todo.append(edge.callee)
    kept[start] = why
    return why


def _streams_text(call: facts.Call) -> str | None:
    """Why the call's query runs on a server-side cursor, or may: None when it does not."""
    streamed = _streams(call)
    if streamed is not None:
        return f"`{streamed}` streams rows from a server-side cursor"
    if call.streams is None:
        return None
    written, option = call.streams
    if option is not None:
        return f"`{written}` sets `{option}`: it streams rows from a server-side cursor"
    return (f"`{written}`: options the analysis cannot read, which may stream rows from a server-side "
            "cursor (`yield_per`, `stream_results`; unverified)")


class _Trees:
    """A module's syntax tree by path, parsed once (the expiry analysis's cache where there is one)."""

    def __init__(
        self,
        cached: Callable[[str], ast.Module | None] | None,
        read: Callable[[str], str] | None,
        text: Callable[[str], str] | None = None,
    ) -> None:
        self.cached = cached
        self.read = read
        self.text = text if cached is not None else read  # what the trees are parsed from
        self.trees: dict[str, ast.Module | None] = {}
        self.words: dict[tuple[str, str], bool] = {}

    def may_name(self, path: str, word: str) -> bool:
        """Whether the module's text holds `word`; True when it cannot be told. Cheaper than its
        tree: most modules are never parsed for a question only a few can answer. A reader keeping
        what an analysis read (`run._Reads`) is asked for the word alone, so the analysis depends
        on the file lacking it, not on its whole text."""
        key = (path, word)
        found = self.words.get(key)
        if found is None:
            lacks = getattr(self.text, "lacks", None)
            try:
                if lacks is not None:
                    found = not lacks(path, word)
                else:
                    found = self.text is None or word in self.text(path)
            except OSError:
                found = True
            self.words[key] = found
        return found

    def __call__(self, path: str) -> ast.Module | None:
        if self.cached is not None:
            return self.cached(path)
        if path not in self.trees:
            try:
                self.trees[path] = tree_of(self.read, path) if self.read is not None else None
            except (OSError, SyntaxError, ValueError):
                self.trees[path] = None
        return self.trees[path]


def _expiring_receivers(
    project: Project, inline: dict[FunctionId, inline_sessions.Verdicts]
) -> dict[FunctionId, tuple[bool, str]]:
    """Functions handed a Session opened inline that expires on commit (down the calls that pass
    it on): their own commits expire what they read afterwards, whatever the async stack does."""
    found: dict[FunctionId, tuple[bool, str]] = {}
    todo: list[tuple[FunctionId, set[str], str]] = []
    for fid, verdicts in inline.items():
        opened = {name: where for name, (expires, where) in inline_sessions.expiring(verdicts).items() if expires}
        if opened:
            todo.append((fid, set(opened), opened[min(opened)]))
    while todo:
        fid, names, where = todo.pop()
        for edge in project.all_calls_from[fid]:
            if edge.callee in found or not any(a.name in names for a in edge.call.args):
                continue
            found[edge.callee] = (True, where)
            todo.append((edge.callee, project.session_names(edge.callee), where))
    return found


def _inline_blockers(inline: inline_sessions.Verdicts) -> list[_Own]:
    """Sessions opened on an engine that stay synchronous (AM262), and reads after a `begin()`
    block of one that moves and expires on commit (AM248): they depend on the async stack, so
    they are not kept with the function's own blockers."""
    return [
        *(_Own(AM262, line, why) for line, why in inline.blocked),
        *(_Own(AM248, line, why) for line, why in inline.expired),
    ]


def _query_class_blockers(
    project: Project, fid: FunctionId, engine: inline_sessions.StackEngine | None, own: list[_Own]
) -> list[_Own]:
    """`own` with the legacy chains the stack's project Query class changes blocked (AM213): each
    such reason replaces the generic one of its line, which does not know the class."""
    found = query_class.blockers(project, fid, engine.query if engine is not None else None)
    if not found:
        return own
    lines = {line for line, _ in found}
    kept = [o for o in own if not (o.rule is AM213 and o.line in lines)]
    return kept + [_Own(AM213, line, why) for line, why in found]


def _other_makers(project: Project, fid: FunctionId, engine: inline_sessions.StackEngine | None) -> list[_Own]:
    """Sessions opened from a sessionmaker the async stack does not stand for (AM278): opened
    from the stack's async one instead, they would read and write another database."""
    others = dict(engine.other_makers) if engine is not None else {}
    if not others:
        return []
    found = []
    for opened in project.opens_directly(fid):
        ref = project.canonical(opened.callee.removesuffix(".begin")) or ""
        described = others.get(ref)
        if described is not None and engine is not None:
            stack = f" than the async stack's {engine.maker}" if engine.maker else ""
            found.append(_Own(AM278, opened.line, (
                f"opens its Session from {described}, another sessionmaker{stack}: phase two would open it "
                f"from the async stack's sessionmaker, {engine.other_database(ref)}; keep it synchronous"
            )))
    return found


def _openers(project: Project, fid: FunctionId) -> list[_Own]:
    """Sessions opened in a form the async session maker cannot take over (AM262); a Session
    class opened with arguments (`Session(engine)`) is judged by `inline_sessions`."""
    _, function = project.functions[fid]
    found: list[_Own] = []
    for opened in project.opens_directly(fid):
        if opened.by_hand:
            found.append(_Own(AM290, opened.line, (
                f"enters the Session it opens (`{project.written(opened.callee)}()`) by hand, through "
                "`__enter__()` or `ExitStack.enter_context(...)`, not in a `with` statement: phase two makes only "
                "a `with` statement `async with`, and an AsyncSession has no `__enter__`; open it with `with ... "
                "as session:`, then rerun phase two"
            )))
            continue
        if project.is_sync_session_type(opened.callee) and not opened.callee.endswith(".begin"):
            continue
        call = next((c for c in function.calls if c.line == opened.line and c.callee == opened.callee), None)
        if call is not None and call.args:
            written = opened.callee.rpartition(".")[2]
            found.append(_Own(AM262, call.line, f"opens its Session as `{written}(...)` with arguments: the "
                              "async session maker would not take them as they are"))
    params = project.session_params.get(fid, {})
    for decorator, target in project.opening_decorators(fid):
        text = decorator.text.lstrip("@")
        module, wrapper = project.functions[target]
        # the fixpoint's reason names the decorator (or its factory's inner decorator) that passed it
        by = f"by decorator {module.name}.{wrapper.qualname}"
        handed = [
            name for name, why in params.items()
            if why.startswith("handed in as") and (why.endswith(by) or f"{by}." in why)
        ]
        if handed:
            what = (f"gets its Session `{handed[0]}` from decorator @{text}, which opens a synchronous one and hands "
                    "it in")
        else:
            what = f"runs under decorator @{text}, which opens a synchronous Session of its own around each call"
        if wrapper.loop_wrapper is None:
            why = "as a coroutine the decorator's synchronous wrapper would never await it"
        elif handed:
            why = "the migrated code would await the methods of the synchronous Session it hands in"
        else:
            why = "its `async def` wrapper would still do that Session's work on the event loop"
        found.append(_Own(AM262, decorator.line, f"{what}: phase two does not rewrite decorators, and {why}"))
    return found


def _own_blockers(project: Project, fid: FunctionId) -> list[_Own]:
    """What stops one function, on its own, from moving to AsyncSession (a new list: callers add
    to it). Kept per project: scan computes a closure per router module, and the helpers and
    dependencies they share would be read again for each."""
    kept = cast("dict[FunctionId, tuple[_Own, ...]]", project.derived.setdefault("phase2.own_blockers", {}))
    found = kept.get(fid)
    if found is None:
        found = kept[fid] = tuple(_find_own_blockers(project, fid))
    return list(found)


def _called_from(project: Project, starts: list[FunctionId]) -> list[FunctionId]:
    """Every project function the starts may call, through any call the graph resolves."""
    seen = set(starts)
    order = list(starts)
    for fid in order:
        for edge in project.all_calls_from.get(fid, ()):
            if edge.callee not in seen:
                seen.add(edge.callee)
                order.append(edge.callee)
    return order


def _held_read_outside(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """The Session an instance of a class holding one keeps, read by a function outside the
    class (`db = self.repo.session`, `repo.session.execute(...)`): once the class moves it is an
    AsyncSession there, and what the function does with it is not followed to be awaited."""
    kept = cast("dict[FunctionId, list[tuple[int, str]]]", project.derived.setdefault("phase2.held_read_outside", {}))
    if fid not in kept:
        kept[fid] = _find_held_read_outside(project, fid)
    return kept[fid]


def _moves_with_route(project: Project, held_by: holders.HolderClass, reach: set[FunctionId]) -> bool:
    """Whether the class holding the Session moves with what a route runs: it calls a method of
    the class that becomes `async def`, or, for a plain holder (no method of its own doing
    Session work), builds an instance (`Tx(db)`), so its `__init__` takes the AsyncSession."""
    if held_by.methods & reach:
        return True
    return not held_by.methods and held_by.init is not None and held_by.init in reach


def _unmoved_holder_reason(
    project: Project, held_by: holders.HolderClass, written: str, reach: set[FunctionId]
) -> str:
    """Why a call on the Session a class holds, made from outside it, blocks: what the route
    would need to run for the class to move with it, in the terms of that class."""
    name = held_by.name(project)
    head = f"calls `{written}()` on the Session {name} holds, from outside the class"
    tail = "awaited there, the call would run on the synchronous Session"
    if held_by.methods:
        return (
            f"{head}, and nothing this route runs calls a method of the class, so the tool does not move "
            f"the class with it: {tail}; call a method of the class instead"
        )
    init = held_by.init
    injected = init is not None and any(
        dependencies.dependency_function(project, project.param_dependency(param)) == init
        for fid in reach for param in project.functions[fid][1].params
    )
    if injected:
        return (
            f"{head}: {name} has no method doing Session work, and FastAPI builds it (`Depends({name})`) "
            f"with the Session its `__init__` takes from the synchronous session dependency, which phase two "
            f"does not point at the async one for a class moving with no method: {tail}; build {name} in the "
            "route from the route's own Session, or hand the Session itself"
        )
    return (
        f"{head}: {name} has no method doing Session work, and nothing this route runs builds it, so the "
        f"tool does not move the class with it (its `__init__` keeps the synchronous Session): {tail}; build "
        f"{name} in code the route runs from the route's Session, or hand the Session itself"
    )


def _outside_held_calls(project: Project, fid: FunctionId) -> list[tuple[int, str, holders.HolderClass]]:
    """The Session methods a function outside the classes holding the Session calls straight on
    the Session an instance of one holds (`uow.session.execute(...)`, `holders.outside_held_call`):
    (line, the call as written, the class). The rewrite awaits them, which is right only where
    the class moves with the route."""
    if holders.holder_of(project, fid) is not None:
        return []
    found = []
    for call in project.functions[fid][1].calls:
        held = holders.outside_held_call(project, fid, call.func)
        if held is not None and call.func is not None:
            found.append((call.line, project.written(call.func), held[0]))
    return found


def _outside_held_problems(project: Project, fid: FunctionId) -> list[tuple[Rule, int, str]]:
    """What keeps the rewrite from moving a call on the Session an instance holds, made from
    outside its class (`uow.session.query(Item).filter_by(name=n).first()`), to that Session as
    an AsyncSession: (rule, line, why). A legacy chain with no `select()` form (AM213), and an
    awaited method in a nested function or lambda (AM211) or a generator expression (AM212),
    which the rewrite leaves as written: each would run on the AsyncSession unawaited, or not
    exist there."""
    if holders.holder_of(project, fid) is not None:
        return []
    found: list[tuple[Rule, int, str]] = []
    for call in project.functions[fid][1].calls:
        held = holders.outside_held_call(project, fid, call.func)
        if held is None or call.func is None:
            continue
        written = f"`{project.written(call.func)}()`"
        method = held[1]
        if method not in AWAITED_METHODS and method not in CONTEXT_METHODS and method != "query":
            continue
        if call.nested:
            found.append((AM211, call.line, f"{written} runs on the Session {held[0].name(project)} holds inside a "
                          "nested function or lambda, where the `await` it needs on the AsyncSession cannot stand"))
        elif call.in_generator:
            found.append((AM212, call.line, f"{written} runs on the Session {held[0].name(project)} holds inside a "
                          "generator expression, which an `await` would make an async generator: use a list "
                          "comprehension"))
        elif method == "query" and holders.held_query_root(project, fid, call) is None:
            problem = holders.held_query_problem(project, fid, call)
            if problem is not None:
                found.append((AM213, call.line, f"{project.functions[fid][1].qualname} {problem}"))
    return found


def _handed_held_methods(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """A method of a class holding the Session, one that moves to `async def` with the class,
    handed uncalled to a call (`list(map(repo.save, names))`, `apply_all(self.save, names)`,
    `sorted(rows, key=repo.rank)`): what calls it there calls it without `await`, so the
    coroutines it makes would never run and their Session work never be done. The flow sees no
    call of the method there, so this is looked for along every call the route may run. A
    background task is no such call: Starlette awaits a coroutine function it is given, and an
    offload is rewritten into the awaited call."""
    kept = cast("dict[FunctionId, list[tuple[int, str]]]", project.derived.setdefault("phase2.handed_held_methods", {}))
    if fid not in kept:
        kept[fid] = _find_handed_held_methods(project, fid)
    return kept[fid]


def _find_handed_held_methods(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    found = _handed_in_place(project, fid)
    found_holders = holders.holder_classes(project)
    if not found_holders:
        return found
    moving = {method: holder for holder in found_holders.values() for method in holder.methods}
    _, function = project.functions[fid]
    reported = {line for line, _ in found}
    for call in function.calls:
        callee = project.canonical(call.callee)
        if (
            call.offloaded or callee in THREADPOOL or callee in TO_THREAD or callee in PARTIALS
            or call.method == "run_in_executor"
            or callee in BACKGROUND_TASK or call.method == "add_task"
            # a scheduler runs what it is given as a coroutine (AM277 judges running it beside the route)
            or scheduled.is_scheduler(project, call) or scheduled.is_scheduler(project, call, concurrent=True)
        ):
            continue
        for arg in call.args:
            expression = arg.expr
            if arg.name is not None or not expression or not expression.startswith("$") or expression.endswith(")"):
                continue
            if call.line in reported:
                break
            targets, _ = project.flow.functions(fid, expression)
            held = next((moving[target] for target in targets if target in moving), None)
            if held is not None:
                found.append((call.line, (
                    f"hands `{project.written(expression)}` uncalled to `{_short_callee(call)}()`: a method of "
                    f"{held.name(project)} that becomes `async def` with the Session the class holds, which "
                    "that call would call without `await`, so its Session work would never run; call the method "
                    "in place (in a loop), or hand on an `async def` that awaits it where the caller awaits it"
                )))
                break
    return found


def _handed_in_place(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """A function doing synchronous Session work that `fid` hands to what calls it in place
    (`sorted(skus, key=count_open)`, `map(view.units_of, skus)`: `Project.in_place_edges`): that
    call is no call expression phase two can await, so the function stays synchronous there and
    blocks the event loop once `fid` is `async def`."""
    table = cast("dict[FunctionId, list[Edge]]", project.derived.get("phase2.in_place_by_caller"))
    if table is None:
        table = project.derived["phase2.in_place_by_caller"] = {}
        for edge in project.in_place_edges:
            table.setdefault(edge.caller, []).append(edge)
    found: list[tuple[int, str]] = []
    calls = project.functions[fid][1].calls
    for edge in table.get(fid, ()):
        if edge.callee not in project.work_chains or any(line == edge.call.line for line, _ in found):
            continue
        call = next((c for c in calls if c.line == edge.call.line and in_place_argument(project, c)), None)
        found.append((edge.call.line, (
            f"hands `{edge.via}` uncalled to `{_short_callee(call) if call is not None else 'a call'}()`, which "
            f"calls it in place without `await`: it does synchronous Session work "
            f"({' -> '.join([project.functions[edge.callee][1].qualname, *project.work_chains[edge.callee]])}), which as `async def` would never run, and kept "
            "synchronous blocks the event loop; call it in place (in a loop) and await it there"
        )))
    return found


def _find_held_read_outside(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    found_holders = holders.holder_classes(project)
    if not found_holders:
        return []
    flow = project.flow
    owner = flow.classes.owner(fid)
    _, function = project.functions[fid]
    # Passed straight on (`count(repo.session)`) or called on (`repo.session.get(...)`), the flow
    # follows it as the Session; bound to a name or handed back, it is lost.
    written = [(b.expr, b.line or function.line) for b in function.bindings]
    written += [(e, function.line) for e in (*function.returned, *function.yielded)]
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    for expression, line in written:
        if not expression or not expression.startswith("$") or expression in seen:
            continue
        seen.add(expression)
        parts = expression.split(".")
        for end in range(2, len(parts) + 1):
            receiver, attribute = ".".join(parts[: end - 1]), parts[end - 1]
            held = [
                holder for value in flow.evaluate(fid, receiver)
                if value.kind == INSTANCE and (holder := found_holders.get(str(value.target))) is not None
                and attribute in holder.attributes and value.target != owner
            ]
            if held and end < len(parts) and holders.outside_held_call(
                project, fid, f"{receiver}.{attribute}.{parts[end].removesuffix('()')}"
            ) is not None and parts[end].endswith("()"):
                break  # `rows = uow.session.execute(...)`: a Session method awaited in place (`_outside_held_calls`)
            if held:
                path = f"{receiver}.{attribute}"
                found.append((line, (
                    f"reads the Session {held[0].name(project)} holds (`{project.written(path)}`) from outside "
                    "the class: moved, it is an AsyncSession there, and what this code does with it would not "
                    "be awaited"
                )))
                break
    return found


def _handler_ids(project: Project) -> KeysView[FunctionId]:
    """Routes, dependencies and hooks: their decorators register them (phase one judged the rest)."""
    return project.handler_index.keys()


def _find_own_blockers(project: Project, fid: FunctionId) -> list[_Own]:
    module, function = project.functions[fid]
    names = project.session_names(fid)
    found: list[_Own] = []
    callees = {edge.call.index: edge for edge in project.all_calls_from[fid]}
    mappings = project.call_mappings
    for alias, source in function.rebinds:
        if source in names:
            found.append(_Own(AM210, function.line, f"rebinds the Session to `{alias}`: the tool does not "
                              "follow it, so calls through it would not be awaited"))
    for line, name, how in function.held_in:
        if name in names:
            found.append(_Own(AM210, line, f"puts the Session `{name}` {how}: the tool does not follow it "
                              "there, so calls through it would not be awaited"))
    def held(func: str) -> str | None:
        return holders.held_call(project, fid, func)

    kept_names: list[set[str]] = []

    def held_names() -> set[str]:
        # Computed once, on the first call that needs it.
        if not kept_names:
            kept_names.append(_holder_names(project, fid, function, names, callees))
        return kept_names[0]

    def mapped(call: facts.Call) -> bool:
        return project.canonical(call.callee) in mappings

    bound = derived.derived_names(function, names, held)
    taken = (
        derived.escapes(function, bound, mapped, project.written)
        + derived.returned_straight(function, names, held)
        + derived.chained(function, names, held)
        + derived.handed_unbound(function, names, mapped, project.written, held)
    )
    for line, why in taken:
        found.append(_Own(AM258, line, f"{why}: phase two awaits the coroutine methods of the async "
                          "transaction or connection only on a local name bound to it and used in place, so "
                          "here they would not be awaited"))
    for call in function.calls:
        method = held(call.func) if call.func is not None else None
        expiry = session_methods.held_expiry(project, method) if method is not None else None
        if method is not None and expiry is not None:
            # `self.db.save(item)`: run through `run_sync`, what it expires is not followed into it
            found.append(_Own(AM247, call.line, session_methods.expiry_message(
                project, project.written(call.func or "").rpartition(".")[0], method, *expiry
            )))
    for line, why in derived.attributes_read(function, bound, names, held):
        found.append(_Own(AM258, line, f"{why}; fix: keep that code on the synchronous connection, "
                          "`await session.run_sync(fn)` with `fn(sync_session)` reading `sync_session.connection()`"))
    found.extend(_Own(AM288, line, message) for line, message in _sync_engine_uses(function, names))
    for opened in project.opens_directly(fid):
        if opened.index >= 0 and not opened.alone:
            found.append(_Own(AM289, opened.line, f"opens a Session (`{project.written(opened.callee)}()`) in a "
                              "`with` statement that enters other context managers too: phase two would make the "
                              "whole statement `async with`, which a synchronous context manager does not support"))
    loop = None if function.is_async else scheduled.own_loop(project, fid)
    if loop is not None:
        found.append(_Own(AM284, loop[0], f"starts an event loop of its own: {loop[1]}; made `async def` it "
                          "would run on the application's running loop, where that raises RuntimeError"))
    waits = None if function.is_async else thread_wait(project, fid)
    if waits is not None:
        found.append(_Own(AM293, waits[0], f"waits on another thread or process: {waits[1]}; made `async def` it "
                          "would hold the event loop, and every request, until the other side acts (for ever, if "
                          f"that needs the loop); it stays `def`: to migrate it, await the wait by hand "
                          f"({awaited_form(waits[1])}), then run phase two again"))
    for line, param, default in function.scope_defaults:
        if default in names:
            # `(lambda s=db: s.scalar(q))()`: the nested scope calls the Session under another name,
            # where no `await` can stand
            found.append(_Own(AM211, line, f"hands the Session `{default}` to a nested function or lambda as "
                              f"the default of its parameter `{param}`: its calls there would need `await`, "
                              "which cannot stand in it"))
    stores = shared_store.own_stores(project, fid)
    for store in stores:
        found.append(_Own(AM143, store.line, f"stores the request's Session on `{store.shared}` (`{store.written}`), "
                          "an object every request shares: on an AsyncSession each await between the store and "
                          "the code reading it back lets other requests store theirs; give each request its own "
                          "object built with its Session"))
    # through a method of an instance every request shares (`request.app.state.services.bind(db)`
    # doing `self.repo.session = db`): the method, which phase two may not even reach, stores it
    stored = None if stores else shared_store.reached_store(project, fid)
    if stored is not None:
        through = " -> ".join(f"`{project.functions[h][1].qualname}`" for h in stored.helpers)
        found.append(_Own(AM143, stored.call_line, f"stores the request's Session on `{stored.shared}` "
                          f"(`{stored.written}` at {stored.path}:{stored.line}, through {through}), an object "
                          "every request shares: on an AsyncSession each await between the store and the code "
                          "reading it back lets other requests store theirs; give each request its own object "
                          "built with its Session"))
    handed_lines: set[int] = set()
    by_index = {call.index: call for call in function.calls if not (call.offloaded and call.receiver is None)}
    for call in function.calls:
        # An offloaded call with no receiver is the function handed to the thread, as written.
        given = call.func if call.offloaded and call.receiver is None else None
        handed = [arg.expr for arg in call.args if arg.expr] + ([given] if given else [])
        method = next((expr for expr in handed if _session_method(expr, names)), None)
        if method is not None:
            handed_lines.add(call.line)
            found.append(_Own(AM257, call.line, f"hands `{method[1:]}` on as a value: on an AsyncSession it "
                              "returns a coroutine that would never be awaited; call it directly"))
            continue
        concurrent = _concurrent_use(project, fid, call, names, callees)
        if concurrent is not None:
            found.append(_Own(AM277, call.line, concurrent))
            continue
        kept = held_names()
        inside = [name for name in call.contained if name in names or name in kept]
        # `{"db": ctx.db}`: the Session an attribute path holds, put in the display
        inside += [
            project.written(path) for arg in call.args for path in arg.displayed
            if "." in path and project.flow.holds(fid, path) is not None
        ]
        if inside and not call.greenlet:
            what = f"`{inside[0]}`, which holds the Session," if inside[0] in kept else f"the Session `{inside[0]}`"
            found.append(_Own(AM228, call.line, f"hands {what} to "
                              f"`{_short_callee(call)}()` inside a tuple, list or dict, which the analysis "
                              "does not follow: what runs it would receive an AsyncSession and call it "
                              "without await"))
            continue
        variadic = _into_variadic(project, call, callees.get(call.index), names)
        if variadic is not None:
            found.append(_Own(AM227, call.line, variadic))
            continue
        if call.receiver in names and call.method in ABSENT_METHODS:
            found.append(_Own(AM214, call.line, f"`{call.receiver}.{call.method}()` does not exist on AsyncSession, "
                              f"and running it on the Session behind it would not work alike: "
                              f"{ABSENT_METHODS[call.method]}"))
            continue
        if call.receiver in names and call.method in CONTEXT_METHODS and call.line in function.shared_withs:
            found.append(_Own(AM289, call.line, f"enters `{call.receiver}.{call.method}()` in a `with` statement "
                              "that enters other context managers too: phase two would make the whole statement "
                              "`async with`, which a synchronous context manager (`no_autoflush`, a lock) does "
                              "not support"))
            continue
        needs_await = (
            call.receiver in names
            and (call.method in AWAITED_METHODS or call.method in CONTEXT_METHODS or call.method == "query")
        ) or (call.index in callees and any(a.name in names for a in call.args))
        # Written in place (`await repo.get(id)`) when dropping the offloading call leaves the call
        # itself; elsewhere a migrated callee would hand the thread a coroutine nobody awaits.
        wrapper = by_index.get(call.offloaded_by if call.offloaded_by is not None else call.index)
        in_place = call.unwrap and call.index in callees and wrapper is not None and not wrapper.nested
        if call.offloaded and not in_place and call.index in callees and not thread_own.runs_own_session_in_thread(
            project, callees[call.index]
        ) and (
            any(a.name in names for a in call.args)
            # `run_in_executor(None, crud.get, self.db, 1)`: the Session a view or an instance holds
            or any(_held_session(project, fid, a) for a in call.args)
            # `partial(services.bump, sku, UnitOfWork(db))`: the unit of work carries the Session
            or _hands_holder(project, fid, call, function, names, callees, held_names()) is not None
            # `lambda: repo.get(id)`, `def load(): return repo.get(id)`: a method of an instance
            # holding the Session, and any function that moves for its Session work
            or callees[call.index].callee in project.work_chains
            or _does_session_work(project, callees[call.index].callee)
        ):
            found.append(_Own(AM224, call.line, _offload_text(project, call, wrapper, callees[call.index].callee)))
            continue
        # Offloaded or not: an `await` cannot stand in a nested `def` or a lambda handed to a thread.
        # `posts.list()` in the nested coroutine on `posts = PostService.from_session(db)` of the
        # function around it: the method moves with its class and would need `await` there too
        needs_await = needs_await or (
            call.nested and call.coroutine is not None and call.receiver is not None and call.index in callees
            and call.receiver in held_names() and _does_session_work(project, callees[call.index].callee)
        )
        if needs_await and call.nested and call.coroutine is not None:
            found.append(_Own(AM211, call.line, f"needs `await` inside the nested coroutine function "
                              f"`{call.coroutine}`, which phase two does not rewrite"))
            continue
        if needs_await and call.nested and call.offloaded and not in_place:
            # `await run_in_threadpool(lambda: db.get(Item, id))`: the lambda runs in the thread, where
            # the AsyncSession's coroutine is never awaited.
            found.append(_Own(AM224, call.line, _offload_text(project, call, wrapper, None)))
            continue
        if needs_await and call.nested and not in_place:
            found.append(_Own(AM211, call.line, "needs `await` inside a nested function or lambda, "
                              "where it cannot stand"))
            continue
        if needs_await and call.in_generator:
            found.append(_Own(AM212, call.line, "needs `await` inside a generator expression, which would "
                              "become an async generator: use a list comprehension"))
            continue
        moving = _awaited_in_generator(project, call, callees.get(call.index))
        if moving is not None:
            found.append(_Own(AM212, call.line, moving))
            continue
        if call.receiver in names and call.method == "query" and _legacy_query_blocker is not None:
            message = _legacy_query_blocker(project, fid, call)
            if message is not None:
                message = _query_to_mapped_call(project, function, call, mappings) or message
                found.append(_Own(AM213, call.line, message))
            continue
        if call.receiver in names and call.method in UNAVAILABLE_METHODS and not runs_sync(call):
            found.append(_Own(AM214, call.line, f"`{call.receiver}.{call.method}()` does not exist on AsyncSession: "
                              f"{UNAVAILABLE_METHODS[call.method]}"))
            continue
        if project.canonical(call.callee) in CASTS:
            continue  # `cast(Session, db)` hands `db` back: the calls on what it returns are `db`'s
        passes_session = [a for a in call.args if a.name in names or _held_session(project, fid, a)]
        holding = None if passes_session or call.index in callees or call.offloaded else _hands_holder(
            project, fid, call, function, names, callees, kept
        )
        if holding is not None:
            # `tasks.add_task(services.bump, sku, UnitOfWork(db))`: migrated, the instance holds the
            # AsyncSession, and what runs it later is the synchronous function calling it without await.
            found.append(_Own(AM215, call.line, (
                f"hands {holding}, which holds the Session, to `{_short_callee(call)}()`, which the analysis does "
                "not follow (a background task, a thread, a library): migrated, it would hold the AsyncSession "
                "and what runs it would call its methods without await; let that code open its own Session"
            )))
            continue
        if not passes_session or call.receiver in names:
            continue
        if call.index in callees or call.offloaded:
            continue
        callee = project.canonical(call.callee)
        if callee in THREADPOOL and not any(c.offloaded and c.index == call.index for c in function.calls):
            # `run_in_threadpool(HELPERS["total"], db)`: no function the rewrite can call in its
            # place; left as it is, the thread would get the AsyncSession and call it without await.
            found.append(_Own(AM224, call.line, (
                f"hands the Session to `{_short_callee(call)}()` with a function the analysis cannot name "
                "(an item of a container, a call's result): migrated, the worker thread would receive the "
                "AsyncSession and call it without await; name the helper in the call "
                "(`run_in_threadpool(helper, db)`), or rewrite it as `await helper(...)` by hand"
            )))
            continue
        if callee in THREADPOOL or callee in mappings:
            continue
        inherited = _inherited_from_outside(project, fid, call)
        if inherited is not None:
            found.append(_Own(AM215, call.line, inherited))
            continue
        found.append(_Own(AM215, call.line, _passes_session_text(project, call, callee, passes_session)))
    # `run = session.execute`, `{"run": session.execute}`: the method kept as a value is called
    # later without `await`, where the rewrite (which awaits calls on the Session) cannot see it.
    for line, receiver, attribute in function.attributes:
        if line not in handed_lines and _session_method(f"${receiver}.{attribute}", names):
            handed_lines.add(line)
            found.append(_Own(AM257, line, f"takes `{receiver}.{attribute}` as a value: on an AsyncSession calling "
                              "it returns a coroutine that would never be awaited; call the method directly"))
    found.extend(_openers(project, fid))
    found.extend(_Own(AM272, line, why) for line, why in untyped_holders.untyped_builds(project, fid))
    for call in function.calls:
        streamed = _streams_text(call)
        if streamed is not None:
            found.append(_Own(AM263, call.line, f"{streamed}, which AsyncSession runs only through `stream()` / "
                              "`stream_scalars()` with `async for`"))
    for line, name, streamed in _streamed_by_callees(project, fid):
        # `db.scalars(build())` with `build()` returning `select(...).execution_options(yield_per=5)`
        found.append(_Own(AM263, line, f"calls {name}, where {streamed}: a statement it builds may reach this "
                          "function's Session, which as an AsyncSession runs such a statement only through "
                          "`stream()` / `stream_scalars()` with `async for`"))
    if function.is_generator and fid not in project.opener_twins and fid not in project.handed_twins:
        found.append(_Own(AM216, function.line, _generator_text(project, fid, function, fid in project.session_dependencies)))
    found.extend(_Own(AM216, line, why) for line, why in scope_openers.caller_problems(project, fid))
    if ".<locals>." in function.qualname:
        found.append(_Own(AM225, function.line, _nested_text(project, fid, function)))
    elif methods.is_method(project, fid):
        found.extend(_Own(AM217, line, message) for line, message in methods.own_blockers(project, fid))
        found.extend(_Own(AM297, line, message) for line, message in methods.context_blockers(project, fid))
    elif function.qualname != function.name:
        found.append(_Own(AM217, function.line, "is defined in a class the tool does not know"))
    elif function.decorators and fid not in _handler_ids(project):
        found.extend(_Own(AM217, line, message) for line, message in methods.function_decorators(project, fid))
    elif function.decorators:
        found.extend(_Own(AM294, line, message) for line, message in handler_decorators.blockers(project, fid))
    found.extend(_Own(AM217, line, message) for line, message in wrapper_awaits.blockers(project, fid))
    tables: set[int] = set()
    uncertain = methods.uncertain_calls(project, fid)
    # a call through a table handing the Session to some of what it may run: one reason for the call
    handing = {edge.call.index for edge in uncertain if edge.call.dispatch and edge.call.spelled and edge.session_args}
    for edge in uncertain:
        if edge.call.index in handing:
            # each entry of the table is followed (its `__init__`, inherited or not), yet neither the
            # call through the table nor what the object it builds runs is pointed at async code
            if edge.call.index not in tables:
                tables.add(edge.call.index)
                found.append(_Own(AM215, edge.call.line, _table_text(edge.call)))
    found.extend(_Own(AM217, line, text) for line, text in _uncertain_texts(project, fid, tables))
    holder = holders.holder_of(project, fid)
    if holder is not None and (fid in holder.methods or fid == holder.init):
        # Where it is built names the line to change: a service composing it (`self.audit =
        # AuditRepo(session)` in its `__init__`) cannot move while it builds this class.
        built = sorted({_where(project, e.caller, e.call.line) for e in holders.constructions(project, holder)})
        where = f"; built at {first_few(built)}" if built else ""
        family = holder.family or (holder.ref,)
        members = [
            method for ref in family for method in (*project.flow.classes.methods.get(ref, {}).values(), holder.init)
            if method is not None
        ]
        for path, line, problem in holder.problems:
            elsewhere = "" if path == module.path else f"{path}:{line}: "
            origin = next((
                method for method in members
                if problem.startswith(project.functions[method][1].qualname + " ")
                and project.functions[method][0].path == path
            ), None)
            found.append(_Own(AM253, line if not elsewhere else function.line,
                              f"{elsewhere}{holder.name(project)} holds the Session on its instances and cannot "
                              f"move: {problem}{where}", whole_class=True, origin=origin))
    # the general reasons would misname a Session parameter's own fallback opening
    fallen = optional_session.fallbacks(project, fid)
    found.extend(_Own(AM329, line, optional_session.reason(param, line, opening))
                 for param, (line, opening) in fallen.items())
    for line, what in methods.held_elsewhere(project, fid):
        if holder is not None and holders.on_held(project, fid, what):
            continue
        if holder is None and _hands_on_held(project, fid, line, what):
            continue
        if holder is None and any(
            c.line == line and holders.outside_held_call(project, fid, c.func) is not None for c in function.calls
        ):
            continue  # `uow.session.execute(...)`: awaited in place when the class moves (`_outside_held_calls`)
        if what.split(".", 1)[0] in fallen:
            continue
        found.append(_Own(
            AM241, line, f"does Session work on `{what}`, {_held_by(project, fid, line)}: {_held_fix(what)}"
        ))
    for line, what in project.own_constructions(fid):
        # `ItemRepo(request.state.db)`: the class moves to AsyncSession with the routes, and its
        # instance built here would hold the synchronous Session its awaited methods cannot use
        if holder is not None and holders.on_held(project, fid, what):
            continue
        if any(c.line == line and holders.held_through_instance(project, fid, c.args) for c in function.calls):
            continue
        found.append(_Own(AM241, line, f"builds `{what}` on {_held_by(project, fid, line)}: {_held_fix(what)}"))
    for line, what in unclosed.unclosed_opens(project, fid):
        if line not in {at for at, _ in fallen.values()}:
            found.append(_Own(AM154, line, what))
    found.extend(_Own(AM282, line, what) for line, what in templates.rendered(project, fid))
    found.extend(
        _Own(AM286, line, text)
        for line, text in split_checks.blockers(project, fid, lambda callee: _does_session_work(project, callee))
    )
    for hook in _EXTRA_BLOCKERS:
        found.extend(hook(project, fid))
    return found


def _hands_on_held(project: Project, fid: FunctionId, line: int, what: str) -> bool:
    """`crud.get_room(svc.db, room_id)`: the Session an instance holds, handed straight to a project
    function. The class moves with the routes (its `__init__` given the AsyncSession, or the
    parallel class injected instead), so what it holds there is an AsyncSession, and the function
    migrates as one given the route's Session does."""
    _, function = project.functions[fid]
    return any(
        call.line == line and call.callee is not None and project.function(call.callee) is not None
        and f"{call.callee.rsplit('.', 1)[-1]}(" in what
        and holders.held_through_instance(project, fid, call.args) is not None
        for call in function.calls
    )


def _sync_engine_uses(function: facts.Function, names: set[str]) -> list[tuple[int, str]]:
    """Work on the synchronous Engine behind the Session (`session.get_bind().connect()`,
    `engine = session.get_bind()` then `engine.begin()`, `pandas.read_sql(q, session.bind)`):
    on an AsyncSession that Engine is the one its AsyncEngine wraps, usable only inside
    `run_sync`. Reading what it describes (`.dialect.name`, `.url.database`) calls nothing and is
    left out; a read naming its driver is not (`_driver_reads`)."""
    spelled = {f"${n}.get_bind()": f"{n}.get_bind()" for n in names} | {f"${n}.bind": f"{n}.bind" for n in names}
    for binding in function.bindings:
        if binding.expr in spelled and not binding.entered:
            spelled[f"${binding.name}"] = binding.name
    found: list[tuple[int, str]] = []
    for call in function.calls:
        receiver = (call.func or "").rpartition(".")[0]
        handed = next((e for a in call.args if (e := a.expr or (f"${a.name}" if a.name else None)) in spelled), None)
        if receiver in spelled:
            what = f"calls `{call.func[1:]}()` on the synchronous Engine `{spelled[receiver]}` hands out"  # type: ignore[index]
        elif handed is not None:
            what = f"hands the synchronous Engine `{spelled[handed]}` gives to `{call.func[1:] if call.func else call.callee}()`"
        else:
            continue
        found.append((call.line, f"{what}: on an AsyncSession that is the Engine its AsyncEngine wraps, "
                      "which connects only inside `run_sync` (MissingGreenlet on the event loop)"))
    found.extend(_driver_reads(function, {written[1:] if written.startswith("$") else written
                                          for written in spelled} | set(spelled.values()), spelled))
    return found


# What a URL describes that reads the same on the async engine: all but its driver.
_SAME_URL_PARTS = frozenset({"database", "host", "port", "username", "password", "query", "get_backend_name"})


def _driver_reads(function: facts.Function, engines: set[str], spelled: dict[str, str]) -> list[tuple[int, str]]:
    """Reads on the Engine behind the Session that name its driver (`.url` but for the parts
    `_SAME_URL_PARTS` names, `.driver`, `.dialect.driver`): on an AsyncSession that Engine is the
    async driver's (`sqlite+aiosqlite`, `postgresql+asyncpg`), so they answer otherwise."""
    names = {name for name in engines if name.isidentifier()}  # `engine = session.get_bind()`
    reads = [(line, receiver, attribute) for line, receiver, attribute in function.attributes if receiver in names]
    reads += [(line, written, attribute) for line, written, _, attribute in function.chains]
    safe = {(line, written) for line, written, attribute in reads if attribute in _SAME_URL_PARTS}
    found: list[tuple[int, str]] = []
    for line, written, attribute in reads:
        shown = spelled.get(f"${written}", written)
        if written in engines and attribute == "driver" or (
            written.endswith(".dialect") and written.removesuffix(".dialect") in engines and attribute == "driver"
        ):
            found.append((line, f"reads `{shown}.{attribute}`"))
        elif written in engines and attribute == "url" and (line, f"{written}.url") not in safe:
            found.append((line, f"reads `{shown}.url`"))
    return [
        (line, f"{what} on the Engine the Session hands out: on an AsyncSession that is the Engine its AsyncEngine "
         "wraps, whose driver is the async one, so it reads otherwise; read `.dialect.name` or the URL's "
         "database, host or port, or keep the route on the synchronous Session")
        for line, what in found
    ]


def _concurrent_use(
    project: Project, fid: FunctionId, call: facts.Call, names: set[str], callees: dict[int, Edge]
) -> str | None:
    """Why `call` would run Session work beside the caller's own: a project coroutine given the
    Session (or a method of an object holding it) handed to `gather`/`create_task`, directly or
    not (`scheduled.concurrent`); the Session handed to a task group with the function
    (`tg.start_soon(count, db)`), or a method of an object holding it handed uncalled
    (`tg.start_soon(svc.refresh_all)`); a scheduler handed what the analysis cannot read, in a
    function with the Session; None otherwise."""
    _, function = project.functions[fid]
    beside = "which runs it beside the rest of the request: after the migration that is concurrent use of one " \
        "AsyncSession, which SQLAlchemy does not allow"
    handed = _handed_held_method(project, fid, call)
    if handed is not None:
        return (f"hands `{handed[0]}` (`{_name(project, handed[1])}()`, on an object holding the Session) "
                f"uncalled to `{scheduled.written(call)}()`, {beside}")
    given = [a.name for a in call.args if a.name in names]
    edge = callees.get(call.index)
    if edge is not None and _does_session_work(project, edge.callee):
        holder = holders.holder_of(project, edge.callee) if not given else None
        if given or holders.passes_held(project, edge) or holder is not None:
            outers = scheduled.concurrent(project, function, call)
            if outers:
                through = f" (through `{call.held_in}`)" if call.held_in in outers[0].handed else ""
                what = f"given the Session `{given[0]}`" if given else (
                    "on an object holding the Session" if holder is not None else "given the Session it holds"
                )
                return (f"hands `{_name(project, edge.callee)}()`, {what}, to "
                        f"`{scheduled.written(outers[0])}()`{through}, {beside}")
    if given and call.receiver not in names and scheduled.is_scheduler(project, call, concurrent=True):
        return f"hands the Session `{given[0]}` to `{scheduled.written(call)}()`, {beside}"
    unread = scheduled.unread(project, call) if names else None
    if unread is not None:
        return (f"hands `{unread}` to `{scheduled.written(call)}()`, whose coroutines the analysis cannot tell "
                f"apart: one given the Session `{sorted(names)[0]}` would run beside the rest of the request, "
                "which after the migration is concurrent use of one AsyncSession; build the list in this "
                "function, or await the Session's work in sequence")
    return None


def _handed_held_method(project: Project, fid: FunctionId, call: facts.Call) -> tuple[str, FunctionId] | None:
    """A method working on the Session its instance holds that `call`, a concurrent scheduler, is
    handed uncalled (`tg.start_soon(repo.sync, x)`): (as written, the method), or None."""
    for written, target in scheduled.handed_functions(project, fid, call):
        holder = holders.holder_of(project, target)
        if holder is not None and target in holder.methods:
            return written, target
    return None


def _hands_held_method(project: Project, fid: FunctionId) -> bool:
    """Whether the function hands a concurrent scheduler a method working on the Session its
    instance holds: Session work the call graph does not show, since nothing calls the method here."""
    return any(_handed_held_method(project, fid, c) for c in project.functions[fid][1].calls)


def _through_wrapper(project: Project, found: dependencies.SharedSession) -> FunctionId | None:
    """The transaction dependency a dependency sharing the Session receives it from
    (`get_owner(db: TxDb)`): it moves with that dependency's twin."""
    _, function = project.functions[found.dependency]
    param = next((p for p in function.params if p.name == found.param), None)
    wrapper = dependencies.dependency_function(project, project.param_dependency(param)) if param else None
    return wrapper if wrapper in tx_dependency.wrappers(project) else None


def _generator_text(project: Project, fid: FunctionId, function: facts.Function, dependency: bool = False) -> str:
    decorated = [project.canonical(d.callee) for d in function.decorators]
    handed = next((p.name for p in function.params if p.name in project.session_params[fid]), None)
    if handed is not None and (
        "contextlib.contextmanager" in decorated or scope_openers.wrapped_as(project, fid) is not None
    ):
        # Its callers already hand it the route's Session: asking them to is no fix. What phase two
        # migrates is the same statements written in the caller.
        entered = scope_openers.entered_name(project, fid)
        why = scope_openers.handed_problem(project, fid)
        return (
            f"is a `@contextmanager` Session helper handed the caller's Session (`{handed}`) and entered with a "
            "synchronous `with`; phase two writes an `@asynccontextmanager` twin of such a helper only when it "
            "does nothing but yield that Session and commit, roll back, flush or close it"
            f"{', but ' + why if why else ''}: write its statements in each caller "
            f"instead, around the block its `yield` stands for, which phase two migrates (for a commit-or-roll-back "
            f"helper, `with {entered}(session):` becomes `try:` over the block ending in `session.commit()`, and "
            "`except Exception:` with `session.rollback()` and `raise`), then run phase two again; or write its "
            "`@asynccontextmanager` twin and migrate its callers by hand"
        )
    if "contextlib.contextmanager" in decorated:
        why = scope_openers.problem(project, fid) if scope_openers.is_opener(project, fid) else None
        return (
            "is a `@contextmanager` Session helper its callers enter with a synchronous `with`; phase two writes an "
            "`@asynccontextmanager` twin only of one that opens its Session from the sessionmaker and does nothing "
            f"but yield, commit, roll back and close it{', but ' + why if why else ''}: write the twin by hand (its "
            "callers then use `async with` and `await` its Session's calls), or have the callers pass in the "
            "Session the route receives"
        )
    if scope_openers.ASYNC_CONTEXTMANAGER in decorated and function.is_async:
        # no session dependency though it yields one: `Depends()` would hand the route the context manager
        why = scope_openers.problem(project, fid) if scope_openers.is_opener(project, fid) else None
        return (
            "is an `@asynccontextmanager` helper yielding a synchronous Session, which its callers enter with "
            "`async with` while its Session's calls still block the event loop; phase two writes an async twin "
            "only of one that opens its Session from the sessionmaker and does nothing but yield, commit, roll "
            f"back and close it{', but ' + why if why else ''}: write the twin by hand on the async sessionmaker "
            "(awaiting its Session's calls, and its callers' on that Session), or have the callers take the "
            "Session the route receives"
        )
    wrapper = scope_openers.wrapped_as(project, fid)
    if wrapper is not None:
        why = scope_openers.problem(project, fid) if scope_openers.is_opener(project, fid) else None
        return (
            f"is wrapped as `{wrapper} = contextmanager({function.name})`, a Session helper its callers enter with a "
            "synchronous `with`; phase two writes an `@asynccontextmanager` twin only of one that opens its Session "
            f"from the sessionmaker and does nothing but yield, commit, roll back and close it"
            f"{', but ' + why if why else ''}: write the twin by hand (its callers then use `async with`), or have "
            "the callers pass in the Session the route receives"
        )
    if dependency:
        # The blocker sits on the dependency's own line; the lines to change are its callers'.
        callers = sorted({_where(project, e.caller, e.call.line) for e in project.calls_to.get(fid, [])})
        where = f" at {', '.join(callers)}" if callers else ""
        return (
            f"is the session dependency `{function.name}`, which the code calls like a function{where} "
            f"(`next({function.name}())`, a `for` or `with` over it) instead of receiving its Session: phase two "
            f"replaces a dependency FastAPI injects, not a call; take the Session as a parameter "
            f"(`db: Session = Depends({function.name})`) and run phase two again"
        )
    if any(h.id == fid and h.kind == "route" for h in project.handlers):
        return (
            f"is a generator route ({'async def' if function.is_async else 'def'}), whose body FastAPI iterates "
            "while it streams the response; phase two does not rewrite a route into an async generator: make it "
            "`async def` and await its Session calls by hand, on a Session dependency without "
            "`scope=\"function\"` (that one is closed before the body runs: AM317)"
        )
    if function.is_async:
        return (
            "is an async generator, which phase two does not rewrite: once its callers hand it the AsyncSession, "
            "await its Session calls by hand (`(await db.scalars(q)).all()`, or `async for row in await "
            "db.stream(q)` for rows read from a server-side cursor)"
        )
    return (
        "is a generator: its callers iterate it synchronously (a `StreamingResponse` does, in the threadpool), "
        "where an AsyncSession's calls cannot be awaited; return a list instead, or write an async generator "
        "twin by hand that awaits them (`async for row in await db.stream(q)`) and hand that on"
    )


def _hands_on_session_connection(project: Project, fid: FunctionId, seen: set[FunctionId]) -> bool:
    """Whether the function, or a dependency its parameters name, hands an object taken from
    the Session (`db.connection()`) to other code (AM258)."""
    seen.add(fid)
    if any(own.rule is AM258 for own in _own_blockers(project, fid)):
        return True
    _, function = project.functions[fid]
    return any(
        _hands_on_session_connection(project, dependency, seen)
        for param in function.params if param.depends is not None
        for dependency in project.dependency_callables(param.depends) if dependency not in seen
    )


def _engine_work_on_loop(project: Project, handler: Handler) -> Reason | None:
    """A `def` route (in the threadpool) doing synchronous engine work, itself or in what it calls
    (AM279): made a coroutine, that work would block the event loop, and `check` would flag it."""
    from async_migrate.codemods.engine_work import (
        connection_dependencies,
        engine_summary,
        engine_work_reached,
    )

    if handler.function.is_async:
        return None  # it blocks the loop already; the move does not make that worse
    if _hands_on_session_connection(project, handler.id, set()):
        # The Session's own connection handed on (`LedgerRepository(db.connection())`), by the route
        # or a dependency of it: the work there is the Session's, which AM258 names; read as engine
        # work it would get the wrong fix.
        return None
    engine = engine_work_reached(project, handler.id)
    if not engine:
        return None
    fix = (
        "move it to the async engine (`async with async_engine.begin() as conn:` and `await conn.execute(...)`) "
        "or into a function called through `await run_in_threadpool(...)`, then rerun phase two"
    )
    shared = connection_dependencies(project, handler.id)
    if shared:
        # A fresh `async_engine.begin()` in the route would run apart from the transaction every other
        # dependency naming that Connection shares.
        named = ", ".join(f"`{name}` (`{written}`)" for name, written in shared)
        fix = (
            f"{named} {'works' if len(shared) == 1 else 'work'} on the request's synchronous Connection, whose "
            "transaction FastAPI shares with every dependency naming it: give the route an async Connection "
            "dependency in its place (`async with "
            "async_engine.begin() as conn: yield conn`, each statement awaited), moving with it any dependency "
            "that works on that Connection (a Session opened on it), or call that work through `await "
            "run_in_threadpool(...)`, then rerun phase two"
        )
    return AM279.reason(
        f"{_where(project, handler.id, engine[0].line)}: does synchronous engine work at {engine_summary(engine)}, "
        f"which runs in the threadpool while the route is `def`: as a coroutine it would block the event loop "
        f"(check: AM306); {fix}"
    )


def _websocket_still_blocks(project: Project, handler: Handler) -> str:
    """The synchronous Session work a websocket phase two leaves keeps on the event loop, as
    `check` says it (AM301): left alone is no all-clear. "" when it does none."""
    from async_migrate.codemods.session_work import session_work_view

    work = session_work_view(project, handler.id)
    if not handler.function.is_async or not work.any:
        return ""
    where = ", ".join(f"line {b.line} ({b.call})" for b in work.blocking)
    return (
        f"; its synchronous Session work{' at ' + where if where else ''} still blocks the event loop (check: AM301): "
        "move it into a plain def helper called as `await run_in_threadpool(helper, ...)`, or await an "
        "AsyncSession there by hand"
    )


def _no_session_work(project: Project, handler: Handler) -> str:
    """An unchanged route's own reason: none of the Session work phase two moves; an `async def`
    route whose Session work all runs in a worker thread (`await to_thread(User.get_by_email, e)`
    on a global Session) does some, which phase two leaves synchronous."""
    from async_migrate.codemods.session_work import session_work

    if handler.function.is_async:
        work = session_work(project, handler.id)
        if work.blocking and all(b.offloaded for b in work.blocking):
            where = ", ".join(f"line {b.line} ({b.call})" for b in work.blocking)
            return (
                f"does no synchronous Session work on the event loop: its Session work runs in a worker thread "
                f"({where}), on no Session the route receives, and phase two leaves it synchronous"
            )
        # `await ASYNC_CLIENT.delete(ids)`, which runs a client holding a Session of its own in a thread
        threaded = sorted({
            f"{_name(project, e.callee)} (line {e.call.line})" for e in project.all_calls_from[handler.id]
            if e.callee in project.work_chains and thread_own.only_in_threads(project, e.callee)
        })
        if threaded:
            return (
                f"does no synchronous Session work on the event loop: {', '.join(threaded)} "
                f"{'runs' if len(threaded) == 1 else 'run'} it in a worker thread, on a Session its client makes "
                "for itself, and phase two leaves it synchronous"
            )
    return "does no synchronous Session work"


def _still_blocks(project: Project, handler: Handler) -> str:
    """What of an unchanged route still blocks the loop, as phase one and `check` say: not Session
    work phase two moves, yet not an all-clear either."""
    from async_migrate.codemods.engine_work import engine_summary, engine_work_reached
    from async_migrate.codemods.phase1.rule import (
        lazy_loads_on_loop,
        load_verb,
        read_shown,
        threadpool_lazy_loads,
    )

    if not handler.function.is_async:
        pooled = threadpool_lazy_loads(project, handler)
        if pooled:
            # not an all-clear: its Session work is the dependency's, and it stays synchronous
            return (
                f" of its own; it {load_verb(pooled[0])} {read_shown(pooled[0])} on an object a dependency loaded on a "
                "synchronous Session, which stays on that Session in the threadpool while the route is `def`"
            )
        return ""
    engine = engine_work_reached(project, handler.id)
    if engine:
        return f"; its synchronous engine work at {engine_summary(engine)} still blocks the event loop (check: AM306)"
    lazy = lazy_loads_on_loop(project, handler)
    if lazy and lazy[0].kind == "expired" and lazy[0].offloaded:
        return (
            f"; it reads `{lazy[0].path}` after a commit it ran in the threadpool: expired, the read refreshes it "
            "on the event loop (check: AM307)"
        )
    if lazy and lazy[0].kind == "expired":
        return (
            f"; it reads `{lazy[0].path}` on an object a dependency committed its synchronous Session after "
            "loading: expired, the read refreshes it on the event loop (check: AM307)"
        )
    if lazy:
        return (
            f"; it {load_verb(lazy[0])} {read_shown(lazy[0])} on an object a dependency loaded on a synchronous Session, "
            "which still blocks the event loop (check: AM307)"
        )
    return ""


def _passes_session_text(
    project: Project, call: facts.Call, callee: str | None, session_args: Iterable[facts.Arg] = ()
) -> str:
    written = f"`{project.written(call.func)}()`" if call.func else (f"`{callee}()`" if callee else "a call")
    if call.method == "add_task" or project.canonical(callee) in BACKGROUND_TASK:
        # `JSONResponse(..., background=BackgroundTask(record, db))` as much as `tasks.add_task(record, db)`
        task = next((a.ref or a.name for a in call.args if a.position == 0), None)
        return (
            f"hands the Session to the background task {f'`{task}` ' if task else ''}through {written}: the "
            "task runs after the response, and phase two does not move it; let the task open its own Session"
        )
    cls = project.flow.classes.resolve(callee) if callee else None
    if cls is not None:
        # call-mappings name a library's async form; a project class is the project's to change
        return (
            f"passes the Session to {written}, the project class {project.flow.classes.short(cls)}, which phase "
            "two cannot move to the AsyncSession (the class's own reason says why)"
        )
    built = (
        project.flow.classes.resolve(call.func[:-2])
        if callee is None and call.func is not None and call.func.endswith("()") else None
    )
    if built is not None:
        # `Permission("admin")(db)`: the project's own `__call__`, not a library call to map
        return (
            f"passes the Session to {written}, the `__call__` of an instance of the project class "
            f"{project.flow.classes.short(built)} built in place, which phase two does not move for a direct "
            "call: migrate the route by hand (with an async form of the class for it)"
        )
    if callee is None and call.receiver is not None and call.method is not None:
        # `user.save(db)` on `user = User.get(db, pk)`: the object's class is what is unknown
        return (
            f"passes the Session to {written}, a method of `{call.receiver}`, whose class the analysis "
            "cannot tell, so neither which function runs: if it is project code, migrate the route by hand; "
            "if a library's, add its async form to [tool.async-migrate] call-mappings"
        )
    if callee is None and call.func is not None and call.func.startswith("$") and "." not in call.func and not (
        call.dispatch and call.spelled
    ):
        # `repo_cls(db)` on a parameter (`partial(get_repository, ProjectRepo)`): no library call
        # (a local taken out of a container, `for handler in self._handlers[kind]`, names the table)
        return (
            f"passes the Session to {written}, a call of the local name `{call.func[1:]}` (a parameter or a "
            "variable), whose value the analysis cannot tell, so neither what runs: call the class or "
            "function by its name there, or migrate the route by hand"
        )
    if project.canonical(callee) == "contextlib.nullcontext":
        # `with nullcontext(db) if db is not None else SessionLocal() as s:`: an optional Session's fallback
        return (
            f"enters the Session it is given through {written}, with a Session of its own in its place when given "
            "none, in one `with` phase two does not write as `async with` on the async sessionmaker: write the "
            "fallback as a branch of its own (`if db is None: with SessionLocal() as db: return helper(..., db)`), "
            "which phase two twins, then rerun phase two"
        )
    if project.canonical(callee) in _EVENT_REGISTRATION:
        # `@event.listens_for(db, "after_commit", once=True)`: AsyncSession raises NotImplementedError
        session = next((a.name for a in call.args if a.position == 0 and a.name), "db")
        return (
            f"registers an event listener on the Session through {written}; an AsyncSession takes none "
            f"(NotImplementedError: asynchronous events are not implemented): migrate the route by hand, "
            f"registering the listener on `{session}.sync_session`, the Session its work runs on"
        )
    by_string = _by_string_text(project, call, callee, session_args)
    if by_string is not None:
        return by_string
    partial = _partial_text(project, call, callee, written)
    if partial is not None:
        return partial
    if call.dispatch and call.spelled:
        return _table_text(call)
    return (
        f"passes the Session to {written}, which the tool cannot migrate (add it to [tool.async-migrate] "
        "call-mappings if it has an async form)"
    )


def _by_string_text(
    project: Project, call: facts.Call, callee: str | None, session_args: Iterable[facts.Arg]
) -> str | None:
    """`getattr(db, "commit")()`, `setattr(db, "autoflush", False)`, `hasattr(db, "info")`: the
    Session's own member named by a string, which phase two cannot read as a Session call; the
    fix is the member written by name (no library call to map). None for another call, or where
    the Session is not the object the name is looked up on (`setattr(repo, "session", db)`)."""
    builtin = (project.canonical(callee) or callee or "").removeprefix("builtins.")
    if builtin not in _BY_STRING:
        return None
    session = next((a.name for a in session_args if a.position == 0 and a.name), None)
    literal = next((text for at, text in call.literals or () if at == 1), "")
    name = literal[1:-1] if len(literal) > 1 and literal[0] == literal[-1] and literal[0] in "'\"" else ""
    if session is None:
        return None
    if not name.isidentifier():
        return (
            f"passes the Session to `{builtin}()` with a name computed at run time, which phase two cannot read "
            f"as a Session call: write the member by name there (`{session}.commit()`), then rerun phase two"
        )
    if name not in _SESSION_MEMBERS:
        return None
    if builtin == "setattr":
        written = f"{session}.{name} = ..."
    elif builtin == "getattr" and name in _SESSION_CALLED:
        written = f"{session}.{name}()"
    else:
        written = f"{session}.{name}"
    return (
        f"passes the Session to `{builtin}()` for its `{name}` named by a string, which phase two cannot read as "
        f"a Session call: write `{written}` by name there (phase two migrates what it can see), then rerun phase two"
    )


def _table_text(call: facts.Call) -> str:
    """`PROVIDERS[name](db)`, `self.providers[name](db)`: the project's own table, no library call
    to map; and the value it builds is not followed to the methods called on it."""
    tables = sorted({d.lstrip(LOCAL).rsplit(".", 1)[-1] for d in call.dispatch if not d.startswith(("=", BY_NAME)) and d not in (UNREAD, LAMBDA)})
    looked = sorted({d[len(BY_NAME):].rsplit(".", 1)[-1] for d in call.dispatch if d.startswith(BY_NAME)})
    if looked:
        return (
            f"passes the Session to `{call.spelled}()`, a function looked up by name at run time on "
            f"{', '.join(f'`{t}`' for t in looked)}, which phase two does not point at async counterparts: "
            "call the function by its name there (a dict of the async twins, say), or migrate the route by hand"
        )
    return (
        f"passes the Session to `{call.spelled}()`, a class or function picked at run time out of "
        f"{', '.join(f'`{t}`' for t in tables) or 'a container'}, which phase two does not point at async "
        "counterparts (the table would need an async twin of each entry): build the class or call the "
        "function by its name there, or migrate the route by hand"
    )


def _partial_text(project: Project, call: facts.Call, callee: str | None, written: str) -> str | None:
    """Why a `functools.partial` handed the Session, or one called with it, blocks: the call it
    stands for is made later or under another name, where the rewrite cannot await it. Call-mappings
    cannot help (`functools.partial` has no async form); writing the call out can."""
    mappings = project.call_mappings
    if project.canonical(callee) in PARTIALS:
        # `pager = partial(paginate, db)`, `pager(q)`: the partial is called where no rewrite reaches
        bound = next((a.ref for a in call.args if a.position == 0 and a.ref), None)
        inner = project.canonical(bound) if bound else None
        named = f"`{inner}`" if inner else "a function"
        form = f" (phase two makes it `await {mappings[inner]}(...)`)" if inner in mappings else ""
        return (
            f"binds the Session into {written} of {named}, called later, where phase two can neither rewrite "
            f"nor await the call; call {named} directly with the Session"
            f"{form} and rerun phase two"
        )
    made = project._made_by(callee) if callee else None
    if made is None or project.canonical(made.ref) not in PARTIALS or not made.args or not made.args[0].ref:
        return None
    # `get_author = partial(get_or_404, model=Author)` at module level, `get_author(db, ident=1)`
    inner = project.canonical(made.args[0].ref) or made.args[0].ref
    return (
        f"passes the Session to {written}, a `functools.partial` of `{inner}`, which phase two does not "
        f"migrate (it would need an async partial beside it): call `{inner}(...)` there with the bound "
        "arguments written out, and rerun phase two"
    )


_EVENT_REGISTRATION = frozenset({
    "sqlalchemy.event.listen", "sqlalchemy.event.listens_for",
    "sqlalchemy.event.api.listen", "sqlalchemy.event.api.listens_for",
})


def _uncertain_texts(project: Project, fid: FunctionId, skipped: set[int]) -> list[tuple[int, str]]:
    """Calls that may run one of several implementations (a method called on a value typed with a
    Protocol or abstract class several project classes implement), each naming them all: moved,
    only the implementations reached with the Session would become `async def`, while the call
    awaits whichever one runs."""
    texts: list[tuple[int, str]] = []
    seen = set(skipped)  # calls through a table of classes, told apart (AM215)
    for edge in methods.uncertain_calls(project, fid):
        if edge.call.index in seen:
            continue
        seen.add(edge.call.index)
        options = [e.callee for e in project.all_calls_from[fid] if e.call.index == edge.call.index]
        named = []
        for callee in sorted(set(options), key=lambda c: (project.functions[c][1].qualname, project.functions[c][0].path)):
            module, function = project.functions[callee]
            named.append(f"{function.qualname} ({module.path})")
        texts.append((edge.call.line, (
            f"calls `{edge.via or 'a method'}()`, which may run any of {', '.join(named)}, and the analysis "
            "cannot tell which one runs here; moved, only the ones reached with the Session would become "
            "`async def`, while the call would await whichever runs (an in-memory fake a test installs "
            "included): have the value declared with the class that holds the Session, or move the other "
            "implementations to `async def` by hand"
        )))
    return texts


def _inherited_from_outside(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """`crud.item.get(db, 1)`, `self.get(db, 1)` where the project class has no `get` and a
    base the tool cannot read may define it: why it cannot move, naming that base."""
    written = call.func or call.callee
    if written is None or "." not in written:
        return None
    receiver, _, name = written.rpartition(".")
    classes = project.flow.classes
    for value in project.flow.evaluate(fid, receiver):
        if value.kind != INSTANCE or value.target is None or value.target not in classes.by_ref:
            continue
        if any(name in classes.methods.get(cls, {}) for cls in classes.mro(value.target)):
            continue
        for cls in classes.mro(value.target):
            for base in classes.by_ref[cls][1].bases:
                if methods.is_unseen_base(project, base):
                    return (
                        f"passes the Session to `{project.written(written)}()`, which "
                        f"{classes.short(value.target)} inherits from `{project.canonical(base) or base}`: a base "
                        "outside PATH that the tool cannot read or move to AsyncSession (define the method in the "
                        "project, or keep the route as it is)"
                    )
    return None


# Further per-function checks (lazy loads) register here.
_EXTRA_BLOCKERS: list = []


def _query_to_mapped_call(
    project: Project, function: facts.Function, call: facts.Call, mappings: dict[str, str]
) -> str | None:
    """The blocker of a legacy Query handed whole to a library call that has an async form
    (`paginate(db.query(Book).order_by(Book.id))`): the async form takes the Session and a
    `select()`, never a Query, so the fix is that call written the 2.0 way on the synchronous
    Session, which phase two then awaits. None for any other chain."""
    if not call.query_chain or not call.receiver:
        return None
    by_index = {c.index: c for c in function.calls}
    for outer in function.calls:
        if outer.query_root != call.receiver or outer.line != call.line or outer.argument_of is None:
            continue
        taker = by_index.get(outer.argument_of)
        callee = project.canonical(taker.callee) if taker is not None else None
        if taker is None or callee not in mappings:
            continue
        from async_migrate.codemods.phase2.legacy_query import as_select

        statement = as_select(call.query_chain, call.receiver)
        if statement is None:
            return None
        name = (taker.callee or callee).rpartition(".")[2]
        target = mappings[callee].rpartition(".")[2]
        return (f"hands the legacy Query to `{name}()`, whose async form `{target}()` takes the Session and a "
                f"`select()`, never a Query: write `{name}({call.receiver}, {statement})` (it runs on the "
                f"synchronous Session as it is) and run phase two again, which makes it "
                f"`await {target}({call.receiver}, ...)`; or keep the route on the sync path")
    return None


def _opener_problem(project: Project, fid: FunctionId) -> str | None:
    """Why the project function a dependency opens the Session it yields with (`db =
    get_api_session()`) is no opener of a module-level sessionmaker; None when it opens none so."""
    _, function = project.functions[fid]
    for opened in function.opens:
        if opened.name in function.yields:
            problem = project.opener_problem(opened.callee)
            if problem is not None:
                return problem
    return None


def _legacy_query_blocker(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    from async_migrate.codemods.classes import project_classes

    if not call.query_chain or not call.receiver:
        return None
    mapped = project_classes(project).class_valued(fid)
    kept = next((k for k in project.functions[fid][1].query_vars if k.root == call.index), None)
    if kept is not None and kept.session == call.receiver:
        # Kept in a name and run later: each run, with every extension, is one chain to judge.
        for chain in kept.chains:
            problem = legacy_clear.chain_blocker(chain, call.receiver, False, mapped)
            if problem is not None:
                return f"`{kept.name}` keeps a legacy Query that runs as `{' '.join(chain.split())}`: {problem}"
        return None
    problem = legacy_clear.chain_blocker(call.query_chain, call.receiver, call.query_iterated, mapped)
    if problem is not None and not call.query_iterated:
        problem += _returned_query_callers(project, fid, call)
    return problem


def _returned_query_callers(project: Project, fid: FunctionId, call: facts.Call) -> str:
    """How the callers of a function returning its legacy Query (`return session.query(cls).
    filter_by(**kw)`) use it, for the reason: each runs it, or uses it otherwise (`.filter(...)`
    extends it, a name keeps it, a call is handed it), which a `select()` returned would not cover."""
    module, function = project.functions[fid]
    if not any(r.startswith(f"${call.receiver}.query(") for r in function.returned):
        return ""
    runs: dict[str, int] = {}
    others: list[str] = []
    for edge in sorted(project.all_calls_to.get(fid, []), key=lambda e: (e.caller, e.call.line)):
        caller_module, caller = project.functions[edge.caller]
        written = edge.call.func or edge.call.callee or ""
        after = sorted(
            (c.line, c.func[len(written) + 3:]) for c in caller.calls
            if written and c.func and c.func.startswith(f"{written}().") and c.line >= edge.call.line
        )
        method = after[0][1] if after else ""
        if method in QUERY_TERMINALS:
            runs[method] = runs.get(method, 0) + 1
        else:
            used = f"`.{method}()`" if method else "kept, returned or handed on"
            others.append(f"{caller_module.path}:{edge.call.line} `{caller.qualname}` ({used})")
    if not runs and not others:
        return ""
    ran = ", ".join(f"`.{m}()` {n}x" for m, n in sorted(runs.items()))
    text = f" (`{function.qualname}` returns it to its callers, which run it: {ran or 'none'}"
    if others:
        text += f"; and use it otherwise, which a returned `select()` would not cover: {'; '.join(others)}"
    return text + "; phase two rewrites a legacy Query within one function only, not one a function returns)"


def session_calls(project: Project, fid: FunctionId) -> list[facts.Call]:
    names = project.session_names(fid)
    _, function = project.functions[fid]
    return [call for call in function.calls if call.receiver in names and call.method is not None]


def _session_method(expr: str, names: Iterable[str]) -> bool:
    """`$session.commit`: a method of a Session in `names` that an AsyncSession makes a coroutine."""
    head, _, attribute = expr.removeprefix("$").partition(".")
    return (
        expr.startswith("$") and head in names
        and (attribute in AWAITED_METHODS or attribute in CONTEXT_METHODS or attribute == "query")
    )


def _nested_text(project: Project, fid: FunctionId, function: facts.Function) -> str:
    """AM225's reason: the function it is defined in, and for a handler what a factory's route
    is (one copy per call of the factory, closing over what it was given)."""
    outer = function.qualname.rpartition(".<locals>.")[0]
    handler = project.handler_index.get(fid)
    kind = handler.kind if handler is not None else None
    if kind is not None:
        return (f"is a {kind} defined inside `{outer}`: each call of that factory builds its own copy, "
                "closing over what it was given, and phase two moves only module-level functions")
    return f"is defined inside `{outer}`: its callers cannot be followed reliably"
