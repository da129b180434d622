"""Column helpers shared by several models."""

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TimestampMixin:
    """Adds a ``created_at`` column populated on insert."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
