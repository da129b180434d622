"""A refresh naming attributes (`db.refresh(book, ["title"])`) after a commit, and whether it covers the reads that follow.

`refresh(obj, attribute_names=[...])` loads only the attributes it names. After a commit that
expired the object (or that the synchronous side reloaded from), a read of one of those is fresh;
a read of any other attribute is not (stale where the async Session keeps objects, implicit IO
where it expires them). `expired_reads` asks here before it plans a refresh or blocks, so that it
neither asks for a refresh the code already has nor takes a partial one for a whole one.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass

from async_migrate.codemods import facts


@dataclass(frozen=True, slots=True)
class Partial:
    """The last refresh of `name` naming attributes after the commit: its line, the attributes it
    loads, and the first use of `name` it leaves uncovered ('' when it covers every one)."""

    line: int
    attributes: tuple[str, ...]
    uncovered: str = ""

    def note(self, name: str) -> str:
        loaded = ", ".join(f"`{a}`" for a in self.attributes)
        remedy = (
            "move that refresh up to the commit" if self.uncovered.endswith("before it")
            else "name that attribute there too" if self.uncovered.startswith(f"`{name}.") else "refresh it whole"
        )
        return (
            f"`{name}` is refreshed at line {self.line} with attribute_names {loaded} only, and {self.uncovered}: "
            f"{remedy}"
        )


def is_partial(call: facts.Call) -> bool:
    """`db.refresh(order, ["items"])`: only the attributes named are loaded. After a synchronous
    commit the others reloaded when read; under AsyncSession a column the database computes (a
    `column_property`, a server default) stays unloaded, and reading it raises MissingGreenlet."""
    return any(a.position == 1 or a.keyword == "attribute_names" for a in call.args)


def partial_refresh(
    node: ast.FunctionDef | ast.AsyncFunctionDef | None, name: str, after: int, sessions: Collection[str]
) -> Partial | None:
    """The refresh of `name` on one of `sessions` (as written: `db`, `self.db`) naming its
    attributes (a list, tuple or set of strings, second argument or `attribute_names=`) as a
    statement after line `after`; None when there is none, or its names are not all literals.

    It covers the function when every use of `name` after the commit is a read (or write) of an
    attribute it names, after it: a use between the commit and the refresh, a bare use (handed to
    a call, returned, bound to another name) or another attribute is uncovered."""
    if node is None:
        return None
    found: tuple[ast.Call, tuple[str, ...]] | None = None
    for child in ast.walk(node):
        if not isinstance(child, ast.Call) or child.lineno <= after:
            continue
        attributes = named_attributes(child, name, sessions)
        if attributes is not None and (found is None or child.lineno > found[0].lineno):
            found = child, attributes
    if found is None:
        return None
    refresh, attributes = found
    given = refresh.args[0] if refresh.args else next(k.value for k in refresh.keywords if k.arg == "instance")
    uses: list[tuple[int, int, str]] = []
    attribute_of = {id(a.value): a for a in ast.walk(node) if isinstance(a, ast.Attribute)}
    for child in ast.walk(node):
        if not isinstance(child, ast.Name) or child.id != name or child.lineno <= after or child is given:
            continue
        read = attribute_of.get(id(child))
        if child.lineno < refresh.lineno:
            uses.append((child.lineno, child.col_offset, f"`{name}` is used at line {child.lineno}, before it"))
        elif read is None:
            uses.append((child.lineno, child.col_offset, f"`{name}` itself is used at line {child.lineno}"))
        elif read.attr not in attributes:
            uses.append((child.lineno, child.col_offset, f"`{name}.{read.attr}` is read at line {child.lineno}"))
    return Partial(refresh.lineno, attributes, min(uses)[2] if uses else "")


def named_attributes(call: ast.Call, name: str, sessions: Collection[str]) -> tuple[str, ...] | None:
    """The attribute names of `session.refresh(name, [...])`, when `call` is one, all literals."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "refresh" and ast.unparse(func.value) in sessions):
        return None
    target = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "instance"), None)
    if not (isinstance(target, ast.Name) and target.id == name):
        return None
    listed = call.args[1] if len(call.args) > 1 else next(
        (k.value for k in call.keywords if k.arg == "attribute_names"), None
    )
    if not isinstance(listed, (ast.List, ast.Tuple, ast.Set)) or not listed.elts:
        return None
    names = [e.value for e in listed.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return tuple(names) if len(names) == len(listed.elts) else None
