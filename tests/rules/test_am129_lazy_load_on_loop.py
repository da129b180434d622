"""AM129 lazy-load-on-loop: an `async def` route reading a lazy relationship of a dependency's
object (loaded on the synchronous Session) converts to def, or stays async with the reason."""

from __future__ import annotations

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    posts: Mapped[list["Post"]] = relationship(back_populates="user")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="posts")
"""

ROUTE = """
import asyncio

from fastapi import Depends
from sqlalchemy.orm import selectinload

from models import User


def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1{options})


@router.get("/posts")
async def posts(user: User = Depends(get_current_user)):
    {await}return [p.title for p in user.posts]
"""


def files() -> dict[str, str]:
    return {"models.py": MODELS}


def test_a_lazy_read_on_a_dependency_object_converts_the_route_with_am129(app, reported):
    root = app(ROUTE.replace("{options}", "").replace("{await}", ""), files())
    entry = reported(root, "posts", "phase1")
    assert (entry["action"], entry["after"], entry["codes"]) == ("convert", "def", ["AM129"])
    assert "`user.posts`" in entry["reasons"][0] and "api.items.get_current_user" in entry["reasons"][0]


def test_a_route_that_awaits_keeps_with_am129(app, reported):
    root = app(ROUTE.replace("{options}", "").replace("{await}", "await asyncio.sleep(0)\n    "), files())
    entry = reported(root, "posts", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM129"])
    assert "stays async" in entry["reasons"][0]


def test_near_miss_the_dependency_eager_loads_the_relationship(app, reported):
    root = app(
        ROUTE.replace("{options}", ", options=[selectinload(User.posts)]").replace("{await}", ""), files()
    )
    assert reported(root, "posts", "phase1")["codes"] == ["AM105"]


def test_a_route_reading_back_what_the_threadpool_loaded_keeps_with_am129(app, reported):
    from rules.test_am307_blocking_lazy_load import _offloaded

    entry = reported(app(_offloaded(), files()), "read_user", "phase1")
    assert (entry["action"], entry["after"], entry["codes"]) == ("keep", "async", ["AM129"]), entry
    assert "returned from the threadpool" in entry["reasons"][0], entry["reasons"]


EXPIRED_ME = """
from fastapi import Depends

from models import User


def get_current_user(session: session_dependency) -> User:
    user = session.get(User, 1)
    session.commit()
    return user


def get_admin(user: User = Depends(get_current_user)) -> User:
    return user


@router.get("/me")
async def me(user: User = Depends(get_admin)):
    return user
"""


def test_returning_an_object_its_dependency_chain_committed_converts_the_route_with_am129(app, reported):
    from conftest import ENGINE

    root = app(EXPIRED_ME, {**files(), "db/engine.py": ENGINE.replace(", expire_on_commit=False", "")})
    entry = reported(root, "me", "phase1")
    assert (entry["action"], entry["after"], entry["codes"]) == ("convert", "def", ["AM129"])
    assert "expired" in entry["reasons"][0] and "api.items.get_admin" in entry["reasons"][0]


def test_near_miss_a_dependency_that_never_commits_leaves_the_route_alone(app, reported):
    from conftest import ENGINE

    root = app(
        EXPIRED_ME.replace("    session.commit()\n", ""),
        {**files(), "db/engine.py": ENGINE.replace(", expire_on_commit=False", "")},
    )
    assert reported(root, "me", "phase1")["action"] == "keep"


def test_near_miss_phase_one_reads_a_helper_in_the_threadpool_refreshing_what_it_hands_back(app, reported):
    # the object `crud_user.create` commits and refreshes in the threadpool is read on the loop
    # for its columns only: no AM129; without the refresh, or with a commit after it, AM129.
    from rules.test_am307_blocking_lazy_load import _committing, _refreshing

    entry = reported(app(_refreshing(), _committing()), "handed", "phase1")
    assert "AM129" not in entry["codes"], entry
    for route in (_refreshing(refresh=""), _refreshing(after="\n    await run_in_threadpool(session.commit)")):
        entry = reported(app(route, _committing()), "handed", "phase1")
        assert "AM129" in entry["codes"] and entry["action"] == "keep", entry


def test_model_code_reading_a_relationship_names_the_relationship_it_reads(app, reported):
    # `f"{user}"` runs User.__str__, which reads self.posts: the reason named only `user.__str__`
    models = MODELS.replace(
        '    posts: Mapped[list["Post"]] = relationship(back_populates="user")\n',
        '    posts: Mapped[list["Post"]] = relationship(back_populates="user")\n\n'
        '    def __str__(self) -> str:\n        return f"{self.id}: {len(self.posts)} posts"\n',
    )
    route = ROUTE.replace("{options}", "").replace("{await}", "").replace(
        "return [p.title for p in user.posts]", 'return {"who": f"{user}"}'
    )
    root = app(route, {"models.py": models})
    entry = reported(root, "posts", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM129"]), entry
    assert "`user.__str__` (" in entry["reasons"][0] and "which reads User.posts" in entry["reasons"][0], entry


def test_a_relationship_a_callable_handed_beside_the_object_reads_converts_the_route(app, reported):
    from rules.test_am307_blocking_lazy_load import POLICY

    route = POLICY.replace("{options}", "").replace("{call}", "is_authorized(user, Policy.get(title))")
    entry = reported(app(route, files()), "post", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM129"]), entry
    # near miss: the user is not handed to it
    route = POLICY.replace("{options}", "").replace("{call}", "is_authorized(title, Policy.get(title))")
    assert reported(app(route, files()), "post", "phase1")["codes"] == ["AM105"]
