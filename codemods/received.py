"""Project objects handed to unannotated parameters: what a caller passes is what the callee holds.

A layered service passes its unit of work, repository or service object down by hand
(`register_user(uow, cmd)`, `OrderService(self.uow())`, `handler(event, uow)` out of a
table), and the functions receiving it rarely annotate the parameter. Without the
caller's type, `uow.users.get(...)` in the callee names nothing the analysis can follow,
and a route doing Session work through it would read as doing none. Each unannotated
parameter therefore holds the instances of project classes its callers pass it (joined
over every caller), found by a fixpoint over the call graph: the callee's own calls then
pass those instances on, and an `__init__` keeping one in `self.x` gives the attribute
its type for every method of the class. A synchronous engine or Connection travels the same
way (`Counter(engine)` keeping it for `with self.engine.connect() as c:`): that is engine work.
So does a value built from the Session by code the flow cannot follow (`pair = Depends(get_pair)`
returning `db, user`), and a display holding the Session (`summary({"db": db})`): the callee
taking it apart (`db, user = pair`, `deps["db"]`) holds what is as opaque, so its calls on the
parts are unverified, never no work.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.deferred_calls import hands_arguments
from async_migrate.codemods.flow import (
    CLASS,
    CONNECTION,
    ENGINE,
    FACTORY,
    FUNCTION,
    INJECTED,
    INSTANCE,
    MANAGER,
    NOTHING,
    QUERY,
    SESSION,
    TAINTED,
    Abstract,
    Flow,
    Values,
)

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

# Rounds of the fixpoint: each carries an object one more call deeper than the last
# round's parameters; real chains (route -> service -> handler -> repository) are short.
_ROUNDS = 6


def received_instances(project: Project) -> dict[FunctionId, dict[str, Values]]:
    """Unannotated parameter -> the project instances callers hand it, per function."""
    received: dict[FunctionId, dict[str, Values]] = {}
    dirty: set[FunctionId] | None = None  # None: every function
    grown: set[FunctionId] = set()
    for _ in range(_ROUNDS):
        flow = Flow(project, None, received)
        grown = set()
        for fid, (_, function) in project.functions.items():
            if dirty is not None and fid not in dirty:
                continue
            for call in function.calls:
                passed = [(arg, held) for arg in call.args if (held := _instances(project, flow, fid, call, arg))]
                if not passed:
                    continue
                for target, shifted in _deferred(project, flow, fid, call, passed):
                    for name, held in _untyped_args(project, shifted, target).items():
                        have = received.setdefault(target, {}).get(name, NOTHING)
                        if not held <= have:
                            received[target][name] = have | held
                            grown.add(target)
                found = project.function(call.callee) if call.callee is not None else None
                targets = [(found[0].name, found[1].key)] if found is not None else flow.targets(fid, call)[0]
                if call.dispatch:  # `HANDLERS[type(event)]` and the like: any of the table's functions
                    targets = [*targets, *project.containers.dispatch(call).targets]
                for target in targets:
                    for name, held in _untyped_args(project, passed, target).items():
                        have = received.setdefault(target, {}).get(name, NOTHING)
                        if not held <= have:
                            received[target][name] = have | held
                            grown.add(target)
        if not grown:
            break
        # A grown parameter changes what its function passes on, and, kept in `self.x`,
        # what every method of its class reads.
        owners = {flow.classes.owner(fid) for fid in grown} - {None}
        dirty = grown | {fid for fid in project.functions if flow.classes.owner(fid) in owners}
    narrowing = _abstract_params(project, Flow(project, None, received))
    for init, narrowed in narrowing.items():
        received.setdefault(init, {}).update(narrowed)
    if not grown and not narrowing and flow.reusable:
        # The last round's flow read what `received` now holds, and no value it keeps depends on
        # the order it was asked in: the Session fixpoint's flow, `Flow(project, None, received)`,
        # would work out the same values again.
        project.derived["received_flow"] = flow
    return received


def _abstract_params(project: Project, flow: Flow) -> dict[FunctionId, dict[str, Values]]:
    """`__init__` parameters declared with a Protocol or an abstract class (`repo: UserRepo`)
    of a class every construction of which the analysis sees (built only by calls naming it:
    never named as a value, no subclass, no `Depends` on it): they hold what those calls pass,
    when each passes instances of project classes. The declaration stands for every
    implementation, among them a parallel async copy only other code builds."""
    classes = flow.classes
    wanted: dict[FunctionId, list[str]] = {}
    for cls, methods in classes.methods.items():
        init = methods.get("__init__")
        if init is None or classes.subclasses(cls):
            continue
        _, function = project.functions[init]
        declared = [
            p.name for p in function.params
            if p.annotation and p.name != "self" and not p.variadic and p.depends is None
            and any((c := classes.resolve(r)) is not None and classes.is_abstract(c) for r in p.annotation)
        ]
        if declared:
            wanted[init] = declared
    if not wanted:
        return {}
    escaped = set(project.dependency_refs)
    for module in project.modules.values():
        escaped.update(ref for ref, _line, _written in module.escapes)
        for function in module.functions:
            escaped.update(p.depends for p in function.params if p.depends)
            escaped.update(r for p in function.params for r in p.opaque_refs)
    inits = {init: classes.owner(init) for init in wanted}
    wanted = {
        init: names for init, names in wanted.items()
        if not {inits[init], f"{inits[init]}.__init__"} & {classes.resolve(r) or r for r in escaped}
    }
    calls: dict[FunctionId, list[tuple[FunctionId, facts.Call]]] = {init: [] for init in wanted}
    for fid, (_, function) in project.functions.items():
        for call in function.calls:
            found = project.function(call.callee) if call.callee is not None else None
            targets = [(found[0].name, found[1].key)] if found is not None else flow.targets(fid, call)[0]
            for target in targets:
                if target in calls:
                    calls[target].append((fid, call))
    result: dict[FunctionId, dict[str, Values]] = {}
    for init, names in wanted.items():
        _, function = project.functions[init]
        for name in names:
            held: set = set()
            for caller, call in calls[init]:
                given = [a for a in call.args if facts.parameter_of(function, a) == name]
                values = argument_values(project, flow, caller, call, given[0]) if len(given) == 1 else NOTHING
                if not values or any(v.kind != INSTANCE or v.target is None for v in values):
                    break
                held |= values
            else:
                if held:
                    result.setdefault(init, {})[name] = frozenset(held)
    return result


def argument_values(project: Project, flow: Flow, fid: FunctionId, call: facts.Call, arg: facts.Arg) -> Values:
    """What an argument of `call` may hold; an argument that is itself a call building a
    project class (`UserService(UserRepo(db))`), when it is the call's only such argument:
    an instance of that class."""
    if arg.name is not None:
        local = flow.env(fid).get(arg.name)
        if local is not None or arg.ref is None:
            return local or NOTHING
        # a module-level name, as an imported class is (`get_or_404(User, id)`): what it refers to
    if arg.expr is not None:
        return flow.evaluate(fid, arg.expr)
    if arg.ref is not None:
        return flow.ref(arg.ref)
    # a literal or a call: asked for every argument of every call, so the cheap test first
    if sum(1 for a in call.args if a.name is None and a.expr is None and a.ref is None) != 1:
        return NOTHING
    inner = _inner_calls(project, fid).get(call.index, ())
    if len(inner) != 1 or inner[0].callee is None:
        return NOTHING
    cls = flow.classes.resolve(inner[0].callee)
    if cls is None or flow.classes.is_protocol(cls):
        return NOTHING
    return frozenset({Abstract(INSTANCE, cls)})


def _inner_calls(project: Project, fid: FunctionId) -> dict[int, list[facts.Call]]:
    """The function's calls by the index of the call they are an argument of, kept per project."""
    known: dict[FunctionId, dict[int, list[facts.Call]]] = project.derived.setdefault(  # type: ignore[assignment]
        "inner_calls", {}
    )
    found = known.get(fid)
    if found is None:
        found = known[fid] = {}
        for call in project.functions[fid][1].calls:
            if call.argument_of is not None:
                found.setdefault(call.argument_of, []).append(call)
    return found


def _instances(project: Project, flow: Flow, fid: FunctionId, call: facts.Call, arg: facts.Arg) -> Values:
    """The project instances an argument holds, a class built right there among them
    (`services.add_batch(cmd, SqlAlchemyUnitOfWork())`)."""
    values = argument_values(project, flow, fid, call, arg)
    if arg.displayed:
        # `summary({"db": db, "user": user})`, `f((db, user))`: a display holding the Session, or what
        # was built from it, is a value built from the Session the callee takes apart unseen
        held = [flow.evaluate(fid, expression) for expression in arg.displayed]
        if any(v.kind == SESSION or v.kind in (TAINTED, INJECTED) for found in held for v in found) or any(
            flow.elements(found) for found in held
        ):
            values = values | {Abstract(TAINTED, origin="the display it was handed in")}
    # A synchronous Connection travels the same way: `owner_name(conn, id)` runs statements on it;
    # so does a synchronous engine (`Counter(engine)` keeping it for `self.engine.connect()`); and
    # so do a model's `query_property()` Query (`paginate(User.query, page)` runs it) and a mapped
    # class (`get_or_404(User, id)` reads `model.query`).
    # A sessionmaker or a project Session opener handed on (`ping(SessionLocal)`, a manager's
    # `Model.list(db_session=self.session_maker)` for `self.session_maker = db_context`) opens the
    # synchronous Session the callee enters (`with db_session() as s`).
    return frozenset(
        v for v in values
        if (v.kind == INSTANCE and v.target is not None)
        or v.kind in (CONNECTION, ENGINE, QUERY, TAINTED, INJECTED, FACTORY)
        or (v.kind == MANAGER and v.target is not None)
        or (v.kind == CLASS and v.target is not None and flow.classes.is_mapped(str(v.target)))
    )


def _deferred(
    project: Project, flow: Flow, fid: FunctionId, call: facts.Call, passed: list[tuple[facts.Arg, Values]]
) -> list[tuple[FunctionId, list[tuple[facts.Arg, Values]]]]:
    """Where `call` hands a class or function the other arguments to call it with later
    (`partial(UnitOfWork, SessionLocal)`, `providers.Singleton(UnitOfWork, session_factory=...)`,
    a project `Singleton(UnitOfWork, SessionLocal)`; `deferred_calls.py`): the functions it will
    run (the class's `__init__`), each with the passed arguments as they land there."""
    first = next((a for a in call.args if a.position == 0), None)
    if first is None or all(arg is first for arg, _ in passed):
        return []
    found = project.function(call.callee) if call.callee is not None else None
    runs = [(found[0].name, found[1].key)] if found is not None else flow.targets(fid, call)[0]
    callee = project.functions[runs[0]][1] if len(runs) == 1 else None
    if not hands_arguments(project, call.callee, callee, [(a.position, a.keyword) for a in call.args]):
        return []
    targets: list[FunctionId] = []
    for value in argument_values(project, flow, fid, call, first):
        if value.kind == CLASS and isinstance(value.target, str):
            targets.extend(flow.classes.method(value.target, "__init__")[0])
        elif value.kind == FUNCTION and value.bound is None and isinstance(value.target, tuple):
            targets.append(value.target)
    if not targets:
        return []
    shifted = [
        (replace(arg, position=arg.position - 1) if arg.position is not None else arg, held)
        for arg, held in passed if arg is not first
    ]
    return [(target, shifted) for target in dict.fromkeys(targets)]


def _untyped_args(
    project: Project, passed: list[tuple[facts.Arg, Values]], callee: FunctionId
) -> dict[str, Values]:
    """The callee's unannotated parameters the passed arguments land in."""
    _, function = project.functions[callee]
    untyped = {
        p.name for p in function.params
        if not p.variadic and not p.annotation and not p.text and p.depends is None and p.default_ref is None
        and not p.opaque_depends and p.name not in ("self", "cls")
    }
    result: dict[str, Values] = {}
    for arg, held in passed:
        name = facts.parameter_of(function, arg)
        if name in untyped:
            result[name] = result.get(name, NOTHING) | held
    return result
