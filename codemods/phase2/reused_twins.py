"""A reused async twin must still be the twin phase two writes from its synchronous original.

A later run reuses the twin an earlier run wrote (a copied function `tasks_for_async`, a
parallel class's method `TaskRepositoryAsync.for_project`, a dependency's or a context manager's
twin) rather than writing a second one. The original may have changed since (a filter added), or
the twin been edited by hand: the migrated route calling it would then silently run other code
than it ran before. So each reused twin is compared with the twin phase two writes now: the
module rewritten from its current text with the twins removed, as if none were there. The
comparison ignores formatting, comments and loader options (which only choose how relationships
load; the eager loads a route needs are moved into the reused twin or block where they are
planned, in closure.py). A twin that differs blocks the routes reaching its original, naming both
definitions and what to do; it is never rewritten, since nothing proves it is the tool's output.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace

import libcst as cst

from async_migrate.codemods.phase2 import closure as closures
from async_migrate.codemods.phase2 import plan as plans
from async_migrate.codemods.phase2 import rewrite as phase2_rewrite
from async_migrate.codemods.phase2.lazy_loads import EagerFix
from async_migrate.codemods.phase2.self_check import Violation
from async_migrate.codemods.project import FunctionId, Project

# Loader options choose how relationships load, never which rows or values come back.
_LOADERS = frozenset({
    "selectinload", "joinedload", "subqueryload", "immediateload", "lazyload", "noload", "raiseload",
    "defaultload", "contains_eager", "undefer", "undefer_group", "defer", "load_only", "selectin_polymorphic",
})


def check(
    project: Project,
    closure: closures.Closure,
    names: plans.StackNames | None,
    written: dict[str, str],
    read: Callable[[str], str],
) -> list[Violation]:
    """Violations for the reused twins of `closure` that differ from the twin phase two writes
    now. `written` is path -> this run's rewritten text (the reused twin as the route will run it)."""
    reused = {
        fid: twin for fid, d in sorted(closure.helpers.items())
        if d.existing and d.action == "twin" and (twin := closures.reused_twin(project, fid)) is not None
    }
    if not reused or names is None:
        return []
    originals = {twin: fid for fid, twin in reused.items()}
    shadow = replace(
        closure,
        helpers={fid: replace(d, existing=False) for fid, d in closure.helpers.items()},
        existing_parallel=set(), parallel_additions={},
        # an eager load moved into a reused twin goes, in the twin written now, where it came from
        # and one left on a reused original (its twin loads it already) is not the twin's to add
        eager_fixes={
            route: [_back(project, fix, originals.get(fix.fid)) for fix in fixes if fix.fid not in reused]
            for route, fixes in closure.eager_fixes.items()
        },
    )
    regenerated_plans = plans.build(project, shadow, names)
    by_path: dict[str, list[FunctionId]] = {}
    for fid, twin in reused.items():
        by_path.setdefault(project.functions[twin][0].path, []).append(fid)
    found: list[Violation] = []
    for path, fids in sorted(by_path.items()):
        module = project.functions[reused[fids[0]]][0]
        removed = {_removed(project, closure, fid, reused[fid]) for fid in fids}
        regenerated: ast.Module | None
        current: ast.Module | None
        try:
            text = read(path)
            stripped = cst.parse_module(text).visit(_Remove(removed))
            plan = phase2_rewrite.Plan(None, regenerated_plans.get(path), names)
            regenerated = ast.parse(phase2_rewrite.apply(stripped, module, plan).code)
            current = ast.parse(written.get(path, text))
        except (cst.ParserSyntaxError, SyntaxError, ValueError):
            regenerated = current = None
        for fid in fids:
            qualname = reused[fid][1]
            theirs = _definition(current, qualname) if current is not None else None
            ours = _definition(regenerated, qualname) if regenerated is not None else None
            if theirs is None or ours is None or _normal(theirs) != _normal(ours):
                found.append(_violation(project, fid, reused[fid], regenerated is not None))
    return found


def _back(project: Project, fix: EagerFix, original: FunctionId | None) -> EagerFix:
    """`fix` on the reused twin moved back onto the same query of its original (the inverse of
    `closure._in_existing_twin`)."""
    if original is None:
        return fix
    copy, mine = project.functions[fix.fid][1], project.functions[original][1]
    theirs, ours = closures.numbered_loads(copy), closures.numbered_loads(mine)
    load = theirs[fix.load]
    at = [i for i, other in enumerate(theirs) if (other.form, other.model) == (load.form, load.model)]
    to = [i for i, other in enumerate(ours) if (other.form, other.model) == (load.form, load.model)]
    return replace(fix, fid=original, load=to[at.index(fix.load)], line=mine.line + fix.line - copy.line)


def _removed(project: Project, closure: closures.Closure, fid: FunctionId, twin: FunctionId) -> str:
    """The qualname to remove for the module to be as if the twin were not there: the twin, or
    the whole parallel class holding it (phase two writes the copy whole)."""
    owner = twin[1].rpartition(".")[0]
    original_owner = project.functions[fid][1].qualname.rpartition(".")[0]
    return owner if owner and owner != original_owner else twin[1]


def _violation(project: Project, fid: FunctionId, twin: FunctionId, compared: bool) -> Violation:
    module, function = project.functions[fid]
    twin_module, written = project.functions[twin]
    owner = twin[1].rpartition(".")[0]
    parallel = owner and owner != function.qualname.rpartition(".")[0]
    remedy = (
        f"delete `{written.name}` from `{owner}` (phase two adds it to that class again from the original)"
        if parallel else f"delete `{twin[1]}` (phase two writes it again from the original)"
    )
    why = (
        "differs from the twin phase two writes from the original now (formatting, comments and "
        "loader options aside): the original changed since the twin was written, or the twin was "
        "edited, and the migrated route would silently run other code than it runs now"
        if compared else "cannot be compared with the twin phase two writes from the original now"
    )
    return Violation(
        fid, module.path, function.line,
        f"phase two would reuse `{twin_module.name}.{twin[1]}` ({twin_module.path}:{written.line}) as the "
        f"async twin of `{module.name}.{function.qualname}` ({module.path}:{function.line}), but it {why}; "
        f"{remedy}, or bring the two in line by hand",
    )


class _Remove(cst.CSTTransformer):
    """Drops the definitions named by qualname (top level or within classes)."""

    def __init__(self, qualnames: set[str]) -> None:
        self.qualnames = qualnames
        self.scope: list[str] = []

    def _enter(self, name: str) -> bool:
        self.scope.append(name)
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return self._enter(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self._enter(node.name.value)

    def _removed(self) -> bool:
        qualname = ".".join(self.scope)
        self.scope.pop()
        return qualname in self.qualnames

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        return cst.RemoveFromParent() if self._removed() else updated_node

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        return cst.RemoveFromParent() if self._removed() else updated_node


def _definition(tree: ast.Module, qualname: str) -> ast.AST | None:
    body: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next((
            n for n in reversed(body)  # the last definition of a name is the one that runs
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
        ), None)
        if node is None:
            return None
        body = node.body
    return node


def _normal(node: ast.AST) -> str:
    """The definition without loader options (`.options(selectinload(...))` whose arguments are
    all loader options) and, where it joins eagerly, the `.unique()` that joined loads need."""
    joined = any(_loader_name(n) == "joinedload" for n in ast.walk(node))
    return ast.dump(_Normal(joined).visit(_GetSelect().visit(_copy(node))), include_attributes=False)


def _copy(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node)).body[0]


class _GetSelect(ast.NodeTransformer):
    """`(await s.scalars(select(M).where(M.id == pk).options(selectinload(...)))).one_or_none()`
    back to the `await s.get(M, pk)` it was written for (`to_async._get_as_select`: a get whose
    object a route reads a relationship of takes its eager load as a select), `.one()` to
    `get_one`, with or without the `.unique()` a joined load adds. Only with the loader options
    there: a select written by hand without them stays a select."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if node.args or node.keywords or not isinstance(func, ast.Attribute) or func.attr not in _ENDINGS:
            return node
        inner = func.value
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "unique" \
                and not inner.args and not inner.keywords:
            inner = inner.func.value
        if not isinstance(inner, ast.Await) or not isinstance(call := inner.value, ast.Call):
            return node
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("scalars", "exec") \
                or len(call.args) != 1 or call.keywords:
            return node
        found = _selected_by_key(call.args[0])
        if found is None:
            return node
        model, key = found
        get = ast.Call(ast.Attribute(call.func.value, _ENDINGS[func.attr], ast.Load()), [model, key], [])
        return ast.Await(get)


_ENDINGS = {"one_or_none": "get", "one": "get_one"}


def _selected_by_key(statement: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    """(M, pk) for `select(M).where(M.<column> == pk).options(<loader options>)`."""
    if not (isinstance(statement, ast.Call) and isinstance(statement.func, ast.Attribute)
            and statement.func.attr == "options" and statement.args and not statement.keywords
            and all(_is_loader(a) for a in statement.args)):
        return None
    where = statement.func.value
    if not (isinstance(where, ast.Call) and isinstance(where.func, ast.Attribute) and where.func.attr == "where"
            and len(where.args) == 1 and not where.keywords):
        return None
    selected, compare = where.func.value, where.args[0]
    if not (isinstance(selected, ast.Call) and _called_name(selected) == "select" and len(selected.args) == 1
            and not selected.keywords):
        return None
    model = selected.args[0]
    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq)
            and isinstance(compare.left, ast.Attribute)
            and ast.dump(compare.left.value) == ast.dump(model)):
        return None
    return model, compare.comparators[0]


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


class _Normal(ast.NodeTransformer):
    def __init__(self, joined: bool) -> None:
        self.joined = joined

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        # `session.get(Book, key, options=[selectinload(Book.author)])`
        node.keywords = [
            k for k in node.keywords
            if not (k.arg == "options" and isinstance(k.value, (ast.List, ast.Tuple)) and k.value.elts
                    and all(_is_loader(e) for e in k.value.elts))
        ]
        func = node.func
        if isinstance(func, ast.Attribute) and not node.keywords:
            if func.attr == "options" and node.args and all(_is_loader(a) for a in node.args):
                return func.value
            if func.attr == "unique" and not node.args and self.joined:
                return func.value
        return node


def _is_loader(node: ast.expr) -> bool:
    """`selectinload(A.b)`, `joinedload(A.b).selectinload(B.c)`, `orm.selectinload(...)`."""
    return _loader_name(node) in _LOADERS


def _loader_name(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
