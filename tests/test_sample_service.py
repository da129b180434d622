"""Proof by running: the sample service's own API tests pass before and after phase one."""

from __future__ import annotations

import pytest
from conftest import BOOKSHOP
from sample import STRICT, copy_service, database, defined_tests, outcome_counts, run_service_tests


def passed(root, url) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The service's own tests, never-awaited coroutines turned into errors: the counts."""
    result = run_service_tests(root, url, pytest_args=STRICT)
    counts = outcome_counts(result)
    assert result.returncode == 0 and set(counts) == {"passed"}, result.stdout[-4000:] + result.stderr[-2000:]
    return counts


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
