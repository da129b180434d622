"""AM314 and assigning a column left unloaded: `doc.body = data` on an object an AsyncSession
loaded without its deferred column (or with a `load_only` that leaves the column out) records
the new value and loads nothing, so `check` no longer reports it as the column's first read. An
augmented assignment (`doc.body += text`) reads the column first, as does a read of it on the
same line, and a column declared `active_history=True` that its query leaves out loads the value
it replaces when set: all three stay AM314. The premise test runs each route on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

MODELS = """
from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = deferred(mapped_column(Text))
    notes: Mapped[str] = mapped_column(Text, default="", deferred=True)
    audited: Mapped[str] = mapped_column(Text, default="", active_history=True)
"""
ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from docs import Doc


@router.post("/replaced")
async def replaced(db: AsyncSession):
    doc = await db.get(Doc, 1)
    doc.body = "new"
    doc.notes = "n"
    await db.commit()
    return {"ok": True}


@router.post("/narrowed")
async def narrowed(db: AsyncSession):
    doc = (await db.scalars(select(Doc).options(load_only(Doc.id)).where(Doc.id == 1))).one()
    doc.size = 3
    await db.commit()
    return {"ok": True}


@router.post("/appended")
async def appended(db: AsyncSession):
    doc = await db.get(Doc, 1)
    doc.body += " more"
    await db.commit()
    return {"ok": True}


@router.post("/read_back")
async def read_back(db: AsyncSession):
    doc = await db.get(Doc, 1)
    doc.body = doc.body.upper()
    await db.commit()
    return {"ok": True}


@router.post("/narrowed_counted")
async def narrowed_counted(db: AsyncSession):
    doc = (await db.scalars(select(Doc).options(load_only(Doc.id)).where(Doc.id == 1))).one()
    doc.size += 1
    await db.commit()
    return {"ok": True}


@router.post("/audited")
async def audited(db: AsyncSession):
    doc = (await db.scalars(select(Doc).options(load_only(Doc.id)).where(Doc.id == 1))).one()
    doc.audited = "seen"
    await db.commit()
    return {"ok": True}
"""
FILES = {"docs.py": MODELS}
WRITES = ["replaced", "narrowed"]
# what each reads, and why it loads: a deferred column, or one its query's `load_only` leaves out
DEFERRED = "a deferred column no query undefers"
UNLOADED = "a column its query leaves unloaded"
READS = {
    "appended": ("Doc.body", DEFERRED), "read_back": ("Doc.body", DEFERRED),
    "narrowed_counted": ("Doc.size", UNLOADED), "audited": ("Doc.audited", UNLOADED),
}


@pytest.mark.parametrize("function", WRITES)
def test_assigning_a_column_left_unloaded_is_no_finding(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


@pytest.mark.parametrize("function", READS)
def test_near_miss_an_augmented_assignment_a_read_or_active_history_is_am314(app, findings, function):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    column, why = READS[function]
    assert f"({column}, {why}" in found[0]["message"], found[0]["message"]
    assert (DEFERRED in found[0]["message"]) is (why == DEFERRED), found[0]["message"]


def test_the_premise_only_the_plain_assignments_run_without_a_query(tmp_path):
    def seed(docs):  # type: ignore[no-untyped-def]
        return [docs.Doc(id=1, title="a", size=1, body="old", notes="", audited="")]

    with async_routes(tmp_path, {"docs": MODELS}, ROUTES, seed) as client:
        codes = {path: client.post(f"/{path}").status_code for path in [*WRITES, *READS]}
    # MissingGreenlet loading the column: to add to it, to read it, to keep its old value
    assert codes == {
        "replaced": 200, "narrowed": 200, "appended": 500, "read_back": 500, "narrowed_counted": 500, "audited": 500,
    }
