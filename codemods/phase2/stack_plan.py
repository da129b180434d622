"""The async stack plan: the pieces phase two found or will generate, and what blocks it.

Built by `async_stack.analyse`, carried out by `stack_codemods.rewrite`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.rules import Reason, Rule

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.query_class import QueryClass
    from async_migrate.codemods.project import Project


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


class Build(Enum):
    CALL = "call"  # create_engine(...) at module level
    FACTORY = "factory"  # a project function returns it
    EXTERNAL = "external"  # a call the tool does not follow (a library's, `engine_from_config`)
    UNKNOWN = "unknown"  # the bind names nothing the tool can find


@dataclass(slots=True)
class EngineBuild:
    """How the synchronous engine the sessionmaker is bound to is built."""

    kind: Build
    path: str
    line: int
    function: str | None = None  # the factory, for Build.FACTORY
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
    sync_engine_module: str | None = None  # the engine's module, when the new code may have to import it
    url_helper: str = "_async_url"  # the generated driver-swapping function, free in the module
    engine_kwargs: tuple[tuple[str, str], ...] = ()  # carried create_engine() keywords, as written
    # The keywords could not be read: the sync engine's execution options (a schema_translate_map,
    # an isolation_level set through `.execution_options(...)`) are carried at runtime instead
    runtime_options: bool = False
    session_kwargs: tuple[tuple[str, str], ...] = ()  # carried sessionmaker() keywords, as written
    factory: str | None = None  # "pkg.module.function" building the async engine instead
    session_class: str | None = None  # class_= of the async sessionmaker (SQLModel's AsyncSession)
    commit: bool = False  # the dependency commits after `yield`, as the sync one does
    # The dependency configures the mappers first: a written loader option names a backref
    configure_mappers: bool = False


@dataclass(frozen=True, slots=True)
class AliasEdit:
    """What `AddAsyncAlias` adds to one module."""

    anchor: str | None  # the sync alias it goes beside; None: after the dependency or at the end
    alias: str = "async_session_dependency"
    dependency: str = "get_async_db_session"
    dependency_module: str | None = None  # imported from there unless it is this module
    session_class: str | None = None  # the AsyncSession class to annotate with (SQLModel's)
    # The sync alias's Depends() keywords, as written (`scope="function"`): FastAPI runs the async
    # dependency the same way
    options: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class ModuleEdit:
    module: str
    engine: EngineEdit | None = None
    alias: AliasEdit | None = None
    # The stack on the application's state (`phase2/state_stack.py`): the lifespan's part, the
    # async dependency's part (LifespanEdit, DependencyEdit)
    state: tuple[object, object] | None = None


@dataclass(slots=True)
class StackPlan:
    """The async stack: what exists, what will be generated where, or what blocks it."""

    blockers: list[Blocker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # follow-ups for the report
    # Follow-ups the terminal summary shows too: `dependency_overrides[<sync dependency>]` that
    # migrated routes no longer reach (tests would write to the application's database).
    overrides: list[str] = field(default_factory=list)
    # The tests override a session dependency (the synchronous one or the async one) somewhere
    # under PATH: a twinned dependency's real Session work then reaches the tests' database.
    session_overridden: bool = False
    # The project's test modules above PATH the overrides were read in (`outside_tests.py`).
    test_modules: list[facts.Module] = field(default_factory=list)
    # The tests point the synchronous sessionmaker or engine at their database and not the async
    # one, yet override the async dependency: (path, line, as written, piece). A gap only for
    # migrated code opening the async sessionmaker itself (`driver._opener_redirect_gaps`).
    sync_redirects: list[tuple[str, int, str, str]] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)  # sync driver -> async driver -> package
    sessionmaker: Piece | None = None  # the synchronous one
    engine: Piece | None = None  # the synchronous engine it is bound to
    build: EngineBuild | None = None
    # The sync engine's `execution_options=` could not be carried as written (built in another
    # module, conditionally, from a local): the async engine takes them from it at runtime
    runtime_options: bool = False
    alias: Piece | None = None  # the synchronous alias
    async_engine: Piece | None = None
    async_sessionmaker: Piece | None = None
    async_dependency: Piece | None = None
    async_alias: Piece | None = None
    # The other synchronous sessionmakers the generated stack does not stand for, as the
    # follow-up `async_stack.generic_names_note` names them (empty: no such follow-up).
    other_makers: list[str] = field(default_factory=list)
    # The configuration names the stack (`async-engine = "async_reader_engine"`): the follow-up
    # does not ask for what the user already did.
    names_configured: bool = False
    engine_edit: tuple[str, EngineEdit] | None = None  # (path, edit)
    # The stack on the application's state: path -> (module, LifespanEdit | None, DependencyEdit | None)
    state_edits: dict[str, tuple[str, object, object]] = field(default_factory=dict)
    state_engine: str = ""  # the async engine it keeps there, as a fixture disposes of it
    alias_edit: tuple[str, AliasEdit] | None = None
    # The reused async sessionmaker (or dependency) expires objects on commit: where it is.
    expire_on_commit: bool = False
    expiring: str = ""
    # The generated async sessionmaker does not expire on commit while the synchronous one it
    # mirrors did: reads after a commit reloaded the row, and must still (where it is).
    reloaded_on_commit: str = ""
    # `with Session(engine) as s:` opened inline: the canonical reference of the one synchronous
    # engine the async engine stands for, or why no Session opened on an engine can move.
    inline_engine: str | None = None
    inline_problem: str = ""
    # The project's other synchronous sessionmakers (canonical reference -> how a reason names
    # it): a Session opened from one of them is not the stack's, and cannot move onto it.
    other_sessionmakers: dict[str, str] = field(default_factory=dict)
    # Those of them bound to the engine the stack's sessionmaker is bound to (reference -> the
    # engine's name): the same database, which a reason must not call another one.
    same_engine_makers: dict[str, str] = field(default_factory=dict)
    # Routes of the subsystem that stay synchronous while the others move, each for its reason:
    # those reaching another database's session dependency than the stack's
    # (`phase2/database_routes.py`, AM231), or the Session a middleware opens on the request's
    # state (`phase2/state_routes.py`, AM264).
    kept_routes: dict[tuple[str, str], Blocker] = field(default_factory=dict)
    # The session dependencies handing out the Session opened on the request's state
    # (`return request.state.db`), each with its AM264 blocker.
    state_providers: dict[tuple[str, str], Blocker] = field(default_factory=dict)
    # Methods the Session class behind the async sessions (`sync_session_class=`) adds and
    # AsyncSession lacks: a call of one runs through `run_sync` (phase2/session_subclass.py).
    session_methods: frozenset[str] = frozenset()
    # The `query_cls=` of the synchronous sessionmaker the stack stands for, when a project Query
    # class: the legacy chains it changes cannot become `select()`s (phase2/query_class.py).
    query_class: QueryClass | None = None
    # The async sessions are SQLModel's AsyncSession, whose `exec()` runs a statement: its
    # `scalars()` goes through `execute()`, which SQLModel deprecates (a DeprecationWarning a run).
    sqlmodel: bool = False

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def packages(self) -> list[str]:
        return sorted({d.package for d in self.drivers if d.package})

    @property
    def complete(self) -> bool:
        """The whole async stack exists already: nothing to generate."""
        return self.engine_edit is None and self.alias_edit is None and not self.state_edits and self.ok

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
        for path, (module, lifespan, dependency) in self.state_edits.items():
            found.setdefault(path, ModuleEdit(module)).state = (lifespan, dependency)
        return found

    def block(self, rule: Rule, path: str, line: int, message: str) -> None:
        self.blockers.append(Blocker(rule.code, path, line, message))

    def _module_of(self, path: str) -> str:
        for piece in (self.async_dependency, self.async_sessionmaker, self.async_engine,
                      self.async_alias, self.sessionmaker, self.alias):
            if piece is not None and piece.path == path:
                return piece.module
        return path[: -len(".py")].replace("/", ".").removesuffix(".__init__")


@dataclass(slots=True)
class Found:
    """A stack piece the analysis found in the project: a module-level value or a function."""

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


def maker_engine(project: Project, found: Found) -> str | None:
    """The module-level engine (canonical reference) a `sessionmaker(...)` value is bound to, its
    first positional argument or `bind=`; None when it names none. Two sessionmakers bound to one
    engine open Sessions on one database."""
    value = found.value
    if value is None or value.kind != "call":
        return None
    bind = next((a for a in value.args if a.keyword == "bind"), None)
    bind = bind or next((a for a in value.args if a.keyword is None), None)
    if bind is None or bind.ref is None or bind.local:
        return None
    return project.canonical(bind.ref) or bind.ref
