"""Every handler of the sample service gets the right action and reason.

The golden files are reviewed by hand; regenerate them with ASYNC_MIGRATE_REGEN=1
after a deliberate change and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import BOOKSHOP

GOLDEN = Path(__file__).parent / "golden"


def _document(cli, command: str, *extra: str) -> dict:
    document = cli.json(command, BOOKSHOP, *extra)
    assert document["root"] == str(BOOKSHOP.resolve())
    document["root"] = "<root>"
    return document


def _check(name: str, document: dict) -> None:
    path = GOLDEN / name
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if os.environ.get("ASYNC_MIGRATE_REGEN"):
        path.write_text(text, encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == document


@pytest.mark.parametrize(
    ("command", "extra", "golden"),
    [
        ("scan", (), "bookshop_scan.json"),
        ("phase1", (), "bookshop_phase1.json"),
        ("phase1", ("--offload-mixed",), "bookshop_phase1_offload.json"),
    ],
)
def test_sample_service_decisions_match_the_reviewed_golden_file(cli, command, extra, golden):
    _check(golden, _document(cli, command, *extra))


def test_golden_phase1_diff_touches_only_the_async_keyword():
    document = json.loads((GOLDEN / "bookshop_phase1.json").read_text(encoding="utf-8"))
    removed = [l[1:] for l in document["diff"].splitlines() if l.startswith("-") and not l.startswith("---")]
    added = [l[1:] for l in document["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert len(removed) == len(added) == sum(h["action"] == "convert" for h in document["handlers"])
    assert [line.replace("async def ", "def ", 1) for line in removed] == added
