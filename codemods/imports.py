"""Adding and removing imports: every codemod of both phases goes through `add` and `remove`.

They queue the import for libcst's AddImportsVisitor and RemoveImportsVisitor, which
reuse an existing `from m import ...` and keep a parenthesised one well-formed.
`ImportingCommand` moves each new import statement next to the imports of its own
package, as isort would, and runs the two visitors pruned to where imports can be:
AddImportsVisitor edits only the module's top-level statements and its gatherer reads
only the imports at the top; RemoveImportsVisitor and its gatherer never enter an
expression. Whether an import is still used is read from the names of the module's code
parsed with `ast` (`names_in_use`), which costs a twentieth of libcst's scope analysis and only
ever keeps more: any use of the name anywhere keeps it; libcst's analysis reads the code
when `ast` cannot. A pruned node is still left (`on_leave`), only its children are not
visited (libcst 1.x `CSTNode.visit`).

Over 500 lines: where a new import goes (its section, its place in it, the blank lines around
it, and whether it is written relatively) is one set of isort's rules, read together.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Collection, Generator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeGuard, cast

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, GatherUnusedImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, ProviderT

from async_migrate.codemods.matcher_scan import QuickMatcherScan

# The nodes a statement can sit in (or be): everything else is an expression or layout.
_STATEMENT_LEVEL = (
    cst.Module, cst.BaseSuite, cst.BaseStatement, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler,
    cst.Finally, cst.MatchCase,
)


class WithoutMetadataCopy(Codemod):
    """For a codemod that reads no metadata: libcst deep-copies the tree before it
    computes metadata, which costs about a parse; with none to compute the copy is
    skipped (the tree is not changed in place either way)."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Generator[cst.Module, None, None]:
        previous = self.context.wrapper
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        with self.resolve(wrapper):
            self.context = replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=previous)


def _top_imports(module: cst.Module) -> cst.Module:
    """The module cut after the imports that follow its first statement: all the gatherer reads."""
    end = 1
    while end < len(module.body) and _is_import_line(module.body[end]):
        end += 1
    return module.with_changes(body=module.body[:end])


def _is_star_import(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and any(isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar) for small in statement.body)
    )


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


class TopLevelAddImports(QuickMatcherScan, WithoutMetadataCopy, AddImportsVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        # Without its star imports: libcst takes `from app.db import *` for every name of
        # `app.db` and adds none, but a star brings only what a literal `__all__` lists and no
        # `_private` name, so a name the codemod needs (a dependency the async stack adds
        # beside `get_db`) would be unbound; it is imported by name beside the star instead.
        top = _top_imports(node)
        super().visit_Module(top.with_changes(body=[s for s in top.body if not _is_star_import(s)]))

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, (cst.Module, cst.SimpleStatementLine))


class _StatementsGatherUnusedImports(QuickMatcherScan, GatherUnusedImportsVisitor):
    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, _STATEMENT_LEVEL)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        # libcst passes over `from . import deps` (no module written): a rewrite that leaves it
        # unused would leave it in place
        if node.module is None and node.relative and not isinstance(node.names, cst.ImportStar):
            self.handle_import(node)
            return False
        return super().visit_ImportFrom(node)


class StatementsRemoveImports(QuickMatcherScan, RemoveImportsVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        # RemoveImportsVisitor.visit_Module, with the pruned gatherer.
        visitor = _StatementsGatherUnusedImports(self.context)
        node.visit(visitor)
        self._unused_imports = dict(visitor.unused_imports)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, _STATEMENT_LEVEL)


def names_in_use(code: str) -> set[str] | None:
    """Every name the module's code reads or binds outside its imports, as `ast` parses it: each
    `Name`, and the names of each string constant that parses as an expression (a string
    annotation, `cast("Session", x)`, an `__all__` entry; a one-word docstring too, which only
    keeps an import). None when `ast` cannot parse the code (syntax newer than this Python)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used.update(node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) <= 300:
            try:
                inner = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError):
                continue
            used.update(name.id for name in ast.walk(inner) if isinstance(name, ast.Name))
    return used


class _StatementImports(cst.CSTVisitor):
    """The import statements a module holds at any statement level, as libcst's gatherer takes
    them (never a star import nor `__future__`; `from . import deps` too)."""

    def __init__(self) -> None:
        self.found: list[cst.Import | cst.ImportFrom] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Import):
            self.found.append(node)
        elif isinstance(node, cst.ImportFrom):
            module = node.module
            if not isinstance(node.names, cst.ImportStar) and not (
                isinstance(module, cst.Name) and module.value == "__future__"
            ):
                self.found.append(node)
        return isinstance(node, _STATEMENT_LEVEL)


def _bound_name(alias: cst.ImportAlias) -> str:
    """The name an import binds: its `as` name, else the first part of what it imports."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return alias.evaluated_name.partition(".")[0]


class NamesRemoveImports(QuickMatcherScan, WithoutMetadataCopy, RemoveImportsVisitor):
    """RemoveImportsVisitor deciding what is unused from `names_in_use`, without libcst's
    metadata (neither its copy of the tree nor its scope and qualified-name analyses)."""

    @classmethod
    def get_inherited_dependencies(cls) -> Collection[ProviderT]:
        # libcst unites the dependencies every base class declares: RemoveImportsVisitor's
        # would be computed, and never read
        return frozenset()

    def __init__(self, context: CodemodContext, used: set[str]) -> None:
        super().__init__(context)
        self._used = used

    def visit_Module(self, node: cst.Module) -> None:
        imports = _StatementImports()
        node.visit(imports)
        self._unused_imports = {
            alias: found
            for found in imports.found
            for alias in found.names  # type: ignore[union-attr]  # star imports are left out
            if _bound_name(alias) not in self._used
        }

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, _STATEMENT_LEVEL)


class PrunedImportVisitors(Codemod):
    """For a `CodemodCommand`: the import transformers it runs afterwards are the pruned ones."""

    def _instantiate_and_run(self, transform: Any, tree: cst.Module) -> cst.Module:
        if transform is AddImportsVisitor:
            return TopLevelAddImports(self.context).transform_module(tree)
        if transform is RemoveImportsVisitor:
            used = names_in_use(tree.code)
            if used is not None:
                return NamesRemoveImports(self.context, used).transform_module(tree)
            return StatementsRemoveImports(self.context).transform_module(tree)
        return transform(self.context).transform_module(tree)


# The project's top-level modules while one of its files is rewritten (`project_modules`): the
# imports `regroup` sorts in the project's section, as isort's and ruff's first-party.
_FIRST_PARTY: ContextVar[frozenset[str]] = ContextVar("first_party", default=frozenset())


@contextmanager
def project_modules(names: frozenset[str]) -> Generator[None, None, None]:
    """Within the block, `ImportingCommand` takes `names` for the project's top-level modules."""
    token = _FIRST_PARTY.set(names)
    try:
        yield
    finally:
        _FIRST_PARTY.reset(token)


def context_for(path: str, name: str) -> CodemodContext:
    """The codemod context of one module: its name, and the package its relative imports start
    from (the module itself for an `__init__.py`), so that `from ..deps import DbSession` is read
    as `app.deps.DbSession` when that import is dropped or extended."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    return CodemodContext(filename=path, full_module_name=name, full_package_name=package)


def add(context: CodemodContext, module: str, name: str, asname: str | None = None) -> None:
    """Import `name` from `module` (as `asname`) when the codemod finishes, unless it is imported."""
    AddImportsVisitor.add_needed_import(context, module, name, asname)


def remove(context: CodemodContext, module: str, name: str | None, asname: str | None = None) -> None:
    """Drop the import of `name` from `module` when the codemod finishes, if nothing uses it."""
    RemoveImportsVisitor.remove_unused_import(context, module, name, asname)


class ImportingCommand(QuickMatcherScan, PrunedImportVisitors, VisitorBasedCodemodCommand):
    """A codemod whose added imports land next to their package's (see `regroup`), with the
    pruned import visitors."""

    def transform_module(self, tree: cst.Module) -> cst.Module:
        after = super().transform_module(tree)
        return drop_emptied_guards(tree, regroup(
            tree, after, self.context.full_module_name, self.context.full_package_name, _FIRST_PARTY.get(),
        ))


def _type_checking_guard(statement: cst.CSTNode) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`) at module level, without `else`."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    test = statement.test
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
    )


def _only_pass(statement: cst.If) -> bool:
    """A block holding nothing but `pass` (and no comment)."""
    body = statement.body
    if not isinstance(body, cst.IndentedBlock) or body.header.comment is not None:
        return False
    return all(
        isinstance(line, cst.SimpleStatementLine) and all(isinstance(small, cst.Pass) for small in line.body)
        and all(empty.comment is None for empty in line.leading_lines)
        for line in body.body
    ) and all(empty.comment is None for empty in body.footer)


def drop_emptied_guards(before: cst.Module, after: cst.Module) -> cst.Module:
    """`after` without the `if TYPE_CHECKING:` blocks its dropped imports left holding only the
    `pass` libcst puts there (`from sqlalchemy.orm import Session` once every annotation reads
    `AsyncSession`), and without the `TYPE_CHECKING` import nothing reads any more. A block
    written as `pass` stays."""
    guards_before = [s for s in before.body if _type_checking_guard(s)]
    guards_after = [s for s in after.body if _type_checking_guard(s)]
    if not guards_after or len(guards_before) != len(guards_after):
        return after
    emptied = {
        id(now) for was, now in zip(guards_before, guards_after)
        if _only_pass(now) and not _only_pass(was)  # type: ignore[arg-type]
    }
    if not emptied:
        return after
    body = []
    for statement in after.body:
        if id(statement) not in emptied:
            body.append(statement)
    result = after.with_changes(body=body)
    if not any(
        isinstance(node, cst.Name) and node.value == "TYPE_CHECKING"
        for statement in body if not is_import(statement)
        for node in _walk(statement)
    ):
        kept = [s for s in (_without_type_checking(s) for s in body) if s is not None]
        if kept and body and kept[0] is not body[0] and not body[0].leading_lines and not _comments(kept[0]):
            kept[0] = kept[0].with_changes(leading_lines=[])  # the file does not open with a blank line
        result = result.with_changes(body=kept)
    return result


def _comments(statement: cst.BaseStatement) -> bool:
    lines: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
    return any(line.comment is not None for line in lines)


def _walk(node: cst.CSTNode) -> Generator[cst.CSTNode, None, None]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _without_type_checking(statement: cst.BaseStatement) -> cst.BaseStatement | None:
    """`from typing import TYPE_CHECKING` without that name (None: nothing left to import)."""
    if not is_import(statement) or not isinstance(statement.body[0], cst.ImportFrom):
        return statement
    found = statement.body[0]
    if import_module(statement) not in ("typing", "typing_extensions") or isinstance(found.names, cst.ImportStar):
        return statement
    kept = [a for a in found.names if not (isinstance(a.name, cst.Name) and a.name.value == "TYPE_CHECKING" and a.asname is None)]
    if len(kept) == len(found.names):
        return statement
    if not kept:
        return None
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[found.with_changes(names=kept)])


# The third-party packages the tool adds imports of: they sort among each other in a module's
# third-party section, before the project's own imports.
_LIBRARIES = frozenset({"anyio", "fastapi", "pydantic", "sqlalchemy", "sqlmodel", "starlette"})


def regroup(
    before: cst.Module, after: cst.Module, module: str | None = None, package: str | None = None,
    first_party: Collection[str] = (),
) -> cst.Module:
    """`after` with each import statement that is new since `before` moved next to the imports of
    its own package (sorted among them), a standard library one among the standard library's, a
    library one among the third-party imports or, with none, in a section of its own before the
    imports of `module`'s own top-level package (the project's). In a module that imports its
    project only relatively (`from .deps import DbSession`), a new import of the project is
    written relative to `package` too, among the others (`from .db import get_async_db`).
    `first_party`: the project's top-level modules (`models` for a flat layout's `models.py`),
    which sort in the project's section as `module`'s own package does; when it is given, any
    other package outside the standard library is a library."""
    if after is before:
        return after
    own = module.split(".")[0] if module else None

    def project(top: str) -> bool:
        return top == own or (top in first_party and top not in sys.stdlib_module_names)

    def library(top: str) -> bool:
        return top in _LIBRARIES or (
            bool(first_party and top) and top not in sys.stdlib_module_names and not project(top)
        )
    # AddImportsVisitor extends an existing `from m import ...` in place: only modules
    # that had no import statement before are new statements (a star is never extended: the
    # names added beside `from m import *` are a statement of their own, `TopLevelAddImports`).
    old = {import_module(s) for s in before.body if is_import(s) and not _is_star_import(s)}
    body = _names_in_order(before, list(after.body))
    added = [
        s for s in body
        if is_import(s) and isinstance(s.body[0], cst.ImportFrom) and import_module(s) not in old
        and not _is_star_import(s)
    ]
    if own is not None and package and _imports_only_relatively(before, own):
        for index, original in enumerate(added):
            rewritten = _relative_to(original, package)
            if rewritten is not None:
                body = [rewritten if s is original else s for s in body]
                added[index] = rewritten
    # Those not placed yet sit after the last import: no place to learn from.
    waiting = {id(s.body[0]) for s in added}
    for original in added:
        package = import_module(original)
        waiting.discard(id(original.body[0]))
        if package is None:
            body = _among_relative(body, original, waiting)
            continue
        # An earlier move may have replaced this statement by a copy with other blank lines:
        # the import itself (its small statement) is what identifies it.
        statement = next(s for s in body if is_import(s) and s.body[0] is original.body[0])
        rest = [s for s in body if s is not statement]
        placed = [(index, s) for index, s in enumerate(rest) if is_import(s) and id(s.body[0]) not in waiting]
        head = len(rest)
        top = package.split(".")[0]
        if not project(top):
            # A library's import joins only the imports at the head of the module: one below
            # code (a second import block after some functions) would bind the name after the
            # annotations above it were evaluated. The project's own imports keep their rules
            # (one placed low may be there on purpose, to avoid an import cycle).
            head = _head_end(rest)
            placed = [(index, s) for index, s in placed if index < head]
        group = [
            (index, import_module(s) or "")
            for index, s in placed
            if _top(s) == top
        ]
        if not group and library(top):
            # A library the tool writes imports of joins the other libraries' imports, sorted.
            group = [
                (index, import_module(s) or "")
                for index, s in placed
                if library(_top(s))
            ]
        if not group and library(top) and own is not None:
            first = next((index for index, s in placed if project(_top(s))), None)
            if first is not None:
                # Third-party imports come before the project's: join those there are, or open a section.
                group = [
                    (index, import_module(s) or "")
                    for index, s in placed
                    if index < first and _top(s) not in sys.stdlib_module_names
                ]
                if not group:
                    body = _section_before(rest, first, statement)
                    continue
        if not group and top in sys.stdlib_module_names:
            # A standard library import goes among the others of the standard library, or first.
            stdlib = [
                index for index, s in enumerate(rest)
                if is_import(s) and _top(s) in sys.stdlib_module_names and index < head
            ]
            first = next((index for index, s in enumerate(rest) if is_import(s)), None)
            if stdlib:
                group = [(index, import_module(rest[index]) or "") for index in stdlib]
            elif first is not None:
                leading = rest[first]
                rest[first] = leading.with_changes(leading_lines=[cst.EmptyLine()])
                rest.insert(first, statement.with_changes(leading_lines=leading.leading_lines))
                body = rest
                continue
        if not group and own is not None and project(top):
            # The first of its package (the module's own, or another of the project's top-level
            # modules): sorted among the project's imports at the head, as isort's first-party section.
            group = [
                (index, import_module(s) or "")
                for index, s in placed
                if index < _head_end(rest) and not _is_relative(s) and project(_top(s))
            ]
        if not group and own is not None and project(top):
            relative = next((index for index, s in enumerate(rest) if is_import(s) and _is_relative(s)), None)
            if relative is not None:
                # The project's own absolute imports come before the relative ones (isort's
                # first-party section, then the local folder's).
                body = _section_before(rest, relative, statement)
                continue
            _section_after_another(body, statement, lambda above: project(_top(above)))
            continue
        if not group:
            continue  # no import of that package yet: it stays after the last import
        body = rest
        if not any(_is_from_import(body[index]) for index, _ in group):
            # Only `import sqlalchemy as sa` of that package: the new `from sqlalchemy... import`
            # goes among the section's `from` imports (`from fastapi import ...` before it).
            group = sorted({*group, *_from_imports_of_section(body, group[0][0])})
        # `import x` lines come before `from x import ...` ones in a section (isort's default).
        later = [index for index, name in group if name > package and _is_from_import(body[index])]
        if later:
            index = later[0]
            following = body[index]
            body[index] = following.with_changes(leading_lines=[])
            statement = statement.with_changes(leading_lines=following.leading_lines)
        else:
            index = group[-1][0] + 1
        body.insert(index, statement)
    body = _keep_section_breaks(before, body, project)
    if body and before.body and not before.body[0].leading_lines and body[0] is not before.body[0]:
        # The first statement was a removed import: the blank line below it must not open the file.
        lines = body[0].leading_lines
        if lines and all(line.comment is None for line in lines):
            body[0] = body[0].with_changes(leading_lines=[])
    return after.with_changes(body=body)


def _from_imports_of_section(body: _Statements, at: int) -> list[tuple[int, str]]:
    """The `from` imports of the section holding the import at `at`: the import lines around
    it with no blank line between them."""
    start = at
    while start > 0 and is_import(body[start - 1]) and not _blank_above(body[start]):
        start -= 1
    end = at + 1
    while end < len(body) and is_import(body[end]) and not _blank_above(body[end]):
        end += 1
    return [(index, import_module(body[index]) or "") for index in range(start, end) if _is_from_import(body[index])]


def _blank_above(statement: cst.BaseStatement) -> bool:
    lines = statement.leading_lines if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) else ()
    return any(line.comment is None for line in lines)


def _head_end(body: _Statements) -> int:
    """The index of the module's first statement past its head: the docstring, imports, and `if`
    or `try` blocks holding only imports (`if TYPE_CHECKING:`, an optional dependency)."""
    for index, statement in enumerate(body):
        if is_import(statement):
            continue
        if index == 0 and isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            expression = statement.body[0]
            if isinstance(expression, cst.Expr) and isinstance(expression.value, cst.BaseString):
                continue
        if isinstance(statement, (cst.If, cst.Try)) and all(
            isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass))
            for line in _walk(statement) if isinstance(line, cst.SimpleStatementLine)
            for small in line.body
        ):
            continue
        return index
    return len(body)


def _is_relative(statement: cst.SimpleStatementLine) -> bool:
    small = statement.body[0]
    return isinstance(small, cst.ImportFrom) and bool(small.relative)


def _keep_section_breaks(
    before: cst.Module, body: _Statements, project: Callable[[str], bool] = lambda top: False
) -> _Statements:
    """An import dropped whole that opened a section (blank lines above it) leaves that break to
    the import that followed it, when that one opened none: `from ..deps import DbSession`
    dropped must not glue `from ..schemas import X` to the absolute imports above. `project`
    tells the project's top-level modules, one section however many (`deps` beside `models`)."""
    # The codemods rebuild the statements they pass through: an unchanged one is known by its code.
    code = _EMPTY.code_for_node
    present = [code(s) for s in body]
    old = {code(s) for s in before.body}
    written = {_written_module(s) for s in body if is_import(s)}
    for index in range(1, len(before.body)):
        dropped, following = before.body[index - 1], before.body[index]
        if (
            not is_import(dropped) or not is_import(following) or following.leading_lines
            or not dropped.leading_lines or _written_module(dropped) in written
            or any(line.comment is not None for line in dropped.leading_lines)
        ):
            continue
        at = present.index(code(following)) if code(following) in present else _same_import(body, following)
        if at is None:
            continue
        # An import added to the same section may now sort above `following`: the break opens the
        # section, so it goes above the first of them.
        while (
            at > 1 and is_import(body[at - 1]) and not body[at - 1].leading_lines
            and (_top(body[at - 1]) == _top(following) or (project(_top(body[at - 1])) and project(_top(following))))
            and code(body[at - 1]) not in old
        ):
            at -= 1
        if at > 0 and not body[at].leading_lines:
            body[at] = body[at].with_changes(leading_lines=dropped.leading_lines)
    return body


_EMPTY = cst.Module(body=[])


def _same_import(body: _Statements, statement: cst.CSTNode) -> int | None:
    """Where `statement` is in `body` after a name was added to or dropped from it
    (`from models import User` now `from models import Note, User`): the one import of its module."""
    module = _written_module(statement)
    found = [i for i, s in enumerate(body) if is_import(s) and _written_module(s) == module]
    return found[0] if module is not None and len(found) == 1 else None


def _is_from_import(statement: cst.CSTNode) -> bool:
    return is_import(statement) and isinstance(statement.body[0], cst.ImportFrom)


def _top(statement: cst.CSTNode) -> str:
    return (import_module(statement) or "").split(".")[0]


def _section_after_another(
    body: _Statements, statement: cst.SimpleStatementLine, joins: Callable[[cst.SimpleStatementLine], bool]
) -> None:
    """A new import left after the last one: when that one is of another section (`joins` says
    not: a library's), a blank line opens a section of its own."""
    at = body.index(statement)
    above = body[at - 1] if at > 0 else statement
    if above is not statement and is_import(above) and not joins(above) and not statement.leading_lines:
        body[at] = statement.with_changes(leading_lines=[cst.EmptyLine()])


def _section_before(body: _Statements, index: int, statement: cst.SimpleStatementLine) -> _Statements:
    """`body` with `statement` in a section of its own just before the import at `index`."""
    following = body[index]
    lines = list(following.leading_lines)
    if any(line.comment is not None for line in lines):
        # A comment above the project's imports stays with them.
        above = [cst.EmptyLine()] if index > 0 else []
        if lines[0].comment is not None:
            lines.insert(0, cst.EmptyLine())
        body[index] = following.with_changes(leading_lines=lines)
        body.insert(index, statement.with_changes(leading_lines=above))
        return body
    body[index] = following.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(index, statement.with_changes(leading_lines=lines))
    return body


def _isort_key(alias: cst.ImportAlias) -> str:
    """isort's (and ruff's) default order of imported names: CONSTANTS, then Classes, then the
    rest, each compared without case."""
    name = source_of(alias.name)
    kind = "A" if name.isupper() and len(name) > 1 else "B" if name[:1].isupper() else "C"
    return kind + name.lower()


_Statements = list[cst.SimpleStatementLine | cst.BaseCompoundStatement]


def _names_in_order(before: cst.Module, body: _Statements) -> _Statements:
    """AddImportsVisitor puts the names it adds to an existing `from m import a, b` first: put
    them where isort would, when the names were in isort's order before (after them if not). A
    statement written one name a line (`from m import (\n    a,\n    b,\n)`, as black, isort's
    black profile and ruff write it) keeps that layout, whatever was added or dropped, and each
    name keeps its own comment."""
    had: dict[str, list[cst.ImportFrom]] = {}
    for statement in before.body:
        module = _written_module(statement)
        if module is not None and is_import(statement) and isinstance(statement.body[0], cst.ImportFrom):
            if not isinstance(statement.body[0].names, cst.ImportStar):
                had.setdefault(module, []).append(statement.body[0])
    for index, statement in enumerate(body):
        module = _written_module(statement)
        if module not in had or not is_import(statement):
            continue
        node = statement.body[0]
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            continue
        aliases = list(node.names)
        written = tuple(source_of(a.name) for a in aliases)
        # The statement it was: the one sharing most names (RemoveImportsVisitor may have dropped
        # some), or the module's only one when every name it had was replaced.
        candidates = had[module]
        found = max(candidates, key=lambda p: len(set(_names_of(p)) & set(written)))
        previous = _names_of(found)
        if set(written) == set(previous) or not (set(written) & set(previous) or len(candidates) == 1):
            continue
        kept = sorted((a for a in aliases if source_of(a.name) in previous), key=lambda a: previous.index(source_of(a.name)))
        new = [a for a in aliases if source_of(a.name) not in previous]
        in_order = [_isort_key(a) for a in found.names] == sorted(_isort_key(a) for a in found.names)  # type: ignore[union-attr]
        merged = sorted(kept + new, key=_isort_key) if in_order else kept + new
        if _one_a_line(found):
            lpar, names = _laid_out_like(found, merged)
            node = node.with_changes(names=names, lpar=lpar, rpar=found.rpar)
            body[index] = statement.with_changes(body=[node, *statement.body[1:]])
            continue
        if not new or not kept or (len(kept) < 2 and node.lpar is not None):
            continue  # a one-name parenthesised import gives no separator to copy
        separator = kept[0].comma if len(kept) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        last = kept[-1].comma
        merged = [a.with_changes(comma=separator if i < len(merged) - 1 else last) for i, a in enumerate(merged)]
        body[index] = statement.with_changes(body=[node.with_changes(names=merged), *statement.body[1:]])
    return body


def _names_of(node: cst.ImportFrom) -> tuple[str, ...]:
    return tuple(source_of(a.name) for a in node.names)  # type: ignore[union-attr]  # never a star


def _one_a_line(node: cst.ImportFrom) -> bool:
    """`from m import (\n    a,\n    b,\n)`: a line break after `(`, each name ending in a comma
    and a line break."""
    names = node.names
    return (
        node.lpar is not None and isinstance(node.lpar.whitespace_after, cst.ParenthesizedWhitespace)
        and not isinstance(names, cst.ImportStar) and bool(names)
        and all(isinstance(a.comma, cst.Comma) and isinstance(a.comma.whitespace_after, cst.ParenthesizedWhitespace)
                for a in names)
    )


def _laid_out_like(found: cst.ImportFrom, merged: list[cst.ImportAlias]) -> tuple[cst.LeftParen, list[cst.ImportAlias]]:
    """`merged`, one name a line as `found` writes them (`_one_a_line`): its indentation, the
    comment after each name it had, the comment lines above each, the line of the `)`."""
    lpar = cast(cst.LeftParen, found.lpar)
    opening = cast(cst.ParenthesizedWhitespace, lpar.whitespace_after)
    old = list(cast(Sequence[cst.ImportAlias], found.names))
    after: dict[str, cst.ParenthesizedWhitespace] = {
        source_of(a.name): cast(cst.ParenthesizedWhitespace, cast(cst.Comma, a.comma).whitespace_after) for a in old
    }
    # the comment lines above a name are written after the comma before it (or the `(`)
    above = {source_of(a.name): (opening if i == 0 else after[source_of(old[i - 1].name)]).empty_lines
             for i, a in enumerate(old)}
    closing = after[source_of(old[-1].name)].last_line
    laid: list[cst.ImportAlias] = []
    for i, alias in enumerate(merged):
        name = source_of(alias.name)
        own = after.get(name)
        following = above.get(source_of(merged[i + 1].name), ()) if i + 1 < len(merged) else ()
        laid.append(alias.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
            first_line=own.first_line if own is not None else cst.TrailingWhitespace(),
            empty_lines=following,
            indent=True,
            last_line=opening.last_line if i + 1 < len(merged) else closing,
        ))))
    first = above.get(source_of(merged[0].name), ()) if merged else ()
    return lpar.with_changes(whitespace_after=opening.with_changes(empty_lines=first)), laid


def _imports_only_relatively(module: cst.Module, own: str) -> bool:
    """Whether the module imports its project (`own`, the top-level package) at the head of the
    module, and only relatively."""
    head = [s for s in module.body[:_head_end(list(module.body))] if is_import(s)]
    return any(_is_relative(s) for s in head) and not any(_top(s) == own for s in head)


def _relative_to(statement: cst.SimpleStatementLine, package: str) -> cst.SimpleStatementLine | None:
    """`from app.db import x` as written in a module of `package` (`app.api`): `from ..db import x`."""
    small = statement.body[0]
    target = import_module(statement)
    if not isinstance(small, cst.ImportFrom) or target is None:
        return None
    here, there = package.split("."), target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    if common == 0:
        return None
    rest = ".".join(there[common:])
    module = cst.parse_expression(rest) if rest else None
    dots = [cst.Dot() for _ in range(len(here) - common + 1)]
    return statement.with_changes(body=[small.with_changes(module=module, relative=dots)])


def _among_relative(body: _Statements, statement: cst.SimpleStatementLine, waiting: set[int]) -> _Statements:
    """`body` with a new relative import moved among the relative imports at the module's head,
    the furthest first and by module (isort's and ruff's default order)."""
    written = _written_module(statement)
    if written is None or not written.startswith("."):
        return body
    rest = [s for s in body if s is not statement]
    head = _head_end(rest)
    relatives = [
        (index, _furthest_first(_written_module(s) or "")) for index, s in enumerate(rest[:head])
        if is_import(s) and _is_relative(s) and id(s.body[0]) not in waiting
    ]
    if not relatives:
        _section_after_another(body, statement, _is_relative)
        return body
    later = [index for index, key in relatives if key > _furthest_first(written)]
    if later:
        following = rest[later[0]]
        rest[later[0]] = following.with_changes(leading_lines=[])
        rest.insert(later[0], statement.with_changes(leading_lines=following.leading_lines))
    else:
        rest.insert(relatives[-1][0] + 1, statement.with_changes(leading_lines=[]))
    return rest


def _furthest_first(written: str) -> tuple[int, str]:
    """The sort key of a relative module as written (`..db`): more dots first, then by name."""
    name = written.lstrip(".")
    return -(len(written) - len(name)), name


def _written_module(statement: cst.CSTNode) -> str | None:
    """The module of `from m import ...` as written, relative ones with their dots (`..deps`)."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.ImportFrom) and small.relative:
            return "." * len(small.relative) + (source_of(small.module) if small.module is not None else "")
    return import_module(statement)


def is_import(statement: cst.CSTNode) -> TypeGuard[cst.SimpleStatementLine]:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def import_module(statement: cst.CSTNode) -> str | None:
    """`a.b` for `from a.b import c` and `import a.b` (absolute only), None otherwise."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            return source_of(small.module)
        if isinstance(small, cst.Import):
            return source_of(small.names[0].name)
    return None


def source_of(node: cst.BaseExpression) -> str:
    """The code of an expression (a dotted module or imported name)."""
    return cst.Module(body=[]).code_for_node(node)
