"""Names looked up at run time on a module object or a module's globals, read on `ast`.

`vars(crud)[name]`, `crud.__dict__.get(name)`, `getattr(crud, name)`, `attrgetter(name)(crud)`,
`getattr(importlib.import_module("app.crud"), name)`, `globals()[name]`,
`pkgutil.resolve_name(ref)`: which function runs is decided at run time, so each function the
object holds may be called from there (`facts.Module.by_name`;
`codemods.phase2.closure.value_references` reads it). A module object bound to a name first
(`mod = import_module("app.crud")`, `sys.modules["app.crud"]`) may be called on by any
attribute, so each of its functions counts likewise; read directly
(`import_module("app.crud").add(db)`), it is an ordinary call (`module_attribute`).

A string spelling a function's full dotted path (`"app.services.stock:adjust_stock"`,
`"app.jobs.purge"`) is how schedulers and task queues name what they run
(`pkgutil.resolve_name`, APScheduler's `add_job`, RQ's `enqueue`): `dotted_strings` gives
each such reference, added to `facts.Module.references` as a name used as a value.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable

from async_migrate.codemods.astcollect.syntax import CODE_FIELDS, code_fields

UNKNOWN = "?"  # `import_module(name)`: a module the tool cannot name

# Bare names too: imported inside a function body, which the module's imports do not resolve.
_IMPORTERS = frozenset({"importlib.import_module", "import_module", "importlib.__import__", "__import__"})
_MODULE_TABLES = frozenset({"sys.modules"})
_GETTERS = frozenset({"operator.attrgetter", "operator.methodcaller", "attrgetter", "methodcaller"})
# `pkgutil.resolve_name("pkg.mod:func")`: a string the caller builds names any module's function.
_RESOLVERS = frozenset({"pkgutil.resolve_name", "resolve_name"})
_WORDS = (
    "vars", "__dict__", "getattr", "globals", "import_module", "__import__", "attrgetter", "methodcaller",
    "resolve_name",
)
# `sys.modules[...]`: only whitespace, closing parentheses, line continuations and comments may
# stand between the name and its subscript; the bare word is common in names and comments.
_MODULE_TABLE_SUBSCRIPT = re.compile(r"modules(?:[\s)\\]|#[^\n]*)*\[")
_IDENTIFIER = r"[A-Za-z_]\w*"
# `pkg.mod:func`, `pkg.mod:Class.method` (pkgutil's and the entry points' form) or `pkg.mod.func`.
DOTTED = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*(?::{_IDENTIFIER}(?:\.{_IDENTIFIER})*|\.{_IDENTIFIER})")
_QUOTED_DOTTED = re.compile(rf"[\"']{DOTTED.pattern}[\"']")


def lookups(
    text: str, tree: ast.Module, resolve: Callable[[ast.AST], str | None], own: str
) -> list[tuple[str, str]]:
    """(resolved object, the lookup as written) for each run-time lookup in `tree`; `resolve`
    gives a dotted expression's absolute reference, `own` is the module's name (for `globals()`)."""
    if not any(word in text for word in _WORDS) and _MODULE_TABLE_SUBSCRIPT.search(text) is None:
        # most modules: no second walk of the tree
        return []
    imported: dict[str, set[str]] = {}  # `mod = import_module("app.crud")`, any scope: over-approximated
    # One walk: the lookups are read once every such assignment is known.
    candidates: list[ast.AST] = []
    named: list[ast.AST] = []  # `mod.add`: an attribute of a name, which may hold a module object
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call or (kind is ast.Attribute and node.attr == "__dict__"):  # type: ignore[attr-defined]
            candidates.append(node)
        elif kind is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            module = _imported(node.value, resolve)  # type: ignore[attr-defined]
            if module is not None:
                imported.setdefault(node.targets[0].id, set()).add(module)  # type: ignore[attr-defined]
        elif kind is ast.Attribute and type(node.value) is ast.Name:  # type: ignore[attr-defined]
            named.append(node)
    found: list[tuple[str, str]] = []

    def objects(node: ast.AST) -> list[str]:
        module = _imported(node, resolve)
        if module is not None:
            return [module]
        if type(node) is ast.Name and node.id in imported:
            return sorted(imported[node.id])
        ref = resolve(node)
        return [ref] if ref is not None else []

    def add_once(ref: str, spelled: str) -> None:
        if (ref, spelled) not in found:
            found.append((ref, spelled))

    def add(node: ast.AST, form: str) -> None:
        for ref in objects(node):
            add_once(ref, form.format(ref))

    for node in named:
        for module in sorted(imported.get(node.value.id, ())):  # type: ignore[attr-defined]
            add_once(module, f"{node.value.id} = {_spelled(module)}")  # type: ignore[attr-defined]
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


def module_attribute(func: ast.AST, resolve: Callable[[ast.AST], str | None]) -> str | None:
    """`app.crud.add` for `importlib.import_module("app.crud").add` or `sys.modules["app.crud"].add`
    (any depth of attributes), the absolute reference a call on it runs; None for anything else."""
    parts: list[str] = []
    while type(func) is ast.Attribute:
        parts.append(func.attr)
        func = func.value
    module = _imported(func, resolve) if parts else None
    return sys.intern(".".join([module, *reversed(parts)])) if module is not None else None


def _spelled(module: str) -> str:
    return f'import_module("{module}")'


def _imported(node: ast.AST, resolve: Callable[[ast.AST], str | None]) -> str | None:
    """The module `importlib.import_module("app.crud")` or `sys.modules["app.crud"]` names; None
    for any other expression (a relative name among them: its package is the caller's to say)."""
    if isinstance(node, ast.Call) and node.args and resolve(node.func) in _IMPORTERS:
        name = node.args[0]
    elif isinstance(node, ast.Subscript) and resolve(node.value) in _MODULE_TABLES:
        name = node.slice
    else:
        return None
    if isinstance(name, ast.Constant) and isinstance(name.value, str) and not name.value.startswith("."):
        return name.value
    return None
