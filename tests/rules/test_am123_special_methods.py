"""AM123 / AM301: a statement or builtin that runs a special method of a project object
(`for post in posts:`, `len(posts)`, `if posts:`, `posts[key]`, `key in posts`, `list(posts)`,
`first, *rest = posts`, `f"{posts}"`, `posts == key`) runs that method: where it does synchronous Session work
(a lazy collection querying on each use), the route reaches it, as a call would."""

from __future__ import annotations

import textwrap

import pytest

POSTS = """
from sqlalchemy import text

from db.engine import database_sessionmaker


class Posts:
    def __iter__(self):
        with database_sessionmaker() as session:
            return iter(session.execute(text("select id from items")).all())

    def __len__(self):
        with database_sessionmaker() as session:
            return session.execute(text("select count(*) from items")).scalar()

    def __getitem__(self, key):
        with database_sessionmaker() as session:
            return session.execute(text("select id from items where id = :k"), {"k": key}).one()

    def __contains__(self, key):
        with database_sessionmaker() as session:
            return session.execute(text("select 1 from items where id = :k"), {"k": key}).first() is not None

    def __str__(self):
        with database_sessionmaker() as session:
            return str(session.execute(text("select count(*) from items")).scalar())

    def __eq__(self, other):
        with database_sessionmaker() as session:
            return session.execute(text("select count(*) from items")).scalar() == other

    __hash__ = object.__hash__


class Cached:
    \"\"\"The same protocols on rows it already holds: no Session work.\"\"\"

    def __init__(self):
        self.rows = [1, 2]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        return self.rows[key]

    def __contains__(self, key):
        return key in self.rows

    def __str__(self):
        return str(self.rows)

    def __eq__(self, other):
        return self.rows == other

    __hash__ = object.__hash__


posts = Posts()
cached = Cached()
"""

USES = [
    ("for row in {}:\n    pass", "__iter__"),
    ("rows = [r for r in {}]", "__iter__"),
    ("rows = sorted(r.id for r in {})", "__iter__"),
    ("rows = list({})", "__iter__"),
    ("first, *rest = {}", "__iter__"),
    ("n = len({})", "__len__"),
    ("if {}:\n    pass", "__len__"),  # no `__bool__`: the truth test calls `__len__`
    ("empty = not {}", "__len__"),
    ("row = {}[key]", "__getitem__"),
    ("found = key in {}", "__contains__"),
    ("label = f'{{{}}}'", "__str__"),
    ("same = {} == key", "__eq__"),
    ("same = key != {}", "__eq__"),  # no `__ne__`: Python's default inverts `__eq__`
]


def _route(head: str, body: str) -> str:
    """A route running `body` (written unindented), after `head`."""
    return f"{head}\n\n\n@router.get('/posts/{{key}}')\nasync def read(key: int):\n" + textwrap.indent(
        f"{body}\nreturn {{}}", "    "
    )


@pytest.mark.parametrize(("use", "method"), USES)
@pytest.mark.parametrize("where", ["module", "local", "helper"])
def test_a_special_method_doing_session_work_converts_with_am123(app, reported, findings, use, method, where):
    if where == "module":
        head, body = "from posts import posts", use.format("posts")
    elif where == "local":
        head, body = "from posts import Posts", "coll = Posts()\n" + use.format("coll")
    else:  # a plain helper the route calls, handed the object by the route
        head = "from posts import Posts\n\n\ndef helper(coll, key):\n" + textwrap.indent(use.format("coll"), "    ")
        body = "helper(Posts(), key)"
    root = app(_route(head, body), {"posts.py": POSTS})
    entry = reported(root, "read", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"]), entry
    assert f"Posts.{method}" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "read")] == ["AM301"]


@pytest.mark.parametrize(("use", "method"), USES)
def test_near_miss_special_methods_doing_no_session_work_keep_with_am105(app, reported, findings, use, method):
    root = app(_route("from posts import cached", use.format("cached")), {"posts.py": POSTS})
    assert reported(root, "read", "phase1")["codes"] == ["AM105"]
    assert findings(root, "read") == []


def test_near_miss_a_name_a_comprehension_binds_is_no_module_level_object(app, reported):
    # `posts` inside the comprehension is each row, not the module-level `Posts()`
    root = app(
        """
        from posts import cached, posts


        @router.get("/posts/{key}")
        async def read(key: int):
            return [len(posts) for posts in [cached]]
        """,
        {"posts.py": POSTS},
    )
    assert reported(root, "read", "phase1")["codes"] == ["AM105"]
