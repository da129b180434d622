"""AM169 updates-loaded-row: a converted handler writing a loaded row's column back from its own value gets a note."""

from __future__ import annotations

import ast

import pytest

from async_migrate.codemods.astcollect.body import derived_stores

POSTS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(default="")
    likes: Mapped[int] = mapped_column(default=0)
    comments: Mapped[list[Comment]] = relationship()


class Counter:
    likes = 0
"""

CRUD = """
from sqlalchemy.orm import Session

from models import Post


def like_post(db: Session, pid: int) -> Post:
    post = db.get(Post, pid)
    post.likes += 1
    db.commit()
    return post


def get_post(db: Session, pid: int) -> Post:
    return db.get(Post, pid)


def bump(post: Post) -> None:
    post.likes += 1
"""

ROUTE = """
from fastapi import Depends
from sqlalchemy import select, update

import crud
from models import Comment, Counter, Post


def load_post(pid: int, db: session_dependency) -> Post:
    return db.get(Post, pid)


@router.post("/posts/{{pid}}/like")
async def like(pid: int, db: session_dependency, qty: int = 1):
    {body}
    db.commit()
"""

LINE = 21  # of the body's first statement


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTE.format(body=body), {"models.py": POSTS, "crud.py": CRUD})


@pytest.mark.parametrize("body, lock", [
    ("post = db.get(Post, pid)\n    post.likes = post.likes + 1", "`db.get(Post, ..., with_for_update=True)`"),
    ("post = db.get(Post, pid)\n    post.likes += 1", "`db.get(Post, ..., with_for_update=True)`"),
    ("post = db.scalars(select(Post).where(Post.id == pid)).first()\n    post.likes -= qty",
     f"`.with_for_update()` on the select of api/items.py:{LINE}"),
    ("post = db.execute(select(Post).where(Post.id == pid)).scalar_one()\n    post.likes = post.likes * 2",
     f"`.with_for_update()` on the select of api/items.py:{LINE}"),
    ("post = db.query(Post).filter(Post.id == pid).first()\n    post.likes += 1",
     f"`.with_for_update()` on the query of api/items.py:{LINE}"),
    ("post = db.scalars(select(Post).populate_existing()).one()\n    post.likes += 1",  # reloads, locks nothing
     f"`.with_for_update()` on the select of api/items.py:{LINE}"),
])
def test_a_converted_route_updating_a_loaded_row_from_its_own_value_gets_the_note(app, reported, body, lock):
    entry = reported(_root(app, body), "like", "phase1")
    assert entry["action"] == "convert", entry
    assert entry["codes"][0] == "AM101" and "AM169" in entry["codes"], entry
    note = entry["reasons"][entry["codes"].index("AM169")]
    assert note.startswith(
        f"loads `post` (a Post, api/items.py:{LINE}) and writes `post.likes` back from its own value at "
        f"api/items.py:{LINE + 1}: as def, concurrent requests of a worker interleave in the threadpool"
    ), note
    assert "`db.execute(update(Post).where(Post.id == post.id).values(likes=Post.likes + 1))`" in note, note
    assert note.endswith("or lock the row as it loads: " + lock), note


def test_a_helper_loading_and_updating_in_place_is_followed(app, reported):
    entry = reported(_root(app, "crud.like_post(db, pid)"), "like", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101", "AM169"]), entry
    assert entry["reasons"][1].startswith(
        f"calls `crud.like_post` (line {LINE}), which loads `post` (a Post, crud.py:7) and writes `post.likes` "
        "back from its own value at crud.py:8: "
    ), entry


def test_an_object_a_helper_returns_loaded_is_followed(app, reported):
    entry = reported(_root(app, "post = crud.get_post(db, pid)\n    post.likes += 1"), "like", "phase1")
    assert entry["codes"] == ["AM101", "AM169"], entry
    assert entry["reasons"][1].startswith(
        f"loads `post` (a Post, crud.py:14) and writes `post.likes` back from its own value at api/items.py:{LINE + 1}"
    ), entry


def test_scan_and_the_text_output_show_the_note(app, reported, cli):
    root = _root(app, "post = db.get(Post, pid)\n    post.likes += 1")
    assert "AM169" in reported(root, "like", "scan")["codes"]
    output = cli("phase1", root).stderr
    assert f"writes `post.likes` back from its own value at api/items.py:{LINE + 1}" in output, output


@pytest.mark.parametrize("body", [
    "post = db.get(Post, pid)\n    post.title = 'x'",  # a plain assignment: no read to race with
    "db.execute(update(Post).where(Post.id == pid).values(likes=Post.likes + 1))",  # computed in the database
    "post = db.get(Post, pid, with_for_update=True)\n    post.likes += 1",
    "post = db.scalars(select(Post).where(Post.id == pid).with_for_update()).first()\n    post.likes += 1",
    "stmt = select(Post).with_for_update().where(Post.id == pid)\n    post = db.scalars(stmt).one()\n    post.likes += 1",
    "post = db.query(Post).with_for_update().filter(Post.id == pid).first()\n    post.likes += 1",
    "post = db.get(Post, pid)\n    db.refresh(post, with_for_update=True)\n    post.likes += 1",
    "post = Post(likes=0)\n    post.likes += 1\n    db.add(post)",  # built here: no other request sees it
    "counter = Counter()\n    counter.likes += 1",  # no mapped class
    "post = db.get(Post, pid)\n    crud.bump(post)",  # a parameter of the helper: its origin not followed
    "post = db.get(Post, pid)\n    post.stats = {}\n    post.stats['n'] += 1",  # an item, not the column
    "post = db.get(Post, pid)\n    post.comments += [Comment()]",  # a relationship: adds a row, overwrites none
    "post = db.get(Post, pid)\n    post.views += 1",  # no column the class declares
])
def test_near_miss_converts_without_the_note(app, reported, body):
    entry = reported(_root(app, body), "like", "phase1")
    assert entry["action"] == "convert" and "AM169" not in entry["codes"], entry


def test_an_object_a_dependency_hands_over_gets_no_note(app, reported):
    route = ROUTE.replace("qty: int = 1", "post: Post = Depends(load_post)")
    entry = reported(app(route.format(body="post.likes += 1"), {"models.py": POSTS, "crud.py": CRUD}), "like", "phase1")
    assert entry["action"] == "convert" and "AM169" not in entry["codes"], entry


def test_a_route_kept_async_gets_no_note(app, reported):
    body = "post = db.get(Post, pid)\n    post.likes += 1\n    await notify(pid)"
    root = app(ROUTE.format(body=body) + "\n\nasync def notify(pid: int) -> None: ...\n", {"models.py": POSTS, "crud.py": CRUD})
    entry = reported(root, "like", "phase1")
    assert entry["action"] == "keep" and "AM169" not in entry["codes"], entry


def test_a_helper_call_offload_mixed_takes_off_the_loop_gets_the_note(app, cli, reported):
    body = "crud.like_post(db, pid)\n    await notify(pid)"
    root = app(ROUTE.format(body=body) + "\n\nasync def notify(pid: int) -> None: ...\n", {"models.py": POSTS, "crud.py": CRUD})
    assert "AM169" not in reported(root, "like", "phase1")["codes"]  # kept, its call left on the loop
    entry = reported(root, "like", "phase1", "--offload-mixed")
    assert entry["action"] == "keep" and "AM115" in entry["codes"], entry
    note = entry["reasons"][entry["codes"].index("AM169")]
    assert note.startswith(
        f"calls `crud.like_post` (line {LINE}, offloaded to the threadpool), which loads `post` (a Post, crud.py:7) "
        "and writes `post.likes` back from its own value at crud.py:8: offloaded, concurrent requests"
    ), note


SQLMODEL = """
from sqlmodel import Field, SQLModel


class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    likes: int = 0


class Counter(SQLModel):
    likes: int = 0
"""


def test_a_sqlmodel_table_loaded_with_exec_gets_the_note(app, reported):
    body = "for post in db.exec(select(Post)).all():\n        post.likes += 1"
    entry = reported(app(ROUTE.format(body=body), {"models.py": SQLMODEL, "crud.py": CRUD}), "like", "phase1")
    assert entry["codes"] == ["AM101", "AM169"], entry
    assert entry["reasons"][1].startswith(
        f"loads `post` (a Post, api/items.py:{LINE}) and writes `post.likes` back from its own value at "
        f"api/items.py:{LINE + 1}"
    ), entry


def test_a_def_route_gets_no_note(app, reported):
    root = _root(app, "post = db.get(Post, pid)\n    post.likes += 1").joinpath("api/items.py")
    root.write_text(root.read_text().replace("async def like", "def like"))
    entry = reported(root.parent.parent, "like", "phase1")
    assert entry["action"] == "unchanged" and "AM169" not in entry["codes"], entry


@pytest.mark.parametrize("statement, found", [
    ("post.likes += 1", True),
    ("post.likes = post.likes + 1", True),
    ("post.likes = min(post.likes - qty, 0)", True),
    ("post.on = not post.on", True),
    ("post.meta = {**(post.meta or {}), 'k': 1}", True),
    ("post.tags = [*post.tags, 'x']", True),
    ("post.counts = post.counts.get('k', 0) + 1", True),
    ("post.meta = new or post.meta", False),  # falls back to it: written back unchanged
    ("post.name = snapshot.get('name', post.name)", False),
    ("post.name = post.name.strip()", False),
    ("post.counts['k'] += 1", False),  # an item of it, not the attribute
    ("other.likes = post.likes + 1", False),
])
def test_a_value_computed_from_the_attribute_s_own_is_a_derived_store(statement, found):
    tree = ast.parse(f"def f(post, other, qty, new, snapshot):\n    {statement}\n")
    names = frozenset({"post", "other", "qty", "new", "snapshot"})
    assert bool(derived_stores(tree.body[0].body, names)) is found
