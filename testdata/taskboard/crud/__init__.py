"""Generic create/read/update/delete on a Session the caller passes in."""

from .crud_label import label
from .crud_task import task
from .crud_user import user

__all__ = ["label", "task", "user"]
