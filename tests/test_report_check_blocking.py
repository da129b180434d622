"""Phase one's report counts every handler `check` finds blocking the event loop.

The report's "still blocking" read only the Session work of the `async def` handlers phase one
keeps, while `check` also fails on a `def` route scheduling an `async def` background task that
blocks the loop (AM306): a trial's report said 3 handlers still block where `check` found 4.
The report now takes `check`'s blocking findings (rules named `blocking-...`) on every handler
phase one does not convert, so the two agree.
"""

from __future__ import annotations

import json

MAIN = """
from fastapi import BackgroundTasks, FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(engine)
app = FastAPI()


async def send_reminders(patient_id: int) -> None:
    with SessionLocal() as db:
        db.execute(select(patient_id))
        db.commit()
    await notify(patient_id)


async def notify(patient_id: int) -> None:
    return None


@app.post("/remind/{patient_id}")
def remind(patient_id: int, background: BackgroundTasks):
    background.add_task(send_reminders, patient_id)
    return {"queued": True}


@app.get("/feed")
async def feed(wait: int):
    with SessionLocal() as db:
        rows = db.execute(select(wait)).all()
    await notify(wait)
    return len(rows)
"""
# the task runs in the threadpool: nothing blocks the loop
PLAIN_TASK = MAIN.replace("async def send_reminders", "def send_reminders").replace(
    "    await notify(patient_id)\n", ""
)


def _check_blocking(cli, root) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    findings = cli.json("check", root)["findings"]
    return {(f["function"], f["code"]) for f in findings if f["name"].startswith("blocking-")}


def test_the_report_counts_a_def_route_whose_background_task_blocks_the_loop(cli, project):
    root = project({"main.py": MAIN})
    assert _check_blocking(cli, root) == {("remind", "AM306"), ("feed", "AM301")}
    assert cli("phase1", root, "--report", str(root / "report.json")).exit_code == 0
    document = json.loads((root / "report.json").read_text(encoding="utf-8"))
    assert document["totals"]["still_blocking"] == 2, document["totals"]
    blocking = {b["function"]: b for s in document["subsystems"] for b in s["still_blocking"]}
    assert sorted(blocking) == ["feed", "remind"], blocking
    assert blocking["remind"]["blocking"] == [
        {"line": 23, "call": "main.send_reminders(...)", "offloaded": False},
    ], blocking["remind"]
    assert any(f.startswith("AM306: def route schedules the coroutine function") for f in blocking["remind"]["fixes"])
    assert cli("phase1", root, "--report", str(root / "report.md")).exit_code == 0
    text = (root / "report.md").read_text(encoding="utf-8")
    assert (
        "2 handlers still block the event loop: 1 it keeps `async def`, 1 it leaves `def` whose work on the "
        "event loop blocks it." in text
    ), text
    still = text.split("Still blocking the event loop after phase one:", 1)[1]
    assert "| feed |" in still and "| remind |" in still, text


def test_near_miss_a_plain_def_task_blocks_nothing(cli, project):
    root = project({"main.py": PLAIN_TASK})
    assert _check_blocking(cli, root) == {("feed", "AM301")}
    assert cli("phase1", root, "--report", str(root / "report.md")).exit_code == 0
    text = (root / "report.md").read_text(encoding="utf-8")
    assert "1 handler it keeps `async def` still blocks the event loop." in text, text
    still = text.split("Kept `async def` but still blocking the event loop:", 1)[1]
    assert "| feed |" in still and "| remind |" not in still, text
