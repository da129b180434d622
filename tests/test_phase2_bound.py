"""`phase2.bound`: whether a name is bound on every path to a statement (`bound_after`), and
where a `raise` after a statement leaves the function (`raised_after`)."""

from __future__ import annotations

import ast
from textwrap import dedent

import pytest

from async_migrate.codemods.phase2.bound import bound_after, raised_after


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


def _raised(source: str) -> int | None:
    text = "def f(p):\n" + "".join(f"    {line}\n" for line in dedent(source).strip("\n").splitlines())
    node = ast.parse(text).body[0]
    assert isinstance(node, ast.FunctionDef)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if "# here" in text_line)
    return raised_after(node, line)


def test_a_raise_after_a_rollback_in_a_handler_leaves_the_function():
    body = "try:\n    commit()\nexcept E:\n    rollback()  # here\n    log(p)\n    raise H(\n        409)\nreturn p.name"
    assert _raised(body) == 8  # the raise's last line: a read up to there still runs


@pytest.mark.parametrize("body", [
    "try:\n    commit()\nexcept E:\n    rollback()  # here\n    raise H\nfinally:\n    log(p)\nreturn p.name",
    "try:\n    rollback()  # here\n    raise H\nexcept H:\n    log(p.name)",
    "try:\n    try:\n        commit()\n    except E:\n        rollback()  # here\n        raise H\nexcept H:\n    log(p.name)",
    "with suppress(H):\n    rollback()  # here\n    raise H\nreturn p.name",
    "for q in p:\n    rollback()  # here\n    if q:\n        raise H\nreturn p.name",
    "rollback()  # here\nreturn p.name",
    "while p:\n    rollback()  # here\n    continue\n    raise H",
])
def test_near_miss_code_after_the_raise_may_still_run(body):
    assert _raised(body) is None
