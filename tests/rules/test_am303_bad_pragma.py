"""AM303 bad-pragma: an `# async-migrate: ignore[...]` pragma without a reason is a finding
itself; one with a reason silences the finding."""

from __future__ import annotations

ROUTE = """
@router.get("/items")
async def read_items(session: session_dependency):{pragma}
    return session.execute("select 1").all()
"""


def test_a_pragma_without_a_reason_is_an_am303_finding(app, findings):
    root = app(ROUTE.replace("{pragma}", "  # async-migrate: ignore[blocking-session]"))
    (finding,) = findings(root, "read_items")
    assert finding["code"] == "AM303"
    assert "gives no reason" in finding["message"]


def test_near_miss_a_pragma_with_a_reason_silences_the_finding(app, findings):
    root = app(ROUTE.replace("{pragma}", "  # async-migrate: ignore[blocking-session] tiny table, measured"))
    assert findings(root, "read_items") == []


# A signature over several lines: the pragma may end any of them, the `def` line included.
MULTILINE = """
from fastapi import Depends


@router.get("/items")
async def read_items(  {first}
    limit: int = 10,  {middle}
    session: session_dependency = None,
):  {last}
    await audit()
    return session.execute("select 1").all()


async def audit():
    return None
"""


def _multiline(first: str = "", middle: str = "", last: str = "") -> str:
    return MULTILINE.format(first=first, middle=middle, last=last)


import pytest  # noqa: E402


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_pragma_on_any_line_of_a_multiline_signature_silences(app, findings, cli, where):
    root = app(_multiline(**{where: "# async-migrate: ignore[AM301] reviewed, tiny table"}))
    assert findings(root, "read_items") == []
    silenced = cli.json("check", root)["silenced"]
    assert [(s["function"], s["code"]) for s in silenced] == [("read_items", "AM301")]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_an_unknown_code_on_any_line_of_a_multiline_signature_is_am303(app, findings, where):
    root = app(_multiline(**{where: "# async-migrate: ignore[AM999] reviewed"}))
    codes = [f["code"] for f in findings(root, "read_items")]
    assert "AM303" in codes and "AM301" in codes
    (bad,) = [f for f in findings(root, "read_items") if f["code"] == "AM303"]
    assert "`AM999`" in bad["message"]


def test_near_miss_a_pragma_in_the_body_belongs_to_no_signature(app, findings):
    root = app(_multiline().replace("    await audit()\n", "    await audit()  # async-migrate: ignore[AM301] body\n"))
    assert [f["code"] for f in findings(root, "read_items")] == ["AM301"]
