"""AM314 on what a route returns when the flow cannot trace it to a query (a generic helper's
`-> ModelT`, a service method's result), refreshed naming the response model's relationship:
by the route after the helper hands it back (`result = await crud.update(db, obj, ...)`, `await
db.refresh(result, attribute_names=["project"])`), or by the service method before it returns
it. Both are what phase two writes (`committed_refresh`); `check` called them unverified. Near
misses: a refresh naming another relationship, none at all."""

from __future__ import annotations

DB = """
from typing import Generic, TypeVar

from fastapi import Depends
from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship()
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner: Mapped[Owner] = relationship()


async def get_db():
    async with SessionLocal() as db:
        yield db


ModelT = TypeVar("ModelT", bound=Base)


class CRUD(Generic[ModelT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    async def update(self, db: AsyncSession, *, db_obj: ModelT, title: str) -> ModelT:
        db_obj.title = title
        await db.commit()
        await db.refresh(db_obj)
        return db_obj


crud_task = CRUD(Task)


class TaskService:
    def __init__(self, db: AsyncSession = Depends(get_db)) -> None:
        self.db = db

    async def create(self, title: str) -> Task:
        task = Task(title=title, project_id=1, owner_id=1)
        self.db.add(task)
        await self.db.commit()
        await self.db.refresh(task, attribute_names=[{named}])
        return task
"""
MAIN = """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from refreshed_db import Task, TaskService, crud_task, get_db

app = FastAPI()


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    project: ProjectOut


@app.put("/tasks/{task_id}", response_model=TaskOut)
async def update_task(task_id: int, title: str, db: AsyncSession = Depends(get_db)):
    task = await db.get(Task, task_id)
    result = await crud_task.update(db, db_obj=task, title=title)
{refresh}    return result


@app.post("/tasks", response_model=TaskOut)
async def create_task(title: str, svc: TaskService = Depends(TaskService)):
    task = await svc.create(title)
    return task
"""


def _root(project, named: str, refresh: str):  # type: ignore[no-untyped-def]
    return project({
        "refreshed_db.py": DB.replace("{named}", named),
        "refreshed_main.py": MAIN.replace("{refresh}", refresh),
    })


def test_a_returned_object_refreshed_naming_the_field_is_no_am314(project, findings):
    root = _root(project, '"project"', '    await db.refresh(result, attribute_names=["project"])\n')
    assert findings(root, "update_task") == []
    assert findings(root, "create_task") == []


def test_near_miss_a_refresh_naming_another_relationship_or_none_is_am314_unverified(project, findings):
    root = _root(project, '"owner"', '    await db.refresh(result, attribute_names=["owner"])\n')
    for name in ("update_task", "create_task"):
        found = findings(root, name)
        assert [f["code"] for f in found] == ["AM314"], (name, found)
        assert "(TaskOut.project (" in found[0]["message"], found
    root = _root(project, '"owner"', "")
    assert [f["code"] for f in findings(root, "update_task")] == ["AM314"]
