"""Audit trail: an event in the project's activity, then a notification."""

from sqlalchemy.orm import Session

from models.activity import Activity
from services import notifier


async def record(db: Session, project_id: int, kind: str, detail: str) -> None:
    """Commit ``db``'s pending changes together with the audit event, then notify."""
    Activity.record(db, project_id, kind, detail)
    db.commit()
    await notifier.publish(kind, {"project_id": project_id, "detail": detail})
