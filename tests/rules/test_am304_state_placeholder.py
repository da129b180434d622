"""AM304 unverified-session from `app.state.engine = None` in a lifespan's teardown: the placeholder
made what the application state keeps under `engine` (and `maker`) unknown, so a route connecting
on `request.app.state.engine` got AM304 with advice to annotate a dependency, and a route opening
`request.app.state.maker()` was not reported at all. A `None` holds nothing a handler could use:
the assignments that keep an engine or a sessionmaker there decide (AM306, AM301), as without the
line. Near miss: an engine from code the analysis cannot read stays unverified."""

from __future__ import annotations

MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from models import Book


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.engine = {engine}
    app.state.maker = sessionmaker(app.state.engine)
    yield
    app.state.engine.dispose()
    app.state.engine = None
    app.state.maker = None


app = FastAPI(lifespan=lifespan)


@app.get("/connected")
async def connected(request: Request):
    with request.app.state.engine.connect() as conn:
        n = conn.execute(text("select 1")).scalar()
    return {{"n": n}}


@app.get("/made/{{book_id}}")
async def made(book_id: int, request: Request):
    with request.app.state.maker() as s:
        book = s.get(Book, book_id)
    return {{"title": book.title}}
"""


def _findings(project, app_files, cli, engine: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    from test_phase2_rules import MODELS

    root = project({**app_files, "models.py": MODELS, "main.py": MAIN.format(engine=engine)})
    document = cli.json("check", root)
    found: dict[str, list[str]] = {}
    for finding in document["findings"]:
        found.setdefault(finding["function"], []).append(finding["code"])
    return found


def test_a_teardown_none_leaves_the_engine_and_maker_known(project, app_files, cli):
    found = _findings(project, app_files, cli, 'create_engine("sqlite:///./app.db")')
    assert found == {"connected": ["AM306"], "made": ["AM301"]}, found


def test_near_miss_an_engine_from_unread_code_stays_unverified(project, app_files, cli):
    found = _findings(project, app_files, cli, "__import__('engines').build()")
    assert found.get("connected") == ["AM304"], found
