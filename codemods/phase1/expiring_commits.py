"""Commits that expire objects a handler reads on the event loop, where the Session is not a
parameter: a unit of work's or service's method committing the Session its instance holds, and
a mapped class's method committing the Session it is handed or its object belongs to, and a
function run in the threadpool committing a Session no parameter names (a module-level proxy,
`db.session`, reading the request's Session from a ContextVar), with what it hands back expired
or not. Read by `expired_deps` (AM307) beside the commits of a Session parameter, with the reads
of a helper the handler hands the object to on the loop (`book_out(book)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from async_migrate.codemods.phase2.expired_reads import commits
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import FunctionId, Project

def model_method_commits(project: Project, function: facts.Function, sessions: set[str]) -> set[int]:
    """Lines where a method of a mapped class commits, called on an object one of the function's
    queries loaded (`hero = session.get(Hero, i)` then `hero.mark_seen(session)`, `mark_seen`
    committing what it is handed, or the Session the object belongs to): the value flow types such
    an object as a query's result, so the call graph has no edge for it."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    found: set[int] = set()
    for call in function.calls:
        if call.nested or call.receiver is None or call.method is None or call.receiver in sessions:
            continue
        models = {
            function.loads[term[1]].model for term in function.holds.get(call.receiver, ())
            if term[0] == "load" and term[1] < len(function.loads) and function.loads[term[1]].session in sessions
        }
        for model in models:
            owner = classes.resolve(model) if model else None
            methods = classes.method(owner, call.method)[0] if owner in classes.by_ref else []
            if any(commits(project, method) or _commits_a_session(project, method) for method in methods):
                found.add(call.line)
    return found


def holder_params(project: Project, fid: FunctionId, function: facts.Function, sessions: set[str]) -> set[str]:
    """The handler's parameters holding a synchronous Session in an object (a unit of work, a
    service or repository a dependency builds on it: `dynamic_holders.holder`)."""
    from async_migrate.codemods.dynamic_holders import holder

    flow = project.flow
    return {
        p.name for p in function.params
        if p.name not in sessions and p.name != "self" and holder(flow, flow.evaluate(fid, f"${p.name}")) is not None
    }


def holder_commits(project: Project, fid: FunctionId) -> bool:
    """Whether a method of a class whose instances hold a synchronous Session commits one
    (`self.session.commit()`, `self.uow.commit()`): `_commits_a_session`."""
    from async_migrate.codemods.dynamic_holders import holder
    from async_migrate.codemods.flow import INSTANCE, Abstract

    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    flow = project.flow
    if not owner or holder(flow, frozenset({Abstract(INSTANCE, f"{module.name}.{owner}")})) is None:
        return False
    return _commits_a_session(project, fid)


def _commits_a_session(project: Project, fid: FunctionId, depth: int = 0) -> bool:
    """Whether a function commits a synchronous Session it does not open itself: `x.commit()` on
    any expression the value flow reads as a Session (`self.session`, `object_session(self)`
    bound to a name), or through project functions it calls, at most four deep."""
    if project.opens_directly(fid):
        return False
    _, function = project.functions[fid]
    flow = project.flow
    for call in function.calls:
        receiver, dot, method = (call.func or "").rpartition(".")
        if dot and method == "commit" and receiver.startswith("$") and flow.holds(fid, receiver) is not None:
            return True
    return depth < 4 and any(
        edge.callee != fid and not edge.call.offloaded and _commits_a_session(project, edge.callee, depth + 1)
        for edge in project.all_calls_from[fid]
    )


def makers_expire(project: Project) -> bool:
    """Whether a synchronous Session the project opens may expire on commit: False only when every
    module-level `sessionmaker(...)` of the project is written with `expire_on_commit=False`.
    Asked for every handler, read once per project."""
    known = project.derived.get("phase1.makers_expire")
    if known is None:
        known = project.derived["phase1.makers_expire"] = _makers_expire(project)
    return cast("bool", known)


def _makers_expire(project: Project) -> bool:
    makers = [
        value for module in project.modules.values() for value in module.values.values()
        if value.kind == "call" and project.canonical(value.ref) in PLAIN_SESSIONMAKERS
    ]
    return not makers or any(expires_on_commit(maker) for maker in makers)


def expires_on_commit(maker: facts.Value) -> bool:
    """Whether the Sessions a module-level `sessionmaker(...)` makes expire on commit: unless it is
    written with a literal `expire_on_commit=False`."""
    return not any(a.keyword == "expire_on_commit" and a.text == "False" for a in maker.args)


# Depth of the calls followed, in a worker thread, to a commit of a Session no parameter names.
_DEPTH = 4
_REFRESHING = ("refresh", "expunge")


def ambient_commits(project: Project, fid: FunctionId, depth: int = 0) -> list[tuple[int, str]]:
    """Commits of a Session the function holds as its own but does not open: a module-level proxy
    (`db.session`, a property reading the request's Session from a ContextVar a middleware sets),
    a global or `scoped_session`, `request.state.db`; its own or in project functions it calls in
    place, at most four deep. (line in `fid`: the commit or the call leading to it, `file:line
    (text)` of the commit itself). Run in the threadpool for a handler, such a commit expires what
    the handler's requests loaded on that Session (`run_in_threadpool` copies the context, so the
    proxy gives the worker the request's Session)."""
    known: dict[tuple[FunctionId, int], list[tuple[int, str]]] = project.derived.setdefault(  # type: ignore[assignment]
        "ambient_commits", {}
    )
    if (fid, depth) not in known:
        known[fid, depth] = _ambient_commits(project, fid, depth)
    return known[fid, depth]


def _ambient_commits(project: Project, fid: FunctionId, depth: int) -> list[tuple[int, str]]:
    module, function = project.functions[fid]
    if function.is_async:
        return []
    opened = project.opened_names(function)
    opening = {o.line for o in project.opens_directly(fid)}
    found = [
        (line, f"{module.path}:{line} ({text})") for line, text in project.own_work(fid)
        # not a Session it opens (`with SessionLocal() as s: s.commit()`): another transaction
        if text.endswith(".commit()") and text.partition(".")[0] not in opened and line not in opening
        and " -> " not in text
    ]
    if depth < _DEPTH:
        for edge in project.all_calls_from[fid]:
            if edge.callee == fid or edge.call.offloaded or edge.call.nested or edge.session_args:
                continue
            inner = ambient_commits(project, edge.callee, depth + 1)
            if inner:
                found.append((edge.call.line, inner[-1][1]))
    return sorted(set(found))


def returned_expiry(project: Project, fid: FunctionId, depth: int = 0) -> tuple[bool, str] | None:
    """What a function run in the threadpool hands back, when it returns one local name or
    parameter and commits a Session of its own (`ambient_commits`): (True, the commit) when the
    object was bound before the last commit and nothing refreshes it after (`book =
    get_book(id); book.title = t; db.session.commit(); return book`), every attribute expired,
    or it came so from a helper it called; (False, the commit) when it was bound after the commits
    or refreshed after the last (`db.session.refresh(book)`): its columns are loaded. None
    otherwise."""
    _, function = project.functions[fid]
    # `if row is None: return None` before the object's own `return`: None has no attribute to refresh
    returned = [value for value in function.returned if value != "None"]
    if function.is_async or function.is_generator or len(returned) != 1:
        return None
    if returned[0].startswith("$") and returned[0].endswith("()"):
        return _returned_call_expiry(project, fid, returned[0], depth)
    name = returned[0].removeprefix("$")
    if not returned[0].startswith("$") or "." in name or "(" in name or "[" in name:
        return None
    commits = ambient_commits(project, fid, depth)
    if not commits:
        return None
    calls = {call.index: call for call in function.calls}
    bound = [b.line for b in function.bindings if b.name == name]
    if any(p.name == name for p in function.params):
        bound.append(function.line)
    inner: list[tuple[int, str]] = []
    for term in function.holds.get(name, ()):
        if term[0] == "call" and term[1] in calls:
            bound.append(calls[term[1]].line)
            for edge in project.all_calls_from[fid]:
                if edge.call.index == term[1] and edge.callee != fid and depth < _DEPTH and not edge.call.offloaded:
                    handed = returned_expiry(project, edge.callee, depth + 1)
                    if handed is not None and handed[0]:
                        inner.append((edge.call.line, handed[1]))
    if not bound:
        return None
    refreshed = [
        call.line for call in function.calls
        if (call.method or (call.func or call.callee or "").rpartition(".")[2]) in _REFRESHING
        and any(a.name == name for a in call.args)
    ]
    expiring = [
        (line, where) for line, where in [*commits, *inner]
        if line >= min(bound) and not any(r > line for r in refreshed)
    ]
    expiring = [(line, where) for line, where in expiring if (line, where) in inner or line > min(bound)]
    if expiring:
        return True, expiring[-1][1]
    return False, commits[-1][1]


def _returned_call_expiry(project: Project, fid: FunctionId, returned: str, depth: int) -> tuple[bool, str] | None:
    """`return self.user_db.by_token(token)`: the object comes straight from the project function
    called there, with nothing after the call to refresh it, so it is as that function hands it back."""
    if depth >= _DEPTH:
        return None
    called = [
        edge for edge in project.all_calls_from[fid]
        if edge.callee != fid and not edge.call.offloaded and not edge.call.nested and f"{edge.call.func}()" == returned
    ]
    if len(called) != 1:
        return None
    return returned_expiry(project, called[0].callee, depth + 1)


def ambient_offloads(
    project: Project, fid: FunctionId, function: facts.Function, offloaded: bool = True
) -> dict[int, tuple[int, str, bool | None]]:
    """The handler's calls run in the threadpool that commit a Session no parameter names
    (`expiring_commits.ambient_commits`: `db.session.commit()` behind a ContextVar proxy), its own
    (`await run_in_threadpool(db.session.commit)`) or in the function run: call index -> (line,
    the commit, whether what the call hands back is expired: `returned_expiry`, None unknown)."""
    found: dict[int, tuple[int, str, bool | None]] = {}
    threaded = project.own_work_offloaded(fid)
    for line, text in project.own_work(fid):
        if ((line, text) in threaded) == offloaded and text.endswith(".commit()"):
            for call in function.calls:
                if call.line == line and call.offloaded == offloaded and not call.nested:
                    found.setdefault(call.index, (line, "", None))
    for edge in project.all_calls_from[fid]:
        if edge.call.offloaded != offloaded or edge.call.nested or edge.callee == fid or edge.call.index < 0:
            continue
        commits_there = ambient_commits(project, edge.callee)
        if commits_there:
            returned = returned_expiry(project, edge.callee)
            found[edge.call.index] = (
                edge.call.line, commits_there[-1][1], returned[0] if returned is not None else None
            )
    return found


def handed_reads(
    project: Project, fid: FunctionId, bound: set[str], after: int, depth: int = 0
) -> list[tuple[int, str, str, tuple[str, int], str]]:
    """The attribute reads a project function called on the loop after line `after` makes of an
    object of `bound` handed to it (`return book_out(book)`, `book_out` reading `book.title`), or
    that a function it hands the object on to makes, three deep: (the handler's call line, the
    handler's name, the attribute, (file, line) of the read, the reader's dotted name), the
    first read of each attribute."""
    _, function = project.functions[fid]
    found: list[tuple[int, str, str, tuple[str, int], str]] = []
    seen: set[tuple[str, str]] = set()
    for edge in project.all_calls_from[fid]:
        call = edge.call
        if call.offloaded or call.nested or call.line <= after or edge.callee == fid:
            continue
        module, callee = project.functions[edge.callee]
        params = [p.name for p in callee.params]
        if params[:1] in (["self"], ["cls"]) and project.flow.classes.owner(edge.callee) is not None:
            params = params[1:]
        for arg in call.args:
            if arg.name not in bound:
                continue
            param = arg.keyword if arg.keyword in params else (
                params[arg.position] if arg.keyword is None and arg.position is not None and arg.position < len(params)
                else None
            )
            if param is None:
                continue
            reads = [(line, attr) for line, receiver, attr in callee.attributes if receiver == param]
            if depth < 2:
                reads += [
                    (inner[3][1], inner[2]) for inner in handed_reads(project, edge.callee, {param}, callee.line, depth + 1)
                ]
            for line, attr in sorted(reads):
                if (arg.name, attr) not in seen:
                    seen.add((arg.name, attr))
                    found.append((call.line, arg.name, attr, (module.path, line), f"{module.name}.{callee.qualname}"))
    return found
