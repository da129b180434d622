"""The pre-pass on `ast` gives the facts the libcst one gives, field for field.

Over the sample services, the Python sources inside the tests, and (corpus-marked) the
installed third-party packages and the standard library. The one tolerated difference
is whitespace inside an argument's text that spans lines in an indented block: libcst
prints it dedented by the block's indentation, `ast` gives the source as written
(`tests/collect_diff.py`).
"""

from __future__ import annotations

import ast
import os
import sysconfig
import textwrap
from pathlib import Path

import pytest
from collect_diff import compare
from conftest import REPO, TESTDATA

from async_migrate.codemods import astcollect

TESTS = REPO / "tests"


def _sources(root: Path) -> list[Path]:
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".venv", "site-packages"))
        found += [Path(directory) / f for f in sorted(filenames) if f.endswith(".py")]
    return found


def _inline_sources() -> list[tuple[str, str]]:
    """String literals in the tests that are Python modules with a definition."""
    found = []
    for path in _sources(TESTS):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "def " in node.value:
                text = textwrap.dedent(node.value)
                try:
                    ast.parse(text)
                except SyntaxError:
                    continue
                found.append((f"{path.name}:{node.lineno}", text))
    return found


def _assert_same(files: list[tuple[str, str]]) -> None:
    failures = {}
    for name, text in files:
        found = compare("app/" + name.rsplit("/", 1)[-1].split(":")[0], text)
        if found:
            failures[name] = found[:5]
    assert not failures, "\n".join(f"{name}: {diffs}" for name, diffs in failures.items())


def test_the_sample_services_and_the_tests_give_the_same_facts():
    files = [(path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")) for path in _sources(TESTDATA)]
    files += [(path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")) for path in _sources(TESTS)]
    assert len(files) > 100
    _assert_same(files)


def test_the_sources_inside_the_tests_give_the_same_facts():
    files = _inline_sources()
    assert len(files) > 200
    _assert_same(files)


def test_the_shapes_ast_spells_apart_give_the_same_facts():
    """Argument order, parenthesised calls, names that are identifiers in `ast`, one-line suites."""
    source = textwrap.dedent(
        '''
        import os.path
        from fastapi import Depends, APIRouter
        from sqlalchemy.orm import Session, selectinload
        router = APIRouter()
        if TYPE: from x import y
        class A: x: int = 1

        @router.get("/b", dependencies=[Depends(audit)])  # async-migrate: ignore[AM101]
        async def b(db: Session = Depends(get_db), *, n: "int" = None, **kw):  # async-migrate: ignore
            import os.path as p
            global CACHE
            f(k=g(), *h(db))
            value = (
                db.execute(q)
                .scalars()
            )
            data = {k(): v() for k, v in items()}
            x = a() if b() else c()
            with db.begin() as tx, open(p) as handle:
                await (db.flush())
            try:
                pass
            except (KeyError,
                    ValueError) as db_error:
                pass
            class Inner(Base, metaclass=Meta):
                def method(self, db=None):
                    return db
            lambda db: db.close()
            return [r async for r in stream(db)]
        '''
    )
    assert not compare("app/b.py", source)
    (function,) = astcollect.collect("app/b.py", source).functions
    assert function.pragma == "ignore"
    assert [call.callee for call in function.calls[:3]] == ["f", "g", "h"]


@pytest.mark.corpus
def test_third_party_code_gives_the_same_facts():
    roots = [Path(sysconfig.get_paths()["stdlib"])]
    for name in ("fastapi", "starlette", "sqlalchemy", "pydantic", "libcst", "rich", "typer"):
        module = __import__(name)
        roots.append(Path(module.__file__).parent)  # type: ignore[arg-type]
    files = []
    for root in roots:
        for path in _sources(root):
            try:
                text = path.read_text(encoding="utf-8")
                ast.parse(text)
            except (UnicodeDecodeError, SyntaxError, ValueError):
                continue  # not the running Python's syntax: the libcst collector reads it
            if max(map(len, text.split("\n")), default=0) <= 20_000:
                files.append((path.as_posix(), text))
    assert len(files) > 2500
    _assert_same(files)
