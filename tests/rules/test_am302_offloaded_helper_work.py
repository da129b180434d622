"""AM302 and an `async def` helper on the route's AsyncSession whose only synchronous Session work
runs in a worker thread (`await run_in_threadpool(save_docs, ...)`): that work blocks no event
loop and is handed no AsyncSession, so it is no mixed-session finding. Done in place, or handed
the AsyncSession, it still is."""

from __future__ import annotations

import pytest

MAIN = """\
from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import scoped_session, sessionmaker

app = FastAPI()
ScopedSession = scoped_session(sessionmaker(bind=create_engine("sqlite:///./t.db")))
AsyncLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite:///./t.db"))


async def get_async_session():
    async with AsyncLocal() as s:
        yield s


class Vec:
    def __init__(self):
        self.session = ScopedSession

    def insert(self, rows):
        self.session.execute(text("select 1"))
        self.session.commit()


VEC = Vec()


def save_docs(request, docs, name):
    VEC.insert(docs)
    return True


async def index_file(request: Request, db: AsyncSession):
    await db.execute(text("select 1"))
    await db.commit()
    return {saved}


@app.post("/process")
async def process_file(request: Request, db: AsyncSession = Depends(get_async_session)):
    return await index_file(request, db)
"""


def test_work_an_async_helper_offloads_is_no_mixed_session_finding(cli, project):
    # open-webui's process_file: index_file saves the vectors through run_in_threadpool, and the
    # route was told it "calls synchronous session helpers at line 42 (index_file(...))".
    root = project({"app/__init__.py": "", "app/main.py": MAIN.format(saved='await run_in_threadpool(save_docs, request, [1], "c")')})
    document = cli.json("check", root)
    assert [f for f in document["findings"] if f["function"] == "process_file"] == [], document["findings"]


@pytest.mark.parametrize("saved", ['save_docs(request, [1], "c")', "await run_in_threadpool(save_docs, request, db, 'c')"])
def test_near_miss_work_done_in_place_or_handed_the_async_session_stays_am302(cli, project, saved):
    root = project({"app/__init__.py": "", "app/main.py": MAIN.format(saved=saved)})
    document = cli.json("check", root)
    codes = [f["code"] for f in document["findings"] if f["function"] == "process_file"]
    assert codes == ["AM302"], document["findings"]
