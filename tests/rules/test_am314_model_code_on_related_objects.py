"""AM314 for model code run on an object a relationship leads to from a query's objects.

`for t in project.tasks: t.owner_name`, the property reading `self.owner`, lazy: the query loads
`Project.tasks` (`selectinload`) but nothing of each task's owner, so the read raises
MissingGreenlet on an AsyncSession; `check` named `t.owner` read in the route but said nothing
of the same read one call deeper. Now it reports it, naming the member and the path.
Near misses: the query's options along the path (`selectinload(Project.tasks).joinedload(
Task.owner)`), a property reading only columns, one reading the many-to-one back to the project
holding the collection (in the identity map), an owner relationship declared `lazy="selectin"`.
The premise test runs the flagged route on aiosqlite."""

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


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    tasks: Mapped[list["Task"]] = relationship(back_populates="project")


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    project: Mapped[Project] = relationship(back_populates="tasks")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="selectin")

    @property
    def owner_name(self) -> str:
        return self.owner.name

    @property
    def shout(self) -> str:
        return self.label.upper()

    @property
    def project_title(self) -> str:
        return self.project.title

    @property
    def reviewer_name(self) -> str:
        return self.reviewer.name if self.reviewer else ""


async def get_db():
    async with SessionLocal() as db:
        yield db
"""
MAIN = """
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from related_db import Project, get_db

app = FastAPI()


@app.get("/projects/{pid}/owners")
async def owner_names(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).first()
    return [t.owner_name for t in project.tasks]


@app.get("/projects/{pid}/owners-loop")
async def owner_names_loop(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).first()
    names = []
    for task in project.tasks:
        names.append(task.owner_name)
    return names


@app.get("/projects/{pid}/owners-loaded")
async def owner_names_loaded(pid: int, db: AsyncSession = Depends(get_db)):
    stmt = select(Project).where(Project.id == pid).options(selectinload(Project.tasks).joinedload(Task.owner))
    project = (await db.scalars(stmt)).first()
    return [t.owner_name for t in project.tasks]


@app.get("/projects/{pid}/shouts")
async def shouts(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).first()
    return [t.shout for t in project.tasks]


@app.get("/projects/{pid}/titles")
async def titles(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).first()
    return [t.project_title for t in project.tasks]


@app.get("/projects/{pid}/reviewers")
async def reviewers(pid: int, db: AsyncSession = Depends(get_db)):
    project = (await db.scalars(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).first()
    return [t.reviewer_name for t in project.tasks]
""".replace("import Project, get_db", "import Project, Task, get_db")


def _root(project):  # type: ignore[no-untyped-def]
    return project({"related_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "related_main.py": MAIN})


@pytest.mark.parametrize("name", ["owner_names", "owner_names_loop"])
def test_model_code_reading_a_lazy_relationship_of_a_collections_element_is_am314(project, findings, name):
    found = findings(_root(project), name)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "owner_name (runs Task.owner_name, reads owner: lazy load, its Task through tasks)" in str(
        found[0]["blocking"]
    ), found[0]["blocking"]


def test_near_misses_options_along_the_path_columns_the_holder_and_a_selectin_relationship(project, findings):
    root = _root(project)
    for name in ("owner_names_loaded", "shouts", "titles", "reviewers"):
        assert findings(root, name) == [], name


def test_the_premise_the_flagged_read_raises_and_the_near_misses_do_not(tmp_path):
    db_source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    with imported(tmp_path, {"related_db": db_source, "related_main": MAIN}) as (db, main):

        async def run() -> list[str]:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add_all([db.User(id=1, name="ann"), db.User(id=2, name="bob"), db.Project(id=1, title="p")])
                session.add(db.Task(id=1, label="t", project_id=1, owner_id=1, reviewer_id=2))
                await session.commit()
            said = []
            try:
                for route in (main.owner_names, main.owner_names_loaded, main.shouts, main.titles, main.reviewers):
                    async with db.SessionLocal() as session:
                        try:
                            said.append(repr(await route(1, db=session)))
                        except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                            said.append("MissingGreenlet" if "MissingGreenlet" in repr(error) else repr(error))
            finally:
                await db.engine.dispose()
            return said

        said = asyncio.run(run())
    assert said == ["MissingGreenlet", "['ann']", "['T']", "['p']", "['bob']"]
