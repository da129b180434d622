"""AM301 through a holder built on the `async with` line, at any depth of attributes.

`async with Outer() as o: o.inner.repo.count()` runs synchronous Session work the holder's
`__init__` set up (`self.session = SessionLocal()`, handed to objects it keeps) on the event
loop, and so does a `__aexit__` committing it; the holder is built where it is entered, bound to
a name or not. Near miss: a holder whose methods do no Session work."""

from __future__ import annotations

DB = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(engine)


class Repo:
    def __init__(self, session: Session):
        self.session = session

    def count(self) -> int:
        return self.session.scalar(text("SELECT count(*) FROM items"))


class Inner:
    def __init__(self, session: Session):
        self.repo = Repo(session)


class Outer:
    def __init__(self):
        self.session = SessionLocal()
        self.inner = Inner(self.session)

    async def __aenter__(self) -> "Outer":
        return self

    async def __aexit__(self, *args) -> None:
        self.session.commit()


class Quiet:
    async def __aenter__(self) -> "Quiet":
        return self

    async def __aexit__(self, *args) -> None:
        return None

    def count(self) -> int:
        return 0
"""
MAIN = """
from fastapi import FastAPI

from deep_db import Outer, Quiet

app = FastAPI()


@app.get("/deep")
async def deep() -> dict:
    async with Outer() as o:
        n = o.inner.repo.count()
    return {"n": n}


@app.get("/unnamed")
async def unnamed() -> dict:
    async with Outer():
        return {}


@app.get("/quiet")
async def quiet() -> dict:
    async with Quiet() as q:
        return {"n": q.count()}
"""


def test_sync_session_work_in_a_holder_built_on_the_with_line_is_am301(project, findings):
    root = project({"deep_db.py": DB, "deep_main.py": MAIN})
    deep = findings(root, "deep")
    assert [f["code"] for f in deep] == ["AM301"], deep
    assert "deep_db.Repo.count(...)" in deep[0]["message"] and "deep_db.Outer.__aexit__" in deep[0]["message"], deep
    unnamed = findings(root, "unnamed")
    assert [f["code"] for f in unnamed] == ["AM301"] and "deep_db.Outer.__aexit__" in unnamed[0]["message"], unnamed


def test_near_miss_a_holder_doing_no_session_work(project, findings):
    assert findings(project({"deep_db.py": DB, "deep_main.py": MAIN}), "quiet") == []
