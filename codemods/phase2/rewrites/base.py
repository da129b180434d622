"""What a phase-two call rewrite is: a kind, the action the planner records, the unit that
chooses it for a call and edits that call with libcst."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Final

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import Derived

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.inline_sessions import Inline
    from async_migrate.codemods.phase2.plan import FilePlan, StackNames


class CallKind(Enum):
    AWAIT = "await"  # a coroutine method of the Session, or of an object it hands out: awaited
    BEGIN = "begin"  # a Session context method (`begin()`): `async with`, else awaited
    RUN_SYNC = "run_sync"  # a method AsyncSession lacks (`bulk_save_objects`): through `await s.run_sync(...)`
    QUERY = "query"  # a legacy `session.query(...)` chain: its 2.0 form
    QUERY_KEPT = "query_kept"  # `q = session.query(...)`: the `select()` it stands for
    QUERY_GROW = "query_grow"  # `q = q.filter(...)` on such a name: the `select()` methods
    QUERY_RUN = "query_run"  # `q.all()` on such a name: the `select()` run on the session, awaited
    HELPER = "helper"  # a migrated project function: awaited, under its twin's name if it has one
    ENTER = "enter"  # `with session_scope() as s`: `async with` its `@asynccontextmanager` twin
    UNWRAP = "unwrap"  # `run_in_threadpool(helper, s)` of a migrated helper: `helper(s)`
    UNWRAP_LAMBDA = "unwrap_lambda"  # `run_in_threadpool(lambda: helper(s))`: `helper(s)`
    MAP = "map"  # a configured call mapping (`paginate`): its async counterpart, awaited
    OPEN = "open"  # a Session opened from the sync sessionmaker: the async one, `async with`
    OPEN_ON_ENGINE = "open_on_engine"  # `Session(engine)` in a `with`: `AsyncSession(async_engine)`
    CAST = "cast"  # `cast(Session, db)` of the Session: `cast(AsyncSession, db)`


@dataclass(slots=True)
class CallAction:
    kind: CallKind
    rename: str | None = None  # new name for the called function (last segment); query: the session
    add_await: bool = True
    mapped: tuple[str, ...] = ()  # query: dotted names holding a mapped class (`self.model`)
    engine: str | None = None  # open on engine: the async engine's local name
    # open on engine: the class called was a project Session subclass, kept as `sync_session_class=`
    sync_class: bool = False
    query: str | None = None  # query run: the kept name's `session.query(...)` call as written
    # query: the local names of `select`, `func`, `delete`, `update` the statement is written with,
    # imported by the module or by the plan (canonical -> local), and whether its `select` is
    # SQLModel's, run with `exec()` for objects
    names: tuple[tuple[str, str], ...] = ()
    sqlmodel: bool = False
    # helper: the helper imported inside the function (`from crud import get_book` in its body):
    # how such an import may spell the module (absolute, relative), and the name it imports,
    # which the import then binds the twin beside
    local_import: tuple[tuple[str, ...], str] | None = None
    # unwrap lambda: the index of the offloading call the edit replaces (the planned call is the
    # lambda's body, which the rewrite of nested scopes never edits)
    at: int | None = None


class Leave:
    """The type of LEAVE."""

    def __repr__(self) -> str:
        return "LEAVE"


# A unit's answer for a call it recognises and leaves as written: no later unit may take it
# (`Repo(db)` builds an object, `db.query(...)` inside a chain is rewritten with the chain).
LEAVE: Final = Leave()


@dataclass(slots=True)
class FunctionSite:
    """A migrated function being planned, and what every unit may read about it."""

    project: Project
    fid: FunctionId
    module: facts.Module
    function: facts.Function
    file: FilePlan  # imports added and dropped for the whole file
    stack: StackNames
    names: set[str]  # the function's Session names
    derived: dict[str, Derived]  # names bound to a transaction or connection of the Session
    edges: dict[int, Edge]  # call index -> the project function it runs
    opened: dict[int, facts.SessionOpen]  # line -> a Session opened straight from a sessionmaker
    migrated: set[FunctionId]
    twins: dict[FunctionId, str]
    mappings: dict[str, str]  # call mappings: sync callee -> async callee
    # call index -> a `with Session(engine) as s:` that moves (phase2/inline_sessions.py)
    inline: dict[int, Inline] = field(default_factory=dict)
    # path -> the plan of another file, for a unit that must add imports there (a re-export)
    files: dict[str, FilePlan] = field(default_factory=dict)

    def file_of(self, path: str) -> FilePlan:
        if path == self.module.path:
            return self.file
        from async_migrate.codemods.phase2.plan import FilePlan

        return self.files.setdefault(path, FilePlan())

    def imported_as(self, source: str, name: str) -> str | None:
        return imported_as(self.module, source, name)

    def unused(self, ref: str) -> None:
        unused(self.file, self.module, ref)


class CallRewrite:
    """One kind of call rewrite (or a few that share their choice): how the planner chooses it
    for a call, and how the rewrite edits that call."""

    kinds: ClassVar[tuple[CallKind, ...]]  # the kinds whose edit this unit owns

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        """The action for `call`, LEAVE for a call this unit keeps as written, None for a call
        that is not this unit's (the next unit is asked). May add imports to `site.file`."""
        raise NotImplementedError

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        """`call` rewritten; `in_with`: the call is a `with` item. Imports it needs go to `imports`."""
        raise NotImplementedError

    def async_with(self, action: CallAction) -> bool:
        """Whether a `with` holding this call as an item becomes `async with`."""
        return False


def awaited(call: cst.Call) -> cst.Await:
    """`await call`, with the call's own parentheses around the whole."""
    return cst.Await(expression=call.with_changes(lpar=(), rpar=()), lpar=call.lpar, rpar=call.rpar)


def renamed(func: cst.BaseExpression, name: str | None) -> cst.BaseExpression:
    """`func` calling `name` instead: the last segment of an attribute, or the name."""
    if name is None:
        return func
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(name))
    if isinstance(func, cst.Name):
        return func.with_changes(value=name)
    return func


def re_export_chain(project: Project, via: str, written: str, home: str, name: str) -> list[tuple[str, str]] | None:
    """The modules that re-export `home.name` to `via.written` (`app.crud.restock` for
    `app.crud.crud_item.restock`, also under another name): (module path, the module its import
    names) for each, to import a twin beside the original; [] when `via` is `home`, None when the
    chain does not lead there by imports alone."""
    module, local = project.modules.get(via), written
    found: list[tuple[str, str]] = []
    while module is not None and module.name != home and len(found) < 10:
        source, _, imported = module.imports.get(local, "").rpartition(".")
        if not source:
            return None  # defined there, not imported: not a re-export a twin can follow
        found.append((module.path, source))
        module, local = project.modules.get(source), imported
    return found if module is not None and module.name == home and local == name else None


def imported_as(module: facts.Module, source: str, name: str) -> str | None:
    """The local name under which the module imports `source.name`, or None."""
    for local, ref in module.imports.items():
        if ref == f"{source}.{name}":
            return local
    return None


def unused(plan: FilePlan, module: facts.Module, ref: str) -> None:
    """Note an import the rewrite may leave unused; it is removed only if it is."""
    for local, imported in module.imports.items():
        if imported == ref:
            source, _, name = ref.rpartition(".")
            if source:
                plan.maybe_unused.add((source, name, None if local == name else local))
        elif ref.startswith(imported + ".") and "." not in imported and local != "*":
            # `import asyncio` for `asyncio.to_thread`: the module import ("" for no name)
            plan.maybe_unused.add((imported, "", None if local == imported else local))
        elif ref.startswith(imported + ".") and local != "*":
            # `from . import deps` (or `import app.deps as deps`) for `deps.get_db`: whichever
            # statement it is; the other names nothing
            source, _, name = imported.rpartition(".")
            plan.maybe_unused.add((source, name, None if local == name else local))
            plan.maybe_unused.add((imported, "", None if local == imported else local))
