"""AM132 in a startup handler under `phase1 --offload-mixed`: work on a thread-local
`scoped_session` (a model's active-record `save()` committing on it) is not offloaded, as a route's
is not: in a worker thread it would run on that worker's own Session, which nothing there
removes. Work on a Session of the helper's own still is."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(bind=engine)
db_session = scoped_session(SessionLocal)
Base = declarative_base()
Base.query = db_session.query_property()


class CRUDMixin:
    def save(self):
        db_session.add(self)
        db_session.commit()
        return self


class Tag(CRUDMixin, Base):
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    name = Column(String)


def seed_own():
    with SessionLocal() as session:
        session.add(Tag(name="x"))
        session.commit()
"""

MAIN = """
from fastapi import FastAPI

from api.items import router
from db import SessionLocal, Tag, db_session, seed_own

app = FastAPI()
app.include_router(router)


@app.on_event("startup")
async def seed():
BODY
"""

ROUTE = """
@router.get("/ping")
async def ping():
    return {}
"""


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTE, {"db.py": REGISTRY, "main.py": MAIN.replace("BODY", body)})


@pytest.mark.parametrize(
    "tail",
    ["", "\n    db_session.remove()"],
    # its own `remove()` runs on the loop thread: it ends no worker's Session
    ids=["no-remove", "removes-on-the-loop"],
)
def test_registry_work_in_a_startup_handler_is_not_offloaded(app, reported, cli, tail):
    root = _root(app, '    if not Tag.query.first():\n        Tag(name="x").save()' + tail)
    before = (root / "main.py").read_bytes()
    entry = reported(root, "seed", "phase1", "--offload-mixed")
    assert entry["action"] == "keep" and "AM115" not in entry["codes"], entry
    [reason] = [r for c, r in zip(entry["codes"], entry["reasons"], strict=True) if c == "AM132"]
    assert reason.startswith("not offloaded: its Session work at main.py:12 (`Tag.query.first()`) is on `Tag.query`")
    assert "that worker's own Session, which no `remove()` there ends" in reason, reason
    assert not any(b["offloaded"] for b in entry["blocking"]), entry
    result = cli("phase1", "--offload-mixed", "--apply", root)
    assert result.exit_code == 0, result.output
    assert (root / "main.py").read_bytes() == before
    assert "run_in_threadpool" not in result.output and "not offloaded" in result.output, result.output


def test_near_miss_a_helper_on_a_session_of_its_own_is_still_offloaded(app, reported, cli):
    root = _root(app, "    seed_own()")
    entry = reported(root, "seed", "phase1", "--offload-mixed")
    assert "AM115" in entry["codes"] and "AM132" not in entry["codes"], entry
    result = cli("phase1", "--offload-mixed", "--apply", root)
    assert result.exit_code == 0, result.output
    assert "    await run_in_threadpool(seed_own)\n" in (root / "main.py").read_text()
