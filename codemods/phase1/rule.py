"""The phase-one rule: which `async def` handlers become `def`, and why or why not.

An `async def` route or dependency becomes `def` when it does synchronous Session
work (its Session parameter is used, or it or a helper it calls opens a Session)
and needs no coroutine context. It stays `async def`, with the reason, when its
own body awaits, when it is a websocket handler, when a decorator needs a
coroutine function, when it uses event-loop-only APIs, when a caller awaits it or
otherwise uses what calling it returns (`async for`, `asyncio.run`), when it is handed
on or stored as a value (`asynccontextmanager(f)`), or when it has no Session work to
move off the loop.

Over 500 lines: each reason reads the same analysed Session work of the handler and the
shared-Session findings; apart, the wording of one keep would drift from the decision.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from async_migrate.codemods.concurrent_offloads import beside_running_offloads, overlapping_offloads
from async_migrate.codemods.decorator_work import runs_on_loop
from async_migrate.codemods.dropped_offloads import dropped_offloads
from async_migrate.codemods.engine_work import (
    coroutine_tasks,
    engine_summary,
    engine_work_in_coroutines,
    engine_work_reached,
    nested_engine_text,
)
from async_migrate.codemods.handed_coroutines import handed_coroutines
from async_migrate.codemods.outcome import Blocking, Outcome
from async_migrate.codemods.phase1 import shared_updates
from async_migrate.codemods.phase1.async_session import ON_ASYNC, on_async_session
from async_migrate.codemods.phase1.expired_deps import (
    expired_dependency_reads,
    expired_where,
    loop_commit_reads,
    offloaded_commit_reads,
)
from async_migrate.codemods.phase1.memory_sqlite import MemoryEngine, handler_memory_engine
from async_migrate.codemods.phase1.needs import BY_HAND_ASYNC, coroutine_needs
from async_migrate.codemods.phase1.shared_session import (
    UNREAD_SCOPE_FIX,
    UNREAD_SCOPE_HARM,
    first_work,
    offload_note,
    past_constructions,
    registry_teardown_fix,
    registry_work_reached,
    shared_session_uses,
    thread_scoped_uses,
    unguarded_remove_fix,
)
from async_migrate.codemods.pragma import parse_pragma
from async_migrate.codemods.project import HOOK_KINDS, RESOLVER, FunctionId, Handler, HandlerKind, Project
from async_migrate.codemods.resolvers import describe_work, resolver_work
from async_migrate.codemods.rules.am101_takes_sync_session import RULE as AM101
from async_migrate.codemods.rules.am102_opens_sync_session import RULE as AM102
from async_migrate.codemods.rules.am103_calls_session_opener import RULE as AM103
from async_migrate.codemods.rules.am104_already_def import RULE as AM104
from async_migrate.codemods.rules.am105_no_session_work import RULE as AM105
from async_migrate.codemods.rules.am106_unused_session_parameter import RULE as AM106
from async_migrate.codemods.rules.am107_websocket_handler import RULE as AM107
from async_migrate.codemods.rules.am108_awaits_and_blocks import RULE as AM108
from async_migrate.codemods.rules.am109_event_loop_api import RULE as AM109
from async_migrate.codemods.rules.am114_pragma import RULE as AM114
from async_migrate.codemods.rules.am115_offloaded import RULE as AM115
from async_migrate.codemods.rules.am116_still_blocking import RULE as AM116
from async_migrate.codemods.rules.am117_event_loop_helper import RULE as AM117
from async_migrate.codemods.rules.am118_mislabelled_async_session import RULE as AM118
from async_migrate.codemods.rules.am119_unknown_keyword import RULE as AM119
from async_migrate.codemods.rules.am120_unrecognised_router import RULE as AM120
from async_migrate.codemods.rules.am121_coroutine_helper_blocks import RULE as AM121
from async_migrate.codemods.rules.am122_nested_coroutine_blocks import RULE as AM122
from async_migrate.codemods.rules.am123_reaches_session_work import RULE as AM123
from async_migrate.codemods.rules.am124_holds_sync_session import RULE as AM124
from async_migrate.codemods.rules.am125_unverified_session_call import RULE as AM125
from async_migrate.codemods.rules.am126_process_wide_session import RULE as AM126
from async_migrate.codemods.rules.am127_engine_work import RULE as AM127
from async_migrate.codemods.rules.am128_coroutine_task_blocks import RULE as AM128
from async_migrate.codemods.rules.am129_lazy_load_on_loop import RULE as AM129
from async_migrate.codemods.rules.am131_offloaded_session_work import RULE as AM131
from async_migrate.codemods.rules.am132_thread_scoped_session import RULE as AM132
from async_migrate.codemods.rules.am133_application_hook import RULE as AM133
from async_migrate.codemods.rules.am142_in_memory_sqlite_per_thread import RULE as AM142
from async_migrate.codemods.rules.am143_session_on_shared_object import RULE as AM143
from async_migrate.codemods.rules.am144_process_wide_connection import RULE as AM144
from async_migrate.codemods.rules.am157_graphql_resolver import RULE as AM157
from async_migrate.codemods.rules.am169_updates_loaded_row import RULE as AM169
from async_migrate.codemods.rules.am170_claims_loaded_row import RULE as AM170
from async_migrate.codemods.rules.am220_lazy_load import RULE as AM220
from async_migrate.codemods.rules.am221_dynamic_relationship import RULE as AM221
from async_migrate.codemods.rules.am222_lazy_load_in_response import RULE as AM222
from async_migrate.codemods.rules.am251_deferred_column_read import RULE as AM251
from async_migrate.codemods.rules.am285_response_reads_session_member import RULE as AM285
from async_migrate.codemods.rules.am301_blocking_session import RULE as AM301
from async_migrate.codemods.rules.am307_blocking_lazy_load import RULE as AM307
from async_migrate.codemods.rules.am312_blocking_request_validation import RULE as AM312
from async_migrate.codemods.rules.base import Reason, codes
from async_migrate.codemods.session_work import (
    SessionWork,
    own_blocking,
    session_work,
    session_work_view,
    streamed_lines,
)
from async_migrate.codemods.thread_bound import thread_bound_uses

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.facts import Function
    from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk

# Keeps for the event loop API a handler uses to offload its work (`loop.run_in_executor`): it
# stays async for them, and what it reads back after the offloaded work is still judged.
LOOP_API = frozenset({AM109.code, AM117.code})

def _repeated(project: Project, handler: Handler) -> bool:
    """A startup handler under a repeating decorator (`@repeat_every(seconds=60)`): what it wraps runs
    again every period beside the requests, a plain def in the threadpool, an `async def` on the loop;
    phase one decides it as it does a route (`periodic.py`)."""
    from async_migrate.codemods.periodic import repeating_decorator

    return handler.kind == HandlerKind.LIFECYCLE and repeating_decorator(project, handler.function) is not None


def _already_def(project: Project, handler: Handler) -> str:
    if _repeated(project, handler):
        return "already def: its repeating decorator runs it in the threadpool each period"
    if handler.kind == HandlerKind.LIFECYCLE:
        # Starlette's router calls a sync startup/shutdown handler itself, not through the threadpool.
        return (
            "already def: Starlette calls a sync startup/shutdown handler directly on the event loop, "
            "once, before serving (or after the last request): blocking there delays start-up, not requests"
        )
    if handler.kind == HandlerKind.MIDDLEWARE and not handler.function.is_async:
        return (
            "already def: the route class's handler builder, which FastAPI calls once per route; the coroutine it "
            "returns runs on the event loop for every request of those routes"
        )
    looped = runs_on_loop(project, handler.id)
    if looped is not None and session_work_view(project, handler.id).any:
        decorator, where = looped
        return (
            f"already def, but decorator @{decorator.text} ({where}) wraps it in an `async def` that calls it in "
            "place: it runs on the event loop, and its synchronous Session work blocks there (`check`: AM301)"
        )
    return "already def: runs in the threadpool"


def decide(project: Project, handler: Handler, offload_mixed: bool = False) -> Outcome:
    function = handler.function
    if handler.kind == RESOLVER:
        return _resolver(project, handler)
    if not function.is_async:
        return Outcome(
            handler, "def", "def", "unchanged",
            [AM104.reason(_already_def(project, handler)), *_nested_notes(project, handler),
             *_task_notes(project, handler)],
        )
    work = session_work(project, handler.id)
    keep = _reasons_to_stay_async(project, handler, work)
    notes = [
        AM119.reason(
            f"suspicious call at line {line}: passes `{keyword}=` to {callee}, which has no parameter "
            f"`{keyword}` (it raises TypeError when it runs)"
        )
        for line, callee, keyword in project.invented_keywords(handler.id)
    ]
    notes += _task_notes(project, handler)
    engine = [] if work.any else engine_work_reached(project, handler.id)
    pragma = parse_pragma(function.pragma)
    lazy = lazy_loads_on_loop(project, handler, work, keep)
    if lazy:
        reason = AM129.reason(lazy_load_text(project, lazy, function.awaits))
        if pragma is not None and pragma.silences(AM307):
            kept = AM114.reason("kept by pragma: " + (pragma.reason or "no reason given"))
            return Outcome(handler, "async", "async", "keep", [reason, kept, *notes])
        if function.awaits:
            also = [r for r in keep if r.code in LOOP_API]
            return Outcome(handler, "async", "async", "keep", [reason, *also, *notes])
        return Outcome(handler, "async", "def", "convert", [reason, *notes, *_lost_update_notes(project, handler)])
    silenced = pragma is not None and pragma.silences(AM301) and work.any
    if keep or silenced:
        # A pragma acknowledges that the handler blocks; it does not hide why phase one
        # keeps it, and it does not stop --offload-mixed from taking calls off the loop.
        # Only a handler the rule would convert stays exactly as it is.
        kept_by_pragma = not keep
        if silenced and pragma is not None:
            keep.append(
                AM114.reason(
                    f"{'kept by' if kept_by_pragma else 'acknowledged by'} pragma: "
                    + (pragma.reason or "no reason given")
                )
            )
        outcome = Outcome(handler, "async", "async", "keep", keep + notes)
        if engine:
            outcome.blocking = engine
        if work.any:
            # a hook building a Session (`request.state.db = db_session()`) does no I/O there
            outcome.blocking = past_constructions(project, handler, work.blocking) if (
                handler.kind in HOOK_KINDS
            ) else work.blocking
            # The threadpool is where a process-wide or thread-local Session, or one on a database each
            # thread has its own of, must not go: nothing is offloaded.
            # Nor where the Session is stored on a shared object: the await would let other requests store theirs.
            refused = _hook_not_offloaded(project, handler) if offload_mixed and handler.kind in HOOK_KINDS else None
            if refused is not None:
                outcome.reasons.append(refused)
            elif offload_mixed and not kept_by_pragma and not {AM126.code, AM132.code, AM142.code, AM143.code, AM144.code} & set(
                codes(keep)
            ):
                # Nor a call running while a task works on its Session in a worker thread (AM335).
                _offload(outcome, work, shared_updates.updating_calls(project, handler)
                         | beside_running_offloads(project, handler.id))
                outcome.reasons.extend(_lost_update_notes(project, handler, outcome.offload))
            if any(not b.offloaded for b in outcome.blocking):
                # kept async with its Session on the loop: its own lazy loads run there too
                outcome.blocking = sorted(
                    [*outcome.blocking, *own_lazy_loads(project, handler)], key=lambda b: (b.line, b.call)
                )
            if not _builds_only(project, handler, work):
                _still_blocking(outcome, work, project)
        return outcome
    converting = _reasons_to_convert(work, project) or [
        AM127.reason(
            f"does synchronous engine work at {engine_summary(engine)} and never awaits: as def it runs in "
            "the threadpool"
        )
    ]
    # as def too, the coroutines its helpers leave unrun run on an event loop (`check`: AM316)
    return Outcome(
        handler, "async", "def", "convert",
        converting + handed_reasons(project, handler.id, work) + notes + _lost_update_notes(project, handler),
    )


def _lost_update_notes(project: Project, handler: Handler, offloaded: list[int] | None = None) -> list[Reason]:
    """A converted handler writing a loaded object's attribute back from its own value (AM169), or
    claiming a loaded row (AM170): as `def`, its requests interleave in the threadpool where the
    event loop ran each alone. With
    `offloaded` (the calls `--offload-mixed` takes off the loop of a kept one), what those reach."""
    from async_migrate.codemods.phase1.lost_updates import (
        claim_text,
        lost_updates,
        note_text,
        offloaded_lost_updates,
    )

    found = lost_updates(project, handler.id) if offloaded is None else offloaded_lost_updates(
        project, handler.id, offloaded
    )
    return [
        AM170.reason(claim_text(project, update, offloaded is not None)) if update.claim
        else AM169.reason(note_text(project, update, offloaded is not None))
        for update in found
    ]


def _nested_notes(project: Project, handler: Handler) -> list[Reason]:
    """A `def` handler's nested coroutine doing Session work (`StreamingResponse(lines())`) runs on the
    loop all the same: "runs in the threadpool" alone would be an all-clear (`check`: AM316)."""
    work = session_work_view(project, handler.id)
    nested = [
        item for item in work.in_coroutines
        if (item.helper is None and item.scope) or (item.helper is not None and item.generator)
    ]
    builder = project.builds_route_handler(handler.id)
    engine = [
        AM122.reason(text)
        for text in nested_engine_text(engine_work_in_coroutines(project, handler.id), "after the handler returns")
    ]
    handed = handed_reasons(project, handler.id, work)
    nested_reasons = coroutine_reasons(dataclasses.replace(work, in_coroutines=nested), builder) if nested else []
    return nested_reasons + handed + engine


def handed_reasons(project: Project, fid: FunctionId, work: SessionWork) -> list[Reason]:
    """The blocking coroutines a handler that is (or becomes) `def` makes and leaves to an event loop."""
    return [
        AM121.reason(
            f"{item.what}: {item.when}, and it blocks at {', '.join(item.inner)}"
        )
        for item in handed_coroutines(project, fid, work)
    ]


def _run_in_place(project: Project, handler: Handler) -> list[Blocking]:
    """A startup or shutdown handler's engine work that runs while it runs: not a coroutine it
    schedules as a task (`asyncio.create_task(_retention_loop())`), which runs beside the requests
    and has a note of its own (`_task_notes`)."""
    scheduled = {(task.line, f"{task.task}(...)") for task in coroutine_tasks(project, handler.id)}
    return [b for b in engine_work_reached(project, handler.id) if (b.line, b.call) not in scheduled]


def _task_notes(project: Project, handler: Handler) -> list[Reason]:
    """A blocking `async def` task runs on the loop whatever the handler is: said either way."""
    from async_migrate.codemods.phase1.tasks import kept_because

    notes = []
    # A startup handler's task outlives it: it runs beside the requests, not once before them.
    beside = (
        ", each time it runs, beside the requests (it is no startup step run once before them)"
        if handler.kind == HandlerKind.LIFECYCLE else ""
    )
    for task in coroutine_tasks(project, handler.id):
        name = task.task.rsplit(".", 1)[-1]
        if task.callback:
            notes.append(AM128.reason(f"{task.describe()}{beside}: converting the handler does not help; {task.fix()}"))
            continue
        why = kept_because(project, task.fid)
        if why is None:
            notes.append(AM128.reason(
                f"{task.describe()}{beside}: phase one makes {name} a plain def, which Starlette runs in the threadpool"
            ))
        else:
            notes.append(AM128.reason(
                f"{task.describe()}{beside}: converting the handler does not help, and phase one keeps {name} async "
                f"({why}); {task.fix(awaits_said=why.startswith('it awaits'))}"
            ))
    return notes


def lazy_loads_on_loop(
    project: Project, handler: Handler, work: SessionWork | None = None, keep: list[Reason] | None = None
) -> list:
    """An `async def` handler without Session work of its own that reads a relationship (in its
    code or by its response model) of an object a dependency loaded on a synchronous Session,
    nothing eager-loading it: a lazy load, a blocking query on the event loop. [] otherwise, and
    for handlers phase one keeps for other reasons (`keep`)."""
    from async_migrate.codemods.phase2.lazy_loads import dependency_lazy_loads

    function = handler.function
    if not function.is_async or handler.kind == HandlerKind.WEBSOCKET:
        return []
    if work is None:
        work = session_work(project, handler.id)
    if keep is None:
        keep = _reasons_to_stay_async(project, handler, work)
    kept = [r.code for r in keep]
    if kept[:1] == [AM131.code] and set(kept[1:]) <= LOOP_API:
        kept = kept[:1]  # `loop.run_in_executor(...)` offloading it: async all the same
    # AM131: all its Session work runs in the threadpool, and what that returns is read back on the loop.
    if (work.any and kept != [AM131.code]) or kept not in ([AM105.code], [AM106.code], [AM131.code], [ON_ASYNC]):
        return []
    if not any(p.depends or p.annotation for p in function.params):
        return []
    traced = [
        risk
        for risk in dependency_lazy_loads(project, handler.id)
        if risk.dependency in project.functions and _loads_on_sync_session(project, risk.dependency)
    ]
    return traced + _handed_reads(project, handler, traced) + expired_dependency_reads(project, handler) + (
        offloaded_commit_reads(project, handler)
    )


def _handed_reads(project: Project, handler: Handler, traced: list) -> list:
    """Relationships of a dependency's object read where the flow cannot follow that object: in
    what the handler's calls handed it to run on the loop, a callable they were handed taking it
    (`is_authorized(user, Policy.get(ds))` running `lambda actor: ... actor.workspaces`). Judged by
    name, as `own_lazy_loads` judges what a handler on the loop's Session reaches, and only for a
    relationship the object's annotated class declares, read in a function a call handing the
    object to reaches; a read the flow traced is not said twice."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.lazy_loads import _Analysis

    classes = project_classes(project)
    handed: dict[str, tuple[FunctionId, set[str]]] = {}
    for param in handler.function.params:
        depends = project.param_dependency(param)
        found = (project.function(depends) or project.endpoint(depends)) if depends else None
        if found is None:
            continue
        owners = {c for c in (classes.resolve(ref) for ref in param.annotation) if c is not None}
        dependency = (found[0].name, found[1].key)
        if owners and _loads_on_sync_session(project, dependency):
            handed[param.name] = (dependency, owners)
    if not handed:
        return []
    # a call handing the object on, and those on its line: what they return is handed beside it
    # (`is_authorized(user, Policy.get(ds))`)
    lines: dict[int, list[str]] = {}
    for edge in project.all_calls_from[handler.id]:
        at_line = lines.setdefault(edge.call.line, [])
        at_line.extend(a.name for a in edge.call.args if a.name in handed and a.name not in at_line)
    reached: dict[str, list[str]] = {}
    for edge in project.all_calls_from[handler.id]:
        names = lines[edge.call.line]
        if edge.call.offloaded or edge.call.streamed or not names:
            continue
        order, seen = [edge.callee], {handler.id, edge.callee}
        while order:
            current = order.pop()
            module, function = project.functions[current]
            at = reached.setdefault(f"{module.name}.{function.qualname}", [])
            at.extend(n for n in names if n not in at)
            for following in project.all_calls_from[current]:
                if not following.call.offloaded and following.callee not in seen:
                    seen.add(following.callee)
                    order.append(following.callee)
    if not reached:
        return []
    said = {(risk.file, risk.line, risk.attribute) for risk in traced}
    found_risks = []
    for risk in _Analysis(project).run([handler.id]).risks:
        if risk.kind == "response" or risk.code not in (AM220.code, AM221.code) or (
            (risk.file, risk.line, risk.attribute) in said
        ):
            continue
        if _typed_otherwise(project, classes, risk):
            continue
        for name in reached.get(risk.function, ()):
            dependency, owners = handed[name]
            if risk.owner in owners:
                said.add((risk.file, risk.line, risk.attribute))
                found_risks.append(dataclasses.replace(risk, dependency=dependency))
                break
    return found_risks


def _typed_otherwise(project: Project, classes: Classes, risk: LazyLoadRisk) -> bool:
    """Whether what the read runs on is a parameter annotated with no mapped class
    (`query: Optional[BackendDatasetsQuery]`, a TypeVar bound to a pydantic model, reading
    `query.workspaces`): judged by name, a relationship of the one class declaring it would be
    said of an object that is no ORM object."""
    receiver = risk.path.partition(".")[0]
    for module, function in project.functions.values():
        if f"{module.name}.{function.qualname}" != risk.function:
            continue
        param = next((p for p in function.params if p.name == receiver), None)
        if param is None or not param.annotation:
            return False
        typed = (classes.resolve(ref) for ref in param.annotation)
        return not any(c is not None and classes.is_mapped(c) for c in typed)
    return False


def threadpool_lazy_loads(project: Project, handler: Handler) -> list:
    """What a `def` handler without Session work of its own lazy-loads, in the threadpool, on
    objects a dependency loaded on a synchronous Session: Session work all the same, which
    stays on the synchronous path while the handler does."""
    from async_migrate.codemods.phase2.lazy_loads import dependency_lazy_loads

    if handler.function.is_async or handler.kind == HandlerKind.WEBSOCKET:
        return []
    if not any(p.depends or p.annotation for p in handler.function.params):
        return []
    return [
        risk
        for risk in dependency_lazy_loads(project, handler.id)
        if risk.dependency in project.functions and _loads_on_sync_session(project, risk.dependency)
    ]


def _validation_lines(project: Project, function: Function) -> set[int]:
    """The lines where `function` validates a model from an object itself (`Out.model_validate(x)`,
    a TypeAdapter's `validate_python`, `parse_obj_as`)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.validations import validation

    classes = project_classes(project)
    return {c.line for c in function.calls if not c.nested and validation(project, classes, c) is not None}


def own_lazy_loads(project: Project, handler: Handler) -> list[Blocking]:
    """Lazy loads an `async def` handler runs itself, on the loop, besides its Session calls: a
    relationship its own body reads, or its response model nests (FastAPI serialises an
    `async def` route's response on the event loop), or a project function it calls there reads
    (`svc.total(order)` reading `order.lines`: at the line of that call), that nothing eager-loads.
    Read for a handler whose synchronous Session work blocks the loop (the objects are that
    Session's), not for one on an AsyncSession (there a lazy load raises instead: phase two's
    AM220/AM222)."""
    from async_migrate.codemods.phase2.lazy_loads import _Analysis, own_lazy_load_risks

    known: dict[FunctionId, list[Blocking]] = project.derived.setdefault("own_lazy_loads", {})  # type: ignore[assignment]
    found = known.get(handler.id)
    if found is None:
        found = []
        function = handler.function
        if function.is_async and handler.kind in (HandlerKind.ROUTE, HandlerKind.DEPENDENCY) and not any(
            project.declared_async_session(p) for p in function.params
        ):
            own = f"{handler.module.name}.{function.qualname}"
            validated = _validation_lines(project, function)
            for risk in own_lazy_load_risks(project, handler.id):
                if risk.code not in (AM220.code, AM221.code, AM222.code):
                    continue
                if risk.kind == "response" and not risk.served and risk.line in validated:
                    # `return UserOut.model_validate(user)`: read where the call runs, as a response model is
                    found.append(Blocking(risk.line, f"{risk.path} (lazy-loads when validated)"))
                elif risk.kind == "response":
                    how = "may lazy-load" if risk.served else "lazy-loads"
                    found.append(Blocking(risk.line, f"{risk.path} ({how} while the response is serialised)"))
                elif risk.function == own:
                    found.append(Blocking(risk.line, f"{risk.path} (lazy load)"))
            # what a commit on the loop expired, read after it: refreshed there, though offloading
            # the commit alone (AM301's fix for the lines before) would seem to clear the route
            found.extend(loop_commit_reads(project, handler))
            reached = _reached_on_loop(project, handler.id)
            if reached:
                # judged by name, as phase two's AM220 is: an option of the closure naming the
                # relationship credits a read in a function the object is handed to
                risks = _Analysis(project).run([handler.id]).risks
                for risk in risks:
                    if risk.kind == "response" or risk.code not in (AM220.code, AM221.code):
                        continue
                    for line, callee in reached.get(risk.function, ()):
                        found.append(Blocking(
                            line, f"{risk.path} in {project.written(callee)}(...) at {risk.file}:{risk.line} (lazy load)"
                        ))
        known[handler.id] = found
    return [Blocking(b.line, b.call) for b in found]


def _reached_on_loop(project: Project, fid: FunctionId) -> dict[str, list[tuple[int, str]]]:
    """The project functions the handler's calls run on the event loop, at any depth, that do no
    synchronous Session work of their own (those calls are blocking already): the dotted name of
    each -> (line, the function called there) of the handler's calls reaching it. A call run in
    the threadpool, and what it calls, is left out."""
    found: dict[str, list[tuple[int, str]]] = {}
    for edge in project.all_calls_from[fid]:
        if edge.call.offloaded or edge.call.streamed or edge.session_args or edge.callee in project.work_chains or (
            session_work_view(project, edge.callee).any
        ):
            continue
        module, callee = project.functions[edge.callee]
        called = f"{module.name}.{callee.qualname}"
        order, seen = [edge.callee], {fid, edge.callee}
        while order:
            current = order.pop()
            current_module, current_function = project.functions[current]
            at = found.setdefault(f"{current_module.name}.{current_function.qualname}", [])
            if (edge.call.line, called) not in at:
                at.append((edge.call.line, called))
            for following in project.all_calls_from[current]:
                if not following.call.offloaded and following.callee not in seen:
                    seen.add(following.callee)
                    order.append(following.callee)
    return found


def _loads_on_sync_session(project: Project, dependency: FunctionId) -> bool:
    """Whether the dependency, or one it depends on, does synchronous Session work: the object
    `get_current_active_user` hands on came from `get_current_user`'s query."""
    order, seen = [dependency], {dependency}
    while order:
        fid = order.pop()
        if session_work_view(project, fid).any:
            return True
        for param in project.functions[fid][1].params:
            depends = project.param_dependency(param)
            found = project.function(depends) if depends else None
            if found is not None and (found[0].name, found[1].key) not in seen:
                seen.add((found[0].name, found[1].key))
                order.append((found[0].name, found[1].key))
    return False


def load_verb(risk: LazyLoadRisk) -> str:
    """How a lazy-load risk reads in a reason: a `lazy="dynamic"` relationship is a Query, using it
    runs one; a deferred column is no relationship."""
    if risk.code == AM221.code:
        return "queries through lazy=\"dynamic\" relationship"
    return "loads the deferred column" if risk.code == AM251.code else "lazy-loads"


def read_shown(risk: LazyLoadRisk, where: str = "") -> str:
    """What a lazy-load risk reads, as a reason names it: `actor.posts`, and for model code the
    relationship path it reads (`actor.__str__`, which reads User.posts,); `where` follows the
    read (` (app.py:37)`)."""
    if not risk.reads:
        return f"`{risk.path}`{where}"
    owner = risk.reads[0][0].rpartition(".")[2]
    return f"`{risk.path}`{where}, which reads {owner}." + ".".join(attribute for _, attribute in risk.reads) + ","


def lazy_load_text(
    project: Project, risks: list, awaits: list[tuple[int, str]], converted: str = "as `def` it runs in the threadpool"
) -> str:
    first = risks[0]
    module, dependency = project.functions[first.dependency]
    where = read_shown(first, f" ({first.file}:{first.line})")
    more = f" and {len(risks) - 1} more" if len(risks) > 1 else ""
    if first.kind == "expired" and first.offloaded:
        if first.function != f"{module.name}.{dependency.qualname}":
            # read in a helper the handler hands the object to (`return book_out(book)`)
            where = read_shown(first, f" in {first.function} ({first.file}:{first.line})")
        text = (
            f"reads {where}{more} after the commit it ran in the threadpool ({expired_where(first)}): the commit "
            "expired the object, and the read refreshes it, a blocking query on the event loop"
        )
        fix = "refresh the object in the threadpool after the commit, or give its sessionmaker expire_on_commit=False"
        if awaits:
            line, awaited = awaits[0]
            return f"{text}; it awaits at line {line} (`{awaited}`), so it stays async: {fix}"
        return f"{text}; {converted}"
    if first.kind == "expired":
        text = (
            f"reads {where}{more} on the object from the dependency {module.name}.{dependency.qualname}, which "
            f"committed its synchronous Session after loading it ({expired_where(first)}): every attribute is "
            "expired, and the read refreshes it, a blocking query on the event loop"
        )
        fix = (
            "refresh the object after the commit in the dependency (`db.refresh(obj)`), or give its sessionmaker "
            "expire_on_commit=False"
        )
        if awaits:
            line, awaited = awaits[0]
            return f"{text}; it awaits at line {line} (`{awaited}`), so it stays async: {fix}"
        return f"{text}; {converted}"
    how = load_verb(first)
    # a Session call of the reader's own run in the threadpool (`run_in_threadpool(db.get, ...)`)
    own_call = first.offloaded and (
        first.function == f"{module.name}.{dependency.qualname}"
        or any(h.id == first.dependency for h in project.handlers)  # read in a helper it hands the object to
    )
    if own_call:
        source = (
            "on an object a Session call run in the threadpool returned, loaded on a synchronous Session: "
            "reading it back on the event loop runs a blocking query there"
        )
    elif first.offloaded:
        source = (
            f"on the object {module.name}.{dependency.qualname} returned from the threadpool, loaded on a "
            "synchronous Session: reading it back on the event loop runs a blocking query there"
        )
    else:
        source = (
            f"on the object from the dependency {module.name}.{dependency.qualname}, which loaded it on a "
            "synchronous Session (or was handed it by one that did): a blocking query on the event loop"
        )
    text = f"{how} {where}{more} {source}"
    if awaits:
        line, awaited = awaits[0]
        fix = (
            "eager-load the relationship in the query run in the threadpool, or build the response inside the "
            "call the threadpool runs"
            if own_call
            else "eager-load the relationship in that function's query, or build the response inside the call the "
            "threadpool runs"
            if first.offloaded
            else "eager-load the relationship in the dependency's query"
        )
        return f"{text}; it awaits at line {line} (`{awaited}`), so it stays async: {fix}"
    return f"{text}; {converted}"


def _resolver(project: Project, handler: Handler) -> Outcome:
    """A GraphQL resolver stays as it is: graphql-core runs a `def` one on the event loop too."""
    work = resolver_work(project, handler)
    unverified = session_work(project, handler.id).unverified
    before = "async" if handler.function.is_async else "def"
    text = (
        "GraphQL resolver: runs on the event loop whether `def` or `async def` (graphql-core calls a plain def "
        f"resolver in place, not in the threadpool), so phase one leaves it; {describe_work(work, unverified)}"
    )
    action = "keep" if before == "async" else "unchanged"
    return Outcome(handler, before, before, action, [AM157.reason(text)], work.blocking)


def _validation_note(project: Project, handler: Handler) -> str:
    """What its parameters' validators do on the event loop, said beside "no Session work": the
    handler's request is still held up by Session work, which converting it would not move."""
    from async_migrate.codemods.request_validation import blocking_validators

    found = blocking_validators(project, handler)
    if not found:
        return ""
    first = found[0]
    reached = f"`{first.param}`" if first.path == first.param else f"`{first.path}` of `{first.param}`"
    work = ", ".join(f"line {b.line} ({b.call})" for b in first.blocking)
    more = f" (and {len(found) - 1} more validator{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
    return (
        f" of its own, but FastAPI validates {reached} on the event loop before calling it, and the validator "
        f"{first.qualname} ({first.module}) does synchronous Session work there at {work}{more}: as `def` it would "
        f"still block the loop (check: {AM312.code})"
    )


def _reasons_to_stay_async(project: Project, handler: Handler, work: SessionWork) -> list[Reason]:
    function = handler.function
    if handler.kind == HandlerKind.WEBSOCKET:
        return [AM107.reason("websocket handler: stays async def")]
    # Starlette runs a plain def exception handler in the threadpool (`run_in_threadpool(handler, conn,
    # exc)`, the 500 handler too): it converts as a route does. Middleware awaits `call_next`, and a
    # plain def startup handler still runs on the loop.
    if handler.kind in HOOK_KINDS and handler.kind != HandlerKind.EXCEPTION_HANDLER and not _repeated(project, handler):
        engine = [] if work.any or handler.kind != HandlerKind.LIFECYCLE else _run_in_place(project, handler)
        caveat = offload_note(project, handler.id) if handler.kind != HandlerKind.LIFECYCLE and work.any else ""
        if handler.kind == HandlerKind.MIDDLEWARE and work.any:
            blocking = past_constructions(project, handler, [b for b in work.blocking if not b.offloaded])
            teardown = registry_teardown_fix(project, handler, blocking) if blocking else None
            if teardown is not None:
                # the registry's call is all its Session work: the helper advice would contradict it
                return [AM133.reason(
                    "middleware: stays async def (it awaits `call_next` or the wrapped app); its synchronous "
                    f"Session work blocks the event loop on every request it sees: {teardown}"
                )]
        built = _builds_only(project, handler, work)
        if built:
            return [AM133.reason(_built_text(handler.kind, built))]
        if handler.kind == HandlerKind.LIFECYCLE and _scheduled_only(project, handler, work):
            # "runs once ... blocks no request" would contradict the task note: the task runs beside them
            own = _run_in_place(project, handler)
            once = (
                f"its synchronous engine work at {engine_summary(own)} runs once on the event loop, before the "
                "first request or after the last: it delays startup or shutdown and blocks no request; it does"
            ) if own else "does"
            return [AM133.reason(
                f"startup/shutdown handler: phase one leaves it async def; {once} no synchronous Session work of its "
                "own: what it reaches is in the coroutine it schedules, which runs beside the requests (below)"
            )]
        return [AM133.reason(_hook_text(handler.kind, work, engine) + caveat)]
    unrecognised = sorted({r.unrecognised for r in handler.registrations if r.unrecognised})
    if unrecognised:
        return [
            AM120.reason(
                f"router class {cls} is not recognised: listed because its decorators look like routes; "
                "if it is a FastAPI router, add it to router-types in [tool.async-migrate] and rerun"
            )
            for cls in unrecognised
        ]
    bound = _connection_reasons(project, handler)
    if not work.any:
        engine = engine_work_reached(project, handler.id)
        if engine:
            return bound + _engine_reasons(project, handler, engine)
        if work.unverified:
            # Converting needs evidence of Session work, keeping needs its absence: with
            # neither, the handler stays as it is and the reason says what could not be seen.
            line, text = work.unverified[0]
            advice = project.held_dependency_advice(handler.id, text)
            return [unverified_reason(line, text, advice), *mislabelled_sessions(project, handler, unverified=True)]
        notes = mislabelled_sessions(project, handler)
        if notes:
            return notes
        stored = [name for name in work.unused if function.name_uses.get(name)]
        if stored:  # `request_session.set(db)`, `return db`: the object handed on, no I/O
            names = ", ".join(f"`{name}`" for name in stored)
            return [AM105.reason(f"does no synchronous Session work: it only stores or returns the Session {names}")]
        if work.unused:
            names = ", ".join(f"`{name}`" for name in work.unused)
            return [AM106.reason(f"its Session parameter {names} is never used")]
        on_async = on_async_session(project, handler)
        if on_async is not None:
            return [on_async]
        return [AM105.reason("does no synchronous Session work" + _validation_note(project, handler))]
    reasons: list[Reason] = []
    if function.awaits:
        line, text = function.awaits[0]
        offloaded = [b for b in work.blocking if b.offloaded]
        if offloaded and len(offloaded) == len(work.blocking) and not (work.opened or work.in_coroutines):
            # `asyncio.to_thread(f, db)` nothing awaits never runs f; a dropped executor future runs it unjoined
            dropped = [d for d in dropped_offloads(project, handler.id) if any(b.line == d.line for b in offloaded)]
            running = [b for b in offloaded if all(d.line != b.line for d in dropped)]
            where = ", ".join(f"line {b.line} ({b.call})" for b in running)
            overlap = overlapping_offloads(project, handler.id).parts
            done = f"its synchronous Session work already runs in a worker thread ({where})" if running else ""
            lost = "; ".join(f"{d.harm()} (check's AM311)" for d in dropped)
            reasons.append(AM131.reason(
                f"awaits at line {line} (`{text}`); "
                + (f"{done}: nothing blocks the event loop" if not dropped else
                   f"nothing blocks the event loop: {done + '; ' if done else ''}{lost}")
                + (f"; but those threads may use one Session at the same time, which is not thread-safe: {overlap[0]} "
                   "(check's AM335)" if overlap else "")
            ))
        elif _only_unverified(project, handler, work):
            # `await hooks.fire(db, id)` running coroutines a registry holds: what runs there is
            # unknown (check's AM304), not definite work
            shown = work.unverified[0][1]
            advice = project.held_dependency_advice(handler.id, shown)
            reasons.append(AM125.reason(
                f"awaits at line {line} (`{text}`), and its Session work is unverified: {shown}; the "
                "analysis cannot tell whether that does synchronous Session work, so it stays async def"
                + (f"; {advice}" if advice else "")
            ))
        else:
            reasons.append(AM108.reason(f"mixed: awaits at line {line} (`{text}`) and does synchronous Session work"))
    for use in shared_session_uses(project, handler.id)[:1]:
        reasons.append(
            AM126.reason(
                f"does Session work at {use.path}:{use.line} (`{use.call}`) on {use.holder}, {use.shared}: "
                "safe only while its routes run one at a time on the event "
                "loop; as `def` (or offloaded) concurrent requests would use it from several threads at "
                f"once; {use.remedy or 'give each request its own Session (a dependency) or a `scoped_session` scoped to the request'}"
            )
        )
    scoped = thread_scoped_uses(project, handler.id)
    for use in [first_work(scoped)] if scoped else []:
        guard = unguarded_remove_fix(project, handler.id, use)
        if guard is not None:
            reasons.append(
                AM132.reason(
                    f"does Session work at {use.path}:{use.line} (`{use.call}`) on {use.holder}: as `def` it would "
                    f"run on threadpool workers, where {guard}; or scope it to the request (`scopefunc=` a context "
                    "variable set per request)"
                )
            )
            continue
        harm = (
            "use it from a threadpool worker while other requests use it from theirs: a Session is not "
            "thread-safe, so their transactions interleave"
            if use.handed or use.one_key
            else "run on a threadpool worker, where no asyncio task runs: `asyncio.current_task()` raises "
            "RuntimeError and the request fails"
            if use.task
            else f"run on threadpool workers, where by its key {UNREAD_SCOPE_HARM}"
            if not use.certain
            else "run on threadpool workers, each keeping its own Session (its transaction and connection) "
            "open from one request to the next, out of reach of a `remove()` on the event loop thread"
        )
        fix = use.remedy or (
            f"have `{use.call}` open a Session of its own (`with SessionLocal() as db: yield db`)"
            if use.handed
            else f"take the Session from a dependency; {UNREAD_SCOPE_FIX}"
            if not use.certain
            else "take the Session from a dependency"
        )
        reasons.append(
            AM132.reason(
                f"does Session work at {use.path}:{use.line} (`{use.call}`) on {use.holder}: as `def` it would "
                f"{harm}; scope it to the request (`scopefunc=` a context variable set per request) or {fix}"
            )
        )
    reasons.extend(bound)
    memory = handler_memory_engine(project, handler)
    if memory is not None:
        reasons.append(AM142.reason(memory_text(memory)))
    reasons.extend(coroutine_reasons(work))
    reasons.extend([need.reason() for need in coroutine_needs(project, handler)])
    return reasons


def _connection_reasons(project: Project, handler: Handler) -> list[Reason]:
    """AM144 for a route or dependency on a database connection the whole process shares: the
    first use found, naming the object and where it is made."""
    if handler.kind not in ("route", "dependency"):
        return []
    return [
        AM144.reason(
            f"uses at {use.path}:{use.line} (`{use.call}`) {use.holder}: safe only while its routes run one at a "
            f"time on the event loop's thread, which made it; as `def` (or offloaded) {use.harm()}; open a "
            "connection per request (a dependency yielding one, closed after the request) or use an Engine's pool"
        )
        for use in thread_bound_uses(project, handler.id)[:1]
    ]


def memory_text(memory: MemoryEngine) -> str:
    """AM142's reason: where the Session comes from, and what a worker thread would see."""
    return (
        f"its Session comes from {memory.via}, on the engine {memory.engine}, an in-memory SQLite database "
        f"({memory.url}) without poolclass=StaticPool: SQLAlchemy's SingletonThreadPool gives each thread a "
        "connection, and so a database, of its own; on the event loop every async def handler shares the loop "
        "thread's; as `def` (or offloaded) it would run in a worker thread and see an empty database of its own "
        "(no tables created at startup, none of the rows other requests wrote)"
    )


def _builds_only(project: Project, handler: Handler, work: SessionWork) -> list[int]:
    """The lines where a middleware or start-up hook builds a Session (`request.state.db =
    SessionLocal()`, `db = SessionLocal()`), when that is all it does with one: building a
    Session does no I/O, only the work done with it does (the handlers' own, where they run). []
    when it does anything else with it, or opens it in a `with` block, whose end closes it on the
    event loop (a ROLLBACK where a handler left a transaction open)."""
    if handler.kind not in HOOK_KINDS or handler.kind == HandlerKind.EXCEPTION_HANDLER:
        return []
    if work.used or work.opening_callees or work.in_coroutines or work.reached or work.decorated or work.serialised:
        return []
    if past_constructions(project, handler, work.blocking):
        return []
    built = {b.line for b in work.blocking}
    if any(line not in built for line, _ in work.own):
        return []
    entered = {b.line for b in handler.function.bindings if b.entered}
    if any(line in entered for line in work.opened):
        return []
    return sorted(built | set(work.opened))


def _scheduled_only(project: Project, handler: Handler, work: SessionWork) -> bool:
    """Whether all the Session work a start-up or shutdown handler reaches is in the coroutines it
    schedules as tasks (`asyncio.create_task(drain_forever())`), none in its own code."""
    scheduled = {(task.line, f"{task.task}(...)") for task in coroutine_tasks(project, handler.id)}
    return bool(work.blocking) and not (work.used or work.opened or work.own or work.opening_callees) and all(
        (b.line, b.call) in scheduled for b in work.blocking
    )


def _built_text(kind: str, lines: list[int]) -> str:
    where = ", ".join(map(str, lines))
    text = (
        "middleware: stays async def (it awaits `call_next` or the wrapped app)" if kind == "middleware"
        else "startup/shutdown handler: phase one leaves it async def"
    )
    return (
        f"{text}; it only builds a Session (line {where}) and does no synchronous Session work with it: building "
        "a Session does no I/O, the work done with it does, where that runs"
    )


def _hook_text(kind: str, work: SessionWork, engine: list | None = None) -> str:
    if kind == "middleware":
        text = "middleware: stays async def (it awaits `call_next` or the wrapped app)"
        blocks = "blocks the event loop on every request it sees"
        fix = "move it into a plain def helper and `await run_in_threadpool(helper, ...)`, or use AsyncSession"
    else:
        text = "startup/shutdown handler: phase one leaves it async def"
        blocks = (
            "runs once on the event loop, before the first request or after the last: it delays startup or "
            "shutdown and blocks no request"
        )
        fix = ""
    if not work.any and engine:
        # `Base.metadata.create_all(engine)` at start-up: blocking, and harmless to requests.
        return f"{text}; its synchronous engine work at {engine_summary(engine)} {blocks}"
    if not work.any and work.unverified:
        # `check` reports this handler as AM304: never "no Session work" beside it.
        line, what = work.unverified[0]
        return (
            f"{text}; unverified: {what} (line {line}); the analysis cannot tell whether it does synchronous "
            f"Session work, which {blocks}"
        )
    if not work.any:
        return f"{text}; does no synchronous Session work"
    if work.blocking and all(b.offloaded for b in work.blocking) and not (
        work.opened or work.in_coroutines or work.decorated or work.serialised
    ):
        # `await run_in_threadpool(ScopedSession.remove)` after `call_next`: what `check` clears too
        return f"{text}; its synchronous Session work is offloaded to the threadpool: it blocks no event loop"
    return f"{text}; its synchronous Session work {blocks}" + (f": {fix}" if fix else "")


def _engine_reasons(project: Project, handler: Handler, engine: list) -> list[Reason]:
    """Why a handler whose only blocking work is on a synchronous engine stays async: [] converts it."""
    function = handler.function
    reasons = [need.reason() for need in coroutine_needs(project, handler)]
    nested = engine_work_in_coroutines(project, handler.id)
    if nested:
        # as `def` the route would leave that work on the loop: converting it fixes nothing there
        reasons.extend(AM122.reason(text) for text in nested_engine_text(nested, "whatever the route is"))
        return reasons
    if function.awaits:
        line, text = function.awaits[0]
        reasons.insert(0, AM127.reason(
            f"mixed: awaits at line {line} (`{text}`) and does synchronous engine work at "
            f"{engine_summary(engine)}, which blocks the event loop: offload it with "
            "`await run_in_threadpool(...)` or use the async engine"
        ))
    elif reasons:
        reasons.insert(0, AM127.reason(
            f"does synchronous engine work at {engine_summary(engine)}, which blocks the event loop, but "
            "cannot become def"
        ))
    return reasons


def coroutine_reasons(work: SessionWork, route_handler: bool = False) -> list[Reason]:
    """Session work that stays on the event loop even if the handler became `def`. `route_handler`:
    the handler is a route class's `get_route_handler`, whose nested coroutine wraps requests."""
    reasons = []
    scopes: dict[str, list[str]] = {}
    # the same helper called at several lines, blocking alike: one reason naming every line
    helper_lines: dict[tuple[str, tuple[str, ...], str], list[int]] = {}
    for item in work.in_coroutines:
        if item.helper is not None and not item.generator:
            helper_lines.setdefault((item.helper, tuple(item.inner), item.helper_fix()), []).append(item.line)
    for item in work.in_coroutines:
        if item.helper is not None and item.generator:
            reasons.append(
                AM121.reason(
                    f"{item.calls()} the event loop "
                    f"{'runs around the block' if item.entered else 'iterates'} whatever the route is, and it blocks "
                    f"at {', '.join(item.inner)}; " + item.helper_fix()
                )
            )
        elif item.helper is not None:
            called = helper_lines.pop((item.helper, tuple(item.inner), item.helper_fix()), None)
            if called is None:
                continue  # named with the first call
            at = f"line {called[0]}" if len(called) == 1 else "lines " + ", ".join(map(str, sorted(set(called))))
            reasons.append(
                AM121.reason(
                    f"calls the coroutine helper {item.helper} at {at}, which blocks the event "
                    f"loop at {', '.join(item.inner)}: as `def` the route would still run it on the loop; "
                    + item.helper_fix()
                )
            )
        elif item.scope is not None:
            scopes.setdefault(item.scope, []).append(f"line {item.line} ({item.call})")
    for scope, lines in scopes.items():
        reasons.append(AM122.reason(
            route_handler_text(scope, lines) if route_handler else
            f"does synchronous Session work at {', '.join(lines)} inside the nested coroutine `{scope}`, "
            f"which runs on the event loop whatever the route is: make `{scope}` a plain def (a sync "
            "generator streams from the threadpool) or move its work to AsyncSession (phase two)"
        ))
    return reasons


def route_handler_text(scope: str, lines: list[str]) -> str:
    """A route class's `get_route_handler` whose returned coroutine does Session work: where, and the fix."""
    return (
        f"does synchronous Session work at {', '.join(lines)} inside the coroutine `{scope}` it returns, which "
        "FastAPI awaits on the event loop for every request of the routes using this route class: move that work "
        f"into a plain def helper and `await run_in_threadpool(helper, ...)`, {BY_HAND_ASYNC}"
    )


def mislabelled_sessions(project: Project, handler: Handler, unverified: bool = False) -> list[Reason]:
    """Parameters declared as a synchronous Session that the body awaits like an AsyncSession.
    `unverified`: the handler has Session evidence the analysis cannot resolve, so the note
    does not claim it is free of synchronous Session work."""
    notes: list[Reason] = []
    for param in handler.function.params:
        if project.declared_session(param) is None:
            continue
        call = project.awaited_like_async(handler.function, param.name)
        if call is not None:
            notes.append(
                AM118.reason(
                    f"awaits `{param.name}.{call.method}()` at line {call.line}: `{param.name}` is an "
                    "AsyncSession whose annotation says Session (fix the annotation)"
                    + ("" if unverified else "; no synchronous Session work")
                )
            )
    return notes


def _shared_opener(project: Project, ref: str) -> str | None:
    """How the function `ref` names takes a Session others share (`Project.shared_open`), or None."""
    found = project.function(ref)
    return None if found is None else project.shared_open((found[0].name, found[1].key))


def _reasons_to_convert(work: SessionWork, project: Project) -> list[Reason]:
    reasons: list[Reason] = []
    if work.used:
        details = [work.params[name] for name in work.used]
        reasons.append(AM101.reason(f"takes a synchronous Session {', '.join(details)} and never awaits"))
    if work.opened:
        lines = ", ".join(map(str, work.opened))
        reasons.append(AM102.reason(f"opens a synchronous Session itself (line {lines}) and never awaits"))
    for line, callee, chain in work.opening_callees:
        shared = _shared_opener(project, chain[-1] if chain else callee)
        if shared is None:
            reasons.append(AM103.reason(f"calls {callee} (line {line}), which opens its own synchronous Session"))
        else:
            reasons.append(AM103.reason(
                f"calls {callee} (line {line}), which takes a synchronous Session without opening one of its own"
                f"{'' if not chain else ' (through ' + ' -> '.join(chain) + ')'}: {shared}"
            ))
    for line, text in work.own:
        reasons.append(AM124.reason(f"does synchronous Session work at line {line} (`{text}`) and never awaits"))
    for line, callee, chain in work.reached:
        guess = work.maybe.get((line, callee))
        calls = f"calls {callee} (line {line})" if guess is None else f"may call {callee} (line {line}: {guess})"
        reasons.append(AM123.reason(f"{calls}, which does synchronous Session work: {' -> '.join(chain)}"))
    for line, read, chain in work.serialised:
        reasons.append(AM285.reason(
            f"its response model reads {read} (line {line}) on what it returns while FastAPI serialises the "
            f"response, on the event loop for an async def route, and that does synchronous Session work: "
            f"{' -> '.join(chain)}"
        ))
    for line, decorator, where in work.decorated:
        reasons.append(
            AM124.reason(
                f"its decorator {decorator} (line {line}) does synchronous Session work on the event loop, in the "
                f"`async def` wrapper it returns for a coroutine function, at {where}; it never awaits"
            )
        )
    return reasons


def unverified_reason(line: int, text: str, advice: str | None = None) -> Reason:
    """Phase one's reason for a handler whose only Session evidence could not be resolved, with
    the fix where the rule's general one does not fit (`Project.held_dependency_advice`)."""
    return AM125.reason(
        f"unverified: {text} (line {line}); the analysis cannot tell whether it does synchronous "
        "Session work, so it stays async def" + (f"; {advice}" if advice else "")
    )


def _hook_not_offloaded(project: Project, handler: Handler) -> Reason | None:
    """Why --offload-mixed leaves a middleware's or startup handler's calls on the loop, which a
    route's keep reasons say for it (AM126, AM132, AM142) but a hook's do not: a process-wide
    Session, a thread-local `scoped_session` (in a worker thread, that worker's own Session, which
    nothing there removes), or a per-thread in-memory SQLite database. None when none holds."""
    for use in shared_session_uses(project, handler.id)[:1]:
        return AM126.reason(
            f"not offloaded: its Session work at {use.path}:{use.line} (`{use.call}`) is on {use.holder}, "
            f"{use.shared}: in a worker thread it would be used beside the requests' threads"
        )
    # its own `remove()` on the loop thread ends none of a worker's Sessions
    for use in registry_work_reached(project, handler.id)[:1]:
        return AM132.reason(
            f"not offloaded: its Session work at {use.path}:{use.line} (`{use.call}`) is on {use.holder}: in a "
            "worker thread it would run on that worker's own Session, which no `remove()` there ends (its "
            "transaction and connection kept open), not on the one the handler's other work uses"
        )
    memory = handler_memory_engine(project, handler)
    if memory is not None:
        return AM142.reason("not offloaded: " + memory_text(memory))
    return None


def _offload(outcome: Outcome, work: SessionWork, updating: set[int]) -> None:
    offloaded = []
    movable = {index for index in work.helper_calls if index not in updating and _offloadable(outcome, index)}
    clashes = {index: clash for index in movable if (clash := _threadpool_keyword(outcome, index)) is not None}
    # An entry standing for several calls of a helper on one line goes off the loop with all of them or none.
    unmovable = {id(blocking) for index, blocking in work.helper_calls.items() if index not in movable or index in clashes}
    for index, blocking in sorted(work.helper_calls.items()):
        if index in clashes:
            outcome.reasons.append(AM116.reason(
                f"not offloaded: line {blocking.line} ({blocking.call}) passes {clashes[index]}, and run_in_threadpool "
                "takes the function it runs as its own keyword parameter `func` (`run_in_threadpool(func, "
                "*args, **kwargs)`): the rewritten call would raise TypeError (multiple values for argument "
                "'func'); offload it by hand as `await run_in_threadpool(functools.partial(...))`"
            ))
        elif id(blocking) not in unmovable:
            blocking.offloaded = True
            outcome.offload.append(index)
            offloaded.append(blocking.line)
    if offloaded:
        outcome.reasons.append(
            AM115.reason(
                "offloaded the blocking helper calls at line "
                f"{', '.join(map(str, dict.fromkeys(offloaded)))} to run_in_threadpool"
            )
        )


def _still_blocking(outcome: Outcome, work: SessionWork, project: Project) -> None:
    remaining = [b for b in outcome.blocking if not b.offloaded]
    if remaining:
        outcome.reasons.append(
            AM116.reason(
                "still blocks the event loop at "
                + ", ".join(f"line {b.line} ({b.call})" for b in remaining)
            )
        )
    elif not outcome.blocking:
        entered = {b.line for b in outcome.handler.function.bindings if b.entered}
        closed = [line for line in work.opened if line in entered]
        if closed and not work.used and outcome.handler.kind in HOOK_KINDS:
            # no call of its own on it: the `with` block's end is the only Session work it does
            outcome.reasons.append(AM116.reason(
                f"still blocks the event loop at the end of the `with` block of line {', '.join(map(str, closed))}, "
                "which closes the Session it opens there on the loop: a ROLLBACK where a handler using it left its "
                "transaction open"
            ))
            return
        if _only_unverified(project, outcome.handler, work):
            return  # what it may block through is unverified (AM125 says so), not known to block
        names = ", ".join(f"`{name}`" for name in work.used) or "its Session"
        outcome.reasons.append(AM116.reason(f"still blocks the event loop through {names}"))


def _only_unverified(project: Project, handler: Handler, work: SessionWork) -> bool:
    """Whether the handler's only Session evidence is calls the analysis cannot resolve: no definite
    blocking work (`own_blocking`, which leaves out a Session used only at such calls) and nothing
    offloaded, but unverified calls (`work.unverified`)."""
    if not work.unverified or work.opened or work.in_coroutines or any(b.offloaded for b in work.blocking):
        return False
    return not own_blocking(project, handler.id, work, streamed_lines(handler.function))


def _threadpool_keyword(outcome: Outcome, index: int) -> str | None:
    """A keyword argument of the call that run_in_threadpool would take as its own parameter
    `func` (`apply(db, func="lower")`), or an unpacked mapping that may hold one (`**options`)."""
    for call in outcome.handler.function.calls:
        if call.index != index:
            continue
        if any(arg.keyword == "func" for arg in call.args):
            return "the keyword `func=`"
        if call.unpacks_keywords:
            return "a `**` mapping, which may hold the keyword `func`"
    return None


def _offloadable(outcome: Outcome, index: int) -> bool:
    for call in outcome.handler.function.calls:
        if call.index == index and not call.offloaded:
            return offloadable_call(call)
    return False


def offloadable_call(call: facts.Call) -> bool:
    """Whether `--offload-mixed` can write the call as `await run_in_threadpool(...)` where it
    stands: read in place (a statement, a test, an operand, `if (u := f(db)) is None:`,
    `return a if f(db) else b`), not awaited, outside nested scopes and generator expressions."""
    return call.in_place and not call.awaited and not call.nested and not call.in_generator
