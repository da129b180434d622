"""Names a rewrite binds twice at a module's top level: an import phase two adds
(`from app.db import get_async_db_session`, `AsyncSession`, `select`) or a twin it writes
(`async def count_async`) beside a definition,
assignment, other import or `global` write of the same name in the module. Whichever runs
last wins, so the migrated code (or the module's own) would use the other object: a route
depending on a string, an annotation that is not AsyncSession. Read by the self-check."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Binding:
    """One top-level binding of `name`; two imports of the same object share `identity`."""

    name: str
    identity: tuple[object, ...]
    what: str  # `def x`, `x = ...`, `from m import x`
    line: int


@dataclass(frozen=True, slots=True)
class Clash:
    """A name the rewrite imports (`added`) that the module also binds otherwise (`others`)."""

    name: str
    added: Binding
    others: tuple[Binding, ...]
    # `others` were added by the rewrite too (the module bound the name no way at all): two
    # imports of its own disagree, which no renaming in the module can settle
    own: bool = False


def clashes(before: list[ast.stmt], after: list[ast.stmt]) -> list[Clash]:
    """Names an import or a definition the rewrite added binds, where the rewritten module binds the name
    otherwise too and the original bound it fewer distinct ways: a clash the rewrite made."""
    old = _by_name(bindings(before))
    found: list[Clash] = []
    for name, bound in sorted(_by_name(bindings(after)).items()):
        distinct = _distinct(bound)
        if len(distinct) < 2 or len(distinct) <= len(_distinct(old.get(name, []))):
            continue
        known = {b.identity for b in old.get(name, [])}
        added = [b for b in distinct if b.identity[0] == "import" and b.identity not in known]
        if not added:
            # A definition the rewrite wrote (an async twin) beside the module's own binding of
            # its name: the definitions' lines moved, so they are counted by what they bind.
            written = [b.what for b in _distinct(old.get(name, []))]
            added = [b for b in distinct if b.what.startswith(_DEFINITIONS) and not _take(written, b.what)]
        if not added:
            continue
        others = tuple(b for b in distinct if b is not added[0])
        # the module's own bindings as the original wrote them (their lines are the user's)
        mine = tuple(b for b in _distinct(old.get(name, [])) if b.identity != added[0].identity)
        found.append(Clash(name, added[0], mine or others, own=not mine))
    return found


_DEFINITIONS = ("def ", "async def ", "class ")


def _take(written: list[str], what: str) -> bool:
    """Whether `what` is among `written`, taking it out so each counts once."""
    if what in written:
        written.remove(what)
        return True
    return False


def users(after: list[ast.stmt], name: str) -> list[str]:
    """Qualified names of the top-level functions and methods reading `name` (in their body,
    defaults, annotations or decorators)."""
    found: list[str] = []

    def visit(body: list[ast.stmt], scope: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f"{scope}{node.name}"
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
                    found.append(qualname)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{scope}{node.name}.")

    visit(after, "")
    return found


# The fields holding statements (or the handlers and cases holding them), in `_fields` order.
_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def bindings(body: list[ast.stmt], walrus: bool = True) -> list[Binding]:
    """Every binding of a module's top level, through `if`, `try`, `with`, `for` and `while`
    blocks, and the names functions write after declaring them `global`. `walrus`: the module may
    hold an assignment expression (its text writes `:=`); most do not, and then no statement's
    expressions are walked for one."""
    found: list[Binding] = []
    for statement in _top_statements(body):
        found.extend(_statement_bindings(statement, walrus))
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    declares = False
    # `ast.walk`'s order over the statements alone: no expression holds a `def` or a `global`.
    statements: list[ast.AST] = list(body)
    index = 0
    while index < len(statements):
        node = statements[index]
        index += 1
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        elif isinstance(node, ast.Global):
            declares = True
        for field in _BLOCKS:
            inner = getattr(node, field, None)
            if inner:
                statements.extend(inner)
    # A function writes a module's name only after declaring it `global`, which most modules never
    # do: then no function's body need be walked again (scan asks this of every module it twins into).
    if declares:
        for function in functions:
            found.extend(_global_writes(function))
    return found


def _top_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for statement in body:
        found.append(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            found.extend(_top_statements(getattr(statement, field, None) or []))
        for handler in getattr(statement, "handlers", None) or []:
            found.append(handler)
            found.extend(_top_statements(handler.body))
    return found


def _statement_bindings(statement: ast.AST, walrus: bool = True) -> list[Binding]:
    line = getattr(statement, "lineno", 0)
    if isinstance(statement, ast.Import):
        return [
            Binding(
                (alias.asname or alias.name.partition(".")[0]),
                ("import", 0, alias.name if alias.asname else alias.name.partition(".")[0], ""),
                f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""), line,
            )
            for alias in statement.names
        ]
    if isinstance(statement, ast.ImportFrom):
        home = "." * statement.level + (statement.module or "")
        return [
            Binding(
                alias.asname or alias.name, ("import", statement.level, statement.module or "", alias.name),
                f"from {home} import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""), line,
            )
            for alias in statement.names if alias.name != "*"
        ]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        keyword = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class"}[type(statement)]
        return [Binding(statement.name, ("own", line, statement.name), f"{keyword} {statement.name}", line)]
    if isinstance(statement, ast.ExceptHandler):
        return [Binding(statement.name, ("own", line, statement.name), f"except ... as {statement.name}", line)] \
            if statement.name else []
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and getattr(statement, "value", None) is not None:
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    if walrus and isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)):
        names += [n.target.id for n in ast.walk(statement) if isinstance(n, ast.NamedExpr)
                  and isinstance(n.target, ast.Name)]
    return [Binding(name, ("own", line, name), f"{name} = ...", line) for name in dict.fromkeys(names)]


def _global_writes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[Binding]:
    declared = {name for node in ast.walk(function) if isinstance(node, ast.Global) for name in node.names}
    if not declared:
        return []
    found: list[Binding] = []
    for node in ast.walk(function):
        written, line = None, 0
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            written, line = node.id, node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not function:
            written, line = node.name, node.lineno
        if written is not None and written in declared:
            found.append(Binding(
                written, ("own", line, written), f"global {written}; {written} = ... in {function.name}()", line
            ))
    return found


def _by_name(found: list[Binding]) -> dict[str, list[Binding]]:
    grouped: dict[str, list[Binding]] = {}
    for binding in found:
        grouped.setdefault(binding.name, []).append(binding)
    return grouped


def _distinct(found: list[Binding]) -> list[Binding]:
    """One binding per identity: the same object imported twice binds the name once."""
    return list({b.identity: b for b in reversed(found)}.values())[::-1]


def describe(clash: Clash) -> str:
    if clash.own:
        others = ", ".join(f"`{b.what}`" for b in clash.others)
        return (
            f"the rewrite would import `{clash.name}` from two places: `{clash.added.what}` and {others}, "
            "neither of them in the module before; whichever runs last wins, so some migrated code "
            "would use the other object. This is phase two's own inconsistency, not the module's: "
            "nothing in the module needs renaming; please report it"
        )
    others = ", ".join(f"`{b.what}` (line {b.line})" for b in clash.others)
    verb = "imports" if clash.added.identity[0] == "import" else "defines"
    return (
        f"the rewrite {verb} `{clash.name}` (`{clash.added.what}`), but the module binds "
        f"`{clash.name}` itself too: {others}; whichever runs last wins, so the migrated code or "
        "the module's own would use the other object. Rename the module's own, or name the "
        "tool's otherwise (the stack's names are settings: async-engine, async-sessionmaker, "
        "async-dependency, async-alias)"
    )
