"""Labels, on the request-scoped ``ScopedSession`` (removed by the middleware in ``main.py``)."""

from fastapi import APIRouter, Depends, Response, status

from api.deps import require_admin
from db.scoped import ScopedSession
from models.label import Label
from models.user import User
from schemas.task import LabelCreate, LabelOut, TaskBrief
from services.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/labels", tags=["labels"])


@router.get("", response_model=list[LabelOut])
async def list_labels():
    return ScopedSession.query(Label).order_by(Label.name).all()


@router.post("", response_model=LabelOut, status_code=status.HTTP_201_CREATED)
async def create_label(body: LabelCreate, admin: User = Depends(require_admin)):
    if ScopedSession.query(Label).filter_by(name=body.name).first() is not None:
        raise ConflictError(f"Label {body.name!r} exists")
    label = Label(name=body.name, color=body.color)
    ScopedSession.add(label)
    ScopedSession.commit()
    return label


@router.get("/{label_id}/tasks", response_model=list[TaskBrief])
async def label_tasks(label_id: int):
    label = ScopedSession.get(Label, label_id)
    if label is None:
        raise NotFoundError(f"Label {label_id} not found")
    return label.tasks


@router.delete("/{label_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_label(label_id: int, admin: User = Depends(require_admin)):
    label = ScopedSession.get(Label, label_id)
    if label is None:
        raise NotFoundError(f"Label {label_id} not found")
    ScopedSession.delete(label)
    ScopedSession.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
