"""FastAPI dependencies shared by the routers."""

from collections.abc import Iterator

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

import crud
from db.engine import SessionLocal
from models.user import User
from repositories.project_repo import ProjectRepo


def get_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


async def get_current_user(
    db: Session = Depends(get_db),
    x_token: str | None = Header(default=None),
) -> User:
    """The caller, from the ``X-Token`` header."""
    if not x_token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing token", headers={"WWW-Authenticate": "Token"})
    user = crud.user.get_by_token(db, token=x_token)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid token", headers={"WWW-Authenticate": "Token"})
    return user


def require_admin(user: User = Depends(get_current_user)) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Admin privileges required")
    return user


def get_repo(db: Session = Depends(get_db)) -> ProjectRepo:
    return ProjectRepo(db)
