"""Objects a function derives from its Session: `sp = db.begin_nested()`, `t = db.begin()`,
`c = db.connection()` (or the same under `with ... as name`).

On an AsyncSession these are an AsyncSessionTransaction or an AsyncConnection, whose
`commit()`, `rollback()` and `execute()` are coroutines too: phase two awaits them
(`plan.py`), also called straight on the Session's call (`await (await
db.connection()).execute(...)`); it blocks the route when the object escapes the function, a
method the async object lacks is called (bound or not), a coroutine method is called unbound
where no `await` can stand (AM258), or an attribute read that differs on the async object
(`conn.connection`, which raises there), and the self-check refuses any such coroutine left unawaited.
"""

from __future__ import annotations

from collections.abc import Callable

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.sqlalchemy import (
    AWAITED_METHODS,
    CONTEXT_METHODS,
    DERIVED_ASYNC_TYPES,
    DERIVED_ATTRIBUTES,
    DERIVED_AWAITED,
    DERIVED_KINDS,
    DERIVED_PLAIN,
    DERIVED_SOURCES,
    DERIVED_UNREWRITTEN,
    Derived,
)


def runs_sync(call: facts.Call) -> bool:
    """Whether phase two can run this call of a method AsyncSession lacks through `run_sync`:
    where an `await` can stand (not in a nested function, lambda or generator expression).
    Here, not beside the rewrites: scan's preview asks it, and importing those imports libcst."""
    return not call.nested and not call.in_generator and not call.awaited


def derived_names(
    function: facts.Function, session_names: set[str], held: Callable[[str], str | None] | None = None
) -> dict[str, Derived]:
    """Local name -> what it is (a transaction, a connection) for each name bound to such an object.
    `held` names the Session method a call path runs on a Session the class holds
    (`$self.db.begin_nested` -> `begin_nested`), see `holders.held_call`."""
    found: dict[str, Derived] = {}
    for binding in function.bindings:
        method = _source_method(binding.expr.removesuffix("()"), session_names, held)
        if binding.expr.endswith("()") and method is not None:
            found[binding.name] = DERIVED_KINDS[method]
    return found


def _source_method(func: str, session_names: set[str], held: Callable[[str], str | None] | None) -> str | None:
    """`begin_nested` for `$db.begin_nested` (or a held Session's), when it yields such an object."""
    if not func.startswith("$") or "(" in func:
        return None
    head, dot, method = func[1:].partition(".")
    if not (dot and head in session_names and "." not in method):
        method = (held(func) if held is not None else None) or ""
    return method if method in DERIVED_KINDS else None


def is_coroutine(kind: Derived, method: str) -> bool:
    return method in DERIVED_AWAITED[kind]


def called(call: facts.Call, written: Callable[[str], str]) -> str:
    """The called expression as a reason names it: `count_rows()`, `pd.read_sql()`, `a call`."""
    expression = call.callee or call.func
    return f"`{written(expression)}()`" if expression else "a call"


def handed_unbound(
    function: facts.Function, session_names: set[str], mapped: Callable[[facts.Call], bool],
    written: Callable[[str], str], held: Callable[[str], str | None] | None = None,
) -> list[tuple[int, str]]:
    """(line, why) for each transaction or connection taken from the Session right in a call's
    arguments (`count_rows(db.connection())`, `pd.read_sql(q, db.connection())`): the rewrite awaits
    the Session's call in place, so the callee receives the AsyncConnection (or
    AsyncSessionTransaction) where it expects the synchronous object, and its `execute()` returns a
    coroutine nobody awaits. A call with an async form taking the AsyncConnection is followed."""
    by_index = {call.index: call for call in function.calls}
    found: list[tuple[int, str]] = []
    for inner in function.calls:
        outer = by_index.get(inner.argument_of) if inner.argument_of is not None else None
        source = inner.func
        if outer is None or source is None:
            continue
        method = _source_method(source, session_names, held)
        if method is None:
            continue
        kind = DERIVED_KINDS[method]
        if kind is Derived.CONNECTION and mapped(outer):
            continue
        found.append((outer.line, f"passes `{source[1:]}()` straight to {called(outer, written)}, which would "
                      f"get the {DERIVED_ASYNC_TYPES[kind]} where it expects the synchronous object"))
    return found


def escapes(
    function: facts.Function, derived: dict[str, Derived], mapped: Callable[[facts.Call], bool] | None = None,
    written: Callable[[str], str] | None = None,
) -> list[tuple[int, str]]:
    """(line, why) for each use of a derived object the rewrite does not follow: handed to a
    call, rebound, returned, or a method called that the async object lacks. A connection handed
    to a call `mapped` says has an async form (`paginate(conn, q)`) is followed: that call becomes
    the awaited async form, which takes the AsyncConnection."""
    found: list[tuple[int, str]] = []
    for call in function.calls:
        for arg in call.args:
            if arg.name in derived and derived[arg.name] is Derived.CONNECTION and mapped is not None and mapped(call):
                continue
            if arg.name in derived:
                target = called(call, written) if written is not None else "a call"
                found.append((call.line, f"passes `{arg.name}` (from the Session's "
                              f"`{DERIVED_SOURCES[derived[arg.name]]}`) to {target}"))
        if call.receiver in derived and call.method is not None:
            kind = derived[call.receiver]
            if call.method in DERIVED_UNREWRITTEN[kind]:
                found.append((call.line, f"calls `{call.receiver}.{call.method}()`, whose transaction the async "
                              f"{DERIVED_ASYNC_TYPES[kind]} hands back to be awaited or entered with `async with`, "
                              "which phase two does not write"))
            elif call.method not in DERIVED_AWAITED[kind] and call.method not in DERIVED_PLAIN[kind]:
                found.append((call.line, f"calls `{call.receiver}.{call.method}()`, which the async "
                              f"{DERIVED_ASYNC_TYPES[kind]} does not offer as the synchronous one does"))
    for alias, source in function.rebinds:
        if source in derived:
            found.append((function.line, f"rebinds `{source}` to `{alias}`"))
    for returned in (*function.returned, *function.yielded):
        if returned.lstrip("$") in derived:
            found.append((function.line, f"returns `{returned.lstrip('$')}`"))
    return found


def returned_straight(
    function: facts.Function, session_names: set[str], held: Callable[[str], str | None] | None = None
) -> list[tuple[int, str]]:
    """(line, why) for each transaction or connection the function returns straight from the
    Session's call (`return self.session.begin()`, `return db.connection()`): the rewrite awaits
    that call in place, so a caller's `with helper():` gets a started AsyncSessionTransaction,
    no synchronous context manager, and one calling its methods gets coroutines it never awaits."""
    found: list[tuple[int, str]] = []
    for returned in (*function.returned, *function.yielded):
        if not returned.endswith("()"):
            continue
        method = _source_method(returned.removesuffix("()"), session_names, held)
        if method is not None:
            kind = DERIVED_KINDS[method]
            found.append((function.line, f"returns `{returned[1:]}` straight to its callers, which would get "
                          f"the {DERIVED_ASYNC_TYPES[kind]} where they enter or use the synchronous object"))
    return found


def chained_call(
    call: facts.Call, session_names: set[str], held: Callable[[str], str | None] | None = None
) -> tuple[Derived, str] | None:
    """What a method called straight on such an object, never bound, is called on, and the method:
    `db.connection().execute(...)` -> (connection, "execute")."""
    if call.func is None or not call.func.startswith("$") or call.receiver is not None:
        return None
    source, paren, tail = call.func.partition("().")
    method = _source_method(source, session_names, held) if paren and tail and "(" not in tail else None
    return (DERIVED_KINDS[method], tail) if method is not None else None


def chained_rewritten(
    function: facts.Function, session_names: set[str], held: Callable[[str], str | None] | None = None
) -> list[tuple[facts.Call, str]]:
    """For phase two's output, where the Session is an AsyncSession: (call, why) for each method
    called straight on its transaction or connection that would misbehave. The Session's call
    under it must be awaited where it is a coroutine (`(await db.connection()).execute(...)`,
    read through `facts.Call.through_await`) and not where it is not
    (`db.get_nested_transaction().rollback()`); a coroutine method must be awaited itself; and
    the async object must have the method."""
    found: list[tuple[facts.Call, str]] = []
    for call in function.calls:
        through = call.func is None and call.through_await is not None
        written = call.through_await if through else call.func
        if written is None or not written.startswith("$") or call.receiver is not None:
            continue
        source, paren, method = written.partition("().")
        name = _source_method(source, session_names, held) if paren and method and "(" not in method else None
        if name is None:
            continue
        kind = DERIVED_KINDS[name]
        what = f"calls `.{method}()` straight on `{source[1:]}()`"
        coroutine = name in AWAITED_METHODS or name in CONTEXT_METHODS
        if coroutine and not through:
            found.append((call, f"{what}, a coroutine on AsyncSession that is not awaited under it: the method "
                          "is looked up on the coroutine"))
        elif through and not coroutine:
            found.append((call, f"{what} and awaits `{source[1:]}()`, which is no coroutine on AsyncSession"))
        elif is_coroutine(kind, method) and not call.awaited:
            found.append((call, f"{what}, a coroutine on the {DERIVED_ASYNC_TYPES[kind]} the AsyncSession "
                          "returned, and does not await it"))
        elif not is_coroutine(kind, method) and method not in DERIVED_PLAIN[kind]:
            found.append((call, f"{what}, which the async {DERIVED_ASYNC_TYPES[kind]} does not offer as the "
                          "synchronous one does"))
    return found


def chained_awaited(call: facts.Call, kind: Derived, method: str) -> bool:
    """Whether phase two awaits `method` called straight on the object as it awaits the Session's
    call under it (`await (await db.connection()).execute(...)`): a coroutine method, where an
    `await` can stand (not in a nested function, lambda or generator expression)."""
    return is_coroutine(kind, method) and not call.nested and not call.in_generator


def chained(
    function: facts.Function, session_names: set[str], held: Callable[[str], str | None] | None = None
) -> list[tuple[int, str]]:
    """(line, why) for each method called straight on such an object, never bound, that phase two
    does not await there (`chained_awaited`) and that is no plain method of the async object: the
    coroutine it returns would not be awaited, or the method is not there."""
    found: list[tuple[int, str]] = []
    for call in function.calls:
        chained = chained_call(call, session_names, held)
        if chained is None:
            continue
        kind, method = chained
        if not chained_awaited(call, kind, method) and method not in DERIVED_PLAIN[kind]:
            source = (call.func or "").partition("().")[0]
            found.append((call.line, f"calls `.{method}()` straight on `{source[1:]}()`"))
    return found


def attributes_read(
    function: facts.Function, derived: dict[str, Derived], session_names: set[str],
    held: Callable[[str], str | None] | None = None,
) -> list[tuple[int, str]]:
    """(line, why) for each attribute read on such an object, bound (`conn.connection`) or straight
    on the Session's call (`db.connection().connection.dbapi_connection`), that the async object
    does not read the same (`DERIVED_ATTRIBUTES`)."""
    found: list[tuple[int, str]] = []
    for line, receiver, attribute in function.attributes:
        kind = derived.get(receiver)
        if kind is not None and attribute not in DERIVED_ATTRIBUTES[kind]:
            found.append((line, f"reads `{receiver}.{attribute}`, {_differs(kind, attribute)}"))
    for line, expression in (
        *((b.line, b.expr) for b in function.bindings), *((function.line, r) for r in function.returned),
        # a call's last name is the method it calls (which `chained` judges), not an attribute read
        *((c.line, c.func.rpartition(".")[0]) for c in function.calls if c.func is not None),
    ):
        source, paren, tail = expression.partition("().")
        attribute = tail.split(".", 1)[0]  # `execute()` for a call's result: no attribute
        method = _source_method(source, session_names, held) if paren and attribute.isidentifier() else None
        if method is None:
            continue
        kind = DERIVED_KINDS[method]
        if attribute not in DERIVED_ATTRIBUTES[kind]:
            found.append((line, f"reads `.{attribute}` straight on `{source[1:]}()`, {_differs(kind, attribute)}"))
    return list(dict.fromkeys(found))


def _differs(kind: Derived, attribute: str) -> str:
    if kind is Derived.CONNECTION and attribute == "connection":
        return ("which raises on an AsyncConnection: its DBAPI connection is `await conn.get_raw_connection()`, "
                "and a driver cursor on it does its IO only inside `run_sync`")
    return f"which the {DERIVED_ASYNC_TYPES[kind]} does not read as the synchronous object does"
