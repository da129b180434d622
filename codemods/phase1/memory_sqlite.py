"""Sessions on an in-memory SQLite database that SQLAlchemy keeps per thread (AM142).

`create_engine("sqlite://")` (or `"sqlite:///:memory:"`) without `poolclass=StaticPool` gets
SQLAlchemy's SingletonThreadPool: one connection per thread, and an in-memory database lives in
its connection, so each thread has a database of its own. While every route is `async def`, the
routes all run on the event loop's thread and share its database (the tables a lifespan created,
the rows earlier requests wrote). As `def`, each request runs in a worker thread of the
threadpool, which opens an empty database of its own. A route doing Session work on a Session
from such an engine stays `async def`; so does a dependency.

Read: module-level engines built by a `create_engine(...)` whose URL is a literal, a module-level
name bound once to one, `URL.create("sqlite", ...)` or `make_url("...")`; sessionmakers bound to
one (`sessionmaker(bind=engine)`, `bind=create_engine(...)` in place, `scoped_session(...)`
around one, `configure(bind=engine)` at module level outside the tests); a Session opened on one
(`Session(engine)`). An engine a project class's `__init__` builds from the URL its
parameter is handed (`self.engine = create_engine(url)` with `db = Database("sqlite://")` at
module level): that instance's engine (`db.engine`) and the sessionmaker its `__init__` binds
to it (`db.SessionLocal`). A URL the analysis cannot read (the environment, a settings object),
any other engine a function builds, or a poolclass= it cannot read is left alone: nothing says
the database is in memory.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import split
from async_migrate.codemods.held_makers import held, init_assignment
from async_migrate.codemods.phase2.drivers import is_memory_sqlite
from async_migrate.codemods.phase2.inline_engine import engine_call
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    PLAIN_SESSIONMAKERS,
    SCOPED_SESSION_MAKERS,
    URL_TYPES,
)

# The pool SQLAlchemy picks for an in-memory SQLite database, named or not.
SINGLETON_POOLS = frozenset(
    f"{module}.SingletonThreadPool" for module in ("sqlalchemy", "sqlalchemy.pool", "sqlalchemy.pool.impl")
)
_MAKE_URL = frozenset({"sqlalchemy.make_url", "sqlalchemy.engine.make_url", "sqlalchemy.engine.url.make_url"})
_DEPTH = 6  # helpers and dependencies deeper than this are not followed


@dataclass(frozen=True, slots=True)
class MemoryEngine:
    """An engine on an in-memory SQLite database kept per thread: where it is built, its URL as
    read, and how the handler's Session reaches it (`SessionLocal` at app/db.py:8)."""

    engine: str  # `engine` (app/db.py:5)
    url: str
    via: str = ""


def memory_engines(project: Project) -> dict[str, MemoryEngine]:
    """Module-level engines on an in-memory SQLite database kept per thread, by canonical reference."""
    cached = project.derived.get("phase1.memory_engines")
    if cached is None:
        found: dict[str, MemoryEngine] = {}
        for module in project.modules.values():
            for call in module.engines:
                if call.scope is not None or call.target is None:
                    continue
                if project.canonical(call.callee) not in SYNC_ENGINE_CONSTRUCTORS:
                    continue
                url = _per_thread_memory(project, module, list(call.args))
                ref = project.canonical(f"{module.name}.{call.target}") or f"{module.name}.{call.target}"
                if url is not None and ref not in found:
                    found[ref] = MemoryEngine(f"`{call.target}` ({module.path}:{call.line})", url)
        for ref, engine in _instances(project)[0].items():
            found.setdefault(ref, engine)
        cached = project.derived["phase1.memory_engines"] = found
    return cached  # type: ignore[return-value]


def memory_makers(project: Project) -> dict[str, MemoryEngine]:
    """Module-level sessionmakers (and scoped_sessions around one) bound to such an engine."""
    cached = project.derived.get("phase1.memory_makers")
    if cached is None:
        found: dict[str, MemoryEngine] = {}
        for module in project.modules.values():
            for name, value in module.values.items():
                if value.kind != "call":
                    continue
                maker = value
                if project.canonical(value.ref) in SCOPED_SESSION_MAKERS and value.inner is not None:
                    maker = value.inner
                if project.canonical(maker.ref) not in PLAIN_SESSIONMAKERS:
                    continue
                ref = project.canonical(f"{module.name}.{name}") or f"{module.name}.{name}"
                binds = [(module, _bind(maker.args), value.line)]
                binds += [(project.modules.get(c.module, module), _bind(c.args), c.line) for c in _configures(project, ref)]
                for home, bind, line in binds:
                    engine = _engine(project, home, bind, line)
                    if engine is not None:
                        found[ref] = MemoryEngine(engine.engine, engine.url, f"`{name}` ({module.path}:{value.line})")
                        break
        for ref, engine in _instances(project)[1].items():
            found.setdefault(ref, engine)
        cached = project.derived["phase1.memory_makers"] = found
    return cached  # type: ignore[return-value]


def _instances(project: Project) -> tuple[dict[str, MemoryEngine], dict[str, MemoryEngine]]:
    """The engines and sessionmakers module-level instances of project classes hold on an
    in-memory SQLite database kept per thread, by reference (`app.db.engine`, `app.db.SessionLocal`):
    `db = Database("sqlite://")` whose `__init__` builds its one engine from the parameter given
    that URL, kept in `self.engine` or bound in place by the one sessionmaker it builds."""
    cached = project.derived.get("phase1.memory_instances")
    if cached is not None:
        return cached  # type: ignore[return-value]
    engines: dict[str, MemoryEngine] = {}
    makers: dict[str, MemoryEngine] = {}
    classes = project_classes(project)
    for module in project.modules.values():
        for instance, value in module.values.items():
            cls = classes.resolve(value.ref) if value.kind == "call" else None
            init = next((classes.methods[c]["__init__"] for c in classes.mro(cls) if "__init__" in classes.methods.get(c, {})), None) \
                if cls is not None else None
            if cls is None or init is None:
                continue
            home, function = project.functions[init]
            built = [c for c in home.engines if c.scope == function.key]
            if len(built) != 1 or built[0].conditional or project.canonical(built[0].callee) not in SYNC_ENGINE_CONSTRUCTORS:
                continue
            url = _handed_url(project, module, value, function, built[0])
            if url is None:
                continue
            where = f"({module.path}:{value.line})"
            attributes = [a for a, e in function.assigns if _made_by(project, e, SYNC_ENGINE_CONSTRUCTORS)]
            assigned = init_assignment(project, cls, attributes[0]) if len(attributes) == 1 else None
            attribute = attributes[0] if assigned is not None and assigned[0] == init else None
            engine = MemoryEngine(
                f"`{instance}.{attribute}` {where}" if attribute else f"`{instance}` {where} builds", url
            )
            if attribute is not None:
                engines[f"{module.name}.{instance}.{attribute}"] = engine
            bound = _bound_maker(project, function, attribute, built[0].line)
            for name, _ in function.assigns:
                maker = held(project, f"{module.name}.{instance}.{name}") if bound else None
                if maker is not None and maker.init == init:
                    makers[maker.ref] = MemoryEngine(engine.engine, url, f"`{maker.written}` {where}")
    # `SessionLocal = db.SessionLocal`, `engine = db.engine`: module-level names for what the instance holds
    for module in project.modules.values():
        for name, value in module.values.items():
            for table in (engines, makers):
                if value.kind == "name" and value.ref in table:
                    table.setdefault(f"{module.name}.{name}", table[value.ref])
    project.derived["phase1.memory_instances"] = (engines, makers)
    return engines, makers


def _made_by(project: Project, expression: str, callees: frozenset[str]) -> bool:
    head, steps = split(expression)
    return steps == ("()",) and project.canonical(head) in callees


def _bound_maker(project: Project, function: facts.Function, attribute: str | None, line: int) -> bool:
    """Whether the one sessionmaker the `__init__` builds is bound to its engine: `bind=self.<attribute>`,
    or the engine built in place (`sessionmaker(bind=create_engine(url))`, on the engine's line)."""
    made = [c for c in function.calls if project.canonical(c.callee) in PLAIN_SESSIONMAKERS]
    if len(made) != 1:
        return False
    bind = next((a for a in made[0].args if a.keyword == "bind"), None) or next(
        (a for a in made[0].args if a.position == 0), None
    )
    if bind is None:
        return False
    if attribute is not None and bind.expr == f"$self.{attribute}":
        return True
    return bind.name is None and bind.expr is None and bind.ref is None and made[0].line == line


def _handed_url(
    project: Project, module: facts.Module, value: facts.Value, init: facts.Function, built: facts.EngineCall
) -> str | None:
    """The in-memory URL, as read, that the module-level construction `value` hands the `__init__`
    parameter its engine is built from (`create_engine(url)`, `url` not used before: so not bound
    again), by position, keyword, or the parameter's string default; None where it is not one or
    cannot be read."""
    url = _url_argument(project, list(built.args))
    names = [p.name for p in init.params]
    if url is None or not url.local or url.text not in names[1:] or min(init.name_uses.get(url.text, [0])) < built.line:
        return None
    index = names.index(url.text)
    if init.params[index].variadic or any(a.keyword in ("*", "**") for a in value.args):
        return None
    positional = [a for a in value.args if a.keyword is None]
    given = next((a for a in value.args if a.keyword == url.text), None)
    if given is None and index - 1 < len(positional):
        given = positional[index - 1]
    if given is None:
        default = init.params[index].literal
        given = facts.CallArg(None, repr(default)) if isinstance(default, str) else None
    read = _memory_url(project, module, given) if given is not None else None
    owner = project.canonical(value.ref) or value.ref or ""
    return f"{read}, handed to `{owner.rpartition('.')[2]}(...)` as `{url.text}`" if read is not None else None


def handler_memory_engine(project: Project, handler: Handler) -> MemoryEngine | None:
    """The first such engine a Session the handler, its dependencies or the helpers they call
    open comes from; None when there is none."""
    if not memory_engines(project) and not memory_makers(project):
        return None
    from async_migrate.codemods.phase2.dependencies import (
        dependency_function,
        route_dependencies,
    )

    seen: set[FunctionId] = set()
    pending: list[tuple[FunctionId, int]] = [(handler.id, 0)]
    extra = [dependency_function(project, ref) for ref in route_dependencies(project, handler)]
    pending += [(fid, 1) for fid in extra if fid is not None]
    while pending:
        fid, depth = pending.pop(0)
        if fid in seen or depth > _DEPTH:
            continue
        seen.add(fid)
        found = _opened(project, fid)
        if found is not None:
            return found
        module, function = project.functions[fid]
        for param in function.params:
            dependency = dependency_function(project, project.param_dependency(param))
            if dependency is not None:
                pending.append((dependency, depth + 1))
        pending += [(edge.callee, depth + 1) for edge in project.all_calls_from[fid]]
    return None


def _opened(project: Project, fid: FunctionId) -> MemoryEngine | None:
    """The first Session the function opens from a memory maker, or on a memory engine."""
    module, function = project.functions[fid]
    makers = memory_makers(project)
    engines = memory_engines(project)
    calls = {call.index: call for call in function.calls}
    for opened in function.opens:
        callee = opened.callee.removesuffix(".begin")
        canonical = project.canonical(callee) or callee
        where = f"{module.path}:{opened.line}"
        if canonical in makers:
            found = makers[canonical]
            return MemoryEngine(found.engine, found.url, f"{found.via}, opened at {where}")
        if not project.is_sync_session_type(callee):
            continue
        call = calls.get(opened.index) or next(
            (c for c in function.calls if c.line == opened.line and c.callee == opened.callee), None
        )
        first = next((a for a in call.args if a.position == 0 or a.keyword == "bind"), None) if call else None
        written = first.ref or (module.imports.get(first.name, f"{module.name}.{first.name}") if first.name else None) \
            if first is not None and first.name not in _locals(function) else None
        ref = project.canonical(written) if written else None
        if ref in engines:
            return MemoryEngine(engines[ref].engine, engines[ref].url, f"`{opened.callee.rpartition('.')[2]}(...)` at {where}")
    return None


def _locals(function: facts.Function) -> set[str]:
    return {p.name for p in function.params} | {b.name for b in function.bindings}


@dataclass(frozen=True, slots=True)
class _Configure:
    module: str
    args: tuple[facts.CallArg, ...]
    line: int


def _configures(project: Project, ref: str) -> list[_Configure]:
    """The module-level `configure(...)` calls of the sessionmaker `ref`, each with the module
    making it: not the tests' (a conftest binding the application's sessionmaker to a test engine),
    nor one a function makes when it runs."""
    return [
        _Configure(module.name, c.args, c.line)
        for module in project.modules.values() if not is_test_path(module.path)
        for c in module.configures if c.scope is None and project.canonical(c.target) == ref
    ]


def _bind(args: tuple[facts.CallArg, ...] | list[facts.CallArg]) -> facts.CallArg | None:
    """The engine a sessionmaker(...) or configure(...) call is handed: bind=, or the first positional."""
    for arg in args:
        if arg.keyword == "bind":
            return arg
    return next((a for a in args if a.keyword is None), None)


def _engine(project: Project, module: facts.Module, bind: facts.CallArg | None, line: int) -> MemoryEngine | None:
    """The memory engine `bind` names, or builds in place (`bind=create_engine("sqlite://")`)."""
    if bind is None:
        return None
    if bind.ref is not None:
        return memory_engines(project).get(project.canonical(bind.ref) or bind.ref)
    read = engine_call(project, module, bind)
    url = _per_thread_memory(project, module, read[1]) if read is not None else None
    return MemoryEngine(f"`{bind.text}` ({module.path}:{line})", url) if url is not None else None


def _per_thread_memory(project: Project, module: facts.Module, args: list[facts.CallArg]) -> str | None:
    """The URL, as read, of a create_engine(...) call given `args` that opens an in-memory SQLite
    database on SQLAlchemy's SingletonThreadPool (no poolclass=, or that one named); else None."""
    url = _url_argument(project, args)
    return _memory_url(project, module, url) if url is not None else None


def _url_argument(project: Project, args: list[facts.CallArg]) -> facts.CallArg | None:
    """The URL argument of a create_engine(...) call given `args` on SQLAlchemy's
    SingletonThreadPool (no poolclass=, or that one named); else None."""
    if any(a.keyword in ("*", "**") for a in args):
        return None  # the pool or the URL may be in what is unpacked
    pool = next((a for a in args if a.keyword == "poolclass"), None)
    if pool is not None and project.canonical(pool.ref) not in SINGLETON_POOLS:
        return None  # StaticPool shares one connection; any other pool changes nothing a thread sees
    return next((a for a in args if a.keyword in (None, "url", "name_or_url")), None)


def _memory_url(project: Project, module: facts.Module, arg: facts.CallArg) -> str | None:
    """The URL `arg` gives when it names an in-memory SQLite database, as read: a literal, a
    module-level name bound once to one, `make_url("...")` or `URL.create("sqlite", ...)`."""
    node = _parse(arg.text)
    if type(node) is ast.Constant:
        return arg.text if isinstance(node.value, str) and is_memory_sqlite(node.value) else None
    if arg.ref is not None:
        canonical = project.canonical(arg.ref) or arg.ref
        home, _, name = canonical.rpartition(".")
        held = project.modules[home].urls.get(name, "") if home in project.modules else ""
        return f'{arg.text} = "{held}"' if held and is_memory_sqlite(held) else None
    if type(node) is not ast.Call:
        return None
    written = dotted(node.func)
    callee = project.canonical(f"{module.name}.{written}") if written is not None else None
    if callee in _MAKE_URL and len(node.args) == 1 and type(node.args[0]) is ast.Constant:
        literal = node.args[0].value
        return arg.text if isinstance(literal, str) and is_memory_sqlite(literal) else None
    owner, _, method = (callee or "").rpartition(".")
    if owner not in URL_TYPES or method != "create":
        return None
    given = {k.arg: k.value for k in node.keywords if k.arg}
    driver = node.args[0] if node.args else given.get("drivername")
    if type(driver) is not ast.Constant or not isinstance(driver.value, str) or not driver.value.startswith("sqlite"):
        return None
    if any(k.arg is None for k in node.keywords) or len(node.args) > 1:
        return None
    database = given.get("database")
    if database is None or (type(database) is ast.Constant and database.value in (None, "", ":memory:")):
        return arg.text
    return None


def _parse(text: str) -> ast.expr | None:
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        return None

