"""ORM models; importing the package registers every table on ``Base.metadata``."""

from models.activity import ActivityEvent
from models.comment import Comment
from models.label import Label
from models.project import Project
from models.task import Task
from models.user import User

__all__ = ["ActivityEvent", "Comment", "Label", "Project", "Task", "User"]
