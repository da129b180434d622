"""Values that cannot be an ORM instance, by what they were built or loaded as.

A commit expires (or, on a stack that keeps objects, leaves stale) mapped instances only, and
`session.refresh(x)` of anything else raises `UnmappedInstanceError`. So a name read after a
commit is advice for a refresh only when it may hold one: not the count a dependency returns, a
pydantic model it builds, or a number a helper works out of a count query. Shown by data flow:

- a function whose return annotation names only scalar types (`-> int`) or a project class that
  is not mapped (`-> TokenData`), or whose every `return` of its own body hands back such a value;
- such a value: a literal or f-string, arithmetic and comparisons of such values, a display of
  them, a builtin giving a number or a string (`len(...)`, `int(...)`), an instance of a project
  class that is not mapped (`TokenData(...)`, `TokenData.model_validate(...)`), what the Session
  runs for a statement built inline that selects no entity (`db.scalar(select(func.count(...)))`,
  `db.query(M).count()`, `.rowcount`), a local bound once to one, a parameter annotated so;
- a dependency FastAPI fills a parameter from, when it is such a function, or a project class that
  is not mapped (`Depends(Paging)`).

Anything else (a call the flow cannot follow, a name bound twice, a comprehension) may be an
object: the caller keeps treating it as one.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain, scope_nodes
from async_migrate.codemods.phase2 import expired_lists
from async_migrate.codemods.phase2.dependencies import dependency_function

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.expired_reads import Models
    from async_migrate.codemods.project import FunctionId, Project

# Builtins whose result is a number, a string or a bool, whatever they are given.
_SCALAR_BUILTINS = frozenset({
    "len", "int", "str", "float", "bool", "round", "abs", "repr", "hash", "isinstance", "issubclass",
    "format", "ord", "chr", "hex", "oct", "bin", "sum", "any", "all", "callable", "id",
})
# Constructors of a pydantic (or SQLModel) class: an instance of that class.
_BUILDERS = frozenset({"model_validate", "model_validate_json", "model_construct", "parse_obj", "parse_raw",
                       "construct", "from_orm"})
# A Session's answers that are numbers, however the statement reads.
_COUNTS = frozenset({"count", "rowcount", "lastrowid"})
_DEPTH = 4


def dependency_holds_no_object(project: Project, models: Models, param: facts.Param) -> bool:
    """Whether the dependency filling `param` is shown to give no ORM instance."""
    ref = project.param_dependency(param)
    if ref is None:
        return False
    cls = models.resolve(ref)
    if cls is not None and not _may_be_mapped(models, cls):
        return True  # `Depends(Paging)`: an instance of that class
    fid = dependency_function(project, ref)
    if fid is None or project.functions[fid][1].name == "__init__":
        return False
    return returns_no_object(project, models, fid)


def returns_no_object(project: Project, models: Models, fid: FunctionId, depth: int = 0) -> bool:
    """Whether function `fid` is shown to return no ORM instance (this module's doc)."""
    module, function = project.functions[fid]
    if function.is_generator or function.abstract or depth > _DEPTH:
        return False
    if function.returns_no_object:
        return True
    annotated = [models.resolve(ref) for ref in function.returns if ref not in ("None", "typing.Optional")]
    if annotated and all(cls is not None and not _may_be_mapped(models, cls) for cls in annotated):
        return True  # `-> TokenData`, `-> Page | None`
    node = expired_lists.function_node(models.tree(module.path), function)
    if node is None:
        return False
    returns = [n for n in scope_nodes(node) if isinstance(n, ast.Return)]
    return all(
        r.value is None or _value(project, models, fid, module, node, r.value, depth) for r in returns
    )


def call_returns_no_object(project: Project, models: Models, fid: FunctionId, call: facts.Call) -> bool:
    """Whether every project function the call `call` of `fid` runs returns no ORM instance."""
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index]
    return bool(edges) and all(e.certain for e in edges) and all(
        returns_no_object(project, models, e.callee, 1) for e in edges
    )


def _value(
    project: Project, models: Models, fid: FunctionId, module: facts.Module, scope: ast.AST, node: ast.expr,
    depth: int,
) -> bool:
    """Whether the expression `node` in function `scope` is shown to hold no ORM instance."""
    if depth > _DEPTH:
        return False

    def value(n: ast.expr) -> bool:
        return _value(project, models, fid, module, scope, n, depth + 1)

    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.Compare)):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not) or value(node.operand)
    if isinstance(node, ast.BinOp):
        return value(node.left) and value(node.right)
    if isinstance(node, ast.BoolOp):
        return all(value(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return value(node.body) and value(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(value(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return None not in node.keys and all(value(v) for v in [*node.keys, *node.values] if v is not None)
    if isinstance(node, ast.Await):
        return value(node.value)
    if isinstance(node, ast.Attribute):
        return node.attr in _COUNTS and _on_session_run(project, fid, node.value)
    if isinstance(node, ast.Name):
        return _name(project, models, fid, module, scope, node.id, depth)
    if isinstance(node, ast.Call):
        return _call(project, models, fid, module, scope, node, depth)
    return False


def _call(
    project: Project, models: Models, fid: FunctionId, module: facts.Module, scope: ast.AST, node: ast.Call,
    depth: int,
) -> bool:
    written = name_chain(node.func)
    if isinstance(node.func, ast.Name) and written in _SCALAR_BUILTINS and not _shadowed(module, scope, written):
        return True
    if written is not None and not isinstance(node.func, ast.Name) and written.rsplit(".", 1)[-1] in _BUILDERS:
        owner = _class(models, module, written.rsplit(".", 1)[0])
        return owner is not None and not _may_be_mapped(models, owner)  # `Token.model_validate(...)`
    if written is not None:
        cls = _class(models, module, written)
        if cls is not None:
            return not _may_be_mapped(models, cls)  # `TokenData(sub=...)`
    if isinstance(node.func, ast.Attribute) and node.func.attr in _COUNTS and _on_session_run(project, fid, node.func.value):
        return True  # `db.query(Book).count()`
    if _on_session_run(project, fid, node) and expired_lists.no_entity(
        [node], lambda name: expired_lists.mapped_name(models, module, name),
        lambda name: expired_lists.table_name(models, module, name),
    ) and _statement_inline(node):
        return True  # `db.scalar(select(func.count(Book.id)))`
    return False


def _name(
    project: Project, models: Models, fid: FunctionId, module: facts.Module, scope: ast.AST, name: str, depth: int
) -> bool:
    """A local bound once to such a value, or a parameter annotated with scalar types or a class
    that is not mapped."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _, function = project.functions[fid]
        param = next((p for p in function.params if p.name == name), None)
        if param is not None:
            classes = [models.resolve(ref) for ref in param.annotation if ref != "None"]
            return bool(param.annotation) and (
                all(ref.rsplit(".", 1)[-1] in ("int", "str", "float", "bool", "bytes", "None") for ref in param.annotation)
                or bool(classes) and all(c is not None and not _may_be_mapped(models, c) for c in classes)
            )
    stores = [n for n in scope_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
    values = [
        n.value for n in scope_nodes(scope)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == name
    ]
    return len(stores) == 1 and len(values) == 1 and _value(project, models, fid, module, scope, values[0], depth + 1)


def _on_session_run(project: Project, fid: FunctionId, node: ast.expr) -> bool:
    """Whether `node` is a chain of calls started on one of the function's Sessions (`db.scalar(...)`,
    `db.execute(...).scalar_one()`, `db.query(...).filter(...)`)."""
    sessions = project.session_names(fid)
    while isinstance(node, (ast.Call, ast.Attribute)):
        node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) in sessions:
            return True
    return False


def _statement_inline(node: ast.Call) -> bool:
    """The Session call at the root of the chain runs a statement written there (`select(...)`,
    `query(...)`'s own entities), not one a name holds, which may select anything."""
    while isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Attribute):
            return False
        if not isinstance(func.value, ast.Call):
            return func.attr == "query" or bool(node.args) and isinstance(node.args[0], ast.Call)
        node = func.value
    return False


def _class(models: Models, module: facts.Module, written: str) -> str | None:
    head, _, rest = written.partition(".")
    ref = module.imports.get(head, f"{module.name}.{head}") + (f".{rest}" if rest else "")
    return models.resolve(ref)


def _may_be_mapped(models: Models, cls: str) -> bool:
    """A mapped class, or one a mapped class derives from (what it builds may be either)."""
    return models.mapped(cls) or any(models.mapped(s) for s in models.classes.subclasses(cls))


def _shadowed(module: facts.Module, scope: ast.AST, name: str) -> bool:
    """A builtin's name the module imports or the function binds: not the builtin."""
    return name in module.imports or any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in scope_nodes(scope)
    ) or isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        a.arg == name for a in (*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs)
    )
