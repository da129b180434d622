from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crud.base import CRUDBase
from models.task import Task
from models.user import User


class CRUDTask(CRUDBase[Task]):
    def workload(self, db: Session) -> list[dict[str, Any]]:
        """Open and done task counts per user, busiest first."""
        open_tasks = func.sum(case((Task.status != "done", 1), else_=0)).label("open_tasks")
        done_tasks = func.sum(case((Task.status == "done", 1), else_=0)).label("done_tasks")
        stmt = (
            select(User.id, User.name, open_tasks, done_tasks)
            .join(Task, Task.assignee_id == User.id)
            .group_by(User.id, User.name)
            .order_by(open_tasks.desc(), User.id)
        )
        return [
            {"user_id": row.id, "name": row.name, "open_tasks": int(row.open_tasks), "done_tasks": int(row.done_tasks)}
            for row in db.execute(stmt)
        ]


task = CRUDTask(Task)
