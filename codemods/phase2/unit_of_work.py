"""A unit of work opening its own Session: why the routes reaching it stay, in one reason.

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

The advice depends on the class: when its `__enter__` or `__exit__` does Session work (the
rollback and close on exit), handing it the route's Session instead would still leave that
work to a `with` statement, which cannot await it (AM297); the route stays, or the
asynchronous unit of work is written by hand.
"""

from __future__ import annotations

from async_migrate.codemods.phase1.shared_session import opening_class
from async_migrate.codemods.project import FunctionId, Project


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
                f"`async def` one whose `{name}` is built per request), or write the asynchronous unit of work by hand"
            )
            entered = _entry_work(project, cls)
            if entered is None:
                advice += ", or have the route hand its Session to what it builds"
            else:
                advice += (
                    f"; handing it the route's Session would not do, since `{entered}` does Session work a `with` "
                    "statement cannot await"
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


def _entry_work(project: Project, cls: str) -> str | None:
    """`Class.__exit__` (or `__enter__`) when the method a `with` statement runs on an instance
    of `cls` does Session work, directly or through what it calls; else None."""
    classes = project.flow.classes
    for name in ("__exit__", "__enter__"):
        found, _certain = classes.method(cls, name)
        for method in found:
            if project.own_work(method) or any(
                edge.callee in project.work_chains for edge in project.all_calls_from.get(method, ())
            ):
                return project.functions[method][1].qualname
    return None
