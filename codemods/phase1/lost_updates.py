"""A row loaded through a Session and written back from its own value: a lost update once the handler is `def` (AM169).

`post = db.get(Post, pid)` then `post.likes += 1` (or `post.likes = post.likes + 1`) and a
commit: the new value is computed in Python from the one loaded. On the event loop, an `async
def` handler that never awaits runs that from the load to the commit with no other request of
its worker in between; as `def`, FastAPI runs concurrent requests in its threadpool, two threads
can load the same value and both write it plus one, and one update is lost. Phase one converts
the handler all the same (several workers race there already) and says so, naming the object,
the attribute and the lines, and the fixes: an UPDATE the database computes, or a row lock taken
as the object loads. A kept handler's helper call `--offload-mixed` takes off the loop gets the
same note: the helper runs in the threadpool just so.

An update is a value computed from the attribute's own (`facts.Function.derived_stores`: an
operand of an operator, `not post.on`, a `{**row.meta, ...}` merge), not one falling back to it
(`post.data = form.data or post.data`, which writes back the value unchanged: no UPDATE of it).
An object counts as loaded when the value flow (`astcollect.objects`) types the name as a query
of a mapped class on a Session (`db.get(M, pk)`, `db.scalars(select(M)...).first()`,
`db.query(M).filter(...).first()`, SQLModel's `db.exec(select(M)).one()`, a method's
`self.db.get(M, pk)`), there or in a plain helper returning it (`post = crud.get_post(db, pid)`),
and the attribute is one of the class's columns (a relationship's `post.comments += [c]` adds rows
of its own; a descriptor runs code of its own).
A parameter, what a dependency hands the handler, an object the function builds (`Post(likes=0)`),
or anything else the flow cannot follow gets no note: this is advice, and naming an object of
unknown origin would guess. A load written `with_for_update` (the get's keyword, the select's or
the query's `.with_for_update()`), and any function naming `with_for_update` where this reading
cannot tell which load it locks (a statement built apart, `db.refresh(post, with_for_update=True)`),
gets none either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from async_migrate.codemods.astcollect.objects import Term
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.facts import parameter_of as facts_parameter
from async_migrate.codemods.phase1.helper_reach import first_reached
from async_migrate.codemods.vocabulary.sqlmodel import MODEL_BASES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from async_migrate.codemods import facts
    from async_migrate.codemods.project import Edge, FunctionId, Project

_LOCK = "with_for_update"
_DEPTH = 6  # helpers returning what a helper returns, followed this deep


@dataclass(frozen=True, slots=True)
class LostUpdate:
    """`name.attribute` written back from its own value at `line` of `path`, `name` holding the
    objects of `load` (in `load_path`); `helpers`: the calls from the handler that reach it."""

    name: str
    attribute: str
    line: int
    path: str
    load: facts.Load
    load_path: str
    model: str
    helpers: tuple[FunctionId, ...] = ()
    call_line: int = 0
    # A claim (AM170): `attribute` is a column the query's WHERE tests, assigned any value.
    claim: bool = False
    # The line of the function holding the update where what it loads starts: the load's own,
    # or the function's first for a load a helper returns (its call not told apart here).
    start: int = 0
    # A claim a helper makes on the object handed to it (`repo.mark_published(event)`): that call,
    # named, and its line in the function loading the object.
    handed: str = ""
    at: int = 0


def lost_updates(project: Project, fid: FunctionId) -> list[LostUpdate]:
    """The function's own updates of a loaded object's attribute, then the first one a plain `def`
    helper it calls in place makes (not nested, offloaded or awaited calls, no `async def` helper),
    followed through the call graph as AM140's updates are."""
    reached = _Reach(project).below(fid)
    return own_lost_updates(project, fid) + own_claims(project, fid) + ([reached] if reached is not None else [])


def offloaded_lost_updates(project: Project, fid: FunctionId, offloaded: Iterable[int]) -> list[LostUpdate]:
    """The first update of a loaded object's attribute each call `--offload-mixed` takes off the
    loop (call indexes `offloaded`) reaches: in the threadpool, concurrent requests run it at once."""
    reach = _Reach(project)
    indexes = set(offloaded)
    found: list[LostUpdate] = []
    for edge in sorted(project.all_calls_from[fid], key=lambda e: e.call.line):
        if edge.call.index not in indexes or project.functions[edge.callee][1].is_async:
            continue
        update = reach.own(edge.callee) or reach.below(edge.callee)
        if update is not None and all(update.line != f.line or update.path != f.path for f in found):
            found.append(replace(update, helpers=(edge.callee, *update.helpers), call_line=edge.call.line))
    return found


class _Reach:
    """The walk of `lost_updates` through plain helpers called in place, its answers kept per project."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.memo: dict[FunctionId, LostUpdate | None] = project.derived.setdefault(  # type: ignore[assignment]
            "phase1.lost_updates", {}
        )
        self.firsts: dict[FunctionId, LostUpdate | None] = project.derived.setdefault(  # type: ignore[assignment]
            "phase1.lost_updates.own", {}
        )

    def steps(self, current: FunctionId) -> Iterable[tuple[Edge, FunctionId]]:
        project = self.project
        for edge in sorted(project.all_calls_from[current], key=lambda e: e.call.line):
            call = edge.call
            if call.nested or call.offloaded or call.awaited or project.functions[edge.callee][1].is_async:
                continue
            yield edge, edge.callee

    def own(self, current: FunctionId) -> LostUpdate | None:
        if current not in self.firsts:
            found = own_lost_updates(self.project, current) or own_claims(self.project, current)
            self.firsts[current] = found[0] if found else None
        return self.firsts[current]

    def below(self, fid: FunctionId) -> LostUpdate | None:
        return first_reached(
            fid, self.memo, self.steps, self.own,
            lambda update, callee, line: replace(update, helpers=(callee, *update.helpers), call_line=line),
        )


def own_lost_updates(project: Project, fid: FunctionId) -> list[LostUpdate]:
    """`x.a += ...` or `x.a = x.a <op> ...` in the function's own body (`facts.Function.derived_stores`)
    on a local name holding the objects of an unlocked query of a mapped class (see the module)."""
    module, function = project.functions[fid]
    found: list[LostUpdate] = []
    seen: set[tuple[str, str]] = set()
    for line, name, attribute in function.derived_stores:
        if (name, attribute) in seen:
            continue  # the first update of each names it
        for where, load in _loads(project, fid, _term(function, line, name), 0):
            model = _mapped(project, load.model)
            if model is None or not _column(project, model, attribute):
                continue
            found.append(LostUpdate(
                name, attribute, line, module.path, load, project.functions[where][0].path, model,
                start=load.line if where == fid else function.line,
            ))
            seen.add((name, attribute))
            break
    return found


def own_claims(project: Project, fid: FunctionId) -> list[LostUpdate]:
    """`e.published = True` in the function's own body on a local name holding the objects of an
    unlocked query of a mapped class whose WHERE tests that column (`.where(OutboxEvent.published ==
    False)`, `.filter(Job.claimed_by.is_(None))`, `.filter_by(status="new")`): a claim two requests
    can both make on one row. An update computed from the column's own value is AM169's, not this."""
    module, function = project.functions[fid]
    found: list[LostUpdate] = []
    seen: set[tuple[str, str]] = set()
    derived = {(name, attribute) for _, name, attribute in function.derived_stores}
    for line, name, attribute in function.column_stores:
        if (name, attribute) in seen or (name, attribute) in derived:
            continue
        for where, load in _loads(project, fid, _term(function, line, name), 0):
            model = _mapped(project, load.model)
            if model is None or not _column(project, model, attribute):
                continue
            if attribute not in _tested(project.functions[where][1], load):
                continue
            found.append(LostUpdate(
                name, attribute, line, module.path, load, project.functions[where][0].path, model,
                claim=True, start=load.line if where == fid else function.line,
            ))
            seen.add((name, attribute))
            break
    return found + _handed_claims(project, fid, seen)


def _handed_claims(project: Project, fid: FunctionId, seen: set[tuple[str, str]]) -> list[LostUpdate]:
    """`repo.mark_published(event)`: a loaded object handed, as a bare name, to a plain `def` helper
    called in place that assigns the parameter's column the query's WHERE tests (`event.published_at =
    now()`). The helper alone cannot tell where its parameter came from; the caller can."""
    function = project.functions[fid][1]
    found: list[LostUpdate] = []
    for edge in sorted(project.all_calls_from[fid], key=lambda e: e.call.line):
        call = edge.call
        callee_module, callee = project.functions[edge.callee]
        if call.nested or call.offloaded or call.awaited or callee.is_async or callee.is_generator:
            continue
        for arg in call.args:
            given = arg.name
            param = facts_parameter(callee, arg) if given is not None and arg.expr is None else None
            if given is None or param is None:
                continue
            derived = {(n, a) for _, n, a in callee.derived_stores}
            for line, name, attribute in callee.column_stores:
                if name != param or (name, attribute) in derived or (given, attribute) in seen:
                    continue
                for where, load in _loads(project, fid, _term(function, call.line, given), 0):
                    model = _mapped(project, load.model)
                    if model is None or not _column(project, model, attribute):
                        continue
                    if attribute not in _tested(project.functions[where][1], load):
                        continue
                    found.append(LostUpdate(
                        given, attribute, line, callee_module.path, load, project.functions[where][0].path, model,
                        claim=True, start=load.line if where == fid else function.line,
                        handed=f"`{callee_module.name}.{callee.qualname}` ({project.functions[fid][0].path}:{call.line})",
                        at=call.line,
                    ))
                    seen.add((given, attribute))
                    break
    return found


def _term(function: facts.Function, line: int, name: str) -> tuple:
    """What the value flow says `name` holds at `line`; () for a parameter (of unknown origin)."""
    term = function.read_terms.get((line, name))
    if term is None:
        held = function.holds.get(name)
        if not held:
            return ()
        term = held[0] if len(held) == 1 else (Term.ANY.value, held)
    return term


def _tested(function: facts.Function, load: facts.Load) -> set[str]:
    """The columns of the query's entity its WHERE tests: `filter_by`'s keywords, and the attributes
    its `.where(...)`/`.filter(...)` name on the entity as written (or on the same class name)."""
    calls = {call.index: call for call in function.calls}
    short = load.entity.rpartition(".")[2]
    return {
        attribute
        for index in _chain(calls, load) for path, attribute in function.filtered.get(index, ())
        if path in ("", load.entity) or path.rpartition(".")[2] == short
    }


def _mapped(project: Project, ref: str | None) -> str | None:
    """The project class a query loads, when mapped: declared so (`__tablename__`), or an `SQLModel`
    subclass, which a Session's query only loads when it is a `table=True` one."""
    classes = project_classes(project)
    found = classes.resolve(ref) if ref else None
    if found is None:
        return None
    if classes.is_mapped(found):
        return found
    bases = (base for cls in classes.mro(found) if cls in classes.by_ref for base in classes.by_ref[cls][1].bases)
    return found if not MODEL_BASES.isdisjoint(bases) else None


def _column(project: Project, model: str, attribute: str) -> bool:
    """Whether the mapped class (or a project base) declares `attribute` as a plain column: not a
    relationship, whose `+=` adds rows of its own (`post.tags += [tag]`: nothing another request
    overwrites), nor a descriptor running code of its own, nor a name it does not declare."""
    classes = project_classes(project)
    chain = [classes.by_ref[cls][1] for cls in classes.mro(model) if cls in classes.by_ref]
    return any(attribute in declared.names for declared in chain) and not any(
        attribute in declared.relationships or attribute in declared.descriptors
        for declared in chain
    )


def _loads(project: Project, fid: FunctionId, term: tuple, depth: int) -> list[tuple[FunctionId, facts.Load]]:
    """The unlocked queries whose objects `term` (of the function `fid`) may be, each with the
    function running it; [] for what the flow cannot follow, or what is no query's."""
    function = project.functions[fid][1]
    kind = term[0] if term else None
    if depth > _DEPTH or kind is None:
        return []
    if kind == Term.LOAD:
        load = function.loads[term[1]] if term[1] < len(function.loads) else None
        return [(fid, load)] if load is not None and not _locked(function, load) else []
    if kind == Term.ANY:
        return [found for each in term[1] for found in _loads(project, fid, each, depth + 1)]
    if kind == Term.NAME:
        return [found for each in function.holds.get(term[1], ()) for found in _loads(project, fid, each, depth + 1)]
    if kind == Term.ITER:
        return _loads(project, fid, term[1], depth + 1)
    if kind == Term.CALL:
        held = function.held_loads.get(term[1])
        if held is not None:
            return [] if _locked(function, held) else [(fid, held)]
        for edge in project.all_calls_from[fid]:
            call = edge.call
            if call.index != term[1] or call.awaited or call.offloaded:
                continue
            callee = project.functions[edge.callee][1]
            if callee.is_async or callee.is_generator:
                return []
            return [found for each in callee.results for found in _loads(project, edge.callee, each, depth + 1)]
    return []


def _locked(function: facts.Function, load: facts.Load) -> bool:
    """Whether the query may lock its rows (`with_for_update`): its own get keyword or statement
    chain says so, or the function names `with_for_update` somewhere this reading does not tie
    to another of its queries."""
    calls = {call.index: call for call in function.calls}
    own = _chain(calls, load)
    if any(_names_lock(calls[index]) for index in own if index in calls):
        return True
    others = {index for other in (*function.loads, *function.held_loads.values()) for index in _chain(calls, other)}
    return any(_names_lock(call) for call in function.calls if call.index not in others)


def _chain(calls: dict[int, facts.Call], load: facts.Load) -> set[int]:
    """The indexes of the calls of a query as written: the session call and what is called on
    its result (`db.query(M).filter(...).first()`), the statement's chain (`select(M).where(...)`)."""
    found: set[int] = set()
    pending = [load.index]
    while pending:
        index = pending.pop()
        if index in found or index not in calls:
            continue
        found.add(index)
        call = calls[index]
        for outer in (call.receiver_of, call.argument_of):
            if outer is not None:
                pending.append(outer)
        pending.extend(i for i, other in calls.items() if other.receiver_of == index or other.argument_of == index)
    return found


def _names_lock(call: facts.Call) -> bool:
    """`x.with_for_update(...)`, `db.get(M, pk, with_for_update=True)`, `db.refresh(o, with_for_update=True)`."""
    written = call.func or call.callee or ""
    return written.rpartition(".")[2] == _LOCK or call.method == _LOCK or any(arg.keyword == _LOCK for arg in call.args)


def note_text(project: Project, update: LostUpdate, offloaded: bool = False) -> str:
    """The note a converted handler gets: what is updated where, why it loses updates as `def`,
    and the two fixes. `offloaded`: a kept handler's, whose call `--offload-mixed` takes off the loop."""
    load = update.load
    short = load.entity.rsplit(".", 1)[-1]
    loaded = f"{update.load_path}:{load.line}"
    written = f"{update.path}:{update.line}"
    how = "offloaded" if offloaded else "as def"
    done = "offloaded" if offloaded else "converted"
    return (
        f"{lead(project, update, offloaded)}loads `{update.name}` (a {short}, {loaded}) and writes `{update.name}.{update.attribute}` back "
        f"from its own value at {written}: {how}, concurrent requests of a worker interleave in the threadpool "
        f"(on the event loop none ran in between), two can read the same value and one update is lost; {done} "
        f"all the same (several workers race there already): {update_fixes(project, update)}"
    )


def update_fixes(project: Project, update: LostUpdate, awaited: bool = False) -> str:
    """The two fixes of a lost update: an UPDATE the database computes, or a lock as the row
    loads; `awaited`: written for an AsyncSession (phase two's note, AM287)."""
    load = update.load
    entity = load.entity
    key = project_classes(project).primary_key(update.model)
    where = f"{entity}.{key} == {update.name}.{key}" if key else "..."
    column = f"{entity}.{update.attribute}"
    return (
        f"let the database compute it, `{'await ' if awaited else ''}{load.session}.execute(update({entity})"
        f".where({where}).values({update.attribute}={column} + 1))` "
        f"(your own expression on `{column}` in place of `+ 1`), or lock the row as it loads: {lock_fix(update)}"
    )


def claim_text(project: Project, update: LostUpdate, offloaded: bool = False) -> str:
    """The note a converted handler claiming loaded rows gets (AM170): the query, the column, the
    assignment, why two requests both claim a row as `def`, and the two fixes."""
    how = "offloaded" if offloaded else "as def"
    done = "offloaded" if offloaded else "converted"
    return (
        f"{claim_lead(project, update, offloaded)}: {how}, concurrent requests of a worker interleave in the "
        f"threadpool (on the event loop none ran in between), two can load the same row before either commits "
        f"and both claim it (each acting on it: a job run twice, an event sent twice); {done} all the same "
        f"(several workers race there already): {claim_fixes(update)}"
    )


def claim_lead(project: Project, update: LostUpdate, offloaded: bool = False) -> str:
    load = update.load
    return (
        f"{lead(project, update, offloaded)}loads `{update.name}` (a {load.entity.rsplit('.', 1)[-1]}, "
        f"{update.load_path}:{load.line}) by a query whose WHERE tests `{load.entity}.{update.attribute}`, "
        f"and assigns `{update.name}.{update.attribute}`"
        + (f" through {update.handed}" if update.handed else "")
        + f" at {update.path}:{update.line}: a claim"
    )


def claim_fixes(update: LostUpdate) -> str:
    load = update.load
    entity, attribute = load.entity, update.attribute
    kind = "query" if load.form == "query" else "select"
    return (
        f"lock the rows as they load, skipping those another request holds, `.with_for_update(skip_locked=True)` "
        f"on the {kind} of {update.load_path}:{load.line}, or claim them in one statement, "
        f"`{load.session}.scalars(update({entity}).where(<the {kind}'s WHERE>)"
        f".values({attribute}=...).returning({entity}))`, acting on the rows it returns"
    )


def lead(project: Project, update: LostUpdate, offloaded: bool = False) -> str:
    """`calls `crud.like_post` (line 21), which ` for an update a helper makes, else ""."""
    if not update.helpers:
        return ""
    names = [f"{project.functions[h][0].name}.{project.functions[h][1].qualname}" for h in update.helpers]
    return (
        f"calls `{names[0]}` (line {update.call_line}{', offloaded to the threadpool' if offloaded else ''})"
        + "".join(f" -> `{n}`" for n in names[1:]) + ", which "
    )


def lock_fix(update: LostUpdate) -> str:
    load = update.load
    if load.form == "get":
        return f"`{load.session}.get({load.entity}, ..., with_for_update=True)`"
    if load.form in ("select", "query"):
        kind = "query" if load.form == "query" else "select"
        return f"`.with_for_update()` on the {kind} of {update.load_path}:{load.line}"
    return f"`{load.session}.refresh({update.name}, with_for_update=True)` before the read"
