"""AM286 await-splits-check: phase two blocks a function where it would await a Session call
between a check of shared state and the change the check decides; the near misses migrate."""

from __future__ import annotations

import pytest

ROUTE = """
import asyncio
import threading

SEEN: set[str] = set()
COUNTS: dict[str, int] = {{}}
ALOCK = asyncio.Lock()
TLOCK = threading.Lock()


@router.post("/books/{{key}}")
async def create_book(key: str, db: session_dependency):
    {body}
    return {{"ok": True}}
"""


def line_of(document_root, fragment):  # type: ignore[no-untyped-def]
    text = (document_root / "api/items.py").read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if fragment in line)


@pytest.mark.parametrize("body, read, write, awaited", [
    ("if key in SEEN:\n        return None\n    db.add(Book(title=key, author_id=1))\n    db.commit()\n    SEEN.add(key)",
     "key in SEEN", "SEEN.add(key)", "db.commit()"),
    ("n = COUNTS.get(key, 0)\n    db.flush()\n    COUNTS[key] = n + 1", "COUNTS.get(key, 0)", "COUNTS[key] = n + 1", "db.flush()"),
    # the first change comes before the await (safe), the later one after it
    ("if len(SEEN) > 5:\n        SEEN.clear()\n        db.commit()\n        SEEN.add(key)", "len(SEEN)", "SEEN.add(key)", "db.commit()"),
])
def test_an_await_phase_two_adds_between_check_and_change_blocks(phase2, entry, tmp_path, body, read, write, awaited):
    document = phase2(ROUTE.format(body=body))
    found = entry(document, "create_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM286"]), found
    root = tmp_path / "app"
    reason = found["reasons"][0]
    at = (line_of(root, read), line_of(root, write), line_of(root, awaited))
    assert reason.startswith("api/items.py:"), reason
    assert f"(`{read}` at line {at[0]})" in reason and f"(`{write}` at line {at[1]})" in reason, reason
    assert f"phase two would await `{awaited}` at line {at[2]} in between" in reason, reason


@pytest.mark.parametrize("body", [
    # the change made before the first await: no other request runs in between
    "if key in SEEN:\n        return None\n    SEEN.add(key)\n    db.add(Book(title=key, author_id=1))\n    db.commit()",
    # one asyncio lock held around the check, the await and the change
    "async with ALOCK:\n        if key in SEEN:\n            return None\n        db.commit()\n        SEEN.add(key)",
    # awaiting already in between: the race was there before phase two
    "if key in SEEN:\n        return None\n    await asyncio.sleep(0)\n    db.commit()\n    SEEN.add(key)",
    # a local set of its own
    "seen = set()\n    if key in seen:\n        return None\n    db.commit()\n    seen.add(key)",
])
def test_near_miss_no_new_await_between_a_shared_check_and_its_change_migrates(phase2, entry, body):
    found = entry(phase2(ROUTE.format(body=body)), "create_book")
    assert "AM286" not in found["codes"], found
    assert found["action"] == "migrate", found
