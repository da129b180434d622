"""The engine-keyword policy: what of the synchronous engine and sessionmaker carries over to the
async ones, what blocks an async twin, which asyncio drivers it needs, and the
`async-engine-factory` setting that replaces all of it.

Notes go to `StackPlan.notes`, blockers to `StackPlan.blockers` (AM235-AM238, AM273, AM281).

Over 500 lines: one policy, keyword by keyword, so that what carries over and what blocks are
decided side by side and cannot drift apart.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import parse_any
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2 import drivers
from async_migrate.codemods.phase2.stack_plan import Build, Driver, EngineBuild, Found, StackPlan
from async_migrate.codemods.project import Project
from async_migrate.codemods.rules.am236_cloud_sql_connector import RULE as AM236
from async_migrate.codemods.rules.am237_sync_only_engine_argument import RULE as AM237
from async_migrate.codemods.rules.am238_no_async_driver import RULE as AM238
from async_migrate.codemods.rules.am273_in_memory_sqlite import RULE as AM273
from async_migrate.codemods.rules.am281_isolation_level_not_carried import RULE as AM281
from async_migrate.codemods.rules.am299_sessionmaker_keywords_unread import RULE as AM299
from async_migrate.codemods.rules.am341_engine_keyword_not_carried import RULE as AM341
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_POOLS,
    ENGINE_CARRIED,
    FROM_CONFIG,
    QUEUE_POOL_ONLY,
    SESSION_CARRIED,
    STATIC_POOLS,
)
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_SESSION_TYPES

CLOUD_CONNECTOR = "google.cloud.sql.connector"


def config_location(config: Config, key: str) -> tuple[str, int]:
    """The configuration file and the line that sets `key` (0 when it cannot be read)."""
    source = config.source
    if source is None:
        return "configuration", 0
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError:
        return str(source), 0
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if stripped.startswith((key, f'"{key}"', key.replace("-", "_"))) and "=" in stripped:
            return str(source), number
    return str(source), 0


def factory_problem(config: Config, read: Callable[[str], str]) -> str | None:
    """Why `async-engine-factory` names no function under the root (None: it names one).

    The module is read and parsed on its own: the pre-pass skips modules that mention
    nothing it looks for, and a factory module may be one of them.
    """
    ref = config.async_engine_factory
    if not ref:
        return None
    dotted = ref.replace(":", ".")
    module, _, name = dotted.rpartition(".")
    if not module or not name.isidentifier():
        return f"async-engine-factory `{ref}` must be a dotted reference to a function (`db.cloud.make_engine`)"
    base = module.replace(".", "/")
    for path in (f"{base}.py", f"{base}/__init__.py"):
        if not _readable(read, path):
            continue
        try:
            tree = parse_any(read(path), path)
        except SyntaxError:
            return f"async-engine-factory `{ref}`: `{path}` does not parse"
        if name in _top_level_names(tree):
            return None
        return f"async-engine-factory `{ref}`: `{path}` defines no `{name}`"
    return f"async-engine-factory `{ref}`: no module `{base}.py` under the root"


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def check_build(project: Project, plan: StackPlan, build: EngineBuild, maker: Found) -> None:
    """Block what keeps the synchronous engine from having an async twin: the Cloud SQL connector,
    `creator=`/`module=`, a URL whose driver has no asyncio counterpart."""
    fix = "name an async engine factory in [tool.async-migrate] async-engine-factory"
    modules = {maker.module.path: maker.module}
    for module in project.modules.values():
        if module.path == build.path:
            modules[module.path] = module
    for module in modules.values():
        for local, imported in module.imports.items():
            if imported == CLOUD_CONNECTOR or imported.startswith(CLOUD_CONNECTOR + "."):
                plan.block(
                    AM236, module.path, 1,
                    "the engine connects through the Cloud SQL Python Connector "
                    f"(`{local}` from {CLOUD_CONNECTOR}); an async engine needs "
                    "create_async_engine(\"postgresql+asyncpg://\", async_creator=...) with a connector "
                    "from `await create_async_connector()` and `await connector.connect_async(..., "
                    f"\"asyncpg\")`, which the tool cannot write for you; write that factory and {fix}",
                )
                return
    for call in build.calls:
        module_path = build.path
        for arg in call.args:
            if arg.keyword == "creator":
                plan.block(
                    AM237, module_path, call.line,
                    f"engine is built with creator={arg.text}, which create_async_engine cannot take "
                    f"(it needs async_creator=, an async function returning a driver connection); {fix}",
                )
            elif arg.keyword == "module":
                plan.block(
                    AM237, module_path, call.line,
                    f"engine is built with module={arg.text}, a custom synchronous DBAPI module, "
                    f"which an async engine cannot use; {fix}",
                )
        memory = _shared_memory_database(project, call)
        if memory is not None:
            plan.block(AM273, module_path, call.line, memory)
        url = _url_literal(call)
        if url is not None:
            drivername = drivers.drivername_of(url)
            if drivername is not None and drivers.async_driver(drivername) is None:
                plan.block(
                    AM238, module_path, call.line,
                    f"engine URL uses `{drivername}`, which has no asyncio driver the tool knows "
                    "(create_async_engine would fail with \"The asyncio extension requires an async "
                    f"driver to be used\"); {fix}",
                )


# The keywords that engine was built with cannot be read, so none is carried; its execution
# options are read from it at runtime (`execution_options=engine.get_execution_options()`).
_DEFAULT_POOL = (
    "and its execution options (a schema_translate_map, an isolation_level given to "
    "`.execution_options(...)`), but none of the keywords it was built with: it runs on SQLAlchemy's "
    "default pool settings; if that engine sets pool_size, max_overflow, pool_pre_ping, connect_args, "
    "isolation_level or the like, pass them to create_async_engine by hand"
)


def engine_kwargs(
    project: Project, plan: StackPlan, build: EngineBuild, maker: Found, read: Callable[[str], str] | None = None
) -> list[tuple[str, str]]:
    """The create_engine() keywords carried to create_async_engine(), as written (a module-level
    name bound once to a literal, as its literal: `read` reads the module binding it); a note for
    each one that is not and need not be, a blocker (AM341) for one that changes what the
    database does (`BEHAVIOUR`)."""
    notes = plan.notes
    where = f"{build.path}:{build.line}"
    if build.kind is Build.EXTERNAL and not build.calls:
        notes.append(
            f"`{maker.module.path}`: the engine comes from a call the tool does not follow ({where}); "
            f"the async engine gets its URL from it at runtime {_DEFAULT_POOL}"
        )
        return []
    if not build.calls:
        notes.append(
            f"could not see how the engine bound to `{maker.name}` is built ({where}); the async engine "
            f"gets its URL from it at runtime {_DEFAULT_POOL}"
        )
        return []
    if any(project.canonical(c.callee) in FROM_CONFIG for c in build.calls):
        notes.append(
            f"the engine is built by engine_from_config ({where}); its pool settings come from "
            "configuration at runtime and are not carried: pass them to create_async_engine by hand"
        )
        return []
    same_module = build.path == maker.module.path
    calls = build.calls
    keywords: list[str] = []
    for call in calls:
        for arg in call.args:
            if arg.keyword in ("*", "**"):
                notes.append(
                    f"{build.path}:{call.line}: `{arg.keyword}{arg.text}` is passed to create_engine and "
                    "is not carried to the async engine"
                )
            elif arg.keyword is not None and arg.keyword not in ("url", "name_or_url", *keywords):
                keywords.append(arg.keyword)
    memory = any(drivers.is_memory_sqlite(url) for url in filter(None, map(_url_literal, calls)))
    if memory:
        notes.append(
            f"{build.path}:{calls[0].line}: the engine opens an in-memory SQLite database; an async "
            "engine opens another, separate one, so sync and async sessions will not see each "
            "other's data"
        )
    static = None if memory else _static_pool_unread_url(project, calls)
    if static is not None:
        notes.append(f"{build.path}:{static.line}: {_STATIC_POOL_URL_UNREAD}")
    carried: list[tuple[str, str]] = []
    for keyword in keywords:
        args = [next((a for a in c.args if a.keyword == keyword), None) for c in calls]
        present = [a for a in args if a is not None]
        text = present[0].text
        shown = f"{keyword}={text}"
        line = next(c.line for c, a in zip(calls, args) if a is not None)
        where = f"{build.path}:{line}"
        if (keyword == "connect_args" or not same_module) and not any(a.local for a in present):
            # `connect_args=CONNECT_ARGS` bound once to a literal: its keys are checked against the
            # async driver; a name of another module is not in scope where the async engine goes
            bound = [_bound_literal(project, a, read) for a in present]
            if all(b is not None for b in bound):
                present = [facts.CallArg(a.keyword, b or a.text, a.ref) for a, b in zip(present, bound)]
                text = present[0].text
        if keyword == "execution_options" and (
            len(present) < len(calls) or any(a.text != text for a in present) or any(a.local for a in present)
            or (not same_module and not _is_literal(text))
        ):
            # what the engine was given is what it holds: taken from it when the async engine is built
            plan.runtime_options = True
            notes.append(
                f"{build.path}:{line}: `{shown}` is not written where the async engine goes; the async engine "
                "takes the synchronous engine's execution options at runtime (`execution_options=...get_execution_options()`)"
            )
            continue
        if static is not None and keyword == "poolclass" and project.canonical(present[0].ref) in STATIC_POOLS:
            continue  # said above: carrying it would not share the database
        if len(present) < len(calls) or any(a.text != text for a in present):
            paths = f"on some of the paths of `{build.function}`" if build.function else "conditionally"
            if _changes_behaviour(keyword, present, build.path, read):
                _block(plan, where, f"`{shown}` is passed to create_engine only {paths}")
                continue
            notes.append(
                f"{where}: `{shown}` is passed to create_engine only {paths}; it is not "
                "carried to the async engine (SQLAlchemy's default applies): set it by hand if it matters"
                + (_why_dropped(keyword, text) or "")
            )
            continue
        if any(a.local for a in present):
            if _changes_behaviour(keyword, present, build.path, read):
                _block(plan, where, f"`{shown}` uses a value local to `{build.function}`")
                continue
            notes.append(
                f"{where}: `{shown}` uses a value local to `{build.function}`; not carried "
                "to the async engine"
            )
            continue
        if keyword in ("future",):
            continue  # always on in SQLAlchemy 2
        if keyword == "connect_args":
            if not _is_dict(text) and not _changes_behaviour(keyword, present, build.path, read):
                notes.append(
                    f"{where}: `{shown}` only sets `check_same_thread`, which is not carried: aiosqlite opens "
                    "and uses each connection in a thread of its own"
                )
                continue
            if not _is_dict(text):
                _block(
                    plan, where,
                    f"`{shown}` is not a literal dict, nor a module-level name bound once to one (and never "
                    "changed in place), so its keys cannot be checked against the async driver",
                )
                continue
            kept = _connect_args(text, notes, where)
            if kept is None:
                continue
            text = kept
        elif keyword == "poolclass":
            pool = project.canonical(present[0].ref)
            if pool not in ASYNC_POOLS:
                if pool is None or not pool.startswith("sqlalchemy."):
                    _block(
                        plan, where,
                        f"`{shown}` is not one of SQLAlchemy's pools: an async engine needs an asyncio pool "
                        "(AsyncAdaptedQueuePool, its default, NullPool or StaticPool), and what this one does "
                        "differently would be lost",
                    )
                    continue
                notes.append(
                    f"{where}: `{shown}` is not carried: an async engine needs an asyncio "
                    "pool (AsyncAdaptedQueuePool, its default, NullPool or StaticPool)"
                )
                continue
        elif keyword not in ENGINE_CARRIED:
            notes.append(
                f"{build.path}:{line}: `{shown}` is not carried to the async engine (not known to mean "
                "the same to create_async_engine); add it by hand if it does"
            )
            continue
        if memory and keyword in QUEUE_POOL_ONLY:
            notes.append(
                f"{build.path}:{line}: `{shown}` is not carried: aiosqlite uses StaticPool for in-memory "
                "databases, which does not take it"
            )
            continue
        if not same_module and not _is_literal(text):
            reason = (
                f"`{shown}` names something in {build.path}, where the engine is built, not in "
                f"{maker.module.path}, where the async engine goes"
            )
            if _changes_behaviour(keyword, present, build.path, read):
                _block(plan, where, reason)
                continue
            notes.append(f"{where}: {reason}; not carried")
            continue
        carried.append((keyword, text))
    _isolation_kept(plan, build, calls, keywords, carried)
    return carried


# Keywords that change what the database does or what the application reads back: dropped, the
# migrated routes would run otherwise than the rest of the application (AM341). isolation_level
# has its own blocker (AM281); execution_options the tool takes from the engine at runtime.
# What is not here is dropped with a note: logging (echo, echo_pool, hide_parameters,
# logging_name, pool_logging_name), pool sizing and health (pool_size, max_overflow,
# pool_timeout, pool_recycle, pool_pre_ping, pool_use_lifo), caches and batching
# (query_cache_size, insertmanyvalues_page_size, use_insertmanyvalues), `future`, SQLAlchemy's own
# synchronous pool classes (the async default pools alike) and keywords the tool does not know.
BEHAVIOUR = frozenset({
    "connect_args", "json_serializer", "json_deserializer", "plugins", "pool_reset_on_return",
    "max_identifier_length", "label_length", "paramstyle", "case_sensitive", "skip_autocommit_rollback",
    "poolclass",
})


def _changes_behaviour(
    keyword: str, present: list[facts.CallArg], path: str, read: Callable[[str], str] | None
) -> bool:
    """Whether dropping `keyword` changes what the migrated routes do; connect_args that only
    hold `check_same_thread` (which aiosqlite has no use for) do not."""
    if keyword == "connect_args":
        return not all(_only_check_same_thread(a.text, path, read) for a in present)
    if keyword == "poolclass":
        return False  # decided where it is carried: a project's own pool class blocks
    return keyword in BEHAVIOUR


def _only_check_same_thread(text: str, path: str, read: Callable[[str], str] | None) -> bool:
    """Whether connect_args written as `text` hold `check_same_thread` at most: a dict display, a
    conditional choosing between such (`{"check_same_thread": False} if sqlite else {}`), or a name
    every binding of which in the engine's module (`path`) is one, never changed in place."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return False
    module: list[ast.Module] = []

    def bound(name: str) -> list[ast.expr]:
        if read is None:
            return []
        if not module:
            try:
                module.append(parse_any(read(path), path))
            except (OSError, SyntaxError, ValueError):
                return []
        return _bindings_everywhere(module[0], name)

    return _check_same_thread_only(node, bound)


def _check_same_thread_only(node: ast.expr, bound: Callable[[str], list[ast.expr]], depth: int = 0) -> bool:
    """A dict display of `check_same_thread` at most, a conditional choosing between such, or a name
    (`bound` gives its values) every value of which is one: the FastAPI tutorial's `_sqlite_args if
    url.startswith("sqlite") else {}` too."""
    if isinstance(node, ast.IfExp):
        return _check_same_thread_only(node.body, bound, depth) and _check_same_thread_only(node.orelse, bound, depth)
    if isinstance(node, ast.Name) and depth < 4:
        values = bound(node.id)
        return bool(values) and all(_check_same_thread_only(v, bound, depth + 1) for v in values)
    return isinstance(node, ast.Dict) and all(
        isinstance(k, ast.Constant) and k.value == "check_same_thread" for k in node.keys
    )


def _bindings_everywhere(tree: ast.Module, name: str) -> list[ast.expr]:
    """The value of every `name = ...` in the module, in any function; empty when `name` is also
    bound otherwise (a parameter, a loop, `global`) or changed in place."""
    values: list[ast.expr] = []
    targets: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == name:
                values.append(node.value)
                targets.add(id(node.targets[0]))
        elif isinstance(node, ast.arg) and node.arg == name:
            return []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            if id(node) not in targets:
                return []
        if _changed_in_place(node, name):
            return []
    return values


def _changed_in_place(node: ast.AST, name: str) -> bool:
    """`name[...] = ...`, `del name[...]`, `name.update(...)`, `global name`."""
    if isinstance(node, ast.Global) and name in node.names:
        return True
    if isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
        return isinstance(node.value, ast.Name) and node.value.id == name
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
        return isinstance(node.func.value, ast.Name) and node.func.value.id == name
    return False


def _is_dict(text: str) -> bool:
    try:
        return isinstance(ast.parse(text.strip(), mode="eval").body, ast.Dict)
    except SyntaxError:
        return False


def _block(plan: StackPlan, where: str, why: str) -> None:
    path, _, line = where.rpartition(":")
    plan.block(
        AM341, path, int(line),
        f"{why}; it is not carried to the async engine, whose connections would then be set up otherwise "
        f"than the synchronous engine's: {AM341.fix}",
    )


# Methods that change a dict or list in place.
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert", "remove"})


def _bound_literal(
    project: Project, arg: facts.CallArg, read: Callable[[str], str] | None, depth: int = 0
) -> str | None:
    """The literal a module-level name (`CONNECT_ARGS`, `settings.CONNECT_ARGS`, one imported from a
    project module) is bound to, as written, when it is bound once and never changed in place
    (rebound, an item set, `.update(...)`, `global`); None otherwise."""
    if read is None or arg.ref is None or arg.text != arg.text.strip() or not arg.text.replace(".", "").isidentifier():
        return None
    ref: str | None = arg.ref
    for _ in range(5):
        assert ref is not None
        module_name, _, name = ref.rpartition(".")
        module = project.modules.get(module_name)
        if module is None:
            return None
        if name not in module.imports:
            break
        ref = module.imports[name]
    else:
        return None
    try:
        source = read(module.path)
        tree = parse_any(source, module.path)
    except (OSError, SyntaxError, ValueError):
        return None
    bindings = [
        node for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and any(isinstance(t, ast.Name) and t.id == name for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    ]
    if len(bindings) != 1 or bindings[0].value is None:
        return None
    binding = bindings[0]
    targets = binding.targets if isinstance(binding, ast.Assign) else [binding.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return None
    for node in _module_level(tree):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load) and node is not targets[0]:
            return None
    if any(_changed_in_place(node, name) for node in ast.walk(tree)):
        return None
    value = binding.value
    if isinstance(value, ast.Name) and value.id != name and depth < 5:
        # `connect_args = CONNECT_ARGS`, that one imported or bound above
        alias = facts.CallArg(arg.keyword, value.id, f"{module.name}.{value.id}")
        return _bound_literal(project, alias, read, depth + 1)
    text = None if value is None else ast.get_source_segment(source, value)
    return text if text is not None and _is_literal(text) else None


def _module_level(tree: ast.Module) -> list[ast.AST]:
    """Every node of the module outside function and class bodies."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _isolation_kept(
    plan: StackPlan, build: EngineBuild, calls: list[facts.EngineCall], keywords: list[str], carried: list[tuple[str, str]]
) -> None:
    """Block the stack when the engine's `isolation_level=` is not among the keywords carried:
    the async engine would run every transaction at the database's default level (AM281)."""
    if "isolation_level" not in keywords or any(k == "isolation_level" for k, _ in carried):
        return
    call = next(c for c in calls if any(a.keyword == "isolation_level" for a in c.args))
    text = next(a.text for a in call.args if a.keyword == "isolation_level")
    plan.block(
        AM281, build.path, call.line,
        f"the engine is built with `isolation_level={text}`, which cannot be written where the async engine "
        f"goes; the migrated routes would run at the database's default isolation level: {AM281.fix}",
    )


def session_kwargs(
    project: Project, plan: StackPlan, maker: Found, session_class: facts.CallArg | None = None
) -> tuple[tuple[str, str], ...]:
    """The sessionmaker() keywords carried to async_sessionmaker(), as written; `session_class`,
    the `class_=` the async sessions keep as `sync_session_class=` (phase2/session_subclass.py)."""
    assert maker.value is not None
    carried = []
    unread = []
    for arg in maker.value.args:
        if arg.keyword in SESSION_CARRIED and (_is_literal(arg.text) or not arg.local):
            carried.append((arg.keyword, arg.text))
        elif arg.keyword in ("*", "**") or (arg.keyword not in _SESSION_HANDLED and arg.local and not _is_literal(arg.text)):
            unread.append(f"{arg.keyword}{arg.text}" if arg.keyword in ("*", "**") else f"{arg.keyword}={arg.text}")
        elif arg.keyword is not None and arg.keyword not in _SESSION_HANDLED:
            # Every other keyword is the Session's own (`twophase=True`), which async_sessionmaker
            # hands to the Session behind each AsyncSession alike.
            carried.append((arg.keyword, arg.text))
        elif arg.keyword == "class_" and project.canonical(arg.ref) in SQLMODEL_SESSION_TYPES:
            continue  # the async sessionmaker gets SQLModel's AsyncSession
        elif arg is session_class:
            # The Session each AsyncSession runs: its overrides, listeners and methods stay.
            carried.append(("sync_session_class", arg.text))
        elif arg.keyword == "class_":
            plan.notes.append(
                f"{maker.module.path}:{maker.line}: `{maker.name}` uses class_={arg.text}; the async "
                "sessionmaker uses AsyncSession (pass sync_session_class= to keep a custom Session class)"
            )
        elif arg.keyword == "expire_on_commit" and arg.text != "False":
            plan.notes.append(_expire_note(maker, arg.text))
    if not any(arg.keyword in ("expire_on_commit", "**") for arg in maker.value.args):
        plan.notes.append(_expire_note(maker, "True, the default"))
    if unread:
        plan.block(
            AM299, maker.module.path, maker.line,
            f"the sessionmaker `{maker.name}` is built with {', '.join(f'`{u}`' for u in unread)}, which "
            "phase two cannot write to the async sessionmaker: the async sessions would flush, commit or route "
            f"statements otherwise than the synchronous ones: {AM299.fix}",
        )
    return tuple(carried)


def _expire_note(maker: Found, sync: str) -> str:
    """The follow-up for the async sessionmaker's `expire_on_commit=False` where `maker` expired on commit."""
    return (
        f"{maker.module.path}:{maker.line}: the async sessionmaker sets expire_on_commit=False "
        f"(`{maker.name}`: {sync}): reading an expired attribute would need IO, which raises "
        "MissingGreenlet under asyncio. Objects keep the values they loaded after a commit: a read "
        "after the commit no longer reloads the row, so it does not see what another transaction "
        "committed meanwhile (refresh() the object where that matters)"
    )


# Keywords of sessionmaker() phase two decides on itself: the engine (the async one), `binds=`
# (AM278), the Session class and expire_on_commit (notes); a positional argument is the bind.
_SESSION_HANDLED = frozenset({None, "bind", "binds", "class_", "expire_on_commit"})


def find_drivers(plan: StackPlan, build: EngineBuild, maker: Found, read: Callable[[str], str] | None) -> None:
    """The database drivers the engine uses, and the asyncio driver each needs (plan.drivers)."""
    names: list[str] = []
    for url in filter(None, map(_url_literal, build.calls)):
        drivername = drivers.drivername_of(url)
        if drivername is not None:
            names.append(drivername)
    if read is not None:
        for path in dict.fromkeys((build.path, maker.module.path)):
            text = _readable(read, path)
            if text:
                names.extend(drivers.drivers_named_in(drivers.without_url_helpers(text)))
    seen: set[str] = set()
    for name in names:
        target = drivers.async_driver(name)
        if target is None or target in seen:
            continue
        seen.add(target)
        plan.drivers.append(Driver(name, target, drivers.package(target)))
    if not plan.drivers:
        plan.notes.append(
            "the database URL is computed at runtime and names no driver the tool can see; the async "
            "engine needs the asyncio driver of that database: "
            + ", ".join(
                f"{target} ({drivers.package(target)})"
                for target in sorted(set(drivers.ASYNC_DRIVERS.values()))
            )
        )


def note_mysql_bytes(
    project: Project, plan: StackPlan, build: EngineBuild, read: Callable[[str], str] | None
) -> None:
    """`drivers.MYSQL_BYTES_FOLLOW_UP` when the models store bytes and the database may be MySQL or
    MariaDB: the engine's URL is not written out naming another database, and no driver named
    is asyncmy already."""
    if read is None:
        return
    written = [d for d in map(drivers.drivername_of, filter(None, map(_url_literal, build.calls))) if d]
    if written and not any(d.split("+")[0] in ("mysql", "mariadb") for d in written):
        return
    if any(d.async_.endswith("+asyncmy") for d in plan.drivers):
        return
    if any(_stores_bytes(read, module.path) for module in project.modules.values()):
        plan.notes.append(drivers.MYSQL_BYTES_FOLLOW_UP)


def _stores_bytes(read: Callable[[str], str], path: str) -> bool:
    """`drivers.stores_bytes` of the module's text. A reader keeping what an analysis read
    (`run._Reads`) is asked first whether the module lacks the words any match needs: most
    modules do, and the analysis then depends on that alone, so an edit elsewhere in them (a
    comment) leaves scan's kept preview standing."""
    lacks = getattr(read, "lacks", None)
    if lacks is not None:
        try:
            if lacks(path, "sqlalchemy") or all(lacks(path, word) for word in drivers.BINARY_WORDS):
                return False
        except OSError:
            return False  # as `_readable` reads it: no text
    return drivers.stores_bytes(_readable(read, path))


def _shared_memory_database(project: Project, call: facts.EngineCall) -> str | None:
    """AM273's message when `call` opens an in-memory SQLite database that StaticPool shares between
    Sessions (a literal URL, or the default of `os.environ.get("DATABASE_URL", "sqlite://")`)."""
    pool = _static_pool(project, call)
    if pool is None:
        return None
    url, variable = _url_literal(call), None
    if url is None:
        url, variable = _environment_default(call)
    if url is None:
        url, variable = _named_environment_default(project, call)
    if url is None or not drivers.is_memory_sqlite(url):
        return None
    shown = f'"{url}"' + (f" (the default when {variable} is unset)" if variable else "")
    return (
        f"engine URL {shown} is an in-memory SQLite database that poolclass={pool.text} shares between "
        "Sessions; the async engine would open another, empty database (no tables, none of the rows the "
        "synchronous Sessions write), so migrated routes would fail: use a file or server database "
        "(a temporary file in tests), or write the async stack by hand"
    )


# `os.environ.get("DATABASE_URL", "sqlite://")`, `os.getenv(...)`, `environ.get(...)`: the URL
# when the variable is unset.
_ENVIRONMENT_READS = frozenset({"os.environ.get", "os.getenv", "environ.get", "getenv"})


def _environment_default(call: facts.EngineCall) -> tuple[str | None, str | None]:
    """(the default URL, the variable) of an engine URL read from the environment; (None, None)."""
    first = next((a for a in call.args if a.keyword in (None, "url", "name_or_url")), None)
    if first is None:
        return None, None
    try:
        node = ast.parse(first.text, mode="eval").body
    except SyntaxError:
        return None, None
    if not isinstance(node, ast.Call) or ast.unparse(node.func) not in _ENVIRONMENT_READS or len(node.args) != 2:
        return None, None
    variable, default = (a.value if isinstance(a, ast.Constant) else None for a in node.args)
    if not isinstance(default, str):
        return None, None
    return default, variable if isinstance(variable, str) else "the variable"


def _named_environment_default(project: Project, call: facts.EngineCall) -> tuple[str | None, str | None]:
    """`_environment_default` through a module-level name: `DATABASE_URL = os.environ.get(
    "DATABASE_URL", "sqlite://")`, then `create_engine(DATABASE_URL, poolclass=StaticPool)` (often
    in the branch an `if DATABASE_URL == "sqlite://":` picks)."""
    first = next((a for a in call.args if a.keyword in (None, "url", "name_or_url")), None)
    target = project.resolve(first.ref) if first is not None and first.ref else None
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or value.kind != "call" or value.ref is None:
        return None, None
    if project.canonical(value.ref) not in ("os.environ.get", "os.getenv") or len(value.args) != 2:
        return None, None
    try:
        variable, default = (ast.literal_eval(a.text) for a in value.args)
    except (ValueError, SyntaxError):
        return None, None
    if not isinstance(default, str) or any(a.keyword is not None for a in value.args):
        return None, None
    return default, variable if isinstance(variable, str) else "the variable"


def _url_literal(call: facts.EngineCall) -> str | None:
    first = next((a for a in call.args if a.keyword in (None, "url", "name_or_url")), None)
    if first is None:
        return None
    try:
        value = ast.literal_eval(first.text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


# The URL of an engine built with StaticPool that the tool cannot read: what that pool is used for.
_STATIC_POOL_URL_UNREAD = (
    "the engine is built with poolclass=StaticPool, which is how an in-memory SQLite database "
    "(`sqlite://`) is shared between Sessions, and its URL is only known at runtime: where it is one "
    "(in tests, often), the async engine opens another, empty database, with StaticPool or without, and "
    "the migrated routes fail (no such table, none of the rows the synchronous Sessions write); run that "
    "configuration on a file or server database (a temporary file in tests)"
)


def _static_pool_unread_url(project: Project, calls: list[facts.EngineCall]) -> facts.EngineCall | None:
    """The first call passing poolclass=StaticPool whose URL is no literal (an environment
    variable, a setting, a factory's parameter), or None."""
    return next((call for call in calls if _static_pool(project, call) is not None and _url_literal(call) is None), None)


def _static_pool(project: Project, call: facts.EngineCall) -> facts.CallArg | None:
    """The call's `poolclass=` argument where it names StaticPool, else None."""
    pool = next((a for a in call.args if a.keyword == "poolclass"), None)
    return pool if pool is not None and project.canonical(pool.ref) in STATIC_POOLS else None


def _why_dropped(keyword: str, text: str) -> str | None:
    if keyword == "connect_args" and "check_same_thread" in text:
        return " (check_same_thread does not apply under aiosqlite anyway)"
    return None


_UNDECIDED = object()
_NOT_A_DICT = (
    "{where}: `connect_args={text}` is not a literal dict; not carried to the async engine: check "
    "its keys against the async driver and pass them by hand"
)
_PLAIN_KEYS = ('"check_same_thread"', "'check_same_thread'")


def _connect_args_plain(text: str, notes: list[str], where: str) -> object:
    """`_connect_args` from Python's `ast` where the answer needs no layout-keeping edit (the
    dict left as written, or dropped whole), so scan's preview does not import libcst;
    `_UNDECIDED` otherwise."""
    if text != text.strip() or "#" in text:
        return _UNDECIDED
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return _UNDECIDED
    if not isinstance(node, ast.Dict):
        notes.append(_NOT_A_DICT.format(where=where, text=text))
        return None
    dropped = 0
    for key in node.keys:
        if isinstance(key, ast.Constant) and key.value == "check_same_thread":
            if ast.get_source_segment(text, key) not in _PLAIN_KEYS:
                return _UNDECIDED
            dropped += 1
    if not dropped:
        return text
    if dropped < len(node.keys):
        return _UNDECIDED
    notes.append(
        f"{where}: `check_same_thread` is dropped from connect_args: aiosqlite opens and uses each "
        "connection in a thread of its own"
    )
    return None


def _connect_args(text: str, notes: list[str], where: str) -> str | None:
    """connect_args without `check_same_thread`, or None when nothing (or nothing safe) is left.

    `check_same_thread=False` lets the sync pysqlite driver use a connection from
    FastAPI's threadpool workers. aiosqlite opens each sqlite3 connection in a thread
    of its own and only ever uses it there, so the flag has nothing to do under the
    async engine. Other keys are passed through to the async driver as they were.
    """
    decided = _connect_args_plain(text, notes, where)
    if decided is not _UNDECIDED:
        return decided  # type: ignore[return-value]
    import libcst as cst  # only to drop one key of several, keeping the dict's layout

    try:
        node = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None
    if not isinstance(node, cst.Dict):
        notes.append(_NOT_A_DICT.format(where=where, text=text))
        return None
    kept = [
        element for element in node.elements
        if not (
            isinstance(element, cst.DictElement)
            and isinstance(element.key, cst.SimpleString)
            and element.key.evaluated_value == "check_same_thread"
        )
    ]
    if len(kept) != len(node.elements):
        notes.append(
            f"{where}: `check_same_thread` is dropped from connect_args: aiosqlite opens and uses each "
            "connection in a thread of its own"
        )
    if not kept:
        return None
    if len(kept) != len(node.elements):
        last = kept[-1]
        kept[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        node = node.with_changes(elements=kept)
    return cst.Module(body=[]).code_for_node(node)


def _readable(read: Callable[[str], str], path: str) -> str:
    try:
        return read(path)
    except OSError:
        return ""
