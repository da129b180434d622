"""Commits and expiries an `async def` handler makes through a project function it hands its AsyncSession.

`await finish(db, item)` where `finish` ends `await db.commit()`, `db.expire(obj)` or
`db.expire_all()` (itself, or through a function it hands the Session on to) expires what the
handler's Session holds as the same call in the handler's body does: check's AM314
(`async_expired`) reads the handler's reads after the call as after that expiry. Phase two's
`phase2.helper_expiry` answers the same for the synchronous Session a helper is given; this is
its counterpart on the Session a parameter of the helper receives from the handler, typed or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.held_commits import CALL_DEPTH
from async_migrate.codemods.project import FunctionId, Project

# Session methods expiring what it holds; the coroutines among them only when awaited.
_COROUTINES = frozenset({"commit", "rollback"})
_EXPIRING = frozenset({*_COROUTINES, "expire_all", "expire"})
# Names ending an exception's class, raised after a rollback leaving the helper (`raise HTTPException(409)`).
_RAISED = ("Error", "Exception")


@dataclass(frozen=True, slots=True)
class Expiry:
    """What a helper does to the Session given it: `commits` (expires as `expire_on_commit`
    says), `always` (a rollback, `expire_all()`, or an `expire()` of what it did not receive:
    every object, whatever the sessionmaker says), `params` (the helper's parameters an
    `expire(param)` expires); `written`: one such call as written there (`db.commit()`)."""

    commits: bool
    always: bool
    params: frozenset[str]
    written: str


@dataclass(frozen=True, slots=True)
class Point:
    """An expiring call of the handler: `names` it expires whatever the sessionmaker says (those
    handed to an `expire(param)`), `text` as a finding names it."""

    commits: bool
    always: bool
    names: frozenset[str]
    text: str
    line: int  # where the call starts (the key is where it ends)


def helper_expiries(project: Project, fid: FunctionId, session: str) -> dict[int, Point]:
    """The handler's calls handing `session` to project functions that commit or expire it, by
    their last line: the reads of its own arguments, on the lines it spans, run before the helper
    does. A coroutine function counts only where it is awaited (a task it schedules runs later)."""
    found: dict[int, Point] = {}
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        if call.nested or not any(a.name == session for a in call.args):
            continue
        _, helper = project.functions[edge.callee]
        if helper.is_async and not call.awaited:
            continue
        param = received(helper, call, session)
        expiry = expiring(project, edge.callee, param) if param is not None else None
        if expiry is None:
            continue
        names = frozenset(a.name for a in call.args if a.name and facts.parameter_of(helper, a) in expiry.params)
        shown = (call.func or "").lstrip("$") or (call.callee or helper.qualname).rpartition(".")[2]
        text = f"`{shown}(...)`, which calls `{expiry.written}`,"
        last = call.last_line or call.line
        point = found.get(last)
        found[last] = Point(
            expiry.commits or (point is not None and point.commits), expiry.always or (point is not None and point.always),
            names | (point.names if point is not None else frozenset()), text, call.line,
        )
    return found


def received(helper: facts.Function, call: facts.Call, session: str) -> str | None:
    """The one parameter of `helper` the call hands `session` to; None for none or several."""
    params = {facts.parameter_of(helper, a) for a in call.args if a.name == session}
    return params.pop() if len(params) == 1 else None


def expiring(project: Project, fid: FunctionId, param: str, depth: int = 0) -> Expiry | None:
    """What the function `fid` does to the Session its parameter `param` receives, itself or
    through the project functions it hands it on to (`CALL_DEPTH` deep); None for nothing."""
    cache = cast("dict[tuple[FunctionId, str], Expiry | None]", project.derived.setdefault("helper_expiries", {}))
    key = (fid, param)
    if key in cache:
        return cache[key]
    cache[key] = None  # a cycle of helpers adds nothing
    _, function = project.functions[fid]
    params = {p.name for p in function.params}
    found: list[Expiry] = []
    for c in function.calls:
        if c.nested or c.receiver != param or c.method not in _EXPIRING:
            continue
        if c.method in _COROUTINES and not c.awaited:
            continue  # a coroutine nothing runs: AM311's, it expires nothing
        if c.method != "commit" and _raised_after(function, c.line):
            continue
        given = next((a for a in c.args if a.position == 0 or a.keyword == "instance"), None)
        written = f"{param}.{c.method}({given.name if given is not None and given.name else ''})"
        if c.method == "commit":
            found.append(Expiry(True, False, frozenset(), written))
        elif c.method == "expire" and given is not None and given.name in params:
            found.append(Expiry(False, False, frozenset({given.name}), written))
        else:
            found.append(Expiry(False, True, frozenset(), written))
    if depth < CALL_DEPTH:
        for edge in project.all_calls_from.get(fid, ()):
            call = edge.call
            if call.nested or edge.callee == fid or not any(a.name == param for a in call.args):
                continue
            _, helper = project.functions[edge.callee]
            inner_param = received(helper, call, param)
            if inner_param is None or helper.is_async and not call.awaited or _raised_after(function, call.line):
                continue
            inner = expiring(project, edge.callee, inner_param, depth + 1)
            if inner is None:
                continue
            mapped = {a.name for a in call.args if facts.parameter_of(helper, a) in inner.params}
            # an `expire()` of what is no parameter here expires an object the caller cannot name
            always = inner.always or not mapped <= params or any(
                a.name is None for a in call.args if facts.parameter_of(helper, a) in inner.params
            )
            found.append(Expiry(inner.commits, always, frozenset(n for n in mapped if n in params), inner.written))
    cache[key] = _join(found)
    return cache[key]


def _raised_after(function: facts.Function, line: int) -> bool:
    """Whether the call on `line` is in an `except` handler ending the function with the raise of
    an exception it builds (`except IntegrityError: await db.rollback(); raise HTTPException(409)`):
    the caller reads nothing after it. A bare `raise`, or one of a name, is not told apart from a
    `return` there, so it counts as returning."""
    handlers = {(start, end) for _, start, end in function.failed_into}
    for start, end in function.exits:
        if (start, end) in handlers and start <= line <= end and line != end:
            last = [c for c in function.calls if c.line == end and not c.nested]
            if any((c.callee or c.func or "").rpartition(".")[2].endswith(_RAISED) for c in last):
                return True
    return False


def _join(found: list[Expiry]) -> Expiry | None:
    if not found:
        return None
    strongest = next((e for e in found if e.always), None) or next((e for e in found if e.commits), found[0])
    return Expiry(
        any(e.commits for e in found), any(e.always for e in found),
        frozenset().union(*(e.params for e in found)), strongest.written,
    )
