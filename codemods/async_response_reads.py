"""Relationships a response model reads on what an `async def` route on an AsyncSession returns
(check's AM314).

    @router.get("/items/{item_id}", response_model=ItemOut)   # ItemOut: owner: OwnerOut, tags: list[TagOut]
    async def get_item(item_id: int, db: AsyncSession = Depends(get_async_db)):
        return await db.get(Item, item_id)

FastAPI validates the returned object into `ItemOut` on the event loop, reading `item.owner` and
`item.tags` by the fields' names; neither is loaded, so the first read is the lazy load, outside
any greenlet, and raises MissingGreenlet. What is judged, and what not: AM314's doc.

Over 500 lines: the response walk, the objects the route built, the displayed dicts and the
untraced results share the field reading and the credit of the route's queries; apart, each
would import the others' helpers back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.generic_models import call_models
from async_migrate.codemods.held_session import type_var
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.vocabulary.sqlalchemy import EAGER_STRATEGIES, POLYMORPHIC

if TYPE_CHECKING:
    from async_migrate.codemods.check import _Credit
    from async_migrate.codemods.phase2.model_members import Need, Summary


def response_lazy_loads(project: Project, handler: Handler, sessions: set[str]) -> list[Blocking]:
    """The response model's fields that lazy-load on the returned objects, nested ones along the
    relationship path they are read on (`BookOut.author.books`): one Blocking per field, at the
    line declaring the response model (the route's own line otherwise)."""
    from async_migrate.codemods.check import _Credit, _union

    function = handler.function
    if not function.results or handler.kind != "route":
        return []
    models, line = _response_models(project, handler)
    if not models:
        return []
    if not sessions:
        # the route's project code works on the AsyncSession (a unit of work, a service, a
        # repository a dependency builds)
        return _unloaded_returned(project, handler, sessions, models, line) or _untraced_returned(
            project, handler, models, line, held=True
        )
    homes: list[tuple[FunctionId, facts.Load]] = []
    origins = _union(project, handler.id, function.results, sessions, (), 0, homes)
    if origins is None:
        return _unloaded_returned(project, handler, sessions, models, line) or _displayed(
            project, handler, sessions, models, line
        ) or _untraced_returned(project, handler, models, line)
    walk = _Walk(project, handler, origins, _Credit(project, handler.id), line, homes)
    # a query's entity as its module imports it (`models.Entry`, re-exported by the package): the class
    owners = {walk.classes.resolve(load.model) for load in origins}
    if None in owners:
        # a query of an entity the flow cannot name (`select(self.model)`)
        return _untraced_returned(project, handler, models, line)
    for model in models:
        walk.model(model, (model,), [], {owner for owner in owners if owner is not None})
    return walk.found


def validated_lazy_loads(project: Project, handler: Handler, sessions: set[str]) -> list[Blocking]:
    """`PostOut.model_validate(post)` (`from_orm`, a TypeAdapter's `validate_python`) in the
    handler's own body, on objects a query on its AsyncSession loaded: the model reads its fields
    there, on the event loop, as a response model does once the route returned; each relationship
    a field reads that the query does not load (nor a refresh before the line) lazy-loads, and
    raises MissingGreenlet. One Blocking per field, at the validating line."""
    from async_migrate.codemods.check import _UNTRACED_READ, _Credit, _loader_classes, _union
    from async_migrate.codemods.phase2.validations import validation

    if not sessions:
        return []
    classes = _classes(project)
    found: list[Blocking] = []
    for call in handler.function.calls:
        validated = None if call.nested else validation(project, classes, call)
        if validated is None or not validated.given.name:
            continue
        origins = _union(project, handler.id, (("name", validated.given.name),), sessions, (), 0)
        owners = {classes.resolve(load.model) for load in origins or ()}
        if origins is None:
            # an object a loader the flow does not follow gives (`item = await crud.item.get(db, id)`)
            typed = _loader_classes(project, classes, handler, ("name", validated.given.name), 0)
            if typed is not None:
                why = f"may lazy-load where it is validated: a {', '.join(sorted(classes.short(o) for o in typed[0]))} "
                found.extend(
                    b for b in untraced_fields(project, handler, validated.models, set(typed[0]), call.line,
                                               why + typed[1] + _UNTRACED_READ)
                    if b not in found
                )
            continue
        if not origins or None in owners:
            continue
        walk = _Walk(project, handler, origins, _Credit(project, handler.id), call.line,
                     read=(validated.given.name, call.line))
        for model in validated.models:
            if classes.fields(model):
                walk.model(model, (model,), [], {owner for owner in owners if owner is not None})
        found.extend(b for b in walk.found if b not in found)
    return found


class _Walk:
    """The fields of a response model read on objects of `owners`, below the queried objects
    along `path`: each relationship one loads lazily (unless the queries load it along the path,
    or the route refreshes the very object it returns, or reads it through `awaitable_attrs`) is found, and the models
    nested in the fields of each relationship walked in turn."""

    def __init__(
        self, project: Project, handler: Handler, origins: list[facts.Load], credit: _Credit, line: int,
        homes: list[tuple[FunctionId, facts.Load]] | None = None, read: tuple[str, int] | None = None,
    ) -> None:
        from async_migrate.codemods.classes import project_classes
        from async_migrate.codemods.phase2.model_members import members

        self.project = project
        self.handler = handler
        self.origins: list[facts.Load] = origins
        self.homes = homes or []  # each query with the function it is written in
        self.credit = credit
        self.line = line
        # the name validated in the body and the line it is validated on; None: what the route
        # returns, serialised once it returned
        self.read = read
        self.when = "while the response is serialised" if read is None else f"when validated at line {read[1]}"
        self.classes = project_classes(project)
        self.index = members(project, self.classes)
        self.flow = self.index.flow
        self.found: list[Blocking] = []

    def model(self, model: str, stack: tuple[str, ...], path: list[str], owners: set[str]) -> None:
        from async_migrate.codemods.check import session_work_text
        from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

        fields = dict(self.classes.fields(model))
        self._schema_code(model, stack, path, owners)
        for name in _read_names(self.classes, model):
            ran = [
                summary for owner in sorted(owners)
                if owner in self.classes.by_ref and (summary := self.index.runs(owner, name, "read")) is not None
            ]
            if any(summary.session_work for summary in ran):
                summary = next(summary for summary in ran if summary.session_work)
                read = ".".join([self.classes.short(stack[0]), *path, name])
                self.found.append(Blocking(self.line, f"{read} (runs {summary.member} {self.when}, "
                                                      f"{session_work_text(summary)})"))
                continue
            strategies = {self.flow.relationship(owner, name) for owner in owners}
            if None in strategies:
                # no relationship of a class the objects may be: a column, or model code (a
                # property) whose own reads load as the response is serialised
                if not self._column(owners, name, path, stack):
                    self._member(owners, name, path, stack)
                continue
            steps = [*path, name]
            if not (strategies <= SAFE_STRATEGIES and not self._unloaded(steps)) and not self._loads(steps):
                what = 'lazy="dynamic" query' if "dynamic" in strategies else "lazy load"
                entities = ", ".join(sorted(self.classes.short(owner) for owner in owners))
                on = (
                    f"its {entities} from the route's query, which does not eager-load it" if not path
                    else f"on the {entities} that path leads to, which no option of the route's query loads along it"
                )
                read = ".".join([self.classes.short(stack[0]), *steps])
                self.found.append(Blocking(self.line, f"{read} ({what} {self.when}), {on}"))
                continue  # what lies below it is reported once its load is fixed
            targets = {self.flow.target(owner, name) for owner in owners}
            if None in targets or len(stack) >= _MAX_DEPTH:
                continue
            for ref in fields.get(name, ()):
                nested = self.classes.resolve(ref)
                if nested is not None and nested not in stack and self.classes.fields(nested):
                    self.model(nested, (*stack, nested), steps, {t for t in targets if t is not None})

    def _member(self, owners: set[str], name: str, path: list[str], stack: tuple[str, ...]) -> None:
        """A field read through model code (`owner_name` a property returning `self.owner.name`):
        each relationship it reads, along the path from the queried objects, that neither a
        declared eager strategy nor the queries' options load."""
        for owner in sorted(owners):
            summary = self.index.runs(owner, name, "read") if owner in self.classes.by_ref else None
            if summary is None:
                continue
            read = ".".join([self.classes.short(stack[0]), *path, name])
            if self._needs(summary, summary.needs, path, read) or self._unfollowed(summary, read):
                return

    def _schema_code(self, model: str, stack: tuple[str, ...], path: list[str], owners: set[str]) -> None:
        """The schema's own code pydantic runs on the validated instance (`@computed_field`,
        serializers, `mode="after"` validators) reading the ORM objects its fields typed to keep what
        they are given hold (`team: Any`, validated from relationship `team`): a relationship
        `self.team.headline()` reads on them loads as a read in the route would."""
        from async_migrate.codemods.phase2.validations import instance_code, opaque

        if self.classes.is_mapped(model):
            return  # an ORM class as its own response model: its members are read by name (`_member`)
        for owner in sorted(owners):
            held = {
                name for name, annotation in self.classes.fields(model)
                if opaque(annotation) and self.flow.relationship(owner, name) is not None
            }
            if not held or owner not in self.classes.by_ref:
                continue
            for fid in instance_code(self.project, self.classes, model):
                summary = self.index.summary(owner, fid)
                needs = [need for need in summary.needs if need.path and need.path[0][1] in held]
                shown = f"{'.'.join([self.classes.short(stack[0]), *path])}.{self.project.functions[fid][1].name}"
                if self._needs(summary, needs, path, shown) or self._unfollowed(summary, shown):
                    return

    def _needs(self, summary: Summary, needs: list[Need], path: list[str], read: str) -> bool:
        """Found: the first of the relationships model code reads (`needs`, from the objects at
        `path`) that neither a declared eager strategy nor the queries' options load."""
        from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

        for need in needs:
            steps = [step for _, step in need.path]
            if need.strategy not in ("dynamic", "subclass") and all(
                self.flow.relationship(at, step) in SAFE_STRATEGIES
                or self.credit.loads_path(self.origins, [*path, *steps[: depth + 1]])
                for depth, (at, step) in enumerate(need.path)
            ):
                continue
            what = {"dynamic": "dynamic relationship", "subclass": "subclass column"}.get(need.strategy, "lazy load")
            self.found.append(Blocking(self.line, (
                f"{read} (runs {summary.member}, reads {'.'.join(steps)}: {what} {self.when}), which no option "
                "of the route's query loads along it"
            )))
            return True
        return False

    def _unfollowed(self, summary: Summary, read: str) -> bool:
        """Found: model code run on the objects whose reads the analysis cannot follow (an object
        handed to another callable, an attribute named at run time, a base outside PATH): unverified."""
        from async_migrate.codemods.check import UNFOLLOWED_CODE

        if not summary.unverified:
            return False
        self.found.append(Blocking(self.line, f"{read} (runs {summary.member}: {summary.unverified[0]}; {UNFOLLOWED_CODE})"))
        return True

    def _column(self, owners: set[str], name: str, path: list[str], stack: tuple[str, ...]) -> bool:
        """A field naming a column the objects leave unloaded, read while the response is
        serialised: a deferred one (`mapped_column(deferred=True)`, a deferred `column_property`)
        no option along the path undefers; on the queried objects themselves, one a `load_only` or
        `defer` of their query leaves out, or one only a subclass declares that no polymorphic
        load brings. Whether one was found (and reported)."""
        from async_migrate.codemods.check import _DEFERRED, _UNLOADED
        from async_migrate.codemods.phase2.lazy_loads import closure_eager_names, narrowed_column

        known = [owner for owner in sorted(owners) if owner in self.classes.by_ref]
        read = ".".join([self.classes.short(stack[0]), *path, name])
        deferred = [owner for owner in known if self.index.deferred(owner, name)]
        if deferred and not self._loads([*path, name]):
            self.found.append(Blocking(self.line, (
                f"{read} ({self.classes.short(deferred[0])}.{name}, {_DEFERRED}, {self.when})"
            )))
            return True
        if path:
            return False
        for home, load in self.homes:
            why = narrowed_column(self.classes, self.project.functions[home][1], load.model, name) if load.model else None
            if why is not None:
                self.found.append(Blocking(self.line, (
                    f"{read} ({self.classes.short(load.model)}.{name}, {_UNLOADED}, while the response is "
                    f"serialised: {why})"
                )))
                return True
        for owner in known:
            sub = self.index.subclass_only(owner, name)
            if sub is not None and POLYMORPHIC not in closure_eager_names(self.project, self.handler.id):
                self.found.append(Blocking(self.line, (
                    f"{read} ({self.classes.short(sub)}.{name}, a subclass column a query of "
                    f"{self.classes.short(owner)} does not load: lazy load {self.when})"
                )))
                return True
        return False

    def _unloaded(self, steps: list[str]) -> bool:
        return len(steps) == 1 and self.credit.unloads(self.origins, steps[0])

    def _loads(self, steps: list[str]) -> bool:
        from async_migrate.codemods.check import _refreshed_read

        if self.credit.loads_path(self.origins, steps):
            return True
        if len(steps) > 1:
            return False
        # serialised once the route returned: after any refresh of the object it returns; validated
        # in the body: after a refresh before that line
        function = self.handler.function
        if self.read is not None:
            name, line = self.read
            return _refreshed_read(self.project, function, name, line, self.origins, steps[0])
        return all(
            _refreshed_read(self.project, function, term[1] if term[0] == "name" else "", _AFTER_RETURN,
                            self.origins, steps[0])
            for term in function.results
        )


# The line a read at serialisation counts as made on: below every line of the route.
_AFTER_RETURN = 1 << 30


# Response models nest rarely deeper; the reads below are reported once these load.
_MAX_DEPTH = 4


def _response_models(project: Project, handler: Handler) -> tuple[list[str], int]:
    """The project models FastAPI validates the route's result into (`response_model=`, else the
    return annotation), and the line naming them."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    refs, line = handler.response_refs()
    resolved = (classes.resolve(ref) for ref in refs)
    return [ref for ref in dict.fromkeys(resolved) if ref is not None and classes.fields(ref)], line


def _read_names(classes: Classes, model: str) -> list[str]:
    """The attribute names validating `model` from an object reads: its fields and their string
    aliases (`Field(alias="owner_name")`)."""
    fields = classes.fields(model)
    aliases: dict[str, str] = {}
    for ancestor in reversed(classes.mro(model)):
        aliases.update(classes.by_ref[ancestor][1].aliases)
    names = [name for name, _ in fields]
    names += [alias for name in names if (alias := aliases.get(name)) not in (None, "?", name) and "." not in alias]
    return list(dict.fromkeys(names))



def _unloaded_returned(
    project: Project, handler: Handler, sessions: set[str], models: list[str], line: int
) -> list[Blocking]:
    """The relationships the response model reads on the one object the route returns when no
    query loaded it: one the route built, added to its AsyncSession and flushed or committed
    (`product = Product(...)`, `session.add(product)`), or what a project function or method hands
    back that may be such an object (`product = await repo.add(Product(...))`: `handed_back`). Each
    relationship field loads on first read there, one declared eager (`lazy="selectin"`) as well,
    unless the route set it on the object or refreshed it naming it."""
    from async_migrate.codemods.check import _built_and_flushed, _set_on_built, _strategy_of
    from async_migrate.codemods.phase2.handed_built import handed_back, shown_functions
    from async_migrate.codemods.phase2.refreshed import by_name

    function = handler.function
    if len(function.results) != 1 or len(function.results[0]) < 2:
        return []
    kind, value = function.results[0][:2]
    name = value if kind == "name" else ""
    held = function.holds.get(name, ()) if name else ()
    end = max((c.line for c in function.calls), default=function.line) + 1
    built = _built_and_flushed(project, function, held, name, end, sessions) if name else None
    if built is not None:
        owners = {built}
        callees = []
        where = f"the {built.rpartition('.')[2]} the route builds and adds to its AsyncSession"
    else:
        call = next((c for c in function.calls if c.index == (held[0][1] if len(held) == 1 and held[0][0] == "call"
                                                              else value if kind == "call" else -1)), None)
        callees = handed_back(project, handler.id, call) if call is not None else []
        if not callees or not (sessions or any(_adds_on_async(project, callee, 4) for callee in callees)):
            return []
        owners = set()
        for callee in callees:
            returns = project.functions[callee][1].returns
            owners.update(o for ref in returns if (o := _classes(project).resolve(ref)) is not None
                          and _classes(project).is_mapped(o))
        if not owners:
            return []
        where = f"what {shown_functions(project, callees)}() hands back, an object it may have built (no query loaded it)"
    classes = _classes(project)
    found: list[Blocking] = []
    for model in models:
        for field in _read_names(classes, model):
            strategies = {_strategy_of(project, owner, field) for owner in owners}
            if strategies <= {None} or strategies & {"raise", "raise_on_sql", "noload", "write_only"}:
                continue
            if name and (by_name(function, name, end, field) or (
                built is not None and _set_on_built(function, held, name, field, end)
            )):
                continue
            # a refresh naming no attributes runs the loaders declared eager, on the object it refreshes
            eager = strategies - {None} <= EAGER_STRATEGIES
            if name and eager and _refreshed_whole(function, name):
                continue
            if built is None and all(
                _refreshes_returned(project, callee, field, eager) for callee in callees
            ):
                continue  # `make(db, ...)` refreshing what it returns, naming the field
            read = f"{classes.short(model)}.{field}"
            found.append(Blocking(line, f"{read} (lazy load while the response is serialised), on {where}: its "
                                        "relationships load on first read, one declared eager as well"))
    return found


def _untraced_returned(
    project: Project, handler: Handler, models: list[str], line: int, held: bool = False
) -> list[Blocking]:
    """The relationships the response model reads on what the route returns when the flow cannot
    trace it to a query (a statement a method or helper builds, `select(self.model)`), where the
    annotations say it is an ORM object: the route's own return annotation beside its
    `response_model=`, or that of the project function or method whose result it returns
    (`-> list[Task]`, a generic repository's `-> list[ModelT]` as the receiver's class binds it).
    A relationship of such a class declared to load lazily and named by no loader option of the
    route's closure loads while the response is serialised, unless the untraced query loads it:
    unverified, not cleared. `held`: the route names no AsyncSession of its own, so only a method
    of an instance holding one (a repository a dependency builds) counts."""
    from async_migrate.codemods.check import UNTRACED_RESPONSE
    from async_migrate.codemods.held_commits import _held_attribute
    from async_migrate.codemods.phase2.handed_built import shown_functions
    from async_migrate.codemods.phase2.refreshed import by_name

    classes = _classes(project)
    function = handler.function
    refs: list[str] = []
    if not held and any(r.declared_response is not None for r in handler.registrations):
        refs.extend(function.returns)
    returned = _returned_callees(project, handler.id, function)
    if held:
        returned = [(index, callee) for index, callee in returned if _held_attribute(project, callee) is not None]
    callees = list(dict.fromkeys(callee for _, callee in returned))
    for callee in callees:
        refs.extend(project.functions[callee][1].returns)
    owners = {o for ref in refs if (o := classes.resolve(ref)) is not None and classes.is_mapped(o)}
    # a generic repository's `-> list[ModelT]` names no class: the receiver's class binds it
    # (`class TaskRepo(Repo[Task])`, `model = Task`)
    for index in dict.fromkeys(index for index, _ in returned):
        owners.update(c for c in call_models(project, classes, handler.id, index).classes if classes.is_mapped(c))
    if not owners:
        return []
    source = f"{shown_functions(project, callees)}()" if callees else "the route"
    entities = ", ".join(sorted(classes.short(owner) for owner in owners))
    name = function.results[0][1] if len(function.results) == 1 and function.results[0][0] == "name" else ""
    end = max((c.line for c in function.calls), default=function.line) + 1

    def refreshed(field: str) -> bool:
        """The one object returned is refreshed naming `field`: by the route, after it has it,
        or by every function handing it back, before it does (phase two's `committed_refresh`)."""
        if name and by_name(function, name, end, field):
            return True
        return len(function.results) == 1 and bool(callees) and all(
            _refreshes_returned(project, callee, field, False) for callee in callees
        )

    return untraced_fields(
        project, handler, models, owners, line,
        f"may lazy-load while the response is serialised: {source} returns {entities} objects {UNTRACED_RESPONSE}",
        refreshed,
    )


def untraced_fields(
    project: Project, handler: Handler, models: Iterable[str], owners: set[str], line: int, why: str,
    refreshed: Callable[[str], bool] | None = None,
) -> list[Blocking]:
    """The fields of `models` (pydantic schemas) naming a relationship of `owners` declared to load
    lazily and named by no loader option of the handler's closure, read on objects of those classes
    whose query the flow does not follow; past a relationship declared eager, the nested model's
    fields on what it leads to (`ItemOut.owner: UserWithItems` reading `User.items`). One Blocking
    per field, `why` after its path; `refreshed`: whether a field of the returned objects themselves
    is loaded by a refresh naming it."""
    from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES, closure_eager_names
    from async_migrate.codemods.phase2.model_members import members

    classes = _classes(project)
    eager = closure_eager_names(project, handler.id)
    flow = members(project, classes).flow
    found: list[Blocking] = []

    def walk(schema: str, held: set[str], path: list[str], stack: tuple[str, ...]) -> None:
        fields = dict(classes.fields(schema))
        for field in _read_names(classes, schema):
            strategies = {flow.relationship(owner, field) for owner in held} - {None}
            if not strategies:
                continue
            if strategies <= SAFE_STRATEGIES or field in eager:
                targets = {flow.target(owner, field) for owner in held}
                if None in targets or len(stack) >= _MAX_DEPTH:
                    continue
                for ref in fields.get(field, ()):
                    nested = classes.resolve(ref)
                    if nested is not None and nested not in stack and classes.fields(nested):
                        walk(nested, {t for t in targets if t is not None}, [*path, field], (*stack, nested))
                continue
            if not path and refreshed is not None and refreshed(field):
                continue
            found.append(Blocking(line, f"{'.'.join([classes.short(stack[0]), *path, field])} ({why})"))

    for model in models:
        if not classes.is_mapped(model):
            walk(model, owners, [], (model,))
    return found


def _returned_callees(project: Project, fid: FunctionId, function: facts.Function) -> list[tuple[int, FunctionId]]:
    """The project functions whose awaited result the route returns (directly, through one local
    bound once, or copied: `list(await repo.all())`), each with the index of the call."""
    from async_migrate.codemods.phase2.handed_built import callees

    found: list[tuple[int, FunctionId]] = []
    terms = list(function.results)
    seen = 0
    while terms and seen < 16:
        seen += 1
        term = terms.pop()
        if term[0] == "name":
            terms.extend(function.holds.get(term[1], ()))
        elif term[0] in ("tuple", "any"):
            terms.extend(term[1])
        elif term[0] == "iter":
            terms.append(term[1])
        elif term[0] == "call":
            call = next((c for c in function.calls if c.index == term[1]), None)
            if call is not None and call.awaited:
                found.extend((call.index, c) for c in callees(project, fid, call) if (call.index, c) not in found)
    return found


def _adds_on_async(project: Project, fid: FunctionId, depth: int) -> bool:
    """Whether project function `fid`, or one it calls, adds an object to an AsyncSession: one of
    its parameters declared so, or one its instance holds (`self.session.add(obj)`)."""
    from async_migrate.codemods.check import _holds_async_session

    if depth <= 0:
        return False
    module, function = project.functions[fid]
    declared = set(project.declared_async_session_params(fid))
    cls = f"{module.name}.{function.qualname.rpartition('.')[0]}"
    for call in function.calls:
        if call.receiver in declared and call.method in ("add", "add_all"):
            return True
        held, _, method = (call.func or "").rpartition(".")
        if method in ("add", "add_all") and held.startswith("$self.") and "." in function.qualname and \
                _holds_async_session(project, cls, held.removeprefix("$self.")):
            return True
    return any(_adds_on_async(project, edge.callee, depth - 1) for edge in project.all_calls_from.get(fid, ()))


def _refreshes_returned(project: Project, fid: FunctionId, attribute: str, eager: bool) -> bool:
    """Whether project function `fid` returns one name it refreshes naming `attribute` first (or,
    `eager`: a relationship declared eager, naming no attribute)."""
    from async_migrate.codemods.phase2.refreshed import by_name

    _, function = project.functions[fid]
    if len(function.results) != 1 or function.results[0][0] != "name":
        return False
    name = function.results[0][1]
    end = max((c.line for c in function.calls), default=function.line) + 1
    return by_name(function, name, end, attribute) or (eager and _refreshed_whole(function, name))


def _refreshed_whole(function: facts.Function, name: str) -> bool:
    """`await session.refresh(name)` in the function's own body, naming no attributes."""
    return any(
        c.method == "refresh" and not c.nested and len(c.args) == 1 and c.args[0].name == name
        and c.args[0].keyword is None for c in function.calls
    )


def _displayed(project: Project, handler: Handler, sessions: set[str], models: list[str], line: int) -> list[Blocking]:
    """The relationships the fields of a returned dict display, or of a schema the route builds
    from keywords and returns, read on the values the flow traces to the route's queries."""
    from async_migrate.codemods.check import _Credit, _union

    function = handler.function
    classes = _classes(project)
    found: list[Blocking] = []
    for term in function.results:
        shown = _display(project, function, term)
        if shown is None:
            continue
        pairs, built, at, named = shown
        generic = [*models, *named]
        for model in [built] if built is not None else models:
            for name, annotation in classes.fields(model):
                value = pairs.get(name)
                origins = _union(project, handler.id, (value,), sessions, (), 0) if value is not None else None
                resolved = {classes.resolve(load.model) for load in origins or ()}
                if not origins or None in resolved:
                    continue
                owners = {owner for owner in resolved if owner is not None}
                walk = _Walk(project, handler, origins, _Credit(project, handler.id), at or line)
                for nested in _nested(project, annotation, generic, model):
                    walk.model(nested, (nested,), [], owners)
                found.extend(b for b in walk.found if b not in found)
    return found


def _display(
    project: Project, function: facts.Function, term: tuple
) -> tuple[dict[str, tuple], str | None, int, list[str]] | None:
    """A returned dict display with string keys only (through a local name bound to it once), or
    a schema built from keyword arguments only: its values by key, the schema (None for a dict),
    the line validating it (0: the response's) and the models its type arguments name."""
    if term[0] == "name":
        held = function.holds.get(term[1], ())
        if len(held) != 1:
            return None
        term = held[0]
    if term[0] == "dict":
        return (dict(term[1]), None, 0, []) if not term[2] else None
    if term[0] != "call":
        return None
    keywords = function.keywords.get(term[1])
    call = next((c for c in function.calls if c.index == term[1]), None)
    if keywords is None or keywords[2] or call is None or not call.callee:
        return None
    classes = _classes(project)
    built = classes.resolve(call.callee)
    if built is None or classes.is_mapped(built) or not classes.fields(built):
        return None
    named = [ref for ref in (classes.resolve(r) for r in call.type_args) if ref is not None]
    return dict(keywords[1]), built, call.line, named


def _nested(project: Project, annotation: tuple[str, ...], generic: list[str], outer: str) -> list[str]:
    """Project models with fields a field's annotation names; a type parameter stands for each
    model the response or the construction names."""
    classes = _classes(project)
    refs = list(annotation)
    if any(type_var(project, ref) is not None for ref in refs):
        refs += generic
    found = (classes.resolve(ref) for ref in refs)
    return [ref for ref in dict.fromkeys(found) if ref is not None and ref != outer and classes.fields(ref)]


def _classes(project: Project) -> Classes:
    from async_migrate.codemods.classes import project_classes

    return project_classes(project)
