"""Lazy loads that break under AsyncSession: relationship reads nothing eager-loaded.

Under asyncio, touching a relationship that is not loaded yet does implicit IO and raises
`MissingGreenlet`, in helper code and during FastAPI's response serialisation. Phase two follows
each read to its query to add the loader option there (`docs/analysis.md`, "Lazy loads in phase
two"); where the flow cannot, the read is judged by names, conservatively (AM220's doc).

Over 500 lines: one analysis (relationships, eager options, attribute reads, response models)
over shared per-route eager-load state.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import cast

from async_migrate.codemods import facts, session_methods
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.backrefs import project_backrefs
from async_migrate.codemods.classes import Classes, project_classes
from async_migrate.codemods.flow import INSTANCE, QUERY, split
from async_migrate.codemods.generic_models import returned_models
from async_migrate.codemods.held_session import type_var
from async_migrate.codemods.phase2.eager_flow import (
    Flow,
    Origin,
    OriginKind,
    Path,
    Resolved,
    dependency_provider,
    describe,
    query_of,
)
from async_migrate.codemods.phase2.eager_flow import conflicting as _conflicting
from async_migrate.codemods.phase2.handed_built import (
    Handed,
    InlineArgument,
    callees,
    handed_back,
    handed_built,
    inline_argument,
    shown_functions,
)
from async_migrate.codemods.phase2.model_members import (
    Members,
    Summary,
    instance_receiver,
    members,
    on_object_session,
)
from async_migrate.codemods.phase2.plain_params import plain_param
from async_migrate.codemods.phase2.refreshed import by_callers, by_name, by_query, only_set
from async_migrate.codemods.phase2.text_values import is_plain, is_text
from async_migrate.codemods.phase2.validations import (
    Validation,
    instance_code,
    model_validators,
    opaque,
    raw_field_validators,
    validation,
)
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.rules.am166_recursive_response_model import RULE as AM166
from async_migrate.codemods.rules.am220_lazy_load import RULE as AM220
from async_migrate.codemods.rules.am221_dynamic_relationship import RULE as AM221
from async_migrate.codemods.rules.am222_lazy_load_in_response import RULE as AM222
from async_migrate.codemods.rules.am241_session_held_elsewhere import RULE as AM241
from async_migrate.codemods.rules.am245_lazy_load_outside_reach import RULE as AM245
from async_migrate.codemods.rules.am247_lazy_load_unverified import RULE as AM247
from async_migrate.codemods.rules.am250_lazy_load_in_model_code import RULE as AM250
from async_migrate.codemods.rules.am251_deferred_column_read import RULE as AM251
from async_migrate.codemods.rules.am260_subclass_column_read import RULE as AM260
from async_migrate.codemods.serialised_reads import response_object
from async_migrate.codemods.vocabulary import ATTRIBUTE_BAGS
from async_migrate.codemods.vocabulary.python import CONTAINER_TYPES, SCALAR_TYPES
from async_migrate.codemods.vocabulary.sqlalchemy import (
    EAGER_STRATEGIES,
    MAPPED_AS_DATACLASS_BASES,
    NON_LOADING_STRATEGIES,
    POLYMORPHIC,
)
from async_migrate.codemods.vocabulary.sqlmodel import BUILDERS as SQLMODEL_BUILDERS

# What an annotation may wrap its one class in (`State | None`, `Optional[State]`).
_OPTIONAL_REFS = frozenset({"None", "typing.Optional", "typing.Union"})
# Strategies that load up front or never load implicitly: no MissingGreenlet from them.
SAFE_STRATEGIES = EAGER_STRATEGIES | NON_LOADING_STRATEGIES
# Bases of a pydantic model whose own configuration alone decides whether it reads an object's
# attributes (SQLModel's reads them whatever it says).
_PLAIN_MODEL_BASES = frozenset({
    "pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.v1.BaseModel", "pydantic.v1.main.BaseModel", "typing.Generic",
    "typing_extensions.Generic",
})

_MAX_DEPTH = 12  # nested response models
# Strategies that load a self-nesting schema's every level, as the synchronous lazy loads did:
# `immediate` loads each level's objects as they arrive; the others never load at all.
_ANY_DEPTH_STRATEGIES = NON_LOADING_STRATEGIES | {"immediate"}
# Methods of a query's result and of the lists and dicts holding objects (a model's own method
# of the same name is still found first).
_CONTAINER_METHODS = frozenset({
    "all", "first", "one", "one_or_none", "unique", "scalars", "scalar", "scalar_one", "scalar_one_or_none",
    "fetchall", "fetchone", "fetchmany", "mappings", "tuples", "columns", "partitions", "yield_per",
    "append", "extend", "insert", "index", "count", "copy", "keys", "values", "items", "get", "pop", "sort",
    "setdefault", "update", "add", "remove", "discard", "clear",
})


# Why model code's read on an object blocks when the flow finds no query loading the object.
UNTRACED = "the tool cannot trace the object to the query that loads it"


class RiskKind(str, Enum):
    """Where a lazy load happens (`LazyLoadRisk.kind`); a `str`, as `HandlerKind`."""

    ATTRIBUTE = "attribute"  # read in code
    RESPONSE = "response"  # read by serialization, through a response model's fields
    EXPIRED = "expired"  # read after a dependency's commit expired it (`phase1/expired_deps.py`, AM248)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class LazyLoadRisk:
    file: str  # posix path of the module, relative to the root
    line: int
    function: str  # dotted name of the function that reads it (the route, for response fields)
    attribute: str  # the relationship name read
    # The mapped class it belongs to when that is known: the receiver parameter's annotated
    # class, or the only class declaring a relationship of that name ("models.book.Book").
    owner: str | None
    message: str
    fix: str
    kind: RiskKind = RiskKind.ATTRIBUTE
    path: str = ""  # response: "BookDetail.author"; attribute: "book.author"
    routes: tuple[str, ...] = ()  # the analysed roots whose closure lacks the eager load
    code: str = AM220.code  # AM220 lazy load, AM221 dynamic relationship, AM222 read by the response
    # AM245: the dependency function the object comes from, when it comes from one, or (`offloaded`)
    # the function a call run in the threadpool ran to return it.
    dependency: FunctionId | None = None
    offloaded: bool = False
    # response: how deep the field lies in the response model the route returns (1: a field of
    # the model itself), read by name because the flow cannot follow the returned object; 0 for
    # everything else (a model validated in code, an object the flow traced)
    served: int = 0
    # AM250: the relationship path the model code reads, from the object it runs on (a response
    # field's property reading `self.author`: ((Book, "author"),)), for a refresh of a built object
    reads: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EagerFix:
    """A loader option to add to a query: `path` from its entity, for the reads of `routes`."""

    fid: FunctionId  # the function running the query
    load: int  # index in its `facts.Function.loads`
    path: Path
    file: str
    line: int
    routes: tuple[str, ...] = ()
    via: str = ""  # the model property or method whose code reads it ("Book.author_name")
    deferred: bool = False  # the path ends in a deferred column: `undefer` it (after the relationships)

    def describe(self, classes: Classes) -> str:
        return describe(classes, self.path)

    @property
    def what(self) -> str:
        return "deferred column" if self.deferred else "relationship"


@dataclass(slots=True)
class LazyLoads:
    risks: list[LazyLoadRisk]
    fixes: list[EagerFix]


@dataclass(frozen=True, slots=True)
class _Relationship:
    owner: str | None  # the class it is a relationship of; None for a backref the tool cannot place
    attribute: str
    strategy: str
    declared_in: str  # the class whose body declares it (for backrefs: the other class)
    backref: bool = False

    @property
    def lazy(self) -> bool:
        return self.strategy not in SAFE_STRATEGIES


def _as_lazy(candidates: list[_Relationship]) -> list[_Relationship]:
    """The declarations as read on an object no query loaded (one the code built and added): an
    eager strategy loads with a query of its class, so there it is a lazy load like "select"."""
    return [replace(c, strategy="select") if c.strategy in EAGER_STRATEGIES else c for c in candidates]


def lazy_load_risks(project: Project, function_ids: Iterable[FunctionId]) -> list[LazyLoadRisk]:
    """Relationship reads in the closures of `function_ids` that nothing eager-loads.

    Each function id is a root: its closure (AM220's doc) supplies both the
    code that is scanned and the eager loads that make a read safe. Routes among the
    roots also get their response model checked. Risks are deduplicated across
    roots (`routes` lists every root that lacks the eager load) and sorted.
    """
    return _Analysis(project).run(function_ids).risks


def own_lazy_load_risks(project: Project, fid: FunctionId, by_class: bool = True) -> list[LazyLoadRisk]:
    """The risks of `lazy_load_risks([fid])` that `fid` reads itself or its response model
    serialises: its closure credits eager loads, but only its own body is read (phase one and
    `check` ask this of every blocking `async def` handler, whose helpers are their own roots).
    `by_class` False: no option credits a read of the body by its class (`check` judges each
    read by the queries its object comes from)."""
    own = _Analysis(project, by_class=by_class).run([fid], own_only=True).risks
    module, function = project.functions[fid]
    name = f"{module.name}.{function.qualname}"
    return [risk for risk in own if risk.kind == "response" or risk.function == name]


def closure_eager_names(project: Project, fid: FunctionId) -> set[str]:
    """The attribute names the loader options naming a class (resolved or not) of `fid`'s closure
    load; not a string path's, a wildcard's, a refresh's nor an `awaitable_attrs` read's, which load
    on the objects of one query or on one object (`refreshed.by_name`, `Load.options`)."""
    analysis = _Analysis(project)
    return set(analysis.eager(analysis.closure(fid)))


def dependency_lazy_loads(project: Project, fid: FunctionId) -> list[LazyLoadRisk]:
    """Relationship reads in `fid`'s closure, or by its response model, on objects a dependency
    returned, that no query of the closure eager-loads: each is a lazy load (AM245 risks with
    their `dependency`), or a query (AM221: a lazy="dynamic" relationship is a Query); a deferred
    column no query undefers loads on its first read just the same (AM251)."""
    # Asked of a handler by phase one's decision and again by `check`'s finding.
    known = cast("dict[FunctionId, list[LazyLoadRisk]]", project.derived.setdefault("dependency_lazy_loads", {}))
    found = known.get(fid)
    if found is None:
        risks = _Analysis(project, fix=True, offloaded_sources=True).run([fid]).risks
        found = known[fid] = [
            risk for risk in risks
            if risk.code in (AM221.code, AM245.code, AM250.code, AM251.code) and risk.dependency is not None
        ]
    return list(found)


def lazy_loads(
    project: Project, function_ids: Iterable[FunctionId], followed: Iterable[FunctionId] = (),
    held_queries: bool = False,
) -> LazyLoads:
    """The risks of `lazy_load_risks`, except the reads the data flow leads back to a query
    phase two rewrites: those come back as fixes, the loader options to add to that query. An
    option credits the objects traced to its own query only (`_untraced`): a read the flow cannot
    trace is a risk whatever option names the class elsewhere.
    `followed`: dependencies whose async twins move with the route, whose queries get them too.
    `held_queries`: a query on a Session an instance holds, in a method of the closure, is one
    phase two rewrites too (`eager_flow.Flow`); not for `check`, which rewrites nothing."""
    return _Analysis(
        project, fix=True, followed=frozenset(followed), traced_only=True, held_queries=held_queries
    ).run(function_ids)


# ------------------------------------------------------------------ classes


def _get_options(function: facts.Function, load: facts.Load) -> facts.Arg | None:
    """The `options=` argument of a `session.get(...)` load, when it has one."""
    call = next((c for c in function.calls if c.index == load.index), None)
    return next((a for a in call.args if a.keyword == "options"), None) if call is not None else None


def _gets(function: facts.Function, load: facts.Load) -> bool:
    """A load through `get()` (`session.get(M, pk)`, a legacy `query(M)...get(pk)`), which
    returns an object the Session holds already without running its loader options."""
    if load.form == "get":
        return True
    call = next((c for c in function.calls if c.index == load.index), None)
    if load.form != "query" or call is None or call.query_chain is None:
        return False
    try:
        # the chain's text as written: a chain over several lines parses only inside the
        # parentheses that wrap it in the source
        chain = ast.parse(f"({call.query_chain})", mode="eval").body
    except SyntaxError:
        return True
    return isinstance(chain, ast.Call) and isinstance(chain.func, ast.Attribute) and chain.func.attr == "get"


def _get_unsound(classes: Classes, function: facts.Function, load: facts.Load) -> str | None:
    """Why `session.get(M, pk)` cannot become `select(M).where(M.<key> == pk)`, or None."""
    call = next((c for c in function.calls if c.index == load.index), None)
    if call is None or call.awaited:
        return "the tool does not find the call it would rewrite"
    if classes.primary_key(load.model) is None:
        return f"the tool does not find the one primary key column of {load.entity}"
    positional = [a for a in call.args if a.position is not None]
    # `with_for_update=True` (or a dict display of its keywords) carries over as the statement's
    # `.with_for_update(...)`; a name or attribute holding it is a value the rewrite cannot read.
    others = [
        a.keyword or "**" for a in call.args
        if a.position is None and a.keyword != "ident"
        and not (a.keyword == "with_for_update" and (
            a.name in ("True", "False", "None") or a.name is None and a.ref is None and a.expr is None
        ))
    ]
    if len(positional) + sum(a.keyword == "ident" for a in call.args) != 2 or len(positional) < 1 or others:
        return f"it passes {', '.join(others) or 'arguments'} beyond the model and one primary key value"
    return None


def _conflict_risk(classes: Classes, load: facts.Load, path: Path) -> tuple[str, str] | None:
    """Why no eager load for `path` can be added to a query whose options both load and leave
    lazy its first relationship (`_conflicting`), and the fix; None for no such query."""
    refused = [
        (owner, name) for owner, name in _conflicting(load.options or ())
        if name == path[0][1] and not owner.startswith("^")
    ]
    if not refused:
        return None
    return (
        f"the query at line {load.line}, which loads the object {describe(classes, path)} is read on, both "
        f"eager-loads and leaves lazy `{path[0][1]}`, which SQLAlchemy refuses whatever the order of the options "
        "(InvalidRequestError: a loader strategy in conflict with another), on the synchronous Session as on "
        "the AsyncSession",
        f"keep one loader option for `{path[0][1]}` in that query (`selectinload` to read it here), then run phase "
        "two again",
    )


def _get_risk(classes: Classes, function: facts.Function, load: facts.Load, path: Path) -> str | None:
    """Why an eager load for `path` cannot be added where `get()` loaded the object, or None."""
    described = describe(classes, path)
    if load.form == "query" and _gets(function, load):
        return (
            f"the legacy `{load.session}.query(...).get(...)` at line {load.line} loads the object {described} "
            f"is read on, and `get()` ignores loader options for an object the Session holds already "
            f"(a dependency sharing it may have loaded it): write it as "
            f"`{load.session}.scalars(select(...).where(...).options(...)).one_or_none()`"
        )
    if load.form == "merge":
        return (
            f"`{load.session}.merge(...)` at line {load.line} hands back the object {described} is read on, loaded "
            "by its key with none of its relationships, and the tool adds no loader option to a merge (it would "
            "not apply to an object the Session holds already): read it after `await "
            f"{load.session}.refresh(obj, attribute_names=[...])`, and migrate this route by hand"
        )
    if load.form != "get":
        return None
    if _get_options(function, load) is not None:
        # Loader options the tool does not read in full (`options=USER_LOAD`, or a list it
        # found no option for this path in): one added beside them may conflict with theirs.
        return (
            f"`{load.session}.get(...)` at line {load.line} passes `options=`, which `get()` ignores for an "
            f"object the Session holds already (a dependency sharing it may have loaded it): {described} "
            f"needs loading there; write it as "
            f"`{load.session}.scalars(select(...).where(...).options(...)).one_or_none()`"
        )
    unsound = _get_unsound(classes, function, load)
    if unsound is None:
        return None
    return (
        f"`{load.session}.get(...)` at line {load.line} loads the object {described} is read on; "
        f"`get()` returns an object the Session holds already (a dependency may have loaded it) "
        f"and then ignores loader options, so phase two turns it into a `select` on the primary "
        f"key, but {unsound}"
    )


# What reads every field of a dataclass instance, relationships included (`dataclasses.asdict`).
_ENCODERS = frozenset({"dataclasses.asdict", "dataclasses.astuple", "fastapi.encoders.jsonable_encoder"})


def _relationships(classes: Classes) -> dict[str, list[_Relationship]]:
    """Relationship name -> every declaration of it, backrefs on the class they land on."""
    found: dict[str, list[_Relationship]] = {}
    for ref, (_, declared) in classes.by_ref.items():
        for attribute, strategy in declared.relationships.items():
            found.setdefault(attribute, []).append(_Relationship(ref, attribute, strategy, ref))
    backrefs = project_backrefs(classes)
    for landing, backref in backrefs.placed():
        found.setdefault(backref.attribute, []).append(
            _Relationship(landing, backref.attribute, backref.strategy, backref.declared_in, backref=True)
        )
    for attribute, unplaced in backrefs.unplaced.items():
        for backref in unplaced:
            found.setdefault(attribute, []).append(
                _Relationship(None, attribute, backref.strategy, backref.declared_in, backref=True)
            )
    return found


# ---------------------------------------------------------------- analysis


@dataclass(slots=True)
class _Eager:
    owners: set[str | None]  # canonical class refs; None: any class (unresolved or string)

    def credits(self, relationship: _Relationship, classes: Classes) -> bool:
        if None in self.owners or relationship.owner is None:
            return True
        return any(
            owner is not None and relationship.owner in classes.mro(owner) for owner in self.owners
        )


_COLUMN_CALLS = frozenset({"mapped_column", "Column", "column_property", "deferred"})


def narrowed_column(classes: Classes, loader: facts.Function, model: str, name: str) -> str | None:
    """Why column `name` of an object of `model` a query of `loader` loads is left unloaded: a
    `load_only(...)` there that does not name it, or a `defer(...)` that does (the facts keep the
    options of every query of the function, as written: a class re-exported by a package is read
    as the class), or None. Its first read is a SELECT, MissingGreenlet on an AsyncSession."""
    model = classes.resolve(model) or model
    if not loader.narrowed or model not in classes.by_ref:
        return None
    mro = classes.mro(model)
    for written_owner, option, names in loader.narrowed:
        owner = classes.resolve(written_owner) or written_owner
        if owner not in mro:
            continue
        written = ", ".join(f"{classes.short(owner)}.{n}" for n in names)
        if option == "load_only" and name not in names and _maps_column(classes, mro, name):
            return f"`load_only({written})` in {loader.qualname} leaves it unloaded (or name it there too)"
        if option == "defer" and name in names:
            return f"`defer({written})` in {loader.qualname} leaves it unloaded (or drop it from there)"
    return None


def _maps_column(classes: Classes, mro: tuple[str, ...], name: str) -> bool:
    """Whether the class order maps `name` as a column other than the primary key, which
    `load_only` always loads."""
    for ref in mro:
        declared = classes.by_ref[ref][1]
        if name in declared.relationships or name in declared.primary_keys:
            return False
        callee = declared.built.get(name, "")
        annotation = declared.annotations.get(name, ())
        if callee.rsplit(".", 1)[-1] in _COLUMN_CALLS or annotation and annotation[0].rsplit(".", 1)[-1] == "Mapped":
            return True
    return False


@dataclass(frozen=True, slots=True)
class _ModelCalls:
    # in the function's order: what each validates, or None for a model built from keywords
    validated: tuple[tuple[facts.Call, Validation | None], ...]
    encoded: tuple[facts.Call, ...]  # `dataclasses.asdict(x)`, `jsonable_encoder(x)`


class _Analysis:
    def __init__(
        self, project: Project, fix: bool = False, offloaded_sources: bool = False,
        followed: frozenset[FunctionId] = frozenset(), by_class: bool = True, traced_only: bool = False,
        held_queries: bool = False,
    ) -> None:
        self.project = project
        self.fix = fix
        self.held_queries = held_queries  # see `lazy_loads`
        self.by_class = by_class  # see `own_lazy_load_risks`
        self.traced_only = traced_only  # see `lazy_loads`
        self.followed = followed  # see `eager_flow.Flow`
        self.offloaded_sources = offloaded_sources  # see `eager_flow.Flow`
        self.fixes: dict[tuple[FunctionId, int, Path], EagerFix] = {}
        self.flow: Flow | None = None
        self._declarations: Flow | None = None
        self.classes = project_classes(project)
        if "lazy_load_relationships" not in project.derived:
            project.derived["lazy_load_relationships"] = _relationships(self.classes)
        self.relationships = cast("dict[str, list[_Relationship]]", project.derived["lazy_load_relationships"])
        self.found: dict[tuple[object, ...], LazyLoadRisk] = {}
        self.members: Members = members(project, self.classes)
        # column name -> the classes deferring it, for every analysis of this project
        self._deferred_by_name = cast(
            "dict[str, list[str]]", project.derived.setdefault("lazy_load_deferred", {})
        )
        self._inert_members = cast(
            "dict[tuple[str, str, str], bool]", project.derived.setdefault("lazy_load_inert_members", {})
        )
        self._members: dict[FunctionId, frozenset[FunctionId]] = {}  # a root's closure, for `_handed`
        self._plain_params: dict[tuple[FunctionId, FunctionId, str], bool] = {}  # see `_plain_param`
        self._successors = cast(
            "dict[FunctionId, tuple[FunctionId, ...]]", project.derived.setdefault("lazy_load_successors", {})
        )
        # functions handed by name to code outside the project (`transformer=owner_names`), kept with
        # the successors they are found with
        self._handed_by_name = cast("set[FunctionId]", project.derived.setdefault("lazy_load_handed_by_name", set()))
        self._receivers = cast(
            "dict[tuple[FunctionId, str], list[str] | None]", project.derived.setdefault("lazy_load_receivers", {})
        )
        self._model_calls = cast(
            "dict[FunctionId, _ModelCalls]", project.derived.setdefault("lazy_load_model_calls", {})
        )
        # the classes defining an attribute, or declaring it a field of a mapped class, by name
        self._owners_by_name = cast(
            "dict[str, frozenset[str]]", project.derived.setdefault("lazy_load_owners_by_name", {})
        )
        # what the flows of this project's closures resolved, reused where it cannot differ
        # (kept apart per view of offloaded calls: the same term resolves differently in each)
        shared = (
            "lazy_load_resolved_offloaded" if offloaded_sources
            else "lazy_load_resolved_held" if held_queries else "lazy_load_resolved"
        )
        self._resolved = cast("Resolved", project.derived.setdefault(shared, Resolved()))
        # The references named beside a generic model where a route's validation reads it
        # (`Page[CourseOut]`): what its fields typed by a type parameter (`items: list[T]`) may
        # hold. Every one is taken for every parameter: an option for a class the objects are not
        # names no relationship of theirs, and none is added.
        self._type_args: set[str] = set()
        # the returned name, the function whose result it is, and the call written in place it hands back
        self._handed_back_by: tuple[str, str, InlineArgument | None] | None = None
        self._got_back_by: tuple[str, frozenset[str]] | None = None
        self._type_vars: dict[str, bool] = {}
        self._modelless_annotations = cast(
            "dict[tuple[str, ...], bool]", project.derived.setdefault("lazy_load_modelless", {})
        )

    def run(self, function_ids: Iterable[FunctionId], own_only: bool = False) -> LazyLoads:
        for root in dict.fromkeys(function_ids):
            if root not in self.project.functions:
                continue
            members = self.closure(root)
            eager = self.eager(members)
            self.flow = (
                Flow(
                    self.project, self.classes, set(members), self._resolved, self.offloaded_sources, self.followed,
                    self.held_queries,
                )
                if self.fix
                else None
            )
            for member in members[:1] if own_only else members:
                self.attribute_risks(root, member, eager)
            if self._route(root) is not None:
                self.response_risks(root, eager)
        risks = sorted(self.found.values(), key=lambda r: (r.file, r.line, r.kind, r.path, r.attribute))
        fixes = sorted(self.fixes.values(), key=lambda f: (f.file, f.line, f.path))
        return LazyLoads(risks, fixes)

    # -------------------------------------------------------------- closure

    def closure(self, root: FunctionId) -> list[FunctionId]:
        order = [root]
        seen = {root}
        index = 0
        while index < len(order):
            current = order[index]
            index += 1
            for following in self._next(current):
                if following not in seen:
                    seen.add(following)
                    order.append(following)
        return order

    def _next(self, fid: FunctionId) -> tuple[FunctionId, ...]:
        """What `fid` calls and the dependencies it declares (kept per project: the closures of
        a project's routes share their helpers and dependencies)."""
        found = self._successors.get(fid)
        if found is None:
            found = self._successors[fid] = tuple(self._find_next(fid))
        return found

    def _find_next(self, fid: FunctionId) -> Iterable[FunctionId]:
        _, function = self.project.functions[fid]
        for edge in self.project.all_calls_from.get(fid, ()):
            yield edge.callee
        sessions = self.project.session_names(fid)
        for call in function.calls:
            # `add_task(send_receipt, order)`: the task reads the objects it is handed after the
            # response, outside the request's greenlet, where a lazy load raises MissingGreenlet.
            # One handed only values (`add_task(report, run.id)`) loads its own on its own Session.
            task = self.project.background_task(call)
            if task is not None:
                if any(arg.name is not None and arg.name not in sessions for arg in call.args if arg.position != 0):
                    yield task
                continue
            # `apaginate(db, q, transformer=to_bylines)`, `sorted(books, key=by_author)`: a project
            # function handed by name to code outside the project runs there, on the event loop, on
            # the objects the route loaded; its reads are the route's. One handed to a thread is
            # not (offloaded), and a project callee calls it the way the call graph already follows.
            if call.offloaded or call.callee is None or self.project.function(call.callee) is not None:
                continue
            for arg in call.args:
                # a function, or a method of a module-level instance (`transformer=RENDERER.rows`)
                handed = self.project.endpoint(arg.ref) if arg.ref is not None else None
                if handed is not None:
                    self._handed_by_name.add((handed[0].name, handed[1].key))
                    yield (handed[0].name, handed[1].key)
        refs: list[str] = []
        for param in function.params:
            if param.depends:
                refs.append(param.depends)
            for ref in param.annotation:
                target = self.project.resolve(ref)
                if target is not None and target.kind == "value" and target.value is not None:
                    if target.value.depends:
                        refs.append(target.value.depends)
        for decorator in function.decorators:
            refs.extend(decorator.depends)
        for ref in refs:
            # a function, or a method of a module-level instance (`Depends(auth.get_current_user)`)
            found = self.project.function(ref) or self.project.endpoint(ref)
            if found is not None:
                yield (found[0].name, found[1].key)
            else:
                provider = dependency_provider(self.project, self.classes, ref)
                if provider is not None:
                    yield provider

    def eager(self, members: list[FunctionId]) -> dict[str, _Eager]:
        eager: dict[str, _Eager] = {}
        for fid in members:
            _, function = self.project.functions[fid]
            for owner, attribute in function.eager:
                entry = eager.setdefault(attribute, _Eager(set()))
                entry.owners.add(self.classes.resolve(owner) if owner else None)
        return eager

    def _uncredited(
        self, candidates: list[_Relationship], attribute: str, eager: dict[str, _Eager]
    ) -> list[_Relationship]:
        credit = [e for e in (eager.get(attribute), eager.get("*")) if e is not None]
        # a "dynamic" relationship cannot be eager-loaded at all: no option makes it safe
        return [
            c
            for c in candidates
            if c.lazy and (c.strategy == "dynamic" or not any(e.credits(c, self.classes) for e in credit))
        ]

    def _untraced(
        self, eager: dict[str, _Eager], source: Origin | None = None, fid: FunctionId | None = None
    ) -> dict[str, _Eager]:
        """What credits a read judged by names. Phase two (`traced_only`): an option loads on the
        objects of the query it is written in, so one naming the class in another query of the
        route loads nothing of an object the flow traces to no query (one a dict, `next(iter(...))`
        or an untraced helper hands back): none credits it. An object a dependency that stays on its
        Session returns is credited by the options of that dependency's closure only. In a function
        handed by name to code outside the project (`apaginate(db, q, transformer=owner_names)`),
        which calls it on what it loads from the query it is handed beside it, the closure's
        options still credit the read (AM220's doc, "Not detected")."""
        if not self.traced_only or (fid is not None and fid in self._handed_by_name):
            return eager
        if source is not None and source.held >= 0:
            return self._held_eager(source)
        if source is not None and source.dependency is not None and source.dependency in self.project.functions:
            return self.eager(self.closure(source.dependency))
        return {}

    def _held_eager(self, source: Origin) -> dict[str, _Eager]:
        """What the loader options written in a query on a Session an instance holds load with it
        (`eager_flow.Flow._held_load`): each relationship, under the class it is of (a chained
        option's by the path it follows); none when the options cannot be read there."""
        function = self.project.functions[source.fid][1]
        load = function.held_loads.get(source.held)
        eager: dict[str, _Eager] = {}
        if load is None or load.form not in ("select", "query") or _gets(function, load):
            return eager  # a get() hands back an object the Session holds as it is, whatever its options
        refused = _conflicting(load.options or ())
        # the last wildcard of an entity wins over the others (`_own_option`)
        wild = {owner: loads for owner, attribute, loads in load.options or () if attribute == "*"}
        for owner, attribute, loads in load.options or ():
            if loads and (owner, attribute) not in refused and (attribute != "*" or wild[owner]):
                eager.setdefault(attribute, _Eager(set())).owners.add(self._option_owner(owner))
        return eager

    def _option_owner(self, owner: str) -> str | None:
        """The class an option's entity names (`facts.Load.options`): a class reference, or a path
        from one (`^models.Order|lines`: what `Order.lines` leads to); None for any entity."""
        if not owner.startswith("^"):
            return self.classes.resolve(owner) if owner and not owner.startswith("=") else None
        first, *steps = owner[1:].split("|")
        found = self.classes.resolve(first)
        flow = self._names()
        for step in steps:
            found = flow.target(found, step) if found is not None else None
        return found

    # ------------------------------------------------------ attribute reads

    def attribute_risks(self, root: FunctionId, fid: FunctionId, eager: dict[str, _Eager]) -> None:
        _, function = self.project.functions[fid]
        for line, receiver, attribute in function.attributes:
            origins = self.flow.name(fid, receiver) if self.flow is not None else None
            if origins is None:
                self._named_read(root, fid, line, receiver, attribute, eager)
                if self.flow is not None:
                    self._named_member(root, fid, line, receiver, attribute, "read", eager)
                    self._named_deferred(root, fid, line, receiver, attribute, eager)
            else:
                self._traced_read(root, fid, line, receiver, attribute, origins, eager)
        for line, written, term, name, how in function.uses:
            if how in ("call", "str", "getattr"):
                self._use(root, fid, line, written, term, name, how, eager)
        if self.flow is None:
            # `return UserOut.model_validate(user)`: the model reads its fields where the call runs,
            # judged by their names as a response model's are
            self._validated(root, fid, eager)
            return
        # `order.status = x` runs `@validates("status")` on the object, in the route, and a
        # property's (or hybrid's) setter: the relationships they read load there
        hooks = self.members.write_hooks()
        for line, receiver, attribute in function.stores:
            if receiver not in ("self", "cls"):  # a method's own writes: `Members.summary` judges them
                self._written(root, fid, line, receiver, attribute, hooks.get(attribute, ()), eager)
        # `order.order_lines.append(line)` runs them too, for a collection: taken for any read
        # of a relationship they watch
        stored = set(function.stores)
        for line, receiver, attribute in function.attributes:
            if attribute in hooks and attribute in self.relationships and (line, receiver, attribute) not in stored:
                changes = [h for h in hooks[attribute] if h[1] != "set"]
                self._written(root, fid, line, receiver, attribute, changes, eager)
        # `b.author.books`: a path of relationships, loaded by one chained option
        for line, written, term, attribute in function.chains:
            origins = self.flow.resolve(fid, term)
            if origins is None:
                self._named_read(root, fid, line, written, attribute, eager)
                self._named_member(root, fid, line, written, attribute, "read", eager)
                self._named_deferred(root, fid, line, written, attribute, eager)
            else:
                self._traced_read(root, fid, line, written, attribute, origins, eager)
        self._validated(root, fid, eager)
        self._encoded_calls(root, fid)

    def _written(
        self, root: FunctionId, fid: FunctionId, line: int, receiver: str, attribute: str,
        hooks: Iterable[tuple[str, str]], eager: dict[str, _Eager],
    ) -> None:
        """The model code a write of an attribute of `receiver` runs (`Members.write_hooks`): on an
        object of a query, as any member; on one the flow does not trace, judged by the member's
        name (a hook that reads no relationship is no risk, whatever the object)."""
        assert self.flow is not None
        origins = self.flow.name(fid, receiver)
        shown = f"a change of `{receiver}.{attribute}`"
        for member, how in hooks:
            for origin in origins if origins is not None else [None]:
                if origin is not None and origin.kind is OriginKind.LOAD and origin.model is not None:
                    self._member(root, fid, line, receiver, origin, member, how, eager, shown)
                elif origin is None or origin.kind in (OriginKind.SOURCE, OriginKind.UNVERIFIED):
                    source = origin if origin is not None and origin.kind is OriginKind.SOURCE else None
                    self._named_member(root, fid, line, receiver, member, how, eager, source=source, shown=shown)

    def _validated(self, root: FunctionId, fid: FunctionId, eager: dict[str, _Eager]) -> None:
        """`AuthorOut.model_validate(author)` (or `from_orm`) in code: the model reads every field
        from the object, as a response model does when FastAPI serialises it."""
        module, function = self.project.functions[fid]
        for call, validated in self._calls_of_models(fid).validated:
            if validated is None:
                self._built(root, module, function, fid, call, eager)
                continue
            given = validated.given
            if given.data is not None and not any(
                name in self.relationships or self.members.named(name) for name in given.data
            ):
                # `model_validate(deepcopy(row.meta or {}))`: literals and column values, no ORM object
                continue
            self._type_args = set(validated.refs)
            origins = self.flow.name(fid, given.name) if self.flow is not None and given.name else None
            shown = function.given_dicts.get(call.index) if given.position == 0 else None
            if origins is None and shown is not None and self.flow is not None:
                # `AuthorOut.model_validate({"id": a.id, "books": n})`: the model reads the dict's
                # keys, each field what its value holds (a count is no relationship read, whatever
                # the field is named)
                origins = [Origin(OriginKind.DICT, fid, term=shown)]
            for model in validated.models:
                if not self.classes.fields(model):
                    continue
                name = self.classes.short(model)
                if origins is None:
                    typed = self._typed({p.name: p for p in function.params}.get(given.name or ""))
                    if (validated.method and self.classes.is_mapped(model)) or (
                        typed and not any(map(self.classes.is_mapped, typed))
                    ):
                        # a table model built from input (`User.model_validate(user_in)`), or a model
                        # validated from a parameter of a class that is no ORM model: nothing loads
                        continue
                    self._walk(root, module, function, call.line, model, name, (model,), eager)
                    continue
                for origin in origins:
                    self._serialise(root, module, function, call.line, model, name, (model,), eager, origin)

    def _calls_of_models(self, fid: FunctionId) -> _ModelCalls:
        """The calls of `fid` that `_validated` and `_encoded_calls` may act on, kept per project:
        every route whose closure reaches a helper reads them again, and most calls are neither."""
        found = self._model_calls.get(fid)
        if found is None:
            _, function = self.project.functions[fid]
            validated: list[tuple[facts.Call, Validation | None]] = []
            encoded: list[facts.Call] = []
            for call in function.calls:
                if call.nested:
                    continue  # neither validates nor builds a model the analysis reads
                if self.project.canonical(call.callee) in _ENCODERS:
                    encoded.append(call)
                given = validation(self.project, self.classes, call)
                if given is not None or (
                    # what `_built` needs before the flow: keywords given to a class with fields
                    function.keywords.get(call.index) is not None and call.callee
                    and (model := self.classes.resolve(call.callee)) is not None and self.classes.fields(model)
                ):
                    validated.append((call, given))
            found = self._model_calls[fid] = _ModelCalls(tuple(validated), tuple(encoded))
        return found

    def _built_schema(self, function: facts.Function, term: tuple) -> bool:
        """Whether the returned `term` is a project schema (no mapped class) built from keywords
        (`RoomStats(room_id=room_id, messages=n)`), or one of them (`a if c else b`)."""
        if term[0] in ("tuple", "any"):
            return bool(term[1]) and all(self._built_schema(function, t) for t in term[1])
        if term[0] != "call":
            return False
        call = next((c for c in function.calls if c.index == term[1]), None)
        if call is None or call.nested or not call.callee or function.keywords.get(call.index) is None:
            return False
        if call.unpacks_keywords or call.splatted or any(a.keyword is None for a in call.args):
            return False  # `Out(*values)`, `Out(**row)`: fields the analysis cannot name
        model = self.classes.resolve(call.callee)
        return model is not None and bool(self.classes.fields(model)) and self._names().validates(model)

    def _built(
        self, root: FunctionId, module: facts.Module, function: facts.Function, fid: FunctionId, call: facts.Call,
        eager: dict[str, _Eager],
    ) -> None:
        """`CardOut(course=course, note="x")`: a schema built from keywords validates each one into
        its field where the call runs, a nested model from the ORM object given, as a response
        model would (returned or not)."""
        keywords = function.keywords.get(call.index)
        model = self.classes.resolve(call.callee) if keywords is not None and call.callee and not call.nested else None
        if model is None or keywords is None or self.flow is None or not self.flow.validates(model) \
                or not self.classes.fields(model):
            return
        self._type_args = {model, *call.type_args, *self._type_args}
        name = self.classes.short(model)
        origin = Origin(OriginKind.DICT, fid, term=keywords, built=model)
        self._serialise(root, module, function, call.line, model, name, (model,), eager, origin)

    def _fields(self, model: str) -> list[tuple[str, tuple[str, ...]]]:
        """The attributes validating `model` from an object reads: its fields, and the names a
        string alias gives them (`Field(alias="author_name")`)."""
        fields = self.classes.fields(model)
        aliases = self._aliases(model)
        return fields + [
            (alias, annotation) for name, annotation in fields
            if (alias := aliases.get(name)) not in (None, "?", name) and "." not in alias
        ]

    def _paths(self, model: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The attribute chains `AliasPath("author", "name")` fields read, with their annotations."""
        aliases = self._aliases(model)
        return [
            (tuple(alias.split(".")), annotation) for name, annotation in self.classes.fields(model)
            if "." in (alias := aliases.get(name) or "")
        ]

    def _reads_attributes(self, model: str) -> bool:
        """Whether pydantic model `model` validates an object that is no dict nor its own instance
        by reading its attributes when it is built (`from_attributes=True`, v1's `orm_mode`, a
        configuration the tool cannot read, a base from another library such as SQLModel)."""
        for ancestor in self.classes.mro(model):
            _, declared = self.classes.by_ref[ancestor]
            if declared.from_attributes:
                return True
            outside = {self.project.canonical(b) or b for b in declared.bases if self.classes.resolve(b) is None}
            if outside - _PLAIN_MODEL_BASES:
                return True
        return False

    def _aliases(self, model: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for ancestor in reversed(self.classes.mro(model)):
            found.update(self.classes.by_ref[ancestor][1].aliases)
        return found

    def _opaque_validation(self, model: str, traced: bool = False, validators: bool = True) -> str | None:
        """Why validating `model` from an object reads it by more than its field names, or None:
        an alias path or generator, or (unless not `validators`) a `before`/`wrap` model validator,
        which gets the object. `traced`: the object's class is known, so an `AliasPath` of names
        is followed."""
        aliases = self._aliases(model)
        if "*" in aliases:
            return f"{self.classes.short(model)} derives its field aliases with an alias generator"
        unread = sorted(name for name, alias in aliases.items() if alias == "?" or (not traced and "." in alias))
        if unread:
            return f"{self.classes.short(model)}.{unread[0]} is validated through an alias path or choices"
        if not validators:
            return None
        for fid, _ in model_validators(self.project, self.classes, model):
            validator = self.project.functions[fid][1]
            root = any((self.project.canonical(d.callee) or "").endswith("root_validator") for d in validator.decorators)
            return f"{'root' if root else 'model'} validator {self.classes.short(self.classes.owner(fid))}." \
                   f"{validator.name} receives the object itself"
        return None

    def _named_read(
        self,
        root: FunctionId,
        fid: FunctionId,
        line: int,
        receiver: str,
        attribute: str,
        eager: dict[str, _Eager],
        source: Origin | None = None,
    ) -> None:
        """A read judged by names (AM220's doc); `source`: where the flow says the object
        comes from, when that is somewhere phase two cannot add an option (AM245)."""
        module, function = self.project.functions[fid]
        eager = self._untraced(eager, source, fid)
        candidates = self.relationships.get(attribute)
        if not candidates:
            return
        params = {param.name: param for param in function.params}
        param = params.get(receiver) or _iterated_param(function, params, receiver)
        typed = self._typed(param)
        if not typed and self._attribute_bag(param):
            return  # `state.posts` on a `State`: a value stored under that name, not the relationship
        if typed:
            # an instance of a subclass may be passed: its relationships count as well
            declaring = {a for t in typed for a in (*self.classes.mro(t), *self.classes.subclasses(t))}
            candidates = [c for c in candidates if c.owner in declaring]
            if not candidates:
                return  # an attribute of the annotated class, not a relationship
        elif self._plain_object(fid, receiver):
            return  # `uow.stock` on a unit of work: an attribute of a class no mapper knows
        elif self._validated_field(function, receiver, attribute):
            return  # `out = ItemPublic.model_validate(item)` ... `out.owner`: a field validation filled
        if self._transient(function, line, receiver, attribute):
            return  # `order = Order(...)`, not handed to the Session yet: nothing to load from
        built = self._built_object(function, receiver)
        declared_eager = False
        below = self._below_built(function, receiver) if built is None else None
        handed = self._handed(root, fid, function, receiver) if built is None and below is None else None
        if handed is not None:
            # `org_size(user)` on a `user` the route built: the helper's `u.org` reads it (a built
            # object), `u.org.items` reads below it
            if handed.model is not None and "." not in receiver and receiver not in function.holds:
                built = handed.model
            else:
                below = receiver.partition(".")[0]
        returned_by = (
            self._returned_by(function, receiver, fid) if source is None and built is None and below is None and handed is None
            else None
        )
        if returned_by is not None:
            # `user = make_user(db, ...)` ... `user.org.items`: what a project function hands back and the
            # flow traces to no query (it may build it) is loaded by no query known: a relationship
            # declared eager loads with a query of its class only, so it counts as lazy here
            declared_eager = any(c.strategy in EAGER_STRATEGIES for c in candidates)
            candidates = _as_lazy(candidates)
        if below is not None:
            # `user.org.items`, `org = user.org` ... `org.items` on a `user` the code builds: what
            # the relationship leads to may be built as well or already in the Session, where
            # loading `user.org` by key (a refresh naming it too) finds it and runs no query of its
            # class: what that class declares eager is left to load on first read
            declared_eager = any(c.strategy in EAGER_STRATEGIES for c in candidates)
            candidates = _as_lazy(candidates)
        if built is not None:
            # No query loaded it: a relationship declared eager (`lazy="joined"`, `"selectin"`,
            # a backref's) loads with a query of its class, and on this object loads on first read
            candidates = self._on(candidates, frozenset({built}), attribute)[0]
            declared_eager = any(c.strategy in EAGER_STRATEGIES for c in candidates)
            candidates = _as_lazy(candidates)
        if not self.by_class or built is not None or below is not None or handed is not None:
            # an option loads on the objects of the query it is written in: one the code builds
            # (or reaches from one) is none's
            eager = {}
        # `refresh(obj, attribute_names=[...])`, `obj.awaitable_attrs.rel`: on this very object
        refreshed = by_name(function, receiver, line, attribute) or self._refreshed_by_callers(
            root, fid, receiver, attribute
        )
        if receiver in function.plain_gets:
            # `session.get(M, pk)` without options loads no relationship, whatever
            # other queries of the closure eager-load: only a refresh of the object makes the read safe.
            risky = [c for c in candidates if c.lazy and (c.strategy == "dynamic" or not refreshed)]
        else:
            risky = self._uncredited(candidates, attribute, eager)
            if refreshed:  # no refresh loads a dynamic relationship
                risky = [c for c in risky if c.strategy == "dynamic"]
        if not risky:
            return
        safe = [c for c in candidates if c not in risky]
        key = ("attribute", module.path, line or function.line, function.key, receiver, attribute)

        def build() -> LazyLoadRisk:
            risk = self._attribute_risk(module, function, line, receiver, attribute, risky, safe, typed)
            unloaded = ", not eager-loaded in the queries this code path runs"
            if handed is not None:
                risk = replace(risk, message=risk.message.replace(
                    unloaded,
                    f"{', declared eager,' if declared_eager else ''} loaded by no query: "
                    f"{handed.describe(receiver)}, so it loads on first read",
                ))
                risk = replace(risk, message=risk.message.partition("; fix: ")[0] + "; " + handed.fix(attribute))
            elif declared_eager:
                why = None
                if built is not None:
                    why = (f", declared eager, which loads it with a query of {self.classes.short(built)}: "
                           f"`{receiver}` is one the code builds, which no query loads")
                elif returned_by is not None:
                    why = (f", declared eager, which loads it with a query of its class: `{receiver}` is reached "
                           f"from what {returned_by}() returns, which the tool traces to no query (one it builds, or "
                           "one code it does not follow runs), so none is known to load it")
                elif below is not None:
                    why = (f", declared eager, which loads it with a query of its class: `{receiver}` is reached "
                           f"from `{below}`, which the code builds, and loading it by key (a refresh naming it too) "
                           "finds one already in the Session, built as well or loaded before, without such a query")
                if why is not None:
                    risk = replace(risk, message=risk.message.replace(unloaded, why))
            if source is None:
                return risk
            if risk.code == AM221.code:  # no option helps: it stays AM221, naming the dependency
                return replace(risk, dependency=source.dependency, offloaded=source.offloaded)
            conflict = self._held_conflict(source, attribute)
            if conflict is not None:
                return replace(_from_source(risk, source), message=(
                    f"{risk.message.partition(unloaded)[0]}: {source.where}, which loads `{receiver}`, both "
                    f"eager-loads and leaves lazy `{attribute}` ({conflict}), which SQLAlchemy refuses whatever their "
                    "order (InvalidRequestError: a loader strategy in conflict with another), on the synchronous "
                    "Session as on the AsyncSession"
                ), fix=f"keep one loader option for `{attribute}` in that query (`selectinload` to read it here)")
            return _from_source(risk, source)

        self._add(key, root, build)

    def _held_conflict(self, source: Origin, attribute: str) -> str | None:
        """The options' kinds in order (`lazy, then eager`) where the query on a Session an instance
        holds that `source` names both loads and leaves lazy `attribute` (`_conflicting`), else None."""
        if source.held < 0:
            return None
        load = self.project.functions[source.fid][1].held_loads.get(source.held)
        if load is None:
            return None
        refused = [key for key in _conflicting(load.options or ()) if key[1] == attribute]
        if not refused:
            return None
        kinds = [
            "eager" if loads else "lazy" for owner, name, loads in load.options or () if (owner, name) in refused
        ]
        return ", then ".join(kinds)

    def _traced_read(
        self,
        root: FunctionId,
        fid: FunctionId,
        line: int,
        receiver: str,
        attribute: str,
        origins: list[Origin],
        eager: dict[str, _Eager],
    ) -> None:
        """`receiver.attribute` where the flow knows where `receiver` comes from."""
        assert self.flow is not None
        module, function = self.project.functions[fid]
        where = line or function.line
        for origin in origins:
            if origin.kind is OriginKind.LOAD and origin.model is not None:
                strategy = self.flow.step(origin, attribute)
                if strategy is None:
                    self._member(root, fid, line, receiver, origin, attribute, "read", eager)
                    continue
                option = self._unloading_option(origin, attribute) if strategy != "dynamic" else None
                if option is not None:
                    self._unloaded(root, module, function, where, f"`{receiver}.{attribute}`",
                                   f"{receiver}.{attribute}", origin.model, attribute, option)
                    continue
                if strategy in SAFE_STRATEGIES and not self._got_built(root, origin, strategy):
                    continue
                if strategy == "dynamic":  # no option makes it safe: reported by name
                    self._named_read(root, fid, line, receiver, attribute, eager)
                elif not by_name(function, receiver, line, attribute) and not self._loaded(
                    origin, attribute, eager, (fid, line)
                ):
                    self._add_fix(root, origin, (*origin.path, (origin.model, attribute)))
            elif origin.kind is OriginKind.LOAD:
                self._flow_risk(root, module, function, where, f"{receiver}.{attribute}", AM247,
                                f"`{receiver}.{attribute}` reads through a relationship whose target class the "
                                "tool cannot resolve: whether it loads lazily is unverified")
            elif origin.kind is OriginKind.UNVERIFIED:
                self._flow_risk(root, module, function, where, f"{receiver}.{attribute}", AM247,
                                f"`{receiver}.{attribute}` reads an object of {origin.where}: whether "
                                f"`{attribute}` is a relationship that loads lazily is unverified", origin.fix)
            elif origin.kind is OriginKind.SOURCE:
                self._named_read(root, fid, line, receiver, attribute, eager, source=origin)
                self._named_member(root, fid, line, receiver, attribute, "read", eager, source=origin)
                self._named_deferred(root, fid, line, receiver, attribute, eager, source=origin)

    # ------------------------------------------------ model code on an object

    def _use(
        self, root: FunctionId, fid: FunctionId, line: int, written: str, term: tuple, name: str, how: str,
        eager: dict[str, _Eager],
    ) -> None:
        """`book.describe()`, `f"{book}"`, `getattr(book, ...)`: model code, or a read named at run time."""
        if how == "str" and is_text(written, self.members.named):
            return  # `f"{key.upper()}"`: a str, whatever `key` holds; no model's `__repr__` runs
        module, function = self.project.functions[fid]
        if how in ("str", "call") and is_plain(function, term, self.members.named, self._plain_param(root, fid)):
            return  # `f"{name}"` of `_, name = path.rsplit(".", 1)`: no model's code runs on plain data
        origins = self.flow.resolve(fid, term) if self.flow is not None else None
        if origins is None:
            if how == "getattr" and name:
                self._named_read(root, fid, line, written, name, eager)
            elif how == "getattr":
                self._read_at_run_time(fid, line, written, term, root)
            self._named_member(root, fid, line, written, name, how, eager)
            return
        for origin in origins:
            if how == "call" and name in _CONTAINER_METHODS and origin.kind is not OriginKind.LOAD:
                # the flow does not tell a query's result or a list from its objects: on a model
                # whose code it cannot see, these are taken for the container's
                continue
            if origin.kind is OriginKind.UNVERIFIED and how != "getattr":
                self._flow_risk(root, module, function, line or function.line, f"{written}.{name}", AM247,
                                f"{_shown(written, name, how)} runs code of {origin.where}: whether it loads "
                                "relationships lazily is unverified")
            elif origin.kind is OriginKind.UNVERIFIED or (origin.kind is OriginKind.LOAD and origin.model is None):
                self._traced_read(root, fid, line, written, name or "?", [origin], eager)
            elif origin.kind is OriginKind.LOAD and how == "getattr" and not name:
                self._by_name_risk(root, module, function, line, written, f"an object of {self.classes.short(origin.model)}")
            elif origin.kind is OriginKind.LOAD and how == "getattr":
                self._traced_read(root, fid, line, written, name, [origin], eager)
            elif origin.kind is OriginKind.LOAD:
                self._member(root, fid, line, written, origin, name, how, eager)
            elif origin.kind is OriginKind.SOURCE and how == "getattr" and not name:
                # `getattr(note, field)` on what `NoteRepository.get` queried: any attribute, a
                # relationship among them, where a named read is judged by its name
                self._by_name_risk(root, module, function, line, written, f"what {origin.where} loads")
            elif origin.kind is OriginKind.SOURCE:
                self._named_member(root, fid, line, written, name, how, eager, source=origin)

    def _read_at_run_time(self, fid: FunctionId, line: int, written: str, term: tuple, root: FunctionId) -> None:
        """`getattr(team, rel)` on what a project function doing Session work returned (a
        repository's, generic one's, CRUD instance's or service's method), where the flow cannot
        follow its query: unverified, as on an object of `db.get(Team, id)`; the name may be a
        relationship, and what no name-based judgement sees reads it outside any greenlet."""
        loader = self._session_loader(fid, term, 0)
        if loader is None:
            return
        module, function = self.project.functions[fid]
        loader_module, loaded_by = self.project.functions[loader]
        self._by_name_risk(
            root, module, function, line, written,
            f"an object {loader_module.name}.{loaded_by.qualname} loads through the Session",
        )

    def _by_name_risk(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, written: str, what: str,
    ) -> None:
        """AM247 for `getattr(obj, name)` with a name known only at run time: what the analysis cannot
        see is which attribute is read, and the fix is the user's, who knows what the name can be."""
        named = next((
            a.computed or a.name for c in function.calls
            if c.line == line and c.callee in ("getattr", "builtins.getattr") and len(c.args) > 1
            for a in c.args[1:2] if a.computed or a.name
        ), None)
        shown = f"`getattr({written}, {named})`" if named else f"`getattr({written}, ...)`"
        holder = f"`{named}`" if named else "the name"
        obj = written if written.isidentifier() else "obj"  # `getattr(users.get(user_id), rel)`
        self._flow_risk(
            root, module, function, line or function.line, f"getattr({written})", AM247,
            f"{shown} reads, on {what}, the attribute {holder} names at run time: the analysis cannot see "
            "which attribute that is, so whether it is a relationship, which would load lazily and raise "
            "MissingGreenlet under AsyncSession, is unverified",
            f"if {holder} only ever names columns, read them by name (`{{\"<column>\": {obj}.<column>, ...}}"
            f"[{named or 'name'}]`) and run phase two again; if it may name a relationship, load that "
            f"first (`await session.refresh({obj}, attribute_names=[{named or 'name'}])` after the "
            "load, or an eager-load option on the query) and migrate the route by hand",
        )

    def _session_loader(self, fid: FunctionId, term: tuple, depth: int) -> FunctionId | None:
        """The project function doing Session work whose result `term` is (or an element, item or
        attribute of it), through the local names holding it; None for anything else."""
        if depth > 8 or not term:
            return None
        kind = term[0]
        if kind in ("attr", "iter", "item", "key"):
            return self._session_loader(fid, term[1], depth + 1)
        if kind in ("tuple", "any"):
            return next((f for t in term[1] if (f := self._session_loader(fid, t, depth + 1)) is not None), None)
        if kind == "name":
            held = self.project.functions[fid][1].holds.get(term[1], ())
            return next((f for t in held if (f := self._session_loader(fid, t, depth + 1)) is not None), None)
        if kind == "call":
            return next((
                e.callee for e in self.project.all_calls_from.get(fid, ())
                if e.call.index == term[1] and self._works_on_session(e.callee)
            ), None)
        return None

    def _works_on_session(self, fid: FunctionId) -> bool:
        """Session work of its own (`self.session.get(self.model, id)`), below it, or on a Session
        it is handed (`CRUDBase.get(db, id)`)."""
        if fid in self.project.work_chains:
            return True
        _, function = self.project.functions[fid]
        return any(function.name_uses.get(name) for name in self.project.session_params.get(fid, {}))

    def _member(
        self, root: FunctionId, fid: FunctionId, line: int, written: str, origin: Origin, name: str, how: str,
        eager: dict[str, _Eager], shown: str | None = None,
    ) -> None:
        """Model code run on an object of a query the flow found: its relationship reads get
        the eager load on that query; what the tool cannot see into is unverified."""
        assert origin.model is not None
        # `doc.body = data` on a column left unloaded records the new value and loads nothing
        # (unless the column asks for active history): no option to add, no MissingGreenlet
        set_only = how == "read" and only_set(self.project.functions[fid][1], line, written, name) and not (
            self.members.set_loads(origin.model, name)
        )
        narrowed = self._narrowed(origin, name) if how in ("read", "getattr") and not origin.path and not set_only else None
        if narrowed is not None:
            module, function = self.project.functions[fid]
            self._deferred(root, module, function, line or function.line, shown or _shown(written, name, how),
                           ((origin.model, name),), eager, None, why=narrowed, narrowed=True)
            return
        if self._inert(origin.model, name, how):
            return
        module, function = self.project.functions[fid]
        where = line or function.line
        shown = shown or _shown(written, name, how)
        if how in ("read", "getattr") and self.members.deferred(origin.model, name):
            if set_only or by_name(function, written, line, name) or (
                not origin.path and self._refreshed(origin, name, (fid, line))
            ):
                return  # `refresh(obj, attribute_names=["body"])` loads the column on the object
            self._deferred(root, module, function, where, shown, (*origin.path, (origin.model, name)), eager, origin)
            return
        if how in ("read", "getattr"):
            subclass = self.members.subclass_only(origin.model, name)
            credit = eager.get(POLYMORPHIC)
            if subclass is not None and not (
                credit is not None and credit.credits(_Relationship(subclass, name, "select", subclass), self.classes)
            ):
                self._subclass_column(root, module, function, where, shown, origin.model, subclass, name)
                return
            subclass = subclass or self.members.subclass_relationship(origin.model, name)
            if subclass is not None and how == "read" and self.flow is not None:
                # The polymorphic load brings the subclass's columns, not its relationships: on a
                # Magazine row of `select(Item).options(selectin_polymorphic(Item, [Magazine]))`,
                # `publisher` still loads on its first read unless an option beside it names it
                # (`selectinload(Magazine.publisher)`).
                strategy = self.flow.relationship(subclass, name)
                option = (
                    self._unloading_option(replace(origin, model=subclass), name)
                    if strategy not in (None, "dynamic") else None
                )
                if option is not None:  # `lazyload(Magazine.publisher)`, `lazyload("*")` on the query
                    self._unloaded(root, module, function, where, shown, f"{written}.{name}", subclass, name, option)
                    return
                if strategy is not None:
                    if strategy == "dynamic":
                        self._named_read(root, fid, line, written, name, eager)
                    elif strategy not in SAFE_STRATEGIES and not self._loaded(
                        replace(origin, model=subclass), name, eager, (fid, line)
                    ) and not by_name(function, written, line, name):
                        self._add_fix(root, origin, (*origin.path, (subclass, name)))
                    return
        summary = self.members.runs(origin.model, name, how)
        if summary is None:
            outside = self.members.outside(origin.model)
            if how in ("read", "getattr") and outside is not None and not self.members.known(origin.model, name):
                self._flow_risk(root, module, function, where, f"{written}.{name}", AM247,
                                f"{shown} is no attribute the tool finds on {self.classes.short(origin.model)}; "
                                f"its base `{outside}` is outside PATH and may define it as a property: whether "
                                "it loads relationships lazily is unverified")
            unread = self.members.unread(origin.model)
            if how in ("read", "getattr") and unread is not None and not self.members.known(origin.model, name):
                self._flow_risk(root, module, function, where, f"{written}.{name}", AM247,
                                f"{shown} is no column the tool finds on {self.classes.short(origin.model)}; its "
                                f"mapping's `properties={unread}` is not read and may map it as a relationship or a "
                                "deferred column: whether reading it loads lazily is unverified")
            return
        self._needs(root, module, function, where, written, name, shown, summary, origin, eager)

    def _needs(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, written: str, name: str,
        shown: str, summary: Summary, origin: Origin, eager: dict[str, _Eager],
    ) -> None:
        """What model code `summary` reads on an object of `origin`: the eager loads to add to its
        query, and what blocks."""
        assert origin.model is not None
        self._unverified_member(root, module, function, where, written, name, shown, summary)
        for need in summary.needs:
            full = (*origin.path, *need.path)
            owner, attribute = full[-1]
            if need.strategy == "deferred":
                self._deferred(root, module, function, where, shown, full, eager, origin, summary, need.via)
            elif need.strategy == "subclass":
                credit = eager.get(POLYMORPHIC)
                if len(full) == 1 and credit is not None and credit.credits(
                    _Relationship(owner, attribute, "select", owner), self.classes
                ):
                    continue
                self._subclass_column(root, module, function, where, f"{shown} (through {need.via})",
                                      self._holder(origin.model, full), owner, attribute)
            elif need.strategy == "dynamic":
                self._member_risk(root, module, function, where, written, name, shown, summary, need.path,
                                  need.via, f"{self.classes.short(owner)}.{attribute} is lazy=\"dynamic\", "
                                  "which AsyncSession cannot load at all")
            elif not self._loaded(Origin(OriginKind.LOAD, origin.fid, origin.load, owner, full[:-1]), attribute, eager):
                self._add_fix(root, origin, full, via=need.via)

    def _narrowed(self, origin: Origin, name: str) -> str | None:
        """Why a column read on an object of a query of `origin`'s function was left unloaded by a
        `load_only(...)` that does not name it or a `defer(...)` that does (options of any query
        there: the facts keep them per function), or None."""
        model = origin.model
        loader = self.project.functions[origin.fid][1]
        if model is None:
            return None
        return narrowed_column(self.classes, loader, model, name)

    def _inert(self, model: str, name: str, how: str) -> bool:
        """Whether `_member` finds nothing to do for `name` on any object of `model`, whatever the
        route: no deferred or subclass-only column, no model code run, no base outside PATH that
        might define it (most response fields are plain columns). Kept per project."""
        key = (model, name, how)
        found = self._inert_members.get(key)
        if found is None:
            read = how in ("read", "getattr")
            found = self._inert_members[key] = (
                not (read and self.members.deferred(model, name))
                and not (read and self.members.subclass_only(model, name) is not None)
                and not (read and self.members.subclass_relationship(model, name) is not None)
                and self.members.runs(model, name, how) is None
                and not (read and self.members.outside(model) is not None and not self.members.known(model, name))
                and not (read and self.members.unread(model) is not None and not self.members.known(model, name))
            )
        return found

    def _deferred(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, shown: str, path: Path,
        eager: dict[str, _Eager], origin: Origin | None, summary: Summary | None = None, via: str = "",
        why: str = "", source: Origin | None = None, narrowed: bool = False,
    ) -> None:
        """A deferred column read on a loaded object: IO on first read, unless an `undefer` loads it.
        `narrowed`: a column the mapping loads with the row, left out by the query's `load_only`
        or `defer` (`why` names it).
        With fixes on, a query the flow traced the object to gets the `undefer` option; `origin`
        None: the object comes from where no option can be added (`why` says where)."""
        owner, column = path[-1]
        if not self._uncredited([_Relationship(owner, column, "select", owner)], column, eager):
            return
        if self.fix and origin is not None and origin.kind is OriginKind.LOAD:
            self._add_fix(root, origin, path, via=via, deferred=True)
            return
        through = "" if summary is None else f" (through {summary.kind} {summary.member}, {summary.file}:{summary.line})"
        described = describe(self.classes, path)
        message = (
            f"{shown} reads {described}{through}, "
            + ("a column its query leaves unloaded" if narrowed else "a deferred column")
            + " that loads on its first read: MissingGreenlet under AsyncSession" + (f"; {why}" if why else "")
        )
        key = ("deferred", module.path, where, function.key, described)
        self._add(key, root, lambda: LazyLoadRisk(
            file=module.path, line=where, function=f"{module.name}.{function.qualname}", attribute=column,
            owner=owner, message=message, fix=AM251.fix.replace("Model.column", f"{self.classes.short(owner)}.{column}"),
            kind=RiskKind.ATTRIBUTE, path=described, code=AM251.code,
            # an object a dependency loaded: check and phase one read the load as blocking IO there
            dependency=source.dependency if source is not None else None,
            offloaded=source.offloaded if source is not None else False,
        ))

    def _named_deferred(
        self, root: FunctionId, fid: FunctionId, line: int, written: str, column: str, eager: dict[str, _Eager],
        source: Origin | None = None,
    ) -> None:
        """A read of `column` on an object the flow cannot trace to a query phase two rewrites: a
        deferred column of its type (of any mapped class, when untyped) blocks, since no `undefer`
        can be added where the object is loaded."""
        module, function = self.project.functions[fid]
        eager = self._untraced(eager, source, fid)
        typed = self._typed_receiver(root, fid, written)
        if typed is None or by_name(function, written, line, column):
            return
        candidates = typed or self._deferring(column)
        if only_set(function, line, written, column) and not any(self.members.set_loads(c, column) for c in candidates):
            return  # a write of the column loads nothing (`_member`)
        unread = self._unread_receiver(fid, written) if not typed and candidates else None
        if unread is not None and any(self.members.deferred(c, column) for c in candidates):
            deferring = [c for c in candidates if self.members.deferred(c, column)]
            self._unread_risk(root, fid, line, written, column, unread, self._whose(deferring, "defers"))
            return
        why = (f"the object comes from {source.where}, whose query phase two cannot add the option to"
               if source is not None else UNTRACED)
        for cls in candidates:
            if self.members.deferred(cls, column):
                self._deferred(root, module, function, line or function.line, f"`{written}.{column}`",
                               ((cls, column),), eager, None, why=why, source=source)

    def _deferring(self, column: str) -> list[str]:
        """Every project class whose class order defers a column named `column`."""
        found = self._deferred_by_name.get(column)
        if found is None:
            found = self._deferred_by_name[column] = [
                ref for ref in self.classes.by_ref if self.members.deferred(ref, column)
            ]
        return found

    def _holder(self, model: str, path: Path) -> str:
        """The class whose query (or relationship) loaded the object the path's last step is read on."""
        if len(path) < 2:
            return model
        return self.members.flow.target(*path[-2]) or path[-1][0]

    def _subclass_column(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, shown: str,
        model: str, subclass: str, name: str,
    ) -> None:
        """An attribute only a mapped subclass declares, read on an object of a base-class query."""
        base, sub = self.classes.short(model), self.classes.short(subclass)
        message = (
            f"{shown} reads {sub}.{name}, declared only by subclass {sub}, on an object of a query of {base}: "
            f"the query loads {base}'s columns, so on a {sub} row `{name}` loads on its first read: "
            "MissingGreenlet under AsyncSession"
        )
        key = ("subclass", module.path, where, function.key, sub, name)
        self._add(key, root, lambda: LazyLoadRisk(
            file=module.path, line=where, function=f"{module.name}.{function.qualname}", attribute=name,
            owner=subclass, message=message,
            fix=AM260.fix.replace("Base, [Sub]", f"{base}, [{sub}]"),
            kind=RiskKind.ATTRIBUTE, path=f"{sub}.{name}", code=AM260.code,
        ))

    def _named_member(
        self, root: FunctionId, fid: FunctionId, line: int, written: str, name: str, how: str,
        eager: dict[str, _Eager], source: Origin | None = None, shown: str | None = None, served: int = 0,
    ) -> None:
        """Model code run on an object the flow cannot trace to a query (or traces to a
        dependency): judged by the member's name over every class that could be meant. `served`:
        how deep the field lies in the route's own response model (0: not one)."""
        if how == "call" and "." not in written and self._session_method_expiry(root, fid, line, written, name):
            return
        if how in ("read", "getattr", "call") and not self.members.named(name):
            return  # no class defines it: no candidate runs code, whatever the receiver is
        module, function = self.project.functions[fid]
        eager = self._untraced(eager, source, fid)
        typed = self._typed_receiver(root, fid, written)
        if typed is None:
            return
        if how == "getattr" and not name:
            return
        candidates = typed or (
            # a listener is no member: the classes it listens on
            self.members.listening(name)
            if how == "listen" else self.members.defining(name)
        )
        if how == "str" and not typed:
            candidates = list(dict.fromkeys([*candidates, *self.members.defining("__repr__")]))
        where = line or function.line
        unread = self._unread_receiver(fid, written) if not typed else None
        running = [c for c in candidates if self.members.runs(c, name, "read" if how == "getattr" else how)]
        # `self` of a base or mixin: which of the classes it is mixed into the object is, is unknown
        mixed = len(running) > 1 and self._own_receiver(fid, written)
        if unread is not None and running:
            self._unread_risk(root, fid, line, written, name, unread, self._whose(running, "runs code for"))
            return
        shown = shown or _shown(written, name, how)
        # on an object the code built (here, or handed in by a caller), no query loaded it: what its
        # relationships declare eager loads on first read as well
        handed = None
        built = self._built_object(function, written) is not None or self._below_built(function, written) is not None
        if not built and source is None:
            handed = self._handed(root, fid, function, written)
        for cls in candidates:
            summary = self.members.runs(cls, name, "read" if how == "getattr" else how)
            if summary is None:
                continue
            if typed:  # by name alone, what the member cannot see into is too far a guess
                self._unverified_member(root, module, function, where, written, name, shown, summary)
            elif summary.session_work and how in ("call", "read", "str") and not served:
                # Session work is no guess about loads: under AsyncSession it raises or blocks
                # whichever object of the class it runs on
                self._member_session_work(root, module, function, where, written, name,
                                          f"{shown} (an object the analysis does not trace; by the name)", summary)
            for need in [*summary.needs, *summary.eager] if built or handed is not None else summary.needs:
                owner, attribute = need.path[-1]
                if need.strategy == "subclass":
                    # no query to credit a polymorphic load on: the object is not traced to one
                    self._subclass_column(root, module, function, where, f"{shown} (through {need.via})",
                                          self._holder(cls, need.path), owner, attribute)
                    continue
                relationship = _Relationship(owner, attribute, need.strategy, owner)
                if built or handed is not None:
                    relationship = _as_lazy([relationship])[0]
                if not self._uncredited([relationship], attribute, eager):
                    continue
                if len(need.path) == 1 and need.strategy != "dynamic" and (
                    by_name(function, written, line, attribute)
                    or self._refreshed_by_callers(root, fid, written, attribute)
                ):
                    continue  # the member reads what a refresh of this object loaded
                if source is not None:
                    why = (f"the object comes from {source.where}, whose query phase two cannot add "
                           f"the option to")
                elif handed is not None:
                    why = handed.describe(written)
                elif built:
                    why = (f"`{written}` is (or is reached from) an object the code builds, which no query loads: "
                           "a relationship declared eager loads on first read as well")
                elif generic := returned_models(self.project, self.classes, fid, written).source:
                    why = (f"the object comes from {generic}, whose query serves every model the class is built "
                           "with: phase two adds no loader option there for one of them")
                else:
                    why = UNTRACED
                self._member_risk(root, module, function, where, written, name, shown, summary, need.path,
                                  need.via, why, source, served,
                                  among=running if (not typed or mixed) and why == UNTRACED and not served else None)

    def _session_method_expiry(self, root: FunctionId, fid: FunctionId, line: int, written: str, name: str) -> bool:
        """`db.save(room)` on the route's Session, running a method of the project's Session
        subclass that commits, rolls back or expires (`session_methods.method_expiry`): phase two
        runs the method through `run_sync`, and what it expires, read after it, would load on the
        event loop, which the reads-after-commit analysis does not follow into the method. Blocked
        with that reason; True when so."""
        for target in session_methods.targets(self.project, fid, written, name):
            where = session_methods.method_expiry(self.project, target)
            if where is None:
                continue
            module, function = self.project.functions[fid]
            message = session_methods.expiry_message(self.project, written, name, target, where)
            message, _, fix = message.partition("; fix: ")
            self._flow_risk(root, module, function, line or function.line, f"{written}.{name}", AM247, message, fix)
            return True
        return False

    def _unverified_member(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, written: str,
        name: str, shown: str, summary: Summary,
    ) -> None:
        self._member_session_work(root, module, function, where, written, name, shown, summary)
        for note in summary.unverified:
            self._flow_risk(root, module, function, where, f"{written}.{name}", AM247,
                            f"{shown} runs {summary.kind} {summary.member} ({summary.file}:{summary.line}), "
                            f"where {note}: whether it loads relationships lazily is unverified")

    def _member_session_work(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, written: str,
        name: str, shown: str, summary: Summary,
    ) -> None:
        for work in summary.session_work[:1]:
            if on_object_session(work):
                # the Session the object belongs to: migrated, the synchronous Session inside the
                # route's AsyncSession, whose I/O outside a greenlet raises MissingGreenlet
                session = ("on the Session the object belongs to (`object_session(...)`): migrated, that is the "
                           "synchronous Session inside the route's AsyncSession, and its work there raises "
                           "MissingGreenlet")
            else:
                session = ("on a Session it is not given (a global or `scoped_session`, a `query_property()`): "
                           "migrated, that work would run on the event loop on another Session than the route's "
                           "AsyncSession, which loaded the object")
            self._flow_risk(root, module, function, where, f"{written}.{name}", AM241,
                            f"{shown} runs {summary.kind} {summary.member} ({summary.file}:{summary.line}), which "
                            f"does synchronous Session work at {work} {session}; have the member take the "
                            "route's Session, or keep the route")

    def _member_risk(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, written: str,
        name: str, shown: str, summary: Summary, path: Path, via: str, why: str, source: Origin | None = None,
        served: int = 0, among: list[str] | None = None,
    ) -> None:
        """`among`: the classes whose `name` the call may run, where the receiver's class is unknown."""
        relationship = describe(self.classes, path)
        # by name alone: the receiver may be any class defining the method, this one among them
        defining = ", ".join(sorted({self.classes.short(c) for c in among or ()}))
        # a generic CRUD object's result: why its TypeVar stays unbound, in place of "unknown"
        generic = returned_models(self.project, self.classes, (module.name, function.key), written).why
        message = (
            f"{shown} {'may run' if among is not None else 'runs'} {summary.kind} {summary.member} "
            f"({summary.file}:{summary.line}), which reads "
            f"relationship {relationship}{_through(via, summary.member)}: a lazy load, MissingGreenlet under "
            f"AsyncSession; {why}"
            + (f" (unverified: the class of `{written}` is unknown"
               + (f": {generic};" if generic else ", and") + f" `{name}` is defined by {defining})"
               if among is not None else "")
        )
        owner, attribute = path[-1]
        # no loader option or refresh loads a dynamic relationship: AM250's advice would be wrong
        dynamic = self.members.flow.relationship(owner, attribute) == "dynamic"
        fix = (f"declare `{attribute}` with `lazy=\"write_only\"` and have the model code query it "
               "explicitly, on the Session it is given" if dynamic else AM250.fix)
        key = ("member", module.path, where, function.key, written, name, relationship)
        self._add(key, root, lambda: LazyLoadRisk(
            file=module.path, line=where, function=f"{module.name}.{function.qualname}", attribute=name,
            owner=path[0][0], message=message, fix=fix, kind=RiskKind.ATTRIBUTE, path=f"{written}.{name}",
            code=(AM221 if dynamic else AM250).code, dependency=source.dependency if source is not None else None,
            offloaded=source is not None and source.offloaded, served=served, reads=path,
        ))

    def _loaded(
        self, origin: Origin, attribute: str, eager: dict[str, _Eager], at: tuple[FunctionId, int] | None = None
    ) -> bool:
        """Whether the queries credit the relationship (a bare `session.get` only by a refresh of
        its own objects). `at`: the function and line of the read (None: after the route returns)."""
        if origin.model is None:
            return False
        if not origin.path and self._refreshed(origin, attribute, at):
            return True
        candidate = _Relationship(origin.model, attribute, "select", origin.model)
        _, function = self.project.functions[origin.fid]
        load = query_of(function, origin.load)
        if _gets(function, load) and not origin.path:
            # `get()` returns an object the Session holds already, as loaded, and ignores its
            # `options=` then (a dependency sharing the Session may have loaded it first): its
            # own options, or a legacy `query(M).options(...).get(pk)`'s, load nothing for sure.
            return False
        if load.options is not None:
            # its own options say what loads with its objects: an option written in another
            # query (`selectinload(Book.author)` on another Book's) loads nothing of these
            if origin.path:
                return self._own_step(load, origin.path, attribute)
            return self._own_option(load, origin.model, attribute)
        return not self._uncredited([candidate], attribute, eager)

    def _plain_param(self, root: FunctionId, fid: FunctionId) -> Callable[[str], bool]:
        """`plain_params.plain_param` for the parameters of `fid`, over `root`'s closure."""
        members = self._members.get(root)
        if members is None:
            members = self._members[root] = frozenset(self.closure(root))
        known = self._plain_params

        def plain(name: str) -> bool:
            found = known.get((root, fid, name))
            if found is None:
                found = known[(root, fid, name)] = plain_param(self.project, members, fid, name, self.members.named)
            return found

        return plain

    def _refreshed_by_callers(self, root: FunctionId, fid: FunctionId, receiver: str, attribute: str) -> bool:
        """`refreshed.by_callers` for a read on parameter `receiver` of `fid`, over `root`'s closure."""
        members = self._members.get(root)
        if members is None:
            members = self._members[root] = frozenset(self.closure(root))
        return by_callers(self.project, members, fid, receiver, attribute)

    def _refreshed(self, origin: Origin, attribute: str, at: tuple[FunctionId, int] | None) -> bool:
        """The function of `origin`'s query refreshes `attribute` on every object it loads (`refreshed.by_query`)."""
        _, function = self.project.functions[origin.fid]
        return by_query(function, origin.load, attribute, at[1] if at is not None and at[0] == origin.fid else None)

    def _own_option(self, load: facts.Load, model: str, attribute: str) -> bool:
        """Whether the query's own options load `attribute` on its entity: one naming its class
        or a base of it (an alias only by its own name), a string path or a wildcard
        (`selectinload(Book.author)`, `selectinload("items")`, `"*"`); each credits the objects
        of that query only. As SQLAlchemy applies them: an option naming the relationship wins over
        every wildcard, the last wildcard over the others, and options naming it both ways
        (`lazyload(...)` beside `selectinload(...)`) load nothing: SQLAlchemy refuses the query
        (`_conflicting`)."""
        mine = self._entity_names(load, model)
        named = [loads for owner, name, loads in load.options or () if owner in mine and name == attribute]
        if named:
            return all(named)
        wild = [loads for owner, name, loads in load.options or () if owner in mine and name == "*"]
        return bool(wild) and wild[-1]

    def _own_step(self, load: facts.Load, path: Path, attribute: str) -> bool:
        """Whether the query's own options load `attribute` on the objects `path` leads to from its
        entity, a step along it (`selectinload(Book.author).selectinload(Author.books)`, `defaultload`
        then a loader; a wildcard step loads every relationship there)."""
        if load.model is None:
            return False
        mine = self._entity_names(load, load.model)
        along = "/".join(name for _, name in path)
        steps = [
            (name, loads) for owner, name, loads in load.options or ()
            if owner.startswith("^") and name in (attribute, "*")
            and owner[1:].rpartition("|")[0] in mine and owner.rpartition("|")[2] == along
        ]
        named = [loads for name, loads in steps if name == attribute] or [loads for _, loads in steps]
        return bool(named) and all(named)

    def _entity_names(self, load: facts.Load, model: str) -> set[str]:
        """How an option names the query's entity (`astcollect.objects`): any entity (""), its
        name as written (`=b` for an `aliased()` local), and for no alias its class and bases."""
        mine = {"", f"={load.entity}"}
        if load.alias is None:
            for ref in (model, load.model):
                if ref is not None:
                    mine.update(self.classes.mro(ref) if ref in self.classes.by_ref else (ref,))
        return mine

    def _add_fix(self, root: FunctionId, origin: Origin, path: Path, via: str = "", deferred: bool = False) -> None:
        module, function = self.project.functions[origin.fid]
        root_module, root_function = self.project.functions[root]
        name = f"{root_module.name}.{root_function.qualname}"
        load = query_of(function, origin.load)
        conflict = _conflict_risk(self.classes, load, path)
        if conflict is not None:
            # the options in conflict are no unverified read: SQLAlchemy refuses the query whatever the
            # tool adds to it, so no eager load can be added there (AM245, as for a held query's)
            self._flow_risk(root, module, function, load.line, describe(self.classes, path), AM245, *conflict)
            return
        risk = _get_risk(self.classes, function, load, path)
        if risk is not None:
            self._flow_risk(root, module, function, load.line, describe(self.classes, path), AM247, risk)
            return
        step = Origin(OriginKind.LOAD, origin.fid, origin.load, path[-1][0], path[:-1])
        lazy = None if deferred else self._unloading_option(step, path[-1][1])
        if lazy is not None:
            # a read through model code (`via`): an option added beside the query's own `lazyload`
            # would make SQLAlchemy refuse the query
            described = describe(self.classes, path)
            self._flow_risk(
                root, module, function, load.line, described, AM220,
                f"{described} is read{f' by {via}' if via else ''} on objects of the query at line {lazy}, which "
                "leaves it to load on first read by its own `lazyload(...)` or `raiseload(...)` option: the read "
                "raises MissingGreenlet under AsyncSession, and an eager option added beside that one conflicts "
                "with it",
                "drop that option from the query (phase two then adds the eager load) or migrate the route by hand",
            )
            return
        key = (origin.fid, origin.load, path)
        fix = self.fixes.get(key) or EagerFix(
            origin.fid, origin.load, path, module.path, query_of(function, origin.load).line, via=via, deferred=deferred
        )
        if name not in fix.routes:
            fix = replace(fix, routes=(*fix.routes, name))
        self.fixes[key] = fix

    def _flow_risk(
        self,
        root: FunctionId,
        module: facts.Module,
        function: facts.Function,
        line: int,
        path: str,
        rule,
        message: str,
        fix: str = "",
    ) -> None:
        key = ("flow", module.path, line, function.key, path, rule.code)
        self._add(key, root, lambda: LazyLoadRisk(
            file=module.path,
            line=line,
            function=f"{module.name}.{function.qualname}",
            attribute=path.rsplit(".", 1)[-1],
            owner=None,
            message=message,
            fix=fix or rule.fix,
            kind=RiskKind.ATTRIBUTE,
            path=path,
            code=rule.code,
        ))

    def _unloaded(
        self, root: FunctionId, module: facts.Module, function: facts.Function, where: int, shown: str, path: str,
        model: str, attribute: str, option: int,
    ) -> None:
        """A read of relationship `model.attribute` that the query at line `option` leaves to load on
        first read by its own option (`_unloading_option`): blocked naming that query."""
        rule = AM222 if shown.startswith("response model") else AM220
        self._flow_risk(
            root, module, function, where, path, rule,
            f"{shown} reads {self.classes.short(model)}.{attribute}, which the query at line {option} leaves to "
            "load on first read by its own `lazyload(...)` or `raiseload(...)` option (whatever the relationship "
            "declares): the read raises MissingGreenlet under AsyncSession, and an eager option added beside that "
            "one conflicts with it; fix: drop that option from the query (phase two then adds the eager load) or "
            "migrate the route by hand",
        )

    def _unloading_option(self, origin: Origin, attribute: str) -> int | None:
        """The line of the query that loaded `origin` when its own options leave `attribute` of
        the object to load on first read (`lazyload(User.items)`, `raiseload`, a `lazyload("*")`
        an option naming the attribute does not override); None otherwise."""
        assert origin.model is not None
        load = query_of(self.project.functions[origin.fid][1], origin.load)
        if not load.options:
            return None
        root = origin.path[0][0] if origin.path else origin.model
        prefix = "/".join(step for _, step in origin.path)

        def on_object(entity: str) -> bool:
            if origin.path:
                if not entity.startswith("^"):
                    return False
                owner, _, along = entity[1:].partition("|")
                return along == prefix and (owner == "" or owner in self.classes.mro(root))
            return entity == "" or entity in self.classes.mro(origin.model)  # type: ignore[arg-type]

        named = [loads for entity, name, loads in load.options if name == attribute and on_object(entity)]
        if len(set(named)) > 1:
            return None  # loaded and left lazy both: SQLAlchemy refuses the query, which `_conflict_risk` says
        if not named:
            named = [loads for entity, name, loads in load.options if name == "*" and on_object(entity)]
        return load.line if named and not named[-1] else None

    def _below_built(self, function: facts.Function, receiver: str) -> str | None:
        """The name of an object the function built (`_built_object`) that `receiver` is reached
        from by relationship reads: `user.org`, or a name bound once to such a chain; None
        otherwise."""
        head, dot, _ = receiver.partition(".")
        root = head if dot else _chain_root(function, receiver)
        return root if root is not None and self._built_object(function, root) is not None else None

    def _handed(self, root: FunctionId, fid: FunctionId, function: facts.Function, receiver: str) -> Handed | None:
        """`handed_built` for the parameter `receiver` (or the name it is reached from: `u.org`,
        `org = u.org`) stands for, in `root`'s closure."""
        name = receiver.partition(".")[0]
        held = function.holds.get(name, ())
        if "." not in receiver and len(held) == 1 and held[0][0] == "attr":
            chained = _chain_root(function, name)
            if chained is None:
                return None
            name = chained
        elif name in function.holds:
            return None  # rebound in the function: not the object handed in
        members = self._members.get(root)
        if members is None:
            members = self._members[root] = frozenset(self.closure(root))
        flow = self.flow
        if flow is None:
            return None
        return handed_built(self.project, members, fid, name, self._built_object,
                            lambda caller, local: flow.name(caller, local) is not None)

    def _returned_by(self, function: facts.Function, receiver: str, fid: FunctionId | None = None) -> str | None:
        """The project function whose result the name `receiver` is reached from (`user`, `user.org`
        for `user = make_user(db, ...)`, bound once; with `fid`, the function's own id, a method
        too: `product = repo.add(Product(...))`), read here because the flow traces it to no query;
        None for anything else (a mapped class built in place is `_built_object`'s)."""
        call = _bound_call(function, receiver.partition(".")[0])
        if call is None:
            return None
        if call.callee is not None:
            if self.classes.built_by(call.callee) is not None:
                return None
            if self.project.function(call.callee) is not None:
                return call.callee
        if fid is None:
            return None
        return shown_functions(self.project, handed_back(self.project, fid, call)) or None

    def _got_built(self, root: FunctionId, origin: Origin, strategy: str | None) -> bool:
        """Whether a relationship declared eager (`strategy`) on `origin`'s objects may still load
        on first read: `origin` is a `get()`, which hands back the object the Session holds as it
        is, running no query and none of its loaders, and `root`'s closure builds objects of that
        class (`Order(...)`), one of which the Session may hold as the code left it."""
        if not self.traced_only or strategy not in EAGER_STRATEGIES or origin.path or origin.model is None:
            return False  # phase two's: `check` judges reads by what the code runs today
        _, function = self.project.functions[origin.fid]
        return _gets(function, query_of(function, origin.load)) and bool(self._builds(root, frozenset({origin.model})))

    def _builds(self, root: FunctionId, models: frozenset[str] | None) -> frozenset[str]:
        """The mapped classes `root`'s closure builds objects of (`Order(...)`, SQLModel's
        `Order.model_validate(...)`), among `models` and their subclasses and bases (None: any).
        The Session may hold one as the code left it, its relationships never loaded."""
        related = None if models is None else {
            r for m in models for r in (*self.classes.mro(m), *self.classes.subclasses(m))
        }
        found = {
            built for fid in self.closure(root) for call in self.project.functions[fid][1].calls
            if call.callee is not None and (built := self.classes.built_by(call.callee)) is not None
            and self.classes.is_mapped(built) and (related is None or built in related)
        }
        return frozenset(found)

    def _got_back(
        self, root: FunctionId, function: facts.Function, models: list[str]
    ) -> tuple[str, frozenset[str]] | None:
        """(the project functions, the classes built) when the route returns, untraced, what a
        project function hands back from a `get()` (`return uow.orders.get(order_id)`, a generic
        repository's `return self.session.get(self.model, id)`) while its closure builds objects of
        a mapped class declaring eager a relationship a field of `models` names: the Session may
        hold the one asked for as built, and `get()` hands it back without running a query of its
        class."""
        if not self.traced_only or len(function.results) != 1 or len(function.results[0]) < 2:
            return None
        kind, value = function.results[0][:2]
        call = _bound_call(function, value) if kind == "name" else (
            next((c for c in function.calls if c.index == value), None) if kind == "call" else None
        )
        if call is None:
            return None
        getters = [c for c in callees(self.project, root, call) if self._returns_got(c, 3)]
        if not getters:
            return None
        # only classes declaring eager what the response model names: of another class built
        # there, the object `get()` hands back is not that one, and its query runs the loaders
        built = self._builds(root, None)
        fields = {name for model in models for name, _ in self._fields(model)}
        built = frozenset(
            b for b in built
            if any(
                c.strategy in EAGER_STRATEGIES and c.owner in self.classes.mro(b)
                for name in fields for c in self.relationships.get(name, ())
            )
        )
        return (shown_functions(self.project, getters), built) if built else None

    def _returns_got(self, fid: FunctionId, depth: int) -> bool:
        """Whether project function `fid` returns what a `get()` of its own, or of a project
        function it calls (up to `depth` deep), hands back."""
        if depth <= 0 or fid not in self.project.functions:
            return False
        _, function = self.project.functions[fid]
        gets = {
            load.index for load in (*function.loads, *function.held_loads.values()) if _gets(function, load)
        }
        sessions = self.project.session_names_view(fid)
        # a Session the instance holds (`self.session.get(self.model, id)` in a generic repository)
        held = {line for line, text in self.project.own_work(fid) if text.endswith((".get()", ".get_one()"))}
        gets |= {
            c.index for c in function.calls
            if (c.receiver in sessions and c.method in ("get", "get_one"))
            or (c.line in held and (c.func or "").endswith((".get", ".get_one")))
        }
        for term in function.results:
            if len(term) < 2:
                continue
            kind, value = term[:2]
            call = _bound_call(function, value) if kind == "name" else (
                next((c for c in function.calls if c.index == value), None) if kind == "call" else None
            )
            if call is None:
                continue
            if call.index in gets or any(
                self._returns_got(c, depth - 1) for c in callees(self.project, fid, call)
            ):
                return True
        return False

    def _built_object(self, function: facts.Function, receiver: str) -> str | None:
        """The mapped class of the object a local name holds when the function built it there
        (`user = User(...)`, bound once); None otherwise."""
        call = _bound_call(function, receiver)
        constructed = self.classes.built_by(call.callee) if call is not None else None
        if constructed is None or not self.classes.is_mapped(constructed):
            return None
        return constructed

    def _transient(self, function: facts.Function, line: int, receiver: str, attribute: str) -> bool:
        """Whether the read runs on an object the function constructed from a mapped class and
        has not handed to anything yet (`facts.Function.fresh`): a transient object, which never
        loads. After `session.add(obj)` (or any call given it) the read counts as usual."""
        if (line, receiver, attribute) not in function.fresh:
            return False
        constructed = self._built_object(function, receiver)
        if constructed is None:
            return False
        # A constructor of the project's own may hand `self` to a Session (`scoped.add(self)`).
        return not any("__init__" in self.classes.methods.get(a, {}) for a in self.classes.mro(constructed))

    def _validated_field(self, function: facts.Function, receiver: str, attribute: str) -> bool:
        """Whether `receiver.attribute` reads a field of a schema the function validated into
        that name, bound once (`out = ItemWithOwner.model_validate(item)` ... `out.owner`): a
        SQLModel builder on a class no mapper knows, nor any subclass of it. The field holds what
        validation stored (a nested schema), so reading it loads nothing; what validation read on
        `item` is judged at the call."""
        call = _bound_call(function, receiver)
        if call is None or call.callee is None or call.callee.rpartition(".")[2] not in SQLMODEL_BUILDERS:
            return False
        built = self.classes.built_by(call.callee)
        if built is None or any(self.classes.is_mapped(c) for c in (built, *self.classes.subclasses(built))):
            return False
        return any(name == attribute for name, _ in self.classes.fields(built))

    def _plain_object(self, fid: FunctionId, receiver: str) -> bool:
        """Whether every value the name may hold is an instance of a project class that is not
        mapped, nor a base of a mapped class (`with UnitOfWork() as uow`)."""
        values = self.project.flow.env(fid).get(receiver)
        return values is not None and bool(values) and all(
            value.kind == "instance" and isinstance(value.target, str) and value.target in self.classes.by_ref
            and not any(self.classes.is_mapped(c) for c in (value.target, *self.classes.subclasses(value.target)))
            for value in values
        )

    def _receiver_classes(self, fid: FunctionId, written: str) -> list[str] | None:
        """The project classes the parameter `written` names is annotated with ([] for any other
        receiver, or an unannotated one); None for a parameter of a type outside the project's
        classes (`str`, `int`), whose attributes are no model's. Kept per project (shared: never
        change the list)."""
        key = (fid, written)
        if key not in self._receivers:
            if written == "super()":
                self._receivers[key] = self._super_classes(fid)
            else:
                found = self._find_receiver_classes(self.project.functions[fid][1], written)
                if found == []:
                    found = (
                        self._built_classes(fid, written) or self._constructed_class(fid, written)
                        or self._queried_classes(fid, written) or self._generic_classes(fid, written)
                        or self._passed_classes(fid, written)
                    )
                self._receivers[key] = found
        return self._receivers[key]

    def _own_receiver(self, fid: FunctionId, written: str) -> bool:
        """Whether `written` is the `self` of a method of a project class, never bound again there."""
        function = self.project.functions[fid][1]
        return (
            self.classes.owner(fid) is not None and written == instance_receiver(function)
            and written not in function.holds and not any(b.name == written for b in function.bindings)
        )

    def _typed_receiver(self, root: FunctionId, fid: FunctionId, written: str) -> list[str] | None:
        """`_receiver_classes`, with `self` of a method, and a parameter it leaves untyped, taken as
        the objects `root`'s closure hands them are (`_handed_classes`)."""
        if self._own_receiver(fid, written):
            return self._self_classes(root, fid, frozenset())
        if self._column_value(root, fid, written):
            return None
        typed = self._receiver_classes(fid, written)
        if typed == [] and self._bare_param(fid, written):
            return self._handed_classes(root, fid, written, frozenset()) or typed
        return typed

    def _column_value(self, root: FunctionId, fid: FunctionId, written: str) -> bool:
        """`self.name` in a model's own code (`f"Customer {self.name}"` in its `__str__`): a mapped
        column, of a type outside the project's classes, of every class the object can be is a
        value, whose formatting runs no model's `__str__`."""
        head, dot, attribute = written.rpartition(".")
        if not dot or not head.isidentifier() or not attribute.isidentifier():
            return False
        owners = self._typed_receiver(root, fid, head)
        return bool(owners) and all(self._plain_column(owner, attribute) for owner in owners or ())

    def _plain_column(self, owner: str, attribute: str) -> bool:
        if not self.members.mapped(owner) or self._names().relationship(owner, attribute) is not None:
            return False
        for ancestor in self.classes.mro(owner):
            declared = self.classes.by_ref[ancestor][1]
            if attribute in declared.fields:
                return not any(self.classes.resolve(ref) is not None for ref in declared.annotations.get(attribute, ()))
        return False

    def _bare_param(self, fid: FunctionId, name: str) -> bool:
        """An unannotated parameter, never bound again in the function."""
        function = self.project.functions[fid][1]
        return any(p.name == name and not p.annotation and not p.variadic for p in function.params) and (
            name not in function.holds and not any(b.name == name for b in function.bindings)
        )

    def _self_classes(
        self, root: FunctionId, fid: FunctionId, visiting: frozenset[tuple[FunctionId, str]]
    ) -> list[str] | None:
        """`self` in a method: an object of its class or of a subclass, never of another model
        defining a member of the same name (a mixin's `self.label()` runs the `label` of the class
        it is mixed into). Of those, the classes of the objects `root`'s closure calls the method
        on, where every such call is on an object whose classes are known (`note.to_dict()` on a
        `Note` the route loaded); else all of them. None when none can be a model (a service, a
        schema): its members read nothing a Session loads."""
        owner = self.classes.owner(fid)
        assert owner is not None
        family = [
            c for c in (owner, *self.classes.subclasses(owner))
            if self.members.mapped(c) or self.members.outside(c) is not None
        ]
        if not family:
            return None
        receiver = instance_receiver(self.project.functions[fid][1]) or "self"
        found = self._handed_classes(root, fid, receiver, visiting)
        if not found:
            return family
        return [c for c in family if any(c in (f, *self.classes.subclasses(f)) for f in found)] or family

    def _handed_classes(
        self, root: FunctionId, fid: FunctionId, name: str, visiting: frozenset[tuple[FunctionId, str]]
    ) -> list[str]:
        """The classes of the objects every call of `root`'s closure hands `fid` as its parameter
        `name` (the object a method is called on, for its `self`), where each is known: a query's
        entity the flow traces it to, an annotation, a class built, or what the caller was handed
        in turn. [] when a call hands something else, or none is seen."""
        members = self._members.get(root)
        if members is None:
            members = self._members[root] = frozenset(self.closure(root))
        edges = [e for e in self.project.all_calls_to.get(fid, ()) if e.caller in members and e.caller != fid]
        if not edges or (fid, name) in visiting or len(visiting) > 8 or fid in self._named_functions():
            return []
        visiting = visiting | {(fid, name)}
        function = self.project.functions[fid][1]
        receiver = instance_receiver(function) if self.classes.owner(fid) is not None else None
        params = [p.name for p in function.params if not p.variadic]
        if self.classes.owner(fid) is not None and not any(d.callee == "staticmethod" for d in function.decorators):
            params = params[1:]  # `self` or `cls` takes no argument of the call
        found: dict[str, None] = {}
        for edge in edges:
            if name == receiver:
                given = edge.call.receiver
            else:
                position = params.index(name) if name in params else -1
                passed = [a for a in edge.call.args if a.keyword == name or (a.keyword is None and a.position == position)]
                given = passed[0].name if len(passed) == 1 else None
            classes = self._classes_of(root, edge.caller, given, visiting) if given is not None else None
            if not classes:
                return []
            found.update(dict.fromkeys(classes))
        return list(found)

    def _classes_of(
        self, root: FunctionId, fid: FunctionId, name: str, visiting: frozenset[tuple[FunctionId, str]]
    ) -> list[str] | None:
        """The classes of the object local `name` of `fid` holds, as `_handed_classes` knows them."""
        if self._own_receiver(fid, name):
            return self._self_classes(root, fid, visiting)
        origins = self.flow.name(fid, name) if self.flow is not None else None
        if origins:
            models = [o.model for o in origins if o.kind is OriginKind.LOAD]
            if len(models) != len(origins) or None in models:
                return None
            return [m for m in models if m is not None]
        typed = self._receiver_classes(fid, name)
        if typed == [] and self._bare_param(fid, name):
            return self._handed_classes(root, fid, name, visiting) or None
        return typed or None

    def _built_classes(self, fid: FunctionId, written: str) -> list[str]:
        """A local name every value of which the flow knows as an instance of a project class (`user =
        User(...)`, in each branch assigning it): those classes, so `user.to_dict()` runs
        `User.to_dict` and no other class's method of that name. [] otherwise."""
        if not written.isidentifier() or any(p.name == written for p in self.project.functions[fid][1].params):
            return []
        values = self.project.flow.evaluate(fid, f"${written}")
        targets = {v.target for v in values if v.kind == INSTANCE}
        if not values or len(targets) != len(values) or not all(
            isinstance(t, str) and t in self.classes.by_ref for t in targets
        ):
            return []
        return sorted(cast("set[str]", targets))

    def _generic_classes(self, fid: FunctionId, written: str) -> list[str]:
        """What a generic CRUD object's method returns (`customer.get(db, id)`, `-> Optional[M]`):
        the mapped class its TypeVar stands for where the object is built (`generic_models.py`).
        [] otherwise."""
        return list(returned_models(self.project, self.classes, fid, written).classes)

    def _constructed_class(self, fid: FunctionId, written: str) -> list[str]:
        """A mapped class built in place (`History(user_id=uid).save(db)`): that class, so the call
        runs its `save` and no other model's of that name. [] otherwise."""
        if not written.endswith(")"):
            return []
        try:
            node = ast.parse(written, mode="eval").body
        except SyntaxError:
            return []
        callee = dotted(node.func) if type(node) is ast.Call else None
        if callee is None:
            return []
        module = self.project.functions[fid][0]
        head, dot, rest = callee.partition(".")
        imported = module.imports.get(head)
        built = self.classes.built_by(f"{imported}{dot}{rest}" if imported else f"{module.name}.{callee}")
        return [built] if built is not None and self.classes.is_mapped(built) else []

    def _queried_classes(self, fid: FunctionId, written: str) -> list[str]:
        """A row of a model's legacy query property (`user = User.query.filter_by(...).first()`,
        `User.query.get(pk)`), however the local is bound: that model, so `user.to_dict()` runs
        `User.to_dict` and no other class's method of that name. [] otherwise."""
        module, function = self.project.functions[fid]
        if written.isidentifier():
            if any(p.name == written for p in function.params):
                return []
            exprs = [b.expr for b in function.bindings if b.name == written]
            if not exprs or any(b.entered for b in function.bindings if b.name == written):
                return []
        else:
            exprs = [written]
        found: set[str] = set()
        for expr in exprs:
            model = _query_property_row(expr)
            if model is None:
                return []
            head, _, rest = model.partition(".")
            imported = module.imports.get(head)
            ref = f"{imported}.{rest}".rstrip(".") if imported else f"{module.name}.{model}"
            resolved = self.classes.resolve(ref) or self.classes.resolve(model)
            if resolved is None or not self.members.mapped(resolved) or not any(
                v.kind == QUERY for v in self.project.flow.evaluate(fid, f"{resolved}.query")
            ):
                return []
            # a polymorphic query's rows may be any mapped subclass, whose override then runs
            found |= {resolved, *(c for c in self.classes.subclasses(resolved) if self.members.mapped(c))}
        return sorted(found)

    def _passed_classes(self, fid: FunctionId, written: str) -> list[str] | None:
        """An unannotated parameter of a plain function, typed by what every project call of it
        passes there: a parameter of the caller's annotated with a project class (the classes),
        or with a type outside them (None when every call does: `hire(db, payload)` with
        `payload: EmployeeIn` reads no model's deferred `bio`). [] when a call passes anything
        else, a call comes through an object or `*args`, or the function is named as a value."""
        function = self.project.functions[fid][1]
        params = [p for p in function.params if p.positional and not p.variadic]
        position = next((i for i, p in enumerate(params) if p.name == written), None)
        edges = self.project.all_calls_to.get(fid, [])
        if not edges or self.classes.owner(fid) is not None or not any(p.name == written for p in function.params):
            return []
        if fid in self._named_functions():
            return []  # named as a value (`run_in_threadpool(hire, db, row)`): called where no edge shows
        found: list[str] = []
        for edge in edges:
            if edge.via is not None:
                return []
            passed = [a for a in edge.call.args if a.keyword == written or a.position is not None and a.position == position]
            if len(passed) != 1 or passed[0].name is None or any(a.position is None and a.keyword is None for a in edge.call.args):
                return []
            caller = self.project.functions[edge.caller][1]
            param = {p.name: p for p in caller.params}.get(passed[0].name)
            if param is None or not param.annotation or any(b.name == param.name for b in caller.bindings):
                return []
            if not self._typed(param) and self._unread_class(param) is not None:
                return []  # a class of a module the tool did not read: perhaps a model
            found.extend(self._typed(param))
        return list(dict.fromkeys(found)) or None

    def _named_functions(self) -> set[FunctionId]:
        """The project functions some module names as a value (`LATER = describe`,
        `run_in_threadpool(hire, db, row)`, `create_method=store().create_tag`): called where no
        edge shows it, on whatever it is handed there. Kept per project."""
        found = cast("set[FunctionId] | None", self.project.derived.get("lazy_load_named_functions"))
        if found is None:
            found = {
                (named[0].name, named[1].key)
                for module in self.project.modules.values() for ref in module.references
                if (named := self.project.function(ref)) is not None
            }
            self.project.derived["lazy_load_named_functions"] = found
        return found

    def _super_classes(self, fid: FunctionId) -> list[str] | None:
        """`super()` in a method: the mapped classes above its own (None for none: a repository's
        `super().__init__()` runs no model's code, whatever models define an `__init__`)."""
        owner = self.classes.owner(fid)
        above = [ancestor for ancestor in self.classes.mro(owner)[1:] if self.classes.is_mapped(ancestor)] if owner else []
        return above or None

    def _find_receiver_classes(self, function: facts.Function, written: str) -> list[str] | None:
        head = written.split(".", 1)[0].split("[", 1)[0]
        params = {p.name: p for p in function.params}
        param = params.get(head) or _iterated_param(function, params, head)
        typed = self._typed(param) if written == head else []
        if param is not None and param.annotation and not typed and written == head:
            # a type outside the project (`str`, `EmployeeIn` of a library) has no model's attributes;
            # a class of a project module the tool did not read may be a model: judged by name
            return [] if self._unread_class(param) is not None else None
        return typed

    def _unread_class(self, param: facts.Param | None) -> str | None:
        """The class reference of `param`'s annotation that names a module of the project the tool
        did not read (`from core.model_aliases import ItemModel`, that file not read: a missing
        file, one outside PATH or one that does not parse), when none of it resolves to a project
        class: what it names is unknown, perhaps a model, never a library's type."""
        if param is None or any(self.classes.resolve(ref) is not None for ref in param.annotation):
            return None
        return next((ref for ref in param.annotation if self.classes.unread(ref)), None)

    def _unread_receiver(self, fid: FunctionId, written: str) -> str | None:
        """`_unread_class` of the parameter a receiver is (or iterates)."""
        function = self.project.functions[fid][1]
        params = {p.name: p for p in function.params}
        return self._unread_class(params.get(written) or _iterated_param(function, params, written))

    def _unread_risk(
        self, root: FunctionId, fid: FunctionId, line: int, written: str, name: str, ref: str, what: str
    ) -> None:
        module, function = self.project.functions[fid]
        self._flow_risk(
            root, module, function, line or function.line, f"{written}.{name}", AM247,
            f"`{written}.{name}` reads `{name}`, which {what}, on `{written}`, annotated "
            f"`{ref.rpartition('.')[2]}` of `{ref.rpartition('.')[0]}`, a module of the project the tool did not "
            "read (no library's): whether that class is such a model, and the read loads lazily, is unverified",
        )

    def _whose(self, classes: list[str], does: str) -> str:
        """"Item runs code for", "Item or Order defers"."""
        return f"{' or '.join(dict.fromkeys(self.classes.short(c) for c in classes))} {does}"

    def _attribute_bag(self, param: facts.Param | None) -> bool:
        """Whether `param` is annotated as a library's bag of named values (`state: State`, a
        `SimpleNamespace`), optional or not: its attributes are what was stored, read through its
        `__getattr__`, never an ORM relationship of its own."""
        if param is None:
            return False
        if not param.annotation:
            # `state=Depends(get_state)`: what the dependency hands over says what the name holds
            return param.depends is not None and self._hands_state(param.depends)
        return self._bag_annotation(param.annotation)

    def _bag_annotation(self, annotation: Iterable[str]) -> bool:
        found = [self.project.canonical(ref) for ref in annotation]
        return any(ref in ATTRIBUTE_BAGS for ref in found) and all(
            ref in ATTRIBUTE_BAGS or ref in _OPTIONAL_REFS for ref in found
        )

    def _hands_state(self, ref: str) -> bool:
        """Whether dependency `ref` is annotated to return such a bag (`-> State`) or, unannotated,
        returns the connection's or the application's state on every path (`return request.state`,
        `return request.app.state`, `request` its connection parameter)."""
        found = self.project.function(ref)
        if found is None:
            return False
        module, function = found
        if function.returns:
            return self._bag_annotation(function.returns)
        fid = (module.name, function.key)
        return bool(function.returned) and all(
            (parts := split(returned))[0].startswith("$") and parts[1] in ((".state",), (".app", ".state"))
            and self.project.flow.request_param(fid, parts[0][1:])
            for returned in function.returned
        )

    def _typed(self, param: facts.Param | None) -> list[str]:
        if param is None:
            return []
        found = (self.classes.resolve(ref) for ref in param.annotation)
        return [ref for ref in dict.fromkeys(found) if ref is not None]

    def _attribute_risk(
        self,
        module: facts.Module,
        function: facts.Function,
        line: int,
        receiver: str,
        attribute: str,
        risky: list[_Relationship],
        safe: list[_Relationship],
        typed: list[str],
    ) -> LazyLoadRisk:
        owner = typed[0] if len(typed) == 1 else _single_owner([*risky, *safe])
        option = self._option(owner, risky, attribute)
        described = self._describe(risky)
        dynamic = any(c.strategy == "dynamic" for c in risky)
        if dynamic:
            problem = "a lazy=\"dynamic\" relationship, which AsyncSession cannot load at all"
            fix = (
                f"declare `{attribute}` with `lazy=\"write_only\"` and query it explicitly "
                f"(`await session.scalars({receiver}.{attribute}.select())`)"
            )
        else:
            problem = "not eager-loaded in the queries this code path runs"
            fix = (
                f"add {option} to the query that loads `{receiver}`, "
                f"or `await session.refresh({receiver}, attribute_names=[\"{attribute}\"])` before reading it"
            )
        generic = "" if typed else returned_models(self.project, self.classes, (module.name, function.key), receiver).why
        message = (
            f"`{receiver}.{attribute}` reads relationship {described}, {problem}: "
            f"raises MissingGreenlet under AsyncSession{self._note(safe)}"
            + (f" (judged by its name: the class of `{receiver}` is unknown: {generic})" if generic else "")
        )
        return LazyLoadRisk(
            file=module.path,
            line=line or function.line,
            function=f"{module.name}.{function.qualname}",
            attribute=attribute,
            owner=owner,
            message=message,
            fix=fix,
            kind=RiskKind.ATTRIBUTE,
            path=f"{receiver}.{attribute}",
            code=(AM221 if dynamic else AM220).code,
        )

    def _describe(self, risky: list[_Relationship]) -> str:
        """`Book.author`, `Author.books or Tag.books`."""
        return " or ".join(dict.fromkeys(self._name(c) for c in risky))

    def _note(self, safe: list[_Relationship]) -> str:
        """The same name on classes where it is safe: the reader may know which class it is."""
        if not safe:
            return ""
        return f" (safe if it is {' or '.join(dict.fromkeys(self._name(c) for c in safe))})"

    def _name(self, c: _Relationship) -> str:
        if c.owner is None:
            return f"the backref {c.attribute!r} declared on {self.classes.short(c.declared_in)}"
        if c.backref:  # found in no body of its class: say where it is declared
            lazy = "" if c.strategy == "select" else f", lazy={c.strategy!r}"
            return f"{self.classes.short(c.owner)}.{c.attribute} (the backref {self.classes.short(c.declared_in)} declares{lazy})"
        lazy = "" if c.strategy == "select" else f" (lazy={c.strategy!r})"
        return f"{self.classes.short(c.owner)}.{c.attribute}{lazy}"

    def _option(self, owner: str | None, risky: list[_Relationship], attribute: str) -> str:
        """`selectinload(Book.author)`, or one option per candidate class."""
        if owner is not None:
            return f"`selectinload({self.classes.short(owner)}.{attribute})`"
        owners = [c.owner for c in risky if c.owner is not None]
        if not owners:
            return f"`selectinload(<Model>.{attribute})`"
        # by the name written: two modules may map a class of one name (mlrun's MySQL and SQLite models)
        options = list(dict.fromkeys(f"`selectinload({self.classes.short(o)}.{attribute})`" for o in owners))
        return " or ".join(options) + (" (whichever class it is)" if len(options) > 1 else "")

    # ------------------------------------------------------ response models

    def _route(self, fid: FunctionId) -> Handler | None:
        handler = self.project.handlers_by_id.get(fid)
        return handler if handler is not None and handler.kind == "route" else None

    def response_risks(self, root: FunctionId, eager: dict[str, _Eager]) -> None:
        handler = self._route(root)
        assert handler is not None
        function = handler.function
        refs, named = handler.response_refs()
        line = handler.served_line(named)
        if function.results and all(self._names().copies(root, term) for term in function.results):
            # `return BookOut.model_validate(book)`: the reads ran in the route (`_validated`)
            return
        if function.results and all(response_object(self.project, function, term) for term in function.results):
            # `return StreamingResponse(rows)`: FastAPI sends a Response as it is, serialising nothing
            return
        if self.flow is None and function.results and all(self._built_schema(function, term) for term in function.results):
            # `return RoomStats(room_id=room_id, messages=n)`: a schema built from keywords holds what
            # it validated where the call ran; serialising it reads no ORM object. (With the flow,
            # `_serialise` follows each keyword's value instead.) Without it, the walk below would
            # judge the fields by name, on any class declaring a relationship of that name.
            return
        self._type_args = set(refs)
        models = [ref for ref in dict.fromkeys(self.classes.resolve(r) for r in refs) if ref is not None]
        if not models:
            self._encoded_dataclasses(root, handler.module, function, line)
        origins = self.flow.results(root) if self.flow is not None and models else None
        # Where the flow cannot follow the returned objects, their functions' return annotations
        # may still say which mapped classes they are: the names are read on those classes only.
        owners = None
        if models and origins is None and function.results:
            owners = self._names().annotated(root, function.results)
        # `user = User(...)` ... `return user`: no query loads it, so what its class declares eager
        # loads on first read there, when the response is serialised
        built = [self._built_object(function, t[1]) if t[0] == "name" else None for t in function.results]
        fresh = bool(built) and None not in built and origins is None
        if fresh:
            owners = frozenset(b for b in built if b is not None)
        handed_back = self._handed_back(root, function) if not fresh and origins is None else None
        if handed_back is not None:
            # `product = repo.add(Product(...))` ... `return product`: what a project function hands
            # back and the flow traces to no query (it may be the object the route built, added by
            # the helper) is loaded by no query known, so a relationship declared eager loads on
            # first read, as on an object the route builds itself
            fresh = True
        got_back = self._got_back(root, function, models) if not fresh and origins is None else None
        if got_back is not None:
            fresh = True
        self._handed_back_by = handed_back
        self._got_back_by = got_back
        for model in models:
            name = self.classes.short(model)
            if origins is None:
                self._walk(root, handler.module, function, line, model, name, (model,), eager, owners=owners,
                           served=True, fresh=fresh)
                continue
            for origin in origins:
                if origin.kind is OriginKind.DICT and origin.built in models and origin.built != model:
                    # `Page(items=orders)` under `Page[OrderOut]`: the refs of the annotation name the
                    # page's type argument too, which validates the items (through the type parameter),
                    # not the page the route built
                    continue
                self._serialise(root, handler.module, function, line, model, name, (model,), eager, origin)

    def _handed_back(self, root: FunctionId, function: facts.Function) -> tuple[str, str, InlineArgument | None] | None:
        """(the returned name, '' for a call returned as it is; the project functions whose result
        it is; the call written in place they hand back, `inline_argument`) when the route returns what a call of a project function or method hands back that
        may be an object no query loaded (`product = repo.add(Product(...))`: `handed_back`);
        None for anything else."""
        if len(function.results) != 1 or len(function.results[0]) < 2:
            return None
        kind, value = function.results[0][:2]
        if kind == "name":
            call = _bound_call(function, value)
            name = value
        elif kind == "call":  # `return repo.add(Product(...))`
            call = next((c for c in function.calls if c.index == value), None)
            name = ""
        else:
            return None
        if call is None:
            return None
        callees = handed_back(self.project, root, call)
        if not callees:
            return None
        return name, shown_functions(self.project, callees), inline_argument(self.project, root, call)

    def _fresh_risk(
        self, risk: LazyLoadRisk, declared: list[_Relationship], attribute: str, fresh: bool = False
    ) -> LazyLoadRisk:
        """`risk` on an object no query is known to load, saying why a relationship declared eager
        (`lazy="selectin"`) is not loaded there and how to load it; or, `fresh`, one a helper hands
        back, given a call written in place, why no eager load of that call's query reaches it."""
        handed = self._handed_back_by
        if not declared:
            if not fresh or handed is None or handed[2] is None:
                return risk
            return self._inline_risk(risk, handed[2], handed[1])
        strategies = ", ".join(sorted({f'lazy="{c.strategy}"' for c in declared}))
        got = self._got_back_by
        if handed is None and got is not None:
            built = ", ".join(sorted(self.classes.short(b) for b in got[1]))
            why = (
                f"declared eager ({strategies}), which loads it only with a query of its class: the object the "
                f"route returns is what {got[0]}() hands back from `get()`, and the route's code builds {built} "
                "objects: `get()` hands back one the Session holds as it is, running no query, so on an object "
                "built there it loads on first read"
            )
            fix = (
                f"load it before returning: `await session.refresh(obj, attribute_names=[\"{attribute}\"])` "
                "after the route's last Session call, or return what a `select()` with `selectinload(...)` "
                "loads; or migrate the route by hand"
            )
            return replace(risk, message=risk.message.replace("not eager-loaded in the route's queries", why, 1), fix=fix)
        if handed is not None:
            name, called, _ = handed
            what = f"`{name}`" if name else "the object the route returns"
            name = name or "obj"
            why = (
                f"declared eager ({strategies}), which loads it only with a query of its class: {what} is what "
                f"{called}() returns, which the tool traces to no query (an object built and added there, or one "
                "code it does not follow returns), so none is known to load it and it loads on first read"
            )
            fix = (
                f"load it before returning: `await session.refresh({name}, attribute_names=[\"{attribute}\"])` "
                f"after the route's last Session call (an object the Session holds), or return what a query "
                f"with `selectinload(...)` loads; or migrate the route by hand"
            )
        else:
            why = (
                f"declared eager ({strategies}), which loads it only with a query of its class: the route builds "
                "the object, which no query loads, so it loads on first read"
            )
            fix = (
                f"load it with `await session.refresh(obj, attribute_names=[\"{attribute}\"])` after the "
                "route's last Session call, or migrate the route by hand"
            )
        message = risk.message.replace("not eager-loaded in the route's queries", why, 1)
        return replace(risk, message=message, fix=fix)

    @staticmethod
    def _inline_risk(risk: LazyLoadRisk, inline: InlineArgument, called: str) -> LazyLoadRisk:
        """`return lend(get(book_id))`: the eager load a query in `get` has, or is given for another
        route, is not known to reach what the route returns. Bound to a name first, it is."""
        why = (
            f"on the object the route returns: what {called}() hands back, its argument `{inline.param}`, given "
            f"the result of `{inline.inner}(...)` written in place; the tool follows no object through a call's "
            f"result handed on as an argument, so neither the query in {inline.loaders} nor an eager load there "
            "is known to load it"
        )
        fix = (
            f"bind it to a name first (`{inline.param} = {inline.inner}(...)`, then `{inline.outer}`): the tool "
            "follows a named object through the call it is handed to, and the query's eager load with it; or "
            "migrate the route by hand"
        )
        message = risk.message.replace("not eager-loaded in the route's queries", why, 1)
        return replace(risk, message=message, fix=fix)

    def _encoded_dataclasses(self, root: FunctionId, module: facts.Module, function: facts.Function, line: int) -> None:
        """A route with no response model hands what it returns to `jsonable_encoder`, which reads
        an object of a mapped dataclass (`MappedAsDataclass`) with `dataclasses.asdict`: every
        relationship field, and those of the objects they lead to. No eager load is added for
        that walk, so the route blocks (AM245) where the returned object's class maps one."""
        if self.flow is None or not function.results:
            return
        for origin in self.flow.results(root) or ():
            self._encoded(root, module, function, line, origin, "the route returns a {name} with no response "
                          "model: FastAPI serialises it with `jsonable_encoder` (`dataclasses.asdict`), which")

    def _encoded_calls(self, root: FunctionId, fid: FunctionId) -> None:
        """`dataclasses.asdict(crew)`, `jsonable_encoder(crew)` on an object of a mapped dataclass:
        every relationship field read, as for a route returning it with no response model."""
        assert self.flow is not None
        module, function = self.project.functions[fid]
        for call in self._calls_of_models(fid).encoded:
            given = next((a.name for a in call.args if a.position == 0), None)
            for origin in (self.flow.name(fid, given) or ()) if given else ():
                self._encoded(root, module, function, call.line, origin, f"`{call.callee}({given})`")

    def _encoded(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, origin: Origin, shown: str
    ) -> None:
        """The risk of reading every field of `origin`'s object, when it is of a mapped dataclass
        with relationships (`shown` names the reader; `{name}` in it, the class)."""
        if origin.kind is not OriginKind.LOAD or origin.model is None:
            return
        related = self._dataclass_relationships(origin.model)
        if not related:
            return
        name = self.classes.short(origin.model)
        self._flow_risk(
            root, module, function, line, f"{name}.{related[0]}", AM245,
            f"{shown.format(name=name)} reads every field of the mapped dataclass {name}, its relationships "
            f"({', '.join(f'{name}.{r}' for r in related)}) and what they lead to, lazily: MissingGreenlet "
            "under AsyncSession; fix: declare a response model naming the fields served, or load the "
            "relationships by hand and migrate the route by hand",
        )

    def _dataclass_relationships(self, model: str) -> list[str]:
        """The relationships of a class mapped as a dataclass (a `MappedAsDataclass` base, or the
        registry's `@mapped_as_dataclass` decorator), which `dataclasses.asdict` reads; none for a
        class that is no dataclass."""
        ancestors = self.classes.mro(model)
        if not any(
            self.project.canonical(base) in MAPPED_AS_DATACLASS_BASES
            for ancestor in ancestors for base in self.classes.by_ref[ancestor][1].bases
        ) and not any(
            # `@reg.mapped_as_dataclass` names the method of a registry instance, whatever it is called
            (self.project.canonical(decorator) or decorator).rpartition(".")[2] == "mapped_as_dataclass"
            for ancestor in ancestors for decorator in self.classes.by_ref[ancestor][1].decorators
        ):
            return []
        return [r for ancestor in ancestors for r in self.classes.by_ref[ancestor][1].relationships]

    def _serialise(
        self,
        root: FunctionId,
        module: facts.Module,
        function: facts.Function,
        line: int,
        model: str,
        path: str,
        stack: tuple[str, ...],
        eager: dict[str, _Eager],
        origin: Origin,
        validators: bool = True,
    ) -> None:
        """The response model `model` validated from an object the flow traced to `origin`
        (`validators`: through its model validator; False: from what that validator returned)."""
        assert self.flow is not None
        traced = origin.kind is OriginKind.LOAD and origin.model is not None
        if traced and validators and self._model_validated(root, module, function, line, model, path, stack, eager,
                                                           origin):
            return
        if origin.kind is not OriginKind.DICT and self._unverified_validation(
            root, module, function, line, model, path, traced=traced, validators=validators
        ):
            return
        if origin.kind is OriginKind.SOURCE:
            self._walk(root, module, function, line, model, path, stack, eager, source=origin)
            return
        if origin.kind is OriginKind.UNVERIFIED or (origin.kind is OriginKind.LOAD and origin.model is None):
            if self.classes.fields(model):
                what = origin.where or "a relationship whose target class the tool cannot resolve"
                self._flow_risk(root, module, function, line, path, AM247,
                                f"response model {path} is serialised from an object of {what}: whether its "
                                "fields load relationships lazily is unverified")
            return
        if origin.kind is OriginKind.DICT:
            pairs = dict(origin.term[1])
            # A schema built from keywords (`Out(a=x)`) validated them into its own fields, and
            # FastAPI serialises the response from those: its fields are the ones read.
            for name, annotation in self.classes.fields(origin.built or model):
                field_path = f"{path}.{name}"
                nested = self._nested(annotation, stack)
                if name not in pairs:
                    rest = origin.term[2]
                    # `**rest` may supply it: what the one `**x` holds under that key, else judged by names
                    given = self.flow.resolve(origin.fid, ("key", rest, name)) if isinstance(rest, tuple) else None
                    for child in nested if rest else ():
                        if given is None:
                            if origin.built is not None and not self._reads_attributes(child):
                                # `Project(**data)` validates `data["metadata"]` into a model that takes
                                # only a dict or an instance of its own: an ORM object there raises a
                                # validation error, and no field of it is read as an attribute
                                continue
                            self._walk(root, module, function, line, child, field_path, (*stack, child), eager)
                            continue
                        for value in given:
                            self._serialise(root, module, function, line, child, field_path, (*stack, child), eager, value)
                    continue
                if not nested:
                    continue
                found = self.flow.resolve(origin.fid, pairs[name])
                for child in nested:
                    if found is None:
                        self._walk(root, module, function, line, child, field_path, (*stack, child), eager)
                        continue
                    for value in found:
                        self._serialise(root, module, function, line, child, field_path, (*stack, child), eager, value)
            return
        assert origin.model is not None
        for chain, annotation in self._paths(model):
            self._alias_path(root, module, function, line, f"{path}.{'.'.join(chain)}", stack, eager, origin, chain,
                             annotation)
        fields = self._fields(model)
        fields += self._computed(model, fields)
        for name, annotation in fields:
            strategy = self.flow.step(origin, name)
            if strategy is None:  # a column, or model code (a property) read by serialisation
                # `line` is `function`'s, which validates the model (a helper, or the route): its file with it
                self._member(root, (module.name, function.key), line, f"{path}", origin, name, "read", eager,
                             shown=f"response model field {path}.{name}")
                self._member_value(root, module, function, line, f"{path}.{name}", stack, eager, origin, name,
                                   annotation)
                continue
            field_path = f"{path}.{name}"
            relationship_path = (*origin.path, (origin.model, name))
            if strategy == "dynamic":
                dynamic = _Relationship(origin.model, name, strategy, origin.model)
                key = ("response", module.path, function.key, field_path)
                self._add(key, root, lambda: self._response_risk(module, function, line, field_path, name, [dynamic], []))  # noqa: B023 (called at once)
                continue
            recurring = self._recurring(annotation, stack)
            if recurring is not None and strategy not in _ANY_DEPTH_STRATEGIES:
                # An option adds a fixed number of levels; the schema reads as many as the data has.
                self._recursion_risk(root, module, function, line, field_path, recurring,
                                     f"{self.classes.short(origin.model)}.{name}")
                continue
            option = self._unloading_option(origin, name)
            if option is not None:  # the query's own `lazyload(...)`: the field loads on first read
                self._unloaded(root, module, function, line, f"response model field {field_path}", field_path,
                               origin.model, name, option)
                continue
            if strategy not in SAFE_STRATEGIES and not self._loaded(origin, name, eager):
                self._add_fix(root, origin, relationship_path)
            elif self._got_built(root, origin, strategy) and not self._loaded(origin, name, eager):
                self._add_fix(root, origin, relationship_path)
            target = Origin(OriginKind.LOAD, origin.fid, origin.load, self.flow.target(origin.model, name), relationship_path)
            self._raw_validated(root, module, function, line, model, name, field_path, target, eager)
            for child in self._nested(annotation, stack):
                self._serialise(root, module, function, line, child, field_path, (*stack, child), eager, target)
        self._held(root, module, function, line, model, path, fields, eager, origin)

    def _member_value(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, field_path: str,
        stack: tuple[str, ...], eager: dict[str, _Eager], origin: Origin, name: str, annotation: tuple[str, ...],
    ) -> None:
        """A schema nested under field `field_path`, read as `name` (a column, a property, a
        hybrid: no relationship) of an object of `origin`: validated from what that attribute
        holds. Model code handing back objects it reached from its own along relationships
        (`return self.book`) has what the nested schema reads loaded along that path
        (`selectinload(Shelf.book).selectinload(Book.author)`); an ORM object reached otherwise
        has no path a loader option can name, and blocks."""
        assert self.flow is not None and origin.model is not None
        nested = self._nested(annotation, stack)
        if not nested or not self._declares(origin.model, name):
            # not an attribute of the object (a `mode="before"` validator's dict supplies the
            # field, or an alias): what the field is validated from is read where that is judged
            return
        kind, held = self._held_value(name, frozenset({origin.model}), False)
        owner = self.classes.short(origin.model)
        if kind == "plain":
            return  # a column's value, a TypedDict, a plain class: no ORM object to read
        if kind != "mapped":
            self._flow_risk(root, module, function, line, field_path, AM247,
                            f"response model {field_path} is validated from `{owner}.{name}`, no relationship (a "
                            "property, a hybrid or a column), which the tool cannot tell holds no ORM object: "
                            "whether its fields load relationships lazily is unverified")
            return
        returned = self.members.returned(origin.model, name)
        if returned is None:
            classes = " or ".join(sorted(self.classes.short(c) for c in held or ()))
            self._flow_risk(root, module, function, line, field_path, AM247,
                            f"response model {field_path} is validated from the {classes} `{owner}.{name}` returns, "
                            f"which the tool cannot trace to a relationship path from {owner}: no loader option on "
                            "the query loading it can reach what the nested schema reads, so whether that loads "
                            "lazily is unverified; fix: serve a relationship of the object instead, or build the "
                            "response by hand and migrate the route by hand")
            return
        for value in returned:
            target = Origin(OriginKind.LOAD, origin.fid, origin.load, value.model, (*origin.path, *value.path))
            for child in nested:
                self._serialise(root, module, function, line, child, field_path, (*stack, child), eager, target)

    def _held(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, path: str,
        fields: list[tuple[str, tuple[str, ...]]], eager: dict[str, _Eager], origin: Origin,
    ) -> None:
        """A plain schema's fields typed to keep what they are given (`enrollments: list[Any]`),
        validated from relationships, hold the ORM objects: its own code run on the instance
        (`@computed_field` reading `len(e.student.name for e in self.enrollments)`) reads them as
        the object's own code would, from the fields of the same names."""
        assert self.flow is not None and origin.model is not None
        if self.members.mapped(model):
            return  # `_computed`: the object is the instance
        held = {
            name for name, annotation in fields
            if opaque(annotation) and self.flow.relationship(origin.model, name) is not None
        }
        if not held:
            return
        for fid in instance_code(self.project, self.classes, model):
            summary = self.members.summary(origin.model, fid)
            kept = replace(summary, needs=[n for n in summary.needs if n.path and n.path[0][1] in held])
            member = self.project.functions[fid][1].name
            self._needs(root, module, function, line, path, member, f"{path}.{member}, run on the objects "
                        f"{self.classes.short(model)} holds", kept, origin, eager)

    def _model_validated(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, path: str,
        stack: tuple[str, ...], eager: dict[str, _Eager], origin: Origin,
    ) -> bool:
        """`model`'s one `@model_validator(mode="before")`, given an object of a query the flow
        found: what its code reads on the object loads from that query, and the fields are then
        validated from what it returns, each read as the flow follows it (the object itself:
        by the field names; a dict display: each value, `"modules": data.modules`). False when
        the model has no such validator, or one the tool does not read (it blocks, AM247)."""
        assert self.flow is not None and origin.model is not None
        found = model_validators(self.project, self.classes, model)
        if len(found) != 1 or found[0][1] is None or self._opaque_validation(model, True, validators=False):
            return False
        fid, value = found[0]
        assert value is not None
        validator = self.project.functions[fid][1]
        shown = f"model validator {self.classes.short(self.classes.owner(fid))}.{validator.name}"
        self._needs(root, module, function, line, path, validator.name, f"{shown} on {path}",
                    self.members.summary(origin.model, fid, value), origin, eager)
        before = self.flow.bound.get(fid)
        self.flow.bound[fid] = (value, [Origin(OriginKind.LOAD, fid, -1, origin.model, ())])
        try:
            for term in validator.results or [None]:
                returned = self.flow.resolve(fid, term) if term is not None else None
                for given in returned if returned is not None else [None]:
                    self._validated_from(root, module, function, line, model, path, stack, eager, origin, fid, given,
                                         shown)
        finally:
            if before is None:
                del self.flow.bound[fid]
            else:
                self.flow.bound[fid] = before
        return True

    def _validated_from(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, path: str,
        stack: tuple[str, ...], eager: dict[str, _Eager], origin: Origin, fid: FunctionId, given: Origin | None,
        shown: str,
    ) -> None:
        """The fields of `model` validated from `given`, what model validator `fid` returned."""
        assert self.flow is not None
        if given is not None and given.kind is OriginKind.DICT and not given.term[2]:
            pairs = dict(given.term[1])
            for name, annotation in self.classes.fields(model):
                nested = self._nested(annotation, stack) if name in pairs else []
                values = self.flow.resolve(fid, pairs[name]) if nested else []
                for child in nested:
                    for value in values if values is not None else [None]:
                        rebased = self._rebased(value, origin, fid)
                        if rebased is None:
                            self._flow_risk(root, module, function, line, f"{path}.{name}", AM247,
                                            f"{shown} gives {path}.{name} a value the tool cannot trace to a query: "
                                            "whether validating it loads relationships lazily is unverified")
                            continue
                        self._serialise(root, module, function, line, child, f"{path}.{name}", (*stack, child), eager,
                                        rebased)
            return
        rebased = self._rebased(given, origin, fid)
        if rebased is None or rebased.model is None:
            self._flow_risk(root, module, function, line, path, AM247,
                            f"{path} is validated from what {shown} returns, which the tool cannot follow: which "
                            "relationships it reads, and whether they load lazily, is unverified")
            return
        self._serialise(root, module, function, line, model, path, stack, eager, rebased, validators=False)

    @staticmethod
    def _rebased(value: Origin | None, origin: Origin, fid: FunctionId) -> Origin | None:
        """`value`, an object a model validator `fid` reached from the object it was given, as an
        object of `origin`'s query; None for anything else."""
        if value is None or value.kind is not OriginKind.LOAD or value.fid != fid or value.load != -1:
            return None
        return Origin(OriginKind.LOAD, origin.fid, origin.load, value.model, (*origin.path, *value.path))

    def _raw_validated(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, name: str,
        field_path: str, target: Origin, eager: dict[str, _Eager],
    ) -> None:
        """A field validator of `model` receiving relationship `name` as read (`mode="before"`)
        runs on the related objects: what it reads on them loads from the query of `target`."""
        validators = raw_field_validators(self.project, self.classes, model)
        for fid, value in [*validators.get(name, ()), *validators.get("*", ())]:
            validator = f"{self.classes.short(self.classes.owner(fid))}.{self.project.functions[fid][1].name}"
            shown = f"field validator {validator} on response model field {field_path}"
            if target.model is None:
                self._flow_risk(root, module, function, line, field_path, AM247,
                                f"{shown} receives an object of a relationship whose target class the tool cannot "
                                "resolve: whether it loads relationships lazily is unverified")
                continue
            summary = self.members.summary(target.model, fid, value)
            self._needs(root, module, function, line, field_path, name, shown, summary, target, eager)

    def _held_unverified(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, path: str,
        field_path: str, name: str, candidates: list[_Relationship],
    ) -> None:
        """`_held` on an object the flow does not trace: the schema's own code reading further
        on the ORM objects field `name` holds loads from a query no option can be added to."""
        if self.members.mapped(model):
            return
        for fid in instance_code(self.project, self.classes, model):
            owners = [c.owner for c in candidates]
            summaries = [self.members.summary(o, fid) for o in owners if o is not None]
            further = any(
                len(n.path) > 1 and n.path[0][1] == name for s in summaries for n in s.needs
            )
            if further or None in owners:
                member = f"{self.classes.short(model)}.{self.project.functions[fid][1].name}"
                self._flow_risk(root, module, function, line, field_path, AM247,
                                f"{member} reads the ORM objects {field_path} holds as given, on an object the tool "
                                "cannot trace to its query: whether that loads relationships lazily is unverified")
                return

    def _raw_unverified(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, name: str,
        field_path: str, candidates: list[_Relationship],
    ) -> None:
        """A field validator receiving relationship `name` as read, on an object the flow does not
        trace: what it reads on the related objects loads from a query no option can be added to."""
        validators = raw_field_validators(self.project, self.classes, model)
        flow = self._names()
        for fid, value in [*validators.get(name, ()), *validators.get("*", ())]:
            targets = [flow.target(c.owner, name) if c.owner is not None else None for c in candidates]
            summaries = [self.members.summary(t, fid, value) for t in targets if t is not None]
            if None not in targets and not any(s.needs or s.unverified for s in summaries):
                continue  # it reads columns only
            validator = f"{self.classes.short(self.classes.owner(fid))}.{self.project.functions[fid][1].name}"
            self._flow_risk(root, module, function, line, field_path, AM247,
                            f"field validator {validator} receives {field_path} as read from an object the tool "
                            "cannot trace to its query, and reads it further: whether that loads relationships "
                            "lazily is unverified")

    def _recursion_risk(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, field_path: str,
        recurring: str, relationship: str,
    ) -> None:
        """AM166: a response model nesting itself through `relationship`, read to any depth."""
        self._flow_risk(root, module, function, line, field_path, AM166,
                        f"response model {field_path} nests {self.classes.short(recurring)} again through "
                        f"relationship {relationship}, read on every level while serialising: an eager load "
                        "covers a fixed depth, and the level below it raises MissingGreenlet under AsyncSession")

    def _alias_path(
        self,
        root: FunctionId,
        module: facts.Module,
        function: facts.Function,
        line: int,
        path: str,
        stack: tuple[str, ...],
        eager: dict[str, _Eager],
        origin: Origin,
        chain: tuple[str, ...],
        annotation: tuple[str, ...],
    ) -> None:
        """`AliasPath("author", "name")` on an object of a known class: each relationship the chain
        crosses loads as a nested field's would, the last name read as a field."""
        assert self.flow is not None
        for index, name in enumerate(chain):
            assert origin.model is not None
            strategy = self.flow.step(origin, name)
            if strategy is None:
                if index < len(chain) - 1:  # a column or property read through: what it holds is unknown
                    self._flow_risk(root, module, function, line, path, AM247,
                                    f"{path} is validated through an alias path crossing "
                                    f"{self.classes.short(origin.model)}.{name}, no relationship: what it reads "
                                    "is unverified")
                else:
                    self._member(root, (module.name, function.key), line, path, origin, name, "read", eager,
                                 shown=f"response model field {path}")
                return
            relationship_path = (*origin.path, (origin.model, name))
            target = self.flow.target(origin.model, name)
            if strategy == "dynamic" or target is None:
                self._flow_risk(root, module, function, line, path, AM247,
                                f"{path} is validated through an alias path crossing relationship "
                                f"{self.classes.short(origin.model)}.{name}, which no loader option loads")
                return
            if (strategy not in SAFE_STRATEGIES or self._got_built(root, origin, strategy)) and not self._loaded(
                origin, name, eager
            ):
                self._add_fix(root, origin, relationship_path)
            origin = Origin(OriginKind.LOAD, origin.fid, origin.load, target, relationship_path)
        for child in self._nested(annotation, stack):
            self._serialise(root, module, function, line, child, path, (*stack, child), eager, origin)

    def _computed(self, model: str, fields: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, tuple[str, ...]]]:
        """A mapped class serialised as its own response model (SQLModel) runs its
        `@computed_field`s on the ORM object; a plain schema computes them from its own fields."""
        if not self.members.mapped(model):
            return []
        return [(name, ()) for name in self.members.computed(model) if name not in dict(fields)]

    def _recurring(self, annotation: tuple[str, ...], stack: tuple[str, ...]) -> str | None:
        """The model on the path a field's annotation names again: a schema nesting itself."""
        return next((ref for ref in map(self.classes.resolve, annotation) if ref is not None and ref in stack), None)

    def _nested(self, annotation: tuple[str, ...], stack: tuple[str, ...]) -> list[str]:
        """Project models named in a field's annotation, with fields, not already on the path (for
        a type parameter, the models given to generics: `_type_args`)."""
        if len(stack) >= _MAX_DEPTH:
            return []
        found = (self.classes.resolve(ref) for ref in self._arguments(annotation))
        return [ref for ref in dict.fromkeys(found) if ref is not None and ref not in stack and self.classes.fields(ref)]

    def _arguments(self, annotation: Iterable[str]) -> list[str]:
        """`annotation`'s references, a type parameter standing for every type argument seen."""
        refs = list(annotation)
        self._type_args.update(refs)
        if any(self._type_var(ref) for ref in refs):
            refs += sorted(self._type_args)
        return refs

    def _modelless(self, annotation: tuple[str, ...]) -> bool:
        """Whether a field's annotation names no model with fields and no type parameter, so no
        nested model is validated from it, whatever the route: kept per project."""
        known = self._modelless_annotations.get(annotation)
        if known is None:
            known = self._modelless_annotations[annotation] = not any(
                self._type_var(ref) or (found := self.classes.resolve(ref)) is not None and self.classes.fields(found)
                for ref in annotation
            )
        return known

    def _type_var(self, ref: str) -> bool:
        known = self._type_vars.get(ref)
        if known is None:
            known = self._type_vars[ref] = type_var(self.project, ref) is not None
        return known

    def _walk(
        self,
        root: FunctionId,
        module: facts.Module,
        function: facts.Function,
        line: int,
        model: str,
        path: str,
        stack: tuple[str, ...],
        eager: dict[str, _Eager],
        source: Origin | None = None,
        owners: frozenset[str] | None = None,
        served: bool = False,
        fresh: bool = False,
        plain: bool = False,
    ) -> None:
        """`owners`: the mapped classes the serialised object can be (None: any class); `served`:
        the route's own response model, serialised from what the route returns; `fresh`: objects
        the route built, no query loaded (their own relationships load on first read, whatever the
        class declares); `plain`: the object is no ORM object (a column's value, or what model code
        is annotated to return: a TypedDict, a plain class, scalars), of `owners` when project
        classes: reading it runs no model code and loads nothing, whatever its fields are named."""
        eager = self._untraced(eager, source, None)
        if self._unverified_validation(root, module, function, line, model, path):
            return
        fields = self._fields(model)
        fields += self._computed(model, fields)
        depth = len(stack) if served else 0
        for name, annotation in fields:
            field_path = f"{path}.{name}"
            if plain:
                self._walk_value(root, module, function, line, field_path, annotation, stack, eager, source,
                                 owners or frozenset(), True, served, fresh)
                continue
            candidates = self.relationships.get(name)
            targets: frozenset[str] | None = None
            if candidates and owners is not None:
                candidates, targets = self._on(candidates, owners, name)
            declared: list[_Relationship] = []
            if candidates and fresh:
                # below the built object too: what its relationships lead to may be built as well, or
                # already in the Session, where loading it by key finds it and no query of its class runs
                declared = [c for c in candidates if c.strategy in EAGER_STRATEGIES]
                candidates = _as_lazy(candidates)
            if not candidates:
                self._named_member(root, (module.name, function.key), line, path, name, "read", eager, source=source,
                                   shown=f"response model field {field_path}", served=depth)
                # the classes the serialised object is known to be (built by the route, annotated):
                # a property of theirs doing Session work runs while FastAPI serialises the response
                for owner in sorted(owners or ()) if self.members.named(name) else ():
                    summary = self.members.runs(owner, name, "read")
                    if summary is not None:
                        self._member_session_work(root, module, function, line, path, name,
                                                  f"response model field {field_path}", summary)
            if candidates:
                self._raw_unverified(root, module, function, line, model, name, field_path, candidates)
            recurring = self._recurring(annotation, stack) if candidates else None
            if recurring is not None and any(c.strategy not in _ANY_DEPTH_STRATEGIES for c in candidates or ()):
                self._recursion_risk(root, module, function, line, field_path, recurring,
                                     self._describe(candidates or []))
                continue
            risky = self._uncredited(candidates, name, eager) if candidates else []
            if risky:
                safe = [c for c in candidates or () if c not in risky]
                key = ("response", module.path, function.key, field_path)
                self._add(
                    key,
                    root,
                    lambda: self._fresh_risk(  # noqa: B023 (called at once)
                        self._response_risk(module, function, line, field_path, name, risky, safe, source, depth),  # noqa: B023
                        declared, name, fresh,  # noqa: B023
                    ),
                )
            if candidates and opaque(annotation):
                self._held_unverified(root, module, function, line, model, path, field_path, name, candidates)
            if not candidates:
                # no relationship of that name: the nested model is validated from a column's value or
                # what model code returns, which is an ORM object only where it is annotated to be one
                self._walk_value(root, module, function, line, field_path, annotation, stack, eager, source,
                                 owners, False, served, fresh, name)
                continue
            if len(stack) >= _MAX_DEPTH:
                continue
            for ref in self._arguments(annotation):
                nested = self.classes.resolve(ref)
                if nested is not None and nested not in stack and self.classes.fields(nested):
                    self._walk(root, module, function, line, nested, field_path, (*stack, nested), eager, source,
                               owners=targets, served=served, fresh=fresh)

    def _walk_value(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, field_path: str,
        annotation: tuple[str, ...], stack: tuple[str, ...], eager: dict[str, _Eager], source: Origin | None,
        owners: frozenset[str] | None, plain: bool, served: bool, fresh: bool, name: str | None = None,
    ) -> None:
        """The nested models of field `field_path`, read as attribute `name` (None: the field's own
        name) of an object of `owners` (`plain`: no ORM object) that is no relationship: followed as
        what that attribute holds (`_held_value`), never by the names of the nested model's fields
        matched against unrelated mapped classes."""
        if len(stack) >= _MAX_DEPTH:
            return
        if self._modelless(annotation):  # most fields: a column's scalar type
            self._type_args.update(annotation)
            return
        nested = [
            ref for ref in dict.fromkeys(map(self.classes.resolve, self._arguments(annotation)))
            if ref is not None and ref not in stack and self.classes.fields(ref)
        ]
        if not nested:
            return
        attribute = name or field_path.rsplit(".", 1)[-1]
        kind, held = self._held_value(attribute, owners, plain)
        if kind == "plain" and owners is None:
            # the classes defining the attribute hold no ORM object there, but the object may be
            # none of them (a dict, a schema holding what the route gave it): that stays unread
            defining = " or ".join(sorted({self.classes.short(c) for c in self.members.defining(attribute)})) or \
                "a mapped class"
            self._flow_risk(root, module, function, line, field_path, AM247,
                            f"response model {field_path} is validated from `{attribute}` of an object the tool "
                            f"cannot trace to its class: on {defining} that holds no ORM object, but whether "
                            "the object is one, and what its fields load lazily otherwise, is unverified")
            return
        if kind == "unknown":
            self._flow_risk(root, module, function, line, field_path, AM247,
                            f"response model {field_path} is validated from `{attribute}`, no relationship (a "
                            "property, a hybrid or a column), which the tool cannot tell holds no ORM object: "
                            "whether its fields load relationships lazily is unverified")
            return
        if kind == "mapped" and owners is None:
            kind, held = "names", None  # the object may be any class: its fields judged by name, as before
        for child in nested:
            self._walk(root, module, function, line, child, field_path, (*stack, child), eager, source,
                       owners=held if kind != "names" else None, served=served, fresh=fresh,
                       plain=kind == "plain")

    def _declares(self, model: str, name: str) -> bool:
        """Whether mapped class `model` (or a class it derives from) declares attribute `name`:
        model code, a descriptor, a column or an annotation."""
        if self.members.lookup(model, name) is not None:
            return True
        return any(
            name in declared.fields or name in declared.annotations or name in declared.descriptors
            for declared in (self.classes.by_ref[a][1] for a in self.classes.mro(model) if a in self.classes.by_ref)
        )

    def _held_value(
        self, name: str, owners: frozenset[str] | None, plain: bool
    ) -> tuple[str, frozenset[str] | None]:
        """What attribute `name` (no relationship) holds on an object of `owners` (None: any class
        defining it): ("plain", the project classes it is, no ORM model: a TypedDict, a plain class;
        none for scalars), ("mapped", the mapped classes) where model code is annotated to return one,
        ("unknown", None) where an annotation is missing or names what the tool cannot read, and
        ("names", None) where no class the object can be declares it (judged by names, as before)."""
        if plain and not owners:
            return "plain", frozenset()
        if owners is None:
            owners = self._owners_by_name.get(name)
            if owners is None:
                owners = self._owners_by_name[name] = frozenset(self.members.defining(name)) | frozenset(
                    ref for ref, (_, declared) in self.classes.by_ref.items()
                    if name in declared.fields and self.members.mapped(ref)
                )
            if not owners:
                return "names", None
        held: set[str] = set()
        mapped: set[str] = set()
        for owner in owners:
            fid = self.members.lookup(owner, name)
            if fid is not None:
                member = self.project.functions[fid][1]
                if member.returns_no_object:
                    continue
                refs: tuple[str, ...] = member.returns
            elif name in self.classes.by_ref[owner][1].descriptors:
                return "unknown", None  # an association proxy, a descriptor: what it hands back is unread
            elif self.members.mapped(owner) and any(
                name in self.classes.by_ref[a][1].fields and self._names().relationship(a, name) is None
                for a in self.classes.mro(owner)
            ):
                continue  # a mapped column: a value, never an ORM object
            else:
                refs = next((self.classes.by_ref[a][1].annotations.get(name, ()) for a in self.classes.mro(owner)
                             if name in self.classes.by_ref[a][1].annotations), ())
            if not refs:
                return "unknown", None
            for ref in refs:
                found = self.classes.resolve(ref)
                if found is not None:
                    if self.members.outside(found) is not None:
                        return "unknown", None
                    (mapped if self.members.mapped(found) else held).add(found)
                elif ref not in SCALAR_TYPES and ref not in CONTAINER_TYPES or (
                    ref in CONTAINER_TYPES and len(refs) == 1
                ):
                    return "unknown", None  # `Any`, a library class, a bare `list`: anything
        if mapped:
            return "mapped", frozenset(mapped)
        return "plain", frozenset(held)

    def _names(self) -> Flow:
        """A flow for the relationship declarations and return annotations only."""
        if self.flow is not None:
            return self.flow
        if self._declarations is None:
            self._declarations = Flow(self.project, self.classes, set())
        return self._declarations

    def _on(
        self, candidates: list[_Relationship], owners: frozenset[str], name: str
    ) -> tuple[list[_Relationship], frozenset[str] | None]:
        """The declarations of relationship `name` an object of `owners` can have (a subclass's
        too: the object may be one), and the classes the relationship leads to (None: unknown)."""
        flow = self._names()
        kept = [
            c for c in candidates
            if any(
                (c.owner is None and flow.relationship(o, name) is not None)
                or (c.owner is not None and (c.owner in self.classes.mro(o) or o in self.classes.mro(c.owner)))
                for o in owners
            )
        ]
        targets: set[str | None] = set()
        for c in kept:
            for o in owners:
                on = c.owner if c.owner is not None and o in self.classes.mro(c.owner) else o
                if flow.relationship(on, name) is not None:
                    targets.add(flow.target(on, name))
        if not targets or None in targets:
            return kept, None
        return kept, frozenset(t for t in targets if t is not None)

    def _unverified_validation(
        self, root: FunctionId, module: facts.Module, function: facts.Function, line: int, model: str, path: str,
        traced: bool = False, validators: bool = True,
    ) -> bool:
        why = self._opaque_validation(model, traced, validators)
        if why is not None:
            self._flow_risk(root, module, function, line, path, AM247,
                            f"{path} is validated from an ORM object, and {why}: which relationships it reads, "
                            "and whether they load lazily, is unverified")
        return why is not None

    def _response_risk(
        self,
        module: facts.Module,
        function: facts.Function,
        line: int,
        field_path: str,
        name: str,
        risky: list[_Relationship],
        safe: list[_Relationship],
        source: Origin | None = None,
        served: int = 0,
    ) -> LazyLoadRisk:
        owner = _single_owner([*risky, *safe])
        dynamic = any(c.strategy == "dynamic" for c in risky)
        if dynamic:
            # no loader option or refresh loads a dynamic relationship: advising one is wrong
            problem = "a lazy=\"dynamic\" relationship, which AsyncSession cannot load, nor any loader option"
            fix = (
                f"declare `{name}` with `lazy=\"write_only\"`, load the list explicitly "
                f"(`await session.scalars(obj.{name}.select())`) and build the response from it"
            )
        else:
            problem = "not eager-loaded in the route's queries"
            fix = (
                f"add {self._option(owner, risky, name)} to the query that loads the returned objects "
                f"(chained from its parent's option for a nested field), or declare the relationship "
                f"`lazy=\"selectin\"`; for an object the route builds itself (`Model(...)`, added and "
                f"committed), load it with `await session.refresh(obj, attribute_names=[\"{name}\"])`"
            )
        message = (
            f"response model {field_path} reads relationship {self._describe(risky)}, {problem}: "
            f"serializing it raises MissingGreenlet under AsyncSession"
            f"{self._note(safe)}"
        )
        risk = LazyLoadRisk(
            file=module.path,
            line=line,
            function=f"{module.name}.{function.qualname}",
            attribute=name,
            owner=owner,
            message=message,
            fix=fix,
            kind=RiskKind.RESPONSE,
            path=field_path,
            code=AM221.code if dynamic else AM222.code,
            served=served,
        )
        return risk if source is None else _from_source(risk, source)

    # ---------------------------------------------------------------- output

    def _add(self, key: tuple[object, ...], root: FunctionId, build: Callable[[], LazyLoadRisk]) -> None:
        module, function = self.project.functions[root]
        name = f"{module.name}.{function.qualname}"
        existing = self.found.get(key)
        if existing is None:
            existing = build()
        if name not in existing.routes:
            existing = _with_route(existing, name)
        self.found[key] = existing


# A legacy query's steps that keep its rows the model's own (a `with_entities()`, `add_columns()`
# or `values()` would not), and the calls returning one row of it.
_ROW_STEPS = frozenset({
    "filter", "filter_by", "order_by", "limit", "offset", "options", "join", "outerjoin", "distinct",
    "execution_options", "populate_existing", "with_for_update", "params", "enable_eagerloads", "where",
})
_ROW_ENDS = frozenset({"first", "one", "one_or_none", "get", "first_or_404", "get_or_404", "one_or_404"})


def _query_property_row(expr: str) -> str | None:
    """`Model` for `Model.query.<steps>.first()` (arguments dropped or not), else None."""
    bare = expr.removeprefix("$")
    while True:
        dropped = re.sub(r"\([^()]*\)", "()", bare)
        if dropped == bare:
            break
        bare = dropped
    model, found, chain = bare.partition(".query.")
    if not found or not model or "(" in model:
        return None
    steps = chain.split(".")
    if not all(step.endswith("()") for step in steps):
        return None
    names = [step[:-2] for step in steps]
    if names[-1] not in _ROW_ENDS or not all(n in _ROW_STEPS for n in names[:-1]):
        return None
    return model


def _shown(written: str, name: str, how: str) -> str:
    if how == "str":
        return f"formatting `{written}` (`{name}`)"
    if how == "call":
        return f"`{written}.{name}()`"
    return f"`{written}.{name}`"


def _through(via: str, member: str) -> str:
    """` (through Book.describe -> Author.publisher_name)` when the read is deeper than `member`."""
    return "" if via == member else f" (through {via})"


def _iterated_param(function: facts.Function, params: dict[str, facts.Param], name: str) -> facts.Param | None:
    """The parameter whose elements a loop or comprehension variable takes (`for e in batch` with
    `batch: list[EventIn]`), when the function never rebinds it: its annotation types the name
    (a request body's items are no ORM objects)."""
    if name in params:
        return None
    held = function.holds.get(name)
    if held is None or len(held) != 1 or held[0][0] != "iter" or held[0][1][0] != "name":
        return None
    param = params.get(held[0][1][1])
    if param is None or not param.annotation or any(b.name == param.name for b in function.bindings):
        return None
    return param


def _single_owner(risky: list[_Relationship]) -> str | None:
    owners = list(dict.fromkeys(c.owner for c in risky))
    return owners[0] if len(owners) == 1 else None  # None also for a backref (owner unknown)


def _bound_call(function: facts.Function, name: str) -> facts.Call | None:
    """The call a local name holds, when the function binds it once, to a call; None otherwise."""
    held = function.holds.get(name, ())
    if len(held) != 1 or held[0][0] != "call":
        return None
    return next((c for c in function.calls if c.index == held[0][1]), None)


def _chain_root(function: facts.Function, name: str) -> str | None:
    """The name a local is reached from by attribute reads when bound once to such a chain
    (`org = user.org` -> `user`); None otherwise."""
    held = function.holds.get(name, ())
    if len(held) != 1 or held[0][0] != "attr":
        return None
    term = held[0]
    while term[0] == "attr":
        term = term[1]
    return str(term[1]) if term[0] == "name" and term[1] != name else None


def _from_source(risk: LazyLoadRisk, source: Origin) -> LazyLoadRisk:
    return replace(
        risk,
        code=AM245.code,
        dependency=source.dependency,
        offloaded=source.offloaded,
        message=(
            f"{risk.message}; the object comes from {source.where}, whose query phase two cannot add the "
            "option to"
        ),
    )


def _with_route(risk: LazyLoadRisk, route: str) -> LazyLoadRisk:
    return replace(risk, routes=(*risk.routes, route))
