"""Where each backref lands: the class the relationship carrying it points to.

`customer = relationship("Customer", backref="orders")` in Order's body makes `orders` a
relationship of Customer, which Customer's own body never names. The pre-pass records the name
on Order (`facts.ClassFacts.backrefs`), with the relationship carrying it (`inverses`) and that
relationship's target (`targets`, or its `Mapped[...]` annotation): this index places each
backref on that class, once per project, so that "is `attribute` a relationship of this model"
has one answer for a backref as for a relationship the class declares (a route reading
`customer.orders` on a Customer a dependency loaded lazy-loads either way).

A backref whose carrying relationship's target the tool cannot find (a class outside PATH, a
name two mapped classes share) is *unplaced*: its name is known, its class is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes


@dataclass(frozen=True, slots=True)
class Backref:
    attribute: str  # the name it has on the class it lands on
    strategy: str  # its `lazy=` as `facts.ClassFacts.backrefs` has it
    declared_in: str  # the class whose relationship creates it


def relationship_target(classes: Classes, declared: facts.ClassFacts, attribute: str) -> str | None:
    """The class relationship `attribute` of the class body `declared` points to: its
    `Mapped[...]` annotation, else the class its first argument names (as the mapper registry
    finds it: by reference, or by a name one mapped class has)."""
    annotation = declared.annotations.get(attribute, ())
    for ref in annotation:
        found = classes.resolve(ref)
        if found is not None:
            return found
    target = classes.mapped(declared.targets.get(attribute))
    if target is None:
        # `Mapped[list["Review"]]` naming a class of another module it does not import:
        # the mapper registry finds it by its name
        named = [found for ref in annotation if (found := classes.mapped(ref)) is not None]
        target = named[0] if len(named) == 1 else None
    return target


class Backrefs:
    """The project's backrefs by the class they land on (`on`, `find`), and those it cannot place."""

    def __init__(self, classes: Classes) -> None:
        self.classes = classes
        self._on: dict[str, dict[str, Backref]] = {}
        self.unplaced: dict[str, list[Backref]] = {}
        for ref, (_, declared) in classes.by_ref.items():
            for attribute, strategy in declared.backrefs.items():
                backref = Backref(attribute, strategy, ref)
                carriers = [
                    name for name, inverse in declared.inverses.items()
                    if inverse == attribute and name in declared.relationships
                ]
                targets = [relationship_target(classes, declared, name) for name in carriers]
                if not targets or None in targets:
                    self.unplaced.setdefault(attribute, []).append(backref)
                for target in targets:
                    if target is not None:
                        self._on.setdefault(target, {})[attribute] = backref

    def on(self, ref: str) -> dict[str, Backref]:
        """The backrefs landing on class `ref` itself (not on a base of it), by name."""
        return self._on.get(ref, {})

    def relationship(self, ref: str, attribute: str) -> str | None:
        """The strategy of relationship `attribute` on an object of `ref` (declared in its class
        order, or a backref landing on a class of it: the nearer wins), None when it is none."""
        for ancestor in self.classes.mro(ref):
            declared = self.classes.by_ref[ancestor][1]
            if attribute in declared.relationships:
                return declared.relationships[attribute]
            found = self._on.get(ancestor, {}).get(attribute)
            if found is not None:
                return found.strategy
        return None

    def names(self, ref: str) -> set[str]:
        """The relationship attributes an object of `ref` has: declared or inherited, and backrefs."""
        return {
            name for ancestor in self.classes.mro(ref)
            for name in (*self.classes.by_ref[ancestor][1].relationships, *self._on.get(ancestor, {}))
        }

    def placed(self) -> list[tuple[str, Backref]]:
        """Every placed backref with the class it lands on, in project order."""
        return [(ref, backref) for ref, found in self._on.items() for backref in found.values()]


def project_backrefs(classes: Classes) -> Backrefs:
    """The backref index of the project `classes` indexes, built on first use and kept with it."""
    found = classes.project.derived.get("backrefs")
    if found is None or found.classes is not classes:  # type: ignore[attr-defined]
        found = classes.project.derived["backrefs"] = Backrefs(classes)
    return found  # type: ignore[return-value]
