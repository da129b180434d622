"""Model code a route runs on an ORM object, and the relationships that code reads.

Reading a property, calling a model method, formatting an object or returning it under a
response model that names a property runs the model's own code on the object; a relationship
that code reads loads lazily exactly as a read in the route would, and raises MissingGreenlet
under AsyncSession (AM250). `Members.runs` summarises that code for an object of a class.

Over 500 lines: one index of what runs on an object (members, descriptors, setters, validators
and listeners) whose summaries call each other.
"""

from __future__ import annotations

import ast
import builtins
import sys
from dataclasses import dataclass, field
from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.backrefs import project_backrefs
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.flow import REGISTRY, SESSION
from async_migrate.codemods.phase2.eager_flow import Flow, Origin, OriginKind, Path
from async_migrate.codemods.phase2.methods import held_elsewhere
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary import MODEL_BASES, PROPERTY_DECORATORS
from async_migrate.codemods.vocabulary.python import CONTAINER_TYPES, SCALAR_TYPES
from async_migrate.codemods.vocabulary.sqlalchemy import (
    BASE_FACTORIES,
    EAGER_STRATEGIES,
    NON_LOADING_STRATEGIES,
    VALIDATES,
)
from async_migrate.codemods.vocabulary.unmapped import PACKAGES as UNMAPPED_PACKAGES
from async_migrate.codemods.vocabulary.unmapped import PREFIXES as UNMAPPED_PREFIXES

_SAFE = EAGER_STRATEGIES | NON_LOADING_STRATEGIES
_ACCESSORS = (".setter", ".deleter", ".expression", ".comparator", ".update_expression", ".inplace")
_PLAIN = frozenset({"staticmethod", "classmethod"})
_DEPTH = 6  # calls followed from a member for its Session work
_WRITE_EVENTS = frozenset({"set", "append", "remove", "bulk_replace"})
_WRITES = frozenset({"set", "listen", "validate"})  # how a write runs model code (`Members.runs`)
_ANYTHING = frozenset({"object", "builtins.object"})
_TYPING = frozenset({"typing", "typing_extensions", "collections", "types", "abc"})



def _maps_itself(declared: facts.ClassFacts) -> bool:
    """A class body that maps its class (a table, or mapper arguments such as a polymorphic
    identity), not only inherits a mapping."""
    return "__tablename__" in declared.names or "__mapper_args__" in declared.names

@dataclass(frozen=True, slots=True)
class Need:
    path: Path  # relationships from the object's class
    # the last relationship's `lazy=`; "deferred": the last step is a deferred column;
    # "subclass": an attribute only a mapped subclass declares, on an object of a query of its base
    strategy: str
    via: str  # the members on the way, outermost first: "Book.describe -> Author.publisher_name"
    file: str
    line: int


@dataclass(slots=True)
class Summary:
    member: str  # "Book.author_name": the class that defines it
    kind: str  # property, method, __str__, __repr__
    file: str
    line: int
    needs: list[Need] = field(default_factory=list)
    # The relationship reads `needs` leaves out as declared eager (`lazy="joined"`): loaded with a
    # query of their class, so on an object no query loaded (one the code built) they load on first read
    eager: list[Need] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    # Synchronous Session work the member (or code it calls) does on a Session it is not given
    # (a `scoped_session` global, `self.query`): `path:line` (`call`).
    session_work: list[str] = field(default_factory=list)


def members(project: Project, classes: Classes) -> Members:
    """The project's member index, built on first use and kept with the project."""
    found = project.derived.get("model_members")
    if found is None:
        found = project.derived["model_members"] = Members(project, classes)
    return found  # type: ignore[return-value]


class Members:
    def __init__(self, project: Project, classes: Classes) -> None:
        self.project = project
        self.classes = classes
        # every definition of a name in a class body, in source order (a property's setter
        # carries the same name as its getter)
        self.defined: dict[tuple[str, str], list[FunctionId]] = {}
        for fid, (module, function) in project.functions.items():
            owner, _, name = function.qualname.rpartition(".")
            ref = f"{module.name}.{owner}"
            if owner and ref in classes.by_ref:
                self.defined.setdefault((ref, name), []).append(fid)
        methods = {fid for found in self.defined.values() for fid in found}
        self.flow = Flow(project, classes, methods)
        self._summaries: dict[tuple[str, FunctionId, str | None], Summary] = {}
        self._active: set[tuple[str, FunctionId, str | None]] = set()
        self._proxying: set[tuple[str, str]] = set()  # proxies being followed: a cycle guard
        self._write_listeners: dict[str, list[tuple[str, FunctionId]]] | None = None
        # attribute -> (class, where): function-form listeners whose handler the tool cannot read
        self._unread_listeners: dict[str, list[tuple[str, str, int, str]]] = {}
        self._write_hooks: dict[str, tuple[tuple[str, str], ...]] | None = None
        self._setters: dict[tuple[str, str], FunctionId] | None = None  # (class, attribute) -> setter
        self._by_name: dict[str, list[str]] = {}
        self._names: frozenset[str] | None = None  # see `named`

    # ---------------------------------------------------------------- lookups

    def lookup(self, cls: str, name: str) -> FunctionId | None:
        """The method `name` of `cls` through its class order (the getter of a property)."""
        for ancestor in self.classes.mro(cls):
            found = self.defined.get((ancestor, name))
            if found:
                getters = [fid for fid in found if not self._accessor(fid)]
                return getters[0] if getters else found[0]
        return None

    def setter(self, cls: str, name: str) -> FunctionId | None:
        """The setter `@name.setter` (or `@name.inplace.setter` on a method of another name) of a
        property or hybrid `name` of `cls`'s class order: a write of the attribute runs it."""
        table = self._setter_table()
        for ancestor in self.classes.mro(cls):
            found = table.get((ancestor, name))
            if found is not None:
                return found
        return None

    def _setter_table(self) -> dict[tuple[str, str], FunctionId]:
        if self._setters is None:
            self._setters = {}
            for (owner, _), fids in self.defined.items():
                for fid in fids:
                    for decorator in self.project.functions[fid][1].decorators:
                        written = (decorator.text or "").lstrip("@").strip()
                        if written.endswith(".setter"):
                            self._setters.setdefault((owner, written.split(".", 1)[0]), fid)
        return self._setters

    def write_listeners(self) -> dict[str, list[tuple[str, FunctionId]]]:
        """Attribute -> (class, listener) of each `@event.listens_for(Model.attr, "set")` (or
        `"append"`, `"remove"`, `"bulk_replace"` on a collection), or the same registered by a
        module-level `event.listen(Model.attr, "set", handler)`: a write of the attribute, or a
        change of the collection, runs it, its first parameter the object."""
        if self._write_listeners is None:
            from async_migrate.codemods.phase2.stack_extras import LISTEN, absolute

            found: dict[str, list[tuple[str, FunctionId]]] = {}
            for fid, (module, function) in self.project.functions.items():
                for decorator in function.decorators:
                    if not decorator.is_call or self.project.canonical(decorator.callee or "") not in LISTEN:
                        continue
                    try:
                        call = ast.parse(decorator.text.lstrip("@"), mode="eval").body
                    except SyntaxError:
                        continue
                    if type(call) is not ast.Call or len(call.args) < 2:
                        continue
                    target, identifier = dotted(call.args[0]), call.args[1]
                    if target is None or "." not in target or type(identifier) is not ast.Constant \
                            or identifier.value not in _WRITE_EVENTS:
                        continue
                    owner, _, attribute = target.rpartition(".")
                    ref = self.project.canonical(absolute(module, owner))
                    if ref in self.classes.by_ref:
                        found.setdefault(attribute, []).append((ref, fid))
            for module in self.project.modules.values():
                for callee, listened, event_name, handler, line in module.listens:
                    if event_name not in _WRITE_EVENTS or self.project.canonical(callee) not in LISTEN:
                        continue
                    owner, _, attribute = listened.rpartition(".")
                    ref = self.project.canonical(owner)
                    if ref not in self.classes.by_ref:
                        continue
                    # `getattr(Model, name)`: any attribute the class (or a base) binds may be the one
                    attributes = self._bound_names(ref) if attribute == "*" else (attribute,)
                    defined = self.project.function(handler) if handler != "?" else None
                    for attribute in attributes:
                        if defined is not None:
                            fid = (defined[0].name, defined[1].key)
                            if (ref, fid) not in found.get(attribute, ()):
                                found.setdefault(attribute, []).append((ref, fid))
                        else:
                            # a lambda, a callable object, a module not read: what it reads is unknown
                            self._unread_listeners.setdefault(attribute, []).append(
                                (ref, module.path, line, f"the `{event_name}` listener on `{listened}` is not read")
                            )
            self._write_listeners = found
        return self._write_listeners

    def _bound_names(self, cls: str) -> tuple[str, ...]:
        """Every attribute name the class statements of `cls` and its project bases bind, and the
        backrefs other classes give it."""
        names: dict[str, None] = {}
        backrefs = project_backrefs(self.classes)
        for ancestor in self.classes.mro(cls):
            _, declared = self.classes.by_ref[ancestor]
            names.update(dict.fromkeys((*declared.names, *declared.relationships, *backrefs.on(ancestor))))
        return tuple(n for n in names if not n.startswith("__"))

    def listening(self, name: str) -> list[str]:
        """The classes with a write listener on attribute `name`, read or not."""
        found = [owner for owner, _ in self.write_listeners().get(name, ())]
        found += [owner for owner, *_ in self._unread_listeners.get(name, ())]
        return list(dict.fromkeys(found))

    def _listened(self, cls: str, name: str) -> Summary | None:
        """What the write listeners of `name` on `cls`'s class order run on a write of it."""
        mro = self.classes.mro(cls)
        listened = [fid for owner, fid in self.write_listeners().get(name, ()) if owner in mro]
        unread = [(path, line, why) for owner, path, line, why in self._unread_listeners.get(name, ()) if owner in mro]
        if listened:
            module, function = self.project.functions[listened[0]]
            found = Summary(f"{module.name}.{function.qualname}", "listener", module.path, function.line)
        elif unread:
            found = Summary(f"{cls}.{name}", "listener", unread[0][0], unread[0][1])
        else:
            return None
        found.unverified.extend(f"{path}:{line}: {why}" for path, line, why in unread)
        for fid in listened:
            summary = self.summary(cls, fid)
            named = f"{self.project.functions[fid][0].name}.{self.project.functions[fid][1].qualname}"
            # a module function: `summary` names it by an owner class it does not have
            found.needs.extend(
                Need(n.path, n.strategy, n.via.replace(summary.member, named, 1), n.file, n.line) for n in summary.needs
            )
            found.eager.extend(
                Need(n.path, n.strategy, n.via.replace(summary.member, named, 1), n.file, n.line) for n in summary.eager
            )
            found.unverified.extend(n for n in summary.unverified if n not in found.unverified)
            found.session_work.extend(w for w in summary.session_work if w not in found.session_work)
        return found

    def write_hooks(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Attribute -> what a write of it may run on an object of some project class: its
        `@validates` methods (`(method, "validate")`), a property setter (`(attribute, "set")`), its
        write event listeners (`(attribute, "listen")`); under "*", all of them."""
        if self._write_hooks is None:
            table: dict[str, dict[tuple[str, str], None]] = {}
            for _, declared in self.classes.by_ref.values():
                for attribute, methods in declared.validators.items():
                    table.setdefault(attribute, {}).update(dict.fromkeys((m, "validate") for m in methods))
            for _, attribute in self.setters():
                table.setdefault(attribute, {})[(attribute, "set")] = None
            for attribute in [*self.write_listeners(), *self._unread_listeners]:
                table.setdefault(attribute, {})[(attribute, "listen")] = None
            # "*": a write of an attribute named at run time (`setattr(obj, key, value)`) may run any
            table["*"] = {hook: None for hooks in list(table.values()) for hook in hooks}
            self._write_hooks = {a: tuple(m) for a, m in table.items()}
        return self._write_hooks

    def setters(self) -> list[tuple[str, str]]:
        """(class, attribute) of every property or hybrid setter of the project's classes."""
        return list(self._setter_table())

    def _accessor(self, fid: FunctionId) -> bool:
        return any((d.callee or d.text or "").endswith(_ACCESSORS) for d in self.project.functions[fid][1].decorators)

    def is_property(self, fid: FunctionId) -> bool:
        """Reading the attribute runs the method: a property-like decorator, or one the tool does not know."""
        decorators = self.project.functions[fid][1].decorators
        if not decorators:
            return False
        return any(d.callee in PROPERTY_DECORATORS or d.callee not in _PLAIN for d in decorators)

    def computed(self, cls: str) -> list[str]:
        """Members pydantic serialises besides the annotated fields (`@computed_field`)."""
        found: list[str] = []
        for ancestor in self.classes.mro(cls):
            for (owner, name), fids in self.defined.items():
                if owner == ancestor and name not in found and any(
                    d.callee == "pydantic.computed_field" for fid in fids for d in self.project.functions[fid][1].decorators
                ):
                    found.append(name)
        return found

    def deferred(self, cls: str, name: str) -> bool:
        """A deferred column of `cls`: loaded by its first read, which is IO."""
        return any(name in self.classes.by_ref[a][1].deferred for a in self.classes.mro(cls))

    def set_loads(self, cls: str, name: str) -> bool:
        """Whether setting column `name` of `cls` loads the value it replaces (`active_history=True`):
        a plain column's set records the new value and loads nothing, unloaded or not."""
        return any(name in self.classes.by_ref[a][1].history for a in self.classes.mro(cls))

    def subclass_only(self, cls: str, name: str) -> str | None:
        """A mapped subclass of `cls` (joined or single table inheritance) declaring `name`
        when `cls`'s own class order does not: a query of `cls` returns rows of that subclass
        without the subclass's columns, which load on their first read."""
        if self.known(cls, name):
            return None
        if not self.polymorphic(cls):
            return None  # no polymorphic mapping: a query of `cls` returns `cls` only
        for sub in self.classes.subclasses(cls):
            _, declared = self.classes.by_ref[sub]
            mapped = _maps_itself(declared)
            if (mapped and name in declared.names and name not in self.classes.methods.get(sub, {})
                    and name not in declared.descriptors and not self._loaded_with_base(cls, sub)):
                return sub
        return None

    def subclass_relationship(self, cls: str, name: str) -> str | None:
        """A mapped subclass of `cls` declaring relationship `name` that `cls`'s own class order
        does not: on a row of that subclass a query of `cls` returns, it loads as the subclass
        declares, whatever loads the subclass's columns (`"polymorphic_load": "inline"`,
        `selectin_polymorphic(...)`)."""
        if self.known(cls, name):
            return None
        if not self.polymorphic(cls):
            return None
        return next((sub for sub in self.classes.subclasses(cls) if self.flow.relationship(sub, name) is not None), None)

    def polymorphic(self, cls: str) -> bool:
        """Whether a query of `cls` may return rows of its mapped subclasses: its class order maps
        `polymorphic_on`, or sets `__mapper_args__` the tool cannot read. Other mapper arguments
        (`confirm_deleted_rows`, `eager_defaults`) on a declarative base's `cls=` leave every
        model a class of its own, whose columns its own query loads."""
        return any(
            declared.polymorphic_on or declared.opaque_mapper_args
            for declared in (self.classes.by_ref[a][1] for a in self.classes.mro(cls))
        )

    def _loaded_with_base(self, cls: str, sub: str) -> bool:
        """`"polymorphic_load": "inline"` (or `"selectin"`) on `sub` and every mapped class
        between it and `cls`: a query of `cls` loads `sub`'s columns with its rows."""
        mro = self.classes.mro(sub)
        between = mro[: mro.index(cls)] if cls in mro else mro
        mapped = [
            declared for declared in (self.classes.by_ref[a][1] for a in between)
            if _maps_itself(declared)
        ]
        return bool(mapped) and all(d.polymorphic_load in ("inline", "selectin") for d in mapped)

    def known(self, cls: str, name: str) -> bool:
        """A name some project class body of `cls`'s class order binds, a relationship, or a
        column of the Table an imperative mapping maps it to."""
        if self.flow.relationship(cls, name) is not None:
            return True
        return any(
            name in declared.names or name in declared.mapped_columns
            for declared in (self.classes.by_ref[a][1] for a in self.classes.mro(cls))
        )

    def unread(self, cls: str) -> str | None:
        """The `properties=` of an imperative mapping in `cls`'s class order, as written, where
        the tool cannot read it (a call, a name bound otherwise): any other attribute may be a
        relationship there."""
        for ancestor in self.classes.mro(cls):
            written = self.classes.by_ref[ancestor][1].unread_properties
            if written:
                return written
        return None

    def outside(self, cls: str) -> str | None:
        """A base of `cls` outside PATH that may define attributes of its own, or map the class,
        as written. Not one of a library whose classes are never mapped (`vocabulary/unmapped.py`):
        `class Out(pydantic.v1.BaseModel)`, `class Chunk(Document)` of LangChain, `class
        NotFound(Exception)` are no models, and their code reads nothing a Session loads; nor is a
        Session class (`class DBSession(Session)`)."""
        for ancestor in self.classes.mro(cls):
            for base in self.classes.by_ref[ancestor][1].bases:
                if self.classes.resolve(base) is not None or self._plain_base(base) or self.unmapped_base(base):
                    continue
                return base
        return None

    def unmapped_base(self, ref: str) -> bool:
        """A class of the standard library, the builtins or a library `vocabulary/unmapped.py`
        names; not one of project code the analysis did not read."""
        if self.project._unseen(ref) is not None:
            return False
        canonical = self.project.canonical(ref) or ref
        if self.project.library_session(canonical) is not None:
            # `class DBSession(Session)`: a Session class is never mapped, and what its methods
            # read on `self` (`self.get`) is the Session's own API, which loads nothing lazily
            return True
        top, dot, _ = canonical.partition(".")
        if not dot:
            return hasattr(builtins, top) and isinstance(getattr(builtins, top), type)
        if top in sys.stdlib_module_names:
            return True
        return top in UNMAPPED_PACKAGES or top.startswith(UNMAPPED_PREFIXES)

    def never_mapped(self, annotation: tuple[str, ...]) -> bool:
        """An annotation's references, in source order, naming containers and unions around project
        classes that nothing maps (nor may a base outside PATH: `vocabulary/unmapped.py`), classes of
        such libraries, or scalars: `ProjectOut`, `Optional[List[Out]]`. A container after a class
        (`Tuple[Out, list]`: the bare `list` may hold anything) or none of those classes: unknown."""
        leaves = classes_seen = 0
        for ref in annotation:
            canonical = self.project.canonical(ref) or ref
            if canonical in CONTAINER_TYPES:
                if leaves:
                    return False
                continue
            leaves += 1
            if canonical in SCALAR_TYPES:
                continue
            cls = self.classes.resolve(ref)
            if cls is not None:
                if self.mapped(cls) or self.outside(cls) is not None:
                    return False
            elif self.classes.unread(ref) or canonical in _ANYTHING or canonical.partition(".")[0] in _TYPING:
                return False  # `Any`, `object`, `Self`, a TypeVar's bound: anything, a mapped class too
            elif not self.unmapped_base(ref):
                return False
            classes_seen += 1
        return classes_seen > 0

    def _plain_base(self, ref: str) -> bool:
        if self.project.canonical(ref) in MODEL_BASES or ref in MODEL_BASES:
            return True
        target = self.project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        return value is not None and value.kind == "call" and self.project.canonical(value.ref or "") in BASE_FACTORIES

    def defining(self, name: str) -> list[str]:
        """Every mapped project class whose class order defines a method `name`."""
        found = self._by_name.get(name)
        if found is None:
            owners = {owner for owner, member in self.defined if member == name}
            owners |= {ref for ref, (_, declared) in self.classes.by_ref.items() if name in declared.descriptors}
            found = [
                ref for ref in self.classes.by_ref if owners.intersection(self.classes.mro(ref)) and self.mapped(ref)
            ]
            self._by_name[name] = found
        return found

    def named(self, name: str) -> bool:
        """Whether any project class defines a member or a descriptor `name`: where none does,
        reading or calling it runs no project code on any class (`runs` is None), and the many
        column names a response model or a route reads are passed over without asking per class."""
        if self._names is None:
            self._names = frozenset(member for _, member in self.defined) | frozenset(
                name for _, declared in self.classes.by_ref.values() for name in declared.descriptors
            )
        return name in self._names

    def mapped(self, cls: str) -> bool:
        """A class with a table or a relationship in its class order: an ORM model."""
        for ancestor in self.classes.mro(cls):
            declared = self.classes.by_ref[ancestor][1]
            if declared.relationships or not {"__tablename__", "__table__", "__imperative__"}.isdisjoint(declared.names):
                return True
        return False

    # --------------------------------------------------------------- summaries

    def runs(self, cls: str, name: str, how: str) -> Summary | None:
        """What reading (`read`), calling (`call`), writing (`set`: a setter; `listen`: its write
        event listeners; `validate`: the `@validates` method `name`) or formatting (`str`, name `__str__` or `__repr__`) `name` on an object
        of `cls` runs; None when no project code runs.
        A class that cannot be a model (nothing mapped in its class order, every base under
        PATH: a service, a pydantic schema) runs none: its methods are the closure's helpers,
        followed there with their parameters' data flow, not code run on an ORM object.

        What runs: reading `book.author_name` (a `@property`, `functools.cached_property`, the
        python side of a `hybrid_property`, a pydantic `computed_field`), calling
        `book.describe()`, formatting `f"{book}"` (`__str__`, else `__repr__`) or returning `book`
        under a response model with an `author_name` field. The summary holds:

        - `needs`: the relationship paths it reads, from the object (`Book.author`, and
          `Book.author` then `Author.publisher` when it reads `self.author.publisher_name`), found
          by the data flow of `codemods/phase2/eager_flow.py` with the method's `self` standing for
          the object; through properties calling properties and methods, on mixins and bases (the
          class order), with a cycle guard. A member only a mapped subclass defines
          (`Parcel.kilos`) runs on the subclass rows of a query of the base; its summary is taken
          for an object of the base, and a read of an attribute only the subclass declares, there
          or in the base's own code (`self.grams`), is a need of its own (`subclass`): that query
          left the subclass's columns unloaded.
        - `unverified`: what the tool cannot see into: an attribute named at run time
          (`getattr(self, name)`), `self` or a related object handed to another callable, a read
          the flow cannot follow, an attribute found in no project class body of a class with a
          base outside PATH (a mixin from a package may define it).
        - `session_work`: synchronous Session work the member, or project code it calls, does on
          a Session it is not given (a `save()` mixin committing a `scoped_session` global):
          migrated, the route's AsyncSession loaded the object and another Session would commit it.

        Descriptors assigned in a class body (or to the class after it, `Book.author_name = ...`)
        count too: `association_proxy("author", "name")` reads `author`, and `name` on its objects
        when that loads (a relationship, a deferred column) or runs code (another proxy, a
        property); `x = property(...)` runs code the tool does not read (unverified).

        `None` means no project code runs: a column, a relationship (the caller's business), or a
        plain method only read.
        """
        if not self.mapped(cls) and self.outside(cls) is None:
            return None
        if how == "str":
            fid = self.lookup(cls, name) or (self.lookup(cls, "__repr__") if name == "__str__" else None)
        elif how == "set":
            fid = self.setter(cls, name)
            return None if fid is None else self.summary(cls, fid)
        elif how == "listen":
            return self._listened(cls, name)
        elif how == "validate":  # a `@validates` method of `cls` named `name`, run by a write
            fid = self.lookup(cls, name)
            return None if fid is None else self.summary(cls, fid)
        else:
            fid = self.lookup(cls, name)
            if fid is None and how == "read":
                found = self._descriptor(cls, name)
                if found is not None:
                    return found
            if fid is None:
                fid = self._subclass_member(cls, name)
        if fid is None or (how == "read" and not self.is_property(fid)):
            return None
        return self.summary(cls, fid)

    def _subclass_member(self, cls: str, name: str) -> FunctionId | None:
        """The member `name` a mapped subclass of `cls` defines when `cls`'s class order does not
        (`PhysicalProduct.weight_kg`): a query of `cls` returns subclass rows, which run it. Its
        summary is taken for an object of `cls`, so that its reads of the subclass's own columns,
        which such a query leaves unloaded, are needs (`subclass`)."""
        if not self.polymorphic(cls):
            return None
        for sub in self.classes.subclasses(cls):
            declared = self.classes.by_ref[sub][1]
            if _maps_itself(declared):
                found = self.lookup(sub, name)
                if found is not None:
                    return found
        return None

    def _descriptor(self, cls: str, name: str) -> Summary | None:
        """`name = association_proxy("rel", "attr")` reads `rel`, and `attr` on its objects: a
        relationship, a deferred column, or what reading a member there runs (a proxy, a
        property); `name = property(...)` runs code the tool does not read."""
        for ancestor in self.classes.mro(cls):
            module, declared = self.classes.by_ref[ancestor]
            entry = declared.descriptors.get(name)
            if entry is None:
                continue
            found = Summary(f"{declared.qualname}.{name}", "descriptor", module.path, declared.line)
            if entry[0] == "opaque":
                found.unverified.append(
                    f"{module.path}:{declared.line}: `{name}` is built by `{entry[1]}(...)`, whose code the tool does not read"
                )
                return found
            _, target, attribute = entry
            strategy = self.flow.relationship(cls, target)
            if strategy is None:
                found.unverified.append(
                    f"{module.path}:{declared.line}: `{name}` proxies `{target}`, no relationship the tool finds"
                )
                return found
            path: Path = ((cls, target),)
            if strategy not in _SAFE:
                found.needs.append(Need(path, strategy, found.member, module.path, declared.line))
            elif strategy in EAGER_STRATEGIES:
                found.eager.append(Need(path, strategy, found.member, module.path, declared.line))
            related = self.flow.target(cls, target)
            inner = self.flow.relationship(related, attribute) if related is not None else None
            if related is None:
                found.unverified.append(f"{module.path}:{declared.line}: the class `{target}` points to is not resolved")
            elif inner is not None:
                if inner not in _SAFE:
                    found.needs.append(Need((*path, (related, attribute)), inner, found.member, module.path, declared.line))
                elif inner in EAGER_STRATEGIES:
                    found.eager.append(Need((*path, (related, attribute)), inner, found.member, module.path,
                                            declared.line))
            elif self.deferred(related, attribute):
                found.needs.append(Need((*path, (related, attribute)), "deferred", found.member, module.path, declared.line))
            else:
                # The proxied attribute may itself run code on each object: another proxy
                # (`order_lines` -> `product_name` -> `product`), a property reading a relationship.
                key = (cls, name)
                self._proxying.add(key)
                try:
                    nested = None if (related, attribute) in self._proxying else self.runs(related, attribute, "read")
                finally:
                    self._proxying.discard(key)
                if nested is not None:
                    for need in nested.needs:
                        via = f"{found.member} -> {need.via}"
                        found.needs.append(Need((*path, *need.path), need.strategy, via, need.file, need.line))
                    for need in nested.eager:
                        via = f"{found.member} -> {need.via}"
                        found.eager.append(Need((*path, *need.path), need.strategy, via, need.file, need.line))
                    found.unverified.extend(n for n in nested.unverified if n not in found.unverified)
                    found.session_work.extend(w for w in nested.session_work if w not in found.session_work)
            return found
        return None

    def summary(self, cls: str, fid: FunctionId, receiver: str | None = None) -> Summary:
        """What `fid` reads on an object of `cls`: its first parameter, or `receiver` (a pydantic
        field validator's value parameter, given the related object)."""
        key = (cls, fid, receiver)
        known = self._summaries.get(key)
        if known is not None:
            return known
        module, function = self.project.functions[fid]
        owner = self.classes.owner(fid)
        # a module function handed the object (`_handed_summary`) has no class to name it by
        member = f"{self.classes.short(owner)}.{function.name}" if owner is not None else f"{module.name}.{function.qualname}"
        kind = "method"
        if function.name in ("__str__", "__repr__"):
            kind = function.name
        elif any(self.project.canonical(d.callee or "") in VALIDATES for d in function.decorators):
            kind = "validator"
        elif self.is_property(fid):
            kind = "property"
        found = Summary(member, kind, module.path, function.line)
        if key in self._active:
            return found  # a cycle reads nothing the outer visit does not
        receiver = receiver or instance_receiver(function)
        if receiver is None:
            return found
        found.session_work = self._session_work(fid)
        self._active.add(key)
        before = self.flow.bound.get(fid)
        self.flow.bound[fid] = (receiver, [Origin(OriginKind.LOAD, fid, -1, cls, ())])
        try:
            for line, name, attribute in function.attributes:
                self._use(found, fid, line, name, ("name", name), attribute, "read")
            for line, written, term, attribute in function.chains:
                self._use(found, fid, line, written, term, attribute, "read")
            for line, written, term, name, how in function.uses:
                self._use(found, fid, line, written, term, name, how)
            # a write it makes runs what watches the attribute (a validator writing another
            # validated attribute, a listener writing `target.status`)
            hooks = self.write_hooks()
            for line, receiver, attribute in function.stores:
                for member, how in hooks.get(attribute, ()):
                    self._use(found, fid, line, receiver, ("name", receiver), member, how)
        finally:
            self._active.discard(key)
            if before is None:
                del self.flow.bound[fid]
            else:
                self.flow.bound[fid] = before
        self._summaries[key] = found
        return found

    def returned(self, cls: str, name: str) -> list[Origin] | None:
        """What member `name` (a property, a hybrid's python side) hands back on an object of
        `cls`, as objects reached from that object along relationships (`return self.book`: the
        path `Shelf.book`); None where any return is something else (an object it loads or builds,
        a value the flow cannot follow), so no loader option on the object's query can reach it."""
        fid = self.lookup(cls, name)
        if fid is None:
            return None
        function = self.project.functions[fid][1]
        receiver = instance_receiver(function)
        if receiver is None or not function.returned_terms or any(not w for w, _ in function.returned_terms):
            return None
        before = self.flow.bound.get(fid)
        self.flow.bound[fid] = (receiver, [Origin(OriginKind.LOAD, fid, -1, cls, ())])
        try:
            found: list[Origin] = []
            for written, term in function.returned_terms:
                if written == "None":
                    continue  # `return None`: nothing the nested schema reads
                origins = self.flow.resolve(fid, term)
                if not origins or any(
                    o.kind is not OriginKind.LOAD or o.fid != fid or o.load != -1 or o.model is None for o in origins
                ):
                    return None
                found.extend(origins)
            return list(dict.fromkeys(found))
        finally:
            if before is None:
                del self.flow.bound[fid]
            else:
                self.flow.bound[fid] = before

    def _session_work(self, fid: FunctionId) -> list[str]:
        """Session work the member and the project code it calls do on a Session phase two does
        not replace (a `save()` mixin on the `scoped_session` global): the route's AsyncSession
        loaded the object, and that work runs synchronously on another Session, on the loop."""
        found: list[str] = []
        seen = {fid}
        frontier = [fid]
        for _ in range(_DEPTH):
            following = []
            for current in frontier:
                path = self.project.functions[current][0].path
                found.extend(
                    f"{path}:{line} (`{self._named_origin(current, what)}`)"
                    for line, what in held_elsewhere(self.project, current)
                )
                for edge in self.project.all_calls_from.get(current, ()):
                    if edge.callee not in seen:
                        seen.add(edge.callee)
                        following.append(edge.callee)
            frontier = following
        return list(dict.fromkeys(found))

    def _named_origin(self, fid: FunctionId, work: str) -> str:
        """`work` (`session.scalar()`) with what its receiver was bound to in front, when that is
        how the function reached the Session (`session = sqlalchemy.inspect().session -> ...`): the
        reason says whose Session it is."""
        receiver = work.partition(".")[0]
        if not receiver.isidentifier():
            return work
        origins = {v.origin for v in self.project.flow.evaluate(fid, f"${receiver}") if v.origin}
        if len(origins) != 1 or not on_object_session(next(iter(origins))):
            return work
        return f"{receiver} = {origins.pop()} -> {work}"

    def _use(self, found: Summary, fid: FunctionId, line: int, written: str, term: tuple, name: str, how: str) -> None:
        where = f"{found.file}:{line or found.line}"
        origins = self.flow.resolve(fid, term)
        if origins is None:
            relationships = cast("dict[str, object]", self.project.derived.get("lazy_load_relationships", {}))
            if how in ("read", "getattr") and name in relationships:
                found.unverified.append(f"{where}: `{written}.{name}` reads an object the tool cannot follow")
            return
        for origin in origins:
            if origin.kind is OriginKind.UNVERIFIED:
                found.unverified.append(f"{where}: `{written}` is an object of {origin.where}")
                continue
            if origin.kind is not OriginKind.LOAD or origin.fid != fid or origin.load != -1:
                continue  # not the object: what the method loads or is given itself
            if origin.model is None:
                found.unverified.append(
                    f"{where}: `{written}` is reached through a relationship whose target class the tool cannot resolve"
                )
                continue
            self._member_use(found, origin, where, line, written, name, how)

    def _member_use(
        self, found: Summary, origin: Origin, where: str, line: int, written: str, name: str, how: str
    ) -> None:
        assert origin.model is not None
        if how == "pass":
            if self._to_session(origin.fid, name):
                return
            handed = self._handed_summary(origin, line, written)
            if handed is None:
                found.unverified.append(
                    f"{where}: `{written}` is handed to `{name}(...)`, whose reads the tool does not follow"
                )
                return
            for need in handed.needs:
                found.needs.append(Need((*origin.path, *need.path), need.strategy, f"{found.member} -> {need.via}",
                                        need.file, need.line))
            for need in handed.eager:
                found.eager.append(Need((*origin.path, *need.path), need.strategy, f"{found.member} -> {need.via}",
                                        need.file, need.line))
            found.unverified.extend(n for n in handed.unverified if n not in found.unverified)
            return
        if how == "getattr" and not name:
            found.unverified.append(f"{where}: `getattr({written}, ...)` reads an attribute named at run time")
            return
        if how in ("read", "getattr") and self.deferred(origin.model, name):
            path = (*origin.path, (origin.model, name))
            found.needs.append(Need(path, "deferred", found.member, found.file, line or found.line))
            return
        subclass = self.subclass_only(origin.model, name) if how in ("read", "getattr") else None
        if subclass is not None:
            path = (*origin.path, (subclass, name))
            found.needs.append(Need(path, "subclass", found.member, found.file, line or found.line))
            return
        if how in ("read", "getattr"):
            strategy = self.flow.relationship(origin.model, name)
            if strategy is not None:
                if strategy not in _SAFE:
                    path = (*origin.path, (origin.model, name))
                    found.needs.append(Need(path, strategy, found.member, found.file, line or found.line))
                elif strategy in EAGER_STRATEGIES:
                    path = (*origin.path, (origin.model, name))
                    found.eager.append(Need(path, strategy, found.member, found.file, line or found.line))
                return
        inner = self.runs(origin.model, name, "read" if how == "getattr" else how)
        if inner is None and how in _WRITES:
            return  # no setter, no listener on this class: a plain write
        if inner is not None:
            for need in inner.needs:
                via = f"{found.member} -> {need.via}"
                found.needs.append(Need((*origin.path, *need.path), need.strategy, via, need.file, need.line))
            for need in inner.eager:
                via = f"{found.member} -> {need.via}"
                found.eager.append(Need((*origin.path, *need.path), need.strategy, via, need.file, need.line))
            found.unverified.extend(n for n in inner.unverified if n not in found.unverified)
            return
        if how in ("read", "getattr") and self.known(origin.model, name):
            return
        outside = self.outside(origin.model)
        if outside is not None and (how != "str" or self.lookup(origin.model, name) is None):
            found.unverified.append(
                f"{where}: `{written}.{name}` may be defined by `{outside}`, a base of "
                f"{self.classes.short(origin.model)} outside PATH"
            )
        unread = self.unread(origin.model)
        if unread is not None and how in ("read", "getattr"):
            found.unverified.append(
                f"{where}: `{written}.{name}` may be a relationship or deferred column the mapping of "
                f"{self.classes.short(origin.model)} declares in `properties={unread}`, which the tool does not read"
            )


    def _handed_summary(self, origin: Origin, line: int, written: str) -> Summary | None:
        """What a project function the object is handed to as a bare name reads on it (`save`
        handing `self` to `persist_obj(db, self)`): its summary with that parameter standing for
        the object. None when the call, its callee or the parameter is not known."""
        assert origin.model is not None
        function = self.project.functions[origin.fid][1]
        found: Summary | None = None
        for call in function.calls:
            passed = [a for a in call.args if a.name == written] if call.line == line else []
            target = self.project.function(call.callee) if passed and call.callee else None
            if target is None or len(passed) != 1:
                continue
            if found is not None:
                return None  # two calls on the line hand it on: which the use is, is not known
            module, callee = target
            params = [p for p in callee.params if not p.variadic]
            if self.classes.owner((module.name, callee.key)) is not None and not any(
                d.callee == "staticmethod" for d in callee.decorators
            ):
                params = params[1:]  # `self` or `cls` takes no argument of the call
            arg = passed[0]
            param = next((p.name for p in params if p.name == arg.keyword), None) if arg.keyword else (
                params[arg.position].name if arg.position is not None and arg.position < len(params) else None
            )
            if param is None or self._hands_on(module.name, callee, param):
                return None
            found = self.summary(origin.model, (module.name, callee.key), param)
        return found

    def _hands_on(self, module: str, function: facts.Function, param: str) -> bool:
        """Whether `function` hands its parameter `param` on to a call other than a Session
        method's or a builtin's that reads nothing (`audit(obj)` doing `pprint.pformat(obj)`): the
        facts record such a hand-off as a use only on a method's `self`, so a summary with another
        parameter standing for the object would miss it."""
        fid = (module, function.key)
        for call in function.calls:
            if not any(a.name == param or (a.expr or "").startswith(f"${param}.") for a in call.args):
                continue
            written = (call.func or call.callee or "").removeprefix("$")
            if call.callee in _READS_NOTHING or self._to_session(fid, written):
                continue
            return True
        return False

    def _to_session(self, fid: FunctionId, callee: str) -> bool:
        """`callee` is a Session method (`db_session.add`, `session.delete`) called on what the flow
        knows as a Session or a `scoped_session` registry: SQLAlchemy's own, whose cascades read
        nothing lazily on an AsyncSession (the awaited ones run where loads may), and whose Session
        work is judged as such."""
        receiver, _, method = callee.rpartition(".")
        if not receiver or method not in _OBJECT_METHODS:
            return False
        module = self.project.functions[fid][0]
        head, dot, rest = receiver.partition(".")
        imported = module.imports.get(head)
        values = self.project.flow.evaluate(fid, f"${receiver}")
        values |= self.project.flow.evaluate(fid, f"{imported}{dot}{rest}" if imported else f"{module.name}.{receiver}")
        return any(v.kind in (SESSION, REGISTRY) for v in values)


# Builtins handed an object that read none of its attributes (`isinstance(obj, Book)`).
_READS_NOTHING = frozenset({"isinstance", "issubclass", "type", "id", "hasattr", "callable", "len"})

# Session methods taking an ORM object.
_OBJECT_METHODS = frozenset({
    "add", "add_all", "delete", "merge", "refresh", "expunge", "expire", "is_modified", "enable_relationship_loading",
})


def on_object_session(work: str) -> bool:
    """Whether Session work text `work` runs on the Session the object belongs to (`object_session(x)`,
    `Session.object_session(x)`, `inspect(x).session`, `instance_state(x).session`)."""
    return "object_session(" in work or (("inspect(" in work or "instance_state(" in work) and ").session" in work)


def instance_receiver(function: facts.Function) -> str | None:
    """The parameter an instance method is handed its object in (`self`); None for a static or
    class method, or a function without parameters."""
    if not function.params or any(d.callee in _PLAIN for d in function.decorators):
        return None
    return function.params[0].name
