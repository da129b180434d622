"""AM307 for an object a dependency hands on after a method of its own class committed the
Session: `hero = session.get(Hero, i)`, `hero.mark_seen(session)` (or `hero.touch()` committing
`object_session(self)`), `return hero`. The commit expired it, so the `async def` route's
`hero.name` refreshes it, a SELECT on the event loop, while `check` said "no findings" and scan
"does no synchronous Session work" (found by a new-user trial): the value flow types the object
as a query's result, so the call graph had no edge to the method. The same commit through a
function, a classmethod or the Session itself was AM307 already. Near misses: a method that only
adds, a refresh after the commit, a sessionmaker with `expire_on_commit=False`. The premise test
runs the dependency in the threadpool and records the SELECT on the loop's thread."""

from __future__ import annotations

import asyncio

import pytest
from sample import imported, statements_on_this_thread

APP = """
from typing import Annotated, Optional

from fastapi import Depends, FastAPI
from sqlalchemy.orm import object_session
from sqlmodel import Field, Session, SQLModel, create_engine

engine = create_engine("{url}")


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    visits: int = 0

    def mark_seen(self, session: Session) -> None:
        self.visits += 1
        session.add(self)
        session.commit()

    def touch(self) -> None:
        self.visits += 1
        session = object_session(self)
        session.commit()

    def remember(self, session: Session) -> None:
        session.add(self)


def get_session():
    with Session(engine{options}) as session:
        yield session


def seen_hero(hero_id: int, session: Annotated[Session, Depends(get_session)]) -> Hero:
    hero = session.get(Hero, hero_id)
    hero.mark_seen(session)
    return hero


def touched_hero(hero_id: int, session: Annotated[Session, Depends(get_session)]) -> Hero:
    hero = session.get(Hero, hero_id)
    hero.touch()
    return hero


def remembered_hero(hero_id: int, session: Annotated[Session, Depends(get_session)]) -> Hero:
    hero = session.get(Hero, hero_id)
    hero.remember(session)
    return hero


def refreshed_hero(hero_id: int, session: Annotated[Session, Depends(get_session)]) -> Hero:
    hero = session.get(Hero, hero_id)
    hero.mark_seen(session)
    session.refresh(hero)
    return hero


app = FastAPI()


@app.get("/seen/{{hero_id}}")
async def peek(hero: Annotated[Hero, Depends(seen_hero)]):
    return {{"name": hero.name}}


@app.get("/touched/{{hero_id}}")
async def touched(hero: Annotated[Hero, Depends(touched_hero)]):
    return {{"name": hero.name}}


@app.get("/remembered/{{hero_id}}")
async def remembered(hero: Annotated[Hero, Depends(remembered_hero)]):
    return {{"name": hero.name}}


@app.get("/refreshed/{{hero_id}}")
async def refreshed(hero: Annotated[Hero, Depends(refreshed_hero)]):
    return {{"name": hero.name}}
"""


def _root(project, options: str = ""):  # type: ignore[no-untyped-def]
    return project({"heroes_app.py": APP.format(url="sqlite:///./m.db", options=options)})


@pytest.mark.parametrize("name", ["peek", "touched"])
def test_a_read_after_a_model_methods_commit_in_the_dependency_is_am307(project, findings, reported, name):
    root = _root(project)
    found = findings(root, name)
    assert [f["code"] for f in found] == ["AM307"], found
    assert "which committed its synchronous Session after loading it" in found[0]["message"], found[0]["message"]
    # awaiting nothing, it becomes a `def`: the read then runs in the threadpool
    assert reported(root, name)["action"] == "convert"


@pytest.mark.parametrize("name", ["remembered", "refreshed"])
def test_near_misses_a_method_that_only_adds_and_a_refresh_after_the_commit(project, findings, name):
    assert findings(_root(project), name) == []


def test_near_miss_a_session_that_does_not_expire_on_commit(project, findings):
    root = _root(project, options=", expire_on_commit=False")
    for name in ("peek", "touched"):
        assert findings(root, name) == [], name


def test_the_premise_the_read_on_the_loop_refreshes_the_expired_object(tmp_path):
    from fastapi.concurrency import run_in_threadpool

    source = APP.format(url=f"sqlite:///{tmp_path / 'h.db'}", options="")
    with imported(tmp_path, {"heroes_app": source}) as (app,):
        app.SQLModel.metadata.create_all(app.engine)
        with app.Session(app.engine) as session:
            session.add(app.Hero(id=1, name="ann"))
            session.commit()

        async def run() -> tuple[str, list[str]]:
            with statements_on_this_thread(app.engine) as on_loop, app.Session(app.engine) as session:
                hero = await run_in_threadpool(app.seen_hero, 1, session)
                return hero.name, on_loop

        assert asyncio.run(run()) == ("ann", ["SELECT"])
        app.engine.dispose()
