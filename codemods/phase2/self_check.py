"""Phase two's self-check: the rewritten code, analysed again, must not misbehave.

Before a plan is shown or applied, the facts of every rewritten module (collected from the
rewritten tree in the worker) replace the originals in a second project index, and each migrated
function, twin and route is asked whether it misbehaves (the questions: `check`). Every answer
that is not "no" blocks the routes that reach the function, and the plan is rebuilt without them:
this holds the tool to its invariant on shapes nobody listed.

Over 500 lines: one question per kind of misbehaviour, all asked of the same second index;
split apart they would each rebuild or pass around that index.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from async_migrate.codemods import facts, provided_classes, session_work
from async_migrate.codemods.containers import may_be_plain
from async_migrate.codemods.decorator_work import unawaited_loop_work
from async_migrate.codemods.held_session import declared_type_var
from async_migrate.codemods.phase1.shared_session import opening_class
from async_migrate.codemods.phase2 import (
    built_with_async,
    dependencies,
    holders,
    import_cycles,
    import_order,
    scheduled,
    session_subclass,
    shadowed_imports,
)
from async_migrate.codemods.phase2.closure import Closure
from async_migrate.codemods.phase2.derived import chained_rewritten, derived_names, is_coroutine
from async_migrate.codemods.phase2.unit_of_work import ASYNC_NAMES
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.rules import Reason
from async_migrate.codemods.rules.am223_self_check import RULE as AM223
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ABSENT_METHODS,
    AWAITED_METHODS,
    CONTEXT_METHODS,
    UNAVAILABLE_METHODS,
)


@dataclass(frozen=True, slots=True)
class Violation:
    """Something the rewrite of `function` would do wrong. `file` and `line` are the original
    function's (the rewritten text is never written when it misbehaves)."""

    function: FunctionId  # the original function (a twin's original) it was found in
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = (f"{self.file}:{self.line}: " if self.line else f"{self.file}: ") if self.file else ""
        return f"{where}self-check: {self.message}"

    def reason(self) -> Reason:
        return AM223.reason(str(self))


def rewritten_project(project: Project, rewritten: Iterable[facts.Module]) -> Project:
    """The project index with the given modules' facts replaced by those of their rewrite."""
    replaced = {module.path: module for module in rewritten}
    modules = [replaced.get(module.path, module) for module in project.modules.values()]
    return Project(modules, project.config)


def check(
    before: Project,
    after: Project,
    closure: Closure,
    twins: dict[FunctionId, str],
    texts: Iterable[tuple[str, str, bytes, bytes]] = (),
    read: Callable[[str], str] | None = None,
) -> list[Violation]:
    """What misbehaves in the rewritten code; `twins` maps a helper to its twin's name; `texts`
    holds (module name, path, text before, text after) of each rewritten module; `read` gives
    the source of a module by path (the import cycles follow the modules not rewritten).

    Each migrated function, twin and route is asked:

    - is every AsyncSession coroutine method awaited (`begin()` under `async with`), and every
      coroutine method of what it returns (`sp = db.begin_nested()`; `sp.rollback()`; called
      straight on it, `await (await db.connection()).execute(...)`, read from the output itself),
      and is nothing called that AsyncSession does not have (`query`, `bulk_*`)?
    - does a parameter annotated AsyncSession still declare the synchronous session dependency
      (`db: AsyncSession = Depends(get_db)`), which FastAPI fills with a synchronous Session?
    - does it build a synchronous class around the AsyncSession or an async copy (a container's
      `self.user_service = UserService(self.user_repo)`), whose methods would call that object's
      coroutines without awaiting them?
    - does the AsyncSession reach a parameter annotated as a synchronous `Session`, or a
      plain `def` that does Session work with it (directly or offloaded to a thread)? Asked
      too of the methods that stay as they are in a class whose `__init__` now takes it
      (`__enter__` building a repository around the held Session)
    - is a project coroutine called without `await` (outside `create_task`, `gather`, ...),
      here or anywhere in the project (a caller the closure did not see)? is a call handed to
      `create_task`, `gather`, ... awaited in place, giving the scheduler its result? is a
      coroutine given the AsyncSession handed to one that runs it beside the request's own work?
    - does a synchronous Session remain on the event loop (opened here, or a helper
      that opens one, or a plain `def` that still does synchronous Session work, called
      without offloading, or a coroutine working on a Session its class opens from a synchronous
      sessionmaker: a unit of work's `__aexit__` committing what its `__aenter__` opened)?
    - does a parameter's dependency give another class than the one the rewrite declares for it,
      in its annotation or in the parameter it is handed to (`uow: UnitOfWorkAsync` filled by a
      `get_uow` still yielding the synchronous UnitOfWork)?
    - would a migrated route's request hold two Sessions (an AsyncSession and a
      synchronous one from a dependency in its tree)?
    - does a module-level statement of a rewritten module need, at import, a name the
      module defines only further down (called, named, or read by a function it calls)?
    - does an application module (not tests/, conftest.py) now import from the test suite?
    - does an import the rewrite adds close a cycle of module-level imports (the module it imports
      from importing the rewritten one back, at any depth: `phase2/import_cycles.py`)?
    - does an import the rewrite adds bind a name the module binds otherwise too (its own
      `def get_async_db_session`, `AsyncSession = ...`, another import): one of them wins?
    - does the rewrite put `await` in a plain `def` (an `__init__` doing Session work), which
      does not compile?

    Every answer that is not "no" blocks the routes that reach the function, with the
    reason; the plan is then rebuilt without them and checked again. This holds the
    tool to its invariant on shapes nobody listed.
    """
    checked: dict[FunctionId, FunctionId] = {}  # function in `after` -> original in `before`
    migrated = set(closure.migrated_routes) | {
        fid for fid, d in closure.helpers.items() if d.action in ("migrate", "twin")
    }
    for fid in migrated:
        module_name, key = fid
        module = after.modules.get(module_name)
        if module is None:
            continue
        if fid in twins:
            # A method's twin sits beside it in the class: `CRUDBase.get_async`.
            owner = before.functions[fid][1].qualname.rpartition(".")[0]
            qualname = f"{owner}.{twins[fid]}" if owner else twins[fid]
            parallel = closure.parallel_classes.get(f"{module_name}.{owner}") if owner else None
            if parallel is not None:  # a method of a parallel async class: `ProjectRepoAsync.get`
                qualname = f"{owner.rpartition('.')[0] + '.' if '.' in owner else ''}{parallel}.{twins[fid]}"
            qualnames = (qualname, _async_special(qualname))
            twin = next((f for f in module.functions if f.qualname in qualnames), None)
            if twin is not None:
                checked[(module_name, twin.key)] = fid
        elif module.function(key) is not None:
            checked[fid] = fid
        elif (renamed := module.function(_async_special(key))) is not None:
            checked[(module_name, renamed.key)] = fid  # `__exit__` moved in place as `__aexit__`
    # The other methods of a class whose `__init__` now takes the AsyncSession hold it too, moved
    # or not (a unit of work's `__enter__` building a repository around it).
    classes = after.flow.classes
    for fid in list(checked):
        holder = classes.owner(fid) if after.functions[fid][1].name == "__init__" else None
        for method in classes.methods.get(holder or "", {}).values():
            if method not in checked and method in before.functions and _held_async(after, method):
                checked[method] = method
    found: list[Violation] = []
    for new, original in sorted(checked.items()):
        found.extend(_function(before, after, new, original))
        found.extend(_awaited_for_scheduler(after, new, original, before))
        found.extend(_concurrent(after, new, original, before))
        found.extend(_provided_mismatches(before, after, new, original))
    found.extend(_unawaited_callers(before, after, checked))
    for route in sorted(closure.migrated_routes):
        found.extend(_two_sessions(before, after, route))
    # Each text parsed once, for both module-level questions.
    tops = [(name, path, _top_level_of(old), _top_level_of(new)) for name, path, old, new in texts]
    found.extend(_used_before_defined(tops))
    found.extend(_imports_from_tests(tops))
    found.extend(_await_outside_coroutines(tops))
    found.extend(_import_cycles(before, after, checked, tops, read))
    found.extend(_shadowed_imports(before, after, checked, tops))
    unique: dict[tuple[FunctionId, int, str], Violation] = {}
    for violation in found:
        unique.setdefault((violation.function, violation.line, violation.message), violation)
    return list(unique.values())


def _provided_mismatches(before: Project, after: Project, fid: FunctionId, original: FunctionId) -> list[Violation]:
    """A parameter the rewrite declares as a class its dependency does not give, in its
    annotation or where it is handed on (`uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]`,
    `get_uow` still yielding the synchronous UnitOfWork): the code is written for the async
    class and runs on the synchronous one, its Session work on the event loop."""
    _, function = after.functions[fid]
    found = []
    for mismatch in provided_classes.mismatches(after, fid):
        where = original_line(before, original, function, mismatch.handed[2]) if mismatch.handed else None
        found.append(_violation(before, original, (
            f"{_label(before, original, function)}: {mismatch.described(after, before)}: FastAPI fills the parameter "
            "from its dependency, whatever the annotation says, so the migrated code would run on that class and "
            "await its plain methods"
        ), where))
    return found


def _async_special(qualname: str) -> str:
    """`UnitOfWork.__aexit__` for `UnitOfWork.__exit__`: what a unit of work's `with` methods are
    named once its class moves as an asynchronous context manager (phase2/unit_of_work.py)."""
    owner, dot, name = qualname.rpartition(".")
    return f"{owner}{dot}{ASYNC_NAMES.get(name, name)}"


def blocked_routes(closure: Closure, violations: list[Violation]) -> dict[FunctionId, list[Reason]]:
    """The migrated routes each violation stops: those reaching the function it is in."""
    found: dict[FunctionId, list[Reason]] = {}
    for violation in violations:
        routes = [
            route for route in sorted(closure.migrated_routes)
            if violation.function == route or violation.function in closure.reaches.get(route, ())
        ] or sorted(closure.migrated_routes)
        for route in routes:
            reasons = found.setdefault(route, [])
            if violation.reason() not in reasons:
                reasons.append(violation.reason())
    return found


def _added_methods(project: Project) -> dict[str, str]:
    """Methods project Session subclasses add (name -> class), once per analysed project."""
    if not _ADDED or _ADDED[0][0] is not project:
        _ADDED[:] = [(project, session_subclass.project_session_methods(project))]
    return _ADDED[0][1]


_ADDED: list[tuple[Project, dict[str, str]]] = []  # the last project's only


def _function(before: Project, after: Project, fid: FunctionId, original: FunctionId) -> list[Violation]:
    _, function = after.functions[fid]
    # Every name that held the synchronous Session holds the AsyncSession after the rewrite.
    names = before.session_names(original) | set(after.declared_async_session_params(fid))
    found: list[Violation] = []

    def flag(line: int, message: str, call: facts.Call | None = None) -> None:
        where = original_line(before, original, function, line, call)
        found.append(_violation(before, original, f"{_label(before, original, function)}: {message}", where))

    for declared in function.params:
        if any(after.is_async_session_type(ref) for ref in declared.annotation) and (
            declared.depends is not None and after.is_session_dependency(declared.depends)
        ):
            # FastAPI fills the parameter from its declaration, whatever the annotation says.
            flag(function.line, f"`{declared.name}` is annotated AsyncSession but declares "
                 f"`Depends({declared.depends.rsplit('.', 1)[-1]})`, which gives a synchronous Session")
    async_with = {line for line, text in function.awaits if text == "async with"}
    held = _held_async(after, fid)
    for line, receiver, attribute in function.attributes:
        if receiver in names and (attribute in AWAITED_METHODS or attribute in CONTEXT_METHODS):
            flag(line, f"takes `{receiver}.{attribute}` as a value, a coroutine method on AsyncSession: "
                 "where it is called it is not awaited")
    for call in function.calls:
        if call.receiver in names and call.method is not None and not call.offloaded:
            what = f"`{call.receiver}.{call.method}()`"
            if call.method in AWAITED_METHODS and not call.awaited:
                flag(call.line, f"{what} is a coroutine on AsyncSession and is not awaited", call)
            elif call.method in CONTEXT_METHODS and not call.awaited and call.line not in async_with:
                flag(call.line, f"{what} on AsyncSession needs `async with`", call)
            elif call.method == "query" or call.method in UNAVAILABLE_METHODS or call.method in ABSENT_METHODS:
                flag(call.line, f"{what} does not exist on AsyncSession", call)
            elif call.method in _added_methods(before):
                owner = _added_methods(before)[call.method].rsplit(".", 1)[-1]
                flag(call.line, f"{what} is a method of the Session class `{owner}`, which AsyncSession does "
                     "not have: run it on the Session behind it, `await "
                     f"{call.receiver}.run_sync(lambda s: s.{call.method}(...))`, with the async_sessionmaker's "
                     f"`sync_session_class={owner}`", call)
    # The rewrite only adds awaits: one in a generator expression the original already had is its own.
    _, source = before.functions[original]
    kept_awaits = {c.line - source.line for c in source.calls if c.awaited and c.in_generator}
    for call in function.calls:
        if call.awaited and call.in_generator and not call.nested and call.line - function.line not in kept_awaits:
            spelled = after.written(call.func) if call.func else (call.callee or "a call").rsplit(".", 1)[-1]
            flag(call.line, f"awaits `{spelled}()` inside a generator expression, which makes it an async "
                 "generator: what iterates it synchronously (`any()`, `sum()`, `list()`, a `for`) raises TypeError",
                 call)
    for call in function.calls:
        if call.offloaded and call.receiver in names and call.method in AWAITED_METHODS and not call.greenlet:
            flag(call.line, f"`{call.receiver}.{call.method}()` is a coroutine on AsyncSession and runs in a worker "
                 "thread, which never awaits it", call)
    for edge in after.all_calls_from[fid]:  # methods too: `crud.user.get(db)`, `self.load(db)`
        callee_module, callee = after.functions[edge.callee]
        name = f"{callee_module.name}.{callee.qualname}"
        if edge.call.offloaded and callee.is_async and not callee.is_generator:
            # `await run_in_threadpool(lambda: repo.get(id))` on the moved repository: the thread
            # hands back the coroutine, and what the route awaits is that object, never run
            flag(edge.call.line, f"runs {name}, a coroutine function, in a worker thread (handed to it, or called "
                 "in a lambda or nested function handed to it): its coroutine is never awaited", edge.call)
        for arg in edge.call.args:
            expression = arg.expr or ""
            param = _param(after, edge.callee, facts.parameter_of(callee, arg) or "") if expression in held else None
            if param is not None and after.declared_session(param) is not None:
                flag(edge.call.line, f"passes the held AsyncSession `{expression.lstrip('$')}` to {name}, whose "
                     f"parameter `{param.name}` is a synchronous Session", edge.call)
        for param_name, passed in after._session_args(edge.call, edge.callee, names).items():
            param = next((p for p in callee.params if p.name == param_name), None)
            if param is not None and after.declared_session(param) is not None:
                flag(edge.call.line, f"passes the AsyncSession `{passed}` to {name}, whose parameter "
                     f"`{param_name}` is a synchronous Session", edge.call)
            elif not callee.is_async and callee.name_uses.get(param_name) and not _only_stored(
                after, edge.callee, param
            ) and not session_work.no_io_only(after, edge.callee, [param_name]):  # `db.add(obj)` alone: plain on both
                flag(edge.call.line, f"passes the AsyncSession `{passed}` to {name}, a synchronous "
                     "function that does Session work with it", edge.call)
        if not callee.is_async and not edge.call.offloaded and (
            after.opens_directly(edge.callee) or after.opens_session(edge.callee)
        ):
            flag(edge.call.line, f"calls {name}, which opens a synchronous Session, on the event loop", edge.call)
        elif not callee.is_async and not edge.call.offloaded and edge.callee in after.work_chains:
            # A plain def still working on a synchronous Session (a repository the rewrite did
            # not reach, built from a Session the route does not receive): it blocks the loop,
            # and awaiting what it returns raises TypeError.
            chain = " -> ".join(after.work_chains[edge.callee])
            flag(edge.call.line, f"calls {name}, which does synchronous Session work ({chain}), on the "
                 "event loop", edge.call)
    for opened in after.opens_directly(fid):
        flag(opened.line, f"opens a synchronous Session (`{opened.callee}`) on the event loop")
    if function.is_async:
        # `kwargs["db"].commit()` after `await fn(*args, **kwargs)` in the decorator's wrapper,
        # which the rewrite of the function leaves as it was
        for io in unawaited_loop_work(after, fid, names):
            session = f"{'the' if io.certain else 'what may be the'} AsyncSession it hands the function"
            done = (f"calls `{io.call}` ({io.where}) without `await` on {session}" if io.method is not None
                    else f"hands {session} to `{io.call}` ({io.where}), whose Session work there nothing awaits")
            flag(function.line, f"`@{io.decorator.text.lstrip('@')}`'s `async def` wrapper {done}: a coroutine "
                 "nothing awaits, or a call AsyncSession does not support")
    # `self.user_service = UserService(self.user_repo)` in a container's copy: the member stays
    # the synchronous class, its methods calling the repository's copy without awaiting it
    for built in built_with_async.found(after, fid, names | held):
        flag(built.line, built.message(after))
    if function.is_async:
        # `await self.session.commit()` in an `__aexit__` whose `__aenter__` opened `self.session` from
        # the synchronous sessionmaker: the work blocks the loop, and awaiting its result raises TypeError.
        for line, text in after.own_work(fid):
            receiver = text.partition("(")[0].rpartition(".")[0]
            if receiver and opening_class(after, fid, f"${receiver}") is not None:
                flag(line, f"does synchronous Session work (`{text}`) on a Session its class opens from a "
                     "synchronous sessionmaker, on the event loop")
    # `sp = db.begin_nested()`: the name is bound in the original (the rewrite awaits the
    # call, which the bindings do not follow) and keeps its name in the rewrite.
    _, before_function = before.functions[original]
    def held_method(func: str) -> str | None:
        return holders.held_call(before, original, func)

    derived = derived_names(before_function, before.session_names(original), held_method)
    for call in function.calls:
        if call.receiver in derived and call.method is not None and not call.offloaded:
            if is_coroutine(derived[call.receiver], call.method) and not call.awaited:
                flag(call.line, f"`{call.receiver}.{call.method}()` is a coroutine on the object the "
                     "AsyncSession returned and is not awaited", call)
    # The output itself, not the planner's decision on the original: `(await db.connection()).execute(...)`.
    for call, why in chained_rewritten(function, names, held_method):
        flag(call.line, why, call)
    for call, name in _undefined_names(after, fid, before_function):
        flag(call.line, f"calls `{name}()`, which the rewrite introduces and nothing defines", call)
    written = {p.depends for p in before_function.params} | {r for d in before_function.decorators for r in d.depends}
    for param in function.params:
        if param.depends and param.depends not in written and not _defined(after, param.depends):
            flag(param.line, f"parameter `{param.name}` depends on `{param.depends.rsplit('.', 1)[-1]}`, which "
                 "the rewrite introduces and nothing defines")
    # `current: CurrentUser_async` with the alias twin neither imported nor defined: NameError at import
    annotated = {r for p in before_function.params for r in p.annotation}
    for param in function.params:
        missing = next((r for r in param.annotation if r not in annotated and not _defined(after, r)), None)
        if missing is not None and param.depends is None:
            flag(param.line, f"parameter `{param.name}` is annotated with `{missing.rsplit('.', 1)[-1]}`, which "
                 "the rewrite introduces and nothing defines")
    # `uow.session.commit()` outside the class: the instance's Session is the AsyncSession too
    # wherever the function migrated (the class moving with it, or the route blocked: AM229)
    outside = holders.holder_of(before, original) is None
    for call in function.calls:
        if call.func is None or call.offloaded:
            continue
        path, _, method = call.func.rpartition(".")
        if path not in held and not (outside and holders.outside_held_call(before, original, call.func)):
            continue
        what = f"`{path.lstrip('$')}.{method}()`"
        if method in AWAITED_METHODS and not call.awaited:
            flag(call.line, f"{what} is a coroutine on the held AsyncSession and is not awaited", call)
        elif method in CONTEXT_METHODS and not call.awaited and call.line not in async_with:
            flag(call.line, f"{what} on the held AsyncSession needs `async with`", call)
        elif method == "query" or method in UNAVAILABLE_METHODS or method in ABSENT_METHODS:
            flag(call.line, f"{what} does not exist on AsyncSession", call)
        elif method in _added_methods(before):
            owner = _added_methods(before)[method].rsplit(".", 1)[-1]
            flag(call.line, f"{what} is a method of the Session class `{owner}`, which the held AsyncSession "
                 f"does not have: run it on the Session behind it, `await {path.lstrip('$')}.run_sync(lambda s: "
                 f"s.{method}(...))`, with the async_sessionmaker's `sync_session_class={owner}`", call)
    return found


# (module name, path, top-level statements before the rewrite, after it; None: unreadable)
_Tops = tuple[str, str, list[ast.stmt] | None, list[ast.stmt] | None]


def _used_before_defined(tops: list[_Tops]) -> list[Violation]:
    """Module-level statements of a rewritten module that need, when the module is imported, a
    name the module binds only further down: named (`alias = Annotated[..., Depends(dep)]` above
    `def dep`), called (`async_engine = make_async_engine()` above `def make_async_engine`), or
    read by the body of a module function they call. A NameError at import; only what the
    rewrite introduced (a need the original module had already is its own)."""
    found: list[Violation] = []
    for name, path, before, after in tops:
        if before is None or after is None:
            continue
        already = {(ast.dump(before[index]), need.name) for index, need, _ in import_order.late(before)}
        for index, need, where in import_order.late(after):
            statement = after[index]
            if (ast.dump(statement), need.name) in already:
                continue
            if need.through:
                chain = " -> ".join(f"`{callee}()`" for callee in need.through)
                why = f"which the module defines further down and {chain}, called by it, reads"
            elif any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == need.name
                     for n in ast.walk(statement)):
                why = "which it calls and the module defines further down"
            else:
                why = "which it names and the module defines further down"
            found.append(Violation(
                (name, ""), path, 0,
                f"the rewrite puts {_describe(statement)} (line {statement.lineno}) above `{need.name}` "
                f"(line {after[where].lineno}), {why}: importing the module would fail",
            ))
    return found


def _imports_from_tests(tops: list[_Tops]) -> list[Violation]:
    """Application modules (not tests/, conftest.py) the rewrite makes import from the test suite
    (`from tests.conftest import get_async_db_session`): the application would run the tests'
    code, and a conftest importing the application makes the import circular."""
    from async_migrate.codemods.sources import is_test_path

    found: list[Violation] = []
    for name, path, before, after in tops:
        if is_test_path(path):
            continue
        already = _test_imports(name, path, before)
        for line, imported in _test_imports(name, path, after).items():
            if imported in already.values():
                continue
            found.append(Violation(
                (name, ""), path, 0,
                f"the rewrite makes {path} import from the test module `{imported}` (line {line}): the "
                "application would import its tests; the async stack must be built from what the routes' "
                "dependencies open, never from a sessionmaker or engine of the tests",
            ))
    return found


def _import_cycles(
    before: Project,
    after: Project,
    checked: dict[FunctionId, FunctionId],
    tops: list[_Tops],
    read: Callable[[str], str] | None,
) -> list[Violation]:
    """Imports the rewrite adds that close a cycle of module-level imports: the functions using
    what they bring stop (their originals, so the routes reaching them block); every route when
    no function of the module uses it (a module-level statement of the stack alone)."""
    found: list[Violation] = []
    for cycle in import_cycles.cycles(after, tops, read):
        message = import_cycles.describe(cycle)
        module = after.modules[cycle.module]
        originals = []
        for qualname in cycle.users:
            function = next((f for f in module.functions if f.qualname == qualname), None)
            original = checked.get((cycle.module, function.key)) if function is not None else None
            if original is not None and original not in originals:
                originals.append(original)
        if not originals:
            found.append(Violation((cycle.module, ""), cycle.path, 0, message))
        found.extend(_violation(before, original, message) for original in originals)
    return found


def _shadowed_imports(
    before: Project, after: Project, checked: dict[FunctionId, FunctionId], tops: list[_Tops]
) -> list[Violation]:
    """Imports the rewrite adds whose name the module binds otherwise too: the migrated functions
    reading the name stop (their originals); every route when none does."""
    found: list[Violation] = []
    for name, path, old, new in tops:
        if old is None or new is None or name not in after.modules:
            continue
        keys = {f.qualname: f.key for f in after.modules[name].functions}
        for clash in shadowed_imports.clashes(old, new):
            message = shadowed_imports.describe(clash)
            stopped: list[FunctionId] = []
            for qualname in shadowed_imports.users(new, clash.name):
                original = checked.get((name, keys[qualname])) if qualname in keys else None
                if original is not None and original not in stopped:
                    stopped.append(original)
            if not stopped:
                found.append(Violation((name, ""), path, 0, message))
            found.extend(_violation(before, original, message) for original in stopped)
    return found


def _await_outside_coroutines(tops: list[_Tops]) -> list[Violation]:
    """`await`, `async with` or `async for` the rewrite puts in a plain `def` or a lambda (a
    method Python calls without awaiting, such as `__init__`): the module does not compile, so
    every migrated route stops. Only what the rewrite introduced."""
    found: list[Violation] = []
    for name, path, before, after in tops:
        if after is None:
            continue
        already = {where for where, _ in _awaits_in_plain_functions(before or [])}
        for where, line in _awaits_in_plain_functions(after):
            if where in already:
                continue
            found.append(Violation(
                (name, ""), path, 0,
                f"the rewrite puts `await` in the plain function `{where}` (line {line} of the rewritten "
                "module), which Python calls without awaiting: the module would not compile",
            ))
    return found


_ASYNC_NODES = (ast.Await, ast.AsyncWith, ast.AsyncFor)


def _awaits_in_plain_functions(body: list[ast.stmt]) -> list[tuple[str, int]]:
    """(qualified name, line) of each plain `def` or lambda directly holding an await."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, scope: str, plain: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope else child.name
                visit(child, inner, isinstance(child, ast.FunctionDef))
            elif isinstance(child, ast.Lambda):
                visit(child, f"{scope}.<lambda>" if scope else "<lambda>", True)
            else:
                if plain and isinstance(child, _ASYNC_NODES) and all(scope != where for where, _ in found):
                    found.append((scope, child.lineno))
                # comprehensions stay in the function's scope for `await`
                visit(child, scope, plain)

    visit(ast.Module(body=body, type_ignores=[]), "", False)
    return found


def _test_imports(name: str, path: str, body: list[ast.stmt] | None) -> dict[int, str]:
    """{line: module} of the imports of a test module (tests/, conftest.py) in the module's
    top-level statements."""
    from async_migrate.codemods.sources import is_test_path

    found: dict[int, str] = {}
    package = name.split(".")[:-1] if not path.endswith("__init__.py") else name.split(".")
    for node in ast.walk(ast.Module(body=body or [], type_ignores=[])):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            imported = [".".join([*base, *filter(None, [node.module])])]
        elif isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        else:
            continue
        for module in imported:
            if module and is_test_path(module.replace(".", "/") + ".py"):
                found[node.lineno] = module
    return found


def _top_level_of(data: bytes) -> list[ast.stmt] | None:
    from async_migrate.codemods import astcollect, sources

    try:
        text = sources.decode(data).text
        try:
            return astcollect.parse(text).body
        except SyntaxError:
            from async_migrate.codemods.astcollect.newer import readable

            return astcollect.parse(readable(text)).body
    except Exception:  # unreadable: the rewrite's own checks name it
        return None


def _describe(statement: ast.stmt) -> str:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        keyword = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class"}[type(statement)]
        return f"`{keyword} {statement.name}`"
    targets = statement.targets if isinstance(statement, ast.Assign) else (
        [statement.target] if isinstance(statement, ast.AnnAssign) else []
    )
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return f"`{targets[0].id} = ...`"
    return "a statement"


def _undefined_names(after: Project, fid: FunctionId, original: facts.Function) -> list[tuple[facts.Call, str]]:
    """Calls the rewrite introduced (their name is not called in the original) of a module-level
    name nothing defines or imports, or of a `self.`/`cls.` method the class order lacks: a
    renamed call whose twin was never written."""
    import builtins

    from async_migrate.codemods.classes import project_classes

    module, function = after.functions[fid]
    before_names = {c.callee for c in original.calls} | {c.func for c in original.calls}
    owner = function.qualname.rpartition(".")[0]
    classes = project_classes(after)
    owner_ref = classes.resolve(f"{module.name}.{owner}") if owner else None
    found: list[tuple[facts.Call, str]] = []
    for call in function.calls:
        if call.nested or (call.callee in before_names and call.func in before_names):
            continue
        callee = call.callee
        if callee is not None and "." not in callee and not hasattr(builtins, callee) and "*" not in module.imports:
            found.append((call, callee))
        elif callee is not None and callee not in before_names and _missing_attribute(after, callee):
            # `crud.restock_async(db)`: a twin's name on a module that does not bind it (a package
            # re-exporting the helper by assignment, `restock = crud_item.restock`)
            home, _, name = callee.rpartition(".")
            found.append((call, f"{home.rsplit('.', 1)[-1]}.{name}"))
        elif owner_ref is not None and call.receiver in ("self", "cls") and call.method is not None:
            order = classes.mro(owner_ref)
            # a base outside the project may define it: only a class order read whole is judged
            if all(
                classes.resolve(base) is not None or base in _PLAIN_BASES
                for cls in order for base in classes.by_ref[cls][1].bases
            ) and not any(
                call.method in classes.methods.get(cls, {}) or call.method in classes.by_ref[cls][1].names
                or "__getattr__" in classes.methods.get(cls, {})
                for cls in order
            ):
                found.append((call, f"{call.receiver}.{call.method}"))
    return found


def _missing_attribute(after: Project, ref: str) -> bool:
    """`pkg.name` where `pkg` is a project module that neither defines, assigns nor imports `name`."""
    home, _, name = ref.rpartition(".")
    module = after.modules.get(home)
    return (
        module is not None and "*" not in module.imports and after.resolve(ref) is None
        and not any(c.qualname == name for c in module.classes) and f"{home}.{name}" not in after.modules
    )


def _defined(after: Project, ref: str) -> bool:
    """Whether a reference names something: a function, value, module or import the index
    resolves, or a class of a project module."""
    home, _, name = ref.rpartition(".")
    if not home:  # a bare name: neither defined nor imported in its module
        import builtins

        return hasattr(builtins, name)
    if after.resolve(ref) is not None:
        return True
    module = after.modules.get(home)
    return module is None or any(c.qualname == name for c in module.classes)


# Bases that define no methods a project class would call on itself by a twin's name.
_PLAIN_BASES = frozenset({"object", "typing.Generic", "abc.ABC"})


def _only_stored(
    after: Project, fid: FunctionId, param: facts.Param | None, seen: frozenset[FunctionId] = frozenset()
) -> bool:
    """A parameter declared AsyncSession that the function only stores (`self.db = db` in an
    `__init__`): no call on it, and none with it but the construction of another object that
    only stores it (`self.items = ItemRepositoryAsync(session)`: a service composing its
    repositories). The methods using the attributes are checked.

    Not `session_work.stores_only`, which reads the synchronous Session of the original code:
    that one counts Session IO (`self.db.query()` too) in an `__init__` and follows
    `super().__init__(db)`; this one reads the parameter declared AsyncSession in any plain
    `def` (or declared with a TypeVar: `Repository[AsyncSession]`), and any call on it counts,
    whatever the method."""
    if param is None or fid in seen:
        return False
    # `session: SessionT` in a base generic over the session type: the async subclass binds it
    if after.declared_async_session(param) is None and not declared_type_var(after, param):
        return False
    name = param.name
    _, callee = after.functions[fid]
    built: dict[int, list[tuple[FunctionId, str]]] = {}  # call index -> the `__init__`s it runs
    for edge in after.all_calls_from[fid]:
        if after.functions[edge.callee][1].name == "__init__":
            built.setdefault(edge.call.index, []).extend(
                (edge.callee, param_name) for param_name in after._session_args(edge.call, edge.callee, {name})
            )
    for c in callee.calls:
        if c.receiver == name:
            return False
        if not any(a.name == name for a in c.args):
            continue
        # `super().__init__(session)` hands it to the base's `__init__`, whose own edge is checked.
        if (c.func or "").endswith(".__init__"):
            continue
        constructed = built.get(c.index)
        if not constructed or not all(
            _only_stored(after, init, _param(after, init, param_name), seen | {fid})
            for init, param_name in constructed
        ):
            return False
    return True


def _param(after: Project, fid: FunctionId, name: str) -> facts.Param | None:
    return next((p for p in after.functions[fid][1].params if p.name == name), None)


def _held_async(after: Project, fid: FunctionId) -> set[str]:
    """`$self.db` for each attribute of the method's class that `__init__` sets from a parameter
    declared AsyncSession."""
    classes = after.flow.classes
    owner = classes.owner(fid)
    _, function = after.functions[fid]
    if owner is None or not function.params:
        return set()
    first = function.params[0].name
    found: set[str] = set()
    # The attribute may be set by a base's `__init__` (`super().__init__(session)`).
    for cls in classes.mro(owner):
        init = classes.methods.get(cls, {}).get("__init__")
        if init is None:
            continue
        declared = set(after.declared_async_session_params(init))
        found.update(
            f"${first}.{attribute}"
            for (ref, attribute), assigned in classes.assigned.items() if ref == cls
            for source, expression in assigned
            if source == init and expression.lstrip("$") in declared
        )
    return found


def _wrapped(function: facts.Function, call: facts.Call, project: Project) -> bool:
    """`create_task(f())`, `gather(f(), g())`, `tg.start_soon(...)`: the coroutine is handed on."""
    return scheduled.scheduler(project, function, call) is not None


def _awaited_for_scheduler(after: Project, fid: FunctionId, original: FunctionId, before: Project) -> list[Violation]:
    """`gather(await f())`, `create_task(await f())`: the scheduler gets the coroutine's result,
    not a coroutine, and raises TypeError on every call."""
    _, function = after.functions[fid]
    found: list[Violation] = []
    for call in function.calls:
        outer = scheduled.scheduler(after, function, call) if call.awaited else None
        if outer is None:
            continue
        where = original_line(before, original, function, call.line, call)
        found.append(_violation(before, original, f"{_label(before, original, function)}: awaits a call it hands to "
                                f"`{scheduled.written(outer)}()`, which needs the coroutine itself", where))
    return found


def _concurrent(after: Project, fid: FunctionId, original: FunctionId, before: Project) -> list[Violation]:
    """A coroutine given the AsyncSession run beside the request's own work (`scheduled.handoffs`)."""
    _, function = after.functions[fid]
    names = before.session_names(original) | set(after.declared_async_session_params(fid))
    found = [
        _violation(before, original, f"{_label(before, original, function)}: {message}",
                   original_line(before, original, function, call.line, call))
        for call, message in scheduled.handoffs(after, fid, names)
    ]
    for call in function.calls:
        for written, target in scheduled.handed_functions(after, fid, call):
            paths = tuple(f"{path}." for path in _held_async(after, target))
            if paths and any((c.func or "").startswith(paths) for c in after.functions[target][1].calls):
                found.append(_violation(
                    before, original, f"{_label(before, original, function)}: hands `{written}`, working on the AsyncSession its "
                    f"instance holds, uncalled to `{scheduled.written(call)}()`, which runs it beside the rest of "
                    "the request: concurrent use of one AsyncSession",
                    original_line(before, original, function, call.line, call)))
                break
    return found


def _unawaited_callers(
    before: Project, after: Project, checked: dict[FunctionId, FunctionId]
) -> list[Violation]:
    """Calls of project coroutines without `await`: in migrated code, and anywhere of a function
    the rewrite made a coroutine."""
    became_async = {
        fid for fid, (_, function) in after.functions.items()
        if function.is_async and (fid not in before.functions or not before.functions[fid][1].is_async)
    }
    found: list[Violation] = []
    if not checked and not became_async:
        # Every edge is passed over below: the call graph of the rewritten project, a fixpoint over
        # every function (a round of phase two that migrates nothing), is not worth building.
        return found
    # Methods made coroutines are called through instances, `self` and `super()`: the value
    # flow's object edges find those calls. Not a function handed uncalled to what calls it in place
    # (`list(map(self.save, names))`): the routes reaching one are blocked (`closure._handed_in_place`,
    # `_handed_held_methods`), and a class's copy keeps such a method no migrated route calls.
    in_place = {id(edge.call) for edge in after.in_place_edges}
    for edge in (*after.edges, *after.object_edges):
        callee_module, callee = after.functions[edge.callee]
        if not callee.is_async or edge.call.awaited or edge.call.offloaded or id(edge.call) in in_place:
            continue
        if callee.is_generator:
            continue  # an async generator (an `@asynccontextmanager` twin): its call makes no coroutine
        if edge.caller not in checked and edge.callee not in became_async:
            continue
        if may_be_plain(after, edge.caller, edge.call):
            continue  # `getattr(crud, name)(db)`: the synchronous original, also still there, may be meant
        caller_module, caller = after.functions[edge.caller]
        if _wrapped(caller, edge.call, after) or _entered_async(caller, edge.call, callee):
            continue
        if edge.call.nested and edge.callee not in became_async:
            continue
        blamed = edge.caller if edge.caller in checked else edge.callee
        name = f"{callee_module.name}.{_label(before, checked.get(edge.callee, edge.callee), callee)}"
        caller_name = f"{caller_module.name}.{_label(before, checked.get(edge.caller, edge.caller), caller)}"
        message = f"{caller_name} calls the coroutine function {name} without `await`"
        outer = next((c for c in caller.calls if c.index == edge.call.argument_of), None)
        if outer is not None:
            # `fire(f(db))`: something runs it, maybe (a wrapper scheduling it), after the request or
            # beside it; what it does with the coroutine is not followed.
            message += (f" and hands the coroutine to `{scheduled.written(outer)}()`, which the analysis does not "
                        "follow: it may run it after the request or beside it")
        elif edge.callee not in became_async:
            # The rewrite only adds awaits: a coroutine function that was one already, called
            # bare, is the original code's own bug, which migrating would carry over silently.
            message += (" (the code before phase two does so too, so nothing in it runs: await it or drop "
                        "the call, then run phase two again)")
        # The line is the call's, in the caller (a caller outside the closure keeps its key).
        where = original_line(before, checked.get(edge.caller, edge.caller), caller, edge.call.line, edge.call)
        found.append(_violation(before, checked.get(blamed, blamed), message, where))
    return found


def _entered_async(caller: facts.Function, call: facts.Call, callee: facts.Function) -> bool:
    """`async with UnitOfWork() as uow:`: the construction's edges to `__aenter__`/`__aexit__`,
    which the statement awaits."""
    return callee.name in ("__aenter__", "__aexit__") and call.func is None and (call.line, "async with") in caller.awaits


def _label(before: Project, original: FunctionId, rewritten: facts.Function) -> str:
    """The rewritten function's name, and the original's where the rewrite wrote a copy under
    another name (`UnitOfWorkAsync.__aexit__`, which the user's code does not hold): the reason
    must name the code the user wrote."""
    if original in before.functions:
        source = before.functions[original][1]
        if source.qualname != rewritten.qualname:
            return f"{rewritten.qualname} (phase two's async version of {source.qualname})"
    return rewritten.qualname


def _violation(
    before: Project, original: FunctionId, message: str, where: tuple[str, int] | None = None
) -> Violation:
    """`where` (file, line in the original source) names the offending call; else the function's line."""
    if where is not None:
        return Violation(original, where[0], where[1], message)
    if original in before.functions:
        module, function = before.functions[original]
        return Violation(original, module.path, function.line, message)
    return Violation(original, "", 0, message)


def original_line(
    before: Project, original: FunctionId, rewritten: facts.Function, line: int, call: facts.Call | None = None
) -> tuple[str, int] | None:
    """Where a line of a rewritten function stands in the original source: (file, line).

    The rewrite keeps a function's body line for line (awaits and renames stay on their
    line) but moves the function (imports added above it, a twin placed after its
    original), so the line keeps its offset from the `def`. When `call` is given, the
    original function's call of the same method or callee nearest to that line is taken,
    which also survives a rewrite that re-flowed a statement. None when the original is
    unknown.
    """
    if original not in before.functions:
        return None
    module, function = before.functions[original]
    guess = function.line + (line - rewritten.line)
    if call is not None:
        same = [
            c.line for c in function.calls
            if (call.method is not None and c.method == call.method and c.receiver == call.receiver)
            or (call.method is None and call.callee is not None and c.callee is not None
                and c.callee.rsplit(".", 1)[-1] == call.callee.rsplit(".", 1)[-1])
        ]
        if same:
            guess = min(same, key=lambda candidate: (abs(candidate - guess), candidate))
    return module.path, guess


def _two_sessions(before: Project, after: Project, route: FunctionId) -> list[Violation]:
    handler = next((h for h in after.handlers if h.id == route), None)
    if handler is None:
        return []
    _, function = after.functions[route]
    found = []
    # A method of a class-based view holding the AsyncSession: the dependencies of the view's
    # `__init__` (the class attributes under `@cbv`), which FastAPI builds for the route, are its too.
    view = after.flow.classes.owner(route)
    init = after.flow.classes.methods.get(view or "", {}).get("__init__")
    if init is not None and after.declared_async_session_params(init):
        for shared in dependencies.view_session_dependencies(after, init):
            text = f"{dependencies.describe_sync(after, shared)}, through {after.functions[init][1].qualname}"
            found.append(_violation(before, route, f"{function.qualname}: {text} besides the AsyncSession: "
                                    "two Sessions per request"))
    if not after.declared_async_session_params(route) and not _async_in_tree(after, handler):
        return found
    for param in function.params:
        if after.declared_session(param) is not None:
            found.append(_violation(before, route, f"{function.qualname}: takes a synchronous Session "
                                    f"(`{param.name}`) besides the AsyncSession: two Sessions per request"))
    described = []
    for shared in dependencies.session_dependencies_in_tree(after, handler):
        # one the route and its router both reach is found twice, with the same chain
        if (text := dependencies.describe(after, shared)) not in described:
            described.append(text)
            found.append(_violation(before, route, f"{function.qualname}: {text}"))
    return found


def _async_in_tree(after: Project, handler: Handler) -> bool:
    """Whether a dependency below the route takes the AsyncSession (`get_repo` building a
    repository on it)."""
    return any(after.declared_async_session_params(fid) for fid in dependencies.dependency_tree(after, handler))
