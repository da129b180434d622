"""AsyncSession coroutine methods called without `await` (check's AM311), and calls an
AsyncSession cannot take (AM302).

Code moved to AsyncSession by hand keeps calls written for the synchronous Session
(`session.commit()`: a coroutine nobody runs, nothing written, a 200). `unawaited_session_calls`
finds them on a parameter declared an AsyncSession, or the `self.` attribute its class keeps one in,
in a handler and the project functions it calls. A call held and awaited later, handed to another
call or offloaded runs elsewhere; a method a local name holds and calls unawaited (`finish =
session.commit`), a call handed to a builtin that never runs it (`print(...)`), and one on the
Session a nested function or lambda takes as a parameter's default (`(lambda s=db: s.commit())()`,
`astcollect.default_scopes`) are found. `misused_sessions` reads the AsyncSessions the function opens
or is handed too, and finds what raises on them: methods AsyncSession lacks (`db.query(User)`), an
AsyncResult iterated with a plain `for`, a streaming statement, `get_bind()`'s Engine, a synchronous
context manager entered with `async with`.

Over 500 lines: both readings walk the same handler and the helpers it calls, on the same
AsyncSessions; apart, each would repeat that walk.
"""

from __future__ import annotations

from collections.abc import Iterator

from async_migrate.codemods import facts
from async_migrate.codemods.decorator_work import plain_wrapper_io, unawaited_loop_work, wrapper_io
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.vocabulary.python import NEVER_RUN
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_CONNECTION_COROUTINES,
    ASYNC_RESULT_COROUTINES,
    ASYNC_RESULT_VIEWS,
    ASYNC_SESSION_ATTRIBUTES,
    ASYNC_SESSIONMAKERS,
    AWAITED_METHODS,
    SYNC_METHODS,
)

# Said of a coroutine made in a function a worker thread runs (`run_in_threadpool(lambda: ...)`).
THREADED = " in a function run in a worker thread"


def unawaited_session_calls(project: Project, fid: FunctionId) -> list[tuple[Blocking, str]]:
    """Each unawaited AsyncSession coroutine call the function `fid` or its project callees make,
    with where it is as shown: `line 12 (db.commit())` for its own, `crud/users.py:8
    (db.commit() in crud.users.create)` for a callee's."""
    found: list[tuple[Blocking, str]] = []
    for current, names, _exact in _walk(project, fid):
        module, function = project.functions[current]
        declared = set(project.declared_async_session_params(current))
        held = _held_async_sessions(project, current, module, function)
        later = _deferred(function, names, held) if names or held else {}
        handles = _async_handles(function, names) if names else {}
        for call in function.calls if names or held else ():
            if call.receiver in names and call.method in AWAITED_METHODS:
                text = f"{call.receiver}.{call.method}()"
            elif handles and (handle := _handle_coroutine(call, handles)) is not None:
                text = handle
            elif call.through_await is not None and (
                inline := _inline_coroutine(call.through_await, names, handles)
            ) is not None:
                text = inline
            elif call.func is not None and call.func.rpartition(".")[::2] in held:
                text = f"{call.func.removeprefix('$')}()"
            elif call.receiver is None and call.func is not None and call.func[1:] in later:
                text = f"{call.func[1:]}(), which runs {later[call.func[1:]]}"
            else:
                continue
            # in a function run in a worker thread (`to_thread(lambda: db.scalar(q))`): the thread
            # hands the coroutine back, and nothing awaits it
            threaded = call.offloaded and not call.greenlet
            if not threaded and (call.awaited or call.nested or call.offloaded or call.consumed or call.greenlet):
                continue
            # handed to a call, which may run it; a builtin that takes it as any object never does
            if call.argument_of is not None and not never_runs(project, function, call.argument_of):
                continue
            if call.held_in is not None or call.within:
                continue
            if threaded:
                text += THREADED
            shown = _shown(project, fid, current, call.line, text + _used_as_result(function, call))
            found.append((Blocking(call.line, text), shown))
        for line, param, default, method in function.default_calls if names else ():
            # `(lambda s=db: s.commit())()`: the nested scope calls the AsyncSession by another name,
            # where no `await` can stand, and nothing awaits what it hands back
            if default in names and method in AWAITED_METHODS:
                text = f"{param}.{method}() on `{default}`, the default of a nested function's or lambda's parameter"
                found.append((Blocking(line, text), _shown(project, fid, current, line, text)))
        if function.is_async and declared:
            found.extend(_plain_wrappers(project, current, declared))
            found.extend(_loop_wrappers(project, current, declared))
        elif not function.is_async and names:
            found.extend(_plain_def_wrapped(project, current, names))
    return _unique(found)


def _used_as_result(function: facts.Function, call: facts.Call) -> str:
    """What the line does with the coroutine as if it were the call's result (`await
    db.execute(q).scalars().all()`: the `await` takes the chain's last call, and `.scalars` is
    looked up on the coroutine), said beside the call; "" when nothing is."""
    if call.func is None:
        return ""
    prefix = f"{call.func}()."
    method = next(
        (c.func[len(prefix):].partition("(")[0] for c in function.calls
         if c.line == call.line and c.func is not None and c.func.startswith(prefix)),
        None,
    )
    if method is None:
        return ""
    written = call.func.removeprefix("$")
    return (
        f" with `.{method}(...)` called on it: an `await` before the chain awaits only its last call, and "
        f"`.{method}` looked up on the coroutine raises AttributeError; write `(await {written}(...)).{method}(...)`"
    )


def _async_handles(function: facts.Function, names: set[str]) -> dict[str, frozenset[str]]:
    """Local names bound once to what an awaited AsyncSession call hands back whose own methods are
    coroutines: `result = await db.stream(q)` (an AsyncResult), `conn = await db.connection()` (an
    AsyncConnection); each with those methods."""
    found: dict[str, frozenset[str]] = {}
    for name, terms in function.holds.items():
        if len(terms) != 1 or sum(1 for b in function.bindings if b.name == name) > 0:
            continue
        term = terms[0]
        # `db.stream(select(Post))` is held as rows of the load: ("tuple", (("row", ("load", 0)),))
        while term[0] in ("tuple", "row") and len(term) == 2 and isinstance(term[1], tuple) and term[1]:
            term = term[1][0] if term[0] == "tuple" and len(term[1]) == 1 else term[1]
        kind, index = term[0], term[1] if len(term) > 1 else None
        if kind == "call" and isinstance(index, int) and 0 <= index < len(function.calls):
            made = function.calls[index]
        elif kind == "load" and isinstance(index, int) and 0 <= index < len(function.loads):
            line = function.loads[index].line
            made = next((c for c in function.calls if c.line == line and c.receiver in names
                         and c.method in ("stream", "stream_scalars")), None)  # type: ignore[assignment]
        else:
            continue
        if made is None or not made.awaited or made.receiver not in names or made.nested:
            continue
        # `posts = (await db.stream(q)).all()` holds what `all()` gives, not the AsyncResult
        through = f"${made.receiver}.{made.method}()."
        if any(c.line == made.line and (c.through_await or "").startswith(through) for c in function.calls):
            continue
        if made.method in ("stream", "stream_scalars"):
            found[name] = ASYNC_RESULT_COROUTINES
        elif made.method == "connection":
            found[name] = ASYNC_CONNECTION_COROUTINES
    return found


def _handle_coroutine(call: facts.Call, handles: dict[str, frozenset[str]]) -> str | None:
    """`result.all()`, `result.scalars().first()`, `conn.execute(q)` on a name `_async_handles`
    found: the call as written, where its method is a coroutine of that object."""
    if call.func is None or not call.func.startswith("$"):
        return None
    head, _, rest = call.func[1:].partition(".")
    methods = handles.get(head)
    if methods is None or not rest:
        return None
    *steps, method = rest.split(".")
    if steps and (methods is not ASYNC_RESULT_COROUTINES or any(
        not step.endswith("()") or step[:-2] not in ASYNC_RESULT_VIEWS for step in steps
    )):
        return None
    return f"{call.func[1:]}()" if method in methods else None


def _inline_coroutine(spelled: str, names: set[str], handles: dict[str, frozenset[str]]) -> str | None:
    """`(await db.stream(q)).all()`, `(await db.stream(q)).scalars().first()`, `(await
    db.connection()).execute(q)`: a call through an awaited AsyncSession call (`Call.through_await`)
    of a coroutine method of what that call hands back, as written; else None."""
    head, _, rest = spelled.removeprefix("$").partition(".")
    opened, dot, rest = rest.partition(".")
    if not dot:
        return None
    if head in names and opened in ("stream()", "stream_scalars()"):
        methods = ASYNC_RESULT_COROUTINES
    elif head in names and opened == "connection()":
        methods = ASYNC_CONNECTION_COROUTINES
    elif handles.get(head) is ASYNC_CONNECTION_COROUTINES and opened in ("stream()", "stream_scalars()"):
        methods = ASYNC_RESULT_COROUTINES
    else:
        return None
    *steps, method = rest.split(".")
    if steps and (methods is not ASYNC_RESULT_COROUTINES or any(
        not step.endswith("()") or step[:-2] not in ASYNC_RESULT_VIEWS for step in steps
    )):
        return None
    return f"{spelled[1:]}()" if method in methods else None


def _sync_iterated(
    function: facts.Function, names: set[str], handles: dict[str, frozenset[str]], held: set[str]
) -> Iterator[tuple[int, str]]:
    """What the function iterates with a plain `for`, a comprehension or `list()` that is an
    AsyncResult or AsyncScalarResult (`await db.stream(q)`, `await session.stream_scalars(q)`, a
    name holding one, a view of it, `result.scalars()`; on an AsyncConnection too): (line, as
    written). Neither has `__iter__`, only `__aiter__`."""
    streamed = {
        (call.line, call.func) for call in function.calls
        if call.awaited and call.func is not None and call.func.rpartition(".")[2] in ("stream", "stream_scalars")
    }
    for line, spelled in function.sync_iterated:
        head, _, rest = spelled.removeprefix("$").partition(".")
        steps = rest.split(".") if rest else []
        if handles.get(head) is ASYNC_RESULT_COROUTINES:
            pass
        elif spelled.startswith("$self.") and len(steps) >= 2 and f"$self.{steps[0]}" in held:
            if steps[1] not in ("stream()", "stream_scalars()") or (line, f"$self.{steps[0]}.{steps[1][:-2]}") not in streamed:
                continue
            steps = steps[2:]
        elif steps and steps[0] in ("stream()", "stream_scalars()") and (
            head in names or handles.get(head) is ASYNC_CONNECTION_COROUTINES
        ):
            # `for r in db.stream(q)` iterates the coroutine: AM311's unawaited call, not this
            if (line, f"${head}.{steps[0][:-2]}") not in streamed:
                continue
            steps = steps[1:]
        else:
            continue
        if all(step.endswith("()") and step[:-2] in ASYNC_RESULT_VIEWS for step in steps):
            yield line, spelled[1:]


# AsyncSession methods that refuse a statement streaming from a server-side cursor (AsyncMethodRequired).
_BUFFERING = frozenset({"execute", "scalars", "scalar"})
_STREAMING_OPTIONS = ("yield_per", "stream_results", "max_row_buffer")


def _streamed(function: facts.Function, names: set[str]) -> Iterator[tuple[int, str]]:
    """Statements that stream rows from a server-side cursor run through `execute()`, `scalars()`
    or `scalar()` on one of `names` (AsyncSessions): `await db.scalars(select(Row).execution_options(
    yield_per=100))`, `execution_options={"stream_results": True}` given to the call, or a local name
    the statement was bound to last before the call (`stmt = select(Row).execution_options(yield_per=100)`,
    `stmt = stmt.execution_options(...)`, `stmt = stmt.where(...)` after one). Read where the
    statement is written in the call or on its line: (line, the call and the option)."""
    options = {
        other.index: arg.keyword for other in function.calls
        if (other.method or other.chained) == "execution_options"
        for arg in other.args if arg.keyword in _STREAMING_OPTIONS
    }
    for other in function.calls:
        if (other.method or other.chained) == "execution_options" and other.streams is not None and other.streams[1]:
            options.setdefault(other.index, other.streams[1])
    inline = [(other.argument_of, other.line, option) for other in function.calls
              if (option := options.get(other.index)) is not None]
    for call in function.calls:
        if call.nested or call.receiver not in names or call.method not in _BUFFERING:
            continue
        option = call.streams[1] if call.streams is not None else None
        if option is None:
            option = next((kw for of, line, kw in inline if of == call.index or line == call.line), None)
        if option is not None:
            yield call.line, f"{call.receiver}.{call.method}() with `{option}`"
            continue
        statement = next((arg.name for arg in call.args if arg.position == 0 or arg.keyword == "statement"), None)
        held = _held_streaming(function, options, statement, call.line) if statement is not None else None
        if held is not None:
            yield call.line, f"{call.receiver}.{call.method}({statement}) with `{held[0]}` set on `{statement}` at line {held[1]}"


def _held_streaming(
    function: facts.Function, options: dict[int, str], name: str, line: int, depth: int = 0
) -> tuple[str, int] | None:
    """(the option, the line binding it) where the binding of the local `name` last before `line`
    gives a statement streaming from a server-side cursor: an `execution_options(...)` call setting
    one (`options`, by call index), anywhere in its chain, or a chain on `name` itself whose binding
    before does. A binding inside a compound statement is taken only while no call hands `name` to
    `stream()`/`stream_scalars()` (a branch streaming it there, and running the plain one after)."""
    bindings = [b for b in function.bindings if b.name == name and b.line < line]
    if not bindings or depth > 8:
        return None
    binding = max(bindings, key=lambda b: b.line)
    if binding.entered or not binding.expr.endswith("()"):
        return None
    spelled = binding.expr[:-2]
    made = min(
        (c for c in function.calls if c.func == spelled and c.line >= binding.line and not c.nested),
        key=lambda c: c.line, default=None,
    )
    if made is None:
        return None
    if not made.top and any(
        c.method in ("stream", "stream_scalars") and any(a.name == name for a in c.args) for c in function.calls
    ):
        return None
    chain = [c for c in function.calls if c.func is not None and (c.func == spelled or spelled.startswith(c.func + "()."))]
    option = next((options[c.index] for c in chain if c.index in options), None)
    if option is not None:
        return option, binding.line
    if spelled.startswith(f"${name}."):
        return _held_streaming(function, options, name, binding.line, depth + 1)
    return None


# What connects on a synchronous Engine: on the one behind an AsyncSession, MissingGreenlet on the loop.
_ENGINE_CONNECTS = frozenset({"connect", "begin", "raw_connection"})


def _sync_engine_work(function: facts.Function, names: set[str]) -> Iterator[tuple[int, str]]:
    """Connections opened on the synchronous Engine `get_bind()` gives on one of `names`
    (AsyncSessions): `db.get_bind().connect()`, `engine = db.get_bind()` then `engine.begin()`.
    That Engine is the one the AsyncEngine wraps: it connects only inside `run_sync`, and on the
    event loop raises MissingGreenlet. `db.bind` is the AsyncEngine itself: not read here."""
    spelled = {f"${name}.get_bind()": f"{name}.get_bind()" for name in names}
    bound = {b.name for b in function.bindings if b.expr in spelled and not b.entered}
    for name in bound:
        if all(b.expr in spelled and not b.entered for b in function.bindings if b.name == name):
            spelled[f"${name}"] = name
    for call in function.calls:
        receiver, _, method = (call.func or "").rpartition(".")
        if not call.nested and receiver in spelled and method in _ENGINE_CONNECTS:
            yield call.line, f"{spelled[receiver]}.{method}()"


# Context managers an AsyncSession hands out that are synchronous ones: `with`, never `async with`.
_SYNC_MANAGERS = frozenset({"no_autoflush"})


def misused_sessions(project: Project, fid: FunctionId) -> tuple[
    list[tuple[Blocking, str]], list[tuple[Blocking, str]], list[tuple[Blocking, str]], list[tuple[Blocking, str]],
    list[tuple[Blocking, str]], list[tuple[Blocking, str]], list[tuple[Blocking, str]],
]:
    """On the plain AsyncSessions of `fid` and of the project functions it reaches, in one walk:

    - each call of a method AsyncSession does not have (`db.query(User)`, `db.bulk_save_objects(...)`):
      AttributeError when it runs. Only on a Session known to be a plain AsyncSession: an
      `async_sessionmaker(class_=...)` may make a subclass adding the method;
    - each `with` (no `async`) on one, or on a transaction it begins (`with db.begin():`,
      `with db.begin_nested():`, `with db:`): neither has `__enter__`, so the statement raises
      when it runs, before its block does anything;
    - each AsyncResult (`await db.stream(q)`, a name holding one, `result.scalars()`) iterated
      with a plain `for`, a comprehension or `list()`: TypeError, it takes `async for`;
    - each statement streaming from a server-side cursor (`execution_options(yield_per=...)`) run
      through `execute()`, `scalars()` or `scalar()` on any of its AsyncSessions: AsyncSession
      refuses it (AsyncMethodRequired), it takes `stream()` / `stream_scalars()`;
    - each connection opened on the synchronous Engine `get_bind()` gives on one of its
      AsyncSessions (`db.get_bind().connect()`): MissingGreenlet on the event loop;
    - each `async with` entering a synchronous context manager of one (`async with db.begin(),
      db.no_autoflush:`): `no_autoflush` has no `__aenter__`, so the statement raises TypeError;
    - each awaited call of a method AsyncSession keeps synchronous (`await db.add(user)`,
      `await db.expire(obj)`): it returns None (or a bool, an Engine), so the `await` raises TypeError."""
    missing: list[tuple[Blocking, str]] = []
    streamed: list[tuple[Blocking, str]] = []
    entered: list[tuple[Blocking, str]] = []
    iterated: list[tuple[Blocking, str]] = []
    engines: list[tuple[Blocking, str]] = []
    managers: list[tuple[Blocking, str]] = []
    awaited: list[tuple[Blocking, str]] = []
    for current, names, exact in _walk(project, fid):
        module, function = project.functions[current]
        # a repository's `self.session`, kept from an `__init__` parameter declared an AsyncSession
        held = {attribute for attribute, _ in _held_async_sessions(project, current, module, function)}
        if names:
            for line, text in _streamed(function, names):
                streamed.append((Blocking(line, text), _shown(project, fid, current, line, text)))
            for line, text in _sync_engine_work(function, names):
                engines.append((Blocking(line, text), _shown(project, fid, current, line, text)))
        if function.sync_iterated and (names or held):
            handles = _async_handles(function, names) if names else {}
            for line, text in _sync_iterated(function, names, handles, held):
                iterated.append((Blocking(line, text), _shown(project, fid, current, line, text)))
        for call in function.calls:
            if call.nested:
                continue  # a nested function or lambda may name another value alike (its own `db`)
            if call.receiver in exact and call.method is not None:
                method, text = call.method, f"{call.receiver}.{call.method}()"
            elif held and call.func is not None and call.func.rpartition(".")[0] in held:
                method, text = call.func.rpartition(".")[2], f"{call.func.removeprefix('$')}()"
            else:
                continue
            if call.awaited and method in SYNC_METHODS:
                shown = f"await {text}"
                awaited.append((Blocking(call.line, shown), _shown(project, fid, current, call.line, shown)))
                continue
            if method.startswith("__") or (method in ASYNC_SESSION_ATTRIBUTES and (
                # `exec` is SQLModel's AsyncSession's alone: SQLAlchemy's raises AttributeError
                method != "exec" or project.names_sqlmodel_async_session
            )):
                continue
            missing.append((Blocking(call.line, text), _shown(project, fid, current, call.line, text)))
        for expression, line, asynchronous in function.entered:
            if asynchronous:
                target, dot, step = expression.rpartition(".")
                if dot and step in _SYNC_MANAGERS and (target.removeprefix("$") in names or (held and target in held)):
                    text = f"async with {expression.removeprefix('$')}"
                    managers.append((Blocking(line, text), _shown(project, fid, current, line, text)))
                continue
            target, dot, step = expression.rpartition(".")
            opened = target if dot and step.endswith("()") else expression
            if opened.removeprefix("$") in exact or (held and opened in held):
                text = f"with {expression.removeprefix('$')}"
                entered.append((Blocking(line, text), _shown(project, fid, current, line, text)))
    return (
        _unique(missing), _unique(entered), _unique(iterated), _unique(streamed), _unique(engines), _unique(managers),
        _unique(awaited),
    )


def _unique(found: list[tuple[Blocking, str]]) -> list[tuple[Blocking, str]]:
    """Each call once: a function reached with other AsyncSession parameters is read again."""
    kept: dict[str, tuple[Blocking, str]] = {}
    for blocking, shown in found:
        kept.setdefault(shown, (blocking, shown))
    return list(kept.values())


def _shown(project: Project, fid: FunctionId, current: FunctionId, line: int, text: str) -> str:
    module, function = project.functions[current]
    if current == fid:
        return f"line {line} ({text})"
    return f"{module.path}:{line} ({text} in {module.name}.{function.qualname})"


_NONE: frozenset[str] = frozenset()


def _walk(project: Project, fid: FunctionId) -> Iterator[tuple[FunctionId, set[str], set[str]]]:
    """`fid` and every project function it reaches, each with the local names holding an
    AsyncSession there (declared, opened, or handed by the caller on this path) and those of them
    known to be a plain AsyncSession. A function reached again with other names is read again."""
    seen: set[tuple[FunctionId, frozenset[str], frozenset[str]]] = set()
    pending: list[tuple[FunctionId, frozenset[str], frozenset[str]]] = [(fid, frozenset(), frozenset())]
    while pending:
        current, handed, handed_exact = pending.pop()
        if (current, handed, handed_exact) in seen:
            continue
        seen.add((current, handed, handed_exact))
        declared, opened, rebound, plain, edges = _walk_step(project, current)
        # a parameter the function binds again may hold anything by the call
        names = declared | opened | (handed - rebound)
        exact = plain | (handed_exact - rebound)
        yield current, set(names), set(exact)
        if not names:  # nothing to hand on: every callee as reached with no AsyncSession
            pending.extend((edge.callee, _NONE, _NONE) for edge, _ in edges)
            continue
        # each parameter set is a subset of the callee's parameters: a few per function at most
        for edge, callee in edges:
            # Synchronous code `fid` hands its AsyncSession to, and what that code hands it on to, is
            # AM302's (`async_session_handoffs`); so is a parameter declared a synchronous Session.
            given = (
                project._session_args(edge.call, edge.callee, names)
                if names and (callee.is_async or current != fid) else {}
            )
            if given:
                params = {p.name: p for p in callee.params}
                given = {k: v for k, v in given.items() if k in params and project.declared_session(params[k]) is None}
            pending.append((
                edge.callee,
                frozenset(given),
                frozenset(param for param, name in given.items() if name in exact),
            ))


def _walk_step(
    project: Project, fid: FunctionId
) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str], tuple[tuple[Edge, facts.Function], ...]]:
    """What `_walk` reads of a function wherever the walk reaches it (every handler's walk passes
    through the same helpers): its AsyncSession parameters, the locals it opens one into, the names
    it binds, those of its own known to be a plain AsyncSession, and its calls in the walk's order
    with each callee. Kept per project."""
    known: dict[FunctionId, tuple] = project.derived.setdefault("unawaited_walk_steps", {})  # type: ignore[assignment]
    found = known.get(fid)
    if found is None:
        _, function = project.functions[fid]
        declared = frozenset(project.declared_async_session_params(fid))
        opened = async_session_locals(project, function)
        rebound = frozenset(b.name for b in function.bindings)
        plain = (declared - rebound) | {name for name, exact in opened.items() if exact}
        edges = tuple(
            (edge, project.functions[edge.callee][1])
            for edge in sorted(project.all_calls_from.get(fid, ()), key=lambda e: (e.callee, e.call.index))
        )
        alike: dict[frozenset[str], frozenset[str]] = project.derived.setdefault(  # type: ignore[assignment]
            "unawaited_walk_names", {}
        )
        # one object for each set of names: most are empty, and every function of a large project
        # keeps four
        found = known[fid] = (
            alike.setdefault(declared, declared),
            alike.setdefault(names := frozenset(opened), names),
            alike.setdefault(rebound, rebound),
            alike.setdefault(names := frozenset(plain), names),
            edges,
        )
    return found


def async_session_locals(project: Project, function: facts.Function) -> dict[str, bool]:
    """Local names bound only to an AsyncSession the function opens, each with whether it is known
    to be a plain AsyncSession (its maker names no `class_=`): `async with maker() as s` and
    `async with maker.begin() as s` on an `async_sessionmaker`, `async with AsyncSession(engine) as
    s`, `s = maker()`, `s = AsyncSession(engine)`, `s = await stack.enter_async_context(maker())`.
    Read once per function (asked at each step of every handler's walk); not to be changed."""
    known: dict[int, tuple[facts.Function, dict[str, bool]]] = project.derived.setdefault(  # type: ignore[assignment]
        "async_session_locals", {}
    )
    kept = known.get(id(function))
    if kept is None or kept[0] is not function:
        kept = known[id(function)] = (function, _async_session_locals(project, function))
    return kept[1]


def _async_session_locals(project: Project, function: facts.Function) -> dict[str, bool]:
    found: dict[str, bool] = {}
    params = {p.name for p in function.params}
    for name in dict.fromkeys(b.name for b in function.bindings):
        if name in params:
            continue
        kinds = [_async_opening(project, b) for b in function.bindings if b.name == name]
        if kinds and all(kind is not None for kind in kinds):
            found[name] = all(kinds)
    return found


def _async_opening(project: Project, binding: facts.Binding) -> bool | None:
    """None unless the binding opens an AsyncSession; else whether it is a plain AsyncSession."""
    if not binding.expr.endswith("()") or (binding.entered and not binding.asynchronous):
        return None
    opener = binding.expr[:-2]
    # `async with maker.begin() as s` gives the Session; `AsyncSession(e).begin()` a transaction
    begun = binding.entered and opener.endswith(".begin")
    opener = opener.removesuffix(".begin") if begun else opener
    if not begun and project.is_async_session_type(opener):
        return True
    target = project.resolve(opener)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or value.kind != "call" or project.canonical(value.ref) not in ASYNC_SESSIONMAKERS:
        return None
    return not any(arg.keyword in ("class_", "**") for arg in value.args)


def _deferred(function: facts.Function, names: set[str], held: set[tuple[str, str]]) -> dict[str, str]:
    """Local name -> the AsyncSession coroutine method it holds to call later, as written
    (`finish = db.commit`, `partial(db.commit)`, `lambda: db.commit()`, a loop over `[db.flush, db.commit]`)."""
    found: dict[str, str] = {}
    for name, receiver, method in function.deferred:
        if method in AWAITED_METHODS and (receiver[1:] in names or (receiver, method) in held):
            found.setdefault(name, f"{receiver[1:]}.{method}()")
    return found


def _plain_wrappers(project: Project, fid: FunctionId, names: set[str]) -> list[tuple[Blocking, str]]:
    """An `async def` under a project decorator whose plain wrapper hands its AsyncSession parameter
    in and calls a coroutine method of it without `await` (`@transactional` committing `db` after
    `func(db, ...)`): the wrapper returns the coroutine before it ran and its commit never runs. A
    decorator giving a coroutine function another wrapper (past `iscoroutinefunction(func)`), one
    awaiting it, is none; one whose other wrapper cannot be read is said so, unverified."""
    module, function = project.functions[fid]
    found = []
    for decorator, target in project.decorator_functions_of(fid):
        target_module, wrapper = project.functions[target]
        if wrapper.wraps != "sync" or wrapper.wrapped is None:
            continue
        side = wrapper.wraps_coroutine or wrapper.wraps
        if side not in ("sync", "unknown"):
            continue  # the awaiting wrapper (or the function itself) is what a coroutine function gets
        around = f" in the plain wrapper of @{decorator.text.lstrip('@')} around {module.name}.{function.qualname}"
        if side == "sync":
            around += ", which returns its coroutine unrun"
        else:
            around += (f": whether the decorator ({target_module.path}:{wrapper.line}) gives a coroutine function a "
                       "wrapper awaiting it cannot be told, and the plain one returns the coroutine unrun: unverified, "
                       "not cleared")
        for io in wrapper_io(project, fid, decorator, target, names):
            if io.call is None or not io.certain or (io.method is not None and io.method not in AWAITED_METHODS):
                continue
            line = int(io.where.rpartition(":")[2])
            found.append((Blocking(line, io.call), f"{io.where} ({io.call}{around})"))
    return found


def _loop_wrappers(project: Project, fid: FunctionId, names: set[str]) -> list[tuple[Blocking, str]]:
    """An `async def` under a project decorator whose `async def` wrapper calls a coroutine method
    of the AsyncSession it hands the function without `await` (`kwargs["db"].commit()` after `await
    fn(*args, **kwargs)`, written for the synchronous Session), or hands it to a plain `def` doing
    Session work on it: the commit is a coroutine nothing runs, nothing is written, and the route
    answers 200. Where the wrapper takes that value from its arguments without saying which, it is
    said so, unverified."""
    module, function = project.functions[fid]
    found = []
    for io in unawaited_loop_work(project, fid, names):
        if io.method is not None and io.method not in AWAITED_METHODS:
            continue  # a method the AsyncSession lacks raises where it is called (AM302's kind)
        line = int(io.where.rpartition(":")[2])
        shown = (
            f"{io.where} ({io.call} in the `async def` wrapper of @{io.decorator.text.lstrip('@')} around "
            f"{module.name}.{function.qualname}, "
            + ("not awaited" if io.method is not None else "handing it the AsyncSession, whose Session work there nothing awaits")
            + ("" if io.certain else "; the wrapper takes that value from its arguments without saying which: "
               "unverified, not cleared")
            + ")"
        )
        found.append((Blocking(line, io.call or ""), shown))
    return found


def _plain_def_wrapped(project: Project, fid: FunctionId, names: set[str]) -> list[tuple[Blocking, str]]:
    """A plain `def` handed an AsyncSession under a project decorator whose plain wrapper calls a
    coroutine method of it (`@transactional` committing `session` after `fn(...)`): the wrapper gets
    the coroutine back, never awaited, and the commit never runs though its own body only adds."""
    module, function = project.functions[fid]
    params = {p.name for p in function.params} & names
    found = []
    for io in plain_wrapper_io(project, fid, params):
        if io.call is None or (io.method is not None and io.method not in AWAITED_METHODS):
            continue  # a wrapper the analysis cannot read (a library's) is no finding: only what it shows
        line = int(io.where.rpartition(":")[2])
        shown = (
            f"{io.where} ({io.call} in the plain wrapper of @{io.decorator.text.lstrip('@')} around "
            f"{module.name}.{function.qualname}, a plain `def` handed the AsyncSession: nothing awaits it; "
            f"make {function.name} `async def` and await it, the decorator giving it a wrapper that awaits it"
            + (")" if io.certain else "; the wrapper takes that Session from its arguments without saying which: "
               "unverified, not cleared)")
        )
        found.append((Blocking(line, io.call), shown))
    return found


def never_runs(project: Project, function: facts.Function, index: int) -> bool:
    """Whether the call at `index` is a builtin that never runs a coroutine it is handed: it
    iterates, measures or prints the coroutine object (`list(...)`, `len(...)`, `print(...)`)."""
    outer = next((c for c in function.calls if c.index == index), None)
    if outer is None or outer.callee is None or outer.nested:
        return False
    return (project.canonical(outer.callee) or "").removeprefix("builtins.") in NEVER_RUN


def _held_async_sessions(
    project: Project, fid: FunctionId, module: facts.Module, function: facts.Function
) -> set[tuple[str, str]]:
    """(`$self.session`, method) for each AsyncSession coroutine method on what a method's
    instance holds: a repository's `__init__(self, session: AsyncSession)` keeping it as
    `self.session = session`, its own or inherited from a base (one generic over the session
    type, `Repository[AsyncSession]`, included); and (`$holder.session`, method) where the
    function calls one on such an attribute of another object (a dependency's, one it builds,
    `held_session.object_held_async`). Only what that `__init__` declares is taken: an attribute
    set elsewhere may hold anything. Kept per project: every handler's walk reads the helpers it
    passes through again (the set returned is the caller's own)."""
    from async_migrate.codemods.held_session import method_held_async, object_held_async

    known: dict[FunctionId, frozenset[tuple[str, str]]] = project.derived.setdefault(  # type: ignore[assignment]
        "unawaited_held_async", {}
    )
    found = known.get(fid)
    if found is None:
        attributes = {f"$self.{attr}" for attr in method_held_async(project, module, function)}
        for call in function.calls:
            owner = call.func.rpartition(".")[0] if call.func is not None else ""
            if owner.count(".") and owner not in attributes and object_held_async(project, fid, owner):
                attributes.add(owner)
        found = known[fid] = frozenset((attr, method) for attr in attributes for method in AWAITED_METHODS)
    return set(found)
