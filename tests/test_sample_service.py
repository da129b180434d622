"""Proof by running: the sample service's own API tests pass before and after phase one."""

from __future__ import annotations

import pytest
from conftest import BOOKSHOP
from sample import STRICT, assert_all_passed, copy_service, database, defined_tests, run_service_tests


def passed(root, url) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The service's own tests, never-awaited coroutines turned into errors: the counts."""
    expected = defined_tests(root)
    assert_all_passed(run_service_tests(root, url, pytest_args=STRICT), expected)
    return {"passed": expected}


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("sqlite", ()),
        ("sqlite", ("--offload-mixed",)),
        pytest.param("postgres", (), marks=pytest.mark.postgres),
    ],
)
def test_service_tests_pass_before_and_after_phase1(cli, tmp_path, kind, options):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    expected = {"passed": defined_tests(root)}
    assert expected["passed"] >= 60
    with database(kind) as url:
        assert passed(root, url) == expected

        document = cli.json("phase1", root, "--apply", *options)
        assert document["errors"] == []
        assert sum(h["action"] == "convert" for h in document["handlers"]) >= 30
        if options:
            assert "run_in_threadpool(order_helper.place_order" in (root / "api/orders.py").read_text()

        assert passed(root, url) == expected
    assert cli("phase1", root, "--check").exit_code == 0
