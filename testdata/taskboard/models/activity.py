from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from db.base import Base
from db.context import get_db
from schemas.project import ActivityOut

if TYPE_CHECKING:
    from models.project import Project


class ActivityEvent(Base):
    __tablename__ = "activity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(200), default="")

    project: Mapped["Project"] = relationship(back_populates="activity")


class ActivityTable:
    def record(self, db: Session, project_id: int, kind: str, detail: str = "") -> None:
        """Add an event to ``db``'s unit of work; the caller commits."""
        db.add(ActivityEvent(project_id=project_id, kind=kind, detail=detail))

    def recent(self, project_id: int, limit: int = 20) -> list[ActivityOut]:
        with get_db() as db:
            events = db.scalars(
                select(ActivityEvent)
                .where(ActivityEvent.project_id == project_id)
                .order_by(ActivityEvent.id.desc())
                .limit(limit)
            )
            return [ActivityOut.model_validate(event) for event in events]


Activity = ActivityTable()
