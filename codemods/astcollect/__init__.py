"""The per-module pre-pass on Python's `ast`: one module's text in, picklable facts out.

`ast` parses many times faster than libcst, and the analysis needs no concrete
syntax tree: comments (pragmas) are read from the text of the lines they sit on.
`module` reads names, module-level values, classes and signatures; `body` reads
function bodies; `syntax` holds the helpers both share.
"""

from __future__ import annotations

import ast
import re
import warnings

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import type_params


def parse(text: str, path: str = "<unknown>", generics: bool = False) -> ast.Module:
    """`ast.parse`, without the warnings the compiler prints about the code it reads
    (invalid escape sequences): they are the project's business, not the report's. On a Python
    reading PEP 695 itself, as `newer.readable` writes it for one that does not: `type X = v` as
    `X = v`, and with `generics` (for the module's facts) module-level classes' type parameters
    as the TypeVars they stand for (`type_params`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text, path)
    if _may_alias(text) and _type_statement(text) and hasattr(ast, "TypeAlias"):
        _AliasesAsAssignments().visit(tree)
    if generics and type_params.may_have(text):
        type_params.declare_native(tree)
    return tree


def parse_read(text: str, path: str = "<unknown>") -> tuple[str, ast.Module]:
    """The module's tree as the pre-pass reads it, with the text it was parsed from: `text`, or,
    for syntax newer than the running Python, `newer.readable(text)` (line for line), from which
    the module's facts were collected. An analysis parsing a project module again reads it so: on
    a SyntaxError it went without the tree, found nothing there, and a route in a module written
    for a newer Python moved past what blocks it in any other. Raises SyntaxError (ValueError for
    a null byte) when neither parser reads it."""
    try:
        return text, parse(text, path, generics=True)
    except SyntaxError as error:
        import libcst as cst

        from async_migrate.codemods.astcollect.newer import readable
        from async_migrate.codemods.workers import MAX_LINE

        if len(text) > MAX_LINE and max(map(len, text.split("\n"))) > MAX_LINE:
            raise  # libcst's native parser overflows the stack on lines this long
        try:
            older = readable(text, generics=True)
        except cst.ParserSyntaxError:
            raise error from None
    return older, parse(older, path)


def parse_any(text: str, path: str = "<unknown>") -> ast.Module:
    """`parse_read`'s tree."""
    return parse_read(text, path)[1]


# Where a `type X = ...` statement may start (a line, or after `;` or a one-line suite's `:`);
# most modules have none, and are not walked.
_TYPE_STATEMENT = re.compile(r"(?:^|[;:])[ \t]*type[ \t]+[^\W\d]", re.MULTILINE)


# `_TYPE_STATEMENT` from `type` on: a literal start, which the search skips to at once.
_TYPE_TAIL = re.compile(r"type[ \t]+[^\W\d]")


def _type_statement(text: str) -> bool:
    """Whether `_TYPE_STATEMENT` matches text, asked where each `type` is followed as it needs:
    its own search tries every position of the text (`type ` is common in names and comments)."""
    found = _TYPE_TAIL.search(text)
    while found is not None:
        start = found.start()
        before = start
        while before and text[before - 1] in " \t":
            before -= 1
        if not before or text[before - 1] in "\n;:":
            return True
        found = _TYPE_TAIL.search(text, start + 1)
    return False


def _may_alias(text: str) -> bool:
    """What `_TYPE_STATEMENT` needs, found by substring: its search tries every position of the
    text, four times the cost of these scans, and most modules hold neither."""
    return "type " in text or "type\t" in text


class _AliasesAsAssignments(ast.NodeTransformer):
    """`type X = v` read as `X = v`, as `newer.readable` writes it for a Python without the
    statement: the analysis reads `type SessionDep = Annotated[Session, Depends(get_db)]` the
    same whichever Python runs the tool (on 3.12 the statement was no assignment to it, and its
    routes did "no synchronous Session work")."""

    def visit_TypeAlias(self, node: ast.AST) -> ast.Assign:
        name, value = node.name, node.value  # type: ignore[attr-defined]
        return ast.copy_location(ast.Assign(targets=[name], value=value, type_comment=None), node)


def collect(path: str, text: str, name: str | None = None, tree: ast.Module | None = None) -> facts.Module:
    """The facts of the module at `path` (posix, relative to the root) whose text is `text`.

    Raises SyntaxError (and RecursionError, MemoryError) as `ast.parse` does.
    """
    from async_migrate.codemods.astcollect.module import Collector

    return Collector(path, text, tree if tree is not None else parse(text, path, generics=True), name).collect()
