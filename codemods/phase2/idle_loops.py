"""Event loops a migrated function no longer uses.

`loop = asyncio.get_running_loop()` was there for `await loop.run_in_executor(None, crud.f,
db)`, which phase two writes `await crud.f(db)`: left, the assignment is dead code, and the
`asyncio` import may be too. The assignment is dropped only where the name has no other use in
the function (`loop.time()`, a second `run_in_executor` on it, a nested function reading it
keep it), and the import only where nothing else in the module uses it (`imports.remove`).
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

_GETTERS = ("get_running_loop", "get_event_loop")

# the import a getter is read through: (module, name or None for the module, as-name)
Import = tuple[str, str | None, str | None]


def loop_getters(tree: cst.Module) -> dict[str, Import]:
    """How the module's top level spells asyncio's loop getters (`asyncio.get_running_loop`,
    `aio.get_event_loop`, `get_running_loop`), each with the import it is read through."""
    found: dict[str, Import] = {}
    for statement in tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for item in statement.body:
            if isinstance(item, cst.Import):
                for alias in item.names:
                    if get_full_name_for_node(alias.name) != "asyncio":
                        continue
                    local = alias.evaluated_alias or "asyncio"
                    for getter in _GETTERS:
                        found[f"{local}.{getter}"] = ("asyncio", None, alias.evaluated_alias)
            elif (
                isinstance(item, cst.ImportFrom) and item.relative == () and item.module is not None
                and get_full_name_for_node(item.module) == "asyncio" and not isinstance(item.names, cst.ImportStar)
            ):
                for alias in item.names:
                    if alias.evaluated_name in _GETTERS:
                        local = alias.evaluated_alias or alias.evaluated_name
                        found[local] = ("asyncio", alias.evaluated_name, alias.evaluated_alias)
    return found


def drop_idle_loops(
    before: cst.BaseSuite, after: cst.BaseSuite, getters: dict[str, Import]
) -> tuple[cst.BaseSuite, list[Import]]:
    """`after` (the rewritten body of the function `before` was) without the assignments of a loop
    getter to a name `run_in_executor` was called on in `before` and nothing reads in `after`;
    with the imports those assignments read, for the caller to drop where they are then unused."""
    if not getters:
        return after, []
    idle = _executor_loops(before) - _executor_loops(after)
    if not idle:
        return after, []
    reads = _Reads(idle)
    after.visit(reads)
    dropping = {name for name in idle if reads.uses.get(name, 0) == reads.assigned.get(name, 0) > 0}
    dropping -= reads.declared
    if not dropping:
        return after, []
    dropper = _Drop(dropping, getters)
    result = after.visit(dropper)
    assert isinstance(result, cst.BaseSuite)
    return result, sorted(dropper.read, key=str)


def _executor_loops(suite: cst.BaseSuite) -> set[str]:
    """The names `run_in_executor` is called on (`loop.run_in_executor(...)`)."""
    found: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor" and isinstance(
                func.value, cst.Name
            ):
                found.add(func.value.value)

    suite.visit(Calls())
    return found


class _Reads(cst.CSTVisitor):
    """How often each name appears, how often as the one target of a plain assignment, and
    which a `global` or `nonlocal` statement declares (bound outside: never dropped)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.uses: dict[str, int] = {}
        self.assigned: dict[str, int] = {}
        self.declared: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.uses[node.value] = self.uses.get(node.value, 0) + 1

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            if name in self.names:
                self.assigned[name] = self.assigned.get(name, 0) + 1

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared.update(item.name.value for item in node.names)


class _Drop(cst.CSTTransformer):
    """Statements `name = <getter>()` of the names given, out of blocks they do not leave empty."""

    def __init__(self, names: set[str], getters: dict[str, Import]) -> None:
        self.names = names
        self.getters = getters
        self.read: set[Import] = set()

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        kept = [statement for statement in updated.body if self._getter(statement) is None]
        if not kept or len(kept) == len(updated.body):
            return updated
        self.read.update(
            found for statement in updated.body if (found := self._getter(statement)) is not None
        )
        return updated.with_changes(body=kept)

    def _getter(self, statement: cst.BaseStatement) -> Import | None:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return None
        target, value = assign.targets[0].target, assign.value
        if not isinstance(target, cst.Name) or target.value not in self.names:
            return None
        if not isinstance(value, cst.Call) or value.args:
            return None
        return self.getters.get(get_full_name_for_node(value.func) or "")
