"""The per-module pre-pass on Python's `ast`: one module's text in, picklable facts out.

`ast` parses many times faster than libcst, and the analysis needs no concrete
syntax tree: comments (pragmas) are read from the text of the lines they sit on.
`module` reads names, module-level values, classes and signatures; `body` reads
function bodies; `syntax` holds the helpers both share.
"""

from __future__ import annotations

import ast
import warnings

from async_migrate.codemods import facts


def parse(text: str, path: str = "<unknown>") -> ast.Module:
    """`ast.parse`, without the warnings the compiler prints about the code it reads
    (invalid escape sequences): they are the project's business, not the report's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, path)


def collect(path: str, text: str, name: str | None = None, tree: ast.Module | None = None) -> facts.Module:
    """The facts of the module at `path` (posix, relative to the root) whose text is `text`.

    Raises SyntaxError (and RecursionError, MemoryError) as `ast.parse` does.
    """
    from async_migrate.codemods.astcollect.module import Collector

    return Collector(path, text, tree if tree is not None else parse(text, path), name).collect()
