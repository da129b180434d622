"""Phase one's report counted the handlers it keeps that still block the event loop, but not
those it keeps because the analysis cannot tell whether they do synchronous Session work (AM125):
its headline read as if only the first could block, while `check` fails on the second (AM304).
They are counted (`unverified_handlers`) and named in the headline now."""

from __future__ import annotations

import json

MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import select

app = FastAPI()


@app.get("/unverified")
async def unverified(request: Request):
    with request.app.state.make_session() as db:
        return list(db.scalars(select(1)))


@app.get("/fine")
async def fine():
    return {}
"""


def test_the_report_counts_handlers_kept_as_unverified(cli, project):
    root = project({"main.py": MAIN})
    assert cli("phase1", root, "--report", str(root / "report.json")).exit_code == 0
    totals = json.loads((root / "report.json").read_text(encoding="utf-8"))["totals"]
    assert (totals["keep"], totals["still_blocking"], totals["unverified_handlers"]) == (2, 0, 1), totals
    # `unverified` counts what the Markdown's column does: the handler above and no endpoint
    assert (totals["unverified"], totals["unresolved_endpoints"]) == (1, 0), totals
    assert cli("phase1", root, "--report", str(root / "report.md")).exit_code == 0
    text = (root / "report.md").read_text(encoding="utf-8")
    assert "1 more handler it keeps may block it too" in text and "AM125" in text, text
    # the table beside the sentence counts it too, apart from routes with an unresolved endpoint
    assert "| still blocking | unverified | unresolved endpoints |" in text, text
    assert "| 2 | 0 | 2 | 0 | 0 | 1 | 0 |" in text, text


def test_near_miss_nothing_unverified_adds_no_sentence(cli, project):
    root = project({"main.py": MAIN.split('@app.get("/unverified")')[0] + '@app.get("/fine")\nasync def fine():\n    return {}\n'})
    assert cli("phase1", root, "--report", str(root / "report.md")).exit_code == 0
    text = (root / "report.md").read_text(encoding="utf-8")
    assert "may block it too" not in text, text
