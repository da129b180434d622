REPOS = """
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base, Item, User

ModelT = TypeVar("ModelT", bound=Base)


class BaseRepo(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: int) -> ModelT | None:
        return self.session.get(self.model, id)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model))

    def save(self) -> None:
        self.session.commit()


class UserRepo(BaseRepo[User]):
    model = User

    def by_name(self, name: str) -> User | None:
        return self.session.scalars(select(User).where(User.name == name)).first()


class ItemRepo(BaseRepo[Item]):
    model = Item

    def add(self, obj: Item) -> Item:
        obj.name = obj.name.strip()
        return super().add(obj)

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))
"""
ROUTES = """
from repos import ItemRepo, UserRepo


def get_items(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


@router.post("/items")
def add_item(name: str, owner: str, db: session_dependency):
    users = UserRepo(db)
    items = ItemRepo(db)
    found = users.by_name(owner)
    made = items.add(Item(name=name, owner_id=found.id))
    items.save()
    return {"id": made.id, "count": items.count(), "owner": users.get(found.id).name}


@router.get("/items")
def item_names(repo: ItemRepo = Depends(get_items)):
    return repo.names()
"""
