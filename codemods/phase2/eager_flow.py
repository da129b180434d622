"""Where an ORM object a route reads or returns comes from: a query phase two can amend, or not.

The terms of `codemods/astcollect/objects.py` are followed through local names, the results of
project functions and the arguments of their callers, to *origins* (`OriginKind`). Where the flow
cannot be followed, `Flow.resolve` says so and the caller falls back to the name-based analysis
of `codemods/phase2/lazy_loads.py`.

Over 500 lines: one resolver over the terms of `codemods/astcollect/objects.py`, whose cases
(names, calls, parameters, dependencies, displays) read one another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.objects import Term
from async_migrate.codemods.backrefs import project_backrefs, relationship_target
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.phase2.validations import validation
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary import OFFLOADERS
from async_migrate.codemods.vocabulary.sqlalchemy import EAGER_STRATEGIES, TABLE_TYPES

Path = tuple[tuple[str, str], ...]  # ((class ref, relationship), ...) from the loaded entity

_MAX_DEPTH = 24
# Annotation names that only wrap the classes they name (`list[Warehouse]`, `Warehouse | None`).
_CONTAINERS = frozenset({
    "list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "Sequence", "Iterable", "Iterator",
    "Collection", "Optional", "Union", "None",
})


# Bases of a schema class whose instances hold what they are given (`Out(a=x)`).
# A generic schema (`class Page(BaseModel, Generic[T])`) holds what it is given as well.
_SCHEMA_BASES = frozenset({
    "pydantic.BaseModel", "pydantic.main.BaseModel", "sqlmodel.SQLModel", "sqlmodel.main.SQLModel", "typing.Generic",
    "typing_extensions.Generic",
})
# Return annotations that carry no ORM object.
_PLAIN = frozenset({"dict", "Dict", "str", "int", "float", "bool", "bytes", "Mapping"})


def query_of(function: facts.Function, number: int) -> facts.Load:
    """A load origin's (or eager fix's) query: `function.loads[number]`, and past those, a query
    on a Session the instance holds (`facts.Function.held_loads`, in the order of their calls)."""
    if number < len(function.loads):
        return function.loads[number]
    return function.held_loads[sorted(function.held_loads)[number - len(function.loads)]]


def conflicting(options: tuple[tuple[str, str, bool], ...]) -> set[tuple[str, str]]:
    """The relationships (entity, attribute; `facts.Load.options`) that one query's options both
    load and leave lazy (`lazyload(User.items), selectinload(User.items)`): SQLAlchemy refuses such
    a query when it runs ("Loader strategy replacement ... is in conflict with existing strategy",
    InvalidRequestError, whatever their order). Wildcards (`"*"`) are no such conflict: the last
    wildcard wins, and a path named outright wins over every wildcard."""
    seen: dict[tuple[str, str], set[bool]] = {}
    for owner, attribute, loads in options:
        if attribute != "*":
            seen.setdefault((owner, attribute), set()).add(loads)
    return {key for key, kinds in seen.items() if len(kinds) > 1}


# Class methods building an instance of a pydantic model from keywords, without validating them.
_CONSTRUCTS = frozenset({"model_construct", "construct"})


class OriginKind(Enum):
    """Where an object comes from.

    - `load`: a query of a function (`facts.Function.loads`) that runs on the Session, with the
      relationship path from its entity to the object (`for r in book.reviews` is
      `Book.reviews` from the query of `book`) and the class the object is at the end of it;
    - `source`: something the tool cannot change: a dependency's return value (unless the
      dependency's async twin moves with the route, `followed`: then its queries), a parameter
      of a function no analysed code calls, and (for phase one, `offloaded_sources`) what a call
      run in the threadpool returns;
    - `unverified`: a query of a model whose class is not under PATH: its relationships
      are unknown;
    - `dict`: a dict display (a response built field by field).
    """

    LOAD = "load"  # loaded by a query of the function (`load`), as `model` when resolved
    SOURCE = "source"  # the result of a dependency (`dependency`): its reads are judged by name
    UNVERIFIED = "unverified"  # loaded, but of a class the tool cannot see (`where` says which)
    DICT = "dict"  # a dict literal whose values are traced (`term`)


@dataclass(frozen=True, slots=True)
class Origin:
    kind: OriginKind
    fid: FunctionId
    load: int = -1  # load: the index in `facts.Function.loads`
    model: str | None = None  # load: the class of the object (None: a relationship's target unknown)
    path: Path = ()
    where: str = ""  # source and unverified: what the object comes from, for reasons
    term: tuple = ()  # dict: the dict term
    dependency: FunctionId | None = None  # source: the dependency function it comes from
    offloaded: bool = False  # source: returned by a call run in the threadpool (`dependency` is its function)
    built: str | None = None  # dict: the schema class a call built from those keywords (`Out(a=x)`)
    held: int = -1  # source: the key of the query in `facts.Function.held_loads` it comes from
    fix: str = ""  # unverified: the fix a reason gives when the rule's own does not apply


class _Asked:
    """A membership question a shared result depends on (whether `fid` is in the closure, or
    among the followed dependencies), and what follows from each answer: the next question, or
    the result (`_Known`)."""

    __slots__ = ("fid", "followed", "answers")

    def __init__(self, fid: FunctionId, followed: bool) -> None:
        self.fid = fid
        self.followed = followed
        self.answers: dict[bool, _Asked | _Known] = {}


class _Known:
    __slots__ = ("result",)

    def __init__(self, result: tuple[Origin, ...] | None) -> None:
        self.result = result


class Resolved:
    """What flows over different closures of one project resolved from an empty stack: per
    (function, term, picks), a tree of the membership questions the resolution asked, in the
    order it asked them (the next depends on the answers before it), leading to the result.
    A closure finds its result in as many steps as questions were asked, however many closures
    resolved the term before it."""

    def __init__(self) -> None:
        self.results: dict[tuple[FunctionId, tuple, tuple], _Asked | _Known] = {}

    def find(self, key: tuple[FunctionId, tuple, tuple], members: set[FunctionId], followed: frozenset[FunctionId]) -> _Known | None:
        node = self.results.get(key)
        while type(node) is _Asked:
            node = node.answers.get(node.fid in (followed if node.followed else members))
        return node  # type: ignore[return-value]

    def keep(
        self, key: tuple[FunctionId, tuple, tuple], asked: Iterable[tuple[FunctionId, bool, bool]],
        result: tuple[Origin, ...] | None,
    ) -> None:
        holder: dict = self.results
        slot: object = key
        for fid, answer, followed in asked:
            node = holder.get(slot)
            if node is None:
                node = holder[slot] = _Asked(fid, followed)
            elif type(node) is not _Asked or node.fid != fid or node.followed is not followed:
                return  # asked otherwise than before: not kept, which costs only its reuse
            holder, slot = node.answers, answer
        holder.setdefault(slot, _Known(result))


class Flow:
    """Resolves terms of the functions in `members` (the analysed closure)."""

    def __init__(
        self,
        project: Project,
        classes: Classes,
        members: set[FunctionId],
        shared: Resolved | None = None,
        offloaded_sources: bool = False,
        followed: frozenset[FunctionId] = frozenset(),
        held_queries: bool = False,
    ) -> None:
        self.project = project
        self.classes = classes
        self.members = members
        # Phase two's plan: a method of the closure moves with the route, and the queries it runs
        # on a Session its instance holds take loader options as a helper's own do (`_held_load`).
        self.held_queries = held_queries
        # Dependencies whose async twins move with the analysed route: their queries are
        # rewritten too, so what they return is followed to those queries, not a source.
        self.followed = followed
        # Phase one's view: what `await run_in_threadpool(crud.get, db, 1)` returns was loaded on
        # a synchronous Session in a worker thread, and its lazy reads happen back on the loop.
        self.offloaded_sources = offloaded_sources
        self._active: set[tuple[FunctionId, tuple, tuple]] = set()
        # A method read as a member of an object (`codemods/phase2/model_members.py`): its
        # instance parameter stands for that object.
        self.bound: dict[FunctionId, tuple[str, list[Origin]]] = {}
        # Results of the flows over other closures of the same project (`Resolved`); None: none kept.
        self._shared = shared
        # While a shared result is being made: the membership answers it depends on, in order
        # (in the closure, or, with `followed`, among the followed dependencies).
        self._asked: list[tuple[FunctionId, bool, bool]] | None = None

    def name(self, fid: FunctionId, name: str) -> list[Origin] | None:
        return self.resolve(fid, ("name", name))

    def results(self, fid: FunctionId) -> list[Origin] | None:
        _, function = self.project.functions[fid]
        if not function.results:
            return None
        return self._union(fid, function.results, ())

    def target(self, owner: str, attribute: str) -> str | None:
        """The class a relationship of `owner` points to: its `Mapped[...]` annotation, else the
        class its first argument names; a backref points back to the class declaring it."""
        backrefs = project_backrefs(self.classes)
        for ancestor in self.classes.mro(owner):
            _, declared = self.classes.by_ref[ancestor]
            if attribute in declared.relationships:
                return relationship_target(self.classes, declared, attribute)
            backref = backrefs.on(ancestor).get(attribute)
            if backref is not None:
                return backref.declared_in
        return None

    def relationship(self, owner: str, attribute: str) -> str | None:
        """The strategy of `owner.attribute` when it is a relationship (declared or a backref)."""
        known = self.classes.relationship_strategies
        key = (owner, attribute)
        if key not in known:
            known[key] = self._relationship(owner, attribute)
        return known[key]

    def step(self, origin: Origin, attribute: str) -> str | None:
        """The strategy `origin.model.attribute` loads with at the end of `origin.path`: as
        declared, but "select" for a declared selectin/joined/subquery strategy whose target
        class is already on the path (its root class or a class a step reached, or a subclass of
        the target). Those loaders stop there unless a loader option names that path
        (SQLAlchemy's cycle check; `join_depth` is not read, which only errs towards an option):
        `lazy="selectin"` on both `Item.owner` and its reverse `User.items` loads `item.owner`
        but not `item.owner.items`, which then loads lazily, and a self-referential
        `Category.children` not even its first level; `item.owner.org` is loaded. "immediate"
        loads each object's relationship by a query of its own, so at every level."""
        assert origin.model is not None
        strategy = self.relationship(origin.model, attribute)
        if strategy not in EAGER_STRATEGIES or strategy == "immediate":
            return strategy
        target = self.target(origin.model, attribute)
        if target is None:
            return strategy
        on_path = [owner for owner, _ in origin.path] + [origin.model]
        if any(target in self.classes.mro(mapper) for mapper in on_path):
            return "select"
        return strategy

    def _relationship(self, owner: str, attribute: str) -> str | None:
        return project_backrefs(self.classes).relationship(owner, attribute)

    def annotated(self, fid: FunctionId, terms) -> frozenset[str] | None:
        """The mapped classes the objects of `terms` can be, by the return annotations of the
        project functions that produce them (`return repo.with_stock()`, `with_stock` annotated
        `-> list[Warehouse]`), through local names; None when any of them is not so annotated.
        Only narrows the name-based judgement where the flow itself cannot be followed."""
        _, function = self.project.functions[fid]
        found: set[str] = set()
        for term in terms:
            if term[0] == "none":
                continue
            if term[0] == "any":
                more = self.annotated(fid, term[1])
            elif term[0] == "name" and term[1] in function.holds and (fid, term, ()) not in self._active:
                self._active.add((fid, term, ()))
                try:
                    more = self.annotated(fid, function.holds[term[1]])
                finally:
                    self._active.discard((fid, term, ()))
            elif term[0] == "call":
                callees = [e.callee for e in self.project.all_calls_from.get(fid, ()) if e.call.index == term[1]]
                more = self._returns(callees) if callees else None
            else:
                more = None
            if more is None:
                return None
            found |= more
        return frozenset(found)

    def _returns(self, callees: list[FunctionId]) -> frozenset[str] | None:
        found: set[str] = set()
        for callee in callees:
            refs = self.project.functions[callee][1].returns
            classes = [self.classes.resolve(ref) for ref in refs]
            if not refs or any(
                (c is None and ref.rsplit(".", 1)[-1] not in _CONTAINERS) or (c is not None and not self.classes.is_mapped(c))
                for ref, c in zip(refs, classes, strict=True)
            ):
                return None  # unannotated, a generic `T`, a schema or a dict: anything
            found.update(c for c in classes if c is not None)
        return frozenset(found) or None

    def _plain_return(self, fid: FunctionId) -> bool:
        """Whether the function is annotated to return plain data (`-> dict`, `-> BookOut`, a list
        of them): no mapped class, nothing generic or unannotated."""
        refs = self.project.functions[fid][1].returns
        plain = False
        for ref in refs:
            tail = ref.rsplit(".", 1)[-1]
            found = self.classes.resolve(ref)
            if found is not None:
                if self.classes.is_mapped(found):
                    return False
                plain = True
            elif tail in _PLAIN:
                plain = True
            elif tail not in _CONTAINERS:
                return False
        return plain

    # ---------------------------------------------------------------- terms

    def resolve(self, fid: FunctionId, term: tuple, picks: tuple = ()) -> list[Origin] | None:
        """The origins of `term` in `fid`; None when the flow cannot be followed (an unknown call,
        an expression it does not model): the caller then falls back to the name-based analysis
        of `codemods/phase2/lazy_loads.py`, which over-reports rather than misses."""
        key = (fid, term, picks)
        if not self._active and self._shared is not None and not self.bound:
            return self._resolve_shared(key)
        if key in self._active or len(self._active) > _MAX_DEPTH:
            return []  # a cycle adds nothing the other paths do not
        self._active.add(key)
        try:
            return self._resolve(fid, term, picks)
        finally:
            self._active.discard(key)

    def _resolve_shared(self, key: tuple[FunctionId, tuple, tuple]) -> list[Origin] | None:
        """`resolve` from an empty stack, reusing a result another closure's flow made when every
        membership question it asked has the same answer here. From an empty stack nothing else
        varies: the cycle and depth cuts follow from the key and those answers alone."""
        assert self._shared is not None
        known = self._shared.find(key, self.members, self.followed)
        if known is not None:
            return None if known.result is None else list(known.result)
        questions: list[tuple[FunctionId, bool, bool]] = []
        self._asked = questions
        self._active.add(key)
        try:
            result = self._resolve(*key)
        finally:
            self._active.discard(key)
            self._asked = None
        self._shared.keep(key, dict.fromkeys(questions), None if result is None else tuple(result))
        return result

    def _member(self, fid: FunctionId) -> bool:
        """Whether `fid` is in the analysed closure (recorded while a shared result is made)."""
        answer = fid in self.members
        if self._asked is not None:
            self._asked.append((fid, answer, False))
        return answer

    def _followed(self, fid: FunctionId) -> bool:
        """Whether `fid` is a followed dependency (recorded as `_member` is)."""
        answer = fid in self.followed
        if self._asked is not None:
            self._asked.append((fid, answer, True))
        return answer

    def _union(self, fid: FunctionId, terms, picks: tuple) -> list[Origin] | None:
        found: list[Origin] = []
        for term in terms:
            origins = self.resolve(fid, term, picks)
            if origins is None:
                return None
            found.extend(o for o in origins if o not in found)
        return found

    def _resolve(self, fid: FunctionId, term: tuple, picks: tuple) -> list[Origin] | None:
        kind = term[0]
        _, function = self.project.functions[fid]
        if kind in ("attr", "iter", "item", "key"):
            pick = (kind, *term[2:])
            return self.resolve(fid, term[1], (pick, *picks))
        if kind == "name":
            bound = self.bound.get(fid)
            if bound is not None and bound[0] == term[1] and term[1] not in function.holds:
                objects: list[Origin] = []
                for origin in bound[1]:
                    picked = self._pick(origin, picks)
                    if picked is None:
                        return None
                    objects.extend(o for o in picked if o not in objects)
                return objects
            held = function.holds.get(term[1])
            if held is not None:
                return self._union(fid, held, picks)
            return self._parameter(fid, function, term[1], picks)
        if kind == "call":
            edges = [e for e in self.project.all_calls_from.get(fid, ()) if e.call.index == term[1]]
            if self.offloaded_sources and edges and all(e.call.offloaded for e in edges):
                if all(self._plain_return(e.callee) for e in edges):
                    return []  # a dict or a schema crosses back: no ORM object to load into
                module, ran = self.project.functions[edges[0].callee]
                where = f"the call of {module.name}.{ran.qualname} run in the threadpool (line {edges[0].call.line})"
                return [Origin(OriginKind.SOURCE, fid, where=where, dependency=edges[0].callee, offloaded=True)]
            callees = [e.callee for e in edges]
            if not callees and self.offloaded_sources:
                line = self._offloading_line(function, term[1])
                if line is not None:
                    # `run_in_threadpool(db.get, Book, i)`, `to_thread(lambda: db.scalars(...).all())`:
                    # Session work of the function's own, run in a worker thread; what it returns
                    # is that Session's object all the same, read back here on the loop.
                    where = f"the Session call run in the threadpool (line {line})"
                    return [Origin(OriginKind.SOURCE, fid, where=where, dependency=fid, offloaded=True)]
            if not callees:
                queried = self._held_load(fid, function, term[1], picks)
                return queried if queried is not None else self._constructed(fid, function, term[1], picks)
            found: list[Origin] = []
            for callee in callees:
                if not self._member(callee):
                    return None
                picked = self._results_picked(callee, picks)
                if picked is None:
                    return None
                found.extend(o for o in picked if o not in found)
            return found
        if kind == "load":
            return self._load(fid, function, term[1], picks)
        if kind == Term.PAGE:
            # `paginate(db, select(Book))`: serialised as `Page[BookOut]`, the page validates its
            # `items` (the query's objects) as the type argument; its other fields are numbers
            if picks[:1] == ((Term.ATTR, "items"),):
                return self.resolve(fid, term[1], picks[1:])
            return None if picks else self.resolve(fid, term[1], ())
        if kind == "tuple":
            if picks and picks[0][0] == "item":
                items = term[1]
                return self.resolve(fid, items[picks[0][1]], picks[1:]) if picks[0][1] < len(items) else None
            if picks and picks[0][0] == "iter":
                return self._union(fid, term[1], picks[1:])
            return None if picks else self._union(fid, term[1], ())
        if kind == "dict":
            if not picks:
                return [Origin(OriginKind.DICT, fid, term=term)]
            if picks[0][0] != "key":
                return None
            for key, value in term[1]:
                if key == picks[0][1]:
                    return self.resolve(fid, value, picks[1:])
            return None if term[2] else []
        if kind == "any":
            return self._union(fid, term[1], picks)
        if kind == "none":
            return []
        return None

    def _held_load(self, fid: FunctionId, function: facts.Function, index: int, picks: tuple) -> list[Origin] | None:
        """Phase two's view of the objects of a `select()` a method runs on a Session its instance
        holds (`self.session.scalars(select(Order).options(selectinload(Order.lines))).first()`):
        the query moves with its class as written, so the loader options written in that query
        credit the reads on them (a source, judged by names: `LazyLoads._untraced`), and a read
        none credits names that query. A `get()` or `merge()` (`self.session.get(Item, pk)`) is such
        a source too, whose options credit nothing: an object the Session holds already is handed
        back whatever they say. With `held_queries`, where the method moves with the route (in the
        closure) and its options are not in conflict, the query is a load like a helper's own
        (`query_of`), which takes the eager-load option the route's reads need. Not phase one's
        view. None when it is no such load."""
        if self.offloaded_sources:
            return None
        load = function.held_loads.get(index)
        model = self.classes.resolve(load.model or "") if load is not None else None
        if load is None or load.form not in ("select", "get", "merge", "query") or model is None:
            return None
        if self.held_queries and load.form != "merge" and not conflicting(load.options or ()) and self._member(fid):
            # the method moves with the route: its query takes an option like a helper's own
            if load.receiver and self.classes.subclasses(model):
                return None
            number = len(function.loads) + sorted(function.held_loads).index(index)
            return self._pick(Origin(OriginKind.LOAD, fid, number, model), picks)
        module, _ = self.project.functions[fid]
        where = f"the query on `{load.session}` in {function.qualname} ({module.path}:{load.line})"
        return self._pick(Origin(OriginKind.SOURCE, fid, where=where, dependency=fid, held=index), picks)

    def _offloading_line(self, function: facts.Function, index: int) -> int | None:
        """The line of the call at `index` when it runs its function in a worker thread
        (`run_in_threadpool`, `to_thread`, `run_in_executor`), else None."""
        for call in function.calls:
            if call.index != index:
                continue
            if call.offloaded or call.method == "run_in_executor" or (
                call.callee is not None and self.project.canonical(call.callee) in OFFLOADERS
            ):
                return call.line
        return None

    def _constructed(self, fid: FunctionId, function: facts.Function, index: int, picks: tuple) -> list[Origin] | None:
        """`StockReport(owner_email=email, items=n)`: an instance of a project schema (no mapped
        class, no code of its own, only pydantic or SQLModel bases outside the project) built
        from keyword arguments holds what it was given: a response model reads those values,
        as from a dict display. `built` names the class: its fields were validated on
        construction. None for anything else (a function, a mapped class, a class with methods
        or validators that may read what it is given)."""
        keywords = function.keywords.get(index)
        call = next((c for c in function.calls if c.index == index), None)
        built = self.classes.resolve(call.callee) if keywords is not None and call is not None and call.callee else None
        if built is None and keywords is not None and call is not None and call.callee:
            # `AuthorOut.model_construct(id=a.id, books=n)`: an instance holding what it was
            # given, unvalidated
            owner, _, method = call.callee.rpartition(".")
            built = self.classes.resolve(owner) if method in _CONSTRUCTS else None
        if keywords is None or built is None or self.classes.is_mapped(built) or not self._schema(built):
            return None
        if picks:
            if picks[0][0] != "attr":
                return None
            for key, value in keywords[1]:
                if key == picks[0][1]:
                    return self.resolve(fid, value, picks[1:])
            return None if keywords[2] else []  # not given: a default, no ORM object
        return [Origin(OriginKind.DICT, fid, term=keywords, built=built)]

    def copies(self, fid: FunctionId, term: tuple) -> bool:
        """Whether `term` is `Out.model_validate(obj)` of a project schema (no mapped class): an
        instance holding copies of what it read where it ran, no ORM object; a list of them
        (`[Out.model_validate(b) for b in books]`, `TypeAdapter(list[Out]).validate_python(rows)`),
        or one of them (`a if c else b`). Its own code may still read, while FastAPI serialises it,
        ORM objects a field typed `Any` holds: the analysis of the validation in the route
        (`lazy_loads._validated`) judges that code on the objects validated."""
        if term[0] in ("tuple", "any"):
            return bool(term[1]) and all(self.copies(fid, t) for t in term[1])
        if term[0] != "call":
            return False
        _, function = self.project.functions[fid]
        call = next((c for c in function.calls if c.index == term[1]), None)
        validated = validation(self.project, self.classes, call) if call is not None else None
        return validated is not None and validated.whole and all(
            not self.classes.is_mapped(model) and self._schema(model, code=True) for model in validated.models
        )

    def validates(self, ref: str) -> bool:
        """A pydantic or SQLModel class of the project that is not mapped: building one validates
        what it is given into its fields."""
        return not self.classes.is_mapped(ref) and self._schema(ref, code=True)

    def _schema(self, ref: str, code: bool = False) -> bool:
        """A pydantic or SQLModel class of the project, with no methods of its own unless `code`."""
        outside: set[str] = set()
        for ancestor in self.classes.mro(ref):
            _, declared = self.classes.by_ref[ancestor]
            if (self.classes.methods.get(ancestor) and not code) or declared.descriptors:
                return False
            outside.update(self.project.canonical(b) or b for b in declared.bases if self.classes.resolve(b) is None)
        return bool(outside) and outside <= _SCHEMA_BASES

    def _load(self, fid: FunctionId, function: facts.Function, number: int, picks: tuple) -> list[Origin] | None:
        load = function.loads[number]
        if load.session not in self.project.session_names(fid):
            return None  # not a query on the Session phase two rewrites
        model = self.classes.resolve(load.model)
        if model is None and load.model and (self._column(load.model) or self._table(load.model)):
            # `query(Item.title)`, `query(users_table)`: rows of column values, no ORM object to load into
            return []
        if model is None:
            where = load.model or load.entity
            factory = self._factory_parameter(fid, where)
            if factory is not None:
                return [Origin(
                    OriginKind.UNVERIFIED, fid, number,
                    where=f"`{load.entity}`, a parameter of the factory `{factory}`, whose argument the tool cannot "
                    "resolve", fix=f"add the eager-load options the models given to `{factory}` need to its query and "
                    "migrate the route by hand",
                )]
            return [Origin(OriginKind.UNVERIFIED, fid, number, where=f"`{load.entity}` ({where}), not defined under PATH")]
        if load.receiver and self.classes.subclasses(model):
            # `select(cls)` loads whichever class the method is called on, and a subclass may
            # have relationships of its own: untraced, its reads are judged by their names.
            return None
        return self._pick(Origin(OriginKind.LOAD, fid, number, model), picks)

    def _factory_parameter(self, fid: FunctionId, name: str) -> str | None:
        """The qualname of the function enclosing `fid` (a router factory) when `name` is one of its
        parameters, not bound again in `fid` itself: the class a query loads is what each call hands
        the factory."""
        module, function = self.project.functions[fid]
        owner, nested, _ = function.qualname.rpartition(".<locals>.")
        if not nested or "." in name or any(p.name == name for p in function.params):
            return None
        if any(b.name == name for b in function.bindings):
            return None
        factory = next((f for f in module.functions if f.qualname == owner), None)
        return owner if factory is not None and any(p.name == name for p in factory.params) else None

    def _table(self, ref: str) -> bool:
        """Whether `ref` names a module-level `Table(...)` of the project (skypilot's `user_table =
        sqlalchemy.Table("users", Base.metadata, ...)`)."""
        target = self.project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        return value is not None and value.kind == "call" and self.project.canonical(value.ref) in TABLE_TYPES

    def _column(self, ref: str) -> bool:
        """Whether `ref` names an attribute of a mapped class that is not a relationship (a column,
        `app.models.Item.title`)."""
        owner, _, attribute = ref.rpartition(".")
        mapped = self.classes.resolve(owner) if owner else None
        return mapped is not None and self.classes.is_mapped(mapped) and self.relationship(mapped, attribute) is None

    def _pick(self, origin: Origin, picks: tuple) -> list[Origin] | None:
        """The origin of `picks` applied to an object of `origin`."""
        for pick in picks:
            if origin.kind is OriginKind.DICT:
                return self.resolve(origin.fid, origin.term, picks)
            if origin.kind is not OriginKind.LOAD:
                return [origin]
            if pick[0] in ("iter", "item"):
                continue  # an element of a loaded collection is an object of the same class
            if pick[0] != "attr" or origin.model is None:
                return None
            attribute = pick[1]
            if self.relationship(origin.model, attribute) is None:
                return []  # a column or a method: not an ORM object to load into
            path = (*origin.path, (origin.model, attribute))
            origin = Origin(OriginKind.LOAD, origin.fid, origin.load, self.target(origin.model, attribute), path)
        return [origin]

    def _parameter(
        self, fid: FunctionId, function: facts.Function, name: str, picks: tuple
    ) -> list[Origin] | None:
        params = [p for p in function.params if not p.variadic]
        param = next((p for p in params if p.name == name), None)
        if param is None:
            return None
        dependency = self._dependency(param)
        if dependency is not None:
            text, dependency_fid = dependency
            if dependency_fid is not None and self._followed(dependency_fid):
                followed = self._results_picked(dependency_fid, picks)
                if followed is not None:
                    return followed
            where = f"the dependency {text} (parameter `{name}`)"
            return [Origin(OriginKind.SOURCE, fid, where=where, dependency=dependency_fid)]
        callers = [e for e in self.project.all_calls_to.get(fid, ()) if self._member(e.caller)]
        if not callers:
            return None
        position = params.index(param)
        if "." in function.qualname:
            # A method called on an instance: the receiver takes `self`, positions start after it
            # (the convention of the call graph). Called through its class, or for `self`
            # itself, the flow does not follow.
            if name in ("self", "cls") or any(
                (e.call.callee or "").endswith("." + function.qualname) for e in callers
            ):
                return None
            positional = [p for p in params if p.positional and p.name not in ("self", "cls")]
            position = positional.index(param) if param in positional else -1
        found: list[Origin] = []
        for edge in callers:
            passed = next(
                (a for a in edge.call.args if a.keyword == name or (a.keyword is None and a.position == position)),
                None,
            )
            if passed is None or passed.name is None:
                return None
            origins = self.resolve(edge.caller, ("name", passed.name), picks)
            if origins is None:
                return None
            found.extend(o for o in origins if o not in found)
        return found

    def _results_picked(self, fid: FunctionId, picks: tuple) -> list[Origin] | None:
        """What a function (a callee, a followed dependency) returns or yields, `picks` applied;
        None where the flow cannot follow it."""
        origins = self.results(fid)
        if origins is None:
            return None
        found: list[Origin] = []
        for origin in origins:
            picked = self._pick(origin, picks)
            if picked is None:
                return None
            found.extend(o for o in picked if o not in found)
        return found

    def _dependency(self, param: facts.Param) -> tuple[str, FunctionId | None] | None:
        refs = [param.depends] if param.depends else []
        for ref in param.annotation:
            target = self.project.resolve(ref)
            if target is not None and target.kind == "value" and target.value is not None and target.value.depends:
                refs.append(target.value.depends)
        for ref in refs:
            # a function, or a method of a module-level instance (`Depends(auth.get_current_user)`)
            found = self.project.function(ref) or self.project.endpoint(ref)
            if found is not None:
                return f"{found[0].name}.{found[1].qualname}", (found[0].name, found[1].key)
            provider = dependency_provider(self.project, self.classes, ref)
            if provider is not None:
                module, function = self.project.functions[provider]
                return f"{module.name}.{function.qualname}", provider
            return ref, None
        return None


def dependency_provider(project: Project, classes: Classes, ref: str) -> FunctionId | None:
    """The method FastAPI runs for a dependency that is no function: `__call__` of a
    module-level instance (`require_admin = Permission("admin")`), `__init__` of a class
    (`Depends(FirstItems)`, `q: FirstItems = Depends()`), whose instance is the value. One
    method, or None when the class order leaves it open. An instance built in the `Depends(...)`
    itself (`Depends(Permission("admin"))`) is a module-level one's kind."""
    cls, name = classes.resolve(ref), "__init__"
    if cls is None and ref.endswith("()"):
        # `Depends(Paginator(max_limit=5))`: an instance built in place, its `__call__` the dependency
        cls, name = classes.resolve(ref.removesuffix("()")), "__call__"
    if cls is None:
        target = project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is None or value.kind != "call":
            return None
        cls, name = classes.resolve(value.ref), "__call__"
    if cls is None:
        return None
    methods, certain = classes.method(cls, name)
    return methods[0] if certain and len(methods) == 1 else None


def option(
    path: Path, local: dict[str, str], loader: str = "selectinload", deferred: bool = False, undefer: str = "undefer",
    given: int = 0, default: str = "defaultload",
) -> str:
    """`selectinload(Book.reviews).selectinload(Review.user)`: `local` names each class, `loader`
    the option function (the first call; the chained ones are methods). `deferred`: the last
    step is a deferred column, `.undefer(Review.text)` (`undefer` names the function when it is
    the only step). `given`: the first steps the query's own options load already, reached with
    `defaultload(...)` so their strategy stays theirs (a second strategy for one relationship is
    an error: `joinedload(User.items)` beside `selectinload(User.items)`); `default` names it."""
    parts = [
        f"{'defaultload' if step < given else 'selectinload'}({local[owner]}.{attribute})"
        for step, (owner, attribute) in enumerate(path)
    ]
    if deferred and parts:
        owner, column = path[-1]
        parts[-1] = f"undefer({local[owner]}.{column})"
        if len(parts) == 1:
            return f"{undefer}({local[owner]}.{column})"
    if parts:
        first = "defaultload" if given else "selectinload"
        parts[0] = (default if given else loader) + parts[0][len(first):]
    return ".".join(parts)


def describe(classes: Classes, path: Path) -> str:
    return ".".join([classes.short(path[0][0]), *(attribute for _, attribute in path)]) if path else "?"
