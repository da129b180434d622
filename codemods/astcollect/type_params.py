"""A module-level class's PEP 695 type parameters, read as the TypeVars they stand for.

`class Repository[S: (Session, AsyncSession)]:` reads as `S = TypeVar("S", Session, AsyncSession)`
and `class Repository(Generic[S]):`, the spelling the analysis knows: which Session a subclass's
`self.session` holds is read from what it binds the parameter to (`Repository[AsyncSession]`), and
a generic response model's fields (`class Page[T](BaseModel): items: list[T]`) stand for every type
argument given. Python 3.12's `ast` gives the parameters (`declare_native`); an older one reads the
module through libcst (`newer.readable`). Both name the TypeVars here (`declared`): every parameter
a plain one (no `*Ts`, `**P`, else the class's parameters are dropped); a parameter whose name is
declared otherwise elsewhere in the module (`class Envelope[T: BaseModel]` beside `class Page[T]`)
or bound at module level is declared under a name of its class's own (`_am_Page_T`), renamed in the
class: a module-level `T` would read as one of them in the other's scope.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

TYPING = "_am_typing"

# A module-level class statement that may have type parameters; most modules have none.
MAY_HAVE = re.compile(r"^class[ \t]+\w+[ \t]*\[", re.MULTILINE)
_CLASS_HEAD = re.compile(r"class[ \t]+\w+[ \t]*\[")


def may_have(text: str) -> bool:
    """Whether `MAY_HAVE` matches text: tried only where a line starts with `class`, found by
    substring (its search tries every position of the text, eight times the cost, for each module)."""
    if text.startswith("class") and _CLASS_HEAD.match(text) is not None:
        return True
    at = text.find("\nclass")
    while at != -1:
        if _CLASS_HEAD.match(text, at + 1) is not None:
            return True
        at = text.find("\nclass", at + 6)
    return False


_Key = TypeVar("_Key", bound=Hashable)


@dataclass(frozen=True)
class Parameter:
    name: str
    plain: bool  # a TypeVar; not `*Ts` nor `**P`
    bound: str | None = None  # the code of its bound, or of each constraint
    constraints: tuple[str, ...] | None = None

    def renamed(self, name: str) -> Parameter:
        return Parameter(name, self.plain, self.bound, self.constraints)

    def declaration(self) -> str:
        """The `TypeVar(...)` call it stands for (what tells two declarations of a name apart)."""
        if not self.plain:
            return f"<{self.name} variadic or a ParamSpec>"
        if self.constraints is not None:
            return f'{TYPING}.TypeVar("{self.name}", ' + ", ".join(self.constraints) + ")"
        if self.bound is not None:
            return f'{TYPING}.TypeVar("{self.name}", bound={self.bound})'
        return f'{TYPING}.TypeVar("{self.name}")'


def normal(code: str) -> str:
    """An expression's code in one spelling whichever parser read it."""
    try:
        return ast.unparse(ast.parse(code.strip(), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return code


def declared(
    classes: Sequence[tuple[_Key, str, Sequence[Parameter]]], every: Iterable[Parameter], bound: Iterable[str]
) -> dict[_Key, dict[str, str]]:
    """The module-level `classes` (each with its name and parameters) declared as generic over
    TypeVars, each with the name every parameter is declared under, given `every` type parameter
    of the module and the names its top-level statements bind."""
    declarations: dict[str, set[str]] = {}
    for parameter in every:
        declarations.setdefault(parameter.name, set()).add(parameter.declaration())
    taken = set(bound)
    found: dict[_Key, dict[str, str]] = {}
    for key, name, parameters in classes:
        if not parameters or not all(p.plain for p in parameters):
            continue
        names = {
            p.name: p.name if len(declarations.get(p.name, ())) == 1 and p.name not in taken else f"_am_{name}_{p.name}"
            for p in parameters
        }
        if any(n != p and n in taken | set(declarations) for p, n in names.items()):
            continue
        found[key] = names
    return found


def _parameter(node: ast.AST) -> Parameter:
    name: str = node.name  # type: ignore[attr-defined]
    if type(node).__name__ != "TypeVar":
        return Parameter(name, plain=False)
    bound = node.bound  # type: ignore[attr-defined]
    if bound is None:
        return Parameter(name, plain=True)
    if type(bound) is ast.Tuple:
        return Parameter(name, plain=True, constraints=tuple(ast.unparse(e) for e in bound.elts))
    return Parameter(name, plain=True, bound=ast.unparse(bound))


def _module_names(tree: ast.Module) -> set[str]:
    """Names bound by the module's own top-level statements."""
    names: set[str] = set()
    for statement in tree.body:
        kind = type(statement)
        if kind in (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef):
            names.add(statement.name)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            names.update(n for t in statement.targets for n in _names_in(t))  # type: ignore[attr-defined]
        elif kind in (ast.AnnAssign, ast.AugAssign):
            names.update(_names_in(statement.target))  # type: ignore[attr-defined]
        elif kind.__name__ == "TypeAlias":
            names.add(statement.name.id)  # type: ignore[attr-defined]
        elif kind in (ast.Import, ast.ImportFrom):
            for alias in statement.names:  # type: ignore[attr-defined]
                if alias.name != "*":
                    names.add((alias.asname or alias.name).split(".")[0])
    return names


def _names_in(target: ast.expr) -> list[str]:
    if type(target) is ast.Name:
        return [target.id]
    if type(target) in (ast.Tuple, ast.List):
        return [n for e in target.elts for n in _names_in(e)]  # type: ignore[attr-defined]
    return []


def declare_native(tree: ast.Module) -> None:
    """Python 3.12's reading of `tree`, in place: each declared module-level class's parameters
    become `S = TypeVar(...)` statements above it, at the parameters' own positions (their bounds
    are the nodes written there), and a last `Generic[S, ...]` base."""
    generic = [
        (index, statement.name, [_parameter(p) for p in statement.type_params])  # type: ignore[attr-defined]
        for index, statement in enumerate(tree.body)
        if type(statement) is ast.ClassDef and getattr(statement, "type_params", None)
    ]
    if not generic:
        return
    every = [_parameter(p) for node in ast.walk(tree) for p in getattr(node, "type_params", None) or ()]
    chosen = declared(generic, every, _module_names(tree))
    body: list[ast.stmt] = []
    for index, statement in enumerate(tree.body):
        if index in chosen:
            assert type(statement) is ast.ClassDef
            body += _declarations(statement, chosen[index])
        body.append(statement)
    tree.body = body


def _declarations(cls: ast.ClassDef, names: dict[str, str]) -> list[ast.stmt]:
    parameters = cls.type_params  # type: ignore[attr-defined]
    cls.type_params = []  # type: ignore[attr-defined]
    renamed = {written: name for written, name in names.items() if written != name}
    if renamed:
        _rename(cls, renamed)

    def at(node: ast.AST, where: ast.AST) -> ast.AST:
        for part in ast.walk(node):
            if "lineno" in part._attributes and not hasattr(part, "lineno"):
                ast.copy_location(part, where)
        return node

    first = parameters[0]
    found: list[ast.stmt] = [at(ast.Import(names=[ast.alias(name="typing", asname=TYPING)]), first)]  # type: ignore[list-item]
    for parameter in parameters:
        name = names[parameter.name]
        bound = parameter.bound
        args: list[ast.expr] = [ast.Constant(value=name)]
        keywords: list[ast.keyword] = []
        if type(bound) is ast.Tuple:
            args += bound.elts
        elif bound is not None:
            keywords.append(ast.keyword(arg="bound", value=bound))
        call = ast.Call(
            func=ast.Attribute(value=ast.Name(id=TYPING, ctx=ast.Load()), attr="TypeVar", ctx=ast.Load()),
            args=args, keywords=keywords,
        )
        target = ast.Name(id=name, ctx=ast.Store())
        found.append(at(ast.Assign(targets=[target], value=call, type_comment=None), parameter))  # type: ignore[arg-type]
    listed: list[ast.expr] = [ast.Name(id=names[p.name], ctx=ast.Load()) for p in parameters]
    generic = ast.Subscript(
        value=ast.Attribute(value=ast.Name(id=TYPING, ctx=ast.Load()), attr="Generic", ctx=ast.Load()),
        slice=listed[0] if len(listed) == 1 else ast.Tuple(elts=listed, ctx=ast.Load()), ctx=ast.Load(),
    )
    # PEP 695 makes Generic the last base
    cls.bases.append(at(generic, first))  # type: ignore[arg-type]
    return found


def _rename(cls: ast.ClassDef, renamed: dict[str, str]) -> None:
    """The class's parameters renamed where they are read: its bases, keywords and body, not
    inside a scope with a type parameter of that name of its own."""
    stack: list[tuple[ast.AST, dict[str, str]]] = [
        (node, renamed) for node in (*cls.bases, *cls.keywords, *cls.body)
    ]
    while stack:
        node, names = stack.pop()
        own = {p.name for p in getattr(node, "type_params", None) or ()}
        if own & set(names):
            names = {k: v for k, v in names.items() if k not in own}
        if type(node) is ast.Name and node.id in names:
            node.id = names[node.id]
        elif type(node) is ast.arg and node.arg in names:
            node.arg = names[node.arg]
        if names:
            stack += [(child, names) for child in ast.iter_child_nodes(node)]
