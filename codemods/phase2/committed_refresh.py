"""A response model's relationships on an object whose last Session work commits: loaded by a refresh.

`built_refresh` and `fetched_refresh` cover an object the route builds, and one a helper only
gets by key. Routes more often hand the object to a project helper that commits and returns it
(`return crud.task.update(db, db_obj=task, obj_in=body)`), get a service to build, commit and
return it (`task = svc.create(...)`), or change it and call a helper that commits
(`await audit.record(db, ...)`) before returning it. After a commit nothing of the object is
unflushed, so a refresh naming the response model's relationships loses nothing; phase two adds
it (AM280) where it can show it runs after the last commit on every path to the return and that
nothing reaches the Session or changes the object between it and the return (`plan`).

Over 500 lines: the route's proof and the helper's (`_committed`) share the statement walk, the
Session spellings (a parameter, `self.db`) and the checks of what runs after the commit
(`_quiet_after`, `_keeps`); apart, each would import the other's.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import SCOPES, after_docstring, own_nodes
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase2 import built_refresh, holders
from async_migrate.codemods.phase2.eager_flow import Flow
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.phase2.expired_reads import Refresh
from async_migrate.codemods.phase2.fetched_refresh import gotten
from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import EAGER_STRATEGIES

Node = ast.FunctionDef | ast.AsyncFunctionDef
# Session methods after which an object may be no longer in the Session (or expired again).
_DETACHES = frozenset({
    "delete", "expunge", "expunge_all", "close", "rollback", "expire", "expire_all", "reset", "invalidate", "merge",
})
# How deep `_keeps` follows helpers the Session is handed to.
_DEPTH = 4


@dataclass(frozen=True, slots=True)
class _Committed:
    """A function whose last Session work, on every path to its end, is a commit (or a whole
    refresh of the object it returns right after one)."""

    fid: FunctionId
    session: str  # the Session it commits on, as written there (`db`, `self.db`)
    anchor: int  # index of the call the added refresh would follow (the commit, or that refresh)
    line: int
    returned: str | None = None  # the name of the object it returns, when it returns one persistent there
    param: bool = False  # that object is a parameter (its class is the caller's)
    model: str | None = None  # its mapped class, when the function builds or gets it


def plan(
    project: Project,
    route: FunctionId,
    risks: list[LazyLoadRisk],
    moving: set[FunctionId],
    trees: Callable[[str], ast.Module | None],
    expires: bool,
) -> built_refresh.BuiltRefresh | None:
    """The refresh that replaces all of `risks` (the route's lazy loads), or None to keep them.
    `expires`: the async sessionmaker expires every object on commit (a refresh naming only the
    relationships would leave the columns expired: never planned then).

    Three shapes, each ending `return name` or `return helper(...)` as the route's only return:

        return crud.task.update(db, db_obj=task, obj_in=body)   # commits, refreshes, returns db_obj
    ->  result = await crud.task.update_async(db, db_obj=task, obj_in=body)
        await db.refresh(result, attribute_names=["labels"])
        return result

        task = svc.create(project_id, body, user)   # builds a Task, adds, commits, returns it
        await notifier.publish(..., {"task_id": task.id})
        return task
    ->  the refresh goes into the migrated method, after its commit, before its `return task`

        task = crud.task.get(db, id=task_id)   # `return db.get(self.model, id)`
        ...
        task.assignee_id = assignee.id
        await audit.record(db, ...)            # commits `db` last of its Session work
        return task
    ->  `await db.refresh(task, attribute_names=["labels"])` after the `audit.record` line,
        guarded `if task is not None:` unless an `if task is None: raise` comes before

    The refresh stands only where:

    - every risk is a field of the response model itself (`built_refresh.loaded_as`), each a
      relationship of the object's class (default or eager strategy), and the async
      sessionmaker does not expire on commit;
    - the last statement of the route's own body doing Session work (on a Session parameter, or
      calling a function migrating with it) is a simple statement of that body, so every path to
      the return runs it, and it commits last: `session.commit()`, or a call of one project
      function whose last Session work is a commit (`_committed`), in a statement of its own
      body, after which it only calls functions handed neither the Session nor the object;
    - the object's class is known: built in that helper (`Model(...)`, added there), got there
      (`return session.get(Model, ...)`), or handed to it as a parameter it adds or refreshes and
      the route got or built; it is in the Session (got, added, or refreshed: a plain refresh
      proves it) and nothing deletes, expunges, expires, rolls back or closes (the route, nor the
      helpers it hands the Session to, `_keeps`);
    - between the commit and the return nothing runs that could reach the Session or change the
      relationships: calls handed no Session, no dependency value, and the object only as
      `name.column`, none of a function migrating with the route; no store to the relationships.

    A refresh in the helper (the object's class is the helper's own) loads the relationships for
    every migrated caller: one query more where another caller does not need them, never a
    change. One in the route (the class is the caller's, `CRUDBase.update` returning `db_obj`)
    needs the Session there as a parameter. Everything else keeps its AM222 (or AM250) block:
    `TaskOut.labels.color` through a relationship further down, an object read in the helper
    before the commit (`task.labels.append(label)`), an early return, a commit in a branch.
    """
    if expires or not risks or any(built_refresh.loaded_as(r) is None for r in risks):
        return None
    module, function = project.functions[route]
    node = function_node(trees(module.path), function)
    body = after_docstring(node.body) if node is not None else []
    if node is None or not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    if not _single_return(node):
        return None
    names = project.session_names(route)
    if any(c.nested and _uses(c, names) for c in function.calls):
        return None
    if any(c.receiver in names and c.method in _DETACHES for c in function.calls):
        return None
    # nothing the route runs on its Session detaches or expires an object (helpers it hands the
    # Session to, functions migrating with it)
    if not _keeps(project, route, _DEPTH) or any(
        e.callee in moving and e.callee != route and not _keeps(project, e.callee, _DEPTH)
        for e in project.all_calls_from.get(route, ())
    ):
        return None
    returned = body[-1].value
    name = returned.id if isinstance(returned, ast.Name) else None
    last = len(body) - 1 if isinstance(returned, ast.Call) else (
        _last_session_statement(project, route, body, names, moving) if name is not None else None
    )
    if last is None or (name is not None and last >= len(body) - 1):
        return None
    statement = body[last]
    if not isinstance(statement, (ast.Expr, ast.Assign, ast.Return)):
        return None
    calls = _calls_in(function, statement)
    if len(calls) != 1 or calls[0].nested or len(_ast_calls(statement)) != 1:
        return None
    call = calls[0]
    if name is not None and not _quiet_after(project, route, body[last + 1:-1], name, names, moving):
        return None
    if name is not None and sum(b.name == name for b in function.bindings) != 1:
        return None
    binds = (
        name is not None and isinstance(statement, ast.Assign) and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name
    )
    classes = project_classes(project)
    if name is None or binds:
        # the object is what the helper the statement calls returns
        helper = _helper(project, route, call, moving)
        if helper is None:
            return None
        committed = _committed(project, helper, moving, trees, True)
        if committed is None or committed.returned is None:
            return None
        if committed.model is not None:
            found = _attributes(project, committed.model, risks)
            if found is None:
                return None
            attributes, fields = found
            helper_module, _ = project.functions[helper]
            return built_refresh.BuiltRefresh(
                helper, Refresh(committed.anchor, committed.session, committed.returned, False, attributes=attributes),
                helper_module.path, committed.line, classes.short(committed.model), fields,
                source="its helper commits and returns",
            )
        # a parameter: its class is the route's object's, refreshed on the route's Session
        session = _route_session(project, route, call, helper, committed, names)
        handed = _argument(project, helper, call, committed.returned)
        if session is None or handed is None:
            return None
        source = _route_object(project, route, body[:last], handed, session, moving)
        if source is None:
            return None
        model, _ = source
        found = _attributes(project, model, risks)
        if found is None:
            return None
        attributes, fields = found
        target = name if name is not None else _free_name(node)
        return built_refresh.BuiltRefresh(
            route, Refresh(call.index, session, target, False, attributes=attributes, returned=name is None),
            module.path, call.line, classes.short(model), fields, source="the route's helper commits and returns",
        )
    # `name` comes from earlier; the statement commits it
    if call.receiver in names and call.method == "commit":
        session = call.receiver
    else:
        helper = _helper(project, route, call, moving)
        committed = _committed(project, helper, moving, trees, False) if helper is not None else None
        if helper is None or committed is None:
            return None
        session = _route_session(project, route, call, helper, committed, names)
        if session is None:
            return None
    source = _route_object(project, route, body[:last], name, session, moving)
    if source is None:
        return None
    model, maybe_none = source
    found = _attributes(project, model, risks)
    if found is None:
        return None
    attributes, fields = found
    return built_refresh.BuiltRefresh(
        route, Refresh(call.index, session, name, maybe_none, attributes=attributes),
        module.path, call.line, classes.short(model), fields, source="the route commits",
    )


def _single_return(node: Node) -> bool:
    """One `return` in the function (the last statement's), and no `yield`, nor in the defs and
    classes at the top of its body."""
    own = own_nodes(node.body) + [n for s in node.body if isinstance(s, SCOPES) for n in own_nodes(s.body)]
    return sum(isinstance(n, ast.Return) for n in own) == 1 and not any(
        isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own
    )


def _uses(call: facts.Call, names: set[str] | frozenset[str]) -> bool:
    return call.receiver in names or any(a.name in names for a in call.args)


def _inside(stmt: ast.stmt, line: int) -> bool:
    return stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno)


def _calls_in(function: facts.Function, stmt: ast.stmt) -> list[facts.Call]:
    return [c for c in function.calls if _inside(stmt, c.line)]


def _ast_calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _last_session_statement(
    project: Project, fid: FunctionId, body: list[ast.stmt], names: set[str], moving: set[FunctionId]
) -> int | None:
    """The index of the last statement of `body` doing Session work: a call on or given a
    Session parameter, or of a function migrating with the route."""
    _, function = project.functions[fid]
    edges = {e.call.index: e for e in project.all_calls_from.get(fid, ())}
    found = None
    for index, stmt in enumerate(body[:-1]):
        for call in _calls_in(function, stmt):
            edge = edges.get(call.index)
            if _uses(call, names) or (edge is not None and edge.callee in moving):
                found = index
    return found


def _helper(project: Project, fid: FunctionId, call: facts.Call, moving: set[FunctionId]) -> FunctionId | None:
    edges = [e for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index]
    if len(edges) != 1 or not edges[0].certain or edges[0].callee not in moving or edges[0].callee == fid:
        return None
    return edges[0].callee


def _sessions(project: Project, fid: FunctionId) -> dict[str, str]:
    """The Sessions a function works on, as written there -> the parameter or attribute path."""
    _, function = project.functions[fid]
    found = {name: name for name in project.session_names(fid)}
    holder = holders.holder_of(project, fid)
    if holder is not None and function.params:
        first = function.params[0].name
        found.update({f"{first}.{a}": f"{first}.{a}" for a in holder.attributes})
    return found


def _written(node: ast.AST) -> str | None:
    """`db` or `self.db`: a name or one attribute of a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _session_call(call: ast.Call, sessions: dict[str, str]) -> tuple[str, str] | None:
    """(the Session as written, the method) of a call on a Session."""
    func = call.func
    if isinstance(func, ast.Attribute):
        written = _written(func.value)
        if written in sessions:
            return written, func.attr
    return None


def _hands_session(call: ast.Call, sessions: dict[str, str]) -> bool:
    return any(
        _written(a.value if isinstance(a, ast.Starred) else a) in sessions for a in call.args
    ) or any(_written(k.value) in sessions for k in call.keywords)


def _committed(
    project: Project, fid: FunctionId, moving: set[FunctionId], trees: Callable[[str], ast.Module | None],
    returning: bool,
) -> _Committed | None:
    """`fid` as `_Committed`, when its own body's last Session work is `session.commit()` (or a
    whole `session.refresh(name)` right after it, `name` the object it returns) in a statement of
    that body; with `returning`, it ends `return name` of an object it builds, gets, or is handed,
    added or refreshed there."""
    module, function = project.functions[fid]
    node = function_node(trees(module.path), function)
    body = after_docstring(node.body) if node is not None else []
    if node is None or not body or (not _single_return(node) if returning else any(
        isinstance(n, ast.Return) for n in own_nodes(node.body)
    )):
        return None  # an early return skips the commit
    sessions = _sessions(project, fid)
    if not sessions:
        return None
    own = own_nodes(node.body)
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        return None
    nested = [n for s in own if isinstance(s, SCOPES) for n in ast.walk(s)]
    if any(isinstance(n, (ast.Name, ast.Attribute)) and _written(n) in sessions for n in nested):
        return None
    # Session work, by statement of the own body: compound statements may do it before the commit only
    working: list[tuple[int, ast.Call]] = []
    for index, stmt in enumerate(body):
        for call in _ast_calls(stmt):
            on = _session_call(call, sessions)
            if on is not None:
                if on[1] in _DETACHES:
                    return None
                working.append((index, call))
            elif _hands_session(call, sessions):
                if not _keeps_handed(project, fid, call, _DEPTH):
                    return None
                working.append((index, call))
    if not working or not _keeps(project, fid, _DEPTH):
        return None
    name = None
    if returning:
        last = body[-1]
        if not isinstance(last, ast.Return) or not isinstance(last.value, ast.Name):
            return None
        name = last.value.id
    index, final = working[-1]
    on = _session_call(final, sessions)
    refreshed = (
        on is not None and on[1] == "refresh" and name is not None and len(final.args) == 1 and not final.keywords
        and isinstance(final.args[0], ast.Name) and final.args[0].id == name
    )
    commit_at = index
    if refreshed:
        if len(working) < 2:
            return None
        commit_at, commit = working[-2]
        if on is None or _session_call(commit, sessions) != (on[0], "commit") or commit_at >= index:
            return None
    elif on is None or on[1] != "commit":
        return None
    session = on[0]
    # both a statement of the body of their own, so every path to the end runs them
    for at in {commit_at, index}:
        if not isinstance(body[at], ast.Expr) or len(_ast_calls(body[at])) != 1:
            return None
    # after it only calls handed neither the Session nor the object, of nothing migrating
    if not _quiet_after(project, fid, body[index + 1:-1 if returning else None], name, set(sessions), moving):
        return None
    facts_calls = [c for c in function.calls if c.line == final.lineno and not c.nested]
    if len(facts_calls) != 1:
        return None
    anchor = facts_calls[0]
    if not returning:
        return _Committed(fid, session, anchor.index, anchor.line)
    assert name is not None
    # the object: a parameter, or built or got here; added, refreshed or got on that Session
    params = [p.name for p in function.params]
    if sum(b.name == name for b in function.bindings) > (0 if name in params else 1):
        return None
    placed = any(_places(stmt, session, sessions, name) for stmt in body)
    if name in params:
        return _Committed(fid, session, anchor.index, anchor.line, name, param=True) if placed else None
    model = built_refresh._built(project, fid, name)
    if model is None or not placed:
        return None
    return _Committed(fid, session, anchor.index, anchor.line, name, model=model)


def _places(stmt: ast.stmt, session: str, sessions: dict[str, str], name: str) -> bool:
    """`session.add(name)` or `session.refresh(name)` as a statement of its own."""
    value = stmt.value if isinstance(stmt, ast.Expr) else None
    if not isinstance(value, ast.Call):
        return False
    on = _session_call(value, sessions)
    return (
        on is not None and on[0] == session and on[1] in ("add", "refresh") and len(value.args) == 1
        and not value.keywords and isinstance(value.args[0], ast.Name) and value.args[0].id == name
    )


def _keeps_handed(project: Project, fid: FunctionId, call: ast.Call, depth: int) -> bool:
    """The call handing the Session on runs project code that never detaches nor expires."""
    _, function = project.functions[fid]
    found = [c for c in function.calls if c.line == call.lineno and not c.nested]
    edges = [e for e in project.all_calls_from.get(fid, ()) for c in found if e.call.index == c.index]
    return bool(edges) and all(e.certain and _keeps(project, e.callee, depth - 1) for e in edges)


def _keeps(project: Project, fid: FunctionId, depth: int) -> bool:
    """A function never deletes, expunges, expires, rolls back or closes on the Sessions it is
    handed, nor hands them to one that might."""
    if depth <= 0:
        return False
    _, function = project.functions[fid]
    names = project.session_names(fid)
    if any(c.receiver in names and c.method in _DETACHES for c in function.calls):
        return False
    if any(holders.held_call(project, fid, c.func) in _DETACHES for c in function.calls):
        return False
    edges = project.all_calls_from.get(fid, ())
    holder = holders.holder_of(project, fid)
    if holder is not None and any(
        e.callee in holder.methods and e.callee != fid and not _keeps(project, e.callee, depth - 1) for e in edges
    ):
        return False
    for call in function.calls:
        if any(a.name in names for a in call.args):
            edges = [e for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index]
            if not edges or not all(e.certain and _keeps(project, e.callee, depth - 1) for e in edges):
                return False
    return True


def _quiet_after(
    project: Project, fid: FunctionId, stmts: list[ast.stmt], name: str | None, sessions: set[str],
    moving: set[FunctionId],
) -> bool:
    """Nothing in `stmts` can reach the Session or change the object `name`: simple statements
    whose calls are handed no Session, no dependency value and no `self`, the object only as
    `name.attribute`, of no function migrating with the route; no store of an attribute of it."""
    _, function = project.functions[fid]
    guarded = set(sessions) | {p.name for p in function.params if p.depends is not None}
    if function.params and function.params[0].name in ("self", "cls"):
        guarded.add(function.params[0].name)
    edges = {e.call.index: e for e in project.all_calls_from.get(fid, ())}
    for stmt in stmts:
        if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)):
            return False
        for node in ast.walk(stmt):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
                if isinstance(node.value, ast.Name) and node.value.id == name:
                    return False
            if isinstance(node, ast.Name) and node.id in guarded:
                return False
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                return False
        for call in _ast_calls(stmt):
            handed = [*call.args, *(k.value for k in call.keywords)]
            if name is not None and any(
                isinstance(n, ast.Name) and n.id == name and not _read_column(h, n)
                for h in handed for n in ast.walk(h)
            ):
                return False
            if isinstance(call.func, ast.Attribute) and _written(call.func.value) == name:
                return False
        for made in _calls_in(function, stmt):
            edge = edges.get(made.index)
            if made.nested or (edge is not None and edge.callee in moving):
                return False
    return True


def _read_column(tree: ast.AST, name: ast.Name) -> bool:
    """`name` is read as `name.attribute` there (not handed on whole)."""
    return any(isinstance(n, ast.Attribute) and n.value is name for n in ast.walk(tree))


def _route_session(
    project: Project, route: FunctionId, call: facts.Call, helper: FunctionId, committed: _Committed, names: set[str]
) -> str | None:
    """The route's Session parameter handed to the helper as the Session it commits on."""
    edges = [e for e in project.all_calls_from.get(route, ()) if e.call.index == call.index and e.callee == helper]
    if len(edges) != 1:
        return None
    given = edges[0].session_args.get(committed.session)
    _, function = project.functions[route]
    params = {p.name for p in function.params}
    return given if given in names and given in params else None


def _argument(project: Project, helper: FunctionId, call: facts.Call, param: str | None) -> str | None:
    """The route's local name handed to the helper's parameter `param` (by keyword, or by position
    before any keyword or star)."""
    if param is None:
        return None
    if any(a.keyword in ("*", "**") for a in call.args):
        return None
    for arg in call.args:
        if arg.keyword == param:
            return arg.name
    _, function = project.functions[helper]
    params = [p.name for p in function.params]
    if params and params[0] in ("self", "cls") and call.receiver is None:
        params = params[1:]
    positional = [a for a in call.args if a.keyword is None]
    if param in params and params.index(param) < len(positional):
        return positional[params.index(param)].name
    return None


def _route_object(
    project: Project, route: FunctionId, before: list[ast.stmt], name: str, session: str, moving: set[FunctionId]
) -> tuple[str, bool] | None:
    """(the mapped class, maybe None) of the route's object `name`, bound once by a statement of
    `before`: got by a helper migrating with the route from `session` (`return session.get(M, ...)`),
    or built `name = Model(...)` and added with `session.add(name)` there."""
    _, function = project.functions[route]
    if sum(b.name == name for b in function.bindings) < 1:
        return None
    binding = [
        (index, stmt) for index, stmt in enumerate(before)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == name
    ]
    stores = [n for s in before for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)]
    if len(binding) != 1 or len(stores) != 1 or not isinstance(binding[0][1].value, ast.Call):
        return None
    index, stmt = binding[0]
    calls = _calls_in(function, stmt)
    if len(calls) != 1:
        return None
    call = calls[0]
    built = built_refresh._built(project, route, name)
    if built is not None:
        added = any(
            c.receiver == session and c.method == "add" and c.args and c.args[0].name == name and not c.nested
            and any(_inside(s, c.line) and isinstance(s, ast.Expr) for s in before[index + 1:])
            for c in function.calls
        )
        return (built, False) if added else None
    helper = _helper(project, route, call, moving)
    if helper is None:
        return None
    edges = [e for e in project.all_calls_from.get(route, ()) if e.call.index == call.index]
    model = gotten(project, helper, call.callee, {k for k, v in edges[0].session_args.items() if v == session})
    if model is None:
        return None
    guarded = any(_none_exit(s, name) for s in before[index + 1:])
    return model, not guarded


def _none_exit(stmt: ast.stmt, name: str) -> bool:
    """`if name is None [or ...]:` ending in `raise` or `return`, with no `else`."""
    if not isinstance(stmt, ast.If) or stmt.orelse or not stmt.body or not isinstance(stmt.body[-1], (ast.Raise, ast.Return)):
        return False
    tests = stmt.test.values if isinstance(stmt.test, ast.BoolOp) and isinstance(stmt.test.op, ast.Or) else [stmt.test]
    return any(
        isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == name and len(t.ops) == 1
        and isinstance(t.ops[0], ast.Is) and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None
        for t in tests
    )


def _attributes(project: Project, model: str, risks: list[LazyLoadRisk]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The relationships to name and the response fields they load, when each is a relationship
    of `model` a refresh loads."""
    classes = project_classes(project)
    found = built_refresh.refreshed(classes, model, risks)
    if found is None:
        return None
    flow = Flow(project, classes, set())
    if any(flow.relationship(model, a) not in ("select", *EAGER_STRATEGIES) for a in found[0]):
        return None
    return found


def _free_name(node: Node) -> str:
    """`result` (or `result_2`, ...): a name the function never uses."""
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        a.arg for a in ast.walk(node) if isinstance(a, ast.arg)
    }
    candidate, number = "result", 1
    while candidate in used:
        number += 1
        candidate = f"result_{number}"
    return candidate
