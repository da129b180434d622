"""AM314 for a lazy relationship read on what a query returns whose statement a function builds:
`project = (await db.scalars(by_id(pid))).first()`, `by_id` returning `select(Project).where(...)`,
then `project.tasks`. The collector read only a `select(...)` written in the query (or bound to a
local), so the objects had no query and `check` passed a read that raises MissingGreenlet (found
while reviewing a fix). Now the query takes the builder's select: its entity, its options before
those the call site adds, whether the builder is imported, the module's own, or its statement bound
to a local first. Near misses: the builder's own `selectinload`, one added at the call site; a
builder returning different selects on different paths is judged by name, as an unread
`.options(*opts)` is (its `selectinload(Project.tasks)` counts). The premise test runs the flagged
route on aiosqlite."""

from __future__ import annotations

import asyncio

import pytest
from sample import imported

DB = """
from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    tasks: Mapped[list["Task"]] = relationship(back_populates="project")


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(back_populates="tasks")


async def get_db():
    async with SessionLocal() as db:
        yield db
"""
QUERIES = """
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from builders_db import Project


def by_id(pid):
    return select(Project).where(Project.id == pid)


def with_tasks(pid):
    return select(Project).where(Project.id == pid).options(selectinload(Project.tasks))


def either(pid, flag):
    if flag:
        return select(Project).where(Project.id == pid)
    return select(Project).options(selectinload(Project.tasks)).where(Project.id == pid)
"""
MAIN = """
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

import builders_queries as queries
from builders_db import Project, get_db
from builders_queries import by_id, with_tasks

app = FastAPI()


def local_by_id(pid):
    return select(Project).where(Project.id == pid)


@app.get("/inline/{pid}")
async def inline(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(by_id(pid))).first()
    return [t.name for t in project.tasks]


@app.get("/bound/{pid}")
async def bound(pid: int, db: AsyncSession = Depends(get_db)):
    stmt = queries.by_id(pid)
    project = (await db.execute(stmt)).scalar_one()
    return {"n": len(project.tasks)}


@app.get("/local/{pid}")
async def local(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(local_by_id(pid))).one()
    return {"n": len(project.tasks)}


@app.get("/loaded/{pid}")
async def loaded(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(with_tasks(pid))).first()
    return [t.name for t in project.tasks]


@app.get("/loaded-here/{pid}")
async def loaded_here(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(by_id(pid).options(selectinload(Project.tasks)))).first()
    return [t.name for t in project.tasks]


@app.get("/either/{pid}")
async def either(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(queries.either(pid, False))).first()
    return [t.name for t in project.tasks]
"""


def _root(project):  # type: ignore[no-untyped-def]
    return project({
        "builders_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "builders_queries.py": QUERIES,
        "builders_main.py": MAIN,
    })


EXPECTED = {
    "inline": "project.tasks (lazy load), its Project from the query at line",
    "bound": "project.tasks (lazy load), its Project from the query at line",
    "local": "project.tasks (lazy load), its Project from the query at line",
}


@pytest.mark.parametrize("name", EXPECTED)
def test_a_lazy_read_on_what_a_built_statement_loads_is_am314(project, findings, name):
    found = findings(_root(project), name)
    assert [f["code"] for f in found] == ["AM314"], found
    assert EXPECTED[name] in str(found[0]["blocking"]), found[0]["blocking"]


def test_near_misses_options_in_the_builder_or_at_the_call_and_a_builder_of_several_selects(project, findings):
    root = _root(project)
    for name in ("loaded", "loaded_here", "either"):
        assert findings(root, name) == [], name


def test_the_premise_the_flagged_read_raises_and_the_loaded_ones_do_not(tmp_path):
    modules = {
        "builders_db": DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"), "builders_queries": QUERIES,
        "builders_main": MAIN,
    }
    with imported(tmp_path, modules) as (db, _, main):

        async def run() -> list[str]:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add(db.Project(id=1))
                session.add(db.Task(id=1, name="t", project_id=1))
                await session.commit()
            said = []
            try:
                for route in (main.inline, main.loaded, main.loaded_here):
                    async with db.SessionLocal() as session:
                        try:
                            said.append(repr(await route(1, db=session)))
                        except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                            said.append("MissingGreenlet" if "MissingGreenlet" in repr(error) else repr(error))
            finally:
                await db.engine.dispose()
            return said

        said = asyncio.run(run())
    assert said == ["MissingGreenlet", "['t']", "['t']"]
