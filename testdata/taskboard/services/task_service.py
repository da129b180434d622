from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

import crud
from api.deps import get_db
from models.activity import Activity
from models.project import Project
from models.task import Task
from models.user import User
from schemas.task import TaskCreate
from services.errors import NotFoundError


class TaskService:
    """Task rules on the request's Session; FastAPI builds it as a dependency."""

    def __init__(self, db: Session = Depends(get_db)) -> None:
        self.db = db

    def _project(self, project_id: int) -> Project:
        project = self.db.get(Project, project_id)
        if project is None:
            raise NotFoundError(f"Project {project_id} not found")
        return project

    def list(self, project_id: int, status: str | None = None) -> list[Task]:
        self._project(project_id)
        stmt = select(Task).where(Task.project_id == project_id).order_by(Task.priority, Task.id)
        if status is not None:
            stmt = stmt.where(Task.status == status)
        return list(self.db.scalars(stmt))

    def create(self, project_id: int, data: TaskCreate, author: User) -> Task:
        project = self._project(project_id)
        if data.assignee_id is not None and crud.user.get(self.db, id=data.assignee_id) is None:
            raise NotFoundError(f"User {data.assignee_id} not found")
        task = Task(project_id=project.id, **data.model_dump())
        self.db.add(task)
        self.db.flush()
        Activity.record(self.db, project.id, "task.created", f"{task.id} by user {author.id}")
        self.db.commit()
        return task

    def add_label(self, task_id: int, label_id: int) -> Task:
        task = crud.task.get(self.db, id=task_id)
        label = crud.label.get(self.db, id=label_id)
        if task is None or label is None:
            raise NotFoundError("Task or label not found")
        if label not in task.labels:
            task.labels.append(label)
            self.db.commit()
        return task
