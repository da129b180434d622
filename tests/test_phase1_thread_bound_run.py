"""Phase one and a sqlite3 connection the whole process shares, served as uvicorn serves it.

Uvicorn imports the application and runs the event loop on one thread: an `async def` route
uses a module-level `sqlite3.connect(...)` on the thread that made it. Converted to `def`, the
route ran on a threadpool worker, where sqlite3 refuses the connection on every request; phase
one keeps it (AM144) and `check` flags the converted form (AM336). The requests go through
httpx's ASGI transport on the importing thread, which is uvicorn's arrangement without a socket.
"""

from __future__ import annotations

import textwrap

from sample import run_json

MAIN = """
import sqlite3
from collections.abc import Iterator

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./x.db", connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(engine)
_cache = sqlite3.connect("./cache.db")
_cache.execute("create table if not exists hits (sku text)")


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


app = FastAPI()


@app.get("/products/{sku}")
async def product(sku: str, db: Session = Depends(get_db)):
    _cache.execute("insert into hits values (?)", (sku,))
    _cache.commit()
    return {"p": db.scalar(select(text("1")))}
"""
SERVE = """
import asyncio
import json

import httpx

from main import app


async def main():
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get(f"/products/{n}") for n in range(8)))
    return [r.status_code for r in responses]


statuses = asyncio.run(main())
print(json.dumps({"ok": statuses.count(200), "failed": statuses.count(500)}))
"""


def serve(root) -> dict:  # type: ignore[no-untyped-def]
    return run_json(textwrap.dedent(SERVE), cwd=root, timeout=300)


def test_phase_one_keeps_the_route_on_a_module_level_sqlite3_connection_and_it_keeps_serving(cli, tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(MAIN.lstrip(), encoding="utf-8")
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    (entry,) = [h for h in document["handlers"] if h["function"] == "product"]
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM144"), entry
    assert (root / "main.py").read_text() == MAIN.lstrip()
    assert serve(root) == {"ok": 8, "failed": 0}
    # The route as `def`, as phase one wrote it before AM144: every request fails, and check says why.
    (root / "main.py").write_text(MAIN.lstrip().replace("async def product", "def product"), encoding="utf-8")
    assert serve(root) == {"ok": 0, "failed": 8}
    found = [f for f in cli.json("check", root)["findings"] if f["function"] == "product"]
    assert [f["code"] for f in found] == ["AM336"], found
