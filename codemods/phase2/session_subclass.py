"""A project Session subclass behind the async stack (`sessionmaker(class_=AppSession)`).

An AsyncSession runs a synchronous Session of its `sync_session_class` (`Session` by default)
and proxies a fixed set of its methods. A sessionmaker making a project subclass hands every
route that subclass: its overrides, the listeners registered on it, and the methods it adds
(`db.soft_delete(note)`). The generated `async_sessionmaker` keeps the class as
`sync_session_class=AppSession`, so the first two carry over as they are; a method the
subclass adds is no attribute of AsyncSession, and phase two runs it on the Session behind it,
`await db.run_sync(lambda sync_session: sync_session.soft_delete(note))`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_SESSION_ATTRIBUTES
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_SESSION_TYPES

if TYPE_CHECKING:
    from async_migrate.codemods.project import Project

_SYNC_BASES = frozenset(
    {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"} | SQLMODEL_SESSION_TYPES
)


def carried_class(project: Project, maker: facts.Value | None) -> facts.CallArg | None:
    """The `class_=` of a synchronous sessionmaker that the generated async_sessionmaker keeps as
    `sync_session_class=`: a synchronous Session subclass (not `Session` itself, nor SQLModel's,
    which the stack replaces with SQLModel's AsyncSession), named at module level."""
    if maker is None or maker.kind != "call":
        return None
    for arg in maker.args:
        if arg.keyword != "class_":
            continue
        canonical = project.canonical(arg.ref)
        if arg.ref is None or arg.local or project.is_async_session_type(arg.ref) or canonical in _SYNC_BASES:
            return None  # the default behind an AsyncSession, or SQLModel's, replaced whole
        return arg
    return None


def spelled(project: Project, module: facts.Module, ref: str | None) -> str | None:
    """How `module` names the project Session subclass `ref` without a new import: its own class
    (`AppSession`), a name it imports for it (`S` of `from app.db import AppSession as S`), or a
    module it imports (`db.AppSession`). None when it names it in none of these ways."""
    canonical = project.session_subclass(ref)
    if canonical is None:
        return None
    owner, _, name = canonical.rpartition(".")
    if owner == module.name and any(c.qualname == name for c in module.classes):
        return name
    for local, imported in sorted(module.imports.items()):
        if local != "*" and "." in imported and project.session_subclass(imported) == canonical:
            return local
    for local, imported in sorted(module.imports.items()):
        if local != "*" and imported == owner:
            return f"{local}.{name}"
    return None


def class_chain(project: Project, ref: str | None) -> list[tuple[str, facts.Module, facts.ClassFacts]]:
    """A project class and its project bases, as (canonical name, module, class)."""
    found: list[tuple[str, facts.Module, facts.ClassFacts]] = []
    seen: set[str] = set()
    todo = [project.canonical(ref) or ref]
    while todo:
        current = todo.pop()
        if current is None or current in seen:
            continue
        seen.add(current)
        owner, _, name = current.rpartition(".")
        module = project.modules.get(owner)
        cls = next((c for c in module.classes if c.qualname == name), None) if module is not None else None
        if module is not None and cls is not None:
            found.append((current, module, cls))
            todo.extend(project.canonical(b) or b for b in cls.bases)
    return found


def added_methods(project: Project, ref: str | None) -> dict[str, str]:
    """Methods a project Session class (and its project bases) defines that AsyncSession does
    not have: method name -> the class defining it (canonical)."""
    methods: dict[str, str] = {}
    for canonical, module, cls in class_chain(project, ref):
        prefix = cls.qualname + "."
        for function in module.functions:
            name = function.qualname.removeprefix(prefix)
            if (
                function.qualname.startswith(prefix) and "." not in name
                and not (name.startswith("__") and name.endswith("__"))
                and name not in ASYNC_SESSION_ATTRIBUTES
            ):
                methods.setdefault(name, canonical)
    return methods


def project_session_methods(project: Project) -> dict[str, str]:
    """Methods that project subclasses of the synchronous Session add and AsyncSession lacks,
    over the whole project: what a call on an AsyncSession must not name."""
    methods: dict[str, str] = {}
    for module in project.modules.values():
        for cls in module.classes:
            chain = class_chain(project, f"{module.name}.{cls.qualname}")
            bases = {project.canonical(b) or b for _, _, c in chain for b in c.bases}
            if bases & _SYNC_BASES:
                for name, owner in added_methods(project, f"{module.name}.{cls.qualname}").items():
                    methods.setdefault(name, owner)
    return methods


def overridden_methods(project: Project, ref: str | None) -> dict[str, str]:
    """The Session methods a project Session class (and its project bases) overrides, special
    methods included (`flush`, `get_bind`, `__init__`): method name -> the class defining it
    (canonical). What a class only adds is `added_methods`; a class outside the project, or
    none, overrides nothing the analysis can see."""
    methods: dict[str, str] = {}
    for canonical, module, cls in class_chain(project, ref):
        prefix = cls.qualname + "."
        for function in module.functions:
            name = function.qualname.removeprefix(prefix)
            if function.qualname.startswith(prefix) and "." not in name and (
                (name.startswith("__") and name.endswith("__")) or name in ASYNC_SESSION_ATTRIBUTES
                or name == "query"
            ):
                methods.setdefault(name, canonical)
    return methods
