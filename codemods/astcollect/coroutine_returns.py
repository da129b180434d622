"""Whether a function's return annotation says it returns a coroutine function, and in what form.

A dependency factory returning an `async def` (`-> Callable[[Request], Coroutine[Any, Any, None]]`)
keeps that annotation when phase one makes the nested function a plain `def`, and a type checker
then rejects the factory. Phase one retypes the annotation (`phase1/factory_annotations.py`)
where it is written in a form it can rewrite; the others are named so the report can say the
annotation needs a change by hand. The forms, as `facts.Function.coroutine_return` keeps them:

- "callable": `Callable[P, Coroutine[A, B, R]]` or `Callable[P, Awaitable[R]]`;
- "optional": that inside `Optional[...]`, or beside `None` alone in a union;
- "alias:NAME": a name this module binds once to an annotation of one of these forms;
- "imported:REF": a name imported from another module (`REF`, resolved), on a function defining
  an `async def`: the index reads that module's `Module.coroutine_aliases` (`imported`);
- "other:WHY": a coroutine function written otherwise (in a string, beside other types in a union);
- "": none of these (no annotation, or one saying nothing of coroutines).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.astcollect import syntax
from async_migrate.codemods.vocabulary.python import CALLABLE_TYPES

# The awaitable types a coroutine function's return is written with: how many elements the
# subscript has, the last being what awaiting it gives.
AWAITABLES = {
    "typing.Coroutine": 3, "collections.abc.Coroutine": 3, "typing_extensions.Coroutine": 3,
    "typing.Awaitable": 1, "collections.abc.Awaitable": 1, "typing_extensions.Awaitable": 1,
}
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})

Resolve = Callable[[ast.AST], "str | None"]


def shape(node: ast.expr | None, ref: Resolve, constant: Callable[[str], ast.expr | None]) -> str:
    """The form of a return annotation (the module docstring's values). `ref` resolves a name or
    attribute to its reference, `constant` gives what a module-level name is bound to once."""
    if node is None:
        return ""
    if _coroutine_callable(node, ref):
        return "callable"
    members = _union_members(node, ref)
    if members is not None:
        callables = [m for m in members if _coroutine_callable(m, ref)]
        if len(callables) == 1 and all(m is callables[0] or _is_none(m) for m in members):
            return "optional"
        if any(_mentions(m, ref) for m in members):
            return "other:a union of it with other types"
        return ""
    if type(node) is ast.Name:
        bound = constant(node.id)
        if bound is not None and shape(bound, ref, lambda _name: None) not in ("", "alias"):
            return f"alias:{node.id}"
        return ""
    text = syntax.string(node)
    if text is not None:
        try:
            parsed = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            return ""
        return "other:written as a string" if _mentions(parsed, ref) else ""
    return "other:a form phase one does not rewrite" if _mentions(node, ref) else ""


def imported(node: ast.expr, ref: Resolve, constant: Callable[[str], ast.expr | None], module: str) -> str:
    """"imported:REF" for a return annotation that is a name another module binds (an import,
    `types.Check` of an imported module), else ""."""
    if type(node) is not ast.Name and type(node) is not ast.Attribute:
        return ""
    found = ref(node)
    if found is None or "." not in found or found.startswith(f"{module}."):
        return ""
    # asked last: the module's constants are found by a walk of the whole module
    if type(node) is ast.Name and constant(node.id) is not None:
        return ""
    return f"imported:{found}"


def aliases(tree: ast.Module, ref: Resolve, constant: Callable[[str], ast.expr | None]) -> dict[str, str]:
    """`Module.coroutine_aliases`: each module-level name bound to an annotation saying it is a
    coroutine function -> its form (`shape`'s), or "?" where it is bound so that the analysis
    cannot say which annotation it names (more than once, `Check: TypeAlias = ...`, `type Check = ...`)."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if type(statement) is ast.Assign and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif type(statement) is ast.AnnAssign and statement.value is not None:
            target, value = statement.target, statement.value
        elif type(statement).__name__ == "TypeAlias":
            target, value = statement.name, statement.value  # type: ignore[attr-defined]
        else:
            continue
        if type(target) is not ast.Name or not _mentions(value, ref):
            continue
        form = shape(value, ref, lambda _name: None) if constant(target.id) is value else ""
        found[target.id] = form if form and not form.startswith("alias") else "?"
    return found


def _coroutine_callable(node: ast.AST, ref: Resolve) -> bool:
    """`Callable[P, Coroutine[A, B, R]]`, `Callable[P, Awaitable[R]]`."""
    if type(node) is not ast.Subscript or ref(node.value) not in CALLABLE_TYPES:
        return False
    elements = syntax.elements(node.slice)
    if len(elements) != 2 or type(elements[1]) is not ast.Subscript:
        return False
    returned = elements[1]
    count = AWAITABLES.get(ref(returned.value) or "")
    return count is not None and len(syntax.elements(returned.slice)) == count


def _union_members(node: ast.AST, ref: Resolve) -> list[ast.expr] | None:
    """The members of `Optional[X]`, `Union[X, Y]` or `X | Y` (flattened), else None."""
    if type(node) is ast.Subscript and ref(node.value) in _OPTIONAL:
        return [node.slice, ast.Constant(None)]
    if type(node) is ast.Subscript and ref(node.value) in _UNION:
        return syntax.elements(node.slice)
    if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
        left = _union_members(node.left, ref) if type(node.left) is ast.BinOp else None
        right = _union_members(node.right, ref) if type(node.right) is ast.BinOp else None
        return [*(left if left is not None else [node.left]), *(right if right is not None else [node.right])]
    return None


def _is_none(node: ast.AST) -> bool:
    return type(node) is ast.Constant and node.value is None


def _mentions(node: ast.AST, ref: Resolve) -> bool:
    """A callable returning an awaitable anywhere in the annotation, however written."""
    for inner in ast.walk(node):
        if type(inner) is ast.Subscript and ref(inner.value) in CALLABLE_TYPES:
            if any(
                type(part) in (ast.Name, ast.Attribute) and ref(part) in AWAITABLES for part in ast.walk(inner.slice)
            ):
                return True
    return False
