"""Move chosen functions onto AsyncSession: `async def`, awaited Session calls, awaited helpers
(Before/After: `MigrateToAsyncSession`).

Which call and parameter becomes what is planned beforehand (codemods/phase2/plan.py), named by
the call's index in the body; each planned call is edited by the unit that owns its kind
(codemods/phase2/rewrites/). This module walks the function and adds what spans it: nested
scopes left alone, refreshes after a commit, the parentheses precedence needs (`(await x).attr`,
`(await x)[0]`, `(await x)()`), renames, and twins: an async copy of a shared helper under a new
name right after the original, which stays as it was for its synchronous callers.

Over 500 lines: one libcst transformer, whose visits share the state of the function being
moved (its plan, scopes, pending refreshes); the per-call edits already live in rewrites/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from async_migrate.codemods import imports
from async_migrate.codemods.astcollect.syntax import PRAGMA
from async_migrate.codemods.definitions import DefinitionCommand
from async_migrate.codemods.phase2.expired_reads import entered_key
from async_migrate.codemods.phase2.idle_loops import drop_idle_loops, loop_getters
from async_migrate.codemods.phase2.plan import FilePlan, FunctionPlan, StackNames
from async_migrate.codemods.phase2.rewrites import CallAction, call_rewrite, param_rewrite
from async_migrate.codemods.vocabulary.fastapi import INCLUDE_ROUTER


class MigrateToAsyncSession(DefinitionCommand):
    """Moves the functions of one file's plan onto AsyncSession.

    Before::

        def get_book_details(session: Session, book_id: int) -> dict:
            book = session.scalars(select(Book).where(Book.id == book_id)).first()
            with session.begin_nested():
                summary = review_helper.get_review_summary(session, book_id)
            return {"title": book.title, **summary}

    After::

        async def get_book_details(session: AsyncSession, book_id: int) -> dict:
            book = (await session.scalars(select(Book).where(Book.id == book_id))).first()
            async with session.begin_nested():
                summary = await review_helper.get_review_summary(session, book_id)
            return {"title": book.title, **summary}
    """

    DESCRIPTION = "Rewrite chosen functions from a synchronous Session to AsyncSession."

    def __init__(self, context: CodemodContext, plan: FilePlan, stack: StackNames) -> None:
        super().__init__(context, plan.functions)
        self.plan = plan
        self.stack = stack

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.renamed: set[str] = set()
        self.loop_getters = loop_getters(tree)
        # copy's qualname -> the methods to add to it, taken from its class (left before it)
        self._added: dict[str, list[cst.BaseStatement]] = {}
        if self.plan.include_redepend:
            # by the lines the facts name, so on the tree as read, before anything moves them
            tree = _redepend_includes(tree, self.plan.include_redepend)
        result = super().transform_module_impl(tree)
        if self.plan.alias_twins:
            result = _add_alias_twins(result, self.plan.alias_twins)
        if self.plan.router_redepend:
            result = _redepend_routers(result, self.plan.router_redepend)
        if self.plan.exports:
            result = _export_twins(result, self.plan.exports)
        for module, name in sorted(self.plan.imports):
            imports.add(self.context, module, name)
        for local in sorted(self.renamed):
            new, home = self.plan.class_renames[local]
            if home is not None:
                imports.add(self.context, home, new)
        for module, name, local in sorted(self.plan.aliased_imports):
            imports.add(self.context, module, name, local)
        for module, name, asname in sorted(self.plan.maybe_unused, key=str):
            imports.remove(self.context, module, name or None, asname)
        return result

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):
        if isinstance(original, cst.FunctionDef) and self.plan.superseded and id(original) not in self._entered:
            # a class's own `__aenter__` the `__enter__` turned into it replaces (`FilePlan.superseded`)
            key = self._numbering.peek(".".join([*self._classes, original.name.value]))
            result = super().on_leave(original, updated)
            return cst.RemoveFromParent() if key in self.plan.superseded else result
        if not isinstance(original, cst.ClassDef):
            return super().on_leave(original, updated)
        qualname = ".".join(self._classes)
        result = super().on_leave(original, updated)
        generated = self.plan.functions.get(f"{qualname}.__init__")
        if generated is not None and isinstance(result, cst.ClassDef):
            result = self._fields_retyped(result, generated)
        if not isinstance(result, cst.ClassDef):
            return result
        if qualname in self.plan.session_fields and qualname not in self.plan.parallel:
            result = self._session_fields(result, qualname, in_place=True)
        added = self.plan.parallel_additions.get(qualname)
        if added is not None:
            owner = qualname.rpartition(".")[0]
            self._added[f"{owner}.{added[0]}" if owner else added[0]] = self._added_methods(original, qualname, *added)
        if qualname in self._added:
            body = result.body.with_changes(body=[*result.body.body, *self._added.pop(qualname)])
            result = result.with_changes(body=body)
        wanted = self.plan.parallel.get(qualname)
        if wanted is None:
            return self._bound_async(result, qualname)
        return cst.FlattenSentinel([result, self._parallel(original, qualname, *wanted)])

    def _added_methods(
        self, node: cst.ClassDef, qualname: str, name: str, plans: dict[str, FunctionPlan]
    ) -> list[cst.BaseStatement]:
        """The class's methods an earlier run's async copy `name` lacks, moved to AsyncSession
        for that copy, the class's own name inside them replaced by the copy's."""
        renames = {**self.plan.parallel_renames.get(qualname, {}), node.name.value: name}
        found: list[cst.BaseStatement] = []
        for statement in node.body.body:
            key = f"{qualname}.{statement.name.value}" if isinstance(statement, cst.FunctionDef) else None
            if key in plans:
                assert isinstance(statement, cst.FunctionDef)
                moved = cst.ensure_type(self._migrate(statement, plans[key]).visit(_Rename(renames)), cst.FunctionDef)
                blank = sum(1 for line in statement.leading_lines if line.comment is None) or 1
                found.append(moved.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * blank))
        return found

    def _fields_retyped(self, node: cst.ClassDef, plan: FunctionPlan) -> cst.ClassDef:
        """A class whose `__init__` a decorator writes (`@dataclass`): its parameters are the
        annotated fields, so the planned parameter rewrites apply to the fields themselves, as do
        a class-based view's `Depends(...)` pointed at async twins (`plan.redepend`)."""
        if not (plan.params or plan.redepend) or any(
            isinstance(s, cst.FunctionDef) and s.name.value == "__init__" for s in node.body.body
        ):
            return node
        body = []
        for statement in node.body.body:
            if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                field = statement.body[0]
                if isinstance(field, cst.AnnAssign) and isinstance(field.target, cst.Name):
                    name = field.target.value
                    action = plan.params.get(name)
                    if action is None and plan.redepend:
                        renamed = _Rename(plan.redepend)
                        field = field.with_changes(
                            annotation=field.annotation.visit(renamed),
                            value=field.value.visit(renamed) if field.value is not None else None,
                        )
                        statement = statement.with_changes(body=[field])
                    elif action is not None:
                        param = cst.Param(cst.Name(name), annotation=field.annotation, default=field.value)
                        param = param_rewrite(action.kind).edit(action, param, self.stack)
                        if plan.redepend:
                            param = cst.ensure_type(param.visit(_Rename(plan.redepend)), cst.Param)
                        if plan.renames:
                            param = cst.ensure_type(param.visit(_Rename(plan.renames)), cst.Param)
                        param = self._retyped(param)
                        assert param.annotation is not None
                        field = field.with_changes(annotation=param.annotation, value=param.default)
                        statement = statement.with_changes(body=[field])
            body.append(statement)
        return node.with_changes(body=node.body.with_changes(body=body))

    def _bound_async(self, node: cst.ClassDef, qualname: str) -> cst.ClassDef:
        """`Repository[Session]` -> `Repository[AsyncSession]` in the class's bases: it would
        declare the Session it no longer holds (`plan.parallel_base_sessions`)."""
        sessions = self.plan.parallel_base_sessions.get(qualname)
        if not sessions:
            return node
        to_async = _Rename(dict.fromkeys(sessions, "AsyncSession"))
        return node.with_changes(bases=[
            base.with_changes(value=base.value.visit(to_async)) if isinstance(base.value, cst.Subscript) else base
            for base in node.bases
        ])

    def _session_fields(self, node: cst.ClassDef, qualname: str, in_place: bool) -> cst.ClassDef:
        """`session: Session` in the class body and `self.session: Session = session` in its
        methods name AsyncSession: the instance holds one now (a copy's original keeps its own)."""
        names = self.plan.session_fields[qualname]
        retyped = _SessionFields(set(names))
        result = cst.ensure_type(node.visit(retyped), cst.ClassDef)
        if retyped.renamed:
            imports.add(self.context, self.plan.async_session_home, "AsyncSession")
            if in_place:
                for local in sorted(retyped.renamed):
                    home, name = names[local]
                    if home:  # a name read through a module (`orm.Session`) leaves the module's import
                        imports.remove(self.context, home, name, None if local == name else local)
        return result

    def _parallel(
        self, node: cst.ClassDef, qualname: str, name: str, plans: dict[str, FunctionPlan]
    ) -> cst.ClassDef:
        """The class's async copy under `name`: planned methods moved to AsyncSession, the
        class's own name inside it replaced by the new one."""
        body = []
        omitted = self.plan.parallel_omitted.get(qualname, set())
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef) and f"{qualname}.{statement.name.value}" in omitted:
                continue  # a method that cannot move: the synchronous class keeps it for its callers
            if isinstance(statement, cst.FunctionDef) and f"{qualname}.{statement.name.value}" in plans:
                statement = self._migrate(statement, plans[f"{qualname}.{statement.name.value}"])
            body.append(statement)
        copy = node.with_changes(body=node.body.with_changes(body=body))
        generated = plans.get(f"{qualname}.__init__")
        if generated is not None:
            copy = self._fields_retyped(copy, generated)
        renames = {**self.plan.parallel_renames.get(qualname, {}), node.name.value: name}
        copy = cst.ensure_type(copy.visit(_Rename(renames)), cst.ClassDef)
        copy = self._bound_async(copy, qualname)
        if qualname in self.plan.session_fields:
            copy = self._session_fields(copy, qualname, in_place=False)
        blank = sum(1 for line in node.leading_lines if line.comment is None) or (2 if "." not in qualname else 1)
        return copy.with_changes(name=cst.Name(name), leading_lines=[cst.EmptyLine(indent=False)] * blank)

    def rewrite_definition(
        self, key: str, node: cst.FunctionDef
    ) -> cst.FunctionDef | cst.FlattenSentinel[cst.FunctionDef]:
        plan = self.plan.functions[key]
        if plan.retype_only:
            return node.with_changes(
                params=self._retyped(node.params),
                returns=self._retyped(node.returns) if node.returns is not None else None,
            )
        if plan.twin is None:
            return self._migrate(node, plan)
        twin = self._migrate(node.with_changes(name=cst.Name(plan.twin)), plan)
        blank = sum(1 for line in node.leading_lines if line.comment is None) or 1
        twin = twin.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * blank)
        return cst.FlattenSentinel([node, twin])

    def _async_iterator(self, returns: cst.Annotation) -> cst.Annotation:
        """A generator's return annotation for its async form: `Iterator[X]`, `Iterable[X]` and
        `Generator[X, S, None]` become `AsyncIterator[X]`, `AsyncIterable[X]` and
        `AsyncGenerator[X, S]`, spelt as the user spelt the original (`typing.Iterator[X]` becomes
        `typing.AsyncIterator[X]`, which needs no import); anything else is left as written."""
        node = returns.annotation
        written = node.value if isinstance(node, cst.Subscript) else node
        name = written.attr.value if isinstance(written, cst.Attribute) else getattr(written, "value", None)
        if not isinstance(name, str) or name not in _ASYNC_ITERATORS:
            return returns
        renamed: cst.BaseExpression
        if isinstance(written, cst.Attribute):
            renamed = written.with_changes(attr=cst.Name(_ASYNC_ITERATORS[name]))
        else:
            imports.add(self.context, "collections.abc", _ASYNC_ITERATORS[name])
            renamed = cst.Name(_ASYNC_ITERATORS[name])
        if not isinstance(node, cst.Subscript):
            return returns.with_changes(annotation=renamed)
        elements = node.slice[:2] if name == "Generator" else node.slice
        if elements:
            elements = [*elements[:-1], elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        return returns.with_changes(annotation=node.with_changes(value=renamed, slice=elements))

    def _async_context_manager(self, decorator: cst.Decorator) -> cst.Decorator:
        """`@contextmanager` (or `@contextlib.contextmanager`) as `@asynccontextmanager`, imported
        where it is written bare."""
        written = decorator.decorator
        if isinstance(written, cst.Attribute) and written.attr.value == "contextmanager":
            return decorator.with_changes(decorator=written.with_changes(attr=cst.Name("asynccontextmanager")))
        if isinstance(written, cst.Name):
            imports.add(self.context, "contextlib", "asynccontextmanager")
            return decorator.with_changes(decorator=cst.Name("asynccontextmanager"))
        return decorator

    def _retyped(self, node: _Retyped) -> _Retyped:
        """`node` with the module's names of classes that have a parallel async class replaced."""
        if not self.plan.class_renames:
            return node
        renames = _ClassRenames({local: new for local, (new, _) in self.plan.class_renames.items()})
        result = node.visit(renames)
        self.renamed |= renames.renamed
        return cst.ensure_type(result, type(node))

    def _migrate(self, node: cst.FunctionDef, plan: FunctionPlan) -> cst.FunctionDef:
        rewriter = _AsyncBody(plan.calls, plan.eager, plan.refreshes, _free_result_name(node) if plan.refreshes else "")
        rewriter.async_with = plan.async_with
        body = _suite(node.body.visit(rewriter))
        if rewriter.twinned:
            body = _suite(body.visit(_DropUnusedLocal(rewriter.twinned - _names_read(body))))
        body, idle = drop_idle_loops(node.body, body, self.loop_getters)
        body = _suite(body)
        for module, name, asname in idle:
            imports.remove(self.context, module, name, asname)
        for module, name in sorted(rewriter.imports):
            imports.add(self.context, module, name)
        params = cst.ensure_type(node.params.visit(_SessionParams(plan, self.stack)), cst.Parameters) if plan.params else node.params
        if plan.defaults:
            params = cst.ensure_type(params.visit(_Defaults(plan.defaults, plan.annotations)), cst.Parameters)
        decorators = node.decorators
        if plan.redepend:
            params = cst.ensure_type(params.visit(_Rename(plan.redepend)), cst.Parameters)
            decorators = [cst.ensure_type(d.visit(_Rename(plan.redepend)), cst.Decorator) for d in decorators]
        if plan.closes is not None:
            body = _closing(body, plan.closes)
        if plan.context_manager and not decorators:
            # wrapped where it is defined (`session_scope = contextmanager(_scope)`): the twin is decorated
            imports.add(self.context, "contextlib", "asynccontextmanager")
            decorators = [cst.Decorator(cst.Name("asynccontextmanager"))]
        elif plan.context_manager:
            decorators = [self._async_context_manager(d) for d in decorators]
        returns = node.returns
        if plan.renames:
            # A class holding the Session replaced by its parallel async class.
            params = cst.ensure_type(params.visit(_Rename(plan.renames)), cst.Parameters)
            body = _suite(body.visit(_Rename(plan.renames)))
            if returns is not None:
                returns = cst.ensure_type(returns.visit(_Rename(plan.renames)), cst.Annotation)
        if plan.returns is not None:
            returns = cst.Annotation(cst.parse_expression(plan.returns))
        if plan.async_generator and not plan.keep_sync and returns is not None:
            returns = self._async_iterator(returns)
        if self.plan.class_renames:
            params, body = self._retyped(params), self._retyped(body)
            returns = self._retyped(returns) if returns is not None else None
        migrated = node.with_changes(
            body=body,
            params=params,
            returns=returns,
            decorators=decorators,
            asynchronous=node.asynchronous if plan.keep_sync else node.asynchronous or cst.Asynchronous(),
        )
        if plan.rename is not None:
            migrated = migrated.with_changes(name=cst.Name(plan.rename))
        return _without_pragma(migrated) if plan.drop_pragma else migrated


_Retyped = TypeVar("_Retyped", bound=cst.CSTNode)
# What a generator's annotation becomes on its async twin.
_ASYNC_ITERATORS = {"Iterator": "AsyncIterator", "Iterable": "AsyncIterable", "Generator": "AsyncGenerator"}


class _ClassRenames(cst.CSTTransformer):
    """Names of classes replaced by their parallel async classes, also inside string
    annotations (`repo: "ItemRepo"`); records which names it replaced."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.renamed: set[str] = set()
        self.annotation = 0

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.annotation += 1

    def leave_Annotation(self, original: cst.Annotation, updated: cst.Annotation) -> cst.Annotation:
        self.annotation -= 1
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.names.get(updated.value)
        if new is None:
            return updated
        self.renamed.add(updated.value)
        return updated.with_changes(value=new)

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        if not self.annotation or not isinstance(updated.evaluated_value, str):
            return updated
        try:
            expression = cst.parse_expression(updated.evaluated_value)
        except cst.ParserSyntaxError:
            return updated
        inner = _ClassRenames(self.names)
        visited = expression.visit(inner)
        if not isinstance(visited, cst.CSTNode):
            return updated
        renamed = cst.Module([]).code_for_node(visited)
        if not inner.renamed or updated.quote in renamed or "\\" in renamed:
            return updated
        self.renamed |= inner.renamed
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{renamed}{updated.quote}")


def _returned(body: Sequence[cst.BaseSmallStatement]) -> cst.Return | None:
    """The `return value` ending a line of small statements, after which nothing runs."""
    last = body[-1] if body else None
    return last if isinstance(last, cst.Return) and last.value is not None else None


def _free_result_name(node: cst.FunctionDef) -> str:
    """`result` (or `result_2`, ...): a word the function's source never uses."""
    text = cst.Module([]).code_for_node(node)
    candidate, number = "result", 1
    while re.search(rf"\b{candidate}\b", text):
        number += 1
        candidate = f"result_{number}"
    return candidate


class _AsyncBody(cst.CSTTransformer):
    """Applies call actions by index, numbering calls in tree order like the collector."""

    def __init__(
        self,
        calls: dict[int, CallAction],
        eager: dict[int, tuple[str, tuple[str, ...], tuple[str, str, str, bool] | None]] | None = None,
        refreshes: list | None = None,
        result_name: str = "",
    ) -> None:
        self.calls = calls
        # `return helper(db, obj)` whose call commits: the value is bound to this name, refreshed,
        # then returned, since a refresh written after the `return` would never run.
        self.result_name = result_name or "result"
        self.eager = eager or {}
        self.refreshes: dict[int, list] = {}
        for refresh in refreshes or ():
            self.refreshes.setdefault(refresh.call, []).append(refresh)
        self.pending: list = []  # refreshes that follow the statement being rewritten
        self.count = 0
        self.index: dict[int, int] = {}
        self.with_items: set[int] = set()
        # `await s.get(M, pk)` written already (an earlier run's twin): the awaited call's id, and
        # then the await's -> the result method its select ends in
        self.awaited: set[int] = set()
        self.selects: dict[int, tuple[str, bool]] = {}
        self.imports: set[tuple[str, str]] = set()
        self.nested = 0
        self.classes = 0
        self.withs: dict[int, int] = {}  # a `with` statement of the own body -> its ordinal
        self.async_with: set[str] = set()  # FunctionPlan.async_with
        # (module as an import in the body may spell it, name) -> the twin that import binds too
        self.twinned: set[str] = set()  # local names bound beside an added twin: dropped if unused
        self.local_imports: dict[tuple[str, str], str] = {
            (spelled, action.local_import[1]): action.rename
            for action in calls.values() if action.local_import is not None and action.rename is not None
            for spelled in action.local_import[0]
        }

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # Nested scopes are numbered like everything else, never rewritten: `await`
        # cannot stand there, and planning blocks a function that would need it.
        self.nested += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.nested -= 1
        return updated

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested += 1

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.Lambda:
        self.nested -= 1
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        """`from crud import get_book` in the body: the twin the renamed call names is imported
        there too, where the function chose to import (an import at the top may be a cycle)."""
        if self.nested or not self.local_imports or isinstance(updated.names, cst.ImportStar):
            return updated
        written = get_full_name_for_node(updated.module) if updated.module is not None else None
        spelled = "." * len(updated.relative) + (written or "")
        bound = {a.evaluated_alias or a.evaluated_name for a in updated.names}
        added = []
        for alias in updated.names:
            twin = self.local_imports.get((spelled, alias.evaluated_name))
            if twin is not None and twin not in bound:
                added.append(twin)
                self.twinned.add(alias.evaluated_alias or alias.evaluated_name)
        if not added:
            return updated
        names = [*updated.names[:-1], updated.names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
        names += [cst.ImportAlias(cst.Name(twin)) for twin in dict.fromkeys(added)]
        return updated.with_changes(names=names)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes += 1

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes -= 1
        return updated

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            self.with_items.add(id(item.item))
        if not self.nested and not self.classes:
            # numbered in source order as `expired_reads.entered_key` numbers the own body's
            self.withs[id(node)] = len(self.withs)

    def visit_Call(self, node: cst.Call) -> None:
        self.index[id(node)] = self.count
        self.count += 1

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.awaited.add(id(node.expression))

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        selected = self.selects.pop(id(original.expression), None)
        if selected is None:
            return updated
        # `await s.get(M, pk)` -> `(await s.scalars(select(M)...)).one_or_none()`, as below
        ending, unique = selected
        awaited = _unique_if(updated.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]), unique)
        return cst.Call(func=cst.Attribute(value=awaited, attr=cst.Name(ending)), lpar=updated.lpar, rpar=updated.rpar)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        updated = _parenthesize_await(updated, "func")
        index = self.index[id(original)]
        action = self.calls.get(index)
        selected = None
        unique = True
        if index in self.eager and not self.nested:
            form, options, select = self.eager[index]
            if select is not None and action is not None and action.add_await:
                updated, selected = _get_as_select(updated, options, *select[:3])
                unique = select[3]
            elif select is not None and action is None and id(original) in self.awaited:
                updated, ending = _get_as_select(updated, options, *select[:3])
                self.selects[id(original)] = (ending, select[3])
            else:
                updated = _with_options(updated, form, options)
        if not self.nested and id(original) not in self.with_items:
            # a `with db.begin():` item commits where its block ends: refreshed after the block
            self.pending.extend(self.refreshes.get(index, ()))
        if action is None or self.nested:
            return updated
        if selected is not None:
            edited = call_rewrite(action.kind).edit(action, updated, in_with=False, imports=self.imports)
            parenthesized = edited.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            # `get()` de-duplicates what it loads; a select of a class with a joined eager
            # collection (`lazy="joined"` on it, a subclass or a mixin, or on what a joined
            # relationship leads to) raises InvalidRequestError without `.unique()` on every
            # request: added where the plan finds such a relationship may be (`plan._joins_rows`).
            return cst.Call(func=cst.Attribute(value=_unique_if(parenthesized, unique), attr=cst.Name(selected)))
        return call_rewrite(action.kind).edit(
            action, updated, in_with=id(original) in self.with_items, imports=self.imports
        )

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
        # `db.query(M).filter(...).delete()` as a statement: its row count was thrown away, and
        # `(await db.execute(delete(M)...)).rowcount` would keep a pointless attribute read.
        value = updated.value
        if (
            isinstance(original.value, cst.Call) and isinstance(value, cst.Attribute) and value.attr.value == "rowcount"
            and isinstance(value.value, cst.Await) and not value.lpar
        ):
            return updated.with_changes(value=value.value.with_changes(lpar=[], rpar=[]))
        return updated

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if not self.pending:
            return updated
        returned = _returned(updated.body)
        added = _refresh_statements(self.pending)
        named = next((r.name for r in self.pending if r.returned), None)
        self.pending = []
        if returned is not None:
            bound, ret = self._hoisted(returned, named)
            first = updated.with_changes(body=[*updated.body[:-1], bound])
            last = cst.SimpleStatementLine(body=[ret])
            return cst.FlattenSentinel([first, *added, last])
        return cst.FlattenSentinel([updated, *added])

    def _hoisted(self, returned: cst.Return, named: str | None = None) -> tuple[cst.Assign, cst.Return]:
        value = returned.value
        assert value is not None
        name = cst.Name(named or self.result_name)
        return cst.Assign(targets=[cst.AssignTarget(target=name)], value=value), returned.with_changes(value=name)

    def leave_SimpleStatementSuite(
        self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        if not self.pending:
            return updated
        added: list[cst.BaseSmallStatement] = []
        for refresh in self.pending:
            text = refresh.awaited()
            if refresh.each:  # no `for` statement after a `;`: a comprehension does the loop
                each, session = refresh.each, refresh.session
                text = f"[await {session}.refresh({each}) for {each} in {refresh.name} if {each} in {session}]"
            elif refresh.if_held:
                text += f" if {refresh.name} in {refresh.session} else None"
            elif refresh.maybe_none:
                text += f" if {refresh.name} is not None else None"
            added.append(cst.Expr(cst.parse_expression(text)))
        named = next((r.name for r in self.pending if r.returned), None)
        self.pending = []
        body = list(updated.body)
        returned = _returned(updated.body)
        tail: list[cst.BaseSmallStatement] = []
        if returned is not None:
            bound, ret = self._hoisted(returned, named)
            body[-1] = bound
            tail = [ret]
        body[-1] = body[-1].with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated.with_changes(body=[*body, *added, *tail])

    def leave_With(
        self, original: cst.With, updated: cst.With
    ) -> cst.With | cst.FlattenSentinel[cst.BaseStatement]:
        after = [] if self.nested else [
            refresh for item in original.items if (index := self.index.get(id(item.item))) is not None
            for refresh in self.refreshes.get(index, ())
        ]
        if not self.nested and id(original) in self.withs:
            # `with uow:` whose `__exit__` commits: refreshed after the block
            after += self.refreshes.get(entered_key(self.withs[id(original)]), [])
        for item in original.items:
            index = self.index.get(id(item.item))
            action = self.calls.get(index) if index is not None else None
            if action is not None and call_rewrite(action.kind).async_with(action):
                updated = updated.with_changes(asynchronous=cst.Asynchronous())
                break
        if (
            self.async_with and not self.nested and len(original.items) == 1
            and cst.Module([]).code_for_node(original.items[0].item) in self.async_with
        ):
            updated = updated.with_changes(asynchronous=cst.Asynchronous())
        if after:
            updated, ret = self._return_out_of(updated)
            tail = [cst.SimpleStatementLine(body=[ret])] if ret is not None else []
            return cst.FlattenSentinel([updated, *_refresh_statements(after), *tail])
        return updated

    def _return_out_of(self, block: cst.With) -> tuple[cst.With, cst.Return | None]:
        """`block` without the `return` ending its body, and that return, to stand after the
        refreshes: the response reads what it returns once the exit has committed, and a refresh
        after a block whose body returns would never run."""
        body = block.body
        lines: list[cst.BaseStatement] = list(body.body) if isinstance(body, cst.IndentedBlock) else []
        last = lines[-1] if lines else None
        small: Sequence[cst.BaseSmallStatement] = (
            body.body if isinstance(body, cst.SimpleStatementSuite)
            else last.body if isinstance(last, cst.SimpleStatementLine) else ()
        )
        returned = small[-1] if small and isinstance(small[-1], cst.Return) else None
        if returned is None:
            return block, None
        kept: list[cst.BaseSmallStatement] = list(small[:-1])
        ret = returned
        if returned.value is not None and not isinstance(returned.value, cst.Name):
            # evaluated where it was, before the exit, as the return evaluated it
            bound, ret = self._hoisted(returned)
            kept.append(bound)
        if kept:
            kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        if isinstance(body, cst.SimpleStatementSuite):
            suite: cst.BaseSuite = body.with_changes(body=kept or [cst.Pass()])
        elif kept and isinstance(last, cst.SimpleStatementLine):
            suite = body.with_changes(body=[*lines[:-1], last.with_changes(body=kept)])
        else:
            suite = body.with_changes(body=lines[:-1] or [cst.SimpleStatementLine(body=[cst.Pass()])])
        return block.with_changes(body=suite), ret.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return _parenthesize_await(updated, "value")

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.Subscript:
        return _parenthesize_await(updated, "value")


def _refresh_statements(refreshes: list) -> list[cst.BaseStatement]:
    """The statements refreshing what a commit point expired, in order."""
    added: list[cst.BaseStatement] = []
    for refresh in refreshes:
        refreshed = refresh.awaited()
        if refresh.each:
            # an object deleted or expunged meanwhile is detached, not expired: no refresh
            each, session = refresh.each, refresh.session
            added.append(cst.parse_statement(
                f"for {each} in {refresh.name}:\n    if {each} in {session}:\n        await {session}.refresh({each})\n"
            ))
        elif refresh.if_held:
            added.append(cst.parse_statement(f"if {refresh.name} in {refresh.session}:\n    {refreshed}\n"))
        elif refresh.maybe_none:
            added.append(cst.parse_statement(f"if {refresh.name} is not None:\n    {refreshed}\n"))
        else:
            added.append(cst.parse_statement(f"{refreshed}\n"))
    return added


def _names_read(body: cst.BaseSuite) -> set[str]:
    """Every name the body writes outside its imports."""
    found: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    body.visit(Names())
    return found


class _DropUnusedLocal(cst.CSTTransformer):
    """The helper's name a local import bound, which every call now reaches through the twin
    imported beside it: left, it would be an unused import."""

    def __init__(self, unused: set[str]) -> None:
        self.unused = unused
        self.nested = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.nested -= 1
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        if self.nested or isinstance(updated.names, cst.ImportStar):
            return updated
        kept = [a for a in updated.names if (a.evaluated_alias or a.evaluated_name) not in self.unused]
        if not kept or len(kept) == len(updated.names):
            return updated
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=kept)


class _Defaults(cst.CSTTransformer):
    """Parameters whose default is replaced by a name (`FunctionPlan.defaults`)."""

    def __init__(self, defaults: dict[str, str], annotations: dict[str, str]) -> None:
        self.defaults = defaults
        self.annotations = annotations

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        new = self.defaults.get(original.name.value)
        if new is None or updated.default is None:
            return updated
        annotation = self.annotations.get(original.name.value)
        if annotation is not None and updated.annotation is not None:
            updated = updated.with_changes(
                annotation=updated.annotation.with_changes(annotation=cst.parse_expression(annotation))
            )
        return updated.with_changes(default=cst.Name(new))


class _SessionParams(cst.CSTTransformer):
    def __init__(self, plan: FunctionPlan, stack: StackNames) -> None:
        self.plan = plan
        self.stack = stack

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        action = self.plan.params.get(original.name.value)
        if action is None:
            return updated
        return param_rewrite(action.kind).edit(action, updated, self.stack)


class _Rename(cst.CSTTransformer):
    """Renames dependency and alias names (`Depends(get_current_user)`, `current_user_dependency`)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.names.get(updated.value)
        return updated.with_changes(value=new) if new is not None else updated


def _redepend_routers(module: cst.Module, wanted: dict[str, dict[str, str]]) -> cst.Module:
    """`router = APIRouter(dependencies=[Depends(dep)])` -> `[Depends(dep_async)]`: only that
    argument, at module level, in an `if` or `try` too (the analysis reads the router there)."""
    return module.visit(_RouterRedepend(wanted))


_Assigned = TypeVar("_Assigned", cst.Assign, cst.AnnAssign)


class _RouterRedepend(cst.CSTTransformer):
    """The module-level assignments of `_redepend_routers`, not those in functions or classes."""

    def __init__(self, wanted: dict[str, dict[str, str]]) -> None:
        self.wanted = wanted

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        target = updated.targets[0].target if len(updated.targets) == 1 else None
        return self._renamed(updated, target)

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        return self._renamed(updated, updated.target)

    def _renamed(self, assign: _Assigned, target: cst.BaseExpression | None) -> _Assigned:
        value = assign.value
        if not isinstance(target, cst.Name) or target.value not in self.wanted or not isinstance(value, cst.Call):
            return assign
        renames = _Rename(self.wanted[target.value])
        args = [
            arg.with_changes(value=arg.value.visit(renames))
            if arg.keyword is not None and arg.keyword.value == "dependencies" else arg
            for arg in value.args
        ]
        return assign.with_changes(value=value.with_changes(args=args))


class _SessionFields(cst.CSTTransformer):
    """Renames the synchronous Session type to AsyncSession in the annotations of a class's
    fields: its body's `name: T`, and `self.name: T` in its methods (not in classes it nests)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.renamed: set[str] = set()
        self.depth = 0  # classes entered, the one retyped included

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        target = updated.target
        if not (
            isinstance(target, cst.Name)
            or isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"
        ):
            return updated
        annotation = updated.annotation
        for spelled in sorted(self.names):
            retyped = cst.ensure_type(annotation.visit(_SessionType(spelled)), cst.Annotation)
            if not retyped.deep_equals(annotation):
                self.renamed.add(spelled)
                annotation = retyped
        return updated.with_changes(annotation=annotation)


class _SessionType(cst.CSTTransformer):
    """One spelling of the synchronous Session type (`Session`, `orm.Session`) -> `AsyncSession`,
    written plain or inside a string (`"Session"`, `Optional["orm.Session"]`); an attribute's
    own name is no spelling (`models.Session` is not `Session`)."""

    def __init__(self, spelled: str) -> None:
        self.spelled = spelled

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return False

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        return cst.Name("AsyncSession") if get_full_name_for_node(updated) == self.spelled else updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value="AsyncSession") if updated.value == self.spelled else updated

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        text = updated.evaluated_value
        if not isinstance(text, str) or "b" in updated.prefix.lower():
            return updated
        try:
            expression = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return updated
        retyped = expression.visit(_SessionType(self.spelled))
        if not isinstance(retyped, cst.BaseExpression) or retyped.deep_equals(expression):
            return updated
        code = cst.Module([]).code_for_node(retyped)
        if updated.quote in code or "\\" in code:
            return updated
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{code}{updated.quote}")


def _redepend_includes(module: cst.Module, wanted: dict[int, dict[str, str]]) -> cst.Module:
    """`app.include_router(router, dependencies=[Depends(dep)])` -> `[Depends(dep_async)]`, in the
    include at each line: only that argument, and only there (the same list written for another
    include, whose routes stay, is left as it is)."""
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return module.visit(_IncludeRedepend(positions, wanted))


class _IncludeRedepend(cst.CSTTransformer):
    def __init__(self, positions: Mapping[cst.CSTNode, CodeRange], wanted: dict[int, dict[str, str]]) -> None:
        super().__init__()
        self.positions = positions
        self.wanted = wanted

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        position = self.positions.get(original)
        names = self.wanted.get(position.start.line) if position is not None else None
        if names is None or not (isinstance(updated.func, cst.Attribute) and updated.func.attr.value == INCLUDE_ROUTER):
            return updated
        renames = _Rename(names)
        return updated.with_changes(args=[
            arg.with_changes(value=arg.value.visit(renames))
            if arg.keyword is not None and arg.keyword.value == "dependencies" else arg
            for arg in updated.args
        ])


def _add_alias_twins(module: cst.Module, twins: list[tuple[str, str, dict[str, str]]]) -> cst.Module:
    """`alias_async = Annotated[T, Depends(dep_async)]` right after each `alias = ...`, in the
    alias's own form: `alias_async: TypeAlias = ...` after an annotated one, `type alias_async
    = ...` after a `type` statement (which FastAPI reads the same)."""
    wanted = {alias: (twin, names) for alias, twin, names in twins}
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        body.append(statement)
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        name = _alias_name(small)
        if name is None or name not in wanted:
            continue
        twin, names = wanted[name]
        if twin != name and any(_defines_name(s, twin) for s in module.body):
            continue  # a second run: the twin is there already
        copy: cst.BaseSmallStatement
        if isinstance(small, cst.Assign):
            copy = small.with_changes(
                targets=[small.targets[0].with_changes(target=cst.Name(twin))],
                value=small.value.visit(_Rename(names)),
            )
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            copy = small.with_changes(target=cst.Name(twin), value=small.value.visit(_Rename(names)))
        elif isinstance(small, cst.TypeAlias):
            copy = small.with_changes(name=cst.Name(twin), value=small.value.visit(_Rename(names)))
        else:
            continue
        if twin == name:  # the alias of a dependency moving in place: rewritten in place
            body[-1] = statement.with_changes(body=[copy])
            continue
        body.append(statement.with_changes(body=[copy], leading_lines=[]))
    return module.with_changes(body=body)


def _alias_name(small: cst.BaseSmallStatement) -> str | None:
    """The one name `X = ...`, `X: TypeAlias = ...` or `type X = ...` binds, or None."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target: cst.BaseExpression = small.targets[0].target
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target = small.target
    elif isinstance(small, cst.TypeAlias):
        target = small.name
    else:
        return None
    return target.value if isinstance(target, cst.Name) else None


def _defines_name(statement: cst.CSTNode, name: str) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return any(_alias_name(small) == name for small in statement.body)
    return isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name


def _pragma(line: cst.EmptyLine) -> bool:
    return line.comment is not None and line.comment.value.lstrip("#").strip().startswith(PRAGMA)


def _without_pragma(node: cst.FunctionDef) -> cst.FunctionDef:
    """The definition without its `# async-migrate:` comment lines: above it, between its
    decorators, before the `def`, and after the header's colon."""
    decorators = [
        d.with_changes(leading_lines=[line for line in d.leading_lines if not _pragma(line)])
        for d in node.decorators
    ]
    node = node.with_changes(
        decorators=decorators,
        leading_lines=[line for line in node.leading_lines if not _pragma(line)],
        lines_after_decorators=[line for line in node.lines_after_decorators if not _pragma(line)],
    )
    body = node.body
    if isinstance(body, cst.IndentedBlock) and body.header.comment is not None:
        if body.header.comment.value.lstrip("#").strip().startswith(PRAGMA):
            header = body.header.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))
            node = node.with_changes(body=body.with_changes(header=header))
    return node


# An expression that needs parentheses on the right of `==`.
_LOOSE = (cst.IfExp, cst.Lambda, cst.BooleanOperation, cst.Comparison, cst.NamedExpr, cst.UnaryOperation, cst.Await)


def _unique_if(result: cst.BaseExpression, unique: bool) -> cst.BaseExpression:
    """`result.unique()` when `unique`, else `result` as it is."""
    return cst.Call(func=cst.Attribute(value=result, attr=cst.Name("unique"))) if unique else result


def _get_as_select(
    call: cst.Call, options: tuple[str, ...], select: str, key: str, method: str
) -> tuple[cst.Call, str]:
    """`s.get(M, pk)` as `s.scalars(select(M).where(M.key == pk).options(...))` (`s.exec(...)`
    on SQLModel's AsyncSession, `method`) and the result method that ends it (after `.unique()`
    where that is needed: `plan._joins_rows`): `one_or_none`, for `get_one` `one`; see
    plan._plan_eager for why."""
    if not isinstance(call.func, cst.Attribute):
        raise ValueError("a get to rewrite as a select is a method call")
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keyed = [a for a in call.args if a.keyword is not None and a.keyword.value == "ident"]
    locking = [a for a in call.args if a.keyword is not None and a.keyword.value == "with_for_update"]
    if len(positional) + len(keyed) != 2 or len(call.args) != 2 + len(locking) or not positional:
        raise ValueError("a get to rewrite as a select passes the model and one primary key value only")
    entity, ident = positional[0].value, (positional[1:] or keyed)[0].value
    if isinstance(ident, _LOOSE):
        ident = ident.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    model = cst.Module([]).code_for_node(entity.with_changes(lpar=[], rpar=[]))
    statement = cst.parse_expression(f"{select}({model}).where({model}.{key} == __pk__).options()")

    class _Fill(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
            return ident if updated.value == "__pk__" else updated

    filled = statement.visit(_Fill())
    if not isinstance(filled, cst.Call):
        raise TypeError("a select statement is a call")
    filled = filled.with_changes(args=[cst.Arg(cst.parse_expression(text)) for text in options])
    for arg in locking:
        filled = _locked(filled, arg.value)
    ending = "one" if call.func.attr.value == "get_one" else "one_or_none"
    return call.with_changes(func=call.func.with_changes(attr=cst.Name(method)), args=[cst.Arg(filled)]), ending


def _locked(statement: cst.Call, value: cst.BaseExpression) -> cst.Call:
    """`statement.with_for_update(...)` for get()'s `with_for_update=` value: True locks plainly,
    False and None do not lock, a dict display gives the keywords (`{"nowait": True}`)."""
    if isinstance(value, cst.Name) and value.value in ("False", "None"):
        return statement
    if isinstance(value, cst.Name) and value.value == "True":
        args: list[cst.Arg] = []
    elif isinstance(value, cst.Dict):
        args = [cst.Arg(value, star="**")]
    else:
        raise ValueError("get()'s with_for_update= is True, False, None or a dict display to carry over")
    return cst.Call(func=cst.Attribute(value=statement, attr=cst.Name("with_for_update")), args=args)


def _with_options(call: cst.Call, form: str, options: tuple[str, ...]) -> cst.Call:
    """`s.get(M, pk, options=[...])` for a get; `stmt.options(...)` for a statement or a legacy query."""
    added = [cst.parse_expression(text) for text in options]
    if form == "get":
        args = list(call.args)
        for number, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == "options":
                if isinstance(arg.value, (cst.List, cst.Tuple)):
                    elements = [*arg.value.elements, *(cst.Element(a) for a in added)]
                    elements = [e.with_changes(comma=cst.MaybeSentinel.DEFAULT) for e in elements]
                    args[number] = arg.with_changes(value=arg.value.with_changes(elements=elements))
                else:
                    value = cst.List([cst.StarredElement(arg.value), *(cst.Element(a) for a in added)])
                    args[number] = arg.with_changes(value=value)
                return call.with_changes(args=args)
        if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        options_arg = cst.Arg(
            keyword=cst.Name("options"),
            value=cst.List([cst.Element(a) for a in added]),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
        )
        return call.with_changes(args=[*args, options_arg])
    inner = call.with_changes(lpar=(), rpar=())
    wrapped = cst.Call(func=cst.Attribute(value=inner, attr=cst.Name("options")), args=[cst.Arg(a) for a in added])
    return wrapped.with_changes(lpar=call.lpar, rpar=call.rpar)


def _closing(body: cst.BaseSuite, name: str) -> cst.BaseSuite:
    """An opener twin's body closing the AsyncSession `name = maker()` opened, as `async with
    maker() as name:` would: the original left the Session to its garbage collection, which an
    AsyncSession still holding a connection (a cancelled request) must not be left to."""
    if not isinstance(body, cst.IndentedBlock) or m.findall(
        body, m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("close")))
    ):
        return body
    statements = list(body.body)
    at = next((
        i for i, s in enumerate(statements)
        if m.matches(s, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(name))])]))
    ), None)
    if at is None or at + 1 == len(statements):
        return body
    close = cst.Finally(body=cst.IndentedBlock([cst.parse_statement(f"await {name}.close()")]))
    rest = statements[at + 1:]
    if len(rest) == 1 and isinstance(rest[0], cst.Try) and rest[0].finalbody is None:
        closed: cst.BaseStatement = rest[0].with_changes(finalbody=close)
    else:
        closed = cst.Try(body=cst.IndentedBlock(rest), finalbody=close)
    return body.with_changes(body=[*statements[: at + 1], closed])


def _suite(node: object) -> cst.BaseSuite:
    if not isinstance(node, cst.BaseSuite):
        raise TypeError(f"expected a function body, got {type(node).__name__}")
    return node


_Node = TypeVar("_Node", bound=cst.CSTNode)


def _parenthesize_await(node: _Node, field: str) -> _Node:
    """`await` binds looser than attribute access, subscription and calls."""
    value = getattr(node, field)
    if isinstance(value, cst.Await) and not value.lpar:
        return node.with_changes(**{field: value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])})
    return node


def _export_twins(module: cst.Module, exports: set[tuple[str, str]]) -> cst.Module:
    """A literal module-level `__all__` naming a re-exported helper names its twin after it."""
    body = list(module.body)
    for index, statement in enumerate(body):
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            continue
        assign = statement.body[0]
        if not (
            isinstance(assign, cst.Assign) and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == "__all__"
            and isinstance(assign.value, (cst.List, cst.Tuple))
        ):
            continue
        elements = list(assign.value.elements)
        written = [e.value.evaluated_value if isinstance(e.value, cst.SimpleString) else None for e in elements]
        for original, twin in sorted(exports):
            if original not in written or twin in written:
                continue
            at = written.index(original)
            quote = elements[at].value.value[0]  # type: ignore[attr-defined]
            copy = elements[at].with_changes(value=cst.SimpleString(f"{quote}{twin}{quote}"))
            if at == len(elements) - 1:
                # the new last element takes the original's comma (none, or a trailing one), but
                # for the comma that made `("name",)` a tuple, which two elements no longer need
                single = isinstance(assign.value, cst.Tuple) and len(elements) == 1
                copy = elements[at].with_changes(value=copy.value, comma=cst.MaybeSentinel.DEFAULT) if single else (
                    elements[at].with_changes(value=copy.value)
                )
                elements[at] = elements[at].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            elements.insert(at + 1, copy)
            written.insert(at + 1, twin)
        body[index] = statement.with_changes(body=[assign.with_changes(value=assign.value.with_changes(elements=elements))])
    return module.with_changes(body=body)
