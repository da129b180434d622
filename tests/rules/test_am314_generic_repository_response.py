"""AM314 for a response model reading a lazy relationship of what a generic repository returns.

`class Repo(Generic[ModelT])` with `model: type[ModelT]` and `async def list(self) ->
list[ModelT]` running `select(self.model)`, subclassed as `class TaskRepo(Repo[Task])`: a route
returning `await repo.list()` under `response_model=list[TaskOut]`, `TaskOut.project` naming a
lazy relationship of Task, loads it while the response is serialised (MissingGreenlet). The flow
cannot trace the statement built from `self.model`, and the annotation `list[ModelT]` named no
class, so `check` passed it; the TypeVar as the receiver's class binds it (through the dependency
building the repository, or built inline) now makes it unverified, naming the relationship.
A nested model reading a lazy relationship past an eager one (`NoteDeep.project.tasks`) is the same.
Near misses: a response model reading no relationship, a relationship declared `lazy="selectin"`.
The premise test runs the flagged route on aiosqlite."""

from __future__ import annotations

import asyncio

from sample import imported

DB = """
from typing import Generic, TypeVar

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    tasks: Mapped[list["Task"]] = relationship(viewonly=True)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship()


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(lazy="selectin")


async def get_db():
    async with SessionLocal() as db:
        yield db


ModelT = TypeVar("ModelT", bound=Base)


class Repo(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, db: AsyncSession):
        self.db = db

    async def list(self) -> list[ModelT]:
        return list((await self.db.scalars(select(self.model))).all())


class TaskRepo(Repo[Task]):
    model = Task


class NoteRepo(Repo[Note]):
    model = Note
"""
MAIN = """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from generic_db import NoteRepo, TaskRepo, get_db

app = FastAPI()


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    project: ProjectOut


class TaskFlat(BaseModel):
    id: int
    title: str


class NoteOut(BaseModel):
    id: int
    project: ProjectOut


class ProjectWithTasks(ProjectOut):
    tasks: list[TaskFlat]


class NoteDeep(BaseModel):
    id: int
    project: ProjectWithTasks


def get_tasks(db: AsyncSession = Depends(get_db)) -> TaskRepo:
    return TaskRepo(db)


def get_notes(db: AsyncSession = Depends(get_db)) -> NoteRepo:
    return NoteRepo(db)


@app.get("/tasks", response_model=list[TaskOut])
async def tasks(repo: TaskRepo = Depends(get_tasks)):
    return await repo.list()


@app.get("/inline", response_model=list[TaskOut])
async def inline(db: AsyncSession = Depends(get_db)):
    return await TaskRepo(db).list()


@app.get("/flat", response_model=list[TaskFlat])
async def flat(repo: TaskRepo = Depends(get_tasks)):
    return await repo.list()


@app.get("/notes", response_model=list[NoteOut])
async def notes(repo: NoteRepo = Depends(get_notes)):
    return await repo.list()


@app.get("/notes/deep", response_model=list[NoteDeep])
async def notes_deep(repo: NoteRepo = Depends(get_notes)):
    return await repo.list()
"""


def _root(project):  # type: ignore[no-untyped-def]
    return project({"generic_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "generic_main.py": MAIN})


def test_a_generic_repositorys_list_read_by_a_lazy_relationship_field_is_am314_unverified(project, findings):
    root = _root(project)
    for name in ("tasks", "inline"):
        found = findings(root, name)
        assert [f["code"] for f in found] == ["AM314"], (name, found)
        message = found[0]["message"]
        assert "TaskOut.project (may lazy-load while the response is serialised: generic_db.Repo.list() returns Task objects" in message, message
        assert "unverified" in message, message


def test_a_nested_model_reading_a_lazy_relationship_past_an_eager_one_is_am314_unverified(project, findings):
    # `Note.project` is selectin, so it loads with the notes; `ProjectWithTasks.tasks` then reads
    # `Project.tasks`, lazy, on those projects: check passed it
    root = _root(project)
    [found] = findings(root, "notes_deep")
    assert found["code"] == "AM314", found
    assert "NoteDeep.project.tasks (may lazy-load while the response is serialised" in found["message"], found


def test_near_miss_no_relationship_read_and_a_selectin_relationship(project, findings):
    root = _root(project)
    assert findings(root, "flat") == []
    assert findings(root, "notes") == []


def test_the_premise_the_flagged_route_raises(tmp_path):
    db_source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    with imported(tmp_path, {"generic_db": db_source, "generic_main": MAIN}) as (db, main):

        async def run() -> str:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add_all([db.Project(id=1, name="p"), db.Task(id=1, title="t", project_id=1),
                                 db.Note(id=1, project_id=1)])
                await session.commit()
            async with db.SessionLocal() as session:
                try:
                    for task in await main.tasks(repo=db.TaskRepo(session)):
                        main.TaskOut.model_validate(task)  # what the response model does
                except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                    said = "MissingGreenlet" if "MissingGreenlet" in f"{type(error).__name__} {error}" else repr(error)
                else:
                    said = ""
                try:  # the nested model, past the selectin `Note.project`
                    for note in await main.notes_deep(repo=db.NoteRepo(session)):
                        main.NoteDeep.model_validate(note, from_attributes=True)
                except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                    deep = "MissingGreenlet" if "MissingGreenlet" in f"{type(error).__name__} {error}" else repr(error)
                else:
                    deep = ""
                finally:
                    await db.engine.dispose()
            return f"{said} {deep}"

        said = asyncio.run(run())
    assert said == "MissingGreenlet MissingGreenlet"
