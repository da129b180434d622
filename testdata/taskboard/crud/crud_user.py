import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from crud.base import CRUDBase
from models.user import User
from schemas.user import UserCreate


class CRUDUser(CRUDBase[User]):
    def get_by_token(self, db: Session, *, token: str) -> User | None:
        return db.scalars(select(User).where(User.token == token)).first()

    def get_by_email(self, db: Session, *, email: str) -> User | None:
        return db.scalars(select(User).where(User.email == email.lower())).first()

    def create(self, db: Session, *, obj_in: UserCreate) -> User:
        data = obj_in.model_dump()
        data["email"] = data["email"].lower()
        return super().create(db, obj_in={**data, "token": secrets.token_hex(16)})


user = CRUDUser(User)
