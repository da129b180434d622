"""AM314 in a background task: `tasks.add_task(notify, post)` runs `notify` after the response,
outside any greenlet (a `def` task in the threadpool), and what it reads on the objects the route's
AsyncSession loaded loads lazily there: MissingGreenlet, logged after a 200 the client already has.
`check` followed only the calls the route makes. A query loading what the task reads clears it,
and a task handed values only reads nothing. The premise test runs the routes on aiosqlite."""

from __future__ import annotations

from sample import async_routes

BLOG = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    comments: Mapped[list["Comment"]] = relationship(back_populates="post")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="comments")


SENT = []
"""
ROUTES = """
from fastapi import BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from blog import SENT, Post


async def notify(post):
    SENT.append([comment.body for comment in post.comments])


def notify_in_thread(post):
    SENT.append([comment.body for comment in post.comments])


def notify_title(title):
    SENT.append([title])


@router.post("/later")
async def later(tasks: BackgroundTasks, db: AsyncSession):
    post = await db.get(Post, 1)
    tasks.add_task(notify, post)
    return {"ok": True}


@router.post("/threaded")
async def threaded(tasks: BackgroundTasks, db: AsyncSession):
    post = await db.get(Post, 1)
    tasks.add_task(notify_in_thread, post)
    return {"ok": True}


@router.post("/loaded")
async def loaded(tasks: BackgroundTasks, db: AsyncSession):
    post = await db.get(Post, 1, options=[selectinload(Post.comments)])
    tasks.add_task(notify, post)
    return {"ok": True}


@router.post("/titled")
async def titled(tasks: BackgroundTasks, db: AsyncSession):
    post = await db.get(Post, 1)
    tasks.add_task(notify_title, post.title)
    return {"ok": True}
"""
FILES = {"blog.py": BLOG}


def test_a_background_task_reading_an_unloaded_relationship_is_am314(app, findings):
    root = app(ROUTES, FILES)
    for function, task in (("later", "notify"), ("threaded", "notify_in_thread")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM314"], (function, found)
        assert "post.comments (lazy load at api/items.py" in found[0]["message"], found[0]["message"]
        assert f"in api.items.{task})" in found[0]["message"], found[0]["message"]


def test_near_miss_a_query_loading_it_or_a_task_handed_a_value_is_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "loaded") == []
    assert findings(root, "titled") == []


def test_the_premise_the_task_fails_after_the_response_unless_the_query_loaded_it(tmp_path):
    def seed(blog):  # type: ignore[no-untyped-def]
        post = blog.Post(id=1, title="a")
        return [post, blog.Comment(id=1, body="c", post=post)]

    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, seed) as client:
        import blog  # type: ignore[import-not-found]

        answered = [client.post(f"/{path}").status_code for path in ("later", "threaded", "loaded")]
        sent = list(blog.SENT)
    # both answered 200 before their task failed; only the loaded one's task ran to the end
    assert answered == [200, 200, 200] and sent == [["c"]], (answered, sent)
