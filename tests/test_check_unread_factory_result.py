"""`check` on an object a project function builds from the Session, when its return annotation
names a type the analysis cannot read.

`repo = make_repo(db); repo.save(x)` in an `async def` route on an AsyncSession, `def make_repo(db)
-> Repo` with `Repo` from a project module the tool did not read (missing, unparsable) or a
string annotation naming nothing it can resolve: the methods doing the Session work (unawaited on
an AsyncSession) are out of sight, and `check` said "no findings". The route is unverified
(AM304) now. On a synchronous Session, handing it to the factory already blocks the route."""

from __future__ import annotations

import textwrap

ROUTES = textwrap.dedent(
    """
    from typing import TYPE_CHECKING

    from fastapi import APIRouter, Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from db.async_engine import get_async
    from core.gone import GoneRepo, build_gone
    from core.broken import BrokenRepo

    if TYPE_CHECKING:
        from core.typing_only import TypedRepo

    router = APIRouter()


    class Labels:
        def __init__(self, db):
            self.db = db

        def label(self, x):
            return x.upper()


    def make_gone(db) -> GoneRepo:
        return build_gone(db)


    def make_broken(db) -> BrokenRepo:
        return build_gone(db)


    def make_typed(db) -> "TypedRepo":
        return build_gone(db)


    def make_named(db) -> "Nowhere":
        return build_gone(db)


    def make_text(db) -> str:
        return "label"


    def make_labels(db) -> GoneRepo:
        return Labels(db)


    @router.post("/gone")
    async def gone(db: AsyncSession = Depends(get_async)):
        repo = make_gone(db)
        repo.save("x")
        return {"ok": True}


    @router.post("/broken")
    async def broken(db: AsyncSession = Depends(get_async)):
        repo = make_broken(db)
        repo.save("x")
        return {"ok": True}


    @router.post("/typed")
    async def typed(db: AsyncSession = Depends(get_async)):
        repo = make_typed(db)
        repo.save("x")
        return {"ok": True}


    @router.post("/named")
    async def named(db: AsyncSession = Depends(get_async)):
        make_named(db).save("x")
        return {"ok": True}


    @router.post("/text")
    async def text(db: AsyncSession = Depends(get_async)):
        return {"label": make_text(db).upper()}


    @router.post("/labels")
    async def labels(db: AsyncSession = Depends(get_async)):
        return {"label": make_labels(db).label("x")}
    """
)
BROKEN = "class BrokenRepo(\n"
ASYNC_ENGINE = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)


async def get_async():
    async with maker() as session:
        yield session
"""


def test_methods_of_what_a_factory_returns_under_an_unread_annotation_are_unverified(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": ROUTES, "core/broken.py": BROKEN,
                    "db/async_engine.py": ASYNC_ENGINE})
    found: dict[str, list[dict]] = {}
    for finding in cli.json("check", root)["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    for route, factory, why in (
        ("gone", "make_gone", "a project module the tool did not read"),
        ("broken", "make_broken", "could not be read"),
        ("typed", "make_typed", "a project module the tool did not read"),
        ("named", "make_named", "a name the analysis cannot resolve"),
    ):
        unverified = [f for f in found.get(route, []) if f["code"] == "AM304"]
        assert len(unverified) == 1, (route, found.get(route))
        message = unverified[0]["message"]
        assert f"runs on what `{factory}()` returns" in message and why in message, message
    # a scalar annotation, and a body the flow reads (a project class, whatever the annotation says)
    assert "text" not in found and "labels" not in found, found
