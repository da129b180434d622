"""Places naming a method's name that cannot be the method of a class holding the Session.

A method read without being called (`callbacks = [repo.get]`) may run where the analysis cannot
see, so phase two keeps its synchronous original (`methods.value_uses`). That is read from the
source text by the method's name alone, so `item.name` on a row a repository returned,
`select(Item.name)` on a model, or a local `name` handed on (`service.add(name)`) counted as the
method `name` handed on: the method got a twin (its class a parallel copy) beside an original
calling what moved in place, which the self-check refuses. Here such a place is dropped when
every `.name` read on the line is read on what the value flow knows: what a Session call
returned (a row, a mapped object, a scalar), or an instance or a class of the project that is
neither the method's class nor of its hierarchy; and every bare `name` on it is inside a
function, where it is a local or a global. A receiver the flow cannot tell, a bare name in a
class body (`find = name`), `getattr`, or module-level code keeps the place.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import cast

from async_migrate.codemods.flow import CLASS, INSTANCE, RESULT
from async_migrate.codemods.project import FunctionId, Project


def drop_reads(
    project: Project, fid: FunctionId, read: Callable[[str], str] | None, places: list[str]
) -> list[str]:
    """`places` (`path:line`) less those where every uncalled `.name` of method `fid` reads an
    attribute of a value that cannot be its class's instance."""
    if read is None or not places:
        return places
    name = project.functions[fid][1].name
    owner = project.flow.classes.owner(fid)
    if owner is None:
        return places
    uncalled = re.compile(rf"\.{re.escape(name)}\b(?!\s*\()")
    kept = []
    for place in places:
        path, _, number = place.rpartition(":")
        if not number.isdigit() or not _only_reads(project, read, path, int(number), name, owner, uncalled):
            kept.append(place)
    return kept


def _only_reads(
    project: Project, read: Callable[[str], str], path: str, line: int, name: str, owner: str, uncalled: re.Pattern[str]
) -> bool:
    try:
        text = read(path)
    except OSError:
        return False
    lines = text.splitlines()
    if line > len(lines):
        return False
    code = _STRING.sub('""', lines[line - 1].split("#", 1)[0])
    if "getattr" in code:
        return False  # `getattr(obj, "name")`
    found = _reads_on(project, path, text, line, name)
    if found is None or len(found) != len(uncalled.findall(code)):
        return False
    classes = project.flow.classes

    def other(target: object) -> bool:
        """A project class that is neither the method's class nor of its hierarchy."""
        ref = str(target)
        return target is not None and ref in classes.by_ref and owner not in classes.mro(ref) and (
            ref not in classes.mro(owner)
        )

    for fid, expression in found:
        values = project.flow.evaluate(fid, expression)
        if not values and (cls := _imported_class(project, fid, expression)) is not None:
            if not other(cls):
                return False
            continue  # `select(Item.name)`: a column of a model the module imports
        if not values or not all(
            v.kind == RESULT or (v.kind in (INSTANCE, CLASS) and other(v.target)) for v in values
        ):
            return False
    return True


def _imported_class(project: Project, fid: FunctionId, expression: str) -> str | None:
    """The project class a bare name the function does not bind names (`Item` imported from
    `models`, or defined in its module): `$Item` where the flow has no value for it."""
    name = expression.removeprefix("$")
    module, function = project.functions[fid]
    if not name.isidentifier() or any(p.name == name for p in function.params):
        return None
    return project.flow.classes.resolve(module.imports.get(name, f"{module.name}.{name}"))


_STRING = re.compile(r"([\"'])(?:\\.|(?!\1).)*\1")  # a one-line string literal's quotes and text


def _reads_on(project: Project, path: str, text: str, line: int, name: str) -> list[tuple[FunctionId, str]] | None:
    """(function, receiver in the flow's notation) for each uncalled `.name` ending on `line`;
    None where one is outside a function the project knows or its receiver cannot be spelled, or
    where the bare name is written outside one (`find = name` in a class body): inside a function
    a bare `name` is a local or a global, never the method."""
    tree = _tree(project, path, text)
    if tree is None:
        return None
    functions = _functions(project, path)
    found: list[tuple[FunctionId, str]] = []
    called: set[int] = set()

    def visit(node: ast.AST, qualname: str | None) -> bool:
        for child in ast.iter_child_nodes(node):
            inner = qualname
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{qualname}.{child.name}" if qualname else child.name
            if isinstance(child, ast.Call):
                called.add(id(child.func))
            if isinstance(child, ast.Name) and child.id == name and child.lineno == line and (
                qualname is None or qualname not in functions
            ):
                return False  # `find = name` in a class body; in a function the name is a local or global
            if (
                isinstance(child, ast.Attribute) and child.attr == name and child.end_lineno == line
                and id(child) not in called
            ):
                fid = functions.get(qualname or "")
                receiver = _spelled(child.value)
                if fid is None or receiver is None or not isinstance(child.ctx, ast.Load):
                    return False
                found.append((fid, receiver))
            if not visit(child, inner):
                return False
        return True

    return found if visit(tree, None) else None


def _spelled(node: ast.expr) -> str | None:
    """`$self.uow.items.get()` for `self.uow.items.get(id_)` (awaited or not); None for the rest."""
    if isinstance(node, ast.Await):
        return _spelled(node.value)
    if isinstance(node, ast.Name):
        return f"${node.id}"
    if isinstance(node, ast.Attribute):
        head = _spelled(node.value)
        return None if head is None else f"{head}.{node.attr}"
    if isinstance(node, ast.Call):
        head = _spelled(node.func)
        return None if head is None else f"{head}()"
    return None


def _tree(project: Project, path: str, text: str) -> ast.Module | None:
    trees = cast("dict[str, ast.Module | None]", project.derived.setdefault("phase2.attribute_read_trees", {}))
    if path not in trees:
        try:
            trees[path] = ast.parse(text)
        except SyntaxError:
            trees[path] = None
    return trees[path]


def _functions(project: Project, path: str) -> dict[str, FunctionId]:
    table = cast(
        "dict[str, dict[str, FunctionId]] | None", project.derived.get("phase2.attribute_read_functions")
    )
    if table is None:
        table = {}
        for fid, (module, function) in project.functions.items():
            table.setdefault(module.path, {})[function.qualname] = fid
        project.derived["phase2.attribute_read_functions"] = table
    return table.get(path, {})
