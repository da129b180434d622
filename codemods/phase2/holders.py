"""Phase two through classes whose instances hold the request's Session (`self.db`).

A repository or service built per request from the route's Session (`UserRepo(db)` in the route,
or by a dependency `get_repo(db = Depends(get_db))`) moves with the routes that use it: its
`__init__` takes the AsyncSession, every method working on the held Session becomes `async def`
with awaited Session calls, and every call of those methods is awaited (up through services
holding the repository). The class moves as a whole, since its attribute holds one kind of
Session for every method; what keeps it from moving: `HolderClass`.

Over 500 lines: which classes hold the Session (directly or through the repositories they
compose) and what keeps each family from moving is one reading of the same class facts.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.facts import Arg
from async_migrate.codemods.facts import parameter_of as facts_parameter
from async_migrate.codemods.flow import INSTANCE, SESSION
from async_migrate.codemods.phase2.legacy_clear import chain_blocker
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.received import argument_values
from async_migrate.codemods.vocabulary.pydantic import PYDANTIC_MODELS
from async_migrate.codemods.vocabulary.python import DATACLASS_DECORATORS, NAMED_TUPLES
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ABSENT_METHODS,
    AWAITED_METHODS,
    CONTEXT_METHODS,
    UNAVAILABLE_METHODS,
)

# Bases that add no methods working on the Session: `class BaseRepo(Generic[ModelT], ABC)`.
_PLAIN_BASES = frozenset({
    "object", "builtins.object", "typing.Generic", "typing_extensions.Generic", "abc.ABC",
    "typing.Protocol", "typing_extensions.Protocol",
})


@dataclass(slots=True)
class HolderClass:
    """A project class whose instances hold a synchronous Session in an attribute.

    What cannot move safely is reported per class (`problems`): the Session attribute assigned
    anywhere but from an `__init__` parameter, a base class the tool cannot see into (or a class
    hierarchy), an instance kept at module level, the held Session handed on or rebound where the
    tool does not follow it, a class-based view's class-level Session beside an `__init__` of its
    own (a `@cbv` view of class attributes alone has the `__init__` the decorator writes, read as
    one: `astcollect.module`), Session work `__init__` does itself (Python never awaits
    `__init__`).
    """

    ref: str
    attributes: tuple[str, ...]  # `db` for `self.db`
    init: FunctionId | None  # the `__init__` that receives the Session (the class's own, or inherited)
    methods: set[FunctionId] = field(default_factory=set)  # methods that become `async def`
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, why): each blocks the class
    # The class hierarchy moving as one: the class assigning the Session attribute and its
    # project subclasses. `methods` and `problems` are the whole family's.
    family: tuple[str, ...] = ()
    # A unit of work opening its Session on entry (`self.session = self.session_factory()` in
    # `__enter__`, `session_factory=SessionLocal` a parameter of `__init__`): (`__init__`, the
    # parameter, the sessionmaker its default names). Its copy defaults to the async sessionmaker.
    opened: tuple[FunctionId, str, str] | None = None

    def name(self, project: Project) -> str:
        return project.flow.classes.short(self.ref)


def holder_classes(project: Project) -> dict[str, HolderClass]:
    """Every project class holding a Session on its instances, by class reference (cached).

    Sources: `Classes.assigned` (what methods assign to `self.x`), the value flow (which of those
    hold a Session), `Project.all_calls_to` (who calls the methods). A class reaching the Session
    only through composition holds it as surely, and moves with its repositories (`_composers`)."""
    found = project.derived.get("phase2.holders")
    if found is None:
        found = project.derived["phase2.holders"] = _find(project)
    return cast(dict[str, HolderClass], found)


def holder_of(project: Project, fid: FunctionId) -> HolderClass | None:
    """The holder class a method belongs to, or None."""
    owner = project.flow.classes.owner(fid)
    return holder_classes(project).get(owner) if owner is not None else None


def _find(project: Project) -> dict[str, HolderClass]:
    flow = project.flow
    classes = flow.classes
    attributes: dict[str, dict[str, list[tuple[FunctionId, str]]]] = {}
    for (ref, attribute), assigned in classes.assigned.items():
        if any(flow.holds(fid, expression) is not None for fid, expression in assigned):
            attributes.setdefault(ref, {})[attribute] = _stores(project, assigned)
    declared: dict[str, list[str]] = {}
    for ref, (_module, found) in classes.by_ref.items():
        for name in (*found.annotations, *found.depends):
            if name in declared.get(ref, ()):
                continue
            if any(v.kind == SESSION for v in flow.attribute(ref, name)) and (ref, name) not in classes.assigned:
                declared.setdefault(ref, []).append(name)
    # A class assigning the Session attribute and its project subclasses move as one family:
    # a subclass's methods read the attribute its base assigns, and calls dispatch through both.
    direct = sorted({*attributes, *declared, *_composers(project, {*attributes, *declared})})
    roots = [ref for ref in direct if not any(base in direct for base in classes.mro(ref)[1:])]
    holders: dict[str, HolderClass] = {}
    families: list[tuple[list[HolderClass], list[tuple[str, int, str]]]] = []
    for root in roots:
        family = tuple(dict.fromkeys([root, *sorted(classes.subclasses(root))]))
        family = (*family, *_interfaces(project, root, family))
        names = sorted({a for ref in family for a in (*attributes.get(ref, {}), *declared.get(ref, ()))})
        members = [
            HolderClass(ref, tuple(names), _init(project, ref), family=family) for ref in family
        ]
        problems: list[tuple[str, int, str]] = []
        for holder in members:
            holders[holder.ref] = holder
            problems.extend(_problems(project, holder, attributes.get(holder.ref, {}), declared.get(holder.ref, [])))
        families.append((members, problems))
    # A service composing a repository moves the methods calling the repository's moving ones
    # through what it holds (`self.repo.get()`), and a service composing that service in turn:
    # each family's methods wait on those of the families it composes.
    moving: set[FunctionId] = set()
    changed = True
    while changed:
        changed = False
        for members, _problems_found in families:
            methods = _async_methods(project, members, moving)
            if methods != members[0].methods:
                for holder in members:
                    holder.methods = methods
                moving |= methods
                changed = True
    for members, problems in families:
        for holder in members:
            problems.extend(_escapes(project, holder))
        for holder in members:
            holder.problems = list(dict.fromkeys(problems))
    return holders


def _stores(project: Project, assigned: list[tuple[FunctionId, str]]) -> list[tuple[FunctionId, str]]:
    """The assignments of a Session attribute that may store a Session: not `self.session = None`
    in `__init__`, the placeholder a unit of work opening its Session on entry declares the
    attribute with (Python runs `__init__` before any method could read it, and None holds no
    Session to move)."""
    stores = [
        (fid, expression) for fid, expression in assigned
        if not (expression == "None" and project.functions[fid][1].name == "__init__")
    ]
    return stores or assigned


def _composers(project: Project, holding: set[str]) -> set[str]:
    """Classes that reach the Session only through composition: their own `__init__` receives it
    and hands it to the `__init__` of classes holding it (`self.repo = ItemRepository(db)`, an
    `OrderService` building `ItemService(db)`), never storing it, or receives instances of such
    classes (`repo: ItemRepository`, a dataclass field). Such a class holds the Session
    as surely as its repositories do: its instances must be built with the AsyncSession exactly
    when theirs are, so it moves with them (in place, or as a parallel class whose `__init__`
    builds the repositories' copies). Whatever else `__init__` does with the Session blocks it
    (`_init_work`)."""
    classes = project.flow.classes
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for ref in classes.by_ref:
            if ref in holding or ref in found:
                continue
            init = classes.methods.get(ref, {}).get("__init__")
            if init is None:
                continue
            built = [
                owner for edge in project.all_calls_from[init]
                if edge.session_args and project.functions[edge.callee][1].name == "__init__"
                and (owner := classes.owner(edge.callee)) is not None
            ] if project.session_params.get(init) else []
            # `def __init__(self, repo: ItemRepository)`, a dataclass's `repo: ItemRepository` field:
            # the repositories are built by whoever builds the service, with the same Session. Not
            # `repo: ItemRepository = Depends(get_repo)`: FastAPI builds that class (an injected class).
            # A class or factory handed in (`providers: dict[str, type[ItemRepository]]`) is no
            # repository held, unless `__init__` also receives the Session it may build one from.
            receives = bool(project.session_params.get(init))
            given = [
                cls for param in project.functions[init][1].params[1:] if param.depends is None
                for r in (param.annotation if receives else _instance_refs(param.annotation, param.text))
                if (cls := classes.resolve(r)) is not None
            ]
            composed = [*built, *given]

            def holds(cls: str) -> bool:
                if any(c in holding or c in found for c in classes.mro(cls)):
                    return True
                # `books: BookRepository`, a Protocol or abstract class: what it is handed is one of
                # the implementations, each holding the Session (an in-memory fake does not)
                implementations = classes.implementations(cls) if classes.is_abstract(cls) else []
                return bool(implementations) and all(
                    any(c in holding or c in found for c in classes.mro(i)) for i in implementations
                )

            if composed and all(holds(o) for o in built) and any(holds(o) for o in composed):
                found.add(ref)
                changed = True
    return found


# Annotations whose arguments are classes or factories, never instances: `type[ItemRepository]`.
_CLASS_OBJECTS = frozenset({"type", "Type", "Callable"})


def _instance_refs(refs: tuple[str, ...], written: str) -> tuple[str, ...]:
    """The references of an annotation that may declare an instance: all of them but those named
    only inside `type[...]` or `Callable[...]` (`providers: dict[str, type[ItemRepository]]`
    hands the classes). An annotation that does not parse keeps every reference."""
    import ast

    try:
        tree = ast.parse(written, mode="eval")
    except SyntaxError:
        return refs
    kept: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Subscript):
            head = node.value
            name = head.attr if isinstance(head, ast.Attribute) else head.id if isinstance(head, ast.Name) else None
            visit(head)
            if name not in _CLASS_OBJECTS:
                visit(node.slice)
            return
        if isinstance(node, ast.Attribute):
            kept.add(node.attr)
        elif isinstance(node, ast.Name):
            kept.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                visit(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                kept.add(node.value.rsplit(".", 1)[-1])
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree.body)
    return tuple(r for r in refs if r.rsplit(".", 1)[-1] in kept)


def _interfaces(project: Project, root: str, family: tuple[str, ...]) -> list[str]:
    """The project bases of `root` that only declare methods (`AbstractRepository(ABC,
    Generic[ModelT])` whose methods are `@abstractmethod` stubs) and that no class outside
    the family derives from: they join the family, so their declarations become `async def`
    with the implementations, and a call typed with the interface stays one awaited call.
    So do the bases with method bodies of their own and no `__init__` (Cosmic Python's
    `AbstractUnitOfWork` whose `__exit__` calls the abstract `rollback`): their methods calling
    the moving ones move with them (`_async_methods`). A base implemented also by a class that
    does not hold the Session (an in-memory fake) stays a problem of the family (`_problems`);
    one subclassed in a file the analysis did not read blocks (`unit_of_work.unread_subclasses`)."""
    classes = project.flow.classes
    found: list[str] = []
    for base in classes.mro(root)[1:]:
        if "__init__" in classes.methods.get(base, {}):
            continue
        if all(sub in family or sub in found for sub in classes.subclasses(base)):
            found.append(base)
    # A Protocol the family implements by its methods alone (`class BookRepository(Protocol)`,
    # `def get_repo(db) -> BookRepository: return SqlBookRepository(db)`) is an interface as
    # surely, when no other project class implements it (an in-memory fake in the tests does):
    # its async copy declares what the family's async copy implements.
    for protocol in classes.protocols():
        if protocol in found or protocol in family or protocol in classes.mro(root):
            continue
        implementations = classes.implementations(protocol)
        if root in implementations and all(c in family for c in implementations):
            found.append(protocol)
    return found


def _declares_only(project: Project, fid: FunctionId) -> bool:
    """A method whose body only documents or refuses (`...`, `pass`, a docstring, `raise
    NotImplementedError`): it runs no code a moving method could be reached through."""
    _, function = project.functions[fid]
    if function.name == "__init__" or not function.abstract:
        return False
    return all((call.func or "").endswith("NotImplementedError") for call in function.calls)


def _init(project: Project, ref: str) -> FunctionId | None:
    """The `__init__` instances of the class run: its own, or the nearest project base's."""
    classes = project.flow.classes
    for cls in classes.mro(ref):
        found = classes.methods.get(cls, {}).get("__init__")
        if found is not None:
            return found
    return None


def _declared_as(project: Project, ref: str, name: str) -> str:
    """What declares the class attribute `name` holding the Session, for the reason: a NamedTuple's
    or a pydantic model's field (whose generated `__new__`/`__init__` receives it), or a class-based
    view's `Depends()` attribute."""
    classes = project.flow.classes
    bases = {project.canonical(b) or b for cls in classes.mro(ref) for b in classes.by_ref[cls][1].bases}
    if bases & NAMED_TUPLES:
        return "a NamedTuple field holding the Session (the `__new__` the base writes receives it; write a plain class whose `__init__` does)"
    if bases & PYDANTIC_MODELS:
        return "a pydantic model field holding the Session (the `__init__` pydantic writes receives it; write a plain class whose `__init__` does)"
    return "a Session declared on the class (a class-based view's `Depends()` attribute)"


def _problems(
    project: Project, holder: HolderClass, assigned: dict[str, list[tuple[FunctionId, str]]], declared: list[str]
) -> list[tuple[str, int, str]]:
    """What keeps one class of a family from moving."""
    classes = project.flow.classes
    module, found = classes.by_ref[holder.ref]
    problems = []
    generated = any(project.canonical(d) in DATACLASS_DECORATORS for d in found.decorators)
    for name in declared:
        # FastAPI builds an injected dataclass from its fields: the hand-written `__init__` keeps the default.
        default = f" = Depends({project.written(found.depends[name]).rpartition('.')[2]})" if name in found.depends else ""
        problems.append((
            module.path, found.line,
            f"`{name}` is a dataclass field holding the Session: the `__init__` the decorator generates "
            "receives it, which phase two does not rewrite; write that `__init__` by hand "
            f"(`def __init__(self, {name}: Session{default}) -> None: self.{name} = {name}`) and the class can move"
            if generated else
            f"`{name}` is {_declared_as(project, holder.ref, name)}: the tool moves a Session only when "
            "`__init__` receives it"
        ))
    own_init = classes.methods.get(holder.ref, {}).get("__init__")
    init_params = project.session_params.get(own_init, {}) if own_init is not None else {}
    for attribute, found_assigned in sorted(assigned.items()):
        for fid, expression in found_assigned:
            fmodule, function = project.functions[fid]
            opened = _opened_on_entry(project, holder.ref, own_init, fid, expression)
            if opened is not None and len(found_assigned) == 1:
                holder.opened = opened
                problems.extend(_untyped_builds(project, fid, attribute))
                continue
            if fid != own_init or expression.lstrip("$") not in init_params:
                problems.append((
                    fmodule.path, function.line, f"{function.qualname} assigns the Session attribute "
                    f"`self.{attribute}` (`{project.written(expression)}`): the tool moves a Session only "
                    "when `__init__` stores a Session parameter"
                ))
            elif own_init is not None:
                problems.extend(_unknown_handed(project, own_init, expression.lstrip("$"), attribute))
    for base in found.bases:
        if project.canonical(base) in _PLAIN_BASES:
            continue
        resolved = classes.resolve(base)
        if resolved is None:
            problems.append((
                module.path, found.line, f"{found.qualname} inherits from `{base}`, which the tool cannot see into: its "
                "methods may use the Session too"
            ))
        elif resolved not in holder.family and classes.methods.get(resolved):
            others = [c for c in classes.subclasses(resolved) if c not in holder.family]
            declares = all(_declares_only(project, fid) for fid in classes.methods[resolved].values())
            problems.append((
                module.path, found.line, f"{found.qualname} inherits from the project class {classes.short(resolved)}, "
                + (
                    "which does not hold the Session and is implemented also by "
                    f"{', '.join(classes.short(c) for c in others)}, which does not move with it: " + (
                        f"a call through {classes.short(resolved)} would be awaited on either" if declares else
                        f"the methods of {classes.short(resolved)} that move would become `async def` under "
                        f"{', '.join(classes.short(c) for c in others)} too"
                    )
                    if others else
                    "which does not hold the Session but has methods of its own: they may call the methods that move"
                )
            ))
    for other in project.modules.values():
        for container in other.classes:
            for name, provided in sorted(container.provides.items()):
                if provided and classes.resolve(provided) == holder.ref:
                    # The container builds the instance with a Session of its own choosing
                    # (`providers.Factory(Repo, session=...)`), out of the request's reach.
                    problems.append((
                        other.path, container.line, f"an instance of {found.qualname} is built by the "
                        f"dependency-injector provider `{container.name}.{name}`, which phase two does not "
                        "rewrite: it would still hand the class a synchronous Session"
                    ))
        for name, value in sorted(other.values.items()):
            if value.kind == "call" and classes.resolve(value.ref) == holder.ref:
                problems.append((
                    other.path, value.line, f"an instance of {found.qualname} is kept at module level "
                    f"(`{name}`): its Session outlives the request"
                ))
    return problems


def _unknown_handed(project: Project, init: FunctionId, name: str, attribute: str) -> list[tuple[str, int, str]]:
    """`def __init__(self, db)` keeping `db` in `self.db` with no annotation: the analysis reads
    it as a Session only from what its callers hand it (`received.py`), and phase two moves the
    class as though it were declared one (annotating it `AsyncSession`) only while every
    construction the analysis sees hands it a Session. One handing anything else
    (`ItemRepo(request.state.db)`), or nothing, blocks the class, naming that caller."""
    module, function = project.functions[init]
    param = next((p for p in function.params if p.name == name), None)
    from async_migrate.codemods.phase2.rewrites.session_params import unannotated

    if param is None or not unannotated(project, param):
        return []
    reason = project.session_params.get(init, {}).get(name, "")
    found: list[tuple[str, int, str]] = []
    for edge in project.all_calls_to.get(init, []):
        if name in edge.session_args:
            continue
        caller_module, caller = project.functions[edge.caller]
        given = [a for a in edge.call.args if facts_parameter(function, a) == name]
        if given:
            arg = given[0]
            spelled = (
                project.written(arg.expr) if arg.expr is not None else arg.name or (
                    project.written(arg.ref) if arg.ref is not None else "an expression"
                )
            )
            handed = f"hands it `{spelled}`, which the analysis cannot type as a Session"
        elif any(a.keyword in ("*", "**") for a in edge.call.args):
            handed = "hands it arguments unpacked where the analysis cannot read them"
        else:
            handed = "does not hand it"
        cls = function.qualname.rpartition(".")[0]
        found.append((
            caller_module.path, edge.call.line,
            f"{cls}.__init__ keeps its parameter `{name}`, which has no annotation, in `self.{attribute}`; "
            f"phase two reads it as a Session because it {reason or 'receives one from a caller'}, but "
            f"{caller_module.name}.{caller.qualname} {handed}: "
            f"annotate the parameter (`{name}: Session`) if it always receives one, or hand {cls} the "
            "request's Session there",
        ))
    return found


def _opened_on_entry(
    project: Project, ref: str, init: FunctionId | None, fid: FunctionId, expression: str
) -> tuple[FunctionId, str, str] | None:
    """(`__init__`, parameter, sessionmaker) when `expression`, assigned in the class's own
    `__enter__`, calls a factory its own `__init__` stored from a parameter defaulting to a
    module-level sessionmaker (`self.session_factory()`, `session_factory=SessionLocal`)."""
    classes = project.flow.classes
    _, function = project.functions[fid]
    if init is None or function.name != "__enter__" or classes.owner(fid) != ref or not function.params:
        return None
    first = function.params[0].name
    if not expression.startswith(f"${first}.") or not expression.endswith("()") or expression.count(".") != 1:
        return None
    factory = expression[len(first) + 2 : -2]
    stored = classes.assigned.get((ref, factory), [])
    if len(stored) != 1 or stored[0][0] != init:
        return None
    param_name = stored[0][1].lstrip("$")
    param = next((p for p in project.functions[init][1].params if p.name == param_name), None)
    if param is None or not param.default_ref or not project.is_sessionmaker(param.default_ref):
        return None
    return init, param.name, param.default_ref


def _untyped_builds(project: Project, enter: FunctionId, attribute: str) -> list[tuple[str, int, str]]:
    """A repository `__enter__` builds on the Session it opens (`ItemRepository(self.session)`)
    whose `__init__` parameter receiving it has no annotation: the analysis of the rewrite, which
    has no value for what the async sessionmaker opens, could not tell its methods' calls on it
    from project methods of the same name (the self-check would refuse the rewrite)."""
    _, function = project.functions[enter]
    held = f"${function.params[0].name}.{attribute}"
    found = []
    for edge in project.all_calls_from[enter]:
        callee_module, callee = project.functions[edge.callee]
        if callee.name != "__init__":
            continue
        for arg in edge.call.args:
            name = facts_parameter(callee, arg) if arg.expr == held else None
            param = next((p for p in callee.params if p.name == name), None)
            if param is not None and not param.annotation:
                cls = callee.qualname.rpartition(".")[0]
                found.append((
                    callee_module.path, callee.line, f"{callee.qualname} receives the Session "
                    f"{function.qualname} opens as `{param.name}`, with no annotation: annotate it "
                    f"(`{param.name}: Session`) and {cls} moves with the unit of work, its copy taking the AsyncSession"
                ))
    return found


def _self_paths(project: Project, fid: FunctionId, holder: HolderClass) -> tuple[str, ...]:
    """`$self.db` for each Session attribute, spelled with the method's first parameter."""
    _, function = project.functions[fid]
    if not function.params:
        return ()
    first = function.params[0].name
    return tuple(f"${first}.{attribute}" for attribute in holder.attributes)


def uses_held(project: Project, fid: FunctionId, holder: HolderClass) -> bool:
    """Whether a method reads the held Session (calls on it, or passes it on)."""
    paths = _self_paths(project, fid, holder)
    if not paths:
        return False
    _, function = project.functions[fid]
    for call in function.calls:
        if call.func is not None and call.func.startswith(tuple(p + "." for p in paths)):
            return True
        if any(arg.expr in paths for arg in call.args):
            return True
    return any(b.expr in paths or b.expr.startswith(tuple(p + "." for p in paths)) for b in function.bindings)


def _async_methods(
    project: Project, family: list[HolderClass], composed: set[FunctionId] | frozenset[FunctionId] = frozenset()
) -> set[FunctionId]:
    """Methods that read the held Session, methods calling a moving method of another family
    (`composed`) on what their instance holds (`self.repo.get()`), methods of the family calling
    either (through `self` or `super()`), and the overrides of any in the family: all become
    `async def` when the family moves, since one call on `self` may run any of them."""
    classes = project.flow.classes
    own = [
        (holder, name, fid) for holder in family for name, fid in classes.methods.get(holder.ref, {}).items()
        if name != "__init__"
    ]
    chosen = {
        fid for holder, _name, fid in own if uses_held(project, fid, holder) or _calls_held(project, fid, composed)
    }
    changed = True
    while changed:
        changed = False
        names = {project.functions[fid][1].name for fid in chosen}
        for _holder, name, fid in own:
            if fid in chosen:
                continue
            if name in names or any(edge.callee in chosen for edge in project.all_calls_from[fid]):
                chosen.add(fid)
                changed = True
    if any(project.functions[fid][1].name in ("__enter__", "__exit__") for fid in chosen):
        # One of the pair becomes `async def` (`__aexit__` awaiting the rollback): the class becomes an
        # asynchronous context manager, which needs both, `async with` calling no `__enter__`.
        chosen |= {fid for _holder, name, fid in own if name in ("__enter__", "__exit__")}
    return chosen


def _calls_held(project: Project, fid: FunctionId, composed: set[FunctionId] | frozenset[FunctionId]) -> bool:
    """Whether a method calls one of `composed` on an attribute of its instance (`self.repo.get()`):
    a repository it was handed or built, whose copy the instance's copy holds. Not one on an object
    it builds itself (`ItemRepository(s).names()` on a Session it opens), which stays as written."""
    if not composed:
        return False
    _, function = project.functions[fid]
    if not function.params:
        return False
    held = f"${function.params[0].name}."
    return any(
        edge.callee in composed and (edge.call.func or "").startswith(held) and (edge.call.func or "").count(".") >= 2
        for edge in project.all_calls_from[fid]
    )


def _escapes(project: Project, holder: HolderClass) -> list[tuple[str, int, str]]:
    """The held Session rebound or returned where the tool does not follow it."""
    found = []
    for fid in sorted({*holder.methods, *([holder.init] if holder.init else [])}):
        module, function = project.functions[fid]
        paths = _self_paths(project, fid, holder)
        for binding in function.bindings:
            if binding.expr in paths:
                found.append((
                    module.path, binding.line, f"{function.qualname} binds the held Session "
                    f"`{project.written(binding.expr)}` to `{binding.name}`: calls through it would not be awaited"
                ))
        for expression in (*function.returned, *function.yielded):
            if expression in paths:
                found.append((
                    module.path, function.line, f"{function.qualname} hands out the held Session "
                    f"`{project.written(expression)}`: its users would get an AsyncSession"
                ))
        for call in function.calls:
            held = held_call(project, fid, call.func, holder)
            if held == "query" and not call.nested and not call.in_generator:
                problem = held_query_problem(project, fid, call)
                if problem is not None:
                    found.append((module.path, call.line, f"{function.qualname} {problem}"))
            elif held is not None and (held in UNAVAILABLE_METHODS or held in ABSENT_METHODS):
                found.append((
                    module.path, call.line, f"{function.qualname} calls `{project.written(call.func or '')}()`, "
                    "which AsyncSession does not have: "
                    + (UNAVAILABLE_METHODS[held] if held in UNAVAILABLE_METHODS else ABSENT_METHODS[held])
                ))
            if call.nested and (
                (call.func or "").startswith(tuple(p + "." for p in paths)) or any(a.expr in paths for a in call.args)
            ):
                found.append((
                    module.path, call.line, f"{function.qualname} uses the held Session inside a nested "
                    "function or lambda, where `await` cannot stand"
                ))
            elif call.in_generator and (call.func or "").startswith(tuple(p + "." for p in paths)):
                found.append((
                    module.path, call.line, f"{function.qualname} uses the held Session inside a generator "
                    "expression, which would become an async generator"
                ))
    if holder.init is not None:
        found.extend(_init_work(project, holder.init, holder))
    return found


def _init_work(project: Project, init: FunctionId, holder: HolderClass) -> list[tuple[str, int, str]]:
    """Session work `__init__` does itself (`self.tenant = db.get(Tenant, tid)`), directly or
    through a helper given the Session: on the AsyncSession each call would be awaited, and
    Python calls `__init__` without `await` (an `await` there does not compile)."""
    module, function = project.functions[init]
    names = project.session_names(init)
    paths = _self_paths(project, init, holder)
    found = []
    for call in function.calls:
        if call.offloaded:
            continue
        method = call.method if call.receiver in names else held_call(project, init, call.func, holder)
        if method is not None and (method in AWAITED_METHODS or method in CONTEXT_METHODS):
            found.append((
                module.path, call.line, f"{function.qualname} does Session work itself "
                f"(`{project.written(call.func or '')}()`), which would be awaited on the AsyncSession, and "
                "Python calls `__init__` without `await`: move that work into a method the routes call"
            ))
    carried = names | set(paths)
    for edge in project.all_calls_from[init]:
        callee_module, callee = project.functions[edge.callee]
        if edge.call.offloaded or callee.name == "__init__":
            continue  # another class given the Session to hold (`self.audit = AuditRepo(db)`) moves with it
        passed = project._session_args(edge.call, edge.callee, carried)
        if any(callee.name_uses.get(name) for name in passed) or edge.callee in project.work_chains and passed:
            found.append((
                module.path, edge.call.line, f"{function.qualname} calls {callee_module.name}.{callee.qualname} "
                "with the Session, which would be awaited on the AsyncSession, and Python calls `__init__` "
                "without `await`: move that call into a method the routes call"
            ))
    return found


def held_query_problem(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """Why a legacy chain on the Session the method's class holds (`self.db.query(Item)...`,
    `call` its `query()` call) cannot become a 2.0 `select()` on the AsyncSession, as one on a
    Session parameter would; None when it maps (`held_query_root`). A Query kept in a name or
    handed on is not followed there: it blocks."""
    written = project.written(call.func or "").removesuffix(".query")
    if not call.query_chain:
        return (f"calls `{written}.query()` outside a chain the tool maps (a Query kept in a name or handed on), "
                "which AsyncSession does not have (a legacy Query)")
    problem = chain_blocker(call.query_chain, written, call.query_iterated, project_classes(project).class_valued(fid))
    if problem is None:
        return None
    chain = " ".join(call.query_chain.split())
    return f"runs the legacy Query `{chain}` on the Session its instance holds, which AsyncSession lacks: {problem}"


def held_query_root(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """The held Session a legacy chain's outermost call runs on, as written (`self.db`, or
    `uow.session` from outside the class: `outside_held_call`), when that chain maps to a 2.0
    `select()` (see `held_query_problem`); None for any other call."""
    root = call.query_root
    if root is None or "." not in root:
        return None
    if held_call(project, fid, f"${root}.query") != "query":
        return None
    # The head's call follows the outermost in the facts (they are recorded outermost first); of
    # several heads (a chain in another's arguments) the one whose chain ends in this call.
    head: facts.Call | None = call if call.query_chain and call.func == f"${root}.query" else next((
        c for c in project.functions[fid][1].calls
        if c.index > call.index and c.func == f"${root}.query" and c.query_chain
        and _chain_methods(c.query_chain) == (call.func or "").removeprefix(f"${root}.query().").split("().")
    ), None)
    if head is None or head.nested or head.in_generator or held_query_problem(project, fid, head) is not None:
        return None
    return root


@functools.cache
def _chain_methods(chain: str) -> list[str]:
    """The methods called on a chain's `query()` call, in order (`filter`, `all`)."""
    try:
        node: ast.expr = ast.parse(f"({chain})", mode="eval").body
    except SyntaxError:
        return []
    found: list[str] = []
    while type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr != "query":
        found.append(node.func.attr)
        node = node.func.value
    return found[::-1]


def held_call(
    project: Project, fid: FunctionId, func: str | None, holder: HolderClass | None = None
) -> str | None:
    """The Session method a call runs on the held Session (`get` for `self.db.get(...)`), or None."""
    holder = holder or holder_of(project, fid)
    if holder is None:
        found = outside_held_call(project, fid, func)
        return None if found is None else found[1]
    if func is None:
        return None
    for path in _self_paths(project, fid, holder):
        if func.startswith(path + ".") and func.count(".") == path.count(".") + 1:
            return func[len(path) + 1 :]
    return None


def outside_held_call(project: Project, fid: FunctionId, func: str | None) -> tuple[HolderClass, str] | None:
    """A Session method called, in a function outside any class holding the Session, straight on
    the Session an instance of such a class holds (`uow.session.execute(...)`, `uow` a name every
    value of which is an instance of the one class, `session` an attribute it holds the Session
    in): (the class, the method), else None. Awaited there when the class moves, as its own
    `self.session.execute(...)` is; the Session taken out (`s = uow.session`) is not followed."""
    if func is None or func.count(".") != 2 or not func.startswith("$"):
        return None
    receiver, attribute, method = func.split(".")
    found = holder_classes(project)
    values = project.flow.evaluate(fid, receiver)
    classes = {str(value.target) for value in values if value.kind == INSTANCE}
    if not values or len(classes) != 1 or any(value.kind != INSTANCE for value in values):
        return None
    holder = found.get(classes.pop())
    if holder is None or attribute not in holder.attributes:
        return None
    return holder, method


def on_held(project: Project, fid: FunctionId, text: str) -> bool:
    """Whether a piece of held-elsewhere work (`self.db.get()`, `record(self.db)`) is on the
    Session the method's own class holds."""
    holder = holder_of(project, fid)
    if holder is None:
        return False
    for path in _self_paths(project, fid, holder):
        written = path.lstrip("$")
        if text.startswith(written + ".") or f"({written})" in text:
            return True
    return False


def held_through_instance(project: Project, fid: FunctionId, call_args: Iterable[Arg]) -> HolderClass | None:
    """The class whose instance's Session a call hands straight on (`crud.get(svc.db, 1)`, `svc`
    an instance of a class holding the Session in `db`, or `crud.get(db, 1)` after `db = svc.db`
    and no other binding of `db`), or None. Only a class whose `__init__`
    receives the Session: that `__init__` moves with the function, so `svc.db` is then the
    AsyncSession (of the class in place, or of its parallel class the migrated code uses)."""
    holders = holder_classes(project)
    for arg in call_args:
        # `db = svc.db` then `crud.get(db, 1)`: the same hand-off, through a local name
        bound = project.instance_binding(fid, arg.name) if arg.expr is None and arg.name is not None else None
        receiver, _, attribute = (arg.expr or bound or "").rpartition(".")
        if not receiver.startswith("$") or "." in receiver:
            continue
        for value in project.flow.evaluate(fid, receiver):
            holder = holders.get(str(value.target)) if value.kind == INSTANCE else None
            if holder is not None and attribute in holder.attributes and holder.init is not None:
                return holder
    return None


def passes_held(project: Project, edge: Edge) -> bool:
    """A call that hands the held Session on (`Activity.record(self.db, ...)`), or a holder
    instance to a function that works on it (`_owned(repo, 1)`)."""
    holder = holder_of(project, edge.caller)
    call = edge.call
    if holder is not None:
        paths = _self_paths(project, edge.caller, holder)
        if any(arg.expr in paths for arg in call.args):
            return True
    elif held_through_instance(project, edge.caller, call.args) is not None:
        return True
    if edge.via is not None or edge.callee not in project.work_chains:
        return False
    holders = holder_classes(project)
    flow = project.flow
    for arg in call.args:
        expression = arg.expr or (f"${arg.name}" if arg.name else None)
        # `add_item(name, UnitOfWork(db))`: the instance built right there is handed on as a
        # named one would be.
        values = (
            flow.evaluate(edge.caller, expression) if expression is not None
            else argument_values(project, flow, edge.caller, call, arg) if arg.ref is None
            else frozenset()
        )
        if any(value.kind == INSTANCE and value.target in holders for value in values):
            return True
    return False


def builds_composer(project: Project, edge: Edge) -> bool:
    """A call building a class that holds the Session through what it composes, handed an
    instance of a class holding it (`PostService(self.post_repo, ...)` in a container's
    `__init__`, `ItemService(ItemRepo(db))`): the instance is the AsyncSession's once the
    caller moves, so the class moves with it; left behind, its methods would call the
    repository's coroutines without awaiting them."""
    holder = holder_of(project, edge.callee)
    if holder is None or holder.init != edge.callee or not holder.methods:
        return False  # a class none of whose methods wait on what it holds runs as it is
    holders = holder_classes(project)
    flow = project.flow
    for arg in edge.call.args:
        expression = arg.expr or (f"${arg.name}" if arg.name else None)
        values = (
            flow.evaluate(edge.caller, expression) if expression is not None
            else argument_values(project, flow, edge.caller, edge.call, arg) if arg.ref is None
            else frozenset()
        )
        if any(value.kind == INSTANCE and value.target in holders for value in values):
            return True
    return False


def constructions(project: Project, holder: HolderClass) -> list[Edge]:
    """The calls that build an instance of the family (`Repo(db)`): the edges to their `__init__`s."""
    return [edge for init in family_inits(project, holder) for edge in project.all_calls_to[init]]


def family_inits(project: Project, holder: HolderClass) -> list[FunctionId]:
    """The `__init__`s the classes of the holder's family run."""
    holders = holder_classes(project)
    found = [h.init for ref in holder.family or (holder.ref,) if (h := holders.get(ref)) is not None and h.init]
    return list(dict.fromkeys(found))


def class_dependency_users(project: Project, holder: HolderClass) -> list[tuple[FunctionId, str]]:
    """Places that inject a class of the holder's family itself (`Depends(Repo)`,
    `Annotated[Repo, Depends()]`, an alias of either, a decorator's `dependencies=[...]`):
    (the function, `path:line`)."""
    from async_migrate.codemods.phase2.dependencies import injection_sites

    return injection_sites(project, set(family_inits(project, holder)))


def value_uses(
    project: Project, holder: HolderClass, read: Callable[[str], str] | None
) -> list[str]:
    """Methods that move, named where the tool cannot see how they are called (`path:line: name`)."""
    from async_migrate.codemods.phase2 import attribute_reads, methods

    found: list[str] = []
    for fid in sorted(holder.methods):
        name = project.functions[fid][1].name
        # `item.name` on a row a repository returned reads an attribute: no method handed on
        uses = attribute_reads.drop_reads(project, fid, read, methods.value_uses(read, project, name))
        places = methods.unresolved_callers(project, fid) + uses
        found.extend(f"{place}: `{name}`" for place in places)
    return found
