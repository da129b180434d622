"""A tiny FastAPI application serving a Strawberry schema, shared by the GraphQL rules' tests."""

from __future__ import annotations

from test_phase2_rules import MODELS

ROUTES = """
@router.get("/books")
def read_books(db: session_dependency):
    return crud.list_books(db)
"""

CRUD = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


def list_books(db: Session):
    return db.scalars(select(Book)).all()


def count(n: int) -> int:
    return n
"""

SCHEMA = """
import strawberry
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info

import crud
from db.engine import database_sessionmaker, get_db_session
from models import Book


async def load_titles(keys: list[int]) -> list[str]:
    with database_sessionmaker() as s:
        return [s.get(Book, k).title for k in keys]


def make_loader(db: Session) -> DataLoader:
    async def load_books(keys: list[int]) -> list[int]:
        return [len(crud.list_books(db)) for _ in keys]

    return DataLoader(load_fn=load_books)


async def get_context(db: Session = Depends(get_db_session)):
    return {"db": db, "titles": DataLoader(load_fn=load_titles), "books": make_loader(db)}


@strawberry.type
class BookType:
    id: int
    instance: strawberry.Private[Book]

    @strawberry.field
    def author_name(self) -> str:
        return self.instance.author.name

    @strawberry.field
    def title(self) -> str:
        return self.instance.title


@strawberry.type
class Query:
    @strawberry.field
    async def books(self, info: Info) -> list[BookType]:
        return [BookType(id=b.id, instance=b) for b in crud.list_books(info.context["db"])]

    @strawberry.field
    def sync_books(self, info: Info) -> int:
        return len(crud.list_books(info.context["db"]))

    @strawberry.field
    def raw(self, info: Info) -> int:
        return info.context["db"].get(Book, 1).id

    @strawberry.field
    def held(self, info: Info) -> int:
        db = info.context.db
        return db.scalar(select(func.count(Book.id)))

    @strawberry.field
    def who(self, info: Info) -> str:
        return info.context.get("user", "anon")

    @strawberry.field
    async def awaited(self, info: Info) -> int:
        return (await info.context["adb"].execute(select(Book.id))).scalar()

    @strawberry.field
    async def double(self, n: int) -> int:
        return crud.count(n) * 2


def get_titles(info: Info) -> list[str]:
    return [b.title for b in crud.list_books(info.context["db"])]


def not_a_resolver(db: Session) -> int:
    return len(crud.list_books(db))


@strawberry.type
class Shelf:
    titles: list[str] = strawberry.field(resolver=get_titles)
    size: int = 0


HELPERS = [not_a_resolver]
schema = strawberry.Schema(query=Query)
graphql_app = GraphQLRouter(schema, context_getter=get_context)
"""

MAIN = """
from fastapi import FastAPI

from api.items import router
from schema import graphql_app

app = FastAPI()
app.include_router(router)
app.include_router(graphql_app, prefix="/graphql")
"""

FILES = {"models.py": MODELS, "crud.py": CRUD, "schema.py": SCHEMA, "main.py": MAIN}
ROUTER = "import crud\n" + ROUTES
