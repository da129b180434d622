from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.engine import SessionLocal
from schemas.project import ProjectSummary

if TYPE_CHECKING:
    from models.activity import ActivityEvent
    from models.task import Task
    from models.user import User


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    archived: Mapped[bool] = mapped_column(default=False)

    owner: Mapped["User"] = relationship(back_populates="projects")
    tasks: Mapped[list["Task"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Task.id"
    )
    activity: Mapped[list["ActivityEvent"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ActivityEvent.id"
    )


class ProjectsTable:
    """Read models of projects, each call on a Session of its own."""

    def exists(self, project_id: int) -> bool:
        with SessionLocal() as db:
            return db.get(Project, project_id) is not None

    def get_summary(self, project_id: int) -> ProjectSummary | None:
        from models.task import Task

        with SessionLocal() as db:
            project = db.get(Project, project_id)
            if project is None:
                return None
            counts = dict(
                db.execute(
                    select(Task.status, func.count(Task.id))
                    .where(Task.project_id == project_id)
                    .group_by(Task.status)
                ).all()
            )
            task_counts = {status: counts.get(status, 0) for status in ("todo", "doing", "done")}
            return ProjectSummary(
                id=project.id,
                name=project.name,
                owner_name=project.owner.name,
                task_counts=task_counts,
                open_tasks=task_counts["todo"] + task_counts["doing"],
            )


Projects = ProjectsTable()
