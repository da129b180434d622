"""A hand-written async session dependency at the bottom of the module holding the sync alias
and a dependency sharing the Session: the generated AsyncSession alias goes below it, and the
dependency's async twin, annotated with that alias, is moved below the alias (with the alias
twin naming it) instead of above it, where importing the module raised NameError and the
self-check blocked every route. The migrated routes are RUN and the rows read back."""

from __future__ import annotations

import ast

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

DEPENDENCIES = """
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import async_database_sessionmaker, get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]


def current_user(db: session_dependency, x_user: Annotated[str, Header()] = "anon") -> str:
    db.info["user"] = x_user
    return x_user


CurrentUser = Annotated[str, Depends(current_user)]


async def get_async_db(x_user: Annotated[str, Header()] = "anon") -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as db:
        yield db
"""
ENGINE_TAIL = """

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://").replace("mysql+pymysql://", "mysql+aiomysql://")
)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)
"""
ROUTES = """
@router.post("/items")
def create_item(name: str, db: session_dependency, user: CurrentUser):
    db.add(Item(name=f"{name} by {db.info['user']}", owner_id=1))
    db.commit()
    return {"user": user}
"""
HEAD_IMPORT = "from core.dependencies import session_dependency"
SCRIPT = """
made = client.post("/items", params={"name": "pen"}, headers={"X-User": "ann"}).json()
with Sync() as s:
    rows = [i.name for i in s.scalars(select(Item)).all()]
print(json.dumps({"made": made, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_twin_naming_the_alias_goes_below_it_and_the_module_imports(cli, service, kind):
    from test_phase2_soundness import ENGINE

    source = routes(ROUTES).replace(HEAD_IMPORT, HEAD_IMPORT.replace("session_dependency", "CurrentUser, session_dependency"))
    root = service({
        "db/engine.py": ENGINE + ENGINE_TAIL,
        "core/dependencies.py": DEPENDENCIES,
        SUBSYSTEM: source,
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")["reasons"]
    order = [
        n.name if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else ast.unparse(n.targets[0])
        for n in ast.parse(read(root, "core/dependencies.py")).body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign))
    ]
    assert order[-3:] == ["async_session_dependency", "current_user_async", "CurrentUser_async"], order
    assert serve(root, kind, SCRIPT) == {"made": {"user": "ann"}, "rows": ["pen by ann"]}
