"""A class-level table of literals is plain data, never a Session.

open_webui's `ChatMessageTable.get_messages_map_by_chat_id` renames keys through
`self.DB_TO_JSON_KEY_MAP.get(key, key)`, a dict display of strings in the class body: AM272 took
the `.get()` for a Session method on an attribute it could not type ("it may be a synchronous
Session") and blocked every route reaching it. The route migrates and runs on each database; a
table that also holds a name the analysis does not read still blocks.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_formatted_text import ITEMS, SCRIPT, tree

CONF = """
import os


class Settings:
    DB_TO_ENV_KEY_MAP = {"page_size": "PAGE_SIZE", "name": "NAME", "retries": 3}

    def get(self, section, key, default):
        env_key = self.DB_TO_ENV_KEY_MAP.get(key, key.upper())
        return os.environ.get("__".join(["APP", section.upper(), env_key]), default)


SETTINGS = Settings()


def get(section, key, default):
    return SETTINGS.get(section, key, default)
"""
# a value the display names rather than writes: what it holds is not read here
NAMED = CONF.replace('"retries": 3}', '"retries": RETRIES}').replace("import os\n", "import os\n\nRETRIES = 3\n")


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_table_of_literals_lets_the_route_migrate_and_run(cli, project, kind):
    root = tree(project, ITEMS, CONF)
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in actions.items()} == {"list_items": "migrate", "add_item": "migrate"}, actions
    assert run_app(root, kind, SCRIPT, "classtable", extra_env={"APP__API__PAGE_SIZE": "2"}) == {
        "created": [201, 201, 201], "listed": ["a", "b"], "stored": ["a", "b", "c"],
    }


def test_near_miss_a_table_holding_a_name_still_blocks(cli, project):
    root = tree(project, ITEMS, NAMED)
    document = cli.json("phase2", root, "-s", "items.py")
    [listed] = [h for h in document["handlers"] if h["function"] == "list_items"]
    assert listed["action"] == "blocked" and "AM272" in listed["codes"], listed
    assert any("`self.DB_TO_ENV_KEY_MAP.get()`" in r and "synchronous Session" in r for r in listed["reasons"]), listed
