"""Phase one on a service whose routes reach loop-bound objects through its lifespan, a module
global, a dataclass field and a copied annotated set: only the route reaching none of them loses
`async`, and the migrated service still answers every route (a route made `def` wrongly raises
NoEventLoopError from a worker thread, or leaves a long poll hanging)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import write_tree

DB = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
SessionLocal = sessionmaker(bind=engine)


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db
"""

ROOMS = """
import asyncio
from dataclasses import dataclass, field


@dataclass
class Room:
    name: str
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = 0


ROOMS: dict[str, Room] = {}


def room(name: str) -> Room:
    return ROOMS.setdefault(name, Room(name))


class Broadcaster:
    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[str]] = set()

    def publish(self, msg: str) -> None:
        for q in list(self.subscribers):
            q.put_nowait(msg)


broadcaster = Broadcaster()
"""

MAIN = """
import asyncio
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from db import get_db
from rooms import broadcaster, room

TASKS: asyncio.TaskGroup | None = None
AUDITED: list[int] = []


@asynccontextmanager
async def lifespan(app: FastAPI):
    global TASKS
    async with anyio.create_task_group() as tg, asyncio.TaskGroup() as atg:
        app.state.tg = tg
        TASKS = atg
        yield
        tg.cancel_scope.cancel()


app = FastAPI(lifespan=lifespan)


async def audit(n: int) -> None:
    AUDITED.append(n)


@app.post("/spawn")
async def spawn(request: Request, db: Session = Depends(get_db)):
    n = db.execute(text("select 1")).scalar_one()
    request.app.state.tg.start_soon(audit, n)
    return {"n": n}


@app.post("/task")
async def task(db: Session = Depends(get_db)):
    n = db.execute(text("select 2")).scalar_one()
    assert TASKS is not None
    TASKS.create_task(audit(n))
    return {"n": n}


@app.post("/bump/{name}")
async def bump(name: str, db: Session = Depends(get_db)):
    r = room(name)
    r.version = db.execute(text("select 3")).scalar_one()
    r.changed.set()
    return {"version": r.version}


@app.get("/wait/{name}")
async def wait(name: str):
    r = room(name)
    await asyncio.wait_for(r.changed.wait(), 5)
    return {"version": r.version}


@app.post("/notes")
async def note(db: Session = Depends(get_db)):
    n = db.execute(text("select 4")).scalar_one()
    broadcaster.publish(str(n))
    return {"n": n}


@app.get("/plain")
async def plain(db: Session = Depends(get_db)):
    return {"n": db.execute(text("select 5")).scalar_one()}
"""

# Hits every route once phase one has run; the long poll is woken by the bump, on the loop.
CLIENT = """
import asyncio
import sys

import httpx

from main import app, AUDITED


async def main():
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.post("/spawn")).json() == {"n": 1}
            assert (await c.post("/task")).json() == {"n": 2}
            waiter = asyncio.create_task(c.get("/wait/r"))
            await asyncio.sleep(0.1)
            assert (await c.post("/bump/r")).json() == {"version": 3}
            assert (await asyncio.wait_for(waiter, 5)).json() == {"version": 3}
            assert (await c.post("/notes")).json() == {"n": 4}
            assert (await c.get("/plain")).json() == {"n": 5}
            await asyncio.sleep(0.1)
    assert sorted(AUDITED) == [1, 2], AUDITED
    print("ok")


asyncio.run(main())
"""


def test_phase_one_converts_only_the_route_reaching_no_loop_bound_object(cli, tmp_path: Path):
    root = write_tree(tmp_path / "svc", {"db.py": DB, "rooms.py": ROOMS, "main.py": MAIN})
    before = (root / "main.py").read_text(encoding="utf-8")
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 0, result.output
    after = (root / "main.py").read_text(encoding="utf-8")
    assert after == before.replace("async def plain(", "def plain("), result.output
    decisions = {h["function"]: (h["action"], h["codes"][0]) for h in cli.json("phase1", root)["handlers"]}
    for kept in ("spawn", "task", "bump", "note"):
        assert decisions[kept] == ("keep", "AM138"), decisions

    # The migrated service answers every route; run apart, under a time limit, so that a route
    # made `def` by mistake fails the test instead of hanging it.
    (root / "client.py").write_text(textwrap.dedent(CLIENT), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "client.py"], cwd=root, capture_output=True, text=True, timeout=60,
        env={"PYTHONASYNCIODEBUG": "1", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]
