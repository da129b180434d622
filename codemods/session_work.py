"""What a function does with a synchronous Session, read off the project index.

Shared by phase one (is there blocking work to move off the loop?), `check`
(is an `async def` still blocking?) and the reports.

Over 500 lines: one record of a function's Session work whose parts (its own calls, the helpers
and coroutines it reaches, its decorators' wrappers, what serialising its response runs) are
built together, each part read by phase one, `check` and the reports alike.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field

from async_migrate.codemods import facts
from async_migrate.codemods.decorator_work import decorators_on_loop, plain_wrapper_io
from async_migrate.codemods.flow import FACTORY, SESSION
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.phase2 import scheduled
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.serialised_reads import serialised_unverified, serialised_work
from async_migrate.codemods.session_methods import session_method_calls
from async_migrate.codemods.vocabulary import OFFLOADERS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    LAZY_RESULTS,
    RESULT_CONSUMERS,
    SESSION_IO_METHODS,
    SYNC_METHODS,
)
from async_migrate.codemods.vocabulary.starlette import ITERATE_IN_THREADPOOL, STREAMING_RESPONSE

_BUILTINS = frozenset(dir(builtins))

# Special methods Python awaits itself, for the statement that runs them.
_PROTOCOL_METHODS = {"__aenter__": "`async with`", "__aexit__": "`async with`", "__anext__": "`async for`"}
_ASYNC_CONTEXTMANAGER = "contextlib.asynccontextmanager"


@dataclass(slots=True)
class CoroutineWork:
    """Session work that runs on the event loop whatever phase one does to the handler.

    Inside a nested `async def` or async generator of the handler (`scope` names it),
    or inside an `async def` helper it calls (`helper` names it, `inner` lists where
    that helper blocks, as `path:line (call)`).
    """

    line: int  # in the handler
    call: str
    scope: str | None = None
    helper: str | None = None
    inner: list[str] = field(default_factory=list)
    # The helper as the call spells it (`repo.get` for a method reached through an object).
    written: str | None = None
    # The helper's own first await (`at path:line (text)`): it cannot simply become a plain def.
    awaits: str | None = None
    # The helper is an async generator: what it yields is iterated, by `async for` or by a
    # `StreamingResponse`, so run_in_threadpool() of it would only build the generator.
    generator: bool = False
    # A plain def helper whose own nested coroutine does the work (`return gen()`, `gen` an async
    # generator): calling it runs none of that; the event loop iterates what it returns.
    nested: str | None = None
    # The concurrent scheduler the helper's coroutine, handed the Session, goes to (`asyncio.gather()
    # at line 12`): each call there wrapped in `run_in_threadpool` would use the Session from a
    # thread of its own at the same time (check's AM335).
    beside: str | None = None
    # The async generator is an `@asynccontextmanager` (`async with session_scope() as db:`): the
    # loop runs its body around the block; no `StreamingResponse` iterates it.
    entered: bool = False

    def calls(self) -> str:
        """How a reason names the call, up to "the event loop iterates": the async generator
        helper ("..., which"), or the plain helper ("..., whose nested coroutine `gen`")."""
        if self.nested is not None:
            return f"calls {self.helper} at line {self.line}, whose nested coroutine `{self.nested}`"
        if self.entered:
            return f"enters the `@asynccontextmanager` helper {self.helper} at line {self.line}, which"
        return f"calls the async generator helper {self.helper} at line {self.line}, which"

    def helper_fix(self, named: bool = True) -> str:
        """How to take the helper's Session work off the loop: a helper that awaits itself cannot be
        a plain def run in the threadpool, only its blocking part can. `named`: say the helper's
        name (else "it", the text having named it)."""
        short = (self.helper or "").rsplit(".", 1)[-1]
        if self.nested is not None:
            return (
                f"make `{self.nested}` in {short} a plain def (a sync generator streams from the threadpool), or move "
                "its work to AsyncSession (phase two)"
            )
        if short in _PROTOCOL_METHODS:
            # `async with uow:` awaits `__aexit__` itself: it cannot become a plain def, nor be offloaded
            return (
                f"{short} runs for {_PROTOCOL_METHODS[short]}, which awaits it, so it stays `async def`: move its "
                f"Session work into a plain def that {short} calls as `await run_in_threadpool(...)`, or move it to "
                "AsyncSession (phase two)"
            )
        if self.beside is not None and not self.generator:
            return (
                f"{'it' if not named else short} runs inside {self.beside} with the Session it is given: wrapping "
                "each such call there in `run_in_threadpool` would use that one Session from several threads at "
                "once (it is not thread-safe, check's AM335); move its Session work, with that of the other calls "
                "there on the Session, into one plain def helper running them one after another, awaited as "
                "`await run_in_threadpool(helper, ...)`, or move it to AsyncSession (phase two)"
            )
        if self.entered and self.awaits is None:
            return (
                f"make {'it' if not named else short} a `@contextmanager` plain def generator entered with `with` "
                "from a plain def (phase one converts a route awaiting nothing else), or move it to AsyncSession "
                "(phase two gives one doing only its Session's lifecycle an `@asynccontextmanager` twin on the async "
                "sessionmaker)"
            )
        if self.generator and self.awaits is None:
            return (
                f"make {'it' if not named else short} a plain def generator, which a `StreamingResponse` iterates in "
                "the threadpool (elsewhere `async for` over `iterate_in_threadpool(...)` does), or move it to "
                "AsyncSession (phase two)"
            )
        if not named and self.awaits is None:
            return (
                f"make it a plain def and call it as `await run_in_threadpool({self.callable}, ...)`, or move it "
                "to AsyncSession (phase two)"
            )
        if self.awaits is not None:
            return (
                f"{short} awaits too, {self.awaits}, so it cannot become a plain def: move its Session work "
                f"into a plain def helper that {short} calls as `await run_in_threadpool(helper, ...)`, or move "
                "it to AsyncSession (phase two)"
            )
        return (
            f"make {short} a plain def and call it with `await run_in_threadpool({self.callable}, ...)`, or move "
            "it to AsyncSession (phase two)"
        )

    @property
    def callable(self) -> str:
        """What `run_in_threadpool(...)` would be handed: the bound method, or the function."""
        return self.written or (self.helper or "").rsplit(".", 1)[-1]


@dataclass(slots=True)
class SessionWork:
    params: dict[str, str] = field(default_factory=dict)  # session parameter -> why it is one
    used: list[str] = field(default_factory=list)  # session parameters the body uses
    unused: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # lines where the function opens a Session
    opening_callees: list[tuple[int, str, list[str]]] = field(default_factory=list)
    passes_to: list[tuple[int, str]] = field(default_factory=list)  # helpers handed the Session
    blocking: list[Blocking] = field(default_factory=list)
    helper_calls: dict[int, Blocking] = field(default_factory=dict)  # call index -> blocking helper call
    in_coroutines: list[CoroutineWork] = field(default_factory=list)
    # Session work reached through objects and other openers (codemods/flow.py):
    own: list[tuple[int, str]] = field(default_factory=list)  # its own, beyond `opened`: `self.db.query()`
    reached: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line, callee, chain)
    # Session-carrying calls the analysis cannot resolve, and chains down to one: (line, text).
    unverified: list[tuple[int, str]] = field(default_factory=list)
    # Work its decorators' `async def` wrappers do on the loop around it: (line, decorator, where).
    decorated: list[tuple[int, str, str]] = field(default_factory=list)
    # (line, callee) of `reached` -> why the call only may run it (`Flow.by_name`)
    maybe: dict[tuple[int, str], str] = field(default_factory=dict)
    # Members of the returned object a route's response model reads while FastAPI serialises it
    # (`AccountOut.entry_count` on an Account whose property queries): (line, field, chain).
    serialised: list[tuple[int, str, list[str]]] = field(default_factory=list)
    # Lines handing the Session to a helper that only keeps it (`ShopContext(db)`, its `__init__`
    # storing `self.db = db`): a use, but no work there.
    stored: list[int] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(
            self.used or self.opened or self.opening_callees or self.in_coroutines or self.own or self.reached
            or self.decorated or self.serialised
        )


def session_work(project: Project, fid: FunctionId) -> SessionWork:
    """What `fid` does with a synchronous Session. Phase one's rule, `check`, scan's preview and
    the reports each ask for a handler's; it is worked out once per project. Every caller gets
    its own Blocking records, since phase one and the report mark offloaded calls on them; the
    other lists are shared and must not be changed."""
    return _copy(session_work_view(project, fid))


def session_work_view(project: Project, fid: FunctionId) -> SessionWork:
    """`session_work` for a caller that only reads it: the one record kept for the project, not
    a copy (copying every Blocking record costs more than the question asked: `.any`, `.used`)."""
    known: dict[FunctionId, SessionWork] = project.derived.setdefault("session_work", {})  # type: ignore[assignment]
    work = known.get(fid)
    if work is None:
        work = known[fid] = _session_work(project, fid)
    return work


def handed_held_sessions(project: Project, fid: FunctionId) -> list[tuple[facts.Call, str]]:
    """The calls of project functions `fid` makes handing them a Session it holds under no name
    of its own (`crud.count(SHARED, Vendor)` on a module-level `SHARED = SessionLocal()`, or a
    router factory's `shared` read by a route it defines), each with that argument's reference.
    A scoped_session (a factory too) is left to the registry's own checks."""
    found = []
    flow = project.flow
    for edge in project.calls_from[fid]:
        for arg in edge.call.args:
            if arg.ref is None:  # a local name or an expression
                continue
            kinds = {v.kind for v in flow.evaluate(fid, arg.ref)}
            if SESSION in kinds and FACTORY not in kinds:
                found.append((edge.call, arg.ref))
                break
    return found


def _copy(work: SessionWork) -> SessionWork:
    """Its own Blocking records (and the list holding them, which an Outcome takes over); the
    other lists are shared, and no caller changes them."""
    if not work.blocking:
        blocking: list[Blocking] = []
        helper_calls: dict[int, Blocking] = {}
    else:
        fresh = {id(b): Blocking(b.line, b.call, b.offloaded) for b in work.blocking}
        blocking = list(fresh.values())
        # The same records as in `blocking`: offloading a helper call marks it there too.
        helper_calls = {index: fresh[id(b)] for index, b in work.helper_calls.items()}
    return SessionWork(
        work.params, work.used, work.unused, work.opened, work.opening_callees, work.passes_to, blocking,
        helper_calls, work.in_coroutines, work.own, work.reached, work.unverified, work.decorated, work.maybe,
        work.serialised, work.stored,
    )


def _session_work(project: Project, fid: FunctionId) -> SessionWork:
    _, function = project.functions[fid]
    work = SessionWork(params=dict(project.session_params[fid]))
    for name in work.params:
        (work.used if _works_with(project, function, name) else work.unused).append(name)
    work.opened = [o.line for o in project.opens_directly(fid)]
    names = project.session_names_view(fid)
    closure_names = names - work.params.keys() - project.opened_names(function)
    for call in function.calls:
        if call.receiver in names and call.method in SESSION_IO_METHODS:
            text = f"{call.receiver}.{call.method}()"
            # Offloaded work (`to_thread(lambda: s.execute(...))`) is listed as offloaded: the
            # Session is used, and what runs where is known.
            work.blocking.append(Blocking(call.line, text, offloaded=call.offloaded or call.streamed))
            if call.coroutine is not None and not call.offloaded:
                work.in_coroutines.append(CoroutineWork(call.line, text, scope=call.coroutine))
        elif call.offloaded and call.receiver is None:
            # The Session's bound method handed to the thread (`to_thread(session.scalar, stmt)`):
            # the lambda form's work, as written; its arguments are calls of their own.
            given = call.func or ""
            head, dot, method = given.removeprefix("$").rpartition(".")
            if dot and given.startswith("$") and head in names and method in SESSION_IO_METHODS:
                work.blocking.append(Blocking(call.line, f"{head}.{method}()", offloaded=True))
    for call, subclass_method, _ in session_method_calls(project, fid):
        # `db.get_or_404(...)` of a project Session subclass: its work at the call, and, a
        # project method run on the Session as a helper is, offered for offloading
        callee_module, callee = project.functions[subclass_method]
        in_thread = call.offloaded or call.streamed
        blocking = Blocking(call.line, f"{callee_module.name}.{callee.qualname}(...)", offloaded=in_thread)
        work.blocking.append(blocking)
        if not in_thread and call.index >= 0 and project.event_loop_need(subclass_method) is None:
            work.helper_calls[call.index] = blocking
        elif call.coroutine is not None and not call.offloaded:
            work.in_coroutines.append(CoroutineWork(call.line, blocking.call, scope=call.coroutine))
    for line, text in _lazy_results_on_loop(project, function, names):
        work.blocking.append(Blocking(line, text))
    opened_lines = set(work.opened)
    threaded = project.own_work_offloaded(fid)
    streamed = streamed_lines(function)
    nested = project.own_work_in_coroutines(fid)
    for line, text in project.own_work(fid):
        if line not in opened_lines:
            work.own.append((line, text))
            work.blocking.append(Blocking(line, text, offloaded=(line, text) in threaded or line in streamed))
            if (line, text) in nested:
                # `db = request.state.db` read by a nested async generator: on the loop whatever the route is
                work.in_coroutines.append(CoroutineWork(line, text, scope=nested[line, text]))
    held = {id(call) for call, _ in handed_held_sessions(project, fid)}
    first_call: set[int] = set()  # the helper calls' entries offered for offloading (by id)
    refused: set[int] = set()  # call indices never offloaded: an implementation needs the loop
    for edge in project.all_calls_from[fid]:
        callee_module, callee = project.functions[edge.callee]
        name = f"{callee_module.name}.{callee.qualname}"
        if callee.is_async:
            # Only what this function hands over (its Session) or what the helper opens itself:
            # a Session the helper gets from other callers is theirs to report.
            if not edge.call.offloaded and (
                edge.session_args or _opens(project, edge.callee) or edge.callee in blocking_coroutines(project)
            ):
                inner = coroutine_blocking(project, edge.callee, {fid})
                if inner:
                    work.in_coroutines.append(
                        CoroutineWork(edge.call.line, f"{name}(...)", scope=edge.call.coroutine, helper=name,
                                      inner=inner, written=edge.via, awaits=first_await(callee_module, callee),
                                      generator=callee.is_generator, beside=_scheduled_beside(project, function, edge),
                                      entered=callee.is_generator and any(
                                          project.canonical(d.callee) == _ASYNC_CONTEXTMANAGER for d in callee.decorators
                                      ))
                    )
                    work.blocking.append(Blocking(edge.call.line, f"{name}(...)"))
                    continue
                if edge.session_args and offloads_session_work(project, edge.callee, {fid}):
                    # `await _delete(db_session=db)` where `_delete` runs its Session work in the
                    # threadpool: the Session is used, off the loop, as a direct offload would be
                    work.blocking.append(
                        Blocking(edge.call.line, f"{name}(...), which runs it in a worker thread", offloaded=True)
                    )
            chain = project.unverified_chain_of(edge) if not edge.call.offloaded else None
            if chain is not None:
                # awaited, it runs on the loop: what it cannot see is the caller's doubt too
                work.unverified.append(
                    (edge.call.line, f"calls {name} (line {edge.call.line}): {' -> '.join([callee.qualname, *chain])}")
                )
            continue
        nested_work = None if edge.call.offloaded else _nested_coroutine_work(project, edge.callee)
        if nested_work is not None:
            # What such a helper returns runs on the loop whatever its caller is: not the threadpool's.
            scope, inner = nested_work
            work.in_coroutines.append(
                CoroutineWork(edge.call.line, f"{name}(...)", scope=edge.call.coroutine, helper=name, inner=inner,
                              written=edge.via, generator=True, nested=scope)
            )
            work.blocking.append(Blocking(edge.call.line, f"{name}(...)"))
            continue
        chain = project.opens_session(edge.callee)
        opens = edge.via is None and (bool(project.opens_directly(edge.callee)) or bool(chain))
        works = project.work_chains.get(edge.callee)
        if opens:
            work.opening_callees.append((edge.call.line, name, chain))
        elif works is not None:
            work.reached.append((edge.call.line, name, [callee.qualname, *works]))
            if (guess := project.flow.by_name.get(id(edge.call))) is not None:
                work.maybe[edge.call.line, name] = guess
        if edge.session_args:
            work.passes_to.append((edge.call.line, name))
            if not opens and works is None and (
                stores_only(project, edge.callee) or keeps_for_readers(project, edge) or no_io_only(project, edge.callee)
            ):
                work.stored.append(edge.call.line)
                continue
        handed = id(edge.call) in held or bool(closure_names & set(edge.session_args.values()))
        if handed and not opens and works is None and any(line == edge.call.line for line, _ in work.own):
            continue  # the value flow saw it handed over already (`count(self.db)`)
        if handed and not (
            works is None and not opens and (stores_only(project, edge.callee) or keeps_for_readers(project, edge))
        ):
            # a Session held under no parameter of its own (a module-level `SHARED`, a router
            # factory's `db = SessionLocal()` its routes read), handed on: its own work, as on `self.db`
            work.own.append((edge.call.line, f"{name}(...)"))
        if edge.session_args or opens or works is not None or handed:
            in_thread = edge.call.offloaded or edge.call.streamed or _streamed(project, function, edge.call, callee)
            guess = project.flow.by_name.get(id(edge.call))
            text = f"{name}(...)" if guess is None else f"maybe {name}(...): {guess}"
            blocking = Blocking(edge.call.line, text, offloaded=in_thread)
            index = edge.call.index
            existing = next((
                b for b in work.blocking
                if b.line == blocking.line and b.call == blocking.call and b.offloaded == blocking.offloaded
            ), None)
            if existing is not None:
                # one call, several implementations of the same name, or another call of it on the
                # line (`f(db) + f(db)`): one entry, offered for offloading only with every call it
                # stands for. An offloaded call and one on the loop on the same line
                # (`await run_in_threadpool(load, db) if f else load(db)`) are two.
                if id(existing) in first_call and index >= 0:
                    if project.event_loop_need(edge.callee) is not None:
                        refused.add(index)
                        work.helper_calls.pop(index, None)
                    elif index not in refused:
                        work.helper_calls.setdefault(index, existing)
                continue
            work.blocking.append(blocking)
            # A helper that needs the running loop would fail in the threadpool: never offered for offloading.
            # (Nor a call a `with` statement makes itself, index -1: no expression to wrap.)
            if not in_thread and index >= 0 and project.event_loop_need(edge.callee) is None:
                work.helper_calls[index] = blocking
                first_call.add(id(blocking))
            elif index >= 0:
                refused.add(index)
                if edge.call.coroutine is not None:
                    work.in_coroutines.append(CoroutineWork(edge.call.line, f"{name}(...)", scope=edge.call.coroutine))
        elif not edge.call.offloaded and (chain := project.unverified_chain_of(edge)) is not None:
            work.unverified.append(
                (edge.call.line, f"calls {name} (line {edge.call.line}): {' -> '.join([callee.qualname, *chain])}")
            )
    work.unverified[:0] = project.own_unverified(fid)
    for decorator, where in decorators_on_loop(project, fid):
        text = f"@{decorator.text.lstrip('@')}"
        work.decorated.append((decorator.line, text, where))
        work.blocking.append(Blocking(decorator.line, f"{text}'s wrapper, at {where}"))
    for line, read, chain in serialised_work(project, fid):
        work.serialised.append((line, read, chain))
        work.blocking.append(Blocking(line, f"{read}, read by the response model"))
    for line, read, chain in serialised_unverified(project, fid):
        work.unverified.append((line, f"{read}, run by the response model: {' -> '.join(chain)}"))
    work.blocking.sort(key=lambda b: (b.line, b.call))
    return work


def _scheduled_beside(project: Project, function: facts.Function, edge: Edge) -> str | None:
    """The concurrent scheduler (`gather`, `create_task`, a task group) a coroutine handed the
    caller's Session goes to, as a reason names it, or None."""
    if not edge.session_args:
        return None
    tasks = scheduled.concurrent(project, function, edge.call)
    return f"`{scheduled.written(tasks[0])}()` at line {tasks[0].line}" if tasks else None


def _nested_coroutine_work(project: Project, fid: FunctionId) -> tuple[str, list[str]] | None:
    """A plain `def` function's Session calls inside a coroutine or async generator it defines
    (`def event_stream(db): async def gen(): ... db.scalars(...) ...; return gen()`): the first
    such coroutine and where it blocks (`path:line (call)`), or None."""
    module, function = project.functions[fid]
    if function.is_async:
        return None
    names = project.session_names_view(fid)
    found: dict[str, list[str]] = {}
    for call in function.calls:
        if call.coroutine is not None and not call.offloaded and call.receiver in names and call.method in SESSION_IO_METHODS:
            found.setdefault(call.coroutine, []).append(f"{module.path}:{call.line} ({call.receiver}.{call.method}())")
    for (line, text), scope in sorted(project.own_work_in_coroutines(fid).items()):
        found.setdefault(scope, []).append(f"{module.path}:{line} ({text})")
    if not found:
        return None
    scope = next(iter(found))
    return scope, found[scope]


def streamed_lines(function: facts.Function) -> set[int]:
    """Lines of a nested plain generator only a `StreamingResponse` runs (`return
    StreamingResponse(rows())` where `rows` opens `with session_scope() as s`): Starlette iterates
    it in the threadpool, so what a Session does there blocks no request."""
    return {c.line for c in function.calls if c.streamed} - {c.line for c in function.calls if not c.late}


def _streamed(project: Project, function: facts.Function, call: facts.Call, callee: facts.Function) -> bool:
    """A plain generator helper's generator handed straight to a `StreamingResponse`
    (`StreamingResponse(iter_rows(db))`) or to `iterate_in_threadpool(iter_rows(db))`: each step
    of it runs in the threadpool; calling the generator function runs none of its body."""
    if callee.is_async or not callee.is_generator or call.argument_of is None:
        return False
    outer = next((c for c in function.calls if c.index == call.argument_of), None)
    return outer is not None and project.canonical(outer.callee) in STREAMING_RESPONSE | ITERATE_IN_THREADPOOL


def own_blocking(
    project: Project, fid: FunctionId, work: SessionWork, streamed: frozenset[int] | set[int] = frozenset(),
    handed: list[Blocking] | None = None,
) -> list[Blocking]:
    """What blocks in `fid`'s own synchronous Session work, in this order: its Session and helper
    calls not offloaded, the Sessions it opens (but at `streamed` lines), what it hands on
    (`handed`: calls handing the Session to code outside the project); when none and nothing is
    offloaded, the first use of each Session it uses in a way the index cannot name (but one used
    only at calls it cannot resolve, `work.unverified`: unverified, not definite; or only handed to
    helpers that keep it, `work.stored`: no work)."""
    _, function = project.functions[fid]
    found = [b for b in work.blocking if not b.offloaded]
    found.extend(Blocking(o.line, f"{o.callee}()") for o in project.opens_directly(fid) if o.line not in streamed)
    found.extend(handed or ())
    if not found and not any(b.offloaded for b in work.blocking):
        unsure = {line for line, _ in work.unverified}
        for name in work.used:
            lines = [line for line in function.name_uses.get(name, []) if line]
            if lines and set(lines) <= unsure | set(work.stored):
                # handed only to calls the analysis cannot resolve (`await hooks.fire(db)` running
                # coroutines a registry holds): unverified, as those calls are, never definite; or
                # only to helpers that keep it (`return ShopContext(db)`): no work at all
                continue
            found.append(Blocking(min(lines) if lines else function.line, f"uses the Session `{name}`"))
    return found


def coroutine_blocking(project: Project, fid: FunctionId, seen: set[FunctionId] | None = None) -> list[str]:
    """Where an `async def` function blocks the event loop with a synchronous Session.

    `path:line (call)` for its own Session calls and blocking helper calls, and,
    through the `async def` helpers it calls, theirs. [] when it does not block.
    """
    seen = set() if seen is None else seen
    if fid in seen:
        return []
    seen.add(fid)
    module, _ = project.functions[fid]
    work = session_work_shallow(project, fid)
    found = [f"{module.path}:{b.line} ({b.call})" for b in work.blocking if not b.offloaded]
    for edge in project.all_calls_from[fid]:
        if project.functions[edge.callee][1].is_async and not edge.call.offloaded and (
            edge.session_args or _opens(project, edge.callee) or edge.callee in blocking_coroutines(project)
        ):
            found.extend(coroutine_blocking(project, edge.callee, seen))
    return found


def offloads_session_work(project: Project, fid: FunctionId, seen: set[FunctionId]) -> bool:
    """Whether the `async def` function `fid`, handed a Session, runs Session work in a worker
    thread (`await run_in_threadpool(crud.list, db)`), itself or through the `async def` helpers it
    awaits handing it on. Only asked where `coroutine_blocking` found nothing on the loop."""
    if fid in seen:
        return False
    seen.add(fid)
    _, function = project.functions[fid]
    names = project.session_names_view(fid)
    for call in function.calls:
        if call.offloaded and (
            call.receiver in names or (call.func or "").removeprefix("$").partition(".")[0] in names
        ):
            return True  # `to_thread(lambda: db.execute(...))`, `to_thread(db.execute, stmt)`
    if session_handoffs(project, fid):
        return False  # handed to a library on the loop as well: the caller's fallback names it
    for edge in project.all_calls_from[fid]:
        if not edge.session_args:
            continue
        if edge.call.offloaded:
            return True
        if project.functions[edge.callee][1].is_async and offloads_session_work(project, edge.callee, seen):
            return True
    return False


def session_handoffs(project: Project, fid: FunctionId) -> list[facts.Call]:
    """Calls that hand the function's synchronous Session to code outside the project.

    `paginate(session, query)` runs its queries on that Session: blocking work
    the index cannot see into, at a line it can name.
    """
    _, function = project.functions[fid]
    names = project.session_names_view(fid)
    through_objects = {edge.call.index for edge in project.all_calls_from[fid] if edge.via is not None}
    found = []
    for call in function.calls:
        if call.receiver in names or call.callee is None or call.index in through_objects:
            continue
        if not any(arg.name in names for arg in call.args):
            continue
        if project.function(call.callee) is not None or call.callee in _BUILTINS:
            continue
        if project.canonical(call.callee) in OFFLOADERS or call.offloaded:
            continue
        if project.context_variable_write(call) is not None:
            continue  # stored for the request, not used: the code reading it back does the work
        found.append(call)
    return found


def blocking_coroutines(project: Project) -> frozenset[FunctionId]:
    """`async def` functions that block the event loop with a Session of their own.

    One they open or reach through an object (`self.db.query(...)` in an `async def`
    method), one a sync helper they call opens or holds, or one an `async def` they
    call does: whoever calls them runs that work on the loop. A Session handed in
    as a parameter is the caller's to report (it knows what it passed).
    """
    cached = project.derived.get("blocking_coroutines")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found = {
        fid for fid, (_, function) in project.functions.items()
        if function.is_async and (fid in project.work_chains or _opens(project, fid))
    }
    frontier = list(found)
    while frontier:
        callee = frontier.pop()
        for edge in project.all_calls_to[callee]:
            if edge.caller in found or edge.call.offloaded or not project.functions[edge.caller][1].is_async:
                continue
            found.add(edge.caller)
            frontier.append(edge.caller)
    result = frozenset(found)
    project.derived["blocking_coroutines"] = result
    return result


def stores_only(project: Project, fid: FunctionId, seen: frozenset[FunctionId] = frozenset()) -> bool:
    """Whether `fid` is an `__init__` that keeps the Session it receives and does no Session IO
    (`self.db = db`): building a repository is no work; calling its methods is, and is reported
    there. A service building its repositories from it (`self.items = ItemRepository(db)`) only
    stores it too, when those `__init__`s do. Anything else it does with the Session (a query,
    another helper handed it) counts."""
    _, function = project.functions[fid]
    if _factory_only(project, fid, seen):
        return True
    if function.name != "__init__" or "." not in function.qualname or function.is_async or fid in seen:
        return False
    return not session_work_shallow(project, fid).blocking and not any(
        edge.session_args and not stores_only(project, edge.callee, seen | {fid})
        for edge in project.all_calls_from[fid]
    )


def keeps_for_readers(project: Project, edge: Edge) -> bool:
    """Whether the plain helper `edge` calls does nothing with the Session it is handed but store
    it in a context variable whose readers the analysis follows (`def set_session(s): return
    _current.set(s)`), or leave it unused: no I/O there; the code reading it back does the work."""
    _, callee = project.functions[edge.callee]
    if callee.is_async or not edge.session_args:
        return False
    # Read from the callee's own body, not its whole session_work: helpers handing the Session
    # to each other (ping(db) -> pong(db) -> ping(db)) would ask for each other's without end.
    params = project.session_params[edge.callee]
    return all(param in params and not _works_with(project, callee, param) for param in edge.session_args)


# Session methods doing no I/O that leave what the objects hold loaded: `expire()` does no I/O
# either, but the next read of what it expired does (a lazy load, MissingGreenlet on AsyncSession).
_NO_IO = SYNC_METHODS - {"expire", "expire_all", "no_autoflush"}


def no_io_only(
    project: Project, fid: FunctionId, names: Iterable[str] | None = None, skip_decorators: bool = False
) -> bool:
    """Whether the plain helper `fid` uses the Sessions it is handed only through Session methods
    that do no I/O (`db.add(obj)`, `add_all`, `expunge`: `_NO_IO`, plain methods on AsyncSession
    too), handing them nowhere else and opening none: nothing there blocks, and
    handed an AsyncSession it works as it is, called neither awaited nor offloaded. `names`: the
    parameters to judge (the self-check's, handed the AsyncSession), else its Session parameters.
    Its decorators' plain wrappers count (`decorator_work.plain_wrapper_io`), unless
    `skip_decorators`: its own body alone."""
    _, callee = project.functions[fid]
    params = list(names) if names is not None else list(project.session_params.get(fid, {}))
    if callee.is_async or callee.is_generator or not params or fid in project.work_chains:
        return False
    if _opens(project, fid) or project.own_work(fid):
        return False
    if any(e.session_args for e in project.all_calls_from[fid]):
        return False  # handed on: the next helper's work is this one's
    if not skip_decorators and plain_wrapper_io(project, fid, params):
        # `@transactional` committing the Session after the call: every call does that I/O (or,
        # its wrapper unread, may)
        return False
    for param in params:
        calls = [c for c in callee.calls if c.receiver == param]
        if not calls or any(c.method not in _NO_IO or c.offloaded or c.nested for c in calls):
            return False
        if any(a.name == param or f"${param}" in a.displayed for c in callee.calls for a in c.args):
            return False
        # every use of the name is one of those calls: not returned, stored, or read otherwise
        if len(callee.name_uses.get(param, [])) != len(calls):
            return False
    return True


def moved_by_wrapper(project: Project, fid: FunctionId, decorator: facts.Decorator) -> str:
    """Why a plain helper whose own body only adds moves to `async def` at all, when `decorator`'s
    plain wrapper does (or may do) Session I/O on the Session it is handed (`@transactional`
    committing it): ` (it moves ...: ...)`, else ""."""
    found = [io for io in plain_wrapper_io(project, fid) if io.decorator is decorator]
    if not found or not no_io_only(project, fid, skip_decorators=True):
        return ""
    return f" (it moves to `async def` though its own Session calls do no I/O: {found[0].shown()})"


def builds_only(project: Project, fid: FunctionId) -> bool:
    """A classmethod factory that does nothing but build its class around the Session (`return
    cls(db)`, calling no function but the `__init__`s): when its class moves to the AsyncSession
    it stays a plain `def` and its callers do not await it, as a construction is not awaited
    (`await ItemServiceAsync.from_session(db).add(name)`)."""
    function = project.functions[fid][1]
    return not function.is_generator and _factory_only(project, fid, frozenset()) and all(
        project.functions[edge.callee][1].name == "__init__" for edge in project.all_calls_from[fid]
    )


def _factory_only(project: Project, fid: FunctionId, seen: frozenset[FunctionId]) -> bool:
    """`@classmethod def from_session(cls, db): return cls(db)`: a factory that only builds the
    class it is called on around the Session, each such class's `__init__` storing it. No work of
    its own: the methods called on what it returns are (the value flow reads it as that class)."""
    _, function = project.functions[fid]
    if function.is_async or fid in seen or not function.params or not project.flow.is_classmethod(fid):
        return False
    built = f"${function.params[0].name}"
    if not function.returned or any(expression != f"{built}()" for expression in function.returned):
        return False
    owner = project.flow.classes.owner(fid)
    if owner is None or session_work_shallow(project, fid).blocking:
        return False
    inits = {
        init for ref in (owner, *project.flow.classes.subclasses(owner))
        for init in project.flow.classes.method(ref, "__init__")[0]
    }
    edges = [e for e in project.all_calls_from[fid] if e.session_args]
    return bool(inits) and all(e.call.func == built for e in edges) and all(
        stores_only(project, init, seen | {fid}) for init in inits
    )


def _opens(project: Project, fid: FunctionId) -> bool:
    return bool(project.opens_directly(fid)) or bool(project.opens_session(fid))


def session_work_shallow(project: Project, fid: FunctionId) -> SessionWork:
    """`session_work` without following `async def` helpers (they are followed by the caller)."""
    _, function = project.functions[fid]
    work = SessionWork()
    names = project.session_names_view(fid)
    for call in function.calls:
        if call.receiver in names and call.method in SESSION_IO_METHODS and not call.offloaded:
            work.blocking.append(Blocking(call.line, f"{call.receiver}.{call.method}()"))
    for opened in project.opens_directly(fid):
        work.blocking.append(Blocking(opened.line, f"{opened.callee}()"))
    opened_lines = {b.line for b in work.blocking}
    threaded = project.own_work_offloaded(fid)  # `db = await run_in_threadpool(SessionLocal)`
    for line, text in project.own_work(fid):  # `self.db.query()`, `with UnitOfWork() as uow`
        if line not in opened_lines:
            work.blocking.append(Blocking(line, text, offloaded=(line, text) in threaded))
    for edge in project.all_calls_from[fid]:
        callee_module, callee = project.functions[edge.callee]
        if callee.is_async:
            continue
        opens = bool(project.opens_directly(edge.callee)) or bool(project.opens_session(edge.callee))
        if edge.session_args and not opens and edge.callee not in project.work_chains and (
            stores_only(project, edge.callee) or keeps_for_readers(project, edge) or no_io_only(project, edge.callee)
        ):
            continue
        if edge.session_args or opens or edge.callee in project.work_chains:
            name = f"{callee_module.name}.{callee.qualname}"
            work.blocking.append(Blocking(edge.call.line, f"{name}(...)", offloaded=edge.call.offloaded))
    work.blocking.sort(key=lambda b: (b.line, b.call))
    return work


def _works_with(project: Project, function: facts.Function, name: str) -> bool:
    """Whether the body uses the Session parameter `name` beyond storing it: stored in a context
    variable whose readers the analysis follows (`request_session.set(db)`, its `.get()` is this
    Session where it is read), and then handed back bare (`return db`), does no I/O."""
    uses = set(function.name_uses.get(name, []))
    if not uses:
        return False
    written = len(uses)
    for call in function.calls:
        if call.callee is not None and call.callee.endswith(".set") and any(a.name == name for a in call.args) and (
            project.context_variable_write(call) is not None
            and project.flow.context_variable(call.callee.rpartition(".")[0])
        ):
            uses.discard(call.line)
    if not uses:
        return False
    # handed back bare besides: only beside such a store (a wrapper returning the Session it got is
    # judged by what its callers do with it)
    if len(uses) == written or name not in function.yields or len(uses) != 1:
        return True
    if any(source == name for _, source in function.rebinds):
        return True
    (line,) = uses
    # the one line left is the bare `return db` / `yield db`: nothing else on it touches the Session
    return any(
        c.line == line and (c.receiver == name or any(a.name == name for a in c.args)) for c in function.calls
    ) or any(at == line and receiver == name for at, receiver, _ in function.attributes)


def first_await(module: facts.Module, function: facts.Function) -> str | None:
    """`path:line (text)` of a function's first await of its own body; None when it awaits nothing."""
    if not function.awaits:
        return None
    line, text = function.awaits[0]
    return f"at {module.path}:{line} (`{text}`)"


def _lazy_results_on_loop(
    project: Project, function: facts.Function, names: set[str] | frozenset[str]
) -> list[tuple[int, str]]:
    """A Query or Result a call run in the threadpool returned, consumed back on the event loop
    (`q = await run_in_threadpool(lambda: db.query(M))` then `q.all()`; `result = await
    to_thread(db.execute, stmt)` then `for row in result`): the thread only built the Query (or
    ran the statement), and the query (or the fetching of its rows) runs on the loop."""
    lines: dict[int, set[int]] = {}  # offloading call's line -> its indexes
    for call in function.calls:
        if call.offloaded or call.nested:
            continue
        if call.method == "run_in_executor" or (
            call.callee is not None and project.canonical(call.callee) in OFFLOADERS
        ):
            lines.setdefault(call.line, set()).add(call.index)
    if not lines:
        return []
    lazy: set[int] = set()  # indexes of offloading calls returning a lazy Query or Result
    for line, indexes in lines.items():
        funcs = [c for c in function.calls if c.offloaded and c.line == line and (c.func or "").startswith("$")]
        for call in funcs:
            head, _, method = (call.func or "").removeprefix("$").partition(".")
            if head not in names or method not in LAZY_RESULTS:
                continue
            if method == "query" and call.query_chain is not None:
                last = call.query_chain.rstrip(")").rpartition(".")[2].partition("(")[0]
                if last not in RESULT_CONSUMERS and not any(
                    (c.func or "").startswith(f"${head}.query().") and (c.func or "").rpartition(".")[2] in RESULT_CONSUMERS
                    for c in funcs
                ):
                    lazy |= indexes
            elif not any((c.func or "").startswith(f"${head}.{method}().") for c in funcs):
                lazy |= indexes
    if not lazy:
        return []
    at = {index: line for line, indexes in lines.items() for index in indexes}
    holders = {
        name: at[t[1]] for name, terms in function.holds.items() for t in terms if t[0] == "call" and t[1] in lazy
    }
    found: list[tuple[int, str]] = []
    for call in function.calls:
        if not call.offloaded and call.receiver in holders and call.method in RESULT_CONSUMERS:
            found.append((call.line, f"{call.receiver}.{call.method}() (on the {_what(call.receiver)} the threadpool returned)"))
    iterated = {
        name for terms in function.holds.values() for t in terms
        if t[0] == "iter" and t[1][0] == "name" and (name := t[1][1]) in holders
    }
    for name in sorted(iterated):
        if not any(f.startswith(f"{name}.") for _, f in found):
            line = max(function.name_uses.get(name, [holders[name]]))
            found.append((line, f"iterating {name} (the {_what(name)} the threadpool returned)"))
    return found


def _what(name: str) -> str:
    return f"unrun Query or unread Result `{name}`"
