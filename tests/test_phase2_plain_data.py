"""Model code is not run on values the analysis knows are plain data.

A configuration helper the route calls formats the parts of `dotted_path.rsplit(".", 1)`, a
label looked up in a local literal table, and updates a dict built from a literal: AM250 took
each for any object whose class defines `__repr__` (or `update`), a model's among them reading
a relationship, and blocked the route. Every value there is a str or a dict of such: the route
migrates and runs on each database. A table one branch takes from a parameter still blocks.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_formatted_text import ITEMS, MODELS, SCRIPT, tree

# `Item.update` reads a relationship: a dict's `update` on an unknown receiver may be it
UPDATING = MODELS + """
    def update(self, data):
        self.owner.name = data["name"]
"""
CONF = """
import os


def import_name(dotted_path):
    module_path, class_name = dotted_path.rsplit(".", 1)
    print(f"loading {class_name} from {module_path}")
    return class_name


def get(section, key, default):
    labels = {"api": "API", "db": "Database"}
    label = labels.get(section)
    settings = {"page_size": default, "name": "items"}
    settings.update({"source": import_name("os.path.join")})
    print(f"section {label}: {settings}")
    return os.environ.get(f"APP__{section.upper()}__{key.upper()}", settings[key])
"""
# `labels` may be what the caller hands, or the default, an object: any object, a model among them
# (a parameter every call hands plain data, or leaves to a literal default, is plain data itself)
HANDED = CONF.replace("def get(section, key, default):", "def get(section, key, default, overrides=os.environ):").replace(
    'labels = {"api": "API", "db": "Database"}', 'labels = overrides if overrides else {"api": "API"}'
).replace("settings.update(", "labels.update(")


def plain_tree(project, conf: str = CONF):  # type: ignore[no-untyped-def]
    root = tree(project, ITEMS, conf)
    (root / "models.py").write_text(UPDATING)
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_on_plain_data_lets_the_route_migrate_and_run(cli, project, kind):
    root = plain_tree(project)
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in actions.items()} == {"list_items": "migrate", "add_item": "migrate"}, actions
    assert run_app(root, kind, SCRIPT, "plaindata", extra_env={"APP__API__PAGE_SIZE": "2"}) == {
        "created": [201, 201, 201], "listed": ["a", "b"], "stored": ["a", "b", "c"],
    }


def test_near_miss_a_table_a_caller_may_hand_still_blocks(cli, project):
    root = plain_tree(project, HANDED)
    document = cli.json("phase2", root, "-s", "items.py")
    [listed] = [h for h in document["handlers"] if h["function"] == "list_items"]
    assert listed["action"] == "blocked" and "AM250" in listed["codes"], listed
    assert any("formatting `label`" in r for r in listed["reasons"]), listed
    assert any("`labels.update()`" in r and "Item.update" in r for r in listed["reasons"]), listed
