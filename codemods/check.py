"""`check`: the CI guard. What still blocks the event loop, read off the project index.

One finding per handler and rule, the `AM3xx` rules (`async-migrate rules`, `docs/rules.md`:
what each finds, where the analysis stops, and its fix). A pragma on the `def` line, or on the
line above it, silences one handler: `# async-migrate: ignore[AM301] reason` (or
`ignore[blocking-session]`); without brackets it silences every rule. Presentation-free: the CLI
renders what `check` returns.

Over 500 lines: one pass over the handlers whose findings share the pragma logic (silenced,
unused, malformed) and the fix texts; each rule's wording lives in its own module.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.objects import Term
from async_migrate.codemods.async_expired import (
    EXPIRY_UNKNOWN,
    GENERATED,
    HELD_UNKNOWN,
    expired_reads,
    generated_reads,
    rolled_back_reads,
)
from async_migrate.codemods.async_expired import UNVERIFIED as EXPIRED_UNVERIFIED
from async_migrate.codemods.async_response_reads import response_lazy_loads, validated_lazy_loads
from async_migrate.codemods.callee_expired import callee_expired_reads
from async_migrate.codemods.cascade_reads import CASCADED, cascade_reads
from async_migrate.codemods.check_result import CheckResult as CheckResult
from async_migrate.codemods.check_result import Finding as Finding
from async_migrate.codemods.check_result import Silenced as Silenced
from async_migrate.codemods.check_result import check as check
from async_migrate.codemods.concurrent_offloads import beside_running_offloads, overlapping_offloads
from async_migrate.codemods.concurrent_session import overlaps
from async_migrate.codemods.containers import may_be_plain
from async_migrate.codemods.decorator_work import runs_on_loop
from async_migrate.codemods.dropped_offloads import dropped_offloads
from async_migrate.codemods.engine_work import (
    coroutine_tasks,
    engine_summary,
    engine_work_in_coroutines,
    engine_work_reached,
    nested_engine_text,
)
from async_migrate.codemods.flow import CLASS
from async_migrate.codemods.forked import held_alike, judge_all
from async_migrate.codemods.handed_coroutines import handed_coroutines
from async_migrate.codemods.late_registry import late_registry_uses
from async_migrate.codemods.loader_objects import declared_classes, param_provider
from async_migrate.codemods.module_items import module_item_coroutine
from async_migrate.codemods.outcome import Blocking, Outcome, first_few
from async_migrate.codemods.periodic import periodic_blocking, repeating_decorator
from async_migrate.codemods.phase1 import shared_updates
from async_migrate.codemods.phase1.expired_deps import loop_commit_reads
from async_migrate.codemods.phase1.memory_sqlite import handler_memory_engine
from async_migrate.codemods.phase1.needs import BY_HAND_ASYNC, NeedKind, coroutine_needs
from async_migrate.codemods.phase1.rule import (
    decide,
    lazy_load_text,
    lazy_loads_on_loop,
    offloadable_call,
    own_lazy_loads,
    route_handler_text,
)
from async_migrate.codemods.phase1.shared_session import (
    UNREAD_SCOPE_FIX,
    SharedUse,
    first_work,
    offload_note,
    offloaded_shared_uses,
    past_constructions,
    registry_teardown_fix,
    shared_session_uses,
    thread_scoped_uses,
    unguarded_remove_fix,
    unseen_offloaded_openers,
    unseen_shared_openers,
)
from async_migrate.codemods.phase1.two_sessions import describe as describe_two_sessions
from async_migrate.codemods.phase1.two_sessions import two_sessions
from async_migrate.codemods.phase2.built_with_async import member_calls
from async_migrate.codemods.phase2.refreshed import by_name, by_query, only_set
from async_migrate.codemods.phase2.templates import template_renders
from async_migrate.codemods.pragma import Pragma, parse_pragma, silenceable
from async_migrate.codemods.project import (
    HOOK_KINDS,
    RESOLVER,
    ROUTE_KINDS,
    FunctionId,
    Handler,
    HandlerKind,
    Project,
    TargetKind,
)
from async_migrate.codemods.reached_handoffs import reached_session_handoffs
from async_migrate.codemods.request_validation import blocking_validators
from async_migrate.codemods.resolvers import describe_work, resolver_work, session_helper_call
from async_migrate.codemods.rules.am116_still_blocking import RULE as AM116
from async_migrate.codemods.rules.am119_unknown_keyword import RULE as AM119
from async_migrate.codemods.rules.am220_lazy_load import RULE as AM220
from async_migrate.codemods.rules.am221_dynamic_relationship import RULE as AM221
from async_migrate.codemods.rules.am222_lazy_load_in_response import RULE as AM222
from async_migrate.codemods.rules.am251_deferred_column_read import RULE as AM251
from async_migrate.codemods.rules.am301_blocking_session import RULE as AM301
from async_migrate.codemods.rules.am302_mixed_session import RULE as AM302
from async_migrate.codemods.rules.am303_bad_pragma import RULE as AM303
from async_migrate.codemods.rules.am304_unverified_session import RULE as AM304
from async_migrate.codemods.rules.am305_unused_pragma import RULE as AM305
from async_migrate.codemods.rules.am306_blocking_outside_session import RULE as AM306
from async_migrate.codemods.rules.am307_blocking_lazy_load import RULE as AM307
from async_migrate.codemods.rules.am308_blocking_middleware import RULE as AM308
from async_migrate.codemods.rules.am309_blocking_exception_handler import RULE as AM309
from async_migrate.codemods.rules.am310_unverified_route import RULE as AM310
from async_migrate.codemods.rules.am311_unawaited_coroutine import RULE as AM311
from async_migrate.codemods.rules.am312_blocking_request_validation import RULE as AM312
from async_migrate.codemods.rules.am313_wrapper_returns_coroutine_unrun import RULE as AM313
from async_migrate.codemods.rules.am314_missing_greenlet import RULE as AM314
from async_migrate.codemods.rules.am315_blocking_periodic_task import RULE as AM315
from async_migrate.codemods.rules.am316_nested_coroutine_on_loop import RULE as AM316
from async_migrate.codemods.rules.am317_session_closed_before_stream import RULE as AM317
from async_migrate.codemods.rules.am318_library_session_middleware import RULE as AM318
from async_migrate.codemods.rules.am319_two_sessions_per_request import RULE as AM319
from async_migrate.codemods.rules.am320_blocking_resolver import RULE as AM320
from async_migrate.codemods.rules.am321_unverified_resolver import RULE as AM321
from async_migrate.codemods.rules.am322_blocking_worker_coroutine import RULE as AM322
from async_migrate.codemods.rules.am323_session_coroutine_off_request import RULE as AM323
from async_migrate.codemods.rules.am324_shared_session_in_threadpool import RULE as AM324
from async_migrate.codemods.rules.am325_async_session_in_concurrent_tasks import RULE as AM325
from async_migrate.codemods.rules.am330_unawaited_coroutine_outside_handlers import RULE as AM330
from async_migrate.codemods.rules.am331_task_scoped_session_in_threadpool import RULE as AM331
from async_migrate.codemods.rules.am332_thread_scoped_session_in_worker import RULE as AM332
from async_migrate.codemods.rules.am333_request_scoped_session_after_remove import RULE as AM333
from async_migrate.codemods.rules.am334_blocking_response_serialisation import RULE as AM334
from async_migrate.codemods.rules.am335_sync_session_in_concurrent_threads import RULE as AM335
from async_migrate.codemods.rules.am336_shared_connection_in_threadpool import RULE as AM336
from async_migrate.codemods.rules.am337_await_in_generator_expression_iterated import RULE as AM337
from async_migrate.codemods.rules.am338_process_wide_async_session import RULE as AM338
from async_migrate.codemods.rules.am339_dependency_gives_another_class import RULE as AM339
from async_migrate.codemods.rules.am340_refresh_of_rolled_back_object import RULE as AM340
from async_migrate.codemods.rules.am342_blocking_thread_wait import RULE as AM342
from async_migrate.codemods.run import (
    Progress,
    served_path,
)
from async_migrate.codemods.serialised_reads import loop_serialisers
from async_migrate.codemods.session_work import (
    SessionWork,
    coroutine_blocking,
    first_await,
    own_blocking,
    session_handoffs,
    session_work,
    session_work_view,
    streamed_lines,
)
from async_migrate.codemods.thread_bound import offloaded_bound_uses, thread_bound_uses
from async_migrate.codemods.unawaited_session import (
    THREADED,
    async_session_locals,
    misused_sessions,
    never_runs,
    unawaited_session_calls,
)
from async_migrate.codemods.unresolved_dependencies import unresolved_dependencies
from async_migrate.codemods.unrun_wrappers import unrun_wrappers
from async_migrate.codemods.vocabulary.fastapi_sqlalchemy import MIDDLEWARES as LIBRARY_MIDDLEWARES
from async_migrate.codemods.vocabulary.python import (
    KEEPS_FUNCTION,
    METHOD_DECORATORS,
    PARTIALS,
    RUN_WHEN_AWAITED,
)
from async_migrate.codemods.vocabulary.sqlalchemy import (
    DERIVED_AWAITED,
    POLYMORPHIC,
    SESSION_IO_METHODS,
    Derived,
)
from async_migrate.codemods.vocabulary.starlette import (
    REQUEST_BODY_READS,
    REQUEST_TYPES,
    STREAMING_RESPONSE,
    UPLOAD_FILE_COROUTINES,
    UPLOAD_FILE_TYPES,
)
from async_migrate.codemods.worker_registry import harm as worker_harm
from async_migrate.codemods.worker_registry import worker_registry_uses

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Set as AbstractSet

    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk
    from async_migrate.codemods.phase2.model_members import Summary
    from async_migrate.codemods.rules.base import Rule

# The handlers FastAPI runs for a request (phase one may make one a `def`), and of those the
# routes and dependencies (a websocket stays `async def`).
_REQUEST_KINDS = (*ROUTE_KINDS, HandlerKind.DEPENDENCY)
_ROUTE_OR_DEPENDENCY = (HandlerKind.ROUTE, HandlerKind.DEPENDENCY)


def analyse(project: Project, jobs: int | None = 1, progress: Progress | None = None) -> CheckResult:
    """`check`'s findings on the project; `jobs`: processes judging the handlers
    (`codemods.forked`; None: all cores)."""
    result = CheckResult(root=Path("."))
    checked = set()
    acknowledged = set()
    result.routes = sum(1 for handler in project.handlers if handler.kind in ROUTE_KINDS)
    shared = held_alike(project)
    reported = project.reported_handlers

    def done(count: int) -> None:
        if progress is not None:
            progress("analyse", count, len(reported))

    for handler, judged in zip(reported, judge_all(reported, partial(_judge, project), jobs, shared, done)):
        result.findings += judged.findings
        result.silenced += judged.silenced
        result.handlers += judged.handlers
        result.resolvers += judged.resolvers
        if judged.checked:
            checked.add(handler.id)
        if judged.acknowledged:
            acknowledged.add(handler.id)
    for handler in project.reported_handlers:
        if handler.kind in _REQUEST_KINDS and _check_validation(project, handler, result):
            acknowledged.add(handler.id)
        if handler.kind == HandlerKind.ROUTE and not handler.function.is_async and _check_serialisation(project, handler, result):
            acknowledged.add(handler.id)
    for module in project.modules.values():
        if project.in_scope(module.path):
            for added in module.registrations:
                if added.attr == "hook:middleware" and project.canonical(added.endpoint) in LIBRARY_MIDDLEWARES:
                    _check_library_middleware(module, added, result)
                elif added.attr == "hook:middleware" and added.endpoint is None:
                    _check_unread_middleware(module, added, result)
    unresolved = project.unresolved_endpoints
    result.routes += len(unresolved)
    for module, added in unresolved:
        if project.in_scope(module.path):
            _check_unresolved_endpoint(module, added, result, project.endpoint_overrides(added.endpoint))
    checked |= _check_worker_coroutines(project, result)
    checked |= _check_periodic(project, result)
    checked |= _check_unawaited_outside(project, result)
    # A pragma without a reason is a finding wherever it is, handler or not; on a `def`
    # handler, which `check` does not judge but for its background tasks, a pragma
    # silences nothing.
    handlers = {handler.id: handler for handler in project.reported_handlers}
    for fid, module, function in project.iter_functions():
        if fid in checked or not project.in_scope(module.path):
            continue
        pragma = parse_pragma(function.pragma)
        problem = _pragma_problem(pragma) if pragma is not None else None
        if problem is not None:
            result.findings.append(Finding(AM303, None, module.path, function.line, function.qualname, problem))
        elif pragma is not None and fid in handlers and fid not in acknowledged:
            handler = handlers[fid]
            why = (
                "`check` does not judge a startup/shutdown handler, it runs once, before the first request or "
                "after the last"
                if handler.kind == HandlerKind.LIFECYCLE
                else f"`check` does not judge a `def` {_kind(handler)}, it runs in the threadpool"
            )
            message = _unused_pragma_message(pragma, why)
            result.findings.append(Finding(AM305, handler, module.path, function.line, function.qualname, message))
    result.findings.sort(key=lambda f: (f.file, f.line, f.function, f.code))
    result.silenced.sort(key=lambda s: (s.file, s.line, s.function, s.rule.code))
    return result


@dataclass
class _Judgement(CheckResult):
    """One reported handler's findings; `handlers`, `resolvers` count it."""

    checked: bool = False  # judged as a handler (a pragma on it is not the unused AM305)
    acknowledged: bool = False  # its pragma silenced something


def _judge(project: Project, handler: Handler) -> _Judgement:
    result = _Judgement(root=Path("."))
    if handler.kind == HandlerKind.LIFECYCLE:
        # Startup and shutdown run once, before the first request or after the last: blocking
        # there delays them and no request. `scan` says so (AM133); `check` does not fail on it.
        # A coroutine they schedule (`asyncio.create_task(poll())` in a lifespan) runs while the
        # application serves, so its blocking work delays requests: AM306 as for any handler.
        result.acknowledged = _check_tasks(project, handler, result, tasks_only=True)
        # Work it hands to a worker thread leaves that worker a Session the requests it serves
        # later get: AM332 as for any handler.
        finding = _registry_in_worker(project, handler)
        if finding is not None and _report(result, finding, parse_pragma(handler.function.pragma)):
            result.acknowledged = True
        return result
    if handler.kind == RESOLVER:
        # graphql-core runs a `def` resolver on the event loop too: judged either way, and the
        # summary counts it apart from the `async def` handlers.
        if handler.function.is_async:
            result.handlers += 1
        else:
            result.resolvers += 1
        result.checked = True
        _check_resolver(project, handler, result)
        return result
    if handler.function.is_async:
        result.handlers += 1
        result.checked = True
        _check_handler(project, handler, result)
        return result
    # A `def` handler too runs a blocking `async def` task on the loop, or calls a coroutine
    # function without running it: its pragma may silence those findings.
    silenced = _check_tasks(project, handler, result)
    # A `def` handler given an AsyncSession (its dependency moved by hand, the handler not) that
    # hands it to synchronous code: each Session call there makes a coroutine nothing runs.
    handed = async_session_handoffs(project, handler, any_def=True)
    found = (
        _def_on_loop(project, handler),
        _nested_on_loop(project, handler),
        _closed_before_stream(project, handler),
        _unawaited(project, handler),
        _mixed_finding(project, handler, handed, handed),
        _shared_in_threadpool(project, handler),
        _shared_connection_in_threadpool(project, handler),
        _task_scoped_in_threadpool(project, handler),
        _registry_in_worker(project, handler),
        _registry_after_remove(project, handler),
        _unresolved_factory_dependency(project, handler),
    )
    pragma = parse_pragma(handler.function.pragma)
    for finding in found:
        if finding is not None and _report(result, finding, pragma):
            silenced = True
    result.acknowledged = silenced
    return result


def _check_handler(project: Project, handler: Handler, result: CheckResult) -> None:
    function = handler.function
    pragma = parse_pragma(function.pragma)
    work = session_work(project, handler.id)
    handed = async_session_handoffs(project, handler)
    if function.is_async:
        # the same handoff in a project coroutine the handler awaits on its AsyncSession
        names = [*async_session_params(project, handler), *async_session_locals(project, function)]
        handed = _with_unlisted(handed, reached_session_handoffs(project, handler, list(dict.fromkeys(names))))
    mixed = _merged(sync_helper_calls(project, handler), handed)
    off_greenlet = sync_session_off_greenlet(project, handler)
    async_lazy = async_lazy_loads(project, handler)
    if function.is_async and handler.kind in _ROUTE_OR_DEPENDENCY:
        sessions = handler_async_sessions(project, handler)
        expired = expired_reads(project, handler.id, sessions)
        expired = _with_unlisted(expired, callee_expired_reads(project, handler, sessions))
        expired = _with_unlisted(expired, rolled_back_reads(project, handler.id, sessions))
        expired = _with_unlisted(expired, generated_reads(project, handler.id, sessions))
        async_lazy = _with_unlisted(async_lazy + expired, cascade_reads(project, handler.id, sessions))
        async_lazy = [_detached(function, sessions, b) for b in async_lazy]
    seen = {(b.line, b.call) for b in mixed}
    blocking = [b for b in blocking_calls(project, handler, work) if (b.line, b.call) not in seen]
    candidates: list[Finding] = []
    if handler.kind in HOOK_KINDS:
        blocking = past_constructions(project, handler, blocking)
    if blocking and handler.kind in HOOK_KINDS:
        rule = AM308 if handler.kind == HandlerKind.MIDDLEWARE else AM309
        candidates.append(
            _handler_finding(
                rule, handler,
                _hook_message(project, handler, blocking),
                blocking,
                "keep",
            )
        )
        blocking = []
        work = SessionWork()  # reported: no AM304/AM307 on top of it
    if blocking:
        outcome = decide(project, handler)
        candidates.append(
            _handler_finding(
                AM301, handler,
                _blocking_message(project, handler, outcome, blocking, {(b.line, b.call) for b in handed}),
                blocking,
                outcome.action,
            )
        )
    # A call AM302 already reports (a helper handed the AsyncSession, doing its own Session work
    # through a library: `paginate(db, q)`) needs no second, vaguer finding at the same line. Work
    # it sees, all offloaded (`await run_in_threadpool(user.save)`), clears none it cannot see
    # left on the loop (`User.get(id)` through an untyped `cls.session`): `unverified` lists only
    # calls not offloaded.
    if not blocking and work.unverified and work.unverified[0][0] not in {b.line for b in mixed}:
        line, text = work.unverified[0]
        advice = project.held_dependency_advice(handler.id, text)
        shared = None if advice else unseen_shared_openers(project, handler.id)
        if shared is not None:
            # offloading it, as the general advice says, would put each request on a thread of
            # its own, all on the one unit of work (AM324)
            instance, cls, _ = shared
            advice = (
                f"give each request its own {cls} instead of `{instance}`, whose Session every request shares "
                "(on a worker thread, with `run_in_threadpool`, concurrent requests would use it together), "
                "then make what it runs readable (a module-level table of functions no code changes)"
            )
        candidates.append(
            _handler_finding(
                AM304, handler,
                f"async def {_kind(handler)} may do synchronous Session work the analysis cannot see: "
                f"{text} (line {line}); "
                + (f"{advice}," if advice else _unverified_advice(text))
                + " or acknowledge it with `# async-migrate: ignore[AM304] reason`",
                [Blocking(line, text)],
                "keep",
            )
        )
    lazy = lazy_loads_on_loop(project, handler, work) if not blocking else []
    if lazy:
        candidates.append(
            _handler_finding(
                AM307, handler,
                f"async def {_kind(handler)} "
                + lazy_load_text(project, lazy, function.awaits, "`async-migrate phase1` converts it to def"),
                [Blocking(risk.line, f"{risk.path} (lazy load)") for risk in lazy],
                decide(project, handler).action,
            )
        )
    outside = _outside_session(project, handler, blocking)
    if outside is not None:
        message, calls = outside
        candidates.append(
            Finding(AM306, handler, handler.module.path, function.line, function.qualname, message, calls)
        )
    for finder in _handler_finders():
        found = finder(project, handler)
        if found is not None:
            candidates.append(found)
    if off_greenlet or async_lazy:
        candidates.append(_off_greenlet_finding(handler, off_greenlet, async_lazy))
    mixed_finding = _mixed_finding(project, handler, mixed, handed)
    if mixed_finding is not None:
        candidates.append(mixed_finding)
    doubled = two_sessions(project, handler)
    if doubled:
        candidates.append(
            _handler_finding(
                AM319, handler,
                f"async def {_kind(handler)} works on an AsyncSession, but "
                + describe_two_sessions(project, handler, doubled) + f"; fix: {AM319.fix}",
                [b for found in doubled for b in found.handed] or [Blocking(function.line, doubled[0].dependency)],
                "keep",
            )
        )
    # A dependency the analysis cannot resolve (`Security(verify_prod)`, `verify_prod =
    # build(verify)`) may receive the synchronous Session or do its work on the loop: unverified.
    unresolved = (
        unresolved_dependencies(project, handler)
        if function.is_async and not doubled and not any(c.rule is AM304 for c in candidates)
        else []
    )
    if unresolved:
        more = f" (and {len(unresolved) - 1} more)" if len(unresolved) > 1 else ""
        candidates.append(
            _handler_finding(
                AM304, handler,
                f"async def {_kind(handler)} runs the dependency `{unresolved[0]}`{more}, whose callable the "
                "analysis cannot resolve to a project function or class: it may receive the synchronous "
                "Session or do Session work the analysis cannot see; name the dependency function itself "
                "in `Depends(...)`, or acknowledge it with `# async-migrate: ignore[AM304] reason`",
                [Blocking(function.line, unresolved[0])],
                "keep",
            )
        )
    problem = _pragma_problem(pragma) if pragma is not None else None
    if problem is not None:
        result.findings.append(
            Finding(AM303, handler, handler.module.path, function.line, function.qualname, problem)
        )
    if pragma is not None and not pragma.unknown and not any(pragma.silences(f.rule) for f in candidates):
        result.findings.append(Finding(AM305, handler, handler.module.path, function.line, function.qualname,
                                       _unused_pragma_message(pragma, _unused_why(pragma, handler))))
    for finding in candidates:
        _report(result, finding, pragma)


def _with_unlisted(
    found: list[Blocking], more: list[Blocking], key: Callable[[Blocking], object] = attrgetter("line")
) -> list[Blocking]:
    """`found`, then each of `more` whose `key` (its line) none of `found` has: a read or call one
    analysis lists already is not listed again by the next, vaguer or not."""
    listed = {key(b) for b in found}
    return [*found, *(b for b in more if key(b) not in listed)]


def _line_and_read(blocking: Blocking) -> tuple[int, str]:
    """A lazy read's line and what it reads (`item.owner`), whatever each analysis says of it."""
    return blocking.line, blocking.call.partition(" (")[0]


def _handler_finders() -> tuple[Callable[[Project, Handler], Finding | None], ...]:
    """The findings judged on the handler alone, in the order they are listed."""
    return (
        _unawaited, _left_running, _overlapping, _overlapping_offloads, _unrun_wrapper, _closed_before_stream,
        _offloaded_shared, _offloaded_connection, _registry_in_worker, _registry_after_remove, _async_generators,
        _process_wide_async, _provided_mismatch, _transient_refresh, _thread_wait,
    )


def _thread_wait(project: Project, handler: Handler) -> Finding | None:
    """AM342: an `async def` handler waiting on another thread or process (`thread_waits`)."""
    from async_migrate.codemods.thread_waits import awaited_form, thread_wait

    function = handler.function
    found = thread_wait(project, handler.id) if function.is_async else None
    if found is None:
        return None
    line, wait = found
    return Finding(
        AM342, handler, handler.module.path, function.line, function.qualname,
        f"async def {_kind(handler)} waits on another thread or process on the event loop: {wait}; every other "
        "request waits with it until the other side acts (for ever, if that needs the loop); fix: await it "
        f"({awaited_form(wait)}), or make the {_kind(handler)} a plain `def`",
        [Blocking(line, wait.partition("`")[2].partition("`")[0] or wait)],
    )


def _provided_mismatch(project: Project, handler: Handler) -> Finding | None:
    """AM339: a parameter declared as a class its dependency does not give, that one doing
    synchronous Session work (`provided_classes`)."""
    from async_migrate.codemods.provided_classes import holds_sync_session, mismatches

    if not handler.function.is_async:
        return None
    found = [
        m for m in mismatches(project, handler.id) if any(holds_sync_session(project, c) for c in m.provided)
    ]
    if not found:
        return None
    function = handler.function
    shown = "; ".join(m.described(project) for m in found)
    return Finding(
        AM339, handler, handler.module.path, function.line, function.qualname,
        f"async def {_kind(handler)}: {shown}, whose Session work is synchronous: FastAPI hands over what the "
        "dependency gives, whatever the annotation says, so that work runs on the event loop and awaiting its "
        f"plain results raises TypeError; fix: {AM339.fix}",
        [Blocking(m.handed[2] if m.handed else m.param.line, f"`{m.param.name}`") for m in found],
    )


def _transient_refresh(project: Project, handler: Handler) -> Finding | None:
    """AM340: a refresh of an object the rollback before it expunged (`transient_refresh`)."""
    from async_migrate.codemods.transient_refresh import transient_refreshes

    function = handler.function
    if not function.is_async:
        return None
    names = [*async_session_params(project, handler), *async_session_locals(project, function)]
    sessions = {**{name: name for name in names}, **held_async_sessions(project, handler)}
    found = transient_refreshes(project, function, sessions) if sessions else []
    if not found:
        return None
    shown = "; ".join(f"line {b.line}: {b.call}" for b in found)
    return Finding(
        AM340, handler, handler.module.path, function.line, function.qualname,
        f"async def {_kind(handler)} refreshes an object the rollback before it expunged ({shown}): its commit is "
        "the one that failed, so it is transient and the refresh raises InvalidRequestError ('not persistent "
        f"within this Session'), a 500 where the handler answered; fix: {AM340.fix}",
        found,
    )


def _process_wide_async(project: Project, handler: Handler) -> Finding | None:
    """AM338: awaited work on an AsyncSession every request shares (`process_wide_async`)."""
    from async_migrate.codemods.process_wide_async import shared_async_uses

    if not handler.function.is_async:
        return None
    uses = shared_async_uses(project, handler.id)
    if not uses:
        return None
    function = handler.function
    firm = [use for use in uses if not use.unverified]
    shown = firm or uses
    made = ", ".join(sorted({use.made for use in shown}))
    calls = ", ".join(f"line {use.line} (`{use.call}`)" for use in shown) + f" (made {made})"
    harm = (
        "concurrent requests take turns on the event loop at each `await`, so their work on it overlaps "
        "(InvalidRequestError \"concurrent operations are not permitted\") and one request's commit or rollback "
        "ends another's transaction"
    )
    if firm:
        text = (f"async def {_kind(handler)} works on one AsyncSession the whole process shares at {calls}: {harm}; "
                f"fix: {AM338.fix}")
    else:
        text = (f"async def {_kind(handler)} works through an object every request shares at {calls}, whose class "
                "sets the AsyncSession it holds outside its `__init__`: the analysis cannot tell whether it is one "
                f"Session for every request (unverified, not cleared); if it is, {harm}; fix: {AM338.fix}, or "
                "acknowledge it with `# async-migrate: ignore[AM338] reason`")
    return Finding(AM338, handler, handler.module.path, function.line, function.qualname, text,
                   [Blocking(use.line, use.call) for use in shown])


def _async_generators(project: Project, handler: Handler) -> Finding | None:
    """AM337: an `await` in a generator expression (not its first iterable, which runs where the
    expression is made) of the handler, or of a project coroutine it awaits, at any depth, unless an
    `async for` or async comprehension iterates that generator expression itself."""
    if not handler.function.is_async:
        return None
    calls: list[Blocking] = []
    seen: set[FunctionId] = set()
    pending = [(handler.id, 0)]
    while pending:
        fid, line = pending.pop()
        if fid in seen or len(seen) > 200:
            continue
        seen.add(fid)
        module, function = project.functions[fid]
        for call in function.calls:
            if call.awaited and call.in_generator and not call.nested and not call.async_iterated:
                text = project.written(call.func) if call.func else (call.callee or "a call").rsplit(".", 1)[-1]
                where = "" if fid == handler.id else f" at {module.path}:{call.line} in {module.name}.{function.qualname}"
                calls.append(Blocking(line or call.line, f"await {text}(...) in a generator expression{where}"))
        pending.extend(
            (edge.callee, line or edge.call.line) for edge in project.all_calls_from.get(fid, ())
            if edge.call.awaited and project.functions[edge.callee][1].is_async
        )
    if not calls:
        return None
    function = handler.function
    shown = ", ".join(f"line {b.line} ({b.call})" for b in calls)
    return Finding(
        AM337, handler, handler.module.path, function.line, function.qualname,
        f"async def {_kind(handler)} awaits inside a generator expression at {shown}: the `await` makes it an async "
        "generator, which `any()`, `sum()`, `list()` and a plain `for` cannot iterate (TypeError when the request "
        f"runs); fix: {AM337.fix}",
        calls,
    )


def _mixed_finding(project: Project, handler: Handler, mixed: list[Blocking], handed: list[Blocking]) -> Finding | None:
    """AM302: synchronous Session code the handler reaches or hands its AsyncSession to (`mixed`,
    `handed` among them), and the methods AsyncSession does not have that it or a coroutine it
    hands the AsyncSession to calls on it (`db.query(User)`: AttributeError when it runs)."""
    missing, entered, iterated, streamed, engines, managers, awaited = misused_sessions(project, handler.id)
    if not (mixed or missing or entered or iterated or streamed or engines or managers or awaited):
        return None
    function = handler.function
    # each misuse found: where, and what it does when it runs (after "at <places>")
    kinds = (
        (missing, "calls a method AsyncSession does not have", "AttributeError when it runs; write it as a "
         "`select()` statement and await `execute()` or `scalars()`, or run the synchronous code through "
         "`await session.run_sync(fn)`"),
        (entered, "enters an AsyncSession or its transaction with a plain `with`", "neither has `__enter__`, "
         "so the statement raises before its block runs; write `async with`"),
        (iterated, "iterates an AsyncResult with a plain `for`, a comprehension or `list()`", "it has no "
         "`__iter__`, so the iteration raises TypeError; write `async for` (`[x async for x in result]`), or "
         "`await result.all()` first"),
        (streamed, "runs a statement streaming rows from a server-side cursor through `execute()`/`scalars()`",
         "AsyncSession refuses it (AsyncMethodRequired) when it runs; iterate `await session.stream(...)` or "
         "`stream_scalars(...)` with `async for`, or drop the option"),
        (engines, "connects on the synchronous Engine `get_bind()` gives", "on an AsyncSession that is the "
         "Engine its AsyncEngine wraps, which connects only inside `run_sync`, so it raises MissingGreenlet on "
         "the event loop; use `await session.connection()` or `await session.run_sync(fn)`"),
        (managers, "enters a synchronous context manager of an AsyncSession with `async with`", "it has no "
         "`__aenter__`, so the statement raises TypeError before its block runs; enter it with a plain `with` "
         "inside the `async with`"),
        (awaited, "awaits a method AsyncSession keeps synchronous", "it returns no awaitable (`add()` returns "
         "None), so the `await` raises TypeError when it runs; call it without `await`"),
    )
    found = [(places, f"{what} at {', '.join(shown for _, shown in places)}: {harm}") for places, what, harm in kinds
             if places]
    absent = "; it also ".join(text for _, text in found)
    missing = [place for places, _ in found for place in places]
    if mixed:
        message = _mixed_message(project, handler, mixed, handed) + (f"; it also {absent}" if absent else "")
    else:
        message = f"{'async def' if function.is_async else 'def'} {_kind(handler)} works on an AsyncSession but {absent}"
    return Finding(
        AM302, handler, handler.module.path, function.line, function.qualname, message,
        _merged(mixed, [blocking for blocking, _ in missing]),
    )


def _unawaited(project: Project, handler: Handler) -> Finding | None:
    """AM311: the handler's own calls of project coroutine functions (and of the async forms of
    mapped library calls, `apaginate`) that are not awaited, nor
    handed to another call (`create_task(f())`, `gather(...)`, a wrapper the analysis does not read),
    nor held in a local name that runs them on every path after (`astcollect.awaited_later`)."""
    calls: list[Blocking] = []
    by_index = {call.index: call for call in handler.function.calls}
    for edge in project.all_calls_from.get(handler.id, ()):
        call = edge.call
        # `asyncio.wait_for(f(db), 5)` runs f only when it is awaited itself
        outer = by_index.get(call.argument_of) if call.argument_of is not None else None
        wrapper = _unawaited_wrapper(project, outer)
        # `c = f(); ... await c`: a coroutine a local name holds, run on every path after
        # handed to a call, which may run it; a builtin taking it as any object (`print(f(db))`) never does
        # Run in a worker thread (`run_in_threadpool(lambda: repo.get(id))`, a nested def, the function
        # itself handed there, whose record is `awaited` as the offloading call is): the thread hands
        # back the coroutine, which nothing awaits.
        threaded = call.offloaded and not call.greenlet
        if (call.awaited and not threaded) or (call.nested and not threaded) or call.consumed or (
            call.argument_of is not None and wrapper is None
            and not never_runs(project, handler.function, call.argument_of)
        ):
            continue
        module, callee = project.functions[edge.callee]
        if not makes_coroutine(project, edge.callee):
            # an async generator is iterated (`async for`, a StreamingResponse), never awaited; a
            # decorator may run the coroutine (`@sync_compatible` called from synchronous code)
            continue
        if callee.qualname.rpartition(".")[2] in ("__aenter__", "__aexit__") and project.flow.entered(handler.id, call):
            continue  # `async with make_publisher() as p`: the statement awaits what the object's methods return
        if may_be_plain(project, handler.id, call):
            continue
        text = f"{module.name}.{callee.qualname}(...)"
        if wrapper is not None:
            text = f"{wrapper}({text})"
        text += _plain_alternatives(project, handler.id, call)
        if threaded:
            text += THREADED
        if all(b.line != call.line or b.call != text for b in calls):
            calls.append(Blocking(call.line, text))
    # A library's async form of a call phase two maps (`apaginate(db, q)`) is a coroutine function
    # too: written without `await` (by hand, after phase two), it returns the coroutine, and a
    # response built from it is no page.
    library = {target for target in project.call_mappings.values()
               if project.function(target) is None}
    for call in handler.function.calls:
        if call.callee is None or project.canonical(call.callee) not in library:
            continue
        outer = by_index.get(call.argument_of) if call.argument_of is not None else None
        wrapper = _unawaited_wrapper(project, outer)
        if call.awaited or call.offloaded or call.nested or call.consumed or call.within or (
            call.held_in is not None or (
                call.argument_of is not None and wrapper is None
                and not never_runs(project, handler.function, call.argument_of)
            )
        ):
            continue
        text = f"{project.canonical(call.callee)}(...)"
        calls.append(Blocking(call.line, f"{wrapper}({text})" if wrapper is not None else text))
    # `REPOS["task"].save(task)` on `REPOS = {"task": Repo(...)}`: the flow does not type the
    # items, so no edge; a coroutine method of that name may be what it calls: unverified
    resolved = {edge.call.index for edge in project.all_calls_from.get(handler.id, ())}
    for call in handler.function.calls:
        if call.index in resolved or call.awaited or call.offloaded or call.consumed or call.within or (
            call.held_in is not None or call.argument_of is not None and not never_runs(
                project, handler.function, call.argument_of
            )
        ):
            continue
        item = module_item_coroutine(project, handler.function, call, _coroutine_methods(project))
        if item is not None:
            calls.append(Blocking(call.line, f"{item}: unverified, not cleared"))
    shown = [f"line {b.line} ({b.call})" for b in calls]
    for blocking, where_shown in unawaited_session_calls(project, handler.id):
        calls.append(blocking)
        shown.append(where_shown)
    # `asyncio.to_thread(f, db)` nothing awaits: a coroutine as the project's are, f never runs;
    # `loop.run_in_executor(None, f, db)` dropped: f runs, but unjoined (said apart)
    dropped = dropped_offloads(project, handler.id)
    for offload in dropped:
        calls.append(Blocking(offload.line, offload.call))
        if not offload.started:
            shown.append(f"line {offload.line} ({offload.call})")
    futures = [offload.harm() for offload in dropped if offload.started]
    if not calls:
        return None
    function = handler.function
    where = ", ".join(shown)
    fix = (
        "await it" if function.is_async
        else f"a `def` {_kind(handler)} cannot await: make it `async def` and await it, or call a synchronous version"
    )
    parts = [
        f"calls a coroutine function without `await` at {where}: the call only creates a coroutine, nothing "
        f"in it runs (its Session work is lost) and what it returns is the coroutine; {fix}"
    ] if shown else []
    if futures:
        parts.append("; ".join(futures) + "; await the future")
    return Finding(
        AM311, handler, handler.module.path, function.line, function.qualname, "; also, ".join(parts), calls,
    )


# What a coroutine handed straight to it runs in place, or as a task that is joined: `await`ed or held
# to be awaited, the call or one around it.
_JOINED_WHEN_AWAITED = frozenset(
    {"asyncio.gather", "asyncio.wait", "asyncio.wait_for", "asyncio.tasks.wait_for", "asyncio.shield",
     "asyncio.create_task", "asyncio.ensure_future", "asyncio.run_coroutine_threadsafe"}
)


def _left_running(project: Project, handler: Handler) -> Finding | None:
    """AM323: the handler's coroutines given its AsyncSession that are handed to what runs them as a
    task nobody awaits (`create_task(save(db))` alone), or to what the analysis does not follow
    (`fire(save(db))`): they run after the handler, on an AsyncSession the dependency closes."""
    names = set(project.declared_async_session_params(handler.id))
    if not names:
        return None
    function_of = handler.function
    by_index = {call.index: call for call in function_of.calls}
    calls: list[Blocking] = []
    parts: list[str] = []
    for edge in project.all_calls_from.get(handler.id, ()):
        call = edge.call
        given = [a.name for a in call.args if a.name in names]
        outer = by_index.get(call.argument_of) if call.argument_of is not None else None
        module, callee = project.functions[edge.callee]
        if not given or outer is None or not callee.is_async or callee.is_generator:
            continue
        # held and run on every path after (`coros.append(save(db))` ... `await gather(*coros)`); or a
        # `wait_for` nothing awaits, which runs nothing (AM311)
        if call.awaited or call.offloaded or call.nested or (call.consumed and call.held_in is not None):
            continue
        if project.canonical(outer.callee) in RUN_WHEN_AWAITED and _unawaited_wrapper(project, outer) is not None:
            continue
        if never_runs(project, function_of, outer.index):
            continue  # `print(save(db))` runs nothing, then or later (AM311)
        if _awaited_by_wrapper(project, call, outer):
            continue
        method = outer.method or outer.chained
        written = project.call_written(outer, method)
        text = f"{module.name}.{callee.qualname}(...)"
        library = project.canonical(outer.callee) in _JOINED_WHEN_AWAITED
        if library or (method in {"create_task", "ensure_future"} and not project.project_callees.get(id(outer))):
            if not library and outer.receiver and "loop" not in outer.receiver.lower():
                continue  # a task group's: joined when its `async with` ends
            around: facts.Call | None = outer
            while around is not None and not (around.awaited or around.consumed):
                around = by_index.get(around.argument_of) if around.argument_of is not None else None
            if around is not None:
                continue
            why = "and nothing awaits it: it runs as a task of its own after the handler returns"
        elif method in {"start_soon", "start", "create_task"} and outer.receiver and not project.project_callees.get(id(outer)):
            continue  # a task group's
        elif project.canonical(outer.callee) in {"asyncio.as_completed"}:
            continue
        else:
            why = "which the analysis does not follow: it may run it after the handler returns"
        calls.append(Blocking(call.line, text))
        parts.append(f"hands {text}, given the AsyncSession `{given[0]}`, to `{written}()` at line {call.line}, {why}")
    if not calls:
        return None
    function = handler.function
    return Finding(
        AM323, handler, handler.module.path, function.line, function.qualname,
        "; ".join(parts) + ", while the session dependency closes that AsyncSession, and beside the handler's own "
        "statements on it (concurrent use); fix: await it in the handler, or have the task open a Session of its own",
        calls,
    )


def _unrun_wrapper(project: Project, handler: Handler) -> Finding | None:
    """AM313: a decorator on an `async def` handler on an AsyncSession whose wrapper returns the
    handler's coroutine unrun (`unrun_wrappers`), so what it does around the call misses the
    Session work."""
    found = unrun_wrappers(project, handler)
    if not found:
        return None
    sessions = handler_async_sessions(project, handler)
    if not sessions:
        return None
    function = handler.function
    unrun = [(decorator, shape, where) for decorator, shape, where in found if shape != "unknown"]
    unread = [(decorator, where) for decorator, shape, where in found if shape == "unknown"]
    parts = [
        f"`@{decorator.text}` ({where}) "
        + ("has a synchronous wrapper" if shape == "sync" else "has an `async def` wrapper returning it unawaited")
        for decorator, shape, where in unrun
    ]
    text = f"async def {_kind(handler)} works on the AsyncSession `{sessions[0]}`, but "
    if parts:
        text += (
            f"{'; '.join(parts)}: the wrapper gets its coroutine back unrun and FastAPI awaits it afterwards, so what "
            "the decorator does around the call (retry, rollback, error mapping, timing) never covers the Session "
            f"work; fix: {AM313.fix}"
        )
    if unread:
        text += ("; also, " if parts else "") + (
            f"what {', '.join(f'`@{d.text}` ({where})' for d, where in unread)} returns around it cannot be read "
            "(unverified): a synchronous wrapper there would get the coroutine back unrun, its retry, rollback or "
            "error mapping never covering the Session work; make the decorator return its wrapper (or another "
            "decorator's result) as its last statement, list it under `async-safe-decorators` when its wrapper "
            "awaits the function, or acknowledge it with `# async-migrate: ignore[AM313] reason`"
        )
    return Finding(
        AM313, handler, handler.module.path, function.line, function.qualname, text,
        [Blocking(decorator.line, f"@{decorator.text}") for decorator, _, _ in found],
    )


def _overlapping(project: Project, handler: Handler) -> Finding | None:
    """AM325: coroutines given the handler's AsyncSession that may run at the same time
    (`concurrent_session.overlaps`)."""
    found = overlaps(project, handler.id)
    if not found.parts:
        return None
    function = handler.function
    if found.unverified:
        text = (f"async def {_kind(handler)} may use its AsyncSession from coroutines running at the same time, "
                f"which the analysis cannot tell: {'; '.join(found.parts)}; build the coroutines in this function, or "
                "acknowledge it with `# async-migrate: ignore[AM325] reason`")
    else:
        text = (f"async def {_kind(handler)} uses one AsyncSession from coroutines that may run at the same time: "
                f"{'; '.join(found.parts)}; an AsyncSession allows one operation at a time (InvalidRequestError "
                f"\"concurrent operations are not permitted\", or interleaved transactions); fix: {AM325.fix}")
    blocking = [Blocking(line, written) for line, written in found.lines]
    return Finding(AM325, handler, handler.module.path, function.line, function.qualname, text, blocking)


def _overlapping_offloads(project: Project, handler: Handler) -> Finding | None:
    """AM335: calls offloaded to worker threads on one synchronous Session that may run at the
    same time (`concurrent_offloads.overlapping_offloads`)."""
    found = overlapping_offloads(project, handler.id)
    if not found.parts:
        return None
    function = handler.function
    text = (f"async def {_kind(handler)} uses one synchronous Session from worker threads that may run at the same "
            f"time: {'; '.join(found.parts)}; a Session is not thread-safe (IllegalStateChangeError, \"concurrent "
            f"operations are not permitted\", or interleaved transactions); fix: {AM335.fix}")
    blocking = [Blocking(line, written) for line, written in found.lines]
    return Finding(AM335, handler, handler.module.path, function.line, function.qualname, text, blocking)


def _awaited_by_wrapper(project: Project, call: facts.Call, outer: facts.Call) -> bool:
    """`await in_request(save(db))`: the handler awaits a project `async def` that awaits the
    parameter the coroutine lands in on every path, and reads it no other way
    (`facts.Function.awaited_params`), so the coroutine ends before the handler goes on."""
    callees = project.project_callees.get(id(outer))
    if not outer.awaited or not callees or call.argument_at is None:
        return False
    at = call.argument_at
    arg = facts.Arg(None, at, None) if isinstance(at, str) else facts.Arg(at, None, None)
    for fid in callees:
        wrapper = project.functions[fid][1]
        # a decorator may run the body otherwise (as a task, later)
        if not wrapper.is_async or wrapper.is_generator or wrapper.decorators:
            return False
        if facts.parameter_of(wrapper, arg) not in wrapper.awaited_params:
            return False
    return True


def _unawaited_wrapper(project: Project, outer: facts.Call | None) -> str | None:
    """The name of `outer`, the call a coroutine is a direct argument of, when it is one of
    `RUN_WHEN_AWAITED` that nothing awaits, holds or hands on: the coroutine never runs."""
    if outer is None or project.canonical(outer.callee) not in RUN_WHEN_AWAITED:
        return None
    if outer.awaited or outer.consumed or outer.nested or outer.argument_of is not None or outer.within:
        return None
    return outer.callee if outer.held_in is None else None


def _check_validation(project: Project, handler: Handler, result: CheckResult) -> bool:
    """AM312, once per validator: Session work in the validation FastAPI runs on the handler's
    parameters, on the event loop whether the handler is `def` or not; whether its pragma silenced one."""
    function = handler.function
    pragma = parse_pragma(function.pragma)
    silenced = False
    for found in blocking_validators(project, handler):
        work = ", ".join(f"line {b.line} ({b.call})" for b in found.blocking)
        reached = f"`{found.param}`" if found.path == found.param else f"`{found.path}` of `{found.param}`"
        message = (
            f"FastAPI validates {reached} on the event loop before it calls the {_kind(handler)} (`def` or "
            f"`async def` alike), and the validator {found.qualname} ({found.module}) does synchronous Session work "
            f"there at {work}; {AM312.fix}"
        )
        finding = Finding(AM312, handler, handler.module.path, function.line, function.qualname, message)
        if _report(result, finding, pragma):
            silenced = True
    return silenced


def _check_serialisation(project: Project, handler: Handler, result: CheckResult) -> bool:
    """AM334, once per member: Session work in the serialisation code FastAPI runs on a `def`
    route's result, on the event loop (an `async def` route's is its AM301); whether its pragma
    silenced one."""
    function = handler.function
    pragma = parse_pragma(function.pragma)
    silenced = False
    for line, read, chain in loop_serialisers(project, handler.id):
        message = (
            f"FastAPI serialises the route's result on the event loop (`def` or `async def` alike), and {read} "
            f"does synchronous Session work there: {' -> '.join(chain)}; {AM334.fix}"
        )
        finding = Finding(AM334, handler, handler.module.path, line, function.qualname, message)
        if _report(result, finding, pragma):
            silenced = True
    for line, read, chain in loop_serialisers(project, handler.id, unverified=True):
        text = f"{read}, run by the response model: {' -> '.join(chain)}"
        message = (
            f"FastAPI serialises the route's result on the event loop (`def` or `async def` alike), and {read} may do "
            f"synchronous Session work there the analysis cannot see: {' -> '.join(chain)}; {AM334.fix}, or "
            "acknowledge it with `# async-migrate: ignore[AM304] reason`"
        )
        finding = Finding(AM304, handler, handler.module.path, line, function.qualname, message, [Blocking(line, text)])
        if _report(result, finding, pragma):
            silenced = True
    return silenced


def _report(result: CheckResult, finding: Finding, pragma: Pragma | None) -> bool:
    """Add `finding` unless the pragma silences it; whether it did. A pragma without a reason
    silences too, but is a finding itself (AM303, reported by the caller)."""
    if pragma is not None and pragma.silences(finding.rule):
        if pragma.reason:
            result.silenced.append(
                Silenced(finding.rule, finding.file, finding.line, finding.function, pragma.text, pragma.reason)
            )
        return True
    result.findings.append(finding)
    return False


def _handler_finding(
    rule: Rule, handler: Handler, message: str, blocking: list[Blocking], phase1: str | None = None
) -> Finding:
    """A finding on the handler's own `def` line."""
    function = handler.function
    return Finding(rule, handler, handler.module.path, function.line, function.qualname, message, blocking, phase1)


def _report_function(
    result: CheckResult, rule: Rule, module: facts.Module, function: facts.Function, message: str,
    blocking: list[Blocking] | None = None,
) -> None:
    """A finding on a function no handler stands for (a worker's job, a periodic task, a script's
    helper), unless the function's own pragma silences it."""
    finding = Finding(rule, None, module.path, function.line, function.qualname, message, blocking or [])
    _report(result, finding, parse_pragma(function.pragma))


def _report_registration(
    result: CheckResult, rule: Rule, module: facts.Module, added: facts.Registration, what: str, message: str
) -> None:
    """Add a finding on a registration line (`add_middleware(...)`, `add_api_route(...)`), about
    `what` it registers, unless the pragma on that line silences it; a pragma without a reason is
    a finding too (AM303)."""
    finding = Finding(rule, None, module.path, added.line, what, message, [Blocking(added.line, what)])
    pragma = parse_pragma(added.pragma)
    if pragma is not None:
        problem = _pragma_problem(pragma)
        if problem is not None:
            result.findings.append(Finding(AM303, None, finding.file, finding.line, finding.function, problem))
    _report(result, finding, pragma)


def _check_resolver(project: Project, handler: Handler, result: CheckResult) -> None:
    """AM320 / AM321: a GraphQL resolver blocking the event loop, or reading a context the
    analysis does not follow; phase one never converts one (AM157)."""
    function = handler.function
    pragma = parse_pragma(function.pragma)
    work = session_work(project, handler.id)
    flow = blocking_calls(project, handler, work) if work.any else []
    found = resolver_work(project, handler, flow or None)
    kind = "async def" if function.is_async else "def"
    action = "keep" if function.is_async else "unchanged"
    where = (function.line, function.qualname)
    candidates: list[Finding] = []
    if found.blocking:
        fix = (
            "making it def does not help (graphql-core calls a def resolver on the event loop); " + AM320.fix
        )
        message = f"{kind} GraphQL resolver {describe_work(found, [])}; fix: {fix}"
        candidates.append(Finding(AM320, handler, handler.module.path, *where, message, found.blocking, action))
    elif work.unverified or found.context_reads or found.parent_reads:
        if work.unverified:
            first = work.unverified[0]
        elif found.parent_reads:
            first = found.parent_reads[0]
        else:
            first = (found.context_reads[0], f"{found.info}.context")
        message = f"{kind} GraphQL resolver runs on the event loop; {describe_work(found, work.unverified)}; " + (
            f"fix: {AM321.fix}"
        )
        candidates.append(
            Finding(AM321, handler, handler.module.path, *where, message, [Blocking(first[0], first[1])], action)
        )
    problem = _pragma_problem(pragma) if pragma is not None else None
    if problem is not None:
        result.findings.append(Finding(AM303, handler, handler.module.path, *where, problem))
    if pragma is not None and not pragma.unknown and not any(pragma.silences(f.rule) for f in candidates):
        result.findings.append(Finding(AM305, handler, handler.module.path, *where,
                                       _unused_pragma_message(pragma, _unused_why(pragma, handler))))
    for finding in candidates:
        _report(result, finding, pragma)


def _check_unresolved_endpoint(
    module: facts.Module, added: facts.Registration, result: CheckResult, overrides: str = ""
) -> None:
    """AM310: a route whose endpoint is never analysed is not an all-clear."""
    written = added.written or "its endpoint"
    served = served_path(added)
    if added.decorates:
        served = (
            f", the function a decorator `{added.decorates}` defines is applied to (the analysis does not "
            "read what that decorator decorates as routes)"
        )
    if added.sources:  # a loop variable: every endpoint the loop registers is in question
        served = (
            ", bound at run time (a loop variable) to what the analysis cannot read whole (no literal list, "
            "tuple or dict, or one other code changes)"
        )
    message = (
        f"`{added.shown()}` registers `{written}`{served}, which the analysis cannot resolve to a project "
        f"function{overrides}: whether it does synchronous Session work on the event loop is not checked; register a "
        "function or a method of a project class (`partial(f, ...)`, `self.method` in the class's methods and "
        "`instance.method` of a module-level instance resolve), or acknowledge it with "
        "`# async-migrate: ignore[AM310] reason` on the registration"
    )
    _report_registration(result, AM310, module, added, written, message)


def _check_unread_middleware(module: facts.Module, added: facts.Registration, result: CheckResult) -> None:
    """AM304: middleware registered by a value the analysis cannot read (a parameter, a loop over
    what is no literal display) runs on the event loop unanalysed: not an all-clear."""
    written = added.written or "middleware"
    # a part of a `middleware=` keyword is kept as written there (`middleware=MW`)
    shown = written if written.startswith("middleware=") else f"add_middleware({written})"
    message = (
        f"`{shown}` registers middleware the analysis cannot resolve to a project or library class (a "
        "parameter, a local, a loop over what is no literal list or tuple of classes, a `middleware=` value "
        "that is no module-level list or tuple of `Middleware(...)`, or one other code changes): whether it "
        "does synchronous Session work on the event loop on every request is not checked; register the "
        "class by name (or loop over a module-level list of classes), or acknowledge it with "
        "`# async-migrate: ignore[AM304] reason` on the registration"
    )
    _report_registration(result, AM304, module, added, written, message)


def _check_library_middleware(module: facts.Module, added: facts.Registration, result: CheckResult) -> None:
    """AM318: fastapi-sqlalchemy's `DBSessionMiddleware`, whose `async def dispatch` ends each
    request's Session on the loop, in library code the analysis never reads."""
    name = (added.endpoint or "").rpartition(".")[2]
    message = (
        f"`{name}` (fastapi-sqlalchemy) closes each request's synchronous Session in its `async def dispatch`, "
        "on the event loop: a ROLLBACK as a used connection goes back to the pool, and with "
        "`commit_on_exit=True` the flush and COMMIT; converting the routes does not move it; fix: "
        f"{AM318.fix}"
    )
    _report_registration(result, AM318, module, added, name, message)


def _unused_pragma_message(pragma: Pragma, why: str) -> str:
    return (
        f"pragma `# async-migrate: {pragma.text}` silences nothing: {why}; delete the pragma, or it "
        "will silence the next real finding"
    )


def _unused_why(pragma: Pragma, handler: Handler) -> str:
    named = ", ".join(f"`{code}`" for code in pragma.codes) or "any rule"
    return (
        f"the {_kind(handler)} has no finding of {named} any more (moved to AsyncSession, or the "
        "blocking work is gone)"
    )


def _check_worker_coroutines(project: Project, result: CheckResult) -> set[FunctionId]:
    """AM322: `async def` functions handed as a value to what runs them (an arq worker's
    `functions = [...]`, a scheduler's `add_job(job)`) that no handler reaches, doing synchronous
    Session work: they block their runner's event loop, which no handler's finding says. The ids
    judged (their pragmas are theirs, not unused)."""
    reached: set[FunctionId] = set()
    order = [handler.id for handler in project.handlers]
    for current in order:
        if current in reached:
            continue
        reached.add(current)
        order.extend(edge.callee for edge in project.all_calls_from.get(current, ()))
    for handler in project.handlers:
        # a handler's own background coroutines are AM306 on the handler
        reached.update(task.fid for task in coroutine_tasks(project, handler.id))
    handed: dict[FunctionId, None] = {}
    for module in project.modules.values():
        refs = [*module.references]
        for function in module.functions:
            refs.extend(arg.ref for call in function.calls for arg in call.args if arg.ref)
        for ref in refs:
            found = project.function(ref)
            if found is not None and found[1].is_async:
                handed.setdefault((found[0].name, found[1].key), None)
    judged = set()
    for fid in handed:
        module, function = project.functions[fid]
        if fid in reached or not project.in_scope(module.path):
            continue
        inner = coroutine_blocking(project, fid)
        # a Session the runner hands in (`ctx["session_factory"]()`) is none the flow can name: a
        # helper declared to work on the one it is given still blocks, whatever the job passed
        chains = project.work_chains
        for edge in project.all_calls_from.get(fid, ()):
            callee_module, callee = project.functions[edge.callee]
            said = f"{module.path}:{edge.call.line} ({callee_module.name}.{callee.qualname}(...))"
            blocks = edge.callee in chains or session_helper_call(project, edge.call) is not None
            if not callee.is_async and not edge.call.offloaded and not edge.call.awaited and blocks and not any(
                text.startswith(f"{module.path}:{edge.call.line} ") for text in inner
            ):
                inner.append(said)
        if not inner:
            continue
        judged.add(fid)
        where = first_few(inner, 4, counted=True)
        _report_function(result, AM322, module, function, (
            f"async def {function.qualname} is handed to what runs it (a worker's job list, a scheduler), "
            f"and no route the analysis resolves reaches it: its synchronous Session work at {where} blocks that event loop"
        ))
    return judged


def _check_periodic(project: Project, result: CheckResult) -> set[FunctionId]:
    """AM315: `async def` functions a repeating decorator runs beside the requests
    (`@repeat_every(seconds=60)`), doing synchronous Session or engine work on the event loop each
    period, whether they are a startup handler (which `check` otherwise does not judge: it runs
    once) or what one awaits. The ids judged (their pragmas are theirs)."""
    judged: set[FunctionId] = set()
    for fid, module, function in project.iter_functions():
        if not function.is_async or not function.decorators or not project.in_scope(module.path):
            continue
        inner = periodic_blocking(project, fid)
        if not inner:
            continue
        judged.add(fid)
        decorator = repeating_decorator(project, function)
        assert decorator is not None
        where = first_few(inner, 4, counted=True)
        awaits = first_await(module, function)
        fix = (
            f"it awaits {awaits}, so it cannot become a plain def: move the Session work into a plain def helper "
            "and `await run_in_threadpool(helper, ...)`, or use an AsyncSession"
            if awaits is not None
            else "make it a plain def, which the decorator runs in the threadpool"
        )
        message = (
            f"async def {function.qualname} runs again and again beside the requests (@{decorator.text}), on the "
            f"event loop: its synchronous Session work at {where} blocks every request each time; fix: {fix}"
        )
        _report_function(result, AM315, module, function, message)
    return judged


def _check_unawaited_outside(project: Project, result: CheckResult) -> set[FunctionId]:
    """AM330: calls of project coroutine functions without `await`, whose coroutine nothing runs (a
    whole statement, an `if`/`while` test, a local name nothing reads, a builtin it is handed
    to such as `list(...)` or `print(...)`), in functions that are no handler (a CLI command, a
    worker, a migration; a handler's own are AM311) and in code outside any function (a script,
    an `if __name__ == "__main__":` block). The ids judged (their pragmas are theirs)."""
    handlers = {handler.id for handler in project.handlers}
    judged: set[FunctionId] = set()
    for fid, module, function in project.iter_functions():
        if fid in handlers or not project.in_scope(module.path):
            continue
        calls: list[Blocking] = []
        sessions: set[str] = set()  # the lost calls whose coroutine does Session work
        for edge in project.all_calls_from.get(fid, ()):
            call = edge.call
            if call.awaited or call.nested or call.offloaded or call.consumed or call.within:
                continue
            # thrown away, only tested, kept in a name nothing reads, or handed to a builtin that
            # never runs it (`list(f(db))`, `print(f(db))`); held in a name that is read, returned
            # or handed to anything else (`asyncio.run(main())`): maybe run
            handed = call.argument_of is not None
            if call.argument_of is not None and not never_runs(project, function, call.argument_of):
                continue
            if not (call.discarded or call.condition or call.dropped or handed) or call.held_in is not None:
                continue
            if may_be_plain(project, fid, call) or _dispatched_on_kind(project, fid, call):
                continue
            text = _lost_coroutine(project, edge.callee)
            if text is not None and _does_session_work(project, edge.callee):
                sessions.add(text)
            if text is not None:
                text += _plain_alternatives(project, fid, call)
            if text is not None and call.unrun_reads:
                text += f" kept in a name read only by what never runs it: {', '.join(call.unrun_reads)}"
            if text is not None and all(b.line != call.line or b.call != text for b in calls):
                calls.append(Blocking(call.line, text))
        if calls:
            judged.add(fid)
            kind = "async def" if function.is_async else "def"
            _report_function(result, AM330, module, function, _lost_message(
                f"{kind} {function.qualname} (no route or dependency)", calls, session=bool(sessions)
            ), calls)
    for module in project.modules.values():
        if not project.in_scope(module.path):
            continue
        calls = []
        working = False  # a coroutine lost here does Session work
        for ref, line, unread in module.called:
            for target in project.flow.called_functions(ref) if unread else ():
                text = _lost_coroutine(project, target)
                working = working or text is not None and _does_session_work(project, target)
                if text is not None and all(b.line != line or b.call != text for b in calls):
                    calls.append(Blocking(line, text))
        for ref, line, name, reads in module.kept_called:
            if _global_read_elsewhere(project, module, name):
                continue
            for target in project.flow.called_functions(ref):
                text = _lost_coroutine(project, target)
                if text is None:
                    continue
                working = working or _does_session_work(project, target)
                text += f" kept in the global {name}" + (
                    f", read only by what never runs it: {', '.join(reads)}" if reads else ", which nothing reads"
                )
                if all(b.line != line or b.call != text for b in calls):
                    calls.append(Blocking(line, text))
        calls.sort(key=lambda b: b.line)
        if calls:
            result.findings.append(Finding(
                AM330, None, module.path, calls[0].line, "<module>",
                _lost_message("code outside any function (a script's statements, an `if __name__ == "
                              "\"__main__\":` block)", calls, session=working), calls,
            ))
    return judged


def _dispatched_on_kind(project: Project, fid: FunctionId, call: facts.Call) -> bool:
    """A method call that may run a plain def or a coroutine function (`n.push(msg)` on a `Base`
    whose subclasses define `push` either way), of a class hierarchy that tells the two apart
    itself: one of its methods tests `iscoroutinefunction(self.push)` (an `is_async` property the
    callers branch on, or a list per kind). Such a project hands the plain ones to its synchronous
    path: not awaiting the call is its design. Without that test, or with every candidate a
    coroutine function, the call is judged as before."""
    from async_migrate.codemods.classes import project_classes

    if call.method is None:
        return False
    targets = [edge.callee for edge in project.all_calls_from.get(fid, ()) if edge.call is call]
    if all(project.functions[target][1].is_async for target in targets):
        return False
    classes = project_classes(project)
    owners = {owner for target in targets if (owner := classes.owner(target)) is not None}
    tested = f"self.{call.method}"
    for cls in {ancestor for owner in owners for ancestor in classes.mro(owner)}:
        for method in classes.methods.get(cls, {}).values():
            for inner in project.functions[method][1].calls:
                if (
                    (inner.callee or "").rpartition(".")[2] == "iscoroutinefunction" and inner.args
                    and tested in (inner.args[0].expr, (inner.args[0].expr or "").removeprefix("$"))
                ):
                    return True
    return False


def _global_read_elsewhere(project: Project, module: facts.Module, name: str) -> bool:
    """Whether another module may read the global `name` of `module`: it imports the name, the
    module, or a package above it (`import scripts` then `scripts.seed.pending`). With `check`,
    every file naming the global as a word is read (`unread_names.caller_words`)."""
    own = module.name
    for other in project.modules.values():
        if other is module:
            continue
        for local, ref in other.imports.items():
            for imported in ref.split(",") if local == "*" else (ref,):
                if imported in (own, f"{own}.{name}") or own.startswith(f"{imported}."):
                    return True
    return False


def _plain_alternatives(project: Project, fid: FunctionId, call: facts.Call) -> str:
    """What a finding naming the coroutine `call` in `fid` may run adds when, by the class of its
    receiver, the call may also run functions that make no coroutine (`Base.push`, `Console.push`
    beside `Slack.push`): that it is one of several, naming the others; "" when there are none."""
    found = set()
    for edge in project.all_calls_from.get(fid, ()):
        if edge.call is call and not makes_coroutine(project, edge.callee):
            module, function = project.functions[edge.callee]
            found.add(f"{module.name}.{function.qualname}")
    if not found:
        return ""
    return f", one of the methods the call may run (the others are plain: {', '.join(sorted(found))})"


def _lost_coroutine(project: Project, fid: FunctionId) -> str | None:
    """`module.f(...)` when calling `fid` only makes a coroutine (`makes_coroutine`)."""
    module, callee = project.functions[fid]
    if not makes_coroutine(project, fid):
        return None
    return f"{module.name}.{callee.qualname}(...)"


# How a decorator whose wrapper still returns a coroutine for an `async def` treats it
# (`Project.decorator_shape`): handed back itself, an `async def` wrapper awaiting it, or one
# returning its coroutine.
_COROUTINE_SHAPES = frozenset({"passthrough", "coroutine", "loop"})


def _coroutine_methods(project: Project) -> dict[str, str]:
    """The names of the project's methods calling which makes a coroutine (`makes_coroutine`),
    each with one of them as shown (`repo.Repo.save`)."""
    from async_migrate.codemods.classes import project_classes

    found = cast("dict[str, str] | None", project.derived.get("coroutine_methods"))
    if found is None:
        classes = project_classes(project)
        found = {}
        for fid in sorted(project.functions):
            module, function = project.functions[fid]
            if classes.owner(fid) is not None and makes_coroutine(project, fid):
                found.setdefault(function.name, f"{module.name}.{function.qualname}")
        project.derived["coroutine_methods"] = found
    return found


def makes_coroutine(project: Project, fid: FunctionId) -> bool:
    """Whether calling `fid` by its name only makes a coroutine: an `async def`, no generator, whose
    every decorator is known to keep it a coroutine function (a method decorator, a registration,
    one handing the function back, an `async def` wrapper, a plain one returning `func(...)`). A
    decorator whose result is not known to be one (a plain wrapper, which may run the coroutine, as
    Prefect's `@sync_compatible` does when called from synchronous code; one the analysis cannot
    read, or from outside PATH) may make it synchronous: not awaiting its call may be right."""
    _, callee = project.functions[fid]
    if not callee.is_async or callee.is_generator:
        return False
    for decorator in callee.decorators:
        canonical = project.canonical(decorator.callee)
        if (decorator.callee in METHOD_DECORATORS and not decorator.is_call) or canonical in KEEPS_FUNCTION:
            continue
        if project.is_registration(decorator):
            continue
        shape = project.decorator_shape(decorator, coroutine=True)[0]
        if shape == "sync":
            found = project.decorator_function(decorator.callee)
            if found is not None and found[1].returns_call and not decorator.is_call:
                continue  # a plain wrapper returning `func(...)`: the coroutine, unrun
        if shape not in _COROUTINE_SHAPES:
            return False
    return True


def _lost_message(who: str, calls: list[Blocking], *, session: bool) -> str:
    """`session`: a lost coroutine does Session work (`_does_session_work`), so its rows are never
    written; else the message says only that its work never happens."""
    where = ", ".join(f"line {b.line} ({b.call})" for b in calls)
    lost = (
        "its Session work is lost, the rows never written" if session
        else "none of its work happens: what it would send, fetch or change is never done"
    )
    return (
        f"{who} calls a coroutine function without `await` at {where}, and nothing awaits or runs what it returns: "
        f"the call only creates a coroutine, nothing in it runs ({lost}); fix: {AM330.fix}"
    )


# How many calls deep a lost coroutine is searched for Session work.
_SESSION_DEPTH = 6


def _does_session_work(project: Project, fid: FunctionId) -> bool:
    """Whether the coroutine `fid`, or a project function it calls (a few calls deep), works on a
    Session: takes or opens an AsyncSession, or does synchronous Session work. What the analysis
    cannot see counts as none: only the words of the message depend on it."""
    seen = {fid}
    frontier = [fid]
    for _ in range(_SESSION_DEPTH):
        following: list[FunctionId] = []
        for current in frontier:
            _, function = project.functions[current]
            if (
                project.declared_async_session_params(current) or opened_async_sessions(project, function)
                or session_work_view(project, current).any
            ):
                return True
            for edge in project.all_calls_from.get(current, ()):
                if edge.callee not in seen:
                    seen.add(edge.callee)
                    following.append(edge.callee)
        frontier = following
    return False


def _check_tasks(project: Project, handler: Handler, result: CheckResult, *, tasks_only: bool = False) -> bool:
    """AM306 for a `def` handler's background tasks (a startup/shutdown handler's: `tasks_only`, its own
    engine work runs once); whether the handler's pragma silenced it."""
    outside = _outside_session(project, handler, tasks_only=tasks_only)
    if outside is None:
        return False
    function = handler.function
    finding = Finding(AM306, handler, handler.module.path, function.line, function.qualname, *outside)
    return _report(result, finding, parse_pragma(function.pragma))


def _unresolved_factory_dependency(project: Project, handler: Handler) -> Finding | None:
    """AM304 for a `def` route or dependency given a dependency by a call of a project function
    whose result the analysis cannot resolve (`Depends(require("admin"))`): FastAPI runs what the
    call returns on the event loop when it is a coroutine function (an `async def __call__`), so
    that dependency's Session work is unverified, never clean."""
    if handler.kind not in _ROUTE_OR_DEPENDENCY:
        return None
    unresolved = unresolved_dependencies(project, handler, factories=True)
    if not unresolved:
        return None
    function = handler.function
    more = f" (and {len(unresolved) - 1} more)" if len(unresolved) > 1 else ""
    return _handler_finding(
        AM304, handler,
        f"def {_kind(handler)} runs the dependency `{unresolved[0]}`{more}, the result of a project function "
        "the analysis cannot resolve to a project function or an instance of a project class with "
        "`__call__`: FastAPI runs it on the event loop if it is a coroutine function, so its Session work "
        "is unverified; declare the factory's return type (`-> Checker`), or acknowledge it with "
        "`# async-migrate: ignore[AM304] reason`",
        [Blocking(function.line, unresolved[0])],
        "unchanged",
    )


def _def_on_loop(project: Project, handler: Handler) -> Finding | None:
    """AM301 for a `def` handler a decorator wraps in an `async def` that calls it in place: FastAPI
    sees a coroutine function and runs it, and the handler's Session work, on the event loop."""
    looped = runs_on_loop(project, handler.id)
    if looped is None:
        return None
    work = session_work(project, handler.id)
    blocking = [b for b in work.blocking if not b.offloaded]
    blocking += [Blocking(line, "a synchronous Session opened here") for line in work.opened]
    if not blocking:
        return None
    decorator, where = looped
    function = handler.function
    message = (
        f"def {_kind(handler)} runs on the event loop: decorator @{decorator.text} ({where}) wraps it in an "
        "`async def` that calls it in place, so FastAPI never sends it to the threadpool, and it does synchronous "
        f"Session work at {describe(blocking)}; fix: have the wrapper offload a plain function "
        "(`await run_in_threadpool(func, *args, **kwargs)`), or drop the decorator from the route"
    )
    return Finding(AM301, handler, handler.module.path, function.line, function.qualname, message, blocking, "keep")


def _shared_in_threadpool(project: Project, handler: Handler) -> Finding | None:
    """AM324: a `def` route or dependency whose Session work lands on one Session every request
    gets (`shared_session_uses`, only where that is certain): the threadpool runs it on several
    threads at once. A handler a decorator runs on the loop (AM301 above) is not in the threadpool."""
    if handler.kind not in _ROUTE_OR_DEPENDENCY or runs_on_loop(project, handler.id) is not None:
        return None
    uses = [use for use in shared_session_uses(project, handler.id) if use.certain]
    function = handler.function
    if not uses:
        unseen = unseen_shared_openers(project, handler.id)
        if unseen is None:
            return None
        instance, cls, attribute = unseen
        chain = project.unverified_chains[handler.id]
        message = (
            f"def {_kind(handler)} runs in the threadpool, several requests at once, and works on `{instance}`, "
            f"the one {cls} every request gets, which opens its Session into `self.{attribute}`; what it runs "
            f"on it the analysis cannot read ({' -> '.join(chain)}): if that is Session work, threads use that "
            f"Session together, which a Session does not allow; fix: give each request its own {cls}, or keep "
            "the handler `async def` until it has one"
        )
        return Finding(AM324, handler, handler.module.path, function.line, function.qualname, message)
    return _threaded_finding(
        handler, uses[0], f"def {_kind(handler)} runs in the threadpool, several requests at once, and does Session work",
        "keep the handler `async def` until it has one",
    )


def _shared_connection_in_threadpool(project: Project, handler: Handler) -> Finding | None:
    """AM336: a `def` route or dependency using a database connection every request gets
    (`thread_bound_uses`): the threadpool runs it on several threads at once, and a sqlite3
    connection refuses all but its creator's. One a decorator runs on the loop is not in the threadpool."""
    if handler.kind not in _ROUTE_OR_DEPENDENCY or runs_on_loop(project, handler.id) is not None:
        return None
    uses = thread_bound_uses(project, handler.id)
    if not uses:
        return None
    use = uses[0]
    function = handler.function
    message = (
        f"def {_kind(handler)} runs in the threadpool, several requests at once, and uses at {use.path}:{use.line} "
        f"(`{use.call}`) {use.holder}: {use.harm()}; fix: {AM336.fix}"
    )
    blocking = [Blocking(use.line, use.call)] if use.path == handler.module.path else []
    return Finding(AM336, handler, handler.module.path, function.line, function.qualname, message, blocking)


def _offloaded_connection(project: Project, handler: Handler) -> Finding | None:
    """AM336 for an `async def` handler: the work it hands to a worker thread (`await
    run_in_threadpool(count)`) uses a connection every request gets, which concurrent requests
    then use from several worker threads at once (a sqlite3 one refuses them all); on the event
    loop's thread, the one that made it, they would take turns."""
    if not handler.function.is_async:
        return None
    uses = offloaded_bound_uses(project, handler.id)
    if not uses:
        return None
    use = uses[0]
    function = handler.function
    message = (
        f"async def {_kind(handler)} hands work to a worker thread, a thread per request, and that work uses at "
        f"{use.path}:{use.line} (`{use.call}`) {use.holder}: {use.harm()}; fix: open a connection per request in "
        "that work (`with engine.connect() as conn:`, or the driver's `connect()` closed after it), or run it on "
        "the event loop's thread until it has one"
    )
    blocking = [Blocking(use.line, use.call, True)] if use.path == handler.module.path else []
    return Finding(AM336, handler, handler.module.path, function.line, function.qualname, message, blocking)


def _task_scoped_in_threadpool(project: Project, handler: Handler) -> Finding | None:
    """AM331: a `def` route or dependency reaching a `scoped_session` keyed on the asyncio task
    (`thread_scoped_uses` marks those): in the worker thread FastAPI runs it in,
    `asyncio.current_task()` raises. A handler a decorator runs on the loop has a task there; a
    Session an `async def` dependency handed over was got on the loop."""
    if handler.kind not in _ROUTE_OR_DEPENDENCY or runs_on_loop(project, handler.id) is not None:
        return None
    uses = [use for use in thread_scoped_uses(project, handler.id) if use.task and not use.handed]
    if not uses:
        return None
    use = uses[0]
    function = handler.function
    message = (
        f"def {_kind(handler)} runs in a threadpool worker, where no event loop runs, and uses the registry at "
        f"{use.path}:{use.line} (`{use.call}`): {use.holder}: `asyncio.current_task()` raises RuntimeError "
        "(no running event loop) and every request fails; fix: scope it to the request (`scopefunc=` a context "
        "variable an `async def` dependency or middleware sets per request), or take the Session from a "
        "dependency opening one per request"
    )
    blocking = [Blocking(use.line, use.call)] if use.path == handler.module.path else []
    return Finding(AM331, handler, handler.module.path, function.line, function.qualname, message, blocking)


def _registry_in_worker(project: Project, handler: Handler) -> Finding | None:
    """AM332: work the handler runs on a worker thread (itself as a `def` route or dependency, a
    helper it offloads, a plain background task) using a thread-local `scoped_session` it never
    removes there (`worker_registry.py`). A startup handler's offloaded work counts too: the
    worker keeps that Session, with its transaction and connection, into the requests it serves
    later (a shutdown handler's does not: none comes after)."""
    if handler.kind not in (*_REQUEST_KINDS, *HOOK_KINDS):
        return None
    found = worker_registry_uses(project, handler)
    if not found:
        return None
    first = found[0]
    use = first.use
    function = handler.function
    split = not first.how and function.is_generator and any(f.use.call.endswith(".remove()") for f in found)
    where = (
        f"def {_kind(handler)} runs in a threadpool worker and uses"
        if not first.how
        else f"{'async def' if function.is_async else 'def'} {_kind(handler)} {first.how}; there it uses"
    )
    if first.inside:
        # the work itself is in the worker: a `remove()` there must come after it, in the same call
        message = (
            f"{'async def' if function.is_async else 'def'} {_kind(handler)} {first.how}; there it uses the "
            f"registry at {use.path}:{use.line} (`{use.call}`): {use.holder}: {worker_harm(use, split)}; fix: hand "
            "the worker one helper that does the work and calls the registry's `remove()` in a `finally` (`await "
            "run_in_threadpool(helper)`), not the work alone, or scope the registry to the request (`scopefunc=` "
            "a context variable set per request)"
        )
    elif first.direct:
        fix = (
            f"call `{use.call}` in place, on the event loop thread whose Session the request used"
            if use.call.endswith(".remove()")
            else f"call `{use.call}` in place, or hand the worker the whole unit of work (a helper that does it and "
            "removes the registry)"
        )
        message = (
            f"{'async def' if function.is_async else 'def'} {_kind(handler)} {first.how}, a method of {use.holder}: "
            f"{worker_harm(use, split, first.direct)}; fix: {fix}, or scope the registry to the request (`scopefunc=` "
            "a context variable set per request)"
        )
    elif not first.how and (guard := unguarded_remove_fix(project, handler.id, use)) is not None:
        message = f"{where} the registry at {use.path}:{use.line} (`{use.call}`): {use.holder}; {guard}"
    else:
        message = (
            f"{where} the registry at {use.path}:{use.line} (`{use.call}`): {use.holder}: {worker_harm(use, split)}; "
            f"fix: {AM332.fix}"
        )
    if len(found) > 1:
        message += f" ({len(found) - 1} more such use{'s' if len(found) > 2 else ''})"
    line = first.line or (use.line if use.path == handler.module.path else 0)
    call = f"{first.callee}(...)" if first.callee else use.call
    blocking = [Blocking(line, call, first.offloaded)] if line else []
    return Finding(AM332, handler, handler.module.path, function.line, function.qualname, message, blocking)


def _registry_after_remove(project: Project, handler: Handler) -> Finding | None:
    """AM333: a background task the handler adds using a request-scoped `scoped_session` that a
    `BaseHTTPMiddleware` removes before the task runs (`late_registry.py`)."""
    if handler.kind not in _REQUEST_KINDS:
        return None
    found = late_registry_uses(project, handler)
    if not found:
        return None
    use = found[0]
    function = handler.function
    message = (
        f"{'async def' if function.is_async else 'def'} {_kind(handler)} adds the background task `{use.task}` at "
        f"line {use.line}, which uses `{use.registry}`, a `scoped_session` keyed on the request ({use.where}), at "
        f"{use.path}:{use.at} (`{use.call}`): the middleware's `remove()` ({use.removed}) runs before the task, "
        "which then makes a new Session under the request's key that nothing removes, one left in the registry "
        f"for every such request (and its connection, after a read with no commit); fix: {AM333.fix}"
    )
    return Finding(AM333, handler, handler.module.path, function.line, function.qualname, message,
                   [Blocking(use.line, f"{use.task}(...)")])


def _threaded_finding(handler: Handler, use: SharedUse, opening: str, otherwise: str) -> Finding:
    """AM324 on `use` of a process-wide Session, said after `opening`, `otherwise` the last fix."""
    remedy = use.remedy or "give each request its own Session (a dependency yielding `SessionLocal()`)"
    message = (
        f"{opening} at {use.path}:{use.line} (`{use.call}`) on {use.holder}, {use.shared}: threads use it together, "
        f"which a Session does not allow; fix: {remedy}, or {otherwise}"
    )
    blocking = [Blocking(use.line, use.call)] if use.path == handler.module.path else []
    function = handler.function
    return Finding(AM324, handler, handler.module.path, function.line, function.qualname, message, blocking)


def _offloaded_shared(project: Project, handler: Handler) -> Finding | None:
    """AM324 for an `async def` handler: the work it offloads (`await run_in_threadpool(f, ...)`)
    lands on one Session every request gets, which concurrent requests then use from several
    worker threads at once; on the loop alone they would take turns."""
    uses = offloaded_shared_uses(project, handler.id)
    if not uses:
        unseen = unseen_offloaded_openers(project, handler.id)
        if unseen is None:
            return None
        instance, cls, attribute, chain = unseen
        function = handler.function
        message = (
            f"async def {_kind(handler)} hands Session work to a worker thread, a thread per request, and that work "
            f"uses `{instance}`, the one {cls} every request gets, which opens its Session into "
            f"`self.{attribute}`; what it runs on it the analysis cannot read ({' -> '.join(chain)}): if that is "
            "Session work, threads use that Session together, which a Session does not allow; fix: give each "
            f"request its own {cls}, or run that work on the event loop until it has one"
        )
        return Finding(AM324, handler, handler.module.path, function.line, function.qualname, message)
    return _threaded_finding(
        handler, uses[0],
        f"async def {_kind(handler)} hands Session work to a worker thread, a thread per request, and that work runs",
        "run that work on the event loop until it has one",
    )


def _nested_on_loop(project: Project, handler: Handler) -> Finding | None:
    """AM316: a `def` handler's nested coroutine (`StreamingResponse(lines())` with `async def lines`)
    doing synchronous Session work, which the event loop drives after the handler returned."""
    work = session_work_view(project, handler.id)
    nested = [item for item in work.in_coroutines if item.helper is None and item.scope]
    # An async generator helper handed the Session (`StreamingResponse(ticker(db))`): the loop iterates it too.
    streamed = [item for item in work.in_coroutines if item.helper is not None and item.generator]
    handed = handed_coroutines(project, handler.id, work)
    engine = engine_work_in_coroutines(project, handler.id)
    if not nested and not streamed and not handed and not engine:
        return None
    scopes: dict[str, list[str]] = {}
    for item in nested:
        scopes.setdefault(item.scope or "", []).append(f"line {item.line} ({item.call})")
    builder = project.builds_route_handler(handler.id)
    parts = [
        route_handler_text(scope, lines) if builder else
        f"does synchronous Session work at {', '.join(lines)} inside the nested coroutine `{scope}`, which the "
        f"event loop runs after the handler returns: make `{scope}` a plain def (a sync generator is iterated "
        "in the threadpool) or move its work to AsyncSession (phase two)"
        for scope, lines in scopes.items()
    ]
    parts.extend(
        f"{item.calls()} the event loop iterates after "
        f"the handler returns, and it blocks at {', '.join(item.inner)}: {item.helper_fix()}"
        for item in streamed
    )
    parts.extend(
        f"{item.what}: {item.when}, and it blocks at {', '.join(item.inner)}; fix: make {item.helper.rsplit('.', 1)[-1]} a plain def and call it, "
        "or move its work to AsyncSession (phase two)"
        for item in handed
    )
    parts.extend(nested_engine_text(engine, "after the handler returns"))
    function = handler.function
    calls = [Blocking(item.line, item.call) for item in [*nested, *streamed]]
    calls.extend(Blocking(item.line, item.call) for item in handed)
    calls.extend(b for found in engine.values() for b in found)
    message = f"def {_kind(handler)} " + "; ".join(parts)
    return Finding(AM316, handler, handler.module.path, function.line, function.qualname, message, calls)


_FUNCTION_SCOPE = re.compile(r"""\bscope\s*=\s*["']function["']""")


def _function_scoped_sessions(project: Project, handler: Handler) -> dict[str, str]:
    """The handler's Session parameters whose dependency has `scope="function"`: name -> how
    the parameter declares it (the `Depends(...)` or the alias, as written)."""
    found: dict[str, str] = {}
    sync = project.session_params[handler.id]
    for param in handler.function.params:
        if param.name not in sync and project.declared_async_session(param) is None:
            continue
        written = next((text for text in (param.default, param.text) if text and _FUNCTION_SCOPE.search(text)), None)
        for ref in param.annotation if written is None else ():
            target = project.resolve(ref)
            value = target.value if target is not None and target.kind is TargetKind.VALUE else None
            if value is not None and value.kind == facts.ValueKind.ANNOTATED and any(
                keyword == "scope" and _FUNCTION_SCOPE.search(f"scope={text}") for keyword, text in value.depends_options
            ):
                written = ref.rsplit(".", 1)[-1]
        if written is not None:
            found[param.name] = written
    return found


def _closed_before_stream(project: Project, handler: Handler) -> Finding | None:
    """AM317: a generator a `StreamingResponse` runs after the handler returned (nested in it, or a
    generator helper handed straight to the response) uses a Session whose dependency has
    `scope="function"`: closed already, and each query opens a connection nothing gives back."""
    scoped = _function_scoped_sessions(project, handler)
    function = handler.function
    # A route that is a generator itself (`response_class=EventSourceResponse`, or JSON Lines):
    # FastAPI builds the generator, closes the function-scoped dependencies, then runs its body.
    streamed = function.is_generator and handler.kind == HandlerKind.ROUTE
    # A Session the handler opens as a `with` item (`with SessionLocal() as db: return
    # StreamingResponse(rows(db))`) is closed when the handler leaves the block, before the response
    # is sent; in a generator the block stays open while it streams.
    by_index = {call.index: call for call in function.calls}
    entered = {} if function.is_generator else {
        o.name: o.line for o in function.opens
        if o.name and o.index in by_index and not by_index[o.index].nested and o.name not in scoped
        and project.is_sessionmaker(o.callee)
    }
    if not scoped and not entered:
        return None
    scoped = {**scoped, **{name: "" for name in entered}}
    late: list[tuple[str, Blocking]] = []
    tasks: list[tuple[str, Blocking]] = []
    for call in function.calls:
        given = [arg.name for arg in call.args if arg.name is not None and arg.name in scoped]
        if (call.late or streamed) and call.receiver is not None and call.receiver in scoped:
            late.append((call.receiver, Blocking(call.line, f"{call.receiver}.{call.method}()")))
            continue
        if (call.late or streamed) and given:
            late.append((given[0], Blocking(call.line, f"{project.written(call.callee or call.func or '')}(...)")))
            continue
        task = project.background_task(call)
        handed = [arg.name for arg in call.args if arg.position != 0 and arg.name is not None and arg.name in scoped]
        if task is not None and handed:
            # `tasks.add_task(publish_outbox, db)`: Starlette runs it after the response, once the
            # function-scoped dependencies (and the handler's `with` blocks) closed the Session.
            module, target_function = project.functions[task]
            tasks.append((handed[0], Blocking(call.line, f"{module.name}.{target_function.qualname}(...)")))
            continue
        outer = by_index.get(call.argument_of) if call.argument_of is not None and given else None
        if outer is None or project.canonical(outer.callee) not in STREAMING_RESPONSE:
            continue
        target = project.function(call.callee)
        if target is not None and target[1].is_generator:
            late.append((given[0], Blocking(call.line, f"{target[0].name}.{target[1].qualname}(...)")))
    if not late and not tasks:
        return None
    name = (late or tasks)[0][0]
    where = ", ".join(f"line {b.line} ({b.call})" for _, b in late + tasks)
    kind = _kind(handler)
    runs = " and ".join(
        part for part, found in (
            ("a generator a `StreamingResponse` runs", late), ("a background task Starlette runs", tasks)
        ) if found
    )
    runner = "the generator" if not tasks else "the background task" if not late else "they"
    if tasks and not late:
        closer = (
            f"the Session `{name}` it opens in a `with` block (line {entered[name]}), which leaving the block "
            "closes" if name in entered else
            f"its Session `{name}`, which `{scoped[name]}` closes (`scope=\"function\"`)"
        )
        message = (
            f"{'async def' if function.is_async else 'def'} {kind} hands {closer} before the response is sent, "
            f"to a background task Starlette runs after the response ({where}): the objects that Session loaded "
            "are detached by then, so a change the task makes to them is never saved, and each query the task "
            "makes opens a connection again that stays checked out unless the task commits; "
            + ("drop `scope=\"function\"` (the default closes the Session after the background tasks) or "
               if name not in entered else "")
            + "let the task open its own Session"
        )
        calls = [b for _, b in tasks]
        return Finding(AM317, handler, handler.module.path, function.line, function.qualname, message, calls)
    if name in entered:
        message = (
            f"{'async def' if function.is_async else 'def'} {kind} hands the Session `{name}` it opens in a "
            f"`with` block (line {entered[name]}) to {runs} after the {kind} returned ({where}): leaving the "
            f"block closed that Session before the response is sent, and each query {runner} makes on it opens a "
            "connection again that nothing gives back, until the pool is exhausted; let "
            f"{runner if runner != 'they' else 'each'} open its own Session (`with SessionLocal() as db:` in "
            "its body)"
        )
        calls = [b for _, b in late + tasks]
        return Finding(AM317, handler, handler.module.path, function.line, function.qualname, message, calls)
    streaming = (
        f"is a generator, whose body FastAPI runs while it streams the response, after the function-scoped "
        f"dependencies ended, and uses its Session `{name}` there ({where}); `{scoped[name]}` has "
        "`scope=\"function\"`: FastAPI closes that Session (running what the dependency does after `yield`, "
        "such as its commit) before the body runs, so what the body writes is never committed, and"
        if streamed and not tasks else
        f"hands its Session `{name}` to {runs} after the {kind} returned "
        f"({where}), but `{scoped[name]}` has `scope=\"function\"`: FastAPI closes that Session before the "
        "response is sent, and"
    )
    message = (
        f"{'async def' if function.is_async else 'def'} {kind} {streaming} each query {runner} "
        "makes on it opens a connection again that nothing gives back, until the pool is exhausted; "
        "drop `scope=\"function\"` (the default closes the Session after the response and its background "
        f"tasks) or let {runner if runner != 'they' else 'each'} open its own Session"
    )
    calls = [b for _, b in late + tasks]
    return Finding(AM317, handler, handler.module.path, function.line, function.qualname, message, calls)


def _outside_session(
    project: Project, handler: Handler, session_blocking: list[Blocking] | None = None, *, tasks_only: bool = False
) -> tuple[str, list[Blocking]] | None:
    """AM306: a synchronous engine's connection in an `async def` handler (not already part of an
    AM301 finding), or a blocking `async def` background task it schedules (any handler)."""
    function = handler.function
    parts: list[str] = []
    calls: list[Blocking] = []
    engine_calls: list[Blocking] = []
    if function.is_async and not tasks_only:
        seen = {b.line for b in session_blocking or ()}
        engine = [b for b in engine_work_reached(project, handler.id) if b.line not in seen]
        if engine:
            parts.append(f"does synchronous engine work on the event loop at {engine_summary(engine)}")
            calls.extend(engine)
            engine_calls = engine
    for task in coroutine_tasks(project, handler.id):
        parts.append(task.describe() + f"; {task.fix()}")
        calls.append(Blocking(task.line, f"{task.task}(...)"))
    if not parts:
        return None
    message = f"{'async def' if function.is_async else 'def'} {_kind(handler)} " + "; ".join(parts)
    nested = engine_work_in_coroutines(project, handler.id) if engine_calls else {}
    if nested:
        # phase one keeps it: as `def` its nested coroutine would still run that work on the loop
        message += "".join(
            f"; line {', '.join(str(b.line) for b in found)} runs inside the nested coroutine `{scope}`, which the "
            f"event loop runs whatever the handler is: make `{scope}` a plain def (a sync generator is iterated "
            "in the threadpool) or move its work to the async engine"
            for scope, found in nested.items()
        )
    elif engine_calls and handler.kind not in HOOK_KINDS:
        if function.awaits:
            # phase one keeps a handler that awaits: pointing at it would be no fix
            line, text = function.awaits[0]
            message += (
                f"; it awaits at line {line} (`{text}`), so it stays async def: offload that work with "
                "`await run_in_threadpool(...)` or move it to the async engine"
            )
        elif handler.kind in _ROUTE_OR_DEPENDENCY:
            message += f"; `async-migrate phase1` converts a {handler.kind} that never awaits"
        else:
            # phase one leaves a websocket handler or a resolver async (AM107, AM157)
            message += (
                f"; `async-migrate phase1` leaves a {_kind(handler)} async: offload that work with "
                "`await run_in_threadpool(...)` or move it to the async engine"
            )
    return message, calls


def _pragma_problem(pragma: Pragma) -> str | None:
    problems = []
    if pragma.unknown:
        problems.append(
            f"names unknown code{'s' if len(pragma.unknown) > 1 else ''} "
            + ", ".join(f"`{c}`" for c in pragma.unknown)
            + f" (known: {', '.join(f'{r.code} {r.name}' for r in silenceable())})"
        )
    if not pragma.reason:
        problems.append("gives no reason: write why this handler may block after the pragma")
    if not problems:
        return None
    return f"pragma `# async-migrate: {pragma.text}` " + " and ".join(problems)


# ------------------------------------------------------------- the analysis


def blocking_findings(project: Project, handler: Handler) -> list[Finding]:
    """`check`'s findings on the handler that say it blocks the event loop (the rules named
    `blocking-...`, not silenced): the migration report lists them among what still blocks, so
    the report and `check` agree (a `def` route's blocking `async def` background task, AM306)."""
    judged = _judge(project, handler)
    if handler.kind in _REQUEST_KINDS:
        _check_validation(project, handler, judged)
    if handler.kind == HandlerKind.ROUTE and not handler.function.is_async:
        _check_serialisation(project, handler, judged)
    return [finding for finding in judged.findings if finding.rule.name.startswith("blocking-")]


def blocking_calls(project: Project, handler: Handler, work: SessionWork | None = None) -> list[Blocking]:
    """What blocks the event loop in an `async def` handler: [] when nothing does.

    Helper calls and Session method calls (from `session_work`), the Sessions it
    opens itself, and the Session handed to code outside the project
    (`paginate(session, ...)`). When every blocking call is offloaded to
    `run_in_threadpool`, nothing blocks. A Session that is used, but in no way
    the index can name, blocks at its first use, as phase one judges it.
    """
    function = handler.function
    if not function.is_async and handler.kind != RESOLVER:
        return []
    if work is None:
        work = session_work(project, handler.id)
    if not work.any:
        return []
    # Project code outside PATH handed the Session (`UnreadContext(db)`) may only keep it: its
    # call is among the unverified ones (`Project.own_unverified`), not definite work.
    handed = [
        Blocking(c.line, f"{c.callee}(...)") for c in session_handoffs(project, handler.id)
        if not c.offloaded and project._unseen(c.callee) is None
    ]
    found = own_blocking(project, handler.id, work, streamed_lines(function), handed)
    if found:
        # what that Session loaded, read on the loop: its lazy loads block there too (the response's
        # included, which an `async def` route serialises on the loop)
        found.extend(own_lazy_loads(project, handler))
    if handler.kind in HOOK_KINDS:
        found = past_constructions(project, handler, found)
    unique: dict[tuple[int, str], Blocking] = {}
    for b in found:
        # the same call text on one line, offloaded once and on the loop once
        # (`await run_in_threadpool(load, db) if f else load(db)`): it blocks
        kept = unique.get((b.line, b.call))
        if kept is None or kept.offloaded:
            unique[b.line, b.call] = b
    return sorted(unique.values(), key=lambda b: (b.line, b.call))


def async_session_params(project: Project, handler: Handler) -> dict[str, str]:
    """The handler's parameters that receive an AsyncSession, and why. Asked several times for
    each handler by the checks below: worked out once, kept on the project."""
    memo: dict[FunctionId, dict[str, str]] = project.derived.setdefault("async_session_params", {})  # type: ignore[assignment]
    found = memo.get(handler.id)
    if found is None:
        found = memo[handler.id] = {}
        for param in handler.function.params:
            reason = project.declared_async_session(param)
            if reason is not None:
                found[param.name] = reason
    return dict(found)


def sync_helper_calls(project: Project, handler: Handler) -> list[Blocking]:
    """Calls of helpers doing synchronous Session work (`def` or `async def`) from an `async def`
    handler on the async path."""
    if not handler.function.is_async or not async_session_params(project, handler):
        return []
    found = []
    for edge in project.calls_from[handler.id]:
        if edge.call.greenlet:
            continue  # `await session.run_sync(lambda s: helper(s))`: handed a synchronous Session on a greenlet
        if project.sync_session_handed(handler.id, edge.call) is not None:
            continue  # handed the AsyncSession's own `sync_session`: AM314 when it queries there
        module, callee = project.functions[edge.callee]
        reached = _sync_work_below(project, edge.callee)
        if reached is not None:
            deeper = f", which reaches {reached}" if reached != f"{module.name}.{callee.qualname}" else ""
            found.append(
                Blocking(
                    edge.call.line, f"{module.name}.{callee.qualname}(...){deeper}", offloaded=edge.call.offloaded
                )
            )
    found.extend(_member_session_work(project, handler))
    unique = {(b.line, b.call): b for b in found}
    return sorted(unique.values(), key=lambda b: (b.line, b.call))


def _member_session_work(project: Project, handler: Handler) -> list[Blocking]:
    """Model code the handler calls, in its own body, on an object its AsyncSession loaded
    (`note = await db.get(Note, 1); note.persist()`) that does synchronous Session work on a
    Session it is not given: a `save()` mixin committing a `scoped_session` global. The call graph
    does not reach a method of what a query returned; the model-member index does."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    function = handler.function
    sessions = set(async_session_params(project, handler))
    index = None
    found = []
    for line, written, term, name, how in function.uses:
        if how != "call" or term[:1] != (Term.NAME,):
            continue
        held = function.holds.get(term[1], ())
        loads = [t[1] for t in held if t[0] == Term.LOAD and t[1] < len(function.loads)]
        if not held or len(loads) != len(held) or not all(_loaded_on(project, handler.id, t, sessions) for t in held):
            continue
        index = index or members(project, project_classes(project))
        for number in loads:
            cls = index.classes.resolve(function.loads[number].model)
            summary = index.runs(cls, name, "call") if cls is not None else None
            if summary is not None and summary.session_work:
                found.append(Blocking(line, f"{written}.{name}(...), which does synchronous Session work at "
                                            f"{summary.session_work[0]}"))
                break
    return found


def async_session_handoffs(project: Project, handler: Handler, any_def: bool = False) -> list[Blocking]:
    """Calls of synchronous project code doing Session work with the handler's AsyncSession itself:
    `tally(db)`, `Counter(db).count()`, `totals = Totals(db)` then `totals.total()`. Not blocking
    work: there the Session calls are not awaited (each gives a coroutine that never runs; `query()`
    raises AttributeError), which phase two's self-check says of its own output too. `any_def`: a
    `def` handler's too (check's), which phase one leaves alone."""
    function = handler.function
    names = set(async_session_params(project, handler)) | set(async_session_locals(project, function))
    held = held_async_sessions(project, handler)
    # `c.user_service.get_or_404(uid)`, the container's async form building the member as the
    # synchronous class around async repositories: their coroutines are never awaited there
    members = [
        Blocking(call.line, f"{project.functions[callee][0].name}.{project.functions[callee][1].qualname}(...)")
        for call, callee, _ in member_calls(project, handler.id)
    ] if function.is_async or any_def else []
    if not (function.is_async or any_def) or not (names or held):
        return members
    flow = project.flow
    found: list[Blocking] = []
    built: dict[int, str] = {}  # line -> the class reference an AsyncSession was handed to there
    # A library call's synchronous form handed the AsyncSession (`paginate(db, q)` where
    # `apaginate` exists) runs its own queries through a sync API it does not have: it fails.
    # So does the AsyncConnection taken from it (`paginate(await session.connection(), q)`).
    for call in function.calls:
        handed = _mapped_handoff(project, function, call, names)
        if handed is not None:
            found.append(Blocking(call.line, handed))
            continue
        connection = _async_connection_handed(project, function, call, names)
        if connection is not None:
            found.append(connection)
            continue
        task = _sync_task_handed(project, call, names)
        if task is not None:
            found.append(task)
            continue
        bound = _partial_handoff(project, call, names, held)
        if bound is not None:
            found.append(bound)
            continue
        if call.greenlet or not any(arg.name in names or arg.expr in held for arg in call.args):
            continue
        target = project.function(call.callee) if call.callee is not None else None
        if target is not None:
            callees = [(target[0].name, target[1].key)]
        elif call.callee is not None and any(v.kind == CLASS for v in flow.ref(call.callee)):
            built[call.line] = call.callee
            continue
        else:
            # a method through an instance (`crud.item.get(db, id)`, a dependency's `repo.get(db)`,
            # `self.repo.get(self.db)`): the object edges name what it may run
            callees = [e.callee for e in project.all_calls_from[handler.id] if e.call is call and e.via is not None]
        for callee in callees:
            handoff = _sync_handoff(project, call, callee, names, held)
            if handoff is not None:
                found.append(handoff)
                break
    if built:
        instances = {
            b.name for b in function.bindings if not b.entered and built.get(b.line) and b.expr == f"{built[b.line]}()"
        }
        for edge in project.all_calls_from[handler.id]:
            if edge.call.func is None:
                continue
            receiver = edge.call.func.rpartition(".")[0]
            chained = built.get(edge.call.line) is not None and receiver == f"{built[edge.call.line]}()"
            if not chained and receiver.removeprefix("$") not in instances:
                continue
            module, method = project.functions[edge.callee]
            if not method.is_async and edge.callee in project.work_chains:
                found.append(Blocking(edge.call.line, f"{module.name}.{method.qualname}(...)", edge.call.offloaded))
    return _merged(found, members)


def _partial_handoff(
    project: Project, call: facts.Call, names: AbstractSet[str], held: dict[str, str]
) -> Blocking | None:
    """`audit = functools.partial(write_audit, db)`, called later as `audit("viewed")`: the plain def
    it wraps gets the AsyncSession bound here, as `write_audit(db, "viewed")` would, at this line.
    One handed straight to another call (`to_thread(partial(...))`) is that call's to judge."""
    if call.callee is None or call.greenlet or call.argument_of is not None:
        return None
    args = call.args
    if (project.canonical(call.callee) or "") not in PARTIALS or not args or args[0].position != 0 or not args[0].ref:
        return None
    target = project.function(args[0].ref)
    bound = [dataclasses.replace(a, position=a.position - 1) if a.position is not None else a for a in args[1:]]
    if target is None or not any(a.name in names or a.expr in held for a in bound):
        return None
    shifted = dataclasses.replace(call, args=bound, callee=args[0].ref)
    return _sync_handoff(project, shifted, (target[0].name, target[1].key), names, held)


def _sync_handoff(
    project: Project, call: facts.Call, callee: FunctionId, names: AbstractSet[str], held: dict[str, str]
) -> Blocking | None:
    """The call of the plain def `callee` when it does Session work on what `call` hands it of
    `names` (an AsyncSession) or `held` (one the handler's instance holds); None otherwise."""
    module, function = project.functions[callee]
    if function.is_async:
        return None
    used = set(session_work_view(project, callee).used)
    given = set(project._session_args(call, callee, names))
    if held:
        # `run_in_threadpool(fetch, self.db, item_id)` in a `@cbv` view: the instance's AsyncSession
        given |= set(project.params_given(
            call, function, lambda arg: arg.expr if arg.expr in held else None, project.injected_arguments(callee),
        ))
    if used & given or _session_io_on(project, callee, given):
        return Blocking(call.line, f"{module.name}.{function.qualname}(...)", call.offloaded)
    return None


def held_async_sessions(project: Project, handler: Handler) -> dict[str, str]:
    """`$self.db` -> `self.db` for each attribute where a method handler's instance holds an
    AsyncSession: what its class's `__init__` (its own, a base's, or the one a fastapi-utils
    `@cbv` view's class attributes make) keeps from a parameter declared to receive one; and
    `$holder.session` -> `holder.session` for such an attribute of another object the handler
    hands to a call (`held_session.object_held_async`)."""
    from async_migrate.codemods.held_session import method_held_async, object_held_async

    function = handler.function
    found: dict[str, str] = {}
    if function.params and not function.params[0].variadic:
        instance = function.params[0].name
        attributes = method_held_async(project, handler.module, function)
        found = {f"${instance}.{attribute}": f"{instance}.{attribute}" for attribute in sorted(attributes)}
    # another object's (`add_item(holder.session)` on a dependency's or a built `Holder(db)`)
    for call in function.calls:
        for arg in call.args:
            expr = arg.expr
            if expr and expr not in found and "." in expr and object_held_async(project, handler.id, expr):
                found[expr] = expr[1:]
    return found


def _mapped_handoff(project: Project, function: facts.Function, call: facts.Call, names: AbstractSet[str]) -> str | None:
    """What to call `call` when it hands one of `names` (an AsyncSession) to a library call's
    synchronous form (`paginate(db, q)` where `apaginate` exists), None otherwise. That form runs
    its own queries through a sync API an AsyncSession does not have: it fails. So does the
    AsyncConnection taken from it (`paginate(await session.connection(), q)`), and so does a
    `functools.partial(paginate, db)` called later: it is that call, made elsewhere."""
    if call.callee is None or call.offloaded or call.greenlet:
        return None
    mappings = project.call_mappings
    callee = project.canonical(call.callee) or ""
    args = call.args
    if callee in PARTIALS and args and args[0].position == 0 and args[0].ref is not None:
        callee = project.canonical(args[0].ref) or ""
        args = args[1:]
    mapped = mappings.get(callee)
    if mapped is None:
        return None
    if not any(arg.name in names for arg in args) and not any(
        other.argument_of == call.index and other.receiver in names and other.method == "connection"
        for other in function.calls
    ):
        return None
    name = callee.rpartition(".")[2]
    return f"{name}(...), the synchronous form of `await {mapped}(...)`"


def _session_io_on(
    project: Project, fid: FunctionId, params: AbstractSet[str], seen: frozenset[FunctionId] = frozenset()
) -> bool:
    """Whether a plain `def` does Session I/O on one of `params` itself (`db.query(...)`,
    `db.execute(...)`, the synchronous form of a mapped library call, `paginate(db, q)`), or hands
    one to a plain project function that does. The Session fixpoint follows only synchronous
    Sessions into an unannotated parameter (`def names(db):`), so a helper handed the AsyncSession
    there did no Session work as far as it knew: each such call gives a coroutine nothing runs,
    `query` raises AttributeError, and `paginate` fails on the AsyncSession's missing sync API."""
    _, function = project.functions[fid]
    for call in function.calls:
        if call.nested:
            continue
        if call.receiver in params and call.method in SESSION_IO_METHODS:
            return True
        if _mapped_handoff(project, function, call, params) is not None:
            return True
        target = project.function(call.callee) if call.callee is not None else None
        if target is None or target[1].is_async or call.offloaded or call.greenlet:
            continue
        deeper = (target[0].name, target[1].key)
        given = set(project._session_args(call, deeper, params))
        # a few levels: helpers handing the Session on, never a cycle
        if given and deeper not in seen and len(seen) < 4 and _session_io_on(project, deeper, given, seen | {fid}):
            return True
    return False


_BACKGROUND_TASK = ", a background task"


def _sync_task_handed(project: Project, call: facts.Call, names: set[str]) -> Blocking | None:
    """`tasks.add_task(publish, db)` or `BackgroundTask(publish, db)` handing the AsyncSession to a
    plain def background task doing Session work with it: Starlette runs it after the response, in
    the threadpool, where each Session call gives a coroutine that never runs (the outbox is never
    marked published, the write never happens) and nothing awaited fails."""
    task = project.background_task(call)
    if task is None or project.functions[task][1].is_async:
        return None
    # The task receives the arguments after the function itself.
    given = dataclasses.replace(
        call,
        args=[
            dataclasses.replace(arg, position=None if arg.position is None else arg.position - 1)
            for arg in call.args if arg.position != 0
        ],
    )
    used = set(session_work_view(project, task).used)
    if not used & set(project._session_args(given, task, names)):
        return None
    module, function = project.functions[task]
    return Blocking(call.line, f"{module.name}.{function.qualname}(...){_BACKGROUND_TASK}")


def _async_connection_handed(
    project: Project, function: facts.Function, call: facts.Call, names: set[str]
) -> Blocking | None:
    """`count_rows(await db.connection())`, or `conn = await db.connection()` then `count_rows(conn)`,
    where `count_rows` is synchronous project code running the connection's queries: on the
    AsyncConnection each `execute()` gives a coroutine that never runs."""
    if call.callee is None or call.greenlet:
        return None
    target = project.function(call.callee)
    if target is None or target[1].is_async:
        return None
    connections = {conn for conn, session in function.awaited_connections if session in names}
    callee = (target[0].name, target[1].key)
    given = set(project._session_args(call, callee, connections)) if connections else set()
    if any(
        other.argument_of == call.index and other.receiver in names and other.method == "connection"
        for other in function.calls
    ):
        given |= {p.name for p in target[1].params}  # which parameter is not recorded: any that queries
    io = DERIVED_AWAITED[Derived.CONNECTION]
    used = sorted({
        c.method for c in target[1].calls
        if c.receiver in given and c.method in io and not c.awaited and not c.nested
    })
    if not used:
        return None
    return Blocking(
        call.line, f"{target[0].name}.{target[1].qualname}(...) given the AsyncConnection, whose "
        f"`{used[0]}()` it does not await: `await connection.run_sync({target[1].name})` runs it as written",
        call.offloaded,
    )


def _merged(first: list[Blocking], second: list[Blocking]) -> list[Blocking]:
    unique = {(b.line, b.call): b for b in (*first, *second)}
    return sorted(unique.values(), key=lambda b: (b.line, b.call))


def sync_session_off_greenlet(project: Project, handler: Handler) -> list[tuple[Blocking, str]]:
    """Queries through the synchronous Session behind the handler's AsyncSession outside
    `run_sync`: `count(db.sync_session)` where `count` queries, `db.sync_session.execute(...)`.
    The async driver's connection only answers inside `run_sync`'s greenlet, so each raises
    MissingGreenlet. Each with the Session's name and the first query it reaches."""
    function = handler.function
    if not function.is_async:
        return []
    found: list[tuple[Blocking, str]] = []
    for call in function.calls:
        if call.greenlet or call.nested:
            continue  # a nested function may well be what `run_sync` runs: not judged on a guess
        receiver, _, method = (call.func or "").rpartition(".")
        own = project.behind_async_session(handler.id, receiver)
        if own is not None and method in SESSION_IO_METHODS:
            found.append((Blocking(call.line, f"{own}.sync_session.{method}()", call.offloaded), own))
            continue
        handed = project.sync_session_handed(handler.id, call)
        target = project.function(call.callee) if handed is not None and call.callee is not None else None
        if handed is None or target is None or target[1].is_async:
            continue
        module, callee = target
        queries = session_work_view(project, (module.name, callee.key)).blocking
        if queries:
            first = queries[0]
            text = f"{module.name}.{callee.qualname}(...), which runs {first.call} at {module.path}:{first.line}"
            found.append((Blocking(call.line, text, call.offloaded), handed))
        elif _session_io_on(project, (module.name, callee.key), _sync_session_params(project, handler.id, call, callee)):
            # an unannotated parameter: the Session fixpoint does not follow `db.sync_session` there
            text = f"{module.name}.{callee.qualname}(...), which does Session work on it"
            found.append((Blocking(call.line, text, call.offloaded), handed))
    return found


def _sync_session_params(project: Project, fid: FunctionId, call: facts.Call, callee: facts.Function) -> set[str]:
    """The parameters of `callee` a call hands the synchronous Session behind an AsyncSession
    (`count(db.sync_session)`, `count(session=db.sync_session)`)."""
    return set(project.params_given(
        call, callee, lambda arg: project.behind_async_session(fid, arg.expr or (f"${arg.name}" if arg.name else None))
    ))


def async_lazy_loads(project: Project, handler: Handler) -> list[Blocking]:
    """Relationships an `async def` handler on an AsyncSession reads in its own body, on an object
    a query on that AsyncSession loaded, that no query of its closure eager-loads: the lazy load
    needs a greenlet it does not have. Phase one's `own_lazy_loads` asks the same of a handler on a synchronous Session (there
    the load blocks the loop instead). The same of the project coroutines it reaches that are
    declared to take an AsyncSession (a repository's `get_with_items(db, id)`), at the call."""
    function = handler.function
    if not function.is_async or handler.kind not in _ROUTE_OR_DEPENDENCY:
        return []
    # Asked twice of each handler (`check`, and phase one's reason for one on an AsyncSession).
    known = cast("dict[FunctionId, list[Blocking]]", project.derived.setdefault("async_lazy_loads", {}))
    found = known.get(handler.id)
    if found is None:
        found = known[handler.id] = _async_lazy_loads(project, handler)
    return list(found)


def _async_lazy_loads(project: Project, handler: Handler) -> list[Blocking]:
    function = handler.function
    sessions = set(handler_async_sessions(project, handler))
    found = _own_async_lazy_loads(project, handler.id, sessions) if sessions else []
    seen = {handler.id}
    pending = [(edge.call.line, edge.callee) for edge in project.all_calls_from.get(handler.id, ())]
    # `tasks.add_task(audit, db, id)`: a background task runs on the loop after the response
    pending += [
        (call.line, task) for call in function.calls
        if not call.nested and (task := project.background_task(call)) is not None
    ]
    while pending:
        line, callee = pending.pop()
        if callee in seen:
            continue
        seen.add(callee)
        module, target = project.functions[callee]
        declared = set(project.declared_async_session_params(callee)) if sessions else set()
        if not target.is_async:
            continue
        # a repository method on the AsyncSession its instance holds (`self.db`), however the
        # route came by the instance (built it, or `Depends`): what it reads is read on the loop
        own = _own_async_lazy_loads(project, callee, declared) if declared else []
        own += _held_async_lazy_loads(project, callee)
        if not own and not declared:
            continue
        for blocking in own:
            read, lazy, rest = blocking.call.partition(" (lazy load)")
            found.append(Blocking(
                line,
                f"{read if lazy else blocking.call} (lazy load at {module.path}:{blocking.line} "
                f"in {module.name}.{target.qualname}){rest}",
            ))
        pending.extend((line, edge.callee) for edge in project.all_calls_from.get(callee, ()))
    found += _model_code_lazy_loads(project, handler, sessions) if sessions else []
    # what a template reads of what it is handed is where no analysis follows: unverified, not cleared
    found += [Blocking(line, f"{what} ({_TEMPLATE})") for line, what in template_renders(project, handler.id)] \
        if sessions else []
    found += response_lazy_loads(project, handler, sessions)
    found += [b for b in validated_lazy_loads(project, handler, sessions) if b not in found]
    found += _dependency_object_lazy_loads(project, handler)
    found = _with_unlisted(found, _loader_object_lazy_loads(project, handler, sessions), _line_and_read)
    found = _with_unlisted(found, _read_by_name_through_coroutines(project, handler.id), _line_and_read)
    return found + (_helper_async_lazy_loads(project, handler, found) if sessions else [])


def _detached(function: facts.Function, sessions: list[str], blocking: Blocking) -> Blocking:
    """The read marked as one after the `async with` blocks opening every AsyncSession of the
    handler closed (`async with maker() as db: book = ...` then `book.author` below the block):
    the object is detached there, and its load raises DetachedInstanceError, not MissingGreenlet."""
    ends = []
    for name in sessions:
        opened = [b.end for b in function.bindings if b.name == name]
        if not opened or not all(opened):
            return blocking  # a Session the handler is given, or opens otherwise: open at the read
        ends.append(max(opened))
    if not ends or max(ends) >= blocking.line:
        return blocking
    return dataclasses.replace(blocking, call=f"{blocking.call}{_DETACHED.format(line=max(ends))}")


def handler_async_sessions(project: Project, handler: Handler) -> list[str]:
    """The names holding the handler's AsyncSession: its parameters receiving one (in order), then
    the locals it binds only to one it opens (sorted), then the module-level ones it works on (`db
    = SessionLocal()` at import, sorted; AM338's): what their awaited queries load is read on the
    loop the same way, lazily or after a commit expired it."""
    from async_migrate.codemods.held_commits import module_sessions

    own = [*async_session_params(project, handler), *sorted(opened_async_sessions(project, handler.function))]
    return own + sorted(set(module_sessions(project, handler.id)) - set(own))


def opened_async_sessions(project: Project, function: facts.Function) -> set[str]:
    """Names the function binds only to an AsyncSession it opens (`async with maker() as db:` on an
    `async_sessionmaker`, `async with AsyncSession(engine) as db:`): its queries load the same way
    as on one it is given."""
    return {
        binding.name for binding in function.bindings
        if binding.asynchronous and project._opened_async(function, binding.name)
    }


def _dependency_object_lazy_loads(project: Project, handler: Handler) -> list[Blocking]:
    """Relationships a handler reads on the object an `async def` dependency returns (`book:
    Annotated[Book, Depends(get_book)]`, or an alias of it from any module), the dependency
    loading it on the AsyncSession it is given (`await db.get(Book, book_id)`), that none of its
    options loads: that Session is the request's and still open, so the read is the lazy load,
    outside any greenlet."""
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

    function = handler.function
    found: list[Blocking] = []
    for param in function.params:
        dependency = param_provider(project, param)
        if dependency is None or param.name in function.holds:
            continue  # a name bound again may hold anything by the read
        module, provider = project.functions[dependency]
        sessions = set(project.declared_async_session_params(dependency))
        if not provider.is_async or provider.is_generator or not sessions or not provider.results:
            continue
        origins = _union(project, dependency, provider.results, sessions, (), 0)
        if origins is None:
            continue
        credit = _Credit(project, dependency)
        for line, receiver, attribute in function.attributes:
            if receiver != param.name or line in function.greenlet_lines:
                continue
            strategies = {_strategy_of(project, load.model, attribute) for load in origins}
            unloaded = "dynamic" not in strategies and credit.unloads(origins, attribute)  # its own lazyload(...)
            if None in strategies or (strategies <= SAFE_STRATEGIES and not unloaded) or credit.loads(origins, attribute):
                continue
            if by_name(function, receiver, line, attribute):
                continue  # the handler refreshes it on this object (`awaitable_attrs` too)
            # an option of another query of the handler's closure loads nothing of this object
            what = _DYNAMIC if "dynamic" in strategies else "lazy load"
            found.append(Blocking(
                line,
                f"{receiver}.{attribute} ({what}), its {', '.join(sorted({(load.model or '?').rpartition('.')[2] for load in origins}))} "
                f"from the dependency {module.name}.{provider.qualname}, whose query does not eager-load it",
            ))
    return found


def _loader_object_lazy_loads(project: Project, handler: Handler, sessions: set[str]) -> list[Blocking]:
    """Relationships a handler reads on an object the flow cannot trace to a query but a loader on
    an AsyncSession gives: an awaited project coroutine or method working on one (`tag = await
    crud.tag.get_async(db, id)`), or an `async def` dependency loading through one, however deep
    (`current_user: User = Depends(get_current_active_user)`). The class is the one declared: the
    parameter's annotation, the loader's return annotation, or a generic CRUD object's TypeVar as
    its class binds it. A relationship of that class declared to load lazily, which no loader option
    of the route's closure names, loads on the read outside any greenlet: unverified, not cleared,
    since the untraced query may load it (phase two reports the same reads unverified)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES, closure_eager_names
    from async_migrate.codemods.phase2.model_members import members

    function = handler.function
    classes = project_classes(project)
    stored = set(function.stores)
    reads = [
        (line, receiver, function.read_terms.get((line, receiver), (Term.NAME, receiver)), attribute)
        for line, receiver, attribute in function.attributes
    ] + list(function.chains)
    reads += [(line, written, term, name) for line, written, term, name, how in function.uses if how == "call"]
    eager: set[str] | None = None
    index = None
    found: list[Blocking] = []
    for line, written, term, attribute in reads:
        if line in function.greenlet_lines or (line, written, attribute) in stored:
            continue
        if _origins(project, handler.id, term, sessions) is not None:
            continue  # a query the flow traces: judged by its own options
        typed = _loader_classes(project, classes, handler, term, 0)
        if typed is None:
            continue
        owners, source = typed
        entities = ", ".join(sorted(classes.short(owner) for owner in owners))
        if eager is None:
            eager = closure_eager_names(project, handler.id)
        strategies = {_strategy_of(project, owner, attribute) for owner in owners} - {None}
        if not strategies:
            # model code (a property reading `self.owner`, a method): the same lazy load, one call deeper
            index = index or members(project, classes)
            for owner in owners:
                summary = index.runs(owner, attribute, "read") or index.runs(owner, attribute, "call")
                if summary is None:
                    continue
                need = next((
                    need for need in summary.needs
                    if need.strategy != "subclass" and not all(step in eager for _, step in need.path)
                ), None)
                if need is not None:
                    path = ".".join([classes.short(need.path[0][0]), *(step for _, step in need.path)])
                    found.append(Blocking(line, f"{written}.{attribute} (runs {summary.member}, which may lazy-load "
                                                f"{path}: a {entities} {source}{_UNTRACED_READ})"))
                    break
            continue
        if strategies <= SAFE_STRATEGIES | _NEVER_LOADS:
            continue
        if attribute in eager or by_name(function, written, line, attribute):
            continue
        found.append(Blocking(line, f"{written}.{attribute} (may lazy-load: a {entities} {source}{_UNTRACED_READ})"))
    return found


def _loader_classes(
    project: Project, classes: Classes, handler: Handler, term: tuple, depth: int
) -> tuple[list[str], str] | None:
    """The mapped classes an object term is declared as, where it comes from a loader on an
    AsyncSession (`_loader_object_lazy_loads`), with where it comes from; None otherwise."""
    function = handler.function
    if depth > 6 or not term:
        return None
    kind = term[0]
    if kind == Term.ATTR:
        inner = _loader_classes(project, classes, handler, term[1], depth + 1)
        if inner is None:
            return None
        targets = [t for owner in inner[0] if (t := _target_of(project, owner, term[2])) is not None]
        return (list(dict.fromkeys(targets)), inner[1]) if len(targets) == len(inner[0]) else None
    if kind == Term.ITER:
        return _loader_classes(project, classes, handler, term[1], depth + 1)
    if kind == Term.NAME:
        param = next((p for p in function.params if p.name == term[1]), None)
        if param is not None:
            if term[1] in function.holds:
                return None  # bound again: may hold anything by the read
            dependency = param_provider(project, param)
            if dependency is None or not _loading_dependency(project, dependency, 0):
                return None
            owners = [o for ref in param.annotation if (o := classes.resolve(ref)) is not None and classes.is_mapped(o)]
            module, provider = project.functions[dependency]
            return (owners, f"from the dependency {module.name}.{provider.qualname}") if owners else None
        held = function.holds.get(term[1], ())
        if not held or any(t[0] != Term.CALL for t in held):
            return None  # an object built, or bound to anything else on some path
        found: list[str] = []
        sources: list[str] = []
        for held_term in held:
            one = _loader_classes(project, classes, handler, held_term, depth + 1)
            if one is None:
                return None
            found.extend(o for o in one[0] if o not in found)
            sources.append(one[1])
        return found, " and ".join(dict.fromkeys(sources))
    if kind == Term.CALL:
        callee = next((
            e.callee for e in project.all_calls_from.get(handler.id, ())
            if e.call.index == term[1] and e.call.awaited and _works_on_async_session(project, e.callee, 0)
        ), None)
        if callee is None:
            return None
        module, loader = project.functions[callee]
        owners, _ = declared_classes(project, handler.id, loader, term[1])
        return (owners, f"from {module.name}.{loader.qualname}()") if owners else None
    return None


def _loading_dependency(project: Project, fid: FunctionId, depth: int) -> bool:
    """An `async def` dependency working on an AsyncSession, or returning what a dependency of its
    own that does gives it (`get_current_active_user(current_user = Depends(get_current_user))`)."""
    _, provider = project.functions[fid]
    if depth > 6 or not provider.is_async or provider.is_generator:
        return False
    if _works_on_async_session(project, fid, 0):
        return True
    return any(
        (dependency := param_provider(project, param)) is not None and _loading_dependency(project, dependency, depth + 1)
        for param in provider.params
    )


def _helper_async_lazy_loads(project: Project, handler: Handler, found: list[Blocking]) -> list[Blocking]:
    """What the project functions an `async def` handler on an AsyncSession calls read on the objects it
    hands them (`return [item_out(b) for b in books]`, a plain `def` helper reading `item.author` or a
    hybrid reading it): they run on the event loop, outside any greenlet, so each lazy load raises
    MissingGreenlet. The reads are phase two's (its lazy-load analysis of the handler's closure, which
    credits the loader options of the closure's queries by name); a read the analysis cannot trace to
    a query is reported too, never passed, unless every object the handler hands that call comes
    from its queries of classes none of which (nor a mapped subclass) has the attribute
    (`isinstance(item, Magazine) and item.publisher` given only Books). A call in the callable
    `run_sync` runs, and what that callable reaches, loads on its greenlet."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import RiskKind, lazy_loads
    from async_migrate.codemods.phase2.model_members import members
    from async_migrate.codemods.rules.am245_lazy_load_outside_reach import RULE as AM245
    from async_migrate.codemods.rules.am247_lazy_load_unverified import RULE as AM247
    from async_migrate.codemods.rules.am250_lazy_load_in_model_code import RULE as AM250
    from async_migrate.codemods.rules.am260_subclass_column_read import RULE as AM260

    function = handler.function
    # helper's dotted name -> the handler's calls leading into it
    reached: dict[str, list[facts.Call]] = {}
    pending = [
        (edge.call, edge.callee) for edge in project.all_calls_from.get(handler.id, ())
        if edge.call.line not in function.greenlet_lines
    ]
    # `tasks.add_task(notify, post)`: the task runs after the response, outside any greenlet, on
    # the objects it is handed (a `def` one in the threadpool): what it reads on them loads then
    tasks = {
        id(call): (call, task) for call in function.calls
        if not call.nested and (task := project.background_task(call)) is not None
    }
    pending += tasks.values()
    seen: set[tuple[int, FunctionId]] = set()
    while pending:
        call, callee = pending.pop(0)
        if callee == handler.id or (id(call), callee) in seen:
            continue
        seen.add((id(call), callee))
        module, target = project.functions[callee]
        # a coroutine declared to take an AsyncSession, or a method on one its instance holds, is
        # judged above on its own queries
        judged = target.is_async and bool(
            project.declared_async_session_params(callee) or _held_selects(target) or target.held_columns
        )
        if not judged:
            reached.setdefault(f"{module.name}.{target.qualname}", []).append(call)
        pending.extend(
            (call, edge.callee) for edge in project.all_calls_from.get(callee, ())
            if edge.call.line not in target.greenlet_lines
        )
    if not reached:
        return []
    sessions = set(handler_async_sessions(project, handler))
    classes = project_classes(project)
    index = members(project, classes)
    credit = _Credit(project, handler.id)

    def value_origins(term: tuple, visiting: frozenset[str]) -> list[facts.Load] | None:
        """The handler's queries the objects a value term is come from, None when any may come
        from elsewhere; a name met again on the way (`books = [b for b in books if ...]`) adds none."""
        if term[0] == Term.NAME:
            if term[1] in visiting:
                return []
            return joined([value_origins(t, visiting | {term[1]}) for t in function.holds.get(term[1], ())])
        if term[0] == Term.ITER:
            return element_origins(term[1], visiting)
        return _origins(project, handler.id, term, sessions)

    def element_origins(term: tuple, visiting: frozenset[str]) -> list[facts.Load] | None:
        if term[0] == Term.NAME:
            if term[1] in visiting:
                return []
            return joined([element_origins(t, visiting | {term[1]}) for t in function.holds.get(term[1], ())])
        if term[0] == Term.TUPLE:
            return joined([value_origins(t, visiting) for t in term[1]])
        return _origins(project, handler.id, (Term.ITER, term), sessions)

    def joined(parts: list[list[facts.Load] | None]) -> list[facts.Load] | None:
        if not parts or any(part is None for part in parts):
            return None
        return [load for part in parts if part is not None for load in part]

    def handed(call: facts.Call, only: facts.Arg | None = None) -> list[facts.Load] | None:
        """The queries of what the handler hands `call` (`only` that argument, when known), when
        all of it comes from them."""
        origins: list[facts.Load] = []
        for arg in call.args if only is None else [only]:
            if id(call) in tasks and arg.position == 0:
                continue  # the task function itself
            found = value_origins((Term.NAME, arg.name), frozenset()) if arg.name else None
            if not found or any(load.model not in classes.by_ref for load in found):
                return None
            origins += found
        return origins

    def passes(calls: list[facts.Call], risk: LazyLoadRisk) -> bool:
        """Every object handed on comes from the handler's queries, and each either has no such
        attribute in its class or mapped subclasses, or its query loads what the read needs: the
        whole relationship path the helper reads from what it is handed (`b.author.books`, or `a =
        b.author` then `a.books`, is `author.books` of the Book handed), never the attribute alone."""
        target = project.function(risk.function)
        written = risk.path.split(".")
        if risk.code == AM251.code:
            # a deferred column's risk names the class (`Product.description`), not the parameter:
            # cleared where every object the handler hands the helper comes from its queries, and
            # each of the column's class is one whose own query undefers it
            owner = classes.resolve(risk.owner) or risk.owner
            for call in calls:
                origins = handed(call)
                if origins is None:
                    return False
                mine = [load for load in origins if load.model is not None and owner in classes.mro(load.model)]
                if not mine or not all(credit.loads([load], risk.attribute) for load in mine):
                    return False
            return True
        for call in calls:
            direct = target is not None and call.callee is not None and project.canonical(call.callee) == risk.function
            traced = _from_parameter(target[1], written[0]) if direct and target is not None else None
            if traced is None and direct:
                return False  # what the helper reads it on is not traced to what it was handed
            param, steps = traced if traced is not None else (None, [])
            origins = handed(call, _parameter_arg(target[1], call, param) if param is not None and target is not None else None)
            if origins is None:
                return False
            rest = written[1:-1] if risk.reads else written[1:]
            path = [step for step, _ in steps] + rest + ([r for _, r in risk.reads] if risk.reads else [])
            if not direct:
                # a helper reached through another: its parameter is not what the handler handed
                path = [relationship for _, relationship in risk.reads] or [risk.attribute]
            path = path or [risk.attribute]
            models = {load.model for load in origins if load.model is not None}
            absent = direct and not any(
                index.known(m, path[0]) or index.subclass_only(m, path[0]) is not None
                or index.unread(m) is not None or index.outside(m) is not None
                for m in models
            )
            if absent:
                continue  # no class handed has the attribute the path starts with
            if risk.code in (AM247.code, AM260.code):
                return False
            flags = dict.fromkeys(range(len(path)), False) | {i: iterated for i, (_, iterated) in enumerate(steps)}
            for load in origins:
                # a collection's element's many-to-one back to its holder is that holder, already loaded
                walked = _walk(project, load.model or "", [(step, flags[i]) for i, step in enumerate(path)])
                reduced = [step for step, _ in walked[1]] if walked is not None else path
                if reduced and not credit.loads_path([load], reduced):
                    return False
        return True

    codes = {rule.code: "lazy load" for rule in (AM220, AM245, AM250, AM260)}
    codes |= {AM221.code: _DYNAMIC, AM251.code: _DEFERRED, AM247.code: _HELPER_UNVERIFIED}
    helpers: dict[tuple[int, str], Blocking] = {}
    for risk in lazy_loads(project, [handler.id]).risks:
        calls = reached.get(risk.function)
        if risk.kind != RiskKind.ATTRIBUTE or not calls or risk.code not in codes:
            continue
        if passes(calls, risk):
            continue
        what = f"{risk.path} ({codes[risk.code]} at {risk.file}:{risk.line} in {risk.function})"
        line = min(call.line for call in calls)
        helpers.setdefault((line, what), Blocking(line, what))
    shown = {(b.line, b.call) for b in found}
    return [b for key, b in helpers.items() if key not in shown]


def _from_parameter(
    function: facts.Function, name: str, visiting: frozenset[str] = frozenset(), depth: int = 0
) -> tuple[str, list[tuple[str, bool]]] | None:
    """The parameter a local name of a helper is read from, and the relationships read on the way
    (and whether each was iterated): `a` bound once to `b.author` is `("b", [("author", False)])`,
    `x` in `for x in b.author.books` is `("b", [("author", False), ("books", True)])`. None when a
    binding is anything else, or a parameter is bound again."""
    held = function.holds.get(name, ())
    if any(param.name == name for param in function.params):
        return (name, []) if not held else None
    if len(held) != 1 or name in visiting or depth > 12:
        return None
    return _term_from_parameter(function, held[0], visiting | {name}, depth + 1)


def _term_from_parameter(
    function: facts.Function, term: tuple, visiting: frozenset[str], depth: int
) -> tuple[str, list[tuple[str, bool]]] | None:
    if term[0] == Term.NAME:
        return _from_parameter(function, term[1], visiting, depth)
    if term[0] == Term.ATTR and isinstance(term[2], str):
        inner = _term_from_parameter(function, term[1], visiting, depth + 1)
        return None if inner is None else (inner[0], [*inner[1], (term[2], False)])
    if term[0] == Term.ITER:
        inner = _term_from_parameter(function, term[1], visiting, depth + 1)
        if inner is None:
            return None
        param, steps = inner  # over a handed list: its elements, what the handler's own query gave
        return param, ([*steps[:-1], (steps[-1][0], True)] if steps else steps)
    return None


def _parameter_arg(function: facts.Function, call: facts.Call, name: str) -> facts.Arg | None:
    """The argument `call` of a plain function hands its parameter `name`, by position or keyword;
    None when not found (each argument then counts)."""
    if "." in function.qualname:
        return None  # a method: its receiver shifts the positions
    position = next((i for i, p in enumerate(function.params) if p.name == name and p.positional and not p.variadic), None)
    return next(
        (arg for arg in call.args if arg.keyword == name or (arg.keyword is None and arg.position == position)), None
    )


def _own_attribute_risks(project: Project, fid: FunctionId) -> list[LazyLoadRisk]:
    """The lazy-load risks (AM220 to AM222) of attributes a function reads in its own body, not
    a response model's fields: what the AsyncSession checks below test against their loads."""
    from async_migrate.codemods.phase2.lazy_loads import RiskKind, own_lazy_load_risks

    module, function = project.functions[fid]
    own = f"{module.name}.{function.qualname}"
    return [
        risk for risk in own_lazy_load_risks(project, fid, by_class=False)
        if risk.code in (AM220.code, AM221.code, AM222.code, AM251.code)
        and risk.kind == RiskKind.ATTRIBUTE and not risk.served and risk.function == own
    ]


def _own_async_lazy_loads(project: Project, fid: FunctionId, sessions: set[str]) -> list[Blocking]:
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

    _, function = project.functions[fid]
    found = []
    credit = _Credit(project, fid)
    # Only reads in its own body on a name that holds nothing but what a query on its
    # AsyncSession loaded: the lazy-load analysis matches by name and over-reports (an object
    # the route built, a response field), and correct async code must not be flagged on a guess.
    for risk in _own_attribute_risks(project, fid):
        name = risk.path.split(".", 1)[0]
        # a name bound again: the bindings that may reach this read
        reaching = function.read_terms.get((risk.line, name))
        held = (reaching,) if reaching is not None else function.holds.get(name, ())
        origins = [load for term in held for load in _origins(project, fid, term, sessions) or ()]
        built = _built_and_flushed(project, function, held, name, risk.line, sessions)
        if built is not None:
            # `user.org.items`: the class at the end of the path (what `user.org` loads by key may
            # be in the Session already, or built too: its own relationships load on first read)
            steps = risk.path.split(".")[1:]
            owner: str | None = built
            for step in steps[:-1]:
                owner = _target_of(project, owner, step) if owner is not None else None
            strategy = _strategy_of(project, owner, risk.attribute) if steps[-1:] == [risk.attribute] else None
            if strategy is not None and strategy not in _NEVER_LOADS and not (
                len(steps) == 1 and _set_on_built(function, held, name, risk.attribute, risk.line)
            ):
                what = _DYNAMIC if strategy == "dynamic" else "lazy load"
                found.append(Blocking(
                    risk.line,
                    f"{risk.path} ({what}), on the {built.rpartition('.')[2]} the handler builds and adds to its "
                    "AsyncSession: no query loaded it, so its relationships load on first read, one declared "
                    "eager as well",
                ))
            continue
        if not (held and all(_loaded_on(project, fid, term, sessions) for term in held)):
            continue
        if credit.loads(origins, risk.attribute):
            continue
        if risk.path == f"{name}.{risk.attribute}" and _set_only(project, function, risk.line, name, risk.attribute, origins):
            continue
        if risk.path == f"{name}.{risk.attribute}" and _refreshed_read(
            project, function, name, risk.line, origins, risk.attribute
        ):
            continue
        # The risk matches the attribute by name over every class: when the queries name the
        # class, and its relationship of that name never loads (`lazy="raise"`) or always has
        # (`lazy="selectin"`), there is no lazy load, only another class's.
        strategies = {_strategy_of(project, load.model, risk.attribute) for load in origins}
        if not strategies <= SAFE_STRATEGIES:
            # a lazy="dynamic" relationship is a Query run synchronously: no eager load applies
            dynamic = risk.code == AM221.code or "dynamic" in strategies
            what = _DYNAMIC if dynamic else f"lazy load){_unloaded_by(credit, origins, risk.attribute)}"
            found.append(Blocking(risk.line, f"{risk.path} ({what}" + (")" if dynamic else "")))
    reported = {(b.line, b.call.partition(" (")[0]) for b in found}
    found += _chained_async_lazy_loads(project, fid, sessions, credit, reported)
    found += _read_by_name(project, fid, sessions, credit)
    # what the callable handed to `run_sync` reads loads on its greenlet
    return [b for b in found if b.line not in function.greenlet_lines]


# Relationship strategies that never load on a read (a "raise" one raises in any code)
_NEVER_LOADS = frozenset({"raise", "raise_on_sql", "noload", "write_only"})


def _built_and_flushed(
    project: Project, function: facts.Function, held: tuple, name: str, line: int, sessions: set[str]
) -> str | None:
    """The mapped class of the object `name` holds when the function built it there (`user =
    User(...)`, its only binding reaching the read at `line`), added it to one of `sessions`
    (`db.add(user)`, `db.add_all([user])`) and awaited a `flush()` or `commit()` on it before the
    read: a persistent object no query loaded. None otherwise (still pending, nothing loads)."""
    from async_migrate.codemods.classes import project_classes

    if len(held) != 1 or held[0][0] != Term.CALL:
        return None
    classes = project_classes(project)
    own = [c for c in function.calls if not c.nested]
    call = next((c for c in own if c.index == held[0][1]), None)
    built = classes.built_by(call.callee) if call is not None else None
    if built is None or not classes.is_mapped(built):
        return None
    added = [
        c.line for c in own
        if c.receiver in sessions and c.line < line and (
            (c.method == "add" and any(a.name == name for a in c.args))
            or (c.method == "add_all" and name in c.contained)
        )
    ]
    if not added:
        return None
    flushed = any(
        c.awaited and c.receiver in sessions and c.method in ("flush", "commit") and min(added) <= c.line < line
        for c in own
    )
    return built if flushed else None


def _below_built(
    project: Project, function: facts.Function, term: tuple, attribute: str, line: int, sessions: set[str]
) -> str | None:
    """`user.org.items` (or `org = user.org` then `org.items`) on a `user` the function built,
    added and flushed (`_built_and_flushed`): what `user.org` leads to may be built too or already
    in the Session, found by key with no query of its class, so its relationship loads on first
    read whatever it declares. What the read is, or None when it is no such read."""
    if term[0] == Term.NAME:  # `org = user.org` bound once, then `org.items`
        held = function.holds.get(term[1], ())
        term = held[0] if len(held) == 1 and held[0][0] == Term.ATTR else term
    steps: list[str] = []
    while term[0] == Term.ATTR:
        steps.insert(0, term[2])
        term = term[1]
    if not steps or term[0] != Term.NAME:
        return None
    held = function.holds.get(term[1], ())
    built = _built_and_flushed(project, function, held, term[1], line, sessions)
    owner: str | None = built
    for step in steps:
        owner = _target_of(project, owner, step) if owner is not None else None
    strategy = _strategy_of(project, owner, attribute)
    if owner is None or strategy is None or strategy in _NEVER_LOADS:
        return None
    if strategy == "dynamic":
        return f"({_DYNAMIC})"
    return (
        f"(lazy load), on what {term[1]}.{'.'.join(steps)} leads to from the {(built or '').rpartition('.')[2]} "
        f"the handler builds and adds to its AsyncSession: found there by key, no query of "
        f"{owner.rpartition('.')[2]} need load it, one declared eager included"
    )


def _target_of(project: Project, model: str, attribute: str) -> str | None:
    """The class relationship `attribute` of mapped class `model` leads to, or None."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    classes = project_classes(project)
    flow = members(project, classes).flow
    return flow.target(model, attribute) if flow.relationship(model, attribute) is not None else None


def _set_on_built(function: facts.Function, held: tuple, name: str, attribute: str, line: int) -> bool:
    """Whether the function gave the built object `attribute` itself before the read at `line`:
    a keyword of the call building it (`Book(author=a)`) or a write (`book.author = a`). The value
    is then in the object's state, and the read loads nothing."""
    call = next((c for c in function.calls if not c.nested and c.index == held[0][1]), None)
    if call is not None and any(a.keyword == attribute for a in call.args):
        return True
    return any(at < line and receiver == name and written == attribute for at, receiver, written in function.stores)


def _read_by_name(project: Project, fid: FunctionId, sessions: set[str], credit: _Credit) -> list[Blocking]:
    """`getattr(book, field)` on an object only a query on the AsyncSession loaded, whose class has a
    relationship or deferred column (or a mapping the tool does not read) that its query does not
    load: the analysis does not read which attribute is named, so it cannot pass the read
    (unverified); if it names one of those, the read loads it outside any greenlet."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES
    from async_migrate.codemods.phase2.model_members import members

    _, function = project.functions[fid]
    classes = project_classes(project)
    index = members(project, classes)
    found: list[Blocking] = []
    # `getattr(book, "author")`: a name the call spells, read as `book.author` is (the lazy-load risks)
    spelled: dict[tuple[int, str], set[str]] = {}
    for line, written, _, name, how in function.uses:
        if how == "getattr":
            spelled.setdefault((line, written), set()).add(name)
    for call in function.calls:
        if call.nested or call.callee not in ("getattr", "builtins.getattr") or not call.args:
            continue
        first = call.args[0]
        if "" not in spelled.get((call.line, first.name or ""), {""}):
            continue
        held = function.holds.get(first.name or "", ())
        if first.position != 0 or not held or not all(_loaded_on(project, fid, term, sessions) for term in held):
            continue
        origins = [load for term in held for load in _origins(project, fid, term, sessions) or ()]
        loading: list[str] = []
        for load in origins:
            if load.model is None or load.model not in classes.by_ref or index.unread(load.model) is not None:
                loading.append("?")
                continue
            for ancestor in classes.mro(load.model):
                declared = classes.by_ref[ancestor][1]
                loading += [
                    name for name in declared.relationships
                    if index.flow.relationship(load.model, name) not in SAFE_STRATEGIES and not credit.loads([load], name)
                ]
                loading += [name for name in declared.deferred if not credit.loads([load], name)]
            # a backref another class declares onto this one
            loading += [
                name for _, other in classes.by_ref.values() for name in other.backrefs
                if index.flow.relationship(load.model, name) not in (None, *SAFE_STRATEGIES)
                and not credit.loads([load], name)
            ]
        if loading:
            named = ", ".join(sorted(set(loading) - {"?"})[:3]) or "any attribute: its mapping is not read"
            found.append(Blocking(call.line, f"getattr({first.name}, ...) ({_BY_NAME}; it may name {named})"))
    return found


def _read_by_name_through_coroutines(project: Project, fid: FunctionId) -> list[Blocking]:
    """`getattr(team, rel)` on what an awaited project coroutine working on an AsyncSession returned
    (a repository's method on the one its instance holds, generic ones whose model is `self.model`,
    a CRUD helper handed one, a service's method awaiting either), whose query the analysis does not
    follow: the name may be a relationship, loaded outside any greenlet; unverified."""
    _, function = project.functions[fid]
    spelled: dict[tuple[int, str], set[str]] = {}
    for line, written, _, name, how in function.uses:
        if how == "getattr":
            spelled.setdefault((line, written), set()).add(name)
    found: list[Blocking] = []
    for call in function.calls:
        if call.nested or call.callee not in ("getattr", "builtins.getattr") or not call.args:
            continue
        first = call.args[0]
        if first.position != 0 or "" not in spelled.get((call.line, first.name or ""), {""}):
            continue
        loader = _coroutine_loading(project, fid, function.holds.get(first.name or "", ()), 0)
        if loader is not None and not _returns_unmapped(project, loader):
            module, loading = project.functions[loader]
            found.append(Blocking(call.line, f"getattr({first.name}, ...) ({_BY_NAME}; the object comes from "
                                  f"{module.name}.{loading.qualname}, whose query the analysis does not follow)"))
    return found


def _returns_unmapped(project: Project, fid: FunctionId) -> bool:
    """The coroutine is declared to return scalars, or no ORM model (`Members.never_mapped`:
    `-> UserModel | None`, a pydantic model built from the row) whose class forwards no attribute:
    no read of what it returns loads. A bare container, a model or a class the analysis cannot
    read is not."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    _, function = project.functions[fid]
    if function.returns_no_object:
        return True
    classes = project_classes(project)
    if not members(project, classes).never_mapped(function.returns):
        return False
    # `__getattr__` may hand the read on to an object the instance holds: a model, perhaps
    return not any(
        {"__getattr__", "__getattribute__"} & set(classes.by_ref[c][1].names)
        for ref in function.returns if (cls := classes.resolve(ref)) is not None
        for c in classes.mro(cls) if c in classes.by_ref
    )


def _coroutine_loading(project: Project, fid: FunctionId, terms: tuple, depth: int) -> FunctionId | None:
    """The awaited project coroutine working on an AsyncSession that the object terms come from."""
    _, function = project.functions[fid]
    for term in terms:
        kind = term[0]
        if depth > 8:
            return None
        if kind in (Term.ATTR, Term.ITER, Term.ITEM, Term.KEY):
            inner = _coroutine_loading(project, fid, (term[1],), depth + 1)
        elif kind in (Term.TUPLE, Term.ANY):
            inner = _coroutine_loading(project, fid, term[1], depth + 1)
        elif kind == Term.NAME:
            inner = _coroutine_loading(project, fid, function.holds.get(term[1], ()), depth + 1)
        elif kind == Term.CALL:
            inner = next((
                e.callee for e in project.all_calls_from.get(fid, ())
                if e.call.index == term[1] and e.call.awaited and _works_on_async_session(project, e.callee, 0)
            ), None)
        else:
            inner = None
        if inner is not None:
            return inner
    return None


def _works_on_async_session(project: Project, fid: FunctionId, depth: int) -> bool:
    """A coroutine declared to take an AsyncSession, awaiting a method of one its instance holds
    (`await self.session.get(self.model, id)`), or awaiting a coroutine that does either."""
    module, function = project.functions[fid]
    if not function.is_async or depth > 4:
        return False
    if project.declared_async_session_params(fid):
        return True
    owner, dot, _ = function.qualname.rpartition(".")
    if dot and function.params:
        cls = f"{module.name}.{owner}"
        own = f"${function.params[0].name}."
        for call in function.calls:
            parts = (call.func or "").removeprefix(own).split(".") if (call.func or "").startswith(own) else []
            if call.awaited and len(parts) >= 2 and _holds_async_session(project, cls, parts[0]):
                return True
    return any(
        e.call.awaited and _works_on_async_session(project, e.callee, depth + 1)
        for e in project.all_calls_from.get(fid, ())
    )


def _unloaded_by(
    credit: _Credit, origins: list[facts.Load], attribute: str, lead: str = "its ", verb: str = "eager-load it"
) -> str:
    """`, its Book from the query at line 12, which does not eager-load it`: the queries that
    loaded the object read, those whose own options leave the attribute lazy named first."""
    lazy = [load for load in origins if load.options is not None and not credit.own(load, attribute)] or origins
    entities = ", ".join(dict.fromkeys(
        load.entity if load.alias is None else f"{load.entity} (aliased {(load.model or '?').rpartition('.')[2]})"
        for load in lazy
    ))
    _, function = credit.project.functions[credit.fid]
    own = {id(load) for load in (*function.loads, *function.held_loads.values(), *function.held_columns.values())}
    built = {(load.line, load.index, load.session) for load in function.built_loads}
    if any(id(load) not in own and (load.line, load.index, load.session) not in built for load in lazy):
        return f", {lead}{entities} from a query of a coroutine it awaits, which does not {verb}"
    # where each query is written (a statement bound in branches: each select), not where it runs
    written = {call.index: call.line for call in function.calls}
    at = sorted({written.get(load.index, load.line) for load in lazy})
    lines = ", ".join(map(str, at))
    if len(at) == 1:
        return f", {lead}{entities} from the query at line {lines}, which does not {verb}"
    return f", {lead}{entities} from the queries at lines {lines}, which do not {verb}"


class _Credit:
    """Whether the queries an object comes from load an attribute with it. Each awaited query
    whose loader options are written in it (`facts.Load.options`) is judged by its own: an
    eager load in another query (the same Result local bound to another statement, another
    branch, a helper's) loads nothing of this one's objects. A query whose options are not read
    there is judged by name over the closure's options (the lazy-load analysis does not tie them
    to the objects they load). A refresh or an `awaitable_attrs` read counts only for the object
    it is given (`_refreshed_read`)."""

    def __init__(self, project: Project, fid: FunctionId) -> None:
        self.project = project
        self.fid = fid
        self._closure: set[str] | None = None

    def loads(self, origins: list[facts.Load], attribute: str) -> bool:
        names = {"*", attribute}
        if any(load.options is None for load in origins) and not names & self._closure_names():
            return False
        # an option of another query (the handler's, a helper's) loads nothing of these objects
        return all(load.options is None or self.own(load, attribute) for load in origins)

    def _closure_names(self) -> set[str]:
        from async_migrate.codemods.phase2.lazy_loads import closure_eager_names

        if self._closure is None:
            self._closure = closure_eager_names(self.project, self.fid)
        return self._closure

    def loads_path(self, origins: list[facts.Load], path: list[str]) -> bool:
        """Whether the queries load each relationship of a path read from their objects (`b.author
        .books`): the first as `loads` judges it, each past it by the steps of their own options
        along the path (`selectinload(Book.author).selectinload(Author.books)`), or else by name
        as `loads` does for what their options do not say."""
        if not self.loads(origins, path[0]):
            return False
        return all(self.along(origins, path[:depth], path[depth]) for depth in range(1, len(path)))

    def along(self, origins: list[facts.Load], prefix: list[str], attribute: str) -> bool:
        """Whether the queries load `attribute` on the objects `prefix` leads to from their own:
        by the steps of their options along it, or else by name as `loads` does."""
        rest = [load for load in origins if load.options is None or not self._along(load, prefix, attribute)]
        if not rest:
            return True
        # by name, as `loads` credits a query whose options are not read; never by their options
        # for their own entities (`selectinload("*")` loads one level), nor by another query's
        names = {"*", attribute}
        if any(load.options is None for load in rest) and not names & self._closure_names():
            return False
        return all(load.options is None for load in rest)

    def _along(self, load: facts.Load, prefix: list[str], attribute: str) -> bool:
        """Whether the query's options load `attribute` on the objects `prefix` leads to from its entity."""
        mine = self._mine(load)
        steps = [
            loads for owner, name, loads in load.options or ()
            if owner.startswith("^") and name in (attribute, "*")
            and owner[1:].rpartition("|")[0] in mine and owner.rpartition("|")[2] == "/".join(prefix)
        ]
        return bool(steps) and all(steps)

    def _mine(self, load: facts.Load) -> set[str]:
        """How an option names the query's entity (`own`)."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self.project)
        mine = {"", f"={load.entity}"}
        if load.alias is None and load.model is not None:
            mine.update(classes.mro(load.model) if load.model in classes.by_ref else (load.model,))
        return mine

    def _declaring_subclass(self, load: facts.Load, attribute: str) -> set[str]:
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self.project)
        if load.alias is not None or load.model not in classes.by_ref:
            return set()
        if _strategy_of(self.project, load.model, attribute) is not None:
            return set()
        declaring = [c for c in classes.subclasses(load.model) if _strategy_of(self.project, c, attribute) is not None]
        top = [c for c in declaring if not any(base in declaring for base in classes.mro(c)[1:])]
        return set(top) if len(top) == 1 else set()

    def unloads(self, origins: list[facts.Load], attribute: str) -> bool:
        """Whether a query's own options leave `attribute` of its entity to load on first read
        (`lazyload(User.items)`, `raiseload`, a `lazyload("*")` nothing naming it overrides)."""
        for load in origins:
            mine = self._mine(load)
            options = load.options or ()
            named = [loads for owner, name, loads in options if name == attribute and owner in mine]
            wild = [loads for owner, name, loads in options if name == "*" and owner in mine]
            if (named and not all(named)) or (not named and wild and not all(wild)):
                return True
        return False

    def own(self, load: facts.Load, attribute: str) -> bool:
        """Whether the query's own options load `attribute` of its entity: one naming that entity
        (its class or a base of it; an alias only by its own name) or any entity, for that
        attribute, else for all (`"*"`); an option leaving it lazy (`lazyload`, `raiseload`) wins
        over a wildcard, and what another entity's option loads is that entity's. An attribute the
        entity lacks and one subclass declares (with its own subclasses) is on that subclass's rows
        only: an option naming it loads it (`selectinload(Magazine.publisher)` on `select(Item)`)."""
        mine = self._mine(load) | self._declaring_subclass(load, attribute)
        options = load.options or ()
        named = [loads for owner, name, loads in options if name == attribute and owner in mine]
        if named:
            return all(named)
        wild = [loads for owner, name, loads in options if name == "*" and owner in mine]
        return bool(wild) and all(wild)


def _chained_async_lazy_loads(
    project: Project, fid: FunctionId, sessions: set[str], credit: _Credit, reported: set[tuple[int, str]]
) -> list[Blocking]:
    """Relationships read on an object the flow leads to a query on the AsyncSession that does
    not load them: on one that is no bare name (`row.Book.author` on a row of `await
    db.stream(select(Book))`, `result.one()[0].author`), which the lazy-load analysis does not
    judge, and on a bare name, which it clears when any query of the closure loads the name.
    Judged on the class the query names, so only a relationship of that class that loads lazily
    is one. A deferred column read on what is no bare name as well (`_model_code_lazy_loads`
    judges the bare names)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES
    from async_migrate.codemods.phase2.model_members import members

    _, function = project.functions[fid]
    found: list[Blocking] = []
    # bare names too: the name-based analysis credits any query's eager load of the name
    reads = [
        (line, receiver, function.read_terms.get((line, receiver), (Term.NAME, receiver)), attribute)
        for line, receiver, attribute in function.attributes
    ]
    chains = len(reads)
    classes = project_classes(project)
    index = members(project, classes)
    for number, (line, written, term, attribute) in enumerate(reads + list(function.chains)):
        if (line, f"{written}.{attribute}") in reported:
            continue
        origins = _origins(project, fid, term, sessions)
        below = _below_built(project, function, term, attribute, line, sessions) if origins is None else None
        if below is not None:
            # no query's option loads on what a built object leads to: only a refresh of it
            if not by_name(function, written, line, attribute):
                found.append(Blocking(line, f"{written}.{attribute} {below}"))
            continue
        if origins is None:
            # `b.author.books`, `a = b.author` then `a.books`, `for x in a.books: x.reviews`: a
            # relationship of an object relationships of the query's objects lead to
            lazy = _through(project, fid, term, attribute, sessions, credit)
            if lazy is not None:
                found.append(Blocking(line, f"{written}.{attribute} (lazy load){lazy}"))
            continue
        if origins is None or credit.loads(origins, attribute):
            continue
        if _set_only(project, function, line, written, attribute, origins):
            continue
        if _refreshed_read(project, function, written, line, origins, attribute):
            continue
        unseen = [load.model for load in origins if load.model is not None and classes.unread(load.model)]
        if unseen and (
            index.defining(attribute) or any(
                index.flow.relationship(c, attribute) is not None or index.deferred(c, attribute) for c in classes.by_ref
            )
        ):
            found.append(Blocking(line, f"{written}.{attribute} ({_UNSEEN}: `{unseen[0]}`)"))
            continue
        strategies = {_strategy_of(project, load.model, attribute) for load in origins}
        # a query's own `lazyload(User.items)` leaves it to the first read, whatever it declares
        unloaded = None not in strategies and "dynamic" not in strategies and credit.unloads(origins, attribute)
        if None not in strategies and (not strategies <= SAFE_STRATEGIES or unloaded):
            what = _DYNAMIC if "dynamic" in strategies else "lazy load"
            where = _unloaded_by(credit, origins, attribute) if what == "lazy load" else ""
            if unloaded and strategies <= SAFE_STRATEGIES:
                where += " (its own `lazyload(...)` or `raiseload(...)` of it wins over the `lazy=` it declares)"
            found.append(Blocking(line, f"{written}.{attribute} ({what}){where}"))
            continue
        deferred = [load.model for load in origins if number >= chains and load.model in classes.by_ref
                    and index.deferred(load.model, attribute)]
        if deferred:
            found.append(Blocking(line, f"{written}.{attribute} ({classes.short(deferred[0])}.{attribute}, {_DEFERRED})"))
            continue
        unread = [load.model for load in origins if number >= chains and load.model in classes.by_ref
                  and index.unread(load.model) is not None and not index.known(load.model, attribute)]
        if unread:
            found.append(Blocking(line, f"{written}.{attribute} ({classes.short(unread[0])}.{attribute}, {_UNREAD})"))
    return found


def _refreshed_read(
    project: Project, function: facts.Function, written: str, line: int, origins: list[facts.Load], attribute: str
) -> bool:
    """Whether a refresh (or `awaitable_attrs` read) loads `attribute` on the very object read: the
    name read, refreshed before in the function, or every query it comes from one of the function's,
    each of whose objects it refreshes (`refreshed.by_query`). None loads a dynamic relationship."""
    if any(_strategy_of(project, load.model, attribute) == "dynamic" for load in origins):
        return False
    if by_name(function, written, line, attribute):
        return True
    owners = cast("dict[int, tuple[facts.Function, int]] | None", project.derived.get("check_load_owners"))
    if owners is None:
        owners = project.derived["check_load_owners"] = {
            id(load): (owner, k) for _, owner in project.functions.values() for k, load in enumerate(owner.loads)
        }
    found = [owners.get(id(load)) for load in origins]
    # a read in the function running the query comes after the refresh; one elsewhere after it returned
    return bool(found) and all(
        at is not None and by_query(at[0], at[1], attribute, line if at[0] is function else None) for at in found
    )


def _through(
    project: Project, fid: FunctionId, term: tuple, attribute: str, sessions: set[str], credit: _Credit
) -> str | None:
    """How `attribute` lazy-loads on an object relationships lead to from a query's objects, when
    it does: read on the term itself (`b.author.books`), through a local bound to one (`a =
    b.author` then `a.books`) or an element of a collection one leads to (`for x in a.books`), any
    number of steps deep. It loads lazily when the class the steps reach declares it lazy, or
    declares it `selectin`/`subquery` while it leads back to a class already on the path (SQLAlchemy
    stops such loaders there: `lazy="selectin"` on `Author.books` loads nothing of
    `book.author.books` after `selectinload(Book.author)`), and no option of the query loads it
    along that path (`selectinload(Book.author).selectinload(Author.books)`). Reading a collection's
    element's relationship back to the object the collection hangs on (`for b in author.books:
    b.author`) finds it in the identity map: no load. None when it does not load, or the classes
    are not known."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    for inner, steps in _relationship_paths(project, fid, term, sessions, frozenset(), 0):
        if not steps or any(load.model not in classes.by_ref for load in inner):
            continue
        # the queries whose objects it loads on, by the path that leads there from each
        lazy: dict[tuple[str, ...], tuple[list[facts.Load], set[str]]] = {}
        for load in inner:
            walked = _walk(project, load.model or "", steps)
            if walked is None:
                lazy.clear()  # a step the analysis cannot follow: no claim on a guess
                break
            path, reduced = walked
            if _lazy_at(project, path, reduced, attribute):
                loads, reached = lazy.setdefault(tuple(step for step, _ in reduced), ([], set()))
                loads.append(load)
                reached.add(path[-1])
        for prefix, (loads, reached) in lazy.items():
            if credit.along(loads, list(prefix), attribute) if prefix else credit.loads(loads, attribute):
                continue
            names = ", ".join(sorted(classes.short(t) for t in reached))
            if not prefix:
                return _unloaded_by(credit, loads, attribute)
            return _unloaded_by(
                credit, loads, prefix[0], f"its {names} through {'.'.join(prefix)} of the ", "load it along that path"
            )
    return None


def _walk(project: Project, model: str, steps: list[tuple[str, bool]]) -> tuple[list[str], list[tuple[str, bool]]] | None:
    """The classes relationship `steps` reach from `model`, and the steps left once each step back
    from a collection's element to the object holding the collection is taken as that object (`for
    b in author.books: b.author` is `author`, in the identity map); None where a step's class is not known."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    flow = members_flow(project)
    path: list[str] = [model]
    reduced: list[tuple[str, bool]] = []
    for step, iterated in steps:
        target = flow.target(path[-1], step)
        if target is None or target not in classes.by_ref:
            return None
        if _back(project, path, reduced, step, target):
            path.pop()
            reduced.pop()
            continue
        path.append(target)
        reduced.append((step, iterated))
    return path, reduced


def _back(project: Project, path: list[str], reduced: list[tuple[str, bool]], step: str, target: str | None) -> bool:
    """Whether relationship `step` of the object at the end of `path` is a many-to-one back to the
    object whose collection holds it: the last step was a collection (iterated, or annotated as
    one), `step` leads to the class it hangs on, is not annotated as a collection, and is that
    collection's other side: as `back_populates` or `backref` pair them, or, where neither side
    names the other, the one relationship of its class leading there; and both join on the
    holder's primary key by one foreign key (`_by_primary_key`), which is what lets the lazy loader
    find the holder in the identity map: SQLAlchemy fills no other side on load. Another one to
    that class (`b.editor` beside `b.author`) is any object of it, which a query may have to load."""
    if not reduced or target != path[-2]:
        return False
    last, iterated = reduced[-1]
    if not (iterated or bool(_collection(project, path[-2], last))) or _collection(project, path[-1], step):
        return False
    holder, element = path[-2], path[-1]
    paired = _inverse(project, holder, last)
    if paired is not None and paired != step:
        return False
    if paired is None:
        paired = _inverse(project, element, step)
        if paired is not None and paired != last:
            return False
    if not _by_primary_key(project, holder, element, (holder, last), (element, step), paired is not None):
        return False
    if paired is not None:
        return True
    flow = members_flow(project)
    to_holder = {
        name for name in _relationships(project, element)
        if flow.target(element, name) == holder and not _collection(project, element, name)
    }
    return to_holder == {step}


def _by_primary_key(
    project: Project, holder: str, element: str, collection: tuple[str, str], back: tuple[str, str], paired: bool
) -> bool:
    """Whether the many-to-one `back` finds the object holding `collection` in the identity map, no
    query: SQLAlchemy's lazy loader looks an object up there by key only when the relationship
    joins the foreign key on the target's primary key, and the holder is that object only when
    both sides join on the same foreign key. So neither side may declare a join of its own
    (`primaryjoin`, `secondary`, keywords unpacked), nor, unpaired, pick its foreign key
    (`foreign_keys`: two sides over different ones are two relationships, `b.author` for `b in
    author.edited` is another Author); and every foreign key of the element's class must name
    the holder's single primary key column (`ForeignKey("authors.code")`: a query by code)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    allowed = {"foreign_keys"} if paired else set()
    for owner, attribute in (collection, back):
        for ancestor in classes.mro(owner):
            if attribute in classes.by_ref[ancestor][1].relationships:
                if set(classes.by_ref[ancestor][1].joins.get(attribute, ())) - allowed:
                    return False
                break
    keys = {key for ancestor in classes.mro(holder) for key in classes.by_ref[ancestor][1].primary_keys}
    references = [r for ancestor in classes.mro(element) for r in classes.by_ref[ancestor][1].references]
    return len(keys) == 1 and bool(references) and all(r in keys for r in references)


def _set_only(project: Project, function: facts.Function, line: int, written: str, attribute: str,
              origins: list[facts.Load]) -> bool:
    """Whether `written.attribute` at `line` is only assigned (`comment.post = post`), never read
    there, and on every class the queries give it is a single-object relationship (its `Mapped[...]`
    names no collection): SQLAlchemy 2 sets one without loading the value it replaces, which the
    flush loads, inside the awaited commit (deferred history), and queues the backref's change to
    an unloaded collection. Unless the relationship asks for `active_history=True` (or the legacy
    history style, or keywords unpacked may): then the set loads it at once, and raises
    MissingGreenlet. Assigning a collection loads the old one to compare, and is a read here."""
    entry = (line, written, attribute)
    if entry not in function.stores or function.attributes.count(entry) > function.stores.count(entry):
        return False
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    for load in origins:
        model = load.model
        if model is None or model not in classes.by_ref or _collection(project, model, attribute) is not False:
            return False
        declared = next((a for a in classes.mro(model) if attribute in classes.by_ref[a][1].relationships), None)
        if declared is None or set(classes.by_ref[declared][1].joins.get(attribute, ())) & _IMMEDIATE_HISTORY:
            return False
    return True


# relationship() keywords under which setting it loads the value it replaces at once.
_IMMEDIATE_HISTORY = frozenset({"active_history", "_legacy_inactive_history_style", "**"})


def _inverse(project: Project, owner: str, attribute: str) -> str | None:
    """The relationship of the other class `owner.attribute` names as its other side, if it does."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    for ancestor in classes.mro(owner):
        inverse = classes.by_ref[ancestor][1].inverses.get(attribute)
        if inverse is not None:
            return inverse
    return None


def _relationships(project: Project, owner: str) -> set[str]:
    """The relationship attributes `owner` declares or inherits, and the backrefs other classes give it."""
    from async_migrate.codemods.backrefs import project_backrefs
    from async_migrate.codemods.classes import project_classes

    return project_backrefs(project_classes(project)).names(owner)


def members_flow(project: Project) -> Any:
    """The relationship flow of the project's mapped classes (`phase2/eager_flow.py`)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    return members(project, project_classes(project)).flow


_COLLECTIONS = frozenset({
    "list", "set", "typing.List", "typing.Set", "collections.abc.Sequence", "collections.abc.Set",
    "typing.Sequence", "sqlalchemy.orm.DynamicMapped", "sqlalchemy.orm.WriteOnlyMapped",
})


def _collection(project: Project, owner: str, attribute: str) -> bool | None:
    """Whether relationship `owner.attribute` is a collection by its `Mapped[...]` annotation
    (True), a single object (False), or not annotated (None)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    for ancestor in classes.mro(owner):
        annotation = classes.by_ref[ancestor][1].annotations.get(attribute)
        if annotation:
            return any(ref in _COLLECTIONS for ref in annotation)
    return None


def _lazy_at(project: Project, path: list[str], steps: list[tuple[str, bool]], attribute: str) -> bool:
    """Whether `attribute` of the object at the end of `path` (the classes from the query's entity
    along `steps`, each a relationship and whether it was iterated) loads when read by its
    declaration: lazy, or `selectin`/`subquery` back to a class the path holds."""
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

    flow = members_flow(project)
    owner = path[-1]
    strategy = flow.relationship(owner, attribute)
    if strategy is None:
        return False  # a column, or no relationship of that class
    target = flow.target(owner, attribute)
    if _back(project, path, steps, attribute, target):
        return False  # an element's many-to-one back to the object holding the collection: in the identity map
    if strategy not in SAFE_STRATEGIES:
        return True
    # a selectin or subquery loader stops at a class the path already holds
    return strategy in ("selectin", "subquery") and target is not None and target in path


def _relationship_paths(
    project: Project, fid: FunctionId, term: tuple, sessions: set[str], visiting: frozenset[str], depth: int
) -> list[tuple[list[facts.Load], list[tuple[str, bool]]]]:
    """The queries on `sessions` an object term leads back to through relationship reads, each
    with the relationships read from their objects in order (and whether each was iterated): `a`
    bound to `b.author`, `b` an element of `(await db.scalars(select(Book))).all()`, is
    `([Book's query], [("author", False)])`. Empty where a way the term may come is not such a path."""
    if depth > 12:
        return []
    origins = _origins(project, fid, term, sessions)
    if origins is not None:
        return [(origins, [])]
    kind = term[0]
    if kind == Term.ATTR and isinstance(term[2], str):
        return [(o, [*s, (term[2], False)]) for o, s in _relationship_paths(project, fid, term[1], sessions, visiting, depth + 1)]
    if kind == Term.ITER:
        # an element of a collection a relationship holds
        return [
            (o, [*s[:-1], (s[-1][0], True)]) for o, s in _relationship_paths(project, fid, term[1], sessions, visiting, depth + 1)
            if s
        ]
    if kind == Term.NAME and term[1] not in visiting:
        _, function = project.functions[fid]
        return [
            found for held in function.holds.get(term[1], ())
            for found in _relationship_paths(project, fid, held, sessions, visiting | {term[1]}, depth + 1)
        ]
    return []


def _held_selects(function: facts.Function) -> list[facts.Load]:
    """The queries a method runs on a Session its instance holds, but legacy Query chains (no
    AsyncSession runs one: AM302 names it), which phase two reads for the options they carry."""
    return [load for load in function.held_loads.values() if load.form != "query"]


def _held_async_lazy_loads(project: Project, fid: FunctionId) -> list[Blocking]:
    """Relationships a method reads in its own body on an object only a query on an AsyncSession
    its instance holds loaded (`book = await self.db.get(Book, 1)`, the rows of `await
    self.db.execute(stmt)`; `self.db` declared AsyncSession in the class body, or assigned only
    from parameters declared AsyncSession), that the query does not load: the lazy load
    `_own_async_lazy_loads` finds on a Session parameter, followed the same way."""
    held_async = _held_async(project, fid)
    return _own_async_lazy_loads(project, fid, held_async) if held_async else []


def _held_async(project: Project, fid: FunctionId) -> set[str]:
    """The AsyncSessions a method's queries run on that its instance holds (`self.db`), as written."""
    module, function = project.functions[fid]
    if not _held_selects(function) and not function.held_columns:
        return set()
    cls = f"{module.name}.{function.qualname.rpartition('.')[0]}"
    return {
        load.session for load in (*_held_selects(function), *function.held_columns.values())
        if _holds_async_session(project, cls, load.session.partition(".")[2])
    }


def _holds_async_session(project: Project, cls: str, attribute: str) -> bool:
    """Whether instances of project class `cls` hold an AsyncSession as `attribute`: declared so
    in the class body (or a project base's), or assigned only parameters declared AsyncSession
    (a TypeVar the class binds to AsyncSession, `Repository[AsyncSession]`, included)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.held_session import ASYNC, held_kind

    return held_kind(project, project_classes(project), cls, attribute) == ASYNC


def _strategy_of(project: Project, model: str | None, attribute: str) -> str | None:
    """The `lazy=` of relationship `attribute` of mapped class `model`, or None."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    classes = project_classes(project)
    if model is None or model not in classes.by_ref:
        return None
    return members(project, classes).flow.relationship(model, attribute)


def _model_code_lazy_loads(project: Project, handler: Handler, sessions: set[str]) -> list[Blocking]:
    """Model code the handler runs in its own body (`order.product_names`, a hybrid, a method) on
    an object only a query on its AsyncSession loaded, of a class the query names, that reads a
    relationship (or a deferred column) nothing in the body loads: the same lazy load, one call
    deeper."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES, closure_eager_names
    from async_migrate.codemods.phase2.model_members import members, on_object_session

    function = handler.function
    classes = project_classes(project)
    index = members(project, classes)
    loaded: set[str] | None = None
    credit = _Credit(project, handler.id)
    reads = [(line, receiver, name, "read", name) for line, receiver, name in function.attributes]
    reads += [(line, written, name, how, name) for line, written, _, name, how in function.uses if how == "call"]
    # a write runs the attribute's validators, setter and listeners (`Members.write_hooks`)
    hooks = index.write_hooks()
    reads += [
        (line, receiver, member, how, attribute) for line, receiver, attribute in function.stores
        for member, how in hooks.get(attribute, ()) if receiver not in ("self", "cls")
    ]
    found: list[Blocking] = []
    for line, receiver, name, how, attribute in reads:
        if line in function.greenlet_lines:
            continue  # in the callable `run_sync` runs, on its greenlet
        held = function.holds.get(receiver, ())
        if not held:
            continue
        if not all(_loaded_on(project, handler.id, term, sessions) for term in held):
            found += _reached_model_code(project, handler.id, held, sessions, credit, line, receiver, how, attribute, name)
            continue
        models = {model for t in held for model in _loaded_models(project, handler.id, t, sessions)}
        for model in models:
            if model not in classes.by_ref:
                continue
            if loaded is None:  # what the closure's queries load, by name (as for relationship reads)
                loaded = closure_eager_names(project, handler.id)
            # `doc.body = data` records the value and loads nothing, unless the column asks for
            # active history
            set_only = how == "read" and only_set(function, line, receiver, name) and not index.set_loads(model, name)
            if not set_only and how == "read" and index.deferred(model, name) and not by_name(function, receiver, line, name) and not credit.loads(
                [load for t in held for load in _origins(project, handler.id, t, sessions) or ()], name
            ):
                # a deferred column (`deferred(...)`, `mapped_column(deferred=True)`) no `undefer`
                # of the closure loads: its first read is a SELECT, outside any greenlet
                found.append(Blocking(line, f"{receiver}.{name} ({classes.short(model)}.{name}, {_DEFERRED})"))
                continue
            narrowed = _narrowed_read(project, handler.id, held, sessions, model, name) if how == "read" and not set_only else None
            if narrowed is not None and not by_name(function, receiver, line, name):
                # `load_only(Product.name)` then `product.price`: the column loads on its first read
                found.append(Blocking(line, f"{receiver}.{name} ({classes.short(model)}.{name}, {_UNLOADED}: "
                                            f"{narrowed})"))
                continue
            if how == "read" and index.unread(model) is not None and not index.known(model, name) and not credit.loads(
                [load for t in held for load in _origins(project, handler.id, t, sessions) or ()], name
            ):
                # which attributes the mapping makes relationships or deferred columns is not read
                found.append(Blocking(line, f"{receiver}.{name} ({classes.short(model)}.{name}, {_UNREAD})"))
                continue
            sub = index.subclass_only(model, name) if how == "read" else None
            if sub is not None and POLYMORPHIC not in loaded:
                found.append(Blocking(line, f"{receiver}.{name} ({classes.short(sub)}.{name}, a subclass column a "
                                            f"query of {classes.short(model)} does not load: lazy load)"))
                continue
            summary = index.runs(model, name, how)
            if summary is None:
                continue
            if summary.session_work and on_object_session(summary.session_work[0]):
                # (work on a Session it is not given is the synchronous helper call AM302 reports)
                found.append(Blocking(line, f"{receiver}.{attribute} (runs {summary.member}, {session_work_text(summary)})"))
                continue
            origins = [load for t in held for load in _origins(project, handler.id, t, sessions) or ()]
            for need in summary.needs:
                if need.strategy == "subclass" and POLYMORPHIC in loaded:
                    continue  # a polymorphic load in the closure: taken for the subclass's
                # each step loaded by the object's own queries (their options along the path),
                # never by an option of another query of the closure
                if need.strategy not in ("dynamic", "subclass") and all(
                    index.flow.relationship(owner, step) in SAFE_STRATEGIES
                    or (depth == 0 and credit.loads(origins, step))
                    or (depth > 0 and credit.along(origins, [s for _, s in need.path[:depth]], step))
                    or (len(need.path) == 1 and by_name(function, receiver, line, step))
                    for depth, (owner, step) in enumerate(need.path)
                ):
                    continue
                path = ".".join(step for _, step in need.path)
                what = {"dynamic": "dynamic relationship", "subclass": "subclass column"}.get(need.strategy, "lazy load")
                found.append(Blocking(line, f"{receiver}.{attribute} (runs {summary.member}, reads {path}: {what})"))
                break
    return found


def _reached_model_code(
    project: Project, fid: FunctionId, held: tuple, sessions: set[str], credit: _Credit, line: int, receiver: str,
    how: str, attribute: str, name: str,
) -> list[Blocking]:
    """Model code run on an object relationships lead to from a query's objects (`for t in
    project.tasks: t.owner_name`, `book.author.display`): what it reads is loaded only by the
    query's options along the whole path, relationship steps first, then the steps the member
    reads (`selectinload(Project.tasks).joinedload(Task.owner)`), or by a strategy the class
    declares. Every way the object may come must be such a path the classes are known along;
    else no claim (`_through` names the relationship reads themselves)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members, on_object_session

    classes = project_classes(project)
    index = members(project, classes)
    ways = []
    for term in held:
        found = _relationship_paths(project, fid, term, sessions, frozenset(), 0)
        if not found or any(not steps for _, steps in found):
            return []
        ways += found
    for origins, steps in ways:
        for load in origins:
            walked = _walk(project, load.model or "", steps) if load.model in classes.by_ref else None
            if walked is None:
                continue
            path, reduced = walked
            summary = index.runs(path[-1], name, how)
            if summary is None:
                continue
            if summary.session_work and on_object_session(summary.session_work[0]):
                return [Blocking(line, f"{receiver}.{attribute} (runs {summary.member}, {session_work_text(summary)})")]
            for need in summary.needs:
                if need.strategy in ("dynamic", "subclass"):
                    continue  # judged on objects a query loads itself; not claimed one step further
                lazy = _lazy_step(project, credit, load, list(path), list(reduced), [s for _, s in need.path])
                if lazy:
                    through = f", its {classes.short(path[-1])} through {'.'.join(s for s, _ in reduced)}" if reduced else ""
                    return [Blocking(line, f"{receiver}.{attribute} (runs {summary.member}, reads "
                                           f"{'.'.join(s for _, s in need.path)}: lazy load{through})")]
    return []


def _lazy_step(
    project: Project, credit: _Credit, load: facts.Load, path: list[str], reduced: list[tuple[str, bool]], steps: list[str]
) -> bool:
    """Whether reading relationship `steps` in turn from the object at the end of `path` (`reduced`
    the steps from `load`'s entity) lazy-loads one: declared lazy there (`_lazy_at`, a step back to
    the collection's holder in the identity map) and not loaded by the query's options along the
    path. False where a step's class is not known: no claim on a guess."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    flow = members_flow(project)
    for step in steps:
        prefix = [s for s, _ in reduced]
        if _lazy_at(project, path, reduced, step) and not (
            credit.along([load], prefix, step) if prefix else credit.loads([load], step)
        ):
            return True
        target = flow.target(path[-1], step)
        if target is None or target not in classes.by_ref:
            return False
        if _back(project, path, reduced, step, target):
            path.pop()
            reduced.pop()
        else:
            path.append(target)
            reduced.append((step, False))
    return False


def session_work_text(summary: Summary) -> str:
    """How a finding says that model code does synchronous Session work on an object an AsyncSession
    loaded (`object_session(self).scalar(...)`): the Session it reaches is the synchronous one inside
    the AsyncSession, whose I/O outside a greenlet raises MissingGreenlet."""
    from async_migrate.codemods.phase2.model_members import on_object_session

    work = summary.session_work[0]
    return f"which does synchronous Session work at {work}: {_OWN_SESSION if on_object_session(work) else _HELD_SESSION}"


def _loaded_on(project: Project, fid: FunctionId, term: tuple, sessions: set[str]) -> bool:
    """Whether an object term (`codemods/astcollect/objects.py`) is only what a query on one of
    `sessions` loaded: the function's own query (an element of the list it returned, the entity of
    a row it returned), a local holding one, or what an awaited project coroutine handed that
    Session returns the same way (`await get_ticket_async(db, 1)`)."""
    return _origins(project, fid, term, sessions) is not None


def _narrowed_read(
    project: Project, fid: FunctionId, held: tuple, sessions: set[str], model: str, name: str
) -> str | None:
    """Why a column read on an object the terms `held` give is left unloaded by a `load_only` or
    `defer` of a query it comes from (`lazy_loads.narrowed_column`), or None."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import narrowed_column

    classes = project_classes(project)
    homes: list[tuple[FunctionId, facts.Load]] = []
    for term in held:
        _origins(project, fid, term, sessions, homes=homes)
    for home, load in homes:
        if load.model is None or classes.resolve(load.model) != classes.resolve(model):
            continue
        why = narrowed_column(classes, project.functions[home][1], model, name)
        if why is not None:
            return why
    return None


def _loaded_models(project: Project, fid: FunctionId, term: tuple, sessions: set[str]) -> set[str | None]:
    """The mapped classes the queries an object term comes from name, followed as `_loaded_on`
    follows them; None for what is not known."""
    origins = _origins(project, fid, term, sessions)
    return {load.model for load in origins} if origins else {None}


def _origins(
    project: Project, fid: FunctionId, term: tuple, sessions: set[str], picks: tuple = (), depth: int = 0,
    homes: list[tuple[FunctionId, facts.Load]] | None = None,
) -> list[facts.Load] | None:
    """The queries on one of `sessions` whose objects an object term is, with `picks` (the
    element, item or attribute steps taken from it, outermost last) applied; None when any way
    the term may come is not such a query's object. `homes`, when given, gets each query with
    the function it is written in (whose `narrowed` options apply to it)."""
    _, function = project.functions[fid]
    kind = term[0]
    if depth > 12:
        return None
    if kind in (Term.ATTR, Term.ITER, Term.ITEM, Term.KEY):
        return _origins(project, fid, term[1], sessions, ((kind, *term[2:]), *picks), depth + 1, homes)
    query = _query(function, term, sessions)
    if query is not None:
        # the entity, or an element of the list the query returned: `for b in (await db.scalars(s)).all()`
        if not all(p[0] in (Term.ITER, Term.ITEM) for p in picks):
            return None
        found = _canonical_load(project, query)
        if homes is not None:
            homes.append((fid, found))
        return [found]
    if kind == Term.LOAD:
        return None
    if kind == Term.ROW:
        # a row of an awaited select: `row.Book`, `row[1]`, `(book, author) = row`,
        # `row._mapping["Book"]`, a mapping's `m["Book"]`: the entity the select names there
        rest = picks[1:]
        if picks[:1] == ((Term.ATTR, "_mapping"),) and rest[:1] and rest[0][0] == Term.KEY:
            picks, rest = rest, rest[1:]
        if not picks:
            return None
        columns = term[1:]
        if picks[0][0] == Term.ITEM:
            number = picks[0][1]
            chosen = [columns[number]] if isinstance(number, int) and number < len(columns) else []
        elif picks[0][0] in (Term.ATTR, Term.KEY):
            queries = [_query(function, column, sessions) for column in columns]
            chosen = [
                column for column, query in zip(columns, queries)
                if query is not None and _row_key(query) == picks[0][-1]
            ]
        else:
            chosen = []
        if len(chosen) != 1 or _query(function, chosen[0], sessions) is None:
            return None
        return _origins(project, fid, chosen[0], sessions, rest, depth + 1, homes)
    if kind == Term.TUPLE:
        if picks and picks[0][0] == Term.ITEM:
            items = term[1]
            if not isinstance(picks[0][1], int) or picks[0][1] >= len(items):
                return None
            return _origins(project, fid, items[picks[0][1]], sessions, picks[1:], depth + 1, homes)
        if picks and picks[0][0] == Term.ITER:
            return _union(project, fid, term[1], sessions, picks[1:], depth, homes)
        if not picks:
            # the sequence itself, as a query's own list stands for its objects: a copy of one
            # (`list(await db.scalars(s))`, `sorted(...)`) or a display of its elements, each
            # of which a response model validates
            return _union(project, fid, term[1], sessions, picks, depth, homes)
        return None
    if kind == Term.ANY:
        return _union(project, fid, term[1], sessions, picks, depth, homes)
    if kind == Term.PAGE:
        # `await apaginate(db, select(Book))`: the page's `items` are the select's objects, and a
        # `Page[BookOut]` response validates them as BookOut; its other fields are numbers
        if picks[:1] == ((Term.ATTR, "items"),):
            return _origins(project, fid, term[1], sessions, picks[1:], depth + 1, homes)
        return None if picks else _origins(project, fid, term[1], sessions, (), depth + 1, homes)
    if kind == Term.NAME:
        return _union(project, fid, function.holds.get(term[1], ()), sessions, picks, depth, homes)
    if kind != Term.CALL:
        return None
    call = next((c for c in function.calls if c.index == term[1]), None)
    target = project.function(call.callee) if call is not None and call.awaited and call.callee else None
    if call is not None and call.awaited and (target is None or "." in target[1].qualname):
        return _method_origins(project, fid, call, sessions, picks, depth, homes)
    if call is None or target is None or not target[1].is_async:
        return None
    module, callee = target
    given = _handed(call, [p.name for p in callee.params], sessions)
    if not given:
        return None
    return _union(project, (module.name, callee.key), callee.results, given, picks, depth, homes)


def _method_origins(
    project: Project, fid: FunctionId, call: facts.Call, sessions: set[str], picks: tuple, depth: int,
    homes: list[tuple[FunctionId, facts.Load]] | None,
) -> list[facts.Load] | None:
    """`_origins` of what an awaited project method returns (`await repo.get(db, id)`, `await
    crud.team.get(db, id)`), by the call graph's edges as the flow of phase two follows them: the
    receiver takes `self`, so the AsyncSession handed is the parameter `Edge.session_args` names;
    a query on one the instance holds (`self.db`) counts too. A generic CRUD method's `return await
    db.get(self.model, id)` loads the class the module-level instance is built with
    (`fetched_refresh`). None when any method the call may run returns what is no such query's."""
    from async_migrate.codemods.phase2.fetched_refresh import gotten

    edges = [e for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index]
    if not edges or not all(e.certain for e in edges):
        return None
    found: list[facts.Load] = []
    for edge in edges:
        module, callee = project.functions[edge.callee]
        if not callee.is_async:
            return None
        if (call.callee or "").endswith("." + callee.qualname):
            return None  # called through its class: the receiver is an argument
        given = _handed_params(callee, call, sessions) | _held_async(project, edge.callee)
        if not given:
            return None
        model = gotten(project, edge.callee, call.callee, given)
        if model is not None:
            if not all(p[0] in (Term.ITER, Term.ITEM) for p in picks):
                return None
            get = callee.calls[0]
            load = facts.Load(get.line, get.index, "get", get.receiver or "", model, model.rpartition(".")[2], options=())
            if homes is not None:
                homes.append((edge.callee, load))
            each: list[facts.Load] | None = [load]
        else:
            each = _union(project, edge.callee, callee.results, given, picks, depth, homes)
        if each is None:
            return None
        found.extend(load for load in each if load not in found)
    return found or None


def _handed_params(method: facts.Function, call: facts.Call, sessions: set[str]) -> set[str]:
    """The parameters of `method`, called on an instance, that `call` hands one of `sessions`:
    positions start after `self`, as `eager_flow.Flow._parameter` reads them."""
    positional = [p.name for p in method.params if p.positional and not p.variadic and p.name not in ("self", "cls")]
    return _handed(call, positional, sessions)


def _handed(call: facts.Call, positional: list[str], sessions: set[str]) -> set[str]:
    """The parameters, `positional` in order, that `call` hands one of `sessions`: by keyword or
    by position."""
    found = set()
    for arg in call.args:
        if arg.name not in sessions:
            continue
        if arg.keyword is not None:
            found.add(arg.keyword)
        elif arg.position is not None and arg.position < len(positional):
            found.add(positional[arg.position])
    return found


def _canonical_load(project: Project, load: facts.Load) -> facts.Load:
    """`load` with its entity, and the classes its options name, as the classes' own references.
    A module imports a model through a package's re-export (`from app.models import Product`) as
    often as from its home module, and the checks on a query's objects compare both with the
    class order: read as written, a re-exported model matched no class, so none of its deferred
    columns, subclass columns or model code was judged (a clean `check` over MissingGreenlet)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    if load.builder is not None and load.model is None:
        load = _built(project, load)

    def home(ref: str) -> str:
        return ref if ref.startswith("=") else classes.resolve(ref) or ref

    model = home(load.model) if load.model else load.model
    options = load.options
    if options is not None:
        fixed = []
        for owner, name, loads in options:
            if owner.startswith("^"):
                ref, _, path = owner[1:].rpartition("|")
                owner = f"^{home(ref)}|{path}" if ref else owner
            elif owner:
                owner = home(owner)
            fixed.append((owner, name, loads))
        options = tuple(fixed)
    if model == load.model and options == load.options:
        return load
    return dataclasses.replace(load, model=model, options=options)


def _built(project: Project, load: facts.Load) -> facts.Load:
    """A query running what a statement builder returns (`s.scalars(by_id(pid))`) with the
    builder's select: its entity, and its options before those the query's own chain adds
    (None when either is not read). With no entity and options unread when the builder returns
    no one select (different selects on different paths, or one the collector cannot read)."""
    cache = cast("dict[str, facts.Load | None]", project.derived.setdefault("check_builders", {}))
    if load.builder not in cache:
        found = project.function(load.builder)
        cache[load.builder or ""] = found[1].returns_select if found is not None else None
    built = cache[load.builder or ""]
    # one object per query, as a query of the function's own is: readers compare them by identity
    made = cast("dict[int, facts.Load]", project.derived.setdefault("check_built_loads", {}))
    if id(load) not in made:
        if built is None:
            # the options the builder gives are not read: judged by name, as an unread `.options(*opts)`
            made[id(load)] = dataclasses.replace(load, options=None)
        else:
            options = None if built.options is None or load.options is None else built.options + load.options
            made[id(load)] = dataclasses.replace(load, model=built.model, entity=built.entity, options=options)
    return made[id(load)]


def _row_key(load: facts.Load) -> str:
    """The key a row names the entity's column by: `row.Book`; an alias's `name=` (none unnamed)."""
    return load.alias if load.alias is not None else load.entity.rsplit(".", 1)[-1]


def _query(function: facts.Function, term: tuple, sessions: set[str]) -> facts.Load | None:
    """The query on one of `sessions` a term names: one of the function's own (`("load", n)`), or
    in a method one on a Session its instance holds (`("call", i)`, `facts.Function.held_loads`)."""
    if term[0] == Term.LOAD:
        load = function.loads[term[1]] if term[1] < len(function.loads) else None
    elif term[0] == Term.CALL:
        load = function.held_loads.get(term[1])
        if load is not None and load.form == "query":
            return None  # a legacy Query, which no AsyncSession runs: AM302 names it
    elif term[0] == Term.COLUMN:
        load = function.held_columns.get((term[1], term[2], term[3]))
    elif term[0] == Term.BUILT:
        load = function.built_loads[term[1]] if term[1] < len(function.built_loads) else None
    else:
        return None
    return load if load is not None and load.session in sessions else None


def _union(
    project: Project, fid: FunctionId, terms: tuple, sessions: set[str], picks: tuple, depth: int,
    homes: list[tuple[FunctionId, facts.Load]] | None = None,
) -> list[facts.Load] | None:
    found: list[facts.Load] = []
    for term in terms:
        each = _origins(project, fid, term, sessions, picks, depth + 1, homes)
        if each is None:
            return None
        found.extend(load for load in each if load not in found)
    return found or None


_DYNAMIC = 'lazy="dynamic" query'
# A helper's read on an object of a class the analysis cannot read whole (a base outside PATH, a
# mapping's unread `properties=`): it may be a relationship or no model's attribute at all.
_HELPER_UNVERIFIED = "may load on first read: unverified"
_UNSEEN = "an object of a class of a project module the tool did not read"
_DETACHED = ", after the `async with` block ending at line {line} closed its AsyncSession"
_TEMPLATE = "its reads are where the analysis does not follow"
_BY_NAME = "an attribute named at run time, which the analysis does not read: unverified"
UNFOLLOWED_CODE = "unverified model code"
# A response read on objects whose loading query the flow cannot trace (`async_response_reads`).
UNTRACED_RESPONSE = "the analysis does not trace to the query loading them: unverified"
# A relationship read on an object a loader the flow does not follow gives (`_loader_object_lazy_loads`).
_UNTRACED_READ = ", whose query the analysis does not follow: unverified"
_DEFERRED = "a deferred column no query undefers: loads on first read"
# A column the mapping loads with the row, which a `load_only` or `defer` of the query leaves out.
_UNLOADED = "a column its query leaves unloaded: loads on first read"
_UNREAD = "no column of its Table, mapped with `properties=` the tool does not read: may load on first read"
_OWN_SESSION = "on an object an AsyncSession loaded, the synchronous Session inside it"
_HELD_SESSION = "a synchronous Session it is not given, on the event loop"


def _unloaded_kinds(found: list[Blocking]) -> str:
    deferred = any(_DEFERRED in b.call for b in found)
    unloaded = any(_UNLOADED in b.call for b in found)
    return "deferred columns and columns its queries leave unloaded" if deferred and unloaded else (
        "deferred columns" if deferred else "columns its queries leave unloaded"
    )


def _off_greenlet_finding(
    handler: Handler, found: list[tuple[Blocking, str]], lazy: list[Blocking]
) -> Finding:
    function = handler.function
    parts = []
    if found:
        names = sorted({name for _, name in found})
        session = ", ".join(f"`{name}.sync_session`" for name in names)
        parts.append(
            f"queries through {session}, the synchronous Session behind its AsyncSession, outside `run_sync` at "
            f"{describe([b for b, _ in found])}: its connection is the async driver's, so each query raises "
            f"MissingGreenlet when it runs; call the helper as `await {names[0]}.run_sync(helper, ...)` (it gets "
            "the synchronous Session first) or give it an async form that awaits its queries (phase two)"
        )
    every = list(lazy)
    detached = [b for b in lazy if _DETACHED.partition("{")[0] in b.call]
    lazy = [b for b in lazy if b not in detached]
    unseen = [b for b in lazy if _UNSEEN in b.call]
    templated = [b for b in lazy if _TEMPLATE in b.call]
    lazy = [b for b in lazy if b not in unseen and b not in templated]
    generated = [b for b in lazy if GENERATED in b.call]
    cascaded = [b for b in lazy if CASCADED in b.call]
    lazy = [b for b in lazy if b not in generated and b not in cascaded]
    expired = [b for b in lazy if " (expired by the " in b.call]
    handed_unread = [b for b in expired if EXPIRED_UNVERIFIED in b.call]
    expired = [b for b in expired if b not in handed_unread]
    expiry_unknown = [b for b in expired if EXPIRY_UNKNOWN in b.call]
    expired = [b for b in expired if b not in expiry_unknown]
    held_unknown = [b for b in expired if HELD_UNKNOWN in b.call]
    expired = [b for b in expired if b not in held_unknown]
    dynamic = [b for b in lazy if _DYNAMIC in b.call and b not in expired]
    deferred = [b for b in lazy if (_DEFERRED in b.call or _UNLOADED in b.call) and b not in expired]
    unread = [b for b in lazy if _UNREAD in b.call and b not in expired]
    by_name = [b for b in lazy if _BY_NAME in b.call and b not in expired]
    unfollowed = [b for b in lazy if UNFOLLOWED_CODE in b.call]
    untraced = [b for b in lazy if UNTRACED_RESPONSE in b.call]
    untraced_reads = [b for b in lazy if _UNTRACED_READ in b.call]
    undecided = [b for b in lazy if _HELPER_UNVERIFIED in b.call and b not in expired]
    own_session = [b for b in lazy if _OWN_SESSION in b.call]
    held_session = [b for b in lazy if _HELD_SESSION in b.call]
    loads = [
        b for b in lazy
        if b not in expired and b not in dynamic and b not in deferred and b not in unread and b not in by_name
        and b not in handed_unread and b not in expiry_unknown and b not in held_unknown and b not in own_session and b not in held_session and b not in unfollowed
        and b not in undecided and b not in untraced and b not in untraced_reads
    ]
    if held_session:
        parts.append(
            f"runs model code at {describe(held_session)} doing synchronous Session work on a Session it is not "
            "given (a global, a `scoped_session`): that blocks the event loop, on another Session than the route's "
            "AsyncSession; give the member the route's Session, or compute the value in the route"
        )
    if own_session:
        parts.append(
            f"runs model code at {describe(own_session)} doing synchronous Session work on the Session the object "
            "belongs to (`object_session(self)`, `inspect(self).session`): the synchronous Session behind the "
            "AsyncSession, whose I/O outside a greenlet raises MissingGreenlet; compute the value in the route with "
            "an awaited query on its AsyncSession, or run the member as `await db.run_sync(lambda _: obj.member)`"
        )
    if dynamic:
        parts.append(
            f"reads lazy=\"dynamic\" relationships at {describe(dynamic)}: each is a Query the synchronous Session "
            "behind the AsyncSession runs (iterating it, `.count()`, `.filter(...).all()`), which raises MissingGreenlet, and no eager load applies to it; declare the relationship "
            "`lazy=\"write_only\"` (`WriteOnlyMapped`) and run `await session.scalars(obj.rel.select())`"
        )
    if deferred:
        parts.append(
            f"reads {_unloaded_kinds(deferred)} at {describe(deferred)}: the first read loads the column, which "
            "raises MissingGreenlet on an AsyncSession; add `undefer(Model.column)` to the query that loads the "
            "object (name it in its `load_only`), or read it as `await obj.awaitable_attrs.column`"
        )
    if unread:
        parts.append(
            f"reads attributes at {describe(unread)} that may be relationships or deferred columns: the mapping's "
            "`properties=` is not read; if one is, its first read loads it, which raises MissingGreenlet on an "
            "AsyncSession; load it in the query (`selectinload(...)`, `undefer(...)`) or read it as "
            "`await obj.awaitable_attrs.name`, or write `properties=` as a `{...}` display the tool reads"
        )
    if by_name:
        parts.append(
            f"reads attributes by a name given at run time at {describe(by_name)}: the analysis cannot tell which "
            "(unverified, not cleared); one naming a relationship or deferred column its query does not load loads "
            "on the read, which raises MissingGreenlet on an AsyncSession; load what it may name in the query, or "
            "read it as `await getattr(obj.awaitable_attrs, name)`"
        )
    if unfollowed:
        parts.append(
            f"serialises its response through model code at {describe(unfollowed)} whose reads the analysis cannot "
            "follow: a relationship it reads that no query loaded loads lazily and raises MissingGreenlet, so this "
            "is unverified (not cleared); load what that code reads in the query (`selectinload(...)`), or "
            "acknowledge it with a pragma"
        )
    if untraced:
        parts.append(
            f"returns objects at {describe(untraced)} whose loading query the analysis cannot follow (a statement "
            "a method or helper builds, a generic repository's): the response model reads relationships of their "
            "class declared to load lazily, and unless that query eager-loads them each read raises "
            "MissingGreenlet while the response is serialised, so this is unverified (not cleared); add "
            "`selectinload(...)` for them to that query, or acknowledge it with a pragma"
        )
    if untraced_reads:
        parts.append(
            f"reads relationships at {describe(untraced_reads)} on objects a loader gives whose query the analysis "
            "cannot follow (a project coroutine or method on the AsyncSession, a dependency loading through one): "
            "their class declares them to load lazily, and unless that query eager-loads them each read raises "
            "MissingGreenlet, so this is unverified (not cleared); add `selectinload(...)` for them to that query, "
            "read them as `await obj.awaitable_attrs.name`, or acknowledge it with a pragma"
        )
    if undecided:
        parts.append(
            f"hands objects to helpers reading attributes at {describe(undecided)} the analysis cannot tell apart "
            "from relationships (their class has a base outside PATH, or a mapping it does not read), on objects it "
            "cannot tell are ORM objects: unverified (not cleared); if one is a relationship no query loaded, the "
            "read loads it and raises MissingGreenlet; put that class's code under PATH, or load what the helper "
            "reads in the query"
        )
    if loads:
        parts.append(
            f"reads relationships no query eager-loads at {describe(loads)}: on an AsyncSession the lazy load "
            "raises MissingGreenlet; add `selectinload(...)` for it to the query that loads the object, or "
            "read it as `await obj.awaitable_attrs.name`"
        )
    if templated:
        parts.append(
            f"hands what its AsyncSession loaded to templates at {describe(templated)}: a template reads whatever "
            "attributes it likes, and a relationship not loaded yet or an attribute a commit expired raises "
            "MissingGreenlet while it renders, so this is unverified (not cleared); load what the template reads "
            "in the query (`selectinload(...)`) or refresh it first (`await session.refresh(obj, "
            "attribute_names=[...])`), and acknowledge it with a pragma"
        )
    if unseen:
        parts.append(
            f"reads attributes at {describe(unseen)} on objects of a class whose module the tool did not read "
            "(missing, outside PATH, or not parsed): a model of the project has a relationship, deferred column or "
            "property of that name, so whether the read loads lazily, raising MissingGreenlet, is unverified (not "
            "cleared); put that module under PATH, or load what the read needs in the query"
        )
    if detached:
        parts.append(
            f"reads attributes at {describe(detached)} once the `async with` block that opened its AsyncSession has "
            "closed it: the objects are detached, and loading what they do not hold (a relationship no query "
            "eager-loads, a deferred column, an attribute a commit expired) raises DetachedInstanceError, not "
            "MissingGreenlet; read them inside the block, after loading what they need there (`selectinload(...)` "
            "in the query, `await session.refresh(obj)` after the commit)"
        )
    if generated:
        parts.append(
            f"reads columns the database computes on UPDATE at {describe(generated)}: the flush of the change "
            "expires them whatever `expire_on_commit` says, and the read refreshes the row, which raises "
            "MissingGreenlet; `await session.refresh(obj)` after the flush or commit, or `\"eager_defaults\": True` "
            "in the class's `__mapper_args__`"
        )
    if cascaded:
        parts.append(
            f"returns objects refreshed whole at {describe(cascaded)}: the refresh cascades along a relationship "
            "whose cascade holds refresh-expire (`cascade=\"all\"`) to what it holds, which can leave their "
            "relationships unloaded whatever loader options loaded them, and the response model reading one loads it "
            "while FastAPI serialises the response, which raises MissingGreenlet; drop the refresh and return what a "
            "query loading the whole path eagerly (`selectinload(...).selectinload(...)`) gives after the commit, or "
            "take refresh-expire out of that relationship's cascade"
        )
    if expired:
        # `expire_on_commit=False` keeps what a commit would expire, never what a rollback or an
        # explicit expire() does
        by_commit = any("commit()" in b.call.partition(" (expired by the ")[2] for b in expired)
        rolled_back = all("rollback()" in b.call.partition(" (expired by the ")[2] for b in expired)
        parts.append(
            f"reads attributes expired at {describe(expired)} (a rollback, `expire_all()` or `expire(obj)` expires "
            "them whatever the sessionmaker says, and so does a commit while it keeps `expire_on_commit=True`, the "
            "default): the read refreshes the row and raises MissingGreenlet; "
            + ("pass `expire_on_commit=False` to the `async_sessionmaker`, or `await session.refresh(obj)` after "
               "the commit" if by_commit
               else f"`await session.refresh(obj)` after {'the rollback' if rolled_back else 'what expired it'}, or "
               "read what is needed before it")
        )
    if expiry_unknown:
        parts.append(
            f"reads attributes at {describe(expiry_unknown)} after a commit on an AsyncSession whose sessionmaker "
            "the analysis cannot read (one it is given, or reaches through an object or a module-level name), or "
            "where it cannot tell which Session an object the holder keeps commits: if it is this one and keeps `expire_on_commit=True`, the default, the "
            "commit expired them and the read raises MissingGreenlet, so this is unverified (not cleared); `await "
            "session.refresh(obj)` after the commit, or pass `expire_on_commit=False` where that Session is made"
        )
    if held_unknown:
        parts.append(
            f"reads attributes at {describe(held_unknown)} after a commit, of an object a dependency on the same "
            "Session dependency gives (or a loader coroutine handed the AsyncSession returns) whose loading the "
            "analysis cannot trace: if that AsyncSession holds it and keeps `expire_on_commit=True`, the default, "
            "the commit expired it and the read raises MissingGreenlet, so this is unverified (not cleared); `await "
            "session.refresh(obj)` after the commit, or pass `expire_on_commit=False` where that Session is made"
        )
    if handed_unread:
        parts.append(
            f"hands objects a commit expired to code the analysis cannot read at {describe(handed_unread)}: an "
            "attribute read there refreshes the row and raises MissingGreenlet; put that code under PATH, pass `expire_on_commit=False` to the `async_sessionmaker`, or "
            "`await session.refresh(obj)` after the commit"
        )
    return Finding(
        AM314, handler, handler.module.path, function.line, function.qualname,
        f"async def {_kind(handler)} " + "; it also ".join(parts),
        [b for b, _ in found] + every,
    )


def _sync_work_below(project: Project, start: FunctionId) -> str | None:
    """The first function at or below `start` in the call graph that does synchronous Session
    work, by name, or None. `async def` helpers count and are looked through: handed the
    AsyncSession, their unawaited Session calls return coroutines nobody runs."""
    order = [start]
    seen = {start}
    for current in order:
        handed = set(project.declared_async_session_params(current)) | opened_async_sessions(
            project, project.functions[current][1]
        )
        # `await run_in_threadpool(save_docs, ...)` in an async helper: that work runs in a worker
        # thread, off the loop, and is handed no AsyncSession of the route's (sharing one across
        # threads is AM335's and AM311's)
        offloaded = [
            edge for edge in project.calls_from.get(current, ())
            if edge.call.offloaded and not any(a.name in handed for a in edge.call.args)
        ]
        work = session_work_view(project, current)
        if work.any and not (
            project.functions[current][1].is_async and work.blocking
            and all(b.offloaded for b in work.blocking)
            and {line for line, _, _ in work.reached} <= {edge.call.line for edge in offloaded}
            and not (work.used or work.opened or work.opening_callees or work.in_coroutines or work.own
                     or work.decorated or work.serialised)
        ):
            module, function = project.functions[current]
            return f"{module.name}.{function.qualname}"
        for edge in project.calls_from.get(current, ()):
            if edge in offloaded:
                continue
            if edge.callee not in seen:
                seen.add(edge.callee)
                order.append(edge.callee)
    return None


def describe(blocking: list[Blocking]) -> str:
    return ", ".join(
        f"line {b.line} ({b.call}{', offloaded' if b.offloaded else ''})" for b in blocking
    )


def _unverified_advice(text: str) -> str:
    """What makes an unverified call readable, by what kept it unread."""
    if "runs a value taken from" in text:
        # a registry of handlers (domain events, hooks) filled at run time
        return ("make what it runs readable (a module-level table of functions no code changes), or run "
                "that call with `run_in_threadpool`")
    if "built from the Session by" in text:
        builder = re.search(r"built from the Session by Depends\(([\w.]+)\)", text)
        annotate = (
            f"annotate the return type of `{builder.group(1)}` (`-> tuple[Session, ...]` when it hands the Session "
            "on in a tuple), or " if builder else ""
        )
        return (f"{annotate}have what builds it return a project class the analysis reads (declared as such, or "
                "returned as built),")
    if "functools.partial" in text:
        return ("call the function, or build the class, where the call is made (a direct call is followed), "
                "or run that call with `run_in_threadpool`,")
    if "(a bound function or a closure over the Session)" in text:
        # a return type cannot say what a function value does: `Callable[[int], Item]` is as blind
        return ("have the dependency hand out an instance of a project class whose methods do that work (a "
                "repository holding the Session), which the analysis follows, instead of a function bound to it,")
    unannotated = re.findall(r"the parameter `(\w+)` of `([\w.]+)`(?= and |, which has no annotation)", text)
    if unannotated:
        # what the analysis could not follow is named: annotating the route's dependency would not help
        named = " and ".join(f"`{param}` of `{function}`" for param, function in unannotated)
        return (f"annotate the parameter {named} with what it is handed (`sessionmaker[Session]` for a "
                "sessionmaker) so the analysis can follow it,")
    return "make the types visible (annotate the dependency's return type)"


def _blocking_message(
    project: Project, handler: Handler, outcome: Outcome, blocking: list[Blocking],
    handed: set[tuple[int, str]] | None = None,
) -> str:
    kind = _kind(handler)
    message = f"async def {kind} does synchronous Session work on the event loop at {describe(blocking)}"
    suspicious = [r.text for r in outcome.reasons if r.code == AM119.code]
    if outcome.action == "convert":
        return message + "; `async-migrate phase1` converts it to def" + "".join(f"; {r}" for r in suspicious)
    keep = [r.text for r in outcome.reasons if r.code != AM116.code]
    # The AsyncSession handed to sync code (AM302) is no call to offload: left out of the fix.
    fix = "; ".join(fixes(project, handler, handed))
    return message + f"; phase one keeps it async ({'; '.join(keep)}); fix: {fix}"


_KINDS = {
    HandlerKind.WEBSOCKET: "websocket handler", HandlerKind.DEPENDENCY: "dependency",
    HandlerKind.MIDDLEWARE: "middleware", HandlerKind.EXCEPTION_HANDLER: "exception handler",
    HandlerKind.LIFECYCLE: "startup/shutdown handler",
    RESOLVER: "GraphQL resolver",
}


def _kind(handler: Handler) -> str:
    return _KINDS.get(handler.kind, "route")


def _hook_message(project: Project, handler: Handler, blocking: list[Blocking]) -> str:
    """AM308/AM309: middleware or an exception handler blocking the loop: phase one never converts
    middleware (AM133), and an exception handler only where it awaits nothing."""
    every = "every request it handles" if handler.kind == HandlerKind.MIDDLEWARE else "every request that raises"
    message = (
        f"async def {_kind(handler)} does synchronous Session work on the event loop at {describe(blocking)}, "
        f"on {every}"
    )
    return f"{message}; {hook_advice(project, handler, blocking, teardown_advice(project, handler, blocking))}"


def teardown_advice(project: Project, handler: Handler, blocking: list[Blocking]) -> str | None:
    """For a middleware whose only Session work is on a `scoped_session` registry
    (`db_session.remove()` after the request): what that call does and where it may run, which the
    general advice (a helper in `run_in_threadpool`) gets wrong for a registry scoped to the thread.
    None for any other hook or work."""
    return registry_teardown_fix(project, handler, blocking) if handler.kind == HandlerKind.MIDDLEWARE and blocking else None


def hook_advice(project: Project, handler: Handler, blocking: list[Blocking], teardown: str | None) -> str:
    """`fix: ...` for a hook's blocking calls: `teardown` (`teardown_advice` of the same) or the
    general advice."""
    if teardown is not None:
        return teardown
    lines = {b.line for b in blocking} or None
    return f"fix: {hook_fix(handler)}{offload_note(project, handler.id, lines)}"


def hook_fix(handler: Handler) -> str:
    """The fix for a middleware, exception or startup/shutdown handler blocking the loop: phase
    one never converts middleware or a startup/shutdown handler (AM133), so no advice that would
    have it convert them applies; an exception handler it converts where it awaits nothing."""
    if handler.kind == HandlerKind.MIDDLEWARE:
        return (
            "it stays async (it awaits `call_next` or the wrapped app), so phase one does not convert it: move "
            f"the Session work into a plain def helper and `await run_in_threadpool(helper, ...)`, {BY_HAND_ASYNC}"
        )
    if handler.kind == HandlerKind.LIFECYCLE:
        return (
            "it stays async (a lifespan is an async context manager; startup and shutdown handlers run on the "
            "event loop), so phase one does not convert it: it runs once and blocks no request; to keep the loop "
            "free meanwhile, move the Session work into a plain def helper and `await run_in_threadpool(helper, "
            f"...)`, {BY_HAND_ASYNC}"
        )
    return (
        "Starlette runs a plain def exception handler in the threadpool: run `async-migrate phase1`, which makes "
        "one that awaits nothing a def (`scan` says why it keeps one), else move the Session work into a plain "
        f"def helper and `await run_in_threadpool(helper, ...)`, {BY_HAND_ASYNC}"
    )



def _mixed_message(
    project: Project, handler: Handler, calls: list[Blocking], handed: list[Blocking] | None = None
) -> str:
    params = async_session_params(project, handler)
    kind = _kind(handler)
    given = {(b.line, b.call) for b in handed or ()}
    helpers = [b for b in calls if (b.line, b.call) not in given]
    parts = []
    if handed:
        parts.append(
            f"hands its AsyncSession to synchronous code that does Session work with it at {describe(handed)}: "
            "there its Session calls are not awaited (each gives a coroutine that never runs, `query()` raises "
            "AttributeError); give that code an async form that awaits them (phase two), or pass it a "
            "synchronous Session and offload it"
            + (
                "; a background task runs after the response: let it open its own Session"
                if any(b.call.endswith(_BACKGROUND_TASK) for b in handed) else ""
            )
        )
    if helpers:
        # A route taking a synchronous Session beside its AsyncSession (a read replica's and the
        # primary's) passes it to these helpers: handing them the AsyncSession instead would run
        # their statements on the other Session's database.
        sync_params = sorted(
            p.name for p in handler.function.params
            if p.name in project.session_params.get(handler.id, {}) and p.name not in params
        )
        if sync_params:
            named = ", ".join(f"`{n}`" for n in sync_params)
            parts.append(
                f"calls synchronous session helpers at {describe(helpers)}, on its synchronous Session {named}, "
                "another dependency than the AsyncSession's (perhaps another database): offload them "
                f"(`await run_in_threadpool(helper, {sync_params[0]}, ...)`) until that dependency has an async "
                "stack of its own, never hand them the AsyncSession, or keep the route on the synchronous path"
            )
        else:
            parts.append(
                f"calls synchronous session helpers at {describe(helpers)}: migrate them to AsyncSession (phase "
                "two) or keep the route on the synchronous path"
            )
    prefix = "async def" if handler.function.is_async else "def"
    if not params:
        opened = ", ".join(f"`{name}`" for name in async_session_locals(project, handler.function))
        if not opened:
            shown = list(held_async_sessions(project, handler).values())
            qualname = handler.function.qualname
            method = "." in qualname and ".<locals>." not in qualname and handler.function.params
            instance = handler.function.params[0].name + "." if method else None
            held = ", ".join(f"`{text}`" for text in shown)
            members = list(member_calls(project, handler.id)) if not shown else []
            if members:
                call, _, built = members[0]
                receiver = (call.func or "").rpartition(".")[0].lstrip("$")
                return (
                    f"{prefix} {kind} uses `{receiver}`, which its object builds as the synchronous "
                    f"`{project.flow.classes.short(built.cls)}` around async objects (its parameter `{built.param}` "
                    f"handed {built.handed}), but " + "; ".join(parts)
                )
            if instance is not None and all(text.startswith(instance) for text in shown):
                return f"{prefix} {kind} holds an AsyncSession on its instance ({held}) but " + "; ".join(parts)
            return f"{prefix} {kind} reaches an AsyncSession through an object ({held}) but " + "; ".join(parts)
        return f"{prefix} {kind} opens an AsyncSession ({opened}) but " + "; ".join(parts)
    return f"{prefix} {kind} takes an AsyncSession ({', '.join(params.values())}) but " + "; ".join(parts)


# -------------------------------------------------------------------- fixes


def _mixed_fix(project: Project, function: facts.Function) -> str:
    """What to do about the awaits of a mixed handler, naming those that read what the client sent:
    an upload's coroutine methods have a synchronous form on its spooled `.file`; the request's
    body is read only by a coroutine, or by FastAPI before the route runs, from its parameters."""
    typed = {p.name: {project.canonical(r) for r in p.annotation} | set(p.annotation) for p in function.params}
    awaited = {line for line, _ in function.awaits}
    uploads: list[str] = []
    bodies: list[str] = []
    for call in function.calls:
        if call.nested or call.line not in awaited or call.receiver not in typed or call.method is None:
            continue
        kinds = typed[call.receiver]
        shown = f"`{call.receiver}.{call.method}()` (line {call.line})"
        if kinds & UPLOAD_FILE_TYPES and call.method in UPLOAD_FILE_COROUTINES:
            uploads.append(f"{shown} is `{call.receiver}.file.{call.method}()`")
        elif kinds & REQUEST_TYPES and call.method in REQUEST_BODY_READS and shown not in bodies:
            bodies.append(shown)
    found = ["mixed: move the awaited call out (phase one then converts it) or offload the Session work"]
    if uploads:
        found.append(f"in a def route {', '.join(uploads)}, on the file FastAPI spooled before the route runs")
    if bodies:
        found.append(
            f"{', '.join(bodies)} read{'s' if len(bodies) == 1 else ''} the request body, which only a coroutine "
            "can: declare what it reads as parameters FastAPI reads first (`Body()`, `Form()`, `UploadFile`), or "
            "offload the Session work"
        )
    return "; ".join(found)


def fixes(project: Project, handler: Handler, offloaded: set[tuple[int, str]] | None = None) -> list[str]:
    """The concrete fix for an `async def` handler phase one keeps although it blocks.

    One fix per reason to stay async, read off the same facts as the phase-one
    rule, then how to take the remaining blocking calls off the event loop.
    `offloaded` names the (line, call) pairs a run with --offload-mixed wrapped.
    """
    done = offloaded or set()
    function = handler.function
    pragma = parse_pragma(function.pragma)
    documented = (
        [f"documented exception (pragma): {pragma.reason or 'no reason given: add one'}"]
        if pragma is not None and pragma.silences(AM301)
        else []
    )
    found: list[str] = []
    work = session_work_view(project, handler.id)
    on_loop = {item.line for item in work.in_coroutines}
    hook = handler.kind in HOOK_KINDS
    if hook:  # what would have phase one convert it does not apply: it never does
        blocking = past_constructions(project, handler, blocking_calls(project, handler))
        teardown = teardown_advice(project, handler, blocking)
        found.append(hook_advice(project, handler, blocking, teardown).removeprefix("fix: "))
        if teardown is not None:
            return documented + found  # the registry's call, said whole: no helper to move it into
    elif handler.kind == HandlerKind.WEBSOCKET:
        found.append("websocket: it stays async def; move Session work to run_in_threadpool")
    elif {line for line, _ in function.awaits} - {c.line for c in function.calls if c.offloaded} - on_loop:
        found.append(_mixed_fix(project, function))
    found.extend(coroutine_fixes(work))
    for cls in sorted({r.unrecognised for r in handler.registrations if r.unrecognised}):
        found.append(
            f"router class {cls} is not recognised: if it is a FastAPI router, list it under "
            "router-types in [tool.async-migrate] (phase one then converts the route)"
        )
    needs = coroutine_needs(project, handler) if not hook else []
    loop_apis = sorted({need.subject for need in needs if need.kind is NeedKind.EVENT_LOOP_API})
    if loop_apis:
        found.append(
            f"uses {', '.join(loop_apis)}: do without the event-loop API (phase one then converts it) "
            "or offload the Session work"
        )
    found.extend(fix for fix in (need.fix() for need in needs) if fix is not None)
    if any(need.kind is NeedKind.SHARED_STORE for need in needs):
        # Offloading would await between the store and the use: other requests would store theirs there.
        return documented + found
    shared = shared_session_uses(project, handler.id)
    if shared:
        # Offloading would hand the one Session to threadpool threads: not a fix here.
        remedy = shared[0].remedy or (
            "give each request its own Session (a dependency yielding `SessionLocal()`) or a "
            "`scoped_session` scoped to the request (`scopefunc=`)"
        )
        found.append(f"{shared[0].path}:{shared[0].line} uses {shared[0].holder}, {shared[0].shared}: {remedy}, then rerun phase one")
        return documented + found
    scoped = thread_scoped_uses(project, handler.id)
    if scoped:
        # In a worker thread the Session would outlive the request: not a fix here either.
        use = first_work(scoped)
        other = use.remedy or (
            f"have `{use.call}` open a Session of its own (`with SessionLocal() as db: yield db`)"
            if use.handed
            else f"take the Session from a dependency ({UNREAD_SCOPE_FIX})"
            if not use.certain
            else "take the Session from a dependency"
        )
        guard = unguarded_remove_fix(project, handler.id, use)
        if guard is not None:
            found.append(f"{use.path}:{use.line} uses {use.holder}; {guard}; then rerun phase one")
            return documented + found
        found.append(
            f"{use.path}:{use.line} uses {use.holder}: scope it to the request "
            f"(`scopefunc=` a context variable set per request) or {other}, then rerun phase one"
        )
        return documented + found
    memory = handler_memory_engine(project, handler) if not hook or handler.kind == HandlerKind.EXCEPTION_HANDLER else None
    if memory is not None:
        # A worker thread sees a database of its own: offloading is no fix either.
        found.append(
            f"the engine {memory.engine} behind its Session ({memory.via}) opens an in-memory SQLite database "
            f"({memory.url}) each thread has its own of: create it with `poolclass=StaticPool` "
            '(and `connect_args={"check_same_thread": False}`), one connection every thread shares, or use a '
            "database file, then rerun phase one"
        )
        return documented + found
    if documented and not found:
        return documented  # phase one keeps it only for the pragma, so leaves it exactly as it is
    calls = {call.index: call for call in function.calls}
    # `--offload-mixed` leaves a call reaching a shared update on the loop: in the threadpool it would race
    updating = shared_updates.updating_calls(project, handler) if needs else set()
    # nor one running while a task works on its Session: in a worker thread both would use it at once (AM335)
    beside = beside_running_offloads(project, handler.id)
    # an entry standing for several calls of a helper on one line goes off the loop with all of them or none
    unmovable = {
        id(blocking) for index, blocking in work.helper_calls.items()
        if index in updating | beside or not offloadable_call(calls[index])
    }
    offloadable = list({
        id(blocking): blocking
        for index, blocking in sorted(work.helper_calls.items())
        if id(blocking) not in unmovable and (blocking.line, blocking.call) not in done
    }.values())
    expired = loop_commit_reads(project, handler)
    lazy = {(b.line, b.call) for b in own_lazy_loads(project, handler)} - {(b.line, b.call) for b in expired}
    wrappers = {line for line, _, _ in work.decorated}
    running = [blocking for index, blocking in sorted(work.helper_calls.items()) if index in beside]
    rest = [
        b
        for b in blocking_calls(project, handler, work)
        if b not in offloadable and b not in running and (b.line, b.call) not in done | lazy
        and b.line not in on_loop | wrappers and b not in expired
    ]
    if running:
        found.append(
            f"the blocking calls at {_lines(running)} run while a task given the same Session still runs: "
            "offloaded there, they would use that Session from a second thread at once (check's AM335); run them "
            "before the task starts or after it is joined, or in the same plain def helper as the task's work"
        )
    if offloadable:
        found.append(
            f"`async-migrate phase1 --offload-mixed` wraps the helper calls at {_lines(offloadable)} "
            "in `await run_in_threadpool(...)`"
        )
    if rest:
        found.append(
            f"{'the other blocking calls' if offloadable else 'the blocking calls'} at {_lines(rest)} "
            "are not offloaded automatically: move them into a helper called as a statement, "
            "then `await run_in_threadpool(helper, ...)`"
        )
    for _, decorator, where in work.decorated:
        found.append(
            f"{decorator}'s `async def` wrapper blocks at {where}: offload that work in the wrapper "
            "(`await run_in_threadpool(...)`), or give it a plain wrapper for plain functions"
        )
    if expired:
        found.append(
            f"the reads at {_lines(expired)} refresh what the commit before them expired, on the event loop "
            "whether that commit runs there or in the threadpool: build the response in the same plain def "
            "helper as the commit, refresh the object there after it, or give the sessionmaker "
            "expire_on_commit=False"
        )
    if lazy:
        paths = ", ".join(sorted({call.rpartition(" (")[0] for _, call in lazy}))
        found.append(
            f"eager-load the relationships behind {paths} in the query that loads the object (`selectinload(...)`), or build the "
            "response inside the offloaded call: a lazy load runs wherever the attribute is read"
        )
    return documented + found


def coroutine_fixes(work: SessionWork) -> list[str]:
    """Fixes for Session work in nested coroutines and `async def` helpers: never a wrapped await."""
    found = []
    scopes = sorted({item.scope for item in work.in_coroutines if item.helper is None and item.scope})
    for scope in scopes:
        found.append(
            f"make the nested `{scope}` a plain def (a sync generator is iterated in the threadpool) "
            "or move its Session work to AsyncSession (phase two)"
        )
    for item in work.in_coroutines:
        if item.helper is not None:
            fix = f"{item.helper} is `async def` but blocks at {', '.join(item.inner)}: {item.helper_fix(named=False)}"
            if fix not in found:  # the helper called at several lines: one fix
                found.append(fix)
    return found


def _lines(blocking: list[Blocking]) -> str:
    lines = sorted({b.line for b in blocking})
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))
