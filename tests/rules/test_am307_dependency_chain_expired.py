"""AM307 for a user a chain of dependencies hands an `async def` dependency expired, in the
fastapi-users manner: `current_user` (a plain `def`, in the threadpool) returns
`manager.user_for_token(token)`, `UserManager.user_for_token` returns
`self.user_db.by_token(token)`, and the adapter's `by_token` loads the user, marks it seen and
commits `self.session`. With `expire_on_commit` (the default) that commit expired every attribute,
so `current_active_user`, an `async def` dependency reading `user.is_active`, and the `async def`
route reading `user.id`, each refresh it: a SELECT on the event loop, while check said nothing
(found by a new-user trial): only a dependency returning what it bound before a commit of its own
Session parameter was followed, not a holder's method returning a call's result. Near misses:
every sessionmaker written `expire_on_commit=False`, and an adapter refreshing the user after its
commit. The premise test runs the dependency chain's statements and records the SELECT on the
loop's thread."""

from __future__ import annotations

import asyncio

import pytest
from sample import imported, statements_on_this_thread

DB = """
from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine("{url}")
SessionLocal = sessionmaker(bind=engine{maker})


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str]
    seen: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


class UserDatabase:
    def __init__(self, session: Session):
        self.session = session

    def by_token(self, token: str):
        user = self.session.query(User).filter(User.token == token).first()
        if user is not None:
            user.seen = user.seen + 1
            self.session.commit(){refresh}
        return user

    def by_token_or_none(self, token: str):
        user = self.session.query(User).filter(User.token == token).first()
        if user is None:
            return None
        user.seen = user.seen + 1
        self.session.commit(){refresh_top}
        return user


def get_user_db(session: Session = Depends(get_db)):
    yield UserDatabase(session)


class UserManager:
    def __init__(self, user_db: UserDatabase):
        self.user_db = user_db

    def user_for_token(self, token: str):
        return self.user_db.{lookup}(token)


async def get_user_manager(user_db: UserDatabase = Depends(get_user_db)):
    yield UserManager(user_db)
"""
MAIN = """
from fastapi import Depends, FastAPI, HTTPException

from chain_db import User, UserManager, get_user_manager

app = FastAPI()


def current_user(token: str, manager: UserManager = Depends(get_user_manager)) -> User:
    user = manager.user_for_token(token)
    if user is None:
        raise HTTPException(401)
    return user


async def current_active_user(user: User = Depends(current_user)) -> User:
    if not user.is_active:
        raise HTTPException(403)
    return user


@app.get("/me")
async def me(user: User = Depends(current_active_user)):
    return {"id": user.id}


@app.get("/ping")
async def ping(token: str):
    return {"token": token}
"""
REFRESH = "\n            self.session.refresh(user)"


def _root(project, maker: str = "", refresh: str = "", lookup: str = "by_token"):  # type: ignore[no-untyped-def]
    db = DB.format(
        url="sqlite:///./app.db", maker=maker, refresh=refresh, refresh_top=refresh.replace(" " * 4, "", 1), lookup=lookup
    )
    return project({"chain_db.py": db, "chain_main.py": MAIN})


@pytest.mark.parametrize("lookup", ["by_token", "by_token_or_none"])
@pytest.mark.parametrize("name", ["current_active_user", "me"])
def test_an_object_a_holder_chain_expired_is_am307_where_read_on_the_loop(project, findings, reported, name, lookup):
    # `by_token_or_none` returns None early, before the commit: None has nothing to refresh
    root = _root(project, lookup=lookup)
    found = findings(root, name)
    assert [f["code"] for f in found] == ["AM307"], found
    assert "chain_db.py" in found[0]["message"], found[0]["message"]
    assert reported(root, name)["action"] == "convert"  # as `def` it runs in the threadpool


def test_near_misses_no_expiring_sessionmaker_and_a_refresh_after_the_commit(project, findings):
    for root in (
        _root(project, maker=", expire_on_commit=False"), _root(project, refresh=REFRESH),
        _root(project, refresh=REFRESH, lookup="by_token_or_none"),
    ):
        for name in ("current_active_user", "me", "ping"):
            assert findings(root, name) == [], (root, name)


def test_the_premise_the_read_in_the_async_dependency_queries_on_the_loop(tmp_path):
    from fastapi.concurrency import run_in_threadpool

    source = DB.format(
        url=f"sqlite:///{tmp_path / 'c.db'}", maker="", refresh="", refresh_top="", lookup="by_token_or_none"
    )
    with imported(tmp_path, {"chain_db": source}) as (db,):
        db.Base.metadata.create_all(db.engine)
        with db.SessionLocal() as session:
            session.add(db.User(id=1, token="t"))
            session.commit()

        async def run() -> tuple[bool, list[str]]:
            with statements_on_this_thread(db.engine) as on_loop, db.SessionLocal() as session:
                manager = db.UserManager(db.UserDatabase(session))
                user = await run_in_threadpool(manager.user_for_token, "t")
                return user.is_active, on_loop

        assert asyncio.run(run()) == (True, ["SELECT"])
        db.engine.dispose()
