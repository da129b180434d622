"""Retype a dependency factory whose returned `async def` phase one made a plain `def`.

Before::

    def requires_access(method: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
        async def inner(request: Request, session: SessionDep) -> None: ...

        return inner

After::

    def requires_access(method: str) -> Callable[[Request], None]:
        def inner(request: Request, session: SessionDep) -> None: ...

        return inner

`Callable[P, Coroutine[A, B, R]]` and `Callable[P, Awaitable[R]]` become `Callable[P, R]`, also
inside `Optional[...]` or a union with `None` alone (`astcollect/coroutine_returns.py` decides
the form, `phase1/factory_returns.py` which factories); the names only the dropped part used
(`Coroutine`, `Any`) lose their import.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext

from async_migrate.codemods import imports
from async_migrate.codemods.astcollect.coroutine_returns import AWAITABLES
from async_migrate.codemods.definitions import DefinitionCommand
from async_migrate.codemods.vocabulary.python import CALLABLE_TYPES

_UNIONS = frozenset({"typing.Optional", "typing.Union", "typing_extensions.Optional", "typing_extensions.Union"})


class FactoryReturnAnnotations(DefinitionCommand):
    DESCRIPTION = "Retype factories whose returned coroutine functions became `def`."

    def __init__(self, context: CodemodContext, factories: dict[str, dict[str, str]]) -> None:
        """`factories`: definition key -> the module's imports (local name -> reference) of the
        typing names, which tell `Callable` and `Coroutine` however they are imported."""
        super().__init__(context, factories)
        self.factories = factories

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        returns = node.returns
        if returns is None:
            return node
        table = self.factories[key]
        dropped: list[cst.CSTNode] = []
        annotation = _retype(returns.annotation, table, dropped)
        if annotation is returns.annotation:
            return node
        for part in dropped:
            for name in _names(part):
                ref = table.get(name)
                if ref is None:
                    continue
                if ref == name:
                    imports.remove(self.context, name, None)  # only if nothing else uses it
                else:
                    module, _, imported = ref.rpartition(".")
                    imports.remove(self.context, module, imported, None if imported == name else name)
        return node.with_changes(returns=returns.with_changes(annotation=annotation))


def _ref(node: cst.BaseExpression, table: dict[str, str]) -> str | None:
    if isinstance(node, cst.Name):
        return table.get(node.value)
    if isinstance(node, cst.Attribute):
        head = _ref(node.value, table)
        return f"{head}.{node.attr.value}" if head is not None else None
    return None


def _elements(node: cst.Subscript) -> list[cst.BaseExpression] | None:
    found = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index):
            return None
        found.append(element.slice.value)
    return found


def _retype(node: cst.BaseExpression, table: dict[str, str], dropped: list[cst.CSTNode]) -> cst.BaseExpression:
    """The annotation with each `Callable[P, Coroutine[A, B, R]]` in it written `Callable[P, R]`
    (the same node where there is none); what it drops is appended to `dropped`."""
    before = len(dropped)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left, right = _retype(node.left, table, dropped), _retype(node.right, table, dropped)
        return node if len(dropped) == before else node.with_changes(left=left, right=right)
    if not isinstance(node, cst.Subscript):
        return node
    head = _ref(node.value, table)
    if head in _UNIONS:
        changed = [
            e.with_changes(slice=e.slice.with_changes(value=_retype(e.slice.value, table, dropped)))
            if isinstance(e.slice, cst.Index) else e
            for e in node.slice
        ]
        return node if len(dropped) == before else node.with_changes(slice=changed)
    if head not in CALLABLE_TYPES or len(node.slice) != 2:
        return node
    last = node.slice[1]
    awaitable = last.slice.value if isinstance(last.slice, cst.Index) else None
    if not isinstance(awaitable, cst.Subscript):
        return node
    count = AWAITABLES.get(_ref(awaitable.value, table) or "")
    parts = _elements(awaitable)
    if count is None or parts is None or len(parts) != count:
        return node
    dropped.append(awaitable.value)
    dropped.extend(parts[:-1])
    return node.with_changes(slice=[node.slice[0], last.with_changes(slice=cst.Index(parts[-1]))])


def _names(node: cst.CSTNode) -> list[str]:
    """The names an expression reads (an attribute's head, never its attribute)."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        return _names(node.value)
    found: list[str] = []
    for child in node.children:
        found.extend(_names(child))
    return found
