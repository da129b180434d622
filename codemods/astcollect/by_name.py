"""Names looked up at run time on a module object or a module's globals, read on `ast`.

`vars(crud)[name]`, `crud.__dict__.get(name)`, `getattr(crud, name)`, `attrgetter(name)(crud)`,
`getattr(importlib.import_module("app.crud"), name)`, `globals()[name]`,
`pkgutil.resolve_name(ref)`: which function runs is decided at run time, so each function the
object holds may be called from there (`facts.Module.by_name`;
`codemods.phase2.closure.value_references` reads it).

A string spelling a function's full dotted path (`"app.services.stock:adjust_stock"`,
`"app.jobs.purge"`) is how schedulers and task queues name what they run
(`pkgutil.resolve_name`, APScheduler's `add_job`, RQ's `enqueue`): `dotted_strings` gives
each such reference, added to `facts.Module.references` as a name used as a value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from async_migrate.codemods.astcollect.syntax import CODE_FIELDS, code_fields

UNKNOWN = "?"  # `import_module(name)`: a module the tool cannot name

# Bare names too: imported inside a function body, which the module's imports do not resolve.
_IMPORTERS = frozenset({"importlib.import_module", "import_module", "importlib.__import__", "__import__"})
_GETTERS = frozenset({"operator.attrgetter", "operator.methodcaller", "attrgetter", "methodcaller"})
# `pkgutil.resolve_name("pkg.mod:func")`: a string the caller builds names any module's function.
_RESOLVERS = frozenset({"pkgutil.resolve_name", "resolve_name"})
_WORDS = (
    "vars", "__dict__", "getattr", "globals", "import_module", "__import__", "attrgetter", "methodcaller",
    "resolve_name",
)
_IDENTIFIER = r"[A-Za-z_]\w*"
# `pkg.mod:func`, `pkg.mod:Class.method` (pkgutil's and the entry points' form) or `pkg.mod.func`.
DOTTED = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*(?::{_IDENTIFIER}(?:\.{_IDENTIFIER})*|\.{_IDENTIFIER})")
_QUOTED_DOTTED = re.compile(rf"[\"']{DOTTED.pattern}[\"']")


def lookups(
    text: str, tree: ast.Module, resolve: Callable[[ast.AST], str | None], own: str
) -> list[tuple[str, str]]:
    """(resolved object, the lookup as written) for each run-time lookup in `tree`; `resolve`
    gives a dotted expression's absolute reference, `own` is the module's name (for `globals()`)."""
    if not any(word in text for word in _WORDS):  # most modules: no second walk of the tree
        return []
    imported: dict[str, set[str]] = {}  # `mod = import_module("app.crud")`, any scope: over-approximated
    # One walk: the lookups are read once every such assignment is known.
    candidates: list[ast.AST] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call or (kind is ast.Attribute and node.attr == "__dict__"):  # type: ignore[attr-defined]
            candidates.append(node)
        elif kind is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            module = _imported(node.value, resolve)  # type: ignore[attr-defined]
            if module is not None:
                imported.setdefault(node.targets[0].id, set()).add(module)  # type: ignore[attr-defined]
    found: list[tuple[str, str]] = []

    def objects(node: ast.AST) -> list[str]:
        module = _imported(node, resolve)
        if module is not None:
            return [module]
        if type(node) is ast.Name and node.id in imported:
            return sorted(imported[node.id])
        ref = resolve(node)
        return [ref] if ref is not None else []

    def add(node: ast.AST, form: str) -> None:
        for ref in objects(node):
            if (ref, form.format(ref)) not in found:
                found.append((ref, form.format(ref)))

    for node in candidates:
        if type(node) is ast.Attribute and node.attr == "__dict__":
            add(node.value, "{}.__dict__")
        if type(node) is not ast.Call:
            continue
        callee = resolve(node.func) if type(node.func) is not ast.Call else None
        if callee == "vars" and node.args:
            add(node.args[0], "vars({})")
        elif callee == "getattr" and len(node.args) >= 2 and not _constant(node.args[1]):
            add(node.args[0], "getattr({}, ...)")
        elif callee == "globals" and (own, "globals()") not in found:
            found.append((own, "globals()"))
        elif callee in (_IMPORTERS | _RESOLVERS) and node.args and not _constant(node.args[0]):
            spelled = f"{callee}(...)"
            if (UNKNOWN, spelled) not in found:
                found.append((UNKNOWN, spelled))
        elif type(node.func) is ast.Call and resolve(node.func.func) in _GETTERS:
            for argument in node.args:
                add(argument, "attrgetter(...)({})")
    return found


def dotted_strings(text: str, tree: ast.Module) -> list[str]:
    """The absolute references (`app.services.stock.adjust_stock`) the string constants of `tree`
    spell whole, in either form `DOTTED` reads; whether one names a project function is the
    project's to say (`Project.function`), so a version number or a host name costs nothing."""
    if _QUOTED_DOTTED.search(text) is None:  # most modules: no second walk of the tree
        return []
    found: dict[str, None] = {}
    # Breadth first, in the order `ast.walk` meets the constants (the references' order), over
    # the fields that hold code only: `ast.walk` costs several times this on a whole module.
    queue: list[ast.AST] = [tree]
    for node in queue:  # the loop reads what it appends
        kind = type(node)
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is str and DOTTED.fullmatch(value):
                found.setdefault(value.replace(":", "."), None)
            continue
        if kind is ast.Name:
            continue
        for field in CODE_FIELDS.get(kind) or code_fields(kind):
            value = getattr(node, field, None)
            if type(value) is list:
                queue.extend([item for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST):
                queue.append(value)
    return list(found)


def _constant(node: ast.AST) -> bool:
    return type(node) is ast.Constant and isinstance(node.value, str)


def _imported(node: ast.AST, resolve: Callable[[ast.AST], str | None]) -> str | None:
    """The module `importlib.import_module("app.crud")` names; None for any other expression."""
    if (type(node) is ast.Call and resolve(node.func) in _IMPORTERS and node.args
            and _constant(node.args[0]) and not node.args[0].value.startswith(".")):  # type: ignore[attr-defined]
        return node.args[0].value  # type: ignore[attr-defined]
    return None
