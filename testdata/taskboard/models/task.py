from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.context import get_db
from schemas.task import TaskBrief

if TYPE_CHECKING:
    from models.comment import Comment
    from models.label import Label
    from models.project import Project
    from models.user import User

task_labels = Table(
    "task_labels",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("label_id", ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True),
)


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="todo")
    priority: Mapped[int] = mapped_column(default=2)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    project: Mapped["Project"] = relationship(back_populates="tasks")
    assignee: Mapped["User | None"] = relationship(back_populates="tasks")
    labels: Mapped[list["Label"]] = relationship(
        secondary=task_labels, back_populates="tasks", order_by="Label.name"
    )
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Comment.id"
    )


class TasksTable:
    """Task read models and status changes, each call on a Session of its own."""

    def for_project(self, project_id: int) -> list[TaskBrief]:
        with get_db() as db:
            tasks = db.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id))
            return [TaskBrief.model_validate(task) for task in tasks]

    def assigned_to(self, user_id: int) -> list[TaskBrief]:
        with get_db() as db:
            tasks = db.scalars(
                select(Task).where(Task.assignee_id == user_id, Task.status != "done").order_by(Task.id)
            )
            return [TaskBrief.model_validate(task) for task in tasks]

    def get_brief(self, task_id: int) -> TaskBrief | None:
        with get_db() as db:
            task = db.get(Task, task_id)
            return None if task is None else TaskBrief.model_validate(task)

    def set_status(self, task_id: int, status: str) -> TaskBrief | None:
        with get_db() as db:
            task = db.get(Task, task_id)
            if task is None:
                return None
            task.status = status
            db.commit()
            return TaskBrief.model_validate(task)


Tasks = TasksTable()
