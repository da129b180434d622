"""A response model's relationships on an object a helper fetched by key: loaded by a refresh.

A route returning what a project helper got from the route's own Session (`task =
crud.task.get(db, id=task_id)`) has FastAPI read the response model's relationships while
serialising: MissingGreenlet under AsyncSession (AM222). The loader option cannot go into the
helper, which every model shares; phase two adds `await db.refresh(task, attribute_names=[...])`
to the route instead (AM280), only where nothing could have changed the object since the Session
loaded it (`plan`; AM280's doc says why).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import after_docstring
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase2 import built_refresh
from async_migrate.codemods.phase2.eager_flow import Flow
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.phase2.expired_reads import Refresh
from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk
from async_migrate.codemods.project import FunctionId, Project


def plan(
    project: Project,
    route: FunctionId,
    risks: list[LazyLoadRisk],
    moving: set[FunctionId],
    trees: Callable[[str], ast.Module | None],
    shared: bool,
) -> built_refresh.BuiltRefresh | None:
    """The refresh that replaces all of `risks` (the route's lazy loads), or None to keep them.
    `shared`: some dependency of the route migrates with it (and may share its Session).

        task = crud.task.get(db, id=task_id)     # CRUDBase.get: return db.get(self.model, id)
        if task is None:
            raise NotFoundError(...)
        return task                              # response_model=TaskOut, TaskOut.labels

    gets `await db.refresh(task, attribute_names=["labels"])`, guarded `if task is not None:`,
    right after the call, where nothing else runs before the return. The refresh stands only where:

    - the route's first statement (after a docstring) is `name = helper(session, ...)`, a call of
      one project function or method migrating with the route (`Project.all_calls_from`, resolved
      with certainty), given a Session parameter of the route, the only binding of `name`;
    - the helper's body is `return session.get(Model, ...)` on that Session: `get` gives an
      instance of `Model` or None and changes nothing. `Model` is a mapped class named there, or
      `self.<attr>` where the route calls the method on a module-level instance (`task =
      CRUDTask(Task)`) whose class order stores `<attr>` only from an `__init__` parameter
      (`self.model = model`) that the instance is built with a mapped class for;
    - after it, the route has at most `if name is None:` raising or returning (no `else`), then
      `return name`; no other statement, and no call outside that branch;
    - no dependency of the route shares its Session (none of its parameters but the Session's own
      is a dependency, and none is migrated with it): a fresh Session, loading the object clean;
    - each risk is a field of the response model itself (as in `built_refresh`), a relationship
      of `Model` with the default lazy strategy, or a property reading one on the object directly.

    Everything else keeps its block: a helper doing more than `get` (a query, a write, a commit),
    a class the analysis cannot pin to one mapped class, a change or a call before the return.
    """
    if shared or not risks or any(built_refresh.loaded_as(r) is None for r in risks):
        return None
    module, function = project.functions[route]
    node = function_node(trees(module.path), function)
    found = _fetched(project, route, moving, node)
    if found is None:
        return None
    call, name, session, helper, model = found
    classes = project_classes(project)
    refreshed = built_refresh.refreshed(classes, model, risks)
    if refreshed is None:
        return None
    attributes, fields = refreshed
    flow = Flow(project, classes, set())
    if any(flow.relationship(model, a) != "select" for a in attributes):
        return None
    helper_module, helper_function = project.functions[helper]
    return built_refresh.BuiltRefresh(
        route,
        Refresh(call.index, session, name, True, attributes=attributes),
        module.path,
        call.line,
        classes.short(model),
        fields,
        source=f"{helper_module.name}.{helper_function.qualname} gets from the route's Session",
    )


def _fetched(
    project: Project, route: FunctionId, moving: set[FunctionId], node: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> tuple[facts.Call, str, str, FunctionId, str] | None:
    """(the helper call, the name bound to it, the Session's name, the helper, the class) when
    the route's body has the shape `plan` describes."""
    if node is None:
        return None
    _, function = project.functions[route]
    names = project.session_names(route)
    params = {p.name for p in function.params}
    if any(p.depends is not None and p.name not in names for p in function.params):
        return None
    body = after_docstring(node.body)
    if len(body) not in (2, 3):
        return None
    first, last = body[0], body[-1]
    if not (
        isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name)
        and isinstance(first.value, ast.Call)
    ):
        return None
    name = first.targets[0].id
    if not built_refresh.returns_name(last, name):
        return None
    if len(body) == 3 and not _none_exit(body[1], name):
        return None
    if sum(b.name == name for b in function.bindings) != 1:
        return None
    end = first.end_lineno or first.lineno
    outside = [c for c in function.calls if not (len(body) == 3 and _inside(body[1], c.line)) and c.line > end]
    mine = [c for c in function.calls if first.lineno <= c.line <= end]
    if outside or len(mine) != 1 or mine[0].nested:
        return None
    call = mine[0]
    edges = [e for e in project.all_calls_from.get(route, ()) if e.call.index == call.index]
    if len(edges) != 1 or not edges[0].certain:
        return None
    helper = edges[0].callee
    given = [a.name for a in call.args if a.name in names and a.name in params]
    if helper not in moving or helper == route or len(set(given)) != 1:
        return None
    session = given[0]
    model = gotten(project, helper, call.callee, {k for k, v in edges[0].session_args.items() if v == session})
    return (call, name, session, helper, model) if model is not None else None


def _none_exit(stmt: ast.stmt, name: str) -> bool:
    """`if name is None:` whose body is one `raise` or `return`, with no `else`."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    return (
        isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1
        and isinstance(stmt.body[0], (ast.Raise, ast.Return))
        and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == name
        and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    )


def _inside(stmt: ast.stmt, line: int) -> bool:
    return stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno)


def gotten(project: Project, helper: FunctionId, callee: str | None, sessions: set[str]) -> str | None:
    """The mapped class of what the helper returns when its body is `return session.get(M, ...)`
    on a Session the route hands it (`sessions`, its parameter names), or `return await
    session.get(M, ...)` on an AsyncSession (check), else None."""
    _, function = project.functions[helper]
    if len(function.calls) != 1:
        return None
    get = function.calls[0]
    if function.returned != (f"${get.receiver}.get()",) and not (get.awaited and function.results == (("call", get.index),)):
        return None
    if get.receiver not in sessions or get.method != "get" or get.nested or not get.args:
        return None
    first = get.args[0]
    if first.position != 0:
        return None
    classes = project_classes(project)
    if first.ref is not None:
        model = classes.resolve(first.ref)
    elif first.expr is not None and function.params and first.expr.startswith(f"${function.params[0].name}."):
        model = _instance_class(project, helper, callee, first.expr.split(".", 1)[1])
    else:
        model = None
    return model if model is not None and classes.is_mapped(model) else None


def _instance_class(project: Project, helper: FunctionId, callee: str | None, attribute: str) -> str | None:
    """`self.<attribute>` of the module-level instance the route calls the helper on, when every
    store of it in its class order is an `__init__` parameter the instance is built with a class for."""
    if callee is None or "." not in callee:
        return None
    target = project.resolve(callee.rsplit(".", 1)[0])
    value = target.value if target is not None else None
    classes = project_classes(project)
    cls = classes.resolve(value.ref) if value is not None and value.kind == "call" else None
    owner = classes.owner(helper)
    if value is None or cls is None or owner is None or owner not in classes.mro(cls):
        return None
    stores = [s for ancestor in classes.mro(cls) for s in classes.assigned.get((ancestor, attribute), ())]
    if len(stores) != 1:
        return None
    (init, expression), = stores
    _, init_function = project.functions[init]
    inits = classes.method(cls, "__init__")[0]
    if init_function.name != "__init__" or list(inits) != [init] or not expression.startswith("$"):
        return None
    params = init_function.params[1:]
    names = [p.name for p in params]
    param = expression[1:]
    if param not in names:
        return None
    given = [
        a for number, a in enumerate(value.args)
        if a.keyword == param or (a.keyword is None and number == names.index(param)
                                  and all(b.keyword is None for b in value.args[:number]))
    ]
    if any(a.keyword in ("*", "**") for a in value.args) or len(given) != 1 or given[0].ref is None:
        return None
    return classes.resolve(given[0].ref)
