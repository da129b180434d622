"""AM307 blocking-lazy-load: `check` reports an `async def` route lazy-loading a relationship
of a dependency's object on the synchronous Session."""

from __future__ import annotations

import pytest

from rules.test_am129_lazy_load_on_loop import MODELS, ROUTE, files


def test_a_lazy_read_on_a_dependency_object_is_an_am307_finding(app, findings):
    root = app(ROUTE.replace("{options}", "").replace("{await}", "await asyncio.sleep(0)\n    "), files())
    (finding,) = findings(root, "posts")
    assert finding["code"] == "AM307"
    assert "`user.posts`" in finding["message"] and "event loop" in finding["message"]


def test_near_miss_the_dependency_eager_loads_the_relationship(app, findings):
    root = app(ROUTE.replace("{options}", ", options=[selectinload(User.posts)]").replace("{await}", ""), files())
    assert findings(root, "posts") == []


RESPONSE = """
from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import selectinload

from models import User


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    posts: list[PostOut]


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1{options})


@router.get("/me", response_model=UserOut)
async def me(current_user: User = Depends(get_current_user)):
    return current_user
"""


def test_a_response_model_reading_a_lazy_relationship_of_a_dependency_object_is_an_am307_finding(app, findings):
    root = app(RESPONSE.replace("{options}", ""), files())
    (finding,) = findings(root, "me")
    assert finding["code"] == "AM307"
    assert "`UserOut.posts`" in finding["message"] and "event loop" in finding["message"]


def test_a_response_model_lazy_load_is_cited_at_the_return_handing_the_object_over(app, findings):
    # the read runs when FastAPI serialises what `return current_user` hands it, not at the decorator
    root = app(RESPONSE.replace("{options}", ""), files())
    (finding,) = findings(root, "me")
    text = (root / "api/items.py").read_text().splitlines()
    returned = text.index("    return current_user") + 1
    assert f"`UserOut.posts` (api/items.py:{returned})" in finding["message"], finding["message"]
    assert [b["line"] for b in finding["blocking"]] == [returned], finding["blocking"]


def test_near_miss_the_dependency_eager_loads_what_the_response_model_reads(app, findings):
    root = app(RESPONSE.replace("{options}", ", options=[selectinload(User.posts)]"), files())
    assert findings(root, "me") == []


DYNAMIC = """
from fastapi import Depends

from models import User


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1)


@router.get("/count")
async def count(user: User = Depends(get_current_user)):
    return user.{attribute}
"""


def test_a_dynamic_relationship_of_a_dependency_object_is_an_am307_finding(app, findings):
    models = MODELS.replace(
        '    posts: Mapped[list["Post"]] = relationship(back_populates="user")\n',
        '    posts: Mapped[list["Post"]] = relationship(back_populates="user")\n'
        '    notes = relationship("Post", lazy="dynamic", viewonly=True)\n',
    )
    root = app(DYNAMIC.replace("{attribute}", "notes.count()"), {"models.py": models})
    (finding,) = findings(root, "count")
    assert finding["code"] == "AM307" and "queries through lazy=\"dynamic\" relationship `user.notes`" in finding["message"]
    # near miss: a column of the same object loads nothing
    root = app(DYNAMIC.replace("{attribute}", "id"), {"models.py": models})
    assert findings(root, "count") == []


CHAIN = RESPONSE.replace(
    '''@router.get("/me", response_model=UserOut)
async def me(current_user: User = Depends(get_current_user)):''',
    '''async def get_active_user(current_user: User = Depends(get_current_user)) -> User:
    return current_user


@router.get("/me", response_model=UserOut)
async def me(current_user: User = Depends(get_active_user)):''',
)


def test_an_object_handed_on_by_an_async_dependency_of_a_sync_one_is_an_am307_finding(app, findings):
    assert "get_active_user" in CHAIN
    root = app(CHAIN.replace("{options}", ""), files())
    (finding,) = findings(root, "me")
    assert finding["code"] == "AM307" and "`UserOut.posts`" in finding["message"]
    root = app(CHAIN.replace("{options}", ", options=[selectinload(User.posts)]"), files())
    assert findings(root, "me") == []


# RESPONSE's schemas, the Session work in a function the route runs in the threadpool.
OFFLOADED = RESPONSE.split("\n\n\ndef get_current_user")[0].replace(
    "from fastapi import Depends\n", "from fastapi import Depends\nfrom fastapi.concurrency import run_in_threadpool\n"
) + """


def load_user(session, user_id: int){returns}:
    user = session.get(User, user_id{options})
    return {value}


@router.get("/users/{user_id}", response_model=UserOut)
async def read_user(user_id: int, session: session_dependency):
    user = await run_in_threadpool(load_user, session, user_id)
    return user
"""


def _offloaded(options: str = "", returns: str = "", value: str = "user") -> str:
    return OFFLOADED.replace("{options}", options).replace("{returns}", returns).replace("{value}", value)


def test_an_object_returned_from_the_threadpool_and_serialised_on_the_loop_is_an_am307_finding(app, findings):
    # The Session work runs in a worker thread, but FastAPI serialises an async route's response on
    # the event loop: `UserOut.posts` lazy-loads there.
    (finding,) = findings(app(_offloaded(), files()), "read_user")
    assert finding["code"] == "AM307"
    assert "`UserOut.posts`" in finding["message"] and "threadpool" in finding["message"], finding["message"]
    assert "api.items.load_user" in finding["message"]


def test_near_miss_the_threadpool_call_returns_plain_data(app, findings):
    root = app(_offloaded(returns=" -> dict", value='{"id": user.id, "posts": [{"title": p.title} for p in user.posts]}'), files())
    assert findings(root, "read_user") == []


def test_near_miss_the_threadpool_call_eager_loads_what_the_response_reads(app, findings):
    root = app(_offloaded(options=", options=[selectinload(User.posts)]"), files())
    assert findings(root, "read_user") == []


PROVIDERS = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Post, User


class Permission:
    def __call__(self, session: session_dependency) -> User:
        return session.scalars(select(User){options}).first()


require_user = Permission()


class FirstPosts:
    def __init__(self, session: session_dependency):
        self.posts = session.scalars(select(Post){post_options}).all()


@router.get("/mine")
async def mine(user: User = Depends(require_user)):
    return {"n": len(user.posts)}


@router.get("/first")
async def first(q: FirstPosts = Depends()):
    return {"user": q.posts[0].user.id}
"""


def test_objects_from_a_callable_instance_and_a_class_dependency_lazy_load_as_am307(app, findings):
    root = app(PROVIDERS.replace("{options}", "").replace("{post_options}", ""), files())
    (mine,) = findings(root, "mine")
    assert mine["code"] == "AM307" and "`user.posts`" in mine["message"] and "Permission.__call__" in mine["message"]
    (first,) = findings(root, "first")
    assert first["code"] == "AM307" and "`q.posts[0].user`" in first["message"]
    assert "FirstPosts.__init__" in first["message"]


def test_near_miss_the_callable_instance_eager_loads_what_the_route_reads(app, findings):
    root = app(
        PROVIDERS.replace("{options}", ".options(selectinload(User.posts))").replace(
            "{post_options}", ".options(selectinload(Post.user))"
        ),
        files(),
    )
    assert findings(root, "mine") == []
    assert findings(root, "first") == []


EXPIRED = """
import asyncio

from fastapi import Depends

from models import User


def get_current_user(session: session_dependency) -> User:
    user = session.get(User, 1)
    session.commit(){refresh}
    return user


@router.get("/ping")
async def ping(user: User = Depends(get_current_user)):
    await asyncio.sleep(0)
    return {"id": user.id}
"""


def expiring_files() -> dict[str, str]:
    from conftest import ENGINE

    return {**files(), "db/engine.py": ENGINE.replace(", expire_on_commit=False", "")}


def test_a_column_read_on_an_object_its_dependency_committed_is_an_am307_finding(app, findings):
    root = app(EXPIRED.replace("{refresh}", ""), expiring_files())
    (finding,) = findings(root, "ping")
    assert finding["code"] == "AM307"
    assert "`user.id`" in finding["message"] and "expired" in finding["message"]
    assert "api/items.py:" in finding["message"] and "get_current_user" in finding["message"]


def test_near_miss_the_dependency_refreshes_after_its_commit(app, findings):
    root = app(EXPIRED.replace("{refresh}", "\n    session.refresh(user)"), expiring_files())
    assert findings(root, "ping") == []


def test_near_miss_the_sessionmaker_does_not_expire_on_commit(app, findings):
    root = app(EXPIRED.replace("{refresh}", ""), files())
    assert findings(root, "ping") == []


DEFERRED = """
from fastapi import Depends

from models import User


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1)


@router.get("/me/bio")
async def bio(user: User = Depends(get_current_user)):
    return {"bio": user.{column}}
"""
DEFERRED_MODELS = MODELS.replace(
    "    id: Mapped[int] = mapped_column(primary_key=True)\n    posts:",
    "    id: Mapped[int] = mapped_column(primary_key=True)\n    bio: Mapped[str] = mapped_column(deferred=True)\n"
    "    name: Mapped[str]\n    posts:",
)


def test_a_deferred_column_read_on_a_dependency_object_is_an_am307_finding(app, findings):
    # The first read of a deferred column is a SELECT on the dependency's synchronous Session,
    # as a relationship's is: it was no finding.
    assert DEFERRED_MODELS != MODELS
    root = app(DEFERRED.replace("{column}", "bio"), {"models.py": DEFERRED_MODELS})
    (finding,) = findings(root, "bio")
    assert finding["code"] == "AM307"
    assert "User.bio" in finding["message"] and "event loop" in finding["message"]
    assert "loads the deferred column `User.bio`" in finding["message"], finding["message"]


def test_near_miss_a_plain_column_of_a_dependency_object_is_loaded_already(app, findings):
    root = app(DEFERRED.replace("{column}", "name"), {"models.py": DEFERRED_MODELS})
    assert findings(root, "bio") == []


OWN_OFFLOADED = """
import functools

import anyio
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool

from models import Post, User


@router.get("/get/{i}")
async def by_get(i: int, db: session_dependency):
    post = await run_in_threadpool(db.get, Post, i{options})
    return {"user": post.user.id}


@router.get("/lambda")
async def by_lambda(db: session_dependency):
    users = await run_in_threadpool(lambda: db.scalars(select(User){chain}).all())
    return [len(u.posts) for u in users]


@router.get("/partial/{i}")
async def by_partial(i: int, db: session_dependency):
    post = await anyio.to_thread.run_sync(functools.partial(db.get, Post, i{options}))
    return {"user": post.user.id}
"""


def _own(options: str = "", chain: str = "") -> str:
    return OWN_OFFLOADED.replace("{options}", options).replace("{chain}", chain)


def test_a_relationship_of_what_a_session_call_in_the_threadpool_returned_is_an_am307_finding(app, findings):
    # The query runs in a worker thread; the relationship read after it runs on the event loop.
    root = app(_own(), files())
    for route, read in (("by_get", "`post.user`"), ("by_lambda", "`u.posts`"), ("by_partial", "`post.user`")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307" and read in finding["message"], finding["message"]
        assert "a Session call run in the threadpool returned" in finding["message"], finding["message"]


def test_near_miss_the_session_call_in_the_threadpool_eager_loads_what_is_read(app, findings):
    root = app(
        _own(options=", options=[selectinload(Post.user)]", chain=".options(selectinload(User.posts))"), files()
    )
    for route in ("by_get", "by_lambda", "by_partial"):
        assert findings(root, route) == [], route


OFFLOADED_COMMIT = """
from fastapi import Depends
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


def save(session, obj) -> None:
    session.add(obj)
    session.commit()


@router.post("/helper")
async def by_helper(session=Depends(get_db)):
    user = User()
    await run_in_threadpool(save, session, user){refresh}
    return {"id": user.id}


@router.post("/method")
async def by_method(session=Depends(get_db)):
    user = User()
    session.add(user)
    await run_in_threadpool(session.commit){refresh}
    return {"id": user.id}


@router.post("/loaded/{i}")
async def loaded(i: int, session=Depends(get_db)):
    user = await run_in_threadpool(session.get, User, i)
    await run_in_threadpool(session.commit){refresh}
    return user
"""


MYDB = """
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite:///./x.db"){keep})


def get_db() -> Session:
    with SessionLocal() as session:
        yield session
"""


def _committing(keep: str = "") -> dict[str, str]:
    return {**files(), "mydb.py": MYDB.replace("{keep}", keep)}


def test_a_read_after_a_commit_run_in_the_threadpool_is_an_am307_finding(app, findings):
    # The commit in the worker thread expires the object; reading it back on the loop refreshes
    # it there. It read "nothing blocks the event loop" and check passed the routes.
    root = app(OFFLOADED_COMMIT.replace("{refresh}", ""), _committing())
    for route, read in (("by_helper", "`user.id`"), ("by_method", "`user.id`"), ("loaded", "`user`")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307" and read in finding["message"], finding["message"]
        assert "after the commit it ran in the threadpool" in finding["message"], finding["message"]


def test_near_miss_the_object_is_refreshed_in_the_threadpool_after_the_commit(app, findings):
    root = app(
        OFFLOADED_COMMIT.replace("{refresh}", "\n    await run_in_threadpool(session.refresh, user)"), _committing()
    )
    for route in ("by_helper", "by_method", "loaded"):
        assert findings(root, route) == [], route


def test_near_miss_the_threadpool_commit_on_a_sessionmaker_that_does_not_expire(app, findings):
    root = app(OFFLOADED_COMMIT.replace("{refresh}", ""), _committing(keep=", expire_on_commit=False"))
    for route in ("by_helper", "by_method", "loaded"):
        assert findings(root, route) == [], route


LISTED_AFTER_COMMIT = """
from fastapi import Depends
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


def names(session) -> list[User]:
    return list(session.scalars(select(User)))


@router.get("/listed")
async def listed(session=Depends(get_db)):
    {first}
    {second}
    return [user.id for user in users]
"""
_COMMIT = "await run_in_threadpool(session.commit)"
_LIST = "users = await run_in_threadpool(names, session)"


def test_near_miss_the_items_of_a_list_loaded_in_the_threadpool_after_the_commit(app, findings):
    # mlrun's `profiles = await run_in_threadpool(db.list_profiles, ...)` after a threadpool call
    # committing, read as `[p.name for p in profiles]`: what was loaded after the commit is fresh
    root = app(LISTED_AFTER_COMMIT.replace("{first}", _COMMIT).replace("{second}", _LIST), _committing())
    assert findings(root, "listed") == []


def test_the_items_of_a_list_loaded_before_the_commit_are_still_am307(app, findings):
    root = app(LISTED_AFTER_COMMIT.replace("{first}", _LIST).replace("{second}", _COMMIT), _committing())
    (finding,) = findings(root, "listed")
    assert finding["code"] == "AM307" and "`user.id`" in finding["message"], finding["message"]


INLINE_INSTANCE = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool

from models import User


class Permission:
    def __init__(self, role: str = "user"):
        self.role = role

    def __call__(self, session: session_dependency) -> User:
        return session.scalars(select(User){options}).first()


class OffloadedPermission:
    async def __call__(self, session: session_dependency) -> User:
        return await run_in_threadpool(session.get, User, 1{get_options})


@router.get("/inline")
async def inline(user: User = Depends(Permission("admin"))):
    return {"n": len(user.posts)}


@router.get("/inline-offloaded")
async def inline_offloaded(user: User = Depends(OffloadedPermission())):
    return {"n": len(user.posts)}
"""


def test_an_object_from_an_instance_built_in_the_depends_lazy_loads_as_am307(app, findings):
    # `Depends(Permission("admin"))`: FastAPI runs the instance's `__call__`; the route read
    # "no synchronous Session work" and check passed it.
    root = app(INLINE_INSTANCE.replace("{options}", "").replace("{get_options}", ""), files())
    for route, provider in (("inline", "Permission.__call__"), ("inline_offloaded", "OffloadedPermission.__call__")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307" and "`user.posts`" in finding["message"], finding["message"]
        assert provider in finding["message"], finding["message"]


def test_near_miss_the_instance_built_in_the_depends_eager_loads(app, findings):
    root = app(
        INLINE_INSTANCE.replace("{options}", ".options(selectinload(User.posts))").replace(
            "{get_options}", ", options=[selectinload(User.posts)]"
        ),
        files(),
    )
    assert findings(root, "inline") == [] and findings(root, "inline_offloaded") == []


def test_near_miss_an_object_loaded_in_the_threadpool_after_the_commit_is_fresh(app, findings):
    route = """
from fastapi import Depends
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


@router.post("/fresh")
async def fresh(session=Depends(get_db)):
    await run_in_threadpool(session.commit)
    user = await run_in_threadpool(session.get, User, 1)
    return {"id": user.id}
"""
    assert findings(app(route, _committing()), "fresh") == []


def test_a_helper_reading_what_a_session_call_in_the_threadpool_returned_names_that_call(app, findings):
    route = """
from starlette.concurrency import run_in_threadpool

from models import Post


def owner_id(post):
    return post.user.id


@router.get("/owner/{i}")
async def owner(i: int, session: session_dependency):
    post = await run_in_threadpool(session.get, Post, i)
    return {"owner": owner_id(post)}
"""
    (finding,) = findings(app(route, files()), "owner")
    assert finding["code"] == "AM307" and "`post.user`" in finding["message"], finding["message"]
    assert "a Session call run in the threadpool returned" in finding["message"], finding["message"]


# The full-stack template's shape: the dependency reached through `CurrentUser`, an
# `Annotated[User, Depends(get_current_user)]` alias (directly, through a superuser check, or as a
# module-level `Depends(...)` default), its Session opened by `Session(engine)` in `get_db`
# (expiring, as every Session built without expire_on_commit=False), or by a sessionmaker.
EXPIRED_ALIAS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session, sessionmaker

from db.engine import engine
from models import User

SessionLocal = sessionmaker(engine{keep})


def get_db():
    with {opener} as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def get_current_user(session: SessionDep) -> User:
    user = session.get(User, 1)
    session.add(user)
    session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_active_superuser(current_user: CurrentUser) -> User:
    return current_user


current_user_default = Depends(get_current_user)


@router.get("/me")
async def me(current_user: CurrentUser):
    return current_user


@router.get("/admin")
async def admin(user: Annotated[User, Depends(get_current_active_superuser)]):
    return {"id": user.id}


@router.get("/default")
async def by_default(user: User = current_user_default):
    return {"id": user.id}
"""


@pytest.mark.parametrize("opener", ["Session(engine)", "SessionLocal()"])
def test_an_object_a_dependency_alias_committed_is_an_am307_finding(app, findings, opener):
    root = app(EXPIRED_ALIAS.replace("{keep}", "").replace("{opener}", opener), expiring_files())
    for route, read in (("me", "`current_user`"), ("admin", "`user.id`"), ("by_default", "`user.id`")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307", finding
        assert read in finding["message"] and "expired" in finding["message"], finding["message"]
        assert "from the dependency api.items.get_current_" in finding["message"], finding["message"]


def test_near_miss_the_sessionmaker_behind_the_alias_does_not_expire_on_commit(app, findings):
    root = app(
        EXPIRED_ALIAS.replace("{keep}", ", expire_on_commit=False").replace("{opener}", "SessionLocal()"),
        expiring_files(),
    )
    for route in ("me", "admin", "by_default"):
        assert findings(root, route) == []


# A CRUDBase-style helper run in the threadpool, committing and (or not) refreshing what it hands
# back; the override hands the object on to the base method.
REFRESHING = """
from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class CRUDBase:
    def __init__(self, model):
        self.model = model

    def create(self, db, *, name: str):
        db_obj = self.model()
        db.add(db_obj)
        db.commit(){refresh}
        return db_obj


class CRUDUser(CRUDBase):
    def create(self, db, *, name: str):
        return super().create(db, name=name)


crud_base = CRUDBase(User)
crud_user = CRUDUser(User)


@router.post("/direct", response_model={model})
async def direct(session=Depends(get_db)):
    user = await run_in_threadpool(crud_base.create, session, name="x"){after}
    return user


@router.post("/handed", response_model={model})
async def handed(session=Depends(get_db)):
    user = await run_in_threadpool(crud_user.create, session, name="x"){after}
    return user


@router.post("/read")
async def read(session=Depends(get_db)):
    user = await run_in_threadpool(crud_user.create, session, name="x"){after}
    return {"id": user.{attribute}}
"""


def _refreshing(refresh: str = "\n        db.refresh(db_obj)", after: str = "", model: str = "UserOut", attribute: str = "id"):
    route = REFRESHING.replace("{refresh}", refresh).replace("{after}", after)
    return route.replace("{model}", model).replace("{attribute}", attribute)


ROUTES = ("direct", "handed", "read")


def test_near_miss_a_helper_in_the_threadpool_hands_back_the_object_refreshed(app, findings):
    # `user = await run_in_threadpool(crud.user.create, db, obj_in=...)`, `create` ending
    # `db.commit(); db.refresh(db_obj); return db_obj` (or handing that on to `super().create`):
    # its columns are loaded, and reading them on the loop queries nothing. It was AM307.
    root = app(_refreshing(), _committing())
    for route in ROUTES:
        assert findings(root, route) == [], route


@pytest.mark.parametrize("refresh", ["", "\n        if name:\n            db.refresh(db_obj)"], ids=["none", "under-if"])
def test_a_helper_in_the_threadpool_committing_without_refreshing_is_still_am307(app, findings, refresh):
    # no refresh, or one that does not run on every path to the return
    root = app(_refreshing(refresh=refresh), _committing())
    for route in ROUTES:
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307" and "after the commit it ran in the threadpool" in finding["message"], route


def test_a_relationship_of_the_refreshed_object_read_on_the_loop_is_still_am307(app, findings):
    # a refresh leaves lazy relationships unloaded: the read, or the response nesting it, loads them
    schemas = "class PostOut(BaseModel):\n    model_config = ConfigDict(from_attributes=True)\n    title: str\n\n\n"
    route = _refreshing(model="UserPosts", attribute="posts").replace(
        "class UserOut(", schemas + "class UserPosts(BaseModel):\n    model_config = ConfigDict(from_attributes=True)\n"
        "    posts: list[PostOut]\n\n\nclass UserOut("
    )
    root = app(route, _committing())
    for route_name in ROUTES:
        (finding,) = findings(root, route_name)
        assert finding["code"] == "AM307", route_name


def test_a_commit_after_the_refreshing_helper_is_still_am307(app, findings):
    root = app(_refreshing(after="\n    await run_in_threadpool(session.commit)"), _committing())
    for route in ROUTES:
        (finding,) = findings(root, route)
        assert finding["code"] == "AM307" and "after the commit it ran in the threadpool" in finding["message"], route


STATE = """
from fastapi import Depends, Request
from starlette.datastructures import State

from models import User


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1)


def get_state(request: Request, user: User = Depends(get_current_user)) -> State:
    request.state.user = user
    request.state.posts = "/users/1/posts"
    return request.state


@router.get("/links")
async def links(state: State = Depends(get_state)):
    return {"posts": {read}}
"""


def test_an_attribute_of_a_state_named_like_a_relationship_is_no_lazy_load(app, findings):
    # `State` hands out what was stored under the name through its `__getattr__`: `state.posts`
    # is that value, not `User.posts`
    assert findings(app(STATE.replace("{read}", "state.posts"), files()), "links") == []
    # what the state holds is read as any object: `state.user.posts` loads the relationship
    (finding,) = findings(app(STATE.replace("{read}", "[p.title for p in state.user.posts]"), files()), "links")
    assert finding["code"] == "AM307" and "`state.user.posts`" in finding["message"], finding


@pytest.mark.parametrize(
    ("provider", "returned"),
    [
        ("get_state(request: Request, user: User = Depends(get_current_user)) -> State", "request.state"),
        ("get_state(request: Request, user: User = Depends(get_current_user))", "request.state"),
        ("get_state(request: Request, user: User = Depends(get_current_user))", "request.app.state"),
    ],
    ids=["annotated-provider", "unannotated-request-state", "unannotated-app-state"],
)
def test_an_attribute_of_a_state_an_unannotated_parameter_gets_is_no_lazy_load(app, findings, provider, returned):
    # before, only a parameter annotated `State` was read as one: `state=Depends(get_state)` judged
    # `state.posts` by name, as `User.posts` on an object the dependency loaded
    source = (
        STATE.replace("def get_state(request: Request, user: User = Depends(get_current_user)) -> State", f"def {provider}")
        .replace("    return request.state\n", f"    return {returned}\n")
        .replace("state: State = Depends(get_state)", "state=Depends(get_state)")
    )
    assert findings(app(source.replace("{read}", "state.posts"), files()), "links") == []
    if returned == "request.state":
        # what the state holds is still read as any object
        (finding,) = findings(app(source.replace("{read}", "[p.title for p in state.user.posts]"), files()), "links")
        assert finding["code"] == "AM307" and "`state.user.posts`" in finding["message"], finding


def test_near_miss_an_unannotated_parameter_a_dependency_hands_an_orm_object_still_lazy_loads(app, findings):
    source = STATE.replace("state: State = Depends(get_state)", "state=Depends(get_current_user)")
    (finding,) = findings(app(source.replace("{read}", "[p.title for p in state.posts]"), files()), "links")
    assert finding["code"] == "AM307" and "`state.posts`" in finding["message"], finding


DECLARED_RESULT = """
from fastapi import Depends
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


class UserOut(BaseModel):
    name: str


def rename(session, i: int) -> {declared}:
    user = session.get(User, i)
    user.name = "x"
    session.commit()
    return {value}


@router.post("/rename/{i}")
async def renamed(i: int, session=Depends(get_db)):
    result = await run_in_threadpool(rename, session, i)
    return {"name": result.name}
"""


def _declared(declared: str, value: str) -> str:
    return DECLARED_RESULT.replace("{declared}", declared).replace("{value}", value)


def test_a_helper_declared_to_return_a_mapped_class_still_returns_an_expired_object(app, findings):
    # Only what the helper declares tells the flow what the threadpool call hands back: a mapped
    # class (or a bare container, or `Any`) may be the object the commit expired.
    for declared in ("User", "list", "Any", "Optional[User]"):
        source = _declared(declared, "user").replace("from models import User", "from typing import Any, Optional\n\nfrom models import User")
        (finding,) = findings(app(source, _committing()), "renamed")
        assert finding["code"] == "AM307" and "`result.name`" in finding["message"], (declared, finding)


def test_near_miss_a_helper_declared_to_return_a_pydantic_model_hands_back_no_orm_object(app, findings):
    # mlrun's `get_project(...) -> schemas.Project`: a pydantic model built from the row, which
    # no commit expires; the read of it after the commit queries nothing.
    for declared in ("UserOut", "Optional[UserOut]", "list[UserOut]", "str"):
        source = _declared(declared, 'UserOut(name="x")').replace("from models import User", "from typing import Optional\n\nfrom models import User")
        assert findings(app(source, _committing()), "renamed") == [], declared


# mlrun's shapes: helpers without annotations, so what they return may be an ORM object; each read
# below is still no read of an object the threadpool's commit expired.
UNANNOTATED = """
import asyncio

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from models import User
from mydb import get_db


def touch(session, project):
    session.commit()


def build(session, data):
    return session.get(User, data)


def schedule(session, project, obj) -> str:
    session.commit()
    return project


def list_names(session, project) -> list[str]:
    return [project]


def search_names(session: Session, project) -> list[str]:
    session.commit()
    return [project]


SEARCH = {"names": search_names}


async def keep_allowed(items, key):
    return [item for item in items if key(item)]


@router.get("/profiles")
async def profiles_route(project: str, session=Depends(get_db)):
    await run_in_threadpool(touch, session, project)
    profiles = await run_in_threadpool(list_names, session, project)
    return await keep_allowed(profiles, lambda profile: profile.name)


@router.post("/start")
async def start(data: int, session=Depends(get_db)):
    function = await run_in_threadpool(build, session, data)
    task = await run_in_threadpool(
        schedule,
        session,
        function.name,
        function,
    )
    return task{after}


@router.get("/search")
async def search(target: str, session=Depends(get_db)) -> list[str]:
    function = SEARCH[target]
    if asyncio.iscoroutinefunction(function):
        result = await function(session, target)
    else:
        result = await run_in_threadpool(function, session, target)
    return result
"""


def test_near_miss_reads_no_commit_expired_in_unannotated_helpers_shapes(app, findings):
    root = app(UNANNOTATED.replace("{after}", ""), _committing())
    # a lambda's parameter holds what it is called with: nothing bound before the commit
    assert findings(root, "profiles_route") == []
    # an argument of the committing call is read before the call runs
    assert findings(root, "start") == []
    # the awaited side of the table runs nothing: only `list_names`, declared to return strings, binds it
    assert findings(root, "search") == []


def test_a_read_after_the_committing_call_is_still_am307(app, findings):
    root = app(UNANNOTATED.replace("{after}", ", function.name"), _committing())
    (finding,) = findings(root, "start")
    assert finding["code"] == "AM307" and "`function.name`" in finding["message"], finding["message"]


# argilla's policies: the route hands the dependency's user to `is_authorized` beside a lambda a
# policy returns, which reads the user's relationship: the flow cannot follow the user into it
POLICY = """
from fastapi import Depends, HTTPException
from sqlalchemy.orm import selectinload

from models import User


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1{options})


def is_authorized(user, action) -> bool:
    return action(user)


class Policy:
    @classmethod
    def get(cls, title):
        return lambda actor: title in [p.title for p in actor.posts]


class Service:
    def find(self, user: User, title: str) -> bool:
        return is_authorized(user, Policy.get(title))


@router.get("/posts/{title}")
async def post(title: str, user: User = Depends(get_current_user)):
    if not {call}:
        raise HTTPException(403)
    return {"ok": True}
"""


@pytest.mark.parametrize("call", ["is_authorized(user, Policy.get(title))", "Service().find(user=user, title=title)"])
def test_a_relationship_a_callable_handed_beside_the_object_reads_is_an_am307_finding(app, findings, call):
    root = app(POLICY.replace("{options}", "").replace("{call}", call), files())
    (finding,) = findings(root, "post")
    assert finding["code"] == "AM307", finding
    assert "`actor.posts`" in finding["message"] and "api.items.get_current_user" in finding["message"], finding


@pytest.mark.parametrize("options, call", [
    (", options=[selectinload(User.posts)]", "is_authorized(user, Policy.get(title))"),
    ("", "is_authorized(title, Policy.get(title))"),
])
def test_near_miss_the_object_is_eager_loaded_or_not_handed_to_the_callable(app, findings, options, call):
    root = app(POLICY.replace("{options}", options).replace("{call}", call), files())
    assert findings(root, "post") == []


def test_a_parameter_typed_as_no_mapped_class_is_no_lazy_load_by_name(app, findings):
    # argilla's query builder reads `query.workspaces` on a pydantic query, the route handing it
    # the user on the same line: only User declares `posts`, but `query` is no ORM object
    route = POLICY.replace("{options}", "").replace("{call}", "scoped(user, Query(posts=[title]))").replace(
        "class Service:",
        "class Query(BaseModel):\n    posts: list[str]\n\n\n"
        "def scoped(user: User, query: Query) -> bool:\n    return bool(query.posts)\n\n\nclass Service:",
    ).replace("from fastapi import", "from pydantic import BaseModel\nfrom fastapi import")
    assert findings(app(route, files()), "post") == []


# A dependency that is a method of a module-level instance, made by its class or by a factory
# (argilla's `auth = create_local_auth_provider()`, `Security(auth.get_current_user)`)
PROVIDER = """
from fastapi import Depends, Security
from sqlalchemy.orm import Session, selectinload

from db.engine import get_db_session
from models import User


class Provider:
    def get_current_user(self, session: Session = Depends(get_db_session)) -> User:
        return session.get(User, 1{options})


def create_provider(){returns}:
    return Provider()


auth = {made}


@router.get("/posts")
async def posts(user: User = Security(auth.get_current_user)):
    return [p.title for p in user.posts]
"""


@pytest.mark.parametrize("made, returns", [
    ("Provider()", ""), ("create_provider()", ""), ("create_provider()", " -> Provider"),
])
def test_an_object_from_a_method_of_a_module_level_instance_lazy_loads_as_am307(app, findings, made, returns):
    route = PROVIDER.replace("{options}", "").replace("{made}", made).replace("{returns}", returns)
    (finding,) = findings(app(route, files()), "posts")
    assert finding["code"] == "AM307", finding
    assert "`user.posts`" in finding["message"] and "Provider.get_current_user" in finding["message"], finding


def test_near_miss_the_instance_method_eager_loads_what_the_route_reads(app, findings):
    route = PROVIDER.replace("{options}", ", options=[selectinload(User.posts)]").replace(
        "{made}", "create_provider()").replace("{returns}", "")
    assert findings(app(route, files()), "posts") == []
