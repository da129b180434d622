"""Attributes read after a commit that expired them, in a handler already on an AsyncSession (check's AM314).

A hand-made `async_sessionmaker(engine)` keeps `expire_on_commit=True`: `await session.commit()`
then `order.id` refreshes the row, which on an AsyncSession raises MissingGreenlet. `expired_reads`
finds such reads after an awaited `commit()`, `rollback()`, `expire_all()` or `expire(obj[, attrs])`
on objects the handler added or loaded, with no awaited `refresh()` between, where the Session's
expiry is known (a module-level `async_sessionmaker(...)` or `AsyncSession(...)` the analysis reads).
Only an expiry after the Session came to hold the object reaches it; a commit ending a `try` body
reaches none of its `except` handlers; a rollback expunges what the transaction added (kept as set)
and expires the persistent objects. `rolled_back_reads`: savepoints and transaction blocks rolled
back. An object handed to a project function after the commit is read there (`handed_read`); to a
function the analysis cannot read, unverified, never passed; returned under a response model, read
by FastAPI's serialiser. A commit through an object holding the Session (`await
repo.restock_all(10)`, the end of `async with uow:`) is one as well (`held_commits`). Examples:
`codemods/rules/am314_missing_greenlet.py`.

Over 500 lines: every expiry AM314 reads in a handler's own body (commits, rollbacks, `expire()`,
savepoints, flushes of generated columns) shares the object, refresh and read finders here.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.held_commits import (
    ROLLS_BACK,
    UNSURE,
    held_commits,
    held_expires,
    module_sessions,
)
from async_migrate.codemods.helper_expiries import helper_expiries
from async_migrate.codemods.loader_objects import loader_objects
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.phase2.handed_built import handed_read
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_SESSIONMAKERS

# What a call handing an expired object to code the analysis cannot read says (check words it apart).
UNVERIFIED = "which may read what the commit expired: unverified, not cleared"

# What a read after a commit whose expiry the analysis cannot read says (check words it apart).
EXPIRY_UNKNOWN = "whose `expire_on_commit` the analysis cannot read: unverified, not cleared"

# What a read after a commit on an object the analysis cannot tell the committing Session holds
# says (a dependency's on the route's Session dependency whose loading it cannot trace).
HELD_UNKNOWN = "on an object the analysis cannot tell that AsyncSession holds: unverified, not cleared"

# Session methods after which every object it holds is expired whatever the sessionmaker says.
_ALWAYS_EXPIRE = frozenset({"rollback", "expire_all"})


def expired_reads(
    project: Project, fid: FunctionId, sessions: list[str], given: dict[str, bool] | None = None,
    models: list[str] | None = None,
) -> list[Blocking]:
    """Each first read of an expired object's attribute after the commit expiring it. `given`:
    whether a Session here (by name) expires on commit, where the caller knows it (a project
    coroutine on the handler's AsyncSession: `callee_expired`); `models`: the response models
    reading what it returns, for a function that is no route (the route returning its result)."""
    given = given or {}
    _, function = project.functions[fid]
    params = {p.name: p for p in function.params}
    found: list[Blocking] = []
    held = held_commits(project, fid)
    shared = module_sessions(project, fid)
    for session in dict.fromkeys([*sessions, *sorted(held), *sorted(shared)]):
        param = params.get(session)
        if session in given:
            expires: bool | None = given[session]
        elif session in shared:
            expires = shared[session]
        else:
            expires = _expires_on_commit(project, param) if param is not None else _opened_expires(project, function, session)
        points = [
            c.line for c in function.calls
            # `expire_all()` is no coroutine on AsyncSession: it expires at once, unawaited
            if c.receiver == session and (c.awaited or c.method == "expire_all") and not c.nested and (
                c.method in _ALWAYS_EXPIRE or (c.method == "commit" and expires)
            )
        ]
        # a commit whose expiry is not known (the handler's own AsyncSession from a sessionmaker
        # the analysis cannot read, one the process shares, or one through a holder): unverified,
        # never passed
        unknown = {
            c.line for c in function.calls
            if expires is None and c.receiver == session and c.awaited and not c.nested and c.method == "commit"
        }
        if session in held:
            through = held_expires(project, fid, session) if "." in session and session not in given else expires
            for line, how in held[session].items():
                if UNSURE in how or through is None and ROLLS_BACK not in how:
                    unknown.add(line)
                elif ROLLS_BACK in how or through:
                    points.append(line)
        # `await finish(db, order)` ending `await db.commit()` (or `db.expire(obj)`, `db.expire_all()`)
        helpers = helper_expiries(project, fid, session) if "." not in session else {}
        expired_one: dict[str, list[int]] = {}
        for line, helper in helpers.items():
            if helper.always or helper.commits and expires:
                points.append(line)
            elif helper.commits and expires is None:
                unknown.add(line)
            for name in helper.names:
                expired_one.setdefault(name, []).append(line)
        named = {**held, session: {**held.get(session, {}), **{line: h.text for line, h in helpers.items()}}}
        points = sorted(set(points) | unknown)
        # `db.expire(order)`: that object, every attribute; `db.expire(order, ["status"])` those only
        for c in function.calls:
            if c.receiver == session and c.method == "expire" and not c.nested and c.args and c.args[0].name and (
                c.args[0].position == 0 or c.args[0].keyword == "instance"
            ):
                expired_one.setdefault(c.args[0].name, []).append(c.line)
        if not points and not expired_one:
            continue
        holding = _objects(project, fid, function, session)
        # what a loader coroutine or a dependency on the same Session dependency gives (`loader_objects`)
        loaders = loader_objects(project, fid, session) if "." not in session else {}
        doubtful = {name for name, (_, held) in loaders.items() if held is None and name not in holding}
        holding.update({name: (line, True) for name, (line, _) in loaders.items() if name not in holding})
        for name in sorted(holding):
            for point in sorted(points + expired_one.get(name, [])):
                since, loaded = holding[name]
                if point < since or point == since and not _block_end(held, session, point):
                    continue  # the Session did not hold it yet: loaded or added after
                if not loaded and point in points and _expunged(function, session, name, point):
                    continue
                only = {a for at, held, a in function.expired_attributes if at == point and held == name} or None
                # an expiry in a block that ends the handler (`except IntegrityError: await
                # db.rollback(); raise HTTPException(409)`) reaches no read below that block
                limit = min((end for start, end in function.exits if start <= point <= end), default=None)
                # the handlers of a `try` the commit ends run when it raised: it expired nothing there
                failed = _failed(function, session, point)
                reads = [r for r in (_first_read(function, name, session, point, only, failed),
                                     _first_handed(project, fid, function, name, session, point, failed))
                         if r is not None and (limit is None or r[0] <= limit)]
                if not reads:
                    reads = [r for r in (_returned_to_model(project, function, name, session, point, failed, models),)
                             if r is not None and (limit is None or r[0] <= limit)]
                if reads:
                    line, written = min(reads, key=lambda read: read[0])
                    doubt = f", {EXPIRY_UNKNOWN}" if point in unknown else f", {HELD_UNKNOWN}" if name in doubtful else ""
                    at = helpers[point].line if point in helpers else point
                    found.append(Blocking(line, f"{written} (expired by the {_expiry(function, session, point, named)} at line {at}{doubt})"))
                    break
    return sorted(found, key=lambda b: b.line)


# Session methods opening a savepoint or the transaction, whose rollback expires what it holds.
_TRANSACTIONS = frozenset({"begin_nested", "begin"})


def rolled_back_reads(project: Project, fid: FunctionId, sessions: list[str]) -> list[Blocking]:
    """Each first attribute read of an object a savepoint's or a transaction block's rollback
    expired: the exception leaving `async with db.begin_nested():` (or `db.begin()`) that ends a
    `try`'s body, read in its `except` handler (or below it, when the handler carries on), and
    `await sp.rollback()` on `sp = await db.begin_nested()`, read after it. Rolling back a
    savepoint expires the objects changed inside it, a transaction every object; objects added
    inside either are expunged, their attributes kept. Whatever `expire_on_commit` says; not where
    an awaited refresh (or an expunge) of the object comes between."""
    _, function = project.functions[fid]
    found: list[Blocking] = []
    for session in sessions:
        opened = [
            c for c in function.calls
            if c.receiver == session and c.method in _TRANSACTIONS and not c.nested
        ]
        if not opened:
            continue
        holding = _objects(project, fid, function, session)
        for c in opened:
            method = c.method or ""
            what = f"`{session}.{method}()` at line {c.line}"
            if not c.awaited:
                # `async with db.begin_nested():` ending a `try`'s body: the handlers run after it rolled back
                handlers = [(start, end) for last, start, end in function.failed_into if last == c.line]
                for index, (start, end) in enumerate(handlers):
                    # the other handlers of that `try` do not run after this one
                    others = [h for i, h in enumerate(handlers) if i != index]
                    ends = (start, end) in function.exits  # the handler raises or returns
                    found.extend(_rolled_back(
                        project, fid, function, session, holding, method, c.line, start, start - 1, end if ends else None, others,
                        f"rollback() of {what}: an exception left its block",
                    ))
                continue
            # `sp = await db.begin_nested()` ... `await sp.rollback()`: the next rollback on another name
            later = [
                r for r in function.calls
                if r.method == "rollback" and r.awaited and not r.nested and r.receiver not in (None, session)
                and r.line > c.line
            ]
            nearer = [o.line for o in opened if o.awaited and o.line > c.line]
            if not later or (nearer and min(nearer) < later[0].line):
                continue
            rollback = min(later, key=lambda r: r.line)
            limit = min((end for start, end in function.exits if start <= rollback.line <= end), default=None)
            found.extend(_rolled_back(
                project, fid, function, session, holding, method, c.line, rollback.line, rollback.line, limit, [],
                f"{rollback.receiver}.rollback() at line {rollback.line}, of {what}",
            ))
    return sorted({(b.line, b.call): b for b in found}.values(), key=lambda b: b.line)


def _rolled_back(
    project: Project, fid: FunctionId, function: facts.Function, session: str, holding: dict[str, tuple[int, bool]], method: str, opened: int,
    rolled: int, point: int, limit: int | None, skip: list[tuple[int, int]], why: str,
) -> list[Blocking]:
    """The first read after line `point` (up to `limit`, none in `skip`) of each object the
    rollback at line `rolled` of what opened at line `opened` expires."""
    changed = {receiver for line, receiver, _ in function.stores if opened <= line < rolled}
    found: list[Blocking] = []
    for name, (since, loaded) in sorted(holding.items()):
        if since >= rolled or (not loaded and since >= opened):
            continue  # not held yet, or added inside: expunged
        if method == "begin_nested" and name not in changed:
            continue  # a savepoint's rollback expires only what changed inside it
        reads = [r for r in (_first_read(function, name, session, point, None, skip),
                             _first_handed(project, fid, function, name, session, point, skip))
                 if r is not None and (limit is None or r[0] <= limit)]
        if reads:
            line, written = min(reads, key=lambda read: read[0])
            found.append(Blocking(line, f"{written} (expired by the {why})"))
    return found


def _failed(function: facts.Function, session: str, point: int) -> list[tuple[int, int]]:
    """The `except` handlers a commit at line `point` ends the `try` of (`try: ...; await
    db.commit()` then `except IntegrityError:`): when one runs, the commit raised or never ran,
    and expired nothing."""
    if _method(function, session, point) != "commit":
        return []
    return [(start, end) for last, start, end in function.failed_into if last == point]


def _within(spans: list[tuple[int, int]], line: int) -> bool:
    return any(start <= line <= end for start, end in spans)


def _expunged(function: facts.Function, session: str, name: str, point: int) -> bool:
    """Whether the rollback at line `point` expunges `name` rather than expiring it: an object the
    handler built and added in the transaction it rolls back (`db.add(doc)`, then `try: await db.commit()
    except IntegrityError: await db.rollback()`) leaves the Session as it was built, its attributes
    kept, so reading them loads nothing. Not once a commit that may have succeeded came between the
    add and the rollback (the object is then persistent, and the rollback expires it)."""
    if _method(function, session, point) != "rollback":
        return False
    adds = [
        c.line for c in function.calls
        if c.receiver == session and c.method == "add" and not c.nested and c.line < point
        and any(a.name == name for a in c.args[:1])
    ]
    if not adds:
        return False  # merged: the copy `merge()` returns is persistent
    commits = [
        c.line for c in function.calls
        if c.receiver == session and c.method == "commit" and c.awaited and not c.nested and min(adds) < c.line < point
    ]
    return all(_within(_failed(function, session, commit), point) for commit in commits)


def _expiry(function: facts.Function, session: str, point: int, held: dict[str, dict[int, str]]) -> str:
    """What expires at line `point`, as a finding names it: `db.commit()`, or a commit through a
    holder (`repo.restock_all()`, the end of `async with uow:`)."""
    through = held.get(session, {}).get(point)
    return through if through is not None else f"{session}.{_method(function, session, point)}()"


def _block_end(held: dict[str, dict[int, str]], session: str, point: int) -> bool:
    """Whether line `point` is the last of an `async with` block whose exit commits `session`."""
    return held.get(session, {}).get(point, "").startswith("end of")


def _held_expires(project: Project, param: facts.Param) -> bool | None:
    """Whether the AsyncSession an instance holds (`repo.db`) expires its objects on commit, where
    the instance is the parameter `param` a dependency builds from the AsyncSession it is given
    (`get_repo(db: AsyncSession = Depends(get_db))`): as that Session's opener says. None when
    not known."""
    from async_migrate.codemods.phase1.expired_deps import _dependency

    provider = _dependency(project, param)
    if provider is None:
        return None
    given = [p for p in project.functions[provider][1].params if p.depends is not None]
    found = {_expires_on_commit(project, p) for p in given} - {None}
    return found.pop() if len(found) == 1 else None


def _method(function: facts.Function, session: str, line: int) -> str:
    return next(
        (c.method or "" for c in function.calls if c.receiver == session and c.line == line and (
            c.awaited or c.method in ("expire", "expire_all")
        )), "commit"
    )


def _objects(project: Project, fid: FunctionId, function: facts.Function, session: str) -> dict[str, tuple[int, bool]]:
    """Local names bound once to an ORM object the Session holds: added to it, or loaded by it;
    each with the line from which the Session holds it (its first add, its load), and whether
    it was loaded."""
    from async_migrate.codemods.check import _loaded_on

    bound: dict[str, list[int]] = {}
    for binding in function.bindings:
        bound.setdefault(binding.name, []).append(binding.line)
    added: dict[str, int] = {}
    for c in function.calls:
        if c.receiver == session and c.method in ("add", "merge") and not c.nested:
            for arg in c.args[:1]:
                if arg.name is not None:
                    added[arg.name] = min(added.get(arg.name, c.line), c.line)
    found = {name: (line, False) for name, line in added.items() if len(bound.get(name, ())) == 1}
    for name, terms in function.holds.items():
        # one load only: a name loaded again after the commit holds what that load refreshed
        lines = bound.get(name, [])
        if len(lines) <= 1 and len(terms) == 1 and _loaded_on(project, fid, terms[0], {session}):
            at = min([*lines, *([found[name][0]] if name in found else []), _loaded_at(function, terms[0])])
            found[name] = (at, True)
    return found


def _loaded_at(function: facts.Function, term: tuple) -> int:
    """The line of the function's own query an object term comes from (`doc = await db.get(Doc,
    1)`, an element of its rows); 0 when it comes from elsewhere (a helper's query)."""
    while term[0] in ("attr", "iter", "item", "key"):
        term = term[1]
    load = None
    if term[0] == "load" and term[1] < len(function.loads):
        load = function.loads[term[1]]
    elif term[0] == "call":
        load = function.held_loads.get(term[1])
    return load.line if load is not None else 0


def _cleared(function: facts.Function, name: str, session: str, point: int) -> list[int]:
    """Lines from `point` on of an awaited refresh of `name`, or its expunge."""
    return [
        c.line for c in function.calls
        if (c.receiver == session and c.method in ("refresh", "expunge") or c.func in (f"${session}.refresh", f"${session}.expunge"))
        and not c.nested and c.line >= point and any(a.name == name for a in c.args[:1])
    ]


def _partial(function: facts.Function, name: str) -> dict[int, set[str]]:
    """The lines of `refresh(name, attribute_names=[...])` calls, each with the attributes it
    loads: those only, every other attribute a commit expired stays expired."""
    found: dict[int, set[str]] = {}
    for line, held, attribute in function.refreshed:
        if held == name:
            found.setdefault(line, set()).add(attribute)
    return found


def _returned_to_model(
    project: Project, function: facts.Function, name: str, session: str, point: int,
    skip: list[tuple[int, int]] | None = None, given: list[str] | None = None,
) -> tuple[int, str] | None:
    """`return author` in a route whose response model (declared, or its return annotation) is a
    project class: FastAPI reads its fields off the expired object, outside any greenlet (`given`:
    the models of the route returning what this function returns). Only a
    return the commit may run before counts (`facts.Function.name_returns`): not one earlier on a
    path without it (`if x: return author` before the commit), nor one in a branch excluding the
    commit's, nor one a refresh or expunge of it comes between the commit and, nor one in the line
    spans `skip`."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.expired_related import response_models

    if f"${name}" not in function.returned:
        return None
    # the response model reads every field: a refresh of some attributes leaves the others expired
    partial = _partial(function, name)
    cleared = [at for at in _cleared(function, name, session, point) if at not in partial]
    lines = []
    for line, returned, again, excluded in function.name_returns:
        if returned != name or any(start <= point <= end for start, end in excluded) or _within(skip or [], line):
            continue
        if line > point and not any(point <= at <= line for at in cleared):
            lines.append(line)
        elif again and not cleared:
            lines.append(point)  # it may run again after the commit: where, the lines do not say
    if not lines:
        return None
    models = given if given is not None else response_models(project_classes(project), function)
    if not models:
        return None
    shown = ", ".join(model.rpartition(".")[2] for model in models)
    return min(lines), f"`{name}` returned, whose fields the response model {shown} reads"


def _first_handed(
    project: Project, fid: FunctionId, function: facts.Function, name: str, session: str, point: int,
    skip: list[tuple[int, int]] | None = None,
) -> tuple[int, str] | None:
    """The first call after line `point` handing `name` to project code that reads it
    (`summarize(order)`), as the read there: `o.id in app.views.summarize`; or to a function the
    analysis cannot read, as unverified. None when no such call precedes a refresh of it; none in
    the line spans `skip`."""
    cleared = _cleared(function, name, session, point)
    for call in sorted(function.calls, key=lambda c: (c.line, c.index)):
        if call.line <= point or call.line in function.greenlet_lines or call.receiver == session or _within(
            skip or [], call.line
        ):
            continue
        if any(point <= at <= call.line for at in cleared):
            return None
        handed = handed_read(project, fid, call, name)
        if handed is None:
            continue
        if not handed.read:
            return call.line, f"`{name}` handed to {handed.helper}() ({handed.unseen}), {UNVERIFIED}"
        through = f" through {', '.join(handed.path[:-1])}" if len(handed.path) > 1 else ""
        return call.line, f"{handed.read} in {handed.helper}, handed `{name}`{through}"
    return None


def _first_read(
    function: facts.Function, name: str, session: str, point: int, only: set[str] | None = None,
    skip: list[tuple[int, int]] | None = None,
) -> tuple[int, str] | None:
    """The first attribute read of `name` after line `point` (`name.attr`, or `getattr(name, ...)`),
    as written, with no awaited refresh of it, nor an expunge, from the commit up to the read; of
    the attributes `only` names, where the expiry at `point` named those (`expire(obj, ["a"])`);
    none in the line spans `skip` (the handlers a failed commit runs)."""
    cleared = _cleared(function, name, session, point)
    # `getattr(order, field)`: whatever mapped attribute it names is expired the same
    by_name = [
        (c.line, f"getattr({name}, ...)") for c in function.calls
        if c.callee in ("getattr", "builtins.getattr") and c.args and c.args[0].position == 0 and c.args[0].name == name
        and not c.nested
    ]
    reads = sorted(
        [(line, f"{name}.{attribute}") for line, receiver, attribute in function.attributes if receiver == name] + by_name,
        key=lambda read: read[0],  # stable: the attributes of one line in tree order
    )
    partial = _partial(function, name)
    for line, written in reads:
        if line <= point or line in function.greenlet_lines or _within(skip or [], line):
            continue  # `run_sync`'s callable refreshes it on its greenlet; a handler the commit failed into
        between = [at for at in cleared if point <= at <= line]
        if any(at not in partial for at in between):
            return None
        # `refresh(order, ["status"])` loads that attribute only: `order.total` stays expired
        attribute = written.partition(".")[2]
        if attribute and any(attribute in partial[at] for at in between):
            continue
        if attribute and only is not None and attribute not in only:
            continue
        return line, written
    return None


def _expires_on_commit(project: Project, param: facts.Param) -> bool | None:
    """Whether the AsyncSession a parameter receives expires its objects on commit: from the
    `expire_on_commit=` of the call opening it in its dependency, else of the sessionmaker it is
    opened from. None when the analysis cannot see where it is opened."""
    from async_migrate.codemods.phase1.expired_deps import _dependency, module_maker
    from async_migrate.codemods.phase1.expiring_commits import expires_on_commit

    provider = _dependency(project, param)
    if provider is None:
        return None
    _, opener = project.functions[provider]
    for call in opener.calls:
        if call.callee is None:
            continue
        if project.is_async_session_type(call.callee):
            return expire_keyword(call) != "False"
        maker = module_maker(project, call.callee, ASYNC_SESSIONMAKERS)
        if maker is None:
            continue
        own = expire_keyword(call)
        if own is not None:
            return own != "False"
        return expires_on_commit(maker)
    return None


def _opened_expires(project: Project, function: facts.Function, name: str) -> bool | None:
    """Whether the AsyncSession the function opens as `name` (`async with maker() as db:`,
    `async with AsyncSession(engine) as db:`) expires its objects on commit: from the
    `expire_on_commit=` of the call opening it, else of the module-level `async_sessionmaker(...)`
    it is opened from (`False` there expires nothing). None when not known."""
    bound = [b for b in function.bindings if b.name == name]
    return binding_expires(project, function, bound[0]) if len(bound) == 1 else None


def binding_expires(project: Project, function: facts.Function, binding: facts.Binding) -> bool | None:
    """`_opened_expires` of one `async with ... as name` of the function."""
    from async_migrate.codemods.phase1.expired_deps import module_maker
    from async_migrate.codemods.phase1.expiring_commits import expires_on_commit

    if not binding.asynchronous or not binding.expr.endswith("()"):
        return None
    opener = project.canonical(binding.expr[:-2])
    call = next(
        (c for c in function.calls if c.line == binding.line and c.callee and project.canonical(c.callee) == opener),
        None,
    )
    own = expire_keyword(call) if call is not None else None
    if own is not None:
        return own != "False"
    if project.is_async_session_type(opener):
        return True if call is not None else None  # SQLAlchemy's default
    maker = module_maker(project, opener, ASYNC_SESSIONMAKERS)
    if maker is None:
        return None
    return expires_on_commit(maker)


def expire_keyword(call: facts.Call) -> str | None:
    """`expire_on_commit=` as written in the call (`False`, `True`; "?" for any other
    expression, taken as expiring), or None when not given."""
    for arg in call.args:
        if arg.keyword == "expire_on_commit":
            return arg.name if arg.name in ("False", "True") else "?"
    return None


# What a read of a column the database computes on UPDATE says (check words it apart).
GENERATED = "which the database computes on UPDATE"


def generated_reads(project: Project, fid: FunctionId, sessions: list[str]) -> list[Blocking]:
    """Each first read, after an awaited `flush()` or `commit()`, of a column the database computes
    on UPDATE (`onupdate=func.now()`, `server_onupdate=`, `Computed(...)`: `astcollect/generated.py`)
    of an object the handler loaded through that AsyncSession and changed before it: the flush of
    the change expires the column whatever `expire_on_commit` says, so the read (in the handler, or
    FastAPI's through a response model naming the column) reloads the row and raises
    MissingGreenlet. Not where an awaited refresh of it comes between, nor for a class whose
    `__mapper_args__` has `"eager_defaults": True` (the flush fetches the values)."""
    _, function = project.functions[fid]
    found: list[Blocking] = []
    held = held_commits(project, fid)
    for session in dict.fromkeys([*sessions, *sorted(held)]):
        points = sorted({
            c.line for c in function.calls
            if c.receiver == session and c.awaited and not c.nested and c.method in ("flush", "commit")
        } | {line for line, how in held.get(session, {}).items() if ROLLS_BACK not in how})
        if not points:
            continue
        for name in sorted(_objects(project, fid, function, session)):
            columns = _generated_columns(project, fid, function, name, session)
            if not columns:
                continue
            changed = [line for line, receiver, attribute in function.stores if receiver == name and attribute not in columns]
            for point in points:
                # the end of `async with uow:` commits after the block's last line has run
                ending = _block_end(held, session, point)
                if not any(line < point or ending and line == point for line in changed):
                    continue
                read = _first_generated(function, name, session, point, columns) or _returned_generated(
                    project, function, name, session, point, columns
                )
                if read is not None:
                    line, written, column = read
                    found.append(Blocking(line, (
                        f"{written} (expired by the {_expiry(function, session, point, held)} at line {point}: "
                        f"{columns[column]}.{column}, {GENERATED})"
                    )))
                    break
    return sorted(found, key=lambda b: b.line)


def _generated_columns(
    project: Project, fid: FunctionId, function: facts.Function, name: str, session: str
) -> dict[str, str]:
    """The columns the database computes on UPDATE of the classes a name holds objects of (each
    with the class declaring it), when every way it is bound is a query on `session`."""
    from async_migrate.codemods.check import _loaded_models
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    found: dict[str, str] = {}
    for term in function.holds.get(name, ()):
        for model in _loaded_models(project, fid, term, {session}):
            if model is None or model not in classes.by_ref:
                continue
            chain = [c for c in classes.mro(model) if c in classes.by_ref]
            if any(classes.by_ref[c][1].eager_defaults for c in chain):
                continue
            for cls in chain:
                found.update((column, classes.short(cls)) for column in classes.by_ref[cls][1].generated)
    return found


def _first_generated(
    function: facts.Function, name: str, session: str, point: int, columns: dict[str, str]
) -> tuple[int, str, str] | None:
    """The first read of one of `columns` on `name` after line `point`, with no awaited refresh or
    expunge of it from the flush up to the read."""
    cleared = _cleared(function, name, session, point)
    reads = sorted(
        (line, attribute) for line, receiver, attribute in function.attributes
        if receiver == name and attribute in columns and line > point and line not in function.greenlet_lines
    )
    for line, attribute in reads[:1]:
        if any(point <= at <= line for at in cleared):
            return None
        return line, f"{name}.{attribute}", attribute
    return None


def _returned_generated(
    project: Project, function: facts.Function, name: str, session: str, point: int, columns: dict[str, str]
) -> tuple[int, str, str] | None:
    """`return obj` after the flush, in a route whose response model names one of `columns`."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.expired_related import response_models

    returned = _returned_to_model(project, function, name, session, point)
    if returned is None:
        return None
    classes = project_classes(project)
    for model in response_models(classes, function):
        named = [field for field, _ in classes.fields(model) if field in columns]
        if named:
            return returned[0], f"`{name}` returned, whose field {model.rpartition('.')[2]}.{named[0]} the response model reads", named[0]
    return None
