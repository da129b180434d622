from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from api.deps import get_current_user, get_repo
from models.activity import Activity
from models.project import Project, Projects
from models.user import User
from repositories.project_repo import ProjectRepo
from schemas.project import ActivityOut, ProjectCreate, ProjectOut, ProjectSummary, ProjectUpdate
from services import digest, notifier
from services.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/projects", tags=["projects"])


def _owned(repo: ProjectRepo, project_id: int, user: User) -> Project:
    project = repo.get(project_id)
    if project is None:
        raise NotFoundError(f"Project {project_id} not found")
    if project.owner_id != user.id and not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only the owner may change a project")
    return project


@router.get("", response_model=list[ProjectOut])
async def list_projects(include_archived: bool = False, repo: ProjectRepo = Depends(get_repo)):
    return repo.list(include_archived=include_archived)


@router.post("", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
async def create_project(
    body: ProjectCreate,
    user: User = Depends(get_current_user),
    repo: ProjectRepo = Depends(get_repo),
):
    if repo.get_by_name(body.name) is not None:
        raise ConflictError(f"A project named {body.name!r} exists")
    return repo.create(user, body)


@router.get("/{project_id}", response_model=ProjectOut)
async def get_project(project_id: int, repo: ProjectRepo = Depends(get_repo)):
    project = repo.get(project_id)
    if project is None:
        raise NotFoundError(f"Project {project_id} not found")
    return project


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(
    project_id: int,
    body: ProjectUpdate,
    user: User = Depends(get_current_user),
    repo: ProjectRepo = Depends(get_repo),
):
    return repo.update(_owned(repo, project_id, user), body)


# async-migrate: ignore[blocking-session] awaits the deletion notice; the lookup and delete move to AsyncSession in phase two
@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    project_id: int,
    user: User = Depends(get_current_user),
    repo: ProjectRepo = Depends(get_repo),
):
    project = _owned(repo, project_id, user)
    repo.delete(project)
    await notifier.publish("project.deleted", {"project_id": project_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project_id}/summary", response_model=ProjectSummary)
async def project_summary(project_id: int):
    summary = Projects.get_summary(project_id)
    if summary is None:
        raise NotFoundError(f"Project {project_id} not found")
    return summary


@router.get("/{project_id}/report", response_model=ProjectSummary)
async def project_report(project_id: int, user: User = Depends(get_current_user)):
    """The summary, announced on the bus; the query already runs in the threadpool."""
    summary = await run_in_threadpool(Projects.get_summary, project_id)
    if summary is None:
        raise NotFoundError(f"Project {project_id} not found")
    await notifier.publish("project.report", {"project_id": project_id, "by": user.id})
    return summary


@router.get("/{project_id}/activity", response_model=list[ActivityOut])
async def project_activity(project_id: int, limit: int = Query(default=20, ge=1, le=100)):
    if not Projects.exists(project_id):
        raise NotFoundError(f"Project {project_id} not found")
    return Activity.recent(project_id, limit)


# async-migrate: ignore[blocking-session] digest.schedule needs the running event loop
@router.post("/{project_id}/digest", status_code=status.HTTP_202_ACCEPTED)
async def request_digest(project_id: int, user: User = Depends(get_current_user)):
    if not Projects.exists(project_id):
        raise NotFoundError(f"Project {project_id} not found")
    digest.schedule(project_id, user.id)
    return {"queued": project_id}
