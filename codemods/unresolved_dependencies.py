"""Dependencies of a handler whose callable the analysis cannot resolve to a project function or
class: unverified, never a dependency that does nothing.

`verify_prod = build(verify)` then `dependencies=[Security(verify_prod)]`: FastAPI calls what
`build` returned, which may be `verify` (receiving the synchronous Session: two Sessions a
request beside the route's AsyncSession) or a wrapper doing Session work on the event loop.
A project helper returning its argument or a copy of it (`copy_func(verify)`) is followed
(`Project.copied_function`), as is a `partial` (`Project.dependency_callables`); what is left is what the analysis cannot read: the
result of any other call given a project function or made by project code, a subscript
(`Depends(CHECKS["admin"])`), an attribute of an object it does not type, a lambda, in a
parameter's `Depends(...)`, a route's `dependencies=[...]`, its routers' or an
`include_router(...)`'s, at any depth of the tree. A library's dependency (`HTTPBearer()`,
`oauth2_scheme = OAuth2PasswordBearer(...)`) handed no project function cannot reach the
project's Session, and is left out.
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts
from async_migrate.codemods.project import Handler, Project
from async_migrate.codemods.vocabulary.fastapi import DEPENDS

_MARKERS = frozenset(ref.rsplit(".", 1)[-1] for ref in DEPENDS)


def unresolved_dependencies(project: Project, handler: Handler, factories: bool = False) -> list[str]:
    """The dependencies FastAPI runs for a handler that the analysis cannot resolve, as written
    (`Depends(verify_prod)`), in the order met, nearest first. With `factories`, only those given
    as the call of a project function (`Depends(require("admin"))` for a `require` returning what
    the analysis cannot read): FastAPI runs what it returns, maybe a coroutine function, even for
    a `def` route."""
    from async_migrate.codemods.phase2.dependencies import (
        _routes,
        dependency_function,
        handler_routers,
        included_dependencies,
    )

    found: list[str] = []

    def add(text: str, factory: bool = False) -> None:
        if factories and not factory:
            return
        if text not in found:
            found.append(text)

    _, function = project.functions[handler.id]
    queue: list[str] = []
    seen: set[tuple[str, str]] = set()
    # a factory's call as the parameter writes it (`repository(Repo)`): the facts keep `repository()`
    written: dict[str, str] = {}

    def params(of: facts.Function) -> None:
        for param in of.params:
            if project.declared_session(param) is not None:
                continue  # the Session itself: its source is read by the session analysis
            ref = project.param_dependency(param)
            if ref is not None:
                if ref.endswith("()") and ref not in written:
                    as_written = _call_written(param.default or "") or _call_written(param.text)
                    if as_written is not None:
                        written[ref] = as_written
                queue.append(ref)
            elif param.opaque_depends and any(_project_code(project, r) for r in param.opaque_refs):
                # `Depends(lambda: check(user))`: what the expression runs is project code it names
                add(f"Depends({param.opaque_depends})")

    params(function)
    if handler.kind in ("route", "websocket"):
        for registration in handler.registrations:
            queue.extend(registration.route_depends)
            if registration.decorator is not None:
                for text in _opaque_in(registration.decorator.text):
                    add(text)
        for router in handler_routers(project, handler):
            target = project.resolve(router)
            if target is None or target.value is None or target.module is None:
                continue
            for arg in target.value.args:
                if arg.keyword == "dependencies":
                    for text in _opaque_in(arg.text):
                        add(text)
            queue.extend(ref for ref in target.module.depends if _named_in(ref, target.value))
        routes = _routes(project)
        above = {router for registration in handler.registrations for router in routes.above(registration)}
        queue.extend(included_dependencies(project, above))
    while queue:
        ref = queue.pop(0)
        fid = dependency_function(project, ref)
        if fid is None and project.copied_function(ref) is not None:
            fid = dependency_function(project, project.copied_function(ref))
        if fid is None:
            if _unresolved(project, ref):
                add(written.get(ref) or f"Depends({_written(project, ref)})", factory=_factory_call(project, ref))
            continue
        if fid in seen:
            continue
        seen.add(fid)
        params(project.functions[fid][1])
    return found


def _factory_call(project: Project, ref: str) -> bool:
    """`app.auth.require()`: the call of a project function, whose result FastAPI runs. Not one
    whose every return is a bare name (`return depends_filter`), a function defined inside it: a
    closure factory, whose nested function FastAPI runs is followed where the facts hold it, and
    otherwise reported for an `async def` route alone, as before (airflow's `filter_param_factory`,
    returning a plain `def` reading query parameters)."""
    found = project.function(ref[:-2]) if ref.endswith("()") else None
    if found is None:
        return False
    returned = found[1].returned
    return not returned or not all(text.isidentifier() for text in returned)


def _project_code(project: Project, ref: str) -> bool:
    target = project.resolve(ref)
    return target is not None and target.kind in ("function", "value")


def _named_in(ref: str, value: facts.Value) -> bool:
    from async_migrate.codemods.phase2.dependencies import named_in

    return any(arg.keyword == "dependencies" and named_in(ref, arg.text) for arg in value.args)


def _written(project: Project, ref: str) -> str:
    """`verify_prod` for `api.auth.verify_prod`, `CHECKS.admin` for `api.auth.CHECKS.admin`."""
    parts = ref.split(".")
    for split in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:split]) in project.modules:
            return ".".join(parts[split:])
    return ref


def _unresolved(project: Project, ref: str) -> bool:
    """Whether `Depends(ref)`, which names no project function, class or callable instance the
    index reads, may still run project code: a value project code builds or is handed a project
    function to build, or a name under a project module that resolves to nothing it reads."""
    if project.flow.classes.resolve(ref) is not None:
        return False  # a project class without an `__init__` of its own: FastAPI builds it, no code runs
    called = ref.endswith("()")
    target = project.resolve(ref[:-2] if called else ref)
    if target is not None and target.kind == "function":
        return True  # what a project function returns (`Depends(build(verify))`)
    if target is not None and target.kind == "value" and target.value is not None:
        value = target.value
        if value.kind != "call":
            return True
        if project.function(value.ref) is not None:
            return True  # built by project code (`verify_prod = build(verify)`)
        # A library's callable: it runs the project's code only when handed a project function.
        return any(arg.ref is not None and project.function(arg.ref) is not None for arg in value.args)
    if target is not None:
        return False  # a library's, or a module
    head = ref.split(".")
    return any(".".join(head[:split]) in project.modules for split in range(1, len(head)))


def _call_written(text: str) -> str | None:
    """The `Depends(...)`/`Security(...)` of a parameter's default or annotation as written whose
    dependency is a call (`Depends(repository(Repo))`), or None."""
    if not any(marker + "(" in text for marker in _MARKERS):
        return None
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        func = node.func if type(node) is ast.Call else None
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        if name in _MARKERS and type(node) is ast.Call and node.args and type(node.args[0]) is ast.Call:
            return ast.get_source_segment(text.strip(), node)
    return None


def _opaque_in(text: str) -> list[str]:
    """The `Depends(...)`/`Security(...)` calls in a decorator or argument as written whose
    dependency is no name, attribute or call of one (`Depends(CHECKS["admin"])`, a lambda): the
    facts keep no target for them."""
    if not any(marker + "(" in text for marker in _MARKERS):
        return []
    try:
        tree = ast.parse(text.lstrip("@").strip(), mode="eval")
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if type(node) is not ast.Call:
            continue
        func = node.func
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        if name not in _MARKERS:
            continue
        argument = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "dependency"), None
        )
        if argument is None or _readable(argument):
            continue
        found.append(ast.get_source_segment(text.lstrip("@").strip(), node) or name + "(...)")
    return found


def _readable(node: ast.expr) -> bool:
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return type(node) is ast.Name
