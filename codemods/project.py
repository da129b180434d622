"""The whole-project index: modules joined into routers, handlers, sessions and a call graph.

Over 500 lines: one index whose cached views (names and imports, routing, Session flow, the
call graph) read each other; it splits by concern together with typed records for its tuples.

Built in the parent process from the facts of every module. Everything phase one,
phase two and `check` decide is read from here: which functions are routes,
websockets or dependencies, which parameters carry a synchronous Session (declared
or flowing in from callers), which functions open a session of their own, and who
calls whom.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING

from async_migrate.codemods import facts, session_methods
from async_migrate.codemods.astcollect.dispatch import BY_NAME, LAMBDA, LOCAL
from async_migrate.codemods.chain_params import Through
from async_migrate.codemods.chain_params import condition as param_condition
from async_migrate.codemods.config import Config
from async_migrate.codemods.containers import Containers
from async_migrate.codemods.flow import (
    CLASS,
    FACTORY,
    INJECTED,
    INSTANCE,
    ITEM_READS,
    NO_NAMES,
    NOTHING,
    REGISTRY,
    RESULT,
    SESSION,
    TAINTED,
    Flow,
    Values,
    _session_named,
    app_attribute,
    app_state_assigned,
    app_state_methods,
    app_state_name,
    context_variable_ref,
    declared_context_session,
    describe,
    unread_app_state,
    unread_proxy,
    unset_app_state,
    untyped_carrier,
    untyped_entered,
    untyped_item,
    untyped_session,
)
from async_migrate.codemods.flow import split as split_steps
from async_migrate.codemods.forked import judge_all
from async_migrate.codemods.forwarding import forwards_session
from async_migrate.codemods.handed_functions import handed_work, in_place_argument
from async_migrate.codemods.handlers import HOOK_KINDS as HOOK_KINDS
from async_migrate.codemods.handlers import ROUTE_KINDS as ROUTE_KINDS
from async_migrate.codemods.handlers import FunctionId as FunctionId
from async_migrate.codemods.handlers import Handler as Handler
from async_migrate.codemods.handlers import HandlerKind as HandlerKind
from async_migrate.codemods.handlers import Registration as Registration
from async_migrate.codemods.library_bound import library_bound, library_call
from async_migrate.codemods.received import received_instances
from async_migrate.codemods.roots import Roots
from async_migrate.codemods.untyped_provider import untyped_outside_entered, untyped_provided
from async_migrate.codemods.vocabulary import (
    ASYNC_SESSION_TYPES,
    OFFLOADERS,
    SYNC_SESSION_TYPES,
    context_variables,
)
from async_migrate.codemods.vocabulary.dependency_injector import INJECT
from async_migrate.codemods.vocabulary.fastapi import (
    CALL_MAPPINGS,
    HTTP_VERBS,
    REGISTRATION_ATTRS,
    REPEATING_DECORATORS,
    ROUTE_ATTRS,
    ROUTE_HANDLER_BUILDERS,
    ROUTER_OVERRIDES,
    ROUTER_TYPES,
    WEBSOCKET_ATTRS,
    WEBSOCKET_REGISTRATIONS,
)
from async_migrate.codemods.vocabulary.fastapi_sqla import SESSION_OPENERS as LIBRARY_SESSION_OPENERS
from async_migrate.codemods.vocabulary.fastapi_sqlalchemy import COMMIT_ON_EXIT, SCOPES
from async_migrate.codemods.vocabulary.graphql import (
    ARIADNE_BINDABLES,
    ARIADNE_BINDINGS,
    ARIADNE_DECORATORS,
    CONTEXT_GETTERS,
    GRAPHENE,
    GRAPHENE_MUTATIONS,
    GRAPHENE_TYPES,
    RESOLVER_ARGUMENTS,
    RESOLVER_DECORATORS,
    SCHEMA_HOOKS,
)
from async_migrate.codemods.vocabulary.python import (
    CALLABLE_TYPES,
    CASTS,
    COLLECTION_TYPES,
    CONTEXT_VARIABLE_WRITES,
    CONTEXT_VARIABLES,
    EVENT_LOOP_ONLY,
    FUNCTION_COPIES,
    LOOP_BOUND_ENTERED,
    LOOP_BOUND_FACTORIES,
    LOOP_BOUND_PRIMITIVES,
    LOOP_BOUND_READS,
    LOOP_METHODS,
    LOOP_ONLY_METHODS,
    LOOP_PRIMITIVE_METHODS,
    LOOP_RUNNER_METHODS,
    LOOP_RUNNERS,
    METHOD_DECORATORS,
    NAMED_TUPLES,
    NOT_RUNNING_ATTRIBUTES,
    PARTIALS,
    PLAIN_BASES,
    STORING_INIT_DECORATORS,
    TASK_STARTERS,
    TYPE_FORMS,
)
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_SESSIONMAKERS,
    PLAIN_SESSIONMAKERS,
    SESSION_IO_METHODS,
    SYNC_SESSIONMAKERS,
)
from async_migrate.codemods.vocabulary.sqlmodel import ASYNC_SESSION_TYPES as SQLMODEL_ASYNC_SESSION_TYPES
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_ASYNC_PACKAGE
from async_migrate.codemods.vocabulary.starlette import (
    BACKGROUND_TASK,
    ENDPOINT_CLASSES,
    HOOK_DECORATORS,
    LIFECYCLE_EVENTS,
    MOUNT,
    event_kind,
)

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes

_BUILTIN_NAMES = frozenset(dir(builtins))
# What `declared_session` and `declared_async_session` read of a parameter: all but its line and
# how it is passed. One declaration is written on many handlers (`db: Session = Depends(get_db)`:
# a few hundred distinct among 54,000 parameters of the 2,034-file benchmark), so it is read once.
_DECLARATION = attrgetter(
    "name", "text", "default", "depends", "default_ref", "annotation", "opaque_depends", "opaque_refs"
)


# What a module-level name or attribute holds when bound to `asyncio.create_task(...)`.
_TASK = "asyncio.Task"


def one_of(primitive: str) -> str:
    """`asyncio.Queue` -> "an asyncio.Queue", `trio memory channel` -> "a trio memory channel"."""
    return f"{'an' if primitive[:1] in 'aeioAEIO' else 'a'} {primitive}"


# Methods taking an item out of a collection: `WAITERS.pop(event_id)`.
_TAKE_ITEM = ITEM_READS | {"popleft"}
# What `Project.items_primitive` gives for a container whose items the analysis cannot read;
# `_find_held_primitive` gives it followed by what holds them ("an item of self._subscribers").
UNTYPED_ITEMS = "?"
# Builtins handing back a copy of a container's items, which the items' type survives.
_COPIES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "copy.copy"})


class TargetKind(str, Enum):
    """What a reference resolves to (`Project.resolve`); a `str`, as `HandlerKind`, so that a
    comparison with the plain string sees the value."""

    FUNCTION = "function"
    VALUE = "value"  # a module-level value (`facts.Value`)
    MODULE = "module"
    EXTERNAL = "external"  # outside the project

    def __str__(self) -> str:
        return self.value


@dataclass(slots=True)
class Target:
    kind: TargetKind
    ref: str
    module: facts.Module | None = None
    function: facts.Function | None = None
    value: facts.Value | None = None


RESOLVER = HandlerKind.RESOLVER


@dataclass(slots=True)
class LoopNeed:
    """An event-loop-only API a function reaches: directly (no helpers) or through helpers."""

    line: int  # the call in the function itself: the API, or the first helper
    helpers: list[FunctionId]  # the helpers called on the way, outermost first
    api: str  # `asyncio.create_task`, `loop.call_soon`
    api_line: int  # the API call's line, in the last helper (or the function itself)
    primitive: bool = False  # `api` is a method call on an asyncio primitive (`Project.loop_primitive`)
    # `api` sets or resets a `ContextVar` (`Project.context_variable_write`): it works in a worker
    # thread, but what it sets stays in that thread's copy of the request's context
    context: bool = False
    # Reached by the name of the first helper alone, through a method call on what the analysis
    # cannot type (`loop_chains.held_method_needs`): why, for the reason
    unverified: str = ""


@dataclass(slots=True)
class Edge:
    """A call from one project function to another."""

    caller: FunctionId
    callee: FunctionId
    call: facts.Call
    session_args: dict[str, str]  # callee parameter -> caller's session name passed to it
    # Object edges (`Project.object_edges`): the called expression as written (`Items.get`,
    # `self.repo.list`), and False when the receiver's class leaves several implementations.
    via: str | None = None
    certain: bool = True


class Project:
    def __init__(self, modules: Iterable[facts.Module], config: Config | None = None) -> None:
        self.config = config or Config()
        self.modules: dict[str, facts.Module] = {}
        for module in sorted(modules, key=lambda m: m.path):
            self.modules.setdefault(module.name, module)
        self.functions: dict[FunctionId, tuple[facts.Module, facts.Function]] = {
            (module.name, function.key): (module, function)
            for module in self.modules.values()
            for function in module.functions
        }
        self._resolved: dict[str, Target | None] = {}
        # Resolution is asked hundreds of thousands of times on a large project, mostly
        # for the same few references: the answers are kept (the facts never change).
        self._canonical: dict[str | None, str | None] = {}
        self._callees: dict[str | None, FunctionId | None] = {}
        # Indexes other analyses build once per project (e.g. mapped classes for lazy loads).
        self.derived: dict[str, object] = {}
        # Processes a project-wide table may be shared out to (`codemods.forked`; None: all cores).
        self.jobs: int | None = 1
        # Per-fact answers, keyed by the fact's identity (facts live as long as the index), or by
        # the declaration a parameter writes (`_DECLARATION`).
        self._declared: dict[tuple, str | None] = {}
        self._declared_async: dict[tuple, str | None] = {}
        self._opened: dict[int, frozenset[str]] = {}
        # Per-function answers asked for each call and edge (tens of thousands of times):
        # kept once the Session flow is settled, handed out as copies.
        self._session_names: dict[FunctionId, frozenset[str]] = {}
        self._alike_names: dict[frozenset[str], frozenset[str]] = {}  # see `shared_names`
        self._async_session_params: dict[FunctionId, tuple[str, ...]] = {}
        # `@contextmanager` Session openers phase two gives an `@asynccontextmanager` twin
        # (`phase2/scope_openers.py`): `with opener() as s` binds a Session `s` of the caller's.
        self.opener_twins: frozenset[FunctionId] = frozenset()
        # `@contextmanager` helpers handed the caller's Session that phase two twins likewise
        # (`scope_openers.handed_twinnable`): `with transaction(db):` binds no Session.
        self.handed_twins: frozenset[FunctionId] = frozenset()
        self._opens: dict[FunctionId, tuple[facts.SessionOpen, ...]] = {}
        self._module_primitives: dict[str, str | None] = {}
        self._dependency_callables: dict[str, list[FunctionId]] = {}
        # The files `--only` / `--exclude` select for reporting and writing (None: all). The
        # analysis itself always reads the whole application.
        self.scope: frozenset[str] | None = None
        # What the reader should know about how the project was read (import roots found,
        # imports that could not be placed): printed as warnings, listed in the JSON.
        self.notices: list[str] = []
        # Where module names start (configured `src` or found from the imports): `verify` and
        # `smoke` put the same folders on the service's import path.
        self.roots: Roots = Roots()
        # Of those, what makes a clean `check` prove nothing (it exits 2): imports of modules in
        # a package PATH sits inside (`codemods.roots.outside`), code the analysis cannot see.
        self.blind: list[str] = []
        # The project's modules those imports name (`db`, `app.services`): a call into them may
        # do Session work the analysis cannot see, so it is unverified, never "no Session work".
        self.unseen: frozenset[str] = frozenset()
        # The modules under PATH that could not be read (a syntax error, undecodable bytes): a
        # call into them is unverified in the same way, whatever --only/--exclude report.
        self.unreadable: frozenset[str] = frozenset()
        # Python files under PATH the pre-pass did not read (no marker, imported by nothing it
        # read): code there may still call a project function by name (`codemods.unread_names`).
        self.unread: tuple[str, ...] = ()
        self._follow_openers()

    def _follow_openers(self) -> None:
        """`db = get_api_session()` where `get_api_session()` only returns `SessionLocal()`: an
        opening of that module-level sessionmaker, as `db = SessionLocal()` written in place is.
        Recorded as such, so the dependency opening it is a session provider like the inline one."""
        for _, function in self.functions.values():
            if any(self.opener_maker(o.callee) for o in function.opens):
                function.opens[:] = [
                    dataclasses.replace(o, callee=maker) if (maker := self.opener_maker(o.callee)) else o
                    for o in function.opens
                ]

    def opener_maker(self, ref: str, depth: int = 0) -> str | None:
        """The module-level sessionmaker a project function only returns a new Session of, itself
        or through another such function (`def create_session(): return sql_create_session()`)."""
        target = self.resolve(ref)
        if target is None or target.kind != "function" or target.function is None:
            return None
        function = target.function
        if (
            "." in function.qualname or function.is_async or function.is_generator or function.decorators
            or len(function.calls) != 1 or function.params
        ):
            return None
        callee = function.calls[0].callee
        if callee is not None and function.returned == (f"{callee}()",) and depth < 5:
            deeper = self.resolve(callee)
            if deeper is not None and deeper.kind == "function":
                return self.opener_maker(callee, depth + 1)
        maker = self.resolve(callee)
        value = maker.value if maker is not None and maker.kind == "value" else None
        if callee is None or value is None or value.kind != "call" or self.canonical(value.ref) not in PLAIN_SESSIONMAKERS:
            return None
        if self.makes_async_sessions(value):
            return None
        named = [o.name for o in function.opens if o.callee == callee and o.name]
        if function.returned == (f"{callee}()",) or (len(named) == 1 and function.returned == (f"${named[0]}",)):
            return callee
        return None

    def opener_problem(self, ref: str, depth: int = 0) -> str | None:
        """Why a project function a session dependency opens its Session with (`db =
        get_api_session()`) is not read as opening one of a module-level sessionmaker, as
        `opener_maker` reads one; None when it is, or when it is no project function."""
        target = self.resolve(ref)
        function = target.function if target is not None and target.kind == "function" else None
        if function is None or target is None or target.module is None or self.opener_maker(ref) is not None:
            return None
        where = f"`{function.qualname}` ({target.module.path}:{function.line})"
        if self.builds_maker(ref):
            return None
        returned = function.returned[0] if len(function.returned) == 1 else ""
        if returned.endswith("()") and not returned.startswith("$") and depth < 5:
            deeper = self.opener_problem(returned[:-2], depth + 1)
            if deeper is not None:
                return deeper
        name = returned.removeprefix("$").removesuffix("()")
        bound = [b.expr for b in function.bindings if b.name == name]
        if returned.startswith("$") and not returned.endswith("()") and bound:
            name = bound[-1].removeprefix("$").removesuffix("()")  # `db = SessionLocal(); return db`
            bound = [b.expr for b in function.bindings if b.name == name]
        if bound and bound[-1].endswith("()"):
            made = bound[-1].rsplit(".", 1)[-1].removesuffix("()")
            return (f"{where} opens its Session from `{name}`, a sessionmaker it gets at run time "
                    f"(`{name} = {made}(...)`), not a module-level one the async sessionmaker could stand beside")
        return f"{where} does more than return a new Session of a module-level sessionmaker (`return SessionLocal()`)"

    def builds_maker(self, ref: str) -> bool:
        """A project function returning a new `sessionmaker(...)` (fides' `get_db_session(config)`)."""
        target = self.resolve(ref)
        function = target.function if target is not None and target.kind == "function" else None
        return function is not None and any(
            r.endswith("()") and self.canonical(r[:-2]) in SYNC_SESSIONMAKERS for r in function.returned
        )

    def closes_only(self, ref: str) -> bool:
        """A module-level project function whose body only closes the Session it is handed
        (`def close_session(s): s.close()`)."""
        target = self.resolve(ref)
        function = target.function if target is not None and target.kind == "function" else None
        if function is None or "." in function.qualname or function.is_async or function.is_generator:
            return False
        if function.decorators or len(function.params) != 1 or len(function.calls) != 1 or function.returned:
            return False
        call = function.calls[0]
        return call.receiver == function.params[0].name and call.method == "close" and not call.args

    def in_scope(self, path: str) -> bool:
        return self.scope is None or path in self.scope

    @property
    def reported_handlers(self) -> list[Handler]:
        """The handlers in the files `--only` / `--exclude` select."""
        return [h for h in self.handlers if self.in_scope(h.module.path)]

    # ------------------------------------------------------------ resolution

    def resolve(self, ref: str | None, _depth: int = 0) -> Target | None:
        """Follow a reference through modules, re-exports and aliases to its definition."""
        if ref is None or _depth > 25:
            return None
        if ref in self._resolved:
            return self._resolved[ref]
        self._resolved[ref] = None  # cycle guard
        target = self._resolve(ref, _depth)
        self._resolved[ref] = target
        return target

    def _resolve(self, ref: str, depth: int) -> Target | None:
        parts = ref.split(".")
        for split in range(len(parts), 0, -1):
            module = self.modules.get(".".join(parts[:split]))
            if module is None:
                continue
            rest = parts[split:]
            if not rest:
                return Target(TargetKind.MODULE, ref, module=module)
            function = _last_definition(module, ".".join(rest))
            if function is not None:
                return Target(TargetKind.FUNCTION, ref, module=module, function=function)
            head = rest[0]
            if head in module.values and len(rest) == 1:
                value = module.values[head]
                if value.kind == "name" and value.ref is not None:
                    return self.resolve(value.ref, depth + 1) or Target(TargetKind.VALUE, ref, module, value=value)
                return Target(TargetKind.VALUE, ref, module=module, value=value)
            if head in module.imports:
                return self.resolve(".".join([module.imports[head], *rest[1:]]), depth + 1)
            for star in filter(None, module.imports.get("*", "").split(",")):
                if star not in self.modules and self.inside_project(star):
                    # A project module not read (yet): matched on a shorter prefix, its name would
                    # stand for what that package holds, and each star import of it would grow the
                    # reference by a segment (exponentially many references on a package of stars).
                    continue
                found = self.resolve(".".join([star, *rest]), depth + 1)
                if found is not None:
                    return found
            return None
        return Target(TargetKind.EXTERNAL, ref)

    def inside_project(self, name: str) -> bool:
        """Whether a package holding module `name` is a project module."""
        parts = name.split(".")
        return any(".".join(parts[:end]) in self.modules for end in range(1, len(parts)))

    def canonical(self, ref: str | None) -> str | None:
        """The reference a name finally stands for: project definitions by their home."""
        try:
            return self._canonical[ref]
        except KeyError:
            pass
        target = self.resolve(ref)
        if target is None:
            found = ref
        elif target.kind == "function" and target.module is not None and target.function is not None:
            found = f"{target.module.name}.{target.function.qualname}"
        else:
            found = target.ref
        self._canonical[ref] = found
        return found

    def function(self, ref: str | None) -> tuple[facts.Module, facts.Function] | None:
        target = self.resolve(ref)
        if target is None or target.kind != "function":
            return None
        return target.module, target.function  # type: ignore[return-value]

    def missing_modules(
        self, known: dict[str, str], followed: set[str] | None = None, read: set[str] | None = None
    ) -> set[str]:
        """Project files that the analysis follows references into but that were not collected.

        Files are skipped unread when their text shows nothing of interest; a
        helper or decorator in such a file is fetched once something calls it.
        Between rounds, `followed` keeps the references already looked up and
        `read` the modules whose references were gathered: each round adds both.
        `known` maps the module name of every file under the root to its path.
        """
        followed = set() if followed is None else followed
        read = set() if read is None else read
        refs: set[str] = set(self.dependency_refs)
        for module in self.modules.values():
            if module.path in read:
                continue
            read.add(module.path)
            # Imports lead on to definitions (re-exports, helpers); aliases to their targets.
            refs.update(ref for local, ref in module.imports.items() if local != "*")
            refs.update(module.imports.get("*", "").split(",") if "*" in module.imports else ())
            for value in module.values.values():
                refs.update(r for r in (value.ref, value.depends, *value.annotation) if r)
            # a sessionmaker bound later, to an engine a function may import in its body
            for configure in module.configures:
                refs.update(r for r in (configure.target, *(a.ref for a in configure.args)) if r)
            for held in module.containers.values():
                refs.update(ref.lstrip("@") for ref in held)  # `@crud`: a lookup by name on crud
            add = refs.add
            # plain loops: every decorator, call and parameter of the project passes here
            for function in module.functions:
                for decorator in function.decorators:
                    if decorator.callee:
                        add(decorator.callee)
                for call in function.calls:
                    if call.callee:
                        add(call.callee)
                    if call.dispatch:
                        refs.update(
                            source.lstrip("=@") for source in call.dispatch if not source.startswith(LOCAL) and source != LAMBDA
                        )
                for param in function.params:
                    if param.annotation:
                        refs.update(param.annotation)
        collected = {module.path for module in self.modules.values()}
        wanted: set[str] = set()
        for ref in refs - followed:
            parts = ref.split(".")
            for split in range(len(parts), 0, -1):
                path = known.get(".".join(parts[:split]))
                if path is not None:
                    if path not in collected:
                        wanted.add(path)
                    break
        followed.update(refs)
        return wanted

    # --------------------------------------------------------------- routers

    def is_router(self, ref: str | None) -> bool | None:
        """True for an APIRouter/FastAPI instance, False for something else, None if unknown."""
        target = self.resolve(ref)
        if target is None:
            return None
        if target.kind == "value" and target.value is not None:
            if target.value.kind == "call":
                if self.is_router_type(target.value.ref):
                    return True
                # A third-party class is not a router unless configured as one; a project
                # class or factory may be a router subclass: let the route's path decide.
                made_by = self.resolve(target.value.ref)
                return False if made_by is None or made_by.kind == "external" else None
            return None
        if target.kind == "external":
            return None
        return False

    @cached_property
    def call_mappings(self) -> dict[str, str]:
        """Library calls and the async form phase two writes for each (`paginate` ->
        `apaginate`): the tool's own, then the configured `call-mappings`, which win."""
        return {**CALL_MAPPINGS, **self.config.call_mappings}

    @cached_property
    def names_sqlmodel_async_session(self) -> bool:
        """Whether any module imports SQLModel's AsyncSession (`sqlmodel.ext.asyncio.session`),
        whose `exec()` SQLAlchemy's AsyncSession lacks: where none does, every AsyncSession the
        project makes is SQLAlchemy's, or a subclass its `class_=` names."""
        return any(
            ref.startswith(SQLMODEL_ASYNC_PACKAGE) or self.canonical(ref) in SQLMODEL_ASYNC_SESSION_TYPES
            for module in self.modules.values()
            for local, imported in module.imports.items()
            for ref in (imported.split(",") if local == "*" else (imported,))
        )

    @cached_property
    def handler_index(self) -> dict[FunctionId, Handler]:
        """`handlers` by id: the first handler of each function."""
        found: dict[FunctionId, Handler] = {}
        for handler in self.handlers:
            found.setdefault(handler.id, handler)
        return found

    @cached_property
    def handlers(self) -> list[Handler]:
        found: dict[FunctionId, Handler] = {}
        for module in self.modules.values():
            for function in module.functions:
                for decorator in function.decorators:
                    registration = self._registration(decorator)
                    if registration is not None:
                        handler = found.setdefault(
                            (module.name, function.key),
                            Handler(module, function, registration.kind),
                        )
                        handler.registrations.append(registration)
                        if registration.kind == HandlerKind.WEBSOCKET:
                            handler.kind = HandlerKind.WEBSOCKET
            for added in module.registrations:
                if added.attr.startswith("hook:") or added.attr == MOUNT:
                    continue  # a mounted application's routes are its own registrations
                unrecognised = None
                if self.is_router(added.base) is False:
                    unrecognised = self._unrecognised_class(self._constructor(added.base))
                    if unrecognised is None:
                        continue
                endpoint = self.endpoint(added.endpoint)
                if endpoint is None:
                    for fid, word, methods in self.endpoint_class_methods(added.endpoint) or ():
                        handler = found.setdefault(fid, Handler(*self.functions[fid], HandlerKind(word)))
                        handler.registrations.append(
                            Registration(HandlerKind(word), methods, added.path, added.line, unrecognised=unrecognised, base=added.base)
                        )
                    continue
                kind = HandlerKind.WEBSOCKET if added.attr in WEBSOCKET_REGISTRATIONS else HandlerKind.ROUTE
                handler = found.setdefault(
                    (endpoint[0].name, endpoint[1].key), Handler(endpoint[0], endpoint[1], kind)
                )
                methods = added.methods or (() if kind == HandlerKind.WEBSOCKET else ("GET",))
                handler.registrations.append(
                    Registration(
                        kind, methods, added.path, added.line, unrecognised=unrecognised, base=added.base,
                        depends=added.depends, response_model=added.response_model,
                        response_refs=added.response_refs, held=added.held, endpoint=added.endpoint,
                        router_call=added.router_call, local=added.receiver if added.router_call else None,
                    )
                )
        for ref in sorted(self.dependency_refs):
            # `Depends(verify_prod)` for `verify_prod = copy_func(verify)`: FastAPI runs verify's code
            fids = self.dependency_callables(ref) or self.dependency_callables(self.copied_function(ref))
            for fid in fids:
                module, function = self.functions[fid]
                found.setdefault(fid, Handler(module, function, HandlerKind.DEPENDENCY))
        for fid, word, line in self._hooks():  # the vocabulary's words for the kinds
            module, function = self.functions[fid]
            kind = HandlerKind(word)
            handler = found.setdefault(fid, Handler(module, function, kind))
            if handler.kind in HOOK_KINDS:
                handler.registrations.append(Registration(kind, (), None, line))
        for fid, line in self._resolvers():
            module, function = self.functions[fid]
            handler = found.setdefault(fid, Handler(module, function, RESOLVER))
            if handler.kind == RESOLVER:
                handler.registrations.append(Registration(RESOLVER, (), None, line))
        return sorted(found.values(), key=lambda h: (h.module.path, h.function.line, h.function.key))

    @cached_property
    def handlers_by_id(self) -> dict[FunctionId, Handler]:
        """`handlers` by function id (a function is one handler, of one kind)."""
        return {handler.id: handler for handler in self.handlers}

    def endpoint(self, ref: str | None, _depth: int = 0) -> tuple[facts.Module, facts.Function] | None:
        """The project function a registered endpoint runs: a function, or the method a class
        defines (`C.level`, and `self.level` in C's methods, recorded as `C.level`) or that a
        module-level instance looks up (`view.list_items` for `view = ItemView()`).

        A module-level `handler = partial(f, ...)` runs `f`, `handler = Handler()` its `__call__`.
        A method some subclass overrides may run either (`self` may be the subclass): None.
        """
        if ref is None:
            return None
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        if ref.endswith("()"):
            return self._made_endpoint(ref[:-2], _depth)
        owner, _, name = ref.rpartition(".")
        cls = classes.resolve(owner) if owner else None
        if cls is not None:
            if any(name in classes.methods.get(sub, {}) for sub in classes.subclasses(cls)):
                return None
        else:
            found = self.function(ref)
            if found is not None:
                return found
            made = self._made_by(ref)
            if made is not None and self.canonical(made.ref) in PARTIALS and made.args and _depth < 3:
                return self.endpoint(made.args[0].ref, _depth + 1)
            if made is not None and made.ref is not None and self.function(made.ref) is not None:
                return self._made_endpoint(made.ref, _depth)  # `list_users = make_list(User)`
            if made is not None and classes.resolve(made.ref) is not None:
                cls, name = classes.resolve(made.ref), "__call__"
            else:
                made = self._made_by(owner) if owner else None
                cls = classes.resolve(made.ref) if made is not None else None
                if cls is None and made is not None:
                    # `auth = create_provider()`, `auth.get_current_user`: the class the factory builds
                    cls = self._factory_class(made.ref, classes)
            if cls is None:
                return None
        methods, certain = classes.method(cls, name)
        return self.functions[methods[0]] if len(methods) == 1 and certain else None

    def endpoint_class_methods(self, ref: str | None) -> list[tuple[FunctionId, str, tuple[str, ...]]] | None:
        """The methods a project subclass of Starlette's HTTPEndpoint or WebSocketEndpoint,
        registered as an endpoint (`app.add_websocket_route("/ws", ChatEndpoint)`), runs per
        request: (method, handler kind, HTTP methods it answers), those the class or its
        project bases define. None when `ref` names no such class."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        cls = classes.resolve(ref)
        if cls is None:
            return None
        bases = {self.canonical(base) for c in classes.mro(cls) for base in classes.by_ref[c][1].bases}
        for base, (kind, names) in ENDPOINT_CLASSES.items():
            if base not in bases:
                continue
            found: list[tuple[FunctionId, str, tuple[str, ...]]] = []
            for name in names:
                methods, _ = classes.method(cls, name)
                verbs = (name.upper(),) if kind == "route" else ()
                found.extend((fid, kind, verbs) for fid in methods)
            return found
        return None

    def _made_endpoint(self, ref: str, depth: int) -> tuple[facts.Module, facts.Function] | None:
        """What a call registered as an endpoint makes: the nested function a handler factory
        returns on every path (`make_list(User)`, `self._get_all()`), or a project class's
        `__call__` (`Lister("x")`). None for anything else, and for a factory some subclass overrides."""
        from async_migrate.codemods.classes import project_classes

        if depth >= 3:
            return None
        factory = self.endpoint(ref, depth + 1)
        if factory is None:
            classes = project_classes(self)
            cls = classes.resolve(ref)
            if cls is None:
                return None
            methods, certain = classes.method(cls, "__call__")
            return self.functions[methods[0]] if len(methods) == 1 and certain else None
        module, function = factory
        if function.wrapped is not None and function.wraps in ("coroutine", "loop", "unknown"):
            # `add_api_route("/x", cached(list_items))`: an `async def` wrapper around a function the
            # registration hands in and the facts do not name; what it runs on the event loop is
            # unseen, so the route is unresolved (unverified), never read as the wrapper alone
            return None
        returned = set(function.returned)
        if len(returned) != 1:
            return None
        (name,) = returned
        for nested in module.functions:
            if nested.qualname == f"{function.qualname}.<locals>.{name}":
                return module, nested
        return None

    def endpoint_overrides(self, ref: str | None) -> str:
        """Why a method registered as an endpoint does not resolve, where it is a method that
        subclasses override (`self.list` in the base class's `__init__`): " (subclasses override it:
        ProductView.list; ...)", else ""."""
        if ref is None:
            return ""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        owner, _, name = ref.rpartition(".")
        cls = classes.resolve(owner) if owner else None
        if cls is None:
            return ""
        found = sorted(
            f"{sub.rpartition('.')[2]}.{name}" for sub in classes.subclasses(cls) if name in classes.methods.get(sub, {})
        )
        if not found:
            return ""
        return f" (subclasses override it: {', '.join(found)}; which one runs depends on the instance)"

    def _factory_class(self, ref: str | None, classes: Classes) -> str | None:
        """The one project class a project function returns an instance of: its return annotation,
        or unannotated, a call of that class on every `return` (`return Provider(settings=s)`)."""
        found = self.function(ref)
        if found is None:
            return None
        function = found[1]
        if function.returns:
            built = {classes.resolve(r) for r in function.returns}
        elif function.returned and all(r.endswith("()") for r in function.returned):
            built = {classes.resolve(r[:-2]) for r in function.returned}
        else:
            return None
        return built.pop() if len(built) == 1 and None not in built else None

    def _made_by(self, ref: str) -> facts.Value | None:
        """The call a module-level value is built by (`view = ItemView()`), or None."""
        target = self.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        return value if value is not None and value.kind == "call" else None

    @cached_property
    def unresolved_endpoints(self) -> list[tuple[facts.Module, facts.Registration]]:
        """Routes registered by call (`router.add_api_route("/x", endpoint)`) whose endpoint the
        analysis cannot resolve to a project function: a lambda, a local, an object's attribute.

        Their handlers are never analysed, so they are reported as unverified rather than left
        out. An endpoint from a third-party package is not: it cannot use the project's Session.
        """
        found: list[tuple[facts.Module, facts.Registration]] = []
        for module in self.modules.values():
            for added in module.registrations:
                if added.attr not in REGISTRATION_ATTRS or added.reregisters or self._route_decorator(module, added):
                    continue
                if self.is_router(added.base) is False and self._unrecognised_class(self._constructor(added.base)) is None:
                    continue
                if self.endpoint(added.endpoint) is not None and not self.changed_source(added):
                    continue
                if self.endpoint_class_methods(added.endpoint) is not None and not self.changed_source(added):
                    continue
                target = self.resolve(added.endpoint)
                if target is not None and target.kind == "external" and not self.changed_source(added):
                    continue
                if added.sources and any(m is module and a.line == added.line for m, a in found):
                    continue  # one loop, one entry
                found.append((module, added))
        return found

    def _route_decorator(self, module: facts.Module, added: facts.Registration) -> bool:
        """A router class's own `api_route` registering what its decorator is applied to, or its own
        `add_api_route` handing on the endpoint it is given: FastAPI's `@router.get(...)` and the rest
        call them, and those routes are analysed where they are decorated or added."""
        owner, _, method = (added.decorates or "").rpartition(".")
        return method in ROUTER_OVERRIDES and bool(owner) and self.is_router_type(f"{module.name}.{owner}")

    def changed_source(self, added: facts.Registration) -> bool:
        """A loop's endpoints read from a module-level display that other code changes or is
        handed: what the display shows is not all the loop registers."""
        containers = self.containers
        return any(containers.home(source) in containers.changed for source in added.sources)

    def _hooks(self) -> list[tuple[FunctionId, str, int]]:
        """The functions the application runs as hooks: (function, kind, line registered), a
        startup, shutdown or lifespan handler of the kind "lifecycle" (`lifecycle_events`)."""
        return [
            (fid, "lifecycle" if word in LIFECYCLE_EVENTS else word, line) for fid, word, line in self._hook_words()
        ]

    @cached_property
    def lifecycle_events(self) -> dict[FunctionId, frozenset[str]]:
        """Each lifecycle handler's events: "startup", "shutdown", "lifespan" (its code before the
        `yield` runs at startup, after it at shutdown), "lifecycle" where the event is not read."""
        found: dict[FunctionId, set[str]] = {}
        for fid, word, _ in self._hook_words():
            if word in LIFECYCLE_EVENTS:
                found.setdefault(fid, set()).add(word)
        return {fid: frozenset(words) for fid, words in found.items()}

    def _hook_words(self) -> list[tuple[FunctionId, str, int]]:
        """The functions the application runs as hooks: (function, the vocabulary's word for
        its kind, line registered).

        `@app.middleware("http")`, `@app.exception_handler(Exc)`, `@app.on_event("startup")`, and
        what `add_middleware`, `add_exception_handler`, `add_event_handler`, `Middleware(...)` and
        the application's `exception_handlers=`, `on_startup=`, `lifespan=` keywords name. A
        middleware class runs its `dispatch` (a `BaseHTTPMiddleware`) or its `__call__` (pure ASGI).
        A route class's `get_route_handler` counts as middleware (`_route_handler_builders`).
        """
        from async_migrate.codemods.classes import project_classes

        found: list[tuple[FunctionId, str, int]] = []
        for module in self.modules.values():
            for function in module.functions:
                for decorator in function.decorators:
                    kind = HOOK_DECORATORS.get(decorator.attr or "")
                    if kind is not None and decorator.is_call and self.is_router(decorator.base) is not False:
                        kind = event_kind(decorator.attr or "", decorator.event, kind)
                        found.append(((module.name, function.key), kind, decorator.line))
            for added in module.registrations:
                if not added.attr.startswith("hook:"):
                    continue
                kind = added.attr[len("hook:"):]
                endpoint = self.function(added.endpoint)
                if endpoint is not None:
                    found.append(((endpoint[0].name, endpoint[1].key), kind, added.line))
                    continue
                classes = project_classes(self)
                cls = classes.resolve(added.endpoint)
                if cls is None:
                    continue
                names = ("dispatch", "__call__") if kind == "middleware" else ("__call__",)
                for name in names:
                    methods, _ = classes.method(cls, name)
                    if methods:
                        found.extend((fid, kind, added.line) for fid in methods)
                        break
        found.extend(self._route_handler_builders())
        return found

    def _resolvers(self) -> list[tuple[FunctionId, int]]:
        """The GraphQL schema callables: (function, line registered).

        Strawberry's `@strawberry.field` / `@strawberry.mutation` methods (bare or called), the
        function `strawberry.field(resolver=f)` or `DataLoader(load_fn=f)` names (a module-level
        one, one nested in the calling function, or one a class body names for a field), Ariadne's
        `@query.field("x")` on a bindable, `query.set_field("x", f)` or `ObjectType("Query",
        {"x": f})`, Graphene's `resolve_<field>` methods, a mutation's `mutate` and the function
        `graphene.Field(T, resolver=f)` names, and a Strawberry permission's `has_permission` (`SCHEMA_HOOKS`).
        """
        from async_migrate.codemods.classes import project_classes

        found: dict[FunctionId, int] = {}
        for module in self.modules.values():
            by_qualname = {function.qualname: function for function in module.functions}
            for function in module.functions:
                fid = (module.name, function.key)
                for decorator in function.decorators:
                    if self.canonical(decorator.callee) in RESOLVER_DECORATORS or self._ariadne_field(decorator):
                        found.setdefault(fid, decorator.line)
                for call in function.calls:
                    keyword = RESOLVER_ARGUMENTS.get(self.canonical(call.callee) or "")
                    if keyword is None:
                        continue
                    for arg in call.args:
                        if arg.keyword != keyword and arg.position != 0:
                            continue
                        target = self.function(arg.ref) if arg.ref else None
                        nested = by_qualname.get(f"{function.qualname}.<locals>.{arg.name}") if arg.name else None
                        if target is not None:
                            found.setdefault((target[0].name, target[1].key), call.line)
                        elif nested is not None:
                            found.setdefault((module.name, nested.key), call.line)
        for module in self.modules.values():
            for fid, line in self._class_body_resolvers(module):
                found.setdefault(fid, line)
            for owner, form, ref, line in module.schema_callables:
                target = self.function(ref)
                if target is not None and self._schema_registers(owner, form):
                    found.setdefault((target[0].name, target[1].key), line)
        classes = project_classes(self)
        for ref, (module, cls) in classes.by_ref.items():
            ancestors = {self.canonical(base) for a in classes.mro(ref) for base in classes.by_ref[a][1].bases}
            names: tuple[str, ...] = ()
            prefix = "resolve_"
            hooks = [SCHEMA_HOOKS[a] for a in ancestors if a in SCHEMA_HOOKS]
            if hooks:
                names, prefix = hooks[0], "\0"  # no Graphene-style prefix there
            elif ancestors & GRAPHENE_MUTATIONS:
                names = ("mutate",)
            elif not ancestors & GRAPHENE_TYPES:
                continue
            for function in module.functions:
                owner, _, name = function.qualname.rpartition(".")
                if owner == cls.qualname and (name.startswith(prefix) or name in names):
                    found.setdefault((module.name, function.key), function.line)
        return sorted(found.items())

    def _class_body_resolvers(self, module: facts.Module) -> list[tuple[FunctionId, int]]:
        """`books: list[Book] = strawberry.field(resolver=get_books)` in a class body: the project
        functions named in the body of a class that builds a field so. The body's calls are not
        collected; the names it uses as values are (`facts.Module.escapes`), each with its line."""
        typed = [c for c in module.classes if any(
            self.canonical(callee) in RESOLVER_ARGUMENTS for callee in c.built.values()
        )]
        found: list[tuple[FunctionId, int]] = []
        for cls in typed:
            for ref, line, _ in module.escapes:
                if cls.line < line <= cls.end:
                    target = self.function(ref)
                    if target is not None:
                        found.append(((target[0].name, target[1].key), line))
        return found

    def _schema_registers(self, owner: str, form: str) -> bool:
        """Whether a `Module.schema_callables` entry registers a resolver: `set_field` on a
        module-level Ariadne bindable, a bindings dict given to its constructor, `resolver=` of a
        Graphene field. A project class's own `set_field` is none."""
        if form == "set_field":
            made = self._made_by(owner)
            return made is not None and self.canonical(made.ref) in ARIADNE_BINDABLES
        if form == "bindings":
            return self.canonical(owner) in ARIADNE_BINDINGS
        return (self.canonical(owner) or "").startswith(GRAPHENE)

    def _ariadne_field(self, decorator: facts.Decorator) -> bool:
        """`@query.field("books")` on a module-level Ariadne bindable (`query = QueryType()`)."""
        if not decorator.is_call or decorator.attr not in ARIADNE_DECORATORS:
            return False
        made = self._made_by(decorator.base) if decorator.base else None
        return made is not None and self.canonical(made.ref) in ARIADNE_BINDABLES

    def builds_route_handler(self, fid: FunctionId) -> bool:
        """Whether the function is a route class's `get_route_handler` (see `_route_handler_builders`)."""
        cached = self.derived.get("route_handler_builders")
        if cached is None:
            cached = self.derived["route_handler_builders"] = frozenset(f for f, _, _ in self._route_handler_builders())
        return fid in cached  # type: ignore[operator]

    def _route_handler_builders(self) -> list[tuple[FunctionId, str, int]]:
        """`get_route_handler` of each project subclass of `APIRoute`: the coroutine it returns
        wraps every request of the routes using the class, on the event loop, as middleware does."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        found: list[tuple[FunctionId, str, int]] = []
        for ref, (module, cls) in classes.by_ref.items():
            for ancestor in classes.mro(ref):
                for base in classes.by_ref[ancestor][1].bases:
                    method = ROUTE_HANDLER_BUILDERS.get(self.canonical(base) or "")
                    fid = (module.name, f"{cls.qualname}.{method}") if method else None
                    if fid is not None and fid in self.functions and all(fid != f for f, _, _ in found):
                        found.append((fid, "middleware", self.functions[fid][1].line))
        return found

    def _registration(self, decorator: facts.Decorator) -> Registration | None:
        if not decorator.is_call or decorator.attr not in ROUTE_ATTRS:
            return None
        unrecognised = None
        if decorator.router_call is not None:  # a router made inside the enclosing function
            router = self._made_by_router_type(decorator.router_call)
        else:
            router = self.is_router(decorator.base)
        if router is False and decorator.path is not None and decorator.path.startswith("/"):
            unrecognised = self.unrecognised_router(decorator)
        if (router is False and unrecognised is None) or (router is None and decorator.path is None):
            return None
        if decorator.attr in WEBSOCKET_ATTRS:
            return Registration(HandlerKind.WEBSOCKET, (), decorator.path, decorator.line, decorator, unrecognised,
                                decorator.base)
        if decorator.attr in HTTP_VERBS:
            methods: tuple[str, ...] = (decorator.attr.upper(),)
        else:
            methods = decorator.methods or ("GET",)
        return Registration(HandlerKind.ROUTE, methods, decorator.path, decorator.line, decorator, unrecognised, decorator.base)

    def is_router_type(self, constructor: str | None) -> bool:
        """Whether a class reference names a FastAPI router type: a known or configured one,
        or a project class that subclasses one (`class AppRouter(APIRouter)`)."""
        from async_migrate.codemods.classes import project_classes

        known = ROUTER_TYPES | self.config.router_types
        if self.canonical(constructor) in known:
            return True
        classes = project_classes(self)
        cls = classes.resolve(constructor)
        return cls is not None and any(
            self.canonical(base) in known for ancestor in classes.mro(cls) for base in classes.by_ref[ancestor][1].bases
        )

    def _made_by_router_type(self, constructor: str) -> bool | None:
        if self.is_router_type(constructor):
            return True
        made_by = self.resolve(constructor)
        return False if made_by is None or made_by.kind == "external" else None

    def unrecognised_router(self, decorator: facts.Decorator) -> str | None:
        """The class of a third-party object whose `@x.get("/path")` decorators look like routes.

        Only classes named like routers (`InferringRouter`) or from a FastAPI or Starlette
        add-on package (`fastapi_utils`, `fastapi_restful`) count: a cache's `@cache.get("/k")`
        is not a route.
        """
        constructor = decorator.router_call or self._constructor(decorator.base)
        return self._unrecognised_class(constructor)

    def _constructor(self, ref: str | None) -> str | None:
        """What a module-level `x = Something(...)` was made by, for the reference of `x`."""
        target = self.resolve(ref)
        if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
            return None
        return target.value.ref

    def _unrecognised_class(self, constructor: str | None) -> str | None:
        cls = self.canonical(constructor)
        if cls is None:
            return None
        if "router" in cls.rsplit(".", 1)[-1].lower() or cls.split(".")[0].startswith(("fastapi", "starlette")):
            return cls
        return None

    @cached_property
    def dependency_refs(self) -> set[str]:
        refs: set[str] = set()
        for module in self.modules.values():
            refs.update(module.depends)
            for value in module.values.values():
                if value.depends:
                    refs.add(value.depends)
        refs.update(ref for _, ref, _ in self.context_getter_sites)
        return refs

    @cached_property
    def context_getter_sites(self) -> list[tuple[str, str, int]]:
        """(module, reference, line of the call) of each function handed to a GraphQL router as its
        context getter (`GraphQLRouter(schema, context_getter=get_context)`): FastAPI runs it as the
        GraphQL route's dependency, a `def` one in the threadpool."""
        found: list[tuple[str, str, int]] = []
        keywords = set(CONTEXT_GETTERS.values())
        for module in self.modules.values():
            for value in module.values.values():
                if value.kind != "call" or not any(arg.keyword in keywords for arg in value.args):
                    continue
                keyword = CONTEXT_GETTERS.get(self.canonical(value.ref) or "")
                found.extend(
                    (module.name, arg.ref, value.line) for arg in value.args
                    if keyword and arg.keyword == keyword and arg.ref
                )
            for function in module.functions:
                for call in function.calls:
                    # resolving every callee of the project here costs more than the rest, and so
                    # would a generator per call: this loop meets every call of the project
                    for given in call.args:
                        if given.keyword in keywords:
                            break
                    else:
                        continue
                    keyword = CONTEXT_GETTERS.get(self.canonical(call.callee) or "")
                    found.extend(
                        (module.name, a.ref, call.line) for a in call.args if keyword and a.keyword == keyword and a.ref
                    )
        return found

    def is_dependency(self, fid: FunctionId) -> bool:
        """Whether some `Depends(...)` names this function (it then runs fully decorated)."""
        return fid in self._dependency_ids

    @cached_property
    def _dependency_ids(self) -> set[FunctionId]:
        return {fid for ref in self.dependency_refs for fid in self.dependency_callables(ref)}

    def dependency_callables(self, ref: str | None) -> list[FunctionId]:
        """The project functions FastAPI runs for `Depends(ref)`: the function `ref` names,
        or the `__call__` of the instance it names or builds (`checker`, `Checker("admin")`)."""
        found = self.function(ref)
        if found is not None:
            return [(found[0].name, found[1].key)]
        if ref is None:
            return []
        try:
            return self._dependency_callables[ref]
        except KeyError:
            pass
        if ref.endswith("()") and self.function(ref[:-2]) is not None:
            # `Depends(counter_factory(Job))`: FastAPI runs the nested function the factory returns
            nested = self._made_endpoint(ref[:-2], 0)
            if nested is not None:
                found_nested = [(nested[0].name, nested[1].key)]
                self._dependency_callables[ref] = found_nested
                return found_nested
            # `Depends(require("admin"))` for `def require(perm) -> Check: return Check(perm)`: no
            # nested function, so what the factory returns is read below, an instance's `__call__`
        made = self._made_by(ref)
        if made is not None and self.canonical(made.ref) in PARTIALS and made.args and made.args[0].ref:
            # `get_repo = partial(get_repository, Repo)`, `Depends(get_repo)`: FastAPI calls
            # `get_repository`, and looks through the partial to tell a coroutine function.
            self._dependency_callables[ref] = []  # cycle guard
            inner = self._dependency_callables[ref] = self.dependency_callables(made.args[0].ref)
            return inner
        # A flow of its own, without the Sessions callers pass: those are computed from
        # which dependencies provide a Session, which asks this.
        flow = self.derived.get("dependency_flow")
        if flow is None:
            flow = self.derived["dependency_flow"] = Flow(self)
        callables = self._dependency_callables[ref] = flow.dependency_callables(ref)  # type: ignore[attr-defined]
        return callables

    def copied_function(self, ref: str | None) -> str | None:
        """`verify` for `verify_prod = copy_func(verify)`: the function a module-level value
        copies through a project helper returning a copy of its argument (or the argument), which
        FastAPI calls with that function's parameters; None for any other value. Read by `check`
        and phase one only: phase two does not rewrite a dependency reached through a copy."""
        for depth in range(8):  # a copy of a copy
            made = self._made_by(ref) if ref is not None else None
            if made is None or not made.args or not made.args[0].ref or not self._copies_argument(made.ref):
                return None if depth == 0 else ref
            ref = made.args[0].ref
        return None

    def _copies_argument(self, ref: str | None) -> bool:
        """Whether a project function returns, on every return, its first parameter or a copy of
        the function it is handed (`types.FunctionType(f.__code__, ...)`), directly or through a
        local bound only to those."""
        found = self.function(ref)
        if found is None:
            return False
        function = found[1]
        if not function.params or not function.returned:
            return False
        first = f"${function.params[0].name}"

        def copy(expr: str) -> bool:
            return expr == first or (expr.endswith("()") and self.canonical(expr[:-2]) in FUNCTION_COPIES)

        def returns_copy(expr: str) -> bool:
            if copy(expr):
                return True
            if not expr.startswith("$") or not expr[1:].isidentifier():
                return False
            bound = [b.expr for b in function.bindings if b.name == expr[1:]]
            return bool(bound) and all(copy(b) for b in bound)

        return all(returns_copy(expr) for expr in function.returned)

    def is_registration(self, decorator: facts.Decorator) -> bool:
        # Asked of a handler's decorators, and of its helpers', by several rules per handler: kept
        # per decorator (what a reference resolves to does not change).
        known: dict[int, tuple[facts.Decorator, bool]] = self.derived.setdefault(  # type: ignore[assignment]
            "registrations", {}
        )
        kept = known.get(id(decorator))
        if kept is None or kept[0] is not decorator:
            kept = known[id(decorator)] = (decorator, self._registration(decorator) is not None)
        return kept[1]

    # --------------------------------------------------------------- sessions

    @cached_property
    def session_subclasses(self) -> dict[str, str]:
        """The project's classes deriving, at any depth, from a Session class of a library (sync or
        async) or from a configured `session-types` name: canonical reference -> that class.
        `class AppSession(sqlmodel.Session)` in one module, `class TenantSession(AppSession)` in
        another importing it under any name: both are SQLModel Sessions, opened, annotated or handed
        to a sessionmaker as `sqlmodel.Session` is. A class merely named like one is none; a class
        with a synchronous and an asynchronous Session among its bases counts as the async one."""
        roots = SYNC_SESSION_TYPES | ASYNC_SESSION_TYPES | self.config.session_types
        found: dict[str, str] = {}
        classes = [
            (f"{module.name}.{declared.qualname}", [self._class_alias(base) for base in declared.bases])
            for module in self.modules.values()
            for declared in module.classes
            if declared.bases
        ]
        grown = True
        while grown:  # a base defined after its subclass, or in another module: until nothing moves
            grown = False
            for ref, bases in classes:
                if ref in found or ref in roots:
                    continue
                derived = [base if base in roots else found.get(base) for base in bases]
                known = [root for root in derived if root is not None]
                if known:
                    found[ref] = next((root for root in known if root in ASYNC_SESSION_TYPES), known[0])
                    grown = True
        return found

    def _class_alias(self, ref: str) -> str:
        """The canonical reference of what `ref` names, through module-level names bound to a
        project class (`Db = AppSession`), which `canonical` leaves as they are (a project class
        is no resolution target)."""
        for _ in range(10):
            found = self.canonical(ref) or ref
            target = self.resolve(found)
            value = target.value if target is not None and target.kind == "value" else None
            if value is None or value.kind != "name" or value.ref is None or value.ref == found:
                return found
            ref = value.ref
        return ref

    def session_subclass(self, ref: str | None) -> str | None:
        """The project Session subclass `ref` names (`session_subclasses`), through aliases; else None."""
        if ref is None:
            return None
        found = self._class_alias(ref)
        return found if found in self.session_subclasses else None

    def library_session(self, ref: str | None) -> str | None:
        """The library's (or configured) Session class `ref` is or derives from, as a canonical
        reference (`sqlmodel.Session` for a project `AppSession(sqlmodel.Session)`); else None."""
        canonical = self.canonical(ref)
        if canonical is None:
            return None
        if canonical in SYNC_SESSION_TYPES or canonical in ASYNC_SESSION_TYPES or canonical in self.config.session_types:
            return canonical
        found = self.session_subclasses.get(canonical)
        if found is None and self.session_subclasses:
            subclass = self.session_subclass(canonical)  # `Db = AppSession`, then `Db(engine)`
            found = self.session_subclasses.get(subclass) if subclass is not None else None
        return found

    def is_sync_session_type(self, ref: str | None) -> bool:
        """A synchronous Session class: SQLAlchemy's, SQLModel's, a configured one, or a project
        class deriving from one (`session_subclasses`)."""
        root = self.library_session(ref)
        return root is not None and root not in ASYNC_SESSION_TYPES

    def is_async_session_type(self, ref: str | None) -> bool:
        """AsyncSession (SQLAlchemy's, SQLModel's) or a project class deriving from one."""
        return self.library_session(ref) in ASYNC_SESSION_TYPES

    def is_sessionmaker(self, ref: str | None) -> bool:
        """A callable whose call returns a new synchronous Session."""
        if ref is None:
            return False
        if ref.endswith(".begin"):
            ref = ref[: -len(".begin")]
        if self.is_sync_session_type(ref):
            return True
        canonical = self.canonical(ref)
        # `NonScopedSession: sessionmaker | None = None`, set by a function under `global`: its
        # canonical name is the None it starts as, and only its own name is configured
        if canonical in self.config.sessionmakers or canonical in LIBRARY_SESSION_OPENERS or ref in self.config.sessionmakers:
            return True
        target = self.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None:
            if target.value.kind == "call":
                return self.canonical(target.value.ref) in SYNC_SESSIONMAKERS and not self.makes_async_sessions(target.value)
        from async_migrate.codemods.held_makers import held  # it reads the class index, built on this one

        return held(self, ref) is not None

    def makes_async_sessions(self, value: facts.Value) -> bool:
        """A call building a maker of AsyncSessions: `async_sessionmaker(...)`, or SQLAlchemy
        1.4's `sessionmaker(async_engine, class_=AsyncSession)`, whose `class_=` names
        AsyncSession or a project subclass of it. A `class_=` the analysis cannot read keeps the
        plain sessionmaker synchronous: its Session work is reported, never missed."""
        if value.kind != "call":
            return False
        callee = self.canonical(value.ref)
        if callee in ASYNC_SESSIONMAKERS:
            return True
        if callee not in PLAIN_SESSIONMAKERS:
            return False
        made = next((arg.ref for arg in value.args if arg.keyword == "class_"), None)
        return made is not None and self.is_async_session_type(made)


    @cached_property
    def session_dependencies(self) -> set[FunctionId]:
        """Functions that provide a synchronous Session: `get_db_session()` and its kind."""
        found: set[FunctionId] = set()
        for fid, (module, function) in self.functions.items():
            name = f"{module.name}.{function.qualname}"
            if name in self.config.session_dependencies:
                found.add(fid)
                continue
            returns = [self.canonical(r) for r in function.returns]
            if any(self.is_async_session_type(r) for r in returns):
                continue
            if any(self.is_sync_session_type(r) for r in function.returns) and not _declares_maker(returns):
                found.add(fid)
                continue
            opened = {o.name for o in function.opens if self.is_sessionmaker(o.callee)}
            if opened and opened & set(function.yields):
                found.add(fid)
        return found

    def is_session_dependency(self, ref: str | None) -> bool:
        return any(fid in self.session_dependencies for fid in self.dependency_callables(ref))

    def declared_session(self, param: facts.Param) -> str | None:
        """Why a parameter receives a synchronous Session by its declaration, or None."""
        # Asked for every parameter by the fixpoint and again by the value flow: kept per declaration.
        key = _DECLARATION(param)
        try:
            return self._declared[key]
        except KeyError:
            pass
        found = self._declared[key] = self._declared_session(param)
        return found

    def param_dependency(self, param: facts.Param) -> str | None:
        """The dependency FastAPI fills a parameter from, as a reference: `Depends(f)` inline
        (`param.depends`), through a name bound to `Annotated[T, Depends(f)]` (`db: SessionDep`)
        or to `Depends(f)` (`Annotated[User, CurrentUser]`), or a module-level `db_dependency =
        Depends(f)` given as the default; None when none is written."""
        if param.depends is not None:
            return param.depends
        for ref in param.annotation:
            value = self._module_value(ref)
            if value is not None and value.kind == "annotated" and value.depends is not None:
                return value.depends
            if value is not None and value.kind == "depends":
                return value.ref
        value = self._module_value(param.default_ref) if param.default_ref is not None else None
        return value.ref if value is not None and value.kind == "depends" else None

    def _module_value(self, ref: str) -> facts.Value | None:
        """The module-level value `ref` names (`SessionDep = Annotated[...]`, `db_dep = Depends(f)`), or None."""
        target = self.resolve(ref)
        return target.value if target is not None and target.kind == "value" else None

    def session_depends_default(self, param: facts.Param) -> str | None:
        """How the parameter's default declares a session dependency, as written for a reason:
        `db: Session = Depends(get_db)`, or `db=db_dependency` where `db_dependency =
        Depends(get_db)`; None when it declares none."""
        if param.depends is not None and self.is_session_dependency(param.depends):
            return f"`{_signature(param)}`"
        if param.depends is None and param.default_ref is not None:
            target = self.resolve(param.default_ref)
            if (
                target is not None and target.kind == "value" and target.value is not None
                and target.value.kind == "depends" and self.is_session_dependency(target.value.ref)
            ):
                return f"`{param.name}={param.default_ref.rsplit('.', 1)[-1]}`"
        return None

    def admits_more_than_session(self, annotation: tuple[str, ...]) -> bool:
        """Whether a type expression naming a synchronous Session admits other types too
        (`Union[str, Session, Engine]`): what a parameter so declared holds is what its callers
        hand it (the fixpoint reads those), a Session only where one does, not whatever it is
        given (`get_dialect(url)`). `Optional[Session]`, `Session | None` and `Annotated[Session,
        ...]` admit nothing else, nor does `Annotated[Session, SessionDepends]` with
        `SessionDepends = Depends(get_db)`: a marker, no type."""
        return len(annotation) > 1 and any(self.is_sync_session_type(ref) for ref in annotation) and any(
            self.canonical(ref) not in TYPE_FORMS and not self.is_sync_session_type(ref)
            and self.canonical(ref) not in self.config.session_aliases and not self._depends_marker(ref)
            for ref in annotation
        )

    def _depends_marker(self, ref: str) -> bool:
        """Whether `ref` names a module-level `Depends(...)` (or `Security(...)`) value."""
        value = self._module_value(ref)
        return value is not None and value.kind == "depends"

    def _declared_session(self, param: facts.Param) -> str | None:
        declared = self.session_depends_default(param)
        if declared is not None:
            return declared
        for ref in param.annotation:
            if self.is_async_session_type(ref):
                return None
        # `make: Callable[[], Session]` is handed what opens a Session, never a Session
        # and `maker: sessionmaker[Session]` is handed a sessionmaker
        canonical = [self.canonical(r) for r in param.annotation]
        annotation = () if any(r in CALLABLE_TYPES for r in canonical) or _declares_maker(canonical) else param.annotation
        if self.admits_more_than_session(annotation):
            return None
        for ref in annotation:
            if self.is_sync_session_type(ref):
                return f"`{_signature(param)}`"
            if self.canonical(ref) in self.config.session_aliases:
                return f"`{_signature(param)}`"
            target = self.resolve(ref)
            if target is None or target.kind != "value" or target.value is None:
                continue
            value = target.value
            if value.kind == "annotated":
                if any(self.is_async_session_type(r) for r in value.annotation):
                    return None
                if _declares_maker([self.canonical(r) for r in value.annotation]):
                    continue
                if any(self.is_sync_session_type(r) for r in value.annotation) or (
                    value.depends is not None and self.is_session_dependency(value.depends)
                ):
                    return f"`{_signature(param)}`"
        return self._session_source(param)

    def _session_source(self, param: facts.Param) -> str | None:
        """A `Depends(...)` that gives a Session without naming a Session dependency: the
        sessionmaker itself (`Depends(SessionLocal)`: FastAPI calls it), a `functools.partial` of a
        Session dependency, or an expression built on one (`Depends(lambda: next(get_db()))`)."""
        if param.default:
            written = f"`{param.name}={param.default}`"
        elif param.text:
            written = f"`{_signature(param)}`"
        else:
            written = f"`{param.name}=Depends({param.opaque_depends})`"
        if param.depends is not None and not param.opaque_depends and self.is_sessionmaker(param.depends):
            return f"{written} (FastAPI calls the sessionmaker: a new Session)"
        target = self.resolve(param.depends) if param.depends is not None and not param.opaque_depends else None
        if (
            target is not None and target.kind == "value" and target.value is not None
            and target.value.kind == "call" and self.canonical(target.value.ref) in PARTIALS
            and target.value.args and self._gives_session(target.value.args[0].ref)
        ):
            return f"{written} (a partial of {target.value.args[0].text}, which gives a Session)"
        for ref in param.opaque_refs:
            if self._gives_session(ref):
                return f"{written} (it calls {ref.rsplit('.', 1)[-1]}, which gives a Session)"
        return None

    def _gives_session(self, ref: str | None) -> bool:
        if ref is None:
            return False
        if self.is_sessionmaker(ref):
            return True
        found = self.function(ref)
        return found is not None and (found[0].name, found[1].key) in self.session_dependencies

    def held_dependency_advice(self, fid: FunctionId, text: str) -> str | None:
        """The fix for an unverified `text` (an `opaque_session_uses` entry) whose parameter's
        dependency is read off an object the function closes over (`Depends(self.db_func)` in a
        route a router method returns, `Depends(config.get_db)` in a factory's): what the object
        holds is set where it is built, so no return type the analysis could read exists; or whose
        call is on a proxy object forwarding through `__getattr__` (`_forwarded`), which has no
        dependency to annotate. None for any other entry."""
        if "that declares no `" in text and "its `__getattr__` (" in text:
            return (
                "call the Session the proxy forwards to through a function annotated to return it "
                "(`def current_session() -> Session`, then `current_session().scalars(...)`), or take "
                "the Session from a typed dependency"
            )
        _, function = self.functions[fid]
        for param in function.params:
            held = param.opaque_depends
            root, dot, rest = held.partition(".")
            if (
                dot and root.isidentifier() and all(part.isidentifier() for part in rest.split("."))
                and text.startswith(f"`{param.name}` comes from `Depends({held})`")
                and self.enclosing_binder(fid, root) is not None
            ):
                return (
                    f"annotate the parameter (`{param.name}: Session`) or have it depend "
                    f"on the dependency function itself, not on what `{root}` holds"
                )
        return None

    def opaque_session_uses(self, fid: FunctionId) -> list[tuple[int, str]]:
        """Session methods called on a parameter whose `Depends(...)` the analysis cannot follow
        (`Depends(make_dep())`, a lambda naming no Session source), or on a bare parameter (no
        annotation, no default) of a function under a decorator that may pass it in: one the
        analysis cannot read (`@with_session` from a library), or a project one opening a Session
        it is not seen to hand in (`kwargs["db"] = db`): it may be a Session."""
        _, function = self.functions[fid]
        declared = self.session_params.get(fid, {})
        injector: str | None = None
        looked = False  # the decorators are read only for a parameter they may fill
        found = []
        for param in function.params:
            if param.name in declared:
                continue
            if param.opaque_depends:
                source = f"`{param.name}` comes from `Depends({param.opaque_depends})`, which the analysis cannot follow"
            elif _bare(param):
                if not looked:
                    injector, looked = self._injecting_decorator(fid), True
                if injector is None:
                    continue
                source = f"`{param.name}` has no annotation and no default: {injector} may pass it in"
            else:
                continue
            named = _session_named(param.name)
            # What project code the analysis cannot follow picks (`Depends(PROVIDERS["notes"])`, a
            # container's `Provide["notes"]`) may be a service holding the Session: any method of it
            # may do Session work, unless its annotation types it.
            held = bool(param.opaque_depends) and self._picks_project_code(fid, param)
            for call in function.calls:
                if call.offloaded:
                    continue
                if call.receiver == param.name and call.method in SESSION_IO_METHODS:
                    if call.method == "get" and len(call.args) < 2:
                        continue  # a mapping's `get(key)`, not `Session.get(Model, pk)`
                    found.append((call.line, f"{source}: `{param.name}.{call.method}()` may be synchronous Session work"))
                    break
                if held and call.receiver == param.name and call.method and not call.awaited:
                    found.append((call.line, f"{source}: `{param.name}.{call.method}()` may do synchronous Session "
                                  "work through what it holds"))
                    break
                # Handed on under a Session's name (`helper(db)`): the helper may use it as one.
                if named and call.callee not in _BUILTIN_NAMES and any(a.name == param.name for a in call.args):
                    found.append((call.line, f"{source}: it is handed to `{self.written(call.callee or call.func or 'a call')}`, "
                                  "which may use it as a synchronous Session"))
                    break
        return found

    def _picks_project_code(self, fid: FunctionId, param: facts.Param) -> bool:
        """Whether an opaque `Depends(...)` names project code (a dict of providers, a container,
        a factory) and no annotation types what it gives."""
        if param.annotation or self.flow.env(fid).get(param.name):
            return False
        for ref in param.opaque_refs:
            target = self.resolve(ref)
            if (target is not None and target.kind != "external") or self.flow.classes.resolve(ref) is not None:
                return True
            if target is None and ref.rpartition(".")[0] in self.modules:
                return True  # a module-level display (`PROVIDERS = {...}`), which no Value records
        return False

    def _injecting_decorator(self, fid: FunctionId) -> str | None:
        """The first decorator of `fid` that may pass it arguments the analysis does not see, as
        said in a reason: one it cannot read, or a project one that opens a Session."""
        _, function = self.functions[fid]
        for decorator in function.decorators:
            if self.is_registration(decorator):
                continue
            shape, where = self.decorator_shape(decorator)
            if shape in ("external", "unknown"):
                return f"decorator @{decorator.text}, which the analysis cannot read ({where}),"
        for decorator, target in self.opening_decorators(fid):
            module, opener = self.functions[target]
            return (f"decorator @{decorator.text.lstrip('@')} opens a Session ({module.path}:{opener.line}) it is not "
                    "seen to hand in, and")
        return None

    @cached_property
    def session_params(self) -> dict[FunctionId, dict[str, str]]:
        """Parameters carrying a synchronous Session: declared, or passed one by a caller.

        The flow is a fixpoint over the call graph, so a helper three calls below a
        route still knows its `db` argument is the route's Session.
        """
        params: dict[FunctionId, dict[str, str]] = {}
        for fid, (_, function) in self.functions.items():
            declared = {}
            for param in function.params:
                reason = self.declared_session(param)
                if reason is not None and self.awaited_like_async(function, param.name) is None:
                    declared[param.name] = reason
            params[fid] = declared
        handed = received_instances(self)
        reused = self.derived.pop("received_flow", None)
        flow = reused if isinstance(reused, Flow) else Flow(self, None, handed)
        self._session_fixpoint(params, flow, set(self.functions))
        # A parameter declared a Session is one in the flow whether `sessions` names it or not
        # (`Flow._param`), unless it is `self` or `cls`, or callers hand it objects: with only those,
        # the final flow holds what this one does, and this one kept no value that depends on the
        # order it was asked in.
        same = flow.reusable and all(
            reason.startswith("`") and name not in ("self", "cls") and name not in handed.get(fid, {})
            for fid, found in params.items() for name, reason in found.items()
        )
        # `self.db = db` in an `__init__` whose `db` only a caller made a Session: the attribute
        # holds one too, and what reads it may pass it on. Another round sees that.
        for _ in range(3):
            received = {
                fid for fid, found in params.items()
                if any(not reason.startswith("`") for reason in found.values())
            }
            if not any(self.functions[fid][1].assigns for fid in received):
                break
            before = {fid: set(found) for fid, found in params.items()}
            flow = Flow(self, params, handed)
            self._session_fixpoint(params, flow, set(self.functions))
            if before == {fid: set(found) for fid, found in params.items()}:
                break
        if same:
            flow.sessions = params
            self._flow = flow
        else:
            self._flow = Flow(self, params, handed)
        self._flow.settle()
        return params

    def _session_fixpoint(
        self, params: dict[FunctionId, dict[str, str]], flow: Flow, dirty: set[FunctionId]
    ) -> None:
        # Passes in a fixed order, so the caller a reason names does not depend on
        # timing; a pass skips functions whose Session names did not change since
        # they were last read, which could only repeat what they already passed on.
        while dirty:
            for fid, (module, function) in self.functions.items():
                if fid not in dirty:
                    continue
                dirty.discard(fid)
                names = set(params[fid]) | self._opened_names(function) | flow_sessions(flow, fid)
                for call in function.calls:
                    passed_args = self._passed_sessions(flow, fid, call, names)
                    if not passed_args:
                        continue
                    callee = self._callee(module, call)
                    wrapping = function.wrapped is not None and call.func == f"${function.wrapped}"
                    if wrapping:
                        # `fn(*args, db=db, **kwargs)` in a decorator's wrapper: each function it
                        # decorates receives that Session
                        callees = self.decorated_by.get(fid, [])
                    else:
                        callees = [callee] if callee is not None else flow.targets(fid, call)[0]
                    task = self.background_task(call)
                    if task is not None:
                        # `add_task(notify, db)`: the task is called with the arguments after it
                        callees = [task]
                        passed_args = [
                            (dataclasses.replace(arg, position=None if arg.position is None else arg.position - 1), text)
                            for arg, text in passed_args if arg.position != 0
                        ]
                    for target in callees:
                        for param_name, passed in _map_args(self, passed_args, target).items():
                            # A parameter declared an AsyncSession stays one: a caller handing it a
                            # synchronous Session is the caller's bug (check's AM311), not the callee's.
                            if param_name not in params[target] and not self._declared_async_param(target, param_name):
                                caller = f"{module.name}.{function.qualname}"
                                params[target][param_name] = (
                                    f"handed in as `{param_name}` by decorator {caller}" if wrapping
                                    else f"receives the Session `{passed}` from {caller}"
                                )
                                dirty.add(target)

    def background_task(self, call: facts.Call) -> FunctionId | None:
        """The project function a Starlette background task runs (`background_tasks.add_task(f, db)`,
        `BackgroundTask(f, db)`), which receives the call's other arguments, or None."""
        if call.method != "add_task" and self.canonical(call.callee) not in BACKGROUND_TASK:
            return None
        first = next((arg for arg in call.args if arg.position == 0), None)
        found = self.function(first.ref) if first is not None and first.ref is not None else None
        return None if found is None else (found[0].name, found[1].key)

    def _threadpool_task(self, call: facts.Call) -> bool:
        """Whether a background task call hands its arguments to a project `def` Starlette runs in
        its threadpool: no decorator, which may hand Starlette a coroutine function instead."""
        task = self.background_task(call)
        if task is None:
            return False
        _, function = self.functions[task]
        return not function.is_async and not function.decorators

    def _declared_async_param(self, fid: FunctionId, name: str) -> bool:
        _, function = self.functions[fid]
        param = next((p for p in function.params if p.name == name), None)
        return param is not None and self.declared_async_session(param) is not None

    def _lambda_handed_session(
        self, flow: Flow, fid: FunctionId, call: facts.Call, names: AbstractSet[str]
    ) -> str | None:
        """Why a call that may run a lambda of a display the function builds (`fn(db)` for `fn`
        out of `{"a": lambda s: s.execute(q)}`) is unverified: it hands the lambda the Session,
        which its body's calls take through a parameter the analysis does not bind; else None
        (the body's calls are the function's own, judged with them)."""
        passed = self._passed_sessions(flow, fid, call, names)
        if not passed:
            return None
        return (
            f"`{call.spelled}()` runs a lambda of a display the function builds, handing it the Session "
            f"`{passed[0][1]}`, which the analysis does not follow into the lambda"
        )

    def _passed_sessions(
        self, flow: Flow, fid: FunctionId, call: facts.Call, names: AbstractSet[str]
    ) -> list[tuple[facts.Arg, str]]:
        """The arguments of a call that carry a Session, each with its text."""
        found = []
        for arg in call.args:
            if arg.name is not None:
                if arg.name in names:
                    found.append((arg, arg.name))
            elif arg.expr is not None:
                if flow.holds(fid, arg.expr) is not None:
                    found.append((arg, self.written(arg.expr)))
            elif arg.ref is not None and flow.holds(fid, arg.ref) is not None:
                found.append((arg, arg.ref.rsplit(".", 1)[-1]))
        return found

    def written(self, expression: str) -> str:
        """A flow expression as the source would spell it near enough for a reason.

        `$self.db.query` -> `self.db.query`; a project reference loses its module
        (`app.db.ScopedSession.query` -> `ScopedSession.query`); others stay whole.
        """
        text = describe(expression)
        if expression.startswith(("$", "super()")):
            return text
        parts = text.split("(", 1)[0].split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:cut]) in self.modules:
                return text[len(".".join(parts[:cut])) + 1 :]
        return text

    @property
    def flow(self) -> Flow:
        """The value flow, with every parameter the fixpoint found to receive a Session."""
        self.session_params  # noqa: B018 - computes the flow it settles on
        return self._flow

    @staticmethod
    def awaited_like_async(function: facts.Function, name: str) -> facts.Call | None:
        """The first awaited method call on `name` when the body treats it as an AsyncSession.

        `await db.execute(...)` on a parameter annotated `Session` means the dependency
        really yields an AsyncSession (a mislabelled annotation): a synchronous Session's
        methods return no awaitable. Any un-awaited I/O method call on it says otherwise.
        """
        awaited = None
        for call in function.calls:
            if call.receiver != name or call.method is None:
                continue
            if call.awaited:
                awaited = awaited or call
            elif call.method in SESSION_IO_METHODS:
                return None
        return awaited

    def opened_names(self, function: facts.Function) -> frozenset[str]:
        """The names `function` binds to a Session it opens (`db = SessionLocal()`)."""
        self._opened_names(function)
        return self._opened[id(function)]

    def _opened_names(self, function: facts.Function) -> set[str]:
        try:
            return set(self._opened[id(function)])
        except KeyError:
            pass
        found = self._opened[id(function)] = frozenset(
            o.name for o in function.opens if o.name and self.is_sessionmaker(o.callee)
        ) or NO_NAMES
        return set(found)

    def _closure_session_names(self, fid: FunctionId) -> frozenset[str]:
        """The Session names of the function around nested `fid` that `fid` does not bind
        itself: a router factory's `db = SessionLocal()`, read by the routes it defines."""
        module, function = self.functions[fid]
        outer = _last_definition(module, function.qualname.rpartition(".<locals>.")[0])
        if outer is None:
            return frozenset()
        own = {p.name for p in function.params} | {b.name for b in function.bindings}
        return frozenset(n for n in self.session_names_view((module.name, outer.key)) if n not in own)

    def session_names(self, fid: FunctionId) -> set[str]:
        return set(self.session_names_view(fid))

    def take_opener_twins(self, openers: frozenset[FunctionId]) -> None:
        """Phase two twins these `@contextmanager` openers: the names their `with` binds are
        Sessions of the function entering them from now on (answers kept before are dropped)."""
        self.opener_twins = openers
        # The call graph's Session arguments, the fixpoint and all built on them read those names.
        self._session_names.clear()
        self._async_session_params.clear()
        self.derived.clear()
        for name, member in vars(Project).items():
            if isinstance(member, cached_property):
                self.__dict__.pop(name, None)

    def entered_openers(self, fid: FunctionId) -> dict[int, tuple[str, FunctionId]]:
        """`with session_scope() as s:` on an opener phase two twins: call index -> (`s`, the opener)."""
        _, function = self.functions[fid]
        found: dict[int, tuple[str, FunctionId]] = {}
        nested = {call.index for call in function.calls if call.nested}
        for opened in function.opens:
            if opened.index in nested:
                continue  # a nested function's `with`, which stays synchronous (blocked)
            # Only the one item of its `with`: beside others, it cannot become `async with` (blocked).
            target = self.function(opened.callee) if opened.name and opened.index >= 0 and opened.alone else None
            if target is not None and (target[0].name, target[1].key) in self.opener_twins:
                found[opened.index] = (opened.name, (target[0].name, target[1].key))  # type: ignore[assignment]
            elif target is None and opened.name and opened.index >= 0 and opened.alone:
                from async_migrate.codemods.phase2.scope_openers import unwrapped

                wrapped = unwrapped(self, opened.callee)  # `session_scope = contextmanager(_scope)`
                if wrapped is not None and wrapped in self.opener_twins:
                    found[opened.index] = (opened.name, wrapped)
        for name, callee, _, index, alone in function.async_entered:
            # `async with session_scope() as s:` on an `@asynccontextmanager` opener of a synchronous Session
            target = self.function(callee) if alone and index not in nested else None
            if target is not None and target[1].is_async and (target[0].name, target[1].key) in self.opener_twins:
                found[index] = (name, (target[0].name, target[1].key))
        return found

    def shared_names(self, names: frozenset[str]) -> frozenset[str]:
        """names, or an equal set kept before (NO_NAMES when empty): the answers kept per function
        are mostly the same few names, one object each."""
        return self._alike_names.setdefault(names, names) if names else NO_NAMES

    def session_names_view(self, fid: FunctionId) -> frozenset[str]:
        """`session_names` for a caller that only reads it: the kept answer, not a copy."""
        found = self._session_names.get(fid)
        if found is None:
            _, function = self.functions[fid]
            found = frozenset(self.session_params[fid]) | self._opened_names(function)
            if self.opener_twins:
                found |= {name for name, _ in self.entered_openers(fid).values()}
            if ".<locals>." in function.qualname:
                found |= self._closure_session_names(fid)
            found = self.shared_names(found)
            # Only once the fixpoint is done: while it runs, `session_params` still grows.
            if "session_params" in self.__dict__:
                self._session_names[fid] = found
        return found

    # ------------------------------------------------- async sessions (check)

    def declared_async_session(self, param: facts.Param) -> str | None:
        """Why a parameter receives an AsyncSession (the async path), or None.

        An `AsyncSession` annotation, an `Annotated[AsyncSession, ...]` alias, or
        `Depends()` on a function annotated to return or yield an AsyncSession.
        """
        # Asked for each parameter of each function a handler reaches, per handler: kept per declaration.
        key = _DECLARATION(param)
        try:
            return self._declared_async[key]
        except KeyError:
            pass
        found = self._declared_async[key] = self._declared_async_session(param)
        return found

    def _declared_async_session(self, param: facts.Param) -> str | None:
        if param.depends is not None and self._provides_async_session(param.depends):
            return f"`{_signature(param)}`"
        if param.depends is None and param.default_ref is not None:
            # `db=db_dependency`, `db_dependency = Depends(get_session)` here or in another module
            target = self.resolve(param.default_ref)
            value = target.value if target is not None and target.kind == "value" else None
            if value is not None and value.kind == "depends" and value.ref and self._provides_async_session(value.ref):
                return f"`{param.name}={param.default_ref.rsplit('.', 1)[-1]}`"
        for ref in param.annotation:
            if self.is_async_session_type(ref):
                return f"`{_signature(param)}`"
            target = self.resolve(ref)
            if target is None or target.kind != "value" or target.value is None:
                continue
            value = target.value
            if value.kind == "annotated" and (
                any(self.is_async_session_type(r) for r in value.annotation)
                or (value.depends is not None and self._provides_async_session(value.depends))
            ):
                return f"`{_signature(param)}`"
        return None

    def declared_async_session_params(self, fid: FunctionId) -> list[str]:
        """The names of `fid`'s parameters that receive an AsyncSession (`declared_async_session`)."""
        found = self._async_session_params.get(fid)
        if found is None:
            _, function = self.functions[fid]
            found = self._async_session_params[fid] = tuple(
                param.name for param in function.params if self.declared_async_session(param)
            )
        return list(found)

    def behind_async_session(self, fid: FunctionId, expression: str | None) -> str | None:
        """The AsyncSession parameter (or local opened with `async with maker() as s`) whose
        `.sync_session` an argument is (`db.sync_session`, as `$db.sync_session`), or None: a
        synchronous Session the analysis knows, not an untyped one."""
        if expression is None or not expression.startswith("$"):
            return None
        if "." not in expression:  # `sync = db.sync_session` first: the local stands for it
            bound = [b.expr for b in self.functions[fid][1].bindings if b.name == expression[1:] and not b.entered]
            expression = bound[0] if len(bound) == 1 else ""
        if not expression.endswith(".sync_session"):
            return None
        name = expression[1:].removesuffix(".sync_session")
        return name if self.names_async_session(fid, name) else None

    def names_async_session(self, fid: FunctionId, name: str) -> bool:
        """Whether a local name of `fid` is an AsyncSession: a parameter declared one, or a local
        opened with `async with maker() as s` on an async sessionmaker."""
        return name in self.declared_async_session_params(fid) or self._opened_async(self.functions[fid][1], name)

    def sync_session_handed(self, fid: FunctionId, call: facts.Call) -> str | None:
        """The AsyncSession parameter whose `sync_session` a call hands on (`count(db.sync_session)`,
        `run_in_threadpool(count, db.sync_session)` for the offloaded call of `count`), or None."""
        args: tuple[facts.Arg, ...] | list[facts.Arg] = call.args
        if call.offloaded:
            offloader = next(
                (
                    c for c in self.functions[fid][1].calls
                    if c.line == call.line and c.args and c.args[0].ref == call.callee
                    and self.canonical(c.callee or "") in OFFLOADERS
                ),
                None,
            )
            args = offloader.args[1:] if offloader is not None else ()
        return next(
            (name for a in args if (name := self.behind_async_session(fid, a.expr or (f"${a.name}" if a.name else None)))),
            None,
        )

    def _provides_async_session(self, ref: str) -> bool:
        """A dependency annotated to return or yield an AsyncSession, or, unannotated, one whose every
        yield or return is a name it opened with `async with` on an `async_sessionmaker` or
        `AsyncSession(...)` (`async with AsyncSessionLocal() as s: yield s`)."""
        found = self.function(ref)
        if found is None:
            return False
        _, function = found
        if function.returns:
            return any(self.is_async_session_type(r) for r in function.returns)
        return bool(function.yields) and all(self._opened_async(function, name) for name in function.yields)

    def opens_async_session(self, function: facts.Function) -> bool:
        """Whether the function binds a name to an AsyncSession it opens: `async with
        async_sessionmaker_instance() as s`, `s = AsyncSession(async_engine)`, `.begin()` on either."""
        for binding in function.bindings:
            if not binding.expr.endswith("()"):
                continue
            opener = binding.expr[:-2].removesuffix("().begin")
            opener = opener.removesuffix(".begin")
            if self.is_async_session_type(opener):
                return True
            target = self.resolve(opener)
            value = target.value if target is not None and target.kind == "value" else None
            if value is not None and self.makes_async_sessions(value):
                return True
        return False

    def _opened_async(self, function: facts.Function, name: str) -> bool:
        bound = [b for b in function.bindings if b.name == name]
        if not bound:
            return False
        for binding in bound:
            if not binding.asynchronous or not binding.expr.endswith("()"):
                return False
            opener = binding.expr[:-2]
            if self.is_async_session_type(opener):
                continue
            target = self.resolve(opener)
            value = target.value if target is not None and target.kind == "value" else None
            if value is None or not self.makes_async_sessions(value):
                return False
        return True

    def _callee(self, module: facts.Module, call: facts.Call) -> FunctionId | None:
        try:
            return self._callees[call.callee]
        except KeyError:
            pass
        found = self.function(call.callee)
        callee = None if found is None else (found[0].name, found[1].key)
        self._callees[call.callee] = callee
        return callee

    def _session_args(self, call: facts.Call, callee: FunctionId, names: AbstractSet[str]) -> dict[str, str]:
        if not any(arg.name in names for arg in call.args if arg.name is not None):
            return {}  # most calls hand no Session: the callee's parameters are not read
        return self.params_given(
            call, self.functions[callee][1], lambda arg: arg.name if arg.name in names else None,
            self.injected_arguments(callee),
        )

    def injected_arguments(self, fid: FunctionId) -> int:
        """How many positional arguments the decorators of `fid` put before the caller's:
        `@inject_db` whose wrapper runs `fn(provide_db(), *args, **kwargs)`, or a decorator
        class whose `__call__` does, hands the caller's first argument to the second parameter.
        0 where a wrapper forwards its `*args` at different places, or none is read."""
        known = self._injected.get(fid)
        if known is None:
            known = self._injected[fid] = sum(
                self._wrapper_injects(decorator) for _, decorator in self._decorator_functions(fid)
            ) if self.functions[fid][1].decorators else 0
        return known

    @cached_property
    def _injected(self) -> dict[FunctionId, int]:
        return {}

    def _wrapper_injects(self, decorator: FunctionId) -> int:
        """The positional arguments the wrapper `decorator` builds (its nested function taking
        `*args`, or itself for a `__call__`) puts before the `*args` it forwards to a local name."""
        module, function = self.functions[decorator]
        inner = f"{function.qualname}.<locals>."
        wrappers = [function] if any(p.variadic == "*" for p in function.params) else [
            f for f in module.functions if f.qualname.startswith(inner) and any(p.variadic == "*" for p in f.params)
        ]
        places: set[int] = set()
        for wrapper in wrappers:
            star = next(p.name for p in wrapper.params if p.variadic == "*")
            for call in wrapper.calls:
                # a call of a local (the function wrapped) handing the wrapper's own `*args` on
                if call.forwarded is not None and call.forwarded[0] == star and not call.nested and (
                    call.callee is None or "." not in call.callee
                ):
                    places.add(call.forwarded[1])
        return places.pop() if len(places) == 1 else 0

    @staticmethod
    def params_given(
        call: facts.Call, callee: facts.Function, pick: Callable[[facts.Arg], str | None], injected: int = 0
    ) -> dict[str, str]:
        """The parameters of `callee` that the call's arguments `pick` names something for (a
        bare name, ...), each with what `pick` said: by position, or by keyword where `callee`
        has such a parameter (one it has not: see invented_keywords). `injected`: the positional
        arguments a decorator puts before the caller's (`injected_arguments`)."""
        positional = [p.name for p in callee.params if p.positional and p.name not in ("self", "cls")][injected:]
        keywords = {p.name for p in callee.params if not p.variadic}
        result: dict[str, str] = {}
        for arg in call.args:
            picked = pick(arg)
            if picked is None:
                continue
            if arg.keyword is not None:
                if arg.keyword in keywords:
                    result[arg.keyword] = picked
            elif arg.position is not None and arg.position < len(positional):
                result[positional[arg.position]] = picked
        return result

    def invented_keywords(self, fid: FunctionId) -> list[tuple[int, str, str]]:
        """Session-carrying keyword arguments the called project function has no parameter for.

        (line, callee, keyword). Such a call raises TypeError when it runs, so the
        Session never arrives; a callee taking **kwargs or wrapped by a decorator
        may accept it, and is left out.
        """
        names = self.session_names_view(fid)
        found = []
        for edge in self.calls_from[fid]:
            module, callee = self.functions[edge.callee]
            if callee.decorators or any(p.variadic == "**" for p in callee.params):
                continue
            known = {p.name for p in callee.params}
            for arg in edge.call.args:
                if arg.keyword is not None and arg.name in names and arg.keyword not in known:
                    found.append((edge.call.line, f"{module.name}.{callee.qualname}", arg.keyword))
        return found

    # ------------------------------------------------------------ call graph

    @cached_property
    def edges(self) -> list[Edge]:
        found: list[Edge] = []
        for fid, (module, function) in self.functions.items():
            names = self.session_names_view(fid)
            for call in function.calls:
                callee = self._callee(module, call)
                if callee is not None:
                    found.append(Edge(fid, callee, call, self._session_args(call, callee, names)))
        return found

    @cached_property
    def named_calls_to(self) -> dict[FunctionId, list[Edge]]:
        """The calls naming each project function (`count_rows(request)`, `crud.get(db)`), read
        from names alone: no Session flow, so the flow itself may ask (`Flow.request_param`).
        Their `session_args` are empty; `calls_to` has them."""
        table: dict[FunctionId, list[Edge]] = {}
        for fid, (module, function) in self.functions.items():
            for call in function.calls:
                callee = self._callee(module, call)
                if callee is not None:
                    table.setdefault(callee, []).append(Edge(fid, callee, call, {}))
        return table

    @cached_property
    def calls_from(self) -> dict[FunctionId, list[Edge]]:
        table: dict[FunctionId, list[Edge]] = {fid: [] for fid in self.functions}
        for edge in self.edges:
            table[edge.caller].append(edge)
        return table

    @cached_property
    def calls_to(self) -> dict[FunctionId, list[Edge]]:
        table: dict[FunctionId, list[Edge]] = {fid: [] for fid in self.functions}
        for edge in self.edges:
            table[edge.callee].append(edge)
        return table

    @cached_property
    def object_edges(self) -> list[Edge]:
        """Calls that reach project code through a value rather than a reference.

        `Items.get(...)` on a module-level instance, `repo.list()` on an injected
        object, `self.db_helper(...)`, `super().get(...)`, `UserRepo(db)` (its
        `__init__`), `with get_db() as db` for `get_db = contextmanager(f)`. Kept
        apart from `edges`, which phase two reads, until phase two handles methods.
        """
        flow = self.flow
        found: list[Edge] = []
        properties = {
            name for methods in flow.classes.methods.values() for name, method in methods.items() if flow.is_property(method)
        }
        defined = {name for methods in flow.classes.methods.values() for name in methods if name.startswith("__")}
        hooked = _READ_HOOKS & defined
        protocols = {p for p, choices in _PROTOCOLS.items() if any(n in defined for names in choices for n in names)}
        for fid, (module, function) in self.functions.items():
            names = self.session_names_view(fid) | flow.session_locals(fid)
            for call in function.calls:
                if call.dispatch:
                    # any value of the container may run: each is a possible target, none certain
                    passed = self._passed_sessions(flow, fid, call, names)
                    looked = [s[len(BY_NAME):] for s in call.dispatch if s.startswith(BY_NAME)]
                    if looked:
                        flow.by_name[id(call)] = (
                            f"`{call.spelled}` may find any function {', '.join(f'`{ref}`' for ref in looked)} holds"
                        )
                    for target in self.containers.dispatch(call).targets:
                        if call.coroutine_side is not None and self.functions[target][1].is_async != call.coroutine_side:
                            continue  # the other side of an `iscoroutinefunction()` branch runs it
                        found.append(Edge(fid, target, call, _map_args(self, passed, target), call.spelled, False))
                item = call.item if call.item is not None else self._held_item(function, call)
                if item is not None and not call.nested:
                    # `self._state[key].save()` on `_state: dict[str, PersistentConfig]`, or
                    # `entry = self._state[key]` first
                    targets = self._item_methods(flow, fid, *item)
                    if targets:
                        passed = self._passed_sessions(flow, fid, call, names)
                        text = f"{self.written(item[0])}[...].{item[1]}"
                        found.extend(
                            Edge(fid, target, call, _map_args(self, passed, target), text, len(targets) == 1)
                            for target in targets
                        )
                direct = self._callee(module, call) if call.func is None and call.callee is not None else None
                if call.func is None and (call.callee is None or direct is not None):
                    # a function called by reference is in `edges`; the `__enter__` and
                    # `__exit__` of what it returns, when a `with` enters it, are not
                    if direct is None or flow.entered(fid, call) is None:
                        continue
                targets, certain = flow.targets(fid, call)
                targets = [t for t in targets if t != direct]
                if not targets:
                    continue
                passed = self._passed_sessions(flow, fid, call, names)
                text = self.written(call.func or call.callee)  # type: ignore[arg-type]
                for target in targets:
                    found.append(Edge(fid, target, call, _map_args(self, passed, target), text, certain))
            if hooked:
                found.extend(self._read_hook_edges(fid, function, hooked))
            for line, receiver, attribute in function.attributes:
                if attribute not in properties:
                    continue
                # `user.note_count` on a project object: reading a property runs it, a call that no
                # call expression spells (index -1)
                for value in flow.evaluate(fid, f"${receiver}"):
                    if value.kind != INSTANCE or value.target is None:
                        continue
                    methods, certain = flow.classes.method(value.target, attribute)  # type: ignore[arg-type]
                    if not methods or not all(flow.is_property(m) for m in methods):
                        continue
                    call = facts.Call(line, None, index=-1, func=f"${receiver}.{attribute}")
                    text = f"{receiver}.{attribute} (a property)"
                    found.extend(Edge(fid, target, call, {}, text, certain) for target in methods)
            for line, receiver, attribute in function.receiver_reads:
                if attribute not in properties:
                    continue
                # `self.total`, `stats.count` on a module-level instance, `svc.repo.count`,
                # `Repo(db).count`: the property runs as `user.note_count` on a local does
                for value in flow.evaluate(fid, receiver):
                    if value.kind != INSTANCE or not isinstance(value.target, str):
                        continue
                    methods, certain = flow.classes.method(value.target, attribute)
                    if not methods or not all(flow.is_property(m) for m in methods):
                        continue
                    call = facts.Call(line, None, index=-1, func=f"{receiver}.{attribute}")
                    text = f"{self.written(receiver)}.{attribute} (a property)"
                    found.extend(Edge(fid, target, call, {}, text, certain) for target in methods)
            for line, receiver, attribute in function.writes:
                # `settings.theme = x` on an object whose class has a setter for `theme`, or its own
                # `__setattr__`: the write runs it (a settings object persisting each change), a
                # call no call expression spells (index -1)
                for value in flow.evaluate(fid, receiver) or self._kept_on_app_state(flow, fid, receiver):
                    if value.kind != INSTANCE or not isinstance(value.target, str):
                        continue
                    for target, runs in flow.classes.write_hooks(value.target, attribute):
                        call = facts.Call(line, None, index=-1, func=f"{receiver}.{attribute}", statement=True)
                        text = f"{self.written(receiver)}.{attribute} = ... ({runs})"
                        found.append(Edge(fid, target, call, {}, text, True))
            for expression, line, asynchronous in function.entered:
                # `with uow:` on an object already built runs its `__enter__` and `__exit__`: a call
                # made by the statement itself, which no call expression spells (index -1).
                names_entered = ("__aenter__", "__aexit__") if asynchronous else ("__enter__", "__exit__")
                for value in flow.evaluate(fid, expression) or flow.instance_called(fid, expression):
                    if value.kind != INSTANCE or value.target is None:
                        continue
                    for name in names_entered:
                        methods, certain = flow.classes.method(value.target, name)  # type: ignore[arg-type]
                        # `async with` awaits what its `__aenter__` and `__aexit__` return
                        call = facts.Call(
                            line, None, index=-1, func=f"{expression}.{name}", statement=True, awaited=asynchronous
                        )
                        text = f"with {self.written(expression)} -> {name}"
                        found.extend(Edge(fid, target, call, {}, text, certain) for target in methods)
            for line, expression, protocol in function.implicit:
                # `for post in posts:`, `len(posts)`, `if posts:` on a project object: the
                # statement or builtin runs its special method, a call no call expression spells
                if protocol not in protocols:
                    continue  # no project class defines a method it runs: nothing to evaluate
                for value in flow.evaluate(fid, expression) or flow.instance_called(fid, expression):
                    if value.kind != INSTANCE or not isinstance(value.target, str):
                        continue
                    for name in _protocol_methods(flow, value.target, protocol):
                        methods, certain = flow.classes.method(value.target, name)
                        call = facts.Call(line, None, index=-1, func=f"{expression}.{name}", statement=True)
                        text = f"{_PROTOCOL_TEXT[protocol].format(self.written(expression))} -> {name}"
                        found.extend(Edge(fid, target, call, {}, text, certain) for target in methods)
        found.extend(self.in_place_edges)
        # the classes a call may reach a method of come out of sets: in the order of their
        # hashes, which change from one run to the next, and the reasons naming them would too.
        # Only those are put in one order, in the places they hold: what else a call reaches
        # keeps its order (a class's `__init__` before the `__enter__` of what it builds)
        return _callees_ordered(found)

    def _read_hook_edges(self, fid: FunctionId, function: facts.Function, hooked: AbstractSet[str]) -> list[Edge]:
        """Attribute reads that run a project method no call expression spells (index -1):
        `store.alice` on an instance whose class defines `__getattribute__` (every read), or
        `__getattr__` and declares no `alice` (a store looking rows up by name), and `obj.field` or
        `Cls.field` where the class body assigns `field` an instance of a class defining `__get__`
        (a descriptor). What such a method does with a Session, the read does."""
        flow = self.flow
        found: list[Edge] = []
        reads = [(line, f"${receiver}", attribute) for line, receiver, attribute in function.attributes]
        seen: set[tuple[str, str]] = set()
        for line, receiver, attribute in [*reads, *function.receiver_reads]:
            if (receiver, attribute) in seen or (attribute.startswith("__") and attribute.endswith("__")):
                continue
            seen.add((receiver, attribute))
            for value in flow.evaluate(fid, receiver):
                if value.kind not in (INSTANCE, CLASS) or not isinstance(value.target, str):
                    continue
                for target, certain, runs in _read_hooks(self, value.target, attribute, value.kind == INSTANCE, hooked):
                    call = facts.Call(line, None, index=-1, func=f"{receiver}.{attribute}")
                    text = f"{self.written(receiver)}.{attribute} ({runs})"
                    found.append(Edge(fid, target, call, {}, text, certain))
        return found

    @cached_property
    def in_place_edges(self) -> list[Edge]:
        """The object edges of functions handed to what calls them in place (`_in_place_edges`)."""
        flow = self.flow
        found: list[Edge] = []
        for fid, (_, function) in self.functions.items():
            for call in function.calls:
                if call.args and (call.callee is not None or call.method == "sort"):
                    found.extend(self._in_place_edges(flow, fid, call))
        return found

    def _in_place_edges(self, flow: Flow, fid: FunctionId, call: facts.Call) -> list[Edge]:
        """`sorted(skus, key=view.units_of)`, `map(crud.count, ids)`, `rows.sort(key=self.rank)`: a
        project function, or a method of a project object or class, handed to what calls it in the
        caller's own thread (`CALLS_IN_PLACE`, `list.sort`) runs there, as `key=lambda s:
        view.units_of(s)` would: a call no call expression spells (index -1). Handed anywhere else,
        it is no edge (to a project function calling the parameter it lands in: unverified,
        `handed_functions.handed_work`)."""
        arg = in_place_argument(self, call)
        if arg is None or (call.method == "sort" and flow.targets(fid, call)[0]):
            return []  # none, or the `sort` of a project class: what it does with `key=` is read there
        if arg.ref is not None:
            spelled = facts.Call(call.line, arg.ref, index=-1, nested=call.nested, offloaded=call.offloaded)
            direct = self._callee(self.functions[fid][0], spelled)
            targets, certain = ([direct], True) if direct is not None else flow.targets(fid, spelled)
            text = self.written(arg.ref)
        else:
            expression = arg.expr if arg.expr is not None else f"${arg.name}" if arg.name is not None else None
            if expression is None or not expression.startswith("$") or "(" in expression:
                return []  # what a call returns (`key=make_key()`): the flow does not follow it
            spelled = facts.Call(call.line, None, index=-1, func=expression, nested=call.nested, offloaded=call.offloaded)
            targets, certain = flow.targets(fid, spelled)
            text = self.written(expression)
        return [Edge(fid, target, spelled, {}, text, certain) for target in dict.fromkeys(targets)]

    @staticmethod
    def _held_item(function: facts.Function, call: facts.Call) -> tuple[str, str] | None:
        """`entry.save()` for `entry = self._state[key]`, its one binding: (the container, `save`)."""
        if call.func is None or not call.func.startswith("$") or call.func.count(".") != 1:
            return None
        name, _, method = call.func[1:].partition(".")
        container = function.items.get(name)
        if container is None or any(b.name == name for b in function.bindings) or any(
            p.name == name for p in function.params
        ):
            return None
        return container, method

    def _item_methods(self, flow: Flow, fid: FunctionId, container: str, method: str) -> list[FunctionId]:
        """The project methods `container[key].method()` may run, where the container is declared
        a collection of project objects: a field of the instance (`self._state` on `_state:
        dict[str, PersistentConfig]`) or a module-level name (`CONFIGS: dict[str, PersistentConfig]`);
        a field of a module-level instance too (`server.managers["user"]` for `server = Server()`)."""
        if container == facts.UNSPELLED:
            return []
        holder, _, attribute = container.rpartition(".")
        declared: tuple[str, ...] = ()
        module = self.modules.get(holder) if not container.startswith("$") else None
        if not holder and container.startswith("$"):
            return self._local_item_methods(flow, fid, container, method)
        if module is not None:
            declared = module.declared_items.get(attribute, ())
        elif holder:
            for value in flow.evaluate(fid, holder):
                if value.kind != INSTANCE or not isinstance(value.target, str) or value.target not in flow.classes.by_ref:
                    continue
                for ancestor in flow.classes.mro(value.target):
                    items = flow.classes.by_ref[ancestor][1].declared_items.get(attribute)
                    if items:
                        declared += items
                        break
                else:
                    # built without annotation (`self._state = {}`): what its methods put in
                    declared += self._stored_items(flow, value.target, attribute)[0]
        found: list[FunctionId] = []
        for ref in dict.fromkeys(declared):
            cls = flow.classes.resolve(ref)
            if cls is not None:
                _add_methods(flow, cls, method, found)
        return found

    def _local_item_methods(self, flow: Flow, fid: FunctionId, container: str, method: str) -> list[FunctionId]:
        """`_item_methods` of a local name: bound to a display (`repos = {"users": self.users}`), the
        methods of the project objects its elements may be; holding an instance of a project class
        defining `__getitem__` (`repos["users"]` on a registry), the methods of the classes its
        return annotation names."""
        _, function = self.functions[fid]
        found: list[FunctionId] = []
        for element in function.displays.get(container[1:], ()):
            if element != facts.UNSPELLED:
                _add_instance_methods(flow, flow.evaluate(fid, element), method, found)
        for value in flow.evaluate(fid, container):
            if value.kind != INSTANCE or not isinstance(value.target, str) or value.target not in flow.classes.by_ref:
                continue
            getters, _ = flow.classes.method(value.target, "__getitem__")
            for getter in getters:
                for ref in self.functions[getter][1].returns:
                    cls = flow.classes.resolve(ref)
                    if cls is not None:
                        _add_methods(flow, cls, method, found)
        return found

    def _unread_item_call(self, flow: Flow, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
        """Why `self._state[key].save()` (or `entry = self._state[key]; entry.save()`) is unverified:
        the instance builds the container without annotation and one of its stores puts in a value
        the analysis cannot read, while a project method of that name does synchronous Session work."""
        if call.item is None and (call.func or "").rpartition(".")[2] not in self._working_method_names():
            return None  # asked of every call: the method an item read names is the call's last name
        item = call.item if call.item is not None else self._held_item(function, call)
        got = item is None
        if got:
            item = _got_item(function, call)  # `self._state.get(key).save()`, read with a method
        if item is None or call.nested or item[0] == facts.UNSPELLED or item[1] not in self._working_method_names():
            return None
        holder, _, attribute = item[0].rpartition(".")
        if not holder or (not item[0].startswith("$") and holder in self.modules):
            return None
        for value in flow.evaluate(fid, holder):
            if value.kind != INSTANCE or not isinstance(value.target, str) or value.target not in flow.classes.by_ref:
                continue
            if any(flow.classes.by_ref[a][1].declared_items.get(attribute) for a in flow.classes.mro(value.target)
                   if a in flow.classes.by_ref):
                continue  # declared: its items' type is read (`_item_methods`)
            order = [a for a in flow.classes.mro(value.target) if a in flow.classes.by_ref]
            if not got and not any(attribute in flow.classes.by_ref[a][1].item_stores or attribute in flow.classes.by_ref[a][1].item_unread
                       for a in order) and flow.knows_attribute(value.target, attribute):
                # bound to what a call builds (`self.managers = build_managers(self)`), never to a
                # display the class fills: what its items are is not read
                return (
                    f"`{self.written(item[0])}[...].{item[1]}()` runs on an item of `{flow.classes.short(value.target)}."
                    f"{attribute}`, which the class binds to a value the analysis cannot read as a container; a "
                    f"project `{item[1]}()` does synchronous Session work"
                )
            unread = self._stored_items(flow, value.target, attribute)[1]
            if unread is not None:
                return (
                    f"`{self.written(item[0])}[...].{item[1]}()` runs on an item of a container the instance builds "
                    f"without annotation, which code at {unread} fills with a value the analysis cannot read; a "
                    f"project `{item[1]}()` does synchronous Session work"
                )
        return None

    def _located_instance_call(self, flow: Flow, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
        """Why `svc = injector.get(UserService); svc.count()` is unverified: the name holds only what a
        call outside the project returns when handed a project class first (a dependency-injection
        container or service locator: `injector.get(C)`, `container.resolve(C)`, `registry.get(C)`), also
        through a dependency returning that (`svc=Depends(get_service)`), and a method of that class
        of the name called does synchronous Session work. The flow types nothing there: the value may
        well be that class's instance, built by code the analysis cannot read."""
        if call.nested or call.receiver is None or call.method is None or call.method not in self._working_method_names():
            return None
        if flow.env(fid).get(call.receiver):
            return None  # the flow reads the value: its own edges judge the call
        located = self._locating_call(flow, function, call.receiver)
        if located is None:
            param = next((p for p in function.params if p.name == call.receiver and p.depends), None)
            target = self.function(param.depends) if param is not None else None
            if target is not None:
                located = next(filter(None, (
                    self._locating_call(flow, target[1], returned) for returned in target[1].returned
                )), None)
        if located is None:
            return None
        spelled, cls = located
        methods, _ = flow.classes.method(cls, call.method)
        if not any(m in self.work_chains for m in methods):
            return None
        return (
            f"`{call.receiver}.{call.method}()` runs on what `{spelled}` returns, handed the project class "
            f"`{flow.classes.short(cls)}` (a dependency-injection container or service locator, which the analysis "
            f"cannot read): it may be that class's instance, whose `{call.method}()` does synchronous Session work"
        )

    def _locating_call(self, flow: Flow, function: facts.Function, held: str) -> tuple[str, str] | None:
        """(the call as written, the class) when `held` (a local name, or a returned expression
        `$svc` or `injector.get()`) is only the result of a call no project function or class makes,
        handed a project class that is no ORM model as its first argument."""
        if held.startswith("$") and "." not in held and "(" not in held:
            held = held[1:]
        if held.endswith("()"):
            candidates = [c for c in function.calls if f"{c.func or c.callee}()" == held]
        else:
            terms = function.holds.get(held, ())
            if len(terms) != 1 or terms[0][0] != "call" or any(b.name == held for b in function.bindings if not b.expr.endswith("()")):
                return None
            candidates = [c for c in function.calls if c.index == terms[0][1]]
        if len(candidates) != 1 or candidates[0].nested:
            return None
        located = candidates[0]
        written = located.func or located.callee
        if written is None or (located.callee is not None and (
            self.function(located.callee) is not None or flow.classes.resolve(located.callee) is not None
        )):
            return None
        first = next((a for a in located.args if a.position == 0 and a.ref), None)
        cls = flow.classes.resolve(first.ref) if first is not None else None
        if cls is None or flow.classes.is_mapped(cls):
            return None
        return f"{self.written(written)}({first.name or self.written(first.ref or '')})", cls  # type: ignore[union-attr]

    def _working_method_names(self) -> frozenset[str]:
        """The names of the project methods that do synchronous Session work (`work_chains`)."""
        found: frozenset[str] | None = self.derived.get("working_method_names")  # type: ignore[assignment]
        if found is None:
            found = self.derived["working_method_names"] = frozenset(
                self.functions[fid][1].name for fid in self.work_chains if "." in self.functions[fid][1].qualname
            )
        return found

    def _stored_items(self, flow: Flow, cls: str, attribute: str) -> tuple[tuple[str, ...], str | None]:
        """The project classes whose instances the methods of `cls` (and its bases) put into the
        container `self.<attribute>` it builds without annotation (`facts.ClassFacts.item_stores`),
        and where one store cannot be read (`path:line` of the method), if any; ((), None) for an
        attribute no method builds as a container."""
        table: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = self.derived.setdefault(  # type: ignore[assignment]
            "stored_items", {}
        )
        key = (cls, attribute)
        if key in table:
            return table[key]
        table[key] = ((), None)  # a store reading the container back while it is worked out
        classes: list[str] = []
        unread: str | None = None
        for ancestor in flow.classes.mro(cls):
            if ancestor not in flow.classes.by_ref:
                continue
            module, found = flow.classes.by_ref[ancestor]
            if attribute in found.item_unread:
                unread = unread or f"{module.path}:{found.item_unread[attribute]}"
            for line, at, stored in found.item_stores.get(attribute, []):
                method = next(
                    (f for f in module.functions if f.line == line and f.qualname.startswith(f"{found.qualname}.")), None
                )
                values = flow.evaluate((module.name, method.key), stored) if method is not None and stored != "?" else None
                instances = [v.target for v in values or () if v.kind == INSTANCE and isinstance(v.target, str)]
                if not values or len(instances) < len(values):
                    # a value the flow cannot read, or one that is no project object (a Session
                    # put in, a library's value): what its methods do is not seen
                    unread = unread or f"{module.path}:{at}"
                classes.extend(c for c in instances if c not in classes)
        table[key] = (tuple(classes), unread)
        return table[key]

    def _kept_on_app_state(self, flow: Flow, fid: FunctionId, receiver: str) -> Values:
        """What the application's state keeps under the attribute `receiver` reads
        (`request.app.state.config`), from each assignment the project makes to it on the
        application: the instances it holds, which `flow.evaluate` leaves to the callers."""
        found: Values = NOTHING
        for holder, assigned in app_state_assigned(flow, fid, receiver):
            found |= flow.evaluate(holder, assigned)
        return found

    def _deferred_methods(self, flow: Flow, fid: FunctionId, function: facts.Function, name: str) -> list[FunctionId]:
        """The project methods the local `name` may hold, bound (`Function.deferred`: `repo.get`,
        `partial(repo.get, 1)`, `lambda: repo.get(1)`) on the project objects their receivers hold."""
        found: list[FunctionId] = []
        bound = [(receiver, method) for held, receiver, method in function.deferred if held == name]
        for binding in function.bindings:
            if binding.name == name and binding.expr.endswith("()") and self.canonical(binding.expr[:-2]) in PARTIALS:
                # `fetch = partial(UserRepo(db).list)`: a method of an object built in place, which
                # `deferred` cannot spell; the partial's first argument can
                made = next((c for c in function.calls if c.line == binding.line and c.callee
                             and self.canonical(c.callee) in PARTIALS), None)
                first = next((a.expr for a in made.args if a.position == 0), None) if made is not None else None
                if first is not None and "." in first:
                    receiver, _, method = first.rpartition(".")
                    bound.append((receiver, method))
        for receiver, method in dict.fromkeys(bound):
            _add_instance_methods(flow, flow.evaluate(fid, receiver), method, found)
        return found

    def _held_function_targets(
        self, function: facts.Function, call: facts.Call, flow: Flow | None = None, fid: FunctionId | None = None,
    ) -> list[FunctionId]:
        """The project function a call runs through what holds it: a local name bound only to it or
        to a `functools.partial` of it (`runner = partial(run_in_session, count); runner()`), or a
        module-level `partial(...)` or lambda (`COUNT = partial(run_in_session, count)`, `COUNT = lambda:
        run_in_session(count)`; `COUNT()`). Not an
        edge of the call graph: the arguments the call passes are not the function's (phase two
        would rewrite the call as one of the function); `own_unverified` reads it."""
        ref = None
        inline = self._inline_partial(function, call)
        if inline is not None:
            # `partial(open_session, 2)()`: what it wraps runs in place
            first = next((a for a in inline.args if a.position == 0), None)
            ref = first.ref if first is not None and call.func in self._partial_calls else None
        elif call.func is not None and call.func.startswith("$") and call.receiver is None:
            refs = {held for name, held in function.held_functions if name == call.func[1:]}
            ref = refs.pop() if len(refs) == 1 else None
            if ref is None and not refs and flow is not None and fid is not None:
                # `fetch = partial(repo.get, 1)`, `fetch = repo.get` then `fetch()`: a method of a
                # project object the local holds
                return self._deferred_methods(flow, fid, function, call.func[1:])
        elif call.func is None and call.callee is not None:
            made = self._made_by(call.callee)
            if made is not None and self.canonical(made.ref) in PARTIALS and made.args and made.args[0].ref:
                ref = made.args[0].ref
            else:
                owner, _, name = call.callee.rpartition(".")
                module = self.modules.get(owner)
                ref = module.lambdas.get(name) if module is not None else None
        found = self.function(ref) if ref is not None else None
        return [] if found is None else [(found[0].name, found[1].key)]

    @cached_property
    def _partial_calls(self) -> frozenset[str]:
        """`functools.partial()`: a partial called in place as the value-flow notation writes it."""
        return frozenset(f"{ref}()" for ref in PARTIALS)

    def _inline_partial(self, function: facts.Function, call: facts.Call) -> facts.Call | None:
        """The `functools.partial(...)` call that `call` calls in place (`partial(open_session, 2)()`),
        or whose instance it calls a method of (`partial(Service, db)().list()`), or None. Calls are
        numbered in tree order, the called expression right after its call: the first partial after
        `call` on its line is its own."""
        written = call.func
        if written is None or not (written in self._partial_calls or any(
            written.startswith(f"{head}().") and written.count("(") == 2 for head in self._partial_calls
        )):
            return None
        return next((
            c for c in function.calls
            if c.index > call.index and c.line == call.line and not c.offloaded and self.canonical(c.callee) in PARTIALS
        ), None)

    def _held_work(self, fid: FunctionId, call: facts.Call) -> str | None:
        """The synchronous Session work `fid` does when `call` runs it through what holds it, as a
        chain: its own (`opens`), or, through a module-level partial, on a Session parameter the
        partial may bind (`partial(count, SessionLocal())`), out of sight where the call is made (a
        local lambda's or partial's arguments are read where it is built); None where it does none."""
        if fid in self.work_chains:
            return " -> ".join(self.work_chains[fid])
        made = self._made_by(call.callee) if call.func is None and call.callee is not None else None
        if made is None or self.canonical(made.ref) not in PARTIALS:
            return None
        params = self.session_params.get(fid) or {}
        used = next((
            c for c in self.functions[fid][1].calls
            if c.receiver in params and c.method in SESSION_IO_METHODS and not c.nested
        ), None)
        return f"{used.receiver}.{used.method}() on its Session parameter" if used is not None else None

    def _partial_instance_work(self, receiver: str, member: str, inline: facts.Call | None = None) -> str | None:
        """How `member` of what `receiver` builds does synchronous Session work, where `receiver`
        calls a module-level `functools.partial` of a project class (`make_svc = partial(Svc,
        SessionLocal())`, `make_svc().count()`), or one built in place (`inline`: `partial(Svc,
        db)().count()`), which the flow does not type; else None."""
        if not receiver.endswith("()") or receiver.startswith("$"):
            return None
        if inline is not None:
            first = next((a for a in inline.args if a.position == 0), None)
            wrapped = first.ref if first is not None else None
        else:
            made = self._made_by(receiver[:-2])
            ok = made is not None and self.canonical(made.ref) in PARTIALS and made.args
            wrapped = made.args[0].ref if ok else None  # type: ignore[union-attr]
        if not wrapped:
            return None
        classes = self.flow.classes
        cls = classes.resolve(wrapped)
        if cls is None:
            return None
        working = [m for m in classes.method(cls, member)[0] if m in self.work_chains]
        if not working:
            return None
        return (
            f"runs {self.functions[working[0]][1].qualname} on an instance `{self.written(receiver)}` builds (a "
            f"`functools.partial` of {cls.rpartition('.')[2]}), which the analysis does not follow, and that does synchronous "
            f"Session work: {' -> '.join(self.work_chains[working[0]])}"
        )

    @cached_property
    def containers(self) -> Containers:
        """Module-level dicts, lists and tuples of functions, for the calls through them."""
        return Containers(self)

    @cached_property
    def all_calls_from(self) -> dict[FunctionId, list[Edge]]:
        """`calls_from` plus the object edges: every project function a function may call."""
        return _with_object_edges(self.calls_from, self.object_edges, attrgetter("caller"))

    @cached_property
    def project_callees(self) -> dict[int, list[FunctionId]]:
        """The project functions each call expression may run (by reference or through a value),
        keyed by the `id()` of its `facts.Call`: what tells `crud.create_task(...)` from
        `asyncio.create_task(...)`."""
        table: dict[int, list[FunctionId]] = {}
        for edge in (*self.edges, *self.object_edges):
            table.setdefault(id(edge.call), []).append(edge.callee)
        return table

    @cached_property
    def all_calls_to(self) -> dict[FunctionId, list[Edge]]:
        return _with_object_edges(self.calls_to, self.object_edges, attrgetter("callee"))

    def own_work(self, fid: FunctionId) -> list[tuple[int, str]]:
        """Synchronous Session work a function does on a Session that is its own.

        Not one a caller hands it as a parameter: one it opens (any opener the value
        flow knows), one an attribute or a module-level global holds (`self.db`, a
        `scoped_session`), used for I/O or handed to other code. (line, description).
        Not a construction that only stores it (`SqlAlchemyRepository(self.session)`): the
        instance's own methods doing I/O are work of their own (`_storing_constructions`).
        """
        return self._own_work[0].get(fid, [])

    def instance_binding(self, fid: FunctionId, name: str) -> str | None:
        """`$svc.db` when local `name` is bound only by `name = svc.db`: an attribute of another
        local or parameter (`db = request.state.db` too: the Session a middleware keeps on the
        request, handed on under the local name, is as much the function's own), never of the
        method's own instance (`db = self.db`, which the class's own handling covers), never a
        parameter itself. None otherwise."""
        _, function = self.functions[fid]
        if any(param.name == name for param in function.params):
            return None
        exprs = {b.expr for b in function.bindings if b.name == name and not b.entered}
        if len(exprs) != 1 or any(b.name == name and b.entered for b in function.bindings):
            return None
        expr = exprs.pop()
        receiver, dot, attribute = expr.rpartition(".")
        if not dot or not receiver.startswith("$") or "(" in expr or "[" in expr or not attribute:
            return None
        root = receiver.split(".", 1)[0]
        if function.params and self.flow.classes.owner(fid) is not None and root == f"${function.params[0].name}":
            return None
        return expr

    def own_work_offloaded(self, fid: FunctionId) -> frozenset[tuple[int, str]]:
        """The entries of `own_work` that only calls run in a worker thread make: the held
        Session's method handed to `run_in_threadpool(repo.session.scalar, ...)`, or called in
        a lambda handed there. An entry a call on the loop makes as well is not one of them."""
        return self._own_work[1].get(fid, frozenset())

    def own_work_in_coroutines(self, fid: FunctionId) -> dict[tuple[int, str], str]:
        """The entries of `own_work` made inside a nested `async def` or async generator (`db =
        request.state.db` read by the `StreamingResponse` generator): entry -> the nested scope.
        That work runs on the event loop whatever the function is."""
        return self._own_work[2].get(fid, {})

    def own_constructions(self, fid: FunctionId) -> list[tuple[int, str]]:
        """The constructions `own_work` leaves out: a Session of the function's own handed to an
        `__init__` that only stores it (`ItemRepo(request.state.db)`). No I/O there, but the
        instance holds that Session, which phase two cannot replace with the route's AsyncSession
        when it moves the class. (line, description)."""
        return self._own_work[3].get(fid, [])

    @cached_property
    def _own_work(
        self,
    ) -> tuple[
        dict[FunctionId, list[tuple[int, str]]],
        dict[FunctionId, frozenset[tuple[int, str]]],
        dict[FunctionId, dict[tuple[int, str], str]],
        dict[FunctionId, list[tuple[int, str]]],
    ]:
        flow = self.flow
        table: dict[FunctionId, list[tuple[int, str]]] = {}
        offloaded_table: dict[FunctionId, frozenset[tuple[int, str]]] = {}
        nested_table: dict[FunctionId, dict[tuple[int, str], str]] = {}
        built: list[tuple[FunctionId, tuple[int, str], FunctionId]] = []  # the Session handed to a constructor
        # `self.db.get_or_404(...)` on a held Session runs a method the project's Session subclass
        # adds; by its name, as for a Session parameter known only as a Session
        subclass_work = session_methods.working_names(self)
        for fid, (_module, function) in self.functions.items():
            found: list[tuple[int, str]] = []
            on_loop: set[tuple[int, str]] = set()
            offloaded: set[tuple[int, str]] = set()
            nested: dict[tuple[int, str], str] = {}
            made_away: set[tuple[int, str]] = set()  # Sessions opened in a worker thread
            params = self.session_params[fid]
            # `db = db or SessionLocal`, `db: Session = SessionLocal`: a parameter that may hold a
            # Session of the function's own when the caller passes none
            defaulted = {
                p.name for p in function.params
                if p.name in params and p.default_ref and flow.holds(fid, p.default_ref) is not None
            }
            falls_back = defaulted | {
                b.name for b in function.bindings
                if b.name in params and not b.entered and b.expr != f"${b.name}" and flow.holds(fid, b.expr) is not None
            }
            given = tuple(f"${p}" for p in params if p not in falls_back)
            opened: dict[str, str] = {}
            queried: dict[tuple[int, str], tuple[int, str]] = {}
            for o in self.opens_directly(fid):
                opener = _opener(o.callee)
                text = f"with {opener}() as {o.name}" if o.index >= 0 else f"{o.name} = {opener}()"
                opened[o.name or ""] = text
                found.append((o.line, text))
            for binding in function.bindings:
                if binding.name in opened or not binding.expr.endswith("()") or binding.name in params:
                    continue
                if not binding.entered and self._context_read(fid, binding.expr):
                    continue  # `s = current_session()`: got, not opened; the I/O on it is the work
                value = flow.evaluate(fid, binding.expr)
                if binding.entered:
                    value = flow.enter(value, binding.asynchronous)
                if any(v.kind == SESSION for v in value):
                    text = f"{'with ' if binding.entered else ''}{self.written(binding.expr)}"
                    text += f" as {binding.name}" if binding.entered else ""
                    if not binding.entered:
                        text = f"{binding.name} = {text}"
                    opened[binding.name] = text
                    found.append((binding.line, text))
                    if binding.offloaded:  # `db = await run_in_threadpool(SessionLocal)`: in a worker thread
                        made_away.add((binding.line, text))
            for line, head, attribute, assigned in function.state_assigns:
                # `request.state.db = SessionLocal()`: opened here, for the request (flow.request_state)
                if assigned.endswith("()") and flow.holds(fid, assigned) is not None:
                    found.append((line, f"{self.written(head)}.state.{attribute} = {self.written(assigned)}"))
            for call in function.calls:
                expression = call.func if call.func is not None else call.callee
                if expression is None:
                    item = self._item_session_call(fid, call)
                    if item is not None:
                        entry = (call.line, item)
                        found.append(entry)
                        (offloaded if call.offloaded else on_loop).add(entry)
                        if call.coroutine is not None and not call.offloaded:
                            nested[entry] = call.coroutine
                    continue
                receiver, dot, method = expression.rpartition(".")
                if self.canonical(call.callee) in SCOPES and any(a.keyword == COMMIT_ON_EXIT for a in call.args):
                    # `with db(commit_on_exit=True):` commits where the block ends, `db.session.add()` only before
                    entry = (call.line, f"{self.written(expression)}(commit_on_exit=...)")
                    found.append(entry)
                    (offloaded if call.offloaded else on_loop).add(entry)
                    continue
                # `ScopedSession.remove()` closes the Session the registry keeps for the caller: on a
                # registry not scoped to the request, the calling thread's, the one `async def` code on
                # the loop used; on one scoped to the request, the request's, which its `def` routes
                # used in the threadpool. Either way its connection goes back to the pool, which rolls
                # it back: I/O where the caller runs
                registry = flow.holds(fid, receiver, REGISTRY) if method == "remove" else None
                closes = registry is not None
                if dot and (method in SESSION_IO_METHODS or closes or method in subclass_work) and receiver not in given:
                    away = receiver.startswith("$") and any(opened.get(receiver[1:]) == m for _, m in made_away)
                    if receiver[1:] in opened and receiver.startswith("$") and (call.offloaded or not away):
                        continue
                    if away:
                        # opened in a worker thread, used on the loop: that use is the work
                        entry = (call.line, f"{self.written(expression)}()")
                        found.append(entry)
                        on_loop.add(entry)
                        if call.coroutine is not None:
                            nested[entry] = call.coroutine
                        continue
                    if closes or flow.holds(fid, receiver) is not None or receiver[1:] in defaulted:
                        entry = (call.line, f"{self.written(expression)}()")
                        found.append(entry)
                        (offloaded if call.offloaded else on_loop).add(entry)
                        if call.coroutine is not None and not call.offloaded:
                            nested[entry] = call.coroutine
                        continue
                read = flow.query_read(fid, expression)
                if read is not None:
                    # `User.query.filter_by(...).first()`: one entry for the chain's calls on a line,
                    # offloaded only when none of them runs on the loop (`lambda: User.query.count()`)
                    entry = queried.get((call.line, read[0]), (call.line, f"{self.written(expression)}()"))
                    if (call.line, read[0]) not in queried:
                        queried[(call.line, read[0])] = entry
                        found.append(entry)
                    (offloaded if call.offloaded else on_loop).add(entry)
                    continue
                if dot and method == "set" and self.context_variable_write(call) is not None and flow.context_variable(
                    receiver
                ):
                    continue  # `db_ctx.set(request.state.db)`: stored for the request, its `.get()` readers do the I/O
                for arg in call.args:
                    passed = arg.expr or (arg.ref if arg.name is None else None)
                    shown = passed
                    if passed is None and arg.name is not None and arg.name not in opened:
                        # `db = svc.db` then `crud.get(db)`: the Session an instance holds, under a local name
                        passed, shown = self.instance_binding(fid, arg.name), f"${arg.name}"
                    if passed is not None and shown is not None and flow.holds(fid, passed) is not None:
                        kept = self._built_for_outside(function, call)
                        if self._named_tuple(call.callee) and not self._built_for_outside(function, call, strict=True):
                            # `OrderRepo(db)`: the NamedTuple stores the Session and runs nothing; its
                            # methods doing I/O are work of their own, reached through the calls on it
                            break
                        entry = (call.line, f"{self.written(expression)}({self.written(shown)})")
                        found.append(entry)
                        init = None if kept else self._storing_init(call.callee)
                        if init is not None:
                            built.append((fid, entry, init))
                        # `run_in_threadpool(count, request.state.db)`: handed to a worker thread
                        threaded = call.offloaded or self.canonical(call.callee or "") in OFFLOADERS
                        (offloaded if threaded else on_loop).add(entry)
                        if call.coroutine is not None and not threaded:
                            nested[entry] = call.coroutine
                        break
            if found:
                table[fid] = _with_first_io(found, opened, function)
                # the opening's entry names its first I/O (`db = SessionLocal() -> db.commit()`)
                offloaded |= {
                    (line, text) for line, text in table[fid]
                    if any(line == at and (text == made or text.startswith(f"{made} -> ")) for at, made in made_away)
                }
            if offloaded - on_loop:
                offloaded_table[fid] = frozenset(offloaded - on_loop)
            if nested:
                nested_table[fid] = nested
        stored: dict[FunctionId, list[tuple[int, str]]] = {}
        for fid, entry in self._storing_constructions(table, built):
            stored.setdefault(fid, []).append(entry)
            table[fid] = [e for e in table[fid] if e != entry]
            if not table[fid]:
                del table[fid]
            if fid in offloaded_table:
                offloaded_table[fid] = offloaded_table[fid] - {entry}
            nested_table.get(fid, {}).pop(entry, None)
        return table, offloaded_table, nested_table, stored

    def _context_read(self, fid: FunctionId, expression: str, depth: int = 0) -> bool:
        """Whether `expression` only reads back the Session a module-level `ContextVar` holds for
        the request: `var.get()` on one whose every `.set()` stores a Session (`flow.context_variable`),
        or a call of a plain project helper returning only such a read, or a local bound to one
        (`session = _current.get()` ... `return session`), `None` aside. Getting it opens no Session
        and does no I/O: the calls on what it gives are the work."""
        if depth > 4 or not expression.endswith("()"):
            return False
        head = expression[:-2]
        receiver, dot, method = head.rpartition(".")
        if dot and method == "get" and receiver and not receiver.startswith("$") and "(" not in receiver:
            return bool(self.flow.context_variable(receiver))
        found = None if head.startswith("$") or "(" in head else self.function(head)
        if found is None:
            return False
        module, function = found
        callee = (module.name, function.key)
        if function.is_async or function.is_generator or not function.returned or self.opens_directly(callee):
            return False

        def reads(returned: str) -> bool:
            if returned == "None":
                return True
            name = returned[1:]
            if returned.startswith("$") and name.isidentifier():
                bound = [b for b in function.bindings if b.name == name]
                return bool(bound) and not any(p.name == name for p in function.params) and all(
                    not b.entered and self._context_read(callee, b.expr, depth + 1) for b in bound
                )
            return self._context_read(callee, returned, depth + 1)

        return any(r != "None" for r in function.returned) and all(reads(r) for r in function.returned)

    def _item_session_call(self, fid: FunctionId, call: facts.Call) -> str | None:
        """`deps["db"].scalars(...)`: a Session method called on an item of a context value whose
        fields hold the Session (a TypedDict, a NamedTuple), or `.begin()` on an item of a dict of
        sessionmakers (`Flow.maker_items`), as written; None otherwise."""
        flow = self.flow
        if call.item is not None and call.item[1] == "begin" and flow.maker_items(call.item[0]):
            # `sessionmakers[tenant].begin()` on a dict of sessionmakers: a synchronous Session opened
            return f"{self.written(call.item[0])}[...].begin()"
        if call.dispatch and all(flow.maker_items(source) for source in call.dispatch):
            return f"{call.spelled}()"  # `sessionmakers[tenant]()`: so is one it opens by a call
        if call.item is None or call.item[1] not in SESSION_IO_METHODS or call.item[0] == facts.UNSPELLED:
            return None
        if not any(v.kind == SESSION for v in flow.elements(flow.evaluate(fid, call.item[0]))):
            return None
        return f"{self.written(call.item[0])}[...].{call.item[1]}()"

    def stores_session(self, callee: str | None) -> bool:
        """Whether calling `callee` with a Session only builds an instance storing it: a project
        class whose `__init__` does no Session work, its own or through what it calls."""
        init = self._storing_init(callee)
        return init is not None and init not in self.work_chains

    def _storing_init(self, callee: str | None) -> FunctionId | None:
        """The project `__init__` a call of `callee` runs when it builds an instance of a project
        class (`SqlAlchemyRepository(self.session)`) whose construction runs no code the analysis
        cannot see: every class of its order is the project's (or a plain base), with no `__new__`,
        `__post_init__` (`__attrs_post_init__`) or class decorator but `@dataclass` and attrs' (whose
        `__init__` the collector writes out). None otherwise."""
        classes = self.flow.classes
        cls = classes.resolve(callee)
        if cls is None or classes.is_protocol(cls):
            return None
        order = classes.mro(cls)
        for ref in order:
            found = classes.by_ref[ref][1]
            # a dataclass's or attrs class's `__init__` is the one the collector writes out (it only
            # stores the fields), unless a hook runs beside it
            decorators = {self.canonical(d) or d for d in found.decorators}
            if decorators - STORING_INIT_DECORATORS or _INIT_HOOKS & classes.methods.get(ref, {}).keys():
                return None
            if any(classes.resolve(base) is None and self.canonical(base) not in PLAIN_BASES for base in found.bases):
                return None
        # The class built is the one named: its own order decides, not its subclasses.
        return next((init for ref in order if (init := classes.methods.get(ref, {}).get("__init__")) is not None), None)

    def _built_for_outside(self, function: facts.Function, call: facts.Call, strict: bool = False) -> bool:
        """Whether what `call` builds goes straight to code outside the project (`attrs.evolve(Svc(db))`,
        `copy.copy(Repo(db))`); `strict`: anywhere but into a name, a `return` or a direct argument
        of a project function or class (`Repo(db)._replace()`, `map(Repo(db).get, ids)`, read for a
        NamedTuple, whose own methods the flow does not type on what comes back). What comes back
        holds the Session while the flow types nothing there, so building it stays the Session work
        it stands for."""
        if call.statement:
            return False
        if call.argument_of is None:
            return strict
        outer = next((c for c in function.calls if c.index == call.argument_of), None)
        if outer is None or outer.callee is None:
            return True
        return self.function(outer.callee) is None and self.flow.classes.resolve(outer.callee) is None

    def _named_tuple(self, callee: str | None) -> bool:
        """Whether calling `callee` builds a project NamedTuple (`OrderRepo(db)`): the `__new__`
        the base writes only stores what it is handed, and runs nothing else (no `__new__` or
        `__init__` of the class's own, no class-level value that is a call)."""
        classes = self.flow.classes
        cls = classes.resolve(callee)
        if cls is None:
            return False
        found = classes.by_ref[cls][1]
        return (
            bool(found.bases) and all(self.canonical(b) in NAMED_TUPLES for b in found.bases)
            and not found.decorators and not found.built
            and not {"__new__", "__init__"} & classes.methods.get(cls, {}).keys()
        )

    def _storing_constructions(
        self,
        table: dict[FunctionId, list[tuple[int, str]]],
        built: list[tuple[FunctionId, tuple[int, str], FunctionId]],
    ) -> list[tuple[FunctionId, tuple[int, str]]]:
        """The constructions handing a Session to an `__init__` that does no Session work, its own
        or through what it calls (it stores the Session: no I/O, nothing to await), as (function,
        entry). A fixpoint: first every construction counts as work; an `__init__` no chain of work
        reaches then frees the constructions of its class, which may free others (a unit of work's
        `__init__` building a repository). The instance still holds the Session: its methods that
        do I/O are work of their own, reached through the calls on it."""
        if not built:
            return []
        freed: set[tuple[FunctionId, tuple[int, str]]] = set()

        def counted(fid: FunctionId) -> list[tuple[int, str]]:
            return [e for e in table.get(fid, ()) if (fid, e) not in freed]

        while True:
            chains = self._chains_up(counted, through_offloads=True)
            more = {(fid, entry) for fid, entry, init in built if init not in chains} - freed
            if not more:
                return sorted(freed)
            freed.update(more)

    def own_unverified(self, fid: FunctionId) -> list[tuple[int, str]]:
        """Session-carrying calls of a function whose target the analysis cannot resolve.

        The Session handed to code outside the project (`paginate(db, q)`), a method
        called on a value built from the Session by code the analysis cannot see
        (`repo.list()` where `repo = Depends(get_repo)` returns something untyped), a
        method whose project implementations disagree on Session work. (line, text);
        calls offloaded to the threadpool are left out: they block no event loop.
        """
        return self._own_unverified.get(fid, []) + self._state_unverified.get(fid, [])

    @cached_property
    def _state_unverified(self) -> dict[FunctionId, list[tuple[int, str]]]:
        """Calls of a method on what the application's state keeps (`request.app.state.bus.handle(cmd)`,
        `app.state.bus = bootstrap()` in the lifespan) that does no Session work the analysis sees,
        but reaches a call it cannot verify (a message bus running handlers out of a table it holds):
        unverified as that call is. Judged after the other unverified calls, which they extend."""
        own = self._own_unverified
        if not self._state_calls:
            return {}
        first = self._chains_up(lambda fid: own.get(fid, []), through_offloads=False)
        table: dict[FunctionId, list[tuple[int, str]]] = {}
        for fid, line, expression, where, methods in self._state_calls:
            unsure = next((m for m in methods if m in first), None)
            if unsure is None:
                continue
            table.setdefault(fid, []).append((
                line,
                f"`{self.written(expression)}()` runs {self.functions[unsure][1].qualname} on the object the "
                f"application's state keeps (set at {where}): {' -> '.join(first[unsure])}",
            ))
        return table

    def _context_types(self, variable: str) -> dict[str, tuple[str, ...]]:
        target = self.resolve(variable)
        return target.module.context_types if target is not None and target.module is not None else {}

    @cached_property
    def _providers(self) -> bool:
        """Whether any project class holds a dependency-injector provider."""
        return any(c.provides for module in self.modules.values() for c in module.classes)

    @cached_property
    def _own_unverified(self) -> dict[FunctionId, list[tuple[int, str]]]:
        from async_migrate.codemods.by_name_methods import picked_by_name
        from async_migrate.codemods.context_objects import context_object_call
        from async_migrate.codemods.dynamic_holders import dynamic_holder_call
        from async_migrate.codemods.module_items import module_item_call
        from async_migrate.codemods.unread_engines import handed_unread, unread_connection
        from async_migrate.codemods.unread_engines import reason as unread_reason
        from async_migrate.codemods.unread_results import unread_result

        flow = self.flow
        # (function, line, expression, where the state is set, the methods it may run)
        self._state_calls: list[tuple[FunctionId, int, str, str, list[FunctionId]]] = []
        # the Session methods called on a value the analysis cannot type, a subset of the table
        self._untyped_calls: dict[FunctionId, list[tuple[int, str]]] = {}
        # the calls running Session work through what holds a function, a subset of the table
        self._held_work_calls: dict[FunctionId, list[tuple[int, str]]] = {}
        # the unverified calls holding only where a parameter is handed what makes them so (`chain_params`)
        self._unverified_through: dict[tuple[FunctionId, int, str], tuple[str, Through]] = {}
        resolved: dict[FunctionId, dict[int, list[Edge]]] = {}
        for edge in (*self.edges, *self.object_edges):
            resolved.setdefault(edge.caller, {}).setdefault(edge.call.index, []).append(edge)
        table: dict[FunctionId, list[tuple[int, str]]] = {}
        held_by_libraries = library_bound(self)
        gifts: dict[str, str | None] = {}  # a dependency -> what it hands on from outside PATH
        # `setattr(repo, field, db)` somewhere: what a method reads on `self` may hold that Session
        computed_stores = bool(flow.classes.stored("") or flow.classes.computed_sets())
        # (the function's unverified calls, its state calls, untyped calls, held-work calls, conditions):
        # each function's own, so the functions can be shared out to forked copies
        def unverified(fid: FunctionId) -> tuple[
            list[tuple[int, str]], list[tuple[FunctionId, int, str, str, list[FunctionId]]], list[tuple[int, str]],
            list[tuple[int, str]], dict[tuple[FunctionId, int, str], tuple[str, Through]],
        ]:
            function = self.functions[fid][1]
            state_calls: list[tuple[FunctionId, int, str, str, list[FunctionId]]] = []
            untyped_calls: list[tuple[int, str]] = []
            held_work_calls: list[tuple[int, str]] = []
            conditions: dict[tuple[FunctionId, int, str], tuple[str, Through]] = {}
            found: list[tuple[int, str]] = []
            dispatched: list[tuple[int, str]] = []
            names = self.session_names_view(fid) | flow.session_locals(fid)
            edges = resolved.get(fid, {})
            kinds = {v.kind for values in flow.env(fid).values() for v in values}
            # Only a parameter or local can hold a tainted value: skip the lookups elsewhere.
            # ... or a context value whose fields hold the Session hands one out (`deps.get("db")`).
            taints = TAINTED in kinds or (INSTANCE in kinds and any(flow.elements(v) for v in flow.env(fid).values()))
            taints = taints or (computed_stores and "." in function.qualname)
            # A container's provider is read through a reference too (`Container.repo().count()`).
            injects = self._providers or INJECTED in kinds
            # `bus = request.app.state.bus`, `bus=Depends(get_bus)` returning it: a name standing for
            # what the application's state keeps
            state_locals = {
                name for name in dict.fromkeys((
                    *(b.name for b in function.bindings if ".state." in b.expr and not b.entered),
                    *(p.name for p in function.params if p.depends),
                ))
                if app_state_name(flow, fid, name) is not None
            }
            for call in function.calls:
                if call.offloaded:
                    continue
                built = self._built_callable(flow, fid, call) if taints else None
                if built is None and call.splatted and call.callee not in _BUILTIN_NAMES:
                    built = self._splatted_session(flow, fid, call)
                if built is not None:
                    found.append((call.line, built))
                    continue
                if call.dispatch:
                    unread = self.containers.unread(call)
                    if unread is not None:
                        dispatched.append((call.line, f"`{call.spelled}()` runs a value taken from {unread}"))
                        continue
                    held = self._held_table(fid, call) or self.containers.unreadable_table(call)
                    if held is None and LAMBDA in call.dispatch:
                        held = self._lambda_handed_session(flow, fid, call, names)
                    if held is not None:
                        dispatched.append((call.line, held))
                        continue
                    if call.coroutine_side is not None:
                        continue  # each entry of its kind an edge; an entry of the other kind never runs here
                stored = self._unread_item_call(flow, fid, function, call) or module_item_call(self, fid, function, call)
                if stored is None and not edges.get(call.index):
                    stored = context_object_call(self, fid, call)
                if stored is not None:
                    found.append((call.line, stored))
                    untyped_calls.append(found[-1])
                    continue
                located = self._located_instance_call(flow, fid, function, call)
                if located is not None:
                    found.append((call.line, located))
                    continue
                item = untyped_item(flow, fid, call) if call.callee is None else None
                if item is not None and self.wrapped_session_call(fid, call):
                    continue  # each decorated function's own work (`decorator_work.plain_wrapper_io`)
                if item is not None:
                    container = "a container" if item[0] == facts.UNSPELLED else f"`{self.written(item[0])}`"
                    found.append((
                        call.line,
                        f"`.{item[1]}()` is called on an item taken by subscript out of {container}, which the "
                        "analysis cannot type: it may be a synchronous Session",
                    ))
                    untyped_calls.append(found[-1])
                    continue
                handed_on = handed_unread(self, fid, call) if call.args and function.bindings and (
                    call.callee not in _BUILTIN_NAMES
                ) else None
                if handed_on is not None:
                    found.append((call.line, handed_on))
                    untyped_calls.append(found[-1])
                    continue
                held_by = dynamic_holder_call(self, fid, function, call) if not edges.get(call.index) else None
                if held_by is not None:
                    found.append((call.line, held_by))
                    continue
                expression = call.func if call.func is not None else call.callee
                if expression is None:
                    continue
                receiver, dot, _method = expression.rpartition(".")
                tainted = flow.holds(fid, receiver, TAINTED) if dot and taints and receiver[:1] == "$" else None
                if tainted is not None and _element_only(function, receiver[1:]) and (
                    expression.rpartition(".")[2] not in SESSION_IO_METHODS
                ):
                    # an element of what the Session built (`for row in rows: row.to_dict()`) is most
                    # often a row: only a Session method on it may be the Session put in a tuple
                    tainted = None
                if tainted is not None:
                    shown, on = expression, receiver
                    head, steps = split_steps(receiver)
                    if head.startswith("$") and steps[:1] and steps[0].startswith(".") and steps[1:2] == ("()",) and (
                        flow.holds(fid, head, TAINTED) is not None
                    ):
                        # `db.scalars().all()` on what `db.scalars()` returns: the call on the name itself
                        # says it (`db.scalars()` is called on `db`)
                        shown, on = head + steps[0], head
                    text = (
                        f"`{self.written(shown)}()` is called on `{self.written(on)}`, built from the "
                        f"Session by {tainted.origin or 'code'} the analysis cannot follow: it may be a synchronous Session"
                    )
                    found.append((call.line, text))
                    chain_condition = param_condition(flow, fid, function, on, TAINTED)
                    if chain_condition is not None:
                        conditions[fid, call.line, text] = chain_condition
                    continue
                injected = flow.holds(fid, expression, INJECTED) if injects else None
                if injected is not None:
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` runs on what {injected.origin} provides, which the "
                        "analysis cannot follow to a project class or function: it may do synchronous Session work",
                    ))
                    chain_condition = param_condition(flow, fid, function, expression, INJECTED)
                    if chain_condition is not None:
                        conditions[fid, call.line, found[-1][1]] = chain_condition
                    continue
                kept_on_app = app_attribute(flow, fid, expression) if self._providers and dot else None
                if kept_on_app is not None:
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` runs on `{kept_on_app}`, which the project sets on the "
                        "application (a dependency-injector container?) and the analysis cannot type: it may do "
                        "synchronous Session work",
                    ))
                    continue
                carrier = None if call.awaited or not call.args else next(
                    (handed for a in call.args
                     if (handed := a.expr or a.ref or (f"${a.name}" if a.name else None))
                     and (untyped_session(flow, fid, handed) or unread_proxy(flow, fid, handed) is not None)),
                    None,
                )
                if carrier is not None:
                    found.append((
                        call.line,
                        f"hands `{self.written(carrier)}`, which the analysis cannot type (it may be a "
                        f"synchronous Session), to `{self.written(expression)}`",
                    ))
                    continue
                unread = flow.query_unread(fid, expression)
                if unread is not None:
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` reads `{self.written(unread)}`, a `query_property()` the "
                        "analysis cannot follow to its `scoped_session`: it may run on a synchronous Session",
                    ))
                    continue
                targeted = edges.get(call.index, [])
                picked = picked_by_name(self, fid, function, call) if not targeted else None
                if picked is not None:
                    found.append((call.line, picked))
                    continue
                through = self._held_function_targets(function, call, flow, fid) if not targeted else []
                chain = self._held_work(through[0], call) if through else None
                if chain is not None:
                    name = self.functions[through[0]][1].qualname
                    shown = f"partial({name}, ...)()" if call.func in self._partial_calls else f"{self.written(expression)}()"
                    found.append((
                        call.line,
                        f"`{shown}` runs {name} through what "
                        f"holds it (a `functools.partial`, a lambda, or a name bound to it), which the call graph does not "
                        f"follow, and that does synchronous Session work: {chain}",
                    ))
                    held_work_calls.append(found[-1])
                    continue
                inline = self._inline_partial(function, call) if dot and not targeted else None
                built = self._partial_instance_work(receiver, _method, inline) if dot and not targeted else None
                if built is not None:
                    text = f"`{self.written(expression)}()` {built}"
                    # the notation drops a call's arguments: `partial(...)` reads better than `partial()`
                    found.append((call.line, text.replace("functools.partial()", "partial(...)") if inline else text))
                    continue
                handed = handed_work(self, fid, call, targeted)
                if handed is not None:
                    found.append((call.line, handed))
                    held_work_calls.append(found[-1])
                    continue
                if targeted:
                    if not all(e.certain for e in targeted):
                        working = [e for e in targeted if e.callee in self.work_chains]
                        if working and len(working) < len(targeted):
                            options = ", ".join(self.functions[e.callee][1].qualname for e in targeted)
                            found.append((
                                call.line,
                                f"`{self.written(expression)}()` may run {options}, which disagree on Session work",
                            ))
                    continue
                kept = app_state_methods(flow, fid, expression) if dot and (
                    ".state." in expression or (state_locals and receiver[1:].partition(".")[0] in state_locals)
                ) else None
                if kept is not None and any(m in self.work_chains for m in kept[1]):
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` runs a method that does synchronous Session work on the "
                        f"object the application's state keeps (set at {kept[0]}): one object for every "
                        "request, whose Session the analysis cannot tell apart from a shared one",
                    ))
                    continue
                if kept is not None and kept[1]:
                    # judged once every function's own unverified calls are known (`_state_unverified`)
                    state_calls.append((fid, call.line, expression, kept[0], kept[1]))
                    continue
                # what the application's state keeps, read from nothing the analysis reads or set nowhere
                on_state = dot and (".state." in expression or receiver[:1] == "$")
                unread = unread_app_state(flow, fid, receiver, _method, call.awaited) if on_state else None
                if unread is not None:
                    found.append((call.line, _kept_words(self.written(expression), unread)))
                    continue
                unseen = self._unseen(call.callee)
                if unseen is not None:
                    found.append((
                        call.line,
                        f"calls `{self.written(expression)}()` in `{unseen}`, {self._unseen_what(unseen)}",
                    ))
                    continue
                if call.callee in _BUILTIN_NAMES or self.canonical(call.callee) in OFFLOADERS:
                    continue
                attribute = self._function_attribute(call.callee) if dot and call.func is None else None
                if attribute is not None:
                    found.append((call.line, attribute))
                    continue
                if dot and expression.endswith(".set") and self.context_variable_write(call) is not None and flow.context_variable(receiver):
                    continue  # stored for the request: its `.get()` readers are this Session, read there
                if dot and flow.holds(fid, receiver) is not None:
                    continue  # a Session method: its own I/O is read elsewhere
                if dot and _method in ("get", "set", "reset") and context_variable_ref(self, receiver):
                    continue  # the variable's own method: what `.get()` gives is read where it is used
                declared = declared_context_session(flow, fid, expression) if dot and not call.awaited else None
                if declared is not None:
                    variable, where = declared
                    short = variable.rpartition(".")[2]
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` is called on what the context variable `{short}` holds, "
                        + ("declared a synchronous Session, " if short in self._context_types(variable) else
                           "which the analysis cannot type, ")
                        + (f"set to a value the analysis cannot read (at {where})" if where else
                           "set nowhere in the project")
                        + ": it may be a synchronous Session",
                    ))
                    untyped_calls.append(found[-1])
                    continue
                proxy = unread_proxy(flow, fid, receiver, _method) if (
                    dot and not call.awaited and _method in SESSION_IO_METHODS
                ) else None
                if proxy is not None:
                    found.append((call.line, _proxy_words(self.written(expression), *proxy)))
                    untyped_calls.append(found[-1])
                    continue
                if dot and not call.awaited and untyped_carrier(flow, fid, expression):
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` is called on `{self.written(receiver)}`, which the "
                        "analysis cannot type: it may be a synchronous Session",
                    ))
                    untyped_calls.append(found[-1])
                    continue
                entered = untyped_entered(flow, fid, expression) if dot and not call.awaited else None
                if entered is not None:
                    name = receiver[1:]
                    bound = "a value the analysis cannot spell" if entered.expr == facts.UNSPELLED else (
                        f"`{self.written(entered.expr)}`"
                    )
                    found.append((
                        call.line,
                        f"`{self.written(expression)}()` is called on `{name}`, "
                        + (f"entered from {bound} (`with ... as {name}`" if entered.entered else f"bound to {bound} (`{name} = ...`")
                        + f", line {entered.line}), which the analysis cannot type: it may be a synchronous "
                        + ("engine's connection" if entered.expr.endswith((".connect()", ".raw_connection()")) or (
                            entered.expr.endswith(".begin()") and "engine" in entered.expr.lower()
                        ) else "Session") + self._unannotated_words(flow, fid, entered.expr),
                    ))
                    untyped_calls.append(found[-1])
                    continue
                unset = unset_app_state(flow, fid, receiver, _method, call.awaited) if on_state else None
                if unset is not None:
                    found.append((call.line, _kept_words(self.written(expression), unset)))
                    continue
                result = unread_result(self, fid, function, expression) if dot and call.callee is None else None
                if result is not None:
                    found.append((call.line, result))
                    continue
                opened = unread_connection(self, fid, expression, call.awaited) if dot and function.bindings else None
                if opened is not None:
                    found.append((call.line, unread_reason(self, expression, receiver[1:], *opened)))
                    untyped_calls.append(found[-1])
                    continue
                provided = untyped_provided(flow, fid, function, call, gifts) if dot and function.params else None
                if provided is None and dot and function.bindings:
                    provided = untyped_outside_entered(flow, fid, function, call)
                if provided is not None:
                    found.append((call.line, provided))
                    untyped_calls.append(found[-1])
                    continue
                model = self._model_method(fid, call, receiver) if dot and not edges.get(call.index) else None
                if model is None and dot and not edges.get(call.index):
                    model = self._forwarded(fid, call, receiver)
                if model is None and dot and held_by_libraries and not edges.get(call.index):
                    model = library_call(self, held_by_libraries, fid, call, receiver)
                if model is not None:
                    found.append((call.line, model))
                    continue
                if self.canonical(call.callee) in CASTS:
                    continue  # `cast(Session, db)` hands `db` back, and the calls on it are followed as `db`'s
                passed = self._passed_sessions(flow, fid, call, names)
                factory = None if passed or not call.args else next(
                    (a for a in call.args if (a.expr or a.ref) and flow.holds(fid, a.expr or a.ref, FACTORY)),  # type: ignore[arg-type]
                    None,
                )
                if factory is not None and factory.position != 0 and self._threadpool_task(call):
                    # Starlette runs a plain `def` task in its threadpool: the Sessions it opens from
                    # the factory never block the loop
                    factory = None
                if passed and factory is None and self._named_tuple(call.callee) and not self._built_for_outside(
                    function, call, strict=True
                ):
                    continue  # `OrderRepo(db)`: the NamedTuple only stores it, its fields are read as the flow's
                if passed or factory is not None:
                    what = f"Session `{passed[0][1]}`" if passed else (
                        f"Session factory `{self.written(factory.expr or factory.ref)}`"  # type: ignore[union-attr, arg-type]
                    )
                    found.append((
                        call.line,
                        f"hands the {what} to `{self.written(expression)}`, which the analysis cannot see into",
                    ))
            found.extend(self.opaque_session_uses(fid))
            found.extend(self._unseen_params(function))
            for line, receiver, attribute in function.receiver_reads:
                built = self._partial_instance_work(receiver, attribute)
                if built is not None:
                    found.append((line, f"`{self.written(receiver)}.{attribute}` {built}"))
            # after the Session carriers, which say more (`with TABLE["x"]() as s: s.get(...)`)
            found.extend(dispatched)
            return found, state_calls, untyped_calls, held_work_calls, conditions

        fids = list(self.functions)
        for fid, (found, state_calls, untyped_calls, held_work_calls, conditions) in zip(
            fids, judge_all(fids, unverified, self.jobs)
        ):
            self._state_calls.extend(state_calls)
            if untyped_calls:
                self._untyped_calls[fid] = untyped_calls
            if held_work_calls:
                self._held_work_calls[fid] = held_work_calls
            self._unverified_through.update(conditions)
            if found:
                table[fid] = found
        return table

    def _built_callable(self, flow: Flow, fid: FunctionId, call: facts.Call) -> str | None:
        """`fn(1)` where `fn=Depends(get_loader)` returns `partial(load, db)` or a closure over the
        Session, `handlers["done"](id)` out of a dict of them: a callable built from the Session by
        code the analysis cannot follow is called here, and may do synchronous Session work. The
        text of the unverified call, or None."""
        if call.func is not None and call.func.startswith("$"):
            name = call.func
        elif call.dispatch and len(call.dispatch) == 1 and call.dispatch[0].startswith(LOCAL):
            name = "$" + call.dispatch[0][len(LOCAL):]
        else:
            return None
        if "." in name or "(" in name:
            return None
        tainted = flow.holds(fid, name, TAINTED)
        if tainted is None:
            return None
        written = call.spelled or f"{name[1:]}()"
        return (
            f"`{written.removesuffix('()')}(...)` calls what {tainted.origin or 'code'} built from the Session, "
            "which the analysis cannot follow (a bound function or a closure over the Session): it may do "
            "synchronous Session work"
        )

    def _splatted_session(self, flow: Flow, fid: FunctionId, call: facts.Call) -> str | None:
        """`helper(*ctx)`, `helper(**asdict(ctx))` on a context value whose fields hold the Session (or
        on what was built from it): the Session becomes an argument the analysis does not map to a
        parameter. The text of the unverified call, or None."""
        env = flow.env(fid)
        for name in call.splatted:
            held = flow.elements(env.get(name, NOTHING))
            if held:
                callee = call.spelled or self.written(call.func or call.callee or "") or "the call"
                return (
                    f"unpacks `{name}`, which carries the Session ({next(iter(held)).origin or 'a field'}), into the "
                    f"arguments of `{callee.removesuffix('()')}()`: the analysis does not follow it to a parameter there"
                )
        return None

    @cached_property
    def _model_work_methods(self) -> dict[str, list[FunctionId]]:
        """The methods a mapped project class runs (its own or a mixin's) that do synchronous
        Session work, by name: `save()` committing a `scoped_session` global."""
        classes = self.flow.classes
        work = self.work_chains
        found: dict[str, list[FunctionId]] = {}
        for ref in classes.by_ref:
            if not classes.is_mapped(ref):
                continue
            for ancestor in classes.mro(ref):
                for name, method in classes.methods.get(ancestor, {}).items():
                    if method in work and method not in found.get(name, ()):
                        found.setdefault(name, []).append(method)
        return found

    def _model_method(self, fid: FunctionId, call: facts.Call, receiver: str) -> str | None:
        """`user.save()` on an object the analysis cannot type that the Session handed out (a
        query's row, what a dependency returns from one): a mapped class's method of that name
        does Session work on a Session the call does not pass (a `scoped_session` global)."""
        name = (call.func or call.callee or "").rpartition(".")[2]
        methods = self._model_work_methods.get(name)
        if not methods or call.awaited:
            return None
        values = self.flow.evaluate(fid, receiver)
        if not values or any(v.kind != RESULT for v in values):
            return None
        options = ", ".join(sorted(self.functions[m][1].qualname for m in methods))
        return (
            f"`{self.written(call.func or call.callee or name)}()` is called on `{self.written(receiver)}`, an "
            f"object the Session returned that the analysis cannot type: it may run {options}, which does "
            "synchronous Session work"
        )

    @cached_property
    def _any_getattr(self) -> bool:
        """Whether any project class defines `__getattr__` (asked for most calls on a value)."""
        return any("__getattr__" in methods for methods in self.flow.classes.methods.values())

    def _forwarded(self, fid: FunctionId, call: facts.Call, receiver: str) -> str | None:
        """`proxy.commit()` on an instance of a project class that declares no `commit` but a
        `__getattr__` which may forward it to a Session (`forwards_session`: a `scoped_session`,
        what a link the facts cannot spell holds), beyond the flow. One forwarding to what is
        read to no Session (a Redis client a Sentinel hands out) does no Session work."""
        name = (call.func or call.callee or "").rpartition(".")[2]
        if call.awaited or not name or name.startswith("__") or not self._any_getattr:
            return None
        classes = self.flow.classes
        values = self.flow.evaluate(fid, receiver)
        if any(value.kind == SESSION for value in values):
            return None  # it forwards to a Session the flow reads (`Function.forwards`): Session work
        for value in values:
            cls = value.target
            if value.kind != INSTANCE or not isinstance(cls, str) or self.flow.knows_attribute(cls, name):
                continue
            getattr_ = next((m for c in classes.mro(cls) if (m := classes.methods.get(c, {}).get("__getattr__"))), None)
            if getattr_ is not None and forwards_session(self, getattr_, name):
                return (
                    f"`{self.written(call.func or call.callee or name)}()` is called on `{self.written(receiver)}`, "
                    f"a {classes.short(cls)} that declares no `{name}`: its `__getattr__` "
                    f"({self.functions[getattr_][1].qualname}) forwards it to what the analysis cannot type, "
                    "perhaps a synchronous Session"
                )
        return None

    def _held_table(self, fid: FunctionId, call: facts.Call) -> str | None:
        """A call of a value out of a table the instance holds (`self.command_handlers[type(c)](c)`,
        a message bus's handlers), when the instance also holds a Session or an object whose
        methods do Session work (`self.uow`): the handlers it was built with may work on that
        through closures (`lambda m: handler(m, uow=uow)`), which the analysis cannot read."""
        tables = [source for source in call.dispatch if source.startswith("self.")]
        classes = self.flow.classes
        owner = classes.owner(fid)
        if not tables or owner is None:
            return None
        lineage = set(classes.mro(owner))
        for arg in call.args:
            # `self.handlers[type(m)](m, self.uow)` with `self.uow` from a constructor argument the
            # flow cannot type (`uow or SqlAlchemyUnitOfWork()`): what it hands the handler is unknown.
            expression = arg.expr or ""
            if expression.startswith("$self.") and expression.count(".") == 1 and not self.flow.evaluate(fid, expression):
                return (
                    f"`{call.spelled}()` runs a value taken from `{tables[0]}`, a table the instance holds and the "
                    f"analysis cannot read, and hands it `{expression[1:]}`, which the analysis cannot type: what it "
                    "runs may do Session work on that"
                )
        for cls, attribute in classes.assigned:
            if cls not in lineage or f"self.{attribute}" in tables:
                continue
            values = self.flow.evaluate(fid, f"$self.{attribute}")
            if any(v.kind == SESSION for v in values):
                holder = f"the Session `self.{attribute}`"
            else:
                working = next((
                    v.target for v in values
                    if v.kind == INSTANCE and isinstance(v.target, str)
                    and any(m in self.work_chains for c in classes.mro(v.target) for m in classes.methods.get(c, {}).values())
                ), None)
                if working is None:
                    continue
                short = classes.short(working)
                article = "an" if short[:1] in "AEIO" else "a"
                holder = f"`self.{attribute}`, {article} {short} whose methods do synchronous Session work"
            return (
                f"`{call.spelled}()` runs a value taken from `{tables[0]}`, a table the instance holds and the "
                f"analysis cannot read, beside {holder}: what it runs may work on that"
            )
        return None

    def _function_attribute(self, callee: str | None) -> str | None:
        """`count_items.run()`, `count_items.apply()`, `ship_all.__wrapped__()`: a method of what a
        project function doing synchronous Session work became under its decorator (a Celery task
        runs its body there), which resolves to no project code; enqueueing ones (`delay`) excepted."""
        owner, _, attribute = (callee or "").rpartition(".")
        found = self.function(owner) if owner and attribute not in NOT_RUNNING_ATTRIBUTES else None
        if found is None or (found[0].name, found[1].key) not in self.work_chains:
            return None
        return (
            f"`{self.written(callee or '')}()` is called on the function `{found[1].qualname}`, which does "
            f"synchronous Session work; whether `{attribute}` runs it here depends on what its decorator "
            "made of it, which the analysis cannot see"
        )

    def _unseen_params(self, function: facts.Function, _seen: frozenset[int] = frozenset()) -> list[tuple[int, str]]:
        """Parameters a dependency outside PATH provides (`Depends(get_current_user)`, whose
        object may lazy-load), directly or through a dependency under PATH that depends on one,
        or typed by a class there whose methods the function calls (`repo: UserRepository`,
        `repo.get(pk)`): work the analysis cannot see."""
        if not (self.unseen or self.unreadable) or len(_seen) > 8:
            return []
        found = []
        for param in function.params:
            module = self._unseen(param.depends)
            if module is not None:
                found.append((
                    param.line,
                    f"takes `{param.name}` from the dependency `{self.canonical(param.depends)}` in `{module}`, "
                    + self._unseen_what(module),
                ))
                continue
            dependency = self.function(param.depends) if param.depends else None
            if dependency is not None and id(dependency[1]) not in _seen:
                inner = self._unseen_params(dependency[1], _seen | {id(function)})
                if inner:
                    found.append((
                        param.line,
                        f"takes `{param.name}` from the dependency `{self.canonical(param.depends)}`, which "
                        + inner[0][1],
                    ))
                    continue
            module = next((m for ref in param.annotation if (m := self._unseen(ref)) is not None), None)
            if module is None:
                continue
            prefix = f"${param.name}."
            called = min(
                ((c.line, c.func) for c in function.calls if c.func is not None and c.func.startswith(prefix)),
                key=lambda c: (c[0], len(c[1])),
                default=None,
            )
            if called is not None:
                found.append((
                    called[0],
                    f"calls `{self.written(called[1])}()` on `{param.name}: {param.text}`, a type from `{module}`, "
                    + self._unseen_what(module),
                ))
        return found

    def _unannotated_words(self, flow: Flow, fid: FunctionId, expression: str) -> str:
        """` (...)` naming the parameters with no annotation that `expression` comes from
        (`Flow.unannotated_source`), for the advice to annotate them; "" for none."""
        sources = flow.unannotated_source(fid, expression)
        if not sources:
            return ""
        named = " and ".join(
            f"the parameter `{param}` of `{self.functions[at][1].qualname}`" for at, param in sources
        )
        called = describe(expression).removesuffix("()")
        return f" (`{called}` comes from {named}, which has no annotation)"

    def _unseen_what(self, module: str) -> str:
        if module in self.unreadable and module not in self.unseen:
            return "a module under PATH that could not be read (see its error), so the analysis cannot see it"
        return "project code outside PATH that the analysis cannot see"

    def _unseen(self, ref: str | None) -> str | None:
        """The module outside PATH (`Project.unseen`), or under PATH and unreadable
        (`Project.unreadable`), a reference leads into, or None."""
        if not (self.unseen or self.unreadable) or ref is None:
            return None
        parts = (self.canonical(ref) or ref).split(".")
        found = next((m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in self.unseen), None)
        if found is None and self.unreadable:
            # The innermost module the reference names: an unreadable package `__init__` leaves
            # its readable submodules readable.
            named = [m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in self.modules or m in self.unreadable]
            if named and named[-1] in self.unreadable:
                found = named[-1]
        if found is None and len(parts) > 1:
            # a method of a module-level object built there: `repo = ItemRepository(SessionLocal())`
            target = self.resolve(".".join(parts[:-1]))
            value = target.value if target is not None and target.kind == "value" else None
            if value is not None and value.kind == "call" and value.ref is not None and value.ref != ref:
                return self._unseen(value.ref)
        return found

    @cached_property
    def untyped_chains(self) -> dict[FunctionId, list[str]]:
        """Functions calling a Session method on a value the analysis cannot type (`request.state.db`
        assigned both Sessions, an item of a dict of Sessions), or calling one: the chain to it. A
        subset of `unverified_chains`: such a value may be the very Session a migrated route holds."""
        self._own_unverified  # noqa: B018  (fills the table it reads)
        untyped = self._untyped_calls
        return self._chains_up(lambda fid: untyped.get(fid, []), through_offloads=False)

    @cached_property
    def held_work_chains(self) -> dict[FunctionId, list[str]]:
        """Functions running a helper that does synchronous Session work through what holds it (a
        `functools.partial`, a lambda, `map()`), or calling one: the chain to it. A subset of
        `unverified_chains`: phase two cannot rewrite that call, so a route reaching it stays."""
        self._own_unverified  # noqa: B018  (fills the table it reads)
        held = self._held_work_calls
        return self._chains_up(lambda fid: held.get(fid, []), through_offloads=False)

    @cached_property
    def unverified_chains(self) -> dict[FunctionId, list[str]]:
        """Functions with an unverified Session-carrying call, or calling one: the chain to it.

        A caller that only hands the function to the threadpool is not on a chain. Nor is one
        whose call hands a parameter none of the values an unverified call below holds only
        through that parameter (`chain_params`): those functions are reached on some chains only,
        and a call of one is on a chain when `unverified_chain_of` says so.
        """
        return self._unverified_states[0]

    def unverified_chain_of(self, edge: Edge) -> list[str] | None:
        """The chain from the callee of `edge` to what it cannot verify, when this call reaches it:
        not where the callee is on some chains only and this call hands it nothing that makes it so."""
        from async_migrate.codemods.chain_params import carried

        chain = self._unverified_states[0].get(edge.callee)
        conditional = self._unverified_states[1].get(edge.callee)
        if chain is None or conditional is None:
            return chain
        for (param, through), found in conditional:
            if carried(self, self.flow, edge, param, through) is not None:
                return found
        return None

    @cached_property
    def _unverified_states(
        self,
    ) -> tuple[dict[FunctionId, list[str]], dict[FunctionId, list[tuple[tuple[str, Through], list[str]]]]]:
        """`_chains_up` of the unverified calls, each state a function and the parameter condition it
        is reached under (None: on every chain through it): the first chain of each function, and
        for those reached only under conditions, each condition with its chain."""
        from async_migrate.codemods.chain_params import HOLDS, carried

        own = self.own_unverified
        self._own_unverified  # noqa: B018  (fills the table below)
        through = self._unverified_through
        flow = self.flow
        states: dict[tuple[FunctionId, tuple[str, Through] | None], list[str]] = {}
        chains: dict[FunctionId, list[str]] = {}
        frontier: deque[tuple[FunctionId, tuple[str, Through] | None]] = deque()

        def add(fid: FunctionId, condition: tuple[str, Through] | None, chain: list[str]) -> None:
            if (fid, None) in states or (fid, condition) in states:
                return
            states[fid, condition] = chain
            chains.setdefault(fid, chain)
            frontier.append((fid, condition))

        for fid in self.functions:
            found = own(fid)
            conditions = [through.get((fid, line, text)) for line, text in found]
            if None in conditions:
                add(fid, None, [found[conditions.index(None)][1]])
            for (_line, text), condition in zip(found, conditions):
                if condition is not None:
                    add(fid, condition, [text])
        while frontier:
            while frontier:
                callee, condition = frontier.popleft()
                _, function = self.functions[callee]
                if function.is_async:
                    continue
                for edge in self.all_calls_to[callee]:
                    if edge.call.offloaded:
                        continue
                    up = None
                    if condition is not None:
                        moved = carried(self, flow, edge, *condition)
                        if moved is None:
                            continue  # this call hands the parameter nothing that makes the call unverified
                        up = None if moved == HOLDS else (moved, condition[1])
                    add(edge.caller, up, [function.qualname, *states[callee, condition]])
            # a decorated function runs its decorator's wrapper on every call: on every chain
            for fid, wrappers in self._decorated:
                wrapper = next((w for w in wrappers if w in chains), None)
                if wrapper is not None and (fid, None) not in states:
                    add(fid, None, [f"@{self.functions[wrapper][1].qualname}", *chains[wrapper]])
        conditional: dict[FunctionId, list[tuple[tuple[str, Through], list[str]]]] = {}
        for (fid, condition), chain in states.items():
            if condition is not None and (fid, None) not in states:
                conditional.setdefault(fid, []).append((condition, chain))
        return chains, conditional

    @cached_property
    def work_chains(self) -> dict[FunctionId, list[str]]:
        """Functions that do synchronous Session work of their own, or call one that does.

        The chain names the callees down to the work itself:
        `["ItemsTable.get", "with get_db() as db -> db.get()"]`. A fixpoint over
        every call, object edges included; `async def` callees are not followed.
        """
        return self._chains_up(self.own_work, through_offloads=True)

    def _chains_up(
        self, own: Callable[[FunctionId], list[tuple[int, str]]], through_offloads: bool
    ) -> dict[FunctionId, list[str]]:
        """Breadth-first from the functions whose `own` finds something, up through their
        callers (not through `async def` callees), each caller recording the chain down."""
        chains: dict[FunctionId, list[str]] = {}
        for fid in self.functions:
            found = own(fid)
            if found:
                chains[fid] = [found[0][1]]
        frontier = deque(chains)
        while frontier:
            while frontier:
                callee = frontier.popleft()
                _, function = self.functions[callee]
                if function.is_async:
                    continue
                for edge in self.all_calls_to[callee]:
                    if edge.caller in chains or (edge.call.offloaded and not through_offloads):
                        continue
                    chains[edge.caller] = [function.qualname, *chains[callee]]
                    frontier.append(edge.caller)
            frontier.extend(self._wrapped_in(
                chains, lambda wrapper: [f"@{self.functions[wrapper][1].qualname}", *chains[wrapper]]
            ))
        return chains

    def opens_session(self, fid: FunctionId) -> list[str]:
        """The chain of calls through which a function opens a Session of its own, or []."""
        return self._opens_chain.get(fid, [])

    @cached_property
    def _opens_chain(self) -> dict[FunctionId, list[str]]:
        chains: dict[FunctionId, list[str]] = {}
        for fid in self.functions:
            if self.opens_directly(fid):
                chains[fid] = []
        # Own openings have an empty chain; callers get the chain of callees down to it.
        direct = set(chains)
        frontier = list(chains)
        while frontier:
            while frontier:
                callee = frontier.pop()
                for edge in self.calls_to[callee]:
                    if edge.caller in chains:
                        continue
                    module, function = self.functions[callee]
                    chains[edge.caller] = [f"{module.name}.{function.qualname}", *chains[callee]]
                    frontier.append(edge.caller)
            frontier.extend(self._wrapped_in(
                chains, lambda opener: [f"@{self.functions[opener][0].name}.{self.functions[opener][1].qualname}"]
            ))
        return {fid: chain for fid, chain in chains.items() if fid in direct or chain}

    @cached_property
    def _decorated(self) -> list[tuple[FunctionId, list[FunctionId]]]:
        """Every function with project decorators, with those decorators' functions."""
        return [
            (fid, [target for _, target in found]) for fid in self.functions if (found := self._decorator_functions(fid))
        ]

    def _wrapped_in(
        self, chains: dict[FunctionId, list[str]], link: Callable[[FunctionId], list[str]]
    ) -> list[FunctionId]:
        """Each call of a decorated function runs its decorator's wrapper, so what the decorator's
        code does (`with session_scope() as s: return fn(s, ...)`), every call does: the decorated
        functions not yet in `chains` whose decorator is, added with `link(decorator)`."""
        added = []
        for fid, wrappers in self._decorated:
            wrapper = next((w for w in wrappers if w in chains), None)
            if fid not in chains and wrapper is not None:
                chains[fid] = link(wrapper)
                added.append(fid)
        return added

    def decorator_function(self, ref: str | None) -> tuple[facts.Module, facts.Function] | None:
        """The project function a decorator (or a decorator factory) reference names: a function,
        or a method through a module-level instance (`@audit.track`, `@bus.handles(PlaceOrder)` on
        `bus = Bus()`), when the class order names one. A decorator that only hands the function
        on (`def api(fn): return timed(fn)`, `facts.Function.delegates`) stands for the one it
        hands it to, whose wrapper is what runs around each call."""
        found = self._named_decorator_function(ref)
        seen: set[int] = set()
        while found is not None and found[1].wraps is None and found[1].delegates is not None:
            if id(found[1]) in seen or len(seen) >= 8:
                # a cycle (`def a(fn): return b(fn)`, `def b(fn): return a(fn)`) wraps nothing
                # known: the decorator named stays unread, as one whose shape is unknown
                return self._named_decorator_function(ref)
            seen.add(id(found[1]))
            target, factory = found[1].delegates
            plain = self.function(target)
            if factory:
                # `return translate_errors(409)(fn)`: the factory stands for the decorator it
                # returns, as with `@translate_errors(409)`
                delegated = plain if plain is not None and _is_factory(plain[1]) else None
            elif plain is not None:
                # `return translate_errors(fn)` hands the function to a factory as its argument
                delegated = None if _is_factory(plain[1]) else plain
            else:
                delegated = self._named_decorator_function(target)
            if delegated is None:
                return self._named_decorator_function(ref)
            found = delegated
        return found

    def _named_decorator_function(self, ref: str | None) -> tuple[facts.Module, facts.Function] | None:
        """`decorator_function` without following delegation."""
        found = self.function(ref)
        if found is not None or ref is None:
            return found
        # read off the class the instance is built from, not through the flow: the decorators
        # are asked while the flow's own facts (which parameters carry a Session) are worked out
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        cls = classes.resolve(ref)
        if cls is not None:
            # `@provide_session` on a class whose instance stands for the function: each call of
            # it runs the instance's `__call__` (with `@Cls(...)`, the one taking the function)
            methods, certain = classes.method(cls, "__call__")
            return self.functions[methods[0]] if certain and len(methods) == 1 else None
        target = self.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and value.kind == "call":
            # `timed = Timer()`: the instance's `__call__` takes the function; `on_conflict =
            # translate_errors(409)`: the factory's call is the decorator, as in `@translate_errors(409)`
            cls = classes.resolve(value.ref)
            if cls is not None:
                methods, certain = classes.method(cls, "__call__")
                return self.functions[methods[0]] if certain and len(methods) == 1 else None
            factory = self.function(value.ref)
            if factory is not None and _is_factory(factory[1]):
                return factory
            return None
        held, _, attribute = ref.rpartition(".")
        value = self._module_values.get(held)
        if value is None or value.kind != "call":
            return None
        cls = classes.resolve(value.ref)
        methods, certain = classes.method(cls, attribute) if cls is not None else ([], False)
        return self.functions[methods[0]] if certain and len(methods) == 1 else None

    @cached_property
    def _module_values(self) -> dict[str, facts.Value]:
        """Every module-level name bound to a value (`audit = Auditor()`), by `module.name`."""
        return {f"{module.name}.{name}": value for module in self.modules.values() for name, value in module.values.items()}

    def decorator_functions_of(self, fid: FunctionId) -> list[tuple[facts.Decorator, FunctionId]]:
        """The project decorators of `fid`, each with its function (`_decorator_functions`)."""
        return self._decorator_functions(fid)

    def _decorator_functions(self, fid: FunctionId) -> list[tuple[facts.Decorator, FunctionId]]:
        """The decorators of `fid` that are project functions, with those functions; for a method,
        also those its class's decorators apply to the class's methods."""
        found = []
        module, function = self.functions[fid]
        for decorator in function.decorators:
            target = self.decorator_function(decorator.callee)
            if target is not None:
                found.append((decorator, (target[0].name, target[1].key)))
        owner, dot, name = function.qualname.rpartition(".")
        if dot and not (name.startswith("__") and name.endswith("__")):
            found.extend(self._class_applied.get((module.name, owner), []))
        return found

    @cached_property
    def _class_applied(self) -> dict[tuple[str, str], list[tuple[facts.Decorator, FunctionId]]]:
        """`@sessioned_methods class UserService`, whose function rewraps the class's members with a
        project decorator (`setattr(cls, name, with_session(member))`): each method runs under that
        decorator as if written on it. By (module, class qualname)."""
        found: dict[tuple[str, str], list[tuple[facts.Decorator, FunctionId]]] = {}
        for module in self.modules.values():
            for cls in module.classes:
                for ref in cls.decorators:
                    applier = self.function(ref)
                    if applier is None:
                        continue
                    for call in applier[1].calls:
                        target = self.function(call.callee)
                        if target is None or target[1].wrapped is None or target[1] is applier[1]:
                            continue
                        text = f"{target[1].qualname} (applied by the class decorator @{applier[1].qualname})"
                        decorator = facts.Decorator(line=cls.line, callee=call.callee, text=text)
                        found.setdefault((module.name, cls.qualname), []).append(
                            (decorator, (target[0].name, target[1].key))
                        )
        return found

    @cached_property
    def decorated_by(self) -> dict[FunctionId, list[FunctionId]]:
        """Project decorator -> the functions it decorates, in project order: what its wrapper's
        call of the function it wraps reaches."""
        found: dict[FunctionId, list[FunctionId]] = {}
        for fid in self.functions:
            for _, target in self._decorator_functions(fid):
                if self.functions[target][1].wrapped is not None:
                    found.setdefault(target, []).append(fid)
        return found

    def wrapped_session_call(self, fid: FunctionId, call: facts.Call) -> bool:
        """`db = kwargs["db"]; db.commit()` in a decorator's plain wrapper: a Session method called
        on the argument the wrapper hands the function it wraps, which each function it decorates
        takes as a Session parameter. What it does there is that function's (`decorator_work.
        plain_wrapper_io`), read through the parameter, not an item of a container nothing types."""
        uses = self.functions[fid][1].plain_wrapper
        decorated = self.decorated_by.get(fid)
        if not uses or not decorated:
            return False
        method = call.item[1] if call.item is not None else (call.func or "").rpartition(".")[2]
        matches = [
            u for u in uses if u.line == call.line and u.method == method and (u.position, u.keyword) != (None, None)
        ]
        if not matches:
            return False
        for target in decorated:
            function = self.functions[target][1]
            params = self.session_params.get(target, {})
            positional = [p.name for p in function.params if p.positional]
            for use in matches:
                position = use.position
                name = use.keyword if use.keyword is not None else (
                    positional[position] if position is not None and position < len(positional) else None
                )
                if name is None or name not in params:
                    return False
        return True

    def opening_decorators(self, fid: FunctionId) -> list[tuple[facts.Decorator, FunctionId]]:
        """`@with_session def f(session, ...)`: the project decorators of `fid` whose code opens a
        Session, itself or through the helpers it calls (the wrapper each call of `f` runs in),
        with the decorator function."""
        return [
            (decorator, target)
            for decorator, target in self._decorator_functions(fid)
            if self.opens_directly(target) or self.opens_session(target)
        ]

    def event_loop_need(self, fid: FunctionId) -> LoopNeed | None:
        """How a function ends up needing the running event loop through helpers, or None.

        Only calls that run when the function runs count: not those in nested
        functions (callbacks), not offloaded or awaited ones, and no `async def`
        helper (calling one only creates a coroutine). An `async def` function's own
        event-loop calls are not included: the rule reads them off its body.
        """
        return self._event_loop_needs.get(fid)

    @cached_property
    def _event_loop_needs(self) -> dict[FunctionId, LoopNeed]:
        needs = self._loop_needs(frozenset())
        balanced = self._balanced_context_managers(needs)
        return self._loop_needs(balanced) if balanced else needs

    def _balanced_context_managers(self, needs: dict[FunctionId, LoopNeed]) -> frozenset[FunctionId]:
        """The `__enter__` and `__exit__` of classes whose only event-loop need is one `ContextVar`:
        `__enter__` sets it and `__exit__` resets it, and neither calls anything needing the loop.
        A `with` runs both in one thread's context, so a worker thread sees the value inside the
        block as the loop would, and nothing outside it (a hand-written `with db():`)."""
        found: set[FunctionId] = set()
        for methods in self.flow.classes.methods.values():
            enter, leave = methods.get("__enter__"), methods.get("__exit__")
            if enter is None or leave is None:
                continue
            variables: list[set[tuple[str, str]]] = []
            for fid in (enter, leave):
                writes = set()
                for call in self.functions[fid][1].calls:
                    if self.event_loop_api(call) is None and self.loop_primitive(fid, call) is None:
                        continue
                    if self.context_variable_write(call) is None:
                        writes.add(("", ""))  # another event-loop API: not balanced
                        continue
                    variable, _, method = (call.callee or "").rpartition(".")
                    writes.add((self.canonical(variable) or variable, method))
                variables.append(writes)
            sets, resets = variables
            if len(sets) != 1 or len(resets) != 1:
                continue
            (set_var, set_method), (reset_var, reset_method) = next(iter(sets)), next(iter(resets))
            if set_method != "set" or reset_method != "reset" or set_var != reset_var or not set_var:
                continue
            if any(
                edge.callee in needs and edge.callee not in (enter, leave)
                for fid in (enter, leave)
                for edge in self.all_calls_from[fid]
                if not (edge.call.nested or edge.call.offloaded or edge.call.awaited)
            ):
                continue
            found.update((enter, leave))
        return frozenset(found)

    def _loop_needs(self, balanced: frozenset[FunctionId]) -> dict[FunctionId, LoopNeed]:
        needs: dict[FunctionId, LoopNeed] = {}
        for fid, (_, function) in self.functions.items():
            if function.is_async or fid in balanced:
                continue
            for call in function.calls:
                api = self.event_loop_api(call)
                primitive = self.loop_primitive(fid, call) if api is None else None
                if api is not None or primitive is not None:
                    context = api is not None and self.context_variable_write(call) is not None
                    needs[fid] = LoopNeed(
                        call.line, [], api or primitive or "", call.line, primitive is not None, context
                    )
                    break
        from async_migrate.codemods.loop_chains import held_method_needs

        frontier = list(needs)
        while frontier:
            while frontier:
                callee = frontier.pop()
                need = needs[callee]
                # Methods too (`HUB.publish(...)` on a module-level instance): they run in the caller's thread.
                for edge in self.all_calls_to[callee]:
                    call = edge.call
                    if edge.caller in needs or call.nested or call.offloaded or call.awaited:
                        continue
                    needs[edge.caller] = dataclasses.replace(need, line=call.line, helpers=[callee, *need.helpers])
                    if not self.functions[edge.caller][1].is_async:
                        frontier.append(edge.caller)
            # methods run on what the call graph does not type (`request.app.state.bus.publish(x)`)
            frontier = [f for f in held_method_needs(self, needs) if not self.functions[f][1].is_async]
        return needs

    def event_loop_api(self, call: facts.Call) -> str | None:
        """The event-loop-only API a call uses (`asyncio.create_task`, `loop.call_soon`), or None."""
        if call.nested:
            return None
        callee = self.canonical(call.callee)
        if callee in EVENT_LOOP_ONLY:
            return callee
        if call.method in LOOP_METHODS and call.receiver is not None and "loop" in call.receiver.lower():
            return f"{call.receiver}.{call.method}"
        holder, _, method = (call.func or "").rpartition(".")
        if method in LOOP_METHODS and "(" not in holder and "loop" in holder.rpartition(".")[2].lower():
            # `self._loop.call_soon(...)`, `app.loop.create_task(...)`: the attribute a loop is kept in
            return f"{self.written(holder)}.{method}"
        return self.context_variable_write(call)

    def call_written(self, call: facts.Call, method: str | None = None) -> str:
        """A call as a message names it: `receiver.method` on a local name (`method` in place of
        `call.method` where given), else its callee, else its called expression, else "a call"."""
        method = method or call.method
        if call.receiver and method:
            return f"{call.receiver}.{method}"
        return self.canonical(call.callee) or call.func or "a call"

    def starts_loop(self, call: facts.Call) -> bool:
        """Whether `call` starts an event loop of its own and runs it to the end in the calling
        thread (`asyncio.run(...)`, `loop.run_until_complete(...)`), run where the call stands."""
        if call.nested or call.offloaded or call.awaited:
            return False
        if self.canonical(call.callee) in LOOP_RUNNERS:
            return True
        return (call.method or call.chained) in LOOP_RUNNER_METHODS and not self.project_callees.get(id(call))

    def loop_primitive(self, fid: FunctionId, call: facts.Call) -> str | None:
        """`EVENTS.put_nowait(...)` on an asyncio primitive bound to the event loop (`asyncio.Queue`,
        `asyncio.Event`, ...) held in a module-level global, a class attribute, a `self.` attribute,
        a local or a parameter annotated with it: the call as written and the primitive
        ("EVENTS.put_nowait() on an asyncio.Queue"), or None. Awaited calls are left out: the
        `await` keeps the function a coroutine already."""
        if call.nested or call.awaited:
            return None
        if call.item is not None and call.item[1] not in LOOP_BOUND_READS:
            # `WAITERS[event_id].set_result(True)` on `WAITERS: dict[int, asyncio.Future]`
            container, method = call.item
            found = self._item_primitive(container) if not container.startswith("$") else self.items_primitive(fid, container)
            if found == UNTYPED_ITEMS:
                _, function = self.functions[fid]
                spelled = self._written_container(function, container)
                return self._untyped_primitive(f"{spelled}[...]", method, f"an item of {spelled}")
            if found is not None:
                return f"{self.written(container)}[...].{method}() on {one_of(found)}"
        if call.subscripted:  # `ROOMS[name].changed.set()`, any depth of attributes and items
            from async_migrate.codemods.loop_chains import chains

            return chains(self).call_primitive(fid, call)
        written = call.func or call.callee
        if written is None:
            from async_migrate.codemods.loop_chains import chains

            return chains(self).unread_receiver(call)
        holder, _, method = written.rpartition(".")
        if not holder or method in LOOP_BOUND_READS:
            return None
        taken = self._taken_item(fid, holder, method)
        if taken is not None:
            return taken
        primitive = self._held_primitive(fid, holder)
        if primitive is None:
            # `r.inner.q.put_nowait()`, `room(name).changed.set()`: what the chain reaches, step by step
            from async_migrate.codemods.loop_chains import chains

            found = chains(self).call_primitive(fid, call) if method not in LOOP_RUNNER_METHODS else None
            return found or self._untyped_loop_object(fid, call, holder, method)
        if method in LOOP_RUNNER_METHODS:  # a loop of its own run to the end (AM284's)
            return None
        if primitive.startswith(UNTYPED_ITEMS):
            return self._untyped_primitive(self.written(holder), method, primitive.removeprefix(UNTYPED_ITEMS))
        return f"{self.written(written)}() on {one_of(primitive)}"

    def _untyped_loop_object(self, fid: FunctionId, call: facts.Call, holder: str, method: str) -> str | None:
        """`request.app.state.tasks.start_soon(...)` on what the analysis cannot type: a method
        only task groups and event loops have, called on the application's state or on a
        module-level name bound to no object at import (`TASKS = None`, set by the lifespan):
        unverified. None elsewhere, or where the call reaches a project function."""
        if method not in LOOP_ONLY_METHODS or self.project_callees.get(id(call)):
            return None
        if ".state" in holder:
            assigned = [a for _, a in app_state_assigned(self.flow, fid, holder)]
            if assigned and all(a.endswith("()") and "(" not in a[:-2] and not a.startswith("$") for a in assigned):
                return None  # built by a call of another type (`app.state.jobs = Scheduler()`)
        else:
            target = self.resolve(holder) if not holder.startswith("$") and "(" not in holder else None
            if target is None or target.kind != "value" or target.value is None or target.value.kind == "call":
                return None
        return (
            f"{self.written(holder)}.{method}() on what the analysis cannot type (unverified: a task "
            "group or event loop needs the event loop; annotate it if it is neither)"
        )

    def _written_container(self, function: facts.Function, container: str) -> str:
        """`container` (a flow expression) as written: the flow spells a call without its arguments
        (`list()` for `list(self._subs)`), which the one such call of the function gives back."""
        callee = container.removesuffix("()")
        if callee == container or "(" in callee:
            return self.written(container)
        calls = [c for c in function.calls if callee in (c.func, c.callee)]
        if len(calls) != 1:
            return f"{self.written(callee)}(...)"
        spelled = [
            self.written(text) if (text := a.expr or a.ref or a.name) else "..."
            for a in calls[0].args if a.position is not None
        ]
        more = len(calls[0].args) > len(spelled[:1])
        return f"{self.written(callee)}({', '.join([*spelled[:1], *(['...'] if more else [])])})"

    def _taken_item(self, fid: FunctionId, holder: str, method: str) -> str | None:
        """`PENDING.pop(key).set_result(...)`, `WAITERS.setdefault(k, f).set()`: a method called at
        once on an item a container read hands back, as `PENDING[key].set_result(...)` is."""
        if not holder.endswith("()"):
            return None
        container, _, take = holder.removesuffix("()").rpartition(".")
        if take not in _TAKE_ITEM or not container or "(" in container:
            return None
        found = self._item_primitive(container) if not container.startswith("$") else self.items_primitive(fid, container)
        if found == UNTYPED_ITEMS:
            return self._untyped_primitive(f"{self.written(container)}.{take}(...)", method, f"an item of {self.written(container)}")
        return f"{self.written(container)}.{take}(...).{method}() on {one_of(found)}" if found is not None else None

    def _untyped_primitive(self, holder: str, method: str, what: str) -> str | None:
        """An unverified AM138 call: a method only asyncio's primitives (and `queue.Queue`) have,
        called on what the analysis cannot type. Converting would claim the call thread-safe."""
        if method not in LOOP_PRIMITIVE_METHODS:
            return None
        return (
            f"{holder}.{method}() on {what}, which the analysis cannot type (unverified: it may be an "
            "asyncio primitive; annotate the container, `list[queue.Queue]`, if it holds thread-safe ones)"
        )

    def items_primitive(self, fid: FunctionId, container: str) -> str | None:
        """The primitive the items of `container` (a flow expression read in `fid`) hold:
        `self._subscribers` declared `list[asyncio.Queue]` in the class or its `__init__`, filled by
        its methods with `asyncio.Queue()`, a parameter annotated so, a module-level declared
        collection; `.values()`, `.items()` and `.copy()` of one give its items too. None where
        they are known to hold none; UNTYPED_ITEMS where the analysis cannot read what they hold."""
        from async_migrate.codemods.classes import project_classes

        for suffix in (".values()", ".items()", ".copy()"):
            container = container.removesuffix(suffix)
        copied = self._copied_container(fid, container)
        if copied is not None:
            return self.items_primitive(fid, copied)
        if "(" in container:
            return UNTYPED_ITEMS
        if not container.startswith("$"):
            declared = self._item_primitive(container)
            module, _, name = container.rpartition(".")
            if declared is not None or name in getattr(self.modules.get(module), "declared_items", {}):
                return declared
            # `bus._subscribers` on a module-level instance, `bus = EventBus()`
            target = self.resolve(module) if module else None
            if target is not None and target.kind == "value" and target.value is not None and target.value.kind == "call":
                owner = project_classes(self).resolve(target.value.ref)
                if owner is not None:
                    return self._attribute_items(owner, name)
            return UNTYPED_ITEMS
        _, function = self.functions[fid]
        head, _, attribute = container[1:].partition(".")
        if not attribute:
            param = next((p for p in function.params if p.name == head), None)
            if param is not None and param.annotation:
                return self._declared_container(param.annotation)
            return UNTYPED_ITEMS
        owner = project_classes(self).owner(fid)
        first = function.params[0].name if function.params else None
        if owner is None or head != first or "." in attribute:
            return UNTYPED_ITEMS
        return self._attribute_items(owner, attribute)

    def _copied_container(self, fid: FunctionId, container: str) -> str | None:
        """`list(self.subscribers)`, `sorted(subs, key=...)` (`list()` as the flow spells it): the
        container copied, as a flow expression, where the function makes the one such copy."""
        callee = container.removesuffix("()")
        if callee == container or "(" in callee or (self.canonical(callee) or callee).removeprefix("builtins.") not in _COPIES:
            return None
        _, function = self.functions[fid]
        calls = [c for c in function.calls if callee in (c.func, c.callee)]
        first = [a for a in calls[0].args if a.position == 0] if len(calls) == 1 else []
        if not first:
            return None
        if first[0].name:
            return f"${first[0].name}"
        return first[0].expr or first[0].ref or None

    def _declared_container(self, refs: tuple[str, ...]) -> str | None:
        """The primitive a collection annotation's references name for its items (`list`,
        `asyncio.Queue`, `str` of `list[asyncio.Queue[str]]`), or None (no collection, or no
        primitive in it)."""
        if not refs or (self.canonical(refs[0]) or refs[0]) not in COLLECTION_TYPES:
            return None
        return next((p for p in map(self._primitive, refs[1:]) if p is not None), None)

    def _attribute_items(self, owner: str, attribute: str) -> str | None:
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        typed = False
        untyped = False
        for ancestor in classes.mro(owner):
            if ancestor not in classes.by_ref:
                continue
            module, found = classes.by_ref[ancestor]
            for ref in found.declared_items.get(attribute, ()):
                typed = True
                if (primitive := self._primitive(ref)) is not None:
                    return primitive
            for refs in classes.declared.get((ancestor, attribute), []):
                typed = True
                if (primitive := self._declared_container(refs)) is not None:
                    return primitive
            untyped = untyped or attribute in found.item_unread
            for line, _, stored in found.item_stores.get(attribute, []):
                method = next(
                    (f for f in module.functions if f.line == line and f.qualname.startswith(f"{found.qualname}.")), None
                )
                if stored.startswith("$") and "." not in stored and "(" not in stored and method is not None:
                    # `q = asyncio.Queue(); self._subscribers.append(q)`
                    built = [b.expr for b in method.bindings if b.name == stored[1:] and not b.entered]
                    stored = built[-1] if built else "?"
                primitive = self._primitive_built(stored) if stored != "?" else None
                if primitive is not None:
                    return primitive
                if stored == "?" or stored.startswith("$") or not stored.endswith("()"):
                    untyped = True
        return UNTYPED_ITEMS if untyped or not typed else None

    def _held_primitive(self, fid: FunctionId, holder: str) -> str | None:
        # asked for every method call, mostly on the same few locals of a function (`db.add`, `db.commit`)
        key = (fid, holder)
        try:
            return self._held_primitives[key]
        except KeyError:
            found = self._held_primitives[key] = self._find_held_primitive(fid, holder)
            return found

    @cached_property
    def _held_primitives(self) -> dict[tuple[FunctionId, str], str | None]:
        return {}

    def _find_held_primitive(self, fid: FunctionId, holder: str) -> str | None:
        # `request.app.state.wakeup.set()`, the lifespan having set `app.state.wakeup = asyncio.Event()`
        if ".state" in holder or holder.startswith("$"):
            for assigner, assigned in app_state_assigned(self.flow, fid, holder):
                found = self._primitive_assigned(assigner, assigned)
                if found is not None:
                    return found
        if not holder.startswith("$"):
            enclosed, found = self._enclosing_primitive(fid, holder)
            if enclosed:
                return found
            # A module-level name (`EVENTS`, `HUB.queue`) holds the same wherever it is called:
            # asked once per name, not once per call.
            try:
                return self._module_primitives[holder]
            except KeyError:
                found = self._module_primitives[holder] = self._module_primitive(holder)
                return found
        from async_migrate.codemods.classes import project_classes

        _, function = self.functions[fid]
        head, _, attribute = holder[1:].partition(".")
        if not attribute:
            for param in function.params:
                if param.name == head and param.annotation:
                    return self._primitive(param.annotation[0])
            built = [b.expr for b in function.bindings if b.name == head and not b.entered]
            found = self._primitive_built(built[-1]) if built else None
            taken = built[-1].removesuffix("()") if built and found is None else ""
            container, _, method = taken.rpartition(".")
            if container and method in _TAKE_ITEM and "(" not in container and not container.startswith("$"):
                # `fut = WAITERS.pop(event_id)` on `WAITERS: dict[int, asyncio.Future]`
                found = self._item_primitive(container)
            elif not built and not any(p.name == head for p in function.params):
                # `for q in self._subscribers:`, `first = self._subscribers[0]`: what its items hold
                sources = [*function.unpacked.get(head, ()), *([function.items[head]] if head in function.items else [])]
                held = [self.items_primitive(fid, source) for source in sources]
                found = next((h for h in held if h is not None and h != UNTYPED_ITEMS), None)
                if found is None and UNTYPED_ITEMS in held:
                    where = self._written_container(function, sources[held.index(UNTYPED_ITEMS)])
                    found = f"{UNTYPED_ITEMS}an item of {where}"
            # A task the function starts itself (`task = asyncio.create_task(...)`): starting it
            # needs the loop already, and is reported as such.
            return None if found == _TASK else found
        owner = project_classes(self).owner(fid)
        first = function.params[0].name if function.params else None
        if "." in attribute:
            return None
        if owner is None or head != first:
            # `r = room(name)` ... `r.changed.set()`, `for r in ROOMS.values(): r.changed.set()`
            for cls in self._local_classes(fid, head):
                found = self._attribute_primitive(cls, attribute)
                if found is not None:
                    return found
            return None
        return self._attribute_primitive(owner, attribute)

    def _local_classes(self, fid: FunctionId, name: str) -> list[str]:
        """The project classes local `name` of `fid` is an instance of, as far as annotations and
        constructors say: a parameter annotated with one, a name bound to `Room(...)` or to what
        a project function annotated `-> Room` returns, an item of a module-level container
        declared to hold them (`ROOMS: dict[str, Room]`)."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        _, function = self.functions[fid]
        refs: list[str] = []
        param = next((p for p in function.params if p.name == name), None)
        if param is not None:
            refs.extend(param.annotation)
        built = [b.expr for b in function.bindings if b.name == name and not b.entered]
        if param is None and built:
            callee = built[-1].removesuffix("()")
            if callee != built[-1] and "(" not in callee and not callee.startswith("$"):
                target = self.resolve(callee)
                if target is not None and target.kind == "function" and target.function is not None:
                    refs.extend(target.function.returns)
                else:
                    refs.append(callee)
        elif param is None:
            for source in [*function.unpacked.get(name, ()), *([function.items[name]] if name in function.items else [])]:
                for suffix in (".values()", ".copy()"):
                    source = source.removesuffix(suffix)
                owner, _, container = source.rpartition(".")
                module = self.modules.get(owner)
                if module is not None and "(" not in source:
                    refs.extend(module.declared_items.get(container, ()))
        found = [cls for cls in map(classes.resolve, refs) if cls is not None]
        return list(dict.fromkeys(found))

    def _primitive_assigned(self, fid: FunctionId, expression: str) -> str | None:
        """What `expression`, assigned in `fid`, holds: a primitive built in place, or one a local
        name of `fid` holds (`async with anyio.create_task_group() as tg: app.state.tg = tg`)."""
        if not expression.startswith("$") or "." in expression or "(" in expression:
            return self._primitive_built(expression)
        _, function = self.functions[fid]
        bound = [b for b in function.bindings if b.name == expression[1:]]
        if not bound:
            return None
        if bound[-1].entered:
            callee = bound[-1].expr.removesuffix("()")
            return LOOP_BOUND_ENTERED.get(self.canonical(callee) or callee)
        return self._primitive_built(bound[-1].expr)

    def enclosing_binder(self, fid: FunctionId, name: str) -> FunctionId | None:
        """The function around nested `fid` whose parameter or local `name` is (the innermost),
        where `fid` reads `name` without binding it: a router factory's `events = asyncio.Queue()`
        or `db = SessionLocal()` read by the routes it defines. Python finds that binding before
        the module's. None for a function at module level or in a class."""
        module, function = self.functions[fid]
        qualname = function.qualname
        while ".<locals>." in qualname:
            qualname = qualname.rpartition(".<locals>.")[0]
            outer = _last_definition(module, qualname)
            if outer is None:
                return None
            if any(p.name == name for p in outer.params) or any(b.name == name for b in outer.bindings):
                return module.name, outer.key
        return None

    def _enclosing_primitive(self, fid: FunctionId, holder: str) -> tuple[bool, str | None]:
        """A name a nested function reads from the function around it (`events.put_nowait()` in
        a route a router factory defines beside `events = asyncio.Queue()`, or takes as
        `events: asyncio.Queue`): whether an enclosing function binds it, and the primitive it
        holds."""
        head, _, attribute = holder.partition(".")
        binder = self.enclosing_binder(fid, head)
        if binder is None:
            return False, None
        if attribute:
            return True, None
        _, outer = self.functions[binder]
        param = next((p for p in outer.params if p.name == head), None)
        if param is not None and param.annotation:
            return True, self._primitive(param.annotation[0])
        return True, self._primitive_assigned(binder, f"${head}")

    def _module_primitive(self, holder: str) -> str | None:
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        found = self._primitive(holder) or self._global_primitive(holder)
        if found is not None:
            return found
        base, _, attribute = holder.rpartition(".")
        if not base:
            return None
        owner = classes.resolve(base)
        if owner is None:  # an instance: `HUB.queue` for `HUB = Hub()`
            target = self.resolve(base)
            if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
                return None
            owner = classes.resolve(target.value.ref)
        return self._attribute_primitive(owner, attribute) if owner is not None else None

    def _item_primitive(self, container: str) -> str | None:
        """The primitive the items of module-level `container` are declared to be
        (`WAITERS: dict[int, asyncio.Future]`), or None."""
        owner, _, name = container.rpartition(".")
        module = self.modules.get(owner)
        for ref in module.declared_items.get(name, ()) if module is not None else ():
            found = self._primitive(ref)
            if found is not None:
                return found
        return None

    @cached_property
    def _rebound(self) -> dict[str, list[str]]:
        """Every module's `rebound` joined, in module order: a module-level name -> what the
        functions binding it as an attribute build."""
        table: dict[str, list[str]] = {}
        for module in self.modules.values():
            for target, built in module.rebound.items():
                table.setdefault(target, []).extend(built)
        return table

    def _global_primitive(self, holder: str) -> str | None:
        """The primitive a module-level name holds once a function of its module has bound it
        under a `global` statement (`_wakeup = None` at module level, `global _wakeup; _wakeup =
        asyncio.Event()` in the lifespan or the task it starts, so the primitive belongs to the
        loop that runs them), or None."""
        # The name itself, not what it is bound to at import (`None`, which resolving follows).
        owner, _, name = holder.rpartition(".")
        module = self.modules.get(owner)
        if module is None:
            return None
        # Declared so (`WAKEUP: asyncio.Event | None = None`), whichever module binds it later
        # (`signals.WAKEUP = asyncio.Event()` in the lifespan).
        for ref in module.declared.get(name, ()):
            found = self._primitive(ref)
            if found is not None:
                return found
        # Bound as an attribute by a function of any module (`signals.WAKEUP = asyncio.Event()`).
        for callee in self._rebound.get(f"{owner}.{name}", ()):
            found = self._primitive(callee)
            if found is not None:
                return found
        if name not in module.values:
            return None
        for function in module.functions:
            if name not in function.declared_globals:
                continue
            for binding in function.bindings:
                found = None if binding.name != name or binding.entered else self._primitive_built(binding.expr)
                if found is None and binding.name == name and not binding.entered:
                    # `global TASKS; async with asyncio.TaskGroup() as tg: TASKS = tg`
                    found = self._primitive_assigned((module.name, function.key), binding.expr)
                if found is not None:
                    return found
        return None

    def _attribute_primitive(self, owner: str, attribute: str) -> str | None:
        """The primitive a class's attribute holds: built in the class body, or assigned to
        `self.attribute` in one of its methods (or its bases')."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        for ancestor in classes.mro(owner):
            if ancestor not in classes.by_ref:
                continue
            declared = classes.by_ref[ancestor][1]
            built = declared.built.get(attribute)
            found = self._primitive(built) if built is not None else None
            # `changed: asyncio.Event = field(default_factory=asyncio.Event)`, `self.tg: TaskGroup | None = None`
            for refs in [declared.annotations.get(attribute, ()), *classes.declared.get((ancestor, attribute), [])]:
                found = found or self._annotated_primitive(refs)
            for fid, expression in classes.assigned.get((ancestor, attribute), []):
                found = found or self._primitive_assigned(fid, expression)
            if found is not None:
                return found
        return None

    def _annotated_primitive(self, refs: tuple[str, ...]) -> str | None:
        """The loop-bound object an annotation declares (`asyncio.Event`, `TaskGroup | None`), or
        None: a collection of them (`list[asyncio.Queue]`) holds them as items, not itself."""
        if any((self.canonical(ref) or ref) in COLLECTION_TYPES for ref in refs):
            return None
        return next((p for p in map(self._primitive, refs) if p is not None), None)

    def _primitive_built(self, expression: str) -> str | None:
        """`asyncio.Queue()` (a flow expression) -> the primitive it builds, or None."""
        callee = expression.removesuffix("()")
        if callee == expression or "(" in callee or callee.startswith("$"):
            return None
        return self._primitive(callee)

    def _primitive(self, ref: str | None) -> str | None:
        """The loop-bound primitive a reference names or a module-level value builds, or None."""
        target = self.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None:
            if target.value.kind != "call":
                return None
            ref = target.value.ref
        found = self.canonical(ref)
        if found in TASK_STARTERS:  # `_publisher = asyncio.create_task(publisher_loop())`
            return _TASK
        if found in LOOP_BOUND_FACTORIES:  # `app.state.loop = asyncio.get_running_loop()`
            return LOOP_BOUND_FACTORIES[found]
        if found in LOOP_BOUND_PRIMITIVES:
            return found
        if not self._subclassed_primitives:
            return None
        from async_migrate.codemods.classes import project_classes

        # `class Mailbox(asyncio.Queue)`: an instance is the primitive it derives from
        return self._subclassed_primitives.get(project_classes(self).resolve(ref) or "")

    @cached_property
    def _subclassed_primitives(self) -> dict[str, str]:
        """Project classes deriving, directly or through project bases, from a loop-bound
        primitive (`class Mailbox(asyncio.Queue)`): class -> that primitive."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self)
        found: dict[str, str] = {}
        for cls in classes.by_ref:
            for ancestor in classes.mro(cls):
                base = next(
                    (c for b in classes.by_ref[ancestor][1].bases if (c := self.canonical(b) or b) in LOOP_BOUND_PRIMITIVES),
                    None,
                )
                if base is not None:
                    found[cls] = base
                    break
        return found

    def context_variable_write(self, call: facts.Call) -> str | None:
        """`request_session.set(...)` / `.reset(...)` on a module-level `ContextVar`, as written, or None.
        Set in a worker thread, the value stays in that thread's copy of the context."""
        if call.nested or call.callee is None:
            return None
        callee = self.canonical(call.callee) or call.callee
        if callee in context_variables.SETTERS:
            return f"{callee.rpartition('.')[2]}()"  # a library's setter (`bind_contextvars(...)`)
        variable, _, method = call.callee.rpartition(".")
        if method not in CONTEXT_VARIABLE_WRITES:
            return None
        if (self.canonical(variable) or variable) in context_variables.VARIABLES:
            return f"{variable.rpartition('.')[2]}.{method}()"  # a library's `ContextVar` (`correlation_id`)
        target = self.resolve(variable)
        if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
            return None
        if self.canonical(target.value.ref) not in CONTEXT_VARIABLES:
            return None
        return f"{variable.rpartition('.')[2]}.{method}()"

    def enclosing_context_variable_write(self, fid: FunctionId, call: facts.Call) -> str | None:
        """`current.set(...)` / `.reset(...)` on a `ContextVar` the function around nested `fid`
        holds (a router factory's `current = ContextVar("current")`), as written, or None."""
        if call.nested or call.callee is None:
            return None
        variable, _, method = call.callee.rpartition(".")
        if method not in CONTEXT_VARIABLE_WRITES or "." in variable or not variable:
            return None
        binder = self.enclosing_binder(fid, variable)
        if binder is None:
            return None
        _, outer = self.functions[binder]
        built = [b.expr for b in outer.bindings if b.name == variable and not b.entered]
        if not built or self.canonical(built[-1].removesuffix("()")) not in CONTEXT_VARIABLES:
            return None
        return f"{variable}.{method}()"

    def context_variable_stored(self, function: facts.Function, call: facts.Call) -> str | None:
        """What `var.set(x)` stores, as the flow reads it: `$name`, an attribute path, or a call
        written right in it (`var.set(SessionLocal())`, its callee then `()`); None when unread."""
        first = next((a for a in call.args if a.position == 0), None)
        if first is None:
            return None
        if first.name or first.expr:
            return f"${first.name}" if first.name else first.expr
        if len(call.args) != 1:
            return None
        inner = [c for c in function.calls if c.argument_of == call.index]
        # the one direct call argument of a call with one argument is that argument
        return f"{inner[0].callee}()" if len(inner) == 1 and inner[0].callee else None

    @cached_property
    def context_variable_sets(self) -> dict[str, list[tuple[FunctionId, facts.Call]]]:
        """Every `x.set(...)` call in the project, by the canonical reference of `x`, in project
        order (functions as collected, calls as written), nested calls included: what sets a
        module-level `ContextVar`, read by each question about one (what its `.get()` holds,
        whether anything sets it, where). Callers that need the receiver to be a `ContextVar`
        check `context_variable_write`."""
        found: dict[str, list[tuple[FunctionId, facts.Call]]] = {}
        for fid, (_, function) in self.functions.items():
            for call in function.calls:
                if call.callee is not None and call.callee.endswith(".set"):
                    variable = call.callee.removesuffix(".set")
                    found.setdefault(self.canonical(variable) or variable, []).append((fid, call))
        return found

    def opens_directly(self, fid: FunctionId) -> list[facts.SessionOpen]:
        found = self._opens.get(fid)
        if found is None:
            _, function = self.functions[fid]
            found = self._opens[fid] = tuple(o for o in function.opens if self.is_sessionmaker(o.callee))
        return list(found)

    def shared_open(self, fid: FunctionId) -> str | None:
        """How `fid`'s direct opening takes a Session others share, for a reason, or None.

        Calling a `scoped_session` registry (`session = db_session()`), however it is reached (a
        module global, an attribute, `app.state`), returns the Session the registry keeps for the
        request or thread: every other caller in that scope gets the same one. Such a call opens
        nothing new, so it cannot be read as a fresh Session from a sessionmaker."""
        for opened in self.opens_directly(fid):
            registry = self.flow.holds(fid, opened.callee, REGISTRY)
            if registry is None:
                continue
            scope, where = registry.target if isinstance(registry.target, tuple) else (None, None)
            kept = {"request": "request", "thread": "thread", "task": "asyncio task", "process": "whole process"}.get(
                str(scope), "scope its `scopefunc=` keys"
            )
            place = f" ({where})" if where else ""
            path = self.functions[fid][0].path
            return (f"`{opened.callee.rpartition('.')[2]}()` at {path}:{opened.line} returns the Session the `scoped_session` "
                    f"registry `{registry.origin or opened.callee}`{place} keeps for the {kept}, shared by every other "
                    "use of the registry in it")
        return None

    def decorator_shape(self, decorator: facts.Decorator, coroutine: bool = False) -> tuple[str, str]:
        """How a non-registering decorator treats the function: (shape, where it is defined);
        with `coroutine`, how it treats an `async def` (`facts.Function.wraps_coroutine`)."""
        listed = self.canonical(decorator.callee)
        if coroutine:
            # a decorator that works with a plain function (`safe-decorators`) may still return a
            # coroutine function's coroutine unrun, or cache it (`@cached(...)`): only
            # `async-safe-decorators` vouches for how it treats an `async def`
            if listed in self.config.async_safe_decorators:
                return "coroutine", "configuration"
        elif listed in self.config.safe_decorators:
            return "passthrough", "configuration"
        if decorator.callee in METHOD_DECORATORS and not decorator.is_call:
            return "passthrough", "Python"
        if self.canonical(decorator.callee) in REPEATING_DECORATORS:
            # `@repeat_every(seconds=60)` runs a plain def in the threadpool, an `async def` on the loop
            return "passthrough", "fastapi-utils"
        if self.canonical(decorator.callee) in INJECT and not decorator.is_call:
            return "passthrough", "dependency-injector"
        found = self.decorator_function(decorator.callee)
        if found is None:
            target = self.resolve(decorator.callee)
            if target is not None and target.kind != "external":
                return "unknown", target.module.path if target.module else decorator.text
            return "external", decorator.callee or decorator.text
        module, function = found
        shape = (function.wraps_coroutine if coroutine else None) or function.wraps
        return shape or "unknown", f"{module.path}:{function.line}"

    def iter_functions(self) -> Iterator[tuple[FunctionId, facts.Module, facts.Function]]:
        for fid, (module, function) in self.functions.items():
            yield fid, module, function


def _is_factory(function: facts.Function) -> bool:
    """A decorator factory (`def translate_errors(status): def decorate(func): ...`): the function it
    decorates is a parameter of the decorator it returns, not its own first parameter."""
    first = next((p.name for p in function.params if p.positional), None)
    return function.wraps is not None and function.wrapped is not None and function.wrapped != first


def flow_sessions(flow: Flow, fid: FunctionId) -> set[str]:
    """Local names the value flow knows hold a Session (`with self.Session() as s`)."""
    return set(flow.session_locals(fid))


# The special methods each protocol of `Function.implicit` runs, tried in order: the first a class
# defines is the one Python calls (`if posts:` calls `__len__` where no `__bool__` is defined).
_PROTOCOLS: dict[str, tuple[tuple[str, ...], ...]] = {
    "iter": (("__iter__",), ("__getitem__",)),
    "len": (("__len__",),),
    "bool": (("__bool__",), ("__len__",)),
    "getitem": (("__getitem__",),),
    "setitem": (("__setitem__",),),
    "delitem": (("__delitem__",),),
    "contains": (("__contains__",), ("__iter__",), ("__getitem__",)),
    "eq": (("__eq__",),),
    "ne": (("__ne__",), ("__eq__",)),
    "next": (("__next__",),),
    "reversed": (("__reversed__",), ("__len__", "__getitem__")),
    "str": (("__str__",), ("__repr__",)),
    "repr": (("__repr__",),),
    "format": (("__format__",), ("__str__",), ("__repr__",)),
}
_PROTOCOL_TEXT = {
    "iter": "iterating {}", "len": "len({})", "bool": "testing {}", "getitem": "{}[...]",
    "setitem": "{}[...] = ...", "delitem": "del {}[...]", "contains": "... in {}", "eq": "comparing {}", "ne": "comparing {}", "next": "next({})",
    "reversed": "reversed({})", "str": "str({})", "repr": "repr({})", "format": "formatting {}",
}


# The special methods an attribute read may run: the class's own lookup, or a descriptor's.
_READ_HOOKS = frozenset({"__getattr__", "__getattribute__", "__get__"})


def _read_hooks(
    project: Project, cls: str, attribute: str, instance: bool, hooked: AbstractSet[str]
) -> list[tuple[FunctionId, bool, str]]:
    """The project methods reading `attribute` on an instance of `cls` (`instance`) or on the class
    itself runs: (method, certain, what runs it, for an edge's text)."""
    classes = project.flow.classes
    found: list[tuple[FunctionId, bool, str]] = []
    if instance and "__getattribute__" in hooked:
        methods, certain = classes.method(cls, "__getattribute__")
        found.extend((m, certain, f"its `__getattribute__`, {project.functions[m][1].qualname}") for m in methods)
    if instance and not found and "__getattr__" in hooked and not _declared(project, cls, attribute):
        methods, certain = classes.method(cls, "__getattr__")
        found.extend((m, certain, f"declared nowhere: its `__getattr__`, {project.functions[m][1].qualname}") for m in methods)
    if "__get__" in hooked:
        for ancestor in classes.mro(cls):
            built = classes.built(ancestor, attribute)
            descriptor = classes.resolve(built) if built is not None else None
            if descriptor is not None:
                methods, certain = classes.method(descriptor, "__get__")
                found.extend((m, certain, f"a descriptor: {project.functions[m][1].qualname}") for m in methods)
                break
    return found


def _declared(project: Project, cls: str, attribute: str) -> bool:
    """Whether ordinary lookup finds `attribute` on an instance of `cls`, so no `__getattr__` runs:
    the class order's bodies bind it, or code assigns it on the instances."""
    classes = project.flow.classes
    return project.flow.knows_attribute(cls, attribute) or any(
        attribute in classes.by_ref[ancestor][1].names for ancestor in classes.mro(cls)
    )


def _protocol_methods(flow: Flow, cls: str, protocol: str) -> tuple[str, ...]:
    """The special methods of `cls` a protocol runs: the first choice the class's order defines."""
    for names in _PROTOCOLS[protocol]:
        if all(flow.classes.method(cls, name)[0] for name in names):
            return names
    return ()


# Methods a construction runs beside `__init__`, that a generated one calls, or instead of it.
_INIT_HOOKS = frozenset({"__new__", "__post_init__", "__attrs_pre_init__", "__attrs_post_init__", "__init_subclass__"})


def _map_args(project: Project, passed: list[tuple[facts.Arg, str]], callee: FunctionId) -> dict[str, str]:
    """Callee parameter -> the Session text passed to it."""
    if not passed:
        return {}
    _, function = project.functions[callee]
    result: dict[str, str] = {}
    for arg, text in passed:
        name = facts.parameter_of(function, arg)
        if name is not None:
            result[name] = text
    return result



def _element_only(function: facts.Function, name: str) -> bool:
    """Whether local `name` is bound only to an element of a value (`Function.unpacked`, `items`)."""
    return (name in function.unpacked or name in function.items) and not any(
        b.name == name for b in function.bindings
    ) and not any(p.name == name for p in function.params)


def _bare(param: facts.Param) -> bool:
    """A parameter without annotation, default or `Depends()`: FastAPI would read it from the query
    string, a caller passes it by hand, or a decorator fills it."""
    return not (
        param.text or param.annotation or param.depends or param.default or param.default_ref or param.variadic
        or param.opaque_depends or param.provide or param.name in ("self", "cls")
    )


def _kept_words(call: str, kept: str) -> str:
    """Why a Session method on what the application's state keeps is unverified: `kept` says how
    the analysis cannot read it (`unread_app_state`, `unset_app_state`)."""
    return (
        f"`{call}()` is called on what the application's state keeps, {kept}: it may be a sessionmaker or a "
        "`scoped_session` registry"
    )


def _proxy_words(call: str, proxy: str, where: str) -> str:
    """Why a call on a `LocalProxy` whose forwarded value the analysis cannot read is unverified."""
    return (
        f"`{call}()` is called on what the proxy `{proxy.rpartition('.')[2]}` ({where}) forwards to, which the "
        "analysis cannot read: it may be a synchronous Session"
    )


def _opener(ref: str) -> str:
    """An opening call's callee as a reason spells it: `SessionLocal`, `SessionLocal.begin` (not a
    bare `begin`, which names no sessionmaker)."""
    parts = ref.rsplit(".", 2)
    return ".".join(parts[-2:]) if parts[-1] == "begin" and len(parts) > 1 else parts[-1]


def _with_first_io(
    found: list[tuple[int, str]], opened: dict[str, str], function: facts.Function
) -> list[tuple[int, str]]:
    """`with get_db() as db` -> `with get_db() as db -> db.get()`: the first I/O on it."""
    result = []
    for line, text in found:
        for name, opening in opened.items():
            if opening != text:
                continue
            call = next(
                (
                    c for c in function.calls
                    if (c.func or "").startswith(f"${name}.") and (c.func or "").count(".") == 1
                    and (c.func or "").rpartition(".")[2] in SESSION_IO_METHODS
                ),
                None,
            )
            if call is not None:
                text = f"{text} -> {describe(call.func)}()"
        result.append((line, text))
    return result


def _last_definition(module: facts.Module, qualname: str) -> facts.Function | None:
    found = None
    for function in module.functions:
        if function.qualname == qualname:
            found = function
    return found


def _signature(param: facts.Param) -> str:
    text = param.name
    if param.text:
        text += f": {param.text}"
    if param.default:
        text += f" = {param.default}"
    return text


def _declares_maker(canonical: list[str | None]) -> bool:
    """Whether a type expression's references (canonical) name a sessionmaker or a callable
    (`sessionmaker[Session]`, `Callable[[], Session]`): what it declares opens a Session, and is
    none."""
    return any(r in PLAIN_SESSIONMAKERS or r in CALLABLE_TYPES for r in canonical)


# What reads one item of a container by a method (`managers.get(name)`), as a subscript does.
_ITEM_READ_CALLS = tuple(f".{method}()" for method in sorted(ITEM_READS))


def _got_item(function: facts.Function, call: facts.Call) -> tuple[str, str] | None:
    """`self._state.get(key).save()`, or `entry = self._state.get(key)` (its one binding) then
    `entry.save()`: (the container, `save`); None for any other call."""
    if call.func is None:
        return None
    receiver, _, method = call.func.rpartition(".")
    if receiver.startswith("$") and "." not in receiver and "(" not in receiver:
        binding = function.sole_binding(receiver[1:])
        if binding is None:
            return None
        receiver = binding.expr
    if not receiver.endswith(_ITEM_READ_CALLS):  # asked of every call: most read no item
        return None
    read = next(r for r in _ITEM_READ_CALLS if receiver.endswith(r))
    if "(" in receiver[: -len(read)]:
        return None
    return receiver[: -len(read)], method


def _callees_ordered(edges: list[Edge]) -> list[Edge]:
    """edges, the edges of each call (one `facts.Call`) to methods of one name (`Redis.set`,
    `Memory.set`) sorted by callee among the places they hold."""
    places: dict[tuple[int, str], list[int]] = {}
    for place, edge in enumerate(edges):
        places.setdefault((id(edge.call), edge.callee[1].rpartition(".")[2]), []).append(place)
    ordered = list(edges)
    for held in places.values():
        if len(held) > 1:
            for place, edge in zip(held, sorted((edges[p] for p in held), key=attrgetter("callee"))):
                ordered[place] = edge
    return ordered


def _with_object_edges(
    table: dict[FunctionId, list[Edge]], added: Iterable[Edge], end: Callable[[Edge], FunctionId]
) -> dict[FunctionId, list[Edge]]:
    """table with each edge of `added` appended under its `end`: a new list only for a function
    it adds to (both tables are only read; a copy of every list is megabytes on a large project)."""
    found = dict(table)
    copied: set[FunctionId] = set()
    for edge in added:
        fid = end(edge)
        if fid not in copied:
            found[fid] = list(found[fid])
            copied.add(fid)
        found[fid].append(edge)
    return found


def _add_methods(flow: Flow, cls: str, method: str, found: list[FunctionId]) -> None:
    """Add to `found` the project methods `method` names on class `cls`, each once."""
    methods, _ = flow.classes.method(cls, method)
    found.extend(m for m in methods if m not in found)


def _add_instance_methods(flow: Flow, values: Values, method: str, found: list[FunctionId]) -> None:
    """`_add_methods` for the class of every project instance among `values`."""
    for value in values:
        if value.kind == INSTANCE and isinstance(value.target, str):
            _add_methods(flow, value.target, method, found)
