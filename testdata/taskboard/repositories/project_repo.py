from sqlalchemy import select
from sqlalchemy.orm import Session

from models.activity import Activity
from models.project import Project
from models.user import User
from schemas.project import ProjectCreate, ProjectUpdate


class ProjectRepo:
    """Project persistence on the request's Session."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self, *, include_archived: bool = False) -> list[Project]:
        stmt = select(Project).order_by(Project.id)
        if not include_archived:
            stmt = stmt.where(Project.archived.is_(False))
        return list(self.db.scalars(stmt))

    def get(self, project_id: int) -> Project | None:
        return self.db.get(Project, project_id)

    def get_by_name(self, name: str) -> Project | None:
        return self.db.scalars(select(Project).where(Project.name == name)).first()

    def create(self, owner: User, data: ProjectCreate) -> Project:
        project = Project(name=data.name, description=data.description, owner_id=owner.id)
        self.db.add(project)
        self.db.flush()
        Activity.record(self.db, project.id, "project.created", f"by user {owner.id}")
        self.db.commit()
        return project

    def update(self, project: Project, data: ProjectUpdate) -> Project:
        for field, value in data.model_dump(exclude_unset=True).items():
            setattr(project, field, value)
        Activity.record(self.db, project.id, "project.updated", ",".join(sorted(data.model_fields_set)))
        self.db.commit()
        return project

    def delete(self, project: Project) -> None:
        self.db.delete(project)
        self.db.commit()
