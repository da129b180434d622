"""Which Session an instance keeps in `self.<attribute>`, by what its class and bases declare.

A repository keeps the Session it is built with (`self.session = session` in `__init__`), and
the `__init__` is often inherited: from a plain base (`class UserRepo(AsyncRepository)`), or
from a base generic over the session type, which each subclass binds:

    SessionT = TypeVar("SessionT", Session, AsyncSession)

    class Repository(Generic[SessionT]):
        def __init__(self, session: SessionT) -> None:
            self.session = session

    class TaskRepository(Repository[Session]): ...          # self.session: Session
    class ProjectRepository(Repository[AsyncSession]): ...  # self.session: AsyncSession

The value flow joins what every caller hands the shared `__init__`, so without the binding a
synchronous subclass built anywhere makes every subclass's `self.session` a synchronous
Session, and an async-only one leaves it unknown. `held_kind` answers per class: `ASYNC`,
`SYNC` or None (not declared, or declared both ways). `held_attributes`: which attributes of the
instance a method runs on hold a Session of one kind, for check and phase two alike.
`init_held_async` (check's): what an `__init__` keeps from a parameter declared an AsyncSession,
or from an unannotated one every construction of the class hands an AsyncSession
(`constructed_async`: an untyped repository or unit of work).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.python import PROTOCOL_TYPES, TYPE_VARS

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.project import FunctionId, Project

ASYNC = "async"
SYNC = "sync"
_GENERIC = frozenset({"typing.Generic", "typing_extensions.Generic"}) | PROTOCOL_TYPES


def session_kind(project: Project, ref: str | None) -> str | None:
    """`ASYNC` for an AsyncSession type, `SYNC` for a synchronous Session type, else None."""
    if not ref:
        return None
    if project.is_async_session_type(ref):
        return ASYNC
    if project.is_sync_session_type(ref):
        return SYNC
    # `db: SessionDep` in a class body, `SessionDep = Annotated[AsyncSession, Depends(...)]` in
    # this module or another: the type the alias annotates
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if value is not None and value.kind == "annotated":
        kinds = {session_kind(project, r) for r in value.annotation if r != ref} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def type_var(project: Project, ref: str | None) -> facts.Value | None:
    """The `TypeVar(...)` call a module-level name is bound to, or None."""
    target = project.resolve(ref) if ref else None
    if target is None or target.kind != "value" or target.value is None:
        return None
    value = target.value
    return value if value.kind == "call" and project.canonical(value.ref) in TYPE_VARS else None


def _type_var_kind(project: Project, value: facts.Value) -> str | None:
    """What every type a TypeVar may stand for is: its `bound=`, or all its constraints."""
    bound = next((arg.ref for arg in value.args if arg.keyword == "bound"), None)
    if bound is not None:
        return session_kind(project, bound)
    constraints = [arg.ref for arg in value.args[1:] if arg.keyword is None]
    kinds = {session_kind(project, ref) for ref in constraints}
    return kinds.pop() if len(kinds) == 1 and constraints else None


def _parameters(project: Project, classes: Classes, cls: str) -> tuple[str, ...]:
    """The type parameters of a generic project class, in order: those its `Generic[...]` (or
    `Protocol[...]`) base lists, else the TypeVars its subscripted bases name, first seen first."""
    _, declared = classes.by_ref[cls]
    for base in declared.bases:
        if project.canonical(base) in _GENERIC:
            return tuple(project.canonical(a) or "" for a in declared.base_args.get(base, ()))
    order: list[str] = []
    for base in declared.bases:
        for arg in declared.base_args.get(base, ()):
            canonical = project.canonical(arg) or ""
            if type_var(project, arg) is not None and canonical not in order:
                order.append(canonical)
    return tuple(order)


def bindings(project: Project, classes: Classes, cls: str) -> dict[str, str]:
    """TypeVar -> the type project class `cls` binds it to through its bases' subscripts
    (`class ProjectRepository(Repository[AsyncSession])`), followed through intermediate
    generic classes (`class Mid(Repository[S2])`, `class Leaf(Mid[AsyncSession])`)."""
    bound: dict[str, str] = {}
    for current in classes.mro(cls):
        _, declared = classes.by_ref[current]
        for base in declared.bases:
            args = declared.base_args.get(base)
            target = classes.resolve(base)
            if not args or target is None:
                continue
            for parameter, arg in zip(_parameters(project, classes, target), args):
                canonical = project.canonical(arg) or ""
                bound.setdefault(parameter, bound.get(canonical, canonical))
    return bound


def param_kind(project: Project, classes: Classes, cls: str, fid: FunctionId, name: str) -> str | None:
    """What parameter `name` of method `fid` receives by its declaration, for an instance of
    `cls`: an AsyncSession or a Session annotation, or a TypeVar `cls` binds to one (or whose
    bound or constraints are all one kind)."""
    _, function = project.functions[fid]
    param = next((p for p in function.params if p.name == name), None)
    if param is None:
        return None
    if project.declared_async_session(param) is not None:
        return ASYNC
    if len(param.annotation) == 1 and (value := type_var(project, param.annotation[0])) is not None:
        bound = bindings(project, classes, cls).get(project.canonical(param.annotation[0]) or "")
        return session_kind(project, bound) if bound else _type_var_kind(project, value)
    reason = project.declared_session(param)
    return SYNC if reason is not None and reason.startswith("`") else None


def declared_type_var(project: Project, param: facts.Param) -> bool:
    """Whether a parameter is declared with a TypeVar alone (`session: SessionT`): the class
    built, not the function, says which Session it is."""
    return len(param.annotation) == 1 and type_var(project, param.annotation[0]) is not None


def generic_param_kind(project: Project, classes: Classes, cls: str, fid: FunctionId, expression: str) -> str | None:
    """`param_kind` of what an `__init__` assigns (`$session`), only where the parameter is
    declared with a TypeVar: the one declaration the value flow cannot read per class."""
    if not expression.startswith("$") or "." in expression or "(" in expression:
        return None
    _, function = project.functions[fid]
    param = next((p for p in function.params if p.name == expression[1:]), None)
    if param is None or len(param.annotation) != 1 or type_var(project, param.annotation[0]) is None:
        return None
    return param_kind(project, classes, cls, fid, expression[1:])


def held_kind(project: Project, classes: Classes, cls: str, attribute: str) -> str | None:
    """What instances of project class `cls` hold as `attribute` by declaration: the class body's
    annotation (or the nearest base's), else what every assignment of it in a method of the
    class or a base assigns, when each assigns a parameter declared the same kind."""
    if cls not in classes.by_ref:
        return None
    assigned: list[tuple[FunctionId, str]] = []
    for ancestor in classes.mro(cls):
        _, declared = classes.by_ref[ancestor]
        kinds = {session_kind(project, ref) for ref in declared.annotations.get(attribute, ())} - {None}
        if kinds:
            return kinds.pop() if len(kinds) == 1 else None
        assigned += classes.assigned.get((ancestor, attribute), [])
    found: set[str | None] = set()
    for fid, expression in assigned:
        simple = expression.startswith("$") and "." not in expression and "(" not in expression
        found.add(param_kind(project, classes, cls, fid, expression[1:]) if simple else None)
    return found.pop() if len(found) == 1 else None


def held_attributes(project: Project, method: FunctionId, kind: str) -> tuple[str, ...]:
    """The attributes, sorted, in which the instance project method `method` runs on holds a
    Session of `kind` (`("db",)` for `self.db`); empty for a function of no project class.

    `ASYNC`: declared so (`held_kind`) in the method's class or a base. `SYNC`: those of phase
    two's holder family the class belongs to (`phase2.holders.HolderClass.attributes`), which
    moves as one: a base's method reads the attribute a subclass assigns."""
    from async_migrate.codemods.classes import project_classes

    if kind == SYNC:
        from async_migrate.codemods.phase2.holders import holder_of

        holder = holder_of(project, method)
        return holder.attributes if holder is not None else ()
    classes = project_classes(project)
    cls = classes.owner(method)
    if cls is None:
        return ()
    cache = cast("dict[str, tuple[str, ...]]", project.derived.setdefault("held_session.async_attributes", {}))
    if cls not in cache:
        assigned = cast("dict[str, set[str]] | None", project.derived.get("held_session.assigned"))
        if assigned is None:
            assigned = {}
            for ref, attribute in classes.assigned:
                assigned.setdefault(ref, set()).add(attribute)
            project.derived["held_session.assigned"] = assigned
        names = {
            attribute for ancestor in classes.mro(cls) if ancestor in classes.by_ref
            for attribute in (*classes.by_ref[ancestor][1].annotations, *assigned.get(ancestor, ()))
        }
        cache[cls] = tuple(name for name in sorted(names) if held_kind(project, classes, cls, name) == ASYNC)
    return cache[cls]


def held_attribute(project: Project, method: FunctionId, kind: str) -> str | None:
    """`held_attributes` when there is exactly one, else None: which Session a call of the method
    works on is known only then."""
    attributes = held_attributes(project, method, kind)
    return attributes[0] if len(attributes) == 1 else None


def method_held_async(project: Project, module: facts.Module, function: facts.Function) -> set[str]:
    """`init_held_async` for the class a method is defined on, by the method: empty for a
    module-level or nested function."""
    from async_migrate.codemods.classes import project_classes

    owner, dot, _ = function.qualname.rpartition(".")
    if not dot or ".<locals>." in function.qualname:
        return set()
    return init_held_async(project, project_classes(project), f"{module.name}.{owner}")


def object_held_async(project: Project, fid: FunctionId, expression: str) -> bool:
    """Whether `expression` as facts spell it (`$holder.session`, `$svc.repo.db`) reads, in
    function `fid`, an attribute in which every object the rest of it may be (by the value flow:
    a parameter's dependency or annotation, `Holder(db)`, an attribute's assignments) keeps an
    AsyncSession by `init_held_async`: the same AsyncSession as a parameter declared one, reached
    through an object a route is handed or builds. False when any of those objects is unknown."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.flow import INSTANCE

    owner, dot, attribute = expression.rpartition(".")
    if not dot or not owner.startswith("$") or not attribute.isidentifier():
        return False
    values = project.flow.evaluate(fid, owner)
    classes = project_classes(project)
    for value in values:
        if value.kind != INSTANCE or not isinstance(value.target, str):
            return False
        if attribute not in init_held_async(project, classes, value.target):
            return False
    return bool(values)


def init_held_async(project: Project, classes: Classes, cls: str) -> set[str]:
    """Attributes the `__init__` an instance of `cls` runs (its own or the nearest base's)
    assigns once, from a parameter declared to receive an AsyncSession (for `cls`). Kept per
    class: asked for every method and attribute each handler's walk reaches (the set returned is
    the caller's own)."""
    known = cast("dict[str, frozenset[str]]", project.derived.setdefault("held_session.init_held_async", {}))
    found = known.get(cls)
    if found is None:
        found = known[cls] = frozenset(_init_held_async(project, classes, cls))
    return set(found)


def _init_held_async(project: Project, classes: Classes, cls: str) -> set[str]:
    if cls not in classes.by_ref:
        return set()
    init = next(
        (fid for current in classes.mro(cls) if (fid := classes.methods.get(current, {}).get("__init__")) is not None),
        None,
    )
    if init is None:
        return set()
    assigns = project.functions[init][1].assigns
    # An attribute `__init__` assigns twice may hold something else by the time a method runs.
    names = [attribute for attribute, _ in assigns]
    return {
        attribute for attribute, expression in assigns
        if names.count(attribute) == 1 and expression.startswith("$") and "." not in expression
        and "(" not in expression and (
            param_kind(project, classes, cls, init, expression[1:]) == ASYNC
            or constructed_async(project, init, expression[1:])
        )
    }


def constructed_async(project: Project, init: FunctionId, name: str) -> bool:
    """Whether the unannotated parameter `name` of the `__init__` `init` receives an AsyncSession
    at every construction the project makes (`Repo(db)` where `db` is declared an AsyncSession or
    opened from an `async_sessionmaker`), at least one. An untyped repository or unit of work
    (`def __init__(self, session): self.session = session`) says nothing of what it keeps: what its
    constructions hand it does. A construction handing anything else (a synchronous Session, a
    value the analysis cannot type) leaves it undecided. Module-level ones count (`crud =
    CRUD(SessionLocal())` on an `async_sessionmaker`): one the whole process shares (AM338)."""
    from async_migrate.codemods.unawaited_session import async_session_locals

    _, function = project.functions[init]
    param = next((p for p in function.params if p.name == name), None)
    if param is None or param.annotation or param.variadic:
        return False
    cache = cast("dict[tuple[FunctionId, str], bool]", project.derived.setdefault("held_session.constructed", {}))
    key = (init, name)
    if key not in cache:
        edges = [e for e in project.all_calls_to.get(init, ()) if e.callee == init]
        made = _module_constructions(project, init)
        found = bool(edges or made)
        for edge in edges:
            _, caller = project.functions[edge.caller]
            sessions = set(project.declared_async_session_params(edge.caller)) | set(async_session_locals(project, caller))
            given = project.params_given(edge.call, function, lambda arg: arg.name, project.injected_arguments(init))
            if given.get(name) not in sessions:
                found = False
                break
        for home, value in made if found else ():
            if not _opens_async(project, home, _argument(function, value, name)):
                found = False
                break
        cache[key] = found
    return cache[key]


def _module_constructions(project: Project, init: FunctionId) -> list[tuple[str, facts.Value]]:
    """(module name, the call) of each module-level construction of a project class whose
    instances run the `__init__` `init`."""
    from async_migrate.codemods.classes import project_classes

    found = cast("dict[FunctionId, list[tuple[str, facts.Value]]] | None", project.derived.get("held_session.made"))
    if found is None:
        classes = project_classes(project)
        found = {}
        for module in project.modules.values():
            for value in (*module.values.values(), *module.constructions):
                cls = classes.resolve(value.ref) if value.kind == "call" and value.ref else None
                runs = next(
                    (fid for current in classes.mro(cls) if (fid := classes.methods.get(current, {}).get("__init__"))),
                    None,
                ) if cls is not None else None
                if runs is not None:
                    found.setdefault(runs, []).append((module.name, value))
        project.derived["held_session.made"] = found
    return found.get(init, [])


def _argument(function: facts.Function, value: facts.Value, name: str) -> str | None:
    """The argument, as written, a module-level call hands parameter `name` of `function`."""
    positional = [p.name for p in function.params[1:] if p.positional and not p.variadic]
    if any(arg.keyword in ("*", "**") for arg in value.args):
        return None
    chosen = [a.text for a in value.args if a.keyword == name]
    unnamed = [a.text for a in value.args if a.keyword is None]
    if not chosen and name in positional and positional.index(name) < len(unnamed):
        chosen = [unnamed[positional.index(name)]]
    return chosen[0] if len(chosen) == 1 else None


def _opens_async(project: Project, home: str, written: str | None) -> bool:
    """Whether an argument as written in module `home` opens an AsyncSession: `maker()` on an
    `async_sessionmaker`, `AsyncSession(engine)`."""
    if not written or not written.endswith(")") or "(" not in written:
        return False
    opener = written[: written.index("(")]
    for ref in (f"{home}.{opener}", opener):
        if project.is_async_session_type(ref):
            return True
        target = project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None:
            return project.makes_async_sessions(value)
    return False


def session_generic_base(project: Project, classes: Classes, cls: str, moving: set[FunctionId]) -> bool:
    """Whether project class `cls` is a base generic over the session type that serves an
    AsyncSession as it is: its `__init__` only stores parameters declared with a TypeVar that may
    be `AsyncSession` (`SessionT = TypeVar("SessionT", Session, AsyncSession)`), and none of its
    other methods is among `moving`. A subclass's async copy derives from it bound to
    `AsyncSession` (`Repository[AsyncSession]`), not from a copy of it."""
    methods = classes.methods.get(cls, {})
    init = methods.get("__init__")
    if init is None or any(fid in moving for name, fid in methods.items() if name != "__init__"):
        return False
    _, function = project.functions[init]
    generic = set()
    for param in function.params[1:]:
        value = type_var(project, param.annotation[0]) if len(param.annotation) == 1 else None
        if value is None:
            continue
        bound = next((arg.ref for arg in value.args if arg.keyword == "bound"), None)
        kinds = {session_kind(project, bound)} if bound else {session_kind(project, arg.ref) for arg in value.args[1:]}
        if ASYNC in kinds:
            generic.add(param.name)
    # stored, and nothing else done with it
    stored = {expression[1:] for _, expression in function.assigns if expression[1:] in generic}
    used = {call.receiver for call in function.calls} | {arg.name for call in function.calls for arg in call.args}
    return bool(stored) and not (generic & used)
