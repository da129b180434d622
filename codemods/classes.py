"""The project's classes by canonical reference: bases, methods, what methods assign.

Over 500 lines: one index whose views (the class order, attributes, mapped fields) read
each other; it splits together with the project index it is built beside.

One index for every analysis that asks about classes: the value flow (methods
through the class order, attributes, implementations of abstract classes and
Protocols) and phase two's lazy-load analysis (mapped classes' fields, bases).
Built once per project (`project_classes`) from the facts of every module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.python import PROTOCOL_TYPES
from async_migrate.codemods.vocabulary.sqlalchemy import BASE_FACTORIES, DECLARATIVE_BASES, MAPPER_REGISTRIES
from async_migrate.codemods.vocabulary.sqlmodel import BUILDERS as SQLMODEL_BUILDERS
from async_migrate.codemods.vocabulary.sqlmodel import MODEL_BASES as SQLMODEL_BASES

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project


_ABSTRACT_BASES = frozenset({"abc.ABC"})


# `Type[X]`, `type[X]`: the annotation of a parameter that receives a class.
_TYPE_OF = frozenset({"type", "typing.Type", "typing_extensions.Type", "builtins.type"})


def project_classes(project: Project) -> Classes:
    """The project's class index, built on first use and kept with the project."""
    found = project.derived.get("classes")
    if found is None:
        found = project.derived["classes"] = Classes(project)
    return found  # type: ignore[return-value]


class Classes:
    """The project's classes by canonical reference: bases, methods, attributes' assignments."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.by_ref: dict[str, tuple[facts.Module, facts.ClassFacts]] = {}
        for module in project.modules.values():
            for found in module.classes:
                self.by_ref[f"{module.name}.{found.qualname}"] = (module, found)
        self._add_imperative_mappings()
        self.methods: dict[str, dict[str, FunctionId]] = {}
        self.assigned: dict[tuple[str, str], list[tuple[FunctionId, str]]] = {}
        # `self.session: Session | None = None` in a method: (class, attribute) -> the annotations' references
        self.declared: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        self._stored: dict[str, list[tuple[FunctionId, int, str, str, str]]] | None = None
        for fid, (module, function) in project.functions.items():
            owner, _, name = function.qualname.rpartition(".")
            ref = f"{module.name}.{owner}"
            if not owner or ref not in self.by_ref:
                continue
            self.methods.setdefault(ref, {})[name] = fid  # the last definition wins, as at run time
            for attribute, expression in function.assigns:
                self.assigned.setdefault((ref, attribute), []).append((fid, expression))
            for attribute, refs in function.declared_assigns:
                self.declared.setdefault((ref, attribute), []).append(refs)
        self._resolved: dict[str, str | None] = {}
        self._mro: dict[str, tuple[str, ...]] = {}
        self._subclasses: dict[str, list[str]] | None = None
        self._abstract: dict[str, bool] = {}
        self._by_name: dict[str, list[str]] | None = None
        self._packages: frozenset[str] | None = None  # the top-level names of the modules read
        self._factory_bases: frozenset[str] | None = None  # classes handed to a base factory as `cls=`
        self._set_outside: dict[tuple[str, str], str] | None = None
        self._set_on_values: dict[str, list[tuple[facts.Module, str, str, int]]] | None = None
        self._computed_sets: list[tuple[facts.Module, str, int]] | None = None
        self._named_outside: dict[tuple[str, str], list[str]] | None = None
        self._built_names: dict[str, frozenset[str]] = {}
        self._protocols: list[str] | None = None
        self._implementations: dict[str, tuple[str, ...]] = {}
        self._method_names: dict[str, frozenset[str]] = {}
        # `eager_flow.Flow.relationship`'s answers: they read nothing but this index, and each
        # asks every class for backrefs, once per attribute read of every analysed closure.
        self.relationship_strategies: dict[tuple[str, str], str | None] = {}

    def _add_imperative_mappings(self) -> None:
        """Relationships another module maps onto a plain class (`map_imperatively`) become the
        class's own, as if declared in its body: a copy, so the cached facts stay the module's."""
        for module in self.project.modules.values():
            for ref, mapping in module.mapped.items():
                entry = self.by_ref.get(ref) or self.by_ref.get(self.project.canonical(ref) or ref)
                if entry is None:
                    continue
                owner, declared = entry
                merged = replace(
                    declared,
                    relationships={**declared.relationships, **mapping.relationships},
                    targets={**declared.targets, **mapping.targets},
                    primary_keys=declared.primary_keys or mapping.primary,
                    deferred=(*declared.deferred, *mapping.deferred),
                    history=(*declared.history, *mapping.history),
                    mapped_columns=mapping.columns,
                    unread_properties=mapping.unread,
                    # mapped to a Table, as `__table__ = ...` says; its key is the Table's, read above
                    names=(*declared.names, "__table__" if not mapping.primary else "__imperative__"),
                )
                owner.classes[owner.classes.index(declared)] = merged
                self.by_ref[f"{owner.name}.{declared.qualname}"] = (owner, merged)

    def built(self, ref: str, name: str) -> str | None:
        """The callee of the call class `ref`'s body assigns to `name` (`session = scoped_session(...)`),
        or a module sets afterwards on the class or on a base the project does not define as a
        class (`Base = declarative_base()`, then `Base.query = ScopedSession.query_property()`)."""
        module, declared = self.by_ref[ref]
        found = declared.built.get(name)
        if found is not None:
            return found
        outside = self._outside()
        found = outside.get((ref, name))
        for base in declared.bases:
            if found is None and self.resolve(base) is None:
                found = outside.get((self.project.canonical(base) or base, name))
                mixin = self._factory_class(base) if found is None else None
                if mixin is not None and mixin != ref:
                    found = self.built(mixin, name)
        return found

    def _factory_class(self, base: str) -> str | None:
        """The project class a declarative base factory was handed as `cls=` (`Base =
        declarative_base(cls=Model)` or `mapper_registry.generate_base(cls=Model)`, where `Model`
        declares `query = Session.query_property()` or methods such as `get_by`): every class
        deriving from the base it makes derives from that class too."""
        target = self.project.resolve(base)
        value = target.value if target is not None and target.kind == "value" else None
        if value is None or value.kind != "call" or value.ref is None:
            return None
        if self.project.canonical(value.ref) not in BASE_FACTORIES and not self._generates_base(value.ref):
            return None
        given = next((a for a in value.args if a.keyword == "cls"), None)
        return self.resolve(given.ref) if given is not None and given.ref is not None else None

    def _generates_base(self, ref: str) -> bool:
        """`mapper_registry.generate_base`, `mapper_registry` a module-level `registry()`."""
        holder, _, name = ref.rpartition(".")
        target = self.project.resolve(holder) if name == "generate_base" else None
        value = target.value if target is not None and target.kind == "value" else None
        return value is not None and value.kind == "call" and self.project.canonical(value.ref) in MAPPER_REGISTRIES

    def built_names(self, suffix: str) -> frozenset[str]:
        """Class attributes, in any class, assigned a call of something named `suffix`
        (`query` for `query = ScopedSession.query_property()`): a cheap first test."""
        found = self._built_names.get(suffix)
        if found is None:
            names = {n for _, c in self.by_ref.values() for n, callee in c.built.items() if callee.endswith(suffix)}
            names |= {attribute for (_, attribute), callee in self._outside().items() if callee.endswith(suffix)}
            found = self._built_names[suffix] = frozenset(names)
        return found

    def _outside(self) -> dict[tuple[str, str], str]:
        """Module-level `X.attr = f(...)` where X names a project class: (class, attr) -> f."""
        if self._set_outside is None:
            self._set_outside = {}
            for module in self.project.modules.values():
                for owner, attribute, callee, _ in module.set_attributes:
                    held = self.resolve(owner) or self.project.canonical(owner) or owner
                    self._set_outside[(held, attribute)] = callee
        return self._set_outside

    def named_outside(self, cls: str, attribute: str) -> list[str]:
        """Module-level `X.attr = name` where X names the project class `cls` (`ActiveRecord.session =
        db_session` at start-up): the references assigned, in module order."""
        if self._named_outside is None:
            self._named_outside = {}
            for module in self.project.modules.values():
                for owner, form, refs, _ in module.class_handoffs:
                    if form.startswith("="):
                        held = self.resolve(owner) or self.project.canonical(owner) or owner
                        self._named_outside.setdefault((held, form[1:]), []).extend(refs)
        return self._named_outside.get((cls, attribute), [])

    def set_on_values(self, attribute: str) -> list[tuple[facts.Module, str, str, int]]:
        """Module-level `x.attr = f(...)` (or `setattr(x, "attr", f(...))`) on a name that is no
        project class (a module-level instance): (module, x resolved, f resolved, line)."""
        if self._set_on_values is None:
            self._set_on_values = {}
            for module in self.project.modules.values():
                for owner, name, callee, line in module.set_attributes:
                    if self.resolve(owner) is None:
                        self._set_on_values.setdefault(name, []).append((module, owner, callee, line))
        return self._set_on_values.get(attribute, [])

    def computed_sets(self) -> list[tuple[facts.Module, str, int]]:
        """Module-level `setattr(x, name, value)` with a name computed at run time: (module, x
        resolved, line), in project order."""
        if self._computed_sets is None:
            self._computed_sets = [
                (module, owner, line) for module in self.project.modules.values() for owner, line in module.computed_sets
            ]
        return self._computed_sets

    def stored(self, attribute: str) -> list[tuple[FunctionId, int, str, str, str]]:
        """Stores of `attribute` on an object from outside its class's methods (`repo.session = db`,
        `setattr(repo, "session", db)`), and those of a name computed at run time (`attribute` ""):
        (the function, line, receiver or UNSPELLED, value, the receiver's root), in project order."""
        if self._stored is None:
            self._stored = {}
            for fid, (_, function) in self.project.functions.items():
                for line, receiver, name, value, root in function.attribute_stores:
                    self._stored.setdefault(name, []).append((fid, line, receiver, value, root))
        return self._stored.get(attribute, [])

    def owner(self, fid: FunctionId) -> str | None:
        """The class a method is defined in, or None for a plain function."""
        module, function = self.project.functions[fid]
        owner = function.qualname.rpartition(".")[0]
        ref = f"{module.name}.{owner}"
        return ref if owner and ref in self.by_ref else None

    def resolve(self, ref: str | None, depth: int = 0) -> str | None:
        """The canonical reference of the project class a reference names, or None."""
        if ref is None or depth > 25:
            return None
        if ref in self._resolved:
            return self._resolved[ref]
        self._resolved[ref] = None  # cycle guard
        found = self._resolve(ref, depth)
        self._resolved[ref] = found
        return found

    def _resolve(self, ref: str, depth: int) -> str | None:
        if ref in self.by_ref:
            return ref
        parts = ref.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.project.modules.get(".".join(parts[:cut]))
            if module is None:
                continue
            rest = parts[cut:]
            if f"{module.name}.{'.'.join(rest)}" in self.by_ref:
                return f"{module.name}.{'.'.join(rest)}"
            head = rest[0]
            if head in module.imports:
                return self.resolve(".".join([module.imports[head], *rest[1:]]), depth + 1)
            value = module.values.get(head)
            # an alias (`BookModel = Book`) or an `Annotated[Book, ...]` alias: the class it names
            if value is not None and value.kind in ("name", "annotated") and value.ref and len(rest) == 1:
                return self.resolve(value.ref, depth + 1)
            for star in filter(None, module.imports.get("*", "").split(",")):
                if star not in self.project.modules and self.project.inside_project(star):
                    # not read, or no Python source (aim's compiled `encoding`): matched on a
                    # shorter prefix it would grow the reference a segment per star import
                    continue
                found = self.resolve(".".join([star, *rest]), depth + 1)
                if found is not None:
                    return found
            return None
        return None

    def class_valued(self, fid: FunctionId) -> frozenset[str]:
        """`self.model` in a method when every assignment of `model` in its class order stores
        a parameter annotated `Type[X]` / `type[X]` (`CRUDBase.__init__(self, model:
        Type[ModelType])`): a class, so `query(self.model)` selects entities."""
        owner = self.owner(fid)
        function = self.project.functions[fid][1]
        params = function.params
        if owner is None or not params:
            return frozenset()
        found: set[str] = set()
        if facts.is_classmethod(function.decorators) and self.declarative(owner):
            # called on any mapped subclass, `cls` is that class: `select(cls)` is the same for each
            found.add(params[0].name)
        for ancestor in self.mro(owner):
            for (ref, attribute), stores in self.assigned.items():
                if ref == ancestor and stores and all(self._class_parameter(*store) for store in stores):
                    found.add(f"{params[0].name}.{attribute}")
        return frozenset(found)

    def declarative(self, ref: str) -> bool:
        """A mapped class, or a class every project subclass of which is one or abstract: a
        `DeclarativeBase` subclass, a class deriving from `declarative_base()`'s result, or the
        class handed to it as `cls=` (`Base = declarative_base(cls=OrmBase)`)."""
        if self._factory_bases is None:
            self._factory_bases = frozenset(
                found for _, declared in self.by_ref.values() for base in declared.bases
                if self.resolve(base) is None and (found := self._factory_class(base)) is not None
            )
        for ancestor in self.mro(ref):
            if ancestor in self._factory_bases or self._maps_a_table(ancestor):
                return True
            for base in self.by_ref[ancestor][1].bases:
                if self.project.canonical(base) in DECLARATIVE_BASES or self._made_by_factory(base):
                    return True
        return False

    def _made_by_factory(self, base: str) -> bool:
        """`Base` in `class Model(Base)` for `Base = declarative_base()`."""
        if self.resolve(base) is not None:
            return False
        target = self.project.resolve(base)
        value = target.value if target is not None and target.kind == "value" else None
        if value is None or value.kind != "call" or value.ref is None:
            return False
        return self.project.canonical(value.ref) in BASE_FACTORIES or self._generates_base(value.ref)

    def _class_parameter(self, fid: FunctionId, expression: str) -> bool:
        name = expression.removeprefix("$")
        if name == expression:
            return False
        for param in self.project.functions[fid][1].params:
            if param.name == name:
                return bool(param.annotation) and param.annotation[0] in _TYPE_OF
        return False

    def mapped(self, ref: str | None) -> str | None:
        """A relationship's target as the mapper registry finds it: a project class by
        reference, else the one class of that name (`relationship("Comment")`)."""
        found = self.resolve(ref)
        if found is not None or ref is None:
            return found
        if self._by_name is None:
            self._by_name = {}
            for candidate, (_, declared) in self.by_ref.items():
                self._by_name.setdefault(declared.name, []).append(candidate)
        named = self._by_name.get(ref.rsplit(".", 1)[-1], [])
        if len(named) > 1:  # `schemas.User` beside `models.User`: the registry holds mapped classes only
            named = [c for c in named if any(self._maps_a_table(a) for a in self.mro(c))]
        return named[0] if len(named) == 1 else None

    def unread(self, ref: str | None) -> bool:
        """Whether `ref` names a class of a project module the tool did not read (a missing file,
        one outside PATH, one that does not parse: `core.model_aliases.ItemModel` where the
        project has `core` but no `core.model_aliases`): unknown, perhaps a model, no library's."""
        if ref is None or self.resolve(ref) is not None:
            return False
        module, _, name = ref.rpartition(".")
        modules = self.project.modules
        if self._packages is None:
            self._packages = frozenset(known.split(".", 1)[0] for known in modules)
        return bool(name and module) and module not in modules and module.split(".", 1)[0] in self._packages

    def is_mapped(self, ref: str) -> bool:
        """A project class that is (or inherits) a mapped class."""
        return any(self._maps_a_table(a) for a in self.mro(ref))

    def _maps_a_table(self, ref: str) -> bool:
        declared = self.by_ref[ref][1]
        return bool(declared.relationships) or not {"__tablename__", "__table__", "__imperative__"}.isdisjoint(declared.names)

    def primary_key(self, ref: str | None) -> str | None:
        """The one attribute a mapped class declares (or inherits) with `primary_key=True`;
        None when there are several, none, or the class maps an explicit `__table__` or
        `__mapper_args__` that may name another key (any but a dict display without
        "primary_key": `polymorphic_on`, `version_id_col` and the like leave the key alone)."""
        found = self.resolve(ref)
        if found is None or not self.is_mapped(found):
            return None
        keys: list[str] = []
        for ancestor in self.mro(found):
            declared = self.by_ref[ancestor][1]
            if "__table__" in declared.names or declared.opaque_mapper_args:
                return None
            keys.extend(k for k in declared.primary_keys if k not in keys)
        return keys[0] if len(keys) == 1 else None

    def fields(self, ref: str) -> list[tuple[str, tuple[str, ...]]]:
        """Annotated fields with their annotation refs, inherited ones first (pydantic order)."""
        merged: dict[str, tuple[str, ...]] = {}
        for ancestor in reversed(self.mro(ref)):
            _, found = self.by_ref[ancestor]
            for name in found.fields:
                merged[name] = found.annotations.get(name, ())
        return list(merged.items())

    def short(self, ref: str | None) -> str:
        """A class as a reason names it: its qualified name in its module."""
        if ref is None:
            return "?"
        found = self.by_ref.get(ref)
        return found[1].qualname if found is not None else ref.rsplit(".", 1)[-1]

    def mro(self, ref: str) -> tuple[str, ...]:
        """The class, then its project bases depth-first left to right, each once."""
        if ref in self._mro:
            return self._mro[ref]
        self._mro[ref] = (ref,)  # cycle guard
        order = [ref]
        for base in self.by_ref[ref][1].bases:
            # `Base = declarative_base(cls=OrmBase)`: the base it makes derives from OrmBase
            resolved = self.resolve(base) or self._factory_class(base)
            if resolved is None:
                continue
            order.extend(c for c in self.mro(resolved) if c not in order)
        self._mro[ref] = tuple(order)
        return self._mro[ref]

    def is_protocol(self, ref: str) -> bool:
        return any(self.project.canonical(base) in PROTOCOL_TYPES for base in self.by_ref[ref][1].bases)

    def protocols(self) -> list[str]:
        """The `typing.Protocol` classes, sorted: phase two asks once per subsystem."""
        if self._protocols is None:
            self._protocols = [ref for ref in sorted(self.by_ref) if self.is_protocol(ref)]
        return self._protocols

    def is_abstract(self, ref: str) -> bool:
        """A Protocol, an `abc.ABC` subclass or a class with an `@abstractmethod`: a value
        declared with it is an instance of one of its implementations."""
        found = self._abstract.get(ref)
        if found is None:
            found = self.is_protocol(ref) or any(self._declares_abstract(cls) for cls in self.mro(ref))
            self._abstract[ref] = found
        return found

    def _declares_abstract(self, ref: str) -> bool:
        if any(self.project.canonical(base) in _ABSTRACT_BASES for base in self.by_ref[ref][1].bases):
            return True
        return any(
            (decorator.callee or "").endswith("abstractmethod")
            for fid in self.methods.get(ref, {}).values()
            for decorator in self.project.functions[fid][1].decorators
        )

    def built_by(self, callee: str | None) -> str | None:
        """The project class a call of `callee` makes a new instance of: `Hero(...)`, or a
        SQLModel builder on it, `Hero.model_validate(hero_in, update=...)` (`SQLMODEL_BUILDERS`),
        unless the project overrides that method (then it may return anything)."""
        constructed = self.resolve(callee)
        if constructed is not None or callee is None:
            return constructed
        owner, _, method = callee.rpartition(".")
        model = self.resolve(owner) if method in SQLMODEL_BUILDERS else None
        if model is None or any(method in self.methods.get(a, {}) for a in self.mro(model)):
            return None
        sqlmodel = any(
            self.project.canonical(base) in SQLMODEL_BASES for a in self.mro(model) for base in self.by_ref[a][1].bases
        )
        return model if sqlmodel else None

    def subclasses(self, ref: str) -> list[str]:
        """Project classes that have `ref` among their bases, transitively."""
        if self._subclasses is None:
            table: dict[str, list[str]] = {}
            for candidate in self.by_ref:
                for ancestor in self.mro(candidate)[1:]:
                    table.setdefault(ancestor, []).append(candidate)
            self._subclasses = table
        return self._subclasses.get(ref, [])

    def implementations(self, ref: str) -> list[str]:
        """Concrete project classes an abstract class or Protocol stands for."""
        known = self._implementations.get(ref)
        if known is not None:
            return list(known)
        found = list(self.subclasses(ref))
        if self.is_protocol(ref):
            declared = {n: fid for n, fid in self.methods.get(ref, {}).items() if not n.startswith("__")}
            for candidate in self.by_ref:
                if (
                    candidate != ref and candidate not in found and declared
                    and set(declared) <= self._all_methods(candidate) and self._conforms(ref, candidate, declared)
                ):
                    found.append(candidate)
        # A Protocol's implementations are every class read for its methods: asked once per
        # attribute lookup on a value of that type, they are worked out once.
        self._implementations[ref] = tuple(found)
        return found

    def _conforms(self, protocol: str, candidate: str, declared: dict[str, FunctionId]) -> bool:
        """Whether `candidate`, which has the Protocol's method names, can stand for it: no
        Protocol itself, and no coroutine function where the Protocol declares a plain method
        (phase two's async copy of a repository, `async def get`, has the names of the synchronous
        Protocol it was copied from, and a call typed with that Protocol never runs it). A plain
        method where the Protocol declares a coroutine function still counts (code the analysis
        does not see may hand the synchronous repository to a Protocol made async in place),
        unless another Protocol declaring those methods as the class defines them is the one it
        implements: the synchronous Protocol beside its async copy."""
        if self.is_protocol(candidate):
            return False
        lagging = False
        for name, fid in declared.items():
            own = self._defined(candidate, name)
            if own is None:
                continue
            if self.project.functions[own][1].is_async and not self.project.functions[fid][1].is_async:
                return False
            lagging = lagging or not self.project.functions[own][1].is_async and self.project.functions[fid][1].is_async
        if not lagging:
            return True
        for other in self.protocols():
            if other == protocol:
                continue
            methods = {n: f for n, f in self.methods.get(other, {}).items() if not n.startswith("__")}
            if set(declared) <= set(methods) and all(
                (own := self._defined(candidate, n)) is not None
                and self.project.functions[own][1].is_async == self.project.functions[f][1].is_async
                for n, f in methods.items()
            ):
                return False
        return True

    def _defined(self, ref: str, name: str) -> FunctionId | None:
        return next((m for cls in self.mro(ref) if (m := self.methods.get(cls, {}).get(name)) is not None), None)

    def _all_methods(self, ref: str) -> frozenset[str]:
        names = self._method_names.get(ref)
        if names is None:
            names = self._method_names[ref] = frozenset(
                name for cls in self.mro(ref) for name in self.methods.get(cls, {})
            )
        return names

    def write_hooks(self, ref: str, name: str) -> list[tuple[FunctionId, str]]:
        """What writing attribute `name` on an instance of `ref` runs, with how it is said: the
        property setter (`@name.setter`) the class order defines for it, else a `__setattr__` a
        project class of that order defines; none for a plain write."""
        for cls in self.mro(ref):
            methods = self.methods.get(cls, {})
            fid = methods.get(name)
            if fid is not None:
                decorators = self.project.functions[fid][1].decorators
                if any((d.text or "").lstrip("@").strip() == f"{name}.setter" for d in decorators):
                    return [(fid, f"the setter {self.short(cls)}.{name}")]
            fid = methods.get("__setattr__")
            if fid is not None:
                return [(fid, f"{self.short(cls)}.__setattr__")]
        return []

    def method(self, ref: str, name: str) -> tuple[list[FunctionId], bool]:
        """The functions `ref().name` may run, and whether the lookup is certain.

        A concrete method found on the class's order is the answer. An abstract one
        (or none, on an abstract class or Protocol) stands for its project
        implementations: all of them, and uncertain when there are several.
        """
        abstract = False
        found: list[FunctionId] = []
        for cls in self.mro(ref):
            fid = self.methods.get(cls, {}).get(name)
            if fid is None:
                continue
            if not self.project.functions[fid][1].abstract:
                if not self.is_abstract(ref):
                    return [fid], True
                found.append(fid)  # a declared abstract type: implementations may override it
            abstract = True
            break
        if not abstract and not self.is_abstract(ref):
            return [], True
        for cls in self.implementations(ref):
            for candidate in self.mro(cls):
                fid = self.methods.get(candidate, {}).get(name)
                if fid is not None:
                    if not self.project.functions[fid][1].abstract and fid not in found:
                        found.append(fid)
                    break
        return found, len(found) == 1
