"""The Session as a value: what an expression of a function may hold.

Each expression the pre-pass records is evaluated to a set of abstract values (a Session, a
factory, an engine, an instance of a project class, ...; the empty set is Unknown), so every
analysis asks one place what an expression holds. The kinds: `docs/analysis.md`, "The Session
as a value"; how instances, methods and elements are read: `Flow`.

Over 500 lines: one abstract evaluation (values, bindings, calls, attributes, classes) whose
parts recurse into each other.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import dispatch as dispatch_names
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.deferred_calls import hands_arguments
from async_migrate.codemods.handed_constants import NO_SPANS, Spans, within
from async_migrate.codemods.held_session import ASYNC, SYNC, generic_param_kind
from async_migrate.codemods.overloads import matching_overloads
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import (
    SYNC_ENGINE_CONSTRUCTORS,
)
from async_migrate.codemods.vocabulary.clients import NON_SESSION_CLASSES, REQUEST_SESSION
from async_migrate.codemods.vocabulary.dependency_injector import CALLING_PROVIDERS, PROVIDERS_PREFIX
from async_migrate.codemods.vocabulary.fastapi import APPLICATION_ATTRIBUTES, APPLICATION_TYPES
from async_migrate.codemods.vocabulary.fastapi_sqla import SESSION_OPENERS as LIBRARY_SESSION_OPENERS
from async_migrate.codemods.vocabulary.fastapi_sqlalchemy import REQUEST_SESSIONS
from async_migrate.codemods.vocabulary.pydantic import ALTERNATE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.python import (
    CALLABLE_TYPES,
    CONTEXT_MANAGER_DECORATORS,
    CONTEXT_VARIABLES,
    LOCAL_PROXIES,
    OBJECT_COPIES,
    PER_CALL_ITERATORS,
    PER_CALL_VALUES,
    PROPERTY_DECORATORS,
    TASK_IDENTS,
    THREAD_IDENTS,
    TYPE_FORMS,
)
from async_migrate.codemods.vocabulary.sqlalchemy import (
    CONNECTION_OPENERS,
    DESCRIPTIVE_ATTRIBUTES,
    FROM_CONFIG,
    INSTANCE_STATE,
    OBJECT_SESSION,
    PLAIN_SESSIONMAKERS,
    SCOPED_SESSION_MAKERS,
    SESSION_IO_METHODS,
    SYNC_CONNECTION_TYPES,
    SYNC_ENGINE_TYPES,
    SYNC_SESSIONMAKERS,
)
from async_migrate.codemods.vocabulary.starlette import APPLICATION_TYPES as STARLETTE_APPLICATIONS
from async_migrate.codemods.vocabulary.starlette import CALL_NEXT, REQUEST_TYPES

if TYPE_CHECKING:
    from async_migrate.codemods.project import Edge, FunctionId, Project

SESSION = "session"
FACTORY = "factory"
MAKER = "maker"
SCOPED_MAKER = "scoped-maker"
CONTEXT = "context"
MANAGER = "manager"
INSTANCE = "instance"
CLASS = "class"
FUNCTION = "function"
TAINTED = "tainted"
RESULT = "result"
REGISTRY = "registry"
QUERY_PROPERTY = "query-property"  # `registry.query_property` itself; called, it gives a QUERY descriptor
QUERY = "query"
ENGINE_MAKER = "engine-maker"
ENGINE = "engine"
CONNECTOR = "connector"
CONNECTION = "connection"
THREAD = "thread"
TASK = "task"  # `scopefunc=asyncio.current_task`: one Session per asyncio task
PROCESS = "process"  # `scopefunc=` a context variable nothing sets: one Session for every request
# `scopefunc=` a context variable set only to values that may repeat (a constant, a header): one
# Session for every request with the same value, at once from several threadpool workers
REPEATED = "repeated"
REQUEST = "request"
INJECTED = "injected"
# `inspect` / `instance_state` itself, and what its call gives: an object's InstanceState, whose
# `.session` is the Session the object belongs to
STATE_MAKER = "state-maker"
STATE = "state"
# what code the analysis cannot follow built from the Session, or a provider it cannot read made:
# its parts (elements, items) are as opaque
_OPAQUE = frozenset({TAINTED, INJECTED})


@dataclass(frozen=True, slots=True)
class Abstract:
    """One abstract value. `target`: a class reference or a FunctionId; `bound`: the class a
    method was looked up on; `origin`: how the value came about, for reasons. The kinds, what
    each means and what produces it: `docs/analysis.md`, "The Session as a value"."""

    kind: str
    target: object = None
    bound: str | None = None
    origin: str = field(default="", compare=False)


Values = frozenset[Abstract]


def in_order(values: Values) -> list[Abstract]:
    """`values` in an order that does not depend on the process's string hashing: where the first
    of several values names a place in a message, every run names the same one."""
    return sorted(values, key=lambda v: (v.kind, repr(v.target), v.bound or "", v.origin))
# The methods a TypedDict (a dict) or NamedTuple (a tuple) inherits that hand out its fields' values
# What reads one item of a container (`managers.get(name)`), as a subscript does.
ITEM_READS = frozenset({"get", "pop", "setdefault"})
_CONTAINER_METHODS = frozenset({"get", "items", "values", "copy", "pop", "setdefault", "_asdict", "_replace"})
NOTHING: Values = frozenset()
# The one empty set of names the per-function memos keep (here and in `project.py`): most
# functions open no Session and hold none, and an empty frozenset each is some megabytes on a
# large project (more again in each forked copy, `codemods.forked`).
NO_NAMES: frozenset[str] = frozenset()
_SESSION: Values = frozenset({Abstract(SESSION)})
# What a store from outside a class may put into its attribute that its methods read as Session work.
_STORED_KINDS = frozenset({SESSION, REGISTRY, FACTORY})
# Constants as the value-flow notation spells them.
_CONSTANTS = frozenset({"None", "True", "False"})
_STEP = re.compile(r"\.\w+|\(\)")


@lru_cache(maxsize=65536)
def split(expression: str) -> tuple[str, tuple[str, ...]]:
    """`$self.db.query()` -> (`$self`, [`.db`, `.query`, `()`]); a reference head keeps its dots."""
    if expression.startswith("super()"):
        head, rest = "super()", expression[len("super()") :]
    elif expression.startswith("$"):
        match = re.match(r"\$\w+", expression)
        end = match.end() if match else len(expression)
        head, rest = expression[:end], expression[end:]
    else:
        end = expression.find("(")
        head, rest = (expression, "") if end < 0 else (expression[:end], expression[end:])
    return head, tuple(_STEP.findall(rest)) if rest else ()


def mentions(expression: str, name: str) -> bool:
    """Whether `expression`, as the facts spell it, reads the local `name`: `$me` in `f($me.id)`,
    never in `$member` (a name that only starts with it)."""
    return re.search(rf"\${re.escape(name)}(?!\w)", expression) is not None


@lru_cache(maxsize=65536)
def describe(expression: str) -> str:
    """The expression as written in the source, near enough for a reason: `self.db.query()`."""
    head, steps = split(expression)
    return head.removeprefix("$") + "".join(steps)


# Not a span: marks what `Flow._field_sessions` keeps beside `evaluate`'s answers.
_FIELDS: Spans = ((-1, -1),)


class Flow:
    """Abstract values of expressions, per function; read by the project index.

    Attributes of an instance are the join of the class annotations (and `Depends()` defaults
    of class-based views) and of what any method assigns to `self.attr`, over the class's
    project bases. Methods resolve through the same order; an abstract method resolves to the
    project implementations of its class (subclasses, and for a Protocol the classes that define
    every method it declares).

    Everything is computed on demand and cached; one evaluation is linear in the expression.
    `sessions` holds the parameters the project's fixpoint found to receive a Session from
    callers, so `self.db = db` in an `__init__` whose `db` arrives from a dependency makes
    `self.db` a Session; `received` the unannotated parameters callers hand an instance of a
    project class (`received.py`), so `def orders_of(uow)` called with a unit of work reads
    `uow.orders` as its repository. `evaluate(fid, expression, dead)` reads the function as a
    call handing it constants runs it: what the branches those constants rule out bind is left
    out (`handed_constants`).
    """

    def __init__(
        self,
        project: Project,
        sessions: dict[FunctionId, dict[str, str]] | None = None,
        received: dict[FunctionId, dict[str, Values]] | None = None,
    ) -> None:
        self.project = project
        self.classes = project_classes(project)
        self.sessions = sessions or {}
        self.received = received or {}
        self._refs: dict[str, Values] = {}
        # Calls resolved only by the method's name (`targets`), keyed by the `id()` of their
        # `facts.Call`: why the reasons say the call may run each method, not that it does.
        self.by_name: dict[int, str] = {}
        self._env: dict[FunctionId | tuple[FunctionId, Spans], dict[str, Values]] = {}
        self._returns: dict[FunctionId, Values] = {}
        # properties being read on an instance: a property reading itself, or another one back
        self._reading: set[tuple[FunctionId, Abstract | None]] = set()
        self._yields: dict[FunctionId, Values] = {}
        self._attributes: dict[tuple[str, str], Values] = {}
        self._session_locals: dict[FunctionId, frozenset[str]] = {}
        self._instances: dict[str, list[tuple[facts.Module, facts.Value]]] | None = None
        self._request_state: dict[str, Values] = {}
        self._request_params: dict[tuple[FunctionId, str], bool] = {}
        self._app_state_reading: set[str] = set()  # cycle guard: `sub.state.maker = app.state.maker`
        self._context_variables: dict[str, Values] = {}
        self._context_objects: dict[str, Values] = {}
        self._forwarding: set[FunctionId] = set()  # the `__getattr__`s `_forwarded_session` is reading
        self._state_assigns: dict[str, list[tuple[FunctionId, str, str, int]]] | None = None
        self._module_state_assigns: dict[str, list[tuple[str, str, int]]] | None = None
        self._global_bindings: dict[str, list[tuple[FunctionId, str]]] | None = None
        # What is being worked out (innermost last), and how often a value still being worked out
        # was read: a binding of a function reading the names bound before it is the one read
        # that is not counted (`env`). Without any, every kept value is what any order of
        # questions would give, and the flow may stand for another built alike (`reusable`).
        self._open: list[tuple[str, object]] = []
        self._busy: set[tuple[str, object]] = set()
        self._env_open: set[FunctionId | tuple[FunctionId, Spans]] = set()
        self.cycles = 0
        # What `evaluate` gave when asked with nothing being worked out (see `settle`); None
        # until the flow is settled.
        self._evaluated: dict[tuple[FunctionId | None, str, Spans], Values] | None = None
        # The answers kept are mostly empty or one value, and a large project keeps hundreds of
        # thousands of them: each kept as one object (`_shared`).
        self._alike: dict[tuple[object, ...], Values] = {}

    def settle(self) -> None:
        """Keep what `evaluate` gives when asked from outside the flow (nothing being worked out),
        once `sessions` and `received` are final: the project-wide analyses ask the same questions
        of every function again and again. A question asked so reads only kept values, each final
        once it is no longer being worked out, so asking again would give the same answer and keep
        nothing new; a question asked while something is being worked out may read a partial
        value, and is never kept."""
        if self._evaluated is None:
            self._evaluated = {}

    def _enter(self, key: tuple[str, object]) -> None:
        self._open.append(key)
        self._busy.add(key)

    def _leave(self, key: tuple[str, object]) -> None:
        self._open.pop()
        self._busy.discard(key)

    def _read_open(self, key: tuple[str, object]) -> None:
        if key in self._busy:
            self.cycles += 1

    @property
    def reusable(self) -> bool:
        """Whether no value was read while still being worked out (see `cycles`)."""
        return self.cycles == 0

    # ---------------------------------------------------------------- references

    # `ref`, `returns`, `yielded` and `attribute` each spell out the same cycle guard instead of
    # sharing a helper: the value flow recurses through them, and a helper's frames on every level
    # took a large project's analysis past Python's recursion limit.
    def ref(self, ref: str) -> Values:
        """What a module-level reference holds: `app.db.SessionLocal`, `app.crud.user.get`."""
        try:
            found = self._refs[ref]
        except KeyError:
            pass
        else:
            if found is NOTHING:
                self._read_open(("ref", ref))
            return found
        self._refs[ref] = NOTHING  # cycle guard
        key = ("ref", ref)
        self._enter(key)
        try:
            found = self._ref(ref)
            bound = self._bound_under_global(ref) | self._bound_as_attribute(ref)
            if bound:
                found = found | bound
        finally:
            self._leave(key)
        found = self._refs[ref] = self._shared(found)
        return found

    def _bound_under_global(self, ref: str) -> Values:
        """What the module's functions bind to a module-level name under a `global` statement (a
        lazy singleton: `_server = None`, then `global _server; _server = Server()` in the getter
        or a start-up function): the name holds it once they have run."""
        if self._global_bindings is None:
            table: dict[str, list[tuple[FunctionId, str]]] = {}
            for fid, (module, function) in self.project.functions.items():
                for binding in function.bindings if function.declared_globals else ():
                    if binding.name in function.declared_globals and not binding.entered:
                        table.setdefault(f"{module.name}.{binding.name}", []).append((fid, binding.expr))
            self._global_bindings = table
        bindings = self._global_bindings.get(ref)
        if bindings is None and self._global_bindings:
            # imported under another name: the module-level name it resolves to
            target = self.project.resolve(ref)
            bindings = self._global_bindings.get(target.ref) if target is not None and target.kind == "value" else None
        found: Values = NOTHING
        for fid, expression in bindings or ():
            found |= self.evaluate(fid, expression)
        return found

    def _bound_as_attribute(self, ref: str) -> Values:
        """What functions build and bind as an attribute of a module-level object (`_local.session =
        SessionLocal()` on a `threading.local()`, `registry.db = make_session()` in a start-up
        function; `facts.Module.rebound`): the attribute holds it once they have run."""
        if "." not in ref:
            return NOTHING
        callees = self.project._rebound.get(ref)
        if callees is None:
            target = self.project.canonical(ref)
            callees = self.project._rebound.get(target) if target is not None and target != ref else None
        found: Values = NOTHING
        for callee in callees or ():
            found |= self._call(self.ref(callee), None, _short(ref))
        return frozenset(_named(v, _short(ref)) for v in found) if found else NOTHING

    def _ref(self, ref: str) -> Values:
        project = self.project
        canonical = project.canonical(ref)
        if canonical in SCOPED_SESSION_MAKERS:
            return frozenset({Abstract(SCOPED_MAKER)})
        if canonical in REQUEST_SESSIONS:
            # fastapi-sqlalchemy's `db.session`: the request's own, which its middleware opened
            return frozenset({Abstract(SESSION, origin=_short(ref))})
        if canonical in OBJECT_SESSION or (
            # `Session.object_session(user)`, the classmethod, on the Session class or a project
            # subclass: the same Session as the function's
            canonical is not None and canonical.endswith(".object_session")
            and project.is_sync_session_type(canonical.removesuffix(".object_session"))
        ):
            # `object_session(user)`: the Session that loaded the object, called like a factory
            return frozenset({Abstract(FACTORY, origin=_short(ref))})
        if canonical in INSTANCE_STATE:
            return frozenset({Abstract(STATE_MAKER, origin=_short(ref))})
        if project.is_sync_session_type(ref):
            return frozenset({Abstract(FACTORY, origin=_short(ref))})
        if canonical in project.config.sessionmakers or canonical in LIBRARY_SESSION_OPENERS:
            return frozenset({Abstract(FACTORY, origin=_short(ref))})
        if canonical in SYNC_SESSIONMAKERS:
            return frozenset({Abstract(MAKER)})
        if canonical in SYNC_ENGINE_CONSTRUCTORS or canonical in FROM_CONFIG:
            return frozenset({Abstract(ENGINE_MAKER)})
        cls = self.classes.resolve(ref)
        if cls is not None:
            return frozenset({Abstract(CLASS, cls)})
        target = project.resolve(ref)
        if target is not None and target.kind == "function" and target.module is not None:
            function = target.function
            fid = (target.module.name, function.key)  # type: ignore[union-attr]
            if self.is_manager(fid):
                return frozenset({Abstract(MANAGER, fid)})
            return frozenset({Abstract(FUNCTION, fid)})
        if target is not None and target.kind == "value" and target.value is not None:
            value = target.value
            if value.kind == "name" and value.ref is not None and value.ref != ref:
                # `dispatch = bus.dispatch`: a bound method (or an attribute) of a module-level
                # instance, which `project.resolve` does not follow to a definition
                owner, _, attribute = value.ref.rpartition(".")
                if owner.endswith("()") and "(" not in owner[:-2]:
                    # `dispatch = Bus().dispatch`: the attribute of what the call builds
                    made = self._call(self.ref(owner[:-2]), None, _short(owner[:-2]))
                    return self._attribute(made, attribute, None)
                return self.ref(value.ref)
            if value.kind != "call" or value.ref is None:
                return NOTHING
            if project.makes_async_sessions(value):
                return NOTHING  # `sessionmaker(async_engine, class_=AsyncSession)`: no synchronous Session
            if project.canonical(value.ref) in LOCAL_PROXIES and value.args and target.module is not None:
                held = self._local_proxy(target.module, value.args[0])
                return frozenset(_named(v, _short(ref)) for v in held)
            if project.canonical(value.ref) in CONTEXT_MANAGER_DECORATORS and value.args:
                wrapped = project.function(value.args[0].ref)
                if wrapped is not None:
                    return frozenset({Abstract(MANAGER, (wrapped[0].name, wrapped[1].key))})
                return NOTHING
            made = self._call(self.ref(value.ref), None, _short(ref))
            if any(v.kind == REGISTRY for v in made):
                where = f"{target.module.path}:{value.line}" if target.module is not None else ""
                scope = registry_scope_of(project, value.args, target.module)
                made = frozenset(Abstract(REGISTRY, (scope, where)) if v.kind == REGISTRY else v for v in made)
            return frozenset(_named(v, _short(ref)) for v in made)
        if target is None and "." in ref:
            # `app.crud.user.get`: an attribute of something a module defines
            owner, _, attribute = ref.rpartition(".")
            return self._attribute(self.ref(owner), attribute, None)
        return NOTHING

    def is_property(self, fid: FunctionId) -> bool:
        """A method decorated with `@property` or `@cached_property`: reading it calls it."""
        _, function = self.project.functions[fid]
        return any(
            (d.callee or "") in PROPERTY_DECORATORS or (d.callee or "").rsplit(".", 1)[-1] in ("property", "cached_property")
            for d in function.decorators
        )

    def is_manager(self, fid: FunctionId) -> bool:
        """A function decorated with `@contextmanager` (calling it gives a context)."""
        _, function = self.project.functions[fid]
        return any(self.project.canonical(d.callee) in CONTEXT_MANAGER_DECORATORS for d in function.decorators)

    # ------------------------------------------------------------------ functions

    def env(self, fid: FunctionId, dead: Spans = NO_SPANS) -> dict[str, Values]:
        """Local names and parameters of a function and what they may hold; `dead`: the line spans
        of branches that cannot run (a call's constants rule them out, `handed_constants`), whose
        bindings are left out."""
        at: FunctionId | tuple[FunctionId, Spans] = (fid, dead) if dead else fid
        found = self._env.get(at)
        if found is not None:
            if at in self._env_open and self._open[-1] != ("env", at):
                self.cycles += 1  # not its own binding reading the names bound before it
            return found
        env: dict[str, Values] = {}
        self._env[at] = env  # cycle guard: a binding reads the names bound before it
        key = ("env", at)
        self._enter(key)
        self._env_open.add(at)
        try:
            self._fill_env(fid, env, dead)
        finally:
            self._env_open.discard(at)
            self._leave(key)
        for name, values in env.items():
            env[name] = self._shared(values)
        return env

    def _fill_env(self, fid: FunctionId, env: dict[str, Values], dead: Spans = NO_SPANS) -> None:
        _, function = self.project.functions[fid]
        owner = self.classes.owner(fid)
        sessions = self.sessions.get(fid, {})
        received = self.received.get(fid, {})
        for number, param in enumerate(function.params):
            values = self._param(fid, function, param, owner if number == 0 else None)
            if param.name in received:
                # What callers hand it (`received.py`): what an unannotated parameter holds, and for
                # one declared with an abstract type, the implementations every caller passes.
                values = received[param.name] if param.annotation else values | received[param.name]
            if param.name in sessions:
                values |= _SESSION
            if values:
                env[param.name] = values
        if owner is not None and function.name == "__init__":
            for name, values in self._constructed_with(owner, function).items():
                env[name] = env.get(name, NOTHING) | values
        for binding in function.bindings:
            if dead and within(dead, binding.line):
                continue
            overloaded = self._overloaded(function, binding)
            if overloaded is None:
                overloaded = self._copied(fid, function, binding, dead)
            values = self.evaluate(fid, binding.expr, dead) if overloaded is None else overloaded
            if binding.entered:
                values = self.enter(values, binding.asynchronous)
            if values:
                env[binding.name] = env.get(binding.name, NOTHING) | frozenset(
                    _named(v, f"{'with ' if binding.entered else ''}{describe(binding.expr)}")
                    for v in values
                )
        bound = {b.name for b in function.bindings} | {p.name for p in function.params}
        for name, terms in function.holds.items():
            if name not in bound and terms and all(len(t) == 2 and t[0] == "call" for t in terms):
                # `uow = UOWS[kind]()`, a binding the notation cannot spell
                for term in terms:
                    made = self._dispatched_instances(function, term[1])
                    if not made:
                        break
                    env[name] = env.get(name, NOTHING) | made
        for name, alias in function.rebinds:
            if alias in env:
                env[name] = env.get(name, NOTHING) | env[alias]
        # `db, user = ctx`, `for s in sessions`, `db = ctx[0]`: an element of a value built from the
        # Session by code the analysis cannot follow may be that Session
        # the same of a project context value whose fields hold the Session (`db, uid = task_ctx` on a
        # NamedTuple, `deps["db"]` on a TypedDict)
        elements = [*function.unpacked.items(), *((name, [held]) for name, held in function.items.items())]
        for name, sources in elements:
            for source in sources:
                if source == facts.UNSPELLED:
                    continue
                owner, _, attribute = source.removesuffix(".values()").rpartition(".")
                if source.endswith(".values()") and owner:
                    # `for manager in self.managers.values()` on a container the class fills
                    # with project objects
                    held = self._contained(self.evaluate(fid, owner, dead), attribute)
                    if held:
                        env[name] = env.get(name, NOTHING) | held
                        continue
                held = self.elements(self.evaluate(fid, source, dead))
                if held:
                    env[name] = env.get(name, NOTHING) | held

    def _dispatched_instances(self, function: facts.Function, index: object) -> Values:
        """What `TABLE[kind]()` gives, call `index` of `function`, where every table it reads is a
        module-level dict, list or tuple display of project classes no code changes (an
        implementation chosen at run time, `UOWS = {"sql": SqlAlchemyUnitOfWork}`): an instance of
        each class. NOTHING where a table may hold anything else (a function, a value it cannot
        read), or the call is no such call."""
        call = next((c for c in function.calls if c.index == index), None)
        if call is None or not call.dispatch:
            return NOTHING
        containers = self.project.containers
        found: set[Abstract] = set()
        for source in call.dispatch:
            if source.startswith(("=", "self.", dispatch_names.LOCAL, dispatch_names.BY_NAME)):
                return NOTHING
            home = containers.home(source)
            if home is None or home in containers.changed:
                return NOTHING
            held = self.project.modules[home[0]].containers[home[1]]
            if not held:
                return NOTHING
            for ref in held:
                cls = self.classes.resolve(ref) if ref != dispatch_names.UNREAD else None
                if cls is None:
                    return NOTHING
                found.add(Abstract(INSTANCE, cls, origin=f"{call.spelled or home[1]}()"))
        return frozenset(found)

    def _overloaded(self, function: facts.Function, binding: facts.Binding) -> Values | None:
        """`client = get_client(sync_client=True)`: what the `@overload` signatures the call matches
        declare it returns (`matching_overloads`), where the implementation declares a union of
        its variants. None where no overload is ruled out, or one declares nothing readable."""
        ref = binding.expr[:-2] if binding.expr.endswith("()") else ""
        if not ref or "(" in ref or ref.startswith(("$", "super")):
            return None
        calls = [c for c in function.calls if c.line == binding.line and c.callee == ref and c.func is None]
        if len(calls) != 1:
            return None
        overloads = matching_overloads(self.project, ref, calls[0])
        if overloads is None or any(o.is_async or not o.returns for o in overloads):
            return None
        values: set[Abstract] = set()
        for overload in overloads:
            declared = self._declared_by(overload.returns)
            if not declared:
                return None
            values |= declared
        return frozenset(_named(v, f"{describe(binding.expr)}") for v in values)

    def _copied(self, fid: FunctionId, function: facts.Function, binding: facts.Binding, dead: Spans) -> Values | None:
        """`other = dataclasses.replace(ctx, user_id=2)` (`attrs.evolve`, `copy.replace`): a new
        instance of the class of what it is handed, holding its fields but those the keywords
        name: what `ctx` holds, where that is an instance of a project class and no keyword names
        a field that may hold a Session (what replaces it is not read). None otherwise."""
        ref = binding.expr[:-2] if binding.expr.endswith("()") else ""
        if not ref or "(" in ref or ref.startswith(("$", "super")) or self.project.canonical(ref) not in OBJECT_COPIES:
            return None
        calls = [c for c in function.calls if c.line == binding.line and c.callee == ref]
        if len(calls) != 1:
            return None
        args = calls[0].args
        given = next((a for a in args if a.position == 0), None)
        if given is None or any(a is not given and a.keyword is None for a in args):
            return None  # a second positional argument, `*args` or `**changes`: fields changed unseen
        source = given.expr or (f"${given.name}" if given.name else None)
        values = self.evaluate(fid, source, dead) if source is not None else NOTHING
        if not values or not all(
            v.kind == INSTANCE and isinstance(v.target, str) and v.target in self.classes.by_ref for v in values
        ):
            return None
        for value in values:
            for arg in args:
                held = self.attribute(value.target, arg.keyword) if arg.keyword else NOTHING  # type: ignore[arg-type]
                if any(h.kind == SESSION or h.kind in _OPAQUE for h in held):
                    return None
        return values

    def elements(self, values: Values) -> Values:
        """What an element or item of a value may hold (`db, uid = ctx`, `ctx[0]`, `deps["db"]`,
        what `deps.get()` or `ctx.items()` hands out), where that is a Session or opaque: the
        value's own parts when code the analysis cannot follow built it (tainted, injected), and
        the Session-carrying fields of a project class's instance that is a plain context value (a
        NamedTuple unpacked, a TypedDict or dataclass read by key: one defining no `__iter__`,
        `__getitem__` or `__getattr__` of its own), joined over its fields, the key being unread."""
        found: set[Abstract] = set()
        for value in values:
            if value.kind in _OPAQUE:
                found.add(value)
            elif value.kind == INSTANCE and isinstance(value.target, str) and value.target in self.classes.by_ref:
                found |= self._field_sessions(value.target)
        return frozenset(found)

    def _field_sessions(self, cls: str) -> Values:
        # Asked for the instance every method's `self` holds, by each project-wide analysis: kept
        # as `evaluate` keeps its answers (`settle`), when nothing is being worked out.
        kept = self._evaluated
        if kept is None or self._open or self._reading or self._forwarding or self._app_state_reading:
            return self._read_field_sessions(cls)
        key = (None, cls, _FIELDS)
        found = kept.get(key)
        if found is None:
            found = kept[key] = self._shared(self._read_field_sessions(cls))
        return found

    def _shared(self, values: Values) -> Values:
        """values, or an equal set kept before: one object for every empty or one-value answer kept.
        Equal down to each value's `origin`, which equality leaves out and reasons read; never
        NOTHING itself, which marks a value still being worked out."""
        if values is NOTHING or len(values) > 1:
            return values
        key: tuple[object, ...] = ()
        for value in values:
            key = (value, value.origin)
        return self._alike.setdefault(key, values)

    def _read_field_sessions(self, cls: str) -> Values:
        if any(
            name in self.classes.methods.get(ancestor, {})
            for ancestor in self.classes.mro(cls)
            for name in ("__iter__", "__getitem__", "__getattr__")
        ):
            return NOTHING
        found: set[Abstract] = set()
        for name, _ in self.classes.fields(cls):
            found |= {
                Abstract(v.kind, v.target, v.bound, origin=f"{self.classes.short(cls)}.{name}")
                for v in self.attribute(cls, name) if v.kind == SESSION or v.kind in _OPAQUE
            }
        return frozenset(found)

    def _constructed_with(self, owner: str, function: facts.Function) -> dict[str, Values]:
        """What the module-level instances of `owner` (or of a subclass) hand its `__init__`:
        `db = Database(Registry)`, `Database(SessionLocal())`, `Database(scoped_session(...))`;
        by parameter name. Arguments the module-level facts cannot spell give nothing."""
        if self._instances is None:
            self._instances = {}
            for module in self.project.modules.values():
                # `b = Database(Registry)`, and a construction inside an expression whose value no
                # name keeps (`app.include_router(ItemRoutes(SessionLocal).router)`)
                for value in (*module.values.values(), *module.constructions):
                    cls = self.classes.resolve(value.ref) if value.kind == "call" else None
                    handed = self._handed_construction(value) if value.kind == "call" else None
                    if handed is not None:
                        # `partial(UnitOfWork, SessionLocal)`, `providers.Singleton(UnitOfWork, ...)`:
                        # the class is built later, with the arguments after it
                        cls, value = handed
                    if cls is not None:
                        self._instances.setdefault(cls, []).append((module, value))
        found: dict[str, Values] = {}
        params = function.params[1:]
        for cls, made in self._instances.items():
            if owner not in self.classes.mro(cls):
                continue
            for module, value in made:
                position = 0
                for number, arg in enumerate(value.args):
                    if arg.keyword in ("*", "**"):
                        continue
                    if arg.keyword is None:
                        param = params[position].name if position < len(params) else None
                        position += 1
                    else:
                        param = arg.keyword
                    held = self._module_argument(module, value, arg, number)
                    if param is not None and held:
                        found[param] = found.get(param, NOTHING) | held
        return found

    def _handed_construction(self, value: facts.Value) -> tuple[str, facts.Value] | None:
        """A module-level call handing a project class the arguments it is built with later
        (`deferred_calls.py`): the class, and the call as that construction (its first positional
        argument dropped); or None."""
        first = next((a for a in value.args if a.keyword is None), None)
        cls = self.classes.resolve(first.ref) if first is not None and first.ref is not None else None
        if cls is None or first is None:
            return None
        found = self.project.resolve(value.ref) if value.ref is not None else None
        callee = found.function if found is not None and found.kind == "function" else None
        wrapper = self.classes.resolve(value.ref)
        if callee is None and wrapper is not None:
            methods, _ = self.classes.method(wrapper, "__init__")
            callee = self.project.functions[methods[0]][1] if len(methods) == 1 else None
        given: list[tuple[int | None, str | None]] = []
        position = 0
        for arg in value.args:
            if arg.keyword is None:
                given.append((position, None))
                position += 1
            elif arg.keyword not in ("*", "**"):
                given.append((None, arg.keyword))
        if not hands_arguments(self.project, value.ref, callee, given):
            return None
        rest = tuple(a for a in value.args if a is not first)
        return cls, replace(value, args=rest, inner=None)

    def _module_argument(self, module: facts.Module, value: facts.Value, arg: facts.CallArg, number: int) -> Values:
        """A module-level call's argument: a name, `name()`, or (first) a call the facts keep whole."""
        where = f"{module.path}:{value.line}"
        if arg.ref is not None:
            return self.ref(arg.ref)
        if number == 0 and value.inner is not None and value.inner.ref is not None:
            made = self._call(self.ref(value.inner.ref), None, _short(value.inner.ref))
            scope = registry_scope_of(self.project, value.inner.args, module)
            return frozenset(Abstract(REGISTRY, (scope, where)) if v.kind == REGISTRY else v for v in made)
        written = arg.text[:-2] if arg.text.endswith("()") else ""
        head, _, rest = written.partition(".")
        if not head.isidentifier() or (rest and not all(part.isidentifier() for part in rest.split("."))):
            return NOTHING
        base = module.imports.get(head) or (f"{module.name}.{head}" if head in module.values else None)
        if base is None:
            return NOTHING
        return self._call(self.ref(f"{base}.{rest}" if rest else base), None, written)

    def session_locals(self, fid: FunctionId) -> frozenset[str]:
        """Names of a function (parameters and locals) that may hold a Session."""
        found = self._session_locals.get(fid)
        if found is None:
            found = self.project.shared_names(frozenset(
                name for name, values in self.env(fid).items() if any(v.kind == SESSION for v in values)
            ))
            self._session_locals[fid] = found
        return found

    def _param(
        self, fid: FunctionId, function: facts.Function, param: facts.Param, owner: str | None
    ) -> Values:
        project = self.project
        if owner is not None and param.name in ("self", "cls"):
            static = any((d.callee or "").endswith("staticmethod") for d in function.decorators)
            if not static:
                return frozenset({Abstract(CLASS if self.is_classmethod(fid) else INSTANCE, owner, origin=param.name)})
        if project.declared_session(param) is not None:
            # `await db.execute(...)` on a `db: Session`: an AsyncSession wrongly annotated
            return _SESSION if project.awaited_like_async(function, param.name) is None else NOTHING
        if any(project.is_async_session_type(r) for r in param.annotation):
            return NOTHING
        found: set[Abstract] = set()
        if param.provide:
            found |= self.injected(param.provide, param.provide_text)
        depends = param.depends
        if depends is None and param.default_ref is not None:
            target = project.resolve(param.default_ref)
            if target is not None and target.value is not None and target.value.kind == "depends":
                depends = target.value.ref
        if depends is not None:
            found |= self.provided(depends)
        elif param.default_ref is not None:
            # `session_factory=DEFAULT_SESSION_FACTORY`: what the caller does not pass
            found |= self.ref(param.default_ref)
        found |= self._declared_by(param.annotation)
        if self._declares_session_factory(param):
            found.add(Abstract(FACTORY, origin=param.text))
        return frozenset(_named(v, param.name) for v in found)

    def _declares_session_factory(self, param: facts.Param) -> bool:
        """`factory: Callable[[], Session]` (or `Callable[..., Session]`): an injected session
        factory, whose call opens a synchronous Session whatever the caller hands. A callable
        taking a Session (`Callable[[Session], int]`) is none."""
        project = self.project
        if not param.text or not any(project.canonical(r) in CALLABLE_TYPES for r in param.annotation):
            return False
        try:
            tree = ast.parse(param.text.strip(), mode="eval").body
        except SyntaxError:
            return False
        if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
            try:
                tree = ast.parse(tree.value.strip(), mode="eval").body
            except SyntaxError:
                return False
        if not isinstance(tree, ast.Subscript) or not isinstance(tree.slice, ast.Tuple) or len(tree.slice.elts) != 2:
            return False
        returned = tree.slice.elts[1]
        written = ast.unparse(returned)
        if not isinstance(returned, (ast.Name, ast.Attribute)):
            return False
        last = written.rpartition(".")[2]
        return any(
            ref.rpartition(".")[2] == last and project.is_sync_session_type(ref) for ref in param.annotation
        )

    def injected(self, ref: str, written: str) -> Values:
        """What `Provide[ref]` injects: what the container's provider makes (`Provider[...]`:
        the provider itself, `ref` ending in `.provider`); `injected` where it cannot be read."""
        unread = frozenset({Abstract(INJECTED, origin=f"`{written}`")})
        if ref == "?":
            return unread
        provider = ref.endswith(".provider")
        values = self.ref(ref.removesuffix(".provider"))
        if not values or any(v.kind == INJECTED for v in values):
            return unread
        if provider:
            return values
        made = self._call(values, None, _short(ref))
        return made or unread

    def _provider(self, cls: str, name: str, callee: str) -> Values:
        """Class attribute `name` of container `cls`, built by a dependency-injector provider:
        one that calls a project class or function stands for it (calling either makes what
        the provider makes); any other is `injected`."""
        _, declared = self.classes.by_ref[cls]
        unread = frozenset({Abstract(INJECTED, origin=f"`{_short(cls)}.{name}`")})
        provided = declared.provides.get(name, "")
        if self.project.canonical(callee) not in CALLING_PROVIDERS or not provided:
            return unread
        values = frozenset(v for v in self.ref(provided) if v.kind in (CLASS, FUNCTION))
        return values or unread

    def _declared_by(self, annotation: tuple[str, ...]) -> Values:
        """What a value declared with the type expression whose references are `annotation` holds.
        `Callable[..., Repo]` declares a callable that returns a Repo, never a Repo (nor a Session,
        `Callable[[], Session]`): what calling it returns is read from what it is assigned."""
        if any(self.project.canonical(ref) in CALLABLE_TYPES for ref in annotation):
            return NOTHING
        if any(self.project.canonical(ref) in PLAIN_SESSIONMAKERS for ref in annotation):
            # `sessionmaker[Session]`: a sessionmaker, whose call opens a Session; never a Session
            return frozenset({Abstract(FACTORY, origin="sessionmaker")})
        # `Union[Session, AsyncSession]` reads as a parameter declared so does
        # (`Project.declared_session`): an AsyncSession, not a synchronous Session
        either = any(self.project.is_async_session_type(ref) for ref in annotation)
        # `Union[str, Session, Engine]`: a Session where a caller hands one (`Flow.sessions`)
        either = either or self.project.admits_more_than_session(annotation)
        # `Union[str, Engine]`: an engine where a caller hands one, as a Session is
        either = either or self._admits_more_than_engine(annotation)
        found: set[Abstract] = set()
        for ref in annotation:
            # an engine beside other types likewise (`Union[str, Session, Engine]`): one where a
            # caller hands one
            if not (either and (self.project.is_sync_session_type(ref) or self._engine_type(ref))):
                found |= self._declared(ref)
        return frozenset(found)

    def _engine_type(self, ref: str) -> bool:
        return self.project.canonical(ref) in SYNC_ENGINE_TYPES

    def _admits_more_than_engine(self, annotation: tuple[str, ...]) -> bool:
        """A type expression naming a synchronous engine beside another type (`Union[str, Engine]`);
        `Optional[Engine]` admits nothing else."""
        return len(annotation) > 1 and any(self._engine_type(r) for r in annotation) and any(
            self.project.canonical(r) not in TYPE_FORMS and not self._engine_type(r) for r in annotation
        )

    def _declared(self, ref: str) -> Values:
        """What a value declared with type `ref` holds: an alias, a class, a Session type."""
        if self.project.is_sync_session_type(ref):
            return _SESSION
        if self.project.canonical(ref) in SYNC_CONNECTION_TYPES:
            return frozenset({Abstract(CONNECTION, origin=_short(ref))})
        if self._engine_type(ref):
            return frozenset({Abstract(ENGINE, origin=_short(ref))})
        cls = self.classes.resolve(ref)
        if cls is not None:
            if not self.classes.is_abstract(cls):
                return frozenset({Abstract(INSTANCE, cls)})
            # an abstract type stands for any of its implementations
            return frozenset(Abstract(INSTANCE, c) for c in (cls, *self.classes.implementations(cls)))
        target = self.project.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None:
            value = target.value
            if value.kind == "annotated":
                found = NOTHING
                if value.depends is not None:
                    found |= self.provided(value.depends)
                if value.ref is not None and value.ref != ref:
                    found |= self._declared(value.ref)
                return found
        return NOTHING

    def provided(self, ref: str) -> Values:
        """What `Depends(ref)` injects."""
        project = self.project
        if project.is_session_dependency(ref):
            return _SESSION
        found: set[Abstract] = set()
        given = self.dependency(ref)
        if not given:
            # `get_repo = partial(get_repository, Repo)`: FastAPI calls `get_repository`
            given = frozenset(Abstract(FUNCTION, fid) for fid in project.dependency_callables(ref))
        for value in given:
            if value.kind == CLASS:
                found.add(Abstract(INSTANCE, value.target, origin=f"Depends({_short(ref)})"))
                continue
            fids: list[FunctionId]
            if value.kind == FUNCTION:
                fids = [value.target]  # type: ignore[list-item]
            elif value.kind == INSTANCE:  # FastAPI calls the instance: its `__call__`
                fids = self.classes.method(value.target, "__call__")[0]  # type: ignore[arg-type]
            else:
                continue
            for fid in fids:
                _, function = project.functions[fid]
                made = self.yielded(fid) if function.is_generator else self._returned(fid, value)
                if not made and (self.carries_session(fid) or self._gives_untyped_session(fid)):
                    made = frozenset({Abstract(TAINTED, origin=f"Depends({_short(ref)})")})
                found |= made
        return frozenset(found)

    def dependency(self, ref: str) -> Values:
        """What `Depends(ref)` is given: `ref` a reference, or a call (`app.auth.Checker()`)."""
        return self.evaluate(None, ref)  # type: ignore[arg-type]

    def dependency_callables(self, ref: str) -> list[FunctionId]:
        """The project functions FastAPI runs for `Depends(ref)` that no reference names:
        an instance's `__call__`, a method of an instance (`checker.verify`)."""
        found: list[FunctionId] = []
        for value in self.dependency(ref):
            if value.kind == INSTANCE:
                found.extend(m for m in self.classes.method(value.target, "__call__")[0] if m not in found)  # type: ignore[arg-type]
            elif value.kind == FUNCTION and value.target not in found:  # `Depends(checker.verify)`
                found.append(value.target)  # type: ignore[arg-type]
        return found

    def _gives_untyped_session(self, fid: FunctionId) -> bool:
        """A dependency returning or yielding `request.state.db`: maybe a Session, untyped."""
        _, function = self.project.functions[fid]
        return any(untyped_session(self, fid, e) for e in (*function.returned, *function.yielded))

    def carries_session(self, fid: FunctionId) -> bool:
        """A function that takes or opens a Session (a dependency building an object from it)."""
        if self.sessions.get(fid):
            return True
        return any(SESSION in {v.kind for v in values} for values in self.env(fid).values())

    def returns(self, fid: FunctionId) -> Values:
        """What calling a function gives: its return annotation, else what it returns."""
        found = self._returns.get(fid)
        if found is not None:
            if found is NOTHING:
                self._read_open(("returns", fid))
            return found
        self._returns[fid] = NOTHING  # cycle guard
        _, function = self.project.functions[fid]
        if function.is_generator or function.is_async:
            return NOTHING
        values: set[Abstract] = set()
        key = ("returns", fid)
        self._enter(key)
        try:
            values |= self._declared_by(function.returns)
            if not values or self._names_interface(values):
                declared = bool(values)
                unseen = declared and any(not written for written, _ in function.returned_terms)
                for expression in function.returned:
                    returned = self.evaluate(fid, expression)
                    unseen = unseen or (declared and not returned)
                    values |= returned
                for written, term in function.returned_terms if not declared else ():
                    if not written and len(term) == 2 and term[0] == "call":
                        # `return UOWS[kind]()`: an instance of each class the table holds
                        values |= self._dispatched_instances(function, term[1])
                for container in function.returned_items if not declared else ():
                    # `return self.managers[name]` on a container the class fills with project objects
                    owner, _, attribute = container.rpartition(".")
                    values |= self._contained(self.evaluate(fid, owner), attribute) if owner else NOTHING
                if unseen and self.carries_session(fid):
                    # the interface's lookup alone reads as the implementations it finds, or none:
                    # what this builds from the Session may be one the analysis does not see
                    values.add(Abstract(TAINTED, origin=f"{_short(function.qualname)}()"))
        finally:
            self._leave(key)
        result = self._shared(frozenset(values))
        self._returns[fid] = result
        return result

    def _names_interface(self, values: Iterable[Abstract]) -> bool:
        """A return declared with a Protocol or abstract class: it names an interface, while what
        the function returns is an implementation, also one the interface's lookup misses (a class
        matching the Protocol's methods but one it inherits from a library, a `# type: ignore`d
        return, an object built from the Session by code the analysis cannot follow)."""
        return any(
            v.kind == INSTANCE and v.target is not None and self.classes.is_abstract(v.target)  # type: ignore[arg-type]
            for v in values
        )

    def yielded(self, fid: FunctionId) -> Values:
        """What a generator function yields (entering its context manager gives this)."""
        found = self._yields.get(fid)
        if found is not None:
            if found is NOTHING:
                self._read_open(("yielded", fid))
            return found
        self._yields[fid] = NOTHING
        _, function = self.project.functions[fid]
        values: set[Abstract] = set()
        if fid in self.project.session_dependencies:
            values |= _SESSION
        key = ("yielded", fid)
        self._enter(key)
        try:
            env = self.env(fid)
            for name in function.yields:
                values |= env.get(name, NOTHING)
            for expression in function.yielded:  # `yield UnitOfWork(s)`
                values |= self.evaluate(fid, expression)
            for expression in function.yielded_from:  # `yield from get_session()`: what it yields
                if expression.endswith("()"):
                    for value in self.evaluate(fid, expression[:-2]):
                        if value.kind == FUNCTION:
                            values |= self.yielded(value.target)  # type: ignore[arg-type]
        finally:
            self._leave(key)
        for ref in function.returns:  # Iterator[Session], Generator[Session, None, None]
            if self.project.is_sync_session_type(ref):
                values |= _SESSION
            elif self.project.canonical(ref) in SYNC_CONNECTION_TYPES:  # Iterator[Connection]
                values |= {Abstract(CONNECTION, origin=_short(ref))}
        result = self._shared(frozenset(values))
        self._yields[fid] = result
        return result

    # ----------------------------------------------------------------- expressions

    def evaluate(self, fid: FunctionId, expression: str, dead: Spans = NO_SPANS) -> Values:
        """What an expression of function `fid` may hold; `dead`: see `env`."""
        kept = self._evaluated
        if kept is None or self._open or self._reading or self._forwarding or self._app_state_reading:
            return self._evaluate(fid, expression, dead)
        key = (fid, expression, dead)
        found = kept.get(key)
        if found is None:
            found = kept[key] = self._shared(self._evaluate(fid, expression, dead))
        return found

    def _evaluate(self, fid: FunctionId, expression: str, dead: Spans) -> Values:
        head, steps = split(expression)
        if head == "super()":
            owner = self.classes.owner(fid)
            values: Values = frozenset({Abstract("super", owner)}) if owner else NOTHING
        elif head == "type" and steps[:1] == ("()",) and (owner := self._type_of_receiver(fid)) is not None:
            # `type(self).query` in a method: the receiver's class (a subclass's, at run time)
            values, steps = frozenset({Abstract(CLASS, owner)}), steps[1:]
        elif head.startswith("$"):
            values = self.env(fid, dead).get(head[1:], NOTHING)
            aliased = self._connection_alias(fid, head[1:]) if not values and steps else None
            if aliased is not None:
                # `state = request.app.state` then `state.sessionmaker()`: the path it stands for
                head, before = split(aliased)
                steps = (*before, *steps)
                values = self.env(fid, dead).get(head[1:], NOTHING)
            if len(steps) >= 2 and steps[0] == ".state" and steps[1] != "()" and self.request_param(fid, head[1:]):
                state = self.request_state(steps[1][1:])
                if state:
                    head, steps = f"{head}.state{steps[1]}", steps[2:]
                    values = state
            elif (
                steps[:2] == (".app", ".state") and len(steps) >= 3 and steps[2] != "()"
                and self.request_param(fid, head[1:])
            ):
                classes = self.app_state_classes(steps[2][1:])
                # `request.app.state.uow_factory()`: a new instance of the class kept; and the class
                # (or sessionmaker) itself, kept in a local first (`make = request.app.state.factory`)
                if classes:
                    head, steps = f"{head}.app.state{steps[2]}", steps[3:]
                    values = classes
            elif (
                len(steps) >= 2 and steps[0] == ".state" and steps[1] != "()" and fid is not None
                and self._state_owner(fid, head) == "app"
            ):
                # `app.state.sessionmaker` in the application factory that keeps it there (handed on
                # to a mounted application's state: `admin_app.state.sessionmaker = app.state.sessionmaker`)
                classes = self.app_state_classes(steps[1][1:])
                if classes:
                    head, steps = f"{head}.state{steps[1]}", steps[2:]
                    values = classes
        elif fid is not None and (binder := self.project.enclosing_binder(fid, head.partition(".")[0])) is not None:
            # a name the function around it binds (a router factory's `db = SessionLocal()`, a
            # route-building method's `self`): the closure reads that value, not a module's
            first, _, rest = head.partition(".")
            values = self.env(binder).get(first, NOTHING)
            for attribute in rest.split(".") if rest else ():
                values = self._attribute(values, attribute, binder)
        else:
            head = self.getter_alias(head, steps)
            values = self.ref(head)
            if not values and ".state." in head:
                # `app.state.sessionmaker()` on the application imported from its module (`from
                # main import app` in a helper): what the application's state keeps there
                kept = self._imported_app_state(head)
                if kept:
                    values = kept
            if head.endswith(".get") and steps[:1] == ("()",):  # `request_session.get()`
                held = self.context_variable(head.removesuffix(".get"))
                if not held:
                    held = self.context_variable_objects(head.removesuffix(".get"))
                if not held and self._sync_maker_table(head.removesuffix(".get")):
                    # `SessionLocals.get(tenant)` on a module-level dict of sessionmakers
                    held = frozenset({Abstract(FACTORY, origin=f"{describe(head)}()")})
                if held:
                    values, steps = held, steps[1:]
        holder: Values = NOTHING  # what the attribute read last was read on
        skip = False
        container, _, read = head.rpartition(".")
        if read in ITEM_READS and steps[:1] == ("()",) and not head.startswith("$") and "." in container:
            # `registry.managers.get(name)` on a module-level instance: spelled as one reference
            owner, _, attribute = container.rpartition(".")
            items = self._contained(self.ref(owner), attribute)
            if items:
                values, steps = items, steps[1:]
        for number, step in enumerate(steps):
            if skip:
                skip = False
                continue
            if (
                step[1:] in ITEM_READS and steps[number + 1:number + 2] == ("()",) and number
                and steps[number - 1] != "()" and (items := self._contained(holder, steps[number - 1][1:]))
            ):
                # `self.managers.get(name)` on a container the class fills with project objects
                values, skip = items, True
                continue
            if not values:
                return NOTHING
            if step == "()":
                values = self._call(values, fid, describe(head) + "".join(steps[:number]))
            else:
                holder = values
                values = self._attribute(values, step[1:], fid)
        return values

    def _contained(self, holders: Values, attribute: str) -> Values:
        """The project objects the container `attribute` of instances `holders` holds, where the
        class builds it without annotation and every store its methods make is read
        (`facts.ClassFacts.item_stores`: `self.managers = {"user": UserManager()}`); NOTHING
        otherwise (a store the flow cannot read, or no such container)."""
        found: set[Abstract] = set()
        for holder in holders:
            if holder.kind != INSTANCE or not isinstance(holder.target, str) or holder.target not in self.classes.by_ref:
                continue
            for ancestor in self.classes.mro(holder.target):
                if ancestor not in self.classes.by_ref:
                    continue
                module, facts_ = self.classes.by_ref[ancestor]
                if attribute in facts_.item_unread:
                    return NOTHING
                for line, _at, stored in facts_.item_stores.get(attribute, []):
                    method = next(
                        (f for f in module.functions if f.line == line and f.qualname.startswith(f"{facts_.qualname}.")),
                        None,
                    )
                    values = self.evaluate((module.name, method.key), stored) if method is not None and stored != "?" else NOTHING
                    if not values or any(v.kind != INSTANCE for v in values):
                        return NOTHING
                    found |= values
        return frozenset(found)

    def _type_of_receiver(self, fid: FunctionId) -> str | None:
        """The class of a method whose every `type(...)` call is `type(self)`; else None (the
        expression notation keeps no call's arguments)."""
        owner = self.classes.owner(fid)
        function = self.project.functions[fid][1]
        if owner is None or not function.params:
            return None
        receiver = function.params[0].name
        for call in function.calls:
            if call.callee == "type" and [(a.name, a.keyword) for a in call.args] != [(receiver, None)]:
                return None
        return owner

    def _local_proxy(self, module: facts.Module, arg: facts.CallArg) -> Values:
        """What `LocalProxy(x)` stands for at each use: what the ContextVar `x` holds, or what
        calling `x` gives (a function, or a lambda calling one: `lambda: session_ctx.get()`)."""
        read = _proxied(self.project, module, arg)
        if read is None:
            return NOTHING
        if read.endswith(".get()"):
            return self.context_variable(read.removesuffix(".get()"))
        return self._call(self.ref(read.removesuffix("()")), None, _short(read.removesuffix("()")))

    def getter_alias(self, head: str, steps: tuple[str, ...]) -> str:
        """`get_session()` where the module says `get_session = request_session.get`: the call
        reads the ContextVar as `request_session.get()` does. The index keeps the alias as a name
        whose target is an attribute of a value, which no reference resolves through."""
        if steps[:1] != ("()",):
            return head
        target = self.project.resolve(head)
        value = target.value if target is not None and target.kind == "value" else None
        if value is None or value.kind != "name" or not (value.ref or "").endswith(".get"):
            return head
        assert value.ref is not None
        return value.ref if self.context_variable(value.ref.removesuffix(".get")) else head

    def _sync_maker_table(self, ref: str) -> bool:
        """Whether `ref` names a module-level dict (list, tuple) display or comprehension of
        `sessionmaker(...)` calls that no code changes in place (`facts.Module.sync_maker_tables`)."""
        containers = self.project.containers
        home = containers.home(ref)
        return home is not None and home not in containers.changed and (
            home[1] in self.project.modules[home[0]].sync_maker_tables
        )

    def maker_items(self, ref: str) -> bool:
        """Whether each item of the module-level container `ref` is a sessionmaker: a display or
        comprehension of `sessionmaker(...)` calls (`_sync_maker_table`), or one declared so
        (`SessionLocals: dict[str, sessionmaker[Session]]`, filled wherever): `T[key].begin()`
        opens a synchronous Session, `T[key]()` too."""
        if self._sync_maker_table(ref):
            return True
        owner, _, name = (self.project.canonical(ref) or ref).rpartition(".")
        module = self.project.modules.get(owner)
        declared = module.declared_items.get(name, ()) if module is not None else ()
        return bool(declared) and all(self.project.canonical(r) in PLAIN_SESSIONMAKERS for r in declared)

    # ---------------------------------------------------------- context variables

    def context_variable(self, ref: str) -> Values:
        """What `var.get()` holds for a module-level `ContextVar` `ref`: the synchronous Session,
        when every `var.set(x)` the project makes stores one (`request_session.set(db)` in a
        dependency). NOTHING (unknown) otherwise, or when nothing sets it."""
        target = self.project.canonical(ref) or ref
        found = self._context_variables.get(target)
        if found is not None:
            if found is NOTHING:
                self._read_open(("context_variable", target))
            return found
        self._context_variables[target] = NOTHING  # cycle guard: `a.set(b.get())`
        key = ("context_variable", target)
        self._enter(key)
        try:
            result = self._context_variable(target)
        finally:
            self._leave(key)
        self._context_variables[target] = result
        return result

    def _context_variable(self, target: str) -> Values:
        values: set[Abstract] = set()
        for made in self._context_variable_stores(target):
            if not made or any(v.kind != SESSION for v in made):
                return NOTHING
            values.add(Abstract(SESSION, origin=f"{target.rpartition('.')[2]}.get()"))
        return frozenset(values)

    def _context_variable_stores(self, target: str) -> Iterator[Values]:
        """What each `var.set(x)` the project makes on the module-level `ContextVar` `target`
        stores, as the flow reads `x` (NOTHING where unread)."""
        for fid, call in self.project.context_variable_sets.get(target, ()):
            # `database.request_session.set(db)`, through a module, records no method
            if self.project.context_variable_write(call) is None:
                continue
            written = self.project.context_variable_stored(self.project.functions[fid][1], call)
            yield self.evaluate(fid, written) if written else NOTHING

    def context_variable_objects(self, ref: str) -> Values:
        """What `var.get()` holds for a module-level `ContextVar` `ref` that every `var.set(x)` the
        project makes stores a project object in (`uow_var.set(uow)` in a dependency, a unit of
        work or repository built there): those objects, whose methods the request's code then
        calls (`uow_var.get().users.list()`). NOTHING (unknown) otherwise, or when nothing sets
        it; a variable holding the Session itself is `context_variable`'s."""
        target = self.project.canonical(ref) or ref
        key = ("context_objects", target)
        found = self._context_objects.get(target)
        if found is not None:
            if found is NOTHING:
                self._read_open(key)
            return found
        self._context_objects[target] = NOTHING  # cycle guard: `a.set(b.get())`
        self._enter(key)
        values: set[Abstract] = set()
        try:
            for made in self._context_variable_stores(target):
                if not made or any(v.kind != INSTANCE for v in made):
                    values = set()
                    break
                values |= made
        finally:
            self._leave(key)
        result = frozenset(values)
        self._context_objects[target] = result
        return result

    # ------------------------------------------------------------- request state

    def request_param(self, fid: FunctionId | None, name: str) -> bool:
        """Whether `name` is the parameter a route, dependency or middleware gets the connection
        in: annotated `Request` (`WebSocket`, `HTTPConnection`), or followed by `call_next`; or an
        unannotated helper parameter every project call naming the helper hands such a connection
        (`count_rows(request)`): its `request.app.state.maker()` is the same application's."""
        if fid is None:
            return False
        key = (fid, name)
        found = self._request_params.get(key)
        if found is None:
            self._request_params[key] = False  # helpers handing the request round in a cycle
            found = self._request_params[key] = _handed_request(self, fid, name, self.project.named_calls_to)
        return found

    def declared_request_param(self, fid: FunctionId | None, name: str) -> bool:
        """`request_param` without the helpers: annotated, or followed by `call_next`."""
        if fid is None:
            return False
        params = self.project.functions[fid][1].params
        for number, param in enumerate(params):
            if param.name == name:
                if any(self.project.canonical(r) in REQUEST_TYPES for r in param.annotation):
                    return True
                return number + 1 < len(params) and params[number + 1].name == CALL_NEXT
        return False

    def _connection_alias(self, fid: FunctionId | None, name: str) -> str | None:
        """`$request.app.state` for a local bound once to it (`state = request.app.state`, also
        `app = request.app`, `state = request.state`), `request` the connection parameter; else None."""
        if fid is None:
            return None
        binding = self.project.functions[fid][1].sole_binding(name)
        if binding is None:
            return None
        head, steps = split(binding.expr)
        if steps not in ((".app",), (".app", ".state"), (".state",)) or not head.startswith("$"):
            return None
        return binding.expr if self.request_param(fid, head[1:]) else None

    def request_state(self, attribute: str) -> Values:
        """What `request.state.<attribute>` holds, read anywhere: the synchronous Session (or
        Connection) the project assigns to it (`request.state.db = SessionLocal()` in a middleware
        or a dependency), or instances of project classes (`request.state.repo = Repo(db)`), when
        every assignment the project may make to a request's state under that name is one. NOTHING
        (unknown) otherwise: an assignment of anything else, or through a head the analysis cannot
        tell from a request (`x.state.db = ...` on an untyped `x`)."""
        found = self._request_state.get(attribute)
        if found is not None:
            if found is NOTHING:
                self._read_open(("request_state", attribute))
            return found
        self._request_state[attribute] = NOTHING  # cycle guard: `request.state.a = request.state.b`
        assigned = self.state_assignments().get(attribute, [])
        values: set[Abstract] = set()
        key = ("request_state", attribute)
        self._enter(key)
        try:
            for fid, head, expression, _line in assigned:
                kind = self._state_owner(fid, head)
                if kind == "app":
                    continue  # `app.state`, `request.app.state`: another object's state
                made = self.evaluate(fid, expression) if kind == "request" and expression != facts.UNSPELLED else NOTHING
                # A synchronous Connection kept there (`request.state.conn = engine.connect()` in a
                # middleware) is followed alike: each statement on it blocks.
                kinds = {v.kind for v in made} | {v.kind for v in values}
                if not made or not (kinds == {SESSION} or kinds == {CONNECTION} or kinds == {INSTANCE}):
                    values = set()
                    break
                if kinds == {INSTANCE}:
                    # a repository or unit of work built there (`request.state.repo = Repo(db)`):
                    # its methods are followed as on any instance of the class
                    values |= {replace(v, origin=f"request.state.{attribute}") for v in made}
                else:
                    values.add(Abstract(kinds.pop(), origin=f"request.state.{attribute}"))
        finally:
            self._leave(key)
        result = frozenset(values)
        self._request_state[attribute] = result
        return result

    def app_state_classes(self, attribute: str) -> Values:
        """The project classes (or sessionmakers, engines) the application's state keeps under `attribute`
        (`app.state.uow_factory = SqlAlchemyUnitOfWork` in the lifespan), when every assignment
        the project makes to it is one: calling one builds a new instance (opens a new Session)
        each time, unlike an instance kept there, which every request shares. NOTHING otherwise."""
        if attribute in self._app_state_reading:
            return NOTHING
        self._app_state_reading.add(attribute)
        try:
            return self._app_state_classes(attribute)
        finally:
            self._app_state_reading.discard(attribute)

    def _imported_app_state(self, head: str) -> Values:
        """`main.app.state.maker`: what `app_state_classes` finds under the attribute, when the
        owner is a module-level application (`app = FastAPI(...)`); NOTHING otherwise."""
        owner, _, attribute = head.partition(".state.")
        if "." in attribute or not self.module_application(owner):
            return NOTHING
        return self.app_state_classes(attribute)

    def _app_state_classes(self, attribute: str) -> Values:
        found: set[Abstract] = set()
        assignments = self.state_assignments().get(attribute, [])
        # What the tests swap in there (`app.state.sessionmaker = testing_maker` in a fixture) runs
        # under the tests only: the application's own code decides what its handlers open
        own = [a for a in assignments if not is_test_path(self.project.functions[a[0]][0].path)]
        # `app.state.registry = scoped_session(maker)` at import, beside `app = FastAPI()`: spelled
        # absolute, read from no function
        at_import = [
            (None, path, assigned, line) for path, assigned, line in self.module_state_assignments().get(attribute, [])
            if not is_test_path(path)
        ]
        for holder, written, assigned, line in [*(own or assignments), *at_import]:
            if assigned == "None":
                # `app.state.engine = None` in the lifespan's teardown (or a placeholder before startup):
                # it holds nothing a handler could use, and leaves what the others keep there as it is
                continue
            if holder is not None and self._state_owner(holder, written) != "app" or assigned == facts.UNSPELLED:
                return NOTHING
            copied = assigned.removesuffix(f".state.{attribute}")
            if holder is not None and copied != assigned and self._state_owner(holder, copied) == "app":
                continue  # one application's state handed to another's: what the others keep there
            made = self.evaluate(holder, assigned)  # type: ignore[arg-type]
            if holder is None:  # read off the call's arguments the module keeps by line
                scope = state_registry_scope(self.project, written, line)
                made = frozenset(Abstract(REGISTRY, (scope, f"{written}:{line}")) if v.kind == REGISTRY else v for v in made)
            # a sessionmaker kept there (`app.state.session_factory = SessionLocal`) opens a new
            # Session on each call, as a class kept there builds a new instance; an engine kept
            # there (`app.state.engine = create_engine(url)`) hands out a connection per call
            # a `scoped_session` registry kept there (`app.state.registry = scoped_session(maker)`)
            # is a sessionmaker too: calling it gives the Session of the calling thread, and its
            # Session methods run on that Session
            registry = any(v.kind == REGISTRY for v in made)
            # a Session made at import (`app.state.db = SessionLocal()` beside `app = FastAPI()`) is
            # the one every request shares, as a module-level `db = SessionLocal()` is (AM126); one the
            # lifespan makes is said apart (unverified)
            kept = (CLASS, FACTORY, ENGINE, REGISTRY, SESSION) if registry or holder is None else (CLASS, FACTORY, ENGINE)
            if not made or any(v.kind not in kept for v in made):
                return NOTHING
            found |= made
        return frozenset(found)

    def state_assignments(self) -> dict[str, list[tuple[FunctionId, str, str, int]]]:
        """`x.state.attr = expr` in every project function, by attribute: (function, head, expr, line)."""
        if self._state_assigns is None:
            table: dict[str, list[tuple[FunctionId, str, str, int]]] = {}
            for fid, (_, function) in self.project.functions.items():
                for line, head, attribute, expression in function.state_assigns:
                    table.setdefault(attribute, []).append((fid, head, expression, line))
            self._state_assigns = table
        return self._state_assigns

    def module_state_assignments(self) -> dict[str, list[tuple[str, str, int]]]:
        """`app.state.attr = expr` at a module's top level on an application built there or
        imported (`app = FastAPI()`), by attribute: (module path, expr, line). The expression is
        spelled from absolute references, so any function reads it alike."""
        if self._module_state_assigns is None:
            table: dict[str, list[tuple[str, str, int]]] = {}
            for module in self.project.modules.values():
                for owner, attribute, expression, line in module.state_sets:
                    if self.module_application(owner):
                        table.setdefault(attribute, []).append((module.path, expression, line))
            self._module_state_assigns = table
        return self._module_state_assigns

    def module_application(self, ref: str) -> bool:
        """Whether the module-level name `ref` is an application built there (`app = FastAPI()`,
        Starlette's), as opposed to another object's own `state` (`machine.state`)."""
        target = self.project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        return value is not None and value.kind == "call" and (
            self.project.canonical(value.ref) in APPLICATION_TYPES | STARLETTE_APPLICATIONS
        )

    def _state_owner(self, fid: FunctionId, head: str) -> str:
        """Whose state `head.state` is: "request", "app", or "unknown"."""
        if not head.startswith("$"):
            return "app"  # a module-level name: an application (or something else), never the connection
        name, steps = split(head)
        if steps == (".app",):
            return "app"
        if steps:
            return "unknown"
        if self.request_param(fid, name[1:]):
            return "request"
        function = self.project.functions[fid][1]
        applications = APPLICATION_TYPES | STARLETTE_APPLICATIONS
        first = next((p for p in function.params if p.name not in ("self", "cls")), None)
        for param in function.params:
            if param.name == name[1:]:
                if any(self.project.canonical(r) in applications for r in param.annotation):
                    return "app"
                # `async def lifespan(app):` unannotated: the application hands itself to the
                # lifespan it is built with (a startup handler takes no parameter)
                if param is first and not param.annotation and fid in _lifecycle_hooks(self.project):
                    return "app"
                return "unknown"
        # an application factory's own `app = FastAPI(...)`, bound to nothing else
        made = [b.expr for b in function.bindings if b.name == name[1:]]
        if made and all(
            e.endswith("()") and "(" not in e[:-2] and self.project.canonical(e[:-2]) in applications for e in made
        ):
            return "app"
        return "unknown"

    def _call(self, values: Values, fid: FunctionId | None, text: str) -> Values:
        found: set[Abstract] = set()
        for value in values:
            kind = value.kind
            if kind == FACTORY:
                found.add(Abstract(SESSION, origin=f"{text}()"))
            elif kind == MAKER:
                found.add(Abstract(FACTORY, origin=f"{text}()"))
            elif kind == SCOPED_MAKER:
                found.add(Abstract(FACTORY, origin=f"{text}()"))
                found.add(Abstract(SESSION, origin=f"{text}()"))
                found.add(Abstract(REGISTRY, self._scoped_call(fid), origin=f"{text}()"))
            elif kind == ENGINE_MAKER:
                found.add(Abstract(ENGINE, origin=f"{text}()"))
            elif kind == CONNECTOR:
                found.add(Abstract(CONNECTION, origin=f"{text}()"))
            elif kind == QUERY_PROPERTY:
                found.add(Abstract(QUERY, value.target, origin=f"{text}()"))
            elif kind == STATE_MAKER:
                found.add(Abstract(STATE, origin=f"{text}()"))
            elif kind == CLASS:
                found.add(Abstract(INSTANCE, value.target, origin=f"{text}()"))
                found |= self._forwarded_session(value.target)  # type: ignore[arg-type]
            elif kind == FUNCTION:
                returned = self.returns(value.target)  # type: ignore[arg-type]
                if value.bound is not None:
                    returned = self._made_for(value.target, value.bound, returned)  # type: ignore[arg-type]
                found |= returned
            elif kind == MANAGER:
                found.add(Abstract(CONTEXT, value.target, origin=f"{text}()"))
            elif kind == TAINTED or kind == RESULT or kind == INJECTED:
                found.add(value)
        return frozenset(found)

    def is_classmethod(self, fid: FunctionId) -> bool:
        """Whether function `fid` is decorated `@classmethod`."""
        return facts.is_classmethod(self.project.functions[fid][1].decorators)

    def _made_for(self, fid: FunctionId, cls: str, returned: Values) -> Values:
        """What classmethod `fid` returns when called on `cls`: a factory a base class defines,
        `return cls(db)`, builds an instance of the class it is called on (`UserService.from_session(db)`
        is a `UserService`), whose own methods the analysis must then find. `returned` otherwise."""
        owner = self.classes.owner(fid)
        if owner is None or owner == cls or not self.is_classmethod(fid):
            return returned
        function = self.project.functions[fid][1]
        first = f"${function.params[0].name}()" if function.params else None
        if not function.returned or any(expression != first for expression in function.returned):
            return returned
        return frozenset(
            Abstract(INSTANCE, cls, origin=v.origin) if v.kind == INSTANCE and v.target == owner else v for v in returned
        )

    def _forwarded_session(self, cls: str) -> Values:
        """The Session an instance of proxy class `cls` stands for: what its `__getattr__`
        forwards each attribute the class does not declare to (`getattr(current_session(), name)`,
        `Function.forwards`), when that is a Session; NOTHING otherwise. `db.scalars(...)` on such a
        proxy is Session work on that Session."""
        methods, _ = self.classes.method(cls, "__getattr__")
        if len(methods) != 1:
            return NOTHING
        forwards = self.project.functions[methods[0]][1].forwards
        if forwards is None or methods[0] in self._forwarding:
            return NOTHING
        self._forwarding.add(methods[0])  # a proxy forwarding to another instance of itself
        try:
            values = self.evaluate(methods[0], forwards)
            # only a plain Session: a `scoped_session` registry (whose scope decides what a `def`
            # route would share) or anything else it may be stays unread, as the proxy was
            return values if values and all(v.kind == SESSION for v in values) else NOTHING
        finally:
            self._forwarding.discard(methods[0])

    def _scoped_call(self, fid: FunctionId | None) -> tuple[str | None, str]:
        """The scope of the `scoped_session(...)` calls function `fid` makes, and where: the
        expression notation drops arguments, so they are read off the function's calls; None
        when they disagree or no call is in sight."""
        if fid is None:
            return None, ""
        module, function = self.project.functions[fid]
        made = [c for c in function.calls if self.project.canonical(c.callee) in SCOPED_SESSION_MAKERS]
        scopes = {
            # a `scopefunc=` naming what the analysis cannot read: unverified, not the thread's
            None if _scoped_by(c.args) and not _readable_key(self.project, key) else _registry_scope(
                [(a.position is not None, a.keyword) for a in c.args], key
            )
            for c in made
            for key in (_scope_key_in(self.project, module, c.args),)
        }
        where = f"{module.path}:{made[0].line}" if made else f"{module.path}:{function.line}"
        return (scopes.pop() if len(scopes) == 1 else None), where

    def enter(self, values: Values, asynchronous: bool = False) -> Values:
        """What `with value as name` (`async with`, when asynchronous) binds to `name`.

        A Session and a `@contextmanager` call give what they hold; an instance of a
        project class gives what its `__enter__` (`__aenter__`) returns, the instance
        itself for `return self`, so a unit of work's `self.session` stays readable.
        """
        found: set[Abstract] = set()
        for value in values:
            if value.kind in (SESSION, TAINTED, CONNECTION):
                found.add(value)
            elif value.kind == CONTEXT:
                found |= self.yielded(value.target)  # type: ignore[arg-type]
            elif value.kind == INSTANCE and value.target is not None:
                methods, _ = self.classes.method(value.target, "__aenter__" if asynchronous else "__enter__")  # type: ignore[arg-type]
                for method in methods:
                    found |= self._returned(method, value)
        return frozenset(found)

    def instance_called(self, fid: FunctionId, expression: str) -> Values:
        """What `x(...)` gives where `x` is a project instance: what its class's `__call__` returns
        (`with audit_db(commit_on_exit=True):`, a `__call__` making a configured copy). Read only
        for a `with` item: elsewhere calling an instance stays unknown."""
        if not expression.endswith("()"):
            return NOTHING
        found: set[Abstract] = set()
        for value in self.evaluate(fid, expression[:-2]):
            if value.kind == INSTANCE and value.target is not None:
                for method in self.classes.method(value.target, "__call__")[0]:  # type: ignore[arg-type]
                    found |= self._returned(method, value)
        return frozenset(found)

    def _returned(self, fid: FunctionId, instance: Abstract | None) -> Values:
        """What a function returns (awaited, if it is `async def`): its return annotation,
        else what it returns; a method's `return self` is `instance`, the receiver."""
        _, function = self.project.functions[fid]
        if instance is None or instance.kind != INSTANCE:
            if not function.is_async:
                return self.returns(fid)
            instance = None
        found: set[Abstract] = set(self._declared_by(function.returns))
        if found and not self._names_interface(found):
            return frozenset(found)
        declared = bool(found)
        key = (fid, instance)
        if key in self._reading:
            self.cycles += 1
            return NOTHING  # a cycle of properties: what else they return is found by the outer read
        self._reading.add(key)
        opened = ("returned", key)
        self._enter(opened)
        try:
            receiver = f"${function.params[0].name}" if function.params and instance is not None else None
            unseen = declared and any(not written for written, _ in function.returned_terms)
            for expression in function.returned:
                returned: Values = (
                    frozenset({instance}) if expression == receiver and instance is not None else self.evaluate(fid, expression)
                )
                unseen = unseen or (declared and not returned)
                found |= returned
            if unseen and self.carries_session(fid):
                found.add(Abstract(TAINTED, origin=f"{_short(function.qualname)}()"))
        finally:
            self._leave(opened)
            self._reading.discard(key)
        return frozenset(found)

    def attribute_of(self, values: Values, name: str, fid: FunctionId | None) -> Values:
        """What reading attribute `name` on `values` in function `fid` gives (one step of `evaluate`)."""
        return self._attribute(values, name, fid)

    def _attribute(self, values: Values, name: str, fid: FunctionId | None) -> Values:
        found: set[Abstract] = set()
        for value in values:
            kind = value.kind
            if kind in (INSTANCE, CLASS, "super"):
                cls = value.target
                if cls is None:
                    continue
                if kind == INSTANCE and name == "__class__":
                    found.add(Abstract(CLASS, cls))
                    continue
                if kind == "super":
                    order = self.classes.mro(cls)[1:]  # type: ignore[arg-type]
                    methods = next(
                        ([m] for c in order if (m := self.classes.methods.get(c, {}).get(name)) is not None),
                        [],
                    )
                else:
                    methods, _ = self.classes.method(cls, name)  # type: ignore[arg-type]
                if methods and kind == INSTANCE and all(self.is_property(m) for m in methods):
                    # reading a property runs it: `db.session` gives what `session` returns
                    for method in methods:
                        found |= self._returned(method, value)
                elif methods:
                    found.update(
                        Abstract(MANAGER, m)
                        if self.is_manager(m)
                        else Abstract(
                            FUNCTION, m, bound=cls if kind == INSTANCE or self.is_classmethod(m) else None  # type: ignore[arg-type]
                        )
                        for m in methods
                    )
                elif kind == CLASS and name in ALTERNATE_CONSTRUCTORS and not self.knows_attribute(cls, name):  # type: ignore[arg-type]
                    # `Hero.model_validate(data)`: an instance of the class, as `Hero(...)` is
                    found.add(value)
                else:
                    held = self.attribute(cls, name)  # type: ignore[arg-type]
                    if not held and not self.knows_attribute(cls, name):  # type: ignore[arg-type]
                        # read on a class that declares no such name (`cls.query` in a `CRUDMixin`
                        # method): at run time it is one of the project classes mixing it in
                        for subclass in self.classes.subclasses(cls):  # type: ignore[arg-type]
                            held |= self.attribute(subclass, name)
                    if not held and kind == INSTANCE and name in _CONTAINER_METHODS and self._field_sessions(cls):  # type: ignore[arg-type]
                        # `deps.get("db")`, `ctx.items()`, `ctx._asdict()` on a TypedDict or NamedTuple
                        # holding the Session: what the method gives holds its fields, unread by key
                        held = frozenset({Abstract(TAINTED, origin=f"`{self.classes.short(cls)}.{name}()`")})  # type: ignore[arg-type]
                    found |= held
            elif (kind == FACTORY and name in ("begin", "object_session")) or kind in (TAINTED, RESULT, INJECTED):
                found.add(value)
            elif kind == REGISTRY and name == "query_property":
                found.add(Abstract(QUERY_PROPERTY, value.target))
            elif kind == QUERY:
                found.add(Abstract(RESULT))  # `Model.query.filter_by`: the chain runs on the Session
            elif kind == ENGINE and name in CONNECTION_OPENERS:
                found.add(Abstract(CONNECTOR, origin=f"{value.origin or 'engine'}.{name}"))
            elif kind == STATE and name == "session":
                # `inspect(user).session`: the Session the object belongs to
                found.add(Abstract(SESSION, origin=f"{value.origin or 'inspect()'}.session"))
            elif kind == SESSION:
                found.add(Abstract(RESULT))
        return frozenset(found)

    def knows_attribute(self, cls: str, name: str) -> bool:
        """Whether class `cls` (or a project base) declares, assigns or defines `name`."""
        for ancestor in self.classes.mro(cls):
            _, facts_ = self.classes.by_ref[ancestor]
            if name in facts_.annotations or name in facts_.depends or (ancestor, name) in self.classes.assigned:
                return True
            if (ancestor, name) in self.classes.declared:
                return True
            if name in self.classes.methods.get(ancestor, {}):
                return True
        return False

    def attribute(self, cls: str, name: str) -> Values:
        """The join of what class `cls` (and its project bases) declare and assign to `name`."""
        key = (cls, name)
        found = self._attributes.get(key)
        if found is not None:
            if found is NOTHING:
                self._read_open(("attribute", key))
            return found
        self._attributes[key] = NOTHING  # cycle guard
        opened = ("attribute", key)
        self._enter(opened)
        try:
            result = self._attribute_of(cls, name)
        finally:
            self._leave(opened)
        self._attributes[key] = result
        return result

    def _attribute_of(self, cls: str, name: str) -> Values:
        values: set[Abstract] = set()
        for ancestor in self.classes.mro(cls):
            _, facts_ = self.classes.by_ref[ancestor]
            values |= self._declared_by(facts_.annotations.get(name, ()))
            for annotation in self.classes.declared.get((ancestor, name), ()):
                # `self.session: Session | None = None` in `__init__`: a Session once it is set
                values |= self._declared_by(annotation)
            depends = facts_.depends.get(name)
            if depends is not None:
                values |= self.provided(depends)
            for fid, expression in self.classes.assigned.get((ancestor, name), ()):
                # `self.session = session` with `session: SessionT`: what `cls` binds the TypeVar
                # to (`Repository[AsyncSession]`), not what every subclass's callers hand it
                kind = generic_param_kind(self.project, self.classes, cls, fid, expression)
                if kind == ASYNC:
                    continue
                values |= _SESSION if kind == SYNC else self.evaluate(fid, expression)
            for fid, _, receiver, expression, _ in self.classes.stored(name):
                # `cls._instance = Service()` in a classmethod, `Holder._instance = Service()`: a
                # store on the class itself sets the class attribute every reader of it sees (read
                # off the receiver as written: evaluating every store's receiver of a common name
                # would read other functions in the middle of their own evaluation)
                if self._on_class(fid, receiver, ancestor):
                    values |= self.evaluate(fid, expression)
            named = facts_.named.get(name)
            if named is not None:
                # `session = SessionLocal` in the class body: the module-level Session, registry or
                # sessionmaker itself; `model = User`: the class, whose `query_property()` a
                # repository reads (`self.model.query.all()`); nothing else it names
                values |= {v for v in self.ref(named) if v.kind in (SESSION, REGISTRY, FACTORY, CLASS)}
            for handed in self.classes.named_outside(ancestor, name):
                # `ActiveRecord.session = db_session` at a module's top (start-up): the same, set
                # from outside the class body (`session = None` there)
                values |= {v for v in self.ref(handed) if v.kind in (SESSION, REGISTRY, FACTORY)}
            built = self.classes.built(ancestor, name)
            if built is not None and built.startswith(PROVIDERS_PREFIX) and name in facts_.provides:
                values |= self._provider(ancestor, name, built)
            elif built is not None:
                # `session = scoped_session(...)` in the class body: one object every instance shares
                module, declared = self.classes.by_ref[ancestor]
                where = f"{module.path}:{declared.line}"
                for made in self._call(self.ref(built), None, name):
                    if made.kind == REGISTRY:
                        made = Abstract(REGISTRY, (None, where))
                    values.add(made)
        values |= self._stored_outside(cls, name, bool(values))
        if self.classes.is_abstract(cls):  # the object is one of its implementations
            for implementation in self.classes.implementations(cls):
                values |= self.attribute(implementation, name)
        return frozenset(_named(v, f"self.{name}") for v in values)

    def _on_class(self, fid: FunctionId, receiver: str, cls: str) -> bool:
        """Whether `receiver`, as a store in `fid` writes it, is class `cls` itself: `cls` in a
        classmethod of it, or the class by name."""
        if receiver == "$cls":
            return self.classes.owner(fid) == cls and self.is_classmethod(fid)
        return not receiver.startswith("$") and receiver != facts.UNSPELLED and self.classes.resolve(receiver) == cls

    def _stored_outside(self, cls: str, name: str, known: bool) -> Values:
        """The Session (registry, sessionmaker) code outside the class stores into `name` on an
        instance of it or the class itself (`repo.session = db` in a dependency, `setattr(repo,
        "session", db)`), or on a subclass's or base's: the methods read it as `self.{name}`. A
        store on an object the flow cannot type (`REGISTRY["x"].session = db`) counts for a class
        whose attribute holds nothing else and is set to a constant alone (`self.session = None`)."""
        stores = self.classes.stored(name)
        computed = self.classes.stored("") if not known else []
        module_sets = self.classes.set_on_values(name)
        module_computed = self.classes.computed_sets() if not known else []
        if not stores and not computed and not module_sets and not module_computed:
            return NOTHING
        related = {*self.classes.mro(cls), *self.classes.subclasses(cls)}
        found: set[Abstract] = set()
        for _, owner, callee, _ in module_sets:
            # `repo.session = SessionLocal()` at a module's top, on a module-level instance
            if any(v.kind == INSTANCE and v.target in related for v in self.ref(owner)):
                found |= {v for v in self._call(self.ref(callee), None, name) if v.kind in _STORED_KINDS}
        for fid, _, receiver, value, _ in stores:
            held = {v for v in self.evaluate(fid, value) if v.kind in _STORED_KINDS}
            if not held or held <= found:
                continue
            targets = self.evaluate(fid, receiver) if receiver != facts.UNSPELLED else NOTHING
            if any(v.kind in (INSTANCE, CLASS) and v.target in related for v in targets) or (
                not targets and not known and self._set_empty(cls, name)
            ):
                found |= held
        if found:
            return frozenset(found)
        for fid, line, receiver, value, _ in computed:
            # `setattr(repo, field, db)`: a name computed at run time may pick this attribute, which
            # holds nothing else the analysis knows; on an object it cannot type, only where the
            # class sets it to a constant alone (`self.session = None`)
            if not any(v.kind in _STORED_KINDS for v in self.evaluate(fid, value)):
                continue
            targets = self.evaluate(fid, receiver) if receiver != facts.UNSPELLED else NOTHING
            if any(v.kind in (INSTANCE, CLASS) and v.target in related for v in targets) or (
                not targets and self._set_empty(cls, name)
            ):
                module, _ = self.project.functions[fid]
                origin = f"`setattr()` naming the attribute at run time ({module.path}:{line})"
                found.add(Abstract(TAINTED, origin=origin))
        for module, owner, line in module_computed:
            # the same at a module's top (`setattr(repo, ATTR, SessionLocal())`, a loop over a
            # table), on a module-level instance or class: what it sets is read as unverified
            if any(v.kind in (INSTANCE, CLASS) and v.target in related for v in self.ref(owner)):
                origin = f"`setattr()` naming the attribute at run time ({module.path}:{line})"
                found.add(Abstract(TAINTED, origin=origin))
        return frozenset(found)

    def _set_empty(self, cls: str, name: str) -> bool:
        """Whether class `cls` (or a project base) sets `name` only to constants (`self.session = None`,
        `session = None` in the class body)."""
        assigned = [e for a in self.classes.mro(cls) for _, e in self.classes.assigned.get((a, name), ())]
        in_body = any(
            name in declared.names and name not in declared.built and name not in declared.named
            for declared in (self.classes.by_ref[a][1] for a in self.classes.mro(cls))
        )
        return (bool(assigned) or in_body) and all(e in _CONSTANTS for e in assigned)

    # -------------------------------------------------------------------- calls

    def targets(self, fid: FunctionId, call: facts.Call) -> tuple[list[FunctionId], bool]:
        """Project functions a call not resolved by reference may run, and whether that is certain.

        Methods of instances and classes (through the class order), constructors
        (`__init__`), `super().m`, context-manager functions.
        """
        if call.callee is not None:
            values = self.ref(call.callee)
            head, _, method = call.callee.partition(".")
            binder = self.project.enclosing_binder(fid, head)
            if binder is not None:
                # `self._rows(db)` in the route a router-building method returns, `model.count()` in
                # a factory's: the closure's value, which the collector wrote as a module name.
                # Both are kept: a name resolved through an import may share the head.
                values = values | self.evaluate(fid, call.callee)
                if not values and method and "." not in method and self._unread_param(binder, head):
                    # `crud_router(User, ...)`: the factory's callers, at module level, are not
                    # read, so `model.count_rows()` may be any project class's method of that name
                    named = [m[method] for m in self.classes.methods.values() if method in m]
                    self.by_name[id(call)] = (
                        f"one of the project methods named {method}; the factory's argument is not read"
                    )
                    return named, not named
        elif call.func is not None:
            values = self.evaluate(fid, call.func)
        else:
            return [], True
        if not values and (held := self._passed_in_attribute(fid, call.func or call.callee or "")) is not None:
            method = (call.func or call.callee or "").rpartition(".")[2]
            self.by_name[id(call)] = (
                f"one of the project methods named {method}; the argument the object was built with is not read"
            )
            return held, not held
        found, certain = self._functions(values)
        for value in values:
            if value.kind == CLASS:
                methods, _ = self.classes.method(value.target, "__init__")  # type: ignore[arg-type]
                found.extend(m for m in methods if m not in found)
            elif value.kind == INSTANCE and isinstance(value.target, str) and value.target in self.classes.by_ref:
                # `counter(3)` on a project object: Python runs its class's `__call__`
                methods, _ = self.classes.method(value.target, "__call__")
                found.extend(m for m in methods if m not in found)
        entered = self.entered(fid, call)
        if entered is not None:
            # `with UnitOfWork() as uow`: the statement runs `__enter__` and `__exit__` too
            names = ("__aenter__", "__aexit__") if entered else ("__enter__", "__exit__")
            for value in self._call(values, fid, ""):
                if value.kind == INSTANCE and value.target is not None:
                    for name in names:
                        found.extend(m for m in self.classes.method(value.target, name)[0] if m not in found)  # type: ignore[arg-type]
        return found, certain

    def _passed_in_attribute(self, fid: FunctionId, expression: str) -> list[FunctionId] | None:
        """`self.model.count_rows()` in a method of a generic router or CRUD class, or in the
        route a method of one returns, where every store of `model` in the class order is an
        `__init__` parameter with no annotation and no default (`CRUDRouter(User, ...)` at module
        level, whose argument the analysis does not read): any project class's method of that
        name. None where the attribute is not such a one."""
        receiver, _, method = expression.removeprefix("$").rpartition(".")
        head, _, attribute = receiver.partition(".")
        if not attribute or "." in attribute or "(" in expression:
            return None
        method_of = fid if expression.startswith("$") else self.project.enclosing_binder(fid, head)
        if method_of is None:
            return None
        owner = self.classes.owner(method_of)
        params = self.project.functions[method_of][1].params
        if owner is None or not params or params[0].name != head:
            return None
        stores = [
            store for ancestor in self.classes.mro(owner)
            for store in self.classes.assigned.get((ancestor, attribute), ())
        ]
        if not stores or not all(
            value.startswith("$") and self._unread_param(store, value[1:]) for store, value in stores
        ):
            return None
        # What the attribute holds was handed in, so it is not `self`: a method of the class's own
        # order is no candidate (`self.db.add(item)` in `ItemRepo.add`, on a Session the analysis
        # of the rewrite has no value for, is no call of `ItemRepo.add`).
        own = set(self.classes.mro(owner))
        return [m[method] for cls, m in self.classes.methods.items() if method in m and cls not in own]

    def _unread_param(self, fid: FunctionId, name: str) -> bool:
        """Whether `name` is a parameter of `fid` with neither annotation nor default, never
        rebound: what it holds is only what callers pass."""
        _, function = self.project.functions[fid]
        param = next((p for p in function.params if p.name == name), None)
        return (
            param is not None and not param.annotation and not param.text and not param.default
            and param.default_ref is None and param.depends is None
            and not any(b.name == name for b in function.bindings)
        )

    def unannotated_source(self, fid: FunctionId, expression: str) -> list[tuple[FunctionId, str]]:
        """What leaves a call's receiver untyped (`$maker()`, `$self.session_factory()` in a method),
        when that is a parameter with neither annotation nor default: the parameter of `fid`
        itself, or the `__init__` parameters every store of the attribute on `self` comes from,
        as (function, parameter); [] for anything else. Annotating those types the receiver."""
        head, steps = split(expression)
        if steps[-1:] != ("()",) or not head.startswith("$"):
            return []
        name = head[1:]
        if len(steps) == 1:
            return [(fid, name)] if self._unread_param(fid, name) else []
        owner = self.classes.owner(fid)
        params = self.project.functions[fid][1].params
        if len(steps) != 2 or owner is None or not params or params[0].name != name:
            return []
        stores = [
            store for ancestor in self.classes.mro(owner)
            for store in self.classes.assigned.get((ancestor, steps[0][1:]), ())
        ]
        if not stores or not all(value.startswith("$") and self._unread_param(at, value[1:]) for at, value in stores):
            return []
        return list(dict.fromkeys((at, value[1:]) for at, value in stores))

    def functions(self, fid: FunctionId, expression: str) -> tuple[list[FunctionId], bool]:
        """Project functions an expression may name as a value (`svc.refresh_all` on an instance,
        through the class order), and whether that is certain."""
        return self._functions(self.evaluate(fid, expression))

    def ref_functions(self, ref: str) -> list[FunctionId]:
        """Project functions a module-level reference may call: a function, or a method through a
        module-level instance (`app.crud.user.get`, through the class order)."""
        return self._functions(self.ref(ref))[0]

    def called_functions(self, ref: str) -> list[FunctionId]:
        """Project functions calling a module-level reference runs: those of `ref_functions`, and
        the `__call__` of a project instance it holds (`checker(1, db)` for a module-level
        `checker = Access(write=True)`, or an imported one); `Access()` (a call's result, as the
        facts spell `Access(write=True)(1, db)`) names the instance the call builds."""
        if ref.endswith("()"):
            values = self._call(self.ref(ref[:-2]), None, _short(ref[:-2]))
            found: list[FunctionId] = []
        else:
            values = self.ref(ref)
            found = self._functions(values)[0]
        for value in values:
            if value.kind == INSTANCE and isinstance(value.target, str) and value.target in self.classes.by_ref:
                found.extend(m for m in self.classes.method(value.target, "__call__")[0] if m not in found)
        return found

    def _functions(self, values: Values) -> tuple[list[FunctionId], bool]:
        found: list[FunctionId] = []
        certain = True
        for value in values:
            if value.kind in (FUNCTION, MANAGER):
                if value.bound is not None and value.kind == FUNCTION:
                    name = self.project.functions[value.target][1].name  # type: ignore[index]
                    methods, sure = self.classes.method(value.bound, name)
                    certain = certain and sure
                    found.extend(m for m in methods if m not in found)
                elif value.target not in found:
                    found.append(value.target)  # type: ignore[arg-type]
        return found, certain

    def entered(self, fid: FunctionId, call: facts.Call) -> bool | None:
        """Whether the call is a `with` item bound by `as` (True: `async with`), or None."""
        expression = call.func if call.func is not None else call.callee
        if expression is None:
            return None
        _, function = self.project.functions[fid]
        for binding in function.bindings:
            if binding.entered and binding.line == call.line and binding.expr == f"{expression}()":
                return binding.asynchronous
        return None

    def query_read(self, fid: FunctionId, expression: str) -> tuple[str, Abstract] | None:
        """`User.query` in `User.query.filter_by(...).first`, where `query` is a registry's
        `query_property()` on User or a base: the read (a Query on the registry's Session, so
        what is chained on it is Session work) and its `query` value; else None."""
        for name in self.classes.built_names(".query_property"):
            start = 0
            while (found := expression.find(f".{name}", start)) >= 0:
                end = found + len(name) + 1
                start = end
                if end < len(expression) and expression[end] not in ".(":
                    continue
                prefix = expression[:end]
                value = self.holds(fid, prefix, QUERY)
                if value is not None:
                    return prefix, value
        head = split(expression)[0]
        if head.startswith("$") and self.classes.built_names(".query_property"):
            value = self.holds(fid, head, QUERY)  # `q = User.query`, then `q.count()`
            if value is not None:
                return head, value
        if "()." in expression and self.classes.built_names(".query_property"):
            # `get_query(User).all()`, `repo.query().first()`: a function or method returning the
            # Query a `query_property()` gives
            start = 0
            while (found := expression.find("().", start)) >= 0:
                start = found + 3
                value = self.holds(fid, expression[: found + 2], QUERY)
                if value is not None:
                    return expression[: found + 2], value
        return None

    def query_unread(self, fid: FunctionId, expression: str) -> str | None:
        """`User.query` where User (or a base) gets `query` from a `query_property()` call the
        flow cannot follow to a registry (an unresolved import, a wrapper object): the read, for
        an unverified reason; else None."""
        for name in self.classes.built_names(".query_property"):
            start = 0
            while (found := expression.find(f".{name}", start)) >= 0:
                end = start = found + len(name) + 1
                if end < len(expression) and expression[end] not in ".(":
                    continue
                prefix = expression[:end]
                owners = [
                    v.target for v in self.evaluate(fid, expression[:found]) if v.kind in (CLASS, INSTANCE)
                ]
                declared = any(
                    (self.classes.built(c, name) or "").endswith(".query_property")
                    for owner in owners for c in self.classes.mro(owner)  # type: ignore[arg-type]
                )
                if declared and self.holds(fid, prefix, QUERY) is None:
                    return prefix
        return None

    def holds(self, fid: FunctionId, expression: str, kind: str = SESSION) -> Abstract | None:
        """The value of that kind the expression may hold (with its origin), or None."""
        for value in self.evaluate(fid, expression):
            if value.kind == kind:
                return value
        return None


def _registry_scope(args: list[tuple[bool, str | None]], key: str | None = None) -> str | None:
    """A `scoped_session(...)` call's scope from its arguments (positional?, keyword) and what
    its `scopefunc=` names (`key`, canonical): the thread unless `scopefunc=` is given (or could
    be, through unpacking) with something other than a thread's or a task's identity."""
    if any(keyword in ("*", "**") for _, keyword in args):
        return None
    if sum(positional for positional, _ in args) > 1 or any(keyword == "scopefunc" for _, keyword in args):
        if key in THREAD_IDENTS:
            return THREAD
        if key in TASK_IDENTS:
            return TASK
        if key == UNSET_CONTEXT:
            return PROCESS
        if key == REPEATED_CONTEXT:
            return REPEATED
        return REQUEST
    return THREAD


def scope_key(arg: facts.CallArg | None, canonical: str | None) -> str | None:
    """What a `scopefunc=` argument keys the registry on: the canonical function it names, or
    the identity a lambda calls (`lambda: id(asyncio.current_task())`)."""
    if arg is None:
        return None
    if canonical in THREAD_IDENTS | TASK_IDENTS or not arg.text.lstrip().startswith("lambda"):
        return canonical
    for known in sorted(THREAD_IDENTS | TASK_IDENTS):
        if re.search(rf"\b{re.escape(known.rsplit('.', 1)[-1])}\s*\(", arg.text):
            return known
    return None


def scope_argument(args: list[facts.CallArg] | tuple[facts.CallArg, ...]) -> facts.CallArg | None:
    """The `scopefunc=` argument of a `scoped_session(...)` call as written (keyword or second positional), or None."""
    positional = [a for a in args if a.keyword is None]
    keyed = [a for a in args if a.keyword == "scopefunc"]
    return keyed[0] if keyed else positional[1] if len(positional) > 1 else None


def registry_scope_of(
    project: Project, args: list[facts.CallArg] | tuple[facts.CallArg, ...], module: facts.Module | None = None
) -> str | None:
    """The scope of a module-level `scoped_session(...)` call from its arguments as written
    (`module`, the one making the call, reads the names a lambda's body uses); None when its
    `scopefunc=` names what the analysis cannot read (a lambda it cannot follow, a library's
    function): unverified, never taken for the request's."""
    key = _scope_key(project, args, module)
    if scope_argument(args) is not None and not _readable_key(project, key):
        return None
    return _registry_scope([(a.keyword is None, a.keyword) for a in args], key)


def _scope_key(
    project: Project, args: list[facts.CallArg] | tuple[facts.CallArg, ...], module: facts.Module | None = None
) -> str | None:
    arg = scope_argument(args)
    key = scope_key(arg, project.canonical(arg.ref) if arg is not None and arg.ref else None)
    if key is None and arg is not None and module is not None:
        key = _lambda_key(project, module, arg.text)
    key = _through_function(project, key)
    return _context_key(project, key) if key is not None else None


def state_registry_scope(project: Project, path: str, line: int) -> str | None:
    """The scope of the `scoped_session(...)` the module at `path` keeps on an application's state
    at import, line `line` (`app.state.registry = scoped_session(maker, scopefunc=request_scope.get)`),
    read off its arguments as a module-level registry's is; None when its `scopefunc=` names what
    the analysis cannot read (a lambda it cannot follow, a library's function): unverified, never
    taken for the thread's."""
    module = next((m for m in project.modules.values() if m.path == path), None)
    args = module.state_set_args.get(line) if module is not None else None
    if module is None or args is None:
        return None
    return registry_scope_of(project, args, module)


def _readable_key(project: Project, key: str | None) -> bool:
    """Whether a `scopefunc=` keys on what the analysis reads: a thread's or task's identity, a
    context variable's `get`, or a project function."""
    return key is not None and (
        key in THREAD_IDENTS | TASK_IDENTS | {UNSET_CONTEXT, REPEATED_CONTEXT}
        or project.function(key) is not None
        or (key.endswith(".get") and _is_context_variable(project, key[:-4]))
    )


_LAMBDA_CALL = re.compile(r"lambda\s*:\s*([A-Za-z_][\w.]*)\(\s*\)\s*")


def _lambda_key(project: Project, module: facts.Module, text: str) -> str | None:
    """`lambda: request_scope.get()` or `lambda: _scope()`: the canonical function the lambda
    only calls, so it keys the registry as naming that function would."""
    matched = _LAMBDA_CALL.fullmatch(text.strip())
    if matched is None:
        return None
    head, dot, rest = matched.group(1).partition(".")
    base = module.imports.get(head) or (f"{module.name}.{head}" if head in module.values or any(
        f.qualname == head for f in module.functions
    ) else None)
    return project.canonical(f"{base}{dot}{rest}") if base else None


def _through_function(project: Project, key: str | None) -> str | None:
    """What a `scopefunc=` naming a project function keys on: a thread's or task's identity it
    calls (`def scope(): return id(asyncio.current_task())` raises in a worker thread as the
    bare `asyncio.current_task` does), or the one context variable it reads and does nothing
    else with (`return request_scope.get()`, judged as `request_scope.get`); otherwise the
    function itself, which counts as a request scope."""
    if key is None or key in THREAD_IDENTS | TASK_IDENTS:
        return key
    found = project.function(key)
    if found is None:
        return key
    module, function = found
    callees = [_in_module(project, module, call.callee) for call in function.calls if call.callee is not None]
    for callee in callees:
        if callee in THREAD_IDENTS | TASK_IDENTS:
            return callee
    if len(callees) == 1 and callees[0].endswith(".get") and _is_context_variable(project, callees[0][:-4]):
        return callees[0]
    return key


def _in_module(project: Project, module: facts.Module, ref: str) -> str:
    """A callee as collected, canonical, trying it as a name of `module` when it is bare."""
    head, dot, rest = ref.partition(".")
    if head in module.values and not ref.startswith(f"{module.name}."):
        ref = f"{module.name}.{head}{dot}{rest}"
    return project.canonical(ref) or ref


def _is_context_variable(project: Project, variable: str) -> bool:
    target = project.resolve(variable)
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and value.kind == "call" and project.canonical(value.ref) in CONTEXT_VARIABLES


UNSET_CONTEXT = "unset-context"  # a scope key: `var.get` of a ContextVar nothing sets
REPEATED_CONTEXT = "repeated-context"  # a scope key: `var.get` of a ContextVar set to values that may repeat


def _context_key(project: Project, key: str) -> str:
    """What `scopefunc=request_scope.get` on a module-level ContextVar keys the registry on:
    UNSET_CONTEXT when no code in the project sets it where the request's handlers read it (every
    request reads its default, so the registry hands all of them one Session; a plain `def`
    dependency's set does not count: FastAPI runs it in a worker thread, and the value stays in
    that thread's copy of the request's context); REPEATED_CONTEXT when a set that counts stores
    a value that may be the same for two requests (`set("req")`, a header the client sends, one
    the analysis cannot read): those requests share one Session; else `key`, a request scope."""
    if not key.endswith(".get"):
        return key
    variable = key.removesuffix(".get")
    if not _is_context_variable(project, variable):
        return key
    plain = _plain_dependencies(project)
    counted = [(fid, call) for fid, call in project.context_variable_sets.get(variable, ()) if fid not in plain]
    if counted:
        once = _lifecycle_hooks(project)  # a startup handler's set: the one value of no request
        counted = [(fid, call) for fid, call in counted if fid not in once]
    if not counted:
        return UNSET_CONTEXT
    if all(per_request_key(project, fid, call) for fid, call in counted):
        return key
    return REPEATED_CONTEXT


_CALLED = re.compile(r"([A-Za-z_][\w.]*)\(")


def per_request_key(project: Project, fid: FunctionId, call: facts.Call) -> bool:
    """Whether `var.set(x)` stores a value no other request's set stores while it lives: x calls
    one of `PER_CALL_VALUES` (`uuid4().hex`, `str(uuid4())`, `object()`, `id(request)`) or takes
    `next()` of a module-level `itertools.count()`, itself or through the local name it is bound
    to in the function (every binding of it)."""
    stored = call.stored
    if not stored:
        return False
    if len(stored) == 1 and stored[0].startswith("$"):
        name = stored[0][1:]
        bound = [b.expr for b in project.functions[fid][1].bindings if b.name == name]
        return bool(bound) and all(
            any((project.canonical(c) or c) in PER_CALL_VALUES for c in _CALLED.findall(expr or "")) for expr in bound
        )
    return any(
        _counter(project, c[len("next:"):]) if c.startswith("next:") else (project.canonical(c) or c) in PER_CALL_VALUES
        for c in stored if c
    )


def _counter(project: Project, ref: str) -> bool:
    """Whether `ref` is a module-level `itertools.count(...)`: `next()` of it never repeats."""
    target = project.resolve(ref) if ref else None
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and value.kind == "call" and project.canonical(value.ref) in PER_CALL_ITERATORS


def _lifecycle_hooks(project: Project) -> frozenset[FunctionId]:
    """The startup, shutdown and lifespan handlers the application registers."""
    found = project.derived.get("lifecycle_hooks")
    if found is None:
        found = project.derived["lifecycle_hooks"] = frozenset(
            fid for fid, kind, _ in project._hooks() if kind == "lifecycle"
        )
    return found  # type: ignore[return-value]


def _plain_dependencies(project: Project) -> frozenset[FunctionId]:
    """The plain `def` functions the project names in `Depends(...)` (read off the syntax: this
    is asked while the flow is evaluated, before the handlers are known)."""
    found = project.derived.get("plain_dependencies")
    if found is None:
        functions = (project.function(ref) for ref in sorted(project.dependency_refs))
        found = project.derived["plain_dependencies"] = frozenset(
            (module.name, function.key) for module, function in filter(None, functions) if not function.is_async
        )
    return found  # type: ignore[return-value]


def _scoped_by(args: list[facts.Arg]) -> bool:
    """Whether a `scoped_session(...)` call inside a function is given a `scopefunc=`."""
    return any(a.keyword == "scopefunc" or a.position == 1 for a in args)


def _scope_key_in(project: Project, module: facts.Module, args: list[facts.Arg]) -> str | None:
    """`_scope_key` for a call inside a function, whose arguments keep only the dotted text."""
    keyed = [a for a in args if a.keyword == "scopefunc"] or [a for a in args if a.position == 1]
    if not keyed or keyed[0].ref is None:
        return None
    head, dot, rest = keyed[0].ref.partition(".")
    base = module.imports.get(head)
    return _through_function(project, project.canonical(f"{base}{dot}{rest}") if base else _in_module(project, module, keyed[0].ref))


def _named(value: Abstract, origin: str) -> Abstract:
    return value if value.origin else Abstract(value.kind, value.target, value.bound, origin)


def _short(ref: str) -> str:
    return ref.rsplit(".", 1)[-1]


# Session methods that name little else: on an untyped carrier they suggest a Session
# whatever the carrier is called. The others (`get`, `execute`, `delete`, `close`...)
# count only on a carrier named like one (`request.state.db`, `g.session`).
_DISTINCT_SESSION_METHODS = frozenset({
    "query", "scalars", "scalar", "get_one", "exec", "merge", "begin_nested",
    "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings",
})


def untyped_carrier(flow: Flow, fid: FunctionId, expression: str) -> bool:
    """`request.state.db.scalars`, `request.app.state.session.execute`, `g.db.query`: a
    Session method called on an attribute the analysis cannot type.

    Only for a Session method that names little else, or for any Session method on a
    carrier named like a Session (see `untyped_path` for what counts as untyped). A
    local bound to such a path stands for it: `db = request.state.db; db.query(...)`.
    """
    if expression.rpartition(".")[2] not in SESSION_IO_METHODS:
        return False  # cheap first: most calls are not Session methods
    steps = _steps(flow, fid, expression)
    if steps is None or len(steps[1]) < 2 or steps[1][-1][1:] not in SESSION_IO_METHODS:
        return False
    head, path = steps
    if (
        steps[1][-1][1:] not in _DISTINCT_SESSION_METHODS and not _session_named(path[-2][1:])
        and not _state_keeps_session(flow, fid, head, path[:-1])
    ):
        return False
    return untyped_path(flow, fid, head, path[:-1])


def _state_keeps_session(flow: Flow, fid: FunctionId, head: str, carrier: tuple[str, ...]) -> bool:
    """`request.app.state.conn` (or `main.app.state.conn`) where some code of the project keeps a
    Session under that attribute (`app.state.conn = SessionLocal()` in the lifespan): named like
    one or not, its Session methods may be that Session's."""
    attribute = state_attribute(flow, fid, head, carrier)
    return attribute is not None and any(
        any(value.kind == SESSION for value in flow.evaluate(holder, assigned))
        for holder, assigned in _assigned_to_state(flow, fid, attribute)
    )


def state_attribute(flow: Flow, fid: FunctionId, head: str, steps: tuple[str, ...]) -> str | None:
    """`X` when `head` and `steps` (attributes, no call) spell `request.app.state.X` on the
    connection parameter, or `main.app.state.X` on a module-level application; None otherwise."""
    if "()" in steps:
        return None
    if head.startswith("$"):
        if len(steps) != 3 or steps[:2] != (".app", ".state") or not flow.request_param(fid, head[1:]):
            return None
        return steps[2][1:]
    owner, state, attribute = (head + "".join(steps)).partition(".state.")
    if not state or "." in attribute or not flow.module_application(flow.project.canonical(owner) or owner):
        return None
    return attribute


def declared_context_session(flow: Flow, fid: FunctionId, expression: str) -> tuple[str, str] | None:
    """`session_ctx.get().execute`, also through a local bound to that read or a project function
    returning it (`current_session().get`): a Session method called on what a module-level
    `ContextVar[Session]` holds, when the flow cannot read what the project sets it to (a value
    from code it cannot follow, `request.app.state.maker()`, or no set at all: a library's, or
    none). The annotation says a synchronous Session, the sets say nothing: unverified, never
    "no Session work". A variable declared without a type counts as an untyped carrier does
    (a Session method that names little else, or any on a variable named like a Session).
    (the variable's reference, where it is set or "") or None."""
    receiver, dot, method = expression.rpartition(".")
    if not dot or method not in SESSION_IO_METHODS:
        return None
    variable = _context_read(flow, fid, receiver, 0)
    if variable is None or flow.context_variable(variable):
        return None
    project = flow.project
    target = project.resolve(variable)
    if target is None or target.module is None:
        return None
    short = variable.rpartition(".")[2]
    if short in target.module.context_types:
        declared = {project.canonical(r) for r in target.module.context_types[short]}
        if not any(project.is_sync_session_type(r) for r in declared) or any(map(project.is_async_session_type, declared)):
            return None
    elif method not in _DISTINCT_SESSION_METHODS and not _session_named(short):
        return None  # undeclared: judged as `untyped_carrier` judges a carrier, by the method or the name
    sets = project.context_variable_sets.get(variable, ())
    where = next((f"{project.functions[f][0].path}:{c.line}" for f, c in sets), "")
    return variable, where


def unread_proxy(flow: Flow, fid: FunctionId, expression: str, method: str = "") -> tuple[str, str] | None:
    """`current` in `current.commit()` (`method` "commit"; "" for a value handed on, `work(current)`),
    also through a local bound to it: a module-level
    `LocalProxy(...)` whose forwarded value the analysis cannot read (`LocalProxy(lambda: _shared)`,
    `LocalProxy(get_shared)` returning a library's value): unverified, never "no Session work",
    when the proxy is declared a synchronous Session (`current: Session = LocalProxy(...)`) or,
    undeclared, as an untyped carrier is (`method` one that names little else, or the proxy or
    what it forwards to named like a Session). A proxy over a ContextVar is judged by
    `declared_context_session`. (the proxy's reference, its `path:line`) or None."""
    project = flow.project
    if not _builds_local_proxies(project):
        return None  # asked of most calls and arguments, and most projects build no proxy
    ref = _proxy_ref(flow, fid, expression, 0)
    if ref is None:
        return None
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or target is None or target.module is None or value.kind != "call" or not value.args:
        return None
    if project.canonical(value.ref) not in LOCAL_PROXIES or flow.evaluate(fid, ref):
        return None
    module = target.module
    proxied = _proxied(project, module, value.args[0])
    if proxied is not None and proxied.endswith(".get()") and _is_context_variable(project, proxied[:-6]):
        return None
    short = ref.rpartition(".")[2]
    if short in module.declared and module.declared[short]:
        declared = {project.canonical(r) for r in module.declared[short]}
        if not any(project.is_sync_session_type(r) for r in declared) or any(map(project.is_async_session_type, declared)):
            return None
    else:
        # handed on (no method), a value counts by its last word, as `untyped_session` reads one
        by_name = _session_named if method else _session_noun
        forwarded = _FORWARDED_NAME.search(value.args[0].text)
        named = by_name(short) or (forwarded is not None and by_name(forwarded.group(1).lstrip("_")))
        if method not in _DISTINCT_SESSION_METHODS and not named:
            return None
    return ref, f"{module.path}:{value.line}"


def _builds_local_proxies(project: Project) -> bool:
    """Whether any module-level value is a `LocalProxy(...)` built with an argument: the only values
    `unread_proxy` answers for. Kept per project."""
    found = project.derived.get("builds_local_proxies")
    if found is None:
        found = project.derived["builds_local_proxies"] = any(
            value.kind == "call" and value.args and project.canonical(value.ref) in LOCAL_PROXIES
            for module in project.modules.values()
            for value in module.values.values()
        )
    return bool(found)


# the last name a proxy's argument reads: `_db_session` in `lambda: _db_session`, `get_db` in `get_db`
_FORWARDED_NAME = re.compile(r"([A-Za-z_]\w*)\W*$")


def _proxy_ref(flow: Flow, fid: FunctionId, expression: str, depth: int) -> str | None:
    """The module-level name `expression` reads, through locals bound once to it."""
    if depth > 4:
        return None
    head, steps = split(expression)
    if steps or head.startswith("super()"):
        return None
    if head.startswith("$"):
        _, function = flow.project.functions[fid]
        bound = [b.expr for b in function.bindings if b.name == head[1:]]
        if len(bound) != 1 or any(p.name == head[1:] for p in function.params):
            return None
        return _proxy_ref(flow, fid, bound[0], depth + 1)
    return flow.project.canonical(head) or head


def _proxied(project: Project, module: facts.Module, arg: facts.CallArg) -> str | None:
    """What `LocalProxy(arg)` reads on each use, as an expression: `ctx.get()` for a ContextVar
    (or a lambda reading one), `f()` for a function (or a lambda calling it); None otherwise."""
    ref = arg.ref if arg.ref is not None else _lambda_key(project, module, arg.text)
    if ref is None:
        return None
    canonical = project.canonical(ref) or ref
    if _is_context_variable(project, canonical):
        return f"{canonical}.get()"
    return f"{canonical}()"


def local_proxy_source(project: Project, ref: str) -> str | None:
    """The expression a module-level `LocalProxy(...)` named `ref` reads on each use (`_proxied`)."""
    if ref.startswith(("$", "super()")):
        return None
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or target is None or target.module is None or value.kind != "call" or not value.args:
        return None
    if project.canonical(value.ref) not in LOCAL_PROXIES:
        return None
    return _proxied(project, target.module, value.args[0])


def context_variable_ref(project: Project, ref: str) -> bool:
    """Whether a dotted reference names a module-level `ContextVar` (`session_ctx` in
    `session_ctx.get()`, whose `get` is the variable's, never a Session's)."""
    if ref.startswith(("$", "super()")) or "(" in ref:
        return False
    return _is_context_variable(project, project.canonical(ref) or ref)


def _context_read(flow: Flow, fid: FunctionId, expression: str, depth: int) -> str | None:
    """The module-level `ContextVar` whose `.get()` the expression is, directly or as above."""
    if depth > 4:
        return None
    project = flow.project
    head, steps = split(expression)
    if head.startswith("$") and not steps:
        _, function = project.functions[fid]
        bound = [b.expr for b in function.bindings if b.name == head[1:]]
        if len(bound) != 1 or any(p.name == head[1:] for p in function.params):
            return None
        return _context_read(flow, fid, bound[0], depth + 1)
    if not steps:
        proxied = local_proxy_source(project, head)  # `db = LocalProxy(session_ctx)`
        return _context_read(flow, fid, proxied, depth + 1) if proxied is not None else None
    if steps != ("()",) or head.startswith(("$", "super()")):
        return None
    head = flow.getter_alias(head, steps)
    if head.endswith(".get"):
        variable = project.canonical(head.removesuffix(".get")) or head.removesuffix(".get")
        return variable if _is_context_variable(project, variable) else None
    found = project.function(head)
    if found is None or not found[1].returned:
        return None
    module, function = found
    callee = (module.name, function.key)
    read = {_context_read(flow, callee, returned, depth + 1) for returned in function.returned}
    return read.pop() if len(read) == 1 else None


def untyped_item(flow: Flow, fid: FunctionId, call: facts.Call) -> tuple[str, str] | None:
    """`sessions["ro"].scalars()`, `db = request.state.dbs["rw"]; db.commit()`: a Session method
    called on an item taken by subscript out of a container the analysis cannot type (a dict of
    Sessions a dependency yields or a middleware keeps): (the container as written, or
    UNSPELLED; the method), or None. The method counts as `untyped_carrier` counts it, the
    carrier being the container (`sessions`, `dbs`: a plural counts) or the local it is bound to."""
    if call.awaited:
        return None
    if call.item is not None:
        container, method = call.item
        carrier = container.rpartition(".")[2].lstrip("$")
        if flow.maker_items(container):
            return None  # a sessionmaker: the Session it opens is work (`Project._item_session_call`)
    else:
        if call.func is None:
            return None
        head, steps = split(call.func)
        _, function = flow.project.functions[fid]
        name = head[1:]
        held = function.items.get(name) if head.startswith("$") and len(steps) == 1 else None
        if held is None or any(b.name == name for b in function.bindings) or any(
            p.name == name for p in function.params
        ):
            return None
        container, method, carrier = held, steps[0][1:], name
    if method not in SESSION_IO_METHODS:
        return None
    values = flow.evaluate(fid, container) if container != facts.UNSPELLED else NOTHING
    if values and not all(v.kind in _OPAQUE for v in values):
        return None  # a container the flow types: its items are read there
    if not values and method not in _DISTINCT_SESSION_METHODS and not (
        _session_named(carrier) or _session_named(carrier.removesuffix("s"))
    ) and not any(
        v.kind == INSTANCE and flow.elements(frozenset({v})) for held in flow.env(fid).values() for v in held
    ):
        # an untyped container's item is judged by its name; one built from the Session is not, nor
        # one the function may have made out of a context value carrying the Session (`dict(deps)`,
        # `[x for x in ctx]`)
        return None
    return container, method


def app_state_name(flow: Flow, fid: FunctionId, name: str) -> tuple[str, ...] | None:
    """The attributes after `app.state` that local or parameter `name` of `fid` stands for:
    `bus = request.app.state.bus` (its one binding), or `bus=Depends(get_bus)` where `get_bus`
    returns `request.app.state.bus` on every path. ("bus",), or None."""
    project = flow.project
    _, function = project.functions[fid]
    bound = [b.expr for b in function.bindings if b.name == name]
    if bound:
        if len(bound) != 1 or any(b.entered for b in function.bindings if b.name == name):
            return None
        expressions = bound
        owner = fid
    else:
        param = next((p for p in function.params if p.name == name), None)
        target = project.resolve(param.depends) if param is not None and param.depends else None
        if target is None or target.kind != "function" or target.module is None or not target.function:
            return None
        owner = (target.module.name, target.function.key)
        if owner not in project.functions:
            return None
        expressions = list(project.functions[owner][1].returned)
    if len(set(expressions)) != 1 or not expressions[0].startswith("$") or "(" in expressions[0]:
        return None
    head, steps = split(expressions[0])
    if steps[:2] != (".app", ".state") or len(steps) < 3:
        return None
    if owner != fid and not flow.request_param(owner, head[1:]):
        return None
    return tuple(step[1:] for step in steps[2:])


def _app_state_steps(flow: Flow, fid: FunctionId, expression: str) -> tuple[str, ...] | None:
    """The steps after `app.state` that `expression` reads (`request.app.state.repo.count`,
    `app.state.repo.count`, `bus.count` for `bus = request.app.state.bus`): (`.repo`, `.count`),
    or None when it reads no application state."""
    head, steps = split(expression)
    if head.startswith("$") and not steps[:2] == (".app", ".state"):
        path = app_state_name(flow, fid, head[1:])
        if path is not None:
            head, steps = "$request", (".app", ".state", *(f".{a}" for a in path), *steps)
    if head.startswith("$") and steps[:2] == (".app", ".state"):
        return steps[2:]
    if not head.startswith("$") and not steps and ".state." in head:
        return tuple(f".{part}" for part in head.partition(".state.")[2].split("."))  # `app.state.repo.count`
    return None


def app_state_assigned(flow: Flow, fid: FunctionId, expression: str) -> list[tuple[FunctionId, str]]:
    """What the project assigns to the application's state attribute `expression` reads
    (`request.app.state.wakeup`, `app.state.wakeup`, `wakeup` for `wakeup =
    request.app.state.wakeup`): each (assigning function, expression assigned), from the
    assignments on the application (`app.state.wakeup = asyncio.Event()` in the lifespan)."""
    rest = _app_state_steps(flow, fid, expression)
    if rest is None or len(rest) != 1 or "()" in rest:
        return []
    return _assigned_to_state(flow, fid, rest[0][1:])


def _assigned_to_state(flow: Flow, fid: FunctionId, attribute: str) -> list[tuple[FunctionId, str]]:
    """`app_state_assigned` for the application's state attribute `attribute`, read from `fid`."""
    return [
        (holder, assigned)
        for holder, written, assigned, _line in flow.state_assignments().get(attribute, [])
        if assigned != facts.UNSPELLED and flow._state_owner(holder, written) == "app"
    ] + [
        # `app.state.config = AppConfig()` at import: spelled absolute, read from `fid` alike
        (fid, assigned) for _path, assigned, _line in flow.module_state_assignments().get(attribute, [])
    ]


def app_state_methods(flow: Flow, fid: FunctionId, expression: str) -> tuple[str, list[FunctionId]] | None:
    """`request.app.state.repo.count`, `app.state.repo.count`: a method called on what the project
    keeps in the application's state (`app.state.repo = Repo()` in a startup or lifespan
    function): (where it is assigned, as `path:line`, the methods the kept values may run), or
    None when the expression reads no such attribute or the project assigns it nowhere."""
    rest = _app_state_steps(flow, fid, expression)
    if rest is None or len(rest) < 2 or "()" in rest:
        return None
    # `request.app.state.server.users.create()`: the attributes between the kept object and the
    # method (a service locator holding its managers) are read on the kept object's class
    attribute, through, method = rest[0][1:], [step[1:] for step in rest[1:-1]], rest[-1][1:]
    where: str | None = None
    methods: list[FunctionId] = []

    def read(holder: FunctionId, values: Values, at: str) -> str | None:
        for step in through:
            values = flow._attribute(frozenset(v for v in values if v.kind == INSTANCE), step, holder)
        for value in values:
            if value.kind == INSTANCE and isinstance(value.target, str):
                found, _ = flow.classes.method(value.target, method)
                methods.extend(m for m in found if m not in methods)
                return at
        return None

    for holder, written, assigned, line in flow.state_assignments().get(attribute, []):
        if flow._state_owner(holder, written) != "app" or assigned == facts.UNSPELLED:
            continue
        where = read(holder, flow.evaluate(holder, assigned), f"{flow.project.functions[holder][0].path}:{line}") or where
    for path, assigned, line in flow.module_state_assignments().get(attribute, []):
        where = read(fid, flow.evaluate(fid, assigned), f"{path}:{line}") or where
    return (where, methods) if where is not None else None


_BUILTIN_NAMES = frozenset(dir(builtins))


# Session methods a client kept on the application's state rarely names (`get`, `delete`, `close`
# and `begin` are as much an HTTP client's or a cache's): called on the kept object itself, not
# awaited, one may be a Session's or a `scoped_session` registry's
_KEPT_SESSION_METHODS = _DISTINCT_SESSION_METHODS | {"execute", "commit", "rollback", "flush", "refresh"}


def _kept_attribute(
    flow: Flow, fid: FunctionId, receiver: str, method: str, awaited: bool
) -> tuple[str, str] | None:
    """The attribute of the application's state a Session method `method` on `receiver` works
    on, itself (`request.app.state.db.execute`) or through what calling it gives (`with
    request.app.state.maker() as s: s.execute`), when the flow reads no value there, with the
    expression `receiver` stands for (its one binding, for a local); else None."""
    if method not in SESSION_IO_METHODS:
        return None
    expression = receiver
    if receiver.startswith("$") and "." not in receiver and "(" not in receiver:
        bound = [b.expr for b in flow.project.functions[fid][1].bindings if b.name == receiver[1:]]
        if len(bound) != 1 or bound[0] == facts.UNSPELLED:
            return None
        expression = bound[0]
    if ".state." not in expression or flow.evaluate(fid, receiver):
        return None
    called = expression.endswith("()")
    # a method on the kept object itself: a client's `get` as likely as a Session's, and an awaited
    # one a coroutine's
    if not called and (method not in _KEPT_SESSION_METHODS or awaited):
        return None
    rest = _app_state_steps(flow, fid, expression.removesuffix("()"))
    if rest is None or len(rest) != 1 or "()" in rest or "(" in rest[0]:
        return None
    return rest[0][1:], expression


def _kept_assignments(flow: Flow, fid: FunctionId, attribute: str) -> list[tuple[str, FunctionId, str, int]]:
    """Where the project assigns the application's state `attribute`: (path, the assigning
    function, or `fid` for an assignment at import, the expression, line)."""
    return [
        (flow.project.functions[holder][0].path, holder, value, line)
        for holder, written, value, line in flow.state_assignments().get(attribute, [])
        if flow._state_owner(holder, written) == "app"
    ] + [(path, fid, value, line) for path, value, line in flow.module_state_assignments().get(attribute, [])]


def unread_app_state(flow: Flow, fid: FunctionId, receiver: str, method: str, awaited: bool = False) -> str | None:
    """`with request.app.state.maker() as s: s.execute(...)`, `request.app.state.registry.execute(...)`
    (`app.state.*` alike): a Session method called on what the application's state keeps, or on
    what calling it gives, when the project assigns that attribute from something the analysis
    cannot read (`app.state.maker = build_maker()` on a library's function): it may be a
    sessionmaker or a registry. A method on the kept object itself counts when it is no client's
    too (`execute`, `commit`, `query`; not `get`) and is not awaited. Where it is assigned, as
    `set at path:line (`expression`) from what the analysis cannot read`, or None."""
    kept = _kept_attribute(flow, fid, receiver, method, awaited)
    if kept is None:
        return None
    for path, holder, value, line in _kept_assignments(flow, fid, kept[0]):
        if value != facts.UNSPELLED and flow.evaluate(holder, value):
            continue
        callee = split(value)[0] if value != facts.UNSPELLED else ""
        if callee and (
            flow.project.canonical(callee) in NON_SESSION_CLASSES
            or callee.removeprefix("builtins.") in _BUILTIN_NAMES  # `app.state.cache_factory = dict`
        ):
            continue
        written = f" (`{describe(value)}`)" if value != facts.UNSPELLED else ""
        return f"set at {path}:{line}{written} from what the analysis cannot read"
    return None


def unset_app_state(flow: Flow, fid: FunctionId, receiver: str, method: str, awaited: bool = False) -> str | None:
    """As `unread_app_state`, for an attribute of the application's state the project assigns
    nowhere the analysis reads (a plugin's, the tests', a `setattr` under a computed name):
    `request.app.state.db.execute(...)`, `with app.state.maker() as s: s.execute(...)` on an
    application built at import. The words saying so, or None (an attribute assigned anywhere,
    a state that is no application's)."""
    kept = _kept_attribute(flow, fid, receiver, method, awaited)
    if kept is None or _kept_assignments(flow, fid, kept[0]):
        return None
    attribute, expression = kept
    if expression.endswith("()") and method not in _KEPT_SESSION_METHODS and not (
        _session_named(attribute) or (receiver[:1] == "$" and "." not in receiver and _session_named(receiver[1:]))
    ):
        # `with request.app.state.http() as client: client.get(url)`: as on the kept object itself,
        # a method an HTTP client has too (`get`, `close`) counts only on a name that says Session
        return None
    head = split(expression.removesuffix("()"))[0]
    if not head.startswith("$") and ".state." in head and not flow.module_application(head.partition(".state.")[0]):
        return None  # `machine.state.runner`: a module-level object's own `state`
    return f"`{attribute}`, which the project sets nowhere the analysis reads (a plugin, the tests, a `setattr`)"


def app_attribute(flow: Flow, fid: FunctionId, expression: str) -> str | None:
    """`request.app.container.repo().count`: a call through an attribute the project sets on the
    application (not FastAPI's own, not `state`), as written; None for anything else."""
    head, steps = split(expression)
    if head.startswith("$"):  # `c = request.app.container` first: the local stands for the path
        _, function = flow.project.functions[fid]
        bound = [b.expr for b in function.bindings if b.name == head[1:] and not b.entered]
        if len(bound) == 1 and bound[0].startswith("$") and "(" not in bound[0]:
            inner, more = split(bound[0])
            head, steps = inner, more + steps
    if not head.startswith("$") or len(steps) < 3 or steps[0] != ".app" or steps[1] == "()":
        return None
    if steps[1][1:] in APPLICATION_ATTRIBUTES or not flow.request_param(fid, head[1:]):
        return None
    return describe(head + steps[0] + steps[1])


# What an engine's connection is entered from (`with engine.connect() as conn`): engine work
# (AM306), not a Session.
_CONNECTION_SOURCES = frozenset({"connect", "begin", "raw_connection"})


def untyped_entered(flow: Flow, fid: FunctionId, expression: str) -> facts.Binding | None:
    """`s.scalars` where `s` is bound only by `with X() as s` and nothing types X: the `with`
    binding (its expression `facts.UNSPELLED` when the notation cannot spell it), else None.

    `with REGISTRY["default"]() as s`, `with request.app.state.sessionmaker() as s`. As for
    `untyped_carrier`, a Session method that names little else counts on any such name, the
    others only when the name or what it is entered from is named like a Session; an engine's
    connection is not one.
    """
    method = expression.rpartition(".")[2]
    if method not in SESSION_IO_METHODS or not expression.startswith("$"):
        return None
    head, steps = split(expression)
    if len(steps) != 1:
        return None
    name = head[1:]
    _, function = flow.project.functions[fid]
    bound = [b for b in function.bindings if b.name == name]
    # `db = request.app.state.sessionmaker()` (or `maker()` for `maker = request.app.state.sessionmaker`)
    # opens a Session as the `with` form does, only without closing it
    states = {b.expr: _state_opened(flow, fid, b.expr) for b in bound if not b.entered}
    if not bound or not all((b.entered and not b.asynchronous) or states.get(b.expr) for b in bound):
        return None
    if any(p.name == name for p in function.params) or flow.env(fid).get(name):
        return None
    connection = False
    for binding in bound:
        if binding.expr == facts.UNSPELLED or states.get(binding.expr):
            continue
        source, source_steps = split(binding.expr)
        if not source.startswith("$") or source_steps[-1:] != ("()",):
            return None  # a reference: module-level values and third-party calls are typed elsewhere
        attributes = [step[1:] for step in source_steps if step != "()"]
        if attributes and attributes[-1] in _CONNECTION_SOURCES:
            # an engine's connection, typed where the engine is; but one the application's state
            # keeps and the analysis cannot type (`request.app.state.engine.connect()`, the tests
            # swap it) may be a synchronous engine's: its statements are as unverified
            if source_steps[-2:] == (f".{attributes[-1]}", "()") and _app_state_steps(
                flow, fid, describe_steps(source, source_steps[:-2])
            ) is not None:
                connection = True
                continue
            return None
    named = connection or _session_named(name) or any(
        _session_named(split(binding.expr)[1][-2][1:])  # `...state.sessionmaker()`, `...get_db()`
        for binding in bound if binding.expr != facts.UNSPELLED and len(split(binding.expr)[1]) >= 2
    ) or any(_session_named(kept) for kept in states.values() if kept)
    if method not in _DISTINCT_SESSION_METHODS and not named:
        return None
    return bound[0]


def describe_steps(head: str, steps: tuple[str, ...]) -> str:
    """An expression from its head and steps, as `split` took it apart."""
    return head + "".join(steps)


def _state_opened(flow: Flow, fid: FunctionId, expression: str) -> str | None:
    """The attribute of the application's (or request's) state a call opens from:
    `request.app.state.sessionmaker()`, `request.state.maker()`, or `maker()` for a local (or a
    `Depends`) standing for `request.app.state.sessionmaker`; None for anything else."""
    if expression == facts.UNSPELLED or not expression.startswith("$"):
        return None
    head, steps = split(expression)
    if steps[-1:] != ("()",) or "()" in steps[:-1]:
        return None
    if steps == ("()",):
        path = app_state_name(flow, fid, head[1:])
        return path[0] if path is not None and len(path) == 1 else None
    if not flow.request_param(fid, head[1:]):
        return None
    if len(steps) == 4 and steps[:2] == (".app", ".state"):
        return steps[2][1:]
    if len(steps) == 3 and steps[0] == ".state":
        return steps[1][1:]
    return None


def untyped_session(flow: Flow, fid: FunctionId, expression: str) -> bool:
    """A value on an untyped carrier named like a Session: `request.state.db`, `g.session`."""
    if not _session_noun(expression.rpartition(".")[2].lstrip("$")):
        return False  # cheap first: most arguments are not named like a Session
    if not expression.startswith("$") and (
        flow.project.is_async_session_type(expression) or flow.project.is_sync_session_type(expression)
        or flow.classes.resolve(expression) is not None
    ):
        return False  # the class itself (`isinstance(db, AsyncSession)`, `class_=Session`), no Session
    steps = _steps(flow, fid, expression)
    if steps is None or not steps[1] or not _session_noun(steps[1][-1][1:]):
        return False
    return untyped_path(flow, fid, *steps)


def untyped_path(flow: Flow, fid: FunctionId, head: str, steps: tuple[str, ...]) -> bool:
    """Attributes (one or more, no calls) whose value the analysis cannot type.

    Never an attribute a project class declares or assigns: its type is then known,
    and it is not a Session.
    """
    if not steps or "()" in steps:
        return False
    if _describes_database(flow, fid, head, steps):
        return False
    if steps[0] == ".sync_session" and flow.project.behind_async_session(fid, head + steps[0]) is not None:
        return False  # the Session behind the function's AsyncSession: typed (`check` judges it, AM314)
    module = flow.project.modules.get(head)
    if module is not None and len(steps) == 1 and steps[0][1:] in module.collections:
        return False  # `SessionLocals.get(tenant)` on a module-level dict: a dict method
    if steps[0][1:] == REQUEST_SESSION and head.startswith("$") and _handed_request(flow, fid, head[1:], flow.project.all_calls_to):
        return False  # `request.session.get("uid")`: Starlette's cookie session, a dict
    values = flow.evaluate(fid, head)
    if values and all(v.kind in (INSTANCE, CLASS) and _literal_table(flow, v.target, steps[0][1:]) for v in values):  # type: ignore[arg-type]
        return False  # `self.KEY_MAP.get(k)` on a class-level table of literals: a dict method
    path = head
    for number, step in enumerate(steps, 1):
        known = any(v.kind in (INSTANCE, CLASS) and flow.knows_attribute(v.target, step[1:]) for v in values)  # type: ignore[arg-type]
        path += step
        if known and number == len(steps):
            return False
        values = flow.evaluate(fid, path)
        if known and values:
            continue
        if known and _session_step(steps[number:]):
            # `service.repo.session`: a project class assigns `repo`, but to an object the flow
            # cannot read (its class imported from outside PATH, built by a factory the index
            # cannot resolve): what that object keeps is untyped, never "no Session"
            continue
        if known:
            return False
    return (
        not values and not _async_maker(flow, path) and not _context_variable_value(flow, path)
        and not _library_client(flow, path)
    )


def _session_step(steps: tuple[str, ...]) -> bool:
    """Whether attribute steps past an object the flow cannot read name a Session (`.session`,
    `.db`), so an unread object between a project class and it is worth a word."""
    return bool(steps) and _session_noun(steps[-1][1:])


def _literal_table(flow: Flow, cls: str, name: str) -> bool:
    """Whether `name` on an object of `cls` (or of any subclass) is the class-level table of
    literals its class body binds (`facts.ClassFacts.literal_tables`), which no method assigns."""
    classes = flow.classes
    if cls not in classes.by_ref:
        return False
    for kind in (cls, *classes.subclasses(cls)):
        owner = next((c for c in classes.mro(kind) if c in classes.by_ref and name in classes.by_ref[c][1].names), None)
        if owner is None or name not in classes.by_ref[owner][1].literal_tables:
            return False
        if any((c, name) in classes.assigned or (c, name) in classes.declared for c in classes.mro(kind)):
            return False
    return True


def _describes_database(flow: Flow, fid: FunctionId, head: str, steps: tuple[str, ...]) -> bool:
    """`engine.url.database`, `db.bind.dialect.name`, `url.database` on `url = engine.url`: read
    through what describes an engine's database (`DESCRIPTIVE_ATTRIBUTES`), a string or a
    setting, whatever holds it; a Session is never one."""
    if any(step[1:] in DESCRIPTIVE_ATTRIBUTES for step in steps[:-1]):
        return True
    if not head.startswith("$"):
        return False
    _, function = flow.project.functions[fid]
    bound = [b.expr for b in function.bindings if b.name == head[1:]]
    return bool(bound) and all(
        not b.endswith(")") and b.rpartition(".")[2] in DESCRIPTIVE_ATTRIBUTES for b in bound
    )


def _library_client(flow: Flow, path: str) -> bool:
    """A module-level instance of another library's client (`session = requests.Session()`, `db =
    redis.Redis()`): typed, and no Session, though the flow holds no value for it."""
    target = flow.project.resolve(path)
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and value.kind == "call" and flow.project.canonical(value.ref) in NON_SESSION_CLASSES


def arguments_to(call: facts.Call, positional: list[str], name: str) -> list[facts.Arg]:
    """The arguments of call bound to parameter `name`: by keyword, or by position among the
    callee's `positional` parameters (without `self`/`cls` for a method called on an object)."""
    return [
        a for a in call.args
        if a.keyword == name or (
            a.keyword is None and a.position is not None and a.position < len(positional)
            and positional[a.position] == name
        )
    ]


def _handed_request(
    flow: Flow, fid: FunctionId, name: str, calls_to: Mapping[FunctionId, list[Edge]], depth: int = 0
) -> bool:
    """Whether parameter `name` holds the request: declared so (`declared_request_param`), or a
    helper's parameter every call in `calls_to` hands the request its caller holds
    (`remember(request, db)`)."""
    if flow.declared_request_param(fid, name):
        return True
    _, function = flow.project.functions[fid]
    params = [p for p in function.params if not p.variadic]
    param = next((p for p in params if p.name == name), None)
    edges = calls_to.get(fid, [])
    if depth > 4 or param is None or param.annotation or param.depends or not edges:
        return False
    positional = [p.name for p in params if p.positional]
    if positional[:1] in (["self"], ["cls"]):
        positional = positional[1:]
    for edge in edges:
        passed = arguments_to(edge.call, positional, name)
        if len(passed) != 1 or passed[0].name is None or passed[0].expr is not None:
            return False
        if not _handed_request(flow, edge.caller, passed[0].name, calls_to, depth + 1):
            return False
    return True


def _context_variable_value(flow: Flow, path: str) -> bool:
    """A module-level `ContextVar(...)` known to hold the request's Session: its `get()` is the
    variable's, whose result the flow types, no Session's `get`. One whose contents the flow cannot
    tell (set to a Session in one place and an AsyncSession in another) stays untyped: its `get()`
    is the one sign that something may be a Session."""
    target = flow.project.resolve(path)
    value = target.value if target is not None and target.kind == "value" else None
    return (
        value is not None and value.kind == "call" and flow.project.canonical(value.ref) in CONTEXT_VARIABLES
        and bool(flow.context_variable(path))
    )


def _async_maker(flow: Flow, path: str) -> bool:
    """A module-level `async_sessionmaker(...)` or `sessionmaker(..., class_=AsyncSession)`
    (`database.async_session.begin()`): typed, and no
    synchronous Session, though the flow holds no value for it (phase two writes this form itself)."""
    target = flow.project.resolve(path)
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and flow.project.makes_async_sessions(value)


def _steps(flow: Flow, fid: FunctionId, expression: str) -> tuple[str, tuple[str, ...]] | None:
    """An expression's head and steps, a reference split after its module (`flask.g` +
    `.db.query`), a local bound to a path replaced by that path."""
    head, steps = split(expression)
    if head.startswith("$") and len(steps) <= 1:
        _, function = flow.project.functions[fid]
        bound = [b.expr for b in function.bindings if b.name == head[1:] and not b.entered]
        if len(bound) == 1 and "(" not in bound[0] and not bound[0].startswith("super()"):
            # `s = request.state.db`, also `s = main.app.state.db` (a module-level path)
            inner, more = split(bound[0])
            head, steps = inner, more + steps
    if not head.startswith(("$", "super()")) and all(step.startswith(".") and step != "()" for step in steps):
        parts = head.split(".")
        cut = next((n for n in range(len(parts) - 1, 0, -1) if ".".join(parts[:n]) in flow.project.modules), 1)
        head, steps = ".".join(parts[:cut]), tuple(f".{part}" for part in parts[cut:]) + steps
    return head, steps


# Asked of every argument of every call not awaited (`untyped_session`): the same few names.
@lru_cache(maxsize=65536)
def _session_noun(name: str) -> bool:
    """A value handed on named for a Session: its last word is one (`db`, `session`,
    `db_session`, `dbSession`). In a compound name the last word says what the value is and the
    others what it belongs to: `SESSION_SECRET`, `session_id`, `AIOHTTP_CLIENT_SESSION_SSL`,
    `DB_NOT_SQLITE` or `db_url` is a setting of one, handed everywhere, never the Session."""
    words = [w for w in re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    return bool(words) and words[-1].lower() in ("session", "db", "database")


def _session_named(name: str) -> bool:
    name = name.lower()
    return "session" in name or name in ("db", "database") or name.startswith("db_") or name.endswith("_db")
