from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

import crud
from api.deps import get_current_user, get_db
from db.engine import SessionLocal
from models.task import Task, Tasks
from models.user import User
from schemas.task import TaskBrief, TaskCreate, TaskOut, TaskStatus, TaskUpdate
from services import audit, notifier
from services.errors import NotFoundError
from services.task_service import TaskService

router = APIRouter(tags=["tasks"])


@router.get("/projects/{project_id}/tasks", response_model=list[TaskOut])
async def list_tasks(project_id: int, status: TaskStatus | None = None, svc: TaskService = Depends(TaskService)):
    return svc.list(project_id, status)


# async-migrate: ignore[blocking-session] awaits the bus notification; create moves to AsyncSession in phase two
@router.post("/projects/{project_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED)
async def create_task(
    project_id: int,
    body: TaskCreate,
    svc: Annotated[TaskService, Depends()],
    user: User = Depends(get_current_user),
):
    task = svc.create(project_id, body, user)
    await notifier.publish("task.created", {"task_id": task.id, "project_id": project_id})
    return task


@router.get("/tasks/mine", response_model=list[TaskBrief])
async def my_tasks(user: User = Depends(get_current_user)):
    return Tasks.assigned_to(user.id)


# async-migrate: ignore[blocking-session] the CSV rows stream from an async generator that reads the Session
@router.get("/tasks/export")
async def export_tasks(project_id: int | None = None, user: User = Depends(get_current_user)):
    async def rows() -> AsyncIterator[str]:
        yield "id,project_id,title,status,assignee_id\n"
        with SessionLocal() as db:
            stmt = select(Task).order_by(Task.id).execution_options(yield_per=50)
            if project_id is not None:
                stmt = stmt.where(Task.project_id == project_id)
            for task in db.scalars(stmt):
                assignee = "" if task.assignee_id is None else task.assignee_id
                yield f"{task.id},{task.project_id},{task.title},{task.status},{assignee}\n"

    return StreamingResponse(rows(), media_type="text/csv")


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: int, db: Session = Depends(get_db)):
    task = crud.task.get(db, id=task_id)
    if task is None:
        raise NotFoundError(f"Task {task_id} not found")
    return task


@router.put("/tasks/{task_id}", response_model=TaskOut)
async def update_task(
    task_id: int,
    body: TaskUpdate,
    db: Session = Depends(get_db),
    user: User = Depends(get_current_user),
):
    task = crud.task.get(db, id=task_id)
    if task is None:
        raise NotFoundError(f"Task {task_id} not found")
    if body.assignee_id is not None and crud.user.get(db, id=body.assignee_id) is None:
        raise HTTPException(422, f"User {body.assignee_id} does not exist")
    return crud.task.update(db, db_obj=task, obj_in=body)


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: int, db=Depends(get_db), user: User = Depends(get_current_user)):
    if crud.task.remove(db, id=task_id) is None:
        raise NotFoundError(f"Task {task_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tasks/{task_id}/labels/{label_id}", response_model=TaskOut)
async def add_task_label(task_id: int, label_id: int, svc: TaskService = Depends(TaskService)):
    return svc.add_label(task_id, label_id)


# async-migrate: ignore[blocking-session] awaits the completion notice; Tasks.set_status moves to AsyncSession in phase two
@router.post("/tasks/{task_id}/complete", response_model=TaskBrief)
async def complete_task(task_id: int, user: User = Depends(get_current_user)):
    task = Tasks.set_status(task_id, "done")
    if task is None:
        raise NotFoundError(f"Task {task_id} not found")
    await notifier.publish("task.completed", {"task_id": task_id, "by": user.id})
    return task


# async-migrate: ignore[blocking-session] audit.record is a coroutine that commits on the Session; both move in phase two
@router.post("/tasks/{task_id}/assign/{user_id}", response_model=TaskOut)
async def assign_task(
    task_id: int,
    user_id: int,
    db: Session = Depends(get_db),
    user: User = Depends(get_current_user),
):
    task = crud.task.get(db, id=task_id)
    assignee = crud.user.get(db, id=user_id)
    if task is None or assignee is None:
        raise NotFoundError("Task or user not found")
    task.assignee_id = assignee.id
    await audit.record(db, task.project_id, "task.assigned", f"{task.id} to user {assignee.id} by {user.id}")
    return task
