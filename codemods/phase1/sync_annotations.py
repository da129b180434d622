"""Give a generator that phase one makes a plain `def` the synchronous return type.

Before::

    async def get_session() -> AsyncIterator[Session]:
        with SessionLocal() as session:
            yield session

After::

    def get_session() -> Iterator[Session]:
        with SessionLocal() as session:
            yield session

FastAPI does not read the annotation, but a type checker does: a `def` generator annotated
`AsyncIterator` fails it. `AsyncIterator`/`AsyncIterable` become `Iterator`/`Iterable`, and
`AsyncGenerator[Y, S]` becomes `Generator[Y, S, None]`, imported from the module the async
name came from (`typing.AsyncIterator` written in full keeps its module); the async name's
import goes when nothing else uses it.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext

from async_migrate.codemods import imports
from async_migrate.codemods.definitions import DefinitionCommand
from async_migrate.codemods.vocabulary.python import SYNC_ITERATORS


class SyncReturnAnnotations(DefinitionCommand):
    DESCRIPTION = "Annotate generators made `def` with the synchronous iterator types."

    def __init__(self, context: CodemodContext, modules: dict[str, str]) -> None:
        """`modules`: definition key -> the module to import the synchronous name from when the
        annotation names it bare (`collections.abc`, `typing`)."""
        super().__init__(context, modules)
        self.modules = modules

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        returns = node.returns
        if returns is None or not isinstance(returns.annotation, cst.Subscript):
            return node
        subscript = returns.annotation
        value = subscript.value
        if isinstance(value, cst.Name):
            written = value.value
        elif isinstance(value, cst.Attribute):
            written = value.attr.value
        else:
            return node
        sync = SYNC_ITERATORS.get(written)
        if sync is None:
            return node
        if isinstance(value, cst.Name):
            value = value.with_changes(value=sync)
            imports.add(self.context, self.modules[key], sync)
            imports.remove(self.context, self.modules[key], written)  # only if nothing else uses it
        else:
            value = value.with_changes(attr=cst.Name(sync))
        elements = list(subscript.slice)
        if written == "AsyncGenerator" and len(elements) == 2:
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            elements = [*elements[:-1], elements[-1].with_changes(comma=comma),
                        cst.SubscriptElement(cst.Index(cst.Name("None")))]
        annotation = subscript.with_changes(value=value, slice=elements)
        return node.with_changes(returns=returns.with_changes(annotation=annotation))
