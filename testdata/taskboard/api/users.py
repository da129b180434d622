from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

import crud
from api.deps import get_current_user, get_db, require_admin
from models.user import User
from schemas.user import UserCreate, UserCreated, UserOut
from services.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserOut)
async def read_me(user: User = Depends(get_current_user)):
    return user


@router.get("", response_model=list[UserOut])
async def list_users(
    skip: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=100),
    db: Session = Depends(get_db),
    admin: User = Depends(require_admin),
):
    return crud.user.get_multi(db, skip=skip, limit=limit)


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, db: Session = Depends(get_db), admin: User = Depends(require_admin)):
    if crud.user.get_by_email(db, email=body.email) is not None:
        raise ConflictError(f"{body.email} is already registered")
    return crud.user.create(db, obj_in=body)


@router.get("/{user_id}", response_model=UserOut)
async def read_user(user_id: int, db=Depends(get_db), caller: User = Depends(get_current_user)):
    found = crud.user.get(db, id=user_id)
    if found is None:
        raise NotFoundError(f"User {user_id} not found")
    return found
