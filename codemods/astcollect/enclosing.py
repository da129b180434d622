"""A route defined inside a router factory whose parameter default names what the factory
holds: `def crud_router(model, session_dep=Depends(get_db))` with
`async def list_all(db=session_dep)`, or `def make(model, get_session=get_db)` with
`async def list_all(db=Depends(get_session))`; or an attribute of one of them,
`async def route(db=Depends(self.db_func))` in a method building fastapi-crudrouter's routes.

Python evaluates the default in the factory's scope, so the name is the factory's parameter
or local, never the module-level name it would resolve to. Such a parameter is recorded as
an opaque dependency (`facts.Param.opaque_depends`): `opaque_refs` lists what the factory may
bind the name to where that is written (a parameter's default, an assignment), and a caller's
argument, which is not read, leaves the Session unverified rather than absent.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import syntax
from async_migrate.codemods.astcollect.syntax import FUNCTIONS, argument
from async_migrate.codemods.vocabulary.fastapi import DEPENDS

if TYPE_CHECKING:
    from async_migrate.codemods.astcollect.module import Collector

# name -> the expressions the enclosing function may bind it to; None where the value is not
# written there (a parameter without a default, a loop target, `with ... as name`)
Bindings = dict[str, tuple[ast.expr | None, ...]]


def bindings(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Bindings:
    """What each parameter and local of `node` may hold, read without its nested scopes."""
    found: dict[str, list[ast.expr | None]] = {}
    for param, default in syntax.parameters(node.args):
        found.setdefault(param.arg, []).append(default)
    assigned: set[int] = set()
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            if isinstance(current, (*FUNCTIONS, ast.ClassDef)):
                found.setdefault(current.name, []).append(None)
            continue
        if type(current) is ast.Assign and len(current.targets) == 1 and type(current.targets[0]) is ast.Name:
            found.setdefault(current.targets[0].id, []).append(current.value)
            assigned.add(id(current.targets[0]))
        elif type(current) is ast.AnnAssign and type(current.target) is ast.Name and current.value is not None:
            found.setdefault(current.target.id, []).append(current.value)
            assigned.add(id(current.target))
        elif type(current) is ast.Name and type(current.ctx) is ast.Store and id(current) not in assigned:
            found.setdefault(current.id, []).append(None)
        pending.extend(ast.iter_child_nodes(current))
    return {name: tuple(values) for name, values in found.items()}


def read_default(collector: Collector, param: facts.Param, default: ast.expr | None) -> None:
    """Record `param` as an opaque dependency when its default names the enclosing function's
    `x` (`db=x`, `db=Depends(x)`). A name bound only to constants (`limit=page_size`) is no
    dependency and stays as read."""
    enclosing = collector.enclosing
    if not enclosing or default is None:
        return
    if type(default) is ast.Name and default.id in enclosing:
        name, written = default.id, default.id
    elif type(default) is ast.Call and collector.ref(default.func) in DEPENDS:
        found = argument(default, 0, "dependency")
        if type(found) is ast.Attribute and _root(found) in enclosing:
            _held(collector, param, found)
            return
        if type(found) is not ast.Name or found.id not in enclosing:
            return
        name, written = found.id, ""
    elif type(default) is ast.Attribute and _root(default) in enclosing:
        _held(collector, param, default)
        return
    else:
        return
    bound = enclosing[name]
    if written and bound and all(type(b) is ast.Constant for b in bound):
        return
    refs: list[str] = []
    for value in bound:
        if value is None or (type(value) is ast.Name and value.id in enclosing):
            continue
        target = collector.depends_target(value) if written else None
        if target is None and type(value) in (ast.Name, ast.Attribute):
            target = collector.ref(value)
        if target is not None and target not in refs:
            refs.append(target)
    param.depends = None
    param.default_ref = None
    param.opaque_depends = name
    param.opaque_refs = tuple(refs)
    if written:
        param.default = written
    else:
        # FastAPI runs what the factory was given as a dependency of the route
        collector.facts.depends.extend(refs)


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain starts from (`self` in `self.deps.db`)."""
    while type(node) is ast.Attribute:
        node = node.value
    return node.id if type(node) is ast.Name else None


def _held(collector: Collector, param: facts.Param, found: ast.Attribute) -> None:
    """`Depends(self.db_func)`, `db=self.session_dep`, `Depends(config.get_db)`: what the enclosing
    function's object holds (fastapi-crudrouter keeps the session dependency it was handed on the
    router) is set where the object is built, which is not read: an opaque dependency, whose
    Session work is unverified rather than absent."""
    param.depends = None
    param.default_ref = None
    param.default = ""
    param.opaque_depends = syntax.text(collector.source, found)
    param.opaque_refs = ()
