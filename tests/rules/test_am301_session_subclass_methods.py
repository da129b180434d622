"""AM301 blocking-session (and phase one's AM115/AM116) through a method a project Session subclass
adds: `class DBSession(Session)` with `get_or_404` calling `self.get(...)`, handed out by
`sessionmaker(class_=DBSession)`, called as `db.get_or_404(...)` on a route's Session. The method
does the Session's I/O at the call line, whether the route declares `db: DBSession`, an
`Annotated[DBSession, Depends(...)]` alias, plain `Session` (the sessionmaker makes the subclass),
or opens it itself. Before, a mixed route with other blocking calls listed them but not this one:
after `phase1 --offload-mixed`, `check` said "No findings" while the method still ran on the loop.

Near misses: a method of the subclass doing no Session I/O (`label()`), and an unrelated class's
method named like a working one (`Tally().count(...)`), stay unreported."""

from __future__ import annotations

import pytest

SESSIONS = """
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./app.db")


class DBSession(Session):
    def get_or_404(self, model, ident):
        obj = self.get(model, ident)
        if obj is None:
            raise HTTPException(status_code=404)
        return obj

    def count(self, model) -> int:
        return self._count_of(model)

    def _count_of(self, model) -> int:
        return self.scalar(select(func.count()).select_from(model)) or 0

    def label(self, model) -> str:
        return f"{model.__name__} on {self.bind}"


SessionFactory = sessionmaker(engine, class_=DBSession, expire_on_commit=False)


def get_db() -> Iterator[DBSession]:
    with SessionFactory() as db:
        yield db


DbDep = Annotated[DBSession, Depends(get_db)]


class Tally:
    def count(self, model) -> int:
        return 0
"""

ROUTES = """
import asyncio

from fastapi import Depends
from sqlalchemy.orm import Session

from db.sessions import DBSession, DbDep, SessionFactory, Tally, get_db
from models import Item


def touch(db: Session) -> None:
    db.commit()


@router.get("/aliased/{item_id}")
async def aliased(item_id: int, db: DbDep):
    await asyncio.sleep(0)
    item = db.get_or_404(Item, item_id)
    touch(db)
    return {"name": item.name}


@router.get("/declared")
async def declared(db: DBSession = Depends(get_db)):
    await asyncio.sleep(0)
    n = db.count(Item)
    touch(db)
    return {"n": n}


@router.get("/plain")
async def plain(db: Session = Depends(get_db)):
    await asyncio.sleep(0)
    n = db.count(Item)
    touch(db)
    return {"n": n}


@router.get("/opened")
async def opened():
    await asyncio.sleep(0)
    with SessionFactory() as db:
        n = db.count(Item)
    return {"n": n}


@router.get("/labelled")
async def labelled(db: DbDep):
    await asyncio.sleep(0)
    text = db.label(Item)
    touch(db)
    return {"label": text}


@router.get("/tallied")
async def tallied(db: DbDep):
    await asyncio.sleep(0)
    n = Tally().count(Item)
    touch(db)
    return {"n": n}
"""

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"db/sessions.py": SESSIONS, "models.py": MODELS})


def _line(root, text: str) -> int:  # type: ignore[no-untyped-def]
    lines = (root / "api/items.py").read_text().splitlines()
    (found,) = [n for n, line in enumerate(lines, 1) if text in line]
    return found


def _calls(findings, root, route: str) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    (finding,) = findings(root, route)
    assert finding["code"] == "AM301", finding
    return [(b["line"], b["call"]) for b in finding["blocking"]]


def test_check_lists_the_subclass_method_at_its_call_line(findings, root):
    line = _line(root, "item = db.get_or_404(Item, item_id)")
    assert (line, "db.sessions.DBSession.get_or_404(...)") in _calls(findings, root, "aliased")


def test_check_lists_it_however_the_session_is_typed_or_opened(findings, root):
    counted = "db.sessions.DBSession.count(...)"
    lines = [n for n, text in enumerate((root / "api/items.py").read_text().splitlines(), 1) if "db.count(Item)" in text]
    assert len(lines) == 3
    for route, line in zip(("declared", "plain", "opened"), lines):
        assert (line, counted) in _calls(findings, root, route), route


def test_offload_mixed_offloads_the_subclass_method_call(app, cli, reported):
    root = app(ROUTES, {"db/sessions.py": SESSIONS, "models.py": MODELS})
    line = _line(root, "item = db.get_or_404(Item, item_id)")
    entry = reported(root, "aliased", "phase1", "--offload-mixed")
    assert "AM115" in entry["codes"], entry
    assert "AM116" not in entry["codes"], entry
    offloaded = entry["reasons"][entry["codes"].index("AM115")]
    assert str(line) in offloaded, offloaded
    result = cli("phase1", root, "--offload-mixed", "--apply")
    assert result.exit_code == 0, result.output
    text = (root / "api/items.py").read_text()
    assert "item = await run_in_threadpool(db.get_or_404, Item, item_id)" in text
    assert findings_after(cli, root, "aliased") == []


def findings_after(cli, root, route: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [f for f in cli.json("check", root, "--no-cache")["findings"] if f["function"] == route]


def test_without_offloading_phase_one_names_it_still_blocking(reported, root):
    line = _line(root, "item = db.get_or_404(Item, item_id)")
    entry = reported(root, "aliased", "phase1")
    still = entry["reasons"][entry["codes"].index("AM116")]
    assert f"line {line} (db.sessions.DBSession.get_or_404(...))" in still, still


def test_near_miss_a_subclass_method_doing_no_session_work(findings, root):
    calls = _calls(findings, root, "labelled")
    assert not any("label" in call for _, call in calls), calls
    assert [call for _, call in calls] == ["api.items.touch(...)"]


def test_near_miss_an_unrelated_class_with_a_method_of_that_name(findings, root):
    calls = _calls(findings, root, "tallied")
    assert [call for _, call in calls] == ["api.items.touch(...)"], calls
