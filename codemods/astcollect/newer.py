"""Syntax newer than the running Python, spelled so that its `ast` reads it.

libcst parses the syntax of every Python up to 3.14, whichever Python runs it. A
module the running `ast` refuses is parsed with libcst and printed again without
what this interpreter lacks, line for line: `type X[T] = v` becomes `X = v`, type
parameters go, `except A, B:` gets its parentheses, a template string becomes an
f-string, and an f-string this parser refuses (PEP 701: quotes reused inside) becomes
a tuple of its expressions. Calls keep their order and every line keeps its number,
except calls written inside type parameters, which are dropped with them.
"""

from __future__ import annotations

import ast
from typing import TypeVar

import libcst as cst


def readable(text: str) -> str:
    """`text` in the syntax the running Python reads. Raises libcst's ParserSyntaxError
    when libcst cannot parse it either."""
    return cst.parse_module(text).visit(_Older()).code


def _compiles(code: str) -> bool:
    try:
        compile(code, "<string>", "eval", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
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
    def leave_TypeAlias(self, original: cst.TypeAlias, updated: cst.TypeAlias) -> cst.Assign:
        return cst.Assign([cst.AssignTarget(updated.name)], updated.value, semicolon=updated.semicolon)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

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
