"""Proof by running: the sample service's own API tests pass before and after phase one."""

from __future__ import annotations

import contextlib

import pytest

from conftest import BOOKSHOP
from sample import copy_service, postgres_available, run_service_tests, scratch_database


def _database(kind: str):  # type: ignore[no-untyped-def]
    if kind == "sqlite":
        return contextlib.nullcontext(None)
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    return scratch_database()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_service_tests_pass_before_and_after_phase1(cli, tmp_path, kind):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    with _database(kind) as url:
        before = run_service_tests(root, url)
        assert before.returncode == 0, before.stdout + before.stderr

        result = cli("phase1", root, "--apply")
        assert result.exit_code == 0, result.output
        converted = [p for p in root.rglob("*.py") if "async def" not in p.read_text()]
        assert converted, "phase one changed nothing"

        after = run_service_tests(root, url)
        assert after.returncode == 0, after.stdout + after.stderr
    assert cli("phase1", root, "--check").exit_code == 0
