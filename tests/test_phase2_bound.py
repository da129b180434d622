"""`phase2.bound.bound_after`: whether a name is bound on every path to a statement."""

from __future__ import annotations

import ast
from textwrap import dedent

import pytest

from async_migrate.codemods.phase2.bound import bound_after


def _bound(source: str, name: str = "x", whole_with: bool = False) -> bool:
    """`source` is a function body; the statement asked about is the one on the line marked `# here`."""
    text = "def f(p):\n" + "".join(f"    {line}\n" for line in dedent(source).strip("\n").splitlines())
    node = ast.parse(text).body[0]
    assert isinstance(node, ast.FunctionDef)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if "# here" in text_line)
    return bound_after(node, name, line, whole_with=whole_with)


@pytest.mark.parametrize("body", [
    "x = 1\ncommit()  # here",
    "a, (b, x) = f()\ncommit()  # here",
    "if p:\n    x = 1\nelse:\n    x = 2\ncommit()  # here",
    "if not p:\n    raise E\nelse:\n    x = 2\ncommit()  # here",
    "if p:\n    x = 1\n    commit()  # here",
    "with open(p) as x:\n    commit()  # here",
    "for x in p:\n    commit()  # here",
    "try:\n    x = 1\nexcept E:\n    return\ncommit()  # here",
    "try:\n    x = 1\n    commit()  # here\nexcept E:\n    pass",
    "with begin():  # here\n    x = 1",
    "import os as x\ncommit()  # here",
])
def test_bound_on_every_path(body):
    assert _bound(body, whole_with="with begin" in body)


@pytest.mark.parametrize("body", [
    "if p:\n    x = 1\ncommit()  # here",
    "for _ in p:\n    x = 1\ncommit()  # here",
    "while p:\n    x = 1\ncommit()  # here",
    "try:\n    x = 1\nexcept E:\n    pass\ncommit()  # here",
    "try:\n    x = 1\nfinally:\n    commit()  # here",
    "try:\n    x = 1\nexcept E:\n    commit()  # here",
    "with begin():  # here\n    if p:\n        x = 1",
    "commit()  # here\nx = 1",
])
def test_near_miss_bound_on_some_paths_only(body):
    assert not _bound(body, whole_with="with begin" in body)


def test_a_parameter_is_bound():
    assert _bound("commit()  # here", name="p")
