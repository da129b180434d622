"""AM250 on a helper's parameters that every call hands plain data.

A configuration helper the route calls with literals (`conf.get("api", "page_size", "10")`) formats
its parameters and hands them on to another helper, which formats them too and reads a literal
table with `.get(key, 10)`; another formats a class's name and a length held in names: AM250 took each parameter for any object whose class defines `__repr__`
(a model's, reading a relationship) and blocked the route (airflow: hundreds of such reasons).
Every call from the route's closure hands literals, so the route migrates and runs on each
database. A helper some call hands a model, one used as a value (`map(label, ...)`), and one whose
omitted parameter defaults to an object still block.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_formatted_text import ITEMS, SCRIPT, tree

CONF = """
import os

DEFAULT = object()


def label(section, key, fallback=None):
    print(f"{section}.{key} {fallback}")
    return f"{section}"


def lookup(options, key):
    value = options.get(key, 10)
    print(f"{value} {options}")
    return value


def describe(value):
    kind = type(value).__name__
    size = len(value)
    print(f"{kind} of {size}")


def get(section, key, default):
    label(section, key)
    describe(os.environ)
    lookup({"page_size": 2, "name": None}, key)
    return os.environ.get(f"APP__{section.upper()}__{key.upper()}", default)
"""
# another route hands `label` an object no query of it loads
HANDS_A_MODEL = """

PINNED: dict[int, Item] = {}


@router.get("/first")
async def first_item(db: DbSession):
    count = len(db.scalars(select(Item.id)).all())
    return {"shown": conf.label(PINNED[1], "name"), "count": count}
"""


def reasons(cli, root):  # type: ignore[no-untyped-def]
    document = cli.json("phase2", root, "-s", "items.py")
    return {h["function"]: (h["action"], h["codes"], h["reasons"]) for h in document["handlers"]}


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_every_call_hands_literals_let_the_route_migrate_and_run(cli, project, kind):
    root = tree(project, ITEMS, CONF)
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in actions.items()} == {"list_items": "migrate", "add_item": "migrate"}, actions
    assert run_app(root, kind, SCRIPT, "plainargs", extra_env={"APP__API__PAGE_SIZE": "2"}) == {
        "created": [201, 201, 201], "listed": ["a", "b"], "stored": ["a", "b", "c"],
    }


def test_near_miss_a_call_handing_a_model_blocks_that_route(cli, project):
    found = reasons(cli, tree(project, ITEMS + HANDS_A_MODEL, CONF))
    action, codes, texts = found["first_item"]
    assert action == "blocked" and "AM250" in codes, found["first_item"]
    assert any("formatting `section`" in t and "Item.__repr__" in t for t in texts), texts
    assert found["list_items"][0] == "migrate", found["list_items"]  # its calls hand literals only


@pytest.mark.parametrize("change", [
    ("    label(section, key)\n", "    label(section, key)\n    list(map(label, [section]))\n"),  # handed on
    ("fallback=None", "fallback=DEFAULT"),  # an omitted parameter holding an object
    ('lookup({"page_size": 2, "name": None}, key)', "lookup({**os.environ}, key)"),  # an unpacked table
    ("options.get(key, 10)", "options.get(key, DEFAULT)"),  # a default that is an object
    ("size = len(value)", "size = sorted(value)"),  # a list of what `value` holds
])
def test_near_miss_what_may_hold_an_object_still_blocks(cli, project, change):
    conf = CONF.replace(*change)
    assert conf != CONF
    action, codes, texts = reasons(cli, tree(project, ITEMS, conf))["list_items"]
    assert action == "blocked" and "AM250" in codes, texts
