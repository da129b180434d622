"""Phase two's report cites one cause once, with every place it blocks at.

A helper formatting several objects of a class whose `__repr__` reads a relationship blocks the
route at each line with the same explanation: the Markdown repeated it in the route's cell and in
one row per line (airflow: 443 blockers, 900 KB for six routes). Now the What blocks table has one
row for the cause, listing its lines and what each formats, and the route's cell counts its
reasons by code; the JSON keeps every blocker and adds `causes` referring to them.
"""

from __future__ import annotations

import json

from test_phase2_formatted_text import ITEMS, tree

ROUTE = """

PINNED: dict[int, Item] = {}


@router.get("/first")
async def first_item(db: DbSession):
    count = len(db.scalars(select(Item.id)).all())
    return {"shown": conf.shown(PINNED[1], PINNED[2], PINNED[3], PINNED[4]), "count": count}
"""
SHOWN = """

def shown(first, second, third, fourth):
    print(f"{first}")
    print(f"{second}")
    print(f"{third}")
    return f"{fourth}"
"""
CONF = """
def get(section, key, default):
    return default
"""


def test_one_cause_is_cited_once_with_its_places(cli, project, tmp_path):
    root = tree(project, ITEMS + ROUTE, CONF + SHOWN)
    markdown, document = tmp_path / "r.md", tmp_path / "r.json"
    for out in (markdown, document):
        assert cli("phase2", root, "-s", "items.py", "--report", out).exit_code == 0
    data = json.loads(document.read_text(encoding="utf-8"))
    blockers = data["subsystem"]["blockers"]
    formatting = [b for b in blockers if b["code"] == "AM250" and b["file"] == "conf.py"]
    assert [b["line"] for b in formatting] == [6, 7, 8, 9], blockers  # every blocker stays, in full
    [cause] = [c for c in data["subsystem"]["causes"] if c["code"] == "AM250"]
    assert cause["count"] == 4 and [blockers[i] for i in cause["blockers"]] == formatting, cause
    assert cause["message"] == formatting[0]["message"] and cause["handlers"] == ["first_item"], cause
    [first] = [h for h in data["subsystems"][0]["handlers"] if h["function"] == "first_item"]
    assert cause["id"] in first["causes"] and len(first["reasons"]) == 4, first

    text = markdown.read_text(encoding="utf-8")
    table = text.split("## What blocks", 1)[1]
    assert table.count("Item.__repr__") == 1, table
    assert "| conf.py:6, 7 (`second`, `__str__`), 8 (`third`, `__str__`), 9 (`fourth`, `__str__`) |" in table, table
    assert "(4 places)" in table and "4 blockers from 1 cause:" in table, table
    row = next(line for line in text.split("## What blocks", 1)[0].splitlines() if "| first_item |" in line)
    assert "4 reasons from 1 cause (AM250 ×4)" in row and row.count("Item.__repr__") == 1, row


def test_near_miss_few_reasons_are_shown_in_full(cli, project, tmp_path):
    root = tree(project, ITEMS + ROUTE.replace("PINNED[3], PINNED[4]", "'c', 'd'"),
                CONF + SHOWN.replace('f"{third}"', '"third"').replace('f"{fourth}"', '"fourth"'))
    markdown = tmp_path / "r.md"
    assert cli("phase2", root, "-s", "items.py", "--report", markdown).exit_code == 0
    text = markdown.read_text(encoding="utf-8")
    row = next(line for line in text.split("## What blocks", 1)[0].splitlines() if "| first_item |" in line)
    assert "reasons from" not in row and "conf.py:6: formatting `first` (`__str__`) may run" in row, row


def test_a_large_table_cuts_explanations_short_and_names_shared_places_once(tmp_path):
    # Two models' `__repr__` at each of the same 80 places, and 60 causes of one place each, every
    # explanation long: over a pull request description's size unless cut short; the JSON keeps all.
    from async_migrate.codemods.report import Report
    from cli.report_render import render_markdown

    tail = "; " + " ".join(f"Class{n}" for n in range(150))
    blockers = [
        {"file": "conf.py", "line": line, "code": "AM250",
         "message": f"formatting `v{line}` (`__str__`) may run __repr__ {model}.__repr__, which reads {model}.rel{tail}"}
        for line in range(1, 81) for model in ("Deadline", "Note")
    ] + [
        {"file": "other.py", "line": n, "code": "AM247", "message": f"`x` reads attribute number {n}{tail}"}
        for n in range(1, 61)
    ]
    report = Report("phase2", tmp_path, False, [], [], phase2={"name": "api/items.py", "blockers": blockers})
    markdown = render_markdown(report)
    table = markdown.split("## What blocks", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 62, rows[:3]
    assert rows[1].startswith("| the places of the row above | formatting `v1` (`__str__`) may run __repr__ Note.__repr__")
    assert rows[0].startswith("| conf.py:1, 2 (`v2`, `__str__`)") and "Deadline.__repr__" in rows[0], rows[0][:200]
    assert all(len(row.split(" | ", 1)[1]) < 700 for row in rows), max(rows, key=len)
    assert "explanations longer than 600 characters are cut short" in table and len(markdown) < 60_000, len(markdown)
    causes = report.to_json()["subsystem"]["causes"]
    assert [c["count"] for c in causes[:2]] == [80, 80] and causes[0]["message"] == blockers[0]["message"], causes[0]
