"""Units of work in phase two: entered with `with`, moved as asynchronous context managers.

Two shapes move (AM297's doc): one holding the request's Session, and the "Cosmic Python" one
opening its own from a factory on entry. What blocks, naming the place: the unit of work entered
otherwise (`entry_blockers`, AM297); built with a factory of its own in code that migrates
(`built_with_arguments`, AM241); a factory defaulting to a sessionmaker the async stack does not
stand for (`maker_blockers`, AM278); a factory annotation naming what the copy cannot rewrite
with its default (`annotation_blockers`, AM241; `factory_annotation` rewrites `sessionmaker` and
the like); a subclass of it the analysis did not read, such as a fake in
the tests (`unread_subclasses`, AM253); a repository given the opened Session through an
unannotated parameter, whose copy the rewrite's analysis could not type (`HolderClass.problems`);
and a unit of work opening its Session any other way (`unit_of_work`, AM241, one reason per class
naming every use of that Session, its own methods' and its repositories'). A local name bound once
to a construction and handed to one call, used nowhere else, is built as inline (`handed_fresh`).

Over 500 lines: how a unit of work is entered, built and opened are one set of decisions the
closure, the plan and the call rewrite each ask of the same edges.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass

from async_migrate.codemods.flow import INSTANCE
from async_migrate.codemods.outcome import first_few
from async_migrate.codemods.phase1.shared_session import opening_class
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.phase2.inline_sessions import StackEngine
from async_migrate.codemods.project import Edge, FunctionId, Handler, Project


def unit_of_work(
    project: Project, fid: FunctionId, line: int, route: FunctionId | None = None
) -> tuple[str, str] | None:
    """The class whose instances open the Session the call at `line` works on into an attribute
    of their own (`self.session = self.session_factory()` in `__enter__`), reached directly or
    through a repository it builds on that Session, and the rest of a reason naming it; or None.
    `route`: the route reaching it, whose local names holding one the reason names."""
    _, function = project.functions[fid]
    for call in function.calls:
        expression = call.func if call.func is not None else call.callee
        if call.line != line or expression is None:
            continue
        for receiver in (expression.rpartition(".")[0], *(a.expr for a in call.args if a.expr)):
            if not receiver:
                continue
            found = opening_class(project, fid, receiver)
            built = None if found is not None else _built_on_opened(project, fid, receiver)
            if built is not None:
                found, built_at = built[0], built[1]
            if found is None:
                continue
            cls, attribute, openers = found
            module, declared = project.flow.classes.by_ref[cls]
            opened = ", ".join(f"`{project.functions[o][1].qualname}`" for o in openers)
            handed = ""
            if built is not None:
                owner = project.flow.classes.owner(fid)
                handed = f" and hands to the `{project.flow.classes.short(owner or '')}` it builds ({built_at})"
            name = declared.qualname
            holder = holders.holder_classes(project).get(cls)
            keep = (
                "keep the route as it is (a plain `def` route runs it in the threadpool: phase one converts an "
                f"`async def` one whose `{name}` is built per request)"
            )
            if holder is not None and holder.opened is not None and holder.problems:
                why = (
                    "phase two moves a unit of work opening its Session on entry as an asynchronous context manager, "
                    f"but not this one: {'; '.join(text for _path, _line, text in holder.problems)}"
                )
                advice = f"{keep}, or change what the reasons above name"
            elif holder is not None and holder.opened is not None:
                # the shape that moves, reached here in a way its move does not carry
                why = (
                    f"`{name}` is a unit of work phase two moves as an asynchronous context manager (its `__init__` "
                    f"takes `{holder.opened[1]}` defaulting to the sessionmaker), but only where the code migrating "
                    f"builds it (`{name}()`, in the call it is handed to or in a local name bound once and handed "
                    "to one call, or a dependency taking no parameters returns one) and enters it as the one item "
                    "of a `with name:` statement; this route reaches it otherwise "
                )
                advice = f"{keep}, or build it in the route or a dependency and enter it with `with uow:`"
                locals_ = _locals_used_otherwise(project, route, cls) if route is not None else []
                if locals_:
                    path = project.functions[route][0].path if route is not None else ""
                    named = ", ".join(f"`{n}` ({path}:{at})" for n, at in locals_)
                    why += (
                        f"(it builds it into {named} and uses that name otherwise than handing it to one call: "
                        "bound again, another name for it, stored on an object or in a display, or read by a nested "
                        "function)"
                    )
                    advice = f"{keep}, or hand it on as built (`f(..., {name}())`) or through a name used only there"
                else:
                    why += (
                        "(an instance a helper builds or takes out of a table, one entered through "
                        "`ExitStack.enter_context(...)`)"
                    )
            else:
                why = (
                    "phase two moves a unit of work opening its Session on entry only from a factory its `__init__` "
                    "takes with the sessionmaker as default (`def __init__(self, session_factory=SessionLocal)`, "
                    "`self.session = self.session_factory()` in `__enter__`), or one taking the request's Session "
                    f"(`{name}(db)`, built in the route or by a dependency on the session dependency), each as an "
                    f"asynchronous context manager, and `{name}` is neither"
                )
                advice = f"{keep}, or write it as one of those"
                if any(project.functions[o][1].name == "__aenter__" for o in openers):
                    # Already an asynchronous context manager around the synchronous Session:
                    # a route entering it (`async with uow:`) must stay `async def`, so no
                    # threadpool runs it, and phase one rightly left it.
                    why = (
                        f"`{name}` opens it in `__aenter__`, an asynchronous context manager around a synchronous "
                        "Session, which phase two does not move (it moves one opening its Session in `__enter__` "
                        "from a factory its `__init__` takes with the sessionmaker as default, "
                        "`def __init__(self, session_factory=SessionLocal)`, or one taking the request's Session, "
                        f"`{name}(db)`)"
                    )
                    advice = (
                        "a route entering it with `async with` stays `async def`, and its Session calls block the "
                        f"event loop: write `{name}` in that shape (`def __enter__`/`__exit__` and plain methods, "
                        "entered with `with uow:`), which phase two then moves to the AsyncSession, or move it to an "
                        "AsyncSession by hand (an `async_sessionmaker` as its factory, its Session calls awaited)"
                    )
            return cls, (
                f"the Session {opened} opens itself into `self.{attribute}` of `{name}` "
                f"({module.path}:{declared.line}){handed}, not one the route receives: {why}; {advice}"
            )
    return None


def _built_on_opened(
    project: Project, fid: FunctionId, receiver: str
) -> tuple[tuple[str, str, list[FunctionId]], str] | None:
    """`self.session` in a method of a repository whose `__init__` stores a parameter into
    `self.session` and whose every construction hands it the Session a unit of work opens into
    an attribute of its own (`ItemRepository(self.session)` in the unit of work's `__enter__`):
    the unit of work as `opening_class` gives it, and where it builds the repository; or None."""
    flow = project.flow
    classes = flow.classes
    owner = classes.owner(fid)
    head, _, attribute = receiver.partition(".")
    _, function = project.functions[fid]
    if owner is None or not function.params or head != f"${function.params[0].name}" or "." in attribute:
        return None
    init = classes.methods.get(owner, {}).get("__init__")
    assigned = classes.assigned.get((owner, attribute), [])
    if init is None or not assigned:
        return None
    _, init_function = project.functions[init]
    params = [p.name for p in init_function.params]
    stored = {expression[1:] for at, expression in assigned if at == init and expression.lstrip("$") in params[1:]}
    if len(stored) != len(assigned) or len(stored) != 1:
        return None  # assigned elsewhere, or from something other than a parameter
    param = stored.pop()
    edges = project.all_calls_to.get(init, [])
    found: tuple[tuple[str, str, list[FunctionId]], str] | None = None
    for edge in edges:
        caller_module, caller = project.functions[edge.caller]
        position = params.index(param) - 1
        passed = next(
            (a.expr for a in edge.call.args if a.keyword == param or (a.keyword is None and a.position == position)),
            None,
        )
        if passed is None or not caller.params or not passed.startswith(f"${caller.params[0].name}."):
            return None
        opened = opening_class(project, edge.caller, passed)
        if opened is None or classes.owner(edge.caller) != opened[0] or found is not None and found[0] != opened:
            return None
        found = (opened, f"{caller_module.path}:{edge.call.line}")
    return found


# What a class holding the request's Session defines instead when it moves (its copy is
# entered with `async with`): a `with` statement's methods become the asynchronous pair.
ASYNC_NAMES = {"__enter__": "__aenter__", "__exit__": "__aexit__"}


def _moving_context_method(project: Project, fid: FunctionId) -> bool:
    """A unit of work's `__enter__`/`__exit__` that becomes `__aenter__`/`__aexit__` with its class."""
    _, function = project.functions[fid]
    holder = holders.holder_of(project, fid)
    return function.name in ASYNC_NAMES and holder is not None and fid in holder.methods


def _with_entered(edge: Edge) -> str | None:
    """`$uow` for the edge a `with uow:` statement makes to `__enter__`/`__exit__`, else None."""
    call = edge.call
    func = call.func or ""
    head, _, name = func.rpartition(".")
    if call.index != -1 or not call.statement or name not in ASYNC_NAMES:
        return None
    return head


def entered_async(project: Project, fid: FunctionId, migrated: set[FunctionId]) -> set[str]:
    """The `with` items of `fid`, as written, entering an object whose class moves to an
    asynchronous context manager with it (`uow` of `with uow:`): they become `async with`."""
    found = set()
    for edge in project.all_calls_from.get(fid, ()):
        entered = _with_entered(edge)
        if entered is not None and edge.callee in migrated and _moving_context_method(project, edge.callee):
            found.add(project.written(entered))
    return found


def super_context_call(project: Project, edge: Edge) -> bool:
    """`super().__enter__()` in the `__enter__` of a class moving as an asynchronous context
    manager (its `__exit__` calling `super().__exit__(*args)`), reaching the base's method of the
    same family: both become the asynchronous pair, the call `await super().__aenter__()`."""
    caller, callee = project.functions[edge.caller][1], project.functions[edge.callee][1]
    if not (edge.call.func or "").startswith("super().") or caller.name != callee.name:
        return False
    return callee.name in ASYNC_NAMES and (
        (holder := holders.holder_of(project, edge.caller)) is not None
        and holder is not None and edge.caller in holder.methods and edge.callee in holder.methods
    )


def _built(project: Project, edge: Edge) -> bool:
    """The edge a `with UnitOfWork(...)` statement makes from the construction to `__enter__`."""
    return edge.call.func is None and edge.call.callee is not None and (
        project.flow.classes.resolve(edge.call.callee) == project.flow.classes.owner(edge.callee)
    )


def built_entry(project: Project, edge: Edge) -> bool:
    """`UnitOfWork()` of `with UnitOfWork() as uow:` on a class that becomes an asynchronous
    context manager: the statement becomes `async with`, the construction is not awaited
    (`entry_blockers` refuses every other `with` building it)."""
    return _with_entered(edge) is None and _built(project, edge) and _moving_context_method(project, edge.callee)


def entry_blockers(
    project: Project, fid: FunctionId, trees: Callable[[str], ast.Module | None]
) -> list[tuple[int, str]]:
    """Where `fid` enters a unit of work whose class becomes an asynchronous context manager
    other than as the one item of a `with` statement (`with uow:`, `with UnitOfWork() as uow:`),
    which phase two makes `async with`: (line, why). An explicit `uow.__enter__()`, a `with`
    entering something else beside it, or a `with` phase two cannot find again."""
    found: list[tuple[int, str]] = []
    module, function = project.functions[fid]
    node: ast.AST | None = None
    for edge in project.all_calls_from.get(fid, ()):
        if not _moving_context_method(project, edge.callee) or super_context_call(project, edge):
            continue
        holder = holders.holder_of(project, edge.callee)
        if holder is not None and holder.problems:
            continue  # the class cannot move at all (AM253 says why): how it is entered changes nothing
        if node is None:
            tree = trees(module.path)
            node = function_node(tree, function)
        owner = project.functions[edge.callee][1].qualname.rpartition(".")[0]
        entered = _with_entered(edge)
        method = project.functions[edge.callee][1].name
        built = _built(project, edge)
        if entered is None and built and node is not None and _built_alone(node, edge.call.line):
            continue  # `with UnitOfWork() as uow:` becomes `async with UnitOfWorkAsync() as uow:`
        if entered is None:
            found.append((edge.call.line, (
                f"enters the `{owner}` it builds in a `with` statement beside other context managers: `{owner}` "
                "becomes an asynchronous context manager, which phase two enters with `async with` only as the "
                f"one item of a `with` statement; give it one of its own (`with {owner}(...) as uow:`)"
            ) if built else (
                f"calls `{owner}.{method}` other than through a `with` statement, where `{owner}` becomes an "
                f"asynchronous context manager (`{ASYNC_NAMES[method]}`) that phase two enters only with "
                "`async with`: enter it with `with name:`"
            )))
            continue
        text = project.written(entered)
        items = _with_items(node, edge.call.line, text) if node is not None else None
        if "(" in text or items is None or items > 1:
            found.append((edge.call.line, (
                f"enters `{text}` (a `{owner}`) " + (
                    "beside other context managers in one `with` statement" if items and items > 1
                    else "other than as the one item of a `with name:` statement"
                ) + f": `{owner}` becomes an asynchronous context manager, which phase two enters with "
                f"`async with` only there; bind it to a name first (`uow = {owner}(...)`) and give it a `with` "
                "statement of its own"
            )))
    return list(dict.fromkeys(found))


def _built_alone(node: ast.AST, line: int) -> bool:
    """A `with` statement of the function whose one item, on `line`, is a call (`with
    UnitOfWork() as uow:`)."""
    return any(
        isinstance(child, ast.With) and len(child.items) == 1 and isinstance(child.items[0].context_expr, ast.Call)
        and child.items[0].context_expr.lineno == line
        for child in ast.walk(node)
    )


def _with_items(node: ast.AST, line: int, text: str) -> int | None:
    """How many items the `with` statement of the function has that enters `text` on `line`
    (None: no such statement in the function's own body)."""
    for child in ast.walk(node):
        if isinstance(child, ast.With):
            for item in child.items:
                if item.context_expr.lineno == line and ast.unparse(item.context_expr) == text:
                    return len(child.items)
    return None


def opening_dependencies(project: Project, handler: Handler) -> list[FunctionId]:
    """The route's dependencies (`Depends(get_uow)`) taking no parameters and returning a unit of
    work that opens its own Session on entry (`HolderClass.opened`) and can move, or yielding it
    (`with UnitOfWork() as uow: yield uow`): each gets a twin returning (or, entered with `async
    with`, yielding) the parallel class."""
    from async_migrate.codemods.phase2 import dependencies

    table = holders.holder_classes(project)
    found: list[FunctionId] = []
    for param in handler.function.params:
        ref = project.param_dependency(param)
        fid = dependencies.dependency_function(project, ref) if ref is not None else None
        if fid is None or project.functions[fid][1].params:
            continue
        _, function = project.functions[fid]
        values = [
            v for expression in (*function.returned, *function.yielded) for v in project.flow.evaluate(fid, expression)
        ]
        if values and all(
            v.kind == INSTANCE and (h := table.get(str(v.target))) is not None and h.opened is not None
            and not h.problems
            for v in values
        ):
            found.append(fid)
    return found


def maker_blockers(project: Project, fid: FunctionId, engine: StackEngine | None) -> list[tuple[int, str, str]]:
    """The `__enter__` of a unit of work opening its Session from a factory whose default is a
    sessionmaker the async stack does not stand for (another database's): its copy would open
    the async stack's; or, the stack being blocked, the blocker. (line, why, rule code)."""
    holder = holders.holder_of(project, fid)
    module, function = project.functions[fid]
    if holder is None or holder.opened is None or function.name != "__enter__":
        return []
    _init, param, maker = holder.opened
    if engine is not None and engine.blocked is not None:
        # no async stack at all: the cause is what blocks it, not which sessionmaker it stands for
        return [(function.line, (
            f"opens its Session from `{param}`, by default `{maker.rpartition('.')[2]}`, and this run builds no "
            f"async stack to open it from, since the stack is blocked ({engine.blocked.code}: {engine.blocked})"
        ), engine.blocked.code)]
    if engine is None or not engine.sync:
        return [(function.line, (
            f"opens its Session from `{param}`, by default `{maker.rpartition('.')[2]}`, and phase two cannot tell "
            "which sessionmaker the async stack stands for: keep the route"
        ), "AM278")]
    ref = project.canonical(maker) or ""
    described = dict(engine.other_makers).get(ref)
    if described is None:
        return []
    return [(function.line, (
        f"opens its Session from `{param}`, by default {described}, another sessionmaker than the async "
        f"stack's {engine.maker}: its asynchronous copy would open the async stack's, {engine.other_database(ref)}; "
        "keep the route"
    ), "AM278")]


# What a factory parameter's annotation names, as the asynchronous copy names it.
_ASYNC_NAMES = {
    "sqlalchemy.orm.sessionmaker": "async_sessionmaker",
    "sqlalchemy.orm.session.sessionmaker": "async_sessionmaker",
    "sqlalchemy.orm.Session": "AsyncSession",
    "sqlalchemy.orm.session.Session": "AsyncSession",
}
# Names an annotation may keep as they are: they say nothing of the Session.
_KEPT = ("typing.", "typing_extensions.", "collections.abc.")


@dataclass(frozen=True, slots=True)
class FactoryAnnotation:
    """How the asynchronous copy annotates the factory parameter of a unit of work opening its
    Session on entry: `text` (None: as written), the imports it needs, or `problem` when the
    annotation names something phase two cannot point at the async stack."""

    text: str | None = None
    imports: frozenset[tuple[str, str]] = frozenset()
    problem: str | None = None


def factory_annotation(project: Project, init: FunctionId) -> FactoryAnnotation:
    """`session_factory: sessionmaker = SessionLocal` -> `async_sessionmaker`; `sessionmaker[Session]`
    -> `async_sessionmaker[AsyncSession]`, `Callable[[], Session]` -> `Callable[[], AsyncSession]`.
    The copy's default is the async sessionmaker: left as written, the annotation would declare
    the Session it opens synchronous (and the self-check reads it so)."""
    holder = holders.holder_of(project, init)
    module, function = project.functions[init]
    if holder is None or holder.opened is None:
        return FactoryAnnotation()
    param = next((p for p in function.params if p.name == holder.opened[1]), None)
    if param is None or not param.text:
        return FactoryAnnotation()
    try:
        tree = ast.parse(param.text.strip(), mode="eval")
    except SyntaxError:
        tree = None
    imports: set[tuple[str, str]] = set()
    unknown: list[str] = []

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return self._named(node, node.id)

        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            written = ast.unparse(node)
            return self._named(node, written) if re.fullmatch(r"[\w.]+", written) else self.generic_visit(node)

        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            if isinstance(node.value, str):
                unknown.append(repr(node.value))  # a forward reference: not read
            return node

        def _named(self, node: ast.expr, written: str) -> ast.AST:
            canonical = project.canonical(f"{module.name}.{written}") or ""
            if canonical in _ASYNC_NAMES:
                imports.add(("sqlalchemy.ext.asyncio", _ASYNC_NAMES[canonical]))
                return ast.copy_location(ast.Name(_ASYNC_NAMES[canonical], ast.Load()), node)
            if not (canonical.startswith(_KEPT) or ("." not in written and written in dir(builtins))):
                unknown.append(f"`{written}`")
            return node

    renamed = Rename().visit(tree.body) if tree is not None else None
    if renamed is None or unknown:
        what = ", ".join(unknown) if unknown else "it"
        return FactoryAnnotation(problem=(
            f"its `__init__` annotates `{param.name}` (`{param.text.strip()}`, {module.path}:{param.line}), which "
            f"the copy defaults to the async sessionmaker, and phase two cannot tell what {what} stands for "
            "there: annotate it `async_sessionmaker`, `sessionmaker[Session]` or `Callable[[], Session]` "
            "(phase two rewrites those), or not at all, and rerun phase two"
        ))
    if not imports:
        return FactoryAnnotation()
    return FactoryAnnotation(text=ast.unparse(renamed), imports=frozenset(imports))


def annotation_blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """The `__enter__` of a unit of work whose factory parameter's annotation phase two cannot
    rewrite for the async sessionmaker (`factory_annotation`). (line, why)."""
    holder = holders.holder_of(project, fid)
    _, function = project.functions[fid]
    if holder is None or holder.opened is None or function.name != "__enter__":
        return []
    found = factory_annotation(project, holder.opened[0])
    if found.problem is None:
        return []
    return [(function.line, f"`{holder.name(project)}` opens its Session from a factory on entry, and {found.problem}")]


def built_with_arguments(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """Where `fid` builds a unit of work opening its Session on entry with arguments of its own
    (`SqlAlchemyUnitOfWork(SessionLocal)`): its asynchronous copy would open from them. (line, why)."""
    return [
        (edge.call.line, (
            f"builds {project.functions[edge.callee][1].qualname.rpartition('.')[0]} with arguments of its own, which "
            "its asynchronous copy would open its Session from: build it without (`"
            f"{project.functions[edge.callee][1].qualname.rpartition('.')[0]}()`), on the sessionmaker its factory "
            "defaults to"
        ))
        for edge in project.all_calls_from.get(fid, ())
        if edge.call.args and (h := holders.holder_of(project, edge.callee)) is not None and h.opened is not None
        and edge.callee == h.opened[0]
    ]


_CLASS = re.compile(r"^\s*class\s+(\w+)\s*\(([^)]*)\)?")


def unread_subclasses(
    project: Project, fid: FunctionId, read: Callable[[str], str] | None
) -> list[tuple[int, str]]:
    """A class defined in a file the analysis did not read (a fake unit of work in the tests,
    `class FakeUnitOfWork(AbstractUnitOfWork):`) deriving from the class whose method `fid` is,
    when that method moves with a family holding the Session: moved in place, the subclass's
    inherited method would become `async def` under it. (line, why); without `read`, every
    unread file may hold one."""
    holder = holders.holder_of(project, fid)
    owner = project.flow.classes.owner(fid)
    if holder is None or owner is None or fid not in holder.methods or len(holder.family) < 2 or not project.unread:
        return []
    _, function = project.functions[fid]
    owned = [m for m in holder.methods if project.flow.classes.owner(m) == owner]
    if fid != min(owned, key=lambda m: project.functions[m][1].line):
        return []  # one reason per class: on its first moving method
    name = project.flow.classes.short(owner)
    found: list[str] = []
    for path in project.unread:
        try:
            text = read(path) if read is not None else None
        except OSError:
            text = None
        if text is None:
            found.append(f"{path} (not read)")
            continue
        for number, line in enumerate(text.splitlines(), 1):
            match = _CLASS.match(line)
            if match and name in re.findall(r"\w+", match.group(2) or ""):
                found.append(f"`{match.group(1)}` ({path}:{number})")
    if not found:
        return []
    return [(function.line, (
        f"the methods of `{name}` move to `async def` with the classes holding the Session, but "
        f"{first_few(found)} derives from `{name}` in a file the analysis "
        "did not read (a fake unit of work in the tests), and would inherit them asynchronous where its users "
        "call them synchronously: keep the route as it is, or migrate the class and its subclass by hand"
    ))]


def handed_fresh(project: Project, fid: FunctionId, name: str) -> bool:
    """Local `name` bound once to a fresh construction (`uow = UnitOfWork()`) and then only handed
    to one call of the function's own body (`allocate(cmd, uow)`): the same as building it in that
    call's argument (`allocate(cmd, UnitOfWork())`). Any other use of the name (bound again, an
    alias, stored on an object, put in a display, returned, a method called on it, read by a nested
    scope, handed twice) lets code phase two does not move reach the instance."""
    _, function = project.functions[fid]
    if any(p.name == name for p in function.params):
        return False
    bound = [b for b in function.bindings if b.name == name]
    if len(bound) != 1 or bound[0].entered or not bound[0].expr.endswith("()") or "$" in bound[0].expr:
        return False
    handed = [
        call for call in function.calls for a in call.args if a.name == name and a.expr is None and a.ref is None
    ]
    if len(handed) != 1 or handed[0].nested or handed[0].in_generator or handed[0].offloaded:
        return False
    # every line naming it, nested scopes' included: the binding and the one call, nothing else
    if sorted(function.name_uses.get(name, ())) != sorted((bound[0].line, handed[0].line)):
        return False
    mention = re.compile(rf"\${re.escape(name)}(?!\w)")
    # on those lines too: stored, aliased or put in a display beside the call (`f(uow); bus.uow = uow`)
    others = [
        *(b.expr for b in function.bindings), *(s[3] for s in function.attribute_stores),
        *(s[3] for s in function.state_assigns), *(d for c in function.calls for a in c.args for d in a.displayed),
    ]
    return not (
        any(mention.search(text) for text in others) or any(c.receiver == name for c in function.calls)
        or any(source == name for _alias, source in function.rebinds)
        or any(held == name for _line, held, _how in function.held_in)
    )


def _locals_used_otherwise(project: Project, route: FunctionId, cls: str) -> list[tuple[str, int]]:
    """The route's local names bound to a construction of `cls` (not an alias of one) that
    `handed_fresh` does not take as the construction handed on: (name, line of its first binding)."""
    _, function = project.functions[route]
    found: dict[str, int] = {}
    for binding in function.bindings:
        if binding.name in found or binding.entered or "$" in binding.expr or not binding.expr.endswith("()"):
            continue
        values = project.flow.evaluate(route, f"${binding.name}")
        if any(v.kind == INSTANCE and str(v.target) == cls for v in values) and not handed_fresh(
            project, route, binding.name
        ):
            found[binding.name] = binding.line
    return list(found.items())
