"""Proof by running, on the second sample (testdata/taskboard, the object style): its own
API tests pass on a copy before phase one, after `phase1 --apply` and after
`phase1 --offload-mixed --apply`, on SQLite and PostgreSQL, with never-awaited
coroutines turned into errors.

The decisions themselves are specified in tests/golden/taskboard_phase1.json and
checked by tests/test_sample2_golden.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import TASKBOARD
from sample import (
    STRICT,
    assert_all_passed,
    copy_service,
    database,
    defined_tests,
    run_service_tests,
    strip_pragmas,
)


def _run(root: Path, url: str | None) -> dict[str, int]:
    expected = defined_tests(root)
    assert_all_passed(run_service_tests(root, url, prefix="TASKBOARD", pytest_args=STRICT), expected)
    return {"passed": expected}


def _coroutine_functions(root: Path, relative: str) -> set[str]:
    """Qualified names (`Class.method` for methods) of the `async def`s in one file."""
    names: set[str] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.AsyncFunctionDef):
                names.add(prefix + child.name)

    visit(ast.parse((root / relative).read_text(encoding="utf-8")), "")
    return names


def _assert_converted(root: Path, document: dict) -> None:
    """Every handler the document says it converted is a plain `def` in the written file."""
    for handler in document["handlers"]:
        if handler["action"] == "convert":
            assert handler["function"] not in _coroutine_functions(root, handler["file"]), handler
            assert handler["file"] in document["files_changed"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_taskboard_api_tests_pass_before_and_after_phase1_and_offload(cli, tmp_path, kind):
    root = copy_service(TASKBOARD, tmp_path / "taskboard")
    expected = {"passed": defined_tests(root)}
    assert expected["passed"] >= 40
    with database(kind, prefix="taskboard") as url:
        assert _run(root, url) == expected

        document = cli.json("phase1", root, "--apply")
        assert document["errors"] == []
        _assert_converted(root, document)
        assert _run(root, url) == expected

        offload = cli.json("phase1", root, "--apply", "--offload-mixed")
        assert offload["errors"] == []
        assert not any(h["action"] == "convert" for h in offload["handlers"])  # phase one already done
        assert _run(root, url) == expected
    assert cli("phase1", root, "--check").exit_code == 0
    assert cli("phase1", root, "--check", "--offload-mixed").exit_code == 0


def test_taskboard_api_tests_pass_after_phase1_without_the_pragmas(cli, tmp_path):
    """The pragmas only acknowledge: without them phase one must still keep every handler
    that needs the event loop (the digest route fails with "no running event loop" otherwise)."""
    root = copy_service(TASKBOARD, tmp_path / "taskboard")
    strip_pragmas(root)
    document = cli.json("phase1", root, "--apply")
    assert document["errors"] == []
    _assert_converted(root, document)
    assert _run(root, None) == {"passed": defined_tests(root)}
