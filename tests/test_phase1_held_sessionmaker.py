"""A module-level object holding a sessionmaker (`db = Database(url)` whose `__init__` sets
`self.SessionLocal = sessionmaker(...)`) makes a new Session on each `db.SessionLocal()`, as a
module-level sessionmaker does: phase one converts the route its dependency serves, and check
has no AM324 for the `def` form. The same object holding one Session it opened at import
(`self.session = sessionmaker(...)()`) is one Session for the whole process (AM126, AM324)."""

from __future__ import annotations

import pytest

SERVICE = """
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.SessionLocal = sessionmaker(bind=self.engine)
        self.session = self.SessionLocal()


db = Database("sqlite:///./app.db")


def get_db():
    session = {opened}
    try:
        yield session
    finally:
        session.close()


app = FastAPI()


@app.get("/two")
{prefix} two(session: Session = Depends(get_db)):
    return {{"two": session.execute(text("select 2")).scalar_one()}}
"""


@pytest.mark.parametrize(("opened", "action"), [("db.SessionLocal()", "convert"), ("db.session", "keep")])
def test_phase_one_tells_a_held_sessionmaker_from_a_held_session(cli, project, opened, action):
    root = project({"main.py": SERVICE.format(opened=opened, prefix="async def")})
    (route,) = [h for h in cli.json("phase1", root)["handlers"] if h["function"] == "two"]
    assert route["action"] == action, route
    assert ("AM126" in route["codes"]) is (action == "keep"), route


@pytest.mark.parametrize(("opened", "flagged"), [("db.SessionLocal()", False), ("db.session", True)])
def test_check_flags_the_def_route_only_on_the_held_session(cli, project, opened, flagged):
    root = project({"main.py": SERVICE.format(opened=opened, prefix="def")})
    codes = {f["code"] for f in cli.json("check", root)["findings"]}
    assert ("AM324" in codes) is flagged, codes
