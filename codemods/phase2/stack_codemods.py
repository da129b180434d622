"""The two codemods that carry out the async stack plan, one transformation each: `AddAsyncEngine`
in the module of the synchronous sessionmaker, `AddAsyncAlias` beside the synchronous alias
(Before/After on each).

Both only add what the module does not define yet, so running them twice changes nothing. Why
the generated dependency needs no `except: rollback`: the comment where `AddAsyncEngine` writes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.codemod import CodemodContext

from async_migrate.codemods import astcollect, facts, imports
from async_migrate.codemods.astcollect.module import Collector
from async_migrate.codemods.imports import ImportingCommand
from async_migrate.codemods.phase2 import drivers, import_order
from async_migrate.codemods.phase2.stack_plan import AliasEdit, EngineEdit, ModuleEdit
from async_migrate.codemods.vocabulary import ASYNC_SESSION_TYPES
from async_migrate.codemods.vocabulary.fastapi import DEPENDS_FUNCTION
from async_migrate.codemods.vocabulary.python import ANNOTATED, ASYNC_ITERATOR
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_SESSIONMAKERS,
    CONFIGURE_MAPPERS,
    CREATE_ASYNC_ENGINE,
    URL_TYPES,
)

_Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement  # what a module body holds

_ASYNCIO = "sqlalchemy.ext.asyncio"
_SYMBOLS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name -> (module to import it from, every reference that means the same)
    "create_async_engine": (_ASYNCIO, tuple(sorted(CREATE_ASYNC_ENGINE))),
    "async_sessionmaker": (_ASYNCIO, tuple(sorted(ASYNC_SESSIONMAKERS))),
    "AsyncSession": (_ASYNCIO, tuple(sorted(ASYNC_SESSION_TYPES))),
    "URL": ("sqlalchemy", tuple(sorted(URL_TYPES))),
    "AsyncIterator": ("collections.abc", tuple(sorted(ASYNC_ITERATOR))),
    "Annotated": ("typing", tuple(sorted(ANNOTATED))),
    "Depends": ("fastapi", tuple(sorted(DEPENDS_FUNCTION))),
    "configure_mappers": ("sqlalchemy.orm", tuple(sorted(CONFIGURE_MAPPERS))),
}


class _StackCommand(ImportingCommand):
    """Shared by the two codemods: module-level names, imports, insertion."""

    def _prepare(self, module: cst.Module) -> None:
        # The module-level names, read the way the pre-pass reads them (from the module's text:
        # the pre-pass reads `ast`).
        text = module.code
        try:
            tree = astcollect.parse(text)
        except SyntaxError:
            from async_migrate.codemods.astcollect.newer import readable

            text = readable(text)
            tree = astcollect.parse(text)
        names = Collector(self.context.filename or "module.py", text, tree)
        for statement in names.definitions(names.tree.body):
            names.define(statement)
        self.imports: dict[str, str] = names.facts.imports
        self.defined: set[str] = names.defined
        self.body: list[ast.stmt] = tree.body

    def has(self, name: str) -> bool:
        return name in self.defined or name in self.imports

    def symbol(self, name: str) -> str:
        """The local spelling of a library name, importing it when the module lacks it."""
        module, refs = _SYMBOLS[name]
        for local, imported in self.imports.items():
            if imported in refs:
                return local
        for local, imported in self.imports.items():  # `import typing` -> `typing.Annotated`
            for ref in refs:
                if ref.rsplit(".", 1)[0] == imported:
                    return f"{local}.{name}"
        if name in self.defined or name in self.imports:
            alias = f"_sa_{name}" if module.startswith("sqlalchemy") else f"_{name}"
            imports.add(self.context, module, name, alias)
            return alias
        imports.add(self.context, module, name)
        return name

    def session_symbol(self, ref: str) -> str:
        """The local spelling of a specific AsyncSession class (SQLModel's), imported if needed."""
        module, _, name = ref.rpartition(".")
        for local, imported in self.imports.items():
            if imported == ref:
                return local
        if name in self.defined or name in self.imports:
            alias = "SQLModelAsyncSession"
            imports.add(self.context, module, name, alias)
            return alias
        imports.add(self.context, module, name)
        return name

    def reference(self, module: str | None, name: str) -> str:
        """How this module spells `module.name`: the bare name (imported if needed), or
        `alias.name` when the module itself is imported (`from db import session as db`)."""
        if not module or module == self.context.full_module_name or name in self.defined:
            return name
        if self.imports.get(name) == f"{module}.{name}":
            return name
        for local, imported in self.imports.items():
            if imported == module and name not in self.imports:
                return f"{local}.{name}"
        imports.add(self.context, module, name)
        return name

    def needed(self, module: cst.Module, statements: Sequence[_Statement]) -> list[str]:
        """The module's own names that `statements` need bound above them when it is imported."""
        try:
            added = astcollect.parse_any(module.code_for_node(cst.Module(body=list(statements)))).body
        except SyntaxError:
            return []
        bound = import_order.bindings(self.body)
        postponed = import_order.future_annotations(self.body)
        return [
            need.name for statement in added for need in import_order.needs(statement, self.body, postponed)
            if need.name in bound
        ]

    @staticmethod
    def position(module: cst.Module, names: Iterable[str]) -> int | None:
        """Index just after the last top-level statement defining one of `names`, and never above
        a top-level import (None: nothing found, the end of the module)."""
        wanted = set(names)
        found = None
        for index, statement in enumerate(module.body):
            if _defines(statement) & wanted:
                found = index + 1
        if found is None:
            return None
        last_import = max((i + 1 for i, s in enumerate(module.body) if _imports(s)), default=0)
        return max(found, last_import)

    @staticmethod
    def insert(module: cst.Module, index: int | None, statements: Sequence[_Statement]) -> cst.Module:
        body = list(module.body)
        if index is None:
            index = len(body)
        after = body[index] if index < len(body) else None
        if after is not None and isinstance(statements[-1], (cst.FunctionDef, cst.ClassDef)):
            blank = sum(1 for line in after.leading_lines if line.comment is None)
            if blank < 2:
                after = after.with_changes(leading_lines=[*_blank(2 - blank), *after.leading_lines])
                body[index] = after
        body[index:index] = statements
        return module.with_changes(body=body)

    def parse(self, module: cst.Module, code: str, blank: int) -> _Statement:
        statement = cst.parse_statement(code, config=module.config_for_parsing)
        return statement.with_changes(leading_lines=_blank(blank))


class AddAsyncEngine(_StackCommand):
    """In the module of the synchronous sessionmaker: the async engine, sessionmaker and dependency.

    Before::

        engine = build_engine(DATABASE_URL)

        database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

    After::

        engine = build_engine(DATABASE_URL)

        database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


        def _async_url(url: URL) -> URL:
            ...  # the driver table of codemods.phase2.drivers


        async_engine = create_async_engine(_async_url(engine.url), pool_pre_ping=True)
        async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


        async def get_async_db_session() -> AsyncIterator[AsyncSession]:
            async with async_database_sessionmaker() as session:
                yield session
    """

    DESCRIPTION = (
        "Add the async engine, async_sessionmaker and async session dependency after the sync sessionmaker."
    )

    def __init__(self, context: CodemodContext, edit: EngineEdit) -> None:
        super().__init__(context)
        self.edit = edit

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module, edit = updated_node, self.edit
        self._prepare(module)
        indent = module.default_indent
        statements: list[_Statement] = []
        function_last = False

        def add(code: str, is_function: bool) -> None:
            nonlocal function_last
            blank = 2 if is_function or function_last or not statements else 0
            statements.append(self.parse(module, code, blank))
            function_last = is_function

        if edit.add_engine and not self.has(edit.engine):
            if edit.factory:
                factory = self.reference(*edit.factory.rsplit(".", 1))
                add(f"{edit.engine} = {factory}()\n", False)
            else:
                if not self.has(edit.url_helper):
                    url_type = self.symbol("URL")
                    add(drivers.url_helper_source(edit.url_helper, url_type).replace("    ", indent), True)
                sync_engine = edit.sync_engine
                if edit.sync_engine_module is not None:
                    sync_engine = self.reference(edit.sync_engine_module, sync_engine)
                arguments = [f"{edit.url_helper}({sync_engine}.url)"]
                arguments += [f"{keyword}={text}" for keyword, text in edit.engine_kwargs]
                if edit.runtime_options:
                    arguments.append(f"execution_options={sync_engine}.get_execution_options()")
                add(_call(edit.engine, self.symbol("create_async_engine"), arguments, indent), False)
        session = self.session_symbol(edit.session_class) if edit.session_class else None
        if edit.add_sessionmaker and not self.has(edit.sessionmaker):
            arguments = [edit.engine, "expire_on_commit=False"]
            if session is not None:
                arguments.append(f"class_={session}")
            arguments += [f"{k}={v}" for k, v in edit.session_kwargs if k != "expire_on_commit"]
            add(_call(edit.sessionmaker, self.symbol("async_sessionmaker"), arguments, indent), False)
        if edit.add_dependency and not self.has(edit.dependency):
            # No `except: await session.rollback(); raise` (SQLAlchemy 2.1.9, as installed):
            # `AsyncSession.__aexit__` awaits `self.close()` (sqlalchemy/ext/asyncio/session.py),
            # which runs `Session.close()` -> `Session._close_impl()` -> `SessionTransaction.close()`
            # for the transaction in progress (sqlalchemy/orm/session.py), which closes the
            # connection's root transaction -> `RootTransaction._close_impl()` rolls back while it is
            # active (sqlalchemy/engine/base.py), and the connection goes back to the pool, whose
            # reset-on-return rolls back again. FastAPI throws a request's exception into the
            # dependency at its `yield`, so the `async with` exits with it and the transaction is
            # rolled back; a request that ends without `commit()` is rolled back the same way,
            # exactly as with the synchronous `with database_sessionmaker() as session:`. The
            # runtime tests check this on SQLite and PostgreSQL.
            iterator, session = self.symbol("AsyncIterator"), session or self.symbol("AsyncSession")
            configure = self.symbol("configure_mappers") if edit.configure_mappers else None
            add(session_dependency(
                f"{edit.dependency}()", edit.sessionmaker, iterator, session, indent, edit.commit, configure
            ), True)
        if not statements:
            return updated_node
        # After the anchor, after every existing piece and module-level name the new code refers
        # to (carried keywords name settings too), and after the module's imports: a name the
        # new code uses may be imported below the anchor.
        names = [edit.anchor, edit.sync_engine.split(".")[0], edit.url_helper]
        if not edit.add_engine or self.has(edit.engine):
            names.append(edit.engine)
        if not edit.add_sessionmaker or self.has(edit.sessionmaker):
            names.append(edit.sessionmaker)
        for _, text in (*edit.engine_kwargs, *edit.session_kwargs):
            names.extend(_names_in(text))
        # And after what the new statements run at import: a configured factory defined at the
        # bottom of the module, and the globals its body reads.
        names.extend(self.needed(module, statements))
        return self.insert(module, self.position(module, names), statements)


class AddAsyncAlias(_StackCommand):
    """Beside the synchronous alias, its async twin.

    Before::

        session_dependency = Annotated[Session, Depends(get_db_session)]

    After::

        session_dependency = Annotated[Session, Depends(get_db_session)]
        async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]
    """

    DESCRIPTION = (
        "Add `Annotated[AsyncSession, Depends(get_async_db_session)]` beside the sync session alias."
    )

    def __init__(self, context: CodemodContext, edit: AliasEdit) -> None:
        super().__init__(context)
        self.edit = edit

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module, edit = updated_node, self.edit
        self._prepare(module)
        if self.has(edit.alias):
            return updated_node
        dependency = self.reference(edit.dependency_module, edit.dependency)
        annotated, depends = self.symbol("Annotated"), self.symbol("Depends")
        session = self.session_symbol(edit.session_class) if edit.session_class else self.symbol("AsyncSession")
        options = "".join(f", {keyword}={value}" for keyword, value in edit.options)
        code = f"{edit.alias} = {annotated}[{session}, {depends}({dependency}{options})]\n"
        # Below the dependency it names when that is defined here: a late import (`from app import
        # models` at the bottom, to register the models) puts the stack below the sync alias.
        local = [dependency] if "." not in dependency else []
        index = self.position(module, [edit.anchor, *local]) if edit.anchor else None
        if index is not None:
            below_dependency = bool(local) and self.position(module, local) == index
            return self.insert(module, index, [self.parse(module, code, 2 if below_dependency else 0)])
        index = self.position(module, [edit.dependency])
        return self.insert(module, index, [self.parse(module, code, 2)])


def rewrite(module: cst.Module, module_facts: facts.Module, edit: ModuleEdit) -> cst.Module:
    """One file's share of the async stack, in the shape `workers.Pool.rewrite` expects."""
    if edit.engine is not None:
        context = imports.context_for(module_facts.path, module_facts.name)
        module = AddAsyncEngine(context, edit.engine).transform_module(module)
    if edit.state is not None:
        from async_migrate.codemods.phase2.state_stack_edit import AddStateStack

        context = imports.context_for(module_facts.path, module_facts.name)
        module = AddStateStack(context, *edit.state).transform_module(module)  # type: ignore[arg-type]
    if edit.alias is not None:
        context = imports.context_for(module_facts.path, module_facts.name)
        module = AddAsyncAlias(context, edit.alias).transform_module(module)
    return module


def _defines(statement: cst.CSTNode) -> set[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return {statement.name.value}
    names: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.add(small.target.value)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        names.add(alias.asname.name.value)
                    else:
                        names.add(imports.source_of(alias.name))
    return names


def _imports(statement: cst.CSTNode) -> bool:
    """An import statement, or a `try:`/`if` block at the top level whose own body imports
    (`try: import ujson as json` / `except ImportError: import json`)."""
    if isinstance(statement, cst.SimpleStatementLine):
        return any(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
    if isinstance(statement, (cst.Try, cst.If)) and isinstance(statement.body, cst.IndentedBlock):
        return any(_imports(inner) for inner in statement.body.body)
    return False


def _names_in(text: str) -> list[str]:
    """The bare names an expression reads (`settings` in `settings.pool_size`)."""
    try:
        expression = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return []
    found: list[str] = []

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.append(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    expression.visit(_Names())
    return found


def _blank(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def session_dependency(
    signature: str, maker: str, iterator: str, session: str, indent: str, commit: bool, configure: str | None = None
) -> str:
    """The source of a generated async session dependency, `async def {signature} ->
    {iterator}[{session}]`, yielding a session of `maker()` (an expression) and committing it
    after the request when the synchronous dependency does (`commit`); calling `configure()`
    (the local name of `configure_mappers`) first when given."""
    return (
        f"async def {signature} -> {iterator}[{session}]:\n"
        f'{indent}"""Yield an AsyncSession for the duration of one request."""\n'
        + (
            f"{indent}# The migrated queries name relationships a backref adds to its class, which\n"
            f"{indent}# exist once the mappers are configured: building `select()` does not do it.\n"
            f"{indent}{configure}()\n"
            if configure else ""
        )
        + f"{indent}# Leaving the block closes the session, which rolls back whatever a failed\n"
        f"{indent}# request left uncommitted.\n"
        f"{indent}async with {maker}() as session:\n"
        f"{indent}{indent}yield session\n"
        + (
            f"{indent}{indent}# As the synchronous dependency does: what a request that succeeds\n"
            f"{indent}{indent}# added or flushed is saved.\n"
            f"{indent}{indent}await session.commit()\n"
            if commit else ""
        )
    )


def _call(target: str, function: str, arguments: list[str], indent: str, width: int = 88) -> str:
    one_line = f"{target} = {function}({', '.join(arguments)})\n"
    if len(one_line) <= width + 1 and "\n" not in one_line[:-1]:
        return one_line
    inner = "".join(f"{indent}{argument},\n" for argument in arguments)
    return f"{target} = {function}(\n{inner})\n"
