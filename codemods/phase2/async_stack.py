"""The async stack phase two builds once and every migrated subsystem reuses.

`analyse` reads the project index and finds the synchronous stack (the
`sessionmaker(engine, ...)`, the engine it is bound to and how that engine is
built, the `Annotated[Session, Depends(...)]` alias) and any async stack that
already exists (`create_async_engine(...)`, `async_sessionmaker(...)`, an async
generator dependency yielding an `AsyncSession`, an `Annotated[AsyncSession, ...]`
alias). Existing pieces are reused, never duplicated; the missing ones are
planned next to their synchronous counterparts, or the plan carries blockers
that say what stops it and what to do.

Two codemods carry the plan out, one transformation each:

- `AddAsyncEngine`, in the module of the synchronous sessionmaker.

  Before::

      engine = build_engine(DATABASE_URL)

      database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

  After::

      engine = build_engine(DATABASE_URL)

      database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


      def _async_url(url: URL) -> URL:
          ...  # the driver table of codemods.phase2.drivers


      async_engine = create_async_engine(_async_url(engine.url), pool_pre_ping=True)
      async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


      async def get_async_db_session() -> AsyncIterator[AsyncSession]:
          async with async_database_sessionmaker() as session:
              yield session

- `AddAsyncAlias`, beside the synchronous alias.

  Before::

      session_dependency = Annotated[Session, Depends(get_db_session)]

  After::

      session_dependency = Annotated[Session, Depends(get_db_session)]
      async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]

Both only add what the module does not define yet, so running them twice
changes nothing.

Why the dependency needs no `except: await session.rollback(); raise`
(SQLAlchemy 2.1.9, as installed): `AsyncSession.__aexit__` awaits `self.close()`
(sqlalchemy/ext/asyncio/session.py, `__aexit__`), which runs `Session.close()`
-> `Session._close_impl()` -> `SessionTransaction.close()` for the transaction in
progress (sqlalchemy/orm/session.py), which closes the connection's root
transaction -> `RootTransaction._close_impl()` rolls back while it is active
(sqlalchemy/engine/base.py), and the connection goes back to the pool, whose
reset-on-return rolls back again. FastAPI throws a request's exception into the
dependency at its `yield`, so the `async with` exits with it and the transaction
is rolled back; a request that ends without `commit()` is rolled back the same
way, exactly as with the synchronous `with database_sessionmaker() as session:`.
The runtime tests check this on SQLite and PostgreSQL.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor

from async_migrate.codemods import facts
from async_migrate.codemods.collect import Collector, definitions
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2 import drivers
from async_migrate.codemods.project import Project
from async_migrate.codemods.rules import Reason, Rule
from async_migrate.codemods.rules.am230_no_sessionmaker import RULE as AM230
from async_migrate.codemods.rules.am231_several_sessionmakers import RULE as AM231
from async_migrate.codemods.rules.am232_name_taken import RULE as AM232
from async_migrate.codemods.rules.am233_unbound_sessionmaker import RULE as AM233
from async_migrate.codemods.rules.am234_sessionmaker_bound_to_local import RULE as AM234
from async_migrate.codemods.rules.am235_bad_engine_factory import RULE as AM235
from async_migrate.codemods.rules.am236_cloud_sql_connector import RULE as AM236
from async_migrate.codemods.rules.am237_sync_only_engine_argument import RULE as AM237
from async_migrate.codemods.rules.am238_no_async_driver import RULE as AM238
from async_migrate.codemods.rules.am240_commit_on_exit_differs import RULE as AM240
from async_migrate.codemods.vocabulary import ASYNC_SESSION_TYPES, SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.fastapi import DEPENDS_FUNCTION
from async_migrate.codemods.vocabulary.python import ANNOTATED, ASYNC_ITERATOR
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_ENGINE_CONSTRUCTORS,
    ASYNC_POOLS,
    ASYNC_SESSIONMAKERS,
    CREATE_ASYNC_ENGINE,
    ENGINE_CARRIED,
    FROM_CONFIG,
    PLAIN_SESSIONMAKERS,
    QUEUE_POOL_ONLY,
    SESSION_CARRIED,
    URL_TYPES,
)
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_ASYNC_SESSION, SQLMODEL_SESSION_TYPES

CLOUD_CONNECTOR = "google.cloud.sql.connector"

URL_HELPER = "_async_url"


# ------------------------------------------------------------------ configuration


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
            tree = ast.parse(read(path))
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


def is_test_path(path: str) -> bool:
    """A module of the test suite: under a `tests`/`test` folder, `test_*.py`, `*_test.py`, `conftest.py`."""
    *folders, name = path.split("/")
    return (
        any(folder in ("tests", "test") for folder in folders)
        or name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
    )


def fid_path(project: Project, fid: tuple[str, str]) -> str:
    return project.functions[fid][0].path


# ------------------------------------------------------------------ plan


@dataclass(frozen=True, slots=True)
class Blocker:
    code: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        if not self.file:
            return self.message
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def reason(self) -> Reason:
        """The blocker as the reason a route stays on the synchronous path."""
        return Reason(self.code, str(self))


@dataclass(slots=True)
class Piece:
    """One part of a stack: where it is (or will be) defined."""

    module: str  # dotted module name
    path: str
    name: str
    line: int = 0  # 0 for a piece still to be generated
    exists: bool = False

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(slots=True)
class EngineBuild:
    """How the synchronous engine the sessionmaker is bound to is built."""

    kind: str  # call: create_engine(...) at module level; factory: a project function; external; unknown
    path: str
    line: int
    function: str | None = None  # the factory, for kind "factory"
    calls: list[facts.EngineCall] = field(default_factory=list)

    @property
    def conditional(self) -> bool:
        return len(self.calls) > 1 or any(call.conditional for call in self.calls)


@dataclass(frozen=True, slots=True)
class Driver:
    sync: str
    async_: str
    package: str | None


@dataclass(frozen=True, slots=True)
class EngineEdit:
    """What `AddAsyncEngine` adds to one module. Names come from `Config`."""

    anchor: str  # the module-level name the new code follows (the sync sessionmaker)
    engine: str = "async_engine"
    sessionmaker: str = "async_database_sessionmaker"
    dependency: str = "get_async_db_session"
    add_engine: bool = True
    add_sessionmaker: bool = True
    add_dependency: bool = True
    sync_engine: str = "engine"  # expression for the sync engine whose URL is derived
    engine_kwargs: tuple[tuple[str, str], ...] = ()  # carried create_engine() keywords, as written
    session_kwargs: tuple[tuple[str, str], ...] = ()  # carried sessionmaker() keywords, as written
    factory: str | None = None  # "pkg.module.function" building the async engine instead
    session_class: str | None = None  # class_= of the async sessionmaker (SQLModel's AsyncSession)
    commit: bool = False  # the dependency commits after `yield`, as the sync one does


@dataclass(frozen=True, slots=True)
class AliasEdit:
    """What `AddAsyncAlias` adds to one module."""

    anchor: str | None  # the sync alias it goes beside; None: after the dependency or at the end
    alias: str = "async_session_dependency"
    dependency: str = "get_async_db_session"
    dependency_module: str | None = None  # imported from there unless it is this module
    session_class: str | None = None  # the AsyncSession class to annotate with (SQLModel's)


@dataclass(slots=True)
class ModuleEdit:
    module: str
    engine: EngineEdit | None = None
    alias: AliasEdit | None = None


@dataclass(slots=True)
class StackPlan:
    """The async stack: what exists, what will be generated where, or what blocks it."""

    blockers: list[Blocker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # follow-ups for the report
    drivers: list[Driver] = field(default_factory=list)  # sync driver -> async driver -> package
    sessionmaker: Piece | None = None  # the synchronous one
    engine: Piece | None = None  # the synchronous engine it is bound to
    build: EngineBuild | None = None
    alias: Piece | None = None  # the synchronous alias
    async_engine: Piece | None = None
    async_sessionmaker: Piece | None = None
    async_dependency: Piece | None = None
    async_alias: Piece | None = None
    engine_edit: tuple[str, EngineEdit] | None = None  # (path, edit)
    alias_edit: tuple[str, AliasEdit] | None = None

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def packages(self) -> list[str]:
        return sorted({d.package for d in self.drivers if d.package})

    @property
    def complete(self) -> bool:
        """The whole async stack exists already: nothing to generate."""
        return self.engine_edit is None and self.alias_edit is None and self.ok

    def edits(self) -> dict[str, ModuleEdit]:
        """Per file: what the codemods add. Empty when blocked or complete."""
        if self.blockers:
            return {}
        found: dict[str, ModuleEdit] = {}
        for entry, attribute in ((self.engine_edit, "engine"), (self.alias_edit, "alias")):
            if entry is None:
                continue
            path, edit = entry
            module = self._module_of(path)
            setattr(found.setdefault(path, ModuleEdit(module)), attribute, edit)
        return found

    def _module_of(self, path: str) -> str:
        for piece in (self.async_dependency, self.async_sessionmaker, self.async_engine,
                      self.async_alias, self.sessionmaker, self.alias):
            if piece is not None and piece.path == path:
                return piece.module
        return path[: -len(".py")].replace("/", ".").removesuffix(".__init__")


# -------------------------------------------------------------- analysis


def analyse(
    project: Project, root: Path | None = None, read: Callable[[str], str] | None = None
) -> StackPlan:
    """The async stack plan for a project. `root` (or `read`) lets it read module text,
    to name the database drivers the report's follow-ups need."""
    if read is None and root is not None:
        base = root

        def read(path: str) -> str:
            return (base / path).read_text(encoding="utf-8", errors="replace")

    return _Analysis(project, project.config, read).run()


@dataclass(slots=True)
class _Found:
    module: facts.Module
    name: str
    value: facts.Value | None = None
    function: facts.Function | None = None

    @property
    def line(self) -> int:
        if self.function is not None:
            return self.function.line
        return self.value.line if self.value is not None else 0

    def piece(self) -> Piece:
        return Piece(self.module.name, self.module.path, self.name, self.line, exists=True)


class _Analysis:
    def __init__(self, project: Project, config: Config, read: Callable[[str], str] | None) -> None:
        self.project = project
        self.config = config
        self.read = read
        self.plan = StackPlan()
        self.commits: bool | None = None  # the sync session dependencies commit on exit; None: there are none

    # --------------------------------------------------------------- helpers

    def canonical(self, ref: str | None) -> str | None:
        return self.project.canonical(ref)

    def values(self) -> Iterable[tuple[facts.Module, str, facts.Value]]:
        for module in self.project.modules.values():
            for name, value in module.values.items():
                yield module, name, value

    def _value_at(self, ref: str | None) -> _Found | None:
        target = self.project.resolve(ref)
        if target is None or target.kind != "value" or target.module is None or target.value is None:
            return None
        for name, value in target.module.values.items():
            if value is target.value:
                return _Found(target.module, name, value)
        return None

    def _block(self, rule: Rule, path: str, line: int, message: str) -> None:
        self.plan.blockers.append(Blocker(rule.code, path, line, message))

    # ------------------------------------------------------------- existing

    def _is_async_maker(self, value: facts.Value) -> bool:
        if value.kind != "call":
            return False
        callee = self.canonical(value.ref)
        if callee in ASYNC_SESSIONMAKERS:
            return True
        if callee in PLAIN_SESSIONMAKERS:  # 1.4 style: sessionmaker(engine, class_=AsyncSession)
            return any(
                arg.keyword == "class_" and self.canonical(arg.ref) in ASYNC_SESSION_TYPES
                for arg in value.args
            )
        return False

    def _existing(self) -> None:
        names = self.config
        engines = [
            _Found(m, n, v) for m, n, v in self.values()
            if v.kind == "call" and self.canonical(v.ref) in ASYNC_ENGINE_CONSTRUCTORS
        ]
        makers = [_Found(m, n, v) for m, n, v in self.values() if self._is_async_maker(v)]
        maker_refs = {f"{f.module.name}.{f.name}" for f in makers}
        dependencies = []
        for _, module, function in self.project.iter_functions():
            if not (function.is_async and function.is_generator) or "." in function.qualname:
                continue
            returns = {self.canonical(r) for r in function.returns}
            opens = {self.canonical(c.callee) for c in function.calls if c.callee}
            if returns & ASYNC_SESSION_TYPES or opens & maker_refs:
                dependencies.append(_Found(module, function.name, function=function))
        aliases = [
            _Found(m, n, v) for m, n, v in self.values()
            if v.kind == "annotated" and any(self.canonical(r) in ASYNC_SESSION_TYPES for r in v.annotation)
        ]
        plan = self.plan
        chosen = {}
        for label, found, preferred in (
            ("async engine", engines, names.async_engine),
            ("async_sessionmaker", makers, names.async_sessionmaker),
            ("async session dependency", dependencies, names.async_dependency),
            ("AsyncSession alias", aliases, names.async_alias),
        ):
            if not found:
                chosen[label] = None
                continue
            found.sort(key=lambda f: (f.name != preferred, f.module.path, f.line))
            chosen[label] = found[0]
            if len(found) > 1:
                others = ", ".join(f"`{f.name}` ({f.module.path}:{f.line})" for f in found[1:])
                plan.notes.append(
                    f"several {label}s exist; reusing `{found[0].name}` ({found[0].module.path}:"
                    f"{found[0].line}), not {others}"
                )
        # An async sessionmaker bound to an engine: that is the engine to reuse.
        maker = chosen["async_sessionmaker"]
        if maker is not None and maker.value is not None:
            bind = _bind(maker.value)
            bound = self._value_at(bind.ref) if bind is not None else None
            if bound is not None and bound.value is not None:
                if self.canonical(bound.value.ref) in ASYNC_ENGINE_CONSTRUCTORS:
                    chosen["async engine"] = bound
        self._found_engine = chosen["async engine"]
        self._found_maker = maker
        self._found_dependency = chosen["async session dependency"]
        self._found_alias = chosen["AsyncSession alias"]
        for attribute, found in (
            ("async_engine", self._found_engine),
            ("async_sessionmaker", maker),
            ("async_dependency", self._found_dependency),
            ("async_alias", self._found_alias),
        ):
            if found is not None:
                setattr(plan, attribute, found.piece())

    # ------------------------------------------------------------ sync side

    def _sync_sessionmaker(self) -> _Found | None:
        candidates: list[_Found] = []
        for module, name, value in self.values():
            if value.kind != "call" or self._is_async_maker(value):
                continue
            configured = f"{module.name}.{name}" in self.config.sessionmakers
            if configured or self.canonical(value.ref) in PLAIN_SESSIONMAKERS:
                candidates.append(_Found(module, name, value))
        for ref in sorted(self.config.sessionmakers):
            found = self._value_at(ref)
            if found is not None and all(found.value is not c.value for c in candidates):
                candidates.append(found)
        # The stack is the sessionmaker the routes' Session dependencies open; then the one any
        # session dependency opens. Test code (tests/, conftest.py, dependency overrides
        # defined there) builds sessions of its own and never counts.
        dependencies = {fid for fid in self.project.session_dependencies if not is_test_path(fid_path(self.project, fid))}
        reached = self._route_dependencies() & dependencies
        production = [c for c in candidates if not is_test_path(c.module.path)]
        pool = []
        for opening in (reached, dependencies):
            pool = [c for c in production if any(self._opens(fid, c) for fid in opening)]
            if pool:
                break
        pool = pool or production or candidates
        if not pool:
            return self._session_class_stack(reached, dependencies)
        if len(pool) > 1:
            listed = ", ".join(f"`{f.name}` ({f.module.path}:{f.line})" for f in pool)
            first = pool[0]
            self._block(
                AM231, first.module.path, first.line,
                f"several synchronous sessionmakers ({listed}) feed the session dependencies; phase two "
                "builds one async stack next to one of them: keep one, or write the async stack by hand "
                "and phase two will reuse it",
            )
            return None
        return pool[0]

    def _session_class_stack(self, *groups: set[tuple[str, str]]) -> _Found | None:
        """`with Session(engine) as session: yield session` (no sessionmaker, SQLModel's usual
        shape): the dependency stands in for a `sessionmaker(engine)`, and the async stack goes
        after it, bound to the same module-level engine."""
        for group in groups:
            for fid in sorted(group):
                module, function = self.project.functions[fid]
                for opened in function.opens:
                    if not self.project.is_sync_session_type(opened.callee):
                        continue
                    call = next((c for c in function.calls if c.index == opened.index), None)
                    first = next((a for a in call.args if a.position == 0 or a.keyword == "bind"), None) if call else None
                    if first is None or first.name is None or first.name in {p.name for p in function.params}:
                        continue
                    bind = facts.CallArg(None, first.name, ref=module.imports.get(first.name, f"{module.name}.{first.name}"))
                    value = facts.Value("call", function.line, ref="sqlalchemy.orm.sessionmaker", args=(bind,))
                    return _Found(module, function.name, value)
        return None

    def _route_dependencies(self) -> set[tuple[str, str]]:
        """Session dependencies the routes of the application (not its tests) inject."""
        from async_migrate.codemods.phase2.dependencies import dependency_function, param_dependency

        found = set()
        for handler in self.project.handlers:
            if handler.kind == "dependency" or is_test_path(handler.module.path):
                continue
            for param in handler.function.params:
                fid = dependency_function(self.project, param_dependency(self.project, param))
                if fid is not None:
                    found.add(fid)
        return found

    def _opens(self, fid: tuple[str, str], maker: _Found) -> bool:
        """Whether the function opens sessions from `maker` (`with maker() as s`, `s = maker()`)."""
        _, function = self.project.functions[fid]
        for opened in function.opens:
            found = self._value_at(opened.callee.removesuffix(".begin"))
            if found is not None and found.value is maker.value:
                return True
        return False

    def _engine_build(self, maker: _Found, bind: facts.CallArg) -> EngineBuild:
        found = self._value_at(bind.ref)
        module = maker.module
        if found is None or found.value is None:
            target = self.project.resolve(bind.ref)
            where = target.module.path if target is not None and target.module is not None else module.path
            return EngineBuild("unknown", where, maker.line)
        value = found.value
        callee = self.canonical(value.ref)
        if callee in SYNC_ENGINE_CONSTRUCTORS or callee in FROM_CONFIG:
            calls = [e for e in found.module.engines if e.scope is None and e.target == found.name]
            kind = "call" if callee in SYNC_ENGINE_CONSTRUCTORS else "external"
            return EngineBuild(kind, found.module.path, value.line, calls=calls)
        factory = self.project.function(value.ref)
        if factory is not None:
            calls = self._factory_calls(*factory, depth=0)
            return EngineBuild(
                "factory", factory[0].path, value.line, function=f"{factory[0].name}.{factory[1].qualname}",
                calls=calls,
            )
        return EngineBuild("external", found.module.path, value.line)

    def _factory_calls(
        self, module: facts.Module, function: facts.Function, depth: int
    ) -> list[facts.EngineCall]:
        calls = [e for e in module.engines if e.scope == function.key]
        if calls or depth >= 3:
            return calls
        for call in function.calls:
            inner = self.project.function(call.callee)
            if inner is not None and inner[1] is not function:
                calls.extend(self._factory_calls(*inner, depth=depth + 1))
        return calls

    # ------------------------------------------------------------- run

    def _sqlmodel(self) -> bool:
        """The synchronous stack hands out SQLModel sessions (`exec` and all)."""
        for fid in self.project.session_dependencies:
            _, function = self.project.functions[fid]
            refs = [*function.returns, *(o.callee for o in function.opens)]
            if any(self.canonical(r) in SQLMODEL_SESSION_TYPES for r in refs):
                return True
        for _, _, value in self.values():
            if value.kind == "call" and self.canonical(value.ref) in PLAIN_SESSIONMAKERS and any(
                arg.keyword == "class_" and self.canonical(arg.ref) in SQLMODEL_SESSION_TYPES for arg in value.args
            ):
                return True
        return False

    def run(self) -> StackPlan:
        plan = self.plan
        self.session_class = SQLMODEL_ASYNC_SESSION if self._sqlmodel() else None
        self._existing()
        self.commits = self._sync_commits()
        if plan.blockers:
            return plan
        if self._found_dependency is not None:
            self._check_reused_commit(self._found_dependency)
            if plan.blockers:
                return plan
        if self._found_dependency is not None and self._found_alias is not None:
            return plan  # the whole stack is there: reuse it as is
        sync_maker = self._sync_sessionmaker()
        if plan.blockers:
            return plan
        if sync_maker is not None:
            plan.sessionmaker = sync_maker.piece()
        sync_alias = self._sync_alias(sync_maker)
        if sync_alias is not None:
            plan.alias = sync_alias.piece()
        if self._found_dependency is None:
            self._plan_engine_side(sync_maker)
        if self._found_alias is None and not plan.blockers:
            self._plan_alias(sync_alias)
        return plan

    # ------------------------------------------------------ commit on exit

    def _sync_commits(self) -> bool | None:
        """Whether the sync session dependencies the routes inject commit at the end of a request.

        A dependency that commits after `yield` saves what a route only added or flushed; the
        async dependency must do the same, or those writes are rolled back without an error.
        Dependencies that disagree block phase two (AM240): one async dependency cannot copy both.
        """
        dependencies = {
            fid for fid in self.project.session_dependencies if not is_test_path(fid_path(self.project, fid))
        }
        reached = (self._route_dependencies() & dependencies) or dependencies
        verdicts = {fid: _commits_on_exit(self.project.functions[fid][1]) for fid in sorted(reached)}
        if len(set(verdicts.values())) > 1:
            described = ", ".join(
                f"`{self.project.functions[fid][1].qualname}` ({fid_path(self.project, fid)}:"
                f"{self.project.functions[fid][1].line}) {'commits' if commits else 'does not commit'}"
                for fid, commits in verdicts.items()
            )
            fid = next(iter(verdicts))
            self._block(
                AM240, fid_path(self.project, fid), self.project.functions[fid][1].line,
                f"the session dependencies disagree on committing at the end of a request ({described}); "
                "one async dependency cannot copy both: make them agree, or write the async stack by hand",
            )
        return any(verdicts.values()) if verdicts else None

    def _check_reused_commit(self, found: _Found) -> None:
        assert found.function is not None
        reused = _commits_on_exit(found.function)
        if self.commits is None or reused == self.commits:
            return  # no synchronous dependency to compare with
        sync_does = "commits" if self.commits else "does not commit"
        async_does = "commits" if reused else "does not"
        self._block(
            AM240, found.module.path, found.line,
            f"the synchronous session dependency {sync_does} at the end of a request and the existing "
            f"async dependency `{found.name}`, which phase two would reuse, {async_does}: migrated routes "
            + ("would lose writes they only add or flush" if self.commits else "would commit what they leave pending")
            + "; make the two agree, then run phase two again",
        )

    def _claim(self, module: facts.Module, name: str, key: str, what: str) -> bool:
        """False (and a blocker) when `name` already means something else in `module`."""
        taken: tuple[int, str] | None = None
        if name in module.values:
            taken = (module.values[name].line, "is assigned")
        else:
            function = next((f for f in module.functions if f.qualname == name), None)
            if function is not None:
                taken = (function.line, "is a function")
            elif name in module.imports:
                taken = (1, f"is imported from `{module.imports[name]}`")
        if taken is None:
            return True
        self._block(
            AM232, module.path, taken[0],
            f"`{name}` {taken[1]} here and is not {what}; phase two would generate its {what} under this "
            f"name: choose another with [tool.async-migrate] {key}",
        )
        return False

    def _plan_engine_side(self, sync_maker: _Found | None) -> None:
        plan, config = self.plan, self.config
        engine, maker = self._found_engine, self._found_maker
        if maker is not None:
            # Only the dependency is missing: it goes next to the async sessionmaker.
            host = maker
        elif engine is not None:
            host = engine
        elif sync_maker is not None:
            host = sync_maker
        else:
            plan.blockers.append(self._no_sessionmaker())
            return
        module = host.module
        edit = dict(
            anchor=host.name,
            engine=engine.name if engine is not None else config.async_engine,
            sessionmaker=maker.name if maker is not None else config.async_sessionmaker,
            dependency=config.async_dependency,
            add_engine=engine is None and maker is None,
            add_sessionmaker=maker is None,
            add_dependency=True,
            session_class=self.session_class,
            commit=bool(self.commits),
        )
        if self.commits:
            plan.notes.append(
                f"the generated `{config.async_dependency}` commits after each request that succeeds, "
                "as the synchronous session dependency does"
            )
        ok = self._claim(module, config.async_dependency, "async-dependency", "async session dependency")
        if edit["add_sessionmaker"]:
            name = config.async_sessionmaker
            claimed = self._claim(module, name, "async-sessionmaker", "async_sessionmaker")
            ok = claimed and ok
            plan.async_sessionmaker = Piece(module.name, module.path, config.async_sessionmaker)
            if sync_maker is not None and sync_maker.value is not None:
                edit["session_kwargs"] = self._session_kwargs(sync_maker)
        if edit["add_engine"]:
            ok = self._claim(module, config.async_engine, "async-engine", "async engine") and ok
            plan.async_engine = Piece(module.name, module.path, config.async_engine)
            assert sync_maker is not None
            engine_fields = self._plan_engine(sync_maker)
            if engine_fields is None:
                return
            edit.update(engine_fields)
        plan.async_dependency = Piece(module.name, module.path, config.async_dependency)
        if ok:
            plan.engine_edit = (module.path, EngineEdit(**edit))  # type: ignore[arg-type]

    def _no_sessionmaker(self) -> Blocker:
        message = (
            "no sessionmaker found: phase two builds the async stack next to a module-level "
            "`sessionmaker(engine, ...)`, and the project has none{}; define one, or name yours "
            "in [tool.async-migrate] sessionmakers"
        )
        dependencies = sorted(self.project.session_dependencies)
        if not dependencies:
            return Blocker(AM230.code, "", 0, message.format(""))
        module, function = self.project.functions[dependencies[0]]
        opened = ", ".join(sorted({o.callee for o in function.opens}))
        hint = f" (`{function.qualname}` opens {opened})" if opened else ""
        return Blocker(AM230.code, module.path, function.line, message.format(hint))

    def _plan_engine(self, maker: _Found) -> dict | None:
        plan, config = self.plan, self.config
        assert maker.value is not None
        if config.async_engine_factory:
            return self._plan_factory(maker)
        bind = _bind(maker.value)
        path, line = maker.module.path, maker.line
        if bind is None:
            self._block(
                AM233, path, line,
                f"`{maker.name} = sessionmaker(...)` is not bound to an engine here, so there is no engine "
                "to derive the async one from; pass the engine to sessionmaker(...), or write an async "
                "engine factory and name it in [tool.async-migrate] async-engine-factory",
            )
            return None
        if bind.ref is None or bind.local:
            self._block(
                AM234, path, line,
                f"`{maker.name}` is bound to `{bind.text}`, not to a module-level engine; assign the engine "
                "to a name first, or name an async engine factory in "
                "[tool.async-migrate] async-engine-factory",
            )
            return None
        build = self._engine_build(maker, bind)
        plan.build = build
        bound = self._value_at(bind.ref)
        if bound is not None:
            plan.engine = bound.piece()
        self._check_build(build, maker)
        if plan.blockers:
            return None
        kwargs = self._engine_kwargs(build, maker)
        self._drivers(build, maker)
        return dict(sync_engine=bind.text, engine_kwargs=tuple(kwargs))

    def _plan_factory(self, maker: _Found) -> dict | None:
        ref = self.config.async_engine_factory or ""
        dotted_ref = ref.replace(":", ".")
        found = self.project.function(dotted_ref)
        if found is not None and found[1].is_async:
            self._block(
                AM235, found[0].path, found[1].line,
                f"async-engine-factory `{ref}` is an `async def`; engines are created synchronously: make it "
                "a plain `def` that returns create_async_engine(...)",
            )
            return None
        if found is None and self.read is not None:
            problem = factory_problem(self.config, self.read)
            if problem is not None:
                self._block(AM235, *config_location(self.config, "async-engine-factory"), problem)
                return None
        self.plan.notes.append(
            f"the async engine is built by `{ref}()` from [tool.async-migrate] async-engine-factory; "
            "its pool settings and driver are up to that function"
        )
        return dict(factory=dotted_ref)

    def _check_build(self, build: EngineBuild, maker: _Found) -> None:
        fix = "name an async engine factory in [tool.async-migrate] async-engine-factory"
        modules = {maker.module.path: maker.module}
        for module in self.project.modules.values():
            if module.path == build.path:
                modules[module.path] = module
        for module in modules.values():
            for local, imported in module.imports.items():
                if imported == CLOUD_CONNECTOR or imported.startswith(CLOUD_CONNECTOR + "."):
                    self._block(
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
                    self._block(
                        AM237, module_path, call.line,
                        f"engine is built with creator={arg.text}, which create_async_engine cannot take "
                        f"(it needs async_creator=, an async function returning a driver connection); {fix}",
                    )
                elif arg.keyword == "module":
                    self._block(
                        AM237, module_path, call.line,
                        f"engine is built with module={arg.text}, a custom synchronous DBAPI module, "
                        f"which an async engine cannot use; {fix}",
                    )
            url = _url_literal(call)
            if url is not None:
                drivername = drivers.drivername_of(url)
                if drivername is not None and drivers.async_driver(drivername) is None:
                    self._block(
                        AM238, module_path, call.line,
                        f"engine URL uses `{drivername}`, which has no asyncio driver the tool knows "
                        "(create_async_engine would fail with \"The asyncio extension requires an async "
                        f"driver to be used\"); {fix}",
                    )

    def _engine_kwargs(self, build: EngineBuild, maker: _Found) -> list[tuple[str, str]]:
        notes = self.plan.notes
        where = f"{build.path}:{build.line}"
        if build.kind == "external" and not build.calls:
            notes.append(
                f"`{maker.module.path}`: the engine comes from a call the tool does not follow ({where}); "
                "the async engine gets its URL from it at runtime but SQLAlchemy's default pool settings"
            )
            return []
        if not build.calls:
            notes.append(
                f"could not see how the engine bound to `{maker.name}` is built ({where}); the async engine "
                "gets its URL from it at runtime but SQLAlchemy's default pool settings"
            )
            return []
        if any(self.canonical(c.callee) in FROM_CONFIG for c in build.calls):
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
        carried: list[tuple[str, str]] = []
        for keyword in keywords:
            args = [next((a for a in c.args if a.keyword == keyword), None) for c in calls]
            present = [a for a in args if a is not None]
            text = present[0].text
            shown = f"{keyword}={text}"
            line = next(c.line for c, a in zip(calls, args) if a is not None)
            if len(present) < len(calls) or any(a.text != text for a in present):
                paths = f"on some of the paths of `{build.function}`" if build.function else "conditionally"
                notes.append(
                    f"{build.path}:{line}: `{shown}` is passed to create_engine only {paths}; it is not "
                    "carried to the async engine (SQLAlchemy's default applies): set it by hand if it matters"
                    + (_why_dropped(keyword, text) or "")
                )
                continue
            if any(a.local for a in present):
                notes.append(
                    f"{build.path}:{line}: `{shown}` uses a value local to `{build.function}`; not carried "
                    "to the async engine"
                )
                continue
            if keyword in ("future",):
                continue  # always on in SQLAlchemy 2
            if keyword == "connect_args":
                text = _connect_args(text, notes, f"{build.path}:{line}")
                if text is None:
                    continue
            elif keyword == "poolclass":
                pool = self.canonical(present[0].ref)
                if pool not in ASYNC_POOLS:
                    notes.append(
                        f"{build.path}:{line}: `{shown}` is not carried: an async engine needs an asyncio "
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
                notes.append(
                    f"{build.path}:{line}: `{shown}` names something in {build.path}, where the engine is "
                    f"built, not in {maker.module.path}, where the async engine goes; not carried"
                )
                continue
            carried.append((keyword, text))
        return carried

    def _session_kwargs(self, maker: _Found) -> tuple[tuple[str, str], ...]:
        assert maker.value is not None
        carried = []
        for arg in maker.value.args:
            if arg.keyword in SESSION_CARRIED and (_is_literal(arg.text) or not arg.local):
                carried.append((arg.keyword, arg.text))
            elif arg.keyword == "class_" and self.canonical(arg.ref) in SQLMODEL_SESSION_TYPES:
                continue  # the async sessionmaker gets SQLModel's AsyncSession
            elif arg.keyword == "class_":
                self.plan.notes.append(
                    f"{maker.module.path}:{maker.line}: `{maker.name}` uses class_={arg.text}; the async "
                    "sessionmaker uses AsyncSession (pass sync_session_class= to keep a custom Session class)"
                )
            elif arg.keyword == "expire_on_commit" and arg.text != "False":
                self.plan.notes.append(
                    f"{maker.module.path}:{maker.line}: the async sessionmaker sets expire_on_commit=False "
                    f"(sync: {arg.text}): reading an expired attribute would need IO, which raises "
                    "MissingGreenlet under asyncio"
                )
        return tuple(carried)

    def _drivers(self, build: EngineBuild, maker: _Found) -> None:
        names: list[str] = []
        for url in filter(None, map(_url_literal, build.calls)):
            drivername = drivers.drivername_of(url)
            if drivername is not None:
                names.append(drivername)
        if self.read is not None:
            for path in dict.fromkeys((build.path, maker.module.path)):
                text = _readable(self.read, path)
                if text:
                    names.extend(drivers.drivers_named_in(text))
        seen: set[str] = set()
        for name in names:
            target = drivers.async_driver(name)
            if target is None or target in seen:
                continue
            seen.add(target)
            self.plan.drivers.append(Driver(name, target, drivers.package(target)))
        if not self.plan.drivers:
            self.plan.notes.append(
                "the database URL is computed at runtime and names no driver the tool can see; the async "
                "engine needs the asyncio driver of that database: "
                + ", ".join(
                    f"{target} ({drivers.package(target)})"
                    for target in sorted(set(drivers.ASYNC_DRIVERS.values()))
                )
            )

    # ----------------------------------------------------------------- alias

    def _sync_alias(self, maker: _Found | None) -> _Found | None:
        found = []
        for module, name, value in self.values():
            if value.kind != "annotated":
                continue
            if any(self.canonical(r) in ASYNC_SESSION_TYPES for r in value.annotation):
                continue
            sync_type = any(self.project.is_sync_session_type(r) for r in value.annotation)
            dependency = self.project.function(value.depends) if value.depends else None
            fid = (dependency[0].name, dependency[1].key) if dependency is not None else None
            provides = fid is not None and fid in self.project.session_dependencies
            if sync_type or provides:
                opens_maker = fid is not None and maker is not None and self._opens(fid, maker)
                entry = _Found(module, name, value)
                found.append((not opens_maker, not provides, module.path, value.line, entry))
        found.sort(key=lambda entry: entry[:4])
        return found[0][-1] if found else None

    def _plan_alias(self, sync_alias: _Found | None) -> None:
        plan, config = self.plan, self.config
        dependency = plan.async_dependency
        if dependency is None:
            return
        if sync_alias is not None:
            module = sync_alias.module
            anchor: str | None = sync_alias.name
        else:
            module = self.project.modules.get(dependency.module)  # type: ignore[assignment]
            anchor = None
            plan.notes.append(
                "no `Annotated[Session, Depends(...)]` alias found; the AsyncSession alias goes next to "
                f"`{dependency.name}` in {dependency.path}"
            )
            if module is None:
                return
        if not self._claim(module, config.async_alias, "async-alias", "AsyncSession alias"):
            return
        plan.async_alias = Piece(module.name, module.path, config.async_alias)
        plan.alias_edit = (
            module.path,
            AliasEdit(
                anchor=anchor,
                alias=config.async_alias,
                dependency=dependency.name,
                dependency_module=dependency.module,
                session_class=self.session_class,
            ),
        )


def _commits_on_exit(function: facts.Function) -> bool:
    """Whether a session dependency commits its Session when the request succeeds.

    `db.commit()` on the yielded Session (after `yield`, in `try/else` or `finally`), a
    `sessionmaker.begin()` it opens, or `with db.begin():` around the `yield` all commit.
    """
    yielded = set(function.yields) | {o.name for o in function.opens if o.name}
    for opened in function.opens:
        if opened.callee.endswith(".begin") and opened.name in function.yields:
            return True
    for call in function.calls:
        if call.nested:
            continue
        if call.method == "commit" and call.receiver in yielded:
            return True
        if call.method == "begin":
            return True  # `with db.begin():`, `async with maker.begin() as session:`
    return False


def _bind(value: facts.Value) -> facts.CallArg | None:
    """The engine a sessionmaker(...) call is bound to: first positional argument or bind=."""
    for arg in value.args:
        if arg.keyword == "bind":
            return arg
    positional = [arg for arg in value.args if arg.keyword is None]
    return positional[0] if positional else None


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


def _why_dropped(keyword: str, text: str) -> str | None:
    if keyword == "connect_args" and "check_same_thread" in text:
        return " (check_same_thread does not apply under aiosqlite anyway)"
    return None


def _connect_args(text: str, notes: list[str], where: str) -> str | None:
    """connect_args without `check_same_thread`, or None when nothing (or nothing safe) is left.

    `check_same_thread=False` lets the sync pysqlite driver use a connection from
    FastAPI's threadpool workers. aiosqlite opens each sqlite3 connection in a thread
    of its own and only ever uses it there, so the flag has nothing to do under the
    async engine. Other keys are passed through to the async driver as they were.
    """
    try:
        node = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None
    if not isinstance(node, cst.Dict):
        notes.append(
            f"{where}: `connect_args={text}` is not a literal dict; not carried to the async engine: check "
            "its keys against the async driver and pass them by hand"
        )
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


# -------------------------------------------------------------- codemods


_ASYNCIO = "sqlalchemy.ext.asyncio"
_SYMBOLS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name -> (module to import it from, every reference that means the same)
    "create_async_engine": (_ASYNCIO, tuple(sorted(CREATE_ASYNC_ENGINE))),
    "async_sessionmaker": (_ASYNCIO, tuple(sorted(ASYNC_SESSIONMAKERS))),
    "AsyncSession": (_ASYNCIO, tuple(sorted(ASYNC_SESSION_TYPES))),
    "URL": ("sqlalchemy", tuple(sorted(URL_TYPES))),
    "AsyncIterator": ("collections.abc", tuple(sorted(ASYNC_ITERATOR))),
    "Annotated": ("typing", tuple(sorted(ANNOTATED))),
    "Depends": ("fastapi", tuple(sorted(DEPENDS_FUNCTION))),
}


class _StackCommand(VisitorBasedCodemodCommand):
    """Shared by the two codemods: module-level names, imports, insertion."""

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # AddImportsVisitor appends new imports after the last one; move each next to
        # the imports of its own package, as isort would, so the diff stays readable.
        return _regroup_imports(tree, super().transform_module(tree))

    def _prepare(self, module: cst.Module) -> None:
        # The module-level names, read the way the pre-pass reads them.
        names = Collector(self.context.filename or "module.py", module)
        for statement in definitions(module.body):
            names.define(statement)
        self.imports: dict[str, str] = names.facts.imports
        self.defined: set[str] = names.defined

    def has(self, name: str) -> bool:
        return name in self.defined or name in self.imports

    def symbol(self, name: str) -> str:
        """The local spelling of a library name, importing it when the module lacks it."""
        module, refs = _SYMBOLS[name]
        for local, imported in self.imports.items():
            if imported in refs:
                return local
        for local, imported in self.imports.items():  # `import typing` -> `typing.Annotated`
            for ref in refs:
                if ref.rsplit(".", 1)[0] == imported:
                    return f"{local}.{name}"
        if name in self.defined or name in self.imports:
            alias = f"_sa_{name}" if module.startswith("sqlalchemy") else f"_{name}"
            AddImportsVisitor.add_needed_import(self.context, module, name, alias)
            return alias
        AddImportsVisitor.add_needed_import(self.context, module, name)
        return name

    def session_symbol(self, ref: str) -> str:
        """The local spelling of a specific AsyncSession class (SQLModel's), imported if needed."""
        module, _, name = ref.rpartition(".")
        for local, imported in self.imports.items():
            if imported == ref:
                return local
        if name in self.defined or name in self.imports:
            alias = "SQLModelAsyncSession"
            AddImportsVisitor.add_needed_import(self.context, module, name, alias)
            return alias
        AddImportsVisitor.add_needed_import(self.context, module, name)
        return name

    def reference(self, module: str | None, name: str) -> str:
        """How this module spells `module.name`: the bare name (imported if needed), or
        `alias.name` when the module itself is imported (`from db import session as db`)."""
        if not module or module == self.context.full_module_name or name in self.defined:
            return name
        if self.imports.get(name) == f"{module}.{name}":
            return name
        for local, imported in self.imports.items():
            if imported == module and name not in self.imports:
                return f"{local}.{name}"
        AddImportsVisitor.add_needed_import(self.context, module, name)
        return name

    @staticmethod
    def position(module: cst.Module, names: Iterable[str]) -> int | None:
        """Index just after the last top-level statement defining one of `names`."""
        wanted = set(names)
        found = None
        for index, statement in enumerate(module.body):
            if _defines(statement) & wanted:
                found = index + 1
        return found

    @staticmethod
    def insert(module: cst.Module, index: int | None, statements: Sequence[cst.BaseStatement]) -> cst.Module:
        body = list(module.body)
        if index is None:
            index = len(body)
        after = body[index] if index < len(body) else None
        if after is not None and isinstance(statements[-1], (cst.FunctionDef, cst.ClassDef)):
            blank = sum(1 for line in after.leading_lines if line.comment is None)
            if blank < 2:
                after = after.with_changes(leading_lines=[*_blank(2 - blank), *after.leading_lines])
                body[index] = after
        body[index:index] = statements
        return module.with_changes(body=body)

    def parse(self, module: cst.Module, code: str, blank: int) -> cst.BaseStatement:
        statement = cst.parse_statement(code, config=module.config_for_parsing)
        return statement.with_changes(leading_lines=_blank(blank))


class AddAsyncEngine(_StackCommand):
    DESCRIPTION = (
        "Add the async engine, async_sessionmaker and async session dependency after the sync sessionmaker."
    )

    def __init__(self, context: CodemodContext, edit: EngineEdit) -> None:
        super().__init__(context)
        self.edit = edit

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module, edit = updated_node, self.edit
        self._prepare(module)
        indent = module.default_indent
        statements: list[cst.BaseStatement] = []
        function_last = False

        def add(code: str, is_function: bool) -> None:
            nonlocal function_last
            blank = 2 if is_function or function_last or not statements else 0
            statements.append(self.parse(module, code, blank))
            function_last = is_function

        if edit.add_engine and not self.has(edit.engine):
            if edit.factory:
                factory = self.reference(*edit.factory.rsplit(".", 1))
                add(f"{edit.engine} = {factory}()\n", False)
            else:
                if not self.has(URL_HELPER):
                    url_type = self.symbol("URL")
                    add(drivers.url_helper_source(URL_HELPER, url_type).replace("    ", indent), True)
                arguments = [f"{URL_HELPER}({edit.sync_engine}.url)"]
                arguments += [f"{keyword}={text}" for keyword, text in edit.engine_kwargs]
                add(_call(edit.engine, self.symbol("create_async_engine"), arguments, indent), False)
        session = self.session_symbol(edit.session_class) if edit.session_class else None
        if edit.add_sessionmaker and not self.has(edit.sessionmaker):
            arguments = [edit.engine, "expire_on_commit=False"]
            if session is not None:
                arguments.append(f"class_={session}")
            arguments += [f"{k}={v}" for k, v in edit.session_kwargs if k != "expire_on_commit"]
            add(_call(edit.sessionmaker, self.symbol("async_sessionmaker"), arguments, indent), False)
        if edit.add_dependency and not self.has(edit.dependency):
            iterator, session = self.symbol("AsyncIterator"), session or self.symbol("AsyncSession")
            add(
                f"async def {edit.dependency}() -> {iterator}[{session}]:\n"
                f'{indent}"""Yield an AsyncSession for the duration of one request."""\n'
                f"{indent}# Leaving the block closes the session, which rolls back whatever a failed\n"
                f"{indent}# request left uncommitted.\n"
                f"{indent}async with {edit.sessionmaker}() as session:\n"
                f"{indent}{indent}yield session\n"
                + (
                    f"{indent}{indent}# As the synchronous dependency does: what a request that succeeds\n"
                    f"{indent}{indent}# added or flushed is saved.\n"
                    f"{indent}{indent}await session.commit()\n"
                    if edit.commit else ""
                ),
                True,
            )
        if not statements:
            return updated_node
        # After the anchor, and after every existing piece the new code refers to.
        names = [edit.anchor, edit.sync_engine.split(".")[0], URL_HELPER]
        if not edit.add_engine or self.has(edit.engine):
            names.append(edit.engine)
        if not edit.add_sessionmaker or self.has(edit.sessionmaker):
            names.append(edit.sessionmaker)
        return self.insert(module, self.position(module, names), statements)


class AddAsyncAlias(_StackCommand):
    DESCRIPTION = (
        "Add `Annotated[AsyncSession, Depends(get_async_db_session)]` beside the sync session alias."
    )

    def __init__(self, context: CodemodContext, edit: AliasEdit) -> None:
        super().__init__(context)
        self.edit = edit

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module, edit = updated_node, self.edit
        self._prepare(module)
        if self.has(edit.alias):
            return updated_node
        dependency = self.reference(edit.dependency_module, edit.dependency)
        annotated, depends = self.symbol("Annotated"), self.symbol("Depends")
        session = self.session_symbol(edit.session_class) if edit.session_class else self.symbol("AsyncSession")
        code = f"{edit.alias} = {annotated}[{session}, {depends}({dependency})]\n"
        index = self.position(module, [edit.anchor]) if edit.anchor else None
        if index is not None:
            return self.insert(module, index, [self.parse(module, code, 0)])
        index = self.position(module, [edit.dependency])
        return self.insert(module, index, [self.parse(module, code, 2)])


def rewrite(module: cst.Module, module_facts: facts.Module, edit: ModuleEdit) -> cst.Module:
    """One file's share of the async stack, in the shape `workers.Pool.rewrite` expects."""
    if edit.engine is not None:
        context = CodemodContext(filename=module_facts.path, full_module_name=module_facts.name)
        module = AddAsyncEngine(context, edit.engine).transform_module(module)
    if edit.alias is not None:
        context = CodemodContext(filename=module_facts.path, full_module_name=module_facts.name)
        module = AddAsyncAlias(context, edit.alias).transform_module(module)
    return module


def _regroup_imports(before: cst.Module, after: cst.Module) -> cst.Module:
    if after is before:
        return after
    # AddImportsVisitor extends an existing `from m import ...` in place: only modules
    # that had no import statement before are new statements.
    old = {_import_module(s) for s in before.body if _is_import(s)}
    body = list(after.body)
    added = [
        s for s in body
        if _is_import(s) and isinstance(s.body[0], cst.ImportFrom) and _import_module(s) not in old
    ]
    for original in added:
        package = _import_module(original)
        if package is None:
            continue
        # An earlier move may have replaced this statement by a copy with other blank lines:
        # the import itself (its small statement) is what identifies it.
        statement = next(s for s in body if _is_import(s) and s.body[0] is original.body[0])
        rest = [s for s in body if s is not statement]
        group = [
            (index, _import_module(s) or "")
            for index, s in enumerate(rest)
            if _is_import(s) and (_import_module(s) or "").split(".")[0] == package.split(".")[0]
        ]
        if not group and package.split(".")[0] in sys.stdlib_module_names:
            # A standard library import goes after the others of the standard library, or first.
            stdlib = [
                index for index, s in enumerate(rest)
                if _is_import(s) and (_import_module(s) or "").split(".")[0] in sys.stdlib_module_names
            ]
            first = next((index for index, s in enumerate(rest) if _is_import(s)), None)
            if stdlib:
                group = [(stdlib[-1], "")]
            elif first is not None:
                leading = rest[first]
                rest[first] = leading.with_changes(leading_lines=_blank(1))
                rest.insert(first, statement.with_changes(leading_lines=leading.leading_lines))
                body = rest
                continue
        if not group:
            continue  # no import of that package yet: it stays after the last import
        body = rest
        later = [index for index, name in group if name > package]
        if later:
            index = later[0]
            following = body[index]
            body[index] = following.with_changes(leading_lines=[])
            statement = statement.with_changes(leading_lines=following.leading_lines)
        else:
            index = group[-1][0] + 1
        body.insert(index, statement)
    return after.with_changes(body=body)


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _import_module(statement: cst.CSTNode) -> str | None:
    """`a.b` for `from a.b import c` and `import a.b` (absolute only), None otherwise."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            return _dotted(small.module)
        if isinstance(small, cst.Import):
            return _dotted(small.names[0].name)
    return None


def _dotted(node: cst.BaseExpression) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _defines(statement: cst.CSTNode) -> set[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return {statement.name.value}
    names: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.add(small.target.value)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        names.add(alias.asname.name.value)
                    else:
                        names.add(_dotted(alias.name))
    return names


def _blank(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def _call(target: str, function: str, arguments: list[str], indent: str, width: int = 88) -> str:
    one_line = f"{target} = {function}({', '.join(arguments)})\n"
    if len(one_line) <= width + 1 and "\n" not in one_line[:-1]:
        return one_line
    inner = "".join(f"{indent}{argument},\n" for argument in arguments)
    return f"{target} = {function}(\n{inner})\n"
