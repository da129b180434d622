"""AM125 / AM304: a module-level display of functions whose elements (a list it holds) code
changes in place (`HOOKS[k].append(purge)`), or a local name for it (`hooks = HOOKS`), is not read
whole: a call out of it is unverified."""

from __future__ import annotations

import pytest

HOOKS = """
from sqlalchemy import text

from db.engine import database_sessionmaker

SINK = []


def notify(db):
    SINK.append(db)


def purge(db):
    with database_sessionmaker() as session:
        session.execute(text("delete from items"))


HOOKS = {"a": [notify]}
NESTED = [[notify]]


def install(k):
    {write}
"""

ROUTE = """
from hooks import HOOKS, NESTED


@router.post("/run/{{k}}")
async def run(k: str):
    for fn in {table}[k]:
        fn(None)
"""


# Each adds `purge`, which does synchronous Session work, to a list the display holds.
@pytest.mark.parametrize(("write", "table"), [
    ("HOOKS[k].append(purge)", "HOOKS"),
    ("HOOKS.get(k).extend([purge])", "HOOKS"),
    ("HOOKS.setdefault(k, [])[0] = purge", "HOOKS"),
    ("NESTED[0].insert(0, purge)", "NESTED"),
    ("hooks = HOOKS[k]\n    hooks.append(purge)", "HOOKS"),
    ("for hooks in HOOKS.values():\n        hooks.append(purge)", "HOOKS"),
    ("pass\n\n\nHOOKS['a'].append(purge)", "HOOKS"),  # at module level
    ("pass\n\n\nfor hooks in HOOKS.values():\n    hooks.append(purge)", "HOOKS"),  # a module-level loop
    ("pass\n\n\nfor hooks in NESTED:\n    if hooks:\n        hooks.insert(0, purge)", "NESTED"),
    ("pass\n\n\nhooks = HOOKS['a']\nhooks.append(purge)", "HOOKS"),  # a module-level name for an element
    ("hooks = HOOKS\n    hooks['b'] = [purge]", "HOOKS"),  # a local name for the display itself
    ("hooks = NESTED\n    for each in hooks:\n        each.append(purge)", "NESTED"),
])
def test_a_list_a_display_holds_extended_in_place_keeps_with_am125(app, reported, findings, write, table):
    root = app(ROUTE.format(table=table), {"hooks.py": HOOKS.replace("{write}", write)})
    entry = reported(root, "run", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
    assert entry["reasons"][0].startswith(
        f"unverified: `fn()` runs a value taken from `{table}`, which code elsewhere changes or is handed to"
    ), entry
    assert [f["code"] for f in findings(root, "run")] == ["AM304"]


@pytest.mark.parametrize("write", [
    "print(HOOKS[k][0], len(HOOKS.get(k)))",
    "hooks = HOOKS[k]\n    print(hooks.index(notify))",
    "hooks = HOOKS\n    print(hooks['a'], hooks.get(k))",
    "pass\n\n\nfor hooks in HOOKS.values():\n    print(hooks.index(notify))",
    "pass\n\n\nSEEN = []\nfor hooks in HOOKS.values():\n    SEEN.append(hooks)",
])
def test_near_miss_a_display_whose_elements_are_only_read_keeps_with_am105(app, reported, findings, write):
    root = app(ROUTE.format(table="HOOKS"), {"hooks.py": HOOKS.replace("{write}", write)})
    assert reported(root, "run", "phase1")["codes"] == ["AM105"]
    assert findings(root, "run") == []
