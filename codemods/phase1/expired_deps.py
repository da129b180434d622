"""Objects a dependency hands on expired: it committed its synchronous Session after loading them.

`get_current_user` loads the user, sets `last_seen` and commits; with `expire_on_commit` (the
default of `sessionmaker` and `Session`) every attribute of the user is expired then, so the
first read, even of `user.id`, runs a refresh: a query on the dependency's synchronous Session.
In an `async def` handler that read runs on the event loop, whether the handler's code reads the
attribute or FastAPI reads it serialising the response. It is the relationship lazy load's kind
of blocking (AM129, AM307), on columns, and it is found the same way: from the handler's
dependency parameters (`expired_dependency_reads`, `offloaded_commit_reads`), and after a commit
on the loop (`loop_commit_reads`: AM301's blocking lines).

Over 500 lines: the reads after a commit in the threadpool and after one on the loop are one
analysis (the objects bound before it, the refreshes, the helpers handed them); apart, the two
would drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.phase1.expiring_commits import (
    ambient_offloads,
    expires_on_commit,
    handed_reads,
    holder_commits,
    holder_params,
    makers_expire,
    model_method_commits,
    returned_expiry,
)
from async_migrate.codemods.phase2.expired_reads import commits
from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk, RiskKind
from async_migrate.codemods.rules.am248_expired_after_commit import RULE as AM248
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.project import FunctionId, Handler, Project

def expired_dependency_reads(project: Project, handler: Handler) -> list[LazyLoadRisk]:
    """Reads of an expired dependency object an `async def` handler makes on the event loop:
    each an attribute read in its own body, or the object returned (serialised on the loop)."""
    function = handler.function
    if not function.is_async:
        return []
    risks: list[LazyLoadRisk] = []
    for param in function.params:
        dependency = _dependency(project, param)
        if dependency is None:
            continue
        where = _expired_by(project, dependency, set())
        if where is None:
            continue
        reads = [(line, f"{param.name}.{attr}") for line, receiver, attr in function.attributes if receiver == param.name]
        if f"${param.name}" in function.returned:
            line = max(function.name_uses.get(param.name, [function.line]))
            reads.append((line, param.name))  # FastAPI reads it serialising the response
        for line, path in reads:
            risks.append(
                LazyLoadRisk(
                    file=handler.module.path,
                    line=line,
                    function=f"{handler.module.name}.{function.qualname}",
                    attribute=path.partition(".")[2] or param.name,
                    owner=None,
                    message=f"expired by the commit at {where}",
                    fix="refresh the object after the commit in the dependency, or pass expire_on_commit=False",
                    kind=RiskKind.EXPIRED,
                    path=path,
                    code=AM248.code,
                    dependency=dependency,
                )
            )
    return risks


def expired_where(risk: LazyLoadRisk) -> str:
    """`file:line` of the commit that expired the object of an `expired` risk."""
    return risk.message.removeprefix("expired by the commit at ")


def _dependency(project: Project, param: facts.Param) -> FunctionId | None:
    """The project function injecting the parameter: `Depends(f)` inline, through an
    `Annotated[User, Depends(f)]` alias (`CurrentUser`), or a module-level `Depends(f)` default."""
    ref = project.param_dependency(param)
    found = project.function(ref) if ref else None
    return (found[0].name, found[1].key) if found is not None else None


def _expired_by(project: Project, fid: FunctionId, seen: set[FunctionId]) -> str | None:
    """Where the commit is (`path:line`) that leaves the object `fid` returns expired, or None.

    An object is expired when the dependency returns a local name it bound before a commit of its
    Session (its own `commit()`, or a call handing the Session to a project function that
    commits), and refreshes nothing after that commit; or returns a dependency parameter of its
    own whose object is expired, or which it commits after itself. A sessionmaker whose
    `expire_on_commit` is a literal False expires nothing; any other (unread) setting counts as
    expiring (`_expires`). Failing those, what a holder's method hands back expired through the
    dependency's calls (`return manager.user_for_token(token)` reaching an adapter's
    `self.session.commit()`): `_handed_expired`."""
    if fid in seen:
        return None
    seen.add(fid)
    module, function = project.functions[fid]
    if function.is_generator or len(function.returned) != 1 or not function.returned[0].startswith("$"):
        return None
    name = function.returned[0][1:]
    if "." in name or "(" in name:
        return None
    sessions = project.session_names(fid)
    expiring = bool(sessions) and _expires(project, fid, function, sessions)
    commit_lines = _commit_lines(project, fid, function, sessions) if expiring else []
    refreshed = [
        c.line for c in function.calls
        if c.receiver in sessions and c.method in ("refresh", "expunge") and any(a.name == name for a in c.args)
    ]
    param = next((p for p in function.params if p.name == name), None)
    if param is not None:
        own = [line for line in commit_lines if not any(r > line for r in refreshed)]
        if own:
            return f"{module.path}:{own[-1]}"
        inner = _dependency(project, param)
        if inner is None or refreshed:
            return None
        return _expired_by(project, inner, seen)
    bound = [b.line for b in function.bindings if b.name == name]
    if not bound:
        return None
    if not commit_lines:
        return _handed_expired(project, fid)
    after = [line for line in commit_lines if line > min(bound) and not any(r > line for r in refreshed)]
    return f"{module.path}:{after[-1]}" if after else None


def _handed_expired(project: Project, fid: FunctionId) -> str | None:
    """Where the commit is that expired what a dependency without a Session of its own returns,
    bound from a call of a holder's method committing the Session its instance holds
    (`user = manager.user_for_token(token)`, the adapter behind it committing `self.session`):
    the threadpool ran the commit, and the `async def` handler receiving the object refreshes it on
    the event loop. Only while a sessionmaker of the project expires on commit."""
    if not makers_expire(project):
        return None
    handed = returned_expiry(project, fid)
    return handed[1] if handed is not None and handed[0] else None


def _commit_lines(project: Project, fid: FunctionId, function: facts.Function, sessions: set[str]) -> list[int]:
    lines = {c.line for c in function.calls if c.receiver in sessions and c.method == "commit" and not c.nested}
    for edge in project.all_calls_from[fid]:
        if edge.callee != fid and any(a.name in sessions for a in edge.call.args) and commits(project, edge.callee):
            lines.add(edge.call.line)
    lines.update(model_method_commits(project, function, sessions))
    return sorted(lines)


def _expires(project: Project, fid: FunctionId, function: facts.Function, sessions: set[str]) -> bool:
    """Whether the Session the dependency commits expires on commit: False only for a
    sessionmaker, reached through the Session dependency, written with `expire_on_commit=False`."""
    from async_migrate.codemods.async_expired import expire_keyword

    for param in function.params:
        if param.name not in sessions:
            continue
        provider = _dependency(project, param)
        if provider is None:
            continue
        _, opener = project.functions[provider]
        for call in opener.calls:
            maker = module_maker(project, call.callee)
            if maker is not None:
                return expires_on_commit(maker)
            if project.is_sync_session_type(call.callee):
                # `with Session(engine, expire_on_commit=False) as session:` opened in place
                return expire_keyword(call) != "False"
    return True


def module_maker(project: Project, ref: str | None, kinds: frozenset[str] = PLAIN_SESSIONMAKERS) -> facts.Value | None:
    """The module-level call `ref` names when it builds one of `kinds` (canonical references of
    sessionmaker classes; the synchronous `sessionmaker` by default): its keywords as written."""
    if not ref or "." not in ref:
        return None
    module_name, _, name = ref.rpartition(".")
    module = project.modules.get(module_name)
    value = module.values.get(name) if module is not None else None
    if value is None or value.kind != "call" or project.canonical(value.ref) not in kinds:
        return None
    return value


def offloaded_commit_reads(project: Project, handler: Handler) -> list[LazyLoadRisk]:
    """Reads on the event loop, in an `async def` handler, of an object it bound before a commit it
    ran in the threadpool (`await run_in_threadpool(db.commit)`, `await to_thread(save, db, obj)`
    with `save` committing): the commit expired the object, and the read refreshes it on the
    handler's synchronous Session, a blocking query on the loop. A refresh after the commit (in the
    threadpool too), or a sessionmaker written with `expire_on_commit=False`, expires nothing."""
    return [risk for risk, _ in _commit_reads(project, handler, offloaded=True)]


def loop_commit_reads(project: Project, handler: Handler) -> list[Blocking]:
    """The same reads after a commit the handler runs on the loop (`db.session.commit(); return
    book_out(book)`): blocking lines beside the commit's own, at the handler's line (the call
    handing the object to the helper reading it), so that offloading the commit alone, as AM301's
    fix says for the lines it lists, is not taken for the whole fix."""
    from async_migrate.codemods.project import HandlerKind

    if handler.kind not in (HandlerKind.ROUTE, HandlerKind.DEPENDENCY):
        return []  # a middleware's `response = await call_next(request)` is no object of its Session
    found: list[Blocking] = []
    own = f"{handler.module.name}.{handler.function.qualname}"
    seen: set[str] = set()
    for risk, line in sorted(_commit_reads(project, handler, offloaded=False), key=lambda pair: pair[1]):
        receiver = risk.path.partition(".")[0]
        if receiver in seen:
            continue  # the first read refreshes the whole object
        seen.add(receiver)
        commit = expired_where(risk).partition(",")[0].rpartition(":")[2]
        where = f" in {risk.function}(...) at {risk.file}:{risk.line}" if risk.function != own else ""
        found.append(Blocking(line, f"`{risk.path}`{where}, expired by the commit at line {commit}: a refresh"))
    return found


def _commit_reads(project: Project, handler: Handler, offloaded: bool) -> list[tuple[LazyLoadRisk, int]]:
    """`offloaded_commit_reads` (commits run in the threadpool) or `loop_commit_reads` (on the
    loop): each read with the handler's line leading to it."""
    function = handler.function
    if not function.is_async:
        return []
    fid = (handler.module.name, function.key)
    sessions = project.session_names(fid)
    holders = holder_params(project, fid, function, sessions)
    ambient = ambient_offloads(project, fid, function, offloaded) if makers_expire(project) else {}
    named = bool(sessions and _expires(project, fid, function, sessions)) or bool(holders and makers_expire(project))
    if not named and not ambient:
        return []
    commits_at: set[int] = set()
    committing: set[int] = set()  # the indexes of those calls
    refreshed: list[tuple[int, str]] = []
    wheres: dict[int, str] = {}  # the line of a call run in the threadpool -> the commit it reaches
    for index, (line, where, _) in ambient.items():
        commits_at.add(line)
        committing.add(index)
        wheres.setdefault(line, where)
    for call in function.calls if ambient else ():
        if (call.offloaded or not offloaded) and not call.nested and (call.func or call.callee or "").rpartition(".")[2] in (
            "refresh", "expunge"
        ):
            # `await run_in_threadpool(db.session.refresh, book)`: on the proxy's Session
            refreshed.extend((call.line, a.name) for a in call.args if a.name)
    for call in function.calls if named else ():
        if call.offloaded != offloaded or call.nested:
            continue
        if call.receiver is None:
            head, dot, method = (call.func or "").removeprefix("$").rpartition(".")
            if dot and (call.func or "").startswith("$") and head in sessions:
                if method == "commit":
                    commits_at.add(call.line)
                    committing.add(call.index)
                elif method in ("refresh", "expunge"):
                    refreshed.extend((call.line, a.name) for a in call.args if a.name)
        elif call.receiver in sessions and call.method == "commit":
            commits_at.add(call.line)
            committing.add(call.index)
        elif call.receiver in sessions and call.method in ("refresh", "expunge"):
            refreshed.extend((call.line, a.name) for a in call.args if a.name)
    for edge in project.all_calls_from[fid] if named else ():
        if (
            edge.call.offloaded == offloaded and edge.callee != fid and any(a.name in sessions for a in edge.call.args)
            and commits(project, edge.callee)
        ):
            commits_at.add(edge.call.line)
            committing.add(edge.call.index)
        elif holders and edge.call.offloaded == offloaded and edge.callee != fid and holder_commits(project, edge.callee):
            # `await run_in_threadpool(uow.commit)`, `run_in_threadpool(service.reprice, ...)`: a
            # method committing the Session its instance holds, the handler's through its unit of work
            commits_at.add(edge.call.line)
            committing.add(edge.call.index)
    if not commits_at:
        return []
    sessions = sessions | holders
    from async_migrate.codemods.classes import project_classes

    first_commit = min(commits_at)
    bound = _maybe_instances(project, fid, function, sessions, first_commit)
    if not offloaded:
        # on the loop, only what is spelled as an object of the Session (built, loaded, a helper
        # declared to return one): not whatever an awaited call returned, nor an exception caught
        from async_migrate.codemods.classes import project_classes as _classes

        known = _classes(project)
        bound = {
            name for name in bound if any(
                b.name == name and b.line <= first_commit and _spelled_object(project, known, sessions, b)
                for b in function.bindings
            )
        }
    fresh = _refreshed_results(project, fid, function, sessions, commits_at) if offloaded else {}
    for index, (line, _, expired) in ambient.items():
        for name, terms in function.holds.items():
            if terms != (("call", index),) or name in sessions:
                continue
            if expired:
                bound.add(name)  # handed back expired by the call itself, whatever it binds after
            elif expired is False and not any(at > line for at in commits_at):
                fresh[name] = line
    classes = project_classes(project)
    columns = _column_names(classes) if fresh else frozenset()
    where = f"{handler.module.path}:{first_commit}"
    if wheres.get(first_commit):
        where = f"{where}, reaching {wheres[first_commit]}"
    before = _argument_reads(function, committing)
    reads = [
        (line, receiver, attr) for line, receiver, attr in function.attributes
        if receiver in bound and line > first_commit
        and (line, receiver, attr) not in before
        and not any(first_commit <= at < line and name == receiver for at, name in refreshed)
        and not (line > fresh.get(receiver, line) and attr in columns)
    ]
    for name in sorted(bound):
        if (
            name in fresh and handler.kind == "route" and function.returned.count(f"${name}") == 1
            and _response_of_columns(classes, function, columns)
        ):
            continue  # refreshed by the helper, and the response model reads only columns
        if f"${name}" in function.returned:  # FastAPI reads it on the loop serialising the response
            # the facts keep no line for a return: the last line the function is known to reach
            line = max([
                function.line, *function.name_uses.get(name, []), *(r[0] for r in function.attributes),
                *(c.line for c in function.calls),
            ])
            if not any(at >= first_commit and at_name == name for at, at_name in refreshed):
                reads.append((line, name, ""))
    shown = {(line, receiver, attr): (handler.module.path, f"{handler.module.name}.{function.qualname}", line)
             for line, receiver, attr in reads}
    for call_line, receiver, attr, read_at, reader in handed_reads(project, fid, bound, first_commit):
        if any(first_commit <= at < call_line and name == receiver for at, name in refreshed):
            continue
        if call_line > fresh.get(receiver, call_line) and attr in columns:
            continue
        reads.append((read_at[1], receiver, attr))
        shown[read_at[1], receiver, attr] = (read_at[0], reader, call_line)
    risks: list[tuple[LazyLoadRisk, int]] = []
    for line, receiver, attr in reads:
        file, reader, at = shown[line, receiver, attr] if (line, receiver, attr) in shown else (
            handler.module.path, f"{handler.module.name}.{function.qualname}", line
        )
        risks.append((
            LazyLoadRisk(
                file=file,
                line=line,
                function=reader,
                attribute=attr or receiver,
                owner=None,
                message=f"expired by the commit at {where}",
                fix="refresh the object in the threadpool after the commit, or pass expire_on_commit=False",
                kind=RiskKind.EXPIRED,
                path=f"{receiver}.{attr}" if attr else receiver,
                code=AM248.code,
                dependency=fid,
                offloaded=offloaded,
            ),
            at,
        ))
    return risks


def _argument_reads(function: facts.Function, committing: set[int]) -> set[tuple[int, str, str]]:
    """The attribute reads (`Function.attributes`) that are arguments of the committing call
    itself (`await run_in_threadpool(create_task, db, function.metadata.project)` on lines below
    the call's first), evaluated before the call runs, hence before its commit: each the first
    read of that receiver and attribute on the call's line or below, once per argument spelling
    it. Only for a function with that one committing call: with more, a read in one's arguments
    may come after another's commit."""
    lines = {call.index: call.line for call in function.calls if call.index in committing}
    if len(lines) != 1:
        return set()
    ((index, line),) = lines.items()
    wanted: dict[tuple[str, str], int] = {}
    for call in function.calls:
        if call.index != index:
            continue
        counted: dict[tuple[str, str], int] = {}
        for arg in call.args:
            head, dot, rest = (arg.expr or "").removeprefix("$").partition(".")
            attribute = rest.partition(".")[0].partition("(")[0].partition("[")[0]
            if (arg.expr or "").startswith("$") and dot and attribute:
                counted[(head, attribute)] = counted.get((head, attribute), 0) + 1
        for key, count in counted.items():
            wanted[key] = max(wanted.get(key, 0), count)
    found: set[tuple[int, str, str]] = set()
    for read in sorted(r for r in function.attributes if r[0] >= line):
        key = (read[1], read[2])
        if wanted.get(key, 0) > 0:
            wanted[key] -= 1
            found.add(read)
    return found


def _refreshed_results(
    project: Project, fid: FunctionId, function: facts.Function, sessions: set[str], commits_at: set[int]
) -> dict[str, int]:
    """Local names bound, last, to what a helper run in the threadpool hands back refreshed after its
    commit (`user = await run_in_threadpool(crud.user.create, db, obj_in=data)`, `create` ending
    `db.commit(); db.refresh(db_obj); return db_obj`, or handing it so to `super().create(...)`),
    no commit following: name -> the line of that call. Their columns are loaded; reading one on
    the loop queries nothing (a relationship, which a refresh leaves unloaded, still does), nor does
    returning it through a response model of columns only. Read from the facts by phase two's
    `expired_helpers.hands_back_refreshed`; a commit after the call, or a helper committing
    without that refresh, still counts."""
    from async_migrate.codemods.phase2.expired_helpers import hands_back_refreshed

    lines = {call.index: call.line for call in function.calls}
    found: dict[str, int] = {}
    for edge in project.all_calls_from[fid]:
        call = edge.call
        handed = [a.name for a in call.args if a.name in sessions]
        if not call.offloaded or call.nested or len(set(handed)) != 1 or any(line > call.line for line in commits_at):
            continue
        if not hands_back_refreshed(project, fid, call, handed[0]):
            continue
        for name, terms in function.holds.items():
            if ("call", call.index) not in terms:
                continue
            spelled = [b.line for b in function.bindings if b.name == name]
            others = [t for t in terms if t != ("call", call.index)]
            inner = [lines.get(i, call.line) for t in others for i in _call_indexes(t)]
            lineless = [t for t in others if not _call_indexes(t)]
            if all(line < call.line for line in spelled + inner) and len(lineless) <= len(spelled):
                found[name] = call.line
    return found


def _call_indexes(term: tuple) -> list[int]:
    """The calls a term of `Function.holds` reads (`("iter", ("call", 0))` -> [0])."""
    if term[:1] == ("call",) and isinstance(term[1], int):
        return [term[1]]
    return [i for part in term if isinstance(part, tuple) for i in _call_indexes(part)]


def _column_names(classes: Classes) -> frozenset[str]:
    """Attribute names a mapped class binds (or a base of one) that no mapped class (nor a base)
    holds as a relationship, deferred column, descriptor or method, nor any class as a backref:
    columns, which a refresh loads. By name: the class of the object is not followed."""
    known: set[str] = set()
    unsafe: set[str] = set()
    for ref, (_, declared) in classes.by_ref.items():
        unsafe.update(declared.backrefs)
        if not classes.is_mapped(ref):
            continue
        for base in classes.mro(ref):
            found = classes.by_ref[base][1]
            known.update(found.names)
            unsafe.update(found.relationships, found.descriptors, found.deferred, classes.methods.get(base, {}))
    return frozenset(known - unsafe)


def _response_of_columns(classes: Classes, function: facts.Function, columns: frozenset[str]) -> bool:
    """A route whose response model (`expired_related.response_models`) is project models whose
    every field is one of `columns`: serialising the object reads nothing else."""
    from async_migrate.codemods.phase2.expired_related import response_models

    models = response_models(classes, function)
    fields = [name for cls in models for name, _ in classes.fields(cls)]
    return bool(models and fields) and all(classes.fields(cls) for cls in models) and set(fields) <= columns


def _maybe_instances(
    project: Project, fid: FunctionId, function: facts.Function, sessions: set[str], before: int
) -> set[str]:
    """Local names that may hold an ORM object of the handler's Session by line `before`: bound
    there to a mapped class's constructor or a Session call's result, or bound to what the
    notation cannot spell (`await run_in_threadpool(db.get, M, i)`, a loop target): those count,
    since the read they may be is a blocking one; not what a helper declared to return no ORM
    object returns (`_declared_no_object`)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    spelled: dict[str, list[facts.Binding]] = {}
    for binding in function.bindings:
        spelled.setdefault(binding.name, []).append(binding)
    found: set[str] = set()
    for name, bindings in spelled.items():
        if name in sessions:
            continue
        if any(b.line <= before and _spelled_object(project, classes, sessions, b) for b in bindings):
            found.add(name)
    call_lines = {call.index: call.line for call in function.calls}

    def loaded_after(name: str, depth: int = 0) -> bool:
        # `fresh = await run_in_threadpool(db.get, M, 1)` after the commit loads a fresh object;
        # so do the items of what such a call returned (`for p in rows`, `[p.name for p in rows]`)
        terms = function.holds.get(name)
        if not terms or name in spelled or depth > 3:
            return False
        for term in terms:
            if term[0] == "call":
                line = call_lines.get(term[1])
                if line is None or line <= before:
                    return False
            elif not (term[0] == "iter" and term[1][0] == "name" and loaded_after(term[1][1], depth + 1)):
                return False
        return True

    scoped = set(function.scoped_only)
    for name in function.holds:
        if name in spelled or name in sessions or name in scoped or loaded_after(name):
            continue
        if _declared_no_object(project, classes, fid, function.holds[name]):
            continue
        found.add(name)
    if found:
        # a lambda's or nested function's parameter holds what it is called with: one of the objects
        # above, perhaps; with none of them bound before the commit, no object of the Session it is
        found.update(scoped)
    return found


def _spelled_object(project: Project, classes: Classes, sessions: set[str], binding: facts.Binding) -> bool:
    """Whether a binding is spelled as an object of the Session: a Session call's result, a
    mapped class built, or what a project function declared to return one returns (`book =
    get_book_or_404(id)`, `-> Book`)."""
    head = binding.expr.partition("(")[0]
    if head.removeprefix("$").partition(".")[0] in sessions and binding.expr.startswith("$"):
        return True
    if not binding.expr.endswith(")") or head.startswith("$"):
        return False
    built = classes.resolve(head)
    return (built is not None and classes.is_mapped(built)) or _returns_mapped(project, classes, head)


def _returns_mapped(project: Project, classes: Classes, ref: str) -> bool:
    """Whether the project function `ref` names is declared to return a mapped class (`-> Book`,
    `-> Book | None`)."""
    found = project.function(ref)
    return found is not None and any(
        (cls := classes.resolve(r)) is not None and classes.is_mapped(cls) for r in found[1].returns
    )


def _declared_no_object(project: Project, classes: Classes, fid: FunctionId, terms: tuple) -> bool:
    """Whether every term is a call (run in place or in the threadpool) of project functions each
    declared to return no ORM object (`-> ProjectOut`, a pydantic model; `-> list[str]`): what it
    binds no commit expires. Unannotated, declared `Any`, a mapped class, a bare container, a class
    the analysis cannot read, or a call it resolves to nothing: perhaps an ORM object."""
    from async_migrate.codemods.phase2.model_members import members

    index = members(project, classes)
    by_index: dict[int, list[FunctionId]] = {}
    for edge in project.all_calls_from[fid]:
        by_index.setdefault(edge.call.index, []).append(edge.callee)
    for term in terms:
        if term[0] == "call" and not by_index.get(term[1]) and _never_runs(project, fid, term[1]):
            continue
        if term[0] != "call" or not by_index.get(term[1]):
            return False
        for callee in by_index[term[1]]:
            _, helper = project.functions[callee]
            if helper.is_async or helper.is_generator:
                return False  # what awaiting it returns is read elsewhere
            if not (helper.returns_no_object or index.never_mapped(helper.returns)):
                return False
    return True


def _never_runs(project: Project, fid: FunctionId, index: int) -> bool:
    """Whether the call runs nothing: a value out of a table the analysis reads whole, on the side
    of an `iscoroutinefunction()` branch none of the table's functions is on (`result = await
    function(...)` for a table of plain functions), so it binds nothing."""
    calls = [c for c in project.functions[fid][1].calls if c.index == index and c.dispatch]
    if len(calls) != 1 or calls[0].coroutine_side is None:
        return False
    dispatch = project.containers.dispatch(calls[0])
    side = calls[0].coroutine_side
    return dispatch.unread is None and all(project.functions[t][1].is_async != side for t in dispatch.targets)
