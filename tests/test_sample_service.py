"""Proof by running: the sample service's own API tests pass before and after phase one."""

from __future__ import annotations

import pytest
from conftest import BOOKSHOP
from sample import copy_service, database, run_service_tests


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
    with database(kind) as url:
        before = run_service_tests(root, url)
        assert before.returncode == 0, before.stdout + before.stderr

        document = cli.json("phase1", root, "--apply", *options)
        assert document["errors"] == []
        assert sum(h["action"] == "convert" for h in document["handlers"]) >= 30
        if options:
            assert "run_in_threadpool(order_helper.place_order" in (root / "api/orders.py").read_text()

        after = run_service_tests(root, url)
        assert after.returncode == 0, after.stdout + after.stderr
    assert cli("phase1", root, "--check").exit_code == 0
