"""Every handler of the sample service gets the right action and reason.

The golden files are reviewed by hand; regenerate them with ASYNC_MIGRATE_REGEN=1
after a deliberate change and read the diff before committing it.
"""

from __future__ import annotations

import json

import pytest
from conftest import GOLDEN, check_golden, regenerating


def _document(cli, root, command: str, *extra: str) -> dict:
    document = cli.json(command, root, *extra)
    assert document["root"] == str(root.resolve())
    document["root"] = "<root>"
    for volatile in ("version", "schema"):
        document.pop(volatile, None)
    return document


def _check(name: str, document: dict) -> None:
    check_golden(name, json.dumps(document, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize(
    ("command", "extra", "golden"),
    [
        ("scan", (), "bookshop_scan.json"),
        ("phase1", (), "bookshop_phase1.json"),
        ("phase1", ("--offload-mixed",), "bookshop_phase1_offload.json"),
    ],
)
def test_sample_service_decisions_match_the_reviewed_golden_file(cli, bookshop, command, extra, golden):
    before = {p: p.read_bytes() for p in bookshop.rglob("*.py")}
    _check(golden, _document(cli, bookshop, command, *extra))
    assert {p: p.read_bytes() for p in bookshop.rglob("*.py")} == before, "the dry run wrote"


def test_regenerating_goldens_is_refused_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("ASYNC_MIGRATE_REGEN", "1")
    monkeypatch.setenv("CI", "true")
    golden = GOLDEN / "bookshop_scan.json"
    before = golden.read_bytes()
    with pytest.raises(pytest.fail.Exception, match="refused under CI"):
        _check("bookshop_scan.json", {"not": "the golden"})
    assert golden.read_bytes() == before
    monkeypatch.setenv("CI", "false")
    assert regenerating()
    monkeypatch.delenv("ASYNC_MIGRATE_REGEN")
    monkeypatch.setenv("CI", "true")
    assert not regenerating()


def test_golden_phase1_diff_touches_only_the_async_keyword():
    document = json.loads((GOLDEN / "bookshop_phase1.json").read_text(encoding="utf-8"))
    removed = [text_line[1:] for text_line in document["diff"].splitlines() if text_line.startswith("-") and not text_line.startswith("---")]
    added = [text_line[1:] for text_line in document["diff"].splitlines() if text_line.startswith("+") and not text_line.startswith("+++")]
    assert len(removed) == len(added) == sum(h["action"] == "convert" for h in document["handlers"])
    assert [line.replace("async def ", "def ", 1) for line in removed] == added
