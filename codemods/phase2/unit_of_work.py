"""Units of work in phase two: one entered with `with` moves as an asynchronous context
manager when it holds the request's Session; one opening its own Session blocks, in one reason.

The "Cosmic Python" shape: `__enter__` opens `self.session = self.session_factory()` and
builds the repositories on it (`self.products = ProductRepository(self.session)`), `__exit__`
rolls back and closes, services enter it (`with uow:`) and commit through it. Phase two
moves only a Session the route receives and writes no asynchronous unit of work (an
`__aenter__`/`__aexit__` twin opening from the async sessionmaker, twins of the
repositories it builds and of every function entering it with `async with`), so each route
reaching one is blocked (AM241) with one reason per unit of work class, naming every place
its Session is used: the unit of work's own methods (`self.session.commit()`) and the
methods of the repositories it builds on that Session (`self.session.scalars()` in
`ProductRepository.get`), which hold it through their `__init__`.

What phase two does move: a unit of work holding the request's Session (`UnitOfWork(db)`, its
`__init__` storing a Session parameter) whose `__enter__`/`__exit__` do Session work becomes an
asynchronous context manager with its class (`async def __aenter__`/`__aexit__`, the repositories
it builds there on the held Session built from their parallel classes), and each `with uow:`
entering it `async with uow:` (`FunctionPlan.async_with`, `rename`). `entry_blockers` names
where it is entered otherwise (AM297): built in the `with` statement itself, beside other
context managers in one `with`, `uow.__enter__()` called.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.phase1.shared_session import opening_class
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.project import Edge, FunctionId, Project


def unit_of_work(project: Project, fid: FunctionId, line: int) -> tuple[str, str] | None:
    """The class whose instances open the Session the call at `line` works on into an attribute
    of their own (`self.session = self.session_factory()` in `__enter__`), reached directly or
    through a repository it builds on that Session, and the rest of a reason naming it; or None."""
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
            advice = (
                f"keep the route as it is (a plain `def` route runs it in the threadpool: phase one converts an "
                f"`async def` one whose `{name}` is built per request), or have `{name}` take the request's Session "
                f"instead (`{name}(db)` built in the route, or by a dependency on the session dependency): phase "
                "two moves such a unit of work as an asynchronous context manager"
            )
            return cls, (
                f"the Session {opened} opens itself into `self.{attribute}` of `{name}` "
                f"({module.path}:{declared.line}){handed}, not one the route receives: phase two moves only a Session "
                "the route receives (a dependency) and writes no asynchronous unit of work (an "
                "`__aenter__`/`__aexit__` twin opening from the async sessionmaker, with async twins of the "
                f"repositories it builds and of the code entering it with `async with`), so it leaves a `{name}` "
                f"that opens its own synchronous Session; {advice}"
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


def entry_blockers(
    project: Project, fid: FunctionId, trees: Callable[[str], ast.Module | None]
) -> list[tuple[int, str]]:
    """Where `fid` enters a unit of work whose class becomes an asynchronous context manager
    other than as the one item of a `with name:` statement, which phase two makes `async with`:
    (line, why). An explicit `uow.__enter__()`, a `with` building it (`with UnitOfWork(db):`)
    or entering something else beside it, or a `with` phase two cannot find again."""
    found: list[tuple[int, str]] = []
    module, function = project.functions[fid]
    node: ast.AST | None = None
    for edge in project.all_calls_from.get(fid, ()):
        if not _moving_context_method(project, edge.callee):
            continue
        if node is None:
            tree = trees(module.path)
            node = _function_node(tree, function.line, function.name) if tree is not None else None
        owner = project.functions[edge.callee][1].qualname.rpartition(".")[0]
        entered = _with_entered(edge)
        method = project.functions[edge.callee][1].name
        built = edge.call.func is None and edge.call.callee is not None and (
            project.flow.classes.resolve(edge.call.callee) == project.flow.classes.owner(edge.callee)
        )
        if entered is None:
            found.append((edge.call.line, (
                f"enters the `{owner}` it builds in a `with` statement (`with {owner}(...) as name:`): `{owner}` "
                "becomes an asynchronous context manager, which phase two enters with `async with` only on a "
                f"name; bind it first (`uow = {owner}(...)`, then `with uow:`)"
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


def _function_node(tree: ast.Module, line: int, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and (
            node.lineno == line or any(d.lineno == line for d in node.decorator_list)
        ):
            return node
    return None


def _with_items(node: ast.AST, line: int, text: str) -> int | None:
    """How many items the `with` statement of the function has that enters `text` on `line`
    (None: no such statement in the function's own body)."""
    for child in ast.walk(node):
        if isinstance(child, ast.With):
            for item in child.items:
                if item.context_expr.lineno == line and ast.unparse(item.context_expr) == text:
                    return len(child.items)
    return None
