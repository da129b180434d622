"""AM314 missing-greenlet through a route's response model on objects an AsyncSession loaded and
the route hands back through a builtin that copies them (`list(await db.scalars(stmt))`,
`sorted(...)`), directly, through a local, a repository method or a helper: FastAPI validates
each into `TaskOut`, reads `project` by name on the event loop, and the lazy load raises
MissingGreenlet (trial repro-2, run once on aiosqlite: `Error extracting attribute:
StatementError: (sqlalchemy.exc.MissingGreenlet)`). `check` read the copy as a list display it
could not trace to the query and said nothing; `(await db.scalars(stmt)).all()` was found."""

from __future__ import annotations

import pytest

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    tasks: Mapped[list["Task"]] = relationship(back_populates="project")


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(back_populates="tasks")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(lazy="selectin")


class Memo(Base):
    __tablename__ = "memos"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(lazy="raise")
"""

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ProjectBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    project: ProjectBrief


class TaskTitle(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class TaskBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class ProjectWithTasks(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    tasks: list[TaskBrief]


class TaskDeep(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    project: ProjectWithTasks


class TaskLegacy(BaseModel):
    title: str
    project: ProjectBrief

    class Config:
        orm_mode = True
"""

DB = """
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
Maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with Maker() as s:
        yield s


DB = Annotated[AsyncSession, Depends(get_db)]
"""

REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Task


class TaskRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def list(self) -> list[Task]:
        return list(await self.db.scalars(select(Task)))

    async def list_eager(self) -> list[Task]:
        stmt = select(Task)
        stmt = stmt.options(selectinload(Task.project))
        return list(await self.db.scalars(stmt))


class TaskService:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def _statement(self):
        return select(Task).where(Task.id > 0)

    def _eager_statement(self):
        return select(Task).options(selectinload(Task.project))

    async def all(self) -> list[Task]:
        return list(await self.db.scalars(self._statement()))

    async def all_eager(self) -> list[Task]:
        return list(await self.db.scalars(self._eager_statement()))


async def load_tasks(db: AsyncSession) -> list[Task]:
    return list(await db.scalars(select(Task)))


async def load_tasks_eager(db: AsyncSession) -> list[Task]:
    return list(await db.scalars(select(Task).options(selectinload(Task.project))))
"""

ROUTES = """
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from db import DB
from models import Memo, Note, Task
from repository import TaskRepository, TaskService, load_tasks, load_tasks_eager
from schemas import TaskDeep, TaskLegacy, TaskOut, TaskTitle

app = FastAPI()


def statement_of(model):
    return select(model)


@app.get("/tasks", response_model=list[TaskOut])
async def copied(db: DB) -> list[Task]:
    return list(await db.scalars(select(Task)))


@app.get("/held", response_model=list[TaskOut])
async def held(db: DB):
    tasks = list(await db.scalars(select(Task).where(Task.id > 0)))
    return tasks


@app.get("/sorted", response_model=list[TaskOut])
async def ordered(db: DB):
    return sorted(await db.scalars(select(Task)), key=lambda t: t.title)


@app.get("/annotated")
async def annotated(db: DB) -> list[TaskOut]:
    return list(await db.scalars(select(Task)))


@app.get("/repository", response_model=list[TaskOut])
async def through_repository(db: DB):
    return await TaskRepository(db).list()


@app.get("/helper", response_model=list[TaskOut])
async def through_helper(db: DB):
    return await load_tasks(db)


@app.get("/nested", response_model=list[TaskDeep])
async def nested(db: DB):
    return list(await db.scalars(select(Task).options(selectinload(Task.project))))


@app.get("/legacy", response_model=list[TaskLegacy])
async def legacy(db: DB):
    return list(await db.scalars(select(Task)))


@app.get("/service", response_model=list[TaskOut])
async def through_service(db: DB):
    return await TaskService(db).all()


@app.get("/statement", response_model=list[TaskOut])
async def by_statement(db: DB) -> list[Task]:
    return list(await db.scalars(statement_of(Task)))


@app.get("/eager_service", response_model=list[TaskOut])
async def eager_service(db: DB):
    return await TaskService(db).all_eager()


@app.get("/service_titles", response_model=list[TaskTitle])
async def service_titles(db: DB):
    return await TaskService(db).all()


@app.get("/eager", response_model=list[TaskOut])
async def eager(db: DB):
    return list(await db.scalars(select(Task).options(joinedload(Task.project))))


@app.get("/eager_repository", response_model=list[TaskOut])
async def eager_repository(db: DB):
    return await TaskRepository(db).list_eager()


@app.get("/eager_helper", response_model=list[TaskOut])
async def eager_helper(db: DB):
    return await load_tasks_eager(db)


@app.get("/nested_eager", response_model=list[TaskDeep])
async def nested_eager(db: DB):
    stmt = select(Task).options(selectinload(Task.project).selectinload(Project.tasks))
    return list(await db.scalars(stmt))


@app.get("/declared_eager", response_model=list[TaskOut])
async def declared_eager(db: DB):
    return list(await db.scalars(select(Note)))


@app.get("/raising", response_model=list[TaskOut])
async def raising(db: DB):
    return list(await db.scalars(select(Memo)))


@app.get("/titles", response_model=list[TaskTitle])
async def titles(db: DB):
    return list(await db.scalars(select(Task)))


@app.get("/from_dicts", response_model=list[TaskOut])
async def from_dicts(db: DB):
    rows = (await db.execute(select(Task.title))).all()
    return list({"title": row.title, "project": {"name": "x"}} for row in rows)
"""


@pytest.fixture
def tree(project):  # type: ignore[no-untyped-def]
    routes = ROUTES.replace("from models import Memo, Note, Task", "from models import Memo, Note, Project, Task")
    return project({"models.py": MODELS, "schemas.py": SCHEMAS, "db.py": DB, "repository.py": REPOSITORY,
                    "main.py": routes})


@pytest.mark.parametrize(("function", "read"), [
    ("copied", "TaskOut.project"),
    ("held", "TaskOut.project"),
    ("ordered", "TaskOut.project"),
    ("annotated", "TaskOut.project"),
    ("through_repository", "TaskOut.project"),
    ("through_helper", "TaskOut.project"),
    ("nested", "TaskDeep.project.tasks"),
    ("legacy", "TaskLegacy.project"),
])
def test_a_copied_list_of_queried_objects_serialised_through_a_lazy_relationship_is_am314(
    tree, findings, function, read
):
    found = findings(tree, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load while the response is serialised)" in found[0]["message"], found


@pytest.mark.parametrize(("function", "source"), [
    ("through_service", "repository.TaskService.all() returns Task objects"),
    ("by_statement", "the route returns Task objects"),
])
def test_an_annotated_orm_result_the_flow_cannot_trace_to_its_query_is_am314_unverified(
    tree, findings, function, source
):
    found = findings(tree, function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert f"TaskOut.project (may lazy-load while the response is serialised: {source}" in message, found
    assert "unverified (not cleared)" in message, found


@pytest.mark.parametrize("function", [
    "eager_service", "service_titles", "eager", "eager_repository", "eager_helper", "nested_eager", "declared_eager", "raising", "titles", "from_dicts",
])
def test_near_miss_loaded_non_loading_unread_or_unqueried_relationships_are_no_finding(tree, findings, function):
    assert findings(tree, function) == []
