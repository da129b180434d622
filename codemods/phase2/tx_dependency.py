"""Dependencies that wrap the request's Session in a transaction, and whether an async twin keeps it.

    def get_tx_db(db: Session = Depends(get_db)):
        with db.begin():
            yield db

receives the Session the provider opened and yields that same Session: it opens none, so it is
no second provider for the async stack to copy. FastAPI runs it per request around the route,
so a migrated route keeps it through an async twin on the async session dependency
(`async with db.begin(): yield db`; `await db.commit()` / `await db.rollback()` for the
`try: yield db; db.commit()` form). The twin is the same kind of yield dependency under the same
`Depends()` keywords, so FastAPI runs its exit when it ran the original's. Only the shapes below
are carried; any other statement (a sync helper call, per-request state) keeps the routes blocked,
naming that statement, since the twin would drop or misplace it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.project import FunctionId, Project


def wrappers(project: Project) -> set[FunctionId]:
    """Generator dependencies yielding the Session a session provider hands their parameter,
    opening none themselves."""
    cached = project.derived.get("phase2.session_wrappers")
    if cached is not None:
        return cached  # type: ignore[return-value]
    from async_migrate.codemods.phase2.dependencies import dependency_function

    found: set[FunctionId] = set()
    for fid, (module, function) in project.functions.items():
        if not function.is_generator or f"{module.name}.{function.qualname}" in project.config.session_dependencies:
            continue
        if any(project.is_sessionmaker(o.callee) for o in function.opens):
            continue
        for param in function.params:
            ref = project.param_dependency(param)
            provider = dependency_function(project, ref)
            if (
                param.name in function.yields and provider is not None and provider != fid
                and provider in project.session_dependencies
            ):
                found.add(fid)
                break
    project.derived["phase2.session_wrappers"] = found
    return found


def providers(project: Project) -> set[FunctionId]:
    """Session dependencies that open the Session (the wrappers around them aside)."""
    return project.session_dependencies - wrappers(project)


def session_param(project: Project, fid: FunctionId) -> str | None:
    from async_migrate.codemods.phase2.dependencies import dependency_function

    _, function = project.functions[fid]
    for param in function.params:
        provider = dependency_function(project, project.param_dependency(param))
        if provider is not None and provider in project.session_dependencies and param.name in function.yields:
            return param.name
    return None


def problem(project: Project, fid: FunctionId, tree: Callable[[str], ast.Module | None]) -> str | None:
    """Why an async twin of the wrapper cannot do what it does (None: it can)."""
    module, function = project.functions[fid]
    where = f"{module.path}:{function.line}"
    name = session_param(project, fid)
    if name is None:
        return f"{where}: `{function.qualname}` does not yield the Session it receives from the session provider"
    provider = _provider(project, fid, name)
    if provider in wrappers(project):
        return f"{where}: `{function.qualname}` wraps `{project.functions[provider][1].qualname}`, itself a wrapper"
    if function.is_async:
        return f"{where}: `{function.qualname}` is an `async def` generator holding the synchronous Session"
    parsed = tree(module.path)
    node = next(
        (n for n in ast.walk(parsed) if isinstance(n, ast.FunctionDef) and n.lineno == function.line and n.name == function.name),
        None,
    ) if parsed is not None else None
    if node is None:
        return f"{where}: the source of `{function.qualname}` could not be read"
    if node.decorator_list:
        return f"{where}: `{function.qualname}` is decorated"
    others = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs) if a.arg != name]
    if others or node.args.vararg or node.args.kwarg:
        return f"{where}: `{function.qualname}` takes more than the Session ({', '.join(others) or 'varargs'})"
    body = node.body[1:] if node.body and _docstring(node.body[0]) else node.body
    stray = _stray(body, name)
    if stray is not None:
        return (
            f"{module.path}:{stray.lineno}: `{ast.unparse(stray).splitlines()[0]}` in `{function.qualname}` is "
            f"more than a transaction around the Session (`with {name}.begin(): yield {name}`, or "
            f"`try: yield {name}; {name}.commit()` with `except: {name}.rollback(); raise`)"
        )
    return None


def _provider(project: Project, fid: FunctionId, name: str) -> FunctionId | None:
    from async_migrate.codemods.phase2.dependencies import dependency_function

    _, function = project.functions[fid]
    param = next(p for p in function.params if p.name == name)
    return dependency_function(project, project.param_dependency(param))


def _docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _stray(body: list[ast.stmt], name: str) -> ast.stmt | ast.excepthandler | None:
    """The first statement outside the carried shapes, or None when the body is one of them."""
    if len(body) == 1 and isinstance(body[0], ast.With):
        block = body[0]
        if len(block.items) != 1 or block.items[0].optional_vars is not None:
            return block
        if not _method_call(block.items[0].context_expr, name, "begin"):
            return block
        return _first_other(block.body, [_yields(name)], block)
    if len(body) == 1 and isinstance(body[0], ast.Try) and not body[0].finalbody:
        attempt = body[0]
        if len(attempt.handlers) != 1 or attempt.handlers[0].name is not None:
            return attempt
        handler = attempt.handlers[0]
        if handler.type is not None and not (isinstance(handler.type, ast.Name) and handler.type.id in ("Exception", "BaseException")):
            return handler
        stray = _first_other(handler.body, [_calls(name, "rollback"), _reraises], handler)
        if stray is not None:
            return stray
        if attempt.orelse:  # `try: yield db` / `except: ...` / `else: db.commit()`
            return _first_other(attempt.body, [_yields(name)], attempt) or _first_other(attempt.orelse, [_calls(name, "commit")], attempt)
        return _first_other(attempt.body, [_yields(name), _calls(name, "commit")], attempt)
    # `yield db; db.commit()`: an error in the route leaves the close to roll back
    if len(body) == 1 and _yields(name)(body[0]):
        return None
    return _first_other(body, [_yields(name), _calls(name, "commit")])


def _first_other(
    body: list[ast.stmt], expected: list[Callable[[ast.stmt], bool]], whole: ast.stmt | ast.excepthandler | None = None
) -> ast.stmt | ast.excepthandler | None:
    """The first statement of `body` that is not the expected one; `whole` (the block) when one is missing."""
    for at, stmt in enumerate(body):
        if at >= len(expected) or not expected[at](stmt):
            return stmt
    if len(body) == len(expected):
        return None
    return whole if whole is not None else (body[-1] if body else None)


def _yields(name: str) -> Callable[[ast.stmt], bool]:
    def check(stmt: ast.stmt) -> bool:
        return (
            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield)
            and isinstance(stmt.value.value, ast.Name) and stmt.value.value.id == name
        )
    return check


def _calls(name: str, method: str) -> Callable[[ast.stmt], bool]:
    def check(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.Expr) and _method_call(stmt.value, name, method)
    return check


def _reraises(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Raise) and stmt.exc is None


def _method_call(node: ast.expr, name: str, method: str) -> bool:
    return (
        isinstance(node, ast.Call) and not node.args and not node.keywords
        and isinstance(node.func, ast.Attribute) and node.func.attr == method
        and isinstance(node.func.value, ast.Name) and node.func.value.id == name
    )
