"""Attributes a commit expires, read afterwards: MissingGreenlet under AsyncSession.

A commit on an expiring sessionmaker (AM248), the flush of a change to a column the database
computes (AM249), a rollback or `expire()` (AM261) expire attributes that synchronous code
reloads silently when read; under AsyncSession the read is implicit IO. Where an async stack
keeps what the synchronous one reloaded, the read is stale instead (AM259). `analyse` plans the
refreshes that fix a migrated function, or blocks it.

Over 500 lines: `analyse` decides per name and commit point, with the model facts it needs
(`Models`: mapped classes, server-generated columns); reads through other names and lists are
in `expired_lists`, what helpers return in `expired_helpers`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import cast

from async_migrate.codemods import facts, sources
from async_migrate.codemods.astcollect.syntax import own_nodes, returned_values
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import describe, mentions
from async_migrate.codemods.held_commits import commits_held
from async_migrate.codemods.held_session import SYNC
from async_migrate.codemods.phase2 import (
    dependency_objects,
    expired_held,
    expired_helpers,
    expired_lists,
    expired_related,
    helper_expiry,
    no_object,
    rolled_back,
    wrapper_commits,
)
from async_migrate.codemods.phase2.bound import bound_after, raised_after
from async_migrate.codemods.phase2.partial_refresh import is_partial, partial_refresh
from async_migrate.codemods.phase2.stack_source import UNREAD
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules import Rule
from async_migrate.codemods.rules.am248_expired_after_commit import RULE as AM248
from async_migrate.codemods.rules.am249_server_generated_read import RULE as AM249
from async_migrate.codemods.rules.am259_stale_after_commit import RULE as AM259
from async_migrate.codemods.rules.am261_expired_after_rollback import RULE as AM261
from async_migrate.codemods.vocabulary.sqlmodel import BUILDERS as SQLMODEL_BUILDERS


# Query results that are one instance (or None): `.first()`, `db.get(...)`, `db.scalar(...)`.
class Held(Enum):
    """What a name holds, as far as expiry goes."""

    ONE = "one"  # an instance of the Session: refreshed after the commit
    MAYBE = "maybe"  # the same, or None (`get`, `one_or_none()`)
    PARAM = "param"  # a parameter that may be an ORM instance: not refreshable there
    MANY = "many"  # a list of objects, or rows: not refreshable one by one
    EACH = "each"  # a list of instances its own query loaded: refreshed one by one
    UNKNOWN = "unknown"  # the result of a call given the Session
    NONE = "none"  # no ORM instance
    ADDED = "added"  # an object of a class not shown mapped, given to `add()`/`add_all()` only on some paths


_DESCRIBED = {
    Held.PARAM: "a parameter",
    Held.MANY: "a list phase two cannot show holds only objects its own query loaded",
    Held.UNKNOWN: "the result of a call",
    Held.ADDED: (
        "an object the Session takes only on some paths (`add()` inside a compound statement, or `add_all()` "
        "of a list that may no longer hold it)"
    ),
}
_ONE = frozenset({"one", "scalar_one"})
_COUNTS = frozenset({"update", "delete", "count"})
_ONE_OR_NONE = frozenset({"first", "one_or_none", "scalar_one_or_none", "scalar", "get"})
_MAPPED_BASES = frozenset({
    "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlmodel.SQLModel", "sqlmodel.main.SQLModel",
})
_UPDATE_GENERATED = frozenset({"onupdate", "server_onupdate"})
_COLUMN_CALLS = frozenset({"mapped_column", "Column", "Field", "column_property"})
# Session methods that expire objects whatever expire_on_commit says.
_EXPIRES = frozenset({"rollback", "expire", "expire_all"})


@dataclass(frozen=True, slots=True)
class Refresh:
    """`await session.refresh(name)` after the statement holding call `call` (by index); with
    `each`, a loop over the list `name` refreshing each object the Session still holds; with
    `attributes`, `attribute_names=[...]` loading those relationships (`built_refresh`)."""

    call: int
    session: str
    name: str
    maybe_none: bool
    each: str = ""  # the loop variable (a name the module never uses)
    attributes: tuple[str, ...] = ()
    # Built here and not visibly added: only refreshed while the Session holds it (a cascade may
    # have put it there; refreshing an object it does not hold raises InvalidRequestError).
    if_held: bool = False
    # `name` is bound to what the statement returns (`return helper(db, obj)` -> `name = ...`,
    # the refresh, `return name`: `committed_refresh`)
    returned: bool = False

    def awaited(self) -> str:
        """`await session.refresh(name)`, with its `attribute_names=` when it has them."""
        names = ", ".join(f'"{a}"' for a in self.attributes)  # relationship names: identifiers
        given = f", attribute_names=[{names}]" if names else ""
        return f"await {self.session}.refresh({self.name}{given})"


@dataclass(frozen=True, slots=True)
class ExpiredRead:
    rule: Rule
    line: int
    message: str


@dataclass(slots=True)
class Expiry:
    """What a commit expires on the async stack the migrated code will use."""

    on_commit: bool  # the async sessionmaker expires every object on commit
    where: str = ""  # the sessionmaker that does, for reasons (`db/engine.py:12`)
    models: Models | None = None
    # The synchronous sessionmaker expired on commit and the generated async one does not
    # (where the synchronous one is): a read after a commit reloaded the row, so it must
    # still, or it returns what the object held before (a bulk UPDATE, raw SQL).
    reloaded: str = ""


@dataclass(slots=True)
class Analysis:
    refreshes: list[Refresh] = field(default_factory=list)
    blocks: list[ExpiredRead] = field(default_factory=list)


class Models:
    """Mapped classes and their server-generated columns, read from the models' source."""

    def __init__(self, project: Project, read: Callable[[str], str] | None) -> None:
        self.project = project
        self.classes = project_classes(project)
        self.read = read
        self._trees: dict[str, ast.Module | None] = {}
        self._generated: dict[str, frozenset[str]] = {}
        self._generating: dict[str, bool] = {}

    def _class_node(self, ref: str) -> ast.ClassDef | None:
        module_name, _, name = ref.rpartition(".")
        module = self.project.modules.get(module_name)
        if module is None or self.read is None:
            return None
        tree = self.tree(module.path)
        if tree is None:
            return None
        return next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name), None)

    def resolve(self, ref: str | None) -> str | None:
        return self.classes.resolve(ref)

    def tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = sources.tree_of(self.read, path) if self.read is not None else None
            except (OSError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def mapped(self, ref: str) -> bool:
        """A class with a table: `__tablename__`/`__table__` in it or a base, `table=True`, or
        mapped imperatively (`registry.map_imperatively(cls, table)`, which `classes` records as
        a name of the class)."""
        if ref not in self.classes.by_ref:
            return False  # no project class: `Task.id` of `select(Task.id)`
        for cls in self.classes.mro(ref):
            if not {"__imperative__", "__table__"}.isdisjoint(self.classes.by_ref[cls][1].names):
                return True
            node = self._class_node(cls)
            if node is None:
                continue
            if any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords):
                return True
            for statement in node.body:
                targets = statement.targets if isinstance(statement, ast.Assign) else (
                    [statement.target] if isinstance(statement, ast.AnnAssign) else []
                )
                if any(isinstance(t, ast.Name) and t.id in ("__tablename__", "__table__") for t in targets):
                    return True
        return False

    def column(self, ref: str) -> bool:
        """Whether `ref` (`app.models.Task.id`) names a plain attribute of a mapped class: one its
        body binds that is no relationship and no descriptor running code when read."""
        owner, _, attribute = ref.rpartition(".")
        cls = self.resolve(owner)
        if cls is None or not self.mapped(cls):
            return False
        chain = [self.classes.by_ref[c][1] for c in self.classes.mro(cls) if c in self.classes.by_ref]
        return any(attribute in c.names for c in chain) and not any(
            attribute in c.relationships or attribute in c.descriptors for c in chain
        )

    def generated(self, ref: str) -> frozenset[str]:
        """Columns of a class (and its bases) whose value the database computes."""
        if ref in self._generated:
            return self._generated[ref]
        found: set[str] = set()
        for cls in self.classes.mro(ref):
            node = self._class_node(cls) if self._may_generate(cls) else None
            if node is not None:
                found |= _generated_columns(node)
                module = self.project.modules.get(cls.rpartition(".")[0])
                tree = self.tree(module.path) if module is not None else None
                if tree is not None:
                    found |= _assigned_generated(tree, node.name)
        self._generated[ref] = frozenset(found)
        return self._generated[ref]

    def _may_generate(self, ref: str) -> bool:
        """Whether the module of class `ref` may declare a column the database computes: every
        one `_generated_columns` finds names one of `_GENERATED_NAMES` in code. Most modules
        holding classes (exceptions, services) are otherwise never parsed, and `any_generated`
        asks of every class; a reader keeping what an analysis read (`run._Reads`) is asked for
        the names alone, so the analysis depends on the file lacking them, not on its tree."""
        module = self.project.modules.get(ref.rpartition(".")[0])
        if module is None or self.read is None:
            return True  # `_class_node` finds nothing there
        found = self._generating.get(module.path)
        if found is None:
            lacks = getattr(self.read, "lacks_names", None)
            try:
                if lacks is not None:
                    found = not lacks(module.path, _GENERATED_NAMES)
                else:
                    text = self.read(module.path)
                    found = not text.isascii() or any(name in text for name in _GENERATED_NAMES)
            except OSError:
                found = True
            self._generating[module.path] = found
        return found

    def deferred(self, ref: str) -> frozenset[str]:
        """Columns of a class (and its bases) that load on their first read: a whole refresh
        leaves them unloaded, loaded or not before it."""
        return frozenset(c for a in self.classes.mro(ref) if a in self.classes.by_ref for c in self.classes.by_ref[a][1].deferred)

    def any_generated(self) -> bool:
        if "*" not in self._generated:
            every: set[str] = set()
            for module in self.project.modules.values():
                for cls in module.classes:
                    every |= self.generated(f"{module.name}.{cls.qualname}")
            self._generated["*"] = frozenset(every)
        return bool(self._generated["*"])


# Every name `_server_generated` and `_sql_expression_property` look for, as written in code
# (`server_onupdate` holds `onupdate`; the keys of `sa_column_kwargs` need that keyword).
_GENERATED_NAMES = ("Computed", "FetchedValue", "column_property", "server_default", "onupdate", "sa_column_kwargs")


def _generated_columns(node: ast.ClassDef) -> set[str]:
    found = set()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name, value = statement.target.id, statement.value
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name, value = statement.targets[0].id, statement.value
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and _declared_attr(statement):
            # a mixin's `@declared_attr def updated_at(cls): return mapped_column(...)` maps
            # what it returns under its name
            if any(_server_generated(v) or _sql_expression_property(v) for v in returned_values(statement)):
                found.add(statement.name)
            continue
        else:
            continue
        if value is not None and (_server_generated(value) or _sql_expression_property(value)):
            found.add(name)
    return found


def _assigned_generated(tree: ast.Module, name: str) -> set[str]:
    """The columns a module-level statement adds to class `name` once it is mapped, which the
    database computes: `Team.hero_count = column_property(select(...).scalar_subquery())`."""
    found = set()
    for statement in tree.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == name and (
            _server_generated(statement.value) or _sql_expression_property(statement.value)
        ):
            found.add(target.attr)
    return found


def _declared_attr(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`@declared_attr`, `@orm.declared_attr`, `@declared_attr.cascading`, as written (the
    class is read from its text here); `.directive` maps no attribute."""
    for decorator in method.decorator_list:
        if isinstance(decorator, ast.Attribute) and decorator.attr == "cascading":
            decorator = decorator.value
        if isinstance(decorator, ast.Name) and decorator.id == "declared_attr":
            return True
        if isinstance(decorator, ast.Attribute) and decorator.attr == "declared_attr":
            return True
    return False


def _sql_expression_property(value: ast.expr) -> bool:
    """`column_property(select(...).scalar_subquery())`, `column_property(a + b)`: a SQL expression
    the INSERT does not return (`expire_on_flush=False` only spares an UPDATE), expired by the
    flush that writes the row. A `column_property(Column(...))` wraps a plain column, which the flush writes."""
    if not isinstance(value, ast.Call) or not value.args:
        return False
    func = value.func
    callee = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
    if callee != "column_property":
        return False
    first = value.args[0]
    inner = first.func if isinstance(first, ast.Call) else None
    wrapped = inner.attr if isinstance(inner, ast.Attribute) else (inner.id if isinstance(inner, ast.Name) else "")
    return wrapped not in ("Column", "mapped_column")


def _server_generated(value: ast.expr) -> bool:
    for node in ast.walk(value):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else (
            node.func.id if isinstance(node.func, ast.Name) else ""
        )
        if callee in ("Computed", "FetchedValue"):
            return True
        if callee not in _COLUMN_CALLS:
            continue
        for keyword in node.keywords:
            if keyword.arg in ("server_onupdate", "server_default"):
                return True
            if keyword.arg == "onupdate" and not _python_side(keyword.value):
                return True
            if keyword.arg == "sa_column_kwargs" and isinstance(keyword.value, ast.Dict):
                keys = {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
                if keys & {"server_onupdate", "server_default", "onupdate"}:
                    return True
    return False


def _python_side(value: ast.expr) -> bool:
    """`onupdate=datetime.now`, `onupdate=lambda: ...`, a literal: computed by Python, and set
    on the object by the flush; a SQL expression (`func.now()`) is not."""
    if isinstance(value, (ast.Lambda, ast.Constant)):
        return True
    if isinstance(value, (ast.Name, ast.Attribute)):
        return True  # a callable named, not called
    return False


def commits(project: Project, fid: FunctionId, seen: set[FunctionId] | None = None) -> bool:
    """Whether a function commits its Session, itself or through project functions it calls."""
    cache = cast("dict[FunctionId, bool]", project.derived.setdefault("phase2.commits", {}))
    if fid in cache:
        return cache[fid]
    seen = seen if seen is not None else set()
    if fid in seen:
        return False
    seen.add(fid)
    _, function = project.functions[fid]
    names = project.session_names(fid)
    found = any(c.receiver in names and c.method == "commit" for c in function.calls)
    if not found:
        found = any(
            edge.callee != fid and any(a.name in names for a in edge.call.args) and commits(project, edge.callee, seen)
            for edge in project.all_calls_from[fid]
        )
    cache[fid] = found
    return found


def analyse(
    project: Project,
    fid: FunctionId,
    expiry: Expiry,
    opened: dict[str, tuple[bool, str]] | None = None,
    received: tuple[bool, str] | None = None,
    sessions: set[str] | None = None,
    unread_return: bool = False,
    twins: Collection[FunctionId] = (),
) -> Analysis:
    """The refreshes to add to one migrated function, or what blocks it.

    `opened`: Sessions the function opens itself on the engine (`with Session(engine) as s`),
    by name: whether they expire on commit and where they are opened; their own keywords decide,
    not the async sessionmaker's, and they expired alike in the synchronous code. `received`: the
    function is handed such a Session that expires (where it is opened), so every Session it works
    on counts as expiring. `sessions`: the names of the Sessions it works on, when not its
    synchronous ones (a route already on the AsyncSession its dependencies' twins join).
    `unread_return`: nothing reads what the function returns (a dependency whose value no route
    uses), so returning an object is no read of it. `twins`: the dependencies moving with the
    route as async twins; what one of them sharing the route's Session returns into a parameter
    (`user: User = Depends(get_current_user)`) is refreshed as a helper's result is
    (`dependency_objects`).

    It finds each commit point (the Session's `commit()`, its `flush()` where server-generated
    columns matter, a call to a project function that commits with the Session) and the objects
    bound before it and read after it (an attribute, an argument, a returned value); a commit
    through an instance holding the Session (a method committing `self.db`, on a repository built
    here or handed in; the end of `with uow:` whose `__exit__` commits; `repo.db.commit()` on a Session
    reached through attributes) is one too, and what it
    expired is refreshed on the Session that loaded or took it (`repo.db`). Where the
    object is clearly one instance of the Session (`Model(...)`, `db.get(Model, ...)`,
    `.first()`, `.one()`, `.scalar_one()` and kin, or whatever a statement of its own body adds to
    the Session before the commit, with `add(obj)` or `add_all([obj])` (`added_before`): `obj =
    cls(**values)`, `self.model(**data)`, a parameter; one added only inside a compound statement,
    or in a list that may no longer hold it, blocks), the fix is planned: `await db.refresh(obj)`
    right after the commit point (behind `if obj is not None:` when the query may find nothing),
    also for what a project function or method given the Session (or a repository built from it
    here) is shown to return (`expired_helpers`): one object it loaded, or the object passed to
    it; a list the Session loaded (or such a helper returned) is refreshed object by object;
    lists, parameters and helpers' results are read through the names of their elements too
    (`expired_lists`). A call given the Session, or a method of a class holding one, whose result
    is not shown counts as maybe an object. Where the object may be an ORM instance but cannot be
    refreshed there (a parameter, rows, a list it changed, a helper's result), the function is
    blocked: AM248 when the sessionmaker expires on commit, AM249 for a server-generated column.

    When the synchronous sessionmaker expired on commit and the async one does not (generated, or
    reused with `expire_on_commit=False`), every such read reloaded the row in the synchronous
    code: it is refreshed the same way, or the function blocked (AM259), unless the key is all it
    reads (`user.id`, also in a project function it is handed to: the value the synchronous
    Session reloaded is the one the async one keeps). Which maker expires is read by
    `stack_source` (a setting it cannot read counts as expiring). `rollback()`, `expire(obj)` and
    `expire_all()` expire whatever the sessionmaker says (also in a helper given the Session:
    `helper_expiry`): a read after them is refreshed the same
    way, or the function blocked (AM261); an object made here (`Model(...)`) is expunged by a
    rollback, not expired. A read past a `raise` that follows the call in its block (`except
    StaleDataError: db.rollback(); raise HTTPException(409)`) never runs after it
    (`bound.raised_after`): no refresh, which would fail on a row deleted meanwhile. Names that
    cannot hold an ORM instance (a pydantic payload, an int) are never reported.

    An object a relationship led to (`owner = item.owner`, `item.owner.name`, `[i.name for i in
    user.items]`) read after a commit that expired it blocks the function: refreshing the object
    holding it does not reload it (`expired_related`), unless the relationship is eager by mapper
    default and that object is refreshed whole there (`_reloaded`: phase two's refresh, the
    function's own, or the helper's that returned it, where nothing changes a loader strategy);
    the response model reading such a relationship on the returned object counts the same way.
    """
    result = Analysis()
    models = expiry.models
    if models is None:
        return result
    opened = dict(opened or {})
    names = sessions if sessions is not None else project.session_names(fid)
    if received is not None:
        # The Session passed in may be the expiring one: what expires then counts, and nothing
        # is stale (the synchronous Session it stands for expired alike).
        expiry = Expiry(True, received[1], models, "")
    expired_held.analyse(project, fid, expiry, result)
    # A rollback and `expire()` expire objects whatever the sessionmaker says.
    # `repo.session.commit()`: a Session reached through attributes of an object the function
    # holds (a repository a dependency built, or built here), which the facts give no receiver
    chained = {
        c.index: (chain, (c.func or "").rpartition(".")[2])
        for c in project.functions[fid][1].calls
        if not c.nested and c.receiver is None and (chain := expired_helpers.session_chain(project, fid, c)) is not None
    }
    # `zero_stock(db, item)` ending `db.expire(item)`: a helper given the Session expiring objects
    through = {
        edge.call.index: found for edge in project.all_calls_from[fid]
        if not edge.call.nested and any(a.name in names for a in edge.call.args)
        and (found := helper_expiry.expiring(project, models, edge.callee)) is not None
    }
    expiring_calls = any(
        c.method in _EXPIRES and c.receiver in names for c in project.functions[fid][1].calls
    ) or any(method in _EXPIRES for _, method in chained.values()) or bool(through)
    if (
        not expiry.on_commit and not expiry.reloaded and not models.any_generated() and not expiring_calls
        and not any(expires for expires, _ in opened.values())
    ):
        return result
    module, function = project.functions[fid]
    callees = {edge.call.index: edge.callee for edge in project.all_calls_from[fid]}
    # `with db.begin():` commits where the block ends: a commit point there, refreshed after it
    begun = _begin_blocks(expired_lists.function_node(models.tree(module.path), function), names)
    points: list[tuple[facts.Call, str, bool]] = []  # call, session name, a commit (not only a flush)
    unnamed: list[facts.Call] = []  # commits through a holder whose Session the function cannot spell
    headers: dict[int, int] = {}  # call index of a `with db.begin():` -> the line of its header
    for call in function.calls:
        if call.nested:
            continue
        if call.receiver in names and call.method in ("commit", "flush"):
            points.append((call, call.receiver or "", call.method == "commit"))
        elif call.receiver in names and call.method == "begin" and call.line in begun:
            headers[call.index] = call.line
            points.append((replace(call, line=begun[call.line], statement=True), call.receiver or "", True))
        elif call.receiver in names and call.method in _EXPIRES:
            points.append((call, call.receiver or "", True))
        elif call.index in chained and chained[call.index][1] in ("commit", "flush", *_EXPIRES):
            chain, method = chained[call.index]
            # as `db.commit()` on that Session, spelled as the function reaches it
            points.append((replace(call, receiver=chain, method=method), chain, method != "flush"))
        elif call.index in callees:
            passed = next((a.name for a in call.args if a.name in names), None)
            if passed is not None and (
                commits(project, callees[call.index]) or wrapper_commits.commits(project, callees[call.index])
            ):
                points.append((call, passed, True))
            elif passed is not None and call.index in through:
                points.append((call, passed, False))
            elif passed is None and commits_held(project, callees[call.index], SYNC):
                # `repo.save()` on `repo = ItemRepo(db)`: commits the Session the route holds too
                holding = expired_helpers.held_session(project, fid, function, call, names)
                # `await repo.restock_all(10)` on a repository a dependency built: its Session
                holding = holding or expired_helpers.holder_path(project, fid, call)
                if holding is not None:
                    points.append((call, holding, True))
                elif expiry.on_commit or expiry.reloaded:
                    unnamed.append(call)
    # `await repo.save()` on a repository a dependency built, the end of `with uow:` whose
    # `__exit__` commits: commits of the Session the holder keeps (`repo.db`, `uow.session`)
    for exited, header in _exits_committing(project, fid, function, expired_lists.function_node(models.tree(module.path), function)):
        headers[exited.index] = header
        points.append((exited, exited.receiver or "", True))
    result.blocks.extend(_unnamed_commits(project, fid, function, unnamed, expiry, names))
    # `@transactional` committing in its `async def` wrapper once the function has returned
    result.blocks.extend(wrapper_commits.blocks(
        project, fid, expiry, names, expired_lists.function_node(models.tree(module.path), function), unread_return
    ))
    if not points:
        return result
    bindings: dict[str, list[facts.Binding]] = {}
    for binding in function.bindings:
        bindings.setdefault(binding.name, []).append(binding)
    params = {p.name: p for p in function.params}
    # The source, for reads through other names (`for item in items`, `items[0]`).
    body = expired_lists.Body(expired_lists.function_node(models.tree(module.path), function), names)
    planned: set[tuple[int, str]] = set()
    reported: set[str] = set()
    stack = expiry
    # names that may hold ORM instances, whose relationships may lead to objects the commit expires
    kinds = {
        name: _instance(
            project, models, fid, function, module, bindings[name][0] if name in bindings else None,
            params.get(name), names,
        )[0]
        for name in set(bindings) | set(params) if name not in names
    }
    objects = {name for name, kind in kinds.items() if kind is not Held.NONE}
    built = frozenset(
        name for name, kind in kinds.items()
        if kind is Held.ONE and all(not b.expr.startswith("$") for b in bindings.get(name, []))
    )
    relationships = expired_related.relationship_names(project)
    eager = expired_related.eager_names(project)
    for call, session, is_commit in points:
        # A Session opened here on the engine expires as its own keywords say, as it did before.
        expiry = Expiry(opened[session][0], opened[session][1], models, "") if session in opened else stack
        direct = call.method in _EXPIRES and call.receiver == session
        expirer = through.get(call.index) if call.receiver != session else None
        how = (expirer.method if expirer is not None else call.method) or ""
        committing = (expiry.on_commit or bool(expiry.reloaded)) and is_commit and not direct
        # the objects an `expire()` expires, by the names given it here; None: every object
        only = (
            frozenset(a.name for a in call.args[:1] if a.name) if direct and how == "expire"
            else helper_expiry.handed(project, callees[call.index], call, expirer) if expirer is not None else None
        )
        # as the function spells the expiring call, for reasons
        spelled = (
            f"`{call.callee or call.func}(...)`, which calls `{expirer.written}`," if expirer is not None
            else f"`{session}.{call.method}()`"
        )
        # `return persist(db, note)`, `saved = persist(db, note)`: what the call returns is the
        # object `note` holds, read after the commit in the call (by the response, or as `saved`)
        handed = (
            expired_helpers.handed_back(project, models, fid, call, session)
            if call.receiver != session and call.index in callees else None
        )
        # `db_user = crud.update_user(session=db, db_user=db_user, ...)` where update_user ends
        # `db.commit(); db.refresh(db_user); return db_user`: the object is fresh after this call
        fresh = handed if handed is not None and expired_helpers.hands_back_refreshed(
            project, fid, call, session
        ) else None
        for name in sorted(set(bindings) | set(params)):
            if name in names or name in reported:
                continue
            if only is not None and name not in only and not committing:
                continue  # `db.expire(other)`
            # expired whatever expire_on_commit says, or only by a commit the helper makes too
            expiring = (direct or expirer is not None) and (only is None or name in only)
            expires_all = expiring or committing
            held = expired_lists.derived(function, name)
            if any(
                c.receiver in names and c.method in ("delete", "expunge") and c.line <= call.line
                and any(a.name == name for a in c.args)
                for c in function.calls
            ):
                continue  # deleted or expunged: detached by the commit, not expired (refresh would fail)
            before = [b for b in bindings.get(name, []) if b.line < call.line]
            if name not in params and not before:
                continue  # bound after the commit: loaded fresh
            if name == fresh or name != handed and _rebound_by(function, bindings.get(name, []), call):
                # `user = crud.create_user(db, ...)` after `user = crud.get_user_by_email(db, ...)`:
                # what the name held before is gone once the call returns, so it is judged as a
                # name bound there (what the call hands back as it is: `handed`)
                continue
            source = before[-1] if before else None
            # A commit in a loop runs again after what precedes it there, for a name bound
            # before the loop: reads from the loop's first line on are after a commit.
            loop = body.loop_start(call.line, call.method or (call.callee or "").rpartition(".")[2])
            after = loop - 1 if loop is not None and (source is None or source.line < loop) else call.line
            read_at = read_after(function, name, after, session, unread_return)
            if read_at is None and name == handed:
                read_at = _result_read(function, body, call, session)
            kind, cls = _instance(project, models, fid, function, module, source, params.get(name), names)
            added_to = (
                added_before(function, name, source, call.line, names, body.node) if kind in (Held.NONE, Held.PARAM) else ""
            )
            if added_to == "every":
                # `obj = cls(**values)`, `db_obj = self.model(**data)`, a repository's `obj`
                # parameter: whatever class it is, the Session took it, so the commit persisted
                # and expired it, and a refresh there reloads it
                kind = Held.ONE
            elif added_to and kind is Held.NONE:
                # `try: db.add(obj); db.commit()`: an ORM object all the same, which a refresh
                # after the commit may find outside the Session on another path
                kind = Held.ADDED
            if kind is Held.NONE and source is not None and expired_lists.session_result(function, name, names):
                kind = Held.MANY  # `list(db.execute(...))`: what a Session call returned
            if kind is Held.MANY and source is not None and len(bindings.get(name, [])) == 1:
                entity = expired_lists.entity_list(function, source, names)
                resolved = models.resolve(entity)
                if resolved is not None and models.mapped(resolved) and not any(
                    body.changed(alias) for alias in expired_lists.aliases(function, name)
                ):
                    kind, cls = Held.EACH, resolved
                elif entity is not None and resolved is None and models.column(entity):
                    continue  # `db.scalars(select(Task.id)).all()`: values, which no commit expires
            if kind is Held.MANY and source is not None and _returned_columns(models, module, source):
                continue  # `db.scalars(update(M)...returning(M.id)).all()`: values, which no commit expires
            if kind is Held.MANY and source is not None and source.expr.startswith("$") and body.selects_no_entity(
                source.line, lambda written: expired_lists.mapped_name(models, module, written),
                lambda written: expired_lists.table_name(models, module, written),
            ):
                continue  # `db.execute(select(M.id, M.title)).all()`, `.rowcount` of a bulk delete: values
            if kind is Held.NONE:
                continue
            # a commit through a holder (`await repo.restock_all(10)`, the end of `with uow:`):
            # the object is refreshed on the Session that loaded or took it
            own = _own_session(project, fid, function, name, source, names, call.line) if session not in names else session
            own = own or session
            helper = (
                expired_helpers.returned(
                    project, models, fid, function, source, own,
                    dependency_objects.holding(project, fid, session, twins) if twins else (),
                )
                if kind is Held.UNKNOWN and source else None
            )
            unshown = ""
            if kind is Held.PARAM and source is None and name in params:
                filled = dependency_objects.returned(project, models, fid, params[name], session, twins)
                if isinstance(filled, str):
                    unshown = filled
                else:  # `user: User = Depends(get_current_user)` on the route's Session
                    helper = replace(filled, cls=filled.cls or cls)
            if helper is not None and helper.shape == "arg" and source is not None:  # `touch(db, db_obj=item)`
                helper = _passed(project, models, fid, function, source, helper.arg, session)
            if helper is not None and helper.shape == "none":
                continue  # `total = crud.count(db)`: no ORM object
            if helper is not None and helper.shape == "list":  # `items = crud.list_items(db)`
                listed, helper = helper.cls, None
                if len(bindings.get(name, [])) == 1 and not any(
                    body.changed(alias) for alias in expired_lists.aliases(function, name)
                ):
                    kind, cls = Held.EACH, listed
            elif helper is not None:  # `item = crud.get_item(db, item_id)`: one instance of this Session
                kind, cls = Held.MAYBE if helper.shape == "maybe" else Held.ONE, helper.cls
            entity_object = kind in (Held.ONE, Held.MAYBE) and (
                helper is not None or source is not None and expired_lists.entity(models, function, source)
            )
            if kind in (Held.ONE, Held.MAYBE) and source is not None and not entity_object and body.selects_no_entity(
                source.line, lambda written: expired_lists.mapped_name(models, module, written),
                lambda written: expired_lists.table_name(models, module, written),
            ):
                continue  # `db.scalar(select(func.count(...)))`: a number, no ORM object
            if kind in (Held.MANY, Held.EACH) or read_at is None and (entity_object or kind in (Held.UNKNOWN, Held.PARAM)):
                # through other names (`for item in items`, `items[0]`, `first = items[0]`); for a
                # list the first read in the source, so that a block names its line
                read_at = body.read_after(name, held, after, unread_return) or read_at
            if read_at is None:
                continue
            raised = raised_after(body.node, call.line) if body.node is not None else None
            if raised is not None and not call.line <= read_at[0] <= raised:
                continue  # `db.rollback()` then `raise ...`: the reads after it never run
            made_here = kind is Held.ONE and source is not None and not source.expr.startswith("$") and helper is None
            if how == "rollback" and expiring and source is not None and not source.expr.startswith("$") and (
                helper is None and rolled_back.pending(function, body.node, name, source, call.line, names)
                or made_here and not added_before(function, name, source, call.line, names, body.node)
            ):
                # taken since the last commit (`Model(...)`, `build(...)`), the rollback expunges it; made
                # here and never taken, it is not the Session's; committed before, it is expired
                continue
            generated = models.generated(cls) if cls else frozenset()
            # Only rows the flush writes have server-generated columns expired.
            at_risk = expires_all or (
                (bool(generated) if cls else models.any_generated())
                and (made_here or _touched(function, held, source.line if source else 0, call.line, names))
            )
            if not at_risk:
                continue
            if _refreshed(function, name, call.line, names | {own}):
                continue
            # `db.refresh(book, ["title"])` after the commit: fresh where only those are read
            partial = partial_refresh(body.node, name, after, names | {own}) if kind is not Held.EACH else None
            if partial is not None and not partial.uncovered:
                continue
            point = point_of(call, session)
            node = body.node
            # A whole refresh unloads the class's deferred columns, which the read then loads: refresh
            # only what the database computes where that is all the flush expired; else block.
            deferred = models.deferred(cls) if cls else frozenset()
            narrow = tuple(sorted(generated)) if (
                deferred and generated and not expires_all and not expiring and kind in (Held.ONE, Held.MAYBE)
            ) else ()
            # Added after the commit, the refresh runs on every path there: only where the name is
            # bound on every one (the code may read it after the commit on some paths only).
            unbound = node is not None and not bound_after(
                node, name, headers.get(call.index, call.line), whole_with=call.index in headers
            )
            if kind in (Held.ONE, Held.MAYBE, Held.EACH) and call.statement and not unbound and (narrow or not deferred):
                if (call.index, name) not in planned:
                    planned.add((call.index, name))
                    each = expired_lists.free_name(body.node, name) if kind is Held.EACH else ""
                    added = any(
                        c.receiver in names and c.method in ("add", "merge") and c.line < call.line
                        and any(a.name == name for a in c.args[:1])
                        for c in function.calls
                    ) or _added_by_helper(project, fid, name, call.line)
                    result.refreshes.append(Refresh(
                        call.index, own, name, kind is Held.MAYBE, each, attributes=narrow, if_held=made_here and not added
                    ))
                continue
            if (
                not expiring and expires_all and not expiry.on_commit and kind not in (Held.MANY, Held.EACH)
                and name != handed and _reads_only_key(project, fid, models, cls, name, after, session)
            ):
                continue  # AM259 is about stale columns: the key the object is known by is not one
            kind = Held.MANY if kind is Held.EACH else kind  # a commit inside an expression: no loop there
            reported.add(name)
            # A list: which one and where it is read, and a fix for each object in it.
            what = f"{read_at[1]} (line {read_at[0]})" if kind is Held.MANY else read_at[1]
            if (read_at[0] < call.line or read_at[0] == call.line == loop) and read_at[0] != function.line:
                what += " in the loop, which runs it again"
            # Written for the code as it stands, still synchronous: phase two awaits the refresh it finds.
            fix = (
                f"`{session}.refresh(obj)` for each object `{name}` holds" if kind is Held.MANY
                else f"`{session}.refresh({name})`"
            )
            cannot = "which phase two cannot refresh there"
            if partial is not None:
                fix += f" ({partial.note(name)})"
            if unshown and kind is Held.PARAM:
                cannot = f"{unshown}, so phase two cannot refresh it there"
            if deferred and not narrow:
                columns = ", ".join(f"`{c}`" for c in sorted(deferred))
                cannot = (f"and a refresh of it would leave its deferred column{'s' if len(deferred) > 1 else ''} "
                          f"{columns} unloaded, which the next read loads (MissingGreenlet)")
                fix += f" followed by `{session}.refresh({name}, attribute_names=[...])` naming {columns}"
            if unbound and kind is not Held.MANY:
                cannot = (f"bound only on some paths to line {call.line}, so a refresh added there could raise "
                          "UnboundLocalError")
                fix += f" on the path that binds `{name}`, before it is read"
            if expiring:
                message = (
                    f"{what} after {spelled} (line {call.line}), which expires "
                    f"{'it' if how == 'expire' else 'every object'} whatever expire_on_commit says: the "
                    f"read is implicit IO and raises MissingGreenlet under AsyncSession; `{name}` is "
                    f"{_describe(kind)}, {cannot}; fix: add "
                    f"{fix} after it"
                )
                result.blocks.append(ExpiredRead(AM261, read_at[0], message))
            elif expires_all and not expiry.on_commit:
                message = (
                    f"{what} after {point} (line {call.line}): {reloaded_by(expiry)}; "
                    f"the async one{f' ({expiry.where})' if expiry.where else ''} does not, so it would "
                    f"return stale data (what a bulk UPDATE or raw "
                    f"SQL in the transaction changed); `{name}` is {_describe(kind)}, "
                    f"{cannot}; fix: add {fix} after the commit"
                )
                result.blocks.append(ExpiredRead(AM259, read_at[0], message))
            elif expires_all:
                inline = session in opened or received is not None
                maker = f"the Session opened at {expiry.where}" if inline else f"the async sessionmaker ({expiry.where})"
                message = (
                    f"{what} after {point} (line {call.line}): {maker} expires every object on commit"
                    f"{'' if UNREAD in expiry.where else ' (expire_on_commit=True)'}, so the read "
                    f"is implicit IO and raises MissingGreenlet; `{name}` is {_describe(kind)}, "
                    f"{cannot}; fix: pass expire_on_commit=False to the "
                    f"{'Session' if inline else 'async sessionmaker'}, or add {fix} after the commit"
                )
                result.blocks.append(ExpiredRead(AM248, read_at[0], message))
            else:
                columns = ", ".join(sorted(generated)) if generated else "server-generated columns of a mapped class"
                message = (
                    f"{what} after {point} (line {call.line}) may read {columns}, which the "
                    f"database computes: the flush expires them, and the read raises MissingGreenlet under "
                    f"AsyncSession; `{name}` is {_describe(kind)}, {cannot}; "
                    f"fix: add {fix} after the commit"
                )
                result.blocks.append(ExpiredRead(AM249, read_at[0], message))
            if kind is Held.UNKNOWN:
                # A refresh of a number or a flag raises UnmappedInstanceError: say how to show it is none.
                last = result.blocks[-1]
                result.blocks[-1] = replace(last, message=(
                    f"{last.message}, when it holds an ORM object; when it holds none (a count, a flag), "
                    "annotate what the called function returns (`-> int`, `-> bool`) and run phase two again"
                ))
        # `expire(obj)` expires that object only, not what its relationships hold
        expiring = direct or expirer is not None
        if (committing or expiring and how != "expire") and "#related" not in reported:
            served = expired_related.response_reads(models.classes, function, relationships, eager)
            response, response_eager = served.path, served.eager
            reloaded = dict.fromkeys(_reloaded(function, body.node, result.refreshes, call, session), call.line)
            if _keeps_strategies(project, models, fid, body.node):
                # the helper refreshed what it hands back after its commit (`item =
                # crud.create_with_owner(db, ...)` ending `db.refresh(db_obj); return db_obj`); the
                # function refreshes an object whole itself, after the commit (the relationships it
                # reads before that are not reloaded)
                bound = _bound_to(body.node, call.line) if call.receiver != session else None
                if bound is not None and (bound == fresh or expired_helpers.hands_back_refreshed(
                    project, fid, call, session
                )):
                    reloaded[bound] = call.line
                # what phase two refreshes whole there, whatever loaded it (`_reloaded` is the
                # function's own Session calls only, where the strategies are not followed)
                reloaded.update(dict.fromkeys((
                    r.name for r in result.refreshes
                    if r.call == call.index and not r.each and not r.attributes and not r.if_held
                ), call.line))
                for name, line in _refreshed_whole(body.node, session, call.line).items():
                    reloaded.setdefault(name, line)
            related = expired_related.reads(
                body.node, relationships, objects, call.line, response, built, reloaded, eager, response_eager,
            )
            if related is not None:
                reported.add("#related")
                result.blocks.append(_related_block(
                    related, call, session, expiring, expiry, point_of(call, session), served, spelled
                ))
    result.refreshes = _needed_once(function, body.node, result.refreshes)
    return result


def _needed_once(
    function: facts.Function, node: ast.FunctionDef | ast.AsyncFunctionDef | None, refreshes: list[Refresh]
) -> list[Refresh]:
    """The refreshes without those a later one makes needless: `await db.refresh(note)` after a
    helper's commit, then the route's own `db.commit()` and its refresh, with no read of `note` in
    between, reloads a row nobody reads before it is expired and reloaded again. Both commits are
    statements of the function's own body (no branch or loop around either)."""
    if node is None or len(refreshes) < 2:
        return refreshes
    calls = {c.index: c for c in function.calls}
    kept = []
    for refresh in refreshes:
        this = calls.get(refresh.call)
        later = [
            calls[r.call] for r in refreshes
            if r is not refresh and (r.session, r.name, r.each, r.attributes) == (
                refresh.session, refresh.name, refresh.each, refresh.attributes
            ) and r.call in calls
        ]
        following = min((c for c in later if this is not None and c.line > this.line and c.top), default=None,
                        key=lambda c: c.line)
        if this is None or following is None or not this.top or refresh.each or _read_between(
            function, node, refresh.name, refresh.session, this.line, following.line
        ):
            kept.append(refresh)
    return kept


def _read_between(
    function: facts.Function, node: ast.AST, name: str, session: str, start: int, end: int
) -> bool:
    """Whether `name` may be read after line `start` up to the call at `end`: an attribute of it,
    handed to a call (but the Session's add/refresh), held under another name, or a `return` or
    `yield` in between (which may hand it out)."""
    if any(receiver == name and start < at <= end for at, receiver, _ in function.attributes):
        return True
    for call in function.calls:
        on_session = call.receiver == session and call.method in ("refresh", "add")
        if start < call.line <= end and not on_session and any(
            a.name == name or f"${name}" in a.displayed for a in call.args
        ):
            return True
    if any(f"'{name}'" in repr(terms) for other, terms in function.holds.items() if other != name):
        return True  # an alias (`current = note`): its reads are not followed here
    return any(
        isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) and start < n.lineno <= end for n in ast.walk(node)
    )


# Loader options that change what a refresh loads again, or what the query loaded.
_LOADER_CHANGES = ("options", "lazyload", "noload", "raiseload", "defaultload", "Load(")


def _reloaded(
    function: facts.Function, node: ast.AST | None, refreshes: list[Refresh], call: facts.Call, session: str
) -> frozenset[str]:
    """Names refreshed whole right after `call` that its own Session call loaded, in a function
    changing no loader strategy: their eager relationships are loaded again by the refresh."""
    if node is None or any(word in ast.unparse(node) for word in _LOADER_CHANGES):
        return frozenset()
    # a helper's query (`crud.get_book(db, ...)`) may change the strategy where it is not seen
    # (`$db.get()`: what the Session's `get` returns)
    own = f"${session}."
    return frozenset(
        r.name for r in refreshes
        if r.call == call.index and not r.each and not r.attributes and not r.if_held
        and all(b.expr.startswith(own) for b in function.bindings if b.name == r.name)
        and any(b.name == r.name for b in function.bindings)
    )


def _keeps_strategies(project: Project, models: Models, fid: FunctionId, node: ast.AST | None) -> bool:
    """Nothing the function runs, itself or through the project functions it calls (transitively),
    changes a loader strategy: a refresh applies the options its object was loaded with
    (`lazyload(Item.owner)` would leave an eager relationship unloaded)."""
    if node is None or any(word in ast.unparse(node) for word in _LOADER_CHANGES):
        return False
    seen = {fid}
    pending = [fid]
    while pending:
        for edge in project.all_calls_from.get(pending.pop(), []):
            if edge.callee in seen:
                continue
            seen.add(edge.callee)
            module, helper = project.functions[edge.callee]
            found = expired_lists.function_node(models.tree(module.path), helper)
            if found is None or any(word in ast.unparse(found) for word in _LOADER_CHANGES):
                return False
            pending.append(edge.callee)
    return True


def _bound_to(node: ast.AST | None, line: int) -> str | None:
    """`name` for `name = helper(...)` (awaited or not), the statement at `line`."""
    for child in ast.walk(node) if node is not None else ():
        if (
            isinstance(child, ast.Assign) and child.lineno == line and len(child.targets) == 1
            and isinstance(child.targets[0], ast.Name)
            and isinstance(child.value.value if isinstance(child.value, ast.Await) else child.value, ast.Call)
        ):
            return child.targets[0].id
    return None


def _refreshed_whole(node: ast.AST | None, session: str, after: int) -> dict[str, int]:
    """Names the function refreshes whole (`db.refresh(item)`, no attribute names) in a statement
    of its own body after line `after`, which runs on every path past it: name -> its line."""
    found: dict[str, int] = {}
    for statement in getattr(node, "body", []):
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Await):
            value = value.value
        if (
            statement.lineno > after and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "refresh" and isinstance(value.func.value, ast.Name)
            and value.func.value.id == session and len(value.args) == 1 and not value.keywords
            and isinstance(value.args[0], ast.Name)
        ):
            found.setdefault(value.args[0].id, statement.lineno)
    return found


def _own_session(
    project: Project, fid: FunctionId, function: facts.Function, name: str, source: facts.Binding | None,
    names: set[str], line: int,
) -> str | None:
    """The Session, as the function spells it, that loaded `name` (`db` of `db.get(...)`, `repo.db`
    of `repo.get(...)` on a holder) or took it before line `line` (`db.add(name)`); None when
    neither shows."""
    taken = {c.receiver for c in function.calls if c.receiver in names and c.method in ("add", "merge") and c.line < line
             and any(a.name == name for a in c.args[:1])}
    if len(taken) == 1:
        return taken.pop()
    if source is None or not source.expr.startswith("$"):
        return None
    head = source.expr[1:].split("(", 1)[0].split(".", 1)[0]
    if head in names:
        return head
    loading = expired_helpers.bound_call(function, source)
    return expired_helpers.holder_path(project, fid, loading) if loading is not None else None


def _unnamed_commits(
    project: Project, fid: FunctionId, function: facts.Function, calls: list[facts.Call], expiry: Expiry, names: set[str],
) -> list[ExpiredRead]:
    """Blocks for names bound before a call committing the Session an object holds that the
    function cannot spell (`repos[0].save()`, a holder of two Sessions) and read after it: which
    objects that Session held is unverified, and no refresh can name it."""
    found: list[ExpiredRead] = []
    for call in calls:
        for name in sorted({b.name for b in function.bindings if b.line < call.line} - set(names)):
            read = read_after(function, name, call.line, "")
            if read is None or any(b.line >= call.line for b in function.bindings if b.name == name):
                continue
            bound = expired_helpers.bound_call(function, next(b for b in function.bindings if b.name == name))
            if bound is None or not (expired_helpers.on_holder(project, fid, bound) or any(a.name in names for a in bound.args)):
                continue  # no holder's or Session helper's result: no object of that Session
            rule, what = (AM248, "raises MissingGreenlet") if expiry.on_commit else (AM259, "returns stale data")
            found.append(ExpiredRead(rule, read[0], (
                f"{read[1]} after `{call.func[1:] if call.func else call.callee}()` (line {call.line}), which commits "
                f"the Session an object holds that phase two cannot name here: whether `{name}` is an object of that "
                f"Session is unverified, and the read {what} under AsyncSession if so; fix: refresh `{name}` on "
                "that Session after the call (phase two then awaits it)"
            )))
    return found


def entered_key(ordinal: int) -> int:
    """The key of the refreshes after the `ordinal`-th `with` statement of a function's own body
    (in source order), whose `__exit__` commits: no call expression there has an index."""
    return -2 - ordinal


def _exits_committing(
    project: Project, fid: FunctionId, function: facts.Function, node: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> list[tuple[facts.Call, int]]:
    """`with uow:` blocks of the own body whose `__exit__` commits the Session the unit of work
    holds (`self.session.commit()`): each a commit point at the block's last line, keyed by
    `entered_key`, its receiver the Session as the function spells it (`uow.session`), with the
    header's line."""
    if node is None:
        return []
    withs = [n for n in own_nodes(node.body) if isinstance(n, (ast.With, ast.AsyncWith))]
    found = []
    for edge in project.all_calls_from.get(fid, []):
        call = edge.call
        if call.index != -1 or not (call.func or "").endswith(("__exit__", "__aexit__")):
            continue
        if not commits_held(project, edge.callee, SYNC):
            continue
        path = expired_helpers.holder_path(project, fid, call)
        ordinal = next((i for i, w in enumerate(withs) if w.lineno == call.line and len(w.items) == 1), None)
        if path is None or ordinal is None:
            continue
        end = withs[ordinal].end_lineno or call.line
        point = facts.Call(end, None, index=entered_key(ordinal), receiver=path, method="__exit__", statement=True)
        found.append((point, call.line))
    return found


def point_of(call: facts.Call, session: str) -> str:
    if call.method == "__exit__":
        return f"the end of `with {session.rpartition('.')[0]}:`, whose `__exit__` commits,"
    if call.receiver == session and call.method == "begin":
        return f"the end of `with {session}.begin():`, which commits,"
    written = call.callee or describe(call.func or "")  # `$self.uow.commit` as the source spells it
    return f"`{session}.{call.method}()`" if call.receiver == session else f"`{written}(...)`, which commits,"


def _begin_blocks(node: ast.FunctionDef | ast.AsyncFunctionDef | None, names: set[str]) -> dict[int, int]:
    """`with db.begin():` blocks on the function's Sessions (not in nested functions): the line
    of the `begin()` call -> the block's last line, where the commit happens."""
    if node is None:
        return {}
    found: dict[int, int] = {}
    for current in own_nodes(node.body):
        if isinstance(current, ast.With):
            for item in current.items:
                expr = item.context_expr
                if (
                    isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "begin"
                    and isinstance(expr.func.value, ast.Name) and expr.func.value.id in names
                ):
                    found[expr.lineno] = current.end_lineno or current.lineno
    return found


def _related_block(
    read: tuple[int, str, str], call: facts.Call, session: str, expiring: bool, expiry: Expiry, point: str,
    served: expired_related.ResponseReads | None = None, spelled: str = "",
) -> ExpiredRead:
    """A read, after a commit point, of an object a relationship led to: no refresh phase two
    plans reaches it (`expired_related`). Read by the response model (`returned`), the fix is
    the one that unblocks it: the returned object refreshed whole after the commit, its lazy
    relationships declared eager (which that refresh loads again, one hop deep); those eager
    already are said to be, never asked for."""
    line, what, returned = read
    one_hop = served is not None and served.one_hop
    response_eager = served is not None and served.eager
    through = (
        "an object reached through a relationship, which refreshing the object holding it does not "
        "reload (the identity map keeps it as it was)"
    )
    fix = f"`{session}.refresh(obj)` for each such object after it, or load it again"
    if returned and response_eager:
        through = (
            f"an object reached through a relationship, which nothing reloads after the commit: "
            f"the relationship is eager, but `{returned}` is not refreshed whole after it"
        )
        fix = (
            f"refresh `{returned}` whole after the commit (`{session}.refresh({returned})` as a statement of "
            f"the route, or the last Session call of the helper returning it), with no loader option "
            f"changing its strategy: that loads the relationship again"
        )
    elif returned and one_hop:
        through = (
            "an object reached through a relationship loaded lazily, which refreshing the object holding "
            "it does not reload (the identity map keeps it as it was)"
        )
        assert served is not None
        lazy = [path.rpartition(".")[2] for path in served.lazy]
        declared = (
            f"the relationship{'s' if len(lazy) > 1 else ''} "
            + ", ".join(f"`{name}`" for name in lazy)
            + f" (read as {', '.join(f'`{path}`' for path in served.lazy)})"
        ) if lazy else f"each relationship the response model reads on `{returned}`"
        already = (
            f"; {', '.join(f'`{path}`' for path in served.eager_paths)} "
            f"{'is' if len(served.eager_paths) == 1 else 'are'} already"
        ) if served.eager_paths else ""
        fix = (
            f"declare {declared} eager (`lazy=\"selectin\"`{already}) and refresh `{returned}` whole after the "
            f"commit, with no loader option changing its strategy: that refresh loads them again"
        )
    elif returned:
        through = (
            "an object reached through relationships more than one hop from the returned object, which "
            "refreshing it does not reload"
        )
        fix = "return a response built from objects loaded after the commit, or a response model nesting one level"
    if expiring:
        return ExpiredRead(AM261, line, (
            f"{what} after {spelled or f'`{session}.{call.method}()`'} (line {call.line}), which expires every object "
            f"whatever expire_on_commit says: {through}; the read is implicit IO and raises "
            f"MissingGreenlet under AsyncSession; fix: {fix}"
        ))
    if not expiry.on_commit:
        return ExpiredRead(AM259, line, (
            f"{what} after {point} (line {call.line}): {reloaded_by(expiry)}; it is {through}, so it "
            f"would return stale data (what raw SQL, a trigger or the database changed in the "
            f"transaction); fix: {fix}"
        ))
    return ExpiredRead(AM248, line, (
        f"{what} after {point} (line {call.line}): the async sessionmaker ({expiry.where}) expires every "
        f"object on commit, and it is {through}: the read is implicit IO and raises MissingGreenlet; "
        f"fix: pass expire_on_commit=False to the async sessionmaker and {fix}"
    ))


def reloaded_by(expiry: Expiry) -> str:
    """What the synchronous side did on commit, for an AM259 reason: where phase two cannot read
    its expire_on_commit (counted as expiring, so the route is kept safe), the reason says the
    reload is unverified rather than asserting it."""
    if UNREAD not in expiry.reloaded:
        return (
            f"the synchronous sessionmaker ({expiry.reloaded}) expires every object on commit, so the read "
            "reloaded the row"
        )
    where = expiry.reloaded.replace(f": {UNREAD}", "")
    return (
        f"whether the synchronous sessionmaker ({where}) expires objects on commit is unverified (phase two "
        "cannot read its expire_on_commit); where it does, the read reloaded the row"
    )


def _describe(kind: Held) -> str:
    return _DESCRIBED.get(kind, "an object")


def read_after(
    function: facts.Function, name: str, line: int, session: str, unread_return: bool = False
) -> tuple[int, str] | None:
    """Where `name` is read after `line`: `name.attr`, passed to a call (not the Session's own
    refresh/delete/add/expunge; `session` as written, `db` or `self.db`), returned (unless
    `unread_return`: nothing reads what the function returns)."""
    for at, receiver, attribute in function.attributes:
        if receiver == name and at > line:
            return at, f"`{name}.{attribute}` is read"
    for call in function.calls:
        on_session = call.receiver == session or (call.func or "").startswith(f"${session}.")
        if call.line <= line or on_session and (call.method or (call.func or "").rpartition(".")[2]) in (
            "refresh", "delete", "add", "expunge"
        ):
            continue
        if any(a.name == name for a in call.args):
            return call.line, f"`{name}` is passed to `{call.callee or call.func or call.method}(...)`"
    if unread_return:
        return None
    if name in function.yields or any(mentions(expression, name) for expression in function.returned):
        return function.line, f"`{name}` is returned"
    return None


def _reads_only_key(
    project: Project, fid: FunctionId, models: Models, cls: str | None, name: str, line: int, session: str
) -> bool:
    """Whether every read of `name` after `line` is of its class's primary key: `user.id` here,
    or in a project function it is handed to that reads that alone (`create_note(db, user, t)`
    reading `owner.id`). Not returned, no other attribute. What the synchronous Session
    reloaded there is the value the async one keeps."""
    key = models.classes.primary_key(cls) if cls else None
    if key is None:
        return False
    function = project.functions[fid][1]
    reads = [a for at, receiver, a in function.attributes if receiver == name and at > line]
    if any(a != key for a in reads):
        return False
    if name in function.yields or any(mentions(expression, name) for expression in function.returned):
        return False
    if any(mentions(binding.expr, name) for binding in function.bindings if binding.line > line):
        return False  # `saved = user`: read on through another name, which this does not follow
    edges = {e.call.index: e.callee for e in project.calls_from.get(fid, [])}
    handed = False
    for call in function.calls:
        if call.line <= line or not any(a.name == name for a in call.args):
            continue
        if call.receiver == session and call.method in ("refresh", "delete", "add", "expunge"):
            continue
        callee = edges.get(call.index)
        if callee is None or not all(_key_only_in(project, callee, a, key) for a in call.args if a.name == name):
            return False
        handed = True
    # Some read of the key must be what was found: a read this does not see (through a list, a
    # value the commit's call hands back) is not one.
    return bool(reads) or handed


def _key_only_in(project: Project, fid: FunctionId, arg: facts.Arg, key: str) -> bool:
    """Whether the parameter `arg` binds in the function reads only `key` of it, handing it nowhere."""
    function = project.functions[fid][1]
    positional = [p.name for p in function.params if p.positional and p.name not in ("self", "cls")]
    if arg.position is not None:
        param = positional[arg.position] if arg.position < len(positional) else None
    else:
        param = arg.keyword if any(p.name == arg.keyword and not p.variadic for p in function.params) else None
    if param is None or any(b.name == param for b in function.bindings):
        return False
    return (
        all(a == key for _, receiver, a in function.attributes if receiver == param)
        and not any(a.name == param for c in function.calls for a in c.args)
        and param not in function.yields
        and not any(mentions(expression, param) for expression in function.returned)
    )


def _rebound_by(function: facts.Function, bindings: list[facts.Binding], call: facts.Call) -> bool:
    """Whether one of `bindings` binds the result of `call` as it is (`user = create(db, ...)`)."""
    for binding in bindings:
        if binding.line == call.line:
            bound = expired_helpers.bound_call(function, binding)
            if bound is not None and bound.index == call.index:
                return True
    return False


def _result_read(
    function: facts.Function, body: expired_lists.Body, call: facts.Call, session: str
) -> tuple[int, str] | None:
    """Where the result of `call` is read after it: returned as it is, or through the name
    it is bound to."""
    callee = call.callee or call.func or call.method
    if body.returns_call(call.line):
        return function.line, f"what `{callee}(...)` hands back is returned"
    for binding in function.bindings:
        bound = expired_helpers.bound_call(function, binding) if binding.line == call.line else None
        if bound is not None and bound.index == call.index:
            found = read_after(function, binding.name, call.line, session)
            if found is not None:
                return found
    return None


def _refreshed(function: facts.Function, name: str, after: int, names: set[str]) -> bool:
    """The function refreshes the object itself after the commit; a list, through a loop over
    it (`for b in books: db.refresh(b)`)."""
    each = {other for other, terms in function.holds.items() if terms == (("iter", ("name", name)),)}
    held = {(path, ".", "refresh") for path in names if "." in path}  # `repo.db.refresh(item)`
    return any(
        (c.receiver in names and c.method == "refresh" or (c.func or "")[1:].rpartition(".") in held)
        and c.args and c.args[0].name in each | {name} and c.line > after and not is_partial(c)
        for c in function.calls
    )


def added_before(
    function: facts.Function,
    name: str,
    source: facts.Binding | None,
    line: int,
    sessions: Collection[str],
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
) -> str:
    """Where the Session takes the object `name` holds between its binding `source` (or the start,
    for a parameter) and `line`: `session.add(name)`, or `session.add_all(...)` of a list holding
    it (`expired_lists.listed`), on a Session spelled as in `sessions` (`db`, `self.db`).

    "every" path (a statement of the function's own body, outside any compound statement, taking
    it for certain: `obj = cls(**values); db.add(obj); db.commit()`), "some" (inside one, `try:
    db.add(obj); db.commit()`, or a list that may no longer hold it), or "" when it does not."""
    start = source.line if source is not None else 0
    if source is None and any(b.name == name and b.line < line for b in function.bindings):
        return ""
    found = ""
    for call in function.calls:
        receiver, _, method = (call.func or "").rpartition(".")
        if call.nested or not start < call.line < line or receiver[1:] not in sessions or not receiver.startswith("$"):
            continue
        given = [a for a in call.args if a.position == 0 or a.keyword == _ADDED.get(method)]
        if method not in _ADDED or len(call.args) != 1 or len(given) != 1:
            continue
        if method == "add":
            takes = "every" if given[0].name == name else ""
        else:
            takes = expired_lists.listed(function, node, call, given[0], name, start)
        if takes == "every" and call.top:
            return "every"
        found = found or ("some" if takes else "")
    return found


def _added_by_helper(project: Project, fid: FunctionId, name: str, line: int) -> bool:
    """Whether a call of the function's own body before `line` (or the committing call at `line`,
    adding before its commit), on every path, hands `name` and the Session to a project helper that
    adds it on every path of its own (`stage(db, note)` doing `db.add(note)`): the Session holds it
    at the commit, as after `db.add(note)` in the body, and the refresh needs no `if note in db:`."""
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        if call.nested or not call.top or call.line > line or not edge.session_args:
            continue
        _, callee = project.functions[edge.callee]
        # the commit point itself (`add_and_commit(db, note)`): added before the helper commits
        before = min((c.line for c in callee.calls if c.method == "commit"), default=None) if call.line == line else None
        if call.line == line and before is None:
            continue
        for arg in call.args:
            param = facts.parameter_of(callee, arg) if arg.name == name else None
            if param is not None and any(
                c.top and not c.nested and c.receiver in edge.session_args and c.method == "add"
                and len(c.args) == 1 and c.args[0].name == param and (before is None or c.line < before)
                for c in callee.calls
            ):
                return True
    return False


# The Session methods taking objects, with the keyword of what they take.
_ADDED = {"add": "instance", "add_all": "instances"}


def _touched(function: facts.Function, held: set[str], start: int, line: int, names: set[str]) -> bool:
    """The object may be written by the flush at `line`: added to the Session, an attribute
    of it used, or it handed to a call that may set one (`setattr(item, key, value)` in the
    usual PATCH loop, `apply_patch(item, data)`), since it was bound (at `start`). `held`: its
    name, and those of its elements for a list (`for item in items: item.done = True`)."""
    if any(start <= at < line for at, receiver, _ in function.attributes if receiver in held):
        return True
    return any(
        start <= c.line <= line and any(a.name in held for a in c.args)
        and (c.receiver not in names or c.method in ("add", "add_all", "merge"))
        for c in function.calls
    )


def _returned_columns(models: Models, module: facts.Module, binding: facts.Binding) -> bool:
    """Whether `binding` is bound to what one `.returning(M.a, M.b)` of plain columns hands
    back (`update(Task)...returning(Task.id)`): rows of values, no ORM object."""
    tree = models.tree(module.path)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and node.lineno == binding.line and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id == binding.name):
            continue
        returning = [
            c for c in ast.walk(node.value)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "returning"
        ]
        if len(returning) != 1 or not returning[0].args or returning[0].keywords:
            return False
        return all(
            isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name)
            and models.column(f"{module.imports.get(a.value.id, f'{module.name}.{a.value.id}')}.{a.attr}")
            for a in returning[0].args
        )
    return False


def _instance(
    project: Project,
    models: Models,
    fid: FunctionId,
    function: facts.Function,
    module: facts.Module,
    binding: facts.Binding | None,
    param: facts.Param | None,
    names: set[str],
) -> tuple[Held, str | None]:
    """What a name holds, as far as expiry goes (`Held`), and its class when known."""
    if binding is None:
        if param is None:
            return Held.NONE, None
        for ref in param.annotation:
            cls = models.resolve(ref)
            if cls is not None and models.mapped(cls):
                return Held.PARAM, cls
        if param.depends is not None and not param.annotation:
            if no_object.dependency_holds_no_object(project, models, param):
                return Held.NONE, None  # `page=Depends(paging)` returning `Paging(...)` or an int
            return Held.PARAM, None  # what a dependency gives, untyped
        return Held.NONE, None
    expression = binding.expr
    head, _, rest = expression.partition("(")
    if not expression.startswith("$"):
        cls = models.resolve(head)
        if cls is not None:
            if rest == ")" and models.mapped(cls):
                return Held.ONE, cls
            return (Held.NONE, None) if not models.mapped(cls) else (Held.UNKNOWN, cls)
        owner, _, method = head.rpartition(".")
        model = models.resolve(owner) if method in SQLMODEL_BUILDERS else None
        if model is not None and models.mapped(model):
            # `Hero.model_validate(hero_in)`: a new object, as `Hero(...)`; an override of the
            # project's may return any object
            built = models.classes.built_by(head) if rest == ")" else None
            return (Held.ONE, built) if built is not None else (Held.UNKNOWN, model)
        target = project.function(head)
        if target is not None and expression.endswith("()") and expression.count("(") == 1:
            # a project function's result: an instance when it is given the Session
            given = _passes_session(function, binding, names)
        else:
            given = _given_session(project, fid, function, binding, names)
        return (Held.UNKNOWN, None) if given and not _no_object(project, models, fid, function, binding) else (
            Held.NONE, None
        )
    receiver = head[1:].split(".", 1)[0]
    if receiver not in names:
        # a method given the Session (`crud.get(db, pk)` on a local instance)
        given = _given_session(project, fid, function, binding, names)
        return (Held.UNKNOWN, None) if given and not _no_object(project, models, fid, function, binding) else (
            Held.NONE, None
        )
    held = session_call_result(expression)
    # `db.get(Item, pk)` names the class as the module imports it (`from app.models import Item`,
    # a package re-exporting it): the canonical class, or None for one outside the project
    got = _get_class(function, binding) if held is Held.MAYBE and expression.count("(") == 1 else None
    return held, models.resolve(got)


def session_call_result(expression: str) -> Held:
    """What a Session call's result holds, by the last method of the chain (`$db.get()`,
    `$self.db.execute().scalars().all()`)."""
    last = expression.rstrip(")").rstrip("(").rsplit(".", 1)[-1]
    if expression.count("(") == 1 and last == "get":
        return Held.MAYBE
    if last == "merge" and expression.endswith(")"):
        return Held.ONE  # the persistent copy of the object given
    if last in _COUNTS and expression.endswith(")"):
        return Held.NONE  # `query(...).update(...)`, `.delete()`, `.count()`: a number of rows
    if last in _ONE and expression.endswith("()"):
        return Held.ONE
    if last in _ONE_OR_NONE and expression.endswith("()"):
        return Held.MAYBE
    return Held.MANY


def _passed(
    project: Project, models: Models, fid: FunctionId, function: facts.Function, binding: facts.Binding,
    argument: str, session: str,
) -> expired_helpers.Returned | None:
    """What the caller's `argument`, handed back by the call `binding` binds, holds there: one
    instance of the Session (or None) as loaded or returned by a helper; None when not shown."""
    before = [b for b in function.bindings if b.name == argument and b.line < binding.line]
    if not before:
        return None
    source = before[-1]
    module = project.functions[fid][0]
    kind, cls = _instance(project, models, fid, function, module, source, None, project.session_names(fid))
    # not an object built here (`Item(...)`): the Session may not hold it, and refresh would raise
    if kind in (Held.ONE, Held.MAYBE) and source.expr.startswith("$") and expired_lists.entity(models, function, source):
        return expired_helpers.Returned("maybe" if kind is Held.MAYBE else "one", cls)
    if kind is Held.UNKNOWN:
        found = expired_helpers.returned(project, models, fid, function, source, session)
        if found is not None and found.shape in ("one", "maybe"):
            return found
    return None


def _no_object(
    project: Project, models: Models, fid: FunctionId, function: facts.Function, binding: facts.Binding
) -> bool:
    """The call `binding` binds runs project functions each shown to return no ORM instance
    (`total = count_books(db)` returning `n + 1` of a count query): nothing to refresh."""
    call = expired_helpers.bound_call(function, binding)
    return call is not None and no_object.call_returns_no_object(project, models, fid, call)


def _passes_session(function: facts.Function, binding: facts.Binding, names: set[str]) -> bool:
    return any(c.line == binding.line and any(a.name in names for a in c.args) for c in function.calls)


def _given_session(
    project: Project, fid: FunctionId, function: facts.Function, binding: facts.Binding, names: set[str]
) -> bool:
    """The name is bound to what a call given the Session returns (`crud_item.get(db, pk)`, a
    method of a project instance), or a method of a class holding a Session returns
    (`repo.get(pk)`): whatever it is, it may be an object of that Session."""
    call = expired_helpers.bound_call(function, binding)
    return call is not None and (
        any(a.name in names for a in call.args)
        or expired_helpers.on_holder(project, fid, call)
        or expired_helpers.holder_path(project, fid, call) is not None  # `uow.items.get(pk)`
    )


def _get_class(function: facts.Function, binding: facts.Binding) -> str | None:
    for call in function.calls:
        if call.line == binding.line and call.method == "get" and call.args:
            return call.args[0].ref
    return None
