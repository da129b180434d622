"""The async stack beside a sessionmaker the application keeps on its state, set in a lifespan.

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = create_engine(settings.url, pool_pre_ping=True)
        app.state.SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
        yield
        engine.dispose()

    def get_db(request: Request):
        with request.app.state.SessionLocal() as db:
            yield db

gets, in the same style: `app.state.async_engine = create_async_engine(_async_url(engine.url),
pool_pre_ping=True)` and `app.state.async_SessionLocal = async_sessionmaker(app.state.async_engine,
expire_on_commit=False)` after the sessionmaker's assignment, `await app.state.async_engine.dispose()`
after the `yield` (first in its `finally:` when the yield sits in a `try`), and beside `get_db`
an `async def` dependency with the same connection parameter opening
`request.app.state.async_SessionLocal()`. The engine and sessionmaker keywords go through the
policy of a module-level stack (`engine_options`).

`plan` says why not, in a sentence, for every other shape: the sessionmaker set in a startup
handler or an application factory (no shutdown place to dispose of the async engine), at import,
more than once, from something other than a `sessionmaker(...)` call, bound to an engine not
built in the lifespan as a local, or with a keyword whose async meaning phase two cannot vouch for.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2 import engine_options, stack_extras
from async_migrate.codemods.phase2.stack_plan import Build, EngineBuild, Found, StackPlan
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS, SESSION_CARRIED

# What a lifespan's `sessionmaker(...)` may be given for the async one to stand for it: the
# engine, and the keywords carried as written or decided by phase two (expire_on_commit); a
# project Query class (`query_cls=`) changes what the legacy chains do, which is not followed here.
_SESSION_KEYWORDS = frozenset({"bind", "expire_on_commit", *SESSION_CARRIED}) - {"query_cls"}


@dataclass(frozen=True, slots=True)
class LifespanEdit:
    """What `AddStateStack` adds inside the lifespan `function` (a module-level `async def`)."""

    function: str
    head: str  # the application as the lifespan names it (`app`)
    attribute: str  # the synchronous sessionmaker's state attribute
    bind: str  # the synchronous engine, as the lifespan names it
    engine: str  # the async engine's state attribute
    sessionmaker: str  # the async sessionmaker's state attribute
    url_helper: str = "_async_url"
    engine_kwargs: tuple[tuple[str, str], ...] = ()
    runtime_options: bool = False
    session_kwargs: tuple[tuple[str, str], ...] = ()
    session_class: str | None = None


@dataclass(frozen=True, slots=True)
class DependencyEdit:
    """The async dependency `AddStateStack` adds after the synchronous dependency `after`."""

    after: str
    name: str
    connection: str  # the connection parameter, `request`
    annotation: str  # its annotation as the synchronous dependency writes it
    sessionmaker: str  # the async sessionmaker's state attribute
    commit: bool = False
    session_class: str | None = None
    configure_mappers: bool = False  # as `stack_plan.EngineEdit.configure_mappers`


@dataclass(frozen=True, slots=True)
class Planned:
    """The state stack to write: per path, what goes there; and the async dependency's home."""

    edits: dict[str, tuple[str, LifespanEdit | None, DependencyEdit | None]]  # path -> (module, ...)
    dependency_module: facts.Module
    engine: str  # `app.state.async_engine`, as a fixture would dispose of it


def plan(
    project: Project, texts: stack_extras.Texts, stack: StackPlan, config: Config, opener: FunctionId, state: str,
    commit: bool, session_class: str | None, read: Callable[[str], str] | None, url_helper: str,
) -> Planned | str:
    """The state stack for the session dependency `opener` opening `state`
    (`request.app.state.SessionLocal`), or why phase two does not write it (a clause completing
    "phase two generates it only ..."). Engine and sessionmaker blockers go to `stack.blockers`."""
    connection, _, attribute = state.partition(".app.state.")
    if not attribute or "." in attribute or "." in connection:
        return f"where the dependency opens `<connection>.app.state.<name>()`, not `{state}()`"
    flow = project.flow
    assigned = [
        (fid, head, line) for fid, head, _, line in flow.state_assignments().get(attribute, [])
        if not is_test_path(project.functions[fid][0].path)
    ]
    at_import = [path for path, _, _ in flow.module_state_assignments().get(attribute, []) if not is_test_path(path)]
    if at_import or len(assigned) != 1:
        where = ", ".join(sorted({*at_import, *(f"{project.functions[f][0].path}:{line}" for f, _, line in assigned)}))
        return (
            f"where the application sets `app.state.{attribute}` once, in a lifespan (it is set "
            f"{'at import' if at_import else 'more than once' if assigned else 'nowhere phase two reads'}"
            f"{f': {where}' if where else ''})"
        )
    fid, _, line = assigned[0]
    module, function = project.functions[fid]
    found = stack_extras.function_node(texts, module, function)
    node = found[1] if found is not None else None
    read_module = texts.get(module.path)
    top = read_module is not None and node in read_module[1].body  # not in an `if` nor a class
    lifespan = isinstance(node, ast.AsyncFunctionDef) and top and any(
        (name_chain(d) or "").rsplit(".", 1)[-1] == "asynccontextmanager" for d in node.decorator_list
    )
    where = f"`{function.qualname}` ({module.path}:{function.line})"
    if not lifespan or not isinstance(node, ast.AsyncFunctionDef):
        return (
            f"where `app.state.{attribute}` is set in a module-level `@asynccontextmanager` lifespan, whose "
            f"`yield` marks the shutdown at which the async engine is disposed of: {where} is not one (a startup "
            "handler or an application factory has no such place)"
        )
    for name in (config.async_engine, f"async_{attribute}"):
        if flow.state_assignments().get(name) or flow.module_state_assignments().get(name):
            return f"while `app.state.{name}`, which it would set, is not set already"
    statement = _assignment(node, attribute, line)
    if statement is None or not isinstance(statement.value, ast.Call):
        return f"where {where} sets `app.state.{attribute}` as a statement of its own body to a `sessionmaker(...)` call"
    call = statement.value
    assert isinstance(statement.targets[0], ast.Attribute) and isinstance(statement.targets[0].value, ast.Attribute)
    assert isinstance(statement.targets[0].value.value, ast.Name)
    head = statement.targets[0].value.value.id
    callee = name_chain(call.func)
    if callee is None or project.canonical(stack_extras.absolute(module, callee)) not in PLAIN_SESSIONMAKERS:
        return f"where `app.state.{attribute}` is a `sessionmaker(...)` call, not `{ast.unparse(call.func)}(...)`"
    other = [k.arg or "**" for k in call.keywords if k.arg not in _SESSION_KEYWORDS] + (["*"] * (len(call.args) > 1))
    if other or any(isinstance(a, ast.Starred) for a in call.args):
        return (
            f"where the sessionmaker is given its engine and keywords it carries to the async one "
            f"({', '.join(sorted(_SESSION_KEYWORDS))}), not `{other[0] if other else '*'}`"
        )
    bind = next((k.value for k in call.keywords if k.arg == "bind"), call.args[0] if call.args else None)
    if not isinstance(bind, ast.Name):
        return "where the sessionmaker is bound to an engine the lifespan keeps in a local"
    engine = _engine_local(node, bind.id, statement)
    calls = [e for e in module.engines if e.scope == function.key and engine is not None and e.line == engine.lineno]
    if engine is None or len(calls) != 1 or project.canonical(calls[0].callee) not in SYNC_ENGINE_CONSTRUCTORS:
        return f"where `{bind.id}` is assigned once in {where}, from `create_engine(...)`, above the sessionmaker"
    if any((project.canonical(c.callee or "") or "").startswith("sqlalchemy.event") for c in function.calls):
        return f"where {where} registers no event listener (the async engine would run without it)"
    shutdown = _shutdown(node)
    if shutdown is not None and node.body.index(statement) > shutdown:
        return f"where {where} sets `app.state.{attribute}` before its `yield`"
    if shutdown is None:
        return f"where {where} yields once, as a statement of its body or of a `try:` with a `finally:`"
    params = {a.arg: a for a in _arguments(_dependency_node(texts, project, opener))}
    parameter = params.get(connection)
    if parameter is None or parameter.annotation is None:
        return f"where the dependency's `{connection}` parameter is annotated (FastAPI injects it by its type)"
    dependency_module, dependency = project.functions[opener]
    if "." in dependency.qualname:
        return f"where `{dependency.qualname}` is a module-level function"
    maker = Found(module, f"{head}.state.{attribute}", facts.Value(
        "call", statement.lineno, ref=stack_extras.absolute(module, callee), args=tuple(_call_args(node, call)),
    ))
    build = EngineBuild(Build.CALL, module.path, calls[0].line, function=f"{module.name}.{function.qualname}", calls=calls)
    engine_options.check_build(project, stack, build, maker)
    carried = engine_options.engine_kwargs(project, stack, build, maker, read)
    session_kwargs = engine_options.session_kwargs(project, stack, maker)
    engine_options.find_drivers(stack, build, maker, read)
    lifespan_edit = LifespanEdit(
        function.qualname, head, attribute, bind.id, config.async_engine, f"async_{attribute}", url_helper,
        tuple(carried), stack.runtime_options, session_kwargs, session_class,
    )
    dependency_edit = DependencyEdit(
        dependency.qualname, config.async_dependency, connection, ast.unparse(parameter.annotation),
        f"async_{attribute}", commit, session_class,
    )
    edits: dict[str, tuple[str, LifespanEdit | None, DependencyEdit | None]] = {
        module.path: (module.name, lifespan_edit, None)
    }
    name, mine, _ = edits.get(dependency_module.path, (dependency_module.name, None, None))
    edits[dependency_module.path] = (name, mine, dependency_edit)
    return Planned(edits, dependency_module, f"app.state.{config.async_engine}")


def _assignment(node: ast.AsyncFunctionDef, attribute: str, line: int) -> ast.Assign | None:
    for statement in node.body:
        if isinstance(statement, ast.Assign) and statement.lineno <= line <= (statement.end_lineno or line):
            [target] = statement.targets if len(statement.targets) == 1 else [None]
            if (
                isinstance(target, ast.Attribute) and target.attr == attribute
                and isinstance(target.value, ast.Attribute) and target.value.attr == "state"
                and isinstance(target.value.value, ast.Name)
            ):
                return statement
    return None


def _engine_local(node: ast.AsyncFunctionDef, name: str, before: ast.stmt) -> ast.Assign | None:
    """`name = create_engine(...)`, the one binding of `name` in the lifespan, above `before`."""
    bindings = [
        n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
    ]
    if len(bindings) != 1 or name in {a.arg for a in _arguments(node)}:
        return None
    for statement in node.body:
        if statement is before:
            return None
        if (
            isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name
            and isinstance(statement.value, ast.Call)
        ):
            return statement
    return None


def _shutdown(node: ast.AsyncFunctionDef) -> int | None:
    """The index in the body of the statement the shutdown starts at: a `yield` statement (the
    disposal goes after it), or a `try` whose body yields (first in its `finally:`); None for any
    other shape (more yields, a yield in an expression, under `async with`)."""
    yields = [n for n in ast.walk(node) if isinstance(n, (ast.Yield, ast.YieldFrom))]
    if len(yields) != 1:
        return None
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.Expr) and statement.value is yields[0]:
            return index
        if isinstance(statement, ast.Try) and statement.finalbody and any(
            isinstance(s, ast.Expr) and s.value is yields[0] for s in statement.body
        ):
            return index
    return None


def _dependency_node(texts: stack_extras.Texts, project: Project, fid: FunctionId) -> ast.AST | None:
    module, function = project.functions[fid]
    found = stack_extras.function_node(texts, module, function)
    return found[1] if found is not None else None


def _arguments(node: ast.AST | None) -> list[ast.arg]:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    return [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]


def _call_args(scope: ast.AsyncFunctionDef, call: ast.Call) -> list[facts.CallArg]:
    """The sessionmaker's arguments as the index keeps a module-level one's: `local` where they
    read a name the lifespan binds (the generated code sits beside them, in the same scope)."""
    written: list[tuple[str | None, ast.expr]] = [(None, a) for a in call.args]
    written += [(k.arg or "**", k.value) for k in call.keywords]
    found = []
    for keyword, expression in written:
        names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
        found.append(facts.CallArg(keyword, ast.unparse(expression), ref=name_chain(expression), local=bool(names)))
    return found
