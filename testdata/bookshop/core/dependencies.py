"""FastAPI dependencies shared by the routers."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models.user import User

session_dependency = Annotated[Session, Depends(get_db_session)]


async def get_current_user(
    session: session_dependency,
    x_api_key: Annotated[str | None, Header()] = None,
) -> User:
    """Resolve the caller from the ``X-API-Key`` header."""
    if not x_api_key:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Missing API key",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    user = session.scalars(select(User).where(User.api_key == x_api_key)).first()
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid API key",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return user


def require_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    """Only let staff accounts through."""
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admin privileges required")
    return user


current_user_dependency = Annotated[User, Depends(get_current_user)]
admin_dependency = Annotated[User, Depends(require_admin)]


async def get_request_id(request: Request) -> str:
    """Return the caller's ``X-Request-ID`` or mint a new one."""
    return request.headers.get("x-request-id") or uuid.uuid4().hex


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageParams:
    """Limit/offset query parameters shared by list endpoints."""
    return PageParams(limit=limit, offset=offset)
