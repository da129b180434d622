"""Syntax newer than the running Python, spelled so that its `ast` reads it.

libcst parses the syntax of every Python up to 3.14, whichever Python runs it. A
module the running `ast` refuses is parsed with libcst and printed again without
what this interpreter lacks, line for line: `type X[T] = v` becomes `X = v`, type
parameters go, `except A, B:` gets its parentheses, a template string becomes an
f-string, and an f-string this parser refuses (PEP 701: quotes reused inside) becomes
a tuple of its expressions. Calls keep their order and every line keeps its number,
except calls written inside type parameters, which are dropped with them.

A module-level class's type parameters are kept as the TypeVars and `Generic[...]` base they
stand for, declared on a blank line above it (`class Repository[S: (Session, AsyncSession)]:`
reads as `S = TypeVar("S", Session, AsyncSession)` and `class Repository(Generic[S]):`): which
Session a subclass's `self.session` holds is read from what it binds the parameter to
(`class TaskRepository(Repository[AsyncSession])`), as for the older spelling. Which classes are
declared so is `type_params`'s decision, shared with Python 3.12's own reading; where there is no
such line they are dropped too.
"""

from __future__ import annotations

import ast
from typing import TypeVar

import libcst as cst

from async_migrate.codemods.astcollect import type_params


def readable(text: str, generics: bool = False) -> str:
    """`text` in the syntax the running Python reads; with `generics`, module-level classes'
    type parameters declared as TypeVars, for the module's facts (a statement read alone keeps
    its own statements only). Raises libcst's ParserSyntaxError when libcst cannot parse it
    either."""
    module = cst.parse_module(text)
    declared = _declared_generics(module) if generics else {}
    if declared:
        # a parameter declared under a name of its class's own is renamed in the class first
        body: list[cst.BaseStatement] = []
        names: dict[cst.ClassDef, dict[str, str]] = {}
        for statement in module.body:
            if isinstance(statement, cst.ClassDef) and statement in declared:
                declared_as = declared[statement][2]
                renamed = _renames(declared_as)
                statement = cst.ensure_type(statement.visit(_Renamed(renamed)), cst.ClassDef) if renamed else statement
                names[statement] = declared_as
            body.append(statement)
        generic = module.with_changes(body=body).visit(_Older(names)).code
        lines = generic.split("\n")
        for line, declarations, _ in declared.values():
            lines[line] = declarations
        if _compiles("\n".join(lines), "exec"):
            return "\n".join(lines)
    return module.visit(_Older()).code


def _renames(names: dict[str, str]) -> dict[str, str]:
    return {written: name for written, name in names.items() if written != name}


class _Renamed(cst.CSTTransformer):
    """A class's type parameters renamed where they are read (its bases, keywords and body), not
    inside a scope with a type parameter of that name of its own."""

    def __init__(self, renamed: dict[str, str]) -> None:
        super().__init__()
        self.scopes: list[dict[str, str]] = []
        self.renamed = renamed

    def _enter(self, node: cst.FunctionDef | cst.ClassDef) -> bool:
        current = self.scopes[-1] if self.scopes else self.renamed
        own = {p.param.name.value for p in node.type_parameters.params} if node.type_parameters and self.scopes else set()
        self.scopes.append({k: v for k, v in current.items() if k not in own})
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self._enter(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return self._enter(node)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        return updated.with_changes(name=original.name)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        return updated.with_changes(name=original.name)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        name = self.scopes[-1].get(updated.value) if self.scopes else None
        return updated.with_changes(value=name) if name is not None else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)


_TYPING = type_params.TYPING


def _declared_generics(module: cst.Module) -> dict[cst.ClassDef, tuple[int, str, dict[str, str]]]:
    """Module-level classes whose type parameters are declared as TypeVars (`type_params.declared`):
    each with the index of the blank line above it (past comments), the declarations written there,
    and the name each parameter is declared under."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    generic = [
        (s, s.name.value, [_parameter(p) for p in s.type_parameters.params])
        for s in module.body if isinstance(s, cst.ClassDef) and s.type_parameters is not None
    ]
    if not generic:
        return {}
    every: list[type_params.Parameter] = []

    class Parameters(cst.CSTVisitor):
        def visit_TypeParam(self, parameter: cst.TypeParam) -> None:
            every.append(_parameter(parameter))

    module.visit(Parameters())
    chosen = type_params.declared(generic, every, _module_names(module))
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = module.code.split("\n")
    found: dict[cst.ClassDef, tuple[int, str, dict[str, str]]] = {}
    taken: set[int] = set()
    for cls, _, parameters in generic:
        if cls not in chosen:
            continue
        first = positions[cls.decorators[0] if cls.decorators else cls].start.line - 1
        line = first - 1
        while line >= 0 and lines[line].strip().startswith("#"):
            line -= 1
        if line < 0 or lines[line].strip() or line in taken:
            continue
        taken.add(line)
        names = chosen[cls]
        found[cls] = (line, f"import typing as {_TYPING}; " + "; ".join(
            f"{names[p.name]} = {p.renamed(names[p.name]).declaration()}" for p in parameters
        ), names)
    return found


def _parameter(parameter: cst.TypeParam) -> type_params.Parameter:
    """What `type_params` compares, in the spelling `ast.unparse` gives on a newer Python."""
    param = parameter.param
    name = param.name.value
    if not isinstance(param, cst.TypeVar):
        return type_params.Parameter(name, plain=False)
    bound = param.bound
    if bound is None:
        return type_params.Parameter(name, plain=True)
    if isinstance(bound, cst.Tuple):
        constraints = tuple(type_params.normal(_code(e.value)) for e in bound.elements)
        return type_params.Parameter(name, plain=True, constraints=constraints)
    return type_params.Parameter(name, plain=True, bound=type_params.normal(_code(bound)))


def _module_names(module: cst.Module) -> set[str]:
    """Names bound by the module's own top-level statements."""
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets: list[cst.BaseExpression] = []
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                    targets = [small.target]
                elif isinstance(small, cst.TypeAlias):
                    names.add(small.name.value)
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        asname = alias.asname.name if alias.asname is not None else None
                        written = asname if isinstance(asname, cst.Name) else alias.name
                        names.add(_code(written).split(".")[0])
                for target in targets:
                    for node in _names_in(target):
                        names.add(node)
    return names


def _names_in(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names_in(e.value)]
    return []


def _compiles(code: str, mode: str = "eval") -> bool:
    """Whether `code` parses as an expression (`mode` "eval") or a module ("exec")."""
    try:
        compile(code, "<string>", mode, flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _as_tuple(node: cst.CSTNode) -> cst.BaseExpression:
    """The expressions inside a string's replacement fields, as a tuple on as many lines."""
    found: list[str] = []

    class Fields(cst.CSTVisitor):
        def visit_FormattedStringExpression(self, field: cst.FormattedStringExpression) -> bool:
            found.append(_code(field.expression))
            return True

        def visit_TemplatedStringExpression(self, field: cst.TemplatedStringExpression) -> bool:
            found.append(_code(field.expression))
            return True

    node.visit(Fields())
    code = "(" + "".join(f"{expression}, " for expression in found)
    code += "\n" * (_code(node).count("\n") - code.count("\n")) + ")"
    return cst.parse_expression(code)


_Handler = TypeVar("_Handler", cst.ExceptHandler, cst.ExceptStarHandler)


class _Older(cst.CSTTransformer):
    def __init__(self, generic: dict[cst.ClassDef, dict[str, str]] | None = None) -> None:
        super().__init__()
        self.generic = generic or {}

    def leave_TypeAlias(self, original: cst.TypeAlias, updated: cst.TypeAlias) -> cst.Assign:
        return cst.Assign([cst.AssignTarget(updated.name)], updated.value, semicolon=updated.semicolon)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        if not updated.type_parameters:
            return updated
        if original not in self.generic:
            return updated.with_changes(type_parameters=None)
        # renamed already where declared under a name of its class's own
        declared = self.generic[original]
        names = [declared.get(p.param.name.value, p.param.name.value) for p in updated.type_parameters.params]
        base = cst.parse_expression(f"{_TYPING}.Generic[{', '.join(names)}]")
        # PEP 695 makes Generic the last base; keywords (`metaclass=`) follow it
        bases = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in (*updated.bases, cst.Arg(base))]
        keywords = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in updated.keywords]
        return updated.with_changes(
            type_parameters=None, bases=bases, keywords=keywords, lpar=cst.LeftParen(), rpar=cst.RightParen()
        )

    def leave_ExceptHandler(self, original: cst.ExceptHandler, updated: cst.ExceptHandler) -> cst.ExceptHandler:
        return self._parenthesised(updated)

    def leave_ExceptStarHandler(
        self, original: cst.ExceptStarHandler, updated: cst.ExceptStarHandler
    ) -> cst.ExceptStarHandler:
        return self._parenthesised(updated)

    def _parenthesised(self, handler: _Handler) -> _Handler:
        kind = handler.type
        if isinstance(kind, cst.Tuple) and not kind.lpar:
            return handler.with_changes(type=kind.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return handler

    def leave_TemplatedString(self, original: cst.TemplatedString, updated: cst.TemplatedString) -> cst.BaseExpression:
        code = _code(updated)
        prefix = updated.start[: -len(updated.end)]
        as_fstring = prefix.replace("t", "f").replace("T", "f") + code[len(prefix) :]
        return cst.parse_expression(as_fstring) if _compiles(as_fstring) else _as_tuple(updated)

    def leave_FormattedString(self, original: cst.FormattedString, updated: cst.FormattedString) -> cst.BaseExpression:
        return updated if _compiles(_code(updated)) else _as_tuple(updated)

    def leave_ConcatenatedString(
        self, original: cst.ConcatenatedString, updated: cst.ConcatenatedString
    ) -> cst.BaseExpression:
        # a part that became a tuple cannot stay in a concatenation (`"a" (x,)` is a call)
        if isinstance(updated.left, cst.Tuple) or isinstance(updated.right, cst.Tuple):
            return _as_tuple(original)
        return updated
