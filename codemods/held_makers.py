"""Sessionmakers held by a module-level instance of a project class.

`db = Database(url)` at module level, whose `__init__` sets
`self.SessionLocal = sessionmaker(bind=self.engine)`: `db.SessionLocal` is a sessionmaker as
much as a module-level one is (Flask-SQLAlchemy-like wrappers). Recognised only when the
attribute has exactly one assignment over the class's project bases, in an `__init__`, from
a `sessionmaker(...)` call, and no class body binds the name: then every instance's attribute
is that sessionmaker, built once when the instance is.

`held(project, ref)` answers for a reference (`app.database.db.SessionLocal`); `call(tree,
found)` finds the `sessionmaker(...)` call itself in the class's module, for its arguments.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import split
from async_migrate.codemods.phase2 import expired_lists
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project


@dataclass(frozen=True, slots=True)
class Held:
    """`<module>.<instance>.<attribute>`: a sessionmaker an instance's `__init__` builds."""

    module: facts.Module  # where the instance is assigned
    instance: str
    attribute: str
    cls: str  # the instance's class, canonical
    init: FunctionId  # the `__init__` (of the class or a base) assigning the attribute

    @property
    def ref(self) -> str:
        return f"{self.module.name}.{self.instance}.{self.attribute}"

    @property
    def written(self) -> str:
        return f"{self.instance}.{self.attribute}"

    def attribute_ref(self, attribute: str) -> str:
        """Another attribute of the same instance (`db.engine`), as a reference."""
        return f"{self.module.name}.{self.instance}.{attribute}"


def held(project: Project, ref: str | None) -> Held | None:
    """The held sessionmaker `ref` names, or None."""
    if ref is None or "." not in ref:
        return None
    cache: dict[str, Held | None] = project.derived.setdefault("held_makers", {})  # type: ignore[assignment]
    if ref not in cache:
        cache[ref] = _held(project, ref)
    return cache[ref]


def _held(project: Project, ref: str) -> Held | None:
    owner, _, attribute = ref.rpartition(".")
    target = project.resolve(owner)
    if target is None or target.kind != "value" or target.module is None or target.value is None:
        return None
    value = target.value
    if value.kind != "call":
        return None
    instance = next((n for n, v in target.module.values.items() if v is value), None)
    if instance is None:
        return None
    cls = project_classes(project).resolve(value.ref)
    if cls is None:
        return None
    found = init_assignment(project, cls, attribute)
    if found is None:
        return None
    fid, expression = found
    head, steps = split(expression)
    if steps != ("()",) or project.canonical(head) not in PLAIN_SESSIONMAKERS:
        return None
    return Held(target.module, instance, attribute, cls, fid)


def engine_attribute(project: Project, found: Held, written: str) -> str | None:
    """`engine` for a bind written `self.engine`, when the class sets that attribute exactly once
    over its project bases, in an `__init__` (the engine it makes with the instance)."""
    if not written.startswith("self.") or written.count(".") != 1:
        return None
    attribute = written.removeprefix("self.")
    return attribute if init_assignment(project, found.cls, attribute) is not None else None


def init_assignment(project: Project, cls: str, attribute: str) -> tuple[FunctionId, str] | None:
    """The one assignment of `self.<attribute>` over `cls`'s project bases, (function, value
    expression), when it is in an `__init__` and no class body binds the name; None when it is
    set in several places or also a class attribute (then no instance holds one value for it)."""
    classes = project_classes(project)
    order = classes.mro(cls)
    assigned = [found for c in order for found in classes.assigned.get((c, attribute), [])]
    if len(assigned) != 1 or any(attribute in classes.by_ref[c][1].names for c in order):
        return None
    if project.functions[assigned[0][0]][1].name != "__init__":
        return None
    return assigned[0]


def call(tree: ast.Module, function: facts.Function, attribute: str) -> ast.Call | None:
    """The `sessionmaker(...)` call of `self.<attribute> = sessionmaker(...)` in the `__init__`
    `function`, in its module's tree."""
    node = expired_lists.function_node(tree, function)
    for statement in ast.walk(node) if node is not None else ():
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if any(
            isinstance(t, ast.Attribute) and t.attr == attribute and isinstance(t.value, ast.Name)
            and t.value.id == "self" for t in targets
        ) and isinstance(statement.value, ast.Call):
            return statement.value
    return None


def init_locals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names an `__init__` binds itself (its parameters, `self` among them, and locals)."""
    names = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    return names | {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

