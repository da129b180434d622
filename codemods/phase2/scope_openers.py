"""`@contextmanager` Session openers (`with session_scope() as s:`): which get an async twin.

An `@asynccontextmanager async def` opener of a synchronous Session (`async with session_scope()
as s:`, its commit and close still blocking the loop) is read the same way and gets the same twin;
its callers already enter it with `async with`, so only the name they enter changes.

An opener whose body is only the lifecycle of a Session it opens from a sessionmaker
(`astcollect/lifecycle.py`), a new one on each entry (not the one a `scoped_session` registry
shares across the request or thread, `Project.shared_open`), gets an `@asynccontextmanager async def <name>_async()` twin beside
it (named as every twin is, `twins.py`), opening from the async sessionmaker and awaiting those
calls as any migrated function does (Before/After: `twinnable`). Anything else keeps the opener
synchronous and the routes entering it blocked (AM216), with the reason (`problem`,
`caller_problems`). A helper handed the caller's Session whose body is only that lifecycle
(`with transaction(db):`, `handed_twinnable`) gets such a twin too, taking the AsyncSession.
"""

from __future__ import annotations

from async_migrate.codemods.astcollect import lifecycle
from async_migrate.codemods.facts import Function, Module
from async_migrate.codemods.project import FunctionId, Project

CONTEXTMANAGER = "contextlib.contextmanager"
ASYNC_CONTEXTMANAGER = "contextlib.asynccontextmanager"
_ENTERED_BY = frozenset({CONTEXTMANAGER, ASYNC_CONTEXTMANAGER})
_ASYNC_ITERATORS = frozenset(
    f"{home}.{name}" for home in ("typing", "collections.abc", "typing_extensions")
    for name in ("AsyncIterator", "AsyncIterable", "AsyncGenerator")
)
_STANDARD_ITERATORS = frozenset(
    f"{home}.{name}" for home in ("typing", "collections.abc", "typing_extensions")
    for name in ("Iterator", "Iterable", "Generator")
)


def is_opener(project: Project, fid: FunctionId) -> bool:
    """A synchronous generator under `@contextmanager` (or an async one under
    `@asynccontextmanager`) that opens or yields a synchronous Session."""
    _, function = project.functions[fid]
    return (
        function.is_generator and function.is_async == _async_entered(project, function)
        and entered_by_code(project, fid)
        and bool(project.opens_directly(fid) or project.session_names(fid) & set(function.yields))
    )


def twinnable(project: Project) -> frozenset[FunctionId]:
    """Every opener of the project that gets an async twin where a migrated caller enters it.

    Before:

        @contextmanager
        def session_scope() -> Iterator[Session]:
            session = SessionLocal()
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise
            finally:
                session.close()

    After (beside it):

        @asynccontextmanager
        async def session_scope_async() -> AsyncIterator[AsyncSession]:
            session = AsyncSessionLocal()
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise
            finally:
                await session.close()

    A migrated caller's `with session_scope() as s:` becomes `async with session_scope_async() as
    s:` (`rewrites/project_calls.py`), and `s` is a Session of that caller
    (`Project.take_opener_twins`). Code that stays synchronous keeps entering the original.
    """
    return frozenset(fid for fid in project.functions if is_opener(project, fid) and problem(project, fid) is None)


def problem(project: Project, fid: FunctionId) -> str | None:
    """Why phase two writes no async twin of the opener `fid` (None: it does): other statements in
    its body, parameters, a Session handed in, decorators beside `@contextmanager`, a Session
    opened from what is no sessionmaker. The routes entering it stay blocked (AM216) with it."""
    module, function = project.functions[fid]
    others = [d.text for d in function.decorators if project.canonical(d.callee) not in _ENTERED_BY]
    if others:
        return (f"it is decorated with `@{others[0].lstrip('@')}` as well, which phase two cannot tell works "
                "around an async twin")
    if function.params:
        handed = [p.name for p in function.params if p.name in project.session_params[fid]]
        if handed:
            return (f"it is handed a Session (`{handed[0]}`) instead of opening one: its twin would have to be "
                    "handed the AsyncSession by every caller")
        return (f"it takes parameters ({', '.join(f'`{p.name}`' for p in function.params)}), which phase two "
                "does not carry into an async twin")
    if function.lifecycle is None or function.lifecycle:
        what = function.lifecycle or "a body phase two did not read"
        lines = {o.line for o in function.opens} | {o.line for o in project.opens_directly(fid)}
        return f"{lifecycle.describe(what, lines)}, which phase two does not carry into an async twin"
    opened = project.opens_directly(fid)
    strange = [o for o in function.opens if o not in opened]
    if strange:
        callee = strange[0].callee.rpartition(".")[2]
        return f"it opens its Session with `{callee}()`, which is no sessionmaker the async stack stands for"
    if not opened:
        # `session = SESSION`, `app.state.db`, `current.get()`: a Session other code holds too
        return ("it yields a Session it does not open from a sessionmaker (a module global, an attribute, a "
                "context variable), which other code may share: a twin opening a new AsyncSession would not")
    shared = project.shared_open(fid)
    if shared is not None:
        # An async twin opening a new AsyncSession on each entry would split what one Session did: a
        # nested scope would no longer see the rows its caller flushed, nor the caller's objects.
        return (f"it takes no new Session: {shared}; a twin opening a new AsyncSession on each entry would "
                "split that Session (a nested scope would not see what its caller flushed)")
    if not set(function.yields) <= {o.name for o in opened}:
        return "it yields something other than the Session it opens"
    return _twin_shape_problem(project, module, function)


def handed_twinnable(project: Project) -> frozenset[FunctionId]:
    """Every `@contextmanager` helper its callers hand their Session that gets an async twin
    where a migrated caller enters it (`handed_problem` None).

    Before:

        @contextmanager
        def transaction(session: Session) -> Iterator[Session]:
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise

    After (beside it):

        @asynccontextmanager
        async def transaction_async(session: AsyncSession) -> AsyncIterator[AsyncSession]:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    A migrated caller's `with transaction(db):` becomes `async with transaction_async(db):`
    (`rewrites/project_calls.py`); code that stays synchronous keeps entering the original."""
    return frozenset(
        fid for fid, (_, function) in project.functions.items()
        if function.handed_lifecycle is not None and handed_problem(project, fid) is None
    )


def handed_problem(project: Project, fid: FunctionId) -> str | None:
    """Why phase two writes no async twin of `fid`, a `@contextmanager` generator handed the
    caller's Session (None: it does): a body doing more than yield that Session and commit, roll
    back, flush or close it; another decorator; a wrapping by `contextmanager(f)`; a return
    annotation other than an iterator's. Not a helper handed a Session at all: the empty string."""
    module, function = project.functions[fid]
    if not function.is_generator or function.is_async or function.handed_lifecycle is None:
        return ""
    handed = project.session_params[fid]
    problem, used = function.handed_lifecycle
    if not used or not set(used) <= set(handed):
        return "" if not handed else (
            f"its body does more than yield the Session it is handed and commit, roll back, flush or close it "
            f"({problem or 'it yields or works on another parameter'}), which phase two does not carry into an "
            "async twin"
        )
    if problem:
        return (f"its body does more than yield the Session it is handed and commit, roll back, flush or close "
                f"it ({problem}), which phase two does not carry into an async twin")
    if "." in function.qualname:
        return "it is a method, not a module-level helper its callers enter"
    decorated = [project.canonical(d.callee) for d in function.decorators]
    if decorated != [CONTEXTMANAGER]:
        others = [d.text for d in function.decorators if project.canonical(d.callee) != CONTEXTMANAGER]
        if not others:
            return "it is wrapped as `contextmanager(f)` elsewhere, which phase two does not point at an async twin"
        return (f"it is decorated with `@{others[0].lstrip('@')}` as well, which phase two cannot tell works "
                "around an async twin")
    return _twin_shape_problem(project, module, function)


def async_opener(project: Project, ref: str | None) -> FunctionId | None:
    """The project `@asynccontextmanager async def` taking no parameters that `ref` names
    (`async with create_session_async() as session:` in an existing async dependency), or None:
    what that dependency yields is what it opens and commits."""
    target = project.resolve(ref) if ref is not None else None
    if target is None or target.kind != "function" or target.module is None or target.function is None:
        return None
    function = target.function
    fid = (target.module.name, function.key)
    if fid not in project.functions or function.params or not function.is_async or not function.is_generator:
        return None
    if [project.canonical(d.callee) for d in function.decorators] != [ASYNC_CONTEXTMANAGER]:
        return None
    return fid


def entered_by_code(project: Project, fid: FunctionId) -> bool:
    """A context manager's generator: under `@contextmanager` or `@asynccontextmanager`, or
    wrapped by a module-level `name = contextmanager(f)`. Code enters it; FastAPI never injects
    it (`Depends()` on the decorated function would hand the route the context manager)."""
    module, function = project.functions[fid]
    return any(project.canonical(d.callee) in _ENTERED_BY for d in function.decorators) or (
        wrapped_as(project, fid) is not None
    )


def _async_entered(project: Project, function: Function) -> bool:
    """Under `@asynccontextmanager`: entered with `async with` already, so its twin changes the
    Session, not how its callers enter it."""
    return any(project.canonical(d.callee) == ASYNC_CONTEXTMANAGER for d in function.decorators)


def wrapped_as(project: Project, fid: FunctionId) -> str | None:
    """`name` of a module-level `name = contextmanager(f)` wrapping `fid`, or None: its twin takes
    the name its callers enter, `session_scope_async()`, and the assignment stays for the code
    that stays synchronous."""
    module, function = project.functions[fid]
    if "." in function.qualname:
        return None
    for name, value in module.values.items():
        if (
            value.kind == "call" and project.canonical(value.ref) == CONTEXTMANAGER and value.args
            and value.args[0].keyword is None and value.args[0].text == function.name
        ):
            return name
    return None


def named(project: Project, ref: str) -> FunctionId | None:
    """The project function `ref` names, or the generator a module-level `name = contextmanager(f)`
    it names wraps (`unwrapped`); None for anything else."""
    target = project.resolve(ref)
    if target is not None and target.kind == "function" and target.module is not None and target.function is not None:
        fid: FunctionId | None = (target.module.name, target.function.key)
    else:
        fid = unwrapped(project, ref)
    return fid if fid is not None and fid in project.functions else None


def unwrapped(project: Project, ref: str | None) -> FunctionId | None:
    """The generator a module-level `name = contextmanager(f)` that `ref` names wraps, or None."""
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.module is None or target.value is None:
        return None
    value = target.value
    if value.kind != "call" or project.canonical(value.ref) != CONTEXTMANAGER or not value.args:
        return None
    fid = (target.module.name, value.args[0].text)
    return fid if fid in project.functions and wrapped_as(project, fid) is not None else None


def entered_name(project: Project, fid: FunctionId) -> str:
    """The name its callers enter an opener by: the wrapper's, or its own."""
    return wrapped_as(project, fid) or project.functions[fid][1].name


def caller_problems(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """Where `fid` calls an opener phase two twins other than as the one item of a `with ...
    as name:` (that `with` becomes `async with` on the twin), or a helper handed the Session it
    twins (`handed_twinnable`) other than as the one item of a `with` binding no name: (line, why)."""
    if not project.opener_twins and not project.handed_twins:
        return []
    _, function = project.functions[fid]
    found: list[tuple[int, str]] = []
    for edge in project.all_calls_from[fid] if project.handed_twins else ():
        if edge.callee not in project.handed_twins:
            continue
        if edge.call.index in function.entered_alone and not edge.call.nested and edge.call.func is None:
            continue
        name = project.functions[edge.callee][1].name
        found.append((edge.call.line, (
            f"calls `{name}()`, a `@contextmanager` helper handed the Session, other than as the one item of a "
            f"`with` binding no name (`with {name}(db):`, inside no nested function or lambda): only that "
            "statement becomes an `async with` on its async twin; write it so (inside the block, use the Session "
            "you hand it)"
        )))
    if not project.opener_twins:
        return found
    entered = project.entered_openers(fid)
    for edge in project.all_calls_from[fid]:
        if edge.callee not in project.opener_twins or edge.call.index in entered:
            continue
        name = project.functions[edge.callee][1].name
        beside = any(
            not o.alone and o.line == edge.call.line and project.function(o.callee) is not None
            and project.functions[edge.callee][1] is project.function(o.callee)[1]  # type: ignore[index]
            for o in function.opens
        )
        if edge.call.nested:
            why = (f"enters `{name}()` inside a nested function or lambda, which phase two leaves synchronous: its "
                   "async twin cannot be entered there; move that `with` into the function itself")
        elif beside:
            why = (f"enters `{name}()` beside other context managers in one `with` statement: its async twin is "
                   "entered with `async with`, which cannot enter the others; give it a `with` statement of its own")
        elif edge.call.func is not None:
            # `with self.session_maker() as s` for `self.session_maker = session_scope`: the `with`
            # has the right form, but names a value holding the opener, not the opener
            why = (f"opens `{name}()` through `{project.written(edge.call.func)}()`, a value holding it (an "
                   "attribute, a parameter, a local), which phase two cannot point at its async twin; enter the "
                   f"opener by its name (`with {name}() as s:`), or migrate by hand")
        else:
            why = (f"calls `{name}()` other than as `with {name}() as name:` (a value handed on, `enter_context(...)`, "
                   "a `with` binding no name), where phase two cannot enter its async twin with `async with`; "
                   "write it as that statement")
        found.append((edge.call.line, why))
    return found


def _twin_shape_problem(project: Project, module: Module, function: Function) -> str | None:
    """Why the async twin of the `@contextmanager` generator `function` of `module` cannot be
    written as `@asynccontextmanager async def` (None: it can): a return annotation other than an
    iterator's, or the module binding `asynccontextmanager` to something else."""
    iterators = _ASYNC_ITERATORS if function.is_async else _STANDARD_ITERATORS
    if function.returns and not {project.canonical(r) for r in function.returns} & iterators:
        return f"its return annotation (`{function.returns[0]}`) is not an `Iterator`/`Generator` phase two rewrites"
    bound = module.imports.get("asynccontextmanager")
    taken = bound is not None and project.canonical(bound) != ASYNC_CONTEXTMANAGER or (
        bound is None and ("asynccontextmanager" in module.values
                           or any(f.qualname == "asynccontextmanager" for f in module.functions))
    )
    if taken and not any(d.text.lstrip("@").startswith("contextlib.") for d in function.decorators):
        return "its module binds `asynccontextmanager` to something else, the name the twin's decorator needs"
    return None
