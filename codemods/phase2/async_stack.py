"""The async stack phase two builds once and every migrated subsystem reuses.

`analyse` reads the project index and finds the synchronous stack (the
`sessionmaker(engine, ...)`, the engine it is bound to and how that engine is
built, the `Annotated[Session, Depends(...)]` alias) and any async stack that
already exists (`create_async_engine(...)`, `async_sessionmaker(...)`, an async
generator dependency yielding an `AsyncSession`, an `Annotated[AsyncSession, ...]`
alias). Existing pieces are reused, never duplicated; the missing ones are
planned next to their synchronous counterparts, or the plan carries blockers
that say what stops it and what to do.

The plan's records are in `stack_plan`, the engine-keyword policy in `engine_options`,
what the synchronous stack does beside opening sessions (listeners, a session dependency that
does more, `dependency_overrides`) in `stack_extras`, the codemods that carry the plan out in
`stack_codemods`.

Over 500 lines: one `_Analysis` walks the stack in order (what exists, the synchronous
side, commit on exit, what to generate) and every step reads the findings of the others.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.config import Config
from async_migrate.codemods.flow import SESSION
from async_migrate.codemods.phase2 import (
    configure_bind,
    engine_options,
    engine_reach,
    held_stack,
    import_cycles,
    inline_engine,
    keyed_makers,
    listener_engines,
    outside_tests,
    query_class,
    scope_openers,
    session_flags,
    session_subclass,
    shadowed_imports,
    stack_extras,
    stack_source,
    state_stack,
    state_swaps,
    tenant_binds,
    tx_dependency,
)
from async_migrate.codemods.phase2.drivers import URL_HELPER, url_helper_source
from async_migrate.codemods.phase2.stack_plan import (
    AliasEdit,
    Blocker,
    Build,
    EngineBuild,
    EngineEdit,
    Found,
    Piece,
    StackPlan,
    maker_engine,
)
from async_migrate.codemods.phase2.twins import module_names
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules import Rule
from async_migrate.codemods.rules.am230_no_sessionmaker import RULE as AM230
from async_migrate.codemods.rules.am231_several_sessionmakers import RULE as AM231
from async_migrate.codemods.rules.am232_name_taken import RULE as AM232
from async_migrate.codemods.rules.am233_unbound_sessionmaker import RULE as AM233
from async_migrate.codemods.rules.am234_sessionmaker_bound_to_local import RULE as AM234
from async_migrate.codemods.rules.am235_bad_engine_factory import RULE as AM235
from async_migrate.codemods.rules.am240_commit_on_exit_differs import RULE as AM240
from async_migrate.codemods.rules.am243_reused_stack_other_database import RULE as AM243
from async_migrate.codemods.rules.am264_session_from_request_state import RULE as AM264
from async_migrate.codemods.rules.am266_reused_stack_other_options import RULE as AM266
from async_migrate.codemods.rules.am269_engine_options_updated import RULE as AM269
from async_migrate.codemods.rules.am270_sync_stack_listener import RULE as AM270
from async_migrate.codemods.rules.am271_session_provider_does_more import RULE as AM271
from async_migrate.codemods.rules.am276_configured_sessionmaker_not_found import RULE as AM276
from async_migrate.codemods.rules.am278_other_database import RULE as AM278
from async_migrate.codemods.rules.am283_listener_opens_sync_session import RULE as AM283
from async_migrate.codemods.rules.am326_reused_stack_other_autoflush import RULE as AM326
from async_migrate.codemods.rules.am327_reused_stack_other_session_class import RULE as AM327
from async_migrate.codemods.rules.am328_application_session_override import RULE as AM328
from async_migrate.codemods.rules.am343_listener_compares_sync_engine import RULE as AM343
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.fastapi import TEST_CLIENTS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_ENGINE_CONSTRUCTORS,
    ASYNC_SESSIONMAKERS,
    FROM_CONFIG,
    PLAIN_SESSIONMAKERS,
    SCOPED_SESSION_MAKERS,
)
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_ASYNC_SESSION, SQLMODEL_SESSION_TYPES

if TYPE_CHECKING:
    from async_migrate.codemods.handlers import Handler

# What a pytest fixture's scope makes it set up anew, and from when on a pooled connection
# of an earlier event loop is met again.
_FIXTURE_SCOPES = {
    "function": ("each test", "the second test on"),
    "class": ("each test class", "the second class on"),
    "module": ("each test module", "the second module on"),
    "package": ("each test package", "the second package on"),
}

# `request.state.db` as the facts spell a returned expression: a parameter's state attribute
_STATE_ATTRIBUTE = re.compile(r"\$\w+\.state\.(\w+)")


def fid_path(project: Project, fid: tuple[str, str]) -> str:
    return project.functions[fid][0].path


def analyse(
    project: Project,
    root: Path | None = None,
    read: Callable[[str], str] | None = None,
    modules: Iterable[str] | None = None,
) -> StackPlan:
    """The async stack plan for a project. `root` (or `read`) lets it read module text,
    to name the database drivers the report's follow-ups need. `modules` (router module paths)
    narrows the routes whose dependencies choose the synchronous sessionmaker to a subsystem's:
    a project with several sessionmakers can migrate a subsystem whose routes reach one."""
    return _analysis(project, root, read, modules).run()


def _analysis(
    project: Project, root: Path | None, read: Callable[[str], str] | None, modules: Iterable[str] | None,
    handlers: frozenset[FunctionId] | None = None,
) -> _Analysis:
    if read is None and root is not None:
        base = root

        def read(path: str) -> str:
            return (base / path).read_text(encoding="utf-8", errors="replace")

    return _Analysis(project, project.config, read, None if modules is None else frozenset(modules), root, handlers)


def analyse_for(
    project: Project,
    modules: Iterable[str],
    root: Path | None = None,
    project_wide: StackPlan | None = None,
    read: Callable[[str], str] | None = None,
) -> StackPlan:
    """The stack a subsystem migrates onto: the project's, unless that one is blocked by several
    synchronous sessionmakers (AM231), by a session dependency doing more than the async one
    would (AM271), by session dependencies that disagree on committing (AM240) or by a
    sessionmaker routing to several engines (AM278: a read replica's `get_bind()`) or by a
    session dependency handing out the Session a middleware opens on the request's state
    (AM264), then the one the subsystem's own routes reach: a sessionmaker or a session
    dependency only other routers use stays theirs, untouched. Within the subsystem, routes
    reaching the middleware's Session, another database's, or a session dependency disagreeing
    on committing with the one the stack copies, stay synchronous (`kept_routes`) while the
    others move."""
    stack = project_wide if project_wide is not None else analyse(project, root, read)
    blocked = any(b.code in (AM231.code, AM240.code, AM264.code, AM271.code, AM278.code) for b in stack.blockers)
    # Only the session dependencies the subsystem's routes reach tell one narrowed analysis from
    # another: scan asks once per subsystem, and subsystems reaching the same ones share it.
    analysis = _analysis(project, root, read, modules)
    key: frozenset = frozenset(analysis._route_dependencies())
    if not key and analysis._subsystem_openers():
        # Routes reaching no session dependency but opening their Sessions themselves: the
        # sessionmakers they open choose the stack, not what other routers' dependencies open.
        key = frozenset(("opens", found.module.name, found.name) for found in analysis._sync_pool()[0])
        if analysis._inline_openings_only():
            # `Session(engine)` in the routes: the pool is only the sessionmakers bound to that
            # engine, whose dependencies' commits are not the routes' (`_sync_commits`)
            key |= {("inline", "", "")}
    if not blocked and (not key or key == _project_route_dependencies(project, root, read)):
        return stack
    # The subsystem reaches fewer session dependencies than the project's routes: its stack copies
    # theirs (class, autoflush, expiry), not those of a dependency only other routers use.
    cache = cast("dict[frozenset, StackPlan]", project.derived.setdefault("phase2.stacks_by_dependencies", {}))
    if key not in cache:
        cache[key] = analysis.run()

    def narrowed(handlers: frozenset[FunctionId]) -> _Analysis:
        return _analysis(project, root, read, modules, handlers)

    subsystem = analysis.modules or frozenset()
    if any(b.code == AM264.code for b in cache[key].blockers) and subsystem:
        # Routes on the middleware's Session beside routes opening their own: those can move.
        from async_migrate.codemods.phase2 import state_routes

        split = state_routes.split(project, subsystem, cache[key].state_providers, narrowed)
        if split is not None:
            return split
    if any(b.code == AM231.code for b in cache[key].blockers) and subsystem:
        # Routes of one database beside routes of another: those of one can still move.
        from async_migrate.codemods.phase2 import database_routes

        split = database_routes.split(project, subsystem, narrowed)
        if split is not None:
            return split
    if any(b.code == AM240.code for b in cache[key].blockers) and subsystem:
        # Routes on a committing session dependency beside routes on one that does not: those
        # agreeing with each other can still move.
        from async_migrate.codemods.phase2 import commit_routes

        split = commit_routes.split(project, subsystem, narrowed)
        if split is not None:
            return split
    return cache[key]


def _project_route_dependencies(
    project: Project, root: Path | None, read: Callable[[str], str] | None
) -> frozenset[FunctionId]:
    """The session dependencies every route of the application reaches, found once per project."""
    found = project.derived.get("phase2.project_route_dependencies")
    if found is None:
        found = project.derived["phase2.project_route_dependencies"] = frozenset(
            _analysis(project, root, read, None)._route_dependencies()
        )
    return cast("frozenset[FunctionId]", found)


def _routes_by_module(project: Project) -> dict[str, list[Handler]]:
    """The application's routes (not its tests', not dependencies) by module path, listed once
    per project: scan narrows a stack for each subsystem, and each looks up only its own."""
    found = cast("dict[str, list[Handler]] | None", project.derived.get("phase2.stack_routes"))
    if found is None:
        found = {}
        for handler in project.handlers:
            if handler.kind != "dependency" and not is_test_path(handler.module.path):
                found.setdefault(handler.module.path, []).append(handler)
        project.derived["phase2.stack_routes"] = found
    return found


def _opened_bind(function: facts.Function, opened: facts.SessionOpen) -> facts.Arg | None:
    """The bind `Session(bind)` or `Session(bind=...)` opens on; None when it names none."""
    # `session = Session(engine)` then try/finally: an opening of no `with`, found by its line
    call = next((c for c in function.calls if c.index == opened.index), None) or next(
        (c for c in function.calls if c.line == opened.line and c.callee == opened.callee), None
    )
    return next((a for a in call.args if a.position == 0 or a.keyword == "bind"), None) if call else None


class _Analysis:
    def __init__(
        self, project: Project, config: Config, read: Callable[[str], str] | None, modules: frozenset[str] | None = None,
        root: Path | None = None, handlers: frozenset[FunctionId] | None = None,
    ) -> None:
        self.project = project
        self.config = config
        self.read = read
        self.modules = modules  # a subsystem's router modules: only their routes choose the stack
        self.handlers = handlers  # narrower still: only these routes of them (one database's)
        self._subsystem_openers_found: set[FunctionId] | None = None
        self.root = root  # PATH: the tests above it are read for their overrides (`outside_tests`)
        # Module texts (and the few trees the stack extras parse), read once for both readings.
        self.texts = stack_extras.Texts(read)
        self.sources = stack_source.Sources(project, self.texts)
        self.plan = StackPlan()
        self.commits: bool | None = None  # the sync session dependencies commit on exit; None: there are none
        # `SessionLocal.class_`, kept as the generated async_sessionmaker's `sync_session_class=`
        # when a listener is registered on the sessionmaker
        self.maker_class: str | None = None
        self._route_dependencies_found: set[tuple[str, str]] | None = None
        # The module-level engine standing for the sessionmaker, when Sessions are only opened on it.
        self._engine_anchor: Found | None = None
        self._binds: dict[tuple[str, str, int], configure_bind.Bind] = {}
        self._held_found: list[held_stack.HeldFound] | None = None
        self._production: list[Found] = []  # every synchronous sessionmaker outside the tests

    # --------------------------------------------------------------- helpers

    def canonical(self, ref: str | None) -> str | None:
        return self.project.canonical(ref)

    def values(self) -> Iterable[tuple[facts.Module, str, facts.Value]]:
        for module in self.project.modules.values():
            for name, value in module.values.items():
                yield module, name, value

    def _value_at(self, ref: str | None) -> Found | None:
        target = self.project.resolve(ref)
        if target is None or target.kind != "value" or target.module is None or target.value is None:
            return None
        for name, value in target.module.values.items():
            if value is target.value:
                return Found(target.module, name, value)
        return None

    def _block(self, rule: Rule, path: str, line: int, message: str) -> None:
        self.plan.block(rule, path, line, message)

    # ------------------------------------------------------------- existing

    def _is_async_maker(self, value: facts.Value) -> bool:
        return self.project.makes_async_sessions(value)

    def _receives_async_session(self, function: facts.Function) -> bool:
        """A dependency given the AsyncSession (a transaction dependency's twin) wraps the
        provider: it is not one."""
        for param in function.params:
            for ref in param.annotation:
                if self.project.is_async_session_type(ref):
                    return True
                target = self.project.resolve(ref)
                value = target.value if target is not None and target.kind == "value" else None
                if value is not None and value.kind == "annotated" and any(
                    self.project.is_async_session_type(r) for r in value.annotation
                ):
                    return True
        return False

    def _wraps_async_session(self, value: facts.Value) -> bool:
        found = self.project.function(value.depends) if value.depends else None
        return found is not None and found[1].is_generator and self._receives_async_session(found[1])

    def _existing(self) -> None:
        names = self.config
        engines = [
            Found(m, n, v) for m, n, v in self.values()
            if v.kind == "call" and self.canonical(v.ref) in ASYNC_ENGINE_CONSTRUCTORS
        ]
        makers = [Found(m, n, v) for m, n, v in self.values() if self._is_async_maker(v)]
        maker_refs = {f"{f.module.name}.{f.name}" for f in makers}
        aliases = [
            Found(m, n, v) for m, n, v in self.values()
            if v.kind == "annotated" and any(self.project.is_async_session_type(r) for r in v.annotation)
            and not self._wraps_async_session(v)
        ]
        # `Annotated[AsyncSession, Depends(get_async_session)]` says what its dependency hands out, where
        # the dependency itself cannot (no return annotation, a sessionmaker read from `request.app.state`)
        declared = {self.canonical(a.value.depends) for a in aliases if a.value is not None and a.value.depends}
        dependencies = []
        for _, module, function in self.project.iter_functions():
            if not (function.is_async and function.is_generator) or "." in function.qualname:
                continue
            if any(self.canonical(d.callee) == scope_openers.ASYNC_CONTEXTMANAGER for d in function.decorators):
                continue  # an opener's twin (`async with session_scope_async()`), which FastAPI cannot inject
            returns = {self.canonical(r) for r in function.returns}
            opens = {self.canonical(c.callee) for c in function.calls if c.callee}
            # the configuration naming it is the user's word for what it yields
            named = function.name == names.async_dependency
            made = any(map(self.project.is_async_session_type, returns)) or opens & maker_refs or named or (
                f"{module.name}.{function.name}" in declared
            )
            if made and not self._receives_async_session(function):
                dependencies.append(Found(module, function.name, function=function))
        plan = self.plan
        chosen: dict[str, Found | None] = {}
        for label, plural, every, preferred in (
            ("async engine", "async engines", engines, names.async_engine),
            ("async_sessionmaker", "async_sessionmakers", makers, names.async_sessionmaker),
            ("async session dependency", "async session dependencies", dependencies, names.async_dependency),
            ("AsyncSession alias", "AsyncSession aliases", aliases, names.async_alias),
        ):
            # The tests' own stack (tests/, conftest.py: an override of the async dependency) is
            # never the application's, and no reason to say which one is reused.
            found = [f for f in every if not is_test_path(f.module.path)]
            if not found:
                chosen[label] = None
                continue
            found.sort(key=lambda f: (f.name != preferred, f.module.path, f.line))
            chosen[label] = found[0]
            if len(found) > 1:
                others = ", ".join(f"`{f.name}` ({f.module.path}:{f.line})" for f in found[1:])
                plan.notes.append(
                    f"several {plural} exist; reusing `{found[0].name}` ({found[0].module.path}:"
                    f"{found[0].line}), not {others}"
                )
        self._own_engine(chosen, engines)
        # An async sessionmaker bound to an engine: that is the engine to reuse.
        maker = chosen["async_sessionmaker"]
        if maker is not None and maker.value is not None:
            bind = _bind(maker.value) or configure_bind.resolve(self.project, maker, None).arg
            bound = self._value_at(bind.ref) if bind is not None else None
            if bound is not None and bound.value is not None:
                if self.canonical(bound.value.ref) in ASYNC_ENGINE_CONSTRUCTORS:
                    chosen["async engine"] = bound
        self._found_engine = chosen["async engine"]
        self._found_maker = maker
        self._found_dependency = chosen["async session dependency"]
        self._found_alias = chosen["AsyncSession alias"]
        for attribute, piece in (
            ("async_engine", self._found_engine),
            ("async_sessionmaker", maker),
            ("async_dependency", self._found_dependency),
            ("async_alias", self._found_alias),
        ):
            if piece is not None:
                setattr(plan, attribute, piece.piece())

    def _own_engine(self, chosen: dict[str, Found | None], engines: list[Found]) -> None:
        """Several async engines, one bearing the configured `async-engine` name (written by hand
        for a second database, its listeners registered on its `.sync_engine`), and the async
        sessionmaker found bound to another (the first database's stack): the configuration asks
        for a stack on that engine. The other stack's sessionmaker, dependency and alias, which
        do not bear the configured names, are left to the routes already on them."""
        engine, maker = chosen["async engine"], chosen["async_sessionmaker"]
        names = self.config
        if len(engines) < 2 or engine is None or engine.name != names.async_engine:
            return
        if maker is None or maker.name == names.async_sessionmaker or maker.value is None:
            return
        bind = _bind(maker.value) or configure_bind.resolve(self.project, maker, None).arg
        bound = self._value_at(bind.ref) if bind is not None else None
        if bound is None or (bound.module is engine.module and bound.name == engine.name):
            return
        for label, name in (
            ("async_sessionmaker", names.async_sessionmaker),
            ("async session dependency", names.async_dependency),
            ("AsyncSession alias", names.async_alias),
        ):
            found = chosen[label]
            if found is not None and found.name != name:
                chosen[label] = None

    # ------------------------------------------------------------ sync side

    def _sync_sessionmaker(self) -> Found | None:
        pool, reached, dependencies = self._sync_pool()
        if not pool:
            return self._session_class_stack(reached, dependencies)
        if len(pool) > 1:
            listed = ", ".join(f"`{f.name}` ({f.module.path}:{f.line})" for f in pool)
            first = pool[0]
            engines = {self._maker_engine(f) for f in pool}
            one = next(iter(engines)) if len(engines) == 1 else None
            # bound to one engine, they are one database: only which sessionmaker's options is unguessed
            which = (
                f"does not guess which of them a route uses (all are bound to the engine `{one.rpartition('.')[2]}`, "
                "one database, but each gives its Sessions options of its own)" if one is not None
                else "does not guess which database a route uses"
            )
            self._block(
                AM231, first.module.path, first.line,
                f"several synchronous sessionmakers ({listed}) feed the session dependencies; phase two "
                f"builds (or reuses) one async stack per run and {which}, nor can one async stack written by hand "
                "stand for both: migrate a subsystem whose routes reach one sessionmaker (a module, or a "
                "configured [tool.async-migrate] subsystem), or keep one sessionmaker",
            )
            return None
        return pool[0]

    def _sync_pool(self) -> tuple[list[Found], set[tuple[str, str]], set[tuple[str, str]]]:
        """The synchronous sessionmakers the stack may be: those the routes' dependencies open
        (else any session dependency's, else every one outside the tests); with the dependencies."""
        candidates: list[Found] = []
        for module, name, value in self.values():
            if value.kind != "call" or self._is_async_maker(value):
                continue
            configured = f"{module.name}.{name}" in self.config.sessionmakers
            if configured or self.canonical(value.ref) in PLAIN_SESSIONMAKERS:
                candidates.append(Found(module, name, value))
            elif self._scoped_maker(value) is not None:
                candidates.append(Found(module, name, self._scoped_maker(value)))
        for ref in sorted(self.config.sessionmakers):
            found = self._value_at(ref)
            if found is not None and all(found.value is not c.value for c in candidates):
                candidates.append(found)
        candidates.extend(self._held())
        # The stack is the sessionmaker the routes' Session dependencies open; then the one any
        # session dependency opens. Test code (tests/, conftest.py, dependency overrides
        # defined there) builds sessions of its own and never counts.
        dependencies = {fid for fid in tx_dependency.providers(self.project) if not is_test_path(fid_path(self.project, fid))}
        reached = self._route_dependencies() & dependencies
        production = self._production = [c for c in candidates if not is_test_path(c.module.path)]
        pool = self._opened_by(reached)
        if not pool and not reached:
            # A subsystem whose routes reach no session dependency opens its Sessions itself
            # (`with SessionLocal() as db:`): its stack is what it opens, never the sessionmaker
            # some other router's dependency opens, which may be another database's.
            pool = [c for c in production if any(self._opens(fid, c) for fid in self._subsystem_openers())]
        if not pool:
            pool = self._opened_by(dependencies)
        if not pool and self._state_opener(reached | dependencies) is not None:
            # A dependency opening its Session from the sessionmaker the application keeps on its
            # state (`request.app.state.sessionmaker()`): a module-level sessionmaker elsewhere (a
            # worker's, a script's) is not the one the routes use, and may reach another database.
            return [], reached, dependencies
        # Sessionmakers of the tests only: the stack is what the routes' dependencies open
        # without one (`with Session(engine) as s: yield s`), never a test engine.
        return pool or production, reached, dependencies

    def _subsystem_openers(self) -> set[FunctionId]:
        """For a subsystem's run, the functions its routes run (themselves and what they call,
        at any depth) that open a Session; empty for the whole application."""
        if self.modules is None and self.handlers is None:
            return set()
        if self._subsystem_openers_found is None:
            by_module = _routes_by_module(self.project)
            modules = by_module if self.modules is None else self.modules
            queue = [
                h.id for m in modules for h in by_module.get(m, ())
                if self.handlers is None or h.id in self.handlers
            ]
            seen: set[FunctionId] = set()
            while queue:
                fid = queue.pop()
                if fid in seen:
                    continue
                seen.add(fid)
                queue += [e.callee for e in self.project.all_calls_from.get(fid, ())]
            self._subsystem_openers_found = {fid for fid in seen if self.project.functions[fid][1].opens}
        return self._subsystem_openers_found

    def _own_openings_only(self) -> bool:
        """Whether this is a subsystem's run whose routes reach no session dependency and open
        their Sessions themselves from sessionmakers the stack then stands for."""
        return not self._route_dependencies() and bool(self._subsystem_openers()) and bool(self._sync_pool()[0])

    def _inline_openings_only(self) -> bool:
        """Whether this is a subsystem's run whose routes reach no session dependency and open
        every Session they open on an engine (`with Session(engine) as s:`), from no sessionmaker."""
        if not self._own_openings_only():
            return False
        return not any(self._opens(fid, c) for c in self._production for fid in self._subsystem_openers())

    def _beside_own_openings(self, dependencies: set[FunctionId]) -> set[FunctionId]:
        """The session dependencies the stack stands beside when the routes reach none: for a
        subsystem opening its Sessions itself, those opening the same sessionmakers (another
        router's dependency, on another sessionmaker, is none of its business); else all."""
        if not self._own_openings_only():
            return dependencies
        pool = self._sync_pool()[0]
        return {fid for fid in dependencies if any(self._opens(fid, c) for c in pool)}

    def _state_opener(self, opening: set[tuple[str, str]]) -> tuple[tuple[str, str], str] | None:
        """The first dependency of `opening` opening its Session from the application's state, and
        what it opens it from (`request.app.state.sessionmaker`); None when none does."""
        for fid in sorted(opening):
            module, function = self.project.functions[fid]
            state = stack_extras.app_state_maker(self.project, self.texts, module, function)
            if state is not None:
                return fid, state
        return None

    def _opened_by(self, opening: set[tuple[str, str]]) -> list[Found]:
        """The production sessionmakers the dependencies `opening` open Sessions from (after
        `_sync_pool` found the production ones), and the `Session(engine)` they yield, as one."""
        pool = [c for c in self._production if any(self._opens(fid, c) for fid in opening)]
        # A dependency yielding `Session(other_engine)` is a second database as much as a second
        # sessionmaker is: its parameters must not get the stack of the first.
        bound = {self.canonical(b.arg.ref) for b in map(self._maker_bind, pool) if b.arg is not None}
        classes = [
            f for f in self._session_class_dependencies(opening)
            if f.value is not None and self.canonical(f.value.args[0].ref) not in bound
        ]
        return pool + classes

    def reached_dependencies(self) -> set[tuple[str, str]]:
        """The session dependencies the routes reach, anywhere in their dependency trees."""
        return self._route_dependencies()

    def reached_databases(self) -> tuple[set[tuple[str, str]], list[Found]]:
        """The session dependencies the routes reach, and the sessionmakers (or `Session(engine)`
        dependencies) those open: no fallback to other dependencies' when they open none."""
        reached = self._sync_pool()[1]
        return reached, self._opened_by(reached)

    def _other_sessionmakers(self) -> None:
        """The production sessionmakers beside the one the stack stands for (a second database's):
        phase two must not open their Sessions from the async stack's sessionmaker."""
        pool = self._sync_pool()[0]
        if len(pool) != 1:
            return  # none beside it, or several (AM231 blocks the stack)
        engine = self._maker_engine(pool[0])
        for found in self._production:
            if found.value is pool[0].value:
                continue
            if isinstance(found, held_stack.HeldFound):
                assert found.held is not None
                ref = self.canonical(found.held.ref)
            else:
                ref = self.canonical(f"{found.module.name}.{found.name}")
            if ref is not None:
                self.plan.other_sessionmakers[ref] = f"`{found.name}` ({found.module.path}:{found.line})"
                if engine is not None and self._maker_engine(found) == engine:
                    # `ReadLocal = sessionmaker(bind=engine)` beside `SessionLocal = sessionmaker(engine)`:
                    # the same database, only the sessionmaker's own options may differ
                    self.plan.same_engine_makers[ref] = engine.rpartition(".")[2]

    def _maker_engine(self, found: Found) -> str | None:
        return maker_engine(self.project, found)

    def _session_class_stack(self, *groups: set[tuple[str, str]]) -> Found | None:
        """`with Session(engine) as session: yield session` (no sessionmaker, SQLModel's usual
        shape): the dependency stands in for a `sessionmaker(engine)`, and the async stack goes
        after it, bound to the same module-level engine."""
        for group in groups:
            found = self._session_class_dependencies(group)
            if found:
                return found[0]
        if not any(groups):
            return self._engine_stack()
        return None

    def _session_class_dependencies(self, group: set[tuple[str, str]]) -> list[Found]:
        """Each dependency of `group` opening `Session(engine)` on a module-level engine, as the
        `sessionmaker(engine)` it stands for; one per engine."""
        found: list[Found] = []
        engines: set[str] = set()
        for fid in sorted(group):
            module, function = self.project.functions[fid]
            for opened in function.opens:
                if not self.project.is_sync_session_type(opened.callee):
                    continue
                first = _opened_bind(function, opened)
                if first is None or first.name is None or first.name in {p.name for p in function.params}:
                    continue
                bind = facts.CallArg(None, first.name, ref=module.imports.get(first.name, f"{module.name}.{first.name}"))
                engine = self.canonical(bind.ref) or first.name
                if engine not in engines:
                    engines.add(engine)
                    args: tuple[facts.CallArg, ...] = (bind,)
                    if self.project.session_subclass(opened.callee) is not None:
                        # `with AppSession(engine) as s: yield s` stands for `sessionmaker(engine,
                        # class_=AppSession)`: the async sessions keep it as `sync_session_class=`
                        written = session_subclass.spelled(self.project, module, opened.callee)
                        args += (facts.CallArg("class_", written or opened.callee, ref=None if written is None else opened.callee),)
                    value = facts.Value("call", function.line, ref="sqlalchemy.orm.sessionmaker", args=args)
                    found.append(Found(module, function.name, value))
                break
        return found

    def _engine_openers(self) -> list[tuple[facts.Module, facts.Function, facts.SessionOpen, str]]:
        """`with Session(engine) as s:` outside the tests, on a module-level name: (module,
        function, the opening, the name's reference)."""
        found = []
        for _, module, function in self.project.iter_functions():
            if is_test_path(module.path):
                continue
            local = {p.name for p in function.params} | {b.name for b in function.bindings}
            for opened in function.opens:
                if not self.project.is_sync_session_type(opened.callee):
                    continue
                call = next((c for c in function.calls if c.line == opened.line and c.callee == opened.callee), None)
                first = next((a for a in call.args if a.position == 0 or a.keyword == "bind"), None) if call else None
                if first is None or first.name is None or first.name in local:
                    continue
                ref = module.imports.get(first.name) or (
                    f"{module.name}.{first.name}" if first.name in module.values else None
                )
                if ref is not None:
                    found.append((module, function, opened, ref))
        return found

    def _engine_stack(self) -> Found | None:
        """No sessionmaker and no session dependency, only Sessions opened on one module-level
        engine (`with Session(engine) as s:` in the routes, SQLModel's tutorial shape): the engine
        stands for a `sessionmaker(engine)`, and the async stack goes after it."""
        refs = {self.canonical(ref) or ref for _, _, _, ref in self._engine_openers()}
        if len(refs) != 1:
            return None
        engine = self._value_at(refs.pop())
        if engine is None or engine.value is None or engine.value.kind != "call":
            return None
        if self.canonical(engine.value.ref) not in SYNC_ENGINE_CONSTRUCTORS:
            return None
        bind = facts.CallArg(None, engine.name, ref=f"{engine.module.name}.{engine.name}")
        value = facts.Value("call", engine.line, ref="sqlalchemy.orm.sessionmaker", args=(bind,))
        self._engine_anchor = Found(engine.module, engine.name, value)
        return self._engine_anchor

    def _route_dependencies(self) -> set[tuple[str, str]]:
        """Session dependencies the routes of the application (not its tests) inject, anywhere in
        their dependency trees: `Depends(ProductService)` whose `__init__` takes
        `Depends(get_db)` reaches `get_db`. Only the routes' direct parameters would miss it, and
        the callers then fall back to every function typed `-> Session` (a plain getter too).
        Found once per analysis (several steps ask, and it walks every route): read it, never change it."""
        if self._route_dependencies_found is None:
            self._route_dependencies_found = self._find_route_dependencies()
        return self._route_dependencies_found

    def _view_dependencies(self, handler: Handler) -> list[str | None]:
        """The dependencies a class-based view declares in its class body (`db: Session =
        Depends(get_db)` under `@cbv(router)`), which FastAPI resolves for each of its routes."""
        classes = self.project.flow.classes
        owner = classes.owner(handler.id)
        if owner is None:
            return []
        return [ref for ancestor in classes.mro(owner) for ref in classes.by_ref[ancestor][1].depends.values()]

    def _find_route_dependencies(self) -> set[tuple[str, str]]:
        from async_migrate.codemods.phase2.dependencies import (
            dependency_function,
            route_dependencies,
        )

        found: set[tuple[str, str]] = set()
        seen: set[str] = set()
        by_module = _routes_by_module(self.project)
        groups = by_module.values() if self.modules is None else [by_module.get(m, ()) for m in self.modules]
        for handler in chain.from_iterable(groups):
            if self.handlers is not None and handler.id not in self.handlers:
                continue
            queue = [self.project.param_dependency(p) for p in handler.function.params]
            queue += route_dependencies(self.project, handler)
            queue += self._view_dependencies(handler)
            while queue:
                ref = queue.pop()
                if ref is None or ref in seen:
                    continue
                seen.add(ref)
                fid = dependency_function(self.project, ref)
                if fid is None:
                    continue
                if self.project.is_session_dependency(ref) and fid not in tx_dependency.wrappers(self.project):
                    found.update(c for c in self.project.dependency_callables(ref) if c in self.project.session_dependencies)
                    found.add(fid)
                    continue
                # `def get_db(): db = get_api_session(); yield db`: the Session comes from the session
                # dependency it calls, which the routes reach as surely as one they inject
                found.update(self._called_providers(fid))
                queue += [self.project.param_dependency(p) for p in self.project.functions[fid][1].params]
        return found

    def _called_providers(self, fid: FunctionId) -> set[FunctionId]:
        """The session dependencies a dependency calls for the Session it yields or returns."""
        _, function = self.project.functions[fid]
        calls = {t[1] for name in function.yields for t in function.holds.get(name, ()) if t[0] == "call"}
        calls |= {t[1] for t in function.results if t[0] == "call"}
        return {
            e.callee for e in self.project.all_calls_from.get(fid, ())
            if e.call.index in calls and e.callee in self.project.session_dependencies
        }

    def _held(self) -> list[held_stack.HeldFound]:
        """Sessionmakers held by module-level instances (`db.SessionLocal`), found once: the
        analysis tells them apart by identity."""
        if self._held_found is None:
            self._held_found = held_stack.candidates(self.project, self.texts)
        return self._held_found

    def _opens(self, fid: tuple[str, str], maker: Found) -> bool:
        """Whether the function opens sessions from `maker` (`with maker() as s`, `s = maker()`)."""
        _, function = self.project.functions[fid]
        if isinstance(maker, held_stack.HeldFound):
            assert maker.held is not None
            wanted = self.canonical(maker.held.ref)
            return any(self.canonical(o.callee.removesuffix(".begin")) == wanted for o in function.opens)
        for opened in function.opens:
            found = self._value_at(opened.callee.removesuffix(".begin"))
            if found is not None and found.module is maker.module and found.name == maker.name:
                return True
        return False

    def _scoped_maker(self, value: facts.Value) -> facts.Value | None:
        """The sessionmaker(...) call inside `scoped_session(sessionmaker(...))`: it stands for the
        stack (with the scoped_session's line), as a sessionmaker assigned to the name would."""
        inner = value.inner
        if value.kind != "call" or self.canonical(value.ref) not in SCOPED_SESSION_MAKERS or inner is None:
            return None
        if self.canonical(inner.ref) not in PLAIN_SESSIONMAKERS:
            return None
        return facts.Value(inner.kind, value.line, ref=inner.ref, args=inner.args)

    def _maker_bind(self, maker: Found) -> configure_bind.Bind:
        """The engine the sessionmaker is bound to: in sessionmaker(...) or by configure(bind=...)."""
        assert maker.value is not None
        key = (maker.module.name, maker.name, maker.line)
        found = self._binds.get(key)
        if found is None:
            own = _bind(maker.value)
            if maker is self._engine_anchor:
                found = configure_bind.Bind(own)
            else:
                found = configure_bind.resolve(self.project, maker, own)
            self._binds[key] = found
        return found

    def _engine_build(self, maker: Found, bind: facts.CallArg) -> EngineBuild:
        if isinstance(maker, held_stack.HeldFound):
            held = held_stack.engine_build(self.project, maker, bind)
            if held is not None:
                return held
        found = self._value_at(bind.ref)
        module = maker.module
        if found is None or found.value is None:
            target = self.project.resolve(bind.ref)
            where = target.module.path if target is not None and target.module is not None else module.path
            return EngineBuild(Build.UNKNOWN, where, maker.line)
        value = found.value
        callee = self.canonical(value.ref)
        if callee in SYNC_ENGINE_CONSTRUCTORS or callee in FROM_CONFIG:
            calls = [e for e in found.module.engines if e.scope is None and e.target == found.name]
            kind = Build.CALL if callee in SYNC_ENGINE_CONSTRUCTORS else Build.EXTERNAL
            return EngineBuild(kind, found.module.path, value.line, calls=calls)
        factory = self.project.function(value.ref)
        if factory is not None:
            calls = self._factory_calls(*factory, depth=0)
            return EngineBuild(
                Build.FACTORY, factory[0].path, value.line, function=f"{factory[0].name}.{factory[1].qualname}",
                calls=calls,
            )
        return EngineBuild(Build.EXTERNAL, found.module.path, value.line)

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

    def _sqlmodel(self) -> str | None:
        """What makes the synchronous stack hand out SQLModel sessions (`exec` and all), as a
        report names it (`db.py:8: the session dependency db.get_db opens sqlmodel.Session`);
        None when it hands out SQLAlchemy's."""
        # The routes' own session dependencies decide: a SQLModel dependency only other routers
        # use must not hand plain-SQLAlchemy routes SQLModel's AsyncSession.
        reached = self._route_dependencies() & self.project.session_dependencies
        for fid in sorted(reached or self._beside_own_openings(self.project.session_dependencies)):
            module, function = self.project.functions[fid]
            opened = next((o for o in function.opens if self.project.library_session(o.callee) in SQLMODEL_SESSION_TYPES), None)
            if opened is not None:
                return (f"{module.path}:{opened.line}: the session dependency {module.name}.{function.qualname} "
                        f"opens {self.canonical(opened.callee)}")
            returned = next((r for r in function.returns if self.project.library_session(r) in SQLMODEL_SESSION_TYPES), None)
            if returned is not None:
                return (f"{module.path}:{function.line}: the session dependency {module.name}.{function.qualname} "
                        f"is declared to give {self.canonical(returned)}")
        makers = False
        own = {(f.module.name, f.name) for f in self._sync_pool()[0]} if self._own_openings_only() else None
        for module, name, value in self.values():
            if own is not None and (module.name, name) not in own:
                continue  # another router's sessionmaker: not what this subsystem opens
            if value.kind == "call" and self.canonical(value.ref) in PLAIN_SESSIONMAKERS:
                makers = True
                given = next((
                    arg for arg in value.args
                    if arg.keyword == "class_" and self.project.library_session(arg.ref) in SQLMODEL_SESSION_TYPES
                ), None)
                if given is not None:
                    return (f"{module.path}:{value.line}: the sessionmaker `{name}` makes "
                            f"{self.canonical(given.ref)} (`class_=`)")
        if makers or self.project.session_dependencies:
            return None
        # Only Sessions opened on the engine: SQLModel's when every one of them is.
        openers = self._engine_openers()
        if not openers or not all(self.project.library_session(o.callee) in SQLMODEL_SESSION_TYPES for _, _, o, _ in openers):
            return None
        module, function, opened, _ = openers[0]
        return (f"{module.path}:{opened.line}: {module.name}.{function.qualname} opens "
                f"{self.canonical(opened.callee)} on the engine, as every Session opened there is")

    def run(self) -> StackPlan:
        self._run()
        self._generic_names()
        self._other_sessionmakers()
        self._inline_engine()
        self._override_notes()
        self._test_client_notes()
        return self.plan

    def _generic_names(self) -> None:
        """A follow-up when the stack phase two generates stands for one of several synchronous
        sessionmakers (a replica's beside the primary's): its names say nothing of which, and a
        route moved onto it later by hand would run on that database (a write on the replica)."""
        plan = self.plan
        engine = plan.async_engine
        if plan.blockers or plan.sessionmaker is None or engine is None or engine.exists:
            return
        others = [f"`{f.name}`" for f in self._production if f.name != plan.sessionmaker.name]
        if not others:
            return
        plan.other_makers = others
        defaults = Config()
        plan.names_configured = any(
            getattr(self.config, key) != getattr(defaults, key)
            for key in ("async_engine", "async_sessionmaker", "async_dependency", "async_alias")
        )
        plan.notes.append(generic_names_note(plan))

    def _test_client_notes(self) -> None:
        """A follow-up for each `TestClient(app)` not entered with `with`: every request then runs
        on an event loop of its own, and a pooled async connection opened on an earlier one fails
        ("attached to a different loop") on PostgreSQL and MySQL. Whatever drivers the engine's
        file names: a rerun, reusing the stack, sees none, and the database a runtime URL names
        (`os.environ.get("DATABASE_URL", "sqlite:///./app.db")`) may be any."""
        if self.plan.async_dependency is None:
            return
        found: list[tuple[str, int]] = []
        for module in self.project.modules.values():
            for value in module.values.values():
                if value.kind == "call" and self.canonical(value.ref) in TEST_CLIENTS:
                    found.append((module.path, value.line))
            for function in module.functions:
                entered = {b.line for b in function.bindings if b.entered}
                found.extend(
                    (module.path, call.line) for call in function.calls
                    if self.canonical(call.callee) in TEST_CLIENTS and call.line not in entered
                )
        for path, line in sorted(set(found))[:5]:
            self.plan.notes.append(
                f"{path}:{line}: `TestClient(...)` is not entered with `with`: each request then runs on an "
                "event loop of its own, and the async engine's pooled connections belong to the loop that "
                "opened them (\"attached to a different loop\" on PostgreSQL and MySQL); use `with "
                "TestClient(app) as client:` in tests"
            )
        engine = self.plan.async_engine.name if self.plan.async_engine is not None else (
            self.plan.state_engine or self.config.async_engine
        )
        for path, line, name, scope in ([] if self._lifespan_disposes() else self._per_test_clients()[:5]):
            each, second = _FIXTURE_SCOPES.get(scope, ("each time pytest sets it up", "the second time on"))
            self.plan.notes.append(
                f"{path}:{line}: the fixture `{name}` enters a new `TestClient(...)` for {each}, each on an "
                "event loop of its own, and the async engine's pooled connections belong to the loop that "
                f"opened them (\"attached to a different loop\" from {second}, with asyncpg or "
                f"aiomysql): dispose of the async engine when the client closes (`client.portal.call("
                f"{engine}.dispose)` before leaving the `with`), or give the fixture `scope=\"session\"`"
            )

    def _lifespan_disposes(self) -> bool:
        """The application's lifespan (or shutdown handler) awaits the reused async engine's
        `dispose()`: a fixture entering `with TestClient(app)` runs it as each client closes, so
        no test starts on a connection of another test's loop. Another async engine's disposal
        (an analytics stack's, beside the one the routes move onto) leaves this one's pool as it was."""
        engine = self._found_engine
        if engine is None or self.plan.async_engine is None or not self.plan.async_engine.exists:
            return False
        target = self.canonical(f"{engine.module.name}.{engine.name}")
        for fid, events in self.project.lifecycle_events.items():
            if not events & {"lifespan", "shutdown"}:
                continue
            module, function = self.project.functions[fid]
            node = None if is_test_path(module.path) else stack_extras.function_node(self.texts, module, function)
            if node is None:
                continue
            for awaited in ast.walk(node[1]):
                call = awaited.value if isinstance(awaited, ast.Await) else None
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "dispose":
                    name = dotted(call.func.value)
                    if name is not None and self.canonical(stack_extras.absolute(module, name)) == target:
                        return True
        return False

    def _per_test_clients(self) -> list[tuple[str, int, str, str]]:
        """`with TestClient(app) as c: yield c` in a pytest fixture not scoped to the session, with
        the scope it declares (`function` when none; `?` when not a literal)."""
        found = []
        for module in self.project.modules.values():
            for function in module.functions:
                fixture = next(
                    (d for d in function.decorators if (self.canonical(d.callee) or "").endswith("pytest.fixture")),
                    None,
                )
                if fixture is None or "session" in fixture.text:
                    continue
                entered = {b.line for b in function.bindings if b.entered}
                disposes = self._disposes_async((module.name, function.key))
                if not disposes and any(
                    self.canonical(c.callee) in TEST_CLIENTS and c.line in entered for c in function.calls
                ):
                    scope = re.search(r"\bscope\s*=\s*(?:\"(\w+)\"|'(\w+)'|(.))", fixture.text)
                    declared = "function" if scope is None else scope.group(1) or scope.group(2) or "?"
                    found.append((module.path, function.line, function.name, declared))
        return sorted(found)

    def _disposes_async(self, fid: FunctionId, depth: int = 3, seen: set[FunctionId] | None = None) -> bool:
        """Whether a fixture disposes of an async engine: `await async_engine.dispose()`,
        `client.portal.call(async_engine.dispose)`, `asyncio.run(async_engine.dispose())`, itself
        or in a project function it calls (`close_pools()`). A bare `engine.dispose()` whose
        result is dropped is the synchronous engine's: the async engine's pooled connections stay
        with the event loop that opened them."""
        seen = set() if seen is None else seen
        seen.add(fid)
        module, function = self.project.functions[fid]
        node = stack_extras.function_node(self.texts, module, function)
        if node is not None and _async_dispose(node[1]):
            return True
        return depth > 1 and any(
            self._disposes_async(edge.callee, depth - 1, seen)
            for edge in self.project.all_calls_from[fid] if edge.callee not in seen
        )

    def _run(self) -> StackPlan:
        plan = self.plan
        sqlmodel = self._sqlmodel()
        self.session_class = SQLMODEL_ASYNC_SESSION if sqlmodel else None
        self._existing()
        found_maker = self._found_maker.value if self._found_maker is not None else None
        if found_maker is not None and found_maker.kind == "call":
            # a reused async_sessionmaker makes SQLModel's AsyncSession only when it says so
            plan.sqlmodel = any(
                a.keyword == "class_" and self.canonical(a.ref) == SQLMODEL_ASYNC_SESSION for a in found_maker.args
            )
        else:
            plan.sqlmodel = self.session_class is not None
            if sqlmodel:
                # what made it SQLModel's, for a reviewer to check against the application
                plan.notes.append(
                    f"the async sessions are SQLModel's AsyncSession (`class_=` "
                    f"{SQLMODEL_ASYNC_SESSION}), since the synchronous ones are SQLModel's Session: {sqlmodel}"
                )
        for arg in found_maker.args if found_maker is not None else ():
            if arg.keyword == "sync_session_class":
                plan.session_methods = frozenset(session_subclass.added_methods(self.project, arg.ref))
        self._configured_makers()
        self._routing_sessionmakers()
        self.commits = self._sync_commits()
        if plan.blockers:
            return plan
        self._stack_extras()
        if plan.blockers:
            return plan
        self._check_reused_database()
        self._session_class()
        if plan.blockers:
            return plan
        self._listener_engines()
        if plan.blockers:
            return plan
        plan.query_class = self._query_class()
        self._expiry()
        self._autoflush()
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

    def _query_class(self) -> query_class.QueryClass | None:
        """The project Query class (`query_cls=`, in the constructor or a `configure()` call) of the
        synchronous sessionmaker the routes' Sessions come from: a reused async stack stands for the
        same one."""
        for maker in self._sync_pool()[0]:
            if maker.value is None or maker.value.kind != "call":
                continue
            args = [a for a in maker.value.args if a.keyword == "query_cls"]
            args += [a for _, a in configure_bind.keywords(self._maker_bind(maker)) if a.keyword == "query_cls"]
            if args:
                return query_class.query_class(self.project, args[-1], f"`{maker.name}` ({maker.module.path}:{maker.line})")
        return None

    def _routing_sessionmakers(self) -> None:
        """AM278: a sessionmaker that sends each Session's statements to several engines (`binds=`,
        or a project Session class overriding `get_bind`, a read replica's router): one async engine
        cannot stand for it, and the statements meant for the others would run on that one. For a
        subsystem, only the sessionmakers its own routes' dependencies open: one whose routes open
        none (they read `request.state.db`) is judged by what they do read, not by another router's
        routing sessionmaker."""
        pool, reached, _ = self._sync_pool()
        if self.modules is not None or self.handlers is not None:
            pool = [c for c in pool if any(self._opens(fid, c) for fid in reached)]
        for maker in pool:
            if maker.value is None:
                continue
            written = [(a, f"the sessionmaker `{maker.name}`", maker.module.path, maker.line) for a in maker.value.args]
            written += [
                (a, call.describe(maker.name), call.module.path, call.configure.line)
                for call in configure_bind.calls(self.project, maker) for a in call.configure.args
            ]
            for arg, where, path, line in written:
                if arg.keyword == "binds":
                    why = f"{where} routes its statements to several engines with `binds={arg.text}`"
                elif arg.keyword == "class_" and any(
                    self.project.function(f"{c}.get_bind") is not None for c in self._class_chain(arg.ref)
                ):
                    why = f"{where} makes `{arg.text}` Sessions, whose `get_bind()` chooses the engine of each statement"
                else:
                    continue
                self._block(
                    AM278, path, line,
                    f"{why}: the async stack has one async engine, so every statement would run on it, some on "
                    "the wrong database; move the routes one database at a time onto a sessionmaker bound to that "
                    "database's engine, or migrate them by hand onto an `async_sessionmaker(binds=...)` of async "
                    "engines, which phase two neither generates nor reuses" + self._routing_async_maker(),
                )
                return

    def _routing_async_maker(self) -> str:
        """What AM278 adds where the async sessionmaker found (or configured) routes by `binds=`
        itself: written by hand as its advice said, it is still no stack phase two moves routes
        onto, and a run naming it must not read as if it had not been seen."""
        maker = self._found_maker
        if maker is None or maker.value is None or not any(a.keyword == "binds" for a in maker.value.args):
            return ""
        return (
            f" (`{maker.name}` ({maker.module.path}:{maker.line}) is such an async_sessionmaker: phase two moves "
            "routes onto one async engine only, so it leaves these routes to be moved onto it by hand)"
        )

    def _configured_makers(self) -> None:
        """AM276: a [tool.async-migrate] sessionmakers name that names nothing in the project
        would be ignored without a word, and the stack chosen as if it were not configured."""
        for ref in sorted(self.config.sessionmakers):
            why = held_stack.unmatched(self.project, ref, self._held())
            if why is not None:
                self._block(AM276, *engine_options.config_location(self.config, "sessionmakers"), why)

    def _inline_engine(self) -> None:
        """The synchronous engine whose Sessions opened inline (`with Session(engine) as s:`)
        become `AsyncSession(<async engine>)`: the one the async engine is built from (or, reused,
        shown to reach the same database), when the routes' stack names exactly one."""
        plan = self.plan
        if plan.blockers:
            return
        engines = sorted({self.canonical(ref) or ref for ref, _ in self._sync_engines() if ref is not None})
        unread = [where for ref, where in self._sync_engines() if ref is None]
        if plan.async_engine is None:
            plan.inline_problem = (
                "the async stack has no async engine phase two can name (the async session dependency "
                "builds its Session some other way)"
            )
        elif unread:
            plan.inline_problem = (
                f"the synchronous sessionmaker ({unread[0][0]}:{unread[0][1]}) is not bound to a module-level "
                "engine, so phase two cannot tell which engine the async engine stands for"
            )
        elif len(engines) > 1:
            plan.inline_problem = (
                f"the synchronous stack uses several engines ({', '.join(f'`{e}`' for e in engines)}), and the "
                "async engine stands for one of them only"
            )
        elif not engines:
            plan.inline_problem = "phase two found no synchronous engine the async engine stands for"
        else:
            plan.inline_engine = engines[0]

    # ------------------------------------------------- what the sync stack does more

    def _providers(self) -> list[tuple[str, str]]:
        """The sync session dependencies the async one replaces: those the routes inject (else all),
        test code aside."""
        dependencies = self._candidate_providers()
        return sorted((self._route_dependencies() & dependencies) or dependencies)

    def _candidate_providers(self) -> set[FunctionId]:
        """Sync session providers the async dependency may stand for: test code aside, and a
        `@contextmanager` opener, which code enters and FastAPI never injects."""
        return {
            fid for fid in tx_dependency.providers(self.project)
            if not is_test_path(fid_path(self.project, fid)) and not scope_openers.entered_by_code(self.project, fid)
        }

    def _stack_extras(self) -> None:
        """AM271 (the sync session dependency does more than the async one would) and AM270
        (listeners on the sync engine or sessionmaker): see `stack_extras`."""
        if self.read is None:
            return  # no module text (check's own analysis): nothing is generated from this plan
        texts = self.texts
        config = self.config
        dependency = self._found_dependency
        reused = (dependency.module, dependency.function) if dependency is not None and dependency.function else None
        # A subsystem's stack is blocked only by what its routes reach: a dependency only other
        # routers inject (the fallback `_providers` copies the stack from) is no part of its requests.
        reached = self._route_dependencies() if self.modules is not None else None
        providers = [
            self.project.functions[fid] for fid in self._providers() if reached is None or fid in reached
        ]
        name = dependency.name if dependency is not None else config.async_dependency
        from_state = stack_extras.request_state_blockers(self.project, texts, providers, name)
        for module, function, message in from_state:
            self._block(AM264, module.path, function.line, message)
            self.plan.state_providers[module.name, function.key] = self.plan.blockers[-1]
        blocked = {(module.path, function.line) for module, function, _ in from_state}
        for path, line, message in stack_extras.provider_blockers(self.project, texts, providers, reused, name):
            if (path, line) not in blocked:  # its parameter and `return request.state.db` are AM264's
                self._block(AM271, path, line, message)
        engine = self._found_engine
        maker = self._found_maker
        names = (
            engine.name if engine is not None else config.async_engine,
            maker.name if maker is not None else config.async_sessionmaker,
        )
        stack = self._sync_stack()
        pool = self._sync_pool()[0]
        maker_class = self._maker_class(pool[0]) if len(pool) == 1 else None
        if maker_class is not None and stack_extras.maker_listened(
            self.project, texts, self.project.modules.values(), stack
        ):
            # The generated async_sessionmaker runs the class the sessionmaker makes, listeners and all.
            self.maker_class = maker_class
        blockers, notes = stack_extras.listener_blockers(
            self.project, texts, self.project.modules.values(), stack, names, is_test_path
        )
        for path, line, message in blockers:
            self._block(AM270, path, line, message)
        for path, line, message in stack_extras.blocking_listeners(
            self.project, texts, self.project.modules.values(), stack, is_test_path
        ):
            self._block(AM283, path, line, message)
        self.plan.notes.extend(notes)

    def _listener_engines(self) -> None:
        """AM343 (a listener the async sessions run compares with the synchronous engine), once
        the async engine is settled: the one reused, or the one generated."""
        if self.read is None:
            return
        engine = self._found_engine
        name = engine.name if engine is not None else self.config.async_engine
        for path, line, message in listener_engines.comparisons(
            self.project, self.texts, self.project.modules.values(), self._sync_stack(), name, is_test_path
        ):
            self._block(AM343, path, line, message)

    def _sync_stack(self) -> stack_extras.SyncStack:
        canonical = self.canonical
        engines, factories = set(), set()
        for ref, _ in self._sync_engines():
            if ref is None:
                continue
            engines.add(canonical(ref) or ref)
            found = self._value_at(ref)
            factory = self.project.function(found.value.ref) if found is not None and found.value is not None else None
            if factory is not None:
                factories.add(f"{factory[0].name}.{factory[1].qualname}")
        pool, _, _ = self._sync_pool()
        makers = {canonical(f"{m.module.name}.{m.name}") or m.name for m in pool}
        for maker in pool:
            if isinstance(maker, held_stack.HeldFound):
                factories |= held_stack.method_scopes(self.project, maker)
        for module, name, value in self.values():
            first = next((a for a in value.args if a.keyword is None), None) if value.kind == "call" else None
            if first is not None and canonical(value.ref) in SCOPED_SESSION_MAKERS and canonical(first.ref) in makers:
                makers.add(canonical(f"{module.name}.{name}") or name)
        bases = stack_extras.SQLMODEL_BASES if self.session_class else stack_extras.SESSION_BASES
        classes: set[str] = set()
        for maker in pool:
            for arg in maker.value.args if maker.value is not None else ():
                if arg.keyword == "class_":
                    classes |= self._class_chain(arg.ref)
        carried = set(bases)
        async_engine = self._found_engine
        stack = stack_extras.SyncStack(
            engines, factories, makers, classes - bases, carried,
            canonical(f"{async_engine.module.name}.{async_engine.name}") if async_engine is not None else None,
        )
        for fid in self._sync_pool()[1]:
            stack.tables |= keyed_makers.tables(self.project, self.read, fid)
        found = self._found_dependency
        if stack.tables and found is not None and found.function is not None:
            stack.carried_tables = keyed_makers.carried_tables(
                self.project, self.read, (found.module.name, found.function.key)
            )
        if self._found_maker is not None and self._found_maker.value is not None:
            for arg in self._found_maker.value.args:
                if arg.keyword == "sync_session_class":
                    carried |= self._class_chain(arg.ref)
                    # `sync_session_class=SessionLocal.class_`: the class that sessionmaker makes,
                    # its listeners and its own class_ with it
                    made_by = stack.target(canonical(arg.ref) or arg.ref)
                    if made_by in makers:
                        carried |= self._maker_family(made_by, pool)
        elif self._found_dependency is not None and self._found_dependency.function is not None:
            # `async with AsyncSession(async_engine, sync_session_class=AppSession) as s: yield s`
            # written by hand: its sessions run that class, the listeners on it included
            for call in self._found_dependency.function.calls:
                if call.callee is not None and self.project.is_async_session_type(call.callee):
                    for given in call.args:
                        if given.keyword == "sync_session_class" and given.ref is not None:
                            carried |= self._class_chain(given.ref)
        elif len(pool) == 1:
            kept = self._kept_session_class(pool[0])
            if kept is not None:  # the generated async_sessionmaker keeps it as sync_session_class=
                carried |= self._class_chain(kept.ref)
            if self._maker_class(pool[0]) is not None:
                # generated with `sync_session_class=SessionLocal.class_` when a listener needs it
                carried |= self._maker_family(canonical(f"{pool[0].module.name}.{pool[0].name}") or "", pool)
        return stack

    def _made_by(self, ref: str | None) -> facts.Value | None:
        """The synchronous sessionmaker call whose `class_` attribute `ref` names
        (`SessionLocal.class_`, `Scoped.session_factory.class_`)."""
        if ref is None or not ref.endswith(".class_"):
            return None
        head = ref.removesuffix(".class_").removesuffix(".session_factory")
        found = next((f for f in self._sync_pool()[0] if self.canonical(f"{f.module.name}.{f.name}") == head), None)
        return found.value if found is not None and not isinstance(found, held_stack.HeldFound) else None

    def _maker_family(self, maker: str, pool: list[Found]) -> set[str]:
        """What a Session of the class `maker` makes is an instance of: `maker` itself (its
        listeners are on that class), the scoped_session objects around it, and its `class_=`."""
        family = {maker}
        for module, name, value in self.values():
            first = next((a for a in value.args if a.keyword is None), None) if value.kind == "call" else None
            if first is not None and self.canonical(value.ref) in SCOPED_SESSION_MAKERS \
                    and self.canonical(first.ref) == maker:
                family.add(self.canonical(f"{module.name}.{name}") or name)
        for found in pool:
            if self.canonical(f"{found.module.name}.{found.name}") == maker and found.value is not None:
                for arg in found.value.args:
                    if arg.keyword == "class_":
                        family |= self._class_chain(arg.ref)
        return family

    def _maker_class(self, sync_maker: Found) -> str | None:
        """`SessionLocal.class_`, the Session subclass a sessionmaker makes and its listeners are
        registered on, as a generated async_sessionmaker beside it can name it for
        `sync_session_class=`; None where it cannot (the maker is held by an instance, or is
        another module's) or generates none (an async dependency written by hand is reused)."""
        if self._found_maker is not None or self._found_dependency is not None or isinstance(
            sync_maker, held_stack.HeldFound
        ):
            return None
        if self._found_engine is not None and self._found_engine.module is not sync_maker.module:
            return None
        value = sync_maker.module.values.get(sync_maker.name)
        if sync_maker.value is None or value is None or value.kind != "call":
            return None
        if self.canonical(value.ref) in PLAIN_SESSIONMAKERS:
            return f"{sync_maker.name}.class_"
        if self._scoped_maker(value) is not None:
            return f"{sync_maker.name}.session_factory.class_"
        return None  # a configured sessionmaker some call returns: what it makes is not read

    def _url_helper(self, module: facts.Module) -> str:
        """The driver-swapping function phase two generated in `module` before (the first
        database's stack), reused as it is; else the first free name for a new one."""
        text = self.texts.text(module.path) or ""
        for function in module.functions:
            name = function.qualname
            if not name.startswith(URL_HELPER) or "." in name:
                continue
            head = re.search(rf"^def {re.escape(name)}\(url: ([\w.]+)\) -> ", text, re.MULTILINE)
            if head is not None and url_helper_source(name, head.group(1)) in text:
                return name
        return _free(module, URL_HELPER)

    def _kept_session_class(self, sync_maker: Found) -> facts.CallArg | None:
        """The sync sessionmaker's `class_=` that a generated async_sessionmaker keeps as
        `sync_session_class=`: one generated beside the sync sessionmaker, where the name resolves.
        None where none is generated: a reused async dependency opens its sessions as it is written."""
        if self._found_maker is not None or self._found_dependency is not None:
            return None
        if self._found_engine is not None and self._found_engine.module is not sync_maker.module:
            return None
        return session_subclass.carried_class(self.project, sync_maker.value)

    def _class_chain(self, ref: str | None) -> set[str]:
        """A class and its bases, as canonical references, through the project's classes."""
        found: set[str] = set()
        todo = [self.canonical(ref)]
        while todo:
            current = todo.pop()
            if current is None or current in found:
                continue
            found.add(current)
            owner, _, name = current.rpartition(".")
            module = self.project.modules.get(owner)
            cls = next((c for c in module.classes if c.qualname == name), None) if module is not None else None
            if cls is not None:
                todo.extend(self.canonical(b) for b in cls.bases)
        return found

    def _override_notes(self) -> None:
        """Follow-ups for each `dependency_overrides[<sync session dependency>] = ...` under PATH."""
        dependency = self.plan.async_dependency
        if self.read is None or dependency is None:
            return
        providers = {
            self.canonical(f"{module.name}.{function.qualname}") or function.qualname
            for module, function in (self.project.functions[fid] for fid in self._providers())
        }
        # the tests decide which database the migrated routes reach under them, wherever they are
        tests = [
            *self.project.modules.values(),
            *(outside_tests.modules(self.root, self.read) if self.root is not None else ()),
        ]
        self.plan.test_modules = tests[len(self.project.modules):]
        for path, line, message in stack_extras.application_overrides(
            self.project, self.texts, self.project.modules.values(), providers,
            dependency.name, self.canonical(f"{dependency.module}.{dependency.name}"),
        ):
            self._block(AM328, path, line, message)
        self.plan.overrides = stack_extras.override_notes(
            self.project, self.texts, tests, providers,
            dependency.name, self.canonical(f"{dependency.module}.{dependency.name}"),
        )
        async_ref = self.canonical(f"{dependency.module}.{dependency.name}")
        sync = self._sync_stack()
        async_pieces = {
            self.canonical(f"{piece.module}.{piece.name}") or f"{piece.module}.{piece.name}"
            for piece in (self.plan.async_engine, self.plan.async_sessionmaker) if piece is not None
        }
        gaps = stack_extras.redirect_notes(
            self.project, self.texts, tests, sync.engines | sync.makers, async_pieces,
            dependency.name, async_ref,
        )
        self.plan.overrides += gaps
        if not gaps and not any(stack_extras.redirects(self.project, self.texts, tests, async_pieces)):
            # The async dependency is overridden: that reaches what gets its AsyncSession through
            # it, not migrated code opening the async sessionmaker itself (the driver's to judge).
            self.plan.sync_redirects = [
                (r.path, r.line, r.written, r.target)
                for r in stack_extras.redirects(self.project, self.texts, tests, sync.engines | sync.makers)
            ]
        found = self._found_dependency
        async_fid = (found.module.name, found.function.key) if found is not None and found.function is not None else None
        self.plan.overrides += state_swaps.notes(
            self.project, self.texts, tests, self._providers(),
            async_fid if async_fid in self.project.functions else None, dependency.name, async_ref, async_pieces,
        )
        self.plan.session_overridden = any(stack_extras.overrides(
            self.project, self.texts, tests, providers | ({async_ref} if async_ref else set()),
        ))

    # ------------------------------------------------------ reused database

    def _check_reused_database(self) -> None:
        """An existing async stack is reused only when its engine is shown to be bound to the
        database of the synchronous stack the routes reach (AM243); see `stack_source`."""
        dependency, maker, engine = self._found_dependency, self._found_maker, self._found_engine
        reused = dependency or maker or engine
        if reused is None:
            return
        bound = self._bound_sync_engines()
        sync = bound if bound is not None else self._sync_engines() or self._keyed_engines()
        if not sync:
            self._unnamed_sync_stack(reused)
            return
        sources = self.sources
        if dependency is not None:
            assert dependency.function is not None
            engine_ref = sources.async_dependency_engine(dependency.module, dependency.function)
            if engine_ref is None:  # `AsyncSessionLocals.get(x_tenant)`: a dict of async_sessionmakers
                keyed = keyed_makers.engine_of_keyed_makers(
                    self.project, self.read, (dependency.module.name, dependency.function.key), ASYNC_SESSIONMAKERS,
                )
                engine_ref = keyed[0] if keyed is not None else None
            what = f"async session dependency `{dependency.name}`"
        elif maker is not None:
            engine_ref = sources.maker_engine(f"{maker.module.name}.{maker.name}")
            what = f"async_sessionmaker `{maker.name}`"
        else:
            assert engine is not None
            engine_ref = f"{engine.module.name}.{engine.name}"
            what = f"async engine `{engine.name}`"
        if self._from_configured_factory(engine_ref):
            return  # the engine the configuration names for this project, as a generated stack has it
        if len(self._sync_pool()[0]) > 1:
            # Several databases: one of them is not the async engine's whatever it is; AM231 says
            # so, and lets a subsystem whose routes reach one sessionmaker be compared alone.
            self._sync_sessionmaker()
            return
        for maker in self._sync_pool()[0]:
            bind_problem = self._maker_bind(maker).problem
            if bind_problem is not None:  # which engine the synchronous stack uses is not one answer
                self._block(*bind_problem)
                return
        reused_at = (reused.module.path, reused.line)
        async_source = sources.engine(engine_ref, reused_at)
        # An engine not named by a module-level reference is described in words, never as `?`.
        async_words = (
            f"{async_source}" if engine_ref is not None else
            f"one phase two cannot name (no module-level async engine or async_sessionmaker it opens its "
            f"sessions on, {reused.module.path}:{reused.line})"
        )
        for ref, where in sync:
            sync_source = sources.engine(ref, where)
            if async_source.same_database(sync_source):
                if self._other_options(sources, engine_ref, ref, what, reused_at, async_source, sync_source):
                    return
                continue
            sync_words = (
                f"{sync_source}" if ref is not None else
                f"of the sessionmaker at {where[0]}:{where[1]}, which is not bound to a module-level engine "
                "phase two can follow"
            )
            if not async_source.known:
                problem = (
                    f"phase two cannot tell which database its engine {async_source} uses" if engine_ref is not None
                    else "phase two cannot tell which database that async engine uses"
                )
            elif not sync_source.known:
                problem = (
                    f"phase two cannot tell which database the synchronous engine {sync_source} uses"
                    if ref is not None else "phase two cannot tell which database that engine uses"
                )
            else:
                problem = "they are not built from the same URL (nor one from the other by a driver swap)"
            if len(self._production) > 1 and self._second_stack_named():
                # Another database's stack (a read replica's, migrated first): the configuration
                # names a stack of this subsystem's own, generated beside it.
                self._found_engine = self._found_maker = self._found_dependency = self._found_alias = None
                self.plan.async_engine = self.plan.async_sessionmaker = None
                self.plan.async_dependency = self.plan.async_alias = None
                return
            remedy = (
                "the routes migrated onto it may need it as it is: give this subsystem a stack of its own by "
                "running phase two with a configuration (`--config`) naming new `async-engine`, "
                "`async-sessionmaker`, `async-dependency` and `async-alias`"
                if len(self._production) > 1 else
                "build the async engine from the same URL (or from the sync engine's `.url` with the driver "
                "swapped), or remove it and let phase two generate one"
            )
            self._block(
                AM243, *reused_at,
                f"phase two would reuse the existing {what} ({reused.module.path}:{reused.line}), whose "
                f"engine is {async_words}, while the routes' synchronous stack uses the engine {sync_words}; "
                f"{problem}, so the migrated routes might use another database: {remedy}",
            )
            return

    def _bound_sync_engines(self) -> list[tuple[str | None, tuple[str, int]]] | None:
        """The engines the routes' session dependencies open their Sessions on when they pass a
        bind of their own (`SessionLocal(bind=tenant_engine(tenant))`, `Session(bind=engines[t])`):
        the module-level engine each tenant's is derived from, not the sessionmaker's. Empty when
        one picks from a dict of engines built one per tenant (no one engine: the configuration's
        word, `_unnamed_sync_stack`); None when none passes such a bind, or one phase two cannot
        follow to an engine."""
        found: list[tuple[str | None, tuple[str, int]]] = []
        per_tenant = False
        for fid in sorted(self._sync_pool()[1]):
            module, function = self.project.functions[fid]
            node = stack_extras.function_node(self.texts, module, function)
            binds = tenant_binds.opening_binds(self.project, self.texts, module, node[1]) if node is not None else []
            for bind in binds:
                if bind.engine is None and not bind.per_tenant:
                    return None
                per_tenant = per_tenant or bind.per_tenant
                if bind.engine is not None:
                    found.append((bind.engine, (module.path, bind.line)))
        if per_tenant:
            return []
        return found or None

    def _keyed_engines(self) -> list[tuple[str | None, tuple[str, int]]]:
        """The one module-level engine behind the dicts of sessionmakers the routes' session
        dependencies pick from at run time (`keyed_makers`), as `_sync_engines` gives engines."""
        found = {keyed_makers.engine_of_keyed_makers(self.project, self.read, fid) for fid in self._sync_pool()[1]}
        if len(found) != 1 or None in found:
            return []
        return [cast("tuple[str, tuple[str, int]]", next(iter(found)))]

    def _unnamed_sync_stack(self, reused: Found) -> None:
        """The routes inject a synchronous session dependency whose Session comes from no
        sessionmaker or engine phase two can name (`sessionmakers[tenant]()` out of a dict built
        per tenant, a factory's result): nothing shows that the reused async stack reaches the
        same database for each request, and a wrong one answers 200 on another database (AM243).
        Naming the reused dependency as [tool.async-migrate] `async-dependency` says it is the
        routes' async counterpart, as `async-engine-factory` vouches for an engine."""
        reached = sorted(self._sync_pool()[1])
        if not reached:
            return  # no synchronous session dependency the routes inject: nothing to compare
        declared = self._found_dependency is not None and self.config.async_dependency == self._found_dependency.name
        if declared and "async_dependency" in self.config.written:
            return
        module, function = self.project.functions[reached[0]]
        where = f"{fid_path(self.project, reached[0])}:{function.line}"
        kind = "async session dependency" if reused is self._found_dependency else (
            "async_sessionmaker" if reused is self._found_maker else "async engine"
        )
        self._block(
            AM243, reused.module.path, reused.line,
            f"phase two would reuse the existing {kind} `{reused.name}` ({reused.module.path}:{reused.line}), "
            f"while the routes' synchronous session dependency `{function.qualname}` ({where}) opens its "
            "Session on no module-level sessionmaker or engine phase two can follow (one picked at run time, "
            "such as `sessionmakers[tenant]()`, or one an application factory keeps on `app.state`); phase two cannot tell whether both reach the same database for "
            "each request, so the migrated routes might use another database: when the async dependency opens "
            f"the same database as `{function.qualname}` on every request, name it in [tool.async-migrate] "
            f'(`async-dependency = "{self._found_dependency.name if self._found_dependency else "..."}"`) '
            "and run phase two again",
        )

    def _other_options(
        self, sources: stack_source.Sources, engine_ref: str | None, ref: str | None, what: str,
        reused_at: tuple[str, int], async_source: stack_source.Source, sync_source: stack_source.Source,
    ) -> bool:
        """Block (AM266) when the reused async engine, on the synchronous engine's URL, maps schemas
        or isolates transactions otherwise; engines whose options cannot be read stay as AM243 left them."""
        mine, theirs = engine_reach.reach_options(sources, engine_ref), engine_reach.reach_options(sources, ref)
        if mine is None or theirs is None:
            return False
        shown = engine_reach.differences(theirs, mine)
        if not shown:
            return False
        self._block(
            AM266, *reused_at,
            f"phase two would reuse the existing {what} ({reused_at[0]}:{reused_at[1]}), whose engine "
            f"{async_source} is on the URL of the routes' synchronous engine {sync_source}, but "
            f"{'; '.join(shown)}: the migrated routes would read and write other tables (another schema) "
            "or keep other writes (another isolation level) and still answer 200: give the async engine "
            "the synchronous engine's options, or remove it and let phase two generate one from the "
            "synchronous engine",
        )
        return True

    def _second_stack_named(self) -> bool:
        """Whether [tool.async-migrate] names every piece of the async stack other than the one
        found: no found piece bears its configured name, so generating those names leaves it alone."""
        names = self.config
        pairs = (
            (self._found_engine, names.async_engine),
            (self._found_maker, names.async_sessionmaker),
            (self._found_dependency, names.async_dependency),
            (self._found_alias, names.async_alias),
        )
        return all(found is None or found.name != name for found, name in pairs)

    def _from_configured_factory(self, engine_ref: str | None) -> bool:
        """Whether the async engine is built by calling [tool.async-migrate] async-engine-factory
        (`async_engine = make_async_engine()`, as phase two generates it): the configuration
        says that is the project's async engine, so it is trusted as when it is generated."""
        ref = (self.config.async_engine_factory or "").replace(":", ".")
        found = self._value_at(engine_ref) if ref and engine_ref else None
        if found is None or found.value is None or found.value.kind != "call":
            return False
        called = self.project.function(found.value.ref)
        configured = self.project.function(ref)
        return called is not None and configured is not None and called[0].name == configured[0].name and (
            called[1].key == configured[1].key
        )

    def _expiry(self) -> None:
        """Whether the async sessions the migrated routes get expire objects on commit: a generated
        async_sessionmaker does not; a reused one (or dependency) does unless it says otherwise.
        A reused one that does not, where the synchronous stack did, leaves reads after a commit
        stale (they reloaded the row): `reloaded_on_commit`, as for a generated one."""
        sources = self.sources
        found = None
        if self._found_dependency is not None:
            assert self._found_dependency.function is not None
            found = sources.dependency_expires(self._found_dependency.module, self._found_dependency.function)
            if found is None:  # `async_sessionmakers[tenant]()`: the sessionmakers of that dict
                found = keyed_makers.keyed_expires(
                    self.project, self.read,
                    (self._found_dependency.module.name, self._found_dependency.function.key), ASYNC_SESSIONMAKERS,
                )
            if found is None:
                found = self._state_expires(self._found_dependency.module, self._found_dependency.function, sync=False)
            if found is None:
                found = (
                    True,
                    f"{self._found_dependency.module.path}:{self._found_dependency.line}: {stack_source.UNREAD}",
                )
        elif self._found_maker is not None:
            found = sources.maker_expires(f"{self._found_maker.module.name}.{self._found_maker.name}")
            if found is None:
                found = (True, f"{self._found_maker.module.path}:{self._found_maker.line}")
        if found is not None:
            self.plan.expire_on_commit, self.plan.expiring = found
            if not found[0]:
                self.plan.reloaded_on_commit = self._sync_reloads(None)

    def _state_expires(self, module: facts.Module, function: facts.Function, sync: bool) -> tuple[bool, str] | None:
        """`expire_on_commit` of the sessions a dependency opens from what the application keeps
        on its state (`request.app.state.async_sessionmaker()`, set in a lifespan): read from every
        assignment of that attribute outside the tests; one that cannot be read counts as True.
        None: the dependency opens nothing from the application's state."""
        if stack_extras.app_state_maker(self.project, self.texts, module, function) is None:
            return None
        reader = session_flags.Reader(self.project, self.sources, self.texts)
        flag = reader.dependency((module.name, function.key), "expire_on_commit", sync=sync)
        if flag is None:
            return None
        if flag.value is None:
            return True, f"{flag.where}: {stack_source.UNREAD}"
        return flag.value, flag.where

    def _autoflush(self) -> None:
        """Block (AM326) when the reused async sessions autoflush otherwise than the synchronous
        ones the routes get: the migrated code's queries then see pending objects they did not
        (or miss ones they saw), and commit other values with a 200. A side whose `autoflush`
        cannot be read (a sessionmaker built by a factory, kept on the application's state and
        not followed, `autoflush=flag`) is unknown, never the same: it blocks too, naming what
        could not be read. A generated stack carries the keyword over
        (`engine_options.SESSION_CARRIED`)."""
        reader = session_flags.Reader(self.project, self.sources, self.texts)
        reused: session_flags.Flag | None = None
        name = ""
        if self._found_dependency is not None:
            dependency = self._found_dependency
            assert dependency.function is not None
            reused = reader.dependency((dependency.module.name, dependency.function.key), "autoflush", sync=False)
            name = f"async session dependency `{dependency.name}`"
        if (reused is None or reused.value is None) and self._found_maker is not None:
            maker = self._found_maker
            from_maker = reader.module_maker(f"{maker.module.name}.{maker.name}", "autoflush")
            if from_maker is not None and (reused is None or from_maker.value is not None):
                reused, name = from_maker, f"async_sessionmaker `{maker.name}`"
        if reused is None and self._found_dependency is not None:
            # it opens its sessions on nothing phase two reads: unknown, never the synchronous one's
            reused = session_flags.Flag(
                None, f"{self._found_dependency.module.path}:{self._found_dependency.line}, opening its sessions on "
                "nothing phase two reads"
            )
        if reused is None:
            return
        pool, reached, dependencies = self._sync_pool()
        sync: list[session_flags.Flag] = []
        for fid in sorted(reached or dependencies):
            found = reader.dependency(fid, "autoflush", sync=True)
            if found is not None:
                sync.append(found)
        if not sync:
            for candidate in pool:
                if candidate is not self._engine_anchor:
                    found = reader.module_maker(f"{candidate.module.name}.{candidate.name}", "autoflush")
                    value = candidate.value
                    if found is None and value is not None and value.kind == "call" and (
                        self.canonical(value.ref) in PLAIN_SESSIONMAKERS
                    ):  # held by a module-level instance (`db.SessionLocal`, set in `__init__`)
                        found = session_flags.from_args(
                            value.args, "autoflush", f"`{candidate.name}` ({candidate.module.path}:{candidate.line})"
                        )
                    if found is not None:
                        sync.append(found)
        where = self._found_dependency or self._found_maker
        assert where is not None
        unknown = next((found for found in sync if found.value is None), None)
        if not sync and (reached or dependencies):
            # a session dependency opening what phase two does not follow (a middleware's
            # `request.state.db`): its autoflush is unknown, not the async one's
            module, function = self.project.functions[sorted(reached or dependencies)[0]]
            unknown = session_flags.Flag(
                None, f"`{function.qualname}` ({module.path}:{function.line}) opens it on nothing phase two reads"
            )
        if reused.value is None or unknown is not None:
            self._block(
                AM326, where.module.path, where.line,
                f"phase two would reuse the existing {name} ({reused.where}) for the routes' synchronous "
                f"Session ({(unknown or sync[0]).where}), and cannot tell whether the "
                "two autoflush alike: "
                + ("the async side's `autoflush` cannot be read; " if reused.value is None else
                   f"the async side {_said_autoflush(reused.value)}; ")
                + ("the synchronous side's cannot be read" if unknown is not None else
                   f"the synchronous side {_said_autoflush(sync[0].value)}")
                + ": where they differ the migrated code's queries would see pending objects it did not (or "
                "miss ones it saw) and commit other values with a 200; pass `autoflush=` as a literal to both "
                "sessionmakers (or at module level, where phase two reads it), the same on both",
            )
            return
        other = next((found for found in sync if found.value != reused.value), None)
        if other is None:
            return
        self._block(
            AM326, where.module.path, where.line,
            f"phase two would reuse the existing {name} ({reused.where}), which {_said_autoflush(reused.value)}, "
            f"while the routes' synchronous Session ({other.where}) {_said_autoflush(other.value)}: the migrated "
            "code's queries would see pending objects it did not (or miss ones it saw) and commit other values "
            "with a 200; give the async sessionmaker the synchronous one's `autoflush` (and check the routes "
            "already on it), or remove the async stack and let phase two generate one",
        )

    def _session_class(self) -> None:
        """Block (AM327) when the reused async_sessionmaker runs a Session class overriding other
        Session methods than the class the routes' synchronous sessionmaker makes: a read
        replica's stack (`sync_session_class=ReadOnlySession`, whose `flush()` raises) reused for
        the write routes of the same database would fail or change every write."""
        maker = self._found_maker
        if maker is None or maker.value is None or maker.value.kind != "call":
            return  # generated (it keeps the class), or a dependency whose maker is not read
        reused = next((a for a in maker.value.args if a.keyword == "sync_session_class"), None)
        reused_ref = self.canonical(reused.ref) if reused is not None else None
        made_by = self._made_by(reused_ref)
        if made_by is not None:
            # `sync_session_class=SessionLocal.class_`: a subclass of that sessionmaker's class_
            reused_ref = next((self.canonical(a.ref) for a in made_by.args if a.keyword == "class_"), None)
        theirs = session_subclass.overridden_methods(self.project, reused_ref)
        for candidate in self._sync_pool()[0]:
            if isinstance(candidate, held_stack.HeldFound) or candidate.value is None or candidate.value.kind != "call":
                continue
            made = next((a for a in candidate.value.args if a.keyword == "class_"), None)
            made_ref = self.canonical(made.ref) if made is not None else None
            if made_ref is not None and self.project.is_async_session_type(made_ref):
                continue  # 1.4 style: the sessionmaker makes AsyncSessions itself
            mine = session_subclass.overridden_methods(self.project, made_ref)
            if mine == theirs:
                continue
            if len(self._production) > 1 and self._second_stack_named():
                # Another sessionmaker's stack (the read routes', migrated first): the configuration
                # names a stack of this subsystem's own, generated beside it.
                self._found_engine = self._found_maker = self._found_dependency = self._found_alias = None
                self.plan.async_engine = self.plan.async_sessionmaker = None
                self.plan.async_dependency = self.plan.async_alias = None
                return

            def said(ref: str | None, methods: dict[str, str]) -> str:
                if not methods:
                    return f"`{ref.rsplit('.', 1)[-1]}`, which overrides no Session method" if ref else "plain Sessions"
                shown = ", ".join(f"`{name}()`" for name in sorted(methods))
                return f"`{(ref or '').rsplit('.', 1)[-1]}`, which overrides {shown}"

            self._block(
                AM327, maker.module.path, maker.line,
                f"phase two would reuse the existing async_sessionmaker `{maker.name}` ({maker.module.path}:"
                f"{maker.line}), whose sessions run {said(reused_ref, theirs)}, while the routes' synchronous "
                f"sessionmaker `{candidate.name}` ({candidate.module.path}:{candidate.line}) makes "
                f"{said(made_ref, mine)}: the migrated routes would flush, commit and query through another "
                "Session class (a read replica's read-only one for writes, or the other way round); give this "
                "subsystem a stack of its own by running phase two with a configuration (`--config`) naming "
                "new `async-engine`, `async-sessionmaker`, `async-dependency` and `async-alias`, or give the "
                "async sessionmaker `sync_session_class=` the synchronous sessionmaker's class",
            )
            return

    def _sync_reloads(self, maker: Found | None) -> str:
        """Where the synchronous stack expires objects on commit (or cannot be read, and counts as
        one that does); empty when it does not. Read from the Session dependencies the routes
        inject (what they open: a sessionmaker, `Session(engine)`, with keywords of their own),
        then from the sessionmaker the stack is built on (`maker`; None: every candidate)."""
        sources = self.sources
        pool, reached, dependencies = self._sync_pool()
        unread = ""
        for fid in sorted(reached or dependencies):
            module, function = self.project.functions[fid]
            found = sources.dependency_expires(module, function, sync=True)
            if found is None:
                found = self._state_expires(module, function, sync=True)
            if found is None and not pool:  # `sessionmakers[tenant]()`: the sessionmakers of that dict
                found = keyed_makers.keyed_expires(self.project, self.read, fid, PLAIN_SESSIONMAKERS)
                unread = unread or (f"{fid_path(self.project, fid)}:{function.line}: {stack_source.UNREAD}"
                                    if found is None else "")
            if found is not None and found[0]:
                return found[1]
        if unread and not pool and self._engine_anchor is None:
            return unread  # no sessionmaker to read either: it counts as expiring
        for candidate in [maker] if maker is not None else pool:
            if candidate is self._engine_anchor:
                continue  # no Session of the synchronous stack: Sessions opened inline keep their own keywords
            ref = f"{candidate.module.name}.{candidate.name}"
            found = sources.maker_expires(ref)
            if found is None and self.project.function(ref) is not None:
                continue  # `with Session(engine) as session: yield session`: read above
            if found is None:
                found = self._held_expires(candidate)
            if found is None:
                found = (True, f"{candidate.module.path}:{candidate.line}: {stack_source.UNREAD}")
            if found[0]:
                return found[1]
        return ""

    def _held_expires(self, candidate: Found) -> tuple[bool, str] | None:
        """`expire_on_commit` of a sessionmaker a module-level instance holds (`db.SessionLocal`,
        set to `sessionmaker(...)` in its `__init__`), from that call's arguments as the index keeps
        them; a value it cannot read counts as expiring, saying so. None for any other candidate."""
        value = candidate.value
        if not isinstance(candidate, held_stack.HeldFound) or value is None or value.kind != "call" or (
            self.canonical(value.ref) not in PLAIN_SESSIONMAKERS
        ):
            return None
        where = f"`{candidate.name}` at {candidate.module.path}:{candidate.line}"
        flag = session_flags.from_args(value.args, "expire_on_commit", where)
        if flag.value is None:
            return True, f"{flag.where.replace(', which phase two cannot read', '')}: {stack_source.UNREAD}"
        return flag.value, where

    def _sync_engines(self) -> list[tuple[str | None, tuple[str, int]]]:
        """The engines (references, and where the sessionmaker binds them) of the synchronous
        sessionmakers the routes' dependencies reach."""
        pool, reached, dependencies = self._sync_pool()
        if not pool:
            found = self._session_class_stack(reached, dependencies)
            pool = [found] if found is not None else []
        engines = []
        for maker in pool:
            assert maker.value is not None
            bind = self._maker_bind(maker).arg
            ref = bind.ref if bind is not None and not bind.local else None
            engines.append((ref, (maker.module.path, maker.line)))
        return engines

    # ------------------------------------------------------ commit on exit

    def _sync_commits(self) -> bool | None:
        """Whether the sync session dependencies the routes inject commit at the end of a request.

        A dependency that commits after `yield` saves what a route only added or flushed; the
        async dependency must do the same, or those writes are rolled back without an error.
        Dependencies that disagree block phase two (AM240): one async dependency cannot copy both.
        """
        verdicts = self.reached_commits(fallback=True)
        if len(set(verdicts.values())) > 1 and self._inline_openings_only():
            # Routes opening `Session(engine)` themselves commit by hand: the dependencies beside
            # them disagreeing is other routes' business, not a reason to block these.
            return None
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

    def reached_commits(self, fallback: bool = False) -> dict[FunctionId, bool]:
        """The session providers the routes reach, each with whether it commits at the end of a
        request (`fallback`: every provider when the routes reach none)."""
        # A dependency handing out the Session a middleware put on the request's state opens none:
        # whether it commits is the opener's business (AM264 blocks the routes reaching it).
        dependencies = {fid for fid in self._candidate_providers() if not self._state_accessor(fid)}
        reached = self._route_dependencies() & dependencies
        if fallback and not reached:
            reached = self._beside_own_openings(dependencies)
        return {fid: _commits_on_exit(self.project, self.project.functions[fid][1]) for fid in sorted(reached)}

    def _state_accessor(self, fid: FunctionId) -> bool:
        """Whether the session dependency `fid` only hands out a Session held on the request's
        state (`return request.state.db`, its attribute one the flow reads as a Session): it opens
        none and yields none of its own."""
        function = self.project.functions[fid][1]
        if function.opens or function.yields or not function.returned:
            return False
        attributes = [_STATE_ATTRIBUTE.fullmatch(expression) for expression in function.returned]
        return all(
            match is not None and any(v.kind == SESSION for v in self.project.flow.request_state(match.group(1)))
            for match in attributes
        )

    def _check_reused_commit(self, found: Found) -> None:
        assert found.function is not None
        reused = _commits_on_exit(self.project, found.function)
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
            cls = next((c for c in module.classes if c.qualname == name), None)
            if function is not None:
                taken = (function.line, "is a function")
            elif cls is not None:
                taken = (cls.line, "is a class")
            elif name in module.imports:
                taken = (1, f"is imported from `{module.imports[name]}`")
        if taken is None:
            taken = self._bound_in_text(module, name)
        if taken is None:
            return True
        self._block(
            AM232, module.path, taken[0],
            f"`{name}` {taken[1]} here and is not an {what} phase two can reuse; phase two would generate its "
            f"{what} under this name: choose another with [tool.async-migrate] {key}",
        )
        return False

    def _bound_in_text(self, module: facts.Module, name: str) -> tuple[int, str] | None:
        """Where the module's text binds `name` where its facts keep no value: a string
        (`async_engine = "sqlite+aiosqlite://"`), a number, a `global` write in a function."""
        found = self.texts.get(module.path, name)
        if found is None:
            return None
        bound = [b for b in shadowed_imports.bindings(found[1].body) if b.name == name]
        if not bound:
            return None
        first = bound[0]
        if first.identity[0] == "import":
            return (first.line, f"is imported (`{first.what}`)")
        if first.what.startswith("global "):
            return (first.line, f"is bound by `{first.what}`")
        return (first.line, "is assigned" if first.what.endswith("= ...") else f"is bound (`{first.what}`)")

    def _plan_engine_side(self, sync_maker: Found | None) -> None:
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
            why = self._plan_state_stack()
            if why is not None:
                plan.blockers.append(self._no_sessionmaker(why))
            return
        module = host.module
        edit = dict(
            anchor=host.anchor if isinstance(host, held_stack.HeldFound) else host.name,
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
                value, notes = configure_bind.effective(sync_maker, self._maker_bind(sync_maker))
                plan.notes.extend(notes)
                effective = Found(sync_maker.module, sync_maker.name, value)
                kept = self._kept_session_class(sync_maker)
                carried = engine_options.session_kwargs(self.project, self.plan, effective, kept)
                if self.maker_class is not None:
                    # a subclass of the kept class_, carrying the sessionmaker's listeners as well
                    carried = (*(a for a in carried if a[0] != "sync_session_class"), ("sync_session_class", self.maker_class))
                edit["session_kwargs"] = carried
                if kept is not None:
                    plan.session_methods = frozenset(session_subclass.added_methods(self.project, kept.ref))
            if sync_maker is not None:
                plan.reloaded_on_commit = self._sync_reloads(sync_maker)
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

    def _plan_state_stack(self) -> str | None:
        """The async stack beside a sessionmaker a lifespan keeps on the application's state
        (`phase2/state_stack.py`); None when planned (or blocked by the engine's policy), else
        why phase two does not write it. Without a dependency opening the state: ""."""
        pool, reached, dependencies = self._sync_pool()
        held = self._state_opener(reached | dependencies)
        if pool or held is None:
            return ""
        opener, state = held
        module = self.project.functions[opener][0]
        if not self._claim(module, self.config.async_dependency, "async-dependency", "async session dependency"):
            return None
        lifespan_host = next(
            (self.project.functions[fid][0] for fid, _, _, _ in self.project.flow.state_assignments().get(
                state.partition(".app.state.")[2], []
            )), module,
        )
        planned = state_stack.plan(
            self.project, self.texts, self.plan, self.config, opener, state, bool(self.commits), self.session_class,
            self.read, self._url_helper(lifespan_host),
        )
        if isinstance(planned, str):
            return planned
        plan = self.plan
        plan.state_edits = planned.edits  # type: ignore[assignment]
        plan.state_engine = planned.engine
        plan.async_dependency = Piece(module.name, module.path, self.config.async_dependency)
        plan.reloaded_on_commit = self._sync_reloads(None)
        plan.notes.append(
            f"the generated `{self.config.async_dependency}` opens `{state.partition('.app.state.')[0]}.app.state."
            f"async_{state.partition('.app.state.')[2]}`, which a later run cannot tie to the database of "
            f"`{self.project.functions[opener][1].qualname}` by itself (AM243): name it in [tool.async-migrate] "
            f"(`async-dependency = \"{self.config.async_dependency}\"`, `async-alias = \"{self.config.async_alias}\"`) "
            "before migrating the next subsystem"
        )
        if self.commits:
            plan.notes.append(
                f"the generated `{self.config.async_dependency}` commits after each request that succeeds, "
                "as the synchronous session dependency does"
            )
        return None

    def _no_sessionmaker(self, why: str = "") -> Blocker:
        message = (
            "no sessionmaker found: phase two builds the async stack next to a module-level "
            "`sessionmaker(engine, ...)`, and the project has none{}; define one, or name yours "
            "in [tool.async-migrate] sessionmakers"
        )
        dependencies = sorted(self.project.session_dependencies)
        engines = sorted({self.canonical(ref) or ref for _, _, _, ref in self._engine_openers()})
        if not dependencies and len(engines) > 1:
            return Blocker(AM230.code, "", 0, message.format(
                f" (Sessions are opened on several engines, {', '.join(f'`{e}`' for e in engines)}: the async "
                "stack stands for one)"
            ))
        if not dependencies:
            return Blocker(AM230.code, "", 0, message.format(""))
        held = self._state_opener(set(dependencies))
        module, function = self.project.functions[held[0] if held is not None else dependencies[0]]
        state = held[1] if held is not None else None
        if state is not None:
            connection, _, attribute = state.partition(".app.state.")
            annotation = next(
                (p.annotation[0].rpartition(".")[2] for p in function.params if p.name == connection and p.annotation),
                "Request",
            )
            dependency, alias = self.config.async_dependency, self.config.async_alias
            return Blocker(AM230.code, module.path, function.line, (
                f"no sessionmaker found: the session dependency `{function.qualname}` opens its Session from "
                f"`{state}`, a sessionmaker the application keeps on its state (set where it starts: a lifespan, "
                "a startup handler or an application factory), and phase two generates the async stack only "
                "beside a module-level `sessionmaker(engine, ...)`"
                + (f", or beside one kept on the application's state {why}" if why else "")
                + ": write it by hand, then run phase two again "
                f"(it reuses it): where `app.state.{attribute}` is set, also set `app.state.async_{attribute} = "
                "async_sessionmaker(create_async_engine(<the same URL with an async driver>), <the same "
                "options>)` and dispose of that engine at shutdown; beside "
                f"`{function.qualname}`, `async def {dependency}({connection}: {annotation}): async with "
                f"{connection}.app.state.async_{attribute}() as session: yield session` (committing where "
                f"`{function.qualname}` commits) and `{alias} = Annotated[AsyncSession, Depends({dependency})]`; "
                f"name them in [tool.async-migrate] as `async-dependency` and `async-alias`"
            ))
        factory = self._engine_from_call(dependencies)
        if factory is not None:
            return factory
        opened = ", ".join(sorted({o.callee for o in self.project.opens_directly(dependencies[0])}))
        hint = f" (`{function.qualname}` opens {opened})" if opened else ""
        return Blocker(AM230.code, module.path, function.line, message.format(hint))

    def _engine_from_call(self, dependencies: list[FunctionId]) -> Blocker | None:
        """A session dependency opening `Session(get_engine())`: the engine a call returns (an
        `@lru_cache` factory) is the cause, not a missing sessionmaker; a sessionmaker bound to the
        same call would be refused next (AM234). The fix that works: a module-level name for it."""
        for fid in dependencies:
            module, function = self.project.functions[fid]
            if is_test_path(module.path):
                continue
            for opened in function.opens:
                if not self.project.is_sync_session_type(opened.callee):
                    continue
                first = _opened_bind(function, opened)
                if first is None or first.name is not None or not (first.expr or "").endswith("()"):
                    continue
                called = (first.expr or "")[:-2]  # resolved: `db.get_engine`; the module spells it
                local = next((name for name, ref in module.imports.items() if ref == called), None)
                if local is None:
                    local = called.removeprefix(f"{module.name}.")
                written = f"{local}()"
                session = opened.callee.rpartition(".")[2]
                return Blocker(AM230.code, module.path, opened.line or function.line, (
                    f"`{function.qualname}` opens `{session}({written}, ...)` on the engine `{written}` returns, "
                    "not on a module-level engine, and phase two derives the async engine only from a "
                    f"module-level one (a sessionmaker would not help: bound to `{written}` it is refused the "
                    f"same way): assign it to a module-level name (`engine = {written}`) and open "
                    f"`{session}(engine, ...)`, then run phase two again; or write an async engine factory and "
                    "name it in [tool.async-migrate] async-engine-factory"
                ))
        return None

    def _plan_engine(self, maker: Found) -> dict | None:
        plan, config = self.plan, self.config
        assert maker.value is not None
        if config.async_engine_factory:
            return self._plan_factory(maker)
        found = self._maker_bind(maker)
        bind = found.arg
        path, line = maker.module.path, maker.line
        if found.problem is not None:
            self._block(*found.problem)
            return None
        if bind is None:
            self._block(
                AM233, path, line,
                f"`{maker.name} = sessionmaker(...)` is not bound to an engine, here nor by a "
                f"`{maker.name}.configure(bind=...)` call outside the tests, so there is no engine to derive "
                "the async one from; pass the engine to sessionmaker(...) (or to configure(bind=...) at module "
                "level), or write an async engine factory and name it in [tool.async-migrate] async-engine-factory",
            )
            return None
        inline = None
        if bind.ref is None or bind.local:
            # Built in the sessionmaker call itself: the sessionmaker holds that engine.
            own = found.engine is None and bind is _bind(maker.value)
            if own and not isinstance(maker, held_stack.HeldFound):
                inline = inline_engine.build(self.project, maker, bind)
            if inline is None:
                self._block(
                    AM234, path, line,
                    f"`{maker.name}` is bound to `{bind.text}`, not to a module-level engine; assign the engine "
                    "to a name first, or name an async engine factory in "
                    "[tool.async-migrate] async-engine-factory",
                )
                return None
            build = inline[0]
        else:
            build = self._engine_build(maker, bind)
        plan.build = build
        bound = self._value_at(bind.ref) if inline is None else None
        if bound is not None:
            plan.engine = bound.piece()
        engine_options.check_build(self.project, plan, build, maker)
        if plan.blockers:
            return None
        kwargs = engine_options.engine_kwargs(self.project, plan, build, maker, self.read)
        engine_options.find_drivers(plan, build, maker, self.read)
        engine_options.note_mysql_bytes(self.project, plan, build, self.read)
        sync_engine = inline[1] if inline is not None else bind.text
        fields: dict = dict(
            sync_engine=sync_engine, engine_kwargs=tuple(kwargs), url_helper=self._url_helper(maker.module),
            runtime_options=not build.calls or plan.runtime_options,
        )
        updated = engine_reach.updated_in_place(self.sources, bind.ref)
        if updated is not None:
            self._block(
                AM269, *updated,
                f"`{bind.text}.update_execution_options(...)` changes the synchronous engine after it is built "
                "(a schema_translate_map, an isolation level); the async engine is another Engine, built when "
                "its module is imported, and would not have them, so the migrated routes would reach other "
                "tables or run other transactions: pass those options to create_engine(..., "
                "execution_options={...}) or `.execution_options(...)` where the engine is built, which phase "
                "two carries, or write the async engine by hand with them",
            )
            return None
        if found.engine is not None:  # from a configure call: spelled as the engine's module names it
            fields.update(sync_engine=found.engine[1], sync_engine_module=found.engine[0])
        return fields

    def _plan_factory(self, maker: Found) -> dict | None:
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
            problem = engine_options.factory_problem(self.config, self.read)
            if problem is not None:
                self._block(AM235, *engine_options.config_location(self.config, "async-engine-factory"), problem)
                return None
        self.plan.notes.append(
            f"the async engine is built by `{ref}()` from [tool.async-migrate] async-engine-factory; "
            "its pool settings and driver are up to that function"
        )
        return dict(factory=dotted_ref)

    # ----------------------------------------------------------------- alias

    def _sync_alias(self, maker: Found | None) -> Found | None:
        routers = self._router_modules()
        found = []
        for module, name, value in self.values():
            if value.kind != "annotated":
                continue
            if any(self.project.is_async_session_type(r) for r in value.annotation):
                continue
            sync_type = any(self.project.is_sync_session_type(r) for r in value.annotation)
            dependency = self.project.function(value.depends) if value.depends else None
            fid = (dependency[0].name, dependency[1].key) if dependency is not None else None
            provides = fid is not None and fid in tx_dependency.providers(self.project)
            if sync_type or provides:
                opens_maker = fid is not None and maker is not None and self._opens(fid, maker)
                entry = Found(module, name, value)
                found.append((not opens_maker, not provides, module.name in routers, module.path, value.line, entry))
        found.sort(key=lambda entry: entry[:5])
        return found[0][-1] if found else None

    def _imports_back(self, start: str, goal: str) -> bool:
        """Whether importing the module `start` runs the module `goal` (module-level imports,
        followed; `goal` importing from `start` would close a cycle)."""
        if start == goal:
            return False
        return import_cycles.Graph(self.project, {}, self.read).chain(start, goal) is not None

    def _router_modules(self) -> set[str]:
        """Modules defining routes or websockets."""
        return {h.module.name for h in self.project.handlers if h.kind in ("route", "websocket")}

    def _plan_alias(self, sync_alias: Found | None) -> None:
        plan, config = self.plan, self.config
        dependency = plan.async_dependency
        if dependency is None:
            return
        if sync_alias is not None and (
            sync_alias.module.name == dependency.module or sync_alias.module.name not in self._router_modules()
        ) and not self._imports_back(dependency.module, sync_alias.module.name):
            module = sync_alias.module
            anchor: str | None = sync_alias.name
        elif sync_alias is not None:
            # Beside an alias a router module keeps for itself, the routers migrated with it (and
            # in later runs) would import the async alias from that router: an import between
            # routers, a cycle where that router imports from them. It goes beside the dependency,
            # as it does where the dependency's module imports the sync alias's (a hand-written
            # dependency in a router using `session_dependency`): importing the dependency
            # there would close that cycle.
            module = self.project.modules.get(dependency.module)  # type: ignore[assignment]
            anchor = None
            if module is None:
                return
        else:
            module = self.project.modules.get(dependency.module)  # type: ignore[assignment]
            anchor = None
            plan.notes.append(
                f"{NO_ALIAS_NOTE}; the AsyncSession alias goes next to `{dependency.name}` in {dependency.path}"
            )
            if module is None:
                return
        if not self._claim(module, config.async_alias, "async-alias", "AsyncSession alias"):
            return
        plan.async_alias = Piece(module.name, module.path, config.async_alias)
        given = sync_alias.value if sync_alias is not None else None
        options = given.depends_options if given is not None else ()
        if sync_alias is not None and any(keyword == "max_concurrency" for keyword, _ in options):
            plan.notes.append(
                f"`{config.async_alias}` keeps `{sync_alias.name}`'s max_concurrency, but as "
                "a Depends() of its own it counts its own calls: while routes on both stacks serve requests, "
                "up to twice that many Sessions are open at once; lower both limits if the pool needs it"
            )
        plan.alias_edit = (
            module.path,
            AliasEdit(
                anchor=anchor,
                alias=config.async_alias,
                dependency=dependency.name,
                dependency_module=dependency.module,
                session_class=self.session_class,
                options=options,
            ),
        )


def generic_names_note(plan: StackPlan) -> str:
    """The follow-up `_generic_names` gives, naming the pieces `plan` holds now: run.py composes it
    again once it drops an alias no rewrite uses, which the note must not name as written."""
    assert plan.sessionmaker is not None
    pieces = (plan.async_engine, plan.async_sessionmaker, plan.async_dependency, plan.async_alias)
    names = ", ".join(f"`{p.name}`" for p in pieces if p)
    return (
        f"the async stack ({names}) stands for `{plan.sessionmaker.name}` "
        f"({plan.sessionmaker.where}) only, not {', '.join(plan.other_makers)}: routes moved onto it run on that "
        "sessionmaker's database"
        + ("" if plan.names_configured else (
            "; to say so in its names, run phase two with a configuration (`--config`) "
            "naming `async-engine`, `async-sessionmaker`, `async-dependency` and `async-alias`"
        ))
    )


# Where the generated AsyncSession alias goes when no synchronous one shows the place: said only
# while the migration writes the alias (the start of the note, by which run.py drops it).
NO_ALIAS_NOTE = "no `Annotated[Session, Depends(...)]` alias found"


def _free(module: facts.Module, name: str) -> str:
    """`name`, or `name_2`, ...: the first that the module does not bind already. For the
    generated private helpers, whose names no setting chooses: a project's own function of
    the same name is never taken for the tool's."""
    taken = module_names(module)
    found, number = name, 1
    while found in taken:
        number += 1
        found = f"{name}_{number}"
    return found


def _async_dispose(function: ast.AST) -> bool:
    """A `.dispose` in `function` that is awaited or handed on (to a portal, `asyncio.run`), not
    called as a statement of its own (the synchronous engine's)."""
    dropped = {
        id(statement.value.func) for statement in ast.walk(function)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
    }
    return any(
        isinstance(n, ast.Attribute) and n.attr == "dispose" and id(n) not in dropped for n in ast.walk(function)
    )


def _commits_on_exit(project: Project, function: facts.Function) -> bool:
    """Whether a session dependency commits its Session when the request succeeds.

    `db.commit()` on the yielded Session (after `yield`, in `try/else` or `finally`), a
    `sessionmaker.begin()` it opens, or `with db.begin():` around the `yield` all commit; so
    does a `@contextmanager` opener it enters (`with session_scope() as db: yield db`) that
    commits in one of these ways: leaving the `with` after the request runs the opener's commit.
    """
    for call in function.calls:
        # An opener taking parameters counts only where the provider reads its call as the
        # opening (`stack_extras.parameter_opener`); anywhere else AM271 blocks the stack.
        opener = None if call.nested or call.callee is None else (
            stack_extras.scope_opener(project, call.callee) or stack_extras.parameter_opener(project, call.callee)
            or (scope_openers.async_opener(project, call.callee) if function.is_async else None)
        )
        if opener is not None and _commits_on_exit(project, project.functions[opener][1]):
            return True
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


def _said_autoflush(flag: bool | None) -> str:
    return "autoflushes" if flag else "does not autoflush (`autoflush=False`)"
