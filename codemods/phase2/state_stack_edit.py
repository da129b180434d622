"""The libcst edit of `state_stack.py`'s plan: the async engine and sessionmaker a lifespan keeps on
the application's state, and the async dependency reading them. Apart from the plan so that the
analysis (`scan`'s preview reads the plan) never loads libcst."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext

from async_migrate.codemods.phase2 import drivers
from async_migrate.codemods.phase2.stack_codemods import _call, _StackCommand, session_dependency
from async_migrate.codemods.phase2.state_stack import DependencyEdit, LifespanEdit


class AddStateStack(_StackCommand):
    """In the lifespan's module: the async engine and sessionmaker on the application's state, and
    their disposal at shutdown; in the session dependency's module: the async dependency.

    Before::

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            engine = create_engine(url)
            app.state.SessionLocal = sessionmaker(bind=engine)
            yield

    After::

        def _async_url(url: URL) -> URL:
            ...  # the driver table of codemods.phase2.drivers


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            engine = create_engine(url)
            app.state.SessionLocal = sessionmaker(bind=engine)
            app.state.async_engine = create_async_engine(_async_url(engine.url))
            app.state.async_SessionLocal = async_sessionmaker(app.state.async_engine, expire_on_commit=False)
            yield
            await app.state.async_engine.dispose()
    """

    DESCRIPTION = "Add the async engine and sessionmaker beside a sessionmaker kept on the application's state."

    def __init__(
        self, context: CodemodContext, lifespan: LifespanEdit | None, dependency: DependencyEdit | None
    ) -> None:
        super().__init__(context)
        self.lifespan, self.dependency = lifespan, dependency

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module = updated_node
        self._prepare(module)
        if self.dependency is not None and not self.has(self.dependency.name):
            module = self._add_dependency(module, self.dependency)
        if self.lifespan is not None:
            module = self._add_lifespan(module, self.lifespan)
        return module

    def _add_dependency(self, module: cst.Module, edit: DependencyEdit) -> cst.Module:
        indent = module.default_indent
        iterator = self.symbol("AsyncIterator")
        session = self.session_symbol(edit.session_class) if edit.session_class else self.symbol("AsyncSession")
        code = session_dependency(
            f"{edit.name}({edit.connection}: {edit.annotation})", f"{edit.connection}.app.state.{edit.sessionmaker}",
            iterator, session, indent, edit.commit,
            self.symbol("configure_mappers") if edit.configure_mappers else None,
        )
        return self.insert(module, self.position(module, [edit.after]), [self.parse(module, code, 2)])

    def _add_lifespan(self, module: cst.Module, edit: LifespanEdit) -> cst.Module:
        body = list(module.body)
        index = next(
            (i for i, s in enumerate(body) if _function_named(s, edit.function) is not None), None
        )
        if index is None:  # planned on the module as read: a changed module is not guessed at
            raise ValueError(f"the lifespan `{edit.function}` is no longer a module-level function")
        function = _function_named(body[index], edit.function)
        assert function is not None and isinstance(function.body, cst.IndentedBlock)
        indent = module.default_indent
        state = f"{edit.head}.state"
        if any(f"{state}.{edit.engine} =" in module.code_for_node(s) for s in function.body.body):
            return module  # written already
        arguments = [f"{edit.url_helper}({edit.bind}.url)"]
        arguments += [f"{keyword}={text}" for keyword, text in edit.engine_kwargs]
        if edit.runtime_options:
            arguments.append(f"execution_options={edit.bind}.get_execution_options()")
        engine_code = _call(f"{state}.{edit.engine}", self.symbol("create_async_engine"), arguments, indent)
        maker_arguments = [f"{state}.{edit.engine}", "expire_on_commit=False"]
        if edit.session_class is not None:
            maker_arguments.append(f"class_={self.session_symbol(edit.session_class)}")
        maker_arguments += [f"{k}={v}" for k, v in edit.session_kwargs if k != "expire_on_commit"]
        maker_code = _call(f"{state}.{edit.sessionmaker}", self.symbol("async_sessionmaker"), maker_arguments, indent)
        start = [self.parse(module, engine_code, 0), self.parse(module, maker_code, 0)]
        stop = self.parse(module, f"await {state}.{edit.engine}.dispose()\n", 0)
        statements = list(function.body.body)
        target = f"{state}.{edit.attribute}"
        at = next(
            i for i, s in enumerate(statements)
            if isinstance(s, cst.SimpleStatementLine) and any(
                isinstance(small, cst.Assign) and len(small.targets) == 1
                and module.code_for_node(small.targets[0].target) == target for small in s.body
            )
        )
        statements[at + 1:at + 1] = start
        for i, statement in enumerate(statements):
            if _yields(statement):
                statements.insert(i + 1, stop)
                break
            if isinstance(statement, cst.Try) and statement.finalbody is not None and any(
                _yields(s) for s in statement.body.body
            ):
                final = statement.finalbody
                block = final.body.with_changes(body=[stop, *final.body.body])
                statements[i] = statement.with_changes(finalbody=final.with_changes(body=block))
                break
        function = function.with_changes(body=function.body.with_changes(body=statements))
        body[index] = function
        module = module.with_changes(body=body)
        if not self.has(edit.url_helper):
            helper = drivers.url_helper_source(edit.url_helper, self.symbol("URL")).replace("    ", indent)
            module = self.insert(module, index, [self.parse(module, helper, 2)])
        return module


def _function_named(statement: cst.CSTNode, name: str) -> cst.FunctionDef | None:
    if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
        return statement
    return None


def _yields(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Yield) for small in statement.body
    )
