"""Task comments, as a class-based view: every route shares the request's Session and caller."""

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi_utils.cbv import cbv
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import get_current_user, get_db
from models.activity import Activity
from models.comment import Comment
from models.task import Task
from models.user import User
from schemas.task import CommentCreate, CommentOut
from services.errors import NotFoundError

router = APIRouter(tags=["comments"])


@cbv(router)
class CommentViews:
    db: Session = Depends(get_db)
    user: User = Depends(get_current_user)

    def _task(self, task_id: int) -> Task:
        task = self.db.get(Task, task_id)
        if task is None:
            raise NotFoundError(f"Task {task_id} not found")
        return task

    @router.get("/tasks/{task_id}/comments", response_model=list[CommentOut])
    async def list_comments(self, task_id: int):
        self._task(task_id)
        return self.db.scalars(select(Comment).where(Comment.task_id == task_id).order_by(Comment.id)).all()

    @router.post("/tasks/{task_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED)
    async def add_comment(self, task_id: int, body: CommentCreate):
        task = self._task(task_id)
        comment = Comment(task_id=task.id, author_id=self.user.id, body=body.body)
        self.db.add(comment)
        Activity.record(self.db, task.project_id, "comment.added", f"on task {task.id}")
        self.db.commit()
        return comment

    @router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_comment(self, comment_id: int) -> None:
        comment = self.db.get(Comment, comment_id)
        if comment is None:
            raise NotFoundError(f"Comment {comment_id} not found")
        if comment.author_id != self.user.id and not self.user.is_admin:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Only the author may delete a comment")
        self.db.delete(comment)
        self.db.commit()
