"""Database connections the whole process shares, which threads must not share (AM144, AM336).

A connection made once and kept for every request: `conn = sqlite3.connect(...)` (or any DB-API
driver's `connect`, `vocabulary/dbapi.py`), `conn = engine.connect()`, `engine.raw_connection()`, a
cursor of one, held by a module global, a class attribute, `self.conn` of an instance the process
keeps, the application's state (`app.state.conn`, set in the lifespan), or an `@lru_cache` function
returning one (each caller gets the one it opened first). An `async def` route
uses it on the event loop's thread, one request at a time, and that is the thread that made it at
import or in the lifespan; a `def` route runs in FastAPI's threadpool, several requests at once,
each on a worker thread. A sqlite3 connection refuses every call from another thread
(`check_same_thread`); no DB-API connection, SQLAlchemy `Connection` or cursor is safe to use from
several threads at once (one transaction and one protocol stream for all of them). A connection
opened per request (`with engine.connect() as conn:` in the route, a dependency yielding one) and
an Engine (a pool handing each thread a connection) are fine.

Found from a handler down the functions it calls (`Project.all_calls_from`): a method called on
such an object, or the object handed to a call; through a local name bound to it and a
dependency returning it. An imported name the analysis cannot resolve is not reported: `check`
does not report an unresolved Session in a `def` handler either (AM324 needs certainty).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import CONNECTION, ENGINE, INSTANCE, split
from async_migrate.codemods.vocabulary.dbapi import CONNECTS, CURSOR, THREAD_CHECKS
from async_migrate.codemods.vocabulary.python import CACHES
from async_migrate.codemods.vocabulary.sqlalchemy import RAW_CONNECTION

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 8  # calls followed from the handler, and local names followed to what made them
# The last name of a call that may make such an object: a cheap first test of a whole project.
_MAKERS = frozenset({"connect", "Connect", "Connection", RAW_CONNECTION, CURSOR})


@dataclass(frozen=True, slots=True)
class Made:
    """What a process-wide object is, for a reason, and whether it refuses other threads:
    True (sqlite3 as made), False (made with `check_same_thread=False`, or no such check), None
    (the arguments are not read)."""

    what: str
    affine: bool | None


@dataclass(frozen=True, slots=True)
class BoundUse:
    """One use of a process-wide connection: where, the call as written, and what holds it."""

    path: str
    line: int
    call: str
    holder: str
    affine: bool | None
    # `self.x` in a method of this class, opened into `self.x` by a method of it: shared only
    # where the handler works on a process-wide instance of the class.
    instance_of: str | None = None

    def harm(self) -> str:
        """What concurrent worker threads would do with it."""
        shared = (
            "concurrent requests would use it from several threads at once, which no database connection "
            "allows (they share its one transaction: statements interleave, one request commits or rolls "
            "back another's work, the driver's protocol state is corrupted)"
        )
        if self.affine:
            return (
                "in a worker thread every call raises sqlite3.ProgrammingError (objects created in a thread "
                "can only be used in that same thread), so every request fails; and " + shared
            )
        if self.affine is None:
            return shared + "; a sqlite3 connection made without `check_same_thread=False` also refuses every "\
                "call from a worker thread"
        return shared


def thread_bound_uses(project: Project, fid: FunctionId) -> list[BoundUse]:
    """Uses of a process-wide connection by `fid` and the project functions it calls, in call order."""
    if not _possible(project):
        return []
    found: list[BoundUse] = []
    for current in _reach(project, fid):
        found.extend(_own_cached(project, current))
    return _on_instances(project, fid, found)


def offloaded_bound_uses(project: Project, fid: FunctionId) -> list[BoundUse]:
    """Uses of a process-wide connection in the work `fid` (an `async def` handler) hands to a
    worker thread, in call order: a function it offloads and what that calls (`await
    run_in_threadpool(count)`), a method of the connection handed over (`asyncio.to_thread(conn.execute,
    sql)`) and a lambda's work (`run_in_threadpool(lambda: conn.execute(sql))`). Each request runs
    it on a worker thread of its own, several at once, as the threadpool runs a `def` route. Work
    handed to an executor of the project's own (`loop.run_in_executor(executor, f)`, perhaps one
    thread kept for that connection) counts only for a connection that refuses every thread but
    its creator's (sqlite3 as made)."""
    if not _possible(project):
        return []
    _, function = project.functions[fid]
    own = [c for c in function.calls if c.offloaded]
    if not own:
        return []
    lines = {c.line for c in own}
    executor = {c.line for c in function.calls if c.line in lines and _own_executor(c)}
    # an own executor's one thread may be the one the connection is always used from
    found = [
        use for use in _own_cached(project, fid) if use.line in lines and (use.line not in executor or use.affine)
    ]
    reached: set[FunctionId] = set()
    for edge in project.all_calls_from.get(fid, ()):
        if not edge.call.offloaded:
            continue
        for current in _reach(project, edge.callee):
            if current in reached:
                continue
            reached.add(current)
            found.extend(
                use for use in _own_cached(project, current) if edge.call.line not in executor or use.affine
            )
    return _on_instances(project, fid, found)


def _own_executor(call: facts.Call) -> bool:
    """Whether `call` is `loop.run_in_executor(executor, ...)` with an executor named (not `None`)."""
    name = call.func or call.callee or ""
    if name.rpartition(".")[2] != "run_in_executor":
        return False
    first = next((a for a in call.args if a.position == 0 or a.keyword == "executor"), None)
    return first is not None and (first.name or first.ref or first.expr or "None") != "None"


def _own_cached(project: Project, fid: FunctionId) -> list[BoundUse]:
    cache: dict[FunctionId, list[BoundUse]] = project.derived.setdefault("thread_bound.own", {})  # type: ignore[assignment]
    if fid not in cache:
        cache[fid] = _own_uses(project, fid)
    return cache[fid]


def _on_instances(project: Project, fid: FunctionId, found: list[BoundUse]) -> list[BoundUse]:
    """`found` without the uses of `self.x` on a class `fid` holds no process-wide instance of."""
    from async_migrate.codemods.phase1.shared_session import on_process_wide_instances

    return on_process_wide_instances(
        project, fid, found,
        lambda use, instance: replace(use, holder=use.holder.format(instance=project.written(instance)), instance_of=None),
    )


def _possible(project: Project) -> bool:
    """Whether anything in the project makes or stores what may be such an object."""
    known = project.derived.get("thread_bound.possible")
    if known is None:
        def maker(expression: str | None) -> bool:
            return bool(expression) and expression.partition("(")[0].rpartition(".")[2] in _MAKERS  # type: ignore[union-attr]

        known = any(
            maker(value.ref) for module in project.modules.values() for value in module.values.values()
        ) or any(
            maker(expression)
            for _, function in project.functions.values()
            for expression in (
                *(e for _, e in function.assigns), *(s[3] for s in function.attribute_stores),
                *(s[3] for s in function.state_assigns),
            )
        ) or any(
            maker(expression)
            for _, function in project.functions.values()
            if any(project.canonical(d.callee) in CACHES for d in function.decorators)
            for expression in function.returned
        ) or any(maker(callee) for _, cls in project.flow.classes.by_ref.values() for callee in cls.built.values()) or any(
            maker(expression) for sets in project.flow.module_state_assignments().values() for _, expression, _ in sets
        )
        project.derived["thread_bound.possible"] = known
    return bool(known)


def _reach(project: Project, fid: FunctionId) -> list[FunctionId]:
    seen = {fid}
    order = [fid]
    frontier = [fid]
    for _ in range(_DEPTH):
        following = []
        for current in frontier:
            for edge in project.all_calls_from.get(current, ()):
                if edge.callee not in seen:
                    seen.add(edge.callee)
                    following.append(edge.callee)
        order.extend(following)
        frontier = following
        if not frontier:
            break
    return order


def _own_uses(project: Project, fid: FunctionId) -> list[BoundUse]:
    module, function = project.functions[fid]
    uses: list[BoundUse] = []
    seen: set[int] = set()
    # a chain's calls, outermost first: the innermost one is the call on the object itself
    calls = sorted(function.calls, key=lambda c: (c.line, len(c.func or c.callee or "")))
    for call in calls:
        if call.line in seen:
            continue
        expression = call.func if call.func is not None else call.callee
        if expression is not None:
            receiver, dot, _ = expression.rpartition(".")
            found = _holder(project, fid, receiver, 0) if dot else None
            if found is not None:
                holder, made, cls = found
                seen.add(call.line)
                uses.append(BoundUse(module.path, call.line, f"{project.written(expression)}()", holder, made.affine, cls))
                continue
        for arg in call.args:
            written = arg.expr or arg.ref or (f"${arg.name}" if arg.name else None)
            found = _holder(project, fid, written, 0) if written else None
            if found is not None:
                holder, made, cls = found
                seen.add(call.line)
                callee = project.written(expression or "")
                uses.append(BoundUse(module.path, call.line, f"{callee}(...)", holder, made.affine, cls))
                break
    return uses


def _holder(project: Project, fid: FunctionId, receiver: str, depth: int) -> tuple[str, Made, str | None] | None:
    """`_find_holder`, each answer kept: a name bound several times, each binding naming others
    bound several times, branches at every step, which without the kept answers costs the number
    of bindings to the power of the depth (minutes on a large service)."""
    kept: dict[tuple[FunctionId, str, int], tuple[str, Made, str | None] | None] = project.derived.setdefault(
        "thread_bound.holder", {}
    )  # type: ignore[assignment]
    key = (fid, receiver, depth)
    if key not in kept:
        kept[key] = _find_holder(project, fid, receiver, depth)
    return kept[key]


def _read_steps(steps: tuple[str, ...]) -> str:
    """The steps after a name that `_find_holder` may read, joined, once other steps come before
    them: up to the first call, which ends a dotted name a plain binding's target would take in
    (`conn = db` then `$conn.pool.cursor().x`: `db.pool.cursor`), and up to the third attribute
    (`request.app.state.conn`); all of them where no call ends the name. A name bound from itself
    (`df = df.rename(...)`, `df = df.drop(...)`) adds steps at every binding followed, and without
    the cut each order of those methods is a new expression to search (the bindings to the power
    of the depth: minutes and gigabytes on a data-frame pipeline); with it the search reads the
    same steps and gives the same answer."""
    if "()" not in steps:
        return "".join(steps)
    call = steps.index("()")
    names = [i for i, step in enumerate(steps) if step != "()"]
    end = max(call, names[min(2, len(names) - 1)] if names else 0, 1)
    return "".join(steps[: end + 1])


def _find_holder(project: Project, fid: FunctionId, receiver: str, depth: int) -> tuple[str, Made, str | None] | None:
    """What makes `receiver` (a flow expression) a process-wide connection: (the holder for a
    reason, what it is, the class whose process-wide instance it must be on, or None); None when
    it is none (a local opened per request, an engine, anything unknown)."""
    from async_migrate.codemods.phase1.shared_session import dependency_hands

    if not receiver or receiver == "super()" or depth > _DEPTH:
        return None
    head, steps = split(receiver)
    flow = project.flow
    if head.startswith("$"):
        names = [step[1:] for step in steps if step != "()"]
        if head in ("$self", "$cls") and names and steps[0] != "()":
            return _self_held(project, fid, names[0], f"{head[1:]}.{names[0]}")
        state = _app_state(project, fid, head, steps)
        if state is not None:
            return state
        name = head[1:]
        _, function = project.functions[fid]
        rest = _read_steps(steps)
        bound = [b for b in function.bindings if b.name == name]
        if bound:
            if any(b.entered or b.expr == facts.UNSPELLED for b in bound):
                return None  # `with engine.connect() as conn`: opened and closed here
            for binding in bound:
                found = _holder(project, fid, binding.expr + rest, depth + 1)
                if found is not None:
                    return found
            return None
        param = next((p for p in function.params if p.name == name), None)
        depends = project.param_dependency(param) if param is not None else None
        if param is None or depends is None or param.opaque_depends:
            return None
        hands = dependency_hands(project, depends)
        if hands is None:
            return None
        dependency, _, _, handed = hands
        cached = _cached(project, depends, depth)
        if cached is not None:
            holder, made = cached
            return f"`{name}`, {holder}", made, None
        for expression in handed:
            found = _holder(project, dependency, expression + rest, depth + 1)
            if found is not None:
                holder, made, cls = found
                return f"`{name}`, which `{depends.rpartition('.')[2]}()` hands out: {holder}", made, cls
        return None
    if steps[:1] == ("()",):
        cached = _cached(project, head, depth)
        if cached is not None:
            return cached[0], cached[1], None
    parts = head.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        cls = flow.classes.resolve(prefix)
        written = project.written(".".join(parts[: end + 1]))
        if cls is not None:
            return _class_held(project, cls, parts[end], written) if end < len(parts) else None
        target = project.resolve(prefix)
        if target is None or target.kind == "function":
            continue
        if target.kind != "value" or target.value is None or target.module is None:
            return None
        where = f"{target.module.path}:{target.value.line}" if target.value.line else target.module.path
        global_made = _module_made(project, prefix, target.value, depth)
        if global_made is not None:
            what = global_made.what
            return f"`{project.written(prefix)}`, {what} made once at import time ({where})", global_made, None
        if end < len(parts):
            if flow.module_application(prefix) and parts[end] == "state" and end + 1 < len(parts):
                return _state_held(project, parts[end + 1], written)
            for value in flow.ref(prefix):
                if value.kind != INSTANCE or not isinstance(value.target, str):
                    continue
                kept = _class_held(project, value.target, parts[end], project.written(".".join(parts[: end + 1])))
                if kept is not None:
                    return kept
                opened = _opened_in(project, value.target, parts[end])
                if opened is not None:
                    method, made = opened
                    return (
                        f"`{project.written('.'.join(parts[: end + 1]))}`, {made.what} `{method}` opens once on "
                        "the module-level instance "
                        f"`{parts[end - 1]}` ({where})", made, None,
                    )
        return None
    return None


def _cached(project: Project, ref: str, depth: int) -> tuple[str, Made] | None:
    """A connection an `@lru_cache` / `@cache` project function opens and returns: the cache
    hands every caller the one it opened first (`get_conn().execute(...)`, `Depends(get_conn)`)."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.function is None or target.module is None:
        return None
    function = target.function
    cache = next((c for d in function.decorators if (c := project.canonical(d.callee)) in CACHES), None)
    if cache is None or function.is_generator:
        return None
    fid = (target.module.name, function.key)
    for expression in function.returned:
        made = _made_by(project, fid, expression)
        if made is None:
            found = _holder(project, fid, expression, depth + 1)
            made = found[1] if found is not None else None
        if made is not None:
            return (
                f"{made.what} the `@{cache.rpartition('.')[2]}` function `{function.qualname}` "
                f"({target.module.path}:{function.line}) opens once and hands every caller", made,
            )
    return None


def _module_made(project: Project, ref: str, value: facts.Value, depth: int) -> Made | None:
    """What the module-level `ref = <call>` made, when it is a connection or a cursor of one."""
    if value.kind != "call" or not value.ref:
        return None
    made = _called(project, None, value.ref, value.args, depth)
    if made is not None:
        return made
    if CONNECTION in {v.kind for v in project.flow.ref(ref)}:
        return Made("a SQLAlchemy Connection", False)
    return None


def _called(
    project: Project, fid: FunctionId | None, callee: str, args: tuple[facts.CallArg, ...] | None, depth: int
) -> Made | None:
    """What calling `callee` makes, when it is a connection or a cursor of one: a DB-API
    `connect`, an engine's `raw_connection()`, a SQLAlchemy Connection, a cursor of any of them."""
    library = CONNECTS.get(project.canonical(callee) or callee)
    if library is not None:
        keyword = THREAD_CHECKS.get(library)
        if keyword is None:
            return Made(f"a {library} connection", False)
        if args is None:
            return Made(f"a {library} connection", None)
        given = next((a.text.strip() for a in args if a.keyword == keyword), None)
        if given is None or given == "True":
            return Made(f"a {library} connection (usable only from the thread that made it)", True)
        return Made(f"a {library} connection (`{keyword}={given}`)", False)
    receiver, dot, method = callee.rpartition(".")
    if not dot:
        return None
    if method == RAW_CONNECTION and ENGINE in {v.kind for v in project.flow.evaluate(fid, receiver)}:  # type: ignore[arg-type]
        return Made("a DB-API connection taken from the engine's pool", False)
    if method == CURSOR:
        inner = None if receiver.startswith("$") else _module_target(project, receiver, depth)
        if inner is not None:
            return Made(f"a cursor of {inner.what}", inner.affine)
    if fid is not None and CONNECTION in {v.kind for v in project.flow.evaluate(fid, f"{callee}()")}:
        return Made("a SQLAlchemy Connection", False)
    return None


def _module_target(project: Project, ref: str, depth: int) -> Made | None:
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or depth > _DEPTH:
        return None
    return _module_made(project, ref, target.value, depth + 1)


def _made_by(project: Project, fid: FunctionId | None, expression: str) -> Made | None:
    """What an assigned expression (`sqlite3.connect()`, `$engine.connect()`) makes, or None."""
    if not expression.endswith("()") or "(" in expression[:-2]:
        return None
    return _called(project, fid, expression[:-2], None, 0)


def _class_held(project: Project, cls: str, attribute: str, written: str) -> tuple[str, Made, str | None] | None:
    """A class attribute made in the class body (or set on it at module level): one object."""
    classes = project.flow.classes
    for ancestor in classes.mro(cls):
        built = classes.built(ancestor, attribute)
        made = _called(project, None, built, None, 0) if built is not None else None
        if made is not None:
            module, declared = classes.by_ref[ancestor]
            return (
                f"`{written}`, {made.what}, a class attribute of `{declared.qualname}` "
                f"({module.path}:{declared.line}) made once at import time", made, None,
            )
    return None


def _opened_in(project: Project, cls: str, attribute: str) -> tuple[str, Made] | None:
    """The method of `cls` (or a base) that opens a connection into `self.attribute`, and what it is."""
    classes = project.flow.classes
    for ancestor in classes.mro(cls):
        for assigning, expression in classes.assigned.get((ancestor, attribute), ()):
            made = _made_by(project, assigning, expression)
            if made is not None:
                return project.functions[assigning][1].qualname, made
    return None


def _self_held(project: Project, fid: FunctionId, attribute: str, written: str) -> tuple[str, Made, str | None] | None:
    owner = project.flow.classes.owner(fid)
    if owner is None:
        return None
    held = _class_held(project, owner, attribute, written)
    if held is not None:
        return held
    opened = _opened_in(project, owner, attribute)
    if opened is None:
        return None
    method, made = opened
    return (
        f"`{written}`, {made.what} `{method}` opens once and keeps on the instance `{{instance}}` every "
        "request gets", made, owner,
    )


def _app_state(
    project: Project, fid: FunctionId, head: str, steps: tuple[str, ...]
) -> tuple[str, Made, str | None] | None:
    """`request.app.state.conn` (or a local bound to `request.app.state.conn`, a dependency
    returning it): what the lifespan, a startup handler or the module stores there."""
    flow = project.flow
    names = tuple(step[1:] for step in steps if step != "()")
    if names[:2] == ("app", "state") and len(names) > 2 and flow.request_param(fid, head[1:]):
        attribute = names[2]
    else:
        from async_migrate.codemods.flow import app_state_name

        path = app_state_name(flow, fid, head[1:])
        if not path:
            return None
        attribute = path[0]
    return _state_held(project, attribute, f"app.state.{attribute}")


def _state_held(project: Project, attribute: str, written: str) -> tuple[str, Made, str | None] | None:
    flow = project.flow
    for holder, head, expression, line in flow.state_assignments().get(attribute, ()):
        if flow._state_owner(holder, head) != "app":
            continue
        made = _made_by(project, holder, expression)
        if made is not None:
            path = project.functions[holder][0].path
            return f"`{written}`, {made.what} stored on the application's state at {path}:{line}", made, None
    for path, expression, line in flow.module_state_assignments().get(attribute, ()):
        made = _made_by(project, None, expression)
        if made is not None:
            return f"`{written}`, {made.what} stored on the application's state at {path}:{line}", made, None
    return None
